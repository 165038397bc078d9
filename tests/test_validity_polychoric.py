"""Tests for how veplab.validity.polychoric counts its pairwise tables.

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
polychoric_module = importlib.import_module("veplab.validity.polychoric")

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
