"""Shared input checks for :mod:`veplab.outcomes` (private)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import InputError, _sort_key, check_frame, columns_shown, format_rows, numeric_series, sorted_levels

__all__ = [
    "require_frame",
    "require_columns",
    "numeric_column",
    "two_levels",
    "design_columns",
    "level_counts",
    "z_crit",
    "t_crit",
]


def require_frame(df: Any, what: str) -> pd.DataFrame:
    return check_frame(df, what, unique=False)


def require_columns(df: pd.DataFrame, columns: Iterable[Any], what: str) -> None:
    """Raise naming unknown columns and listing the ones that exist."""
    cols = [c for c in columns if c is not None]
    absent = [c for c in cols if c not in df.columns]
    if absent:
        raise InputError(
            f"{what}: column(s) {absent} are not in the data; available columns: {columns_shown(df.columns)}. "
            f"Check the spelling or rename the columns first"
        )


def numeric_column(df: pd.DataFrame, col: Any, what: str) -> pd.Series:
    """One column as float64 (NaN kept), raising on text values."""
    return numeric_series(df[col], what=what, name=str(col))


def two_levels(values: pd.Series, name: str, what: str, *, first: Any = None) -> tuple[list[Any], Any]:
    """Check a column has exactly two observed levels; return (levels, reference).

    The reference (control) level is ``first`` when given, else the first
    level in sorted order (as R's ``factor()`` orders levels).
    """
    levels = sorted(pd.unique(values.dropna()), key=_sort_key)
    if len(levels) < 2:
        raise InputError(
            f"{what}: column {name!r} has "
            + (f"only one level ({levels[0]!r})" if levels else "no non-missing values")
            + "; a comparison needs two groups. Check the filter that made this data set, "
            "or analyse the single group descriptively"
        )
    if len(levels) > 2:
        raise InputError(
            f"{what}: column {name!r} has {len(levels)} levels {levels[:6]}; this analysis compares "
            f"exactly two. Recode it to two levels (e.g. treated / comparison) first"
        )
    if first is not None:
        if first not in levels:
            raise InputError(f"{what}: level {first!r} is not among the levels {levels} of {name!r}")
        ref = first
    else:
        ref = levels[0]
    return levels, ref


def is_categorical(col: pd.Series) -> bool:
    """Dummy-code this column?  Text, and unordered categoricals (nominal codes such as
    country 1/2/3 as :func:`veplab.data.load` makes them) are; ordered categoricals with
    numeric codes (likert, ordinal, binary items) enter as numbers."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return not (col.cat.ordered and pd.api.types.is_numeric_dtype(col.cat.categories.dtype))
    return pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype)


def r_level(level: Any) -> str:
    """A level as R prints it in a coefficient name (``1`` for 1.0)."""
    if isinstance(level, (float, np.floating)) and float(level).is_integer():
        return str(int(level))
    return str(level.item() if isinstance(level, np.generic) else level)


def design_columns(
    df: pd.DataFrame, covariates: Sequence[Any], what: str, *, r_names: bool = True
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Numeric design columns for covariates, with treatment-coded dummies.

    Text / categorical covariates become 0/1 columns ``namelevel``, as R's
    ``lm``/``glm``/``coxph`` name them (``r_names=False``: ``name[level]``), for
    every level but the first (R's default ``contr.treatment``).  Returns the frame
    and a map term -> its columns (for per-term tests).
    """
    out: dict[str, pd.Series] = {}
    terms: dict[str, list[str]] = {}
    for c in covariates:
        col = df[c]
        if is_categorical(col):
            levels = sorted_levels(col)
            if len(levels) < 2:
                raise InputError(
                    f"{what}: covariate {c!r} has a single level ({levels!r}); drop it from the model"
                )
            names = []
            for lev in levels[1:]:
                nm = f"{c}{r_level(lev)}" if r_names else f"{c}[{lev}]"
                out[nm] = pd.Series(
                    np.where(col.isna(), np.nan, (col == lev).astype("float64")), index=df.index
                )
                names.append(nm)
            terms[str(c)] = names
        else:
            out[str(c)] = numeric_column(df, c, what)
            terms[str(c)] = [str(c)]
    return pd.DataFrame(out, index=df.index), terms


def level_counts(df: pd.DataFrame, columns: Sequence[Any]) -> dict[str, dict[Any, int]]:
    """Rows per level of the factors among ``columns``, for the disclosure check of model output.

    A factor is a column :func:`is_categorical` dummy-codes, a boolean or any
    column taking exactly two values (an indicator such as ``female`` 0/1).
    Missing values are not counted; levels with no rows are left out.

    >>> level_counts(pd.DataFrame({"g": ["a", "b", "a"], "x": [0.5, 1.5, 2.5], "f": [0, 1, 1]}), ["g", "x", "f"])
    {'g': {'a': 2, 'b': 1}, 'f': {0: 1, 1: 2}}
    """
    out: dict[str, dict[Any, int]] = {}
    for c in columns:
        col = df[c].dropna()
        factor = is_categorical(df[c]) or pd.api.types.is_bool_dtype(col.dtype)
        if not factor and col.nunique() != 2:  # a continuous covariate: nothing to count (and nothing to sort)
            continue
        levels = sorted_levels(col)
        if factor or len(levels) == 2:
            vc = col.value_counts()
            out[str(c)] = {(v.item() if isinstance(v, np.generic) else v): int(vc[v])
                           for v in levels if vc.get(v, 0) > 0}
    return out


def z_crit(ci: float) -> float:
    return float(stats.norm.ppf(1.0 - (1.0 - ci) / 2.0))


def t_crit(ci: float, df: float) -> float:
    return float(stats.t.ppf(1.0 - (1.0 - ci) / 2.0, df))


def drop_incomplete(
    df: pd.DataFrame, columns: Sequence[Any], what: str, *, warn: bool = True
) -> tuple[pd.DataFrame, list[Any]]:
    """Listwise deletion over ``columns``, reported by a warning naming rows."""
    import warnings

    mask = df[list(columns)].isna().any(axis=1)
    dropped = list(df.index[mask])
    if dropped and warn:
        warnings.warn(
            f"{what}: {len(dropped)} of {len(df)} rows have a missing value in "
            f"{[c for c in columns if df[c].isna().any()]} and were left out "
            f"(listwise deletion; {format_rows(dropped)})",
            stacklevel=3,
        )
    return df.loc[~mask], dropped


def finite_or_nan(x: float) -> float:
    return float(x) if x is not None and math.isfinite(x) else float("nan")
