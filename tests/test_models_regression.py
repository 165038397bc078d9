"""veplab.models.logit / ordinal against R glm + sandwich and MASS::polr (tests/reference/factors_regression.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.models import logit, ordinal, plot_forest

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "factors_regression.json").read_text())
SURVEY = pd.read_csv(REF / "data" / "factors_reg_survey.csv")
F = "violent ~ grievance + peers + trust_staff + gender + country"
FO = "endorse ~ grievance + peers + trust_staff + country"


def _by_term(table: pd.DataFrame, col: str) -> dict:
    return dict(zip(table["term"], table[col]))


def _close(ours: dict, ref: dict, rel: float) -> None:
    assert set(ours) == set(ref), (sorted(ours), sorted(ref))
    for k, v in ref.items():
        assert ours[k] == pytest.approx(v, rel=rel), k


# ------------------------------------------------------------------ logit
def test_logit_matches_glm():
    fit = logit(SURVEY, F)
    r = R["logit"]
    assert list(fit.coefficients["term"]) == list(r["coef"])  # R's names and order
    _close(_by_term(fit.coefficients, "estimate"), r["coef"], 1e-8)
    _close(_by_term(fit.coefficients, "se"), r["se_model"], 1e-8)
    assert fit.loglik == pytest.approx(r["loglik"], rel=1e-10)
    assert fit.deviance == pytest.approx(r["deviance"], rel=1e-10)
    assert fit.null_deviance == pytest.approx(r["null_deviance"], rel=1e-10)
    assert fit.aic == pytest.approx(r["aic"], rel=1e-10) and fit.bic == pytest.approx(r["bic"], rel=1e-10)
    assert fit.df_resid == r["df_residual"] and fit.n == r["n"]
    assert fit.vcov_type == "model" and fit.event == 1
    c = fit.coefficients
    assert np.allclose(c["odds_ratio"], np.exp(c["estimate"]))
    assert np.allclose(c["or_ci_low"], np.exp(c["estimate"] - 1.959963984540054 * c["se"]))


def test_logit_cluster_robust_matches_sandwich_vcovcl_hc1():
    r = R["logit"]
    # the fixture checked sandwich's vcovCL against G/(G-1) (N-1)/(N-K) B M B written out
    assert r["max_abs_diff_sandwich_vs_hand"] < 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 41 clusters incl. a single-respondent prison: no warning
        fit = logit(SURVEY, F, cluster="prison")
    assert fit.n_clusters == r["n_clusters"] == 41 and fit.vcov_type == "CR1"
    _close(_by_term(fit.coefficients, "se"), r["se_cluster"], 1e-7)
    V = np.array(r["vcov_cluster"]["rows"])
    assert np.allclose(fit.vcov.to_numpy(), V, rtol=1e-7, atol=1e-12)
    _close(_by_term(fit.coefficients, "estimate"), r["coef"], 1e-8)


def test_logit_cluster_matches_statsmodels_cluster():
    import statsmodels.api as sm

    fit = logit(SURVEY, F, cluster="prison")
    X = pd.get_dummies(SURVEY[["grievance", "peers", "trust_staff", "gender", "country"]], drop_first=True,
                       dtype=float)
    X.insert(0, "const", 1.0)
    groups = pd.factorize(SURVEY["prison"])[0]
    sm_fit = sm.GLM(SURVEY["violent"], X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, tol=1e-12)
    assert fit.coefficients["estimate"].to_numpy() == pytest.approx(sm_fit.params.to_numpy(), rel=1e-7)
    assert fit.coefficients["se"].to_numpy() == pytest.approx(sm_fit.bse.to_numpy(), rel=1e-7)


def test_logit_probability_weights_robust_as_sandwich():
    r = R["logit_pweight"]
    assert r["max_abs_diff_sandwich_vs_hand"] < 1e-6
    fit = logit(SURVEY, F, weights="pweight")
    assert fit.vcov_type == "HC1" and fit.weight_type == "probability"
    _close(_by_term(fit.coefficients, "estimate"), r["coef"], 1e-8)
    _close(_by_term(fit.coefficients, "se"), r["se_hc1"], 1e-6)
    assert np.isnan(fit.aic)
    fitc = logit(SURVEY, F, weights="pweight", cluster="prison")
    _close(_by_term(fitc.coefficients, "se"), r["se_cluster"], 1e-6)


def test_logit_frequency_weights_equal_expanded_data():
    r = R["logit_fweight"]
    fit = logit(SURVEY, F, weights="fweight", weight_type="frequency")
    _close(_by_term(fit.coefficients, "estimate"), r["coef"], 1e-8)
    _close(_by_term(fit.coefficients, "se"), r["se_model"], 1e-8)
    _close(_by_term(fit.coefficients, "se"), r["expanded_se_model"], 1e-8)
    assert fit.loglik == pytest.approx(r["loglik"], rel=1e-10)
    expanded = SURVEY.loc[SURVEY.index.repeat(SURVEY["fweight"])]
    big = logit(expanded, F)
    assert big.coefficients["se"].to_numpy() == pytest.approx(fit.coefficients["se"].to_numpy(), rel=1e-8)
    assert big.bic == pytest.approx(fit.bic, rel=1e-10) and big.df_resid == fit.df_resid
    fitc = logit(SURVEY, F, weights="fweight", weight_type="frequency", cluster="prison")
    _close(_by_term(fitc.coefficients, "se"), r["se_cluster"], 1e-7)


def test_logit_interaction_names_order_and_values():
    r = R["logit_interaction"]
    fit = logit(SURVEY, "violent ~ grievance * gender + country", cluster="prison")
    assert list(fit.coefficients["term"]) == list(r["coef"])
    _close(_by_term(fit.coefficients, "estimate"), r["coef"], 1e-8)
    _close(_by_term(fit.coefficients, "se"), r["se_cluster"], 1e-7)


def test_logit_ci_level_and_robust_option():
    f95 = logit(SURVEY, F)
    f80 = logit(SURVEY, F, ci=0.8)
    c = f80.coefficients
    assert np.allclose(c["ci_high"] - c["estimate"], 1.2815515655446004 * c["se"])
    assert np.allclose(f80.coefficients["se"], f95.coefficients["se"])
    rob = logit(SURVEY, F, robust=True)
    assert rob.vcov_type == "HC1" and not np.allclose(rob.coefficients["se"], f95.coefficients["se"])


_VCOV_FITS = {
    "unweighted": {},
    "pweight": {"weights": "pweight"},
    "fweight": {"weights": "fweight", "weight_type": "frequency"},
}


@pytest.mark.parametrize("vcov", ["HC0", "HC1", "HC3", "CR0", "CR1"])
@pytest.mark.parametrize("fitname", list(_VCOV_FITS))
def test_logit_every_vcov_matches_sandwich(vcov, fitname):
    """Issue 17: vcov= as sandwich::vcovHC / vcovCL(type=) (CR0 = vcovCL type HC0, CR1 = type HC1)."""
    ref = R["logit_vcov"][fitname][vcov]
    kw = dict(_VCOV_FITS[fitname])
    if vcov.startswith("CR"):
        kw["cluster"] = "prison"
    fit = logit(SURVEY, F, vcov=vcov, **kw)
    assert fit.vcov_type == vcov
    assert list(fit.vcov.columns) == ref["names"]
    V = np.array(ref["rows"])
    # each element judged on the scale of its row and column, sqrt(V_ii V_jj); with non-integer
    # probability weights R's glm stops a little short of the optimum (as in
    # test_logit_probability_weights_robust_as_sandwich), hence 1e-6 there
    tol = 1e-6 if fitname == "pweight" else 1e-7
    scale = np.sqrt(np.outer(np.diag(V), np.diag(V)))
    assert np.max(np.abs(fit.vcov.to_numpy() - V) / scale) < tol
    assert np.allclose(fit.coefficients["se"], np.sqrt(np.diag(V)), rtol=tol)


def test_logit_vcov_choices_relate_and_conflicts_are_errors():
    hc0 = logit(SURVEY, F, vcov="HC0").vcov.to_numpy()
    hc1 = logit(SURVEY, F, vcov="HC1")
    n, k = hc1.n, hc1.vcov.shape[0]
    assert np.allclose(hc1.vcov.to_numpy(), n / (n - k) * hc0, rtol=1e-12)
    assert np.allclose(hc1.vcov.to_numpy(), logit(SURVEY, F, robust=True).vcov.to_numpy(), rtol=1e-12)
    # defaults unchanged: model without options, HC1 with probability weights, CR1 with clusters
    assert logit(SURVEY, F).vcov_type == "model"
    assert logit(SURVEY, F, weights="pweight").vcov_type == "HC1"
    assert logit(SURVEY, F, cluster="prison").vcov_type == "CR1"
    with pytest.raises(InputError, match="cluster='prison' asks for cluster-robust.*CR0"):
        logit(SURVEY, F, cluster="prison", vcov="HC3")
    with pytest.raises(InputError, match="vcov='CR1' is cluster-robust; name the cluster column"):
        logit(SURVEY, F, vcov="CR1")
    with pytest.raises(InputError, match="probability.*model-based standard errors are wrong"):
        logit(SURVEY, F, weights="pweight", vcov="model")
    with pytest.raises(InputError, match="robust=True means vcov='HC1'"):
        logit(SURVEY, F, robust=True, vcov="HC0")
    with pytest.raises(InputError, match="vcov must be one of"):
        logit(SURVEY, F, vcov="HC2")


def test_sandwich_hc3_with_leverage_one_is_a_clear_error():
    from veplab._sandwich import sandwich

    X = np.column_stack([np.ones(3), [1.0, 0, 0]])
    with pytest.raises(InputError, match="leverage 1"):
        sandwich(np.eye(2), X, type="HC3", hat=np.array([1.0, 0.5, 0.5]), what="logit")


def test_logit_outcome_coding_categorical_and_bool():
    d = SURVEY.copy()
    d["violent_c"] = pd.Categorical(np.where(d["violent"] == 1, "yes", "no"), categories=["no", "yes"])
    d["violent_b"] = d["violent"] == 1
    a = logit(d, F.replace("violent", "violent_c"))
    b = logit(d, F.replace("violent", "violent_b"))
    assert a.event == "yes" and b.event is True
    _close(_by_term(a.coefficients, "estimate"), R["logit"]["coef"], 1e-8)
    _close(_by_term(b.coefficients, "estimate"), R["logit"]["coef"], 1e-8)


def test_logit_few_clusters_warns():
    d = SURVEY.copy()
    d["region"] = d["prison"].str[-1]  # 10 groups
    with pytest.warns(UserWarning, match="only 10 clusters.*unreliable"):
        fit = logit(d, F, cluster="region")
    assert fit.n_clusters == 10


def test_logit_missing_rows_dropped_with_warning():
    d = SURVEY.copy()
    d.loc[[3, 7], "grievance"] = np.nan
    d.loc[11, "prison"] = None
    with pytest.warns(UserWarning, match=r"dropped 3 of 800 rows.*'grievance': 2.*'prison': 1"):
        fit = logit(d, F, cluster="prison")
    assert fit.n == 797 and fit.n_dropped == 3


def test_logit_perfect_separation_is_a_clear_error():
    d = SURVEY.copy()
    d["flag"] = d["violent"]  # predicts the outcome exactly
    with pytest.raises(InputError, match=r"separation: 'flag'.*Merge sparse categories"):
        logit(d, "violent ~ grievance + flag")


def test_logit_quasi_separation_by_an_empty_category():
    d = SURVEY.copy()
    d["ptype"] = np.where(d.index % 9 == 0, "juvenile", "adult")
    d.loc[d["ptype"] == "juvenile", "violent"] = 0  # no events among juveniles
    with pytest.raises(InputError, match=r"separation: 'ptypejuvenile'"):
        logit(d, "violent ~ grievance + ptype")


def test_logit_collinear_terms_named():
    d = SURVEY.copy()
    d["grievance2"] = 2 * d["grievance"] + 1
    with pytest.raises(InputError, match=r"'grievance2' is a linear combination of '\(Intercept\)', 'grievance'"):
        logit(d, "violent ~ grievance + grievance2")


def test_logit_bad_input():
    with pytest.raises(InputError, match=r"'grievence'.*not in the data"):
        logit(SURVEY, "violent ~ grievence")
    with pytest.raises(InputError, match="outcome 'violet'"):
        logit(SURVEY, "violet ~ grievance")
    one = SURVEY.assign(violent=0)
    with pytest.raises(InputError, match="single class"):
        logit(one, "violent ~ grievance")
    with pytest.raises(InputError, match="4 distinct values.*ordinal"):
        logit(SURVEY, "endorse ~ grievance")
    with pytest.raises(InputError, match=r"\['blank'\] have no non-missing values"):
        logit(SURVEY.assign(blank=np.nan), "violent ~ grievance + blank")
    with pytest.raises(InputError, match="cluster='prisn'"):
        logit(SURVEY, F, cluster="prisn")
    with pytest.raises(InputError, match="weights column"):
        logit(SURVEY.assign(w=-1.0), F, weights="w")
    with pytest.raises(InputError, match="values \\[1, 2\\]"):
        logit(SURVEY.assign(y=SURVEY["violent"] + 1), "y ~ grievance")
    with pytest.raises(InputError):
        logit(SURVEY, F, weights="pweight", weight_type="importance")


def test_logit_unused_category_levels_are_dropped_like_r():
    d = SURVEY.copy()
    d["country"] = pd.Categorical(d["country"], categories=["A", "B", "C", "D"])
    fit = logit(d, F)
    _close(_by_term(fit.coefficients, "estimate"), R["logit"]["coef"], 1e-8)


def test_summary_reads():
    text = logit(SURVEY, F, cluster="prison").summary()
    assert "CR1, clustered by 'prison' (41 clusters)" in text and "odds_ratio" in text


# ------------------------------------------------------------------ ordinal (polr)
def _check_polr(fit, r, rel_coef=1e-6, rel_se=1e-5):
    _close(_by_term(fit.coefficients, "estimate"), r["coef"], rel_coef)
    _close(dict(zip(fit.thresholds["threshold"], fit.thresholds["estimate"])), r["zeta"], rel_coef)
    se = _by_term(fit.coefficients, "se") | dict(zip(fit.thresholds["threshold"], fit.thresholds["se"]))
    _close(se, r["se"], rel_se)
    assert fit.loglik == pytest.approx(r["loglik"], rel=1e-9)
    assert fit.aic == pytest.approx(r["aic"], rel=1e-9)
    assert fit.converged


def test_ordinal_logit_matches_polr():
    fit = ordinal(SURVEY, FO)
    _check_polr(fit, R["polr"]["logit"])
    assert list(fit.thresholds["threshold"]) == ["1|2", "2|3", "3|4"]
    c = fit.coefficients
    assert np.allclose(c["odds_ratio"], np.exp(c["estimate"]))
    assert fit.n == R["polr"]["logit"]["n"]


@pytest.mark.parametrize("link, formula, key", [
    ("probit", FO, "probit"),
    ("cloglog", "endorse ~ grievance + gender", "cloglog"),
])
def test_ordinal_other_links_match_polr(link, formula, key):
    fit = ordinal(SURVEY, formula, link=link)
    _check_polr(fit, R["polr"][key])
    assert "odds_ratio" not in fit.coefficients.columns


def test_ordinal_case_weights_match_polr():
    fit = ordinal(SURVEY, "endorse ~ grievance + gender", weights="fweight")
    _check_polr(fit, R["polr"]["weighted"])


def test_ordinal_ordered_categorical_outcome_and_tidy():
    d = SURVEY.copy()
    d["endorse"] = pd.Categorical(d["endorse"].map({1: "never", 2: "rarely", 3: "sometimes", 4: "often"}),
                                  categories=["never", "rarely", "sometimes", "often"], ordered=True)
    fit = ordinal(d, FO)
    _close(_by_term(fit.coefficients, "estimate"), R["polr"]["logit"]["coef"], 1e-6)
    assert list(fit.thresholds["threshold"]) == ["never|rarely", "rarely|sometimes", "sometimes|often"]
    tidy = fit.tidy()
    assert list(tidy["type"]).count("threshold") == 3 and {"term", "estimate", "se"} <= set(tidy.columns)
    assert "zeta_j - eta" in fit.summary()


def test_ordinal_text_outcome_with_levels_matches_polr_ordered():
    """Issue 17: a text outcome with levels= as R's polr(ordered(x, levels = ) ~ ...)."""
    txt = ["never", "rarely", "often", "always"]
    d = SURVEY.assign(endorse=SURVEY["endorse"].map(dict(zip([1, 2, 3, 4], txt))))
    fit = ordinal(d, FO, levels=txt)
    ref = R["polr"]["text_levels"]
    _check_polr(fit, ref)
    assert list(fit.thresholds["threshold"]) == list(ref["zeta"]) == ["never|rarely", "rarely|often", "often|always"]
    assert fit.levels == tuple(txt) and fit.outcome_counts["never"] == int((SURVEY["endorse"] == 1).sum())
    rev = ordinal(d, FO, levels=txt[::-1])
    _check_polr(rev, R["polr"]["text_levels_reversed"])
    assert np.allclose(rev.coefficients["estimate"], -fit.coefficients["estimate"], rtol=1e-6)
    # levels= also orders an unordered categorical and overrides a numeric order
    cat = d.assign(endorse=pd.Categorical(d["endorse"]))
    _check_polr(ordinal(cat, FO, levels=txt), ref)
    num = ordinal(SURVEY, FO, levels=[4, 3, 2, 1])
    _close(_by_term(num.coefficients, "estimate"), R["polr"]["text_levels_reversed"]["coef"], 1e-6)
    assert list(num.thresholds["threshold"]) == ["4|3", "3|2", "2|1"]
    assert num.thresholds["estimate"].to_numpy() == pytest.approx(
        list(R["polr"]["text_levels_reversed"]["zeta"].values()), rel=1e-6)


def test_ordinal_levels_errors_name_values_and_rows():
    txt = ["never", "rarely", "often", "always"]
    d = SURVEY.assign(endorse=SURVEY["endorse"].map(dict(zip([1, 2, 3, 4], txt))))
    with pytest.raises(InputError, match=r"is text .*levels=\[lowest"):
        ordinal(d, FO)
    with pytest.raises(InputError, match=r"\['always'\] that are not in levels=.*rows"):
        ordinal(d, FO, levels=txt[:3])
    with pytest.raises(InputError, match="more than once"):
        ordinal(d, FO, levels=["never", "rarely", "never", "often", "always"])
    with pytest.raises(InputError, match="must be a list"):
        ordinal(d, FO, levels="never")
    with pytest.raises(InputError, match=r"levels=\[lowest"):
        ordinal(d.assign(endorse=pd.Categorical(d["endorse"])), FO)


@pytest.mark.parametrize("vcov", ["HC0", "HC1", "CR0", "CR1"])
def test_ordinal_robust_vcov_matches_sandwich_on_polr(vcov):
    """The same sandwich as logit, with polr's scores (sandwich(fit), vcovCL(fit, type =))."""
    ref = R["polr_vcov"][vcov]
    kw = {"cluster": "prison"} if vcov.startswith("CR") else {}
    fit = ordinal(SURVEY, FO, vcov=vcov, **kw)
    assert fit.vcov_type == vcov and list(fit.vcov.columns) == ref["names"]
    V = np.array(ref["rows"])
    scale = np.sqrt(np.outer(np.diag(V), np.diag(V)))
    # polr's own optimum and finite-difference Hessian agree with ours to ~1e-6 (see _check_polr)
    assert np.max(np.abs(fit.vcov.to_numpy() - V) / scale) < 1e-5
    se = _by_term(fit.coefficients, "se") | dict(zip(fit.thresholds["threshold"], fit.thresholds["se"]))
    assert [se[t] for t in ref["names"]] == pytest.approx(np.sqrt(np.diag(V)), rel=1e-5)
    _close(_by_term(fit.coefficients, "estimate"), R["polr"]["logit"]["coef"], 1e-6)
    assert f"standard errors: {vcov}" in fit.summary()


def test_ordinal_vcov_defaults_and_errors():
    assert ordinal(SURVEY, FO).vcov_type == "model"
    assert ordinal(SURVEY, FO, cluster="prison").vcov_type == "CR1"
    with pytest.raises(InputError, match="HC3 needs hat values"):
        ordinal(SURVEY, FO, vcov="HC3")
    with pytest.raises(InputError, match="name the cluster column"):
        ordinal(SURVEY, FO, vcov="CR0")
    with pytest.raises(InputError, match="cluster='prison' asks for cluster-robust"):
        ordinal(SURVEY, FO, cluster="prison", vcov="HC1")
    with pytest.warns(UserWarning, match="only 3 clusters"):
        ordinal(SURVEY, FO, cluster="country")


def test_ordinal_errors_and_unused_levels():
    with pytest.raises(InputError, match="at least 3.*logit"):
        ordinal(SURVEY, "violent ~ grievance")
    d = SURVEY.copy()
    d["endorse"] = pd.Categorical(d["endorse"], categories=[1, 2, 3, 4, 5], ordered=True)
    with pytest.warns(UserWarning, match=r"categories \[5\].*no rows"):
        fit = ordinal(d, FO)
    _close(_by_term(fit.coefficients, "estimate"), R["polr"]["logit"]["coef"], 1e-6)
    sep = SURVEY.copy()
    sep["top"] = (sep["endorse"] == 4).astype(float)
    with pytest.raises(InputError, match=r"\['top'\].*separation"):
        ordinal(sep, "endorse ~ grievance + top")
    with pytest.raises(InputError, match="not in the data"):
        ordinal(SURVEY, "endorse ~ nothing")
    with pytest.raises(InputError, match="linear combination"):
        ordinal(SURVEY.assign(g2=SURVEY["grievance"] * 3), "endorse ~ grievance + g2")
    with pytest.raises(InputError):
        ordinal(SURVEY, FO, link="identity")


# ------------------------------------------------------------------ forest plot
def test_plot_forest_groups_by_domain():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fit = logit(SURVEY, F)
    ax = plot_forest(fit.coefficients, domains={"grievance": "push", "peers": "pull", "trust_staff": "protective"})
    labels = [t.get_text().strip() for t in ax.get_yticklabels()]
    assert labels[:3] == ["grievance", "peers", "trust_staff"] and "(Intercept)" not in labels
    assert ax.get_xscale() == "log"
    plt.close(ax.figure)
    assert [t.get_text() for t in fit.plot().get_yticklabels()] == list(fit.coefficients["term"][1:])
    ax = plot_forest(fit.coefficients.assign(dom="x"), group_col="dom", log=False)
    assert ax.get_xscale() == "linear"
    plt.close(ax.figure)
    with pytest.raises(InputError):
        plot_forest(pd.DataFrame({"x": [1]}))


def test_docstring_examples_run():
    import doctest

    import veplab.models.regression as mod

    assert doctest.testmod(mod).failed == 0
