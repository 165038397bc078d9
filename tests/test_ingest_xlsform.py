"""XLSForm <-> codebook: conversion, round trips, malformed forms, the CLI."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from veplab.cli import app
from veplab.codebook import load as load_codebook
from veplab.ingest import _xpath
from veplab.ingest._common import codebook_to_dict, guess_reason, language_of, option_shape
from veplab.ingest.xlsform import XLSFormError, from_xlsform, to_xlsform, validate_form, write_sheets

ROOT = Path(__file__).resolve().parents[1]
SURVEYS = sorted((ROOT / "surveys").glob("*.yml"))
runner = CliRunner(env={"COLUMNS": "200"})


def _fixtures():
    spec = importlib.util.spec_from_file_location("ingest_fixtures", ROOT / "tests/fixtures/ingest/make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    return _fixtures().make_all(tmp_path_factory.mktemp("ingest"))


def _sheet(path: Path, name: str) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)[name]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


# --------------------------------------------------------------------------- codebook -> form -> codebook


@pytest.mark.parametrize("path", SURVEYS, ids=[p.stem for p in SURVEYS])
def test_every_instrument_round_trips_through_xlsform(path, tmp_path):
    cb = load_codebook(path)
    form = tmp_path / f"{cb.id}.xlsx"
    notes = to_xlsform(cb, form)                 # validated with pyxform inside
    assert not [n for n in notes if "error" in n.lower()]
    conv = from_xlsform(form)
    assert conv.data == codebook_to_dict(cb)     # the very same codebook
    assert conv.warnings == ()
    # and the YAML written from it loads and is the same again
    out = conv.write(tmp_path / "back.yml")
    assert codebook_to_dict(load_codebook(out)) == codebook_to_dict(cb)


def test_push_pull_form_has_four_languages_and_missing_codes_as_choices(tmp_path):
    cb = load_codebook(ROOT / "surveys/push_pull.yml")
    form = tmp_path / "pp.xlsx"
    assert to_xlsform(cb, form) == []  # no pyxform warnings on the generated form
    survey = _sheet(form, "survey")
    choices = _sheet(form, "choices")
    settings = _sheet(form, "settings")[0]
    row = next(r for r in survey if r["name"] == "pp_grievance_1")
    assert row["type"].startswith("select_one ") and row["veplab::type"] == "likert"
    assert row["label::Arabic (ar)"] == cb.item("pp_grievance_1").label["ar"]
    assert row["label::Russian (ru)"].startswith("Власти")
    assert row["label::French (fr)"].startswith("Les autorités")
    rev = next(r for r in survey if r["name"] == "pp_grievance_2")
    assert rev["veplab::reverse"] == "yes"
    lst = row["type"].split()[1]
    mine = [c for c in choices if c["list_name"] == lst]
    assert [c["name"] for c in mine] == ["1", "2", "3", "4", "5", "8", "9"]
    dk = next(c for c in mine if c["name"] == "8")
    assert dk["veplab_missing"] == "dont_know" and dk["label::Arabic (ar)"] == "لا أعرف"
    assert next(c for c in mine if c["name"] == "9")["label::Russian (ru)"] == "Отказ от ответа"
    # the 40 likert items sharing one option set share one list, the trigger item (7 = n/a) has its own
    assert len({r["type"] for r in survey if r.get("veplab::type") == "likert"}) == 2
    assert settings["form_id"] == "push_pull_v1" and settings["veplab::id_column"] == "respondent_id"
    assert settings["veplab::title::Arabic (ar)"] == cb.title["ar"]
    scales = _sheet(form, "veplab_scales")
    assert {s["id"] for s in scales} == {s.id for s in cb.scales}


def test_pyxform_converts_the_generated_form_to_an_xform(tmp_path):
    pyxform = pytest.importorskip("pyxform.xls2xform")
    form = tmp_path / "pp.xlsx"
    to_xlsform(ROOT / "surveys/push_pull.yml", form)
    xform = pyxform.convert(xlsform=str(form), warnings=[], validate=False).xform
    assert 'lang="Arabic (ar)"' in xform and 'lang="Russian (ru)"' in xform
    assert "أوافق بشدة" in xform and "Полностью согласен" in xform
    assert "pp_grievance_1" in xform


# --------------------------------------------------------------------------- a hand-written Kobo form


def test_hand_written_form_converts(fx):
    conv = from_xlsform(fx["form"])
    cb = conv.codebook
    assert cb.id == "prison_wellbeing" and cb.version == "2024061201"
    assert cb.id_column == "resp_code" and cb.item("resp_code").role == "admin"
    # select_one with numbered agree/disagree choices -> likert, "Don't know"/"Refused" -> missing codes
    safe = cb.item("safe")
    assert safe.type == "likert" and safe.codes == (1, 2, 3, 4, 5)
    assert dict(safe.missing) == {8: "dont_know", 9: "refused"}
    assert safe.label["ar"] == "أشعر بالأمان في هذا السجن." and safe.label["ru"].startswith("Я чувствую")
    # string-named frequency choices -> ordinal codes 1..4, "dk" -> 8
    visits = cb.item("visits")
    assert visits.type == "ordinal" and visits.codes == (1, 2, 3, 4) and dict(visits.missing) == {8: "dont_know"}
    assert visits.extra["xlsform"]["choices"] == {1: "never", 2: "rarely", 3: "sometimes", 4: "often", 8: "dk"}
    # yes/no -> binary 1/0
    first = cb.item("first_time")
    assert first.type == "binary" and first.option_text(1, "fr") == "Oui" and first.option_text(0, "ru") == "Нет"
    # integer with a simple range constraint -> numeric min/max
    age = cb.item("age")
    assert (age.type, age.min, age.max, age.integer) == ("numeric", 18, 90, True)
    hours = cb.item("hours_out")
    assert (hours.min, hours.max, hours.integer) == (0, 24, False)
    assert cb.item("months_served").min == 0 and cb.item("months_served").max is None
    # select_multiple -> one binary item per choice
    multi = [i.id for i in cb.items if i.id.startswith("services__")]
    assert multi == ["services__health", "services__education", "services__work", "services__religious",
                     "services__legal", "services__none"]
    assert cb.item("services__legal").label["en"] == "Which services have you used in the last month?: Legal aid"
    # groups vanish from ids but are kept; the repeat and the note are not in the main codebook
    assert cb.item("safe").extra["xlsform"]["group"] == "life"
    assert "child_age" not in cb and "thanks" not in cb
    assert conv.repeats == ("children",)
    assert cb.item("start").date_format == "ISO8601" and cb.item("start").role == "admin"
    assert cb.item("n_services").role == "admin" and not cb.item("n_services").required
    text = "\n".join(str(w) for w in conv.warnings)
    for expected in ("relevance logic is not enforced", "regex(., '^R[0-9]{4}$')", "calculate 'n_services'",
                     "note 'thanks'", "repeat 'children'", "read as likert", "8 -> dont_know, 9 -> refused",
                     "dk -> dont_know", "read as ordinal", "veplab::pseudonymised"):
        assert expected in text, expected


def test_hand_written_form_round_trip_is_stable(fx, tmp_path):
    first = from_xlsform(fx["form"])
    yml = first.write(tmp_path / "wb.yml", fx["form"])
    cb = load_codebook(yml)
    assert codebook_to_dict(cb) == first.data
    to_xlsform(cb, tmp_path / "wb2.xlsx")
    second = from_xlsform(tmp_path / "wb2.xlsx")
    assert second.data == first.data
    to_xlsform(second.codebook, tmp_path / "wb3.xlsx")
    assert from_xlsform(tmp_path / "wb3.xlsx").data == first.data
    # the regenerated form keeps groups, the select_multiple, relevance and the calculation
    survey = _sheet(tmp_path / "wb2.xlsx", "survey")
    types = [r["type"] for r in survey]
    assert types.count("begin_group") == 2 and types.count("end_group") == 2
    sm = next(r for r in survey if r["name"] == "services")
    assert sm["type"] == "select_multiple services" and "count-selected" in sm["constraint"]
    assert next(r for r in survey if r["name"] == "months_served")["relevant"] == "${first_time} = 'no'"
    assert next(r for r in survey if r["name"] == "n_services")["calculation"] == "count-selected(${services})"
    assert next(r for r in survey if r["name"] == "age")["constraint"] == ". >= 18 and . <= 90"


def test_repeat_codebook(fx):
    conv = from_xlsform(fx["form"], repeat="children")
    cb = conv.codebook
    assert cb.id == "prison_wellbeing__children" and cb.id_column == "index"
    assert cb.item_ids == ("parent_index", "resp_code", "child_age", "child_visits")
    assert cb.item("resp_code").extra["xlsform"]["from_parent"] is True
    assert (cb.item("child_age").min, cb.item("child_age").max) == (0, 40)
    with pytest.raises(XLSFormError, match="no repeat 'kids'"):
        from_xlsform(fx["form"], repeat="kids")


def test_veplab_columns_override_guesses(tmp_path):
    mod = _fixtures()
    header = ["type", "name", "label::English (en)", "veplab::type", "veplab::role", "veplab::reverse",
              "veplab::missing", "veplab::scale", "veplab::domain", "constraint"]
    survey = [
        ["text", "rid", "Respondent id", "", "admin"],
        ["select_one agree", "q1", "Question one", "ordinal", "", "", "", "trust", "trust"],
        ["select_one agree", "q2", "Question two", "", "", "yes", "", "trust", "trust"],
        ["integer", "age", "Age", "", "quasi_identifier", "", "999=refused 998=dont_know", "", "",
         "(. >= 18 and . <= 90) or . = 999 or . = 998"],
        ["integer", "n", "Count", "", "", "", "", "", "", ". > 0"],
    ]
    choices = {"agree": mod.AGREE[:5]}
    path = mod._write_form(tmp_path / "f.xlsx", header, survey, choices,
                           {"form_id": "trust_v1", "form_title": "Trust", "veplab::id_column": "rid"})
    cb = from_xlsform(path).codebook
    assert cb.item("q1").type == "ordinal" and cb.item("q2").type == "likert" and cb.item("q2").reverse
    assert cb.item("age").role == "quasi_identifier"
    assert dict(cb.item("age").missing) == {998: "dont_know", 999: "refused"}
    assert (cb.item("age").min, cb.item("age").max) == (18, 90)
    assert cb.item("n").min == 1          # . > 0 on an integer -> min 1
    assert cb.scale("trust").items == ("q1", "q2") and cb.scale("trust").min_items == 2
    assert cb.item("q1").domain == "trust"


# --------------------------------------------------------------------------- malformed forms


def test_malformed_form_lists_every_problem_with_sheet_row_column(fx):
    with pytest.raises(XLSFormError) as info:
        from_xlsform(fx["malformed"])
    probs = info.value.problems
    where = {(p.sheet, p.row, p.column) for p in probs}
    text = str(info.value)
    # duplicate name
    assert ("survey", 5, "name") in where and "'age' is used twice (rows 4 and 5)" in text
    # a choice list that does not exist
    assert ("survey", 6, "type") in where and "choice list 'agreement' does not exist" in text
    # duplicate choice
    assert ("choices", 4, "name") in where and "'no' appears twice in list 'yesno'" in text
    # the unmatched begin_group
    assert ("survey", 3, "type") in where and "begin_group 'background' is never closed" in text
    assert validate_form(fx["malformed"]) == probs
    # form logic veplab does not evaluate is a note (pyxform accepts such forms): a bad constraint
    # expression (two ways) and relevance naming an unknown field, each with its row and column
    notes = _notes_of(fx["malformed"])
    where = {(p.sheet, p.row, p.column): p.problem for p in notes}
    assert "two operators in a row" in where[("survey", 4, "constraint")]
    assert "missing ')'" in where[("survey", 9, "constraint")]
    assert "${agee}" in where[("survey", 7, "relevant")]


def _notes_of(path):
    """The conversion notes of a form (its warnings), even when it has problems too."""
    from veplab.ingest.xlsform._parse import _Collect, _parse

    col = _Collect()
    _parse(Path(path), col)
    return col.warnings


def test_missing_label_column_and_sheets(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name"])
    ws.append(["integer", "age"])
    ws.append(["end_group", None])
    wb.save(tmp_path / "nolabel.xlsx")
    with pytest.raises(XLSFormError) as info:
        from_xlsform(tmp_path / "nolabel.xlsx")
    where = {(p.sheet, p.row, p.column) for p in info.value.problems}
    assert ("survey", 1, "label") in where
    assert ("survey", 3, "type") in where  # end_group without begin_group
    wb = openpyxl.Workbook()
    wb.active.title = "questions"
    wb.save(tmp_path / "nosurvey.xlsx")
    with pytest.raises(XLSFormError, match="no 'survey' sheet"):
        from_xlsform(tmp_path / "nosurvey.xlsx")
    (tmp_path / "junk.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(XLSFormError, match="not a readable .xlsx"):
        from_xlsform(tmp_path / "junk.xlsx")


def test_end_group_closing_a_repeat(tmp_path):
    mod = _fixtures()
    survey = [["begin_repeat", "kids", "Children"], ["integer", "k_age", "Age"], ["end_group", ""],
              ["text", "rid", "Id"]]
    path = mod._write_form(tmp_path / "f.xlsx", ["type", "name", "label::English (en)"], survey, {}, None)
    with pytest.raises(XLSFormError, match=r"end_group closes begin_repeat 'kids' of row 2"):
        from_xlsform(path)


# --------------------------------------------------------------------------- pieces


def test_xpath_checker_and_bounds():
    for ok in (". >= 18 and . <= 90", "selected(${q}, 'a') or count-selected(.) < 3", "regex(., '^[A-Z]+$')",
               "if(${a} = 1, 2, 3) * 2 div 3 mod 2", "instance('x')/root/item[name = ${q}]/label", "-1 < .",
               "not(. = '')", "/data/grp/age > 3", "jr:choice-name(${q}, '${q}')"):
        _xpath.check(ok)
    for bad in ("(. > 3", ". >= ", ". >= 18 and and . <= 90", "1 2", ". = 'abc", ". >= 18 && . <= 90", ""):
        with pytest.raises(_xpath.XPathError):
            _xpath.check(bad)
    assert _xpath.bounds(". >= 18 and . <= 90") == _xpath.Bounds(18.0, 90.0, ())
    assert _xpath.bounds("${age} <= 90 and 18 <= ${age}", "age") == _xpath.Bounds(18.0, 90.0, ())
    assert _xpath.bounds(". > 17", integer=True).min == 18
    assert _xpath.bounds(". > 17") is None                    # strict bound on a decimal: kept as is
    assert _xpath.bounds(". >= 0 or . <= 10") is None
    assert _xpath.bounds("string-length(.) < 4") is None
    assert _xpath.references("${a} + ${ b }") == ["a", "b"]


def test_languages_reasons_and_shapes():
    assert [language_of(x) for x in ("English (en)", "Français", "العربية", "Русский", "ru", "Swahili (sw)")] == \
        ["en", "fr", "ar", "ru", "ru", None]
    assert [guess_reason(x) for x in ("Ne sait pas", "Отказ", "لا أعرف", "Sans objet", "Agree")] == \
        ["dont_know", "refused", "dont_know", "not_applicable", None]
    agree = [{"en": t} for t in ("Strongly disagree", "Disagree", "Agree", "Strongly agree")]
    assert option_shape(agree) == "likert"
    assert option_shape([{"ru": "Никогда"}, {"ru": "Редко"}, {"ru": "Иногда"}, {"ru": "Часто"}]) == "ordinal"
    assert option_shape([{"ar": "نعم"}, {"ar": "لا"}]) == "binary"
    assert option_shape([{"en": "Kazakhstan"}, {"en": "Tunisia"}, {"en": "Uganda"}]) == "categorical"


# --------------------------------------------------------------------------- CLI


def test_cli_from_and_to_xlsform(fx, tmp_path):
    out = tmp_path / "surveys" / "wellbeing.yml"
    res = runner.invoke(app, ["codebook", "from-xlsform", str(fx["form"]), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "wrote" in res.stdout and "relevance logic" in res.output
    cb = load_codebook(out)
    assert cb.id == "prison_wellbeing"
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["items"][2]["label"]["ar"] == "رمز المستجيب"
    res = runner.invoke(app, ["codebook", "to-xlsform", str(out), "--out", str(tmp_path / "back.xlsx")])
    assert res.exit_code == 0, res.output
    assert from_xlsform(tmp_path / "back.xlsx").data == codebook_to_dict(cb)
    res = runner.invoke(app, ["codebook", "from-xlsform", str(fx["form"]), "--repeat", "children"])
    assert res.exit_code == 0 and "id_column: index" in res.stdout
    res = runner.invoke(app, ["codebook", "from-xlsform", str(fx["malformed"]), "--out", str(tmp_path / "m.yml")])
    assert res.exit_code == 1 and "never closed" in res.output and not (tmp_path / "m.yml").exists()


def test_cli_to_xlsform_refuses_a_broken_codebook(tmp_path):
    bad = tmp_path / "bad.yml"
    shutil.copy(ROOT / "surveys/push_pull.yml", bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace("type: likert", "type: likrt", 1), encoding="utf-8")
    res = runner.invoke(app, ["codebook", "to-xlsform", str(bad), "--out", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 1 and "likrt" in res.output


# --------------------------------------------------------------------------- property: any codebook round-trips

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from veplab.codebook import from_dict  # noqa: E402

_CHARS = list("abcdefXYZ éàç") + list("абвгджщЮЯ") + list("ابتثجحخسع") + list("0123456789=?'\"-:,#()/")
_TEXT = st.text(alphabet=st.sampled_from(_CHARS), min_size=1, max_size=24).filter(lambda t: t.strip())


@st.composite
def _labels(draw):
    out = {"en": draw(_TEXT)}
    for lang in ("fr", "ar", "ru"):
        if draw(st.booleans()):
            out[lang] = draw(_TEXT)
    return out


@st.composite
def _item(draw, k):
    kind = draw(st.sampled_from(["likert", "ordinal", "categorical", "binary", "numeric", "date", "text"]))
    item = {"id": f"q{k}", "label": draw(_labels()), "type": kind,
            "role": draw(st.sampled_from(["item", "item", "quasi_identifier", "sensitive", "outcome"]))}
    if kind in ("likert", "ordinal", "categorical"):
        n = draw(st.integers(2, 6))
        start = draw(st.sampled_from([0, 1]))
        item["options"] = {c: draw(_labels()) for c in range(start, start + n)}
        item["missing"] = {c: r for c, r in zip((7, 8, 9), ("not_applicable", "dont_know", "refused"))
                           if draw(st.booleans())}
        if kind != "categorical" and draw(st.booleans()):
            item["reverse"] = True
    elif kind == "binary":
        item["options"] = {0: draw(_labels()), 1: draw(_labels())}
    elif kind == "numeric":
        lo = draw(st.integers(-50, 50))
        item["min"] = lo
        item["max"] = lo + draw(st.integers(0, 200))
        item["integer"] = draw(st.booleans())
        if draw(st.booleans()):
            item["missing"] = {999: "refused"}
    if draw(st.booleans()):
        item["domain"] = draw(st.sampled_from(["grievance", "identity", "peers"]))
    if draw(st.booleans()):
        item["required"] = False
    return item


@st.composite
def _codebook(draw):
    items = [{"id": "rid", "label": {"en": "Id"}, "type": "text", "role": "admin", "pseudonymised": True}]
    items += [draw(_item(k)) for k in range(draw(st.integers(1, 6)))]
    return from_dict({"id": "prop_v1", "title": draw(_labels()), "id_column": "rid", "items": items})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cb=_codebook())
def test_any_codebook_round_trips(cb, tmp_path_factory):
    form = tmp_path_factory.mktemp("prop") / "form.xlsx"
    to_xlsform(cb, form, validate=False)
    assert from_xlsform(form, check_with_pyxform=False).data == codebook_to_dict(cb)


# --------------------------------------------------------------------------- forms as research centres have them


def _workbook(path: Path, sheets: dict[str, list[dict[str, object]]]) -> Path:
    """An .xlsx with one sheet per entry (columns in first-seen order)."""
    return write_sheets(path, sheets)


def test_every_pyxform_type_converts_or_is_left_out_with_a_note(tmp_path):
    """pyxform (the reference converter) is the oracle: one form holding every question type of its
    dictionary (and the select, group, repeat and loop syntaxes) is accepted by pyxform, and veplab
    converts it: each row is an item or named in a note, never an exception."""
    pytest.importorskip("pyxform")
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT
    from pyxform.xls2xform import convert

    from veplab.ingest.xlsform._vocab import _TYPE_ALIASES

    assert sorted(t for t in QUESTION_TYPE_DICT if t.lower() not in _TYPE_ALIASES) == []  # every type is known
    with_list = {"select one", "select all that apply", "add select one prompt using",
                 "add select multiple prompt using", "select all that apply from", "rank"}
    survey: list[dict[str, object]] = []
    for k, t in enumerate(sorted(QUESTION_TYPE_DICT)):
        if t.startswith(("q select", "select multiple ", "select one ")) and t not in with_list:
            continue  # dictionary entries pyxform itself does not take with a list name
        row: dict[str, object] = {"type": f"{t} yn" if t in with_list else t, "name": f"q{k}",
                                  "label": f"Question {k}"}
        if t == "audit":
            row["name"] = "audit"
        if t == "background-geopoint":
            row["trigger"] = "${q_text}"
        if "calculate" in t:
            row["calculation"] = "1 + 1"
        survey.append(row)
    survey += [
        {"type": "text", "name": "q_text", "label": "Text"},
        {"type": "select_one yn or_other", "name": "q_other", "label": "Yes or no or other"},
        {"type": "select_one_from_file towns.csv", "name": "q_file", "label": "Town"},
        {"type": "select_multiple_from_file towns.csv", "name": "q_files", "label": "Towns"},
        {"type": "select_one_external yn", "name": "q_ext", "label": "External"},
        {"type": "begin group", "name": "g", "label": "A group"},
        {"type": "integer", "name": "q_in_group", "label": "In a group"},
        {"type": "end group"},
        {"type": "begin repeat", "name": "r", "label": "A repeat"},
        {"type": "integer", "name": "q_in_repeat", "label": "In a repeat"},
        {"type": "end repeat"},
        {"type": "begin loop over yn", "name": "lp", "label": "A loop"},
        {"type": "integer", "name": "q_in_loop", "label": "In a loop"},
        {"type": "end loop"},
    ]
    form = _workbook(tmp_path / "all_types.xlsx", {
        "survey": survey, "choices": [{"list_name": "yn", "name": "yes", "label": "Yes"},
                                      {"list_name": "yn", "name": "no", "label": "No"}],
        "external_choices": [{"list_name": "yn", "name": "yes", "label": "Yes"}],
        "settings": [{"form_title": "All types", "form_id": "all_types"}]})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        convert(xlsform=str(form), warnings=[], validate=False)  # pyxform accepts the form
    conv = from_xlsform(form)
    cb, notes = conv.codebook, "\n".join(str(w) for w in conv.warnings)
    inside = {"q_in_repeat", "q_in_loop"}  # counted in the notes on their repeat and loop
    for row in survey:
        name = str(row.get("name") or "")
        if not name or row["type"] in ("end group", "end repeat", "end loop", "begin group") or name in inside:
            continue
        assert name in cb or f"{name}__yes" in cb or f"'{name}'" in notes, (row["type"], name)
    kinds = {t: cb.item(f"q{k}") for k, t in enumerate(sorted(QUESTION_TYPE_DICT)) if f"q{k}" in cb}
    # metadata and calculations: admin; identifying metadata left out; direct identifiers refused at load;
    # attachments sensitive; notes left out
    assert kinds["start"].role == kinds["end time"].role == kinds["get today"].role == "admin"
    assert kinds["calculate"].role == kinds["hidden"].role == "admin"
    for t in ("deviceid", "imei", "uri:deviceid", "device id", "username", "subscriberid", "simserial", "sim id"):
        assert t not in kinds, t
    for t in ("deviceid", "username", "subscriberid", "simserial"):
        assert f"metadata {t} " in notes and "dropped when an export is loaded" in notes
    for t in ("phonenumber", "phone number", "email", "uri:email", "geopoint", "gps", "geotrace", "geoshape",
              "start-geopoint", "background-geopoint", "barcode"):
        assert kinds[t].role == "identifier", t
    for t in ("image", "photo", "audio", "video", "file", "osm", "background-audio"):
        assert kinds[t].role == "sensitive", t
    assert cb.item("audit").role == "sensitive"
    assert "note" not in kinds and "add note prompt" not in kinds and "xml-external" not in kinds
    assert kinds["integer"].type == kinds["percentage"].type == kinds["range"].type == "numeric"
    assert kinds["date time"].type == "date" and kinds["date time"].date_format == "ISO8601"
    assert kinds["select one"].type == "binary" and "q_in_repeat" not in cb and "q_in_loop" not in cb
    assert cb.item("q_in_group").extra["xlsform"]["group"] == "g"
    for expected in ("loop 'lp'", "repeat 'r'", "'or_other' (or_other) is not carried over", "rank",
                     "outside the choices sheet"):
        assert expected in notes, expected


def test_legacy_xls_form_reads_like_xlsx(tmp_path):
    """An Excel 97-2003 .xls form (read with xlrd) in the old spelling (label:French, list name,
    select one from, bind:relevant), French only: the same codebook as the form saved as .xlsx."""
    spec = importlib.util.spec_from_file_location("xls_form", ROOT / "tests/fixtures/ingest/make_xls_form.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    xls = from_xlsform(ROOT / "tests/fixtures/ingest/legacy_form.xls", check_with_pyxform=False)
    xlsx = from_xlsform(mod.write_xlsx(tmp_path / "legacy_form.xlsx"), check_with_pyxform=False)
    assert xls.data == xlsx.data
    cb = xls.codebook
    assert cb.default_language == "fr" and cb.title == {"fr": "Enquête ancienne (synthétique)"}
    assert cb.item("securite").type == "likert" and dict(cb.item("securite").missing) == {8: "dont_know"}
    assert cb.item("securite").text("en") == "Je me sens en sécurité ici."   # pages in English fall back to French
    assert cb.item("genre").extra["xlsform"]["group"] == "situation"
    assert [i.id for i in cb.items if i.id.startswith("services__")] == ["services__sante", "services__travail"]
    assert cb.id_column == "uuid"  # no id field: Kobo's _uuid


@pytest.mark.parametrize("case", ["french_only", "bare_label", "bare_label_french", "swahili_only",
                                  "french_arabic_gap"])
def test_any_set_of_languages(case, tmp_path):
    """English is not required: the form's default language is the codebook's default_language (or, for a
    language veplab does not hold, stands in for 'en'); every case round-trips through to_xlsform."""
    label, settings = {"french_only": ("label::French (fr)", {"default_language": "French (fr)"}),
                       "bare_label": ("label", {}), "bare_label_french": ("label", {"default_language": "French"}),
                       "swahili_only": ("label::Swahili (sw)", {}),
                       "french_arabic_gap": ("label::French (fr)", {})}[case]
    survey = [{"type": "select_one yn", "name": "q1", label: "Swali / question"},
              {"type": "integer", "name": "q2", label: "Umri / âge", "constraint": ". >= 18 and . <= 90"}]
    choices = [{"list_name": "yn", "name": "1", label: "Ndiyo / oui"}, {"list_name": "yn", "name": "0", label: "Hapana / non"}]
    if case == "french_arabic_gap":
        survey.append({"type": "text", "name": "q3", "label::Arabic (ar)": "سؤال"})
        survey[0]["label::Arabic (ar)"] = "سؤال ١"
    form = _workbook(tmp_path / "f.xlsx", {"survey": survey, "choices": choices,
                                           "settings": [{"form_id": "langs", "form_title": "Fomu", **settings}]})
    conv = from_xlsform(form, check_with_pyxform=False)
    cb, notes = conv.codebook, "\n".join(str(w) for w in conv.warnings)
    expect = {"french_only": "fr", "bare_label": "en", "bare_label_french": "fr", "swahili_only": "en",
              "french_arabic_gap": "fr"}[case]
    assert cb.default_language == expect and list(cb.item("q1").label)[0] == expect
    assert cb.item("q1").text("ru") == "Swali / question" and cb.title[expect] == "Fomu"
    assert (cb.item("q2").min, cb.item("q2").max) == (18, 90)
    if case == "bare_label":
        assert "bare 'label' column is taken as English" in notes
    if case == "swahili_only":
        assert "Swahili (sw)" in notes and cb.extra["xlsform"]["languages"] == {"en": "Swahili (sw)"}
    if case == "french_arabic_gap":
        assert cb.item("q3").label == {"fr": "سؤال", "ar": "سؤال"} and "its 'ar' label stands in" in notes
    to_xlsform(cb, tmp_path / "back.xlsx", validate=False)
    if case == "swahili_only":  # the form's own language comes back under its name
        assert "label::Swahili (sw)" in [c.value for c in openpyxl.load_workbook(tmp_path / "back.xlsx")["survey"][1]]
    assert from_xlsform(tmp_path / "back.xlsx", check_with_pyxform=False).data == conv.data


def test_id_column_declared_guessed_or_uuid(tmp_path):
    """The id column: settings veplab::id_column; else one field whose name says it is a record id (never
    a prison or interviewer code; recorded as guessed); else Kobo's _uuid."""
    def conv(fields, settings=None):
        survey = [{"type": "text", "name": f, "label": f} for f in fields]
        return from_xlsform(_workbook(tmp_path / "f.xlsx", {"survey": survey, "settings": [
            {"form_id": "ids", **(settings or {})}]}), check_with_pyxform=False)

    c = conv(["prison_code", "interviewer_id", "resp_code"])
    assert c.codebook.id_column == "resp_code" and c.data["xlsform"]["id_column_guessed"] == "resp_code"
    c = conv(["prison_code", "facility_id", "enumerator_code"])
    assert c.codebook.id_column == "uuid" and "xlsform" not in c.data
    to_xlsform(c.codebook, tmp_path / "uuid.xlsx", validate=False)  # Kobo's _uuid round-trips
    assert _sheet(tmp_path / "uuid.xlsx", "settings")[0]["veplab::id_column"] == "uuid"
    assert from_xlsform(tmp_path / "uuid.xlsx", check_with_pyxform=False).data == c.data
    c = conv(["case_id", "record_no"])  # two record ids: none guessed
    assert c.codebook.id_column == "uuid" and "'case_id', 'record_no' could each be one" in str(c.warnings)
    c = conv(["prison_code", "resp_code"], {"veplab::id_column": "prison_code"})  # declared wins, even this
    assert c.codebook.id_column == "prison_code" and "xlsform" not in c.data
    # a guessed id column is guessed again after a round trip (and stays marked as guessed)
    c = conv(["resp_code", "age_code"])
    to_xlsform(c.codebook, tmp_path / "back.xlsx", validate=False)
    assert from_xlsform(tmp_path / "back.xlsx", check_with_pyxform=False).data == c.data


def test_groups_become_scales_with_roles_and_the_scales_sheet(tmp_path):
    """veplab::scale on a begin_group row scores the group; veplab::role on it applies to its questions;
    veplab::domain gives the scale's domain; the veplab_scales sheet labels a scale and takes its items
    from the marks when its items cell is empty; the example form in the repo is made by its script."""
    spec = importlib.util.spec_from_file_location("example_form", ROOT / "surveys/examples/make_example_form.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    committed = from_xlsform(ROOT / "surveys/examples/example_form.xlsx", check_with_pyxform=False)
    made = from_xlsform(mod.write_form(tmp_path / "example_form.xlsx"), check_with_pyxform=False)
    assert made.data == committed.data  # the committed form is what the script makes
    cb = made.codebook
    assert cb.scale("hardship").items == ("hardship_1", "hardship_2", "hardship_3", "hardship_4")
    assert (cb.scale("hardship").domain, cb.scale("hardship").min_items) == ("push", 3)
    assert cb.scale("support_violence").domain == "outcome" and cb.scale("support_violence").min_items == 2
    assert cb.scale("belonging").text("fr") == "Besoin d'appartenance" and cb.item("hardship_4").reverse
    assert cb.id_column == "uuid" and cb.item("gender").role == "quasi_identifier"
    assert "deviceid" not in cb and "username" not in cb and cb.item("today").role == "admin"
    survey = [{"type": "begin_group", "name": "demo", "label": "About you", "veplab::role": "quasi_identifier"},
              {"type": "select_one g", "name": "sex", "label": "Sex"},
              {"type": "integer", "name": "age", "label": "Age", "veplab::role": "sensitive"},
              {"type": "end_group"},
              {"type": "begin_group", "name": "trust", "label": "Trust", "veplab::scale": "trust",
               "veplab::domain": "protective"},
              {"type": "select_one lvl", "name": "t1", "label": "T1"},
              {"type": "select_one lvl", "name": "t2", "label": "T2"},
              {"type": "text", "name": "t_comment", "label": "Comment"},
              {"type": "end_group"}]
    form = _workbook(tmp_path / "g.xlsx", {"survey": survey, "choices": [
        {"list_name": "g", "name": "1", "label": "Man"}, {"list_name": "g", "name": "2", "label": "Woman"},
        *({"list_name": "lvl", "name": str(k), "label": t} for k, t in enumerate(("Low", "Medium", "High"), 1))],
        "settings": [{"form_id": "groups", "veplab::id_column": "uuid"}]})
    cb = from_xlsform(form, check_with_pyxform=False).codebook
    assert cb.item("sex").role == "quasi_identifier" and cb.item("age").role == "sensitive"
    assert cb.scale("trust").items == ("t1", "t2") and cb.scale("trust").domain == "protective"
    assert cb.scale("trust").label == {"en": "Trust"}
    to_xlsform(cb, tmp_path / "g2.xlsx", validate=False)  # written back as veplab_scales rows and roles
    assert from_xlsform(tmp_path / "g2.xlsx", check_with_pyxform=False).codebook.scale("trust").items == ("t1", "t2")


def test_kobo_export_metadata_and_uuid(tmp_path):
    """Kobo's metadata columns load as admin (start, end, today) or are dropped (_id, _index, deviceid,
    username, _submitted_by...); _uuid is the id column when the form declares none; unknown: drop
    names the columns it drops."""
    from veplab.data import load, load_info

    spec = importlib.util.spec_from_file_location("example_form", ROOT / "surveys/examples/make_example_form.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cb = from_xlsform(mod.write_form(tmp_path / "form.xlsx"), check_with_pyxform=False).codebook
    export = mod.write_export(tmp_path / "export.csv", n=30)
    df = load(export, cb)
    assert df["uuid"].is_unique and len(df) == 30 and str(df["start"].dtype).startswith("datetime64")
    assert not {"deviceid", "username", "_submitted_by", "_id", "_index", "__version__"} & set(df.columns)
    assert df["support_violence"].notna().all()
    import pandas as pd

    frame = pd.read_csv(export, sep=";", dtype=str)
    frame.insert(5, "extra_note", "x")
    frame.to_csv(tmp_path / "extra.csv", sep=";", index=False)
    with pytest.warns(UserWarning, match="extra_note"):
        df = load(tmp_path / "extra.csv", cb, unknown="drop")
    dropped = load_info(df).problems
    assert "extra_note" not in df.columns
    assert list(dropped["severity"]) == ["warning"] and "dropped (unknown: drop): 'extra_note'" in dropped["problem"][0]
