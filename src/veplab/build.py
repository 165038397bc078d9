"""``veplab build``: a study's notebooks, run by papermill, into a reproducible report.

For each notebook the study names, a cache key is the SHA-256 of

* the notebook's code cells,
* the parameters it receives (only those its ``parameters`` cell declares,
  so changing a parameter reruns only the notebooks that use it),
* the SHA-256 of every input data file and codebook of the study,
* the veplab version and a hash of veplab's source files,
* the locked dependency set (every installed distribution and its version).

An unchanged key skips the run.  Runs execute in parallel processes
(``jobs``) in a Jupyter kernel of this very Python environment (a private
kernelspec is written for each build, so "kernel not found" cannot happen).

The report is written atomically: pages are assembled in a temporary folder,
then swapped in with two renames, so a killed build leaves the last good
report in place.  ``reports/<study>/`` holds ``index.html``, one
self-contained HTML page per notebook (code hidden, figures embedded, no
network references), ``results.json`` (every number the pages show, keyed
by notebook and table), ``release.json`` (every output with the rule applied
and its status; :mod:`veplab.release`) and ``manifest.json`` (hashes,
parameters, versions, git commit, seed, build time).

Publishing is default deny: pages are rendered only from the outputs the
report helpers made and the disclosure gate passed, plus static Markdown
cells (:mod:`veplab.release`).  Executed notebooks, caches and the kernel live
in the study's private working folder ``research/<study>/.build/``
(git-ignored), never under ``reports/``; a build refuses to publish when the
report folder would hold anything the release log does not list.  A lock in
that folder stops two builds of one study at once.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as _dt
import difflib
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import __version__
from .study import Study, find_root, load_study

__all__ = ["BuildError", "BuildResult", "NotebookRun", "build", "cache_key", "notebook_parameters"]

WORK = ".build"
#: Where builds before this release kept executed notebooks (inside reports/): removed on sight.
OLD_WORK = ".work"
KERNEL_NAME = "veplab-build"


class BuildError(RuntimeError):
    """The build could not complete; the message names notebook, cell and error."""


@dataclasses.dataclass
class NotebookRun:
    name: str
    key: str
    status: str = "pending"  # cached | ran | failed
    seconds: float = 0.0
    error: str | None = None
    title: str | None = None


@dataclasses.dataclass
class BuildResult:
    study: str
    report_dir: Path
    runs: list[NotebookRun]
    published: bool
    seconds: float
    leaks: list[Any] = dataclasses.field(default_factory=list)
    #: Files written by the brief step: ``{lang: {"html": name, "pdf": name, "pages": n}}``.
    briefs: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Why the brief step failed (a bad ``brief:`` section, WeasyPrint missing); nothing was published.
    brief_error: str | None = None

    @property
    def failed(self) -> list[NotebookRun]:
        return [r for r in self.runs if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.leaks and not self.brief_error


# ------------------------------------------------------------------ hashing


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha(path: Path) -> str:
    from .data.readers import sha256_file

    return sha256_file(path)


_LOCK_CACHE: dict[str, str] = {}


def dependency_lock() -> dict[str, str]:
    """Every installed distribution -> version (the locked dependency set)."""
    from importlib import metadata

    out = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name:
            out[name] = dist.version
    return dict(sorted(out.items()))


def _lock_hash() -> str:
    if "lock" not in _LOCK_CACHE:
        _LOCK_CACHE["lock"] = _sha(json.dumps(dependency_lock(), sort_keys=True).encode())
    return _LOCK_CACHE["lock"]


def _code_hash() -> str:
    """Hash of veplab's own source (a code change invalidates results even without a version bump)."""
    if "code" not in _LOCK_CACHE:
        root = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for p in sorted(root.rglob("*")):
            if p.suffix in (".py", ".yml", ".yaml", ".j2", ".css", ".mplstyle") and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
        _LOCK_CACHE["code"] = h.hexdigest()
    return _LOCK_CACHE["code"]


def _read_notebook_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def notebook_parameters(nb: Mapping[str, Any]) -> dict[str, str]:
    """Names declared in the notebook's ``parameters`` cell -> their source line."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in (cell.get("metadata", {}).get("tags") or []):
            src = "".join(cell.get("source", ""))
            out = {}
            for line in src.splitlines():
                m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]+)?=", line)
                if m:
                    out[m.group(1)] = line
            return out
    return {}


def _code_cells(nb: Mapping[str, Any]) -> str:
    return "\n\x00\n".join("".join(c.get("source", "")) for c in nb.get("cells", []) if c.get("cell_type") == "code")


def input_hashes(study: Study) -> dict[str, dict[str, Any]]:
    """SHA-256 of each data file and codebook of the study (missing files -> 'missing').

    A SQL source is hashed by running its read-only query
    (:func:`veplab.ingest.sql.source_digest`); the query text and the hash of
    its result go into the manifest under ``inputs.sql``.  Other files the
    notebooks read (an evaluation framework, say) are listed under the study's
    ``inputs:`` key and hashed too.
    """
    data, codebooks, sql = {}, {}, {}
    for name, src in study.sources.items():
        if getattr(src, "is_sql", False):
            from .ingest.sql import source_digest

            digest = source_digest(src)
            data[name] = digest["sha256"]
            sql[name] = {k: v for k, v in digest.items() if k != "canonical"}
        else:
            data[name] = _file_sha(src.path) if src.path.is_file() else "missing"
        codebooks[src.codebook_path.name] = _file_sha(src.codebook_path)
    extra = {}
    for rel in (study.raw.get("inputs") or []):
        p = (study.folder / rel)
        extra[str(rel)] = _file_sha(p) if p.is_file() else "missing"
    out: dict[str, Any] = {"data": data, "codebooks": codebooks, "other": extra}
    if sql:
        out["sql"] = sql
    return out


def cache_key(nb: Mapping[str, Any], params: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """The content hash deciding whether a notebook must rerun."""
    blob = json.dumps({
        "code": _sha(_code_cells(nb).encode()),
        "params": params,
        "inputs": inputs,
        "veplab": __version__,
        "veplab_code": _code_hash(),
        "lock": _lock_hash(),
    }, sort_keys=True, default=str)
    return _sha(blob.encode())


def _params_for(study: Study, spec: Mapping[str, Any], nb: Mapping[str, Any]) -> dict[str, Any]:
    declared = notebook_parameters(nb)
    for name in spec.get("parameters", {}):
        if name not in declared:  # a misspelt parameter would otherwise be silently ignored
            close = difflib.get_close_matches(str(name), list(declared), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"it takes {', '.join(declared) or 'none'}"
            raise BuildError(f"{study.config_path}: notebook {spec['name']!r} has no parameter {str(name)!r}; {hint}")
    merged = {**study.parameters, **spec.get("parameters", {})}
    params = {k: v for k, v in merged.items() if k in declared}
    if "study" in declared:
        params["study"] = str(study.folder)
    if "seed" in declared and "seed" not in params:
        params["seed"] = study.seed
    if "threshold" in declared and "threshold" not in params:
        params["threshold"] = study.threshold
    if "lang" in declared and "lang" not in params:  # pages in the study's (first) language
        params["lang"] = study.languages[0]
    return params


# ------------------------------------------------------------------ kernel + execution


def _kernel_dir(base: Path) -> Path:
    """A private kernelspec pointing at this very interpreter."""
    kdir = base / "kernels" / KERNEL_NAME
    kdir.mkdir(parents=True, exist_ok=True)
    spec = {
        # Publishing goes through veplab.report only: a bare expression at the end of a
        # cell (a DataFrame, a returned value) is never displayed in a built page.
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--log-level=CRITICAL",
                 "--InteractiveShell.ast_node_interactivity=none"],
        "display_name": "veplab (build)",
        "language": "python",
        "env": {"PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    }
    (kdir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return base


def _sanitize(nb: Any) -> Any:
    """Strip timing and run-specific metadata so identical runs give identical files."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("execution", None)
    return nb


def progress_file(study: Study, notebook: str) -> Path:
    """Where a running notebook's Report notes each output it publishes (one line: kind and key), so
    ``veplab build`` can show progress inside a long notebook.  In the study's private work folder."""
    return study.folder / WORK / f"{notebook}.progress"


def _execute(name: str, src: str, out: str, params: dict[str, Any], cwd: str, jupyter_path: str,
             timeout: int, progress: str | None = None) -> dict[str, Any]:
    """Run one notebook (in a worker process).  Returns status and error text."""
    os.environ["JUPYTER_PATH"] = jupyter_path + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    os.environ["PYTHONHASHSEED"] = "0"
    if progress is not None:  # the kernel inherits it; veplab.report.Report appends to it
        Path(progress).write_text("", encoding="utf-8")
        os.environ["VEPLAB_PROGRESS"] = progress
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import nbformat
    import papermill as pm

    start = time.perf_counter()
    try:
        pm.execute_notebook(src, out, parameters=params, kernel_name=KERNEL_NAME, cwd=cwd, progress_bar=False,
                            log_output=False, request_save_on_cell_execute=False, execution_timeout=timeout)
        status, error = "ran", None
    except pm.PapermillExecutionError as exc:
        nb = nbformat.read(out, as_version=4)
        cell_no, first = None, ""
        for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                cell_no, first = i + 1, (cell.source.strip().splitlines() or [""])[0][:80]
                break
        where = f"code cell {cell_no} ({first!r})" if cell_no else f"cell {exc.exec_count}"
        status, error = "failed", f"notebook {name!r}, {where}: {exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel death, timeout, missing file...
        status, error = "failed", f"notebook {name!r}: {type(exc).__name__}: {exc}"
    if Path(out).is_file():
        nb = nbformat.read(out, as_version=4)
        nbformat.write(_sanitize(nb), out)
    return {"name": name, "status": status, "error": error, "seconds": time.perf_counter() - start}


# ------------------------------------------------------------------ rendering


_PAGE_CSS = """
:root { --ink:#1a1a1a; --muted:#555; --rule:#d0d0d0; --accent:#0b4f8a; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; color: var(--ink); max-width: 60rem;
       margin: 0 auto; padding: 1.5rem 1.5rem 4rem; line-height: 1.5; background: #fff; }
header.veplab { border-bottom: 3px solid var(--accent); margin-bottom: 1.5rem; padding-bottom: .5rem; }
header.veplab .study { color: var(--muted); font-size: .9rem; }
header.veplab nav a { margin-right: 1rem; font-size: .9rem; }
h1, h2, h3 { line-height: 1.25; }
table.veplab-table, table.dataframe { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .88rem; }
div.veplab-table-wrap { max-width: 100%; overflow-x: auto; }
table.veplab-table { min-width: min(100%, 34rem); }  /* wide enough for its caption to read on one or two lines */
table.veplab-table caption { text-align: left; font-weight: bold; padding-bottom: .3rem; }
table.veplab-table td { white-space: nowrap; }
table.veplab-table th, table.veplab-table td { border-bottom: 1px solid var(--rule); padding: .25rem .6rem;
       text-align: right; }
table.veplab-table th:first-child { text-align: left; }
table.veplab-table thead th { border-bottom: 2px solid var(--ink); }
td.suppressed { color: var(--muted); text-align: center !important; }
p.veplab-note { font-size: .8rem; color: var(--muted); margin-top: -.6rem; }
figure.veplab-figure { margin: 1rem 0 1.5rem; }
figure.veplab-figure img { max-width: 100%; height: auto; }
figure.veplab-figure figcaption { font-size: .85rem; color: var(--muted); }
.jp-OutputPrompt, .jp-InputPrompt, .prompt { display: none; }
pre { white-space: pre-wrap; font-size: .85rem; }
footer { margin-top: 3rem; font-size: .8rem; color: var(--muted); border-top: 1px solid var(--rule); padding-top: .5rem; }
ul.pages li { margin: .3rem 0; }
a.anchor-link { display: none; }
"""


def _page(title: str, body: str, *, study: Study, nav: list[tuple[str, str]], footer: str = "",
          lang: str = "en") -> str:
    links = "".join(f'<a href="{html.escape(href)}">{html.escape(text)}</a>' for href, text in nav)
    direction = "rtl" if lang == "ar" else "ltr"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)} — {html.escape(study.text(lang))}</title>\n"
        f"<style>{_PAGE_CSS}</style>\n</head>\n<body>\n"
        f'<header class="veplab"><div class="study">{html.escape(study.text(lang))}</div><nav>{links}</nav></header>\n'
        f"<main>\n{body}\n</main>\n<footer>{footer}</footer>\n</body>\n</html>\n"
    )


def _notebook_title(nb: Any, default: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


# ------------------------------------------------------------------ git / manifest


def _git_commit(root: Path) -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=5).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    return {"commit": commit, "dirty": dirty}


def _recover(reports: Path, study_id: str) -> None:
    """Finish an interrupted swap: restore the previous report if the new one never landed."""
    target = reports / study_id
    for old in sorted(reports.glob(f".old-{study_id}-*")):
        if not target.exists():
            old.rename(target)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in reports.glob(f".tmp-{study_id}-*"):
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------ main


def build(
    study_path: str | Path,
    *,
    only: list[str] | None = None,
    force: bool = False,
    jobs: int = 1,
    reports: str | Path | None = None,
    notebooks_dir: str | Path | None = None,
    progress: Callable[[str, NotebookRun], None] | None = None,
    timeout: int | None = None,
    log: Callable[[str], None] | None = None,
    pdf: bool = True,
    wait: bool = False,
) -> BuildResult:
    """Build ``reports/<study>/`` from the study's notebooks (see module docstring).

    Returns a :class:`BuildResult`; when a notebook fails, the others still
    run, the previous published report is left untouched and
    ``result.ok`` is False (the CLI exits non-zero).

    When the study has a ``brief:`` section, the policy briefs
    (``brief-<lang>.html`` and, with ``pdf``, ``brief-<lang>.pdf``; see
    :mod:`veplab.brief`) are rendered from the new ``results.json`` before the
    leak scan; their messages (missing translations, page counts) go to ``log``.
    A brief that cannot be rendered fails the build like a notebook does.

    ``timeout`` bounds each cell in seconds (default: the study's
    ``timeout:``, else 1800).  When another build of the same study is
    running, ``wait=False`` raises :class:`BuildError` at once and
    ``wait=True`` waits for it to finish.
    """
    t0 = time.perf_counter()
    study = load_study(study_path)
    work = study.folder / WORK
    work.mkdir(parents=True, exist_ok=True)
    _ensure_gitignore(work)
    with _BuildLock(work / "build.lock", study.id, wait=wait, log=log):
        return _build_locked(study, t0, only=only, force=force, jobs=jobs, reports=reports,
                             notebooks_dir=notebooks_dir, progress=progress, timeout=timeout, log=log, pdf=pdf)


def _ensure_gitignore(work: Path) -> None:
    gi = work / ".gitignore"
    if not gi.is_file():
        gi.write_text("# veplab's private build folder: executed notebooks hold row-level results. Never commit.\n*\n")


class _BuildLock:
    """An exclusive ``fcntl`` lock on the study's build (POSIX); a no-op where fcntl is missing."""

    def __init__(self, path: Path, study_id: str, *, wait: bool, log: Callable[[str], None] | None):
        self.path, self.study_id, self.wait, self.log = path, study_id, wait, log
        self.fh: Any = None

    def __enter__(self) -> "_BuildLock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        self.fh = open(self.path, "a+")
        deadline = time.monotonic() + 5.0  # a build that was just killed may take a moment to let go
        while True:
            try:
                fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not self.wait and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
            self.fh.seek(0)
            holder = self.fh.read().strip() or "another process"
            if not self.wait:
                self.fh.close()
                raise BuildError(f"another build of study {self.study_id!r} is running ({holder}); wait for it "
                                 "to finish, or run `veplab build --wait` to queue behind it") from None
            if self.log:
                self.log(f"another build of study {self.study_id!r} is running ({holder}); waiting for it")
            fcntl.flock(self.fh, fcntl.LOCK_EX)
            break
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"pid {os.getpid()} since {_dt.datetime.now().isoformat(timespec='seconds')}")
        self.fh.flush()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.fh is not None:
            import fcntl

            self.fh.seek(0)
            self.fh.truncate()
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()


def _build_locked(study: Study, t0: float, *, only: list[str] | None, force: bool, jobs: int,
                  reports: str | Path | None, notebooks_dir: str | Path | None,
                  progress: Callable[[str, NotebookRun], None] | None, timeout: int | None,
                  log: Callable[[str], None] | None, pdf: bool) -> BuildResult:
    root = find_root(study.folder)
    reports = Path(reports) if reports is not None else root / "reports"
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else root / "notebooks"
    reports.mkdir(parents=True, exist_ok=True)
    _recover(reports, study.id)
    target = reports / study.id
    work = study.folder / WORK
    if (target / OLD_WORK).exists():  # executed notebooks of an older build: private, never in reports/
        shutil.rmtree(target / OLD_WORK, ignore_errors=True)
    if timeout is None:
        timeout = getattr(study, "timeout", None) or 1800

    specs = list(study.notebooks)
    names = [s["name"] for s in specs]
    if only:
        unknown = [o for o in only if o not in names]
        if unknown:
            raise BuildError(f"--only names notebooks not in {study.config_path.name}: {unknown}; "
                             f"the study runs {names}")
    from .analyses import resolve_all

    resolved, problems = resolve_all(study)
    if problems:
        raise BuildError("the study's analyses: cannot run as declared:\n" + "\n".join(problems))
    unused = [k for k in study.parameters
              if not any(k in notebook_parameters(_read_notebook_json(notebooks_dir / f"{s['name']}.ipynb"))
                         for s in specs if (notebooks_dir / f"{s['name']}.ipynb").is_file())]
    if unused:
        raise BuildError(f"{study.config_path}: parameters {unused} are taken by none of the study's notebooks; "
                         "an analysis's settings go under analyses: (see `veplab analyses`)")
    inputs = input_hashes(study)
    missing = [k for k, v in inputs["data"].items() if v == "missing"]
    if missing:
        raise BuildError(f"data files missing for sources {missing} (looked in {study.folder / 'data'}); "
                         f"run `veplab synth {study.folder}` for a synthetic study, or put the exports there")

    runs: list[NotebookRun] = []
    todo: list[tuple[NotebookRun, Path, dict[str, Any]]] = []
    for spec in specs:
        src = notebooks_dir / f"{spec['name']}.ipynb"
        if not src.is_file():
            raise BuildError(f"notebook {spec['name']!r} named in {study.config_path} not found at {src}")
        nb = _read_notebook_json(src)
        params = _params_for(study, spec, nb)
        analysis = resolved.get(spec["name"])
        key = cache_key(nb, {**params, "_analysis": (analysis.options, analysis.skipped) if analysis else None,
                             "_design": (study.cluster, study.breakdowns)}, inputs)
        run = NotebookRun(name=spec["name"], key=key)
        runs.append(run)
        keyfile = work / f"{run.name}.key"
        cached = (not force and keyfile.is_file() and keyfile.read_text().strip() == key
                  and (work / f"{run.name}.ipynb").is_file())
        selected = only is None or run.name in only
        if cached or not selected:
            run.status = "cached" if cached else "skipped"
            if not cached and not (work / f"{run.name}.ipynb").is_file():
                run.status = "missing"
            if progress:
                progress("cached" if cached else "skipped", run)
            continue
        todo.append((run, src, params))

    manifest_path = target / "manifest.json"
    approvals_path = study.folder / "approvals.yml"
    overall = _sha(json.dumps([r.key for r in runs] + [_code_hash(), _sha(study.config_path.read_bytes()),
                                                        _file_sha(approvals_path) if approvals_path.is_file()
                                                        else None]).encode())
    if not todo and manifest_path.is_file() and all(r.status == "cached" for r in runs):
        try:
            if json.loads(manifest_path.read_text()).get("build_key") == overall:
                return BuildResult(study.id, target, runs, published=False, seconds=time.perf_counter() - t0)
        except (OSError, ValueError):
            pass

    if todo:
        jupyter_path = str(_kernel_dir(work))
        with cf.ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo)))) as pool:
            futures = {}
            for run, src, params in todo:
                out = work / f"{run.name}.running.ipynb"
                if progress:
                    progress("start", run)
                futures[pool.submit(_execute, run.name, str(src), str(out), params, str(study.folder),
                                    jupyter_path, timeout, str(progress_file(study, run.name)))] = run
            for fut in cf.as_completed(futures):
                run = futures[fut]
                res = fut.result()
                run.status, run.error, run.seconds = res["status"], res["error"], res["seconds"]
                running = work / f"{run.name}.running.ipynb"
                if run.status == "ran":
                    running.replace(work / f"{run.name}.ipynb")
                    (work / f"{run.name}.key").write_text(run.key)
                elif running.is_file():
                    running.replace(work / f"{run.name}.failed.ipynb")
                if progress:
                    progress(run.status, run)

    failed = [r for r in runs if r.status == "failed"]
    if failed or any(r.status == "missing" for r in runs):
        return BuildResult(study.id, target, runs, published=False, seconds=time.perf_counter() - t0)

    from .brief import BriefError
    from .release import ApprovalError

    briefs: dict[str, Any] = {}
    try:
        leaks = _publish(study, runs, inputs, target, reports, overall, log=log, pdf=pdf, briefs=briefs)
    except ApprovalError as exc:
        raise BuildError(str(exc)) from None
    except BriefError as exc:
        _audit(study, "build", inputs=inputs, threshold=study.threshold, published=False,
               notebooks={r.name: r.status for r in runs}, brief_error=str(exc))
        return BuildResult(study.id, target, runs, published=False, seconds=time.perf_counter() - t0,
                           brief_error=str(exc))
    published = not leaks
    _audit(study, "build", inputs=inputs, threshold=study.threshold, published=published,
           notebooks={r.name: r.status for r in runs}, leaks=[str(f) for f in leaks])
    return BuildResult(study.id, target, runs, published=published, seconds=time.perf_counter() - t0, leaks=leaks,
                       briefs=briefs if published else {})


def _audit(study: Study, event: str, **fields: Any) -> None:
    from .privacy import AuditLog

    AuditLog(study.folder / "audit.log").append(event, study=study.id, **fields)


def privacy_inputs(study: Study) -> dict[str, Any]:
    """What the leak scan looks for: records per source, every id and pseudonym, free-text answers."""
    import warnings

    n_records: dict[str, int] = {}
    ids: set[str] = set()
    free_text: set[str] = set()
    for name, source in study.sources.items():
        cb = source.codebook()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = source.load(on_error="flag", score=False)
        n_records[name] = len(df)
        for item in cb.items:
            if item.id not in df.columns:
                continue
            values = df[item.id].dropna().astype(str)
            if item.id == cb.id_column or item.role == "identifier" or item.pseudonymised:
                ids.update(values)
            elif item.type == "text" and item.role in ("sensitive", "item", "outcome"):
                free_text.update(v for v in values if len(v.strip()) >= 20)
    return {"n_records": n_records, "ids": ids, "free_text": free_text}


def key_ids(study: Study) -> list[str]:
    """Key ids of the pseudonymisation runs recorded in the study's audit log (never the keys)."""
    from .privacy.audit import pseudonym_key_ids

    return pseudonym_key_ids(study.folder / "audit.log")


def _publish(study: Study, runs: list[NotebookRun], inputs: Mapping[str, Any], target: Path, reports: Path,
             overall: str, *, log: Callable[[str], None] | None = None, pdf: bool = True,
             briefs: dict[str, Any] | None = None) -> list[Any]:
    """Assemble the report in a temporary folder (pages, results, release log, briefs), scan it, swap it in.

    Pages are rendered from gated outputs only (:mod:`veplab.release`).
    Returns the leak-scan findings of severity error (empty when published);
    a :class:`veplab.brief.BriefError` propagates after the folder is removed."""
    import nbformat

    from . import release as rel

    work = study.folder / WORK
    threshold = study.threshold
    approvals = rel.load_approvals(study.folder / "approvals.yml")
    pages: dict[str, list[tuple[str, Any]]] = {}
    outputs: list[rel.Output] = []
    withheld: dict[str, int] = {}
    titles: dict[str, str] = {}
    scan = privacy_inputs(study)
    for run in runs:
        nb = nbformat.read(work / f"{run.name}.ipynb", as_version=4)
        titles[run.name] = _notebook_title(nb, run.name)
        blocks, outs, n_withheld = rel.page_blocks(nb, run.name)
        pages[run.name], withheld[run.name] = blocks, n_withheld
        for o in outs:
            o.status, o.reasons = rel.verify(o.payload, threshold, n_records=scan["n_records"])
            for field in rel.check_caption(o.payload, threshold):
                o.reasons.append(f"{field} withheld: it states a number below the disclosure threshold")
            if o.status == "ok" and any(any(r) for r in (o.payload.get("suppressed") or [])):
                o.status = "suppressed"
        outputs += outs
    for line in rel.protect_linked(outputs, threshold, groupings=_grouping_names(study)):
        if log:
            log(line)
    unused = rel.apply_approvals(outputs, approvals)
    if unused and log:
        log(f"approvals.yml names {len(unused)} output(s) that are not held for review in this build: "
            + ", ".join(unused))
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{study.id}-", dir=reports))
    nav = [("index.html", "Contents")] + [(f"{r.name}.html", titles[r.name]) for r in runs]
    built_at = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    files = ["index.html", "results.json", "manifest.json", "release.json"]
    for run in runs:
        body = rel.render_blocks(pages[run.name], threshold)
        page = _page(titles[run.name], body, study=study, nav=nav,
                     footer=f"veplab {html.escape(__version__)} · study {html.escape(study.id)} · "
                            f"page {html.escape(run.name)}")
        (tmp / f"{run.name}.html").write_text(page, encoding="utf-8")
        files.append(f"{run.name}.html")
    results: dict[str, Any] = {r.name: {"tables": {}, "figures": {}, "values": {}, "texts": {}} for r in runs}
    for o in outputs:  # outputs not published appear without their numbers, with the reason
        results[o.notebook].setdefault(o.group, {})[o.key] = rel.public_payload(o)
    results_doc = {"study": study.id, "veplab": __version__, "threshold": threshold, "notebooks": results}
    (tmp / "results.json").write_text(json.dumps(results_doc, indent=1, sort_keys=True, ensure_ascii=False),
                                      encoding="utf-8")
    from importlib import metadata

    key_pkgs = ["veplab", "numpy", "scipy", "pandas", "statsmodels", "matplotlib", "papermill", "nbconvert",
                "pyreadstat", "lifelines"]
    versions = {}
    for p in key_pkgs:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pass
    manifest = {
        "study": study.id,
        "build_key": overall,
        "built_at": built_at,
        "veplab": __version__,
        "veplab_code_sha256": _code_hash(),
        "python": sys.version.split()[0],
        "packages": versions,
        "dependency_lock_sha256": _lock_hash(),
        "git": _git_commit(find_root(study.folder)),
        "seed": study.seed,
        "disclosure_threshold": threshold,
        "study_config_sha256": _file_sha(study.config_path),
        "inputs": inputs,
        "parameters": study.parameters,
        "notebooks": {r.name: {"cache_key": r.key, "status": r.status, "seconds": round(r.seconds, 3)}
                      for r in runs},
    }
    if study.brief:
        from .brief import build_briefs

        try:
            written = build_briefs(study, tmp, results_doc, manifest, log=log, pdf=pdf)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if briefs is not None:
            briefs.update(manifest.get("briefs") or {})
        files += [p.name for p in written.html.values()] + [p.name for p in written.pdf.values()]
        brief_items = "".join(
            f'<li lang="{html.escape(lang)}"><a href="{html.escape(p.name)}">{html.escape(_LANG_NAMES.get(lang, lang))}'
            f" (HTML)</a>"
            + (f' · <a href="{html.escape(written.pdf[lang].name)}">PDF, {written.pages[lang]} pages</a>'
               if lang in written.pdf else "")
            + "</li>" for lang, p in written.html.items())
        brief_block = f"<h2>Policy briefs</h2>\n<ul class=\"pages\">{brief_items}</ul>\n" if brief_items else ""
    else:
        brief_block = ""
    held = [o for o in outputs if not o.published]
    page_items = "".join(
        f'<li><a href="{html.escape(r.name)}.html">{html.escape(titles[r.name])}</a></li>' for r in runs)
    desc = html.escape(study.description_text())
    held_txt = (f" {len(held)} output(s) were not published (held for review, refused or withheld); "
                f"<code>release.json</code> lists them with the reason." if held else "")
    index_body = (
        f"<h1>{html.escape(study.text())}</h1>\n<p>{desc}</p>\n{brief_block}<h2>Analyses</h2>\n"
        f"<ul class=\"pages\">{page_items}</ul>\n"
        f"<h2>Provenance</h2>\n<p>Every number on these pages is in <code>results.json</code>; the data, codebook "
        f"and package versions that produced them are in <code>manifest.json</code>; every published output, the "
        f"disclosure rule applied to it and its status are in <code>release.json</code>. Cells based on fewer "
        f"than {threshold} people are suppressed.{held_txt}</p>\n"
    )
    (tmp / "index.html").write_text(
        _page("Contents", index_body, study=study, nav=nav,
              footer=f"veplab {html.escape(__version__)} · built {built_at}"), encoding="utf-8")
    from .privacy import AuditLog, scan_artifacts

    audit = AuditLog(study.folder / "audit.log")
    manifest["pseudonym_key_ids"] = key_ids(study)
    manifest["audit_head"] = audit.head()
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str),
                                       encoding="utf-8")
    release_doc = _release_doc(study, outputs, withheld, built_at, manifest["audit_head"], sorted(files))
    (tmp / "release.json").write_text(json.dumps(release_doc, indent=1, sort_keys=True, ensure_ascii=False,
                                                 default=str), encoding="utf-8")
    findings = scan_artifacts(tmp, n_records=scan["n_records"], ids=scan["ids"], free_text=scan["free_text"],
                              threshold=threshold)
    # name the published page, not the temporary folder
    findings = [dataclasses.replace(f, file=f.file.replace(str(tmp), str(target))) for f in findings]
    errors = [f for f in findings if f.severity == "error"]
    if log:
        for f in findings:
            if f.severity != "error":
                log(f"leak scan warning: {f}")
    stray = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file()
                   and str(p.relative_to(tmp)) not in files)
    if stray:
        errors.append(f"the report folder would hold files the release log does not list: {stray}")
    if errors:
        shutil.rmtree(tmp, ignore_errors=True)
        return errors
    for o in outputs:
        if o.approval is not None:
            audit.append("release", study=study.id, output=o.id, approved_by=o.approval.get("approved_by"),
                         reason=o.approval.get("reason"), approval_date=o.approval.get("date"))
    # swap: old -> .old-*, tmp -> target (nothing private is carried over)
    old = None
    if target.exists():
        old = reports / f".old-{study.id}-{os.getpid()}"
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return []


def _grouping_names(study: Study) -> set[str]:
    """Ids and labels (every language) of the study's variables, case-folded: the groupings tables can share."""
    from .codebook import LANGUAGES

    names: set[str] = set()
    for src in study.sources.values():
        try:
            cb = src.codebook()
        except Exception:  # reported where the data are loaded
            continue
        for item in cb.items:
            names.add(item.id.casefold())
            for lang in LANGUAGES:
                names.add(str(item.text(lang)).casefold())
    return names


def _release_doc(study: Study, outputs: list[Any], withheld: Mapping[str, int], built_at: str,
                 audit_head: Any, files: list[str]) -> dict[str, Any]:
    from .release import STATUS_TEXT

    entries = []
    for o in outputs:
        p = o.payload
        entry = {"output": o.id, "notebook": o.notebook, "kind": p.get("kind"), "key": o.key,
                 "caption": p.get("caption"), "file": f"{o.notebook}.html" if o.published else None,
                 "rule": p.get("rule"), "status": STATUS_TEXT.get(o.status, o.status),
                 "min_n": p.get("min_n") if o.published else None, "reasons": list(o.reasons)}
        if o.approval is not None:
            entry["approval"] = dict(o.approval)
        entries.append(entry)
    counts: dict[str, int] = {}
    for e in entries:
        counts[e["status"]] = counts.get(e["status"], 0) + 1
    return {"study": study.id, "built_at": built_at, "threshold": study.threshold, "audit_head": audit_head,
            "outputs": entries, "summary": counts,
            "withheld_raw_outputs": {k: v for k, v in withheld.items() if v},
            "files": files}


#: Each brief's language, named in that language on the index page.
_LANG_NAMES = {"en": "English", "fr": "Français", "ar": "العربية", "ru": "Русский", "kk": "Қазақша"}
