"""``veplab build``: a study's notebooks, run by papermill, into a reproducible report.

A notebook reruns only when something it reads changed.  Its cache key is the
SHA-256 of the record :func:`notebook_inputs` makes of

* the notebook's code cells,
* the parameters it receives (only those its ``parameters`` cell declares,
  so changing a parameter reruns only the notebooks that use it),
* its analysis's resolved options (:func:`veplab.analyses.resolve`: a
  changed option reruns that analysis only) and the study-wide settings,
* the data (SHA-256 of the file, or of a SQL query's result) of the sources
  it reads, which its resolved options name (:func:`notebook_sources`), every
  codebook and every file under ``inputs:``,
* the veplab version and a hash of veplab's source (the brief's templates, CSS
  and language files aside: no notebook imports them),
* the versions of veplab's declared dependencies, resolved transitively
  (:func:`dependency_versions`), and the Python version; installing a package
  veplab does not depend on invalidates nothing.

An unchanged key reuses the last run.  The record is kept next to the
executed notebook, so the log says why each notebook reran ("rerun: source
'followup' changed", "rerun: parameter 'n_boot' changed") or was reused
("reused: inputs unchanged"); the manifest keeps the reason too.  The policy
briefs are rendered again only when what they read changed
(:func:`brief_inputs`: the ``brief:`` section, the results of the notebooks
it cites, codebooks, veplab's code, fonts); otherwise the last report's
brief files are carried over.  Runs execute in parallel worker processes
(``jobs``; each a fresh interpreter, :mod:`veplab._nbrun`, not a fork of the
caller) in a Jupyter kernel of this very Python environment (a private
kernelspec is written for each build, so "kernel not found" cannot happen),
or, with ``scheduler="tcp://host:8786"``, as tasks on a Dask cluster
(:func:`_execute_remote`): the notebook, its parameters and the files it may
read (the study folder without its private ``.build/``, and ``surveys/``) go to
a worker, which runs the notebook in a scratch folder with its own Python and
sends the executed notebook back.  The cache, the executed notebooks and the
atomic publish stay on the machine that runs the build.  The study's data
therefore travel to the workers: use a cluster inside the environment the
data may be in.  SQL sources are queried by the workers themselves.

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
from ._nbrun import KERNEL_NAME
from .study import Study, find_root, load_study

__all__ = ["BuildError", "BuildResult", "NotebookRun", "build", "cache_key", "notebook_parameters"]

WORK = ".build"
#: Where builds before this release kept executed notebooks (inside reports/): removed on sight.
OLD_WORK = ".work"


class BuildError(RuntimeError):
    """The build could not complete; the message names notebook, cell and error."""


@dataclasses.dataclass
class NotebookRun:
    name: str
    key: str
    status: str = "pending"  # cached | ran | failed | skipped | missing
    seconds: float = 0.0
    error: str | None = None
    title: str | None = None
    #: Why it reran or was reused, for the build log: "reused: inputs unchanged",
    #: "rerun: source 'followup' changed; parameter 'n_boot' changed", "rerun: --force".
    reason: str = ""


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
    #: "reused: inputs unchanged" or "re-rendered: results of 'push_pull' changed" (empty: no brief step).
    brief_reason: str = ""

    @property
    def failed(self) -> list[NotebookRun]:
        return [r for r in self.runs if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.leaks and not self.brief_error


# ------------------------------------------------------------------ hashing


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_sha(obj: Any) -> str:
    return _sha(json.dumps(obj, sort_keys=True, default=str).encode())


def _file_sha(path: Path) -> str:
    from .data.readers import sha256_file

    return sha256_file(path)


#: Memo of the dependency hashes (emptied by each :func:`build`, so packages installed since the last
#: build count) and of veplab's code hash (once per process, as the code a process imported).
_LOCK_CACHE: dict[str, Any] = {}

#: Extras of veplab that hold tooling, not code a build runs: their packages never invalidate results.
TOOLING_EXTRAS = frozenset({"dev", "test", "tests", "docs", "lint"})


def _norm(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Jinja2`` = ``jinja2``, ``ruamel.yaml`` = ``ruamel-yaml``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions() -> dict[str, Any]:
    """Every installed distribution by normalised name (the first on ``sys.path``: the one Python imports)."""
    from importlib import metadata

    out: dict[str, Any] = {}
    for dist in metadata.distributions():
        name = _norm(dist.metadata["Name"] or "")
        if name and name not in out:
            out[name] = dist
    return out


def dependency_lock() -> dict[str, str]:
    """Every installed distribution -> version (the whole environment; recorded in the manifest)."""
    return dict(sorted((name, dist.version) for name, dist in installed_distributions().items()))


def dependency_versions(package: str = "veplab") -> dict[str, str]:
    """The distributions ``package`` declares it needs, resolved transitively, -> installed version.

    Starts from ``package``'s ``Requires-Dist`` (its installed metadata): the
    unconditional requirements plus those of every extra whose requirements
    are all installed (but the tooling extras, :data:`TOOLING_EXTRAS`), then
    follows each installed requirement's own ``Requires-Dist`` (with the
    extras asked for, environment markers evaluated).  A declared requirement
    that is not installed maps to ``"not installed"``.  Packages nothing here
    requires are absent, so installing an unrelated package changes nothing.

    >>> deps = dependency_versions()
    >>> "numpy" in deps and "veplab" not in deps
    True
    """
    from packaging.requirements import InvalidRequirement, Requirement

    dists = installed_distributions()
    root = dists.get(_norm(package))
    if root is None:
        return {}

    def reqs(dist: Any) -> list[Requirement]:
        out = []
        for line in dist.requires or []:
            try:
                out.append(Requirement(line))
            except InvalidRequirement:
                continue
        return out

    def applies(req: Requirement, extras: set[str]) -> bool:
        if req.marker is None:
            return True
        return any(req.marker.evaluate({"extra": e}) for e in (extras or {""}))

    root_reqs = reqs(root)
    extras = set(root.metadata.get_all("Provides-Extra") or [])
    chosen = set()
    for extra in extras - TOOLING_EXTRAS:
        members = [r for r in root_reqs if r.marker is not None and r.marker.evaluate({"extra": extra})
                   and not r.marker.evaluate({"extra": ""})]
        if members and all(_norm(r.name) in dists for r in members):
            chosen.add(extra)
    versions: dict[str, str] = {}
    todo: list[tuple[Requirement, set[str]]] = [(r, chosen) for r in root_reqs]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req, parent_extras = todo.pop()
        if not applies(req, parent_extras):
            continue
        name = _norm(req.name)
        marker = (name, frozenset(req.extras))
        if marker in seen or name == _norm(package):
            continue
        seen.add(marker)
        dist = dists.get(name)
        if dist is None:
            versions.setdefault(name, "not installed")
            continue
        versions[name] = dist.version
        todo.extend((r, set(req.extras)) for r in reqs(dist))
    return dict(sorted(versions.items()))


def _dependencies() -> dict[str, str]:
    if "deps" not in _LOCK_CACHE:
        _LOCK_CACHE["deps"] = dependency_versions()
    return _LOCK_CACHE["deps"]


def _lock_hash() -> str:
    """Hash of veplab's declared dependencies and their versions, and of the Python interpreter."""
    if "lock" not in _LOCK_CACHE:
        _LOCK_CACHE["lock"] = _json_sha({"python": _python(), "dependencies": _dependencies()})
    return _LOCK_CACHE["lock"]


def _python() -> str:
    return f"{sys.implementation.name} {sys.version.split()[0]}"


#: Parts of veplab that notebooks never import (the briefs are rendered by the build, after them).
_NOT_IN_NOTEBOOKS = ("brief",)


def _code_hash(scope: str = "all") -> str:
    """Hash of veplab's own source (a code change invalidates results even without a version bump).

    ``scope="notebooks"`` leaves out the subpackages notebooks never import
    (:data:`_NOT_IN_NOTEBOOKS`: the brief's templates, CSS and language files),
    so restyling a brief re-renders the brief and reruns no notebook."""
    if f"code:{scope}" not in _LOCK_CACHE:
        root = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root)
            if scope == "notebooks" and rel.parts[0] in _NOT_IN_NOTEBOOKS:
                continue
            if p.suffix in (".py", ".yml", ".yaml", ".j2", ".css", ".mplstyle") and "__pycache__" not in p.parts:
                h.update(str(rel).encode())
                h.update(p.read_bytes())
        _LOCK_CACHE[f"code:{scope}"] = h.hexdigest()
    return _LOCK_CACHE[f"code:{scope}"]


def _read_notebook_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def notebook_parameters(nb: Mapping[str, Any]) -> dict[str, str]:
    r"""Names declared in the notebook's ``parameters`` cell -> their source line.

    The ``parameters`` cell is the code cell tagged ``parameters``, as
    papermill defines it; a name counts when a line assigns it at the start
    (``name = ...`` or ``name: type = ...``).  Only these parameters enter a
    notebook's cache key, so a changed parameter reruns only the notebooks
    that declare it.

    Parameters
    ----------
    nb : mapping
        The notebook as nbformat JSON (``{"cells": [...]}``).

    Returns
    -------
    dict of str to str
        Empty when there is no ``parameters`` cell.

    References
    ----------
    papermill documentation, "Parameterize" (the ``parameters`` cell tag),
    https://papermill.readthedocs.io/en/latest/usage-parameterize.html.
    Jupyter nbformat 4 specification (cells, ``metadata.tags``),
    https://nbformat.readthedocs.io/en/latest/format_description.html.

    Examples
    --------
    >>> nb = {"cells": [
    ...     {"cell_type": "code", "metadata": {"tags": ["parameters"]},
    ...      "source": "source = 'survey'\nn_boot: int = 2000\n# a comment\n"},
    ...     {"cell_type": "code", "metadata": {}, "source": "print(source)"}]}
    >>> notebook_parameters(nb)
    {'source': "source = 'survey'", 'n_boot': 'n_boot: int = 2000'}
    """
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
            data[name] = _file_sha(src.path) if src.path is not None and src.path.is_file() else "missing"
        codebooks[src.codebook_path.name] = _file_sha(src.codebook_path)
    extra = {}
    for rel in (study.raw.get("inputs") or []):
        p = (study.folder / rel)
        extra[str(rel)] = _file_sha(p) if p.is_file() else "missing"
    pop = (getattr(study, "survey", None) or {}).get("population")
    if pop:  # the population figures a survey design weights to (design.population)
        p = Path(pop)
        rel = str(p.relative_to(study.folder)) if p.is_relative_to(study.folder) else str(p)
        extra.setdefault(rel, _file_sha(p) if p.is_file() else "missing")
    out: dict[str, Any] = {"data": data, "codebooks": codebooks, "other": extra}
    if sql:
        out["sql"] = sql
    return out


def notebook_sources(study: Study, analysis: Any) -> list[str]:
    """The sources whose data a notebook reads, in the study's order.

    For an analysis of ``analyses:`` these are the sources its resolved options
    name (:func:`veplab.analyses.resolve`: every ``source``, ``sources``,
    ``score_source`` and ``subsets`` key, at any depth, defaults filled in),
    plus, with an evaluation ``framework``, the sources that file has a block
    for.  A notebook that is no declared analysis (``analysis`` None) reads
    every source.  (Codebooks are not narrowed: every page labels items from
    every codebook, so each codebook feeds every notebook.)
    """
    if analysis is None:
        return list(study.sources)
    found: set[str] = set()

    def walk(obj: Any) -> None:
        if isinstance(obj, Mapping):
            for k, v in obj.items():
                if k in ("source", "score_source") and isinstance(v, str):
                    found.add(v)
                elif k == "sources" and isinstance(v, (list, tuple)):
                    found.update(str(x) for x in v)
                elif k == "subsets" and isinstance(v, Mapping):
                    found.update(str(x) for x in v)
                walk(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v)

    walk(analysis.options)
    framework = analysis.options.get("framework") if isinstance(analysis.options, Mapping) else None
    if framework:
        try:
            import yaml

            blocks = yaml.safe_load((study.folder / str(framework)).read_text(encoding="utf-8"))
            found.update(str(k) for k in blocks) if isinstance(blocks, Mapping) else found.update(study.sources)
        except (OSError, ValueError, Exception):  # unreadable: the notebook reports it; assume it reads all
            found.update(study.sources)
    return [s for s in study.sources if s in found]


#: Keys of study.yml a notebook sees through other parts of its key (its analysis, its parameters,
#: the sources it reads) or never (the brief); every other key (title, languages, disclosure, design,
#: seed, ...) is study-wide and feeds every notebook.
_NOT_STUDY_WIDE = ("analyses", "parameters", "notebooks", "sources", "inputs", "brief", "timeout")


def _study_settings(study: Study) -> str:
    return _json_sha({k: v for k, v in study.raw.items() if k not in _NOT_STUDY_WIDE})


def notebook_inputs(study: Study, spec: Mapping[str, Any], nb: Mapping[str, Any], params: Mapping[str, Any],
                    analysis: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Everything a notebook's results depend on, as the record its cache key hashes.

    ``code`` (its code cells), ``parameters``, ``analysis`` (resolved options and
    skipped parts), ``study`` (the study-wide settings), ``sources`` (data hash
    and source settings of each source it reads, :func:`notebook_sources`),
    ``codebooks`` and ``files`` (every codebook and ``inputs:`` file),
    ``veplab`` (version and source hash without the brief), ``lock``
    (:func:`dependency_versions` and the Python version).  What installed
    packages veplab does not depend on is not in it.
    """
    read = notebook_sources(study, analysis)
    raw_sources = study.raw.get("sources")
    if not isinstance(raw_sources, Mapping):
        raw_sources = {}
    sources = {}
    for name in read:
        entry: dict[str, Any] = {"data": inputs["data"].get(name), "settings": _json_sha(raw_sources.get(name))}
        if name in (inputs.get("sql") or {}):
            entry["sql"] = inputs["sql"][name]
        sources[name] = entry
    return {
        "code": _sha(_code_cells(nb).encode()),
        # the study's folder is a parameter of the notebooks but not an input: a study moved or copied
        # elsewhere (another disk, another machine) reads the same files and reuses its results
        "parameters": {k: ("<study folder>" if k == "study" else v) for k, v in params.items()},
        "analysis": {"options": analysis.options, "skipped": analysis.skipped} if analysis is not None else None,
        "design": {"cluster": study.cluster, "breakdowns": list(study.breakdowns)},
        "study": _study_settings(study),
        "sources": sources,
        "codebooks": dict(inputs["codebooks"]),
        "files": dict(inputs.get("other") or {}),
        "veplab": {"version": __version__, "code": _code_hash("notebooks")},
        "lock": _lock_hash(),
    }


def cache_key(nb: Mapping[str, Any], params: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """The content hash of a notebook's code, its parameters, the given inputs, veplab and its dependencies.

    ``veplab build`` hashes :func:`notebook_inputs`; this is the same hash
    for a notebook outside a study (all ``inputs`` count).

    ``key = SHA-256(canonical JSON of {code: SHA-256(code cells), parameters,
    inputs, veplab: {version, source hash}, lock: hash of the dependency
    versions})``: the same notebook, parameters, inputs and software give the
    same key on any machine; anything else gives another one.

    Parameters
    ----------
    nb : mapping
        The notebook (nbformat JSON); only its code cells count.
    params : mapping
        The parameters it receives.
    inputs : mapping
        Anything else it reads (hashes of data files, options).

    Returns
    -------
    str
        64 hexadecimal digits.

    References
    ----------
    NIST (2015), FIPS 180-4, *Secure Hash Standard* (SHA-256).
    Landau, W. M. (2021). The targets R package: a dynamic Make-like
    function-oriented pipeline toolkit for reproducibility and
    high-performance computing. *Journal of Open Source Software* 6(57), 2959
    (skip what is up to date; veplab also hashes the data).

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "print(source)"}]}
    >>> key = cache_key(nb, {"source": "survey"}, {"data": "ab12"})
    >>> len(key), key == cache_key(nb, {"source": "survey"}, {"data": "ab12"})
    (64, True)
    >>> key == cache_key(nb, {"source": "staff"}, {"data": "ab12"})
    False
    """
    return _json_sha({"code": _sha(_code_cells(nb).encode()), "parameters": params, "inputs": inputs,
                      "veplab": {"version": __version__, "code": _code_hash("notebooks")}, "lock": _lock_hash()})


def _changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k, _MISSING) != new.get(k, _MISSING))


_MISSING = object()


def rerun_reason(old: Mapping[str, Any] | None, new: Mapping[str, Any], *, old_deps: Mapping[str, str] | None = None,
                 new_deps: Mapping[str, str] | None = None) -> str | None:
    """Why a notebook must rerun, in words ("source 'followup' changed; parameter 'n_boot' changed"),
    comparing the input records (:func:`notebook_inputs`) of its last run and of now; None: unchanged."""
    if old is None:
        return "not run before"
    if old == new:
        return None
    why: list[str] = []
    if old.get("code") != new.get("code"):
        why.append("notebook code changed")
    for k in _changed(old.get("parameters") or {}, new.get("parameters") or {}):
        why.append(f"parameter {k!r} changed")
    oa, na = old.get("analysis") or {}, new.get("analysis") or {}
    if oa != na:
        keys = _changed(oa.get("options") or {}, na.get("options") or {})
        why.append(f"analysis option{'s' if len(keys) > 1 else ''} {', '.join(map(repr, keys))} changed" if keys
                   else "analysis settings changed")
    if old.get("design") != new.get("design"):
        why.append("study design changed")
    if old.get("study") != new.get("study"):
        why.append("study settings changed")
    os_, ns = old.get("sources") or {}, new.get("sources") or {}
    for name in [*ns, *(s for s in os_ if s not in ns)]:
        if name not in os_:
            why.append(f"now reads source {name!r}")
        elif name not in ns:
            why.append(f"no longer reads source {name!r}")
        elif os_[name].get("data") != ns[name].get("data") or os_[name].get("sql") != ns[name].get("sql"):
            why.append(f"source {name!r} changed")
        elif os_[name] != ns[name]:
            why.append(f"settings of source {name!r} changed")
    for k in _changed(old.get("codebooks") or {}, new.get("codebooks") or {}):
        why.append(f"codebook {k!r} changed")
    for k in _changed(old.get("files") or {}, new.get("files") or {}):
        why.append(f"input file {k!r} changed")
    ov, nv = old.get("veplab") or {}, new.get("veplab") or {}
    if ov.get("version") != nv.get("version"):
        why.append(f"veplab {ov.get('version')} -> {nv.get('version')}")
    elif ov != nv:
        why.append("veplab's code changed")
    if old.get("lock") != new.get("lock"):
        od, nd = dict(old_deps or {}), dict(new_deps or {})
        diffs = [f"{k} {od.get(k, 'not required')} -> {nd.get(k, 'not required')}" for k in _changed(od, nd)]
        if diffs:
            why.append("dependency " + ", ".join(diffs[:3]) + (f" and {len(diffs) - 3} more" if len(diffs) > 3
                                                                  else "") + " changed")
        else:
            why.append("the Python interpreter or veplab's dependencies changed")
    known = {"code", "parameters", "analysis", "design", "study", "sources", "codebooks", "files", "veplab", "lock"}
    if not why or any(old.get(k) != new.get(k) for k in (set(old) | set(new)) - known):
        why.append("inputs recorded differently by an older veplab")
    return "; ".join(why)


def _reusable(work: Path, name: str, key: str, record: Mapping[str, Any], *, force: bool) -> tuple[bool, str]:
    """Whether the last run of notebook ``name`` can be reused, else why not (in words)."""
    keyfile = work / f"{name}.key"
    if not keyfile.is_file() or not (work / f"{name}.ipynb").is_file():
        return False, "not run before"
    if force:
        return False, "--force"
    if keyfile.read_text().strip() == key:
        return True, ""
    try:
        saved = json.loads((work / f"{name}.inputs.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = None
    if not isinstance(saved, Mapping) or saved.get("key") != keyfile.read_text().strip():
        return False, "its last run was by an older veplab, which kept no record of its inputs"
    why = rerun_reason(saved.get("inputs"), record, old_deps=saved.get("dependencies"), new_deps=_dependencies())
    return False, why or "inputs recorded differently by an older veplab"


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


def progress_file(study: Study, notebook: str) -> Path:
    """Where a running notebook's Report notes each output it publishes (one line: kind and key), so
    ``veplab build`` can show progress inside a long notebook.  In the study's private work folder."""
    return study.folder / WORK / f"{notebook}.progress"


def _run_notebook(name: str, src: str, out: str, params: dict[str, Any], cwd: str, jupyter_path: str,
                  timeout: int, progress: str | None = None) -> dict[str, Any]:
    """Run one notebook in a fresh worker process (``python -m veplab._nbrun``, see :mod:`veplab._nbrun`).

    Not a fork of this process: a forked worker would carry everything the caller holds (a whole data set
    when the caller made it), counted once more in memory for each notebook running at once."""
    job = {"name": name, "src": src, "out": out, "params": params, "cwd": cwd, "jupyter_path": jupyter_path,
           "timeout": timeout, "progress": progress}
    here = str(Path(__file__).resolve().parents[1])  # the folder this veplab is imported from
    code = f"import sys; sys.path.insert(0, {here!r}); from veplab._nbrun import main; main()"
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(job, default=str), text=True,
                              capture_output=True, timeout=timeout + 600 if timeout else None)
    except subprocess.TimeoutExpired:
        return {"name": name, "status": "failed", "error": f"notebook {name!r}: the worker did not finish",
                "seconds": time.perf_counter() - start}
    lines = proc.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])[:500]
        return {"name": name, "status": "failed", "error": f"notebook {name!r}: the worker process stopped "
                f"(exit code {proc.returncode}){': ' + tail if tail else ''}", "seconds": time.perf_counter() - start}


# ------------------------------------------------------------------ Dask


def _bundle(study: Study) -> tuple[dict[str, bytes], str]:
    """The files a notebook of ``study`` may read, by path relative to the project root, and the study's path.

    The study folder (without its private working folders) and ``surveys/``."""
    root = find_root(study.folder)
    try:
        rel = study.folder.resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path(study.folder.name)
    files: dict[str, bytes] = {}
    for base, prefix in ((root / "surveys", Path("surveys")), (study.folder, rel)):
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            sub = p.relative_to(base)
            if p.is_file() and not ({WORK, OLD_WORK, "__pycache__"} & set(sub.parts)):
                files[(prefix / sub).as_posix()] = p.read_bytes()
    return files, rel.as_posix()


def _execute_remote(name: str, notebook: str, params: dict[str, Any], bundle: tuple[dict[str, bytes], str],
                    timeout: int) -> dict[str, Any]:
    """Run one notebook on a Dask worker, in a scratch copy of the study (see the module docstring).

    Returns what :func:`_run_notebook` returns plus ``notebook`` (the executed
    notebook as text) and ``worker`` (the host that ran it)."""
    import socket

    files, study_rel = bundle
    with tempfile.TemporaryDirectory(prefix="veplab-build-") as tmp:
        base = Path(tmp)
        for rel, data in files.items():
            target = base / "project" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        folder = base / "project" / study_rel
        src, out = base / f"{name}.source.ipynb", base / f"{name}.ipynb"
        src.write_text(notebook, encoding="utf-8")
        params = dict(params)
        if "study" in params:
            params["study"] = str(folder)
        res = _run_notebook(name, str(src), str(out), params, str(folder), str(_kernel_dir(base / "jupyter")),
                            timeout, None)
        res["notebook"] = out.read_text(encoding="utf-8") if out.is_file() else None
    res["worker"] = socket.gethostname()
    return res


def _run_on_dask(study: Study, todo: list[tuple[NotebookRun, Path, dict[str, Any]]], scheduler: str, timeout: int,
                 progress: Callable[[str, NotebookRun], None] | None,
                 finished: Callable[[NotebookRun, Mapping[str, Any]], None],
                 log: Callable[[str], None] | None) -> None:
    """Submit each notebook to the Dask cluster at ``scheduler``; hand each result to ``finished`` as it comes."""
    from ._dask import connect, distributed_module

    distributed = distributed_module("--scheduler", BuildError)
    client = connect(scheduler, "veplab build --scheduler", BuildError)
    try:
        files, rel = _bundle(study)
        if log:
            log(f"sending {len(todo)} notebook(s) and {len(files)} study files "
                f"({sum(map(len, files.values())) / 2**20:.1f} MB) to the Dask cluster at {scheduler}")
        [bundle] = client.scatter([(files, rel)], hash=False)
        futures = {}
        for run, src, params in todo:
            if progress:
                progress("start", run)
            fut = client.submit(_execute_remote, run.name, src.read_text(encoding="utf-8"), params, bundle, timeout,
                                pure=False, key=f"veplab-build-{study.id}-{run.name}-{run.key[:12]}")
            futures[fut] = run
        for fut in distributed.as_completed(list(futures), loop=client.loop):
            run = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker lost, a module missing on the worker...
                res = {"status": "failed", "error": f"notebook {run.name!r} on the Dask cluster: "
                                                    f"{type(exc).__name__}: {exc}", "seconds": 0.0}
            finished(run, res)
    finally:
        client.close()


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
table.veplab-table td.text { text-align: start; white-space: normal; min-width: 10rem; }
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


# ------------------------------------------------------------------ what each brief reads


class _CannotTell(Exception):
    pass


def brief_notebooks(study: Study) -> list[str] | None:
    """The notebooks whose results the study's brief reads (None: it cannot be told; all count).

    Every ``key:`` of the ``brief:`` section (figures, charts, methods'
    samples and reliability) names ``notebook.group.name``; ``samples: auto``
    reads ``overview`` and ``reliability: auto`` reads ``reliability``
    (:mod:`veplab.brief`)."""
    spec = study.brief
    names: set[str] = set()

    def add(key: Any) -> None:
        if not isinstance(key, str) or "." not in key or "{" in key.split(".", 1)[0]:
            raise _CannotTell
        names.add(key.split(".", 1)[0])

    def walk(obj: Any) -> None:
        if isinstance(obj, Mapping):
            for k, v in obj.items():
                add(v) if k == "key" else walk(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v)

    try:
        walk({k: v for k, v in spec.items() if k != "methods"})
        methods = spec.get("methods") or {}
        if not isinstance(methods, Mapping):
            raise _CannotTell
        for part, auto in (("samples", "overview"), ("reliability", "reliability")):
            entries = methods.get(part, "auto")
            if entries == "auto":
                names.add(auto)
            elif isinstance(entries, list):
                for e in entries:
                    add(e) if isinstance(e, str) else walk(e)
            elif entries:
                raise _CannotTell
        walk({k: v for k, v in methods.items() if k not in ("samples", "reliability")})
    except _CannotTell:
        return None
    return sorted(names)


def _font_files(languages: list[str]) -> str:
    """Hash of the font files fontconfig gives the brief's font families (a font update re-renders)."""
    try:
        from .brief import required_fonts
        from .brief._render import _fc_list

        fams = _fc_list()
        files = sorted({f for fam in required_fonts(languages) for f in fams.get(fam, [])})
    except Exception as exc:  # noqa: BLE001 - no fontconfig: the brief step says so itself
        return f"unknown ({type(exc).__name__})"
    stats: list[tuple[str, int | None, int | None]] = []
    for f in files:
        try:
            st = os.stat(f)
            stats.append((f, st.st_size, st.st_mtime_ns))
        except OSError:
            stats.append((f, None, None))
    return _json_sha(stats)


def brief_inputs(study: Study, results: Mapping[str, Any] | None, inputs: Mapping[str, Any], *,
                 pdf: bool) -> dict[str, Any]:
    """What the study's briefs are rendered from, each part hashed: a brief whose parts are unchanged
    is copied from the last report instead of rendered again.

    ``spec`` (the ``brief:`` section), ``study`` (title, description, languages,
    design, disclosure, source names, the overview's sources), ``codebooks``
    (labels), ``results`` (per notebook the brief reads, :func:`brief_notebooks`,
    plus the results' study, version and threshold), ``veplab`` (all of
    veplab's source: templates, CSS, language files, charts), ``lock``
    (dependencies, Python), ``fonts`` (the font files), ``pdf`` and
    ``pseudonymised`` (whether the audit log records pseudonymisation).
    The build date is not an input: a reused brief keeps the dates of the
    build that rendered it (its results have not changed since).  ``results`` None leaves the
    results out (what the build can tell before any notebook runs)."""
    out: dict[str, Any] = {"results": None}
    if results is not None:
        nbs = results.get("notebooks") or {}
        read = brief_notebooks(study)
        out["results"] = {"_meta": _json_sha({k: results.get(k) for k in ("study", "veplab", "threshold")}),
                          **{nb: _json_sha(nbs.get(nb)) for nb in (sorted(nbs) if read is None else read)}}
    declared = study.raw.get("analyses")
    if not isinstance(declared, Mapping):
        declared = {}
    overview = declared.get("overview")
    settings = {k: v for k, v in study.raw.items()
                if k not in ("analyses", "parameters", "notebooks", "inputs", "timeout", "brief", "sources", "seed",
                             "synth")}
    return {
        **out,
        "spec": _json_sha(study.brief),
        "study": _json_sha({"settings": settings, "sources": list(study.sources),
                            "overview": overview.get("sources") if isinstance(overview, Mapping) else None}),
        "codebooks": _json_sha(inputs.get("codebooks")),
        "veplab": _code_hash("all"),
        "lock": _lock_hash(),
        "fonts": _font_files(list(study.languages)),
        "pdf": bool(pdf),
        "pseudonymised": bool(key_ids(study)),
    }


def brief_rerender_reason(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str | None:
    """Why the briefs must be rendered again, in words; None: unchanged (reuse them)."""
    if not old:
        return "not rendered before"
    if old == new:
        return None
    words = {"spec": "the brief: section changed", "study": "study settings changed",
             "codebooks": "a codebook changed", "veplab": "veplab's code (templates, CSS, language files) changed",
             "lock": "the Python interpreter or veplab's dependencies changed", "fonts": "the fonts changed",
             "pdf": "PDFs asked for" if new.get("pdf") else "PDFs not asked for",
             "pseudonymised": "the audit log's pseudonymisation record changed"}
    why = [words[k] for k in words if old.get(k) != new.get(k)]
    o, n = old.get("results") or {}, new.get("results") or {}
    changed = [k for k in _changed(o, n) if k != "_meta"]
    if changed:
        why.append("results of " + ", ".join(map(repr, changed)) + " changed")
    if o.get("_meta") != n.get("_meta"):
        why.append("the results' version or threshold changed")
    return "; ".join(why) or "inputs recorded differently by an older veplab"


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
    scheduler: str | None = None,
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

    ``scheduler`` (a Dask scheduler address, ``tcp://host:8786``) runs the
    notebooks that must rerun as tasks on that cluster instead of in local
    processes (``jobs`` is then ignored); everything else stays local.

    Parameters
    ----------
    study_path : str or Path
        The study folder (or its study.yml).
    only : list of str, optional
        Run only these notebooks (the others are reused from the last build).
    force : bool
        Rerun every notebook whatever the cache says.
    jobs : int
        Notebooks run at once (worker processes).
    reports : str or Path, optional
        The reports folder (default ``<root>/reports``).
    notebooks_dir : str or Path, optional
        Where the analysis notebooks are (default ``<root>/notebooks``).
    progress, log : callable, optional
        Called with each notebook's run, and with each log line.
    timeout : int, optional
        Seconds per cell.
    pdf : bool
        Also render the briefs as PDF.
    wait : bool
        Wait for another build of the same study instead of failing.
    scheduler : str, optional
        A Dask scheduler address.

    Returns
    -------
    BuildResult
        ``runs`` (each notebook's status, seconds and why it reran),
        ``published``, ``report_dir``, ``leaks``, ``briefs``, ``ok``.

    Raises
    ------
    StudyError
        When study.yml is missing or invalid.
    BuildError
        When the build cannot start (another build holds the lock, no
        notebooks).

    References
    ----------
    papermill documentation (executing parameterised notebooks),
    https://papermill.readthedocs.io.
    Landau, W. M. (2021). The targets R package. *Journal of Open Source
    Software* 6(57), 2959 (rerun only what changed).
    Griffiths, E. et al. (2019). *Handbook on Statistical Disclosure Control
    for Outputs*. Safe Data Access Professionals Working Group (outputs
    checked before release; see :mod:`veplab.release`).
    docs/DESIGN.md, "The path data takes" and "Privacy".

    Examples
    --------
    >>> import tempfile
    >>> from veplab.study import StudyError
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     try:
    ...         build(Path(folder) / "nowhere")
    ...     except StudyError as error:
    ...         print(str(error).split(": ", 1)[1])
    study configuration not found (expected a study folder holding study.yml)

    Building the demo study runs every analysis notebook in Jupyter kernels
    (minutes), so it is not run here:

    >>> result = build("research/demo", jobs=2)                 # doctest: +SKIP
    >>> result.ok, [(r.name, r.status) for r in result.runs][:2]  # doctest: +SKIP
    (True, [('overview', 'ran'), ('data_quality', 'ran')])
    """
    t0 = time.perf_counter()
    for k in ("deps", "lock"):  # packages installed since the last build in this process count
        _LOCK_CACHE.pop(k, None)
    study = load_study(study_path)
    work = study.folder / WORK
    work.mkdir(parents=True, exist_ok=True)
    _ensure_gitignore(work)
    with _BuildLock(work / "build.lock", study.id, wait=wait, log=log):
        return _build_locked(study, t0, only=only, force=force, jobs=jobs, reports=reports,
                             notebooks_dir=notebooks_dir, progress=progress, timeout=timeout, log=log, pdf=pdf,
                             scheduler=scheduler)


def _ensure_gitignore(work: Path) -> None:
    gi = work / ".gitignore"
    if not gi.is_file():
        gi.write_text("# veplab's private build folder: executed notebooks hold row-level results. Never commit.\n*\n")


class _BuildLock:
    """An exclusive ``fcntl`` lock on the study's build (POSIX); a no-op where fcntl is missing."""

    #: Seconds a build without ``wait`` keeps trying before it gives up: a build that was just
    #: killed may take a moment to let go of the lock.
    grace: float = 5.0

    def __init__(self, path: Path, study_id: str, *, wait: bool, log: Callable[[str], None] | None):
        self.path, self.study_id, self.wait, self.log = path, study_id, wait, log
        self.fh: Any = None

    def __enter__(self) -> "_BuildLock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        self.fh = open(self.path, "a+")
        deadline = time.monotonic() + self.grace
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
                  log: Callable[[str], None] | None, pdf: bool, scheduler: str | None = None) -> BuildResult:
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
    records: dict[str, dict[str, Any]] = {}
    for spec in specs:
        src = notebooks_dir / f"{spec['name']}.ipynb"
        if not src.is_file():
            raise BuildError(f"notebook {spec['name']!r} named in {study.config_path} not found at {src}")
        nb = _read_notebook_json(src)
        params = _params_for(study, spec, nb)
        record = notebook_inputs(study, spec, nb, params, resolved.get(spec["name"]), inputs)
        records[spec["name"]] = record
        run = NotebookRun(name=spec["name"], key=_json_sha(record))
        runs.append(run)
        cached, why = _reusable(work, run.name, run.key, record, force=force)
        selected = only is None or run.name in only
        if cached or not selected:
            run.status = "cached" if cached else "skipped"
            run.reason = "reused: inputs unchanged" if cached else f"skipped: not in --only (would rerun: {why})"
            if not cached and not (work / f"{run.name}.ipynb").is_file():
                run.status = "missing"
            if log:
                log(f"{run.name}: {run.reason}")
            if progress:
                progress("cached" if cached else "skipped", run)
            continue
        run.reason = f"rerun: {why}"
        if log:
            log(f"{run.name}: {run.reason}")
        todo.append((run, src, params))

    manifest_path = target / "manifest.json"
    approvals_path = study.folder / "approvals.yml"
    overall = _sha(json.dumps([r.key for r in runs] + [_code_hash(), _sha(study.config_path.read_bytes()),
                                                        _file_sha(approvals_path) if approvals_path.is_file()
                                                        else None, pdf,
                                                        _json_sha(brief_inputs(study, None, inputs, pdf=pdf))
                                                        if study.brief else None]).encode())
    if not todo and manifest_path.is_file() and all(r.status == "cached" for r in runs):
        try:
            if json.loads(manifest_path.read_text()).get("build_key") == overall:
                return BuildResult(study.id, target, runs, published=False, seconds=time.perf_counter() - t0)
        except (OSError, ValueError):
            pass

    def finished(run: NotebookRun, res: Mapping[str, Any]) -> None:
        run.status, run.error, run.seconds = res["status"], res["error"], res["seconds"]
        running = work / f"{run.name}.running.ipynb"
        if res.get("notebook") is not None:  # ran on a Dask worker: the executed notebook came back
            running.write_text(res["notebook"], encoding="utf-8")
        if run.status == "ran":
            running.replace(work / f"{run.name}.ipynb")
            (work / f"{run.name}.key").write_text(run.key)
            (work / f"{run.name}.inputs.json").write_text(json.dumps(
                {"key": run.key, "inputs": records[run.name], "dependencies": _dependencies()},
                indent=1, sort_keys=True, default=str), encoding="utf-8")
        elif running.is_file():
            running.replace(work / f"{run.name}.failed.ipynb")
        if progress:
            progress(run.status, run)

    if todo and scheduler:
        _run_on_dask(study, todo, scheduler, timeout, progress, finished, log)
    elif todo:
        jupyter_path = str(_kernel_dir(work))
        with cf.ThreadPoolExecutor(max_workers=max(1, min(jobs, len(todo)))) as pool:
            futures = {}
            for run, src, params in todo:
                out = work / f"{run.name}.running.ipynb"
                if progress:
                    progress("start", run)
                futures[pool.submit(_run_notebook, run.name, str(src), str(out), params, str(study.folder),
                                    jupyter_path, timeout, str(progress_file(study, run.name)))] = run
            for fut in cf.as_completed(futures):
                finished(futures[fut], fut.result())

    failed = [r for r in runs if r.status == "failed"]
    if failed or any(r.status == "missing" for r in runs):
        return BuildResult(study.id, target, runs, published=False, seconds=time.perf_counter() - t0)

    from .brief import BriefError
    from .release import ApprovalError

    briefs: dict[str, Any] = {}
    brief_status: list[str] = []
    try:
        leaks = _publish(study, runs, inputs, target, reports, overall, log=log, pdf=pdf, briefs=briefs,
                         force=force, brief_status=brief_status)
    except ApprovalError as exc:
        raise BuildError(str(exc)) from None
    except BriefError as exc:
        _audit(study, "build", inputs=inputs, threshold=study.threshold, published=False,
               notebooks={r.name: r.status for r in runs}, brief_error=str(exc))
        return BuildResult(study.id, target, runs, published=False, seconds=time.perf_counter() - t0,
                           brief_error=str(exc), brief_reason="".join(brief_status))
    published = not leaks
    _audit(study, "build", inputs=inputs, threshold=study.threshold, published=published,
           notebooks={r.name: r.status for r in runs}, leaks=[str(f) for f in leaks])
    return BuildResult(study.id, target, runs, published=published, seconds=time.perf_counter() - t0, leaks=leaks,
                       briefs=briefs if published else {}, brief_reason="".join(brief_status))


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
             briefs: dict[str, Any] | None = None, force: bool = False,
             brief_status: list[str] | None = None) -> list[Any]:
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
    manifest: dict[str, Any] = {
        "study": study.id,
        "build_key": overall,
        "built_at": built_at,
        "veplab": __version__,
        "veplab_code_sha256": _code_hash(),
        "python": sys.version.split()[0],
        "packages": versions,
        "dependency_lock_sha256": _json_sha(dependency_lock()),
        "dependencies": _dependencies(),
        "git": _git_commit(find_root(study.folder)),
        "seed": study.seed,
        "disclosure_threshold": threshold,
        "study_config_sha256": _file_sha(study.config_path),
        "inputs": inputs,
        "parameters": study.parameters,
        "notebooks": {r.name: {"cache_key": r.key, "status": r.status, "seconds": round(r.seconds, 3),
                               "reason": r.reason}
                      for r in runs},
    }
    if study.brief:
        from .brief import build_briefs

        manifest["brief_inputs"] = brief_inputs(study, results_doc, inputs, pdf=pdf)
        last = _read_manifest(target)
        why = "--force" if force else brief_rerender_reason(last.get("brief_inputs"), manifest["brief_inputs"])
        written = _reuse_briefs(study, last, target, tmp, manifest) if why is None else None
        reason = "reused: inputs unchanged" if written is not None else \
            f"re-rendered: {why or 'the last report has lost its brief files'}"
        if log:
            log(f"brief: {reason}")
        if brief_status is not None:
            brief_status.append(reason)
        if written is None:
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
    errors: list[Any] = [f for f in findings if f.severity == "error"]  # Findings, then words
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


def _read_manifest(report: Path) -> dict[str, Any]:
    try:
        doc = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _reuse_briefs(study: Study, last: Mapping[str, Any], report: Path, tmp: Path,
                  manifest: dict[str, Any]) -> Any:
    """Copy the last report's briefs (their inputs are unchanged) into ``tmp``; None when they are not all there."""
    from .brief import BriefResult

    done = last.get("briefs")
    if not isinstance(done, Mapping) or sorted(done) != sorted(study.languages):
        return None
    out = BriefResult()
    for lang, entry in done.items():
        names = [entry.get("html")] + ([entry.get("pdf")] if "pdf" in entry else [])
        if not all(isinstance(n, str) and "/" not in n and (report / n).is_file() for n in names):
            return None
    for lang, entry in done.items():
        out.html[lang] = Path(shutil.copy2(report / entry["html"], tmp / entry["html"]))
        if "pdf" in entry:
            out.pdf[lang] = Path(shutil.copy2(report / entry["pdf"], tmp / entry["pdf"]))
            out.pages[lang] = int(entry.get("pages") or 0)
    manifest["briefs"] = {lang: dict(entry) for lang, entry in done.items()}
    if last.get("briefs_missing_translations"):
        manifest["briefs_missing_translations"] = list(last["briefs_missing_translations"])
        out.missing_translations = list(last["briefs_missing_translations"])
    return out


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
