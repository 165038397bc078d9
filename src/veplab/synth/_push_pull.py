"""The prisoners' survey of push and pull factors.

Latent model (one latent score per scale of the codebook, in the metric where
the within-prison residual has variance 1)::

    Z_ik = mu_k(VEP type, gender, age, remand, nationality, country)
           + g_k' (occ_z, dsi_z, res_z)_prison + u_prison,k + e_ik
    e_i ~ N(0, R)      R: correlated push/pull domains, protective domains
                       negatively correlated with them
    u_prison,k ~ N(0, tau^2)

and the outcome (violence endorsement)::

    V_i = sum_k beta_k Z_ik + b_occ occ_z + b_dsi dsi_z + u_prison,V + e_V

Items are ordered-probit functions of their scale's latent score (see
:mod:`veplab.synth._items`).  Nonresponse: don't know about 3%, refused about
1-2% (more for ideology and violence items and among VEPs), a few
not-applicable answers where the codebook offers that code, a few blank
cells, about 1% straight-liners.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..codebook import Codebook
from ._common import scale_of_item
from ._common import threshold_index
from ._items import (
    apply_missing,
    categories_to_codes,
    expected_rate,
    format_date_column,
    generic_column,
    item_parameters,
    random_dates,
)

# Mean shifts by VEP type (leader, facilitator, follower, marginal), in latent SD.
# Marginal members joined for company or protection: high coercion, low ideology.
DOMAIN_PARAMS: dict[str, dict[str, Any]] = {
    "grievance": dict(difficulty=0.0, vep=(0.8, 0.6, 0.7, 0.3), woman=0.0, age=-0.05, remand=0.15,
                      foreign=0.1, country=(0.0, 0.2, 0.1)),
    "identity": dict(difficulty=0.3, vep=(0.7, 0.6, 0.8, 0.4), woman=0.0, age=-0.12, remand=0.0,
                     foreign=0.2, country=(0.0, 0.1, 0.0)),
    "ideology": dict(difficulty=0.6, vep=(1.4, 0.9, 0.8, 0.2), woman=-0.1, age=0.0, remand=0.0,
                     foreign=0.0, country=(0.0, 0.1, 0.0)),
    "economic": dict(difficulty=-0.1, vep=(0.1, 0.4, 0.5, 0.5), woman=0.1, age=0.0, remand=0.1,
                     foreign=0.2, country=(0.0, 0.3, 0.4)),
    "peers": dict(difficulty=0.6, vep=(0.6, 0.8, 0.7, 0.5), woman=-0.1, age=-0.1, remand=0.0,
                  foreign=0.0, country=(0.0, 0.0, 0.0), occ=0.05),
    "recruiters": dict(difficulty=0.7, vep=(1.0, 0.9, 0.6, 0.3), woman=-0.2, age=-0.05, remand=0.0,
                       foreign=0.0, country=(0.0, 0.1, 0.0), occ=0.10, dsi=-0.15),
    "prison_conditions": dict(difficulty=0.0, vep=(0.4, 0.3, 0.3, 0.4), woman=-0.1, age=0.0, remand=0.2,
                              foreign=0.0, country=(0.0, 0.0, 0.0), occ=0.35, dsi=-0.25, res=-0.10),
    "coercion": dict(difficulty=0.4, vep=(0.0, 0.2, 0.3, 0.8), woman=-0.1, age=-0.05, remand=0.1,
                     foreign=0.1, country=(0.0, 0.0, 0.0), occ=0.20, dsi=-0.25),
    "family_ties": dict(difficulty=-0.8, vep=(-0.4, -0.3, -0.2, -0.1), woman=0.3, age=0.0, remand=0.0,
                        foreign=-0.3, country=(0.0, 0.0, -0.1)),
    "trust_staff": dict(difficulty=-0.2, vep=(-0.8, -0.5, -0.4, -0.3), woman=0.2, age=0.05, remand=-0.1,
                        foreign=-0.1, country=(0.0, 0.0, 0.0), occ=-0.10, dsi=0.35),
    "programme": dict(difficulty=0.0, vep=(-0.6, -0.3, -0.2, -0.1), woman=0.1, age=0.0, remand=-0.4,
                      foreign=-0.1, country=(0.2, 0.0, -0.2), occ=-0.15, dsi=0.15, res=0.35),
}
DEFAULT_BY_DOMAIN = {
    "push": dict(difficulty=0.2, vep=(0.5, 0.5, 0.5, 0.3)),
    "pull": dict(difficulty=0.4, vep=(0.7, 0.6, 0.5, 0.2)),
    "protective": dict(difficulty=-0.4, vep=(-0.4, -0.3, -0.2, -0.1)),
}
OUTCOME_DIFFICULTY = 1.1

#: Structural effects on the violence-endorsement latent.
OUTCOME_BETA: dict[str, float] = {
    "grievance": 0.20, "identity": 0.10, "ideology": 0.30, "economic": 0.05, "peers": 0.10,
    "recruiters": 0.15, "prison_conditions": 0.05, "coercion": 0.10, "family_ties": -0.15,
    "trust_staff": -0.10, "programme": -0.10,
}
OUTCOME_FACILITY = {"occ_z": 0.10, "dsi_z": -0.10}
OUTCOME_RESID_SD = 0.75
PRISON_SD = 0.25          # random prison effect of each domain latent
PRISON_SD_OUTCOME = 0.20
CORR = {("push", "push"): 0.35, ("pull", "pull"): 0.35, ("push", "pull"): 0.30,
        ("protective", "protective"): 0.30, ("protective", "push"): -0.15, ("protective", "pull"): -0.15}

STRAIGHTLINE_RATE = 0.01
RESPONSE_RATE_VEP = 0.85

COMMENTS = {
    "en": ["The food is not enough.", "I want to see my children more often.", "Thank you for asking us.",
           "There are too many people in our cell.", "I would like to learn a trade.",
           "Some officers are fair and some are not.", "We need more time outside.",
           "I hope this survey changes something.", "Health care takes too long."],
    "fr": ["Les visites sont trop courtes.", "Merci pour cette enquête.", "Il faudrait plus de formations.",
           "La cellule est surpeuplée.", "Je veux travailler pendant ma peine.",
           "Les soins médicaux tardent beaucoup."],
    "ar": ["أريد أن أرى عائلتي أكثر.", "شكرا على هذا الاستبيان.", "الغرفة مكتظة جدا.",
           "نحتاج إلى تكوين مهني.", "العلاج الطبي بطيء."],
    "ru": ["Хотелось бы чаще видеть семью.", "Спасибо за опрос.", "В камере слишком много людей.",
           "Хочу получить профессию.", "Медицинская помощь приходит поздно.",
           "Некоторые сотрудники относятся к нам справедливо."],
}
COMMENT_LANGS = {1: (("ru", 0.85), ("en", 0.15)), 2: (("ar", 0.6), ("fr", 0.4)), 3: (("en", 1.0),)}
COMMENT_RATE = 0.04
#: Language of the interview (codebook item ``interview_language``) by country: Kazakh or Russian in
#: Kazakhstan, Arabic or French in Tunisia, English in Uganda.
INTERVIEW_LANGUAGES = {1: ((1, 0.35), (2, 0.65)), 2: ((3, 0.8), (4, 0.2)), 3: ((5, 1.0),)}
#: Planted differential item functioning: in the Russian version the second item of the first push scale
#: was translated with a stronger word, so people with the same latent level agree less (a uniform shift of
#: the item's latent response, in SD units).  The validity page's DIF section should flag it.
DIF_LANGUAGE: dict[str, Any] = {"language": 2, "shift": -1.0, "scale_position": 0, "item_position": 1}
FIELDWORK = {1: ("2022-03-01", "2022-05-20"), 2: ("2022-04-01", "2022-06-20"), 3: ("2022-05-02", "2022-07-22")}


def _params(scale_id: str, domain: str | None) -> dict[str, Any]:
    base = dict(difficulty=0.0, vep=(0.0, 0.0, 0.0, 0.0), woman=0.0, age=0.0, remand=0.0, foreign=0.0,
                country=(0.0, 0.0, 0.0), occ=0.0, dsi=0.0, res=0.0)
    if scale_id in DOMAIN_PARAMS:
        base.update(DOMAIN_PARAMS[scale_id])
    elif domain in DEFAULT_BY_DOMAIN:
        base.update(DEFAULT_BY_DOMAIN[domain])
    return base


class PushPullModel:
    """The latent model bound to a codebook's scales."""

    def __init__(self, cb: Codebook):
        self.cb = cb
        self.latent_scales = [s for s in cb.scales if (s.domain or "push") != "outcome"]
        self.outcome_scales = [s for s in cb.scales if s.domain == "outcome"]
        self.ids = [s.id for s in self.latent_scales]
        self.domains = [s.domain or "push" for s in self.latent_scales]
        self.params = {s.id: _params(s.id, s.domain) for s in self.latent_scales}
        k = len(self.ids)
        corr = np.eye(k)
        for a in range(k):
            for b in range(a + 1, k):
                key = (self.domains[a], self.domains[b])
                r = CORR.get(key, CORR.get(key[::-1], 0.0))
                corr[a, b] = corr[b, a] = r
        self.corr = corr
        self.chol = np.linalg.cholesky(corr)
        self.beta = np.array([OUTCOME_BETA.get(s, 0.0) for s in self.ids])
        self.scale_of = scale_of_item(cb)
        self.blocks = []   # (scale id, items, params, latent column or -1 for outcome)
        for s in cb.scales:
            items = [cb.item(i) for i in s.items if cb.item(i).type in ("likert", "ordinal", "binary")]
            if not items:
                continue
            col = self.ids.index(s.id) if s.id in self.ids else -1
            diff = OUTCOME_DIFFICULTY if col < 0 else self.params[s.id]["difficulty"]
            self.blocks.append((s.id, items, item_parameters(cb, items, difficulty=diff), col))

    # ---------------------------------------------------------------- latent
    def mean_shift(self, persons: pd.DataFrame, facility: pd.DataFrame) -> np.ndarray:
        n, k = len(persons), len(self.ids)
        mu = np.zeros((n, k))
        vclass = persons["vep_class"].to_numpy()
        woman = (persons["gender"].to_numpy() == 2).astype(float)
        age = persons["age_band"].to_numpy().astype(float) - 2.5
        remand = (persons["sentence_band"].to_numpy() == 1).astype(float)
        foreign = (persons["nationality"].to_numpy() == 2).astype(float)
        country = persons["country"].to_numpy()
        for j, sid in enumerate(self.ids):
            p = self.params[sid]
            vep = np.concatenate([[0.0], np.asarray(p["vep"], dtype=float)])[vclass]
            ctry = np.asarray(p["country"], dtype=float)[country - 1]
            mu[:, j] = (vep + p["woman"] * woman + p["age"] * age + p["remand"] * remand
                        + p["foreign"] * foreign + ctry
                        + p["occ"] * facility["occ_z"].to_numpy() + p["dsi"] * facility["dsi_z"].to_numpy()
                        + p["res"] * facility["res_z"].to_numpy())
        return mu

    def draw_latent(self, persons: pd.DataFrame, facility: pd.DataFrame, u_prison: np.ndarray,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Latent domain scores Z (n, K) and outcome latent V (n,).

        ``facility`` has occ_z, dsi_z, res_z per person; ``u_prison`` (n, K+1)
        the prison random effects of each person's prison.
        """
        n, k = len(persons), len(self.ids)
        e = rng.standard_normal((n, k)) @ self.chol.T
        z = self.mean_shift(persons, facility) + u_prison[:, :k] + e
        v = (z @ self.beta + OUTCOME_FACILITY["occ_z"] * facility["occ_z"].to_numpy()
             + OUTCOME_FACILITY["dsi_z"] * facility["dsi_z"].to_numpy()
             + u_prison[:, k] + OUTCOME_RESID_SD * rng.standard_normal(n))
        return z, v

    # ---------------------------------------------------------------- items
    def dif_item(self) -> str | None:
        """The item given planted DIF across interview languages (:data:`DIF_LANGUAGE`), if the codebook
        asks the language and has a push scale with enough items."""
        if "interview_language" not in self.cb:
            return None
        push = [(sid, items) for sid, items, _, col in self.blocks
                if col >= 0 and self.domains[col] == "push" and len(items) > DIF_LANGUAGE["item_position"]]
        if len(push) <= DIF_LANGUAGE["scale_position"]:
            return None
        return push[DIF_LANGUAGE["scale_position"]][1][DIF_LANGUAGE["item_position"]].id

    def languages(self, persons: pd.DataFrame, rng: np.random.Generator) -> np.ndarray | None:
        """Interview language codes (:data:`INTERVIEW_LANGUAGES`), or None when the codebook does not ask it.

        Draws from a generator spawned from ``rng``, so the other draws are those of a codebook without it."""
        if "interview_language" not in self.cb:
            return None
        (child,) = rng.spawn(1)
        country = persons["country"].to_numpy()
        out = np.zeros(len(persons), dtype=float)
        u = child.random(len(persons))
        for c, options in INTERVIEW_LANGUAGES.items():
            at = country == c
            codes = np.array([o[0] for o in options], dtype=float)
            cum = np.cumsum([o[1] for o in options])
            out[at] = codes[np.minimum(np.searchsorted(cum, u[at], side="right"), len(codes) - 1)]
        return out

    def dif_shifts(self, language: np.ndarray | None) -> dict[str, np.ndarray]:
        """Per-item shifts of the latent response for the planted DIF (empty without languages)."""
        item = self.dif_item()
        if language is None or item is None:
            return {}
        return {item: DIF_LANGUAGE["shift"] * (language == DIF_LANGUAGE["language"])}

    def respond(self, z: np.ndarray, v: np.ndarray, vep: np.ndarray, rng: np.random.Generator,
                shifts: dict[str, np.ndarray] | None = None
                ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, int]]:
        """Item codes (float, NaN = blank) for every scale item; straight-liner flags.

        ``shifts``: per item, a shift of each person's latent response (planted DIF)."""
        n = len(z)
        straight = rng.random(n) < STRAIGHTLINE_RATE
        line_code = np.where(rng.random(n) < 0.45, 5, np.where(rng.random(n) < 0.6, 3, 1)).astype(float)
        out: dict[str, np.ndarray] = {}
        counts: dict[str, int] = {}
        for sid, items, par, col in self.blocks:
            eta = v if col < 0 else z[:, col]
            lam = par["loadings"]
            ystar = eta[:, None] * lam + np.sqrt(1 - lam**2) * rng.standard_normal((n, len(items)))
            for j, it in enumerate(items):
                if shifts and it.id in shifts:
                    ystar[:, j] += shifts[it.id]
            idx = threshold_index(ystar, par["thresholds"])
            codes = categories_to_codes(idx, items)
            for j, it in enumerate(items):
                if len(it.options) == 5 and min(it.options) == 1:
                    codes[straight, j] = line_code[straight]
            sensitive = sid in ("ideology",) or col < 0
            ref_base = 0.035 if sensitive else 0.012
            refused = np.where(vep == 1, ref_base * 1.5, ref_base)[:, None]
            na = expected_rate(0.30, -0.5 * eta)[:, None]
            codes, c = apply_missing(codes, items, rng, dont_know=0.03, refused=refused,
                                     not_applicable=na, protect=straight)
            for key, val in c.items():
                counts[key] = counts.get(key, 0) + val
            for j, it in enumerate(items):
                out[it.id] = codes[:, j]
        return out, straight, counts


def prison_effects(model: PushPullModel, prison_ids: list[str], rng: np.random.Generator) -> pd.DataFrame:
    k = len(model.ids)
    sd = np.r_[np.full(k, PRISON_SD), PRISON_SD_OUTCOME]
    u = rng.standard_normal((len(prison_ids), k + 1)) * sd
    return pd.DataFrame(u, index=prison_ids, columns=[*model.ids, "__outcome__"])


def _facility(persons: pd.DataFrame, prisons: pd.DataFrame) -> pd.DataFrame:
    f = prisons.set_index("prison_id")[["occ_z", "dsi_z", "res_z"]]
    return f.loc[persons["prison_id"].to_numpy()].reset_index(drop=True)


def scale_scores(frame: pd.DataFrame, cb: Codebook, scales: list[str] | None = None) -> pd.DataFrame:
    """Prorated scale means (missing codes -> missing, reverse keys applied).

    The same rule as the codebook: a score when at least ``min_items`` items
    are answered; ``sum`` scales are the mean times the number of items.
    """
    out = {}
    for s in cb.scales:
        if scales is not None and s.id not in scales:
            continue
        cols = []
        for iid in s.items:
            it = cb.item(iid)
            x = pd.to_numeric(frame[iid], errors="coerce").to_numpy(dtype=float)
            x = np.where(np.isin(x, list(it.missing)), np.nan, x)
            if it.key is not None:
                x = np.where(np.isnan(x), np.nan, (x == it.key).astype(float))
            elif it.reverse:
                x = it.reversed_code(x)
            cols.append(x)
        m = np.column_stack(cols)
        answered = (~np.isnan(m)).sum(axis=1)
        mean = np.where(answered > 0, np.nansum(m, axis=1) / np.maximum(answered, 1), np.nan)
        mean = np.where(answered >= s.min_items, mean, np.nan)
        out[s.id] = mean * len(s.items) if s.score == "sum" else mean
    return pd.DataFrame(out, index=frame.index)


def _ols(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(y) & ~np.isnan(x).any(axis=1)
    X = np.column_stack([np.ones(ok.sum()), x[ok]])
    return np.linalg.lstsq(X, y[ok], rcond=None)[0][1:]


def generate(
    cb: Codebook,
    roster: pd.DataFrame,
    prisons: pd.DataFrame,
    rng: np.random.Generator,
    *,
    pseudonymise,
    truth_rows: int = 30_000,
    vep_response: float = RESPONSE_RATE_VEP,
    women_response: float = 1.0,
    truth_rng: np.random.Generator | None = None,
    population_fraction: float = 0.2,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The push_pull export (raw codes), its latent scores and its truth.

    ``vep_response`` is the share of the VEPs taken who answer (1 in a census);
    ``women_response`` multiplies the chance that a woman taken answers (non-response by
    gender; 1 in a census).  Every respondent gets a sampling ``weight``: the inverse of
    her prison's and her own chance of selection, times the non-response adjustment of
    her cell (prison x VEP status x gender: people taken over people who answered; the
    prison x VEP status cell when nobody of her gender answered there).  With
    ``truth_rng`` the truth also holds ``population``: each scale's mean and each outcome
    item's share agreeing over the whole prison estate (:func:`population_values`).
    """
    model = PushPullModel(cb)
    drawn = roster["draw"].isin(("survey", "vep")).to_numpy()
    p_resp = (np.where(roster["draw"].to_numpy() == "vep", vep_response, 1.0)
              * np.where(roster["gender"].to_numpy() == 2, women_response, 1.0))
    take = drawn & (rng.random(len(roster)) < p_resp)
    persons = roster[take].copy()
    persons["weight"] = _weights(roster, drawn, take)
    # Interview order: by country and prison, shuffled within prison.
    persons["_order"] = rng.random(len(persons))
    persons = persons.sort_values(["country", "prison_id", "_order"], kind="stable").reset_index(drop=True)
    persons["_k"] = persons.groupby("prison_id").cumcount() + 1
    n = len(persons)
    u_tab = prison_effects(model, list(prisons["prison_id"]), rng)   # every prison: the population truth too
    u = u_tab.loc[persons["prison_id"].to_numpy()].to_numpy()
    facility = _facility(persons, prisons)
    z, v = model.draw_latent(persons, facility, u, rng)
    language = model.languages(persons, rng)
    if language is not None:
        persons["interview_language"] = language
    answers, straight, counts = model.respond(z, v, persons["vep_status"].to_numpy(), rng,
                                              model.dif_shifts(language))

    cols: dict[str, Any] = {}
    resp_keys = [f"PP-{p}-{k:04d}" for p, k in zip(persons["prison_id"], persons["_k"])]
    dates = _interview_dates(persons, rng)
    for item in cb.items:
        if item.id == cb.id_column:
            cols[item.id] = pseudonymise(resp_keys) if item.pseudonymised else np.array(resp_keys, dtype=object)
        elif item.id in answers:
            cols[item.id] = answers[item.id]
        elif item.id in persons.columns and item.type != "text" and item.id != "prison_id":
            cols[item.id] = persons[item.id].to_numpy().astype(float)
        elif item.id == "prison_id":
            cols[item.id] = persons["prison_id"].to_numpy().astype(object)
        elif item.type == "date":
            cols[item.id] = format_date_column(dates, item)
        elif item.type == "text":
            cols[item.id] = _comments(persons, rng) if item.role != "admin" else np.full(n, "", dtype=object)
        else:
            cols[item.id] = generic_column(item, n, rng)
    frame = pd.DataFrame(cols)

    latent = pd.DataFrame(z, columns=model.ids)
    latent["violence_endorsement_latent"] = v
    latent.insert(0, cb.id_column, frame[cb.id_column].to_numpy())
    latent["prison_id"] = persons["prison_id"].to_numpy()
    latent["vep_class"] = persons["vep_class"].to_numpy()
    latent["straight_liner"] = straight

    truth = _truth(model, persons, prisons, u_tab, rng, truth_rows, counts, straight, n)
    if model.dif_item() is not None:
        truth["dif"] = {"item": model.dif_item(), "group": "interview_language",
                        "focal": DIF_LANGUAGE["language"], "type": "uniform",
                        "latent_shift": DIF_LANGUAGE["shift"],
                        "note": ("the item's latent response is shifted for interviews in this language: people "
                                 "with the same latent level agree less; no other item has DIF")}
    truth["response_rate_vep"] = vep_response
    truth["response_rate_women_factor"] = women_response
    if truth_rng is not None:
        truth["population"] = population_values(model, prisons, u_tab, truth_rng, population_fraction)
    return frame, latent, truth


def _weights(roster: pd.DataFrame, drawn: np.ndarray, took: np.ndarray) -> np.ndarray:
    """Sampling weights of the respondents (rows ``took`` of ``roster``): 1 / (p_prison p_person) times
    people taken / people who answered in the prison x VEP status x gender cell."""
    base = 1.0 / (roster["p_prison"].to_numpy() * roster["p_person"].to_numpy())
    r = pd.DataFrame({"prison_id": roster["prison_id"].to_numpy(), "vep": roster["vep_status"].to_numpy(),
                      "gender": roster["gender"].to_numpy(), "drawn": drawn.astype(float),
                      "took": took.astype(float)})
    fine = r.groupby(["prison_id", "vep", "gender"])[["drawn", "took"]].transform("sum")
    coarse = r.groupby(["prison_id", "vep"])[["drawn", "took"]].transform("sum")
    adj = np.where(fine["took"] > 0, fine["drawn"] / fine["took"].clip(lower=1),
                   coarse["drawn"] / coarse["took"].clip(lower=1))
    return (base * adj)[took]


def population_values(model: PushPullModel, prisons: pd.DataFrame, u_tab: pd.DataFrame,
                      rng: np.random.Generator, fraction: float = 0.2) -> dict[str, Any]:
    """Population values of the survey's scores over the whole estate (every prison).

    Every VEP and ``fraction`` of the other prisoners of every prison are simulated through
    the same latent model, prison effects, items and item non-response as the respondents,
    weighted back to the prisoners they stand for; returns the mean of every scale score and
    the share agreeing (an option above the middle, among those who answer) with every
    outcome item, overall, by gender and by country (codes as in the data), and the exact
    shares of prisoners by country, gender, prison type and VEP status (``shares``).
    """
    from ._people import build_roster

    pop = build_roster(prisons, vep_per_country=None, gen_per_prison=None, gen_fraction=fraction,
                       rna_gen_per_country=0, rng=rng)
    pop = pop[pop["draw"].isin(("survey", "vep"))].reset_index(drop=True)
    w = 1.0 / pop["p_person"].to_numpy()
    u = u_tab.loc[pop["prison_id"].to_numpy()].to_numpy()
    z, v = model.draw_latent(pop, _facility(pop, prisons), u, rng)
    answers, _, _ = model.respond(z, v, pop["vep_status"].to_numpy(), rng,
                                  model.dif_shifts(model.languages(pop, rng)))
    frame = pd.DataFrame(answers)
    values = scale_scores(frame, model.cb)
    for s in model.outcome_scales:
        for iid in s.items:
            it = model.cb.item(iid)
            if it.reverse or it.key is not None or not it.options or iid not in frame:
                continue
            codes = sorted(it.options)
            mid = (codes[0] + codes[-1]) / 2
            cut = next((c for c in codes if c > mid), None)
            if cut is None:
                continue
            x = frame[iid].to_numpy(dtype=float)
            answered = np.isin(x, codes)
            values[iid] = np.where(answered, (x >= cut).astype(float), np.nan)

    def means(mask: np.ndarray) -> dict[str, float]:
        out = {}
        for c in values.columns:
            x = values[c].to_numpy(dtype=float)
            ok = mask & ~np.isnan(x)
            out[c] = float(np.sum(w[ok] * x[ok]) / np.sum(w[ok]))
        return out

    every = np.ones(len(pop), dtype=bool)
    g, c = pop["gender"].to_numpy(), pop["country"].to_numpy()
    total = float(prisons["population"].sum())
    shares = {  # exact: counted over the estate, not simulated
        "country": {int(k): float(v / total) for k, v in prisons.groupby("country")["population"].sum().items()},
        "gender": {1: float(prisons["men"].sum() / total), 2: float(prisons["women"].sum() / total)},
        "prison_type": {int(k): float(v / total)
                        for k, v in prisons.groupby("prison_type")["population"].sum().items()},
        "vep_status": {0: float(1 - prisons["veps"].sum() / total), 1: float(prisons["veps"].sum() / total)},
    }
    return {
        "shares": shares,
        "overall": means(every),
        "by_gender": {int(k): means(g == k) for k in np.unique(g)},
        "by_country": {int(k): means(c == k) for k in np.unique(c)},
        "prisoners": float(w.sum()),
        "rows_simulated": int(len(pop)),
        "method": (f"every VEP and {fraction:.0%} of the other prisoners of all {len(prisons)} prisons simulated "
                   "through the same model, prison effects, items and item non-response as the respondents, "
                   "weighted back to the estate; scale scores prorated as the codebook says; shares agreeing "
                   "among those who answer the item"),
    }


def _interview_dates(persons: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Fieldwork: each prison visited for about two weeks inside the country window."""
    out = np.empty(len(persons), dtype="datetime64[D]")
    for pid, idx in persons.groupby("prison_id").indices.items():
        c = int(persons["country"].iloc[idx[0]])
        a, b = FIELDWORK[c]
        start = random_dates(rng, 1, a, str(np.datetime64(b) - np.timedelta64(14, "D")))[0]
        out[idx] = start + np.sort(rng.integers(0, 14, len(idx))).astype("timedelta64[D]")
    return out


def _comments(persons: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    n = len(persons)
    out = np.full(n, "", dtype=object)
    has = np.flatnonzero(rng.random(n) < COMMENT_RATE)
    for i in has:
        langs = COMMENT_LANGS[int(persons["country"].iloc[i])]
        lang = langs[0][0] if len(langs) == 1 or rng.random() < langs[0][1] else langs[1][0]
        phrases = COMMENTS[lang]
        out[i] = phrases[int(rng.integers(len(phrases)))]
    return out


def _truth(model: PushPullModel, persons: pd.DataFrame, prisons: pd.DataFrame, u_tab: pd.DataFrame,
           rng: np.random.Generator, rows: int, counts: dict[str, int], straight: np.ndarray, n: int
           ) -> dict[str, Any]:
    """Known effects, and what they imply for analyses of observed scale scores.

    The implied values come from a large simulation (``rows`` respondents
    resampled from the realised sample's covariates, same prisons and prison
    effects), run through the same items, nonresponse and straight-lining.
    """
    big = persons.iloc[rng.integers(0, len(persons), rows)].reset_index(drop=True)
    u = u_tab.loc[big["prison_id"].to_numpy()].to_numpy()
    facility = _facility(big, prisons)
    z, v = model.draw_latent(big, facility, u, rng)
    answers, _, _ = model.respond(z, v, big["vep_status"].to_numpy(), rng,
                                  model.dif_shifts(big["interview_language"].to_numpy()
                                                   if "interview_language" in big else None))
    scores = scale_scores(pd.DataFrame(answers), model.cb)
    occ = prisons.set_index("prison_id")["occupancy"].loc[big["prison_id"].to_numpy()].to_numpy()
    log_occ = np.log(occ)
    out_scale = model.outcome_scales[0].id if model.outcome_scales else None
    implied: dict[str, Any] = {}
    if out_scale:
        x = np.column_stack([scores[s].to_numpy() for s in model.ids] + [log_occ])
        y = scores[out_scale].to_numpy()
        raw = _ols(y, x)
        zx = (x - np.nanmean(x, axis=0)) / np.nanstd(x, axis=0)
        zy = (y - np.nanmean(y)) / np.nanstd(y)
        std = _ols(zy, zx)
        names = [*model.ids, "log_occupancy"]
        implied = {
            "specification": (f"OLS of the {out_scale} scale mean on the other scale means (prorated, "
                              "reverse keys applied, missing codes as missing, listwise) and log(population/"
                              "capacity) of the respondent's prison; 'standardised' z-scores every variable "
                              "over the analysed respondents"),
            "raw": dict(zip(names, map(float, raw))),
            "standardised": dict(zip(names, map(float, std))),
            "rows_simulated": rows,
        }
    sd_z = z.std(axis=0)
    sd_v = v.std()
    std_struct = {s: float(b * sd) / float(sd_v) for s, b, sd in zip(model.ids, model.beta, sd_z)}
    # Marginal share of latent variance between prisons (one-way ANOVA on the big sample).
    icc_marginal = {}
    groups = big["prison_id"].to_numpy()
    for j, s in enumerate([*model.ids, "violence_endorsement"]):
        x = z[:, j] if j < len(model.ids) else v
        icc_marginal[s] = _anova_icc(x, groups)
    items = {}
    for sid, its, par, col in model.blocks:
        for j, it in enumerate(its):
            t = par["thresholds"][j]
            items[it.id] = {
                "scale": sid,
                "loading": float(par["loadings"][j]),
                "reverse": bool(it.reverse),
                "thresholds": [float(x) for x in t[np.isfinite(t)]],
            }
    return {
        "respondents": n,
        "latent_metric": ("each domain latent has within-prison residual variance 1 given covariates; "
                          "item latent response y* = loading * latent + sqrt(1 - loading^2) * N(0, 1), "
                          "answer = 1 + number of thresholds below y* (mapped to the option codes); "
                          "reverse-keyed items have negative loadings"),
        "domains": dict(zip(model.ids, model.domains)),
        "residual_correlation": {a: dict(zip(model.ids, map(float, row))) for a, row in zip(model.ids, model.corr)},
        "mean_shifts": {s: {k: (list(v) if isinstance(v, tuple) else v) for k, v in p.items()}
                        for s, p in model.params.items()},
        "mean_shift_notes": ("vep: shifts for leader, facilitator, follower, marginal VEPs; age: per age band; "
                             "country: Kazakhstan, Tunisia, Uganda; occ/dsi/res: per SD of the facility's "
                             "occ_z, dsi_z, res_z (see prisons)"),
        "items": items,
        "outcome": {
            "scale": model.outcome_scales[0].id if model.outcome_scales else None,
            "structural": {**{s: float(b) for s, b in zip(model.ids, model.beta)}, **OUTCOME_FACILITY},
            "residual_sd": OUTCOME_RESID_SD,
            "standardised_latent": std_struct,
            "expected_observed_ols": implied,
        },
        "icc_prison": {
            "latent_conditional": {s: PRISON_SD**2 / (PRISON_SD**2 + 1.0) for s in model.ids}
            | {"violence_endorsement": PRISON_SD_OUTCOME**2 / (PRISON_SD_OUTCOME**2 + OUTCOME_RESID_SD**2)},
            "latent_marginal_sample": icc_marginal,
            "notes": ("latent_conditional: prison random-effect share given covariates and facility variables; "
                      "latent_marginal_sample: between-prison share of the latent scores in the sampled "
                      "prisons (one-way ANOVA ICC(1) on a large simulated sample)"),
        },
        "nonresponse": {
            "dont_know_rate": 0.03,
            "refused_rate": {"default": 0.012, "ideology_and_outcome": 0.035, "vep_multiplier": 1.5},
            "not_applicable_rate": "expit(logit(0.30) - 0.5 * latent) where the item offers the code",
            "missing_rate": 0.003,
            "blank_rate": 0.002,
            "straight_liner_rate": STRAIGHTLINE_RATE,
            "straight_liners": int(straight.sum()),
            "cells": counts,
        },
    }


def _anova_icc(x: np.ndarray, groups: np.ndarray) -> float:
    df = pd.DataFrame({"x": x, "g": groups})
    g = df.groupby("g")["x"]
    n_i = g.size().to_numpy().astype(float)
    means = g.mean().to_numpy()
    k, n = len(n_i), len(x)
    grand = x.mean()
    msb = (n_i * (means - grand) ** 2).sum() / (k - 1)
    msw = ((x - g.transform("mean").to_numpy()) ** 2).sum() / (n - k)
    n0 = (n - (n_i**2).sum() / n) / (k - 1)
    return float((msb - msw) / (msb + (n0 - 1) * msw))
