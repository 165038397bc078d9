"""Benchmark: polychoric correlation matrix at national scale, veplab against psych.

Data: n = 70,119 synthetic respondents (Uganda's prison population) x 20
five-category items (a general factor and three group factors, cut at fixed
thresholds; seeded, FAKE data).  Two data sets: complete answers, and the same
answers with 3% of them missing at random (pairwise deletion).

Times, in one run:

* ``veplab.factor_analysis.correlations`` in this process (best of ``REPS`` calls
  after a warm-up call);
* ``psych::polychoric`` through ``Rscript``, timed inside R with
  ``system.time`` (best of ``REPS``; R start-up, loading psych and reading the
  data are excluded) - once with psych's default ``mc.cores`` (psych runs the
  pairs through ``parallel::mclapply``, 2 processes unless
  ``options(mc.cores=)`` says otherwise) and once with ``mc.cores = 1``.

Compares the estimates (max absolute difference of the correlations and of
the thresholds; psych's ``optimize`` tolerance is 1.2e-4, veplab's
safeguarded Newton search stops at steps below 1e-12) and prints the ratio psych time /
veplab time against the faster psych run.

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_polychoric.py
Target: ratio >= 1 (at least as fast as psych::polychoric) with max |diff|
of rho < 1e-3.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from veplab.validity import polychoric

N = 70_119
K = 20
REPS = 3
MISSING = 0.03

R_SCRIPT = r"""
suppressPackageStartupMessages(library(psych))
args <- commandArgs(trailingOnly = TRUE)
x <- as.matrix(read.csv(args[1]))
reps <- as.integer(args[2])
cores <- as.integer(args[3])
if (cores > 0) options(mc.cores = cores)
best <- Inf
for (r in seq_len(reps)) {
  tm <- system.time(pc <- suppressWarnings(suppressMessages(polychoric(x))))[["elapsed"]]
  best <- min(best, tm)
}
out <- list(seconds = best, mc_cores = getOption("mc.cores", 2L),
            psych = as.character(packageVersion("psych")),
            rho = unname(pc$rho), tau = unname(pc$tau))
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE), args[4])
"""


def make_items(seed: int = 70119, missing: float = 0.0) -> pd.DataFrame:
    """20 five-category items from a bifactor model (FAKE data)."""
    rng = np.random.default_rng(seed)
    g = rng.normal(size=N)
    groups = rng.normal(size=(N, 3))
    grp = np.arange(K) % 3
    lg = rng.uniform(0.45, 0.7, size=K)
    ls = rng.uniform(0.25, 0.45, size=K)
    latent = g[:, None] * lg + groups[:, grp] * ls + rng.normal(size=(N, K)) * np.sqrt(1 - lg**2 - ls**2)
    cuts = np.array([-1.3, -0.45, 0.35, 1.2])
    codes = (1 + (latent[..., None] > cuts).sum(axis=-1)).astype(float)
    if missing:
        codes[rng.random(codes.shape) < missing] = np.nan
    return pd.DataFrame(codes, columns=[f"item{i + 1}" for i in range(K)])


def time_veplab(items: pd.DataFrame):
    polychoric(items)  # warm-up
    best = np.inf
    for _ in range(REPS):
        t = time.perf_counter()
        res = polychoric(items)
        best = min(best, time.perf_counter() - t)
    return res, best


def time_psych(csv: Path, cores: int, out: Path) -> dict:
    script = out.with_suffix(".R")
    script.write_text(R_SCRIPT)
    subprocess.run(["Rscript", str(script), str(csv), str(REPS), str(cores), str(out)], check=True)
    return json.loads(out.read_text())


def main() -> None:
    have_r = shutil.which("Rscript") is not None
    print(f"data: {N:,} respondents x {K} five-category items (FAKE); best of {REPS} runs each\n")
    with tempfile.TemporaryDirectory() as tmp:
        for label, miss in (("complete", 0.0), (f"{MISSING:.0%} missing (pairwise)", MISSING)):
            items = make_items(missing=miss)
            res, t_vep = time_veplab(items)
            print(f"{label}: {int(items.isna().sum().sum()):,} missing answers")
            print(f"  veplab.polychoric:                         {t_vep:7.3f} s")
            if not have_r:
                print("  Rscript not found; psych not timed")
                continue
            csv = Path(tmp) / "items.csv"
            items.to_csv(csv, index=False, na_rep="NA")
            runs = {}
            for cores in (0, 1):
                ref = time_psych(csv, cores, Path(tmp) / f"psych{cores}.json")
                runs[cores] = ref
                how = f"mc.cores = {ref['mc_cores']}" + (" (default)" if cores == 0 else "")
                d_rho = np.abs(res.rho.to_numpy() - np.asarray(ref["rho"])).max()
                d_tau = np.abs(res.thresholds.to_numpy() - np.asarray(ref["tau"])).max()
                print(f"  psych::polychoric {how:<24} {ref['seconds']:7.3f} s   "
                      f"max |diff| rho {d_rho:.1e}, thresholds {d_tau:.1e}  (psych {ref['psych']})")
            fastest = min(r["seconds"] for r in runs.values())
            print(f"  ratio (fastest psych / veplab): {fastest / t_vep:5.2f}x   target >= 1x\n")


if __name__ == "__main__":
    main()
