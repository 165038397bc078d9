"""A throwaway copy of the project skeleton (surveys, notebooks, one study) for benchmarks and tests."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_project(dest: Path, study: str = "demo") -> Path:
    """Copy surveys/, notebooks/ and research/<study>/study.yml (+ framework files) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "surveys", dest / "surveys", dirs_exist_ok=True)
    shutil.copytree(ROOT / "notebooks", dest / "notebooks", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    src = ROOT / "research" / study
    target = dest / "research" / study
    target.mkdir(parents=True, exist_ok=True)
    for p in src.iterdir():
        if p.is_file() and p.suffix in (".yml", ".yaml", ".md"):
            shutil.copy2(p, target / p.name)
    return target
