"""Write the synthetic datasets that tests/reference/reliability.R reads.

All data are FAKE: drawn from fixed-seed random models, no real persons.
Run from the repository root (the output is deterministic):

    python tests/reference/make_reliability_data.py

Files (tests/reference/data/):

* reliability_items.csv - 300 respondents x 9 Likert items (1-5); a general
  factor plus three group factors (items 1-3, 4-6, 7-9).
* reliability_items_missing.csv - the same answers with about 7% of them
  missing completely at random (every respondent keeps at least 2 answers).
* reliability_unidim.csv - 200 respondents x 6 four-point items, one factor.
* reliability_two_raters.csv - 120 cases rated 0/1/2 by two assessors
  (3 cases lack one rating).
* reliability_five_raters.csv - 30 subjects x 5 raters, continuous scores.
* reliability_five_raters_missing.csv - the same with 12% of the ratings
  missing (no subject loses more than 2 of its 5 ratings).
* reliability_pool_raters.csv - 40 cases, each rated on a 4-point ordinal
  item (0-3) by three assessors drawn from a pool of five (one column per
  assessor, NA where an assessor did not rate the case); four cases lost one
  rating, so they have two.
* reliability_three_raters_ordinal.csv - 30 cases rated by the same three
  assessors on a 7-point ordinal item (1-7), assessor r3 rating higher.
* reliability_knowledge.csv - 400 simulated staff answering the eight keyed
  knowledge items of surveys/staff_training.yml (the demo's quiz), as raw
  option codes: the correct option with probability expit(a_j (theta - b_j))
  (two-parameter logistic), otherwise "I don't know" (code 8, an answer
  option) with probability 0.35 or another wrong option; about 2% of answers
  are blank.
* reliability_knowledge_keys.csv - each item's key (correct option), from the
  codebook, so that R scores the items without reading YAML.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[2]


def likert(latent: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    return 1 + (latent[..., None] > cuts).sum(axis=-1)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240601)

    # ---- 9 items, general + 3 group factors
    n = 300
    g = rng.normal(size=n)
    groups = rng.normal(size=(n, 3))
    lg = np.array([0.65, 0.6, 0.55, 0.6, 0.5, 0.55, 0.5, 0.45, 0.35])
    ls = np.array([0.45, 0.4, 0.5, 0.35, 0.45, 0.4, 0.5, 0.45, 0.3])
    grp = np.repeat(np.arange(3), 3)
    uniq = np.sqrt(1 - lg**2 - ls**2)
    latent = g[:, None] * lg + groups[:, grp] * ls + rng.normal(size=(n, 9)) * uniq
    cuts = np.array([-1.3, -0.45, 0.35, 1.2])
    items = pd.DataFrame(likert(latent, cuts), columns=[f"it{i}" for i in range(1, 10)])
    items.index.name = "respondent"
    items.to_csv(OUT / "reliability_items.csv")

    miss = items.astype(float).copy()
    mask = rng.random(miss.shape) < 0.07
    # keep at least 2 answers per respondent
    for i in range(n):
        if (~mask[i]).sum() < 2:
            mask[i, :] = False
    miss = miss.mask(mask)
    miss.to_csv(OUT / "reliability_items_missing.csv", na_rep="NA")

    # ---- 6 items, one factor, 4 categories
    n2 = 200
    f = rng.normal(size=n2)
    lam = np.array([0.8, 0.7, 0.7, 0.6, 0.55, 0.5])
    lat2 = f[:, None] * lam + rng.normal(size=(n2, 6)) * np.sqrt(1 - lam**2)
    uni = pd.DataFrame(likert(lat2, np.array([-0.8, 0.1, 0.9])), columns=[f"u{i}" for i in range(1, 7)])
    uni.index.name = "respondent"
    uni.to_csv(OUT / "reliability_unidim.csv")

    # ---- two assessors, ordinal 0/1/2
    n3 = 120
    true = rng.choice([0, 1, 2], size=n3, p=[0.5, 0.35, 0.15])
    a = np.clip(true + rng.choice([-1, 0, 1], size=n3, p=[0.12, 0.76, 0.12]), 0, 2).astype(float)
    b = np.clip(true + rng.choice([-1, 0, 1], size=n3, p=[0.08, 0.72, 0.20]), 0, 2).astype(float)
    a[[7, 55]] = np.nan
    b[90] = np.nan
    two = pd.DataFrame({"case": [f"C{i:03d}" for i in range(1, n3 + 1)], "rater_a": a, "rater_b": b})
    two.to_csv(OUT / "reliability_two_raters.csv", index=False, na_rep="NA")

    # ---- five raters, continuous
    n4 = 30
    subj = rng.normal(50, 10, size=n4)
    bias = np.array([0.0, 2.0, -1.5, 4.0, 0.5])
    five = subj[:, None] + bias + rng.normal(0, 5, size=(n4, 5))
    five = pd.DataFrame(np.round(five, 1), columns=[f"r{i}" for i in range(1, 6)])
    five.index = pd.Index([f"S{i:02d}" for i in range(1, n4 + 1)], name="subject")
    five.to_csv(OUT / "reliability_five_raters.csv")
    m5 = rng.random(five.shape) < 0.12
    for i in range(n4):
        if m5[i].sum() > 2:
            keep = np.flatnonzero(m5[i])[2:]
            m5[i, keep] = False
    five.mask(m5).to_csv(OUT / "reliability_five_raters_missing.csv", na_rep="NA")

    # ---- a pool of five assessors, three per case, 4-point ordinal (own stream: the files above stay as they were)
    rng2 = np.random.default_rng(20260115)
    n5 = 40
    need = rng2.normal(size=n5)
    pool = np.full((n5, 5), np.nan)
    for i in range(n5):
        who = np.sort(rng2.choice(5, size=3, replace=False))
        z = need[i] + rng2.normal(scale=0.6, size=3)
        pool[i, who] = np.clip(np.round(z + 1.5), 0, 3)
    for i in (4, 17, 23, 36):  # a rating lost: these cases have two
        pool[i, np.flatnonzero(~np.isnan(pool[i]))[-1]] = np.nan
    pool = pd.DataFrame(pool + 0.0, columns=[f"a{i}" for i in range(1, 6)]).astype("Int64")
    pool.index = pd.Index([f"K{i:02d}" for i in range(1, n5 + 1)], name="case")
    pool.to_csv(OUT / "reliability_pool_raters.csv", na_rep="NA")

    # ---- the same three assessors rate every case, 7-point ordinal
    n6 = 30
    lat = rng2.normal(size=n6)
    seven = np.clip(np.round(4 + 1.4 * lat[:, None] + np.array([0.0, 0.2, 0.8]) + rng2.normal(scale=0.7, size=(n6, 3))), 1, 7)
    seven = pd.DataFrame(seven.astype(int), columns=["r1", "r2", "r3"])
    seven.index = pd.Index([f"T{i:02d}" for i in range(1, n6 + 1)], name="case")
    seven.to_csv(OUT / "reliability_three_raters_ordinal.csv")

    knowledge_quiz()


def knowledge_quiz() -> None:
    """Raw answers to the demo's keyed knowledge items (own random stream: the files above stay as they were)."""
    from veplab.codebook import load

    cb = load(ROOT / "surveys" / "staff_training.yml")
    scale = cb.scale("knowledge")
    items = [cb.item(i) for i in scale.items]
    rng3 = np.random.default_rng(20261203)
    n7 = 400
    theta = rng3.normal(size=n7)
    disc = np.linspace(0.8, 1.8, len(items))
    diff = np.linspace(-1.1, 0.9, len(items))[rng3.permutation(len(items))]
    answers = {}
    for it, a, b in zip(items, disc, diff):
        right = rng3.random(n7) < 1.0 / (1.0 + np.exp(-a * (theta - b)))
        dont_know = 8 if 8 in it.options else None
        wrong = [c for c in it.codes if c != it.key and c != dont_know]
        code = np.where(rng3.random(n7) < 0.35, dont_know or wrong[0], rng3.choice(wrong, size=n7))
        col = np.where(right, it.key, code).astype(float)
        col[rng3.random(n7) < 0.02] = np.nan
        answers[it.id] = pd.array(col, dtype="Int64")
    quiz = pd.DataFrame(answers)
    quiz.index = pd.Index([f"Q{i:03d}" for i in range(1, n7 + 1)], name="respondent")
    quiz.to_csv(OUT / "reliability_knowledge.csv", na_rep="NA")
    pd.DataFrame({"item": [it.id for it in items], "key": [it.key for it in items]}).to_csv(
        OUT / "reliability_knowledge_keys.csv", index=False)


if __name__ == "__main__":
    main()
