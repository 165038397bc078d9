"""The problems table: how loading reports everything that is wrong at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

__all__ = ["DataError", "Problems", "PROBLEM_COLUMNS"]

PROBLEM_COLUMNS = ["file", "column", "rows", "problem", "fix", "severity"]


def _rows_text(rows: Sequence[int], limit: int = 12) -> str:
    rows = list(rows)
    if not rows:
        return ""
    shown = ", ".join(str(r) for r in rows[:limit])
    if len(rows) > limit:
        shown += f" (+{len(rows) - limit} more)"
    return shown


class Problems:
    """Collects problems found while loading one file."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[dict[str, Any]] = []

    def add(
        self,
        column: str | None,
        problem: str,
        fix: str,
        *,
        rows: Iterable[int] = (),
        severity: str = "error",
    ) -> None:
        self.items.append(
            {
                "file": self.file,
                "column": column or "",
                "rows": [int(r) for r in rows],
                "problem": problem,
                "fix": fix,
                "severity": severity,
            }
        )

    def extend(self, problems: Iterable[dict[str, Any]]) -> None:
        for p in problems:
            self.add(p.get("column"), p["problem"], p.get("fix", ""), rows=p.get("rows", ()),
                     severity=p.get("severity", "error"))

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [p for p in self.items if p["severity"] == "error"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [p for p in self.items if p["severity"] != "error"]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.items, columns=PROBLEM_COLUMNS)


class DataError(ValueError):
    """Loading found problems.  ``problems`` is a DataFrame with columns
    ``file, column, rows, problem, fix, severity``; ``str(error)`` is a readable
    table.  Row numbers are as the file shows them: for CSV and spreadsheets the
    header is row 1 and the first record row 2; for SPSS, Stata and Parquet they
    are case numbers (first record = 1)."""

    def __init__(self, problems: pd.DataFrame | list[dict[str, Any]]):
        if not isinstance(problems, pd.DataFrame):
            problems = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
        self.problems = problems.reset_index(drop=True)
        super().__init__(self.render())

    def render(self) -> str:
        p = self.problems
        n_err = int((p["severity"] == "error").sum())
        files = sorted(set(p["file"]))
        head = (
            f"{n_err} problem{'s' if n_err != 1 else ''} found in "
            f"{', '.join(files)}; nothing was loaded and nothing was changed on disk:"
        )
        lines = [head]
        for i, row in enumerate(p.itertuples(index=False), start=1):
            where = f"column {row.column!r}" if row.column else "file"
            rows = _rows_text(row.rows)
            rows_txt = f" (rows {rows})" if rows else ""
            tag = "" if row.severity == "error" else f" [{row.severity}]"
            lines.append(f"{i:>3}. {where}{rows_txt}: {row.problem}{tag}")
            if row.fix:
                lines.append(f"     fix: {row.fix}")
        return "\n".join(lines)
