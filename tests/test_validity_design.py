"""veplab.validity.design: structure, invariance and prediction from a study's declared design."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from veplab._validate import InputError
from veplab.codebook import from_dict
from veplab.validity import design as vd

AGREE = {1: "Disagree strongly", 2: "Disagree", 3: "Unsure", 4: "Agree", 5: "Agree strongly"}
CB = from_dict({
    "id": "t", "title": "T", "id_column": "pid",
    "items": [
        {"id": "pid", "label": "Person", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Male", 2: "Female"}},
        {"id": "site", "label": "Site 7", "type": "categorical", "options": {1: "North", 2: "South"}},
        {"id": "risk", "label": "Risk rating", "type": "ordinal", "options": {1: "Low", 2: "Medium", 3: "High"}},
        {"id": "event", "label": "Incident", "type": "binary", "options": {0: "No", 1: "Yes"}, "role": "outcome"},
        *[{"id": f"a{j}", "label": f"A {j}", "type": "likert", "options": AGREE} for j in range(1, 5)],
        *[{"id": f"b{j}", "label": f"B {j}", "type": "likert", "options": AGREE} for j in range(1, 5)],
    ],
    "scales": [{"id": "sa", "label": "Scale A", "items": [f"a{j}" for j in range(1, 5)]},
               {"id": "sb", "label": "Scale B", "items": [f"b{j}" for j in range(1, 5)]}],
})


def _items(n: int = 300, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    fa = rng.normal(size=n)
    fb = 0.4 * fa + rng.normal(size=n)
    d = pd.DataFrame({"sex": rng.choice([1, 2], n, p=[0.6, 0.4]), "site": 1})
    cuts = np.array([-1.2, -0.4, 0.4, 1.2])
    for name, f in (("a", fa), ("b", fb)):
        for j in range(1, 5):
            d[f"{name}{j}"] = 1 + ((0.8 * f + 0.6 * rng.normal(size=n))[:, None] > cuts).sum(axis=1)
    d.loc[rng.random(n) < 0.05, "a2"] = np.nan
    return d


def test_structure_one_scale_and_several():
    d = _items()
    one = vd.structure(d, CB, ["sa"], missing="ml", n_iter=5, seed=1)
    assert one.failed == {} and one.n == 300 and one.n_items == 4 and one.n_factors == 1
    assert list(one.loadings.columns) == ["MR1"] and one.cfa_fit["df"].iloc[0] == 2  # 10 moments - 8 parameters
    assert one.cfa_fit["n"].iloc[0] == 300  # FIML: people with a missing item count
    two = vd.structure(d, CB, ["sa", "sb"], missing="listwise", n_iter=5, seed=1)
    assert two.n == int(d[[f"a{j}" for j in range(1, 5)]].notna().all(axis=1).sum())
    assert two.cfa_fit["n"].iloc[0] == two.n and two.cfa_fit["df"].iloc[0] == 19  # 36 - 17
    assert two.n_factors_suggested == 2 and two.loadings.shape == (8, 2)
    with pytest.raises(vd.PartNotRun):
        vd.structure(d, CB, [])


def test_invariance_across_groups_and_its_reasons():
    d = _items()
    table, n, _ = vd.invariance_across(d, CB, ["sa"], "sex", threshold=10)
    assert list(table.index) == ["configural", "metric", "scalar"] and n == 300
    assert table.loc["metric", "delta_df"] == 3 and table.loc["scalar", "delta_df"] == 3
    with pytest.raises(vd.PartNotRun) as err:
        vd.invariance_across(d, CB, ["sa"], "site")
    assert err.value.sentence == ("This grouping takes a single value among the people answering the items, so "
                                  "there is no invariance to test across it.")  # the label holds a digit
    small = d.assign(sex=np.where(np.arange(len(d)) < 8, 2, 1))
    with pytest.raises(vd.PartNotRun) as err:
        vd.invariance_across(small, CB, ["sa"], "sex", threshold=10)
    assert err.value.sentence.startswith("Invariance across sex is not tested: one of its groups has too few")
    assert not re.search(r"\d", err.value.sentence)


def test_dif_across_flags_the_planted_item_and_explains_what_it_leaves_out():
    rng = np.random.default_rng(11)
    n = 900
    d = pd.DataFrame({"sex": rng.choice([1, 2], n, p=[0.55, 0.45]), "site": rng.choice([1, 2], n)})
    theta = rng.normal(size=n) + 0.5 * (d["sex"] == 2).to_numpy()  # a real mean difference is not DIF
    cuts = np.array([-1.2, -0.4, 0.4, 1.2])
    for j in range(1, 5):
        shift = -1.0 * (d["sex"] == 2).to_numpy() if j == 3 else 0.0  # a3 harder for women at the same level
        d[f"a{j}"] = 1 + ((0.8 * theta + shift + 0.6 * rng.normal(size=n))[:, None] > cuts).sum(axis=1)
        d[f"b{j}"] = 1 + ((0.8 * theta + 0.6 * rng.normal(size=n))[:, None] > cuts).sum(axis=1)
    res = vd.dif_across(d, CB, ["sa", "sb"], "sex", threshold=10)
    assert res.flagged == ("A 3",) and res.table.loc["A 3", "DIF"] == "uniform"
    assert list(res.table.columns) == ["scale", "n", "chi-square", "df", "p", "R² uniform", "R² non-uniform",
                                       "R² any", "DIF"]
    assert (res.table["n"] == n).all() and (res.table["df"] == 2).all()
    # the same numbers as dif_ordinal with the purified rest score
    from veplab.validity import dif_ordinal
    ref = dif_ordinal(d, [f"a{j}" for j in range(1, 5)], "sex", matching="purified").table.set_index("item")
    assert res.table.loc["A 3", "chi-square"] == pytest.approx(ref.loc["a3", "chi2_13"], rel=1e-12)
    assert res.results["sa"].flagged == ["a3"] and res.labels["a3"] == "A 3"
    assert set(res.plot_table["scale"]) == {"sa", "sb"}
    # a group smaller than the threshold is left out, with a sentence without digits
    three = d.assign(site=np.where(np.arange(n) < 6, 3, d["site"]))
    cb3 = from_dict({"id": "t3", "title": "T", "id_column": "pid", "items": [
        {"id": "pid", "label": "Person", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "site", "label": "Site", "type": "categorical", "options": {1: "North", 2: "South", 3: "East"}},
        *[{"id": f"a{j}", "label": f"A {j}", "type": "likert", "options": AGREE} for j in range(1, 5)]],
        "scales": [{"id": "sa", "label": "Scale A", "items": [f"a{j}" for j in range(1, 5)]}]})
    left = vd.dif_across(three, cb3, ["sa"], "site", threshold=10)
    assert left.notes and "left out" in left.notes[0] and not re.search(r"\d", " ".join(left.notes))
    assert left.results["sa"].groups == ("North", "South") and left.n == n - 6
    with pytest.raises(vd.PartNotRun) as err:
        vd.dif_across(d.assign(site=1), CB, ["sa"], "site", threshold=10)
    assert not re.search(r"\d", err.value.sentence)


def test_prediction_frame_joins_the_first_rating():
    out = pd.DataFrame({"pid": ["p1", "p2", "p3", "p4"], "event": [1, 0, 0, 1], "risk": [9, 9, 9, 9]})
    ratings = pd.DataFrame({"pid": ["p1", "p1", "p2", "p2", "p3"], "rater": ["R2", "R1", "R1", "R3", "R2"],
                            "risk": [3, 2, 1, 3, 1]})
    f = vd.prediction_frame(out, "event", score="risk", score_df=ratings, join="pid", rater="rater")
    assert f["risk"].tolist()[:3] == [2, 1, 1] and np.isnan(f["risk"].iloc[3])  # R1's rating; p4 unrated
    assert f.attrs == {"first_rating": True, "n_without_score": 1} and list(f.index) == list(out.index)
    with pytest.raises(InputError, match=r"prediction\.rater: source 'r' holds several rows per 'pid'"):
        vd.prediction_frame(out, "event", score="risk", score_df=ratings, join="pid", score_source="source 'r'")
    with pytest.raises(InputError, match=r"prediction\.join: source 'f' must hold one row per 'pid', but 1 ids "
                                         r"appear more than once"):
        vd.prediction_frame(pd.concat([out, out.iloc[:1]]), "event", score="risk", score_df=ratings, join="pid",
                            rater="rater", outcome_source="source 'f'")
    ids = vd.prediction_frame(pd.DataFrame({"pid": [7.0, 8.0, np.nan], "event": [1, 0, 1]}), "event",
                              score="risk", score_df=pd.DataFrame({"pid": ["7", "8"], "risk": [3, 1]}), join="pid")
    assert ids["risk"].tolist()[:2] == [3, 1]  # 7.0 (a number column with a gap) is the code "7"
    same = vd.prediction_frame(out, "event", score="risk")
    assert same.attrs["first_rating"] is False and same["risk"].tolist() == [9, 9, 9, 9]


def test_predictive_validity_numbers():
    rng = np.random.default_rng(8)
    n = 400
    risk = rng.choice([1, 2, 3], n, p=[0.5, 0.3, 0.2])
    event = (rng.random(n) < np.array([0.1, 0.25, 0.5])[risk - 1]).astype(int)
    frame = pd.DataFrame({"event": event, "risk": risk.astype(float), "sex": rng.choice([1, 2], n), "site": 1})
    frame.loc[:4, "risk"] = np.nan
    pr = vd.predictive_validity(frame, "event", "risk", subgroups=["sex", "site"], outcome_codebook=CB,
                                score_codebook=CB, seed=1)
    y, s = event[5:], risk[5:]
    ev, ne = s[y == 1], s[y == 0]
    auc = ((ev[:, None] > ne[None, :]).sum() + 0.5 * (ev[:, None] == ne[None, :]).sum()) / (len(ev) * len(ne))
    assert pr.auc.estimate == pytest.approx(auc, abs=1e-12) and pr.auc.n == n - 5 and pr.n_left_out == 5
    assert list(pr.by_level.index) == ["Low", "Medium", "High"] and pr.by_level.index.name == "Risk rating"
    for level, code in zip(pr.by_level.index, (1, 2, 3)):
        k, m = int(y[s == code].sum()), int((s == code).sum())
        ci = stats.binomtest(k, m).proportion_ci(0.95, method="exact")
        row = pr.by_level.loc[level]
        assert (row["n"], row["events"]) == (m, k)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-10)
    assert set(pr.subgroups["variable"]) == {"(all)", "Sex"} and set(pr.subgroups["group"]) >= {"Male", "Female"}
    assert pr.subgroups["subgroup"].tolist() == ["All", "Sex: Female", "Sex: Male"]  # what the page shows
    assert pr.notes == ("People without the outcome or without a score are left out.",
                        "One of the subgroups takes a single value among these people, so performance is not "
                        "broken down by it.")
    assert pr.roc["sensitivity"].iloc[0] == 1 and pr.roc["specificity"].iloc[-1] == 1
    with pytest.raises(InputError, match=r"'event' must be coded 0/1"):
        vd.predictive_validity(frame.assign(event=frame["event"] + 1), "event", "risk")
    with pytest.raises(vd.PartNotRun):
        vd.predictive_validity(frame.assign(event=0), "event", "risk")


def test_a_score_with_many_values_is_grouped_in_tenths_for_the_table_and_curve():
    rng = np.random.default_rng(2)
    s = rng.normal(size=500)
    y = (rng.random(500) < 1 / (1 + np.exp(-s))).astype(int)
    pr = vd.predictive_validity(pd.DataFrame({"y": y, "s": s}), "y", "s")
    ev, ne = s[y == 1], s[y == 0]
    assert pr.auc.estimate == pytest.approx((ev[:, None] > ne[None, :]).mean(), abs=1e-12)  # the score itself
    assert pr.grouped and len(pr.by_level) == 10 and pr.by_level["n"].tolist() == [50] * 10
    assert pr.by_level.index.name == "s (tenths)" and len(pr.roc) == 11
    assert pr.by_level["events"].sum() == y.sum() and "group it into tenths" in pr.notes[-1]


# ------------------------------------------------------------------ prediction over time


def _followup_frame() -> pd.DataFrame:
    from pathlib import Path

    d = pd.read_csv(Path(__file__).parent / "reference" / "data" / "competing.csv")
    return d.assign(event=(d["status"] == 1).astype(int))


def test_prediction_over_time_on_levels_with_competing_events():
    from veplab.validity import time_auc

    d = _followup_frame()
    ot = vd.prediction_over_time(d, time="time", event="event", score="level", status="status", horizon=78,
                                 threshold=10, seed=1)
    assert ot.competing and ot.n == 500 and ot.n_events == int((d["status"] == 1).sum())
    assert ot.horizon == 78 and ot.risk_from_levels
    direct = time_auc(d["time"], d["status"], d["level"], [78]).table.iloc[0]
    assert ot.auc.loc["day 78", "auc"] == pytest.approx(direct["auc"], rel=1e-12)
    assert (ot.auc[["n_cases", "n_controls"]] >= 10).all().all()
    # cross-validated level risks: close to the observed risk per level
    assert list(ot.calibration_table.index) == ["0", "1", "2"]
    np.testing.assert_allclose(ot.calibration_table["predicted"], ot.calibration_table["observed"], atol=0.05)
    assert ot.decision.table["n_above"].nunique() <= 4  # one risk per level: the rules are "this level and above"
    assert {"incidence", "competing_incidence", "kaplan_meier"} <= set(ot.incidence_table.columns)
    assert (ot.incidence_table["kaplan_meier"] >= ot.incidence_table["incidence"]).all()
    assert list(ot.gray.index) == ["outcome", "competing"]
    assert ot.at_risk.shape == (3, 5)
    assert any("ten-fold cross-validation" in n for n in ot.notes)
    five = vd.prediction_over_time(d, time="time", event="event", score="level", status="status", horizon=78,
                                   folds=5, seed=1)
    # the note names the folds used, in words (was "ten-fold" whatever folds= said)
    assert any("five-fold cross-validation" in n for n in five.notes)
    assert not any(ch.isdigit() for n in five.notes for ch in n)


def test_prediction_over_time_probability_score_and_sentences():
    d = _followup_frame()
    ot = vd.prediction_over_time(d, time="time", event="event", score="risk", horizon=52)
    assert not ot.competing and not ot.risk_from_levels
    assert ot.calibration_table.index[0].startswith("tenth")
    with pytest.raises(vd.PartNotRun) as exc:
        vd.prediction_over_time(d, time="time", event="event", score="level", horizon=500)
    assert not any(ch.isdigit() for ch in exc.value.sentence)
    with pytest.raises(vd.PartNotRun):
        vd.prediction_over_time(d.assign(event=0, status=0), time="time", event="event", score="level")
    with pytest.raises(InputError, match="disagree"):
        first_events = d.index[d["event"] == 1][:3]
        vd.prediction_over_time(d.assign(event=np.where(d.index.isin(first_events), 0, d["event"])), time="time",
                                event="event", score="level", status="status")
    # follow-up ending at the horizon: measured at the last day before it, said in a note
    end = vd.prediction_over_time(d, time="time", event="event", score="level", horizon=float(d["time"].max()))
    assert end.horizon < d["time"].max() and any("last day before" in n for n in end.notes)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6), st.integers(2, 4))
def test_merged_categories_are_chosen_in_every_group_and_keep_their_order(seed: int, k: int, groups: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 60))
    x = pd.DataFrame({"a": rng.integers(1, k + 1, n), "b": rng.integers(1, 3, n)})
    g = pd.Series(rng.integers(0, groups, n))
    out, merged = vd.merge_empty_categories(x, g)
    for col in out.columns:
        codes = out[col].to_numpy()
        assert codes.min() == 0
        levels = np.unique(codes)
        if len(levels) > 2:   # merging stops at two categories
            for lv in np.unique(g):
                assert set(levels) <= set(codes[g.to_numpy() == lv]), (col, lv)
        # monotone: a higher original answer never gets a lower merged code
        order = np.argsort(x[col].to_numpy(), kind="stable")
        assert np.all(np.diff(codes[order]) >= 0)
        assert (col in merged) == (len(levels) < x[col].nunique())


def test_ordinal_invariance_across_runs_the_wu_estabrook_sequence_and_says_what_it_merged():
    d = _items(n=400, seed=8)
    d = d.assign(site=np.where(np.arange(400) % 2 == 0, 1, 2))
    lone = d["site"] == 2
    d.loc[lone, "a1"] = d.loc[lone, "a1"].clip(upper=4)    # nobody in site 2 chose the top answer of a1
    table, n, notes = vd.ordinal_invariance_across(d, CB, ["sa"], "site", threshold=10)
    assert list(table.index) == ["configural", "thresholds", "metric", "scalar"]
    assert n == int(d[[f"a{j}" for j in range(1, 5)]].notna().all(axis=1).sum())
    assert table.loc["metric", "delta_df"] == 3 and table.loc["scalar", "delta_df"] == 3
    assert len(notes) == 1 and notes[0].endswith("for: an item.")  # "A 1" holds a digit: not on a page
    assert not re.search(r"\d", notes[0])
    # the same fit as veplab.factor_analysis.invariance on the merged items
    from veplab.factor_analysis import invariance
    from veplab.validity.report import _scale_items, cfa_model
    x = _scale_items(d, CB, ["sa"]).join(d["site"].map({1: "North", 2: "South"}).rename("g")).dropna()
    merged, _ = vd.merge_empty_categories(x.drop(columns="g"), x["g"])
    ref = invariance(merged.join(x["g"]), cfa_model(CB, ["sa"]), "g", ordered=True).table.set_index("model")
    assert np.allclose(table["chisq"], ref["chisq"], rtol=1e-10)
    with pytest.raises(vd.PartNotRun) as err:
        vd.ordinal_invariance_across(d.assign(site=1), CB, ["sa"], "site", threshold=10)
    assert not re.search(r"\d", err.value.sentence)


def test_item_response_fits_the_partial_credit_model_of_a_scale():
    from scipy import stats

    from veplab.irt import partial_credit, rating_scale

    d = _items(n=300, seed=5)
    d.loc[:4, ["a1", "a3", "a4"]] = np.nan                  # five people answered a single item
    ir = vd.item_response(d, CB, "sa")
    assert list(ir.table.index) == ["A 1", "A 2", "A 3", "A 4"] and ir.n == 295
    assert ir.notes and "single item" in ir.notes[0] and not re.search(r"\d", " ".join(ir.notes))
    # the same numbers as veplab.irt.partial_credit on the items numbered 0, 1, ...
    x = d.loc[5:, [f"a{j}" for j in range(1, 5)]] - 1
    ref = partial_credit(x)
    assert np.allclose(ir.table["location"], ref.items["location"], rtol=1e-10)
    assert np.allclose(ir.table["infit MSQ"], ref.item_fit["infit_msq"], rtol=1e-10)
    # items on one answer scale: the rating scale model is tested against partial credit
    rsm = rating_scale(x)
    s = ir.shared_steps
    assert s is not None and s["df"] == ref.npar - rsm.npar
    assert s["statistic"] == pytest.approx(2 * (ref.loglik - rsm.loglik), rel=1e-12)
    assert s["p"] == pytest.approx(stats.chi2.sf(s["statistic"], s["df"]), rel=1e-12)
    assert any("steps" in note for note in ir.notes)
    # an item whose lowest answer nobody chose numbers its answers differently: its steps are not comparable
    shifted = d.assign(a1=d["a1"].clip(lower=2))
    assert vd.item_response(shifted, CB, "sa").shared_steps is None
    with pytest.raises(vd.PartNotRun) as err:
        vd.item_response(d.assign(a2=3), CB, "sa")
    assert not re.search(r"\d", err.value.sentence)


def test_item_response_of_yes_no_items_is_the_rasch_model():
    from veplab.irt import rasch

    rng = np.random.default_rng(12)
    n = 400
    theta = rng.normal(size=n)
    d = pd.DataFrame({"pid": [f"p{i}" for i in range(n)]})
    for j, b in enumerate([-1.0, -0.3, 0.4, 1.1]):
        d[f"y{j}"] = (rng.random(n) < 1 / (1 + np.exp(-(theta - b)))).astype(int)
    cb = from_dict({"id": "yn", "title": "T", "id_column": "pid", "items": [
        {"id": "pid", "label": "Person", "type": "text", "role": "admin", "pseudonymised": True},
        *[{"id": f"y{j}", "label": f"Yes {j}", "type": "binary", "options": {0: "No", 1: "Yes"}} for j in range(4)]],
        "scales": [{"id": "yes", "label": "Yes scale", "items": [f"y{j}" for j in range(4)]}]})
    ir = vd.item_response(d, cb, "yes")
    assert ir.result.model == "RM" and ir.notes == () and ir.shared_steps is None  # yes/no: no steps to share
    assert np.allclose(ir.table["location"], rasch(d[[f"y{j}" for j in range(4)]]).items["location"], rtol=1e-10)
    assert ir.table["location"].is_monotonic_increasing         # the planted difficulties' order
