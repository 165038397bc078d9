"""Run one notebook with papermill in a process of its own (``veplab build``'s worker).

:func:`veplab.build.build` starts ``python -m veplab._nbrun`` once per notebook
(``jobs`` at a time), hands it the job as JSON on stdin and reads the result
as JSON from stdout.  A fresh interpreter, not a fork of the caller: the
worker only drives the notebook's kernel (papermill, nbformat), so it holds
tens of megabytes, where a forked worker carries (and, as Python touches its
objects, copies) everything the calling process had loaded -- with ``jobs=2``
that was two extra copies of a caller holding a national data set.  This
module imports neither pandas nor the rest of veplab.

Examples
--------
>>> import json, subprocess, sys
>>> job = {"name": "x", "src": "missing.ipynb", "out": "out.ipynb", "params": {}, "cwd": ".",
...        "jupyter_path": ".", "timeout": 10}
>>> res = subprocess.run([sys.executable, "-m", "veplab._nbrun"], input=json.dumps(job), text=True,
...                      capture_output=True)  # doctest: +SKIP
>>> json.loads(res.stdout)["status"]  # doctest: +SKIP
'failed'
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

KERNEL_NAME = "veplab-build"


def sanitize(nb: Any) -> Any:
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


def skip_iri_grammar() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` in this process (call before ``import nbformat``).

    When installed (jupyter-events asks for it), jsonschema imports it to check the ``iri`` formats, and
    it compiles a Lark grammar at import: about 1 s of CPU, a third of what running a small notebook costs.
    Notebook schemas have no ``iri`` field, so nothing here needs it; jsonschema treats the blocked import as
    the package being absent.  Only for veplab's own processes (this worker, the ``veplab`` command), never
    in a process veplab is imported into."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def execute(name: str, src: str, out: str, params: dict[str, Any], cwd: str, jupyter_path: str,
            timeout: int, progress: str | None = None, kernel_name: str = KERNEL_NAME) -> dict[str, Any]:
    """Run one notebook (in this process).  Returns status and error text."""
    os.environ["JUPYTER_PATH"] = jupyter_path + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    os.environ["PYTHONHASHSEED"] = "0"
    if progress is not None:  # the kernel inherits it; veplab.report.Report appends to it
        Path(progress).write_text("", encoding="utf-8")
        os.environ["VEPLAB_PROGRESS"] = progress
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    skip_iri_grammar()
    import nbformat
    import papermill as pm

    start = time.perf_counter()
    try:
        pm.execute_notebook(src, out, parameters=params, kernel_name=kernel_name, cwd=cwd, progress_bar=False,
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
        nbformat.write(sanitize(nb), out)
    return {"name": name, "status": status, "error": error, "seconds": time.perf_counter() - start}


def main() -> None:
    """Read one job (JSON: :func:`execute`'s arguments) from stdin, write its result as JSON to stdout."""
    job = json.loads(sys.stdin.read())
    res = execute(**job)
    sys.stdout.write("\n" + json.dumps(res) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
