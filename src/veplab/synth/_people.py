"""Prisoners of the sampled prisons: who is surveyed and who is assessed.

Each sampled prison's population is numbered 1..population; its violent
extremist prisoners (VEPs) are a random subset of those numbers.  A *roster*
holds the VEPs taken for the surveys and assessments plus general-population
prisoners drawn for the survey and for comparison assessments, with the
shared demographics (surveys/README.md) drawn given the prison and VEP
status, and a latent VEP typology (leaders, facilitators, followers,
marginal members).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import draw_categorical, largest_remainder

#: Latent typology of VEPs (population proportions).
TYPOLOGY = {1: "leader", 2: "facilitator", 3: "follower", 4: "marginal"}
TYPOLOGY_P = np.array([0.15, 0.20, 0.40, 0.25])

AGE_P_GENERAL = np.array([0.20, 0.34, 0.26, 0.13, 0.07])
AGE_P_VEP = np.array([0.15, 0.42, 0.28, 0.11, 0.04])
FOREIGN_P = {1: (0.04, 0.05), 2: (0.03, 0.02), 3: (0.05, 0.30)}   # (general, VEP)
OFFENCE_P_GENERAL = {  # terrorism, other violent, drugs, property, other
    1: np.array([0.002, 0.27, 0.28, 0.28, 0.168]),
    2: np.array([0.002, 0.25, 0.30, 0.30, 0.148]),
    3: np.array([0.001, 0.30, 0.15, 0.36, 0.189]),
}
SENTENCE_P_GENERAL = np.array([0.22, 0.36, 0.27, 0.15])  # bands 2..5 when sentenced
SENTENCE_P_VEP = np.array([0.02, 0.15, 0.38, 0.45])


def build_roster(
    sampled: pd.DataFrame,
    *,
    vep_per_country: int | None,
    gen_per_prison: int | None,
    gen_fraction: float | None,
    rna_gen_per_country: int,
    rng: np.random.Generator,
    gen_women_per_country: int | None = None,
) -> pd.DataFrame:
    """Persons of the sampled prisons taken for the survey or the assessments.

    ``vep_per_country=None`` takes every VEP of the sampled prisons.  General
    population: ``gen_per_prison`` per prison (capped at 60% of the prison's
    non-VEP prisoners) or, when ``gen_fraction`` is given, that fraction of
    every prison's non-VEP prisoners; ``gen_women_per_country`` (when given) replaces
    ``gen_per_prison`` in women's prisons (small prisons, all taken): that many per country,
    shared in proportion to their non-VEP prisoners, at least 3 per prison.  ``rna_gen_per_country`` more are drawn for comparison risk assessments.

    Each person's chance of being taken within the prison is ``p_person`` (VEPs: taken /
    VEPs held; others: taken / non-VEP prisoners), and the prison's sampling columns
    (``p_prison``, ``stratum``, ``prisons_in_stratum``, when ``sampled`` has them) and its
    ``population`` (``prisoners_in_prison``) are carried along.
    """
    frames = []
    for code, sub in sampled.groupby("country", sort=True):
        veps = sub["veps"].to_numpy()
        if vep_per_country is None or veps.sum() <= vep_per_country:
            take_v = veps.copy()
        else:
            take_v = np.minimum(largest_remainder(veps.astype(float), vep_per_country), veps)
        nonvep = (sub["population"] - sub["veps"]).to_numpy()
        if gen_fraction is not None:
            take_g = np.round(nonvep * gen_fraction).astype(np.int64)
        else:
            per = np.full(len(sub), gen_per_prison or 0)
            womens = sub["prison_type"].to_numpy() == 2
            if gen_women_per_country is not None and womens.any():
                share = largest_remainder(nonvep[womens].astype(float), int(gen_women_per_country))
                per[womens] = np.maximum(share, 3)
            take_g = np.minimum(per, np.floor(0.6 * nonvep)).astype(np.int64)
        rna_g = largest_remainder(np.sqrt(nonvep.astype(float)), rna_gen_per_country)
        # A census (gen_fraction 1) surveys everyone: comparison assessments are
        # then of surveyed prisoners too (the two files are not linkable).
        rna_g = np.minimum(rna_g, nonvep if gen_fraction is not None else nonvep - take_g)
        for (idx, row), tv, tg, rg in zip(sub.iterrows(), take_v, take_g, rna_g):
            pop = int(row["population"])
            perm = rng.permutation(pop) + 1
            n_v = int(row["veps"])
            vep_serials = perm[:tv]
            vep_women = int(row["veps_women"])
            rest = perm[n_v:]
            if tg + rg <= len(rest):
                gen_serials = rest[: tg + rg]
            else:                               # census: assessed prisoners were surveyed too
                gen_serials = np.concatenate([rest[:tg], rest[len(rest) - rg :]])
            role = np.concatenate([np.full(tv, "vep"), np.full(tg, "survey"), np.full(rg, "rna")])
            serial = np.concatenate([vep_serials, gen_serials])
            p_person = np.concatenate([np.full(tv, tv / max(n_v, 1)), np.full(tg, tg / max(pop - n_v, 1)),
                                       np.full(rg, np.nan)])
            frames.append(pd.DataFrame({
                "country": int(code),
                "prison_id": row["prison_id"],
                "prison_type": int(row["prison_type"]),
                "serial": serial,
                "vep_status": (role == "vep").astype(np.int64),
                "draw": role,
                "p_person": p_person,
                "p_prison": float(row.get("p_prison", 1.0)),
                "stratum": int(row.get("stratum", int(code) * 10 + 1)),
                "prisons_in_stratum": int(row.get("prisons_in_stratum", len(sub))),
                "prisoners_in_prison": pop,
                "women_share": float(row["women"]) / pop,
                "vep_women": vep_women / max(n_v, 1),
                "remand_share": float(row["remand_share"]),
            }))
    roster = pd.concat(frames, ignore_index=True)
    return _demographics(roster, rng)


def _demographics(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(df)
    vep = df["vep_status"].to_numpy() == 1
    ptype = df["prison_type"].to_numpy()
    country = df["country"].to_numpy()
    u = rng.random(n)
    p_woman = np.where(vep, np.where(ptype == 2, 1.0, 0.0), df["women_share"].to_numpy())
    gender = np.where(u < p_woman, 2, 1)
    age = np.where(vep, draw_categorical(rng, n, range(1, 6), AGE_P_VEP),
                   draw_categorical(rng, n, range(1, 6), AGE_P_GENERAL))
    age = np.where(ptype == 4, 1, age)
    fp = np.array([FOREIGN_P[c][1] if v else FOREIGN_P[c][0] for c, v in zip(country, vep)])
    nationality = np.where(rng.random(n) < fp, 2, 1)
    offence = np.empty(n, dtype=np.int64)
    for c in (1, 2, 3):
        m = (country == c) & ~vep
        offence[m] = draw_categorical(rng, int(m.sum()), range(1, 6), OFFENCE_P_GENERAL[c])
    offence[vep] = np.where(rng.random(int(vep.sum())) < 0.92, 1, 2)
    p_remand = df["remand_share"].to_numpy() * np.where(vep, 0.8, 1.0)
    remand = rng.random(n) < p_remand
    sentenced = np.where(vep, draw_categorical(rng, n, range(2, 6), SENTENCE_P_VEP),
                         draw_categorical(rng, n, range(2, 6), SENTENCE_P_GENERAL))
    sentence = np.where(remand, 1, sentenced)
    vclass = np.where(vep, draw_categorical(rng, n, range(1, 5), TYPOLOGY_P), 0)
    out = df.drop(columns=["women_share", "vep_women", "remand_share"]).copy()
    out["gender"] = gender
    out["age_band"] = age
    out["nationality"] = nationality
    out["offence_category"] = offence
    out["sentence_band"] = sentence
    out["vep_class"] = vclass
    out["person_key"] = [f"{p}-{s:05d}" for p, s in zip(out["prison_id"], out["serial"])]
    return out
