"""Tests for veplab.validity exploratory structure: KMO, Bartlett, EFA, rotations,
polychoric correlations and parallel analysis.

Expected values come from tests/reference/validity_efa.R (psych 2.2.9 with
GPArotation 2022.10.2): closed forms (KMO, Bartlett, SMC, eigenvalues of the
correlation matrix) are compared to 1e-6 relative, iterative estimators
(factor loadings, polychoric rho) to 1e-3.
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
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from veplab._validate import InputError
from veplab.validity import (
    align_loadings,
    bartlett_sphericity,
    bivariate_normal_cdf,
    efa,
    kmo,
    oblimin,
    parallel_analysis,
    plot_scree,
    polychoric,
    promax,
    smc,
    varimax,
)

REF = Path(__file__).parent / "reference"
DATA = REF / "data"
EFA = json.loads((REF / "validity_efa.json").read_text())

CLOSED = 1e-6  # relative, closed-form statistics
ITER = 1e-3  # absolute, iterative estimators


def frame(d: dict) -> pd.DataFrame:
    return pd.DataFrame(np.array(d["values"], dtype=float), index=d["rows"], columns=d["cols"])


def series(d: dict) -> pd.Series:
    return pd.Series(np.array(d["values"], dtype=float), index=d["names"])


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    return pd.read_csv(DATA / "validity_efa_items.csv")


@pytest.fixture(scope="module")
def ordinal() -> pd.DataFrame:
    return pd.read_csv(DATA / "validity_ordinal_items.csv")


@pytest.fixture(scope="module")
def hs1939() -> pd.DataFrame:
    return pd.read_csv(DATA / "validity_hs1939.csv")


@pytest.fixture(scope="module")
def harman() -> pd.DataFrame:
    return pd.read_csv(DATA / "validity_harman74_cor.csv", index_col=0)


def heywood_items(items: pd.DataFrame) -> pd.DataFrame:
    out = items.copy()
    out["i1b"] = out["i1"] + 0.05 * np.sin(np.arange(1, len(out) + 1))
    return out


# ----------------------------------------------------------------------- KMO, Bartlett, SMC
def test_kmo_matches_psych(items, ordinal, hs1939, harman):
    cases = [
        (kmo(items), EFA["items"]["kmo"]),
        (kmo(ordinal.iloc[:, :8]), EFA["items"]["kmo_ordinal_pairwise"]),
        (kmo(hs1939), EFA["hs1939"]["kmo"]),
        (kmo(harman), EFA["harman74"]["kmo"]),
    ]
    for got, ref in cases:
        assert got.msa == pytest.approx(ref["MSA"], rel=CLOSED)
        np.testing.assert_allclose(got.msa_items.to_numpy(), ref["MSAi"]["values"], rtol=CLOSED)
        assert list(got.msa_items.index) == ref["MSAi"]["names"]
    assert kmo(items).label == "middling"
    tidy = kmo(items).to_frame()
    assert list(tidy.columns) == ["item", "msa", "label"] and tidy["item"].iloc[-1] == "overall"


def test_bartlett_matches_psych(items, ordinal, harman):
    for got, ref in [
        (bartlett_sphericity(items), EFA["items"]["bartlett"]),
        (bartlett_sphericity(ordinal.iloc[:, :8]), EFA["items"]["bartlett_ordinal_pairwise"]),
        (bartlett_sphericity(harman, n_obs=145), EFA["harman74"]["bartlett"]),
    ]:
        assert got.statistic == pytest.approx(ref["chisq"], rel=CLOSED)
        assert got.df == ref["df"]
        assert got.p_value == pytest.approx(ref["p_value"], rel=1e-5)
    with pytest.raises(InputError, match="n_obs"):
        bartlett_sphericity(harman)


def test_smc_matches_psych(items):
    got = smc(items.corr())
    np.testing.assert_allclose(got.to_numpy(), EFA["items"]["smc"]["values"], rtol=CLOSED)


# ----------------------------------------------------------------------- EFA against psych::fa
def _efa_cases():
    cases = []
    for fm in ("minres", "ml"):
        for rot in ("none", "varimax", "promax", "oblimin"):
            cases.append(("items", f"{fm}_{rot}", 3, dict(method=fm, rotation=None if rot == "none" else rot)))
    cases += [
        ("items", "minres_1", 1, dict(method="minres", rotation=None)),
        ("items", "ml_2_oblimin", 2, dict(method="ml", rotation="oblimin")),
        ("items_cor", "cor_minres_oblimin", 3, dict(method="minres", rotation="oblimin", n_obs=500)),
        ("heywood", "heywood_ml_oblimin", 3, dict(method="ml", rotation="oblimin")),
        ("hs1939", "minres_oblimin", 3, dict(method="minres", rotation="oblimin")),
        ("hs1939", "ml_oblimin", 3, dict(method="ml", rotation="oblimin")),
        ("hs1939", "ml_promax", 3, dict(method="ml", rotation="promax")),
        ("hs1939", "ml_varimax", 3, dict(method="ml", rotation="varimax")),
        ("harman", "minres_varimax", 4, dict(method="minres", rotation="varimax", n_obs=145)),
        ("harman", "ml_promax", 4, dict(method="ml", rotation="promax", n_obs=145)),
        ("harman", "minres_oblimin", 4, dict(method="minres", rotation="oblimin", n_obs=145)),
        ("ordinal", "fa_poly_minres_oblimin", 2, dict(method="minres", rotation="oblimin", corr="polychoric")),
        # iterated principal axis
        ("items", "pa_none", 3, dict(method="pa", rotation=None)),
        ("items", "pa_oblimin", 3, dict(method="pa", rotation="oblimin")),
        ("hs1939", "pa_varimax", 3, dict(method="pa", rotation="varimax")),
        ("harman", "pa_promax", 4, dict(method="pa", rotation="promax", n_obs=145)),
    ]
    return cases


def _ref_for(dataset: str, key: str) -> dict:
    if dataset in ("items", "items_cor", "heywood"):
        return EFA["items"]["fa"][key]
    if dataset == "ordinal":
        return EFA["polychoric"][key]
    return {"hs1939": EFA["hs1939"], "harman": EFA["harman74"]}[dataset]["fa"][key]


@pytest.mark.parametrize("dataset,key,nf,kw", _efa_cases(), ids=[f"{c[0]}-{c[1]}" for c in _efa_cases()])
def test_efa_matches_psych(dataset, key, nf, kw, items, ordinal, hs1939, harman):
    data = {
        "items": items,
        "items_cor": items.corr(),
        "heywood": heywood_items(items),
        "hs1939": hs1939,
        "harman": harman,
        "ordinal": ordinal.iloc[:, :8],
    }[dataset]
    ref = _ref_for(dataset, key)
    # the polychoric matrix is itself iterative (psych's optimize tolerance 1.2e-4)
    closed = CLOSED if dataset != "ordinal" else ITER
    # ... and the chi-square p value amplifies that (rel. 2.7e-4 in chi-square -> 1.2e-3 in p)
    p_tol = ITER if dataset != "ordinal" else 5e-3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = efa(data, nf, **kw)
    target = frame(ref["loadings"])
    aligned, order, signs = align_loadings(fit.loadings, target)
    # psych's factor order and signs are reproduced, not just matched after alignment
    assert list(order) == list(range(nf)) and np.all(signs == 1)
    np.testing.assert_allclose(aligned.to_numpy(), target.to_numpy(), atol=ITER)
    assert list(fit.loadings.index) == list(target.index)
    np.testing.assert_allclose(fit.communalities.to_numpy(), ref["communality"]["values"], atol=ITER)
    np.testing.assert_allclose(fit.uniquenesses.to_numpy(), ref["uniquenesses"]["values"], atol=ITER)
    np.testing.assert_allclose(fit.complexity.to_numpy(), ref["complexity"]["values"], atol=ITER)
    if "Phi" in ref:
        np.testing.assert_allclose(fit.phi.to_numpy(), frame(ref["Phi"]).to_numpy(), atol=ITER)
    else:
        assert fit.phi is None
    vacc = frame(ref["Vaccounted"]).T  # factors x statistics
    np.testing.assert_allclose(fit.variance["ss_loadings"], vacc["SS loadings"], atol=ITER)
    np.testing.assert_allclose(fit.variance["proportion_var"], vacc["Proportion Var"], atol=ITER)
    if nf > 1:
        np.testing.assert_allclose(fit.variance["cumulative_var"], vacc["Cumulative Var"], atol=ITER)
        np.testing.assert_allclose(fit.variance["proportion_explained"], vacc["Proportion Explained"], atol=ITER)
    np.testing.assert_allclose(fit.eigenvalues["correlation"], ref["e_values"], rtol=closed)
    np.testing.assert_allclose(fit.eigenvalues["common_factor"], ref["values"], atol=ITER)
    assert fit.df == ref["dof"]
    assert fit.objective == pytest.approx(ref["objective"], rel=ITER)
    assert fit.rms == pytest.approx(ref["rms"], rel=ITER)
    assert fit.fit == pytest.approx(ref["fit"], rel=ITER)
    assert fit.fit_off == pytest.approx(ref["fit_off"], rel=ITER)
    assert fit.null_objective == pytest.approx(ref["null_model"], rel=closed)
    if "STATISTIC" in ref:
        assert fit.n_obs == ref["n_obs"]
        assert fit.chi_square == pytest.approx(ref["STATISTIC"], rel=ITER)
        assert fit.p_value == pytest.approx(ref["PVAL"], rel=p_tol, abs=1e-12)
        assert fit.tli == pytest.approx(ref["TLI"], rel=ITER)
        assert fit.bic == pytest.approx(ref["BIC"], rel=ITER, abs=1e-3)
        rmsea, lo, hi = ref["RMSEA"][:3]
        assert fit.rmsea == pytest.approx(rmsea, abs=ITER)
        assert fit.rmsea_ci_low == pytest.approx(lo, abs=ITER)
        assert fit.rmsea_ci_high == pytest.approx(hi, abs=ITER)
        assert fit.crms == pytest.approx(ref["crms"], rel=ITER)
        assert fit.empirical_chi_square == pytest.approx(ref["chi"], rel=ITER)
        assert fit.null_chi_square == pytest.approx(ref["null_chisq"], rel=closed)


def test_efa_result_is_tidy_and_readable(items):
    fit = efa(items, 3)
    row = fit.to_frame()
    assert row.shape[0] == 1 and {"chi_square", "rmsea", "tli", "n_obs"} <= set(row.columns)
    text = fit.summary()
    assert "MR1" in text and "RMSEA" in text and "Phi" in text
    table = fit.loadings_table(cut=0.3)
    assert {"h2", "u2", "complexity"} <= set(table.columns)
    assert table.loc["i1", "MR2"] != table.loc["i1", "MR2"]  # blanked small loading (NaN)
    # sorted by variance accounted for; columns sum positive
    ss = fit.variance["ss_loadings"].to_numpy()
    assert np.all(np.diff(ss) <= 0)
    assert np.all(fit.loadings.sum(axis=0) > 0)
    # structure = pattern x Phi; model reproduces communalities
    np.testing.assert_allclose(fit.structure, fit.loadings.to_numpy() @ fit.phi.to_numpy())
    model = fit.loadings.to_numpy() @ fit.phi.to_numpy() @ fit.loadings.to_numpy().T
    np.testing.assert_allclose(np.diag(model), fit.communalities, atol=1e-8)


def test_correlation_input_equals_data_input(items):
    a = efa(items, 3, method="ml", rotation="promax")
    b = efa(items.corr(), 3, method="ml", rotation="promax", n_obs=len(items))
    np.testing.assert_allclose(a.loadings, b.loadings, atol=1e-8)
    assert a.chi_square == pytest.approx(b.chi_square, rel=1e-8)
    with pytest.warns(UserWarning, match="n_obs"):
        c = efa(items.corr(), 3)
    assert np.isnan(c.chi_square) and np.isnan(c.rmsea)


# ----------------------------------------------------------------------- rotations
def test_rotations_preserve_the_common_part(items):
    fit = efa(items, 3, rotation=None)
    a = fit.loadings.to_numpy()
    for rot in (varimax(a), oblimin(a), promax(a)):
        L = rot.loadings.to_numpy()
        phi = np.eye(3) if rot.phi is None else rot.phi.to_numpy()
        np.testing.assert_allclose(L @ phi @ L.T, a @ a.T, atol=1e-10)
        np.testing.assert_allclose(a @ rot.rotation_matrix, L, atol=1e-10)


def test_oblimin_is_a_stationary_point(hs1939):
    """Independent check of the GPA oblimin solution (beyond matching GPArotation):
    the criterion's gradient, projected on the oblique constraint set, vanishes,
    and no small random oblique perturbation improves the criterion."""
    a = efa(hs1939, 3, method="ml", rotation=None).loadings.to_numpy()
    r = oblimin(a, eps=1e-8)
    assert r.converged
    L = r.loadings.to_numpy()
    T = np.linalg.inv(r.rotation_matrix.T)  # L = A (T')^-1
    X = (L**2) @ (1 - np.eye(3))
    Gq = L * X
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    Gp = G - T @ np.diag(np.sum(T * G, axis=0))
    assert np.sqrt(np.sum(Gp**2)) < 1e-8
    f0 = np.sum(L**2 * X) / 4
    rng = np.random.default_rng(0)
    for _ in range(50):
        Tp = T + 1e-3 * rng.standard_normal(T.shape)
        Tp = Tp / np.sqrt(np.sum(Tp**2, axis=0))
        Lp = a @ np.linalg.inv(Tp).T
        assert np.sum(Lp**2 * ((Lp**2) @ (1 - np.eye(3)))) / 4 >= f0 - 1e-12


def test_varimax_increases_the_criterion(items):
    a = efa(items, 3, rotation=None).loadings.to_numpy()

    def crit(L):
        h = np.sqrt(np.sum(L**2, axis=1))[:, None]
        return np.sum(np.var((L / h) ** 2, axis=0))

    assert crit(varimax(a).loadings.to_numpy()) > crit(a)


# ----------------------------------------------------------------------- polychoric
def test_polychoric_global_matches_psych(ordinal):
    got = polychoric(ordinal.iloc[:, :8])
    ref = EFA["polychoric"]["global"]
    assert got.global_thresholds
    np.testing.assert_allclose(got.rho.to_numpy(), frame(ref["rho"]).to_numpy(), atol=ITER)
    np.testing.assert_allclose(got.thresholds.to_numpy(), frame(ref["tau"]).to_numpy(), rtol=CLOSED)
    assert list(got.thresholds.columns) == ["1|2", "2|3", "3|4", "4|5"]
    assert got.n_pairs.loc["o1", "o2"] == int((ordinal[["o1", "o2"]].notna().all(axis=1)).sum())


def test_polychoric_local_thresholds_and_correction_match_psych(ordinal):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = polychoric(ordinal)
    messages = " ".join(str(w.message) for w in caught)
    assert "equal number of response alternatives" in messages and "continuity" in messages
    assert not got.global_thresholds and got.n_pairs_corrected > 0
    np.testing.assert_allclose(got.rho.to_numpy(), frame(EFA["polychoric"]["local"]["rho"]).to_numpy(), atol=ITER)
    with pytest.warns(UserWarning):
        got0 = polychoric(ordinal, correct=0)
    np.testing.assert_allclose(
        got0.rho.to_numpy(), frame(EFA["polychoric"]["local_correct0"]["rho"]).to_numpy(), atol=ITER
    )


def test_bivariate_normal_cdf_against_scipy():
    rng = np.random.default_rng(4)
    for _ in range(40):
        h, k = rng.normal(0, 1.5, 2)
        r = rng.uniform(-0.999, 0.999)
        expected = stats.multivariate_normal([0, 0], [[1, r], [r, 1]]).cdf([h, k])
        assert float(bivariate_normal_cdf(h, k, r)) == pytest.approx(expected, abs=1e-6)
    assert float(bivariate_normal_cdf(0.0, 0.0, 0.5)) == pytest.approx(1 / 3, abs=1e-15)
    assert float(bivariate_normal_cdf(np.inf, 0.3, 0.5)) == pytest.approx(stats.norm.cdf(0.3))
    assert float(bivariate_normal_cdf(-np.inf, 0.3, 0.5)) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    h=st.floats(-4, 4),
    k=st.floats(-4, 4),
    r=st.floats(-0.995, 0.995),
)
def test_bivariate_normal_cdf_identities(h, k, r):
    f = float(bivariate_normal_cdf(h, k, r))
    assert 0.0 <= f <= 1.0
    assert f == pytest.approx(float(bivariate_normal_cdf(k, h, r)), abs=1e-12)
    # P(X<=h, Y<=k) + P(X<=h, Y>k) = P(X<=h), with P(X<=h, Y>k) = Phi2(h, -k; -r)
    assert f + float(bivariate_normal_cdf(h, -k, -r)) == pytest.approx(stats.norm.cdf(h), abs=1e-12)


def test_polychoric_recovers_a_known_correlation():
    rng = np.random.default_rng(11)
    z = rng.multivariate_normal([0, 0], [[1, 0.55], [0.55, 1]], size=4000)
    cuts = [-1.0, -0.2, 0.6, 1.4]
    codes = pd.DataFrame(1 + np.searchsorted(cuts, z.ravel()).reshape(z.shape), columns=["a", "b"])
    got = polychoric(codes)
    assert got.rho.loc["a", "b"] == pytest.approx(0.55, abs=0.04)
    np.testing.assert_allclose(got.thresholds.loc["a"], cuts, atol=0.08)


def test_efa_with_polychoric_matches_psych(ordinal):
    fit = efa(ordinal.iloc[:, :8], 2, corr="polychoric")
    ref = EFA["polychoric"]["fa_poly_minres_oblimin"]
    np.testing.assert_allclose(fit.loadings.to_numpy(), frame(ref["loadings"]).to_numpy(), atol=ITER)


# ----------------------------------------------------------------------- parallel analysis
def test_parallel_analysis_observed_eigenvalues_match_psych(items):
    pa = parallel_analysis(items, seed=1)
    ref = EFA["items"]["parallel"]
    np.testing.assert_allclose(pa.table["pc_observed"], ref["pc_values"], rtol=CLOSED)
    np.testing.assert_allclose(pa.table["fa_observed"], ref["fa_values"], atol=ITER)
    assert pa.n_factors == ref["nfact"] == 3
    assert pa.n_components == ref["ncomp"] == 3


def test_parallel_analysis_suggests_the_true_number_for_a_clear_structure(items):
    counts = [parallel_analysis(items, seed=s).n_factors for s in range(5)]
    assert all(c == 3 for c in counts)
    counts = [parallel_analysis(items, seed=s, quantile=None).n_components for s in range(5)]
    assert all(c == 3 for c in counts)


def test_parallel_analysis_simulation_is_sound_and_seeded(items):
    a = parallel_analysis(items, n_iter=30, seed=7)
    b = parallel_analysis(items, n_iter=30, seed=7)
    pd.testing.assert_frame_equal(a.table, b.table)
    t = a.table
    # eigenvalues of random correlation matrices sum to p; first above 1, last below 1
    assert t["pc_simulated_mean"].sum() == pytest.approx(9.0, rel=1e-10)
    assert t["pc_simulated_mean"].iloc[0] > 1 > t["pc_simulated_mean"].iloc[-1]
    assert np.all(t["pc_simulated_quantile"] >= t["pc_simulated_mean"] - 1e-12)
    # the largest eigenvalue of a null correlation matrix lies below the Marchenko-Pastur edge (1 + sqrt(p/n))^2
    # for small p, and clearly above 1
    assert 1.1 < t["pc_simulated_mean"].iloc[0] < (1 + np.sqrt(9 / 500)) ** 2
    pc = parallel_analysis(items, fa="pc", n_iter=5, seed=1)
    assert pc.n_factors is None and list(pc.table.columns) == ["pc_observed", "pc_simulated_mean", "pc_simulated_quantile"]
    assert "suggests" in a.summary()


def test_plot_scree_returns_axes(items):
    import matplotlib.pyplot as plt

    ax = plot_scree(parallel_analysis(items, n_iter=5, seed=1))
    assert ax.get_xlabel() and len(ax.get_lines()) >= 4
    ax2 = plot_scree(efa(items, 3))
    assert len(ax2.get_lines()) >= 2
    plt.close("all")


# ----------------------------------------------------------------------- bad input
def test_singular_matrix_names_the_items(items):
    bad = items.assign(total=items.i1 + items.i2 + items.i3)
    for fn in (lambda: efa(bad, 3), lambda: kmo(bad), lambda: bartlett_sphericity(bad)):
        with pytest.raises(InputError, match="singular") as e:
            fn()
        assert "total" in str(e.value) and "Drop redundant items" in str(e.value) and "smooth=True" in str(e.value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        efa(bad, 3, smooth=True)
    assert any("smoothed" in str(w.message) for w in caught)


def test_heywood_case_warns_naming_items(items):
    with pytest.warns(UserWarning, match=r"Heywood case.*\['i1', 'i1b'\]"):
        efa(heywood_items(items), 3, method="ml")


def test_non_convergence_warns_with_advice(items):
    with pytest.warns(RuntimeWarning, match="did not converge.*Try fewer factors"):
        efa(items, 3, method="ml", max_iter=2)


def test_too_many_factors(items):
    with pytest.raises(InputError, match="n_factors"):
        efa(items, 9)
    with pytest.raises(InputError, match="positive integer"):
        efa(items, 0)
    with pytest.warns(UserWarning, match="not .*identified"):
        efa(items.iloc[:, :5], 3)


def test_other_bad_inputs(items, ordinal):
    with pytest.raises(InputError, match="non-numeric"):
        efa(items.assign(i1=["x"] + [1.0] * (len(items) - 1)), 2)
    with pytest.raises(InputError, match="constant"):
        efa(items.assign(i9=1.0), 2)
    with pytest.raises(InputError, match="rotation"):
        efa(items, 2, rotation="quartimax")
    with pytest.raises(InputError, match="method"):
        efa(items, 2, method="wls")  # psych has it; veplab fits minres, ml and pa
    with pytest.raises(InputError, match="at most 8"):
        polychoric(ordinal.iloc[:, :3].fillna(1) * 3)
    with pytest.raises(InputError, match="non-integer"):
        polychoric(items.iloc[:, :3])
    with pytest.raises(InputError, match="fewer than 3 rows|undefined"):
        x = items.iloc[:, :4].copy()
        x.loc[x.index[:-2], "i4"] = np.nan
        efa(x, 1)


def test_missing_data_pairwise_and_listwise(ordinal):
    data = ordinal.iloc[:, :8].astype(float)
    pw = efa(data, 2)
    assert pw.n_obs == len(data)
    with pytest.warns(UserWarning, match="listwise"):
        lw = efa(data, 2, missing="listwise")
    assert lw.n_obs == int(data.notna().all(axis=1).sum())
    with pytest.raises(InputError, match="missing"):
        efa(data, 2, missing="drop")


def test_efa_rmsea_interval_level_is_rmsea_ci_as_in_cfa(items):
    fit90 = efa(items, 2, rotation="varimax")
    fit = efa(items, 2, rotation="varimax", rmsea_ci=0.95)
    assert fit.rmsea_ci_level == 0.95 and fit90.rmsea_ci_level == 0.90
    assert fit.rmsea_ci_low < fit90.rmsea_ci_low < fit.rmsea < fit90.rmsea_ci_high < fit.rmsea_ci_high
    # the ends invert the noncentral chi-square at 2.5% / 97.5% (psych's ncp = rmsea^2 (n - 1) df)
    ncp = lambda r: r**2 * (fit.n_obs - 1) * fit.df  # noqa: E731
    assert stats.ncx2.cdf(fit.chi_square, fit.df, ncp(fit.rmsea_ci_high)) == pytest.approx(0.025, abs=1e-8)
    assert stats.ncx2.cdf(fit.chi_square, fit.df, ncp(fit.rmsea_ci_low)) == pytest.approx(0.975, abs=1e-8)
    # the old name still works, with a DeprecationWarning
    with pytest.warns(DeprecationWarning, match="rmsea_ci"):
        old = efa(items, 2, rotation="varimax", ci=0.95)
    assert (old.rmsea_ci_low, old.rmsea_ci_high) == (fit.rmsea_ci_low, fit.rmsea_ci_high)
    with pytest.warns(DeprecationWarning, match="rmsea_ci_level"):
        assert old.ci == 0.95
