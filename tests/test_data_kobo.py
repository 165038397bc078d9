"""Kobo / ODK exports through veplab.data.load: group prefixes, metadata, select_multiple,
labels as values, repeat sheets, delimiters, scripts and Arabic-Indic digits."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab.codebook import load as load_codebook
from veplab.data import DataError, load, load_info, missing_reasons
from veplab.ingest._common import REASON_LABELS
from veplab.data.kobo import detect, is_metadata
from veplab.ingest.xlsform import from_xlsform, to_xlsform

ROOT = Path(__file__).resolve().parents[1]


def _fixtures():
    spec = importlib.util.spec_from_file_location("ingest_fixtures", ROOT / "tests/fixtures/ingest/make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MOD = _fixtures()


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kobo")
    paths = MOD.make_all(folder)
    paths["codebook"] = from_xlsform(paths["form"]).write(folder / "wellbeing.yml")
    paths["children_codebook"] = from_xlsform(paths["form"], repeat="children").write(folder / "children.yml")
    paths["folder"] = folder
    return paths


@pytest.fixture(scope="module")
def xml(fx):
    return load(fx["csv"], fx["codebook"])


def _frame(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(object).where(df.notna(), None)


def test_xml_values_csv_with_semicolons_groups_and_metadata(fx, xml):
    df = xml
    assert load_info(df).format == "kobo-csv"
    assert list(df["resp_code"]) == [f"R000{k}" for k in range(1, 9)]
    assert not [c for c in df.columns if c.startswith("_") or "/" in c]        # metadata dropped, prefixes gone
    # Arabic-Indic digits in a numeric field
    assert df.loc[1, "age"] == 41 and df.loc[6, "age"] == 38
    # codes, missing codes with reasons
    assert df["safe"].tolist() == [4, 2, 5, 1, 3, 4, 2, 5]
    assert pd.isna(df.loc[1, "family"]) and pd.isna(df.loc[4, "respect"])
    reasons = missing_reasons(df, ["family", "respect", "visits"])
    assert reasons.loc[1, "family"] == "dont_know" and reasons.loc[4, "respect"] == "refused"
    # string choice names mapped to codes (never..often = 1..4, dk = 8 -> missing)
    assert df.loc[0, "visits"] == 4 and pd.isna(df.loc[4, "visits"]) and reasons.loc[4, "visits"] == "dont_know"
    assert df["first_time"].tolist() == [1, 0, 1, 0, 1, 0, 1, 0]
    # select_multiple: one 0/1 column per choice, blank answer stays blank
    assert df.loc[2, ["services__work", "services__legal", "services__health", "services__education"]].tolist() \
        == [1, 1, 1, 0]
    assert df.loc[3, "services__none"] == 1 and df.loc[3, "services__health"] == 0
    assert df.loc[6, [c for c in df.columns if c.startswith("services__")]].isna().all()
    assert df["hours_out"].tolist() == [2.5, 1.0, 4.0, 0.5, 6.0, 3.0, 1.5, 8.0]
    assert pd.isna(df.loc[0, "months_served"]) and df.loc[3, "months_served"] == 96
    # start/end with UTC offsets -> local time of the interview
    assert df.loc[0, "start"] == pd.Timestamp("2024-06-12 10:05:00")
    assert df.loc[2, "end"] == pd.Timestamp("2024-06-13 10:41:00")
    assert df.loc[0, "interview_date"] == pd.Timestamp("2024-06-12")


def test_comma_csv_and_xlsx_exports_give_the_same_frame(fx, xml):
    comma = load(fx["csv_comma"], fx["codebook"])
    pd.testing.assert_frame_equal(_frame(comma), _frame(xml))
    book = load(fx["xlsx"], fx["codebook"])
    assert load_info(book).format == "kobo-xlsx"
    pd.testing.assert_frame_equal(_frame(book), _frame(xml))


@pytest.mark.parametrize("lang", ["fr", "ar", "ru", "en"])
def test_labels_exports_in_every_language_map_back_to_codes(fx, xml, lang, tmp_path):
    path = fx["csv_labels_fr"] if lang == "fr" else MOD.kobo_csv(tmp_path / f"labels_{lang}.csv", labels=lang)
    with open(path, encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh, delimiter=";"))
    assert "resp_code" not in header                       # the headers really are labels
    df = load(path, fx["codebook"])
    pd.testing.assert_frame_equal(_frame(df), _frame(xml))


def test_unmatched_labels_are_reported(fx, tmp_path):
    raw = pd.read_csv(fx["csv_labels_fr"], sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    col = next(c for c in raw.columns if c.endswith("/Je me sens en sécurité dans cet établissement."))
    raw.loc[2, col] = "Peut-être"
    raw.loc[5, col] = "Plutôt d'accord"   # fine
    path = tmp_path / "bad_labels.csv"
    raw.to_csv(path, sep=";", index=False, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load(path, fx["codebook"])
    p = info.value.problems
    row = p[p["column"] == "safe"].iloc[0]
    assert row["rows"] == [4] and "'Peut-être'" in row["problem"] and "en, fr, ar, ru" in row["problem"]
    assert len(p[p["severity"] == "error"]) == 1
    flagged = load(path, fx["codebook"], on_error="flag")
    assert pd.isna(flagged.loc[2, "safe"]) and flagged.loc[5, "safe"] == 4


def test_select_multiple_as_single_or_split_columns(fx, xml, tmp_path):
    raw = pd.read_csv(fx["csv"], sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    split_cols = [c for c in raw.columns if c.startswith("life/services/")]
    single = tmp_path / "single.csv"
    raw.drop(columns=split_cols).to_csv(single, sep=";", index=False)
    pd.testing.assert_frame_equal(_frame(load(single, fx["codebook"])), _frame(xml))
    split = tmp_path / "split.csv"
    raw.drop(columns=["life/services"]).to_csv(split, sep=";", index=False)
    pd.testing.assert_frame_equal(_frame(load(split, fx["codebook"])), _frame(xml))
    # an answer naming a choice that is not in the form
    raw2 = raw.drop(columns=split_cols)
    raw2.loc[1, "life/services"] = "religious sport"
    bad = tmp_path / "bad_choice.csv"
    raw2.to_csv(bad, sep=";", index=False)
    with pytest.raises(DataError, match=r"choices that are not in the codebook: 'religious sport'") as info:
        load(bad, fx["codebook"])
    assert info.value.problems.iloc[0]["rows"] == [3]


def test_metadata_kept_with_unknown_keep(fx):
    df = load(fx["csv"], fx["codebook"], unknown="keep")
    for c in ("_uuid", "_submission_time", "_id", "_index", "__version__", "_submitted_by"):
        assert c in df.columns
    assert df.loc[0, "_uuid"].startswith("6f1c2d3e")
    assert is_metadata("_validation_status") and is_metadata("meta/instanceID") and is_metadata("KEY")
    assert not is_metadata("age")


def test_repeat_sheet_links_to_parent(fx):
    kids = load(fx["xlsx"], fx["children_codebook"], sheet="children")
    assert list(kids.columns[:2]) == ["index", "parent_index"]
    assert kids["child_age"].tolist() == [7, 12, 3, 25, 22, 19, 10, 35]
    assert kids["parent_index"].tolist() == [1, 1, 3, 4, 4, 4, 6, 8]
    assert kids["resp_code"].tolist() == ["R0001", "R0001", "R0003", "R0004", "R0004", "R0004", "R0006", "R0008"]
    assert kids["child_visits"].tolist() == [1, 0, 1, 0, 1, 0, 0, 0]


def test_validation_still_applies(fx, tmp_path):
    raw = pd.read_csv(fx["csv"], sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw.loc[3, "background/age"] = "17"
    raw.loc[4, "life/safe"] = "6"
    raw.loc[5, "resp_code"] = "R0001"
    path = tmp_path / "invalid.csv"
    raw.to_csv(path, sep=";", index=False)
    with pytest.raises(DataError) as info:
        load(path, fx["codebook"])
    p = info.value.problems.set_index("column")
    assert p.loc["age", "rows"] == [5] and "outside the allowed range [18, 90]" in p.loc["age", "problem"]
    assert p.loc["safe", "rows"] == [6]
    assert p.loc["resp_code", "rows"] == [2, 7]


def test_detection_and_explicit_source(fx, tmp_path):
    cb = load_codebook(fx["codebook"])
    raw = pd.read_csv(fx["csv"], sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "_uuid" in detect(list(raw.columns), cb)
    no_meta = raw[[c for c in raw.columns if not c.startswith("_")]]
    assert "group-prefixed" in detect(list(no_meta.columns), cb)
    path = tmp_path / "no_meta.csv"
    no_meta.to_csv(path, index=False)
    auto = load(path, cb, unknown="drop")
    assert auto["safe"].tolist() == [4, 2, 5, 1, 3, 4, 2, 5]
    with pytest.raises(DataError, match="background/age"):
        load(path, cb, source="file")
    assert load(path, cb, source="kobo")["age"].tolist()[:2] == [34, 41]
    with pytest.raises(ValueError, match="source="):
        load(path, cb, source="qualtrics")
    plain = tmp_path / "plain.csv"
    pd.DataFrame({"resp_code": ["R0001"], "age": [30]}).to_csv(plain, index=False)
    assert detect(["resp_code", "age"], cb) is None


def test_odk_central_style_export(fx, tmp_path):
    raw = pd.read_csv(fx["csv"], sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw = raw[[c for c in raw.columns if not c.startswith("_")]]
    raw.columns = [c.replace("/", "-", 1) if c.startswith(("background/", "life/")) else c for c in raw.columns]
    raw["KEY"] = [f"uuid:{k}" for k in range(len(raw))]
    raw["SubmissionDate"] = "2024-06-20T10:00:00.000Z"
    path = tmp_path / "central.csv"
    raw.to_csv(path, index=False)
    df = load(path, fx["codebook"])
    assert df["safe"].tolist() == [4, 2, 5, 1, 3, 4, 2, 5] and "KEY" not in df.columns
    assert df.loc[2, "services__legal"] == 1


# --------------------------------------------------------------------------- push/pull fielded through Kobo


@pytest.fixture(scope="module")
def push_pull(tmp_path_factory):
    """The push/pull instrument converted to XLSForm and back, and a simulated Kobo export of 25 interviews."""
    from veplab.privacy import pseudonym

    folder = tmp_path_factory.mktemp("pp")
    form = folder / "push_pull.xlsx"
    to_xlsform(ROOT / "surveys/push_pull.yml", form)
    cb_path = from_xlsform(form).write(folder / "push_pull.yml")
    cb = load_codebook(cb_path)
    rng = np.random.default_rng(20240612)
    key = bytes(range(32))
    rows = []
    for k in range(25):
        rec: dict[str, object] = {}
        for item in cb.items:
            if item.id == "respondent_id":
                rec[item.id] = pseudonym(f"case-{k}", key)
            elif item.type == "date":
                rec[item.id] = f"2024-05-{1 + k % 28:02d}"
            elif item.type == "text":
                rec[item.id] = f"{['KZ', 'TN', 'UG'][k % 3]}-P{k % 7:02d}"
            elif item.type == "numeric":
                rec[item.id] = str(int(rng.integers(0, 10)))
            else:
                codes = list(item.codes) + (list(item.missing) if rng.random() < 0.15 else [])
                rec[item.id] = str(int(rng.choice(codes)))
        rows.append(rec)
    return {"form": form, "codebook": cb, "rows": rows, "folder": folder}


def _pp_export(pp, path: Path, *, labels: str | None = None, delimiter: str = ",") -> Path:
    cb = pp["codebook"]
    header = []
    for item in cb.items:
        header.append(item.label[labels] if labels else item.id)
    header += ["_id", "_uuid", "_submission_time", "_index"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        for k, rec in enumerate(pp["rows"]):
            out = []
            for item in cb.items:
                v = rec[item.id]
                if labels and item.type in ("likert", "ordinal", "binary", "categorical"):
                    code = int(v)
                    v = item.options[code].get(labels) if code in item.options else \
                        REASON_LABELS[item.missing[code]][labels]
                out.append(v)
            w.writerow(out + [5000 + k, f"0b9e{k:028x}", "2024-05-30T12:00:00", k + 1])
    return path


def test_push_pull_kobo_export_loads_and_validates(push_pull):
    cb = push_pull["codebook"]
    assert cb.id == "push_pull_v1" and len(cb.scales) == len(load_codebook(ROOT / "surveys/push_pull.yml").scales)
    xml_path = _pp_export(push_pull, push_pull["folder"] / "pp_xml.csv", delimiter=";")
    df = load(xml_path, cb)
    assert len(df) == 25 and "grievance" in df.columns           # scales scored as for any export
    first = push_pull["rows"][0]
    item = cb.item("pp_grievance_1")
    v = int(first["pp_grievance_1"])
    assert (df.loc[0, "pp_grievance_1"] == v) if v in item.options else pd.isna(df.loc[0, "pp_grievance_1"])
    for lang in ("ar", "ru", "fr"):
        lab = load(_pp_export(push_pull, push_pull["folder"] / f"pp_{lang}.csv", labels=lang), cb)
        pd.testing.assert_frame_equal(_frame(lab), _frame(df))
        pd.testing.assert_frame_equal(missing_reasons(lab), missing_reasons(df))


def test_data_does_not_import_ingest() -> None:
    """The dependency runs one way: ingest builds on data, data never imports ingest."""
    import subprocess
    import sys

    code = "import sys, veplab.data, veplab.data.kobo; print(sorted(m for m in sys.modules if m.startswith('veplab.ingest')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
