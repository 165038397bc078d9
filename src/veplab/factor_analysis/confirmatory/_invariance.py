"""Measurement invariance across groups: :func:`invariance` (configural, metric, scalar, strict)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from veplab._validate import InputError

from ._common import INVARIANCE_LEVELS
from ._results import CFAResult, InvarianceResult
from ._fit_measures import _rmsea
from ._fit import cfa


def invariance(
    data: pd.DataFrame,
    model: str,
    group: str,
    *,
    levels: Sequence[str] = ("configural", "metric", "scalar"),
    std_lv: bool = False,
    partial: str | Sequence[str] = (),
    missing: str = "listwise",
    ci: float = 0.95,
    cfi_cutoff: float = -0.010,
    rmsea_cutoff: float = 0.015,
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

    Returns an :class:`InvarianceResult`: ``.table`` (one row per model),
    ``.fits`` (level -> :class:`CFAResult`), ``.summary()``.

    Example
    -------
    >>> res = invariance(df, "grievance =~ g1 + g2 + g3 + g4", group="gender")  # doctest: +SKIP
    >>> res.table[["model", "cfi", "delta_cfi", "verdict"]]  # doctest: +SKIP
    """
    if isinstance(levels, str):
        levels = (levels,)
    levels = list(levels)
    if len(levels) < 1:
        raise InputError("invariance: give at least one level, e.g. ('configural', 'metric', 'scalar')")
    for lev in levels:
        if lev not in INVARIANCE_LEVELS:
            raise InputError(
                f"invariance: unknown level {lev!r}; use {', '.join(map(repr, INVARIANCE_LEVELS))}"
            )
    if len(set(levels)) != len(levels):
        raise InputError(f"invariance: levels repeat: {levels}")
    for a, b in zip(levels, levels[1:]):
        if not set(INVARIANCE_LEVELS[a]) < set(INVARIANCE_LEVELS[b]):
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
        rec = {
            "model": lev,
            "equal": ", ".join(INVARIANCE_LEVELS[lev]) or "none",
            "npar": f.npar,
            "chisq": f.chisq,
            "df": f.df,
            "pvalue": f.pvalue,
            "cfi": f.cfi,
            "tli": f.tli,
            "rmsea": f.rmsea,
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
        if prev is not None:
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
