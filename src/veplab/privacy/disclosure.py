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

import dataclasses
import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import null_space
from scipy.optimize import linprog

from .._validate import InputError, check_choice

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
]

DEFAULT_MARK = "‡"
#: Thresholds below this are refused: a cell of 1 or 2 people is never safe.
MIN_THRESHOLD = 3
_TOTAL_LABELS = {
    "total", "totals", "all", "sum", "overall", "grand total", "ensemble", "total général",
    "итого", "всего", "барлығы", "жалпы", "المجموع", "الإجمالي", "المجموع الكلي",
}
_TOL = 1e-7


class DisclosureError(InputError):
    """A table that cannot be published safely as asked (the message says what to do)."""


def check_threshold(threshold: Any) -> int:
    """Validate a disclosure threshold: an integer of at least 3."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)):
        if isinstance(threshold, float) and float(threshold).is_integer():
            threshold = int(threshold)
        else:
            raise InputError(f"threshold must be a whole number of people, got {threshold!r}")
    if threshold < MIN_THRESHOLD:
        raise InputError(
            f"threshold {threshold} is below the floor of {MIN_THRESHOLD}: cells of one or two people identify "
            "them. Use the study's threshold (10 by default; never below 3)."
        )
    return int(threshold)


def footnote(threshold: int = 10, mark: str = DEFAULT_MARK, *, unit: str = "people") -> str:
    """The footnote explaining the suppression mark."""
    return f"{mark} suppressed: fewer than {threshold} {unit} (or to protect another suppressed cell)"


def _is_total_label(label: Any) -> bool:
    if isinstance(label, tuple):
        return any(_is_total_label(x) for x in label)
    return isinstance(label, str) and label.strip().casefold() in _TOTAL_LABELS


# ------------------------------------------------------------------ the grid model


@dataclasses.dataclass
class _Grid:
    """A table with its linear constraints (sum of coef * cell = const)."""

    values: np.ndarray  # (R, C) true values (float)
    is_margin: np.ndarray  # (R, C) bool
    constraints: list[tuple[list[tuple[int, int]], list[float], float]]
    has_total_row: bool
    has_total_col: bool


def _build_constraints(
    r: int, c: int, has_tr: bool, has_tc: bool, known_rows: np.ndarray | None, known_cols: np.ndarray | None,
    known_total: float | None,
) -> list[tuple[list[tuple[int, int]], list[float], float]]:
    """Linear constraints linking inner cells (r x c) and the margins.

    Margins in the table are cells; margins not in the table enter as
    constants when known (``known_*`` not None), and are left out otherwise.
    A one-column table has no separate row totals (each row total *is* the
    cell), and likewise a one-row table.
    """
    cons: list[tuple[list[tuple[int, int]], list[float], float]] = []
    for i in range(r):
        cells = [(i, j) for j in range(c)]
        if has_tc:
            cons.append((cells + [(i, c)], [1.0] * c + [-1.0], 0.0))
        elif known_rows is not None and c > 1:
            cons.append((cells, [1.0] * c, float(known_rows[i])))
    for j in range(c):
        cells = [(i, j) for i in range(r)]
        if has_tr:
            cons.append((cells + [(r, j)], [1.0] * r + [-1.0], 0.0))
        elif known_cols is not None and r > 1:
            cons.append((cells, [1.0] * r, float(known_cols[j])))
    if has_tr:
        cells = [(r, j) for j in range(c)]
        if has_tc:
            cons.append((cells + [(r, c)], [1.0] * c + [-1.0], 0.0))
        elif known_total is not None and c > 1:
            cons.append((cells, [1.0] * c, float(known_total)))
    if has_tc:
        cells = [(i, c) for i in range(r)]
        if has_tr:
            cons.append((cells + [(r, c)], [1.0] * r + [-1.0], 0.0))
        elif known_total is not None and r > 1:
            cons.append((cells, [1.0] * r, float(known_total)))
    return cons


def _intervals(
    published: np.ndarray, constraints: list[tuple[list[tuple[int, int]], list[float], float]]
) -> dict[tuple[int, int], tuple[float, float]]:
    """Feasible [min, max] of every hidden (NaN) cell given the published ones.

    Solves two LPs per hidden cell (scipy ``linprog``, HiGHS) on each
    connected block of hidden cells; ``inf`` when unbounded.
    """
    hidden = [tuple(x) for x in np.argwhere(np.isnan(published))]
    if not hidden:
        return {}
    index = {cell: k for k, cell in enumerate(hidden)}
    rows: list[tuple[list[int], list[float], float]] = []
    for cells, coefs, const in constraints:
        var_idx: list[int] = []
        var_coef: list[float] = []
        rhs = const
        for cell, coef in zip(cells, coefs):
            v = published[cell]
            if np.isnan(v):
                var_idx.append(index[cell])
                var_coef.append(coef)
            else:
                rhs -= coef * v
        if var_idx:
            rows.append((var_idx, var_coef, rhs))
        elif abs(rhs) > 1e-6 * max(1.0, abs(const)):
            raise InputError(
                "the published cells do not add up to the margins; check the table (are the totals the sums "
                "of the cells?)"
            )
    # connected blocks of hidden cells
    parent = list(range(len(hidden)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for var_idx, _, _ in rows:
        for v in var_idx[1:]:
            ra, rb = find(var_idx[0]), find(v)
            if ra != rb:
                parent[ra] = rb
    blocks: dict[int, list[int]] = {}
    for k in range(len(hidden)):
        blocks.setdefault(find(k), []).append(k)
    out: dict[tuple[int, int], tuple[float, float]] = {}
    for members in blocks.values():
        local = {v: t for t, v in enumerate(members)}
        brows = [r for r in rows if find(r[0][0]) == find(members[0])]
        if not brows:
            for v in members:
                out[hidden[v]] = (0.0, math.inf)
            continue
        A = np.zeros((len(brows), len(members)))
        b = np.zeros(len(brows))
        for t, (var_idx, var_coef, rhs) in enumerate(brows):
            for v, coef in zip(var_idx, var_coef):
                A[t, local[v]] += coef
            b[t] = rhs
        for v in members:
            cvec = np.zeros(len(members))
            cvec[local[v]] = 1.0
            lo_res = linprog(cvec, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
            if lo_res.status == 2:
                raise InputError(
                    "the published cells and margins admit no non-negative solution; check the table "
                    "(negative counts, or totals that are not the sums of the cells?)"
                )
            hi_res = linprog(-cvec, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
            lo = float(lo_res.fun) if lo_res.status == 0 else 0.0
            hi = math.inf if hi_res.status == 3 else float(-hi_res.fun)
            out[hidden[v]] = (max(lo, 0.0), hi)
    return out


def _system(published: np.ndarray, constraints: list[tuple[list[tuple[int, int]], list[float], float]]
            ) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
    """(hidden cells, A, b): the equations the hidden (NaN) cells must satisfy."""
    hidden = [tuple(x) for x in np.argwhere(np.isnan(published))]
    index = {cell: k for k, cell in enumerate(hidden)}
    A_rows: list[np.ndarray] = []
    b_rows: list[float] = []
    for cells, coefs, const in constraints:
        row = np.zeros(len(hidden))
        rhs = const
        for cell, coef in zip(cells, coefs):
            v = published[cell]
            if np.isnan(v):
                row[index[cell]] += coef
            else:
                rhs -= coef * v
        if row.any():
            A_rows.append(row)
            b_rows.append(rhs)
        elif abs(rhs) > 1e-6 * max(1.0, abs(const)):
            raise InputError(
                "the published cells do not add up to the margins; check the table (are the totals the sums "
                "of the cells?)"
            )
    A = np.vstack(A_rows) if A_rows else np.zeros((0, len(hidden)))
    return hidden, A, np.asarray(b_rows, dtype=float)


def _certify(hidden: list[tuple[int, int]], A: np.ndarray, b: np.ndarray, t: np.ndarray, protection: float,
             *, nullspace: bool) -> list[tuple[int, int]]:
    """Hidden cells whose feasible interval is narrower than ``protection``.

    ``t`` is a feasible point (the true table, or any solution).  Fast path
    (``nullspace``, protection <= 1, every hidden value of ``t`` positive): a
    hidden cell can move iff some direction in the null space of ``A``
    changes it (small moves keep every cell positive); by total unimodularity
    of two-way tables a cell that can move has an integer interval of width
    >= 1.  Otherwise LPs: any feasible table ``x`` certifies every cell ``j``
    with ``|x_j - t_j| >= protection`` (the interval of ``j`` holds both
    values), so each LP usually settles many cells; a cell still open gets
    its own maximum and minimum -- the decision is exact.
    """
    if not hidden:
        return []
    if A.shape[0] == 0:
        return []
    if nullspace and protection <= 1.0 + _TOL and (t > 0).all():
        N = null_space(A)
        if N.size == 0:
            return list(hidden)
        movable = np.linalg.norm(N, axis=1) > 1e-9
        return [cell for cell, ok in zip(hidden, movable) if not ok]
    certified = np.zeros(len(hidden), dtype=bool)
    unsafe = []
    for k, cell in enumerate(hidden):
        if certified[k]:
            continue
        hi = lo = t[k]
        for sense in (-1.0, 1.0):  # maximise, then minimise
            cvec = np.zeros(len(hidden))
            cvec[k] = sense
            res = linprog(cvec, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
            if res.status == 3:  # unbounded above
                certified[k] = True
                break
            if res.status == 0:
                certified |= np.abs(res.x - t) >= protection - _TOL
                if sense < 0:
                    hi = float(res.x[k])
                else:
                    lo = float(res.x[k])
                if certified[k] or hi - lo >= protection - _TOL:
                    certified[k] = True
                    break
        if not certified[k]:
            unsafe.append(cell)
    return unsafe


def _unsafe_cells(grid: _Grid, mask: np.ndarray, protection: float) -> list[tuple[int, int]]:
    """Hidden cells of ``grid`` (``mask``) an intruder can pin down more narrowly than ``protection``."""
    published = np.where(mask, np.nan, grid.values)
    hidden, A, b = _system(published, grid.constraints)
    t = np.array([grid.values[c] for c in hidden])
    return _certify(hidden, A, b, t, protection, nullspace=True)


def _cell_lines(grid: _Grid) -> dict[tuple[int, int], list[int]]:
    lines: dict[tuple[int, int], list[int]] = {}
    for t, (cells, _, _) in enumerate(grid.constraints):
        for cell in cells:
            lines.setdefault(cell, []).append(t)
    return lines


def _secondary(grid: _Grid, primary: np.ndarray, protection: float) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Add secondary cells until every hidden cell is protected.

    Returns the final mask and the cells that stay unprotected (only possible
    when assumed-known margins outside the table give them away).
    """
    mask = primary.copy()
    R, C = mask.shape
    cell_lines = _cell_lines(grid)
    values = grid.values

    def score(cell: tuple[int, int]) -> tuple[Any, ...]:
        others = [t for t in cell_lines.get(cell, [])]
        cascade = 0
        for t in others:
            hidden = sum(mask[x] for x in grid.constraints[t][0])
            if hidden == 0:
                cascade += 1
        return (bool(grid.is_margin[cell]), values[cell] == 0, cascade, values[cell], cell)

    def line_rule() -> None:
        changed = True
        while changed:
            changed = False
            for cells, _, _ in grid.constraints:
                hidden = [x for x in cells if mask[x]]
                if len(hidden) == 1:
                    cands = [x for x in cells if not mask[x]]
                    if cands:
                        best = min(cands, key=score)
                        mask[best] = True
                        changed = True

    unsafe: list[tuple[int, int]] = []
    for _ in range(R * C + 1):
        line_rule()
        unsafe = _unsafe_cells(grid, mask, protection)
        if not unsafe:
            return mask, []
        # prefer fixing primary cells first, then in table order
        unsafe.sort(key=lambda x: (not primary[x], x))
        target = unsafe[0]
        cands = sorted({x for t in cell_lines.get(target, []) for x in grid.constraints[t][0] if not mask[x]})
        if not cands:
            cands = [tuple(x) for x in np.argwhere(~mask)]
        if not cands:
            break
        mask[min(cands, key=score)] = True
    return mask, unsafe


# ------------------------------------------------------------------ result objects


@dataclasses.dataclass(frozen=True, eq=False)
class SuppressedTable:
    """A table after disclosure control.

    Attributes
    ----------
    published : the table to show: original numbers, and ``mark`` (a string)
        in suppressed cells (object dtype).
    values : numeric form, ``NaN`` in suppressed cells (for plotting, JSON).
    mask : ``True`` where a cell is suppressed (primary or secondary).
    primary : ``True`` where a cell failed the rule itself (internal: never
        publish which cells are primary).
    threshold, mark, footnote : the rule and how it is shown.
    protected : whether every suppressed cell passed the LP check.
    notes : plain-language notes (zero patterns that disclose, etc.).
    """

    published: pd.DataFrame
    values: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame = dataclasses.field(repr=False)
    threshold: int = 10
    mark: str = DEFAULT_MARK
    footnote: str = ""
    protected: bool = True
    protection: float = 1.0
    totals: str = "absent"
    notes: tuple[str, ...] = ()
    _grid: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def n_suppressed(self) -> int:
        """Number of suppressed cells."""
        return int(self.mask.to_numpy().sum())

    @property
    def n_primary(self) -> int:
        return int(self.primary.to_numpy().sum())

    @property
    def n_secondary(self) -> int:
        return self.n_suppressed - self.n_primary

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per cell: ``row``, ``column``, ``value`` (``None`` when suppressed), ``suppressed``."""
        out = []
        vals = self.values
        for i, r in enumerate(vals.index):
            for j, c in enumerate(vals.columns):
                hidden = bool(self.mask.iat[i, j])
                v = vals.iat[i, j]
                out.append({
                    "row": _json_label(r),
                    "column": _json_label(c),
                    "value": None if hidden else _json_number(v),
                    "suppressed": hidden,
                })
        return out

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``index``, ``columns``, ``data`` (``null`` when suppressed), ``suppressed``, ``footnote``."""
        vals = self.values
        return {
            "index": [_json_label(x) for x in vals.index],
            "columns": [_json_label(x) for x in vals.columns],
            "data": [[None if self.mask.iat[i, j] else _json_number(vals.iat[i, j]) for j in range(vals.shape[1])]
                     for i in range(vals.shape[0])],
            "suppressed": [[bool(self.mask.iat[i, j]) for j in range(vals.shape[1])] for i in range(vals.shape[0])],
            "threshold": self.threshold,
            "footnote": self.footnote if self.n_suppressed else "",
        }

    def to_html(self, **kwargs: Any) -> str:
        """HTML of the published table with the footnote (pandas ``to_html`` options pass through)."""
        html = self.published.to_html(**kwargs)
        if self.n_suppressed:
            html += f'\n<p class="veplab-footnote">{self.footnote}</p>'
        return html

    def summary(self) -> str:
        lines = [self.published.to_string()]
        if self.n_suppressed:
            lines.append(self.footnote)
        lines.extend(self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.summary()


def _json_label(x: Any) -> Any:
    if isinstance(x, tuple):
        return [_json_label(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)


def _json_number(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (np.integer, int)) and not isinstance(v, bool):
        return int(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return _json_label(v)
    if math.isnan(f):
        return None
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


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


# ------------------------------------------------------------------ the LP check


def _published_grid(published: Any, margins: Any) -> tuple[np.ndarray, list[tuple[list[tuple[int, int]], list[float], float]], pd.DataFrame]:
    if isinstance(published, SuppressedTable):
        grid = published._grid
        pub = np.where(published.mask.to_numpy(), np.nan, grid.values)
        return pub, grid.constraints, published.values
    if not isinstance(published, pd.DataFrame):
        raise InputError(f"expected a SuppressedTable or a DataFrame, got {type(published).__name__}")
    num = published.apply(pd.to_numeric, errors="coerce").astype("float64")
    pub = num.to_numpy()
    if margins is None or margins == "included":
        tr = num.shape[0] >= 2 and _is_total_label(num.index[-1])
        tc = num.shape[1] >= 2 and _is_total_label(num.columns[-1])
        if margins == "included" and not (tr or tc):
            raise InputError("margins='included' but no last row/column is labelled 'Total' or 'All'")
        r, c = pub.shape[0] - tr, pub.shape[1] - tc
        cons = _build_constraints(r, c, tr, tc, None, None, None)
        return pub, cons, num
    if not isinstance(margins, Mapping):
        raise InputError("margins must be None/'included' or a mapping with 'rows', 'columns' and 'total'")
    r, c = pub.shape
    rows = margins.get("rows")
    cols = margins.get("columns")
    total = margins.get("total")
    rows_a = None if rows is None else np.asarray(pd.Series(rows).reindex(num.index) if isinstance(rows, (pd.Series, Mapping)) else rows, dtype=float)
    cols_a = None if cols is None else np.asarray(pd.Series(cols).reindex(num.columns) if isinstance(cols, (pd.Series, Mapping)) else cols, dtype=float)
    if rows_a is not None and rows_a.shape != (r,):
        raise InputError(f"margins['rows'] needs {r} values, got {rows_a.shape}")
    if cols_a is not None and cols_a.shape != (c,):
        raise InputError(f"margins['columns'] needs {c} values, got {cols_a.shape}")
    cons = _build_constraints(r, c, False, False, rows_a, cols_a, None if total is None else float(total))
    if total is not None and rows_a is None and cols_a is None:
        cons.append(([(i, j) for i in range(r) for j in range(c)], [1.0] * (r * c), float(total)))
    return pub, cons, num


def protection_intervals(published: Any, margins: Any = None) -> pd.DataFrame:
    """What an intruder can learn about each suppressed cell: its feasible interval.

    ``published`` is a :class:`SuppressedTable`, or a DataFrame with ``NaN``
    (or any non-number, such as the mark) in suppressed cells.  ``margins``
    says what else the intruder knows: ``None``/``"included"`` -- the
    table's last row/column labelled ``Total``/``All`` are its margins (and
    nothing else is known); or a mapping ``{"rows": [...], "columns": [...],
    "total": N}`` of known margins of an inner table.  For a
    :class:`SuppressedTable` the margins it was protected against are used.

    For each hidden cell the smallest and largest values consistent with the
    published numbers, the margins and non-negativity are found by linear
    programming (two ``scipy.optimize.linprog`` HiGHS problems per cell).
    Returns a DataFrame with ``row``, ``column``, ``lower``, ``upper``,
    ``width`` (``inf`` when unbounded).

    The intruder's interval for a hidden cell ``x_ij``, from the published
    cells ``n_ij`` and the margins ``n_i+``, ``n_+j``::

        lower_ij = min x_ij,  upper_ij = max x_ij
        subject to  sum_j x_ij = n_i+,  sum_i x_ij = n_+j,  x >= 0,  x_kl = n_kl (published)

    and the table is protected when ``upper_ij - lower_ij >= protection``
    for every hidden cell.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5).
    Cox LH (1980). Suppression methodology and statistical disclosure control. Journal of
    the American Statistical Association 75, 377-385.
    The intervals agree with lpSolve's ``lp("min"/"max", ...)`` on the same tables
    (tests/reference/privacy.R).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.privacy import suppress_counts, protection_intervals, is_protected
    >>> t = pd.DataFrame({"men": [40, 3, 25], "women": [12, 15, 30]}, index=["KZ", "TN", "UG"])
    >>> s = suppress_counts(t, threshold=10)
    >>> protection_intervals(s)      # R lpSolve on the same table: TN men in [0, 18]
      row column  lower  upper  width
    0  TN    men    0.0   18.0   18.0
    1  TN  women    0.0   18.0   18.0
    2  UG    men   10.0   28.0   18.0
    3  UG  women   27.0   45.0   18.0
    """
    pub, cons, num = _published_grid(published, margins)
    iv = _intervals(pub, cons)
    rows = [{"row": num.index[i], "column": num.columns[j], "lower": lo, "upper": hi, "width": hi - lo}
            for (i, j), (lo, hi) in sorted(iv.items())]
    return pd.DataFrame(rows, columns=["row", "column", "lower", "upper", "width"])


def is_protected(published: Any, margins: Any = None, *, protection: float = 1.0) -> bool:
    """Whether no suppressed cell can be pinned down more narrowly than ``protection``.

    ``False`` when some hidden cell's feasible interval (see
    :func:`protection_intervals`) has ``upper - lower < protection`` -- with
    the default 1, when it is uniquely determined by the published cells and
    margins.  Same arguments as :func:`protection_intervals`; the decision is
    exact but needs far fewer LPs than computing every interval (each
    solution found certifies every cell it moves by ``protection``).

    The intruder's interval for a hidden cell ``x_ij``, from the published
    cells ``n_ij`` and the margins ``n_i+``, ``n_+j``::

        lower_ij = min x_ij,  upper_ij = max x_ij
        subject to  sum_j x_ij = n_i+,  sum_i x_ij = n_+j,  x >= 0,  x_kl = n_kl (published)

    and the table is protected when ``upper_ij - lower_ij >= protection``
    for every hidden cell.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5).
    Cox LH (1980). Suppression methodology and statistical disclosure control. Journal of
    the American Statistical Association 75, 377-385.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.privacy import suppress_counts, protection_intervals, is_protected
    >>> t = pd.DataFrame({"men": [40, 3, 25], "women": [12, 15, 30]}, index=["KZ", "TN", "UG"])
    >>> s = suppress_counts(t, threshold=10)
    >>> is_protected(s)
    True
    """
    if protection <= 0:
        raise InputError("protection must be positive (1 = hidden cells not exactly recoverable)")
    if isinstance(published, SuppressedTable):
        grid = published._grid
        return not _unsafe_cells(grid, published.mask.to_numpy(), protection)
    pub, cons, _ = _published_grid(published, margins)
    hidden, A, b = _system(pub, cons)
    if not hidden or A.shape[0] == 0:
        return True
    feas = linprog(np.zeros(len(hidden)), A_eq=A, b_eq=b, bounds=(0, None), method="highs")
    if feas.status == 2:
        raise InputError(
            "the published cells and margins admit no non-negative solution; check the table (negative counts, "
            "or totals that are not the sums of the cells?)"
        )
    return not _certify(hidden, A, b, np.asarray(feas.x, dtype=float), protection, nullspace=False)


# ------------------------------------------------------------------ statistics


#: Columns that count people or events besides the table's n (a row with a small one is hidden).
COUNT_COLUMNS = ("events", "n_events", "cases", "n_cases", "count", "counts")


def count_columns(columns: Sequence[Any]) -> list[Any]:
    """Columns whose values count people or events: ``n``, ``n_*`` (``n_pre``, ``n_events``),
    ``*_n`` and :data:`COUNT_COLUMNS` (case-insensitive)."""
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


# ------------------------------------------------------------------ magnitudes


def dominance(
    data: pd.DataFrame,
    value: str,
    by: Sequence[str] | str,
    *,
    n: int = 2,
    k: float = 0.85,
    p: float | None = 0.10,
    threshold: int | None = 10,
) -> pd.DataFrame:
    """Sensitive cells of a magnitude table: (n,k)-dominance, p% rule, few contributors.

    ``data`` holds one row per contributor (a person, a prison), ``value``
    their non-negative magnitude (days in segregation, money earned in a
    workshop ...) and ``by`` the table's cell variables.  A cell is
    sensitive when

    * **(n,k)-dominance**: its ``n`` largest contributions exceed ``k`` (a
      fraction, default 0.85) of the cell total -- a dominant contributor's
      value is nearly the published total (Hundepool et al. 2012, 4.2.2);
    * **p% rule** (``p`` a fraction, default 0.10; ``None`` to skip): the
      second-largest contributor can estimate the largest within ``p`` of its
      value, i.e. ``total - x1 - x2 < p * x1``;
    * **threshold**: fewer than ``threshold`` contributors (``None`` to skip).

    Returns one row per cell: the ``by`` columns, ``total``, ``contributors``,
    ``top_n_share``, ``sensitive`` and ``reason``.  Pivot ``sensitive`` and
    pass it with the pivoted totals to :func:`suppress_magnitudes` for
    secondary suppression.  (ACRO applies the same three checks; sdcTable's
    ``primarySuppression(type="nk")`` and ``type="p"``.)

    With the cell's contributions sorted ``x_(1) >= x_(2) >= ...`` and total
    ``X = sum x_i``, the cell is sensitive when::

        (n,k)-dominance:  x_(1) + ... + x_(n) > k X
        p% rule:          X - x_(1) - x_(2) < p x_(1)

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5).
    Meindl B. sdcTable: Methods for Statistical Disclosure Control in Tabular Data. R package
    (CRAN); and tau-ARGUS (Statistics Netherlands): sdcTable's
    ``primarySuppression(type = "nk")`` and ``type = "p"`` apply the same rules.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.privacy import dominance
    >>> d = pd.DataFrame({"prison": list("AAABBB"), "days": [90, 3, 2, 20, 25, 30]})
    >>> dominance(d, "days", "prison", threshold=None)[["prison", "top_n_share", "sensitive"]].round(3)
      prison  top_n_share  sensitive
    0      A        0.979       True
    1      B        0.733      False
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"dominance: expected a DataFrame, got {type(data).__name__}")
    keys = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [value, *keys] if c not in data.columns]
    if missing:
        raise InputError(f"dominance: columns {missing} not in the data")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"dominance: n must be a positive integer, got {n!r}")
    if not 0.0 < float(k) < 1.0:
        raise InputError(f"dominance: k must be a fraction between 0 and 1 (e.g. 0.85 for 85%), got {k!r}")
    if p is not None and not 0.0 < float(p) < 1.0:
        raise InputError(f"dominance: p must be a fraction between 0 and 1 (e.g. 0.10 for 10%), got {p!r}")
    if threshold is not None:
        threshold = check_threshold(threshold)
    vals = pd.to_numeric(data[value], errors="coerce")
    bad = vals.isna() & data[value].notna()
    if bad.any() or (vals < 0).any():
        raise InputError(f"dominance: {value!r} must hold non-negative numbers (missing values are left out)")
    frame = data[keys].copy()
    frame["_v"] = vals
    frame = frame.dropna(subset=["_v"])
    rows = []
    for key, grp in frame.groupby(keys, sort=True, dropna=False):
        x = np.sort(grp["_v"].to_numpy())[::-1]
        total = float(x.sum())
        top = float(x[:n].sum())
        share = top / total if total > 0 else 0.0
        reasons = []
        if threshold is not None and len(x) < threshold:
            reasons.append(f"fewer than {threshold} contributors")
        if total > 0 and top > k * total:
            reasons.append(f"({n},{k:g})-dominance")
        if p is not None and total > 0:
            x2 = x[1] if len(x) > 1 else 0.0
            if total - x[0] - x2 < p * x[0]:
                reasons.append(f"p%-rule (p={p:g})")
        key_t = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key_t)), "total": total, "contributors": int(len(x)), "top_n_share": share,
                     "sensitive": bool(reasons), "reason": "; ".join(reasons)})
    return pd.DataFrame(rows, columns=[*keys, "total", "contributors", "top_n_share", "sensitive", "reason"])


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
    removed group back.  ``note`` says how many groups are not shown (without
    naming them: ``removed_labels`` lists them for the analyst).

    >>> import pandas as pd
    >>> d = pd.DataFrame({"group": ["a", "b", "c"], "n": [40, 4, 25], "mean": [2.1, 3.0, 2.5]})
    >>> g = gate_series(d, "n")
    >>> list(g.data["group"]), g.note
    (['a'], '2 groups with fewer than 10 people (or hidden to protect them) are not shown.')
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
