"""Tests for veplab.factor_analysis.confirmatory: CFA and measurement invariance against lavaan.

Reference values: tests/reference/validity_cfa.R (lavaan 0.6.14) ->
tests/reference/validity_cfa.json.  Tolerance 1e-3 relative (1e-4 absolute
near zero), as for every iterative estimator in veplab.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veplab._validate import InputError
from veplab.factor_analysis.lavaan_syntax import LavaanSyntaxError, parse_model

cfa_module = importlib.import_module("veplab.factor_analysis.confirmatory")
cfa = cfa_module.cfa
invariance = cfa_module.invariance

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "validity_cfa.json").read_text())
HS = pd.read_csv(REF_DIR / "data" / "validity_cfa_hs1939.csv")
INV = pd.read_csv(REF_DIR / "data" / "validity_cfa_invariance.csv")
HEY = pd.read_csv(REF_DIR / "data" / "validity_cfa_heywood.csv")

HS_MODEL = """visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"""
INV_MODEL = "scale =~ i1 + i2 + i3 + i4 + i5 + i6"
LABEL_MODEL = """visual =~ NA*x1 + x2 + x3
visual ~~ 1*visual
textual =~ x4 + a*x5 + a*x6   # equal loadings via a shared label
speed =~ x7 + x8 + x9"""

RTOL, ATOL = 1e-3, 1e-4

# fixture name -> (data, model, keyword arguments)
CASES = {
    "hs_3f": (HS, HS_MODEL, {}),
    "hs_configural": (HS, HS_MODEL, {"group": "school"}),
    "hs_metric": (HS, HS_MODEL, {"group": "school", "equal": "loadings"}),
    "hs_scalar": (HS, HS_MODEL, {"group": "school", "equal": ("loadings", "intercepts")}),
    "hs_strict": (HS, HS_MODEL, {"group": "school", "equal": ("loadings", "intercepts", "residuals")}),
    "hs_scalar_partial": (HS, HS_MODEL, {"group": "school", "equal": ("loadings", "intercepts"),
                                         "partial": ("x3~1", "x7 ~ 1")}),
    "hs_all_equal": (HS, HS_MODEL, {"group": "school", "equal": (
        "loadings", "intercepts", "residuals", "lv.variances", "lv.covariances", "means")}),
    "hs_metric_stdlv": (HS, HS_MODEL, {"group": "school", "equal": "loadings", "std_lv": True}),
    "hs_stdlv": (HS, HS_MODEL, {"std_lv": True}),
    "hs_rescov": (HS, HS_MODEL + "\nx7 ~~ x8\nvisual ~~ 0*speed", {}),
    "hs_labels": (HS, LABEL_MODEL, {"meanstructure": True}),
    "gender_configural": (INV, INV_MODEL, {"group": "gender"}),
    "gender_metric": (INV, INV_MODEL, {"group": "gender", "equal": "loadings"}),
    "gender_scalar": (INV, INV_MODEL, {"group": "gender", "equal": ("loadings", "intercepts")}),
    "gender_strict": (INV, INV_MODEL, {"group": "gender", "equal": ("loadings", "intercepts", "residuals")}),
    "country_configural": (INV, INV_MODEL, {"group": "country"}),
    "country_metric": (INV, INV_MODEL, {"group": "country", "equal": "loadings"}),
    "country_scalar": (INV, INV_MODEL, {"group": "country", "equal": ("loadings", "intercepts")}),
    "heywood": (HEY, "f =~ h1 + h2 + h3 + h4", {}),
    "hs_saturated": (HS, "visual =~ x1 + x2 + x3", {}),
}

# lavaan fitMeasures name -> CFAResult field
FIT_FIELDS = {
    "npar": "npar", "chisq": "chisq", "df": "df", "pvalue": "pvalue",
    "baseline.chisq": "baseline_chisq", "baseline.df": "baseline_df",
    "baseline.pvalue": "baseline_pvalue", "cfi": "cfi", "tli": "tli", "logl": "loglik",
    "unrestricted.logl": "unrestricted_loglik", "aic": "aic", "bic": "bic", "bic2": "sabic",
    "ntotal": "n", "rmsea": "rmsea", "rmsea.ci.lower": "rmsea_ci_low",
    "rmsea.ci.upper": "rmsea_ci_high", "rmsea.pvalue": "rmsea_pvalue", "srmr": "srmr",
    "srmr_bentler_nomean": "srmr_nomean",
}


def close(ours: float, theirs: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    if theirs is None:
        return ours is None or (isinstance(ours, float) and math.isnan(ours))
    return abs(ours - theirs) <= max(rtol * abs(theirs), atol)


@functools.lru_cache(maxsize=None)
def fitted(name: str):
    data, model, kwargs = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Heywood case warns (tested separately)
        return cfa(data, model, **kwargs)


def merged(name: str) -> pd.DataFrame:
    ref = pd.DataFrame(REF[name]["estimates"])
    ref["rhs"] = ref["rhs"].fillna("")
    ref["label"] = ref["label"].fillna("")
    ours = fitted(name).parameters
    m = ref.merge(ours, on=["lhs", "op", "rhs", "group"], how="outer", suffixes=("_r", ""),
                  indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs", "group", "_merge"]]
    return m


# ---------------------------------------------------------------------------
# published values and lavaan fixtures
# ---------------------------------------------------------------------------


def test_fixture_matches_published_holzinger_swineford_values():
    # lavaan tutorial / Rosseel (2012): chisq 85.306, df 24, CFI .931, TLI .896,
    # RMSEA .092, SRMR .065
    fm = REF["hs_3f"]["fit"]
    assert round(fm["chisq"], 3) == 85.306 and fm["df"] == 24
    assert round(fm["cfi"], 3) == 0.931 and round(fm["tli"], 3) == 0.896
    assert round(fm["rmsea"], 3) == 0.092 and round(fm["srmr"], 3) == 0.065
    fit = fitted("hs_3f")
    assert round(fit.chisq, 3) == 85.306 and fit.df == 24
    assert (round(fit.cfi, 3), round(fit.tli, 3), round(fit.rmsea, 3), round(fit.srmr, 3)) == (
        0.931, 0.896, 0.092, 0.065)
    # published loadings (lavaan tutorial): visual =~ x2 0.554, x3 0.729; speed =~ x8 1.180, x9 1.082
    est = fit.parameters.set_index(["lhs", "op", "rhs"])["est"]
    assert round(est[("visual", "=~", "x2")], 3) == 0.554
    assert round(est[("visual", "=~", "x3")], 3) == 0.729
    assert round(est[("speed", "=~", "x8")], 3) == 1.180
    assert round(est[("speed", "=~", "x9")], 3) == 1.082


@pytest.mark.parametrize("name", list(CASES))
def test_fit_measures_match_lavaan(name):
    fit = fitted(name)
    ref = REF[name]["fit"]
    assert fit.converged
    for lav, ours in FIT_FIELDS.items():
        assert close(getattr(fit, ours), ref[lav]), (lav, getattr(fit, ours), ref[lav])
    assert list(fit.group_sizes) == list(REF[name]["nobs"])


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_match_lavaan(name):
    m = merged(name)
    for col_r, col in [("est_r", "est"), ("se_r", "se"), ("ci.lower", "ci_low"),
                       ("ci.upper", "ci_high"), ("std.all", "std_all")]:
        bad = [
            (row.lhs, row.op, row.rhs, row.group, getattr(row, col), row[col_r])
            for _, row in m.iterrows()
            if not close(row[col], row[col_r])
        ]
        assert not bad, (col, bad[:5])
    z = m.dropna(subset=["z_r"])
    assert all(close(a, b) for a, b in zip(z["z"], z["z_r"]))
    assert np.allclose(z["pvalue"], z["pvalue_r"], rtol=0, atol=1e-4)
    # fixed parameters: se 0 and no z, as parameterEstimates
    fixed = m[m["z_r"].isna()]
    assert (fixed["se"] == 0).all() and fixed["z"].isna().all() and (~fixed["free"]).all()


@pytest.mark.parametrize("name", ["hs_metric", "hs_scalar", "hs_all_equal", "hs_labels", "gender_strict"])
def test_equality_labels_follow_lavaan_plabels(name):
    m = merged(name)
    assert (m["label_r"] == m["label"]).all()


def test_std_lv_with_equal_loadings_frees_latent_variances_in_later_groups():
    p = fitted("hs_metric_stdlv").parameters
    lv_var = p[(p.op == "~~") & (p.lhs == p.rhs) & p.lhs.isin(["visual", "textual", "speed"])]
    assert not lv_var[lv_var.group == 1]["free"].any()
    assert lv_var[lv_var.group == 2]["free"].all()
    assert np.allclose(lv_var[lv_var.group == 1]["est"], 1.0)


def test_scalar_frees_latent_means_beyond_the_first_group():
    p = fitted("hs_scalar").parameters
    means = p[(p.op == "~1") & p.lhs.isin(["visual", "textual", "speed"])]
    assert not means[means.group == 1]["free"].any()
    assert means[means.group == 2]["free"].all()
    conf = fitted("hs_configural").parameters
    assert not conf[(conf.op == "~1") & conf.lhs.isin(["visual"])]["free"].any()


def test_group_labels_in_order_of_appearance_as_lavaan():
    fit = fitted("hs_configural")
    assert list(fit.group_sizes.index) == REF["hs_configural"]["group_labels"] == ["Pasteur", "Grant-White"]
    assert set(fit.parameters["group_label"]) == {"Pasteur", "Grant-White"}


@pytest.mark.parametrize(
    "lrt,levels,data,group",
    [
        ("hs_lrt", ("configural", "metric", "scalar", "strict"), HS, "school"),
        ("gender_lrt", ("configural", "metric", "scalar", "strict"), INV, "gender"),
        ("country_lrt", ("configural", "metric", "scalar"), INV, "country"),
    ],
)
def test_invariance_table_matches_lavTestLRT(lrt, levels, data, group):
    model = HS_MODEL if data is HS else INV_MODEL
    res = invariance(data, model, group, levels=levels)
    ref = REF[lrt]
    tab = res.table
    assert list(tab["model"]) == list(levels)
    for ours, theirs in [("df", "Df"), ("aic", "AIC"), ("bic", "BIC"), ("chisq", "Chisq"),
                         ("delta_chisq", "Chisq_diff"), ("rmsea_d", "RMSEA"),
                         ("delta_df", "Df_diff"), ("delta_pvalue", "p")]:
        for a, b in zip(tab[ours], ref[theirs]):
            if b is None:
                assert math.isnan(a)
            else:
                assert close(a, b), (ours, a, b)
    # changes in CFI / RMSEA from the individual lavaan fits
    prefix = lrt.split("_")[0]
    cfis = [REF[f"{prefix}_{lev}"]["fit"]["cfi"] for lev in levels]
    rmseas = [REF[f"{prefix}_{lev}"]["fit"]["rmsea"] for lev in levels]
    assert np.allclose(tab["delta_cfi"].iloc[1:], np.diff(cfis), atol=1e-4)
    assert np.allclose(tab["delta_rmsea"].iloc[1:], np.diff(rmseas), atol=1e-4)
    assert res.to_frame().equals(tab)
    assert set(res.fits) == set(levels)


def test_invariance_verdicts_find_the_planted_intercept_difference():
    res = invariance(INV, INV_MODEL, "gender", levels=("configural", "metric", "scalar"))
    v = dict(zip(res.table["model"], res.table["verdict"]))
    assert v["metric"] == "tenable"  # loadings were generated equal
    assert v["scalar"] == "not tenable"  # i4's intercept is shifted for M
    assert res.table["delta_cfi"].iloc[2] < -0.01
    assert "guidance" in res.guidance and "Chen 2007" in res.guidance
    text = res.summary()
    assert "scalar" in text and "not tenable" in text
    assert "build on a rejected model" not in res.guidance  # scalar is the last level here
    four = invariance(INV, INV_MODEL, "gender", levels=("configural", "metric", "scalar", "strict"))
    assert "The scalar model is not tenable" in four.guidance
    # partial invariance: freeing i4's intercept restores scalar invariance
    part = invariance(INV, INV_MODEL, "gender", partial=("i4~1",))
    assert part.table["verdict"].iloc[2] == "tenable"


def test_ci_level_is_honoured():
    fit = cfa(HS, HS_MODEL, ci=0.90)
    p = fit.parameters[fit.parameters.free]
    z = 1.6448536269514722
    assert np.allclose(p.ci_low, p.est - z * p.se) and np.allclose(p.ci_high, p.est + z * p.se)
    assert fit.ci == 0.90
    base = fitted("hs_3f")
    assert np.allclose(p.est, base.parameters[base.parameters.free].est)


def test_meanstructure_single_group_gives_sample_means_and_same_chisq():
    fit = cfa(HS, HS_MODEL, meanstructure=True)
    base = fitted("hs_3f")
    assert close(fit.chisq, base.chisq, rtol=1e-6) and fit.df == base.df
    nu = fit.parameters[fit.parameters.op == "~1"].set_index("lhs")["est"]
    assert np.allclose(nu[[f"x{k}" for k in range(1, 10)]], HS[[f"x{k}" for k in range(1, 10)]].mean())


def test_result_object_shapes():
    fit = fitted("hs_configural")
    fm = fit.fit_measures()
    assert fm["chisq"] == fit.chisq and "srmr" in fm.index
    row = fit.to_frame()
    assert row.shape[0] == 1 and "cfi" in row.columns
    assert set(fit.implied_cov) == {"Pasteur", "Grant-White"}
    assert fit.implied_cov["Pasteur"].shape == (9, 9)
    assert len(fit.loadings) == 18
    text = fit.summary()
    assert "CFI = 0.923" in text and "Pasteur" in text and "Parameter estimates" in text
    assert list(fit.parameters.columns[:6]) == ["lhs", "op", "rhs", "group", "group_label", "label"]
    for col in ["est", "se", "z", "pvalue", "ci_low", "ci_high", "std_all"]:
        assert col in fit.parameters.columns


# ---------------------------------------------------------------------------
# bad input and warnings
# ---------------------------------------------------------------------------


def test_heywood_case_warns_naming_the_variable():
    with pytest.warns(UserWarning, match=r"negative residual variance \(Heywood case\) for \['h1'\]"):
        fit = cfa(HEY, "f =~ h1 + h2 + h3 + h4")
    theta = fit.parameters.set_index(["lhs", "op", "rhs"])["est"][("h1", "~~", "h1")]
    assert theta < 0
    ref = pd.DataFrame(REF["heywood"]["estimates"]).set_index(["lhs", "op", "rhs"])["est"]
    assert close(theta, ref[("h1", "~~", "h1")])
    assert any("Heywood" in n for n in fit.notes)


def test_unknown_variables_are_named():
    with pytest.raises(InputError, match=r"not columns of the data: \['y12', 'zz'\]"):
        cfa(HS, HS_MODEL + "\nextra =~ x1 + y12 + zz")


def test_unsupported_operator_names_the_line():
    with pytest.raises(LavaanSyntaxError, match=r"line 4 .*regressions"):
        cfa(HS, HS_MODEL + "\nvisual ~ textual")
    with pytest.raises(LavaanSyntaxError, match=r"line 2 .*':='"):
        cfa(HS, "visual =~ x1 + x2 + x3\nd := a - b")
    with pytest.raises(LavaanSyntaxError, match=r"line 1 .*'\|'"):
        cfa(HS, "x1 | t1")


def test_single_indicator_latent_is_not_identified():
    with pytest.raises(InputError, match=r"latent 'lone' has a single indicator \('x4'\)"):
        cfa(HS, "visual =~ x1 + x2 + x3\nlone =~ x4")
    with pytest.raises(InputError, match="single indicator"):
        cfa(HS, "visual =~ x1 + x2 + x3\nlone =~ x4", std_lv=True)
    # with the residual variance fixed it is identified (what lavaan does silently)
    fit = cfa(HS, "visual =~ x1 + x2 + x3\nlone =~ x4\nx4 ~~ 0*x4")
    var = fit.parameters.set_index(["lhs", "op", "rhs"])["est"][("lone", "~~", "lone")]
    assert close(var, float(HS.x4.var(ddof=0)), rtol=1e-6)


def test_latent_without_scale_and_empirically_unidentified_models():
    with pytest.raises(InputError, match=r"latent 'visual' has no scale"):
        cfa(HS, "visual =~ NA*x1 + x2 + x3\ntextual =~ x4 + x5 + x6")
    with pytest.raises(InputError, match=r"not identified \(the information matrix is singular\)"):
        cfa(HS, "visual =~ x1 + x2\ntextual =~ x4 + x5 + x6\nvisual ~~ 0*textual")
    with pytest.raises(InputError, match=r"df = -"):
        cfa(HS, "f =~ x1 + x2\nx1 ~~ x2")


def test_singular_and_constant_covariance_matrices():
    d = HS.assign(x10=HS.x1 + HS.x2)
    with pytest.raises(InputError, match=r"singular .*\['x10', 'x2', 'x1'\]|singular .*x10"):
        cfa(d, "visual =~ x1 + x2 + x10")
    with pytest.raises(InputError, match=r"\['c'\] are constant"):
        cfa(HS.assign(c=1.0), "visual =~ x1 + x2 + c")


def test_small_group_is_named_with_its_n():
    d = HS.copy()
    d.loc[:5, "school"] = "Tiny"
    with pytest.raises(InputError, match=r"group 'Tiny' has n = 6 complete cases for 9 observed"):
        cfa(d, HS_MODEL, group="school")
    with pytest.raises(InputError, match=r"single group"):
        cfa(HS[HS.school == "Pasteur"], HS_MODEL, group="school")


def test_few_cases_per_parameter_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfa(HS.iloc[:100], HS_MODEL)
    messages = [str(w.message) for w in caught]
    assert any("N = 100 is less than 5 cases per free parameter (21 parameters)" in m for m in messages)


def test_listwise_deletion_is_announced():
    d = HS.copy()
    d.loc[[3, 10, 20], "x4"] = np.nan
    with pytest.warns(UserWarning, match=r"dropped 3 of 301 rows .*rows 3, 10, 20"):
        fit = cfa(d, HS_MODEL)
    assert fit.n == 298 and fit.n_dropped == 3
    expected = cfa(HS.drop(index=[3, 10, 20]), HS_MODEL)
    assert close(fit.chisq, expected.chisq, rtol=1e-9)


def test_non_numeric_and_other_bad_options():
    bad = HS.assign(x1=HS.x1.astype(object))
    bad.loc[4, "x1"] = "n/a"
    with pytest.raises(InputError, match=r"column 'x1' has 1 non-numeric values \(row 4\)"):
        cfa(bad, HS_MODEL)
    with pytest.raises(InputError, match="equal= and partial= need group="):
        cfa(HS, HS_MODEL, equal="loadings")
    with pytest.raises(InputError, match="unknown equal= name 'slopes'"):
        cfa(HS, HS_MODEL, group="school", equal="slopes")
    with pytest.raises(InputError, match="equal='thresholds' is for ordered indicators"):  # WLSMV only
        cfa(HS, HS_MODEL, group="school", equal="thresholds")
    with pytest.raises(InputError, match="missing must be 'listwise'"):  # "ml" is FIML now
        cfa(HS, HS_MODEL, missing="pairwise")
    with pytest.raises(InputError, match="estimator must be one of"):
        cfa(HS, HS_MODEL, estimator="MLR")
    with pytest.raises(InputError, match="ci must be between"):
        cfa(HS, HS_MODEL, ci=95)
    with pytest.raises(InputError, match="group column 'site' is not in the data"):
        cfa(HS, HS_MODEL, group="site")
    with pytest.raises(InputError, match="pandas DataFrame"):
        cfa(HS.to_numpy(), HS_MODEL)
    with pytest.raises(InputError, match="second-order"):
        cfa(HS, HS_MODEL + "\ng =~ visual + textual + speed")
    with pytest.raises(InputError, match="indicators of no latent"):
        cfa(HS, "visual =~ x1 + x2 + x3\nx9 ~~ x9")
    with pytest.raises(InputError, match="not nested"):
        invariance(HS, HS_MODEL, "school", levels=("scalar", "metric"))
    with pytest.raises(InputError, match="unknown level 'weak'"):
        invariance(HS, HS_MODEL, "school", levels=("configural", "weak"))


def test_non_convergence_warns_with_advice(monkeypatch):
    def stuck(model, x0):
        return x0, False, 500

    monkeypatch.setattr(cfa_module._fit, "_optimise", stuck)
    with pytest.warns(UserWarning, match=r"did not converge after \d+ iterations; try a simpler model, "
                                         r"check the scaling"):
        fit = cfa(HS, HS_MODEL)
    assert not fit.converged
    assert "did not converge" in fit.summary()


def test_single_label_in_multigroup_warns_and_constrains():
    with pytest.warns(UserWarning, match="single label in a multi-group model"):
        fit = cfa(HS, "visual =~ x1 + a*x2 + x3", group="school")
    p = fit.parameters.set_index(["lhs", "op", "rhs", "group"])["est"]
    assert p[("visual", "=~", "x2", 1)] == p[("visual", "=~", "x2", 2)]
    # one label per group: no constraint, same as the configural fit
    per_group = cfa(HS, "visual =~ x1 + c(a1, a2)*x2 + x3", group="school")
    conf = cfa(HS, "visual =~ x1 + x2 + x3", group="school")
    assert close(per_group.chisq, conf.chisq, rtol=1e-8)


# ---------------------------------------------------------------------------
# syntax parser
# ---------------------------------------------------------------------------


def test_parser_reads_comments_semicolons_and_continuations():
    m = parse_model(
        """
        # a comment line
        visual =~ x1 +
                  x2      # continued after '+'
                  + x3    ! lavaan's other comment sign
        textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9
        x1 + x2 ~ 1
        """
    )
    assert m.latent == ("visual", "textual", "speed")
    assert m.observed == tuple(f"x{k}" for k in range(1, 10))
    ops = [(r.lhs, r.op, r.rhs) for r in m.rows]
    assert ("visual", "=~", "x3") in ops and ("x2", "~1", "") in ops
    assert m.rows[0].line == 3 and m.rows[-1].line == 7
    assert len(m.to_frame()) == len(m.rows)


def test_parser_modifiers():
    m = parse_model(
        "f =~ NA*x1 + 0.5*x2 + a*x3 + start(0.8)*x4 + label('b')*x5 + c(1, NA)*x6 + c(p, q)*x7"
        " + equal(\"a\")*x8 + start(1)*lab*x9; f ~~ 1*f; x1 ~~ 0*x2; x1 ~ -1.5e-1*1"
    )
    r = {(x.lhs, x.op, x.rhs): x for x in m.rows}
    assert r[("f", "=~", "x1")].fixed == (None,)
    assert r[("f", "=~", "x2")].fixed == (0.5,)
    assert r[("f", "=~", "x3")].label == ("a",)
    assert r[("f", "=~", "x4")].start == (0.8,) and r[("f", "=~", "x4")].fixed is None
    assert r[("f", "=~", "x5")].label == ("b",)
    assert r[("f", "=~", "x6")].fixed == (1.0, None)
    assert r[("f", "=~", "x7")].label == ("p", "q")
    assert r[("f", "=~", "x8")].label == ("a",)
    assert r[("f", "=~", "x9")].start == (1.0,) and r[("f", "=~", "x9")].label == ("lab",)
    assert r[("x1", "~~", "x2")].fixed == (0.0,)
    assert r[("x1", "~1", "")].fixed == (-0.15,)


@pytest.mark.parametrize(
    "text,match",
    [
        ("f =~ x1 + + x2", r"line 1 .*empty term"),
        ("f =~ x1\nf x2 x3\n", r"line 2 .*missing '\+' or operator between 'f' and 'x2'"),
        ("f =~ x1 + x2\nx3", r"line 2 .*no operator"),
        ("f =~ x1 + x2\ny ~ x1", r"line 2 .*regressions"),
        ("f =~ x1 + x2\nf == g", r"line 2 .*explicit constraints"),
        ("f =~ x1 + 1x2", r"not a valid variable name"),
        ("f =~ x1 + c(1, a)*x2", r"mixes numbers and labels"),
        ("f =~ x1 + 1*2*x2", r"two fixed modifiers"),
        ("f + g =~ x1", r"one latent variable per"),
        ("", r"model is empty"),
        ("f =~ f + x1", r"its own indicator"),
    ],
)
def test_parser_errors(text, match):
    with pytest.raises(LavaanSyntaxError, match=match):
        parse_model(text)


def test_duplicated_model_lines_are_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="duplicated"):
        fit = cfa(HS, HS_MODEL + "\nx7 ~~ x8\nx8 ~~ x7")
    assert (fit.parameters[(fit.parameters.op == "~~") & (fit.parameters.lhs != fit.parameters.rhs)
                           & fit.parameters.lhs.str.startswith("x")].shape[0]) == 1


def test_modifier_vector_length_must_match_groups():
    with pytest.raises(InputError, match="has 3 values but the model has 2 group"):
        cfa(HS, "visual =~ x1 + c(1, 2, 3)*x2 + x3", group="school")


# ---------------------------------------------------------------------------
# invariants
# ---------------------------------------------------------------------------


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scale=st.lists(st.floats(0.2, 5.0), min_size=9, max_size=9),
    shift=st.lists(st.floats(-10.0, 10.0), min_size=9, max_size=9),
    seed=st.integers(0, 1000),
)
def test_ml_fit_is_scale_invariant_and_ignores_row_order(scale, shift, seed):
    cols = [f"x{k}" for k in range(1, 10)]
    d = HS.copy()
    d[cols] = d[cols] * np.array(scale) + np.array(shift)
    d = d.sample(frac=1.0, random_state=seed)
    fit = cfa(d, HS_MODEL)
    base = fitted("hs_3f")
    assert close(fit.chisq, base.chisq, rtol=1e-6)
    assert close(fit.cfi, base.cfi, rtol=1e-6) and close(fit.srmr, base.srmr, rtol=1e-6)
    assert np.allclose(fit.parameters["std_all"], base.parameters["std_all"], atol=1e-6)
    assert np.allclose(fit.parameters["z"].fillna(0), base.parameters["z"].fillna(0), atol=1e-4)


def test_marker_and_std_lv_are_equivalent_parametrisations():
    a, b = fitted("hs_3f"), fitted("hs_stdlv")
    assert close(a.chisq, b.chisq, rtol=1e-7) and a.df == b.df
    sa = a.parameters.set_index(["lhs", "op", "rhs"])["std_all"]
    sb = b.parameters.set_index(["lhs", "op", "rhs"])["std_all"]
    assert np.allclose(sa, sb.loc[sa.index], atol=1e-6)


def test_multigroup_chisq_is_sum_of_group_contributions():
    conf = fitted("hs_configural")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fewer than 5 cases per parameter in each school
        parts = [cfa(HS[HS.school == s], HS_MODEL, meanstructure=True) for s in ["Pasteur", "Grant-White"]]
    assert close(conf.chisq, sum(p.chisq for p in parts), rtol=1e-7)
    assert conf.df == sum(p.df for p in parts)
    # RMSEA multiplies by sqrt(G)
    expected = math.sqrt(max(conf.chisq / conf.n / conf.df - 1 / conf.n, 0)) * math.sqrt(2)
    assert close(conf.rmsea, expected, rtol=1e-12)


# ---------------------------------------------------------------------------
# optimiser internals
# ---------------------------------------------------------------------------


def _internal_model(data, model, group=None, equal=()):
    parsed = parse_model(model)
    ov, lv = list(parsed.observed), list(parsed.latent)
    labels, S, ybar, nobs = cfa_module._checks._group_moments(data[ov], None if group is None else data[group], ov)
    ms = group is not None
    rows = cfa_module._partable._build_partable(parsed, ov, lv, len(labels), False, ms, equal, ())
    return cfa_module._model._Model(rows, len(ov), len(lv), len(labels), ms, S, ybar, nobs), lv


@pytest.mark.parametrize("group,equal", [(None, ()), ("school", ("loadings", "intercepts"))])
def test_analytic_gradient_and_hessian_match_finite_differences(group, equal):
    mdl, lv = _internal_model(HS, HS_MODEL + "\nx7 ~~ x8", group, equal)
    x = cfa_module._starts._start_values(mdl, lv, "pa") * 1.05 + 0.02
    grad, _ = mdl.gradient_information(x)
    H = mdl.hessian(x)
    h = 1e-6
    for k in range(mdl.nx):
        e = np.zeros(mdl.nx)
        e[k] = h
        fd_grad = (mdl.discrepancy(x + e)[0] - mdl.discrepancy(x - e)[0]) / (2 * h)
        fd_col = (mdl.gradient_information(x + e, information=False)[0]
                  - mdl.gradient_information(x - e, information=False)[0]) / (2 * h)
        assert abs(fd_grad - grad[k]) < 1e-6 * max(1.0, abs(grad[k]))
        assert np.allclose(fd_col, H[:, k], atol=1e-6 * max(1.0, np.abs(H).max()))


def test_trust_region_newton_fallback_reaches_the_lavaan_solution(monkeypatch):
    # force Fisher scoring to give up at once: the trust-region Newton step must finish
    monkeypatch.setattr(cfa_module._optimiser, "_fisher_scoring", lambda model, x0, max_iter=0: (x0, False, 0))
    fit = cfa(HS, HS_MODEL, group="school", equal="loadings")
    assert fit.converged
    ref = REF["hs_metric"]["fit"]
    assert close(fit.chisq, ref["chisq"]) and close(fit.cfi, ref["cfi"])
    est = pd.DataFrame(REF["hs_metric"]["estimates"])
    assert np.allclose(fit.parameters["est"], est["est"], rtol=RTOL, atol=ATOL)


def test_lavaan_like_starting_values_are_fabin3():
    # lav_cfa_1fac_fabin (fabin3) for four or more indicators; 3-indicator closed form
    S = HS[["x1", "x2", "x3"]].cov(ddof=0).to_numpy()
    lam, psi = cfa_module._starts._fabin(S)
    assert lam[0] == 1 and close(lam[1], S[2, 1] / S[2, 0], rtol=1e-12)
    assert close(psi, S[1, 0] * S[2, 0] / S[2, 1], rtol=1e-12)
    S4 = HS[["x4", "x5", "x6", "x7"]].cov(ddof=0).to_numpy()
    lam4, _ = cfa_module._starts._fabin(S4)
    idx3 = [1, 3]
    tmp = np.linalg.solve(S4[np.ix_(idx3, idx3)], S4[idx3, 0])
    assert close(lam4[2], (S4[2, idx3] @ tmp) / (S4[idx3, 0] @ tmp), rtol=1e-10)
