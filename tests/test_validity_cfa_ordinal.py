"""Ordinal CFA (WLSMV) and ordinal measurement invariance against lavaan.

Reference values: tests/reference/validity_cfa_ordinal.R (lavaan 0.6.14) ->
tests/reference/validity_cfa_ordinal.json, on the synthetic items made by
tests/reference/make_validity_cfa_ordinal_data.py.  Estimates, thresholds, robust
standard errors, scaled chi-squares and scaled fit measures agree to 1e-3 relative
(measured: <= 6e-5, most <= 1e-6); sample thresholds, polychorics and lavaan's NACOV
to 1e-6.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.factor_analysis.confirmatory import cfa, invariance, scaled_difference_test
from veplab.factor_analysis.confirmatory._ordinal import _ordinal_codes, _sample_stats

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "validity_cfa_ordinal.json").read_text())
DATA = pd.read_csv(REF_DIR / "data" / "validity_cfa_ordinal.csv")
MODEL = "f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6"
ITEMS = [f"y{j}" for j in range(1, 7)]
RTOL, ATOL = 1e-3, 1e-5

FIT_FIELDS = {
    "npar": "npar", "chisq": "chisq", "df": "df", "chisq.scaled": "chisq_scaled",
    "df.scaled": "df_scaled", "pvalue.scaled": "pvalue_scaled",
    "chisq.scaling.factor": "chisq_scaling_factor", "baseline.chisq": "baseline_chisq",
    "baseline.df": "baseline_df", "baseline.chisq.scaled": "baseline_chisq_scaled",
    "baseline.df.scaled": "baseline_df_scaled", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
    "cfi.scaled": "cfi_scaled", "tli.scaled": "tli_scaled", "rmsea.scaled": "rmsea_scaled",
    "srmr": "srmr", "ntotal": "n",
}


@functools.lru_cache(maxsize=None)
def _invariance(group: str):
    return invariance(DATA, MODEL, group, ordered=True)


@functools.lru_cache(maxsize=None)
def _fit(name: str):
    if name == "single":
        return cfa(DATA, MODEL, ordered=True, estimator="WLSMV")
    if name == "single_stdlv_rescov":
        return cfa(DATA, MODEL + "\ny2 ~~ y3", ordered=ITEMS, std_lv=True)
    if name == "lang_thresholds_lavaan":
        return cfa(DATA, MODEL, ordered=True, group="lang", equal="thresholds")
    if name == "single_theta":
        return cfa(DATA, MODEL, ordered=True, parameterization="theta")
    if name == "gender_configural_theta":
        return cfa(DATA, MODEL, ordered=True, group="gender", parameterization="theta")
    if name == "gender_scalar_theta":
        return cfa(DATA, MODEL, ordered=True, group="gender", equal=("thresholds", "loadings"),
                   parameterization="theta")
    if name == "lang_scalar_partial":
        return cfa(DATA, MODEL, ordered=True, group="lang", equal=("thresholds", "loadings"),
                   partial=("y3|t1", "y3|t2", "y3|t3"))
    group, level = name.split("_")
    return _invariance(group).fits[level]


CASES = ["single", "single_stdlv_rescov", "lang_thresholds_lavaan", "single_theta",
         "gender_configural_theta", "gender_scalar_theta", "lang_scalar_partial"] + [
    f"{g}_{lev}" for g in ("lang", "gender") for lev in ("configural", "thresholds", "metric", "scalar")]


def _close(a: float, b: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    return abs(a - b) <= max(rtol * abs(b), atol)


@pytest.mark.parametrize("name", CASES)
def test_estimates_and_robust_se_match_lavaan(name: str) -> None:
    ref = REF[name]["estimates"]
    fit = _fit(name)
    table = fit.parameters.set_index(["lhs", "op", "rhs", "group"])
    assert len(table) == len(ref["lhs"])
    bad = []
    for k in range(len(ref["lhs"])):
        key = (ref["lhs"][k], ref["op"][k], ref["rhs"][k], ref["group"][k])
        row = table.loc[key]
        for col, rcol in (("est", "est"), ("se", "se"), ("std_all", "std.all")):
            if not _close(float(row[col]), float(ref[rcol][k])):
                bad.append((key, col, float(row[col]), ref[rcol][k]))
    assert not bad, bad[:5]
    assert fit.converged
    nobs = REF[name]["nobs"]
    assert fit.group_sizes.tolist() == (nobs if isinstance(nobs, list) else [nobs])


@pytest.mark.parametrize("name", CASES)
def test_scaled_fit_measures_match_lavaan(name: str) -> None:
    ref = REF[name]["fit"]
    fit = _fit(name)
    for rname, field in FIT_FIELDS.items():
        assert _close(float(getattr(fit, field)), float(ref[rname]), atol=1e-7), (rname, getattr(fit, field), ref[rname])
    assert _close(fit.chisq_shift, REF[name]["shift"], atol=1e-7)
    assert fit.estimator == "WLSMV" and fit.test == "scaled.shifted" and fit.se_type == "robust.sem"


def test_sample_statistics_and_nacov_match_lavaan() -> None:
    _, codes, levels = _ordinal_codes(DATA[ITEMS], None, ITEMS, None)
    st = _sample_stats(codes[0], [len(v) for v in levels])
    ref = REF["sample"]
    nth = len(ref["th"])
    np.testing.assert_allclose(st.th, ref["th"], rtol=1e-10)
    np.testing.assert_allclose(st.s[nth:], ref["cov"], rtol=1e-6)
    np.testing.assert_allclose(np.diag(st.gamma), ref["gamma_diag"], rtol=1e-6)
    np.testing.assert_allclose(st.gamma[0], ref["gamma_row1"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(st.gamma[-1], ref["gamma_last"], rtol=1e-6, atol=1e-9)
    fit = _fit("single")
    np.testing.assert_allclose(fit.sample_thresholds["all"].to_numpy(), ref["th"], rtol=1e-10)
    assert list(fit.sample_thresholds["all"].index[:3]) == ref["th_names"][:3]


@pytest.mark.parametrize("group", ["lang", "gender"])
def test_invariance_scaled_difference_tests_match_lavtestlrt(group: str) -> None:
    res = _invariance(group)
    ref = REF[f"{group}_lrt"]
    tab = res.table
    assert list(tab["model"]) == ["configural", "thresholds", "metric", "scalar"]
    np.testing.assert_allclose(tab["delta_chisq"].to_numpy()[1:], ref["chisq_diff"], rtol=1e-3)
    np.testing.assert_array_equal(tab["delta_df"].to_numpy()[1:], ref["df_diff"])
    np.testing.assert_allclose(tab["delta_pvalue"].to_numpy()[1:], ref["pvalue"], rtol=1e-3)
    test = scaled_difference_test(res.fits["configural"], res.fits["scalar"])
    t, m, p = test  # a DifferenceTest unpacks as lavTestLRT's last row
    ref2 = REF[f"{group}_lrt_scalar_vs_configural"]
    assert _close(t, ref2["chisq_diff"]) and m == ref2["df_diff"] and _close(p, ref2["pvalue"])
    assert (test.statistic, test.df, test.p) == (t, m, p) and f"on {m} df" in test.summary()
    assert (test[0], test[2], len(test)) == (t, p, 3)  # indexes as the tuple it replaces
    with pytest.raises(InputError, match="no restriction to test"):
        scaled_difference_test(res.fits["scalar"], res.fits["scalar"])
    # the table reports the scaled statistics of each model
    assert tab["chisq"].iloc[0] == pytest.approx(REF[f"{group}_configural"]["fit"]["chisq.scaled"], rel=1e-4)
    assert tab["chisq_dwls"].iloc[0] == pytest.approx(REF[f"{group}_configural"]["fit"]["chisq"], rel=1e-4)


def test_planted_threshold_shift_is_found_at_the_scalar_step() -> None:
    # y3's thresholds are shifted by +0.5 for lang == "ar": under Wu & Estabrook's
    # identification the thresholds model absorbs it (item intercept), the scalar one does not
    tab = _invariance("lang").table.set_index("model")
    assert tab.loc["thresholds", "delta_pvalue"] > 0.05
    assert tab.loc["scalar", "delta_pvalue"] < 1e-5
    assert tab.loc["scalar", "verdict"] == "not tenable"
    nu = _invariance("lang").fits["metric"].parameters.query("lhs == 'y3' and op == '~1'")
    ar = nu[nu["group_label"] == "ar"]
    assert float(ar["est"].iloc[0]) == 0.0  # reference group: "ar" appears first in the data
    shifted = nu[nu["group_label"] != "ar"]["est"].to_numpy()
    # ar's higher thresholds are, relative to ar, higher item intercepts in en and fr
    assert np.all(shifted > 0.3)


def test_summary_and_fit_measures_series() -> None:
    fit = _fit("single")
    text = fit.summary()
    assert "WLSMV" in text and "scaled-shifted chi-square(8) = 6.079" in text and "t3" in text
    fm = fit.fit_measures()
    assert fm["chisq_scaled"] == pytest.approx(REF["single"]["fit"]["chisq.scaled"], rel=1e-4)
    assert "cfi_scaled" in fm.index and "aic" not in fm.index
    assert math.isnan(fit.aic)


def _df_with(**cols) -> pd.DataFrame:
    df = DATA.copy()
    for k, v in cols.items():
        df[k] = v
    return df


def test_bad_input_is_a_clear_error() -> None:
    cont = DATA["y1"] + np.linspace(0, 0.5, len(DATA))
    with pytest.raises(InputError, match="'y1' is declared ordered but has non-integer"):
        cfa(_df_with(y1=cont), MODEL, ordered=True)
    many = np.arange(len(DATA)) % 40
    with pytest.raises(InputError, match="'y2' is declared ordered but has 40 distinct values"):
        cfa(_df_with(y2=many), MODEL, ordered=True)
    y5 = DATA["y5"].where(~((DATA["lang"] == "fr") & (DATA["y5"] == 4)), 3)
    with pytest.raises(InputError, match=r"'y5' has no answers in category 4 in group 'fr' of 'lang'"):
        cfa(_df_with(y5=y5), MODEL, ordered=True, group="lang")
    with pytest.raises(InputError, match=r"indicators \['y4', 'y5', 'y6'\] are not in ordered="):
        cfa(DATA, MODEL, ordered=["y1", "y2", "y3"])
    with pytest.raises(InputError, match="not in the data"):
        cfa(DATA, MODEL, ordered=["y1", "nope"])
    with pytest.raises(InputError, match="estimator='WLSMV' is for ordered"):
        cfa(DATA, MODEL, estimator="WLSMV")
    with pytest.raises(InputError, match="equal='thresholds' is for ordered"):
        cfa(DATA, MODEL, group="lang", equal="thresholds")
    with pytest.raises(InputError, match="residual variance of an ordered"):
        cfa(DATA, MODEL + "\ny1 ~~ y1", ordered=True)
    with pytest.raises(InputError, match="id_cat"):
        cfa(DATA, MODEL, ordered=True, id_cat="Millsap")
    binary = (DATA["y1"] > 2).astype(int) + 1
    with pytest.raises(InputError, match="not identified"):
        cfa(_df_with(y1=binary), MODEL, ordered=True, group="gender", equal="thresholds",
            id_cat="Wu.Estabrook.2016")
    ml = cfa(DATA, MODEL, group="gender")
    with pytest.raises(InputError, match="ordinal \\(WLSMV\\)"):
        scaled_difference_test(ml, _fit("gender_scalar"))
    with pytest.raises(InputError, match="Swap them"):
        scaled_difference_test(_fit("gender_scalar"), _fit("gender_configural"))
    with pytest.raises(InputError, match="unknown level 'strict' for ordered items"):
        invariance(DATA, MODEL, "gender", ordered=True, levels=("configural", "strict"))


def test_theta_parameterization_gives_the_same_fit_and_invariance_tests() -> None:
    # equivalent models: same chi-square, same scaled difference test
    res = invariance(DATA, MODEL, "gender", ordered=True, levels=("configural", "scalar"),
                     parameterization="theta")
    ref = REF["gender_lrt_scalar_vs_configural"]
    assert res.table["delta_chisq"].iloc[1] == pytest.approx(ref["chisq_diff"], rel=1e-3)
    assert res.fits["scalar"].chisq == pytest.approx(REF["gender_scalar_theta"]["fit"]["chisq"], rel=1e-4)
    assert res.fits["scalar"].parameterization == "theta"


def test_rows_with_missing_answers_are_dropped_listwise_with_a_warning() -> None:
    df = DATA.copy()
    df.loc[[3, 10, 11], "y2"] = np.nan
    with pytest.warns(UserWarning, match="dropped 3 of 900 rows with missing values"):
        fit = cfa(df, MODEL, ordered=True)
    assert fit.n == 897 and fit.n_dropped == 3
    same = cfa(DATA.drop(index=[3, 10, 11]), MODEL, ordered=True)
    assert fit.chisq_scaled == pytest.approx(same.chisq_scaled, rel=1e-12)

