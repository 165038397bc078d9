"""Clustered data with known truth, for power and coverage simulations.

Prison-level interventions (a programme rolled out in some prisons, staff
trained prison by prison) give data in which people share their prison.  This
module draws one data set of such a design from a numpy ``Generator``; the
simulation runner (:mod:`veplab.simulate`) draws thousands of them, each from
its own stream, and analyses each with veplab's own models.

Designs (``design=``) and outcomes:

- ``"cluster_randomised"``: ``clusters_per_arm`` clusters per arm, the arm
  assigned to whole clusters.  Binary outcome (``odds_ratio``) or continuous
  outcome (``mean_difference``).
- ``"multilevel_logit"``: a binary exposure of each person (probability
  ``exposure``, default 0.5) within every cluster; binary outcome.
- ``"survival"``: cluster-randomised time to an event (re-arrest) over a
  follow-up of length 1; ``hazard_ratio``.
- ``"prepost_clustered"``: cluster-randomised, a continuous score before
  (``pre``) and after (``post``) with person-level correlation
  ``pre_post_correlation`` (default 0.5); ``mean_difference`` on ``post``.

The intra-cluster correlation ``icc`` means, per outcome:

- continuous: ``var(b) / (var(b) + var(e))`` with total SD ``sd`` (default 1):
  ``y = mu + delta * arm + b_j + e_ij``, ``b_j ~ N(0, icc sd^2)``,
  ``e_ij ~ N(0, (1 - icc) sd^2)``.
- binary: the ICC *of the 0/1 outcome itself* in the control arm (Donner &
  Klar's rho, the scale of :func:`veplab.outcomes.power`'s design effect and of
  published ICC tables), ``rho = var_j(p_j) / (p (1 - p))``.  The data come
  from a random-intercept logistic model ``logit p_ij = b0 + log(OR) x_ij + b_j``,
  ``b_j ~ N(0, tau^2)``, with ``b0`` and ``tau`` solved (Gauss-Hermite
  quadrature, :func:`binary_parameters`) so that the control arm's mean is
  ``baseline`` and its ICC is ``icc``.  ``odds_ratio`` is the cluster-specific
  odds ratio, the estimand of :func:`veplab.models.mixed_logit`; the
  population-averaged one (estimand of a marginal logit with cluster-robust
  SEs) is smaller in size and returned by :func:`binary_parameters`.
- survival: log-normal frailty ``b_j ~ N(0, s^2)`` on the log hazard with
  ``s^2 / (s^2 + pi^2 / 6) = icc`` (the latent ICC of a log-time model with
  extreme-value errors); exponential times with hazard
  ``lambda0 exp(log(HR) arm + b_j)``, ``lambda0`` solved so that the control
  arm's probability of an event within follow-up is ``baseline``;
  administrative censoring at time 1.

Cluster sizes are all ``cluster_size`` or, with ``cv > 0``, drawn from a gamma
distribution with that mean and coefficient of variation (rounded, at least 1).

References
----------
Donner A, Klar N (2000). *Design and Analysis of Cluster Randomization Trials
in Health Research*. Arnold.
Eldridge SM, Ashby D, Kerry S (2006). *Int J Epidemiol* 35(5), 1292-1300.
Arnold BF, Hogan DR, Colford JM, Hubbard AE (2011). Simulation methods to
estimate design power: an overview for applied research. *BMC Med Res
Methodol* 11, 94.

>>> import numpy as np
>>> d = cluster_data(np.random.default_rng(1), design="cluster_randomised", clusters_per_arm=4,
...                  cluster_size=10, icc=0.05, baseline=0.1, effect={"odds_ratio": 0.6})
>>> d.shape, sorted(d.columns)
((80, 3), ['arm', 'cluster', 'y'])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from .._validate import InputError

__all__ = ["DESIGNS", "EFFECTS", "cluster_data", "cluster_sizes", "binary_parameters", "survival_parameters"]

DESIGNS = ("cluster_randomised", "multilevel_logit", "survival", "prepost_clustered")
#: effect name -> outcome it implies
EFFECTS = {"odds_ratio": "binary", "mean_difference": "continuous", "hazard_ratio": "survival"}

_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(60)
_GH_W = _GH_W / _GH_W.sum()  # E[f(Z)], Z ~ N(0, 1)


def cluster_sizes(rng: np.random.Generator, n_clusters: int, mean_size: float, cv: float = 0.0) -> np.ndarray:
    """Cluster sizes: all ``mean_size`` (``cv = 0``) or gamma with that mean and coefficient of variation.

    With ``cv > 0`` each size is ``max(1, round(g))`` with
    ``g ~ Gamma(shape = 1 / cv^2, scale = mean_size * cv^2)``, so that
    ``E(g) = mean_size`` and ``sd(g) / E(g) = cv`` (Eldridge et al. 2006).

    Parameters
    ----------
    rng : numpy.random.Generator
    n_clusters : int
    mean_size : float
    cv : float
        Coefficient of variation of the sizes.

    Returns
    -------
    numpy.ndarray of int64

    References
    ----------
    Eldridge, S. M., Ashby, D. & Kerry, S. (2006). Sample size for cluster
    randomized trials: effect of coefficient of variation of cluster size and
    analysis method. *International Journal of Epidemiology* 35(5),
    1292-1300.

    Examples
    --------
    >>> cluster_sizes(np.random.default_rng(0), 3, 20).tolist()
    [20, 20, 20]
    >>> sizes = cluster_sizes(np.random.default_rng(0), 2000, 40, cv=0.5)
    >>> round(float(sizes.mean()), 1), round(float(sizes.std() / sizes.mean()), 2)
    (40.1, 0.5)
    """
    if cv <= 0:
        return np.full(n_clusters, int(round(mean_size)), dtype=np.int64)
    shape = 1.0 / (cv * cv)
    sizes = rng.gamma(shape, mean_size / shape, size=n_clusters)
    return np.maximum(1, np.rint(sizes)).astype(np.int64)


def _marginal(b0: float, tau: float) -> tuple[float, float]:
    """Mean and variance over clusters of ``expit(b0 + tau Z)``."""
    p = special.expit(b0 + tau * _GH_X)
    mean = float(_GH_W @ p)
    return mean, float(_GH_W @ (p - mean) ** 2)


def _intercept_for(mean: float, tau: float) -> float:
    return float(optimize.brentq(lambda b: _marginal(b, tau)[0] - mean, -40.0, 40.0, xtol=1e-13))


@functools.lru_cache(maxsize=256)
def binary_parameters(baseline: float, icc: float, odds_ratio: float = 1.0) -> dict[str, float]:
    """Intercept ``b0`` and random-intercept SD ``tau`` giving a control-arm rate ``baseline`` and ICC ``icc``.

    Also returns the treated arm's marginal rate ``p1`` under the
    cluster-specific ``odds_ratio``, the population-averaged odds ratio
    ``marginal_odds_ratio`` and the latent-scale ICC
    ``tau^2 / (tau^2 + pi^2 / 3)`` (what :func:`veplab.models.mixed_logit`
    reports).

    >>> p = binary_parameters(0.1, 0.0, 0.6)
    >>> round(p["tau"], 12), round(p["p1"], 6)
    (0.0, 0.0625)
    """
    if not 0 < baseline < 1:
        raise InputError(f"simulate: baseline must be a rate in (0, 1), got {baseline!r}")
    if not 0 <= icc < 1:
        raise InputError(f"simulate: icc must be in [0, 1), got {icc!r}")
    if icc == 0:
        tau = 0.0
        b0 = float(special.logit(baseline))
    else:
        top = baseline * (1 - baseline)

        def gap(t: float) -> float:
            return _marginal(_intercept_for(baseline, t), t)[1] / top - icc

        hi = 1.0
        while gap(hi) < 0:
            hi *= 2
            if hi > 64:
                raise InputError(f"simulate: an ICC of {icc} is out of reach for a binary outcome with rate "
                                 f"{baseline} (no random-intercept SD gives it)")
        tau = float(optimize.brentq(gap, 1e-8, hi, xtol=1e-12))
        b0 = _intercept_for(baseline, tau)
    p1 = _marginal(b0 + math.log(odds_ratio), tau)[0]
    marginal_or = (p1 / (1 - p1)) / (baseline / (1 - baseline))
    return {"b0": b0, "tau": tau, "p0": baseline, "p1": p1, "marginal_odds_ratio": marginal_or,
            "icc_latent": tau * tau / (tau * tau + math.pi ** 2 / 3)}


@functools.lru_cache(maxsize=256)
def survival_parameters(baseline: float, icc: float) -> dict[str, float]:
    """Frailty SD ``s`` and control hazard ``lambda0`` for an event probability ``baseline`` within follow-up 1.

    >>> round(survival_parameters(0.2, 0.0)["lambda0"], 6)   # -log(1 - 0.2)
    0.223144
    """
    if not 0 < baseline < 1:
        raise InputError(f"simulate: baseline (event probability over follow-up) must be in (0, 1), got {baseline!r}")
    if not 0 <= icc < 1:
        raise InputError(f"simulate: icc must be in [0, 1), got {icc!r}")
    s = math.sqrt(icc / (1 - icc) * math.pi ** 2 / 6)

    def gap(loglam: float) -> float:
        return float(_GH_W @ (1 - np.exp(-np.exp(loglam + s * _GH_X)))) - baseline

    lam = math.exp(optimize.brentq(gap, -40.0, 10.0, xtol=1e-13))
    return {"lambda0": lam, "frailty_sd": s}


def effect_of(effect: Any) -> tuple[str, float]:
    """``(name, value)`` of a one-entry effect mapping such as ``{"odds_ratio": 0.6}``."""
    if not isinstance(effect, Mapping) or len(effect) != 1:
        raise InputError("simulate: effect must be one of {odds_ratio: x}, {mean_difference: x}, "
                         f"{{hazard_ratio: x}}; got {effect!r}")
    (name, value), = effect.items()
    if name not in EFFECTS:
        raise InputError(f"simulate: effect {name!r} is not one of {', '.join(EFFECTS)}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"simulate: effect {name} must be a number, got {value!r}") from None
    if name != "mean_difference" and not x > 0:
        raise InputError(f"simulate: {name} must be positive, got {value!r}")
    return name, x


def cluster_data(rng: np.random.Generator, *, design: str, clusters_per_arm: int, cluster_size: float,
                 icc: float, effect: Mapping[str, float], baseline: float | None = None, cv: float = 0.0,
                 sd: float = 1.0, exposure: float = 0.5, pre_post_correlation: float = 0.5,
                 **_ignored: Any) -> pd.DataFrame:
    """One simulated data set of ``design`` (see the module docstring).

    Columns: ``cluster`` (integer code), ``arm`` (0/1: the cluster's arm, or
    the person's exposure in ``multilevel_logit``) and the outcome: ``y``
    (binary or continuous), ``time`` and ``event`` (survival), or ``pre`` and
    ``post`` (pre/post).  Draws only from ``rng``.

    Models (module docstring for the details): continuous
    ``y = mu + delta * arm + b_j + e_ij`` with ``b_j ~ N(0, icc sd^2)`` and
    ``e_ij ~ N(0, (1 - icc) sd^2)``; binary
    ``logit p_ij = b0 + log(OR) arm + b_j`` with ``b0`` and ``var(b_j)``
    solved so that the control arm's mean is ``baseline`` and its 0/1 ICC is
    ``icc``; survival: exponential times with log-normal cluster frailty,
    censored at 1.

    Parameters
    ----------
    rng : numpy.random.Generator
    design : {"cluster_randomised", "multilevel_logit", "survival", "prepost_clustered"}
    clusters_per_arm : int
    cluster_size : float
        Mean cluster size.
    icc : float
    effect : mapping
        ``{"odds_ratio": x}``, ``{"mean_difference": x}`` or ``{"hazard_ratio": x}``.
    baseline : float, optional
        Control-arm mean of a binary outcome, or event probability by time 1.
    cv, sd, exposure, pre_post_correlation : float
        See the module docstring.

    Returns
    -------
    DataFrame

    Raises
    ------
    InputError
        For an unknown design, an effect that does not fit it, or values out
        of range.

    References
    ----------
    Donner, A. & Klar, N. (2000). *Design and Analysis of Cluster
    Randomization Trials in Health Research*. Arnold.
    Arnold, B. F., Hogan, D. R., Colford, J. M. & Hubbard, A. E. (2011).
    Simulation methods to estimate design power: an overview for applied
    research. *BMC Medical Research Methodology* 11, 94.

    Examples
    --------
    >>> d = cluster_data(np.random.default_rng(2), design="cluster_randomised", clusters_per_arm=400,
    ...                  cluster_size=25, icc=0.05, baseline=0.1, effect={"odds_ratio": 0.6})
    >>> d.shape, d["cluster"].nunique()
    ((20000, 3), 800)
    >>> d.groupby("arm")["y"].mean().round(3).tolist()  # control arm near the baseline 0.1
    [0.102, 0.059]
    """
    k = int(clusters_per_arm)
    if k < 1 or k != clusters_per_arm:
        raise InputError(f"simulate: clusters_per_arm must be a whole number >= 1, got {clusters_per_arm!r}")
    name, value = effect_of(effect)
    n_clusters = 2 * k  # multilevel_logit has no arms: 2 x clusters_per_arm clusters in all
    sizes = cluster_sizes(rng, n_clusters, float(cluster_size), float(cv))
    cluster = np.repeat(np.arange(n_clusters, dtype=np.int64), sizes)
    n = cluster.size
    if design == "multilevel_logit":
        arm = (rng.random(n) < exposure).astype(np.float64)
    else:
        arm = np.repeat((np.arange(n_clusters) % 2).astype(np.float64), sizes)
    if name == "odds_ratio":
        if design not in ("cluster_randomised", "multilevel_logit"):
            raise InputError(f"simulate: {design} does not take an odds_ratio")
        if baseline is None:
            raise InputError("simulate: an odds_ratio needs a baseline (the control arm's event probability)")
        par = binary_parameters(float(baseline), float(icc), value)
        b = rng.standard_normal(n_clusters) * par["tau"]
        p = special.expit(par["b0"] + math.log(value) * arm + b[cluster])
        y = (rng.random(n) < p).astype(np.float64)
        return pd.DataFrame({"cluster": cluster, "arm": arm, "y": y})
    if name == "hazard_ratio":
        if design != "survival":
            raise InputError(f"simulate: a hazard_ratio needs design: survival, not {design}")
        if baseline is None:
            raise InputError("simulate: a hazard_ratio needs a baseline (the control arm's event probability)")
        par = survival_parameters(float(baseline), float(icc))
        b = rng.standard_normal(n_clusters) * par["frailty_sd"]
        rate = par["lambda0"] * np.exp(math.log(value) * arm + b[cluster])
        t = rng.exponential(1.0, n) / rate
        event = (t <= 1.0).astype(np.int64)
        return pd.DataFrame({"cluster": cluster, "arm": arm, "time": np.minimum(t, 1.0), "event": event})
    # mean_difference
    if design not in ("cluster_randomised", "prepost_clustered"):
        raise InputError(f"simulate: a mean_difference needs design cluster_randomised or prepost_clustered, "
                         f"not {design}")
    mu = 0.0 if baseline is None else float(baseline)
    vb, ve = icc * sd * sd, (1 - icc) * sd * sd
    b = rng.standard_normal(n_clusters) * math.sqrt(vb)
    if design == "cluster_randomised":
        y = mu + value * arm + b[cluster] + rng.standard_normal(n) * math.sqrt(ve)
        return pd.DataFrame({"cluster": cluster, "arm": arm, "y": y})
    r = float(pre_post_correlation)
    if not -1 < r < 1:
        raise InputError(f"simulate: pre_post_correlation must be in (-1, 1), got {r!r}")
    e0 = rng.standard_normal(n)
    e1 = r * e0 + math.sqrt(1 - r * r) * rng.standard_normal(n)
    pre = mu + b[cluster] + e0 * math.sqrt(ve)
    post = mu + value * arm + b[cluster] + e1 * math.sqrt(ve)
    return pd.DataFrame({"cluster": cluster, "arm": arm, "pre": pre, "post": post})
