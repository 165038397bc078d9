"""Write the synthetic inputs of tests/reference/survey.R (run once; deterministic).

* data/survey_prisons.csv -- a fake two-stage prison survey: 6 strata (country x prison
  type), prisons drawn within strata (N1 prisons in the stratum's population, f1 the
  fraction drawn), people drawn within prisons (N2 in the prison); weights with a
  non-response adjustment; a score y, an endorsement vep (0/1), a 3-level answer, age,
  gender, region.  Clearly synthetic, not tuned to any result.
* data/survey_lonely.csv -- a stratified cluster sample where stratum C has one PSU.

Run from the repository root:  python tests/reference/make_survey_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "data"


def prisons() -> pd.DataFrame:
    rng = np.random.default_rng(20261206)
    rows = []
    pid = 0
    for s, (n_prisons, big_n1) in enumerate([(4, 12), (3, 9), (5, 20), (3, 6), (4, 15), (6, 30)], start=1):
        for _ in range(n_prisons):
            pid += 1
            big_n2 = int(rng.integers(80, 900))
            n2 = int(rng.integers(4, 16))
            effect = rng.normal(0, 0.8)
            for j in range(n2):
                gender = "Woman" if rng.random() < 0.25 else "Man"
                age = int(rng.integers(18, 70))
                y = 2.5 + 0.4 * s + effect + 0.02 * age - 0.5 * (gender == "Woman") + rng.normal(0, 1.2)
                lp = -1.2 + 0.3 * effect + 0.4 * (gender == "Man") - 0.01 * (age - 40)
                vep = int(rng.random() < 1 / (1 + np.exp(-lp)))
                ans = rng.choice(["agree", "neutral", "disagree"], p=[0.3, 0.3, 0.4])
                nr = 1.0 + 0.3 * (gender == "Woman") + rng.uniform(-0.1, 0.1)
                rows.append({
                    "stratum": f"S{s}", "prison": pid, "resp": j + 1,
                    "N1": big_n1, "f1": round(n_prisons / big_n1, 10), "N2": big_n2,
                    "w": round(big_n1 / n_prisons * big_n2 / n2 * nr, 6),
                    "y": round(y, 4), "vep": vep, "answer": ans, "age": age, "gender": gender,
                    "region": ["north", "south"][s % 2] if rng.random() < 0.7 else "centre",
                })
    return pd.DataFrame(rows)


def lonely() -> pd.DataFrame:
    rng = np.random.default_rng(77)
    rows = []
    psu = 0
    for s, k in [("A", 3), ("B", 4), ("C", 1), ("D", 2)]:
        for _ in range(k):
            psu += 1
            for _ in range(int(rng.integers(3, 8))):
                rows.append({"stratum": s, "psu": psu, "w": round(rng.uniform(5, 40), 4),
                             "y": round(rng.normal(10 + psu % 3, 2), 4), "g": rng.choice(["a", "b"])})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    prisons().to_csv(OUT / "survey_prisons.csv", index=False)
    lonely().to_csv(OUT / "survey_lonely.csv", index=False)
