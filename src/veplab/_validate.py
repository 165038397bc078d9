"""Input validation shared by the analysis modules.

Analyses are pure functions of pandas objects.  They check their inputs here,
at the boundary, and raise :class:`InputError` (a ``ValueError``) whose message
names the column, the rows and what to do about it.  No analysis silently
drops, imputes or coerces data.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "InputError",
    "StudyError",
    "numeric_frame",
    "column_range",
    "numeric_series",
    "check_ci",
    "check_choice",
    "check_count",
    "check_frame",
    "columns_shown",
    "format_rows",
    "sorted_levels",
    "rng",
]


class InputError(ValueError):
    """Bad input to an analysis: the message says what is wrong and what to do."""


class StudyError(ValueError):
    """A malformed study configuration; the message names file and key.

    Defined here, below :mod:`veplab.study` and :mod:`veplab.analyses`, so that
    both raise the same error without importing each other.
    """


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


def _frame_to_float(df: pd.DataFrame, what: str) -> np.ndarray:
    """All columns of ``df`` as one ``(rows, columns)`` float64 array, or raise naming the column.

    Plain numpy numeric and boolean columns are converted together in one
    copy; categorical columns with numeric categories map their codes through
    the categories (vectorised); other columns (text, nullable extension
    types) go through :func:`_column_to_float` one at a time.
    """
    n, k = df.shape
    dtypes = list(df.dtypes)
    fast = [j for j, dt in enumerate(dtypes) if isinstance(dt, np.dtype) and dt.kind in "biuf"]
    in_fast = set(fast)
    # One (rows, columns) array in column-major order (as pandas holds a block), owned
    # here: pandas hands out read-only views, so values are copied in, converting once.
    arr = np.empty((n, k), dtype=np.float64, order="F")
    if len(fast) == k:
        arr[...] = df.to_numpy()
        return arr
    for j, dt in enumerate(dtypes):
        if j in in_fast:
            continue
        if isinstance(dt, pd.CategoricalDtype) and isinstance(dt.categories.dtype, np.dtype) \
                and dt.categories.dtype.kind in "biuf":
            col = df.iloc[:, j]
            cats = np.append(dt.categories.to_numpy(dtype=np.float64), np.nan)
            # code -1 (missing) wraps to the NaN appended last
            np.take(cats, col.cat.codes.to_numpy(), out=arr[:, j], mode="wrap")
        else:
            arr[:, j] = _column_to_float(df.iloc[:, j], str(df.columns[j]), what).to_numpy(dtype=np.float64)
    if fast:
        arr[:, fast] = df.iloc[:, fast].to_numpy()
    return arr


def column_range(x: np.ndarray, maybe_nan: np.ndarray | bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smallest and largest non-missing value of each column and whether it is constant.

    ``maybe_nan`` (a boolean per column, or one for all) marks the columns
    that may hold NaN; the others use the faster plain reductions.  A column
    with no value counts as constant.
    """
    maybe = np.broadcast_to(np.asarray(maybe_nan, dtype=bool), (x.shape[1],))
    lo = np.empty(x.shape[1])
    hi = np.empty(x.shape[1])
    if (~maybe).any():
        sub = x[:, ~maybe] if maybe.any() else x
        lo[~maybe] = sub.min(axis=0)
        hi[~maybe] = sub.max(axis=0)
    if maybe.any():
        sub = x[:, maybe]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column
            lo[maybe] = np.nanmin(sub, axis=0)
            hi[maybe] = np.nanmax(sub, axis=0)
    return lo, hi, ~(lo < hi)


def numeric_data(
    data: Any,
    *,
    what: str,
    min_columns: int = 1,
    min_rows: int = 1,
    allow_constant: bool = True,
    column_label: str = "column",
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """:func:`numeric_frame`, also returning its values (column-major) and column sums.

    A column sum is NaN exactly when the column holds a missing value (or
    both infinities), so callers learn which columns are complete for free.
    """
    if isinstance(data, pd.DataFrame):
        df = data
    elif isinstance(data, np.ndarray) and data.ndim == 2 and data.dtype.kind in "biuf":
        df = pd.DataFrame(data, columns=[f"{column_label}{i + 1}" for i in range(data.shape[1])])
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
    _check_unique_columns(df, what)
    arr = _frame_to_float(df, what)
    if arr.shape[0] < min_rows:
        raise InputError(f"{what}: needs at least {min_rows} rows, got {arr.shape[0]}")
    # A column sum is NaN only if the column holds a NaN (or both infinities), so
    # complete columns are recognised in one fast pass.
    with np.errstate(invalid="ignore", over="ignore"):
        colsum = arr.sum(axis=0)
    suspect = np.isnan(colsum)
    empty_cols = np.zeros(arr.shape[1], dtype=bool)
    if suspect.any():
        empty_cols[suspect] = np.isnan(arr[:, suspect]).all(axis=0)
    if empty_cols.any():
        empty = [str(c) for c, e in zip(df.columns, empty_cols) if e]
        raise InputError(f"{what}: {column_label}(s) {empty} have no non-missing values; drop them")
    if not allow_constant and arr.shape[0]:
        const_cols = column_range(arr, suspect)[2]
        if const_cols.any():
            const = [str(c) for c, e in zip(df.columns, const_cols) if e]
            raise InputError(
                f"{what}: {column_label}(s) {const} are constant (no variance); drop them, "
                f"they carry no information for this statistic"
            )
    out = pd.DataFrame(arr, index=df.index, columns=pd.Index(list(df.columns)), copy=False)
    return out, arr, colsum


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
    Missing values stay ``NaN``; nothing is dropped here.  The columns are
    converted together (one copy for plain numeric frames), and the checks
    (empty and constant columns) are whole-array reductions.
    """
    return numeric_data(
        data, what=what, min_columns=min_columns, min_rows=min_rows,
        allow_constant=allow_constant, column_label=column_label,
    )[0]


def numeric_series(data: Any, *, what: str, name: str = "x") -> pd.Series:
    """Return ``data`` as a float64 Series, or raise :class:`InputError`."""
    if isinstance(data, pd.DataFrame):
        if data.shape[1] != 1:
            raise InputError(f"{what}: {name} must be one column, got {data.shape[1]}")
        data = data.iloc[:, 0]
    if not isinstance(data, pd.Series):
        data = pd.Series(np.asarray(data), name=name)
    return _column_to_float(data, str(data.name if data.name is not None else name), what)


def check_frame(df: Any, what: str, *, rows: bool = True, unique: bool = True) -> pd.DataFrame:
    """Return ``df`` if it is a DataFrame (with unique column names and at least one row).

    ``unique=False`` skips the duplicate-name check, ``rows=False`` the empty check.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    if unique:
        _check_unique_columns(df, what)
    if rows and len(df) == 0:
        raise InputError(f"{what}: the data frame has no rows")
    return df


def _check_unique_columns(df: pd.DataFrame, what: str) -> None:
    if df.columns.duplicated().any():
        dups = list(df.columns[df.columns.duplicated()])
        raise InputError(f"{what}: duplicate column names {dups}; rename them")


def columns_shown(columns: Iterable[Any], limit: int = 15) -> str:
    """The first ``limit`` column names, quoted and comma-separated (`` ...`` when cut)."""
    avail = list(columns)
    return ", ".join(repr(c) for c in avail[:limit]) + (" ..." if len(avail) > limit else "")


def check_ci(ci: float) -> float:
    """Validate a confidence level (0 < ci < 1)."""
    try:
        value = float(ci)
    except (TypeError, ValueError):
        raise InputError(f"ci must be a number between 0 and 1, got {ci!r}") from None
    if not 0.0 < value < 1.0:
        raise InputError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci!r}")
    return value


def check_count(value: Any, name: str, what: str, *, minimum: int = 1, hint: str = "") -> int:
    """Return ``value`` as an int if it is a whole number (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{what}: {name} must be a whole number >= {minimum}{hint}, got {value!r}")
    return int(value)


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """Raise naming the allowed values when ``value`` is not among ``choices``.

    The one check behind every option that takes one of a few words
    (``missing="pairwise"|"listwise"``, ``method=``...), so that every such
    error reads the same way and names what is allowed.

    Parameters
    ----------
    value : any
        What the caller passed.
    name : str
        The argument's name, as the message shows it.
    choices : sequence
        The allowed values.

    Returns
    -------
    any
        ``value``, unchanged.

    Raises
    ------
    InputError
        ``"<name> must be one of <choices>; got <value>"``.

    References
    ----------
    docs/DESIGN.md, "API conventions" (validation at the boundary,
    with messages that name the argument and the fix); scikit-learn's
    parameter validation is the model (Pedregosa et al. 2011, *Scikit-learn:
    Machine Learning in Python*, JMLR 12, 2825-2830).

    Examples
    --------
    >>> check_choice("listwise", "missing", ("pairwise", "listwise"))
    'listwise'
    >>> check_choice("complete", "missing", ("pairwise", "listwise"))
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: missing must be one of 'pairwise', 'listwise'; got 'complete'
    """
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise InputError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def read_yaml_mapping(path: str | Path, what: str, *, expect: str, file: str = "file",
                      hint: str = "") -> dict[str, Any]:
    """The mapping a YAML file holds, or :class:`InputError` (no such file, bad YAML, not a mapping).

    ``expect`` names the keys the mapping should have, ``file`` what the file is
    called in the message, ``hint`` what to do when it does not exist.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{what}: no {file} {str(p)!r}{hint}")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{what}: {p.name} is not valid YAML: {exc}") from None
    if not isinstance(doc, Mapping):
        raise InputError(f"{what}: {p.name} must hold a mapping ({expect})")
    return dict(doc)


def rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from ``seed`` (same seed, same numbers)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _sort_key(v: Any) -> tuple[int, Any]:
    if isinstance(v, (int, float, np.integer, np.floating, bool, np.bool_)):
        return (0, float(v))
    return (1, str(v))


def sorted_levels(values: pd.Series) -> list[Any]:
    """The levels present in ``values``: a categorical's in category order, else numbers
    (ascending) before text (alphabetical), as R's ``factor()`` orders them.

    >>> import pandas as pd
    >>> sorted_levels(pd.Series(["b", 2, "a", 10, None]))
    [2, 10, 'a', 'b']
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [c for c in values.cat.categories if (values == c).any()]
    return sorted(pd.unique(values.dropna()), key=_sort_key)
