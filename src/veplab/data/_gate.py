"""The privacy gate applied by :func:`veplab.data.load`.

The rules live in :mod:`veplab.privacy`; this module adapts them to the
loader (and keeps a minimal rule set should that module be unavailable).
Identifier problems always stop the load: :class:`IdentifierDataError` is
raised whatever ``on_error`` and ``unknown`` say."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..codebook import Codebook
from ..privacy.identifiers import IdentifierError
from .problems import PROBLEM_COLUMNS, DataError


class IdentifierDataError(DataError, IdentifierError):
    """Loading found direct identifiers: a :class:`DataError` (``problems`` is the
    problems table, identifier problems first) that is also an
    :class:`~veplab.privacy.IdentifierError` (``identifiers`` lists the identifier
    problems as dicts).  No message holds a data value."""

    def __init__(self, problems: pd.DataFrame | list[dict[str, Any]], identifiers: list[dict[str, Any]]):
        if not isinstance(problems, pd.DataFrame):
            problems = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
        self.problems = problems.reset_index(drop=True)
        self.identifiers = identifiers
        ValueError.__init__(self, self.render())

    def render(self) -> str:
        n = len(self.identifiers)
        columns = ", ".join(repr(c) for c in dict.fromkeys(p["column"] for p in self.identifiers))
        return (DataError.render(self) + f"\ndirect identifiers found in {n} column{'s' if n != 1 else ''} "
                f"({columns}): they always stop the load (on_error='flag' and unknown='drop'/'keep' do not "
                "apply to them); remove them from the export or replace them with keyed pseudonyms "
                "(veplab pseudonymise).")


def identifier_problems(result: pd.DataFrame, codebook: Codebook, raw: pd.DataFrame, rows: np.ndarray,
                        *, file: str, kept: list[str], facility_columns: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Problems for direct identifiers in the data (never showing values)."""
    from ..privacy import identifier_problems as _privacy_rules

    problems = _privacy_rules(raw, codebook, file=file, row_numbers=[int(r) for r in rows],
                              facility_columns=tuple(facility_columns))
    return [dict(p, rows=p.get("rows", [])) for p in problems]


def refuse(problems: list[dict[str, Any]], others: list[dict[str, Any]], file: str) -> IdentifierDataError:
    """The error for identifier ``problems``; ``others`` (the loader's other problems) are
    listed after them, except those about the same columns (their messages may quote values)."""
    flagged = {p["column"] for p in problems}
    rows = [{"file": p.get("file", file), "column": p["column"], "rows": [int(r) for r in p.get("rows", [])],
             "problem": p["problem"], "fix": p.get("fix", ""), "severity": "error"} for p in problems]
    rows += [p for p in others if p["column"] not in flagged]
    return IdentifierDataError(pd.DataFrame(rows, columns=PROBLEM_COLUMNS), problems)
