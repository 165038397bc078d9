"""Tests for veplab.reliability.

Reference values:

* tests/reference/reliability.json, written by tests/reference/reliability.R
  (psych 2.2.9: alpha, ICC, cohen.kappa, omega; lavaan 0.6-14: one-factor CFA)
  from the synthetic data in tests/reference/data/reliability_*.csv
  (tests/reference/make_reliability_data.py).
* Published tables:
  - Shrout & Fleiss (1979), Psychological Bulletin 86:420-428, Tables 2 and 4
    (6 targets x 4 judges; ICC(1,1) .17, ICC(2,1) .29, ICC(3,1) .71,
    ICC(1,4) .44, ICC(2,4) .62, ICC(3,4) .91).
  - Fleiss (1971), Psychological Bulletin 76:378-382, Table 1 (30 patients x 6
    psychiatrists x 5 diagnoses, kappa = .430); as irr's ``diagnoses`` data,
    ``irr::kappam.fleiss(diagnoses)`` gives kappa 0.4302445, z 17.65183.
  - Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the
    4 observers x 12 units example with missing values: nominal .743,
    ordinal .815, interval .849, ratio .797.  The same data are irrCAC's
    ``cac.raw4raters`` (Gwet 2014, p. 120); irrCAC's README (github.com/kgwet/irrCAC)
    prints: percent agreement 0.8181818 (SE 0.12561), AC1 0.77544 (SE 0.14295,
    CI (0.461, 1)), Fleiss' kappa 0.76117 (SE 0.15302), Krippendorff's alpha 0.74342.
    (The brief's "AC1 0.7754, SE 0.1362" was checked: the published SE is 0.14295.)
  - irrCAC's ``distrib.6raters`` (the first 15 patients of Fleiss 1971):
    AC1 0.4448007 (SE 0.08418757, CI (0.264, 0.625)), Fleiss' kappa 0.4139265
    (SE 0.08119291), Krippendorff's alpha 0.4204384 (irrCAC README).
  - Cohen (1968), Psychological Bulletin 70:213-220: the 3 x 3 table of
    proportions with disagreement weights (0,1,3 / 1,0,6 / 3,6,0): kappa .492,
    weighted kappa .348 (as psych's cohen.kappa help page reproduces).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veplab._validate import InputError
from veplab.codebook import from_dict
from veplab.reliability import (
    agreement_table,
    alpha,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    item_analysis,
    krippendorff_alpha,
    long_to_wide,
    omega,
    paired_ratings,
    percent_agreement,
    plot_agreement,
    plot_item_stats,
    reliability_report,
    test_retest,
)
from veplab.reliability import _boot
from veplab.reliability._alpha import _pairwise_cov, boot_covariances
from veplab.reliability._common import pairwise_cor

REF_DIR = Path(__file__).parent / "reference"
DATA = REF_DIR / "data"
REF = json.loads((REF_DIR / "reliability.json").read_text())

CLOSED = 1e-6  # closed-form statistics: relative tolerance
ITER = 1e-3  # iterative estimators (omega, REML)


def num(values):
    return np.array([np.nan if v in ("NA", None) else v for v in np.atleast_1d(values)], dtype=float)


def assert_rel(actual, expected, tol, what=""):
    a = np.atleast_1d(np.asarray(actual, dtype=float))
    e = num(expected)
    assert a.shape == e.shape, what
    both_nan = np.isnan(a) & np.isnan(e)
    ok = both_nan | (np.abs(a - e) <= tol * np.maximum(np.abs(e), 1e-12))
    assert ok.all(), f"{what}: {a[~ok]} vs {e[~ok]}"


@pytest.fixture(scope="module")
def items():
    return pd.read_csv(DATA / "reliability_items.csv", index_col=0)


@pytest.fixture(scope="module")
def items_missing():
    return pd.read_csv(DATA / "reliability_items_missing.csv", index_col=0)


@pytest.fixture(scope="module")
def unidim():
    return pd.read_csv(DATA / "reliability_unidim.csv", index_col=0)


@pytest.fixture(scope="module")
def two():
    return pd.read_csv(DATA / "reliability_two_raters.csv")


@pytest.fixture(scope="module")
def five():
    return pd.read_csv(DATA / "reliability_five_raters.csv", index_col=0)


@pytest.fixture(scope="module")
def five_missing():
    return pd.read_csv(DATA / "reliability_five_raters_missing.csv", index_col=0)


SHROUT_FLEISS = pd.DataFrame(
    {"J1": [9, 6, 8, 7, 10, 6], "J2": [2, 1, 4, 1, 5, 2], "J3": [5, 3, 6, 2, 6, 4], "J4": [8, 2, 8, 6, 9, 7]}
)

FLEISS_1971 = pd.DataFrame(
    [
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
        [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
        [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
        [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ],
    columns=[f"psychiatrist{i}" for i in range(1, 7)],
)

NA = np.nan
KRIPPENDORFF_2011 = pd.DataFrame(
    {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, 3],
        "C": [NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NA],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA],
    }
)


# =========================================================================== alpha


@pytest.mark.parametrize("name", ["items", "items_missing", "unidim"])
def test_alpha_matches_psych(name, request):
    df = request.getfixturevalue(name)
    res = alpha(df)
    ref = REF["alpha"][name]
    tot = ref["total"]
    assert_rel(
        [res.estimate, res.std_alpha, res.g6_smc, res.average_r, res.signal_noise, res.ase, res.mean, res.sd, res.median_r],
        [tot[k] for k in ("raw_alpha", "std.alpha", "G6(smc)", "average_r", "S/N", "ase", "mean", "sd", "median_r")],
        CLOSED,
        "totals",
    )
    assert res.n == ref["n"]
    assert_rel([res.ci_low, res.ci_high], [ref["feldt"]["lower"], ref["feldt"]["upper"]], CLOSED, "Feldt")
    s = ref["item_stats"]
    t = res.items
    assert list(t.index) == s[".rownames"]
    assert t["n"].tolist() == s["n"]
    for col, key in [("raw_r", "raw.r"), ("std_r", "std.r"), ("r_cor", "r.cor"), ("r_drop", "r.drop"), ("mean", "mean"), ("sd", "sd")]:
        assert_rel(t[col], s[key], CLOSED, col)
    d = ref["alpha_drop"]
    for col, key in [
        ("alpha_if_deleted", "raw_alpha"), ("std_alpha_if_deleted", "std.alpha"), ("g6_if_deleted", "G6(smc)"),
        ("average_r_if_deleted", "average_r"), ("signal_noise_if_deleted", "S/N"), ("alpha_se_if_deleted", "alpha se"),
        ("var_r_if_deleted", "var.r"), ("median_r_if_deleted", "med.r"),
    ]:
        assert_rel(t[col], d[key], CLOSED, col)


def test_alpha_listwise_matches_psych_on_complete_rows(items_missing):
    res = alpha(items_missing, missing="listwise")
    ref = REF["alpha"]["items_listwise"]
    assert res.n == ref["n"]
    assert res.n_dropped == len(items_missing) - ref["n"]
    assert_rel([res.estimate, res.std_alpha, res.ase], [ref["total"][k] for k in ("raw_alpha", "std.alpha", "ase")], CLOSED)
    assert_rel([res.ci_low, res.ci_high], [ref["feldt"]["lower"], ref["feldt"]["upper"]], CLOSED)


def test_alpha_feldt_interval_at_other_levels(items):
    res = alpha(items, ci=0.90)
    ref = REF["alpha"]["items"]["feldt90"]
    assert_rel([res.ci_low, res.ci_high], [ref["lower"], ref["upper"]], CLOSED)
    assert res.ci == 0.90


def test_alpha_two_items(items):
    res = alpha(items[["it1", "it2"]])
    ref = REF["alpha"]["two_items"]
    assert_rel(res.estimate, ref["total"]["raw_alpha"], CLOSED)
    d = ref["alpha_drop"]
    assert_rel(res.items["std_alpha_if_deleted"], d["std.alpha"], CLOSED)
    assert_rel(res.items["g6_if_deleted"], d["G6(smc)"], CLOSED)
    # alpha of the single item left is undefined (psych prints C12/C22 there)
    assert res.items["alpha_if_deleted"].isna().all()


def test_alpha_bootstrap_is_deterministic_and_sensible(items):
    a = alpha(items, method="bootstrap", n_boot=500, seed=7)
    b = alpha(items, method="bootstrap", n_boot=500, seed=7)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert a.boot_weights == "multinomial" and a.n_boot == 500 and a.n_boot_failed == 0
    assert a.ci_low < a.estimate < a.ci_high
    # close to the Feldt interval at n = 300
    assert abs(a.ci_low - a.feldt_low) < 0.02 and abs(a.ci_high - a.feldt_high) < 0.02
    p = alpha(items, method="bootstrap", n_boot=500, seed=7, boot_weights="poisson")
    assert p.boot_weights == "poisson"
    assert abs(p.ci_low - a.ci_low) < 0.02 and abs(p.ci_high - a.ci_high) < 0.02


def _explicit_resample(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.repeat(x, weights.astype(int), axis=0)


def test_vectorised_bootstrap_equals_explicit_resampling(items_missing):
    """The per-resample covariances from row moments are those of the resampled data."""
    x = items_missing.to_numpy(float)
    covs, cors = boot_covariances(x, 5, np.random.default_rng(11), "multinomial", correlations=True)
    w = _boot._multinomial_weights(np.random.default_rng(11), 5, len(x))
    complete = ~np.isnan(x).any(axis=1)
    order = np.concatenate([np.flatnonzero(complete), np.flatnonzero(~complete)])
    for b in range(5):
        xs = _explicit_resample(x[order], w[b])
        np.testing.assert_allclose(covs[b], _pairwise_cov(xs), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(cors[b], pairwise_cor(xs), rtol=1e-10, atol=1e-12)


def test_fast_alpha_bootstrap_equals_explicit_resampling(items):
    from veplab.reliability._alpha import _boot_alpha_complete

    x = items.to_numpy(float)
    vals = _boot_alpha_complete(x, 4, np.random.default_rng(3), "multinomial")
    w = _boot._multinomial_weights(np.random.default_rng(3), 4, len(x))
    for b in range(4):
        assert vals[b] == pytest.approx(alpha(pd.DataFrame(_explicit_resample(x, w[b]))).estimate, rel=1e-10)


def test_poisson_weights_have_poisson_distribution():
    w = _boot._poisson_weights(np.random.default_rng(5), 20, 50_000)
    vals, counts = np.unique(w, return_counts=True)
    from scipy import stats

    expected = stats.poisson.pmf(vals, 1.0) * w.size
    assert (np.abs(counts - expected) < 5 * np.sqrt(expected) + 5).all()
    assert abs(w.mean() - 1) < 0.005 and abs(w.var() - 1) < 0.01


def test_alpha_warns_on_negatively_keyed_item(items):
    df = items.copy()
    df["it3"] = 6 - df["it3"]
    with pytest.warns(UserWarning, match="reverse keying"):
        alpha(df)


def test_alpha_bad_inputs(items):
    with pytest.raises(InputError, match="at least 2 items"):
        alpha(items[["it1"]])
    bad = items.copy().astype(object)
    bad.loc[3, "it2"] = "agree"
    with pytest.raises(InputError, match="'it2'.*non-numeric"):
        alpha(bad)
    const = items.copy()
    const["it4"] = 3
    with pytest.raises(InputError, match="constant"):
        alpha(const)
    with pytest.raises(InputError, match="at least 3"):
        alpha(items.iloc[:2])
    allna = items.copy().astype(float)
    allna["it5"] = np.nan
    with pytest.raises(InputError, match="no non-missing"):
        alpha(allna)
    with pytest.raises(InputError, match="missing must be one of"):
        alpha(items, missing="mean")
    with pytest.raises(InputError, match="ci must be"):
        alpha(items, ci=95)
    with pytest.raises(InputError, match="n_boot"):
        alpha(items, method="bootstrap", n_boot=3)


def test_alpha_drops_empty_rows_with_warning(items):
    df = items.astype(float).copy()
    df.iloc[5] = np.nan
    with pytest.warns(UserWarning, match="answer none of the items"):
        res = alpha(df)
    assert res.n == len(items) - 1


def test_alpha_accepts_loaded_categoricals(items):
    cat = items.apply(lambda c: pd.Categorical(c, categories=[1, 2, 3, 4, 5], ordered=True))
    assert alpha(cat).estimate == pytest.approx(alpha(items).estimate, rel=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shift=st.floats(-50, 50, allow_nan=False),
    scale=st.floats(0.1, 10),
    seed=st.integers(0, 10_000),
)
def test_alpha_invariances(shift, scale, seed):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(40, 1))
    x = pd.DataFrame(g + rng.normal(size=(40, 4)), columns=list("abcd"))
    base = alpha(x).estimate
    assert alpha(x + shift).estimate == pytest.approx(base, rel=1e-9, abs=1e-9)
    assert alpha(x * scale).estimate == pytest.approx(base, rel=1e-9, abs=1e-9)
    assert alpha(x[["c", "a", "d", "b"]]).estimate == pytest.approx(base, rel=1e-9, abs=1e-9)
    # standardised alpha is invariant to rescaling single items
    y = x.copy()
    y["a"] *= 3.0
    assert alpha(y).std_alpha == pytest.approx(alpha(x).std_alpha, rel=1e-9)


def test_item_analysis_columns_and_missing_reasons(items_missing):
    reasons = pd.DataFrame(pd.NA, index=items_missing.index, columns=items_missing.columns, dtype=object)
    miss = items_missing.isna()
    reasons[miss] = "dont_know"
    first_missing = miss["it1"].to_numpy().nonzero()[0][:3]
    reasons.iloc[first_missing, 0] = "refused"
    table = item_analysis(items_missing, missing_reasons=reasons).table
    for col in ("n", "mean", "sd", "r_drop", "r_cor", "raw_r", "std_r", "alpha_if_deleted", "share_dont_know", "share_refused"):
        assert col in table.columns
    n = len(items_missing)
    assert table.loc["it1", "share_refused"] == pytest.approx(3 / n)
    assert table.loc["it1", "share_dont_know"] == pytest.approx((miss["it1"].sum() - 3) / n)
    assert table.loc["it2", "share_refused"] == 0
    assert_rel(table["r_drop"], REF["alpha"]["items_missing"]["item_stats"]["r.drop"], CLOSED)
    wrong = reasons.copy()
    answered = items_missing["it2"].notna().to_numpy().nonzero()[0][0]
    wrong.iloc[answered, 1] = "refused"
    with pytest.raises(InputError, match="reason where item 'it2' was answered"):
        item_analysis(items_missing, missing_reasons=wrong)


# =========================================================================== omega


@pytest.mark.parametrize(
    "name, data, kwargs",
    [("items", "items", {}), ("unidim", "unidim", {}), ("items_missing_listwise", "items_missing", {"missing": "listwise"})],
)
def test_omega_total_matches_lavaan(name, data, kwargs, request):
    df = request.getfixturevalue(data)
    res = omega(df, n_boot=0, hierarchical=False, **kwargs)
    ref = REF["cfa"][name]
    assert res.n == ref["nobs"]
    assert_rel(res.estimate, ref["omega"], ITER, "omega")
    assert_rel(res.loadings["std_lambda"], ref["std_lambda"], ITER, "standardised loadings")
    # lavaan's ML uses the N-divisor covariance: raw loadings differ by sqrt((N-1)/N)
    f = np.sqrt((res.n - 1) / res.n)
    assert_rel(res.loadings["lambda"] * f, ref["lambda"], ITER, "loadings")
    assert_rel(res.loadings["theta"] * f**2, ref["theta"], ITER, "residual variances")
    assert res.ml_converged and not res.heywood


@pytest.mark.parametrize(
    "name, data, nf", [("items", "items", 3), ("items_missing", "items_missing", 3), ("items_two_factors", "items", 2)]
)
def test_omega_hierarchical_matches_psych(name, data, nf, request):
    df = request.getfixturevalue(data)
    res = omega(df, nfactors=nf, n_boot=0)
    ref = REF["omega"][name]
    assert res.hierarchical
    assert_rel(
        [res.omega_h, res.omega_total_sl, res.omega_lim, res.ecv, res.alpha_std, res.g6],
        [ref[k] for k in ("omega_h", "omega_tot", "omega_lim", "ECV", "alpha", "G6")],
        ITER,
    )
    assert_rel(res.sl["g"], ref["sl"]["g"], ITER, "general loadings")
    assert_rel(res.sl["h2"], ref["sl"]["h2"], ITER, "communalities")
    for col in ("total", "general", "group"):
        assert_rel(res.omega_group[col], ref["omega_group"][col], ITER, col)


def test_omega_bootstrap_intervals(items):
    a = omega(items, n_boot=200, seed=3)
    b = omega(items, n_boot=200, seed=3)
    assert (a.ci_low, a.ci_high, a.omega_h_ci_low) == (b.ci_low, b.ci_high, b.omega_h_ci_low)
    assert a.ci_low < a.estimate < a.ci_high
    assert a.omega_h_ci_low < a.omega_h < a.omega_h_ci_high
    assert a.omega_total_sl_ci_low < a.omega_total_sl < a.omega_total_sl_ci_high
    assert a.n_boot_failed == 0 and a.n_boot == 200
    # omega total ~ alpha for near-tau-equivalent items; its interval is narrow at n = 300
    assert 0 < a.ci_high - a.ci_low < 0.15


def test_omega_hierarchical_needs_identification(unidim):
    res = omega(unidim.iloc[:, :4], n_boot=0)
    assert not res.hierarchical and np.isnan(res.omega_h)
    assert "not identified" in res.note
    with pytest.raises(InputError, match="not identified"):
        omega(unidim.iloc[:, :4], hierarchical=True, n_boot=0)
    with pytest.raises(InputError, match="at least 3 items"):
        omega(unidim.iloc[:, :2])
    with pytest.raises(InputError, match="nfactors"):
        omega(unidim, nfactors=1)


# =========================================================================== ICC


def _icc_ref(key):
    ref = REF["icc"][key]
    return ref, {c: ref[k] for c, k in [("icc", "ICC"), ("F", "F"), ("df1", "df1"), ("df2", "df2"), ("p", "p"), ("ci_low", "lower bound"), ("ci_high", "upper bound")]}


@pytest.mark.parametrize("key, data", [("five", "five"), ("two_complete", None)])
def test_icc_matches_psych(key, data, request, two):
    df = request.getfixturevalue(data) if data else two[["rater_a", "rater_b"]].dropna()
    res = icc(df)
    table = res.table
    ref, cols = _icc_ref(key)
    assert list(table.index) == ref["type"]
    for col, vals in cols.items():
        assert_rel(table[col], vals, CLOSED, col)
    assert res.method == "anova"
    assert res.mean_squares["MSW"] == pytest.approx(ref["MSW"], rel=CLOSED)
    # the headline is ICC2, ICC(A,1), psych's second row, with its F test and interval
    i2 = ref["type"].index("ICC2")
    assert res.form == "ICC2" and res.mcgraw_wong == "ICC(A,1)"
    assert_rel([res.estimate, res.ci_low, res.ci_high, res.F, res.df1, res.df2, res.p],
               [cols[c][i2] for c in ("icc", "ci_low", "ci_high", "F", "df1", "df2", "p")], CLOSED)
    assert res.n == len(df) and res.k == df.shape[1] and res.n_dropped == 0
    pd.testing.assert_frame_equal(res.to_frame(), table)
    assert res.to_dict()["estimate"] == res.estimate and "ICC(A,1)" in res.summary()
    i3 = ref["type"].index("ICC3k")
    assert icc(df, form="ICC3k").estimate == pytest.approx(num(cols["icc"])[i3], rel=CLOSED)


def test_icc_shrout_fleiss_table():
    table = icc(SHROUT_FLEISS).table
    ref, cols = _icc_ref("shrout_fleiss")
    for col, vals in cols.items():
        assert_rel(table[col], vals, CLOSED, col)
    # Shrout & Fleiss (1979), Table 4
    assert table["icc"].round(2).tolist() == [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
    assert table.loc["ICC2", "description"] == "two-way random effects, absolute agreement, single rater"
    assert table.loc["ICC2", "mcgraw_wong"] == "ICC(A,1)"
    assert table.loc["ICC3k", "mcgraw_wong"] == "ICC(C,k)"


def test_icc_interval_level(five):
    table = icc(five, ci=0.9).table
    ref = REF["icc"]["five90"]
    assert_rel(table["ci_low"], ref["lower"], CLOSED)
    assert_rel(table["ci_high"], ref["upper"], CLOSED)


def test_icc_missing_ratings_use_reml_like_psych_lmer(five_missing):
    res = icc(five_missing)
    table = res.table
    ref, cols = _icc_ref("five_missing_lmer")
    assert res.method == "reml"
    for col in ("icc", "F", "ci_low", "ci_high"):
        assert_rel(table[col], cols[col], ITER, col)
    assert_rel(table[["df1", "df2"]].to_numpy().T.ravel(), [*cols["df1"], *cols["df2"]], CLOSED)
    # p-values are ~1e-32 here: compare on the log scale
    np.testing.assert_allclose(np.log10(table["p"]), np.log10(num(cols["p"])), atol=0.01)
    vc = res.variance_components
    assert_rel([vc["subject"], vc["rater"], vc["residual"]], ref["lme"]["variance"][:3], ITER, "variance components")
    with pytest.raises(InputError, match="complete ratings"):
        icc(five_missing, method="anova")


def test_icc_bootstrap(five):
    ra = icc(five, interval="bootstrap", n_boot=400, seed=2)
    a, b = ra.table, icc(five, interval="bootstrap", n_boot=400, seed=2).table
    pd.testing.assert_frame_equal(a, b)
    assert (a["ci_low"] < a["icc"]).all() and (a["icc"] < a["ci_high"]).all()
    assert ra.interval == "bootstrap" and ra.n_boot == 400 and ra.ci_low == a.loc["ICC2", "ci_low"]
    pd.testing.assert_series_equal(a["icc"], icc(five).table["icc"])


def test_icc_bootstrap_equals_explicit_resampling(five):
    from veplab.reliability._icc import _boot_icc

    x = five.to_numpy(float)
    vals = _boot_icc(x, 3, np.random.default_rng(9), "multinomial")
    w = _boot._multinomial_weights(np.random.default_rng(9), 3, len(x))
    for b in range(3):
        direct = icc(pd.DataFrame(_explicit_resample(x, w[b]))).table["icc"].to_numpy()
        np.testing.assert_allclose(vals[b], direct, rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(4, 25), k=st.integers(2, 6), shift=st.floats(-100, 100))
def test_icc_relations(seed, n, k, shift):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, 1)) * 2 + rng.normal(size=(n, k)) + rng.normal(size=(1, k)))
    t = icc(x).table
    sb = lambda r: k * r / (1 + (k - 1) * r)  # Spearman-Brown  # noqa: E731
    for single, avg in (("ICC1", "ICC1k"), ("ICC2", "ICC2k"), ("ICC3", "ICC3k")):
        assert t.loc[avg, "icc"] == pytest.approx(sb(t.loc[single, "icc"]), rel=1e-9, abs=1e-12)
    f1, f3 = t.loc["ICC1", "F"], t.loc["ICC3", "F"]
    assert t.loc["ICC1", "icc"] == pytest.approx((f1 - 1) / (f1 + k - 1), rel=1e-9, abs=1e-12)
    assert t.loc["ICC3", "icc"] == pytest.approx((f3 - 1) / (f3 + k - 1), rel=1e-9, abs=1e-12)
    assert t.loc["ICC3k", "icc"] == pytest.approx(1 - 1 / f3, rel=1e-9, abs=1e-12)
    assert (t.loc[["ICC1", "ICC3", "ICC1k", "ICC3k"], "icc"] <= 1).all()
    # ICC2 has no lower bound: below -1/(k-1) (MSB and MSJ both well under MSE, e.g. n=4, k=2)
    # Spearman-Brown sends ICC2k above 1, as psych::ICC reports it
    if t.loc["ICC2", "icc"] > -1 / (k - 1):
        assert t.loc[["ICC2", "ICC2k"], "icc"].max() <= 1
    for form in ("ICC1", "ICC3", "ICC1k", "ICC3k"):
        assert t.loc[form, "ci_low"] <= t.loc[form, "icc"] <= t.loc[form, "ci_high"]
    # adding a constant changes nothing; shifting one rater leaves consistency ICCs unchanged
    pd.testing.assert_series_equal(icc(x + shift).table["icc"], t["icc"], rtol=1e-7, atol=1e-9)
    y = x.copy()
    y[0] += shift
    assert icc(y, form="ICC3").estimate == pytest.approx(t.loc["ICC3", "icc"], rel=1e-7, abs=1e-9)


def test_icc_bad_inputs(five):
    with pytest.raises(InputError, match="at least 2 raters"):
        icc(five[["r1"]])
    bad = five.copy()
    bad["r3"] = np.nan
    with pytest.raises(InputError, match=r"\['r3'\] have no non-missing"):
        icc(bad)
    with pytest.raises(InputError, match="no between-subject variance"):
        icc(pd.DataFrame({"a": [1.0, 2, 3], "b": [3.0, 2, 1]}))
    empty_subject = five.copy()
    empty_subject.iloc[0] = np.nan
    with pytest.warns(UserWarning, match="no rating"):
        t = icc(empty_subject)
    assert t.n == len(five) - 1 and t.n_dropped == 1 and t.method == "anova"
    with pytest.raises(InputError, match="form must be one of"):
        icc(five, form="ICC(A,1)")


def test_long_to_wide():
    long = pd.DataFrame(
        {"case": ["c1", "c1", "c2", "c2", "c3"], "assessor": ["A", "B", "A", "B", "A"], "risk": [2, 3, 1, 1, 2]}
    )
    wide = long_to_wide(long, "case", "assessor", "risk")
    assert list(wide.columns) == ["A", "B"] and list(wide.index) == ["c1", "c2", "c3"]
    assert np.isnan(wide.loc["c3", "B"]) and wide.loc["c1", "B"] == 3
    dup = pd.concat([long, long.iloc[[1]]], ignore_index=True)
    with pytest.raises(InputError, match=r"\('c1', 'B'\)"):
        long_to_wide(dup, "case", "assessor", "risk")
    with pytest.raises(InputError, match="not found"):
        long_to_wide(long, "case", "rater", "risk")


def test_test_retest(five):
    res = test_retest(five["r1"], five["r2"])
    full = icc(five[["r1", "r2"]])
    table = full.table
    assert res.estimate == pytest.approx(table.loc["ICC2", "icc"], rel=1e-12)
    assert res.ci_low == pytest.approx(table.loc["ICC2", "ci_low"], rel=1e-12)
    assert res.form == "ICC(A,1)" and res.n == 30 and res.k == 2
    assert res.mean_change == pytest.approx((five["r2"] - five["r1"]).mean())
    assert res.sem == pytest.approx(np.sqrt(full.mean_squares["MSE"]))
    wide = test_retest(five[["r1", "r2"]])
    assert wide.estimate == pytest.approx(res.estimate, rel=1e-12)


# =========================================================================== Cohen's kappa


def test_cohen_kappa_matches_psych(two):
    ref = REF["kappa"]
    u = cohen_kappa(two["rater_a"], two["rater_b"])
    assert_rel([u.estimate, u.se**2], [ref["two"]["kappa"], ref["two"]["var_kappa"]], CLOSED)
    assert_rel([u.ci_low, u.ci_high], [ref["two"]["confid"][0][0], ref["two"]["confid"][0][2]], CLOSED)
    assert u.n == ref["two"]["n_obs"] and u.n_excluded == 3
    np.testing.assert_allclose(u.table.to_numpy(), np.array(ref["two"]["agree"]) * ref["two"]["n_obs"], rtol=1e-12)
    q = cohen_kappa(two["rater_a"], two["rater_b"], weights="quadratic", se="psych")
    assert_rel([q.estimate, q.se**2], [ref["two"]["weighted_kappa"], ref["two"]["var_weighted"]], CLOSED)
    assert_rel([q.ci_low, q.ci_high], [ref["two"]["confid"][1][0], ref["two"]["confid"][1][2]], CLOSED)
    lin = cohen_kappa(two["rater_a"], two["rater_b"], weights="linear", se="psych")
    assert_rel([lin.estimate, lin.se**2], [ref["two_linear"]["weighted_kappa"], ref["two_linear"]["var_weighted"]], CLOSED)
    k90 = cohen_kappa(two["rater_a"], two["rater_b"], ci=0.9)
    assert_rel([k90.ci_low, k90.ci_high], [ref["two_90"]["confid"][0][0], ref["two_90"]["confid"][0][2]], CLOSED)


def test_weighted_kappa_variance_follows_fleiss_cohen_everitt(two):
    """Default SE: the published FCE (1969) formula (psych's weighted-kappa code differs)."""
    ref = REF["kappa"]
    q = cohen_kappa(two["rater_a"], two["rater_b"], weights="quadratic")
    assert_rel([q.estimate, q.se**2], [ref["two_quadratic_formula"]["kappa"], ref["two_quadratic_formula"]["var"]], CLOSED)
    # FCE (1969) table with their similarity weights
    counts = np.array([[106, 10, 4], [22, 28, 10], [2, 12, 6]])
    a, b = _expand(counts)
    w = np.array([[1, 0, 0.4444], [0, 1, 0.6667], [0.4444, 0.6667, 1]])
    fce = cohen_kappa(a, b, weights=w)
    assert_rel([fce.estimate, fce.se**2], [ref["fce69_formula"]["kappa"], ref["fce69_formula"]["var"]], CLOSED)
    psych = cohen_kappa(a, b, weights=w, se="psych")
    assert_rel([psych.estimate, psych.se**2], [ref["fce69"]["weighted_kappa"], ref["fce69"]["var_weighted"]], CLOSED)
    assert_rel(cohen_kappa(a, b).estimate, ref["fce69"]["kappa"], CLOSED)
    # with an unused level psych's weighted variance goes negative (reported as 0)
    with pytest.warns(RuntimeWarning, match="negative value.*sets the variance to 0"):
        lv = cohen_kappa(two["rater_a"], two["rater_b"], weights="quadratic", levels=[0, 1, 2, 3], se="psych")
    assert lv.se == 0 and ref["two_levels"]["var_weighted"] == 0 and "se='fce'" in lv.note
    assert lv.estimate == pytest.approx(ref["two_levels"]["weighted_kappa"], rel=CLOSED)
    assert cohen_kappa(two["rater_a"], two["rater_b"], weights="quadratic", levels=[0, 1, 2, 3]).se > 0


def test_psych_negative_weighted_variance_reported_as_psych_with_a_warning():
    """Issue 17: psych::cohen.kappa sets a negative weighted variance to 0 (bad = TRUE) and
    reports a zero-width interval; se="psych" matches it and says so (tests/reference/r_parity.R)."""
    ref = json.loads((Path(__file__).parent / "reference" / "r_parity.json").read_text())["kappa_negative_var"]
    assert ref["bad"] is True and ref["var_weighted"] == 0
    with pytest.warns(RuntimeWarning, match=r"negative value \(-0.000938\).*psych::cohen.kappa"):
        r = cohen_kappa(ref["a"], ref["b"], weights="quadratic", se="psych")
    assert r.estimate == pytest.approx(ref["weighted_kappa"], rel=CLOSED)
    assert r.se == 0 and r.ci_low == pytest.approx(ref["confid_weighted"][0], rel=CLOSED)
    assert r.ci_high == pytest.approx(ref["confid_weighted"][2], rel=CLOSED)
    assert "zero-width interval" in r.note
    # the FCE variance of the same table is a true variance: positive, no warning, no note
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = cohen_kappa(ref["a"], ref["b"], weights="quadratic")
    assert f.se > 0 and f.ci_low < f.estimate < f.ci_high and f.note == ""
    # unweighted: psych's own variance and interval
    u = cohen_kappa(ref["a"], ref["b"], se="psych")
    assert_rel([u.estimate, u.se**2, u.ci_low, u.ci_high],
               [ref["kappa"], ref["var_kappa"], ref["confid_unweighted"][0], ref["confid_unweighted"][2]], CLOSED)


def _expand(counts):
    a, b = [], []
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            a += [i] * int(counts[i, j])
            b += [j] * int(counts[i, j])
    return pd.Series(a, name="a"), pd.Series(b, name="b")


def test_cohen_1968_published_example():
    counts = np.round(np.array([[0.44, 0.07, 0.09], [0.05, 0.20, 0.05], [0.01, 0.03, 0.06]]) * 200).astype(int)
    a, b = _expand(counts)
    v = np.array([[0, 1, 3], [1, 0, 6], [3, 6, 0]], dtype=float)
    unweighted = cohen_kappa(a, b)
    weighted = cohen_kappa(a, b, weights=1 - v / v.max())
    assert round(unweighted.estimate, 3) == 0.492
    assert round(weighted.estimate, 3) == 0.348
    ref = REF["kappa"]["cohen68"]
    assert_rel([unweighted.estimate, weighted.estimate], [ref["kappa"], ref["weighted_kappa"]], CLOSED)


def test_cohen_kappa_undefined_and_bad_inputs():
    with pytest.warns(RuntimeWarning, match="undefined"):
        r = cohen_kappa([1, 1, 1, 1], [1, 1, 1, 1])
    assert np.isnan(r.estimate) and r.observed == 1
    # raters with disjoint category sets: no agreement, none expected -> kappa 0; all levels in the table
    d = cohen_kappa([1, 2, 1, 2], [3, 4, 4, 3])
    assert d.estimate == 0 and d.observed == 0 and d.expected == 0 and d.table.shape == (4, 4)
    assert np.isfinite(cohen_kappa([1, 2, 1, 2], [3, 4, 4, 3], weights="quadratic").estimate)
    with pytest.raises(InputError, match="different numbers"):
        cohen_kappa([1, 2, 3], [1, 2])
    with pytest.raises(InputError, match="mix numbers and text"):
        cohen_kappa([1, "low", 2], [1, 2, 2])
    with pytest.raises(InputError, match="not among levels"):
        cohen_kappa([1, 2, 3], [1, 2, 2], levels=[1, 2])
    with pytest.raises(InputError, match="agreement weights"):
        cohen_kappa([1, 2, 3], [1, 2, 2], weights=np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]]))
    with pytest.raises(InputError, match="at least 2 subjects"):
        cohen_kappa([1, np.nan, 3], [1, 2, np.nan])


def test_cohen_kappa_text_labels():
    r = cohen_kappa(["low", "high", "high", "low", "mid"], ["low", "high", "mid", "low", "mid"])
    assert r.levels == ("high", "low", "mid")
    assert np.isfinite(r.estimate)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=4, max_size=40),
    weights=st.sampled_from([None, "linear", "quadratic"]),
)
def test_kappa_symmetric_in_raters(data, weights):
    a = [p[0] for p in data]
    b = [p[1] for p in data]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        k1 = cohen_kappa(a, b, weights=weights, levels=[0, 1, 2, 3])
        k2 = cohen_kappa(b, a, weights=weights, levels=[0, 1, 2, 3])
    if np.isnan(k1.estimate):
        assert np.isnan(k2.estimate)
    else:
        assert k1.estimate == pytest.approx(k2.estimate, abs=1e-12)
        assert k1.se**2 == pytest.approx(k2.se**2, abs=1e-12)
        assert -1 - 1e-12 <= k1.estimate <= 1 + 1e-12  # rounding: -1.0000000000000004 for perfect disagreement


def test_agreement_table_lists_all_levels():
    tab = agreement_table(pd.Series([0, 0, 1, 1], name="first"), pd.Series([1, 2, 1, 2], name="second"))
    assert list(tab.index) == [0, 1, 2] and list(tab.columns) == [0, 1, 2]
    assert tab.index.name == "first" and tab.columns.name == "second"
    assert tab.to_numpy().sum() == 4 and tab.loc[0, 1] == 1 and tab.loc[2].sum() == 0
    tab5 = agreement_table([0, 1], [1, 0], levels=[0, 1, 2, 3, 4])
    assert tab5.shape == (5, 5)


# =========================================================================== multi-rater coefficients


def test_fleiss_1971_table():
    r = fleiss_kappa(FLEISS_1971)
    assert round(r.estimate, 3) == 0.430  # Fleiss (1971)
    assert r.estimate == pytest.approx(0.4302445, abs=5e-8)  # irr::kappam.fleiss
    assert r.z == pytest.approx(17.65183, abs=5e-6)
    assert r.p < 1e-50 and r.n == 30 and r.n_raters == 6 and r.n_categories == 5


def test_irrcac_published_examples():
    # cac.raw4raters (= Krippendorff 2011 data), irrCAC README
    ac1 = gwet_ac(KRIPPENDORFF_2011)
    assert round(ac1.estimate, 5) == 0.77544
    assert round(ac1.se, 5) == 0.14295
    assert (round(ac1.ci_low, 3), ac1.ci_high) == (0.461, 1.0)
    assert ac1.observed == pytest.approx(0.8181818, abs=5e-8)
    assert ac1.expected == pytest.approx(0.1903212, abs=5e-8)
    fk = fleiss_kappa(KRIPPENDORFF_2011)
    assert round(fk.estimate, 5) == 0.76117 and round(fk.se, 5) == 0.15302
    assert round(fk.ci_low, 3) == 0.424
    assert np.isnan(fk.se_null) and "different numbers" in fk.note
    pa = percent_agreement(KRIPPENDORFF_2011)
    assert pa.estimate == pytest.approx(0.8181818, abs=5e-8) and round(pa.se, 5) == 0.12561
    assert round(pa.ci_low, 3) == 0.542
    # distrib.6raters = the first 15 patients of Fleiss (1971), irrCAC README
    d15 = FLEISS_1971.iloc[:15]
    g = gwet_ac(d15)
    assert g.estimate == pytest.approx(0.4448007, abs=5e-8) and g.se == pytest.approx(0.08418757, abs=5e-9)
    assert (round(g.ci_low, 3), round(g.ci_high, 3)) == (0.264, 0.625)
    f = fleiss_kappa(d15)
    assert f.estimate == pytest.approx(0.4139265, abs=5e-8) and f.se == pytest.approx(0.08119291, abs=5e-9)
    assert krippendorff_alpha(d15, n_boot=0).estimate == pytest.approx(0.4204384, abs=5e-8)


@pytest.mark.parametrize("level, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_example(level, published):
    r = krippendorff_alpha(KRIPPENDORFF_2011, level, n_boot=300, seed=1)
    assert round(r.estimate, 3) == published
    assert r.n == 11  # unit 12 has a single value and is not pairable
    assert r.ci_low < r.estimate <= r.ci_high and r.se > 0
    if level == "nominal":
        assert round(r.estimate, 5) == 0.74342  # irrCAC


def test_krippendorff_bootstrap_deterministic_and_bad_inputs():
    a = krippendorff_alpha(FLEISS_1971, n_boot=500, seed=4)
    b = krippendorff_alpha(FLEISS_1971, n_boot=500, seed=4)
    assert (a.ci_low, a.ci_high, a.se) == (b.ci_low, b.ci_high, b.se)
    assert a.interval == "bootstrap" and a.boot_weights == "multinomial"
    with pytest.raises(InputError, match="same value"):
        krippendorff_alpha(pd.DataFrame({"a": [1, 1, 1], "b": [1, 1, 1]}), n_boot=0)
    with pytest.raises(InputError, match="no subject was rated by two"):
        krippendorff_alpha(pd.DataFrame({"a": [1, np.nan], "b": [np.nan, 2]}), n_boot=0)
    with pytest.raises(InputError, match="numeric ratings"):
        krippendorff_alpha(pd.DataFrame({"a": ["x", "y"], "b": ["x", "x"]}), "interval", n_boot=0)
    with pytest.raises(InputError, match="level must be one of"):
        krippendorff_alpha(FLEISS_1971, "circular")


def test_krippendorff_vectorised_bootstrap_equals_explicit_resampling():
    from veplab.reliability._agreement import _kripp_alpha_from_sums, _kripp_features
    from veplab.reliability._common import encode_categories

    for level in ("nominal", "ordinal", "interval", "ratio"):
        codes, lv = encode_categories(KRIPPENDORFF_2011, what="t")
        values = np.arange(len(lv), dtype=float) if level == "nominal" else np.asarray(lv, float)
        feats, pair = _kripp_features(codes, values, level)
        sums = _boot.resampled_sums(feats, 3, np.random.default_rng(8), "multinomial")
        vals, _, _ = _kripp_alpha_from_sums(sums, values, level)
        w = _boot._multinomial_weights(np.random.default_rng(8), 3, int(pair.sum()))
        units = KRIPPENDORFF_2011.loc[pair]
        for b in range(3):
            direct = krippendorff_alpha(_explicit_resample(units.to_numpy(), w[b]), level, n_boot=0)
            assert vals[b] == pytest.approx(direct.estimate, rel=1e-10), level


def test_gwet_weights_and_bad_inputs():
    unw = gwet_ac(KRIPPENDORFF_2011)
    ident = gwet_ac(KRIPPENDORFF_2011, np.eye(5))
    assert ident.estimate == pytest.approx(unw.estimate, rel=1e-12) and ident.se == pytest.approx(unw.se, rel=1e-12)
    q = gwet_ac(KRIPPENDORFF_2011, "quadratic")
    assert q.coefficient == "Gwet's AC2" and q.estimate > unw.estimate
    with pytest.raises(InputError, match="single category"):
        gwet_ac(pd.DataFrame({"a": [1, 1, 1], "b": [1, 1, 1]}))
    assert gwet_ac(pd.DataFrame({"a": [1, 1, 1], "b": [1, 1, 1]}), levels=[0, 1]).estimate == pytest.approx(1.0)
    with pytest.raises(InputError, match="at least 2 raters"):
        gwet_ac(FLEISS_1971[["psychiatrist1"]])
    with pytest.raises(InputError, match=r"\['psychiatrist2'\] gave no ratings"):
        fleiss_kappa(FLEISS_1971.assign(psychiatrist2=np.nan))
    with pytest.warns(RuntimeWarning, match="undefined"):
        r = fleiss_kappa(pd.DataFrame({"a": [2, 2, 2], "b": [2, 2, 2]}))
    assert np.isnan(r.estimate)


def test_percent_agreement_two_raters_and_tolerance(two):
    ab = two[["rater_a", "rater_b"]]
    both = ab.dropna()
    r = percent_agreement(ab)
    assert r.estimate == pytest.approx((both["rater_a"] == both["rater_b"]).mean())
    assert r.n == len(ab)  # subjects with one rating count in n but not in the agreement
    tol = percent_agreement(ab, tolerance=1)
    assert tol.estimate == pytest.approx(((both["rater_a"] - both["rater_b"]).abs() <= 1).mean())


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)), min_size=5, max_size=30))
def test_krippendorff_nominal_invariant_to_relabelling(rows):
    df = pd.DataFrame(rows, columns=["a", "b", "c"])
    if df.stack().nunique() < 2:
        return
    relabel = {1: "w", 2: "x", 3: "y", 4: "z"}
    a1 = krippendorff_alpha(df, n_boot=0).estimate
    a2 = krippendorff_alpha(df.replace(relabel), n_boot=0).estimate
    assert a1 == pytest.approx(a2, abs=1e-12)


# =========================================================================== report


def _tool_codebook():
    opts3 = {0: {"en": "low"}, 1: {"en": "moderate"}, 2: {"en": "high"}}
    lik = {i: {"en": str(i)} for i in range(1, 6)}
    items = [
        {"id": "rating_id", "label": "Rating", "type": "text", "role": "admin"},
        {"id": "case_id", "label": "Case", "type": "text", "role": "admin"},
        {"id": "rater", "label": "Rater", "type": "text", "role": "admin"},
    ]
    for i in range(1, 5):
        items.append({"id": f"d_{i}", "label": f"Indicator {i}", "type": "ordinal", "options": opts3, "missing": {9: "refused"}})
    items.append({"id": "rare", "label": "Rare indicator", "type": "binary", "options": {0: {"en": "no"}, 1: {"en": "yes"}}})
    items.append({"id": "final", "label": "Final judgement", "type": "ordinal", "options": opts3, "role": "outcome"})
    for i in range(1, 5):
        items.append(
            {"id": f"s_{i}", "label": f"Survey item {i}", "type": "likert", "options": lik,
             "missing": {8: "dont_know", 9: "refused"}, "reverse": i == 4}
        )
    return from_dict(
        {
            "id": "toy_tool",
            "title": "Toy tool",
            "unit": "rating",
            "id_column": "rating_id",
            "design": {"subject": "case_id", "rater": "rater", "judgement": "final"},
            "items": items,
            "scales": [
                {"id": "domain", "items": ["d_1", "d_2", "d_3", "d_4"], "score": "sum"},
                {"id": "survey", "items": ["s_1", "s_2", "s_3", "s_4"]},
            ],
        }
    )


def _tool_data(n_cases=120, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    latent = rng.normal(size=n_cases)
    for c in range(n_cases):
        rare = int(rng.random() < 0.04)
        for rater in ("A", "B"):
            row = {"rating_id": f"r{c}{rater}", "case_id": f"c{c:03d}", "rater": rater}
            for i in range(1, 5):
                row[f"d_{i}"] = int(np.clip(np.round(latent[c] * 0.9 + rng.normal(0, 0.45) + 1), 0, 2))
            # rare indicator: raters agree on "no" almost always, rarely on "yes"
            row["rare"] = rare if rng.random() < 0.6 else 0
            row["final"] = int(np.clip(np.round(latent[c] + rng.normal(0, 0.3) + 1), 0, 2))
            for i in range(1, 5):
                v = int(np.clip(np.round(3 + latent[c] + rng.normal(0, 0.8)), 1, 5))
                row[f"s_{i}"] = 6 - v if i == 4 else v
            rows.append(row)
    df = pd.DataFrame(rows)
    df.loc[[3, 17, 40], "s_2"] = 8
    df.loc[[5, 9], "s_3"] = 9
    df.loc[[11], "d_2"] = 9
    return df


def test_reliability_report_two_rater_tool():
    cb = _tool_codebook()
    df = _tool_data()
    rep = reliability_report(df, cb, n_boot=100, seed=1)
    frames = rep.to_frames()
    assert set(frames) == {"scales", "items", "agreement", "notes"}
    scales = rep.scales.set_index("scale")
    first = df.sort_values(["case_id", "rater"]).drop_duplicates("case_id")
    # the survey scale: reverse-keyed s_4 reversed, codes 8/9 missing
    survey = first[[f"s_{i}" for i in range(1, 5)]].astype(float).replace({8: np.nan, 9: np.nan})
    survey["s_4"] = 6 - survey["s_4"]
    assert scales.loc["survey", "alpha"] == pytest.approx(alpha(survey).estimate, rel=1e-12)
    assert scales.loc["survey", "n"] == 120 and scales.loc["survey", "alpha"] > 0.8
    assert np.isfinite(scales.loc["domain", "omega_total"]) and np.isnan(scales.loc["domain", "omega_h"])
    items = rep.items.set_index("item")
    assert items.loc["s_2", "share_dont_know"] == pytest.approx(df.index[[3, 17, 40]].isin(first.index).sum() / 120)
    agr = rep.agreement.set_index("item")
    assert list(agr.index) == ["d_1", "d_2", "d_3", "d_4", "rare", "final", "s_1", "s_2", "s_3", "s_4"]
    assert agr.loc["final", "role"] == "judgement"
    assert agr.loc["d_1", "kappa_weights"] == "quadratic" and agr.loc["rare", "kappa_weights"] == "unweighted"
    wide = long_to_wide(df, "case_id", "rater", "final")
    assert agr.loc["final", "kappa"] == pytest.approx(
        cohen_kappa(wide["A"], wide["B"], weights="quadratic", levels=[0, 1, 2]).estimate, rel=1e-12
    )
    assert agr.loc["final", "icc"] == pytest.approx(icc(wide).estimate, rel=1e-12)
    assert agr.loc["final", "icc_form"] == "ICC(A,1)"
    # the rare item: high observed agreement, low kappa -> flagged
    assert agr.loc["rare", "percent_agreement"] > 0.9
    assert bool(agr.loc["rare", "prevalence_paradox"]) and "paradox" in agr.loc["rare", "note"]
    assert agr.loc["rare", "ac1"] > agr.loc["rare", "kappa"]
    assert np.isnan(agr.loc["rare", "icc"])
    assert "first rating" in " ".join(rep.notes)
    assert "Reliability of toy_tool" in rep.summary()


def test_reliability_report_survey_without_design_and_problems():
    df = _tool_data()
    df["s_1"] = 3  # constant item: the survey scale cannot be analysed
    plain = from_dict(_raw_without_design())
    rep = reliability_report(df, plain, n_boot=0)
    row = rep.scales.set_index("scale").loc["survey"]
    assert np.isnan(row["alpha"]) and "constant" in row["note"]
    assert rep.agreement.empty  # no rating design
    with pytest.raises(InputError, match="Codebook"):
        reliability_report(df, {"id": "x"})
    with pytest.raises(InputError, match="both subject and rater"):
        reliability_report(df, plain, subject="case_id")
    with pytest.raises(InputError, match="'assessor'"):
        reliability_report(df, plain, subject="case_id", rater="assessor")


def test_reliability_report_on_loaded_data(tmp_path):
    """Data through veplab.data.load (ordered categoricals, recorded missing reasons, reverse=True)."""
    from veplab.data import load

    cb = _tool_codebook()
    df = _tool_data()
    path = tmp_path / "toy.csv"
    df.to_csv(path, index=False)
    raw = reliability_report(df, cb, n_boot=0)
    for reverse in (False, True):
        loaded = load(path, cb, reverse=reverse)
        assert isinstance(loaded["d_1"].dtype, pd.CategoricalDtype)
        rep = reliability_report(loaded, cb, n_boot=0)
        pd.testing.assert_series_equal(rep.scales["alpha"], raw.scales["alpha"], rtol=1e-12)
        got = rep.items.set_index("item")
        assert got.loc["s_2", "share_dont_know"] == pytest.approx(1 / 120)
        pd.testing.assert_series_equal(rep.agreement["kappa"], raw.agreement["kappa"], rtol=1e-12)


# --------------------------------------------------------------- keyed knowledge items: KR-20


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quiz():
    """The demo's eight keyed knowledge items (surveys/staff_training.yml) as raw option codes, 8 = "I don't know"."""
    from veplab.codebook import load

    return pd.read_csv(DATA / "reliability_knowledge.csv", index_col=0), load(ROOT / "surveys" / "staff_training.yml")


def test_kr20_of_keyed_quiz_matches_psych(quiz):
    """alpha of the scored 0/1 items is KR-20: psych::alpha on the scored items, and the KR-20 formula."""
    from veplab.scoring import scored_items

    raw, cb = quiz
    ref = REF["knowledge"]
    x = scored_items(raw, cb, ref["items"])
    assert set(np.unique(x.to_numpy()[x.notna().to_numpy()])) == {0.0, 1.0}
    assert x.isna().sum().sum() == raw.isna().sum().sum() > 0  # blank answers stay missing
    dk = raw.eq(8).to_numpy()
    assert dk.any() and (x.to_numpy()[dk] == 0).all()  # "I don't know" (an answer option here) scores 0
    res = alpha(x)
    assert res.kr20 and res.name == "KR-20" and res.summary().startswith("KR-20 = ")
    tot = ref["alpha"]["total"]
    assert_rel([res.estimate, res.std_alpha, res.average_r, res.ase, res.mean, res.sd],
               [tot[k] for k in ("raw_alpha", "std.alpha", "average_r", "ase", "mean", "sd")], CLOSED, "totals")
    s = ref["alpha"]["item_stats"]
    for col, key in [("r_drop", "r.drop"), ("r_cor", "r.cor"), ("mean", "mean"), ("sd", "sd")]:
        assert_rel(res.items[col], s[key], CLOSED, col)
    assert_rel(res.items["alpha_if_deleted"], ref["alpha"]["alpha_drop"]["raw_alpha"], CLOSED, "alpha if deleted")
    assert_rel(res.items["mean"], ref["share_correct"], CLOSED, "share correct")
    complete = alpha(x, missing="listwise")
    assert complete.n == ref["kr20"]["n"] == ref["alpha_complete"]["n"]
    assert_rel(complete.estimate, ref["kr20"]["kr20"], CLOSED, "KR-20 formula")
    assert_rel(complete.estimate, ref["alpha_complete"]["total"]["raw_alpha"], CLOSED, "psych on complete rows")
    with pytest.warns(UserWarning, match="correlate negatively"):  # raw option codes mean nothing
        assert not alpha(raw).kr20


def test_reliability_report_scores_keyed_items(quiz):
    """reliability_report on a codebook with keyed items: alpha = KR-20, r.drop and means on the scored items."""
    raw, cb = quiz
    ref = REF["knowledge"]
    rep = reliability_report(raw, cb, n_boot=0)
    assert list(rep.scales["scale"]) == ["knowledge"]  # the codebook's other scales are not in these data
    row = rep.scales.set_index("scale").loc["knowledge"]
    assert row["coefficient"] == "KR-20" and bool(row["kr20"])
    assert_rel(row["alpha"], ref["alpha"]["total"]["raw_alpha"], CLOSED, "KR-20")
    assert row["n"] == ref["alpha"]["n"] and row["k"] == 8
    assert 0 < row["omega_total"] < 1
    items = rep.items.set_index("item").loc[ref["items"]]
    assert_rel(items["r_drop"], ref["alpha"]["item_stats"]["r.drop"], CLOSED, "r.drop")
    assert_rel(items["mean"], ref["share_correct"], CLOSED, "share correct")
    assert (items["mean"] <= 1).all()
    assert_rel(items["alpha_if_deleted"], ref["alpha"]["alpha_drop"]["raw_alpha"], CLOSED, "alpha if deleted")
    # an answer that is neither an option nor a missing code cannot be scored: the scale is skipped, saying why
    bad = raw.copy()
    bad.iloc[0, 0] = 7
    skipped = reliability_report(bad, cb, n_boot=0)
    assert skipped.scales.empty and "column 'st_knowledge_1'" in " ".join(skipped.notes)
    # a Likert scale keeps the name Cronbach's alpha
    other = reliability_report(_tool_data(), from_dict(_raw_without_design()), n_boot=0)
    assert set(other.scales["coefficient"]) == {"Cronbach's alpha"} and not other.scales["kr20"].any()


def _raw_without_design():
    cb = _tool_codebook()
    return {
        "id": cb.id,
        "title": "Toy tool",
        "unit": "rating",
        "id_column": "rating_id",
        "items": [
            {"id": it.id, "label": it.label["en"], "type": it.type, "role": it.role, "reverse": it.reverse,
             **({"options": {k: dict(v) for k, v in it.options.items()}} if it.options else {}),
             **({"missing": dict(it.missing)} if it.missing else {})}
            for it in cb.items
        ],
        "scales": [{"id": sc.id, "items": list(sc.items)} for sc in cb.scales],
    }


# =========================================================================== plots


def test_plots_return_axes(items, two):
    import matplotlib.pyplot as plt

    res = alpha(items)
    ax = plot_item_stats(res)
    assert len(ax.patches) == res.k
    assert ax.get_legend() is not None
    ax2 = item_analysis(items).plot()
    assert [t.get_text() for t in ax2.get_yticklabels()][0] == "it1"
    fig, ax3 = plt.subplots()
    out = plot_agreement(two["rater_a"], two["rater_b"], ax=ax3)
    assert out is ax3 and len(ax3.texts) == 9
    assert ax3.get_xlabel() == "rater_b"
    with pytest.raises(InputError, match="item_analysis"):
        plot_item_stats(pd.DataFrame({"x": [1]}))
    plt.close("all")


def test_items_never_answered_together():
    df = pd.DataFrame(
        {"a": [1, 2, 3, np.nan, np.nan, np.nan], "b": [np.nan, np.nan, np.nan, 1, 2, 4], "c": [1, 2, 2, 1, 3, 4]}
    )
    with pytest.raises(InputError, match="'a' and 'b' are answered together by fewer than 2"):
        alpha(df)
    with pytest.raises(InputError, match="'a' and 'b'"):
        omega(df, n_boot=0)


def test_cohen_kappa_accepts_a_two_column_frame(two):
    ab = two[["rater_a", "rater_b"]]
    assert cohen_kappa(ab).estimate == cohen_kappa(ab["rater_a"], ab["rater_b"]).estimate
    with pytest.raises(InputError, match="exactly two columns"):
        cohen_kappa(two)


def test_reml_equals_anova_on_complete_balanced_data(five):
    """REML variance components of a balanced design are the ANOVA estimates (when positive)."""
    anova = icc(five).table
    res = icc(five, method="reml")
    reml = res.table
    assert res.method == "reml"
    for col in ("icc", "F", "ci_low", "ci_high"):
        assert_rel(reml[col], anova[col].to_numpy(), 1e-6, col)
    assert_rel(icc(SHROUT_FLEISS, method="reml").table["icc"], icc(SHROUT_FLEISS).table["icc"].to_numpy(), 1e-6)


def test_report_skips_a_scale_nobody_answered():
    """A scale asked only at another wave (e.g. reaction items after training) is skipped with a note."""
    from veplab.codebook import from_dict
    from veplab.reliability import reliability_report

    likert = {i: f"o{i}" for i in range(1, 6)}
    cb = from_dict({
        "id": "w", "title": "t", "id_column": "rid",
        "items": [{"id": "rid", "label": "id", "type": "text", "role": "admin"}]
        + [{"id": f"a{i}", "label": "a", "type": "likert", "options": likert} for i in range(3)]
        + [{"id": f"b{i}", "label": "b", "type": "likert", "options": likert} for i in range(3)],
        "scales": [{"id": "a", "items": ["a0", "a1", "a2"]}, {"id": "b", "items": ["b0", "b1", "b2"]}],
    })
    rng = np.random.default_rng(0)
    latent = rng.normal(size=200)
    df = pd.DataFrame({f"a{i}": np.clip(np.round(3 + latent + rng.normal(size=200)), 1, 5) for i in range(3)})
    for i in range(3):
        df[f"b{i}"] = np.nan
    df["rid"] = [f"r{i}" for i in range(200)]
    rr = reliability_report(df, cb, n_boot=50, seed=1)
    assert list(rr.scales["scale"]) == ["a"]
    assert any("'b'" in n and "no answers" in n for n in rr.notes)


# =========================================================================== raters drawn from a pool, three or more raters
#
# reliability_pool_raters.csv: 40 cases, three of five assessors each (four cases kept two), a
# 4-point ordinal rating; reliability_three_raters_ordinal.csv: 30 cases, the same three assessors,
# a 7-point ordinal rating.  The R fixture (reliability.R, "raters") holds psych::ICC, the one-way
# ANOVA of anova(lm(y ~ case)) and Krippendorff's alpha written out from Krippendorff (2011).
# irr and irrCAC are not in Debian, so their values on these data were computed once (irr 0.84.1,
# irrCAC 1.0, R 4.x) and are quoted here:
#   pool:  irrCAC fleiss.kappa.raw 0.41446 (SE 0.08548, CI 0.242-0.587), gwet.ac1.raw 0.468
#          (SE 0.07575, CI 0.315-0.621), pa.coeff.raw 0.591666666666667 (SE 0.05784),
#          krippen.alpha.raw 0.4218; irr::kripp.alpha nominal 0.421801454856654,
#          ordinal 0.733082654444245, interval 0.733104344597104.
#   seven: irrCAC fleiss.kappa.raw 0.06823 (SE 0.05446), gwet.ac1.raw 0.20683 (SE 0.06053),
#          krippen.alpha.raw 0.07858; irr::kappam.fleiss 0.0682.  irr::kripp.alpha gives
#          ordinal 0.549802273899956 (nominal 0.0785811269517991, interval 0.560102807433768) once
#          an empty unit is appended: on complete data irr 0.84.1 divides each unit's pairs by 1
#          instead of m_u - 1 (its `mc` is set to 1 when nothing is missing), so its values on
#          complete data with three raters (0.547273) differ from Krippendorff's definition and irrCAC.

RATERS = REF["raters"]


@pytest.fixture(scope="module")
def pool():
    return pd.read_csv(DATA / "reliability_pool_raters.csv", index_col=0)


@pytest.fixture(scope="module")
def seven():
    return pd.read_csv(DATA / "reliability_three_raters_ordinal.csv", index_col=0)


def test_icc_oneway_matches_anova_and_psych(pool):
    from veplab.reliability import icc_oneway

    ref = RATERS["pool_oneway"]
    res = icc_oneway(pool)  # unbalanced: 36 cases with three ratings, 4 with two
    t = res.table
    assert res.form == "ICC1" and res.estimate == t.loc["ICC1", "icc"] and res.ci_high == t.loc["ICC1", "ci_high"]
    assert icc_oneway(pool, form="ICC1k").estimate == pytest.approx(ref["icc1k"], rel=CLOSED)
    assert_rel(t.loc["ICC1", ["icc", "F", "df1", "df2", "ci_low", "ci_high"]].to_numpy(dtype=float),
               [ref["icc1"], ref["F"], ref["df1"], ref["df2"], ref["lower"], ref["upper"]], CLOSED, "ICC1")
    assert_rel(t.loc["ICC1k", ["icc", "ci_low", "ci_high"]].to_numpy(dtype=float),
               [ref["icc1k"], ref["lower_k"], ref["upper_k"]], CLOSED, "ICC1k")
    assert res.k == pytest.approx(ref["m0"], rel=CLOSED) and res.n == 40 and res.n_ratings == 116
    assert res.mean_squares["MSW"] == pytest.approx(ref["msw"], rel=CLOSED)
    r90 = RATERS["pool_oneway90"]
    assert_rel(icc_oneway(pool, ci=0.90).table.loc["ICC1", ["ci_low", "ci_high"]].to_numpy(dtype=float),
               [r90["lower"], r90["upper"]], CLOSED, "90%")
    # balanced (every case three ratings): psych::ICC's ICC1 and ICC1k exactly
    full = pool[pool.notna().sum(axis=1) == 3]
    slots = pd.DataFrame([r.dropna().to_numpy() for _, r in full.iterrows()], index=full.index)
    psych = RATERS["pool_balanced_icc"]
    got = icc_oneway(slots).table
    for form, i in (("ICC1", 0), ("ICC1k", 3)):
        assert_rel(got.loc[form, ["icc", "ci_low", "ci_high"]].to_numpy(dtype=float),
                   [psych["ICC"][i], psych["lower bound"][i], psych["upper bound"][i]], CLOSED, form)
    # a case with one rating carries no agreement: left out
    one = pool.copy()
    one.iloc[0, 1:] = np.nan  # K01 keeps a single rating
    assert icc_oneway(one).n_dropped == 1 and icc_oneway(one).n == 39
    with pytest.raises(InputError, match="no within-subject variance"):
        icc_oneway(pd.DataFrame({"a": [1, 2, 3], "b": [1, 2, 3]}))


@pytest.mark.parametrize("data", ["pool", "seven"])
def test_krippendorff_and_multirater_coefficients_match_r(data, request):
    x = request.getfixturevalue(data)
    for level in ("nominal", "ordinal", "interval"):
        ref = RATERS[f"{data}_kripp"][level]
        r = krippendorff_alpha(x, level, n_boot=0)
        assert r.estimate == pytest.approx(ref["alpha"], rel=CLOSED), level
    irrcac = {"pool": {"fleiss": (0.41446, 0.08548), "ac1": (0.468, 0.07575), "pa": (0.5916666666666667, 0.05784)},
              "seven": {"fleiss": (0.06823, 0.05446), "ac1": (0.20683, 0.06053), "pa": (0.3222222222222222, 0.04922)}}
    for name, fn in (("fleiss", fleiss_kappa), ("ac1", gwet_ac), ("pa", percent_agreement)):
        est, se = irrcac[data][name]
        r = fn(x)
        assert r.estimate == pytest.approx(est, abs=5e-6 if name != "pa" else 1e-12), name
        assert r.se == pytest.approx(se, abs=5e-6), name
    if data == "pool":  # irr::kripp.alpha, with missing ratings
        assert krippendorff_alpha(x, "ordinal", n_boot=0).estimate == pytest.approx(0.733082654444245, abs=1e-12)


def _rating_codebook(levels, judgement_levels=None):
    opts = {c: {"en": f"level {c}"} for c in levels}
    items = [{"id": "rid", "label": "Rating", "type": "text", "role": "admin"},
             {"id": "case", "label": "Case", "type": "text", "role": "admin"},
             {"id": "assessor", "label": "Assessor", "type": "text", "role": "admin"},
             {"id": "rating", "label": "Rating", "type": "ordinal", "options": opts}]
    return from_dict({"id": "rated", "title": "Rated", "id_column": "rid", "items": items})


def _long(wide):
    long = wide.stack().rename("rating").reset_index()
    long.columns = ["case", "assessor", "rating"]
    long["rid"] = [f"g{i}" for i in range(len(long))]
    return long


def test_report_pool_of_assessors(pool):
    """Three of five assessors per case: Fleiss, AC1, Krippendorff (ordinal), one-way ICC(1)."""
    long = _long(pool)
    # an export with a row for every assessor of the pool, empty where they did not rate: still a pool
    padded = long.set_index(["case", "assessor"]).reindex(
        pd.MultiIndex.from_product([pool.index, pool.columns], names=["case", "assessor"])).reset_index()
    padded["rid"] = [f"p{i}" for i in range(len(padded))]
    cb = _rating_codebook(range(4))
    for data in (long, padded):
        rr = reliability_report(data, cb, subject="case", rater="assessor", judgement="rating", n_boot=200, seed=3)
        assert rr.design == {"n_cases": 40, "n_raters": 5, "min_per_case": 2, "max_per_case": 3, "crossed": False,
                             "kind": "pool"}
        row = rr.agreement.set_index("item").loc["rating"]
        assert row["role"] == "judgement" and row["n"] == 40 and row["ratings_per_case"] == "2-3"
        assert row["kappa_weights"] == "unweighted (Fleiss)"
        assert row["kappa"] == pytest.approx(0.41446, abs=5e-6)  # irrCAC fleiss.kappa.raw
        assert row["ac1"] == pytest.approx(0.468, abs=5e-6)  # irrCAC gwet.ac1.raw
        assert row["percent_agreement"] == pytest.approx(0.5916666666666667, abs=1e-12)
        assert row["kripp_level"] == "ordinal"
        assert row["kripp_alpha"] == pytest.approx(RATERS["pool_kripp"]["ordinal"]["alpha"], rel=CLOSED)
        assert row["kripp_ci_low"] < row["kripp_alpha"] < row["kripp_ci_high"]
        assert row["icc_form"] == "ICC(1)" and np.isnan(row["icc_c"])
        assert row["icc"] == pytest.approx(RATERS["pool_oneway"]["icc1"], rel=CLOSED)
        assert row["icc_ci_low"] == pytest.approx(RATERS["pool_oneway"]["lower"], rel=CLOSED)


def test_report_three_fixed_assessors_seven_points(seven):
    """The same three assessors rate every case: two-way ICC(A,1) and ICC(C,1) as psych, 7-point ordinal."""
    cb = _rating_codebook(range(1, 8))
    rr = reliability_report(_long(seven), cb, subject="case", rater="assessor", n_boot=100, seed=1)
    assert rr.design["kind"] == "crossed" and rr.design["n_raters"] == 3
    row = rr.agreement.set_index("item").loc["rating"]
    psych = RATERS["seven_icc"]
    assert row["icc_form"] == "ICC(A,1)"
    assert row["icc"] == pytest.approx(psych["ICC"][1], rel=CLOSED)
    assert (row["icc_ci_low"], row["icc_ci_high"]) == (pytest.approx(psych["lower bound"][1], rel=CLOSED),
                                                      pytest.approx(psych["upper bound"][1], rel=CLOSED))
    assert row["icc_c"] == pytest.approx(psych["ICC"][2], rel=CLOSED)
    assert row["icc_c_ci_low"] == pytest.approx(psych["lower bound"][2], rel=CLOSED)
    assert row["kappa"] == pytest.approx(0.06823, abs=5e-6)  # irrCAC / irr::kappam.fleiss
    assert row["kripp_alpha"] == pytest.approx(RATERS["seven_kripp"]["ordinal"]["alpha"], rel=CLOSED)
    assert row["levels"] == "1, 2, 3, 4, 5, 6, 7" and row["ratings_per_case"] == "3"


def test_report_two_ratings_from_a_pool_pairs_first_and_second():
    """Two ratings per case from a pool: Cohen's weighted kappa on first/second, one-way ICC(1)."""
    rng = np.random.default_rng(5)
    rows = []
    for c in range(60):
        true = rng.integers(0, 5)
        for a in sorted(rng.choice(6, size=2, replace=False)):
            rows.append({"rid": f"x{len(rows)}", "case": f"c{c:02d}", "assessor": f"as{a}",
                         "rating": int(np.clip(true + rng.integers(-1, 2), 0, 4))})
    df = pd.DataFrame(rows)
    rr = reliability_report(df, _rating_codebook(range(5)), subject="case", rater="assessor", n_boot=0)
    assert rr.design["kind"] == "pool" and rr.design["max_per_case"] == 2
    row = rr.agreement.set_index("item").loc["rating"]
    wide = paired_ratings(df, "rating", "case", "assessor")
    assert list(wide.columns) == ["first", "second"]
    assert row["kappa_weights"] == "quadratic"
    assert row["kappa"] == pytest.approx(cohen_kappa(wide["first"], wide["second"], weights="quadratic",
                                                     levels=list(range(5))).estimate, rel=1e-12)
    from veplab.reliability import icc_oneway

    assert row["icc_form"] == "ICC(1)"
    assert row["icc"] == pytest.approx(icc(wide, form="ICC1").estimate, rel=1e-10)  # balanced: psych's ICC1
    assert row["icc"] == pytest.approx(icc_oneway(wide).estimate, rel=1e-12)


def test_case_agreement_and_rating_design_errors(pool):
    from veplab.reliability import case_agreement, rating_design

    long = _long(pool)
    wide = paired_ratings(long, "rating", "case", "assessor")
    assert list(wide.columns) == ["first", "second", "third"]
    assert wide.loc["K01"].tolist() == [1, 2, 1] and np.isnan(wide.loc["K05", "third"])
    ca = case_agreement(wide)
    assert len(ca) == 40 and ca.loc["K03", "unanimous"] and ca.loc["K03", "majority"] == 1
    assert ca.loc["K01", "majority"] == 1 and not ca.loc["K01", "unanimous"]
    # the majority is more than half of the case's ratings
    for case, r in ca.iterrows():
        v = wide.loc[case].dropna()
        if r["majority"] == r["majority"]:
            assert (v == r["majority"]).sum() * 2 > len(v)
        else:
            assert v.value_counts().iloc[0] * 2 <= len(v)
    first = long[long["case"] == "K01"].iloc[:1]  # (K01, a1, NaN) with pandas 3's stack, (K01, a2) with 2.x
    with pytest.raises(InputError, match=rf"more than once: \('K01', '{first['assessor'].iloc[0]}'\)"):
        rating_design(pd.concat([long, first]), "case", "assessor")
    with pytest.raises(InputError, match="'judge'"):
        rating_design(long, "case", "judge")


# =========================================================================== alpha keys (psych keys / check.keys)

KEYS_REF = json.loads((REF_DIR / "alpha_keys.json").read_text())


def _reversed(df, cols=("it2", "it5")):
    out = df.copy()
    for c in cols:
        out[c] = 6 - out[c]
    return out


def _assert_alpha_like_psych(res, ref):
    tot = ref["total"]
    assert_rel(
        [res.estimate, res.std_alpha, res.g6_smc, res.average_r, res.signal_noise, res.ase, res.mean, res.sd, res.median_r],
        [tot[k] for k in ("raw_alpha", "std.alpha", "G6(smc)", "average_r", "S/N", "ase", "mean", "sd", "median_r")],
        CLOSED,
        "totals",
    )
    assert_rel([res.feldt_low, res.feldt_high], [ref["feldt"]["lower"], ref["feldt"]["upper"]], CLOSED, "Feldt")
    t, s, d = res.items, ref["item_stats"], ref["alpha_drop"]
    assert list(t.index) == s[".rownames"] == d[".rownames"]
    assert list(res.keys) == ref["keys"]
    for col, key in [("raw_r", "raw.r"), ("std_r", "std.r"), ("r_cor", "r.cor"), ("r_drop", "r.drop"), ("mean", "mean"), ("sd", "sd")]:
        assert_rel(t[col], s[key], CLOSED, col)
    for col, key in [("alpha_if_deleted", "raw_alpha"), ("g6_if_deleted", "G6(smc)"), ("alpha_se_if_deleted", "alpha se"),
                     ("var_r_if_deleted", "var.r"), ("median_r_if_deleted", "med.r")]:
        assert_rel(t[col], d[key], CLOSED, col)


@pytest.mark.parametrize("name, data", [("check_keys", "items"), ("check_keys_missing", "items_missing")])
def test_alpha_check_keys_matches_psych(name, data, request):
    df = _reversed(request.getfixturevalue(data))
    with pytest.warns(UserWarning, match=r"\['it2', 'it5'\].*reversed"):
        res = alpha(df, check_keys=True)
    assert KEYS_REF[name]["warned"]
    _assert_alpha_like_psych(res, KEYS_REF[name])
    # reversing the reversed items gives back the scale as stored originally
    assert res.estimate == pytest.approx(alpha(request.getfixturevalue(data)).estimate, rel=1e-12)


def test_alpha_check_keys_reverses_with_the_range_of_all_items(items):
    df = _reversed(items)
    df["it9"] = 2 * df["it9"]
    with pytest.warns(UserWarning, match="reversed"):
        res = alpha(df, check_keys=True)
    _assert_alpha_like_psych(res, KEYS_REF["check_keys_ranges"])
    # it2 read as 11 - (6 - x): its mean moves by 5 from the original
    assert res.items.loc["it2-", "mean"] == pytest.approx(items["it2"].mean() + 5, rel=1e-12)


@pytest.mark.parametrize("name, data", [("keys_vector", "items"), ("keys_vector_missing", "items_missing")])
def test_alpha_keys_vector_matches_psych(name, data, request):
    df = _reversed(request.getfixturevalue(data))
    res = alpha(df, keys=[1, -1, 1, 1, -1, 1, 1, 1, 1])
    _assert_alpha_like_psych(res, KEYS_REF[name])


def test_alpha_keys_names_select_and_reverse_like_psych_list(items):
    df = _reversed(items)
    res = alpha(df, keys=["it1", "-it2", "it3", "it4", "-it5"])
    assert res.k == 5
    _assert_alpha_like_psych(res, KEYS_REF["keys_list"])
    # the bootstrap resamples the keyed items
    boot = alpha(df, keys=["it1", "-it2", "it3", "it4", "-it5"], method="bootstrap", n_boot=200, seed=1)
    assert boot.ci_low < res.estimate < boot.ci_high


def test_alpha_without_keys_lists_items_unreversed(items):
    res = alpha(items)
    assert res.keys == tuple(items.columns)
    assert not any(i.endswith("-") for i in res.items.index)


def test_alpha_keys_bad_input(items):
    with pytest.raises(InputError, match="not among the items"):
        alpha(items, keys=["it1", "-nope"])
    with pytest.raises(InputError, match=r"\+1 or -1 for each of the 9 items"):
        alpha(items, keys=[1, -1])
    with pytest.raises(InputError, match=r"\+1 or -1"):
        alpha(items, keys=[1, 2, 1, 1, 1, 1, 1, 1, 1])
    with pytest.raises(InputError, match="more than once"):
        alpha(items, keys=["it1", "-it1", "it2"])
    with pytest.raises(InputError, match="string"):
        alpha(items, keys="-it2")


# =========================================================================== fast paths (issue 17)


def test_numeric_frame_converts_mixed_columns_like_one_at_a_time():
    from veplab._validate import _column_to_float, numeric_frame

    df = pd.DataFrame(
        {
            "i": [1, 2, 3, 4],
            "f": [0.5, np.nan, 2.0, 1.0],
            "b": [True, False, True, True],
            "c": pd.Categorical([2, None, 5, 2], categories=[2, 5]),
            "s": ["1", "2", None, "4"],
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
        },
        index=[10, 11, 12, 13],
    )
    out = numeric_frame(df, what="t")
    expected = pd.DataFrame({c: _column_to_float(df[c], c, "t") for c in df.columns}, index=df.index)
    pd.testing.assert_frame_equal(out, expected)
    out.iloc[0, 0] = 99.0  # the result owns its data: the input is untouched
    assert df.iloc[0, 0] == 1
    f = df[["f"]].copy()
    g = numeric_frame(f, what="t")
    g.iloc[0, 0] = 7.0
    assert f.iloc[0, 0] == 0.5
    with pytest.raises(InputError, match=r"column 's' has 1 non-numeric values \(row 12\)"):
        numeric_frame(df.assign(s=["1", "2", "x", "4"]), what="t")
    with pytest.raises(InputError, match=r"\['e'\] have no non-missing values"):
        numeric_frame(df.assign(e=np.nan), what="t")
    with pytest.raises(InputError, match=r"\['k'\] are constant"):
        numeric_frame(df.assign(k=[3, 3, np.nan, 3]), what="t", allow_constant=False)
    arr = numeric_frame(np.array([[1, 2], [3, 4]]), what="t", column_label="item")
    assert list(arr.columns) == ["item1", "item2"] and arr.to_numpy().dtype == np.float64


def test_item_table_in_closed_form_equals_dropping_each_item(items_missing):
    from veplab.reliability._alpha import _alpha_stats, _item_table
    from veplab.reliability._common import cov2cor

    x = items_missing.to_numpy(float)
    c = _pairwise_cov(x)
    # a near-duplicate item makes R nearly singular: the batched pseudo-inverse path
    for cc in (c, np.block([[c, c[:, :1]], [c[:1, :], c[:1, :1] * (1 + 1e-12)]])):
        r = cov2cor(cc)
        k = cc.shape[0]
        mom = {"n": np.ones(k), "mean": np.ones(k), "sd": np.ones(k), "raw_r": np.ones(k)}
        table = _item_table([f"v{i}" for i in range(k)], mom, cc, r, 100)
        for i in range(k):
            keep = np.arange(k) != i
            st = _alpha_stats(cc[np.ix_(keep, keep)], r[np.ix_(keep, keep)])
            got = table.iloc[i]
            np.testing.assert_allclose(
                [got["alpha_if_deleted"], got["std_alpha_if_deleted"], got["g6_if_deleted"], got["average_r_if_deleted"],
                 got["alpha_se_if_deleted"] ** 2 * 100, got["var_r_if_deleted"], got["median_r_if_deleted"]],
                [st["raw"], st["std"], st["g6"], st["av_r"], st["q"], st["var_r"], st["med_r"]],
                rtol=1e-9,
            )
    # raw_r with missing answers: each item against the mean of answered items, on the rows answering it
    res = alpha(items_missing)
    total = np.nanmean(x, axis=1)
    for i, name in enumerate(items_missing.columns):
        ok = ~np.isnan(x[:, i])
        assert res.items.loc[name, "raw_r"] == pytest.approx(np.corrcoef(total[ok], x[ok, i])[0, 1], rel=1e-12)


def test_float32_block_products_are_exact_and_fall_back_when_they_could_not_be():
    gen = np.random.default_rng(4)
    f = gen.integers(-4, 5, size=(3000, 7)).astype(np.float32)
    w = gen.poisson(1.0, size=(5, 3000)).astype(np.float32)
    exact = w.astype(np.float64) @ f.astype(np.float64)
    assert np.array_equal(_boot._block_product(w, f, 4.0), exact)
    big = w.copy()
    big[2] *= 4000.0  # a row whose partial sums could pass 2**24: done in float64
    got = _boot._block_product(big, f * 1000, 4000.0)
    assert np.array_equal(got, big.astype(np.float64) @ (f * 1000).astype(np.float64))
    with pytest.raises(ValueError, match="not integers"):
        _boot.resampled_sums(f + 0.5, 10, np.random.default_rng(1), "poisson", integer_features=True)


@pytest.mark.parametrize("scheme", ["poisson", "multinomial"])
def test_integer_bootstrap_sums_equal_float64_sums(scheme):
    x = np.random.default_rng(2).integers(1, 6, size=(20_000, 4)).astype(float)
    feats = np.column_stack([np.ones(len(x)), x, x[:, :1] * x])
    a = _boot.resampled_sums(feats, 70, np.random.default_rng(5), scheme)
    b = _boot.resampled_sums(feats, 70, np.random.default_rng(5), scheme, integer_features=True)
    assert np.array_equal(a, b)  # integer sums: exact either way


def test_threads_do_not_change_bootstrap_results(items, monkeypatch):
    monkeypatch.setenv("VEPLAB_THREADS", "1")
    one = omega(items, n_boot=400, seed=5)
    a1 = alpha(items, method="bootstrap", n_boot=400, seed=5)
    monkeypatch.setenv("VEPLAB_THREADS", "3")
    three = omega(items, n_boot=400, seed=5)
    a3 = alpha(items, method="bootstrap", n_boot=400, seed=5)
    assert (one.ci_low, one.ci_high, one.omega_h_ci_low, one.omega_h_ci_high) == (
        three.ci_low, three.ci_high, three.omega_h_ci_low, three.omega_h_ci_high)
    assert (a1.ci_low, a1.ci_high) == (a3.ci_low, a3.ci_high)
    assert _boot.map_chunks(lambda s: (s.start, s.stop), 1000, min_chunk=100) == [(0, 333), (333, 666), (666, 1000)]
