"""Intraclass correlations (Shrout & Fleiss 1979 / McGraw & Wong 1996), as psych::ICC."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .._results import Result, TableResult
from .._validate import InputError, check_choice, check_ci, format_rows, numeric_frame, rng
from . import _boot
from ._common import small_blas

__all__ = ["icc", "icc_oneway", "IccResult", "long_to_wide", "test_retest", "TestRetestResult", "ICC_FORMS"]

#: Row index of :func:`icc`, psych's ``type`` names.
ICC_FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
_DESCRIPTIONS = {
    "ICC1": ("ICC(1)", "one-way random effects, absolute agreement, single rater"),
    "ICC2": ("ICC(A,1)", "two-way random effects, absolute agreement, single rater"),
    "ICC3": ("ICC(C,1)", "two-way mixed effects, consistency, single rater"),
    "ICC1k": ("ICC(k)", "one-way random effects, absolute agreement, mean of k raters"),
    "ICC2k": ("ICC(A,k)", "two-way random effects, absolute agreement, mean of k raters"),
    "ICC3k": ("ICC(C,k)", "two-way mixed effects, consistency, mean of k raters"),
}


# --------------------------------------------------------------------------- result


@dataclasses.dataclass(frozen=True)
class IccResult(TableResult):
    """Intraclass correlations: one form as the estimate, every form in ``table``.

    ``estimate``, ``ci_low``, ``ci_high``, ``F``, ``df1``, ``df2``, ``p`` are
    those of ``form`` (psych's name: ``"ICC2"`` is ICC(A,1), two-way random
    effects, absolute agreement, single rater, the default of :func:`icc`;
    ``"ICC1"`` the default of :func:`icc_oneway`).  ``table`` (also
    :meth:`to_frame`) is psych's results table: one row per form (``ICC1``,
    ``ICC2``, ``ICC3``, ``ICC1k``, ``ICC2k``, ``ICC3k``; :func:`icc_oneway`:
    ``ICC1``, ``ICC1k``), columns ``icc, F, df1, df2, p, ci_low, ci_high,
    mcgraw_wong, description``.  ``n`` subjects, ``k`` raters (for
    :func:`icc_oneway` the average number of ratings per subject ``m0``),
    ``n_dropped`` subjects left out (no rating; one rating in
    :func:`icc_oneway`).  ``method``: ``"anova"``, ``"reml"`` or
    ``"anova-oneway"``; ``interval``: ``"F"`` or ``"bootstrap"``.
    """

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    k: float
    ci: float
    form: str
    mcgraw_wong: str
    description: str
    F: float
    df1: float
    df2: float
    p: float
    method: str
    interval: str
    n_dropped: int
    table: pd.DataFrame = dataclasses.field(repr=False)
    mean_squares: dict = dataclasses.field(default_factory=dict, repr=False)
    variance_components: dict | None = dataclasses.field(default=None, repr=False)
    n_ratings: int | None = None
    n_boot: int | None = None
    boot_weights: str | None = None
    n_boot_failed: int | None = None


    def summary(self) -> str:
        lines = [
            f"{self.mcgraw_wong} ({self.form}, {self.description}) = {self.estimate:.4f}  "
            f"({self.ci:.0%} CI {self.ci_low:.4f} to {self.ci_high:.4f}, {self.interval} interval)",
            f"  F({self.df1:g}, {self.df2:g}) = {self.F:.4g}, p = {self.p:.3g}; n = {self.n} subjects, "
            f"k = {self.k:g} {'raters' if self.method != 'anova-oneway' else 'ratings per subject (m0)'}, "
            f"method {self.method}" + (f", {self.n_dropped} subjects left out" if self.n_dropped else ""),
            "",
            self.table[["icc", "ci_low", "ci_high", "F", "p", "mcgraw_wong"]].to_string(
                float_format=lambda v: f"{v:.4f}"),
        ]
        return "\n".join(lines)


def _result(table: pd.DataFrame, form: str, **fields: Any) -> IccResult:
    row = table.loc[form]
    return IccResult(
        estimate=float(row["icc"]), ci_low=float(row["ci_low"]), ci_high=float(row["ci_high"]),
        form=form, mcgraw_wong=str(row["mcgraw_wong"]), description=str(row["description"]),
        F=float(row["F"]), df1=float(row["df1"]), df2=float(row["df2"]), p=float(row["p"]),
        table=table, **fields,
    )


# --------------------------------------------------------------------------- mean squares


def _anova_ms(x: np.ndarray) -> dict[str, float]:
    """Two-way ANOVA mean squares without interaction (psych: ``aov(values ~ subs + ind)``)."""
    n, k = x.shape
    grand = x.mean()
    ss_tot = ((x - grand) ** 2).sum()
    ss_b = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_j = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_e = ss_tot - ss_b - ss_j
    df_e = (n - 1) * (k - 1)
    return {
        "MSB": ss_b / (n - 1),
        "MSJ": ss_j / (k - 1),
        "MSE": ss_e / df_e,
        "MSW": (ss_j + ss_e) / (k - 1 + df_e),
    }


def _reml_components(x: np.ndarray) -> dict[str, float]:
    """REML variance components of ``y = mu + subject + rater + error`` (crossed, unbalanced).

    The model ``lme4::lmer(values ~ 1 + (1 | id) + (1 | items))`` fits, by
    the same profiled REML deviance (Bates et al. 2015): with relative
    standard deviations ``theta`` the penalised least-squares system is
    solved by eliminating the (diagonal) subject block, so one evaluation
    costs ``O(subjects x raters + raters^3)``.
    """
    obs = ~np.isnan(x)
    n_s, n_r = x.shape
    y = x[obs]
    si, rj = np.nonzero(obs)
    big_n = y.size
    cnt_s = obs.sum(axis=1).astype(float)
    cnt_r = obs.sum(axis=0).astype(float)
    inc = obs.astype(float)
    ys = np.where(obs, x, 0.0).sum(axis=1)
    yr = np.where(obs, x, 0.0).sum(axis=0)
    yy = float(y @ y)
    ysum = float(y.sum())
    del si, rj

    def deviance(theta: np.ndarray) -> tuple[float, float]:
        ts, tr = theta
        ds = ts**2 * cnt_s + 1.0
        b = ts * tr * inc  # (n_s, n_r)
        xs = ts * cnt_s  # coupling of u_s with the intercept
        cs = ts * ys
        # reduced system in (u_r, beta)
        top = np.zeros((n_r + 1, n_r + 1))
        top[:n_r, :n_r] = np.diag(tr**2 * cnt_r + 1.0)
        top[:n_r, n_r] = tr * cnt_r
        top[n_r, :n_r] = tr * cnt_r
        top[n_r, n_r] = big_n
        left = np.column_stack([b, xs])  # (n_s, n_r + 1)
        m = top - (left / ds[:, None]).T @ left
        rhs = np.concatenate([tr * yr, [ysum]]) - left.T @ (cs / ds)
        try:
            chol = np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            return np.inf, np.nan
        sol = np.linalg.solve(m, rhs)
        us = (cs - left @ sol) / ds
        # penalised RSS = y'y - b' C^-1 b with b = [cs; tr*yr; sum y]
        pwrss = yy - cs @ us - np.concatenate([tr * yr, [ysum]]) @ sol
        if not pwrss > 0:
            return np.inf, np.nan
        logdet = np.log(ds).sum() + 2.0 * np.log(np.diag(chol)).sum()
        dfr = big_n - 1
        return logdet + dfr * (1.0 + np.log(2.0 * np.pi * pwrss / dfr)), pwrss / dfr

    best = None
    for start in ([1.0, 1.0], [0.5, 0.1], [2.0, 0.5]):
        res = optimize.minimize(
            lambda t: deviance(t)[0], np.array(start), method="L-BFGS-B",
            bounds=[(0.0, None), (0.0, None)], options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 500},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    # polish: the deviance depends on theta only through its square (sign-free),
    # so an unconstrained simplex search from the bounded optimum is safe
    polish = optimize.minimize(
        lambda t: deviance(np.abs(t))[0], best.x, method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-11 * max(1.0, abs(best.fun)), "maxiter": 2000},
    )
    theta = np.abs(polish.x) if polish.fun <= best.fun else best.x
    _, sigma2 = deviance(theta)
    return {"subject": theta[0] ** 2 * sigma2, "rater": theta[1] ** 2 * sigma2, "residual": sigma2}


# --------------------------------------------------------------------------- ICC table


def _icc_table(ms: dict[str, float], n: int, k: int, ci: float) -> pd.DataFrame:
    """psych::ICC's results table from mean squares (its formulas, line by line)."""
    msb, msj, mse, msw = ms["MSB"], ms["MSJ"], ms["MSE"], ms["MSW"]
    a = 1.0 - ci
    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb - msw) / msb
    icc2k = (msb - mse) / (msb + (msj - mse) / n)
    icc3k = (msb - mse) / msb
    f11 = msb / msw
    df11n, df11d = n - 1, n * (k - 1)
    p11 = stats.f.sf(f11, df11n, df11d)
    f21 = msb / mse
    df21n, df21d = n - 1, (n - 1) * (k - 1)
    p21 = stats.f.sf(f21, df21n, df21d)
    f1l = f11 / stats.f.ppf(1 - a / 2, df11n, df11d)
    f1u = f11 * stats.f.ppf(1 - a / 2, df11d, df11n)
    f3l = f21 / stats.f.ppf(1 - a / 2, df21n, df21d)
    f3u = f21 * stats.f.ppf(1 - a / 2, df21d, df21n)
    low = np.empty(6)
    high = np.empty(6)
    low[0], high[0] = (f1l - 1) / (f1l + (k - 1)), (f1u - 1) / (f1u + k - 1)
    low[2], high[2] = (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)
    low[3], high[3] = 1 - 1 / f1l, 1 - 1 / f1u
    low[5], high[5] = 1 - 1 / f3l, 1 - 1 / f3u
    # ICC(A,1): Satterthwaite-type df of McGraw & Wong (1996), as psych computes them
    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    fu = stats.f.ppf(1 - a / 2, n - 1, v)
    fl = stats.f.ppf(1 - a / 2, v, n - 1)
    l2 = n * (msb - fu * mse) / (fu * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (fl * msb - mse) / (k * msj + (k * n - k - n) * mse + n * fl * msb)
    low[1], high[1] = l2, u2
    low[4], high[4] = l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))
    table = pd.DataFrame(
        {
            "icc": [icc1, icc2, icc3, icc1k, icc2k, icc3k],
            "F": [f11, f21, f21, f11, f21, f21],
            "df1": [df11n, df21n, df21n, df11n, df21n, df21n],
            "df2": [df11d, df21d, df21d, df11d, df21d, df21d],
            "p": [p11, p21, p21, p11, p21, p21],
            "ci_low": low,
            "ci_high": high,
            "mcgraw_wong": [_DESCRIPTIONS[f][0] for f in ICC_FORMS],
            "description": [_DESCRIPTIONS[f][1] for f in ICC_FORMS],
        },
        index=pd.Index(list(ICC_FORMS), name="type"),
    )
    table["df1"] = table["df1"].astype(float)
    table["df2"] = table["df2"].astype(float)
    return table


def _boot_icc(x: np.ndarray, n_boot: int, gen: np.random.Generator, scheme: str) -> np.ndarray:
    """The six ICCs of every resample of subjects (``n_boot x 6``), from row moments."""
    n, k = x.shape
    xc = x - x.mean()
    t = xc.sum(axis=1)
    feats = np.column_stack([np.ones(n), xc, t, t**2, (xc**2).sum(axis=1)])
    s = _boot.resampled_sums(feats, n_boot, gen, scheme)
    w = s[:, 0]
    col = s[:, 1 : k + 1]
    g = s[:, k + 1]
    sum_t2 = s[:, k + 2]
    sum_q = s[:, k + 3]
    cf = g**2 / (w * k)
    ss_tot = sum_q - cf
    ss_b = sum_t2 / k - cf
    ss_j = (col**2).sum(axis=1) / w - cf
    ss_e = ss_tot - ss_b - ss_j
    with np.errstate(invalid="ignore", divide="ignore"):
        msb = ss_b / (w - 1)
        msj = ss_j / (k - 1)
        mse = ss_e / ((w - 1) * (k - 1))
        msw = (ss_j + ss_e) / (w * (k - 1))
        out = np.column_stack(
            [
                (msb - msw) / (msb + (k - 1) * msw),
                (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / w),
                (msb - mse) / (msb + (k - 1) * mse),
                (msb - msw) / msb,
                (msb - mse) / (msb + (msj - mse) / w),
                (msb - mse) / msb,
            ]
        )
    return out


def icc(
    ratings: Any,
    *,
    ci: float = 0.95,
    method: str = "auto",
    interval: str = "F",
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    boot_weights: str = "auto",
    form: str = "ICC2",
) -> IccResult:
    """Intraclass correlations, all six forms, as ``psych::ICC(x, lmer = FALSE)``.

    ``ratings`` is wide: one row per subject (case), one column per rater
    (or occasion); see :func:`long_to_wide`.  With mean squares of a two-way
    ANOVA without interaction (subjects ``MSB``, raters ``MSJ``, error
    ``MSE``, within subjects ``MSW``) and ``k`` raters, ``n`` subjects
    (Shrout & Fleiss 1979; McGraw & Wong 1996)::

        ICC1  = (MSB - MSW) / (MSB + (k-1) MSW)                      ICC(1)
        ICC2  = (MSB - MSE) / (MSB + (k-1) MSE + k (MSJ - MSE) / n)   ICC(A,1)
        ICC3  = (MSB - MSE) / (MSB + (k-1) MSE)                      ICC(C,1)
        ICC1k = (MSB - MSW) / MSB                                    ICC(k)
        ICC2k = (MSB - MSE) / (MSB + (MSJ - MSE) / n)                ICC(A,k)
        ICC3k = (MSB - MSE) / MSB                                    ICC(C,k)

    The F tests and the F-based intervals are psych's exactly (for ICC2 /
    ICC2k the approximate degrees of freedom of McGraw & Wong 1996).

    Returns an :class:`IccResult`: ``estimate`` and its interval are the
    ``form`` chosen (default ``"ICC2"``, ICC(A,1): two-way random effects,
    absolute agreement, single rater, the usual choice for a rating tool);
    ``table`` (or ``to_frame()``) is psych's table of all six forms, indexed
    ``ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k`` with columns ``icc, F, df1, df2,
    p, ci_low, ci_high, mcgraw_wong, description``; ``mean_squares`` and
    (REML) ``variance_components`` are kept.

    Missing ratings (``method="auto"``): with any missing rating the mean
    squares come from REML variance components of the crossed random-effects
    model ``rating ~ 1 + (1 | subject) + (1 | rater)``, exactly as
    ``psych::ICC(x, lmer = TRUE)`` does: ``MSB = k s2_subject + s2_error``,
    ``MSJ = n s2_rater + s2_error``, ``MSE = s2_error``,
    ``MSW = s2_error + s2_rater``, with ``n`` the number of subjects and
    ``k`` the number of raters; the F tests and intervals then use those
    mean squares with the balanced degrees of freedom, so they are
    approximate (as in psych).  Subjects with no rating at all are dropped
    with a warning; nothing else is dropped.  ``method="anova"`` requires
    complete ratings; ``method="reml"`` forces REML.

    ``interval="bootstrap"`` replaces the F-based intervals by percentile
    intervals over ``n_boot`` resamples of subjects (complete ratings only),
    computed for all resamples at once from per-subject moments.

    References
    ----------
    Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater
    reliability. Psychological Bulletin 86, 420-428.
    McGraw KO, Wong SP (1996). Forming inferences about some intraclass correlation
    coefficients. Psychological Methods 1, 30-46.
    Koo TK, Li MY (2016). A guideline of selecting and reporting intraclass correlation
    coefficients for reliability research. Journal of Chiropractic Medicine 15, 155-163.
    Revelle W (2022). psych: Procedures for Psychological, Psychometric, and
    Personality Research. R package version 2.2.9. Agrees with
    ``psych::ICC(x, lmer = FALSE)`` and, with missing ratings, ``psych::ICC(x, lmer = TRUE)``
    (tests/reference/reliability.R).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import icc
    >>> sf = pd.DataFrame({"J1": [9, 6, 8, 7, 10, 6], "J2": [2, 1, 4, 1, 5, 2],
    ...                    "J3": [5, 3, 6, 2, 6, 4], "J4": [8, 2, 8, 6, 9, 7]})
    >>> res = icc(sf)
    >>> res.table["icc"].round(2).tolist()   # Shrout & Fleiss (1979), Table 4
    [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
    >>> res.form, res.mcgraw_wong, round(res.estimate, 4)
    ('ICC2', 'ICC(A,1)', 0.2898)
    """
    ci = check_ci(ci)
    check_choice(method, "method", ("auto", "anova", "reml"))
    check_choice(interval, "interval", ("F", "bootstrap"))
    check_choice(form, "form", ICC_FORMS)
    df = numeric_frame(ratings, what="icc", min_columns=2, min_rows=2, column_label="rater")
    empty = df.isna().all(axis=1)
    if empty.any():
        warnings.warn(
            f"icc: {int(empty.sum())} subject(s) have no rating and were left out "
            f"({format_rows(list(df.index[empty]))})",
            stacklevel=2,
        )
        df = df.loc[~empty]
    n_dropped = int(empty.sum())
    x = df.to_numpy()
    n, k = x.shape
    if n < 2:
        raise InputError(f"icc: needs at least 2 rated subjects, got {n}")
    has_missing = bool(np.isnan(x).any())
    if method == "anova" and has_missing:
        rows = list(df.index[np.isnan(x).any(axis=1)])
        raise InputError(
            f"icc: method='anova' needs complete ratings; {len(rows)} subject(s) miss a rating "
            f"({format_rows(rows)}); use method='auto' (REML) or drop them"
        )
    use_reml = method == "reml" or (method == "auto" and has_missing)
    components = None
    if use_reml:
        with small_blas():
            components = _reml_components(x)
        err = components["residual"]
        ms = {
            "MSB": k * components["subject"] + err,
            "MSJ": n * components["rater"] + err,
            "MSE": err,
            "MSW": err + components["rater"],
        }
    else:
        ms = _anova_ms(x)
        if ms["MSE"] <= 0 and ms["MSW"] <= 0:
            raise InputError("icc: all raters give identical ratings to every subject; ICCs are undefined (1 by convention)")
        if ms["MSB"] <= 0:
            raise InputError("icc: every subject has the same mean rating (no between-subject variance); ICCs are undefined")
    with np.errstate(divide="ignore", invalid="ignore"):
        table = _icc_table(ms, n, k, ci)
    attrs: dict[str, Any] = {
        "method": "reml" if use_reml else "anova",
        "interval": interval,
        "n": int(n),
        "k": int(k),
        "ci": ci,
        "mean_squares": {key: float(v) for key, v in ms.items()},
    }
    if components is not None:
        attrs["variance_components"] = {key: float(v) for key, v in components.items()}
    if interval == "bootstrap":
        if has_missing:
            raise InputError("icc: bootstrap intervals need complete ratings; use interval='F' (REML) instead")
        n_boot = _boot.check_n_boot(n_boot)
        scheme = _boot.resolve_scheme(boot_weights, n, n_boot)
        vals = _boot_icc(x, n_boot, rng(seed), scheme)
        failed = 0
        for j in range(6):
            lo, hi, f = _boot.percentile_interval(vals[:, j], ci)
            table.iloc[j, table.columns.get_loc("ci_low")] = lo
            table.iloc[j, table.columns.get_loc("ci_high")] = hi
            failed = max(failed, f)
        attrs.update({"n_boot": n_boot, "boot_weights": scheme, "n_boot_failed": failed})
    table.attrs.update(attrs)
    return _result(
        table, form, n=int(n), k=int(k), ci=ci, method=attrs["method"], interval=interval, n_dropped=n_dropped,
        mean_squares=attrs["mean_squares"], variance_components=attrs.get("variance_components"),
        n_boot=attrs.get("n_boot"), boot_weights=attrs.get("boot_weights"), n_boot_failed=attrs.get("n_boot_failed"),
    )


def icc_oneway(ratings: Any, *, ci: float = 0.95, form: str = "ICC1") -> IccResult:
    """One-way random-effects ICC(1) and ICC(k) when raters vary from subject to subject.

    The design of a rating tool whose cases are each rated by some assessors
    drawn from a pool: rater effects cannot be separated from error, so the
    model is one-way, ``y_ij = mu + s_i + e_ij`` (Shrout & Fleiss 1979, Case 1).
    ``ratings`` is wide (one row per subject); which column a rating is in does
    not matter, and subjects may have different numbers of ratings ``m_i``.
    Subjects with fewer than two ratings carry no information on agreement and
    are left out (``attrs["n_dropped"]``).  With ``n`` subjects, ``N = sum m_i``
    ratings, the one-way ANOVA mean squares ``MSB`` (between subjects, ``n - 1``
    df) and ``MSW`` (within, ``N - n`` df) and the average group size
    ``m0 = (N - sum m_i^2 / N) / (n - 1)`` (Searle 1971, p. 474)::

        ICC1  = (MSB - MSW) / (MSB + (m0 - 1) MSW)        ICC(1)
        ICC1k = (MSB - MSW) / MSB                          ICC(k), the mean of m0 ratings

    ``F = MSB / MSW`` on ``(n - 1, N - n)`` df, and the interval of Shrout &
    Fleiss (1979) with ``m0`` for ``k``: ``F_L = F / F_(1-a/2; n-1, N-n)``,
    ``F_U = F * F_(1-a/2; N-n, n-1)``, ``(F_L - 1) / (F_L + m0 - 1)`` to
    ``(F_U - 1) / (F_U + m0 - 1)`` (Donner 1986 for unequal group sizes).
    With the same number of ratings for every subject this is exactly
    ``psych::ICC``'s ICC1 and ICC1k (on the table with one column per rating);
    with unequal numbers it is the ANOVA estimator of ``anova(lm(y ~ subject))``.

    Returns an :class:`IccResult` whose ``estimate`` is ``form`` (``"ICC1"``,
    default, or ``"ICC1k"``) and whose ``table`` has the rows ``ICC1, ICC1k``
    with the columns of :func:`icc`; ``n``, ``n_ratings`` (``N``), ``k``
    (``m0``), ``n_dropped`` and the mean squares are fields.

    References
    ----------
    Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater
    reliability. Psychological Bulletin 86, 420-428.
    Searle SR (1971). Linear Models. Wiley, New York.
    Donner A (1986). A review of inference procedures for the intraclass correlation
    coefficient in the one-way random effects model. International Statistical Review 54,
    67-82.
    Agrees with ``psych::ICC`` (ICC1, ICC1k) and with the mean squares of
    ``anova(lm(rating ~ factor(case)))`` for unequal numbers of ratings
    (tests/reference/reliability.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.reliability import icc_oneway
    >>> x = pd.DataFrame({"first": [9, 6, 8, 7, 10, 6], "second": [8, 2, 8, 6, 9, 7],
    ...                   "third": [5, 3, 6, np.nan, 6, 4]})
    >>> round(icc_oneway(x).estimate, 4)
    0.3656
    """
    ci = check_ci(ci)
    check_choice(form, "form", ("ICC1", "ICC1k"))
    df = numeric_frame(ratings, what="icc_oneway", min_columns=2, min_rows=2, column_label="rating")
    x = df.to_numpy(dtype=float)
    m = (~np.isnan(x)).sum(axis=1)
    keep = m >= 2
    n_dropped = int((~keep).sum())
    x, m = x[keep], m[keep].astype(float)
    n = x.shape[0]
    if n < 2:
        raise InputError(f"icc_oneway: needs at least 2 subjects with two or more ratings, got {n}")
    big_n = float(m.sum())
    sums = np.nansum(x, axis=1)
    means = sums / m
    grand = sums.sum() / big_n
    ssb = float((m * (means - grand) ** 2).sum())
    ssw = float(np.nansum((x - means[:, None]) ** 2))
    df1, df2 = n - 1, big_n - n
    msb, msw = ssb / df1, ssw / df2
    if msw <= 0:
        raise InputError("icc_oneway: every subject's ratings agree exactly (no within-subject variance); "
                         "the ICC is undefined (1 by convention)")
    if msb <= 0:
        raise InputError("icc_oneway: every subject has the same mean rating (no between-subject variance); "
                         "the ICC is undefined")
    m0 = (big_n - (m**2).sum() / big_n) / df1
    a = 1.0 - ci
    f = msb / msw
    p = float(stats.f.sf(f, df1, df2))
    fl = f / stats.f.ppf(1 - a / 2, df1, df2)
    fu = f * stats.f.ppf(1 - a / 2, df2, df1)
    table = pd.DataFrame(
        {
            "icc": [(msb - msw) / (msb + (m0 - 1) * msw), (msb - msw) / msb],
            "F": [f, f],
            "df1": [float(df1), float(df1)],
            "df2": [float(df2), float(df2)],
            "p": [p, p],
            "ci_low": [(fl - 1) / (fl + m0 - 1), 1 - 1 / fl],
            "ci_high": [(fu - 1) / (fu + m0 - 1), 1 - 1 / fu],
            "mcgraw_wong": [_DESCRIPTIONS["ICC1"][0], _DESCRIPTIONS["ICC1k"][0]],
            "description": [_DESCRIPTIONS["ICC1"][1], "one-way random effects, absolute agreement, mean of "
                            "the ratings of a subject"],
        },
        index=pd.Index(["ICC1", "ICC1k"], name="type"),
    )
    table.attrs.update({"method": "anova-oneway", "n": int(n), "n_ratings": int(big_n), "k": float(m0),
                        "n_dropped": n_dropped, "ci": ci, "mean_squares": {"MSB": msb, "MSW": msw}})
    return _result(table, form, n=int(n), k=float(m0), ci=ci, method="anova-oneway", interval="F",
                   n_dropped=n_dropped, mean_squares={"MSB": msb, "MSW": msw}, n_ratings=int(big_n))


# --------------------------------------------------------------------------- helpers


def long_to_wide(df: pd.DataFrame, subject: str, rater: str, rating: str) -> pd.DataFrame:
    """Long ratings (one row per subject x rater) to the wide table the agreement functions take.

    Returns one row per subject (index named ``subject``), one column per
    rater (sorted), missing where a rater did not rate a subject.  Raises
    :class:`InputError` naming the pairs when a rater rated a subject twice.

    References
    ----------
    The wide layout of docs/DESIGN.md, "API conventions" (one row per subject, one
    column per rater, as R ``psych::ICC`` takes it; Shrout PE, Fleiss JL (1979).
    Intraclass correlations: uses in assessing rater reliability. Psychological Bulletin
    86, 420-428); the reshaping of R ``reshape(direction = "wide")`` /
    ``tidyr::pivot_wider``.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import long_to_wide
    >>> long = pd.DataFrame({"case": [1, 1, 2, 2], "assessor": ["A", "B", "A", "B"], "risk": [2, 3, 1, 1]})
    >>> long_to_wide(long, "case", "assessor", "risk").to_numpy().tolist()
    [[2, 3], [1, 1]]
    >>> twice = pd.DataFrame({"case": [1, 1], "assessor": ["A", "A"], "risk": [2, 3]})
    >>> long_to_wide(twice, "case", "assessor", "risk")
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: long_to_wide: 1 (subject, rater) pair(s) have more than one rating: (1, 'A') (rows 0, 1); keep one rating per pair
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"long_to_wide: expected a DataFrame, got {type(df).__name__}")
    missing_cols = [c for c in (subject, rater, rating) if c not in df.columns]
    if missing_cols:
        raise InputError(f"long_to_wide: column(s) {missing_cols} not found; columns are {list(df.columns)}")
    keys = df[[subject, rater]]
    if keys.isna().any().any():
        rows = list(df.index[keys.isna().any(axis=1)])
        raise InputError(f"long_to_wide: {subject!r} or {rater!r} is missing in {format_rows(rows)}")
    dup = keys.duplicated(keep=False)
    if dup.any():
        pairs = keys[dup].drop_duplicates()
        shown = ", ".join(f"({s!r}, {r!r})" for s, r in pairs.head(5).itertuples(index=False))
        more = f" and {len(pairs) - 5} more" if len(pairs) > 5 else ""
        raise InputError(
            f"long_to_wide: {len(pairs)} (subject, rater) pair(s) have more than one rating: "
            f"{shown}{more} ({format_rows(list(df.index[dup]))}); keep one rating per pair"
        )
    wide = df.pivot(index=subject, columns=rater, values=rating)
    wide.columns.name = rater
    return wide


@dataclasses.dataclass(frozen=True)
class TestRetestResult(Result):
    """Test-retest (intra-rater) reliability: ICC(A,1) and companions."""

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    ci: float
    form: str
    method: str
    consistency: float
    consistency_ci_low: float
    consistency_ci_high: float
    mean_change: float
    mean_change_ci_low: float
    mean_change_ci_high: float
    sem: float
    sdc: float
    pearson_r: float
    n_complete: int
    table: pd.DataFrame = dataclasses.field(repr=False)

    __test__ = False  # not a pytest test class


def test_retest(ratings_t1: Any, ratings_t2: Any | None = None, *, ci: float = 0.95) -> TestRetestResult:
    """Test-retest reliability of one rater (or instrument) on two or more occasions.

    Pass two Series (occasion 1 and 2, aligned on their index: the subject
    id) or one wide DataFrame (one column per occasion).  The estimate is
    ICC(A,1), two-way random effects, absolute agreement, single measurement
    (psych's ICC2) - the conventional choice for test-retest because a
    systematic shift between occasions counts as disagreement (Koo & Li
    2016; Weir 2005).  Also reported: the consistency ICC(C,1) (ICC3), the
    mean change from the first to the last occasion with a t interval (on
    subjects measured on both), the standard error of measurement
    ``sem = sqrt(MSE)`` and the smallest detectable change
    ``sdc = z * sqrt(2) * sem`` (Weir 2005), and Pearson's r.  Missing
    measurements are handled as in :func:`icc` (REML).

    References
    ----------
    Weir JP (2005). Quantifying test-retest reliability using the intraclass correlation
    coefficient and the SEM. Journal of Strength and Conditioning Research 19, 231-240.
    McGraw KO, Wong SP (1996). Forming inferences about some intraclass correlation
    coefficients. Psychological Methods 1, 30-46.
    Koo TK, Li MY (2016). A guideline of selecting and reporting intraclass correlation
    coefficients for reliability research. Journal of Chiropractic Medicine 15, 155-163.
    The ICCs are those of :func:`icc` (``psych::ICC``, ICC2 and ICC3).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import test_retest
    >>> t1 = pd.Series([10, 12, 9, 15, 11, 14])
    >>> t2 = pd.Series([11, 12, 10, 16, 11, 15])
    >>> round(test_retest(t1, t2).estimate, 3)
    0.943
    """
    ci = check_ci(ci)
    if ratings_t2 is None:
        wide = numeric_frame(ratings_t1, what="test_retest", min_columns=2, column_label="occasion")
    else:
        s1 = ratings_t1 if isinstance(ratings_t1, pd.Series) else pd.Series(np.asarray(ratings_t1))
        s2 = ratings_t2 if isinstance(ratings_t2, pd.Series) else pd.Series(np.asarray(ratings_t2))
        for s, nm in ((s1, "ratings_t1"), (s2, "ratings_t2")):
            if s.index.has_duplicates:
                raise InputError(f"test_retest: {nm} has duplicate subject ids in its index")
        wide = pd.concat([s1.rename("t1"), s2.rename("t2")], axis=1)
        wide = numeric_frame(wide, what="test_retest", min_columns=2, column_label="occasion")
    res = icc(wide, ci=ci)
    table = res.table
    x = wide.to_numpy()
    first, last = x[:, 0], x[:, -1]
    both = ~np.isnan(first) & ~np.isnan(last)
    n_c = int(both.sum())
    if n_c < 2:
        raise InputError("test_retest: fewer than 2 subjects were measured on both the first and last occasion")
    d = last[both] - first[both]
    md = float(d.mean())
    se = float(d.std(ddof=1) / np.sqrt(n_c))
    tq = stats.t.ppf(1 - (1 - ci) / 2, n_c - 1)
    sem = float(np.sqrt(res.mean_squares["MSE"]))
    z = stats.norm.ppf(1 - (1 - ci) / 2)
    r = float(np.corrcoef(first[both], last[both])[0, 1]) if n_c > 2 else float("nan")
    return TestRetestResult(
        estimate=float(table.loc["ICC2", "icc"]),
        ci_low=float(table.loc["ICC2", "ci_low"]),
        ci_high=float(table.loc["ICC2", "ci_high"]),
        n=res.n,
        k=int(res.k),
        ci=ci,
        form="ICC(A,1)",
        method=res.method,
        consistency=float(table.loc["ICC3", "icc"]),
        consistency_ci_low=float(table.loc["ICC3", "ci_low"]),
        consistency_ci_high=float(table.loc["ICC3", "ci_high"]),
        mean_change=md,
        mean_change_ci_low=md - tq * se,
        mean_change_ci_high=md + tq * se,
        sem=sem,
        sdc=float(z * np.sqrt(2.0) * sem),
        pearson_r=r,
        n_complete=n_c,
        table=table,
    )


# ``test_retest`` is an analysis, not a pytest test: stop pytest collecting it
# from test modules that import it.
test_retest.__test__ = False  # type: ignore[attr-defined]
