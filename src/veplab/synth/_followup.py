"""Administrative follow-up after release: programme participation and re-arrest.

Selection into a rehabilitation programme depends on observed risk (higher
risk, VEPs and people with more previous convictions are more likely to be
enrolled)::

    logit P(programme) = a_country + 1.2 [risk moderate] + 2.4 [risk high] + 0.6 vep
                         + 0.12 min(prior, 10) - 0.2 [age 45+] + 0.3 woman

Time to re-arrest is Weibull proportional hazards with a KNOWN programme
hazard ratio, the other log hazard ratios linear in the recorded covariates::

    h(t) = h0(t) exp(log(HR) programme + b_risk[risk] + b_prior prior + b_age (age_band - 1)
                     + b_woman woman + b_vep vep + b_country[country])

so a Cox model adjusted for risk_at_release, prior_convictions, age_band,
gender, vep_status and country is correctly specified and recovers HR, while
the naive (unadjusted) comparison is biased towards harm by the selection on
risk.  Follow-up is 730 days, censored administratively at the data
extraction date and by loss to follow-up.

A competing event ends follow-up before re-arrest can be seen: death or
deportation, with a constant cause-specific hazard (independent of re-arrest
given the covariates)::

    h2(t) = r2 exp(C_AGE (age_band - 1) + C_VEP vep + C_HIGH [risk high])

(``r2`` gives a 3% two-year probability at the baseline).  ``followup_end``
records 0 (still followed at the end: censored), 1 (re-arrested) or 2 (died or
deported).  The cause-specific Cox model of status 2 recovers the ``C_*`` log
hazard ratios; re-arrest's cause-specific hazard is unchanged, so the adjusted
Cox model of re-arrest still recovers the programme HR.  Its draws come from a
jumped copy of the random stream, so adding it left every other column as it was.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..codebook import Codebook
from ._common import codes_of, draw_categorical, keyword
from ._items import format_date_column, generic_column, iso_dates, random_dates
from ._people import AGE_P_GENERAL, AGE_P_VEP, TYPOLOGY_P
from ._population import COUNTRIES

PROGRAMME_HR = 0.65
FOLLOW_UP_DAYS = 730
SHAPE = 0.85
B_RISK = np.array([0.0, 0.8, 1.6])
B_PRIOR = 0.12
B_AGE = -0.15
B_WOMAN = -0.4
B_VEP = -1.8
B_COUNTRY = np.array([0.0, 0.1, 0.2])
TARGET_GENERAL_2Y = 0.27          # re-arrest within 2 years, general population (no censoring)
SEL_A = np.array([-1.2, -1.4, -1.8])
SEL_RISK = np.array([0.0, 1.2, 2.4])
SEL_VEP, SEL_PRIOR, SEL_OLD, SEL_WOMAN = 0.6, 0.12, -0.2, 0.3
RISK_P_GENERAL = (0.50, 0.35, 0.15)
LOSS_2Y = 0.06
RELEASE_WINDOW = ("2021-01-01", "2023-06-30")
EXTRACTION = "2024-12-31"
COUNTRY_SHARE = (0.35, 0.30, 0.35)
PRIOR_MEAN = {0: 1.6, 1: 0.4}
PRIOR_DISPERSION = 1.2
COMPETING_2Y_BASE = 0.03          # death or deportation within 2 years at the baseline (youngest, general, low/moderate)
C_AGE, C_VEP, C_HIGH = 0.35, 1.2, 0.5
COMPETING_RATE = -np.log(1 - COMPETING_2Y_BASE) / FOLLOW_UP_DAYS
TYPE_WORDS = {
    "vocational": ("vocational", "workshop", "work"), "art": ("art",), "sport": ("sport",),
    "faith": ("faith", "religio", "dialogue"), "psych": ("psycholog", "cognitive"),
}
TYPE_P = {  # general population, VEP
    "vocational": (0.45, 0.25), "art": (0.10, 0.05), "sport": (0.20, 0.05), "faith": (0.10, 0.35),
    "psych": (0.15, 0.30),
}


def _persons(n: int, vep_share: float, prisons: pd.DataFrame, rng: np.random.Generator, rna_model) -> pd.DataFrame:
    country = np.sort(draw_categorical(rng, n, (1, 2, 3), COUNTRY_SHARE), kind="stable")
    vep = (rng.random(n) < vep_share).astype(np.int64)
    women_share = np.array([COUNTRIES[c].women / COUNTRIES[c].prisoners for c in (1, 2, 3)])
    vep_women = np.array([COUNTRIES[c].vep_women_share for c in (1, 2, 3)])
    woman = rng.random(n) < np.where(vep == 1, vep_women[country - 1], women_share[country - 1])
    age = np.where(vep == 1, draw_categorical(rng, n, range(1, 6), AGE_P_VEP),
                   draw_categorical(rng, n, range(1, 6), AGE_P_GENERAL))
    mean = np.where(vep == 1, PRIOR_MEAN[1], PRIOR_MEAN[0])
    lam = rng.gamma(PRIOR_DISPERSION, mean / PRIOR_DISPERSION)
    prior = np.minimum(rng.poisson(lam), 50)
    # Released from: women from women's prisons, VEPs from VEP-holding prisons.
    pid = np.empty(n, dtype=object)
    for c in (1, 2, 3):
        sub = prisons[prisons["country"] == c]
        for is_w in (False, True):
            for is_v in (0, 1):
                m = (country == c) & (woman == is_w) & (vep == is_v)
                if not m.any():
                    continue
                if is_v:
                    w = (sub["veps_women"] if is_w else sub["veps_men"]).to_numpy(dtype=float)
                else:
                    w = (sub["women"] if is_w else sub["men"]).to_numpy(dtype=float)
                if w.sum() == 0:
                    w = sub["population"].to_numpy(dtype=float)
                pid[m] = sub["prison_id"].to_numpy()[draw_categorical(rng, int(m.sum()), range(len(sub)), w)]
    # Risk at release: VEPs through the risk-and-needs tool (one assessor's
    # judgement of their latent risk); others by the general assessment.
    risk = np.empty(n, dtype=np.int64)
    g = vep == 0
    score = 0.45 * (np.minimum(prior[g], 10) - 1.6) - 0.25 * (age[g] - 2.5) + rng.standard_normal(int(g.sum()))
    cuts = np.quantile(score, np.cumsum(RISK_P_GENERAL)[:-1]) if g.sum() > 10 else np.array([0.0, 1.0])
    risk[g] = (score[:, None] > cuts[None, :]).sum(axis=1)
    v = ~g
    if v.any():
        classes = draw_categorical(rng, int(v.sum()), range(1, 5), TYPOLOGY_P)
        case = rna_model.cases(classes, rng)
        _, judg = rna_model.rate(case, np.arange(int(v.sum())), np.zeros(int(v.sum())), np.zeros(int(v.sum())), rng)
        risk[v] = judg
    return pd.DataFrame({
        "country": country, "prison_id": pid, "gender": np.where(woman, 2, 1), "age_band": age,
        "vep_status": vep, "prior_convictions": prior, "risk": risk,
    })


def _linear(df: pd.DataFrame) -> np.ndarray:
    return (B_RISK[df["risk"].to_numpy()] + B_PRIOR * df["prior_convictions"].to_numpy()
            + B_AGE * (df["age_band"].to_numpy() - 1) + B_WOMAN * (df["gender"].to_numpy() == 2)
            + B_VEP * df["vep_status"].to_numpy() + B_COUNTRY[df["country"].to_numpy() - 1])


def _select(df: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    lp = (SEL_A[df["country"].to_numpy() - 1] + SEL_RISK[df["risk"].to_numpy()]
          + SEL_VEP * df["vep_status"].to_numpy() + SEL_PRIOR * np.minimum(df["prior_convictions"].to_numpy(), 10)
          + SEL_OLD * (df["age_band"].to_numpy() >= 4) + SEL_WOMAN * (df["gender"].to_numpy() == 2))
    return (rng.random(len(df)) < special.expit(lp)).astype(np.int64)


def _calibrate_scale(lp_general: np.ndarray) -> float:
    """Weibull scale so that the general population's 2-year re-arrest is the target."""
    def f(log_scale: float) -> float:
        h = (FOLLOW_UP_DAYS / np.exp(log_scale)) ** SHAPE * np.exp(lp_general)
        return float(np.mean(1 - np.exp(-h)) - TARGET_GENERAL_2Y)
    return float(np.exp(optimize.brentq(f, 0.0, 30.0)))


def _competing_linear(df: pd.DataFrame) -> np.ndarray:
    return (C_AGE * (df["age_band"].to_numpy() - 1) + C_VEP * df["vep_status"].to_numpy()
            + C_HIGH * (df["risk"].to_numpy() == 2))


def _competing_times(df: pd.DataFrame, crng: np.random.Generator) -> np.ndarray:
    """Latent time to death or deportation (exponential, cause-specific hazard as the module docstring)."""
    return crng.exponential(1.0, len(df)) / (COMPETING_RATE * np.exp(_competing_linear(df)))


def _times(df: pd.DataFrame, prog: np.ndarray, scale: float, release: np.ndarray, rng: np.random.Generator,
           crng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed days, status (0 censored, 1 re-arrest, 2 death or deportation) and re-arrest's linear predictor."""
    n = len(df)
    lp = _linear(df) + np.log(PROGRAMME_HR) * prog
    t_event = scale * (rng.exponential(1.0, n) / np.exp(lp)) ** (1 / SHAPE)
    admin = np.minimum(FOLLOW_UP_DAYS, (np.datetime64(EXTRACTION) - release).astype(int))
    loss_rate = -np.log(1 - LOSS_2Y) / FOLLOW_UP_DAYS
    t_loss = rng.exponential(1 / loss_rate, n)
    t_comp = _competing_times(df, crng)
    cens = np.minimum(admin, t_loss)
    first = np.minimum(t_event, t_comp)
    status = np.where(first <= cens, np.where(t_event <= t_comp, 1, 2), 0)
    time = np.where(status > 0, first, cens)
    days = np.clip(np.ceil(time), 1, FOLLOW_UP_DAYS).astype(np.int64)
    return days, status.astype(np.int64), lp


def cox_binary(time: np.ndarray, event: np.ndarray, x: np.ndarray) -> float:
    """Log hazard ratio of a binary covariate: Cox partial likelihood, Breslow ties."""
    order = np.argsort(time, kind="stable")
    t, d, x = time[order], event[order].astype(bool), x[order].astype(bool)
    uniq = np.unique(t[d])
    # at risk at each event time: count of t >= u by group
    t1, t0 = np.sort(t[x]), np.sort(t[~x])
    n1 = len(t1) - np.searchsorted(t1, uniq, side="left")
    n0 = len(t0) - np.searchsorted(t0, uniq, side="left")
    dk = np.bincount(np.searchsorted(uniq, t[d]), minlength=len(uniq))
    x_events = x[d].sum()
    beta = 0.0
    for _ in range(50):
        e = np.exp(beta)
        p = n1 * e / (n0 + n1 * e)
        score = x_events - (dk * p).sum()
        info = (dk * p * (1 - p)).sum()
        step = score / info
        beta += step
        if abs(step) < 1e-10:
            break
    return float(beta)


def _programme_type(cb: Codebook, prog: np.ndarray, vep: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    if "programme_type" not in cb:
        return None
    it = cb.item("programme_type")
    codes = codes_of(it)
    none = [c for c in codes if keyword(it.options[c].get("en", ""), "none", "no programme")]
    kinds = []
    for c in codes:
        if c in none:
            continue
        label = it.options[c].get("en", "")
        kind = next((k for k, words in TYPE_WORDS.items() if keyword(label, *words)), None)
        kinds.append((c, kind))
    pg = np.array([TYPE_P[k][0] if k else 0.05 for _, k in kinds])
    pv = np.array([TYPE_P[k][1] if k else 0.05 for _, k in kinds])
    real = np.array([c for c, _ in kinds], dtype=float)
    n = len(prog)
    out = np.where(vep == 1, real[draw_categorical(rng, n, range(len(real)), pv)],
                   real[draw_categorical(rng, n, range(len(real)), pg)])
    return np.where(prog == 1, out, float(none[0]) if none else np.nan)


def generate(cb: Codebook, prisons: pd.DataFrame, n: int, vep_share: float, rng: np.random.Generator, *,
             pseudonymise, rna_model, linked: pd.DataFrame | None, truth_rows: int = 100_000
             ) -> tuple[pd.DataFrame, dict[str, Any]]:
    n_link = 0 if linked is None else len(linked)
    fresh = _persons(n - n_link, vep_share, prisons, rng, rna_model)
    keys = [f"REL-{c}-{i:06d}" for i, c in enumerate(fresh["country"], start=1)]
    fresh["person_key"] = keys
    if linked is not None and n_link:
        fresh = pd.concat([fresh, linked[fresh.columns]], ignore_index=True)
    df = fresh.sort_values(["country"], kind="stable").reset_index(drop=True)
    release = random_dates(rng, len(df), *RELEASE_WINDOW)
    if linked is not None and n_link:
        is_link = df["person_key"].isin(linked["person_key"]).to_numpy()
        release[is_link] = random_dates(rng, int(is_link.sum()), "2022-10-01", RELEASE_WINDOW[1])
    prog = _select(df, rng)
    lp_gen = _linear(df[df["vep_status"] == 0]) + np.log(PROGRAMME_HR) * prog[df["vep_status"].to_numpy() == 0]
    scale = _calibrate_scale(lp_gen)
    bits = rng.bit_generator
    if not isinstance(bits, np.random.PCG64):
        raise TypeError("synth: the generator must use numpy's default PCG64 bit generator")
    crng = np.random.Generator(bits.jumped())  # the competing event's own stream
    days, status, lp = _times(df, prog, scale, release, rng, crng)
    order = np.argsort(release, kind="stable")
    df, prog, days, status, release = (df.iloc[order].reset_index(drop=True), prog[order], days[order],
                                       status[order], release[order])
    event = (status == 1).astype(np.int64)
    ptype = _programme_type(cb, prog, df["vep_status"].to_numpy(), rng)
    ids = pseudonymise(df["person_key"].to_numpy())
    risk_codes = np.asarray(codes_of(cb.item("risk_at_release")), dtype=float) if "risk_at_release" in cb else None
    bin_codes = {}
    for name in ("programme", "rearrested", "vep_status"):
        if name in cb:
            bin_codes[name] = np.asarray(codes_of(cb.item(name)), dtype=float)
    values = {
        "programme": prog, "rearrested": event, "time_days": days, "vep_status": df["vep_status"].to_numpy(),
    }
    cols: dict[str, Any] = {}
    for item in cb.items:
        iid = item.id
        if iid == cb.id_column:
            cols[iid] = ids
        elif iid in bin_codes:
            cols[iid] = bin_codes[iid][values[iid]]
        elif iid == "time_days":
            cols[iid] = days.astype(float)
        elif iid == "followup_end":
            cols[iid] = status.astype(float)
        elif iid == "risk_at_release" and risk_codes is not None:
            cols[iid] = risk_codes[np.minimum(df["risk"].to_numpy(), len(risk_codes) - 1)]
        elif iid == "programme_type" and ptype is not None:
            cols[iid] = ptype
        elif iid == "release_date":
            cols[iid] = format_date_column(release, item)
        elif iid == "prison_id":
            cols[iid] = df["prison_id"].to_numpy().astype(object)
        elif iid in df.columns and item.type != "text":
            cols[iid] = df[iid].to_numpy().astype(float)
        elif item.type == "date":
            cols[iid] = iso_dates(release)
        else:
            cols[iid] = generic_column(item, len(df), rng)
    frame = pd.DataFrame(cols)
    truth = _truth(df, prog, days, status, scale, prisons, rng, rna_model, vep_share, truth_rows, n_link)
    return frame, truth


def _truth(df, prog, days, status, scale, prisons, rng, rna_model, vep_share, rows, n_link) -> dict[str, Any]:
    """Known effects; the expected naive estimate and the risks by level from a large simulated cohort."""
    event = (status == 1).astype(np.int64)
    big = _persons(rows, vep_share, prisons, rng, rna_model)
    bprog = _select(big, rng)
    rel = random_dates(rng, rows, *RELEASE_WINDOW)
    crng = np.random.Generator(rng.bit_generator.jumped())
    bdays, bstatus, blp = _times(big, bprog, scale, rel, rng, crng)
    bevent = (bstatus == 1).astype(np.int64)
    naive = float(np.exp(cox_binary(bdays.astype(float), bevent, bprog)))
    # without censoring: the cumulative incidence of each event by two years, by risk level
    t1 = scale * (crng.exponential(1.0, rows) / np.exp(blp)) ** (1 / SHAPE)
    t2 = _competing_times(big, crng)
    levels = ("low", "moderate", "high")
    brisk = big["risk"].to_numpy()
    cif = {lvl: {"rearrest": float(np.mean(((t1 <= t2) & (t1 <= FOLLOW_UP_DAYS))[brisk == i])),
                 "died_or_deported": float(np.mean(((t2 < t1) & (t2 <= FOLLOW_UP_DAYS))[brisk == i])),
                 "rearrest_without_competing": float(np.mean((t1 <= FOLLOW_UP_DAYS)[brisk == i]))}
           for i, lvl in enumerate(levels) if (brisk == i).any()}
    h2 = (FOLLOW_UP_DAYS / scale) ** SHAPE * np.exp(blp)
    p2 = 1 - np.exp(-h2)
    vep = big["vep_status"].to_numpy() == 1
    enrol = {lvl: float(bprog[big["risk"].to_numpy() == i].mean()) for i, lvl in enumerate(("low", "moderate", "high"))}
    return {
        "persons": int(len(df)),
        "linked_to_rna_cases": int(n_link),
        "programme_hr": PROGRAMME_HR,
        "programme_log_hr": float(np.log(PROGRAMME_HR)),
        "hazard_model": {
            "baseline": f"Weibull: H0(t) = (t / {scale:.6g})^{SHAPE}",
            "weibull_shape": SHAPE, "weibull_scale_days": scale,
            "log_hr": {"programme": float(np.log(PROGRAMME_HR)), "risk_moderate": float(B_RISK[1]),
                       "risk_high": float(B_RISK[2]), "prior_convictions_per_conviction": B_PRIOR,
                       "age_band_per_band": B_AGE, "woman": B_WOMAN, "vep": B_VEP,
                       "country_tunisia": float(B_COUNTRY[1]), "country_uganda": float(B_COUNTRY[2])},
            "note": ("conditional on these covariates the model is proportional hazards and log-linear; a Cox "
                     "model with risk_at_release (categories), prior_convictions, age_band (linear), gender, "
                     "vep_status and country (categories) is correctly specified"),
        },
        "selection": {
            "model": "logit P(programme) = a_country + b_risk[risk] + b_vep vep + b_prior min(prior, 10) "
                     "+ b_old [age band 45+] + b_woman woman",
            "a_country": dict(zip(("KZ", "TN", "UG"), SEL_A.tolist())),
            "b_risk": dict(zip(("low", "moderate", "high"), SEL_RISK.tolist())),
            "b_vep": SEL_VEP, "b_prior": SEL_PRIOR, "b_old": SEL_OLD, "b_woman": SEL_WOMAN,
            "enrolment_by_risk_expected": enrol,
        },
        "expected_naive_hr": naive,
        "expected_naive_note": "unadjusted Cox HR of programme in a simulated cohort of %d (same design)" % rows,
        "two_year_rearrest_expected": {"general_population": float(p2[~vep].mean()),
                                       "vep": float(p2[vep].mean()) if vep.any() else None},
        "follow_up_days": FOLLOW_UP_DAYS,
        "censoring": {"extraction_date": EXTRACTION, "release_window": list(RELEASE_WINDOW),
                      "loss_to_follow_up_2y": LOSS_2Y},
        "competing_event": {
            "label": "died or deported (followup_end = 2)",
            "model": "constant cause-specific hazard r2 exp(C_AGE (age_band - 1) + C_VEP vep + C_HIGH [risk high])",
            "rate_per_day": float(COMPETING_RATE), "two_year_probability_baseline": COMPETING_2Y_BASE,
            "log_hr": {"age_band_per_band": C_AGE, "vep": C_VEP, "risk_high": C_HIGH},
            "note": ("independent of re-arrest given the covariates: the cause-specific Cox model of followup_end = 2 "
                     "on age_band (linear), vep_status and [risk high] is correctly specified"),
        },
        "cumulative_incidence_730_by_risk": {
            "values": cif,
            "note": ("probability of each event by 730 days in a cohort of %d without censoring; "
                     "rearrest_without_competing is what a Kaplan-Meier that censors deaths and deportations "
                     "estimates (too high)" % rows),
        },
        "observed": {"events": int(event.sum()), "programme": int(prog.sum()),
                     "died_or_deported": int((status == 2).sum()),
                     "censored_before_730": int(((status == 0) & (days < FOLLOW_UP_DAYS)).sum())},
    }
