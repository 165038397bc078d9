"""Private factor-analysis pieces for omega, including the vectorised batches
its bootstrap runs.

The single-matrix steps are :mod:`veplab.validity`'s (one implementation of
each, checked there against psych and GPArotation); this module composes them
the way ``psych::omega`` does and adds the batched versions of the same
algorithms (many correlation matrices at once, for the bootstrap):

* :func:`minres` - ``psych::fa(fm = "minres")`` uniquenesses and loadings
  (``veplab.validity.efa``'s fit, with a warm start).
* :func:`varimax` - ``stats::varimax`` (``veplab.validity.rotation``).
* :func:`oblimin` - ``GPArotation::oblimin`` (gamma = 0, i.e. quartimin),
  ``GPFoblq`` (``veplab.validity.rotation``).
* :func:`schmid` - the Schmid-Leiman transformation as ``psych::schmid``.
* :func:`ml_one_factor` / :func:`ml_one_factor_batch` - maximum-likelihood
  one-factor model (the model lavaan fits with ``cfa('f =~ x1 + ...')``),
  by Fisher scoring on ``(lambda, theta)``.
* ``minres_batch``, ``varimax_batch``, ``oblimin_batch``, ``schmid_batch`` -
  the same algorithms over a stack of matrices (array dimension 0).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize

from ..validity.efa import _PSI_LOWER as PSI_LOWER
from ..validity.efa import _fit_uniquenesses, _minres_loadings
from ..validity.rotation import _gpf_oblq, _varimax
from ._common import cov2cor, smc


def _eig_desc(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vals, vecs = linalg.eigh(s)
    return vals[::-1], vecs[:, ::-1]


# --------------------------------------------------------------------------- minres and rotations


def minres(r: np.ndarray, nf: int, start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unrotated minres loadings and uniquenesses of correlation matrix ``r``.

    Signs follow psych: each factor's loadings sum to a positive number.
    """
    r = cov2cor(r)
    psi, _ = _fit_uniquenesses(r, nf, "minres", 2000, start=start)
    load = _minres_loadings(psi, r, nf)
    sign = np.sign(load.sum(axis=0))
    sign[sign == 0] = 1.0
    return load * sign, psi


def varimax(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """``stats::varimax(x)`` (Kaiser-normalised; same stopping rule)."""
    return _varimax(x, normalize=True, eps=eps)[0]


def oblimin(a: np.ndarray, eps: float = 1e-5, maxit: int = 1000) -> tuple[np.ndarray, np.ndarray, bool]:
    """``GPArotation::oblimin(a)`` (quartimin): loadings, factor correlations, converged."""
    lam, tm, _f, _it, converged = _gpf_oblq(a, gamma=0.0, normalize=False, eps=eps, max_iter=maxit)
    return lam, tm.T @ tm, converged


# --------------------------------------------------------------------------- fa() as psych


def fa_varimax(r: np.ndarray, nf: int, start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``psych::fa(r, nf, fm = "minres", rotate = "varimax")$loadings`` and the uniquenesses."""
    load, psi = minres(r, nf, start)
    if nf > 1:
        load = np.where(load == 0, 1e-15, load)
        load = varimax(load)
        sign = np.sign(load.sum(axis=0))
        sign[sign == 0] = 1.0
        load = load * sign
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
    fload, phi, converged = oblimin(orth)
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


def omega_from_schmid(r: np.ndarray, sl: dict) -> dict[str, float | np.ndarray]:
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


# --------------------------------------------------------------------------- ML one factor


def _ml_psi_correlation(r: np.ndarray) -> np.ndarray:
    """ML uniquenesses of a one-factor model of correlation ``r`` (psych ``FAfn``/``FAgr``)."""
    p = r.shape[0]

    def fun(psi: np.ndarray) -> tuple[float, np.ndarray]:
        sc = 1.0 / np.sqrt(psi)
        sstar = r * sc[:, None] * sc[None, :]
        vals, vecs = _eig_desc(sstar)
        e = vals[1:]
        f = -(np.sum(np.log(e) - e) - 1 + p)
        load = vecs[:, :1] * np.sqrt(max(vals[0] - 1.0, 0.0))
        load = load * np.sqrt(psi)[:, None]
        gmat = load @ load.T + np.diag(psi) - r
        return f, np.diag(gmat) / psi**2

    start = np.clip(1.0 - smc(r), PSI_LOWER, 1.0)
    res = optimize.minimize(
        fun, start, jac=True, method="L-BFGS-B", bounds=[(PSI_LOWER, 1.0)] * p,
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
    )
    return res.x


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
    """Fisher scoring for a batch of covariance matrices from given starting values.

    Returns loadings, uniquenesses (B, p) and a boolean ``converged`` (B,).
    Uniquenesses are kept above ``0.005 * var`` (as factanal/psych bound them).
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

    Starts from the L-BFGS-B solution on the correlation scale (psych's
    ``fm = "ml"``) and polishes it by Fisher scoring on the covariance scale.
    """
    c = np.asarray(c, dtype=float)
    sd = np.sqrt(np.diag(c))
    r = cov2cor(c)
    psi = _ml_psi_correlation(r)
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = _eig_desc(r * sc[:, None] * sc[None, :])
    lam_r = np.sqrt(psi) * vecs[:, 0] * np.sqrt(max(vals[0] - 1.0, 0.0))
    lam0 = (lam_r * sd)[None, :]
    th0 = (psi * sd**2)[None, :]
    lam, th, conv = ml_one_factor_batch(c[None], lam0, th0)
    if not conv[0] or not np.isfinite(lam).all():
        lam, th = lam0, th0
    return lam[0], th[0], bool(conv[0])


# --------------------------------------------------------------------------- batched (bootstrap)


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
    r: np.ndarray, nf: int, psi0: np.ndarray, *, tol: float = 1e-10, maxit: int = 50
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minres for a batch of correlation matrices by projected Newton steps.

    Minimises ``F(Psi) = 0.5 * sum_{j>nf} theta_j^2`` (eigenvalues of
    ``R - Psi``) from warm starts ``psi0``.  The gradient is
    ``-sum_{j>nf} theta_j v_j^2`` and the Hessian
    ``(P o P) + 2 sum_{j>nf, l<=nf} theta_j / (theta_j - theta_l) (v_j o v_l)(v_j o v_l)'``
    with ``P`` the projector on the residual eigenvectors.  Uniquenesses are
    kept in ``[0.005, 1]`` (psych's bounds).  Returns unrotated loadings
    ``(B, p, nf)`` signed as psych, the uniquenesses and a convergence flag.
    """
    bsz, p, _ = r.shape
    psi = np.clip(np.array(psi0, dtype=float, copy=True), PSI_LOWER, 1.0)
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
        vals, vecs = np.linalg.eigh(r[idx] - ps[:, :, None] * eye)
        vals = vals[:, ::-1]
        vecs = vecs[:, :, ::-1]
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
        # Newton step on the absolute-eigenvalue Hessian: a descent direction even
        # where F is not convex
        # (near the optimum the Hessian is positive definite - the Cholesky test -
        # and the step is a plain Newton step, solved directly)
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
    vals, vecs = np.linalg.eigh(r - psi[:, :, None] * eye)
    vals = vals[:, ::-1][:, :nf]
    vecs = vecs[:, :, ::-1][:, :, :nf]
    load = vecs * np.sqrt(np.maximum(vals, 0.0))[:, None, :]
    sign = np.sign(load.sum(axis=1))
    sign[sign == 0] = 1.0
    return load * sign[:, None, :], psi, conv


def varimax_batch(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """:func:`varimax` for a batch ``(B, p, m)`` with the same per-matrix stopping rule."""
    bsz, p, nc = x.shape
    sc = np.sqrt((x**2).sum(axis=2))
    xn = x / sc[:, :, None]
    tt = np.broadcast_to(np.eye(nc), (bsz, nc, nc)).copy()
    d = np.zeros(bsz)
    active = np.ones(bsz, dtype=bool)
    for _ in range(1000):
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
        stop = d[idx] < dpast * (1 + eps)
        active[idx[stop]] = False
    return (xn @ tt) * sc[:, :, None]


def _vgq_oblimin_batch(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nc = lam.shape[2]
    l2 = lam**2
    xm = l2 @ (1.0 - np.eye(nc))
    return lam * xm, (l2 * xm).sum(axis=(1, 2)) / 4.0


def oblimin_batch(a: np.ndarray, eps: float = 1e-5, maxit: int = 1000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`oblimin` (GPFoblq, quartimin) for a batch ``(B, p, m)``, step by step identical."""
    bsz, p, nc = a.shape
    tm = np.broadcast_to(np.eye(nc), (bsz, nc, nc)).copy()
    al = np.ones(bsz)
    lam = a.copy()
    gq, f = _vgq_oblimin_batch(lam)
    g = -np.swapaxes(np.swapaxes(lam, 1, 2) @ gq, 1, 2)  # T = I initially
    conv = np.zeros(bsz, dtype=bool)
    active = np.ones(bsz, dtype=bool)
    for _ in range(maxit + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        t_a = tm[idx]
        g_a = g[idx]
        gp = g_a - t_a * (t_a * g_a).sum(axis=1, keepdims=True)
        s = np.sqrt((gp**2).sum(axis=(1, 2)))
        done = s < eps
        conv[idx[done]] = True
        active[idx[done]] = False
        keep = ~done
        idx, t_a, gp, s = idx[keep], t_a[keep], gp[keep], s[keep]
        if idx.size == 0:
            break
        al[idx] *= 2.0
        f_a = f[idx]
        a_a = a[idx]
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
            gqq, ff = _vgq_oblimin_batch(lm)
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
    return lam, np.swapaxes(tm, 1, 2) @ tm, conv


def schmid_batch(r: np.ndarray, nf: int, psi0: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`schmid` + :func:`omega_from_schmid` summaries for a batch of correlation matrices.

    Returns arrays (B,) ``omega_h``, ``omega_total``, ``converged``.
    """
    bsz, p, _ = r.shape
    load, psi, conv = minres_batch(r, nf, psi0)
    for b in np.flatnonzero(~conv):  # rare: fall back to the scipy solver from the same start
        lb, pb = minres(r[b], nf, psi0[b])
        load[b], psi[b], conv[b] = lb, pb, True
    load = np.where(load == 0, 1e-15, load)
    orth = varimax_batch(load)
    sign = np.sign(orth.sum(axis=1))
    sign[sign == 0] = 1.0
    orth = orth * sign[:, None, :]
    order = np.argsort(-(orth**2).sum(axis=1), axis=1, kind="stable")
    orth = np.take_along_axis(orth, order[:, None, :], axis=2)
    fload, phi, conv_rot = oblimin_batch(orth)
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
