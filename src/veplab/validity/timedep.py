"""Prediction over time: time-dependent AUC, Brier score, calibration at a horizon, Uno's C.

A risk tool is used to predict re-arrest over a follow-up in which people are
censored (the follow-up ends, they are lost) and may have competing events (death,
deportation).  The binary AUC of "re-arrested or not" ignores both.  These
measures use inverse probability of censoring weights (IPCW): a person whose
status at the horizon ``tau`` is known counts ``1 / G``, ``G`` the Kaplan-Meier
estimate of remaining uncensored, so the people censored before ``tau`` are
represented by those like them who were followed longer.

=================================  ===============================================
veplab                             R
=================================  ===============================================
:func:`time_auc`                   ``riskRegression::Score(metrics = "auc",
                                   cens.model = "km")``: cumulative/dynamic AUC
                                   with influence-function standard errors
:func:`brier_score`                ``Score(metrics = "brier", null.model = TRUE)``
                                   and the scaled Brier (IPA, ``summary = "ipa"``)
:func:`uno_c`                      ``survival::concordance(timewt = "n/G2",
                                   ymax = tau)``
:func:`calibration_at`             observed risk per risk group by Kaplan-Meier
                                   (``survfit``) or Aalen-Johansen (``cmprsk``);
                                   IPCW logistic calibration intercept and slope
                                   (``glm`` with weights, ``sandwich::vcovHC``)
=================================  ===============================================

Formulas
--------
With cases ``T_i <= tau`` and cause 1 (weight ``a_i = 1 / G(T_i-)``) and controls
``T_j > tau`` (weight ``1 / G(tau)``) or, with competing risks, another cause by
``tau`` (weight ``1 / G(T_j-)``),

    AUC(tau) = sum_i sum_j a_i b_j [1(r_i > r_j) + 1(r_i = r_j) / 2] / (sum_i a_i sum_j b_j)

    Brier(tau) = (1/n) sum_i w_i (1[T_i <= tau, cause 1] - p_i)^2,  IPA = 1 - Brier / Brier_null

``Brier_null`` is that of everyone's predicted risk set to the overall
Kaplan-Meier (or Aalen-Johansen) risk at ``tau``.  Standard errors are
``sd(IF) / sqrt(n)`` with the influence function of the estimate plus the term for
the estimated ``G`` (the Kaplan-Meier's influence function,
``sum dM_c / y``), as ``riskRegression`` computes them; intervals are
``estimate +- z se`` cut to [0, 1].

References
----------
Blanche, P., Dartigues, J.-F., & Jacqmin-Gadda, H. (2013). Estimating and
comparing time-dependent areas under receiver operating characteristic curves for
censored event times with competing risks. *Statistics in Medicine*, 32,
5381-5397.

Gerds, T. A., & Schumacher, M. (2006). Consistent estimation of the expected
Brier score in general survival models with right-censored event times.
*Biometrical Journal*, 48, 1029-1040.

Kattan, M. W., & Gerds, T. A. (2018). The index of prediction accuracy: an
intuitive measure useful for evaluating risk prediction models. *Diagnostic and
Prognostic Research*, 2, 7.

Uno, H., Cai, T., Pencina, M. J., D'Agostino, R. B., & Wei, L. J. (2011). On the
C-statistics for evaluating overall adequacy of risk prediction procedures with
censored survival data. *Statistics in Medicine*, 30, 1105-1117.

Austin, P. C., Harrell, F. E., & van Klaveren, D. (2020). Graphical calibration
curves and the integrated calibration index (ICI) for survival models.
*Statistics in Medicine*, 39, 2714-2742.

Examples
--------
>>> import numpy as np
>>> t = np.array([2, 3, 5, 7, 8, 9, 11, 12, 14, 15]); s = np.array([1, 0, 1, 1, 0, 1, 0, 1, 0, 0])
>>> r = np.array([0.9, 0.2, 0.8, 0.3, 0.4, 0.6, 0.1, 0.5, 0.3, 0.2])
>>> round(float(time_auc(t, s, r, [10]).table["auc"].iloc[0]), 6)   # riskRegression::Score: 0.908288
0.908288
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from .._glm import glm
from .._results import TableResult
from .._validate import InputError, check_ci
from ..outcomes.survival import ConcordanceResult, censoring_km, concordance

__all__ = [
    "TimeAUC",
    "BrierResult",
    "CalibrationAt",
    "time_auc",
    "brier_score",
    "uno_c",
    "calibration_at",
    "plot_time_auc",
    "plot_calibration_at",
]


# =========================================================================== input
def _arrays(time: Any, status: Any, what: str, cencode: Any = 0) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(pd.to_numeric(pd.Series(np.asarray(time).ravel()), errors="coerce"), dtype=float)
    s = np.asarray(status).ravel()
    if len(t) != len(s):
        raise InputError(f"{what}: time has {len(t)} values and status {len(s)}; pass them for the same people")
    if np.isnan(t).any() or (t < 0).any():
        raise InputError(f"{what}: time has {int(np.isnan(t).sum())} missing and {int((t < 0).sum())} negative "
                         "values; every person needs a follow-up time from the start (e.g. release)")
    if pd.isna(pd.Series(s)).any():
        raise InputError(f"{what}: status has {int(pd.isna(pd.Series(s)).sum())} missing values; code {cencode!r} "
                         "for censored and a code per kind of event")
    return t, s


def _risk_matrix(risk: Any, n: int, k: int, what: str) -> np.ndarray:
    r = np.asarray(risk, dtype=float)
    if r.ndim == 1:
        r = np.repeat(r[:, None], k, axis=1)
    if r.shape != (n, k):
        raise InputError(f"{what}: risk must have one value per person (length {n}) or one column per time "
                         f"({n} x {k}); got shape {r.shape}")
    if np.isnan(r).any():
        raise InputError(f"{what}: risk has {int(np.isnan(r).sum())} missing values; leave those people out "
                         "first (and report how many)")
    return r


def _times(times: Any, what: str) -> np.ndarray:
    tt = np.atleast_1d(np.asarray(times, dtype=float))
    if len(tt) == 0 or np.isnan(tt).any() or (tt <= 0).any():
        raise InputError(f"{what}: times must be one or more positive horizons (e.g. [365, 730] days)")
    return tt


class _Censoring:
    """Kaplan-Meier of censoring (``prodlim(reverse = TRUE)``) and its influence function pieces."""
    # pieces: G at each distinct time, G just before it, and the Nelson-Aalen influence sums

    def __init__(self, t: np.ndarray, cens: np.ndarray):
        self.n = len(t)
        # prodlim(reverse = TRUE): at a time with events and censorings the events leave first,
        # so the censoring factor is n(>t) / (n(>t) + c(t)); the influence function uses n(>=t)
        self.u, self.idx, self.G = censoring_km(t, cens.astype(float))  # G(u_j)
        m = len(self.u)
        c = np.bincount(self.idx, weights=cens.astype(float), minlength=m)
        at = self.n - np.r_[0.0, np.cumsum(np.bincount(self.idx, minlength=m))[:-1]]
        self.at = at
        self.G_minus = np.r_[1.0, self.G[:-1]]                # G(u_j-)
        self.MC = np.cumsum(c * self.n / at**2)               # sum_{s <= u_j} n dNc / Y^2
        self.cens = cens

    def at_time(self, tau: float) -> float:
        j = np.searchsorted(self.u, tau, side="right") - 1
        return 1.0 if j < 0 else float(self.G[j])

    def mc_at(self, tau: float) -> float:
        j = np.searchsorted(self.u, tau, side="right") - 1
        return 0.0 if j < 0 else float(self.MC[j])

    def censoring_term(self, t: np.ndarray, c_minus: np.ndarray, c_tau: float, tau: float) -> np.ndarray:
        """(1/n) sum_l c_l phi_k(t_l) for every k: ``c_minus`` per row weighted at ``T_l-``, ``c_tau`` the
        total of the rows weighted at ``tau``; ``phi_k(t)`` is the influence of person k on log(1/G(t))."""
        n, m = self.n, len(self.u)
        k = self.idx
        own = np.where(self.cens, n / self.at[k], 0.0) - self.MC[k]   # phi_k(t) for t >= T_k
        per = np.bincount(k, weights=c_minus, minlength=m)
        later = np.r_[np.cumsum(per[::-1])[::-1], 0.0][k + 1]          # rows with T_l > T_k
        mc_prev = np.r_[0.0, self.MC[:-1]]                              # MC(u_j-)
        early = np.cumsum(per * mc_prev)[k]                             # rows with T_l <= T_k: MC(T_l-)
        out = own * later - early
        before = t <= tau
        out += np.where(before, own * c_tau, -self.mc_at(tau) * c_tau)
        return out / n


def _check_followed_beyond(cz: _Censoring, t: np.ndarray, tt: np.ndarray, what: str) -> None:
    late = [float(x) for x in tt if not (t > x).any() or cz.at_time(x) <= 0]
    if late:
        raise InputError(f"{what}: nobody is followed beyond time {late[0]:g} (the censoring survival G is 0 there), "
                         f"so no one is known to be event-free after it; choose an earlier horizon (e.g. "
                         f"{float(np.max(t[t < late[0]])) if (t < late[0]).any() else 0:g})")


def _outcome_at(t: np.ndarray, s: np.ndarray, tau: float, cause: Any, cencode: Any
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cases, controls at tau (event-free beyond tau), controls with another cause by tau."""
    case = (t <= tau) & (s == cause)
    ctrl1 = t > tau
    ctrl2 = (t <= tau) & (s != cause) & (s != cencode)
    return case, ctrl1, ctrl2


# =========================================================================== AUC
def _weighted_auc(r: np.ndarray, case: np.ndarray, ctrl: np.ndarray, w: np.ndarray
                  ) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and, per row, the weighted sums of opposite-class partners ranked below (+ half ties)."""
    rc, wc = r[ctrl], w[ctrl]
    order = np.argsort(rc, kind="stable")
    rcs, cwc = rc[order], np.r_[0.0, np.cumsum(wc[order])]
    lo = cwc[np.searchsorted(rcs, r, side="left")]
    hi = cwc[np.searchsorted(rcs, r, side="right")]
    below_ctrl = (lo + hi) / 2            # control weight with lower risk, ties half
    ra, wa = r[case], w[case]
    order = np.argsort(ra, kind="stable")
    ras, cwa = ra[order], np.r_[0.0, np.cumsum(wa[order])]
    tot = cwa[-1]
    lo = cwa[np.searchsorted(ras, r, side="left")]
    hi = cwa[np.searchsorted(ras, r, side="right")]
    above_case = tot - (lo + hi) / 2      # case weight with higher risk, ties half
    A, B = float(w[case].sum()), float(w[ctrl].sum())
    auc = float((w[case] * below_ctrl[case]).sum() / (A * B)) if A > 0 and B > 0 else float("nan")
    return auc, below_ctrl, above_case


@dataclasses.dataclass(frozen=True)
class TimeAUC(TableResult):
    """Time-dependent (cumulative/dynamic) AUC at each horizon (R ``riskRegression::Score``).

    ``table``: ``time``, ``auc``, ``se``, ``ci_low``, ``ci_high``, ``n_cases``
    (events of the cause by ``time``), ``n_controls`` (event-free after ``time``,
    plus other causes by ``time``), ``n_censored`` (censored before ``time``: weight 0).
    """

    n: int
    ci: float
    cause: Any
    table: pd.DataFrame = dataclasses.field(repr=False)


    def plot(self, **kwargs: Any) -> Any:
        """AUC(t) with its interval against the horizon (see :func:`plot_time_auc`)."""
        return plot_time_auc(self, **kwargs)

    def summary(self) -> str:
        lines = [f"Time-dependent AUC (cumulative/dynamic, IPCW), n={self.n}"]
        for r in self.table.itertuples(index=False):
            lines.append(f"  t={r.time:g}: AUC={r.auc:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}] "
                         f"cases={r.n_cases} controls={r.n_controls}")
        return "\n".join(lines)


def time_auc(time: Any, status: Any, risk: Any, times: Sequence[float], *, cause: Any = 1, cencode: Any = 0,
             ci: float = 0.95) -> TimeAUC:
    """Cumulative/dynamic AUC at each horizon with IPCW, as ``riskRegression::Score(metrics = "auc")``.

    ``status``: ``cencode`` (0) censored, ``cause`` (1) the event predicted; any other
    code is a competing event (those people are controls: they did not have the
    event by ``tau``).  ``risk``: one score per person (higher = more risk), or a
    matrix with one column per horizon (a predicted risk at each ``tau``).

    Formula: ``AUC(tau) = sum_i sum_j a_i b_j K(r_i, r_j) / (sum a sum b)``
    (module docstring), ``K = 1`` when the case's risk is higher, ``1/2`` on a tie.
    The standard error is that of ``Score(cens.model = "km", conf.int = TRUE)``:
    ``sd(IF) / sqrt(n)``, the influence function including the term for the
    estimated censoring distribution.

    References
    ----------
    Blanche, P., Dartigues, J.-F., & Jacqmin-Gadda, H. (2013). *Statistics in
    Medicine*, 32, 5381-5397.  Heagerty, P. J., Lumley, T., & Pepe, M. S. (2000).
    Time-dependent ROC curves for censored survival data and a diagnostic marker.
    *Biometrics*, 56, 337-344.  R: ``riskRegression::Score``
    (tests/reference/timedep.R).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([2, 3, 5, 7, 8, 9, 11, 12, 14, 15]); s = np.array([1, 0, 1, 1, 0, 1, 0, 1, 0, 0])
    >>> r = np.array([0.9, 0.2, 0.8, 0.3, 0.4, 0.6, 0.1, 0.5, 0.3, 0.2])
    >>> round(float(time_auc(t, s, r, [10]).table["auc"].iloc[0]), 6)   # riskRegression::Score: 0.908288
    0.908288
    """
    what = "time_auc"
    ci = check_ci(ci)
    t, s = _arrays(time, status, what, cencode)
    tt = _times(times, what)
    R = _risk_matrix(risk, len(t), len(tt), what)
    cz = _Censoring(t, s == cencode)
    n = len(t)
    gmin = cz.G_minus[cz.idx]
    z = stats.norm.ppf(0.5 + ci / 2)
    rows = []
    _check_followed_beyond(cz, t, tt, what)
    for k, tau in enumerate(tt):
        case, c1, c2 = _outcome_at(t, s, tau, cause, cencode)
        ctrl = c1 | c2
        w = np.where(case | c2, 1 / gmin, np.where(c1, 1 / cz.at_time(tau), 0.0))
        auc, below, above = _weighted_auc(R[:, k], case, ctrl, w)
        A, B = w[case].sum(), w[ctrl].sum()
        if not (A > 0 and B > 0):
            rows.append({"time": tau, "auc": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                         "n_cases": int(case.sum()), "n_controls": int(ctrl.sum()),
                         "n_censored": int(n - case.sum() - ctrl.sum())})
            continue
        ic0 = np.zeros(n)
        ic0[case] = n * w[case] * (below[case] - auc * B) / (A * B)
        ic0[ctrl] = n * w[ctrl] * (above[ctrl] - auc * A) / (A * B)
        c_minus = np.where(case | c2, ic0, 0.0)
        c_tau = float(ic0[c1].sum())
        infl = ic0 + cz.censoring_term(t, c_minus, c_tau, tau)
        se = float(np.std(infl, ddof=1) / np.sqrt(n))
        rows.append({"time": tau, "auc": auc, "se": se, "ci_low": max(0.0, auc - z * se),
                     "ci_high": min(1.0, auc + z * se), "n_cases": int(case.sum()), "n_controls": int(ctrl.sum()),
                     "n_censored": int(n - case.sum() - ctrl.sum())})
    return TimeAUC(n=n, ci=ci, cause=cause, table=pd.DataFrame(rows))


# =========================================================================== Brier
def _null_risk(t: np.ndarray, s: np.ndarray, tau: float, cause: Any, cencode: Any) -> float:
    """Overall risk of the cause by tau: Aalen-Johansen (= 1 - Kaplan-Meier without competing events)."""
    u, idx = np.unique(t, return_inverse=True)
    m = len(u)
    at = len(t) - np.r_[0.0, np.cumsum(np.bincount(idx, minlength=m))[:-1]]
    d_all = np.bincount(idx, weights=(s != cencode).astype(float), minlength=m)
    d_k = np.bincount(idx, weights=(s == cause).astype(float), minlength=m)
    surv_minus = np.r_[1.0, np.cumprod(1 - d_all / at)[:-1]]
    cif = np.cumsum(surv_minus * d_k / at)
    j = np.searchsorted(u, tau, side="right") - 1
    return 0.0 if j < 0 else float(cif[j])


@dataclasses.dataclass(frozen=True)
class BrierResult(TableResult):
    """Brier score at each horizon, the null model's, and the scaled Brier (IPA).

    ``table``: ``time``, ``brier``, ``se``, ``ci_low``, ``ci_high``,
    ``null_risk`` (overall Kaplan-Meier / Aalen-Johansen risk by ``time``),
    ``null_brier`` with its ``null_se``, and ``ipa = 1 - brier / null_brier``
    (0: no better than giving everyone the average risk; 1: perfect; negative: worse).
    """

    n: int
    ci: float
    cause: Any
    table: pd.DataFrame = dataclasses.field(repr=False)


    def summary(self) -> str:
        lines = [f"Brier score (IPCW), n={self.n}"]
        for r in self.table.itertuples(index=False):
            lines.append(f"  t={r.time:g}: Brier={r.brier:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}] "
                         f"null={r.null_brier:.4f} IPA={r.ipa:.4f}")
        return "\n".join(lines)


def _brier_one(t, s, p, tau, cause, cencode, cz: _Censoring, gmin: np.ndarray) -> tuple[float, float]:
    n = len(t)
    case, c1, c2 = _outcome_at(t, s, tau, cause, cencode)
    res = np.where(case, (1 - p) ** 2 / gmin, 0.0)
    res = np.where(c2, p**2 / gmin, res)
    res = np.where(c1, p**2 / cz.at_time(tau), res)
    b = float(res.mean())
    c_minus = np.where(case | c2, res, 0.0)
    infl = (res - b) + cz.censoring_term(t, c_minus, float(res[c1].sum()), tau)
    return b, float(np.std(infl, ddof=1) / np.sqrt(n))


def brier_score(time: Any, status: Any, risk: Any, times: Sequence[float], *, cause: Any = 1, cencode: Any = 0,
                ci: float = 0.95) -> BrierResult:
    """IPCW Brier score of predicted risks at each horizon, with the null model and the scaled Brier (IPA).

    ``risk``: the predicted probability of the event (``cause``) by each horizon,
    one value per person (the same for every horizon) or a matrix with a column per
    horizon.  As ``riskRegression::Score(metrics = "brier", cens.model = "km",
    null.model = TRUE)``; ``ipa`` as ``summary = "ipa"``.

    Formula: ``Brier(tau) = (1/n) sum_i w_i (1[T_i <= tau, cause] - p_i)^2`` with
    ``w_i = 1 / G(T_i-)`` for an event by ``tau``, ``1 / G(tau)`` for ``T_i > tau``
    and 0 for censoring before ``tau``; ``IPA = 1 - Brier / Brier_null``.

    References
    ----------
    Gerds, T. A., & Schumacher, M. (2006). *Biometrical Journal*, 48, 1029-1040.
    Kattan, M. W., & Gerds, T. A. (2018). *Diagnostic and Prognostic Research*, 2,
    7.  R: ``riskRegression::Score`` (tests/reference/timedep.R).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([2, 3, 5, 7, 8, 9, 11, 12, 14, 15]); s = np.array([1, 0, 1, 1, 0, 1, 0, 1, 0, 0])
    >>> p = np.array([0.9, 0.2, 0.8, 0.3, 0.4, 0.6, 0.1, 0.5, 0.3, 0.2])
    >>> round(float(brier_score(t, s, p, [10]).table["brier"].iloc[0]), 6)   # riskRegression::Score: 0.134875
    0.134875
    """
    what = "brier_score"
    ci = check_ci(ci)
    t, s = _arrays(time, status, what, cencode)
    tt = _times(times, what)
    P = _risk_matrix(risk, len(t), len(tt), what)
    if (P < 0).any() or (P > 1).any():
        raise InputError(f"{what}: risk must be predicted probabilities between 0 and 1 (a score on another scale "
                         "has no Brier score; use time_auc for its discrimination)")
    cz = _Censoring(t, s == cencode)
    _check_followed_beyond(cz, t, tt, what)
    gmin = cz.G_minus[cz.idx]
    z = stats.norm.ppf(0.5 + ci / 2)
    rows = []
    for k, tau in enumerate(tt):
        b, se = _brier_one(t, s, P[:, k], tau, cause, cencode, cz, gmin)
        p0 = _null_risk(t, s, tau, cause, cencode)
        b0, se0 = _brier_one(t, s, np.full(len(t), p0), tau, cause, cencode, cz, gmin)
        rows.append({"time": tau, "brier": b, "se": se, "ci_low": max(0.0, b - z * se), "ci_high": min(1.0, b + z * se),
                     "null_risk": p0, "null_brier": b0, "null_se": se0,
                     "ipa": 1 - b / b0 if b0 > 0 else float("nan")})
    return BrierResult(n=len(t), ci=ci, cause=cause, table=pd.DataFrame(rows))


# =========================================================================== Uno's C
def uno_c(time: Any, status: Any, risk: Any, tau: float | None = None, *, ci: float = 0.95) -> ConcordanceResult:
    """Uno's C up to ``tau``: concordance with pairs weighted by ``1 / G(t-)^2``.

    As ``survival::concordance(Surv(time, status) ~ risk, timewt = "n/G2",
    ymax = tau, reverse = TRUE)`` (veplab's one concordance,
    :func:`veplab.outcomes.concordance`); ``status`` is 0/1 (code other events as
    censored, or use :func:`time_auc` for competing risks).  Returns a
    :class:`~veplab.outcomes.ConcordanceResult`: ``estimate`` (Uno's C), ``se``
    (infinitesimal jackknife, weights fixed, as R), ``ci_low``, ``ci_high``, ``tau``.

    Formula: ``C = sum_{i,j} w_i 1(T_i < T_j, T_i <= tau) 1(r_i > r_j) / sum_{i,j}
    w_i 1(T_i < T_j, T_i <= tau)`` with ``w_i = delta_i / G(T_i-)^2`` (ties in risk
    count one half).

    References
    ----------
    Uno, H., Cai, T., Pencina, M. J., D'Agostino, R. B., & Wei, L. J. (2011).
    *Statistics in Medicine*, 30, 1105-1117.  R: ``survival::concordance``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([2, 3, 5, 7, 8, 9, 11, 12, 14, 15]); s = np.array([1, 0, 1, 1, 0, 1, 0, 1, 0, 0])
    >>> r = np.array([0.9, 0.2, 0.8, 0.3, 0.4, 0.6, 0.1, 0.5, 0.3, 0.2])
    >>> round(uno_c(t, s, r, 12).estimate, 6)   # survival::concordance(timewt = "n/G2", ymax = 12): 0.887064
    0.887064
    """

    what = "uno_c"
    ci = check_ci(ci)
    t, s = _arrays(time, status, what)
    sv = pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype=float)
    if not np.isin(sv, [0, 1]).all():
        raise InputError(f"{what}: status must be 0 (censored) or 1 (the event); code competing events as 0 here "
                         "or use time_auc(cause=)")
    r = np.asarray(risk, dtype=float)
    if r.shape != t.shape or np.isnan(r).any():
        raise InputError(f"{what}: risk must hold one non-missing value per person")
    return concordance(t, sv, r, timewt="n/G2", ymax=tau, ci=ci)


# =========================================================================== calibration at tau
@dataclasses.dataclass(frozen=True)
class CalibrationAt(TableResult):
    """Calibration of predicted risks at a horizon.

    ``table``: per risk group ``n``, ``predicted`` (mean predicted risk),
    ``observed`` (Kaplan-Meier 1 - S(tau) or Aalen-Johansen F(tau)) with
    ``ci_low``/``ci_high``, ``n_risk`` (still followed at ``tau``).  Scalars: the
    IPCW logistic calibration intercept (calibration-in-the-large, slope fixed at
    1) and slope with robust (HC0) standard errors and intervals.
    """

    tau: float
    n: int
    n_known: int
    method: str
    intercept: float
    intercept_se: float
    intercept_ci_low: float
    intercept_ci_high: float
    slope: float
    slope_se: float
    slope_ci_low: float
    slope_ci_high: float
    ci: float
    table: pd.DataFrame = dataclasses.field(repr=False)


    def plot(self, **kwargs: Any) -> Any:
        """Observed against predicted risk by group, with intervals and the diagonal."""
        return plot_calibration_at(self, **kwargs)


def _group_observed(t, s, tau, cause, cencode, method, ci) -> tuple[float, float, float, int]:
    """Observed risk by tau in one group: 1 - KM (log intervals as survfit) or AJ (log-log, cmprsk var)."""
    from ..outcomes.competing import _cinc, _loglog_limits
    from ..outcomes.survival import _conf_limits, _km_curve

    n_risk = int((t >= tau).sum())
    if method == "km":
        km = _km_curve(t, (s == cause).astype(float))
        j = np.searchsorted(km["time"].to_numpy(), tau, side="right") - 1
        if j < 0:
            return 0.0, 0.0, 0.0, n_risk
        sv, se = km["surv"].to_numpy()[j], km["se_log"].to_numpy()[j]
        lo, hi = _conf_limits(np.array([sv]), np.array([se]), "log", ci)
        return float(1 - sv), float(1 - hi[0]), float(1 - lo[0]), n_risk
    order = np.argsort(t, kind="stable")
    tab = _cinc(t[order], (s[order] != cencode).astype(float), (s[order] == cause).astype(float))
    j = np.searchsorted(tab["time"].to_numpy(), tau, side="right") - 1
    if j < 0:
        return 0.0, 0.0, 0.0, n_risk
    est, var = tab["estimate"].to_numpy()[j], tab["var"].to_numpy()[j]
    lo, hi = _loglog_limits(np.array([est]), np.array([var]), ci)
    return float(est), float(lo[0]), float(hi[0]), n_risk


def calibration_at(time: Any, status: Any, risk: Any, tau: float, *, groups: Any = 5, cause: Any = 1,
                   cencode: Any = 0, method: str | None = None, ci: float = 0.95) -> CalibrationAt:
    """Calibration of predicted risks by ``tau``: observed against predicted per risk group, intercept and slope.

    ``groups``: a number of quantile groups of the predicted risk (default 5,
    ``cut(p, quantile(p, 0:5/5), include.lowest = TRUE)``) or an array of group
    labels (e.g. the tool's risk levels).  Observed risk per group is ``1 - S(tau)``
    by Kaplan-Meier (``method="km"``, log intervals as ``survfit``) or the
    Aalen-Johansen cumulative incidence (``"aj"``, cmprsk's variance, log(-log)
    intervals); by default Aalen-Johansen when there are competing events.

    Calibration intercept and slope: IPCW logistic regressions among people whose
    status at ``tau`` is known, ``logit P(event by tau) = a + logit(p)`` (intercept,
    0 when the average risk is right) and ``= a + b logit(p)`` (slope, 1 when the
    spread is right; below 1 when predictions are too extreme), weights ``1 /
    G(T-)`` for events by ``tau`` and ``1 / G(tau)`` for those followed beyond it,
    robust (HC0) standard errors (R: ``glm(quasibinomial, weights = w)`` and
    ``sandwich::vcovHC(type = "HC0")``, treating the weights as known).

    Formula: ``logit P(Y = 1) = a + b logit(p)``, ``Y = 1[T <= tau, cause]``.

    References
    ----------
    Austin, P. C., Harrell, F. E., & van Klaveren, D. (2020). *Statistics in
    Medicine*, 39, 2714-2742.  Van Calster, B., et al. (2019). Calibration: the
    Achilles heel of predictive analytics. *BMC Medicine*, 17, 230.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> p = rng.uniform(0.1, 0.6, 400); t = np.where(rng.random(400) < p, rng.uniform(1, 10, 400), 12.0)
    >>> s = (t < 12).astype(int)
    >>> round(calibration_at(t, s, p, 11).slope, 2)   # the risks are right, so the slope is near 1
    1.17
    """
    what = "calibration_at"
    ci = check_ci(ci)
    t, s = _arrays(time, status, what, cencode)
    p = np.asarray(risk, dtype=float)
    if p.shape != t.shape or np.isnan(p).any() or (p <= 0).any() or (p >= 1).any():
        raise InputError(f"{what}: risk must hold one predicted probability strictly between 0 and 1 per person")
    competing = bool(((s != cause) & (s != cencode)).any())
    method = method or ("aj" if competing else "km")
    if method not in ("km", "aj"):
        raise InputError(f"{what}: method must be 'km' (Kaplan-Meier) or 'aj' (Aalen-Johansen)")
    if isinstance(groups, (int, np.integer)):
        qs = np.quantile(p, np.linspace(0, 1, int(groups) + 1))
        qs = np.unique(qs)
        labels = np.clip(np.searchsorted(qs, p, side="left"), 1, len(qs) - 1)
    else:
        labels = np.asarray(groups)
        if labels.shape != p.shape:
            raise InputError(f"{what}: groups must be a number of groups or one label per person")
    rows = []
    for g in pd.unique(pd.Series(labels).sort_values()):
        m = labels == g
        obs, lo, hi, nr = _group_observed(t[m], s[m], tau, cause, cencode, method, ci)
        rows.append({"group": g, "n": int(m.sum()), "predicted": float(p[m].mean()), "observed": obs,
                     "ci_low": lo, "ci_high": hi, "n_risk": nr})
    table = pd.DataFrame(rows)
    # IPCW logistic recalibration
    cz = _Censoring(t, s == cencode)
    _check_followed_beyond(cz, t, np.array([tau], dtype=float), what)
    gmin = cz.G_minus[cz.idx]
    case, c1, c2 = _outcome_at(t, s, tau, cause, cencode)
    known = case | c1 | c2
    w = np.where(c1, 1 / cz.at_time(tau), 1 / gmin)[known]
    y = case[known].astype(float)
    lp = special.logit(p[known])
    z = stats.norm.ppf(0.5 + ci / 2)
    f0 = glm(np.ones((len(y), 1)), y, weights=w, offset=lp, on_boundary="ignore", what=what)
    f1 = glm(np.column_stack([np.ones(len(y)), lp]), y, weights=w, on_boundary="ignore", what=what)
    a, a_se = float(f0.coef[0]), float(np.sqrt(f0.vcov("HC0")[0, 0]))
    b, b_se = float(f1.coef[1]), float(np.sqrt(f1.vcov("HC0")[1, 1]))
    return CalibrationAt(tau=float(tau), n=len(t), n_known=int(known.sum()), method=method, intercept=a,
                         intercept_se=a_se, intercept_ci_low=a - z * a_se, intercept_ci_high=a + z * a_se, slope=b,
                         slope_se=b_se, slope_ci_low=b - z * b_se, slope_ci_high=b + z * b_se, ci=ci, table=table)


# =========================================================================== plots
def plot_time_auc(res: TimeAUC, *, ax: Any = None, xlabel: str = "Time since start of follow-up",
                  label: str | None = None) -> Any:
    """AUC(t) with its pointwise interval; the chance line at 0.5.  Returns the Figure.

    The points are the cumulative/dynamic AUC of :func:`time_auc` at its times,
    ``AUC(t) = P(r_i > r_j | T_i <= t, T_j > t)`` estimated with inverse
    probability of censoring weights, joined by a line, with the pointwise interval
    shaded.

    Parameters
    ----------
    res : TimeAUC
        The result of :func:`time_auc`.
    ax : matplotlib Axes, optional
        Axes to draw into (default: a new figure).
    xlabel : str
        Label of the time axis.
    label : str, optional
        Legend entry (no legend without it).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Heagerty, P. J., Lumley, T., & Pepe, M. S. (2000). Time-dependent ROC curves for
    censored survival data and a diagnostic marker. *Biometrics*, 56, 337-344.
    Blanche, P., Dartigues, J.-F., & Jacqmin-Gadda, H. (2013). Estimating and comparing
    time-dependent areas under receiver operating characteristic curves for censored
    event times with competing risks. *Statistics in Medicine*, 32, 5381-5397.
    Mirrors R ``timeROC::plotAUCcurve(conf.int = TRUE)`` and ``riskRegression::plotAUC``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, numpy as np
    >>> t = np.array([2, 3, 5, 7, 8, 9, 11, 12, 14, 15]); s = np.array([1, 0, 1, 1, 0, 1, 0, 1, 0, 0])
    >>> r = np.array([0.9, 0.2, 0.8, 0.3, 0.4, 0.6, 0.1, 0.5, 0.3, 0.2])
    >>> fig = plot_time_auc(time_auc(t, s, r, [6, 10, 13]), label="Score")
    >>> ax = fig.axes[0]
    >>> ax.lines[0].get_xydata().round(3).tolist(), ax.get_ylabel()   # AUC(6), AUC(10), AUC(13)
    ([[6.0, 1.0], [10.0, 0.908], [13.0, 0.956]], 'Time-dependent AUC')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
    else:
        fig = ax.figure
    tab = res.table.dropna(subset=["auc"])
    ax.plot(tab["time"], tab["auc"], color="0.1", marker="o", markersize=3, label=label)
    ax.fill_between(tab["time"], tab["ci_low"], tab["ci_high"], color="0.1", alpha=0.15, linewidth=0)
    ax.axhline(0.5, color="0.5", linestyle=":", linewidth=1)
    ax.set_ylim(0.3, 1.0)
    ax.set_xlim(left=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Time-dependent AUC")
    if label:
        ax.legend(frameon=False)
    return fig


def plot_calibration_at(res: CalibrationAt, *, ax: Any = None, xlabel: str = "Predicted risk",
                        ylabel: str = "Observed risk") -> Any:
    """Observed (with intervals) against mean predicted risk per group, with the diagonal.  Returns the Figure.

    One point per risk group of :func:`calibration_at`: the mean predicted risk by
    ``tau`` against the observed risk, ``1 - S(tau)`` by Kaplan-Meier or the
    Aalen-Johansen cumulative incidence with competing events, with its interval;
    points on the dotted diagonal ``observed = predicted`` are well calibrated.

    Parameters
    ----------
    res : CalibrationAt
        The result of :func:`calibration_at`.
    ax : matplotlib Axes, optional
        Axes to draw into (default: a new figure).
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Austin, P. C., Harrell, F. E., & van Klaveren, D. (2020). Graphical calibration curves
    and the integrated calibration index (ICI) for survival models. *Statistics in
    Medicine*, 39, 2714-2742.
    Mirrors R ``riskRegression::plotCalibration(Score(..., plots = "calibration"),
    method = "quantile")`` (observed against predicted risk in quantile groups).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, numpy as np
    >>> rng = np.random.default_rng(1)
    >>> p = rng.uniform(0.1, 0.6, 400); t = np.where(rng.random(400) < p, rng.uniform(1, 10, 400), 12.0)
    >>> fig = plot_calibration_at(calibration_at(t, (t < 12).astype(int), p, 11))
    >>> ax = fig.axes[0]
    >>> ax.containers[0].lines[0].get_xydata().round(2).tolist()[:2]   # (predicted, observed), lowest groups
    [[0.15, 0.07], [0.24, 0.19]]
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Predicted risk', 'Observed risk')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.8, 4.5))
    else:
        fig = ax.figure
    tab = res.table
    top = float(np.nanmax(np.r_[tab["predicted"], tab["ci_high"], 0.05])) * 1.1
    top = min(1.0, top)
    ax.plot([0, top], [0, top], color="0.6", linestyle=":", linewidth=1)
    ax.errorbar(tab["predicted"], tab["observed"],
                yerr=[tab["observed"] - tab["ci_low"], tab["ci_high"] - tab["observed"]],
                fmt="o", color="0.1", markersize=4, capsize=2, linewidth=1)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("equal")
    return fig
