"""Tests for veplab.validity predictive validity: AUC (DeLong, bootstrap), paired
and unpaired comparisons, ROC coordinates, calibration and subgroup performance.

Expected values come from tests/reference/validity_prediction.R (pROC 1.18.0,
stats::glm, binom.test).  Closed forms (AUC, DeLong variance and intervals,
tests, Clopper-Pearson, Brier, O/E) are compared to 1e-6 relative; the
logistic-regression (iterative) calibration estimates to 1e-5.
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

from veplab._validate import InputError
from veplab.validity import (
    calibration,
    compare_auc,
    plot_calibration,
    plot_roc,
    roc_auc,
    roc_curve,
    subgroup_performance,
)
from veplab.validity import prediction as pred

REF = Path(__file__).parent / "reference"
DATA = REF / "data"
PRED = json.loads((REF / "validity_prediction.json").read_text())

CLOSED = 1e-6
GLM = 1e-5


@pytest.fixture(scope="module")
def d() -> pd.DataFrame:
    return pd.read_csv(DATA / "validity_prediction.csv")


@pytest.fixture(scope="module")
def rare() -> pd.DataFrame:
    return pd.read_csv(DATA / "validity_prediction_rare.csv")


def _num(x) -> float:
    if isinstance(x, str):
        return {"Inf": np.inf, "-Inf": -np.inf}[x]
    return float(x)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ----------------------------------------------------------------------- AUC and DeLong
@pytest.mark.parametrize(
    "key,column,kwargs",
    [
        ("score_int", "score_int", {}),
        ("score_int_90", "score_int", {"ci": 0.90}),
        ("score_cont", "score_cont", {}),
        ("prob", "prob", {}),
        ("neg_score_cont", "-score_cont", {}),
        ("score_int_forced_gt", "score_int", {"direction": ">"}),
    ],
)
def test_auc_delong_matches_proc(d, key, column, kwargs):
    score = -d["score_cont"] if column == "-score_cont" else d[column]
    got = quiet(roc_auc, d["y"], score, **kwargs)
    ref = PRED["auc"][key]
    assert got.estimate == pytest.approx(ref["auc"], rel=CLOSED)
    assert got.se**2 == pytest.approx(ref["var"], rel=CLOSED)
    assert got.ci_low == pytest.approx(ref["ci_low"], rel=CLOSED)
    assert got.ci_high == pytest.approx(ref["ci_high"], rel=CLOSED)
    assert got.direction == ref["direction"]
    assert (got.n_events, got.n_nonevents) == (ref["n_events"], ref["n_nonevents"])
    assert got.n == got.n_events + got.n_nonevents


def test_auto_direction_warns_when_it_flips(d):
    with pytest.warns(UserWarning, match="direction '>'"):
        r = roc_auc(d["y"], -d["score_cont"])
    assert r.estimate > 0.5
    forced = roc_auc(d["y"], -d["score_cont"], direction="<")
    assert forced.estimate == pytest.approx(1 - r.estimate, rel=1e-12)


def test_roc_curve_matches_proc_coords(d):
    curve = roc_curve(d["y"], d["score_int"])
    ref = PRED["coords"]["score_int"]
    np.testing.assert_array_equal(curve["threshold"].to_numpy(), [_num(t) for t in ref["threshold"]])
    np.testing.assert_allclose(curve["sensitivity"], ref["sensitivity"], rtol=CLOSED)
    np.testing.assert_allclose(curve["specificity"], ref["specificity"], rtol=CLOSED)
    assert (curve["tp"] + curve["fn"] == 146).all() and (curve["tn"] + curve["fp"] == 654).all()
    neg = quiet(roc_curve, d["y"], -d["score_cont"])
    ref = PRED["coords"]["neg_score_cont_head"]
    assert len(neg) == ref["n"]
    th = np.array([_num(t) for t in ref["threshold"]])
    assert neg["threshold"].iloc[0] == np.inf
    np.testing.assert_allclose(neg["threshold"].to_numpy()[1:20], th[1:20], rtol=CLOSED)
    np.testing.assert_allclose(neg["sensitivity"].to_numpy()[:20], ref["sensitivity"], rtol=CLOSED)
    np.testing.assert_allclose(neg["specificity"].to_numpy()[:20], ref["specificity"], atol=1e-12)


def test_trapezoid_area_of_curve_equals_auc(d):
    curve = roc_curve(d["y"], d["score_int"])
    fpr = 1 - curve["specificity"].to_numpy()
    tpr = curve["sensitivity"].to_numpy()
    area = -np.trapezoid(tpr, fpr) if hasattr(np, "trapezoid") else -np.trapz(tpr, fpr)
    assert area == pytest.approx(roc_auc(d["y"], d["score_int"]).estimate, rel=1e-12)


# ----------------------------------------------------------------------- paired test
def test_paired_delong_matches_proc(d):
    got = compare_auc(d["y"], d["score_int"], d["score_cont"])
    ref = PRED["paired"]["int_vs_cont"]
    assert got.z == pytest.approx(ref["z"], rel=CLOSED)
    assert got.p_value == pytest.approx(ref["p_value"], rel=CLOSED)
    assert [got.ci_low, got.ci_high] == pytest.approx(ref["ci"], rel=CLOSED)
    assert [got.auc_a, got.auc_b] == pytest.approx(ref["estimate"], rel=CLOSED)
    assert got.estimate == pytest.approx(ref["estimate"][0] - ref["estimate"][1], rel=CLOSED)
    assert (got.score_a, got.score_b) == ("score_int", "score_cont")
    greater = compare_auc(d["y"], d["score_int"], d["score_cont"], alternative="greater")
    assert greater.p_value == pytest.approx(ref["p_greater"], rel=CLOSED)
    got90 = compare_auc(d["y"], d["score_cont"], d["prob"], ci=0.90)
    ref = PRED["paired"]["cont_vs_prob_90"]
    assert got90.z == pytest.approx(ref["z"], rel=CLOSED)
    assert got90.p_value == pytest.approx(ref["p_value"], rel=CLOSED)
    assert [got90.ci_low, got90.ci_high] == pytest.approx(ref["ci"], rel=CLOSED)
    assert "DeLong" in got90.summary()


def test_paired_comparison_of_a_score_with_itself_is_null(d):
    r = compare_auc(d["y"], d["score_int"], d["score_int"].rename("copy"))
    assert r.estimate == 0 and r.z == 0 and r.p_value == 1


# ----------------------------------------------------------------------- calibration
@pytest.mark.parametrize("key,kwargs", [("calibration", {}), ("calibration_5bins_90", {"n_bins": 5, "ci": 0.90})])
def test_calibration_matches_glm(d, key, kwargs):
    got = calibration(d["y"], d["prob"], **kwargs)
    ref = PRED[key]
    assert got.intercept == pytest.approx(ref["intercept"], rel=GLM)
    assert got.intercept_se == pytest.approx(ref["intercept_se"], rel=GLM)
    assert [got.intercept_ci_low, got.intercept_ci_high] == pytest.approx(ref["intercept_ci"], rel=GLM)
    assert got.slope == pytest.approx(ref["slope"], rel=GLM)
    assert got.slope_se == pytest.approx(ref["slope_se"], rel=GLM)
    assert [got.slope_ci_low, got.slope_ci_high] == pytest.approx(ref["slope_ci"], rel=GLM)
    assert got.oe_ratio == pytest.approx(ref["oe"], rel=CLOSED)
    assert [got.oe_ci_low, got.oe_ci_high] == pytest.approx(ref["oe_ci"], rel=CLOSED)
    assert got.brier == pytest.approx(ref["brier"], rel=CLOSED)
    t = got.table
    np.testing.assert_array_equal(t["n"], ref["table"]["n"])
    np.testing.assert_allclose(t["mean_predicted"], ref["table"]["mean_predicted"], rtol=CLOSED)
    np.testing.assert_allclose(t["expected"], ref["table"]["expected"], rtol=CLOSED)
    np.testing.assert_array_equal(t["observed"], ref["table"]["observed"])
    np.testing.assert_allclose(t["observed_ci_low"], ref["table"]["ci_low"], rtol=CLOSED)
    np.testing.assert_allclose(t["observed_ci_high"], ref["table"]["ci_high"], rtol=CLOSED)
    assert got.converged
    # the synthetic model is too extreme and too high: slope < 1, CITL < 0
    assert got.slope < 1 and got.intercept < 0 and got.oe_ratio < 1


def test_calibration_of_a_perfect_model():
    rng = np.random.default_rng(5)
    p = rng.uniform(0.02, 0.7, 20000)
    y = (rng.random(20000) < p).astype(int)
    c = calibration(y, p)
    assert c.intercept_ci_low < 0 < c.intercept_ci_high
    assert c.slope_ci_low < 1 < c.slope_ci_high
    assert c.oe_ci_low < 1 < c.oe_ci_high


# ----------------------------------------------------------------------- subgroups
def test_subgroup_performance_matches_proc_and_glm(d):
    res = subgroup_performance(d["y"], d["score_int"], d[["gender", "age_band", "country"]], prob=d["prob"], seed=1)
    sg = res.table
    assert sg.iloc[0]["variable"] == "(all)" and sg.iloc[0]["n"] == 800
    for var, levels in PRED["subgroups"].items():
        for level, ref in levels.items():
            row = sg[(sg["variable"] == var) & (sg["group"] == level)].iloc[0]
            assert row["n"] == ref["n"] and row["n_events"] == ref["n_events"]
            assert row["base_rate_ci_low"] == pytest.approx(ref["base_rate_ci"][0], rel=CLOSED, abs=1e-15)
            assert row["base_rate_ci_high"] == pytest.approx(ref["base_rate_ci"][1], rel=CLOSED)
            if "auc" in ref:
                assert row["auc_method"] == "delong"
                assert row["auc"] == pytest.approx(ref["auc"], rel=CLOSED)
                assert row["auc_se"] ** 2 == pytest.approx(ref["var"], rel=CLOSED)
                assert row["auc_ci_low"] == pytest.approx(ref["ci_low"], rel=CLOSED)
                assert row["auc_ci_high"] == pytest.approx(ref["ci_high"], rel=CLOSED)
                cal = ref["cal"]
                # R's glm stops at a relative deviance change of 1e-8: small groups agree to ~3e-6
                assert row["cal_intercept"] == pytest.approx(cal["intercept"], rel=GLM, abs=GLM)
                assert row["cal_slope"] == pytest.approx(cal["slope"], rel=GLM, abs=GLM)
                assert [row["cal_slope_ci_low"], row["cal_slope_ci_high"]] == pytest.approx(
                    cal["slope_ci"], rel=GLM, abs=GLM
                )
                assert row["cal_oe_ratio"] == pytest.approx(cal["oe"], rel=CLOSED)
                assert row["cal_brier"] == pytest.approx(cal["brier"], rel=CLOSED)
    # unpaired DeLong (pROC::roc.test(paired = FALSE)) against the reference group (the largest)
    female = sg[sg["group"] == "female"].iloc[0]
    assert sg[sg["group"] == "male"].iloc[0]["reference"]
    assert female["auc_diff_p_value"] == pytest.approx(PRED["unpaired"]["female_vs_male"]["p_value"], rel=CLOSED)
    kz = sg[sg["group"] == "KZ"].iloc[0]
    assert sg[sg["group"] == "UG"].iloc[0]["reference"]
    assert kz["auc_diff_p_value"] == pytest.approx(PRED["unpaired"]["KZ_vs_UG"]["p_value"], rel=CLOSED)
    se = (kz["auc_diff_ci_high"] - kz["auc_diff_ci_low"]) / 2
    assert kz["auc_diff_ci_low"] < kz["auc_diff"] < kz["auc_diff_ci_high"] and se > 0


def test_single_class_subgroup_gets_a_row_not_a_crash(d):
    sg = subgroup_performance(d["y"], d["score_int"], d["age_band"], prob=d["prob"]).table
    row = sg[sg["group"] == "50+"].iloc[0]
    assert row["n"] == 14 and row["n_events"] == 0
    assert np.isnan(row["auc"]) and np.isnan(row["auc_diff"])
    assert "AUC undefined: no events" in row["note"]
    assert row["base_rate_ci_low"] == 0 and 0 < row["base_rate_ci_high"] < 1


def test_subgroups_with_few_events_use_the_bootstrap(rare):
    groups = pd.Series(np.where(np.arange(len(rare)) < 150, "A", "B"), name="site")
    sg = subgroup_performance(rare["y"], rare["score"], groups, seed=3, n_boot=500).table
    rows = sg[sg["variable"] == "site"]
    assert (rows["auc_method"] == "bootstrap").all()
    nonref = rows[~rows["reference"]].iloc[0]
    assert nonref["auc_diff_method"].startswith("bootstrap")
    assert nonref["auc_diff_ci_low"] < nonref["auc_diff"] < nonref["auc_diff_ci_high"]
    assert "bootstrap interval" in nonref["note"]
    again = subgroup_performance(rare["y"], rare["score"], groups, seed=3, n_boot=500).table
    pd.testing.assert_frame_equal(sg, again)


def test_subgroup_reference_can_be_chosen(d):
    sg = subgroup_performance(d["y"], d["score_int"], d["gender"], reference={"gender": "female"}).table
    assert sg[sg["group"] == "female"].iloc[0]["reference"]
    with pytest.raises(InputError, match="reference group"):
        subgroup_performance(d["y"], d["score_int"], d["gender"], reference={"gender": "other"})


# ----------------------------------------------------------------------- low base rates, bootstrap
def test_few_events_warn_and_delong_still_matches_proc(rare):
    with pytest.warns(UserWarning, match="only 6 events.*method='bootstrap'"):
        got = roc_auc(rare["y"], rare["score"], direction="<")
    ref = PRED["rare"]
    assert got.estimate == pytest.approx(ref["auc"], rel=CLOSED)
    assert got.se**2 == pytest.approx(ref["var"], rel=CLOSED)
    assert [got.ci_low, got.ci_high] == pytest.approx([ref["ci_low"], ref["ci_high"]], rel=CLOSED)


def test_stratified_bootstrap_agrees_with_proc_statistically(rare):
    got = roc_auc(rare["y"], rare["score"], direction="<", method="bootstrap", n_boot=4000, seed=11)
    lo, hi = PRED["rare"]["boot_ci"]
    assert got.ci_low == pytest.approx(lo, abs=0.03)
    assert got.ci_high == pytest.approx(hi, abs=0.03)
    assert got.estimate == pytest.approx(PRED["rare"]["auc"], rel=CLOSED)
    assert got.method == "bootstrap" and got.n_boot == 4000
    same = roc_auc(rare["y"], rare["score"], direction="<", method="bootstrap", n_boot=4000, seed=11)
    assert (same.ci_low, same.ci_high, same.se) == (got.ci_low, got.ci_high, got.se)


def test_vectorised_bootstrap_equals_resample_by_resample():
    rng = np.random.default_rng(0)
    cases = np.round(rng.normal(0.5, 1, 7), 1)  # ties on purpose
    controls = np.round(rng.normal(0, 1, 40), 1)
    got = pred._boot_aucs(cases, controls, 300, np.random.default_rng(42))
    gen = np.random.default_rng(42)
    ic = gen.integers(0, len(controls), size=(300, len(controls)))
    ix = gen.integers(0, len(cases), size=(300, len(cases)))
    for b in range(300):
        x = cases[ix[b]]
        y = np.sort(controls)[ic[b]]
        direct = np.mean((x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :]))
        assert got[b] == pytest.approx(direct, abs=1e-12)


def test_calibration_rare_matches_glm_and_warns(rare):
    with pytest.warns(UserWarning, match="only 6 events"):
        got = calibration(rare["y"], rare["prob"], n_bins=5)
    ref = PRED["rare"]["calibration"]
    assert got.intercept == pytest.approx(ref["intercept"], rel=GLM)
    assert got.slope == pytest.approx(ref["slope"], rel=GLM)
    assert got.slope_se == pytest.approx(ref["slope_se"], rel=GLM)
    assert [got.oe_ci_low, got.oe_ci_high] == pytest.approx(ref["oe_ci"], rel=CLOSED)


# ----------------------------------------------------------------------- invariants
@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 1), st.integers(-5, 5)), min_size=6, max_size=60),
)
def test_auc_invariants(data):
    y = np.array([a for a, _ in data])
    s = np.array([b for _, b in data], dtype=float)
    if y.min() == y.max():
        return
    lt = quiet(roc_auc, y, s, direction="<")
    gt = quiet(roc_auc, y, s, direction=">")
    assert lt.estimate + gt.estimate == pytest.approx(1.0, abs=1e-12)
    # invariant to strictly increasing transformations of the score
    assert quiet(roc_auc, y, np.exp(s / 3) + 7, direction="<").estimate == pytest.approx(lt.estimate, abs=1e-12)
    # equals the Mann-Whitney probability
    x, c = s[y == 1], s[y == 0]
    mw = np.mean((x[:, None] > c[None, :]) + 0.5 * (x[:, None] == c[None, :]))
    assert lt.estimate == pytest.approx(mw, abs=1e-12)
    assert 0 <= lt.ci_low <= lt.ci_high <= 1 or np.isnan(lt.se)


# ----------------------------------------------------------------------- plots
def test_plots_return_axes(d):
    import matplotlib.pyplot as plt

    ax = plot_roc(d["y"], d[["score_int", "score_cont"]])
    assert len(ax.get_legend().get_texts()) == 2 and "AUC" in ax.get_legend().get_texts()[0].get_text()
    ax2 = plot_calibration(calibration(d["y"], d["prob"]))
    assert ax2.get_xlabel() == "Predicted risk"
    plt.close("all")


def _drawn_area(ax, i: int = 0) -> float:
    """Area under the i-th line as drawn: trapezoid rule over the Line2D's path (its x/y data joined as
    the line's drawstyle joins them; a step drawstyle adds the corners)."""
    x, y = ax.get_lines()[i].get_path().vertices.T
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))


def test_drawn_roc_polygon_has_the_auc_of_its_legend(d):
    """The drawn curve's area equals the AUC (a staircase drew a tied 3-level score with area ~0.83 for 0.67)."""
    import matplotlib.pyplot as plt

    three = pd.cut(d["score_int"], 3, labels=[1, 2, 3]).astype(int)  # a tied 3-level judgement
    scores = {"three levels": three, "integer": d["score_int"], "continuous": d["score_cont"]}
    ax = plot_roc(d["y"], scores, direction="<")
    for i, (name, s) in enumerate(scores.items()):
        auc = roc_auc(d["y"], s, direction="<").estimate
        assert _drawn_area(ax, i) == pytest.approx(auc, abs=1e-12), name
        assert f"AUC {auc:.2f}" in ax.get_legend().get_texts()[i].get_text()
    x, y = ax.get_lines()[0].get_data()
    assert len(x) == 4 and (x[0], y[0], x[-1], y[-1]) == (0, 0, 1, 1)  # four operating points joined
    assert ax.get_lines()[0].get_drawstyle() == "default"  # straight segments, not steps
    # the legend sits above the axes, off the curves
    fig = ax.figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(r).y0 >= ax.get_window_extent(r).y1
    plt.close("all")


# ----------------------------------------------------------------------- bad input
def test_one_class_outcome_is_refused(d):
    with pytest.raises(InputError, match="only one class"):
        roc_auc(np.zeros(20), np.arange(20))
    with pytest.raises(InputError, match="only one class"):
        calibration(np.ones(20), np.full(20, 0.5))


def test_non_binary_outcome_is_refused(d):
    with pytest.raises(InputError, match="binary.*0, 1, 2"):
        roc_auc(np.array([0, 1, 2, 1, 0]), np.arange(5))


def test_mismatched_lengths_and_indexes(d):
    with pytest.raises(InputError, match="y has 800 values but score_int has 799"):
        roc_auc(d["y"], d["score_int"].iloc[:-1].reset_index(drop=True))
    with pytest.raises(InputError, match="index"):
        roc_auc(d["y"], d["score_int"].sort_values())
    with pytest.raises(InputError, match="groups has 10 rows"):
        subgroup_performance(d["y"], d["score_int"], d["gender"].iloc[:10])


def test_missing_values_error_unless_dropped(d):
    y = d["y"].astype(float).copy()
    s = d["score_int"].astype(float).copy()
    y.iloc[[3, 5]] = np.nan
    s.iloc[[5, 8, 9]] = np.nan
    with pytest.raises(InputError, match=r"y has 2 missing.*score_int has 3 missing.*4 rows in all"):
        roc_auc(y, s)
    with pytest.warns(UserWarning, match="dropped 4 rows"):
        got = roc_auc(y, s, missing="drop")
    keep = y.notna() & s.notna()
    expected = roc_auc(d["y"][keep], d["score_int"][keep])
    assert got.estimate == expected.estimate and got.n == 796
    with pytest.raises(InputError, match="missing"):
        compare_auc(y, s, d["score_cont"])
    with pytest.raises(InputError, match="missing"):
        subgroup_performance(y, s, d["gender"])
    with pytest.warns(UserWarning, match="dropped 4 rows"):
        sg = subgroup_performance(y, s, d["gender"], missing="drop").table
    assert sg.iloc[0]["n"] == 796
    with pytest.raises(InputError, match="missing must be one of"):
        roc_auc(y, s, missing="pairwise")


def test_probabilities_must_be_inside_zero_one(d):
    p = d["prob"].copy()
    p.iloc[0] = 0.0
    p.iloc[1] = 1.2
    with pytest.raises(InputError, match="strictly between 0 and 1.*2 values"):
        calibration(d["y"], p)


def test_option_validation(d):
    with pytest.raises(InputError, match="n_boot"):
        roc_auc(d["y"], d["score_int"], method="bootstrap", n_boot=10)
    with pytest.raises(InputError, match="method"):
        roc_auc(d["y"], d["score_int"], method="hanley")
    with pytest.raises(InputError, match="ci"):
        roc_auc(d["y"], d["score_int"], ci=95)
    with pytest.raises(InputError, match="direction"):
        roc_auc(d["y"], d["score_int"], direction="up")
