"""Shared fixtures: the synthetic demo study and the studies of tests/_studies.py, each built once.

Builds are the suite's slowest part, so each study is built once per test run, shared by the
xdist workers through a file lock, and the tests read that build (or change it one module at a
time: :meth:`BuiltStudy.changed`).  ``--dist loadfile`` (pyproject's addopts) keeps each test
file on one worker, so a module-scoped build (tests/test_build.py's tiny project,
tests/test_design_build.py's studies) is made once, not once per worker.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# The test processes build studies, whose publishing step imports nbformat and so jsonschema: skip the
# IRI grammar jsonschema would compile on import (about 1 s of CPU per process), as the notebook worker does.
from veplab._nbrun import skip_iri_grammar  # noqa: E402

skip_iri_grammar()


def _shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # With pytest-xdist every worker has its own basetemp; their parent is shared.
    base = tmp_path_factory.getbasetemp()
    return base.parent if base.name.startswith("popen-gw") else base


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    """A copy of the project with the demo study's synthetic data (no build). Returns the study folder."""
    from _project import copy_project

    from veplab.synth import generate

    shared = _shared_dir(tmp_path_factory)
    lock = shared / "demo_data.lock"
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        study = shared / "demo_project" / "research" / "demo"
        if not (study / "data" / "truth.json").is_file():
            study = copy_project(shared / "demo_project")
            generate(study)
        fcntl.flock(fh, fcntl.LOCK_UN)
    return study


@pytest.fixture(scope="session")
def demo_report(demo_data, tmp_path_factory) -> Path:
    """The demo study built once (shared by xdist workers). Returns reports/demo.

    The build's log (brief messages, WeasyPrint warnings) is in ``demo_build.json``
    next to the lock; :func:`demo_build_log` reads it."""
    from veplab.build import build

    shared = _shared_dir(tmp_path_factory)
    lock = shared / "demo_build.lock"
    out = demo_data.parents[1] / "reports" / "demo"
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        status = shared / "demo_build.json"
        if not status.is_file():
            log: list[str] = []
            res = build(demo_data, jobs=2, log=log.append)
            status.write_text(json.dumps({"ok": res.ok, "errors": [r.error for r in res.failed] + [res.brief_error],
                                          "log": log}))
        fcntl.flock(fh, fcntl.LOCK_UN)
    info = json.loads(status.read_text())
    assert info["ok"], f"demo build failed: {info['errors']}"
    return out


def demo_build_log(tmp_path_factory) -> list[str]:
    """The messages the shared demo build logged (call after requesting ``demo_report``)."""
    return json.loads((_shared_dir(tmp_path_factory) / "demo_build.json").read_text())["log"]


def _build_study(name: str, root: Path) -> dict:
    """Make study ``name`` of tests/_studies.py under ``root`` and build it; returns what the tests check:
    {"ok", "errors", "leaks", "log", "study", "runs": {notebook: [status, reason]}}."""
    import _studies

    from veplab.build import build

    study = getattr(_studies, name)(root)
    log: list[str] = []
    try:
        res = build(study, jobs=2, log=log.append, notebooks_dir=ROOT / "notebooks")
        return {"ok": res.ok and res.published, "errors": [r.error for r in res.failed] + [res.brief_error],
                "leaks": [str(f) for f in res.leaks], "log": log, "study": str(study),
                "runs": {r.name: [r.status, r.reason] for r in res.runs}}
    except Exception as exc:  # reported by the tests that use the study
        return {"ok": False, "errors": [f"{type(exc).__name__}: {exc}"], "log": log, "study": str(study)}


def _report_of(info: dict) -> Path:
    return Path(info["study"]).parents[1] / "reports" / Path(info["study"]).name


def _built(tmp_path_factory: pytest.TempPathFactory, name: str) -> tuple[Path, dict]:
    """A non-demo study of tests/_studies.py made and built once per test run (shared by xdist workers).

    Returns the report folder and {"ok", "errors", "log", ...} (:func:`_build_study`)."""
    shared = _shared_dir(tmp_path_factory)
    lock = shared / f"{name}_build.lock"
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        status = shared / f"{name}_build.json"
        if not status.is_file():
            status.write_text(json.dumps(_build_study(name, shared / f"{name}_project"), default=str))
        fcntl.flock(fh, fcntl.LOCK_UN)
    info = json.loads(status.read_text())
    return _report_of(info), info


class BuiltStudy:
    """A study of tests/_studies.py built once per test run (shared by the xdist workers), and a copy of it.

    ``info`` is what :func:`_build_study` returned for that build.  The tests that only read it use
    the copy (``snapshot_info`` names its study folder; :func:`_report_of` its report), which
    nothing changes.  A test module that changes the study takes the study's own folder with
    :meth:`changed`: a notebook's ``study`` parameter (an absolute path) is part of its cache key,
    so only there is the build reused as it is (a copy anywhere else would rerun every notebook)."""

    def __init__(self, name: str, shared: Path):
        self.name, self.shared = name, shared
        self.root, self.snapshot = shared / f"{name}_project", shared / f"{name}_built"
        with open(shared / f"{name}_build.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            status = shared / f"{name}_build.json"
            if not status.is_file():
                info = _build_study(name, self.root)
                if self.root.is_dir():
                    shutil.copytree(self.root, self.snapshot, symlinks=True)
                status.write_text(json.dumps(info, default=str))
            fcntl.flock(fh, fcntl.LOCK_UN)
        self.info = json.loads(status.read_text())
        study = Path(self.info["study"])
        self.snapshot_info = {**self.info, "study": str(self.snapshot / study.relative_to(self.root))}

    @contextlib.contextmanager
    def changed(self) -> Iterator[Path]:
        """The study's own folder as its first build left it (notebooks run, report published), to change;
        one test module at a time (another worker's waits).  Yields the study folder."""
        with open(self.shared / f"{self.name}_change.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                shutil.rmtree(self.root, ignore_errors=True)
                shutil.copytree(self.snapshot, self.root, symlinks=True)
                yield Path(self.info["study"])
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def three_assessors_built(tmp_path_factory) -> BuiltStudy:
    return BuiltStudy("three_assessors", _shared_dir(tmp_path_factory))


@pytest.fixture(scope="session")
def three_assessors_report(three_assessors_built) -> tuple[Path, dict]:
    """The report of ``three_assessors`` (a copy of its build, never changed) and the build's info."""
    return _report_of(three_assessors_built.snapshot_info), three_assessors_built.snapshot_info


@pytest.fixture(scope="session")
def weighted_report(tmp_path_factory) -> tuple[Path, dict]:
    return _built(tmp_path_factory, "weighted")


@pytest.fixture(scope="session")
def prepost_report(tmp_path_factory) -> tuple[Path, dict]:
    return _built(tmp_path_factory, "prepost")



#: The test files whose builds take the most CPU, in the order a worker should take them (``--dist
#: loadfile``; the other files follow, most tests first, as xdist orders them).  Taken first, they do
#: not end the run on one worker while the other waits; test_build_cache comes early as it builds
#: ``three_assessors``, which test_survey_study then finds built.
HEAVY_FIRST = ["test_brief.py", "test_build_cache.py", "test_build.py", "test_survey_study.py", "test_readme.py",
               "test_simulate.py", "test_design_build.py", "test_brief_layout.py",
               "test_analyses_notebooks_basic.py", "test_pages_readable.py"]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``--dist loadfile`` taking the files of :data:`HEAVY_FIRST` first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}

    class HeavyFirst(LoadFileScheduling):
        def _assign_work_unit(self, node: Any) -> None:
            first = min(self.workqueue, key=lambda scope: rank.get(Path(scope).name, len(rank)))
            self.workqueue.move_to_end(first, last=False)
            super()._assign_work_unit(node)

    return HeavyFirst(config, log)
