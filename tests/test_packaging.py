"""pyproject.toml and environment.yml must list the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    assert m, spec
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _pyproject() -> tuple[dict[str, str], dict[str, str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = dict(_split(s) for s in data["project"]["dependencies"])
    extras = {}
    for specs in data["project"]["optional-dependencies"].values():
        extras.update(dict(_split(s) for s in specs))
    return runtime, extras


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, bound = _split(dep)
            if name in ("python", "pip"):
                continue
            out[name] = bound
    return out


def test_runtime_dependencies_match():
    runtime, _ = _pyproject()
    env = _environment()
    missing = {k: v for k, v in runtime.items() if env.get(k) != v}
    assert not missing, f"environment.yml lacks or differs on runtime dependencies: {missing}"


def test_environment_lists_nothing_unknown():
    runtime, extras = _pyproject()
    env = _environment()
    unknown = {k: v for k, v in env.items() if k not in runtime and extras.get(k) != v}
    assert not unknown, f"environment.yml lists dependencies not in pyproject.toml: {unknown}"


def test_python_version_pinned_in_both():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["requires-python"] == ">=3.11"
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def test_every_dependency_has_a_lower_bound():
    runtime, extras = _pyproject()
    for name, bound in {**runtime, **extras}.items():
        # an exact pin (==) is a lower bound too: the type checker's, whose new releases add errors
        assert bound.startswith((">=", "==")), f"{name} has no pinned lower bound"
    assert extras["mypy"].startswith("=="), "mypy must be pinned exactly: a new release can turn make test red"
