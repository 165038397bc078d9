"""Tests for how veplab.factor_analysis.correlations counts its pairwise tables.

The estimates themselves are checked against psych::polychoric in
tests/test_validity_efa.py (fixture tests/reference/validity_efa.R, which has
missing answers); here the counting behind them: every pair's contingency
table equals a cross-tabulation of the rows answering both items (missing
answers dropped pairwise), whichever float type the counts are accumulated in,
and a pair's correlation does not depend on the other items' missing answers.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from veplab.validity import polychoric

# the package exports the function under the module's name, so fetch the module itself
polychoric_module = importlib.import_module("veplab.factor_analysis.correlations")

DATA = Path(__file__).parent / "reference" / "data"


@pytest.fixture(scope="module")
def ordinal() -> pd.DataFrame:
    return pd.read_csv(DATA / "validity_ordinal_items.csv")  # 400 rows, 65 missing answers


def crosstab(x: pd.Series, y: pd.Series, nvalues: int) -> np.ndarray:
    both = x.notna() & y.notna()
    out = np.zeros((nvalues, nvalues))
    for a, b in zip(x[both].astype(int), y[both].astype(int)):
        out[a - 1, b - 1] += 1
    return out


def test_pair_tables_are_crosstabs_of_pairwise_complete_rows(ordinal):
    assert ordinal.isna().sum().sum() == 65
    codes = ordinal.to_numpy(dtype=float)
    tabs = polychoric_module._pair_tables(codes, 5)
    assert tabs.shape == (9, 9, 5, 5) and tabs.dtype == np.float64
    cols = list(ordinal.columns)
    for i, a in enumerate(cols):
        for j, b in enumerate(cols):
            np.testing.assert_array_equal(tabs[i, j], crosstab(ordinal[a], ordinal[b], 5))
    # o1 x o2: 400 rows less those missing either answer
    assert tabs[0, 1].sum() == int(ordinal[["o1", "o2"]].notna().all(axis=1).sum()) < 400
    # the diagonal blocks hold each item's own frequencies
    np.testing.assert_array_equal(np.diag(tabs[8, 8]), ordinal["o9"].value_counts().reindex(range(1, 6), fill_value=0))


def test_float64_accumulation_gives_the_same_counts_and_estimates(ordinal, monkeypatch):
    codes = ordinal.to_numpy(dtype=float)
    fast = polychoric_module._pair_tables(codes, 5)
    got32 = polychoric(ordinal.iloc[:, :8])
    monkeypatch.setattr(polychoric_module, "_FLOAT32_MAX_ROWS", 10)  # force float64 above 10 rows
    np.testing.assert_array_equal(polychoric_module._pair_tables(codes, 5), fast)
    got64 = polychoric(ordinal.iloc[:, :8])
    np.testing.assert_array_equal(got64.rho.to_numpy(), got32.rho.to_numpy())


def test_n_pairs_counts_rows_answering_both(ordinal):
    got = polychoric(ordinal.iloc[:, :8])
    obs = ordinal.iloc[:, :8].notna().to_numpy().astype(int)
    np.testing.assert_array_equal(got.n_pairs.to_numpy(), obs.T @ obs)


def test_pairwise_deletion_local_thresholds_match_each_pair_alone(ordinal):
    # with local thresholds (psych's global = FALSE) a pair's rho uses only the rows
    # answering both items, so it equals the estimate from those rows alone
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = polychoric(ordinal.iloc[:, :8], global_thresholds=False, smooth=False)
        for a, b in (("o1", "o2"), ("o3", "o7"), ("o5", "o8")):
            pair = polychoric(ordinal[[a, b]].dropna(), global_thresholds=False, smooth=False)
            assert full.rho.loc[a, b] == pytest.approx(pair.rho.loc[a, b], abs=1e-12)
            assert full.n_pairs.loc[a, b] == len(ordinal[[a, b]].dropna())


def test_global_thresholds_use_all_answers_to_each_item(ordinal):
    got = polychoric(ordinal.iloc[:, :8])
    o3 = ordinal["o3"].dropna()
    assert len(o3) < len(ordinal)
    expected = stats.norm.ppf(o3.value_counts(normalize=True).sort_index().cumsum().to_numpy()[:-1])
    np.testing.assert_allclose(got.thresholds.loc["o3"].to_numpy(), expected, rtol=1e-12)


# ----------------------------------------------------------------------- the optimiser
def random_tables(seed: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proportion tables (padded to 6 x 6) cut from bivariate normals, with their local cut points."""
    rng = np.random.default_rng(seed)
    tabs, rcs, ccs = [], [], []
    while len(tabs) < count:
        nr, nc = rng.integers(2, 7, size=2)
        r = rng.uniform(-0.97, 0.97)
        z = rng.multivariate_normal([0, 0], [[1, r], [r, 1]], size=int(rng.choice([20, 200, 5000])))
        a = np.searchsorted(np.sort(rng.normal(0, 1, nr - 1)), z[:, 0])
        b = np.searchsorted(np.sort(rng.normal(0, 1, nc - 1)), z[:, 1])
        t = np.zeros((6, 6))
        np.add.at(t, (a, b), 1)
        t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
        if min(t.shape) < 2:
            continue
        t = t / t.sum()
        full = np.zeros((6, 6))
        full[: t.shape[0], : t.shape[1]] = t
        rc = np.full(7, np.inf)
        cc = np.full(7, np.inf)
        rc[0] = cc[0] = -np.inf
        rc[1 : t.shape[0]] = stats.norm.ppf(np.cumsum(t.sum(axis=1))[:-1])
        cc[1 : t.shape[1]] = stats.norm.ppf(np.cumsum(t.sum(axis=0))[:-1])
        tabs.append(full)
        rcs.append(rc)
        ccs.append(cc)
    return np.array(tabs), np.array(rcs), np.array(ccs)


def test_maximise_rho_reaches_the_likelihood_maximum():
    from scipy import optimize

    tab, rc, cc = random_tables(5, 60)
    got = polychoric_module._maximise_rho(tab, rc, cc)

    def negll(r: float, q: int) -> float:
        return float(polychoric_module._negloglik(tab[q : q + 1], rc[q : q + 1], cc[q : q + 1], np.array([r]))[0])

    full_tables = 0
    for q in range(len(tab)):
        ref = optimize.minimize_scalar(
            negll, args=(q,), bounds=(-1 + 1e-12, 1 - 1e-12), method="bounded", options={"xatol": 1e-12}
        )
        # never a worse likelihood than an independent bounded search
        assert negll(got[q], q) <= ref.fun + 1e-12
        nr, nc = np.isfinite(rc[q]).sum() + 1, np.isfinite(cc[q]).sum() + 1  # categories = inner cuts + 1
        if np.all(tab[q, :nr, :nc] > 0):  # no empty cell: a well-defined interior maximum
            full_tables += 1
            assert got[q] == pytest.approx(ref.x, abs=1e-6)
    assert full_tables >= 10
    # the score is zero at an interior maximum
    s1, s2 = polychoric_module._score(tab, rc, cc, got)
    inner = np.abs(got) < 0.999
    assert np.all(np.abs(s1[inner]) < 1e-8) and np.all(s2[inner] < 0)


def test_score_is_the_derivative_of_the_log_likelihood():
    tab, rc, cc = random_tables(8, 12)
    rho = np.linspace(-0.9, 0.9, len(tab))
    eps = 1e-5
    s1, s2 = polychoric_module._score(tab, rc, cc, rho)
    f = lambda r: -polychoric_module._negloglik(tab, rc, cc, r)  # noqa: E731
    np.testing.assert_allclose(s1, (f(rho + eps) - f(rho - eps)) / (2 * eps), rtol=1e-5, atol=1e-7)
    d1 = lambda r: polychoric_module._score(tab, rc, cc, r)[0]  # noqa: E731
    np.testing.assert_allclose(s2, (d1(rho + eps) - d1(rho - eps)) / (2 * eps), rtol=1e-4, atol=1e-6)


def test_maximise_rho_on_the_boundary():
    # a perfectly concordant (discordant) table: the likelihood rises all the way to rho = 1 (-1)
    t = np.diag([0.1, 0.2, 0.3, 0.4])
    cuts = np.r_[-np.inf, stats.norm.ppf([0.1, 0.3, 0.6]), np.inf]
    tab = np.stack([t, t[:, ::-1]])
    rc = np.stack([cuts, cuts])
    cc = np.stack([cuts, -cuts[::-1]])
    got = polychoric_module._maximise_rho(tab, rc, cc)
    assert got[0] > 1 - 1e-9 and got[1] < -1 + 1e-9
