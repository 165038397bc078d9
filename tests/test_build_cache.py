"""veplab build reruns only what changed: each notebook's sources, options, code and veplab's own
dependencies decide; the brief is re-rendered only when what it reads changed (issue 17).

The ``three_assessors`` study (tests/_studies.py), as built once (tests/conftest.py), gets a small
brief (drawn by a build that reuses every notebook); each test first settles it (a build that should
reuse everything), changes one thing, rebuilds, and checks which notebooks reran and why.  Its analyses read these sources:

=============  ===================================  =========================================
notebook       resolved options name                 data it reads
=============  ===================================  =========================================
overview       sources: [survey, ratings, followup]  survey, ratings, followup
data_quality   (every source)                        survey, ratings, followup
reliability    sources: [survey], ratings.source     survey, ratings
validity       source, prediction.source/score_src   survey, followup, ratings
push_pull      source                                survey
=============  ===================================  =========================================
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from veplab.build import (brief_inputs, brief_notebooks, build, dependency_lock, dependency_versions,
                          input_hashes, notebook_sources)
from veplab.study import load_study

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["overview", "data_quality", "reliability", "validity", "push_pull"]

BRIEF = {
    "title": {"en": "Centre A in brief (synthetic)"},
    "date": "2026-11-21",
    "key_messages": [{"en": "A synthetic message."}],
    "figures": [
        {"key": "push_pull.values.outcome_item_agree_share", "label": {"en": "Agree with violence"},
         "text": {"en": "{value} agreed."}},
        {"key": "validity.values.score_auc", "label": {"en": "AUC"}, "format": "number", "digits": 2,
         "text": {"en": "The AUC is {value}."}},
        {"key": "overview.values.survey_n", "format": "count", "label": {"en": "People surveyed"},
         "text": {"en": "{value} people answered."}},
    ],
}


class Study:
    """The module's study: its folder, report folder and a build that records its log."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.report = folder.parents[1] / "reports" / folder.name

    def build(self, **kw):
        log: list[str] = []
        kw.setdefault("jobs", 2)
        kw.setdefault("pdf", False)
        res = build(self.folder, log=log.append, notebooks_dir=ROOT / "notebooks", **kw)
        assert res.ok, ([r.error for r in res.failed], res.brief_error, res.leaks)
        res.log = log
        return res

    def settle(self):
        """Build until nothing is left to rerun (a test before may have left a change unbuilt)."""
        return self.build()

    def config(self) -> dict:
        return yaml.safe_load((self.folder / "study.yml").read_text(encoding="utf-8"))

    def write_config(self, cfg: dict) -> None:
        (self.folder / "study.yml").write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True),
                                               encoding="utf-8")


def statuses(res) -> dict[str, str]:
    return {r.name: r.status for r in res.runs}


def reasons(res) -> dict[str, str]:
    return {r.name: r.reason for r in res.runs}


@pytest.fixture(scope="module")
def study(three_assessors_built) -> Iterator[Study]:
    """The study as its first build (tests/conftest.py, shared with the tests that read it) left it,
    with a brief added: the brief is not part of a notebook's inputs, so only the brief is drawn."""
    first = three_assessors_built.info
    assert first["ok"], first["errors"]
    assert {n: tuple(v) for n, v in first["runs"].items()} == dict.fromkeys(NOTEBOOKS, ("ran",
                                                                                          "rerun: not run before"))
    with three_assessors_built.changed() as folder:
        s = Study(folder)
        assert not (s.report / "brief-en.html").exists()
        cfg = s.config()
        cfg["brief"] = BRIEF
        s.write_config(cfg)
        with_brief = s.build()
        assert statuses(with_brief) == dict.fromkeys(NOTEBOOKS, "cached")
        assert reasons(with_brief) == dict.fromkeys(NOTEBOOKS, "reused: inputs unchanged")
        assert with_brief.published and with_brief.brief_reason == "re-rendered: not rendered before"
        assert (s.report / "brief-en.html").is_file()
        yield s


def test_sources_each_notebook_reads(study):
    from veplab.analyses import resolve_all

    st = load_study(study.folder)
    resolved, problems = resolve_all(st)
    assert not problems
    assert {n: notebook_sources(st, resolved[n]) for n in NOTEBOOKS} == {
        "overview": ["survey", "ratings", "followup"], "data_quality": ["survey", "ratings", "followup"],
        "reliability": ["survey", "ratings"], "validity": ["survey", "ratings", "followup"],
        "push_pull": ["survey"]}
    assert notebook_sources(st, None) == ["survey", "ratings", "followup"]  # a notebook outside analyses:


def test_a_nothing_changed_nothing_reruns(study):
    study.settle()
    brief = study.report / "brief-en.html"
    before = (brief.read_bytes(), brief.stat().st_mtime_ns)
    t = time.perf_counter()
    res = study.build()
    seconds = time.perf_counter() - t
    assert statuses(res) == dict.fromkeys(NOTEBOOKS, "cached")
    assert reasons(res) == dict.fromkeys(NOTEBOOKS, "reused: inputs unchanged")
    assert [f"{n}: reused: inputs unchanged" for n in NOTEBOOKS] == res.log
    assert not res.published and res.brief_reason == ""        # nothing to publish: the report stands
    assert (brief.read_bytes(), brief.stat().st_mtime_ns) == before
    assert seconds < 5, seconds


def test_b_data_change_reruns_only_the_notebooks_reading_it(study):
    study.settle()
    path = study.folder / "data" / "followup.csv"
    lines = path.read_text().splitlines()
    case, outcome = lines[1].split(",")
    lines[1] = f"{case},{1 - int(outcome)}"                    # one case's outcome flipped
    path.write_text("\n".join(lines) + "\n")
    res = study.build()
    assert statuses(res) == {"overview": "ran", "data_quality": "ran", "reliability": "cached",
                             "validity": "ran", "push_pull": "cached"}
    for name in ("overview", "data_quality", "validity"):
        assert res.runs[NOTEBOOKS.index(name)].reason == "rerun: source 'followup' changed"
        assert f"{name}: rerun: source 'followup' changed" in res.log
    assert "reliability: reused: inputs unchanged" in res.log
    # the AUC moved: the brief, which cites validity, is drawn again and says why
    assert res.published and "results of 'validity' changed" in res.brief_reason
    assert any(m.startswith("brief: re-rendered:") and "'validity'" in m for m in res.log)
    manifest = json.loads((study.report / "manifest.json").read_text())
    assert manifest["notebooks"]["validity"]["reason"] == "rerun: source 'followup' changed"
    assert manifest["notebooks"]["push_pull"]["reason"] == "reused: inputs unchanged"


def test_c_one_option_reruns_only_its_notebook(study):
    study.settle()
    cfg = study.config()
    cfg["analyses"]["reliability"]["n_boot"] = cfg["analyses"]["reliability"]["n_boot"] + 10
    study.write_config(cfg)
    res = study.build()
    assert statuses(res) == {**dict.fromkeys(NOTEBOOKS, "cached"), "reliability": "ran"}
    assert res.runs[NOTEBOOKS.index("reliability")].reason == "rerun: analysis option 'n_boot' changed"


def _fake_dist(site: Path, name: str, version: str) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_d_unrelated_install_invalidates_nothing(study, tmp_path, monkeypatch):
    study.settle()
    deps = dependency_versions()
    _fake_dist(tmp_path / "site", "unrelated-tool", "1.2.3")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert dependency_lock()["unrelated-tool"] == "1.2.3"      # the environment sees it ...
    assert dependency_versions() == deps                       # ... veplab's dependencies do not change
    res = study.build()
    assert statuses(res) == dict.fromkeys(NOTEBOOKS, "cached") and not res.published


def test_e_declared_dependency_version_change_reruns_everything(study, tmp_path, monkeypatch):
    study.settle()
    real = dependency_versions()
    assert {"numpy", "scipy", "pandas", "papermill", "weasyprint"} <= set(real)        # direct, and extras
    assert "python-dateutil" in real                                                   # transitive (pandas)
    assert not {"pytest", "hypothesis", "unrelated-tool"} & set(real)                   # tooling: not a dependency
    _fake_dist(tmp_path / "site", "numpy", "0.0.1")           # first on sys.path: the numpy "installed"
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert dependency_versions()["numpy"] == "0.0.1"
    why = f"dependency numpy {real['numpy']} -> 0.0.1 changed"
    # run one notebook; the others' keys changed as well (they would rerun; --only skips them)
    res = study.build(only=["push_pull"])
    assert statuses(res) == {**dict.fromkeys(NOTEBOOKS, "skipped"), "push_pull": "ran"}
    assert reasons(res) == {**{n: f"skipped: not in --only (would rerun: {why})" for n in NOTEBOOKS},
                            "push_pull": f"rerun: {why}"}
    assert "the Python interpreter or veplab's dependencies changed" in res.brief_reason
    monkeypatch.undo()
    back = study.build()                                       # the real numpy again: only push_pull reruns
    assert statuses(back) == {**dict.fromkeys(NOTEBOOKS, "cached"), "push_pull": "ran"}
    assert reasons(back)["push_pull"] == f"rerun: dependency numpy 0.0.1 -> {real['numpy']} changed"


def test_f_brief_rerenders_only_when_results_it_reads_change(study):
    study.settle()
    assert brief_notebooks(load_study(study.folder)) == ["overview", "push_pull", "reliability", "validity"]
    brief = study.report / "brief-en.html"
    before = brief.read_bytes()
    # data_quality's results change, and the brief does not cite data_quality: reused as it was
    cfg = study.config()
    cfg["analyses"]["data_quality"] = {"sources": ["survey", "ratings"]}
    study.write_config(cfg)
    res = study.build()
    assert statuses(res) == {**dict.fromkeys(NOTEBOOKS, "cached"), "data_quality": "ran"}
    assert res.runs[NOTEBOOKS.index("data_quality")].reason == (
        "rerun: analysis options 'breakdowns', 'sources' changed; no longer reads source 'followup'")
    assert res.published and res.brief_reason == "reused: inputs unchanged"
    assert "brief: reused: inputs unchanged" in res.log
    assert brief.read_bytes() == before and res.briefs == {"en": {"html": "brief-en.html"}}
    assert "followup_missing_by_item" not in json.dumps(
        json.loads((study.report / "results.json").read_text())["notebooks"]["data_quality"])
    # push_pull's results change (more imputations): the brief cites push_pull, so it is drawn again
    cfg["analyses"]["push_pull"]["imputations"] = 3
    study.write_config(cfg)
    res = study.build()
    assert statuses(res) == {**dict.fromkeys(NOTEBOOKS, "cached"), "push_pull": "ran"}
    assert res.brief_reason == "re-rendered: results of 'push_pull' changed"
    # the brief's own text changes: no notebook reruns, the brief is drawn again
    cfg["brief"]["key_messages"] = [{"en": "A second synthetic message."}]
    study.write_config(cfg)
    res = study.build()
    assert statuses(res) == dict.fromkeys(NOTEBOOKS, "cached")
    assert res.brief_reason == "re-rendered: the brief: section changed"
    assert "A second synthetic message." in brief.read_text(encoding="utf-8")


def test_brief_reads_only_the_notebooks_named(study):
    """The brief rendered from the results of brief_notebooks() alone is the brief rendered from all:
    no result outside them can change it, so hashing only theirs is safe."""
    from veplab.brief import render

    study.settle()
    st = load_study(study.folder)
    results = json.loads((study.report / "results.json").read_text())
    manifest = json.loads((study.report / "manifest.json").read_text())
    read = brief_notebooks(st)
    only = {**results, "notebooks": {k: v for k, v in results["notebooks"].items() if k in read}}
    assert set(results["notebooks"]) - set(read) == {"data_quality"}
    assert render(st, only, "en", manifest=manifest).html == render(st, results, "en", manifest=manifest).html
    # and what is hashed follows: a change to data_quality's results leaves the brief's inputs alone
    inputs = input_hashes(st)
    changed = json.loads(json.dumps(results))
    changed["notebooks"]["data_quality"]["tables"] = {}
    assert brief_inputs(st, changed, inputs, pdf=False) == brief_inputs(st, results, inputs, pdf=False)
    changed["notebooks"]["overview"]["values"]["survey_n"]["value"] += 1
    assert brief_inputs(st, changed, inputs, pdf=False)["results"]["overview"] != \
        brief_inputs(st, results, inputs, pdf=False)["results"]["overview"]


def test_demo_brief_reads_the_notebooks_it_cites():
    assert brief_notebooks(load_study(ROOT / "research" / "demo")) == [
        "outcomes", "overview", "push_pull", "reliability", "validity"]


def test_g_a_moved_study_reuses_its_results(study, tmp_path):
    """The cache key holds what a notebook reads, not where the study sits: a copy of the project
    elsewhere (another disk, a colleague's laptop) reruns nothing."""
    study.settle()
    root = study.folder.parents[1]
    copy = tmp_path / "elsewhere"
    shutil.copytree(root, copy, symlinks=True)
    moved = Study(copy / study.folder.relative_to(root))
    res = moved.build()
    assert statuses(res) == dict.fromkeys(NOTEBOOKS, "cached"), reasons(res)
