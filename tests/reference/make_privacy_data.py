"""Write the synthetic inputs of tests/reference/privacy.R (run once; deterministic).

* data/privacy_micro.csv  -- 240 clearly fake records: country, gender, age band,
  offence category (quasi-identifiers) and vep status (sensitive), some missing.
* data/privacy_tables.csv -- four fake frequency tables in long form (table, row,
  col, value) and the pattern veplab.privacy.suppress_counts chose for them
  (suppressed = 1), so that R (lpSolve) can compute what an intruder can learn
  about each hidden cell from the published cells and the margins.

Run from the repository root:  python tests/reference/make_privacy_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from veplab.privacy import suppress_counts

OUT = Path(__file__).parent / "data"


def micro() -> pd.DataFrame:
    rng = np.random.default_rng(20261121)
    n = 240
    df = pd.DataFrame({
        "country": rng.choice([1, 2, 3], n, p=[0.4, 0.35, 0.25]),
        "gender": rng.choice([1, 2], n, p=[0.85, 0.15]),
        "age_band": rng.choice([1, 2, 3, 4, 5], n, p=[0.2, 0.35, 0.25, 0.15, 0.05]),
        "offence": rng.choice([1, 2, 3, 4, 5], n),
        "vep": rng.choice([0, 1], n, p=[0.8, 0.2]),
    })
    df["age_band"] = df["age_band"].astype("Int64")
    df.loc[rng.choice(n, 6, replace=False), "age_band"] = pd.NA
    return df


def tables() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    shapes = [(4, 3, 10), (5, 5, 10), (3, 6, 5), (6, 4, 15)]
    rows = []
    for t, (r, c, threshold) in enumerate(shapes, start=1):
        counts = rng.integers(0, 41, (r, c))
        small = rng.random((r, c)) < 0.25
        counts[small] = rng.integers(1, threshold, int(small.sum()))
        counts[0, 0] = 2  # make sure each table has a small cell
        tab = pd.DataFrame(counts)
        s = suppress_counts(tab, threshold=threshold)
        for i in range(r):
            for j in range(c):
                rows.append({"table": t, "row": i + 1, "col": j + 1, "value": int(counts[i, j]),
                             "suppressed": int(s.mask.iat[i, j]), "threshold": threshold})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    micro().to_csv(OUT / "privacy_micro.csv", index=False)
    tables().to_csv(OUT / "privacy_tables.csv", index=False)
