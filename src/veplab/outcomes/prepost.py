"""Pre/post (paired) comparisons: training surveys before and after.

``pre_post`` gives, per scale, the paired t-test (R ``t.test(post, pre,
paired = TRUE)``), the Wilcoxon signed-rank test (R ``wilcox.test(post, pre,
paired = TRUE)``, same exact / normal-approximation rules), and the
standardised mean changes of Lakens (2013): d_z, d_av, Hedges' g_av and d_rm,
each with an interval.  ``reliable_change`` classifies each person with the
Jacobson & Truax (1991) reliable change index.

Effect-size intervals
---------------------
All three standardised changes are re-scalings of the paired t statistic:
``t = d_z * sqrt(n)``, ``d_rm = d_z * sqrt(2 (1 - r))`` and
``d_av = d_z * s_diff / ((s_pre + s_post) / 2)``.  The interval for d_z is
exact under normality: the noncentrality parameter of the observed t
(df = n - 1) is inverted (Steiger & Fouladi 1997; MBESS ``ci.sm``), and the
limits divided by sqrt(n).  The d_av and d_rm limits are the d_z limits
rescaled by the same *observed* factor (Algina & Keselman 2003's approximate
method; it treats r and the SDs as known, so coverage is approximate for small
n).  g_av multiplies d_av and its limits by Hedges' correction
``J = 1 - 3 / (4 (n - 1) - 1)`` (Lakens 2013, df = n - 1).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .._results import Result, TableResult
from .._validate import InputError, check_ci, format_rows, numeric_series
from ._common import require_columns, require_frame, t_crit, z_crit

__all__ = ["pre_post", "pre_post_long", "PrePostResult", "paired_tests", "reliable_change", "ReliableChange"]


# --------------------------------------------------------------------------- helpers
def _signrank_counts(n: int) -> np.ndarray:
    """Number of subsets of {1..n} with each rank sum 0..n(n+1)/2 (R dsignrank * 2^n)."""
    m = n * (n + 1) // 2
    c = np.zeros(m + 1, dtype=np.float64)
    c[0] = 1.0
    for k in range(1, n + 1):
        c[k:] = c[k:] + c[: m + 1 - k].copy()
    return c


def _psignrank(q: float, n: int, lower_tail: bool = True) -> float:
    """R ``psignrank(q, n, lower.tail)`` for the exact signed-rank distribution."""
    c = _signrank_counts(n)
    total = 2.0**n
    q = math.floor(q + 1e-7)
    if lower_tail:
        if q < 0:
            return 0.0
        return float(c[: min(q, len(c) - 1) + 1].sum() / total)
    if q < 0:
        return 1.0
    return float(c[q + 1 :].sum() / total) if q + 1 < len(c) else 0.0


def wilcoxon_signed_rank(
    diff: np.ndarray, *, exact: bool | None = None, correct: bool = True
) -> dict[str, Any]:
    """Signed-rank test of ``diff`` against 0, as R ``wilcox.test(x, y, paired=TRUE)``.

    Zero differences are dropped; V is the sum of the ranks of the positive
    differences.  Exact (``psignrank``) when n < 50 and there are no ties and
    no zeros; otherwise the normal approximation with tie-corrected variance and
    continuity correction (``correct=True``), exactly as R does.

    With ``R_i`` the rank of ``|d_i|`` among the ``n`` non-zero differences::

        V = sum_(d_i > 0) R_i
        z = (V - n (n + 1) / 4 - c) / sqrt(n (n + 1) (2n + 1) / 24 - sum(t^3 - t) / 48)

    (``t`` the sizes of the tied groups, ``c = 0.5 sign(V - n (n + 1) / 4)`` the
    continuity correction).

    References
    ----------
    Wilcoxon F (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1, 80-83.
    Agrees with R ``wilcox.test(x, y, paired = TRUE)`` (exact and normal paths;
    tests/reference/outcomes.R).

    Examples
    --------
    >>> import numpy as np
    >>> from veplab.outcomes.prepost import wilcoxon_signed_rank
    >>> r = wilcoxon_signed_rank(np.array([1, 2, -1, 3, 4, 2.5]))
    >>> r["V"], round(r["p"], 4)        # R: wilcox.test(...): V = 19.5, p-value = 0.07394
    (19.5, 0.0739)
    """
    d = np.asarray(diff, dtype=float)
    zeros = bool(np.any(d == 0))
    d = d[d != 0]
    n = d.size
    if n == 0:
        return {"V": 0.0, "p": float("nan"), "method": "not computable (all differences are zero)",
                "n_nonzero": 0}
    if exact is None:
        exact = n < 50
    r = stats.rankdata(np.abs(d))
    v = float(r[d > 0].sum())
    ties = len(np.unique(r)) != len(r)
    if exact and not ties and not zeros:
        if v > n * (n + 1) / 4:
            p = _psignrank(v - 1, n, lower_tail=False)
        else:
            p = _psignrank(v, n, lower_tail=True)
        return {"V": v, "p": min(2 * p, 1.0), "method": "exact", "n_nonzero": n}
    _, nties = np.unique(r, return_counts=True)
    z = v - n * (n + 1) / 4
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - float(np.sum(nties**3 - nties)) / 48)
    corr = float(np.sign(z)) * 0.5 if correct else 0.0
    if sigma == 0:
        return {"V": v, "p": float("nan"), "method": "not computable (zero variance)", "n_nonzero": n}
    zz = (z - corr) / sigma
    p = 2 * min(stats.norm.cdf(zz), stats.norm.sf(zz))
    method = "normal approximation" + (" with continuity correction" if correct else "")
    return {"V": v, "p": float(p), "method": method, "n_nonzero": n}


def _nct_limits(t: float, df: float, ci: float) -> tuple[float, float]:
    """Noncentrality parameters whose t distributions put t at the CI tails."""
    alpha = 1.0 - ci
    if not math.isfinite(t):
        return float("nan"), float("nan")

    def f(ncp: float, target: float) -> float:
        v = float(stats.nct.cdf(t, df, ncp))
        if not math.isfinite(v):  # boost fails far in the tails, where the cdf is ~0 or ~1
            v = 0.0 if ncp > t else 1.0
        return v - target

    def solve(target: float) -> float:
        lo, hi = t - 10.0, t + 10.0
        while f(lo, target) < 0:
            lo -= 10.0 + abs(lo)
        while f(hi, target) > 0:
            hi += 10.0 + abs(hi)
        return float(optimize.brentq(f, lo, hi, args=(target,), xtol=1e-13, rtol=1e-13, maxiter=500))

    return solve(1 - alpha / 2), solve(alpha / 2)


def paired_tests(pre: Any, post: Any, *, ci: float = 0.95, exact: bool | None = None,
                 correct: bool = True) -> dict[str, Any]:
    """All pre/post statistics for complete pairs (arrays of equal length, no NaN).

    Change is ``post - pre``.  Returns a flat dict (one row of :func:`pre_post`).

    With ``D = post - pre`` over ``n`` complete pairs::

        t = mean(D) / (sd(D) / sqrt(n)),   d_z = mean(D) / sd(D)
        d_av = mean(D) / ((sd_pre + sd_post) / 2),   g_av = J d_av,  J = 1 - 3 / (4 (n - 1) - 1)
        d_rm = d_z * sqrt(2 (1 - r))

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6, 1-25.
    Wilcoxon F (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1, 80-83.
    Lakens D (2013). Calculating and reporting effect sizes to facilitate cumulative
    science: a practical primer for t-tests and ANOVAs. Frontiers in Psychology 4, 863.
    Steiger JH, Fouladi RT (1997). Noncentrality interval estimation and the evaluation of
    statistical models. In Harlow LL, Mulaik SA, Steiger JH (eds), What If There Were No
    Significance Tests? Erlbaum, 221-257.
    Algina J, Keselman HJ (2003). Approximate confidence intervals for effect sizes.
    Educational and Psychological Measurement 63, 537-553.
    Agrees with R ``t.test(post, pre, paired = TRUE)``, ``wilcox.test(post, pre, paired =
    TRUE)`` and the noncentral-t interval of d_z (``uniroot`` on ``pt(t, df, ncp)``)
    in tests/reference/outcomes.R.

    Examples
    --------
    >>> from veplab.outcomes import paired_tests
    >>> r = paired_tests([2, 3, 3, 4, 2, 3], [3, 4, 3, 5, 4, 4])
    >>> round(r["t"], 4), round(r["p_t"], 4), round(r["d_z"], 4)   # R t.test: t = 3.873, p = 0.01172
    (3.873, 0.0117, 1.5811)
    """
    ci = check_ci(ci)
    x0 = np.asarray(pre, dtype=float)
    x1 = np.asarray(post, dtype=float)
    n = x0.size
    diff = x1 - x0
    row: dict[str, Any] = {"n_pairs": n}
    m0, m1 = float(x0.mean()), float(x1.mean())
    s0 = float(x0.std(ddof=1)) if n > 1 else float("nan")
    s1 = float(x1.std(ddof=1)) if n > 1 else float("nan")
    md = float(diff.mean())
    sd = float(diff.std(ddof=1)) if n > 1 else float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        r = float(np.corrcoef(x0, x1)[0, 1]) if n > 2 and s0 > 0 and s1 > 0 else float("nan")
    row.update(mean_pre=m0, sd_pre=s0, mean_post=m1, sd_post=s1, r_pre_post=r,
               mean_change=md, sd_change=sd)
    dfree = n - 1
    if n >= 2 and sd > 0:
        se = sd / math.sqrt(n)
        t = md / se
        q = t_crit(ci, dfree)
        row.update(change_ci_low=md - q * se, change_ci_high=md + q * se, t=t, df=float(dfree),
                   p_t=float(2 * stats.t.sf(abs(t), dfree)))
    else:
        t = float("nan")
        row.update(change_ci_low=float("nan"), change_ci_high=float("nan"), t=float("nan"),
                   df=float(dfree), p_t=float("nan"))
    w = wilcoxon_signed_rank(diff, exact=exact, correct=correct)
    row.update(wilcoxon_V=w["V"], p_wilcoxon=w["p"], wilcoxon_method=w["method"])
    # effect sizes (Lakens 2013)
    if n >= 3 and math.isfinite(t):
        dz = md / sd
        lo_ncp, hi_ncp = _nct_limits(t, dfree, ci)
        dz_lo, dz_hi = lo_ncp / math.sqrt(n), hi_ncp / math.sqrt(n)
        sav = (s0 + s1) / 2
        f_av = sd / sav if sav > 0 else float("nan")
        f_rm = math.sqrt(2 * (1 - r)) if math.isfinite(r) else float("nan")
        j = 1 - 3 / (4 * dfree - 1)
        row.update(
            d_z=dz, d_z_ci_low=dz_lo, d_z_ci_high=dz_hi,
            d_av=dz * f_av, d_av_ci_low=dz_lo * f_av, d_av_ci_high=dz_hi * f_av,
            g_av=dz * f_av * j, g_av_ci_low=dz_lo * f_av * j, g_av_ci_high=dz_hi * f_av * j,
            d_rm=dz * f_rm, d_rm_ci_low=dz_lo * f_rm, d_rm_ci_high=dz_hi * f_rm,
            hedges_j=j,
        )
    else:
        for k in ("d_z", "d_av", "g_av", "d_rm"):
            row.update({k: float("nan"), f"{k}_ci_low": float("nan"), f"{k}_ci_high": float("nan")})
        row["hedges_j"] = float("nan")
    row["ci"] = ci
    return row


def _scale_pairs(pre: Any, post: Any) -> dict[str, tuple[Any, Any]]:
    if isinstance(pre, Mapping):
        if post is not None:
            raise InputError("pre_post: give either a mapping {scale: (pre, post)} as `pre`, "
                             "or two column names pre= and post=, not both")
        out = {}
        for k, v in pre.items():
            if not (isinstance(v, Sequence) and not isinstance(v, str) and len(v) == 2):
                raise InputError(f"pre_post: scale {k!r} must map to a (pre_column, post_column) pair, "
                                 f"got {v!r}")
            out[str(k)] = (v[0], v[1])
        return out
    if isinstance(pre, (list, tuple)) and post is None:
        out = {}
        for v in pre:
            if not (isinstance(v, Sequence) and not isinstance(v, str) and len(v) == 2):
                raise InputError(f"pre_post: expected (pre_column, post_column) pairs, got {v!r}")
            out[_pair_name(v[0], v[1])] = (v[0], v[1])
        return out
    if isinstance(pre, (list, tuple)) and isinstance(post, (list, tuple)):
        if len(pre) != len(post):
            raise InputError(f"pre_post: {len(pre)} pre columns but {len(post)} post columns; "
                             f"give them in matching pairs")
        return {_pair_name(a, b): (a, b) for a, b in zip(pre, post)}
    if post is None:
        raise InputError("pre_post: post= is missing; give the column measured after the "
                         "intervention (or a mapping {scale: (pre, post)} as the first argument)")
    return {_pair_name(pre, post): (pre, post)}


def _pair_name(a: Any, b: Any) -> str:
    a, b = str(a), str(b)
    for suf_a, suf_b in (("_pre", "_post"), ("pre", "post"), ("_t0", "_t1"), ("_before", "_after")):
        if a.endswith(suf_a) and b.endswith(suf_b) and a[: -len(suf_a)] == b[: -len(suf_b)]:
            return a[: -len(suf_a)] or a
    return f"{a} -> {b}"


@dataclasses.dataclass(frozen=True)
class PrePostResult(TableResult):
    """Paired pre/post comparison per scale (:func:`pre_post`, :func:`pre_post_long`).

    ``table`` has one row per scale (columns in :func:`pre_post`); ``dropped``
    maps each scale to the people (ids, else row labels) left out because one
    wave is missing; ``ci`` is the level of every interval, ``exact`` and
    ``correct`` the Wilcoxon settings asked for.
    """

    ci: float = 0.95
    exact: bool | None = None
    correct: bool = True
    dropped: Mapping[str, list[Any]] = dataclasses.field(default_factory=dict, repr=False)

    _summary_columns = ("scale", "n_pairs", "n_missing_pre", "n_missing_post", "mean_pre", "mean_post",
                        "mean_change", "change_ci_low", "change_ci_high", "p_t", "p_wilcoxon", "g_av",
                        "g_av_ci_low", "g_av_ci_high")

    def _title(self) -> str:
        return f"Paired pre/post comparison of {len(self.table)} scale(s) ({self.ci:.0%} intervals)"

    def plot(self, *, ax: Any = None) -> Any:
        """The mean change (post - pre) of each scale with its t interval; the Figure."""
        from ..plots import plot_intervals

        t = self.table.set_index("scale")
        return plot_intervals(t, estimate="mean_change", low="change_ci_low", high="change_ci_high", ref=0.0,
                              ax=ax, xlabel=f"mean change, post - pre ({self.ci:.0%} interval)")


def pre_post(
    df: pd.DataFrame,
    pre: Any,
    post: Any = None,
    *,
    id: Any = None,
    ci: float = 0.95,
    exact: bool | None = None,
    correct: bool = True,
) -> PrePostResult:
    """Paired pre/post comparison per scale from a wide frame.

    Parameters
    ----------
    df : one row per person, one column per scale and wave.
    pre, post : column names; or ``pre`` a mapping ``{scale: (pre_col, post_col)}``
        or a list of ``(pre_col, post_col)`` pairs for several scales.
    id : optional id column, used to name the dropped people in the report.
    ci : confidence level for every interval.
    exact, correct : as in R ``wilcox.test`` (``exact=None``: exact when n < 50
        and there are no ties or zero differences).

    Returns
    -------
    :class:`PrePostResult`, whose ``table`` has one row per scale: ``n_pairs``, ``n_missing_pre``,
    ``n_missing_post`` (pairs dropped because a wave is missing, also warned
    about and listed in ``result.dropped``), means and SDs per wave,
    ``r_pre_post``, ``mean_change`` (post - pre) with its t interval, paired
    t-test (``t``, ``df``, ``p_t``; R ``t.test(post, pre, paired=TRUE)``),
    Wilcoxon signed-rank (``wilcoxon_V`` as R's V, ``p_wilcoxon``,
    ``wilcoxon_method``), and d_z, d_av, g_av, d_rm with intervals (see the
    module docstring for the interval method).

    Notes
    -----
    With ``D = post - pre`` over ``n`` complete pairs::

        t = mean(D) / (sd(D) / sqrt(n)),   d_z = mean(D) / sd(D)
        d_av = mean(D) / ((sd_pre + sd_post) / 2),   g_av = J d_av,  J = 1 - 3 / (4 (n - 1) - 1)
        d_rm = d_z * sqrt(2 (1 - r))

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6, 1-25.
    Wilcoxon F (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1, 80-83.
    Lakens D (2013). Calculating and reporting effect sizes to facilitate cumulative
    science: a practical primer for t-tests and ANOVAs. Frontiers in Psychology 4, 863.
    Steiger JH, Fouladi RT (1997). Noncentrality interval estimation and the evaluation of
    statistical models. In Harlow LL, Mulaik SA, Steiger JH (eds), What If There Were No
    Significance Tests? Erlbaum, 221-257.
    Algina J, Keselman HJ (2003). Approximate confidence intervals for effect sizes.
    Educational and Psychological Measurement 63, 537-553.
    Agrees with R ``t.test(post, pre, paired = TRUE)``, ``wilcox.test(post, pre, paired =
    TRUE)`` and the noncentral-t interval of d_z (``uniroot`` on ``pt(t, df, ncp)``)
    in tests/reference/outcomes.R.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"conf_pre": [2, 3, 3, 4, 2, 3], "conf_post": [3, 4, 3, 5, 4, 4]})
    >>> r = pre_post(d, "conf_pre", "conf_post").table.iloc[0]
    >>> r["scale"], int(r["n_pairs"]), float(r["mean_change"])
    ('conf', 6, 1.0)
    """
    df = require_frame(df, "pre_post")
    ci = check_ci(ci)
    pairs = _scale_pairs(pre, post)
    cols = [c for ab in pairs.values() for c in ab] + ([id] if id is not None else [])
    require_columns(df, cols, "pre_post")
    rows, dropped = [], {}
    for scale, (a, b) in pairs.items():
        x0 = numeric_series(df[a], what="pre_post", name=str(a))
        x1 = numeric_series(df[b], what="pre_post", name=str(b))
        miss0, miss1 = x0.isna(), x1.isna()
        only_one = miss0 ^ miss1
        ok = ~miss0 & ~miss1
        labels = list(df.loc[only_one, id]) if id is not None else list(df.index[only_one])
        if only_one.any():
            dropped[scale] = labels
            dropped_where = "result.dropped[" + repr(scale) + "]"
            warnings.warn(
                f"pre_post: scale {scale!r}: {int(only_one.sum())} people have only one wave "
                f"({int((miss1 & ~miss0).sum())} without post, {int((miss0 & ~miss1).sum())} without pre) "
                f"and were left out of the paired analysis "
                f"({format_rows(labels, where=dropped_where)})",
                stacklevel=2,
            )
        n = int(ok.sum())
        if n < 2:
            raise InputError(
                f"pre_post: scale {scale!r} has {n} complete pre/post pair(s) "
                f"({int((miss1 & ~miss0).sum())} rows have pre without post, "
                f"{int((miss0 & ~miss1).sum())} post without pre); a paired comparison needs at "
                f"least 2. Check that pre and post rows are matched on the same person"
            )
        row = {"scale": scale, "pre": a, "post": b}
        row.update(paired_tests(x0[ok].to_numpy(), x1[ok].to_numpy(), ci=ci, exact=exact, correct=correct))
        row["n_missing_pre"] = int((miss0 & ~miss1).sum())
        row["n_missing_post"] = int((miss1 & ~miss0).sum())
        row["n_missing_both"] = int((miss0 & miss1).sum())
        rows.append(row)
    out = pd.DataFrame(rows)
    front = ["scale", "pre", "post", "n_pairs", "n_missing_pre", "n_missing_post", "n_missing_both"]
    out = out[front + [c for c in out.columns if c not in front]]
    return PrePostResult(table=out, ci=ci, exact=exact, correct=correct, dropped=dropped)


def pre_post_long(
    df: pd.DataFrame,
    value: Any,
    wave: Any,
    id: Any,
    pre_level: Any,
    post_level: Any,
    *,
    ci: float = 0.95,
    exact: bool | None = None,
    correct: bool = True,
) -> PrePostResult:
    """:func:`pre_post` for a long frame (one row per person and wave).

    ``value`` is a column name or a list of them (one scale each); ``wave``
    holds ``pre_level`` / ``post_level``; ``id`` identifies the person.  Rows
    of other waves are ignored; a person with two rows in the same wave is an
    error (which one is meant is unclear).

    The statistics are those of :func:`pre_post`, e.g. ``t = mean(D) / (sd(D) / sqrt(n))``
    with ``D = post - pre``.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6, 1-25.
    Lakens D (2013). Calculating and reporting effect sizes to facilitate cumulative
    science: a practical primer for t-tests and ANOVAs. Frontiers in Psychology 4, 863.
    See :func:`pre_post` for the R functions it agrees with.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.outcomes import pre_post_long
    >>> d = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3, 4, 4], "wave": ["pre", "post"] * 4,
    ...                   "conf": [2, 3, 3, 4, 3, 3, 4, 6]})
    >>> r = pre_post_long(d, "conf", "wave", "id", "pre", "post").table.iloc[0]
    >>> int(r["n_pairs"]), float(r["mean_change"]), round(float(r["t"]), 4)
    (4, 1.0, 2.4495)
    """
    df = require_frame(df, "pre_post_long")
    values = [value] if not isinstance(value, (list, tuple)) else list(value)
    require_columns(df, values + [wave, id], "pre_post_long")
    levels = set(pd.unique(df[wave].dropna()))
    for lev, nm in ((pre_level, "pre_level"), (post_level, "post_level")):
        if lev not in levels:
            raise InputError(f"pre_post_long: {nm}={lev!r} does not occur in column {wave!r} "
                             f"(levels: {sorted(map(str, levels))})")
    sub = df[df[wave].isin([pre_level, post_level])]
    dup = sub.duplicated([id, wave], keep=False)
    if dup.any():
        ids = list(pd.unique(sub.loc[dup, id]))
        raise InputError(f"pre_post_long: {len(ids)} people have more than one row in the same wave "
                         f"({format_rows(ids)}); "
                         f"keep one row per person and wave")
    wide = {}
    pairs = {}
    for v in values:
        p = sub.pivot(index=id, columns=wave, values=v)
        a, b = f"{v}__pre", f"{v}__post"
        wide[a] = p[pre_level] if pre_level in p.columns else np.nan
        wide[b] = p[post_level] if post_level in p.columns else np.nan
        pairs[str(v)] = (a, b)
    wdf = pd.DataFrame(wide)
    wdf.index.name = id
    wdf = wdf.reset_index()
    res = pre_post(wdf, pairs, id=id, ci=ci, exact=exact, correct=correct)
    out = res.to_frame()
    out["pre"] = [f"{v} [{wave}={pre_level}]" for v in values]
    out["post"] = [f"{v} [{wave}={post_level}]" for v in values]
    return dataclasses.replace(res, table=out)


# --------------------------------------------------------------------------- reliable change
@dataclasses.dataclass(frozen=True)
class ReliableChange(Result):
    """Jacobson-Truax reliable change: per-person table and category counts."""

    n: int
    n_dropped: int
    reliability: float
    sd: float
    s_diff: float
    criterion: float
    ci: float
    n_improved: int
    n_unchanged: int
    n_deteriorated: int
    share_improved: float
    share_unchanged: float
    share_deteriorated: float
    higher_is_better: bool
    table: pd.DataFrame = dataclasses.field(repr=False)
    counts: pd.DataFrame = dataclasses.field(repr=False)


def reliable_change(
    pre: Any,
    post: Any,
    *,
    reliability: float,
    sd: float | None,
    ci: float = 0.95,
    higher_is_better: bool = True,
) -> ReliableChange:
    """Jacobson & Truax (1991) reliable change index per person.

    ``RCI = (post - pre) / S_diff`` with ``S_diff = sqrt(2 * (sd * sqrt(1 - r))**2)``,
    ``r`` the scale's reliability (e.g. Cronbach's alpha or test-retest) and
    ``sd`` the SD of the pre scores in a reference (or the study's own
    baseline; pass ``sd=None`` to use the SD of ``pre`` here, ddof=1).  A person
    changed reliably when ``|RCI|`` exceeds the normal quantile of ``ci``
    (1.96 for 95%); the direction that counts as improvement follows
    ``higher_is_better``.  People with a missing wave are left out and counted
    in ``n_dropped`` (with a warning).

    References
    ----------
    Jacobson NS, Truax P (1991). Clinical significance: a statistical approach to defining
    meaningful change in psychotherapy research. Journal of Consulting and Clinical
    Psychology 59, 12-19.
    (No R function; the test checks the index against the formula.)

    Examples
    --------
    >>> rc = reliable_change([10, 12, 15], [16, 12, 9], reliability=0.8, sd=3)
    >>> rc.n_improved, rc.n_unchanged, rc.n_deteriorated
    (1, 1, 1)
    """
    ci = check_ci(ci)
    x0 = numeric_series(pre, what="reliable_change", name="pre")
    x1 = numeric_series(post, what="reliable_change", name="post")
    if len(x0) != len(x1):
        raise InputError(f"reliable_change: pre has {len(x0)} values and post {len(x1)}; give one "
                         f"pre and one post value per person, in the same order")
    x1.index = x0.index
    try:
        r = float(reliability)
    except (TypeError, ValueError):
        raise InputError(f"reliable_change: reliability must be a number, got {reliability!r}") from None
    if not 0 <= r < 1:
        raise InputError(f"reliable_change: reliability must be in [0, 1), got {reliability!r}")
    ok = x0.notna() & x1.notna()
    n_drop = int((~ok).sum())
    if n_drop:
        warnings.warn(f"reliable_change: {n_drop} people with a missing pre or post value were "
                      f"left out ({format_rows(list(x0.index[~ok]))})", stacklevel=2)
    if ok.sum() == 0:
        raise InputError("reliable_change: no person has both a pre and a post value")
    if sd is None:
        sd_v = float(x0[ok].std(ddof=1))
    else:
        try:
            sd_v = float(sd)
        except (TypeError, ValueError):
            raise InputError(f"reliable_change: sd must be a number, got {sd!r}") from None
    if not (math.isfinite(sd_v) and sd_v > 0):
        raise InputError(f"reliable_change: sd must be positive, got {sd_v!r}")
    sem = sd_v * math.sqrt(1 - r)
    s_diff = math.sqrt(2 * sem**2)
    crit = z_crit(ci)
    change = (x1 - x0)[ok]
    rci = change / s_diff
    good = rci if higher_is_better else -rci
    cat = np.where(good > crit, "improved", np.where(good < -crit, "deteriorated", "unchanged"))
    table = pd.DataFrame({"pre": x0[ok], "post": x1[ok], "change": change, "rci": rci,
                          "category": cat}, index=x0.index[ok])
    n = int(ok.sum())
    cnt = {k: int((cat == k).sum()) for k in ("improved", "unchanged", "deteriorated")}
    counts = pd.DataFrame({"category": list(cnt), "n": list(cnt.values()),
                           "share": [v / n for v in cnt.values()]})
    return ReliableChange(
        n=n, n_dropped=n_drop, reliability=r, sd=sd_v, s_diff=s_diff, criterion=crit, ci=ci,
        n_improved=cnt["improved"], n_unchanged=cnt["unchanged"], n_deteriorated=cnt["deteriorated"],
        share_improved=cnt["improved"] / n, share_unchanged=cnt["unchanged"] / n,
        share_deteriorated=cnt["deteriorated"] / n, higher_is_better=bool(higher_is_better),
        table=table, counts=counts,
    )
