"""Input validation shared by the analysis modules.

Analyses are pure functions of pandas objects.  They check their inputs here,
at the boundary, and raise :class:`InputError` (a ``ValueError``) whose message
names the column, the rows and what to do about it.  No analysis silently
drops, imputes or coerces data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "InputError",
    "numeric_frame",
    "numeric_series",
    "check_ci",
    "check_choice",
    "format_rows",
    "rng",
]


class InputError(ValueError):
    """Bad input to an analysis: the message says what is wrong and what to do."""


#: veplab's pseudonyms (``veplab.privacy.PSEUDONYM_PATTERN``: prefix, ``_``, base32).
_PSEUDONYM_RE = re.compile(r"^[a-z][a-z0-9]{0,7}_[a-z2-7]{26,52}$")


def format_rows(rows: Iterable[Any], limit: int = 10, *, where: str | None = None) -> str:
    """``'rows 3, 8, 14'`` (at most ``limit`` shown, then ``'and N more'``).

    Row labels that are pseudonyms are not written into the message (warnings
    reach logs and notebooks, and a pseudonym is an id the leak scan refuses):
    the message gives their number and ``where`` says where they are listed,
    e.g. ``'result.attrs["dropped"]'``.

    >>> format_rows([3, 8, 14])
    'rows 3, 8, 14'
    >>> format_rows(["p_" + "a" * 26, "p_" + "b" * 26], where="result.attrs['dropped']")
    "2 rows; their pseudonyms are not printed: see result.attrs['dropped']"
    """
    rows = list(rows)
    if not rows:
        return "no rows"
    if any(isinstance(r, str) and _PSEUDONYM_RE.match(r) for r in rows):
        word = "row" if len(rows) == 1 else "rows"
        hint = f"see {where}" if where else "select them in the data with the same condition"
        return f"{len(rows)} {word}; their pseudonyms are not printed: {hint}"
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    word = "row" if len(rows) == 1 else "rows"
    return f"{word} {shown}{more}"


def _column_to_float(col: pd.Series, name: str, what: str) -> pd.Series:
    """Convert one column to float64 or raise naming the offending rows."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        if not pd.api.types.is_numeric_dtype(cats.dtype):
            raise InputError(
                f"{what}: column {name!r} is categorical with non-numeric categories "
                f"{list(cats[:5])}; pass numeric codes (load the data with its codebook, "
                f"or map labels to codes first)"
            )
        return col.astype("float64")
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.astype("float64")
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.astype("float64")
    converted = pd.to_numeric(col, errors="coerce")
    bad = converted.isna() & col.notna()
    if bad.any():
        raise InputError(
            f"{what}: column {name!r} has {int(bad.sum())} non-numeric values "
            f"({format_rows(list(col.index[bad]))}); recode them to numbers or to missing"
        )
    return converted.astype("float64")


def numeric_frame(
    data: Any,
    *,
    what: str,
    min_columns: int = 1,
    min_rows: int = 1,
    allow_constant: bool = True,
    column_label: str = "column",
) -> pd.DataFrame:
    """Return ``data`` as a float64 DataFrame, or raise :class:`InputError`.

    Accepts a DataFrame or a 2-D array.  Categorical columns with numeric
    categories (as :func:`veplab.data.load` makes them) become their codes.
    Missing values stay ``NaN``; nothing is dropped here.
    """
    if isinstance(data, pd.DataFrame):
        df = data
    elif isinstance(data, (np.ndarray, list, tuple)):
        arr = np.asarray(data, dtype=object)
        if arr.ndim != 2:
            raise InputError(f"{what}: expected a 2-D table, got an array of shape {arr.shape}")
        df = pd.DataFrame(arr, columns=[f"{column_label}{i + 1}" for i in range(arr.shape[1])])
    else:
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(data).__name__}")
    if df.shape[1] < min_columns:
        raise InputError(
            f"{what}: needs at least {min_columns} {column_label}s, got {df.shape[1]}"
            + (f" ({list(df.columns)})" if df.shape[1] else "")
        )
    if df.columns.duplicated().any():
        dups = list(df.columns[df.columns.duplicated()])
        raise InputError(f"{what}: duplicate column names {dups}; rename them")
    out = pd.DataFrame(
        {c: _column_to_float(df[c], str(c), what) for c in df.columns}, index=df.index
    )
    if len(out) < min_rows:
        raise InputError(f"{what}: needs at least {min_rows} rows, got {len(out)}")
    empty = [str(c) for c in out.columns if out[c].notna().sum() == 0]
    if empty:
        raise InputError(f"{what}: {column_label}(s) {empty} have no non-missing values; drop them")
    if not allow_constant:
        const = [str(c) for c in out.columns if out[c].nunique(dropna=True) <= 1]
        if const:
            raise InputError(
                f"{what}: {column_label}(s) {const} are constant (no variance); drop them, "
                f"they carry no information for this statistic"
            )
    return out


def numeric_series(data: Any, *, what: str, name: str = "x") -> pd.Series:
    """Return ``data`` as a float64 Series, or raise :class:`InputError`."""
    if isinstance(data, pd.DataFrame):
        if data.shape[1] != 1:
            raise InputError(f"{what}: {name} must be one column, got {data.shape[1]}")
        data = data.iloc[:, 0]
    if not isinstance(data, pd.Series):
        data = pd.Series(np.asarray(data), name=name)
    return _column_to_float(data, str(data.name if data.name is not None else name), what)


def check_ci(ci: float) -> float:
    """Validate a confidence level (0 < ci < 1)."""
    try:
        value = float(ci)
    except (TypeError, ValueError):
        raise InputError(f"ci must be a number between 0 and 1, got {ci!r}") from None
    if not 0.0 < value < 1.0:
        raise InputError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci!r}")
    return value


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """Raise naming the allowed values when ``value`` is not among ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise InputError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from ``seed`` (same seed, same numbers)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
