"""Cronbach's alpha with psych's full output, and item analysis."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
from scipy import special

from .._results import Result, TableResult
from .._validate import InputError, check_choice, check_ci, column_range, format_rows, rng
from . import _boot
from ._common import cov2cor, items_data, pairwise_cor, smc

__all__ = ["AlphaResult", "alpha", "item_analysis", "ItemAnalysis"]


# --------------------------------------------------------------------------- core


def _alpha_stats(c: np.ndarray, r: np.ndarray, smc_r: np.ndarray | None = None) -> dict[str, float]:
    """psych's inner ``alpha.1``: raw and standardised alpha, G6(smc), r-bar, S/N, Q."""
    k = c.shape[0]
    sum_c = c.sum()
    tr_c = np.trace(c)
    raw = (1.0 - tr_c / sum_c) * (k / (k - 1))
    sum_r = r.sum()
    std = (1.0 - k / sum_r) * (k / (k - 1))
    g6 = 1.0 - (k - (smc(r) if smc_r is None else smc_r).sum()) / sum_r
    av_r = (sum_r - k) / (k * (k - 1))
    lower = r[np.tril_indices(k, -1)]
    var_r = float(np.var(lower, ddof=1)) if lower.size > 1 else float("nan")
    med_r = float(np.median(lower))
    sn = k * av_r / (1.0 - av_r)
    cc = c @ c
    q = (2.0 * k**2 / ((k - 1) ** 2 * sum_c**3)) * (sum_c * (np.trace(cc) + tr_c**2) - 2.0 * tr_c * cc.sum())
    return {"raw": raw, "std": std, "g6": g6, "av_r": av_r, "sn": sn, "q": q, "var_r": var_r, "med_r": med_r}


def _complete(x: np.ndarray) -> bool:
    """No missing value in ``x`` (one fast column-sum pass; the full check only when a sum is NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):
        if not np.isnan(x.sum(axis=0)).any():
            return True
    return not np.isnan(x).any()


def _complete_cov(x: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Covariance of complete data with column means ``means``.

    ``(X'X - n m m') / (n - 1)`` from one symmetric product of the raw data;
    its rounding error relative to a variance is about ``eps (1 + m^2 / var)``,
    so when a mean is large against its item's spread (``m^2 / var > 1e4``:
    never on rating scales) the data are centred first.
    """
    n = x.shape[0]
    c = x.T @ x
    c -= n * np.outer(means, means)
    c /= n - 1.0
    d = np.diag(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        risky = not (means**2 < 1e4 * d).all()
    if risky:
        xc = x - means
        c = xc.T @ xc
        c /= n - 1.0
    return (c + c.T) / 2.0


def _pairwise_cov(x: np.ndarray) -> np.ndarray:
    """Covariance with pairwise-complete observations (R's ``cov(use = "pairwise")``).

    Entries for item pairs answered together by fewer than 2 respondents are NaN.
    """
    if _complete(x):
        return _complete_cov(x, x.mean(axis=0))
    m = ~np.isnan(x)
    x0 = np.where(m, x - np.nanmean(x, axis=0), 0.0)
    mf = m.astype(float)
    n_ij = mf.T @ mf
    s_i = x0.T @ mf  # s_i[i, j] = sum of x_i over rows where i and j are observed
    s_ij = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (s_ij - s_i * s_i.T / n_ij) / (n_ij - 1.0)
    c[n_ij < 2] = np.nan
    return c


def _check_cov(c: np.ndarray, names: list[str], what: str) -> None:
    if not np.isfinite(c).all():
        i, j = np.argwhere(~np.isfinite(c))[0]
        raise InputError(
            f"{what}: items {names[i]!r} and {names[j]!r} are answered together by fewer than 2 respondents, "
            f"so their covariance is undefined; drop one of them or collect more data"
        )


def _item_moments(x: np.ndarray, c: np.ndarray, means: np.ndarray | None = None) -> dict[str, Any]:
    """Per-item n, mean, sd, correlation with the scale score, and the score's mean and sd.

    The scale score is psych's ``rowMeans(x, na.rm = TRUE)``.  On complete
    data everything follows from the covariance matrix ``C`` (score variance
    ``1'C1 / k^2``, item-score covariance ``(C1)_i / k``); with missing
    answers each item's correlation with the score uses the rows where the
    item is answered (R's ``cor(use = "pairwise")``), from masked sums.
    ``means`` (the column means) says the data are complete.
    """
    n, k = x.shape
    if means is not None or _complete(x):
        c1 = c.sum(axis=1)
        sum_c = c1.sum()
        means = x.mean(axis=0) if means is None else means
        return {
            "n": np.full(k, n, dtype=int),
            "mean": means,
            "sd": np.sqrt(np.diag(c)),
            "raw_r": c1 / np.sqrt(np.diag(c) * sum_c),
            "total_mean": float(means.mean()),
            "total_sd": float(np.sqrt(sum_c) / k),
        }
    obs = ~np.isnan(x)
    mf = obs.astype(float)
    cnt = mf.sum(axis=0)
    xz = np.where(obs, x, 0.0)
    means = xz.sum(axis=0) / cnt
    x0 = np.where(obs, x - means, 0.0)
    answered = mf.sum(axis=1)
    total = xz.sum(axis=1) / answered  # rows answering nothing were dropped by items_frame
    t_mean = total.mean()
    t0 = total - t_mean
    s_t = t0 @ mf  # sum of the centred score over the rows where item i is answered
    s_tt = (t0**2) @ mf
    s_xt = t0 @ x0
    s_xx = (x0**2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw_r = s_xt / np.sqrt(s_xx * (s_tt - s_t**2 / cnt))
        sd = np.sqrt(s_xx / (cnt - 1.0))
    return {
        "n": cnt.astype(int),
        "mean": means,
        "sd": sd,
        "raw_r": raw_r,
        "total_mean": float(t_mean),
        "total_sd": float(np.sqrt((t0**2).sum() / (n - 1.0))),
    }


def _drop_stats(c: np.ndarray, r: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`_alpha_stats` of every ``(k-1)``-item scale left when one item is dropped (k > 2).

    Sums, traces and ``Q`` of each submatrix follow from the full matrices in
    closed form (``sum C_{-i} = 1'C1 - 2 (C1)_i + C_ii``; ``tr(C_{-i}^2)``
    and ``1'C_{-i}^2 1`` from the row sums); the SMCs come from the ``k``
    submatrices' pseudo-inverses in one batched call, the variance and median
    of the remaining correlations from the lower triangle without row/column
    ``i``.
    """
    k = c.shape[0]
    kk = k - 1.0
    d = np.diag(c)
    c1 = c.sum(axis=1)
    sum_c = c1.sum() - 2.0 * c1 + d
    tr_c = np.trace(c) - d
    raw = (1.0 - tr_c / sum_c) * (kk / (kk - 1.0))
    r1 = r.sum(axis=1)
    sum_r = r.sum() - 2.0 * r1 + 1.0
    std = (1.0 - kk / sum_r) * (kk / (kk - 1.0))
    keep = ~np.eye(k, dtype=bool)
    sub_idx = np.nonzero(keep)[1].reshape(k, k - 1)  # row i: the items other than i
    eig = np.linalg.eigvalsh(r)
    if eig[0] > 1e-8 * eig[-1]:
        # well-conditioned: the inverse of R without item i is P_{-i,-i} - P_{-i,i} P_{i,-i} / P_ii (P = R^-1)
        p_inv = np.linalg.inv(r)
        inv_diag = np.diag(p_inv)[None, :] - p_inv**2 / np.diag(p_inv)[:, None]
        inv_diag = inv_diag[keep].reshape(k, k - 1)
    else:  # (nearly) singular: psych's pseudo-inverse of each submatrix
        subs = r[sub_idx[:, :, None], sub_idx[:, None, :]]
        inv = np.linalg.pinv(subs, rcond=np.sqrt(np.finfo(float).eps), hermitian=True)
        inv_diag = np.diagonal(inv, axis1=1, axis2=2)
    smc_sub = np.clip(1.0 - 1.0 / inv_diag, 0.0, 1.0)
    g6 = 1.0 - (kk - smc_sub.sum(axis=1)) / sum_r
    av_r = (sum_r - kk) / (kk * (kk - 1.0))
    sn = kk * av_r / (1.0 - av_r)
    # Q (Duhachek & Iacobucci) of each submatrix
    tr_cc = (c**2).sum() - 2.0 * (c**2).sum(axis=1) + d**2
    dm = c1[None, :] - c  # dm[i, j] = (C_{-i} 1)_j for j != i
    sum_cc = (dm**2).sum(axis=1) - np.diag(dm) ** 2
    q = (2.0 * kk**2 / ((kk - 1.0) ** 2 * sum_c**3)) * (sum_c * (tr_cc + tr_c**2) - 2.0 * tr_c * sum_cc)
    li, lj = np.tril_indices(k, -1)
    lower = r[li, lj]
    rest = np.stack([lower[(li != i) & (lj != i)] for i in range(k)]) if k > 2 else np.empty((k, 0))
    var_r = np.var(rest, axis=1, ddof=1) if rest.shape[1] > 1 else np.full(k, np.nan)
    med_r = np.median(rest, axis=1)
    return {"raw": raw, "std": std, "g6": g6, "av_r": av_r, "sn": sn, "q": q, "var_r": var_r, "med_r": med_r}


def _item_table(
    names: list[str], mom: dict, c: np.ndarray, r: np.ndarray, n: int, smc_r: np.ndarray | None = None
) -> pd.DataFrame:
    """psych's ``item.stats`` and ``alpha.drop`` side by side, one row per item."""
    k = c.shape[0]
    std_r = r.sum(axis=0) / np.sqrt(r.sum())
    rc = r.copy()
    np.fill_diagonal(rc, smc(r) if smc_r is None else smc_r)
    r_cor = rc.sum(axis=0) / np.sqrt(rc.sum())
    d = np.diag(c)
    c1 = c.sum(axis=1)
    # item against the sum of the other items
    r_drop = (c1 - d) / np.sqrt(d * (c1.sum() - 2.0 * c1 + d))
    if k > 2:
        drop = _drop_stats(c, r)
    else:
        # Dropping one of two items leaves a single item: alpha is undefined (psych
        # reports C12/C22 here, which is not an alpha).  The correlation-based
        # entries follow psych.
        drop = {key: np.full(k, np.nan) for key in ("raw", "std", "g6", "av_r", "sn", "q", "var_r", "med_r")}
        r12 = r[0, 1]
        for i in range(2):
            drop["std"][i] = r12
            drop["g6"][i] = r12**2
            drop["av_r"][i] = r12
            drop["sn"][i] = r12 / (1 - r12)
            drop["med_r"][i] = r12
    table = pd.DataFrame(
        {
            "n": mom["n"],
            "mean": mom["mean"],
            "sd": mom["sd"],
            "raw_r": mom["raw_r"],
            "std_r": std_r,
            "r_cor": r_cor,
            "r_drop": r_drop,
            "alpha_if_deleted": drop["raw"],
            "std_alpha_if_deleted": drop["std"],
            "g6_if_deleted": drop["g6"],
            "average_r_if_deleted": drop["av_r"],
            "signal_noise_if_deleted": drop["sn"],
            "alpha_se_if_deleted": np.sqrt(drop["q"] / n),
            "var_r_if_deleted": drop["var_r"],
            "median_r_if_deleted": drop["med_r"],
        },
        index=pd.Index(names, name="item"),
    )
    return table


def _two_valued(x: np.ndarray) -> bool:
    """Every column takes at most two distinct non-missing values (``scoring.dichotomous``)."""
    head = np.sort(x[:256], axis=0)  # NaN sorts last
    with np.errstate(invalid="ignore"):
        distinct = 1 + ((np.diff(head, axis=0) != 0) & ~np.isnan(head[1:])).sum(axis=0)
    if (distinct > 2).any():  # a third value among the first rows: not right/wrong items
        return False
    lo, hi, _ = column_range(x)
    return bool(((x == lo) | (x == hi) | np.isnan(x)).all())


def feldt_interval(estimate: float, n: int, k: int, ci: float) -> tuple[float, float]:
    """Feldt (1965) interval for alpha, as ``psych::alpha.ci``.

    ``1 - (1 - alpha) F_{1-a/2}(n-1, (n-1)(k-1))`` (lower) and with
    ``F_{a/2}`` (upper).
    """
    a = 1.0 - ci
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - estimate) * special.fdtri(df1, df2, 1.0 - a / 2.0)  # = stats.f.ppf
    high = 1.0 - (1.0 - estimate) * special.fdtri(df1, df2, a / 2.0)
    return float(low), float(high)


# --------------------------------------------------------------------------- bootstrap


def _boot_alpha_complete(x: np.ndarray, n_boot: int, gen: np.random.Generator, scheme: str) -> np.ndarray:
    """Raw alpha of every resample from 1 + k + 3 row features (complete data)."""
    n, k = x.shape
    xc = x - x.mean(axis=0)
    t = xc.sum(axis=1)
    feats = np.column_stack([np.ones(n), xc, (xc**2).sum(axis=1), t, t**2])
    s = _boot.resampled_sums(feats, n_boot, gen, scheme)
    w = s[:, 0]
    sx = s[:, 1 : k + 1]
    sum_var = (s[:, k + 1] - (sx**2).sum(axis=1) / w) / (w - 1.0)
    var_t = (s[:, k + 3] - s[:, k + 2] ** 2 / w) / (w - 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (k / (k - 1.0)) * (1.0 - sum_var / var_t)


@overload
def boot_covariances(
    x: np.ndarray, n_boot: int, gen: np.random.Generator, scheme: str, *, correlations: Literal[False] = False
) -> np.ndarray: ...
@overload
def boot_covariances(
    x: np.ndarray, n_boot: int, gen: np.random.Generator, scheme: str, *, correlations: Literal[True]
) -> tuple[np.ndarray, np.ndarray]: ...
def boot_covariances(
    x: np.ndarray, n_boot: int, gen: np.random.Generator, scheme: str, *, correlations: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete covariance matrices of every resample (``n_boot x k x k``).

    Complete rows contribute ``1, x_i, x_i x_j``; incomplete rows contribute
    the pairwise counts, the sums of ``x_i`` where ``j`` is observed and the
    cross-products (and, for ``correlations=True``, the sums of ``x_i^2``
    where ``j`` is observed), so each resample's matrices equal
    ``cov(resample, use = "pairwise")`` and ``cor(resample, use = "pairwise")``.
    """
    n, k = x.shape
    m = ~np.isnan(x)
    # The formulas below hold for data shifted by any constant per item.  Integer
    # answers shifted by an integer near the mean keep every feature an integer,
    # so the resampled sums can be formed exactly in float32 (twice as fast).
    shift = np.nanmean(x, axis=0)
    xr = np.round(shift)
    xc = x - xr
    integer = bool(np.all((xc == np.round(xc)) | ~m)) and np.nanmax(np.abs(xc)) ** 2 * _boot.INT_BLOCK_ROWS * 1.5 < 2**24
    if not integer:
        xc = x - shift
    complete = m.all(axis=1)
    order = np.concatenate([np.flatnonzero(complete), np.flatnonzero(~complete)])
    xc = xc[order]
    m = m[order]
    n_c = int(complete.sum())
    iu = np.triu_indices(k)
    diag_pos = np.flatnonzero(iu[0] == iu[1])  # position of x_i^2 among the upper-triangle products
    nt = iu[0].size
    parts: list[tuple] = []
    if n_c:
        xa = xc[:n_c]

        fdt = np.float32 if integer else np.float64

        def complete_feats(a: int, b: int) -> np.ndarray:
            blk = xa[a:b].astype(fdt)
            out = np.empty((b - a, 1 + k + nt), dtype=fdt)
            out[:, 0] = 1.0
            out[:, 1 : k + 1] = blk
            pos = k + 1
            for i in range(k):  # x_i x_j for j >= i, in triu_indices order
                np.multiply(blk[:, i:], blk[:, i : i + 1], out=out[:, pos : pos + k - i])
                pos += k - i
            return out

        parts.append((0, n_c, 1 + k + nt, complete_feats))
    if n_c < n:
        xb_all = np.where(m[n_c:], xc[n_c:], 0.0)
        mb_all = m[n_c:].astype(float)

        def incomplete_feats(a: int, b: int) -> np.ndarray:
            xb, mb = xb_all[a:b], mb_all[a:b]
            nb = b - a
            blocks = [
                mb[:, iu[0]] * mb[:, iu[1]],
                (xb[:, :, None] * mb[:, None, :]).reshape(nb, k * k),
                xb[:, iu[0]] * xb[:, iu[1]],
            ]
            if correlations:
                blocks.append((xb[:, :, None] ** 2 * mb[:, None, :]).reshape(nb, k * k))
            return np.column_stack(blocks)

        m_inc = 2 * nt + k * k + (k * k if correlations else 0)
        parts.append((n_c, n - n_c, m_inc, incomplete_feats))
    sums = _boot.resampled_sums(parts, n_boot, gen, scheme, n=n, integer_features=integer)
    cnt = np.zeros((n_boot, nt))
    sx = np.zeros((n_boot, k, k))
    sxx = np.zeros((n_boot, nt))
    sx2 = np.zeros((n_boot, k, k))
    j = 0
    if n_c:
        s = sums[j]
        j += 1
        cnt += s[:, :1]
        sx += s[:, 1 : k + 1][:, :, None]
        sxx += s[:, k + 1 :]
        sx2 += s[:, k + 1 :][:, diag_pos][:, :, None]
    if n_c < n:
        s = sums[j]
        cnt += s[:, :nt]
        sx += s[:, nt : nt + k * k].reshape(n_boot, k, k)
        sxx += s[:, nt + k * k : 2 * nt + k * k]
        if correlations:
            sx2 += s[:, 2 * nt + k * k :].reshape(n_boot, k, k)
    # sx[b, i, j]: sum of x_i over rows where i and j are observed
    num = sxx - sx[:, iu[0], iu[1]] * sx[:, iu[1], iu[0]] / cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        cov_u = num / (cnt - 1.0)
    cov = np.empty((n_boot, k, k))
    cov[:, iu[0], iu[1]] = cov_u
    cov[:, iu[1], iu[0]] = cov_u
    if not correlations:
        return cov
    if n_c == n:
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        cor = cov / sd[:, :, None] / sd[:, None, :]
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            vi = sx2[:, iu[0], iu[1]] - sx[:, iu[0], iu[1]] ** 2 / cnt
            vj = sx2[:, iu[1], iu[0]] - sx[:, iu[1], iu[0]] ** 2 / cnt
            cor_u = num / np.sqrt(vi * vj)
        cor = np.empty((n_boot, k, k))
        cor[:, iu[0], iu[1]] = cor_u
        cor[:, iu[1], iu[0]] = cor_u
    idx = np.arange(k)
    cor[:, idx, idx] = 1.0
    return cov, cor


def _boot_alpha(x: np.ndarray, n_boot: int, gen: np.random.Generator, scheme: str) -> np.ndarray:
    if not np.isnan(x).any():
        return _boot_alpha_complete(x, n_boot, gen, scheme)
    c = boot_covariances(x, n_boot, gen, scheme)
    k = x.shape[1]
    tr = np.trace(c, axis1=1, axis2=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (k / (k - 1.0)) * (1.0 - tr / c.sum(axis=(1, 2)))


# --------------------------------------------------------------------------- keys


def _named_keys(keys: Any) -> list[tuple[str, int]] | None:
    """``["it1", "-it2"]`` as ``[("it1", 1), ("it2", -1)]``; None for numeric or absent keys."""
    if keys is None or isinstance(keys, (str, bytes)):
        if isinstance(keys, (str, bytes)):
            raise InputError(f"alpha: keys must be a list of item names or of +1/-1, got the string {keys!r}")
        return None
    seq = list(keys)
    if not seq or not all(isinstance(v, str) for v in seq):
        return None
    out = [(v[1:], -1) if v.startswith("-") else (v, 1) for v in seq]
    dup = sorted({nm for nm, _ in out if sum(nm == o for o, _ in out) > 1})
    if dup:
        raise InputError(f"alpha: keys name item(s) {dup} more than once")
    return out


def _select_keyed(df: pd.DataFrame, named: list[tuple[str, int]]) -> pd.DataFrame:
    cols = {str(c): c for c in df.columns}
    unknown = [nm for nm, _ in named if nm not in cols]
    if unknown:
        raise InputError(f"alpha: keys name item(s) {unknown} that are not among the items {list(cols)}")
    return df[[cols[nm] for nm, _ in named]]


def _key_signs(keys: Any, named: list[tuple[str, int]] | None, names: list[str]) -> np.ndarray:
    """+1/-1 per item from ``keys`` (all +1 when None)."""
    k = len(names)
    if keys is None:
        return np.ones(k)
    if named is not None:
        return np.array([s for _, s in named], dtype=float)
    try:
        sign = np.asarray(list(keys), dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            f"alpha: keys must be item names (with '-' on reversed items) or one +1/-1 per item, got {keys!r}"
        ) from None
    if sign.shape != (k,) or not np.isin(sign, (1.0, -1.0)).all():
        raise InputError(f"alpha: keys must give +1 or -1 for each of the {k} items {names}, got {list(keys)!r}")
    return sign


def _first_pc_signs(r: np.ndarray) -> np.ndarray:
    """psych's ``check.keys``: the sign of each item's loading on the first principal component.

    ``principal()`` orients the component so that its loadings sum to a
    non-negative number; items loading below zero get ``-1``.
    """
    vals, vecs = np.linalg.eigh(r)
    load = vecs[:, -1] * np.sqrt(max(vals[-1], 0.0))
    if load.sum() < 0:
        load = -load
    return np.where(load < 0, -1.0, 1.0)


# --------------------------------------------------------------------------- public


@dataclasses.dataclass(frozen=True)
class AlphaResult(Result):
    """Cronbach's alpha with the statistics ``psych::alpha`` reports.

    ``estimate`` is raw alpha (from covariances); ``ci_low``/``ci_high`` the
    interval of ``method``.  ``items`` holds the item statistics and the
    alpha-if-item-deleted table (psych's ``item.stats`` and ``alpha.drop``).
    ``kr20`` is True when every item takes two values (right/wrong): alpha is
    then Kuder-Richardson formula 20 and is named so.  ``keys`` lists the
    items as psych's ``keys`` does, reversed ones with a ``-`` prefix (their
    rows in ``items`` carry a ``-`` suffix, as psych names them).
    """

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    ci: float
    method: str
    missing: str
    std_alpha: float
    g6_smc: float
    average_r: float
    signal_noise: float
    ase: float
    mean: float
    sd: float
    median_r: float
    var_r: float
    feldt_low: float
    feldt_high: float
    duhachek_low: float
    duhachek_high: float
    n_dropped: int
    items: pd.DataFrame = dataclasses.field(repr=False)
    n_boot: int | None = None
    boot_weights: str | None = None
    n_boot_failed: int | None = None
    kr20: bool = False
    keys: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """``"KR-20"`` on right/wrong items, else ``"Cronbach's alpha"``."""
        return "KR-20" if self.kr20 else "Cronbach's alpha"

    def summary(self) -> str:
        lines = [
            f"{self.name} = {self.estimate:.4f}  "
            f"({self.ci:.0%} CI {self.ci_low:.4f} to {self.ci_high:.4f}, {self.method})",
            f"  standardised alpha {self.std_alpha:.4f}, G6(smc) {self.g6_smc:.4f}, "
            f"average r {self.average_r:.4f}, median r {self.median_r:.4f}, S/N {self.signal_noise:.4g}",
            f"  n = {self.n} respondents, k = {self.k} items (missing = {self.missing!r}"
            + (f", {self.n_dropped} incomplete rows dropped" if self.n_dropped else "")
            + ")",
            "",
            self.items[["n", "mean", "sd", "r_drop", "r_cor", "alpha_if_deleted"]].to_string(
                float_format=lambda v: f"{v:.4f}"
            ),
        ]
        return "\n".join(lines)


def alpha(
    items: Any,
    *,
    missing: str = "pairwise",
    ci: float = 0.95,
    method: str = "feldt",
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    boot_weights: str = "auto",
    keys: Sequence[str] | Sequence[int] | None = None,
    check_keys: bool = False,
) -> AlphaResult:
    """Cronbach's alpha of a scale, as ``psych::alpha``.

    Raw alpha from the item covariance matrix ``C`` of ``k`` items::

        alpha = k / (k - 1) * (1 - tr(C) / sum(C))

    together with everything ``psych::alpha`` reports: standardised alpha
    (from correlations), Guttman's lambda 6 (G6(smc)), the average and median
    inter-item correlation, the signal-to-noise ratio ``k r / (1 - r)``, the
    asymptotic standard error ``ase`` (Duhachek & Iacobucci 2004, psych's
    ``Q``), the mean and sd of the scale score (mean of the answered items)
    and the item table (see :func:`item_analysis`).

    On right/wrong items scored 0/1 (keyed knowledge items scored by
    :func:`veplab.scoring.scored_items`) alpha is Kuder-Richardson formula 20,
    ``KR-20 = k / (k - 1) * (1 - sum p_j q_j / var(total))`` (``kr20`` is True
    and :attr:`AlphaResult.name` says so), and item means are shares correct.
    Score keyed items first: alpha on raw option codes means nothing.

    Parameters
    ----------
    items:
        Respondents x items, numeric (categorical columns with numeric
        categories, as :func:`veplab.data.load` gives them, are fine).
        Reverse-keyed items must already be reversed (or named in ``keys``)
        and keyed items scored (:func:`veplab.scoring.scored_items` does both
        from a codebook).
    missing:
        ``"pairwise"`` (default, as psych): covariances from pairwise-complete
        observations, ``n`` is the number of respondents who answered at
        least one item (psych also counts respondents who answered none;
        those are left out here, with a warning).  ``"listwise"``: drop every
        incomplete respondent first (as ``psych::alpha(na.omit(x))``).
    ci:
        Confidence level of the interval.
    method:
        ``"feldt"``: Feldt's F-based interval, exactly psych's ``alpha.ci``
        (the "Feldt" line psych prints).  ``"bootstrap"``: percentile
        interval of ``n_boot`` resamples of respondents, computed for all
        resamples at once from row moments (see :mod:`veplab.reliability._boot`).
        The Feldt and the Duhachek (``alpha +/- z ase``) intervals are always
        reported as well.
    n_boot, seed, boot_weights:
        Bootstrap size, random seed, and resampling weights (``"auto"``,
        ``"multinomial"``, ``"poisson"``; see the module documentation).
    keys:
        psych's ``keys``: either one ``+1`` / ``-1`` per item (``-1``
        reverses the item), or item names with a ``-`` prefix on the
        reversed ones, e.g. ``["it1", "-it2", "it3"]`` - the scale is then
        the named items only (psych's ``keys = list(c("it1", "-it2",
        "it3"))``).  A reversed item is read backwards as psych does:
        ``max + min - x`` with the largest and smallest answer over *all*
        items.
    check_keys:
        psych's ``check.keys``: reverse every item whose loading on the first
        principal component of the item correlations is negative (this
        replaces ``keys``), with a warning naming the reversed items.

    Raises
    ------
    InputError
        Non-numeric columns, fewer than two items, constant items, fewer
        than three respondents, or two items never answered together.

    Notes
    -----
    Items that correlate negatively with the rest of the scale trigger a
    warning (psych warns too): they probably need reverse keying
    (``keys=`` or ``check_keys=True``; better, ``reverse: true`` in the
    codebook).

    References
    ----------
    Kuder GF, Richardson MW (1937). The theory of the estimation of test reliability.
    Psychometrika 2, 151-160.
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334.
    Feldt LS (1965). The approximate sampling distribution of Kuder-Richardson reliability
    coefficient twenty. Psychometrika 30, 357-370.
    Duhachek A, Iacobucci D (2004). Alpha's standard error (ASE): an accurate and precise
    confidence interval estimate. Journal of Applied Psychology 89, 792-808.
    Revelle W (2022). psych: Procedures for Psychological, Psychometric, and
    Personality Research. R package version 2.2.9. Agrees with
    ``psych::alpha`` (tests/reference/reliability.R, alpha_keys.R).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import alpha
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3], "c": [1, 3, 3, 4, 5, 2]})
    >>> round(alpha(df).estimate, 4)
    0.9318
    >>> rev = df.assign(b=6 - df["b"])  # item b stored reverse-coded
    >>> round(alpha(rev, keys=["a", "-b", "c"]).estimate, 4)
    0.9318
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):
    ...     res = alpha(rev, check_keys=True)
    >>> res.keys, list(res.items.index)
    (('a', '-b', 'c'), ['a', 'b-', 'c'])
    """
    check_choice(missing, "missing", ("pairwise", "listwise"))
    check_choice(method, "method", ("feldt", "bootstrap"))
    ci = check_ci(ci)
    named_keys = _named_keys(keys)
    if named_keys is not None and isinstance(items, pd.DataFrame):
        items = _select_keyed(items, named_keys)
    data = items_data(items, what="alpha", missing=missing)
    df, x, dropped = data.df, data.x, data.dropped
    if named_keys is not None and not isinstance(items, pd.DataFrame):
        df = _select_keyed(df, named_keys)
        x = df.to_numpy()
    n, k = x.shape
    names = [str(c) for c in df.columns]
    if data.complete:
        means = data.colsum / n if x is data.x else x.mean(axis=0)
        c = _complete_cov(x, means)
    else:
        means = None
        c = _pairwise_cov(x)
    _check_cov(c, names, "alpha")
    sign = _key_signs(keys, named_keys, names)
    if check_keys:
        r0 = cov2cor(c) if data.complete else pairwise_cor(x)
        sign = _first_pc_signs(r0)
        if (sign < 0).any():
            warnings.warn(
                f"alpha: item(s) {[nm for nm, s_ in zip(names, sign) if s_ < 0]} correlate negatively with the "
                f"first principal component and were reversed (check_keys=True; named with a '-' suffix)",
                stacklevel=2,
            )
    if (sign < 0).any():
        lo, hi, _ = column_range(x, not data.complete)
        adjust = np.nanmin(lo) + np.nanmax(hi)  # psych: max + min over all items
        flip = sign < 0
        x = x.copy()
        x[:, flip] = adjust - x[:, flip]
        if means is not None:
            means = np.where(flip, adjust - means, means)
        c = c * sign[:, None] * sign[None, :]
    key_names = tuple(("-" if s_ < 0 else "") + nm for nm, s_ in zip(names, sign))
    names = [nm + ("-" if s_ < 0 else "") for nm, s_ in zip(names, sign)]
    r = cov2cor(c)
    smc_r = smc(r)
    st = _alpha_stats(c, r, smc_r)
    mom = _item_moments(x, c, means)
    table = _item_table(names, mom, c, r, n, smc_r)
    neg = [str(i) for i, v in zip(table.index, table["r_drop"]) if v < 0]
    if neg:
        warnings.warn(
            f"alpha: item(s) {neg} correlate negatively with the rest of the scale; they probably "
            f"need reverse keying (codebook 'reverse: true')",
            stacklevel=2,
        )
    f_low, f_high = feldt_interval(st["raw"], n, k, ci)
    ase = float(np.sqrt(st["q"] / n))
    z = special.ndtri(1 - (1 - ci) / 2)
    boot_fields: dict[str, Any] = {}
    if method == "feldt":
        low, high = f_low, f_high
    else:
        n_boot = _boot.check_n_boot(n_boot)
        scheme = _boot.resolve_scheme(boot_weights, n, n_boot)
        values = _boot_alpha(x, n_boot, rng(seed), scheme)
        low, high, failed = _boot.percentile_interval(values, ci)
        if failed:
            warnings.warn(f"alpha: {failed} of {n_boot} bootstrap resamples gave no alpha and were ignored", stacklevel=2)
        boot_fields = {"n_boot": n_boot, "boot_weights": scheme, "n_boot_failed": failed}
    return AlphaResult(
        estimate=float(st["raw"]),
        ci_low=low,
        ci_high=high,
        n=int(n),
        k=int(k),
        ci=ci,
        method=method,
        missing=missing,
        std_alpha=float(st["std"]),
        g6_smc=float(st["g6"]),
        average_r=float(st["av_r"]),
        signal_noise=float(st["sn"]),
        ase=ase,
        mean=mom["total_mean"],
        sd=mom["total_sd"],
        median_r=float(st["med_r"]),
        var_r=float(st["var_r"]),
        feldt_low=f_low,
        feldt_high=f_high,
        duhachek_low=float(st["raw"] - z * ase),
        duhachek_high=float(st["raw"] + z * ase),
        n_dropped=dropped,
        items=table,
        kr20=_two_valued(x),
        keys=key_names,
        **boot_fields,
    )


@dataclasses.dataclass(frozen=True)
class ItemAnalysis(TableResult):
    """Item statistics of a scale (:func:`item_analysis`).

    ``table`` has one row per item (columns in :func:`item_analysis`); ``alpha``
    is the scale's raw alpha, ``n`` the respondents and ``k`` the items,
    ``missing`` how missing answers were handled.
    """

    alpha: float = math.nan
    n: int = 0
    k: int = 0
    missing: str = "pairwise"

    _summary_columns = ("n", "mean", "sd", "raw_r", "r_cor", "r_drop", "alpha_if_deleted")

    def _title(self) -> str:
        return f"Item analysis of {self.k} items (n = {self.n}, scale alpha {self.alpha:.3f})"

    def plot(self, *, ax: Any = None) -> Any:
        """Corrected item-total correlation and alpha-if-deleted per item (:func:`plot_item_stats`); the Axes."""
        from ._plots import plot_item_stats

        return plot_item_stats(self.table, ax, alpha=self.alpha)


def item_analysis(
    items: Any,
    *,
    missing_reasons: pd.DataFrame | None = None,
    missing: str = "pairwise",
) -> ItemAnalysis:
    """Item statistics of a scale: an :class:`ItemAnalysis` whose ``table`` has one row per item.

    Columns (as ``psych::alpha``'s ``item.stats`` and ``alpha.drop``):
    ``n`` (answers), ``mean``, ``sd``, ``raw_r`` (correlation with the scale
    score, the mean of answered items), ``std_r`` (same from standardised
    items), ``r_cor`` (corrected for item overlap and reliability, using the
    item's SMC as its communality), ``r_drop`` (corrected item-total
    correlation: the item against the sum of the other items),
    ``alpha_if_deleted`` (raw alpha without the item; undefined - NaN - for a
    two-item scale) and the other ``*_if_deleted`` columns of psych's
    ``alpha.drop``.

    ``items`` must be scored already (reverse keying applied, keyed items
    1/0: :func:`veplab.scoring.scored_items`); on 0/1 items ``mean`` is the
    share answering correctly.

    ``missing_reasons`` is an optional table of the same shape (same index
    and columns) holding why an answer is missing (``"dont_know"``,
    ``"refused"``, ... or NA where the item was answered).  Then
    ``share_dont_know``, ``share_refused`` and one ``share_<reason>`` column
    per further reason give, per item, the share of all respondents with that
    reason.

    With ``x_j`` the item, ``T = sum_j x_j`` the total and ``C_(-j)`` the
    covariance matrix of the other ``k - 1`` items::

        r_drop_j = cor(x_j, T - x_j)
        alpha_if_deleted_j = (k - 1) / (k - 2) * (1 - tr(C_(-j)) / sum(C_(-j)))

    References
    ----------
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334.
    Revelle W (2022). psych: Procedures for Psychological, Psychometric, and
    Personality Research. R package version 2.2.9. Agrees with ``psych::alpha``'s
    ``item.stats`` and ``alpha.drop`` (tests/reference/reliability.R).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import item_analysis
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3], "c": [1, 3, 3, 4, 5, 2]})
    >>> item_analysis(df).table[["r_drop", "alpha_if_deleted"]].round(3).loc["a"].tolist()
    [0.942, 0.832]
    """
    res = alpha(items, missing=missing)
    table = res.items.copy()
    if missing_reasons is not None:
        shares = _reason_shares(items, missing_reasons)
        table = table.join(shares)
    return ItemAnalysis(table=table, alpha=res.estimate, n=res.n, k=res.k, missing=res.missing)


def _reason_shares(items: Any, reasons: Any) -> pd.DataFrame:
    if not isinstance(reasons, pd.DataFrame):
        raise InputError(
            f"item_analysis: missing_reasons must be a DataFrame like the items, got {type(reasons).__name__}"
        )
    if not isinstance(items, pd.DataFrame):
        raise InputError("item_analysis: pass items as a DataFrame when giving missing_reasons")
    if list(reasons.columns) != list(items.columns) or not reasons.index.equals(items.index):
        raise InputError(
            "item_analysis: missing_reasons must have the same columns and index as the items "
            f"(items {list(items.columns)}, reasons {list(reasons.columns)})"
        )
    answered = items.notna()
    has_reason = reasons.notna()
    clash = answered & has_reason
    if clash.any().any():
        col = clash.any().idxmax()
        rows = list(items.index[clash[col]])
        raise InputError(
            f"item_analysis: missing_reasons gives a reason where item {col!r} was answered "
            f"({format_rows(rows)}); reasons belong only to missing answers"
        )
    found = sorted({str(v) for v in pd.unique(reasons.to_numpy().ravel()) if pd.notna(v)})
    order = ["dont_know", "refused"] + [r for r in found if r not in ("dont_know", "refused")]
    n = len(items)
    out = {f"share_{reason}": (reasons.astype(object) == reason).sum(axis=0) / n for reason in order}
    return pd.DataFrame(out).astype(float)
