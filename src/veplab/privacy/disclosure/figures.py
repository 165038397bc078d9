"""Rule 4, figures: the points a chart may draw (:func:`gate_series`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ..._validate import InputError
from ._common import check_threshold


# ------------------------------------------------------------------ figures


@dataclasses.dataclass(frozen=True, eq=False)
class GatedSeries:
    """Figure data after the gate: ``data`` to plot, ``note`` to print under the figure."""

    data: pd.DataFrame
    removed: int
    note: str
    removed_labels: tuple[Any, ...] = dataclasses.field(default=(), repr=False)


def gate_series(
    data: pd.DataFrame,
    n_column: str,
    threshold: int = 10,
    *,
    secondary: bool = True,
    unit: str = "people",
) -> GatedSeries:
    """Remove from figure data the groups based on fewer than ``threshold`` people.

    ``data`` has one row per plotted group (bar, point, line segment) and
    the number of people behind it in ``n_column``.  Rows with
    ``0 < n < threshold`` are removed; with ``secondary=True`` (default), when
    exactly one group is removed, the next smallest group is removed too,
    because the overall number of people is usually stated and would give the
    removed group back (``n_hidden = N - sum(n_shown)``).  ``note`` says how
    many groups are not shown (without naming them: ``removed_labels`` lists
    them for the analyst).

    Parameters
    ----------
    data:
        Figure data, one row per plotted group.
    n_column:
        The column with the number of people behind each row.
    threshold:
        The study's threshold (>= 3).
    secondary:
        Also remove a second group when only one is small.
    unit:
        What ``n`` counts, for the note.

    Returns
    -------
    GatedSeries
        ``data`` (the rows to plot), ``removed`` (how many rows were removed),
        ``note`` (to print under the figure; ``""`` when nothing was removed),
        ``removed_labels``.

    Raises
    ------
    InputError
        ``data`` is not a DataFrame, ``n_column`` is missing or holds negative
        or non-numeric values, or the threshold is below 3.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5: the
    minimum frequency (threshold) rule).
    Brandt M, Franconi L, Guerke C, Hundepool A, Lucarelli M, Mol J, Ritchie F, Seri G,
    Welpton R (2010). Guidelines for the checking of output based on microdata research.
    ESSnet SDC (Eurostat) (rule of thumb: at least 10 units behind a published figure).
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group.
    docs/DESIGN.md, section "Privacy" (the study's threshold, default 10).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"group": ["a", "b", "c"], "n": [40, 4, 25], "mean": [2.1, 3.0, 2.5]})
    >>> g = gate_series(d, "n")
    >>> list(g.data["group"]), g.note
    (['a'], '2 groups with fewer than 10 people (or hidden to protect them) are not shown.')
    >>> g = gate_series(d, "n", secondary=False)
    >>> list(g.data["group"]), g.note
    (['a', 'c'], '1 group with fewer than 10 people is not shown.')
    """
    threshold = check_threshold(threshold)
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"gate_series: expected a DataFrame, got {type(data).__name__}")
    if n_column not in data.columns:
        raise InputError(f"gate_series: n column {n_column!r} not in the data")
    n = pd.to_numeric(data[n_column], errors="coerce")
    if n.isna().any() or (n < 0).any():
        raise InputError(f"gate_series: {n_column!r} must hold non-negative numbers of people")
    small = (n > 0) & (n < threshold)
    drop = small.copy()
    if secondary and int(small.sum()) == 1:
        rest = n[~drop & (n > 0)]
        if len(rest) >= 1:
            drop.loc[rest.idxmin()] = True
    kept = data.loc[~drop]
    removed = int(drop.sum())
    if removed == 0:
        note = ""
    elif int(small.sum()) == removed:
        note = f"{removed} group{'s' if removed != 1 else ''} with fewer than {threshold} {unit} {'are' if removed != 1 else 'is'} not shown."
    else:
        note = f"{removed} groups with fewer than {threshold} {unit} (or hidden to protect them) are not shown."
    return GatedSeries(data=kept, removed=removed, note=note, removed_labels=tuple(data.index[drop]))
