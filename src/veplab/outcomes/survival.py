"""Survival analysis of time to re-arrest: Kaplan-Meier, log-rank, Cox.

Everything here is computed by veplab itself and checked against R
``survival`` (3.5): ``survfit`` (Kaplan-Meier with Greenwood variance and
``conf.type`` intervals, medians with intervals as ``print.survfit``),
``survdiff`` (log-rank), ``coxph`` (Efron or Breslow ties, case weights,
strata, ``cluster()``, robust variance, concordance with its infinitesimal
jackknife standard error) and ``cox.zph`` (the score test of survival >= 3.0).

Robust variance, as ``coxph`` decides it
----------------------------------------
``coxph`` uses the robust (sandwich, grouped-jackknife) variance when a
``cluster`` is given, or when the case weights are not all integers
(propensity weights are not); integer weights alone are treated as frequency
weights with the model-based variance.  ``cox(robust=None)`` follows the same
rule; ``robust=True/False`` overrides it.  The robust variance is
``D'D`` with ``D`` the weighted dfbeta residuals (score residuals times the
inverse information, times the case weight), summed within clusters.  No
small-sample factor is applied (as in R).

Differences from R
------------------
R's ``coxph`` first merges times that differ only by floating-point noise
(``timefix``/``aeqSurv``); veplab compares times exactly.  With durations in
whole days or weeks this never matters.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import linalg, stats

from .._results import Estimate, Result, TableResult
from .._validate import InputError, check_ci, check_choice, format_rows
from ._common import (design_columns, level_counts, numeric_column, require_columns, require_frame, sorted_levels,
                      z_crit)
from ..privacy.outputs import ModelFacts

__all__ = [
    "kaplan_meier",
    "KaplanMeier",
    "logrank",
    "Logrank",
    "cox",
    "CoxResult",
    "cox_zph",
    "ZphResult",
    "concordance",
    "ConcordanceResult",
    "plot_km",
    "truncate_at_risk",
]


# =========================================================================== input
def _surv_arrays(df: pd.DataFrame, duration: Any, event: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    t = numeric_column(df, duration, what)
    e = numeric_column(df, event, what)
    bad_t = t.isna()
    if bad_t.any():
        raise InputError(
            f"{what}: duration column {duration!r} is missing in {int(bad_t.sum())} rows "
            f"({format_rows(list(df.index[bad_t]))}); find the follow-up time for them or drop "
            f"those rows explicitly (df.dropna(subset=[{duration!r}])) and report it"
        )
    neg = t < 0
    if neg.any():
        raise InputError(
            f"{what}: duration column {duration!r} has {int(neg.sum())} negative values "
            f"({format_rows(list(df.index[neg]))}); durations are time from start of follow-up "
            f"(e.g. release) to the event or censoring, so check the dates they come from"
        )
    if not np.isfinite(t.to_numpy()).all():
        raise InputError(f"{what}: duration column {duration!r} has infinite values")
    bad_e = e.isna()
    if bad_e.any():
        raise InputError(
            f"{what}: event column {event!r} is missing in {int(bad_e.sum())} rows "
            f"({format_rows(list(df.index[bad_e]))}); code 1 = event observed (re-arrest), "
            f"0 = censored, or drop those rows explicitly"
        )
    not01 = ~e.isin([0.0, 1.0])
    if not01.any():
        raise InputError(
            f"{what}: event column {event!r} must be 0 (censored) or 1 (event); "
            f"{int(not01.sum())} rows have other values ({format_rows(list(df.index[not01]))})"
        )
    if e.sum() == 0:
        raise InputError(
            f"{what}: no events: every one of the {len(e)} rows in {event!r} is censored (0). "
            f"Nothing can be estimated about time to event; check the event coding "
            f"(1 = re-arrest) or lengthen follow-up"
        )
    return t.to_numpy(dtype=float), e.to_numpy(dtype=float)


def _group_labels(df: pd.DataFrame, group: Any, what: str) -> tuple[np.ndarray, list[Any]]:
    g = df[group]
    if g.isna().any():
        raise InputError(f"{what}: group column {group!r} is missing in {int(g.isna().sum())} rows "
                         f"({format_rows(list(df.index[g.isna()]))}); recode or drop them")
    levels = sorted_levels(g)
    codes = np.asarray(pd.Categorical(g, categories=levels).codes, dtype=int)
    return codes, levels


def _strata_codes(df: pd.DataFrame, strata: Any, n: int, what: str) -> np.ndarray:
    """Integer stratum codes of the ``n`` rows (all 0 without ``strata``)."""
    if strata is None:
        return np.zeros(n, dtype=int)
    return _group_labels(df, strata, what)[0]


# =========================================================================== Kaplan-Meier
def _km_curve(t: np.ndarray, e: np.ndarray, w: np.ndarray | None = None) -> pd.DataFrame:
    w = np.ones_like(t) if w is None else w
    times = np.unique(t)
    idx = np.searchsorted(times, t)
    n_event = np.bincount(idx, weights=w * e, minlength=len(times))
    n_cens = np.bincount(idx, weights=w * (1 - e), minlength=len(times))
    n_at = np.bincount(idx, weights=w, minlength=len(times))
    n_risk = np.cumsum(n_at[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        haz = np.where(n_event > 0, n_event / n_risk, 0.0)
        surv = np.cumprod(1 - haz)
        gw = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    var = np.cumsum(gw)
    return pd.DataFrame({"time": times, "n_risk": n_risk, "n_event": n_event, "n_censor": n_cens,
                         "surv": surv, "se_log": np.sqrt(var)})


def _conf_limits(p: np.ndarray, se: np.ndarray, conf_type: str, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """R ``survival:::survfit_confint`` with ``logse = TRUE``."""
    z = z_crit(ci)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "none":
            return np.full_like(p, np.nan), np.full_like(p, np.nan)
        if conf_type == "plain":
            se2 = se * p * z
            return np.maximum(p - se2, 0), np.minimum(p + se2, 1)
        if conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            se2 = z * se
            return np.exp(np.log(xx) - se2), np.minimum(np.exp(np.log(xx) + se2), 1)
        if conf_type == "log-log":
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            se2 = z * se / np.log(xx)
            return np.exp(-np.exp(np.log(-np.log(xx)) - se2)), np.exp(-np.exp(np.log(-np.log(xx)) + se2))
        if conf_type == "logit":
            xx = np.where(p == 0, np.nan, p)
            se2 = z * se * (1 + xx / (1 - xx))
            lg = np.log(p / (1 - p))
            return 1 - 1 / (1 + np.exp(lg - se2)), 1 - 1 / (1 + np.exp(lg + se2))
        if conf_type == "arcsin":
            xx = np.where(p == 0, np.nan, p)
            se2 = 0.5 * z * se * np.sqrt(xx / (1 - xx))
            a = np.arcsin(np.sqrt(xx))
            return np.sin(np.maximum(0, a - se2)) ** 2, np.sin(np.minimum(np.pi / 2, a + se2)) ** 2
    raise InputError(f"unknown conf_type {conf_type!r}")  # pragma: no cover


def _minmin(y: np.ndarray, x: np.ndarray) -> float:
    """First time the curve is <= 0.5 (midpoint rule on an exact 0.5), as print.survfit."""
    tol = math.sqrt(np.finfo(float).eps)
    keep = ~np.isnan(y) & (y < 0.5 + tol)
    if not keep.any():
        return float("nan")
    xk, yk = x[keep], y[keep]
    if abs(yk[0] - 0.5) < tol and np.any(yk < yk[0]):
        return float((xk[0] + xk[np.argmax(yk < yk[0])]) / 2)
    return float(xk[0])


@dataclasses.dataclass(frozen=True)
class KaplanMeier(Result):
    """Kaplan-Meier estimates (R ``survfit(Surv(time, event) ~ group)``).

    After :func:`truncate_at_risk`, ``min_at_risk`` is set and ``truncated_at`` maps each group to the last
    time its curve is shown (``None``: the whole curve is shown; ``0.0``: none
    of it, the group never had ``min_at_risk`` people); :meth:`survival_at`
    and :meth:`risk_table` then give NaN after that time.
    """

    n: int
    n_events: int
    ci: float
    conf_type: str
    table: pd.DataFrame = dataclasses.field(repr=False)
    medians: pd.DataFrame = dataclasses.field(repr=False)
    groups: tuple = ()
    group_name: Any = None
    min_at_risk: int | None = None
    truncated_at: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def _hidden_after(self, g: Any) -> float | None:
        """Time after which group ``g``'s curve is not shown (None: shown to the end)."""
        cut = self.truncated_at.get(g)
        return None if cut is None else float(cut)

    def survival_at(self, times: Sequence[float]) -> pd.DataFrame:
        """S(t) with interval and numbers at risk at ``times`` (R ``summary(fit, times=)``).

        On a truncated result (:func:`truncate_at_risk`) every value after the
        time a group's curve stops is NaN (fewer than ``min_at_risk`` people
        remained at risk there).
        """
        rows = []
        for g in self.groups:
            tab = self.table[self.table["group"] == g]
            tt = tab["time"].to_numpy()
            cut = self._hidden_after(g)
            for x in times:
                if cut is not None and (x > cut or len(tab) == 0):
                    rows.append({"group": g, "time": x, "n_risk": float("nan"), "surv": float("nan"),
                                 "std_err": float("nan"), "lower": float("nan"), "upper": float("nan")})
                    continue
                k = np.searchsorted(tt, x, side="right") - 1
                after = tab[tab["time"] >= x]
                n_risk = float(after["n_risk"].iloc[0]) if len(after) else 0.0
                if k < 0:
                    rows.append({"group": g, "time": x, "n_risk": n_risk, "surv": 1.0, "std_err": 0.0,
                                 "lower": 1.0, "upper": 1.0})
                else:
                    r = tab.iloc[k]
                    rows.append({"group": g, "time": x, "n_risk": n_risk, "surv": r["surv"],
                                 "std_err": r["std_err"], "lower": r["lower"], "upper": r["upper"]})
        return pd.DataFrame(rows)

    def risk_table(self, times: Sequence[float]) -> pd.DataFrame:
        """Numbers at risk (time >= t) per group at ``times``: groups as rows, times as columns.

        On a truncated result, NaN after the time a group's curve stops.
        """
        tab = self.survival_at(times)
        out = tab.pivot(index="group", columns="time", values="n_risk")
        out = out.loc[list(self.groups)]
        return out

    def summary(self) -> str:
        lines = [f"Kaplan-Meier ({self.conf_type} intervals, {self.ci:.0%})"]
        for r in self.medians.itertuples(index=False):
            lines.append(f"  {str(r.group):<16} n={int(r.n)} events={int(r.events)} "
                         f"median={r.median:.6g} [{r.lower:.6g}, {r.upper:.6g}]")
        return "\n".join(lines)

    def disclosure_facts(self) -> str:
        """A Kaplan-Meier result is not a model: why :func:`veplab.privacy.model_disclosure` refuses it."""
        return ("a Kaplan-Meier result is a set of curves, not a model: stop the curves with "
                "truncate_at_risk(km, threshold) and publish its table through the count gate")

    def plot(self, **kwargs: Any) -> Any:
        """The survival curves with intervals and a risk table: :func:`plot_km` (keywords pass through)."""
        return plot_km(self, **kwargs)


def kaplan_meier(
    df: pd.DataFrame,
    duration: Any,
    event: Any,
    group: Any = None,
    *,
    ci: float = 0.95,
    conf_type: str = "log",
) -> KaplanMeier:
    """Kaplan-Meier survival curves with Greenwood intervals, as R ``survfit``.

    ``conf_type`` is R's ``conf.type``: ``"log"`` (R's default), ``"log-log"``,
    ``"plain"``, ``"logit"``, ``"arcsin"`` or ``"none"``.  ``std_err`` in the
    table is the standard error of S(t) (as ``summary.survfit`` prints it,
    ``S * sqrt(sum d / (n (n - d)))``); ``se_log`` is that of -log S(t).
    Medians and their intervals follow ``print.survfit``: the first time the
    curve (or its lower / upper limit) is at or below 0.5, with the midpoint
    rule when it equals 0.5 exactly; NaN when it never gets there.

    With ``d_j`` events among ``n_j`` at risk at the event times ``t_j``::

        S(t) = prod_(t_j <= t) (1 - d_j / n_j)
        var(log S(t)) = sum_(t_j <= t) d_j / (n_j (n_j - d_j))     (Greenwood)

    and the ``"log"`` interval ``S(t) exp(-/+ z se_log)`` (R's default).

    References
    ----------
    Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations.
    Journal of the American Statistical Association 53, 457-481.
    Greenwood M (1926). The natural duration of cancer. Reports on Public Health and
    Medical Subjects 33, 1-26. HMSO, London.
    Therneau TM (2023). A Package for Survival Analysis in R. R package survival
    version 3.5-3. Agrees with
    ``survfit`` and ``print.survfit``/``summary.survfit`` (tests/reference/outcomes.R).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 0, 1, 0, 1]})
    >>> float(kaplan_meier(d, "t", "e").medians["median"][0])   # R survfit: 4
    4.0
    """
    df = require_frame(df, "kaplan_meier")
    ci = check_ci(ci)
    check_choice(conf_type, "conf_type", ("log", "log-log", "plain", "logit", "arcsin", "none"))
    require_columns(df, [duration, event, group], "kaplan_meier")
    t, e = _surv_arrays(df, duration, event, "kaplan_meier")
    if group is None:
        codes, levels = np.zeros(len(t), dtype=int), ["all"]
    else:
        codes, levels = _group_labels(df, group, "kaplan_meier")
    tabs, meds = [], []
    for k, lev in enumerate(levels):
        m = codes == k
        tab = _km_curve(t[m], e[m])
        lo, hi = _conf_limits(tab["surv"].to_numpy(), tab["se_log"].to_numpy(), conf_type, ci)
        tab["std_err"] = tab["surv"] * tab["se_log"]
        tab["lower"], tab["upper"] = lo, hi
        tab.insert(0, "group", lev)
        tabs.append(tab)
        x = tab["time"].to_numpy()
        meds.append({"group": lev, "n": int(m.sum()), "events": int(e[m].sum()),
                     "median": _minmin(tab["surv"].to_numpy(), x),
                     "lower": _minmin(lo, x) if conf_type != "none" else float("nan"),
                     "upper": _minmin(hi, x) if conf_type != "none" else float("nan")})
    table = pd.concat(tabs, ignore_index=True)
    table = table[["group", "time", "n_risk", "n_event", "n_censor", "surv", "std_err", "se_log",
                   "lower", "upper"]]
    return KaplanMeier(n=len(t), n_events=int(e.sum()), ci=ci, conf_type=conf_type, table=table,
                       medians=pd.DataFrame(meds), groups=tuple(levels), group_name=group)


def _check_min_at_risk(min_at_risk: Any) -> int:
    if isinstance(min_at_risk, bool) or not isinstance(min_at_risk, (int, np.integer)) or min_at_risk < 1:
        raise InputError(
            f"min_at_risk must be a whole number of people of at least 1 (the study's disclosure threshold, "
            f"e.g. 10), got {min_at_risk!r}"
        )
    return int(min_at_risk)


def _curve_cut(times: np.ndarray, n_risk: np.ndarray, min_at_risk: int) -> tuple[int, float | None]:
    """(rows to keep, time the curve stops or None) for one curve sorted by time."""
    below = np.flatnonzero(n_risk < min_at_risk)
    if len(below) == 0:
        return len(times), None
    k = int(below[0])
    return k, (float(times[k - 1]) if k > 0 else 0.0)


def _earlier(a: float | None, b: float | None) -> float | None:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a
    return min(a, b)


def truncate_at_risk(km: Any, min_at_risk: int) -> Any:
    """Stop each survival curve where fewer than ``min_at_risk`` people remain at risk.

    Rule: the Kaplan-Meier estimate at an event time ``t_i`` rests on the
    ``n_risk(t_i)`` people still followed just before ``t_i``; once that falls
    below ``min_at_risk``, every later step describes fewer people than that
    (and the step times are their event or censoring times).  So each curve
    (per group) keeps its rows up to the last time ``t`` with
    ``n_risk(t) >= min_at_risk`` -- the step at that time included, values
    unchanged -- and drops the first row with ``n_risk < min_at_risk`` and
    everything after it.  The curve stops at that last kept time (the
    ``truncated_at`` time): it is not drawn on to the next event, which would
    show when one of the few remaining people had it.  With ``min_at_risk`` set
    to the study's disclosure threshold this is the survival-curve rule of
    output checking: ACRO/SACRO check survival tables and plots against their
    own threshold (``survival_safe_threshold``, default 10); Hundepool et al.
    (2012), *Statistical Disclosure Control*, on threshold rules for output.
    It is also the usual statistical advice (curve tails resting on a handful
    of people are noise; Pocock, Clayton & Altman 2002, *Lancet* 359: 1686).

    Parameters
    ----------
    km : a :class:`KaplanMeier` result; its ``table`` (or a frame like it:
        ``time`` and ``n_risk`` columns, optionally ``group``); or a numbers-
        at-risk table from :meth:`KaplanMeier.risk_table` (groups as rows,
        times as columns).
    min_at_risk : the smallest number at risk shown (e.g. the study's
        disclosure threshold).

    Returns
    -------
    The same type.  A :class:`KaplanMeier` comes back with its table cut,
    ``min_at_risk`` set, ``truncated_at`` = ``{group: last time shown}``
    (``None`` when the curve was not cut, ``0.0`` when nothing of it is
    shown), medians and their limits beyond the cut set to NaN, and
    :meth:`~KaplanMeier.survival_at` / :meth:`~KaplanMeier.risk_table` giving
    NaN after the cut.  A curve table comes back cut, with a ``truncated_at``
    column (NaN: not cut).  A numbers-at-risk table comes back with the
    numbers below ``min_at_risk``, and every later one in the row, as NaN.
    Truncating twice keeps the earlier cut.

    The counts at the last kept time (``n_risk``, ``n_event``, ``n_censor``)
    still let a reader work out how many people remained after it (fewer than
    ``min_at_risk``): publish count columns through the count gate, or only
    ``time``, ``surv`` and its interval.

    Each curve keeps the rows with ``time <= t_stop``, where::

        t_stop = max{ t : n_risk(t) >= min_at_risk }   (all earlier rows also at or above it)

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester.
    Pocock SJ, Clayton TC, Altman DG (2002). Survival plots of time-to-event outcomes in
    clinical trials: good practice and pitfalls. Lancet 359, 1686-1689.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 0, 1, 0, 1]})
    >>> cut = truncate_at_risk(kaplan_meier(d, "t", "e"), 4)
    >>> list(cut.table["time"]), cut.truncated_at
    ([1.0, 2.0, 3.0], {'all': 3.0})
    """
    m = _check_min_at_risk(min_at_risk)
    if isinstance(km, KaplanMeier):
        if km.min_at_risk is not None:
            m = max(m, km.min_at_risk)
        keep = np.zeros(len(km.table), dtype=bool)
        cuts: dict[Any, float | None] = {}
        for g in km.groups:
            idx = np.flatnonzero((km.table["group"] == g).to_numpy())
            sub = km.table.iloc[idx]
            k, cut = _curve_cut(sub["time"].to_numpy(dtype=float), sub["n_risk"].to_numpy(dtype=float), m)
            keep[idx[:k]] = True
            cuts[g] = _earlier(km.truncated_at.get(g), cut)
        medians = km.medians.copy()
        for col in ("median", "lower", "upper"):
            if col in medians.columns:
                vals = medians[col].to_numpy(dtype=float).copy()
                for i, g in enumerate(medians["group"]):
                    c = cuts.get(g)
                    if c is not None and vals[i] > c:
                        vals[i] = np.nan
                medians[col] = vals
        return dataclasses.replace(km, table=km.table.loc[keep].reset_index(drop=True), medians=medians,
                                   min_at_risk=m, truncated_at=cuts)
    if not isinstance(km, pd.DataFrame):
        raise InputError(f"truncate_at_risk: expected a KaplanMeier result or a DataFrame, got {type(km).__name__}")
    if {"time", "n_risk"} <= set(km.columns):
        frame = km
        groups = frame["group"] if "group" in frame.columns else pd.Series(0, index=frame.index)
        keep = pd.Series(False, index=frame.index)
        cut_col = pd.Series(np.nan, index=frame.index, dtype=float)
        for _, sub in frame.groupby(groups, sort=False, dropna=False):
            sub = sub.sort_values("time", kind="stable")
            k, cut = _curve_cut(sub["time"].to_numpy(dtype=float), sub["n_risk"].to_numpy(dtype=float), m)
            if "truncated_at" in sub.columns and len(sub):
                cut = _earlier(float(sub["truncated_at"].iloc[0]), cut)
            keep.loc[sub.index[:k]] = True
            cut_col.loc[sub.index] = np.nan if cut is None else cut
        out = frame.loc[keep].copy()
        out["truncated_at"] = cut_col.loc[keep]
        return out
    try:
        times = pd.to_numeric(pd.Index(km.columns), errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            "truncate_at_risk: a DataFrame must be a Kaplan-Meier table (columns 'time' and 'n_risk', "
            "optionally 'group') or a numbers-at-risk table (groups as rows, times as columns)"
        ) from None
    order = np.argsort(times, kind="stable")
    vals = km.to_numpy(dtype=float)[:, order]
    hidden = np.logical_or.accumulate(~(vals >= m), axis=1)  # below m (or already NaN), and everything after
    vals[hidden] = np.nan
    out = km.astype(float).copy()
    out.iloc[:, order] = vals
    return out


# =========================================================================== log-rank
@dataclasses.dataclass(frozen=True)
class Logrank(Result):
    """Log-rank test (R ``survdiff``, rho = 0)."""

    chisq: float
    df: int
    p: float
    n: int
    table: pd.DataFrame = dataclasses.field(repr=False)


def logrank(
    df: pd.DataFrame, duration: Any, event: Any, group: Any, *, strata: Any = None
) -> Logrank:
    """Log-rank test of equal survival across groups, as R ``survdiff``.

    Per group: n, observed and expected events, ``(O-E)^2/E`` and
    ``(O-E)^2/V``; the chi-square uses the hypergeometric covariance matrix
    (generalised inverse over k - 1 groups).  ``strata=`` sums O, E and V over
    strata (R ``survdiff(... + strata(s))``).

    At each event time ``t_j`` with ``n_gj`` of the ``n_j`` at risk in group
    ``g`` and ``d_j`` events::

        O_g = sum_j d_gj,   E_g = sum_j d_j n_gj / n_j
        V_gh = sum_j d_j (n_j - d_j) / (n_j - 1) * n_gj / n_j * ([g = h] - n_hj / n_j)
        chisq = (O - E)' V^- (O - E)   on k - 1 df

    References
    ----------
    Mantel N (1966). Evaluation of survival data and two new rank order statistics arising
    in its consideration. Cancer Chemotherapy Reports 50, 163-170.
    Peto R, Peto J (1972). Asymptotically efficient rank invariant test procedures. Journal
    of the Royal Statistical Society A 135, 185-207.
    Therneau TM (2023). A Package for Survival Analysis in R. R package survival
    version 3.5-3. Agrees with
    ``survdiff`` (tests/reference/outcomes.R).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 0, 1, 0, 1], "g": list("aabbab")})
    >>> round(logrank(d, "t", "e", "g").chisq, 6)   # R survdiff: 0.825273
    0.825273
    """
    df = require_frame(df, "logrank")
    require_columns(df, [duration, event, group, strata], "logrank")
    t, e = _surv_arrays(df, duration, event, "logrank")
    codes, levels = _group_labels(df, group, "logrank")
    k = len(levels)
    if k < 2:
        raise InputError(f"logrank: group column {group!r} has only one level ({levels[0]!r}); "
                         f"a log-rank test compares at least two groups")
    scodes = _strata_codes(df, strata, len(t), "logrank")
    obs = np.zeros(k)
    exp_ = np.zeros(k)
    var = np.zeros((k, k))
    for s in np.unique(scodes):
        m = scodes == s
        ts, es, gs = t[m], e[m], codes[m]
        times = np.unique(ts[es == 1])
        for tt in times:
            at = ts >= tt
            n_g = np.bincount(gs[at], minlength=k).astype(float)
            d_g = np.bincount(gs[(ts == tt) & (es == 1)], minlength=k).astype(float)
            n, d = n_g.sum(), d_g.sum()
            obs += d_g
            exp_ += d * n_g / n
            if n > 1:
                f = d * (n - d) / (n - 1)
                var += f * (np.diag(n_g / n) - np.outer(n_g, n_g) / n**2)
    oe = obs - exp_
    vv = var[:-1, :-1]
    try:
        chisq = float(oe[:-1] @ linalg.solve(vv, oe[:-1], assume_a="sym"))
        dfree = k - 1
    except linalg.LinAlgError:
        pinv = np.linalg.pinv(var)
        chisq = float(oe @ pinv @ oe)
        dfree = int(np.linalg.matrix_rank(var))
    n_per = np.bincount(codes, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame({"group": levels, "n": n_per, "observed": obs, "expected": exp_,
                              "oe2_e": oe**2 / exp_, "oe2_v": oe**2 / np.diag(var)})
    return Logrank(chisq=chisq, df=dfree, p=float(stats.chi2.sf(chisq, dfree)), n=len(t), table=table)


# =========================================================================== Cox model core
class _CoxData:
    """Sorted arrays and tie structure for Cox computations (β-independent)."""

    def __init__(self, X: np.ndarray, time: np.ndarray, status: np.ndarray, weights: np.ndarray,
                 strata: np.ndarray):
        n = len(time)
        # sort by stratum, time, deaths before censored at the same time
        order = np.lexsort((-status, time, strata))
        self.order = order
        self.X = X[order]
        self.time = time[order]
        self.status = status[order]
        self.w = weights[order]
        self.strata = strata[order]
        self.n, self.p = self.X.shape
        # stratum bounds
        s = self.strata
        new_s = np.r_[True, s[1:] != s[:-1]]
        self.s_start = np.maximum.accumulate(np.where(new_s, np.arange(n), 0))
        s_end_marks = np.r_[s[1:] != s[:-1], True]
        ends = np.where(s_end_marks, np.arange(n) + 1, 0)
        self.s_end = np.minimum.accumulate(np.where(ends > 0, ends, n + 1)[::-1])[::-1]
        # tie blocks: same stratum and time
        new_b = new_s | np.r_[True, self.time[1:] != self.time[:-1]]
        self.b_start = np.maximum.accumulate(np.where(new_b, np.arange(n), 0))
        # death groups
        dpos = np.flatnonzero(self.status == 1)
        self.dpos = dpos
        gstart_of_death = self.b_start[dpos]
        first = np.r_[True, gstart_of_death[1:] != gstart_of_death[:-1]]
        self.g_first = np.flatnonzero(first)  # index into dpos of each group's first death
        self.g_start = gstart_of_death[first]  # sorted position of each group's tie block
        self.G = len(self.g_start)
        self.g_of_death = np.cumsum(first) - 1
        self.d = np.bincount(self.g_of_death, minlength=self.G).astype(float)
        self.dw = np.bincount(self.g_of_death, weights=self.w[dpos], minlength=self.G)
        self.meanwt = self.dw / self.d
        # Efron expansion: one row per death, c = k/d
        k_in = np.arange(len(dpos)) - self.g_first[self.g_of_death]
        self.row_g = self.g_of_death
        self.row_c = k_in / self.d[self.g_of_death]
        self.g_time = self.time[self.g_start]
        self.g_stratum = self.strata[self.g_start]
        # Sums over risk sets are taken per segment of the sorted rows (the deaths of a tie block,
        # its censored rows), then per block and from the end of the stratum backwards: a few
        # hundred blocks when times are in days or weeks, at most n.
        self.XT = np.ascontiguousarray(self.X.T)
        blk_start = np.flatnonzero(new_b)
        blk_of_row = np.cumsum(new_b) - 1
        g_end = self.g_start + self.d.astype(int)  # deaths come first in their block
        seg_start = np.union1d(blk_start, g_end[g_end < n])
        self.seg_start = seg_start
        self.seg_blk = np.searchsorted(seg_start, blk_start)  # first segment of each block
        self.g_seg = np.searchsorted(seg_start, self.g_start)  # segment holding each group's deaths
        self.g_blk = blk_of_row[self.g_start]
        self.g_blk_end = blk_of_row[self.s_end[self.g_start] - 1] + 1  # one past the stratum's blocks
        self.wx_deaths = self.w[dpos] @ self.X[dpos]  # sum of w x over deaths (beta-free part of U)

    def risk_sums(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(risk-set sums, death sums) at each death group of ``rows`` (k, n: one row per quantity,
        columns in sorted order): summed over its tie block and every later block of its stratum, and
        over the group's deaths."""
        seg = np.add.reduceat(rows, self.seg_start, axis=1)
        blk = np.add.reduceat(seg, self.seg_blk, axis=1)
        cs = np.cumsum(blk[:, ::-1], axis=1)[:, ::-1]
        cs = np.concatenate([cs, np.zeros((rows.shape[0], 1))], axis=1)
        return cs[:, self.g_blk] - cs[:, self.g_blk_end], seg[:, self.g_seg]


def _cox_pieces(cd: _CoxData, beta: np.ndarray, method: str, need_info: bool = True,
                info_rows: bool = False) -> dict[str, Any]:
    """Log partial likelihood, score and information at ``beta`` (Efron or Breslow), as coxph's C code.

    Per death row i of a group of d tied deaths, c_i = k/d (k = 0..d-1; 0 for Breslow):
    den_i = S0 - c_i D0, xbar_i = (S1 - c_i D1) / den_i, with S the risk-set sums of w e^eta (x, x x')
    and D the same over the group's deaths; loglik = sum w eta - sum mw log den (mw: the group's
    mean death weight), U = sum w x - sum mw xbar, I = sum mw ((S2 - c D2)/den - xbar xbar').
    """
    X, XT, p = cd.X, cd.XT, cd.p
    eta = X @ beta
    r = cd.w * np.exp(eta)
    rXT = r * XT
    parts = [r[None, :], rXT]
    if need_info:
        parts.append((rXT[:, None, :] * XT[None, :, :]).reshape(p * p, -1))
    S, D = cd.risk_sums(np.concatenate(parts, axis=0))
    c = cd.row_c if method == "efron" else np.zeros_like(cd.row_c)
    g = cd.row_g
    den = S[0][g] - c * D[0][g]
    xbarT = (S[1:p + 1][:, g] - c * D[1:p + 1][:, g]) / den
    xbar = xbarT.T
    mw = cd.meanwt[g]
    loglik = float(cd.wx_deaths @ beta - mw @ np.log(den))
    mxT = mw * xbarT
    U = cd.wx_deaths - mxT.sum(axis=1)
    out = {"eta": eta, "loglik": loglik, "U": U, "den": den, "xbar": xbar, "c": c, "mw": mw}
    if need_info:
        S2, D2 = S[p + 1:], D[p + 1:]
        if info_rows:  # one p x p matrix per death (cox_zph weights them by g(t))
            num2 = (S2[:, g] - c * D2[:, g]).T.reshape(-1, p, p)
            rows = mw[:, None, None] * (num2 / den[:, None, None] - xbar[:, :, None] * xbar[:, None, :])
            out["info_rows"] = rows
            out["I"] = rows.sum(axis=0)
        else:
            # the same sum taken per death group: a_g S2 - b_g D2 - sum mw xbar xbar'
            a_g = np.bincount(g, weights=mw / den, minlength=cd.G)
            b_g = np.bincount(g, weights=mw * c / den, minlength=cd.G)
            out["I"] = (S2 @ a_g - D2 @ b_g).reshape(p, p) - mxT @ xbarT.T
    return out


def _cox_newton(cd: _CoxData, method: str, max_iter: int = 50) -> tuple[np.ndarray, dict, dict, int, bool]:
    p = cd.p
    beta = np.zeros(p)
    first = _cox_pieces(cd, beta, method)
    cur = first
    it = 0
    converged = False
    for it in range(1, max_iter + 1):
        try:
            step = linalg.solve(cur["I"], cur["U"], assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            step = np.linalg.lstsq(cur["I"], cur["U"], rcond=None)[0]
        new_beta = beta + step
        new = _cox_pieces(cd, new_beta, method)
        halvings = 0
        while (not np.isfinite(new["loglik"]) or new["loglik"] < cur["loglik"] - 1e-12) and halvings < 30:
            step = step / 2
            new_beta = beta + step
            new = _cox_pieces(cd, new_beta, method)
            halvings += 1
        rel = abs(new["loglik"] - cur["loglik"]) / max(abs(new["loglik"]), 1e-300)
        beta, cur = new_beta, new
        if rel < 1e-14 or np.max(np.abs(step)) < 1e-11:
            converged = True
            break
    return beta, first, cur, it, converged


def _score_residuals(cd: _CoxData, beta: np.ndarray, pieces: dict, method: str) -> np.ndarray:
    """Per-subject score residuals (R ``residuals(fit, "score")``), sorted order."""
    X = cd.X
    eta = X @ beta
    er = np.exp(eta)
    g = cd.row_g
    den, xbar, c, mw = pieces["den"], pieces["xbar"], pieces["c"], pieces["mw"]
    G, p = cd.G, cd.p
    a_rows = mw / den
    A = np.bincount(g, weights=a_rows, minlength=G)
    B = np.zeros((G, p))
    np.add.at(B, g, (a_rows[:, None] * xbar))
    A2 = np.bincount(g, weights=a_rows * (1 - c), minlength=G)
    B2 = np.zeros((G, p))
    np.add.at(B2, g, (a_rows * (1 - c))[:, None] * xbar)
    xstar = np.zeros((G, p))
    np.add.at(xstar, g, xbar)
    xstar /= cd.d[:, None]
    cumA = np.r_[0.0, np.cumsum(A)]
    cumB = np.vstack([np.zeros((1, p)), np.cumsum(B, axis=0)])
    hi = np.searchsorted(cd.g_start, cd.b_start, side="right")
    lo = np.searchsorted(cd.g_start, cd.s_start, side="left")
    cA = cumA[hi] - cumA[lo]
    cB = cumB[hi] - cumB[lo]
    resid = -er[:, None] * (X * cA[:, None] - cB)
    dp = cd.dpos
    gd = cd.g_of_death
    resid[dp] += (X[dp] - xstar[gd])
    resid[dp] += er[dp, None] * ((X[dp] * A[gd, None] - B[gd]) - (X[dp] * A2[gd, None] - B2[gd]))
    return resid


# =========================================================================== concordance
def _starts(new: np.ndarray) -> np.ndarray:
    """Position of the start of the run each position belongs to (``new`` marks run starts)."""
    return np.maximum.accumulate(np.where(new, np.arange(len(new)), 0))


def _quadrant_sums(x: np.ndarray, y: np.ndarray, wa: np.ndarray, wb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each i: A_i = sum of wa_j over j with x_j < x_i and y_j > y_i, and B_i = sum of wb_j over j
    with x_j > x_i and y_j < y_i (all strict).

    ``x`` and ``y`` hold integer codes 0..m-1.  Elements with the same (x, y) share their sums, so
    the work is done once per distinct pair (with summed weights).  A pair of elements with
    x_j < x_i first differs at some bit b of x (x_j has 0 there, x_i has 1) and agrees on the bits
    above b.  For each bit, from the highest, the elements are kept in order of (bits above b,
    y descending); an element with bit b set adds the running sum of wa over earlier elements of its
    group with bit b clear and a strictly larger y (A), and an element with bit b clear adds the sum
    of wb over later elements of its group with bit b set and a strictly smaller y (B).  A stable
    partition by bit b gives the order for the next bit.  O(n log m) in whole-array steps (the
    merge-sort count that ``survival``'s C code does with a balanced tree).
    """
    mx, my = int(x.max()) + 1, int(y.max()) + 1
    cell_key, inv = np.unique(x + mx * ((my - 1) - y), return_inverse=True)  # cells by y descending
    inv = inv.ravel()
    k = len(cell_key)
    xo = (cell_key % mx).astype(np.int64)
    yo = (my - 1) - cell_key // mx
    wao = np.bincount(inv, weights=wa, minlength=k)
    wbo = np.bincount(inv, weights=wb, minlength=k)
    accA, accB = np.zeros(k), np.zeros(k)
    pos = np.arange(k)
    cell_of = pos  # cell at each position of the current order
    new_y = np.r_[True, yo[1:] != yo[:-1]]
    nbits = max(1, (mx - 1).bit_length())
    for b in range(nbits - 1, -1, -1):
        pre = xo >> (b + 1)
        bit = (xo >> b) & 1
        one = bit == 1
        new_seg = np.r_[True, pre[1:] != pre[:-1]]
        new_run = new_seg | new_y
        ss = np.maximum.accumulate(np.where(new_seg, pos, 0))
        rs = np.maximum.accumulate(np.where(new_run, pos, 0))
        seg_end = np.r_[np.flatnonzero(new_seg)[1:], k][np.cumsum(new_seg) - 1]
        run_end = np.r_[np.flatnonzero(new_run)[1:], k][np.cumsum(new_run) - 1]
        c0 = np.concatenate([[0.0], np.cumsum(np.where(one, 0.0, wao))])
        c1 = np.concatenate([[0.0], np.cumsum(np.where(one, wbo, 0.0))])
        accA += np.where(one, c0[rs] - c0[ss], 0.0)
        accB += np.where(one, 0.0, c1[seg_end] - c1[run_end])
        if b == 0:
            break
        # stable partition by this bit within each group: the order for the next bit
        zc = np.concatenate([[0], np.cumsum(~one)])
        zeros_before = zc[pos] - zc[ss]
        n0 = zc[seg_end] - zc[ss]
        newpos = np.where(one, ss + n0 + (pos - ss - zeros_before), ss + zeros_before)
        perm = np.empty(k, dtype=np.int64)
        perm[newpos] = pos
        xo, yo, wao, wbo, accA, accB = xo[perm], yo[perm], wao[perm], wbo[perm], accA[perm], accB[perm]
        cell_of = cell_of[perm]
        new_y = np.r_[True, yo[1:] != yo[:-1]]
    A, B = np.empty(k), np.empty(k)
    A[cell_of], B[cell_of] = accA, accB
    return A[inv], B[inv]


def _concordance_one(time: np.ndarray, status: np.ndarray, risk: np.ndarray, w: np.ndarray,
                     tw: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Counts (concordant, discordant, tied.x, tied.y) and per-obs influence (n x 3).

    Concordant: the one with the event earlier has the higher risk score
    (``coxph``'s ``reverse = TRUE`` orientation).  Observations are ordered by
    key (time, events before censored at the same time); an event is compared
    with every observation of a strictly larger key.  Each observation's
    influence row holds the weighted number of its comparable partners that
    are concordant, discordant and tied in risk with it.  ``tw``: a time weight
    per observation (used for events: a pair counts ``w_i w_j tw_i`` with ``i``
    the earlier event); all 1 when None.
    """
    n = len(time)
    _, rank = np.unique(risk, return_inverse=True)
    rank = rank.ravel().astype(np.int64)
    m = int(rank.max()) + 1
    key_order = np.lexsort((1 - status, time))
    t_s, st_s = time[key_order], status[key_order]
    kk = np.r_[True, (t_s[1:] != t_s[:-1]) | (st_s[1:] != st_s[:-1])]
    grp = np.empty(n, dtype=np.int64)
    grp[key_order] = np.cumsum(kk) - 1  # key group, ascending
    G = int(grp.max()) + 1
    tw = np.ones(n) if tw is None else tw
    we = w * status * tw  # events are the earlier member of every pair (weighted by their time weight)

    # less1: over all obs with a later key and lower risk; more2: over events with an earlier key
    # and higher risk (bits over whichever of risk and key has fewer distinct values)
    if m <= G:
        less1, more2 = _quadrant_sums(rank, grp, w, we)
    else:
        less1, more2 = _quadrant_sums((G - 1) - grp, (m - 1) - rank, w, we)

    # totals and ties in risk: sums over strictly later / earlier key groups
    gw_all = np.bincount(grp, weights=w, minlength=G)
    gw_ev = np.bincount(grp, weights=we, minlength=G)
    tot1 = (np.cumsum(gw_all[::-1])[::-1] - gw_all)[grp]  # all obs with a later key
    tot2 = (np.cumsum(gw_ev) - gw_ev)[grp]  # events with an earlier key
    o = np.lexsort((grp, rank))  # by risk, then key
    ro, go = rank[o], grp[o]
    new_seg = np.r_[True, ro[1:] != ro[:-1]]
    new_run = new_seg | np.r_[True, go[1:] != go[:-1]]
    ss, rs = _starts(new_seg), _starts(new_run)
    seg_end = np.flatnonzero(np.r_[new_seg[1:], True]) + 1
    se = seg_end[np.cumsum(new_seg) - 1]
    run_end = np.flatnonzero(np.r_[new_run[1:], True]) + 1
    re = run_end[np.cumsum(new_run) - 1]
    eq1, eq2 = np.empty(n), np.empty(n)
    cs = np.concatenate([[0.0], np.cumsum(w[o])])
    eq1[o] = cs[se] - cs[re]
    cs = np.concatenate([[0.0], np.cumsum(we[o])])
    eq2[o] = cs[rs] - cs[ss]
    # pass 1: each event against observations with a later key (concordant: partner's risk lower)
    more1 = tot1 - less1 - eq1
    # pass 2: each observation against events with an earlier key (concordant: event's risk higher)
    less2 = tot2 - more2 - eq2
    ev = status == 1
    infl = np.zeros((n, 3))
    infl[ev, 0] = less1[ev] * tw[ev]
    infl[ev, 1] = more1[ev] * tw[ev]
    infl[ev, 2] = eq1[ev] * tw[ev]
    infl[:, 0] += more2
    infl[:, 1] += less2
    infl[:, 2] += eq2
    conc, disc, tiex = float(we @ less1), float(we @ more1), float(we @ eq1)
    # tied on time among events (tied.y), for the count only
    _, cnt_w = np.unique(time[ev], return_inverse=True)
    sw = np.bincount(cnt_w, weights=w[ev])
    sw2 = np.bincount(cnt_w, weights=w[ev] ** 2)
    tiey = float(np.sum((sw**2 - sw2) / 2))
    return np.array([conc, disc, tiex, tiey]), infl


def _censoring_weights_n_g2(time: np.ndarray, status: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``1 / G(t-)^2`` at each row's time, ``G`` the censoring Kaplan-Meier as ``survival``'s ``fastkm1``
    computes it for ``concordance(timewt = "n/G2")``: at a time with deaths and censorings the deaths
    leave the risk set first, so the censoring factor is ``n(>t) / (n(>t) + c(t))``."""
    _, idx, G = censoring_km(time, status == 0, w)
    g_minus = np.r_[1.0, G[:-1]]
    with np.errstate(divide="ignore"):
        return 1.0 / g_minus[idx] ** 2


def censoring_km(time: np.ndarray, censored: np.ndarray, weights: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier of censoring with events leaving first at tied times: ``G(u_j)`` at the distinct
    times ``u`` (with each row's index into them), the factor at ``u_j`` being
    ``n(>u_j) / (n(>u_j) + c(u_j))`` -- ``survival``'s ``fastkm1`` and ``prodlim(reverse = TRUE)``.
    Used for IPCW (Uno's C here; time-dependent AUC and Brier score in :mod:`veplab.validity.timedep`).
    """
    w = np.ones(len(time)) if weights is None else np.asarray(weights, dtype=float)
    times, idx = np.unique(time, return_inverse=True)
    m = len(times)
    cw = np.bincount(idx, weights=w * censored, minlength=m)
    allw = np.bincount(idx, weights=w, minlength=m)
    after = np.cumsum(allw[::-1])[::-1] - allw  # weight with time > t
    with np.errstate(divide="ignore", invalid="ignore"):
        fac = np.where(cw > 0, after / (after + cw), 1.0)
    return times, idx, np.cumprod(fac)


@dataclasses.dataclass(frozen=True)
class ConcordanceResult(Estimate):
    """A concordance index (Harrell's or Uno's C) with its standard error.

    ``estimate`` is the C-index, ``se`` its infinitesimal-jackknife standard
    error (R's ``std``; weights treated as fixed), ``ci_low``/``ci_high`` the
    Wald interval ``C -/+ z se`` at level ``ci``; ``concordant``,
    ``discordant``, ``tied_risk`` and ``tied_time`` are the weighted pair
    counts R reports in ``count``; ``timewt`` ``"n"`` (Harrell) or ``"n/G2"``
    (Uno), ``tau`` the truncation time (NaN: none).  ``result["concordance"]``,
    ``["std"]`` and ``["c"]``, the keys of the dict these functions returned
    before, still read with a DeprecationWarning.
    """

    se: float = float("nan")
    concordant: float = 0.0
    discordant: float = 0.0
    tied_risk: float = 0.0
    tied_time: float = 0.0
    timewt: str = "n"
    tau: float = float("nan")

    _OLD_KEYS: ClassVar[dict[str, str]] = {"concordance": "estimate", "c": "estimate", "std": "se"}

    def __getitem__(self, key: str) -> Any:
        if not isinstance(key, str) or (key not in self._OLD_KEYS
                                        and key not in {f.name for f in dataclasses.fields(self)}):
            raise KeyError(key)
        warnings.warn(f"reading a concordance result as a dict is deprecated: use .{self._OLD_KEYS.get(key, key)}",
                      DeprecationWarning, stacklevel=2)
        return getattr(self, self._OLD_KEYS.get(key, key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self._OLD_KEYS or key in {f.name for f in dataclasses.fields(self)})

    def get(self, key: str, default: Any = None) -> Any:
        """Deprecated dict-style access (``result.get("concordance")``): use the attributes."""
        return self[key] if key in self else default

    def summary(self) -> str:
        name = "Uno's C" if self.timewt == "n/G2" else "Harrell's C"
        upto = f" up to {self.tau:g}" if not math.isnan(self.tau) else ""
        return (f"{name}{upto} = {self.estimate:.4f} (SE {self.se:.4f}; {self.ci:.0%} CI {self.ci_low:.4f} to "
                f"{self.ci_high:.4f}), n = {self.n}; pairs concordant {self.concordant:g}, discordant "
                f"{self.discordant:g}, tied on risk {self.tied_risk:g}")


def _concordance_inputs(time: Any, status: Any, risk: Any, weights: Any, strata: Any, cluster: Any,
                        ymax: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of :func:`concordance`, checked: one value per person in each, no missing
    time, status or risk (R drops such rows; here the caller leaves them out, knowingly),
    status 0/1, weights finite and not negative, ``ymax`` a positive time."""
    what = "concordance"

    def num(name: str, v: Any) -> np.ndarray:
        try:
            return np.asarray(pd.to_numeric(pd.Series(np.asarray(v).ravel()), errors="raise"), dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"{what}: {name} must be numbers") from None

    t, s, r = num("time", time), num("status", status), num("risk", risk)
    w = np.ones(len(t)) if weights is None else num("weights", weights)
    sizes = {"time": len(t), "status": len(s), "risk": len(r), "weights": len(w)}
    for name, v in (("strata", strata), ("cluster", cluster)):
        if v is not None:
            sizes[name] = len(np.asarray(v).ravel())
    if len(set(sizes.values())) > 1:
        raise InputError(f"{what}: the arrays differ in length ({sizes}); pass one value per person in each")
    for name, v in (("time", t), ("status", s), ("risk", r)):
        if np.isnan(v).any():
            raise InputError(f"{what}: {name} has {int(np.isnan(v).sum())} missing value(s) "
                             f"({format_rows(np.flatnonzero(np.isnan(v)))}); leave those people out")
    if not np.isin(s, [0.0, 1.0]).all():
        bad = sorted(set(s[~np.isin(s, [0.0, 1.0])].tolist()))[:5]
        raise InputError(f"{what}: status must be 0 (censored) or 1 (the event), got {bad}; code other "
                         "events as 0 here (or use the competing-risk functions)")
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError(f"{what}: weights must be finite and not negative")
    if ymax is not None and not (isinstance(ymax, (int, float, np.integer, np.floating)) and float(ymax) > 0):
        raise InputError(f"{what}: the truncation time must be a positive time, got {ymax!r}")
    return t, s, r, w


def concordance(
    time: np.ndarray, status: np.ndarray, risk: np.ndarray, *, weights: np.ndarray | None = None,
    strata: np.ndarray | None = None, cluster: np.ndarray | None = None, timewt: str = "n",
    ymax: float | None = None, ci: float = 0.95,
) -> ConcordanceResult:
    """Harrell's C (or Uno's) as ``survival::concordance`` with its IJ standard error.

    ``timewt = "n"`` (R's default) weights every comparable pair alike (Harrell's
    C); ``timewt = "n/G2"`` weights a pair whose earlier member had the event at
    ``t`` by ``1 / G(t-)^2``, ``G`` the Kaplan-Meier of censoring -- Uno's C, which
    does not depend on the censoring distribution (Uno et al. 2011).  ``ymax``:
    pairs whose event is after ``ymax`` get weight 0 (the truncation time ``tau``
    of Uno's C, R's ``ymax``).  The standard error treats the weights as fixed,
    as R does.

    A pair is comparable when the shorter time is an event (a censored time
    equal to an event time counts as longer); pairs count with weight
    ``w_i * w_j``; ties in the risk score count one half.  The standard error
    is the infinitesimal-jackknife one R reports (``std`` in ``coxph``'s
    ``concordance``), grouped by ``cluster`` when given.  Pairs are formed
    within strata only.

    With C, D, T the weighted numbers of concordant, discordant and risk-tied
    comparable pairs, ``C-index = (C + T/2) / (C + D + T)``; Somers' d =
    ``(C - D) / (C + D + T)``, and each observation's influence is
    ``w_i ((c_i - d_i) - d (c_i + d_i + t_i)) / (C + D + T)`` from its own
    weighted counts of concordant, discordant and tied partners; the variance
    is the sum of squared influences (per cluster) over 4.  Counting is
    O(n log n) in whole-array steps.

    References
    ----------
    Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA (1982). Evaluating the yield of
    medical tests. JAMA 247, 2543-2546.
    Therneau T, Watson E (2017). The concordance statistic and the Cox model. Vignette
    ``concordance`` of the R package survival.
    Uno H, Cai T, Pencina MJ, D'Agostino RB, Wei LJ (2011). On the C-statistics for evaluating
    overall adequacy of risk prediction procedures with censored survival data. Statistics
    in Medicine 30, 1105-1117.
    Therneau TM (2023). A Package for Survival Analysis in R. R package survival
    version 3.5-3. Agrees with ``survival::concordance`` and ``coxph``'s ``concordance``
    (tests/reference/outcomes.R; Uno's ``timewt = "n/G2"`` in tests/reference/timedep.R).

    Examples
    --------
    >>> c = concordance([1, 2, 3, 4], [1, 1, 0, 1], [0.9, 0.5, 0.7, 0.1])
    >>> round(c.estimate, 6)   # R: concordance(Surv(t, e) ~ r, reverse = TRUE): 0.8
    0.8
    >>> c.concordant, c.discordant
    (4.0, 1.0)
    """
    check_choice(timewt, "timewt", ("n", "n/G2"))
    ci = check_ci(ci)
    time, status, risk, w = _concordance_inputs(time, status, risk, weights, strata, cluster, ymax)
    n = len(time)
    strata = np.zeros(n, int) if strata is None else np.asarray(strata)
    counts = np.zeros(4)
    infl = np.zeros((n, 3))
    for s in np.unique(strata):
        m = np.flatnonzero(strata == s)
        if status[m].sum() == 0:
            continue
        tw = None
        if timewt == "n/G2" and status[m].sum() >= 2:  # R falls back to "n" with fewer than 2 events
            tw = _censoring_weights_n_g2(time[m], status[m], w[m])
        if ymax is not None:
            tw = (np.ones(len(m)) if tw is None else tw) * (time[m] <= ymax)
        c, inf = _concordance_one(time[m], status[m], risk[m], w[m], tw)
        counts += c
        infl[m] = inf
    npair = counts[:3].sum()
    tau = float("nan") if ymax is None else float(ymax)
    if npair == 0:
        nan = float("nan")
        return ConcordanceResult(estimate=nan, ci_low=nan, ci_high=nan, n=n, ci=ci, tied_time=float(counts[3]),
                                 timewt=timewt, tau=tau)
    somer = (counts[0] - counts[1]) / npair
    dfb = w * ((infl[:, 0] - infl[:, 1]) / npair - (somer / npair) * infl.sum(axis=1))
    if cluster is not None:
        dfb = pd.Series(dfb).groupby(np.asarray(cluster)).sum().to_numpy()
    var = float(np.sum(dfb**2)) / 4
    cindex, se = float((somer + 1) / 2), math.sqrt(var)
    z = z_crit(ci)
    return ConcordanceResult(estimate=cindex, ci_low=cindex - z * se, ci_high=cindex + z * se, n=n, ci=ci, se=se,
                             concordant=float(counts[0]), discordant=float(counts[1]), tied_risk=float(counts[2]),
                             tied_time=float(counts[3]), timewt=timewt, tau=tau)


# =========================================================================== Cox API
@dataclasses.dataclass(frozen=True)
class CoxResult(TableResult):
    """A fitted Cox model (R ``coxph``).

    ``factor_counts`` (read-only): people in the fit per level of every
    categorical or two-valued covariate; ``outcome_counts``: ``{"event": d,
    "censored": n - d}``.  Read by :func:`veplab.privacy.model_disclosure`.
    """

    n: int
    n_events: int
    ties: str
    robust: bool
    ci: float
    loglik_null: float
    loglik: float
    lr_chisq: float
    lr_df: int
    lr_p: float
    wald_chisq: float
    wald_p: float
    score_chisq: float
    score_p: float
    robust_score_chisq: float
    robust_score_p: float
    iterations: int
    converged: bool
    table: pd.DataFrame = dataclasses.field(repr=False)
    vcov: pd.DataFrame = dataclasses.field(repr=False)
    naive_vcov: pd.DataFrame = dataclasses.field(repr=False)
    terms: dict = dataclasses.field(repr=False, default_factory=dict)
    n_clusters: int | None = None
    _data: Any = dataclasses.field(repr=False, default=None, compare=False)
    _beta: Any = dataclasses.field(repr=False, default=None, compare=False)
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    outcome_counts: dict[str, int] = dataclasses.field(default_factory=dict, repr=False, compare=False)


    def plot(self, **kwargs: Any) -> Any:
        """Forest plot of the hazard ratios with their intervals (log axis); returns the Axes.

        Keyword arguments go to :func:`veplab.models.plot_forest` (``ax=``, ``labels=``, ``title=``, ...).
        """
        from ..plots import plot_forest

        return plot_forest(self.table, **kwargs)

    @functools.cached_property
    def _concordance(self) -> ConcordanceResult:
        # computed on first use, not by the fit (it is an O(n log n) count over all comparable pairs)
        d = self._data
        return concordance(d["time"], d["status"], d["eta"], weights=d["weights"], strata=d["strata"],
                           cluster=d["cluster"])

    @property
    def concordance(self) -> float:
        """Harrell's C of the linear predictor, as ``coxph``'s ``concordance`` (see :func:`concordance`).

        Computed on first access and kept.
        """
        return self._concordance.estimate

    @property
    def concordance_se(self) -> float:
        """Infinitesimal-jackknife standard error of :attr:`concordance` (``coxph``'s ``std``)."""
        return self._concordance.se

    def to_dict(self) -> dict[str, Any]:
        """Scalar results as a plain dict, with the concordance and its standard error."""
        out = super().to_dict()
        items = list(out.items())
        at = [k for k, _ in items].index("robust_score_p") + 1
        items[at:at] = [("concordance", self.concordance), ("concordance_se", self.concordance_se)]
        return dict(items)

    def zph(self, transform: str = "km", *, terms: bool = True, global_test: bool = True) -> ZphResult:
        """Proportional-hazards test (R ``cox.zph``); see :func:`cox_zph`."""
        return cox_zph(self, transform=transform, terms=terms, global_test=global_test)

    def summary(self) -> str:
        lines = [f"Cox model ({self.ties} ties{', robust SE' if self.robust else ''}): "
                 f"n={self.n}, events={self.n_events}"]
        for _, r in self.table.iterrows():
            lines.append(f"  {r['term']:<18} HR={r['hr']:.4g} [{r['hr_ci_low']:.4g}, {r['hr_ci_high']:.4g}]"
                         f"  coef={r['coef']:.4g} se={r['se']:.4g} p={r['p']:.3g}")
        lines.append(f"  loglik={self.loglik:.6g}  LR={self.lr_chisq:.4g} (df {self.lr_df})  "
                     f"concordance={self.concordance:.4f} (se {self.concordance_se:.4f})")
        return "\n".join(lines)

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        return ModelFacts("Cox model", self.n, float(self.n - len(self.table)), self.factor_counts,
                          ("status", self.outcome_counts), n_clusters=self.n_clusters)


def cox(
    df: pd.DataFrame,
    duration: Any,
    event: Any,
    covariates: Sequence[Any],
    *,
    ties: str = "efron",
    strata: Any = None,
    cluster: Any = None,
    weights: Any = None,
    robust: bool | None = None,
    ci: float = 0.95,
) -> CoxResult:
    """Cox proportional-hazards model, as R ``coxph``.

    ``coxph(Surv(duration, event) ~ covariates + strata(strata),
    ties = "efron", weights = w, cluster = cl)``.  Text/categorical covariates
    are treatment-coded (first level in sorted order is the reference).
    ``weights`` is a column name or an array/Series aligned with ``df`` (e.g.
    ``propensity(...).weights``).  Rows with a missing covariate, stratum,
    cluster or weight are left out with a warning (R's ``na.omit``);
    missing or negative durations are an error.

    Variance: model-based (inverse information) unless ``robust`` — by
    default robust when ``cluster`` is given or the weights are not all whole
    numbers, as ``coxph`` does (see the module docstring).  The table gives
    ``coef``, ``hr = exp(coef)``, ``se`` (robust when robust, with
    ``naive_se`` alongside), ``z``, ``p`` and Wald intervals for coef and HR.
    Also: log-likelihoods, likelihood-ratio, Wald and score tests, and the
    concordance with its standard error (as ``summary(coxph)`` prints).

    Estimating equation: ``b`` maximises the partial log-likelihood, with
    Efron's approximation for the ``d_j`` events ``D_j`` tied at ``t_j`` and
    risk set ``R_j``::

        l(b) = sum_j [ sum_(i in D_j) w_i x_i'b - wbar_j sum_(r=0)^(d_j - 1) log(A_j - r/d_j B_j) ]
        A_j = sum_(i in R_j) w_i exp(x_i'b),   B_j = sum_(i in D_j) w_i exp(x_i'b)

    (``wbar_j`` the mean weight of the tied events; Breslow: drop the ``r/d_j``
    term).  Robust variance ``V = D'D`` from the dfbeta residuals ``D``.

    References
    ----------
    Cox DR (1972). Regression models and life-tables. Journal of the Royal Statistical
    Society B 34, 187-220.
    Efron B (1977). The efficiency of Cox's likelihood function for censored data. Journal
    of the American Statistical Association 72, 557-565.
    Breslow N (1974). Covariance analysis of censored survival data. Biometrics 30, 89-99.
    Lin DY, Wei LJ (1989). The robust inference for the Cox proportional hazards model.
    Journal of the American Statistical Association 84, 1074-1078.
    Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model.
    Springer, New York.
    Therneau TM (2023). A Package for Survival Analysis in R. R package survival
    version 3.5-3. Agrees with
    ``coxph`` (ties, weights, strata, cluster; tests/reference/outcomes.R, Rossi et al.
    1980 data).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [5, 8, 3, 9, 12, 4, 7, 10], "e": [1, 1, 1, 0, 0, 1, 1, 0],
    ...                   "x": [1, 0, 1, 0, 0, 1, 0, 1]})
    >>> round(float(cox(d, "t", "e", ["x"]).table["coef"][0]), 6)   # R coxph: 1.124316
    1.124316
    """
    df = require_frame(df, "cox")
    ci = check_ci(ci)
    check_choice(ties, "ties", ("efron", "breslow"))
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covariates:
        raise InputError("cox: give at least one covariate (for a model without covariates use "
                         "kaplan_meier)")
    wcol = weights if isinstance(weights, str) else None
    require_columns(df, [duration, event, strata, cluster, wcol] + covariates, "cox")
    # listwise deletion over covariates / strata / cluster / weights, reported
    wser = None
    if weights is not None:
        if isinstance(weights, str):
            wser = numeric_column(df, weights, "cox")
        else:
            wser = pd.Series(np.asarray(weights, dtype=float) if not isinstance(weights, pd.Series)
                             else weights.reindex(df.index).to_numpy(dtype=float), index=df.index)
            if len(wser) != len(df):
                raise InputError(f"cox: weights has {len(wser)} values for {len(df)} rows")
    Xdf, terms = design_columns(df, covariates, "cox")
    miss = Xdf.isna().any(axis=1)
    for extra in (strata, cluster):
        if extra is not None:
            miss |= df[extra].isna()
    if wser is not None:
        miss |= wser.isna()
    if miss.any():
        warnings.warn(f"cox: {int(miss.sum())} rows with a missing covariate, stratum, cluster or weight "
                      f"were left out ({format_rows(list(df.index[miss]))})", stacklevel=2)
    keep = ~miss
    sub = df.loc[keep]
    t, e = _surv_arrays(sub, duration, event, "cox")
    X = Xdf.loc[keep].to_numpy(dtype=float)
    w = np.ones(len(t)) if wser is None else wser.loc[keep].to_numpy(dtype=float)
    if (w < 0).any():
        raise InputError("cox: weights must be non-negative")
    if weights is not None and (w == 0).all():
        raise InputError("cox: all weights are zero")
    const = [c for j, c in enumerate(Xdf.columns) if np.ptp(X[:, j]) == 0]
    if const:
        raise InputError(f"cox: covariate column(s) {const} take a single value in the data used; "
                         f"a constant has no hazard ratio. Drop it (e.g. a group with one level)")
    scodes = _strata_codes(sub, strata, len(t), "cox")
    if cluster is not None:
        clcodes = np.asarray(pd.factorize(sub[cluster])[0])
    else:
        clcodes = None
    has_rwt = weights is not None and bool(np.any(w != np.floor(w)))
    if robust is None:
        robust = cluster is not None or has_rwt
    if cluster is not None and not robust:
        warnings.warn("cox: cluster given with robust=False; the cluster is ignored (as coxph does)",
                      stacklevel=2)
        clcodes = None
    fit = _fit_cox(X, list(Xdf.columns), terms, t, e, w, scodes, clcodes, ties, robust, ci)
    return dataclasses.replace(fit, factor_counts=level_counts(sub, covariates),
                               outcome_counts={"event": int(e.sum()), "censored": int(len(e) - e.sum())})


def _fit_cox(X, names, terms, t, e, w, scodes, clcodes, ties, robust, ci) -> CoxResult:
    means = X.mean(axis=0)
    Xc = X - means
    cd = _CoxData(Xc, t, e, w, scodes)
    beta, first, last, iters, conv = _cox_newton(cd, ties)
    p = len(beta)
    try:
        naive = linalg.inv(last["I"])
    except linalg.LinAlgError:
        raise InputError("cox: the information matrix is singular; some covariates are collinear "
                         "(one is a combination of others) — drop one of them") from None
    if not conv or np.any(np.abs(beta) > 20):
        warnings.warn("cox: the fit did not converge cleanly; a coefficient may be infinite "
                      "(e.g. a covariate level with no events). Check the events per group",
                      stacklevel=3)
    var = naive
    rscore = float("nan")
    if robust:
        res = _score_residuals(cd, beta, last, ties)
        dfb = (res @ naive) * cd.w[:, None]
        res0 = _score_residuals(cd, np.zeros(p), first, ties) * cd.w[:, None]
        if clcodes is not None:
            cl = clcodes[cd.order]
            dfb = pd.DataFrame(dfb).groupby(cl).sum().to_numpy()
            res0 = pd.DataFrame(res0).groupby(cl).sum().to_numpy()
        var = dfb.T @ dfb
        u0 = res0.sum(axis=0)
        try:
            rscore = float(u0 @ linalg.solve(res0.T @ res0, u0))
        except linalg.LinAlgError:
            rscore = float("nan")
    se = np.sqrt(np.diag(var))
    z = beta / se
    q = z_crit(ci)
    table = pd.DataFrame({
        "term": names, "coef": beta, "hr": np.exp(beta), "se": se, "naive_se": np.sqrt(np.diag(naive)),
        "z": z, "p": 2 * stats.norm.sf(np.abs(z)),
        "ci_low": beta - q * se, "ci_high": beta + q * se,
        "hr_ci_low": np.exp(beta - q * se), "hr_ci_high": np.exp(beta + q * se),
    })
    lr = 2 * (last["loglik"] - first["loglik"])
    try:
        wald = float(beta @ linalg.solve(var, beta))
    except linalg.LinAlgError:
        wald = float("nan")
    try:
        score = float(first["U"] @ linalg.solve(first["I"], first["U"]))
    except linalg.LinAlgError:
        score = float("nan")
    eta_orig = np.empty(len(t))
    eta_orig[cd.order] = cd.X @ beta
    data = {"X": X, "time": t, "status": e, "weights": w, "strata": scodes, "names": names, "eta": eta_orig,
            "cluster": clcodes}
    return CoxResult(
        n=len(t), n_events=int(e.sum()), ties=ties, robust=bool(robust), ci=ci,
        loglik_null=first["loglik"], loglik=last["loglik"], lr_chisq=lr, lr_df=p,
        lr_p=float(stats.chi2.sf(lr, p)), wald_chisq=wald, wald_p=float(stats.chi2.sf(wald, p)),
        score_chisq=score, score_p=float(stats.chi2.sf(score, p)),
        robust_score_chisq=rscore, robust_score_p=float(stats.chi2.sf(rscore, p)) if robust else float("nan"),
        iterations=iters, converged=conv,
        table=table, vcov=pd.DataFrame(var, index=names, columns=names),
        naive_vcov=pd.DataFrame(naive, index=names, columns=names), terms=terms,
        n_clusters=None if clcodes is None else int(len(np.unique(clcodes))),
        _data=data, _beta=beta,
    )


@dataclasses.dataclass(frozen=True)
class ZphResult(TableResult):
    """Proportional-hazards test of a Cox model (:func:`cox_zph`, R ``cox.zph``).

    ``table`` has one row per term (or covariate) and ``GLOBAL``: ``term,
    chisq, df, p``; ``transform`` is the time transform, ``terms`` whether the
    columns of a factor were tested together.  (No plot: the scaled
    Schoenfeld residuals are not kept.)
    """

    transform: str = "km"
    terms: bool = True
    n: int = 0
    n_events: int = 0

    def _title(self) -> str:
        return (f"Proportional hazards test (cox.zph, transform {self.transform!r}; n = {self.n}, "
                f"{self.n_events} events)")


def cox_zph(fit: CoxResult, transform: str = "km", *, terms: bool = True,
            global_test: bool = True) -> ZphResult:
    """Test of proportional hazards, as R ``cox.zph`` (survival >= 3.0).

    The score test, at the fitted coefficients, for adding ``x * g(t)`` for
    each covariate (``terms=True``: all columns of a factor together), with
    ``g`` the transformed time centred at its mean over events and the full
    2p x 2p information of the expanded model (not the older Grambsch-Therneau
    approximation of survival < 3.0).  ``transform``: ``"km"`` (1 - the
    left-continuous Kaplan-Meier over all rows, unweighted, ignoring strata, as
    R), ``"rank"``, ``"identity"`` or ``"log"``.  Returns a :class:`ZphResult`
    whose ``table`` has one row per term and ``GLOBAL``; columns ``chisq``,
    ``df``, ``p``.

    For covariate (or term) ``k``, with ``U`` the score and ``I`` the
    information of the model with the added ``x_k g(t)`` columns, at
    ``gamma = 0``::

        chisq_k = U_k' (I^-1)_kk U_k,   df = number of columns of term k

    References
    ----------
    Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics based on
    weighted residuals. Biometrika 81, 515-526.
    Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model.
    Springer, New York.
    Therneau TM (2023). A Package for Survival Analysis in R. R package survival
    version 3.5-3. Agrees with
    ``cox.zph`` (survival >= 3.0; tests/reference/outcomes.R).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.outcomes import cox, cox_zph
    >>> d = pd.DataFrame({"t": [5, 8, 3, 9, 12, 4, 7, 10, 6, 11], "e": [1, 1, 1, 0, 0, 1, 1, 0, 1, 1],
    ...                   "x": [1, 0, 1, 0, 0, 1, 0, 1, 1, 0]})
    >>> z = cox_zph(cox(d, "t", "e", ["x"]))
    >>> z.table.round(4).values.tolist()    # R cox.zph(coxph(Surv(t, e) ~ x))$table
    [['x', 2.2741, 1, 0.1316], ['GLOBAL', 2.2741, 1, 0.1316]]
    """
    check_choice(transform, "transform", ("km", "rank", "identity", "log"))
    d = fit._data
    X, t, e, w, s = d["X"], d["time"], d["status"], d["weights"], d["strata"]
    if transform == "km":
        km = _km_curve(t, e)
        kt, ks = km["time"].to_numpy(), km["surv"].to_numpy()
        idx = np.searchsorted(kt, t, side="left")  # number of KM times < t
        ttimes = 1 - np.r_[1.0, ks][idx]
    elif transform == "rank":
        ttimes = stats.rankdata(t)
    elif transform == "log":
        ttimes = np.log(t)
    else:
        ttimes = t.astype(float)
    gtime = ttimes - ttimes[e == 1].mean()
    beta = fit._beta
    Xc = X - X.mean(axis=0)
    cd = _CoxData(Xc, t, e, w, s)
    pcs = _cox_pieces(cd, beta, fit.ties, info_rows=True)
    # per death row, g of its group (all deaths of a group share the time)
    g_group = gtime[cd.order][cd.g_start]
    gr = g_group[cd.row_g]
    p = cd.p
    dw = cd.w[cd.dpos]
    u2 = (gr[:, None] * (dw[:, None] * cd.X[cd.dpos] - pcs["mw"][:, None] * pcs["xbar"])).sum(axis=0)
    info = pcs["info_rows"]
    I11 = info.sum(axis=0)
    I12 = (gr[:, None, None] * info).sum(axis=0)
    I22 = ((gr**2)[:, None, None] * info).sum(axis=0)
    imat = np.block([[I11, I12], [I12.T, I22]])
    names = d["names"]
    term_cols = {k: [names.index(c) for c in v] for k, v in fit.terms.items()} if terms else \
        {c: [i] for i, c in enumerate(names)}
    rows = []
    for term, jj in term_cols.items():
        kk = list(range(p)) + [j + p for j in jj]
        u = np.r_[np.zeros(p), u2[jj]]
        chisq = float(u @ linalg.solve(imat[np.ix_(kk, kk)], u))
        rows.append({"term": term, "chisq": chisq, "df": len(jj), "p": float(stats.chi2.sf(chisq, len(jj)))})
    if global_test:
        u = np.r_[np.zeros(p), u2]
        chisq = float(u @ linalg.solve(imat, u))
        rows.append({"term": "GLOBAL", "chisq": chisq, "df": p, "p": float(stats.chi2.sf(chisq, p))})
    return ZphResult(table=pd.DataFrame(rows), transform=transform, terms=terms, n=fit.n, n_events=fit.n_events)


# =========================================================================== plots
_LINESTYLES = ["-", "--", ":", "-."]
_GREYS = ["0.0", "0.45", "0.25", "0.6"]
_CENSOR_SIZE = 3.5  # points: a short tick, about a third of the height of a text line
_CENSOR_WIDTH = 0.6  # points: thinner than the curve, so dense censoring does not merge into a bar


def plot_km(km: KaplanMeier, *, ax: Any = None, times: Sequence[float] | None = None,
            risk_table: bool = True, intervals: bool = True, xlabel: str = "Time",
            ylabel: str = "Proportion without the event", min_at_risk: int | None = None) -> Any:
    """Step plot of the Kaplan-Meier curves with intervals and a risk table below.

    Returns the Figure.  ``times`` sets the risk-table columns (default: the
    x tick positions).  Curves differ by line style as well as grey level, so
    the plot reads in greyscale.  Times with censoring are marked by thin,
    short ticks (``|``) on the curve, as ``plot.survfit`` (R ``survival``)
    and lifelines mark them.  The legend sits above the plot.  Pass ``ax``
    to draw into existing axes (the risk table is then drawn as text under
    that axes).

    ``min_at_risk`` (default None: whole curves): stop each curve at the last
    time at least this many people were at risk (:func:`truncate_at_risk`);
    pass the study's disclosure threshold for published figures.  Numbers at
    risk after the cut are shown as ``<min_at_risk``; a group that never had
    that many people is left out of the plot (its legend entry says so).  A
    result already truncated by :func:`truncate_at_risk` is drawn the same way.

    What is plotted is the Kaplan-Meier estimate of :func:`kaplan_meier`,
    ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` (``d_i`` events among ``n_i`` at
    risk at time ``t_i``), as steps from ``S(0) = 1``, with the pointwise
    interval of its ``conf_type`` shaded.

    Parameters
    ----------
    km : KaplanMeier
        The result of :func:`kaplan_meier`.
    ax : matplotlib Axes, optional
        Axes to draw into (default: a new figure).
    times : sequence of float, optional
        Times of the risk-table columns.
    risk_table, intervals : bool
        Draw the numbers at risk below the plot; shade the intervals.
    xlabel, ylabel : str
        Axis labels.
    min_at_risk : int, optional
        Stop each curve where fewer people were at risk (disclosure control).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete
    observations. *Journal of the American Statistical Association* 53, 457-481.
    Morris TP, Jarvis CI, Cragg W, Phillips PPJ, Choodari-Oskooei B, Sydes MR
    (2019). Proposals on Kaplan-Meier plots in medical research and a survey of
    stakeholder views: KMunicate. *BMJ Open* 9, e030215 (intervals around each
    curve and the numbers at risk beneath it).
    Mirrors R ``survival::plot.survfit`` (``mark.time``, ``conf.int``) with a risk
    table as ``survminer::ggsurvplot(risk.table = TRUE)``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 2, 4, 6, 8], "e": [1, 1, 0, 1, 0, 1, 1, 0, 0, 1],
    ...                   "g": ["a"] * 6 + ["b"] * 4})
    >>> fig = plot_km(kaplan_meier(d, "t", "e", group="g"), times=[0, 4, 8], xlabel="Days")
    >>> ax = fig.axes[0]
    >>> [line.get_label() for line in ax.lines]     # per group: the step curve, its censoring ticks
    ['a', '_censored', 'b', '_censored']
    >>> [t.get_text() for t in ax.texts]            # numbers at risk at days 0, 4 and 8
    ['At risk', 'a', '6', '3', '0', 'b', '4', '3', '1']
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Days', 'Proportion without the event')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    if min_at_risk is not None:
        km = truncate_at_risk(km, min_at_risk)

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.8 if risk_table else 4))
        if risk_table:
            longest = max(len(str(g)) for g in km.groups)
            fig.subplots_adjust(bottom=0.1 + 0.055 * (len(km.groups) + 1),
                                left=min(0.4, 0.12 + 0.011 * longest))
    else:
        fig = ax.figure
    for k, g in enumerate(km.groups):
        tab = km.table[km.table["group"] == g]
        if km.min_at_risk is not None and len(tab) == 0:
            ax.plot([], [], linestyle=_LINESTYLES[k % 4], color=_GREYS[k % 4],
                    label=f"{g} (fewer than {km.min_at_risk}: not shown)")
            continue
        x = np.r_[0.0, tab["time"].to_numpy()]
        y = np.r_[1.0, tab["surv"].to_numpy()]
        ls, col = _LINESTYLES[k % 4], _GREYS[k % 4]
        ax.step(x, y, where="post", linestyle=ls, color=col, label=str(g))
        if intervals and km.conf_type != "none":
            lo = np.r_[1.0, tab["lower"].to_numpy()]
            hi = np.r_[1.0, tab["upper"].to_numpy()]
            ax.fill_between(x, lo, hi, step="post", color=col, alpha=0.15, linewidth=0)
        cens = tab[tab["n_censor"] > 0]
        # censoring marks: thin short ticks on the curve, as survival::plot.survfit (mark = 3) and lifelines
        ax.plot(cens["time"], cens["surv"], linestyle="none", marker="|", color=col, markersize=_CENSOR_SIZE,
                markeredgewidth=_CENSOR_WIDTH, label="_censored")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(km.groups) > 1 or km.groups[0] != "all":
        from ..plots.charts import legend_outside

        legend_outside(ax, title=str(km.group_name) if km.group_name is not None else None)
    if risk_table:
        if times is None:
            times = [tk for tk in ax.get_xticks() if ax.get_xlim()[0] <= tk <= ax.get_xlim()[1]]
        rt = km.risk_table(times)
        trans = ax.get_xaxis_transform()
        ax.text(-0.04, -0.22, "At risk", transform=ax.transAxes, ha="right", va="top",
                fontsize=8, fontweight="bold")
        for k, g in enumerate(km.groups):
            yy = -0.30 - 0.08 * k
            ax.text(-0.04, yy, str(g), transform=ax.transAxes, ha="right", va="top", fontsize=8)
            for tk in times:
                v = rt.loc[g, tk]
                txt = f"{int(round(v))}" if not pd.isna(v) else (f"<{km.min_at_risk}" if km.min_at_risk else "–")
                ax.text(tk, yy, txt, transform=trans, ha="center", va="top", fontsize=8)
    return fig
