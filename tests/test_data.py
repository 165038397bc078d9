"""veplab.data.load: formats, encodings, the codebook's rules and bad input."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veplab.codebook import from_dict
from veplab.data import DataError, detect_encoding, load, load_info, missing_reasons, quality

LIKERT = {i: {"en": f"opt {i}"} for i in range(1, 6)}
CB = {
    "id": "t_v1",
    "title": {"en": "Test instrument"},
    "unit": "respondent",
    "id_column": "rid",
    "items": [
        {"id": "rid", "label": "id", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "gender", "label": "Gender", "type": "categorical", "role": "quasi_identifier",
         "options": {1: "man", 2: "woman"}},
        {"id": "q1", "label": "Q1", "type": "likert", "options": LIKERT, "missing": {8: "dont_know", 9: "refused"}},
        {"id": "q2", "label": "Q2", "type": "likert", "options": LIKERT, "missing": {8: "dont_know", 9: "refused"},
         "reverse": True},
        {"id": "q3", "label": "Q3", "type": "likert", "options": LIKERT, "missing": {8: "dont_know", 9: "refused"}},
        {"id": "age", "label": "Age", "type": "numeric", "min": 18, "max": 90, "integer": True},
        {"id": "visit", "label": "Date", "type": "date"},
        {"id": "comment", "label": "Comment", "type": "text", "role": "sensitive", "required": False},
    ],
    "scales": [{"id": "s", "items": ["q1", "q2", "q3"], "min_items": 2}],
}

GOOD = pd.DataFrame({
    "rid": ["p_a1", "p_a2", "p_a3", "p_a4"],
    "gender": [1, 2, 1, 2],
    "q1": [5, 8, 3, 4],
    "q2": [1, 2, 9, 5],
    "q3": [4, 4, 9, 1],
    "age": [30, 41, 55, 19],
    "visit": ["2024-01-02", "2024-02-03", "2024-03-04", "2024-12-31"],
    "comment": ["", "حالة جيدة", "Всё хорошо", "très bien"],
})


@pytest.fixture()
def cb():
    return from_dict(CB)


@pytest.fixture()
def cb_path(tmp_path):
    p = tmp_path / "t.yml"
    p.write_text(yaml.safe_dump(CB, allow_unicode=True), encoding="utf-8")
    return p


def write_csv(path: Path, df: pd.DataFrame, **kw) -> Path:
    df.to_csv(path, index=False, **kw)
    return path


def problems_of(exc: pytest.ExceptionInfo) -> pd.DataFrame:
    return exc.value.problems


# ------------------------------------------------------------------ good input


def test_load_applies_codebook(tmp_path, cb):
    df = load(write_csv(tmp_path / "d.csv", GOOD), cb)
    assert list(df.columns[:8]) == [i["id"] for i in CB["items"]]
    assert isinstance(df["q1"].dtype, pd.CategoricalDtype) and df["q1"].cat.ordered
    assert list(df["q1"].cat.categories) == [1, 2, 3, 4, 5]
    assert not df["gender"].cat.ordered
    assert df["q1"].isna().tolist() == [False, True, False, False]
    reasons = missing_reasons(df, ["q1", "q2", "q3"])
    assert reasons.loc[1, "q1"] == "dont_know"
    assert reasons.loc[2, "q2"] == "refused" and reasons.loc[2, "q3"] == "refused"
    assert pd.isna(reasons.loc[0, "q1"])
    # prorated scale score with reverse-keyed q2 (6 - code); row 2 has 1 item < min_items
    expected = [np.mean([5, 5, 4]), np.mean([4, 4]), np.nan, np.mean([4, 1, 1])]
    np.testing.assert_allclose(df["s"].to_numpy(), expected)
    assert df["visit"].dt.year.tolist() == [2024] * 4
    assert df["comment"].isna().tolist() == [True, False, False, False]
    info = load_info(df)
    assert info.codebook_id == "t_v1" and info.n_rows == 4 and len(info.sha256) == 64


def test_missing_reasons_follow_filtering(tmp_path, cb):
    df = load(write_csv(tmp_path / "d.csv", GOOD), cb)
    sub = df[df["gender"] == 2].iloc[::-1]
    reasons = missing_reasons(sub, ["q1"])
    assert reasons.loc[1, "q1"] == "dont_know"
    assert reasons["q1"].notna().sum() == 1


def test_reverse_on_request(tmp_path, cb):
    df = load(write_csv(tmp_path / "d.csv", GOOD), cb, reverse=True)
    assert df["q2"].astype(float).tolist()[:2] == [5.0, 4.0]
    # scale scores are the same whichever way the items are stored
    df2 = load(write_csv(tmp_path / "d.csv", GOOD), cb)
    np.testing.assert_allclose(df["s"], df2["s"])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1256", "cp1251"])
def test_csv_encodings(tmp_path, cb, encoding):
    frame = GOOD.copy()
    if encoding == "cp1256":
        frame["comment"] = ["", "حالة جيدة جدا", "السجن مكتظ", "لا تعليق"]
    elif encoding == "cp1251":
        frame["comment"] = ["", "Всё хорошо", "Камера переполнена", "Без комментариев"]
    path = write_csv(tmp_path / "d.csv", frame, encoding=encoding)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = load(path, cb)
    assert df["comment"].tolist()[1:] == frame["comment"].tolist()[1:]


def test_detect_encoding_distinguishes_arabic_and_cyrillic():
    assert detect_encoding("السجناء في السجن المركزي".encode("cp1256")) == "cp1256"
    assert detect_encoding("Заключённые центральной тюрьмы".encode("cp1251")) == "cp1251"
    assert detect_encoding("Détenus à la prison centrale".encode("cp1252")) in ("cp1252", "cp1256")
    assert detect_encoding("\ufeffabc".encode("utf-8")) == "utf-8-sig"


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_csv_delimiters_detected(tmp_path, cb, sep):
    df = load(write_csv(tmp_path / "d.csv", GOOD, sep=sep), cb)
    assert len(df) == 4 and df["age"].tolist() == [30, 41, 55, 19]


def test_xlsx_sav_dta_parquet(tmp_path, cb):
    import pyreadstat

    frame = GOOD.copy()
    frame.to_excel(tmp_path / "d.xlsx", index=False)
    sav = frame.drop(columns=["visit"]).assign(visit=pd.to_datetime(frame["visit"]))
    pyreadstat.write_sav(sav, str(tmp_path / "d.sav"),
                         variable_value_labels={"gender": {1: "man", 2: "woman"}},
                         missing_ranges={"q1": [8, 9], "q2": [8, 9], "q3": [8, 9]})
    pyreadstat.write_dta(sav.assign(comment=sav["comment"].replace("", " ")), str(tmp_path / "d.dta"),
                         variable_value_labels={"gender": {1: "man", 2: "woman"}})
    frame.to_parquet(tmp_path / "d.parquet")
    results = {}
    for ext in ("xlsx", "sav", "dta", "parquet"):
        df = load(tmp_path / f"d.{ext}", cb)
        results[ext] = df
        assert df["q1"].isna().tolist() == [False, True, False, False], ext
        np.testing.assert_allclose(df["s"].to_numpy(), results["xlsx"]["s"].to_numpy(), err_msg=ext)
        assert (df["visit"].dt.strftime("%Y-%m-%d") == frame["visit"]).all(), ext
    assert load_info(results["sav"]).value_labels["gender"] == {1.0: "man", 2.0: "woman"}
    assert load_info(results["sav"]).format == "sav"


def test_arabic_indic_digits_read_as_numbers(tmp_path, cb):
    frame = GOOD.copy().astype(object)
    frame.loc[0, "age"] = "٣٠"
    frame.loc[1, "q1"] = "۴"
    df = load(write_csv(tmp_path / "d.csv", frame), cb)
    assert df.loc[0, "age"] == 30 and df.loc[1, "q1"] == 4


def test_unknown_columns_drop_and_keep(tmp_path, cb):
    frame = GOOD.assign(notes=["a", "b", "c", "d"], _uuid=["u1", "u2", "u3", "u4"])
    path = write_csv(tmp_path / "d.csv", frame)
    assert "notes" not in load(path, cb, unknown="drop").columns
    kept = load(path, cb, unknown="keep")
    assert "notes" in kept.columns and "_uuid" in kept.columns


def test_on_error_flag_sets_invalid_and_quality_reports_it(tmp_path, cb):
    frame = GOOD.copy()
    frame.loc[0, "q1"] = 7
    frame.loc[1, "age"] = 150
    df = load(write_csv(tmp_path / "d.csv", frame), cb, on_error="flag")
    assert pd.isna(df.loc[0, "q1"]) and pd.isna(df.loc[1, "age"])
    assert missing_reasons(df, ["q1"]).loc[0, "q1"] == "invalid"
    q = quality(df, cb)
    assert q.by_item.loc["q1", "invalid"] == 1 and q.by_item.loc["age", "invalid"] == 1
    assert len(q.problems) == 2


# ------------------------------------------------------------------ bad input: >= 15 kinds


def _bad(tmp_path, cb, frame=None, text=None, raw=None, name="d.csv", **kw) -> pd.DataFrame:
    path = tmp_path / name
    if frame is not None:
        frame.to_csv(path, index=False)
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    elif raw is not None:
        path.write_bytes(raw)
    with pytest.raises(DataError) as exc:
        load(path, cb, **kw)
    probs = exc.value.problems
    assert list(probs.columns) == ["file", "column", "rows", "problem", "fix", "severity"]
    assert (probs["file"] == str(path)).all()
    assert probs["fix"].str.len().gt(0).all()
    message = str(exc.value)
    assert "nothing was changed on disk" in message
    return probs


def test_bad_empty_file(tmp_path, cb):
    probs = _bad(tmp_path, cb, raw=b"")
    assert "empty" in probs.loc[0, "problem"]


def test_bad_whitespace_only_file(tmp_path, cb):
    probs = _bad(tmp_path, cb, raw=b"\n\n  \n")
    assert "empty" in probs.loc[0, "problem"]


def test_bad_header_only(tmp_path, cb):
    probs = _bad(tmp_path, cb, text=",".join(GOOD.columns) + "\n")
    assert probs["problem"].str.contains("no records").any()


def test_bad_unknown_column_with_suggestion(tmp_path, cb):
    probs = _bad(tmp_path, cb, frame=GOOD.rename(columns={"q3": "q_3"}))
    unknown = probs[probs["column"] == "q_3"].iloc[0]
    assert "not in codebook" in unknown["problem"]
    missing = probs[probs["column"] == "q3"].iloc[0]
    assert "did you mean 'q_3'" in missing["problem"]


def test_bad_codes_outside_options(tmp_path, cb):
    frame = GOOD.copy()
    frame.loc[[1, 3], "gender"] = 3
    probs = _bad(tmp_path, cb, frame=frame)
    row = probs[probs["column"] == "gender"].iloc[0]
    assert row["rows"] == [3, 5]  # spreadsheet rows: header is row 1
    assert "outside the codebook options {1,2}" in row["problem"]


def test_bad_duplicate_ids(tmp_path, cb):
    frame = GOOD.copy()
    frame.loc[2, "rid"] = "p_a1"
    probs = _bad(tmp_path, cb, frame=frame)
    row = probs[probs["column"] == "rid"].iloc[0]
    assert row["rows"] == [2, 4] and "more than once" in row["problem"]


def test_bad_blank_ids(tmp_path, cb):
    frame = GOOD.copy()
    frame.loc[1, "rid"] = ""
    probs = _bad(tmp_path, cb, frame=frame)
    assert probs[probs["column"] == "rid"].iloc[0]["rows"] == [3]


def test_bad_wrong_encoding_declared(tmp_path, cb):
    path = tmp_path / "d.csv"
    GOOD.assign(comment=["", "Всё", "хорошо", "да"]).to_csv(path, index=False, encoding="cp1251")
    with pytest.raises(DataError) as exc:
        load(path, cb, encoding="utf-8")
    assert "cannot be decoded as utf-8" in exc.value.problems.loc[0, "problem"]


def test_bad_wrong_delimiter(tmp_path, cb):
    probs = _bad(tmp_path, cb, frame=None, text=GOOD.to_csv(index=False, sep=";"), delimiter=",")
    assert "delimiter=';'" in probs.loc[0, "fix"]


def test_bad_ragged_rows(tmp_path, cb):
    text = GOOD.to_csv(index=False) + "p_a5,1,2,3,4,5,2024-01-01,x,EXTRA,MORE\n"
    probs = _bad(tmp_path, cb, text=text)
    assert probs.loc[0, "rows"] == [6]


def test_bad_mixed_types(tmp_path, cb):
    frame = GOOD.copy().astype(object)
    frame.loc[2, "q1"] = "agree"
    frame.loc[3, "age"] = "forty"
    probs = _bad(tmp_path, cb, frame=frame)
    assert probs.set_index("column").loc["q1", "rows"] == [4]
    assert probs.set_index("column").loc["age", "rows"] == [5]


def test_bad_labels_instead_of_codes(tmp_path, cb):
    frame = GOOD.copy().astype(object)
    frame["gender"] = ["man", "woman", "man", "woman"]
    probs = _bad(tmp_path, cb, frame=frame)
    assert "labels instead of codes" in probs.set_index("column").loc["gender", "fix"]


def test_bad_dates_in_three_formats(tmp_path, cb):
    frame = GOOD.copy()
    frame["visit"] = ["2024-01-02", "03/02/2024", "04.03.2024", "2024-12-31"]
    probs = _bad(tmp_path, cb, frame=frame)
    row = probs.set_index("column").loc["visit"]
    assert "3 formats" in row["problem"] and row["rows"] == [3, 4]


def test_bad_impossible_date(tmp_path, cb):
    frame = GOOD.copy()
    frame.loc[1, "visit"] = "2024-02-30"
    probs = _bad(tmp_path, cb, frame=frame)
    assert probs.set_index("column").loc["visit", "rows"] == [3]


def test_bad_out_of_range_and_not_integer(tmp_path, cb):
    frame = GOOD.copy().astype(object)
    frame.loc[0, "age"] = 12
    frame.loc[1, "age"] = 41.5
    probs = _bad(tmp_path, cb, frame=frame)
    texts = " | ".join(probs["problem"])
    assert "outside the allowed range [18, 90]" in texts and "not whole numbers" in texts


def test_bad_missing_required_column(tmp_path, cb):
    probs = _bad(tmp_path, cb, frame=GOOD.drop(columns=["age"]))
    assert probs.set_index("column").loc["age", "problem"].startswith("column is in the codebook")


def test_optional_column_may_be_absent(tmp_path, cb):
    assert "comment" not in load(write_csv(tmp_path / "d.csv", GOOD.drop(columns=["comment"])), cb).columns


def test_bad_duplicate_header(tmp_path, cb):
    text = "rid,gender,q1,q1,q2,q3,age,visit\np_1,1,1,1,1,1,30,2024-01-01\n"
    probs = _bad(tmp_path, cb, text=text)
    assert probs["problem"].str.contains("more than once in the header").any()


def test_bad_truncated_sav(tmp_path, cb):
    import pyreadstat

    pyreadstat.write_sav(GOOD.drop(columns=["visit"]), str(tmp_path / "full.sav"))
    data = (tmp_path / "full.sav").read_bytes()
    probs = _bad(tmp_path, cb, raw=data[: len(data) // 2], name="d.sav")
    assert "truncated" in probs.loc[0, "problem"]


def test_bad_corrupt_xlsx_and_parquet(tmp_path, cb):
    probs = _bad(tmp_path, cb, raw=b"PK\x03\x04 not really a zip", name="d.xlsx")
    assert ".xlsx" in probs.loc[0, "problem"]
    probs = _bad(tmp_path, cb, raw=b"PAR1garbage", name="d.parquet")
    assert "Parquet" in probs.loc[0, "problem"]


def test_bad_binary_file_named_csv(tmp_path, cb):
    probs = _bad(tmp_path, cb, raw=b"\x00\x01\x02PK\x00" * 20)
    assert "binary" in probs.loc[0, "problem"]


def test_bad_unknown_extension_and_missing_file(tmp_path, cb):
    probs = _bad(tmp_path, cb, raw=b"a,b\n1,2\n", name="d.json")
    assert "unknown file type" in probs.loc[0, "problem"]
    with pytest.raises(DataError, match="file not found"):
        load(tmp_path / "nope.csv", cb)


def test_bad_identifier_column_refused(tmp_path):
    spec = dict(CB)
    spec["items"] = CB["items"] + [{"id": "full_name", "label": "Name", "type": "text", "role": "identifier"}]
    cb = from_dict(spec)
    frame = GOOD.assign(full_name=["Nurlan Abenov", "Aigerim Serikbayeva", "Mohamed Ben Salah", "Okello Joseph"])
    probs = _bad(tmp_path, cb, frame=frame)
    row = probs.set_index("column").loc["full_name"]
    assert "identifier" in row["problem"]
    assert "Nurlan" not in str(probs.to_dict())


def test_every_problem_reported_at_once(tmp_path, cb):
    frame = GOOD.copy().astype(object)
    frame.loc[0, "gender"] = 7
    frame.loc[1, "q2"] = "x"
    frame.loc[2, "rid"] = "p_a1"
    frame.loc[3, "age"] = 200
    probs = _bad(tmp_path, cb, frame=frame.assign(extra=1))
    assert set(probs["column"]) >= {"gender", "q2", "rid", "age", "extra"}


def test_cli_prints_table_and_exits_nonzero(tmp_path, cb_path):
    from typer.testing import CliRunner

    from veplab.cli import app

    study = tmp_path / "study"
    (study / "data").mkdir(parents=True)
    frame = GOOD.copy()
    frame.loc[0, "gender"] = 5
    frame.to_csv(study / "data" / "d.csv", index=False)
    (study / "study.yml").write_text(yaml.safe_dump({
        "id": "t", "sources": {"d": {"path": "data/d.csv", "codebook": str(cb_path)}}}))
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["validate", str(study)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    flat = "".join(ch for ch in result.output if ch.isalnum())  # the table may wrap cells at any width
    assert "outsidethecodebookoptions" in flat


# ------------------------------------------------------------------ hypothesis: the CSV reader


codes = st.integers(min_value=1, max_value=5) | st.sampled_from([8, 9])
text_values = st.text(alphabet=st.sampled_from(list("abc xyzéàçالسجنтюрьма,;\"'")), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(codes, codes, codes, text_values), min_size=1, max_size=25),
    sep=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
)
def test_csv_round_trip_property(tmp_path, cb, rows, sep, encoding):
    n = len(rows)
    frame = pd.DataFrame({
        "rid": [f"p_{i:04d}" for i in range(n)],
        "gender": [1 + i % 2 for i in range(n)],
        "q1": [r[0] for r in rows], "q2": [r[1] for r in rows], "q3": [r[2] for r in rows],
        "age": [18 + i for i in range(n)],
        "visit": ["2024-05-01"] * n,
        "comment": [r[3] for r in rows],
    })
    path = tmp_path / "h.csv"
    frame.to_csv(path, index=False, sep=sep, encoding=encoding)
    df = load(path, cb)
    for q in ("q1", "q2", "q3"):
        want = frame[q].where(frame[q] <= 5)
        got = df[q].astype("float64")
        assert np.array_equal(got.isna(), want.isna())
        assert (got[want.notna()] == want[want.notna()]).all()
    want_c = frame["comment"].str.strip()
    got_c = df["comment"].fillna("")
    assert got_c.tolist() == want_c.tolist()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_traceback(tmp_path, cb, data):
    path = tmp_path / "junk.csv"
    path.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load(path, cb)
    except DataError as exc:
        assert len(exc.problems) >= 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.text(max_size=6), min_size=8, max_size=8), min_size=1, max_size=6))
def test_arbitrary_cells_never_traceback(tmp_path, cb, cells):
    frame = pd.DataFrame(cells, columns=list(GOOD.columns))
    path = tmp_path / "cells.csv"
    frame.to_csv(path, index=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load(path, cb)
    except DataError as exc:
        assert len(exc.problems) >= 1


# ------------------------------------------------------------------ review fixes: silent changes refused


NUMCB = {"id": "n_v1", "title": {"en": "Numbers"}, "id_column": "rid",
         "items": [{"id": "rid", "label": "id", "type": "text", "role": "admin", "pseudonymised": True},
                   {"id": "pop", "label": "Population", "type": "numeric", "min": 0},
                   {"id": "d", "label": "Date", "type": "date", "required": False}]}


def _load_text(tmp_path, text, cb=NUMCB, name="n.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load(path, from_dict(cb))


def test_thousands_separator_is_never_guessed(tmp_path):
    with pytest.raises(DataError) as exc:
        _load_text(tmp_path, "rid,pop\np_a,\"12,000\"\np_b,\"1,000\"\np_c,5\n")
    probs = problems_of(exc)
    assert "could be read with a thousands separator or a decimal comma" in probs["problem"].iloc[0]
    assert probs["rows"].iloc[0] == [2, 3]
    # unambiguous columns are read either way
    df = _load_text(tmp_path, "rid,pop\np_a,\"1,234,567\"\np_b,\"12,000\"\n")
    assert df["pop"].tolist() == [1234567.0, 12000.0]
    df = _load_text(tmp_path, "rid;pop\np_a;3,5\np_b;12,000\n")
    assert df["pop"].tolist() == [3.5, 12.0]
    with pytest.raises(DataError):
        _load_text(tmp_path, "rid,pop\np_a,inf\n")


def test_trailing_delimiter_short_rows_and_row_numbers(tmp_path):
    with pytest.warns(UserWarning, match="extra, empty field"):
        df = _load_text(tmp_path, "rid,pop\np_a,1,\np_b,2,\n")
    assert df["rid"].tolist() == ["p_a", "p_b"] and df["pop"].tolist() == [1.0, 2.0]
    with pytest.raises(DataError) as exc:
        _load_text(tmp_path, "rid,pop,d\np_a,1,2024-01-01\np_b,2\n")
    assert "fewer fields than the 3 of the header" in problems_of(exc)["problem"].iloc[0]
    assert problems_of(exc)["rows"].iloc[0] == [3]
    # a blank line is a row in a spreadsheet: the bad value is on row 5
    with pytest.raises(DataError) as exc:
        _load_text(tmp_path, "rid,pop\np_a,1\np_b,2\n\np_c,-4\n")
    assert problems_of(exc)["rows"].iloc[0] == [5]


def test_dates_out_of_range_offsets_and_month_first(tmp_path):
    with pytest.raises(DataError) as exc:
        _load_text(tmp_path, "rid,pop,d\np_a,1,2024-01-01\np_b,2,9999-12-31\n")
    assert "outside the years 1678-2261" in problems_of(exc)["problem"].iloc[0]
    with pytest.warns(UserWarning, match="offsets were dropped"):
        df = _load_text(tmp_path, "rid,pop,d\np_a,1,2024-03-01T10:22:33+03:00\np_b,2,2024-03-02\n")
    assert df["d"].tolist() == [pd.Timestamp("2024-03-01 10:22:33"), pd.Timestamp("2024-03-02")]
    with pytest.raises(DataError) as exc:
        _load_text(tmp_path, "rid,pop,d\np_a,1,03/25/2024\np_b,2,04/01/2024\n")
    assert "month-first" in problems_of(exc)["problem"].iloc[0]
    with pytest.warns(UserWarning, match="no value shows whether the day or the month comes first"):
        _load_text(tmp_path, "rid,pop,d\np_a,1,03/04/2024\np_b,2,05/06/2024\n")


def test_parquet_index_and_sav_missing_ranges_are_kept(tmp_path, cb):
    df = GOOD.set_index("rid")
    df.to_parquet(tmp_path / "d.parquet")
    loaded = load(tmp_path / "d.parquet", cb)
    assert loaded["rid"].tolist() == GOOD["rid"].tolist()
    import pyreadstat

    sav = GOOD.drop(columns=["visit", "comment"]).copy()
    sav["age"] = [30, 999, 55, 998]
    pyreadstat.write_sav(sav, str(tmp_path / "d.sav"), missing_ranges={"age": [{"lo": 997, "hi": 999}]})
    cbd = {**CB, "items": [i for i in CB["items"] if i["id"] not in ("visit", "comment")]}
    with pytest.warns(UserWarning, match="SPSS declares the range"):
        out = load(tmp_path / "d.sav", from_dict(cbd))
    assert out["age"].isna().tolist() == [False, True, False, True]


@pytest.mark.parametrize("change, message", [
    ({"scales": 5}, "must be a list of scales"),
    ({"items": [*CB["items"][:6], {"id": "visit", "label": "Date", "type": "date", "format": "DD/MM/YYYY"}]},
     "strftime pattern"),
    ({"items": [*CB["items"][:6], {"id": "visit", "label": "Date", "type": "date", "format": 123}]},
     "strftime pattern"),
])
def test_malformed_codebook_values_are_codebook_errors(change, message):
    from veplab.codebook import CodebookError

    with pytest.raises(CodebookError, match=message):
        from_dict({**CB, **change})


# ------------------------------------------------------------------ the identifier gate at load


def _refused(path, cb, **kw):
    """Load must stop with a DataError that is also an IdentifierError, naming file, column and rows."""
    from veplab.privacy import IdentifierError

    with pytest.raises(DataError) as exc:
        load(path, cb, **kw)
    assert isinstance(exc.value, IdentifierError)
    message = str(exc.value)
    assert str(path) in message and "Traceback" not in message and "on_error='flag'" in message
    return exc.value


def _no_values(text, values):
    flat = "".join(ch for ch in text if ch.isalnum())
    for v in values:
        assert str(v) not in text
        compact = "".join(ch for ch in str(v) if ch.isalnum())
        if len(compact) >= 5:
            assert compact not in flat, "a data value appears in the message"


UG_PHONES = ["0772123456", "256772654321", "772111222", "0701234567"]


@pytest.mark.parametrize("on_error", ["raise", "flag"])
def test_phone_numbers_in_numeric_column_refused_at_load(tmp_path, cb, on_error):
    path = write_csv(tmp_path / "d.csv", GOOD.assign(age=UG_PHONES))
    err = _refused(path, cb, on_error=on_error)
    row = err.problems.set_index("column").loc["age"]
    assert row["rows"] == [2, 3, 4, 5] and "numeric" in row["problem"] and "phone numbers" in row["problem"]
    assert [p["column"] for p in err.identifiers] == ["age"]
    assert "column 'age' (rows 2, 3, 4, 5)" in str(err)
    _no_values(str(err), UG_PHONES)


@pytest.mark.parametrize("on_error", ["raise", "flag"])
def test_numbers_that_lost_their_zeros_in_xlsx_refused(tmp_path, cb, on_error):
    # IINs and 8-digit CINs stored as numbers (a spreadsheet drops leading zeros and '+')
    iins = [900101300126, 850615400125, 50315500123, 771204300129]   # 50315500123: born 2005, leading 0 lost
    from veplab.privacy import is_valid_iin

    assert all(is_valid_iin(str(v).zfill(12)) for v in iins)
    frame = GOOD.assign(age=iins, q3=[4, 4, 10234567, 1])
    path = tmp_path / "d.xlsx"
    frame.to_excel(path, index=False)
    err = _refused(path, cb, on_error=on_error)
    probs = err.problems.set_index("column")
    assert "Kazakhstan IIN" in probs.loc["age", "problem"] and probs.loc["age", "rows"] == [2, 3, 4, 5]
    assert "likert" in probs.loc["q3", "problem"] and probs.loc["q3", "rows"] == [4]
    _no_values(str(err), iins + [10234567])


@pytest.mark.parametrize("on_error", ["raise", "flag"])
@pytest.mark.parametrize("name", ["nurlan abenov", "Nurlan Abenov2", "N. Abenov", "Abenov N.", "nurlan abenov 3"])
def test_names_in_the_id_column_refused_at_load(tmp_path, cb, name, on_error):
    frame = GOOD.copy()
    frame.loc[2, "rid"] = name
    path = write_csv(tmp_path / "d.csv", frame)
    err = _refused(path, cb, on_error=on_error)
    row = err.problems.set_index("column").loc["rid"]
    assert row["rows"] == [4] and "personal names" in row["problem"]
    _no_values(str(err), [name])


@pytest.mark.parametrize("unknown,on_error", [("keep", "flag"), ("drop", "flag"), ("keep", "raise")])
def test_surname_comma_given_in_kept_or_dropped_extra_column_refused(tmp_path, cb, unknown, on_error):
    names = ["ABENOV, Nurlan", "Okello, Joseph", "TRABELSI, Ahmed", "Nakato, Sarah"]
    path = write_csv(tmp_path / "d.csv", GOOD.assign(next_of_kin=names))
    err = _refused(path, cb, unknown=unknown, on_error=on_error)
    row = err.problems.set_index("column").loc["next_of_kin"]
    assert row["rows"] == [2, 3, 4, 5] and "not in the codebook" in row["problem"]
    _no_values(str(err), names)


def test_flagged_other_problems_are_kept_but_identifiers_still_stop(tmp_path, cb):
    frame = GOOD.copy().astype(object)
    frame.loc[0, "gender"] = 7                       # an ordinary problem: flagged, not fatal
    frame["comment"] = ["call +256 772 123456", "", "", ""]
    err = _refused(write_csv(tmp_path / "d.csv", frame), cb, on_error="flag")
    assert set(err.problems["column"]) == {"comment", "gender"}
    assert err.problems.loc[0, "column"] == "comment"  # identifier problems first
    _no_values(str(err), ["772123456"])
    # without the identifier the same file loads with the problem flagged
    frame["comment"] = ["fine", "", "", ""]
    df = load(write_csv(tmp_path / "d.csv", frame), cb, on_error="flag")
    assert pd.isna(df.loc[0, "gender"])


def _study(tmp_path, cb_spec, frame, **source_opts):
    study = tmp_path / "study"
    (study / "data").mkdir(parents=True)
    (study / "cb.yml").write_text(yaml.safe_dump(cb_spec, allow_unicode=True), encoding="utf-8")
    frame.to_csv(study / "data" / "d.csv", index=False)
    return study, {"id": "t", "sources": {"d": {"path": "data/d.csv", "codebook": "cb.yml", **source_opts}}}


def test_cli_validate_fails_on_identifiers_even_with_on_error_flag(tmp_path):
    from typer.testing import CliRunner

    from veplab.cli import app

    frame = GOOD.copy().astype(object)
    frame.loc[0, "gender"] = 5
    frame["age"] = UG_PHONES
    study, config = _study(tmp_path, CB, frame, on_error="flag")
    (study / "study.yml").write_text(yaml.safe_dump(config))
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["validate", str(study)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    flat = "".join(ch for ch in result.output if ch.isalnum())
    assert "directidentifiers" in flat and "phonenumbers" in flat
    _no_values(result.output, UG_PHONES)
    # the same file without the phone numbers validates (the flagged gender code is only reported)
    frame["age"] = [30, 41, 55, 19]
    frame.to_csv(study / "data" / "d.csv", index=False)
    assert CliRunner().invoke(app, ["validate", str(study)]).exit_code == 0


CLIMATE_LIKE = {
    "id": "climate_like", "title": "t", "unit": "prison", "id_column": "prison_id",
    "items": [
        {"id": "prison_id", "label": "prison", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "gender", "label": "Gender", "type": "categorical", "options": {1: "men", 2: "women"}},
        {"id": "capacity", "label": "capacity", "type": "numeric", "min": 0, "integer": True},
    ],
}


def test_design_cluster_is_a_facility_column_for_loading(tmp_path):
    from veplab.study import load_study

    codes = ["KZ-P07", "UG-P112", "TN-P3", "KZ-P12", "UG-P044", "Ben Arous"]   # Ben Arous: a Tunisian town
    frame = pd.DataFrame({"prison_id": codes, "gender": [1, 2, 1, 1, 2, 1], "capacity": [900, 120, 450, 60, 80, 300]})
    study, config = _study(tmp_path, CLIMATE_LIKE, frame, on_error="flag")
    config["design"] = {"cluster": "prison_id", "breakdowns": ["gender"]}
    (study / "study.yml").write_text(yaml.safe_dump(config))
    cfg = load_study(study)
    assert cfg.cluster == "prison_id" and cfg.breakdowns == ("gender",)
    assert cfg.source("d").facility_columns == ("prison_id",)
    df = cfg.load_source("d")
    assert df["prison_id"].tolist() == codes
    # without the study's design the place name is taken for a person's name in an id column
    err = _refused(study / "data" / "d.csv", from_dict(CLIMATE_LIKE))
    assert err.problems.loc[0, "rows"] == [7]
    # a facility column is still scanned for phone and id numbers
    frame.loc[1, "prison_id"] = "+216 98 123 456"
    frame.to_csv(study / "data" / "d.csv", index=False)
    with pytest.raises(DataError, match="facility column"):
        cfg.load_source("d")


def test_demo_like_survey_with_prison_codes_in_cluster_column_loads(tmp_path):
    from veplab.study import load_study

    spec = dict(CB, items=CB["items"] + [{"id": "prison_id", "label": "prison", "type": "text",
                                          "role": "quasi_identifier"}])
    rng = np.random.default_rng(1)
    n = 60
    frame = pd.DataFrame({
        "rid": [f"p_{i:04d}" for i in range(n)], "gender": rng.integers(1, 3, n),
        "q1": rng.integers(1, 6, n), "q2": rng.choice([1, 2, 3, 4, 5, 8, 9], n), "q3": rng.integers(1, 6, n),
        "age": rng.integers(18, 90, n), "visit": pd.date_range("2024-01-01", periods=n).strftime("%Y-%m-%d"),
        "comment": rng.choice(["", "Visits are too short", "Всё хорошо", "حالة جيدة"], n),
        "prison_id": rng.choice(["KZ-P07", "KZ-P31", "UG-P112", "UG-P012", "TN-P3", "TN-P05"], n),
    })
    study, config = _study(tmp_path, spec, frame)
    config["design"] = {"cluster": "prison_id"}
    (study / "study.yml").write_text(yaml.safe_dump(config))
    cfg = load_study(study)
    assert cfg.breakdowns == ()
    df = cfg.load_source("d")
    assert len(df) == n and set(df["prison_id"]) <= {"KZ-P07", "KZ-P31", "UG-P112", "UG-P012", "TN-P3", "TN-P05"}


@pytest.mark.parametrize("design,message", [
    ("prison_id", "design must be a mapping"),
    ({"cluster": ["prison_id"]}, "design.cluster must be one column name"),
    ({"cluster": "prison_id", "breakdowns": "gender"}, "design.breakdowns must be a list"),
    ({"breakdowns": ["gender", "gender"]}, "more than once"),
    ({"clusters": "prison_id"}, "unknown key"),
])
def test_bad_design_is_a_clear_study_error(tmp_path, design, message):
    from veplab.study import StudyError, load_study

    study, config = _study(tmp_path, CB, GOOD)
    config["design"] = design
    (study / "study.yml").write_text(yaml.safe_dump(config))
    with pytest.raises(StudyError, match=message):
        load_study(study)
