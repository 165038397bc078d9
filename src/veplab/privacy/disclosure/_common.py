"""Shared pieces of the disclosure rules: the threshold check, the footnote, what a total row is."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validate import InputError


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
