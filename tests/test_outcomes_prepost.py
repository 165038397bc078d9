"""veplab.outcomes.prepost against R t.test / wilcox.test (tests/reference/outcomes.R)."""

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
from veplab.outcomes import paired_tests, pre_post, pre_post_long, reliable_change
from veplab.outcomes.prepost import _psignrank, wilcoxon_signed_rank

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "outcomes.json").read_text())["prepost"]
DATA = pd.read_csv(REF / "data" / "outcomes_prepost.csv")
SMALL = pd.read_csv(REF / "data" / "outcomes_prepost_small.csv")


def _check_row(row: pd.Series | dict, ref: dict, rel: float = 1e-6) -> None:
    pairs = {
        "n_pairs": "n_pairs", "mean_pre": "mean_pre", "mean_post": "mean_post", "sd_pre": "sd_pre",
        "sd_post": "sd_post", "r_pre_post": "r", "mean_change": "mean_change", "change_ci_low": "ci_low",
        "change_ci_high": "ci_high", "t": "t", "df": "df", "p_t": "p_t", "wilcoxon_V": "V",
        "p_wilcoxon": "p_wilcoxon", "d_z": "d_z", "d_av": "d_av", "g_av": "g_av", "d_rm": "d_rm",
    }
    for ours, theirs in pairs.items():
        assert row[ours] == pytest.approx(ref[theirs], rel=rel, abs=1e-12), ours
    for es in ("d_z", "d_av", "g_av", "d_rm"):
        assert row[f"{es}_ci_low"] == pytest.approx(ref[f"{es}_ci"][0], rel=rel)
        assert row[f"{es}_ci_high"] == pytest.approx(ref[f"{es}_ci"][1], rel=rel)


def test_pre_post_matches_r_normal_approximation_with_ties_and_dropped_pairs():
    with pytest.warns(UserWarning, match="only one wave"):
        res = pre_post(DATA, {"confidence": ("confidence_pre", "confidence_post"),
                              "knowledge": ("knowledge_pre", "knowledge_post")}, id="id")
    out = res.table
    conf = out.set_index("scale").loc["confidence"]
    _check_row(conf, R["confidence"])
    assert conf["wilcoxon_method"] == "normal approximation with continuity correction"
    assert conf["n_missing_post"] == 3 and conf["n_missing_pre"] == 1
    assert res.dropped["confidence"] == ["FAKE-0005", "FAKE-0018", "FAKE-0034", "FAKE-0061"]
    _check_row(out.set_index("scale").loc["knowledge"], R["knowledge"])


def test_pre_post_ci_level_is_honoured():
    with pytest.warns(UserWarning):
        out = pre_post(DATA, "knowledge_pre", "knowledge_post", ci=0.90).table
    _check_row(out.iloc[0], R["knowledge_90"])
    assert out["scale"].iloc[0] == "knowledge"


def test_pre_post_exact_signed_rank_path():
    out = pre_post(SMALL, "score_pre", "score_post").table
    _check_row(out.iloc[0], R["small"])
    assert out["wilcoxon_method"].iloc[0] == "exact"
    assert R["small"]["wilcoxon_method"] == "Wilcoxon signed rank exact test"


def test_lakens_2013_movie_example():
    # Lakens (2013, Front. Psychol. 4:863), Table 1: M = 8.7 vs 7.7, t(9) = 4.74,
    # p = .001, Cohen's d_z = 1.50, d_av = 1.13 (published, 2 decimals)
    d = pd.DataFrame({"m2": [9, 6, 7, 8, 7, 9, 8, 8, 8, 7], "m1": [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]})
    row = pre_post(d, "m2", "m1").table.iloc[0]
    assert round(row["t"], 2) == 4.74 and round(row["p_t"], 3) == 0.001
    assert round(row["d_z"], 2) == 1.50 and round(row["d_av"], 2) == 1.13
    assert round(row["r_pre_post"], 3) == 0.726
    _check_row(row, R["lakens"])


def test_long_format_gives_the_same_as_wide():
    long = pd.concat([
        DATA[["id", "confidence_pre"]].rename(columns={"confidence_pre": "conf"}).assign(wave="pre"),
        DATA[["id", "confidence_post"]].rename(columns={"confidence_post": "conf"}).assign(wave="post"),
    ])
    with pytest.warns(UserWarning):
        out = pre_post_long(long, "conf", "wave", "id", "pre", "post").table
    _check_row(out.iloc[0], R["confidence"])


@pytest.mark.filterwarnings("ignore")
def test_pingouin_paired_ttest_agrees():
    pg = pytest.importorskip("pingouin")
    ok = SMALL
    res = pg.ttest(ok["score_post"], ok["score_pre"], paired=True)
    row = pre_post(SMALL, "score_pre", "score_post").table.iloc[0]
    assert row["t"] == pytest.approx(float(res["T"].iloc[0]), rel=1e-9)
    assert row["p_t"] == pytest.approx(float(res["p_val"].iloc[0] if "p_val" in res else res["p-val"].iloc[0]),
                                       rel=1e-9)


def test_psignrank_matches_known_values():
    # R: psignrank(5, 6) = 0.15625 ; psignrank(10, 10) = 0.04199219
    assert _psignrank(5, 6) == pytest.approx(0.15625)
    assert _psignrank(10, 10) == pytest.approx(0.0419921875)
    assert _psignrank(10, 10, lower_tail=False) == pytest.approx(1 - 0.0419921875)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=3, max_size=40))
def test_signed_rank_is_antisymmetric(diffs):
    a = wilcoxon_signed_rank(np.array(diffs))
    b = wilcoxon_signed_rank(-np.array(diffs))
    n = a["n_nonzero"]
    assert a["V"] + b["V"] == pytest.approx(n * (n + 1) / 2)
    if np.isfinite(a["p"]):
        assert a["p"] == pytest.approx(b["p"], rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 40), st.floats(-2, 2), st.integers(0, 10_000))
def test_effect_intervals_contain_estimates(n, shift, seed):
    r = np.random.default_rng(seed)
    pre = r.normal(0, 1, n)
    post = pre * 0.5 + r.normal(shift, 1, n)
    row = paired_tests(pre, post)
    for es in ("d_z", "d_av", "g_av", "d_rm"):
        assert row[f"{es}_ci_low"] <= row[es] <= row[f"{es}_ci_high"]


def test_reliable_change_jacobson_truax():
    pre = pd.Series([10, 12, 15, 20, np.nan])
    post = pd.Series([16, 12, 9, 21, 3])
    with pytest.warns(UserWarning, match="left out"):
        rc = reliable_change(pre, post, reliability=0.8, sd=3)
    s_diff = np.sqrt(2 * (3 * np.sqrt(0.2)) ** 2)
    assert rc.s_diff == pytest.approx(s_diff)
    assert rc.table["rci"].tolist() == pytest.approx([6 / s_diff, 0, -6 / s_diff, 1 / s_diff])
    assert (rc.n_improved, rc.n_unchanged, rc.n_deteriorated, rc.n_dropped) == (1, 2, 1, 1)
    lower = reliable_change(pre.iloc[:4], post.iloc[:4], reliability=0.8, sd=3, higher_is_better=False)
    assert (lower.n_improved, lower.n_deteriorated) == (1, 1)
    assert lower.table["category"].tolist() == ["deteriorated", "unchanged", "improved", "unchanged"]
    assert rc.counts["share"].sum() == pytest.approx(1)


# ------------------------------------------------------------------ bad input
def test_pre_without_post_is_a_clear_error():
    d = pd.DataFrame({"a_pre": [1, 2, 3], "a_post": [np.nan, np.nan, 4]})
    with pytest.raises(InputError, match="complete pre/post pair"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pre_post(d, "a_pre", "a_post")
    with pytest.raises(InputError, match="post= is missing"):
        pre_post(d, "a_pre")


def test_unknown_columns_named():
    with pytest.raises(InputError, match=r"\['nope'\] are not in the data"):
        pre_post(DATA, "nope", "confidence_post")


def test_text_values_named():
    d = pd.DataFrame({"a_pre": [1, 2, "x"], "a_post": [1, 2, 3]})
    with pytest.raises(InputError, match="non-numeric"):
        pre_post(d, "a_pre", "a_post")


def test_long_duplicates_and_levels():
    long = pd.DataFrame({"id": [1, 1, 1, 2], "wave": ["pre", "pre", "post", "pre"], "v": [1, 2, 3, 4]})
    with pytest.raises(InputError, match="more than one row"):
        pre_post_long(long, "v", "wave", "id", "pre", "post")
    with pytest.raises(InputError, match="does not occur"):
        pre_post_long(long, "v", "wave", "id", "pre", "after")


def test_reliable_change_bad_reliability():
    with pytest.raises(InputError, match="reliability"):
        reliable_change([1, 2], [2, 3], reliability=1.2, sd=1)


def test_warnings_count_pseudonymised_people_instead_of_listing_them():
    from veplab.privacy import pseudonym

    key = b"k" * 32
    df = DATA.copy()
    df["id"] = [pseudonym(v, key) for v in df["id"]]
    with pytest.warns(UserWarning, match="only one wave") as rec:
        res = pre_post(df, {"confidence": ("confidence_pre", "confidence_post")}, id="id")
    message = str(rec[0].message)
    dropped = res.dropped["confidence"]
    assert len(dropped) == 4 and all(d.startswith("p_") for d in dropped)  # kept for the analyst, in the result
    assert not any(d in message for d in dropped)
    assert "4 rows; their pseudonyms are not printed: see result.dropped['confidence']" in message
