"""Starting values (lavaan's: simple one-factor loadings, FABIN, half the variances)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import linalg

from ._partable import _Row
from ._model import _Model


# ---------------------------------------------------------------------------
# starting values (lavaan-like: simple one-factor loadings, half the variances)
# ---------------------------------------------------------------------------


def _one_factor_raw(s: np.ndarray) -> np.ndarray:
    k = s.shape[0]
    sd = np.sqrt(np.diag(s))
    if k == 1:
        return np.array([math.sqrt(0.5) * sd[0]])
    if k == 2:
        a = math.sqrt(abs(s[0, 1]))
        return np.array([a, a if s[0, 1] >= 0 else -a])
    r = s / np.outer(sd, sd)
    try:
        smc = 1.0 - 1.0 / np.diag(linalg.cho_solve(linalg.cho_factor(r, lower=True), np.eye(k)))
    except (linalg.LinAlgError, ValueError):
        smc = np.full(k, 0.5)
    smc = np.clip(smc, 0.05, 0.95)
    reduced = r.copy()
    np.fill_diagonal(reduced, smc)
    vals, vecs = linalg.eigh(reduced)
    lam = math.sqrt(max(vals[-1], 1e-4)) * vecs[:, -1]
    if lam.sum() < 0:
        lam = -lam
    return lam * sd


def _fabin(s: np.ndarray) -> tuple[np.ndarray, float]:
    """lavaan's one-factor starting values (lav_cfa_1fac_fabin / _3ind), marker first.

    Returns (lambda with lambda[0] = 1, psi); psi is NaN when only loadings are
    computed (four or more indicators), as lavaan's ``lambda.only``.
    """
    k = s.shape[0]
    if k < 4:
        if k == 1:
            return np.array([1.0]), float(s[0, 0])
        if k == 2:
            extra = np.array([np.mean(np.diag(s)), s[1, 0]])
            s = np.block([[s, extra[:, None]], [extra[None, :], np.array([[np.max(np.diag(s))]])]])
        s21, s31, s32 = s[1, 0], s[2, 0], s[2, 1]
        if s21 * s31 * s32 < 0 or s31 == 0 or s21 == 0 or s32 == 0:
            return np.ones(k), math.nan
        psi = s21 * s31 / s32
        lower = 0.1 * s[0, 0]
        psi = min(max(psi, lower), s[0, 0])
        b2, b3 = math.sqrt(s[1, 1] / lower), math.sqrt(s[2, 2] / lower)
        lam = np.array([1.0, min(max(-b2, s32 / s31), b2), min(max(-b3, s32 / s21), b3)])
        return lam[:k], (psi / 2.0 if k == 2 else psi)
    lam = np.ones(k)
    lower = 0.1 * s[0, 0]
    for i in range(1, k):
        idx3 = [j for j in range(k) if j not in (0, i)]
        s23 = s[i, idx3]
        s31 = s[idx3, 0]
        try:
            tmp = linalg.solve(s[np.ix_(idx3, idx3)], s31, assume_a="pos")
            val = float(s23 @ tmp) / float(s31 @ tmp)
        except (linalg.LinAlgError, ValueError, ZeroDivisionError):
            val = float(s23 @ s31) / float(s31 @ s31)
        bound = math.sqrt(s[i, i] / lower)
        lam[i] = min(max(-bound, val), bound) if math.isfinite(val) else 1.0
    return lam, math.nan


def _start_values(model: _Model, lv: Sequence[str], method: str = "lavaan") -> np.ndarray:
    """Starting values: ``"lavaan"`` mimics lavaan's defaults (fabin3 loadings, factor
    variances 0.05, residual variances half the observed); ``"pa"`` takes loadings and
    factor variances from a one-factor principal-axis step per factor."""
    values: dict[int, list[float]] = {}

    def put(r: _Row, v: float) -> None:
        if r.free:
            values.setdefault(r.x, []).append(v)

    for g in range(model.G):
        rows = model.by_group[g]
        S = model.S[g]
        for k, f in enumerate(lv):
            ind = [r for r in rows if r.op == "=~" and r.lhs == f]
            idx = [r.i for r in ind]
            raw = _one_factor_raw(S[np.ix_(idx, idx)])
            var_row = next((r for r in rows if r.mat == "psi" and r.i == k and r.j == k), None)
            ref = next((a for a, r in enumerate(ind) if not r.free and r.value != 0.0), None)
            var_fixed = var_row is not None and not var_row.free and var_row.value > 0
            if method == "lavaan":
                fab, fpsi = _fabin(S[np.ix_(idx, idx)])
                if var_fixed and var_row is not None:  # std.lv-like: loadings scaled by sqrt(psi), as lavaan
                    if not math.isfinite(fpsi):
                        fpsi = _one_factor_raw(S[np.ix_(idx, idx)])[0] ** 2
                    lam = fab * math.copysign(math.sqrt(abs(fpsi) / var_row.value), fpsi)
                    psi = var_row.value
                else:
                    c = ind[ref].value / fab[ref] if ref is not None and fab[ref] != 0 else 1.0
                    lam, psi = fab * c, 0.05
                for a, r in enumerate(ind):
                    put(r, float(lam[a]))
                if var_row is not None:
                    put(var_row, float(psi))
                continue
            if ref is not None and abs(raw[ref]) > 1e-8:
                c = ind[ref].value
                lam = raw * c / raw[ref]
                psi = (raw[ref] / c) ** 2
            elif var_fixed and var_row is not None:
                psi = var_row.value
                lam = raw / math.sqrt(psi)
            else:
                psi, lam = 1.0, raw
            for a, r in enumerate(ind):
                put(r, float(lam[a]))
            if var_row is not None:
                put(var_row, float(psi))
        for r in rows:
            if r.mat == "theta":
                put(r, 0.5 * S[r.i, r.i] if r.i == r.j else 0.0)
            elif r.mat == "psi" and r.i != r.j:
                put(r, 0.0)
            elif r.mat == "nu":
                put(r, float(model.ybar[g][r.i]))
            elif r.mat == "alpha":
                put(r, 0.0)
    for r in model.rows:  # user start() values win
        if r.free and not math.isnan(r.start):
            values[r.x] = [r.start]
    x0 = np.zeros(model.nx)
    for k in range(model.nx):
        x0[k] = float(np.mean(values[k])) if k in values else 0.0
    return x0
