"""Generate the synthetic, clearly fake CSV inputs for the competing-risks and
prediction-over-time reference tests.

Run from the repository root::

    .venv/bin/python tests/reference/make_competing_data.py

It writes (deterministic: fixed seed, values rounded before writing):

* ``tests/reference/data/competing.csv``  500 rows: ``time`` (whole weeks, many
  ties), ``status`` (0 censored, 1 the event of interest, 2 a competing event),
  ``group`` (a, b, c), ``stratum`` (1, 2), covariates ``x1`` (continuous, 3
  decimals) and ``x2`` (0/1), ``cg`` (two censoring groups), and a predicted
  risk ``risk`` and a 3-level ``level`` for the prediction-over-time checks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"


def competing() -> pd.DataFrame:
    rng = np.random.default_rng(20261206)
    n = 500
    group = rng.choice(["a", "b", "c"], n, p=[0.4, 0.35, 0.25])
    stratum = rng.integers(1, 3, n)
    x1 = np.round(rng.normal(size=n), 3)
    x2 = (rng.random(n) < 0.4).astype(int)
    g = np.select([group == "b", group == "c"], [0.4, 0.8], 0.0)
    h1 = 0.005 * np.exp(0.5 * x1 + 0.4 * x2 + g)
    h2 = 0.003 * np.exp(-0.3 * x1 + 0.2 * x2)
    t1 = rng.exponential(1 / h1)
    t2 = rng.exponential(1 / h2)
    c = np.where(rng.random(n) < 0.5, rng.uniform(20, 104, n), 104.0)
    t = np.minimum.reduce([t1, t2, c])
    status = np.select([t == t1, t == t2], [1, 2], 0)
    time = np.ceil(t).astype(int)
    cg = rng.integers(1, 3, n)
    lp = 0.5 * x1 + 0.4 * x2 + g + rng.normal(0, 0.5, n)
    risk = np.round(1 / (1 + np.exp(-(lp - 0.6))), 4)
    level = np.digitize(lp, np.quantile(lp, [0.4, 0.8]))
    return pd.DataFrame({"time": time, "status": status, "group": group, "stratum": stratum, "x1": x1,
                         "x2": x2, "cg": cg, "risk": risk, "level": level})


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    d = competing()
    d.to_csv(OUT / "competing.csv", index=False)
    print(d["status"].value_counts().sort_index().to_dict(), d["time"].nunique())
