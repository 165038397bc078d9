"""Write the synthetic prisoners-in-prisons data used by the mixed-model tests.

Run from the repository root (deterministic; rerunning rewrites the same file):

    python tests/reference/make_factors_mixed_data.py

Output: ``tests/reference/data/factors_mixed_prisons.csv`` -- clearly fake data,
60 prisons of 3 to 80 respondents each (2,000-odd rows), with

* ``prison``            prison id (P01 ... P60), the level-2 cluster;
* ``occupancy``         prison-level predictor: occupancy as a ratio of capacity
                        (constant within prison);
* ``gender``            ``"female"`` / ``"male"`` (about 15 % women);
* ``age_group``         ``"18-24"``, ``"25-34"``, ``"35+"``;
* ``grievance``, ``belonging``  individual scale scores on 1..5 (means of 3 items);
* ``support``           continuous outcome, prison-level ICC about 0.1;
* ``endorse``           binary outcome (0/1), latent-scale ICC about 0.1.

It also writes ``factors_mixed_singular.csv``: 4 respondents per prison with
outcomes ``y`` (continuous) and ``b`` (0/1) unrelated to the prison, for which
lme4's fits are singular.

Both ``tests/reference/factors_mixed.R`` (lme4) and ``tests/test_factors_mixed.py``
read this very file.  The R script separately writes lme4's ``sleepstudy`` and
``cbpp`` to ``tests/reference/data/factors_mixed_sleepstudy.csv`` and
``factors_mixed_cbpp.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240611
N_PRISONS = 60
OUT = Path(__file__).resolve().parent / "data" / "factors_mixed_prisons.csv"
OUT_SINGULAR = Path(__file__).resolve().parent / "data" / "factors_mixed_singular.csv"


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    sizes = rng.integers(3, 81, size=N_PRISONS)
    occupancy = np.round(rng.uniform(0.8, 3.6, size=N_PRISONS), 2)
    # prison random effects: continuous outcome (sd 0.35 vs residual sd 1 -> ICC ~ 0.11)
    u_cont = rng.normal(0.0, 0.35, size=N_PRISONS)
    # binary outcome: latent-scale ICC 0.1 -> var = 0.1 / 0.9 * pi^2 / 3
    u_bin = rng.normal(0.0, math.sqrt(0.1 / 0.9 * math.pi**2 / 3), size=N_PRISONS)
    rows = []
    rid = 0
    for j in range(N_PRISONS):
        for _ in range(int(sizes[j])):
            rid += 1
            female = rng.random() < 0.15
            age = rng.choice(["18-24", "25-34", "35+"], p=[0.3, 0.4, 0.3])
            griev = np.clip(np.round(rng.normal(2.8 + 0.15 * (occupancy[j] - 2), 0.8) * 3) / 3, 1, 5)
            belong = np.clip(np.round(rng.normal(3.2 - 0.2 * female, 0.7) * 3) / 3, 1, 5)
            age_eff = {"18-24": 0.25, "25-34": 0.1, "35+": 0.0}[age]
            support = (
                1.5
                + 0.40 * griev
                - 0.30 * belong
                - 0.20 * female
                + 0.15 * occupancy[j]
                + age_eff
                + u_cont[j]
                + rng.normal(0.0, 1.0)
            )
            eta = (
                -1.6
                + 0.55 * (griev - 3)
                - 0.45 * (belong - 3)
                - 0.40 * female
                + 0.30 * (occupancy[j] - 2)
                + 2 * age_eff
                + u_bin[j]
            )
            endorse = int(rng.random() < 1.0 / (1.0 + math.exp(-eta)))
            rows.append(
                {
                    "respondent": f"R{rid:04d}",
                    "prison": f"P{j + 1:02d}",
                    "occupancy": float(occupancy[j]),
                    "gender": "female" if female else "male",
                    "age_group": str(age),
                    "grievance": round(float(griev), 4),
                    "belonging": round(float(belong), 4),
                    "support": round(float(support), 4),
                    "endorse": endorse,
                }
            )
    return pd.DataFrame(rows)


def make_singular(df: pd.DataFrame) -> pd.DataFrame:
    """4 respondents per prison with outcomes unrelated to the prison: both the
    linear (``y``) and the logistic (``b``) random-intercept fits are singular
    (variance estimated at 0) in lme4."""
    rng = np.random.default_rng(3)
    out = df[["prison", "grievance"]].copy()
    out["y"] = np.round(rng.normal(size=len(out)), 4)
    out["b"] = (rng.random(len(out)) < 0.3).astype(int)
    return out.groupby("prison").head(4).reset_index(drop=True)


def main() -> None:
    df = make()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT, index=False, float_format="%.4f", lineterminator="\n")
    print(f"wrote {OUT} ({len(df)} rows, {df['prison'].nunique()} prisons)")
    sing = make_singular(pd.read_csv(OUT))
    sing.to_csv(OUT_SINGULAR, index=False, float_format="%.4f", lineterminator="\n")
    print(f"wrote {OUT_SINGULAR} ({len(sing)} rows)")


if __name__ == "__main__":
    main()
