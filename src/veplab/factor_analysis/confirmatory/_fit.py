"""The public fit: :func:`cfa` and the parameter table, SRMR and standard errors it reports."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats
from veplab._validate import InputError, check_ci, check_choice, format_rows, numeric_frame

from ..lavaan_syntax import parse_model
from ._common import _WHAT
from ._partable import _Row, _build_partable
from ._model import _Model
from ._fiml import _FimlModel, _Pattern
from ._starts import _start_values
from ._optimiser import _optimise
from ._results import CFAResult
from ._fit_measures import _cfi, _pchisq, _rmsea, _rmsea_ci, _tli
from ._fit_ordinal import cfa_ordinal
from ._checks import (
    _check_identification,
    _check_model_names,
    _group_moments,
    _group_moments_fiml,
    _normalise_equal,
    _normalise_missing,
)


# public functions
# ---------------------------------------------------------------------------


def cfa(
    data: pd.DataFrame,
    model: str,
    *,
    group: str | None = None,
    equal: str | Sequence[str] = (),
    partial: str | Sequence[str] = (),
    std_lv: bool = False,
    estimator: str | None = None,
    missing: str = "listwise",
    meanstructure: bool | str = "default",
    ci: float = 0.95,
    rmsea_ci: float = 0.90,
    ordered: bool | str | Sequence[str] | None = None,
    parameterization: str = "delta",
    id_cat: str = "default",
) -> CFAResult:
    """Confirmatory factor analysis, as ``lavaan::cfa``: maximum likelihood, or WLSMV for
    ordered (ordinal) indicators.

    ML minimises ``F = log|Sigma| + tr(S Sigma^-1) - log|S| - p`` (plus the mean
    part); with ``ordered=`` the model for the latent responses
    ``Sigma* = Delta (Lambda Psi Lambda' + Theta) Delta`` and thresholds
    ``tau* = (tau - nu - Lambda alpha) delta`` is fitted to the sample thresholds and
    polychoric correlations ``s`` by DWLS,
    ``F = sum_g (N_g - 1)/(N - G) (s_g - sigma_g)' diag(Gamma_g)^-1 (s_g - sigma_g)``
    (see the module docstring).

    Parameters
    ----------
    data : DataFrame
        One row per respondent; the model's indicators as numeric columns.
    model : str
        lavaan model syntax (``f =~ x1 + x2 + x3``; ``~~``; ``~ 1``; fixed
        values ``0*``, labels ``a*``, ``NA*``; see
        :mod:`veplab.factor_analysis.lavaan_syntax`).
    group : str, optional
        Column defining groups for a multi-group model (lavaan ``group=``).
        Groups are taken in order of first appearance in the data, as lavaan
        does.
    equal : names
        lavaan ``group.equal``: any of ``"loadings"``, ``"intercepts"``,
        ``"means"``, ``"residuals"``, ``"residual.covariances"``,
        ``"lv.variances"``, ``"lv.covariances"``.
    partial : names
        lavaan ``group.partial``: parameters exempt from ``equal``, written
        as lavaan does (``"f=~x2"``, ``"x3~1"``).
    std_lv : bool
        Fix factor variances to 1 and free all loadings (lavaan ``std.lv``).
        With ``equal`` containing ``"loadings"``, factor variances in groups
        2, 3, ... are freed, as lavaan does.
    estimator : {"ML", "WLSMV"}, optional
        Normal-theory maximum likelihood (lavaan ``estimator = "ML"``), the default
        for continuous indicators; ``"WLSMV"`` (the default, and the only choice,
        with ``ordered=``): DWLS estimates, robust standard errors
        (``se = "robust.sem"``) and the scaled-shifted test (``test =
        "scaled.shifted"``), as lavaan.
    missing : {"listwise", "ml"}
        ``"listwise"``: rows with a missing indicator (or group) are dropped,
        with a warning saying how many.  ``"ml"`` (aliases ``"fiml"``,
        ``"direct"``; lavaan's ``missing = "ml"``): full-information maximum
        likelihood on every row with at least one indicator observed (rows
        missing every indicator, or the group, are dropped with a warning);
        always with a mean structure, standard errors from the observed
        information, the H1 model by EM (see the module docstring).  Valid
        when data are missing at random given the observed indicators.
    meanstructure : "default" or bool
        ``"default"``: a mean structure when ``group`` is given or the model
        has ``~ 1`` terms, as lavaan.
    ci : float
        Level of the Wald intervals of the parameters (lavaan ``level``).
    rmsea_ci : float
        Level of the RMSEA interval (lavaan's default 0.90).
    ordered : True or column names, optional
        The indicators are ordinal (lavaan ``ordered=``): ``True`` for all of them,
        or their names (all indicators must be listed; mixing ordinal and
        continuous indicators is not supported).  Columns hold integer category
        codes; categories are the distinct values over all groups, and each must
        occur in every group.  Rows with a missing indicator are dropped
        (listwise, with a warning).
    parameterization : {"delta", "theta"}
        lavaan's ``parameterization``.  ``"delta"`` (default): scaling factors
        ``~*~`` are parameters (1 in group 1) and residual variances are computed;
        ``"theta"``: residual variances are parameters (1 in group 1; free in
        groups 2, 3, ... when thresholds are equal) and the scaling factors
        ``delta = 1 / sqrt(diag(Lambda Psi Lambda' + Theta))`` are computed.
        The two give the same fit.
    id_cat : {"default", "Wu.Estabrook.2016"}
        Identification of multi-group ordinal models.  ``"default"`` is lavaan's:
        equal thresholds free the scaling factors and the latent means of
        groups 2, 3, ...  ``"Wu.Estabrook.2016"`` (semTools' ``ID.cat``): equal
        thresholds free the scaling factors and the item intercepts of groups
        2, 3, ... (latent means stay 0 unless ``"intercepts"`` are equal too).
        Needs at least three categories per item.

    Returns
    -------
    CFAResult
        Fit measures as fields, ``n`` (rows used), ``n_dropped``,
        ``missing`` ("listwise" or "ml"), ``n_patterns`` (missing-data
        patterns per group), ``parameters`` (lhs, op, rhs, group,
        group_label, label, free, est, se, z, pvalue, ci_low, ci_high,
        std_all) like lavaan's ``parameterEstimates(fit, standardized =
        TRUE)``, implied and sample moments per group.

    A latent variable may share its name with a column of the data (e.g. a
    scale score); the name on the left of ``=~`` always means the latent.
    For a saturated model (df = 0) the chi-square p-value and the RMSEA
    close-fit p-value are undefined (NaN), as in lavaan.

    Warns when a residual variance is negative (a Heywood case), when the
    latent covariance matrix is not positive definite, when there are fewer
    than 5 cases per free parameter, and when the optimiser does not converge.

    For ordinal fits the result also has ``chisq_scaled``, ``df_scaled``,
    ``pvalue_scaled``, ``chisq_scaling_factor``, ``chisq_shift``,
    ``baseline_chisq_scaled``, ``cfi_scaled``, ``tli_scaled``, ``rmsea_scaled``
    (lavaan's ``fitMeasures`` of the same names), ``sample_thresholds`` per group,
    and ``parameters`` with the thresholds (``op == "|"``, ``rhs`` ``t1``, ``t2``,
    ...), the scaling factors (``~*~``) and the computed residual variances
    (``se = 0``).  The log-likelihood, AIC and BIC are NaN (not defined for DWLS)
    and so are the RMSEA interval and close-fit test (lavaan's are for the
    unscaled statistic; use ``rmsea_scaled``).

    References
    ----------
    Rosseel Y (2012). lavaan: an R package for structural equation modeling. J Stat
    Softw 48(2).  Muthén B (1984). Psychometrika 49, 115-132.  Muthén B, du Toit SHC,
    Spisic D (1997). Robust inference using weighted least squares and quadratic
    estimating equations in latent variable modeling with categorical and continuous
    outcomes.  Asparouhov T, Muthén B (2010). Simple second order chi-square
    correction.  Wu H, Estabrook R (2016). Psychometrika 81, 1014-1045.  Ordinal
    results agree with ``lavaan::cfa(ordered=, estimator = "WLSMV")`` 0.6.14
    (tests/reference/validity_cfa_ordinal.R).

    Examples
    --------
    >>> fit = cfa(df, "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6")  # doctest: +SKIP
    >>> fit.cfi, fit.rmsea, fit.parameters.query("op == '=~'")  # doctest: +SKIP

    Ordinal items (four categories):

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> eta = rng.normal(size=500)
    >>> items = {f"y{j}": 1 + np.digitize(0.7 * eta + rng.normal(scale=0.7, size=500),
    ...                                   [-0.8, 0.0, 0.8]) for j in range(1, 5)}
    >>> fit = cfa(pd.DataFrame(items), "f =~ y1 + y2 + y3 + y4", ordered=True)
    >>> fit.estimator, fit.df, fit.npar
    ('WLSMV', 2, 16)
    >>> bool(fit.cfi_scaled > 0.95), bool(fit.pvalue_scaled > 0.01)
    (True, True)
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"cfa: data must be a pandas DataFrame, got {type(data).__name__}")
    ci = check_ci(ci)
    rmsea_ci = check_ci(rmsea_ci)
    is_ordinal = ordered is not None and ordered is not False and not (
        isinstance(ordered, (list, tuple)) and len(ordered) == 0)
    if estimator is None:
        estimator = "WLSMV" if is_ordinal else "ML"
    check_choice(estimator, "estimator", ("ML", "WLSMV"))
    if is_ordinal != (estimator == "WLSMV"):
        raise InputError(
            "cfa: estimator='WLSMV' is for ordered indicators (give ordered=True or the ordered "
            "columns) and ordered indicators need estimator='WLSMV' (or leave estimator unset)"
        )
    missing = _normalise_missing(missing)
    if meanstructure not in ("default", True, False):
        raise InputError(f"cfa: meanstructure must be 'default', True or False; got {meanstructure!r}")
    equal_t = _normalise_equal(equal)
    partial_t = (partial,) if isinstance(partial, str) else tuple(partial)
    parsed = parse_model(model)
    if group is not None and group not in data.columns:
        raise InputError(f"cfa: group column {group!r} is not in the data")
    if group is None and (equal_t or partial_t):
        raise InputError("cfa: equal= and partial= need group= (they constrain parameters across groups)")
    _check_model_names(parsed, [str(c) for c in data.columns], group)
    ov, lv = list(parsed.observed), list(parsed.latent)
    if not lv:
        raise InputError("cfa: the model defines no latent variable; write 'factor =~ item1 + item2 + ...'")
    if is_ordinal:
        if missing != "listwise":
            raise InputError("cfa: ordered indicators (WLSMV) use listwise deletion; drop missing=")
        return cfa_ordinal(data, model, parsed, ordered=ordered or True, group=group, equal_t=equal_t,
                           partial_t=partial_t, std_lv=std_lv, parameterization=parameterization,
                           id_cat=id_cat, ci=ci)
    if "thresholds" in equal_t:
        raise InputError("cfa: equal='thresholds' is for ordered indicators (give ordered=)")
    has_int = any(r.op == "~1" for r in parsed.rows)
    fiml = missing == "ml"
    if fiml and meanstructure is False:
        raise InputError(
            "cfa: missing='ml' (FIML) needs a mean structure (lavaan sets meanstructure = TRUE); "
            "drop meanstructure=False"
        )
    ms = (group is not None or has_int or fiml) if meanstructure == "default" else bool(meanstructure)
    if not ms and has_int:
        raise InputError("cfa: the model has '~ 1' terms but meanstructure=False")
    if not ms and any(e in equal_t for e in ("intercepts", "means")):
        raise InputError("cfa: equal intercepts or means need a mean structure (meanstructure=True)")

    col_of = {str(c): c for c in data.columns}
    X = numeric_frame(data[[col_of[v] for v in ov]], what=_WHAT)
    X.columns = ov
    notes: list[str] = []
    groups = None
    if fiml:
        keep = pd.Series(True, index=X.index)
        if group is not None:
            no_group = data[group].isna().to_numpy()
            if no_group.any():
                _warn_dropped(notes, X.index, no_group, f"with a missing group ({group!r}) value")
            keep &= ~no_group
        empty = (X.isna().all(axis=1) & keep).to_numpy()
        if empty.any():
            _warn_dropped(notes, X.index, empty,
                          "missing every indicator (FIML cannot use them; lavaan drops them too)")
        keep &= ~empty
    else:
        keep = X.notna().all(axis=1)
        if group is not None:
            keep &= data[group].notna()
    n_dropped = int((~keep).sum())
    if n_dropped and not fiml:
        msg = (f"dropped {n_dropped} of {len(X)} rows with missing values (listwise deletion: "
               f"{format_rows(list(X.index[~keep]))})")
        warnings.warn(f"cfa: {msg}", stacklevel=2)
        notes.append(msg)
    X = X[keep]
    if group is not None:
        groups = data.loc[keep, group]
    if fiml:
        labels, S, ybar, nobs, patterns, h1_ll, base_ll = _group_moments_fiml(X, groups, ov)
    else:
        labels, S, ybar, nobs = _group_moments(X, groups, ov)
        patterns = [[_Pattern(obs=np.arange(len(ov)), n=n, mean=m, cov=s)] for n, m, s in zip(nobs, ybar, S)]
    G = len(labels)
    if group is not None and G < 2:
        raise InputError(f"cfa: group column {group!r} has a single group ({labels[0]!r}); drop group=")

    rows = _build_partable(parsed, ov, lv, G, std_lv, ms, equal_t, partial_t)
    _check_identification(rows, ov, lv, G)
    p = len(ov)
    pstar = p * (p + 1) // 2 + (p if ms else 0)
    if fiml:
        mdl: _Model = _FimlModel(rows, p, len(lv), G, S, ybar, nobs, patterns, h1_ll)
    else:
        mdl = _Model(rows, p, len(lv), G, ms, S, ybar, nobs)
    npar = mdl.nx
    df = G * pstar - npar
    if df < 0:
        raise InputError(
            f"cfa: the model has {npar} free parameters but only {G * pstar} sample moments "
            f"(df = {df}): not identified. Fix or constrain parameters, or add indicators"
        )
    N = mdl.N
    if N < 5 * npar:
        msg = (f"N = {N} is less than 5 cases per free parameter ({npar} parameters); estimates, "
               f"standard errors and fit indices may be unstable")
        warnings.warn(f"cfa: {msg}", stacklevel=2)
        notes.append(msg)

    x, converged, iterations = _optimise(mdl, _start_values(mdl, lv, "lavaan"))
    if not converged:  # try again from principal-axis starting values; keep the better fit
        x2, converged2, it2 = _optimise(mdl, _start_values(mdl, lv, "pa"))
        f1, f2 = mdl.discrepancy(x)[0], mdl.discrepancy(x2)[0]
        if (converged2 and (f2 <= f1 + 1e-10 or not math.isfinite(f1))) or (not converged2 and f2 < f1):
            x, converged = x2, converged2
        iterations += it2
    fmin, fgroups = mdl.discrepancy(x)
    if not math.isfinite(fmin):
        raise InputError(
            "cfa: the optimiser could not find a model-implied covariance matrix that is positive "
            "definite; the model is probably misspecified or the data badly scaled"
        )
    if not converged:
        msg = (f"the optimiser did not converge after {iterations} iterations; try a simpler model, "
               f"check the scaling of the items (very different variances), or look for items that "
               f"hardly correlate with their factor")
        warnings.warn(f"cfa: {msg}", stacklevel=2)
        notes.append(msg)

    if fiml:
        # standard errors: observed information (lavaan's default with missing = "ml":
        # information = "observed", observed.information = "hessian"), the Hessian of
        # -logL = (N / 2) sum_g w_g F_g
        info = mdl.hessian(x) * (N / 2.0)
    else:
        # standard errors (expected information, N_g weights)
        _, info = mdl.gradient_information(x, weighted=False)
    vcov = _invert_information(info, mdl, converged)

    # Heywood cases and improper latent covariance matrices
    for g in range(G):
        lam, theta, psi, nu, alpha = mdl.matrices(x, g)
        where = "" if labels[g] is None else f" in group {labels[g]!r}"
        neg = [ov[k] for k in range(p) if theta[k, k] < 0]
        if neg:
            vals = ", ".join(f"{ov[k]} = {theta[k, k]:.4g}" for k in range(p) if theta[k, k] < 0)
            msg = (f"negative residual variance (Heywood case) for {neg}{where} ({vals}); "
                   f"the model may be misspecified, an item may be nearly redundant, or the "
                   f"sample too small. Do not interpret the standardized solution for these items")
            warnings.warn(f"cfa: {msg}", stacklevel=2)
            notes.append(msg)
        if len(lv) and linalg.eigvalsh(psi).min() < 0:
            msg = (f"the covariance matrix of the latent variables{where} is not positive definite "
                   f"(a negative variance or a correlation beyond +-1); check the factor structure")
            warnings.warn(f"cfa: {msg}", stacklevel=2)
            notes.append(msg)

    params = _parameter_table(mdl, x, vcov, labels, ov, lv, ci)

    chisq = float(sum(n * f for n, f in zip(nobs, fgroups)))
    chisq = max(chisq, 0.0) if chisq > -1e-8 else chisq
    pvalue = float(stats.chi2.sf(chisq, df)) if df > 0 else math.nan
    if fiml:
        base_chisq = float(sum(2.0 * (h - b) for h, b in zip(h1_ll, base_ll)))
    else:
        base_chisq = float(sum(
            n * (float(np.sum(np.log(np.diag(s)))) - ld) for n, s, ld in zip(nobs, S, mdl.logdetS)))
    base_df = G * p * (p - 1) // 2
    base_p = float(stats.chi2.sf(base_chisq, base_df)) if base_df > 0 else math.nan
    rmsea = _rmsea(chisq, df, N, G)
    rlo, rhi = _rmsea_ci(chisq, df, N, G, rmsea_ci)
    rmsea_p = float(1.0 - _pchisq(chisq, df, N * df * 0.05**2 / G)) if df > 0 else math.nan
    srmr, srmr_nomean = _srmr(mdl, x)
    if isinstance(mdl, _FimlModel):  # fiml
        loglik_h1 = float(sum(h1_ll))
        loglik = float(sum(mdl.loglik(x)))
    else:
        loglik_h1 = float(sum(-n / 2.0 * (p * math.log(2 * math.pi) + ld + p)
                              for n, ld in zip(nobs, mdl.logdetS)))
        loglik = loglik_h1 - chisq / 2.0

    implied_cov, implied_mean, sample_cov, sample_mean = {}, {}, {}, {}
    for g in range(G):
        key = labels[g] if labels[g] is not None else "all"
        sig, mu = mdl.implied(x, g)
        implied_cov[key] = pd.DataFrame(sig, index=ov, columns=ov)
        implied_mean[key] = pd.Series(mu if ms else ybar[g], index=ov)
        sample_cov[key] = pd.DataFrame(S[g], index=ov, columns=ov)
        sample_mean[key] = pd.Series(ybar[g], index=ov)

    return CFAResult(
        chisq=chisq,
        df=int(df),
        pvalue=pvalue,
        baseline_chisq=base_chisq,
        baseline_df=int(base_df),
        baseline_pvalue=base_p,
        cfi=_cfi(chisq, df, base_chisq, base_df),
        tli=_tli(chisq, df, base_chisq, base_df),
        rmsea=rmsea,
        rmsea_ci_low=rlo,
        rmsea_ci_high=rhi,
        rmsea_pvalue=rmsea_p,
        srmr=srmr,
        srmr_nomean=srmr_nomean,
        loglik=loglik,
        unrestricted_loglik=loglik_h1,
        aic=-2.0 * loglik + 2.0 * npar,
        bic=-2.0 * loglik + math.log(N) * npar,
        sabic=-2.0 * loglik + math.log((N + 2.0) / 24.0) * npar,
        npar=int(npar),
        n=int(N),
        ngroups=G,
        n_dropped=n_dropped,
        converged=bool(converged),
        iterations=int(iterations),
        estimator=estimator,
        std_lv=bool(std_lv),
        meanstructure=bool(ms),
        ci=ci,
        rmsea_ci_level=rmsea_ci,
        parameters=params,
        group_sizes=pd.Series(nobs, index=[lab if lab is not None else "all" for lab in labels], name="n"),
        implied_cov=implied_cov,
        implied_mean=implied_mean,
        sample_cov=sample_cov,
        sample_mean=sample_mean,
        model=model,
        equal=equal_t,
        partial=partial_t,
        group=group,
        notes=tuple(notes),
        missing=missing,
        n_patterns=tuple(len(pp) for pp in patterns),
    )


def _row_name(r: _Row) -> str:
    return f"{r.lhs} ~ 1" if r.op == "~1" else f"{r.lhs} {r.op} {r.rhs}"


def _invert_information(info: np.ndarray, mdl: _Model, converged: bool = True) -> np.ndarray:
    if mdl.nx == 0:
        return np.zeros((0, 0))
    d = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    scaled = info / np.outer(d, d)
    vals, vecs = linalg.eigh(scaled)
    if not np.all(np.isfinite(vals)) or vals[0] < 1e-10 * max(vals[-1], 1.0):
        v = vecs[:, 0]
        names = []
        for k in np.argsort(-np.abs(v)):
            if abs(v[k]) < 0.1:
                break
            r = next(r for r in mdl.rows if r.x == k)
            names.append(_row_name(r) + (f" (group {r.group + 1})" if mdl.G > 1 else ""))
        if not converged:
            raise InputError(
                "cfa: the optimiser did not converge and the information matrix is singular "
                f"where it stopped (parameters involved: {names}): the model is empirically "
                "unidentified for these data, e.g. groups too small for the model or a factor "
                "whose variance collapses to zero. Try a simpler model, pool small groups, or "
                "check the items' scaling"
            )
        raise InputError(
            "cfa: the model is not identified (the information matrix is singular); the "
            f"parameters involved: {names}. Fix a loading or a variance to set each factor's "
            f"scale, give every factor at least three indicators (or two with a correlated "
            f"factor), or drop the offending covariance"
        )
    inv = ((vecs / vals) @ vecs.T) / np.outer(d, d)
    return (inv + inv.T) / 2.0


def _srmr(mdl: _Model, x: np.ndarray) -> tuple[float, float]:
    """lavaan srmr_bentler (with mean residuals when there is a mean structure) and _nomean."""
    p = mdl.p
    iu = np.tril_indices(p)
    tot, nomean = 0.0, 0.0
    for g in range(mdl.G):
        sig, mu = mdl.implied(x, g)
        sd = np.sqrt(np.diag(mdl.S[g]))
        rc = ((mdl.S[g] - sig) / np.outer(sd, sd))[iu]
        cov_part = float(np.sqrt(np.sum(rc**2) / rc.size))
        if mdl.meanstructure:
            rm = (mdl.ybar[g] - mu) / sd
            total = float(np.sqrt((np.sum(rc**2) + np.sum(rm**2)) / (rc.size + p)))
        else:
            total = cov_part
        tot += mdl.w[g] * total
        nomean += mdl.w[g] * cov_part
    return tot, nomean


def _parameter_table(
    mdl: _Model, x: np.ndarray, vcov: np.ndarray, labels: list[Any], ov: list[str], lv: list[str], ci: float
) -> pd.DataFrame:
    zcrit = float(stats.norm.ppf(0.5 + ci / 2.0))
    recs = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for g in range(mdl.G):
            lam, theta, psi, nu, alpha = mdl.matrices(x, g)
            sig, _ = mdl.implied(x, g)
            ov_sd = np.sqrt(np.where(np.diag(sig) > 0, np.diag(sig), np.nan))
            lv_var = np.diag(psi).copy()
            lv_sd = np.sqrt(np.where(lv_var > 0, lv_var, np.nan))
            for r in mdl.by_group[g]:
                est = float(x[r.x]) if r.free else float(r.value)
                if r.free:
                    se = float(math.sqrt(vcov[r.x, r.x])) if vcov[r.x, r.x] >= 0 else math.nan
                    z = est / se if se > 0 else math.nan
                    pv = float(2.0 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan
                    lo, hi = est - zcrit * se, est + zcrit * se
                else:
                    se, z, pv, lo, hi = 0.0, math.nan, math.nan, est, est
                if r.mat == "lambda":
                    std = est * lv_sd[r.j] / ov_sd[r.i]
                elif r.mat == "theta":
                    if r.i == r.j:
                        std = est / sig[r.i, r.i]
                    else:
                        std = est / math.sqrt(abs(theta[r.i, r.i]) * abs(theta[r.j, r.j]))
                elif r.mat == "psi":
                    std = est / (lv_sd[r.i] * lv_sd[r.j])
                elif r.mat == "nu":
                    std = est / ov_sd[r.i]
                else:
                    std = est / lv_sd[r.i]
                recs.append({
                    "lhs": r.lhs,
                    "op": r.op,
                    "rhs": r.rhs,
                    "group": g + 1,
                    "group_label": labels[g],
                    "label": r.label,
                    "free": bool(r.free),
                    "est": est,
                    "se": se,
                    "z": z,
                    "pvalue": pv,
                    "ci_low": lo,
                    "ci_high": hi,
                    "std_all": float(std),
                })
    return pd.DataFrame.from_records(recs)


def _warn_dropped(notes: list[str], index: pd.Index, mask: np.ndarray, why: str) -> None:
    """Warn (at the caller's caller) and note that the rows of ``index`` under ``mask`` were dropped."""
    msg = f"dropped {int(mask.sum())} of {len(index)} rows {why}: {format_rows(list(index[mask]))}"
    warnings.warn(f"cfa: {msg}", stacklevel=3)
    notes.append(msg)
