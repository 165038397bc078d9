"""Write the synthetic data of the item response theory tests (tests/test_irt.py, tests/reference/irt.R).

Run from the repository root (deterministic; rerunning rewrites the same files):

    python tests/reference/make_irt_data.py

Everything here is fake.  Outputs in ``tests/reference/data/``:

* ``irt_binary.csv``: 400 fake respondents, two fake language groups ``lang`` (``L1``, ``L2``;
  the L2 latent mean 0.3 lower: impact, not DIF) and ten dichotomous items ``b1``..``b10``
  from a Rasch model with difficulties -1.8, -1.4, ..., 1.8; ``b6`` has planted DIF
  (1.2 logits harder for ``L2``).  Some respondents have all 0 or all 1 (extreme scores).
* ``irt_binary_na.csv``: 300 more respondents from the same model (no DIF) with about 4%
  of the answers missing completely at random (several missing patterns).
* ``irt_poly.csv``: 500 fake respondents, ``lang`` as above, and six ordinal items
  ``p1``..``p6`` from a partial credit model: ``p1``..``p5`` scored 0..3, ``p6`` 0..2.
* ``irt_poly_na.csv``: 300 more respondents from the same partial credit model with about
  3% of the answers missing at random in ``p2``, ``p4`` and ``p5``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"

#: item difficulties of the dichotomous items (the truth the recovery tests also use)
BINARY_DIFFICULTY = np.linspace(-1.8, 1.8, 10)
#: step (threshold) difficulties of the ordinal items; p6 has two steps
POLY_THRESHOLDS = [
    [-1.5, -0.4, 0.8],
    [-1.0, 0.0, 1.2],
    [-0.6, 0.3, 0.9],
    [-1.2, -0.2, 1.5],
    [-0.3, 0.6, 1.6],
    [-0.8, 0.7],
]


def rasch_responses(rng: np.random.Generator, theta: np.ndarray, difficulty: np.ndarray) -> np.ndarray:
    """0/1 answers of persons ``theta`` to items ``difficulty`` (columns), Rasch model."""
    p = 1 / (1 + np.exp(-(theta[:, None] - difficulty[None, :])))
    return (rng.random(p.shape) < p).astype(int)


def pcm_responses(rng: np.random.Generator, theta: np.ndarray, thresholds: list[list[float]]) -> np.ndarray:
    """Ordinal answers 0..m_i from the partial credit model with step difficulties ``thresholds``."""
    out = np.empty((len(theta), len(thresholds)), dtype=int)
    for j, tau in enumerate(thresholds):
        cum = np.cumsum(theta[:, None] - np.asarray(tau)[None, :], axis=1).T  # (m, n): sum_{l<=h} (theta - tau_l)
        steps = np.vstack([np.zeros((1, len(theta))), cum])
        p = np.exp(steps - steps.max(axis=0))
        p /= p.sum(axis=0)
        u = rng.random(len(theta))
        out[:, j] = (u[None, :] > np.cumsum(p, axis=0)).sum(axis=0)
    return out


def main() -> None:
    rng = np.random.default_rng(20261207)
    OUT.mkdir(exist_ok=True)

    n = 400
    lang = np.where(rng.random(n) < 0.5, "L1", "L2")
    theta = rng.normal(scale=1.3, size=n) - 0.3 * (lang == "L2")
    diff = np.tile(BINARY_DIFFICULTY, (n, 1))
    diff[:, 5] += 1.2 * (lang == "L2")
    p = 1 / (1 + np.exp(-(theta[:, None] - diff)))
    x = (rng.random(p.shape) < p).astype(int)
    d = pd.DataFrame(x, columns=[f"b{j}" for j in range(1, 11)])
    d.insert(0, "lang", lang)
    d.insert(0, "id", [f"B{i:04d}" for i in range(n)])
    d.to_csv(OUT / "irt_binary.csv", index=False)

    n = 300
    theta = rng.normal(scale=1.2, size=n)
    x = rasch_responses(rng, theta, BINARY_DIFFICULTY).astype(float)
    x[rng.random(x.shape) < 0.04] = np.nan
    d = pd.DataFrame(x, columns=[f"b{j}" for j in range(1, 11)])
    d = d[d.notna().sum(axis=1) >= 2]  # a person needs two answers (eRm refuses fewer)
    d.insert(0, "id", [f"N{i:04d}" for i in range(len(d))])
    d.to_csv(OUT / "irt_binary_na.csv", index=False, float_format="%.0f")

    n = 500
    lang = np.where(rng.random(n) < 0.5, "L1", "L2")
    theta = rng.normal(size=n) - 0.2 * (lang == "L2")
    x = pcm_responses(rng, theta, POLY_THRESHOLDS)
    d = pd.DataFrame(x, columns=[f"p{j}" for j in range(1, 7)])
    d.insert(0, "lang", lang)
    d.insert(0, "id", [f"Q{i:04d}" for i in range(n)])
    d.to_csv(OUT / "irt_poly.csv", index=False)

    n = 300
    theta = rng.normal(size=n)
    x = pcm_responses(rng, theta, POLY_THRESHOLDS).astype(float)
    for j in (1, 3, 4):
        x[rng.random(n) < 0.03, j] = np.nan
    d = pd.DataFrame(x, columns=[f"p{j}" for j in range(1, 7)])
    d.insert(0, "id", [f"M{i:04d}" for i in range(n)])
    d.to_csv(OUT / "irt_poly_na.csv", index=False, float_format="%.0f")


if __name__ == "__main__":
    main()
