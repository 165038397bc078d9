"""Input checks and sample moments by group (complete cases, pairwise or FIML)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg
from veplab._validate import InputError

from ..lavaan_syntax import ParsedModel
from ._common import EQUAL_NAMES, _split_groups
from ._partable import _Row
from ._fiml import _Pattern, _em_moments, _independence_loglik, _missing_patterns


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------


def _check_model_names(parsed: ParsedModel, columns: Sequence[str], group: str | None) -> None:
    lv = set(parsed.latent)
    for r in parsed.rows:
        if r.op == "=~" and r.rhs in lv:
            raise InputError(
                f"cfa: model line {r.line}: latent {r.rhs!r} is an indicator of {r.lhs!r} "
                f"(a second-order factor); cfa() fits first-order measurement models only"
            )
        if r.op == "~~" and ((r.lhs in lv) != (r.rhs in lv)):
            raise InputError(
                f"cfa: model line {r.line}: '{r.lhs} ~~ {r.rhs}' mixes a latent and an observed "
                f"variable; covariances are between two latents or between two indicators"
            )
    indicators = {r.rhs for r in parsed.rows if r.op == "=~"}
    stray = [v for v in parsed.observed if v not in indicators]
    if stray:
        raise InputError(
            f"cfa: {stray} appear in the model but are indicators of no latent variable; "
            f"add them to a '=~' line or drop them from the model"
        )
    cols = {str(c) for c in columns}
    missing = [v for v in parsed.observed if v not in cols]
    if missing:
        shown = ", ".join(map(str, list(columns)[:20])) + (" ..." if len(columns) > 20 else "")
        raise InputError(
            f"cfa: the model names variables that are not columns of the data: {missing}. "
            f"Check the spelling (the data has: {shown})"
        )
    if group is not None and group in parsed.observed:
        raise InputError(f"cfa: the group column {group!r} is also an indicator in the model")


def _check_identification(rows: list[_Row], ov: Sequence[str], lv: Sequence[str], ngroups: int) -> None:
    for g in range(ngroups):
        grows = [r for r in rows if r.group == g]
        for k, f in enumerate(lv):
            ind = [r for r in grows if r.op == "=~" and r.lhs == f]
            var_row = next(r for r in grows if r.mat == "psi" and r.i == k and r.j == k)
            has_scale = any(not r.free and r.value != 0 for r in ind) or not var_row.free
            tied = any(
                r.free and any(o.x == r.x and o.group != g for o in rows) for r in ind
            )
            if not has_scale and not tied:
                raise InputError(
                    f"cfa: latent {f!r} has no scale (not identified): all its loadings and its "
                    f"variance are free. Fix one loading ('{f} =~ 1*{ind[0].rhs} + ...'), fix its "
                    f"variance ('{f} ~~ 1*{f}'), or use std_lv=True"
                )
            if len(ind) == 1:
                item = ind[0].rhs
                resid = next(r for r in grows if r.mat == "theta" and r.i == ind[0].i and r.j == ind[0].i)
                loads_elsewhere = sum(1 for r in grows if r.op == "=~" and r.rhs == item) > 1
                if resid.free and not loads_elsewhere and (ind[0].free or var_row.free):
                    raise InputError(
                        f"cfa: latent {f!r} has a single indicator ({item!r}) with a free residual "
                        f"variance: not identified. Add indicators, or fix the residual variance "
                        f"(e.g. '{item} ~~ 0*{item}', which makes {f!r} equal to {item!r}; lavaan "
                        f"does this silently, veplab asks you to say so)"
                    )


def _group_moments(
    X: pd.DataFrame, groups: pd.Series | None, ov: Sequence[str]
) -> tuple[list[Any], list[np.ndarray], list[np.ndarray], list[int]]:
    p = len(ov)
    labels, parts = _split_groups(X, groups)
    S, ybar, nobs = [], [], []
    for lab, part in zip(labels, parts):
        where = "the data" if lab is None else f"group {lab!r}"
        n = len(part)
        if n < p + 1:
            raise InputError(
                f"cfa: {where} has n = {n} complete cases for {p} observed variables; the sample "
                f"covariance matrix needs n >= {p + 1} (and far more for a stable factor model). "
                + ("Merge small groups or drop this group." if lab is not None else "Collect more data.")
            )
        arr = part.to_numpy(dtype=float)
        mean = arr.mean(axis=0)
        dev = arr - mean
        cov = dev.T @ dev / n  # lavaan likelihood = "normal": divide by N
        const = [ov[k] for k in range(p) if cov[k, k] <= 1e-12 * max(1.0, abs(mean[k]) ** 2)]
        if const:
            raise InputError(
                f"cfa: in {where}, variable(s) {const} are constant (no variance); drop them "
                f"from the model" + (" or drop this group" if lab is not None else "")
            )
        _check_not_singular(cov, ov, f"sample covariance matrix of {where}")
        S.append(cov)
        ybar.append(mean)
        nobs.append(n)
    return labels, S, ybar, nobs


def _check_not_singular(cov: np.ndarray, ov: Sequence[str], what: str, why: str = "") -> None:
    """Raise naming the linearly dependent variables when the correlation matrix of ``cov`` is singular."""
    sd = np.sqrt(np.diag(cov))
    vals, vecs = linalg.eigh(cov / np.outer(sd, sd))
    if vals[0] < 1e-10:
        v = vecs[:, 0]
        involved = [ov[k] for k in np.argsort(-np.abs(v)) if abs(v[k]) > 0.1]
        raise InputError(
            f"cfa: the {what} is singular (not positive definite): variables {involved} are "
            f"linearly dependent (e.g. a duplicated item or a total score){why}. Drop one of them"
        )


def _group_moments_fiml(
    X: pd.DataFrame, groups: pd.Series | None, ov: Sequence[str]
) -> tuple[list[Any], list[np.ndarray], list[np.ndarray], list[int], list[list[_Pattern]], list[float], list[float]]:
    """Per group: EM (H1) covariance and mean, N_g, missing-data patterns, H1 and
    independence log-likelihoods (rows missing every indicator already removed)."""
    p = len(ov)
    labels, parts = _split_groups(X, groups)
    S, ybar, nobs, pats_all, h1, base = [], [], [], [], [], []
    for lab, part in zip(labels, parts):
        where = "the data" if lab is None else f"group {lab!r}"
        arr = part.to_numpy(dtype=float)
        counts = (~np.isnan(arr)).sum(axis=0)
        few = [f"{ov[k]} ({counts[k]})" for k in range(p) if counts[k] < 2]
        if few:
            raise InputError(
                f"cfa: in {where}, variable(s) {few} have fewer than 2 observed values; FIML cannot "
                f"estimate their mean and variance. Drop them from the model"
                + (" or drop this group" if lab is not None else "")
            )
        n = arr.shape[0]
        if n < p + 1:
            raise InputError(
                f"cfa: {where} has n = {n} rows for {p} observed variables; the saturated model "
                f"needs n >= {p + 1} (and far more for a stable factor model). "
                + ("Merge small groups or drop this group." if lab is not None else "Collect more data.")
            )
        pats = _missing_patterns(arr)
        var_ac = np.array([np.nanvar(arr[:, k]) for k in range(p)])
        mean_ac = np.nanmean(arr, axis=0)
        const = [ov[k] for k in range(p) if var_ac[k] <= 1e-12 * max(1.0, abs(mean_ac[k]) ** 2)]
        if const:
            raise InputError(
                f"cfa: in {where}, variable(s) {const} are constant (no variance among the observed "
                f"values); drop them from the model" + (" or drop this group" if lab is not None else "")
            )
        together = (~np.isnan(arr)).astype(float)
        cover = together.T @ together
        never = [(ov[a], ov[b]) for a in range(p) for b in range(a + 1, p) if cover[a, b] == 0]
        if never:
            raise InputError(
                f"cfa: in {where}, these pairs of variables are never observed together, so their "
                f"covariance is not estimable: {never[:10]}{' ...' if len(never) > 10 else ''}. "
                f"Drop one variable of each pair or collect data with both"
            )
        mu, sigma, ll, _ = _em_moments(pats, p)
        _check_not_singular(sigma, ov, f"EM-estimated covariance matrix of {where}",
                            ", or too few rows observe them together")
        S.append(sigma)
        ybar.append(mu)
        nobs.append(n)
        pats_all.append(pats)
        h1.append(ll)
        base.append(_independence_loglik(pats, p))
    return labels, S, ybar, nobs, pats_all, h1, base


def _normalise_missing(missing: str) -> str:
    """"listwise", or "ml" for lavaan's FIML names "ml", "fiml", "direct" (any case)."""
    key = missing.lower() if isinstance(missing, str) else missing
    if key in ("ml", "fiml", "direct"):
        return "ml"
    if key == "listwise":
        return "listwise"
    raise InputError(
        f"cfa: missing must be 'listwise' (drop incomplete rows) or 'ml' (full-information "
        f"maximum likelihood; aliases 'fiml', 'direct'); got {missing!r}"
    )


def _normalise_equal(equal: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(equal, str):
        equal = (equal,)
    out = []
    for e in equal:
        if e not in EQUAL_NAMES:
            raise InputError(
                f"cfa: unknown equal= name {e!r}; use lavaan group.equal names: "
                f"{', '.join(EQUAL_NAMES)}"
            )
        out.append(e)
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------
