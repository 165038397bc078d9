"""``veplab new``: a study folder from a research centre's own form (and export) that loads, resolves,
validates and builds; ``veplab validate`` lists every problem it counts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from veplab.ingest.xlsform import write_sheets
from typer.testing import CliRunner

from veplab.analyses import resolve_all
from veplab.cli import app
from veplab.codebook import load as load_codebook
from veplab.data import DataError, load
from veplab.scaffold import ScaffoldError, new_study
from veplab.study import load_study

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner(env={"COLUMNS": "200"})
EN = "label::English (en)"
AGREE = [(1, "Strongly disagree"), (2, "Disagree"), (3, "Neither agree nor disagree"), (4, "Agree"),
         (5, "Strongly agree")]


def _form(path: Path, *, scales: bool = True, id_field: str | None = None) -> Path:
    """A centre's form: prison code, country, sex, age group, two groups scored as push and pull scales
    and an outcome scale (or, without scales, two plain questions).  Invented wording."""
    survey = [{"type": "start", "name": "start"}, {"type": "deviceid", "name": "deviceid"}]
    if id_field:
        survey.append({"type": "text", "name": id_field, EN: "Questionnaire number"})
    survey += [
        {"type": "select_one prisons", "name": "prison", EN: "Prison code"},
        {"type": "select_one countries", "name": "country", EN: "Country"},
        {"type": "select_one sexes", "name": "sex", EN: "Sex"},
        {"type": "select_one ages", "name": "age_group", EN: "Age group", "veplab::type": "ordinal"},
    ]
    if scales:
        for sid, dom in (("strain", "push"), ("ties", "pull")):
            survey.append({"type": "begin_group", "name": sid, EN: sid.title(), "veplab::scale": sid,
                           "veplab::domain": dom})
            survey += [{"type": "select_one agree", "name": f"{sid}_{k}", EN: f"{sid} statement {k}"}
                       for k in range(1, 4)]
            survey.append({"type": "end_group"})
        survey += [{"type": "select_one agree", "name": f"endorse_{k}", EN: f"Endorsement statement {k}",
                    "veplab::scale": "endorse"} for k in range(1, 4)]
    else:
        survey += [{"type": "select_one agree", "name": "q1", EN: "Statement one"},
                   {"type": "integer", "name": "visits", EN: "Visits last month", "constraint": ". >= 0"}]
    choices = ([{"list_name": "prisons", "name": str(k), EN: f"Prison {k}"} for k in range(1, 5)]
               + [{"list_name": "countries", "name": "1", EN: "Country A"},
                  {"list_name": "countries", "name": "2", EN: "Country B"}]
               + [{"list_name": "sexes", "name": "1", EN: "Man"}, {"list_name": "sexes", "name": "2", EN: "Woman"}]
               + [{"list_name": "ages", "name": str(k), EN: t} for k, t in ((1, "18-29"), (2, "30-44"), (3, "45+"))]
               + [{"list_name": "agree", "name": str(c), EN: t} for c, t in AGREE])
    sheets = {"survey": survey, "choices": choices,
              "settings": [{"form_title": "Centre survey (synthetic)", "form_id": "centre_survey"}]}
    if scales:
        sheets["veplab_scales"] = [{"id": "endorse", EN: "Endorsement of violence", "items": "",
                                    "domain": "outcome", "min_items": 2}]
    return write_sheets(path, sheets)


def _export(path: Path, n: int = 120, *, scales: bool = True, id_field: str | None = None, seed: int = 5) -> Path:
    """A Kobo-style export of :func:`_form` (group prefixes, metadata, one country)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"start": "2025-02-03T10:00:00.000+01:00", "deviceid": "collect:abc",
                       "prison": rng.integers(1, 5, n), "country": 1, "sex": rng.choice([1, 2], n, p=[0.75, 0.25]),
                       "age_group": rng.integers(1, 4, n)})
    if id_field:
        df.insert(2, id_field, [f"Q{i % (n // 2):03d}" for i in range(n)])  # every number twice
    if scales:
        latent = rng.normal(size=n)
        for sid in ("strain", "ties"):
            for k in range(1, 4):
                df[f"{sid}/{sid}_{k}"] = np.clip(np.round(3 + latent + rng.normal(size=n)), 1, 5).astype(int)
        for k in range(1, 4):
            df[f"endorse_{k}"] = np.clip(np.round(2 + 0.5 * latent + rng.normal(size=n)), 1, 5).astype(int)
    else:
        df["q1"] = rng.integers(1, 6, n)
        df["visits"] = rng.integers(0, 5, n)
    df["_uuid"] = [f"0c5e2f4a-1b2c-4d3e-8f9a-{i:012x}" for i in range(n)]
    df["_id"] = np.arange(n) + 100
    df["_submission_time"] = "2025-02-03T12:00:00"
    df["_submitted_by"] = "enumerator1"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def project(tmp_path):
    (tmp_path / "surveys").mkdir()
    return tmp_path


def test_new_study_infers_design_and_analyses(project):
    form = _form(project / "centre_form.xlsx")
    made = new_study(project / "research" / "centre_y", form, _export(project / "export.csv"))
    # design: the prison code is the cluster; one country in the export, so no country breakdown
    assert made.design == {"cluster": "prison", "breakdowns": ["sex", "age_group"]}
    assert "design.breakdowns: country left out (the export holds one country)" in made.inferred
    assert made.analyses == ("overview", "data_quality", "reliability", "validity", "push_pull")
    cb = load_codebook(made.codebook)
    assert cb.item("sex").role == cb.item("age_group").role == "quasi_identifier"  # demographics marked
    assert cb.scale("strain").domain == "push" and cb.scale("endorse").items == ("endorse_1", "endorse_2",
                                                                                 "endorse_3")
    assert made.form.read_bytes() == form.read_bytes() and made.data.is_file()
    text = made.study_yml.read_text(encoding="utf-8")
    assert "# TODO rater agreement" in text and "disclosure: {threshold: 10}" in text
    study = load_study(made.folder)
    assert study.id == "centre_y" and study.languages == ("en",) and study.threshold == 10
    assert study.sources["survey"].path == (made.data).resolve()
    resolved, problems = resolve_all(study)
    assert problems == []
    assert resolved["push_pull"]["outcome"] == "endorse" and resolved["push_pull"]["domains"] == ["strain", "ties"]
    assert resolved["push_pull"]["cluster"] == "prison"
    df = study.load_source("survey")
    assert len(df) == 120 and "deviceid" not in df.columns and df["uuid"].is_unique
    # without an export: the same design, but the country stays and the data line is a TODO
    other = new_study(project / "research" / "centre_z", form)
    assert other.design["breakdowns"] == ["country", "sex", "age_group"] and other.data is None
    assert "# TODO: put the export in data/" in other.study_yml.read_text(encoding="utf-8")
    assert resolve_all(load_study(other.folder))[1] == []


def test_new_refuses_to_overwrite_and_names_bad_inputs(project):
    form = _form(project / "f.xlsx", scales=False)
    new_study(project / "research" / "one", form)
    before = (project / "research" / "one" / "study.yml").read_text()
    with pytest.raises(ScaffoldError, match="already exists and is not empty"):
        new_study(project / "research" / "one", form)
    assert (project / "research" / "one" / "study.yml").read_text() == before
    with pytest.raises(ScaffoldError, match="form .*missing.xlsx not found"):
        new_study(project / "research" / "two", project / "missing.xlsx")
    with pytest.raises(ScaffoldError, match="export .*none.csv not found"):
        new_study(project / "research" / "two", form, project / "none.csv")
    with pytest.raises(ScaffoldError, match="folder name 'bad name!'"):
        new_study(project / "research" / "bad name!", form)
    assert not (project / "research" / "two").exists()
    made = new_study(project / "research" / "two", form)  # no scales: overview and data_quality only
    assert made.analyses == ("overview", "data_quality") and "design.cluster" not in " ".join(made.todo)
    assert "# reliability: {}" in made.study_yml.read_text()


def test_guessed_id_column_is_never_a_non_unique_column(project):
    """A field guessed as the id column (from its name) that repeats in the export is replaced by Kobo's
    _uuid; loading with the guessed column says it was guessed."""
    form = _form(project / "f.xlsx", scales=False, id_field="resp_no")
    export = _export(project / "e.csv", scales=False, id_field="resp_no")
    made = new_study(project / "research" / "ids", form, export)
    assert load_codebook(made.codebook).id_column == "uuid"
    assert any("'resp_no', guessed from its name, holds a value more than once" in i for i in made.inferred)
    from veplab.ingest.xlsform import from_xlsform

    guessed = from_xlsform(form, check_with_pyxform=False).codebook
    assert guessed.id_column == "resp_no"
    with pytest.raises(DataError) as info:
        load(export, guessed)
    row = info.value.problems.query("column == 'resp_no'").iloc[0]
    assert "60 ids appear more than once (120 records)" in row["problem"]
    assert "was guessed from its name" in row["problem"] and "uuid" in row["fix"]


def test_cli_new_validates_then_the_study_builds(project):
    """`veplab new --data` runs a first validate and prints the next steps; `veplab build` builds it."""
    os.symlink(ROOT / "notebooks", project / "notebooks")
    form = _form(project / "f.xlsx", scales=False)
    export = _export(project / "export.csv", n=60, scales=False)
    study = project / "research" / "quick"
    res = runner.invoke(app, ["new", str(study), "--form", str(form), "--data", str(export)])
    assert res.exit_code == 0, res.output
    for expected in ("inferred: design.cluster: prison", "first validate", "load cleanly", "next:",
                     f"veplab build {study}"):
        assert expected in res.output, expected
    res = runner.invoke(app, ["new", str(study), "--form", str(form)])
    assert res.exit_code == 1 and "already exists" in res.output
    res = runner.invoke(app, ["build", str(study), "--no-pdf", "-j", "2"])
    assert res.exit_code == 0, res.output
    report = project / "reports" / "quick"
    assert {"overview.html", "data_quality.html", "index.html"} <= {p.name for p in report.iterdir()}


def test_validate_lists_every_warning_and_the_dropped_columns(project):
    """on_error: flag and unknown: drop never hide problems: each counted problem is listed with its
    column, and the dropped columns are named."""
    study = project / "research" / "flags"
    (study / "data").mkdir(parents=True)
    cb = {"id": "flags_v1", "title": {"en": "Flags"}, "id_column": "rid", "items": [
        {"id": "rid", "label": {"en": "Id"}, "type": "text", "role": "admin"},
        {"id": "q1", "label": {"en": "Q1"}, "type": "likert",
         "options": {k: {"en": t} for k, t in AGREE}},
        {"id": "n", "label": {"en": "N"}, "type": "numeric", "min": 0, "max": 10}]}
    (study / "flags.yml").write_text(yaml.safe_dump(cb), encoding="utf-8")
    pd.DataFrame({"rid": [f"R{i}" for i in range(12)], "q1": [1, 2, 3, 4, 5, 7] * 2, "n": [0, 3, 11] * 4,
                  "scratch": "x", "notes_col": "y"}).to_csv(study / "data" / "flags.csv", index=False)
    (study / "study.yml").write_text(yaml.safe_dump({
        "id": "flags", "sources": {"s": {"path": "data/flags.csv", "codebook": "flags.yml", "on_error": "flag",
                                         "unknown": "drop"}}}), encoding="utf-8")
    res = runner.invoke(app, ["validate", str(study)])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "1 warning and 2 errors flagged (on_error: flag: the invalid cells were set to missing)" in out
    assert "2 columns not in codebook 'flags_v1' dropped (unknown: drop): 'scratch', 'notes_col'" in out
    assert "2 values outside the codebook options {1,2,3,4,5} (found [7])" in out
    assert "4 values outside the allowed range [0, 10]" in out
