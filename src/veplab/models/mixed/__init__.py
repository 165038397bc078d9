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

from ._common import ConvergenceWarning, SingularFitWarning
from ._fit import icc_null, mixed_linear, mixed_logit
from ._results import ClusterIccResult, MixedLinearResult, MixedLogitResult

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
