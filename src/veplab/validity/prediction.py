"""Predictive validity: discrimination (ROC/AUC), calibration, subgroup performance.

A risk tool's scores are judged by whether they rank people who later
(re)offend above those who do not -- discrimination, the area under the ROC
curve -- and, when the tool gives probabilities, whether those probabilities
match observed rates -- calibration.  Terrorist reoffending is rare (a few
percent), so intervals must stay honest with few events: DeLong intervals
are warned about below :data:`FEW_EVENTS` events and the stratified bootstrap
is offered (and used automatically in subgroups).

=============================  ==============================================
veplab                         R
=============================  ==============================================
:func:`roc_auc`                ``pROC::roc`` + ``pROC::ci.auc`` (DeLong or
                               stratified bootstrap)
:func:`compare_auc`            ``pROC::roc.test(method = "delong", paired = TRUE)``
:func:`roc_curve`              ``pROC::coords(roc, "all")``
:func:`calibration`            ``glm(y ~ offset(qlogis(p)), binomial)`` (CITL),
                               ``glm(y ~ qlogis(p), binomial)`` (slope),
                               Wald intervals (``confint.default``)
:func:`subgroup_performance`   the above per subgroup; unpaired DeLong test of
                               ``pROC::roc.test(paired = FALSE)``
=============================  ==============================================

Outcome coding: ``y`` is 1 for an event (case) and 0 for a non-event
(control), as pROC's default ``levels = c(0, 1)``.

References
----------
DeLong, E. R., DeLong, D. M., & Clarke-Pearson, D. L. (1988). Comparing the
areas under two or more correlated receiver operating characteristic curves:
a nonparametric approach. *Biometrics*, 44, 837-845.

Sun, X., & Xu, W. (2014). Fast implementation of DeLong's algorithm for
comparing the areas under correlated receiver operating characteristic
curves. *IEEE Signal Processing Letters*, 21, 1389-1393.

Robin, X. et al. (2011). pROC: an open-source package for R and S+ to analyze
and compare ROC curves. *BMC Bioinformatics*, 12, 77.

Van Calster, B. et al. (2019). Calibration: the Achilles heel of predictive
analytics. *BMC Medicine*, 17, 230.

Debray, T. P. A. et al. (2017). A guide to systematic review and meta-analysis
of prediction model performance. *BMJ*, 356, i6460.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from .._glm import glm, separated_terms
from .._results import Result, TableResult
from .._validate import InputError, check_choice, check_ci, format_rows, numeric_series, rng as make_rng
from ..privacy.outputs import ModelFacts

__all__ = [
    "SubgroupPerformance",
    "FEW_EVENTS",
    "AUCResult",
    "AUCComparison",
    "CalibrationResult",
    "roc_auc",
    "compare_auc",
    "roc_curve",
    "plot_roc",
    "calibration",
    "plot_calibration",
    "subgroup_performance",
]

#: Below this many events (or non-events) DeLong intervals are unstable: a
#: warning recommends the bootstrap, and subgroup_performance uses it.
FEW_EVENTS = 10

_BOOT_CELLS = 4_000_000  # bound on resamples x observations held in memory at once


# ======================================================================= input checks
def _outcome_and_scores(
    y: Any,
    scores: dict[str, Any],
    *,
    what: str,
    missing: str,
    allow_one_class: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Validate a binary outcome and aligned numeric scores.

    Returns the outcome (0/1 ints), the scores, the index labels kept and the
    boolean mask of kept positions.
    """
    check_choice(missing, "missing", ("error", "drop"))
    ys = numeric_series(y, what=what, name="y")
    cols = {}
    for name, s in scores.items():
        ss = numeric_series(s, what=what, name=name)
        if len(ss) != len(ys):
            raise InputError(
                f"{what}: y has {len(ys)} values but {name} has {len(ss)}; pass an outcome and scores for the same people"
            )
        if isinstance(s, pd.Series) and isinstance(y, pd.Series) and not s.index.equals(y.index):
            raise InputError(
                f"{what}: the index of {name} differs from the index of y; align them first "
                "(e.g. score.reindex(y.index)) so each score belongs to its outcome"
            )
        cols[name] = ss.to_numpy()
    index = ys.index
    yv = ys.to_numpy()
    nan_y = np.isnan(yv)
    nan_any = nan_y.copy()
    parts = []
    if nan_y.any():
        parts.append(f"y has {int(nan_y.sum())} missing ({format_rows(list(index[nan_y]))})")
    for name, v in cols.items():
        m = np.isnan(v)
        if m.any():
            parts.append(f"{name} has {int(m.sum())} missing ({format_rows(list(index[m]))})")
        nan_any |= m
    if parts:
        if missing == "error":
            raise InputError(
                f"{what}: " + "; ".join(parts) + f" -- {int(nan_any.sum())} rows in all. Impute or remove them "
                "deliberately, or pass missing='drop' to drop those rows"
            )
        warnings.warn(f"{what}: dropped {int(nan_any.sum())} rows with missing values ({'; '.join(parts)})",
                      UserWarning, stacklevel=3)
    keep = ~nan_any
    yv = yv[keep]
    cols = {k: v[keep] for k, v in cols.items()}
    for name, v in cols.items():
        if np.isinf(v).any():
            raise InputError(f"{what}: {name} has {int(np.isinf(v).sum())} infinite values; fix or remove them")
    vals = np.unique(yv)
    if not np.all(np.isin(vals, [0.0, 1.0])):
        shown = ", ".join(f"{v:g}" for v in vals[:10])
        raise InputError(
            f"{what}: y must be binary, coded 0 (no event) and 1 (event); found values {shown}"
            f"{' ...' if len(vals) > 10 else ''}. Recode the outcome (e.g. y = (outcome == 'reoffended'))"
        )
    if len(vals) < 2 and not allow_one_class:
        which = "events (1)" if len(vals) and vals[0] == 1 else "non-events (0)"
        raise InputError(
            f"{what}: the outcome has only one class (all {len(yv)} are {which}); discrimination (AUC) "
            "is undefined without both events and non-events"
        )
    return yv.astype(int), cols, np.asarray(index[keep]), keep


def _resolve_direction(y: np.ndarray, s: np.ndarray, direction: str, what: str, name: str = "score") -> str:
    check_choice(direction, "direction", ("auto", "<", ">"))
    if direction != "auto":
        return direction
    controls, cases = s[y == 0], s[y == 1]
    d = "<" if np.median(controls) <= np.median(cases) else ">"
    if d == ">":
        warnings.warn(
            f"{what}: direction='auto' found lower {name} values among events (median {np.median(cases):.4g} "
            f"vs {np.median(controls):.4g}) and set direction '>' (lower score = higher risk), as pROC does. "
            "If higher scores are meant to mean higher risk, pass direction='<'; 'auto' cannot give an AUC below 0.5 "
            "and so overstates a useless score.",
            UserWarning,
            stacklevel=3,
        )
    return d


# ======================================================================= AUC core
def _placements(cases: np.ndarray, controls: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """DeLong placements (Sun & Xu 2014 via sorting).

    ``V10_i`` = share of controls below case i (ties count 1/2);
    ``V01_j`` = share of cases above control j.  Returns (AUC, V10, V01).
    """
    m, n = len(cases), len(controls)
    sc = np.sort(controls)
    below = np.searchsorted(sc, cases, side="left")
    le = np.searchsorted(sc, cases, side="right")
    v10 = (below + 0.5 * (le - below)) / n
    sx = np.sort(cases)
    above = m - np.searchsorted(sx, controls, side="right")
    ge = m - np.searchsorted(sx, controls, side="left")
    v01 = (above + 0.5 * (ge - above)) / m
    return float(v10.mean()), v10, v01


def _oriented(s: np.ndarray, direction: str) -> np.ndarray:
    return s if direction == "<" else -s


def _delong_var(v10: np.ndarray, v01: np.ndarray) -> float:
    m, n = len(v10), len(v01)
    if m <= 1 or n <= 1:
        return float("nan")
    return float(np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n)


def _resample_counts(gen: np.random.Generator, n: int, b: int) -> np.ndarray:
    """(b, n) counts of how often each of n observations is drawn in b resamples of size n.

    Draws indices with replacement (``gen.integers``) and counts them with one ``bincount``.
    """
    idx = gen.integers(0, n, size=(b, n))
    flat = (idx + (np.arange(b) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n)


def _boot_aucs(cases: np.ndarray, controls: np.ndarray, n_boot: int, gen: np.random.Generator) -> np.ndarray:
    """Stratified bootstrap AUCs (cases and controls resampled separately, as pROC's default).

    Vectorised: each resample is a vector of counts over the *sorted*
    controls and over the cases; the AUC of resample b is
    ``sum_i w_bi (C_b[lo_i] + C_b[hi_i]) / 2 / (m n)`` where ``C_b`` is the
    cumulative count of resampled controls and ``lo_i`` / ``hi_i`` the numbers
    of controls below / not above case i -- one gather per chunk of
    resamples, chunks bounded to a few million cells.  Per chunk, indices
    into the sorted controls are drawn first, then indices into the cases.
    """
    m, n = len(cases), len(controls)
    sc = np.sort(controls)
    lo = np.searchsorted(sc, cases, side="left")
    hi = np.searchsorted(sc, cases, side="right")
    out = np.empty(n_boot)
    chunk = max(1, min(n_boot, _BOOT_CELLS // max(1, m + n + 1)))
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        wc = _resample_counts(gen, n, b)
        wx = _resample_counts(gen, m, b)
        C = np.zeros((b, n + 1), dtype=np.int64)
        np.cumsum(wc, axis=1, out=C[:, 1:])
        twice = C[:, lo] + C[:, hi]  # 2 x (controls below + half the ties), per case
        out[done: done + b] = np.einsum("bi,bi->b", wx, twice) / (2.0 * m * n)
        done += b
    return out


@dataclasses.dataclass(frozen=True)
class AUCResult(Result):
    """Area under the ROC curve with its interval (``pROC::ci.auc``)."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    ci: float
    n: int
    n_events: int
    n_nonevents: int
    method: str
    direction: str
    n_boot: int | None = None

    def summary(self) -> str:
        return (
            f"AUC = {self.estimate:.4f} [{self.ci_low:.4f}, {self.ci_high:.4f}] ({self.ci:.0%} CI, {self.method}); "
            f"SE {self.se:.4f}; {self.n_events} events, {self.n_nonevents} non-events; direction '{self.direction}'"
        )

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        return ModelFacts("ROC / AUC", self.n, None, {}, ("outcome", {0: self.n_nonevents, 1: self.n_events}))


def _auc_from_arrays(
    y: np.ndarray, s: np.ndarray, direction: str, *, ci: float, method: str, n_boot: int, gen: np.random.Generator | None
) -> dict[str, Any]:
    o = _oriented(s, direction)
    cases, controls = o[y == 1], o[y == 0]
    auc, v10, v01 = _placements(cases, controls)
    z = stats.norm.ppf(1 - (1 - ci) / 2)
    if method == "delong":
        var = _delong_var(v10, v01)
        se = float(np.sqrt(var))
        lo, hi = auc - z * se, auc + z * se
        lo, hi = min(max(lo, 0.0), 1.0), min(max(hi, 0.0), 1.0)
        boots = None
    else:
        if gen is None:
            raise TypeError("_auc_from_arrays: the bootstrap needs a random generator")
        boots = _boot_aucs(cases, controls, n_boot, gen)
        se = float(np.std(boots, ddof=1))
        lo, hi = np.quantile(boots, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return {
        "estimate": auc, "se": se, "ci_low": float(lo), "ci_high": float(hi),
        "n_events": int(len(cases)), "n_nonevents": int(len(controls)), "v10": v10, "v01": v01, "boots": boots,
    }


def _check_n_boot(n_boot: Any) -> int:
    try:
        nb = int(n_boot)
    except (TypeError, ValueError):
        raise InputError(f"n_boot must be a positive integer, got {n_boot!r}") from None
    if nb != n_boot or nb < 100:
        raise InputError(f"n_boot must be an integer of at least 100 (2000 or more for 95% intervals), got {n_boot!r}")
    return nb


def _few_events_warning(n_events: int, n_nonevents: int, what: str) -> None:
    few = min(n_events, n_nonevents)
    if few < FEW_EVENTS:
        cls = "events" if n_events <= n_nonevents else "non-events"
        warnings.warn(
            f"{what}: only {few} {cls}; the AUC estimate is unstable and DeLong's normal-approximation "
            f"interval is unreliable with fewer than {FEW_EVENTS}. Use method='bootstrap' (stratified) and "
            "report the number of events next to the AUC.",
            UserWarning,
            stacklevel=3,
        )


def roc_auc(
    y: Any,
    score: Any,
    *,
    ci: float = 0.95,
    method: Literal["delong", "bootstrap"] = "delong",
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    direction: Literal["auto", "<", ">"] = "auto",
    missing: Literal["error", "drop"] = "error",
) -> AUCResult:
    """Area under the ROC curve with a DeLong or stratified-bootstrap interval.

    ``AUC = P(score_event > score_nonevent) + 1/2 P(tie)`` (the Mann-Whitney
    statistic; pROC's trapezoidal area is identical).  DeLong's (1988)
    variance uses the placement values ``V10_i`` (share of non-events below
    event i) and ``V01_j`` (share of events above non-event j):
    ``Var = s^2(V10)/m + s^2(V01)/n``; the interval is ``AUC +- z SE``,
    truncated to [0, 1] -- ``pROC::ci.auc(method = "delong")``.  The bootstrap
    resamples events and non-events separately (pROC's ``stratified = TRUE``)
    and takes percentile limits; SE is the standard deviation of the
    bootstrap AUCs.

    Parameters
    ----------
    y
        Outcome, 1 = event, 0 = no event.
    score
        Risk score or predicted probability.
    direction
        ``"<"``: higher scores for events (the usual meaning of a risk
        score); ``">"``: lower scores for events; ``"auto"`` (pROC's default)
        picks ``"<"`` when the median score of non-events is at most that of
        events -- with a warning when it picks ``">"``.
    missing
        ``"error"`` (default) refuses missing values, saying how many;
        ``"drop"`` drops rows where y or score is missing.

    Warns when there are fewer than :data:`FEW_EVENTS` events with DeLong.

    References
    ----------
    Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
    characteristic (ROC) curve. Radiology 143, 29-36.
    DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
    correlated receiver operating characteristic curves: a nonparametric approach.
    Biometrics 44, 837-845.
    Robin X, Turck N, Hainard A, Tiberti N, Lisacek F, Sanchez JC, Muller M (2011). pROC: an
    open-source package for R and S+ to analyze and compare ROC curves. BMC Bioinformatics
    12, 77.
    Agrees with ``pROC::roc`` and ``pROC::ci.auc`` (DeLong and stratified bootstrap;
    tests/reference/validity_prediction.R).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> score = y + rng.standard_normal(200)
    >>> round(roc_auc(y, score, direction="<").estimate, 3)
    0.757
    """
    what = "roc_auc"
    ci = check_ci(ci)
    check_choice(method, "method", ("delong", "bootstrap"))
    nb = _check_n_boot(n_boot)
    yv, cols, _, _ = _outcome_and_scores(y, {_name(score, "score"): score}, what=what, missing=missing)
    name, s = next(iter(cols.items()))
    d = _resolve_direction(yv, s, direction, what, name)
    if method == "delong":
        _few_events_warning(int(yv.sum()), int((1 - yv).sum()), what)
    gen = make_rng(seed) if method == "bootstrap" else None
    r = _auc_from_arrays(yv, s, d, ci=ci, method=method, n_boot=nb, gen=gen)
    return AUCResult(
        estimate=r["estimate"], se=r["se"], ci_low=r["ci_low"], ci_high=r["ci_high"], ci=ci, n=int(len(yv)),
        n_events=r["n_events"], n_nonevents=r["n_nonevents"], method=method, direction=d,
        n_boot=nb if method == "bootstrap" else None,
    )


def _name(x: Any, default: str) -> str:
    n = getattr(x, "name", None)
    return str(n) if n is not None else default


# ======================================================================= paired comparison
@dataclasses.dataclass(frozen=True)
class AUCComparison(Result):
    """Paired DeLong comparison of two AUCs on the same people (``pROC::roc.test``)."""

    score_a: str
    score_b: str
    auc_a: float
    auc_b: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    ci: float
    z: float
    p_value: float
    correlation: float
    n: int
    n_events: int
    n_nonevents: int
    direction_a: str
    direction_b: str

    def summary(self) -> str:
        return (
            f"AUC {self.score_a} = {self.auc_a:.4f}, {self.score_b} = {self.auc_b:.4f}; difference "
            f"{self.estimate:.4f} [{self.ci_low:.4f}, {self.ci_high:.4f}] ({self.ci:.0%} CI); "
            f"DeLong z = {self.z:.3f}, p = {self.p_value:.3g} (n = {self.n}, {self.n_events} events)"
        )

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        return ModelFacts("ROC / AUC", self.n, None, {}, ("outcome", {0: self.n_nonevents, 1: self.n_events}))


def compare_auc(
    y: Any,
    score_a: Any,
    score_b: Any,
    *,
    ci: float = 0.95,
    direction: Literal["auto", "<", ">"] = "auto",
    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
    missing: Literal["error", "drop"] = "error",
) -> AUCComparison:
    """DeLong's test for two correlated AUCs (same people, two scores).

    Matches ``pROC::roc.test(roc(y, a), roc(y, b), method = "delong", paired = TRUE)``:
    with ``S10``, ``S01`` the 2 x 2 covariance matrices of the placement
    values of events and non-events, ``Var(AUC_a - AUC_b) = L (S10/m + S01/n) L'``
    with ``L = (1, -1)``, ``z = (AUC_a - AUC_b) / SE`` and the interval
    ``difference +- z_(1-alpha/2) SE``.  ``direction='auto'`` is resolved for
    each score separately, as pROC does (a warning says when they differ).

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
    correlated receiver operating characteristic curves: a nonparametric approach.
    Biometrics 44, 837-845.
    Robin X, Turck N, Hainard A, Tiberti N, Lisacek F, Sanchez JC, Muller M (2011). pROC: an
    open-source package for R and S+ to analyze and compare ROC curves. BMC Bioinformatics
    12, 77.
    Agrees with ``pROC::roc.test(method = "delong", paired = TRUE)``
    (tests/reference/validity_prediction.R).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> a = y + rng.standard_normal(300); b = y + 2 * rng.standard_normal(300)
    >>> compare_auc(y, a, b).estimate > 0
    True
    """
    what = "compare_auc"
    ci = check_ci(ci)
    check_choice(alternative, "alternative", ("two-sided", "greater", "less"))
    na, nb_ = _name(score_a, "score_a"), _name(score_b, "score_b")
    if na == nb_:
        na, nb_ = na + "_a", nb_ + "_b"
    yv, cols, _, _ = _outcome_and_scores(y, {na: score_a, nb_: score_b}, what=what, missing=missing)
    sa, sb = cols[na], cols[nb_]
    da = _resolve_direction(yv, sa, direction, what, na)
    db = _resolve_direction(yv, sb, direction, what, nb_)
    if da != db:
        warnings.warn(
            f"{what}: the two scores run in different directions ('{da}' and '{db}'); DeLong's test should not be "
            "applied to ROC curves with a different direction (pROC warns too). Set direction explicitly.",
            UserWarning,
            stacklevel=2,
        )
    _few_events_warning(int(yv.sum()), int((1 - yv).sum()), what)
    oa, ob = _oriented(sa, da), _oriented(sb, db)
    auc_a, x_a, y_a = _placements(oa[yv == 1], oa[yv == 0])
    auc_b, x_b, y_b = _placements(ob[yv == 1], ob[yv == 0])
    m, n = len(x_a), len(y_a)
    SX = np.cov(np.vstack([x_a, x_b]), ddof=1)
    SY = np.cov(np.vstack([y_a, y_b]), ddof=1)
    S = SX / m + SY / n
    var = float(S[0, 0] + S[1, 1] - 2 * S[0, 1])
    se = float(np.sqrt(max(var, 0.0)))
    d = auc_a - auc_b
    if se == 0:
        zstat = 0.0 if d == 0 else float(np.sign(d) * np.inf)
    else:
        zstat = d / se
    if alternative == "two-sided":
        p = 2 * stats.norm.sf(abs(zstat))
    elif alternative == "greater":
        p = stats.norm.sf(zstat)
    else:
        p = stats.norm.cdf(zstat)
    zc = stats.norm.ppf(1 - (1 - ci) / 2)
    corr = float(S[0, 1] / np.sqrt(S[0, 0] * S[1, 1])) if S[0, 0] > 0 and S[1, 1] > 0 else float("nan")
    return AUCComparison(
        score_a=na, score_b=nb_, auc_a=auc_a, auc_b=auc_b, estimate=d, se=se, ci_low=d - zc * se,
        ci_high=d + zc * se, ci=ci, z=float(zstat), p_value=float(p), correlation=corr, n=int(len(yv)),
        n_events=int(m), n_nonevents=int(n), direction_a=da, direction_b=db,
    )


# ======================================================================= ROC curve
def _proc_thresholds(values: np.ndarray, direction: str) -> np.ndarray:
    """``pROC:::roc.utils.thresholds``: midpoints between sorted unique values, with -Inf / +Inf ends."""
    u = np.unique(values)
    lo = np.concatenate([[-np.inf], u])
    hi = np.concatenate([u, [np.inf]])
    with np.errstate(invalid="ignore", over="ignore"):
        t1 = (lo + hi) / 2
        t2 = lo / 2 + hi / 2
    t = np.where(np.abs(t1) > 1e100, t2, t1)
    ties = np.isin(t, values)
    for idx in np.flatnonzero(ties):
        if direction == ">":
            if t[idx] == u[idx]:
                t[idx] = u[idx - 1]
        else:
            if t[idx] == u[idx - 1]:
                t[idx] = u[idx]
    return t


def roc_curve(
    y: Any,
    score: Any,
    *,
    direction: Literal["auto", "<", ">"] = "auto",
    missing: Literal["error", "drop"] = "error",
) -> pd.DataFrame:
    """The empirical ROC curve: one row per threshold, as ``pROC::coords(roc, "all")``.

    Thresholds are pROC's: midpoints between consecutive distinct scores,
    plus -Inf and +Inf.  With direction ``"<"`` a person is classified as
    positive when ``score >= threshold`` (``">"``: ``score <= threshold``);
    rows run from the threshold classifying everyone positive to the one
    classifying no one positive.

    Returns columns ``threshold, sensitivity, specificity, tp, fp, tn, fn``.

    At each threshold ``c`` (direction ``"<"``)::

        sensitivity(c) = #{events with score >= c} / #events
        specificity(c) = #{non-events with score < c} / #non-events

    References
    ----------
    Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
    characteristic (ROC) curve. Radiology 143, 29-36.
    Robin X, Turck N, Hainard A, Tiberti N, Lisacek F, Sanchez JC, Muller M (2011). pROC: an
    open-source package for R and S+ to analyze and compare ROC curves. BMC Bioinformatics
    12, 77.
    Agrees with ``pROC::coords(roc, "all")`` (tests/reference/validity_prediction.R).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 0, 1, 1, 0, 1, 0, 1])
    >>> s = np.array([.1, .3, .35, .4, .6, .8, .2, .7, .5, .45])
    >>> from veplab.validity import roc_curve
    >>> roc_curve(y, s, direction="<").head(3)   # R: coords(roc(y, s, direction = "<"), "all")
       threshold  sensitivity  specificity  tp  fp  tn  fn
    0       -inf          1.0          0.0   5   5   0   0
    1       0.15          1.0          0.2   5   4   1   0
    2       0.25          1.0          0.4   5   3   2   0
    """
    what = "roc_curve"
    yv, cols, _, _ = _outcome_and_scores(y, {_name(score, "score"): score}, what=what, missing=missing)
    name, s = next(iter(cols.items()))
    d = _resolve_direction(yv, s, direction, what, name)
    t = _proc_thresholds(s, d)
    cases, controls = s[yv == 1], s[yv == 0]
    sc, sx = np.sort(controls), np.sort(cases)
    if d == "<":
        tp = len(sx) - np.searchsorted(sx, t, side="left")  # cases >= t
        tn = np.searchsorted(sc, t, side="left")  # controls < t
    else:
        t = t[::-1]
        tp = np.searchsorted(sx, t, side="right")  # cases <= t
        tn = len(sc) - np.searchsorted(sc, t, side="right")  # controls > t
    m, n = len(sx), len(sc)
    return pd.DataFrame(
        {
            "threshold": t,
            "sensitivity": tp / m,
            "specificity": tn / n,
            "tp": tp,
            "fp": n - tn,
            "tn": tn,
            "fn": m - tp,
        }
    )


_LINESTYLES = ["-", "--", ":", "-."]
_GREYS = ["black", "0.35", "0.55", "0.2"]


def plot_roc(
    y: Any,
    scores: Any,
    *,
    ax: Any = None,
    direction: Literal["auto", "<", ">"] = "auto",
    ci: float = 0.95,
    missing: Literal["error", "drop"] = "error",
) -> Any:
    """Plot ROC curves (sensitivity against 1 - specificity) with AUC and CI in the legend.

    ``scores`` is one score (array or Series) or several (a DataFrame or a
    dict of name -> score); curves differ by line style so the plot reads in
    greyscale.  Returns the matplotlib Axes.

    The operating points of :func:`roc_curve` are joined by straight lines,
    as ``plot.roc`` of pROC draws them: a threshold that moves cases and
    controls together (tied scores) gives a diagonal segment, so the area
    under the drawn curve (trapezoid rule) is exactly the AUC in the legend
    (a staircase would draw ties as if all cases ranked above the controls).
    A score with few values (up to 12 operating points) also shows its
    points.  The legend sits above the plot, off the curves.

    References
    ----------
    Robin X, et al. (2011). pROC: an open-source package for R and S+ to
    analyze and compare ROC curves. *BMC Bioinformatics*, 12, 77.
    Fawcett T (2006). An introduction to ROC analysis. *Pattern Recognition
    Letters*, 27, 861-874 (ties: section 5 and figure 6).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> risk = rng.integers(1, 4, 300)                                    # risk level 1, 2, 3
    >>> rearrested = (rng.random(300) < np.array([0.1, 0.25, 0.45])[risk - 1]).astype(int)
    >>> ax = plot_roc(rearrested, {"risk level": risk})
    >>> [line.get_label() for line in ax.get_lines()][0]                  # the legend gives AUC and interval
    'risk level: AUC 0.74 [0.68, 0.79]'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    if isinstance(scores, pd.DataFrame):
        items = {str(c): scores[c] for c in scores.columns}
    elif isinstance(scores, dict):
        items = dict(scores)
    else:
        items = {_name(scores, "score"): scores}
    for i, (name, s) in enumerate(items.items()):
        curve = roc_curve(y, s, direction=direction, missing=missing)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = roc_auc(y, s, direction=direction, ci=ci, missing=missing)
        # rows run from everyone positive (1, 1) to no one positive (0, 0): reversed, x increases
        fpr = 1 - curve["specificity"].to_numpy(dtype=float)[::-1]
        tpr = curve["sensitivity"].to_numpy(dtype=float)[::-1]
        ax.plot(
            fpr, tpr, color=_GREYS[i % len(_GREYS)], linestyle=_LINESTYLES[i % len(_LINESTYLES)], linewidth=1.6,
            marker="o" if len(fpr) <= 12 else None, markersize=4, clip_on=False,
            label=f"{name}: AUC {a.estimate:.2f} [{a.ci_low:.2f}, {a.ci_high:.2f}]",
        )
    ax.plot([0, 1], [0, 1], color="0.75", linewidth=0.8, linestyle="-", label="_chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("1 - specificity (false positive rate)")
    ax.set_ylabel("Sensitivity (true positive rate)")
    from ..plots.charts import legend_outside

    legend_outside(ax, fontsize="small")
    return ax


@dataclasses.dataclass(frozen=True)
class CalibrationResult(Result):
    """Calibration of predicted probabilities against observed binary outcomes.

    ``intercept``: calibration-in-the-large (CITL), the intercept of
    ``logit P(y) = a + logit(p)`` (0 is ideal; negative: predictions too
    high).  ``slope``: ``b`` in ``logit P(y) = a + b logit(p)`` (1 is ideal;
    below 1: predictions too extreme).  Intervals are Wald intervals
    (``confint.default``).  ``oe_ratio``: observed / expected events, with
    the interval ``exp(log(O/E) +- z sqrt(1/O - 1/N))`` (Debray et al. 2017).
    ``brier``: mean squared error of the probabilities; ``brier_scaled``:
    ``1 - brier / (ybar (1 - ybar))``.  ``table``: observed and expected
    events by groups of predicted risk.
    """

    intercept: float
    intercept_se: float
    intercept_ci_low: float
    intercept_ci_high: float
    slope: float
    slope_se: float
    slope_ci_low: float
    slope_ci_high: float
    oe_ratio: float
    oe_ci_low: float
    oe_ci_high: float
    observed: int
    expected: float
    brier: float
    brier_scaled: float
    mean_predicted: float
    base_rate: float
    n: int
    n_events: int
    ci: float
    converged: bool
    table: pd.DataFrame = dataclasses.field(repr=False)

    def summary(self) -> str:
        return "\n".join(
            [
                f"Calibration (n = {self.n}, {self.n_events} events; mean predicted {self.mean_predicted:.4f}, "
                f"observed {self.base_rate:.4f})",
                f"  calibration-in-the-large {self.intercept:.4f} [{self.intercept_ci_low:.4f}, {self.intercept_ci_high:.4f}]",
                f"  calibration slope        {self.slope:.4f} [{self.slope_ci_low:.4f}, {self.slope_ci_high:.4f}]",
                f"  O/E ratio                {self.oe_ratio:.4f} [{self.oe_ci_low:.4f}, {self.oe_ci_high:.4f}]",
                f"  Brier score              {self.brier:.4f} (scaled {self.brier_scaled:.4f})",
                self.table.to_string(float_format=lambda v: f"{v:.4f}"),
            ]
        )

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        return ModelFacts("calibration model (logistic)", self.n, float(self.n - 2), {},
                          ("outcome", {0: self.n - self.n_events, 1: self.n_events}))

    def plot(self, *, ax: Any = None) -> Any:
        """Observed against predicted risk by group with the ideal line: :func:`plot_calibration`."""
        return plot_calibration(self, ax=ax)


def _clopper_pearson(k: np.ndarray, n: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial interval (``binom.test``)."""
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    a = (1 - ci) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, stats.beta.ppf(a, k, n - k + 1), 0.0)
        hi = np.where(k < n, stats.beta.ppf(1 - a, k + 1, n - k), 1.0)
    return lo, hi


def _check_probabilities(p: np.ndarray, index: np.ndarray, what: str, name: str) -> None:
    bad = (p <= 0) | (p >= 1)
    if bad.any():
        raise InputError(
            f"{what}: {name} must be probabilities strictly between 0 and 1 (the calibration model uses "
            f"logit(p)); {int(bad.sum())} values are 0, 1 or outside ({format_rows(list(index[bad]))}). "
            "If these are scores rather than probabilities, use roc_auc for discrimination only."
        )


def _calibration_arrays(
    y: np.ndarray, p: np.ndarray, *, n_bins: int, ci: float, what: str
) -> tuple[dict[str, Any], pd.DataFrame]:
    n = len(y)
    lp = special.logit(p)
    z = stats.norm.ppf(1 - (1 - ci) / 2)
    one = np.ones((n, 1))
    with np.errstate(all="ignore"):  # logit P(y) = a + lp  and  logit P(y) = a + b lp  (R glm, binomial)
        fit0 = glm(one, y.astype(float), offset=lp, on_boundary="ignore", what=what)
        fit1 = glm(np.column_stack([one, lp]), y.astype(float), on_boundary="ignore", what=what)
    b0, c0, b1, c1 = fit0.coef, fit0.bread, fit1.coef, fit1.bread
    converged = all(f.converged and separated_terms(f, ["(Intercept)", "lp"][: f.X.shape[1]]) is None
                    for f in (fit0, fit1))
    if not converged:
        warnings.warn(
            f"{what}: the calibration regression did not converge (e.g. complete separation or very few "
            "events); intercept and slope are unreliable. Collect more events or report O/E only.",
            RuntimeWarning,
            stacklevel=3,
        )
    se0 = float(np.sqrt(c0[0, 0]))
    se1 = float(np.sqrt(c1[1, 1]))
    O = int(y.sum())
    E = float(p.sum())
    oe = O / E
    se_log_oe = np.sqrt(1 / O - 1 / n) if O > 0 else np.inf
    brier = float(np.mean((p - y) ** 2))
    ybar = O / n
    brier_scaled = 1 - brier / (ybar * (1 - ybar)) if 0 < ybar < 1 else float("nan")
    # groups of predicted risk (quantile bins, right-closed like R's cut(include.lowest = TRUE))
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    if len(edges) < 2:
        edges = np.array([p.min(), p.max()])
    bins = np.clip(np.searchsorted(edges[1:-1], p, side="left"), 0, len(edges) - 2)
    rows = []
    for b in range(len(edges) - 1):
        m = bins == b
        if not m.any():
            continue
        k = int(y[m].sum())
        nb = int(m.sum())
        lo, hi = _clopper_pearson(np.array([k]), np.array([nb]), ci)
        rows.append(
            {
                "bin": b + 1, "p_min": float(p[m].min()), "p_max": float(p[m].max()), "n": nb,
                "mean_predicted": float(p[m].mean()), "expected": float(p[m].sum()), "observed": k,
                "observed_rate": k / nb, "observed_ci_low": float(lo[0]), "observed_ci_high": float(hi[0]),
            }
        )
    table = pd.DataFrame(rows)
    out = {
        "intercept": float(b0[0]), "intercept_se": se0,
        "intercept_ci_low": float(b0[0] - z * se0), "intercept_ci_high": float(b0[0] + z * se0),
        "slope": float(b1[1]), "slope_se": se1,
        "slope_ci_low": float(b1[1] - z * se1), "slope_ci_high": float(b1[1] + z * se1),
        "oe_ratio": oe, "oe_ci_low": float(oe * np.exp(-z * se_log_oe)), "oe_ci_high": float(oe * np.exp(z * se_log_oe)),
        "observed": O, "expected": E, "brier": brier, "brier_scaled": float(brier_scaled),
        "mean_predicted": float(p.mean()), "base_rate": ybar, "n": n, "n_events": O, "ci": ci,
        "converged": bool(converged),
    }
    return out, table


def calibration(
    y: Any,
    prob: Any,
    *,
    n_bins: int = 10,
    ci: float = 0.95,
    missing: Literal["error", "drop"] = "error",
) -> CalibrationResult:
    """Calibration of predicted probabilities: CITL, slope, O/E, Brier score and a risk-group table.

    * calibration-in-the-large: ``glm(y ~ 1 + offset(qlogis(p)), family = binomial)``;
    * calibration slope: ``glm(y ~ qlogis(p), family = binomial)``;
    * Wald intervals ``estimate +- z SE`` (R's ``confint.default``);
    * observed/expected ratio ``sum(y) / sum(p)`` with a log-scale interval
      (``SE(log O/E) = sqrt(1/O - 1/N)``, Debray et al. 2017);
    * Brier score ``mean((p - y)^2)`` and its scaled version;
    * ``table``: ``n_bins`` groups of predicted risk cut at its quantiles
      (R's ``cut(p, unique(quantile(p, 0:n_bins / n_bins)), include.lowest =
      TRUE)``) with mean predicted risk, expected and observed events and an
      exact (Clopper-Pearson) interval for the observed rate.

    References
    ----------
    Van Calster B, McLernon DJ, van Smeden M, Wynants L, Steyerberg EW (2019). Calibration:
    the Achilles heel of predictive analytics. BMC Medicine 17, 230.
    Debray TPA, Damen JAAG, Snell KIE, et al. (2017). A guide to systematic review and
    meta-analysis of prediction model performance. BMJ 356, i6460.
    Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in
    the case of the binomial. Biometrika 26, 404-413.
    CITL and slope agree with R ``glm(family = binomial)`` fits and ``confint.default``, the
    risk-group intervals with ``binom.test`` (tests/reference/validity_prediction.R).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.6, 2000); y = (rng.random(2000) < p).astype(int)
    >>> abs(calibration(y, p).slope - 1) < 0.2
    True
    """
    what = "calibration"
    ci = check_ci(ci)
    if int(n_bins) != n_bins or n_bins < 2:
        raise InputError(f"{what}: n_bins must be an integer of at least 2, got {n_bins!r}")
    yv, cols, idx, _ = _outcome_and_scores(y, {_name(prob, "prob"): prob}, what=what, missing=missing)
    name, p = next(iter(cols.items()))
    _check_probabilities(p, idx, what, name)
    if min(yv.sum(), len(yv) - yv.sum()) < FEW_EVENTS:
        warnings.warn(
            f"{what}: only {int(min(yv.sum(), len(yv) - yv.sum()))} events or non-events; calibration intercept "
            "and slope are very imprecise -- report O/E with its interval and the number of events.",
            UserWarning,
            stacklevel=2,
        )
    out, table = _calibration_arrays(yv, p, n_bins=int(n_bins), ci=ci, what=what)
    return CalibrationResult(**out, table=table)


def plot_calibration(result: CalibrationResult, ax: Any = None) -> Any:
    """Calibration plot: observed rate (with exact intervals) against mean predicted risk by group.

    Points with error bars in black, the ideal diagonal in grey; the legend
    states CITL, slope and O/E.  Returns the matplotlib Axes.

    One point per risk group of :func:`calibration`: the mean predicted risk
    against the observed rate with its exact (Clopper-Pearson) interval; the
    legend gives calibration-in-the-large (``logit P(y = 1) = a + logit(p)``),
    the calibration slope (``logit P(y = 1) = a + b logit(p)``) and ``O/E = sum y / sum p``.

    Parameters
    ----------
    result : CalibrationResult
        The result of :func:`calibration`.
    ax : matplotlib Axes, optional
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InputError
        When ``result`` is not a :class:`CalibrationResult`.

    References
    ----------
    Van Calster B, McLernon DJ, van Smeden M, Wynants L, Steyerberg EW (2019). Calibration:
    the Achilles heel of predictive analytics. *BMC Medicine* 17, 230.
    Steyerberg EW (2019). *Clinical Prediction Models*, 2nd ed. Springer, ch. 15.
    Mirrors the grouped points of R ``rms::val.prob(p, y, g = 10)`` (observed against
    predicted by groups of predicted risk), with intervals.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, numpy as np
    >>> rng = np.random.default_rng(1)
    >>> p = rng.uniform(0.05, 0.6, 300); y = (rng.random(300) < p).astype(int)
    >>> ax = plot_calibration(calibration(y, p))
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['ideal', 'groups of predicted risk\\nCITL 0.02, slope 1.23, O/E 1.01']
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Predicted risk', 'Observed proportion')
    >>> plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt

    if not isinstance(result, CalibrationResult):
        raise InputError(f"plot_calibration: expected a CalibrationResult, got {type(result).__name__}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    t = result.table
    top = max(float(t["observed_ci_high"].max()), float(t["mean_predicted"].max())) * 1.05
    top = min(1.0, max(top, 0.05))
    ax.plot([0, top], [0, top], color="0.7", linewidth=0.9, label="ideal")
    ax.errorbar(
        t["mean_predicted"], t["observed_rate"],
        yerr=[t["observed_rate"] - t["observed_ci_low"], t["observed_ci_high"] - t["observed_rate"]],
        fmt="o", color="black", markerfacecolor="white", capsize=2, linewidth=1,
        label=(
            f"groups of predicted risk\nCITL {result.intercept:.2f}, slope {result.slope:.2f}, "
            f"O/E {result.oe_ratio:.2f}"
        ),
    )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("Predicted risk")
    ax.set_ylabel("Observed proportion")
    from ..plots.charts import legend_outside

    legend_outside(ax, fontsize="small")
    return ax


# ======================================================================= subgroups
def _group_frame(groups: Any, n: int, index: pd.Index, what: str) -> pd.DataFrame:
    if isinstance(groups, pd.Series):
        g = groups.to_frame(name=groups.name if groups.name is not None else "group")
    elif isinstance(groups, pd.DataFrame):
        g = groups
    else:
        arr = np.asarray(groups, dtype=object)
        g = pd.DataFrame({"group": arr} if arr.ndim == 1 else arr)
    if len(g) != n:
        raise InputError(f"{what}: groups has {len(g)} rows but y has {n}; pass group columns for the same people")
    if isinstance(groups, (pd.Series, pd.DataFrame)) and not g.index.equals(index):
        raise InputError(
            f"{what}: the index of groups differs from the index of y; align them first "
            "(e.g. groups.reindex(y.index)) so each group label belongs to its outcome"
        )
    if g.shape[1] == 0:
        raise InputError(f"{what}: groups has no columns")
    return g


@dataclasses.dataclass(frozen=True)
class SubgroupPerformance(TableResult):
    """Discrimination (and calibration) of a score by subgroup (:func:`subgroup_performance`).

    ``table`` has one row per (variable, group), the whole sample first
    (columns in :func:`subgroup_performance`); ``direction`` is the direction
    of the score fixed from the whole sample (``"<"``: higher scores in
    events), ``ci`` the level of every interval, ``n_boot``/``seed`` the
    bootstrap used in groups with few events.
    """

    direction: str = "<"
    ci: float = 0.95
    n: int = 0
    n_boot: int = 2000
    seed: int | None = None
    calibration: bool = False

    _summary_columns = ("variable", "group", "reference", "n", "n_events", "auc", "auc_ci_low", "auc_ci_high",
                        "auc_method", "auc_diff", "auc_diff_p_value", "cal_oe_ratio", "note")

    def _title(self) -> str:
        return (f"AUC by subgroup (n = {self.n}, direction {self.direction!r}, {self.ci:.0%} intervals; "
                "differences from each variable's reference group)")

    def plot(self, *, ax: Any = None) -> Any:
        """The AUC of each subgroup with its interval (reference line at 0.5); the Figure."""
        from ..plots import plot_intervals

        t = self.table
        label = ["All" if v == "(all)" else f"{v}: {g}" for v, g in zip(t["variable"], t["group"])]
        frame = t[["auc", "auc_ci_low", "auc_ci_high"]].set_axis(label, axis=0)
        return plot_intervals(frame, estimate="auc", low="auc_ci_low", high="auc_ci_high", ref=0.5, ax=ax,
                              xlabel=f"AUC ({self.ci:.0%} interval)", missing_label="AUC undefined")


def subgroup_performance(
    y: Any,
    score: Any,
    groups: Any,
    *,
    prob: Any = None,
    ci: float = 0.95,
    direction: Literal["auto", "<", ">"] = "auto",
    reference: dict[str, Any] | None = None,
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    missing: Literal["error", "drop"] = "error",
) -> SubgroupPerformance:
    """Discrimination (and calibration) of a score by subgroup, with gaps to a reference group.

    For each grouping column (e.g. gender, age band, country) and each of its
    groups: ``n``, events, base rate with an exact (Clopper-Pearson)
    interval, the AUC with its interval, and the difference in AUC from the
    reference group (default: the largest group of that column) with an
    interval and p value.  A first row ``(all)`` gives the whole sample.

    * AUC intervals are DeLong's, except in groups with fewer than
      :data:`FEW_EVENTS` events or non-events, where the stratified bootstrap
      is used (column ``auc_method``).
    * Differences between groups (independent samples) use the unpaired
      DeLong test as ``pROC::roc.test(paired = FALSE)``:
      ``t = (AUC_g - AUC_ref) / sqrt(V_g + V_ref)`` with Welch-Satterthwaite
      degrees of freedom, and the interval ``difference +- t_df SE``; when
      either group is bootstrapped, both are resampled independently and the
      interval is the percentile interval of the bootstrap differences (p from
      ``D = difference / SD``, as pROC's bootstrap test).
    * The direction of the score is fixed once from the whole sample, so
      subgroup AUCs are comparable (pROC's "auto" would re-decide per group).
    * A group with only events or only non-events gets a row with AUC
      undefined and a ``note`` saying why -- not an error.
    * With ``prob`` (predicted probabilities), calibration-in-the-large,
      slope, O/E and Brier score per group are added (``cal_*`` columns).

    ``groups`` is a Series or a DataFrame of group columns (missing group
    labels are reported as their own group ``"(missing)"``).

    Returns a :class:`SubgroupPerformance` whose ``table`` has one row per (variable, group);
    ``.plot()`` draws the subgroup AUCs with their intervals.

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
    correlated receiver operating characteristic curves: a nonparametric approach.
    Biometrics 44, 837-845.
    Robin X, Turck N, Hainard A, Tiberti N, Lisacek F, Sanchez JC, Muller M (2011). pROC: an
    open-source package for R and S+ to analyze and compare ROC curves. BMC Bioinformatics
    12, 77.
    Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in
    the case of the binomial. Biometrika 26, 404-413.
    The unpaired difference agrees with ``pROC::roc.test(paired = FALSE)``
    (tests/reference/validity_prediction.R).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 0, 1, 1, 0, 1, 0, 1])
    >>> s = np.array([.1, .3, .35, .4, .6, .8, .2, .7, .5, .45])
    >>> import pandas as pd, warnings
    >>> from veplab.validity import subgroup_performance
    >>> g = pd.Series(list("ababababab"), name="g")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")   # few events: bootstrap intervals, with a warning
    ...     out = subgroup_performance(y, s, g, direction="<", n_boot=200, seed=1)
    >>> out.table[["variable", "group", "n", "n_events", "auc"]].round(4)
      variable  group   n  n_events     auc
    0    (all)  (all)  10         5  0.8800
    1        g      a   5         2  0.8333
    2        g      b   5         3  1.0000
    """
    what = "subgroup_performance"
    ci = check_ci(ci)
    nb = _check_n_boot(n_boot)
    scores = {_name(score, "score"): score}
    if prob is not None:
        scores["__prob__"] = prob
    ys = numeric_series(y, what=what, name="y")
    g_all = _group_frame(groups, len(ys), ys.index, what)
    yv, cols, kept, keep_mask = _outcome_and_scores(y, scores, what=what, missing=missing)
    g_all = g_all.iloc[np.flatnonzero(keep_mask)]
    sname = next(iter(k for k in cols if k != "__prob__"))
    s = cols[sname]
    p = cols.get("__prob__")
    if p is not None:
        _check_probabilities(p, kept, what, _name(prob, "prob"))
    d = _resolve_direction(yv, s, direction, what, sname)
    gen = make_rng(seed)

    def one(mask: np.ndarray, variable: str, level: Any) -> dict[str, Any]:
        yy, ss = yv[mask], s[mask]
        n = int(mask.sum())
        k = int(yy.sum())
        lo, hi = _clopper_pearson(np.array([k]), np.array([n]), ci)
        row: dict[str, Any] = {
            "variable": variable, "group": level, "n": n, "n_events": k,
            "base_rate": k / n if n else float("nan"),
            "base_rate_ci_low": float(lo[0]) if n else float("nan"),
            "base_rate_ci_high": float(hi[0]) if n else float("nan"),
            "auc": float("nan"), "auc_se": float("nan"), "auc_ci_low": float("nan"), "auc_ci_high": float("nan"),
            "auc_method": None, "note": "",
        }
        row["_v"] = None
        if k == 0 or k == n:
            row["note"] = (
                f"AUC undefined: {'no events' if k == 0 else 'no non-events'} in this group "
                f"({k} events among {n})"
            )
        else:
            few = min(k, n - k) < FEW_EVENTS
            method = "bootstrap" if few else "delong"
            r = _auc_from_arrays(yy, ss, d, ci=ci, method=method, n_boot=nb, gen=gen)
            row.update(auc=r["estimate"], auc_se=r["se"], auc_ci_low=r["ci_low"], auc_ci_high=r["ci_high"],
                       auc_method=method)
            if few:
                row["note"] = f"only {min(k, n - k)} {'events' if k <= n - k else 'non-events'}: bootstrap interval, interpret with caution"
            o = _oriented(ss, d)
            row["_v"] = {"method": method, "auc": r["estimate"], "v10": r["v10"], "v01": r["v01"],
                         "cases": o[yy == 1], "controls": o[yy == 0], "boots": r["boots"]}
        if p is not None:
            pp = p[mask]
            if 0 < k < n:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    cal, _ = _calibration_arrays(yy, pp, n_bins=2, ci=ci, what=what)
                row.update(
                    cal_intercept=cal["intercept"], cal_intercept_ci_low=cal["intercept_ci_low"],
                    cal_intercept_ci_high=cal["intercept_ci_high"], cal_slope=cal["slope"],
                    cal_slope_ci_low=cal["slope_ci_low"], cal_slope_ci_high=cal["slope_ci_high"],
                    cal_oe_ratio=cal["oe_ratio"], cal_oe_ci_low=cal["oe_ci_low"], cal_oe_ci_high=cal["oe_ci_high"],
                    cal_brier=cal["brier"],
                )
                if caught:
                    row["note"] = (row["note"] + "; " if row["note"] else "") + "calibration regression did not converge"
            else:
                nan = float("nan")
                row.update(
                    cal_intercept=nan, cal_intercept_ci_low=nan, cal_intercept_ci_high=nan, cal_slope=nan,
                    cal_slope_ci_low=nan, cal_slope_ci_high=nan,
                    cal_oe_ratio=(k / float(pp.sum())) if n else nan, cal_oe_ci_low=nan, cal_oe_ci_high=nan,
                    cal_brier=float(np.mean((pp - yy) ** 2)) if n else nan,
                )
        return row

    def gap(row: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
        nan = float("nan")
        out: dict[str, Any] = {"auc_diff": nan, "auc_diff_ci_low": nan, "auc_diff_ci_high": nan, "auc_diff_p_value": nan,
               "auc_diff_method": None}
        a, b = row["_v"], ref["_v"]
        if a is None or b is None:
            return out
        diff = a["auc"] - b["auc"]
        if a["method"] == "delong" and b["method"] == "delong":
            va = _delong_var(a["v10"], a["v01"])
            vb = _delong_var(b["v10"], b["v01"])
            se = np.sqrt(va + vb)
            na_, nb_ = len(a["v10"]) + len(a["v01"]), len(b["v10"]) + len(b["v01"])
            df = (va + vb) ** 2 / (va**2 / (na_ - 1) + vb**2 / (nb_ - 1))
            tq = stats.t.ppf(1 - (1 - ci) / 2, df)
            t = diff / se
            out.update(auc_diff=diff, auc_diff_ci_low=diff - tq * se, auc_diff_ci_high=diff + tq * se,
                       auc_diff_p_value=float(2 * stats.t.sf(abs(t), df)), auc_diff_method="delong (unpaired)")
        else:
            ba = a["boots"] if a["boots"] is not None else _boot_aucs(a["cases"], a["controls"], nb, gen)
            bb = b["boots"] if b["boots"] is not None else _boot_aucs(b["cases"], b["controls"], nb, gen)
            dd = ba - bb
            sd = np.std(dd, ddof=1)
            lo, hi = np.quantile(dd, [(1 - ci) / 2, 1 - (1 - ci) / 2])
            pval = float(2 * stats.norm.sf(abs(diff / sd))) if sd > 0 else float("nan")
            out.update(auc_diff=diff, auc_diff_ci_low=float(lo), auc_diff_ci_high=float(hi),
                       auc_diff_p_value=pval, auc_diff_method="bootstrap (stratified, independent)")
        return out

    rows = []
    overall = one(np.ones(len(yv), bool), "(all)", "(all)")
    overall.update(reference=False)
    overall.update({"auc_diff": float("nan"), "auc_diff_ci_low": float("nan"), "auc_diff_ci_high": float("nan"),
                    "auc_diff_p_value": float("nan"), "auc_diff_method": None})
    rows.append(overall)
    for col in g_all.columns:
        labels = g_all[col].astype(object).where(g_all[col].notna(), "(missing)").to_numpy()
        levels = list(pd.unique(labels))
        try:
            levels = sorted(levels, key=lambda v: (str(type(v)), v))
        except TypeError:
            pass
        grp_rows = {lev: one(labels == lev, str(col), lev) for lev in levels}
        if reference is not None and col in reference:
            ref_level = reference[col]
            if ref_level not in grp_rows:
                raise InputError(f"{what}: reference group {ref_level!r} not found in column {col!r}; groups are {levels}")
        else:
            valid = [lev for lev in levels if grp_rows[lev]["_v"] is not None]
            pool = valid or levels
            ref_level = max(pool, key=lambda lev: grp_rows[lev]["n"])
        for lev in levels:
            r = grp_rows[lev]
            r["reference"] = lev == ref_level
            if lev == ref_level:
                r.update({"auc_diff": 0.0 if r["_v"] is not None else float("nan"), "auc_diff_ci_low": float("nan"),
                          "auc_diff_ci_high": float("nan"), "auc_diff_p_value": float("nan"), "auc_diff_method": "reference"})
            else:
                r.update(gap(r, grp_rows[ref_level]))
            rows.append(r)
    for r in rows:
        r.pop("_v", None)
    out = pd.DataFrame(rows)
    first = ["variable", "group", "reference", "n", "n_events", "base_rate", "base_rate_ci_low", "base_rate_ci_high",
             "auc", "auc_se", "auc_ci_low", "auc_ci_high", "auc_method", "auc_diff", "auc_diff_ci_low",
             "auc_diff_ci_high", "auc_diff_p_value", "auc_diff_method"]
    rest = [c for c in out.columns if c not in first and c != "note"]
    out = out[first + rest + ["note"]]
    return SubgroupPerformance(table=out, direction=d, ci=ci, n=int(len(yv)), n_boot=nb,
                               seed=seed if isinstance(seed, (int, np.integer)) else None, calibration=p is not None)
