"""Confirmatory factor analysis and measurement invariance (lavaan-compatible).

:func:`cfa` fits a confirmatory factor model written in lavaan's model syntax
(see :mod:`veplab.factor_analysis.lavaan_syntax`) by maximum likelihood, with the
defaults of ``lavaan::cfa`` (lavaan 0.6): marker-variable identification (the
first loading of each factor fixed to 1) unless ``std_lv=True``; factor
covariances free; ``estimator = "ML"`` with ``likelihood = "normal"`` (the
sample covariance matrix divides by *N*, not *N - 1*); standard errors from the
expected information matrix (``se = "standard"``, ``information =
"expected"``, ``h1.information = "structured"``); the standard chi-square test
(``test = "standard"``); listwise deletion, or full-information maximum
likelihood with ``missing="ml"`` (see *Missing data* below).  With ``group=`` the model is fitted
in every group with a mean structure (free intercepts, latent means fixed to 0;
with equal intercepts the latent means of groups 2, 3, ... are freed, as lavaan
does), and ``equal=`` takes lavaan's ``group.equal`` names.

:func:`invariance` fits the usual sequence configural -> metric -> scalar
(-> strict) and compares consecutive models with the chi-square difference
test (``lavaan::lavTestLRT`` for standard ML) and the changes in CFI and RMSEA.

The model
---------
For group *g* with observed variables *y* (p of them) and factors *eta* (m)::

    y = nu + Lambda eta + eps,   Cov(eta) = Psi,  E(eta) = alpha,  Cov(eps) = Theta
    Sigma(theta) = Lambda Psi Lambda' + Theta,    mu(theta) = nu + Lambda alpha

and the ML discrepancy minimised is ``F = sum_g (N_g / N) F_g`` with::

    F_g = log|Sigma| + tr(S Sigma^-1) - log|S| - p + (ybar - mu)' Sigma^-1 (ybar - mu)

(the mean part only with a mean structure).  It is minimised by Fisher scoring
(Gauss-Newton steps with the expected information and step halving), with
``scipy.optimize.minimize`` (L-BFGS-B, analytic gradient) as a fallback.  The
test statistic is ``chisq = sum_g N_g F_g``; the standard errors are the square
roots of the diagonal of ``(sum_g N_g Delta_g' W_g Delta_g)^-1`` with
``W_g = [Sigma^-1 (means), 1/2 D'(Sigma^-1 (x) Sigma^-1) D (covariances)]``.
Equality constraints (shared labels, ``equal=``) are imposed by
reparametrisation (one free parameter per equality set), which gives the same
estimates and standard errors as lavaan's constrained information matrix.

Fit measures follow lavaan's ``fitMeasures``: baseline (independence) model
with free means and variances in every group; CFI and TLI (Bentler 1990;
Tucker & Lewis 1973); RMSEA ``sqrt(max(chisq/N/df - 1/N, 0)) * sqrt(G)`` with
its 90% interval and the test of close fit (RMSEA <= .05) (Steiger 1990;
Browne & Cudeck 1993); SRMR as lavaan's ``srmr`` (= ``srmr_bentler``: residual
covariances and, with a mean structure, mean residuals, scaled by the sample
standard deviations, root mean square, weighted by N_g/N); log-likelihood, AIC,
BIC and sample-size adjusted BIC.

Missing data (FIML, ``missing="ml"``)
-------------------------------------
As ``lavaan::cfa(..., missing = "ml")`` (aliases ``"fiml"``, ``"direct"``):
rows missing every indicator are dropped (with a warning, as lavaan), rows
without a group value too; every other row contributes the likelihood of its
observed values (Arbuckle 1996; Enders 2010, ch. 4).  Rows are grouped by
missing-data pattern P (observed variables o, n_P rows, their mean ybar_P and
covariance S_P dividing by n_P), so for group g::

    logL_g = sum_P -n_P/2 [ p_o log(2 pi) + log|Sigma_oo|
                            + tr(Sigma_oo^-1 (S_P + d_P d_P')) ],   d_P = ybar_P - mu_o

A mean structure is always fitted (lavaan sets ``meanstructure = TRUE``).  The
saturated model H1 (free means and covariances per group) is fitted by EM
(Dempster, Laird & Rubin 1977) exactly as lavaan's
``lav_mvnorm_missing_h1_estimate_moments`` (available-case start, stop when no
moment changes by more than 1e-5), which gives ``unrestricted_loglik`` and the
"sample" moments used for starting values and SRMR (``sample_cov`` and
``sample_mean`` are these EM estimates).  The model minimises
``sum_g (N_g/N) F_g`` with ``F_g = 2 (logL_H1,g - logL_g) / N_g``, by Fisher
scoring with the pattern-wise expected information (analytic gradient
``dF_g = [tr(W dSigma) - 2 dmu' u] / N_g``, ``W = sum_P n_P (Sigma_oo^-1 -
Sigma_oo^-1 (S_P + d d') Sigma_oo^-1)``, ``u = sum_P n_P Sigma_oo^-1 d``, both
embedded in p x p) and a trust-region Newton fallback on the exact Hessian.
Then ``chisq = 2 (logL_H1 - logL) = sum_g N_g F_g`` with the usual df.  The
baseline model (free means and variances, zero covariances) is fitted by FIML
too: its likelihood factors by variable, so its estimates are the
available-case means and ML variances in closed form, and ``baseline_chisq =
2 (logL_H1 - logL_baseline)``.  CFI, TLI, RMSEA (N = rows used), logLik, AIC,
BIC and SRMR (EM moments against the implied ones) follow the formulas above,
as lavaan's ``fitMeasures``.  Standard errors use lavaan's default for
``missing = "ml"``: ``information = "observed"`` (``observed.information =
"hessian"``), the inverse of the exact Hessian of ``-logL``.  With no missing
data FIML gives the listwise ML estimates and chi-square; only the standard
errors differ (observed instead of expected information).  FIML is valid when
the data are missing at random given the observed indicators (MAR).

Ordinal indicators (WLSMV, ``ordered=``)
----------------------------------------
As ``lavaan::cfa(..., ordered = <items>, estimator = "WLSMV")``: every indicator
is taken as a coarse version of a normal latent response ``y*`` cut at
thresholds.  Two-step sample statistics per group (Muthén 1984): thresholds
from each item's margins, then pairwise polychoric correlations with those
thresholds fixed, and their asymptotic covariance ``Gamma`` (lavaan's NACOV)
by the sandwich of casewise scores.  The model, delta parameterization::

    Sigma* = Delta (Lambda Psi Lambda' + Theta) Delta,  diag(Sigma*) = 1
    tau*_ik = (tau_ik - nu_i - (Lambda alpha)_i) delta_i

(``Theta_ii = 1/delta_i^2 - (Lambda Psi Lambda')_ii`` is computed, not free;
intercepts ``nu`` 0 and scaling factors ``delta`` 1 unless freed for
invariance) is fitted by diagonally weighted least squares (DWLS, weights
``1 / diag(Gamma)``; groups weighted by ``N_g - 1``, as lavaan does), with
robust ("sandwich", lavaan ``se = "robust.sem"``) standard errors and the
mean-and-variance adjusted ("scaled-shifted") chi-square of Asparouhov &
Muthén (2010), ``T_ss = a T + b``.  Fit measures: ``chisq_scaled``,
``cfi_scaled``, ``tli_scaled``, ``rmsea_scaled`` (lavaan's ``*.scaled``) and
SRMR on the polychoric correlations.  Multi-group: ``equal=("thresholds",
"loadings")`` frees the scaling factors and latent means of groups 2, 3, ...
(lavaan's default identification); ``id_cat="Wu.Estabrook.2016"`` uses Wu &
Estabrook's identification (equal thresholds free the item intercepts and
scaling factors of groups 2, 3, ... instead), which :func:`invariance` with
``ordered=`` uses for its sequence configural -> thresholds -> metric ->
scalar, compared by the scaled difference test of Satorra (2000)
(:func:`scaled_difference_test`, as ``lavTestLRT``).

References: Rosseel (2012) lavaan: an R package for structural equation
modeling, J Stat Softw 48(2); Bollen (1989) Structural equations with latent
variables; Jöreskog (1971) Simultaneous factor analysis in several
populations, Psychometrika 36; Chen (2007) Sensitivity of goodness of fit
indexes to lack of measurement invariance, SEM 14(3); Cheung & Rensvold
(2002) SEM 9(2); Putnick & Bornstein (2016) Dev Rev 41; Arbuckle (1996) Full
information estimation in the presence of incomplete data, in Marcoulides &
Schumacker (eds), Advanced structural equation modeling; Enders (2010) Applied
missing data analysis, Guilford; Dempster, Laird & Rubin (1977) JRSS B 39;
Muthén (1984) A general structural equation model with dichotomous, ordered
categorical, and continuous latent variable indicators, Psychometrika 49;
Muthén, du Toit & Spisic (1997) Robust inference using weighted least squares
and quadratic estimating equations in latent variable modeling with
categorical and continuous outcomes (unpublished technical report);
Asparouhov & Muthén (2010) Simple second order chi-square correction, Mplus
technical appendix; Satorra (2000) Scaled and adjusted restricted tests in
multi-sample analysis of moment structures; Wu & Estabrook (2016)
Identification of confirmatory factor analysis models of different levels of
invariance for ordered categorical outcomes, Psychometrika 81(4).
"""

from __future__ import annotations

from ..lavaan_syntax import LavaanSyntaxError
from ._common import EQUAL_NAMES, INVARIANCE_LEVELS, ORDINAL_INVARIANCE_LEVELS
from ._fit import cfa
from ._invariance import invariance, scaled_difference_test
from ._results import CFAResult, DifferenceTest, InvarianceResult

__all__ = [
    "cfa",
    "invariance",
    "CFAResult",
    "InvarianceResult",
    "DifferenceTest",
    "LavaanSyntaxError",
    "EQUAL_NAMES",
    "INVARIANCE_LEVELS",
    "ORDINAL_INVARIANCE_LEVELS",
    "scaled_difference_test",
]
