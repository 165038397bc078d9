"""Single-level regression models for push and pull factors.

* :func:`logit` -- logistic regression (R ``glm(family = binomial)``) with
  model-based, heteroskedasticity-robust or cluster-robust (by prison)
  standard errors, frequency or probability weights; odds ratios with intervals.
* :func:`ordinal` -- proportional-odds model (R ``MASS::polr``), logit, probit,
  cloglog, loglog or cauchit link; model-based, robust or cluster-robust
  standard errors (the same ``vcov=`` choices but HC3).

Formulas are R style (``"y ~ x1 + C(cat) + a:b"``, see
:mod:`veplab.models._formula`): treatment contrasts with the first level as
reference, coefficient names as R prints them (``genderwoman``,
``country2``).  Unused levels of categorical predictors are dropped first, as
``glm``/``polr`` do (``model.frame(drop.unused.levels = TRUE)``).  Rows with a
missing value in any model variable (or the cluster / weight column) are
dropped with a warning (R's ``na.omit``) and counted in ``n_dropped``.

Fitting
-------
The GLM core :func:`veplab._glm.glm`: IRLS (Newton-Raphson for the
canonical logit link) from glm's starting values, iterated to machine
precision (R's ``glm`` stops at a relative deviance change of 1e-8,
statsmodels' GLM at 1e-8 too; the tests compare with both, tightened).  The proportional-odds model uses Newton-Raphson with
analytic derivatives (see :func:`ordinal`).

Variance of the logistic coefficients
-------------------------------------
With ``B = (X' W X)^{-1}``, ``W = diag(w_i mu_i (1 - mu_i))`` (``w`` the prior
weights) and score contributions ``s_i = w_i (y_i - mu_i) x_i``:

* ``vcov="model"`` -- ``B`` (R ``vcov(glm_fit)``);
* ``"HC0"`` -- ``B (sum_i s_i s_i') B``; ``"HC1"`` -- ``n/(n-k)`` times it (R
  ``sandwich::vcovHC(fit, type = "HC0" / "HC1")``; Stata ``logit, vce(robust)``
  uses ``n/(n-1)`` instead); ``"HC3"`` -- ``s_i`` divided by ``1 - h_i``, the
  GLM hat values (``vcovHC(fit, type = "HC3")``);
* ``"CR1"`` (the default whenever ``cluster=`` is given) -- ``G/(G-1)
  (n-1)/(n-k) B (sum_g s_g s_g') B`` with ``s_g`` the sum of ``s_i`` in cluster
  ``g``: exactly R ``sandwich::vcovCL(fit, cluster = ~prison, type = "HC1")``
  (its default ``cadjust = TRUE`` gives ``G/(G-1)``, ``type = "HC1"`` gives
  ``(n-1)/(n-k)``), which is also statsmodels' ``cov_type="cluster"`` and
  Stata's ``vce(cluster)`` factor; ``"CR0"`` leaves out ``(n-1)/(n-k)``
  (``vcovCL(type = "HC0")``).  ``n`` counts rows (also with frequency weights,
  as ``vcovCL`` on ``glm(weights = )`` does).  One implementation,
  :func:`veplab._sandwich.sandwich`, serves every model.

Tests and intervals are Wald z (normal), as ``summary(glm)`` and
``lmtest::coeftest(fit, vcov = vcovCL)`` for binomial models.  CR1 needs many
clusters: with fewer than about 20 prisons the standard errors are too small
and a warning says so (a multilevel model, :func:`veplab.models.mixed_logit`,
is then the better tool).  Prisons with a single respondent are fine.

Weights
-------
* ``weight_type="frequency"`` -- each row stands for ``w`` identical
  respondents: estimates and model-based SEs equal those of the expanded data
  (R ``glm(weights = w)``); AIC/BIC use ``n = sum(w)``.
* ``weight_type="probability"`` (survey / sampling weights, ``1/P(selected)``):
  weighted maximum pseudo-likelihood (same point estimates as R
  ``glm(weights = w)``) with robust sandwich SEs (``HC1``, or ``CR1`` with
  ``cluster=``), as ``sandwich::vcovHC``/``vcovCL`` on that fit.  Model-based
  SEs would be wrong and are not offered.  ``survey::svyglm`` (not available
  here) uses the same estimating equations; its design-based variance differs
  by the small-sample factor and strata / finite-population corrections,
  which are out of scope.  AIC/BIC are not defined (NaN).

Perfect or quasi-perfect separation (a predictor or combination of
predictors that predicts the outcome exactly for some rows) makes the
maximum-likelihood estimates infinite; a fit that shows its signs (fitted
probabilities within 1e-8 of 0 or 1, no convergence, a last Newton step that
does not shrink) is checked by the linear program of Konis (2007) (R
``detectseparation``), and separation is raised as an
:class:`~veplab._validate.InputError` naming the terms.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from .._results import Result
from .._validate import InputError, check_ci, check_choice, check_frame, format_rows
from .._glm import glm, separated_terms, t_table
from .._sandwich import ROBUST_TYPES, sandwich
from ._formula import check_full_rank, design_matrix, formula_variables, split_formula
from ..privacy.outputs import ModelFacts

__all__ = ["linear", "LinearResult", "logit", "LogitResult", "ordinal", "OrdinalResult"]

_MIN_CLUSTERS = 20


def _cluster_count(codes: np.ndarray | None, cluster: str | None, vtype: str, what: str, alternative: str) -> int:
    """Number of clusters of a cluster-robust fit (0 without ``cluster=``): one cluster is refused, fewer
    than :data:`_MIN_CLUSTERS` warned about (CR standard errors are too small then)."""
    if codes is None:
        return 0
    g = int(codes.max()) + 1
    if g < 2:
        raise InputError(f"{what}: cluster column {cluster!r} has a single cluster; drop cluster=")
    if g < _MIN_CLUSTERS:
        warnings.warn(
            f"{what}: only {g} clusters in {cluster!r}: {vtype} cluster-robust standard errors are unreliable "
            f"(too small) with fewer than about {_MIN_CLUSTERS} clusters. {alternative}", UserWarning, stacklevel=3)
    return g


# --------------------------------------------------------------------------- model frame
@dataclasses.dataclass
class _Frame:
    data: pd.DataFrame
    y_raw: pd.Series
    X: np.ndarray
    names: list[str]
    n_dropped: int
    outcome: str
    cluster: np.ndarray | None
    weights: np.ndarray | None
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict)


def _unquote(name: str) -> str:
    name = name.strip()
    if (name.startswith("Q(") and name.endswith(")")):
        inner = name[2:-1].strip()
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
            return inner[1:-1]
    return name


def _model_frame(
    df: Any, formula: str, *, what: str, cluster: str | None = None, weights: str | None = None,
) -> _Frame:
    check_frame(df, what)
    lhs, rhs = split_formula(formula, what=what)
    outcome = _unquote(lhs)
    if outcome not in df.columns:
        raise InputError(
            f"{what}: the outcome {outcome!r} (left of '~') is not a column of the data; the outcome "
            "must be a plain column name (make a recoded column first, e.g. df['y'] = df['x'] >= 4)"
        )
    rhs_vars = formula_variables(rhs, df.columns, what=what)
    for role, col in (("cluster", cluster), ("weights", weights)):
        if col is not None and (not isinstance(col, str) or col not in df.columns):
            raise InputError(f"{what}: {role}={col!r} is not a column of the data")
    needed: list[str] = []
    for c in [outcome, *rhs_vars, cluster, weights]:
        if c is not None and c not in needed:
            needed.append(c)
    sub = df[needed]
    empty = [c for c in needed if sub[c].isna().all()]
    if empty:
        raise InputError(
            f"{what}: column(s) {empty} have no non-missing values, so no row can enter the model; "
            "drop them from the formula (check how they were loaded: missing codes become missing)"
        )
    na = sub.isna()
    bad = na.any(axis=1).to_numpy()
    n_dropped = int(bad.sum())
    if n_dropped:
        counts = ", ".join(f"{c!r}: {int(na[c].sum())}" for c in needed if na[c].any())
        warnings.warn(
            f"{what}: dropped {n_dropped} of {len(sub)} rows with missing values ({counts}; "
            f"{format_rows(list(sub.index[bad]))}) -- listwise deletion as R's na.omit; n_dropped "
            "records it. Use veplab.missing.impute first if these rows matter.",
            UserWarning, stacklevel=3,
        )
    data = sub.loc[~bad].copy()
    if len(data) == 0:
        raise InputError(f"{what}: no complete rows left after dropping rows with missing values")
    for c in rhs_vars:  # R's model.frame(drop.unused.levels = TRUE)
        if isinstance(data[c].dtype, pd.CategoricalDtype):
            data[c] = data[c].cat.remove_unused_categories()
    design = design_matrix(rhs, data, what=what)
    X = design.matrix
    if not np.isfinite(X).all():
        cols = [design.names[j] for j in np.flatnonzero(~np.isfinite(X).all(axis=0))]
        raise InputError(f"{what}: model columns {cols} have infinite values (log of 0?); fix the transformation")
    w = None
    if weights is not None:
        wv = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
        if np.isnan(wv).any() or (wv < 0).any() or not np.isfinite(wv).all():
            raise InputError(f"{what}: weights column {weights!r} must hold finite non-negative numbers")
        if (wv == 0).all():
            raise InputError(f"{what}: every weight in {weights!r} is zero")
        w = wv
    cl = None
    if cluster is not None:
        cl = pd.factorize(data[cluster], sort=True)[0]
    return _Frame(data, data[outcome], X, design.names, n_dropped, outcome, cl, w, design.level_counts())


def _binary_outcome(y: pd.Series, name: str, what: str) -> tuple[np.ndarray, Any, Any]:
    """0/1 outcome from a binary column; returns (y, level coded 0, level coded 1)."""
    if isinstance(y.dtype, pd.CategoricalDtype):
        levels = [c for c in y.cat.categories if c in set(y.unique())]
    else:
        levels = sorted(pd.unique(y))
        if pd.api.types.is_bool_dtype(y.dtype):
            levels = [False, True] if len(levels) == 2 else levels
    levels = [v.item() if isinstance(v, np.generic) else v for v in levels]
    if len(levels) < 2:
        raise InputError(
            f"{what}: the outcome {name!r} has a single class ({levels[0]!r}) in the rows analysed; "
            "logistic regression needs both outcomes. Check the filter that made this data set, "
            "or report the share descriptively instead"
        )
    if len(levels) > 2:
        raise InputError(
            f"{what}: the outcome {name!r} has {len(levels)} distinct values {levels[:8]}; logistic "
            "regression needs a binary (0/1) outcome. Dichotomise it first (e.g. "
            f"df['y'] = df[{name!r}] >= 4) or use veplab.models.ordinal for an ordered outcome"
        )
    if not isinstance(y.dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(y.dtype) \
            and not pd.api.types.is_bool_dtype(y.dtype) and set(levels) != {0, 1}:
        raise InputError(
            f"{what}: the numeric outcome {name!r} takes the values {levels}; code it 0/1 (1 = the "
            "event) or make it a two-level categorical"
        )
    def plain(v: Any) -> Any:
        return v.item() if isinstance(v, np.generic) else v

    return (y == levels[1]).to_numpy(dtype=float), plain(levels[0]), plain(levels[1])


def _z_table(names: Sequence[str], est: np.ndarray, se: np.ndarray, ci: float, exp: bool) -> pd.DataFrame:
    q = float(stats.norm.ppf(0.5 + ci / 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se
    out = pd.DataFrame({"term": list(names), "estimate": est, "se": se, "z": z,
                        "p": 2.0 * stats.norm.sf(np.abs(z)), "ci_low": est - q * se, "ci_high": est + q * se})
    if exp:
        with np.errstate(over="ignore"):
            out["odds_ratio"] = np.exp(est)
            out["or_ci_low"] = np.exp(out["ci_low"])
            out["or_ci_high"] = np.exp(out["ci_high"])
    return out


def _fmt(df: pd.DataFrame) -> str:
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        return df.to_string(index=False, float_format=lambda v: f"{v:.4g}")


# --------------------------------------------------------------------------- variance choice
def _vcov_type(vcov: str | None, *, cluster: str | None, robust: bool, probability_weights: bool,
               what: str) -> str:
    """Resolve ``vcov=`` against ``cluster=``, ``robust=`` and probability weights."""
    if vcov is None:
        if cluster is not None:
            return "CR1"
        return "HC1" if (robust or probability_weights) else "model"
    check_choice(vcov, "vcov", ("model", *ROBUST_TYPES))
    if cluster is not None and not vcov.startswith("CR"):
        raise InputError(f"{what}: cluster={cluster!r} asks for cluster-robust standard errors, but vcov={vcov!r}; "
                         "use vcov='CR0' or 'CR1', or drop cluster=")
    if cluster is None and vcov.startswith("CR"):
        raise InputError(f"{what}: vcov={vcov!r} is cluster-robust; name the cluster column (cluster='prison_id')")
    if robust and vcov != "HC1":
        raise InputError(f"{what}: robust=True means vcov='HC1'; pass only vcov={vcov!r}")
    if probability_weights and vcov == "model":
        raise InputError(f"{what}: with probability (survey) weights model-based standard errors are wrong; "
                         "use a robust vcov ('HC0', 'HC1', 'HC3', or 'CR0'/'CR1' with cluster=), or "
                         "weight_type='frequency' if each row stands for that many people")
    return vcov


# --------------------------------------------------------------------------- logit
class _RegressionText:
    """What the regression results (linear, logistic) print and hand to :func:`veplab.missing.pool` alike."""

    coefficients: pd.DataFrame
    vcov_type: str
    cluster: str | None
    n_clusters: int
    weights: str | None
    weight_type: str | None

    def tidy(self) -> pd.DataFrame:
        """The coefficient table (the protocol :func:`veplab.missing.pool` reads)."""
        return self.coefficients.copy()

    def _se_line(self) -> str:
        return (f"standard errors: {self.vcov_type}"
                + (f", clustered by {self.cluster!r} ({self.n_clusters} clusters)" if self.cluster else "")
                + (f"; {self.weight_type} weights {self.weights!r}" if self.weights else ""))


class _ForestPlot:
    """``plot()`` for a model whose ``coefficients`` table holds odds ratios."""

    coefficients: pd.DataFrame  # a field of the result class that mixes this in

    def plot(self, **kwargs: Any) -> Any:
        """Forest plot of the coefficients (odds ratios on a log axis); returns the Axes.

        Keyword arguments go to :func:`veplab.models.plot_forest` (``domains=``, ``labels=``, ``ax=``, ...).
        """
        from ..plots import plot_forest

        return plot_forest(self.coefficients, **kwargs)


@dataclasses.dataclass(frozen=True, eq=False)
class LogitResult(_RegressionText, _ForestPlot, Result):
    """Logistic regression: coefficient table (log-odds and odds ratios) and fit statistics.

    ``coefficients`` columns: ``term, estimate`` (log-odds), ``se, z, p,
    ci_low, ci_high, odds_ratio, or_ci_low, or_ci_high``.

    ``factor_counts`` (read-only): rows of the estimation sample per level of
    every categorical predictor, two-valued numeric predictor and interaction
    of such predictors (``{"gender": {"man": 812, "woman": 5}}``);
    ``outcome_counts``: rows per outcome level (``{0: 700, 1: 117}``).  Both
    count rows, unweighted; the disclosure check of model output reads them
    (:func:`veplab.privacy.model_disclosure`).
    """

    formula: str
    outcome: str
    event: Any
    n: int
    n_dropped: int
    n_events: float
    ci: float
    vcov_type: str
    cluster: str | None
    n_clusters: int
    weights: str | None
    weight_type: str | None
    loglik: float
    deviance: float
    null_deviance: float
    aic: float
    bic: float
    df_resid: int
    converged: bool
    iterations: int
    coefficients: pd.DataFrame = dataclasses.field(repr=False)
    vcov: pd.DataFrame = dataclasses.field(repr=False)
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    outcome_counts: dict[Any, int] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def summary(self) -> str:
        head = [
            f"Logistic regression: {self.formula}   (event: {self.outcome} = {self.event!r})",
            f"n = {self.n} ({self.n_events:g} events), {self.n_dropped} rows dropped for missing values",
            self._se_line(),
            f"log-likelihood {self.loglik:.6g}, deviance {self.deviance:.6g} (null {self.null_deviance:.6g}), "
            f"AIC {self.aic:.6g}, BIC {self.bic:.6g}",
            "",
        ]
        return "\n".join(head) + _fmt(self.coefficients)

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        return ModelFacts("logistic regression", self.n, float(self.df_resid), self.factor_counts,
                          (self.outcome, self.outcome_counts), n_clusters=self.n_clusters if self.cluster else None)


def logit(
    df: pd.DataFrame,
    formula: str,
    *,
    cluster: str | None = None,
    weights: str | None = None,
    weight_type: str = "probability",
    robust: bool = False,
    vcov: str | None = None,
    ci: float = 0.95,
) -> LogitResult:
    """Logistic regression with odds ratios (R ``glm(formula, family = binomial)``).

    Parameters
    ----------
    df : data frame (e.g. from :func:`veplab.data.load`).
    formula : ``"outcome ~ predictors"``, R style.  The outcome is a 0/1
        column, a boolean, or a two-level categorical (the second level is the
        event, as for an R factor).
    cluster : column identifying clusters (prisons): CR1 cluster-robust
        standard errors, as ``sandwich::vcovCL(fit, cluster = ~prison,
        type = "HC1")`` (see the module docstring for the formula).
    weights : weight column; ``weight_type`` says what the weights are:
        ``"probability"`` (survey weights; default: point estimates of
        ``glm(weights = w)``, robust sandwich SEs) or ``"frequency"`` (row
        counts; equals fitting the expanded data).
    robust : heteroskedasticity-robust ``HC1`` SEs without clusters
        (``sandwich::vcovHC(fit, type = "HC1")``); implied by probability
        weights.  The same as ``vcov="HC1"``.
    vcov : the variance of the coefficients: ``"model"`` (inverse
        information, R ``vcov(fit)``), ``"HC0"``, ``"HC1"``, ``"HC3"``
        (``sandwich::vcovHC(fit, type = )``), or with ``cluster=``
        ``"CR0"``, ``"CR1"`` (``sandwich::vcovCL(fit, cluster = ~cl, type =
        "HC0" / "HC1")``); formulas in :mod:`veplab._sandwich`.
        Default: ``"CR1"`` with ``cluster=``, ``"HC1"`` with ``robust=True``
        or probability weights, else ``"model"``.
    ci : level of the Wald intervals.

    Returns
    -------
    :class:`LogitResult`; ``.coefficients`` has ``term, estimate, se, z, p,
    ci_low, ci_high, odds_ratio, or_ci_low, or_ci_high``.

    Raises
    ------
    InputError
        unknown columns, an outcome with one class or more than two, collinear
        predictors (naming them), perfect or quasi-perfect separation (naming
        the predictors), all-missing columns, no complete rows.

    Notes
    -----
    The estimating equations (``w`` the weights) and the CR1 variance::

        sum_i w_i (y_i - mu_i) x_i = 0,   logit(mu_i) = x_i' b
        V_CR1 = G/(G-1) (n-1)/(n-k) B (sum_g s_g s_g') B

    References
    ----------
    Nelder JA, Wedderburn RWM (1972). Generalized linear models. Journal of the Royal
    Statistical Society A 135, 370-384.
    McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd ed. Chapman & Hall,
    London.
    White H (1980). A heteroskedasticity-consistent covariance matrix estimator and a direct
    test for heteroskedasticity. Econometrica 48, 817-838.
    Zeileis A, Köll S, Graham N (2020). Various versatile variances: an object-oriented
    implementation of clustered covariances in R. Journal of Statistical Software 95(1), 1-36.
    Konis K (2007). Linear programming algorithms for detecting separated data in binary
    logistic regression models. DPhil thesis, University of Oxford.
    Agrees with R ``glm(family = binomial)`` and ``sandwich::vcovHC``/``vcovCL``
    (tests/reference/factors_regression.R, glm_core.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.normal(size=200), "prison": np.repeat(np.arange(40), 5)})
    >>> d["y"] = (rng.random(200) < 1 / (1 + np.exp(-d["x"]))).astype(int)
    >>> fit = logit(d, "y ~ x", cluster="prison")
    >>> list(fit.coefficients["term"])
    ['(Intercept)', 'x']
    """
    what = "logit"
    ci = check_ci(ci)
    check_choice(weight_type, "weight_type", ["probability", "frequency"])
    vtype = _vcov_type(vcov, cluster=cluster, robust=robust,
                       probability_weights=weights is not None and weight_type == "probability", what=what)
    fr = _model_frame(df, formula, what=what, cluster=cluster, weights=weights)
    y, level0, level1 = _binary_outcome(fr.y_raw, fr.outcome, what)
    X, names = fr.X, fr.names
    check_full_rank(X, names, what=what)
    n, k = X.shape
    w = fr.weights if fr.weights is not None else np.ones(n)
    pos = w > 0
    if len(np.unique(y[pos])) < 2:
        raise InputError(f"{what}: the outcome {fr.outcome!r} has a single class among rows with positive weight")
    fit = glm(X, y, family="binomial", weights=w, on_boundary="ignore", what=what)
    sep = separated_terms(fit, names)  # the LP runs only when the fit looks separated
    if sep is not None:
        raise InputError(
            f"{what}: perfect or quasi-perfect separation: {', '.join(repr(s) for s in sep)} "
            f"predict(s) the outcome {fr.outcome!r} exactly for some respondents, so the odds ratios "
            "are infinite and the fit is meaningless. Merge sparse categories (e.g. a prison type or "
            "country with no events), drop the term, or report the cross-tabulation instead"
        )
    beta, converged, iters = fit.coef, fit.converged, fit.iterations
    if not converged:
        warnings.warn(f"{what}: the fit did not converge in 100 iterations; treat the estimates with care",
                      UserWarning, stacklevel=2)
    n_clusters = _cluster_count(fr.cluster, cluster, vtype, what, "Consider a multilevel model "
                                "(veplab.models.mixed_logit) or report the results as indicative")
    V = fit.vcov(vtype, cluster=fr.cluster, what=what)
    se = np.sqrt(np.diag(V))
    big = [names[j] for j in range(k) if names[j] != "(Intercept)" and (abs(beta[j]) > 25 or se[j] > 1e3)]
    if big:
        raise InputError(
            f"{what}: estimates for {big} are extreme (|log-odds| > 25 or SE > 1000), a sign of "
            "quasi-separation or near-empty categories; merge categories or drop the term"
        )
    table = _z_table(names, beta, se, ci, exp=True)
    loglik, deviance = fit.loglik, fit.deviance  # 0/1 outcome: deviance = -2 loglik
    if fr.weights is not None and weight_type == "probability":
        aic = bic = float("nan")
        n_eff = float(n)
    else:
        n_eff = float(w.sum())
        aic = deviance + 2 * k
        bic = deviance + k * math.log(n_eff if fr.weights is not None else n)
    return LogitResult(
        formula=formula, outcome=fr.outcome, event=level1, n=n, n_dropped=fr.n_dropped,
        n_events=float(np.sum(y * w)) if fr.weights is not None and weight_type == "frequency" else float(y.sum()),
        ci=ci, vcov_type=vtype, cluster=cluster, n_clusters=n_clusters, weights=weights,
        weight_type=weight_type if weights is not None else None, loglik=loglik, deviance=deviance,
        null_deviance=fit.null_deviance, aic=aic, bic=bic,
        df_resid=int(round(n_eff)) - k if fr.weights is not None and weight_type == "frequency" else n - k,
        converged=converged, iterations=iters, coefficients=table,
        vcov=pd.DataFrame(V, index=names, columns=names), factor_counts=fr.factor_counts,
        outcome_counts={level0: int(n - y.sum()), level1: int(y.sum())},
    )


# --------------------------------------------------------------------------- linear (lm)
@dataclasses.dataclass(frozen=True, eq=False)
class LinearResult(_RegressionText, Result):
    """Linear regression: coefficient table and fit statistics (R ``summary(lm(...))``).

    ``coefficients`` columns: ``term, estimate, se, t, df, p, ci_low, ci_high``
    (t on the residual degrees of freedom under every ``vcov``, as
    ``lmtest::coeftest(fit, vcov. = V)`` for ``lm``).  ``factor_counts``: rows
    of the estimation sample per level of every categorical predictor (read by
    :func:`veplab.privacy.model_disclosure`).
    """

    formula: str
    outcome: str
    n: int
    n_dropped: int
    ci: float
    vcov_type: str
    cluster: str | None
    n_clusters: int
    weights: str | None
    weight_type: str | None
    r2: float
    adj_r2: float
    sigma: float
    f_statistic: float
    f_df: tuple[int, int]
    f_p: float
    loglik: float
    aic: float
    bic: float
    df_resid: int
    coefficients: pd.DataFrame = dataclasses.field(repr=False)
    vcov: pd.DataFrame = dataclasses.field(repr=False)
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def plot(self, **kwargs: Any) -> Any:
        """Forest plot of the coefficients (reference line at 0); returns the Axes.

        Keyword arguments go to :func:`veplab.plots.plot_forest` (``domains=``, ``labels=``, ``ax=``, ...)."""
        from ..plots import plot_forest

        return plot_forest(self.coefficients, log=False, **kwargs)

    def summary(self) -> str:
        head = [
            f"Linear regression: {self.formula}",
            f"n = {self.n}, {self.n_dropped} rows dropped for missing values; residual df {self.df_resid}",
            self._se_line(),
            f"R² {self.r2:.4f} (adjusted {self.adj_r2:.4f}), residual SE {self.sigma:.4g}; "
            f"F({self.f_df[0]}, {self.f_df[1]}) = {self.f_statistic:.4g}, p = {self.f_p:.3g}",
            f"log-likelihood {self.loglik:.6g}, AIC {self.aic:.6g}, BIC {self.bic:.6g}",
            "",
        ]
        return "\n".join(head) + _fmt(self.coefficients)

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        return ModelFacts("linear regression", self.n, float(self.df_resid), self.factor_counts,
                          n_clusters=self.n_clusters if self.cluster else None)


def linear(
    df: pd.DataFrame,
    formula: str,
    *,
    cluster: str | None = None,
    weights: str | None = None,
    weight_type: str = "analytic",
    vcov: str | None = None,
    ci: float = 0.95,
) -> LinearResult:
    """Linear regression by least squares (R ``lm(formula)``), with the sandwich variances.

    The model and its estimates (``W`` the diagonal of the weights, 1 without)::

        y = X b + e,   b = (X' W X)^{-1} X' W y,   s² = sum_i w_i e_i² / (n - k)
        V_model = s² (X' W X)^{-1}                               vcov(lm_fit)

    or a sandwich (``HC0``, ``HC1``, ``HC3``, ``CR0``, ``CR1``; formulas in
    :mod:`veplab._sandwich`).  Tests and intervals use the t distribution on
    the residual degrees of freedom ``n - k`` under every ``vcov``
    (``lmtest::coeftest``/``coefci`` for ``lm``).  R² = 1 - RSS / TSS (weighted,
    about the weighted mean when there is an intercept), the overall F test
    compares with the intercept-only model on the model variance.

    Parameters
    ----------
    df : data frame (e.g. from :func:`veplab.data.load`).
    formula : ``"outcome ~ predictors"``, R style (factors ``C(x)``, interactions
        ``a * b``, ``a:b``); the outcome is numeric.
    cluster : column identifying clusters (prisons): ``CR1`` by default, as
        ``sandwich::vcovCL(fit, cluster = ~prison, type = "HC1")``.
    weights : weight column.  ``weight_type="analytic"`` (default): R's ``lm(weights
        = w)`` (precision weights: row ``i`` has variance ``s² / w_i``);
        ``"probability"``: survey weights, the same estimates with robust ``HC1``
        standard errors by default (model-based ones are refused);
        ``"frequency"``: each row stands for ``w_i`` people (the fit of the
        expanded data: residual df ``sum(w) - k``).
    vcov : ``"model"``, ``"HC0"``, ``"HC1"``, ``"HC3"`` or, with ``cluster=``,
        ``"CR0"``, ``"CR1"``.  Default: ``"CR1"`` with a cluster, ``"HC1"`` with
        probability weights, else ``"model"``.
    ci : level of the intervals.

    Returns
    -------
    :class:`LinearResult` (``.coefficients``, ``r2``, ``adj_r2``, ``sigma``,
    ``f_statistic``, ``loglik``, ``aic``, ``bic``; ``summary()``, ``plot()``).

    Raises
    ------
    InputError
        unknown columns, a non-numeric outcome, collinear predictors (naming
        them), no complete rows, fewer rows than coefficients.

    References
    ----------
    R Core Team, ``stats::lm``, ``summary.lm``.  White H (1980) Econometrica 48,
    817-838; MacKinnon JG, White H (1985) Journal of Econometrics 29, 305-325;
    Zeileis A, Köll S, Graham N (2020) Journal of Statistical Software 95(1)
    (``sandwich::vcovHC``, ``vcovCL``).  Agrees with ``lm`` and ``sandwich`` in R
    (tests/reference/linear.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"x": rng.normal(size=120), "g": rng.choice(["a", "b"], 120),
    ...                   "prison": np.repeat(np.arange(24), 5)})
    >>> d["y"] = 1 + 0.5 * d["x"] + (d["g"] == "b") + rng.normal(size=120)
    >>> fit = linear(d, "y ~ x + C(g)", cluster="prison")
    >>> list(fit.coefficients["term"]), fit.vcov_type, fit.df_resid
    (['(Intercept)', 'x', 'C(g)b'], 'CR1', 117)
    """
    what = "linear"
    ci = check_ci(ci)
    check_choice(weight_type, "weight_type", ["analytic", "probability", "frequency"])
    vtype = _vcov_type(vcov, cluster=cluster, robust=False,
                       probability_weights=weights is not None and weight_type == "probability", what=what)
    fr = _model_frame(df, formula, what=what, cluster=cluster, weights=weights)
    y_raw = fr.y_raw
    if not (pd.api.types.is_numeric_dtype(y_raw.dtype) and not pd.api.types.is_bool_dtype(y_raw.dtype)):
        raise InputError(f"{what}: the outcome {fr.outcome!r} is not numeric ({y_raw.dtype}); a linear model "
                         "needs a numeric outcome (use logit() for yes/no, ordinal() for ordered categories)")
    y = y_raw.to_numpy(dtype=float)
    X, names = fr.X, fr.names
    check_full_rank(X, names, what=what)
    n, k = X.shape
    if n <= k:
        raise InputError(f"{what}: {n} complete rows for {k} coefficients; a linear model needs more rows than "
                         "coefficients")
    w = fr.weights if fr.weights is not None else np.ones(n)
    fit = glm(X, y, family="gaussian", weights=w, on_boundary="ignore", what=what)
    beta = fit.coef
    resid = y - fit.mu
    rss = float(np.sum(w * resid**2))
    df_resid = int(round(float(w.sum()))) - k if weights is not None and weight_type == "frequency" else n - k
    if df_resid <= 0:
        raise InputError(f"{what}: no residual degrees of freedom ({df_resid}); drop terms")
    sigma2 = rss / df_resid
    n_clusters = _cluster_count(fr.cluster, cluster, vtype, what, "Consider a multilevel model "
                                "(veplab.models.mixed_linear) or report the results as indicative")
    V = sigma2 * fit.bread if vtype == "model" else fit.vcov(vtype, cluster=fr.cluster, what=what)
    table = t_table(names, beta, np.sqrt(np.diag(V)), df_resid, ci)
    intercept = "(Intercept)" in names
    centre = float(np.sum(w * y) / np.sum(w)) if intercept else 0.0
    tss = float(np.sum(w * (y - centre) ** 2))
    r2 = 1.0 - rss / tss if tss > 0 else float("nan")
    df_model = k - (1 if intercept else 0)
    df_total = df_resid + df_model  # R: (n - df.int) / rdf
    adj = 1.0 - (1.0 - r2) * df_total / df_resid if df_model > 0 else float("nan")
    if df_model > 0:
        f_stat = ((tss - rss) / df_model) / sigma2
        f_p = float(stats.f.sf(f_stat, df_model, df_resid))
    else:
        f_stat, f_p = float("nan"), float("nan")
    # R's logLik(lm): 0.5 (sum log w - N (log 2 pi + 1 - log N + log sum w e²)), N the rows with w > 0
    pos = w > 0
    n_ll = float(w.sum()) if weights is not None and weight_type == "frequency" else float(pos.sum())
    log_w = 0.0 if weights is not None and weight_type == "frequency" else float(np.sum(np.log(w[pos])))
    loglik = 0.5 * (log_w - n_ll * (math.log(2 * math.pi) + 1.0 - math.log(n_ll) + math.log(rss)))
    if weights is not None and weight_type == "probability":
        aic = bic = float("nan")  # a pseudo-likelihood: no AIC
    else:
        aic = -2.0 * loglik + 2.0 * (k + 1)
        bic = -2.0 * loglik + math.log(n_ll) * (k + 1)
    return LinearResult(
        formula=formula, outcome=fr.outcome, n=n, n_dropped=fr.n_dropped, ci=ci, vcov_type=vtype, cluster=cluster,
        n_clusters=n_clusters, weights=weights, weight_type=weight_type if weights is not None else None,
        r2=float(r2), adj_r2=float(adj), sigma=math.sqrt(sigma2), f_statistic=float(f_stat),
        f_df=(df_model, df_resid), f_p=f_p, loglik=float(loglik), aic=float(aic), bic=float(bic),
        df_resid=df_resid, coefficients=table, vcov=pd.DataFrame(V, index=names, columns=names),
        factor_counts=fr.factor_counts,
    )


# --------------------------------------------------------------------------- ordinal (polr)
def _link_funcs(link: str):
    """(F, f, f') of the latent error distribution: P(Y <= j) = F(zeta_j - eta)."""
    if link == "logit":
        def F(x):
            return special.expit(x)

        def f(x):
            p = special.expit(x)
            return p * (1 - p)

        def fp(x):
            p = special.expit(x)
            return p * (1 - p) * (1 - 2 * p)
        q = special.logit
    elif link == "probit":
        F = special.ndtr

        def f(x):
            return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

        def fp(x):
            return -x * f(x)
        q = special.ndtri
    elif link == "cloglog":  # MASS: Gumbel (minimum): F(x) = 1 - exp(-exp(x))
        def F(x):
            return -np.expm1(-np.exp(x))

        def f(x):
            return np.exp(x - np.exp(x))

        def fp(x):
            return np.exp(x - np.exp(x)) * (1 - np.exp(x))

        def q(p):
            return np.log(-np.log1p(-p))
    elif link == "loglog":  # MASS: F(x) = exp(-exp(-x))
        def F(x):
            return np.exp(-np.exp(-x))

        def f(x):
            return np.exp(-x - np.exp(-x))

        def fp(x):
            return np.exp(-x - np.exp(-x)) * (np.exp(-x) - 1)

        def q(p):
            return -np.log(-np.log(p))
    else:  # cauchit
        def F(x):
            return 0.5 + np.arctan(x) / math.pi

        def f(x):
            return 1.0 / (math.pi * (1 + x * x))

        def fp(x):
            return -2 * x / (math.pi * (1 + x * x) ** 2)

        def q(p):
            return np.tan(math.pi * (p - 0.5))
    return F, f, fp, q


@dataclasses.dataclass(frozen=True, eq=False)
class OrdinalResult(_ForestPlot, Result):
    """Proportional-odds (cumulative link) model as ``MASS::polr``.

    ``coefficients``: ``term, estimate, se, z, p, ci_low, ci_high`` and, for
    the logit link, ``odds_ratio, or_ci_low, or_ci_high`` (the odds of a
    higher category).  ``thresholds``: the cut-points ``zeta`` (``"1|2"``, ...).
    ``factor_counts`` and ``outcome_counts`` (rows per outcome level): as
    :class:`LogitResult`.
    """

    formula: str
    outcome: str
    link: str
    levels: tuple
    n: int
    n_dropped: int
    ci: float
    loglik: float
    deviance: float
    aic: float
    bic: float
    df_resid: int
    converged: bool
    iterations: int
    coefficients: pd.DataFrame = dataclasses.field(repr=False)
    thresholds: pd.DataFrame = dataclasses.field(repr=False)
    vcov: pd.DataFrame = dataclasses.field(repr=False)
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    outcome_counts: dict[Any, int] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    vcov_type: str = "model"
    cluster: str | None = None
    n_clusters: int = 0

    def tidy(self) -> pd.DataFrame:
        """Coefficients then thresholds, with a ``type`` column (for :func:`~veplab.missing.pool`)."""
        a = self.coefficients.assign(type="coefficient")
        b = self.thresholds.rename(columns={"threshold": "term"}).assign(type="threshold")
        return pd.concat([a, b], ignore_index=True)

    def summary(self) -> str:
        head = [
            f"Proportional-odds model ({self.link} link, MASS::polr): {self.formula}",
            f"logit P({self.outcome} <= j) = zeta_j - eta   (positive coefficients: higher categories)"
            if self.link == "logit" else
            f"{self.link} P({self.outcome} <= j) = zeta_j - eta",
            f"n = {self.n}, {self.n_dropped} rows dropped; levels {list(self.levels)}",
            f"standard errors: {self.vcov_type}"
            + (f", clustered by {self.cluster!r} ({self.n_clusters} clusters)" if self.cluster else ""),
            f"log-likelihood {self.loglik:.6g}, deviance {self.deviance:.6g}, AIC {self.aic:.6g}",
            "",
        ]
        return "\n".join(head) + _fmt(self.coefficients) + "\n\nthresholds\n" + _fmt(self.thresholds)

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        return ModelFacts("proportional-odds regression", self.n, float(self.df_resid), self.factor_counts,
                          (self.outcome, self.outcome_counts))


def _polr_fit(X: np.ndarray, yk: np.ndarray, w: np.ndarray, q: int, link: str, *, max_iter: int = 200):
    """Newton-Raphson with analytic derivatives on (beta, zeta); yk in 0..q."""
    n, p = X.shape
    F, f, fp, qf = _link_funcs(link)
    # start: beta = 0, zeta from cumulative proportions (as polr does for the null model)
    cum = np.cumsum(np.bincount(yk, weights=w, minlength=q + 1))[:-1] / w.sum()
    theta = np.concatenate([np.zeros(p), qf(np.clip(cum, 1e-6, 1 - 1e-6))])
    has_upper = yk < q
    has_lower = yk > 0

    def parts(th: np.ndarray):
        beta, zeta = th[:p], th[p:]
        eta = X @ beta
        zu = np.where(has_upper, zeta[np.minimum(yk, q - 1)], np.inf)
        zl = np.where(has_lower, zeta[np.maximum(yk - 1, 0)], -np.inf)
        a = zu - eta
        b = zl - eta
        Fa = np.where(has_upper, F(np.where(has_upper, a, 0.0)), 1.0)
        Fb = np.where(has_lower, F(np.where(has_lower, b, 0.0)), 0.0)
        # P = F(a) - F(b), computed on the more accurate side
        Pr = Fa - Fb
        return eta, a, b, Pr

    def loglik(th: np.ndarray) -> float:
        zeta = th[p:]
        if q > 1 and np.any(np.diff(zeta) <= 0):
            return -np.inf
        _, _, _, Pr = parts(th)
        if np.any(Pr <= 0):
            return -np.inf
        return float(np.sum(w * np.log(Pr)))

    iu, il = np.flatnonzero(has_upper), np.flatnonzero(has_lower)
    cu, cl = yk[iu], yk[il] - 1          # the threshold each row's upper / lower bound uses

    Xu, Xl = X[iu], X[il]

    def _cat_sums(Xs: np.ndarray, cat: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(p, q): column k sums v_i x_i over the rows whose threshold is k (``Xs`` those rows of X)."""
        return np.array([np.bincount(cat, Xs[:, j] * v, minlength=q) for j in range(p)]).reshape(p, q)

    def derivs(th: np.ndarray, want_scores: bool = False):
        """Gradient and Hessian of the log-likelihood, exploiting that each row's threshold columns are one-hot
        (upper bound: zeta_y, lower bound: zeta_{y-1}); the row scores only when asked (the last call)."""
        eta, a, b, Pr = parts(th)
        ga = np.zeros(n)
        gb = np.zeros(n)
        ca = np.zeros(n)
        cb = np.zeros(n)
        ga[iu] = f(a[iu]) / Pr[iu]
        gb[il] = f(b[il]) / Pr[il]
        ca[iu] = w[iu] * fp(a[iu]) / Pr[iu]
        cb[il] = w[il] * fp(b[il]) / Pr[il]
        u = ga - gb                        # d log P / d eta = -(ga - gb)
        grad = np.empty(p + q)
        grad[:p] = -(X.T @ (w * u)) if p else np.zeros(0)
        grad[p:] = np.bincount(cu, w[iu] * ga[iu], minlength=q) - np.bincount(cl, w[il] * gb[il], minlength=q)
        H = np.zeros((p + q, p + q))
        # second-derivative terms: DA' diag(ca) DA - DB' diag(cb) DB, DA = (-x, e_y), DB = (-x, e_{y-1})
        if p:
            H[:p, :p] = (X * (ca - cb - w * u * u)[:, None]).T @ X
            bz = -_cat_sums(Xu, cu, ca[iu]) + _cat_sums(Xl, cl, cb[il])
            # the outer-product term: -G' diag(w) G, G = (-u x, ga e_y - gb e_{y-1})
            bz += _cat_sums(Xu, cu, w[iu] * u[iu] * ga[iu]) - _cat_sums(Xl, cl, w[il] * u[il] * gb[il])
            H[:p, p:] = bz
            H[p:, :p] = bz.T
        zz = np.diag(np.bincount(cu, ca[iu], minlength=q) - np.bincount(cl, cb[il], minlength=q)
                     - np.bincount(cu, w[iu] * ga[iu] ** 2, minlength=q)
                     - np.bincount(cl, w[il] * gb[il] ** 2, minlength=q))
        both = has_upper & has_lower       # rows with both bounds: a cross term between zeta_y and zeta_{y-1}
        ib = np.flatnonzero(both)
        if ib.size and q > 1:
            cross = np.bincount(yk[ib] - 1, w[ib] * ga[ib] * gb[ib], minlength=q)[: q - 1]
            k = np.arange(q - 1)
            zz[k + 1, k] += cross
            zz[k, k + 1] += cross
        H[p:, p:] = zz
        scores = None
        if want_scores:
            G = np.zeros((n, p + q))
            if p:
                G[:, :p] = -u[:, None] * X
            G[iu, p + cu] += ga[iu]
            G[il, p + cl] -= gb[il]
            scores = w[:, None] * G
        return grad, H, scores

    ll = loglik(theta)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        grad, H, _ = derivs(theta)
        try:
            step = -np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(H, grad, rcond=None)[0]
        if not np.all(np.isfinite(step)) or grad @ step <= 0:  # not an ascent direction: gradient step
            step = grad / max(1.0, float(np.max(np.abs(grad))))
        t = 1.0
        while True:
            new = theta + t * step
            ll_new = loglik(new)
            if ll_new >= ll - 1e-12 * abs(ll) or t < 1e-10:
                break
            t /= 2.0
        if not np.isfinite(ll_new):
            break
        theta = new
        change = ll_new - ll
        ll = ll_new
        if np.max(np.abs(t * step)) < 1e-10 * (1 + np.max(np.abs(theta))) or abs(change) < 1e-14 * (abs(ll) + 1):
            grad, H, _ = derivs(theta)
            try:
                theta = theta - np.linalg.solve(H, grad)
                ll = loglik(theta)
            except np.linalg.LinAlgError:
                pass
            converged = bool(np.max(np.abs(grad)) < 1e-5 * max(1.0, abs(ll)))
            break
    grad, H, scores = derivs(theta, want_scores=True)
    return theta, ll, H, scores, converged, it


def _explicit_levels(y: pd.Series, levels: Sequence[Any], name: str, what: str) -> tuple[list[Any], np.ndarray]:
    """Categories and codes of ``y`` in the order ``levels`` (R ``ordered(y, levels = )``)."""
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence | np.ndarray | pd.Index):
        raise InputError(f"{what}: levels= must be a list of the outcome's values in order, got {levels!r}")
    lv = [v.item() if isinstance(v, np.generic) else v for v in levels]
    dups = sorted({str(v) for v in lv if lv.count(v) > 1})
    if dups:
        raise InputError(f"{what}: levels= lists {dups} more than once; each value once, lowest first")
    values = y.astype(object) if isinstance(y.dtype, pd.CategoricalDtype) else y
    codes = pd.Index(lv, dtype=object).get_indexer(pd.Index(values, dtype=object)).astype(np.int64)
    bad = codes < 0
    if bad.any():
        unknown = sorted({str(v) for v in values[bad]})
        raise InputError(
            f"{what}: the outcome {name!r} takes value(s) {unknown[:8]} that are not in levels={lv} "
            f"({format_rows(list(y.index[bad]))}); add them to levels= in their place, or recode or drop those "
            "rows first (R's ordered(x, levels = ) would make them missing and polr would drop them silently)"
        )
    return lv, codes


def ordinal(
    df: pd.DataFrame,
    formula: str,
    *,
    link: str = "logit",
    weights: str | None = None,
    levels: Sequence[Any] | None = None,
    cluster: str | None = None,
    vcov: str | None = None,
    ci: float = 0.95,
) -> OrdinalResult:
    """Proportional-odds regression for an ordered outcome (R ``MASS::polr``).

    The model, in polr's sign convention, is ``link(P(Y <= j)) = zeta_j - eta``
    with ``eta = x' beta`` (no intercept: the thresholds ``zeta_1 < ... <
    zeta_{J-1}`` take its place).  A positive coefficient means higher
    categories are more likely; with the logit link ``exp(beta)`` is the odds
    ratio of being above any cut-point (the proportional-odds assumption).

    Fitted by Newton-Raphson with analytic first and second derivatives;
    standard errors come from the inverse of the analytic observed information
    (polr's ``vcov`` inverts a finite-difference Hessian of the same
    likelihood, which agrees to about 1e-6).  Intervals are Wald
    (``confint.default``); polr's ``confint`` profiles the likelihood instead.

    Parameters
    ----------
    formula : ``"outcome ~ predictors"``; the outcome is an ordered categorical
        (its category order), or numeric codes (sorted).  At least 3 levels.
        Categories with no rows are dropped with a warning (R ``droplevels``).
    link : ``"logit"`` (default), ``"probit"``, ``"cloglog"``, ``"loglog"``,
        ``"cauchit"`` (polr's ``method =``).
    weights : case weights column (polr ``weights =``, frequency-like).
    levels : the outcome's values from lowest to highest, as R's
        ``ordered(x, levels = )``: needed for a text outcome, and overrides
        the order of a categorical or numeric one.  A value of the outcome
        not among ``levels`` is an error naming the rows (R would make it
        missing and drop the row silently).
    cluster : column identifying clusters (prisons): cluster-robust
        standard errors (``vcov="CR1"`` by default, as
        ``sandwich::vcovCL(fit, cluster = ~prison, type = "HC1")``).
    vcov : ``"model"`` (default without ``cluster``: the inverse observed
        information), ``"HC0"`` (``sandwich::sandwich(fit)``), ``"HC1"``
        (``n / (n - k)`` times HC0, ``k`` coefficients plus thresholds), or
        with ``cluster=`` ``"CR0"``, ``"CR1"`` (``vcovCL`` type ``"HC0"`` /
        ``"HC1"``); the formulas of :mod:`veplab._sandwich`, with the
        per-row scores of the likelihood.
    ci : level of the Wald intervals.

    References
    ----------
    McCullagh P (1980). Regression models for ordinal data. Journal of the Royal Statistical
    Society B 42, 109-142.
    Venables WN, Ripley BD (2002). Modern Applied Statistics with S, 4th ed. Springer,
    New York.
    Agrees with ``MASS::polr`` (logit, probit, cloglog links, weights) and
    ``sandwich::vcovCL`` (tests/reference/factors_regression.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"x": rng.normal(size=300)})
    >>> d["y"] = np.digitize(d["x"] + rng.logistic(size=300), [-1.0, 0.0, 1.0]) + 1
    >>> fit = ordinal(d, "y ~ x")
    >>> list(fit.thresholds["threshold"])
    ['1|2', '2|3', '3|4']
    >>> d["risk"] = d["y"].map({1: "low", 2: "moderate", 3: "high", 4: "very high"})
    >>> list(ordinal(d, "risk ~ x", levels=["low", "moderate", "high", "very high"]).thresholds["threshold"])
    ['low|moderate', 'moderate|high', 'high|very high']
    """
    what = "ordinal"
    ci = check_ci(ci)
    check_choice(link, "link", ["logit", "probit", "cloglog", "loglog", "cauchit"])
    if vcov == "HC3":
        raise InputError(f"{what}: HC3 needs hat values, which the proportional-odds model has none of "
                         "(sandwich::vcovHC fails on polr too); use vcov='HC0' or 'HC1'")
    vtype = _vcov_type(vcov, cluster=cluster, robust=False, probability_weights=False, what=what)
    fr = _model_frame(df, formula, what=what, weights=weights, cluster=cluster)
    y = fr.y_raw
    if levels is not None:
        cats, codes_all = _explicit_levels(y, levels, fr.outcome, what)
    elif isinstance(y.dtype, pd.CategoricalDtype):
        cats = list(y.cat.categories)
        if not y.cat.ordered and not pd.api.types.is_numeric_dtype(y.cat.categories.dtype):
            raise InputError(
                f"{what}: the outcome {fr.outcome!r} is an unordered categorical with text categories; "
                "give their order with levels=[lowest, ..., highest] (as R's ordered(x, levels = )) or "
                "make it an ordered categorical"
            )
        codes_all = y.cat.codes.to_numpy()
    else:
        if not pd.api.types.is_numeric_dtype(y.dtype):
            shown = sorted(map(str, pd.unique(y)))[:8]
            raise InputError(
                f"{what}: the outcome {fr.outcome!r} is text ({shown}); give the order of its values "
                "with levels=[lowest, ..., highest] (as R's ordered(x, levels = ))"
            )
        cats = sorted(pd.unique(y))
        codes_all = np.searchsorted(np.asarray(cats), y.to_numpy())
    used = np.unique(codes_all)
    if len(used) < len(cats):
        unused = [cats[i] for i in range(len(cats)) if i not in set(used)]
        if len(used) >= 3:
            warnings.warn(
                f"{what}: outcome categories {unused} of {fr.outcome!r} have no rows and are dropped "
                "(as droplevels() before polr); consider merging sparse categories", UserWarning, stacklevel=2)
    levels = [cats[i].item() if isinstance(cats[i], np.generic) else cats[i] for i in used]
    yk = np.searchsorted(used, codes_all)
    if len(levels) < 3:
        raise InputError(
            f"{what}: the outcome {fr.outcome!r} has {len(levels)} observed level(s) {levels}; the "
            "proportional-odds model needs at least 3 (polr: 'response must have 3 or more levels'). "
            + ("Use veplab.models.logit for a binary outcome" if len(levels) == 2 else
               "A single class cannot be modelled: check the filter that made this data set")
        )
    X, names = fr.X, fr.names
    keep = [j for j, nm in enumerate(names) if nm != "(Intercept)"]
    if "(Intercept)" not in names:
        raise InputError(f"{what}: remove '- 1' / '+ 0' from the formula: the thresholds play the intercept's part")
    check_full_rank(X, names, what=what)
    X = X[:, keep]
    names = [names[j] for j in keep]
    n = X.shape[0]
    p = X.shape[1]
    q = len(levels) - 1
    w = fr.weights if fr.weights is not None else np.ones(n)
    theta, ll, H, scores, converged, iters = _polr_fit(X, yk, w, q, link)
    try:
        V = np.linalg.inv(-H)
    except np.linalg.LinAlgError:
        V = np.full((p + q, p + q), np.nan)
    n_clusters = _cluster_count(fr.cluster, cluster, vtype, what, "Report the results as indicative")
    if vtype != "model" and np.isfinite(V).all():
        V = sandwich(V, scores, type=vtype, cluster=fr.cluster, what=what)
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    if p:
        sdx = X.std(axis=0)
        flag = [names[j] for j in range(p)
                if not np.isfinite(se[j]) or abs(theta[j]) * max(sdx[j], 1e-12) > 15 or se[j] > 1e3]
        if flag or not converged:
            if flag:
                raise InputError(
                    f"{what}: estimates for {flag} are extreme or undetermined (separation: the "
                    f"predictor(s) place respondents in the lowest/highest categories of {fr.outcome!r} "
                    "without overlap). Merge sparse categories of the outcome or the predictor, or drop the term"
                )
    if not converged:
        warnings.warn(f"{what}: the fit did not converge; treat the estimates with care", UserWarning, stacklevel=2)
    coef = _z_table(names, theta[:p], se[:p], ci, exp=(link == "logit"))
    def lab(v: Any) -> str:
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v)

    thr_names = [f"{lab(levels[j])}|{lab(levels[j + 1])}" for j in range(q)]
    thr = _z_table(thr_names, theta[p:], se[p:], ci, exp=False).rename(columns={"term": "threshold"})
    npar = p + q
    nobs = float(w.sum())
    dev = -2.0 * ll
    allnames = names + thr_names
    return OrdinalResult(
        formula=formula, outcome=fr.outcome, link=link, levels=tuple(levels), n=n, n_dropped=fr.n_dropped,
        ci=ci, loglik=ll, deviance=dev, aic=dev + 2 * npar, bic=dev + npar * math.log(nobs),
        df_resid=int(round(nobs)) - npar, converged=converged, iterations=iters, coefficients=coef,
        thresholds=thr, vcov=pd.DataFrame(V, index=allnames, columns=allnames),
        factor_counts=fr.factor_counts,
        outcome_counts={lev: int(k) for lev, k in zip(levels, np.bincount(yk, minlength=len(levels)))},
        vcov_type=vtype, cluster=cluster, n_clusters=n_clusters,
    )
