"""Statistical disclosure control of published tables and figures.

Every table and figure that leaves the secure environment passes this gate
(the practice of national statistics offices and of output checking in
trusted research environments: R's **sdcTable** and tau-ARGUS for tables,
**ACRO** for research outputs; Hundepool et al., *Statistical Disclosure
Control*, Wiley 2012, ch. 4-5).

Frequency tables (:func:`suppress_counts`)
------------------------------------------
*Primary suppression*: a cell counting ``0 < count < threshold`` people is
hidden.  The threshold is a study parameter (default 10, as most research
environments use; statistics offices use 3, 5 or 10); values below 3 are
refused.

*Zeros* are published by default (``zeros="safe"``): an empty cell says that
nobody has a characteristic, which is the usual convention (it is often a
structural zero, and suppressing zeros would hide most of a sparse table).
A zero can disclose, though: when every cell of a row but one is zero, all
members of that row category share the remaining column's attribute (group
or attribute disclosure, "everyone from prison X in this table is a VEP").
Such rows and columns are listed in :attr:`SuppressedTable.notes`; pass
``zeros="primary"`` to suppress zeros as well when that matters.

*Secondary suppression*: published margins (row, column and grand totals)
let a reader solve for a single hidden cell.  Cells are hidden in addition
until no suppressed cell can be recovered exactly:

1. every line (a row or column together with its total) holding a suppressed
   cell holds at least two -- the other one chosen among the line's published
   cells preferring, in order: inner cells over totals, non-zero cells (a zero
   only protects in one direction), cells whose other line already holds a
   suppressed cell (no cascade), the smallest value;
2. a real check: for every suppressed cell the smallest and largest value
   consistent with the published cells, the margins and non-negativity are
   found by linear programming (:func:`protection_intervals`, scipy's HiGHS);
   a cell whose interval is narrower than ``protection`` (default 1: not
   uniquely determined) gets a further secondary cell from its lines, and
   the check runs again.

For a two-way table with margins the constraint matrix is totally unimodular,
so the LP bounds are the integer bounds: an interval of width 0 is exactly a
cell an intruder can recompute.

*Margins*: ``totals="auto"`` recognises a last row and/or column labelled
``Total``/``All`` (as ``pandas.crosstab(margins=True)`` makes) whose values
are the sums; ``"present"`` demands them; ``"add"`` computes and appends them
(then they are cells of the table, suppressed themselves when small);
``"absent"`` means the table has none.  Totals that the table does not show
are *assumed known* to the reader (``known_margins=True``: reports usually
state the number of people per group elsewhere), which is the conservative
choice; when a hidden cell can be recovered from such a margin whatever else
is hidden (a row with a single non-zero cell), :class:`DisclosureError` is
raised: merge categories, or publish with ``totals="add"`` so the margin
itself can be suppressed.

Marks: suppressed cells are shown as ``mark`` (default ``"‡"``) with the
footnote ``"‡ suppressed: fewer than 10 people (or to protect another
suppressed cell)"``.  Primary and secondary cells carry the same mark and the
JSON form never says which is which (that would tell a reader which cells are
small).

Statistics by group (:func:`suppress_stats`), magnitudes (:func:`dominance`,
:func:`suppress_magnitudes`) and figures (:func:`gate_series`) are below.
"""

from __future__ import annotations

from ._common import DEFAULT_MARK, MIN_THRESHOLD, DisclosureError, check_threshold, footnote
from ._tables import SuppressedTable
from .counts import suppress_counts, suppress_magnitudes
from .figures import GatedSeries, gate_series
from .intervals import is_protected, protection_intervals
from .magnitudes import dominance
from .stats import COUNT_COLUMNS, count_columns, suppress_stats

__all__ = [
    "DEFAULT_MARK",
    "MIN_THRESHOLD",
    "DisclosureError",
    "SuppressedTable",
    "GatedSeries",
    "check_threshold",
    "footnote",
    "suppress_counts",
    "suppress_magnitudes",
    "suppress_stats",
    "protection_intervals",
    "is_protected",
    "dominance",
    "gate_series",
    "COUNT_COLUMNS",
    "count_columns",
]
