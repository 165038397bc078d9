"""scripts/check_fixtures.py (CI reruns every R fixture script) and scripts/sysdeps.sh (installs R's packages)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("check_fixtures", ROOT / "scripts" / "check_fixtures.py")
check_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_fixtures)

# R packages that ship with r-base-core, so need no Debian package of their own
BASE_R = {"stats", "utils", "methods", "graphics", "grDevices", "datasets", "tools", "parallel", "splines"}


def test_every_r_library_a_fixture_script_loads_is_installed_by_sysdeps():
    """CI starts from a bare machine: a script's library(X) without r-cran-x in sysdeps.sh fails CI."""
    pkgs = set(re.findall(r"r-cran-([a-z0-9.]+)", (ROOT / "scripts" / "sysdeps.sh").read_text()))
    used = set()
    for script in (ROOT / "tests" / "reference").glob("*.R"):
        used |= set(re.findall(r"library\(([A-Za-z0-9.]+)\)", script.read_text()))
    missing = sorted(lib for lib in used - BASE_R if lib.lower() not in pkgs)
    assert not missing, f"add r-cran-<name> to scripts/sysdeps.sh for: {missing}"


def test_strict_comparison_by_default():
    assert check_fixtures.diff([1.0, 2.0], [1.0, 2.0 + 1e-6]) == ["$[1]: 2.0 != 2.000001"]
    assert check_fixtures.diff({"a": "x"}, {"a": "y"}) == ["$.a: 'x' != 'y'"]
    assert check_fixtures.diff({"a": 1}, {"b": 1})[0].startswith("$: keys differ")


def test_declared_tolerance_judges_an_array_against_its_largest_value(tmp_path):
    script = tmp_path / "m.R"
    script.write_text("# check_fixtures: rel_tol=1e-3\n# check_fixtures: rel_tol=1e-2 loose (why)\nx <- 1\n")
    tol = check_fixtures.declared_tolerances(script)
    assert tol == {None: 1e-3, "loose": 1e-2}
    committed = {"fit": [0.2, 3e-6], "loose": [1.0, 0.5]}
    # 5e-6 off on a near-zero element of an array whose scale is 0.2: within 1e-3 * 0.2
    assert check_fixtures.compare(committed, {"fit": [0.2, 8e-6], "loose": [1.0, 0.5]}, tol) == []
    # 1e-3 off on the largest element is not
    assert check_fixtures.compare(committed, {"fit": [0.2003, 3e-6], "loose": [1.0, 0.5]}, tol) == [
        "$.fit[0]: 0.2 != 0.2003"]
    # the named entry gets its own looser tolerance, and only it
    assert check_fixtures.compare(committed, {"fit": [0.2, 3e-6], "loose": [1.005, 0.5]}, tol) == []
    assert check_fixtures.compare(committed, {"fit": [0.2, 3e-6], "loose": [1.02, 0.5]}, tol) == [
        "$.loose[0]: 1.0 != 1.02"]
    plain = tmp_path / "p.R"
    plain.write_text("x <- 1\n")
    assert check_fixtures.declared_tolerances(plain) == {None: check_fixtures.STRICT}
