"""Numerical optimisation and derivatives shared by veplab's iterative models.

The mixed models (:func:`veplab.models.mixed_linear`,
:func:`veplab.models.mixed_logit`, lme4's algorithms) and confirmatory factor
analysis (:func:`veplab.factor_analysis.confirmatory`, lavaan's) use these helpers; scipy does
the minimising where it does the job (L-BFGS-B, Nelder-Mead, ``trust-exact``,
``brentq``), this module adds what the R packages do around it.  Depends on
numpy and scipy only, so any subpackage may import it.

Derivatives (central differences):

* :func:`gradient` -- ``g_j = (f(x + h_j e_j) - f(x - h_j e_j)) / (2 h_j)`` with
  ``h_j = h max(1, |x_j|)``;
* :func:`gradient_hessian` -- lme4's ``deriv12``: the same gradient with a fixed
  step ``delta`` and the Hessian from function values,
  ``H_jj = (f(x + d e_j) - 2 f(x) + f(x - d e_j)) / d^2`` and the four-point
  mixed differences ``H_ij = (f(++) - f(+-) - f(-+) + f(--)) / (4 d^2)``;
* :func:`hessian_from_gradient` -- differences of an analytic gradient,
  two-point ``(g(x + d e_j) - g(x - d e_j)) / (2 d)`` (lme4's step 1e-4) or
  lavaan's four-point ``(g(x - 2h) - 8 g(x - h) + 8 g(x + h) - g(x + 2h)) / (12 h)``
  (``lav_model_hessian``), symmetrised.

Minimisers:

* :func:`newton_step` -- ``-H^-1 g`` on the diagonally scaled ``H`` by Cholesky,
  or on its eigenvectors with positive eigenvalues when ``H`` is singular;
* :func:`newton` -- safeguarded Newton (or Fisher scoring, when ``grad_hess``
  returns the expected information) with Armijo step halving, stopping on a
  vanishing Newton decrement or step, giving up when steps stall;
* :func:`trust_newton` -- scipy's ``trust-exact`` on rescaled parameters
  ``u = s x`` with infeasible points (``f = inf``) rejected;
* :func:`newton_polish` -- a few Newton steps with a fixed Hessian within lower bounds;
* :func:`minimize_multistart` and :func:`escape_boundary` -- the best of
  L-BFGS-B runs from several starts, and restarts off a bound where a
  stationary point on it can stop the optimiser;
* :func:`lbfgsb_converged` -- scipy's success, counting L-BFGS-B's "abnormal
  termination in line search" at a converged point as converged (lme4 and
  lavaan judge convergence on the gradient afterwards).

Convergence reporting and intervals:

* :func:`convergence_messages` -- lme4's ``checkConv``: the gradient scaled by
  the Cholesky factor of the Hessian, ``max min(|R^-T g|, |g|) < tol``, and the
  Hessian's eigenvalues (negative: not a minimum; near zero: not identified);
* :func:`bracketed_root` and :func:`profile_interval` -- likelihood-ratio
  (profile) intervals ``{t >= 0 : prof(t) - prof(t_hat) <= crit}`` by Brent's
  method, or safeguarded Newton steps when the profile's derivative is known.

References
----------
Bates, D., Maechler, M., Bolker, B., & Walker, S. (2015). Fitting linear
mixed-effects models using lme4. *Journal of Statistical Software*, 67(1)
(``deriv12``, ``checkConv``).
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
*Journal of Statistical Software*, 48(2) (``lav_model_hessian``).
Nocedal, J., & Wright, S. J. (2006). *Numerical Optimization* (2nd ed.). Springer
(Armijo backtracking, trust-region Newton).
Byrd, R. H., Lu, P., Nocedal, J., & Zhu, C. (1995). A limited memory algorithm
for bound constrained optimization. *SIAM J. Sci. Comput.*, 16, 1190-1208.

Examples
--------
>>> import numpy as np
>>> f = lambda x: (x[0] - 1.0) ** 2 + 3.0 * (x[1] + 2.0) ** 2 + x[0] * x[1]
>>> g, H = gradient_hessian(f, np.zeros(2))
>>> np.round(H, 6).tolist()
[[2.0, 1.0], [1.0, 6.0]]
>>> x, ok, _ = newton(f, lambda z: gradient_hessian(f, z)[:2], np.zeros(2))
>>> ok, np.round(x, 6).tolist()
(True, [2.181818, -2.363636])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from scipy import linalg, optimize

__all__ = [
    "gradient",
    "gradient_hessian",
    "hessian_from_gradient",
    "newton_step",
    "newton",
    "trust_newton",
    "newton_polish",
    "minimize_multistart",
    "escape_boundary",
    "lbfgsb_converged",
    "convergence_messages",
    "bracketed_root",
    "profile_interval",
]

Fun = Callable[[np.ndarray], float]
Grad = Callable[[np.ndarray], np.ndarray]


# =========================================================================== derivatives
def gradient(fun: Fun, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient with relative steps ``h max(1, |x_j|)``."""
    x = np.asarray(x, dtype=float)
    g = np.empty(len(x))
    for j in range(len(x)):
        step = h * max(1.0, abs(x[j]))
        xa = x.copy()
        xa[j] += step
        xs = x.copy()
        xs[j] -= step
        g[j] = (fun(xa) - fun(xs)) / (2.0 * step)
    return g


def gradient_hessian(fun: Fun, x: np.ndarray, fx: float | None = None, delta: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Central finite-difference gradient and Hessian from function values (lme4's ``deriv12``)."""
    x = np.asarray(x, dtype=float)
    k = len(x)
    if fx is None:
        fx = fun(x)
    H = np.empty((k, k))
    g = np.empty(k)

    def at(*moves: tuple[int, float]) -> float:
        z = x.copy()
        for i, dlt in moves:
            z[i] += dlt
        return fun(z)

    for j in range(k):
        fa = at((j, delta))
        fs = at((j, -delta))
        H[j, j] = (fa - 2.0 * fx + fs) / delta**2
        g[j] = (fa - fs) / (2.0 * delta)
        for i in range(j):
            val = (
                at((i, delta), (j, delta))
                - at((i, delta), (j, -delta))
                - at((i, -delta), (j, delta))
                + at((i, -delta), (j, -delta))
            ) / (4.0 * delta**2)
            H[i, j] = H[j, i] = val
    return g, H


def hessian_from_gradient(grad: Grad, x: np.ndarray, delta: float = 1e-4, points: int = 2) -> np.ndarray:
    """Symmetrised Hessian by central differences of a gradient: two-point (lme4, step 1e-4)
    or four-point (``points=4``: lavaan's ``lav_model_hessian``, step 1e-6)."""
    if points not in (2, 4):
        raise ValueError(f"points must be 2 or 4, got {points!r}")
    x = np.asarray(x, dtype=float)
    k = len(x)
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = delta
        if points == 2:
            H[:, j] = (grad(x + e) - grad(x - e)) / (2.0 * delta)
        else:
            H[:, j] = (grad(x - 2 * e) - 8 * grad(x - e) + 8 * grad(x + e) - grad(x + 2 * e)) / (12 * delta)
    return (H + H.T) / 2.0


# =========================================================================== Newton-type minimisers
def newton_step(hess: np.ndarray, grad: np.ndarray) -> np.ndarray | None:
    """``-hess^-1 grad``, via a diagonally scaled Cholesky factor or, when that is (nearly)
    singular, the eigenvectors with positive eigenvalues (directions without curvature
    are left alone).  None when nothing finite can be computed.
    """
    if not (np.all(np.isfinite(hess)) and np.all(np.isfinite(grad))):
        return None
    d = np.sqrt(np.clip(np.diag(hess), 1e-300, None))
    hs = hess / np.outer(d, d)
    try:
        c, low = linalg.cho_factor(hs, lower=True)
        diag = np.diag(c)
        if diag.min() ** 2 > 1e-10 * diag.max() ** 2:
            step = -linalg.cho_solve((c, low), grad / d) / d
            if np.all(np.isfinite(step)):
                return step
    except (linalg.LinAlgError, ValueError):
        pass
    vals, vecs = linalg.eigh(hs)
    keep = vals > 1e-12 * max(vals[-1], 1e-300)
    if not keep.any():
        return None
    vk = vecs[:, keep]
    step = -(vk @ ((vk.T @ (grad / d)) / vals[keep])) / d
    return step if np.all(np.isfinite(step)) else None


def newton(
    fun: Fun,
    grad_hess: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    x0: np.ndarray,
    max_iter: int = 200,
    *,
    stall: int = 5,
) -> tuple[np.ndarray, bool, int]:
    """Safeguarded Newton / Fisher scoring: ``x <- x + t d`` with ``d`` = :func:`newton_step`
    and ``t`` halved until the Armijo condition ``f(x + t d) <= f(x) + 1e-4 t g'd`` holds.

    Converged when the Newton decrement ``-g'd`` is below 1e-15 with ``max|g| < 1e-6``,
    or the step and the change in ``f`` vanish (relative 1e-11, absolute 1e-14).
    Gives up (``converged = False``) when no finite step exists, 40 halvings do not
    satisfy Armijo, or ``stall`` successive steps needed ``t < 0.1`` (the quadratic
    model is poor there: hand over to :func:`trust_newton`).  Returns
    ``(x, converged, iterations)``.
    """
    x = np.array(x0, dtype=float, copy=True)
    f = fun(x)
    if not math.isfinite(f):
        return x, False, 0
    short_steps = 0
    for it in range(1, max_iter + 1):
        grad, hess = grad_hess(x)
        step = newton_step(hess, grad)
        if step is None:
            return x, False, it
        decrement = -float(grad @ step)
        if decrement < 1e-15 and np.max(np.abs(grad)) < 1e-6:
            return x, True, it
        t = 1.0
        for _ in range(40):
            x_new = x + t * step
            f_new = fun(x_new)
            if math.isfinite(f_new) and f_new <= f + 1e-4 * t * float(grad @ step) + 1e-14 * max(1.0, abs(f)):
                break
            t *= 0.5
        else:
            return x, False, it
        x, f_old, f = x_new, f, f_new
        if np.max(np.abs(t * step)) < 1e-11 * (1.0 + np.max(np.abs(x))) and abs(f_old - f) < 1e-14:
            return x, True, it
        short_steps = short_steps + 1 if t < 0.1 else 0
        if short_steps >= stall:
            return x, False, it
    return x, False, max_iter


def trust_newton(
    fun: Fun, grad: Grad, hess: Callable[[np.ndarray], np.ndarray], x0: np.ndarray,
    *, scale: np.ndarray | None = None, max_iter: int = 300, gtol: float = 1e-10,
) -> tuple[np.ndarray, int]:
    """Trust-region Newton (scipy ``trust-exact``) with an exact Hessian, on ``u = scale * x``.

    ``scale`` (e.g. the roots of the information's diagonal) makes the trust
    region sensible whatever the units of the parameters.  Points where
    ``fun`` is not finite are rejected (value ``inf``); if the end point is
    one, ``x0`` is returned.  Returns ``(x, iterations)``.
    """
    x0 = np.asarray(x0, dtype=float)
    s = np.ones_like(x0) if scale is None else np.asarray(scale, dtype=float)

    def fg(u: np.ndarray) -> tuple[float, np.ndarray]:
        x = u / s
        f = fun(x)
        if not math.isfinite(f):
            return math.inf, np.zeros_like(u)
        return f, grad(x) / s

    def h(u: np.ndarray) -> np.ndarray:
        x = u / s
        if not math.isfinite(fun(x)):
            return np.eye(u.size)
        return hess(x) / np.outer(s, s)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = optimize.minimize(fg, x0 * s, jac=True, hess=h, method="trust-exact",
                                options={"gtol": gtol, "maxiter": max_iter})
    x = np.asarray(res.x) / s
    if not math.isfinite(fun(x)):
        return x0, int(res.nit)
    return x, int(res.nit)


def newton_polish(
    fun: Fun, grad: Grad, x: np.ndarray, f: float, H: np.ndarray, lower: np.ndarray, max_iter: int = 8,
) -> tuple[np.ndarray, float]:
    """A few Newton steps with a fixed Hessian ``H`` within lower bounds (coordinates at a
    bound with the gradient pushing out stay fixed), each halved up to 5 times until
    ``f`` does not rise; stops when a step moves less than 1e-10."""
    x = np.asarray(x, dtype=float).copy()
    for _ in range(max_iter):
        g = grad(x)
        free = ~((x <= lower + 1e-12) & (g > 0))
        if not free.any():
            break
        try:
            step = np.linalg.solve(H[np.ix_(free, free)], g[free])
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        accepted = False
        scale = 1.0
        for _half in range(6):
            x_new = x.copy()
            x_new[free] -= scale * step
            x_new = np.maximum(x_new, lower)
            f_new = fun(x_new)
            if np.isfinite(f_new) and f_new <= f:
                accepted = True
                break
            scale /= 2.0
        if not accepted:
            break
        moved = float(np.max(np.abs(x_new - x)))
        x, f = x_new, f_new
        if moved < 1e-10:
            break
    return x, f


# =========================================================================== scipy, several starts
def minimize_multistart(
    fun: Callable[..., Any], starts: Iterable[np.ndarray], *, method: str = "L-BFGS-B",
    bounds: Sequence[tuple[float | None, float | None]] | None = None, jac: bool = False,
    options: dict[str, Any] | None = None, improve: float = 1e-10,
) -> optimize.OptimizeResult:
    """``scipy.optimize.minimize`` from each start; the first result no other beats by more than ``improve``."""
    best = None
    for start in starts:
        res = optimize.minimize(fun, start, jac=jac, method=method, bounds=bounds, options=options)
        if best is None or res.fun < best.fun - improve:
            best = res
    if best is None:
        raise ValueError("minimize_multistart needs at least one start")
    return best


def escape_boundary(
    fun: Callable[..., Any], res: optimize.OptimizeResult, index: int, values: Iterable[float], *,
    bounds: Sequence[tuple[float | None, float | None]], jac: bool = False,
    options: dict[str, Any] | None = None, improve: float = 1e-8, stop_at_first: bool = False,
) -> optimize.OptimizeResult:
    """Restart L-BFGS-B with coordinate ``index`` moved off its bound to each of ``values``.

    A variance parameter at 0 is often a stationary point of a deviance that is
    symmetric in it, where a bounded optimiser stops; a restart that lowers the
    function by more than ``improve`` replaces the fit (the first such one when
    ``stop_at_first``).
    """
    best = res
    for v in values:
        trial = np.array(best.x, dtype=float, copy=True)
        trial[index] = v
        alt = optimize.minimize(fun, trial, jac=jac, method="L-BFGS-B", bounds=bounds, options=options)
        if alt.fun < best.fun - improve:
            best = alt
            if stop_at_first:
                break
    return best


def lbfgsb_converged(res: optimize.OptimizeResult) -> bool:
    """scipy's ``success``, or L-BFGS-B's "abnormal termination in line search" (which at a
    converged point is not a failure; the caller's gradient check decides)."""
    return bool(res.success) or "ABNORMAL" in str(res.message).upper()


# =========================================================================== convergence and intervals
def convergence_messages(g: np.ndarray, H: np.ndarray, singular: bool, grad_tol: float = 0.002) -> list[str]:
    """lme4's ``checkConv``: scaled gradient (unless the fit is singular) and Hessian checks.

    The gradient scaled by the Cholesky factor ``R`` of ``H``,
    ``max min(|R^-T g|, |g|)``, must be below ``grad_tol`` (lme4's
    ``check.conv.grad`` 0.002); ``H`` must have no negative and no
    near-zero eigenvalues (1e-6).  Returns the messages (empty: converged).
    """
    msgs: list[str] = []
    if singular:  # lme4's checkConv stops here for boundary fits
        return msgs
    try:
        R = np.linalg.cholesky(H).T
        scgrad = np.linalg.solve(R, g)
        mingrad = np.minimum(np.abs(scgrad), np.abs(g))
        if np.max(mingrad) > grad_tol:
            msgs.append(
                f"model failed to converge with max|grad| = {np.max(mingrad):.3g} "
                f"(tol = {grad_tol}, lme4's check)"
            )
    except np.linalg.LinAlgError:
        msgs.append("unable to evaluate the scaled gradient (Hessian not positive definite)")
    ev = np.linalg.eigvalsh((H + H.T) / 2.0)
    neg = int(np.sum(ev < -1e-6))
    if neg:
        msgs.append(f"degenerate Hessian with {neg} negative eigenvalue(s)")
    elif np.any(np.abs(ev) < 1e-6):
        msgs.append("Hessian is numerically singular: parameters are not uniquely determined")
    return msgs


def bracketed_root(
    f: Callable[[float], tuple[float, float]], a: float, b: float, fa: float, fb: float, x0: float,
) -> float:
    """Root of ``f`` (returning value and derivative) in ``[a, b]``, where ``fa``/``fb`` have
    opposite signs: Newton steps from ``x0``, bisection when a step leaves the bracket.
    Tolerance 1e-9 (relative)."""
    x = min(max(x0, a), b)
    for _ in range(60):
        fx, dfx = f(x)
        if fx == 0.0:
            return x
        if (fx > 0) == (fa > 0):
            a, fa = x, fx
        else:
            b = x
        step_ok = dfx != 0.0 and np.isfinite(dfx)
        x_new = x - fx / dfx if step_ok else 0.5 * (a + b)
        if not (min(a, b) < x_new < max(a, b)):
            x_new = 0.5 * (a + b)
        if abs(x_new - x) <= 1e-9 * max(1.0, abs(x)) or abs(b - a) <= 1e-10:
            return x_new
        x = x_new
    return x


def profile_interval(
    prof: Callable[[float], Any], theta_hat: float, d_hat: float, crit: float, width: float | None = None,
    with_derivative: bool = False,
) -> tuple[float, float]:
    """Likelihood-ratio interval ``{t >= 0 : prof(t) - d_hat <= crit}`` of a parameter ``t >= 0``.

    ``prof(t)`` is the deviance minimised over the other parameters (with its
    derivative when ``with_derivative``); ``width`` (a Wald-type guess of the
    half-width) only places the first bracket; the ends are found to 1e-9 by
    Brent's method, or by :func:`bracketed_root` with the derivative.  The
    upper end is ``inf`` when the profile never rises by ``crit``.
    """

    def f(t: float) -> float:
        v = prof(t)
        return (v[0] if with_derivative else v) - d_hat - crit

    def fd(t: float) -> tuple[float, float]:
        v, dv = prof(t)
        return v - d_hat - crit, dv

    def root(a: float, b: float, fa: float, fb: float, guess: float) -> float:
        if with_derivative:
            return bracketed_root(fd, a, b, fa, fb, guess)
        return optimize.brentq(f, a, b, xtol=1e-9, rtol=1e-9)

    theta_hat = max(float(theta_hat), 0.0)
    if width is None or not np.isfinite(width) or width <= 0:
        width = max(theta_hat, 0.1)
    f_hat = -crit
    f0 = f(0.0) if theta_hat > 0.0 else f_hat
    if theta_hat == 0.0 or f0 <= 0.0:
        lo = 0.0
    else:
        lo = root(0.0, theta_hat, f0, f_hat, max(theta_hat - width, 0.5 * theta_hat))
    a, b = theta_hat, theta_hat + 1.2 * width
    fb = f(b)
    fa = f_hat
    tries = 0
    while fb <= 0.0 and tries < 60:
        a, fa = b, fb
        b = theta_hat + (b - theta_hat) * 2.0
        fb = f(b)
        tries += 1
    if fb <= 0.0:
        return lo, math.inf
    hi = root(a, b, fa, fb, theta_hat + width)
    return lo, hi
