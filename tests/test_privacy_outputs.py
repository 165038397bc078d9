"""Disclosure checks of model output, figure data and survival curves (veplab.privacy.outputs,
veplab.outcomes.truncate_at_risk)."""

from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veplab._validate import InputError
from veplab.models import logit, mixed_linear, mixed_logit, ordinal
from veplab.outcomes import (
    KaplanMeier,
    ancova,
    cox,
    did,
    kaplan_meier,
    plot_km,
    propensity,
    truncate_at_risk,
)
from veplab.privacy import (
    ROW_FLOOR,
    FigureCheck,
    ModelCheck,
    binned_counts,
    figure_data_check,
    model_disclosure,
)
from veplab.validity import calibration, roc_auc


# ====================================================================== models
def _gender_data(n_small: int, n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"x": rng.normal(size=n), "gender": ["1"] * (n - n_small) + ["2"] * n_small})
    d["y"] = (rng.random(n) < 0.4).astype(int)
    d.loc[d.index[-n_small:], "y"] = [0, 1] * (n_small // 2) + [1] * (n_small % 2)  # no separation
    return d


def test_logit_factor_category_of_5_is_refused_and_named():
    fit = logit(_gender_data(5), "y ~ x + gender")
    chk = model_disclosure(fit, threshold=10)
    assert isinstance(chk, ModelCheck)
    assert not chk.ok
    assert chk.reasons == ("category gender=2 of factor gender has 5 people (threshold 10)",)
    assert chk.smallest_category == 5
    assert chk.n == 200 and chk.df_resid == 197
    assert chk.model == "logistic regression"
    assert "residual degrees of freedom >= 10" in chk.rule
    assert fit.factor_counts == {"gender": {"1": 195, "2": 5}}


def test_logit_same_model_with_12_people_passes():
    fit = logit(_gender_data(12), "y ~ x + gender")
    chk = model_disclosure(fit, threshold=10)
    assert chk.ok and chk.reasons == ()
    assert chk.smallest_category == 12
    # a stricter threshold refuses the same model
    strict = model_disclosure(fit, threshold=15)
    assert not strict.ok and "gender=2 of factor gender has 12 people (threshold 15)" in strict.reasons[0]


def test_reference_category_is_checked_too():
    d = _gender_data(5)
    d["gender"] = d["gender"].map({"1": "b", "2": "a"})  # the small group is now the reference level
    chk = model_disclosure(logit(d, "y ~ x + gender"), threshold=10)
    assert not chk.ok and chk.reasons == ("category gender=a of factor gender has 5 people (threshold 10)",)


def test_two_valued_numeric_predictor_is_a_factor():
    d = _gender_data(12)
    d["female"] = 0
    d.loc[d.index[:4], "female"] = 1
    d.loc[d.index[:2], "y"] = [0, 1]
    chk = model_disclosure(logit(d, "y ~ x + female"), threshold=10)
    assert chk.reasons == ("category female=1 of factor female has 4 people (threshold 10)",)


def test_interaction_cell_is_checked():
    rng = np.random.default_rng(4)
    n = 240
    d = pd.DataFrame({"a": rng.choice(["p", "q"], n), "b": rng.choice(["u", "v"], n), "x": rng.normal(size=n)})
    # only 6 people with a=q and b=v
    d.loc[(d["a"] == "q") & (d["b"] == "v"), "b"] = "u"
    d.loc[d.index[:6], ["a", "b"]] = ["q", "v"]
    d["y"] = (rng.random(n) < 0.5).astype(int)
    d.loc[d.index[:6], "y"] = [0, 1, 0, 1, 0, 1]
    chk = model_disclosure(logit(d, "y ~ x + a * b"), threshold=10)
    assert not chk.ok
    assert chk.reasons == ("cell a=q, b=v of interaction a:b has 6 people (threshold 10)",)


def test_logistic_outcome_level_rule():
    rng = np.random.default_rng(2)
    d = pd.DataFrame({"x": rng.normal(size=300)})
    d["y"] = 0
    d.loc[d.index[:7], "y"] = 1
    fit = logit(d, "y ~ x")
    chk = model_disclosure(fit, threshold=10)
    assert not chk.ok
    assert chk.reasons == ("outcome level y=1 has 7 people (threshold 10)",)
    assert chk.smallest_category == 7
    assert fit.outcome_counts == {0: 293, 1: 7}
    # the other level counts too
    d["y"] = 1 - d["y"]
    chk0 = model_disclosure(logit(d, "y ~ x"), threshold=10)
    assert chk0.reasons == ("outcome level y=0 has 7 people (threshold 10)",)


def test_residual_degrees_of_freedom_rule():
    rng = np.random.default_rng(3)
    n = 20
    d = pd.DataFrame({"pre": rng.normal(size=n), "post": rng.normal(size=n), "g": ["c"] * 10 + ["t"] * 10})
    covs = [f"c{j}" for j in range(8)]
    for c in covs:
        d[c] = rng.normal(size=n)
    ok = model_disclosure(ancova(d, "post", "pre", "g", covs[:6]), threshold=10)
    assert ok.ok and ok.df_resid == 11  # 20 - (intercept, pre, group, 6 covariates)
    bad = model_disclosure(ancova(d, "post", "pre", "g", covs), threshold=10)
    assert not bad.ok and bad.df_resid == 9
    assert len(bad.reasons) == 1
    assert bad.reasons[0].startswith("residual degrees of freedom 9 are below the threshold 10 (n = 20, 11 parameters)")


def test_ordinal_outcome_levels_and_factors():
    rng = np.random.default_rng(5)
    n = 300
    d = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})
    d["y"] = np.digitize(d["x"] + rng.logistic(size=n), [-1.0, 0.0, 1.0]) + 1
    d.loc[d["y"] == 4, "y"] = 3
    d.loc[d.index[:4], "y"] = 4
    fit = ordinal(d, "y ~ x + g")
    chk = model_disclosure(fit, threshold=10)
    assert chk.reasons == ("outcome level y=4 has 4 people (threshold 10)",)
    assert set(fit.factor_counts) == {"g"}


def _clustered(seed: int = 6, small: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = [30] * 8 + [small]
    prison = np.repeat([f"P{i}" for i in range(len(sizes))], sizes)
    n = len(prison)
    u = dict(zip(np.unique(prison), rng.normal(scale=0.5, size=len(sizes))))
    d = pd.DataFrame({"prison": prison, "x": rng.normal(size=n), "gender": rng.choice(["m", "w"], n)})
    d["y"] = d["x"] + d["prison"].map(u) + rng.normal(size=n)
    return d


def test_mixed_linear_reports_clusters_and_notes_a_small_one():
    fit = mixed_linear(_clustered(), "y ~ x + gender", "prison")
    chk = model_disclosure(fit, threshold=10)
    assert chk.ok, chk.reasons
    assert chk.n == 244 and chk.df_resid == 244 - fit.npar
    assert chk.n_clusters == 9 and chk.smallest_cluster == 4
    assert len(chk.notes) == 1 and "1 of 9 'prison' clusters have fewer than 10 people" in chk.notes[0]
    assert chk.model == "linear mixed model"
    assert set(fit.factor_counts) == {"gender"}


def test_mixed_logit_outcome_rule():
    d = _clustered(seed=7, small=12)
    d["event"] = 0
    d.loc[d.index[::40], "event"] = 1  # 7 events
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mixed_logit(d, "event ~ x", "prison")
    chk = model_disclosure(fit, threshold=10)
    assert not chk.ok
    assert chk.reasons == ("outcome level event=1 has 7 people (threshold 10)",)
    assert chk.smallest_cluster == 12 and chk.notes == ()


def _surv_data(seed: int = 8, n: int = 120, small: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"t": rng.integers(1, 100, n).astype(float), "e": (rng.random(n) < 0.6).astype(int),
                      "grp": ["a"] * (n - small) + ["b"] * small, "age": rng.normal(35, 8, n)})
    d.loc[d.index[-small:], "e"] = [1, 0] * (small // 2)
    return d


def test_cox_factor_and_event_counts():
    d = _surv_data()
    fit = cox(d, "t", "e", ["grp", "age"])
    assert fit.factor_counts == {"grp": {"a": 114, "b": 6}}
    assert fit.outcome_counts == {"event": int(d["e"].sum()), "censored": int(120 - d["e"].sum())}
    chk = model_disclosure(fit, threshold=10)
    assert chk.reasons == ("category grp=b of factor grp has 6 people (threshold 10)",)
    assert chk.df_resid == 118
    few = d.copy()
    few["e"] = 0
    few.loc[few.index[:5], "e"] = 1
    chk2 = model_disclosure(cox(few, "t", "e", ["age"]), threshold=10)
    assert chk2.reasons == ("outcome level status=event has 5 people (threshold 10)",)


def test_propensity_and_effect_models():
    rng = np.random.default_rng(9)
    n = 200
    d = pd.DataFrame({"x": rng.normal(size=n), "site": rng.choice(["n", "s"], n)})
    d["treated"] = (rng.random(n) < 0.3).astype(int)
    d["y"] = (rng.random(n) < 0.5).astype(int)
    res = propensity(d, "treated", ["x", "site"])
    chk = model_disclosure(res, threshold=10)
    assert chk.ok and chk.df_resid == n - 3
    assert res.outcome_counts == {0: int((d["treated"] == 0).sum()), 1: int(d["treated"].sum())}
    assert set(res.factor_counts) == {"site"}
    eff = res.effect("y", kind="binary")
    assert eff.factor_counts["treated"] == {0: int((d["treated"] == 0).sum()), 1: int(d["treated"].sum())}
    assert model_disclosure(eff, threshold=10).ok
    # few treated: the propensity model's outcome level is refused
    d2 = d.copy()
    d2["treated"] = 0
    d2.loc[d2.index[:8], "treated"] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # poor overlap: irrelevant here
        chk2 = model_disclosure(propensity(d2, "treated", ["x"]), threshold=10)
    assert chk2.reasons == ("outcome level treated=1 has 8 people (threshold 10)",)


def test_did_cell_counts():
    rng = np.random.default_rng(10)
    g = np.r_[np.zeros(100), np.ones(100)]
    p = np.r_[np.zeros(50), np.ones(50), np.zeros(95), np.ones(5)]
    d = pd.DataFrame({"g": g.astype(int), "p": p.astype(int), "y": rng.normal(size=200)})
    fit = did(d, "y", "g", "p")
    chk = model_disclosure(fit, threshold=10)
    assert not chk.ok
    assert chk.reasons == ("cell g=1, p=1 of interaction g:p has 5 people (threshold 10)",)
    assert fit.factor_counts["g:p"] == {(0, 0): 50, (0, 1): 50, (1, 0): 95, (1, 1): 5}
    assert chk.df_resid == 196


def test_prediction_outputs_use_the_outcome_rule():
    rng = np.random.default_rng(11)
    p = rng.uniform(0.05, 0.6, 400)
    y = (rng.random(400) < p).astype(int)
    assert model_disclosure(calibration(y, p), threshold=10).ok
    y2 = np.zeros(400, dtype=int)
    y2[:6] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chk = model_disclosure(roc_auc(y2, p), threshold=10)
    assert chk.df_resid is None
    assert chk.reasons == ("outcome level outcome=1 has 6 people (threshold 10)",)


def test_statsmodels_formula_models():
    sm = pytest.importorskip("statsmodels.api")
    smf = pytest.importorskip("statsmodels.formula.api")
    d = _gender_data(5)
    d.loc[d.index[0], "x"] = np.nan  # a dropped row: counts follow the rows used
    ols = smf.ols("x ~ C(gender)", d).fit()
    chk = model_disclosure(ols, threshold=10)
    assert chk.reasons == ("category gender=2 of factor gender has 5 people (threshold 10)",)
    assert chk.n == 199 and chk.df_resid == 197
    lg = smf.logit("y ~ x", d.assign(y=np.r_[0, np.ones(8), np.zeros(191)].astype(int))).fit(disp=0)
    assert model_disclosure(lg, threshold=10).reasons == ("outcome level y=1 has 8 people (threshold 10)",)
    glm = smf.glm("y ~ x + gender", d, family=sm.families.Binomial()).fit()
    assert not model_disclosure(glm, threshold=10).ok
    mix = smf.mixedlm("y ~ x", _clustered(), groups="prison").fit()
    mchk = model_disclosure(mix, threshold=10)
    assert mchk.ok and mchk.n_clusters == 9 and mchk.smallest_cluster == 4 and mchk.notes


def test_statsmodels_array_model_counts_indicator_columns_with_a_note():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(12)
    X = np.column_stack([np.ones(100), rng.normal(size=100), np.r_[np.ones(3), np.zeros(97)]])
    fit = sm.OLS(rng.normal(size=100), X).fit()
    chk = model_disclosure(fit, threshold=10)
    assert chk.reasons == ("category x2=1 of factor x2 has 3 people (threshold 10)",)
    assert any("reference category" in n for n in chk.notes)
    small = sm.OLS(rng.normal(size=12), np.column_stack([np.ones(12), rng.normal(size=(12, 2))])).fit()
    assert model_disclosure(small, threshold=10).reasons[0].startswith("residual degrees of freedom 9 are below")


def test_unknown_objects_cannot_be_checked():
    for obj in (pd.DataFrame({"a": [1]}), object(), {"coef": 1.0}):
        chk = model_disclosure(obj, threshold=10)
        assert not chk.ok and chk.reasons[0].startswith("cannot check this model: ")
    km = kaplan_meier(pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1]}), "t", "e")
    chk = model_disclosure(km, threshold=10)
    assert not chk.ok and "truncate_at_risk" in chk.reasons[0] and chk.n == 3


def test_list_of_fits_must_all_pass():
    good = logit(_gender_data(12), "y ~ x + gender")
    bad = logit(_gender_data(5), "y ~ x + gender")
    both = model_disclosure([good, bad], threshold=10)
    assert not both.ok and both.reasons == ("category gender=2 of factor gender has 5 people (threshold 10)",)
    assert both.smallest_category == 5
    assert model_disclosure([good, good], threshold=10).ok
    assert not model_disclosure([], threshold=10).ok


def test_threshold_is_validated():
    with pytest.raises(InputError, match="below the floor"):
        model_disclosure(logit(_gender_data(12), "y ~ x"), threshold=2)
    with pytest.raises(InputError):
        figure_data_check(pd.DataFrame({"n": [1]}), threshold=1, n_records=None)


# ====================================================================== figures
def test_per_person_scatter_frame_is_refused():
    rng = np.random.default_rng(13)
    people = pd.DataFrame({"age": rng.integers(18, 70, 1000), "score": rng.normal(size=1000)})
    chk = figure_data_check(people, threshold=10, n_records=1000)
    assert isinstance(chk, FigureCheck) and not chk.ok
    assert len(chk.reasons) == 3
    assert "1000 rows for 1000 records" in chk.reasons[0]
    assert chk.reasons[1].startswith("cannot check") and "no column counting the people" in chk.reasons[2]
    unknown = figure_data_check(people, threshold=10, n_records=None)
    assert not unknown.ok and len(unknown.reasons) == 2
    whole = figure_data_check(people, threshold=10, n_records=None, n=1000)  # more than 200 rows even with n=
    assert not whole.ok and len(whole.reasons) == 1
    items = figure_data_check(people.head(40), threshold=10, n_records=None, n=1000)  # 40 items of a 1000-person scale
    assert items.ok


def test_too_many_rows_refused_even_with_a_count_column():
    d = pd.DataFrame({"x": np.arange(60), "n": 12})
    assert not figure_data_check(d, threshold=10, n_records=100).ok  # 60 > max(20, 50)
    assert figure_data_check(d, threshold=10, n_records=200).ok  # 60 <= 100
    few = pd.DataFrame({"x": np.arange(ROW_FLOOR), "y": np.arange(ROW_FLOOR) * 0.5})
    assert figure_data_check(few, threshold=10, n_records=None, n=500).ok  # a short series of numbers
    assert figure_data_check(few, threshold=10, n_records=None).reasons[0].startswith("cannot check")


def test_small_count_rows_are_hidden():
    d = pd.DataFrame({"prison": list("ABCDE"), "n": [40, 4, 25, 0, 12], "n_events": [10, 1, 3, 0, 10],
                      "mean": [2.1, 3.0, 2.5, np.nan, 1.0]}, index=[10, 11, 12, 13, 14])
    chk = figure_data_check(d, threshold=10, n_records=500)
    assert chk.ok
    assert list(chk.hide) == [False, True, True, False, False]
    assert list(chk.hide.index) == [10, 11, 12, 13, 14]
    assert list(chk.kept["prison"]) == ["A", "D", "E"]
    assert chk.n_hidden == 2 and chk.count_columns == ("n", "n_events")
    assert "2 of 5 rows rest on fewer than 10 people ('n', 'n_events')" in chk.notes[0]


def test_binned_counts_suppresses_small_bins():
    rng = np.random.default_rng(3)
    age = np.r_[rng.integers(20, 60, 300), [71, 74]]
    t = binned_counts(pd.Series(age, name="age"), bins=6, threshold=10)
    assert list(t.published.index) == ["[20, 30)", "[30, 40)", "[40, 50)", "[50, 60)", "[60, 70)", "[70, 80)"]
    assert t.published.index.name == "age"
    assert t.published.loc["[70, 80)", "n"] == "‡"
    assert t.published.loc["[60, 70)", "n"] == 0  # an empty bin is published
    # a lone small bin would be the total minus the rest: a partner is hidden as well
    assert t.n_suppressed == 2
    shown = t.values["n"].dropna()
    assert ((shown >= 10) | (shown == 0)).all()
    # counts of unsuppressed bins are the true counts
    true = pd.Series(pd.cut(age, [20, 30, 40, 50, 60, 70, 80], right=False)).value_counts(sort=False).to_numpy()
    for lab, k in zip(t.values.index, true):
        if not t.mask.loc[lab, "n"]:
            assert t.values.loc[lab, "n"] == k


def test_binned_counts_edges_do_not_reveal_extremes():
    x = np.array([3.17, 4.2, 5.9, 7.77] * 10 + [12.345])
    t = binned_counts(x, bins=4, threshold=10)
    labels = " ".join(t.published.index)
    assert "3.17" not in labels and "12.345" not in labels
    assert t.published.index[0] == "[2.5, 5)"


def test_binned_counts_integer_values_and_categories():
    likert = pd.Series([1] * 30 + [2] * 25 + [3] * 3 + [4] * 40 + [5] * 12, name="item")
    t = binned_counts(likert, threshold=10)
    assert list(t.published.index) == ["1", "2", "3", "4", "5"]
    assert t.mask.loc["3", "n"]
    cat = binned_counts(pd.Series(["KZ"] * 20 + ["TN"] * 15 + ["UG"] * 30), threshold=10)
    assert list(cat.values["n"]) == [20, 15, 30]


def test_binned_counts_two_way_replaces_a_scatter():
    rng = np.random.default_rng(14)
    x = rng.normal(50, 10, 500)
    y = 0.5 * x + rng.normal(0, 5, 500)
    y[0] = np.nan
    t = binned_counts(pd.Series(x, name="grievance"), pd.Series(y, name="support"), bins=(5, 4), threshold=10)
    assert t.published.index.name == "grievance" and t.published.columns.name == "support"
    assert t.published.index[-1] == "Total" and t.published.columns[-1] == "Total"
    inner = t.values.iloc[:-1, :-1]
    assert int(t.values.loc["Total", "Total"]) == 499  # one pair had a missing value
    shown = inner.stack().dropna()
    assert ((shown >= 10) | (shown == 0)).all()  # nothing small is published
    assert t.n_suppressed > 0


def test_binned_counts_explicit_edges():
    x = [0.5, 1.5, 2.0] * 10
    t = binned_counts(x, bins=[0, 1, 2], threshold=10)
    assert list(t.published.index) == ["[0, 1)", "[1, 2]"] and list(t.values["n"]) == [10, 20]
    with pytest.raises(InputError, match="outside the bin edges"):
        binned_counts([0.5, 3.0], bins=[0, 1, 2], threshold=10)
    t2 = binned_counts([0.5, 3.0] * 10, bins=[0, 1, np.inf], threshold=10)
    assert list(t2.published.index) == ["[0, 1)", "[1, inf]"]


# ====================================================================== survival curves
def _km_example() -> KaplanMeier:
    d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6] + list(range(1, 11)),
                      "e": [1, 1, 0, 1, 0, 1] + [1] * 10,
                      "g": ["a"] * 6 + ["b"] * 10})
    return kaplan_meier(d, "t", "e", "g")


def test_truncation_hand_computed():
    km = _km_example()
    cut = truncate_at_risk(km, 4)
    # group a: at risk 6, 5, 4, 3, ... -> the first time with fewer than 4 at risk is t=4: keep t <= 3
    # group b: at risk 10, 9, ..., 4 at t=7, 3 at t=8: keep t <= 7
    a = cut.table[cut.table["group"] == "a"]
    b = cut.table[cut.table["group"] == "b"]
    assert list(a["time"]) == [1, 2, 3] and list(b["time"]) == [1, 2, 3, 4, 5, 6, 7]
    assert cut.truncated_at == {"a": 3.0, "b": 7.0}
    assert cut.min_at_risk == 4
    # hand-computed Kaplan-Meier values: S(1) = 5/6, S(2) = 5/6 * 4/5, S(3) = S(2)
    assert np.allclose(a["surv"], [5 / 6, 4 / 6, 4 / 6])
    assert np.allclose(b["surv"], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    # values before the cut are those of the untruncated estimate (which agrees with R survfit)
    full = km.table
    for g, part in (("a", a), ("b", b)):
        ref = full[full["group"] == g].iloc[: len(part)].reset_index(drop=True)
        pd.testing.assert_frame_equal(part.reset_index(drop=True), ref)
    # the group-a median (4) lies beyond its cut; group b's (5.5) does not
    med = cut.medians.set_index("group")
    assert math.isnan(med.loc["a", "median"]) and med.loc["b", "median"] == 5.5
    assert km.medians.set_index("group").loc["a", "median"] == 4.0  # the original is untouched
    # the original result is unchanged
    assert len(km.table) == 16 and km.min_at_risk is None and km.truncated_at == {}


def test_truncated_numbers_at_risk():
    cut = truncate_at_risk(_km_example(), 4)
    rt = cut.risk_table([0, 2, 3, 4, 7, 8])
    assert rt.loc["a"].tolist()[:3] == [6.0, 5.0, 4.0] and rt.loc["a"].iloc[3:].isna().all()
    assert rt.loc["b"].tolist()[:5] == [10.0, 9.0, 8.0, 7.0, 4.0] and math.isnan(rt.loc["b", 8])
    # the numbers-at-risk table of the full curves, truncated directly, matches
    wide = truncate_at_risk(_km_example().risk_table([0, 2, 3, 4, 7, 8]), 4)
    pd.testing.assert_frame_equal(wide, rt.astype(float))
    sa = cut.survival_at([3, 3.5])
    assert sa.loc[sa["group"] == "a", "surv"].isna().tolist() == [False, True]


def test_truncate_a_table_frame_and_twice():
    km = _km_example()
    tab = truncate_at_risk(km.table, 4)
    assert list(tab.columns)[-1] == "truncated_at"
    assert tab.groupby("group")["truncated_at"].first().to_dict() == {"a": 3.0, "b": 7.0}
    assert len(tab) == 10
    # a single curve without a group column
    one = km.table[km.table["group"] == "b"].drop(columns="group")
    assert truncate_at_risk(one, 9)["time"].tolist() == [1.0, 2.0]
    # truncating again with a smaller minimum keeps the earlier cut
    again = truncate_at_risk(truncate_at_risk(km, 4), 2)
    assert again.truncated_at == {"a": 3.0, "b": 7.0} and again.min_at_risk == 4
    tab2 = truncate_at_risk(tab, 2)
    assert len(tab2) == 10 and tab2.groupby("group")["truncated_at"].first().to_dict() == {"a": 3.0, "b": 7.0}
    # a group that never had min_at_risk people shows nothing; a curve that is never cut says None
    cut = truncate_at_risk(km, 8)
    assert cut.truncated_at["a"] == 0.0 and (cut.table["group"] == "a").sum() == 0
    assert truncate_at_risk(km, 1).truncated_at == {"a": None, "b": None}
    with pytest.raises(InputError, match="min_at_risk"):
        truncate_at_risk(km, 0)
    with pytest.raises(InputError):
        truncate_at_risk([1, 2], 3)


def test_plot_km_min_at_risk():
    import matplotlib.pyplot as plt

    km = _km_example()
    fig = plot_km(km, min_at_risk=4, times=[0, 2, 4, 6, 8])
    ax = fig.axes[0]
    step_lines = [ln for ln in ax.lines if ln.get_linestyle() in ("-", "--")]
    ends = sorted(float(np.max(ln.get_xdata())) for ln in step_lines if len(ln.get_xdata()))
    assert ends == [3.0, 7.0]
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("<4") == 3 + 1  # group a at 4, 6, 8; group b at 8
    plt.close(fig)
    fig2 = plot_km(km, min_at_risk=8, times=[0, 2])
    labels = [t.get_text() for t in fig2.axes[0].get_legend().get_texts()]
    assert labels[0] == "a (fewer than 8: not shown)"
    plt.close(fig2)
    fig3 = plot_km(km, times=[0, 8])  # default: whole curves
    assert "<" not in "".join(t.get_text() for t in fig3.axes[0].texts)
    plt.close(fig3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(st.integers(1, 15), st.integers(0, 1), st.sampled_from(["a", "b"])),
                  min_size=3, max_size=40),
    m=st.integers(1, 12),
)
def test_truncation_invariants(rows, m):
    d = pd.DataFrame(rows, columns=["t", "e", "g"])
    if d["e"].sum() == 0:
        d.loc[0, "e"] = 1
    km = kaplan_meier(d, "t", "e", "g")
    cut = truncate_at_risk(km, m)
    # no time with fewer than m at risk is shown
    assert (cut.table["n_risk"] >= m).all()
    for g in km.groups:
        full = km.table[km.table["group"] == g].reset_index(drop=True)
        part = cut.table[cut.table["group"] == g].reset_index(drop=True)
        k = len(part)
        # what is kept is a prefix, with identical values
        pd.testing.assert_frame_equal(part, full.iloc[:k].reset_index(drop=True))
        if k < len(full):
            assert full.loc[k, "n_risk"] < m  # cut exactly at the first row below m
            assert cut.truncated_at[g] == (float(full.loc[k - 1, "time"]) if k else 0.0)
        else:
            assert cut.truncated_at[g] is None
        # numbers at risk published for this group never fall below m
        rt = cut.risk_table(list(range(0, 17)))
        shown = rt.loc[g].dropna()
        assert ((shown >= m) | (shown == 0)).all()  # 0: after the end of a curve that was not cut


def test_any_result_with_disclosure_facts_is_checked() -> None:
    """model_disclosure knows no model class: a new model's result is checked through its
    disclosure_facts() (here one whose smallest category, 3 people, is below the threshold)."""
    from veplab.privacy.outputs import ModelFacts, model_disclosure

    class NewModel:
        def disclosure_facts(self) -> ModelFacts:
            return ModelFacts("new model", 200, 195.0, {"prison_type": {"closed": 197, "women": 3}},
                              ("outcome", {0: 120, 1: 80}))

    check = model_disclosure(NewModel(), threshold=10)
    assert not check.ok and check.model == "new model" and check.smallest_category == 3
    assert any("women" in r for r in check.reasons)

    class Unknown:
        pass

    held = model_disclosure(Unknown(), threshold=10)
    assert not held.ok and "not a model veplab knows" in " ".join(held.reasons)


def test_a_result_whose_facts_cannot_be_read_is_held_not_passed() -> None:
    """Default deny: disclosure_facts() that fails, returns something else, or gives no residual df."""
    from veplab.privacy.outputs import ModelFacts, model_disclosure

    class Raises:
        def disclosure_facts(self):
            raise RuntimeError("no data kept")

    class Dict:
        def disclosure_facts(self):
            return {"n": 200}

    class NoDf:
        def disclosure_facts(self):
            return ModelFacts("new model", 200, float("nan"), {})

    for fit, words in ((Raises(), "failed"), (Dict(), "returned a dict"), (NoDf(), "unknown")):
        check = model_disclosure(fit, threshold=10)
        assert not check.ok and words in " ".join(check.reasons), check.reasons
