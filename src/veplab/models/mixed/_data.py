"""The model frame of a mixed model: formula, groups, rows used, and the Wald table."""

from __future__ import annotations

import ast
import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..._validate import InputError, check_frame, format_rows, numeric_series
from .._formula import Design, check_full_rank, design_matrix, formula_variables, split_formula


# ---------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Data:
    y: np.ndarray  # outcome (successes for binomial)
    X: np.ndarray
    names: list[str]
    Z: np.ndarray
    z_names: list[str]
    codes: np.ndarray  # group index per row, rows sorted by group
    levels: list[Any]
    sizes: np.ndarray
    starts: np.ndarray
    n_dropped: int
    trials: np.ndarray | None
    outcome: str
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict)


def _is_identifier(name: str) -> bool:
    return name.isidentifier()


def _q(name: str) -> str:
    """Column name usable in a formula."""
    return name if _is_identifier(name) else f"Q({name!r})"


def _prepare(
    df: pd.DataFrame,
    formula: str,
    group: str,
    *,
    what: str,
    re_formula: str | None = None,
    trials: str | None = None,
) -> _Data:
    check_frame(df, what, rows=False)
    if not isinstance(group, str) or group not in df.columns:
        raise InputError(
            f"{what}: group={group!r} is not a column of the data; name the column that "
            "identifies the clusters (e.g. 'prison')"
        )
    lhs, rhs = split_formula(formula, what=what)
    if lhs.startswith("Q(") and lhs.endswith(")"):
        try:
            lhs = str(ast.literal_eval(lhs[2:-1]))
        except (ValueError, SyntaxError):
            raise InputError(
                f"{what}: cannot read the outcome {lhs!r}; write Q('column name')"
            ) from None
    if lhs not in df.columns:
        if lhs.startswith("cbind("):
            raise InputError(
                f"{what}: write aggregated binomial data as 'successes ~ ...' with "
                "trials='n_column' instead of cbind(successes, failures)"
            )
        raise InputError(
            f"{what}: the outcome {lhs!r} (left of '~') is not a column of the data; "
            "the outcome must be a plain column name"
        )
    fixed_vars = formula_variables(rhs, df.columns, what=what)
    re_vars: list[str] = []
    re_rhs = "1"
    if re_formula is not None:
        re_lhs, re_rhs = split_formula(
            re_formula if "~" in str(re_formula) else f"~{re_formula}", what=what, need_lhs=False
        )
        if re_lhs:
            raise InputError(f"{what}: re_formula {re_formula!r} must be one-sided, like '~x'")
        re_vars = formula_variables(re_rhs, df.columns, what=what, side="re_formula")
    if trials is not None and trials not in df.columns:
        raise InputError(f"{what}: trials={trials!r} is not a column of the data")
    if group in fixed_vars or group == lhs:
        raise InputError(
            f"{what}: the group column {group!r} also appears in the formula; the random "
            "intercept already accounts for it"
        )
    needed: list[str] = []
    for c in [lhs, *fixed_vars, *re_vars, *([trials] if trials else []), group]:
        if c not in needed:
            needed.append(c)
    sub = df[needed]
    na = sub.isna()
    bad = na.any(axis=1).to_numpy()
    n_dropped = int(bad.sum())
    if n_dropped:
        counts = {c: int(na[c].sum()) for c in needed if na[c].any()}
        detail = ", ".join(
            (f"group column {c!r}: {k}" if c == group else f"{c!r}: {k}") for c, k in counts.items()
        )
        warnings.warn(
            f"{what}: dropped {n_dropped} of {len(sub)} rows with missing values "
            f"({detail}; {format_rows(list(sub.index[bad]))}) -- listwise deletion as R's "
            "na.omit does; the result's n_dropped records it. Impute or recode first if "
            "these rows matter.",
            UserWarning,
            stacklevel=3,
        )
    data = sub.loc[~bad]
    if len(data) == 0:
        raise InputError(f"{what}: no complete rows left after dropping missing values")
    codes, uniques = pd.factorize(data[group], sort=True)
    order = np.argsort(codes, kind="stable")
    data = data.iloc[order]
    codes = codes[order]
    y = numeric_series(data[lhs], what=what, name=lhs).to_numpy(dtype=float)
    if not np.all(np.isfinite(y)):
        raise InputError(f"{what}: outcome {lhs!r} has infinite values; recode them")
    design = design_matrix(rhs, data, what=what)
    X = design.matrix
    bad_x = ~np.isfinite(X).all(axis=0)
    if bad_x.any():
        cols = [design.names[j] for j in np.flatnonzero(bad_x)]
        raise InputError(
            f"{what}: fixed-effect columns {cols} have infinite or undefined values "
            "(log of 0?); fix the transformation"
        )
    if X.shape[1] == 0:
        raise InputError(
            f"{what}: the formula {formula!r} has no fixed effects; keep the intercept (~ 1)"
        )
    check_full_rank(X, design.names, what=what)
    if re_rhs.strip() == "1":
        zdes = Design(np.ones((len(data), 1)), ["(Intercept)"], ["Intercept"], True)
    else:
        zdes = design_matrix(re_rhs, data, what=what, side="re_formula")
    if zdes.matrix.shape[1] == 0:
        raise InputError(f"{what}: re_formula {re_formula!r} defines no random effects")
    tr = None
    if trials is not None:
        tr = numeric_series(data[trials], what=what, name=trials).to_numpy(dtype=float)
    sizes = np.bincount(codes, minlength=len(uniques))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    # people per factor level (with trials=, each row stands for its trials)
    level_counts = {name: {lev: int(round(k)) for lev, k in levs.items()}
                    for name, levs in design.level_counts(tr).items()}
    return _Data(
        y=y,
        X=X,
        names=design.names,
        Z=zdes.matrix,
        z_names=zdes.names,
        codes=codes.astype(np.intp),
        levels=list(uniques),
        sizes=sizes,
        starts=starts,
        n_dropped=n_dropped,
        trials=tr,
        outcome=lhs,
        factor_counts=level_counts,
    )


def _check_groups(d: _Data, *, what: str, group: str, linear: bool) -> None:
    G = len(d.levels)
    n = len(d.y)
    if G < 2:
        raise InputError(
            f"{what}: the group column {group!r} has {G} level(s) in the complete rows; a "
            "multilevel model needs at least 2 groups (lme4 stops here too)"
        )
    singletons = int((d.sizes == 1).sum())
    if not linear and d.trials is None and G >= n:
        raise InputError(
            f"{what}: every {group!r} group has a single 0/1 row, so the group variance is "
            "not identifiable (lme4: 'number of levels of each grouping factor must be < "
            "number of observations'); use ordinary logistic regression"
        )
    if linear:
        if G >= n:
            raise InputError(
                f"{what}: every {group!r} group has a single row, so the group variance and "
                "the residual variance cannot be told apart (lme4: 'number of levels of each "
                "grouping factor must be < number of observations')"
            )
        q = d.Z.shape[1]
        if q * G >= n:
            raise InputError(
                f"{what}: {q * G} random effects for {n} observations: too few rows per "
                f"{group!r} group for random slopes (lme4 stops here too); drop re_formula"
            )
    if singletons > G / 2:
        warnings.warn(
            f"{what}: {singletons} of {G} {group!r} groups have a single respondent; such "
            "groups inform the between-group variance only weakly, so its estimate (and the "
            "ICC) rests on the other groups. Consider merging small groups.",
            UserWarning,
            stacklevel=3,
        )


def _wald_table(names, est, se, ci: float, stat: str) -> pd.DataFrame:
    est = np.asarray(est, dtype=float)
    se = np.asarray(se, dtype=float)
    z = stats.norm.ppf(0.5 + ci / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    p = 2.0 * stats.norm.sf(np.abs(t))
    return pd.DataFrame(
        {
            "term": list(names),
            "estimate": est,
            "se": se,
            stat: t,
            "p": p,
            "ci_low": est - z * se,
            "ci_high": est + z * se,
        }
    )


def _fmt_table(df: pd.DataFrame) -> str:
    shown = df.astype(object).where(df.notna(), "")
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]):
            shown[c] = [("" if pd.isna(v) else f"{v:.6g}") for v in df[c]]
    return shown.to_string(index=False)
