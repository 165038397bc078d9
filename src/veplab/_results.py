"""Small shared pieces for result objects.

Every analysis returns either a tidy :class:`pandas.DataFrame` or a frozen
dataclass deriving from :class:`Result`.  A result carries the fitted numbers
unrounded, knows how to turn itself into a one-row (or tidy) frame with
``to_frame()``, prints a readable ``summary()`` and shows itself as tables in
a notebook (``_repr_html_``).
"""

from __future__ import annotations

import dataclasses
import html
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Result", "Estimate"]


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
        lines = [type(self).__name__]
        for key, value in self.to_dict().items():
            if isinstance(value, float) and not math.isnan(value):
                value = f"{value:.6g}"
            lines.append(f"  {key:<18} {value}")
        return "\n".join(lines)

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
            if isinstance(value, pd.DataFrame) and value is not main and not value.empty:
                label = html.escape(f.name.replace("_", " "))
                parts.append(f"<details><summary>{label}</summary>{_html_table(value)}</details>")
        parts.append("</div>")
        return "".join(parts)


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
