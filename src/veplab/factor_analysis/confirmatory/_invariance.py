"""Measurement invariance across groups: :func:`invariance` (configural, metric, scalar, strict)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from veplab._validate import InputError

from ._common import INVARIANCE_LEVELS, ORDINAL_INVARIANCE_LEVELS
from ._ordinal import _satorra2000
from ._results import CFAResult, DifferenceTest, InvarianceResult
from ._fit_measures import _rmsea
from ._fit import cfa


def invariance(
    data: pd.DataFrame,
    model: str,
    group: str,
    *,
    levels: Sequence[str] | None = None,
    std_lv: bool = False,
    partial: str | Sequence[str] = (),
    missing: str = "listwise",
    ci: float = 0.95,
    cfi_cutoff: float = -0.010,
    rmsea_cutoff: float = 0.015,
    ordered: bool | str | Sequence[str] | None = None,
    parameterization: str = "delta",
) -> InvarianceResult:
    """Measurement invariance across groups: configural, metric, scalar (, strict).

    Fits :func:`cfa` with ``group=`` and the cumulative ``equal=`` of each
    level (``configural``: none; ``metric``: loadings; ``scalar``: loadings and
    intercepts; ``strict``: also residual variances), then compares each model
    with the previous one:

    * ``delta_chisq``, ``delta_df``, ``delta_pvalue``: the chi-square
      difference test of nested ML models, as ``lavaan::lavTestLRT`` (and
      ``anova``) for the standard test; ``rmsea_d`` is the RMSEA of that
      difference (lavTestLRT's ``RMSEA`` column);
    * ``delta_cfi``, ``delta_rmsea``, ``delta_srmr``: the change in the index
      (more constrained minus less constrained);
    * ``verdict``: ``"tenable"`` when ``delta_cfi >= cfi_cutoff`` (-0.010) and
      ``delta_rmsea <= rmsea_cutoff`` (0.015), ``"not tenable"`` when both are
      beyond, ``"unclear"`` when they disagree (Chen 2007; Cheung & Rensvold
      2002).  These cut-offs are conventions from simulation studies, guidance
      rather than a test: read them with the chi-square difference, the sample
      size and the size of the non-invariant parameters.

    ``missing`` is passed to :func:`cfa` (``"listwise"`` or ``"ml"`` for
    FIML); with ``"ml"`` the difference tests compare FIML chi-squares, as
    ``lavTestLRT`` does for ``missing = "ml"`` fits.

    ``partial`` (lavaan ``group.partial``) frees named parameters in every
    level, for partial invariance (e.g. ``partial=("x3~1",)``).

    Ordinal items (``ordered=True`` or the item names): the models are fitted by
    WLSMV (:func:`cfa` with ``estimator="WLSMV"``) and the levels are those of
    Wu & Estabrook (2016) (:data:`ORDINAL_INVARIANCE_LEVELS`): ``configural``;
    ``thresholds`` (thresholds equal; item intercepts and scaling factors free in
    groups 2, 3, ..., latent means 0, ``id_cat="Wu.Estabrook.2016"``);
    ``metric`` (thresholds and loadings); ``scalar`` (thresholds, loadings and
    intercepts: lavaan's ``group.equal = c("thresholds", "loadings")``, latent
    means free in groups 2, 3, ...).  For items with three categories the
    thresholds model is equivalent to the configural one (same fit, zero df
    difference for those items; Wu & Estabrook 2016).  The table's ``chisq``,
    ``cfi``, ``tli`` and ``rmsea`` are the scaled (robust) versions
    (``chisq_dwls`` is the unscaled DWLS statistic), and ``delta_chisq`` is the
    scaled-shifted difference test of Satorra (2000) as ``lavTestLRT`` computes
    it for WLSMV fits (``method = "satorra.2000"``), see
    :func:`scaled_difference_test`.  ``parameterization`` ("delta" or "theta") is
    passed to :func:`cfa`; under "theta" equal thresholds free the residual
    variances (instead of the scaling factors) of groups 2, 3, ...

    Returns an :class:`InvarianceResult`: ``.table`` (one row per model),
    ``.fits`` (level -> :class:`CFAResult`), ``.summary()``.

    The model of group ``g`` is ``Sigma_g = Lambda_g Phi_g Lambda_g' + Theta_g``,
    ``mu_g = nu_g + Lambda_g kappa_g``; metric sets ``Lambda_g = Lambda``, scalar also
    ``nu_g = nu``, strict also ``Theta_g = Theta``.  Each model ``c`` is compared with
    the less constrained ``f`` before it (``N`` rows, ``G`` groups)::

        delta_chisq = chisq_c - chisq_f,  delta_df = df_c - df_f
        rmsea_d = sqrt(G) sqrt(max(delta_chisq / (N delta_df) - 1 / N, 0))
        delta_cfi = cfi_c - cfi_f

    Raises
    ------
    InputError
        Unknown or non-nested ``levels``, no ``group``, or what :func:`cfa` refuses.

    References
    ----------
    Meredith W (1993). Measurement invariance, factor analysis and factorial invariance.
    Psychometrika 58, 525-543.
    Cheung GW, Rensvold RB (2002). Evaluating goodness-of-fit indexes for testing
    measurement invariance. Structural Equation Modeling 9, 233-255.
    Chen FF (2007). Sensitivity of goodness of fit indexes to lack of measurement
    invariance. Structural Equation Modeling 14, 464-504.
    Wu H, Estabrook R (2016). Identification of confirmatory factor analysis models of
    different levels of invariance for ordered categorical outcomes. Psychometrika 81,
    1014-1045.
    Satorra A (2000). Scaled and adjusted restricted tests in multi-sample analysis of
    moment structures. In Heijmans RDH, Pollock DSG, Satorra A (eds), Innovations in
    Multivariate Statistical Analysis, Kluwer, 233-247.
    Rosseel Y (2012). lavaan: an R package for structural equation modeling. Journal of
    Statistical Software 48(2), 1-36.
    Agrees with R ``lavaan::cfa(group =, group.equal =, group.partial =)`` compared by
    ``lavaan::lavTestLRT`` (the sequence ``semTools::measurementInvariance`` automated;
    tests/reference/validity_cfa.R, validity_cfa_fiml.R, validity_cfa_ordinal.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = rng.standard_normal(300)
    >>> x = pd.DataFrame(np.outer(f, [.8, .7, .6, .7]) + rng.standard_normal((300, 4)) * .6,
    ...                  columns=["g1", "g2", "g3", "g4"])
    >>> x["gender"] = np.repeat(["f", "m"], 150)
    >>> res = invariance(x, "grievance =~ g1 + g2 + g3 + g4", group="gender")
    >>> res.table["df"].tolist(), res.table["delta_chisq"].round(2).tolist()
    ([4, 7, 10], [nan, 1.13, 2.7])
    >>> res.table["verdict"].tolist()[1:]
    ['tenable', 'tenable']
    """
    is_ordinal = ordered is not None and ordered is not False
    table_levels = ORDINAL_INVARIANCE_LEVELS if is_ordinal else INVARIANCE_LEVELS
    if levels is None:
        levels = tuple(table_levels) if is_ordinal else ("configural", "metric", "scalar")
    if isinstance(levels, str):
        levels = (levels,)
    levels = list(levels)
    if len(levels) < 1:
        raise InputError("invariance: give at least one level, e.g. ('configural', 'metric', 'scalar')")
    for lev in levels:
        if lev not in table_levels:
            raise InputError(
                f"invariance: unknown level {lev!r}"
                + (" for ordered items" if is_ordinal else "")
                + f"; use {', '.join(map(repr, table_levels))}"
            )
    if len(set(levels)) != len(levels):
        raise InputError(f"invariance: levels repeat: {levels}")
    for a, b in zip(levels, levels[1:]):
        if not set(table_levels[a]) < set(table_levels[b]):
            raise InputError(
                f"invariance: levels must go from less to more constrained (e.g. configural, "
                f"metric, scalar, strict); {a!r} is not nested in {b!r}"
            )
    if group is None:
        raise InputError("invariance: group= is required (the column defining the groups)")
    fits: dict[str, CFAResult] = {}
    seen_msgs: list[str] = []
    for lev in levels:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if is_ordinal:
                fits[lev] = cfa(data, model, group=group, equal=table_levels[lev], partial=partial,
                                std_lv=std_lv, ci=ci, ordered=ordered, id_cat="Wu.Estabrook.2016",
                                parameterization=parameterization)
            else:
                fits[lev] = cfa(data, model, group=group, equal=INVARIANCE_LEVELS[lev], partial=partial,
                                std_lv=std_lv, missing=missing, ci=ci)
        for w in caught:
            text = str(w.message)
            if text not in seen_msgs:
                seen_msgs.append(text)
                prefix = "" if "dropped" in text or lev == levels[0] else f"[{lev}] "
                warnings.warn(prefix + text, w.category, stacklevel=2)
    recs = []
    prev: CFAResult | None = None
    for lev in levels:
        f = fits[lev]
        rec: dict[str, Any] = {
            "model": lev,
            "equal": ", ".join(table_levels[lev]) or "none",
            "npar": f.npar,
            "chisq": f.chisq_scaled if is_ordinal else f.chisq,
            "df": f.df,
            "pvalue": f.pvalue_scaled if is_ordinal else f.pvalue,
            "cfi": f.cfi_scaled if is_ordinal else f.cfi,
            "tli": f.tli_scaled if is_ordinal else f.tli,
            "rmsea": f.rmsea_scaled if is_ordinal else f.rmsea,
            "rmsea_ci_low": f.rmsea_ci_low,
            "rmsea_ci_high": f.rmsea_ci_high,
            "srmr": f.srmr,
            "aic": f.aic,
            "bic": f.bic,
            "delta_chisq": math.nan,
            "delta_df": math.nan,
            "delta_pvalue": math.nan,
            "rmsea_d": math.nan,
            "delta_cfi": math.nan,
            "delta_rmsea": math.nan,
            "delta_srmr": math.nan,
            "verdict": "reference model (judge by its own fit)",
        }
        if is_ordinal:
            rec["chisq_dwls"] = f.chisq
        if prev is not None and is_ordinal:
            dchi, ddf, dp = scaled_difference_test(prev, f)
            rec["delta_chisq"] = dchi
            rec["delta_df"] = ddf
            rec["delta_pvalue"] = dp
            rec["rmsea_d"] = math.nan
            d_cfi = f.cfi_scaled - prev.cfi_scaled
            d_rmsea = f.rmsea_scaled - prev.rmsea_scaled
            rec["delta_cfi"] = d_cfi
            rec["delta_rmsea"] = d_rmsea
            rec["delta_srmr"] = f.srmr - prev.srmr
            ok_cfi = d_cfi >= cfi_cutoff
            ok_rmsea = d_rmsea <= rmsea_cutoff
            rec["verdict"] = "tenable" if ok_cfi and ok_rmsea else (
                "not tenable" if not ok_cfi and not ok_rmsea else "unclear")
        elif prev is not None:
            dchi = f.chisq - prev.chisq
            ddf = f.df - prev.df
            if dchi < -(np.finfo(float).eps ** (1 / 3)):
                warnings.warn(
                    f"invariance: the {lev} model fits better than the less restricted one "
                    f"(delta chi-square = {dchi:.4g}); the models are not nested or the less "
                    f"restricted model did not reach its optimum",
                    stacklevel=2,
                )
            rec["delta_chisq"] = dchi
            rec["delta_df"] = ddf
            rec["delta_pvalue"] = float(stats.chi2.sf(dchi, ddf)) if ddf > 0 else math.nan
            rec["rmsea_d"] = _rmsea(dchi, ddf, f.n, f.ngroups)
            rec["delta_cfi"] = f.cfi - prev.cfi
            rec["delta_rmsea"] = f.rmsea - prev.rmsea
            rec["delta_srmr"] = f.srmr - prev.srmr
            ok_cfi = rec["delta_cfi"] >= cfi_cutoff
            ok_rmsea = rec["delta_rmsea"] <= rmsea_cutoff
            rec["verdict"] = "tenable" if ok_cfi and ok_rmsea else (
                "not tenable" if not ok_cfi and not ok_rmsea else "unclear")
        recs.append(rec)
        prev = f
    table = pd.DataFrame.from_records(recs)
    first = fits[levels[0]]
    guidance = (
        f"Verdicts are guidance, not a test: 'tenable' when delta CFI >= {cfi_cutoff:g} and delta "
        f"RMSEA <= {rmsea_cutoff:g} relative to the previous model (Chen 2007; Cheung & Rensvold "
        f"2002); read them with the chi-square difference test, the sample size and the size of "
        f"the group differences in the parameters."
    )
    rejected = [lev for lev, v in zip(table["model"], table["verdict"]) if v == "not tenable"]
    if rejected and rejected[0] != levels[-1]:
        guidance += (
            f" The {rejected[0]} model is not tenable, so the levels after it build on a rejected "
            f"model; look for the non-invariant parameters and consider partial invariance "
            f"(partial=...)."
        )
    return InvarianceResult(
        group=group,
        n=first.n,
        ngroups=first.ngroups,
        table=table,
        fits=fits,
        guidance=guidance,
    )


def scaled_difference_test(less: CFAResult, more: CFAResult) -> DifferenceTest:
    """Scaled-shifted chi-square difference test of two nested WLSMV fits (Satorra 2000).

    As ``lavaan::lavTestLRT(less, more)`` for ``estimator = "WLSMV"`` (``method =
    "satorra.2000"``, ``A.method = "delta"``, ``scaled.shifted = TRUE``).  ``less`` is the
    less restricted model (H1), ``more`` the nested one (H0), both from :func:`cfa` with
    ``ordered=`` on the same data.  With ``J1``, ``J0`` the Jacobians of the implied
    (thresholds, correlations) in each model's free parameters, ``A`` the orthogonal
    complement of ``pinv(J1) J0`` (the restrictions, in H1's parameters), ``P`` H1's unit
    information ``sum_g (N_g/N) J_g' W_g J_g``, ``W`` the DWLS weights and ``Gamma`` the
    NACOV::

        M = P^-1 A' (A P^-1 A')^+ A P^-1,   UG = W J M J' W Gamma (groups as lavaan)
        a = sqrt(m / tr(UG^2)),  b = m - a tr(UG),  T = a (T_0 - T_1) + b ~ chi2(m)

    with ``T_0``, ``T_1`` the unscaled DWLS statistics and ``m`` the df difference.

    Returns a :class:`DifferenceTest` (``statistic``, ``df``, ``p``; it unpacks as ``(T, m, p)``).

    References
    ----------
    Satorra A (2000). Scaled and adjusted restricted tests in multi-sample analysis of
    moment structures. In Heijmans, Pollock & Satorra (eds), Innovations in Multivariate
    Statistical Analysis, Kluwer, 233-247.
    Asparouhov T, Muthén B (2010). Simple second order chi-square correction. Mplus
    technical appendix.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> f = rng.normal(size=600)
    >>> df = pd.DataFrame({f"y{j}": 1 + np.digitize(0.7 * f + rng.normal(scale=0.7, size=600),
    ...                   [-0.6, 0.2, 0.9]) for j in range(1, 5)})
    >>> df["g"] = np.repeat(["a", "b"], 300)
    >>> m1 = cfa(df, "f =~ y1 + y2 + y3 + y4", group="g", ordered=True)
    >>> m0 = cfa(df, "f =~ y1 + y2 + y3 + y4", group="g", ordered=True, equal=("thresholds", "loadings"))
    >>> test = scaled_difference_test(m1, m0)
    >>> test.df  # 12 thresholds and 3 loadings equal; 4 scaling factors and 1 mean freed
    10
    >>> t, m, p = test                       # unpacks as lavTestLRT's last row
    """
    for name, fit in (("less", less), ("more", more)):
        if not isinstance(fit, CFAResult) or fit._wls is None:
            raise InputError(f"scaled_difference_test: {name} must be an ordinal (WLSMV) cfa() fit")
    if less.n != more.n or less.ngroups != more.ngroups or less.ordered != more.ordered:
        raise InputError("scaled_difference_test: the two fits must use the same data, items and groups")
    if more.df == less.df:
        raise InputError(f"scaled_difference_test: both fits have df = {less.df}, so there is no restriction to "
                         "test; pass the less restricted fit first and a nested, more restricted one second")
    if more.df < less.df:
        raise InputError(
            f"scaled_difference_test: 'more' (df = {more.df}) must be the more restricted model; "
            f"'less' has df = {less.df}. Swap them"
        )
    return DifferenceTest(*_satorra2000(less._wls, more._wls))
