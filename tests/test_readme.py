"""README.md's "Your own study" works as written, and its list of analyses is what `veplab analyses` prints."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from veplab.analyses import describe

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _between(begin: str, end: str) -> str:
    m = re.search(re.escape(begin) + r"\n(.*?)" + re.escape(end), README, re.DOTALL)
    assert m, f"README.md has no {begin} ... {end} block"
    return m.group(1)


def test_readme_lists_the_analyses_as_veplab_analyses_prints_them():
    assert _between("<!-- analyses:begin -->", "<!-- analyses:end -->") == describe(markdown=True)


def test_your_own_study_runs_as_written(tmp_path):
    """Each command of the block, in a fresh copy of the project (`make venv`: the test's own venv)."""
    from _project import copy_project

    copy_project(tmp_path)
    block = _between("<!-- your-own-study:begin -->", "<!-- your-own-study:end -->")
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()
                if line.strip() and not line.startswith("```")]
    assert commands[0] == "make venv"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "COLUMNS": "120"}
    for command in commands[1:]:
        argv = shlex.split(command)
        assert argv[0].startswith(".venv/bin/"), command
        argv[0] = str(bin_dir / Path(argv[0]).name)
        proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert "Traceback" not in proc.stderr, command
    report = tmp_path / "reports" / "my_study"
    assert (report / "index.html").is_file()
    pages = {p.stem for p in report.glob("*.html")}
    assert {"overview", "data_quality"} <= pages
