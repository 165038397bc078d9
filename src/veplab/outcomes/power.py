"""Power and minimum detectable effects, stated before a study starts.

Terrorist reoffending is a few percent, so the first question of an outcome
evaluation is what the study can detect at all.  Each design solves for
whichever one of ``n``, the effect or ``power`` is ``None``:

- ``"paired"`` / ``"one_sample"`` / ``"two_sample"``: t tests, exactly R
  ``stats::power.t.test`` (noncentral t; ``n`` is the number of pairs or the
  size of *each* group; ``effect`` is the mean difference ``delta`` in units
  of ``sd``, which defaults to 1 so ``effect`` is then Cohen's d).
- ``"two_proportions"``: ``method="normal"`` is R ``stats::power.prop.test``
  (``n`` per group, ``p1`` the base rate, ``effect`` = ``p2``);
  ``method="arcsine"`` is ``pwr::pwr.2p.test`` with Cohen's
  ``h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p2))`` (``effect`` = ``p2``).
- ``"survival"``: Schoenfeld (1983): the number of events needed is
  ``D = (z_{1-a/2} + z_{power})^2 / (q (1-q) log(HR)^2)``, ``q`` the share
  allocated to treatment; people needed ``n = D / event_prob`` with
  ``event_prob`` the expected probability of an event (re-arrest) during
  follow-up, pooled over both arms.  ``effect`` is the hazard ratio.
- ``"cluster_two_sample"`` / ``"cluster_two_proportions"``: cluster-randomised
  designs (a programme rolled out in some prisons, staff trained prison by
  prison).  ``n`` is the number of **clusters per arm** ``k``, each of (mean)
  size ``m = cluster_size``; outcomes within a cluster correlate with
  intra-cluster correlation ``icc``.  The variance of an arm mean is inflated
  by the design effect (Donner & Klar 2000, ch. 5)
  ``DE = 1 + (m - 1) ICC``, and with cluster sizes varying with coefficient of
  variation ``cv`` (SD of the sizes over their mean) by
  ``DE = 1 + ((cv^2 + 1) m - 1) ICC`` (Eldridge, Ashby & Kerry 2006), so each
  arm carries ``n_eff = k m / DE`` people's worth of information.
  ``cluster_two_sample`` (``effect`` = mean difference ``delta``, ``sd`` the
  total SD): ``method="t"`` (default) is a t test on ``2 (k - 1)`` degrees of
  freedom (the clusters, not the people, are the units: Donner & Klar's
  recommendation), noncentrality ``delta / sd * sqrt(n_eff / 2)``;
  ``method="normal"`` the z approximation ``k = 2 (z_{1-a/2} + z_{power})^2
  sd^2 DE / (m delta^2)``.  With ``m = 1`` and ``icc = 0`` the t version is
  exactly ``power.t.test(n = k)``.  ``cluster_two_proportions`` (``p1`` the
  control rate, ``effect`` = ``p2``) is ``power.prop.test`` with
  ``n = n_eff``: with ``icc = 0`` exactly ``power.prop.test(n = k m)``.

Two-sided tests use R's ``strict = FALSE`` convention (the far tail is
ignored) unless ``strict=True``.  Where scipy's noncentral t returns NaN in
the far tail (large ``n``), that tail is integrated from the definition of
the noncentral t instead (:func:`_nct_tail`), so ``strict=True`` gives R's
values on the whole range (checked on a grid against ``power.t.test`` in
``tests/reference/r_parity.R``).  Results are :class:`PowerResult` with the
solved value unrounded and ``n_ceiling`` for planning.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from scipy import integrate, optimize, stats

from .._results import Result
from .._validate import InputError, check_choice

__all__ = ["power", "minimum_detectable_effect", "design_effect", "PowerResult"]

_DESIGNS = ("paired", "one_sample", "two_sample", "two_proportions", "survival",
            "cluster_two_sample", "cluster_two_proportions")
_CLUSTER = ("cluster_two_sample", "cluster_two_proportions")


@dataclasses.dataclass(frozen=True)
class PowerResult(Result):
    """Solved power analysis."""

    design: str
    solved_for: str
    n: float
    n_ceiling: int
    effect: float
    effect_name: str
    power: float
    alpha: float
    alternative: str
    n_meaning: str
    method: str
    p1: float = float("nan")
    sd: float = float("nan")
    events: float = float("nan")
    event_prob: float = float("nan")
    allocation: float = float("nan")
    icc: float = float("nan")
    cluster_size: float = float("nan")
    cv: float = float("nan")
    design_effect: float = float("nan")
    n_effective: float = float("nan")
    people_per_arm: float = float("nan")
    note: str = ""

    def summary(self) -> str:
        base = (f"{self.design}: n = {self.n:.6g} ({self.n_meaning}), {self.effect_name} = {self.effect:.6g}, "
                f"power = {self.power:.4f}, alpha = {self.alpha}")
        if self.design == "survival":
            base += f", events = {self.events:.6g}"
        if self.design in _CLUSTER:
            base += (f"\n  cluster size {self.cluster_size:g} (cv {self.cv:g}), ICC {self.icc:g}: "
                     f"design effect {self.design_effect:.4g}, {self.people_per_arm:.6g} people per arm "
                     f"worth {self.n_effective:.6g} independent people")
        return base + (f"\n  {self.note}" if self.note else "")


def _pos(name: str, v: Any, *, upper: float | None = None) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"power: {name} must be a number, got {v!r}") from None
    if not math.isfinite(x) or x <= 0 or (upper is not None and x >= upper):
        rng = f"in (0, {upper})" if upper is not None else "positive"
        raise InputError(f"power: {name} must be {rng}, got {v!r}")
    return x


def _solve_p2(f, n, p2, pw, p1: float, direction: str, n_low: float, n_name: str) -> tuple[Any, Any, Any, str]:
    """Solve ``f(n, p2) = power`` (two proportions, base rate ``p1``) for whichever of power, ``n``
    and ``p2`` is None; return ``(n, p2, power, solved)``.  ``p2`` is sought on ``direction``'s side of ``p1``."""
    if pw is None:
        p2 = _pos("effect (p2)", p2, upper=1)
        return n, p2, f(n, p2), "power"
    if n is None:
        p2 = _pos("effect (p2)", p2, upper=1)
        if p2 == p1:
            raise InputError("power: p2 equals p1; there is no difference to detect")
        return _root(lambda x: f(x, p2) - pw, n_low, 1e7, n_name), p2, pw, "n"
    lo, hi = (p1, 1.0) if direction == "increase" else (0.0, p1)
    eps = 1e-10
    return n, _root(lambda x: f(n, x) - pw, lo + eps, hi - eps, "p2"), pw, "effect"


def _root(f, lo: float, hi: float, what: str) -> float:
    flo, fhi = f(lo), f(hi)
    if flo * fhi > 0:
        raise InputError(f"power: no {what} in [{lo:.3g}, {hi:.3g}] gives the requested power; "
                         f"the target is out of reach for this design (check the inputs)")
    return float(optimize.brentq(f, lo, hi, xtol=1e-12, rtol=4 * np.finfo(float).eps, maxiter=1000))


# --------------------------------------------------------------------------- t tests
def _nct_tail(x: float, nu: float, ncp: float, *, upper: bool) -> float:
    """P(T > x) (``upper``) or P(T <= x) for T noncentral t(nu, ncp).

    scipy's noncentral t (Boost) returns NaN in parts of the far tail (for
    example P(T < -1.96) with nu = 3998, ncp = 11: the second term of a strict
    two-sided power at n = 2000, d = 0.35).  There the probability is computed
    from its definition, ``T = (Z + ncp) / S`` with ``S = sqrt(V / nu)``,
    ``V ~ chi2(nu)``:  ``P(T <= x) = E_S[Phi(x S - ncp)]``, integrated over the
    quantiles ``u`` of ``V`` (a bounded, monotone integrand on [0, 1]).  Older
    scipy (1.11) returns 0 there instead of NaN; a tail probability of exactly 0
    is computed from the definition too.
    """
    v = float(stats.nct.sf(x, nu, ncp) if upper else stats.nct.cdf(x, nu, ncp))
    if math.isfinite(v) and 0.0 < v <= 1.0:
        return v
    return _nct_tail_quadrature(x, nu, ncp, upper=upper)


def _nct_tail_quadrature(x: float, nu: float, ncp: float, *, upper: bool) -> float:
    """:func:`_nct_tail` from the definition of the noncentral t, by quadrature."""

    def s(u: float) -> float:
        return math.sqrt(float(stats.chi2.ppf(u, nu)) / nu)

    if upper:
        def g(u: float) -> float:
            return float(stats.norm.sf(x * s(u) - ncp))
    else:
        def g(u: float) -> float:
            return float(stats.norm.cdf(x * s(u) - ncp))
    val = integrate.quad(g, 0.0, 1.0, epsabs=1e-300, epsrel=1e-12, limit=500)[0]
    return min(1.0, max(0.0, float(val)))


def _t_power(n: float, delta: float, sd: float, alpha: float, tsample: int, tside: int, strict: bool) -> float:
    nu = (n - 1) * tsample  # R: nu <- (n - 1) * tsample
    qu = stats.t.isf(alpha / tside, nu)
    ncp = math.sqrt(n / tsample) * delta / sd
    pw = _nct_tail(qu, nu, ncp, upper=True)
    if strict and tside == 2:
        pw += _nct_tail(-qu, nu, ncp, upper=False)
    return float(min(pw, 1.0))


def _solve_t(design: str, n, effect, pw, alpha, sd, alternative, strict) -> PowerResult:
    tsample = 2 if design == "two_sample" else 1
    tside = 2 if alternative == "two.sided" else 1
    f = lambda n_, d_: _t_power(n_, d_, sd, alpha, tsample, tside, strict)  # noqa: E731
    if pw is None:
        pw = f(n, abs(effect))
        solved = "power"
    elif n is None:
        n = _root(lambda x: f(x, abs(effect)) - pw, 2.0, 1e7, "n")
        solved = "n"
    else:
        effect = _root(lambda x: f(n, x) - pw, sd * 1e-7, sd * 1e7, "effect")
        solved = "effect"
    meaning = {"paired": "pairs", "one_sample": "people", "two_sample": "per group"}[design]
    return PowerResult(design=design, solved_for=solved, n=float(n), n_ceiling=int(math.ceil(n - 1e-9)),
                       effect=float(effect), effect_name="delta" if sd != 1 else "delta (Cohen's d, sd = 1)",
                       power=float(pw), alpha=alpha, alternative=alternative, n_meaning=meaning,
                       method="stats::power.t.test", sd=sd)


# --------------------------------------------------------------------------- proportions
def _prop_power_normal(n: float, p1: float, p2: float, alpha: float, tside: int, strict: bool) -> float:
    qu = stats.norm.isf(alpha / tside)
    d = abs(p1 - p2)
    q1, q2 = 1 - p1, 1 - p2
    pbar = (p1 + p2) / 2
    qbar = 1 - pbar
    num = math.sqrt(n) * d - qu * math.sqrt(2 * pbar * qbar)
    pw = stats.norm.cdf(num / math.sqrt(p1 * q1 + p2 * q2))
    if strict and tside == 2:
        pw += stats.norm.cdf(-(math.sqrt(n) * d + qu * math.sqrt(2 * pbar * qbar)) / math.sqrt(p1 * q1 + p2 * q2))
    return float(pw)


def _prop_power_arcsine(n: float, p1: float, p2: float, alpha: float, alternative: str) -> float:
    h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))
    s = h * math.sqrt(n / 2)
    if alternative == "two.sided":
        z = stats.norm.isf(alpha / 2)
        return float(stats.norm.sf(z - s) + stats.norm.cdf(-z - s))
    if alternative == "greater":  # pwr's "greater": h > 0
        return float(stats.norm.sf(stats.norm.isf(alpha) - s))
    return float(stats.norm.cdf(stats.norm.ppf(alpha) - s))


def _solve_prop(n, p2, pw, alpha, p1, alternative, strict, method, direction) -> PowerResult:
    if p1 is None:
        raise InputError("power: two_proportions needs p1 (the base rate, e.g. 0.05 reoffending)")
    p1 = _pos("p1", p1, upper=1)
    tside = 2 if alternative == "two.sided" else 1
    if method == "normal":
        def f(n_, p2_):
            return _prop_power_normal(n_, p1, p2_, alpha, tside, strict)
        rname = "stats::power.prop.test"
    else:
        alt = alternative
        if alt != "two.sided":
            # pwr's one-sided direction is on h = ES.h(p1, p2); use the direction of the effect
            alt = "less" if direction == "increase" else "greater"

        def f(n_, p2_):
            return _prop_power_arcsine(n_, p1, p2_, alpha, alt)
        rname = "pwr::pwr.2p.test (h = ES.h(p1, p2))"
    n, p2, pw, solved = _solve_p2(f, n, p2, pw, p1, direction, 2.0, "n")
    note = (f"base rate p1 = {p1:g}; detectable p2 = {p2:.4g} "
            f"(risk ratio {p2 / p1:.3g}, difference {p2 - p1:+.4g})")
    return PowerResult(design="two_proportions", solved_for=solved, n=float(n), n_ceiling=int(math.ceil(n - 1e-9)),
                       effect=float(p2), effect_name="p2", power=float(pw), alpha=alpha, alternative=alternative,
                       n_meaning="per group", method=rname, p1=p1, note=note)


# --------------------------------------------------------------------------- survival
def _solve_surv(n, hr, pw, alpha, event_prob, allocation, alternative, direction) -> PowerResult:
    if event_prob is None:
        raise InputError("power: survival needs event_prob, the expected share of people with an event "
                         "(e.g. re-arrest) during follow-up, pooled over both groups")
    ep = _pos("event_prob", event_prob, upper=1.0000001)
    q = _pos("allocation", allocation, upper=1)
    tside = 2 if alternative == "two.sided" else 1
    za = stats.norm.isf(alpha / tside)
    if pw is None:
        lhr = abs(math.log(_pos("effect (hazard ratio)", hr)))
        D = n * ep
        pw = float(stats.norm.cdf(math.sqrt(D * q * (1 - q)) * lhr - za))
        solved = "power"
    elif n is None:
        hr = _pos("effect (hazard ratio)", hr)
        if hr == 1:
            raise InputError("power: a hazard ratio of 1 is no effect; give the ratio to detect (e.g. 0.7)")
        D = (za + stats.norm.ppf(pw)) ** 2 / (q * (1 - q) * math.log(hr) ** 2)
        n = D / ep
        solved = "n"
    else:
        D = n * ep
        lhr = (za + stats.norm.ppf(pw)) / math.sqrt(D * q * (1 - q))
        hr = math.exp(-lhr) if direction == "decrease" else math.exp(lhr)
        solved = "effect"
    D = n * ep
    note = (f"{D:.4g} events expected among {n:.6g} people (event probability {ep:g}); "
            f"Schoenfeld's formula needs events, not people")
    return PowerResult(design="survival", solved_for=solved, n=float(n), n_ceiling=int(math.ceil(n - 1e-9)),
                       effect=float(hr), effect_name="hazard ratio", power=float(pw), alpha=alpha,
                       alternative=alternative, n_meaning="people in total", method="Schoenfeld (1983)",
                       events=float(D), event_prob=ep, allocation=q, note=note)


# --------------------------------------------------------------------------- cluster designs
def design_effect(cluster_size: float, icc: float, cv: float = 0.0) -> float:
    """Variance inflation of a mean over clusters of mean size ``m`` with intra-cluster correlation ``icc``.

    How many times larger the variance of a mean is when people come in
    clusters (prisons, wings) whose members answer alike, than when the same
    number of people are sampled independently; ``k m / DE`` is the number of
    independent people a sample of ``k`` clusters is worth.

    Formula::

        DE = 1 + ((cv^2 + 1) m - 1) ICC

    Donner & Klar's ``DE = 1 + (m - 1) ICC`` for equal clusters (``cv = 0``),
    and Eldridge, Ashby & Kerry's (2006) version for cluster sizes with
    coefficient of variation ``cv`` (SD of the sizes over their mean).

    Parameters
    ----------
    cluster_size : float
        Mean number of people per cluster ``m`` (at least 1).
    icc : float
        Intra-cluster correlation, in [0, 1).
    cv : float, default 0
        Coefficient of variation of the cluster sizes.

    Returns
    -------
    float
        The design effect ``DE`` (1 when ``icc = 0`` or ``m = 1`` and ``cv = 0``).

    Raises
    ------
    InputError
        When ``cluster_size`` is below 1, ``icc`` is outside [0, 1) or ``cv`` is negative.

    References
    ----------
    Donner A, Klar N (2000). *Design and Analysis of Cluster Randomization
    Trials in Health Research*. Arnold, ch. 5.
    Eldridge SM, Ashby D, Kerry S (2006). Sample size for cluster randomized
    trials: effect of coefficient of variation of cluster size and analysis
    method. *Int J Epidemiol* 35(5), 1292-1300.
    Checked against the formula written out in R (tests/reference/power_cluster.R).

    Examples
    --------
    >>> design_effect(40, 0.05)                      # 1 + 39 * 0.05
    2.95
    >>> round(design_effect(40, 0.05, cv=0.5), 4)    # 1 + (1.25 * 40 - 1) * 0.05
    3.45
    >>> round(120 / design_effect(40, 0.05), 1)      # 3 prisons of 40 are worth 40.7 independent people
    40.7
    """
    m = _pos("cluster_size", cluster_size)
    if m < 1:
        raise InputError(f"power: cluster_size (people per cluster) must be at least 1, got {cluster_size!r}")
    r = _unit("icc", icc)
    c = _nonneg("cv", cv)
    return 1.0 + ((c * c + 1.0) * m - 1.0) * r


def _unit(name: str, v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"power: {name} must be a number, got {v!r}") from None
    if not math.isfinite(x) or x < 0 or x >= 1:
        raise InputError(f"power: {name} must be in [0, 1), got {v!r}")
    return x


def _nonneg(name: str, v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"power: {name} must be a number, got {v!r}") from None
    if not math.isfinite(x) or x < 0:
        raise InputError(f"power: {name} must be zero or positive, got {v!r}")
    return x


def _cluster_t_power(k: float, delta: float, sd: float, m: float, de: float, alpha: float, tside: int,
                     strict: bool, method: str) -> float:
    ncp = delta / sd * math.sqrt(k * m / (2.0 * de))
    if method == "normal":
        z = stats.norm.isf(alpha / tside)
        pw = stats.norm.sf(z - ncp)
        if strict and tside == 2:
            pw += stats.norm.cdf(-z - ncp)
        return float(pw)
    nu = 2.0 * (k - 1.0)
    qu = stats.t.isf(alpha / tside, nu)
    pw = _nct_tail(qu, nu, ncp, upper=True)
    if strict and tside == 2:
        pw += _nct_tail(-qu, nu, ncp, upper=False)
    return float(min(pw, 1.0))


def _solve_cluster(design, k, effect, pw, alpha, sd, p1, icc, cluster_size, cv, alternative, strict, method,
                   direction) -> PowerResult:
    if icc is None or cluster_size is None:
        raise InputError(f"power: {design} needs icc= (the intra-cluster correlation, e.g. 0.05) and "
                         f"cluster_size= (mean people per cluster, e.g. 40)")
    de = design_effect(cluster_size, icc, cv)
    m, r, c = float(cluster_size), float(icc), float(cv)
    tside = 2 if alternative == "two.sided" else 1
    lo_k = 1.5 if design == "cluster_two_sample" and method == "t" else 1e-6  # df >= 1: nct is unreliable below
    if design == "cluster_two_sample":
        sd = _pos("sd", sd)

        def f(k_, d_):
            return _cluster_t_power(k_, d_, sd, m, de, alpha, tside, strict, method)
        if pw is None:
            effect = float(effect)
            pw = f(k, abs(effect))
            solved = "power"
        elif k is None:
            effect = float(effect)
            if method == "normal" and not strict:
                z = stats.norm.isf(alpha / tside) + stats.norm.ppf(pw)
                k = 2.0 * z * z * sd * sd * de / (m * effect * effect)
            else:
                k = _root(lambda x: f(x, abs(effect)) - pw, lo_k, 1e7, "number of clusters")
            solved = "n"
        else:
            effect = _root(lambda x: f(k, x) - pw, sd * 1e-7, sd * 1e7, "effect")
            solved = "effect"
        rname = ("t test on 2(k - 1) df, Donner & Klar (2000)" if method == "t"
                 else "normal approximation, Donner & Klar (2000)")
        ename = "delta" if sd != 1 else "delta (sd = 1)"
        note = ""
    else:
        if p1 is None:
            raise InputError("power: cluster_two_proportions needs p1 (the control arm's rate, e.g. 0.10)")
        p1 = _pos("p1", p1, upper=1)

        def f(k_, p2_):
            return _prop_power_normal(k_ * m / de, p1, p2_, alpha, tside, strict)
        k, effect, pw, solved = _solve_p2(f, k, effect, pw, p1, direction, lo_k, "number of clusters")
        rname = "stats::power.prop.test on n = k m / DE, Donner & Klar (2000)"
        ename = "p2"
        note = (f"base rate p1 = {p1:g}; p2 = {effect:.4g} "
                f"(risk ratio {effect / p1:.3g}, difference {effect - p1:+.4g})")
    n_eff = k * m / de
    return PowerResult(design=design, solved_for=solved, n=float(k), n_ceiling=int(math.ceil(k - 1e-9)),
                       effect=float(effect), effect_name=ename, power=float(pw), alpha=alpha,
                       alternative=alternative, n_meaning="clusters per arm", method=rname,
                       p1=float(p1) if p1 is not None else float("nan"),
                       sd=float(sd) if design == "cluster_two_sample" else float("nan"),
                       icc=r, cluster_size=m, cv=c, design_effect=de, n_effective=float(n_eff),
                       people_per_arm=float(k * m), note=note)


# --------------------------------------------------------------------------- API
def power(
    design: str,
    *,
    n: float | None = None,
    effect: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    sd: float = 1.0,
    p1: float | None = None,
    event_prob: float | None = None,
    allocation: float = 0.5,
    alternative: str = "two.sided",
    method: str | None = None,
    strict: bool = False,
    direction: str = "decrease",
    icc: float | None = None,
    cluster_size: float | None = None,
    cv: float = 0.0,
) -> PowerResult:
    """Solve a power analysis for whichever of ``n``, ``effect``, ``power`` is None.

    Give two of the sample size, the effect and the power; the third is
    solved (by root finding on the power function below where there is no
    closed form).  See the module docstring for each design's meaning of
    ``n`` and ``effect``.  ``direction`` says which way to solve an effect (a
    reduction in reoffending: ``"decrease"``, the default, gives p2 < p1 or
    HR < 1; R's ``power.prop.test`` solves p2 > p1, i.e. ``"increase"``).
    ``method``: ``"normal"`` (default) or ``"arcsine"`` for ``two_proportions``;
    ``"t"`` (default) or ``"normal"`` for ``cluster_two_sample``.  Cluster
    designs take ``icc``, ``cluster_size`` (mean people per cluster) and ``cv``
    (coefficient of variation of the cluster sizes, default 0), and ``n`` is
    the number of clusters per arm.

    Power functions (two-sided, R's ``strict = FALSE``; ``z_q`` and ``t_q`` the
    normal and t quantiles, ``T'`` a noncentral t)::

        t tests:         power = P(T'(nu, ncp) > t_{1-a/2, nu}),  ncp = sqrt(n / s) delta / sd,
                         nu = s (n - 1), s = 2 for two_sample else 1
        two proportions: power = Phi((sqrt(n) |p1 - p2| - z_{1-a/2} sqrt(2 pbar qbar))
                                     / sqrt(p1 q1 + p2 q2))
        arcsine:         power = Phi(|h| sqrt(n / 2) - z_{1-a/2}),  h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p2))
        survival:        D = (z_{1-a/2} + z_{power})^2 / (q (1 - q) log(HR)^2),  n = D / event_prob
        cluster designs: the same with n_eff = k m / DE people per arm (:func:`design_effect`),
                         t on 2 (k - 1) df for cluster_two_sample

    Parameters
    ----------
    design : str
        ``"paired"``, ``"one_sample"``, ``"two_sample"``, ``"two_proportions"``, ``"survival"``,
        ``"cluster_two_sample"`` or ``"cluster_two_proportions"``.
    n, effect, power : float or None
        Exactly one is None (solved).  ``n`` per group (pairs, people in total for
        ``survival``, clusters per arm for cluster designs); ``effect`` the mean
        difference ``delta``, ``p2`` or the hazard ratio.
    alpha : float
        Significance level.
    sd, p1, event_prob, allocation, icc, cluster_size, cv
        Design inputs (see the module docstring).
    alternative : {"two.sided", "one.sided"}
    method, strict, direction
        See above.

    Returns
    -------
    PowerResult
        The solved value unrounded (``n``, ``effect`` or ``power``), ``n_ceiling`` for
        planning, and the design effect, events or base rate where they apply.

    Raises
    ------
    InputError
        When not exactly one of ``n``, ``effect``, ``power`` is None, an input is out of
        range, or no value reaches the requested power.

    References
    ----------
    Cohen J (1988). *Statistical Power Analysis for the Behavioral Sciences*,
    2nd ed. Lawrence Erlbaum (ch. 6: the arcsine effect size h).
    Donner A, Klar N (2000). *Design and Analysis of Cluster Randomization
    Trials in Health Research*. Arnold.
    Eldridge SM, Ashby D, Kerry S (2006). *Int J Epidemiol* 35(5), 1292-1300.
    Schoenfeld DA (1983). Sample-size formula for the proportional-hazards
    regression model. *Biometrics* 39, 499-503.
    R: ``stats::power.t.test`` and ``stats::power.prop.test`` (checked in
    tests/reference/outcomes.R, r_parity.R and power_cluster.R); the arcsine power
    is ``pwr::pwr.2p.test``'s formula, written out in tests/reference/outcomes.R.

    Examples
    --------
    >>> round(power("two_sample", n=20, effect=1).power, 6)   # power.t.test(n=20, delta=1)
    0.868953
    >>> round(power("two_proportions", p1=0.05, effect=0.025, power=0.8).n)  # power.prop.test: 905.3658
    905
    >>> res = power("cluster_two_proportions", p1=0.10, effect=0.06, power=0.8, icc=0.02, cluster_size=40)
    >>> res.n_ceiling, round(res.design_effect, 2)        # prisons per arm; DE = 1 + 39 * 0.02
    (33, 1.78)
    """
    check_choice(design, "design", _DESIGNS)
    check_choice(alternative, "alternative", ("two.sided", "one.sided"))
    if method is None:
        method = "t" if design == "cluster_two_sample" else "normal"
    check_choice(method, "method", ("t", "normal") if design == "cluster_two_sample" else ("normal", "arcsine"))
    check_choice(direction, "direction", ("decrease", "increase"))
    missing = [k for k, v in (("n", n), ("effect", effect), ("power", power)) if v is None]
    if len(missing) != 1:
        raise InputError(f"power: exactly one of n, effect, power must be None (to be solved); "
                         f"{'none is' if not missing else ', '.join(missing) + ' are'} None")
    alpha = _pos("alpha", alpha, upper=1)
    if power is not None:
        power = _pos("power", power, upper=1)
        if power <= alpha / (2 if alternative == "two.sided" else 1):
            raise InputError("power: the requested power must exceed alpha")
    if design in _CLUSTER:
        if n is not None:
            n = _pos("n (clusters per arm)", n)
            if n <= 1 and design == "cluster_two_sample" and method == "t":
                raise InputError("power: a t test over clusters needs more than 1 cluster per arm")
        if effect is not None and design == "cluster_two_sample" and float(effect) == 0:
            raise InputError("power: effect 0 is no effect")
        return _solve_cluster(design, n, effect, power, alpha, sd, p1, icc, cluster_size, cv, alternative,
                              strict, method, direction)
    if n is not None:
        n = _pos("n", n)
        if n < 2 and design != "survival":
            raise InputError("power: n must be at least 2")
    if design in ("paired", "one_sample", "two_sample"):
        sd = _pos("sd", sd)
        if effect is not None:
            effect = float(effect)
            if effect == 0:
                raise InputError("power: effect 0 is no effect")
        return _solve_t(design, n, effect, power, alpha, sd, alternative, strict)
    if design == "two_proportions":
        return _solve_prop(n, effect, power, alpha, p1, alternative, strict, method, direction)
    return _solve_surv(n, effect, power, alpha, event_prob, allocation, alternative, direction)


def minimum_detectable_effect(design: str, n: float, *, power: float = 0.8, alpha: float = 0.05,
                              **kwargs: Any) -> PowerResult:
    """Smallest effect ``design`` detects with ``n`` at ``power`` (see :func:`power`).

    The effect that solves ``power(design, n=n, effect=?) = power``: for the
    t tests the smallest ``delta`` (in units of ``sd``), for proportions the
    ``p2`` furthest towards ``p1`` that is still detected, for ``survival``
    the hazard ratio (Schoenfeld 1983, closed form)::

        HR = exp(-(z_{1-a/2} + z_{power}) / sqrt(n event_prob q (1 - q)))

    (``direction="increase"`` gives its inverse).  ``kwargs`` are the design
    inputs of :func:`power` (``p1``, ``event_prob``, ``icc``, ``cluster_size`` ...).

    Returns
    -------
    PowerResult
        ``effect`` is the minimum detectable effect.

    References
    ----------
    Schoenfeld DA (1983). Sample-size formula for the proportional-hazards
    regression model. *Biometrics* 39, 499-503.
    Bloom HS (1995). Minimum detectable effects: a simple way to report the
    statistical power of experimental designs. *Evaluation Review* 19(5), 547-556.
    R: ``stats::power.t.test(n=, power=)`` and ``stats::power.prop.test(n=, p1=, power=)``
    solve the same equations (tests/reference/outcomes.R).

    Examples
    --------
    >>> mde = minimum_detectable_effect("survival", n=400, event_prob=0.05)
    >>> round(mde.effect, 3)   # hazard ratio detectable with 20 events
    0.286
    >>> round(minimum_detectable_effect("paired", n=120).effect, 3)   # power.t.test(n=120, type="paired")
    0.258
    """
    return globals()["power"](design, n=n, effect=None, power=power, alpha=alpha, **kwargs)
