"""The grid model of a table with its margins, the intruder-interval LP and secondary suppression
(cells hidden until every primary cell is protected by the linear-programming audit)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import linprog

from ..._validate import InputError
from ._common import _TOL


# ------------------------------------------------------------------ the grid model


@dataclasses.dataclass
class _Grid:
    """A table with its linear constraints (sum of coef * cell = const)."""

    values: np.ndarray  # (R, C) true values (float)
    is_margin: np.ndarray  # (R, C) bool
    constraints: list[tuple[list[tuple[int, int]], list[float], float]]
    has_total_row: bool
    has_total_col: bool


def _add_sum(
    cons: list[tuple[list[tuple[int, int]], list[float], float]], cells: list[tuple[int, int]],
    total_cell: tuple[int, int], total_in_table: bool, known: float | None,
) -> None:
    """``cells`` sum to ``total_cell`` when that margin is in the table, else to ``known``
    (when known and there is more than one cell: one cell *is* its total)."""
    k = len(cells)
    if total_in_table:
        cons.append((cells + [total_cell], [1.0] * k + [-1.0], 0.0))
    elif known is not None and k > 1:
        cons.append((cells, [1.0] * k, float(known)))


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
        _add_sum(cons, [(i, j) for j in range(c)], (i, c), has_tc,
                 None if known_rows is None else known_rows[i])
    for j in range(c):
        _add_sum(cons, [(i, j) for i in range(r)], (r, j), has_tr,
                 None if known_cols is None else known_cols[j])
    if has_tr:
        _add_sum(cons, [(r, j) for j in range(c)], (r, c), has_tc, known_total)
    if has_tc:
        _add_sum(cons, [(i, c) for i in range(r)], (r, c), has_tr, known_total)
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
