"""Instrument reliability and rater agreement, verified against R.

Scale reliability: :func:`alpha` (Cronbach's alpha with everything
``psych::alpha`` reports), :func:`omega` (omega total from a one-factor ML
model as lavaan fits it, and Schmid-Leiman omega hierarchical as
``psych::omega``), :func:`item_analysis`.

Rater agreement (ratings are wide: one row per subject, one column per
rater; :func:`long_to_wide` converts long data): :func:`icc` (all six
Shrout-Fleiss / McGraw-Wong forms, as ``psych::ICC``), :func:`icc_oneway`
(raters varying across subjects), :func:`test_retest`,
:func:`cohen_kappa`, :func:`fleiss_kappa`, :func:`krippendorff_alpha`,
:func:`gwet_ac`, :func:`percent_agreement`, :func:`agreement_table`.

:func:`reliability_report` runs the lot over an instrument codebook (two or more raters,
fixed or drawn from a pool: :func:`rating_design`, :func:`case_agreement`); the
plots are :func:`plot_item_stats` and :func:`plot_agreement`.
"""

from ._agreement import (
    AgreementResult,
    KappaResult,
    agreement_table,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac,
    krippendorff_alpha,
    percent_agreement,
)
from ._alpha import AlphaResult, ItemAnalysis, alpha, item_analysis
from ._icc import ICC_FORMS, IccResult, TestRetestResult, icc, icc_oneway, long_to_wide, test_retest
from ._omega import OmegaResult, omega
from ._plots import plot_agreement, plot_item_stats
from ._report import ReliabilityReport, case_agreement, paired_ratings, rating_design, reliability_report

__all__ = [
    "ICC_FORMS",
    "AgreementResult",
    "AlphaResult",
    "IccResult",
    "KappaResult",
    "OmegaResult",
    "ReliabilityReport",
    "paired_ratings",
    "case_agreement",
    "rating_design",
    "TestRetestResult",
    "agreement_table",
    "alpha",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac",
    "icc",
    "icc_oneway",
    "krippendorff_alpha",
    "item_analysis",
    "long_to_wide",
    "omega",
    "percent_agreement",
    "plot_agreement",
    "plot_item_stats",
    "reliability_report",
    "test_retest",
]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
