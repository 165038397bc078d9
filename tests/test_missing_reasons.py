"""Why an answer is missing travels with its row: merges, joins, concatenation, column selection, filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veplab._validate import InputError
from veplab.codebook import from_dict
from veplab.data import (
    REASONS,
    ReasonsLost,
    load,
    load_info,
    missing_reasons,
    reason_column,
    reason_columns,
    set_missing_reasons,
    with_reasons,
)

ITEMS = ["q0", "q1", "q2"]
UNITS = ["A", "B", "C"]

# one cell: an answer (1..5), or missing with a reason (or with none: blank in the file)
cell = st.one_of(st.integers(1, 5).map(float), st.sampled_from([*REASONS, None]).map(lambda r: ("na", r)))


@st.composite
def frames(draw, prefix: str = "a") -> tuple[pd.DataFrame, dict[tuple[str, str], str | None]]:
    """A frame with random answers and reasons, and the reason of each (id, item) cell as drawn."""
    n = draw(st.integers(1, 8))
    k = draw(st.integers(1, len(ITEMS)))
    cols = ITEMS[:k]
    cells = {c: draw(st.lists(cell, min_size=n, max_size=n)) for c in cols}
    ids = [f"{prefix}{i}" for i in range(n)]
    df = pd.DataFrame({"id": ids, "unit": draw(st.lists(st.sampled_from(UNITS), min_size=n, max_size=n)),
                       **{c: [np.nan if isinstance(v, tuple) else v for v in cells[c]] for c in cols}})
    reasons = {c: [v[1] if isinstance(v, tuple) else None for v in cells[c]] for c in cols}
    # some items get no reason column at all (a frame built by other means): their cells have no reason
    keep = draw(st.lists(st.sampled_from(cols), unique=True))
    truth = {(i, c): (reasons[c][j] if c in keep else None) for c in cols for j, i in enumerate(ids)}
    return set_missing_reasons(df, {c: reasons[c] for c in keep}), truth


ops = st.sampled_from(["merge_left", "merge_inner", "merge_right", "concat_other", "concat_self", "concat_plain",
                       "join", "select", "copy", "filter", "sort", "reset_index", "assign_fill"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), frames("b"), st.lists(ops, min_size=1, max_size=3), st.data())
def test_reasons_follow_their_cells_through_pandas_operations(made, made_other, steps, data):
    df, expected = made
    other, expected_other = made_other
    filled: set[tuple[str, str]] = set()  # cells answered later
    for k, step in enumerate(steps):
        if step.startswith("merge"):
            fac = pd.DataFrame({"unit": pd.Series(data.draw(st.lists(st.sampled_from(UNITS), unique=True)),
                                                  dtype=object)})
            fac[f"occupancy{k}"] = np.arange(len(fac), dtype=float)
            df = df.merge(fac, on="unit", how=step.split("_")[1])
        elif step == "concat_other":  # rows of another frame, with ids of their own
            df = pd.concat([df, other.assign(id=f"{k}" + other["id"])], ignore_index=data.draw(st.booleans()))
            expected.update({(f"{k}{i}", c): r for (i, c), r in expected_other.items()})
        elif step == "concat_self":
            df = pd.concat([df, df.iloc[::-1]])
        elif step == "concat_plain":  # the same items from a frame with no reason columns
            plain = other.drop(columns=reason_columns(other))
            plain["id"] = f"p{k}" + plain["id"]
            df = pd.concat([df, plain], ignore_index=True)
        elif step == "join":
            extra = pd.DataFrame({f"extra{k}": 1.0}, index=df.index.unique()[::2])
            df = df.join(extra, how=data.draw(st.sampled_from(["left", "inner"])))
        elif step == "select":
            present = [c for c in df.columns if c in ITEMS]
            keep = data.draw(st.lists(st.sampled_from(present), unique=True)) if present else []
            gone = [c for c in present if c not in keep]
            expected.update({(i, c): None for i in df["id"].dropna() for c in gone})  # its cells are gone
            df = df[with_reasons(df, ["id", "unit", *keep])]
        elif step == "copy":
            df = df.copy()
        elif step == "filter":
            mask = data.draw(st.lists(st.booleans(), min_size=len(df), max_size=len(df)))
            df = df.loc[np.asarray(mask, dtype=bool)]
        elif step == "sort":
            df = df.sort_values("id", kind="stable", ascending=data.draw(st.booleans()))
        elif step == "reset_index":
            df = df.reset_index(drop=True)
        elif step == "assign_fill":
            items = [c for c in ITEMS if c in df.columns]
            if items and len(df):
                c = data.draw(st.sampled_from(items))
                filled.update((i, c) for i, v in zip(df["id"], df[c]) if pd.isna(v))
                df = df.copy()
                df[c] = df[c].fillna(3.0)
    items = [c for c in ITEMS if c in df.columns]
    got = missing_reasons(df, items)
    assert got.shape == (len(df), len(items)) and got.index.equals(df.index)
    for c in items:
        answered = df[c].notna().to_numpy()
        stored = (df[reason_column(c)].notna().to_numpy() if reason_column(c) in df.columns
                  else np.zeros(len(df), dtype=bool))
        for i, r, ans, st_ in zip(df["id"], got[c], answered, stored):
            if ans or pd.isna(i):  # an answer, or a row a right merge added: never a reason
                assert pd.isna(r), (i, c, r)
                # the stored reason never sits beside an answer either (unless the answer was filled in later)
                assert not (ans and st_) or (i, c) in filled, (i, c)
            else:  # every remaining missing cell keeps the reason it was drawn with (None: a row that lacked c)
                assert (None if pd.isna(r) else r) == expected.get((i, c)), (i, c, r)


# ------------------------------------------------------------------ from load: a selection that drops them is noticed

CB = from_dict({
    "id": "r", "title": "r", "id_column": "rid",
    "items": [
        {"id": "rid", "label": "id", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "unit", "label": "unit", "type": "text", "role": "admin"},
        {"id": "q1", "label": "q1", "type": "likert", "options": {i: str(i) for i in range(1, 6)},
         "missing": {7: "not_applicable", 8: "dont_know", 9: "refused"}},
        {"id": "q2", "label": "q2", "type": "likert", "options": {i: str(i) for i in range(1, 6)}},
    ],
})


@pytest.fixture()
def loaded(tmp_path):
    raw = pd.DataFrame({"rid": ["r1", "r2", "r3", "r4", "r5"], "unit": ["A", "A", "B", "B", "B"],
                        "q1": [7, 8, 9, 2, ""], "q2": [1, "x", 3, 4, 5]})
    raw.to_csv(tmp_path / "d.csv", index=False)
    return load(tmp_path / "d.csv", CB, on_error="flag")


def test_load_writes_reason_columns(loaded):
    assert list(loaded.columns) == ["rid", "unit", "q1", "q2", "q1__missing", "q2__missing"]
    assert loaded["q1__missing"].tolist()[:3] == ["not_applicable", "dont_know", "refused"]
    assert pd.isna(loaded["q1__missing"]).tolist() == [False, False, False, True, True]  # answered; blank
    assert loaded["q2__missing"].tolist()[1] == "invalid"   # an invalid value (on_error: flag) has its reason
    assert load_info(loaded).reason_columns == ("q1", "q2")
    assert reason_columns(loaded) == ["q1__missing", "q2__missing"]


def test_reasons_survive_a_merge_that_drops_attrs(loaded):
    fac = pd.DataFrame({"unit": ["A", "B"], "occupancy": [1.1, 0.9]})
    merged = loaded.merge(fac, on="unit")
    assert merged.attrs == {} and load_info(merged) is None  # pandas drops attrs on merge
    assert missing_reasons(merged, ["q1"])["q1"].tolist()[:3] == ["not_applicable", "dont_know", "refused"]


def test_a_selection_without_the_reason_columns_is_an_error_not_no_reasons(loaded):
    with pytest.raises(ReasonsLost, match=r"'q1'.*with_reasons"):
        missing_reasons(loaded[["q1"]])
    kept = loaded[with_reasons(loaded, ["q1"])]
    assert list(kept.columns) == ["q1", "q1__missing"]
    assert missing_reasons(kept)["q1"].tolist()[:3] == ["not_applicable", "dont_know", "refused"]


def test_set_missing_reasons_refuses_nonsense():
    df = pd.DataFrame({"q": [1.0, np.nan]})
    with pytest.raises(InputError, match="answered cells"):
        set_missing_reasons(df, {"q": ["refused", None]})
    with pytest.raises(InputError, match="not reasons"):
        set_missing_reasons(df, {"q": [None, "busy"]})
    with pytest.raises(InputError, match="not a column"):
        set_missing_reasons(df, {"x": [None, None]})
    bad = df.assign(q__missing=["later", None])
    with pytest.raises(InputError, match=r"'q__missing' holds \['later'\]"):
        missing_reasons(bad)


def test_a_file_column_named_like_a_reason_column_is_refused(tmp_path):
    raw = pd.DataFrame({"rid": ["r1"], "unit": ["A"], "q1": [2], "q2": [1], "q1__missing": ["x"]})
    raw.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(Exception, match="q1__missing"):
        load(tmp_path / "d.csv", CB, unknown="keep")


def test_quality_and_reliability_read_the_reasons_after_a_merge(tmp_path):
    from veplab.data import quality
    from veplab.reliability import reliability_report

    opts = {i: str(i) for i in range(1, 6)}
    cb = from_dict({"id": "m", "title": "m", "id_column": "rid", "items": [
        {"id": "rid", "label": "id", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "unit", "label": "unit", "type": "text", "role": "admin"},
        *[{"id": f"q{j}", "label": f"q{j}", "type": "likert", "options": opts,
           "missing": {7: "not_applicable", 8: "dont_know", 9: "refused"}} for j in (1, 2, 3)]],
        "scales": [{"id": "s", "items": ["q1", "q2", "q3"]}]})
    rng = np.random.default_rng(2)
    n = 60
    base = rng.integers(1, 6, n)
    q = {f"q{j}": np.clip(base + rng.integers(-1, 2, n), 1, 5) for j in (1, 2, 3)}
    q["q1"][:5], q["q2"][5:8], q["q3"][8:10] = 8, 9, 7
    pd.DataFrame({"rid": [f"r{i}" for i in range(n)], "unit": np.where(np.arange(n) % 2, "A", "B"), **q}).to_csv(
        tmp_path / "m.csv", index=False)
    df = load(tmp_path / "m.csv", cb)
    merged = df.merge(pd.DataFrame({"unit": ["A", "B"], "occupancy": [1.0, 2.0]}), on="unit")
    assert load_info(merged) is None
    before, after = quality(df, cb).by_item, quality(merged, cb).by_item
    pd.testing.assert_frame_equal(before, after)
    assert after.loc["q1", "dont_know"] == 5 and after.loc["q2", "refused"] == 3
    assert after.loc["q3", "not_applicable"] == 2
    items = reliability_report(merged, cb, n_boot=20, seed=1).items.set_index("item")
    assert items.loc["q1", "share_dont_know"] == pytest.approx(5 / n)
    assert items.loc["q2", "share_refused"] == pytest.approx(3 / n)
    assert items.loc["q3", "share_not_applicable"] == pytest.approx(2 / n)
    with pytest.raises(ReasonsLost):
        quality(df[["rid", "q1", "q2", "q3"]], cb)


def test_docstring_examples():
    import doctest

    import veplab.data.reasons as mod

    assert doctest.testmod(mod).failed == 0
