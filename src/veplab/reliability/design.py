"""The reliability analysis of a study, step by step: what the reliability notebook publishes.

The notebook reads the study's ``analyses.reliability`` options and calls, for each
source with scales, :func:`scales_table` and :func:`items_table` on a
:func:`~veplab.reliability.reliability_report`; for a rating tool, :func:`agreement_columns`
chooses the agreement statistics the design allows and :func:`judgement_spread`
tabulates how the final judgements of three or more assessors spread.  Every
statistic comes from :mod:`veplab.reliability`; these functions only choose, name
and arrange them for the page (``results.json`` keeps the machine names).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .._validate import InputError
from ._report import case_agreement

__all__ = ["scales_table", "items_table", "agreement_columns", "judgement_spread", "NO_MAJORITY"]

#: Row of :func:`judgement_spread` for cases whose assessors gave no majority judgement.
NO_MAJORITY = "No majority"


def scales_table(scales: pd.DataFrame, codebook: Any, lang: str = "en") -> pd.DataFrame:
    """The internal consistency of each scale as the page shows it.

    ``scales`` is ``reliability_report(...).scales``.  Rows are the scales' names in
    ``lang``; columns ``n``, ``k``, ``alpha`` with its interval, ``omega_total`` with its
    interval and ``omega_h``, and -- when a scale's items are scored right or wrong --
    ``coefficient`` naming which of Cronbach's alpha and KR-20 (the same formula on 0/1
    items; Kuder & Richardson 1937) each row is.

    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "a", "label": "a", "type": "likert", "options": {1: "no", 2: "yes"}}],
    ...     "scales": [{"id": "sc", "label": {"en": "Trust"}, "items": ["a"]}]})
    >>> row = {"scale": "sc", "n": 10, "k": 1, "coefficient": "Cronbach's alpha", "alpha": 0.8,
    ...        "alpha_ci_low": 0.7, "alpha_ci_high": 0.9, "omega_total": 0.8, "omega_ci_low": 0.7,
    ...        "omega_ci_high": 0.9, "omega_h": float("nan")}
    >>> scales_table(pd.DataFrame([row]), cb).index.tolist()
    ['Trust']
    """
    named = ["coefficient"] if "coefficient" in scales and (scales["coefficient"] != "Cronbach's alpha").any() else []
    cols = ["n", "k", *named, "alpha", "alpha_ci_low", "alpha_ci_high", "omega_total", "omega_ci_low",
            "omega_ci_high", "omega_h"]
    out = scales.assign(scale=[codebook.scale(s).text(lang) for s in scales["scale"]]).set_index("scale")
    return out[[c for c in cols if c in out.columns]]


def items_table(items: pd.DataFrame) -> pd.DataFrame:
    """The item statistics the page shows, indexed by item id (the page shows the item's text):
    scale, n, mean, SD, corrected item-total correlation, alpha if deleted and the shares of
    *don't know* and *refused* when the report has them."""
    out = items.set_index("item") if "item" in items.columns else items
    cols = [c for c in ("scale", "n", "mean", "sd", "r_drop", "alpha_if_deleted", "dont_know_share", "refused_share")
            if c in out.columns]
    return out[cols]


def agreement_columns(agreement: pd.DataFrame, design: Mapping[str, Any]) -> pd.DataFrame:
    """The agreement statistics the design allows, item by item (``reliability_report(...).agreement``).

    Two ratings per case: percent agreement, Cohen's kappa (weighted for ordered ratings), AC1
    and the ICC.  Three or more (``design["max_per_case"] > 2``): Fleiss' kappa (columns
    renamed ``fleiss_*``) and Krippendorff's alpha instead of Cohen's.  ICC(C,1) only when the
    same assessors rate every case (``design["crossed"]``).  The last column flags the kappa
    paradox.
    """
    multi = design["max_per_case"] > 2
    cols = ["n", "percent_agreement", "kappa", "kappa_weights", "kappa_ci_low", "kappa_ci_high"]
    if multi:
        cols = ["n", "ratings_per_case"] + cols[1:] + ["kripp_alpha", "kripp_level", "kripp_ci_low", "kripp_ci_high"]
    cols += ["ac1", "ac1_ci_low", "ac1_ci_high", "icc", "icc_form", "icc_ci_low", "icc_ci_high"]
    if design["crossed"]:
        cols += ["icc_c", "icc_c_ci_low", "icc_c_ci_high"]
    cols += ["prevalence_paradox"]
    agr = agreement.set_index("item") if "item" in agreement.columns else agreement
    missing = [c for c in cols if c not in agr.columns]
    if missing:
        raise InputError(f"the agreement table lacks {missing}: pass reliability_report(...).agreement")
    shown = agr[cols]
    if multi:
        shown = shown.rename(columns={"kappa": "fleiss_kappa", "kappa_ci_low": "fleiss_ci_low",
                                      "kappa_ci_high": "fleiss_ci_high"})
    return shown


def judgement_spread(wide: pd.DataFrame, levels: Sequence[Any] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How the final judgements of three or more assessors spread, case by case.

    ``wide`` has one row per case and one column per rating (``paired_ratings``).  Returns
    ``(table, spread)``: ``table`` counts cases by the judgement most of their assessors
    gave (rows, in the order of ``levels``, then :data:`NO_MAJORITY`) and whether all of them
    agreed (columns), with totals; ``spread`` holds each case's row and column (the records
    the disclosure gate checks the table against, ``Report.table(data=spread,
    by=["majority", "unanimity"])``).

    >>> import pandas as pd
    >>> w = pd.DataFrame({"r1": ["low", "high", "low"], "r2": ["low", "high", "high"], "r3": ["low", "low", "high"]})
    >>> table, _ = judgement_spread(w, ["low", "high"])
    >>> table.loc["Total"].tolist(), table["Total"].tolist()
    ([1, 2, 3], [1, 2, 0, 3])
    """
    cases = case_agreement(wide)
    order = list(levels) if levels else sorted(cases["majority"].dropna().unique())
    majority = pd.Categorical(cases["majority"].astype(object).where(cases["majority"].notna(), NO_MAJORITY),
                              categories=[*order, NO_MAJORITY])
    unanimity = pd.Categorical(cases["unanimous"].map({True: "All assessors agree", False: "Not all agree"}),
                               categories=["All assessors agree", "Not all agree"])
    spread = pd.DataFrame({"majority": majority, "unanimity": unanimity}, index=cases.index)
    table = pd.crosstab(spread["majority"], spread["unanimity"], dropna=False)
    table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum(axis=0)
    table.index.name, table.columns.name = "judgement of most assessors", "agreement"
    table.index, table.columns = table.index.astype(str), table.columns.astype(str)
    return table, spread
