"""Elementary symmetric functions and the conditional likelihood of Rasch-family models.

The conditional likelihood of the Rasch and partial credit models depends on the
data only through the item-category counts and, per missing pattern, the counts
of persons with each raw score.  For a set ``S`` of items with category
parameters ``eps_ih = exp(beta_ih)`` (``h = 1..m_i``, ``eps_i0 = 1``) the
elementary symmetric function of order ``r`` is the coefficient of ``z^r`` in

    gamma(z) = prod_{i in S} (1 + eps_i1 z + ... + eps_im_i z^m_i)

computed by the summation algorithm (multiplying in one item at a time), which
adds only positive terms and so keeps full relative precision.  Every
polynomial is rescaled to a largest coefficient of 1 after each item, its log
scale carried separately, so that nothing overflows.  Leaving items out
(``gamma^(i)``, ``gamma^(ij)``, needed by the gradient and the Hessian) is done
by products of prefix and suffix polynomials, never by division, which would
lose precision.

All arrays are batched over missing patterns ``g``: an item a pattern lacks
contributes the polynomial 1.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CMLData", "cml_loglik", "cml_derivatives"]


class CMLData:
    """What the conditional likelihood needs from a response matrix.

    ``x``: (persons, items) float with NaN for missing; categories ``0..m_i``.
    """

    def __init__(self, x: np.ndarray, m: np.ndarray) -> None:
        self.m = np.asarray(m, dtype=int)
        self.k = len(self.m)
        self.offsets = np.r_[0, np.cumsum(self.m)]
        self.npar = int(self.offsets[-1])  # number of beta parameters
        self.rmax = self.npar  # largest raw score
        obs = ~np.isnan(x)
        patterns, self.pattern_of = np.unique(obs, axis=0, return_inverse=True)
        self.pattern_of = self.pattern_of.ravel()
        self.obs = patterns  # (G, k) bool
        self.G = patterns.shape[0]
        score = np.where(obs, x, 0.0).sum(axis=1).astype(int)
        self.score = score
        self.nr = np.zeros((self.G, self.rmax + 1))
        np.add.at(self.nr, (self.pattern_of, score), 1.0)
        # category counts: count of x_i = h for h = 1..m_i (the sufficient statistics of beta)
        counts = np.zeros(self.npar)
        for i in range(self.k):
            xi = x[:, i]
            for h in range(1, self.m[i] + 1):
                counts[self.offsets[i] + h - 1] = np.sum(xi == h)
        self.counts = counts

    def eps(self, beta: np.ndarray) -> list[np.ndarray]:
        """Per item the coefficients ``[1, exp(beta_i1), ..., exp(beta_im)]``."""
        return [np.r_[1.0, np.exp(beta[self.offsets[i]:self.offsets[i + 1]])] for i in range(self.k)]


def _times_item(a: np.ndarray, la: np.ndarray, f: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Multiply the polynomials ``a`` (G, R+1) by ``f`` where ``mask`` (G,) is True; rescale."""
    out = a.copy()
    rows = mask
    if rows.any():
        sub = a[rows]
        acc = sub.copy()
        for h in range(1, len(f)):
            acc[:, h:] += f[h] * sub[:, :-h]
        out[rows] = acc
    top = out.max(axis=1)
    top[top <= 0] = 1.0
    return out / top[:, None], la + np.log(top)


def _conv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise product of polynomials ``a`` and ``b`` (G, n), truncated to degree n-1."""
    g, n = a.shape
    if g == 1:
        return np.convolve(a[0], b[0])[:n][None, :]
    pad = np.concatenate([np.zeros((g, n - 1)), b], axis=1)
    win = np.lib.stride_tricks.sliding_window_view(pad, n, axis=1)[:, :, ::-1]  # win[g, r, s] = b[g, r - s]
    return np.einsum("grs,gs->gr", win, a)


def _corr(w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise ``out[g, u] = sum_r w[g, r] b[g, r - u]`` for u = 0..n-1."""
    g, n = w.shape
    if g == 1:
        return np.correlate(w[0], b[0], mode="full")[n - 1:][None, :]
    pad = np.concatenate([w, np.zeros((g, n - 1))], axis=1)
    win = np.lib.stride_tricks.sliding_window_view(pad, n, axis=1)[:, :n, :]  # win[g, u, q] = w[g, u + q]
    return np.einsum("guq,gq->gu", win, b)


def _prefix_suffix(d: CMLData, eps: list[np.ndarray]):
    G, n = d.G, d.rmax + 1
    one = np.zeros((G, n))
    one[:, 0] = 1.0
    pre = [one]
    lpre = [np.zeros(G)]
    for i in range(d.k):
        p, lp = _times_item(pre[-1], lpre[-1], eps[i], d.obs[:, i])
        pre.append(p)
        lpre.append(lp)
    suf = [one] * (d.k + 1)
    lsuf = [np.zeros(G)] * (d.k + 1)
    for i in range(d.k - 1, -1, -1):
        suf[i], lsuf[i] = _times_item(suf[i + 1], lsuf[i + 1], eps[i], d.obs[:, i])
    return pre, lpre, suf, lsuf


def cml_loglik(d: CMLData, beta: np.ndarray) -> float:
    """Conditional log-likelihood ``sum_ih n_ih beta_ih - sum_g sum_r n_gr log gamma_r(S_g)``."""
    eps = d.eps(beta)
    G, n = d.G, d.rmax + 1
    a = np.zeros((G, n))
    a[:, 0] = 1.0
    la = np.zeros(G)
    for i in range(d.k):
        a, la = _times_item(a, la, eps[i], d.obs[:, i])
    with np.errstate(divide="ignore"):
        lg = np.where(d.nr > 0, np.log(np.where(d.nr > 0, a, 1.0)) + la[:, None], 0.0)
    return float(d.counts @ beta - np.sum(d.nr * lg))


def cml_derivatives(d: CMLData, beta: np.ndarray, hessian: bool = True):
    """Log-likelihood, gradient and (optionally) Hessian with respect to ``beta``.

    Gradient: ``n_ih - sum_g sum_r n_gr P(X_i = h | r, S_g)``, with
    ``P(X_i = h | r) = eps_ih gamma^(i)_{r-h} / gamma_r``.  Hessian:
    ``-sum_g sum_r n_gr Cov(T | r)`` with ``T`` the category indicators, the
    cross moments ``P(X_i = h, X_j = l | r) = eps_ih eps_jl gamma^(ij)_{r-h-l} / gamma_r``.
    """
    eps = d.eps(beta)
    G, n, k = d.G, d.rmax + 1, d.k
    pre, lpre, suf, lsuf = _prefix_suffix(d, eps)
    gam, lgam = pre[k], lpre[k]
    pos = d.nr > 0
    with np.errstate(divide="ignore"):
        loglik = float(d.counts @ beta - np.sum(np.where(pos, d.nr * (np.log(np.where(pos, gam, 1.0)) + lgam[:, None]), 0.0)))
    # w[g, r] = n_gr / gamma_r (in the scale of gam)
    w = np.where(pos, d.nr / np.where(pos, gam, 1.0), 0.0)
    # conditional probabilities p[g, r, (i,h)] = P(X_i = h | r, S_g)
    p = np.zeros((G, n, d.npar))
    loo = []
    for i in range(k):
        li = _conv(pre[i], suf[i + 1])
        sc = np.exp(lpre[i] + lsuf[i + 1] - lgam)[:, None] * d.obs[:, i][:, None]
        li = li * sc  # gamma^(i) / exp(lgam): same scale as gam
        loo.append(li)
        for h in range(1, d.m[i] + 1):
            col = d.offsets[i] + h - 1
            p[:, h:, col] = eps[i][h] * li[:, :-h] / np.where(gam[:, h:] > 0, gam[:, h:], 1.0)
    nrp = d.nr[:, :, None] * p
    grad = d.counts - nrp.sum(axis=(0, 1))
    if not hessian:
        return loglik, grad, None
    rows = pos.reshape(G * n)  # only (pattern, score) cells with persons count
    flat = p.reshape(G * n, d.npar)[rows]
    nflat = d.nr.reshape(G * n)[rows]
    H = (flat * nflat[:, None]).T @ flat  # sum n p p'
    # diagonal blocks: E[T_ih T_il | r] = delta_hl p_ih
    diag = nrp.sum(axis=(0, 1))
    H[np.diag_indices(d.npar)] -= diag
    # off-diagonal blocks, items i < j: sum_{g,r} w[g,r] gamma^(ij)_{r-s}, s = h + l, with
    # gamma^(ij) = prefix_{<i} * middle_{i<.<j} * suffix_{>j}.  The suffix is folded into the weights once
    # per j (ws_j[g, u] = sum_r w[g, r] suffix_{>j}[g, r - u]), so each pair costs a short dot product.
    ws = [_corr(w, suf[j + 1]) if j > 0 else np.zeros((G, n)) for j in range(k)]
    for i in range(k - 1):
        a, la = pre[i], lpre[i]
        for j in range(i + 1, k):
            both = d.obs[:, i] & d.obs[:, j]
            if both.any():
                sc = np.exp(la + lsuf[j + 1] - lgam) * both
                top = min(d.m[i] + d.m[j], n - 1)
                cs = np.zeros(top + 1)
                for s_ in range(2, top + 1):
                    cs[s_] = np.sum(sc * np.sum(a[:, : n - s_] * ws[j][:, s_:], axis=1))
                for h in range(1, d.m[i] + 1):
                    for l_ in range(1, d.m[j] + 1):
                        if h + l_ > top:
                            continue
                        val = eps[i][h] * eps[j][l_] * cs[h + l_]
                        r_, c_ = d.offsets[i] + h - 1, d.offsets[j] + l_ - 1
                        H[r_, c_] -= val
                        H[c_, r_] -= val
            a, la = _times_item(a, la, eps[j], d.obs[:, j])
    # H now holds sum n p p' - sum n E[T T'] = -sum n Cov = the Hessian of the log-likelihood
    return loglik, grad, H
