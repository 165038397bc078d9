"""Fit measures with lavaan's formulas: RMSEA and its interval, CFI, TLI."""

from __future__ import annotations

import math

from scipy import optimize, stats


# ---------------------------------------------------------------------------
# fit measures (lavaan's formulas)
# ---------------------------------------------------------------------------


def _pchisq(x: float, df: float, ncp: float) -> float:
    if ncp <= 0.0:
        return float(stats.chi2.cdf(x, df))
    return float(stats.ncx2.cdf(x, df, ncp))


def _rmsea(chisq: float, df: float, n: float, G: int) -> float:
    if df <= 0:
        return 0.0
    return math.sqrt(max(chisq / n / df - 1.0 / n, 0.0)) * math.sqrt(G)


def _rmsea_ci(chisq: float, df: float, n: float, G: int, level: float) -> tuple[float, float]:
    """lavaan's lav_fit_rmsea_ci: noncentrality interval inverted to RMSEA."""
    upper_p, lower_p = 1.0 - (1.0 - level) / 2.0, (1.0 - level) / 2.0

    def lower_fun(lam: float) -> float:
        return _pchisq(chisq, df, lam) - upper_p

    def upper_fun(lam: float) -> float:
        return _pchisq(chisq, df, lam) - lower_p

    if df < 1 or lower_fun(0.0) < 0:
        lo = 0.0
    else:
        if lower_fun(chisq) < 0:
            lam_l = optimize.brentq(lower_fun, 0.0, chisq, xtol=1e-12, rtol=1e-12)
        else:
            lam_l = chisq
        lo = math.sqrt(lam_l / (n * df)) * math.sqrt(G)
    n_rmsea = max(n, chisq * 4.0)
    if df < 1 or upper_fun(n_rmsea) > 0 or upper_fun(0.0) < 0:
        hi = 0.0
    else:
        lam_u = optimize.brentq(upper_fun, 0.0, n_rmsea, xtol=1e-12, rtol=1e-12)
        hi = math.sqrt(lam_u / (n * df)) * math.sqrt(G)
    return lo, hi


def _cfi(x2: float, df: float, x2b: float, dfb: float) -> float:
    t1 = max(x2 - df, 0.0)
    t2 = max(x2 - df, x2b - dfb, 0.0)
    if math.isclose(t1, 0.0, abs_tol=1.5e-8) and math.isclose(t2, 0.0, abs_tol=1.5e-8):
        return 1.0
    return 1.0 - t1 / t2


def _tli(x2: float, df: float, x2b: float, dfb: float) -> float:
    t1 = (x2 - df) * dfb
    t2 = (x2b - dfb) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    return 1.0
