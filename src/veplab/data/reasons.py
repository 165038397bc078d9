"""Why an answer is missing, kept in the data: one reason column per item.

A survey of prisoners has several kinds of missing cells -- *don't know*,
*refused*, *not applicable* (a question that did not apply), *not asked*, a
value that was *invalid* -- and analyses must tell them apart (imputing a
not-applicable answer invents an answer to a question that was never put).
:func:`veplab.data.load` sets every such cell to missing (``NA``) and records
its reason in a companion column named ``<item>__missing``
(:func:`reason_column`), a categorical holding one of :data:`REASONS` where
the item is missing for that reason and ``NA`` elsewhere (answered, or left
blank in the file).

Why columns, and not ``df.attrs``: the reason of a cell must travel with its
row.  pandas keeps ``df.attrs`` through column selection and row filters but
drops them on ``merge``, ``join`` and on ``concat`` of frames that do not
carry the same attrs, so reasons kept there were silently lost when facility
data were merged into a survey before imputing.  A column travels with its row
through every row operation pandas has (merges, joins, concatenation, filters,
sorting, copies); a row that a merge adds without a match gets ``NA``: no
reason, as it should.

The one operation that can leave reasons behind is selecting columns without
them (``df[["q1", "q2"]]``).  Select them with their reasons
(``df[with_reasons(df, ["q1", "q2"])]``).  A frame that still carries
:func:`veplab.data.load`'s record (``df.attrs``, which column selection keeps)
knows which reason columns it had, and :func:`missing_reasons` then raises
:class:`ReasonsLost` rather than report no reasons; :func:`veplab.missing.impute`
also refuses when the codebook declares reasons for an item whose reasons are
absent.

* :func:`missing_reasons` -- the reasons as a frame shaped like ``df[columns]``
  (``NA`` where a cell is answered or has no recorded reason): every consumer
  (data quality, reliability, imputation) reads reasons through it;
* :func:`set_missing_reasons` -- add or replace reason columns (what ``load``
  uses; for frames built by other means);
* :func:`reason_column`, :func:`reason_columns`, :func:`with_reasons` --
  names.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"id": ["a", "b", "c"], "q1": [4.0, None, None]})
>>> df = set_missing_reasons(df, {"q1": [None, "dont_know", "not_applicable"]})
>>> list(df.columns)
['id', 'q1', 'q1__missing']
>>> facility = pd.DataFrame({"id": ["a", "b", "c"], "unit": ["A", "A", "B"]})
>>> missing_reasons(df.merge(facility, on="id"), ["q1"])["q1"].tolist()
[<NA>, 'dont_know', 'not_applicable']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import codebook as _cb
from .._validate import InputError

__all__ = [
    "REASONS",
    "REASON_DTYPE",
    "REASON_SUFFIX",
    "ReasonsLost",
    "missing_reasons",
    "reason_column",
    "reason_columns",
    "set_missing_reasons",
    "with_reasons",
]

#: The reasons a cell can be missing for: the codebook's missing reasons and ``invalid``.
REASONS: tuple[str, ...] = (*_cb.MISSING_REASONS, "invalid")
#: The suffix of a reason column: ``q1`` -> ``q1__missing``.
REASON_SUFFIX = "__missing"
#: The dtype of a reason column (one fixed set of categories, so frames concatenate as categoricals).
REASON_DTYPE = pd.CategoricalDtype(list(REASONS))


class ReasonsLost(InputError):
    """The frame came from :func:`veplab.data.load`, but the reason columns of some items were dropped."""


def reason_column(column: str) -> str:
    """The name of the reason column of ``column``: ``column + "__missing"``.

    Parameters
    ----------
    column : str
        An item's column name.

    Returns
    -------
    str
        The name of the column holding why that item's answers are missing.

    References
    ----------
    de Leeuw, E. D., Hox, J. J. & Huisman, M. (2003). Prevention and
    treatment of item nonresponse. *Journal of Official Statistics* 19(2),
    153-176 (why the kinds of item nonresponse are kept apart).
    docs/DESIGN.md, "Codebook (instrument) format" (``missing:``
    codes and their reasons).

    Examples
    --------
    >>> reason_column("q1")
    'q1__missing'
    """
    return f"{column}{REASON_SUFFIX}"


def reason_columns(df: pd.DataFrame) -> list[str]:
    """The reason columns of ``df`` (``c__missing`` for a column ``c`` of ``df``), in column order.

    A column ending in ``__missing`` counts only when its item is a column
    of ``df`` too.

    Parameters
    ----------
    df : DataFrame
        Any frame.

    Returns
    -------
    list of str

    References
    ----------
    docs/DESIGN.md, "API conventions" (missing data is handled
    explicitly); the naming rule is :func:`reason_column`'s.

    Examples
    --------
    >>> reason_columns(pd.DataFrame(columns=["q1", "q1__missing", "x__missing"]))
    ['q1__missing']
    """
    cols = {str(c) for c in df.columns}
    return [c for c in df.columns if isinstance(c, str) and c.endswith(REASON_SUFFIX)
            and c[: -len(REASON_SUFFIX)] in cols]


def with_reasons(df: pd.DataFrame, columns: Iterable[Any]) -> list[Any]:
    """``columns`` followed by the reason columns ``df`` holds for them: select columns without losing reasons.

    ``df[with_reasons(df, cols)]`` is ``df[cols]`` that keeps why each
    answer is missing, which :func:`veplab.missing.impute` and
    :func:`missing_reasons` need.

    Parameters
    ----------
    df : DataFrame
        The frame to select from.
    columns : iterable
        The columns wanted.

    Returns
    -------
    list
        ``columns`` (in order, without duplicates), then their reason columns.

    References
    ----------
    docs/DESIGN.md, "API conventions" (missing data is handled
    explicitly, never silently).

    Examples
    --------
    >>> df = pd.DataFrame(columns=["q1", "q1__missing", "q2", "age"])
    >>> with_reasons(df, ["q1", "age"])
    ['q1', 'age', 'q1__missing']
    """
    columns = list(columns)
    have = set(df.columns)
    extra = [reason_column(c) for c in columns if isinstance(c, str) and reason_column(c) in have]
    return list(dict.fromkeys(columns + [c for c in extra if c not in columns]))


def _recorded(df: pd.DataFrame) -> tuple[str, ...]:
    """The columns :func:`veplab.data.load` gave reason columns, when ``df`` still carries its record."""
    info = df.attrs.get("veplab") if isinstance(getattr(df, "attrs", None), dict) else None
    return tuple(getattr(info, "reason_columns", ()) or ())


def _reason_values(df: pd.DataFrame, rc: str) -> np.ndarray:
    """A reason column's values as an object array (None where empty), checked against :data:`REASONS`."""
    col = df[rc]
    if isinstance(col, pd.DataFrame):
        raise InputError(f"missing_reasons: the data hold column {rc!r} more than once; keep one")
    vals = np.array(col.astype(object), dtype=object)  # a copy: pandas may hand out a read-only view
    empty = pd.isna(vals)
    vals[empty] = None
    bad = sorted({str(v) for v in vals[~empty]} - set(REASONS))
    if bad:
        raise InputError(f"missing_reasons: column {rc!r} holds {bad[:5]}, which are not reasons for a missing "
                         f"answer ({', '.join(REASONS)}); a column named '<item>{REASON_SUFFIX}' holds the "
                         "reasons of <item>: rename it if it is something else")
    return vals


def lost_reasons(df: pd.DataFrame, columns: Iterable[Any]) -> list[Any]:
    """The ``columns`` whose reason column :func:`veplab.data.load` made but ``df`` no longer holds."""
    recorded = set(_recorded(df))
    have = set(df.columns)
    return [c for c in columns if c in recorded and reason_column(c) not in have]


def lost_message(df: pd.DataFrame, lost: Sequence[Any], what: str) -> str:
    shown = ", ".join(repr(c) for c in lost[:6]) + (f" and {len(lost) - 6} more" if len(lost) > 6 else "")
    names = ", ".join(repr(reason_column(c)) for c in lost[:3]) + (", ..." if len(lost) > 3 else "")
    return (f"{what}: the data were loaded by veplab.data.load, which recorded why answers to {shown} are missing "
            f"(don't know, refused, not applicable, ...) in the columns {names}, but those columns are not in the "
            "frame given here (selecting columns, e.g. df[[...]], leaves them behind). Keep them: select with "
            "veplab.data.with_reasons(df, [...]), or pass the whole loaded frame (impute takes columns=[...])")


def missing_reasons(df: pd.DataFrame, columns: Iterable[Any] | None = None) -> pd.DataFrame:
    """Reasons for missing cells, as a frame shaped like ``df[columns]``.

    Cells (dtype object) hold ``"dont_know"``, ``"refused"``, ``"not_applicable"``,
    ``"not_asked"``, ``"missing"`` (a user-missing code the codebook did not
    name), ``"invalid"``, or ``<NA>``: the cell is answered, or is missing
    with no recorded reason (blank in the file, or a row a merge added).  A
    reason is only ever given for a cell that is missing in ``df`` (a cell
    filled in later has no reason).  Reasons are read from the reason columns
    (``<column>__missing``, see the module docstring), so they follow every
    merge, join, concatenation and row filter of ``df``.

    Parameters
    ----------
    df : DataFrame
        Data with reason columns (made by :func:`veplab.data.load` or
        :func:`set_missing_reasons`).
    columns : iterable, optional
        Defaults to every column of ``df`` except the reason columns.

    Returns
    -------
    DataFrame
        ``df``'s index, one column per requested column.

    Raises
    ------
    ReasonsLost
        When ``df`` still carries :func:`veplab.data.load`'s record and a
        requested column's reason column was dropped (reporting "no reason"
        then would be wrong).
    InputError
        For columns not in ``df``, or a reason column holding something other
        than :data:`REASONS`.

    References
    ----------
    de Leeuw, E. D., Hox, J. J. & Huisman, M. (2003). Prevention and
    treatment of item nonresponse. *Journal of Official Statistics* 19(2),
    153-176.
    Little, R. J. A. & Rubin, D. B. (2019). *Statistical Analysis with
    Missing Data*, 3rd ed. Wiley (a not-applicable cell is not a missing
    value to impute).

    Examples
    --------
    >>> df = set_missing_reasons(pd.DataFrame({"q1": [None, 2.0]}), {"q1": ["refused", None]})
    >>> missing_reasons(df)["q1"].tolist()
    ['refused', <NA>]

    Reasons follow their rows through a merge, which drops ``df.attrs``:

    >>> df["rid"] = ["r1", "r2"]
    >>> facility = pd.DataFrame({"rid": ["r1", "r2"], "unit": ["A", "B"]})
    >>> missing_reasons(df.merge(facility, on="rid"), ["q1"])["q1"].tolist()
    ['refused', <NA>]
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"missing_reasons: expected a pandas DataFrame, got {type(df).__name__}")
    skip = set(reason_columns(df))
    columns = [c for c in df.columns if c not in skip] if columns is None else list(columns)
    absent = [c for c in columns if c not in df.columns]
    if absent:
        raise InputError(f"missing_reasons: columns {absent} are not in the data")
    lost = lost_reasons(df, columns)
    if lost:
        raise ReasonsLost(lost_message(df, lost, "missing_reasons"))
    arr = np.full((len(df), len(columns)), pd.NA, dtype=object)
    have = set(df.columns)
    for j, c in enumerate(columns):
        rc = reason_column(c) if isinstance(c, str) else None
        if rc is None or rc not in have or c in skip:
            continue
        vals = _reason_values(df, rc)
        item = df[c]
        if isinstance(item, pd.DataFrame):
            raise InputError(f"missing_reasons: the data hold column {c!r} more than once; keep one")
        hit = item.isna().to_numpy() & np.not_equal(vals, np.array(None, dtype=object))
        arr[hit, j] = vals[hit]
    return pd.DataFrame(arr, index=df.index, columns=columns, dtype=object)  # object: <NA> stays <NA>


def set_missing_reasons(df: pd.DataFrame, reasons: Mapping[Any, Any] | pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with the reason column of each column of ``reasons`` set (added at the end).

    ``reasons`` maps a column of ``df`` to its reasons (one per row, in row
    order: a reason from :data:`REASONS` or ``None``), or is a frame with
    ``df``'s index and some of its columns.  A reason given for a cell that is
    not missing is an error (the reason of an answer would be meaningless).

    Parameters
    ----------
    df : DataFrame
        The data.
    reasons : mapping or DataFrame
        Column -> one reason (or None) per row.

    Returns
    -------
    DataFrame
        A copy with categorical reason columns ``<column>__missing``
        (existing ones replaced in place, new ones appended); ``attrs`` kept.

    Raises
    ------
    InputError
        For an unknown column, a wrong length, a value that is not a reason,
        or a reason given for an answered cell.

    References
    ----------
    de Leeuw, E. D., Hox, J. J. & Huisman, M. (2003). Prevention and
    treatment of item nonresponse. *Journal of Official Statistics* 19(2),
    153-176.
    docs/DESIGN.md, "Codebook (instrument) format" (missing codes).

    Examples
    --------
    >>> df = set_missing_reasons(pd.DataFrame({"q1": [None, 2.0]}), {"q1": ["dont_know", None]})
    >>> df["q1__missing"].tolist()
    ['dont_know', nan]
    >>> try:
    ...     set_missing_reasons(pd.DataFrame({"q1": [1.0]}), {"q1": ["refused"]})
    ... except ValueError as error:
    ...     print(error)
    set_missing_reasons: 'q1': 1 reasons are given for answered cells; a reason belongs to a missing cell only
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"set_missing_reasons: expected a pandas DataFrame, got {type(df).__name__}")
    if isinstance(reasons, pd.DataFrame):
        if not reasons.index.equals(df.index):
            raise InputError("set_missing_reasons: the reasons frame must have the data's index")
        reasons = {c: reasons[c].to_numpy(dtype=object) for c in reasons.columns}
    recorded = set(reason_columns(df))
    made: dict[str, pd.Categorical] = {}
    for c, r in reasons.items():
        if c not in df.columns:
            raise InputError(f"set_missing_reasons: {c!r} is not a column of the data")
        if c in recorded:
            raise InputError(f"set_missing_reasons: {c!r} is itself a reason column")
        if (isinstance(r, pd.Categorical) and not r.ordered
                and r.categories.equals(REASON_DTYPE.categories)):  # already reasons (what load makes)
            if len(r) != len(df):
                raise InputError(f"set_missing_reasons: {c!r} needs one reason per row ({len(df)}), got {len(r)}")
            answered = (r.codes >= 0) & df[c].notna().to_numpy()
            if answered.any():
                raise InputError(f"set_missing_reasons: {c!r}: {int(answered.sum())} reasons are given for "
                                 "answered cells; a reason belongs to a missing cell only")
            made[reason_column(c)] = pd.Categorical.from_codes(r.codes, dtype=REASON_DTYPE)
            continue
        vals = np.array(list(r), dtype=object).reshape(-1) if not isinstance(r, str) else np.array([r], dtype=object)
        if vals.shape != (len(df),):
            raise InputError(f"set_missing_reasons: {c!r} needs one reason per row ({len(df)}), got {vals.size}")
        empty = pd.isna(vals)
        bad = sorted({str(v) for v in vals[~empty]} - set(REASONS))
        if bad:
            raise InputError(f"set_missing_reasons: {c!r}: {bad[:5]} are not reasons ({', '.join(REASONS)})")
        answered = ~empty & df[c].notna().to_numpy()
        if answered.any():
            raise InputError(f"set_missing_reasons: {c!r}: {int(answered.sum())} reasons are given for answered "
                             "cells; a reason belongs to a missing cell only")
        vals[empty] = None
        made[reason_column(c)] = pd.Categorical(vals, dtype=REASON_DTYPE)
    out = df.copy()
    for rc in [rc for rc in made if rc in out.columns]:
        out[rc] = made.pop(rc)
    if made:  # one concat, not one insert per column (a frame of many items would be fragmented)
        out = pd.concat([out, pd.DataFrame(made, index=df.index)], axis=1)
        out.attrs = df.attrs  # concat keeps attrs only when every part has them
    return out
