"""The public mixed models: :func:`mixed_linear`, :func:`mixed_logit`, :func:`icc_null`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ... import _optim
from ..._glm import glm, separated_terms
from ..._validate import InputError, check_ci, check_choice
from ._common import ConvergenceWarning, GRAD_TOL, LOGISTIC_VAR, SINGULAR_TOL, SingularFitWarning
from ._data import _Data, _check_groups, _prepare, _q, _wald_table
from ._lmm import _LmmCore, _fit_lmm
from ._glmm import _BinomialCore
from ._results import ClusterIccResult, MixedLinearResult, MixedLogitResult, _MixedBase


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
    rows: list[tuple[str, str | None, str | None, float, float]] = []
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
    fg: Callable[[np.ndarray], tuple[float, np.ndarray]]
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

    def prof(t: float) -> tuple[float, float]:
        """min over beta of the deviance at theta = t, and its derivative in t.

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
