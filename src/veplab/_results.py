"""Small shared pieces for result objects.

Every statistic returns a frozen dataclass deriving from :class:`Result`
(:class:`TableResult` when its estimates form a table); plain DataFrames are
left to tables of data (crosstabs, counts, curves).  A result carries the fitted numbers
unrounded, knows how to turn itself into a one-row (or tidy) frame with
``to_frame()``, prints a readable ``summary()`` and shows itself as tables in
a notebook (``_repr_html_``).
"""

from __future__ import annotations

import dataclasses
import html
import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

__all__ = ["Result", "Estimate", "TableResult"]


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool, np.integer, np.floating, np.bool_)) or value is None


@dataclasses.dataclass(frozen=True)
class Result:
    """Base class: frozen dataclass with ``to_frame()`` and ``summary()``."""

    def to_dict(self) -> dict[str, Any]:
        """Scalar fields as a plain dict (tables and arrays are left out)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if _scalar(value):
                if isinstance(value, np.generic):
                    value = value.item()
                out[f.name] = value
        return out

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the scalar fields, indexed by the result's name."""
        return pd.DataFrame([self.to_dict()], index=[type(self).__name__])

    def summary(self) -> str:
        """Readable multi-line text of the scalar fields."""
        return "\n".join([type(self).__name__, *self._field_lines()])

    def _field_lines(self) -> list[str]:
        """One indented ``name  value`` line per scalar field."""
        lines = []
        for key, value in self.to_dict().items():
            if isinstance(value, float) and not math.isnan(value):
                value = f"{value:.6g}"
            lines.append(f"  {key:<18} {value}")
        return lines

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.summary()

    def _repr_html_(self) -> str:
        """The result as HTML tables, so it shows as a table in JupyterLab.

        The main table is ``to_frame()``; the result's scalar fields follow
        when ``to_frame()`` is a tidy table of its own, and every other table
        the result carries (coefficients, loadings, item statistics, ...)
        is folded below its field name.  Long tables show their first and
        last rows (``max_rows=30``).
        """
        name = html.escape(type(self).__name__)
        main = self.to_frame()
        parts = [f"<div class='veplab-result'><p><strong>{name}</strong></p>", _html_table(main)]
        scalars = self.to_dict()
        if scalars and not set(main.columns) >= set(scalars):
            parts.append(_html_table(pd.DataFrame([scalars], index=[type(self).__name__])))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name, None)
            if isinstance(value, pd.Series):
                value = value.to_frame()
            if isinstance(value, pd.DataFrame) and not value.empty and not _same_table(value, main):
                label = html.escape(f.name.replace("_", " "))
                parts.append(f"<details><summary>{label}</summary>{_html_table(value)}</details>")
        parts.append("</div>")
        return "".join(parts)


def _same_table(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """``a`` is ``b`` or a copy of it (``to_frame()`` of a tidy result copies its table)."""
    return a is b or (a.shape == b.shape and a.columns.equals(b.columns) and a.index.equals(b.index) and a.equals(b))


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(max_rows=30, max_cols=20, float_format=lambda v: f"{v:.6g}", na_rep="", border=0)


@dataclasses.dataclass(frozen=True)
class Estimate(Result):
    """A point estimate with an interval: the common shape of simple results."""

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    ci: float = 0.95


@dataclasses.dataclass(frozen=True)
class TableResult(Result):
    """A result whose estimates form one tidy table (``table``, one row per variable, group or term).

    The other fields are the settings that produced the table (confidence
    level, method, ...).  ``to_frame()`` is a copy of the table;
    ``summary()`` prints the settings above the table.  Subclasses give the
    title (``_title``) and may choose the columns shown (``_summary_columns``).
    """

    table: pd.DataFrame = dataclasses.field(repr=False)

    #: Columns shown by ``summary()`` (all when empty).
    _summary_columns: ClassVar[tuple[str, ...]] = ()

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def _title(self) -> str:
        return type(self).__name__

    def summary(self) -> str:
        """The title, the settings and the table."""
        lines = [self._title(), *self._field_lines()]
        cols = [c for c in self._summary_columns if c in self.table.columns] or list(self.table.columns)
        with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_rows", 60):
            lines += ["", self.table[cols].to_string(float_format=lambda v: f"{v:.4g}")]
        return "\n".join(lines)
