"""The linear mixed model's profiled (RE)ML deviance (lme4's PLS formulation) and its fit."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize

from ... import _optim
from ._common import SINGULAR_TOL
from ._data import _Data


# ---------------------------------------------------------------------------
# linear mixed model: lme4's profiled deviance, vectorised over groups
# ---------------------------------------------------------------------------


class _LmmCore:
    def __init__(self, d: _Data, reml: bool) -> None:
        X, Z, y, st = d.X, d.Z, d.y, d.starts
        self.n, self.p = X.shape
        self.q = Z.shape[1]
        self.G = len(d.levels)
        self.reml = reml
        self.ZtZ = np.add.reduceat(Z[:, :, None] * Z[:, None, :], st, axis=0)
        self.ZtX = np.add.reduceat(Z[:, :, None] * X[:, None, :], st, axis=0)
        # Work with the OLS residuals e = y - X beta_ols: the PLS solution for e
        # is (beta - beta_ols, u) with the same r^2, and r^2 = e'e - |c_u|^2 -
        # |c_beta|^2 then suffers no cancellation when y has a large mean.
        self.beta_ols = np.linalg.lstsq(X, y, rcond=None)[0]
        y = y - X @ self.beta_ols
        self.Zty = np.add.reduceat(Z * y[:, None], st, axis=0)
        self.XtX = X.T @ X
        self.Xty = X.T @ y
        self.yty = float(y @ y)
        cols, rows = np.triu_indices(self.q)  # column-major lower triangle, as lme4
        self.t_rows, self.t_cols = rows, cols
        self.lower = np.where(rows == cols, 0.0, -np.inf)
        self.theta0 = np.where(rows == cols, 1.0, 0.0)
        self.eye = np.eye(self.q)

    def T(self, theta: np.ndarray) -> np.ndarray:
        T = np.zeros((self.q, self.q))
        T[self.t_rows, self.t_cols] = theta
        return T

    def solve(self, theta: np.ndarray) -> dict[str, Any] | None:
        """Penalised least squares at ``theta`` (JSS 2015, eqs. 16-19, per group)."""
        T = self.T(theta)
        if self.q == 1:
            t = T[0, 0]
            A = t * t * self.ZtZ[:, 0, 0] + 1.0
            L1 = np.sqrt(A)
            cu = (t * self.Zty[:, 0] / L1)[:, None]
            RZX = (t * self.ZtX[:, 0, :] / L1[:, None])[:, None, :]
            L = L1[:, None, None]
            ldL2 = float(np.sum(np.log(A)))
        else:
            A = T.T @ self.ZtZ @ T + self.eye
            try:
                L = np.linalg.cholesky(A)
            except np.linalg.LinAlgError:
                return None
            Linv = np.linalg.inv(L)
            cu = (Linv @ (self.Zty @ T)[:, :, None])[:, :, 0]  # L^-1 T' Z'y
            RZX = Linv @ (T.T @ self.ZtX)
            ldL2 = 2.0 * float(np.sum(np.log(np.diagonal(L, axis1=1, axis2=2))))
        RZXf = RZX.reshape(-1, self.p)
        M = self.XtX - RZXf.T @ RZXf
        try:
            LX = np.linalg.cholesky(M)
        except np.linalg.LinAlgError:
            return None
        rhs = self.Xty - RZXf.T @ cu.reshape(-1)
        cb = np.linalg.solve(LX, rhs)
        r2 = self.yty - float(np.sum(cu**2)) - float(cb @ cb)
        ldRX2 = 2.0 * float(np.sum(np.log(np.diag(LX))))
        return dict(T=T, L=L, cu=cu, RZX=RZX, LX=LX, cb=cb, r2=r2, ldL2=ldL2, ldRX2=ldRX2)

    def criterion(self, s: dict[str, Any], r2: float | None = None) -> float:
        r2 = s["r2"] if r2 is None else r2
        if r2 <= 0:
            return math.inf
        n, p = self.n, self.p
        if self.reml:
            nmp = n - p
            return s["ldL2"] + s["ldRX2"] + nmp * (1.0 + math.log(2.0 * math.pi * r2 / nmp))
        return s["ldL2"] + n * (1.0 + math.log(2.0 * math.pi * r2 / n))

    def deviance(self, theta: np.ndarray) -> float:
        s = self.solve(np.asarray(theta, dtype=float))
        if s is None:
            return math.inf
        return self.criterion(s)


def _fit_lmm(core: _LmmCore) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, bool]:
    fun = core.deviance
    bounds = [(0.0, None) if lo == 0 else (None, None) for lo in core.lower]
    # The profiled deviance is cheap (sufficient statistics), so guard against
    # local optima on the boundary -- which L-BFGS-B can reach from lme4's start
    # theta = I with random slopes -- by several starts plus Nelder-Mead.
    if core.q > 1:
        starts = [core.theta0 * c for c in (1.0, 0.2)]
    else:
        # theta = 0 is a stationary point of the (symmetric) deviance, where a
        # bounded optimiser can stop; start from the best point of a grid
        grid = np.array([0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0])
        vals = [fun(np.array([t])) for t in grid]
        starts = [np.array([grid[int(np.argmin(vals))]])]
    best = _optim.minimize_multistart(
        fun, starts, bounds=bounds, options=dict(ftol=1e-15, gtol=1e-10, maxiter=5000, maxfun=50000)
    )
    if core.q > 1:
        res = optimize.minimize(
            fun,
            core.theta0,
            method="Nelder-Mead",
            bounds=bounds,
            options=dict(xatol=1e-6, fatol=1e-8, maxiter=3000, maxfev=3000),
        )
        if res.fun < best.fun - 1e-10:
            res = optimize.minimize(fun, res.x, method="L-BFGS-B", bounds=bounds,
                                    options=dict(ftol=1e-15, gtol=1e-10, maxiter=5000))
            best = res
    # a diagonal element at the boundary: make sure moving off it does not help
    for j in np.flatnonzero(core.lower == 0):
        if best.x[j] < SINGULAR_TOL:
            best = _optim.escape_boundary(fun, best, int(j), (0.01, 0.1, 0.5), bounds=bounds,
                                          options=dict(ftol=1e-15, gtol=1e-10, maxiter=5000))
    x, f = best.x, float(best.fun)
    g, H = _optim.gradient_hessian(fun, x, fx=f)
    x, f = _optim.newton_polish(fun, lambda z: _optim.gradient(fun, z, 1e-5), x, f, H, core.lower)
    g, H = _optim.gradient_hessian(fun, x, fx=f)
    # lme4's gradient check (in the caller) decides convergence
    return x, f, g, H, _optim.lbfgsb_converged(best)
