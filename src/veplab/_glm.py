"""One generalised linear model core: binomial (logit), Poisson (log), Gaussian (identity).

Every model in veplab that fits a GLM -- :func:`veplab.models.logit`, the
calibration models of :func:`veplab.validity.calibration`, the propensity
and weighted outcome models of :func:`veplab.outcomes.propensity`, the
starting values of :func:`veplab.models.mixed_logit` -- calls :func:`glm`.
(It belongs in a future ``veplab.models`` subpackage; it is private so that
move changes no public name.)

Model
-----
``g(mu_i) = eta_i = x_i' beta + offset_i`` with the canonical link ``g``
(logit, log, identity) and prior weights ``w_i``, fitted by iteratively
reweighted least squares (Fisher scoring = Newton-Raphson for a canonical
link), as R's ``glm.fit``:

    W_i = w_i mu_eta(eta_i)^2 / V(mu_i),    z_i = eta_i - offset_i + (y_i - mu_i) / mu_eta(eta_i)
    beta <- (X' W X)^{-1} X' W z

from R's starting values (``mustart``: binomial ``(w y + 0.5) / (w + 1)``,
Poisson ``y + 0.1``, Gaussian ``y``), halving a step whenever the deviance
rises.  R stops at a relative deviance change below ``1e-8``; this core
iterates to machine precision (relative change below ``1e-13`` or a step
below ``1e-11``) and takes one more Newton step, so its estimates equal
``glm(..., control = glm.control(epsilon = 1e-14))``.  For the binomial
family ``y`` is the proportion of successes and ``w`` the number of trials
(R's ``glm(cbind(k, m - k) ~ ...)`` is ``glm(k / m ~ ..., weights = m)``).

Deviance, log-likelihood and AIC are R's: binomial
``2 sum w [y log(y/mu) + (1-y) log((1-y)/(1-mu))]`` and ``logLik`` with the
binomial coefficient; Poisson ``2 sum w [y log(y/mu) - (y - mu)]``;
Gaussian ``sum w (y - mu)^2``, ``logLik = -n/2 (log(2 pi D / n) + 1) +
sum(log w)/2`` with one more parameter (the variance) in AIC.  The null
deviance is that of the intercept-only model (refitted with the offset, as
``glm`` does when there is one).

Variances (:meth:`GLMFit.vcov`): ``"model"`` is ``phi (X' W X)^{-1}`` (``phi
= 1`` for binomial and Poisson, the Pearson estimate ``sum w (y -
mu)^2 / (n - k)`` for Gaussian, as ``vcov(glm)``); ``"HC0"``, ``"HC1"``,
``"HC3"``, ``"CR0"``, ``"CR1"`` are the sandwiches of
:mod:`veplab._sandwich` with bread ``(X' W X)^{-1}`` and scores ``s_i = w_i
(y_i - mu_i) x_i`` (R ``sandwich::estfun.glm`` times the dispersion, which
cancels), i.e. ``sandwich::vcovHC(fit, type = )`` and ``vcovCL(fit, cluster
= , type = "HC0" / "HC1")``.

Separation
----------
When a combination of predictors separates successes from failures
(perfect or quasi-perfect separation; for Poisson, a zero count predicted
exactly) the maximum-likelihood estimates are infinite: IRLS drives some
``|eta|`` up without bound.  The fit then ends with fitted probabilities
numerically 0 or 1 (R's ``glm.fit`` warning, given here too), or a last
Newton step that does not shrink (at a real optimum it is ~1e-12; along a
separating direction it stays near 1).  :attr:`GLMFit.suspect` records
either, and :func:`separation` -- the linear program of Konis (2007), as R
``detectseparation`` -- names the terms; callers run it only on a suspect
fit, which keeps the LP (the expensive part at 70,000 rows) off clean fits.

References
----------
McCullagh & Nelder (1989) *Generalized Linear Models*, 2nd ed., ch. 2 and 4
(IRLS, deviance); R ``stats::glm``/``glm.fit`` (R Core Team); Albert &
Anderson (1984) Biometrika 71, 1-10 (existence of the logistic MLE); Konis
(2007) *Linear programming algorithms for detecting separated data in binary
logistic regression models*, DPhil thesis, Oxford (R ``detectseparation``);
Zeileis, Koell & Graham (2020) J Stat Softw 95(1) (``sandwich``).

Examples
--------
>>> import numpy as np
>>> X = np.column_stack([np.ones(6), [0.0, 1, 2, 3, 4, 5]])
>>> fit = glm(X, np.array([0.0, 0, 1, 0, 1, 1]))      # R: glm(y ~ x, binomial)
>>> [round(float(b), 6) for b in fit.coef]
[-3.035069, 1.214028]
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from ._sandwich import ROBUST_TYPES, hat_values, sandwich
from ._validate import InputError

__all__ = ["FAMILIES", "GLMFit", "glm", "separation", "separated_terms", "ROBUST_TYPES", "t_table"]

FAMILIES = ("binomial", "poisson", "gaussian")

_EPS10 = 10 * np.finfo(float).eps  # R's glm.fit threshold for "numerically 0 or 1"
_SUSPECT_MU = 1e-8                 # fitted probability this close to 0/1: check for separation


# --------------------------------------------------------------------------- families
def _linkinv(family: str, eta: np.ndarray) -> np.ndarray:
    if family == "binomial":
        return special.expit(eta)
    if family == "poisson":
        with np.errstate(over="ignore"):
            return np.exp(eta)
    return eta


def _linkfun(family: str, mu: np.ndarray) -> np.ndarray:
    if family == "binomial":
        return special.logit(mu)
    if family == "poisson":
        return np.log(mu)
    return mu


def _variance_weight(family: str, mu: np.ndarray) -> np.ndarray:
    """``mu_eta^2 / V(mu)`` (= ``V(mu)`` for a canonical link)."""
    if family == "binomial":
        return mu * (1.0 - mu)
    if family == "poisson":
        return mu
    return np.ones_like(mu)


def _deviance(family: str, y: np.ndarray, eta: np.ndarray, w: np.ndarray) -> float:
    """Residual deviance from the linear predictor (stable for large ``|eta|``)."""
    if family == "binomial":
        sat = special.xlogy(y, y) + special.xlogy(1.0 - y, 1.0 - y)
        return float(2.0 * np.sum(w * (sat - y * eta + np.logaddexp(0.0, eta))))
    if family == "poisson":
        with np.errstate(over="ignore"):
            mu = np.exp(eta)
        return float(2.0 * np.sum(w * (special.xlogy(y, y) - y * eta - y + mu)))
    r = y - eta
    return float(np.sum(w * r * r))


def _loglik(family: str, y: np.ndarray, eta: np.ndarray, w: np.ndarray, dev: float) -> float:
    """R's ``logLik(glm)`` (``-aic/2`` of the family without the ``2k``)."""
    pos = w > 0
    if family == "binomial":
        ll = float(np.sum(w * (y * eta - np.logaddexp(0.0, eta))))
        if np.all((y == 0) | (y == 1)):  # the binomial coefficient is 1
            return ll
        k = w * y
        comb = special.gammaln(w + 1.0) - special.gammaln(k + 1.0) - special.gammaln(w - k + 1.0)
        return float(np.sum(comb[pos])) + ll
    if family == "poisson":
        with np.errstate(over="ignore"):
            mu = np.exp(eta)
        return float(np.sum(w * (y * eta - mu - special.gammaln(y + 1.0))))
    n = int(pos.sum())
    return float(-0.5 * n * (math.log(2.0 * math.pi * dev / n) + 1.0) + 0.5 * np.sum(np.log(w[pos])))


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, eq=False)
class GLMFit:
    """A fitted GLM (arrays, no names: callers build their own tables).

    ``bread`` is the unscaled inverse information ``(X' W X)^{-1}`` (R
    ``summary(fit)$cov.unscaled``); ``working_weights`` the ``W_i`` at the
    estimates; ``suspect`` whether the fit may be (quasi-)separated (see the
    module docstring); ``boundary`` whether a fitted value is numerically 0
    or 1 (R's warning threshold ``10 * .Machine$double.eps``).
    """

    family: str
    coef: np.ndarray
    bread: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    working_weights: np.ndarray
    X: np.ndarray = dataclasses.field(repr=False)
    y: np.ndarray = dataclasses.field(repr=False)
    prior_weights: np.ndarray = dataclasses.field(repr=False)
    offset: np.ndarray = dataclasses.field(repr=False)
    deviance: float
    null_deviance: float
    loglik: float
    aic: float
    dispersion: float
    df_residual: int
    df_null: int
    converged: bool
    iterations: int
    boundary: bool
    suspect: bool

    @property
    def scores(self) -> np.ndarray:
        """Per-row score contributions ``w_i (y_i - mu_i) x_i`` (canonical links)."""
        return (self.prior_weights * (self.y - self.mu))[:, None] * self.X

    def hat(self) -> np.ndarray:
        """Hat values ``diag(W^{1/2} X (X'WX)^{-1} X' W^{1/2})`` (R ``hatvalues``)."""
        return hat_values(self.X, self.bread, self.working_weights)

    def vcov(self, type: str = "model", *, cluster: np.ndarray | None = None, what: str = "glm") -> np.ndarray:
        """Variance of the coefficients: ``"model"`` or a sandwich type (module docstring)."""
        if type == "model":
            return self.dispersion * self.bread
        if type not in ROBUST_TYPES:
            raise ValueError(f"GLMFit.vcov: unknown type {type!r}")
        hat = self.hat() if type == "HC3" else None
        return sandwich(self.bread, self.scores, type=type, cluster=cluster, hat=hat, what=what)


# --------------------------------------------------------------------------- fitting
def _check_inputs(family: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, offset: np.ndarray) -> None:
    if family not in FAMILIES:
        raise ValueError(f"glm: family must be one of {FAMILIES}, got {family!r}")
    n = X.shape[0]
    if y.shape != (n,) or w.shape != (n,) or offset.shape != (n,):
        raise ValueError("glm: X, y, weights and offset must have the same number of rows")
    for nm, a in (("X", X), ("y", y), ("weights", w), ("offset", offset)):
        if not np.isfinite(a).all():
            raise InputError(f"glm: {nm} holds missing or infinite values; drop those rows first")
    if (w < 0).any():
        raise InputError("glm: negative prior weights")
    if family == "binomial" and ((y < 0) | (y > 1)).any():
        raise InputError("glm: a binomial outcome must be 0/1 or a proportion in [0, 1]")
    if family == "poisson" and (y < 0).any():
        raise InputError("glm: a Poisson outcome must be a non-negative count")


def _start_eta(family: str, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    if family == "binomial":
        return special.logit((w * y + 0.5) / (w + 1.0))
    if family == "poisson":
        return np.log(y + 0.1)
    return y.copy()


def _irls(family: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, offset: np.ndarray,
          start: np.ndarray | None, max_iter: int, pen: np.ndarray) -> tuple[np.ndarray, bool, int, float]:
    """Coefficients, converged, iterations, size of the last Newton step (relative).

    ``pen`` is a ridge penalty: the objective is ``deviance + beta' diag(pen) beta``."""
    P = np.diag(pen)

    def objective(b: np.ndarray) -> float:
        return _deviance(family, y, X @ b + offset, w) + float(b @ (pen * b))

    if start is None:  # one IRLS step from R's mustart
        eta0 = _start_eta(family, y, w)
        mu0 = _linkinv(family, eta0)
        W0 = w * _variance_weight(family, mu0)
        z0 = eta0 - offset + (y - mu0) / np.where(W0 > 0, _variance_weight(family, mu0), 1.0)
        sw = np.sqrt(W0)
        if pen.any():
            Xw0 = X * sw[:, None]
            beta = np.linalg.solve(Xw0.T @ Xw0 + P, Xw0.T @ (z0 * sw))
        else:
            beta = np.linalg.lstsq(X * sw[:, None], z0 * sw, rcond=None)[0]
    else:
        beta = np.asarray(start, dtype=float).copy()
    if family == "gaussian":  # one weighted least-squares solve is the answer; polish once below
        max_iter = min(max_iter, 2)
    d_old = objective(beta)
    converged = False
    it = 0
    last = np.inf
    for it in range(1, max_iter + 1):
        eta = X @ beta + offset
        mu = _linkinv(family, eta)
        W = w * _variance_weight(family, mu)
        grad = X.T @ (w * (y - mu)) - pen * beta
        Xw = X * np.sqrt(W)[:, None]
        H = Xw.T @ Xw + P
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        if not np.all(np.isfinite(step)):
            break
        t = 1.0
        while True:
            d_new = objective(beta + t * step)
            if (np.isfinite(d_new) and d_new <= d_old + 1e-10 * abs(d_old)) or t < 1e-8:
                break
            t /= 2.0
        if not np.isfinite(d_new):
            break
        beta = beta + t * step
        change = abs(d_old - d_new)
        d_old = d_new
        scale = 1.0 + np.max(np.abs(beta))
        if np.max(np.abs(t * step)) < 1e-11 * scale or change < 1e-13 * (abs(d_new) + 0.1):
            converged = True
            break
    # one more Newton step for full precision; its size tells a real optimum (tiny) from a
    # separating direction (stays near 1)
    eta = X @ beta + offset
    mu = _linkinv(family, eta)
    W = w * _variance_weight(family, mu)
    Xw = X * np.sqrt(W)[:, None]
    step = np.linalg.lstsq(Xw.T @ Xw + P, X.T @ (w * (y - mu)) - pen * beta, rcond=None)[0]
    if np.all(np.isfinite(step)):
        new = beta + step
        if objective(new) <= d_old + 1e-10 * abs(d_old):
            beta = new
        last = float(np.max(np.abs(step)) / (1.0 + np.max(np.abs(beta))))
    return beta, converged, it, last


def glm(
    X: np.ndarray,
    y: np.ndarray,
    *,
    family: str = "binomial",
    weights: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    start: np.ndarray | None = None,
    intercept: bool | None = None,
    max_iter: int = 100,
    on_boundary: str = "warn",
    names: list[str] | None = None,
    penalty: np.ndarray | None = None,
    what: str = "glm",
) -> GLMFit:
    """Fit a GLM by IRLS (R ``glm.fit``); see the module docstring for the model.

    Parameters
    ----------
    X : model matrix (n x k, full column rank; an intercept is a column of ones).
    y : outcome: 0/1 or proportions (binomial), counts (Poisson), numbers (Gaussian).
    family : ``"binomial"`` (logit link), ``"poisson"`` (log), ``"gaussian"`` (identity).
    weights : prior weights (binomial: number of trials); default all 1.
    offset : added to the linear predictor (e.g. ``log(exposure)``).
    start : starting coefficients (default: R's ``mustart``).
    intercept : whether the model has an intercept, for the null deviance
        (default: some column of ``X`` is all ones).
    on_boundary : ``"warn"`` (R's ``glm.fit`` warnings: not converged,
        fitted probabilities numerically 0 or 1, fitted rates numerically 0;
        and, for a binomial fit that is :attr:`~GLMFit.suspect`, a warning
        naming the separating terms found by :func:`separation`, which R
        does not give for quasi-separation) or ``"ignore"`` (the caller
        inspects ``converged``/``boundary``/``suspect``).
    names : column names of ``X`` for that warning (default ``x1``, ``x2``, ...).
    penalty : ridge penalty per coefficient ``lambda_j``: maximises ``loglik -
        sum_j lambda_j beta_j^2 / 2``; ``bread`` is then ``(X'WX + diag(lambda))^{-1}``
        (the approximate posterior variance; used by multiple imputation against
        separation, as ``mice``'s ridge).  Default none.
    what : name used in warnings and errors.

    Returns
    -------
    :class:`GLMFit`.

    References
    ----------
    R ``stats::glm.fit``; McCullagh & Nelder (1989), ch. 2.5 (IRLS).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(5), [1.0, 2, 3, 4, 5]])
    >>> fit = glm(X, np.array([2.0, 3, 6, 7, 12]), family="poisson", offset=np.log([1.0, 1, 2, 2, 3]))
    >>> round(fit.deviance, 6), fit.converged           # R: glm(y ~ x + offset(log(t)), poisson)
    (0.08713, True)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    _check_inputs(family, X, y, w, off)
    if on_boundary not in ("warn", "ignore"):
        raise ValueError(f"glm: on_boundary must be 'warn' or 'ignore', got {on_boundary!r}")
    pen = np.zeros(k) if penalty is None else np.broadcast_to(np.asarray(penalty, dtype=float), (k,))
    beta, converged, iters, last = _irls(family, X, y, w, off, start, max_iter, pen)
    eta = X @ beta + off
    mu = _linkinv(family, eta)
    W = w * _variance_weight(family, mu)
    Xw = X * np.sqrt(W)[:, None]
    try:
        bread = np.linalg.inv(Xw.T @ Xw + np.diag(pen))
    except np.linalg.LinAlgError:
        bread = np.full((k, k), np.nan)
    dev = _deviance(family, y, eta, w)
    pos = w > 0
    n_ok = int(pos.sum())
    if intercept is None:
        intercept = bool(np.any(np.all(X == 1.0, axis=0)))
    if intercept and np.any(off != 0) and k > 1:
        null_dev = glm(np.ones((n, 1)), y, family=family, weights=w, offset=off, max_iter=max_iter,
                       on_boundary="ignore", intercept=True, what=what).deviance
    elif intercept:
        ybar = np.full(n, float(np.sum(w * y) / np.sum(w)))
        null_dev = _deviance(family, y, _linkfun(family, ybar) if family != "gaussian" else ybar, w) \
            if 0 < ybar[0] < 1 or family != "binomial" else 0.0
    else:
        null_dev = _deviance(family, y, off, w)
    ll = _loglik(family, y, eta, w, dev)
    npar = k + (1 if family == "gaussian" else 0)
    df_res = n_ok - k
    if family == "gaussian":
        disp = float(np.sum(w * (y - mu) ** 2) / df_res) if df_res > 0 else float("nan")
    else:
        disp = 1.0
    if family == "binomial":
        boundary = bool(np.any(mu[pos] > 1.0 - _EPS10) or np.any(mu[pos] < _EPS10))
        near = bool(np.any(mu[pos] > 1.0 - _SUSPECT_MU) or np.any(mu[pos] < _SUSPECT_MU))
    elif family == "poisson":
        boundary = bool(np.any(mu[pos] < _EPS10))
        near = bool(np.any(mu[pos] < _SUSPECT_MU))
    else:
        boundary = near = False
    suspect = family != "gaussian" and (not converged or near or not (last < 1e-6))
    fit = GLMFit(
        family=family, coef=beta, bread=bread, eta=eta, mu=mu, working_weights=W, X=X, y=y,
        prior_weights=w, offset=off, deviance=dev, null_deviance=float(null_dev), loglik=ll,
        aic=-2.0 * ll + 2.0 * npar, dispersion=disp, df_residual=df_res,
        df_null=n_ok - (1 if intercept else 0), converged=converged, iterations=iters,
        boundary=boundary, suspect=bool(suspect),
    )
    if on_boundary == "warn":
        sep = separated_terms(fit, names or [f"x{j + 1}" for j in range(k)]) if family == "binomial" else None
        if sep is not None and not boundary:
            warnings.warn(
                f"{what}: {', '.join(map(repr, sep))} separate(s) the outcome (perfect or quasi-perfect "
                "separation, Konis 2007): the estimates along them are infinite in truth and their "
                "standard errors meaningless", UserWarning, stacklevel=2)
        if not converged:
            warnings.warn(f"{what}: the IRLS algorithm did not converge in {max_iter} iterations "
                          "(R: 'glm.fit: algorithm did not converge')", UserWarning, stacklevel=2)
        if boundary:
            msg = ("fitted probabilities numerically 0 or 1 occurred" if family == "binomial"
                   else "fitted rates numerically 0 occurred")
            warnings.warn(
                f"{what}: {msg} (R: 'glm.fit: {msg}'): the data are (quasi-)separated -- some "
                "combination of predictors"
                + (f" ({', '.join(map(repr, sep))})" if sep else "")
                + " predicts the outcome exactly for some rows -- so some "
                "estimates are infinite in truth and their standard errors meaningless", UserWarning,
                stacklevel=2)
    return fit


# --------------------------------------------------------------------------- tables
def t_table(names: Sequence[str], est: np.ndarray, se: np.ndarray, df: float, ci: float) -> pd.DataFrame:
    """Coefficient table with t tests on ``df`` degrees of freedom (R ``summary.lm`` /
    ``lmtest::coeftest``): ``term, estimate, se, t, df, p, ci_low, ci_high``, the interval
    ``estimate -/+ t_{df, (1 + ci) / 2} se``.

    >>> t_table(["a"], np.array([2.0]), np.array([1.0]), 10, 0.95)["p"].round(4).tolist()
    [0.0734]
    """
    q = float(stats.t.ppf(0.5 + ci / 2.0, df))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    return pd.DataFrame({"term": list(names), "estimate": est, "se": se, "t": t, "df": float(df),
                         "p": 2.0 * stats.t.sf(np.abs(t), df), "ci_low": est - q * se, "ci_high": est + q * se})


# --------------------------------------------------------------------------- separation
def separation(X: np.ndarray, successes: np.ndarray, trials: np.ndarray, names: list[str]) -> list[str] | None:
    """Detect (quasi-)complete separation by linear programming (Konis 2007; R ``detectseparation``).

    Separation exists when some direction ``b != 0`` has ``x_i'b >= 0`` for every
    row with a success and ``x_i'b <= 0`` for every row with a failure; then the
    likelihood keeps increasing along ``b`` and the estimates are infinite.
    ``successes``/``trials`` are binomial counts per row (0/1 outcomes: ``y``
    and ones).  Returns the non-intercept terms of a separating direction
    (all its terms if only the intercept is involved), or None.

    References
    ----------
    Konis (2007), DPhil thesis, Oxford; R ``detectseparation::detect_separation``.

    >>> X = np.column_stack([np.ones(4), [0.0, 0.0, 1.0, 1.0]])
    >>> separation(X, np.array([0, 0, 1, 1]), np.ones(4), ["(Intercept)", "x"])
    ['x']
    """
    from scipy import optimize

    scale = np.max(np.abs(X), axis=0)
    scale[scale == 0] = 1.0
    Xs = X / scale
    A = np.vstack([-Xs[successes > 0], Xs[(trials - successes) > 0]])
    A = np.unique(np.round(A, 12), axis=0)
    res = optimize.linprog(A.sum(axis=0), A_ub=A, b_ub=np.zeros(len(A)), bounds=[(-1.0, 1.0)] * X.shape[1],
                           method="highs")
    if res.status != 0 or -res.fun <= 1e-7:
        return None
    b = res.x
    involved = [names[j] for j in np.flatnonzero(np.abs(b) > 1e-7) if names[j] != "(Intercept)"]
    return involved or [names[j] for j in np.flatnonzero(np.abs(b) > 1e-7)]


def separated_terms(fit: GLMFit, names: list[str]) -> list[str] | None:
    """Terms of a separating direction of a binomial fit, or None (runs the LP only on a suspect fit)."""
    if not fit.suspect:
        return None
    pos = fit.prior_weights > 0
    X, w, y = fit.X[pos], fit.prior_weights[pos], fit.y[pos]
    return separation(X, w * y, w, names)

