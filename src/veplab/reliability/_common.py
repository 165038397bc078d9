"""Helpers shared by the reliability modules (private)."""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..factor_analysis._core import cov2cor, pinv, smc  # noqa: F401  (re-exported: the one copy is the factor core's)
from .._validate import InputError, column_range, format_rows, numeric_data, numeric_frame

__all__ = [
    "items_frame",
    "ratings_frame",
    "encode_categories",
    "smc",
    "pinv",
    "cov2cor",
]


class ItemsData(NamedTuple):
    """Validated scale items: the frame, its values (column-major), completeness."""

    df: pd.DataFrame
    x: np.ndarray
    complete: bool  # no missing answer in the rows kept
    colsum: np.ndarray | None  # column sums of x when complete (else None)
    dropped: int  # incomplete rows dropped (missing="listwise")


def items_frame(items: Any, *, what: str, missing: str) -> tuple[pd.DataFrame, int]:
    """Validate scale items: numeric, >= 2 items, no constant item, >= 3 rows.

    Rows where no item is answered carry no information and are dropped with a
    warning; with ``missing="listwise"`` every incomplete row is dropped (the
    number is returned so results can report it).
    """
    d = items_data(items, what=what, missing=missing, stacklevel=4)
    return d.df, d.dropped


def items_data(items: Any, *, what: str, missing: str, stacklevel: int = 3) -> ItemsData:
    """:func:`items_frame` with the values and whether they are complete (whole-array checks)."""
    df, x, colsum = numeric_data(items, what=what, min_columns=2, min_rows=1, column_label="item")
    maybe_nan = np.isnan(colsum)  # False: the column is complete
    keep: np.ndarray | None = None
    dropped = 0
    if maybe_nan.any():
        nan = np.isnan(x[:, maybe_nan])
        empty = nan.all(axis=1) if maybe_nan.all() else np.zeros(len(x), dtype=bool)
        if empty.any():
            warnings.warn(
                f"{what}: {int(empty.sum())} row(s) answer none of the items and were left out "
                f"({format_rows(list(df.index[empty]))})",
                stacklevel=stacklevel,
            )
            keep = ~empty
        if missing == "listwise":
            complete = ~nan.any(axis=1)
            dropped = int((~complete).sum()) - int(empty.sum())
            keep = complete
    if keep is not None:
        df = df.loc[keep]
        x = df.to_numpy()
        if missing == "listwise":
            maybe_nan[:] = False
            colsum = x.sum(axis=0)
    if len(df) < 3:
        raise InputError(
            f"{what}: needs at least 3 respondents with answers"
            + (" to every item (missing='listwise')" if missing == "listwise" else "")
            + f", got {len(df)}"
        )
    const_cols = column_range(x, maybe_nan)[2]
    const = [str(c) for c, e in zip(df.columns, const_cols) if e]
    if const:
        raise InputError(
            f"{what}: item(s) {const} are constant (no variance) in the rows used; "
            f"drop them from the scale - a constant item carries no information about reliability"
        )
    complete_all = not maybe_nan.any()
    return ItemsData(df, x, complete_all, colsum if complete_all else None, dropped)


def ratings_frame(ratings: Any, *, what: str, min_raters: int = 2) -> pd.DataFrame:
    """Validate a wide ratings table (subjects x raters), keeping labels as they are."""
    if isinstance(ratings, np.ndarray):
        if ratings.ndim != 2:
            raise InputError(f"{what}: ratings must be a 2-D table (subjects x raters), got shape {ratings.shape}")
        ratings = pd.DataFrame(ratings, columns=[f"rater{i + 1}" for i in range(ratings.shape[1])])
    if not isinstance(ratings, pd.DataFrame):
        raise InputError(
            f"{what}: ratings must be a wide DataFrame (one row per subject, one column per rater), "
            f"got {type(ratings).__name__}; use long_to_wide() for long data"
        )
    if ratings.shape[1] < min_raters:
        raise InputError(
            f"{what}: needs at least {min_raters} raters (columns), got {ratings.shape[1]}"
            + (f" ({list(ratings.columns)})" if ratings.shape[1] else "")
        )
    if ratings.columns.duplicated().any():
        raise InputError(f"{what}: duplicate rater columns {list(ratings.columns[ratings.columns.duplicated()])}")
    empty = [str(c) for c in ratings.columns if ratings[c].isna().all()]
    if empty:
        raise InputError(f"{what}: rater(s) {empty} gave no ratings at all; drop those columns")
    if len(ratings) < 2:
        raise InputError(f"{what}: needs at least 2 subjects (rows), got {len(ratings)}")
    return ratings


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def encode_categories(
    frame: pd.DataFrame, *, what: str, levels: Sequence[Any] | None = None, numeric: bool = False
) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Encode ratings as integer codes (-1 = missing) over a sorted level set.

    Numbers (including categorical columns with numeric categories) become
    floats and sort numerically; text labels sort alphabetically.  ``levels``
    fixes the level set and order (every observed value must be in it).
    ``numeric=True`` requires numeric values (weighted / metric statistics).
    """
    cols = []
    for c in frame.columns:
        col = frame[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        if pd.api.types.is_bool_dtype(col.dtype):
            col = col.astype(float)
        cols.append(col)
    values = pd.concat(cols, axis=1, keys=list(frame.columns))
    arr = values.to_numpy(dtype=object)
    mask = pd.isna(values).to_numpy()
    obs = arr[~mask]
    is_num = np.array([_is_number(v) for v in obs], dtype=bool)
    if obs.size and is_num.all():
        kind = "number"
    elif obs.size and not is_num.any():
        kind = "text"
        obs = obs.astype(str)
    elif obs.size:
        bad = [repr(v) for v in obs[~is_num][:3]]
        raise InputError(f"{what}: ratings mix numbers and text (e.g. {', '.join(bad)}); use one coding")
    else:
        raise InputError(f"{what}: there are no ratings")
    if numeric and kind != "number":
        raise InputError(f"{what}: this statistic needs numeric ratings, got text labels such as {obs[0]!r}")
    if levels is None:
        if kind == "number":
            lv = np.unique(obs.astype(float))
        else:
            lv = np.unique(obs)
    else:
        lv_in = list(levels)
        if len(set(map(str, lv_in))) != len(lv_in):
            raise InputError(f"{what}: levels {lv_in} contain duplicates")
        if kind == "number":
            if not all(_is_number(v) for v in lv_in):
                raise InputError(f"{what}: the ratings are numbers but levels {lv_in} are not all numbers")
            lv = np.asarray(lv_in, dtype=float)
        else:
            lv = np.asarray([str(v) for v in lv_in], dtype=object)
    codes = np.full(arr.shape, -1, dtype=np.int64)
    if kind == "number":
        flat = arr[~mask].astype(float)
        order = np.argsort(lv, kind="stable") if levels is not None else np.arange(len(lv))
        sorted_lv = lv[order]
        pos = np.searchsorted(sorted_lv, flat)
        pos_c = np.clip(pos, 0, len(lv) - 1)
        ok = sorted_lv[pos_c] == flat
        idx = order[pos_c]
    else:
        flat = arr[~mask].astype(str)
        lookup = {str(v): i for i, v in enumerate(lv)}
        idx = np.array([lookup.get(v, -1) for v in flat], dtype=np.int64)
        ok = idx >= 0
    if not ok.all():
        rr, cc = np.nonzero(~mask)
        bad_rows = [frame.index[r] for r in rr[~ok]]
        bad_vals = sorted({str(v) for v in np.asarray(arr[~mask])[~ok]})
        raise InputError(
            f"{what}: values {bad_vals[:5]} are not among levels {list(_tidy_levels(lv))} "
            f"({format_rows(bad_rows)}); add them to levels= or recode them"
        )
    codes[~mask] = idx
    return codes, _tidy_levels(lv)


def _tidy_levels(lv: np.ndarray) -> tuple[Any, ...]:
    out: list[Any] = []
    for v in lv:
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            out.append(int(v))
        elif isinstance(v, np.floating):
            out.append(float(v))
        else:
            out.append(v)
    return tuple(out)


def pairwise_cor(x: np.ndarray) -> np.ndarray:
    """Pearson correlations from pairwise-complete observations (R's ``cor(use = "pairwise")``).

    Each correlation uses the means and standard deviations of the rows
    where both variables are observed.
    """
    m = ~np.isnan(x)
    if m.all():
        return np.corrcoef(x, rowvar=False)
    x0 = np.where(m, x - np.nanmean(x, axis=0), 0.0)
    mf = m.astype(float)
    n = mf.T @ mf
    sx = x0.T @ mf  # sx[i, j]: sum of x_i where i and j observed
    sxx = (x0**2).T @ mf
    sxy = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        vi = sxx - sx**2 / n
        r = cov / np.sqrt(vi * vi.T)
    np.fill_diagonal(r, 1.0)
    return r


@contextlib.contextmanager
def small_blas() -> Iterator[None]:
    """Run small-matrix linear algebra on one BLAS thread.

    Model fits on k x k matrices gain nothing from BLAS threads, and threaded
    OpenBLAS on tiny problems is very slow on a busy machine (threads spin
    waiting for cores).  Uses threadpoolctl when installed; otherwise a no-op.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
