"""veplab.analyses: the study design contract (study.yml analyses:), its validation and defaults."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veplab.analyses import (
    ANALYSES,
    AnalysisError,
    check_analyses,
    describe,
    resolve,
    resolve_all,
)
from veplab.study import StudyError, load_study

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def centre_a(tmp_path_factory) -> Path:
    from _studies import three_assessors

    return three_assessors(tmp_path_factory.mktemp("centre_a"))


def _with(study: Path, tmp_path: Path, **changes) -> Path:
    """A copy of ``study`` whose study.yml has ``changes`` applied (None deletes a key)."""
    target = tmp_path / "research" / study.name
    (tmp_path / "surveys").mkdir(exist_ok=True)
    shutil.copytree(study, target)
    config = yaml.safe_load((target / "study.yml").read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (target / "study.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return target


def test_demo_declaration_resolves_with_defaults_from_codebooks():
    study = load_study(ROOT / "research" / "demo")
    resolved, problems = resolve_all(study)
    assert problems == []
    assert list(resolved) == ["overview", "data_quality", "reliability", "validity", "push_pull", "outcomes"]
    pp = resolved["push_pull"]
    assert pp["outcome"] == "violence_endorsement"  # the one scale with domain: outcome
    assert pp["domains"][:3] == ["grievance", "identity", "ideology"] and "violence_endorsement" not in pp["domains"]
    assert pp["cluster"] == "prison_id" and pp["cut"] == 3.0  # midpoint of 1..5
    assert pp["facility"]["key"] == "prison_id"  # design.cluster
    rel = resolved["reliability"]["ratings"]
    assert (rel["subject"], rel["rater"], rel["judgement"]) == ("case_id", "rater", "final_judgement")
    fu = resolved["outcomes"]["followup"]
    assert (fu["time"], fu["event"], fu["horizon"]) == ("time_days", "rearrested", 730)  # codebook's survival:
    pred = resolved["validity"]["prediction"]  # prediction over time: the outcome's follow-up from the codebook
    assert (pred["time"], pred["status"], pred["horizon"]) == ("time_days", "followup_end", 730)
    assert "over_time" not in resolved["validity"].skipped
    assert resolved["outcomes"]["prepost"]["pre"] == 1 and resolved["outcomes"]["prepost"]["post"] == 2
    assert [n["name"] for n in study.notebooks] == list(resolved)


def test_non_demo_study_defaults_and_reasons(centre_a):
    study = load_study(centre_a)
    resolved, problems = resolve_all(study)
    assert problems == []
    pp = resolved["push_pull"]
    assert (pp["outcome"], pp["domains"], pp["breakdowns"]) == ("support_violence", ["hardship", "belonging"],
                                                                 ["sex", "age_group"])
    assert not pp.runs("facility") and "facility" in pp.why_not("facility")
    assert not pp.runs("typology") and not pp.runs("compare")
    assert all(not any(ch.isdigit() for ch in s) for s in pp.skipped.values())  # shown on pages: no digits
    v = resolved["validity"]
    assert v["scales"] == ["hardship", "belonging", "support_violence"]
    assert v["invariance_by"] == ["sex", "age_group"]  # design.breakdowns
    assert v["prediction"]["outcome"] == "new_offence"  # the codebook's one yes/no outcome item
    assert v["prediction"]["score_source"] == "ratings"
    assert v["prediction"]["time"] is None and "follow-up time" in v.why_not("over_time")
    assert resolved["overview"]["breakdowns"] == {"survey": ["sex", "age_group"], "ratings": [], "followup": []}


@pytest.mark.parametrize("analyses, message", [
    ({"overveiw": {}}, "unknown analysis 'overveiw'; did you mean 'overview'?"),
    ({"reliability": {"n_bootstrap": 100}}, "unknown key 'n_bootstrap'; did you mean 'n_boot'?"),
    ({"reliability": {"n_boot": "many"}}, "analyses.reliability.n_boot: must be a whole number"),
    ({"overview": {"sources": ["survey", "surveys"]}}, "no source 'surveys'; did you mean 'survey'?"),
    ({"validity": {"scales": ["hardship"]}}, "analyses.validity.source: is required"),
    ({"push_pull": {"source": "survey", "facility": {"key": "facility"}}},
     "analyses.push_pull.facility.source: is required"),
    ({"push_pull": {"source": "survey", "facility": {"source": "followup", "predictors": {"x": "__import__('os')"}}}},
     "must be arithmetic"),
    ({"validity": {"source": "survey", "missing": "pairwise"}}, "must be one of ml, listwise"),
])
def test_structural_mistakes_are_errors_at_load(centre_a, tmp_path, analyses, message):
    folder = _with(centre_a, tmp_path, analyses=analyses)
    with pytest.raises(StudyError) as err:
        load_study(folder)
    assert message in str(err.value)
    assert "study.yml" in str(err.value)


@pytest.mark.parametrize("analyses, message", [
    ({"push_pull": {"source": "survey", "outcome": "support_violance"}},
     "source 'survey' has no scale 'support_violance'; did you mean 'support_violence'?"),
    ({"validity": {"source": "survey", "invariance_by": ["gender"]}}, "has no column 'gender'"),
    ({"validity": {"source": "survey", "prediction": {"source": "followup", "score": "overall_risk"}}},
     "analyses.validity.prediction.join: is required"),
    ({"push_pull": {"source": "ratings"}}, "analyses.push_pull.outcome: is required"),
    ({"outcomes": {"prepost": {"source": "survey", "id": "resp_code"}}}, "analyses.outcomes.prepost.wave: is required"),
    ({"outcomes": {"followup": {"source": "followup"}}}, "analyses.outcomes.followup.time: is required"),
])
def test_codebook_mistakes_are_errors_at_validate_and_build(centre_a, tmp_path, analyses, message):
    folder = _with(centre_a, tmp_path, analyses=analyses)
    study = load_study(folder)  # structure is fine
    problems = check_analyses(study)
    assert any(message in p for p in problems), problems
    with pytest.raises(AnalysisError, match="analyses"):
        resolve(study, next(iter(analyses)))
    from veplab.build import BuildError, build

    with pytest.raises(BuildError, match="cannot run as declared"):
        build(folder, notebooks_dir=ROOT / "notebooks", reports=tmp_path / "reports")


def test_misspelt_notebook_parameter_is_an_error(centre_a, tmp_path):
    from veplab.build import BuildError, build

    folder = _with(centre_a, tmp_path, analyses={"overview": {}},
                   notebooks=[{"name": "data_quality", "parameters": {"lnag": "fr"}}])
    with pytest.raises(BuildError, match="has no parameter 'lnag'; did you mean 'lang'?"):
        build(folder, notebooks_dir=ROOT / "notebooks", reports=tmp_path / "reports")


def test_a_notebook_cannot_be_declared_twice(centre_a, tmp_path):
    folder = _with(centre_a, tmp_path, analyses={"overview": {}}, notebooks=["overview"])
    with pytest.raises(StudyError, match="listed twice"):
        load_study(folder)


def test_describe_lists_every_analysis_and_key():
    text = describe()
    md = describe(markdown=True)
    for a in ANALYSES.values():
        assert f"{a.name}: {a.title}" in text and f"#### `{a.name}`" in md
        for key in a.keys:
            assert f"`{key.name}`" in md
            for sub in key.keys:
                assert f"`{sub.name}`" in md


_names = st.sampled_from(["overview", "validity", "push_pull", "outcomes", "reliability", "data_quality", "x"])
_leaf = st.sampled_from(["survey", "ratings", "followup", "hardship", "facility", "case_ref", "overall_risk"])
_values = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=6) | _leaf
                       | st.lists(_leaf, max_size=3)
                       | st.fixed_dictionaries({"source": _leaf}, optional={"score": _leaf, "join": _leaf}),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                   max_size=3), max_leaves=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_names, st.dictionaries(st.sampled_from(
    ["source", "sources", "scales", "outcome", "prediction", "facility", "n_boot", "join", "k"]), _values,
    max_size=3), max_size=3))
def test_any_declaration_gives_problems_or_resolves_never_a_crash(centre_a, analyses):
    study = load_study(centre_a)
    from veplab.analyses import check_structure

    problems = check_structure(study, analyses, "study.yml")
    assert all(p.startswith("study.yml: analyses") for p in problems)
    if not problems:
        study = type(study)(**{**study.__dict__, "raw": {**study.raw, "analyses": analyses}})
        resolved, problems = resolve_all(study)
        assert all("analyses." in p and "Error:" not in p for p in problems), problems
