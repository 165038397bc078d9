"""Benchmark: vectorised bootstrap of alpha, omega and the ICC at national scale.

Data: n = 70,119 synthetic respondents (Uganda's prison population) x 20
five-point items (a general factor and three group factors; FAKE data).

Times, in one process:

* ``veplab.reliability.alpha(method="bootstrap", n_boot=2000)`` against the
  loop users write today - resample rows, call ``pingouin.cronbach_alpha`` -
  timed on a few resamples and scaled to 2,000;
* ``veplab.reliability.omega(n_boot=2000)`` (one-factor ML omega total and
  Schmid-Leiman omega hierarchical refitted in every resample) against a
  loop of resample + ``omega(n_boot=0)``;
* ``veplab.reliability.icc(interval="bootstrap", n_boot=2000)`` (the 20
  items as 20 "raters") against resample + ``pingouin.intraclass_corr``
  (long format), timed on one or two resamples and scaled.

Checks that the point estimates agree with pingouin (alpha; ICC3k equals
alpha) and prints ratios and peak memory (tracemalloc: the largest traced
allocation peak of each veplab bootstrap; resource: the process's maximum
resident set size).

Run:  .venv/bin/python benchmarks/bench_reliability.py
Target: alpha bootstrap (2,000 resamples) under 2 s on 2 cores and >= 20x
faster than the pingouin loop.
"""

from __future__ import annotations

import resource
import time
import tracemalloc
import warnings

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


def main() -> None:
    import pingouin as pg

    items = make_items()
    x = items.to_numpy()
    rng = np.random.default_rng(1)
    print(f"data: {N:,} respondents x {K} items; {N_BOOT:,} bootstrap resamples\n")

    # ---------------------------------------------------------------- alpha
    res, t_alpha, mem_alpha = timed(lambda: alpha(items, method="bootstrap", n_boot=N_BOOT, seed=1))
    pg_alpha = pg.cronbach_alpha(items)[0]
    assert abs(res.estimate - pg_alpha) < 1e-12, (res.estimate, pg_alpha)

    def pg_alpha_once():
        pg.cronbach_alpha(pd.DataFrame(x[rng.integers(0, N, N)], columns=items.columns))

    per = loop_time(pg_alpha_once, 10)
    print("alpha")
    print(f"  estimate {res.estimate:.6f} (pingouin {pg_alpha:.6f}); 95% CI {res.ci_low:.4f}-{res.ci_high:.4f} "
          f"({res.boot_weights} weights)")
    print(f"  veplab bootstrap:  {t_alpha:7.2f} s   peak traced memory {mem_alpha:6.0f} MiB")
    print(f"  pingouin loop:     {per * N_BOOT:7.2f} s   ({per * 1e3:.1f} ms per resample x {N_BOOT})")
    print(f"  ratio:             {per * N_BOOT / t_alpha:7.1f}x   target: < 2 s and >= 20x\n")

    # ---------------------------------------------------------------- omega
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        om, t_om, mem_om = timed(lambda: omega(items, n_boot=N_BOOT, seed=1))

        def omega_once():
            omega(pd.DataFrame(x[rng.integers(0, N, N)], columns=items.columns), n_boot=0)

        per_om = loop_time(omega_once, 3)
    print("omega (one-factor ML total + Schmid-Leiman hierarchical, refitted per resample)")
    print(f"  omega total {om.estimate:.4f} ({om.ci_low:.4f}-{om.ci_high:.4f}), "
          f"omega_h {om.omega_h:.4f} ({om.omega_h_ci_low:.4f}-{om.omega_h_ci_high:.4f}), "
          f"{om.n_boot_failed} failed resamples")
    print(f"  veplab bootstrap:  {t_om:7.2f} s   peak traced memory {mem_om:6.0f} MiB")
    print(f"  resample+fit loop: {per_om * N_BOOT:7.2f} s   ({per_om * 1e3:.0f} ms per resample x {N_BOOT})")
    print(f"  ratio:             {per_om * N_BOOT / t_om:7.1f}x\n")

    # ---------------------------------------------------------------- ICC
    res_icc, t_icc, mem_icc = timed(lambda: icc(items, interval="bootstrap", n_boot=N_BOOT, seed=1))
    tab = res_icc.table
    long = items.rename_axis("subject").reset_index().melt(id_vars="subject", var_name="rater", value_name="rating")
    t0 = time.perf_counter()
    pg_icc = pg.intraclass_corr(long, targets="subject", raters="rater", ratings="rating").set_index("Type")
    t_pg_one = time.perf_counter() - t0
    assert abs(tab.loc["ICC3k", "icc"] - pg_icc.loc["ICC(C,k)", "ICC"]) < 1e-9
    assert abs(tab.loc["ICC3k", "icc"] - res.estimate) < 1e-9  # ICC(C,k) = alpha

    def pg_icc_once():
        sub = pd.DataFrame(x[rng.integers(0, N, N)], columns=items.columns).rename_axis("subject").reset_index()
        pg.intraclass_corr(
            sub.melt(id_vars="subject", var_name="rater", value_name="rating"),
            targets="subject", raters="rater", ratings="rating",
        )

    per_icc = loop_time(pg_icc_once, 2)
    print("ICC (all six forms; 20 items as raters)")
    print(f"  ICC(A,1) {tab.loc['ICC2', 'icc']:.4f} ({tab.loc['ICC2', 'ci_low']:.4f}-{tab.loc['ICC2', 'ci_high']:.4f}); "
          f"ICC(C,k) {tab.loc['ICC3k', 'icc']:.6f} = pingouin {pg_icc.loc['ICC(C,k)', 'ICC']:.6f} = alpha")
    print(f"  veplab bootstrap:  {t_icc:7.2f} s   peak traced memory {mem_icc:6.0f} MiB")
    print(f"  pingouin loop:     {per_icc * N_BOOT:7.1f} s   ({per_icc:.2f} s per resample x {N_BOOT}; "
          f"one call on the data {t_pg_one:.2f} s)")
    print(f"  ratio:             {per_icc * N_BOOT / t_icc:7.1f}x\n")

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak resident memory (all of the above): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
