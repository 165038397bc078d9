"""Schmid-Leiman and omega from factor solutions, one matrix or a batch (bootstrap).

The factor models themselves -- minres and ML fits, varimax and oblimin,
the one-factor ML model, and their vectorised batch forms -- are veplab's
factor-analysis core :mod:`veplab.factor_analysis._core` (checked against psych,
GPArotation and lavaan).  This module composes them the way ``psych::omega``
does:

* :func:`fa_varimax` - ``psych::fa(r, nf, fm = "minres", rotate = "varimax")``.
* :func:`schmid` - the Schmid-Leiman transformation as ``psych::schmid``
  (varimax, then GPArotation's oblimin, then a general factor of the factor
  correlations); :func:`omega_from_schmid` - psych's ``omegah`` summaries.
* :func:`schmid_batch` - both for a stack of correlation matrices
  (array dimension 0), from the batched fits and rotations.
* :func:`ml_one_factor` / :func:`ml_one_factor_batch` - the core's one-factor
  ML model (the model lavaan fits with ``cfa('f =~ x1 + ...')``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..factor_analysis._core import PSI_LOWER, minres, minres_batch, ml_one_factor, ml_one_factor_batch, reflect
from ..factor_analysis._core import oblimin as _oblimin
from ..factor_analysis._core import varimax as _varimax
from ._common import smc

__all__ = [
    "PSI_LOWER",
    "fa_varimax",
    "schmid",
    "omega_from_schmid",
    "schmid_batch",
    "ml_one_factor",
    "ml_one_factor_batch",
]


# --------------------------------------------------------------------------- fa() as psych


def fa_varimax(r: np.ndarray, nf: int, start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``psych::fa(r, nf, fm = "minres", rotate = "varimax")$loadings`` and the uniquenesses."""
    load, psi = minres(r, nf, start)
    if nf > 1:
        load = np.where(load == 0, 1e-15, load)
        load = _varimax(load)[0]
        load = load * reflect(load)
        order = np.argsort(-(load**2).sum(axis=0), kind="stable")
        load = load[:, order]
    return load, psi


def _one_factor_of_three(phi: np.ndarray) -> np.ndarray | None:
    """Exact one-factor minres solution of a 3 x 3 correlation matrix when it is interior."""
    p12, p13, p23 = phi[0, 1], phi[0, 2], phi[1, 2]
    if min(abs(p12), abs(p13), abs(p23)) < 1e-12:
        return None
    sq = np.array([p12 * p13 / p23, p12 * p23 / p13, p13 * p23 / p12])
    if (sq <= 0).any() or (sq > 1.0 - PSI_LOWER).any():
        return None
    g = np.sqrt(sq)
    g[1] *= np.sign(p12)
    g[2] *= np.sign(p13)
    if g.sum() < 0:
        g = -g
    return g


def schmid(r: np.ndarray, nf: int, start: np.ndarray | None = None) -> dict[str, np.ndarray | bool]:
    """``psych::schmid(r, nf, fm = "minres", rotate = "oblimin")``: the ``sl`` matrix and parts.

    Returns ``g`` (general loadings), ``s`` (group loadings, p x nf), ``h2``,
    ``u2``, ``p2``, ``phi`` (oblique factor correlations), ``psi`` (minres
    uniquenesses, for warm starts) and ``converged`` (oblimin).
    """
    orth, psi = fa_varimax(r, nf, start)
    fload, tm, _, _, converged = _oblimin(orth)
    phi = tm.T @ tm
    if nf > 2:
        gload = _one_factor_of_three(phi) if nf == 3 else None
        if gload is None:
            gl, _ = minres(phi, 1)
            gload = gl[:, 0]
    else:
        c = phi[0, 1]
        gload = np.array([np.sqrt(abs(c)), np.sign(c) * np.sqrt(abs(c))])
    g = fload @ gload
    h2 = (orth**2).sum(axis=1)
    u2 = 1.0 - h2
    uniq2 = np.maximum(fload**2 * (1.0 - gload**2), 0.0)
    s = np.sign(fload) * np.sqrt(uniq2)
    return {"g": g, "s": s, "h2": h2, "u2": u2, "p2": g**2 / h2, "phi": phi, "psi": psi, "gload": gload,
            "converged": converged}


def omega_from_schmid(r: np.ndarray, sl: dict) -> dict[str, Any]:
    """psych's ``omegah`` summaries from a Schmid-Leiman solution of correlation ``r``."""
    g = np.asarray(sl["g"], dtype=float).copy()
    s = np.asarray(sl["s"], dtype=float).copy()
    k = r.shape[0]
    key = np.sign(g)
    key[key == 0] = 1.0
    m = r * key[:, None] * key[None, :]
    g = g * key
    s = s * key[:, None]
    vt = m.sum()
    uniq = float(np.sum(sl["u2"]))
    gsq = g.sum() ** 2
    om_tot = (vt - uniq) / vt
    ev = np.concatenate([[np.sum(g**2)], (s**2).sum(axis=0)])
    return {
        "omega_h": gsq / vt,
        "omega_total": om_tot,
        "omega_lim": gsq / (vt - uniq),
        "alpha": ((vt - np.trace(m)) / vt) * (k / (k - 1)),
        "g6": (vt + smc(m).sum() - np.trace(m)) / vt,
        "ecv": ev[0] / ev.sum(),
        "g_signed": g,
        "s_signed": s,
        "m": m,
        "key": key,
    }


# --------------------------------------------------------------------------- batched (bootstrap)


def schmid_batch(r: np.ndarray, nf: int, psi0: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """:func:`schmid` + :func:`omega_from_schmid` summaries for a batch of correlation matrices.

    minres starts from ``psi0`` (default psych's ``1 - smc``).

    Returns arrays (B,) ``omega_h``, ``omega_total``, ``converged``.
    """
    bsz, p, _ = r.shape
    load, psi, conv = minres_batch(r, nf, psi0)  # rare unfinished fits: refitted by scipy inside
    load = np.where(load == 0, 1e-15, load)
    orth = _varimax(load)[0]
    orth = orth * reflect(orth)[:, None, :]
    order = np.argsort(-(orth**2).sum(axis=1), axis=1, kind="stable")
    orth = np.take_along_axis(orth, order[:, None, :], axis=2)
    fload, tm, _, _, conv_rot = _oblimin(orth)
    phi = np.swapaxes(tm, 1, 2) @ tm
    if nf == 2:
        c = phi[:, 0, 1]
        gload = np.stack([np.sqrt(np.abs(c)), np.sign(c) * np.sqrt(np.abs(c))], axis=1)
    else:
        gload = np.empty((bsz, nf))
        for b in range(bsz):
            gl = _one_factor_of_three(phi[b]) if nf == 3 else None
            if gl is None:
                gl = minres(phi[b], 1)[0][:, 0]
            gload[b] = gl
    g = np.einsum("bij,bj->bi", fload, gload)
    h2 = (orth**2).sum(axis=2)
    u2 = 1.0 - h2
    key = np.sign(g)
    key[key == 0] = 1.0
    m = r * key[:, :, None] * key[:, None, :]
    vt = m.sum(axis=(1, 2))
    gsq = np.abs(g).sum(axis=1) ** 2
    return {
        "omega_h": gsq / vt,
        "omega_total": (vt - u2.sum(axis=1)) / vt,
        "converged": conv & conv_rot,
    }
