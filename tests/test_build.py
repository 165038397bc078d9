"""veplab build: caching, atomic publishing, determinism, failures (on a tiny study)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from veplab.build import build, cache_key, notebook_parameters

CODEBOOK = {
    "id": "tiny_v1", "title": {"en": "Tiny"}, "id_column": "rid",
    "items": [
        {"id": "rid", "label": "id", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "q1", "label": "Q1", "type": "likert", "options": {i: f"o{i}" for i in range(1, 6)}},
        {"id": "x", "label": "X", "type": "numeric"},
    ],
}


def _nb(path: Path, title: str, params: str, body: str) -> None:
    nb = new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    cells = [new_markdown_cell(f"# {title}"), new_code_cell(params), new_code_cell(body)]
    cells[1].metadata["tags"] = ["parameters"]
    for i, c in enumerate(cells):
        c["id"] = f"c{i}"
    nb.cells = cells
    nbformat.write(nb, path)


BODY_A = """from veplab.report import Report
from veplab.study import load_study
import pandas as pd
cfg = load_study(study)
df = cfg.load_source("d")
rep = Report(cfg, "alpha_nb")
rep.value("mean_x", float(df["x"].mean() * scale), caption="Mean of x", data=df)
rep.table(pd.DataFrame({"estimate": [df["x"].mean() * scale, df["x"].std()]}, index=["mean", "sd"]), "x_stats",
          caption="x", kind="model", n=len(df))
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.plot([1, 2, 3], [1, 4, 9])
rep.figure(fig, "line", caption="a line", data=pd.DataFrame({"x": [1, 2, 3], "y": [1, 4, 9]}), n=len(df))
"""

BODY_B = """from veplab.report import Report
from veplab.study import load_study
cfg = load_study(study)
rep = Report(cfg, "beta_nb")
if offset == 99:
    raise ValueError("offset 99 is not allowed")
rep.value("offset", offset + 1, n=100)
"""


def _make_project(root: Path) -> Path:
    (root / "surveys").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "research" / "t" / "data").mkdir(parents=True)
    (root / "surveys" / "tiny.yml").write_text(yaml.safe_dump(CODEBOOK))
    (root / "research" / "t" / "data" / "d.csv").write_text(
        "rid,q1,x\n" + "".join(f"rec{i:04d},{1 + i % 5},{i * 1.5}\n" for i in range(40)))
    _nb(root / "notebooks" / "alpha_nb.ipynb", "Alpha page", 'study = "."\nscale = 1.0', BODY_A)
    _nb(root / "notebooks" / "beta_nb.ipynb", "Beta page", 'study = "."\noffset = 0', BODY_B)
    config = {
        "id": "t", "title": {"en": "Tiny study"}, "seed": 1, "disclosure": {"threshold": 10},
        "sources": {"d": {"path": "data/d.csv", "codebook": "tiny"}},
        "parameters": {"scale": 2.0, "offset": 5},
        "notebooks": [{"name": "alpha_nb"}, {"name": "beta_nb"}],
    }
    (root / "research" / "t" / "study.yml").write_text(yaml.safe_dump(config))
    return root


@pytest.fixture()
def fresh_project(tmp_path):
    """The tiny project, never built."""
    return _make_project(tmp_path / "proj")


@pytest.fixture(scope="module")
def _built_once(tmp_path_factory):
    """The tiny project built once for the module (per xdist worker), and a copy of it as built.

    A notebook's parameters hold the study's absolute path (part of its cache key), so the
    copy is always put back at the same path: tests of one worker run one after another."""
    import shutil

    base = tmp_path_factory.mktemp("tiny")
    live = _make_project(base / "proj")
    res = build(_study(live), jobs=2)
    assert res.ok and res.published, [r.error for r in res.runs]
    assert statuses(res) == {"alpha_nb": "ran", "beta_nb": "ran"}
    snapshot = base / "built"
    shutil.copytree(live, snapshot, symlinks=True)
    return live, snapshot, res


@pytest.fixture()
def project(_built_once):
    """The tiny project as its first build left it (notebooks run, report published): a fresh copy per test."""
    import shutil

    live, snapshot, _ = _built_once
    shutil.rmtree(live)
    shutil.copytree(snapshot, live, symlinks=True)
    return live


def _study(root: Path) -> Path:
    return root / "research" / "t"


def _set_param(root: Path, key: str, value) -> None:
    p = _study(root) / "study.yml"
    cfg = yaml.safe_load(p.read_text())
    cfg["parameters"][key] = value
    p.write_text(yaml.safe_dump(cfg))


def statuses(result) -> dict[str, str]:
    return {r.name: r.status for r in result.runs}


def test_parameters_cell_parsed():
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
                     "source": "study = 'x'\nalpha: float = 0.5\n# comment\n"}]}
    assert set(notebook_parameters(nb)) == {"study", "alpha"}


def test_build_publishes_and_caches(project, _built_once):
    """The first build (the one the module's copies start from: ``jobs=2``, on a project never built)."""
    res = _built_once[2]
    assert res.ok and res.published, [r.error for r in res.runs]
    assert statuses(res) == {"alpha_nb": "ran", "beta_nb": "ran"}
    out = project / "reports" / "t"
    for name in ("index.html", "alpha_nb.html", "beta_nb.html", "results.json", "manifest.json"):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    mean_x = sum(i * 1.5 for i in range(40)) / 40
    assert results["notebooks"]["alpha_nb"]["values"]["mean_x"]["value"] == pytest.approx(mean_x * 2.0)
    assert results["notebooks"]["beta_nb"]["values"]["offset"]["value"] == 6
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"]["data"]["d"] == __import__("hashlib").sha256(
        (_study(project) / "data" / "d.csv").read_bytes()).hexdigest()
    assert manifest["seed"] == 1 and manifest["parameters"]["scale"] == 2.0
    assert "numpy" in manifest["packages"] and manifest["dependency_lock_sha256"]
    # executed notebooks are private: in the study's working folder, never under reports/
    assert (_study(project) / ".build" / "alpha_nb.ipynb").is_file()
    assert not (out / ".work").exists() and not (out / ".build").exists()
    index = (out / "index.html").read_text()
    assert ".build" not in index and "Alpha page" in index
    release = json.loads((out / "release.json").read_text())
    assert {e["output"]: e["status"] for e in release["outputs"]} == {
        "alpha_nb/values/mean_x": "published", "alpha_nb/tables/x_stats": "published",
        "alpha_nb/figures/line": "published", "beta_nb/values/offset": "published"}
    assert sorted(release["files"]) == sorted(p.name for p in out.iterdir())

    t0 = time.perf_counter()
    again = build(_study(project))
    assert time.perf_counter() - t0 < 1.0
    assert statuses(again) == {"alpha_nb": "cached", "beta_nb": "cached"} and not again.published


def test_parameter_change_reruns_only_its_notebook(project):
    build(_study(project))
    _set_param(project, "offset", 7)
    res = build(_study(project))
    assert statuses(res) == {"alpha_nb": "cached", "beta_nb": "ran"}
    results = json.loads((project / "reports" / "t" / "results.json").read_text())
    assert results["notebooks"]["beta_nb"]["values"]["offset"]["value"] == 8


def test_data_codebook_and_code_changes_invalidate(project):
    build(_study(project))
    data = _study(project) / "data" / "d.csv"
    data.write_text(data.read_text() + "rec0099,3,1000\n")
    assert set(statuses(build(_study(project))).values()) == {"ran"}
    cb = project / "surveys" / "tiny.yml"
    cb.write_text(cb.read_text() + "\n# a comment changes the hash\n")
    assert set(statuses(build(_study(project))).values()) == {"ran"}
    nbp = project / "notebooks" / "alpha_nb.ipynb"
    nb = nbformat.read(nbp, as_version=4)
    nb.cells[2].source += "\nrep.value('extra', 1)"
    nbformat.write(nb, nbp)
    assert statuses(build(_study(project))) == {"alpha_nb": "ran", "beta_nb": "cached"}
    # markdown-only edits do not rerun
    nb.cells[0].source = "# Alpha page, retitled"
    nbformat.write(nb, nbp)
    assert statuses(build(_study(project))) == {"alpha_nb": "cached", "beta_nb": "cached"}


def test_cache_key_covers_versions(monkeypatch):
    nb = {"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}}]}
    k1 = cache_key(nb, {"a": 1}, {"data": {}})
    import veplab.build as b

    monkeypatch.setattr(b, "__version__", "9.9.9")
    assert cache_key(nb, {"a": 1}, {"data": {}}) != k1
    monkeypatch.setitem(b._LOCK_CACHE, "lock", "different")
    assert cache_key(nb, {"a": 1}, {"data": {}}) != k1


def test_force_and_only(project):
    build(_study(project))
    assert statuses(build(_study(project), force=True, only=["beta_nb"])) == {"alpha_nb": "skipped",
                                                                               "beta_nb": "ran"}


def test_two_builds_identical(project):
    build(_study(project))
    out = project / "reports" / "t"
    first = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    build(_study(project), force=True)
    second = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    for name in ("results.json", "alpha_nb.html", "beta_nb.html"):
        assert first[name] == second[name], name
    strip = lambda b: b.decode().split("built ")[0]  # noqa: E731 - the timestamp is in the footer
    assert strip(first["index.html"]) == strip(second["index.html"])


def test_pages_are_self_contained(project):
    build(_study(project))
    out = project / "reports" / "t"
    for page in out.glob("*.html"):
        text = page.read_text()
        assert "http://" not in text and "https://" not in text, page.name
        assert "<script src" not in text
    alpha = (out / "alpha_nb.html").read_text()
    assert "data:image/png;base64," in alpha
    assert "rep.value" not in alpha and "import pandas" not in alpha  # code hidden


def test_failing_notebook(project):
    build(_study(project))
    out = project / "reports" / "t"
    before = (out / "results.json").read_bytes()
    _set_param(project, "offset", 99)
    _set_param(project, "scale", 3.0)
    res = build(_study(project))
    assert not res.ok and not res.published
    (failed,) = res.failed
    assert failed.name == "beta_nb"
    assert "notebook 'beta_nb'" in failed.error and "code cell" in failed.error
    assert "ValueError: offset 99 is not allowed" in failed.error
    assert statuses(res)["alpha_nb"] == "ran"  # the others still run
    assert (out / "results.json").read_bytes() == before  # previous report untouched
    # next build after the fix reuses alpha's fresh run
    _set_param(project, "offset", 1)
    assert statuses(build(_study(project))) == {"alpha_nb": "cached", "beta_nb": "ran"}


def test_cli_failing_build_exits_nonzero(project):
    _set_param(project, "offset", 99)
    proc = subprocess.run([sys.executable, "-m", "veplab.cli", "build", str(_study(project))],
                          capture_output=True, text=True, cwd=project, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "offset 99 is not allowed" in proc.stderr


def test_sigkill_leaves_last_good_report(project):
    build(_study(project))
    out = project / "reports" / "t"
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    _set_param(project, "scale", 5.0)
    proc = subprocess.Popen([sys.executable, "-m", "veplab.cli", "build", str(_study(project)), "--force"],
                            cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    time.sleep(2.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    # and the next build recovers and publishes
    res = build(_study(project))
    assert res.ok and res.published
    leftovers = [p.name for p in (project / "reports").iterdir() if p.name.startswith((".tmp-", ".old-"))]
    assert not leftovers


def test_missing_data_is_a_clear_error(fresh_project):
    from veplab.build import BuildError

    (_study(fresh_project) / "data" / "d.csv").unlink()
    with pytest.raises(BuildError, match="veplab synth"):
        build(_study(fresh_project))


def test_unknown_only_name(fresh_project):
    from veplab.build import BuildError

    with pytest.raises(BuildError, match="not in study.yml"):
        build(_study(fresh_project), only=["nope"])


def test_planted_head_is_withheld(project):
    """Default deny: a df.head() displayed in a notebook never reaches a page; the page says so."""
    build(_study(project))
    out = project / "reports" / "t"
    nbp = project / "notebooks" / "beta_nb.ipynb"
    nb = nbformat.read(nbp, as_version=4)
    nb.cells[2].source += "\ndf = cfg.load_source('d')\ndisplay(df.head())\nprint(df.iloc[0].to_dict())"
    nbformat.write(nb, nbp)
    res = build(_study(project))
    assert res.ok and res.published
    page = (out / "beta_nb.html").read_text()
    assert "rec000" not in page and "2 outputs withheld: not checked" in page
    release = json.loads((out / "release.json").read_text())
    assert release["withheld_raw_outputs"] == {"beta_nb": 2}
    for f in out.iterdir():
        assert "rec000" not in f.read_text(errors="ignore"), f


def test_audit_log_records_builds(project):
    from veplab.privacy import verify_audit_log

    build(_study(project))
    log = _study(project) / "audit.log"
    lines = log.read_text().splitlines()
    assert json.loads(lines[-1])["event"] == "build"
    assert verify_audit_log(log) == []
    manifest = json.loads((project / "reports" / "t" / "manifest.json").read_text())
    assert manifest["audit_head"]["count"] >= 0 and "pseudonym_key_ids" in manifest


def _set_brief(root: Path, brief: dict, languages=("en", "fr")) -> None:
    p = _study(root) / "study.yml"
    cfg = yaml.safe_load(p.read_text())
    cfg["brief"] = brief
    cfg["languages"] = list(languages)
    p.write_text(yaml.safe_dump(cfg, allow_unicode=True))


BRIEF = {
    "title": {"en": "Tiny brief", "fr": "Petite note"},
    "key_messages": [{"en": "One message.", "fr": "Un message."}],
    "figures": [{"key": "beta_nb.values.offset", "format": "count", "label": {"en": "Offset"},
                 "text": {"en": "The offset is {value}.", "fr": "Le décalage vaut {value}."}}],
}


def test_build_writes_briefs_and_links_them(project):
    _set_brief(project, BRIEF)
    log: list[str] = []
    res = build(_study(project), log=log.append, pdf=False)
    assert res.ok and res.published, (res.brief_error, [r.error for r in res.runs])
    out = project / "reports" / "t"
    assert sorted(res.briefs) == ["en", "fr"]
    en = (out / "brief-en.html").read_text(encoding="utf-8")
    fr = (out / "brief-fr.html").read_text(encoding="utf-8")
    assert "The offset is 6." in en and "Le décalage vaut 6." in fr  # read from results.json
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="brief-en.html"' in index and 'href="brief-fr.html"' in index
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["briefs"]["fr"] == {"html": "brief-fr.html"}
    # the French label of the figure is missing: English is used and the build log says so
    assert any("missing translation" in m and "brief.figures[0].label" in m for m in log), log
    assert manifest["briefs_missing_translations"]
    # editing only the brief republishes without rerunning a notebook
    _set_brief(project, {**BRIEF, "title": {"en": "Tiny brief, second edition", "fr": "Petite note, 2e édition"}})
    again = build(_study(project), pdf=False)
    assert again.published and statuses(again) == {"alpha_nb": "cached", "beta_nb": "cached"}
    assert "second edition" in (out / "brief-en.html").read_text(encoding="utf-8")


def test_bad_brief_fails_the_build_and_keeps_the_last_report(project):
    build(_study(project))
    out = project / "reports" / "t"
    before = (out / "index.html").read_bytes()
    _set_brief(project, {**BRIEF, "figures": [{"key": "beta_nb.values.no_such_value"}]})
    res = build(_study(project), pdf=False)
    assert not res.ok and not res.published
    assert "no_such_value" in res.brief_error and "beta_nb.values.offset" in res.brief_error  # names what exists
    assert (out / "index.html").read_bytes() == before
    assert not list((project / "reports").glob(".tmp-*"))  # the half-built folder is removed
    proc = subprocess.run([sys.executable, "-m", "veplab.cli", "build", str(_study(project)), "--no-pdf"],
                          capture_output=True, text=True, cwd=project, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "policy brief:" in proc.stderr and "no_such_value" in proc.stderr


def test_notebook_runs_in_a_fresh_worker_not_a_fork(tmp_path):
    """Each notebook runs in a new interpreter (``veplab._nbrun``) that imports neither pandas nor veplab's
    analyses, so a caller holding a large data set is not copied once per running notebook; a notebook the
    worker cannot run comes back as a failed run with the reason."""
    from veplab.build import _run_notebook

    probe = subprocess.run([sys.executable, "-c", "import sys, veplab._nbrun; print('pandas' in sys.modules)"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "False"
    # the worker skips jsonschema's IRI grammar (about 1 s of CPU per notebook) and still validates notebooks
    probe = subprocess.run([sys.executable, "-c", "import sys; from veplab._nbrun import skip_iri_grammar; "
                            "skip_iri_grammar(); import nbformat, papermill; from nbformat.v4 import new_notebook; "
                            "nbformat.validate(new_notebook()); print(sys.modules['rfc3987_syntax'])"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "None"
    res = _run_notebook("ghost", str(tmp_path / "ghost.ipynb"), str(tmp_path / "out.ipynb"), {}, str(tmp_path),
                        str(tmp_path), 60)
    assert res["name"] == "ghost" and res["status"] == "failed"
    assert res["error"].startswith("notebook 'ghost': ") and "ghost.ipynb" in res["error"]


@pytest.mark.slow
def test_build_on_a_dask_cluster_and_several_studies(project):
    """--scheduler: notebooks run as Dask tasks in a scratch copy of the study; the same report as a local build.
    Two study folders in one `veplab build` call."""
    import logging

    import distributed

    local = build(_study(project))
    assert local.ok
    want = json.loads((project / "reports" / "t" / "results.json").read_text())["notebooks"]
    other = project / "research" / "t2"
    import shutil

    shutil.copytree(_study(project), other, ignore=shutil.ignore_patterns(".build"))
    cfg = yaml.safe_load((other / "study.yml").read_text())
    cfg["id"] = "t2"
    (other / "study.yml").write_text(yaml.safe_dump(cfg))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        proc = subprocess.run([sys.executable, "-m", "veplab.cli", "build", str(_study(project)), str(other),
                               "--force", "--no-pdf", "--scheduler", cluster.scheduler_address],
                              capture_output=True, text=True, cwd=project, env={**os.environ, "COLUMNS": "200"},
                              timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for sid in ("t", "t2"):
        got = json.loads((project / "reports" / sid / "results.json").read_text())["notebooks"]
        assert got["alpha_nb"]["values"]["mean_x"]["value"] == want["alpha_nb"]["values"]["mean_x"]["value"]
        assert got["beta_nb"]["values"]["offset"]["value"] == 6
        assert (project / "research" / sid / ".build" / "alpha_nb.ipynb").is_file()  # executed notebook kept here
    # a failing study fails the call, and the others still build
    _set_param(project, "offset", 99)
    proc = subprocess.run([sys.executable, "-m", "veplab.cli", "build", str(_study(project)), str(other),
                           "--no-pdf"], capture_output=True, text=True, cwd=project,
                          env={**os.environ, "COLUMNS": "200"}, timeout=600)
    assert proc.returncode == 1 and "1 of 2 studies did not build" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
