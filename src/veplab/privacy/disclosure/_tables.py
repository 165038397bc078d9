"""The result of a suppression: :class:`SuppressedTable` (values, marks, reasons, JSON form)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from ._common import DEFAULT_MARK


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
