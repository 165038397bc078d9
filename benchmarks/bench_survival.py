"""Benchmark: Cox (Efron ties) and Kaplan-Meier at national scale against lifelines and R ``survival``.

Data: n = 70,119 synthetic released persons (Uganda's prison population; FAKE
data) in 254 prisons and 3 regions, time to re-arrest in whole days (many tied
times, so Efron's correction matters), about 40% censored, four covariates
(two continuous, one binary, one ordinal score) with known log hazard ratios.

Times, in one run, each the best of ``REPEATS``:

* ``veplab.outcomes.cox`` - the fit alone, and fit + Harrell's C with its
  standard error (veplab computes the concordance on first use);
* ``lifelines.CoxPHFitter`` (Efron ties, its default) - fit, and fit +
  ``concordance_index_``.  lifelines pins ``pandas < 3`` while veplab needs
  pandas 3, so the script creates (once) and reuses its own small environment
  ``benchmarks/.venv-lifelines`` (``python -m venv`` + ``pip install
  lifelines``) and runs lifelines there in a subprocess;
* R ``survival::coxph(ties = "efron")`` (which always computes the
  concordance), timed inside R with ``proc.time`` by ``Rscript``;

for three models: plain, ``strata(region)``, and ``cluster(prison)`` (robust
variance).  Kaplan-Meier: ``veplab.outcomes.kaplan_meier`` by region against
``lifelines.KaplanMeierFitter`` (one fit per region) and R ``survfit``.
Every process uses one BLAS thread.

Prints times, the ratio ``peer time / veplab time`` (above 1: veplab is
faster) and the largest absolute difference of the coefficients, standard
errors and concordance from each peer's.

Run:  .venv/bin/python benchmarks/bench_survival.py [--n 70119] [--repeats 5]
Target: veplab's Cox fit at least as fast as lifelines and coxph, with the
same estimates (coefficients within 1e-6 of coxph).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

from veplab.outcomes import cox, kaplan_meier

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-lifelines"
COVS = ["risk", "age10", "programme", "score"]
BETA = np.array([0.45, -0.20, -0.35, 0.15])
MODELS = {"plain": {}, "strata": {"strata": "region"}, "cluster": {"cluster": "prison"}}
ENV1 = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def make_data(n: int, seed: int = 70119) -> pd.DataFrame:
    """Synthetic follow-up: Weibull times to re-arrest with a prison frailty, in whole days."""
    rng = np.random.default_rng(seed)
    prison = rng.integers(0, 254, n)
    region = prison % 3
    frail = rng.normal(0, 0.3, 254)[prison]
    x = np.column_stack([rng.normal(size=n), rng.normal(3.2, 1.1, n) / 1.0, rng.random(n) < 0.3,
                         rng.integers(0, 6, n)]).astype(float)
    eta = (x - x.mean(axis=0)) @ BETA + frail + 0.2 * region
    t_event = 900 * (-np.log(rng.random(n)) / np.exp(eta)) ** (1 / 1.3)
    t_cens = rng.uniform(180, 1460, n)
    time_ = np.ceil(np.minimum(t_event, t_cens))
    return pd.DataFrame({"time": time_, "event": (t_event <= t_cens).astype(int), "risk": x[:, 0],
                         "age10": x[:, 1], "programme": x[:, 2], "score": x[:, 3], "region": region,
                         "prison": prison})


def best(fn, repeats: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


# ------------------------------------------------------------------ veplab


def run_veplab(df: pd.DataFrame, repeats: int) -> dict:
    res = {}
    for name, kw in MODELS.items():
        fit_s, fit = best(lambda: cox(df, "time", "event", COVS, **kw), repeats)

        def with_c(kw=kw):
            f = cox(df, "time", "event", COVS, **kw)
            return f, f.concordance_se

        all_s, (f2, _) = best(with_c, repeats)
        res[name] = {"fit": fit_s, "fit_c": all_s, "coef": fit.table["coef"].tolist(), "se": fit.table["se"].tolist(),
                     "c": f2.concordance, "c_se": f2.concordance_se, "loglik": fit.loglik}
    km_s, km = best(lambda: kaplan_meier(df, "time", "event", "region"), repeats)
    res["km"] = {"time": km_s, "median": km.medians["median"].tolist(),
                 "surv_end": km.table.groupby("group")["surv"].last().tolist()}
    return res


# ------------------------------------------------------------------ lifelines (own venv)

LIFELINES = textwrap.dedent("""
    import json, sys, time, warnings
    warnings.simplefilter("ignore")
    import numpy as np, pandas as pd, lifelines
    from lifelines import CoxPHFitter, KaplanMeierFitter
    path, repeats = sys.argv[1], int(sys.argv[2])
    df = pd.read_csv(path)
    covs = %(covs)r
    models = {"plain": {}, "strata": {"strata": ["region"]}, "cluster": {"cluster_col": "prison"}}
    def best(fn):
        out, ts = None, []
        for _ in range(repeats):
            t = time.perf_counter(); out = fn(); ts.append(time.perf_counter() - t)
        return min(ts), out
    res = {"version": lifelines.__version__, "pandas": pd.__version__}
    for name, kw in models.items():
        cols = covs + ["time", "event"] + (["region"] if name == "strata" else []) + (
            ["prison"] if name == "cluster" else [])
        d = df[cols]
        fit_s, f = best(lambda: CoxPHFitter().fit(d, "time", "event", **kw))
        def with_c():
            g = CoxPHFitter().fit(d, "time", "event", **kw)
            return g, g.concordance_index_
        all_s, (g, c) = best(with_c)
        res[name] = {"fit": fit_s, "fit_c": all_s, "coef": f.params_[covs].tolist(),
                     "se": f.standard_errors_[covs].tolist(), "c": float(c),
                     "loglik": float(f.log_likelihood_)}
    def km():
        out = []
        for r in sorted(df["region"].unique()):
            s = df[df["region"] == r]
            out.append(KaplanMeierFitter().fit(s["time"], s["event"]))
        return out
    km_s, fits = best(km)
    res["km"] = {"time": km_s, "median": [float(k.median_survival_time_) for k in fits],
                 "surv_end": [float(k.survival_function_.iloc[-1, 0]) for k in fits]}
    print(json.dumps(res))
""")


def ensure_lifelines() -> Path | None:
    py = VENV / "bin" / "python"
    if py.is_file() and subprocess.run([py, "-c", "import lifelines"], capture_output=True).returncode == 0:
        return py
    print(f"creating {VENV} with lifelines (once) ...", flush=True)
    base = shutil.which("python3") or sys.executable
    if subprocess.run([base, "-m", "venv", str(VENV)]).returncode != 0:
        return None
    if subprocess.run([py, "-m", "pip", "install", "-q", "lifelines"]).returncode != 0:
        return None
    return py


def run_lifelines(csv: Path, repeats: int) -> dict | None:
    py = ensure_lifelines()
    if py is None:
        print("lifelines: could not create its environment; skipped")
        return None
    script = csv.parent / "bench_lifelines.py"
    script.write_text(LIFELINES % {"covs": COVS})
    out = subprocess.run([py, str(script), str(csv), str(repeats)], capture_output=True, text=True, env=ENV1)
    if out.returncode != 0:
        print("lifelines failed:\n" + out.stderr[-2000:])
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ R survival

R_SCRIPT = textwrap.dedent("""
    suppressPackageStartupMessages(library(survival))
    args <- commandArgs(TRUE); repeats <- as.integer(args[2])
    df <- read.csv(args[1])
    best <- function(expr) {
      f <- substitute(expr); e <- parent.frame(); ts <- numeric(repeats)
      for (i in seq_len(repeats)) { t0 <- proc.time()[["elapsed"]]; out <- eval(f, e)
                                    ts[i] <- proc.time()[["elapsed"]] - t0 }
      list(time = min(ts), out = out)
    }
    forms <- list(
      plain   = Surv(time, event) ~ risk + age10 + programme + score,
      strata  = Surv(time, event) ~ risk + age10 + programme + score + strata(region),
      cluster = Surv(time, event) ~ risk + age10 + programme + score + cluster(prison))
    num <- function(x) paste(formatC(x, digits = 17, format = "g"), collapse = ",")
    cat(sprintf('{"version": "%s"', as.character(packageVersion("survival"))))
    for (nm in names(forms)) {
      b <- best(coxph(forms[[nm]], data = df, ties = "efron"))
      f <- b$out
      cat(sprintf(', "%s": {"fit": %.6f, "fit_c": %.6f, "coef": [%s], "se": [%s], "c": %s, "c_se": %s, "loglik": %s}',
                  nm, b$time, b$time, num(coef(f)), num(sqrt(diag(vcov(f)))), num(f$concordance[["concordance"]]),
                  num(f$concordance[["std"]]), num(f$loglik[2])))
    }
    k <- best(survfit(Surv(time, event) ~ region, data = df))
    tab <- summary(k$out)$table
    ends <- sapply(split(k$out$surv, rep(seq_along(k$out$strata), k$out$strata)), function(s) s[length(s)])
    cat(sprintf(', "km": {"time": %.6f, "median": [%s], "surv_end": [%s]}}\\n', k$time, num(tab[, "median"]), num(ends)))
""")


def run_r(csv: Path, repeats: int) -> dict | None:
    if shutil.which("Rscript") is None:
        print("R: Rscript not found; skipped")
        return None
    script = csv.parent / "bench_survival.R"
    script.write_text(R_SCRIPT)
    out = subprocess.run(["Rscript", str(script), str(csv), str(repeats)], capture_output=True, text=True, env=ENV1)
    if out.returncode != 0:
        print("R failed:\n" + out.stderr[-2000:])
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ report


def maxdiff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=70_119)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    df = make_data(args.n)
    print(f"n = {len(df):,} rows, {int(df['event'].sum()):,} events, {df['time'].nunique():,} distinct times "
          f"(ties), 254 prisons, 3 regions; best of {args.repeats}; one BLAS thread")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "surv.csv"
        df.to_csv(csv, index=False)
        ours = run_veplab(df, args.repeats)
        peers = {"lifelines": run_lifelines(csv, args.repeats), "R coxph": run_r(csv, args.repeats)}
    for peer, res in peers.items():
        if res:
            print(f"{peer} version {res['version']}" + (f" (pandas {res['pandas']})" if "pandas" in res else ""))
    print()
    print(f"{'Cox, Efron ties':<26}{'veplab':>9}{'lifelines':>11}{'coxph':>9}{'vs lifelines':>14}{'vs coxph':>10}"
          f"{'|d coef| lifelines':>20}{'|d coef| coxph':>16}{'|d se| coxph':>14}{'|d C| coxph':>13}")
    for name in MODELS:
        v = ours[name]
        lf, r = (peers["lifelines"] or {}).get(name), (peers["R coxph"] or {}).get(name)
        for what, label in (("fit", "fit"), ("fit_c", "fit + concordance")):
            row = f"{name + ' ' + label:<26}{v[what]:>8.3f}s"
            row += f"{lf[what]:>10.3f}s" if lf else f"{'-':>11}"
            row += f"{r[what]:>8.3f}s" if r else f"{'-':>9}"
            row += f"{lf[what] / v[what]:>13.2f}x" if lf else f"{'-':>14}"
            row += f"{r[what] / v[what]:>9.2f}x" if r else f"{'-':>10}"
            if what == "fit":
                row += f"{maxdiff(v['coef'], lf['coef']):>20.1e}" if lf else f"{'-':>20}"
                row += f"{maxdiff(v['coef'], r['coef']):>16.1e}" if r else f"{'-':>16}"
                row += f"{maxdiff(v['se'], r['se']):>14.1e}" if r else f"{'-':>14}"
                row += f"{abs(v['c'] - r['c']):>13.1e}" if r else f"{'-':>13}"
            print(row)
    print("(coxph computes the concordance in every fit, so its two rows are the same timing; "
          "ratio = peer time / veplab time)")
    lf, r = peers["lifelines"], peers["R coxph"]
    if r:
        print(f"concordance SE, plain: veplab {ours['plain']['c_se']:.6g}, coxph {r['plain']['c_se']:.6g}; "
              f"loglik |diff| {abs(ours['plain']['loglik'] - r['plain']['loglik']):.1e}")
    if lf:
        print(f"lifelines: robust (cluster) SE differ from coxph's by "
              f"{maxdiff(lf['cluster']['se'], r['cluster']['se']) if r else float('nan'):.1e} "
              f"(lifelines' sandwich); concordance |diff| plain {abs(ours['plain']['c'] - lf['plain']['c']):.1e}")
    km = ours["km"]
    row = f"\nKaplan-Meier by region: veplab {km['time']:.3f}s"
    if lf:
        row += (f", lifelines {lf['km']['time']:.3f}s ({lf['km']['time'] / km['time']:.2f}x, "
                f"|d S(end)| {maxdiff(km['surv_end'], lf['km']['surv_end']):.1e})")
    if r:
        row += (f", R survfit {r['km']['time']:.3f}s ({r['km']['time'] / km['time']:.2f}x, "
                f"|d S(end)| {maxdiff(km['surv_end'], r['km']['surv_end']):.1e}, "
                f"medians veplab {km['median']} R {r['km']['median']})")
    print(row)


if __name__ == "__main__":
    main()
