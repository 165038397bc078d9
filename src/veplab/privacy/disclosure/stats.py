"""Rule 2, statistics by group: each statistic shown only where its group (and any count of
events or cases in it) reaches the threshold (:func:`suppress_stats`)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..._validate import InputError
from ._common import DEFAULT_MARK, _is_total_label, check_threshold
from ._tables import SuppressedTable
from .counts import _finish


# ------------------------------------------------------------------ statistics


#: Columns that count people or events besides the table's n (a row with a small one is hidden).
COUNT_COLUMNS = ("events", "n_events", "cases", "n_cases", "count", "counts")


def count_columns(columns: Sequence[Any]) -> list[Any]:
    """Columns whose values count people or events.

    A column counts when its name (stripped, case-insensitive) is ``n``,
    starts with ``n_`` (``n_pre``, ``n_events``), ends with ``_n``, or is one
    of :data:`COUNT_COLUMNS` (``events``, ``cases``, ``count`` ...).
    :func:`suppress_stats` and the figure check hide a row when any of these is
    between 1 and ``threshold - 1``.

    Parameters
    ----------
    columns:
        Column labels (any hashable; compared as text).

    Returns
    -------
    list
        The counting columns, in their original order and spelling.

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
    >>> count_columns(["group", "n", "N_post", "mean", "events", "scale_n", "index"])
    ['n', 'N_post', 'events', 'scale_n']
    """
    out = []
    for c in columns:
        name = str(c).strip().lower()
        if name in ("n", *COUNT_COLUMNS) or name.startswith("n_") or name.endswith("_n"):
            out.append(c)
    return out


def suppress_stats(
    table: pd.DataFrame,
    n_column: str | Sequence[str],
    threshold: int = 10,
    *,
    columns: Sequence[str] | None = None,
    secondary: bool = True,
    total_row: Hashable | None | str = "auto",
    known_total: bool = True,
    mark: str = DEFAULT_MARK,
    not_counts: Sequence[str] = (),
) -> SuppressedTable:
    """Hide statistics (percentages, means, ...) based on fewer than ``threshold`` people.

    ``table`` has one row per group and a column ``n_column`` with the number
    of people behind the row's statistics.  A row with ``0 < n < threshold``
    has its n and every statistic (``columns``, default: every other column,
    formatted text such as "4.8 (0.2)" included) suppressed.  ``n_column`` may
    name several columns (``["n_pre", "n_post"]``; the first is the group's
    size); columns that count people or events (:func:`count_columns`: ``n_*``,
    ``events`` ...) are checked too: a row with any of them below the
    threshold is hidden.  When every hidden row's n is at least the threshold
    (hidden only for a small count within the group: 3 straight-liners of 341),
    the n stays published and the row's statistics and counts are hidden.
    ``not_counts``: columns named like counts that do not count people
    (optimiser starts, items): never taken for small counts, never hidden.

    Secondary suppression: the overall n is shown in a total row (``total_row``,
    detected by its label ``Total``/``All``) or is assumed known elsewhere
    (``known_total=True``: reports state how many people took part).  Then a
    single hidden n equals the total minus the others, so a second group is
    hidden too -- the smallest group with ``n >= threshold`` -- with its
    statistics (a weighted mean or percentage of the total row would
    otherwise give the hidden group's value back); more groups are hidden
    until the hidden groups together count at least ``threshold`` people.  A
    total row whose own n is below the threshold is suppressed like any group.
    Zero-n rows are shown (their statistics are undefined anyway).

    Several grouping variables stacked in one table (a two-level index such as
    ``(gender, women)``, ``(country, KZ)``, or labels flattened as
    ``"gender / women"``) are protected block by block: each
    first-level block adds up to the known total on its own.  For
    cross-classified groups (country x gender cells), protect the table of n's
    with :func:`suppress_counts` and hide the statistics of the cells it
    suppresses.

    A row is hidden when ``0 < n < threshold``; with a known total ``N`` a
    single hidden ``n_g = N - sum_(h != g) n_h`` could be recomputed, hence the
    secondary suppression until the hidden groups count ``>= threshold``.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5).
    ACRO: Automatic Checking of Research Outputs (SACRO project; github.com/AI-SDC/ACRO),
    whose threshold check on statistics by group this follows.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.privacy import suppress_stats
    >>> st = pd.DataFrame({"n": [52, 4, 55], "mean": [3.1, 2.5, 3.4]},
    ...                   index=pd.Index(["KZ", "TN", "UG"], name="group"))
    >>> suppress_stats(st, "n", threshold=10).published   # KZ hidden too: else TN = N - 52 - 55
            n mean
    group
    KZ      ‡    ‡
    TN      ‡    ‡
    UG     55  3.4
    """
    threshold = check_threshold(threshold)
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"suppress_stats: expected a DataFrame, got {type(table).__name__}")
    n_columns = [n_column] if isinstance(n_column, str) or not isinstance(n_column, Sequence) else list(n_column)
    if not n_columns:
        raise InputError("suppress_stats: n_column names no column")
    absent = [c for c in n_columns if c not in table.columns]
    if absent:
        raise InputError(f"suppress_stats: n column(s) {absent} not in the table; columns are {list(table.columns)}")
    n_column = n_columns[0]
    n = pd.to_numeric(table[n_column], errors="coerce")
    if n.isna().any() or (n < 0).any() or (n != n.round()).any():
        bad = list(table.index[n.isna() | (n < 0) | (n != n.round())])[:5]
        raise InputError(f"suppress_stats: {n_column!r} must hold non-negative whole numbers; bad rows {bad}")
    extra_counts = [c for c in dict.fromkeys([*n_columns[1:], *count_columns(table.columns)])
                    if c != n_column and c not in not_counts]
    if columns is None:
        columns = [c for c in table.columns if c != n_column]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"suppress_stats: columns {missing} not in the table")
    if total_row == "auto":
        total_label = table.index[-1] if len(table) >= 2 and _is_total_label(table.index[-1]) else None
    else:
        total_label = total_row
        if total_label is not None and total_label not in table.index:
            raise InputError(f"suppress_stats: total row {total_label!r} not in the table")
    groups = [x for x in table.index if x != total_label] if total_label is not None else list(table.index)
    ng = n.loc[groups] if total_label is not None else n
    if total_label is not None and not math.isclose(float(ng.sum()), float(n.loc[total_label])):
        raise InputError(f"suppress_stats: the total row's n ({n_column!r}) is not the sum of the groups' n")
    small = (n > 0) & (n < threshold)
    for c in extra_counts:
        v = pd.to_numeric(table[c], errors="coerce")
        small |= (v > 0) & (v < threshold)
    hide = set(x for x in groups if small.loc[x])
    primary_rows = set(hide)
    if total_label is not None and small.loc[total_label]:
        hide.add(total_label)
        primary_rows.add(total_label)
    if secondary and (total_label is not None or known_total):
        total_hidden = total_label is not None and total_label in hide
        blocks: dict[Any, list[Any]] = {}
        if isinstance(table.index, pd.MultiIndex):  # one block per grouping variable
            for x in groups:
                blocks.setdefault(x[0], []).append(x)
        elif groups and all(isinstance(x, str) and " / " in x for x in groups):  # flattened "gender / Woman"
            for x in groups:
                blocks.setdefault(x.split(" / ", 1)[0], []).append(x)
        else:
            blocks = {None: groups}
        for members in blocks.values():
            hidden = [x for x in members if x in hide]
            if not hidden or total_hidden:
                continue
            # a lone hidden group is the total minus the others; hidden groups together are as
            # revealing as one group of their summed size
            while len(hidden) == 1 or sum(n.loc[x] for x in hidden) < threshold:
                cands = [x for x in members if x not in hide and n.loc[x] > 0]
                if not cands:
                    if total_label is not None:
                        hide.add(total_label)
                    break
                pick = min(cands, key=lambda x: (n.loc[x], groups.index(x)))
                hide.add(pick)
                hidden.append(pick)
    pos = {x: i for i, x in enumerate(table.index)}
    mask = np.zeros(table.shape, dtype=bool)
    primary = np.zeros(table.shape, dtype=bool)
    # When every hidden row rests on at least `threshold` people, rows are hidden only for a small
    # count within the group (3 straight-liners of 341): the groups' sizes reveal nothing small, so
    # n stays published and the statistics and counts of those rows are hidden.
    keep_n = all(n.loc[x] >= threshold for x in hide)
    cols = [c for c in [n_column, *columns] if not (keep_n and c == n_column) and c not in not_counts]
    cols_idx = [table.columns.get_loc(c) for c in cols]
    for x in hide:
        for j in cols_idx:
            mask[pos[x], j] = True
            if x in primary_rows:
                primary[pos[x], j] = True
    num = table.copy()
    for c in [n_column, *columns]:
        if pd.api.types.is_numeric_dtype(table[c]):
            num[c] = pd.to_numeric(table[c], errors="coerce")
    return _finish(num, table, None, primary, mask, threshold=threshold, mark=mark, protected=True, protection=1.0,
                   totals="present" if total_label is not None else "absent", notes=(), unit="people")
