"""R-style model formulas for the regression analyses (a thin layer over patsy).

``y ~ x1 + x2 + C(cat) + factor(cat) + a:b + a*b`` is parsed with patsy, which
implements R's rules for full-rank coding: treatment contrasts with the first
level (sorted, or the order of a pandas Categorical) as reference, and R's
treatment of interactions whose main effects are absent.  This module adds what
patsy leaves out:

* column names as R prints them: ``(Intercept)``, ``gendermale``,
  ``factor(age_group)25-34``, ``grievance:gendermale`` (patsy's ``Intercept`` and
  ``gender[T.male]`` are renamed);
* terms in R's order (by interaction order, then as written), so coefficient
  tables read like ``summary(lmer(...))``;
* ``factor(x)`` as an alias of ``C(x)``, and ``^`` for powers/crossing as in R
  (``I(x^2)``, ``(a + b)^2``);
* errors that name columns the formula uses but the data lacks, and a rank check
  that names collinear terms.

Differences from R worth knowing: an *ordered* pandas Categorical is coded with
treatment contrasts here (R would use polynomial contrasts for an ordered
factor); string levels are sorted by code point (R sorts by the locale, which
can differ for mixed upper/lower case).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import pandas as pd

from .._glm import separation  # the LP of Konis (2007) lives with the GLM core
from .._validate import InputError

__all__ = [
    "separation",
    "split_formula",
    "formula_variables",
    "design_matrix",
    "check_full_rank",
    "Design",
]

# names a formula may use that are functions, not columns
_FUNCTIONS = {
    "C": None,
    "factor": None,
    "I": None,
    "Q": None,
    "np": np,
    "log": np.log,
    "log1p": np.log1p,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "center": None,
    "standardize": None,
    "Treatment": None,
    "Sum": None,
    "Poly": None,
    "Diff": None,
    "Helmert": None,
    "True": None,
    "False": None,
    "None": None,
}


def _patsy():
    try:
        import patsy
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ImportError(
            "veplab.models needs the 'patsy' package for model formulas: pip install patsy"
        ) from exc
    return patsy


def split_formula(formula: str, *, what: str, need_lhs: bool = True) -> tuple[str, str]:
    """Split ``'y ~ x + z'`` into ``('y', 'x + z')`` (R's ``^`` becomes ``**``)."""
    if not isinstance(formula, str) or not formula.strip():
        raise InputError(f"{what}: formula must be a string like 'y ~ x1 + x2', got {formula!r}")
    if formula.count("~") != 1:
        raise InputError(
            f"{what}: formula {formula!r} must contain exactly one '~' "
            "(outcome on the left, predictors on the right)"
        )
    lhs, rhs = (s.strip() for s in formula.split("~"))
    if need_lhs and not lhs:
        raise InputError(f"{what}: formula {formula!r} has no outcome on the left of '~'")
    if not rhs:
        raise InputError(
            f"{what}: formula {formula!r} has nothing right of '~'; write '~ 1' for an "
            "intercept-only model"
        )
    if "|" in rhs:
        raise InputError(
            f"{what}: formula {formula!r} contains '|': give the fixed part only and name "
            "the grouping column with group= (random slopes with re_formula=)"
        )
    return lhs, rhs.replace("^", "**")


def _names_in_code(code: str) -> set[str]:
    """Identifiers an expression reads, with Q("name") giving the quoted name."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Q":
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names.add(arg.value)
        elif isinstance(node, ast.Name) and node.id != "Q":
            names.add(node.id)
    return names


def formula_variables(
    rhs: str, columns: pd.Index, *, what: str, side: str = "formula"
) -> list[str]:
    """Columns of the data that the right-hand side ``rhs`` uses (in order).

    Raises :class:`InputError` naming every identifier that is neither a column
    nor a known function.
    """
    patsy = _patsy()
    try:
        desc = patsy.ModelDesc.from_formula(rhs)
    except patsy.PatsyError as exc:
        raise InputError(f"{what}: cannot parse {side} {rhs!r}: {exc}") from None
    cols = {str(c) for c in columns}
    found: list[str] = []
    unknown: list[str] = []
    for term in desc.rhs_termlist:
        for factor in term.factors:
            for name in sorted(_names_in_code(factor.code)):
                if name in cols:
                    if name not in found:
                        found.append(name)
                elif name not in _FUNCTIONS and name not in unknown:
                    unknown.append(name)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown)
        avail = ", ".join(repr(c) for c in list(columns)[:20])
        raise InputError(
            f"{what}: the {side} names column(s) {shown} that are not in the data; "
            f"available columns: {avail}{' ...' if len(columns) > 20 else ''}"
        )
    return found


_LEVEL = re.compile(r"\[(?:T\.)?([^\[\]]*)\]")


def _r_name(patsy_name: str) -> str:
    if patsy_name == "Intercept":
        return "(Intercept)"

    def level(m: re.Match[str]) -> str:
        lev = m.group(1)
        return {"True": "TRUE", "False": "FALSE"}.get(lev, lev)

    return _LEVEL.sub(level, patsy_name)


@dataclass(frozen=True)
class Design:
    """A model matrix with R-style column names.

    ``factor_codes`` maps each categorical predictor (a factor: text,
    boolean, pandas Categorical, ``C()``/``factor()``), each numeric predictor
    column taking exactly two values (an indicator), and each interaction of
    such predictors (``"a:b"``) to ``(levels, codes)``: its levels and the
    level index of every row.  :meth:`level_counts` turns them into the number
    of rows per level, which the disclosure check of model output reads
    (:func:`veplab.privacy.model_disclosure`).
    """

    matrix: np.ndarray
    names: list[str]
    patsy_names: list[str]
    has_intercept: bool
    factor_codes: dict[str, tuple[tuple[Any, ...], np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @overload
    def level_counts(self, weights: None = None) -> dict[str, dict[Any, int]]: ...
    @overload
    def level_counts(self, weights: np.ndarray | None) -> dict[str, dict[Any, int | float]]: ...
    def level_counts(self, weights: np.ndarray | None = None) -> dict[str, dict[Any, Any]]:
        """Rows (or the sum of ``weights``) per level of every factor; levels with none are left out.

        >>> d = pd.DataFrame({"g": ["a", "b", "a"], "x": [1.0, 2.0, 3.0]})
        >>> design_matrix("x + g", d, what="demo").level_counts()
        {'g': {'a': 2, 'b': 1}}
        """
        out: dict[str, dict[Any, Any]] = {}  # ints without weights, floats with
        for name, (levels, codes) in self.factor_codes.items():
            counts = np.bincount(codes, weights=weights, minlength=len(levels))
            out[name] = {
                lev: (int(round(k)) if weights is None else float(k))
                for lev, k in zip(levels, counts)
                if k > 0
            }
        return out


def design_matrix(rhs: str, data: pd.DataFrame, *, what: str, side: str = "formula") -> Design:
    """Model matrix of ``rhs`` on complete-case ``data`` (no missing values).

    Columns come in R's order (intercept, main effects as written, then
    two-way interactions, ...), named as R names them.
    """
    patsy = _patsy()
    env_ns = {k: v for k, v in _FUNCTIONS.items() if v is not None}
    env_ns["factor"] = patsy.builtins.C
    env = patsy.EvalEnvironment([env_ns])
    # patsy walks string columns element by element; as pandas Categoricals
    # (sorted levels, as R's factor()) they go through its fast path
    data = data.copy()
    for c in data.columns:
        col = data[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            # as R's model.frame drops unused factor levels (after complete-case selection)
            data[c] = col.cat.remove_unused_categories()
            continue
        if not isinstance(col.dtype, pd.CategoricalDtype) and (
            pd.api.types.is_string_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)
        ):
            try:
                data[c] = pd.Categorical(col)
            except TypeError:  # unsortable mixed types: leave to patsy
                pass
    try:
        desc = patsy.ModelDesc.from_formula(rhs)
        mat = patsy.dmatrix(desc, data, eval_env=env, NA_action="raise", return_type="matrix")
    except patsy.PatsyError as exc:
        raise InputError(
            f"{what}: cannot build the model matrix for {side} {rhs!r}: {exc}"
        ) from None
    info = mat.design_info
    # R's order: stable by interaction order, as written
    order = sorted(range(len(desc.rhs_termlist)), key=lambda i: len(desc.rhs_termlist[i].factors))
    cols: list[int] = []
    for i in order:
        term = desc.rhs_termlist[i]
        sl = info.term_slices.get(term)
        if sl is None:  # pragma: no cover - patsy keeps every term
            continue
        cols.extend(range(sl.start, sl.stop))
    if sorted(cols) != list(range(mat.shape[1])):  # pragma: no cover - defensive
        cols = list(range(mat.shape[1]))
    X = np.asarray(mat, dtype=float)[:, cols]
    pnames = [info.column_names[j] for j in cols]
    names = [_r_name(n) for n in pnames]
    codes = _factor_codes(desc, info, data, env)
    return Design(X, names, pnames, "Intercept" in info.column_names, codes)


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _factor_label(code: str) -> str:
    """``C(gender)``, ``factor(gender, Sum)``, ``Q("my col")`` -> the column name; else the code."""
    m = re.fullmatch(r"\s*(?:C|factor)\((.*?)(?:,.*)?\)\s*", code)
    inner = m.group(1).strip() if m else code.strip()
    q = re.fullmatch(r"Q\(\s*(['\"])(.*)\1\s*\)", inner)
    if q:
        return q.group(2)
    return inner if inner.isidentifier() else code.strip()


def _factor_codes(desc: Any, info: Any, data: pd.DataFrame, env: Any) -> dict[str, tuple[tuple[Any, ...], np.ndarray]]:
    """Levels and per-row level index of every factor, two-valued numeric column and factor interaction."""
    patsy = _patsy()
    out: dict[str, tuple[tuple[Any, ...], np.ndarray]] = {}
    by_factor: dict[Any, str] = {}
    for factor, fi in info.factor_infos.items():
        code = factor.name()
        label = _factor_label(code)
        if fi.type == "categorical":
            levels = tuple(_plain(v) for v in fi.categories)
            codes = None
            if label in data.columns:  # a plain column: map its values to patsy's levels
                codes = np.asarray(pd.Categorical(data[label], categories=list(fi.categories)).codes)
                if (codes < 0).any():
                    codes = None
            if codes is None:  # an expression: every level as an indicator column (full-rank coding)
                sub = patsy.dmatrix(f"0 + C({code}, Treatment)", data, eval_env=env, NA_action="raise",
                                    return_type="matrix")
                sub_fi = next(iter(sub.design_info.factor_infos.values()))
                levels = tuple(_plain(v) for v in sub_fi.categories)
                if sub.shape[1] != len(levels):  # pragma: no cover - defensive
                    continue
                codes = np.asarray(sub).argmax(axis=1)
            out[label] = (levels, codes.astype(np.intp))
            by_factor[factor] = label
        elif label in data.columns and pd.api.types.is_numeric_dtype(data[label].dtype):
            vals = data[label].to_numpy()
            uniq = np.unique(vals)
            if len(uniq) == 2:  # an indicator: a factor in numeric clothes
                idx = np.searchsorted(uniq, vals)
                out[label] = (tuple(_plain(v) for v in uniq), idx.astype(np.intp))
                by_factor[factor] = label
    for term in desc.rhs_termlist:
        if len(term.factors) < 2 or not all(f in by_factor for f in term.factors):
            continue
        parts = [out[by_factor[f]] for f in term.factors]
        label = ":".join(by_factor[f] for f in term.factors)
        combined = np.zeros(len(data), dtype=np.intp)
        for levels, codes in parts:
            combined = combined * len(levels) + codes
        used, inverse = np.unique(combined, return_inverse=True)
        level_tuples = []
        for c in used:
            labs = []
            for levels, _ in reversed(parts):
                labs.append(levels[c % len(levels)])
                c //= len(levels)
            level_tuples.append(tuple(reversed(labs)))
        out[label] = (tuple(level_tuples), inverse.astype(np.intp).ravel())
    return out


def check_full_rank(X: np.ndarray, names: list[str], *, what: str, tol: float = 1e-7) -> None:
    """Raise naming the terms when the model matrix is rank deficient.

    Columns are examined in order; one whose part not explained by the earlier
    kept columns is below ``tol`` times its norm is collinear -- the column R's
    ``qr()`` (LINPACK, limited pivoting) would move to the end and lme4 would drop.
    """
    if X.shape[1] == 0:
        return
    kept: list[int] = []
    dropped: list[tuple[int, list[int]]] = []
    Q = np.zeros((X.shape[0], 0))
    for j in range(X.shape[1]):
        col = X[:, j]
        norm = float(np.linalg.norm(col))
        if norm == 0.0:
            dropped.append((j, []))
            continue
        resid = col - Q @ (Q.T @ col) if Q.shape[1] else col
        resid = resid - Q @ (Q.T @ resid) if Q.shape[1] else resid  # re-orthogonalise
        rn = float(np.linalg.norm(resid))
        if rn <= tol * norm:
            coef, *_ = np.linalg.lstsq(X[:, kept], col, rcond=None)
            scale = np.abs(coef) * np.linalg.norm(X[:, kept], axis=0)
            involved = [kept[k] for k in np.flatnonzero(scale > 1e-6 * norm)]
            dropped.append((j, involved))
        else:
            kept.append(j)
            Q = np.column_stack([Q, resid / rn])
    if not dropped:
        return
    parts = []
    for j, involved in dropped:
        if not involved:
            parts.append(f"{names[j]!r} is zero for every row (a level with no observations?)")
        else:
            others = ", ".join(repr(names[k]) for k in involved)
            parts.append(f"{names[j]!r} is a linear combination of {others}")
    drop_names = ", ".join(repr(names[j]) for j, _ in dropped)
    raise InputError(
        f"{what}: fixed-effect model matrix is rank deficient: " + "; ".join(parts) + ". "
        f"R's lmer/glmer would silently drop {drop_names}; veplab stops instead. Remove one "
        "of the collinear terms (or merge sparse categories) and refit."
    )
