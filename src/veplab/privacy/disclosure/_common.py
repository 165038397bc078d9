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
    """Validate a disclosure threshold: an integer of at least 3.

    The threshold rule publishes a cell, statistic or plotted point only when
    it rests on at least ``threshold`` people::

        publish  if  count = 0  or  count >= threshold

    The threshold is the study's (``disclosure: threshold:``, default 10);
    values below :data:`MIN_THRESHOLD` (3) are refused, because a cell of one or
    two people identifies them (and each of two can work out the other).  A
    whole float (``10.0``) is accepted as its integer.

    Parameters
    ----------
    threshold:
        The proposed threshold.

    Returns
    -------
    int

    Raises
    ------
    InputError
        Not a whole number, or below 3.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5: the
    minimum frequency (threshold) rule).
    Brandt M, Franconi L, Guerke C, Hundepool A, Lucarelli M, Mol J, Ritchie F, Seri G,
    Welpton R (2010). Guidelines for the checking of output based on microdata research.
    ESSnet SDC (Eurostat) (rule of thumb: at least 10 units behind a published figure).
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group.
    docs/DESIGN.md, section "Privacy" (the study's threshold, default 10).

    Examples
    --------
    >>> check_threshold(10), check_threshold(5.0)
    (10, 5)
    >>> check_threshold(2)
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: threshold 2 is below the floor of 3: cells of one or two people identify them. Use the study's threshold (10 by default; never below 3).
    """
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
    """The footnote explaining the suppression mark.

    Primary cells (below the threshold) and secondary cells (hidden to
    protect them) carry the same mark and share one footnote: saying which is
    which would tell a reader which cells are small.

    Parameters
    ----------
    threshold:
        The study's threshold.
    mark:
        The suppression mark (default ``"‡"``).
    unit:
        What the table counts (``"people"``, ``"prisons"``).

    Returns
    -------
    str

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5: the
    minimum frequency (threshold) rule).
    Brandt M, Franconi L, Guerke C, Hundepool A, Lucarelli M, Mol J, Ritchie F, Seri G,
    Welpton R (2010). Guidelines for the checking of output based on microdata research.
    ESSnet SDC (Eurostat) (rule of thumb: at least 10 units behind a published figure).
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group.
    docs/DESIGN.md, section "Privacy" (the study's threshold, default 10).

    Examples
    --------
    >>> footnote()
    '‡ suppressed: fewer than 10 people (or to protect another suppressed cell)'
    >>> footnote(5, "*", unit="prisons")
    '* suppressed: fewer than 5 prisons (or to protect another suppressed cell)'
    """
    return f"{mark} suppressed: fewer than {threshold} {unit} (or to protect another suppressed cell)"


def _is_total_label(label: Any) -> bool:
    if isinstance(label, tuple):
        return any(_is_total_label(x) for x in label)
    return isinstance(label, str) and label.strip().casefold() in _TOTAL_LABELS
