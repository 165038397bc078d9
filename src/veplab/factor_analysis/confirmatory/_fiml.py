"""Full-information maximum likelihood (missing = "ml"): missingness patterns, EM moments, the FIML model."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from scipy import linalg
from veplab import _optim

from ._partable import _Row
from ._model import _Model, _add_second_derivative_terms, _trace_products


# ---------------------------------------------------------------------------
# full-information maximum likelihood (missing = "ml")
# ---------------------------------------------------------------------------

_LOG2PI = math.log(2.0 * math.pi)


@dataclasses.dataclass
class _Pattern:
    """Rows of one group sharing a missing-data pattern: their sufficient statistics."""

    obs: np.ndarray  # indices of the observed variables
    n: int
    mean: np.ndarray  # mean of the observed variables
    cov: np.ndarray  # their covariance matrix, divided by n (lavaan's lav_matrix_cov)
    mis: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=int))
    oo: tuple = ()  # np.ix_(obs, obs)

    def __post_init__(self) -> None:
        self.oo = np.ix_(self.obs, self.obs)


def _missing_patterns(arr: np.ndarray) -> list[_Pattern]:
    """Group the rows of ``arr`` (no row entirely missing) by their pattern of observed values."""
    mask = ~np.isnan(arr)
    uniq, inverse = np.unique(mask, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    pats = []
    for k in range(uniq.shape[0]):
        obs = np.flatnonzero(uniq[k])
        block = arr[np.ix_(inverse == k, obs)]
        mean = block.mean(axis=0)
        dev = block - mean
        pats.append(_Pattern(obs=obs, n=block.shape[0], mean=mean, cov=dev.T @ dev / block.shape[0],
                             mis=np.flatnonzero(~uniq[k])))
    return pats


def _fiml_loglik(pats: Sequence[_Pattern], sigma: np.ndarray, mu: np.ndarray) -> float:
    """Observed-data normal log-likelihood (Arbuckle 1996): sum over patterns of

    ``-n_P / 2 [p_P log(2 pi) + log|Sigma_PP| + tr(Sigma_PP^-1 (S_P + d d'))]``, ``d = ybar_P - mu_P``.
    Returns -inf when a Sigma_PP is not positive definite.
    """
    total = 0.0
    for pat in pats:
        o = pat.obs
        try:
            c = _pattern_cholesky(sigma[pat.oo])
        except (linalg.LinAlgError, ValueError):
            return -math.inf
        d = pat.mean - mu[o]
        logdet = 2.0 * float(np.sum(np.log(np.diag(c))))
        quad = float(np.trace(_pattern_solve(c, pat.cov))) + float(d @ _pattern_solve(c, d))
        total += -0.5 * pat.n * (o.size * _LOG2PI + logdet + quad)
    return total


# The pattern loops call LAPACK's Cholesky routines directly: the same calls (dpotrf, lower, unclean; dpotrs)
# and so the same numbers as scipy.linalg.cho_factor / cho_solve, without their per-call argument handling,
# which cost several times the factorisation of a small pattern block (hundreds of patterns per group,
# every likelihood, gradient and Hessian of every fit).
_POTRF = linalg.lapack.dpotrf
_POTRS = linalg.lapack.dpotrs


def _pattern_cholesky(block: np.ndarray) -> np.ndarray:
    """``scipy.linalg.cho_factor(block, lower=True)[0]`` of a float64 pattern block (same errors)."""
    if not np.isfinite(block).all():
        raise ValueError("array must not contain infs or NaNs")
    c, info = _POTRF(block, lower=1, clean=0)
    if info > 0:
        raise linalg.LinAlgError(f"{info}-th leading minor of the array is not positive definite")
    if info < 0:
        raise ValueError(f"LAPACK reported an illegal value in {-info}-th argument on entry to \"POTRF\".")
    return c


def _pattern_solve(c: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``scipy.linalg.cho_solve((c, True), b, check_finite=False)``."""
    x, info = _POTRS(c, b, lower=1)
    if info != 0:
        raise ValueError(f"illegal value in {-info}th argument of internal potrs")
    return x


def _pattern_inverse(block: np.ndarray) -> np.ndarray:
    """``cho_solve(cho_factor(block, lower=True), I, check_finite=False)``, symmetrised."""
    sinv = _pattern_solve(_pattern_cholesky(block), np.eye(block.shape[0]))
    return (sinv + sinv.T) / 2.0


def _available_case_moments(pats: Sequence[_Pattern], p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each variable's available-case mean and ML variance, and its number of observed values."""
    sums, counts = np.zeros(p), np.zeros(p)
    for pat in pats:
        sums[pat.obs] += pat.n * pat.mean
        counts[pat.obs] += pat.n
    mean = sums / counts
    ss = np.zeros(p)
    for pat in pats:
        ss[pat.obs] += pat.n * (np.diag(pat.cov) + (pat.mean - mean[pat.obs]) ** 2)
    return mean, ss / counts, counts


def _em_moments(
    pats: Sequence[_Pattern], p: int, max_iter: int = 500, tol: float = 1e-5
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Saturated (H1) means and covariances by EM, as lavaan's
    ``lav_mvnorm_missing_h1_estimate_moments`` (same start, ridge and stopping rule:
    available-case means and variances to start; stop when no mean or covariance
    changes by more than ``tol``; at most ``max_iter`` iterations).

    Returns (mu, sigma, loglik, iterations).
    """
    N = sum(pat.n for pat in pats)
    mu0, var0, _ = _available_case_moments(pats, p)
    var0[~np.isfinite(var0) | (var0 == 0)] = 1.0
    sigma0 = np.diag(var0)
    mu, sigma = mu0, sigma0
    iu = np.triu_indices(p)
    # the observed part of T1, T2 never changes
    T1_obs, T2_obs = np.zeros(p), np.zeros((p, p))
    parts = []
    for pat in pats:
        m2 = pat.cov + np.outer(pat.mean, pat.mean)  # average second moment of the observed
        T1_obs[pat.obs] += pat.n * pat.mean
        T2_obs[pat.oo] += pat.n * m2
        if pat.mis.size:
            parts.append((pat, m2, np.ix_(pat.mis, pat.obs), np.ix_(pat.obs, pat.mis), np.ix_(pat.mis, pat.mis)))
    it = 0
    for it in range(1, max_iter + 1):
        T1, T2 = T1_obs.copy(), T2_obs.copy()
        for pat, m2, mo, om, mm_ix in parts:
            o, m, nP = pat.obs, pat.mis, pat.n
            s_mo = sigma[mo]
            B = np.linalg.solve(sigma[pat.oo], s_mo.T).T  # regression of missing on observed
            c = mu[m] - B @ mu[o]
            bm = B @ pat.mean
            T1[m] += nP * (bm + c)
            cross = B @ m2 + np.outer(c, pat.mean)
            T2[mo] += nP * cross
            T2[om] += nP * cross.T
            mm = B @ m2 @ B.T + np.outer(bm, c) + np.outer(c, bm) + np.outer(c, c)
            T2[mm_ix] += nP * (mm + sigma[mm_ix] - B @ s_mo.T)
        mu = T1 / N
        sigma = T2 / N - np.outer(mu, mu)
        sigma = (sigma + sigma.T) / 2.0
        if linalg.eigvalsh(sigma).min() < 1e-6:
            sigma[np.diag_indices(p)] += np.max(np.diag(sigma)) * 1e-8
        delta = float(np.max(np.abs(np.concatenate([mu - mu0, sigma[iu] - sigma0[iu]]))))
        if delta < tol:
            break
        mu0, sigma0 = mu, sigma
    return mu, sigma, _fiml_loglik(pats, sigma, mu), it


def _independence_loglik(pats: Sequence[_Pattern], p: int) -> float:
    """Log-likelihood of the baseline (independence) model under FIML.

    With zero covariances the observed-data likelihood factors by variable, so the
    estimates are each variable's available-case mean and (ML) variance.
    """
    _, var, counts = _available_case_moments(pats, p)
    return float(np.sum(-0.5 * counts * (_LOG2PI + np.log(var) + 1.0)))


class _FimlModel(_Model):
    """The CFA model fitted by FIML: ``F_g = 2 (logL_H1,g - logL_g) / N_g`` so that, as for
    complete data, ``chisq = sum_g N_g F_g`` and the optimiser minimises ``sum_g w_g F_g``."""

    def __init__(
        self,
        rows: list[_Row],
        p: int,
        m: int,
        ngroups: int,
        S: list[np.ndarray],
        ybar: list[np.ndarray],
        nobs: list[int],
        patterns: list[list[_Pattern]],
        loglik_h1: list[float],
    ) -> None:
        super().__init__(rows, p, m, ngroups, True, S, ybar, nobs)
        self.patterns = patterns
        self.loglik_h1 = loglik_h1

    def loglik(self, x: np.ndarray) -> list[float]:
        out = []
        for g in range(self.G):
            sigma, mu = self.implied(x, g)
            out.append(_fiml_loglik(self.patterns[g], sigma, mu))
        return out

    def discrepancy(self, x: np.ndarray) -> tuple[float, list[float]]:
        lls = self.loglik(x)
        if not all(math.isfinite(v) for v in lls):
            return math.inf, []
        fs = [2.0 * (h1 - ll) / n for h1, ll, n in zip(self.loglik_h1, lls, self.nobs)]
        return float(np.dot(self.w, fs)), fs

    def gradient_information(
        self, x: np.ndarray, *, weighted: bool = True, information: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of sum_g w_g F_g and the expected (observed-pattern) information.

        Per pattern P (observed variables o): ``W_P = Sigma_oo^-1 - Sigma_oo^-1 (S_P + d d')
        Sigma_oo^-1`` and ``u_P = Sigma_oo^-1 d``; ``dF_g/dtheta_a = [tr(W dSigma_a) -
        2 dmu_a' u] / N_g`` with W, u the sums of ``n_P W_P``, ``n_P u_P`` embedded in p x p.
        The information is ``sum_P n_P [tr(Sigma_oo^-1 dSigma_a Sigma_oo^-1 dSigma_b) / 2
        + dmu_a' Sigma_oo^-1 dmu_b] / N_g`` (the Hessian of ``F_g / 2`` in expectation).
        """
        grad = np.zeros(self.nx)
        info = np.zeros((self.nx, self.nx))
        p = self.p
        for g in range(self.G):
            if not self.free_by_group[g]:
                continue
            sigma, mu = self.implied(x, g)
            dS, dm = self._derivatives(x, g)
            q = dS.shape[0]
            Wt, ut = np.zeros((p, p)), np.zeros(p)
            E = np.zeros((q, q))
            for pat in self.patterns[g]:
                o = pat.obs
                sinv = _pattern_inverse(sigma[pat.oo])
                d = pat.mean - mu[o]
                A = sinv @ (pat.cov + np.outer(d, d)) @ sinv
                Wt[pat.oo] += pat.n * (sinv - A)
                ut[o] += pat.n * (sinv @ d)
                if information:
                    dSo = dS[:, o][:, :, o] if o.size < p else dS
                    M = np.matmul(sinv, dSo)
                    dmo = dm[:, o]
                    E += pat.n * (0.5 * _trace_products(M, M) + dmo @ sinv @ dmo.T)
            ng = float(self.nobs[g])
            dF = (dS.reshape(q, -1) @ Wt.ravel() - 2.0 * dm @ ut) / ng
            K = self.K[g]
            grad += self.w[g] * (K.T @ dF)
            if information:
                c = self.w[g] if weighted else ng
                info += c * (K.T @ (E / ng) @ K)
        return grad, (info + info.T) / 2.0

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """Exact Hessian of sum_g w_g F_g (the observed information, up to N / 2).

        The complete-data formula of :meth:`_Model.hessian` applied to each pattern's
        observed block (``Sigma_oo``, ``mu_o``, ``S_P``, ``ybar_P``), summed with weights
        ``n_P / N_g``; the second-derivative terms are linear in W and u, so they use the
        pattern sums embedded in p x p.
        """
        hess = np.zeros((self.nx, self.nx))
        p = self.p
        for g in range(self.G):
            rows = self.free_by_group[g]
            if not rows:
                continue
            lam, theta, psi, nu, alpha = self.matrices(x, g)
            sigma, mu = self.implied(x, g)
            dS, dm = self._derivatives(x, g)
            q = dS.shape[0]
            H = np.zeros((q, q))
            Wt, ut = np.zeros((p, p)), np.zeros(p)
            for pat in self.patterns[g]:
                o = pat.obs
                sinv = _pattern_inverse(sigma[pat.oo])
                d = pat.mean - mu[o]
                u = sinv @ d
                A = sinv @ (pat.cov + np.outer(d, d)) @ sinv
                dSo = dS[:, o][:, :, o] if o.size < p else dS
                dmo = dm[:, o]
                M = np.matmul(sinv, dSo)
                Nm = np.matmul(A, dSo)
                Hp = -_trace_products(M, M) + 2.0 * _trace_products(Nm, M)
                T = (dSo @ u) @ (dmo @ sinv).T
                Hp += 2.0 * (T + T.T) + 2.0 * (dmo @ sinv) @ dmo.T
                H += pat.n * Hp
                Wt[pat.oo] += pat.n * (sinv - A)
                ut[o] += pat.n * u
            ng = float(self.nobs[g])
            H /= ng
            _add_second_derivative_terms(H, rows, lam, psi, Wt / ng, ut / ng, True)
            K = self.K[g]
            hess += self.w[g] * (K.T @ H @ K)
        return (hess + hess.T) / 2.0

    def hessian_numeric(self, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
        """Hessian by differencing the analytic gradient (lavaan's lav_model_hessian:
        four-point central differences with step 1e-6); used to check :meth:`hessian`."""
        return _optim.hessian_from_gradient(
            lambda v: self.gradient_information(v, information=False)[0], x, delta=h, points=4
        )
