"""Descriptive statistics: endorsement of items by group, group comparisons and labelled tables.

Submodules
----------
:mod:`veplab.descriptives.shares`       share agreeing with each item, overall and by group, with
                                       Wilson intervals (design-based with a survey design); group
                                       comparisons with adjusted p-values; estimated population shares
:mod:`veplab.descriptives.tables`       crosstabs and counts with codebook labels (the raw material
                                       of published tables)

Charts: :func:`plot_endorsement` (from :mod:`veplab.plots`).
"""

from ..plots import plot_endorsement
from .shares import (
    DEFAULT_BY,
    Endorsement,
    GroupComparison,
    PopulationShares,
    compare_groups,
    endorsement,
    p_adjust,
    population_shares,
    wilson_interval,
)
from .tables import counts, crosstab, labelled, option_label, split_breakdowns, without_digits

__all__ = [
    "endorsement",
    "Endorsement",
    "population_shares",
    "PopulationShares",
    "compare_groups",
    "GroupComparison",
    "p_adjust",
    "wilson_interval",
    "DEFAULT_BY",
    "plot_endorsement",
    "labelled",
    "crosstab",
    "counts",
    "split_breakdowns",
    "without_digits",
    "option_label",
]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
