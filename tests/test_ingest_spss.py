"""A codebook draft from an SPSS .sav dictionary (value labels and user-missing values in EN/FR/RU/AR)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from veplab.cli import app
from veplab.codebook import load as load_codebook
from veplab.data import DataError, load
from veplab.ingest._common import codebook_to_dict
from veplab.ingest.spss import from_sav

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def sav(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("ingest_fixtures", ROOT / "tests/fixtures/ingest/make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.spss_file(tmp_path_factory.mktemp("sav") / "wellbeing_pilot.sav")


def test_types_missing_codes_and_labels(sav):
    draft = from_sav(sav)
    cb = draft.codebook
    assert cb.id == "wellbeing_pilot" and cb.title["en"] == "Prison wellbeing pilot (fake data)"
    assert cb.id_column == "case_no" and cb.item("case_no").role == "admin"
    # agree/disagree value labels in four languages -> likert; user-missing -> missing with reasons
    safe = cb.item("q_safe")
    assert safe.type == "likert" and safe.codes == (1, 2, 3, 4, 5)
    assert dict(safe.missing) == {8: "dont_know", 9: "refused"}
    assert cb.item("q_confiance").type == "likert"
    assert dict(cb.item("q_confiance").missing) == {98: "dont_know", 99: "refused"}      # range 98..99, French
    assert cb.item("q_confiance").option_text(5) == "Tout à fait d'accord"
    dov = cb.item("q_doverie")
    assert dov.type == "likert" and dict(dov.missing) == {98: "dont_know", 99: "refused"}  # Russian
    assert dov.label["ru"] == "Я доверяю администрации" and dov.option_text(5, "ru") == "Полностью согласен"
    amn = cb.item("q_amn")                                                             # Arabic, range 97..99
    assert amn.type == "likert" and dict(amn.missing) == {97: "not_applicable", 98: "dont_know", 99: "refused"}
    assert amn.label["ar"] == "أشعر بالأمان في هذا السجن" and amn.option_text(4, "ar") == "أوافق"
    # other shapes
    assert cb.item("visits").type == "ordinal" and cb.item("visits").codes == (1, 2, 3, 4)
    assert cb.item("released").type == "binary"
    assert cb.item("sex").type == "categorical" and cb.item("sex").role == "quasi_identifier"
    age = cb.item("age")
    assert age.type == "numeric" and age.integer and dict(age.missing) == {999: "refused"}
    assert cb.item("interview_date").type == "date"
    assert cb.item("remarks").type == "text" and cb.item("remarks").role == "item"
    # roles
    assert cb.item("full_name").role == "identifier"
    text = "\n".join(draft.warnings)
    assert "'full_name' looks like a direct identifier" in text
    assert "'case_no' looks like an id" in text and "pseudonymised: true" in text
    assert "Arabic and Cyrillic" in text


def test_draft_yaml_loads_and_data_loads_through_it(sav, tmp_path):
    draft = from_sav(sav)
    out = draft.write(tmp_path / "pilot.yml", str(sav))
    cb = load_codebook(out)
    assert codebook_to_dict(cb) == draft.data
    assert out.read_text(encoding="utf-8").startswith("# veplab codebook DRAFT")
    # the identifier is refused by the privacy gate until it is dropped from the data
    with pytest.raises(DataError, match="full_name"):
        load(sav, cb)
    raw = yaml.safe_load(out.read_text(encoding="utf-8"))
    raw["items"] = [i for i in raw["items"] if i["id"] != "full_name"]
    (tmp_path / "pilot2.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    df = load(sav, tmp_path / "pilot2.yml", unknown="drop")
    assert df["q_safe"].tolist()[:2] == [4, 2] and pd.isna(df.loc[2, "q_safe"])
    assert pd.isna(df.loc[2, "age"]) and df.loc[1, "age"] == 41
    assert (df.loc[1, "remarks"], df.loc[3, "remarks"], df.loc[5, "remarks"]) == ("calme", "спокоен", "هادئ")


def test_cli_from_sav(sav, tmp_path):
    res = runner.invoke(app, ["codebook", "from-sav", str(sav)])
    assert res.exit_code == 0, res.output
    assert "id: wellbeing_pilot" in res.stdout and "أشعر بالأمان" in res.stdout
    out = tmp_path / "draft.yml"
    res = runner.invoke(app, ["codebook", "from-sav", str(sav), "--out", str(out), "--id", "pilot_v1",
                              "--id-column", "case_no"])
    assert res.exit_code == 0, res.output
    assert load_codebook(out).id == "pilot_v1"
    junk = tmp_path / "junk.sav"
    junk.write_bytes(b"not spss")
    res = runner.invoke(app, ["codebook", "from-sav", str(junk)])
    assert res.exit_code == 1 and "cannot be read as an SPSS" in res.output
    res = runner.invoke(app, ["codebook", "from-sav", str(sav), "--id-column", "nope"])
    assert res.exit_code == 1 and "not a variable" in res.output
