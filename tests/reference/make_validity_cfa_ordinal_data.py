"""Generate the synthetic, clearly fake CSV input for the ordinal CFA reference tests.

Run from the repository root::

    .venv/bin/python tests/reference/make_validity_cfa_ordinal_data.py

It writes (deterministically, fixed seed) ``tests/reference/data/validity_cfa_ordinal.csv``:
900 fake respondents with ``lang`` (en/fr/ar), ``gender`` (F/M) and six ordinal items
y1..y6 (y1..y5 coded 1-4, y6 coded 1-3) from a two-factor model (f1: y1-y3, f2: y4-y6,
factor correlation 0.4) with normal latent responses cut at thresholds.  Planted
non-invariance: item y3's thresholds are shifted by +0.5 for ``lang == "ar"``; y5 loads
more weakly for ``gender == "M"``.  Not the demo's data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"


def ordinal_data(seed: int = 20261206, n: int = 900) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "fr", "ar"], size=n, p=[0.4, 0.33, 0.27])
    gender = rng.choice(["F", "M"], size=n, p=[0.3, 0.7])
    eta = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.4], [0.4, 1.0]], size=n)
    eta[lang == "fr"] += 0.2
    lam = np.array([0.8, 0.7, 0.6, 0.75, 0.65, 0.7])
    lam_mat = np.tile(lam, (n, 1))
    lam_mat[gender == "M", 4] = 0.4
    factor = np.array([0, 0, 0, 1, 1, 1])
    ystar = lam_mat * eta[:, factor] + rng.normal(size=(n, 6)) * np.sqrt(1 - lam**2)
    cuts = [np.array([-1.0, 0.0, 0.9]), np.array([-0.8, 0.2, 1.1]), np.array([-1.2, -0.3, 0.7]),
            np.array([-0.9, 0.1, 1.0]), np.array([-0.5, 0.4, 1.3]), np.array([-0.6, 0.6])]
    items = np.empty((n, 6), dtype=int)
    for j in range(6):
        shift = np.where((lang == "ar") & (j == 2), 0.5, 0.0)
        items[:, j] = 1 + np.sum(ystar[:, j][:, None] > cuts[j][None, :] + shift[:, None], axis=1)
    df = pd.DataFrame(items, columns=[f"y{j + 1}" for j in range(6)])
    df.insert(0, "gender", gender)
    df.insert(0, "lang", lang)
    df.insert(0, "respondent", [f"fake{j + 1:04d}" for j in range(n)])
    return df


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    ordinal_data().to_csv(OUT / "validity_cfa_ordinal.csv", index=False)


if __name__ == "__main__":
    main()
