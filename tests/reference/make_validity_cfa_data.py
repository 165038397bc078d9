"""Generate the synthetic, clearly fake CSV inputs for the CFA reference tests.

Run from the repository root::

    .venv/bin/python tests/reference/make_validity_cfa_data.py

It writes (deterministically: fixed seeds, values rounded to 3 decimals before
writing so Python and R parse the very same numbers):

* ``tests/reference/data/validity_cfa_invariance.csv``  600 rows: a one-factor,
  six-item scale (i1..i6) answered by fake respondents with a ``gender``
  column (F/M) and a ``country`` column (A/B/C).  Built so that the invariance
  sequences have something to find: loadings equal across genders, the latent
  mean higher for M, and item i4's intercept shifted by +0.45 for M (scalar
  non-invariance); across countries item i2 loads more weakly in C.
* ``tests/reference/data/validity_cfa_heywood.csv``  150 rows, four items
  (h1..h4) whose sample covariance equals (exactly, up to rounding) a
  one-factor structure with a standardized loading of 1.1 on h1: the ML
  solution has a negative residual variance for h1 (a Heywood case).

The Holzinger-Swineford (1939) data are exported from R by
``tests/reference/validity_cfa.R`` itself (they ship with lavaan).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"


def invariance_data(seed: int = 20240611, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.choice(["F", "M"], size=n, p=[0.45, 0.55])
    country = rng.choice(["A", "B", "C"], size=n, p=[0.4, 0.35, 0.25])
    male = gender == "M"
    eta = rng.normal(0.0, 1.0, n) + 0.3 * male
    lam = np.array([0.9, 0.8, 0.7, 0.75, 0.6, 0.65])
    nu = np.array([3.0, 2.8, 3.2, 2.5, 3.1, 2.9])
    theta = np.array([0.5, 0.6, 0.55, 0.5, 0.7, 0.6])
    loadings = np.tile(lam, (n, 1))
    loadings[country == "C", 1] = 0.35
    intercepts = np.tile(nu, (n, 1))
    intercepts[male, 3] += 0.45
    items = intercepts + loadings * eta[:, None] + rng.normal(0, 1, (n, 6)) * np.sqrt(theta)
    df = pd.DataFrame(np.round(items, 3), columns=[f"i{j + 1}" for j in range(6)])
    df.insert(0, "country", country)
    df.insert(0, "gender", gender)
    df.insert(0, "respondent", [f"fake{j + 1:04d}" for j in range(n)])
    return df


def heywood_data(seed: int = 7, n: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lam = np.array([1.1, 0.7, 0.6, 0.5])
    sigma = np.outer(lam, lam)
    np.fill_diagonal(sigma, 1.0)  # residual variance of h1 is 1 - 1.21 < 0
    if np.linalg.eigvalsh(sigma).min() <= 0:  # pragma: no cover - design check
        raise RuntimeError("target covariance is not positive definite")
    z = rng.normal(size=(n, 4))
    z -= z.mean(axis=0)
    # whiten the sample, then colour it with the target: sample cov == sigma
    s = z.T @ z / n
    z = z @ np.linalg.inv(np.linalg.cholesky(s)).T
    x = z @ np.linalg.cholesky(sigma).T * np.array([1.0, 1.5, 0.8, 1.2]) + np.array([2.0, 3.0, 2.5, 4.0])
    return pd.DataFrame(np.round(x, 3), columns=[f"h{j + 1}" for j in range(4)])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    invariance_data().to_csv(OUT / "validity_cfa_invariance.csv", index=False)
    heywood_data().to_csv(OUT / "validity_cfa_heywood.csv", index=False)


if __name__ == "__main__":
    main()
