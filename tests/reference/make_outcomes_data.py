"""Write the CSV inputs for tests/reference/outcomes.R and tests/test_outcomes_*.py.

All synthetic files are clearly fake (ids like FAKE-0001) and deterministic
(numpy default_rng with fixed seeds).  Run from the repository root:

    .venv/bin/python tests/reference/make_outcomes_data.py

outcomes_rossi.csv is public data, not generated: Rossi, Berk & Lenihan
(1980) recidivism data (432 released prisoners, randomised financial aid;
Fox & Weisberg's carData::Rossi, shipped as lifelines.datasets.load_rossi).
It was copied once from lifelines 0.30.3's rossi.csv (md5
e3e04d05f9b8e183f8db091c2a8e0b17); this script re-exports it only when
lifelines happens to be installed and otherwise leaves the file alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"


def prepost() -> pd.DataFrame:
    """Staff training survey: 120 officers, 1-5 scale means (ties) and a knowledge score."""
    r = np.random.default_rng(20240611)
    n = 120
    sex = r.choice(["F", "M"], size=n, p=[0.3, 0.7])
    country = r.choice(["Kazakhstan", "Tunisia", "Uganda"], size=n)
    base = r.normal(3.0, 0.6, size=n)
    conf_pre = np.clip(np.round((base + r.normal(0, 0.3, n)) * 4) / 4, 1, 5)
    conf_post = np.clip(np.round((base + 0.35 + r.normal(0, 0.35, n)) * 4) / 4, 1, 5)
    know_pre = r.binomial(20, 0.55, size=n).astype(float)
    know_post = np.minimum(20, know_pre + r.binomial(4, 0.5, size=n) - r.binomial(2, 0.4, size=n)).astype(float)
    df = pd.DataFrame({"id": [f"FAKE-{i:04d}" for i in range(1, n + 1)], "sex": sex, "country": country,
                       "confidence_pre": conf_pre, "confidence_post": conf_post,
                       "knowledge_pre": know_pre, "knowledge_post": know_post})
    # some people missed a wave
    df.loc[[4, 17, 60], "confidence_post"] = np.nan
    df.loc[[33], "confidence_pre"] = np.nan
    df.loc[[90, 91], "knowledge_post"] = np.nan
    return df


def prepost_small() -> pd.DataFrame:
    """14 continuous pairs, no ties, no zeros: the exact signed-rank path."""
    r = np.random.default_rng(7)
    pre = np.round(r.normal(50, 10, 14), 3)
    post = np.round(pre + r.normal(3, 6, 14), 3)
    return pd.DataFrame({"id": [f"FAKE-S{i:02d}" for i in range(1, 15)], "score_pre": pre, "score_post": post})


def groups() -> pd.DataFrame:
    """Programme vs comparison: 12 prisons, ANCOVA / propensity data, 3-arm variant."""
    r = np.random.default_rng(31337)
    n = 300
    prison = r.integers(1, 13, size=n)
    sex = r.choice(["F", "M"], size=n, p=[0.25, 0.75])
    age = np.round(r.normal(32, 8, n)).clip(18, 65)
    prior = r.poisson(1.5, n)
    lin = -1.0 + 0.04 * (age - 32) - 0.3 * prior + 0.5 * (sex == "F") + 0.08 * (prison - 6)
    treated = (r.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    arm = np.where(treated == 1, r.choice(["mentoring", "training"], size=n), "control")
    pre = np.round(r.normal(20, 4, n) - 0.5 * prior, 1)
    post = np.round(pre * 0.7 + 6 + 1.5 * treated + 0.05 * (age - 32) + r.normal(0, 3, n) + 0.2 * (prison % 3), 1)
    bin_out = (r.random(n) < 1 / (1 + np.exp(-(-1.2 + 0.25 * prior - 0.5 * treated)))).astype(int)
    df = pd.DataFrame({"id": [f"FAKE-G{i:04d}" for i in range(1, n + 1)], "prison": prison, "sex": sex,
                       "age": age, "prior": prior, "treated": treated, "arm": arm, "pre": pre, "post": post,
                       "violation": bin_out})
    df.loc[[5, 77], "pre"] = np.nan
    return df


def did_long() -> pd.DataFrame:
    """Two periods x two groups, people nested in 10 prisons (prison effect and person effect)."""
    r = np.random.default_rng(99)
    n = 160
    prison = r.integers(1, 11, size=n)
    group = (prison <= 5).astype(int)
    person = r.normal(0, 1.0, n)
    pe = r.normal(0, 0.8, 11)[prison]
    rows = []
    for period in (0, 1):
        y = 10 + pe + person + 0.6 * group + 0.4 * period + 1.1 * group * period + r.normal(0, 1.2, n)
        rows.append(pd.DataFrame({"id": [f"FAKE-D{i:04d}" for i in range(1, n + 1)], "prison": prison,
                                  "group": group, "period": period, "score": np.round(y, 2)}))
    return pd.concat(rows, ignore_index=True)


def survival() -> pd.DataFrame:
    """Time to re-arrest after release (weeks, integer -> ties), 10 prisons, 3 countries."""
    r = np.random.default_rng(4242)
    n = 400
    prison = r.integers(1, 11, size=n)
    country = np.array(["Kazakhstan", "Tunisia", "Uganda"])[(prison - 1) % 3]
    sex = r.choice(["F", "M"], size=n, p=[0.2, 0.8])
    age = np.round(r.normal(30, 7, n)).clip(18, 60)
    prior = r.poisson(1.2, n)
    lin_ps = -0.3 + 0.05 * (age - 30) - 0.25 * prior + 0.4 * (sex == "F")
    treated = (r.random(n) < 1 / (1 + np.exp(-lin_ps))).astype(int)
    haz = 0.012 * np.exp(-0.45 * treated - 0.03 * (age - 30) + 0.2 * prior + 0.3 * (country == "Uganda")
                         + r.normal(0, 0.3, 11)[prison])
    t_event = r.exponential(1 / haz)
    t_cens = r.uniform(20, 104, n)
    t = np.minimum(t_event, t_cens)
    weeks = np.maximum(1, np.ceil(t)).astype(int)
    event = (t_event <= t_cens).astype(int)
    return pd.DataFrame({"id": [f"FAKE-R{i:04d}" for i in range(1, n + 1)], "prison": prison,
                         "country": country, "sex": sex, "age": age, "prior": prior, "treated": treated,
                         "weeks": weeks, "rearrest": event})


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    prepost().to_csv(OUT / "outcomes_prepost.csv", index=False)
    prepost_small().to_csv(OUT / "outcomes_prepost_small.csv", index=False)
    groups().to_csv(OUT / "outcomes_groups.csv", index=False)
    did_long().to_csv(OUT / "outcomes_did.csv", index=False)
    survival().to_csv(OUT / "outcomes_survival.csv", index=False)
    try:  # public data; see the module docstring
        from lifelines.datasets import load_rossi  # type: ignore[import-not-found]

        load_rossi().to_csv(OUT / "outcomes_rossi.csv", index=False)
    except ImportError:
        if not (OUT / "outcomes_rossi.csv").exists():
            raise SystemExit("outcomes_rossi.csv is missing and lifelines is not installed to export it")


if __name__ == "__main__":
    main()
