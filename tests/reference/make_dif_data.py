"""Write the synthetic data of the DIF tests (tests/test_validity_dif.py, tests/reference/dif.R).

Run from the repository root (deterministic; rerunning rewrites the same file):

    python tests/reference/make_dif_data.py

Everything here is fake.  Output ``tests/reference/data/dif.csv``: 900 fake respondents
in two fake language groups ``lang`` (``L1`` reference, ``L2`` focal, whose latent mean
is 0.4 lower: impact, not DIF), and a three-level ``site`` (``s1``, ``s2``, ``s3``) with
no DIF at all, with

* ``r1``..``r6``: four-category ratings 0..3 from a graded response model;
  ``r3`` has planted uniform DIF (its thresholds 1.2 logits higher for ``L2``),
  ``r5`` planted non-uniform DIF (slope 2.4 for ``L1``, 0.5 for ``L2``);
* ``b1``..``b8``: binary items (2PL); ``b4`` has planted uniform DIF
  (1.3 logits harder for ``L2``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"


def main() -> None:
    rng = np.random.default_rng(20261206)
    n = 900
    lang = np.where(rng.random(n) < 0.5, "L1", "L2")
    site = rng.choice(["s1", "s2", "s3"], size=n)
    theta = rng.normal(size=n) - 0.4 * (lang == "L2")
    focal = lang == "L2"
    d = pd.DataFrame({"id": [f"P{i:04d}" for i in range(n)], "lang": lang, "site": site})
    cuts = np.array([-1.0, 0.0, 1.0])
    for j in range(1, 7):
        a = np.full(n, 1.6 + 0.1 * j)
        shift = np.zeros(n) + 0.2 * (j - 3.5)
        if j == 3:
            shift = shift + 1.2 * focal
        if j == 5:
            a = np.where(focal, 0.5, 2.4)
        latent = a * theta - shift + rng.logistic(size=n)
        d[f"r{j}"] = np.digitize(latent, cuts * 1.5)
    for j in range(1, 9):
        b = -1.0 + 0.3 * j + (1.3 * focal if j == 4 else 0.0)
        p = 1 / (1 + np.exp(-1.5 * (theta - b)))
        d[f"b{j}"] = (rng.random(n) < p).astype(int)
    OUT.mkdir(exist_ok=True)
    d.to_csv(OUT / "dif.csv", index=False)


if __name__ == "__main__":
    main()
