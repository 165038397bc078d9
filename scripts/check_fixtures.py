"""Rerun every R script in tests/reference/ and fail if a fixture no longer matches what R computes.

Usage: python scripts/check_fixtures.py [--update]

Each tests/reference/<topic>.R writes tests/reference/<topic>.json (and may export
datasets to tests/reference/data/).  This script runs each script in a scratch copy of
the repository's tests/reference folder, then compares the fresh JSON with the committed
one: numbers must agree to 1e-9 relative (1e-12 absolute), everything else exactly.
A script whose results come from an iterative optimiser that stops at a tolerance (lme4's
default settings, say) may declare a looser tolerance in a header comment:

    # check_fixtures: rel_tol=1e-3 (why)
    # check_fixtures: rel_tol=1e-2 entry other_entry (why these top-level entries)

Its numbers are then compared as arrays: each list of numbers must agree to rel_tol of the
largest magnitude in that list (a random effect of 3e-6 next to ones of 0.2 is judged
against 0.2), the reference packages' own optimiser path differing between BLAS builds.
With --update the committed fixtures are replaced.  Exits 0 when R is not installed
(and says so), so the check never blocks a machine without R; CI installs R first.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"


STRICT = 1e-9
_DECLARED = re.compile(r"^#\s*check_fixtures:\s*rel_tol\s*=\s*([0-9.eE+-]+)([^\n(]*)", re.MULTILINE)


def declared_tolerances(script: Path) -> dict[str | None, float]:
    """Tolerances a script declares: `# check_fixtures: rel_tol=1e-3` for all its results,
    `# check_fixtures: rel_tol=1e-2 name other` for those top-level entries only.  The key
    None holds the script-wide value (1e-9 when nothing is declared)."""
    out: dict[str | None, float] = {None: STRICT}
    for m in _DECLARED.finditer(script.read_text(encoding="utf-8")):
        names = m.group(2).split()
        for name in names or [None]:
            out[name] = float(m.group(1))
    return out


def compare(committed, fresh, tolerances: dict[str | None, float]) -> list[str]:
    """Differences between two fixtures, each top-level entry at its declared tolerance."""
    if not (isinstance(committed, dict) and isinstance(fresh, dict)) or set(committed) != set(fresh):
        return diff(committed, fresh, rel_tol=tolerances[None])
    out = []
    for key in committed:
        out += diff(committed[key], fresh[key], f"$.{key}", rel_tol=tolerances.get(key, tolerances[None]))
    return out


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def diff(a, b, path="$", rel_tol=STRICT, abs_tol=1e-12):
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys differ: {sorted(set(a) ^ set(b))[:5]}"]
        out = []
        for k in a:
            out += diff(a[k], b[k], f"{path}.{k}", rel_tol, abs_tol)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        floor = abs_tol
        if rel_tol > STRICT:  # iterative results: judge each element against the array's scale
            scale = [abs(x) for x in a if _number(x) and x == x and math.isfinite(x)]
            floor = max(abs_tol, rel_tol * max(scale, default=0.0))
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}[{i}]", rel_tol, floor)
        return out
    if _number(a) and _number(b):
        if math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol) or (a != a and b != b):
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
                             compare(json.loads(committed.read_text()), json.loads(fresh.read_text()),
                                     declared_tolerances(script))]
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
