"""The privacy gate applied by :func:`veplab.data.load`.

The rules live in :mod:`veplab.privacy`; this module adapts them to the
loader (and keeps a minimal rule set should that module be unavailable)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..codebook import Codebook


def identifier_problems(result: pd.DataFrame, codebook: Codebook, raw: pd.DataFrame, rows: np.ndarray,
                        *, file: str, kept: list[str]) -> list[dict[str, Any]]:
    """Problems for direct identifiers in the data (never showing values)."""
    try:
        from ..privacy import identifier_problems as _privacy_rules
    except ImportError:  # pragma: no cover - privacy is part of the package
        _privacy_rules = None
    if _privacy_rules is not None:
        problems = _privacy_rules(raw, codebook, file=file, row_numbers=[int(r) for r in rows])
        return [dict(p, rows=p.get("rows", [])) for p in problems]
    problems = []
    for item in codebook.by_role("identifier"):
        if item.id in raw.columns and not item.pseudonymised:
            problems.append({
                "column": item.id, "rows": [],
                "problem": "column has role identifier and is not pseudonymised",
                "fix": "replace it with keyed pseudonyms (veplab pseudonymise) or drop it",
                "severity": "error",
            })
    return problems
