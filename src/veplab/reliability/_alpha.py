"""Cronbach's alpha with psych's full output, and item analysis."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import Result
from .._validate import InputError, check_choice, check_ci, format_rows, rng
from . import _boot
from ..scoring import dichotomous
from ._common import cov2cor, items_frame, smc

__all__ = ["AlphaResult", "alpha", "item_analysis"]


# --------------------------------------------------------------------------- core


def _alpha_stats(c: np.ndarray, r: np.ndarray) -> dict[str, float]:
    """psych's inner ``alpha.1``: raw and standardised alpha, G6(smc), r-bar, S/N, Q."""
    k = c.shape[0]
    sum_c = c.sum()
    tr_c = np.trace(c)
    raw = (1.0 - tr_c / sum_c) * (k / (k - 1))
    sum_r = r.sum()
    std = (1.0 - k / sum_r) * (k / (k - 1))
    g6 = 1.0 - (k - smc(r).sum()) / sum_r
    av_r = (sum_r - k) / (k * (k - 1))
    lower = r[np.tril_indices(k, -1)]
    var_r = float(np.var(lower, ddof=1)) if lower.size > 1 else float("nan")
    med_r = float(np.median(lower))
    sn = k * av_r / (1.0 - av_r)
    cc = c @ c
    q = (2.0 * k**2 / ((k - 1) ** 2 * sum_c**3)) * (sum_c * (np.trace(cc) + tr_c**2) - 2.0 * tr_c * cc.sum())
    return {"raw": raw, "std": std, "g6": g6, "av_r": av_r, "sn": sn, "q": q, "var_r": var_r, "med_r": med_r}


def _pairwise_cov(x: np.ndarray) -> np.ndarray:
    """Covariance with pairwise-complete observations (R's ``cov(use = "pairwise")``).

    Entries for item pairs answered together by fewer than 2 respondents are NaN.
    """
    m = ~np.isnan(x)
    if m.all():
        return np.cov(x, rowvar=False)
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


def _item_table(df: pd.DataFrame, c: np.ndarray, r: np.ndarray, n: int) -> pd.DataFrame:
    """psych's ``item.stats`` and ``alpha.drop`` side by side, one row per item."""
    k = c.shape[0]
    x = df.to_numpy()
    names = list(df.columns)
    total = np.nanmean(x, axis=1)  # psych: rowMeans(x, na.rm = TRUE)
    raw_r = np.empty(k)
    for i in range(k):
        ok = ~np.isnan(x[:, i]) & ~np.isnan(total)
        raw_r[i] = np.corrcoef(total[ok], x[ok, i])[0, 1]
    std_r = r.sum(axis=0) / np.sqrt(r.sum())
    rc = r.copy()
    np.fill_diagonal(rc, smc(r))
    r_cor = rc.sum(axis=0) / np.sqrt(rc.sum())
    r_drop = np.empty(k)
    for i in range(k):
        keep = np.arange(k) != i
        v_drop = c[np.ix_(keep, keep)].sum()
        c_drop = c[:, i].sum() - c[i, i]
        r_drop[i] = c_drop / np.sqrt(c[i, i] * v_drop)
    drop = {key: np.full(k, np.nan) for key in ("raw", "std", "g6", "av_r", "sn", "q", "var_r", "med_r")}
    if k > 2:
        for i in range(k):
            keep = np.arange(k) != i
            st = _alpha_stats(c[np.ix_(keep, keep)], r[np.ix_(keep, keep)])
            for key in drop:
                drop[key][i] = st[key]
    else:
        # Dropping one of two items leaves a single item: alpha is undefined (psych
        # reports C12/C22 here, which is not an alpha).  The correlation-based
        # entries follow psych.
        r12 = r[0, 1]
        for i in range(2):
            drop["std"][i] = r12
            drop["g6"][i] = r12**2
            drop["av_r"][i] = r12
            drop["sn"][i] = r12 / (1 - r12)
            drop["med_r"][i] = r12
    table = pd.DataFrame(
        {
            "n": np.sum(~np.isnan(x), axis=0).astype(int),
            "mean": np.nanmean(x, axis=0),
            "sd": np.nanstd(x, axis=0, ddof=1),
            "raw_r": raw_r,
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


def feldt_interval(estimate: float, n: int, k: int, ci: float) -> tuple[float, float]:
    """Feldt (1965) interval for alpha, as ``psych::alpha.ci``.

    ``1 - (1 - alpha) F_{1-a/2}(n-1, (n-1)(k-1))`` (lower) and with
    ``F_{a/2}`` (upper).
    """
    a = 1.0 - ci
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - estimate) * stats.f.ppf(1.0 - a / 2.0, df1, df2)
    high = 1.0 - (1.0 - estimate) * stats.f.ppf(a / 2.0, df1, df2)
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
    xc = x - np.nanmean(x, axis=0)
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

        def complete_feats(a: int, b: int) -> np.ndarray:
            blk = xa[a:b]
            return np.column_stack([np.ones(b - a), blk, (blk[:, iu[0]] * blk[:, iu[1]])])

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
    sums = _boot.resampled_sums(parts, n_boot, gen, scheme, n=n)
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


# --------------------------------------------------------------------------- public


@dataclasses.dataclass(frozen=True)
class AlphaResult(Result):
    """Cronbach's alpha with the statistics ``psych::alpha`` reports.

    ``estimate`` is raw alpha (from covariances); ``ci_low``/``ci_high`` the
    interval of ``method``.  ``items`` holds the item statistics and the
    alpha-if-item-deleted table (psych's ``item.stats`` and ``alpha.drop``).
    ``kr20`` is True when every item takes two values (right/wrong): alpha is
    then Kuder-Richardson formula 20 and is named so.
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
        Reverse-keyed items must already be reversed and keyed items scored
        (:func:`veplab.scoring.scored_items` does both from a codebook).
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

    Raises
    ------
    InputError
        Non-numeric columns, fewer than two items, constant items, fewer
        than three respondents, or two items never answered together.

    Notes
    -----
    Items that correlate negatively with the rest of the scale trigger a
    warning (psych warns too): they probably need reverse keying.

    References
    ----------
    Kuder & Richardson (1937); Cronbach (1951); Feldt (1965); Duhachek & Iacobucci (2004); Revelle,
    ``psych::alpha`` (R package psych 2.2.9).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import alpha
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3], "c": [1, 3, 3, 4, 5, 2]})
    >>> round(alpha(df).estimate, 4)
    0.9318
    """
    check_choice(missing, "missing", ("pairwise", "listwise"))
    check_choice(method, "method", ("feldt", "bootstrap"))
    ci = check_ci(ci)
    df, dropped = items_frame(items, what="alpha", missing=missing)
    x = df.to_numpy()
    n, k = x.shape
    names = [str(c) for c in df.columns]
    c = _pairwise_cov(x)
    _check_cov(c, names, "alpha")
    r = cov2cor(c)
    st = _alpha_stats(c, r)
    table = _item_table(df, c, r, n)
    neg = [str(i) for i, v in zip(table.index, table["r_drop"]) if v < 0]
    if neg:
        warnings.warn(
            f"alpha: item(s) {neg} correlate negatively with the rest of the scale; they probably "
            f"need reverse keying (codebook 'reverse: true')",
            stacklevel=2,
        )
    total = np.nanmean(x, axis=1)
    f_low, f_high = feldt_interval(st["raw"], n, k, ci)
    ase = float(np.sqrt(st["q"] / n))
    z = stats.norm.ppf(1 - (1 - ci) / 2)
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
        mean=float(np.mean(total)),
        sd=float(np.std(total, ddof=1)),
        median_r=float(st["med_r"]),
        var_r=float(st["var_r"]),
        feldt_low=f_low,
        feldt_high=f_high,
        duhachek_low=float(st["raw"] - z * ase),
        duhachek_high=float(st["raw"] + z * ase),
        n_dropped=dropped,
        items=table,
        kr20=dichotomous(df),
        **boot_fields,
    )


def item_analysis(
    items: Any,
    *,
    missing_reasons: pd.DataFrame | None = None,
    missing: str = "pairwise",
) -> pd.DataFrame:
    """Item statistics of a scale: one row per item.

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

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import item_analysis
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3], "c": [1, 3, 3, 4, 5, 2]})
    >>> item_analysis(df)[["r_drop", "alpha_if_deleted"]].round(3).loc["a"].tolist()
    [0.942, 0.832]
    """
    res = alpha(items, missing=missing)
    table = res.items.copy()
    if missing_reasons is not None:
        shares = _reason_shares(items, missing_reasons)
        table = table.join(shares)
    return table


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
