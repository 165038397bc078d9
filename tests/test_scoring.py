"""Tests for veplab.scoring: the one function that turns answers into the numbers item statistics use.

Keyed (knowledge) items score 1 for the correct option and 0 for any other option,
"I don't know" included when it is an answer option; genuine missing codes stay
missing; reverse-keyed items are reversed once.  Every consumer of item statistics
(reliability, validity, reliable change) takes its items from ``scored_items``.
KR-20 against R is tested in tests/test_reliability.py (reference fixture
tests/reference/reliability.json, ``knowledge``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.codebook import from_dict, load
from veplab.scoring import dichotomous, item_scores, score_scales, scored_items

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "reference" / "data"


def _quiz_codebook(dont_know_is_missing: bool = False):
    options = {1: "right", 2: "wrong", 3: "also wrong"}
    dk = {} if dont_know_is_missing else {8: "I don't know"}
    items = [
        {"id": "q1", "label": "q1", "type": "categorical", "options": {**options, **dk},
         "missing": {9: "refused", **({8: "dont_know"} if dont_know_is_missing else {})}, "key": 1},
        {"id": "q2", "label": "q2", "type": "categorical", "options": {**options, **dk}, "key": 3},
        {"id": "l1", "label": "l1", "type": "likert", "options": {1: "no", 2: "-", 3: "yes"},
         "missing": {8: "dont_know"}, "reverse": True},
        {"id": "l2", "label": "l2", "type": "likert", "options": {1: "no", 2: "-", 3: "yes"}},
    ]
    return from_dict({"id": "quiz", "title": "t", "id_column": "id", "items": items,
                      "scales": [{"id": "quiz", "items": ["q1", "q2"], "score": "sum", "min_items": 1},
                                 {"id": "lik", "items": ["l1", "l2"], "min_items": 1}]})


def test_keyed_items_score_one_for_the_key_zero_otherwise():
    cb = _quiz_codebook()
    df = pd.DataFrame({"q1": [1, 2, 3, 8, 9, None], "q2": [3, 3, 1, 8, 8, 2]})
    x = scored_items(df, cb, ["q1", "q2"])
    assert x["q1"].tolist()[:4] == [1.0, 0.0, 0.0, 0.0]  # "I don't know" is an option: wrong
    assert np.isnan(x["q1"].iloc[4]) and np.isnan(x["q1"].iloc[5])  # refused (missing code) and blank: missing
    assert x["q2"].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert dichotomous(x)
    # the number of correct answers (prorated sum), as the scale score
    assert score_scales(df, cb, scales=["quiz"])["quiz"].tolist() == [2.0, 1.0, 0.0, 0.0, 0.0, 0.0]


def test_dont_know_as_missing_code_stays_missing():
    cb = _quiz_codebook(dont_know_is_missing=True)
    x = scored_items(pd.DataFrame({"q1": [1, 8, 2]}), cb, ["q1"])
    assert x["q1"].iloc[0] == 1.0 and np.isnan(x["q1"].iloc[1]) and x["q1"].iloc[2] == 0.0


def test_codes_that_cannot_be_scored_are_refused_with_the_column_named():
    cb = _quiz_codebook()
    with pytest.raises(InputError, match=r"column 'q1'.*\(7\).*neither options nor missing codes"):
        scored_items(pd.DataFrame({"q1": [1, 7]}), cb, ["q1"])
    with pytest.raises(InputError, match="column 'q2' has 1 answers that are not option codes"):
        scored_items(pd.DataFrame({"q2": ["1", "right"]}), cb, ["q2"])
    with pytest.raises(InputError, match=r"columns \['q2'\] are not in the data"):
        scored_items(pd.DataFrame({"q1": [1]}), cb, ["q1", "q2"])
    with pytest.raises(InputError, match="has no item"):
        scored_items(pd.DataFrame({"zz": [1]}), cb, ["zz"])


def test_reverse_keyed_items_are_reversed_once(tmp_path):
    from veplab.data import load as load_data

    cb = _quiz_codebook()
    df = pd.DataFrame({"id": ["a", "b", "c"], "q1": [1, 2, 8], "q2": [3, 3, 3], "l1": [1, 3, 8], "l2": [1, 2, 3]})
    x = scored_items(df, cb, ["l1", "l2"])
    assert x["l1"].tolist()[:2] == [3.0, 1.0] and np.isnan(x["l1"].iloc[2])  # reversed; 8 = don't know missing
    assert x["l2"].tolist() == [1.0, 2.0, 3.0]
    path = tmp_path / "quiz.csv"
    df.to_csv(path, index=False)
    for reverse in (False, True):
        loaded = load_data(path, cb, reverse=reverse)
        pd.testing.assert_frame_equal(scored_items(loaded, cb, ["q1", "q2", "l1", "l2"]),
                                      scored_items(df, cb, ["q1", "q2", "l1", "l2"]))
    assert item_scores is scored_items  # the former name is the same function


def test_every_item_statistic_takes_the_scored_items():
    """Reliability, validity and reliable change all compute on scored_items (no copy of the scoring)."""
    from veplab.outcomes.design import reliable_change_of
    from veplab.reliability import alpha, reliability_report
    from veplab.validity.report import _scale_items

    cb = load(ROOT / "surveys" / "staff_training.yml")
    raw = pd.read_csv(DATA / "reliability_knowledge.csv", index_col=0)
    items = list(cb.scale("knowledge").items)
    x = scored_items(raw, cb, items)
    kr20 = alpha(x).estimate
    assert 0.6 < kr20 < 0.8
    pd.testing.assert_frame_equal(_scale_items(raw, cb, ["knowledge"]), x)
    rep = reliability_report(raw, cb, n_boot=0)
    assert rep.scales.set_index("scale").loc["knowledge", "alpha"] == pytest.approx(kr20, rel=1e-12)
    # two waves of the same people: the reliable-change reliability is KR-20 of the first wave
    half = len(raw) // 2
    waves = pd.concat([raw.iloc[:half].assign(wave=1), raw.iloc[half:2 * half].assign(wave=2)])
    waves["sid"] = np.tile(np.arange(half), 2)
    waves["knowledge"] = score_scales(waves, cb, scales=["knowledge"])["knowledge"]
    _, rel = reliable_change_of(waves.reset_index(drop=True), cb, "knowledge", id="sid", wave="wave", pre=1, post=2)
    assert rel == pytest.approx(alpha(scored_items(raw.iloc[:half], cb, items)).estimate, rel=1e-12)


def test_scored_items_after_a_merge_asks_whether_items_are_reversed(tmp_path):
    """load(reverse=True) then a merge drops load's record: scoring must not reverse a second time by guess."""
    import pandas as pd
    import pytest

    from veplab._validate import InputError
    from veplab.codebook import from_dict
    from veplab.data import load
    from veplab.scoring import scored_items

    cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
        {"id": "id", "label": "id", "type": "text", "role": "admin"},
        {"id": "a", "label": "a", "type": "likert", "options": {1: "no", 2: "maybe", 3: "yes"}, "reverse": True,
         "missing": {9: "refused"}},
        {"id": "b", "label": "b", "type": "likert", "options": {1: "no", 2: "maybe", 3: "yes"},
         "missing": {9: "refused"}}]})
    path = tmp_path / "s.csv"
    pd.DataFrame({"id": ["r1", "r2", "r3"], "a": [1, 3, 9], "b": [2, 3, 1]}).to_csv(path, index=False)
    df = load(path, cb, reverse=True)
    assert scored_items(df, cb, ["a"])["a"].tolist()[:2] == [3.0, 1.0]  # reversed once, by load
    merged = df.merge(pd.DataFrame({"id": ["r1", "r2", "r3"], "site": [1, 1, 2]}), on="id")
    with pytest.raises(InputError, match="already_reversed=True"):
        scored_items(merged, cb, ["a", "b"])
    assert scored_items(merged, cb, ["a"], already_reversed=True)["a"].tolist()[:2] == [3.0, 1.0]
    assert scored_items(merged, cb, ["b"])["b"].tolist() == [2.0, 3.0, 1.0]  # no reverse-keyed item: nothing to ask
