"""Competing risks: cumulative incidence, Gray's test, Fine-Gray and cause-specific Cox.

After release a person can be re-arrested, but can also die, be deported or be
re-imprisoned for another reason first; once that happens re-arrest can no longer
be observed.  Treating those people as censored (Kaplan-Meier) overstates the risk
of re-arrest, because censoring assumes they could still be re-arrested later.
The cumulative incidence function ``F_k(t) = P(T <= t, cause = k)`` is the
probability of having had event ``k`` by ``t`` with the others competing.

=================================  ===============================================
veplab                             R
=================================  ===============================================
:func:`cumulative_incidence`       ``cmprsk::cuminc`` (estimates, variances, Gray's
                                   test with ``strata`` and ``rho``), values at
                                   times as ``cmprsk::timepoints``
:func:`fine_gray`                  ``cmprsk::crr`` (subdistribution hazards,
                                   censoring-weighted score, sandwich variance)
:func:`cause_specific_cox`         ``survival::coxph(Surv(time, status == k) ~ .)``
                                   (veplab's one Cox, :func:`~veplab.outcomes.cox`)
:func:`plot_cuminc`                ``plot.cuminc``, with intervals
=================================  ===============================================

Formulas
--------
With ``n_j`` at risk, ``d_kj`` events of cause ``k`` and ``d_j`` of any cause at
the ``j``-th distinct time, and ``S(t)`` the all-cause Kaplan-Meier,

    F_k(t) = sum_{t_j <= t} S(t_{j-1}) d_kj / n_j          (Aalen-Johansen)

Its variance is the delta-method one of Gray's ``cmprsk`` (``cinc``): running sums
``v1, v2, v3`` over event times, ``var F_k(t) = v1 + F^2 v3 - 2 F v2`` with the
ties correction ``1 - (d - 1) / (n - 1)``.  Intervals are on the
``log(-log F)`` scale, ``F^exp(+-z se / (F log F))`` (as ``tidycmprsk``).

Gray's (1988) test compares ``F_k`` across groups with the score
``s_g = sum_t w(t) (d_kg(t) - d_k(t) R_g(t) / sum_h R_h(t))``, ``R_g = n_g (1 -
F_kg(t-)) / S_g(t-)``, ``w = (1 - F_k(t-))^rho``, and its variance from ``crstm``;
``s' V^-1 s`` is chi-square with ``groups - 1`` df, summed over strata.

Fine & Gray (1999) model the subdistribution hazard ``lambda_k(t | x) =
lambda_k0(t) exp(x'b)``.  People who had a competing event stay in the risk set
with weight ``w_i(t) = G(t-) / G(t_i-)``, ``G`` the Kaplan-Meier of censoring
(within ``cengroup``); ``b`` solves the weighted partial-likelihood score
(Breslow ties) and its variance is ``crr``'s sandwich
``I^-1 (sum_i (eta_i + psi_i)(eta_i + psi_i)') I^-1``, ``psi_i`` the term for the
estimated censoring distribution (with several censoring groups its ``q(u)`` is
summed within each group, as ``crr`` does since cmprsk 2.2-11).  Every risk-set sum is a cumulative sum over
the sorted times (O(n p^2) per iteration, not the O(n^2) loops of ``crr``).

References
----------
Aalen, O. O., & Johansen, S. (1978). An empirical transition matrix for
non-homogeneous Markov chains based on censored observations. *Scandinavian
Journal of Statistics*, 5, 141-150.

Gray, R. J. (1988). A class of K-sample tests for comparing the cumulative
incidence of a competing risk. *Annals of Statistics*, 16, 1141-1154.

Fine, J. P., & Gray, R. J. (1999). A proportional hazards model for the
subdistribution of a competing risk. *Journal of the American Statistical
Association*, 94, 496-509.

Putter, H., Fiocco, M., & Geskus, R. B. (2007). Tutorial in biostatistics:
competing risks and multi-state models. *Statistics in Medicine*, 26, 2389-2430.

Examples
--------
>>> import pandas as pd
>>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "s": [1, 2, 1, 0, 1, 2, 0, 1]})
>>> ci = cumulative_incidence(d, "t", "s")
>>> float(ci.at([5], cause=1)["estimate"].iloc[0])   # cmprsk::timepoints: 0.40625
0.40625
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from .._results import TableResult
from .._validate import InputError, check_ci, format_rows
from ._common import design_columns, numeric_column, require_columns, require_frame, sorted_levels, z_crit

__all__ = [
    "CumulativeIncidence",
    "FineGrayResult",
    "cumulative_incidence",
    "fine_gray",
    "cause_specific_cox",
    "plot_cuminc",
]


# =========================================================================== input
def _competing_arrays(df: pd.DataFrame, duration: Any, status: Any, cencode: Any, what: str
                      ) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Times (float) and status codes; causes = sorted codes other than ``cencode``."""
    require_columns(df, [duration, status], what)
    t = numeric_column(df, duration, what)
    if t.isna().any():
        raise InputError(f"{what}: duration column {duration!r} is missing in {int(t.isna().sum())} rows "
                         f"({format_rows(list(df.index[t.isna()]))}); find the follow-up time for them or drop "
                         f"those rows explicitly and report it")
    if (t < 0).any() or not np.isfinite(t.to_numpy()).all():
        bad = (t < 0) | ~np.isfinite(t)
        raise InputError(f"{what}: duration column {duration!r} has {int(bad.sum())} negative or infinite values "
                         f"({format_rows(list(df.index[bad]))}); durations run from the start of follow-up")
    s = df[status]
    if s.isna().any():
        raise InputError(f"{what}: status column {status!r} is missing in {int(s.isna().sum())} rows "
                         f"({format_rows(list(df.index[s.isna()]))}); code {cencode!r} = censored and one code "
                         f"per kind of event (e.g. 1 = re-arrest, 2 = death or deportation)")
    codes = s.to_numpy()
    causes = sorted_levels(s[s != cencode])
    if not causes:
        raise InputError(f"{what}: every row of {status!r} is censored ({cencode!r}); there is no event to "
                         f"describe. Check the status coding or cencode=")
    return t.to_numpy(dtype=float), codes, list(causes)


# =========================================================================== Aalen-Johansen
def _cinc(t: np.ndarray, any_event: np.ndarray, cause: np.ndarray) -> pd.DataFrame:
    """cmprsk ``cinc``: CIF and Gray's variance at each distinct time with an event of the cause.

    Columns: time, n_risk (at risk just before), n_event (of this cause), estimate, var.
    """
    times, idx = np.unique(t, return_inverse=True)
    m = len(times)
    nd = np.bincount(idx, weights=any_event, minlength=m)
    nd1 = np.bincount(idx, weights=cause, minlength=m)
    nd2 = nd - nd1
    rs = len(t) - np.r_[0.0, np.cumsum(np.bincount(idx, minlength=m))[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(nd > 0, (rs - nd) / rs, 1.0)
    fkn = np.cumprod(frac)
    fk = np.r_[1.0, fkn[:-1]]
    f = np.cumsum(np.where(nd1 > 0, fk * nd1 / rs, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t3 = np.where(fkn > 0, 1.0 / fkn, 0.0)
        # other causes (only while the survivor function is positive)
        t5 = np.where(nd2 > 1, 1 - (nd2 - 1) / (rs - 1), 1.0)
        t6 = np.where((nd2 > 0) & (fkn > 0), fk * fk * t5 * nd2 / (rs * rs), 0.0)
        t4 = f * t3
        a1, a2, a3 = t4 * t4 * t6, t3 * t4 * t6, t3 * t3 * t6
        # the cause itself
        t5 = np.where(nd1 > 1, 1 - (nd1 - 1) / (rs - 1), 1.0)
        t6 = np.where(nd1 > 0, fk * fk * t5 * nd1 / (rs * rs), 0.0)
        t4 = 1 + t3 * f
    v1 = np.cumsum(a1 + t4 * t4 * t6)
    v2 = np.cumsum(a2 + t3 * t4 * t6)
    v3 = np.cumsum(a3 + t3 * t3 * t6)
    var = v1 + f * f * v3 - 2 * f * v2
    keep = nd1 > 0
    return pd.DataFrame({"time": times[keep], "n_risk": rs[keep], "n_event": nd1[keep], "estimate": f[keep],
                         "var": var[keep]})


def _loglog_limits(est: np.ndarray, var: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    z = z_crit(ci)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(var) / (est * np.log(est))
        lo = np.exp(-np.exp(np.log(-np.log(est)) - z * se))
        hi = np.exp(-np.exp(np.log(-np.log(est)) + z * se))
    bad = ~((est > 0) & (est < 1) & np.isfinite(se))
    lo, hi = np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)
    return lo, hi


# =========================================================================== Gray's test
def _gray_stratum(t: np.ndarray, m: np.ndarray, g: np.ndarray, ng: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """cmprsk ``crst`` for one stratum: score (ng-1) and its covariance, vectorised over times.

    ``m``: 0 censored, 1 the cause, 2 another cause; ``g``: group codes 0..ng-1.
    """
    times, idx = np.unique(t, return_inverse=True)
    T = len(times)
    d = np.zeros((3, T, ng))
    np.add.at(d, (m, idx, g), 1.0)
    d0, d1, d2 = d[0], d[1], d[2]
    out_t = d0 + d1 + d2
    rs = out_t.sum(axis=0)[None, :] - np.vstack([np.zeros((1, ng)), np.cumsum(out_t, axis=0)[:-1]])
    pos = rs > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(pos, (rs - d1 - d2) / rs, 1.0)
    skm = np.cumprod(step, axis=0)
    skmm = np.vstack([np.ones((1, ng)), skm[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.where(pos, skmm * d1 / rs, 0.0)
    f1 = np.cumsum(inc, axis=0)
    f1m = np.vstack([np.zeros((1, ng)), f1[:-1]])
    nd1, nd2 = d1.sum(axis=1), d2.sum(axis=1)
    active = (nd1 > 0) | (nd2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(pos, rs / skmm, 0.0)
        tr = t1.sum(axis=1)
        tq = np.where(pos, rs * (1 - f1m) / skmm, 0.0).sum(axis=1)
        finc = np.where(active, nd1 / tr, 0.0)
    f = np.cumsum(finc)
    fm = np.r_[0.0, f[:-1]]
    fb = np.where(active, (1 - fm) ** rho, 0.0)
    # a: (T, ng, ng) = fb (diag(t1) - t1 t1' / tr)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = fb[:, None, None] * (np.einsum("ti,ij->tij", t1, np.eye(ng)) - t1[:, :, None] * t1[:, None, :]
                                 / tr[:, None, None])
        cinc = a * np.where(active, nd1 / (tr * (1 - fm)), 0.0)[:, None, None]
    a = np.where(active[:, None, None], a, 0.0)
    cinc = np.where(active[:, None, None], np.nan_to_num(cinc), 0.0)
    c = np.cumsum(cinc, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.where(pos, fb[:, None] * (d1 - nd1[:, None] * rs * (1 - f1m) / (skmm * tq[:, None])), 0.0)
    s = np.where(active[:, None], sc, 0.0).sum(axis=0)
    V = np.zeros((ng, ng))
    v2 = np.zeros((ng, ng))  # v2[i, k]
    v3 = np.zeros(ng)
    # cause-of-interest part (times with nd1 > 0, groups at risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        t4 = np.where(skm > 0, 1 - (1 - f)[:, None] / skm, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = np.where(pos & (nd1[:, None] > 0), t5 * skmm * nd1[:, None] / (tr[:, None] * rs), 0.0)
    t3 = np.nan_to_num(t3)
    v3 += (t4 * t4 * t3).sum(axis=0)
    B = a - t4[:, None, :] * c  # (T, i, k)
    v2 += np.einsum("tik,tk->ik", B, t4 * t3)
    V += np.einsum("tik,tjk,tk->ij", B, B, t3)
    # other causes
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (skm > 0) & (d2 > 0)
        t4 = np.where(ok, (1 - f)[:, None] / skm, 0.0)
        t5 = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        t3 = np.where(ok, t5 * skmm**2 * d2 / rs**2, 0.0)
    t3 = np.nan_to_num(t3)
    v3 += (t4 * t4 * t3).sum(axis=0)
    C = t4[:, None, :] * c  # (T, i, k)
    v2 -= np.einsum("tik,tk->ik", C, t4 * t3)
    V += np.einsum("tik,tjk,tk->ij", C, C, t3)
    cf = c[-1]
    V += np.einsum("ik,jk,k->ij", cf, cf, v3) + cf @ v2.T + v2 @ cf.T
    return s[: ng - 1], V[: ng - 1, : ng - 1]


def _gray_test(t, codes, cause, cencode, gcodes, ng, scodes, rho) -> tuple[float, float, int]:
    m = np.where(codes == cencode, 0, np.where(codes == cause, 1, 2)).astype(int)
    s = np.zeros(ng - 1)
    V = np.zeros((ng - 1, ng - 1))
    for st in np.unique(scodes):
        k = scodes == st
        ss, vv = _gray_stratum(t[k], m[k], gcodes[k], ng, rho)
        s += ss
        V += vv
    if np.linalg.matrix_rank(V) < ng - 1:
        return float("nan"), float("nan"), ng - 1
    stat = float(s @ linalg.solve(V, s, assume_a="sym"))
    return stat, float(stats.chi2.sf(stat, ng - 1)), ng - 1


# =========================================================================== result
@dataclasses.dataclass(frozen=True)
class CumulativeIncidence(TableResult):
    """Cumulative incidence curves by group and cause (R ``cmprsk::cuminc``).

    ``table``: one row per group, cause and time at which the curve jumps, with
    ``n_risk`` (people at risk just before), ``n_event``, ``estimate``, ``var``
    (cmprsk's), ``se`` and ``ci_low``/``ci_high`` (log(-log) scale).  ``tests``:
    Gray's test per cause (``stat``, ``df``, ``p``; empty with one group).
    ``end``: each group's last follow-up time (values after it are NaN, as
    ``timepoints``).
    """

    n: int
    ci: float
    rho: float
    causes: tuple
    groups: tuple
    table: pd.DataFrame = dataclasses.field(repr=False)
    tests: pd.DataFrame = dataclasses.field(repr=False)
    end: dict = dataclasses.field(default_factory=dict, repr=False)
    counts: pd.DataFrame = dataclasses.field(default=None, repr=False)
    group_name: Any = None


    def at(self, times: Sequence[float], *, cause: Any = None) -> pd.DataFrame:
        """Cumulative incidence, variance and interval at ``times`` (as ``cmprsk::timepoints``).

        The value at ``t`` is that after the last jump at or before ``t`` (0 before
        the first); NaN after the group's last follow-up time.  ``cause`` limits the
        rows to one cause.
        """
        tt = np.asarray(list(times), dtype=float)
        rows = []
        for g in self.groups:
            for k in self.causes if cause is None else [cause]:
                tab = self.table[(self.table["group"] == g) & (self.table["cause"] == k)]
                x = tab["time"].to_numpy()
                j = np.searchsorted(x, tt, side="right") - 1
                est = np.where(j >= 0, tab["estimate"].to_numpy()[np.maximum(j, 0)] if len(x) else 0.0, 0.0)
                var = np.where(j >= 0, tab["var"].to_numpy()[np.maximum(j, 0)] if len(x) else 0.0, 0.0)
                late = tt > self.end[g]
                est, var = np.where(late, np.nan, est), np.where(late, np.nan, var)
                lo, hi = _loglog_limits(est, var, self.ci)
                lo, hi = np.where(est == 0, 0.0, lo), np.where(est == 0, 0.0, hi)
                rows.append(pd.DataFrame({"group": g, "cause": k, "time": tt, "estimate": est, "var": var,
                                          "se": np.sqrt(var), "ci_low": lo, "ci_high": hi}))
        return pd.concat(rows, ignore_index=True)

    def plot(self, **kwargs: Any) -> Any:
        """Step plot of the curves with intervals (see :func:`plot_cuminc`); returns the Figure."""
        return plot_cuminc(self, **kwargs)

    def summary(self) -> str:
        lines = [f"Cumulative incidence (Aalen-Johansen), n={self.n}, causes {list(self.causes)}"]
        for r in self.tests.itertuples(index=False):
            lines.append(f"  Gray's test, cause {r.cause}: chisq={r.stat:.4g} df={r.df} p={r.p:.3g}")
        return "\n".join(lines)


def cumulative_incidence(
    df: pd.DataFrame,
    duration: Any,
    status: Any,
    group: Any = None,
    *,
    strata: Any = None,
    rho: float = 0.0,
    cencode: Any = 0,
    ci: float = 0.95,
) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence per cause and group, with Gray's test (``cmprsk::cuminc``).

    ``status`` holds ``cencode`` (default 0) for censored rows and one code per kind
    of event (causes are its other values, sorted).  With ``group``, each cause's
    curves are compared by Gray's test (``rho``: weight ``(1 - F(t-))^rho``, 0 gives
    the log-rank-like test; ``strata``: a stratified test, as ``cuminc(strata=)``).

    Formula (cmprsk ``cinc``): ``F_k(t) = sum_{t_j <= t} S(t_{j-1}) d_kj / n_j``,
    ``var = v1 + F^2 v3 - 2 F v2`` (see the module docstring); intervals
    ``F^exp(+-z se / (F log F))``.

    References
    ----------
    Aalen, O. O., & Johansen, S. (1978). *Scandinavian Journal of Statistics*, 5,
    141-150.  Gray, R. J. (1988). *Annals of Statistics*, 16, 1141-1154.  R:
    ``cmprsk::cuminc`` and ``cmprsk::timepoints`` (tests/reference/competing.R).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "s": [1, 2, 1, 0, 1, 2, 0, 1]})
    >>> ci = cumulative_incidence(d, "t", "s")
    >>> round(float(ci.table["var"].iloc[1]), 6)   # cmprsk: variance after the 2nd cause-1 event
    0.027539
    """
    what = "cumulative_incidence"
    df = require_frame(df, what)
    ci = check_ci(ci)
    require_columns(df, [group, strata], what)
    sub = df
    for extra in (group, strata):
        if extra is not None and df[extra].isna().any():
            miss = df[extra].isna()
            warnings.warn(f"{what}: {int(miss.sum())} rows with a missing {extra!r} were left out "
                          f"({format_rows(list(df.index[miss]))})", stacklevel=2)
            sub = sub.loc[~miss.reindex(sub.index)]
    t, codes, causes = _competing_arrays(sub, duration, status, cencode, what)
    if group is None:
        levels, gcodes = ["all"], np.zeros(len(t), dtype=int)
    else:
        levels = sorted_levels(sub[group])
        gcodes = np.asarray(pd.Categorical(sub[group], categories=levels).codes, dtype=int)
    scodes = np.zeros(len(t), dtype=int) if strata is None else np.asarray(pd.factorize(sub[strata])[0])
    any_event = (codes != cencode).astype(float)
    tabs, ends, counts = [], {}, []
    for k, cause in enumerate(causes):
        is_k = (codes == cause).astype(float)
        for j, lev in enumerate(levels):
            mm = gcodes == j
            order = np.argsort(t[mm], kind="stable")
            tab = _cinc(t[mm][order], any_event[mm][order], is_k[mm][order])
            tab.insert(0, "cause", cause)
            tab.insert(0, "group", lev)
            tabs.append(tab)
            ends[lev] = float(t[mm].max())
            counts.append({"group": lev, "cause": cause, "n": int(mm.sum()), "events": int(is_k[mm].sum())})
    table = pd.concat(tabs, ignore_index=True)
    table["se"] = np.sqrt(table["var"])
    table["ci_low"], table["ci_high"] = _loglog_limits(table["estimate"].to_numpy(), table["var"].to_numpy(), ci)
    rows = []
    if len(levels) > 1:
        for cause in causes:
            stat, p, dfree = _gray_test(t, codes, cause, cencode, gcodes, len(levels), scodes, float(rho))
            rows.append({"cause": cause, "stat": stat, "df": dfree, "p": p})
    tests = pd.DataFrame(rows, columns=["cause", "stat", "df", "p"])
    return CumulativeIncidence(n=len(t), ci=ci, rho=float(rho), causes=tuple(causes), groups=tuple(levels),
                               table=table, tests=tests, end=ends, counts=pd.DataFrame(counts), group_name=group)


# =========================================================================== Fine-Gray
@dataclasses.dataclass
class _FGData:
    t: np.ndarray          # sorted times
    X: np.ndarray          # n x p, sorted
    fail: np.ndarray       # bool, cause of interest
    other: np.ndarray      # bool, competing cause
    cens: np.ndarray       # bool, censored
    G: np.ndarray          # ncg x n: KM of censoring of each group at t_i- (index i)
    cg: np.ndarray         # censoring-group codes
    ncg: int


def _fg_prepare(t, X, fail, other, cens, cg) -> _FGData:
    order = np.argsort(t, kind="stable")
    t, X, fail, other, cens, cg = t[order], X[order], fail[order], other[order], cens[order], cg[order]
    ncg = int(cg.max()) + 1
    G = np.zeros((ncg, len(t)))
    for k in range(ncg):
        m = cg == k
        # at every sorted time: the group's KM just before it; 0 beyond the group's last time (as crr)
        tk = t[m]
        j = np.searchsorted(tk, t, side="left") - 1  # last group time < t
        vals = np.r_[1.0, _km_after(tk, cens[m].astype(float))][j + 1]
        vals = np.where(t * (1 - np.finfo(float).eps) > tk.max(), 0.0, vals)
        G[k] = vals
    return _FGData(t, X, fail, other, cens, G, cg, ncg)


def _km_after(t_sorted: np.ndarray, ev: np.ndarray) -> np.ndarray:
    """Kaplan-Meier (of ``ev``) just after each sorted time."""
    times, idx = np.unique(t_sorted, return_inverse=True)
    c = np.bincount(idx, weights=ev, minlength=len(times))
    at = len(t_sorted) - np.r_[0, np.cumsum(np.bincount(idx, minlength=len(times)))[:-1]]
    return np.cumprod(1 - c / at)[idx]


def _fg_risk(d: _FGData, beta: np.ndarray, need2: bool = True) -> dict[str, Any]:
    """Risk-set sums at each distinct failure time: S0, S1 (p), S2 (p x p)."""
    n, p = d.X.shape
    eta = d.X @ beta
    r = np.exp(eta)
    ftimes, first = np.unique(d.t[d.fail], return_index=True)
    dcount = np.bincount(np.searchsorted(ftimes, d.t[d.fail]), minlength=len(ftimes)).astype(float)
    start = np.searchsorted(d.t, ftimes, side="left")  # first row with t >= ftime
    Gf = d.G[:, np.searchsorted(d.t, ftimes, side="left")]  # (ncg, T): G_g(ftime-)
    rows = [r[:, None], r[:, None] * d.X]
    if need2:
        rows.append((r[:, None, None] * d.X[:, :, None] * d.X[:, None, :]).reshape(n, p * p))
    Z = np.concatenate(rows, axis=1)  # n x q
    # rows with t >= ftime (weight 1): suffix sums
    suf = np.vstack([np.cumsum(Z[::-1], axis=0)[::-1], np.zeros((1, Z.shape[1]))])
    S = suf[start]
    # competing-event rows with t < ftime: G_g(ftime-) * sum r z / G_g(t_i-)
    for k in range(d.ncg):
        m = d.other & (d.cg == k)
        with np.errstate(divide="ignore", invalid="ignore"):
            wz = np.where(m[:, None], Z / np.where(m, d.G[k], 1.0)[:, None], 0.0)
        pre = np.vstack([np.zeros((1, Z.shape[1])), np.cumsum(wz, axis=0)])
        S = S + Gf[k][:, None] * pre[start]
    out = {"eta": eta, "r": r, "ftimes": ftimes, "d": dcount, "start": start, "Gf": Gf,
           "S0": S[:, 0], "S1": S[:, 1:1 + p]}
    if need2:
        out["S2"] = S[:, 1 + p:].reshape(-1, p, p)
    return out


def _fg_lik(d: _FGData, beta: np.ndarray, rs: dict[str, Any] | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """Log pseudo-likelihood, score and information (Breslow ties)."""
    rs = rs or _fg_risk(d, beta)
    S0, S1, S2, dd = rs["S0"], rs["S1"], rs["S2"], rs["d"]
    xbar = S1 / S0[:, None]
    loglik = float(rs["eta"][d.fail].sum() - dd @ np.log(S0))
    U = d.X[d.fail].sum(axis=0) - dd @ xbar
    info = np.einsum("t,tij->ij", dd / S0, S2) - np.einsum("t,ti,tj->ij", dd, xbar, xbar)
    return loglik, U, info


def _fg_sandwich(d: _FGData, beta: np.ndarray, info: np.ndarray) -> np.ndarray:
    """crr's variance: I^-1 (sum (eta_i + psi_i)(eta_i + psi_i)') I^-1, by cumulative sums."""
    n, p = d.X.shape
    rs = _fg_risk(d, beta, need2=False)
    S0, S1, dd, ft = rs["S0"], rs["S1"], rs["d"], rs["ftimes"]
    r, X = rs["r"], d.X
    xbar = S1 / S0[:, None]
    T = len(ft)
    # eta_i: dN part
    fidx = np.searchsorted(ft, d.t)  # distinct-failure index of each row's time (for failures: exact)
    eta = np.zeros((n, p))
    eta[d.fail] = X[d.fail] - xbar[fidx[d.fail]]
    # d Lambda part, failures j with t_j <= t_i (weight 1): r_i (x_i A - B)
    a = dd / S0
    b = (dd / S0)[:, None] * xbar
    cA = np.r_[0.0, np.cumsum(a)]
    cB = np.vstack([np.zeros((1, p)), np.cumsum(b, axis=0)])
    upto = np.searchsorted(ft, d.t, side="right")  # failures with ftime <= t_i
    eta -= r[:, None] * (X * cA[upto][:, None] - cB[upto])
    # competing-event rows: failures with t_j > t_i, weight G(t_j-)/G(t_i-)
    for k in range(d.ncg):
        m = d.other & (d.cg == k)
        if not m.any():
            continue
        ga = rs["Gf"][k] * a
        gb = rs["Gf"][k][:, None] * b
        tA = np.r_[np.cumsum(ga[::-1])[::-1], 0.0]
        tB = np.vstack([np.cumsum(gb[::-1], axis=0)[::-1], np.zeros((1, p))])
        wi = r[m] / d.G[k][m]
        eta[m] -= wi[:, None] * (X[m] * tA[upto[m]][:, None] - tB[upto[m]])
    # psi_i: the censoring martingale, q(u) at each censoring time u
    psi = np.zeros((n, p))
    times, tidx = np.unique(d.t, return_inverse=True)
    first_fail_ge = np.searchsorted(ft, times, side="left")  # failures with ftime >= u
    for k in range(d.ncg):
        gk = d.cg == k
        cens_k = d.cens & gk
        if not cens_k.any():
            continue
        # q_k(u): competing rows of group k with t < u, against failures of group k with t >= u
        # (cmprsk >= 2.2-11 sums q within the censoring group)
        q = np.zeros((len(times), p))
        before = np.searchsorted(d.t, times, side="left")  # rows with t < u
        m = d.other & gk
        if m.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                w0 = np.where(m, r / np.where(m, d.G[k], 1.0), 0.0)
            C0 = np.r_[0.0, np.cumsum(w0)][before]
            C1 = np.vstack([np.zeros((1, p)), np.cumsum(w0[:, None] * X, axis=0)])[before]
            dk = np.bincount(np.searchsorted(ft, d.t[d.fail & gk]), minlength=T).astype(float)
            ak = rs["Gf"][k] * dk / S0
            bk = ak[:, None] * xbar
            tA = np.r_[np.cumsum(ak[::-1])[::-1], 0.0][first_fail_ge]
            tB = np.vstack([np.cumsum(bk[::-1], axis=0)[::-1], np.zeros((1, p))])[first_fail_ge]
            q = C1 * tA[:, None] - C0[:, None] * tB
        # at risk in censoring group k at each distinct time, and censorings there
        nk = np.bincount(tidx[gk], minlength=len(times)).astype(float)
        Yk = nk[::-1].cumsum()[::-1]
        ck = np.bincount(tidx[cens_k], minlength=len(times)).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            inc = np.where(ck[:, None] > 0, q * (ck / Yk**2)[:, None], 0.0)
        cum = np.cumsum(inc, axis=0)
        psi[gk] -= cum[tidx[gk]]
        with np.errstate(divide="ignore", invalid="ignore"):
            psi[cens_k] += q[tidx[cens_k]] / Yk[tidx[cens_k]][:, None]
    u = eta + psi
    hinv = linalg.inv(info)
    return hinv @ (u.T @ u) @ hinv.T


@dataclasses.dataclass(frozen=True)
class FineGrayResult(TableResult):
    """A Fine-Gray subdistribution-hazard model (R ``cmprsk::crr``).

    ``table``: ``term``, ``coef``, ``shr = exp(coef)`` (subdistribution hazard
    ratio), ``se`` (crr's sandwich), ``z``, ``p`` and Wald intervals for coef and
    shr.  ``vcov``: the sandwich variance; ``information``: the information matrix
    of the weighted partial likelihood (crr's ``inf``); ``loglik``: the log
    pseudo-likelihood at the estimate.
    """

    n: int
    n_events: int
    n_competing: int
    n_censored: int
    cause: Any
    loglik: float
    loglik_null: float
    iterations: int
    converged: bool
    ci: float
    table: pd.DataFrame = dataclasses.field(repr=False)
    vcov: pd.DataFrame = dataclasses.field(repr=False)
    information: pd.DataFrame = dataclasses.field(repr=False)


    def plot(self, **kwargs: Any) -> Any:
        """Forest plot of the subdistribution hazard ratios (log axis); returns the Axes."""
        from ..plots import plot_forest

        tab = self.table.rename(columns={"shr": "hr", "shr_ci_low": "hr_ci_low", "shr_ci_high": "hr_ci_high"})
        return plot_forest(tab, **kwargs)

    def summary(self) -> str:
        lines = [f"Fine-Gray model for cause {self.cause!r}: n={self.n}, events={self.n_events}, "
                 f"competing={self.n_competing}, censored={self.n_censored}"]
        for _, r in self.table.iterrows():
            lines.append(f"  {r['term']:<18} SHR={r['shr']:.4g} [{r['shr_ci_low']:.4g}, {r['shr_ci_high']:.4g}]"
                         f"  coef={r['coef']:.4g} se={r['se']:.4g} p={r['p']:.3g}")
        lines.append(f"  log pseudo-likelihood={self.loglik:.6g} (null {self.loglik_null:.6g})")
        return "\n".join(lines)


def fine_gray(
    df: pd.DataFrame,
    duration: Any,
    status: Any,
    covariates: Sequence[Any],
    *,
    cause: Any = 1,
    cencode: Any = 0,
    cengroup: Any = None,
    ci: float = 0.95,
    max_iter: int = 50,
) -> FineGrayResult:
    """Fine-Gray regression of the subdistribution hazard of ``cause``, as ``cmprsk::crr``.

    ``crr(ftime, fstatus, cov1 = X, failcode = cause, cencode = cencode,
    cengroup = cengroup)``.  Text/categorical covariates are treatment-coded (first
    level in sorted order is the reference).  People with a competing event stay in
    the risk set with weight ``G(t-) / G(t_i-)`` (``G``: Kaplan-Meier of censoring,
    separately within ``cengroup``); ``b`` maximises the weighted partial
    likelihood (Newton-Raphson to full convergence, tighter than crr's default
    ``gtol = 1e-6``), and the variance is crr's sandwich, with the term for the
    estimated censoring distribution (module docstring).  Rows with a missing
    covariate are left out with a warning (crr's ``na.omit``).

    ``exp(coef)`` is a subdistribution hazard ratio: it describes how a covariate
    changes the *incidence* of the cause (the probability of having it by ``t``),
    not its rate among those still free of every event (that is the cause-specific
    hazard ratio of :func:`cause_specific_cox`); report both (Latouche et al. 2013).

    Formula: ``U(b) = sum_i 1[cause_i = k] (x_i - S1(t_i) / S0(t_i)) = 0`` with
    ``S_r(t) = sum_j w_j(t) Y_j(t) exp(x_j'b) x_j^r``.

    References
    ----------
    Fine, J. P., & Gray, R. J. (1999). A proportional hazards model for the
    subdistribution of a competing risk. *JASA*, 94, 496-509.  Latouche, A.,
    Allignol, A., Beyersmann, J., Labopin, M., & Fine, J. P. (2013). A competing
    risks analysis should report results on all cause-specific hazards and
    cumulative incidence functions. *Journal of Clinical Epidemiology*, 66,
    648-653.  R: ``cmprsk::crr`` (tests/reference/competing.R).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [2, 3, 5, 7, 8, 9, 11, 12, 14, 15], "s": [1, 2, 1, 0, 1, 1, 2, 0, 1, 0],
    ...                   "x": [1, 0, 1, 0, 1, 0, 0, 1, 1, 0]})
    >>> round(float(fine_gray(d, "t", "s", ["x"]).table["coef"][0]), 4)   # cmprsk::crr: 1.800186
    1.8002
    """
    what = "fine_gray"
    df = require_frame(df, what)
    ci = check_ci(ci)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covariates:
        raise InputError(f"{what}: give at least one covariate (for the incidence without covariates use "
                         "cumulative_incidence)")
    require_columns(df, [duration, status, cengroup] + covariates, what)
    Xdf, _ = design_columns(df, covariates, what)
    miss = Xdf.isna().any(axis=1)
    if cengroup is not None:
        miss |= df[cengroup].isna()
    if miss.any():
        warnings.warn(f"{what}: {int(miss.sum())} rows with a missing covariate or censoring group were left out "
                      f"({format_rows(list(df.index[miss]))})", stacklevel=2)
    sub = df.loc[~miss]
    t, codes, causes = _competing_arrays(sub, duration, status, cencode, what)
    if cause not in causes:
        raise InputError(f"{what}: cause {cause!r} does not occur in {status!r} (its event codes are {causes}); "
                         f"pass cause= one of them")
    X = Xdf.loc[~miss].to_numpy(dtype=float)
    const = [c for j, c in enumerate(Xdf.columns) if np.ptp(X[:, j]) == 0]
    if const:
        raise InputError(f"{what}: covariate column(s) {const} take a single value in the data used; drop them")
    fail = codes == cause
    cens = codes == cencode
    other = ~fail & ~cens
    cg = np.zeros(len(t), dtype=int) if cengroup is None else np.asarray(pd.factorize(
        pd.Series(sub[cengroup]).astype(str), sort=True)[0])
    d = _fg_prepare(t, X, fail, other, cens, cg)
    p = X.shape[1]
    beta = np.zeros(p)
    ll0, U, info = _fg_lik(d, beta)
    ll = ll0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        try:
            step = linalg.solve(info, U, assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            raise InputError(f"{what}: the information matrix is singular; some covariates are collinear or a "
                             "level has no events — drop one of them") from None
        new = beta + step
        ll_new, U_new, info_new = _fg_lik(d, new)
        halv = 0
        while (not np.isfinite(ll_new) or ll_new < ll - 1e-12) and halv < 30:
            step /= 2
            new = beta + step
            ll_new, U_new, info_new = _fg_lik(d, new)
            halv += 1
        done = abs(ll_new - ll) <= 1e-13 * max(1.0, abs(ll_new)) or np.max(np.abs(step)) < 1e-10
        beta, ll, U, info = new, ll_new, U_new, info_new
        if done:
            converged = True
            break
    if not converged or np.any(np.abs(beta) > 20):
        warnings.warn(f"{what}: the fit did not converge cleanly; a coefficient may be infinite (e.g. a covariate "
                      "level with no events of this cause)", stacklevel=2)
    var = _fg_sandwich(d, beta, info)
    se = np.sqrt(np.diag(var))
    z = beta / se
    q = z_crit(ci)
    names = list(Xdf.columns)
    table = pd.DataFrame({
        "term": names, "coef": beta, "shr": np.exp(beta), "se": se, "z": z, "p": 2 * stats.norm.sf(np.abs(z)),
        "ci_low": beta - q * se, "ci_high": beta + q * se,
        "shr_ci_low": np.exp(beta - q * se), "shr_ci_high": np.exp(beta + q * se),
    })
    return FineGrayResult(
        n=len(t), n_events=int(fail.sum()), n_competing=int(other.sum()), n_censored=int(cens.sum()), cause=cause,
        loglik=ll, loglik_null=ll0, iterations=it, converged=converged, ci=ci, table=table,
        vcov=pd.DataFrame(var, index=names, columns=names), information=pd.DataFrame(info, index=names, columns=names),
    )


# =========================================================================== cause-specific Cox
def cause_specific_cox(
    df: pd.DataFrame,
    duration: Any,
    status: Any,
    covariates: Sequence[Any],
    *,
    cause: Any = None,
    cencode: Any = 0,
    **kwargs: Any,
) -> Any:
    """Cause-specific Cox models: the events of other causes are censored at their time.

    ``coxph(Surv(time, status == k) ~ covariates)`` for each cause ``k`` (or only
    ``cause``), fitted by veplab's Cox (:func:`~veplab.outcomes.cox`; ``kwargs`` go
    to it: ``ties``, ``strata``, ``cluster``, ``weights``, ``robust``, ``ci``).  The
    hazard ratio is the effect on the rate of event ``k`` among people still free of
    every event; with :func:`fine_gray` (the effect on its incidence) it gives the
    full picture (Latouche et al. 2013).

    Returns the :class:`~veplab.outcomes.CoxResult` for ``cause``, or a dict
    ``{cause: CoxResult}`` for every cause when ``cause`` is None.

    Formula: the partial likelihood of :func:`~veplab.outcomes.cox` with event
    indicator ``1[status = k]``.

    References
    ----------
    Prentice, R. L., Kalbfleisch, J. D., Peterson, A. V., Flournoy, N., Farewell,
    V. T., & Breslow, N. E. (1978). The analysis of failure times in the presence of
    competing risks. *Biometrics*, 34, 541-554.  R: ``survival::coxph``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [5, 8, 3, 9, 12, 4, 7, 10], "s": [1, 1, 1, 2, 0, 1, 1, 0],
    ...                   "x": [1, 0, 1, 0, 0, 1, 0, 1]})
    >>> round(float(cause_specific_cox(d, "t", "s", ["x"], cause=1).table["coef"][0]), 6)  # R coxph
    1.124316
    """
    from .survival import cox

    what = "cause_specific_cox"
    df = require_frame(df, what)
    require_columns(df, [duration, status], what)
    _, _, causes = _competing_arrays(df, duration, status, cencode, what)
    if cause is not None and cause not in causes:
        raise InputError(f"{what}: cause {cause!r} does not occur in {status!r} (its event codes are {causes})")
    out = {}
    for k in causes if cause is None else [cause]:
        tmp = df.copy()
        tmp["__event__"] = (df[status] == k).astype(float)
        out[k] = cox(tmp, duration, "__event__", covariates, **kwargs)
    return out[cause] if cause is not None else out


# =========================================================================== plot
_LINESTYLES = ["-", "--", ":", "-."]
_GREYS = ["0.0", "0.45", "0.25", "0.6"]


def plot_cuminc(res: CumulativeIncidence, *, cause: Any = None, ax: Any = None, intervals: bool = True,
                min_at_risk: int | None = None, xlabel: str = "Time", ylabel: str = "Cumulative incidence",
                labels: dict | None = None) -> Any:
    """Step plot of the cumulative incidence curves with intervals, in one call.

    One panel per cause (side by side, same y axis) with one line per group -- the
    groups keep their line style in every panel -- or a single panel when there is one
    cause, ``cause=`` picks one, or ``ax`` is given (then every curve goes into it).
    ``min_at_risk`` stops each curve at the last jump where at least that many people
    were at risk (pass the study's disclosure threshold for published figures).
    ``labels`` renames causes (``{2: "Death or deportation"}``).  Returns the Figure.

    What is plotted is the Aalen-Johansen cumulative incidence of
    :func:`cumulative_incidence`, ``F_k(t) = sum_{t_i <= t} S(t_i-) d_ki / n_i``
    (``S`` the Kaplan-Meier survival from any event, ``d_ki`` the events of cause
    ``k`` among ``n_i`` at risk), as steps from 0, with its pointwise interval shaded.

    Parameters
    ----------
    res : CumulativeIncidence
        The result of :func:`cumulative_incidence`.
    cause : optional
        Plot this cause only (default: every cause).
    ax : matplotlib Axes, optional
        Draw every curve into these axes.
    intervals : bool
        Shade the pointwise intervals.
    min_at_risk : int, optional
        Stop each curve where fewer people were at risk (disclosure control).
    xlabel, ylabel : str
        Axis labels.
    labels : dict, optional
        Cause code -> name in the legend or panel title.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Kalbfleisch JD, Prentice RL (1980). *The Statistical Analysis of Failure Time
    Data*. Wiley (the cumulative incidence function).
    Gray RJ (1988). A class of K-sample tests for comparing the cumulative incidence
    of a competing risk. *Annals of Statistics* 16, 1141-1154.
    Mirrors R ``cmprsk::plot.cuminc`` (one curve per group and cause), with the
    intervals ``cmprsk`` leaves out.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "s": [1, 2, 1, 0, 1, 2, 0, 1]})
    >>> fig = plot_cuminc(cumulative_incidence(d, "t", "s"), labels={2: "Death"})
    >>> ax = fig.axes[0]
    >>> [line.get_label() for line in ax.lines], ax.get_ylabel()   # one step curve per cause
    (['1', 'Death'], 'Cumulative incidence')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    causes = list(res.causes) if cause is None else [cause]
    labels = labels or {}
    grouped = len(res.groups) > 1 or res.groups[0] != "all"
    panels = len(causes) > 1 and grouped and ax is None
    if ax is not None:
        fig, axes = ax.figure, [ax] * len(causes)
    elif panels:
        fig, axs = plt.subplots(1, len(causes), figsize=(4.2 * len(causes) + 0.6, 4.2), sharey=True)
        axes = list(np.atleast_1d(axs))
    else:
        fig, one = plt.subplots(figsize=(7, 4.2))
        axes = [one] * len(causes)
    ymax = 0.0
    k = 0
    for c, axc in zip(causes, axes):
        for j, g in enumerate(res.groups):
            tab = res.table[(res.table["group"] == g) & (res.table["cause"] == c)]
            if min_at_risk is not None:
                below = np.flatnonzero(tab["n_risk"].to_numpy() < min_at_risk)
                tab = tab.iloc[: below[0]] if len(below) else tab
            style = j if panels else k
            ls, col = _LINESTYLES[style % 4], _GREYS[style % 4]
            cname = str(labels.get(c, c))
            if panels:
                name = str(g)
            elif grouped:
                name = f"{g}, {cname}" if len(causes) > 1 else str(g)
            else:
                name = cname
            end = res.end[g] if min_at_risk is None or len(tab) == 0 else float(tab["time"].iloc[-1])
            x = np.r_[0.0, tab["time"].to_numpy(), end]
            y = np.r_[0.0, tab["estimate"].to_numpy(), tab["estimate"].iloc[-1] if len(tab) else 0.0]
            axc.step(x, y, where="post", linestyle=ls, color=col, label=name if (not panels or c == causes[0]) else
                     "_" + name)
            if intervals and len(tab):
                lo = np.r_[0.0, tab["ci_low"].fillna(0).to_numpy(), tab["ci_low"].fillna(0).iloc[-1]]
                hi = np.r_[0.0, tab["ci_high"].fillna(0).to_numpy(), tab["ci_high"].fillna(0).iloc[-1]]
                axc.fill_between(x, lo, hi, step="post", color=col, alpha=0.15, linewidth=0)
                ymax = max(ymax, float(np.nanmax(hi)))
            ymax = max(ymax, float(np.nanmax(y)))
            k += 1
        if panels:
            axc.set_title(str(labels.get(c, c)), fontsize=10)
    for axc in dict.fromkeys(axes):
        axc.set_ylim(0, min(1.0, max(0.05, ymax * 1.1)))
        axc.set_xlim(left=0)
        if not panels:
            axc.set_xlabel(xlabel)
    axes[0].set_ylabel(ylabel)
    if panels:
        # one x label and one legend (the groups) for all panels, above them
        fig.supxlabel(xlabel, fontsize=plt.rcParams["axes.labelsize"])
        handles, names = axes[0].get_legend_handles_labels()
        title = str(res.group_name) if res.group_name is not None else None
        fig.legend(handles, names, loc="upper center", ncol=min(len(names), 4), frameon=False, title=title,
                   bbox_to_anchor=(0.5, 1.0))
        fig.tight_layout(rect=(0, 0, 1, 0.86))
    elif k > 1:
        from ..plots.charts import legend_outside

        legend_outside(axes[0], title=str(res.group_name) if res.group_name is not None and grouped else None)
    return fig
