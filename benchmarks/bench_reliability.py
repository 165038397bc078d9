"""Benchmark: alpha, omega and the ICC at national scale, side by side with pingouin and psych.

Data: n = 70,119 synthetic respondents (Uganda's prison population) x 20
five-point items (a general factor and three group factors; FAKE data).

For each task it prints veplab's time, each peer's time measured in the same
run, and the ratio (peer time / veplab time: above 1 means veplab is faster):

* alpha point estimate: ``veplab.reliability.alpha`` against
  ``pingouin.cronbach_alpha`` and ``psych::alpha`` (Rscript);
* alpha bootstrap, 2,000 resamples: ``alpha(method="bootstrap")`` against
  the loop users write with pingouin (resample rows, call
  ``cronbach_alpha``; timed on a few resamples and scaled to 2,000) and
  ``psych::alpha(n.iter=)`` (timed on a few iterations and scaled);
* omega point estimate (one-factor ML omega total and Schmid-Leiman omega
  hierarchical, 3 group factors): ``omega(n_boot=0)`` against
  ``psych::omega(nfactors=3)``;
* omega bootstrap, 2,000 resamples: ``omega(n_boot=2000)`` against
  ``psych::omega(n.iter=)`` (scaled) and a loop of resample +
  ``omega(n_boot=0)``;
* ICC bootstrap, 2,000 resamples (the 20 items as 20 "raters") against
  resample + ``pingouin.intraclass_corr`` (scaled).

R's times are ``system.time(...)["elapsed"]`` inside one Rscript process
(data read from a CSV first, not timed), with one BLAS thread as Python
here.  Estimates are checked against pingouin and psych.  Not a timed test:
the numbers depend on the machine and its load, the ratios much less.

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_reliability.py [--no-r]
Targets (issue 17): alpha point >= 1x pingouin; alpha bootstrap under 2 s;
omega bootstrap under 5 s.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from veplab.reliability import alpha, icc, omega

N = 70_119
K = 20
N_BOOT = 2000


def make_items(seed: int = 70119) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.normal(size=N)
    groups = rng.normal(size=(N, 3))
    grp = np.arange(K) % 3
    lg = rng.uniform(0.45, 0.7, size=K)
    ls = rng.uniform(0.25, 0.45, size=K)
    latent = g[:, None] * lg + groups[:, grp] * ls + rng.normal(size=(N, K)) * np.sqrt(1 - lg**2 - ls**2)
    cuts = np.array([-1.3, -0.45, 0.35, 1.2])
    return pd.DataFrame(1 + (latent[..., None] > cuts).sum(axis=-1), columns=[f"item{i + 1}" for i in range(K)])


R_SCRIPT = r"""
suppressPackageStartupMessages({ library(psych); library(GPArotation); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
x <- read.csv(args[1])
el <- function(expr) unname(system.time(expr)["elapsed"])
best <- function(f, reps) min(replicate(reps, el(f())))
a_pt <- best(function() suppressWarnings(alpha(x)), 3)
a <- suppressWarnings(alpha(x))
ab <- as.integer(args[2])
a_boot <- el(suppressWarnings(alpha(x, n.iter = ab + 1)))
o_pt <- best(function() suppressMessages(suppressWarnings(omega(x, nfactors = 3, plot = FALSE))), 2)
o <- suppressMessages(suppressWarnings(omega(x, nfactors = 3, plot = FALSE)))
ob <- as.integer(args[3])
o_boot <- el(suppressMessages(suppressWarnings(omega(x, nfactors = 3, plot = FALSE, n.iter = ob + 1))))
cat(toJSON(list(
  alpha_point = a_pt, alpha_per_resample = max(a_boot - a_pt, 0) / ab,
  omega_point = o_pt, omega_per_resample = max(o_boot - o_pt, 0) / ob,
  raw_alpha = a$total$raw_alpha, omega_h = o$omega_h, omega_tot = o$omega.tot,
  psych = as.character(packageVersion("psych")), R = R.version.string
), auto_unbox = TRUE, digits = NA))
"""


def run_r(items: pd.DataFrame, alpha_iter: int = 5, omega_iter: int = 3) -> dict | None:
    """psych's times and estimates on the same data, from one Rscript process (None without R)."""
    if shutil.which("Rscript") is None:
        print("Rscript not found: psych columns left empty (scripts/sysdeps.sh installs R)\n")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "items.csv"
        items.to_csv(csv, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        proc = subprocess.run(["Rscript", str(script), str(csv), str(alpha_iter), str(omega_iter)],
                              capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"Rscript failed ({proc.returncode}); psych columns left empty:\n{proc.stderr[-2000:]}\n")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def timed(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    t = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, elapsed, peak / 2**20


def loop_time(one_resample, reps: int) -> float:
    t = time.perf_counter()
    for _ in range(reps):
        one_resample()
    return (time.perf_counter() - t) / reps


def best_of(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def fmt(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "-"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    import pingouin as pg

    use_r = "--no-r" not in sys.argv
    items = make_items()
    x = items.to_numpy()
    rng = np.random.default_rng(1)
    print(f"data: {N:,} respondents x {K} items; {N_BOOT:,} bootstrap resamples; "
          f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; "
          f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}\n")
    rows: list[tuple[str, float, dict[str, float | None]]] = []

    # ---------------------------------------------------------------- psych (R), same data, same run
    r = run_r(items) if use_r else None

    # ---------------------------------------------------------------- alpha point
    alpha(items)  # warm-up (imports)
    t_alpha_pt = best_of(lambda: alpha(items), 7)
    t_pg_pt = best_of(lambda: pg.cronbach_alpha(items), 7)
    res = alpha(items)
    pg_alpha = pg.cronbach_alpha(items)[0]
    assert abs(res.estimate - pg_alpha) < 1e-12, (res.estimate, pg_alpha)
    if r:
        assert abs(res.estimate - r["raw_alpha"]) < 1e-9, (res.estimate, r["raw_alpha"])
    rows.append(("alpha, point estimate", t_alpha_pt,
                 {"pingouin": t_pg_pt, "psych": r["alpha_point"] if r else None}))

    # ---------------------------------------------------------------- alpha bootstrap
    res, t_alpha, mem_alpha = timed(lambda: alpha(items, method="bootstrap", n_boot=N_BOOT, seed=1))

    def pg_alpha_once():
        pg.cronbach_alpha(pd.DataFrame(x[rng.integers(0, N, N)], columns=items.columns))

    per = loop_time(pg_alpha_once, 10)
    rows.append((f"alpha, bootstrap {N_BOOT:,}", t_alpha,
                 {"pingouin": per * N_BOOT, "psych": r["alpha_per_resample"] * N_BOOT if r else None}))

    # ---------------------------------------------------------------- omega
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        omega(items, n_boot=0)
        t_om_pt = best_of(lambda: omega(items, n_boot=0), 3)
        om, t_om, mem_om = timed(lambda: omega(items, n_boot=N_BOOT, seed=1))

        def omega_once():
            omega(pd.DataFrame(x[rng.integers(0, N, N)], columns=items.columns), n_boot=0)

        per_om = loop_time(omega_once, 3)
    if r:
        assert abs(om.omega_h - r["omega_h"]) < 1e-3 * r["omega_h"], (om.omega_h, r["omega_h"])
    rows.append(("omega, point estimate (ML total + SL hierarchical)", t_om_pt,
                 {"psych": r["omega_point"] if r else None}))
    rows.append((f"omega, bootstrap {N_BOOT:,}", t_om,
                 {"psych": r["omega_per_resample"] * N_BOOT if r else None, "veplab loop": per_om * N_BOOT}))

    # ---------------------------------------------------------------- ICC
    res_icc, t_icc, mem_icc = timed(lambda: icc(items, interval="bootstrap", n_boot=N_BOOT, seed=1))
    tab = res_icc.table
    long = items.rename_axis("subject").reset_index().melt(id_vars="subject", var_name="rater", value_name="rating")
    pg_icc = pg.intraclass_corr(long, targets="subject", raters="rater", ratings="rating").set_index("Type")
    assert abs(tab.loc["ICC3k", "icc"] - pg_icc.loc["ICC(C,k)", "ICC"]) < 1e-9
    assert abs(tab.loc["ICC3k", "icc"] - res.estimate) < 1e-9  # ICC(C,k) = alpha

    def pg_icc_once():
        sub = pd.DataFrame(x[rng.integers(0, N, N)], columns=items.columns).rename_axis("subject").reset_index()
        pg.intraclass_corr(
            sub.melt(id_vars="subject", var_name="rater", value_name="rating"),
            targets="subject", raters="rater", ratings="rating",
        )

    per_icc = loop_time(pg_icc_once, 2)
    rows.append((f"ICC (six forms), bootstrap {N_BOOT:,}", t_icc, {"pingouin": per_icc * N_BOOT}))

    # ---------------------------------------------------------------- report
    print(f"{'task':<52} {'veplab':>10} {'pingouin':>10} {'psych':>10}  ratio (peer / veplab)")
    for task, t_v, peers in rows:
        ratios = ", ".join(f"{name} {t / t_v:.1f}x" for name, t in peers.items() if t)
        print(f"{task:<52} {fmt(t_v):>10} {fmt(peers.get('pingouin')):>10} {fmt(peers.get('psych')):>10}  {ratios}")
    print()
    print(f"alpha {res.estimate:.6f} (pingouin {pg_alpha:.6f}"
          + (f", psych {r['raw_alpha']:.6f}" if r else "") + f"); 95% CI {res.ci_low:.4f}-{res.ci_high:.4f} "
          f"({res.boot_weights} weights); peak traced memory {mem_alpha:.0f} MiB")
    print(f"omega total {om.estimate:.4f} ({om.ci_low:.4f}-{om.ci_high:.4f}), omega_h {om.omega_h:.4f} "
          f"({om.omega_h_ci_low:.4f}-{om.omega_h_ci_high:.4f})"
          + (f" [psych omega_h {r['omega_h']:.4f}, omega_tot {r['omega_tot']:.4f}]" if r else "")
          + f", {om.n_boot_failed} failed resamples; peak traced memory {mem_om:.0f} MiB")
    print(f"ICC(A,1) {tab.loc['ICC2', 'icc']:.4f} ({tab.loc['ICC2', 'ci_low']:.4f}-{tab.loc['ICC2', 'ci_high']:.4f}); "
          f"ICC(C,k) {tab.loc['ICC3k', 'icc']:.6f} = pingouin {pg_icc.loc['ICC(C,k)', 'ICC']:.6f} = alpha; "
          f"peak traced memory {mem_icc:.0f} MiB")
    if r:
        print(f"psych {r['psych']} on {r['R']}; its bootstrap times scaled from a few n.iter")
    print(f"targets: alpha point >= 1x pingouin ({t_pg_pt / t_alpha_pt:.2f}x); alpha bootstrap < 2 s ({t_alpha:.2f} s); "
          f"omega bootstrap < 5 s ({t_om:.2f} s)")
    print(f"load average at the end {os.getloadavg()[0]:.1f} (other processes slow every column alike)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak resident memory (all of the above): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
