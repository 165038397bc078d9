"""Rule 1, count tables: threshold (primary) and secondary suppression
(:func:`suppress_counts`, :func:`suppress_magnitudes`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..._validate import InputError, check_choice
from ._common import DEFAULT_MARK, DisclosureError, _is_total_label, check_threshold, footnote
from ._grid import _Grid, _build_constraints, _secondary, _unsafe_cells
from ._tables import SuppressedTable


# ------------------------------------------------------------------ count tables


def _numeric_table(table: Any, what: str, *, counts: bool) -> pd.DataFrame:
    if isinstance(table, pd.Series):
        table = table.to_frame()
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame of {'counts' if counts else 'values'}, got {type(table).__name__}")
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise InputError(f"{what}: the table is empty")
    try:
        num = table.apply(pd.to_numeric, errors="raise").astype("float64")
    except (TypeError, ValueError):
        raise InputError(f"{what}: every cell must be a number; convert labels to columns or index first") from None
    arr = num.to_numpy()
    bad = np.argwhere(~np.isfinite(arr) | (arr < 0) | ((arr != np.round(arr)) if counts else False))
    if len(bad):
        where = ", ".join(f"({table.index[i]!r}, {table.columns[j]!r})" for i, j in bad[:5])
        kind = "non-negative whole numbers" if counts else "non-negative finite numbers"
        raise InputError(f"{what}: cells must be {kind}; bad cells at {where}" + (" ..." if len(bad) > 5 else ""))
    return num


def _detect_totals(num: pd.DataFrame, totals: str, what: str) -> tuple[pd.DataFrame, bool, bool]:
    """(table, has total row, has total column), with totals='add' appended."""
    check_choice(totals, "totals", ("auto", "present", "absent", "add"))
    arr = num.to_numpy()
    if totals == "add":
        if _is_total_label(num.index[-1]) or _is_total_label(num.columns[-1]):
            raise InputError(f"{what}: totals='add' but the table already ends with a total; use totals='present'")
        out = num.copy()
        out["Total"] = out.sum(axis=1)
        out.loc["Total"] = out.sum(axis=0)
        return out, True, True
    if totals == "absent":
        return num, False, False
    tr = num.shape[0] >= 2 and _is_total_label(num.index[-1])
    tc = num.shape[1] >= 2 and _is_total_label(num.columns[-1])
    if totals == "present" and not (tr and tc):
        raise InputError(
            f"{what}: totals='present' needs a last row and a last column labelled 'Total' (or 'All'); "
            "rename them, or use totals='add' to compute them"
        )
    inner_r = arr.shape[0] - tr
    inner_c = arr.shape[1] - tc
    if tc:
        sums = arr[:, :inner_c].sum(axis=1)
        if not np.allclose(sums, arr[:, inner_c], rtol=0, atol=1e-6):
            raise InputError(f"{what}: the last column {num.columns[-1]!r} is labelled as a total but is not the row sums")
    if tr:
        sums = arr[:inner_r, :].sum(axis=0)
        if not np.allclose(sums, arr[inner_r, :], rtol=0, atol=1e-6):
            raise InputError(f"{what}: the last row {num.index[-1]!r} is labelled as a total but is not the column sums")
    return num, tr, tc


def _make_grid(num: pd.DataFrame, tr: bool, tc: bool, known_margins: bool) -> _Grid:
    arr = num.to_numpy(dtype=np.float64)
    R, C = arr.shape
    r, c = R - tr, C - tc
    inner = arr[:r, :c]
    known_rows = inner.sum(axis=1) if known_margins and not tc else None
    known_cols = inner.sum(axis=0) if known_margins and not tr else None
    known_total = float(inner.sum()) if known_margins else None
    is_margin = np.zeros((R, C), dtype=bool)
    if tr:
        is_margin[r, :] = True
    if tc:
        is_margin[:, c] = True
    cons = _build_constraints(r, c, tr, tc, known_rows, known_cols, known_total)
    return _Grid(values=arr, is_margin=is_margin, constraints=cons, has_total_row=tr, has_total_col=tc)


def _zero_notes(num: pd.DataFrame, tr: bool, tc: bool) -> tuple[str, ...]:
    arr = num.to_numpy()
    r, c = arr.shape[0] - tr, arr.shape[1] - tc
    inner = arr[:r, :c]
    notes = []
    if c >= 2:
        for i in range(r):
            nz = np.flatnonzero(inner[i] > 0)
            if len(nz) == 1:
                notes.append(f"row {num.index[i]!r}: every count but one is zero, so all people in this row fall in "
                             f"column {num.columns[nz[0]]!r} (group disclosure); consider merging categories")
    if r >= 2:
        for j in range(c):
            nz = np.flatnonzero(inner[:, j] > 0)
            if len(nz) == 1:
                notes.append(f"column {num.columns[j]!r}: every count but one is zero, so all people in this column "
                             f"fall in row {num.index[nz[0]]!r} (group disclosure); consider merging categories")
    return tuple(notes)


def _finish(
    num: pd.DataFrame, original: pd.DataFrame, grid: _Grid | None, primary: np.ndarray, mask: np.ndarray, *, threshold: int,
    mark: str, protected: bool, protection: float, totals: str, notes: tuple[str, ...], unit: str,
) -> SuppressedTable:
    pub = original.astype(object).copy()
    pub = pub.where(~mask, mark)
    values = num.where(~mask)
    return SuppressedTable(
        published=pub,
        values=values,
        mask=pd.DataFrame(mask, index=num.index, columns=num.columns),
        primary=pd.DataFrame(primary, index=num.index, columns=num.columns),
        threshold=threshold,
        mark=mark,
        footnote=footnote(threshold, mark, unit=unit),
        protected=protected,
        protection=protection,
        totals=totals,
        notes=notes,
        _grid=grid,
    )


def _protect(
    num: pd.DataFrame, original: pd.DataFrame, primary: np.ndarray, *, tr: bool, tc: bool, threshold: int,
    secondary: bool, known_margins: bool, protection: float, mark: str, notes: tuple[str, ...], what: str,
    unit: str,
) -> SuppressedTable:
    grid = _make_grid(num, tr, tc, known_margins)
    totals = "present" if (tr or tc) else "absent"
    if not secondary:
        unsafe = _unsafe_cells(grid, primary, protection) if primary.any() else []
        return _finish(num, original, grid, primary, primary.copy(), threshold=threshold, mark=mark,
                       protected=not unsafe, protection=protection, totals=totals, notes=notes, unit=unit)
    mask, unsafe = _secondary(grid, primary, protection)
    if unsafe:
        shown = [x for x in unsafe if primary[x]] or unsafe
        where = ", ".join(f"({num.index[i]!r}, {num.columns[j]!r})" for i, j in shown[:5])
        raise DisclosureError(
            f"{what}: cell(s) {where} can be recovered from the row or column totals whatever else is hidden "
            "(the totals are assumed known to readers). Merge small categories, or publish the table with its "
            "totals (totals='add') so that small totals are suppressed too."
        )
    return _finish(num, original, grid, primary, mask, threshold=threshold, mark=mark, protected=True,
                   protection=protection, totals=totals, notes=notes, unit=unit)


def suppress_counts(
    table: pd.DataFrame,
    *,
    threshold: int = 10,
    secondary: bool = True,
    totals: str = "auto",
    zeros: str = "safe",
    known_margins: bool = True,
    protection: float = 1.0,
    mark: str = DEFAULT_MARK,
) -> SuppressedTable:
    """Primary and secondary cell suppression of a frequency table.

    Parameters
    ----------
    table : 2-D DataFrame of counts of people (optionally with a last row
        and/or column of totals labelled ``Total``/``All``).
    threshold : cells with ``0 < count < threshold`` are suppressed (>= 3).
    secondary : add secondary suppressions so no hidden cell can be
        recovered from the published cells and totals (LP-checked).
    totals : ``"auto"`` | ``"present"`` | ``"absent"`` | ``"add"`` (module doc).
    zeros : ``"safe"`` (publish zeros) or ``"primary"`` (suppress them too).
    known_margins : assume totals not shown in the table are known to readers.
    protection : smallest width of the feasible interval of any hidden cell
        (1 = not exactly recoverable; raise it to demand wider ranges, as
        tau-ARGUS protection levels do).
    mark : what suppressed cells show.

    Returns a :class:`SuppressedTable` (``published`` with marks, ``values``
    with NaN, ``mask``, ``to_json_dict()`` with ``null`` + ``suppressed``).
    Raises :class:`DisclosureError` when assumed-known margins give a cell
    away whatever is hidden.

    Comparable to ``sdcTable::protectTable(..., method="SIMPLEHEURISTIC")``
    after ``primarySuppression(type="freq", maxN=threshold-1)``; ACRO's
    threshold check; tau-ARGUS' frequency rule.

    Primary suppression hides ``0 < n_ij < threshold``; secondary suppression
    adds cells until every hidden cell's LP interval (see
    :func:`protection_intervals`) satisfies::

        upper_ij - lower_ij >= protection

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5).
    Cox LH (1980). Suppression methodology and statistical disclosure control. Journal of
    the American Statistical Association 75, 377-385.
    Meindl B. sdcTable: Methods for Statistical Disclosure Control in Tabular Data. R package
    (CRAN); and tau-ARGUS (Statistics Netherlands).
    The intervals agree with lpSolve's ``lp("min"/"max", ...)`` on the same tables
    (tests/reference/privacy.R).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"men": [40, 3, 25], "women": [12, 15, 30]}, index=["KZ", "TN", "UG"])
    >>> s = suppress_counts(t, threshold=10)
    >>> s.published.loc["TN", "men"], s.n_suppressed
    ('‡', 4)
    """
    threshold = check_threshold(threshold)
    check_choice(zeros, "zeros", ("safe", "primary"))
    if protection <= 0:
        raise InputError("protection must be positive (1 = hidden cells not exactly recoverable)")
    num0 = _numeric_table(table, "suppress_counts", counts=True)
    num, tr, tc = _detect_totals(num0, totals, "suppress_counts")
    if totals == "add":
        original = num.round().astype("int64")
    else:
        original = table.to_frame() if isinstance(table, pd.Series) else table
    arr = num.to_numpy()
    primary = (arr < threshold) & ((arr > 0) if zeros == "safe" else True)
    notes = _zero_notes(num, tr, tc) if zeros == "safe" else ()
    return _protect(num, original, primary, tr=tr, tc=tc, threshold=threshold, secondary=secondary,
                    known_margins=known_margins, protection=protection, mark=mark, notes=notes,
                    what="suppress_counts", unit="people")


def suppress_magnitudes(
    table: pd.DataFrame,
    sensitive: pd.DataFrame,
    *,
    secondary: bool = True,
    totals: str = "auto",
    known_margins: bool = True,
    protection: float | None = None,
    threshold: int = 10,
    mark: str = DEFAULT_MARK,
) -> SuppressedTable:
    """Secondary suppression of a magnitude table whose sensitive cells are given.

    ``sensitive`` is a boolean DataFrame shaped like ``table`` -- usually the
    pivoted ``sensitive`` column of :func:`dominance`.  Protection defaults to
    10 % of the largest sensitive cell (an intruder must not narrow a hidden
    magnitude to within that), at least 1.

    The intruder's interval for a hidden cell ``x_ij``, from the published
    cells ``n_ij`` and the margins ``n_i+``, ``n_+j``::

        lower_ij = min x_ij,  upper_ij = max x_ij
        subject to  sum_j x_ij = n_i+,  sum_i x_ij = n_+j,  x >= 0,  x_kl = n_kl (published)

    and the table is protected when ``upper_ij - lower_ij >= protection``
    for every hidden cell.  Here ``protection = max(1, 0.1 * max
    sensitive cell)`` by default.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5).
    Cox LH (1980). Suppression methodology and statistical disclosure control. Journal of
    the American Statistical Association 75, 377-385.
    Meindl B. sdcTable: Methods for Statistical Disclosure Control in Tabular Data. R package
    (CRAN); and tau-ARGUS (Statistics Netherlands).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.privacy import suppress_magnitudes, protection_intervals
    >>> tab = pd.DataFrame({"wing1": [95.0, 75.0], "wing2": [36.0, 43.0]}, index=["A", "B"])
    >>> sens = pd.DataFrame({"wing1": [True, False], "wing2": [False, False]}, index=["A", "B"])
    >>> sm = suppress_magnitudes(tab, sens)
    >>> protection_intervals(sm)[["row", "column", "lower", "upper"]]
      row column  lower  upper
    0   A  wing1   52.0  131.0
    1   A  wing2    0.0   79.0
    2   B  wing1   39.0  118.0
    3   B  wing2    0.0   79.0
    """
    threshold = check_threshold(threshold)
    num0 = _numeric_table(table, "suppress_magnitudes", counts=False)
    num, tr, tc = _detect_totals(num0, totals, "suppress_magnitudes")
    sens = pd.DataFrame(sensitive).reindex(index=num.index, columns=num.columns).fillna(False).astype(bool)
    primary = sens.to_numpy()
    if protection is None:
        protection = max(1.0, 0.1 * float(num.to_numpy()[primary].max())) if primary.any() else 1.0
    original = num if totals == "add" else table
    return _protect(num, original, primary, tr=tr, tc=tc, threshold=threshold, secondary=secondary,
                    known_margins=known_margins, protection=protection, mark=mark, notes=(),
                    what="suppress_magnitudes", unit="contributors or a dominant contributor")
