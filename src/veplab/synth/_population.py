"""The prison estate of the three countries: every prison, with its type,
population, women, capacity, remand share, staff and violent extremist
prisoners (VEPs), in proportion to the published figures (CONTEXT.md:
programme reports, World Prison Brief, dataUNODC, 2022).

Facility-level latent variables that drive individual outcomes are drawn
here too: ``occ_z`` (standardised log occupancy over all 366 prisons) and
``dsi_z`` (dynamic security index: staff-prisoner relations, standardised).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ._common import largest_remainder


@dataclasses.dataclass(frozen=True)
class CountrySpec:
    code: int                 # shared demographic code (1 KZ, 2 TN, 3 UG)
    iso: str
    name: str
    prisons: int
    prisoners: int
    women: int
    veps: int
    #: number of prisons by type: men's, women's, remand, juvenile
    types: tuple[int, int, int, int]
    occupancy: float          # national occupancy (population / capacity)
    occupancy_sd: float       # SD of log occupancy between prisons
    remand_share: float       # share of prisoners on remand (national)
    women_in_womens_prisons: float  # share of women held in women's prisons (rest: remand centres)
    vep_women_share: float
    vep_holders: int          # prisons holding VEPs
    staff_per_place: float    # staff per place of capacity
    median_size: tuple[float, float, float, float]  # median population by type (weights)
    size_sigma: float
    dsi_offset: float         # country mean of the dynamic security latent
    sources: str


COUNTRIES: dict[int, CountrySpec] = {
    1: CountrySpec(
        code=1, iso="KZ", name="Kazakhstan", prisons=80, prisoners=35_228, women=2_465, veps=685,
        types=(58, 4, 17, 1), occupancy=0.95, occupancy_sd=0.17, remand_share=0.15,
        women_in_womens_prisons=0.85, vep_women_share=0.10, vep_holders=30, staff_per_place=0.33,
        median_size=(600.0, 450.0, 350.0, 80.0), size_sigma=0.5, dsi_offset=0.2,
        sources="prisoners, women, prisons, VEPs: programme reports / World Prison Brief 2022",
    ),
    2: CountrySpec(
        code=2, iso="TN", name="Tunisia", prisons=32, prisoners=23_484, women=775, veps=1_000,
        types=(19, 1, 10, 2), occupancy=1.30, occupancy_sd=0.15, remand_share=0.45,
        women_in_womens_prisons=0.65, vep_women_share=0.03, vep_holders=14, staff_per_place=0.28,
        median_size=(900.0, 500.0, 700.0, 80.0), size_sigma=0.45, dsi_offset=0.0,
        sources="prisoners, women, prisons: World Prison Brief 2022; VEPs: about 1,000 (programme reports)",
    ),
    3: CountrySpec(
        code=3, iso="UG", name="Uganda", prisons=254, prisoners=70_119, women=3_225, veps=189,
        types=(172, 12, 70, 0), occupancy=3.20, occupancy_sd=0.35, remand_share=0.55,
        women_in_womens_prisons=0.60, vep_women_share=0.04, vep_holders=10, staff_per_place=0.45,
        median_size=(150.0, 120.0, 180.0, 80.0), size_sigma=1.0, dsi_offset=-0.2,
        sources="prisoners, women, prisons, occupancy ~320%, remand ~55%: programme reports / World Prison Brief 2022",
    ),
}

PRISON_TYPES = {1: "men", 2: "women", 3: "remand", 4: "juvenile"}


def population_figures() -> dict:
    """The published figures the synthetic estate is built to (for truth.json)."""
    return {
        spec.iso: {
            "country_code": spec.code,
            "name": spec.name,
            "prisons": spec.prisons,
            "prisoners": spec.prisoners,
            "women": spec.women,
            "women_share": spec.women / spec.prisoners,
            "veps": spec.veps,
            "national_occupancy": spec.occupancy,
            "remand_share": spec.remand_share,
            "prisons_by_type": dict(zip(("men", "women", "remand", "juvenile"), spec.types)),
            "sources": spec.sources,
        }
        for spec in COUNTRIES.values()
    }


def _country_prisons(spec: CountrySpec, rng: np.random.Generator) -> pd.DataFrame:
    types = np.repeat([1, 2, 3, 4], spec.types)
    n = len(types)
    medians = np.array(spec.median_size)[types - 1]
    weights = medians * np.exp(spec.size_sigma * rng.standard_normal(n))
    men_total = spec.prisoners - spec.women
    # Men in men's, remand and juvenile prisons; women's prisons hold women only.
    w_men = np.where(types == 2, 0.0, weights)
    men = largest_remainder(w_men, men_total)
    women = np.zeros(n, dtype=np.int64)
    in_womens = int(round(spec.women * spec.women_in_womens_prisons))
    women[types == 2] = largest_remainder(weights[types == 2], in_womens)
    rem_idx = np.flatnonzero(types == 3)
    women[rem_idx] += largest_remainder(men[rem_idx].astype(float), spec.women - in_womens)
    pop = men + women

    # Capacity from a prison-level occupancy rate, rescaled to the national rate.
    log_occ = np.log(spec.occupancy) + spec.occupancy_sd * rng.standard_normal(n)
    log_occ += np.where(types == 3, 0.08, 0.0) - np.where(types == 4, 0.25, 0.0)
    cap = pop / np.exp(log_occ)
    cap *= (pop.sum() / spec.occupancy) / cap.sum()
    step = np.where(cap >= 200, 10, 5)
    capacity = np.maximum(np.round(cap / step) * step, 10).astype(np.int64)

    # Remand: remand centres hold mostly remand prisoners; others are calibrated
    # so that the national share is about the published one.
    share = np.zeros(n)
    rc = types == 3
    share[rc] = np.clip(rng.beta(17, 3, rc.sum()), 0.5, 0.99)
    target = spec.remand_share * pop.sum() - (share[rc] * pop[rc]).sum()
    other = ~rc
    base = np.exp(0.35 * rng.standard_normal(other.sum()))
    if other.any():
        denom = (base * pop[other]).sum()
        share[other] = np.clip(base * max(target, 0.0) / denom, 0.0, 0.95)
    remand = np.round(share * pop).astype(np.int64)

    staff = np.maximum(np.round(capacity * spec.staff_per_place * np.exp(0.2 * rng.standard_normal(n))), 5)
    staff = staff.astype(np.int64)

    numbers = rng.permutation(n) + 1
    width = 2 if n < 100 else 3
    ids = [f"{spec.iso}-P{k:0{width}d}" for k in numbers]
    return pd.DataFrame({
        "country": spec.code,
        "iso": spec.iso,
        "number": numbers,
        "prison_id": ids,
        "prison_type": types,
        "population": pop,
        "men": men,
        "women": women,
        "capacity": capacity,
        "remand": remand,
        "staff_count": staff,
    })


def _allocate_veps(df: pd.DataFrame, spec: CountrySpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """VEPs (men, women) per prison: concentrated in a few holding prisons."""
    n = len(df)
    men_v = np.zeros(n, dtype=np.int64)
    women_v = np.zeros(n, dtype=np.int64)
    n_women = int(round(spec.veps * spec.vep_women_share))
    n_men = spec.veps - n_women
    types = df["prison_type"].to_numpy()
    pop_m = df["men"].to_numpy().astype(float)
    pop_w = df["women"].to_numpy().astype(float)
    # Men: holders chosen with probability ~ size among men's and remand prisons.
    elig = np.flatnonzero(np.isin(types, (1, 3)))
    k = min(spec.vep_holders, len(elig))
    keys = rng.random(len(elig)) ** (1.0 / pop_m[elig])          # PPS without replacement
    holders = elig[np.argsort(-keys)[:k]]
    w = pop_m[holders] * rng.gamma(0.8, 1.0, k)
    cap = np.floor(0.5 * pop_m[holders]).astype(np.int64)
    alloc = _capped_allocation(w, cap, n_men)
    men_v[holders] = alloc
    # Women: in women's prisons, most in the largest.
    wp = np.flatnonzero(types == 2)
    if len(wp) and n_women:
        w = pop_w[wp] ** 1.5 * rng.gamma(1.0, 1.0, len(wp))
        cap = np.floor(0.5 * pop_w[wp]).astype(np.int64)
        women_v[wp] = _capped_allocation(w, cap, n_women)
    return men_v, women_v


def _capped_allocation(weights: np.ndarray, cap: np.ndarray, total: int) -> np.ndarray:
    total = min(total, int(cap.sum()))
    alloc = np.zeros(len(weights), dtype=np.int64)
    free = np.ones(len(weights), dtype=bool)
    remaining = total
    while remaining > 0 and free.any():
        part = largest_remainder(np.where(free, weights, 0.0), remaining)
        over = part + alloc > cap
        part = np.minimum(part, cap - alloc)
        alloc += part
        remaining = total - int(alloc.sum())
        free &= ~over & (alloc < cap)
    return alloc


def build_prisons(rng: np.random.Generator) -> pd.DataFrame:
    """All prisons of the three countries (366 rows) with facility latents."""
    frames = []
    for spec in COUNTRIES.values():
        df = _country_prisons(spec, rng)
        men_v, women_v = _allocate_veps(df, spec, rng)
        df["veps_men"] = men_v
        df["veps_women"] = women_v
        df["veps"] = men_v + women_v
        frames.append(df)
    prisons = pd.concat(frames, ignore_index=True)
    prisons = prisons.sort_values(["country", "number"], kind="stable").reset_index(drop=True)
    pop = prisons["population"].to_numpy().astype(float)
    prisons["occupancy"] = pop / prisons["capacity"].to_numpy()
    prisons["remand_share"] = prisons["remand"] / prisons["population"]
    log_occ = np.log(prisons["occupancy"].to_numpy())
    occ_mean, occ_sd = float(log_occ.mean()), float(log_occ.std())
    prisons["occ_z"] = (log_occ - occ_mean) / occ_sd
    # Dynamic security: better with more staff per prisoner, plus a country
    # mean and facility-specific management culture; standardised over prisons.
    ratio = np.log(pop / prisons["staff_count"].to_numpy())
    ratio_z = (ratio - ratio.mean()) / ratio.std()
    offset = prisons["country"].map({c: s.dsi_offset for c, s in COUNTRIES.items()}).to_numpy()
    dsi = -0.5 * ratio_z + offset + 0.75 * rng.standard_normal(len(prisons))
    prisons["dsi_z"] = (dsi - dsi.mean()) / dsi.std()
    # Material resources (programmes, health care, workshops): country mean + facility.
    res_offset = prisons["country"].map({1: 0.3, 2: 0.1, 3: -0.4}).to_numpy()
    res = res_offset + 0.3 * prisons["dsi_z"].to_numpy() + 0.8 * rng.standard_normal(len(prisons))
    prisons["res_z"] = (res - res.mean()) / res.std()
    prisons.attrs["occ_log_mean"] = occ_mean
    prisons.attrs["occ_log_sd"] = occ_sd
    return prisons


def pps_probabilities(size: np.ndarray, k: int) -> np.ndarray:
    """Inclusion probabilities of a sample of ``k`` units drawn with probability proportional to
    ``size``: pi_i = k size_i / sum(size), units whose pi reaches 1 taken with certainty and the
    rest recomputed over the others (Sarndal, Swensson & Wretman 1992, section 3.6).

    >>> pps_probabilities(np.array([1.0, 1, 2, 20]), 2).round(4).tolist()
    [0.25, 0.25, 0.5, 1.0]
    """
    size = np.asarray(size, dtype=float)
    k = min(int(k), len(size))
    pi = np.zeros(len(size))
    certain = np.zeros(len(size), dtype=bool)
    while True:
        rest = ~certain
        left = k - int(certain.sum())
        pi[certain] = 1.0
        if left <= 0 or not rest.any():
            pi[rest] = 0.0
            return pi
        pi[rest] = left * size[rest] / size[rest].sum()
        over = rest & (pi >= 1.0)
        if not over.any():
            return pi
        certain |= over


def systematic_pps(pi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn by systematic sampling from a random order, unit i with probability ``pi[i]``
    exactly (the inclusion probabilities sum to the sample size).

    >>> sorted(systematic_pps(np.array([1.0, 0.5, 0.5]), np.random.default_rng(1)).tolist())[:1]
    [0]
    """
    order = rng.permutation(len(pi))
    cum = np.concatenate([[0.0], np.cumsum(pi[order])])
    u = rng.random()
    points = u + np.arange(int(round(cum[-1])))
    hit = np.searchsorted(cum, points, side="right") - 1
    return np.sort(order[np.unique(hit)])


#: Prison sampling strata within each country: prisons taken with certainty (all women's
#: prisons, the prisons holding most VEPs, any whose PPS probability reaches 1) and the
#: prisons drawn with probability proportional to size.
STRATUM_CERTAIN, STRATUM_PPS = 1, 2


def sample_prisons(
    prisons: pd.DataFrame,
    per_country: int | None,
    vep_target: int | None,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Prisons sampled for the surveys, with their inclusion probabilities and strata.

    ``per_country=None`` takes every prison (national scale: a census).  Otherwise, per
    country: every women's prison and the prisons holding most VEPs (until about
    ``vep_target`` VEPs are covered, at most half of ``per_country``) are taken with
    certainty; the other ``per_country`` minus those are drawn from the remaining prisons
    with probability proportional to their population (systematic PPS from a random
    order; a prison whose probability reaches 1 is taken with certainty).  Women's prisons
    come on top of ``per_country``.

    Adds ``certainty``, ``p_prison`` (the prison's inclusion probability), ``stratum``
    (country x 10 + 1 certainty / 2 PPS) and ``prisons_in_stratum`` (the country's prisons
    in that stratum: the first-stage fpc).
    """
    if per_country is None:
        out = prisons.copy()
        out["certainty"] = True
        out["p_prison"] = 1.0
        out["stratum"] = out["country"] * 10 + STRATUM_CERTAIN
        out["prisons_in_stratum"] = out.groupby("country")["prison_id"].transform("size")
        return out
    rows = []
    for code in COUNTRIES:
        sub = prisons[prisons["country"] == code]
        certain = list(sub.index[sub["prison_type"] == 2])       # every women's prison
        covered = int(sub.loc[certain, "veps"].sum())
        holders = sub[(sub["veps_men"] > 0) & (sub["prison_type"] != 2)].sort_values("veps_men", ascending=False)
        n_vep = 0
        for idx, row in holders.iterrows():
            if covered >= (vep_target or 0) * 1.1 or n_vep >= max(per_country // 2, 1):
                break
            certain.append(int(idx))
            covered += int(row["veps"])
            n_vep += 1
        rest = sub.drop(index=certain)
        pi = pps_probabilities(rest["population"].to_numpy(), max(per_country - n_vep, 0))
        sure = pi >= 1.0 - 1e-12
        certain.extend(int(i) for i in rest.index[sure])
        draw = rest[~sure]
        picks = systematic_pps(pi[~sure], rng) if len(draw) else np.array([], dtype=int)
        for idx in certain:
            rows.append((idx, True, 1.0, code * 10 + STRATUM_CERTAIN, len(certain)))
        for j in picks:
            rows.append((int(draw.index[j]), False, float(pi[~sure][j]), code * 10 + STRATUM_PPS, len(draw)))
    info = pd.DataFrame(rows, columns=["index", "certainty", "p_prison", "stratum", "prisons_in_stratum"])
    info = info.set_index("index").sort_index()
    out = prisons.loc[info.index].copy()
    for c in info.columns:
        out[c] = info[c].to_numpy()
    return out
