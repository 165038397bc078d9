"""Simulation specs: read, check, expand into grid points, hash."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._validate import InputError, read_yaml_mapping
from ..synth.clustered import DESIGNS, EFFECTS, effect_of

#: analysis -> (designs it fits, effects it estimates)
ANALYSES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mixed_logit": (("cluster_randomised", "multilevel_logit"), ("odds_ratio",)),
    "logit_cluster_robust": (("cluster_randomised", "multilevel_logit"), ("odds_ratio",)),
    "mixed_linear": (("cluster_randomised", "prepost_clustered"), ("mean_difference",)),
    "cox_cluster": (("survival",), ("hazard_ratio",)),
}
_DEFAULT_ANALYSIS = {"odds_ratio": "mixed_logit", "mean_difference": "mixed_linear", "hazard_ratio": "cox_cluster"}
_DEFAULT_EFFECT = {"cluster_randomised": "odds_ratio", "multilevel_logit": "odds_ratio",
                   "survival": "hazard_ratio", "prepost_clustered": "mean_difference"}

#: keys of a spec, in the order grid columns are shown
KEYS = ("design", "analysis", "clusters_per_arm", "cluster_size", "cv", "icc", "baseline", "effect", "sd",
        "exposure", "pre_post_correlation", "alpha")
_META = ("name", "title", "reps", "seed", "batch_size", "description")
_DEFAULTS: dict[str, Any] = {"cv": 0.0, "alpha": 0.05}

#: bump when what a replicate computes changes (invalidates cached replicates)
CACHE_VERSION = 1


def read_spec(spec: Any) -> dict[str, Any]:
    r"""A spec as a plain dict: a mapping as given, or a YAML file's contents.

    Parameters
    ----------
    spec : mapping, str or Path
        The spec, or the path of a YAML file holding it.

    Returns
    -------
    dict

    Raises
    ------
    InputError
        For a missing file, bad YAML, a file that is not a mapping, or
        anything that is neither a mapping nor a path.

    References
    ----------
    YAML Ain't Markup Language, version 1.2.2 (2021), https://yaml.org/spec/1.2.2/.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "power.yml"
    ...     _ = path.write_text("design: cluster_randomised\nclusters_per_arm: [8, 12]\n"
    ...                         "effect: {odds_ratio: 0.6}\n")
    ...     read_spec(path)
    {'design': 'cluster_randomised', 'clusters_per_arm': [8, 12], 'effect': {'odds_ratio': 0.6}}
    >>> read_spec(42)
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: simulate: spec must be a mapping or a YAML file path, got int
    """
    if isinstance(spec, Mapping):
        return dict(spec)
    if isinstance(spec, (str, Path)):
        return read_yaml_mapping(spec, "simulate", expect="design:, clusters_per_arm:, ...", file="spec file",
                                 hint=" (give a YAML file or a mapping)")
    raise InputError(f"simulate: spec must be a mapping or a YAML file path, got {type(spec).__name__}")


def _listify(v: Any) -> list[Any]:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _number(key: str, v: Any, *, whole: bool = False, lo: float | None = None, hi: float | None = None,
            lo_open: bool = False, hi_open: bool = True) -> float | int:
    if isinstance(v, bool):
        raise InputError(f"simulate: {key} must be a number, got {v!r}")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"simulate: {key} must be a number, got {v!r}") from None
    bad = not math.isfinite(x)
    if lo is not None:
        bad = bad or (x <= lo if lo_open else x < lo)
    if hi is not None:
        bad = bad or (x >= hi if hi_open else x > hi)
    if whole and x != int(x):
        bad = True
    if bad:
        rng = ""
        if lo is not None or hi is not None:
            rng = (f" in {'(' if lo_open else '['}{lo if lo is not None else '-inf'}, "
                   f"{hi if hi is not None else 'inf'}{')' if hi_open else ']'}")
        raise InputError(f"simulate: {key} must be a {'whole ' if whole else ''}number{rng}, got {v!r}")
    return int(x) if whole else x


def _check_point(p: dict[str, Any]) -> dict[str, Any]:
    design = p["design"]
    if design not in DESIGNS:
        raise InputError(f"simulate: design must be one of {', '.join(DESIGNS)}; got {design!r}")
    ename, evalue = effect_of(p["effect"])
    if ename not in {"cluster_randomised": ("odds_ratio", "mean_difference"),
                     "multilevel_logit": ("odds_ratio",), "survival": ("hazard_ratio",),
                     "prepost_clustered": ("mean_difference",)}[design]:
        raise InputError(f"simulate: design {design} does not take effect {ename}")
    analysis = p.get("analysis") or _DEFAULT_ANALYSIS[ename]
    if analysis not in ANALYSES:
        raise InputError(f"simulate: analysis must be one of {', '.join(ANALYSES)}; got {analysis!r}")
    designs, effects = ANALYSES[analysis]
    if design not in designs or ename not in effects:
        raise InputError(f"simulate: analysis {analysis} does not fit design {design} with effect {ename} "
                         f"(it fits {', '.join(designs)} with {', '.join(effects)})")
    out: dict[str, Any] = {"design": design, "analysis": analysis}
    out["clusters_per_arm"] = _number("clusters_per_arm", p.get("clusters_per_arm"), whole=True, lo=2)
    out["cluster_size"] = _number("cluster_size", p.get("cluster_size"), lo=1)
    out["cv"] = _number("cv", p.get("cv", 0.0), lo=0)
    out["icc"] = _number("icc", p.get("icc"), lo=0, hi=1)
    if ename in ("odds_ratio", "hazard_ratio"):
        if p.get("baseline") is None:
            raise InputError("simulate: a binary or survival outcome needs baseline (the control arm's rate, "
                             "or its event probability over follow-up)")
        out["baseline"] = _number("baseline", p["baseline"], lo=0, hi=1, lo_open=True)
    elif p.get("baseline") is not None:
        out["baseline"] = _number("baseline", p["baseline"])
    out["effect"] = {ename: evalue}
    if ename == "mean_difference":
        out["sd"] = _number("sd", p.get("sd", 1.0), lo=0, lo_open=True)
    if design == "multilevel_logit":
        out["exposure"] = _number("exposure", p.get("exposure", 0.5), lo=0, hi=1, lo_open=True)
    if design == "prepost_clustered":
        out["pre_post_correlation"] = _number("pre_post_correlation", p.get("pre_post_correlation", 0.5),
                                              lo=-1, hi=1, lo_open=True)
    out["alpha"] = _number("alpha", p.get("alpha", 0.05), lo=0, hi=1, lo_open=True)
    return out


def expand(spec: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Grid points of ``spec`` (a list anywhere makes a grid) and the names of the varying keys.

    The grid is the Cartesian product of every key given as a list (the
    effect's value included), in the order of :data:`KEYS`; each point is
    checked (ranges, the design's required keys, an analysis that fits the
    design) and completed with the defaults.

    Parameters
    ----------
    spec : mapping
        Keys as in the :mod:`veplab.simulate` module docstring.

    Returns
    -------
    (list of dict, list of str)
        One dict per grid point, and the keys that take more than one value.

    Raises
    ------
    InputError
        For unknown keys, a missing design or effect, or values out of range.

    References
    ----------
    Morris, T. P., White, I. R. & Crowther, M. J. (2019). Using simulation
    studies to evaluate statistical methods. *Statistics in Medicine* 38(11),
    2074-2102 (factorial data-generating mechanisms).

    Examples
    --------
    >>> pts, varying = expand({"design": "cluster_randomised", "clusters_per_arm": [8, 12], "cluster_size": 40,
    ...                        "icc": [0.02, 0.05], "baseline": 0.1, "effect": {"odds_ratio": 0.6}})
    >>> len(pts), varying
    (4, ['clusters_per_arm', 'icc'])
    >>> [(p["clusters_per_arm"], p["icc"]) for p in pts]
    [(8, 0.02), (8, 0.05), (12, 0.02), (12, 0.05)]
    """
    unknown = sorted(set(spec) - set(KEYS) - set(_META))
    if unknown:
        raise InputError(f"simulate: unknown spec key(s) {', '.join(map(repr, unknown))}; "
                         f"a spec takes {', '.join(KEYS + _META)}")
    if "design" not in spec:
        raise InputError(f"simulate: the spec needs design: one of {', '.join(DESIGNS)}")
    effect = spec.get("effect")
    if effect is None:
        raise InputError("simulate: the spec needs effect: {odds_ratio: x}, {mean_difference: x} or "
                         "{hazard_ratio: x}")
    if not isinstance(effect, Mapping) or len(effect) != 1:
        raise InputError(f"simulate: effect must be a one-entry mapping such as {{odds_ratio: 0.6}}; got {effect!r}")
    (ename, evals), = effect.items()
    if ename not in EFFECTS:
        raise InputError(f"simulate: effect {ename!r} is not one of {', '.join(EFFECTS)}")
    axes: list[tuple[str, list[Any]]] = []
    for key in KEYS:
        if key == "effect":
            axes.append((ename, _listify(evals)))
        elif key in spec:
            axes.append((key, _listify(spec[key])))
    for name, values in axes:
        if not values:
            raise InputError(f"simulate: {name} is an empty list")
    varying = [name for name, values in axes if len(values) > 1]
    points = []
    for combo in itertools.product(*(values for _, values in axes)):
        raw = dict(zip((name for name, _ in axes), combo))
        raw["effect"] = {ename: raw.pop(ename)}
        points.append(_check_point(raw))
    return points, varying


def point_hash(point: Mapping[str, Any], seed: int) -> str:
    """Hex digest naming a grid point's replicate streams and cache (spec, seed and cache version)."""
    blob = json.dumps({"point": point, "seed": int(seed), "version": CACHE_VERSION}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def spawn_key(digest: str) -> tuple[int, int]:
    """Two 32-bit words of a point's digest: the first entries of its replicates' ``spawn_key``."""
    return int(digest[:8], 16), int(digest[8:16], 16)
