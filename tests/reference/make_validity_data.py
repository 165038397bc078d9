"""Generate the synthetic, clearly fake CSV inputs for the validity reference tests.

Run from the repository root::

    .venv/bin/python tests/reference/make_validity_data.py

It writes (deterministically: fixed seeds, values rounded before writing so
Python and R parse the very same numbers):

* ``tests/reference/data/validity_efa_items.csv``   500 rows x 9 continuous items
  (i1..i9) from a three-factor oblique model with one cross-loading.
* ``tests/reference/data/validity_ordinal_items.csv`` 400 rows x 9 ordinal items:
  o1..o8 scored 1-5 from a two-factor model (about 2% missing, one skewed
  item with a rare top category) and o9 scored 1-3 (unequal numbers of
  categories, which switches psych::polychoric to its local-threshold path).
* ``tests/reference/data/validity_prediction.csv``   800 rows: binary outcome,
  an integer risk score with many ties, a continuous score, a (miscalibrated)
  predicted probability and three grouping columns; the age band "50+" has
  no events (single-class subgroup).
* ``tests/reference/data/validity_prediction_rare.csv`` 300 rows with 6 events
  (low base rate).

The Holzinger-Swineford (1939) and Harman (1974) data sets are exported from
R by ``tests/reference/validity_efa.R`` itself (they ship with lavaan / R).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"


def efa_items() -> pd.DataFrame:
    rng = np.random.default_rng(20240611)
    n = 500
    lam = np.array(
        [
            [0.75, 0.00, 0.00],
            [0.65, 0.00, 0.00],
            [0.55, 0.00, 0.25],
            [0.00, 0.70, 0.00],
            [0.00, 0.60, 0.00],
            [0.00, 0.50, 0.00],
            [0.00, 0.00, 0.80],
            [0.00, 0.00, 0.60],
            [0.00, 0.00, 0.45],
        ]
    )
    phi = np.array([[1.0, 0.30, 0.20], [0.30, 1.0, 0.40], [0.20, 0.40, 1.0]])
    f = rng.multivariate_normal(np.zeros(3), phi, size=n)
    common = f @ lam.T
    h2 = np.einsum("ij,jk,ik->i", lam, phi, lam)
    e = rng.standard_normal((n, 9)) * np.sqrt(1.0 - h2)
    x = 3.0 + common + e
    return pd.DataFrame(np.round(x, 3), columns=[f"i{j + 1}" for j in range(9)])


def ordinal_items() -> pd.DataFrame:
    rng = np.random.default_rng(19390101)
    n = 400
    lam = np.array(
        [[0.8, 0.0], [0.7, 0.0], [0.6, 0.0], [0.5, 0.2], [0.0, 0.75], [0.0, 0.65], [0.0, 0.6], [0.0, 0.55]]
    )
    phi = np.array([[1.0, 0.35], [0.35, 1.0]])
    f = rng.multivariate_normal(np.zeros(2), phi, size=n)
    h2 = np.einsum("ij,jk,ik->i", lam, phi, lam)
    z = f @ lam.T + rng.standard_normal((n, 8)) * np.sqrt(1.0 - h2)
    cuts = np.array([-1.3, -0.5, 0.3, 1.1])
    skewed = np.array([-0.2, 0.6, 1.4, 2.3])  # rare top category
    out = {}
    for j in range(8):
        c = skewed if j == 3 else cuts + 0.1 * (j - 4)
        out[f"o{j + 1}"] = 1 + np.searchsorted(c, z[:, j])
    # a three-category item loading on the first factor
    z9 = 0.6 * f[:, 0] + rng.standard_normal(n) * 0.8
    out["o9"] = 1 + np.searchsorted(np.array([-0.6, 0.7]), z9)
    df = pd.DataFrame(out).astype("float64")
    # about 2% missing completely at random in o1..o8
    mask = rng.random((n, 8)) < 0.02
    block = df.iloc[:, :8].to_numpy(copy=True)
    block[mask] = np.nan
    df.iloc[:, :8] = block
    return df.astype("Int64")


def prediction() -> pd.DataFrame:
    rng = np.random.default_rng(70119)
    n = 800
    gender = np.where(rng.random(n) < 0.15, "female", "male")
    age_band = rng.choice(["18-24", "25-34", "35-49"], size=n, p=[0.3, 0.4, 0.3])
    country = rng.choice(["KZ", "TN", "UG"], size=n, p=[0.3, 0.25, 0.45])
    risk = rng.standard_normal(n)
    lp = -2.2 + 1.1 * risk + 0.3 * (gender == "male")
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-lp))).astype(int)
    score_int = np.clip(np.round(10 + 3.0 * (risk + 0.8 * rng.standard_normal(n))), 0, 20).astype(int)
    score_cont = np.round(risk + 1.2 * rng.standard_normal(n), 4)
    # a model that is too extreme and slightly too high (slope < 1, CITL < 0)
    prob = 1.0 / (1.0 + np.exp(-(-1.6 + 1.5 * risk)))
    prob = np.round(prob, 6)
    df = pd.DataFrame(
        {
            "y": y,
            "score_int": score_int,
            "score_cont": score_cont,
            "prob": prob,
            "gender": gender,
            "age_band": age_band,
            "country": country,
        }
    )
    # a small age band with no events: its AUC is undefined
    idx = np.flatnonzero(df["y"].to_numpy() == 0)[:14]
    df.loc[idx, "age_band"] = "50+"
    return df


def prediction_rare() -> pd.DataFrame:
    rng = np.random.default_rng(685)
    n = 300
    y = np.zeros(n, dtype=int)
    events = rng.choice(n, size=6, replace=False)
    y[events] = 1
    score = np.round(rng.standard_normal(n) + 1.0 * y, 4)
    prob = np.round(1.0 / (1.0 + np.exp(-(-3.8 + 0.9 * score))), 6)
    return pd.DataFrame({"y": y, "score": score, "prob": prob})


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    efa_items().to_csv(OUT / "validity_efa_items.csv", index=False)
    ordinal_items().to_csv(OUT / "validity_ordinal_items.csv", index=False, na_rep="NA")
    prediction().to_csv(OUT / "validity_prediction.csv", index=False)
    prediction_rare().to_csv(OUT / "validity_prediction_rare.csv", index=False)


if __name__ == "__main__":
    main()
