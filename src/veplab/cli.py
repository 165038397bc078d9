"""The ``veplab`` command.

``veplab synth research/demo``      make the synthetic demo study's data
``veplab validate research/demo``   load every source, print problems and data quality
``veplab build research/demo``      run the study's notebooks into reports/<study>/
``veplab analyses``                 list every analysis and its keys (study.yml analyses:)
``veplab new research/x --form F``  make a study folder from an XLSForm (and --data EXPORT)
``veplab simulate SPEC.yml``        power and coverage of a clustered design by simulation (Dask)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import __version__

app = typer.Typer(
    name="veplab",
    help="veplab: research workbench for studies of radicalization in prisons. "
    "Validate field data against instrument codebooks, build reproducible reports and briefs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False, highlight=False)
err = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        console.print(f"veplab {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """veplab command-line interface."""


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _rows_shown(rows) -> str:  # noqa: ANN001 - sequence of ints
    rows = list(rows)
    return ", ".join(str(r) for r in rows[:8]) + (f" (+{len(rows) - 8})" if len(rows) > 8 else "")


def print_problems(problems) -> None:  # noqa: ANN001 - DataFrame
    """Print a problems table readably (a list on narrow terminals, where table cells would wrap)."""
    if err.width < 110:
        for i, row in enumerate(problems.itertuples(index=False), start=1):
            shown = _rows_shown(row.rows)
            where = f"column {row.column!r}" if row.column else "file"
            where += f" (rows {shown})" if shown else ""
            style = "" if row.severity == "error" else "[yellow]"
            err.print(f"{style}{i:>3}. {where}: {row.problem}", soft_wrap=True)
            err.print(f"     fix: {row.fix}", soft_wrap=True)
        return
    table = Table(show_lines=False, header_style="bold")
    for col in ("column", "rows", "problem", "fix"):
        table.add_column(col, overflow="fold")
    for row in problems.itertuples(index=False):
        shown = _rows_shown(row.rows)
        row_style = None if row.severity == "error" else "yellow"
        table.add_row(row.column or "(file)", shown, row.problem, row.fix, style=row_style)
    err.print(table)


@app.command()
def synth(
    study: Path = typer.Argument(..., help="Study folder, e.g. research/demo"),
    scale: Optional[str] = typer.Option(None, help="demo (small, fast) or national (a census at published sizes: 128,831 survey rows)"),
    seed: Optional[int] = typer.Option(None, help="Random seed (default: the study's synth.seed)"),
) -> None:
    """Generate a synthetic study's data files and truth.json into STUDY/data/."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .study import StudyError, load_study
    from .synth import generate

    try:
        cfg = load_study(study)
    except StudyError as exc:
        _fail(str(exc))
    scale = scale or cfg.synth.get("scale", "demo")
    if scale not in ("demo", "national"):
        _fail(f"--scale must be demo or national, got {scale!r}")
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, transient=False) as progress:
        task = progress.add_task(f"synth {cfg.id} ({scale})", total=None)

        def step(name: str, done: int, total: int) -> None:
            progress.update(task, description=f"synth {cfg.id}: {name}", completed=done, total=total)

        result = generate(cfg.folder, scale=scale, seed=seed, progress=step)
    for name, path in getattr(result, "paths", {}).items():
        console.print(f"  wrote {name}: {path}")


@app.command()
def validate(
    study: Path = typer.Argument(..., help="Study folder, e.g. research/demo"),
) -> None:
    """Load every data source of STUDY through its codebook; print problems and data quality."""
    import warnings

    from .codebook import CodebookError
    from .data import DataError, quality
    from .data._gate import IdentifierDataError
    from .study import StudyError, load_study

    try:
        cfg = load_study(study)
    except StudyError as exc:
        _fail(_escape(str(exc)))
    failed = 0
    for name, source in cfg.sources.items():
        where = (f"sql:{name} (${source.url_env})" if getattr(source, "is_sql", False) or source.path is None
                 else source.path.name)
        console.rule(f"[bold]{name}[/]  {where}")
        try:
            cb = source.codebook()
        except CodebookError as exc:
            err.print(str(exc))
            failed += 1
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                df = source.load()
        except DataError as exc:
            err.print(f"[bold red]{int((exc.problems['severity'] == 'error').sum())} problems[/] in {where}")
            print_problems(exc.problems)
            if isinstance(exc, IdentifierDataError):  # never downgraded by on_error: flag or unknown: keep
                from rich.markup import escape

                err.print("[bold red]direct identifiers[/] in " + escape(", ".join(
                    repr(c) for c in dict.fromkeys(p["column"] for p in exc.identifiers)))
                    + ": they always stop the load (on_error: flag does not apply); remove them from the "
                    "export or pseudonymise them (veplab pseudonymise)")
            failed += 1
            continue
        q = quality(df, cb)
        console.print(q.summary())
        from .data import load_info
        from .privacy import AuditLog

        info = load_info(df)
        if info is None:  # pragma: no cover - load() always records it
            _fail(f"{_escape(where)}: the loaded frame lost its load record")
        AuditLog(cfg.folder / "audit.log").append(
            "load", study=cfg.id, source=name, file=where if getattr(source, "is_sql", False) else str(source.path), sha256=info.sha256,
            codebook=cb.id, codebook_sha256=cb.sha256, rows=len(df))
        # every problem the load counted is listed: warnings, and with on_error: flag the errors whose cells
        # were set to missing (unknown: drop names its dropped columns among the warnings)
        listed = info.problems
        if not listed.empty:
            n_err = int((listed["severity"] == "error").sum())
            counts = [f"{len(listed) - n_err} warning{'s' if len(listed) - n_err != 1 else ''}"] * (n_err < len(listed))
            if n_err:
                counts.append(f"{n_err} error{'s' if n_err != 1 else ''} flagged (on_error: flag: the invalid cells "
                              "were set to missing)")
            console.print(f"[yellow]{' and '.join(counts)} while loading {_escape(where)}:[/]")
            print_problems(listed)
        own = {f"{info.file}: column {p.column or '-'}: {p.problem}" for p in listed.itertuples(index=False)}
        for w in caught:  # warnings from elsewhere (pandas, a reader) are shown too
            if str(w.message) not in own:
                console.print(f"  [yellow]warning:[/] {_escape(str(w.message))}", soft_wrap=True)
    from .analyses import resolve_all

    resolved, analysis_problems = resolve_all(cfg)
    if cfg.analyses:
        console.rule("[bold]analyses[/]")
        for problem in analysis_problems:
            err.print(f"[bold red]analyses:[/] {_escape(problem)}")
        for name, analysis in resolved.items():
            parts = " ".join(analysis.skipped.values())
            console.print(f"  {name}: runs" + (f" ({_escape(parts)})" if parts else ""))
    if failed:
        _fail(f"{failed} of {len(cfg.sources)} sources have problems (see above)")
    if analysis_problems:
        _fail(f"{len(analysis_problems)} problem(s) with analyses: in {cfg.config_path.name} (see above); "
              "`veplab analyses` lists every key")
    console.print(f"[green]all {len(cfg.sources)} sources of {cfg.id} load cleanly[/]")


@app.command()
def analyses(
    markdown: bool = typer.Option(False, "--markdown", help="Print as Markdown (the README's text)."),
) -> None:
    """List every analysis a study can declare under analyses: in study.yml, with its keys."""
    from .analyses import describe

    text = describe(markdown=markdown)
    if markdown:
        sys.stdout.write(text)
    else:
        console.print(_escape(text), soft_wrap=True)


@app.command()
def new(
    study: Path = typer.Argument(..., help="The study folder to make, e.g. research/my_study (must not exist)"),
    form: Path = typer.Option(..., "--form", help="The study's XLSForm (.xlsx or .xls, as Kobo/ODK use it)"),
    data: Optional[Path] = typer.Option(None, "--data", help="The export of the form's data (XLSX or CSV from "
                                        "Kobo/ODK); copied into STUDY/data/ and validated"),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="The export's sheet holding the main table"),
) -> None:
    """Make a study folder from a form: its codebook, a commented study.yml (design and analyses filled in
    where the form shows them, TODO lines where it does not) and, with --data, a first validate."""
    from .scaffold import ScaffoldError, new_study

    try:
        made = new_study(study, form, data, sheet=sheet)
    except ScaffoldError as exc:
        _fail(_escape(str(exc)))
    console.print(f"made {_escape(str(made.folder))}: {made.study_yml.name}, {made.codebook.name} (from "
                  f"{_escape(made.form.name)})" + (f", data/{_escape(made.data.name)}" if made.data else ""))
    for line in made.inferred:
        console.print(f"  inferred: {_escape(line)}", soft_wrap=True)
    for line in made.todo:
        console.print(f"  [yellow]TODO[/] {_escape(line)}", soft_wrap=True)
    if made.notes:
        console.print(f"  {len(made.notes)} note(s) from the form conversion are at the top of {made.codebook}")
    code = 0
    if made.data is not None:
        console.rule("[bold]first validate[/]")
        try:
            validate(made.folder)
        except typer.Exit as exc:  # problems are listed above; the steps below still apply
            code = exc.exit_code
    console.print("[bold]next:[/]")
    for i, step in enumerate(made.next_steps(), start=1):
        console.print(f"  {i}. {_escape(step)}", soft_wrap=True)
    if code:
        raise typer.Exit(code)


@app.command()
def build(
    studies: list[Path] = typer.Argument(..., help="Study folder(s), e.g. research/demo (several: built one "
                                                   "after the other)", metavar="STUDY..."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Run only this notebook (repeatable)"),
    force: bool = typer.Option(False, "--force", help="Rerun notebooks even when their inputs are unchanged"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Notebooks run in parallel processes"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also write the policy briefs as PDF (WeasyPrint)"),
    timeout: Optional[int] = typer.Option(None, "--timeout", min=1,
                                          help="Seconds any one notebook cell may run (default: the study's "
                                               "timeout:, else 1800)"),
    wait: bool = typer.Option(False, "--wait", help="If another build of this study is running, wait for it "
                                                    "instead of exiting"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Run the notebooks on a Dask cluster, e.g. "
                                                                      "tcp://10.0.0.5:8786 (the study's files are "
                                                                      "sent to its workers; cache and publishing "
                                                                      "stay here)"),
) -> None:
    """Run the study's notebooks (cached by content hash) and publish reports/<study>/ with its policy briefs.

    Only outputs that passed the disclosure gate are published; reports/<study>/release.json lists each with
    its rule and status, and research/<study>/approvals.yml releases outputs held for review.
    Several study folders are built one after the other; the command fails if any of them fails."""
    failed: list[str] = []
    for study in studies:
        if len(studies) > 1:
            console.print(f"[bold]{_escape(str(study))}[/]")
        try:
            _build_one(study, only=only, force=force, jobs=jobs, pdf=pdf, timeout=timeout, wait=wait,
                       scheduler=scheduler)
        except typer.Exit as exc:
            if exc.exit_code:
                if len(studies) == 1:
                    raise
                failed.append(str(study))
    if failed:
        _fail(f"{len(failed)} of {len(studies)} studies did not build: {', '.join(failed)}")


def _build_one(study: Path, *, only, force: bool, jobs: int, pdf: bool, timeout, wait: bool,  # noqa: ANN001
               scheduler: Optional[str]) -> None:
    """``veplab build`` of one study folder (exits through :func:`_fail` on failure)."""
    import threading
    import time as _time

    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn

    from .build import BuildError, progress_file
    from .build import build as run_build
    from .study import StudyError, load_study

    try:
        cfg = load_study(study)
    except StudyError as exc:
        _fail(_escape(str(exc)))
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err) as progress:
        tasks: dict[str, TaskID] = {}
        running: dict[str, float] = {}  # notebook -> when it started
        done = threading.Event()

        def watch() -> None:  # progress inside each running notebook: its outputs so far
            while not done.wait(0.5):
                for name, t0 in list(running.items()):
                    try:
                        lines = progress_file(cfg, name).read_text(encoding="utf-8").splitlines()
                    except OSError:
                        lines = []
                    last = f", last {lines[-1].split(' ', 1)[-1]}" if lines else ""
                    progress.update(tasks[name], description=f"{name}: running {_time.monotonic() - t0:.0f}s, "
                                                             f"{len(lines)} outputs{last}")

        threading.Thread(target=watch, daemon=True).start()

        def step(event: str, run) -> None:  # noqa: ANN001
            if run.name not in tasks:
                tasks[run.name] = progress.add_task(run.name, total=1)
            t = tasks[run.name]
            if event != "start":
                running.pop(run.name, None)
            if event == "start":
                running[run.name] = _time.monotonic()
                progress.update(t, description=f"{run.name}: running")
            elif event in ("cached", "skipped"):
                progress.update(t, description=f"{run.name}: {event} (unchanged)", completed=1)
            elif event == "ran":
                progress.update(t, description=f"{run.name}: done in {run.seconds:.1f}s", completed=1)
            elif event == "failed":
                progress.update(t, description=f"[red]{run.name}: failed[/]", completed=1)

        def log(message: str) -> None:
            progress.console.print(f"[dim]{_escape(message)}[/]")

        try:
            result = run_build(study, only=only, force=force, jobs=jobs, progress=step, log=log, pdf=pdf,
                               timeout=timeout, wait=wait, scheduler=scheduler)
        except (BuildError, StudyError) as exc:
            done.set()
            _fail(str(exc))
        done.set()
    for run in result.failed:
        err.print(f"[bold red]failed:[/] {run.error}")
    if result.leaks:
        for f in result.leaks:
            err.print(f"[bold red]leak:[/] {f}")
        _fail(f"the leak scan found disclosive output in {len(result.leaks)} place(s); nothing was published "
              f"and the previous report in {result.report_dir} is unchanged")
    if result.failed:
        _fail(f"{len(result.failed)} notebook(s) failed; the previous report in {result.report_dir} is unchanged "
              f"(executed notebooks with the error are in the study's private folder {Path(study) / '.build'})")
    missing = [r.name for r in result.runs if r.status == "missing"]
    if missing:
        _fail(f"notebooks {missing} have never run; build without --only first")
    if result.brief_error:
        _fail(f"policy brief: {result.brief_error}; nothing was published and the previous report in "
              f"{result.report_dir} is unchanged (the notebooks' results are cached)")
    if result.published:
        if result.briefs:
            pages = sorted({f["pages"] for f in result.briefs.values() if "pages" in f})
            pdf_txt = f" and PDF ({'/'.join(map(str, pages))} pages)" if pages else ""
            console.print(f"briefs: {', '.join(result.briefs)} as HTML{pdf_txt} in {result.report_dir}")
        _release_summary(result.report_dir)
        console.print(f"report: {result.report_dir / 'index.html'}  ({result.seconds:.1f}s)")
    else:
        console.print(f"up to date: {result.report_dir / 'index.html'}  ({result.seconds:.2f}s)")


@app.command()
def simulate(
    spec: Path = typer.Argument(..., help="Simulation spec (YAML): design, clusters_per_arm, cluster_size, icc, "
                                          "baseline, effect, analysis, alpha; a list makes a grid"),
    reps: Optional[int] = typer.Option(None, "--reps", min=2, help="Replicates per grid point (default: the "
                                                                   "spec's reps:, else 1000)"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Root seed (default: the spec's seed:)"),
    workers: Optional[int] = typer.Option(None, "--workers", min=0,
                                          help="Local Dask worker processes (default: the cores; 0: no Dask)"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Run on an existing Dask cluster, e.g. "
                                                                      "tcp://10.0.0.5:8786 (default: "
                                                                      "$DASK_SCHEDULER_ADDRESS if set)"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the results as JSON to this file"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Replicates per Dask task"),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Where finished replicates are kept "
                                                                       "(default: ~/.cache/veplab/simulate)"),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the replicate cache"),
) -> None:
    """Simulated power, bias, SEs and interval coverage of a clustered design, one row per grid point.

    Replicates run as Dask tasks (each with its own random stream, so results do not depend on the number of
    workers); finished batches are cached, so an interrupted run resumes where it stopped."""
    from ._validate import InputError
    from .simulate import power as sim_power

    if workers is not None and scheduler is not None:
        _fail("give --workers (a local cluster) or --scheduler (an existing one), not both")
    try:
        res = sim_power(spec, reps=reps, seed=seed, client=scheduler, workers=workers, cache=not no_cache,
                        cache_dir=cache_dir, batch_size=batch_size, progress=True)
    except InputError as exc:
        _fail(_escape(str(exc)))
    except KeyboardInterrupt:
        _fail("interrupted; the replicates finished so far are cached: run the same command again to resume", 130)
    t = res.table
    shown = [c for c in res.varying] or ["design"]
    table = Table(title=f"{t['design'].iloc[0]}, {t['analysis'].iloc[0] if len(set(t['analysis'])) == 1 else ''} "
                        f"{res.reps} replicates, seed {res.seed}")
    for c in shown:
        table.add_column(c.replace("_", " "), justify="right")
    for c in ("power [95% MC]", "analytic", "bias", "SE model/emp.", "coverage", "failed"):
        table.add_column(c, justify="right")
    for _, row in t.iterrows():
        ana = "" if row["analytic_power"] != row["analytic_power"] else f"{row['analytic_power']:.3f}"
        table.add_row(*[f"{row[c]:g}" if isinstance(row[c], float) else str(row[c]) for c in shown],
                      f"{row['power']:.3f} [{row['power_ci_low']:.3f}, {row['power_ci_high']:.3f}]", ana,
                      f"{row['bias']:+.3f}", f"{row['model_se']:.3f}/{row['empirical_se']:.3f}",
                      f"{row['coverage']:.3f}", str(row["n_failed"]))
    console.print(table)
    console.print(f"{res.reps_run} replicates run, {res.reps_cached} from the cache, {res.seconds:.1f}s "
                  f"({res.workers})")
    for i, errs in res.errors.items():
        for why, n in errs.items():
            err.print(f"[yellow]point {i + 1}: {n} failed fit(s):[/] {_escape(why)}")
    if out is not None:
        res.to_json(out)
        console.print(f"results: {out}")


def _release_summary(report_dir: Path) -> None:
    """One line per status from release.json, and each output not published with its reason."""
    import json

    try:
        rel = json.loads((report_dir / "release.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    summary = ", ".join(f"{n} {status}" for status, n in sorted(rel.get("summary", {}).items()))
    raw = sum((rel.get("withheld_raw_outputs") or {}).values())
    console.print(f"release: {summary}" + (f"; {raw} raw notebook output(s) withheld (not checked)" if raw else ""))
    for e in rel.get("outputs", []):
        if e.get("status") in ("withheld for review", "refused", "withheld"):
            console.print(f"  {_escape(e['status'])}: {_escape(e['output'])} -- {_escape('; '.join(e.get('reasons') or []))}")


@app.command()
def keygen(
    path: Path = typer.Argument(..., help="Where to write the key, OUTSIDE the project (e.g. ~/.veplab/mystudy.key)"),
) -> None:
    """Create a new pseudonymisation key (32 random bytes, file mode 0600)."""
    from ._validate import InputError
    from .privacy import generate_key

    try:
        kid = generate_key(path.expanduser())
    except InputError as exc:
        _fail(str(exc))
    console.print(f"key written to {path} (key id {kid}); keep it apart from the data and back it up: "
                  "losing it breaks linkage between waves")


@app.command()
def pseudonymise(
    input: Path = typer.Argument(..., help="Data file (CSV, XLSX or Parquet) holding direct ids"),
    key: Path = typer.Option(..., "--key", help="Key file made by `veplab keygen` (mode 0600, outside the project)"),
    columns: str = typer.Option(..., "--columns", help="Comma-separated id columns to replace"),
    out: Path = typer.Option(..., "--out", help="Output file (same format as INPUT)"),
    study: Optional[Path] = typer.Option(None, "--study", help="Study folder whose audit log records this run"),
    new_key: bool = typer.Option(False, "--new-key", help="Change the study's key on purpose (needs --study and "
                                 "--reason); the change is recorded in the audit log"),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why the key changes (with --new-key); written to "
                                         "the audit log"),
) -> None:
    """Replace id columns by keyed HMAC-SHA256 pseudonyms (same person, same key -> same pseudonym).

    With --study, a key other than the one the study's pseudonyms were made with is refused (the pseudonyms
    would not match) unless --new-key --reason "..." declare the change, which goes into the audit log."""
    from ._validate import InputError
    from .privacy import AuditLog, current_key_id, key_id, pseudonym_key_ids, pseudonymise_file, read_key

    reason = (reason or "").strip() or None
    if new_key and study is None:
        _fail("--new-key needs --study: a change of key is recorded in the study's audit log")
    if new_key and reason is None:
        _fail('--new-key needs --reason "..." saying why the key changes (it is written to the audit log)')
    if reason is not None and not new_key:
        _fail("--reason is only used with --new-key")
    if study is not None and not Path(study).is_dir():
        _fail(f"--study {_escape(str(study))}: no such study folder")
    key_change: dict[str, object] | None = None
    if study is not None:
        log_path = Path(study) / "audit.log"
        try:
            kid = key_id(read_key(key.expanduser()))
        except InputError as exc:
            _fail(_escape(str(exc)))
        current = current_key_id(log_path)
        if current is not None and current != kid:
            if not new_key:
                _fail(f"the study {_escape(str(study))} was pseudonymised with key id {current}; this key has id "
                      f"{kid}: pseudonyms would not match (the same person would get two ids and waves would not "
                      'link). Check that this is the study\'s key file; if you really mean to change key use '
                      '--new-key --reason "..."')
            key_change = {"old_key_id": current, "new_key_id": kid, "reason": reason,
                          "previous_key_ids": pseudonym_key_ids(log_path)}
        elif new_key:
            why = "is already the study's key" if current else "is the first key the study's log records"
            console.print(f"[yellow]note:[/] --new-key: this key (id {kid}) {why}; no key change recorded")

    cols = [c.strip() for c in columns.split(",") if c.strip()]
    try:
        summary = pseudonymise_file(input, out, key.expanduser(), cols)
    except InputError as exc:
        _fail(_escape(str(exc)))
    console.print(f"wrote {out}: {summary['rows']} rows, columns {', '.join(summary['columns'])} "
                  f"pseudonymised with key id {summary['key_id']}")
    if study is not None:
        log = AuditLog(Path(study) / "audit.log")
        if key_change is not None:
            log.append("key", **key_change)
            console.print(f"key change {key_change['old_key_id']} -> {key_change['new_key_id']} recorded")
        log.append("pseudonymise", **summary)
        console.print(f"recorded in {Path(study) / 'audit.log'}")


audit_app = typer.Typer(help="The study's append-only, hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _published_anchors(folder: Path, explicit: bool) -> dict[str, dict]:
    """The audit heads recorded in the study's published report (reports/<id>/manifest.json, release.json)."""
    import json

    from .privacy import AuditError, read_anchor
    from .study import StudyError, find_root, load_study

    if not (folder / "study.yml").is_file():
        err.print(f"[yellow]note:[/] no study.yml next to the log: the published report's anchors were not "
                  "looked for")
        return {}
    try:
        cfg = load_study(folder)
    except StudyError as exc:
        message = (f"cannot look for the published anchors (reports/<study>/manifest.json): "
                   f"{_escape(str(exc))}; fix study.yml or pass --anchor FILE")
        if not explicit:
            _fail(message)
        err.print(f"[yellow]warning:[/] {message}")
        return {}
    found: dict[str, dict] = {}
    for name in ("manifest.json", "release.json"):
        p = find_root(cfg.folder) / "reports" / cfg.id / name
        if not p.is_file():
            continue
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            data = None
        if isinstance(data, dict) and "audit_head" not in data:
            err.print(f"[yellow]note:[/] {_escape(str(p))} records no audit_head (built before heads were "
                      "recorded); not used as an anchor")
            continue
        try:
            found[str(p)] = read_anchor(p)
        except AuditError as exc:
            _fail(f"{_escape(str(exc))}; the published report may have been altered")
    return found


@audit_app.command("verify")
def audit_verify(
    study: Path = typer.Argument(..., help="Study folder (holding audit.log) or the log file itself"),
    anchor: Optional[list[Path]] = typer.Option(
        None, "--anchor", help="A manifest.json or release.json (its audit_head), or a JSON {count, hash}, kept "
        "outside the log (repeatable); reports/<study>/manifest.json and release.json are used by default"),
) -> None:
    """Check that no line of the audit log was edited, removed, inserted or reordered.

    The chain is also checked against every audit head recorded outside the log (the published report's
    manifest.json and release.json, and each --anchor): line COUNT of the log must still have the recorded
    hash, so a log rewritten together with audit.head is found."""
    from .privacy import AuditError, read_anchor, verify_audit_log

    path = study / "audit.log" if study.is_dir() else study
    if not path.is_file():
        _fail(f"no audit log at {_escape(str(path))}")
    anchors: dict[str, dict] = {}
    for a in anchor or []:
        try:
            anchors[str(a)] = read_anchor(a)
        except AuditError as exc:
            _fail(_escape(str(exc)))
    seen = {Path(a).resolve() for a in anchors}
    for name, head in _published_anchors(path.parent, explicit=bool(anchors)).items():
        if Path(name).resolve() not in seen:
            anchors[name] = head
    problems = verify_audit_log(path, anchors=anchors)
    bad = [name for name in anchors if any(f"the anchor {name}" in p for p in problems)]
    if problems:
        for p in problems:
            err.print(f"[red]{_escape(p)}[/]", soft_wrap=True)
        if bad:
            _fail(f"{_escape(str(path))}: the chain does not match the audit head recorded in "
                  f"{_escape(', '.join(bad))}: the log was rewritten or truncated after it was recorded "
                  f"({len(problems)} problem(s))")
        _fail(f"{_escape(str(path))}: {len(problems)} problem(s): the log was altered")
    n = sum(1 for _ in path.open("rb"))
    if anchors:
        used = "; ".join(f"{name} (line {head['count']})" for name, head in anchors.items())
        console.print(f"[green]{_escape(str(path))}: {n} entries, chain intact and matching the audit head "
                      f"recorded in {_escape(used)}[/]", soft_wrap=True)
    else:
        console.print(f"[green]{_escape(str(path))}: {n} entries, chain intact[/]")
        err.print("[yellow]note:[/] no audit head recorded outside the log was found (no published "
                  "reports/<study>/manifest.json or release.json, no --anchor): a log rewritten together with "
                  "audit.head would not be detected")


codebook_app = typer.Typer(help="Codebooks from and to field tools: XLSForm (Kobo/ODK), SPSS.",
                           no_args_is_help=True)
app.add_typer(codebook_app, name="codebook")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _codebook_notes(notes) -> None:  # noqa: ANN001 - warnings of a conversion
    from rich.markup import escape

    for note in notes:
        err.print(f"[yellow]note:[/] {escape(str(note))}", soft_wrap=True)


@codebook_app.command("from-xlsform")
def codebook_from_xlsform(
    form: Path = typer.Argument(..., help="The XLSForm (.xlsx or .xls) with survey, choices and settings sheets"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Codebook YAML to write (default: stdout)"),
    repeat: Optional[str] = typer.Option(None, "--repeat", help="Convert this repeat group (its own table)"),
    codebook_id: Optional[str] = typer.Option(None, "--id", help="Codebook id (default: the form_id)"),
) -> None:
    """Convert an XLSForm (KoboToolbox / ODK) into a veplab codebook; list what was not carried over."""
    from .ingest.xlsform import XLSFormError, from_xlsform

    try:
        conv = from_xlsform(form, repeat=repeat, codebook_id=codebook_id)
    except XLSFormError as exc:
        _fail(_escape(str(exc)))
    if out is None:
        sys.stdout.write(conv.yaml(str(form)))
    else:
        conv.write(out, str(form))
        console.print(f"wrote {out}: {len(conv.codebook.items)} items, id column {conv.codebook.id_column!r}")
    _codebook_notes(conv.warnings)


@codebook_app.command("to-xlsform")
def codebook_to_xlsform(
    codebook: Path = typer.Argument(..., help="A veplab codebook, e.g. surveys/push_pull.yml"),
    out: Path = typer.Option(..., "--out", "-o", help="XLSForm to write (.xlsx)"),
) -> None:
    """Write a veplab codebook as an XLSForm to field in KoboToolbox / ODK (en, fr, ar, ru labels)."""
    from .codebook import CodebookError
    from .ingest.xlsform import XLSFormError, to_xlsform

    try:
        notes = to_xlsform(codebook, out)
    except (CodebookError, XLSFormError) as exc:
        _fail(_escape(str(exc)))
    console.print(f"wrote {out}")
    _codebook_notes(notes)


@codebook_app.command("from-sav")
def codebook_from_sav(
    sav: Path = typer.Argument(..., help="An SPSS .sav file"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Codebook YAML to write (default: stdout)"),
    codebook_id: Optional[str] = typer.Option(None, "--id", help="Codebook id (default: the file name)"),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="The pseudonymous id variable"),
    unit: str = typer.Option("respondent", "--unit", help="What one row is"),
) -> None:
    """Draft a veplab codebook from an SPSS file's variable labels, value labels and user-missing values."""
    from .codebook import CodebookError
    from .ingest.spss import from_sav

    try:
        draft = from_sav(sav, codebook_id=codebook_id, id_column=id_column, unit=unit)
    except (ValueError, CodebookError) as exc:
        _fail(_escape(str(exc)))
    if out is None:
        sys.stdout.write(draft.yaml(str(sav)))
    else:
        draft.write(out, str(sav))
        console.print(f"wrote {out}: {len(draft.codebook.items)} items (a draft: check it)")
    _codebook_notes(draft.warnings)


def run() -> None:  # pragma: no cover - entry point helper
    app(prog_name="veplab")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
