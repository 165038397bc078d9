"""Ordinal CFA (lavaan ``ordered=``, ``estimator = "WLSMV"``): sample statistics, the
delta-parameterized model, DWLS fit, robust standard errors and the scaled-shifted test.

Sample statistics (Muthén 1984; lavaan's ``muthen1984``), per group:

1. thresholds ``tau_ik = Phi^-1(proportion of answers <= category k of item i)``;
2. polychoric correlations, pairwise maximum likelihood with the thresholds of step 1
   held fixed (two-step; :func:`veplab.factor_analysis.correlations._maximise_rho`);
3. their asymptotic covariance matrix ``Gamma`` (lavaan's ``NACOV``, scaled so that
   ``Var(s) ~ Gamma / N``) by the sandwich of casewise scores: with ``SC`` the casewise
   scores of the univariate threshold likelihoods and of the pairwise likelihoods in rho,
   ``B = SC'SC`` and ``A`` the block lower-triangular matrix of outer products (``A11``
   the threshold blocks of ``B``, ``A21 = SC_rho' d l_pair / d tau``, ``A22 = diag(SC_rho'
   SC_rho)``), ``Gamma = N A^-1 B A^-T``.

The model (delta parameterization), for group g with latent responses ``y*``::

    Sigma* = Delta (Lambda Psi Lambda' + Theta) Delta,
    Theta_ii = 1 / delta_i^2 - (Lambda Psi Lambda')_ii        (diag Sigma* = 1)
    tau*_ik = (tau_ik - nu_i - (Lambda alpha)_i) delta_i

and ``sigma(theta) = (tau*, off-diagonal of Sigma*)`` is fitted to ``s = (thresholds,
polychorics)`` by diagonally weighted least squares, ``F = sum_g (N_g / N) (s_g -
sigma_g)' W_g (s_g - sigma_g)`` with ``W_g = diag(Gamma_g)^-1``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, special, stats
from veplab import _optim
from veplab._validate import InputError

from ._common import _split_groups

from ..correlations import _maximise_rho, bivariate_normal_cdf
from ._partable import _Row

_MAX_CATEGORIES = 20


# ---------------------------------------------------------------------------
# data checks and sample statistics
# ---------------------------------------------------------------------------


def _ordinal_codes(
    X: pd.DataFrame, groups: pd.Series | None, ov: Sequence[str], group_name: str | None
) -> tuple[list[Any], list[np.ndarray], list[np.ndarray]]:
    """Per group: the category index (0, 1, ...) of every answer; the levels of each item.

    Levels are the distinct values of the item over all groups (as lavaan's ordered
    factor).  A non-integer or many-valued column, a column with one category, or a
    category empty in one group is an :class:`InputError` naming the column (and group).
    """
    levels = []
    for v in ov:
        col = X[v].to_numpy(dtype=float)
        vals = np.unique(col[np.isfinite(col)])
        if np.any(vals != np.round(vals)):
            bad = [f"{x:g}" for x in vals[vals != np.round(vals)][:5]]
            raise InputError(
                f"cfa: column {v!r} is declared ordered but has non-integer values ({', '.join(bad)}); "
                f"ordered items need category codes (e.g. 1-4). Treat it as continuous (drop it "
                f"from ordered=) or recode it"
            )
        if len(vals) > _MAX_CATEGORIES:
            raise InputError(
                f"cfa: column {v!r} is declared ordered but has {len(vals)} distinct values (more "
                f"than {_MAX_CATEGORIES}); it does not look ordinal. Treat it as continuous (drop it "
                f"from ordered=) or check for out-of-range codes"
            )
        if len(vals) < 2:
            raise InputError(f"cfa: ordered column {v!r} has a single category ({vals[0]:g}); drop it")
        levels.append(vals)
    labels, parts = _split_groups(X, groups)
    codes = []
    for lab, part in zip(labels, parts):
        arr = part[list(ov)].to_numpy(dtype=float)
        c = np.empty(arr.shape, dtype=np.intp)
        for k, v in enumerate(ov):
            c[:, k] = np.searchsorted(levels[k], arr[:, k])
            counts = np.bincount(c[:, k], minlength=len(levels[k]))
            empty = [f"{levels[k][a]:g}" for a in range(len(levels[k])) if counts[a] == 0]
            if empty:
                where = "the data" if lab is None else f"group {lab!r} of {group_name!r}"
                raise InputError(
                    f"cfa: ordered column {v!r} has no answers in category {', '.join(empty)} in "
                    f"{where}; thresholds need every category in every group (lavaan stops here "
                    f"too). Merge the empty category with a neighbouring one for all groups, or "
                    f"pool small groups"
                )
        codes.append(c)
    return labels, codes, levels


@dataclasses.dataclass
class _OrdinalStats:
    """Sample statistics of one group: ``s = (thresholds, polychorics)`` and ``Gamma``."""

    n: int
    th: np.ndarray  # all thresholds, item by item
    th_item: np.ndarray  # item index of each threshold
    cor: np.ndarray  # polychoric correlation matrix
    s: np.ndarray
    gamma: np.ndarray  # NACOV: N * asymptotic covariance of s


def _pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's order of the correlations (vech without diagonal): (2,1), (3,1), ..., (3,2), ..."""
    ii, jj = [], []
    for j in range(p - 1):
        for i in range(j + 1, p):
            ii.append(i)
            jj.append(j)
    return np.array(ii, dtype=np.intp), np.array(jj, dtype=np.intp)


def _univariate(codes: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds of one item and the casewise scores of its multinomial-probit likelihood."""
    n = codes.shape[0]
    counts = np.bincount(codes, minlength=K)
    tau = special.ndtri(np.cumsum(counts)[:-1] / n)
    up = np.concatenate([tau, [np.inf]])
    lo = np.concatenate([[-np.inf], tau])
    prob = special.ndtr(up) - special.ndtr(lo)
    dens = stats.norm.pdf(tau)
    sc = np.zeros((n, K - 1))
    rows = np.arange(n)
    m = codes <= K - 2
    sc[rows[m], codes[m]] += dens[codes[m]] / prob[codes[m]]
    m = codes >= 1
    sc[rows[m], codes[m] - 1] -= dens[codes[m] - 1] / prob[codes[m]]
    return tau, sc


def _pair_cells(t1: np.ndarray, t2: np.ndarray, rho: float) -> tuple[np.ndarray, ...]:
    """Cell probabilities P (K1 x K2), d log P / d rho, and d log P / d tau (per threshold of
    item 1: K1 x K2 x (K1-1); of item 2: K1 x K2 x (K2-1))."""
    K1, K2 = len(t1) + 1, len(t2) + 1
    c1 = np.concatenate([[-np.inf], t1, [np.inf]])
    c2 = np.concatenate([[-np.inf], t2, [np.inf]])
    H, Kc = np.meshgrid(c1, c2, indexing="ij")
    F = bivariate_normal_cdf(H, Kc, np.full(H.shape, rho))
    P = F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]
    s = math.sqrt(1.0 - rho * rho)
    fin = np.isfinite(H) & np.isfinite(Kc)
    hf, kf = np.where(fin, H, 0.0), np.where(fin, Kc, 0.0)
    dens = np.where(fin, np.exp(-(hf**2 - 2 * rho * hf * kf + kf**2) / (2 * s * s)) / (2 * np.pi * s), 0.0)
    d_rho = (dens[1:, 1:] - dens[:-1, 1:] - dens[1:, :-1] + dens[:-1, :-1]) / P
    # dPhi2(h, k)/dh = phi(h) Phi((k - rho h)/s)
    with np.errstate(invalid="ignore"):
        g1 = stats.norm.pdf(t1)[:, None] * special.ndtr((c2[None, :] - rho * t1[:, None]) / s)  # (K1-1, K2+1)
        g2 = stats.norm.pdf(t2)[:, None] * special.ndtr((c1[None, :] - rho * t2[:, None]) / s)  # (K2-1, K1+1)
    G1 = g1[:, 1:] - g1[:, :-1]  # (K1-1, K2): d P_(a, b) / d tau1_a for a = the threshold
    G2 = g2[:, 1:] - g2[:, :-1]  # (K2-1, K1)
    d1 = np.zeros((K1, K2, K1 - 1))
    for k in range(K1 - 1):
        d1[k, :, k] += G1[k] / P[k]
        d1[k + 1, :, k] -= G1[k] / P[k + 1]
    d2 = np.zeros((K1, K2, K2 - 1))
    for k in range(K2 - 1):
        d2[:, k, k] += G2[k] / P[:, k]
        d2[:, k + 1, k] -= G2[k] / P[:, k + 1]
    return P, d_rho, d1, d2


def _sample_stats(codes: np.ndarray, K: Sequence[int]) -> _OrdinalStats:
    """Thresholds, polychoric correlations and their NACOV (lavaan's ``muthen1984``)."""
    n, p = codes.shape
    taus, scs = zip(*(_univariate(codes[:, i], K[i]) for i in range(p)))
    th = np.concatenate(taus)
    th_item = np.concatenate([np.full(K[i] - 1, i) for i in range(p)])
    start = np.concatenate([[0], np.cumsum([K[i] - 1 for i in range(p)])])
    ii, jj = _pairs(p)
    npair = len(ii)
    # polychorics: all pairs at once, thresholds fixed
    Km = max(K)
    tab = np.zeros((npair, Km, Km))
    rc = np.full((npair, Km + 1), np.inf)
    cc = np.full((npair, Km + 1), np.inf)
    rc[:, 0] = cc[:, 0] = -np.inf
    for q, (i, j) in enumerate(zip(ii, jj)):
        np.add.at(tab[q], (codes[:, i], codes[:, j]), 1.0)
        rc[q, 1:K[i]] = taus[i]
        cc[q, 1:K[j]] = taus[j]
    rho = _maximise_rho(tab / n, rc, cc) if npair else np.zeros(0)
    cor = np.eye(p)
    cor[ii, jj] = cor[jj, ii] = rho
    # casewise scores and the blocks of A
    nth = len(th)
    sc_th = np.hstack(scs)
    sc_cor = np.zeros((n, npair))
    A21 = np.zeros((npair, nth))
    for q, (i, j) in enumerate(zip(ii, jj)):
        P, d_rho, d1, d2 = _pair_cells(taus[i], taus[j], float(rho[q]))
        a, b = codes[:, i], codes[:, j]
        sc_cor[:, q] = d_rho[a, b]
        A21[q, start[i]:start[i + 1]] = sc_cor[:, q] @ d1[a, b]
        A21[q, start[j]:start[j + 1]] = sc_cor[:, q] @ d2[a, b]
    SC = np.hstack([sc_th, sc_cor])
    B = SC.T @ SC
    A11 = np.zeros((nth, nth))
    for i in range(p):
        sl = slice(start[i], start[i + 1])
        A11[sl, sl] = B[sl, sl]
    A11_inv = np.linalg.inv(A11)
    a22 = np.sum(sc_cor**2, axis=0)
    if np.any(a22 <= 0):
        raise InputError("cfa: a polychoric correlation has no information (degenerate pair table)")
    A22_inv = np.diag(1.0 / a22)
    Binv = np.zeros((nth + npair, nth + npair))
    Binv[:nth, :nth] = A11_inv
    Binv[nth:, nth:] = A22_inv
    Binv[nth:, :nth] = -A22_inv @ A21 @ A11_inv
    gamma = n * (Binv @ B @ Binv.T)
    return _OrdinalStats(n=n, th=th, th_item=th_item, cor=cor, s=np.concatenate([th, rho]),
                         gamma=(gamma + gamma.T) / 2.0)


# ---------------------------------------------------------------------------
# the model (delta parameterization) and its DWLS discrepancy
# ---------------------------------------------------------------------------


class _OrdinalModel:
    """Implied (thresholds, correlations) per group; DWLS discrepancy; complex-step Jacobian."""

    def __init__(self, rows: list[_Row], p: int, m: int, ngroups: int, sstats: list[_OrdinalStats],
                 K: Sequence[int], parameterization: str = "delta") -> None:
        self.rows = rows
        self.theta_par = parameterization == "theta"
        self.p, self.m, self.G = p, m, ngroups
        self.stats = sstats
        self.nobs = [st.n for st in sstats]
        self.N = int(sum(self.nobs))
        # lavaan weights groups and scales the test by N_g - 1 for these estimators
        self.nm1 = np.array(self.nobs, dtype=float) - 1.0
        self.w = self.nm1 / self.nm1.sum()  # objective
        self.fg = np.array(self.nobs, dtype=float) / self.N  # information, sandwich, U
        self.nx = 1 + max((r.x for r in rows), default=-1)
        self.by_group = [[r for r in rows if r.group == g] for g in range(ngroups)]
        self.gx = [sorted({r.x for r in rs if r.free}) for rs in self.by_group]
        self.K = list(K)
        self.th_start = np.concatenate([[0], np.cumsum([k - 1 for k in K])]).astype(int)
        self.ii, self.jj = _pairs(p)
        self.Wdiag = [1.0 / np.diag(st.gamma) for st in sstats]
        # for the shared starting-value code (veplab's lavaan-like starts)
        self.S = [st.cor for st in sstats]
        self.ybar = [np.zeros(p) for _ in sstats]
        self.meanstructure = True

    def _plan(self, g: int) -> dict[str, tuple[np.ndarray, ...]]:
        """Per matrix of group ``g``: target positions, the free parameter index (-1: fixed) and the
        fixed values, so that :meth:`matrices` fills each matrix with one fancy-indexed assignment."""
        plans = self.__dict__.setdefault("_plans", {})
        if g in plans:
            return plans[g]
        out: dict[str, list[tuple[int, int, int, float]]] = {}
        for r in self.by_group[g]:
            if r.mat == "theta" and r.i == r.j and not self.theta_par:
                continue
            if r.mat == "delta" and self.theta_par:
                continue
            i, j = (self.th_start[r.i] + r.j, 0) if r.mat == "tau" else (r.i, r.j)
            out.setdefault(r.mat, []).append((int(i), int(j), int(r.x) if r.free else -1,
                                              0.0 if r.free else float(r.value)))
        plan = {k: tuple(np.array(c) for c in zip(*v)) for k, v in out.items()}
        plans[g] = plan
        return plan

    def matrices(self, x: np.ndarray, g: int) -> tuple[np.ndarray, ...]:
        """The model matrices of group ``g`` at ``x`` (shape ``(nx,)``, or ``(B, nx)`` for a batch: every
        matrix then gains a leading batch axis)."""
        p, m = self.p, self.m
        dt = np.result_type(x.dtype, float)
        b = x.shape[:-1]
        lam, theta, psi = np.zeros(b + (p, m), dt), np.zeros(b + (p, p), dt), np.zeros(b + (m, m), dt)
        nu, alpha, delta = np.zeros(b + (p,), dt), np.zeros(b + (m,), dt), np.ones(b + (p,), dt)
        tau = np.zeros(b + (int(self.th_start[-1]),), dt)
        for mat, (ii, jj, xi, fixed) in self._plan(g).items():
            v = np.where(xi >= 0, x[..., np.maximum(xi, 0)], fixed)
            if mat == "lambda":
                lam[..., ii, jj] = v
            elif mat == "theta":
                theta[..., ii, jj] = v
                theta[..., jj, ii] = v
            elif mat == "psi":
                psi[..., ii, jj] = v
                psi[..., jj, ii] = v
            elif mat == "nu":
                nu[..., ii] = v
            elif mat == "alpha":
                alpha[..., ii] = v
            elif mat == "tau":
                tau[..., ii] = v
            elif mat == "delta":
                delta[..., ii] = v
        lpl = lam @ psi @ np.swapaxes(lam, -1, -2)
        d = np.arange(p)
        if self.theta_par:  # scaling factors computed: diag(Sigma*) = 1
            delta = 1.0 / np.sqrt(lpl[..., d, d] + theta[..., d, d])
        else:  # residual variances computed
            theta[..., d, d] = 1.0 / delta**2 - lpl[..., d, d]
        return lam, theta, psi, nu, alpha, tau, delta

    def _implied_cor(self, lam: np.ndarray, theta: np.ndarray, psi: np.ndarray, delta: np.ndarray) -> np.ndarray:
        return (lam @ psi @ np.swapaxes(lam, -1, -2) + theta) * (delta[..., :, None] * delta[..., None, :])

    def implied(self, x: np.ndarray, g: int) -> np.ndarray:
        """Implied thresholds and polychoric correlations of group ``g`` (batched like :meth:`matrices`)."""
        lam, theta, psi, nu, alpha, tau, delta = self.matrices(x, g)
        sig = self._implied_cor(lam, theta, psi, delta)
        item = self.stats[g].th_item
        la = (lam @ alpha[..., None])[..., 0]
        th = (tau - nu[..., item] - la[..., item]) * delta[..., item]
        return np.concatenate([th, sig[..., self.ii, self.jj]], axis=-1)

    def implied_cor(self, x: np.ndarray, g: int) -> np.ndarray:
        lam, theta, psi, nu, alpha, tau, delta = self.matrices(x, g)
        return self._implied_cor(lam, theta, psi, delta)

    def jacobian(self, x: np.ndarray, g: int) -> np.ndarray:
        """d sigma_g / d x by complex-step differentiation (exact to rounding), all parameters in one batch."""
        h = 1e-30
        q = len(self.stats[g].s)
        J = np.zeros((q, self.nx))
        cols = np.asarray(self.gx[g], dtype=int)
        if cols.size == 0:
            return J
        X = np.tile(x.astype(complex), (cols.size, 1))
        X[np.arange(cols.size), cols] += 1j * h
        J[:, cols] = self.implied(X, g).imag.T / h
        return J

    def discrepancy(self, x: np.ndarray) -> tuple[float, list[float]]:
        fs = []
        for g in range(self.G):
            e = self.stats[g].s - self.implied(x, g)
            fs.append(float(e @ (self.Wdiag[g] * e)))
        if not all(np.isfinite(fs)):
            return math.inf, []
        return float(np.dot(self.w, fs)), fs

    def grad_hess(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of F and its Gauss-Newton Hessian ``2 sum_g w_g J_g' W_g J_g``."""
        grad = np.zeros(self.nx)
        hess = np.zeros((self.nx, self.nx))
        for g in range(self.G):
            J = self.jacobian(x, g)
            e = self.stats[g].s - self.implied(x, g)
            WJ = J * self.Wdiag[g][:, None]
            grad -= 2.0 * self.w[g] * (WJ.T @ e)
            hess += 2.0 * self.w[g] * (J.T @ WJ)
        return grad, (hess + hess.T) / 2.0


def _optimise_dwls(mdl: _OrdinalModel, x0: np.ndarray) -> tuple[np.ndarray, bool, int]:
    if mdl.nx == 0:
        return x0, True, 0
    return _optim.newton(lambda x: mdl.discrepancy(x)[0], mdl.grad_hess, x0, max_iter=300)


# ---------------------------------------------------------------------------
# robust standard errors and the scaled-shifted test
# ---------------------------------------------------------------------------


def _sandwich_parts(mdl: _OrdinalModel, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Jacobians per group and the unit information ``sum_g w_g J_g' W_g J_g``."""
    Js = [mdl.jacobian(x, g) for g in range(mdl.G)]
    info = sum(mdl.fg[g] * (Js[g].T @ (Js[g] * mdl.Wdiag[g][:, None])) for g in range(mdl.G))
    return Js, (info + info.T) / 2.0


def _robust_vcov(mdl: _OrdinalModel, Js: list[np.ndarray], info_inv: np.ndarray) -> np.ndarray:
    """lavaan ``se = "robust.sem"``: ``(1/N) E^-1 (sum_g w_g J'W Gamma W J) E^-1``."""
    meat = np.zeros((mdl.nx, mdl.nx))
    for g in range(mdl.G):
        WJ = Js[g] * mdl.Wdiag[g][:, None]
        meat += mdl.fg[g] * (WJ.T @ mdl.stats[g].gamma @ WJ)
    v = info_inv @ meat @ info_inv / mdl.nm1.sum()
    return (v + v.T) / 2.0


def _ugamma_traces(w: np.ndarray, Wdiag: list[np.ndarray], gammas: list[np.ndarray],
                   Js: list[np.ndarray], middle: np.ndarray) -> tuple[float, float]:
    """``tr(U Gamma)`` and ``tr((U Gamma)^2)`` with ``U = V - V J middle J' V`` (V, Gamma
    block diagonal over groups: ``V_g = w_g W_g``, ``Gamma_g / w_g``)."""
    V = linalg.block_diag(*[w[g] * np.diag(Wdiag[g]) for g in range(len(w))])
    Gm = linalg.block_diag(*[gammas[g] / w[g] for g in range(len(w))])
    J = np.vstack(Js) if Js and Js[0].shape[1] else np.zeros((V.shape[0], 0))
    VJ = V @ J
    U = V - VJ @ middle @ VJ.T
    UG = U @ Gm
    return float(np.trace(UG)), float(np.sum(UG * UG.T))


def _scaled_shifted(T: float, df: int, tr1: float, tr2: float) -> tuple[float, float, float]:
    """Asparouhov & Muthén (2010): ``a T + b`` with ``a = sqrt(df / tr(UG^2))``,
    ``b = df - a tr(UG)``.  Returns (statistic, scaling factor 1/a, shift b)."""
    if df <= 0 or tr2 <= 0:
        return T, math.nan, math.nan
    a = math.sqrt(df / tr2)
    b = df - a * tr1
    return a * T + b, 1.0 / a, b


def _satorra2000(m1: Any, m0: Any) -> tuple[float, int, float]:
    """lavaan's ``lav_test_diff_Satorra2000`` (scaled.shifted), ``A.method = "delta"``:
    the scaled-shifted difference of two nested WLSMV fits (``m1`` less restricted).

    Returns (difference statistic, df difference, p-value)."""
    T1, r1, T0, r0 = m1.chisq, m1.df, m0.chisq, m0.df
    m = r0 - r1
    if m <= 0:
        return T0 - T1, m, math.nan
    J1 = np.vstack(m1.jacobians)
    J0 = np.vstack(m0.jacobians)
    H = np.linalg.pinv(J1) @ J0
    Q, R, _ = linalg.qr(H, pivoting=True)
    rank = int(np.sum(np.abs(np.diag(R)) > 1e-7 * max(abs(R[0, 0]), 1e-300))) if R.size else 0
    A = Q[:, rank:].T
    Pinv = m1.info_inv
    APA = A @ Pinv @ A.T
    PAAPAAP = Pinv @ A.T @ np.linalg.pinv(APA) @ A @ Pinv
    tr1, tr2 = 0.0, 0.0
    w = m1.weights
    # tr(UG) group by group, tr((UG)^2) over all groups (lavaan's new approach)
    for g in range(len(w)):
        Wg = np.diag(m1.wdiag[g])
        UG = Wg @ m1.gammas[g] @ Wg @ m1.jacobians[g] @ PAAPAAP @ m1.jacobians[g].T
        tr1 += w[g] * float(np.trace(UG))
    Gall = linalg.block_diag(*[w[g] * m1.gammas[g] for g in range(len(w))])
    Vall = linalg.block_diag(*[np.diag(wd) for wd in m1.wdiag])
    VJ = Vall @ J1
    UGall = VJ @ PAAPAAP @ VJ.T @ Gall
    tr2 = float(np.sum(UGall * UGall.T))
    a = math.sqrt(m / tr2)
    b = m - a * tr1
    Td = (T0 - T1) * a + b
    return Td, m, float(stats.chi2.sf(Td, m))


@dataclasses.dataclass(frozen=True)
class _WlsParts:
    """What a scaled difference test needs from a WLSMV fit."""

    chisq: float
    df: int
    jacobians: list
    info_inv: np.ndarray
    wdiag: list
    gammas: list
    weights: np.ndarray
