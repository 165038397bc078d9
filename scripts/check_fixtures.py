"""Rerun every R script in tests/reference/ and fail if a fixture no longer matches what R computes.

Usage: python scripts/check_fixtures.py [--update]

Each tests/reference/<topic>.R writes tests/reference/<topic>.json (and may export
datasets to tests/reference/data/).  This script runs each script in a scratch copy of
the repository's tests/reference folder, then compares the fresh JSON with the committed
one: numbers must agree to 1e-9 relative (1e-12 absolute), everything else exactly.
With --update the committed fixtures are replaced.  Exits 0 when R is not installed
(and says so), so the check never blocks a machine without R; CI installs R first.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"


def diff(a, b, path="$"):
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys differ: {sorted(set(a) ^ set(b))[:5]}"]
        out = []
        for k in a:
            out += diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}[{i}]")
        return out
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (a != a and b != b):
            return []
        return [f"{path}: {a!r} != {b!r}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def main() -> int:
    update = "--update" in sys.argv
    if shutil.which("Rscript") is None:
        print("check_fixtures: Rscript not found; skipped (scripts/sysdeps.sh installs R)")
        return 0
    scripts = sorted(REF.glob("*.R"))
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        (scratch / "tests").mkdir()
        shutil.copytree(REF, scratch / "tests" / "reference")
        for script in scripts:
            t0 = time.perf_counter()
            proc = subprocess.run(["Rscript", str(Path("tests/reference") / script.name)], cwd=scratch,
                                  capture_output=True, text=True)
            took = time.perf_counter() - t0
            if proc.returncode != 0:
                failed.append(script.name)
                print(f"FAIL {script.name}: R exited {proc.returncode}\n{proc.stderr[-3000:]}")
                continue
            problems = []
            if not list((scratch / "tests" / "reference").glob(f"{script.stem}*.json")):
                problems.append("the script wrote no JSON fixture")
            for fresh in sorted((scratch / "tests" / "reference").glob(f"{script.stem}*.json")):
                committed = REF / fresh.name
                if not committed.is_file():
                    problems.append(f"{fresh.name}: not committed")
                    continue
                problems += [f"{fresh.name}: {d}" for d in
                             diff(json.loads(committed.read_text()), json.loads(fresh.read_text()))]
                if update:
                    shutil.copy2(fresh, committed)
            if problems and not update:
                failed.append(script.name)
                print(f"FAIL {script.name} ({took:.1f}s): {len(problems)} difference(s)")
                for p in problems[:20]:
                    print(f"   {p}")
            else:
                print(f"ok   {script.name} ({took:.1f}s)")
    if failed:
        print(f"check_fixtures: {len(failed)} of {len(scripts)} R scripts disagree with their fixtures: {failed}")
        return 1
    print(f"check_fixtures: {len(scripts)} R scripts reproduce their fixtures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
