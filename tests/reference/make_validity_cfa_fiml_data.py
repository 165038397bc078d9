"""Generate the synthetic, clearly fake CSV inputs for the CFA-with-missing-data (FIML) tests.

Run from the repository root::

    .venv/bin/python tests/reference/make_validity_cfa_fiml_data.py

It writes (deterministically: fixed seed, values rounded to 3 decimals so Python
and R parse the very same numbers):

* ``tests/reference/data/validity_cfa_fiml.csv``  620 rows of fake respondents:
  a three-factor model (f1 =~ y1 + y2 + y3, f2 =~ y4 + y5 + y6, f3 =~ y7 + y8 +
  y9), a ``site`` column (A/B; site B has a higher mean on f2 and a shifted
  intercept of y5).  Missing at random (MAR): y1, y4 and y7 are always observed
  except in the empty rows; y2, y3, y5, y6, y8 and y9 are deleted with a
  probability that rises with the (observed) marker item of their factor, about
  15% on average.  Six rows miss every item (FIML drops them) and three rows
  miss the site (dropped in multi-group fits).
* ``tests/reference/data/validity_cfa_hs1939_missing.csv``  the Holzinger-Swineford
  (1939) data exported by ``tests/reference/validity_cfa.R`` with values
  deleted by a fixed rule (no randomness): x2 when x1 is above its 80th
  percentile and the row id is even; x5 when x4 is below its 20th percentile
  and the id is odd; x9 when x7 is above its 85th percentile; x3 for every
  seventh id; everything for ids 1 and 2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"


def fiml_data(seed: int = 20240917, n: int = 620) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    site = rng.choice(["A", "B"], size=n, p=[0.5, 0.5])
    b = site == "B"
    phi = np.array([[1.0, 0.4, 0.3], [0.4, 1.0, 0.5], [0.3, 0.5, 1.0]])
    eta = rng.normal(size=(n, 3)) @ np.linalg.cholesky(phi).T
    eta[b, 1] += 0.4
    lam = np.array([1.0, 0.8, 0.7, 1.0, 0.9, 0.6, 1.0, 0.75, 0.85])
    fac = np.repeat([0, 1, 2], 3)
    nu = np.array([3.0, 2.5, 3.2, 2.8, 3.1, 2.9, 3.3, 2.6, 3.0])
    theta = np.array([0.5, 0.6, 0.55, 0.45, 0.6, 0.7, 0.5, 0.65, 0.55])
    intercepts = np.tile(nu, (n, 1))
    intercepts[b, 4] += 0.3
    y = intercepts + eta[:, fac] * lam + rng.normal(size=(n, 9)) * np.sqrt(theta)
    y = np.round(y, 3)
    # MAR: deletion probability depends on the observed marker of the factor
    for marker, targets in ((0, (1, 2)), (3, (4, 5)), (6, (7, 8))):
        z = (y[:, marker] - y[:, marker].mean()) / y[:, marker].std()
        prob = 1.0 / (1.0 + np.exp(-(-1.9 + 0.9 * z)))
        for t in targets:
            y[rng.random(n) < prob, t] = np.nan
    empty = rng.choice(n, size=6, replace=False)
    y[empty, :] = np.nan
    df = pd.DataFrame(y, columns=[f"y{j + 1}" for j in range(9)])
    site_col = pd.Series(site, dtype=object)
    no_site = rng.choice(np.setdiff1d(np.arange(n), empty), size=3, replace=False)
    site_col[no_site] = None
    df.insert(0, "site", site_col)
    df.insert(0, "respondent", [f"fake{j + 1:04d}" for j in range(n)])
    return df


def hs_missing(hs: pd.DataFrame) -> pd.DataFrame:
    df = hs.copy()
    odd = df["id"] % 2 == 1
    df.loc[(df["x1"] > df["x1"].quantile(0.8)) & ~odd, "x2"] = np.nan
    df.loc[(df["x4"] < df["x4"].quantile(0.2)) & odd, "x5"] = np.nan
    df.loc[df["x7"] > df["x7"].quantile(0.85), "x9"] = np.nan
    df.loc[df["id"] % 7 == 0, "x3"] = np.nan
    df.loc[df["id"].isin([1, 2]), [f"x{j}" for j in range(1, 10)]] = np.nan
    return df


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    fiml_data().to_csv(OUT / "validity_cfa_fiml.csv", index=False)
    hs = pd.read_csv(OUT / "validity_cfa_hs1939.csv")
    hs_missing(hs).to_csv(OUT / "validity_cfa_hs1939_missing.csv", index=False)


if __name__ == "__main__":
    main()
