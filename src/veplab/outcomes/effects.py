"""Comparison-group designs: ANCOVA and difference-in-differences.

``ancova`` is the OLS model ``post ~ pre + group + covariates`` (R ``lm``),
the usual analysis of a pre/post study with a comparison group.  ``did`` is
the two-group, two-period difference-in-differences model
``outcome ~ group * period`` (R ``lm``), with cluster-robust standard errors
when people are nested in prisons.

Cluster-robust variance (``did(cluster=...)``)
---------------------------------------------
CR1, as ``sandwich::vcovCL(fit, cluster = ~cl, type = "HC1")`` and
statsmodels ``cov_type="cluster"``, Stata ``vce(cluster)``::

    V = G/(G-1) * (N-1)/(N-K) * (X'X)^-1 [sum_g X_g' e_g e_g' X_g] (X'X)^-1

Tests and intervals then use a t distribution with G - 1 degrees of
freedom (statsmodels and Stata; ``lmtest::coeftest`` would use N - K — with
few prisons G - 1 is the safer choice).  Without ``cluster`` the classical
OLS variance of ``lm`` is used (df = N - K).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import TableResult
from .._glm import glm, t_table
from .._sandwich import sandwich
from .._validate import InputError, check_ci
from ._common import (design_columns, drop_incomplete, level_counts, r_level, require_columns, require_frame,
                      sorted_levels, t_crit, two_levels)
from ..privacy.outputs import ModelFacts

__all__ = ["ancova", "AncovaResult", "did", "DidResult", "plot_trajectories", "group_means", "GroupMeans"]


def _ols(X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Least squares by the GLM core (gaussian family): coefficients, residuals, ``(X'X)^{-1}``,
    ``s²`` on ``n - k`` degrees of freedom and the residual sum of squares."""
    n, k = X.shape
    q, r = np.linalg.qr(X)
    if np.min(np.abs(np.diag(r))) < 1e-10 * np.max(np.abs(np.diag(r))):
        raise InputError("the model matrix is rank deficient: some predictors are collinear "
                         "(e.g. a covariate constant within a group, or duplicated); drop one")
    fit = glm(X, y, family="gaussian", on_boundary="ignore", intercept=True, what="ols")
    resid = y - fit.mu
    rss = float(resid @ resid)
    return {"beta": fit.coef, "resid": resid, "xtx_inv": fit.bread,
            "sigma2": rss / (n - k) if n > k else float("nan"), "df": n - k, "rss": rss}


def _coef_table(names: Sequence[str], beta: np.ndarray, vcov: np.ndarray, df: float, ci: float) -> pd.DataFrame:
    return t_table(names, beta, np.sqrt(np.diag(vcov)), df, ci)


def _dummies(col: pd.Series, levels: list[Any], name: str) -> tuple[np.ndarray, list[str]]:
    cols = [(col == lev).to_numpy(dtype=float) for lev in levels[1:]]
    return (np.column_stack(cols) if cols else np.empty((len(col), 0)),
            [f"{name}{r_level(lev)}" for lev in levels[1:]])


# --------------------------------------------------------------------------- ANCOVA
@dataclasses.dataclass(frozen=True)
class AncovaResult(TableResult):
    """ANCOVA fit: coefficient table, group F test and adjusted means.

    ``factor_counts`` (read-only): people in the fit per level of the group
    and of every categorical or two-valued covariate (read by
    :func:`veplab.privacy.model_disclosure`).
    """

    n: int
    n_dropped: int
    r_squared: float
    sigma: float
    df_resid: int
    group_F: float
    group_df1: int
    group_p: float
    ci: float
    table: pd.DataFrame = dataclasses.field(repr=False)
    effects: pd.DataFrame = dataclasses.field(repr=False)
    adjusted_means: pd.DataFrame = dataclasses.field(repr=False)
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        return ModelFacts("ANCOVA (linear regression)", self.n, float(self.df_resid), self.factor_counts)



def ancova(
    df: pd.DataFrame,
    post: Any,
    pre: Any,
    group: Any,
    covariates: Sequence[Any] = (),
    *,
    reference: Any = None,
    ci: float = 0.95,
) -> AncovaResult:
    """ANCOVA of the post score adjusted for the pre score (R ``lm(post ~ pre + group + ...)``).

    ``group`` may have two or more levels; the reference is ``reference`` or
    the first level in sorted order (R's ``factor``).  Terms are named as R's
    ``lm`` names them (``armtraining``, ``sexM``).  Returns the full
    coefficient table (``table``), the group effects alone (``effects``:
    adjusted differences from the reference with t intervals), the F test of
    all group terms (R ``anova(lm(post ~ pre + cov), fit)``) and adjusted
    means (predictions at the mean of ``pre`` and of each covariate, as
    ``emmeans`` with numeric covariates).  Rows with a missing value are left
    out with a warning.

    The model, fitted by OLS::

        post_i = b0 + b1 pre_i + sum_g d_g [group_i = g] + x_i' c + e_i

    and the adjusted mean of group ``g`` is ``b0 + b1 mean(pre) + d_g + mean(x)' c``.

    References
    ----------
    Vickers AJ, Altman DG (2001). Statistics notes: analysing controlled trials with
    baseline and follow up measurements. BMJ 323, 1123-1124.
    Agrees with R ``lm(post ~ pre + group + ...)`` and ``anova()`` of the nested models
    (tests/reference/outcomes.R).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"pre": [1, 2, 3, 4, 1, 2, 3, 4], "post": [2, 3, 4, 5, 3, 5, 5, 7],
    ...                   "g": ["c"] * 4 + ["t"] * 4})
    >>> round(float(ancova(d, "post", "pre", "g").effects["estimate"][0]), 6)   # R lm: 1.5
    1.5
    """
    df = require_frame(df, "ancova")
    ci = check_ci(ci)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    require_columns(df, [post, pre, group] + covariates, "ancova")
    sub, dropped = drop_incomplete(df, [post, pre, group] + covariates, "ancova")
    levels = sorted_levels(sub[group])
    if len(levels) < 2:
        raise InputError(f"ancova: group column {group!r} has only one level "
                         f"({levels[0] if levels else 'none'!r}) in the complete rows; a comparison "
                         f"needs at least two groups")
    if reference is not None:
        if reference not in levels:
            raise InputError(f"ancova: reference {reference!r} is not a level of {group!r} ({levels})")
        levels = [reference] + [lv for lv in levels if lv != reference]
    cov_df, _ = design_columns(sub, covariates, "ancova", r_names=True)
    y = _num(sub[post], post)
    x_pre = _num(sub[pre], pre)
    G, gnames = _dummies(sub[group], levels, str(group))
    X = np.column_stack([np.ones(len(sub)), x_pre, G, cov_df.to_numpy(dtype=float)])
    names = ["(Intercept)", str(pre)] + gnames + list(cov_df.columns)
    fit = _ols(X, y)
    vcov = fit["sigma2"] * fit["xtx_inv"]
    table = _coef_table(names, fit["beta"], vcov, fit["df"], ci)
    # group F test: reduced model without the group dummies
    keep = [i for i, nm in enumerate(names) if nm not in gnames]
    red = _ols(X[:, keep], y)
    df1 = len(gnames)
    F = ((red["rss"] - fit["rss"]) / df1) / (fit["rss"] / fit["df"])
    tss = float(np.sum((y - y.mean()) ** 2))
    # adjusted means at covariate means
    xbar = X.mean(axis=0)
    rows = []
    q = t_crit(ci, fit["df"])
    for k, lev in enumerate(levels):
        xv = xbar.copy()
        xv[2:2 + df1] = 0.0
        if k > 0:
            xv[2 + k - 1] = 1.0
        est = float(xv @ fit["beta"])
        se = float(np.sqrt(xv @ vcov @ xv))
        rows.append({"group": lev, "n": int((sub[group] == lev).sum()), "adjusted_mean": est, "se": se,
                     "ci_low": est - q * se, "ci_high": est + q * se})
    effects = table[table["term"].isin(gnames)].reset_index(drop=True)
    return AncovaResult(
        n=len(sub), n_dropped=len(dropped), r_squared=1 - fit["rss"] / tss, sigma=float(np.sqrt(fit["sigma2"])),
        df_resid=int(fit["df"]), group_F=float(F), group_df1=df1,
        group_p=float(stats.f.sf(F, df1, fit["df"])), ci=ci, table=table, effects=effects,
        adjusted_means=pd.DataFrame(rows),
        factor_counts={str(group): {lev: int((sub[group] == lev).sum()) for lev in levels},
                       **level_counts(sub, covariates)},
    )


def _num(s: pd.Series, name: Any) -> np.ndarray:
    from .._validate import numeric_series

    return numeric_series(s, what="outcomes", name=str(name)).to_numpy(dtype=float)


# --------------------------------------------------------------------------- DiD
@dataclasses.dataclass(frozen=True)
class DidResult(TableResult):
    """Difference-in-differences fit.

    ``factor_counts`` (read-only): rows per group, per period and per group x
    period cell (``"group:period"``), read by
    :func:`veplab.privacy.model_disclosure`.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    t: float
    df: float
    p: float
    n: int
    n_dropped: int
    n_clusters: int | None
    vcov_type: str
    ci: float
    treated: Any
    post: Any
    table: pd.DataFrame = dataclasses.field(repr=False)
    cell_means: pd.DataFrame = dataclasses.field(repr=False)
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        return ModelFacts("difference-in-differences (linear regression)", self.n, float(self.n - len(self.table)),
                          self.factor_counts, n_clusters=self.n_clusters)



def did(
    df: pd.DataFrame,
    outcome: Any,
    group: Any,
    period: Any,
    *,
    cluster: Any = None,
    treated: Any = None,
    post: Any = None,
    ci: float = 0.95,
) -> DidResult:
    """Difference-in-differences: ``outcome ~ group * period`` by OLS (R ``lm``).

    ``group`` and ``period`` must each have two levels; ``treated`` and
    ``post`` name the treated group and the after period (default: the second
    level in sorted order, e.g. 1 vs 0, "post" vs "pre").  The estimate is the
    interaction coefficient: (treated after - treated before) - (comparison
    after - comparison before).  With ``cluster`` the variance is CR1
    (``sandwich::vcovCL(type = "HC1")``; t with G - 1 df, see the module
    docstring), otherwise the classical OLS variance.  ``cell_means`` holds
    the four group x period means with t intervals (for
    :func:`plot_trajectories`).

    The model, fitted by OLS, and the estimate ``d``::

        y_i = b0 + b1 treated_i + b2 after_i + d treated_i after_i + e_i
        d = (ybar_T,after - ybar_T,before) - (ybar_C,after - ybar_C,before)

    References
    ----------
    Angrist JD, Pischke JS (2009). Mostly Harmless Econometrics. Princeton University
    Press, ch. 5.
    Cameron AC, Miller DL (2015). A practitioner's guide to cluster-robust inference.
    Journal of Human Resources 50, 317-372.
    Zeileis A, Köll S, Graham N (2020). Various versatile variances: an object-oriented
    implementation of clustered covariances in R. Journal of Statistical Software 95(1), 1-36.
    Agrees with R ``lm(y ~ group * period)``; the CR1 variance with
    ``sandwich::vcovCL(type = "HC1")``, whose formula tests/reference/outcomes.R writes out.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1, 2, 1, 2, 2, 3, 4, 5], "g": [0, 0, 1, 1] * 2, "t": [0] * 4 + [1] * 4})
    >>> did(d, "y", "g", "t").estimate
    2.0
    """
    df = require_frame(df, "did")
    ci = check_ci(ci)
    require_columns(df, [outcome, group, period, cluster], "did")
    sub, dropped = drop_incomplete(df, [c for c in (outcome, group, period, cluster) if c is not None], "did")
    glev, _ = two_levels(sub[group], str(group), "did")
    plev, _ = two_levels(sub[period], str(period), "did")
    g1 = treated if treated is not None else glev[1]
    p1 = post if post is not None else plev[1]
    if g1 not in glev:
        raise InputError(f"did: treated={g1!r} is not a level of {group!r} ({glev})")
    if p1 not in plev:
        raise InputError(f"did: post={p1!r} is not a level of {period!r} ({plev})")
    g0 = [lv for lv in glev if lv != g1][0]
    p0 = [lv for lv in plev if lv != p1][0]
    gi = (sub[group] == g1).to_numpy(dtype=float)
    pi = (sub[period] == p1).to_numpy(dtype=float)
    for a, b in ((0, 0), (0, 1), (1, 0), (1, 1)):
        if not np.any((gi == a) & (pi == b)):
            raise InputError(f"did: no rows for {group}={[g0, g1][a]!r} in {period}={[p0, p1][b]!r}; "
                             f"difference-in-differences needs all four group x period cells")
    y = _num(sub[outcome], outcome)
    X = np.column_stack([np.ones(len(y)), gi, pi, gi * pi])
    gname, pname = f"{group}{r_level(g1)}", f"{period}{r_level(p1)}"  # R: lm(y ~ factor(g) * factor(p))
    names = ["(Intercept)", gname, pname, f"{gname}:{pname}"]
    fit = _ols(X, y)
    n, k = X.shape
    if cluster is None:
        vcov = fit["sigma2"] * fit["xtx_inv"]
        dfree = float(fit["df"])
        vtype, ncl = "classical (lm)", None
    else:
        cl = pd.factorize(sub[cluster])[0]
        ncl = int(cl.max() + 1)
        if ncl < 2:
            raise InputError(f"did: cluster column {cluster!r} has a single cluster; cluster-robust "
                             f"errors need several clusters (use cluster=None)")
        vcov = sandwich(fit["xtx_inv"], X * fit["resid"][:, None], type="CR1", cluster=cl, what="did")
        dfree = float(ncl - 1)
        vtype = "CR1 (vcovCL HC1), t with G-1 df"
    table = _coef_table(names, fit["beta"], vcov, dfree, ci)
    r = table.iloc[3]
    cells = group_means(sub, outcome, group, period, ci=ci).table
    gl, pl = (g0, g1), (p0, p1)
    counts = {str(group): {gl[a]: int((gi == a).sum()) for a in (0, 1)},
              str(period): {pl[b]: int((pi == b).sum()) for b in (0, 1)},
              f"{group}:{period}": {(gl[a], pl[b]): int(((gi == a) & (pi == b)).sum())
                                    for a in (0, 1) for b in (0, 1)}}
    return DidResult(
        estimate=float(r["estimate"]), se=float(r["se"]), ci_low=float(r["ci_low"]), ci_high=float(r["ci_high"]),
        t=float(r["t"]), df=dfree, p=float(r["p"]), n=n, n_dropped=len(dropped), n_clusters=ncl,
        vcov_type=vtype, ci=ci, treated=g1, post=p1, table=table, cell_means=cells, factor_counts=counts,
    )


@dataclasses.dataclass(frozen=True)
class GroupMeans(TableResult):
    """Means of an outcome per group and period with t intervals (:func:`group_means`).

    ``table`` has one row per group x period: ``group, period, n, mean, sd,
    ci_low, ci_high``; ``n`` counts the rows with outcome, group and period.
    """

    outcome: Any = None
    group: Any = None
    period: Any = None
    ci: float = 0.95
    n: int = 0

    def _title(self) -> str:
        return f"Mean {self.outcome} by {self.group} and {self.period} (n = {self.n}, {self.ci:.0%} t intervals)"

    def plot(self, *, ax: Any = None, ylabel: str | None = None) -> Any:
        """The group means by period with their intervals, one line per group; the Axes."""
        return _plot_cells(self, ax=ax, ylabel=ylabel)


def group_means(df: pd.DataFrame, outcome: Any, group: Any, period: Any, *, ci: float = 0.95) -> GroupMeans:
    """Mean, SD, n and t interval of ``outcome`` per group and period (missing left out).

    Returns a :class:`GroupMeans` whose ``table`` has one row per cell: ``group,
    period, n, mean, sd, ci_low, ci_high``; ``.plot()`` draws the trajectories.

    Per cell, ``mean +/- t_(1-a/2, n-1) sd / sqrt(n)``, i.e.::

        ci_low, ci_high = mean -/+ t_(1-a/2, n-1) * sd / sqrt(n)

    the interval of R ``t.test(y)$conf.int``.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6, 1-25.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.outcomes import group_means
    >>> d = pd.DataFrame({"y": [1, 2, 1, 2, 2, 3, 4, 5], "g": [0, 0, 1, 1] * 2, "t": [0] * 4 + [1] * 4})
    >>> group_means(d, "y", "g", "t").table[["group", "period", "mean", "ci_high"]].round(3)
       group  period  mean  ci_high
    0      0       0   1.5    7.853
    1      0       1   2.5    8.853
    2      1       0   1.5    7.853
    3      1       1   4.5   10.853
    """
    ci = check_ci(ci)
    require_columns(df, [outcome, group, period], "group_means")
    rows = []
    sub = df[[outcome, group, period]].dropna()
    y = _num(sub[outcome], outcome)
    for gl in sorted_levels(sub[group]):
        for pl in sorted_levels(sub[period]):
            m = ((sub[group] == gl) & (sub[period] == pl)).to_numpy()
            v = y[m]
            nn = len(v)
            mean = float(v.mean()) if nn else float("nan")
            sd = float(v.std(ddof=1)) if nn > 1 else float("nan")
            h = t_crit(ci, nn - 1) * sd / np.sqrt(nn) if nn > 1 else float("nan")
            rows.append({"group": gl, "period": pl, "n": nn, "mean": mean, "sd": sd,
                         "ci_low": mean - h, "ci_high": mean + h})
    return GroupMeans(table=pd.DataFrame(rows), outcome=outcome, group=group, period=period, ci=ci, n=len(sub))


def plot_trajectories(
    df: pd.DataFrame, outcome: Any, group: Any, period: Any, *, ci: float = 0.95, ax: Any = None,
    ylabel: str | None = None,
) -> Any:
    """Group means by period with t intervals, one line per group (returns the Axes).

    Groups differ by marker and line style so the figure reads in greyscale.
    Periods are placed in sorted order (name them so they sort, e.g. 0/1 or
    "1 pre"/"2 post").

    Each point is a cell mean of :func:`group_means` with its t interval,
    ``mean +- t_{1-a/2, n-1} sd / sqrt(n)`` (R ``t.test(y)$conf.int``).

    Parameters
    ----------
    df : DataFrame
        One row per observation.
    outcome, group, period : column names
        The outcome, the line (group) and the x position (period).
    ci : float, default 0.95
        Level of the intervals.
    ax : matplotlib Axes, optional
        Axes to draw into (default: a new figure).
    ylabel : str, optional
        Default ``"<outcome> (mean, 95% CI)"``.

    Returns
    -------
    matplotlib Axes

    References
    ----------
    Cumming G, Finch S (2005). Inference by eye: confidence intervals and how to read
    pictures of data. *American Psychologist* 60, 170-180.
    Mirrors R ``stats::interaction.plot`` with the intervals of ``t.test`` added
    (``ggplot2::stat_summary(fun.data = mean_cl_normal)``).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> d = pd.DataFrame({"y": [1, 2, 1, 2, 2, 3, 4, 5], "g": [0, 0, 1, 1] * 2, "t": [0] * 4 + [1] * 4})
    >>> ax = plot_trajectories(d, "y", "g", "t")
    >>> len(ax.containers), ax.get_ylabel()       # one line with error bars per group
    (2, 'y (mean, 95% CI)')
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['0', '1']
    >>> plt.close(ax.figure)
    """
    return group_means(df, outcome, group, period, ci=ci).plot(ax=ax, ylabel=ylabel)


def _plot_cells(res: GroupMeans, *, ax: Any = None, ylabel: str | None = None) -> Any:
    import matplotlib.pyplot as plt

    cells, outcome, group, period, ci = res.table, res.outcome, res.group, res.period, res.ci
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    periods = list(dict.fromkeys(cells["period"]))
    xpos = {p: i for i, p in enumerate(periods)}
    styles = [("o", "-", "0.1"), ("s", "--", "0.45"), ("^", ":", "0.25"), ("D", "-.", "0.6")]
    groups = list(dict.fromkeys(cells["group"]))
    off = np.linspace(-0.04, 0.04, len(groups)) if len(groups) > 1 else [0.0]
    for k, g in enumerate(groups):
        c = cells[cells["group"] == g]
        x = np.array([xpos[p] for p in c["period"]]) + off[k]
        mk, ls, col = styles[k % 4]
        ax.errorbar(x, c["mean"], yerr=[c["mean"] - c["ci_low"], c["ci_high"] - c["mean"]],
                    marker=mk, linestyle=ls, color=col, capsize=3, label=str(g))
    ax.set_xticks(range(len(periods)))
    ax.set_xticklabels([str(p) for p in periods])
    ax.set_xlabel(str(period))
    ax.set_ylabel(ylabel or f"{outcome} (mean, {ci:.0%} CI)")
    from ..plots.charts import legend_outside

    legend_outside(ax, title=str(group))
    return ax
