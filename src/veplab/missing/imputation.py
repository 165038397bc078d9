"""Multiple imputation by chained equations, missingness patterns and Rubin's rules.

* :func:`missing_pattern` -- the table of missing-data patterns of
  ``mice::md.pattern``.
* :func:`impute` -- ``m`` completed data sets by chained equations (van Buuren &
  Groothuis-Oudshoorn 2011, the algorithm of R ``mice``), returned as an
  :class:`Imputations` object.
* :func:`pool` -- combine the ``m`` analyses with Rubin's rules and the
  Barnard-Rubin (1999) degrees of freedom, as ``mice::pool``.

Don't know and refused are answers, not holes
---------------------------------------------
A survey of prisoners has several kinds of missing cells:
:func:`veplab.data.missing_reasons` tells them apart, from the reason columns
``<item>__missing`` that :func:`veplab.data.load` adds (they travel with their
rows through merges, joins and concatenation; :mod:`veplab.data.reasons`).
Imputing "don't know" or "refused" as if the person had given a substantive answer changes the
question being analysed, so :func:`impute` asks the analyst to decide
(``dont_know="exclude"`` keeps them missing in every completed data set,
``dont_know="missing"`` treats them as missing at random and imputes them;
the same for ``refused``) and raises an :class:`~veplab._validate.InputError`
when such cells exist and no choice was made.  ``not_applicable`` (a
question that did not apply) is excluded by default; ``not_asked``,
``invalid`` and plain blanks are imputed by default.  When the reasons are
not in the data given -- reason columns left behind by a column selection of a
loaded frame, or items whose codebook declares reasons but which have no reason
column -- impute raises :class:`veplab.data.ReasonsLost` instead of imputing
cells it might have had to keep missing.  Excluded cells still get
provisional values inside the chained equations, so that their rows can
inform the models for other variables, but they are reset to missing in every
completed data set.

Imputation models (``method="auto"``)
-------------------------------------
* numeric columns and ordered categoricals with more than two levels --
  predictive mean matching (``mice.impute.pmm``: Bayesian linear regression
  draw, type-1 matching, 5 donors, ridge 1e-5).  For ordered categoricals
  (likert items) PMM on the integer codes always imputes an observed code;
  mice's default for ordered factors would be ``polr``.
* two-level columns (binary items, 0/1, two-level categoricals) -- logistic
  regression with a draw of the coefficients from their approximate posterior
  (``mice.impute.logreg``), with a weak ridge penalty against separation.
* unordered categoricals with more than two levels -- multinomial logistic
  regression with a posterior draw (``mice.impute.polyreg`` without the draw
  is improper; veplab draws).
Every other model column is a predictor (numeric codes as numbers, unordered
categoricals as indicator columns), as mice's default predictor matrix.
Starting values are random draws from the observed values; the columns are
visited left to right ``maxit`` times (mice's defaults ``maxit = 5``).

Rubin's rules (:func:`pool`)
----------------------------
For each term, with ``m`` estimates ``Q_l`` and squared standard errors ``U_l``
(van Buuren 2018, *Flexible Imputation of Missing Data*, 2nd ed., sec. 2.3)::

    Qbar = mean(Q_l),  Ubar = mean(U_l),  B = var(Q_l),  T = Ubar + (1 + 1/m) B
    riv = (1 + 1/m) B / Ubar,  lambda = (1 + 1/m) B / T
    df_old = (m - 1) / lambda^2,  df_obs = (dfcom + 1)/(dfcom + 3) dfcom (1 - lambda)
    df = df_old df_obs / (df_old + df_obs)          (Barnard & Rubin 1999)
    fmi = (riv + 2/(df + 3)) / (riv + 1)

with lambda floored at 1e-4 in the df formula, as ``mice:::barnard.rubin``.
Intervals and p-values use a t distribution with ``df``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import linalg, special, stats

from .._glm import glm
from .._results import Result, TableResult
from .._validate import InputError, check_ci, check_choice, check_count, check_frame, rng as _rng

__all__ = ["impute", "Imputations", "missing_pattern", "pool", "Poolable", "PooledEstimates"]

_REASONS = ("dont_know", "refused", "not_applicable", "not_asked", "invalid")
_TREATMENTS = ("missing", "exclude")


# --------------------------------------------------------------------------- md.pattern
def missing_pattern(df: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Missing-data patterns, as R ``mice::md.pattern(x, plot = FALSE)``.

    One row per distinct pattern: ``1`` observed, ``0`` missing; columns sorted
    by increasing number of missing values; patterns sorted as md.pattern
    sorts them (complete cases first).  ``n`` is the number of rows with the
    pattern, ``n_missing`` the number of missing variables in it.  A final row
    (index ``"total"``) holds the number of missing values per column and, in
    ``n_missing``, the total number of missing cells.

    Raises
    ------
    InputError
        ``df`` is not a DataFrame, or ``columns`` names columns it lacks.

    References
    ----------
    van Buuren S, Groothuis-Oudshoorn K (2011). mice: Multivariate imputation by chained
    equations in R. Journal of Statistical Software 45(3), 1-67.
    van Buuren S (2018). Flexible Imputation of Missing Data, 2nd ed. CRC Press, Boca
    Raton, section 4.1 (missing-data patterns).
    The table of R ``mice::md.pattern(x, plot = FALSE)``.

    Examples
    --------
    >>> import pandas as pd, numpy as np
    >>> d = pd.DataFrame({"a": [1, np.nan, 3, 4], "b": [np.nan, np.nan, 1, 2]})
    >>> missing_pattern(d)
           a  b     n  n_missing
    0      1  1     2          0
    1      1  0     1          1
    2      0  0     1          2
    total  1  2  <NA>          3
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"missing_pattern: expected a pandas DataFrame, got {type(df).__name__}")
    cols = list(df.columns) if columns is None else list(columns)
    absent = [c for c in cols if c not in df.columns]
    if absent:
        raise InputError(f"missing_pattern: columns {absent} are not in the data")
    if not cols:
        raise InputError("missing_pattern: no columns to summarise")
    R = df[cols].isna().to_numpy()
    nmis = R.sum(axis=0)
    order = np.argsort(nmis, kind="stable")
    R = R[:, order]
    cols = [cols[j] for j in order]
    if len(df):
        pats, counts = np.unique(R.astype(np.int8), axis=0, return_counts=True)  # lexicographic: 0 < 1
    else:
        pats, counts = np.zeros((0, len(cols)), dtype=np.int8), np.zeros(0, dtype=int)
    body = pd.DataFrame(1 - pats, columns=cols)
    body["n"] = counts
    body["n_missing"] = pats.sum(axis=1)
    total = pd.DataFrame([list(nmis[order]) + [pd.NA, int(nmis.sum())]], columns=cols + ["n", "n_missing"],
                         index=["total"])
    out = pd.concat([body, total])
    out["n"] = out["n"].astype("Int64")
    for c in cols + ["n_missing"]:
        out[c] = out[c].astype("int64")
    return out


# --------------------------------------------------------------------------- column models
@dataclasses.dataclass
class _Col:
    name: str
    kind: str                # "numeric" | "binary" | "nominal"
    method: str              # "pmm" | "logreg" | "polyreg" | "" (complete)
    values: np.ndarray       # float codes (numeric), 0/1 (binary), 0..K-1 (nominal); NaN missing
    levels: list[Any]        # binary / nominal: original values in code order
    dtype: Any
    impute_mask: np.ndarray  # cells to impute and report
    exclude_mask: np.ndarray  # cells imputed internally only


def _column_model(s: pd.Series, name: str, method: str, what: str) -> tuple[str, np.ndarray, list[Any]]:
    """(kind, values, levels) of one column."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = list(s.cat.categories)
        codes = s.cat.codes.to_numpy().astype(float)
        codes[codes < 0] = np.nan
        observed = np.unique(codes[~np.isnan(codes)])
        numeric_cats = pd.api.types.is_numeric_dtype(s.cat.categories.dtype)
        if method == "pmm" or (method == "auto" and s.cat.ordered and len(observed) > 2):
            if numeric_cats:
                return "numeric", s.astype("float64").to_numpy(), cats
            return "numeric", codes, cats  # ordered text categories: codes
        if len(observed) <= 2 and method in ("auto", "logreg"):
            lev = [cats[int(i)] for i in observed]
            hit = (codes == observed[-1]) if len(observed) == 2 else np.zeros(codes.shape, dtype=bool)
            return "binary", np.where(np.isnan(codes), np.nan, hit.astype(float)), lev
        lev = [cats[int(i)] for i in observed]
        remap = {int(c): i for i, c in enumerate(observed)}
        vals = np.array([np.nan if np.isnan(c) else remap[int(c)] for c in codes], dtype=float)
        return "nominal", vals, lev
    if pd.api.types.is_bool_dtype(s.dtype) or (s.dtype == object and s.dropna().map(type).eq(bool).all()
                                                 and s.notna().any()):
        vals = s.map(lambda v: np.nan if pd.isna(v) else float(bool(v))).to_numpy(dtype=float)
        return "binary", vals, [False, True]
    if pd.api.types.is_numeric_dtype(s.dtype):
        vals = s.astype("float64").to_numpy()
        obs = np.unique(vals[~np.isnan(vals)])
        if method == "logreg" or (method == "auto" and len(obs) == 2):
            if len(obs) > 2:
                raise InputError(f"{what}: method 'logreg' for {name!r} needs a two-valued column, it has {len(obs)} values")
            return "binary", np.where(np.isnan(vals), np.nan, (vals == obs[-1]).astype(float)), list(obs)
        if method == "polyreg":
            remap = {v: i for i, v in enumerate(obs)}
            return "nominal", np.array([np.nan if np.isnan(v) else remap[v] for v in vals]), list(obs)
        return "numeric", vals, []
    # text: nominal
    obs_s = s.dropna()
    lev = sorted(pd.unique(obs_s), key=str)
    if method == "pmm":
        raise InputError(f"{what}: column {name!r} is text; pmm needs numbers. Use method 'polyreg' or recode it")
    remap = {v: i for i, v in enumerate(lev)}
    vals = np.array([np.nan if pd.isna(v) else remap[v] for v in s], dtype=float)
    if len(lev) == 2:
        return "binary", vals, lev
    return "nominal", vals, lev


def _design(cols: list[_Col], state: dict[str, np.ndarray], skip: str, n: int) -> np.ndarray:
    parts = [np.ones((n, 1))]
    for c in cols:
        if c.name == skip:
            continue
        v = state[c.name]
        if c.kind == "nominal":
            K = len(c.levels)
            if K > 1:
                parts.append((v[:, None] == np.arange(1, K)[None, :]).astype(float))
        else:
            parts.append(v[:, None])
    return np.hstack(parts)


def _drop_degenerate(X: np.ndarray) -> np.ndarray:
    """Remove constant (non-intercept) and (nearly) collinear columns, as mice's ``remove.lindep``.

    Works on the p x p cross-product matrix (its columns are independent
    exactly when those of X are), so the cost is one pass over the rows.
    """
    keep = [0]
    sd = X[:, 1:].std(axis=0)
    for j in range(1, X.shape[1]):
        if sd[j - 1] > 1e-12:
            keep.append(j)
    X = X[:, keep]
    G = X.T @ X
    scale = np.sqrt(np.diag(G))
    Gs = G / np.outer(scale, scale)
    _, R, piv = linalg.qr(Gs, pivoting=True)
    d = np.abs(np.diag(R))
    rank = int(np.sum(d > 1e-8 * d[0])) if d.size else 0
    if rank == X.shape[1]:
        return X
    return X[:, np.sort(piv[:rank])]


class _Design:
    """The imputation model's design matrix, kept up to date column by column.

    ``D`` holds the intercept and every column's block (one column for a
    numeric or binary variable, K - 1 indicators for a nominal one) in model
    order, and ``G = D'D`` its cross-products.  Visiting a variable then takes
    the other blocks as its predictors without building a new matrix
    (:func:`_design` + :func:`_drop_degenerate` did that for every visit:
    at 128,831 rows x 45 columns, 2,150 visits of 10 imputations cost
    minutes); after a variable is imputed only its block of ``D`` and of
    ``G`` is refreshed.  Same model, same random draws as those functions.
    """

    def __init__(self, cols: list[_Col], state: dict[str, np.ndarray], n: int) -> None:
        self.blocks: dict[str, np.ndarray] = {}
        self.cols = cols
        width = 1
        for c in cols:
            k = (len(c.levels) - 1 if len(c.levels) > 1 else 0) if c.kind == "nominal" else 1
            self.blocks[c.name] = np.arange(width, width + k)
            width += k
        self.D = np.empty((n, width), order="F")
        self.D[:, 0] = 1.0
        self.sd = np.zeros(width)
        for c in cols:
            self._fill(c, state[c.name])
        self.G = self.D.T @ self.D

    def _fill(self, c: _Col, v: np.ndarray) -> None:
        b = self.blocks[c.name]
        if b.size == 0:
            return
        if c.kind == "nominal":
            self.D[:, b] = (v[:, None] == np.arange(1, len(c.levels))[None, :])
        else:
            self.D[:, b[0]] = v
        self.sd[b] = self.D[:, b].std(axis=0)

    def update(self, c: _Col, v: np.ndarray) -> None:
        """Refresh ``c``'s block after its missing cells were imputed."""
        b = self.blocks[c.name]
        if b.size == 0:
            return
        self._fill(c, v)
        gb = self.D.T @ self.D[:, b]
        self.G[:, b] = gb
        self.G[b, :] = gb.T

    def predictors(self, skip: str) -> np.ndarray:
        """Columns of ``D`` that predict ``skip``, as :func:`_drop_degenerate` of :func:`_design` keeps them."""
        leave = set(self.blocks[skip].tolist())
        cand = [j for j in range(1, self.D.shape[1]) if j not in leave]
        keep = np.array([0] + [j for j in cand if self.sd[j] > 1e-12])
        G = self.G[np.ix_(keep, keep)]
        scale = np.sqrt(np.diag(G))
        Gs = G / np.outer(scale, scale)
        _, R, piv = linalg.qr(Gs, pivoting=True)
        d = np.abs(np.diag(R))
        rank = int(np.sum(d > 1e-8 * d[0])) if d.size else 0
        if rank == keep.size:
            return keep
        return keep[np.sort(piv[:rank])]

    def pmm(self, keep: np.ndarray, y: np.ndarray, ry: np.ndarray, wy: np.ndarray, g: np.random.Generator,
            donors: int = 5, ridge: float = 1e-5) -> np.ndarray:
        """:func:`_pmm` from the cross-products: the observed rows' X'X is G less the missing rows' part."""
        dm = self.D[wy][:, keep]
        xtx = self.G[np.ix_(keep, keep)] - dm.T @ dm
        y0 = np.where(ry, y, 0.0)
        xty = (self.D.T @ y0)[keep]
        full = np.zeros(self.D.shape[1])

        def fitted(coef: np.ndarray) -> np.ndarray:
            full[keep] = coef
            return self.D @ full

        return _pmm_tail(xtx, xty, fitted, dm, y, ry, g, donors, ridge)


def _pmm(X: np.ndarray, y: np.ndarray, ry: np.ndarray, wy: np.ndarray, g: np.random.Generator,
         donors: int = 5, ridge: float = 1e-5) -> np.ndarray:
    xo = X[ry]
    return _pmm_tail(xo.T @ xo, xo.T @ y[ry], lambda coef: X @ coef, X[wy], y, ry, g, donors, ridge)


def _argsort_stable(x: np.ndarray) -> np.ndarray:
    """``np.argsort(x, kind="stable")`` of a float vector, several times faster.

    A stable sort orders by (value, position).  numpy's default (unstable,
    vectorised) sort gives the same order wherever values differ; runs of
    equal values are then put in position order by one more sort of the
    integer keys ``run * n + position``, which are all distinct.  NaN (which
    equals nothing) takes the stable sort itself.
    """
    order = np.argsort(x)
    srt = x[order]
    tie = srt[1:] == srt[:-1]
    if np.isnan(srt[-1:]).any():
        return np.argsort(x, kind="stable")
    if tie.any():
        run = np.concatenate(([0], np.cumsum(~tie)))
        order = order[np.argsort(run * np.int64(x.size) + order)]
    return order


def _pmm_tail(xtx: np.ndarray, xty: np.ndarray, fitted: Callable[[np.ndarray], np.ndarray], xm: np.ndarray,
              y: np.ndarray, ry: np.ndarray, g: np.random.Generator, donors: int, ridge: float) -> np.ndarray:
    """Predictive mean matching (mice's ``mice.impute.pmm``, type 1 matching) from X'X and X'y of the
    observed rows, the fitted values of all rows for given coefficients, and the missing rows' X."""
    yo = y[ry]
    p = xtx.shape[0]
    pen = ridge * np.diag(xtx)
    v = np.linalg.inv(xtx + np.diag(pen))
    coef = v @ xty
    yhat_obs = fitted(coef)[ry]
    res = yo - yhat_obs
    dof = max(int(ry.sum()) - p, 1)
    sigma_star = math.sqrt(float(res @ res) / g.chisquare(dof))
    v = (v + v.T) / 2
    try:
        L = np.linalg.cholesky(v)
    except np.linalg.LinAlgError:
        ev, evec = np.linalg.eigh(v)
        L = evec * np.sqrt(np.clip(ev, 0, None))
    beta_star = coef + L @ g.standard_normal(p) * sigma_star
    yhat_mis = xm @ beta_star
    no = yhat_obs.size
    d = min(donors, no)
    order = _argsort_stable(yhat_obs)
    srt = yhat_obs[order]
    pos = np.searchsorted(srt, yhat_mis)
    width = min(2 * d, no)
    start = np.clip(pos - d, 0, no - width)
    cand = start[:, None] + np.arange(width)[None, :]
    dist = np.abs(srt[cand] - yhat_mis[:, None]) + g.random(cand.shape) * 1e-12  # random tie-break
    nearest = np.argpartition(dist, d - 1, axis=1)[:, :d] if d < width else np.tile(np.arange(width), (len(pos), 1))
    pick = nearest[np.arange(len(pos)), g.integers(0, d, size=len(pos))]
    return yo[order[cand[np.arange(len(pos)), pick]]]


_RIDGE = 1e-2  # penalty of the logistic / multinomial imputation models (against separation)


def _multinom(X: np.ndarray, y: np.ndarray, K: int, ridge: float = _RIDGE, max_iter: int = 50):
    """Multinomial logit (reference category 0) by penalised Newton; returns (beta p x (K-1), cov)."""
    n, p = X.shape
    Y = (y[:, None] == np.arange(1, K)[None, :]).astype(float)
    B = np.zeros((p, K - 1))
    penalty = ridge * np.ones(p)
    penalty[0] = 1e-8
    P = np.diag(np.tile(penalty, K - 1))
    for _ in range(max_iter):
        eta = X @ B
        eta_full = np.hstack([np.zeros((n, 1)), eta])
        prob = special.softmax(eta_full, axis=1)[:, 1:]
        grad = (X.T @ (Y - prob)).T.reshape(-1) - P @ B.T.reshape(-1)
        H = np.zeros(((K - 1) * p, (K - 1) * p))
        for a in range(K - 1):
            for b in range(a, K - 1):
                wgt = prob[:, a] * ((a == b) - prob[:, b])
                blk = (X * wgt[:, None]).T @ X
                H[a * p:(a + 1) * p, b * p:(b + 1) * p] = blk
                H[b * p:(b + 1) * p, a * p:(a + 1) * p] = blk
        H += P
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        B = B + step.reshape(K - 1, p).T
        if np.max(np.abs(step)) < 1e-8:
            break
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(H)
    return B, (cov + cov.T) / 2


def _categorical_draw(X: np.ndarray, y: np.ndarray, K: int, ry: np.ndarray, wy: np.ndarray,
                      g: np.random.Generator) -> np.ndarray:
    yo = y[ry].astype(int)
    present = np.unique(yo)
    if present.size == 1:
        return np.full(int(wy.sum()), float(present[0]))
    p = X.shape[1]
    if K == 2:  # logistic regression (the GLM core) with the same weak ridge as the multinomial
        pen = np.full(p, _RIDGE)
        pen[0] = 1e-8
        fit = glm(X[ry], (yo == 1).astype(float), penalty=pen, on_boundary="ignore", what="impute")
        B, cov = fit.coef[:, None], (fit.bread + fit.bread.T) / 2
    else:
        B, cov = _multinom(X[ry], yo, K)
    try:
        L = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        ev, evec = np.linalg.eigh(cov)
        L = evec * np.sqrt(np.clip(ev, 0, None))
    draw = B.T.reshape(-1) + L @ g.standard_normal(cov.shape[0])
    Bd = draw.reshape(K - 1, p).T
    eta = np.hstack([np.zeros((int(wy.sum()), 1)), X[wy] @ Bd])
    prob = special.softmax(eta, axis=1)
    u = g.random(prob.shape[0])
    return (u[:, None] > np.cumsum(prob, axis=1)).sum(axis=1).clip(0, K - 1).astype(float)


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, eq=False)
class Imputations(Result):
    """``m`` completed data sets (built on demand from the stored imputed values).

    ``complete(i)`` gives the i-th completed frame (0-based), iterating gives
    all of them, ``analyse(fn, ...)`` applies an analysis to each and returns
    the list of results for :func:`pool`.  ``methods`` says how each column
    was imputed (``""``: nothing to impute), ``summary_table`` counts the
    imputed and excluded cells per column, ``chain_means`` holds the mean of
    the imputed values per iteration and imputation (to check convergence,
    as mice's ``plot(imp)``).
    """

    m: int
    maxit: int
    seed: Any
    n: int
    n_imputed: int
    n_excluded: int
    columns: tuple[str, ...] = dataclasses.field(repr=False)
    methods: Mapping[str, str] = dataclasses.field(repr=False)
    treatment: Mapping[str, str] = dataclasses.field(repr=False)
    summary_table: pd.DataFrame = dataclasses.field(repr=False)
    chain_means: pd.DataFrame = dataclasses.field(repr=False)
    original: pd.DataFrame = dataclasses.field(repr=False)
    imputed: Mapping[str, np.ndarray] = dataclasses.field(repr=False)   # column -> (m, n_cells) values
    positions: Mapping[str, np.ndarray] = dataclasses.field(repr=False)  # column -> row positions
    rescore: Callable[[pd.DataFrame], pd.DataFrame] | None = dataclasses.field(repr=False, default=None)

    def __len__(self) -> int:
        return self.m

    @property
    def completed(self) -> list[pd.DataFrame]:
        """All ``m`` completed data sets (built on each access; iterate to save memory)."""
        return [self.complete(i) for i in range(self.m)]

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for i in range(self.m):
            yield self.complete(i)

    def complete(self, i: int) -> pd.DataFrame:
        """The ``i``-th completed data set (0-based), with the original dtypes."""
        if not isinstance(i, (int, np.integer)) or not 0 <= i < self.m:
            raise InputError(f"Imputations.complete: i must be a whole number from 0 to {self.m - 1}, got {i!r}")
        out = self.original.copy()
        for col, vals in self.imputed.items():
            pos = self.positions[col]
            if pos.size == 0:
                continue
            s = out[col]
            if isinstance(s.dtype, pd.CategoricalDtype):
                arr = np.array(s.astype(object).to_numpy(), dtype=object)
                arr[pos] = vals[i]
                out[col] = pd.Categorical(arr, categories=s.cat.categories, ordered=s.cat.ordered)
            elif pd.api.types.is_bool_dtype(s.dtype) and not isinstance(s.dtype, np.dtype):
                arr = np.array(s.astype(object).to_numpy(), dtype=object)
                arr[pos] = vals[i]
                out[col] = pd.array(arr, dtype=s.dtype)
            elif pd.api.types.is_numeric_dtype(s.dtype):
                arr = s.to_numpy(dtype=float, na_value=np.nan).copy()
                arr[pos] = vals[i].astype(float)
                out[col] = arr if isinstance(s.dtype, np.dtype) else pd.Series(arr, index=out.index).astype(s.dtype)
            else:
                arr = np.array(s.astype(object).to_numpy(), dtype=object)
                arr[pos] = vals[i]
                out[col] = pd.Series(arr, index=out.index).astype(s.dtype)
        if self.rescore is not None:
            scores = self.rescore(out)
            for c in scores.columns:
                out[c] = scores[c]
        return out

    def analyse(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
        """``[fn(completed_i, *args, **kwargs) for each i]`` -- the input of :func:`pool`.

        >>> # fits = imp.analyse(veplab.models.logit, "violent ~ grievance", cluster="prison_id")
        >>> # pooled = veplab.missing.pool(fits)
        """
        return [fn(d, *args, **kwargs) for d in self]

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("rescore", None)
        return out

    def to_frame(self) -> pd.DataFrame:
        """Per column: kind, method, cells missing / imputed / kept missing."""
        return self.summary_table.copy()

    def summary(self) -> str:
        lines = [f"Multiple imputation by chained equations: m = {self.m}, maxit = {self.maxit}, seed = {self.seed}",
                 f"{self.n} rows; {self.n_imputed} cells imputed, {self.n_excluded} kept missing "
                 f"({', '.join(f'{k}: {v}' for k, v in self.treatment.items())})", ""]
        with pd.option_context("display.width", 120):
            lines.append(self.summary_table.to_string())
        return "\n".join(lines)


def _default_columns(df: pd.DataFrame) -> list[str]:
    from ..data.reasons import reason_columns

    skip = set(reason_columns(df))
    cols = []
    for c in df.columns:
        if c in skip:  # why a cell is missing is not a variable of the model
            continue
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(s.dtype) \
                or (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_datetime64_any_dtype(s.dtype)):
            cols.append(c)
    return cols


def _reasons_unknown(df: pd.DataFrame, cols: Sequence[str], codebook: Any,
                     treatment: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Columns whose codebook item declares reasons impute would treat differently, with missing cells and no
    reason column: which of their cells are which is unknown (the reasons were lost, or never recorded)."""
    from ..data.reasons import reason_column

    if codebook is None:
        return {}
    out: dict[str, list[str]] = {}
    for c in cols:
        if not isinstance(c, str) or reason_column(c) in df.columns or c not in codebook:
            continue
        declared = sorted({r for r in codebook.item(c).missing.values()
                           if r in treatment and treatment[r] != "missing"}, key=_REASONS.index)
        if declared and bool(df[c].isna().any()):
            out[c] = declared
    return out


def impute(
    df: pd.DataFrame,
    *,
    m: int = 20,
    seed: int | np.random.Generator | None = None,
    columns: Sequence[str] | None = None,
    method: str | Mapping[str, str] = "auto",
    maxit: int = 5,
    dont_know: str | None = None,
    refused: str | None = None,
    not_applicable: str = "exclude",
    not_asked: str = "missing",
    invalid: str = "missing",
    codebook: Any = None,
    donors: int = 5,
    reversed_items: bool | None = None,
) -> Imputations:
    """Multiple imputation by chained equations (R ``mice(df, m, maxit, seed)``).

    Parameters
    ----------
    df : the analysis frame; cells that are missing (NaN/NA) are imputed,
        subject to their reason (see below).
    m : number of completed data sets (20 is a sound default for surveys with
        up to ~20 % missing cells; van Buuren 2018, sec. 2.8).
    seed : same seed, same imputations.
    columns : the columns of the imputation model (imputed where missing, and
        predictors of each other).  Default: every numeric, boolean and
        categorical column (text, dates and ids are left out).  Columns not
        listed are carried over unchanged.
    method : ``"auto"`` or, per column, ``{"col": "pmm" | "logreg" |
        "polyreg"}`` (see the module docstring).
    maxit : number of passes over the columns.
    dont_know, refused : ``"exclude"`` (keep missing in the completed data;
        not imputed) or ``"missing"`` (impute as missing at random).  Required
        when the data hold such cells (:func:`veplab.data.missing_reasons`).
    not_applicable, not_asked, invalid : the same choice for the other
        reasons (defaults: exclude, impute, impute).  Reasons are read from
        the reason columns ``<item>__missing`` that :func:`veplab.data.load`
        adds (they survive merges and concatenation); impute refuses
        (:class:`veplab.data.ReasonsLost`) rather than guess when they were
        dropped, or when ``codebook`` declares reasons for an item with
        missing cells and no reason column, unless every reason the item
        declares is treated ``"missing"``.
    codebook : a :class:`~veplab.codebook.Codebook`; scale-score columns of
        its scales are then left out of the imputation model and recomputed
        from the imputed items in each completed data set (passive imputation).
        Without it, scale columns are imputed as ordinary numeric columns.
    donors : donors for predictive mean matching (mice's ``donors = 5``).
    reversed_items : whether reverse-keyed items are already reversed, for
        the passive rescoring (``load(..., reverse=True)``).  Default: what
        ``load`` recorded; required when that record was lost.

    Returns
    -------
    :class:`Imputations`.

    Raises
    ------
    InputError
        Fewer than 2 rows, unknown columns or methods, reason columns listed as
        data, or don't know / refused cells without a decision.
    veplab.data.ReasonsLost
        The reasons of missing cells are not in the data given.

    Notes
    -----
    Each pass ``t = 1..maxit`` visits the columns ``j`` in turn and, with
    ``X`` the other columns as last completed, draws the model's parameters
    and then the missing values (fully conditional specification)::

        theta_j* ~ p(theta_j | y_j,obs, X_obs)
        y_j,mis = draw from p(y_j | X_mis, theta_j*)

    For predictive mean matching (``pmm``) the draw is the observed value of
    one of the ``donors`` observed rows whose ``X beta_hat`` is closest to
    ``X_mis beta*`` (type-1 matching, ``beta*`` the posterior draw).

    References
    ----------
    Rubin DB (1987). Multiple Imputation for Nonresponse in Surveys. Wiley, New York.
    Little RJA (1988). Missing-data adjustments in large surveys. Journal of Business and
    Economic Statistics 6, 287-296 (predictive mean matching).
    van Buuren S, Groothuis-Oudshoorn K (2011). mice: Multivariate imputation by chained
    equations in R. Journal of Statistical Software 45(3), 1-67.
    van Buuren S (2018). Flexible Imputation of Missing Data, 2nd ed. CRC Press, Boca Raton.
    The algorithm and defaults of R ``mice::mice`` (``mice.impute.pmm``, ``logreg``,
    ``polyreg``); the draws are veplab's own random stream, so the completed values are not
    those of mice for the same seed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = pd.DataFrame({"x": [1.0, 2, np.nan, 4, 5, 6, 7, 8], "y": [2.0, 4, 6, np.nan, 10, 12, 14, 16]})
    >>> imp = impute(d, m=3, seed=1)
    >>> [int(imp.complete(i).isna().sum().sum()) for i in range(3)]
    [0, 0, 0]
    >>> dict(imp.methods), imp.n_imputed
    ({'x': 'pmm', 'y': 'pmm'}, 2)
    >>> all(imp.complete(i).loc[2, "x"] in set(d["x"].dropna()) for i in range(3))  # PMM imputes observed values
    True
    """
    what = "impute"
    check_frame(df, what, rows=False)
    if len(df) < 2:
        raise InputError(f"{what}: needs at least 2 rows, got {len(df)}")
    check_count(m, "m", what, hint=" (e.g. 20)")
    check_count(maxit, "maxit", what)
    check_count(donors, "donors", what)
    treatment_in = {"dont_know": dont_know, "refused": refused, "not_applicable": not_applicable,
                    "not_asked": not_asked, "invalid": invalid}
    for key, val in treatment_in.items():
        if val is not None:
            check_choice(val, key, list(_TREATMENTS))
    from ..data.reasons import reason_columns

    cols = _default_columns(df) if columns is None else list(columns)
    absent = [c for c in cols if c not in df.columns]
    if absent:
        raise InputError(f"{what}: columns {absent} are not in the data")
    as_reasons = [c for c in cols if c in set(reason_columns(df))]
    if as_reasons:
        raise InputError(f"{what}: {as_reasons} hold why answers are missing (veplab.data.missing_reasons), not "
                         "answers; leave them out of columns= (impute reads them by itself)")
    if not cols:
        raise InputError(f"{what}: no columns to impute (pass columns=[...])")
    rescore = None
    if codebook is not None:
        # passive: scale columns whose items are (at least partly) imputed here
        scale_items = {s.id: set(s.items) for s in getattr(codebook, "scales", ())}
        scale_cols = [c for c in cols if c in scale_items and scale_items[c] & set(cols)]
        if scale_cols:
            from ..data.scoring import already_reversed_in, score_scales

            reverse = [i for sc in codebook.scales if sc.id in scale_cols for i in sc.items if i in codebook]
            already = already_reversed_in(df, codebook, reverse, reversed_items, what=what,
                                          argument="reversed_items")
            cols = [c for c in cols if c not in scale_cols]

            def rescore(frame: pd.DataFrame, _cb=codebook, _sc=tuple(scale_cols), _rev=already) -> pd.DataFrame:
                return score_scales(frame, _cb, scales=list(_sc), already_reversed=_rev)
    if isinstance(method, Mapping):
        stray = [c for c in method if c not in cols]
        if stray:
            raise InputError(f"{what}: method= names columns {stray} that are not in the imputation model")
        for col, mth in method.items():
            check_choice(mth, f"method for {col!r}", ["auto", "pmm", "logreg", "polyreg"])
    else:
        check_choice(method, "method", ["auto", "pmm", "logreg", "polyreg"])
    empty = [c for c in cols if df[c].isna().all()]
    if empty:
        raise InputError(
            f"{what}: column(s) {empty} have no observed values, so there is nothing to impute them from; "
            "drop them from columns="
        )
    # reasons: read from the reason columns veplab.data.load made (they survive merges); never guessed
    from ..data.reasons import ReasonsLost, lost_message, lost_reasons, missing_reasons, reason_column

    lost = lost_reasons(df, cols)
    if lost:
        raise ReasonsLost(lost_message(df, lost, what))
    reasons = missing_reasons(df, cols)
    unknown = _reasons_unknown(df, cols, codebook, treatment_in)
    if unknown:
        shown = ", ".join(f"{c!r} ({', '.join(r)})" for c, r in list(unknown.items())[:6]) \
            + (" ..." if len(unknown) > 6 else "")
        raise ReasonsLost(
            f"{what}: the codebook declares reasons why answers to {shown} may be missing, and the data hold "
            f"missing answers to them but no column saying why ({reason_column(next(iter(unknown)))!r}, ...), so "
            "impute cannot tell which cells to keep missing. Give impute the frame veplab.data.load made (its "
            "reason columns <item>__missing survive merges; select columns with veplab.data.with_reasons(df, "
            "[...])), add reasons with veplab.data.set_missing_reasons, or treat every reason alike by setting "
            "each of them to 'missing' (e.g. not_applicable='missing')")
    needed = []
    for r in ("dont_know", "refused"):
        if treatment_in[r] is None:
            cnt = {c: int((reasons[c] == r).sum()) for c in cols}
            cnt = {c: k for c, k in cnt.items() if k}
            if cnt:
                shown = ", ".join(f"{c!r}: {k}" for c, k in list(cnt.items())[:6]) + (" ..." if len(cnt) > 6 else "")
                needed.append(f"{r} ({sum(cnt.values())} cells; {shown})")
    if needed:
        raise InputError(
            f"{what}: the data hold " + " and ".join(needed) + " answers. Say how to treat them: "
            "dont_know='exclude' / refused='exclude' keeps them missing (not imputed; analyses drop them), "
            "dont_know='missing' / refused='missing' imputes them as if missing at random. Don't-know and "
            "refusals often carry meaning (fear, distrust), so 'exclude' is the cautious choice"
        )
    treatment = {k: (v if v is not None else "exclude") for k, v in treatment_in.items()}
    g = _rng(seed)
    n = len(df)
    models: list[_Col] = []
    for name in cols:
        mth = method.get(name, "auto") if isinstance(method, Mapping) else method
        kind, vals, levels = _column_model(df[name], name, mth, what)
        miss = np.isnan(vals)
        rs = reasons[name].fillna("").astype(str).to_numpy()
        excl = np.zeros(n, dtype=bool)
        for r, t in treatment.items():
            if t == "exclude":
                excl |= miss & (rs == r)
        imp = miss & ~excl
        meth = {"numeric": "pmm", "binary": "logreg", "nominal": "polyreg"}[kind] if miss.any() else ""
        if kind == "nominal" and len(levels) > 50:
            warnings.warn(f"{what}: {name!r} has {len(levels)} categories; a multinomial model with this many is "
                          "slow and unstable. Leave it out of columns= or merge categories", UserWarning, stacklevel=2)
        models.append(_Col(name, kind, meth, vals, levels, df[name].dtype, imp, excl))
    visit = [c for c in models if c.method]
    imputed: dict[str, np.ndarray] = {c.name: np.empty((m, int(c.impute_mask.sum())), dtype=object) for c in models}
    positions = {c.name: np.flatnonzero(c.impute_mask) for c in models}
    chain = []
    for i in range(m):
        state = {}
        for c in models:
            v = c.values.copy()
            miss = np.isnan(v)
            if miss.any():
                obs = v[~miss]
                v[miss] = obs[g.integers(0, obs.size, size=int(miss.sum()))]
            state[c.name] = v
        design = _Design(models, state, n)
        for it in range(maxit):
            for c in visit:
                ry = ~np.isnan(c.values)
                wy = ~ry
                keep = design.predictors(c.name)
                if c.kind == "numeric":
                    new = design.pmm(keep, c.values, ry, wy, g, donors=donors)
                else:
                    new = _categorical_draw(design.D[:, keep], c.values, max(len(c.levels), 2), ry, wy, g)
                v = state[c.name]
                v[wy] = new
                design.update(c, v)
                if c.impute_mask.any():
                    chain.append({"imputation": i + 1, "iteration": it + 1, "column": c.name,
                                  "mean": float(np.mean(v[c.impute_mask]))})
        for c in models:
            pos = positions[c.name]
            if pos.size == 0:
                continue
            vals = state[c.name][pos]
            if c.kind == "numeric":
                out = vals
                if isinstance(c.dtype, pd.CategoricalDtype):
                    cats = list(df[c.name].cat.categories)
                    if pd.api.types.is_numeric_dtype(df[c.name].cat.categories.dtype):
                        out = np.array([_match_cat(v, cats) for v in vals], dtype=object)
                    else:
                        out = np.array([cats[int(v)] for v in vals], dtype=object)
            else:
                out = np.array([c.levels[int(v)] for v in vals], dtype=object)
            imputed[c.name][i] = out
    rows = []
    for c in models:
        rows.append({"column": c.name, "kind": c.kind, "method": c.method,
                     "n_missing": int(np.isnan(c.values).sum()), "n_imputed": int(c.impute_mask.sum()),
                     "n_excluded": int(c.exclude_mask.sum())})
    table = pd.DataFrame(rows).set_index("column")
    return Imputations(
        m=int(m), maxit=int(maxit), seed=seed if not isinstance(seed, np.random.Generator) else "Generator",
        n=n, n_imputed=int(table["n_imputed"].sum()), n_excluded=int(table["n_excluded"].sum()),
        columns=tuple(cols), methods={c.name: c.method for c in models}, treatment=treatment,
        summary_table=table, chain_means=pd.DataFrame(chain, columns=["imputation", "iteration", "column", "mean"]),
        original=df, imputed={k: v for k, v in imputed.items() if v.shape[1]}, positions=positions,
        rescore=rescore,
    )


def _match_cat(v: float, cats: list[Any]) -> Any:
    for c in cats:
        if float(c) == v:
            return c
    return cats[int(np.argmin([abs(float(c) - v) for c in cats]))]


# --------------------------------------------------------------------------- pooling
@runtime_checkable
class Poolable(Protocol):
    """What :func:`pool` accepts: an object with ``tidy()`` returning a frame
    with at least ``term``, ``estimate`` and ``se`` (log-odds for logistic
    models), optionally ``df_resid`` (complete-data residual df).  veplab's
    ``LogitResult`` and ``OrdinalResult`` implement it; tidy DataFrames and
    objects with a ``fixed_effects`` / ``coefficients`` table (the mixed
    models) are accepted as well.
    """

    def tidy(self) -> pd.DataFrame: ...


def _tidy_of(fit: Any, i: int) -> pd.DataFrame:
    if isinstance(fit, pd.DataFrame):
        tab = fit
    elif callable(getattr(fit, "tidy", None)):
        tab = fit.tidy()
    elif isinstance(getattr(fit, "fixed_effects", None), pd.DataFrame):
        tab = fit.fixed_effects
    elif isinstance(getattr(fit, "coefficients", None), pd.DataFrame):
        tab = fit.coefficients
    else:
        raise InputError(
            f"pool: analysis {i + 1} is a {type(fit).__name__}; pool needs tidy tables (columns term, "
            "estimate, se) or results with .tidy() (veplab.models.logit / ordinal / mixed_* results)"
        )
    missing = [c for c in ("term", "estimate", "se") if c not in tab.columns]
    if missing:
        raise InputError(f"pool: the table of analysis {i + 1} lacks column(s) {missing}; it needs term, estimate, se")
    if tab["term"].duplicated().any():
        raise InputError(f"pool: analysis {i + 1} has duplicated terms {list(tab['term'][tab['term'].duplicated()])}")
    return tab


def _dfcom_of(fit: Any) -> float | None:
    for attr in ("df_resid", "df_residual"):
        v = getattr(fit, attr, None)
        if v is not None and np.isfinite(v):
            return float(v)
    n, npar = getattr(fit, "n", None), getattr(fit, "npar", None)
    if isinstance(n, (int, np.integer)) and isinstance(npar, (int, np.integer)) and n > npar:
        return float(n - npar)  # lme4's df.residual(merMod): nobs minus the model's parameters
    return None


@dataclasses.dataclass(frozen=True)
class PooledEstimates(TableResult):
    """Estimates of ``m`` analyses of imputed data combined by Rubin's rules (:func:`pool`).

    ``table`` has one row per term (columns in :func:`pool`); ``m`` is the
    number of analyses, ``dfcom`` the complete-data degrees of freedom, ``ci``
    the level of the t intervals, ``exponentiate`` whether odds ratios were added.
    """

    m: int = 0
    dfcom: float = math.inf
    ci: float = 0.95
    exponentiate: bool = False

    _summary_columns = ("term", "estimate", "se", "df", "p", "ci_low", "ci_high", "fmi", "odds_ratio",
                        "or_ci_low", "or_ci_high")

    def _title(self) -> str:
        return f"Rubin's rules over m = {self.m} analyses of imputed data ({self.ci:.0%} t intervals)"

    def plot(self, *, ax: Any = None) -> Any:
        """Forest plot of the pooled estimates (odds ratios on a log axis when exponentiated); the Figure."""
        from ..plots import plot_intervals

        t = self.table.set_index("term")
        if self.exponentiate:
            return plot_intervals(t, estimate="odds_ratio", low="or_ci_low", high="or_ci_high", ref=1.0, log=True,
                                  ax=ax, missing_label="not estimated",
                                  xlabel=f"odds ratio ({self.ci:.0%} interval, pooled)")
        return plot_intervals(t, ref=0.0, ax=ax, missing_label="not estimated",
                              xlabel=f"estimate ({self.ci:.0%} interval, pooled)")


def pool(
    fits: Sequence[Any],
    *,
    dfcom: float | None = None,
    ci: float = 0.95,
    exponentiate: bool | None = None,
) -> PooledEstimates:
    """Combine the analyses of ``m`` imputed data sets by Rubin's rules (R ``mice::pool``).

    Parameters
    ----------
    fits : results of the same analysis on each completed data set (e.g.
        ``imp.analyse(logit, "y ~ x")``), see :class:`Poolable`.
    dfcom : degrees of freedom of the complete-data analysis (mice takes
        ``df.residual(fit)``).  Default: the results' ``df_resid`` (``n -
        k``), else infinity (large-sample, with a warning; mice uses 999999).
    ci : level of the t intervals.
    exponentiate : add ``odds_ratio, or_ci_low, or_ci_high`` (exp of the
        pooled estimate and interval).  Default: when the tables have an
        ``odds_ratio`` column.

    Returns
    -------
    :class:`PooledEstimates`, whose ``table`` has one row per term: ``term, estimate`` (Qbar), ``se``
    (sqrt(T)), ``statistic, df, p, ci_low, ci_high, ubar, b, total_var, riv,
    lambda, fmi, m, dfcom`` -- formulas in the module docstring.

    Raises
    ------
    InputError
        Fewer than 2 analyses, analyses with different terms, missing or
        infinite estimates, a non-positive ``dfcom``.

    Notes
    -----
    Per term, with ``m`` estimates ``Q_l`` and variances ``U_l = se_l^2``::

        Qbar = mean(Q_l),  T = mean(U_l) + (1 + 1/m) var(Q_l)
        lambda = (1 + 1/m) var(Q_l) / T
        df = df_old df_obs / (df_old + df_obs),  df_old = (m - 1) / lambda^2,
        df_obs = (dfcom + 1) / (dfcom + 3) dfcom (1 - lambda)

    and the interval ``Qbar -/+ t_df sqrt(T)``.

    References
    ----------
    Rubin DB (1987). Multiple Imputation for Nonresponse in Surveys. Wiley, New York.
    Barnard J, Rubin DB (1999). Small-sample degrees of freedom with multiple imputation.
    Biometrika 86, 948-955.
    van Buuren S (2018). Flexible Imputation of Missing Data, 2nd ed. CRC Press, Boca
    Raton, sections 2.3 and 5.2.
    Agrees with R ``mice::pool`` (its formulas, including ``mice:::barnard.rubin``'s
    floor of lambda at 1e-4, written out in tests/reference/factors_regression.R, as mice
    is not installed there).

    Examples
    --------
    >>> import pandas as pd
    >>> fits = [pd.DataFrame({"term": ["x"], "estimate": [q], "se": [0.1]}) for q in (0.5, 0.6, 0.7)]
    >>> out = pool(fits, dfcom=100).table
    >>> round(float(out["estimate"].iloc[0]), 6), round(float(out["total_var"].iloc[0]), 6)
    (0.6, 0.023333)
    >>> out[["df", "fmi", "ci_low", "ci_high"]].round(4).iloc[0].tolist()
    [5.3459, 0.6741, 0.2149, 0.9851]
    """
    ci = check_ci(ci)
    if isinstance(fits, Imputations):
        raise InputError("pool: pass the analyses, e.g. pool(imp.analyse(logit, 'y ~ x')), not the imputations")
    fits = list(fits)
    m = len(fits)
    if m < 2:
        raise InputError(f"pool: Rubin's rules need at least 2 analyses, got {m}; impute with m >= 2")
    tabs = [_tidy_of(f, i) for i, f in enumerate(fits)]
    terms = list(tabs[0]["term"])
    for i, t in enumerate(tabs[1:], start=2):
        if set(t["term"]) != set(terms):
            extra = sorted(set(t["term"]) - set(terms))
            lack = sorted(set(terms) - set(t["term"]))
            raise InputError(
                f"pool: analysis {i} has different terms than analysis 1 (extra {extra}, missing {lack}); "
                "a category absent from one completed data set drops its coefficient: merge sparse "
                "categories so every analysis estimates the same terms"
            )
    Q = np.column_stack([t.set_index("term").loc[terms, "estimate"].to_numpy(dtype=float) for t in tabs])
    U = np.column_stack([t.set_index("term").loc[terms, "se"].to_numpy(dtype=float) ** 2 for t in tabs])
    if not (np.isfinite(Q).all() and np.isfinite(U).all()):
        raise InputError("pool: some estimates or standard errors are missing or infinite; check the analyses")
    if dfcom is None:
        dfs = [_dfcom_of(f) for f in fits]
        known = [d for d in dfs if d is not None]
        if len(known) == len(dfs):
            dfcom = float(min(known))
        else:
            dfcom = math.inf
            warnings.warn("pool: complete-data degrees of freedom unknown; large sample assumed (dfcom = Inf, "
                          "mice uses 999999). Pass dfcom= (e.g. n - number of coefficients)",
                          UserWarning, stacklevel=2)
    else:
        dfcom = float(dfcom)
        if not dfcom > 0:
            raise InputError(f"pool: dfcom must be positive, got {dfcom!r}")
    qbar = Q.mean(axis=1)
    ubar = U.mean(axis=1)
    b = Q.var(axis=1, ddof=1)
    t = ubar + (1 + 1 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1 + 1 / m) * b / ubar
        lam = (1 + 1 / m) * b / t
    lam_f = np.maximum(lam, 1e-4)
    dfold = (m - 1) / lam_f ** 2
    if math.isinf(dfcom):
        df_ = dfold
    else:
        dfobs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam_f)
        df_ = dfold * dfobs / (dfold + dfobs)
    fmi = (riv + 2 / (df_ + 3)) / (riv + 1)
    se = np.sqrt(t)
    stat = qbar / se
    crit = stats.t.ppf(0.5 + ci / 2, df_)
    out = pd.DataFrame({
        "term": terms, "estimate": qbar, "se": se, "statistic": stat, "df": df_,
        "p": 2 * stats.t.sf(np.abs(stat), df_), "ci_low": qbar - crit * se, "ci_high": qbar + crit * se,
        "ubar": ubar, "b": b, "total_var": t, "riv": riv, "lambda": lam, "fmi": fmi, "m": m, "dfcom": dfcom,
    })
    if "type" in tabs[0].columns:
        out.insert(1, "type", tabs[0].set_index("term").loc[terms, "type"].to_numpy())
    if exponentiate is None:
        exponentiate = "odds_ratio" in tabs[0].columns
    if exponentiate:
        out["odds_ratio"] = np.exp(out["estimate"])
        out["or_ci_low"] = np.exp(out["ci_low"])
        out["or_ci_high"] = np.exp(out["ci_high"])
    return PooledEstimates(table=out, m=m, dfcom=dfcom, ci=ci, exponentiate=bool(exponentiate))
