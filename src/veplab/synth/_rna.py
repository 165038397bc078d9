"""Risk-and-needs assessments: two assessors rate every case.

Model (all in the *scored* direction of each scale, i.e. towards risk; for a
reverse-keyed item -- a protective factor rated as present -- the raw rating
runs the other way)::

    level_cd  = profile[class_c, d] + eta_cd        eta_c ~ N(0, s_eta^2 R), R: 0.5 off-diagonal
    true_cj   = level_c,d(j) + u_cj                 u ~ N(0, s_u^2)   (item-specific truth)
    y*_cjr    = true_cj + b_r + e_cjr               b_r ~ N(0, s_b^2) (assessor severity), e ~ N(0, s_e^2)
    rating    = number of thresholds (0, 1.2) + delta_j below y*   (0 low, 1 moderate, 2 high)

The final judgement is *not* a function of the item ratings::

    risk_c    = mean of the risk-domain levels + 0.5 * (lack of protection) + omega_c   omega ~ N(0, s_omega^2)
    J*_cr     = risk_c + g_r + eps_cr               g_r ~ N(0, s_g^2), eps ~ N(0, s_eps^2)
    judgement = low below 0, moderate below 1, high above

Classes: general-population prisoners (0) and the VEP typology (1 leaders,
2 facilitators, 3 followers, 4 marginal members).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..codebook import Codebook
from ._common import codes_of, keyword, missing_code, stable_rng
from ._items import format_date_column, generic_column, random_dates
from ._people import TYPOLOGY, TYPOLOGY_P
from ._push_pull import scale_scores

#: Latent domain levels by class, towards risk (protective: lack of protection).
PROFILE_KEYS = ("beliefs", "context", "capability", "commitment", "protective")
PROFILES = np.array([
    # beliefs context capability commitment lack-of-protection
    [-1.3, -1.2, -1.0, -1.3, -0.3],   # 0 general population
    [1.5, 1.3, 1.4, 1.5, 1.0],        # 1 leaders
    [0.3, 1.4, 1.5, 0.2, 0.6],        # 2 facilitators: networks and capability more than conviction
    [1.1, 0.4, -0.3, 1.1, 0.4],       # 3 followers: conviction without capability
    [-0.2, 0.3, -0.4, -0.1, -0.1],    # 4 marginal members
])
CLASS_LABELS = {0: "general_population", **TYPOLOGY}
S_ETA, S_U, S_B, S_E = 0.3, 0.4, 0.2, 0.5
ETA_CORR = 0.5
CUTS = np.array([0.0, 1.2])
S_OMEGA, S_G, S_EPS = 0.5, 0.15, 0.35
JUDGEMENT_CUTS = np.array([0.0, 1.0])
PROTECTIVE_WEIGHT = 0.5
NOT_APPLICABLE_RATE = 0.02
ASSESSMENT_WINDOW = ("2022-01-10", "2022-09-30")


def _profile_key(scale_id: str, domain: str | None, position: int) -> int:
    s = scale_id.lower()
    if domain == "protective" or keyword(s, "protect"):
        return 4
    for k, words in enumerate((("belief", "attitude", "ideolog"), ("social", "context", "intent"),
                               ("history", "capab"), ("commit", "motiv"))):
        if keyword(s, *words):
            return k
    return min(position, 3)


class RnaModel:
    def __init__(self, cb: Codebook):
        self.cb = cb
        design = dict(cb.extra.get("design") or {})
        self.subject = design.get("subject", "case_id")
        self.rater = design.get("rater", "rater")
        self.judgement = design.get("judgement", "final_judgement")
        self.scales = [s for s in cb.scales]
        self.pkey = [_profile_key(s.id, s.domain, i) for i, s in enumerate(self.scales)]
        self.items = []      # (item, scale index, delta)
        for si, s in enumerate(self.scales):
            for iid in s.items:
                it = cb.item(iid)
                delta = stable_rng("rna", cb.id, iid).uniform(-0.3, 0.3)
                self.items.append((it, si, delta))
        k = len(self.scales)
        self.eta_chol = np.linalg.cholesky(ETA_CORR * np.ones((k, k)) + (1 - ETA_CORR) * np.eye(k))
        self.risk_idx = [i for i, p in enumerate(self.pkey) if p != 4]
        self.prot_idx = [i for i, p in enumerate(self.pkey) if p == 4]

    def cases(self, classes: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        n, k = len(classes), len(self.scales)
        level = PROFILES[classes][:, self.pkey] + S_ETA * rng.standard_normal((n, k)) @ self.eta_chol.T
        true = np.column_stack([level[:, si] for _, si, _ in self.items]) + S_U * rng.standard_normal(
            (n, len(self.items)))
        risk = level[:, self.risk_idx].mean(axis=1) if self.risk_idx else np.zeros(n)
        if self.prot_idx:
            risk = risk + PROTECTIVE_WEIGHT * level[:, self.prot_idx].mean(axis=1)
        risk = risk + S_OMEGA * rng.standard_normal(n)
        return {"level": level, "true": true, "risk": risk}

    def rate(self, case: dict[str, np.ndarray], idx: np.ndarray, severity: np.ndarray, leniency: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Item ratings (raw codes) and judgement index of rows ``idx`` (case index) by given assessors."""
        true = case["true"][idx]
        ystar = true + severity[:, None] + S_E * rng.standard_normal(true.shape)
        out = np.empty(true.shape)
        for j, (it, _, delta) in enumerate(self.items):
            codes = np.asarray(codes_of(it), dtype=float)
            y = -ystar[:, j] if it.reverse else ystar[:, j]
            cat = (y[:, None] > (CUTS + delta)[None, :]).sum(axis=1)
            out[:, j] = codes[np.minimum(cat, len(codes) - 1)]
            na = missing_code(it, "not_applicable")
            if na is not None:
                out[rng.random(len(y)) < NOT_APPLICABLE_RATE, j] = na
        jstar = case["risk"][idx] + leniency + S_EPS * rng.standard_normal(len(idx))
        judg = (jstar[:, None] > JUDGEMENT_CUTS[None, :]).sum(axis=1)
        return out, judg


def generate(cb: Codebook, roster: pd.DataFrame, rng: np.random.Generator, *, pseudonymise,
             raters_per_country: int, truth_cases: int = 20_000) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    model = RnaModel(cb)
    cases = roster[roster["draw"].isin(["vep", "rna"])].copy()
    cases["_order"] = rng.random(len(cases))
    cases = cases.sort_values(["country", "_order"], kind="stable").reset_index(drop=True)
    n = len(cases)
    classes = cases["vep_class"].to_numpy()
    case = model.cases(classes, rng)

    # Assessors: a pool per country, two different assessors per case.
    pools = {}
    for c in (1, 2, 3):
        codes = [f"ASSESSOR-{c}-{k:02d}" for k in range(1, raters_per_country + 1)]
        pools[c] = (codes, S_B * rng.standard_normal(raters_per_country), S_G * rng.standard_normal(raters_per_country))
    country = cases["country"].to_numpy()
    a1 = rng.integers(0, raters_per_country, n)
    a2 = (a1 + rng.integers(1, raters_per_country, n)) % raters_per_country
    a_idx = np.column_stack([a1, a2])
    sev = np.empty((n, 2))
    len_ = np.empty((n, 2))
    names = np.empty((n, 2), dtype=object)
    for c, (codes, s, g) in pools.items():
        m = country == c
        sev[m] = s[a_idx[m]]
        len_[m] = g[a_idx[m]]
        names[m] = np.asarray(codes, dtype=object)[a_idx[m]]
    rows_case = np.repeat(np.arange(n), 2)
    ratings, judg = model.rate(case, rows_case, sev.ravel(), len_.ravel(), rng)

    first = random_dates(rng, n, *ASSESSMENT_WINDOW)
    second = first + rng.integers(0, 15, n).astype("timedelta64[D]")
    dates = np.column_stack([first, second]).ravel()

    case_keys = cases["person_key"].to_numpy()
    case_ids = pseudonymise(case_keys)
    rater_ids = pseudonymise(names.ravel())
    rating_ids = pseudonymise([f"RNA-{c}-{k}" for c in case_keys for k in (1, 2)])
    item_pos = {it.id: j for j, (it, _, _) in enumerate(model.items)}
    jcodes = np.asarray(codes_of(cb.item(model.judgement)), dtype=float) if model.judgement in cb else np.arange(3.0)
    cols: dict[str, Any] = {}
    for item in cb.items:
        iid = item.id
        if iid == cb.id_column:
            cols[iid] = rating_ids
        elif iid == model.subject:
            cols[iid] = case_ids[rows_case]
        elif iid == model.rater:
            cols[iid] = rater_ids
        elif iid == model.judgement:
            cols[iid] = jcodes[np.minimum(judg, len(jcodes) - 1)]
        elif iid in item_pos:
            cols[iid] = ratings[:, item_pos[iid]]
        elif iid == "prison_id":
            cols[iid] = cases["prison_id"].to_numpy()[rows_case]
        elif iid in cases.columns and item.type != "text":
            cols[iid] = cases[iid].to_numpy()[rows_case].astype(float)
        elif item.type == "date":
            cols[iid] = format_date_column(dates, item)
        else:
            cols[iid] = generic_column(item, 2 * n, rng)
    frame = pd.DataFrame(cols)

    typology = pd.DataFrame({
        model.subject: case_ids,
        "vep_status": cases["vep_status"].to_numpy(),
        "class": classes,
        "class_label": [CLASS_LABELS[int(c)] for c in classes],
        "latent_risk": case["risk"],
    })
    for si, sc in enumerate(model.scales):
        typology[f"level_{sc.id}"] = case["level"][:, si]
    extra = {"case_keys": case_keys, "judgement_first": judg[0::2], "judgement_codes": jcodes}
    truth = _truth(model, cases, classes, rng, truth_cases, pools, n)
    truth["_extra"] = extra
    return frame, typology, truth


def _weighted_kappa(a: np.ndarray, b: np.ndarray, codes: np.ndarray) -> float:
    """Cohen's kappa with quadratic weights (psych::cohen.kappa, irr::kappa2 'squared')."""
    ok = np.isin(a, codes) & np.isin(b, codes)
    a, b = a[ok], b[ok]
    k = len(codes)
    ia = np.searchsorted(codes, a)
    ib = np.searchsorted(codes, b)
    obs = np.zeros((k, k))
    np.add.at(obs, (ia, ib), 1.0)
    obs /= obs.sum()
    exp = np.outer(obs.sum(axis=1), obs.sum(axis=0))
    w = (np.arange(k)[:, None] - np.arange(k)[None, :]) ** 2
    return float(1.0 - (w * obs).sum() / (w * exp).sum())


def _pair_icc(s1: np.ndarray, s2: np.ndarray) -> float:
    ok = ~np.isnan(s1) & ~np.isnan(s2)
    s1, s2 = s1[ok], s2[ok]
    x = np.concatenate([s1, s2])
    return float(np.cov(s1, s2)[0, 1] / x.var(ddof=1))


def _truth(model: RnaModel, cases: pd.DataFrame, classes: np.ndarray, rng: np.random.Generator,
           rows: int, pools: dict, n: int) -> dict[str, Any]:
    """Expected agreement from a large simulation with fresh assessors for every rating.

    Two exchangeable assessors drawn from the assessor population rate each of
    ``rows`` cases drawn from the realised case mix; the population ICC of a
    domain sum is then Cov(S_1, S_2) / Var(S) (= ICC(1) = ICC(2,1) for
    exchangeable raters), and the quadratic-weighted kappa is computed on the
    pooled ratings.
    """
    cls = classes[rng.integers(0, len(classes), rows)]
    case = model.cases(cls, rng)
    idx = np.arange(rows)
    r1, j1 = model.rate(case, idx, S_B * rng.standard_normal(rows), S_G * rng.standard_normal(rows), rng)
    r2, j2 = model.rate(case, idx, S_B * rng.standard_normal(rows), S_G * rng.standard_normal(rows), rng)
    cb = model.cb
    cols = [it.id for it, _, _ in model.items]
    sc1 = scale_scores(pd.DataFrame(r1, columns=cols), cb)
    sc2 = scale_scores(pd.DataFrame(r2, columns=cols), cb)
    icc = {s.id: _pair_icc(sc1[s.id].to_numpy(), sc2[s.id].to_numpy()) for s in model.scales}
    kap = {}
    for j, (it, _, _) in enumerate(model.items):
        kap[it.id] = _weighted_kappa(r1[:, j], r2[:, j], np.asarray(codes_of(it), dtype=float))
    kj = _weighted_kappa(j1.astype(float), j2.astype(float), np.arange(len(JUDGEMENT_CUTS) + 1, dtype=float))
    agree_j = float((j1 == j2).mean())
    # Expected raw ratings and scored domain sums by class (closed form).
    total_sd = np.sqrt(S_ETA**2 + S_U**2 + S_B**2 + S_E**2)
    profiles = {}
    for c in range(len(PROFILES)):
        dom = {}
        for si, s in enumerate(model.scales):
            mu = PROFILES[c, model.pkey[si]]
            raw, scored = [], []
            for it, sj, delta in model.items:
                if sj != si:
                    continue
                if it.reverse:
                    p = stats.norm.cdf((-mu - (CUTS + delta)) / total_sd)
                else:
                    p = stats.norm.cdf((mu - (CUTS + delta)) / total_sd)
                e = float(p.sum())
                raw.append(e)
                scored.append(2.0 - e if it.reverse else e)
            dom[s.id] = {"latent_level": float(mu), "mean_raw_rating": float(np.mean(raw)),
                         "expected_scored_sum": float(np.sum(scored))}
        profiles[CLASS_LABELS[c]] = dom
    realised = pd.Series(classes).map(CLASS_LABELS).value_counts().to_dict()
    vep = classes > 0
    return {
        "cases": n,
        "ratings": 2 * n,
        "assessors_per_country": len(next(iter(pools.values()))[0]),
        "model": {
            "sd_case_domain": S_ETA, "domain_correlation": ETA_CORR, "sd_item_truth": S_U,
            "sd_assessor_severity": S_B, "sd_rating_error": S_E, "rating_thresholds": CUTS.tolist(),
            "item_threshold_shift": {it.id: float(d) for it, _, d in model.items},
            "judgement": {
                "latent_risk": "mean of risk-domain levels + 0.5 * lack-of-protection level + omega",
                "sd_omega": S_OMEGA, "sd_assessor_leniency": S_G, "sd_error": S_EPS,
                "thresholds": JUDGEMENT_CUTS.tolist(),
                "note": "the final judgement depends on latent risk, not on the item ratings",
            },
        },
        "expected_agreement": {
            "icc_domain_sums": icc,
            "icc_form": "ICC(1) = ICC(2,1) for exchangeable assessors: Cov(S1, S2) / Var(S), prorated sums",
            "weighted_kappa_items": kap,
            "weighted_kappa_final_judgement": kj,
            "percent_agreement_final_judgement": agree_j,
            "kappa_weights": "quadratic",
            "cases_simulated": rows,
        },
        "typology": {
            "classes": dict(TYPOLOGY),
            "proportions": dict(zip(TYPOLOGY.values(), map(float, TYPOLOGY_P))),
            "realised_counts": {k: int(v) for k, v in realised.items()},
            "profiles": profiles,
            "vep_cases": int(vep.sum()),
            "general_population_cases": int((~vep).sum()),
            "file": ("data/typology_truth.csv: case_id, class, latent risk and the latent level of each domain "
                     "in the scored direction of its scale (towards risk; protective: lack of protection)"),
        },
    }
