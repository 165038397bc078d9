"""Write the synthetic data used by the factors regression / descriptives / pooling tests.

Run from the repository root (deterministic; rerunning rewrites the same files):

    python tests/reference/make_factors_reg_data.py

Everything here is clearly fake.  Outputs in ``tests/reference/data/``:

``factors_reg_survey.csv`` -- 800 fake respondents in 41 fake prisons (40 prisons
of 4 to 36 respondents plus one prison, ``P41``, with a single respondent):

* ``id``           FAKE-0001 ...
* ``prison``       P01 ... P41 (cluster)
* ``country``      ``"A"``, ``"B"``, ``"C"`` (constant within prison)
* ``gender``       ``"man"`` / ``"woman"``
* ``grievance``, ``peers``, ``trust_staff``  scale scores on 1..5 (means of 4 items)
* ``violent``      binary outcome 0/1 (logit model with a prison random effect)
* ``endorse``      ordinal outcome 1..4 (proportional odds, logit)
* ``pweight``      probability (sampling) weights, 1 to 6
* ``fweight``      frequency weights, whole numbers 1 to 3

``factors_reg_groups.csv`` -- 300 fake respondents, two groups ``"general"`` /
``"vep"`` (unequal sizes and variances), scale scores with ties and a few
missing values (``grievance``, ``peers``, ``trust_staff``) and two 1..5 items
(``item_a``, ``item_b``).

``factors_reg_small.csv`` -- 21 values in two groups without ties (the exact
Mann-Whitney path of ``wilcox.test``).

``factors_reg_pool.csv`` -- estimates and standard errors of 3 terms from
m = 5 fake analyses (for Rubin's rules), long format ``imputation, term,
estimate, se``.

``factors_reg_impute.csv`` -- 400 fake rows with a numeric, an ordinal 1..5,
a binary and a 3-level nominal variable, missing at random (imputation tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240917
OUT = Path(__file__).resolve().parent / "data"


def _scale(rng: np.random.Generator, latent: np.ndarray) -> np.ndarray:
    """Mean of 4 likert items (1..5) driven by a latent score."""
    items = np.clip(np.rint(3 + latent[:, None] + rng.normal(0, 0.9, (len(latent), 4))), 1, 5)
    return items.mean(axis=1)


def make_survey(rng: np.random.Generator) -> pd.DataFrame:
    sizes = np.concatenate([rng.integers(4, 37, size=40), [1]])
    sizes[:40] = np.round(sizes[:40] * (799 / sizes[:40].sum())).astype(int)
    sizes[0] += 799 - sizes[:40].sum()
    n = int(sizes.sum())
    prison = np.repeat([f"P{i + 1:02d}" for i in range(len(sizes))], sizes)
    p_country = np.array(["A", "B", "C"])[np.arange(len(sizes)) % 3]
    country = np.repeat(p_country, sizes)
    u = np.repeat(rng.normal(0, 0.5, len(sizes)), sizes)
    gender = np.where(rng.random(n) < 0.2, "woman", "man")
    grievance = _scale(rng, rng.normal(0, 0.8, n))
    peers = _scale(rng, 0.4 * (grievance - 3) + rng.normal(0, 0.7, n))
    trust_staff = _scale(rng, rng.normal(0, 0.8, n))
    eta = (-1.2 + 0.7 * (grievance - 3) + 0.5 * (peers - 3) - 0.4 * (trust_staff - 3)
           - 0.5 * (gender == "woman") + 0.3 * (country == "B") + u)
    violent = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    eta2 = 0.6 * (grievance - 3) + 0.4 * (peers - 3) - 0.5 * (trust_staff - 3) + 0.4 * (country == "C")
    cuts = np.array([-1.0, 0.4, 1.8])
    latent = eta2 + rng.logistic(size=n)
    endorse = 1 + (latent[:, None] > cuts[None, :]).sum(axis=1)
    pweight = np.round(1 + 5 * rng.random(n), 3)
    fweight = rng.integers(1, 4, size=n)
    return pd.DataFrame({
        "id": [f"FAKE-{i + 1:04d}" for i in range(n)], "prison": prison, "country": country,
        "gender": gender, "grievance": grievance, "peers": peers, "trust_staff": trust_staff,
        "violent": violent, "endorse": endorse, "pweight": pweight, "fweight": fweight,
    })


def make_groups(rng: np.random.Generator) -> pd.DataFrame:
    n1, n2 = 210, 90
    group = np.array(["general"] * n1 + ["vep"] * n2)
    shift = np.r_[np.zeros(n1), np.ones(n2)]
    grievance = _scale(rng, rng.normal(0, 0.7, n1 + n2) + 0.5 * shift)
    peers = _scale(rng, rng.normal(0, 0.6, n1 + n2) * (1 + 0.6 * shift) + 0.2 * shift)
    trust_staff = _scale(rng, rng.normal(0, 0.8, n1 + n2) - 0.1 * shift)
    item_a = np.clip(np.rint(3 + 0.6 * shift + rng.normal(0, 1.1, n1 + n2)), 1, 5)
    item_b = np.clip(np.rint(2.5 + rng.normal(0, 1.0, n1 + n2)), 1, 5)
    df = pd.DataFrame({"id": [f"FAKE-{i + 1:04d}" for i in range(n1 + n2)], "group": group,
                       "grievance": grievance, "peers": peers, "trust_staff": trust_staff,
                       "item_a": item_a, "item_b": item_b})
    for col, k in (("grievance", 7), ("peers", 4), ("item_a", 9)):
        rows = rng.choice(n1 + n2, size=k, replace=False)
        df.loc[rows, col] = np.nan
    return df


def make_small(rng: np.random.Generator) -> pd.DataFrame:
    vals = rng.permutation(np.arange(1, 22)) * 0.37 + 1.0
    group = np.array(["general"] * 12 + ["vep"] * 9)
    vals[12:] += 1.5
    return pd.DataFrame({"group": group, "score": np.round(vals, 2)})


def make_pool(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for imp in range(1, 6):
        for term, mu, se in (("(Intercept)", -1.1, 0.21), ("grievance", 0.62, 0.09), ("woman", -0.35, 0.27)):
            rows.append({"imputation": imp, "term": term,
                         "estimate": round(mu + rng.normal(0, 0.6 * se), 6),
                         "se": round(se * (1 + rng.normal(0, 0.05)), 6)})
    return pd.DataFrame(rows)


def make_impute(rng: np.random.Generator) -> pd.DataFrame:
    n = 400
    z = rng.normal(size=n)
    x = 2 + z + rng.normal(0, 0.5, n)
    ordv = np.clip(np.rint(3 + 0.9 * z + rng.normal(0, 0.8, n)), 1, 5)
    binv = (rng.random(n) < 1 / (1 + np.exp(-1.2 * z))).astype(float)
    nom = np.array(["north", "south", "west"])[np.digitize(z + rng.normal(0, 0.8, n), [-0.5, 0.6])]
    df = pd.DataFrame({"x": np.round(x, 4), "ord": ordv, "bin": binv, "nom": nom})
    # missing at random: depends on observed z-correlated x
    p = 1 / (1 + np.exp(-(-2.0 + 0.6 * (x - 2))))
    for col in ("ord", "bin", "nom"):
        df.loc[rng.random(n) < p, col] = np.nan
    df.loc[rng.random(n) < 0.12, "x"] = np.nan
    return df


def main() -> None:
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    make_survey(rng).to_csv(OUT / "factors_reg_survey.csv", index=False)
    make_groups(rng).to_csv(OUT / "factors_reg_groups.csv", index=False)
    make_small(rng).to_csv(OUT / "factors_reg_small.csv", index=False)
    make_pool(rng).to_csv(OUT / "factors_reg_pool.csv", index=False)
    make_impute(rng).to_csv(OUT / "factors_reg_impute.csv", index=False)


if __name__ == "__main__":
    main()
