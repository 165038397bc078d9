"""One replicate: draw a data set from its own stream, fit veplab's model, keep the treatment estimate.

This module is what a Dask worker imports and runs (:func:`run_batch`); it
holds no state and reads no files.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..synth.clustered import binary_parameters, cluster_data

#: per-replicate record: estimate (log OR / log HR / mean difference), its model SE,
#: Wald interval, p-value, failed fit (1), singular mixed fit (1)
FIELDS = ("estimate", "se", "ci_low", "ci_high", "p", "failed", "singular")


def replicate_rng(seed: int, key: tuple[int, int], rep: int) -> np.random.Generator:
    """The stream of replicate ``rep`` of the grid point with spawn key ``key``.

    ``SeedSequence(seed, spawn_key=(a, b, rep))`` is what
    ``SeedSequence(seed, spawn_key=(a, b)).spawn(reps)[rep]`` returns, so each
    replicate's numbers depend on nothing but the seed, the point and its index:
    not on the batch it ran in, the worker, the order tasks finish or ``reps``.

    Parameters
    ----------
    seed : int
        The run's root seed.
    key : (int, int)
        The grid point's spawn key (from the hash of its spec).
    rep : int
        The replicate's index.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator.

    References
    ----------
    NumPy documentation, "Parallel random number generation"
    (``SeedSequence`` spawning), https://numpy.org/doc/stable/reference/random/parallel.html.
    O'Neill, M. E. (2014). PCG: a family of simple fast space-efficient
    statistically good algorithms for random number generation. Technical
    report HMC-CS-2014-0905, Harvey Mudd College.

    Examples
    --------
    >>> first = replicate_rng(1, (3, 4), 5).integers(0, 100, 3).tolist()
    >>> child = np.random.SeedSequence(1, spawn_key=(3, 4)).spawn(6)[5]
    >>> first == np.random.default_rng(child).integers(0, 100, 3).tolist()
    True
    >>> first
    [77, 11, 83]
    """
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(*key, int(rep))))


def truth(point: Mapping[str, Any]) -> float:
    """The value the analysis estimates (log scale for ratios).

    ``mixed_logit``: the cluster-specific log odds ratio of the generator;
    ``logit_cluster_robust``: the population-averaged log odds ratio;
    ``cox_cluster``: the log hazard ratio of the generator, which is
    cluster-specific (a marginal Cox fit under frailty is attenuated towards 0:
    the bias column shows by how much); ``mixed_linear``: the mean difference.
    """
    (name, value), = point["effect"].items()
    if name == "mean_difference":
        return float(value)
    if point["analysis"] == "logit_cluster_robust":
        return math.log(binary_parameters(point["baseline"], point["icc"], value)["marginal_odds_ratio"])
    return math.log(value)


def _fit(df, point: Mapping[str, Any]) -> tuple[float, float, float, float, float, bool]:
    ci = 1.0 - point["alpha"]
    analysis = point["analysis"]
    if analysis == "mixed_logit":
        from ..models.mixed import mixed_logit

        fit = mixed_logit(df, "y ~ arm", "cluster", ci=ci)
        row = fit.fixed_effects.set_index("term").loc["arm"]
        return row["estimate"], row["se"], row["ci_low"], row["ci_high"], row["p"], bool(fit.singular)
    if analysis == "logit_cluster_robust":
        from ..models.regression import logit

        lfit = logit(df, "y ~ arm", cluster="cluster", ci=ci)
        row = lfit.coefficients.set_index("term").loc["arm"]
        return row["estimate"], row["se"], row["ci_low"], row["ci_high"], row["p"], False
    if analysis == "mixed_linear":
        from ..models.mixed import mixed_linear

        formula = "post ~ arm + pre" if point["design"] == "prepost_clustered" else "y ~ arm"
        mfit = mixed_linear(df, formula, "cluster", ci=ci)
        row = mfit.fixed_effects.set_index("term").loc["arm"]
        return row["estimate"], row["se"], row["ci_low"], row["ci_high"], row["p"], bool(mfit.singular)
    from ..outcomes.survival import cox

    cfit = cox(df, "time", "event", ["arm"], cluster="cluster", ci=ci)
    row = cfit.table.set_index("term").loc["arm"]
    return row["coef"], row["se"], row["ci_low"], row["ci_high"], row["p"], False


def run_one(point: Mapping[str, Any], seed: int, key: tuple[int, int], rep: int) -> tuple[list[float], str | None]:
    """One replicate's record (see :data:`FIELDS`) and, for a failed fit, the reason."""
    rng = replicate_rng(seed, key, rep)
    df = cluster_data(rng, **point)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est, se, lo, hi, p, singular = _fit(df, point)
    except Exception as exc:  # noqa: BLE001 - a failed fit is a result of the simulation, counted
        return [math.nan] * 5 + [1.0, 0.0], f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    rec = [float(est), float(se), float(lo), float(hi), float(p)]
    if not all(math.isfinite(v) for v in rec) or not rec[1] > 0:
        return [math.nan] * 5 + [1.0, 0.0], "non-finite estimate or standard error"
    return rec + [0.0, float(singular)], None


def run_batch(point: Mapping[str, Any], seed: int, key: Sequence[int], reps: Sequence[int]) -> dict[str, Any]:
    """Replicates ``reps`` of one grid point: ``{"reps": [...], "records": [[...], ...], "errors": {why: n}}``.

    The unit of work sent to a Dask worker: the point (a dozen numbers), the
    seed, the point's spawn key and the replicate indices go out; a few
    numbers per replicate come back.
    """
    key = (int(key[0]), int(key[1]))
    records: list[list[float]] = []
    errors: dict[str, int] = {}
    for rep in reps:
        rec, why = run_one(point, seed, key, int(rep))
        records.append(rec)
        if why:
            errors[why] = errors.get(why, 0) + 1
    return {"reps": [int(r) for r in reps], "records": records, "errors": errors}
