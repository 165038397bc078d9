"""Identifier gate: planted identifiers are refused (without showing values), survey columns pass."""

from __future__ import annotations

import json
import random
import zlib

import numpy as np
import pandas as pd
import pytest

from veplab.codebook import from_dict
from veplab.privacy import (
    IdentifierError,
    check_identifiers,
    identifier_problems,
    iin_check_digit,
    is_email,
    is_phone_number,
    is_tunisia_cin,
    is_uganda_nin,
    is_valid_iin,
    looks_like_iin,
    looks_like_name,
    pseudonymise,
)

KEY = bytes(range(32))


def make_codebook(extra_items=(), id_column="respondent_id"):
    items = [
        {"id": "respondent_id", "label": "id", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "prison_id", "label": "prison", "type": "text", "role": "quasi_identifier"},
        {"id": "gender", "label": "gender", "type": "categorical", "role": "quasi_identifier",
         "options": {1: "man", 2: "woman"}},
        {"id": "pp_grievance_1", "label": "g1", "type": "likert",
         "options": {1: "sd", 2: "d", 3: "n", 4: "a", 5: "sa"}, "missing": {8: "dont_know", 9: "refused"}},
        {"id": "interview_date", "label": "date", "type": "date", "role": "admin"},
        {"id": "comment", "label": "comment", "type": "text", "role": "sensitive", "required": False},
    ]
    items.extend(extra_items)
    return from_dict({"id": "push_pull_test", "title": "t", "unit": "respondent", "id_column": id_column,
                      "items": items})


# ----------------------------------------------------------------- realistic generators

KZ_GIVEN = ["Nurlan", "Aigerim", "Yerlan", "Asel", "Daulet", "Madina", "Askar", "Dinara", "Marat", "Gulnara"]
KZ_FAMILY = ["Abenov", "Serikbayeva", "Tokayev", "Nurpeisova", "Zhumabekov", "Ospanova", "Akhmetov", "Kassymova"]
KZ_CYR = ["Айгерим Серикбаева", "Нурлан Абенов", "Ерлан Жумабеков", "Асель Оспанова", "Марат Ахметов",
          "Динара Касымова", "Аскар Нурпеисов", "Даулет Сейткали улы", "Гульнара Токаева", "Сергей Иванов"]
TN_LATIN = ["Mohamed Ben Salah", "Ahmed Trabelsi", "Youssef Ben Ali", "Fatma Gharbi", "Amel Ben Romdhane",
            "Walid Jendoubi", "Sami Ben Ammar", "Mariem Chaabane", "Karim Ould Ahmed", "Khaled Mejri"]
TN_ARABIC = ["محمد بن صالح", "أحمد الطرابلسي", "يوسف بن علي", "فاطمة الغربي", "آمال بن رمضان", "وليد الجندوبي",
             "سامي بن عمار", "مريم الشعباني", "عبد الله المجري", "خديجة بنت محمد"]
UG_NAMES = ["Okello Joseph", "Nakato Sarah", "Mugisha David", "Akello Grace", "Ssemwogerere Paul",
            "Nalubega Florence", "Opio Moses", "Tumusiime Esther", "Kato Wasswa", "Byaruhanga Robert"]


def kz_iin(rng: random.Random, valid: bool = True) -> str:
    while True:
        year = rng.randint(1950, 2005)
        c = rng.choice("34") if year < 2000 else rng.choice("56")
        first11 = f"{year % 100:02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{c}{rng.randint(0, 9999):04d}"
        check = iin_check_digit(first11)
        if check is None:
            continue
        if valid:
            return first11 + str(check)
        return first11 + str((check + rng.randint(1, 9)) % 10)


def kz_phone(rng):
    op = rng.choice(["701", "702", "705", "707", "747", "771", "775", "778"])
    n = f"{rng.randint(0, 9999999):07d}"
    return rng.choice([f"+7 {op} {n[:3]} {n[3:5]} {n[5:]}", f"8 {op} {n[:3]} {n[3:5]} {n[5:]}",
                       f"+7({op}){n}", f"8{op}{n}"])


def tn_phone(rng):
    n = f"{rng.choice('2459')}{rng.randint(0, 9999999):07d}"
    return rng.choice([f"+216 {n[:2]} {n[2:5]} {n[5:]}", f"{n[:2]} {n[2:5]} {n[5:]}", f"00216{n}"])


def ug_phone(rng):
    op = rng.choice(["70", "71", "74", "75", "76", "77", "78", "79"])
    n = f"{rng.randint(0, 9999999):07d}"
    return rng.choice([f"+256 {op}{n[0]} {n[1:]}", f"0{op}{n[0]} {n[1:]}", f"+256-{op}{n[0]}-{n[1:4]}-{n[4:]}"])


def tn_cin(rng):
    return f"{rng.choice('01')}{rng.randint(0, 9999999):07d}"


def ug_nin(rng):
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    body = f"{rng.randint(60, 99):02d}{rng.randint(0, 99999):05d}" + "".join(rng.choice(letters + "0123456789")
                                                                           for _ in range(5))
    return rng.choice(["CM", "CF"]) + body


def survey_frame(n=60, seed=1):
    rng = np.random.default_rng(seed)
    ids = pseudonymise(pd.DataFrame({"respondent_id": [f"KZ-{i:05d}" for i in range(n)]}), "respondent_id",
                       KEY)["respondent_id"]
    return pd.DataFrame({
        "respondent_id": ids,
        "prison_id": rng.choice(["KZ-P07", "KZ-P12", "TN-P03", "UG-P101", "UG-P044"], n),
        "gender": rng.choice([1, 2], n),
        "pp_grievance_1": rng.choice([1, 2, 3, 4, 5, 8, 9], n),
        "interview_date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "comment": rng.choice([
            "The food was bad and the guards were rude to us",
            "I talked with the imam after Friday prayer",
            "Not Applicable", "No comment", "Visits are too short", None, "Family is far away from here",
            "Work in the furniture workshop helps me", "Very Good", "Too crowded in the cell block",
        ], n),
    })


# ----------------------------------------------------------------- value detectors


def test_iin_checksum_known_and_generated():
    assert iin_check_digit("90010130012") == 6
    rng = random.Random(7)
    valid = [kz_iin(rng) for _ in range(300)]
    invalid = [kz_iin(rng, valid=False) for _ in range(300)]
    assert all(is_valid_iin(v) for v in valid)
    assert not any(is_valid_iin(v) for v in invalid)
    assert all(looks_like_iin(v) for v in invalid)  # date and century digit still right
    # second-pass weights: find 11 digits whose first pass gives 10
    for serial in range(10000):
        first11 = f"8506153{serial:04d}"
        if sum(int(d) * w for d, w in zip(first11, range(1, 12))) % 11 == 10:
            second = sum(int(d) * w for d, w in zip(first11, (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2))) % 11
            assert iin_check_digit(first11) == (None if second == 10 else second)
            break
    else:  # pragma: no cover
        pytest.fail("no first-pass remainder 10 found")
    assert not is_valid_iin("901301300125")  # month 13
    assert not is_valid_iin("900101700126")  # century digit 7


def test_phone_numbers_of_three_countries():
    rng = random.Random(3)
    for gen in (kz_phone, tn_phone, ug_phone):
        for _ in range(50):
            v = gen(rng)
            assert is_phone_number(v), (gen.__name__, len(v))
    for v in ["KZ-P07", "2024-01-15", "20240115", "12", "3.5", "+7 495 123 45 67", "+44 20 7946 0000",
              "1234567", "Strongly agree"]:
        assert not is_phone_number(v)


def test_cin_nin_email_and_names():
    rng = random.Random(5)
    assert all(is_tunisia_cin(tn_cin(rng)) for _ in range(50) if not tn_cin(rng).startswith("19"))
    assert not is_tunisia_cin("20240115")
    assert all(is_uganda_nin(ug_nin(rng)) for _ in range(50))
    assert not is_uganda_nin("CMXYZ")
    assert is_email("a.person@example.org") and not is_email("KZ-P07")
    for v in KZ_CYR + TN_LATIN + TN_ARABIC + UG_NAMES + [f"{g} {f}" for g in KZ_GIVEN for f in KZ_FAMILY]:
        assert looks_like_name(v), v
    for v in ["Strongly agree", "Remand Centre", "Men's prison", "Not Applicable", "KZ-P07", "Kazakhstan",
              "Other Violent", "Very Good", "I talked with the imam after Friday prayer", "2024-01-15",
              "سجن النساء", "Женская колония", "3", "Don't know"]:
        assert not looks_like_name(v), v


# ----------------------------------------------------------------- the gate


def _assert_no_values(problems, values):
    text = json.dumps(problems, ensure_ascii=False)
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        s = str(v)
        assert s not in text, "a data value appears in a problem message"
        compact = "".join(ch for ch in s if ch.isalnum())
        if len(compact) >= 5:
            assert compact not in "".join(ch for ch in text if ch.isalnum())


def test_clean_survey_passes():
    df = survey_frame()
    assert identifier_problems(df, make_codebook()) == []
    check_identifiers(df, make_codebook())  # no exception


@pytest.mark.parametrize("names", [KZ_CYR, TN_LATIN, TN_ARABIC, UG_NAMES,
                                   [f"{g} {f}" for g, f in zip(KZ_GIVEN, KZ_FAMILY)]])
def test_planted_name_column_refused_without_values(names):
    df = survey_frame(n=len(names) * 3)
    planted = (names * 3)[: len(df)]
    df["full_name"] = planted
    problems = identifier_problems(df, make_codebook(), file="wave1.csv")
    assert [p["column"] for p in problems] == ["full_name"]
    p = problems[0]
    assert p["severity"] == "error" and p["file"] == "wave1.csv" and "name" in p["kind"]
    assert "personal names" in p["problem"] and "not in the codebook" in p["problem"]
    assert p["rows"] and min(p["rows"]) >= 2
    _assert_no_values(problems, planted)
    with pytest.raises(IdentifierError) as err:
        check_identifiers(df, make_codebook())
    for v in planted:
        assert v not in str(err.value)


@pytest.mark.parametrize("gen,kind", [(kz_phone, "phone"), (tn_phone, "phone"), (ug_phone, "phone"),
                                      (kz_iin, "kz_iin"), (ug_nin, "ug_nin"), (tn_cin, "tn_cin")])
def test_planted_number_columns_refused(gen, kind):
    rng = random.Random(11)
    df = survey_frame(n=40)
    planted = [gen(rng) for _ in range(len(df))]
    df["contact"] = planted
    problems = identifier_problems(df, make_codebook())
    assert [p["column"] for p in problems] == ["contact"]
    assert kind in problems[0]["kind"].split(",")
    _assert_no_values(problems, planted)


def test_iin_read_as_numbers_and_emails():
    rng = random.Random(2)
    df = survey_frame(n=30)
    df["iin"] = [int(kz_iin(rng)) for _ in range(30)]
    df["mail"] = [f"person{i}@mail.kz" for i in range(30)]
    problems = {p["column"]: p for p in identifier_problems(df, make_codebook())}
    assert set(problems) == {"iin", "mail"}
    assert "Kazakhstan IIN" in problems["iin"]["problem"]
    assert "e-mail" in problems["mail"]["problem"]


def test_single_strong_identifier_in_free_text_is_caught():
    df = survey_frame(n=50)
    df.loc[17, "comment"] = "please call my wife on +256 772 123456 about the visit"
    problems = identifier_problems(df, make_codebook())
    assert len(problems) == 1 and problems[0]["column"] == "comment"
    assert problems[0]["rows"] == [19]  # position 17 -> spreadsheet row 19 (header is row 1)
    assert "772" not in json.dumps(problems)
    # row numbers supplied by the loader are used as given
    problems = identifier_problems(df, make_codebook(), row_numbers=list(range(101, 151)))
    assert problems[0]["rows"] == [118]


def test_few_names_in_unknown_column_below_threshold_pass():
    # an unknown column of labels where only a couple of values are names stays below the share threshold
    df = survey_frame(n=40)
    df["staff_note"] = ["Remand Centre"] * 38 + ["Nurlan Abenov", "Okello Joseph"]
    assert identifier_problems(df, make_codebook()) == []


def test_title_case_label_columns_do_not_trip():
    rng = np.random.default_rng(0)
    df = survey_frame(n=80)
    df["prison_type_label"] = rng.choice(["Men Prison", "Women Prison", "Remand Centre", "Juvenile Centre"], 80)
    df["likert_text"] = rng.choice(["Strongly Agree", "Agree", "Neutral", "Disagree", "Strongly Disagree"], 80)
    df["codes"] = [f"KZ-P{i % 9:02d}" for i in range(80)]
    df["score"] = rng.normal(size=80)
    df["year"] = rng.integers(1990, 2024, 80)
    df["yyyymmdd"] = pd.date_range("2023-01-01", periods=80).strftime("%Y%m%d")
    assert identifier_problems(df, make_codebook()) == []


def test_many_distinct_name_shaped_values_outside_codebook_refused():
    # names without lexicon evidence: the shape rule (>= 60% name-shaped, >= 50% distinct) catches them
    first = ["Zorbek", "Talapker", "Merlin", "Quintus", "Xavera", "Yelbars", "Ulgen", "Wendimu", "Vakhit", "Sorel"]
    last = ["Pelkun", "Drasova", "Hurtado", "Mikkel", "Brandt", "Kessler", "Lindqvist", "Ferro"]
    names = [f"{a} {b}" for a in first for b in last][:30]
    df = survey_frame(n=30)
    df["who"] = names
    problems = identifier_problems(df, make_codebook())
    assert [p["column"] for p in problems] == ["who"]
    _assert_no_values(problems, names)


def test_identifier_role_rules():
    extra = [{"id": "prison_number", "label": "prison number", "type": "text", "role": "identifier"},
             {"id": "national_id", "label": "nid", "type": "text", "role": "identifier", "pseudonymised": True}]
    cb = make_codebook(extra)
    df = survey_frame(n=20)
    df["prison_number"] = [f"A-{i:04d}" for i in range(20)]
    df["national_id"] = pseudonymise(pd.DataFrame({"x": [f"{i:012d}" for i in range(20)]}), "x", KEY)["x"]
    problems = {p["column"]: p for p in identifier_problems(df, cb)}
    assert set(problems) == {"prison_number"}
    assert "not pseudonymised" in problems["prison_number"]["problem"]
    # marked pseudonymised but holding clear values in two rows
    df2 = df.drop(columns="prison_number").astype({"national_id": object})
    df2.loc[3, "national_id"] = "900101300126"
    df2.loc[9, "national_id"] = "880202400123"
    problems = identifier_problems(df2, cb)
    assert len(problems) == 1 and problems[0]["column"] == "national_id"
    assert problems[0]["rows"] == [5, 11]
    assert "900101" not in json.dumps(problems)
    # once pseudonymised, the identifier column passes
    df3 = pseudonymise(df, ["prison_number"], KEY)
    cb3 = make_codebook([{**extra[0], "pseudonymised": True}, extra[1]])
    assert identifier_problems(df3, cb3) == []


def test_id_column_must_not_hold_identifiers():
    rng = random.Random(4)
    cb = make_codebook()
    df = survey_frame(n=25)
    df["respondent_id"] = [kz_iin(rng) for _ in range(25)]
    problems = identifier_problems(df, cb)
    assert [p["column"] for p in problems] == ["respondent_id"]
    assert "id column" in problems[0]["problem"]
    # non-identifying study codes are accepted in the id column
    df["respondent_id"] = [f"R{i:04d}" for i in range(25)]
    assert identifier_problems(df, cb) == []
    # names in the id column are refused
    df["respondent_id"] = (UG_NAMES * 3)[:25]
    assert [p["column"] for p in identifier_problems(df, cb)] == ["respondent_id"]


def test_bad_arguments():
    from veplab._validate import InputError

    with pytest.raises(InputError):
        identifier_problems([1, 2], make_codebook())
    with pytest.raises(InputError):
        identifier_problems(survey_frame(5), make_codebook(), min_share=0)
    with pytest.raises(InputError):
        identifier_problems(survey_frame(5), make_codebook(), row_numbers=[1, 2])


def test_date_columns_in_local_formats_pass():
    dates = pd.date_range("2023-01-01", periods=50, freq="7D")
    df = survey_frame(n=50)
    df["d_kz"] = dates.strftime("%d.%m.%Y")
    df["d_fr"] = dates.strftime("%d/%m/%Y")
    df["d_us"] = dates.strftime("%m-%d-%Y")
    df["d_iso"] = dates.strftime("%Y-%m-%d")
    df["d_compact"] = dates.strftime("%Y%m%d")
    assert identifier_problems(df, make_codebook()) == []


# ----------------------------------------------------------------- every column, whatever its type

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NUMERIC_ITEMS = [
    {"id": "n_visits", "label": "visits", "type": "numeric", "integer": True, "required": False},
    {"id": "age", "label": "age", "type": "numeric", "min": 15, "max": 99, "required": False,
     "missing": {999: "refused"}},
]


def numeric_codebook():
    return make_codebook(NUMERIC_ITEMS)


def _only(problems, column):
    assert [p["column"] for p in problems] == [column], [(p["column"], p["problem"]) for p in problems]
    return problems[0]


def ug_mobile_forms(rng):
    n = f"7{rng.choice('0145678')}{rng.randint(0, 9999999):07d}"
    return [f"0{n}", int("256" + n), int(n), float(n), f"{n}.0"]


def _kz_iin_2000s(rng):
    while True:
        first11 = f"0{rng.randint(0, 5)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.choice('56')}" \
                  f"{rng.randint(0, 9999):04d}"
        check = iin_check_digit(first11)
        if check is not None:
            return first11 + str(check)


def _is_yyyymmdd(value: object) -> bool:
    import datetime as dt

    text = str(value)
    try:
        return len(text) == 8 and 1900 <= int(text[:4]) <= 2100 and bool(dt.date(int(text[:4]), int(text[4:6]),
                                                                                  int(text[6:])))
    except ValueError:
        return False


@pytest.mark.parametrize("form", ["iin_int", "iin_2000s_int", "cin_int", "tn_phone_int", "ug_0", "ug_256_int",
                                  "ug_no_0_int", "ug_float", "ug_float_text", "kz_8_int", "kz_7_int"])
def test_identifiers_in_declared_numeric_column_refused(form):
    rng = random.Random(zlib.crc32(form.encode()))  # str hash() changes from run to run
    make = {
        "iin_int": lambda: int(kz_iin(rng)),
        "iin_2000s_int": lambda: int(_kz_iin_2000s(rng)),                  # leading zero lost
        "cin_int": lambda: int(f"1{rng.randint(0, 9999999):07d}"),
        "tn_phone_int": lambda: int(f"{rng.choice('2459')}{rng.randint(0, 9999999):07d}"),
        "ug_0": lambda: ug_mobile_forms(rng)[0],
        "ug_256_int": lambda: ug_mobile_forms(rng)[1],
        "ug_no_0_int": lambda: ug_mobile_forms(rng)[2],
        "ug_float": lambda: ug_mobile_forms(rng)[3],
        "ug_float_text": lambda: ug_mobile_forms(rng)[4],
        "kz_8_int": lambda: int(f"8701{rng.randint(0, 9999999):07d}"),
        "kz_7_int": lambda: int(f"7701{rng.randint(0, 9999999):07d}"),
    }[form]
    df = survey_frame(n=30)
    planted = [make() for _ in range(30)]
    df["n_visits"] = planted
    p = _only(identifier_problems(df, numeric_codebook(), file="w.csv"), "n_visits")
    assert "described in the codebook as numeric" in p["problem"] and p["severity"] == "error"
    # a value that is also a valid YYYYMMDD date (19891105) is not counted as a CIN or phone by itself;
    # every other row is named, and the column is refused whole
    dates = {i + 2 for i, v in enumerate(planted) if _is_yyyymmdd(v)}
    assert set(range(2, 32)) - dates <= set(p["rows"]) <= set(range(2, 32)) and p["file"] == "w.csv"
    _assert_no_values([p], planted)
    with pytest.raises(IdentifierError, match="n_visits") as err:
        check_identifiers(df, numeric_codebook(), file="w.csv")
    assert "rows 2, 3, 4" in str(err.value) and "on_error='flag'" in str(err.value)


def test_one_phone_number_where_a_code_or_an_age_is_expected_is_refused():
    df = survey_frame(n=40).astype({"pp_grievance_1": object})
    df["age"] = [30 + i % 40 for i in range(40)]
    df.loc[7, "age"] = 772123456          # an Ugandan mobile, its leading 0 lost
    df.loc[12, "pp_grievance_1"] = "0772 123 456"
    problems = {p["column"]: p for p in identifier_problems(df, numeric_codebook())}
    assert set(problems) == {"age", "pp_grievance_1"}
    assert problems["age"]["rows"] == [9] and "phone numbers" in problems["age"]["problem"]
    assert problems["pp_grievance_1"]["rows"] == [14] and "likert" in problems["pp_grievance_1"]["problem"]
    _assert_no_values(list(problems.values()), ["772123456", "0772 123 456"])


def test_ordinary_numbers_do_not_trip_the_gate():
    rng = np.random.default_rng(3)
    n = 200
    df = survey_frame(n=n)
    extra = {
        "age": rng.integers(18, 90, n), "n_visits": rng.integers(0, 400, n),
        "days_in_prison": rng.integers(0, 20000, n), "year": rng.integers(1960, 2025, n),
        "yyyymmdd": pd.date_range("2019-01-01", periods=n).strftime("%Y%m%d").astype(int),
        "ddmmyyyy": pd.date_range("2019-01-01", periods=n).strftime("%d%m%Y"),
        "small_id": np.arange(100000, 100000 + n), "score": rng.normal(size=n).round(3),
        "amount": rng.integers(0, 5_000_000, n), "missing_filler": [99999999] * n,
        "db_key": np.arange(21_000_000, 21_000_000 + 3 * n, 3),   # an autoincrement key: rises in small steps
    }
    for k, v in extra.items():
        df[k] = v
    df.loc[::7, "age"] = 999  # the item's missing code
    assert identifier_problems(df, numeric_codebook()) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1925, 2009), st.integers(1, 12), st.integers(1, 28), st.booleans(),
                          st.integers(0, 9999)), min_size=1, max_size=12),
       st.sampled_from(["int", "float", "str"]))
def test_property_valid_iins_in_numeric_columns_always_refused(parts, as_):
    values = []
    for year, m, d, female, s in parts:
        c = (5 if year >= 2000 else 3) + female
        first11 = f"{year % 100:02d}{m:02d}{d:02d}{c}{s:04d}"
        check = iin_check_digit(first11)
        iin = first11 + str(check if check is not None else 0)
        values.append(iin if check is not None else "900101300126")
    conv = {"int": int, "float": float, "str": str}[as_]
    df = pd.DataFrame({"respondent_id": [f"R{i:03d}" for i in range(len(values))],
                       "n_visits": [conv(v) for v in values]})
    p = _only(identifier_problems(df, numeric_codebook()), "n_visits")
    assert "Kazakhstan IIN" in p["problem"] and p["rows"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("0145678"), st.integers(0, 9_999_999)), min_size=1, max_size=12),
       st.sampled_from([0, 1, 2, 3]))
def test_property_ugandan_mobiles_in_numeric_columns_always_refused(numbers, form):
    values = [ug_mobile_forms_fixed(f"7{op}{n:07d}")[form] for op, n in numbers]
    df = pd.DataFrame({"respondent_id": [f"R{i:03d}" for i in range(len(values))], "n_visits": values})
    p = _only(identifier_problems(df, numeric_codebook()), "n_visits")
    assert "phone numbers" in p["problem"] and len(p["rows"]) >= 1


def ug_mobile_forms_fixed(n):
    return [f"0{n}", int("256" + n), int(n), float(n)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5) | st.sampled_from([8, 9]), st.integers(14, 99),
                          st.integers(0, 100_000), st.integers(1900, 2100)), min_size=1, max_size=40),
       st.booleans())
def test_property_likert_age_count_year_columns_never_refused(rows, as_text):
    conv = str if as_text else (lambda v: v)
    df = pd.DataFrame({"respondent_id": [f"R{i:05d}" for i in range(len(rows))],
                       "pp_grievance_1": [conv(r[0]) for r in rows], "age": [conv(r[1]) for r in rows],
                       "n_visits": [conv(r[2]) for r in rows], "year": [conv(r[3]) for r in rows]})
    assert identifier_problems(df, numeric_codebook()) == []


# ----------------------------------------------------------------- names in any case, with digits and initials

NAME_VARIANTS = ["nurlan abenov", "Nurlan Abenov2", "N. Abenov", "Abenov N.", "nurlan abenov 3", "NURLAN ABENOV",
                 "okello joseph", "J. Okello", "N.Abenov", "nurlan_abenov", "Абенов Н.К.", "айгерим серикбаева",
                 "mohamed ben salah", "Nakato Sarah 12"]


@pytest.mark.parametrize("name", NAME_VARIANTS)
def test_one_name_in_the_id_column_is_refused(name):
    df = survey_frame(n=20)
    df["respondent_id"] = [f"R{i:04d}" for i in range(20)]
    df.loc[6, "respondent_id"] = name
    p = _only(identifier_problems(df, make_codebook(), file="w.csv"), "respondent_id")
    assert "id column" in p["problem"] and "personal names" in p["problem"] and p["rows"] == [8]
    _assert_no_values([p], [name])


def test_name_variants_refused_in_admin_ids_text_items_and_unknown_columns():
    extra = [{"id": "staff_ref", "label": "staff", "type": "text", "role": "admin", "pseudonymised": True,
              "required": False}]
    cb = make_codebook(extra)
    n = len(NAME_VARIANTS) * 2
    df = survey_frame(n=n)
    df["staff_ref"] = [f"S{i:03d}" for i in range(n)]
    df.loc[3, "staff_ref"] = "okello joseph"
    df["comment"] = NAME_VARIANTS * 2
    df["visitor"] = list(reversed(NAME_VARIANTS)) * 2
    problems = {p["column"]: p for p in identifier_problems(df, cb)}
    assert set(problems) == {"staff_ref", "comment", "visitor"}
    assert problems["staff_ref"]["rows"] == [5]
    assert "free text" in problems["comment"]["problem"] and len(problems["comment"]["rows"]) == n
    assert "not in the codebook" in problems["visitor"]["problem"]
    _assert_no_values(list(problems.values()), NAME_VARIANTS)


def test_surname_comma_given_in_unknown_column():
    names = ["ABENOV, Nurlan", "Okello, Joseph", "SERIKBAYEVA, Aigerim", "Nakato, Sarah", "BEN SALAH, Mohamed",
             "TRABELSI, Ahmed", "Mugisha, David", "ZHUMABEKOV, Yerlan"]
    df = survey_frame(n=24)
    df["contact_person"] = (names * 3)[:24]
    p = _only(identifier_problems(df, make_codebook()), "contact_person")
    assert "personal names" in p["problem"] and p["rows"] == list(range(2, 26))
    _assert_no_values([p], names)
    # capitalised SURNAME, Given outside the lexicon: the name-shape rule
    df["contact_person"] = [f"{a.upper()}, {b}" for a, b in zip(["Pelkun", "Drasova", "Hurtado", "Brandt"] * 6,
                                                                  ["Zorbek", "Quintus", "Xavera", "Sorel", "Ulgen",
                                                                   "Wendimu"] * 4)]
    assert _only(identifier_problems(df, make_codebook()), "contact_person")["kind"] == "name"


def test_lower_case_words_are_no_names_without_evidence():
    df = survey_frame(n=40)
    df["comment"] = ["no comment", "grace period", "нет родственников", "без адвокатов", "visits are short",
                     "rose garden", "salah time", "the food is bad"] * 5
    assert identifier_problems(df, make_codebook()) == []


# ----------------------------------------------------------------- facility (cluster) columns


def test_facility_codes_in_cluster_column_pass_and_are_still_scanned():
    cb = from_dict({"id": "climate_t", "title": "t", "unit": "prison", "id_column": "prison_id", "items": [
        {"id": "prison_id", "label": "prison", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "capacity", "label": "cap", "type": "numeric", "min": 0}]})
    codes = ["KZ-P07", "UG-P112", "TN-P3", "KZ-P12", "UG-P044", "TN-P05"] * 3
    df = pd.DataFrame({"prison_id": codes, "capacity": range(100, 118)})
    assert identifier_problems(df, cb, facility_columns=["prison_id"]) == []
    assert identifier_problems(df, cb) == []
    # a place name that reads like a person's (Ben Arous, Tunisia) is an id-rule hit, but not in a facility column
    df.loc[4, "prison_id"] = "Ben Arous"
    assert [p["column"] for p in identifier_problems(df, cb)] == ["prison_id"]
    assert identifier_problems(df, cb, facility_columns=("prison_id",)) == []
    # strong identifiers are refused in a facility column too
    df.loc[9, "prison_id"] = "+256 772 123456"
    p = _only(identifier_problems(df, cb, facility_columns=["prison_id"]), "prison_id")
    assert p["rows"] == [11] and "facility column" in p["problem"]
    with pytest.raises(IdentifierError):
        check_identifiers(df, cb, facility_columns=["prison_id"])
