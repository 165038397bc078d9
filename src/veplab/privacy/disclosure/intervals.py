"""Auditing a published table: the intruder's interval for every hidden cell
(:func:`protection_intervals`, :func:`is_protected`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from ..._validate import InputError
from ._common import _is_total_label
from ._grid import _build_constraints, _certify, _intervals, _system, _unsafe_cells
from ._tables import SuppressedTable


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
