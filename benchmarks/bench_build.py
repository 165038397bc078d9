"""Benchmark: cold build of the demo study with --jobs 1 and --jobs 2, and a no-op rebuild.

Run:  .venv/bin/python benchmarks/bench_build.py
Prints the times and the jobs-2 speed-up measured in the same run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _project import copy_project  # noqa: E402

from veplab.build import build  # noqa: E402
from veplab.synth import generate  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        study = copy_project(Path(tmp) / "proj")
        t = time.perf_counter()
        generate(study)
        print(f"synth demo data:            {time.perf_counter() - t:6.2f} s")
        times = {}
        for jobs in (1, 2):
            t = time.perf_counter()
            res = build(study, force=True, jobs=jobs)
            times[jobs] = time.perf_counter() - t
            assert res.ok, [r.error for r in res.failed]
            print(f"cold build --jobs {jobs}:         {times[jobs]:6.2f} s  ({len(res.runs)} notebooks)")
        t = time.perf_counter()
        res = build(study)
        noop = time.perf_counter() - t
        print(f"no-op rebuild:              {noop:6.3f} s  (statuses: {sorted({r.status for r in res.runs})})")
        print(f"speed-up jobs 2 vs jobs 1:  {times[1] / times[2]:6.2f}x")


if __name__ == "__main__":
    main()
