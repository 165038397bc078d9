"""Polychoric correlations of ordinal items, as ``psych::polychoric`` computes them.

For ordinal items (Likert ratings, low/moderate/high indicator ratings) the
Pearson correlation of the codes underestimates the association of the
continuous tendencies behind them.  The polychoric correlation assumes each
item cuts a standard normal variable at thresholds ``tau`` and estimates the
correlation ``rho`` of the two normals from the item-by-item contingency
table (Olsson 1979, two-step estimator):

1. thresholds ``tau_k = Phi^-1(cumulative proportion of categories <= k)``,
   from each item's marginal distribution;
2. ``rho`` maximises ``sum_ab n_ab log P_ab(rho)``, where ``P_ab`` is the
   bivariate normal probability of cell (a, b) given the fixed thresholds.

This follows ``psych::polychoric`` (psych 2.2.9) exactly:

* when all items have the same number of response categories psych uses
  *global* thresholds (step 1 from all available answers to each item) and
  no zero-cell correction;
* when they do not, psych switches to *local* thresholds (``global = FALSE``,
  with a warning): for each pair, empty rows and columns of the table are
  dropped, empty cells are set to ``correct / n`` (``correct = 0.5``), and the
  thresholds come from that table's margins;
* missing answers are dropped pairwise;
* if the resulting matrix is not positive definite it is smoothed
  (``psych::cor.smooth``), with a warning.

The bivariate normal probabilities use Genz's (2004) algorithm (as
``mnormt::sadmvn`` does for two dimensions), accurate to double precision.

References
----------
Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation
coefficient. *Psychometrika*, 44, 443-460.

Genz, A. (2004). Numerical computation of rectangular bivariate and trivariate
normal and t probabilities. *Statistics and Computing*, 14, 251-260.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy import special

from .._results import Result
from .._validate import InputError, numeric_frame

__all__ = ["PolychoricResult", "polychoric", "bivariate_normal_cdf", "cor_smooth"]

_MAX_CATEGORIES = 8
_FLOAT32_MAX_ROWS = 2**24  # counts of 0/1 stay exact in float32 below this many rows


# ----------------------------------------------------------------------- bivariate normal
_GL = {
    6: (
        np.array([0.1713244923791705, 0.3607615730481384, 0.4679139345726904]),
        np.array([0.9324695142031522, 0.6612093864662647, 0.2386191860831970]),
    ),
    12: (
        np.array([0.04717533638651177, 0.1069393259953183, 0.1600783285433464,
                  0.2031674267230659, 0.2334925365383547, 0.2491470458134029]),
        np.array([0.9815606342467191, 0.9041172563704750, 0.7699026741943050,
                  0.5873179542866171, 0.3678314989981802, 0.1252334085114692]),
    ),
    20: (
        np.array([0.01761400713915212, 0.04060142980038694, 0.06267204833410906,
                  0.08327674157670475, 0.1019301198172404, 0.1181945319615184,
                  0.1316886384491766, 0.1420961093183821, 0.1491729864726037,
                  0.1527533871307259]),
        np.array([0.9931285991850949, 0.9639719272779138, 0.9122344282513259,
                  0.8391169718222188, 0.7463319064601508, 0.6360536807265150,
                  0.5108670019508271, 0.3737060887154196, 0.2277858511416451,
                  0.07652652113349733]),
    ),
}


def _phid(z: np.ndarray) -> np.ndarray:
    return special.ndtr(z)


def _bvnu_finite(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Upper probability P(X > h, Y > k) for finite h, k and |r| < 1 (Genz's BVNU), vectorised."""
    out = np.empty(h.shape)
    tp = 2.0 * np.pi
    ar = np.abs(r)
    zero = r == 0
    out[zero] = _phid(-h[zero]) * _phid(-k[zero])
    for lo, hi, ng in ((0.0, 0.3, 6), (0.3, 0.75, 12), (0.75, 0.925, 20)):
        m = (~zero) & (ar >= lo) & (ar < hi) if lo > 0 else (~zero) & (ar < hi)
        if not m.any():
            continue
        w, x = _GL[ng]
        w = np.concatenate([w, w])
        x = np.concatenate([1 - x, 1 + x])
        hh, kk, rr = h[m], k[m], r[m]
        hk = hh * kk
        hs = (hh * hh + kk * kk) / 2.0
        asr = np.arcsin(rr) / 2.0
        sn = np.sin(asr[:, None] * x[None, :])
        bvn = np.exp((sn * hk[:, None] - hs[:, None]) / (1.0 - sn**2)) @ w
        out[m] = bvn * asr / tp + _phid(-hh) * _phid(-kk)
    m = ar >= 0.925
    if m.any():
        w, x = _GL[20]
        w = np.concatenate([w, w])
        x = np.concatenate([1 - x, 1 + x])
        hh, kk, rr = h[m].copy(), k[m].copy(), r[m]
        hk = hh * kk
        neg = rr < 0
        kk[neg] = -kk[neg]
        hk[neg] = -hk[neg]
        bvn = np.zeros(hh.shape)
        lt1 = ar[m] < 1
        if lt1.any():
            as_ = 1.0 - rr**2
            a = np.sqrt(np.where(lt1, as_, 1.0))
            bs = (hh - kk) ** 2
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                asr = -(bs / as_ + hk) / 2.0
                c = (4.0 - hk) / 8.0
                d = (12.0 - hk) / 80.0
                t1 = np.where(asr > -100, a * np.exp(asr) * (1 - c * (bs - as_) * (1 - d * bs) / 3 + c * d * as_**2), 0.0)
                b = np.sqrt(bs)
                sp = np.sqrt(tp) * _phid(-b / a)
                t2 = np.where(hk > -100, np.exp(-hk / 2.0) * sp * b * (1 - c * bs * (1 - d * bs) / 3), 0.0)
                bv = t1 - t2
                a2 = a / 2.0
                xs = (a2[:, None] * x[None, :]) ** 2
                asr2 = -(bs[:, None] / xs + hk[:, None]) / 2.0
                spx = 1 + c[:, None] * xs * (1 + 5 * d[:, None] * xs)
                rs = np.sqrt(1 - xs)
                ep = np.exp(-(hk[:, None] / 2.0) * xs / (1 + rs) ** 2) / rs
                terms = np.where(asr2 > -100, a2[:, None] * w[None, :] * np.exp(asr2) * (ep - spx), 0.0)
                bv = bv + terms.sum(axis=1)
            bvn = np.where(lt1, -bv / tp, 0.0)
        pos = rr > 0
        res = np.empty(hh.shape)
        res[pos] = bvn[pos] + _phid(-np.maximum(hh[pos], kk[pos]))
        ng_ = ~pos
        hge = ng_ & (hh >= kk)
        res[hge] = -bvn[hge]
        rest = ng_ & (hh < kk)
        Lr = np.where(hh[rest] < 0, _phid(kk[rest]) - _phid(hh[rest]), _phid(-hh[rest]) - _phid(-kk[rest]))
        res[rest] = Lr - bvn[rest]
        out[m] = res
    return np.clip(out, 0.0, 1.0)


def bivariate_normal_cdf(h: np.ndarray | float, k: np.ndarray | float, rho: np.ndarray | float) -> np.ndarray:
    """``P(X <= h, Y <= k)`` for standard bivariate normal (X, Y) with correlation ``rho``.

    Vectorised over broadcast ``h``, ``k``, ``rho``; infinite limits allowed.
    Genz's (2004) algorithm (Drezner-Wesolowsky with Gauss-Legendre
    quadrature), accurate to about 1e-15.

    With ``phi_2`` the standard bivariate normal density::

        F(h, k; rho) = int_(-inf)^h int_(-inf)^k phi_2(x, y; rho) dy dx

    References
    ----------
    Drezner Z, Wesolowsky GO (1990). On the computation of the bivariate normal integral.
    Journal of Statistical Computation and Simulation 35, 101-107.
    Genz A (2004). Numerical computation of rectangular bivariate and trivariate normal
    and t probabilities. Statistics and Computing 14, 251-260.

    Examples
    --------
    >>> round(float(bivariate_normal_cdf(0.0, 0.0, 0.5)), 12)  # 1/4 + asin(.5)/(2 pi) = 1/3
    0.333333333333
    """
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(rho, float))
    shape = h.shape
    h, k, r = h.ravel(), k.ravel(), r.ravel()
    out = np.empty(h.shape)
    # P(X <= h, Y <= k) = P(-X >= -h, -Y >= -k) = bvnu(-h, -k, r)
    dh, dk = -h, -k
    inf_h_up = dh == np.inf
    inf_k_up = dk == np.inf
    minus_h = dh == -np.inf
    minus_k = dk == -np.inf
    done = np.zeros(h.shape, bool)
    z = inf_h_up | inf_k_up
    out[z] = 0.0
    done |= z
    m = ~done & minus_h & minus_k
    out[m] = 1.0
    done |= m
    m = ~done & minus_h
    out[m] = _phid(-dk[m])
    done |= m
    m = ~done & minus_k
    out[m] = _phid(-dh[m])
    done |= m
    m = ~done
    if m.any():
        out[m] = _bvnu_finite(dh[m], dk[m], r[m])
    return out.reshape(shape)


# ----------------------------------------------------------------------- helpers
def cor_smooth(r: np.ndarray, eig_tol: float = 1e-12) -> tuple[np.ndarray, bool]:
    """``psych::cor.smooth``: eigenvalues below ``eig_tol`` set to ``100 * eig_tol``, rescaled, back to a correlation matrix.

    Returns the (possibly) smoothed matrix and whether smoothing was needed
    (smallest eigenvalue below machine epsilon).

    With ``R = V diag(e) V'`` and ``e_i`` raised to ``100 eig_tol`` where below
    ``eig_tol``, rescaled so that ``sum e = p``::

        S = V diag(e) V',   R_smooth = D^(-1/2) S D^(-1/2),   D = diag(S)

    References
    ----------
    Wothke W (1993). Nonpositive definite matrices in structural modeling. In Bollen KA,
    Long JS (eds), Testing Structural Equation Models. Sage, Newbury Park, 256-293.
    Revelle W (2022). psych: Procedures for Psychological, Psychometric, and Personality
    Research. R package version 2.2.9. Agrees with
    ``psych::cor.smooth``.

    Examples
    --------
    >>> import numpy as np
    >>> from veplab.factor_analysis.correlations import cor_smooth
    >>> r = np.array([[1, .9, .7], [.9, 1, .1], [.7, .1, 1]])   # smallest eigenvalue -0.093
    >>> s, smoothed = cor_smooth(r)
    >>> s.round(4).tolist(), smoothed          # R: psych::cor.smooth(r)
    ([[1.0, 0.8306, 0.6515], [0.8306, 1.0, 0.1187], [0.6515, 0.1187, 1.0]], True)
    """
    vals, vecs = np.linalg.eigh(r)
    if vals.min() >= np.finfo(float).eps:
        return r, False
    vals = np.where(vals < eig_tol, 100 * eig_tol, vals)
    vals = vals * r.shape[0] / vals.sum()
    x = (vecs * vals) @ vecs.T
    d = np.sqrt(np.diag(x))
    x = x / np.outer(d, d)
    x = (x + x.T) / 2.0
    np.fill_diagonal(x, 1.0)
    return x, True


def _cell_probs(rc: np.ndarray, cc: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Cell probabilities for a batch of tables.

    ``rc`` (B, R+1) and ``cc`` (B, C+1) are the cut points including -inf and
    +inf; ``rho`` (B,).  Returns (B, R, C).
    """
    B = rho.shape[0]
    h = np.broadcast_to(rc[:, :, None], (B, rc.shape[1], cc.shape[1]))
    k = np.broadcast_to(cc[:, None, :], (B, rc.shape[1], cc.shape[1]))
    rr = np.broadcast_to(rho[:, None, None], h.shape)
    return _corner_diff(bivariate_normal_cdf(h, k, rr))


def _negloglik(tab: np.ndarray, rc: np.ndarray, cc: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """psych's ``polyF``: ``-sum tab * log P`` ignoring cells with ``P <= 0``."""
    P = _cell_probs(rc, cc, rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.where(P > 0, np.log(np.where(P > 0, P, 1.0)), 0.0)
    return -np.sum(tab * lp, axis=(1, 2))


def _corner_diff(F: np.ndarray) -> np.ndarray:
    """Cell values from corner values: ``F[a+1, b+1] - F[a, b+1] - F[a+1, b] + F[a, b]`` per table."""
    return F[:, 1:, 1:] - F[:, :-1, 1:] - F[:, 1:, :-1] + F[:, :-1, :-1]


def _score(tab: np.ndarray, rc: np.ndarray, cc: np.ndarray, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and second derivatives in ``rho`` of ``l = sum tab * log P`` (cells with ``P <= 0`` ignored).

    ``dPhi2(h, k; rho) / drho = phi2(h, k; rho)`` (the bivariate normal
    density; Plackett's identity), so with ``P'`` and ``P''`` the corner
    differences of ``phi2`` and of ``d phi2 / d rho = phi2 * g``,
    ``g = (rho + hk) / (1 - rho^2) - rho (h^2 - 2 rho hk + k^2) / (1 - rho^2)^2``:
    ``l' = sum tab P'/P`` and ``l'' = sum tab (P''/P - (P'/P)^2)``.  The density
    is zero at infinite cut points.
    """
    B = rho.shape[0]
    shape = (B, rc.shape[1], cc.shape[1])
    h = np.broadcast_to(rc[:, :, None], shape)
    k = np.broadcast_to(cc[:, None, :], shape)
    r = rho[:, None, None]
    finite = np.isfinite(h) & np.isfinite(k)
    hf = np.where(finite, h, 0.0)
    kf = np.where(finite, k, 0.0)
    one_r2 = 1.0 - r * r
    hk = hf * kf
    q = hf * hf - 2.0 * r * hk + kf * kf
    with np.errstate(over="ignore", under="ignore"):
        dens = np.where(finite, np.exp(-q / (2.0 * one_r2)) / (2.0 * np.pi * np.sqrt(one_r2)), 0.0)
    g = (r + hk) / one_r2 - r * q / one_r2**2
    P = _corner_diff(bivariate_normal_cdf(h, k, np.broadcast_to(r, shape)))
    d1 = _corner_diff(dens)
    d2 = _corner_diff(dens * g)
    pos = P > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(pos, d1 / np.where(pos, P, 1.0), 0.0)
        v = np.where(pos, d2 / np.where(pos, P, 1.0), 0.0)
    return np.sum(tab * u, axis=(1, 2)), np.sum(tab * (v - u * u), axis=(1, 2))


def _maximise_rho(tab: np.ndarray, rc: np.ndarray, cc: np.ndarray, max_iter: int = 200) -> np.ndarray:
    """Each table's maximum-likelihood rho on (-1, 1), all tables at once.

    Newton's method on the score ``l'(rho)`` (:func:`_score`), safeguarded by a
    bracket: the likelihood is unimodal in ``rho`` (Olsson 1979), so
    ``l' > 0`` left of the maximum and ``< 0`` right of it; every evaluation
    shrinks the bracket ``[lo, hi]`` (initially ``(-1, 1)``), and a Newton step
    that leaves it (or a non-negative curvature) is replaced by bisection.
    Stops when the step is below ``1e-12``; a maximum on the boundary ends at
    ``+-(1 - 1e-12)``.  ``optimize`` in R (which psych calls) is Brent's
    method with tolerance ``1.2e-4``; this finds the same maximum more
    precisely, in about five likelihood evaluations per table.
    """
    B = tab.shape[0]
    lo = np.full(B, -1.0 + 1e-12)
    hi = np.full(B, 1.0 - 1e-12)
    rho = np.zeros(B)
    active = np.arange(B)
    for _ in range(max_iter):
        if active.size == 0:
            break
        r = rho[active]
        s1, s2 = _score(tab[active], rc[active], cc[active], r)
        up = s1 > 0
        lo[active] = np.where(up, r, lo[active])
        hi[active] = np.where(up, hi[active], r)
        a, b = lo[active], hi[active]
        with np.errstate(divide="ignore", invalid="ignore"):
            new = r - s1 / s2
        bad = ~((s2 < 0) & (new > a) & (new < b))
        new = np.where(bad, (a + b) / 2.0, new)
        done = (np.abs(new - r) < 1e-12) | (s1 == 0) | (b - a < 1e-12)
        rho[active] = np.where(s1 == 0, r, new)
        active = active[~done]
    return rho


@dataclasses.dataclass(frozen=True)
class PolychoricResult(Result):
    """Polychoric correlation matrix with thresholds (as ``psych::polychoric``).

    ``rho`` items x items; ``thresholds`` items x (categories - 1) on the
    normal scale; ``n_pairs`` the number of rows used for each pair;
    ``global_thresholds`` whether psych's global-threshold path was used;
    ``n_pairs_corrected`` how many pairwise tables had empty cells replaced by
    ``correct / n`` (local path only); ``smoothed`` whether ``cor.smooth`` was
    applied.
    """

    n_obs: int
    n_items: int
    n_categories: int
    global_thresholds: bool
    correct: float
    n_pairs_corrected: int
    smoothed: bool
    rho: pd.DataFrame = dataclasses.field(repr=False)
    thresholds: pd.DataFrame = dataclasses.field(repr=False)
    n_pairs: pd.DataFrame = dataclasses.field(repr=False)

    def summary(self) -> str:
        head = (
            f"Polychoric correlations of {self.n_items} items ({self.n_categories} categories, "
            f"n = {self.n_obs}; {'global' if self.global_thresholds else 'pairwise'} thresholds"
            f"{'; smoothed to be positive definite' if self.smoothed else ''})"
        )
        return head + "\n" + self.rho.to_string(float_format=lambda v: f"{v:.3f}")


def _integer_codes(df: pd.DataFrame, what: str) -> None:
    values = df.to_numpy()
    finite = np.isfinite(values)
    bad = finite & (values != np.round(values))
    if bad.any():
        cols = [str(c) for c, b in zip(df.columns, bad.any(axis=0)) if b]
        rows = list(df.index[bad.any(axis=1)])
        raise InputError(
            f"{what}: items {cols} have non-integer values (rows {rows[:10]}); polychoric "
            "correlations need ordinal category codes (e.g. 1-5). Use Pearson correlations "
            "(corr='pearson') for continuous items."
        )


def _pair_tables(codes: np.ndarray, nvalues: int) -> np.ndarray:
    """Contingency tables of every pair of items, missing answers dropped pairwise.

    ``codes`` (n, p) holds categories ``1..nvalues`` or NaN.  With the one-hot
    matrix ``Z`` (n, p * nvalues), ``Z[r, i * nvalues + a] = 1`` when row ``r``
    answers item ``i`` with category ``a + 1`` (all zero when missing), the
    tables are the blocks of ``Z'Z``: ``N[i, j, a, b] = #{r: x_ri = a+1, x_rj = b+1}``,
    counted over rows answering both items.  One symmetric BLAS product
    replaces a loop over pairs; the counts are sums of 0/1 so they are exact
    in float32 while every partial sum stays below ``2**24`` (guaranteed for
    ``n < 2**24`` rows; float64 above that).  Returns (p, p, nvalues, nvalues)
    float64 counts; ``N[i, i]`` is diagonal with item ``i``'s frequencies.
    """
    n, p = codes.shape
    dtype = np.float32 if n < _FLOAT32_MAX_ROWS else np.float64
    # row c of `onehot` is category c's indicator; row 0 (missing answers) is all zero
    onehot = np.zeros((nvalues + 1, nvalues), dtype=dtype)
    onehot[1:] = np.eye(nvalues, dtype=dtype)
    z = np.take(onehot, np.nan_to_num(codes, nan=0.0).astype(np.intp), axis=0).reshape(n, p * nvalues)
    zz = (z.T @ z).astype(np.float64)
    return zz.reshape(p, nvalues, p, nvalues).transpose(0, 2, 1, 3)


def polychoric(
    items: pd.DataFrame,
    *,
    correct: float = 0.5,
    global_thresholds: bool = True,
    smooth: bool = True,
) -> PolychoricResult:
    """Polychoric correlation matrix of ordinal items, matching ``psych::polychoric``.

    Parameters
    ----------
    items
        One column per item, integer category codes (at most 8 categories, as
        psych allows), missing values as NaN (dropped pairwise).
    correct
        Continuity correction for empty cells, used (as in psych) only on the
        local-threshold path: empty cells become ``correct / n``.  ``0`` turns
        it off.
    global_thresholds
        psych's ``global``: thresholds from each item's own marginal
        distribution.  Automatically switched off (with a warning, as psych
        does) when items have different numbers of categories.
    smooth
        Smooth a non-positive-definite result with ``psych::cor.smooth``
        (with a warning).  With ``smooth=False`` the raw matrix is returned.

    Returns
    -------
    PolychoricResult
        ``rho`` (DataFrame), ``thresholds`` (items x cut points), ``n_pairs``.

    Notes
    -----
    For each pair, with thresholds ``a_i = qnorm(P(X <= i))``, ``b_j = qnorm(P(Y <= j))``
    and cell counts ``n_ij``, ``rho`` maximises::

        l(rho) = sum_ij n_ij log pi_ij(rho)
        pi_ij = F(a_i, b_j) - F(a_(i-1), b_j) - F(a_i, b_(j-1)) + F(a_(i-1), b_(j-1))

    with ``F`` the standard bivariate normal cdf with correlation ``rho``
    (:func:`bivariate_normal_cdf`).

    References
    ----------
    Olsson U (1979). Maximum likelihood estimation of the polychoric correlation
    coefficient. Psychometrika 44, 443-460.
    Revelle W (2022). psych: Procedures for Psychological, Psychometric, and Personality
    Research. R package version 2.2.9. Agrees with
    ``psych::polychoric`` (tests/reference/validity_efa.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> z = rng.multivariate_normal([0, 0], [[1, .6], [.6, 1]], size=500)
    >>> items = pd.DataFrame(1 + np.searchsorted([-1, 0, 1], z.ravel()).reshape(500, 2), columns=["a", "b"])
    >>> round(float(polychoric(items).rho.loc["a", "b"]), 1)
    0.6
    """
    what = "polychoric"
    df = numeric_frame(items, what=what, min_columns=2, min_rows=2, allow_constant=False, column_label="item")
    _integer_codes(df, what)
    try:
        correct = float(correct)
    except (TypeError, ValueError):
        raise InputError(f"{what}: correct must be a non-negative number, got {correct!r}") from None
    if not correct >= 0:
        raise InputError(f"{what}: correct must be a non-negative number, got {correct!r}")
    x = df.to_numpy()
    xmin = np.nanmin(x)
    nvalues = int(np.nanmax(x) - xmin + 1)
    if nvalues > _MAX_CATEGORIES:
        raise InputError(
            f"{what}: the items span {nvalues} categories ({xmin:g} to {np.nanmax(x):g}); psych::polychoric "
            f"allows at most {_MAX_CATEGORIES}. With this many categories treat the items as continuous "
            "(corr='pearson'), or check for out-of-range codes (e.g. 99 for 'refused')."
        )
    codes = x - xmin + 1  # 1..nvalues, NaN kept
    p = codes.shape[1]
    item_max = np.nanmax(codes, axis=0)
    use_global = bool(global_thresholds)
    if use_global and item_max.min() != item_max.max():
        use_global = False
        warnings.warn(
            "polychoric: the items do not have an equal number of response alternatives "
            f"(highest codes {dict(zip(map(str, df.columns), (item_max + xmin - 1).tolist()))}); "
            "thresholds are estimated pairwise (psych's global = FALSE) with the zero-cell correction "
            f"correct = {correct:g}.",
            UserWarning,
            stacklevel=2,
        )
    counts = _pair_tables(codes, nvalues)  # (p, p, nvalues, nvalues)
    freq = counts[np.arange(p), np.arange(p)].diagonal(axis1=1, axis2=2)  # (p, nvalues)
    n_item = freq.sum(axis=1)
    with np.errstate(divide="ignore"):
        tau = special.ndtri(np.cumsum(freq / n_item[:, None], axis=1)[:, : nvalues - 1])

    ii, jj = np.tril_indices(p, k=-1)  # psych loops i > j with x = item i (rows)
    # pairwise tables (pairs, nvalues, nvalues): rows item i, columns item j
    tabs = counts[ii, jj]
    tot = tabs.sum(axis=(1, 2))
    npairs = len(ii)
    inf = np.inf
    rc = np.full((npairs, nvalues + 1), inf)
    cc = np.full((npairs, nvalues + 1), inf)
    rc[:, 0] = -inf
    cc[:, 0] = -inf
    tabn = np.zeros_like(tabs)
    valid = tot > 0
    fixed = np.zeros(npairs, bool)
    if use_global:
        rc[:, 1:nvalues] = tau[ii]
        cc[:, 1:nvalues] = tau[jj]
        tabn[valid] = tabs[valid] / tot[valid, None, None]
    else:
        for q in np.flatnonzero(valid):
            t = tabs[q] / tot[q]
            t = t[~np.all(t == 0, axis=1)][:, ~np.all(t == 0, axis=0)]
            if correct > 0 and np.any(t == 0):
                fixed[q] = True
                t = np.where(t == 0, correct / tot[q], t)
            if min(t.shape) < 2:
                valid[q] = False
                continue
            rsum, csum = t.sum(axis=1), t.sum(axis=0)
            nr, nc = t.shape
            rc[q, 1:nr] = special.ndtri(np.cumsum(rsum)[:-1])
            cc[q, 1:nc] = special.ndtri(np.cumsum(csum)[:-1])
            rc[q, nr:] = inf
            cc[q, nc:] = inf
            tabn[q, :nr, :nc] = t
    rho_pairs = np.full(npairs, np.nan)
    if valid.any():
        rho_pairs[valid] = _maximise_rho(tabn[valid], rc[valid], cc[valid])
    names = [str(c) for c in df.columns]
    if not valid.all():
        bad = [f"{names[i]}-{names[j]}" for i, j, v in zip(ii, jj, valid) if not v]
        raise InputError(
            f"{what}: the polychoric correlation is undefined for pairs {bad[:10]} (no rows where both "
            "are answered, or only one category used jointly); drop one item of each pair or collect more data"
        )
    rho = np.eye(p)
    rho[ii, jj] = rho_pairs
    rho[jj, ii] = rho_pairs
    n_fixed = int(fixed.sum())
    if n_fixed and correct > 0:
        warnings.warn(
            f"polychoric: {n_fixed} pairwise tables had empty cells set to {correct:g}/n (the continuity "
            "correction, as psych::polychoric does); examine sparse categories -- merging rare categories "
            "is often better.",
            UserWarning,
            stacklevel=2,
        )
    smoothed = False
    if smooth:
        rho, smoothed = cor_smooth(rho)
        if smoothed:
            warnings.warn(
                "polychoric: the matrix was not positive definite and was smoothed (psych::cor.smooth); "
                "this usually reflects sparse tables or pairwise missing data.",
                UserWarning,
                stacklevel=2,
            )
    pair_n = counts.sum(axis=(2, 3))  # rows where both items are answered
    cut_names = [f"{xmin + k - 1:g}|{xmin + k:g}" for k in range(1, nvalues)]
    return PolychoricResult(
        n_obs=int(len(df)),
        n_items=p,
        n_categories=nvalues,
        global_thresholds=use_global,
        correct=correct,
        n_pairs_corrected=n_fixed,
        smoothed=smoothed,
        rho=pd.DataFrame(rho, index=names, columns=names),
        thresholds=pd.DataFrame(tau, index=names, columns=cut_names),
        n_pairs=pd.DataFrame(pair_n.astype(int), index=names, columns=names),
    )
