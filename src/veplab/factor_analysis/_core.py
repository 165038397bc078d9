"""One factor-analysis core: minres and ML fits, rotations, and their batched forms.

Every factor model veplab fits goes through this module:
:func:`veplab.factor_analysis.exploratory` (``psych::fa``), :func:`veplab.validity.parallel_analysis`
(``psych::fa.parallel``), the rotations of :mod:`veplab.factor_analysis.rotation`
(public wrappers of :func:`varimax`, :func:`oblimin`, :func:`promax` here) and
:func:`veplab.reliability.omega` (one-factor ML omega total; ``psych::omega``'s
Schmid-Leiman solution, built in ``veplab.reliability._factor`` from these
pieces), including the vectorised fits of many correlation matrices at once
that the omega bootstrap and parallel analysis run.  It depends on numpy and
scipy only (no pandas, no other veplab module), so any subpackage may import it.

Model
-----
The common factor model of a ``p x p`` correlation (or covariance) matrix
``S`` with ``k`` factors is ``S ~ Sigma = L L' + Psi`` (``L`` the ``p x k``
loadings, ``Psi`` the diagonal uniquenesses).  Given ``Psi`` the loadings are
principal axes: with ``theta_1 >= ... >= theta_p`` and ``v_j`` the
eigenvalues and vectors of ``S - Psi``, ``L = [v_1 .. v_k] diag(sqrt(theta))``
(psych's ``FAout.wls``).  The uniquenesses are fitted:

* **minres** (unweighted least squares, ``fm = "minres"``) minimises
  ``F(psi) = 1/2 sum_{j>k} theta_j^2`` (plus the negative part of the first
  ``k``), the sum of squared off-diagonal residuals of ``S - L L'``, whose
  gradient ``diag(L L') + psi - diag(S)`` is psych's.
* **ML** (``fm = "ml"``) minimises psych's ``FAfn``
  ``-sum_{j>k} (log e_j - e_j) - k + p`` with ``e_j`` the eigenvalues of
  ``Psi^-1/2 S Psi^-1/2`` and psych's gradient ``FAgr`` (Joreskog 1967);
  loadings ``Psi^1/2 [v_1 .. v_k] diag(sqrt(max(e - 1, 0)))``.
* **principal axis** (``fm = "pa"``) iterates ``diag(S) <- diag(L L')`` from
  the SMCs until the communalities settle (:func:`principal_axis`).

:func:`fit_uniquenesses` fits one matrix by L-BFGS-B (scipy) on psych's
bounds ``[0.005, max(1, SMC)]`` from psych's start ``1 - SMC``.
:func:`minres_batch` fits a stack of matrices at once by projected Newton
steps on ``F`` (gradient ``-sum_{j>k} theta_j v_j^2``, Hessian
``(P o P) + 2 sum_{j>k, l<=k} theta_j / (theta_j - theta_l) (v_j o v_l)(v_j o v_l)'``
with ``P`` the projector on the residual eigenvectors), falling back on
:func:`fit_uniquenesses` for any matrix it does not finish.
:func:`ml_one_factor_batch` fits the one-factor ML model of covariance
matrices (``lavaan::cfa('f =~ x1 + ... + xk')``) by Fisher scoring on
``(lambda, theta)``.

Rotations are ports of R's code, batched over array dimension 0 with the
per-matrix stopping rules of the originals (so one matrix and a stack give
the same answer): :func:`varimax` is ``stats::varimax``, :func:`oblimin` is
``GPArotation::GPFoblq`` with the oblimin criterion, :func:`promax` is
``psych::Promax``.  Oblique loadings are ``L = A (T')^-1`` with factor
correlations ``Phi = T'T``; orthogonal ones ``L = A T``.

References
----------
Harman, H. H. (1976). *Modern Factor Analysis* (3rd ed.). University of Chicago Press.
Joreskog, K. G. (1967). Some contributions to maximum likelihood factor analysis.
*Psychometrika*, 32, 443-482.
Kaiser, H. F. (1958). The varimax criterion for analytic rotation in factor
analysis. *Psychometrika*, 23, 187-200.
Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms
and software for arbitrary rotation criteria in factor analysis.
*Educational and Psychological Measurement*, 65, 676-696.
Hendrickson, A. E., & White, P. O. (1964). Promax: a quick method for
rotation to oblique simple structure. *British Journal of Statistical
Psychology*, 17, 65-70.
Revelle, W. (2022). *psych* (``fa``, ``smc``, ``Promax``), R package 2.2.9.

Examples
--------
>>> import numpy as np
>>> lam = np.array([.8, .7, .6, .5])
>>> r = np.outer(lam, lam); np.fill_diagonal(r, 1.0)
>>> load, psi = minres(r, 1)
>>> np.round(load[:, 0], 6).tolist()
[0.8, 0.7, 0.6, 0.5]
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from scipy import linalg, optimize

__all__ = [
    "PSI_LOWER",
    "cov2cor",
    "pinv",
    "smc",
    "smc_batch",
    "reflect",
    "uls_objective",
    "ml_objective",
    "principal_loadings",
    "ml_loadings",
    "fit_uniquenesses",
    "projected_gradient",
    "minres",
    "principal_axis",
    "minres_batch",
    "ml_one_factor",
    "ml_one_factor_batch",
    "varimax",
    "oblimin",
    "promax",
]

PSI_LOWER = 0.005  # psych's lower bound for uniquenesses (factanal's 0.005 of the variance)


# =========================================================================== matrices
def cov2cor(c: np.ndarray) -> np.ndarray:
    """Correlation matrix from a covariance matrix (R's ``cov2cor``)."""
    s = 1.0 / np.sqrt(np.diag(c))
    r = c * s[:, None] * s[None, :]
    np.fill_diagonal(r, 1.0)
    return r


def pinv(x: np.ndarray, tol: float = np.sqrt(np.finfo(float).eps)) -> np.ndarray:
    """Moore-Penrose inverse with psych's ``Pinv`` tolerance (relative to the largest singular value)."""
    u, d, vt = linalg.svd(x)
    keep = d > max(tol * d[0], 0.0)
    return (vt[keep].T / d[keep]) @ u[:, keep].T


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations ``1 - 1 / diag(R^+)`` as ``psych::smc`` (pseudo-inverse, clipped to [0, 1])."""
    r = cov2cor(np.asarray(r, dtype=float))
    return np.clip(1.0 - 1.0 / np.diag(pinv(r)), 0.0, 1.0)


def smc_batch(r: np.ndarray) -> np.ndarray:
    """:func:`smc` of a stack of correlation matrices ``(B, p, p)``: inverses, pseudo-inverses if any is singular."""
    inv = None
    try:
        inv = np.linalg.inv(r)
        if not np.isfinite(inv).all():
            inv = None
    except np.linalg.LinAlgError:
        pass
    if inv is None:
        inv = np.linalg.pinv(r, hermitian=True)
    return np.clip(1.0 - 1.0 / np.diagonal(inv, axis1=-2, axis2=-1), 0.0, 1.0)


def eig_desc(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (largest first) and eigenvectors of a symmetric matrix or stack of them."""
    vals, vecs = np.linalg.eigh(s)
    return vals[..., ::-1], vecs[..., ::-1]


def reflect(load: np.ndarray) -> np.ndarray:
    """Signs (+1/-1, one per factor) that make every column of ``load`` (``(..., p, k)``) sum to a positive number."""
    sign = np.sign(load.sum(axis=-2))
    sign[sign == 0] = 1.0
    return sign


# =========================================================================== one matrix (psych::fa)
def uls_objective(psi: np.ndarray, S: np.ndarray, nf: int) -> tuple[float, np.ndarray]:
    """minres function ``F(psi)`` and its gradient ``diag(L L') + psi - diag(S)``."""
    vals, vecs = eig_desc(S - np.diag(psi))
    top = vals[:nf]
    f = 0.5 * (np.sum(vals[nf:] ** 2) + np.sum(np.minimum(top, 0.0) ** 2))
    L = vecs[:, :nf] * np.sqrt(np.maximum(top, 0.0))
    g = np.sum(L**2, axis=1) + psi - np.diag(S)
    return float(f), g


def ml_objective(psi: np.ndarray, S: np.ndarray, nf: int) -> tuple[float, np.ndarray]:
    """psych's ``FAfn`` and ``FAgr`` (ML discrepancy in the uniquenesses); ``inf`` off the model's domain."""
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = eig_desc(S * np.outer(sc, sc))
    e = vals[nf:]
    if np.any(e <= 0):
        return float("inf"), np.zeros_like(psi)
    f = -(np.sum(np.log(e) - e) - nf + S.shape[0])
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0)) * np.sqrt(psi)[:, None]
    g = np.sum(load**2, axis=1) + psi - np.diag(S)
    return float(f), g / psi**2


def principal_loadings(psi: np.ndarray, S: np.ndarray, nf: int) -> np.ndarray:
    """minres loadings given the uniquenesses: principal axes of ``S - diag(psi)`` (psych's ``FAout.wls``)."""
    vals, vecs = eig_desc(S - np.diag(psi))
    return vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))


def ml_loadings(psi: np.ndarray, S: np.ndarray, nf: int) -> np.ndarray:
    """ML loadings given the uniquenesses (psych's ``FAout``)."""
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = eig_desc(S * np.outer(sc, sc))
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0))
    return load * np.sqrt(psi)[:, None]


def _upper_bound(S: np.ndarray) -> float:
    return max(float(np.max(smc(S))), 1.0)


def fit_uniquenesses(
    S: np.ndarray,
    nf: int,
    method: Literal["minres", "ml"] = "minres",
    max_iter: int = 1000,
    *,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, optimize.OptimizeResult]:
    """psych's ``fa`` uniquenesses: L-BFGS-B on ``[0.005, max(1, SMC)]`` from ``diag(S) - SMC`` (or ``start``).

    Minimises :func:`uls_objective` (minres) or :func:`ml_objective` (ML)
    with their exact gradients to a tight tolerance, so it lands on the point
    psych's ``optim`` converges to.  Returns the uniquenesses and scipy's
    result (``success``, ``nit``, ``jac`` for :func:`projected_gradient`).
    """
    s_smc = smc(S)
    upper = max(float(np.max(s_smc)), 1.0)
    if start is None:
        start = np.diag(S) - s_smc
    start = np.clip(start, PSI_LOWER, upper)
    fun = uls_objective if method == "minres" else ml_objective
    res = optimize.minimize(
        fun, start, args=(S, nf), jac=True, method="L-BFGS-B",
        bounds=[(PSI_LOWER, upper)] * len(start),
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
    )
    return res.x, res


def projected_gradient(psi: np.ndarray, g: np.ndarray, S: np.ndarray) -> float:
    """Largest gradient component not blocked by psych's bounds ``[0.005, max(1, SMC)]`` (0 at a solution)."""
    upper = _upper_bound(S)
    tol = 1e-9
    pg = np.where(psi <= PSI_LOWER + tol, np.minimum(g, 0.0), g)
    pg = np.where(psi >= upper - tol, np.maximum(pg, 0.0), pg)
    return float(np.max(np.abs(pg)))


def minres(r: np.ndarray, nf: int, start: np.ndarray | None = None, max_iter: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Unrotated minres loadings (columns summing to a positive number, as psych) and uniquenesses of ``r``.

    ``r`` is standardised first (a covariance matrix gives its correlations' solution).
    """
    r = cov2cor(r)
    psi, _ = fit_uniquenesses(r, nf, "minres", max_iter, start=start)
    load = principal_loadings(psi, r, nf)
    return load * reflect(load), psi


def principal_axis(
    r: np.ndarray, nf: int, *, min_err: float = 0.001, max_iter: int = 50
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Iterated principal-axis factoring exactly as ``psych::fa(fm = "pa")``.

    Starting from SMCs on the diagonal of ``r``, repeat: the loadings are the
    first ``nf`` principal axes of the reduced matrix, ``L = V_k diag(sqrt(theta_k))``,
    and their communalities ``diag(L L')`` replace its diagonal, until the sum
    of the communalities changes by no more than ``min_err`` (psych's 0.001)
    or ``max_iter`` (50) passes.  Returns the unrotated loadings, the
    eigenvalues of the last reduced matrix factored (psych's ``values``), the
    number of passes and whether ``min_err`` was reached.  A negative leading
    eigenvalue (psych: "imaginary eigen value") raises ``ValueError``.
    """
    r_mat = np.array(r, dtype=float, copy=True)
    idx = np.arange(r_mat.shape[0])
    r_mat[idx, idx] = smc(r)
    comm = float(np.sum(np.diag(r_mat)))
    for it in range(1, max_iter + 1):
        vals, vecs = eig_desc(r_mat)
        if np.any(vals[:nf] < 0):
            raise ValueError("principal axis: a leading eigenvalue of the reduced matrix is negative "
                             "(psych's imaginary eigen value condition)")
        load = vecs[:, :nf] * np.sqrt(vals[:nf])
        new = np.sum(load**2, axis=1)
        comm1 = float(np.sum(new))
        r_mat[idx, idx] = new
        err = abs(comm - comm1)
        comm = comm1
        if err <= min_err:
            return load, vals, it, True
    return load, vals, max_iter, False


# =========================================================================== many matrices: minres
def _plain_newton_step(h: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    """``h^-1 g`` for a batch of well-conditioned positive definite ``h``, else None.

    Positive definiteness is tested by a Cholesky factorisation; a
    factor whose diagonal spans more than 1e4 (an eigenvalue ratio of about
    1e8, where the absolute-eigenvalue step would floor eigenvalues) also
    sends the batch to the eigen-decomposition.
    """
    try:
        chol = np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        return None
    d = np.diagonal(chol, axis1=1, axis2=2)
    if not (np.isfinite(d).all() and (d.min(axis=1) > 1e-4 * d.max(axis=1)).all()):
        return None
    y = np.linalg.solve(chol, g[:, :, None])
    return np.linalg.solve(np.swapaxes(chol, 1, 2), y)[:, :, 0]


def minres_batch(
    r: np.ndarray,
    nf: int,
    psi0: np.ndarray | None = None,
    *,
    tol: float = 1e-10,
    maxit: int = 50,
    fallback: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """minres for a stack of correlation matrices ``(B, p, p)`` by projected Newton steps.

    Minimises ``F(Psi) = 0.5 * sum_{j>nf} theta_j^2`` (eigenvalues of
    ``R - Psi``) from ``psi0`` (default psych's start ``1 - SMC``), with the
    gradient and Hessian of the module docstring; a step is a Newton step on
    the absolute-eigenvalue Hessian (a descent direction even where ``F`` is
    not convex), halved until ``F`` does not rise.  Uniquenesses stay in
    ``[0.005, 1]`` (psych's bounds).  A matrix not finished in ``maxit`` steps
    is refitted by :func:`fit_uniquenesses` from the same start when
    ``fallback`` (its flag then says whether that converged).  Returns the
    unrotated loadings ``(B, p, nf)`` signed as psych, the uniquenesses and a
    convergence flag ``(B,)``.
    """
    bsz, p, _ = r.shape
    if psi0 is None:
        psi0 = 1.0 - smc_batch(r)
    start = np.clip(np.array(psi0, dtype=float, copy=True), PSI_LOWER, 1.0)
    psi = start.copy()
    eye = np.eye(p)
    # tol is on the largest change of a uniqueness or the largest free gradient component
    active = np.ones(bsz, dtype=bool)
    conv = np.zeros(bsz, dtype=bool)

    def objective(idx: np.ndarray, ps: np.ndarray) -> np.ndarray:
        vals = np.linalg.eigvalsh(r[idx] - ps[:, :, None] * eye)[:, ::-1]
        rest = vals[:, nf:]
        return 0.5 * (rest**2).sum(axis=1)

    for _ in range(maxit):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        ps = psi[idx]
        vals, vecs = eig_desc(r[idx] - ps[:, :, None] * eye)
        rest_v = vecs[:, :, nf:]
        rest_t = vals[:, nf:]
        grad = -np.einsum("bij,bj->bi", rest_v**2, rest_t)
        proj = rest_v @ np.swapaxes(rest_v, 1, 2)
        hess = proj**2
        top_v = vecs[:, :, :nf]
        top_t = vals[:, :nf]
        for lidx in range(nf):
            coef = 2.0 * rest_t / (rest_t - top_t[:, lidx : lidx + 1])  # (b, p-nf)
            prod = rest_v * top_v[:, :, lidx : lidx + 1]  # (b, p, p-nf): v_j o v_l
            hess += (prod * coef[:, None, :]) @ np.swapaxes(prod, 1, 2)
        # projected Newton: coordinates at a bound with the gradient pushing out stay fixed
        at_low = (ps <= PSI_LOWER + 1e-12) & (grad > 0)
        at_high = (ps >= 1.0 - 1e-12) & (grad < 0)
        fixed = at_low | at_high
        hm = np.where(fixed[:, :, None] | fixed[:, None, :], 0.0, hess) + fixed[:, :, None] * eye
        gm = np.where(fixed, 0.0, grad)
        # near the optimum the Hessian is positive definite (the Cholesky test) and the
        # step is a plain Newton step, solved directly
        step = _plain_newton_step(hm, gm)
        if step is None:
            hv, hq = np.linalg.eigh(hm)
            hv = np.maximum(np.abs(hv), 1e-8 * np.maximum(np.abs(hv).max(axis=1, keepdims=True), 1e-12))
            step = np.einsum("bij,bj->bi", hq, np.einsum("bji,bj->bi", hq, gm) / hv)
        f0 = 0.5 * (rest_t**2).sum(axis=1)
        t = np.ones(idx.size)
        new = np.clip(ps - step, PSI_LOWER, 1.0)
        f1 = objective(idx, new)
        for _ls in range(30):
            bad = ~(f1 <= f0 + 1e-14 * np.maximum(1.0, f0)) & np.isfinite(f1)
            bad |= ~np.isfinite(f1)
            if not bad.any():
                break
            t[bad] /= 2.0
            new[bad] = np.clip(ps[bad] - t[bad, None] * step[bad], PSI_LOWER, 1.0)
            f1[bad] = objective(idx[bad], new[bad])
        moved = np.max(np.abs(new - ps), axis=1)
        psi[idx] = new
        gnorm = np.max(np.abs(np.where(fixed, 0.0, grad)), axis=1)
        done = (moved < tol) | (gnorm < tol)
        conv[idx[done]] = True
        active[idx[done]] = False
    if fallback:
        for b in np.flatnonzero(~conv):  # rare: the scipy solver from the same start
            psi_b, res = fit_uniquenesses(cov2cor(r[b]), nf, "minres", 2000, start=start[b])
            psi[b] = psi_b
            conv[b] = bool(res.success) or projected_gradient(psi_b, res.jac, r[b]) < 1e-5
    vals, vecs = eig_desc(r - psi[:, :, None] * eye)
    load = vecs[:, :, :nf] * np.sqrt(np.maximum(vals[:, :nf], 0.0))[:, None, :]
    return load * reflect(load)[:, None, :], psi, conv


# =========================================================================== one-factor ML (covariances)
def _scoring_step(s: np.ndarray, lam: np.ndarray, th: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and expected Hessian of the ML discrepancy for a one-factor model (batched).

    ``s``: (B, p, p) covariances; ``lam``, ``th``: (B, p).  With
    ``Omega = Sigma^-1`` and ``M = Omega (Sigma - S) Omega`` the gradient of
    ``F = log|Sigma| + tr(S Sigma^-1)`` is ``2 M lam`` (loadings) and
    ``diag(M)`` (uniquenesses); the expected Hessian is
    ``tr(Omega Sigma_a Omega Sigma_b)``.
    """
    bsz, p = lam.shape
    # Sigma = Theta + lam lam' (Theta diagonal, kept positive): Woodbury gives
    # Omega = Theta^-1 - u u' / (1 + lam'u) with u = Theta^-1 lam, so
    # Omega lam = u / (1 + lam'u) and M = Omega - Omega S Omega.
    with np.errstate(divide="ignore", invalid="ignore"):
        u = lam / th
        den = 1.0 + np.einsum("bi,bi->b", lam, u)
        om = -(u[:, :, None] * u[:, None, :]) / den[:, None, None]
        idx = np.arange(p)
        om[:, idx, idx] += 1.0 / th
        ol = u / den[:, None]
        lol = 1.0 - 1.0 / den
    mm = om - om @ s @ om
    grad = np.concatenate([2.0 * np.einsum("bij,bj->bi", mm, lam), np.diagonal(mm, axis1=1, axis2=2)], axis=1)
    h = np.empty((bsz, 2 * p, 2 * p))
    h[:, :p, :p] = 2.0 * (om * lol[:, None, None] + ol[:, :, None] * ol[:, None, :])
    cross = 2.0 * om * ol[:, None, :]
    h[:, :p, p:] = cross
    h[:, p:, :p] = np.swapaxes(cross, 1, 2)
    h[:, p:, p:] = om**2
    return grad, h


def ml_one_factor_batch(
    s: np.ndarray, lam0: np.ndarray, th0: np.ndarray, *, tol: float = 1e-9, maxit: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fisher scoring of the one-factor ML model for a stack of covariance matrices from given starts.

    Returns loadings, residual variances (B, p) and a boolean ``converged``
    (B,): no parameter moved by more than ``tol`` times the largest item sd.
    Residual variances are kept above ``0.005 * var`` (as factanal/psych bound them).
    """
    s = np.asarray(s, dtype=float)
    bsz, p, _ = s.shape
    lam = np.array(lam0, dtype=float, copy=True)
    th = np.array(th0, dtype=float, copy=True)
    floor = PSI_LOWER * np.diagonal(s, axis1=1, axis2=2)
    active = np.ones(bsz, dtype=bool)
    conv = np.zeros(bsz, dtype=bool)
    for _ in range(maxit):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        grad, h = _scoring_step(s[idx], lam[idx], th[idx])
        try:
            step = np.linalg.solve(h, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            step = np.stack([np.linalg.lstsq(hh, gg, rcond=None)[0] for hh, gg in zip(h, grad)])
        lam[idx] -= step[:, :p]
        th[idx] = np.maximum(th[idx] - step[:, p:], floor[idx])
        done = np.max(np.abs(step), axis=1) < tol * np.sqrt(np.max(np.diagonal(s[idx], axis1=1, axis2=2), axis=1))
        conv[idx[done]] = True
        active[idx[done]] = False
        bad = ~np.isfinite(step).all(axis=1)
        active[idx[bad]] = False
    flip = lam.sum(axis=1) < 0
    lam[flip] = -lam[flip]
    return lam, th, conv


def ml_one_factor(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """ML one-factor loadings and residual variances of covariance ``c`` (raw metric).

    Starts from psych's ``fa(fm = "ml")`` solution on the correlation scale
    (:func:`fit_uniquenesses`) and polishes it by Fisher scoring on the
    covariance scale (:func:`ml_one_factor_batch`): the estimates of
    ``lavaan::cfa('f =~ x1 + ... + xk', std.lv = TRUE)`` where they are interior.
    """
    c = np.asarray(c, dtype=float)
    sd = np.sqrt(np.diag(c))
    r = cov2cor(c)
    psi, _ = fit_uniquenesses(r, 1, "ml", 2000)
    lam_r = ml_loadings(psi, r, 1)[:, 0]
    lam0 = (lam_r * sd)[None, :]
    th0 = (psi * sd**2)[None, :]
    lam, th, conv = ml_one_factor_batch(c[None], lam0, th0)
    if not conv[0] or not np.isfinite(lam).all():
        lam, th = lam0, th0
    return lam[0], th[0], bool(conv[0])


# =========================================================================== rotations
def _stack(x: np.ndarray) -> tuple[np.ndarray, bool]:
    x = np.asarray(x, dtype=float)
    return (x[None], True) if x.ndim == 2 else (x, False)


def varimax(
    x: np.ndarray, *, normalize: bool = True, eps: float = 1e-5, max_iter: int = 1000
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``stats::varimax`` of loadings ``(p, m)`` or a stack ``(B, p, m)``, each with R's stopping rule.

    Maximises ``sum_j [sum_i l_ij^4 / p - (sum_i l_ij^2 / p)^2]`` over
    orthogonal ``T`` (on Kaiser-normalised rows when ``normalize``) by R's SVD
    iteration, stopping when the criterion grows by less than a relative
    ``eps``.  Returns ``(loadings, T, iterations, converged)`` (per matrix
    for a stack; scalars for one matrix).
    """
    xs, one = _stack(x)
    bsz, p, nc = xs.shape
    tt = np.broadcast_to(np.eye(nc), (bsz, nc, nc)).copy()
    n_iter = np.zeros(bsz, dtype=int)
    conv = np.ones(bsz, dtype=bool)
    if nc < 2:
        z = xs.copy()
    else:
        sc = np.sqrt((xs**2).sum(axis=2)) if normalize else np.ones((bsz, p))
        xn = xs / sc[:, :, None] if normalize else xs
        d = np.zeros(bsz)
        conv[:] = False
        active = np.ones(bsz, dtype=bool)
        for it in range(1, max_iter + 1):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            xa = xn[idx]
            z = xa @ tt[idx]
            b = np.swapaxes(xa, 1, 2) @ (z**3 - z * ((z**2).sum(axis=1, keepdims=True) / p))
            u, s, vt = np.linalg.svd(b)
            tt[idx] = u @ vt
            dpast = d[idx]
            d[idx] = s.sum(axis=1)
            n_iter[idx] = it
            stop = d[idx] < dpast * (1 + eps)
            conv[idx[stop]] = True
            active[idx[stop]] = False
        z = xn @ tt
        if normalize:
            z = z * sc[:, :, None]
    if one:
        return z[0], tt[0], int(n_iter[0]), bool(conv[0])  # type: ignore[return-value]
    return z, tt, n_iter, conv


def _vgq_oblimin(lam: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """GPArotation's ``vgQ.oblimin`` for a stack: gradient and value of the oblimin criterion."""
    nc = lam.shape[2]
    l2 = lam**2
    xm = l2 @ (1.0 - np.eye(nc))
    if gamma != 0:
        xm = xm - gamma * xm.mean(axis=1, keepdims=True)  # (I - gamma/p 11') X
    return lam * xm, (l2 * xm).sum(axis=(1, 2)) / 4.0


def oblimin(
    a: np.ndarray,
    *,
    gamma: float = 0.0,
    normalize: bool = False,
    eps: float = 1e-5,
    max_iter: int = 1000,
    tmat: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``GPArotation::GPFoblq`` with the oblimin criterion, for loadings ``(p, m)`` or a stack ``(B, p, m)``.

    Minimises ``Q(L) = 1/4 sum_i sum_{j != k} l_ij^2 l_ik^2`` (``gamma = 0``:
    quartimin; other ``gamma`` centre the columns of ``L^2``) over
    ``L = A (T')^-1`` with unit-length columns of ``T`` by gradient projection
    with GPArotation's step halving, each matrix stopping when its projected
    gradient norm is below ``eps``.  Returns ``(L, T, Q, iterations,
    converged)``; ``Phi = T'T``.
    """
    a_s, one = _stack(a)
    bsz, p, nc = a_s.shape
    w = None
    if normalize:
        w = np.sqrt((a_s**2).sum(axis=2, keepdims=True))  # GPArotation::NormalizingWeight
        a_s = a_s / w
    if tmat is None:  # T = I: L = A and G = -(L' Gq)'
        tm = np.broadcast_to(np.eye(nc), (bsz, nc, nc)).copy()
        lam = a_s.copy()
        gq, f = _vgq_oblimin(lam, gamma)
        g = -np.swapaxes(np.swapaxes(lam, 1, 2) @ gq, 1, 2)
    else:
        tm = np.broadcast_to(np.asarray(tmat, dtype=float), (bsz, nc, nc)).copy()
        t_inv = np.linalg.inv(tm)
        lam = a_s @ np.swapaxes(t_inv, 1, 2)
        gq, f = _vgq_oblimin(lam, gamma)
        g = -np.swapaxes(np.swapaxes(lam, 1, 2) @ gq @ t_inv, 1, 2)
    al = np.ones(bsz)
    conv = np.zeros(bsz, dtype=bool)
    n_iter = np.full(bsz, max_iter)
    active = np.ones(bsz, dtype=bool)
    for it in range(max_iter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        t_a = tm[idx]
        g_a = g[idx]
        gp = g_a - t_a * (t_a * g_a).sum(axis=1, keepdims=True)
        s = np.sqrt((gp**2).sum(axis=(1, 2)))
        done = s < eps
        conv[idx[done]] = True
        n_iter[idx[done]] = it
        active[idx[done]] = False
        keep = ~done
        idx, t_a, gp, s = idx[keep], t_a[keep], gp[keep], s[keep]
        if idx.size == 0:
            break
        al[idx] *= 2.0
        f_a = f[idx]
        a_a = a_s[idx]
        pending = np.ones(idx.size, dtype=bool)
        tmt = np.empty_like(t_a)
        lam_t = np.empty((idx.size, p, nc))
        gq_t = np.empty((idx.size, p, nc))
        f_t = np.empty(idx.size)
        for _i in range(11):
            pi = np.flatnonzero(pending)
            xm = t_a[pi] - al[idx[pi]][:, None, None] * gp[pi]
            v = 1.0 / np.sqrt((xm**2).sum(axis=1))
            tt = xm * v[:, None, :]
            lm = a_a[pi] @ np.swapaxes(np.linalg.inv(tt), 1, 2)
            gqq, ff = _vgq_oblimin(lm, gamma)
            tmt[pi], lam_t[pi], gq_t[pi], f_t[pi] = tt, lm, gqq, ff
            ok = (f_a[pi] - ff) > 0.5 * s[pi] ** 2 * al[idx[pi]]
            pending[pi[ok]] = False
            still = pi[~ok]
            al[idx[still]] /= 2.0
            if not pending.any():
                break
        tm[idx] = tmt
        f[idx] = f_t
        lam[idx] = lam_t
        g[idx] = -np.swapaxes(np.swapaxes(lam_t, 1, 2) @ gq_t @ np.linalg.inv(tmt), 1, 2)
    if w is not None:
        lam = lam * w
    if one:
        return lam[0], tm[0], float(f[0]), int(n_iter[0]), bool(conv[0])  # type: ignore[return-value]
    return lam, tm, f, n_iter, conv


def promax(x: np.ndarray, m: float = 4.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``psych::Promax(x, m)`` of loadings ``(p, k)``: rotated loadings, rotation matrix ``U``, ``Phi``.

    Varimax, then the least-squares fit ``U`` of the target ``L |L|^(m-1)``
    with columns rescaled so the factor variances are 1.  When ``U'U`` is
    singular (factors exactly uncorrelated) psych's approximation is used,
    with a ``RuntimeWarning``.
    """
    if x.shape[1] < 2:
        return x.copy(), np.eye(x.shape[1]), np.eye(x.shape[1])
    z0, rot, _, _ = varimax(x, normalize=True, eps=1e-5)
    Q = z0 * np.abs(z0) ** (m - 1)
    U = np.linalg.lstsq(z0, Q, rcond=None)[0]
    UtU = U.T @ U
    try:
        d = np.diag(np.linalg.inv(UtU))
    except np.linalg.LinAlgError:
        ev, vec = np.linalg.eigh(UtU)
        ev = np.where(ev < np.finfo(float).eps, 100 * np.finfo(float).eps, ev)
        UU = vec @ np.diag(ev) @ vec.T
        np.fill_diagonal(UU, 1.0)
        d = np.diag(np.linalg.inv(UU))
        warnings.warn(
            "promax: factors are exactly uncorrelated and the model produces a singular matrix; "
            "an approximation is used (as psych::Promax does)",
            RuntimeWarning,
            stacklevel=3,
        )
    U = U @ np.diag(np.sqrt(d))
    z = z0 @ U
    U = rot @ U
    ui = np.linalg.inv(U)
    return z, U, ui @ ui.T
