"""The model: implied moments, ML discrepancy, gradient and expected information."""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg

from ._partable import _Row


# ---------------------------------------------------------------------------
# the model: implied moments, discrepancy, gradient, expected information
# ---------------------------------------------------------------------------


def _trace_products(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """T[a, b] = tr(A_a B_b) for stacks of square matrices (one matrix product)."""
    q = A.shape[0]
    return A.reshape(q, -1) @ np.swapaxes(B, 1, 2).reshape(B.shape[0], -1).T


def _add_second_derivative_terms(
    H: np.ndarray, rows: list[_Row], lam: np.ndarray, psi: np.ndarray, W: np.ndarray,
    u: np.ndarray, meanstructure: bool,
) -> None:
    """Add ``tr(W Sigma_ab) - 2 mu_ab' u`` to H (in place): the Hessian terms from the second
    derivatives of Sigma and mu, non-zero only for loading pairs, loading x factor (co)variance
    and loading x factor mean."""
    kind = np.array([r.mat for r in rows])
    ii = np.array([r.i for r in rows])
    jj = np.array([r.j for r in rows])
    lam_idx = np.flatnonzero(kind == "lambda")
    if lam_idx.size:
        li, lj = ii[lam_idx], jj[lam_idx]
        H[np.ix_(lam_idx, lam_idx)] += 2.0 * psi[np.ix_(lj, lj)] * W[np.ix_(li, li)]
        WL = W @ lam
        for b in np.flatnonzero(kind == "psi"):
            k, l = ii[b], jj[b]
            if k == l:
                val = 2.0 * (lj == k) * WL[li, k]
            else:
                val = 2.0 * ((lj == k) * WL[li, l] + (lj == l) * WL[li, k])
            H[lam_idx, b] += val
            H[b, lam_idx] += val
        if meanstructure:
            for b in np.flatnonzero(kind == "alpha"):
                val = -2.0 * (lj == ii[b]) * u[li]
                H[lam_idx, b] += val
                H[b, lam_idx] += val


class _Model:
    def __init__(
        self,
        rows: list[_Row],
        p: int,
        m: int,
        ngroups: int,
        meanstructure: bool,
        S: list[np.ndarray],
        ybar: list[np.ndarray],
        nobs: list[int],
    ) -> None:
        self.rows = rows
        self.p, self.m, self.G = p, m, ngroups
        self.meanstructure = meanstructure
        self.S, self.ybar, self.nobs = S, ybar, nobs
        self.N = int(sum(nobs))
        self.w = np.array(nobs, dtype=float) / self.N
        self.nx = 1 + max((r.x for r in rows), default=-1)
        self.by_group = [[r for r in rows if r.group == g] for g in range(ngroups)]
        self.free_by_group = [[r for r in rs if r.free] for rs in self.by_group]
        self.logdetS = [2.0 * float(np.sum(np.log(np.diag(linalg.cholesky(s, lower=True))))) for s in S]
        # K_g maps x to the free rows of group g
        self.K = []
        for g in range(ngroups):
            K = np.zeros((len(self.free_by_group[g]), self.nx))
            for a, r in enumerate(self.free_by_group[g]):
                K[a, r.x] = 1.0
            self.K.append(K)

    def matrices(self, x: np.ndarray, g: int) -> tuple[np.ndarray, ...]:
        p, m = self.p, self.m
        lam, theta, psi = np.zeros((p, m)), np.zeros((p, p)), np.zeros((m, m))
        nu, alpha = np.zeros(p), np.zeros(m)
        for r in self.by_group[g]:
            v = x[r.x] if r.free else r.value
            if r.mat == "lambda":
                lam[r.i, r.j] = v
            elif r.mat == "theta":
                theta[r.i, r.j] = theta[r.j, r.i] = v
            elif r.mat == "psi":
                psi[r.i, r.j] = psi[r.j, r.i] = v
            elif r.mat == "nu":
                nu[r.i] = v
            else:
                alpha[r.i] = v
        return lam, theta, psi, nu, alpha

    def implied(self, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        lam, theta, psi, nu, alpha = self.matrices(x, g)
        sigma = lam @ psi @ lam.T + theta
        mu = nu + lam @ alpha
        return sigma, mu

    def _derivatives(self, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        """d Sigma / d row and d mu / d row for the free rows of group g."""
        lam, theta, psi, nu, alpha = self.matrices(x, g)
        rows = self.free_by_group[g]
        p = self.p
        dS = np.zeros((len(rows), p, p))
        dm = np.zeros((len(rows), p))
        lampsi = lam @ psi
        for a, r in enumerate(rows):
            if r.mat == "lambda":
                col = lampsi[:, r.j]
                dS[a, r.i, :] += col
                dS[a, :, r.i] += col
                dm[a, r.i] = alpha[r.j]
            elif r.mat == "psi":
                li, lj = lam[:, r.i], lam[:, r.j]
                if r.i == r.j:
                    dS[a] = np.outer(li, li)
                else:
                    dS[a] = np.outer(li, lj) + np.outer(lj, li)
            elif r.mat == "theta":
                if r.i == r.j:
                    dS[a, r.i, r.i] = 1.0
                else:
                    dS[a, r.i, r.j] = dS[a, r.j, r.i] = 1.0
            elif r.mat == "nu":
                dm[a, r.i] = 1.0
            else:
                dm[a] = lam[:, r.i]
        if not self.meanstructure:
            dm[:] = 0.0
        return dS, dm

    def discrepancy(self, x: np.ndarray) -> tuple[float, list[float]]:
        """(sum_g w_g F_g, [F_g]); inf when an implied matrix is not positive definite."""
        fs = []
        for g in range(self.G):
            sigma, mu = self.implied(x, g)
            try:
                c = linalg.cho_factor(sigma, lower=True, check_finite=True)
            except (linalg.LinAlgError, ValueError):
                return math.inf, []
            logdet = 2.0 * float(np.sum(np.log(np.diag(c[0]))))
            sinv_s = linalg.cho_solve(c, self.S[g])
            f = logdet + float(np.trace(sinv_s)) - self.logdetS[g] - self.p
            if self.meanstructure:
                d = self.ybar[g] - mu
                f += float(d @ linalg.cho_solve(c, d))
            fs.append(f)
        if not all(np.isfinite(fs)):
            return math.inf, []
        return float(np.dot(self.w, fs)), fs

    def gradient_information(
        self, x: np.ndarray, *, weighted: bool = True, information: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of sum_g w_g F_g and the expected information sum_g c_g K'E_gK.

        ``E_g`` is the per-observation expected information (the Hessian of
        ``F_g / 2``); ``c_g = w_g`` (weighted) or ``N_g`` (for standard errors).
        """
        grad = np.zeros(self.nx)
        info = np.zeros((self.nx, self.nx))
        for g in range(self.G):
            if not self.free_by_group[g]:
                continue
            sigma, mu = self.implied(x, g)
            sinv = linalg.cho_solve(linalg.cho_factor(sigma, lower=True), np.eye(self.p))
            sinv = (sinv + sinv.T) / 2.0
            dS, dm = self._derivatives(x, g)
            d = self.ybar[g] - mu if self.meanstructure else np.zeros(self.p)
            Wm = sinv - sinv @ (self.S[g] + np.outer(d, d)) @ sinv
            q = dS.shape[0]
            dF = dS.reshape(q, -1) @ Wm.ravel() - 2.0 * dm @ (sinv @ d)
            K = self.K[g]
            grad += self.w[g] * (K.T @ dF)
            if information:
                M = np.matmul(sinv, dS)
                E = 0.5 * _trace_products(M, M) + dm @ sinv @ dm.T
                c = self.w[g] if weighted else float(self.nobs[g])
                info += c * (K.T @ E @ K)
        return grad, (info + info.T) / 2.0

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """Exact Hessian of sum_g w_g F_g (for the trust-region Newton fallback).

        With W = Sigma^-1 - Sigma^-1 (S + d d') Sigma^-1, M_a = Sigma^-1 dSigma_a,
        A = Sigma^-1 (S + d d') Sigma^-1, d = ybar - mu and u = Sigma^-1 d::

            H_ab = tr(W Sigma_ab) - tr(M_a M_b) + 2 tr(M_b A Sigma_a)
                   + 2 mu_b' Sigma^-1 Sigma_a u + 2 mu_a' Sigma^-1 Sigma_b u
                   + 2 mu_a' Sigma^-1 mu_b - 2 mu_ab' u

        (second derivatives Sigma_ab, mu_ab are non-zero only for loading pairs,
        loading x factor (co)variance and loading x factor mean).
        """
        hess = np.zeros((self.nx, self.nx))
        for g in range(self.G):
            rows = self.free_by_group[g]
            if not rows:
                continue
            lam, theta, psi, nu, alpha = self.matrices(x, g)
            sigma, mu = self.implied(x, g)
            sinv = linalg.cho_solve(linalg.cho_factor(sigma, lower=True), np.eye(self.p))
            sinv = (sinv + sinv.T) / 2.0
            dS, dm = self._derivatives(x, g)
            d = self.ybar[g] - mu if self.meanstructure else np.zeros(self.p)
            u = sinv @ d
            A = sinv @ (self.S[g] + np.outer(d, d)) @ sinv
            W = sinv - A
            M = np.matmul(sinv, dS)
            N = np.matmul(A, dS)
            H = -_trace_products(M, M) + 2.0 * _trace_products(N, M)
            Z = dS @ u  # Sigma_a u
            U = dm @ sinv  # Sigma^-1 mu_b
            T = Z @ U.T
            H += 2.0 * (T + T.T) + 2.0 * U @ dm.T
            _add_second_derivative_terms(H, rows, lam, psi, W, u, self.meanstructure)
            K = self.K[g]
            hess += self.w[g] * (K.T @ H @ K)
        return (hess + hess.T) / 2.0
