"""Write the synthetic data of the GLM core tests (tests/test_glm.py, tests/reference/glm_core.R).

Run from the repository root (deterministic; rerunning rewrites the same files):

    python tests/reference/make_glm_data.py

Everything here is clearly fake.  Output ``tests/reference/data/glm_core.csv``: 600 fake
rows in 30 fake clusters (``cl`` C01..C30, 4 to 36 rows each) with

* ``x1`` normal, ``x2`` a three-level factor (``a``, ``b``, ``c``), ``expo`` exposure (0.5 to 3);
* ``y`` binary (logit model with a cluster effect), ``k`` successes of ``m`` trials (1 to 6);
* ``count`` Poisson counts with mean ``expo * exp(eta)``; ``z`` a normal outcome with
  variance proportional to ``1/w``;
* ``w`` whole-number prior weights 1..3, ``off`` an offset for the logit model.

``glm_separated.csv``: 40 rows, ``y`` 0/1, ``x`` completely separating (``y = x > 0``)
and ``q`` a category (``q = "rare"`` only where ``y = 1``: quasi-separation), ``u`` noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"


def main() -> None:
    rng = np.random.default_rng(20261206)
    sizes = rng.integers(4, 37, size=30)
    sizes = np.round(sizes * 600 / sizes.sum()).astype(int)
    sizes[-1] += 600 - sizes.sum()
    cl = np.repeat([f"C{i + 1:02d}" for i in range(30)], sizes)
    n = len(cl)
    u = np.repeat(rng.normal(scale=0.5, size=30), sizes)
    x1 = np.round(rng.normal(size=n), 4)
    x2 = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    expo = np.round(rng.uniform(0.5, 3.0, size=n), 3)
    off = np.round(rng.normal(scale=0.3, size=n), 4)
    eta = -0.4 + 0.8 * x1 + np.where(x2 == "b", 0.5, 0.0) + np.where(x2 == "c", -0.7, 0.0) + u
    y = (rng.random(n) < 1 / (1 + np.exp(-(eta + off)))).astype(int)
    m = rng.integers(1, 7, size=n)
    k = rng.binomial(m, 1 / (1 + np.exp(-eta)))
    count = rng.poisson(expo * np.exp(0.2 + 0.3 * x1 + np.where(x2 == "c", 0.4, 0.0) + 0.5 * u))
    w = rng.integers(1, 4, size=n)
    z = np.round(1 + 0.5 * x1 - 0.3 * (x2 == "b") + rng.normal(size=n) / np.sqrt(w) + u, 4)
    pd.DataFrame({"cl": cl, "x1": x1, "x2": x2, "expo": expo, "off": off, "y": y, "k": k, "m": m,
                  "count": count, "z": z, "w": w}).to_csv(OUT / "glm_core.csv", index=False)
    r2 = np.random.default_rng(7)
    x = np.round(r2.normal(size=40), 4)
    ys = (x > 0).astype(int)
    q = np.where((ys == 1) & (r2.random(40) < 0.4), "rare", "common")
    pd.DataFrame({"y": ys, "x": x, "q": q, "u": np.round(r2.normal(size=40), 4)}).to_csv(
        OUT / "glm_separated.csv", index=False)


if __name__ == "__main__":
    main()
