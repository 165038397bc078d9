"""Power and coverage by simulation for clustered designs, run on Dask.

Planning a prison-level evaluation means asking, per design option (how many
prisons per arm, how many people per prison, what ICC, what base rate of
re-arrest), how often the planned analysis would detect the effect, and
whether its intervals cover the truth.  The analytic answer
(:func:`veplab.outcomes.power` with ``design="cluster_two_proportions"``)
rests on large-sample approximations; with 8 prisons per arm they can be far
off.  :func:`power` simulates instead: it draws data sets of the design with
veplab's own generator (:func:`veplab.synth.clustered.cluster_data`), fits
each with veplab's own model, and summarises, per grid point:

- ``power``: the share of fits with ``p < alpha``, with a 95% Wilson
  Monte-Carlo interval (``power_ci_low``, ``power_ci_high``);
- ``bias = mean(estimate) - truth`` with its Monte-Carlo SE
  ``empirical_se / sqrt(n_ok)`` (Morris, White & Crowther 2019), estimates on
  the log scale for odds and hazard ratios;
- ``empirical_se`` (SD of the estimates) against ``model_se`` (mean of the
  model SEs): a ratio ``se_ratio = model_se / empirical_se`` below 1 means the
  model's SEs are too small;
- ``coverage`` of the ``1 - alpha`` Wald intervals, with its Wilson interval;
- ``n_failed`` fits (errors, non-finite estimates; reasons in ``errors``),
  left out of the summaries, and ``n_singular`` mixed-model fits;
- ``analytic_power`` from the design-effect formula where one applies
  (``cluster_randomised``), for comparison.

A spec is a mapping or a YAML file; a list anywhere makes a grid::

    design: cluster_randomised     # cluster_randomised | multilevel_logit | survival | prepost_clustered
    clusters_per_arm: [8, 12, 16]
    cluster_size: 40
    icc: [0.02, 0.05]
    baseline: 0.10                 # base rate (binary, survival: event probability over follow-up)
    effect: {odds_ratio: 0.6}      # or mean_difference / hazard_ratio
    analysis: mixed_logit          # mixed_logit | logit_cluster_robust | mixed_linear | cox_cluster
    alpha: 0.05

Optional keys: ``cv`` (coefficient of variation of cluster sizes), ``sd``
(total SD of a continuous outcome), ``exposure`` (``multilevel_logit``),
``pre_post_correlation`` (``prepost_clustered``); ``reps`` and ``seed`` may be
given in the spec too (arguments win).

Reproducibility.  Replicate ``r`` of a grid point draws from
``SeedSequence(seed, spawn_key=(a, b, r))``, ``(a, b)`` taken from the hash
of the point's spec, i.e. the ``r``-th child of the point's SeedSequence
(``.spawn``).  Results are therefore identical whatever the number of workers,
the batching and the order in which tasks finish; adding points to a grid
leaves the others' numbers unchanged, and ``reps=2000`` extends a
``reps=1000`` run with its first 1000 replicates.

Execution.  Batches of replicates of one point are the tasks; they run on
``dask.distributed``: an embedded ``LocalCluster`` (one single-threaded
worker process per core, or ``workers=``), or an existing cluster given by
``client=`` (a ``distributed.Client`` or a scheduler address
``"tcp://host:8786"``; ``DASK_SCHEDULER_ADDRESS`` is honoured when neither is
given).  ``workers=0`` runs in this process, without Dask.  Results are
gathered as tasks finish; each finished batch is written to the cache at once
(on the machine that runs :func:`power`, never on the workers), so a run that
is interrupted keeps what it finished and a rerun computes only the missing
replicates.

References
----------
Arnold BF, Hogan DR, Colford JM, Hubbard AE (2011). Simulation methods to
estimate design power: an overview for applied research. *BMC Med Res
Methodol* 11, 94.
Morris TP, White IR, Crowther MJ (2019). Using simulation studies to evaluate
statistical methods. *Stat Med* 38(11), 2074-2102.
Donner A, Klar N (2000). *Design and Analysis of Cluster Randomization Trials
in Health Research*. Arnold.

>>> spec = {"design": "cluster_randomised", "clusters_per_arm": 10, "cluster_size": 20, "icc": 0.05,
...         "effect": {"mean_difference": 0.5}}
>>> res = power(spec, reps=20, seed=1, workers=0, cache=False)
>>> res.table[["clusters_per_arm", "reps", "n_failed"]].to_dict("records")
[{'clusters_per_arm': 10, 'reps': 20, 'n_failed': 0}]
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import InputError, check_count
from ..synth.clustered import binary_parameters
from ._replicate import FIELDS, replicate_rng, run_batch, truth
from ._spec import ANALYSES, KEYS, expand, point_hash, read_spec, spawn_key

__all__ = ["power", "SimulationResult", "expand", "read_spec", "default_cache_dir", "replicate_rng", "ANALYSES"]

DEFAULT_SEED = 20261121
DEFAULT_REPS = 1000


def default_cache_dir() -> Path:
    """Where finished replicates are kept: ``$VEPLAB_SIMULATE_CACHE`` or ``~/.cache/veplab/simulate``.

    ``$XDG_CACHE_HOME/veplab/simulate`` when that variable is set and
    ``VEPLAB_SIMULATE_CACHE`` is not.  Replicates are keyed by the grid
    point's spec, the seed and the replicate index, so a cached batch is reused
    only for exactly the same draws.

    Returns
    -------
    Path

    References
    ----------
    XDG Base Directory Specification, version 0.8 (2021),
    https://specifications.freedesktop.org/basedir-spec/ (``$XDG_CACHE_HOME``,
    default ``~/.cache``).

    Examples
    --------
    >>> import os
    >>> saved = os.environ.get("VEPLAB_SIMULATE_CACHE")
    >>> os.environ["VEPLAB_SIMULATE_CACHE"] = "/srv/cache/power"
    >>> default_cache_dir()
    PosixPath('/srv/cache/power')
    >>> if saved is None:
    ...     del os.environ["VEPLAB_SIMULATE_CACHE"]
    ... else:
    ...     os.environ["VEPLAB_SIMULATE_CACHE"] = saved
    >>> default_cache_dir().parts[-2:]
    ('veplab', 'simulate')
    """
    env = os.environ.get("VEPLAB_SIMULATE_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "veplab" / "simulate"


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True)
class SimulationResult(Result):
    """Simulated power, bias, SEs and coverage: one row of ``table`` per grid point."""

    table: pd.DataFrame
    replicates: pd.DataFrame
    spec: dict
    varying: list
    seed: int
    reps: int
    reps_run: int
    reps_cached: int
    seconds: float
    workers: str
    errors: dict

    def to_frame(self) -> pd.DataFrame:
        """The grid table."""
        return self.table

    def summary(self) -> str:
        cols = [c for c in self.varying] or ["design"]
        lines = [f"simulated power: {len(self.table)} grid point(s) x {self.reps} replicates, seed {self.seed} "
                 f"({self.reps_run} run, {self.reps_cached} from the cache, {self.seconds:.1f} s on {self.workers})"]
        for _, row in self.table.iterrows():
            where = ", ".join(f"{c}={row[c]}" for c in cols)
            ana = "" if math.isnan(row["analytic_power"]) else f" (analytic {row['analytic_power']:.3f})"
            lines.append(f"  {where}: power {row['power']:.3f} [{row['power_ci_low']:.3f}, "
                         f"{row['power_ci_high']:.3f}]{ana}, bias {row['bias']:+.3g}, SE model/empirical "
                         f"{row['model_se']:.3g}/{row['empirical_se']:.3g}, coverage {row['coverage']:.3f}, "
                         f"failed {row['n_failed']}")
        return "\n".join(lines)

    def to_json(self, path: str | Path | None = None) -> str:
        """The result as JSON (spec, seed, reps, timings and the grid table); written to ``path`` if given."""
        table = json.loads(self.table.to_json(orient="records", double_precision=15))
        doc = {"spec": self.spec, "varying": self.varying, "seed": self.seed, "reps": self.reps,
               "reps_run": self.reps_run, "reps_cached": self.reps_cached, "seconds": round(self.seconds, 3),
               "workers": self.workers, "errors": self.errors, "points": table}
        text = json.dumps(doc, indent=2, default=str)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def plot(self, ax: Any = None, *, x: str = "clusters_per_arm", by: str | None = "icc") -> Any:
        """Power against ``x`` (default clusters per arm), one line per ``by`` (default ICC), with MC intervals."""
        import matplotlib.pyplot as plt

        t = self.table
        if x not in t.columns:
            raise InputError(f"plot: no column {x!r} in the simulation table")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        groups = [(None, t)] if by is None or by not in t.columns else list(t.groupby(by, sort=True))
        for level, g in groups:
            g = g.sort_values(x)
            # clipped at 0: a Wilson end can sit 1e-16 inside a power of 0 or 1 (matplotlib refuses it)
            err = np.clip(np.vstack([g["power"] - g["power_ci_low"], g["power_ci_high"] - g["power"]]), 0, None)
            ax.errorbar(g[x], g["power"], yerr=err, marker="o", capsize=3,
                        label=None if level is None else f"{by} = {level:g}" if isinstance(level, float)
                        else f"{by} = {level}")
        ax.axhline(0.8, color="grey", linestyle=":", linewidth=1)
        ax.set_ylim(0, 1)
        values = np.unique(pd.to_numeric(t[x], errors="coerce").dropna())
        if 0 < len(values) <= 15 and np.all(values == np.round(values)):
            ax.set_xticks(values, [f"{v:g}" for v in values])  # design points only: no 3.25 prisons
        ax.set_xlabel(x.replace("_", " "))
        ax.set_ylabel("power")
        if by is not None and by in t.columns:
            ax.legend(frameon=False)
        return ax


# --------------------------------------------------------------------------- cache
def _cache_folder(root: Path, digest: str, point: Mapping[str, Any], seed: int) -> Path:
    folder = root / digest[:24]
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "point.json").write_text(json.dumps({"point": point, "seed": seed}, indent=1), encoding="utf-8")
    return folder


def _load_cache(folder: Path) -> tuple[dict[int, list[float]], dict[str, int]]:
    done: dict[int, list[float]] = {}
    errors: dict[str, int] = {}
    for f in sorted(folder.glob("batch-*.json")):
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
            pairs = list(zip(doc["reps"], doc["records"], strict=True))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # unreadable: its replicates are simply run again
        for rep, rec in pairs:
            done.setdefault(int(rep), [float(v) for v in rec])
        for why, n in doc.get("errors", {}).items():
            errors[why] = errors.get(why, 0) + int(n)
    return done, errors


def _save_batch(folder: Path, batch: Mapping[str, Any]) -> None:
    reps = batch["reps"]
    name = f"batch-{reps[0]:08d}-{reps[-1]:08d}-{len(reps)}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(batch, fh)
    os.replace(tmp, folder / name)


# --------------------------------------------------------------------------- execution
@contextlib.contextmanager
def _dask_client(client: Any, workers: int | None) -> Iterator[tuple[Any, str]]:
    """A distributed Client: the one given, one connected to an address, or an embedded LocalCluster."""
    from .._dask import connect, distributed_module

    distributed = distributed_module("simulate", InputError, " (make demo / make test install it), or run with workers=0")
    if client is not None and not isinstance(client, str):
        yield client, f"{len(client.scheduler_info().get('workers', {}))} workers at {client.scheduler.address}"
        return
    address = client if isinstance(client, str) else None
    if address is None and workers is None:
        address = os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if address is not None:
        c = connect(address, "simulate")
        try:
            n = len(c.scheduler_info().get("workers", {}))
            yield c, f"{n} worker(s) at {address}"
        finally:
            c.close()
        return
    n = workers if workers is not None else (os.cpu_count() or 1)
    cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None,
                                       silence_logs=logging.ERROR)
    c = distributed.Client(cluster, set_as_default=False)
    try:
        yield c, f"{n} local worker process(es)"
    finally:
        c.close()
        cluster.close()


def _progress(total: int, show: bool):
    if not show:
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("replicates"),
                    TimeRemainingColumn(), console=Console(stderr=True), transient=False)


def _batches(todo: list[int], size: int) -> list[list[int]]:
    return [todo[i:i + size] for i in range(0, len(todo), size)]


def _summarise(point: Mapping[str, Any], reps: int, recs: np.ndarray) -> dict[str, Any]:
    from ..descriptives import wilson_interval

    est, se, lo, hi, p, failed, singular = (recs[:, i] for i in range(len(FIELDS)))
    ok = failed == 0
    n_ok = int(ok.sum())
    th = truth(point)
    row: dict[str, Any] = {}
    rej = int((p[ok] < point["alpha"]).sum())
    cov = int(((lo[ok] <= th) & (th <= hi[ok])).sum())
    plo, phi = wilson_interval(rej, n_ok)
    clo, chi = wilson_interval(cov, n_ok)
    emp = float(np.std(est[ok], ddof=1)) if n_ok > 1 else math.nan
    mean_est = float(est[ok].mean()) if n_ok else math.nan
    row.update(reps=int(reps), n_ok=n_ok, n_failed=int(failed.sum()), n_singular=int(singular[ok].sum()),
               power=rej / n_ok if n_ok else math.nan, power_ci_low=float(plo), power_ci_high=float(phi),
               analytic_power=_analytic(point), truth=th, mean_estimate=mean_est, bias=mean_est - th,
               bias_mcse=emp / math.sqrt(n_ok) if n_ok > 1 else math.nan, empirical_se=emp,
               model_se=float(se[ok].mean()) if n_ok else math.nan,
               coverage=cov / n_ok if n_ok else math.nan, coverage_ci_low=float(clo), coverage_ci_high=float(chi))
    row["se_ratio"] = row["model_se"] / emp if n_ok > 1 and emp > 0 else math.nan
    return row


def _analytic(point: Mapping[str, Any]) -> float:
    """Design-effect power of the planned comparison (``cluster_randomised`` only), else NaN."""
    from ..outcomes.power import power as analytic

    if point["design"] != "cluster_randomised":
        return math.nan
    (name, value), = point["effect"].items()
    kw = dict(n=point["clusters_per_arm"], icc=point["icc"], cluster_size=point["cluster_size"], cv=point["cv"],
              alpha=point["alpha"])
    try:
        if name == "mean_difference":
            return analytic("cluster_two_sample", effect=value, sd=point.get("sd", 1.0), **kw).power
        p1 = binary_parameters(point["baseline"], point["icc"], value)["p1"]
        if abs(p1 - point["baseline"]) < 1e-12:
            return math.nan
        return analytic("cluster_two_proportions", p1=point["baseline"], effect=p1, **kw).power
    except InputError:
        return math.nan


def power(
    spec: Any,
    reps: int | None = None,
    seed: int | None = None,
    client: Any = None,
    *,
    workers: int | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> SimulationResult:
    """Simulate ``spec`` (a mapping or YAML file) ``reps`` times per grid point; see the module docstring.

    Parameters
    ----------
    spec : mapping or path of a YAML file (keys in the module docstring).
    reps : replicates per grid point (default: the spec's ``reps``, else 1000).
    seed : root seed (default: the spec's ``seed``, else 20261121).
    client : a ``distributed.Client`` or a scheduler address; default: the
        ``DASK_SCHEDULER_ADDRESS`` environment variable when set (and
        ``workers`` is not), else an embedded ``LocalCluster``.
    workers : worker processes of the embedded cluster (default: the cores);
        ``0`` runs in this process without Dask.
    cache : keep finished batches in ``cache_dir`` (default
        :func:`default_cache_dir`) and reuse them.
    batch_size : replicates per task (default: about 8 tasks per worker and
        grid point, between 5 and 100 replicates).
    progress : show a progress bar on stderr.

    Returns
    -------
    SimulationResult with ``table`` (one row per grid point: the grid keys,
    ``reps``, ``n_ok``, ``n_failed``, ``n_singular``, ``power`` with
    ``power_ci_low``/``power_ci_high``, ``analytic_power``, ``truth``,
    ``mean_estimate``, ``bias``, ``bias_mcse``, ``empirical_se``, ``model_se``,
    ``se_ratio``, ``coverage`` with its interval), ``replicates`` (one row per
    replicate), ``reps_run`` and ``reps_cached``.

    Notes
    -----
    Per grid point, over the ``n_ok`` replicates that fitted (estimates
    ``b_r`` on the log scale for odds and hazard ratios, model SEs ``s_r``,
    p-values ``p_r``, true value ``beta``; Morris, White & Crowther 2019)::

        power = mean(p_r < alpha)                  (Wilson 95% Monte-Carlo interval)
        bias = mean(b_r) - beta,   bias_mcse = empirical_se / sqrt(n_ok)
        empirical_se = sd(b_r),    model_se = mean(s_r),   se_ratio = model_se / empirical_se
        coverage = mean(|b_r - beta| <= z_(1 - alpha/2) * s_r)

    ``analytic_power`` (``cluster_randomised``) is the normal approximation
    with the design effect ``1 + (m - 1) * icc`` (Donner & Klar 2000), as
    :func:`veplab.outcomes.power` computes it.

    References
    ----------
    Morris, T. P., White, I. R. & Crowther, M. J. (2019). Using simulation
    studies to evaluate statistical methods. *Statistics in Medicine*
    38(11), 2074-2102 (the performance measures and their Monte-Carlo SEs).
    Arnold, B. F., Hogan, D. R., Colford, J. M. & Hubbard, A. E. (2011).
    Simulation methods to estimate design power: an overview for applied
    research. *BMC Medical Research Methodology* 11, 94.
    Donner, A. & Klar, N. (2000). *Design and Analysis of Cluster
    Randomization Trials in Health Research*. Arnold.

    Examples
    --------
    Ten and twenty prisons per arm, 20 people each, ICC 0.05, re-arrest
    halved in odds from a base rate of 30%, analysed with a cluster-robust
    logit; 20 replicates in this process (a real run uses 1000 or more):

    >>> spec = {"design": "cluster_randomised", "clusters_per_arm": [10, 20], "cluster_size": 20,
    ...         "icc": 0.05, "baseline": 0.3, "effect": {"odds_ratio": 0.5},
    ...         "analysis": "logit_cluster_robust"}
    >>> res = power(spec, reps=20, seed=1, workers=0, cache=False)
    >>> res.table[["clusters_per_arm", "reps", "n_failed", "power", "analytic_power"]].round(2)
       clusters_per_arm  reps  n_failed  power  analytic_power
    0                10    20         0    0.50            0.51
    1                20    20         0   0.85            0.81
    """
    raw = read_spec(spec)
    reps = int(raw.get("reps", DEFAULT_REPS) if reps is None else reps)
    if reps < 2:
        raise InputError(f"simulate: reps must be at least 2, got {reps}")
    seed = raw.get("seed", DEFAULT_SEED) if seed is None else seed
    seed = check_count(seed, "seed", "simulate", minimum=0)
    if workers is not None and (isinstance(workers, bool) or int(workers) != workers or workers < 0):
        raise InputError(f"simulate: workers must be a whole number >= 0, got {workers!r}")
    if batch_size is None and raw.get("batch_size") is not None:
        batch_size = int(raw["batch_size"])
    if batch_size is not None and batch_size < 1:
        raise InputError(f"simulate: batch_size must be at least 1, got {batch_size}")
    points, varying = expand({k: v for k, v in raw.items() if k not in ("reps", "seed", "batch_size")})
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    started = time.perf_counter()

    digests = [point_hash(p, seed) for p in points]
    keys = [spawn_key(d) for d in digests]
    done: list[dict[int, list[float]]] = []
    errors: list[dict[str, int]] = []
    folders: list[Path | None] = []
    for p, d in zip(points, digests):
        if cache:
            folder = _cache_folder(root, d, p, seed)
            got, errs = _load_cache(folder)
        else:
            folder, got, errs = None, {}, {}
        folders.append(folder)
        done.append(got)
        errors.append(errs)
    cached = sum(sum(1 for r in got if r < reps) for got in done)
    todo = [[r for r in range(reps) if r not in got] for got in done]
    n_todo = sum(len(t) for t in todo)

    def absorb(i: int, batch: Mapping[str, Any]) -> None:
        for rep, rec in zip(batch["reps"], batch["records"]):
            done[i].setdefault(int(rep), rec)
        for why, n in batch["errors"].items():
            errors[i][why] = errors[i].get(why, 0) + n
        folder = folders[i]
        if folder is not None:
            _save_batch(folder, batch)

    where = "cache only"
    if n_todo:
        if workers == 0:
            where = "this process"
            size = batch_size or 25
            with _progress(n_todo, progress) as bar:
                task = bar.add_task("sim", total=n_todo) if bar else None
                for i, t in enumerate(todo):
                    for chunk in _batches(t, size):
                        absorb(i, run_batch(points[i], seed, keys[i], chunk))
                        if bar:
                            bar.advance(task, len(chunk))
        else:
            with _dask_client(client, workers) as (c, where):
                n_workers = max(1, len(c.scheduler_info().get("workers", {})))
                size = batch_size or int(min(100, max(5, math.ceil(n_todo / (8 * n_workers)))))
                _run_dask(c, points, keys, todo, size, seed, absorb, progress, n_todo)

    frames, rows = [], []
    for i, p in enumerate(points):
        recs = np.array([done[i][r] for r in range(reps)], dtype=float).reshape(reps, len(FIELDS))
        row = {k: v for k, v in p.items() if k != "effect"}
        (ename, evalue), = p["effect"].items()
        row[ename] = evalue
        row.update(_summarise(p, reps, recs))
        rows.append(row)
        f = pd.DataFrame(recs, columns=list(FIELDS))
        f.insert(0, "rep", np.arange(reps))
        f.insert(0, "point", i)
        frames.append(f)
    table = pd.DataFrame(rows)
    lead = [c for c in KEYS if c in table.columns] + [c for c in ("odds_ratio", "mean_difference", "hazard_ratio")
                                                      if c in table.columns]
    table = table[lead + [c for c in table.columns if c not in lead]]
    reps_frame = pd.concat(frames, ignore_index=True)
    for c in ("failed", "singular"):
        reps_frame[c] = reps_frame[c].astype(bool)
    return SimulationResult(table=table, replicates=reps_frame, spec=raw, varying=varying, seed=seed, reps=reps,
                            reps_run=n_todo, reps_cached=cached, seconds=time.perf_counter() - started,
                            workers=where, errors={i: e for i, e in enumerate(errors) if e})


def _run_dask(c: Any, points, keys, todo, size: int, seed: int, absorb, progress: bool, n_todo: int) -> None:
    from distributed import as_completed

    futures = {}
    for i, t in enumerate(todo):
        for chunk in _batches(t, size):
            fut = c.submit(run_batch, points[i], seed, keys[i], chunk, pure=False)
            futures[fut] = i
    try:
        with _progress(n_todo, progress) as bar:
            task = bar.add_task("sim", total=n_todo) if bar else None
            for fut, batch in as_completed(list(futures), loop=c.loop, with_results=True):
                absorb(futures[fut], batch)
                if bar:
                    bar.advance(task, len(batch["reps"]))
    except ModuleNotFoundError as exc:
        raise InputError(f"simulate: a Dask worker cannot import {exc.name!r}; install veplab in the workers' "
                         f"environment (pip install -e .) before `dask worker`") from None
    finally:
        for fut in futures:
            if not fut.done():
                fut.cancel()

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
