"""The ordinal fit behind ``cfa(..., ordered=..., estimator="WLSMV")``."""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats
from veplab._validate import InputError, format_rows

from ..lavaan_syntax import ParsedModel
from ._checks import _check_identification
from ._fit_measures import _cfi, _rmsea, _tli
from ._ordinal import (
    _OrdinalModel,
    _WlsParts,
    _optimise_dwls,
    _ordinal_codes,
    _robust_vcov,
    _sample_stats,
    _sandwich_parts,
    _scaled_shifted,
    _ugamma_traces,
)
from ._partable import _Row, _build_partable
from ._results import CFAResult
from ._starts import _start_values


_STATS_CACHE: dict[tuple[Any, ...], Any] = {}


def _cached_sample_stats(codes: np.ndarray, K: Sequence[int]) -> Any:
    """:func:`_sample_stats` remembered by the codes' content: the models of an invariance sequence
    (configural, thresholds, metric, scalar) share the data, so their thresholds, polychorics and
    NACOV are computed once.  A few entries are kept (the most recent first out)."""
    c = np.ascontiguousarray(codes)
    key = (hashlib.sha1(c.tobytes()).hexdigest(), c.shape, c.dtype.str, tuple(int(k) for k in K))
    if key not in _STATS_CACHE:
        if len(_STATS_CACHE) >= 16:
            _STATS_CACHE.pop(next(iter(_STATS_CACHE)))
        st = _sample_stats(c, K)
        for a in vars(st).values():  # shared between fits: read-only
            if isinstance(a, np.ndarray):
                a.flags.writeable = False
        _STATS_CACHE[key] = st
    return _STATS_CACHE[key]


def _resolve_ordered(ordered: bool | str | Sequence[str], ov: list[str], columns: list[str]) -> list[str]:
    if ordered is True:
        return list(ov)
    names = [ordered] if isinstance(ordered, str) else [str(v) for v in ordered or ()]
    unknown = [v for v in names if v not in columns]
    if unknown:
        raise InputError(f"cfa: ordered= names columns that are not in the data: {unknown}")
    not_in_model = [v for v in names if v not in ov]
    if not_in_model:
        raise InputError(f"cfa: ordered= names columns that are not indicators of the model: {not_in_model}")
    continuous = [v for v in ov if v not in names]
    if continuous:
        raise InputError(
            f"cfa: indicators {continuous} are not in ordered=; veplab fits models whose indicators "
            f"are all ordinal (ordered=True) or all continuous (ML). Declare them ordered, or "
            f"drop them from the model"
        )
    return list(ov)


def cfa_ordinal(
    data: pd.DataFrame,
    model: str,
    parsed: ParsedModel,
    *,
    ordered: bool | str | Sequence[str],
    group: str | None,
    equal_t: tuple[str, ...],
    partial_t: tuple[str, ...],
    std_lv: bool,
    parameterization: str,
    id_cat: str,
    ci: float,
) -> CFAResult:
    ov, lv = list(parsed.observed), list(parsed.latent)
    _resolve_ordered(ordered, ov, [str(c) for c in data.columns])
    if parameterization not in ("delta", "theta"):
        raise InputError(f"cfa: parameterization must be 'delta' (lavaan's default) or 'theta'; got {parameterization!r}")
    if id_cat not in ("default", "Wu.Estabrook.2016"):
        raise InputError(f"cfa: id_cat must be 'default' or 'Wu.Estabrook.2016'; got {id_cat!r}")
    for srow in parsed.rows:
        if srow.op == "~~" and srow.lhs == srow.rhs and srow.lhs in ov:
            raise InputError(
                f"cfa: model line {srow.line}: '{srow.lhs} ~~ {srow.rhs}': the residual variance of an ordered "
                f"indicator is set by the parameterization (delta: 1 - the explained variance; "
                f"theta: 1 in the first group); drop this line"
            )
    col_of = {str(c): c for c in data.columns}
    X = data[[col_of[v] for v in ov]].copy()
    X.columns = ov
    for v in ov:
        if not pd.api.types.is_numeric_dtype(X[v]):
            conv = pd.to_numeric(X[v], errors="coerce")
            if (conv.isna() & X[v].notna()).any():
                raise InputError(
                    f"cfa: column {v!r} is declared ordered but holds text; give category codes "
                    f"(numbers such as 1-4)"
                )
            X[v] = conv
    notes: list[str] = []
    keep = X.notna().all(axis=1)
    if group is not None:
        keep &= data[group].notna()
    n_dropped = int((~keep).sum())
    if n_dropped:
        msg = (f"dropped {n_dropped} of {len(X)} rows with missing values (listwise deletion: "
               f"{format_rows(list(X.index[~keep]))})")
        warnings.warn(f"cfa: {msg}", stacklevel=3)
        notes.append(msg)
    X = X[keep]
    groups = data.loc[keep, group] if group is not None else None
    labels, codes, levels = _ordinal_codes(X, groups, ov, group)
    G = len(labels)
    if group is not None and G < 2:
        raise InputError(f"cfa: group column {group!r} has a single group ({labels[0]!r}); drop group=")
    K = [len(lev) for lev in levels]
    nth = {v: K[k] - 1 for k, v in enumerate(ov)}
    sstats = [_cached_sample_stats(c, K) for c in codes]

    rows = _build_partable(parsed, ov, lv, G, std_lv, True, equal_t, partial_t, ordinal=nth, id_cat=id_cat,
                           parameterization=parameterization)
    _check_identification(rows, ov, lv, G)
    p = len(ov)
    mdl = _OrdinalModel(rows, p, len(lv), G, sstats, K, parameterization)
    npar = mdl.nx
    pstar = sum(K) - p + p * (p - 1) // 2
    df = G * pstar - npar
    if df < 0:
        raise InputError(
            f"cfa: the model has {npar} free parameters but only {G * pstar} sample statistics "
            f"(thresholds and polychoric correlations; df = {df}): not identified"
        )
    x0 = _start_values(mdl, lv, "lavaan")  # type: ignore[arg-type]
    for g in range(G):
        for r in mdl.by_group[g]:
            if r.free and r.mat == "tau":
                x0[r.x] = sstats[g].th[mdl.th_start[r.i] + r.j]
            elif r.free and r.mat == "delta":
                x0[r.x] = 1.0
            elif r.free and r.mat == "nu":
                x0[r.x] = 0.0
            elif r.free and r.mat == "theta" and r.i == r.j:
                x0[r.x] = 1.0
    x, converged, iterations = _optimise_dwls(mdl, x0)
    fmin, fgroups = mdl.discrepancy(x)
    if not math.isfinite(fmin):
        raise InputError("cfa: the DWLS fit failed (non-finite discrepancy); the model is probably misspecified")
    if not converged:
        msg = (f"the optimiser did not converge after {iterations} iterations; try a simpler model "
               f"or merge sparse categories")
        warnings.warn(f"cfa: {msg}", stacklevel=3)
        notes.append(msg)

    Js, info = _sandwich_parts(mdl, x)
    info_inv = _invert(info, rows, G)
    vcov = _robust_vcov(mdl, Js, info_inv)

    for g in range(G):
        lam, theta, psi, *_ = mdl.matrices(x, g)
        where = "" if labels[g] is None else f" in group {labels[g]!r}"
        neg = [ov[k] for k in range(p) if theta[k, k] < 0]
        if neg:
            msg = (f"negative residual variance of the latent response (Heywood case) for {neg}{where}: "
                   f"a loading implies more than all of the item's variance; the model may be "
                   f"misspecified or the categories too sparse")
            warnings.warn(f"cfa: {msg}", stacklevel=3)
            notes.append(msg)
        if len(lv) and linalg.eigvalsh(psi).min() < 0:
            msg = f"the covariance matrix of the latent variables{where} is not positive definite"
            warnings.warn(f"cfa: {msg}", stacklevel=3)
            notes.append(msg)

    params = _parameter_table(mdl, x, vcov, labels, ov, ci)

    chisq = float(np.dot(mdl.nm1, fgroups))
    chisq = max(chisq, 0.0)
    pvalue = float(stats.chi2.sf(chisq, df)) if df > 0 else math.nan
    tr1, tr2 = _ugamma_traces(mdl.fg, mdl.Wdiag, [s.gamma for s in sstats], Js, info_inv)
    chisq_ss, scale, shift = _scaled_shifted(chisq, df, tr1, tr2)
    pvalue_ss = float(stats.chi2.sf(chisq_ss, df)) if df > 0 else math.nan

    # baseline: thresholds free, correlations zero, in every group
    nth_all = pstar - p * (p - 1) // 2
    base_chisq = float(sum(n * np.sum(st.s[nth_all:] ** 2 * wd[nth_all:])
                           for n, st, wd in zip(mdl.nm1, sstats, mdl.Wdiag)))
    base_df = G * p * (p - 1) // 2
    Jb = []
    for g in range(G):
        J = np.zeros((pstar, G * nth_all))
        J[np.arange(nth_all), g * nth_all + np.arange(nth_all)] = 1.0
        Jb.append(J)
    info_b = sum(mdl.fg[g] * (Jb[g].T @ (Jb[g] * mdl.Wdiag[g][:, None])) for g in range(G))
    btr1, btr2 = _ugamma_traces(mdl.fg, mdl.Wdiag, [s.gamma for s in sstats], Jb, linalg.inv(info_b))
    base_ss, _, _ = _scaled_shifted(base_chisq, base_df, btr1, btr2)
    N = mdl.N

    srmr = 0.0
    iu = np.tril_indices(p)
    sample_cov, implied_cov, sample_mean, implied_mean, sample_th = {}, {}, {}, {}, {}
    for g in range(G):
        key = labels[g] if labels[g] is not None else "all"
        sig = mdl.implied_cor(x, g)
        res = (sstats[g].cor - sig)[iu]
        srmr += mdl.fg[g] * math.sqrt(float(np.sum(res**2)) / res.size)
        implied_cov[key] = pd.DataFrame(sig, index=ov, columns=ov)
        sample_cov[key] = pd.DataFrame(sstats[g].cor, index=ov, columns=ov)
        sample_mean[key] = pd.Series(np.zeros(p), index=ov)
        implied_mean[key] = pd.Series(np.zeros(p), index=ov)
        names = [f"{ov[i]}|t{k + 1}" for i in range(p) for k in range(K[i] - 1)]
        sample_th[key] = pd.Series(sstats[g].th, index=names)

    wls = _WlsParts(chisq=chisq, df=int(df), jacobians=Js, info_inv=info_inv, wdiag=mdl.Wdiag,
                    gammas=[s.gamma for s in sstats], weights=mdl.fg)
    nan = math.nan
    return CFAResult(
        chisq=chisq,
        df=int(df),
        pvalue=pvalue,
        baseline_chisq=base_chisq,
        baseline_df=int(base_df),
        baseline_pvalue=float(stats.chi2.sf(base_chisq, base_df)) if base_df > 0 else nan,
        cfi=_cfi(chisq, df, base_chisq, base_df),
        tli=_tli(chisq, df, base_chisq, base_df),
        rmsea=_rmsea(chisq, df, N - G, G),
        rmsea_ci_low=nan,
        rmsea_ci_high=nan,
        rmsea_pvalue=nan,
        srmr=srmr,
        srmr_nomean=srmr,
        loglik=nan,
        unrestricted_loglik=nan,
        aic=nan,
        bic=nan,
        sabic=nan,
        npar=int(npar),
        n=int(N),
        ngroups=G,
        n_dropped=n_dropped,
        converged=bool(converged),
        iterations=int(iterations),
        estimator="WLSMV",
        std_lv=bool(std_lv),
        meanstructure=True,
        ci=ci,
        rmsea_ci_level=nan,
        parameters=params,
        group_sizes=pd.Series(mdl.nobs, index=[lab if lab is not None else "all" for lab in labels], name="n"),
        implied_cov=implied_cov,
        implied_mean=implied_mean,
        sample_cov=sample_cov,
        sample_mean=sample_mean,
        model=model,
        equal=equal_t,
        partial=partial_t,
        group=group,
        notes=tuple(notes),
        missing="listwise",
        n_patterns=tuple(1 for _ in range(G)),
        ordered=tuple(ov),
        parameterization=parameterization,
        id_cat=id_cat,
        test="scaled.shifted",
        se_type="robust.sem",
        chisq_scaled=chisq_ss,
        df_scaled=float(df),
        pvalue_scaled=pvalue_ss,
        chisq_scaling_factor=scale,
        chisq_shift=shift,
        baseline_chisq_scaled=base_ss,
        baseline_df_scaled=float(base_df),
        cfi_scaled=_cfi(chisq_ss, df, base_ss, base_df),
        tli_scaled=_tli(chisq_ss, df, base_ss, base_df),
        rmsea_scaled=_rmsea(chisq_ss, df, N - G, G),
        sample_thresholds=sample_th,
        _wls=wls,
    )


def _row_name(r: _Row) -> str:
    return f"{r.lhs} ~ 1" if r.op == "~1" else f"{r.lhs} {r.op} {r.rhs}"


def _invert(info: np.ndarray, rows: list[_Row], G: int) -> np.ndarray:
    if info.size == 0:
        return np.zeros((0, 0))
    d = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    vals, vecs = linalg.eigh(info / np.outer(d, d))
    if not np.all(np.isfinite(vals)) or vals[0] < 1e-10 * max(vals[-1], 1.0):
        v = vecs[:, 0]
        names = []
        for k in np.argsort(-np.abs(v)):
            if abs(v[k]) < 0.1:
                break
            r = next(r for r in rows if r.x == k)
            names.append(_row_name(r) + (f" (group {r.group + 1})" if G > 1 else ""))
        raise InputError(
            f"cfa: the ordinal model is not identified (singular information); parameters involved: "
            f"{names}. With id_cat='Wu.Estabrook.2016' and equal thresholds every item needs at "
            f"least three categories; otherwise fix a loading or a variance per factor"
        )
    inv = ((vecs / vals) @ vecs.T) / np.outer(d, d)
    return (inv + inv.T) / 2.0


def _parameter_table(mdl: _OrdinalModel, x: np.ndarray, vcov: np.ndarray, labels: list[Any],
                     ov: list[str], ci: float) -> pd.DataFrame:
    zcrit = float(stats.norm.ppf(0.5 + ci / 2.0))
    recs = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for g in range(mdl.G):
            lam, theta, psi, nu, alpha, tau, delta = mdl.matrices(x, g)
            lv_sd = np.sqrt(np.where(np.diag(psi) > 0, np.diag(psi), np.nan))
            for r in mdl.by_group[g]:
                if r.free:
                    est = float(x[r.x])
                elif r.mat == "theta" and r.i == r.j:
                    est = float(theta[r.i, r.i])
                elif r.mat == "delta":
                    est = float(delta[r.i])
                else:
                    est = float(r.value)
                if r.free:
                    se = float(math.sqrt(vcov[r.x, r.x])) if vcov[r.x, r.x] >= 0 else math.nan
                    z = est / se if se > 0 else math.nan
                    pv = float(2.0 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan
                    lo, hi = est - zcrit * se, est + zcrit * se
                else:
                    se, z, pv, lo, hi = 0.0, math.nan, math.nan, est, est
                if r.mat == "lambda":
                    std = est * lv_sd[r.j] * delta[r.i]
                elif r.mat == "theta" and r.i == r.j:
                    std = est * delta[r.i] ** 2
                elif r.mat == "theta":
                    std = est / math.sqrt(abs(theta[r.i, r.i]) * abs(theta[r.j, r.j]))
                elif r.mat == "psi":
                    std = est / (lv_sd[r.i] * lv_sd[r.j])
                elif r.mat in ("nu", "tau"):
                    std = est * delta[r.i]
                elif r.mat == "alpha":
                    std = est / lv_sd[r.i]
                else:  # scaling factors: lavaan reports 1
                    std = 1.0
                recs.append({
                    "lhs": r.lhs, "op": r.op, "rhs": r.rhs, "group": g + 1, "group_label": labels[g],
                    "label": r.label, "free": bool(r.free), "est": est, "se": se, "z": z,
                    "pvalue": pv, "ci_low": lo, "ci_high": hi, "std_all": float(std),
                })
    return pd.DataFrame.from_records(recs)
