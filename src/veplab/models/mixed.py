"""Multilevel (mixed-effects) models: respondents nested in prisons.

Three analyses, each matching lme4 (Bates, Maechler, Bolker & Walker 2015,
"Fitting Linear Mixed-Effects Models Using lme4", *Journal of Statistical
Software* 67(1)):

* :func:`mixed_linear` -- linear mixed model, ``lme4::lmer(y ~ x + (1 | group))``
  and correlated random slopes ``(1 + x | group)``, REML (default) or ML;
* :func:`mixed_logit` -- random-intercept logistic regression,
  ``lme4::glmer(y ~ x + (1 | group), family = binomial, nAGQ = k)``, Laplace
  (``nAGQ=1``) or adaptive Gauss-Hermite quadrature (``nAGQ>1``);
* :func:`icc_null` -- the intraclass correlation of an outcome from the null
  model ``y ~ 1 + (1 | group)``, with a profile-likelihood interval.

How the fits are computed
-------------------------
*Linear models* use lme4's profiled deviance.  With relative covariance factor
``Lambda_theta`` (block diagonal, one lower-triangular ``q x q`` block ``T`` per
group), the sparse Cholesky factor ``L_theta`` of ``Lambda' Z' Z Lambda + I`` is
block diagonal too, so every quantity in the JSS paper's equations (the
penalised least-squares solution, ``log|L|^2``, ``log|R_X|^2`` and the penalised
residual sum of squares ``r^2``) is computed from per-group sufficient
statistics ``Z_g'Z_g``, ``Z_g'X_g``, ``Z_g'y_g`` -- vectorised across groups,
with no loop over groups and no pass over the rows once they are summed.  The
REML criterion ``log|L|^2 + log|R_X|^2 + (n-p)(1 + log(2 pi r^2/(n-p)))`` (ML:
``log|L|^2 + n(1 + log(2 pi r^2/n))``) is minimised over ``theta`` (diagonal
elements bounded below by 0) by L-BFGS-B and polished by Newton steps, which
lands at least as close to the optimum as lme4's BOBYQA.  Fixed-effect
covariances are ``sigma^2 (R_X' R_X)^{-1}`` exactly as ``vcov(lmer_fit)``.

*Logistic models*: for given ``(theta, beta)`` the conditional modes ``u_g`` of
the spherical random effects are found by penalised Newton iterations (PIRLS),
independently per group and vectorised across groups.  The Laplace deviance is
``sum_g [d_g(u_g) + u_g^2 + log(1 + theta^2 sum_i w_i mu_i (1 - mu_i))]``; with
``nAGQ = k > 1`` the integral over each group's random effect is evaluated by
adaptive Gauss-Hermite quadrature with ``k`` nodes centred at the mode and
scaled by the conditional curvature (lme4's ``GHrule``).  As glmer's second
stage does, the deviance is minimised jointly over ``(theta, beta)`` by
L-BFGS-B with the exact gradient (implicit differentiation through the modes,
for the Laplace and the quadrature deviance alike) and polished by Newton
steps.  Standard errors follow ``vcov.merMod`` in lme4 1.1-31 (the Debian
version the tests use): ``use.hessian`` defaults to TRUE for GLMMs with
``nAGQ > 0``, so the covariance is the fixed-effect block of ``2 H^{-1}``,
``H`` the Hessian of the deviance over ``(theta, beta)`` at the optimum.
lme4 gets ``H`` by central finite differences of the deviance (``deriv12``,
step 1e-4); veplab by central differences (same step) of the exact gradient.

lme4's own Laplace numbers carry an error from its PIRLS tolerance
(``glmerControl(tolPwrss = 1e-7)``): the modes are not fully converged, so its
Laplace deviance is off by ~1e-4 and its finite-difference Hessian is noisy --
on lme4's ``cbpp`` example its standard errors change by up to 1.3 % when the
tolerance is tightened.  veplab converges the modes to machine precision and
agrees with ``glmer(..., control = glmerControl(tolPwrss = 1e-12))`` to about
1e-6; with lme4's defaults, estimates and variances agree to 1e-3 and standard
errors to about 1 %.  (Adaptive quadrature, ``nAGQ > 1``, is insensitive to
the centre of the nodes, so there lme4's defaults agree to 1e-5.)

Differences from lme4, on purpose
---------------------------------
* Wald inference: ``t``/``z`` statistics, normal p-values and normal intervals
  (``confint(fit, method = "Wald")``); lme4 gives no p-values and no degrees of
  freedom.  Satterthwaite/Kenward-Roger degrees of freedom are out of scope.
* Rank-deficient fixed effects raise :class:`~veplab._validate.InputError`
  naming the collinear terms (lme4 drops columns with a message).
* Rows with missing values in any model variable (including the group column)
  are dropped as R's ``na.omit`` does, but with a warning and ``n_dropped`` in
  the result.
* For aggregated binomial data (``trials=``) fitted with ``nAGQ > 1``, lme4's
  ``logLik`` leaves out the saturated-model constant
  ``sum log dbinom(y, n, y/n)`` (its Laplace ``logLik`` includes it).  veplab
  always reports the full binomial log-likelihood, so AIC/BIC are comparable
  across ``nAGQ``.  For 0/1 data the two agree.
* lme4's "very large eigenvalue - rescale variables?" check is not repeated
  (it fires on large data sets); negative or zero Hessian eigenvalues and a
  large scaled gradient (lme4's ``check.conv.grad``, tolerance 0.002) do warn.
* Intervals for the ICC are likelihood-ratio (profile) intervals for ``theta``
  (``beta``, and ``sigma`` for linear models, profiled out), which lme4
  computes only via ``profile()``/``confint()`` on other scales.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .. import _optim
from .._glm import glm, separated_terms
from .._results import Result
from .._validate import InputError, check_ci, check_choice, format_rows, numeric_series
from ._formula import Design, check_full_rank, design_matrix, formula_variables, split_formula

__all__ = [
    "mixed_linear",
    "mixed_logit",
    "icc_null",
    "MixedLinearResult",
    "MixedLogitResult",
    "ClusterIccResult",
    "SingularFitWarning",
    "ConvergenceWarning",
]

LOG_2PI = math.log(2.0 * math.pi)
LOGISTIC_VAR = math.pi**2 / 3.0
SINGULAR_TOL = 1e-4  # lme4::isSingular default
GRAD_TOL = 0.002  # lme4 check.conv.grad default


class SingularFitWarning(UserWarning):
    """A variance component is estimated at (or next to) zero (lme4's isSingular)."""


class ConvergenceWarning(UserWarning):
    """The optimiser did not reach a clear optimum."""


# ---------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Data:
    y: np.ndarray  # outcome (successes for binomial)
    X: np.ndarray
    names: list[str]
    Z: np.ndarray
    z_names: list[str]
    codes: np.ndarray  # group index per row, rows sorted by group
    levels: list[Any]
    sizes: np.ndarray
    starts: np.ndarray
    n_dropped: int
    trials: np.ndarray | None
    outcome: str
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict)


def _is_identifier(name: str) -> bool:
    return name.isidentifier()


def _q(name: str) -> str:
    """Column name usable in a formula."""
    return name if _is_identifier(name) else f"Q({name!r})"


def _prepare(
    df: pd.DataFrame,
    formula: str,
    group: str,
    *,
    what: str,
    re_formula: str | None = None,
    trials: str | None = None,
) -> _Data:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    if df.columns.duplicated().any():
        dups = list(df.columns[df.columns.duplicated()])
        raise InputError(f"{what}: duplicate column names {dups}; rename them")
    if not isinstance(group, str) or group not in df.columns:
        raise InputError(
            f"{what}: group={group!r} is not a column of the data; name the column that "
            "identifies the clusters (e.g. 'prison')"
        )
    lhs, rhs = split_formula(formula, what=what)
    if lhs.startswith("Q(") and lhs.endswith(")"):
        try:
            lhs = str(ast.literal_eval(lhs[2:-1]))
        except (ValueError, SyntaxError):
            raise InputError(
                f"{what}: cannot read the outcome {lhs!r}; write Q('column name')"
            ) from None
    if lhs not in df.columns:
        if lhs.startswith("cbind("):
            raise InputError(
                f"{what}: write aggregated binomial data as 'successes ~ ...' with "
                "trials='n_column' instead of cbind(successes, failures)"
            )
        raise InputError(
            f"{what}: the outcome {lhs!r} (left of '~') is not a column of the data; "
            "the outcome must be a plain column name"
        )
    fixed_vars = formula_variables(rhs, df.columns, what=what)
    re_vars: list[str] = []
    re_rhs = "1"
    if re_formula is not None:
        re_lhs, re_rhs = split_formula(
            re_formula if "~" in str(re_formula) else f"~{re_formula}", what=what, need_lhs=False
        )
        if re_lhs:
            raise InputError(f"{what}: re_formula {re_formula!r} must be one-sided, like '~x'")
        re_vars = formula_variables(re_rhs, df.columns, what=what, side="re_formula")
    if trials is not None and trials not in df.columns:
        raise InputError(f"{what}: trials={trials!r} is not a column of the data")
    if group in fixed_vars or group == lhs:
        raise InputError(
            f"{what}: the group column {group!r} also appears in the formula; the random "
            "intercept already accounts for it"
        )
    needed: list[str] = []
    for c in [lhs, *fixed_vars, *re_vars, *([trials] if trials else []), group]:
        if c not in needed:
            needed.append(c)
    sub = df[needed]
    na = sub.isna()
    bad = na.any(axis=1).to_numpy()
    n_dropped = int(bad.sum())
    if n_dropped:
        counts = {c: int(na[c].sum()) for c in needed if na[c].any()}
        detail = ", ".join(
            (f"group column {c!r}: {k}" if c == group else f"{c!r}: {k}") for c, k in counts.items()
        )
        warnings.warn(
            f"{what}: dropped {n_dropped} of {len(sub)} rows with missing values "
            f"({detail}; {format_rows(list(sub.index[bad]))}) -- listwise deletion as R's "
            "na.omit does; the result's n_dropped records it. Impute or recode first if "
            "these rows matter.",
            UserWarning,
            stacklevel=3,
        )
    data = sub.loc[~bad]
    if len(data) == 0:
        raise InputError(f"{what}: no complete rows left after dropping missing values")
    codes, uniques = pd.factorize(data[group], sort=True)
    order = np.argsort(codes, kind="stable")
    data = data.iloc[order]
    codes = codes[order]
    y = numeric_series(data[lhs], what=what, name=lhs).to_numpy(dtype=float)
    if not np.all(np.isfinite(y)):
        raise InputError(f"{what}: outcome {lhs!r} has infinite values; recode them")
    design = design_matrix(rhs, data, what=what)
    X = design.matrix
    bad_x = ~np.isfinite(X).all(axis=0)
    if bad_x.any():
        cols = [design.names[j] for j in np.flatnonzero(bad_x)]
        raise InputError(
            f"{what}: fixed-effect columns {cols} have infinite or undefined values "
            "(log of 0?); fix the transformation"
        )
    if X.shape[1] == 0:
        raise InputError(
            f"{what}: the formula {formula!r} has no fixed effects; keep the intercept (~ 1)"
        )
    check_full_rank(X, design.names, what=what)
    if re_rhs.strip() == "1":
        zdes = Design(np.ones((len(data), 1)), ["(Intercept)"], ["Intercept"], True)
    else:
        zdes = design_matrix(re_rhs, data, what=what, side="re_formula")
    if zdes.matrix.shape[1] == 0:
        raise InputError(f"{what}: re_formula {re_formula!r} defines no random effects")
    tr = None
    if trials is not None:
        tr = numeric_series(data[trials], what=what, name=trials).to_numpy(dtype=float)
    sizes = np.bincount(codes, minlength=len(uniques))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    # people per factor level (with trials=, each row stands for its trials)
    counts = {name: {lev: int(round(k)) for lev, k in levs.items()}
              for name, levs in design.level_counts(tr).items()}
    return _Data(
        y=y,
        X=X,
        names=design.names,
        Z=zdes.matrix,
        z_names=zdes.names,
        codes=codes.astype(np.intp),
        levels=list(uniques),
        sizes=sizes,
        starts=starts,
        n_dropped=n_dropped,
        trials=tr,
        outcome=lhs,
        factor_counts=counts,
    )


def _check_groups(d: _Data, *, what: str, group: str, linear: bool) -> None:
    G = len(d.levels)
    n = len(d.y)
    if G < 2:
        raise InputError(
            f"{what}: the group column {group!r} has {G} level(s) in the complete rows; a "
            "multilevel model needs at least 2 groups (lme4 stops here too)"
        )
    singletons = int((d.sizes == 1).sum())
    if not linear and d.trials is None and G >= n:
        raise InputError(
            f"{what}: every {group!r} group has a single 0/1 row, so the group variance is "
            "not identifiable (lme4: 'number of levels of each grouping factor must be < "
            "number of observations'); use ordinary logistic regression"
        )
    if linear:
        if G >= n:
            raise InputError(
                f"{what}: every {group!r} group has a single row, so the group variance and "
                "the residual variance cannot be told apart (lme4: 'number of levels of each "
                "grouping factor must be < number of observations')"
            )
        q = d.Z.shape[1]
        if q * G >= n:
            raise InputError(
                f"{what}: {q * G} random effects for {n} observations: too few rows per "
                f"{group!r} group for random slopes (lme4 stops here too); drop re_formula"
            )
    if singletons > G / 2:
        warnings.warn(
            f"{what}: {singletons} of {G} {group!r} groups have a single respondent; such "
            "groups inform the between-group variance only weakly, so its estimate (and the "
            "ICC) rests on the other groups. Consider merging small groups.",
            UserWarning,
            stacklevel=3,
        )


def _wald_table(names, est, se, ci: float, stat: str) -> pd.DataFrame:
    est = np.asarray(est, dtype=float)
    se = np.asarray(se, dtype=float)
    z = stats.norm.ppf(0.5 + ci / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    p = 2.0 * stats.norm.sf(np.abs(t))
    return pd.DataFrame(
        {
            "term": list(names),
            "estimate": est,
            "se": se,
            stat: t,
            "p": p,
            "ci_low": est - z * se,
            "ci_high": est + z * se,
        }
    )


def _fmt_table(df: pd.DataFrame) -> str:
    shown = df.astype(object).where(df.notna(), "")
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]):
            shown[c] = [("" if pd.isna(v) else f"{v:.6g}") for v in df[c]]
    return shown.to_string(index=False)


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
            best = _optim.escape_boundary(fun, best, j, (0.01, 0.1, 0.5), bounds=bounds,
                                          options=dict(ftol=1e-15, gtol=1e-10, maxiter=5000))
    x, f = best.x, float(best.fun)
    g, H = _optim.gradient_hessian(fun, x, fx=f)
    x, f = _optim.newton_polish(fun, lambda z: _optim.gradient(fun, z, 1e-5), x, f, H, core.lower)
    g, H = _optim.gradient_hessian(fun, x, fx=f)
    # lme4's gradient check (in the caller) decides convergence
    return x, f, g, H, _optim.lbfgsb_converged(best)


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


# ---------------------------------------------------------------------------
# result objects
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class _MixedBase(Result):
    formula: str
    group: str
    outcome: str
    n: int
    n_groups: int
    n_dropped: int
    ci: float
    intercept_var: float
    intercept_sd: float
    icc: float
    icc_ci_low: float
    icc_ci_high: float
    loglik: float
    deviance: float
    aic: float
    bic: float
    npar: int
    singular: bool
    converged: bool
    fixed_effects: pd.DataFrame = dataclasses.field(repr=False)
    variance_components: pd.DataFrame = dataclasses.field(repr=False)
    vcov: pd.DataFrame = dataclasses.field(repr=False)
    theta: tuple[float, ...] = dataclasses.field(repr=False)
    messages: tuple[str, ...] = dataclasses.field(repr=False)
    ranef_table: pd.DataFrame = dataclasses.field(repr=False)
    #: people per level of each categorical / two-valued predictor (read-only; see LogitResult)
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def tidy(self) -> pd.DataFrame:
        """The fixed-effects table (term, estimate, se, ...), e.g. for
        :func:`veplab.missing.pool` over multiply imputed data."""
        return self.fixed_effects.copy()

    def random_effects(self) -> pd.DataFrame:
        """Conditional modes of the random effects (lme4's ``ranef(fit, condVar = TRUE)``).

        Tidy: one row per group and random-effect term with ``estimate`` (the
        conditional mode / BLUP), ``se`` (the conditional standard deviation,
        ``sqrt`` of lme4's ``postVar``), a normal interval ``ci_low``/``ci_high``
        at the result's ``ci`` level (as in lme4's caterpillar plots) and ``n``,
        the group's number of rows.
        """
        return self.ranef_table.copy()

    def _header(self) -> list[str]:
        return [
            f"Formula: {self.formula}   group: {self.group}",
            f"n = {self.n} rows in {self.n_groups} groups"
            + (f" ({self.n_dropped} rows with missing values dropped)" if self.n_dropped else ""),
        ]


@dataclasses.dataclass(frozen=True, eq=False)
class MixedLinearResult(_MixedBase):
    """Linear mixed model fit (see :func:`mixed_linear`).

    Scalars: ``n``, ``n_groups``, ``n_dropped``, ``sigma``/``residual_var``
    (residual SD/variance), ``intercept_var``/``intercept_sd`` (group
    intercept), ``icc`` with its profile interval (random-intercept models only;
    NaN with random slopes, where the ICC depends on the slope variable),
    ``loglik`` (the REML log-likelihood for REML fits, as lme4's ``logLik``),
    ``reml_criterion``, ``deviance`` (``-2 loglik``), ``aic``, ``bic``, ``npar``,
    ``singular``, ``converged``.  Tables: ``fixed_effects``,
    ``variance_components`` (lme4's ``as.data.frame(VarCorr(fit))``: group,
    var1, var2, vcov, sdcor), ``vcov``; :meth:`random_effects`.
    """

    re_formula: str | None = None
    reml: bool = True
    sigma: float = math.nan
    residual_var: float = math.nan
    reml_criterion: float = math.nan

    def summary(self) -> str:
        fit = "REML" if self.reml else "maximum likelihood"
        lines = [f"Linear mixed model fit by {fit} (as lme4::lmer)"] + self._header()
        crit = (
            f"REML criterion {self.reml_criterion:.6g}   "
            if self.reml
            else f"deviance {self.deviance:.6g}   "
        )
        lines.append(
            crit + f"logLik {self.loglik:.6g}   AIC {self.aic:.6g}   BIC {self.bic:.6g}"
        )
        lines.append("Random effects:")
        lines.append(_fmt_table(self.variance_components))
        lines.append(f"Fixed effects (Wald t, normal p and {self.ci:.0%} intervals):")
        lines.append(_fmt_table(self.fixed_effects))
        if not math.isnan(self.icc):
            lines.append(
                f"ICC = {self.icc:.4g} ({self.ci:.0%} profile CI {self.icc_ci_low:.4g} to "
                f"{self.icc_ci_high:.4g})"
            )
        lines.extend(f"Note: {m}" for m in self.messages)
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True, eq=False)
class MixedLogitResult(_MixedBase):
    """Random-intercept logistic model fit (see :func:`mixed_logit`).

    Scalars: ``n``, ``n_groups``, ``n_dropped``, ``nAGQ``, ``intercept_var`` /
    ``intercept_sd`` (between-group variance/SD on the logit scale), ``icc``
    (latent-scale, ``var / (var + pi^2/3)``) with its profile interval,
    ``loglik``, ``deviance`` (``-2 loglik``), ``aic``, ``bic``, ``npar``,
    ``singular``, ``converged``.  ``fixed_effects`` has log-odds estimates with
    Wald ``z`` tests and intervals and the odds ratios ``odds_ratio``,
    ``or_ci_low``, ``or_ci_high``.  ``factor_counts`` and ``outcome_counts``
    (people with the outcome 0 and 1; with ``trials=``, failures and
    successes) are read by :func:`veplab.privacy.model_disclosure`.
    """

    nAGQ: int = 1
    outcome_counts: dict[Any, int] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def summary(self) -> str:
        how = (
            "Laplace approximation"
            if self.nAGQ == 1
            else f"adaptive Gauss-Hermite, nAGQ = {self.nAGQ}"
        )
        lines = [f"Logistic mixed model fit by maximum likelihood ({how}; as lme4::glmer)"]
        lines += self._header()
        lines.append(
            f"logLik {self.loglik:.6g}   deviance {self.deviance:.6g}   AIC {self.aic:.6g}   "
            f"BIC {self.bic:.6g}"
        )
        lines.append("Random effects (logit scale):")
        lines.append(_fmt_table(self.variance_components))
        lines.append(f"Fixed effects (Wald z, normal p and {self.ci:.0%} intervals; odds ratios):")
        lines.append(_fmt_table(self.fixed_effects))
        lines.append(
            f"Latent-scale ICC = {self.icc:.4g} ({self.ci:.0%} profile CI {self.icc_ci_low:.4g} "
            f"to {self.icc_ci_high:.4g})"
        )
        lines.extend(f"Note: {m}" for m in self.messages)
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True, eq=False)
class ClusterIccResult(Result):
    """ICC of a clustering (share of variance between groups, such as prisons) from a null
    random-intercept model (see :func:`icc_null`); agreement ICCs between raters are
    :class:`veplab.reliability.IccResult`."""

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    n_groups: int
    n_dropped: int
    family: str
    between_var: float
    within_var: float
    ci: float = 0.95
    method: str = ""


# ---------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------


def _ranef_frame(levels, names, est, sd, sizes, ci, group) -> pd.DataFrame:
    G, q = est.shape
    z = stats.norm.ppf(0.5 + ci / 2.0)
    out = pd.DataFrame(
        {
            group: np.repeat(np.asarray(levels, dtype=object), q),
            "term": np.tile(np.asarray(names, dtype=object), G),
            "estimate": est.ravel(),
            "se": sd.ravel(),
            "n": np.repeat(sizes, q),
        }
    )
    out["ci_low"] = out["estimate"] - z * out["se"]
    out["ci_high"] = out["estimate"] + z * out["se"]
    return out[[group, "term", "estimate", "se", "ci_low", "ci_high", "n"]]


def mixed_linear(
    df: pd.DataFrame,
    formula: str,
    group: str,
    *,
    re_formula: str | None = None,
    reml: bool = True,
    ci: float = 0.95,
) -> MixedLinearResult:
    """Linear mixed model with one grouping factor, as ``lme4::lmer``.

    ``mixed_linear(df, "y ~ x", "prison")`` is ``lmer(y ~ x + (1 | prison))``;
    with ``re_formula="~x"`` it is ``lmer(y ~ x + (1 + x | prison))``
    (correlated random intercept and slope; ``"~0 + x"`` gives ``(0 + x | prison)``).

    Model: ``y = X beta + Z b + e``, ``b_g ~ N(0, Sigma)``, ``e ~ N(0, sigma^2 I)``,
    with ``Sigma = sigma^2 T T'`` and ``T`` lower triangular (lme4's relative
    covariance factor, parameter ``theta``).  Estimated by minimising lme4's
    profiled REML criterion (or ML deviance when ``reml=False``); see the
    module docstring and Bates et al. (2015), JSS 67(1), section 3.

    Parameters
    ----------
    df : DataFrame, one row per respondent.
    formula : fixed part, R style: ``"y ~ x1 + x2 + C(cat)"``, ``factor(cat)``,
        ``a:b``, ``a*b``, ``I(x^2)``.  Categorical predictors (strings,
        booleans, pandas Categoricals, ``C()``/``factor()``) get treatment
        contrasts with the first level as reference, and coefficients are named
        as R names them (``gendermale``).  Prison-level predictors (constant
        within group, e.g. occupancy) enter like any other column.
    group : column identifying the clusters (e.g. ``"prison"``).
    re_formula : random-effects terms within ``group`` (default: random intercept).
    reml : REML (default, as lmer) or maximum likelihood (``REML = FALSE``; use
        it to compare models that differ in their fixed effects).
    ci : level of the Wald intervals for the fixed effects and of the profile
        interval for the ICC.

    Returns
    -------
    MixedLinearResult with ``fixed_effects`` (term, estimate, se, t, p, ci_low,
    ci_high: ``t`` is lme4's "t value", p-values and intervals use the normal
    reference distribution -- no degrees of freedom, as lme4), variance
    components, ``icc = tau^2 / (tau^2 + sigma^2)`` for random-intercept models
    with a likelihood-ratio interval (the ICC equals ``theta^2/(1+theta^2)``;
    the interval is ``{theta : d(theta) - d(theta_hat) <= chi^2_1(ci)}`` on the
    profiled REML/ML criterion), fit statistics as lme4's ``logLik``, ``AIC``,
    ``BIC`` (REML log-likelihood for REML fits) and :meth:`random_effects`.

    Missing values: rows missing any model variable (or the group) are dropped
    with a warning (``n_dropped``).  A rank-deficient fixed-effect matrix
    raises :class:`~veplab._validate.InputError` naming the collinear terms.
    A singular fit (a variance at zero, lme4's ``isSingular``) warns with
    :class:`SingularFitWarning`.

    References
    ----------
    Bates D, Mächler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models using
    lme4. Journal of Statistical Software 67(1), 1-48.
    Snijders TAB, Bosker RJ (2012). Multilevel Analysis: An Introduction to Basic and
    Advanced Multilevel Modeling, 2nd ed. Sage, London.
    Agrees with ``lme4::lmer`` (REML and ML; tests/reference/factors_mixed.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> prison = np.repeat(np.arange(20), 15)              # 20 prisons of 15
    >>> grievance = rng.normal(size=300)
    >>> u = rng.normal(scale=0.6, size=20)[prison]         # prison effects
    >>> df = pd.DataFrame({"prison": prison, "grievance": grievance,
    ...                    "support": 0.5 * grievance + u + rng.normal(size=300)})
    >>> fit = mixed_linear(df, "support ~ grievance", "prison")
    >>> fit.fixed_effects[["term", "estimate", "ci_low", "ci_high"]].round(2)
              term  estimate  ci_low  ci_high
    0  (Intercept)     -0.16   -0.40     0.09
    1    grievance      0.51    0.39     0.64
    >>> round(fit.icc, 2)
    0.21
    """
    what = "mixed_linear"
    ci = check_ci(ci)
    if not isinstance(reml, (bool, np.bool_)):
        raise InputError(f"{what}: reml must be True or False, got {reml!r}")
    d = _prepare(df, formula, group, what=what, re_formula=re_formula)
    _check_groups(d, what=what, group=group, linear=True)
    if np.ptp(d.y) == 0:
        raise InputError(f"{what}: the outcome {d.outcome!r} is constant; nothing to model")
    core = _LmmCore(d, bool(reml))
    theta, crit_val, g, H, ok = _fit_lmm(core)
    s = core.solve(theta)
    if s is None:  # pragma: no cover - optimum is always evaluable
        raise InputError(f"{what}: the model could not be fitted (singular system)")
    T, L, LX = s["T"], s["L"], s["LX"]
    beta_e = np.linalg.solve(LX.T, s["cb"])  # PLS coefficients for the OLS residuals
    rhs_u = s["cu"] - np.einsum("gqp,p->gq", s["RZX"], beta_e)
    u = np.linalg.solve(np.transpose(L, (0, 2, 1)), rhs_u[:, :, None])[:, :, 0]
    beta = beta_e + core.beta_ols
    b = u @ T.T  # b_g = T u_g
    fitted = d.X @ beta + np.sum(d.Z * b[d.codes], axis=1)
    r2 = float(np.sum((d.y - fitted) ** 2) + np.sum(u**2))
    n, p, q = core.n, core.p, core.q
    crit_val = core.criterion(s, r2)
    sigma2 = r2 / (n - p if core.reml else n)
    sigma = math.sqrt(sigma2)
    LXinv = np.linalg.inv(LX)
    V = sigma2 * (LXinv.T @ LXinv)
    se = np.sqrt(np.diag(V))
    fixed = _wald_table(d.names, beta, se, ci, "t")
    # variance components, lme4's as.data.frame(VarCorr()) order
    Sigma = sigma2 * (T @ T.T)
    sds = np.sqrt(np.diag(Sigma))
    rows = []
    for i in range(q):
        rows.append((group, d.z_names[i], None, Sigma[i, i], sds[i]))
    for i in range(q):
        for j in range(i + 1, q):
            corr = Sigma[i, j] / (sds[i] * sds[j]) if sds[i] > 0 and sds[j] > 0 else math.nan
            rows.append((group, d.z_names[i], d.z_names[j], Sigma[i, j], corr))
    rows.append(("Residual", None, None, sigma2, sigma))
    vc = pd.DataFrame(rows, columns=["group", "var1", "var2", "vcov", "sdcor"])
    # conditional modes and variances: sigma^2 T (L L')^{-1} T'
    Minv = np.linalg.solve(L, np.broadcast_to(T.T, L.shape))  # L^{-1} T'
    cond_var = sigma2 * np.einsum("gki,gkj->gij", Minv, Minv)
    cond_sd = np.sqrt(np.diagonal(cond_var, axis1=1, axis2=2))
    ranef = _ranef_frame(d.levels, d.z_names, b, cond_sd, d.sizes, ci, group)
    # fit statistics (lme4: logLik is -REMLcrit/2 for REML fits)
    npar = p + len(theta) + 1
    loglik = -crit_val / 2.0
    aic = crit_val + 2.0 * npar
    bic = crit_val + math.log(n) * npar
    singular = bool(np.any(theta[core.lower == 0] < SINGULAR_TOL))
    messages = []
    if singular:
        msg = (
            f"boundary (singular) fit: a {group!r} variance component is estimated at or "
            "next to zero (or the random effects are perfectly correlated), as lme4's "
            "isSingular() flags; the data do not support this random-effects structure -- "
            "simplify it (drop the random slope) or report the variance as ~0"
        )
        messages.append(msg)
        warnings.warn(f"{what}: {msg}", SingularFitWarning, stacklevel=2)
    conv = _optim.convergence_messages(g, H, singular, GRAD_TOL)
    if not ok:
        conv.append("the optimiser stopped before meeting its convergence criteria")
    for msg in conv:
        warnings.warn(f"{what}: {msg}", ConvergenceWarning, stacklevel=2)
    messages.extend(conv)
    # ICC and its profile interval (random intercept only)
    int_idx = d.z_names.index("(Intercept)") if "(Intercept)" in d.z_names else None
    icc = icc_lo = icc_hi = math.nan
    if q == 1 and int_idx == 0:
        th = float(theta[0])
        icc = th**2 / (1.0 + th**2)
        crit = stats.chi2.ppf(ci, 1)
        width = stats.norm.ppf(0.5 + ci / 2.0) * math.sqrt(2.0 / H[0, 0]) if H[0, 0] > 0 else None
        lo, hi = _optim.profile_interval(
            lambda t: core.deviance(np.array([t])), th, crit_val, crit, width
        )
        icc_lo = lo**2 / (1.0 + lo**2)
        icc_hi = 1.0 if math.isinf(hi) else hi**2 / (1.0 + hi**2)
    int_var = float(Sigma[int_idx, int_idx]) if int_idx is not None else math.nan
    return MixedLinearResult(
        formula=formula,
        group=group,
        outcome=d.outcome,
        n=n,
        n_groups=len(d.levels),
        n_dropped=d.n_dropped,
        ci=ci,
        intercept_var=int_var,
        intercept_sd=math.sqrt(int_var) if not math.isnan(int_var) else math.nan,
        icc=icc,
        icc_ci_low=icc_lo,
        icc_ci_high=icc_hi,
        loglik=loglik,
        deviance=crit_val,
        aic=aic,
        bic=bic,
        npar=npar,
        singular=singular,
        converged=not conv,
        fixed_effects=fixed,
        variance_components=vc,
        vcov=pd.DataFrame(V, index=d.names, columns=d.names),
        theta=tuple(float(t) for t in theta),
        messages=tuple(messages),
        ranef_table=ranef,
        factor_counts=d.factor_counts,
        re_formula=re_formula,
        reml=bool(reml),
        sigma=sigma,
        residual_var=sigma2,
        reml_criterion=crit_val if reml else math.nan,
    )


def _binomial_outcome(d: _Data, *, what: str, trials: str | None) -> tuple[np.ndarray, np.ndarray]:
    y = d.y
    if trials is None:
        bad = ~np.isin(y, (0.0, 1.0))
        if bad.any():
            vals = sorted(set(np.unique(y[bad]).tolist()))[:5]
            raise InputError(
                f"{what}: the outcome {d.outcome!r} must be coded 0/1 (or True/False); found "
                f"other values {vals} in {int(bad.sum())} rows. Recode it, or for counts out of "
                "n trials pass trials='n_column'"
            )
        return y.copy(), np.ones_like(y)
    m = d.trials
    assert m is not None
    if np.any(m < 1) or np.any(m != np.round(m)):
        raise InputError(f"{what}: trials must be whole numbers >= 1")
    if np.any(y < 0) or np.any(y > m) or np.any(y != np.round(y)):
        raise InputError(
            f"{what}: with trials=, the outcome {d.outcome!r} is the number of successes: "
            "whole numbers between 0 and the number of trials"
        )
    return y.copy(), m.astype(float)


def mixed_logit(
    df: pd.DataFrame,
    formula: str,
    group: str,
    *,
    nAGQ: int = 1,
    ci: float = 0.95,
    trials: str | None = None,
) -> MixedLogitResult:
    """Random-intercept logistic regression, as ``lme4::glmer(family = binomial)``.

    ``mixed_logit(df, "y ~ x", "prison")`` is
    ``glmer(y ~ x + (1 | prison), family = binomial, nAGQ = 1)``.

    Model: ``logit P(y_ij = 1) = x_ij' beta + b_j``, ``b_j ~ N(0, tau^2)``
    (``tau = theta``).  The marginal likelihood is approximated by the Laplace
    approximation (``nAGQ=1``) or adaptive Gauss-Hermite quadrature with
    ``nAGQ`` nodes per group, centred at each group's conditional mode and
    scaled by its conditional curvature; it is maximised jointly over
    ``(theta, beta)`` as glmer's second stage does (see the module docstring).

    Parameters
    ----------
    df, formula, group : as :func:`mixed_linear`; the outcome is 0/1 (numeric
        or boolean).
    nAGQ : quadrature points per group (1 = Laplace; up to 100).
    ci : level of the Wald intervals (log-odds and odds ratios) and of the
        profile interval of the ICC.
    trials : for aggregated binomial data, the column with the number of
        trials; the outcome is then the number of successes.  This is R's
        ``cbind(successes, trials - successes) ~ ...``.

    Returns
    -------
    MixedLogitResult with ``fixed_effects`` (term, estimate, se, z, p, ci_low,
    ci_high, odds_ratio, or_ci_low, or_ci_high), the random-intercept variance
    and SD, the latent-scale ``icc = tau^2 / (tau^2 + pi^2/3)`` with a
    likelihood-ratio interval (``beta`` profiled out), ``loglik``, ``aic``,
    ``bic``, ``n``, ``n_groups`` and :meth:`random_effects` (conditional modes
    ``b_j`` with conditional SDs).  Standard errors come from the
    finite-difference Hessian of the deviance over ``(theta, beta)``, as
    ``vcov()`` of a glmer fit in lme4 >= 1.1 (``use.hessian = TRUE``).

    Bad input: a non-0/1 outcome, a constant outcome and (quasi-)complete
    separation of the outcome by the fixed effects raise
    :class:`~veplab._validate.InputError`.  Separation is ruled out when an
    ordinary logistic regression converges (its MLE exists exactly when the
    data are not separated); otherwise it is confirmed by linear programming
    (Konis 2007) and the message names the predictors involved: merge sparse
    categories or drop the term.  Singular fits (:class:`SingularFitWarning`)
    and convergence problems (:class:`ConvergenceWarning`) warn; their text is
    also kept in ``messages``.

    Only a random intercept is supported (nAGQ > 1 in lme4 also requires a
    single scalar random effect).  Performance: conditional modes are solved for
    all groups at once, so 70,000 respondents in 254 prisons fit in seconds.

    References
    ----------
    Bates D, Mächler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models using
    lme4. Journal of Statistical Software 67(1), 1-48.
    Pinheiro JC, Bates DM (1995). Approximations to the log-likelihood function in the
    nonlinear mixed-effects model. Journal of Computational and Graphical Statistics 4,
    12-35.
    Snijders TAB, Bosker RJ (2012). Multilevel Analysis: An Introduction to Basic and
    Advanced Multilevel Modeling, 2nd ed. Sage, London.
    Konis K (2007). Linear programming algorithms for detecting separated data in binary
    logistic regression models. DPhil thesis, University of Oxford.
    Agrees with ``lme4::glmer(family = binomial)`` at ``nAGQ`` 1, 10 and 25
    (tests/reference/factors_mixed.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> prison = np.repeat(np.arange(20), 15)              # 20 prisons of 15
    >>> grievance = rng.normal(size=300)
    >>> u = rng.normal(scale=0.6, size=20)[prison]         # prison effects
    >>> df = pd.DataFrame({"prison": prison, "grievance": grievance,
    ...                    "support": 0.5 * grievance + u + rng.normal(size=300)})
    >>> df["endorse"] = (grievance + u + rng.logistic(size=300) > 0.5).astype(int)
    >>> fit = mixed_logit(df, "endorse ~ grievance", "prison")
    >>> fit.fixed_effects[["term", "odds_ratio", "or_ci_low", "or_ci_high"]].round(2)
              term  odds_ratio  or_ci_low  or_ci_high
    0  (Intercept)        0.52       0.37        0.74
    1    grievance        2.49       1.78        3.49
    """
    what = "mixed_logit"
    ci = check_ci(ci)
    if isinstance(nAGQ, bool) or not isinstance(nAGQ, (int, np.integer)) or not 1 <= nAGQ <= 100:
        raise InputError(
            f"{what}: nAGQ must be a whole number from 1 (Laplace) to 100, got {nAGQ!r}"
        )
    nAGQ = int(nAGQ)
    d = _prepare(df, formula, group, what=what, trials=trials)
    _check_groups(d, what=what, group=group, linear=False)
    k, m = _binomial_outcome(d, what=what, trials=trials)

    if np.all(k == 0) or np.all(k == m):
        raise InputError(
            f"{what}: the outcome {d.outcome!r} is constant (all "
            f"{'0' if np.all(k == 0) else '1'}); there is nothing to model"
        )
    # starting values: the ordinary logistic regression (the GLM core); the separation LP
    # runs only when that fit looks separated (fitted probabilities near 0/1, no convergence)
    share = np.divide(k, m, out=np.zeros(len(k)), where=m > 0)
    start = glm(d.X, share, weights=m.astype(float), on_boundary="ignore", what=what)
    beta0 = start.coef
    sep = separated_terms(start, d.names)
    if sep is not None:
        terms = ", ".join(repr(s) for s in sep)
        raise InputError(
            f"{what}: the outcome {d.outcome!r} is perfectly (or quasi-perfectly) separated "
            f"by {terms}: some combination of these predicts it without error for a set of "
            "rows, so their coefficients are infinite (glmer would report huge estimates and "
            "standard errors). Merge sparse categories, or drop the term, and refit."
        )
    core = _BinomialCore(d.X, k, m, d.codes, len(d.levels), d.starts)
    n, p = d.X.shape
    lower = np.concatenate([[0.0], np.full(p, -np.inf)])
    bounds = [(0.0, None)] + [(None, None)] * p
    if not np.all(np.isfinite(beta0)):
        beta0 = np.zeros(p)
    x0 = np.concatenate([[1.0], beta0])
    lbfgs = dict(ftol=1e-15, gtol=1e-8, maxiter=5000, maxcor=20)
    res = optimize.minimize(
        core.laplace_grad, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=lbfgs
    )
    if nAGQ == 1:
        fg = core.laplace_grad
    else:
        zk, wk = np.polynomial.hermite_e.hermegauss(nAGQ)
        zk = np.where(np.abs(zk) < 1e-14, 0.0, zk)
        lw = np.log(wk / wk.sum()) + zk**2 / 2.0

        def fg(z: np.ndarray) -> tuple[float, np.ndarray]:
            return core.agq_grad(z, zk, lw)

        res = optimize.minimize(
            fg, res.x, jac=True, method="L-BFGS-B", bounds=bounds, options=lbfgs
        )
    # theta = 0 is a stationary point of the deviance (it is symmetric in theta),
    # where L-BFGS-B can stop: if it did, make sure moving off it does not help
    if res.x[0] < SINGULAR_TOL:
        res = _optim.escape_boundary(fg, res, 0, (0.05, 0.3, 1.0), bounds=bounds, jac=True, options=lbfgs,
                                     stop_at_first=True)
    # the gradient check below (lme4's) decides convergence
    ok = _optim.lbfgsb_converged(res)

    def fun(z: np.ndarray) -> float:
        return fg(z)[0]

    def grad(z: np.ndarray) -> np.ndarray:
        return fg(z)[1]

    x = res.x
    f = fun(x)
    H = _optim.hessian_from_gradient(grad, x)
    x_pol, f_pol = _optim.newton_polish(fun, grad, x, f, H, lower)
    if np.max(np.abs(x_pol - x)) > 1e-5:
        H = _optim.hessian_from_gradient(grad, x_pol)
    x, f = x_pol, f_pol
    g = grad(x)
    theta = float(x[0])
    beta = x[1:]
    singular = theta < SINGULAR_TOL
    messages: list[str] = []
    if singular:
        msg = (
            f"boundary (singular) fit: the {group!r} intercept variance is estimated at or "
            "next to zero (lme4's isSingular()); the data show no detectable clustering "
            "beyond the fixed effects -- an ordinary logistic regression gives the same "
            "estimates"
        )
        messages.append(msg)
        warnings.warn(f"{what}: {msg}", SingularFitWarning, stacklevel=2)
    conv = _optim.convergence_messages(g, H, singular, GRAD_TOL)
    if not ok:
        conv.append(f"the optimiser stopped early ({res.message})")
    for msg in conv:
        warnings.warn(f"{what}: {msg}", ConvergenceWarning, stacklevel=2)
    messages.extend(conv)
    # covariance: 2 * inverse Hessian, fixed-effect block (lme4 vcov.merMod)
    V = None
    try:
        Vfull = np.linalg.inv(H)
        Vb = Vfull[1:, 1:]
        Vb = Vb + Vb.T  # lme4: forceSymmetric(h + t(h))
        if np.all(np.isfinite(Vb)) and np.min(np.linalg.eigvalsh(Vb)) > 0:
            V = Vb
    except np.linalg.LinAlgError:
        V = None
    if V is None:
        msg = (
            "variance-covariance matrix from the finite-difference Hessian is not positive "
            "definite: falling back to the one from the PIRLS system (as lme4)"
        )
        messages.append(msg)
        warnings.warn(f"{what}: {msg}", ConvergenceWarning, stacklevel=2)
        V = core.rx_vcov(theta, beta)
    se = np.sqrt(np.diag(V))
    fixed = _wald_table(d.names, beta, se, ci, "z")
    fixed["odds_ratio"] = np.exp(fixed["estimate"])
    fixed["or_ci_low"] = np.exp(fixed["ci_low"])
    fixed["or_ci_high"] = np.exp(fixed["ci_high"])
    # fit statistics: full binomial log-likelihood
    loglik = -f / 2.0 + core.lchoose
    dev = -2.0 * loglik
    npar = p + 1
    aic = dev + 2.0 * npar
    bic = dev + math.log(n) * npar
    # random effects: b = theta * u, conditional sd = theta / sqrt(1 + theta^2 S)
    st = core.modes(theta, beta)
    b = theta * st["u"]
    cond_sd = abs(theta) / np.sqrt(1.0 + theta**2 * st["S"])
    ranef = _ranef_frame(
        d.levels, ["(Intercept)"], b[:, None], cond_sd[:, None], d.sizes, ci, group
    )
    vc = pd.DataFrame(
        [(group, "(Intercept)", None, theta**2, abs(theta))],
        columns=["group", "var1", "var2", "vcov", "sdcor"],
    )
    # ICC and profile interval: profile out beta at each theta
    crit = stats.chi2.ppf(ci, 1)
    Hbb = H[1:, 1:]
    try:
        slope = np.linalg.solve(Hbb, H[1:, 0])
    except np.linalg.LinAlgError:
        slope = np.zeros(p)
    beta_hat = beta.copy()

    def prof(t: float) -> float:
        """min over beta of the deviance at theta = t.

        Newton steps with the PIRLS information ``2 (X'WX - theta^2 sum_g VX_g VX_g'/D_g)``
        (the beta-Hessian of the Laplace deviance up to its log-determinant
        part), with step halving.
        """
        bb = beta_hat - slope * (t - theta)
        fb, gfull = fg(np.concatenate([[t], bb]))
        for _ in range(100):
            info = 2.0 * core.information(t)
            try:
                step = np.linalg.solve(info, gfull[1:])
            except np.linalg.LinAlgError:
                step = np.linalg.solve(Hbb, gfull[1:])
            # Newton decrement: the remaining gain in the deviance is ~ g'step/2
            if float(gfull[1:] @ step) < 1e-10:
                break
            scale = 1.0
            improved = False
            for _h in range(10):
                cand = bb - scale * step
                fc, gc = fg(np.concatenate([[t], cand]))
                if fc <= fb:
                    improved = True
                    break
                scale /= 2.0
            if not improved:
                break
            moved = np.max(np.abs(cand - bb))
            bb, fb, gfull = cand, fc, gc
            if moved < 1e-6:
                break
        # envelope theorem: d/dt min_beta F(t, beta) = dF/dtheta at the minimiser
        return fb, float(gfull[0])

    try:
        width = stats.norm.ppf(0.5 + ci / 2.0) * math.sqrt(2.0 * np.linalg.inv(H)[0, 0])
    except (np.linalg.LinAlgError, ValueError):
        width = None
    lo, hi = _optim.profile_interval(prof, theta, f, crit, width, with_derivative=True)
    icc = theta**2 / (theta**2 + LOGISTIC_VAR)
    icc_lo = lo**2 / (lo**2 + LOGISTIC_VAR)
    icc_hi = 1.0 if math.isinf(hi) else hi**2 / (hi**2 + LOGISTIC_VAR)
    core.modes(theta, beta)  # leave the cache at the optimum
    return MixedLogitResult(
        formula=formula,
        group=group,
        outcome=d.outcome,
        n=n,
        n_groups=len(d.levels),
        n_dropped=d.n_dropped,
        ci=ci,
        intercept_var=theta**2,
        intercept_sd=abs(theta),
        icc=icc,
        icc_ci_low=icc_lo,
        icc_ci_high=icc_hi,
        loglik=loglik,
        deviance=dev,
        aic=aic,
        bic=bic,
        npar=npar,
        singular=bool(singular),
        converged=not conv,
        fixed_effects=fixed,
        variance_components=vc,
        vcov=pd.DataFrame(V, index=d.names, columns=d.names),
        theta=(theta,),
        messages=tuple(messages),
        ranef_table=ranef,
        factor_counts=d.factor_counts,
        nAGQ=nAGQ,
        outcome_counts={0: int(round(float(np.sum(m - k)))), 1: int(round(float(np.sum(k))))},
    )


def icc_null(
    df: pd.DataFrame,
    outcome: str,
    group: str,
    *,
    family: str = "gaussian",
    ci: float = 0.95,
) -> ClusterIccResult:
    """Intraclass correlation of ``outcome`` by ``group`` from the null model.

    ``family="gaussian"``: ``lmer(outcome ~ 1 + (1 | group))`` by REML and
    ``ICC = tau^2 / (tau^2 + sigma^2)``, the share of the outcome's variance
    that lies between groups (prisons).  ``family="binomial"`` (0/1 outcome):
    ``glmer(outcome ~ 1 + (1 | group), family = binomial)`` (Laplace) and the
    latent-scale ``ICC = tau^2 / (tau^2 + pi^2/3)`` (Snijders & Bosker 2012,
    section 17.3).

    The interval is a likelihood-ratio (profile) interval: the ICC is a
    monotone function of lme4's ``theta`` alone (``theta^2/(1+theta^2)`` for
    the linear model, where ``theta = tau/sigma``; ``theta^2/(theta^2+pi^2/3)``
    for the logistic one, where ``theta = tau``), so the interval is
    ``{theta : d(theta) - d(theta_hat) <= qchisq(ci, 1)}`` on the profiled
    REML criterion (linear) or Laplace deviance with the intercept profiled
    out (logistic), transformed to the ICC scale.  Its lower end is 0 when the
    data are compatible with no clustering.

    References
    ----------
    Snijders TAB, Bosker RJ (2012). Multilevel Analysis: An Introduction to Basic and
    Advanced Multilevel Modeling, 2nd ed. Sage, London.
    Bates D, Mächler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models using
    lme4. Journal of Statistical Software 67(1), 1-48.
    Agrees with the null models of ``lme4::lmer`` and ``lme4::glmer``
    (tests/reference/factors_mixed.R; the ICCs below as lme4's ``VarCorr``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> prison = np.repeat(np.arange(20), 15)              # 20 prisons of 15
    >>> grievance = rng.normal(size=300)
    >>> u = rng.normal(scale=0.6, size=20)[prison]         # prison effects
    >>> df = pd.DataFrame({"prison": prison,
    ...                    "support": 0.5 * grievance + u + rng.normal(size=300)})
    >>> df["endorse"] = (grievance + u + rng.logistic(size=300) > 0.5).astype(int)
    >>> round(icc_null(df, "support", "prison").estimate, 4)                     # R lmer: 0.1776
    0.1776
    >>> round(icc_null(df, "endorse", "prison", family="binomial").estimate, 3)  # R glmer: 0.069
    0.069
    """
    what = "icc_null"
    check_choice(family, "family", ("gaussian", "binomial"))
    ci = check_ci(ci)
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    if not isinstance(outcome, str) or outcome not in df.columns:
        raise InputError(f"{what}: outcome={outcome!r} is not a column of the data")
    formula = f"{_q(outcome)} ~ 1"
    fit: _MixedBase
    if family == "gaussian":
        fit = mixed_linear(df, formula, group, ci=ci)
        assert isinstance(fit, MixedLinearResult)
        within = fit.residual_var
        method = "lmer REML null model; profile-likelihood interval"
    else:
        fit = mixed_logit(df, formula, group, ci=ci)
        within = LOGISTIC_VAR
        method = "glmer Laplace null model, latent scale (pi^2/3); profile-likelihood interval"
    return ClusterIccResult(
        estimate=fit.icc,
        ci_low=fit.icc_ci_low,
        ci_high=fit.icc_ci_high,
        n=fit.n,
        n_groups=fit.n_groups,
        n_dropped=fit.n_dropped,
        family=family,
        between_var=fit.intercept_var,
        within_var=within,
        ci=ci,
        method=method,
    )
