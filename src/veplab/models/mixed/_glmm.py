"""The binomial GLMM: Laplace / adaptive Gauss-Hermite deviance (lme4's glmer) and its fit."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special


# ---------------------------------------------------------------------------
# binomial GLMM with one random intercept: PIRLS per group, Laplace, AGHQ
# ---------------------------------------------------------------------------


def _expit(eta: np.ndarray) -> np.ndarray:
    """Inverse logit (faster than scipy.special.expit on large arrays)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-eta))


class _BinomialCore:
    """Random-intercept logistic model; rows sorted by group.

    Parameters are ``par = (theta, beta)``; the random intercept is
    ``b_g = theta * u_g`` with ``u_g ~ N(0, 1)``.  ``devc_g(u)`` is
    ``-2 log p(y_g | u) + u^2`` without the binomial coefficients.  Group sums
    use ``np.add.reduceat`` over the sorted rows.
    """

    def __init__(self, X, k, m, codes, G, starts) -> None:
        self.X = X
        self.XT = np.ascontiguousarray(X.T)
        self.k = k  # successes
        self.m = m  # trials
        self.fk = m - k  # failures
        self.bernoulli = bool(np.all(m == 1.0))
        self.codes = codes
        self.G = G
        self.starts = starts
        self.sizes = np.diff(np.append(starts, len(codes)))
        self.n, self.p = X.shape
        self.u = np.zeros(G)
        self.lchoose = float(
            np.sum(special.gammaln(m + 1) - special.gammaln(k + 1) - special.gammaln(m - k + 1))
        )
        self._last: dict[str, Any] = {}

    def _gsum(self, v: np.ndarray) -> np.ndarray:
        return np.add.reduceat(v, self.starts)

    def _gsumX(self, v: np.ndarray) -> np.ndarray:
        return np.add.reduceat(self.XT * v, self.starts, axis=1).T

    def _rep(self, ug: np.ndarray) -> np.ndarray:
        return np.repeat(ug, self.sizes)

    def _eta(self, off: np.ndarray, theta: float, uu: np.ndarray) -> np.ndarray:
        return np.clip(off + theta * self._rep(uu), -700.0, 700.0)

    def _mv(self, mu: np.ndarray) -> np.ndarray:
        """m * mu for the residuals k - m mu."""
        return mu if self.bernoulli else self.m * mu

    def _devc_rows(self, eta: np.ndarray, mu: np.ndarray) -> np.ndarray:
        # 2 [k log(1 + e^-eta) + (m - k) log(1 + e^eta)] = 2 [-m log(mu) + (m - k) eta]
        lm = np.log(mu)
        return 2.0 * ((self.fk * eta - lm) if self.bernoulli else (self.fk * eta - self.m * lm))

    def modes(self, theta: float, beta: np.ndarray) -> dict[str, Any]:
        """Conditional modes of u: safeguarded Newton, vectorised over groups.

        ``g(u) = u - theta * sum_i (k_i - m_i mu_i)`` is increasing in ``u``;
        a Newton step that does not reduce ``|g|`` is halved.  Iterates until
        the step is below 1e-9, then keeps the last Newton update (error of
        order 1e-18), so the Laplace deviance is exact to rounding.
        """
        off = np.einsum("ij,i->j", self.XT, beta)  # X beta (einsum: no BLAS threading)
        u = np.zeros(self.G) if theta == 0.0 else self.u.copy()

        def state(uu: np.ndarray):
            eta = self._eta(off, theta, uu)
            mu = _expit(eta)
            R = self._gsum(self.k - self._mv(mu))
            return eta, mu, R

        eta, mu, R = state(u)
        gu = u - theta * R
        for _ in range(200):
            S = self._gsum(self._mv(mu) * (1.0 - mu))
            step = gu / (1.0 + theta**2 * S)
            u_new = u - step
            eta_n, mu_n, R_n = state(u_new)
            g_new = u_new - theta * R_n
            worse = np.abs(g_new) > np.abs(gu)
            halvings = 0
            while worse.any() and halvings < 40:
                step = np.where(worse, step / 2.0, step)
                u_new = u - step
                eta_n, mu_n, R_n = state(u_new)
                g_new = u_new - theta * R_n
                worse = np.abs(g_new) > np.abs(gu)
                halvings += 1
            u, eta, mu, R, gu = u_new, eta_n, mu_n, R_n, g_new
            if np.max(np.abs(step)) < 1e-9:
                break
        S = self._gsum(self._mv(mu) * (1.0 - mu))
        f = self._gsum(self._devc_rows(eta, mu)) + u**2
        self.u = u
        self._last = dict(u=u, f=f, eta=eta, mu=mu, S=S, R=R, off=off)
        return self._last

    def _mode_derivs(self, theta: float, s: dict[str, Any]):
        """Derivatives of u0 and of D = 1 + theta^2 S with respect to (theta, beta)."""
        u, mu, S, R = s["u"], s["mu"], s["S"], s["R"]
        D = 1.0 + theta**2 * S
        v = self._mv(mu) * (1.0 - mu)
        vp = v * (1.0 - 2.0 * mu)
        Sp = self._gsum(vp)
        VX = self._gsumX(v)
        VpX = self._gsumX(vp)
        du_db = -theta * VX / D[:, None]  # (G, p)
        du_dt = (R - theta * u * S) / D  # (G,)
        dD_db = theta**2 * (VpX + theta * Sp[:, None] * du_db)
        dD_dt = 2.0 * theta * S + theta**2 * Sp * (u + theta * du_dt)
        return D, du_db, du_dt, dD_db, dD_dt

    def laplace(self, par: np.ndarray) -> float:
        theta, beta = float(par[0]), np.asarray(par[1:], dtype=float)
        s = self.modes(theta, beta)
        return float(np.sum(s["f"]) + np.sum(np.log1p(theta**2 * s["S"])))

    def laplace_grad(self, par: np.ndarray) -> tuple[float, np.ndarray]:
        """Laplace deviance and its exact gradient (implicit differentiation of u0)."""
        theta, beta = float(par[0]), np.asarray(par[1:], dtype=float)
        s = self.modes(theta, beta)
        D, du_db, du_dt, dD_db, dD_dt = self._mode_derivs(theta, s)
        f = float(np.sum(s["f"]) + np.sum(np.log(D)))
        r = self.k - self._mv(s["mu"])
        g_beta = -2.0 * np.einsum("ij,j->i", self.XT, r) + np.sum(dD_db / D[:, None], axis=0)
        g_theta = -2.0 * float(s["u"] @ s["R"]) + float(np.sum(dD_dt / D))
        return f, np.concatenate([[g_theta], g_beta])

    def agq_grad(self, par: np.ndarray, z: np.ndarray, lw: np.ndarray) -> tuple[float, np.ndarray]:
        """Adaptive Gauss-Hermite deviance and its exact gradient.

        Per group, ``A_g = -2 log[s_g sum_k w_k e^{z_k^2/2} exp(-devc_g(u0 + z_k s_g)/2)]``
        with ``s_g = (1 + theta^2 S_g)^{-1/2}`` (lme4's glmerAGQ; ``lw`` holds
        ``log w_k + z_k^2/2``).
        """
        theta, beta = float(par[0]), np.asarray(par[1:], dtype=float)
        s = self.modes(theta, beta)
        u0, off = s["u"], s["off"]
        D, du_db, du_dt, dD_db, dD_dt = self._mode_derivs(theta, s)
        sd = 1.0 / np.sqrt(D)
        K = len(z)
        C = np.empty((self.G, K))
        Rk = np.empty((self.G, K))
        uk = np.empty((self.G, K))
        rk = np.empty((self.n, K))
        for j in range(K):
            uu = u0 + z[j] * sd
            eta = self._eta(off, theta, uu)
            mu = _expit(eta)
            r = self.k - self._mv(mu)
            rk[:, j] = r
            Rk[:, j] = self._gsum(r)
            uk[:, j] = uu
            C[:, j] = lw[j] - (self._gsum(self._devc_rows(eta, mu)) + uu**2) / 2.0
        cmax = C.max(axis=1)
        E = np.exp(C - cmax[:, None])
        tot = E.sum(axis=1)
        pi = E / tot[:, None]
        lse = cmax + np.log(tot)
        f = float(np.sum(np.log(D)) - 2.0 * np.sum(lse))
        dev_u = 2.0 * uk - 2.0 * theta * Rk  # d devc / du at the nodes
        a = np.sum(pi * dev_u, axis=1)
        b = np.sum(pi * dev_u * z[None, :], axis=1)
        ds_db = -0.5 * sd[:, None] * dD_db / D[:, None]
        ds_dt = -0.5 * sd * dD_dt / D
        rho = np.sum(np.repeat(pi, self.sizes, axis=0) * rk, axis=1)
        g_beta = (
            np.sum(dD_db / D[:, None], axis=0)
            - 2.0 * np.einsum("ij,j->i", self.XT, rho)
            + np.sum(a[:, None] * du_db + b[:, None] * ds_db, axis=0)
        )
        g_theta = float(
            np.sum(dD_dt / D)
            - 2.0 * np.sum(pi * uk * Rk)
            + np.sum(a * du_dt + b * ds_dt)
        )
        return f, np.concatenate([[g_theta], g_beta])

    def information(self, theta: float) -> np.ndarray:
        """``X'WX - theta^2 sum_g VX_g VX_g' / D_g`` at the last evaluated modes."""
        s = self._last
        mu = s["mu"]
        v = self._mv(mu) * (1.0 - mu)
        VX = self._gsumX(v)
        D = 1.0 + theta**2 * s["S"]
        return (self.XT * v) @ self.X - theta**2 * (VX.T @ (VX / D[:, None]))

    def rx_vcov(self, theta: float, beta: np.ndarray) -> np.ndarray:
        """Fixed-effect covariance from the PIRLS system (lme4's fallback)."""
        self.modes(theta, beta)
        return np.linalg.inv(self.information(theta))
