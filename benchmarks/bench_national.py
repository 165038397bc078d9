"""Benchmark: the national study built end to end, and what a rebuild redoes.

A throwaway copy of the project (``_project.copy_project``) gets national
synthetic data (``veplab synth --scale national``: a census of the three
countries' prisons at their published sizes, 128,831 survey rows, Uganda's
70,119 prisoners in 254 prisons), then:

1. a cold build with ``--jobs 2`` (the default ``pdf=True``: briefs as HTML
   and PDF): total time, each notebook's time and the peak resident memory of
   its kernel, the peak of the whole build (this process and every process
   under it, summed at each sample);
2. a no-op rebuild (nothing changed);
3. a rebuild after changing one analysis's option in ``study.yml``
   (``analyses.overview.sources`` loses one source): which notebooks rerun,
   whether the briefs are re-rendered, and why.

Memory is sampled every 0.1 s with psutil; each kernel is matched to its
notebook by the progress file veplab passes it (``VEPLAB_PROGRESS``).

Run:  .venv/bin/python benchmarks/bench_national.py [--jobs 2] [--keep DIR]
Target: cold build under 3 minutes and under 2 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _project import copy_project  # noqa: E402

from veplab.build import build  # noqa: E402
from veplab.synth import generate  # noqa: E402


class MemoryWatch:
    """Peak RSS per notebook kernel and of the whole process tree, sampled in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.per_notebook: dict[str, int] = {}
        self.total_peak = 0
        self.at_peak: dict[str, int] = {}  # what each process held at the moment of the peak
        self._stop = threading.Event()
        self._names: dict[int, str | None] = {}
        self._workers: dict[int, bool] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _name(self, proc: psutil.Process) -> str | None:
        if proc.pid not in self._names:
            name = None
            try:
                if "ipykernel" in " ".join(proc.cmdline()):
                    prog = proc.environ().get("VEPLAB_PROGRESS", "")
                    name = Path(prog).name.removesuffix(".progress") or None
            except (psutil.Error, OSError):
                pass
            self._names[proc.pid] = name
        return self._names[proc.pid]

    def _is_worker(self, proc: psutil.Process) -> bool:
        if proc.pid not in self._workers:
            try:
                self._workers[proc.pid] = "veplab._nbrun" in " ".join(proc.cmdline())
            except (psutil.Error, OSError):
                self._workers[proc.pid] = False
        return self._workers[proc.pid]

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            try:
                procs = [me, *me.children(recursive=True)]
            except psutil.Error:
                procs = [me]
            now: dict[str, int] = {}
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                name = self._name(p)
                if name:
                    self.per_notebook[name] = max(self.per_notebook.get(name, 0), rss)
                role = (f"kernel {name}" if name else "this process" if p.pid == me.pid
                        else "notebook worker" if self._is_worker(p) else "other")
                now[role] = now.get(role, 0) + rss
            if total > self.total_peak:
                self.total_peak, self.at_peak = total, now
            self._stop.wait(self.interval)


def mb(x: float) -> str:
    return f"{x / 2**20:,.0f} MB"


def show(label: str, res, seconds: float) -> None:
    ran = [r.name for r in res.runs if r.status == "ran"]
    print(f"{label}: {seconds:6.1f} s  ok={res.ok}  ran={ran or 'none'}  "
          f"cached={[r.name for r in res.runs if r.status == 'cached']}")
    for r in res.runs:
        print(f"    {r.name:<14} {r.status:<7} {r.reason}")
    print(f"    briefs: {res.brief_reason or '(no brief step)'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it")
    ap.add_argument("--no-rebuild", action="store_true", help="only the cold build")
    args = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    tmp = None
    if args.keep is None:
        tmp = tempfile.mkdtemp(prefix="veplab-national-")
        base = Path(tmp)
    else:
        base = args.keep
    try:
        study = copy_project(base / "proj")
        t = time.perf_counter()
        synth = generate(study, scale="national")
        print(f"synth national: {time.perf_counter() - t:5.1f} s  "
              + ", ".join(f"{k} {len(v):,}" for k, v in synth.frames.items()))
        pp = synth.frames["push_pull"]
        print("  push_pull by country: " + ", ".join(
            f"{c}: {int((pp['country'] == k).sum()):,} in {pp.loc[pp['country'] == k, 'prison_id'].nunique()} prisons"
            for k, c in ((1, "KZ"), (2, "TN"), (3, "UG"))))

        with MemoryWatch() as mem:
            t = time.perf_counter()
            res = build(study, force=True, jobs=args.jobs)
            cold = time.perf_counter() - t
        assert res.ok, [r.error for r in res.failed] or res.brief_error or res.leaks
        notebooks = sum(r.seconds for r in res.runs)
        print(f"\ncold build --jobs {args.jobs}: {cold:6.1f} s wall (notebooks {notebooks:.1f} s summed; "
              f"publish + briefs {cold - max(r.seconds for r in res.runs):.1f} s at least); "
              f"peak memory of the build {mb(mem.total_peak)}")
        print("  at the peak: " + ", ".join(f"{k} {mb(v)}" for k, v in sorted(mem.at_peak.items(), key=lambda kv: -kv[1])))
        print(f"  {'notebook':<14}{'seconds':>9}{'peak RSS':>12}")
        for r in sorted(res.runs, key=lambda r: -r.seconds):
            print(f"  {r.name:<14}{r.seconds:>9.1f}{mb(mem.per_notebook.get(r.name, 0)):>12}")
        print(f"  briefs: {sorted(res.briefs)}")
        if args.no_rebuild:
            return

        t = time.perf_counter()
        res = build(study, jobs=args.jobs)
        show("\nno-op rebuild", res, time.perf_counter() - t)

        cfg = study / "study.yml"
        text = cfg.read_text(encoding="utf-8")
        changed = re.sub(r"(\n  overview: \{sources: \[push_pull, rna, staff), followup\]\}", r"\1]}", text)
        assert changed != text, "analyses.overview.sources not found in study.yml"
        cfg.write_text(changed, encoding="utf-8")
        t = time.perf_counter()
        res = build(study, jobs=args.jobs)
        show("\nrebuild after analyses.overview.sources lost 'followup'", res, time.perf_counter() - t)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
