"""Shared fixtures: a synthetic demo study generated and built once per test run."""

from __future__ import annotations

import fcntl
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


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


def _built(tmp_path_factory: pytest.TempPathFactory, name: str) -> tuple[Path, dict]:
    """A non-demo study of tests/_studies.py made and built once per test run (shared by xdist workers).

    Returns the report folder and {"ok", "errors", "log"}."""
    import _studies

    from veplab.build import build

    shared = _shared_dir(tmp_path_factory)
    lock = shared / f"{name}_build.lock"
    root = shared / f"{name}_project"
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        status = shared / f"{name}_build.json"
        if not status.is_file():
            study = getattr(_studies, name)(root)
            log: list[str] = []
            try:
                res = build(study, jobs=2, log=log.append, notebooks_dir=ROOT / "notebooks")
                info = {"ok": res.ok and res.published, "errors": [r.error for r in res.failed] + [res.brief_error],
                        "leaks": [str(f) for f in res.leaks], "log": log, "study": str(study)}
            except Exception as exc:  # reported by the tests that use the study
                info = {"ok": False, "errors": [f"{type(exc).__name__}: {exc}"], "log": log, "study": str(study)}
            status.write_text(json.dumps(info, default=str))
        fcntl.flock(fh, fcntl.LOCK_UN)
    info = json.loads(status.read_text())
    return Path(info["study"]).parents[1] / "reports" / Path(info["study"]).name, info


@pytest.fixture(scope="session")
def three_assessors_report(tmp_path_factory) -> tuple[Path, dict]:
    return _built(tmp_path_factory, "three_assessors")


@pytest.fixture(scope="session")
def weighted_report(tmp_path_factory) -> tuple[Path, dict]:
    return _built(tmp_path_factory, "weighted")


@pytest.fixture(scope="session")
def prepost_report(tmp_path_factory) -> tuple[Path, dict]:
    return _built(tmp_path_factory, "prepost")
