"""Tests for veplab.factor_analysis.confirmatory with missing="ml" (FIML) against lavaan.

Reference values: tests/reference/validity_cfa_fiml.R (lavaan 0.6.14,
``missing = "ml"``) -> tests/reference/validity_cfa_fiml.json; data from
tests/reference/make_validity_cfa_fiml_data.py.  Fit measures agree to 1e-5
relative (the chi-square to ~1e-9); estimates, standard errors and std.all to
1e-4 relative (lavaan's own optimiser stops at about 1e-5 in the estimates).
"""

from __future__ import annotations

import importlib
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError

from veplab.factor_analysis.lavaan_syntax import parse_model  # noqa: E402

cfa_module = importlib.import_module("veplab.factor_analysis.confirmatory")
cfa = cfa_module.cfa
invariance = cfa_module.invariance

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "validity_cfa_fiml.json").read_text())
REF_LISTWISE = json.loads((REF_DIR / "validity_cfa.json").read_text())
FD = pd.read_csv(REF_DIR / "data" / "validity_cfa_fiml.csv")
HSM = pd.read_csv(REF_DIR / "data" / "validity_cfa_hs1939_missing.csv")
HS = pd.read_csv(REF_DIR / "data" / "validity_cfa_hs1939.csv")

FIML_MODEL = """f1 =~ y1 + y2 + y3
f2 =~ y4 + y5 + y6
f3 =~ y7 + y8 + y9"""
HS_MODEL = """visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"""

CASES = {
    "fiml_1g": (FD, FIML_MODEL, {}),
    "fiml_stdlv_rescov": (FD, FIML_MODEL + "\ny2 ~~ y3", {"std_lv": True}),
    "fiml_configural": (FD, FIML_MODEL, {"group": "site"}),
    "fiml_metric": (FD, FIML_MODEL, {"group": "site", "equal": "loadings"}),
    "fiml_scalar": (FD, FIML_MODEL, {"group": "site", "equal": ("loadings", "intercepts")}),
    "fiml_strict": (FD, FIML_MODEL, {"group": "site", "equal": ("loadings", "intercepts", "residuals")}),
    "hsm_3f": (HSM, HS_MODEL, {}),
    "hsm_scalar": (HSM, HS_MODEL, {"group": "school", "equal": ("loadings", "intercepts")}),
    "hs_complete_fiml": (HS, HS_MODEL, {}),
}

FIT_FIELDS = {
    "npar": "npar", "chisq": "chisq", "df": "df", "pvalue": "pvalue",
    "baseline.chisq": "baseline_chisq", "baseline.df": "baseline_df",
    "baseline.pvalue": "baseline_pvalue", "cfi": "cfi", "tli": "tli", "logl": "loglik",
    "unrestricted.logl": "unrestricted_loglik", "aic": "aic", "bic": "bic", "bic2": "sabic",
    "ntotal": "n", "rmsea": "rmsea", "rmsea.ci.lower": "rmsea_ci_low",
    "rmsea.ci.upper": "rmsea_ci_high", "rmsea.pvalue": "rmsea_pvalue", "srmr": "srmr",
    "srmr_bentler": "srmr", "srmr_bentler_nomean": "srmr_nomean",
}

_FITS: dict[str, object] = {}


def fitted(name: str):
    if name not in _FITS:
        data, model, kw = CASES[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _FITS[name] = cfa(data, model, missing="ml", **kw)
    return _FITS[name]


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None or (isinstance(a, float) and math.isnan(a))
    return math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=atol)


@pytest.mark.parametrize("name", list(CASES))
def test_fit_measures_match_lavaan(name: str) -> None:
    fit = fitted(name)
    ref = REF[name]
    assert fit.converged and ref["converged"]
    assert fit.missing == "ml" and fit.meanstructure
    bad = []
    for key, field in FIT_FIELDS.items():
        tol = 1e-5 if key.startswith("srmr") else 1e-6
        if not _close(getattr(fit, field), ref["fit"][key], tol, 1e-9):
            bad.append((key, getattr(fit, field), ref["fit"][key]))
    assert not bad, bad
    assert list(fit.group_sizes) == [int(v) for v in ref["nobs"]]
    npat = ref["npatterns"]
    assert list(fit.n_patterns) == (list(npat.values()) if isinstance(npat, dict) else list(npat))


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_se_std_match_lavaan(name: str) -> None:
    fit = fitted(name)
    est = REF[name]["estimates"]
    par = fit.parameters
    assert list(par["lhs"]) == est["lhs"] and list(par["op"]) == est["op"] and list(par["rhs"]) == est["rhs"]
    assert list(par["group"]) == [int(g) for g in est["group"]]
    for col, rcol in (("est", "est"), ("se", "se"), ("std_all", "std.all"),
                      ("ci_low", "ci.lower"), ("ci_high", "ci.upper")):
        ref = np.array([np.nan if v is None else v for v in est[rcol]], dtype=float)
        np.testing.assert_allclose(par[col].to_numpy(), ref, rtol=1e-4, atol=1e-5, err_msg=f"{name}: {col}")


def test_h1_moments_are_lavaans_em_estimates() -> None:
    fit = fitted("fiml_configural")
    ref = REF["fiml_configural"]
    assert list(fit.sample_cov) == list(ref["h1_cov"]) == ["B", "A"]
    for key in fit.sample_cov:
        p = fit.sample_cov[key].shape[0]
        np.testing.assert_allclose(fit.sample_cov[key].to_numpy(),
                                   np.array(ref["h1_cov"][key]).reshape(p, p), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fit.sample_mean[key].to_numpy(), ref["h1_mean"][key], rtol=1e-10)


def test_lavaan_uses_observed_information_for_fiml() -> None:
    # documents the lavaan default the standard errors follow
    assert {REF[k]["information"] for k in CASES} == {"observed"}
    assert {REF[k]["observed_information"] for k in CASES} == {"hessian"}


def test_invariance_sequence_matches_lavtestlrt() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = invariance(FD, FIML_MODEL, "site", levels=("configural", "metric", "scalar", "strict"),
                         missing="ml")
    ref = REF["fiml_lrt"]
    tab = res.table
    np.testing.assert_allclose(tab["chisq"], ref["Chisq"], rtol=1e-6)
    np.testing.assert_array_equal(tab["df"], ref["Df"])
    np.testing.assert_allclose(tab["aic"], ref["AIC"], rtol=1e-9)
    np.testing.assert_allclose(tab["bic"], ref["BIC"], rtol=1e-9)
    np.testing.assert_allclose(tab["delta_chisq"][1:], ref["Chisq_diff"][1:], rtol=1e-5)
    np.testing.assert_array_equal(tab["delta_df"][1:], ref["Df_diff"][1:])
    np.testing.assert_allclose(tab["delta_pvalue"][1:], ref["p"][1:], rtol=1e-5)
    np.testing.assert_allclose(tab["rmsea_d"][1:], ref["RMSEA"][1:], rtol=1e-5, atol=1e-9)
    levels = ["fiml_configural", "fiml_metric", "fiml_scalar", "fiml_strict"]
    cfi = [REF[k]["fit"]["cfi"] for k in levels]
    rmsea = [REF[k]["fit"]["rmsea"] for k in levels]
    np.testing.assert_allclose(tab["delta_cfi"][1:], np.diff(cfi), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(tab["delta_rmsea"][1:], np.diff(rmsea), rtol=1e-5, atol=1e-9)
    assert all(f.missing == "ml" for f in res.fits.values())


def test_warns_about_empty_rows_and_missing_group() -> None:
    with pytest.warns(UserWarning, match=r"dropped 6 of 620 rows missing every indicator"):
        fit = cfa(FD, FIML_MODEL, missing="ml")
    assert fit.n == 614 and fit.n_dropped == 6
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = cfa(FD, FIML_MODEL, missing="ml", group="site")
    texts = [str(w.message) for w in caught]
    assert any("dropped 3 of 620 rows with a missing group ('site')" in t for t in texts)
    assert any("dropped 6 of 620 rows missing every indicator" in t for t in texts)
    assert fit.n == 611 and fit.n_dropped == 9


@pytest.mark.parametrize("alias", ["ml", "fiml", "direct", "ML", "FIML"])
def test_missing_aliases(alias: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cfa(HSM, HS_MODEL, missing=alias)
    assert fit.missing == "ml"
    assert fit.chisq == pytest.approx(REF["hsm_3f"]["fit"]["chisq"], rel=1e-6)


@pytest.mark.parametrize("bad", ["pairwise", "ml.x", "", None, 1])
def test_bad_missing_value_is_a_clear_error(bad: object) -> None:
    with pytest.raises(InputError, match=r"missing must be 'listwise'.*'ml'"):
        cfa(HS, HS_MODEL, missing=bad)  # type: ignore[arg-type]


def test_fiml_needs_a_mean_structure() -> None:
    with pytest.raises(InputError, match="mean structure"):
        cfa(HSM, HS_MODEL, missing="ml", meanstructure=False)


def test_no_missing_data_gives_the_listwise_ml_solution() -> None:
    """As in lavaan: with complete data FIML = ML (estimates and chi-square); only the
    standard errors differ (observed rather than expected information)."""
    fiml = fitted("hs_complete_fiml")
    listwise = cfa(HS, HS_MODEL, meanstructure=True)
    ref = REF_LISTWISE["hs_3f"]["fit"]
    assert fiml.chisq == pytest.approx(ref["chisq"], rel=1e-8)
    assert fiml.chisq == pytest.approx(listwise.chisq, rel=1e-8)
    assert fiml.loglik == pytest.approx(listwise.loglik, rel=1e-10)
    assert fiml.unrestricted_loglik == pytest.approx(listwise.unrestricted_loglik, rel=1e-12)
    assert fiml.baseline_chisq == pytest.approx(listwise.baseline_chisq, rel=1e-10)
    np.testing.assert_allclose(fiml.parameters["est"], listwise.parameters["est"], rtol=1e-6, atol=1e-8)
    assert fiml.n_patterns == (1,) and fiml.n_dropped == 0


def test_analytic_hessian_equals_differenced_gradient() -> None:
    data = FD[FD["site"].notna()]
    data = data[data[[f"y{j}" for j in range(1, 10)]].notna().any(axis=1)]
    labels, S, ybar, nobs, pats, h1, _ = cfa_module._checks._group_moments_fiml(
        data[[f"y{j}" for j in range(1, 10)]], data["site"], [f"y{j}" for j in range(1, 10)])
    parsed = parse_model(FIML_MODEL)
    rows = cfa_module._partable._build_partable(parsed, list(parsed.observed), list(parsed.latent), 2, False, True,
                                      ("loadings", "intercepts"), ())
    mdl = cfa_module._fiml._FimlModel(rows, 9, 3, 2, S, ybar, nobs, pats, h1)
    x = cfa_module._starts._start_values(mdl, list(parsed.latent)) * 1.05
    H = mdl.hessian(x)
    Hn = mdl.hessian_numeric(x)
    assert np.max(np.abs(H - Hn)) < 1e-6 * np.max(np.abs(Hn))


def test_variable_never_observed_in_a_group_is_an_input_error() -> None:
    data = FD.copy()
    data.loc[data["site"] == "A", "y5"] = np.nan
    with pytest.raises(InputError, match=r"group 'A'.*y5.*fewer than 2 observed values"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cfa(data, FIML_MODEL, group="site", missing="ml")


def test_pair_never_observed_together_is_an_input_error() -> None:
    data = FD.copy()
    data.loc[data["y2"].notna(), "y3"] = np.nan
    with pytest.raises(InputError, match=r"never observed together.*\('y2', 'y3'\)"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cfa(data, FIML_MODEL, missing="ml")


def test_summary_mentions_fiml() -> None:
    text = fitted("fiml_1g").summary()
    assert "FIML" in text and "44 missing-data patterns" in text


def test_validity_report_passes_missing_through() -> None:
    from veplab.codebook import load
    from veplab.validity import validity_report

    cb = load(Path(__file__).resolve().parents[1] / "surveys" / "prison_climate.yml")
    scales = [s for s in cb.scales][:2]
    rng = np.random.default_rng(3)
    n = 300
    eta = rng.normal(size=(n, 2))
    cols = {it: np.clip(np.round(3 + eta[:, k] + rng.normal(size=n) * 0.8), 1, 5)
            for k, s in enumerate(scales) for it in s.items}
    df = pd.DataFrame(cols).mask(rng.random((n, len(cols))) < 0.08)
    ids = [s.id for s in scales]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lw = validity_report(df, cb, scales=ids, groups=(), n_iter=3, seed=1)
        ml = validity_report(df, cb, scales=ids, groups=(), n_iter=3, seed=1, missing="fiml")
    complete = int(df.notna().all(axis=1).sum())
    assert lw.cfa_fit["n"].iloc[0] == complete < n
    assert ml.cfa_fit["n"].iloc[0] == int(df.notna().any(axis=1).sum())
    with pytest.raises(InputError, match="missing must be"):
        validity_report(df, cb, scales=ids, groups=(), n_iter=3, seed=1, missing="pairwise")
