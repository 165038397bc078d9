"""Decision curves: the net benefit of acting on a risk tool across threshold probabilities.

A tool is useful when acting on it (a programme place, supervision, a review)
does more good than acting on everyone or on no one.  With a threshold
probability ``pt`` -- the risk at which one would act, which says how many
unnecessary actions one accepts to reach one person who would have had the event
(``(1 - pt) / pt``) -- the net benefit of acting on those with predicted risk at
or above ``pt`` is

    NB(pt) = TP / n - FP / n * pt / (1 - pt)

(Vickers & Elkin 2006).  Acting on no one has NB = 0; acting on everyone has
``NB_all = prevalence - (1 - prevalence) pt / (1 - pt)``.  A tool is worth using
at the thresholds where its curve is above both.  With a follow-up (censoring,
competing events) the true and false positives at the horizon ``tau`` come from
the risk by ``tau`` among those acted on, by Kaplan-Meier or Aalen-Johansen
(Vickers et al. 2008):

    NB(pt) = F_+(tau) P(+) - (1 - F_+(tau)) P(+) pt / (1 - pt)

The ``dcurves`` package (Python) needs lifelines, which needs pandas < 3, so it
cannot serve as an oracle here; tests/reference/timedep.R writes the formulas out
in R (survfit, cmprsk::cuminc) and the tests compare with them.

References
----------
Vickers, A. J., & Elkin, E. B. (2006). Decision curve analysis: a novel method
for evaluating prediction models. *Medical Decision Making*, 26, 565-574.

Vickers, A. J., Cronin, A. M., Elkin, E. B., & Gonen, M. (2008). Extensions to
decision curve analysis, a novel method for evaluating diagnostic tests,
prediction models and molecular markers. *BMC Medical Informatics and Decision
Making*, 8, 53.

Vickers, A. J., van Calster, B., & Steyerberg, E. W. (2019). A simple,
step-by-step guide to interpreting decision curve analysis. *Diagnostic and
Prognostic Research*, 3, 18.

Examples
--------
>>> import numpy as np
>>> y = np.array([1, 0, 1, 0, 0, 1, 0, 0]); p = np.array([0.8, 0.1, 0.6, 0.4, 0.2, 0.3, 0.7, 0.1])
>>> float(decision_curve(p, y=y, thresholds=[0.5]).table["net_benefit"].iloc[0])
0.125
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._results import TableResult
from .._validate import InputError

__all__ = ["DecisionCurve", "decision_curve", "plot_decision_curve"]


@dataclasses.dataclass(frozen=True)
class DecisionCurve(TableResult):
    """Net benefit across thresholds (``table``: ``threshold``, ``net_benefit``,
    ``treat_all``, ``treat_none``, ``n_above`` -- people at or above the threshold --
    and ``interventions_avoided`` per 100 people compared with acting on all)."""

    n: int
    prevalence: float
    tau: float | None
    method: str
    table: pd.DataFrame = dataclasses.field(repr=False)


    def plot(self, **kwargs: Any) -> Any:
        """The decision curve against acting on all and on none (see :func:`plot_decision_curve`)."""
        return plot_decision_curve(self, **kwargs)

    def useful_range(self) -> tuple[float, float] | None:
        """The lowest and highest thresholds at which the tool's net benefit beats both defaults."""
        tab = self.table
        ok = (tab["net_benefit"] > tab["treat_all"]) & (tab["net_benefit"] > 0)
        if not ok.any():
            return None
        return float(tab.loc[ok, "threshold"].min()), float(tab.loc[ok, "threshold"].max())


def _risk_by(t: np.ndarray, s: np.ndarray, tau: float, cause: Any, cencode: Any, method: str) -> float:
    """Risk of the cause by tau in a group: 1 - Kaplan-Meier (other events censored) or Aalen-Johansen."""
    if len(t) == 0:
        return 0.0
    u, idx = np.unique(t, return_inverse=True)
    m = len(u)
    at = len(t) - np.r_[0.0, np.cumsum(np.bincount(idx, minlength=m))[:-1]]
    d_k = np.bincount(idx, weights=(s == cause).astype(float), minlength=m)
    j = np.searchsorted(u, tau, side="right") - 1
    if j < 0:
        return 0.0
    if method == "km":
        return float(1 - np.prod(1 - d_k[: j + 1] / at[: j + 1]))
    d_all = np.bincount(idx, weights=(s != cencode).astype(float), minlength=m)
    surv_minus = np.r_[1.0, np.cumprod(1 - d_all / at)[:-1]]
    return float(np.sum((surv_minus * d_k / at)[: j + 1]))


def decision_curve(
    risk: Any,
    *,
    y: Any = None,
    time: Any = None,
    status: Any = None,
    tau: float | None = None,
    thresholds: Sequence[float] | None = None,
    cause: Any = 1,
    cencode: Any = 0,
    method: str | None = None,
) -> DecisionCurve:
    """Net benefit of acting on people whose predicted risk is at least each threshold.

    Either a binary outcome ``y`` (1 = event) or a follow-up ``time``/``status`` with
    the horizon ``tau`` (``status``: ``cencode`` censored, ``cause`` the event, other
    codes competing events).  ``risk`` is a predicted probability of the event (by
    ``tau``); a tool that gives levels can be turned into risks first (e.g. the
    observed risk of each level in other data).  ``thresholds`` default to 0.01,
    0.02, ..., 0.99.  ``method`` for follow-up: ``"km"`` (Kaplan-Meier; other events
    censored) or ``"aj"`` (Aalen-Johansen; the default when there are competing
    events).

    Formula: ``NB(pt) = TP/n - FP/n * pt / (1 - pt)``; with follow-up ``TP/n =
    F_+(tau) P(+)`` and ``FP/n = (1 - F_+(tau)) P(+)``.  ``interventions_avoided``
    = ``(NB - NB_all) / (pt / (1 - pt)) * 100``: per 100 people, the unnecessary
    actions avoided compared with acting on all, at the same benefit.

    References
    ----------
    Vickers, A. J., & Elkin, E. B. (2006). *Medical Decision Making*, 26, 565-574.
    Vickers, A. J., Cronin, A. M., Elkin, E. B., & Gonen, M. (2008). *BMC Medical
    Informatics and Decision Making*, 8, 53.  R: the formulas in
    tests/reference/timedep.R (with ``survfit`` and ``cmprsk::cuminc``).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1, 0, 1, 0, 0, 1, 0, 0]); p = np.array([0.8, 0.1, 0.6, 0.4, 0.2, 0.3, 0.7, 0.1])
    >>> dc = decision_curve(p, y=y, thresholds=[0.2, 0.5])
    >>> [round(v, 4) for v in dc.table["net_benefit"]]
    [0.2812, 0.125]
    """
    what = "decision_curve"
    p = np.asarray(pd.to_numeric(pd.Series(np.asarray(risk).ravel()), errors="coerce"), dtype=float)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise InputError(f"{what}: risk must be predicted probabilities between 0 and 1 with none missing "
                         f"({int(np.isnan(p).sum())} missing)")
    thr = np.arange(1, 100) / 100 if thresholds is None else np.asarray(thresholds, dtype=float)
    if len(thr) == 0 or (thr <= 0).any() or (thr >= 1).any():
        raise InputError(f"{what}: thresholds must lie strictly between 0 and 1")
    n = len(p)
    odds = thr / (1 - thr)
    if y is not None:
        yy = np.asarray(pd.to_numeric(pd.Series(np.asarray(y).ravel()), errors="coerce"), dtype=float)
        if len(yy) != n or not np.isin(yy, [0, 1]).all():
            raise InputError(f"{what}: y must be 0/1 with one value per person")
        order = np.argsort(-p, kind="stable")
        ps, ys = p[order], yy[order]
        tp = np.r_[0.0, np.cumsum(ys)]
        k = np.searchsorted(-ps, -thr, side="right")  # people with p >= threshold
        prev = float(yy.mean())
        nb = tp[k] / n - (k - tp[k]) / n * odds
        used_tau, used_method = None, "binary"
    else:
        if time is None or status is None or tau is None:
            raise InputError(f"{what}: give a binary outcome y=, or time=, status= and the horizon tau=")
        t = np.asarray(time, dtype=float)
        s = np.asarray(status)
        if len(t) != n or len(s) != n or np.isnan(t).any():
            raise InputError(f"{what}: time and status need one non-missing value per person")
        competing = bool(((s != cause) & (s != cencode)).any())
        used_method = method or ("aj" if competing else "km")
        if used_method not in ("km", "aj"):
            raise InputError(f"{what}: method must be 'km' or 'aj'")
        nb = np.empty(len(thr))
        k = np.empty(len(thr), dtype=int)
        for i, pt in enumerate(thr):
            pos = p >= pt
            k[i] = int(pos.sum())
            f = _risk_by(t[pos], s[pos], tau, cause, cencode, used_method)
            share = k[i] / n
            nb[i] = f * share - (1 - f) * share * odds[i]
        prev = _risk_by(t, s, tau, cause, cencode, used_method)
        used_tau = float(tau)
    nb_all = prev - (1 - prev) * odds
    table = pd.DataFrame({"threshold": thr, "net_benefit": nb, "treat_all": nb_all, "treat_none": 0.0,
                          "n_above": k, "interventions_avoided": (nb - nb_all) / odds * 100})
    return DecisionCurve(n=n, prevalence=prev, tau=used_tau, method=used_method, table=table)


def plot_decision_curve(res: DecisionCurve, *, ax: Any = None, label: str = "Tool",
                        xlabel: str = "Threshold probability", ylabel: str = "Net benefit",
                        max_threshold: float | None = None) -> Any:
    """Net benefit of the tool, of acting on all and on none, against the threshold.  Returns the Figure.

    The y axis runs from a little below 0 to a little above the prevalence (the
    largest net benefit possible); ``max_threshold`` cuts the x axis.

    The curves are those of :func:`decision_curve`: at threshold ``pt``,
    ``net benefit = TP / n - FP / n * pt / (1 - pt)`` for acting on those with
    predicted risk ``>= pt``, ``prevalence - (1 - prevalence) pt / (1 - pt)`` for
    acting on all, and 0 for acting on none.

    Parameters
    ----------
    res : DecisionCurve
        The result of :func:`decision_curve`.
    ax : matplotlib Axes, optional
        Axes to draw into (default: a new figure).
    label : str
        Legend entry of the tool's curve.
    xlabel, ylabel : str
        Axis labels.
    max_threshold : float, optional
        Largest threshold shown.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Vickers, A. J., & Elkin, E. B. (2006). Decision curve analysis: a novel method for
    evaluating prediction models. *Medical Decision Making*, 26, 565-574.
    Mirrors R ``plot(dcurves::dca(...))`` (the model, "Treat All" and "Treat None"
    against the threshold probability).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, numpy as np
    >>> y = np.array([1, 0, 1, 0, 0, 1, 0, 0]); p = np.array([0.8, 0.1, 0.6, 0.4, 0.2, 0.3, 0.7, 0.1])
    >>> fig = plot_decision_curve(decision_curve(p, y=y), label="Risk tool")
    >>> ax = fig.axes[0]
    >>> [line.get_label() for line in ax.lines], ax.get_xlabel()
    (['Risk tool', 'Act on all', 'Act on none'], 'Threshold probability')
    >>> round(float(ax.get_ylim()[1]), 4)         # 1.1 x the prevalence, 3 / 8
    0.4125
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
    else:
        fig = ax.figure
    tab = res.table
    if max_threshold is not None:
        tab = tab[tab["threshold"] <= max_threshold]
    ax.plot(tab["threshold"], tab["net_benefit"], color="0.0", linewidth=1.6, label=label)
    ax.plot(tab["threshold"], tab["treat_all"], color="0.45", linestyle="--", linewidth=1, label="Act on all")
    ax.plot(tab["threshold"], tab["treat_none"], color="0.6", linestyle=":", linewidth=1, label="Act on none")
    top = max(res.prevalence, float(tab["net_benefit"].max()), 0.01)
    ax.set_ylim(-0.15 * top, 1.1 * top)
    ax.set_xlim(float(tab["threshold"].min()), float(tab["threshold"].max()))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    return fig
