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

    The statistics are those of :func:`~veplab.reliability.alpha` and
    :func:`~veplab.reliability.omega`::

        alpha = k / (k - 1) * (1 - sum var_i / var_total)
        omega_total = (sum lambda)^2 / ((sum lambda)^2 + sum theta)

    (one-factor ML loadings ``lambda`` and residual variances ``theta``).

    References
    ----------
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334.
    Kuder GF, Richardson MW (1937). The theory of the estimation of test reliability.
    Psychometrika 2, 151-160.
    McDonald RP (1999). Test Theory: A Unified Treatment. Lawrence Erlbaum, Mahwah NJ.
    As R ``psych::alpha``, ``lavaan::cfa`` (omega total) and ``psych::omega`` (omega
    hierarchical; tests/reference/reliability.R).

    Examples
    --------
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
    *don't know* and *refused* when the report has them.

    ``r_drop`` is the corrected item-total correlation ``cor(X_j, T - X_j)`` and
    ``alpha_if_deleted`` the alpha of the scale without the item
    (:func:`~veplab.reliability.item_analysis`).

    References
    ----------
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334.
    The item statistics ``r.drop`` and ``alpha.drop`` of R ``psych::alpha``
    (tests/reference/reliability.R).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import alpha
    >>> df = pd.DataFrame({"i1": [1, 2, 3, 4, 5, 3], "i2": [2, 2, 3, 5, 4, 3],
    ...                    "i3": [1, 3, 3, 4, 5, 2], "i4": [2, 1, 4, 3, 5, 3]})
    >>> items = alpha(df).items.reset_index().assign(scale="trust")
    >>> items_table(items).round(2)
          scale  n  mean    sd  r_drop  alpha_if_deleted
    item
    i1    trust  6  3.00  1.41    0.97              0.84
    i2    trust  6  3.17  1.17    0.79              0.91
    i3    trust  6  3.00  1.41    0.81              0.90
    i4    trust  6  3.00  1.41    0.71              0.93
    """
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

    Kappa, Fleiss' kappa and AC1 share one form, with ``p_o`` the observed and ``p_e``
    the chance agreement (each statistic its own ``p_e``)::

        kappa = (p_o - p_e) / (1 - p_e)

    Raises
    ------
    InputError
        ``agreement`` lacks the columns of ``reliability_report(...).agreement``.

    References
    ----------
    Cohen J (1968). Weighted kappa: nominal scale agreement with provision for scaled
    disagreement or partial credit. Psychological Bulletin 70, 213-220.
    Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychological
    Bulletin 76, 378-382.
    Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of
    high agreement. British Journal of Mathematical and Statistical Psychology 61, 29-48.
    Krippendorff K (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
    Communication, University of Pennsylvania.
    McGraw KO, Wong SP (1996). Forming inferences about some intraclass correlation
    coefficients. Psychological Methods 1, 30-46.
    Feinstein AR, Cicchetti DV (1990). High agreement but low kappa: I. The problems of two
    paradoxes. Journal of Clinical Epidemiology 43, 543-549.
    As R ``psych::cohen.kappa`` and ``psych::ICC`` (tests/reference/reliability.R), and the
    values of ``irrCAC`` quoted in tests/test_reliability.py.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> from veplab.reliability import reliability_report
    >>> cb = from_dict({"id": "tool", "title": "t", "id_column": "case", "items": [
    ...     {"id": "risk", "label": "Risk", "type": "ordinal", "options": {1: "low", 2: "moderate", 3: "high"}}]})
    >>> r = pd.DataFrame({"case": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6], "rater": ["A", "B"] * 6,
    ...                   "risk": [1, 1, 2, 2, 3, 2, 1, 1, 3, 3, 2, 1]})
    >>> rep = reliability_report(r, cb, subject="case", rater="rater", n_boot=50, seed=1)
    >>> shown = agreement_columns(rep.agreement, rep.design)
    >>> int(shown.loc["risk", "n"]), shown.loc["risk", "kappa_weights"], shown.loc["risk", "icc_form"]
    (6, 'quadratic', 'ICC(A,1)')
    >>> round(float(shown.loc["risk", "kappa"]), 3), round(float(shown.loc["risk", "icc_c"]), 3)
    (0.75, 0.818)
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

    A case's majority judgement is the rating more than half of its ``n`` assessors gave
    (``majority = c if n_c > n / 2``; :func:`~veplab.reliability.case_agreement`).

    References
    ----------
    Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychological
    Bulletin 76, 378-382 (the ratings of each case by category, as for Fleiss' kappa).
    The table is R ``table(majority, unanimity)`` with ``addmargins()``.

    Examples
    --------
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
