"""veplab.descriptives: endorsement and compare_groups against R (tests/reference/factors_regression.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veplab._validate import InputError
from veplab.codebook import from_dict
from veplab.descriptives import compare_groups, endorsement, p_adjust, plot_endorsement, wilson_interval
from veplab.descriptives.shares import cliff_delta

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "factors_regression.json").read_text())
SURVEY = pd.read_csv(REF / "data" / "factors_reg_survey.csv")
GROUPS = pd.read_csv(REF / "data" / "factors_reg_groups.csv")
SMALL = pd.read_csv(REF / "data" / "factors_reg_small.csv")
VARS = ["grievance", "peers", "trust_staff", "item_a", "item_b"]


def _survey_coded() -> pd.DataFrame:
    d = SURVEY.copy()
    d["violent"] = pd.Categorical(d["violent"], categories=[0, 1], ordered=True)
    return d


# ------------------------------------------------------------------ endorsement
def test_share_with_wilson_interval_matches_prop_test():
    t = endorsement(_survey_coded(), "violent", by=["country"], agree_at=1).table
    ref = R["descriptives"]["share_violent_by_country"]
    for _, row in t.iterrows():
        key = "overall" if row["group_var"] == "overall" else row["group"]
        r = ref[key]
        assert row["n"] == r["n"] and row["n_agree"] == r["x"]
        assert row["kind"] == "share"
        assert row["estimate"] == pytest.approx(r["estimate"], rel=1e-12)
        assert row["ci_low"] == pytest.approx(r["ci"][0], rel=1e-9)
        assert row["ci_high"] == pytest.approx(r["ci"][1], rel=1e-9)
    t90 = endorsement(_survey_coded(), "violent", by=["country"], agree_at=1, ci=0.90).table
    b = t90[t90["group"] == "B"].iloc[0]
    assert (b["ci_low"], b["ci_high"]) == pytest.approx(tuple(ref["B"]["ci90"]), rel=1e-9)


def test_wilson_interval_edges_match_r():
    lo, hi = wilson_interval([0, 7], [7, 7])
    assert [lo[0], hi[0]] == pytest.approx(R["descriptives"]["wilson_edge"]["x0"], abs=1e-12)
    assert [lo[1], hi[1]] == pytest.approx(R["descriptives"]["wilson_edge"]["xn"], abs=1e-12)
    lo, hi = wilson_interval(0, 0)
    assert np.isnan(lo) and np.isnan(hi)


def test_mean_with_t_interval_matches_t_test():
    t = endorsement(SURVEY, "grievance", by="gender").table
    ref = R["descriptives"]["mean_grievance_by_gender"]
    for _, row in t.iterrows():
        r = ref["overall" if row["group_var"] == "overall" else row["group"]]
        assert row["kind"] == "mean" and row["n"] == r["n"]
        assert row["estimate"] == pytest.approx(r["estimate"], rel=1e-12)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(tuple(r["ci"]), rel=1e-10)
    t90 = endorsement(SURVEY, "grievance", by="gender", ci=0.9).table
    w = t90[t90["group"] == "woman"].iloc[0]
    assert (w["ci_low"], w["ci_high"]) == pytest.approx(tuple(ref["woman"]["ci90"]), rel=1e-10)


def test_default_breakdowns_are_the_shared_demographics_present():
    d = pd.DataFrame({"gender": [1, 2] * 10, "country": [1] * 10 + [2] * 10, "vep_status": [0, 1] * 10,
                      "score": np.linspace(1, 5, 20)})
    t = endorsement(d, "score").table
    assert list(dict.fromkeys(t["group_var"])) == ["overall", "country", "gender", "vep_status"]
    assert list(t.columns[:8]) == ["variable", "group_var", "group", "group_code", "n", "estimate", "ci_low",
                                   "ci_high"]
    only = endorsement(d, "score", by=[]).table
    assert list(only["group_var"]) == ["overall"]


def test_likert_categorical_share_agreeing_and_missing_excluded():
    item = pd.Categorical([1, 2, 3, 4, 5, 4, None, 5], categories=[1, 2, 3, 4, 5], ordered=True)
    d = pd.DataFrame({"pp_x": item, "gender": [1, 1, 1, 1, 2, 2, 2, 2]})
    t = endorsement(d, "pp_x", by="gender").table
    assert t["n"].tolist() == [7, 4, 3]
    assert t["estimate"].tolist() == pytest.approx([4 / 7, 1 / 4, 3 / 3])
    t5 = endorsement(d, "pp_x", by="gender", agree_at=5).table
    assert t5["estimate"].iloc[0] == pytest.approx(2 / 7)


def test_threshold_suppresses_small_groups_with_secondary_suppression():
    d = pd.DataFrame({"score": np.arange(40, dtype=float),
                      "gender": [1] * 34 + [2] * 6,
                      "country": [1] * 15 + [2] * 12 + [3] * 13})
    t = endorsement(d, "score", by=["gender", "country"], threshold=10).table
    assert "suppressed" in t.columns
    g = t[t["group_var"] == "gender"].set_index("group")
    # women (n=6) primary; men must go too, else 40 - 34 gives the women back
    assert g["suppressed"].tolist() == [True, True]
    assert g["estimate"].isna().all() and g["n"].isna().all() and g["ci_low"].isna().all()
    c = t[t["group_var"] == "country"]
    assert not c["suppressed"].any() and c["estimate"].notna().all()
    assert not t[t["group_var"] == "overall"]["suppressed"].iloc[0]
    with pytest.raises(InputError, match="threshold"):
        endorsement(d, "score", by="gender", threshold=0)


def test_labels_from_codebook():
    cb = from_dict({
        "id": "t", "title": "t", "id_column": "id",
        "items": [
            {"id": "id", "label": "id", "type": "text", "role": "admin"},
            {"id": "gender", "label": "Gender", "type": "categorical",
             "options": {1: {"en": "Man", "fr": "Homme"}, 2: {"en": "Woman", "fr": "Femme"}}},
            {"id": "q1", "label": {"en": "Question one", "fr": "Question un"}, "type": "likert",
             "options": {1: "no", 2: "meh", 3: "yes"}},
        ],
        "scales": [{"id": "s", "items": ["q1"], "label": {"en": "Scale S", "fr": "Echelle S"}}],
    })
    d = pd.DataFrame({"gender": pd.Categorical([1, 2, 1, 2], categories=[1, 2]),
                      "q1": pd.Categorical([1, 3, 3, 2], categories=[1, 2, 3], ordered=True), "s": [1.0, 3, 3, 2]})
    t = endorsement(d, ["q1", "s"], by="gender", labels=cb, lang="fr", agree_at=3).table
    assert t["label"].tolist() == ["Question un"] * 3 + ["Echelle S"] * 3
    assert t["group"].tolist() == ["Ensemble", "Homme", "Femme"] * 2
    assert t["group_code"].tolist()[1:3] == [1, 2]


def test_endorsement_bad_input():
    d = pd.DataFrame({"score": [1.0, 2.0], "blank": [np.nan, np.nan], "gender": [1, 2]})
    with pytest.raises(InputError, match="no answers"):
        endorsement(d, "blank", by="gender")
    with pytest.raises(InputError, match="not in the data"):
        endorsement(d, "nope", by="gender")
    with pytest.raises(InputError, match="breakdown"):
        endorsement(d, "score", by="country")
    item = pd.DataFrame({"x": pd.Categorical([1, 2, 3], categories=[1, 2, 3])})
    with pytest.raises(InputError, match="agree_at"):
        endorsement(item, "x", by=[])


def test_plot_endorsement_returns_axes():
    import matplotlib

    matplotlib.use("Agg")
    t = endorsement(SURVEY, "grievance", by=["gender", "country"], threshold=10).table
    ax = plot_endorsement(t)
    assert ax.get_xlabel().startswith("mean")
    assert len(ax.get_yticks()) == 6
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


# ------------------------------------------------------------------ compare_groups
def _check(row: pd.Series, r: dict, rel: float = 1e-9) -> None:
    pairs = {"n_ref": "n_ref", "n_focal": "n_focal", "mean_ref": "mean_ref", "mean_focal": "mean_focal",
             "sd_ref": "sd_ref", "sd_focal": "sd_focal", "diff": "diff", "t": "t", "df": "df", "p_welch": "p_welch",
             "W": "W", "p_mw": "p_mw", "hedges_g": "hedges_g", "cliff_delta": "cliff"}
    for ours, theirs in pairs.items():
        assert row[ours] == pytest.approx(r[theirs], rel=rel, abs=1e-14), ours
    for ours, theirs in (("diff_ci", "diff_ci"), ("g_ci", "g_ci"), ("delta_ci", "cliff_ci")):
        assert (row[f"{ours}_low"], row[f"{ours}_high"]) == pytest.approx(tuple(r[theirs]), rel=rel), ours


def test_compare_groups_matches_r_welch_wilcox_effsize_and_bh():
    out = compare_groups(GROUPS, VARS, "group", ordinal=[]).table
    assert out["reference"].iloc[0] == "general" and out["focal"].iloc[0] == "vep"
    ref = R["compare"]
    for _, row in out.iterrows():
        _check(row, ref["vars"][row["variable"]])
        assert row["mw_method"] == "normal approximation with continuity correction"
    assert out["p_welch_adj"].tolist() == pytest.approx([ref["p_welch_bh"][v] for v in VARS], rel=1e-10)
    assert out["p_mw_adj"].tolist() == pytest.approx([ref["p_mw_bh"][v] for v in VARS], rel=1e-10)


def test_compare_groups_ci_level_and_consistent_cliff_variance():
    out = compare_groups(GROUPS, "grievance", "group", ci=0.90).table
    _check(out.iloc[0], R["compare"]["grievance_90"])
    cons = compare_groups(GROUPS, ["item_a"], "group", ordinal=[], delta_variance="consistent").table.iloc[0]
    r = R["compare"]["vars"]["item_a"]
    assert (cons["delta_ci_low"], cons["delta_ci_high"]) == pytest.approx(tuple(r["cliff_ci_consistent"]), rel=1e-9)


def test_compare_groups_exact_mann_whitney_path():
    row = compare_groups(SMALL, "score", "group").table.iloc[0]
    _check(row, R["compare_small"])
    assert row["mw_method"] == "exact"


def test_cliff_delta_matches_effsize_documented_example():
    ex = R["cliff_example"]
    d, lo, hi, var = cliff_delta(np.array(ex["treatment"], float), np.array(ex["control"], float),
                                 variance="consistent", normal=True)
    assert d == -0.25  # effsize's own test
    assert (lo, hi) == pytest.approx(tuple(ex["ci"]), rel=1e-12)
    # the three variance terms quoted in effsize's R/CliffDelta.R: 0.2669753, 0.447, 1.0055556
    assert ex["terms"] == pytest.approx([0.2669753, 0.447, 1.0055556], abs=1e-7)
    n1, n2 = 10, 6
    assert var == pytest.approx(((n2 - 1) * ex["terms"][0] + (n1 - 1) * ex["terms"][1] + ex["terms"][2]) / (n1 * n2))


def test_ordinal_columns_get_rank_statistics_only():
    g = GROUPS.copy()
    g["item_a"] = pd.Categorical(g["item_a"], categories=[1.0, 2.0, 3.0, 4.0, 5.0], ordered=True)
    out = compare_groups(g, ["grievance", "item_a"], "group").table.set_index("variable")
    assert out.loc["item_a", "kind"] == "ordinal" and out.loc["grievance", "kind"] == "mean"
    assert np.isnan(out.loc["item_a", "hedges_g"]) and np.isnan(out.loc["item_a", "p_welch"])
    assert out.loc["item_a", "cliff_delta"] == pytest.approx(R["compare"]["vars"]["item_a"]["cliff"], rel=1e-12)
    # BH over the non-missing Welch p-values only (one test), as p.adjust with NA
    assert out.loc["grievance", "p_welch_adj"] == pytest.approx(out.loc["grievance", "p_welch"])
    assert np.isnan(out.loc["item_a", "p_welch_adj"])


def test_compare_groups_levels_and_errors():
    g = GROUPS.copy()
    g.loc[:9, "group"] = "staff"
    with pytest.raises(InputError, match=r"3 level\(s\).*levels=\('general', 'vep'\)"):
        compare_groups(g, VARS, "group")
    out = compare_groups(g, ["grievance"], "group", levels=("vep", "general")).table
    assert out["reference"].iloc[0] == "vep" and out["n_ref"].iloc[0] > 0
    assert out["n_focal"].iloc[0] == int(GROUPS.loc[10:, "group"].eq("general").sum()
                                         - GROUPS.loc[10:].query("group == 'general'")["grievance"].isna().sum())
    with pytest.raises(InputError, match="not present"):
        compare_groups(g, ["grievance"], "group", levels=("vep", "nobody"))
    one = GROUPS[GROUPS["group"] == "vep"]
    with pytest.raises(InputError, match="1 level"):
        compare_groups(one, ["grievance"], "group")
    with pytest.raises(InputError, match="no non-missing"):
        compare_groups(GROUPS.assign(blank=np.nan), ["blank"], "group")
    with pytest.raises(InputError, match="not in the data"):
        compare_groups(GROUPS, ["grievance"], "grp")


def test_compare_groups_tiny_group_warns_and_leaves_statistics_empty():
    d = pd.DataFrame({"g": [0, 0, 0, 1], "s": [1.0, 2.0, 3.0, 4.0]})
    with pytest.warns(UserWarning, match="at least 2"):
        out = compare_groups(d, "s", "g").table
    assert np.isnan(out["p_welch"].iloc[0]) and np.isnan(out["hedges_g"].iloc[0])


def test_p_adjust_matches_r():
    pa = R["p_adjust"]
    assert p_adjust(pa["p"]).tolist() == pytest.approx(pa["bh"], rel=1e-12)
    got = p_adjust([np.nan if v == "NA" else v for v in pa["p_na"]], "BH")
    want = [np.nan if v == "NA" else v for v in pa["bh_na"]]
    assert np.isnan(got[1]) and got[[0, 2, 3]].tolist() == pytest.approx([want[0], want[2], want[3]])
    assert p_adjust([0.01, 0.02, 0.04], "holm").tolist() == pytest.approx([0.03, 0.04, 0.04])
    assert p_adjust([0.01, 0.4], "bonferroni").tolist() == pytest.approx([0.02, 0.8])
    with pytest.raises(InputError):
        p_adjust([0.1], "sidak")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=30), st.lists(st.integers(1, 5), min_size=2, max_size=30))
def test_cliff_delta_equals_dominance_matrix_and_flips_sign(a, b):
    x, y = np.array(a, float), np.array(b, float)
    dm = np.sign(x[:, None] - y[None, :])
    d, lo, hi, var = cliff_delta(x, y)
    assert d == pytest.approx(dm.mean(), abs=1e-12)
    d2, lo2, hi2, var2 = cliff_delta(y, x)
    assert d2 == pytest.approx(-d, abs=1e-12)
    assert var2 == pytest.approx(var, rel=1e-9, abs=1e-12)
    if np.isfinite(lo):
        assert -1 - 1e-12 <= lo <= d + 1e-12 and d - 1e-12 <= hi <= 1 + 1e-12
    # unbiased variance, written with the full dominance matrix (effsize's naive algorithm)
    n1, n2 = len(x), len(y)
    dd = d * (n1 * n2 - 1) / (n1 * n2) if abs(d) == 1 else d
    S = (n2 ** 2 * ((dm.mean(1) - dd) ** 2).sum() + n1 ** 2 * ((dm.mean(0) - dd) ** 2).sum()
         - ((dm - dd) ** 2).sum()) / (n1 * n2 * (n1 - 1) * (n2 - 1))
    if S >= 0:
        assert var == pytest.approx(S, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_bh_adjusted_values_are_bounded_and_monotone(ps):
    p = np.array(ps)
    adj = p_adjust(p)
    assert np.all(adj >= p - 1e-15) and np.all(adj <= 1)
    order = np.argsort(p)
    assert np.all(np.diff(adj[order]) >= -1e-15)


def test_no_warning_on_clean_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare_groups(GROUPS, VARS, "group")
        endorsement(SURVEY, ["grievance", "peers"], by=["gender", "country"])


def test_docstring_examples_run():
    import doctest

    import veplab.descriptives.shares as mod

    assert doctest.testmod(mod).failed == 0


def test_hedges_g_equals_pingouin_and_its_interval_differs_by_j():
    pg = pytest.importorskip("pingouin")
    from veplab.descriptives.shares import hedges_g

    x = GROUPS.loc[GROUPS["group"] == "vep", "grievance"].dropna().to_numpy()
    y = GROUPS.loc[GROUPS["group"] == "general", "grievance"].dropna().to_numpy()
    g, lo, hi = hedges_g(x, y)
    g_pg = pg.compute_effsize(x, y, eftype="hedges")
    lo_pg, hi_pg = pg.compute_esci(g_pg, nx=len(x), ny=len(y), eftype="hedges", decimals=15)
    J = 1 - 3 / (4 * (len(x) + len(y)) - 9)
    assert g == pytest.approx(g_pg, rel=1e-12)
    assert hi - g == pytest.approx((hi_pg - g_pg) * J, rel=1e-9)  # effsize scales the SE by J, pingouin does not
