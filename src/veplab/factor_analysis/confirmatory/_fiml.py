"""Full-information maximum likelihood (missing = "ml"): missingness patterns, EM moments, the FIML model."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from scipy import linalg
from veplab import _optim

from ._partable import _Row
from ._model import _Model, _add_second_derivative_terms


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


@dataclasses.dataclass
class _Batch:
    """The patterns of one group stacked in p x p (for whole-array steps over all patterns).

    Every pattern's observed block sits in its place in a p x p array with zeros
    elsewhere: ``mean`` and ``cov`` (zero outside the observed variables), ``obs`` and
    ``oo`` the masks.  The inverse of ``Sigma_oo`` embedded the same way is the inverse
    of ``Sigma`` restricted to the block with the identity on the missing variables
    (block diagonal after a permutation), so all patterns invert in one batched call.
    """

    n: np.ndarray  # (P,) rows per pattern
    k: np.ndarray  # (P,) observed variables per pattern
    obs: np.ndarray  # (P, p) bool
    oo: np.ndarray  # (P, p, p) bool
    mean: np.ndarray  # (P, p)
    cov: np.ndarray  # (P, p, p)

    @classmethod
    def of(cls, pats: Sequence[_Pattern], p: int) -> "_Batch":
        P = len(pats)
        obs = np.zeros((P, p), dtype=bool)
        mean = np.zeros((P, p))
        cov = np.zeros((P, p, p))
        for k, pat in enumerate(pats):
            obs[k, pat.obs] = True
            mean[k, pat.obs] = pat.mean
            cov[k][pat.oo] = pat.cov
        return cls(n=np.array([pat.n for pat in pats], dtype=float), k=obs.sum(axis=1).astype(float), obs=obs,
                   oo=obs[:, :, None] & obs[:, None, :], mean=mean, cov=cov)

    def inverses(self, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(``Sigma_oo^-1`` of every pattern embedded in p x p, ``log|Sigma_oo|``); None when a block
        is not positive definite (or not finite)."""
        if not np.isfinite(sigma).all():
            return None
        M = np.where(self.oo, sigma, 0.0)
        d = np.arange(sigma.shape[0])
        M[:, d, d] += ~self.obs
        try:
            L = np.linalg.cholesky(M)
        except np.linalg.LinAlgError:
            return None
        logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
        inv = np.linalg.inv(M)
        inv = (inv + np.swapaxes(inv, 1, 2)) / 2.0
        return np.where(self.oo, inv, 0.0), logdet


def _fiml_loglik(b: _Batch, sigma: np.ndarray, mu: np.ndarray) -> float:
    """Observed-data normal log-likelihood (Arbuckle 1996): sum over patterns of

    ``-n_P / 2 [p_P log(2 pi) + log|Sigma_PP| + tr(Sigma_PP^-1 (S_P + d d'))]``, ``d = ybar_P - mu_P``,
    all patterns at once (:class:`_Batch`).  Returns -inf when a Sigma_PP is not positive definite.
    """
    got = b.inverses(sigma)
    if got is None:
        return -math.inf
    Sp, logdet = got
    d = (b.mean - mu) * b.obs
    quad = np.einsum("Pij,Pji->P", Sp, b.cov) + np.einsum("Pi,Pij,Pj->P", d, Sp, d)
    return float(-0.5 * np.dot(b.n, b.k * _LOG2PI + logdet + quad))


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
    for pat in pats:
        T1_obs[pat.obs] += pat.n * pat.mean
        T2_obs[pat.oo] += pat.n * (pat.cov + np.outer(pat.mean, pat.mean))
    # the patterns with missing values, stacked in p x p (see _Batch): B = Sigma_mo Sigma_oo^-1 is
    # (Sigma S_P)[m, o] with S_P the embedded inverse, and every term below is zero outside its block
    b = _Batch.of([pat for pat in pats if pat.mis.size], p)
    mis = ~b.obs & (b.n[:, None] > 0)
    mm_mask = mis[:, :, None] & mis[:, None, :]
    m2 = b.cov + b.mean[:, :, None] * b.mean[:, None, :]  # average second moment of the observed
    it = 0
    for it in range(1, max_iter + 1):
        T1, T2 = T1_obs.copy(), T2_obs.copy()
        if len(b.n):
            got = b.inverses(sigma)
            if got is None:
                raise np.linalg.LinAlgError("EM: a pattern's covariance block is not positive definite")
            B = (sigma @ got[0]) * mis[:, :, None]  # rows: missing; columns: observed
            c = (mu - B @ mu) * mis
            bm = B @ b.mean[:, :, None]
            bm = bm[:, :, 0]
            T1 += b.n @ (bm + c)
            cross = B @ m2 + c[:, :, None] * b.mean[:, None, :]
            T2 += np.einsum("P,Pij->ij", b.n, cross + np.swapaxes(cross, 1, 2))
            mm = (B @ m2 @ np.swapaxes(B, 1, 2) + bm[:, :, None] * c[:, None, :] + c[:, :, None] * bm[:, None, :]
                  + c[:, :, None] * c[:, None, :])
            mm += np.where(mm_mask, sigma - B @ sigma, 0.0)
            T2 += np.einsum("P,Pij->ij", b.n, mm)
        mu = T1 / N
        sigma = T2 / N - np.outer(mu, mu)
        sigma = (sigma + sigma.T) / 2.0
        if linalg.eigvalsh(sigma).min() < 1e-6:
            sigma[np.diag_indices(p)] += np.max(np.diag(sigma)) * 1e-8
        delta = float(np.max(np.abs(np.concatenate([mu - mu0, sigma[iu] - sigma0[iu]]))))
        if delta < tol:
            break
        mu0, sigma0 = mu, sigma
    return mu, sigma, _fiml_loglik(_Batch.of(pats, p), sigma, mu), it


def _independence_loglik(pats: Sequence[_Pattern], p: int) -> float:
    """Log-likelihood of the baseline (independence) model under FIML.

    With zero covariances the observed-data likelihood factors by variable, so the
    estimates are each variable's available-case mean and (ML) variance.
    """
    _, var, counts = _available_case_moments(pats, p)
    return float(np.sum(-0.5 * counts * (_LOG2PI + np.log(var) + 1.0)))


def _pair_traces(n: np.ndarray, X: np.ndarray, Y: np.ndarray, dS: np.ndarray) -> np.ndarray:
    """``T[a, b] = sum_P n_P tr(X_P dS_a Y_P dS_b)`` for stacks X, Y (P x p x p) and dS (q x p x p).

    ``tr(X dS_a Y dS_b) = sum_ijkl X[i,j] dS_a[j,k] Y[k,l] dS_b[l,i]``, so with
    ``G[i,j,k,l] = sum_P n_P X_P[i,j] Y_P[k,l]`` (one product over the patterns) the
    whole table is two more products, whatever the number of patterns.
    """
    q, p = dS.shape[0], dS.shape[1]
    P = len(n)
    G = ((n[:, None] * X.reshape(P, p * p)).T @ Y.reshape(P, p * p)).reshape(p, p, p, p)
    G = G.transpose(0, 3, 1, 2).reshape(p * p, p * p)  # rows (i, l), columns (j, k)
    return (dS.reshape(q, p * p) @ G.T) @ np.swapaxes(dS, 1, 2).reshape(q, p * p).T


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
        self.batches = [_Batch.of(pats, p) for pats in patterns]
        self.loglik_h1 = loglik_h1

    def loglik(self, x: np.ndarray) -> list[float]:
        out = []
        for g in range(self.G):
            sigma, mu = self.implied(x, g)
            out.append(_fiml_loglik(self.batches[g], sigma, mu))
        return out

    def discrepancy(self, x: np.ndarray) -> tuple[float, list[float]]:
        lls = self.loglik(x)
        if not all(math.isfinite(v) for v in lls):
            return math.inf, []
        fs = [2.0 * (h1 - ll) / n for h1, ll, n in zip(self.loglik_h1, lls, self.nobs)]
        return float(np.dot(self.w, fs)), fs

    def _pattern_sums(self, g: int, sigma: np.ndarray, mu: np.ndarray) -> tuple[
            _Batch, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per pattern P of group g (embedded in p x p): ``S_P = Sigma_oo^-1``, ``d = ybar_P - mu_o``,
        ``A_P = S_P (C_P + d d') S_P`` and ``u_P = S_P d``; and the sums ``W = sum n_P (S_P - A_P)``,
        ``u = sum n_P u_P``."""
        b = self.batches[g]
        got = b.inverses(sigma)
        if got is None:
            raise np.linalg.LinAlgError("the model-implied covariance of a missing-data pattern is not "
                                        "positive definite")
        Sp = got[0]
        d = (b.mean - mu) * b.obs
        A = Sp @ (b.cov + d[:, :, None] * d[:, None, :]) @ Sp
        u = np.einsum("Pij,Pj->Pi", Sp, d)
        return b, Sp, A, u, np.einsum("P,Pij->ij", b.n, Sp - A), b.n @ u

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
        for g in range(self.G):
            if not self.free_by_group[g]:
                continue
            sigma, mu = self.implied(x, g)
            dS, dm = self._derivatives(x, g)
            q = dS.shape[0]
            b, Sp, A, _, Wt, ut = self._pattern_sums(g, sigma, mu)
            if information:
                E = 0.5 * _pair_traces(b.n, Sp, Sp, dS) + dm @ np.einsum("P,Pij->ij", b.n, Sp) @ dm.T
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
        for g in range(self.G):
            rows = self.free_by_group[g]
            if not rows:
                continue
            lam, theta, psi, nu, alpha = self.matrices(x, g)
            sigma, mu = self.implied(x, g)
            dS, dm = self._derivatives(x, g)
            b, Sp, A, u, Wt, ut = self._pattern_sums(g, sigma, mu)
            # per pattern: -tr(S dSa S dSb) + 2 tr(A dSa S dSb) + 2 (T + T') + 2 dma' S dmb, with
            # T[a, b] = (dSa u)' S dmb, summed over the patterns with weights n_P
            H = -_pair_traces(b.n, Sp, Sp, dS) + 2.0 * _pair_traces(b.n, A, Sp, dS)
            T = np.einsum("aij,ijk,bk->ab", dS, np.einsum("P,Pik,Pj->ijk", b.n, Sp, u), dm)
            H += 2.0 * (T + T.T) + 2.0 * dm @ np.einsum("P,Pij->ij", b.n, Sp) @ dm.T
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
