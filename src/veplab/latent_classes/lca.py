"""Latent class analysis of categorical items: typologies without presuming them.

Violent extremist prisoners are not one group: leaders, facilitators,
followers, people at the margins who joined for company or protection.  A
latent class model lets such types emerge from the answers (or assessment
ratings) instead of being assumed.  :func:`latent_classes` fits models with
``k = 1, 2, ...`` classes and chooses ``k`` by BIC, as R ``poLCA`` users do
(Linzer & Lewis 2011, *Journal of Statistical Software* 42(10)).

The model
---------
Items ``j = 1..J`` with categories ``r = 1..K_j`` are independent given the
class ``c``::

    P(y_i) = sum_c pi_c prod_j prod_r rho_{jcr}^{[y_ij = r]}

Missing item responses are skipped in the product (missing at random), as
``poLCA(..., na.rm = FALSE)`` does; rows with every item missing carry no
information and are left out (with a warning).

Estimation: EM from ``n_starts`` random starting points (item-response
probabilities drawn from a flat Dirichlet, equal class shares), run
*simultaneously* -- the E and M steps are array operations over
(start x response pattern x class) -- on the distinct response patterns with
their counts (identical answers are summed once; the likelihood is
unchanged).  A start stops when the log-likelihood improves by less than
``tol``; the best log-likelihood over starts is kept.  Classes are ordered
by decreasing size (poLCA's ``poLCA.reorder`` idea), so labels are stable.

Fit statistics: ``npar = (k - 1) + k sum_j (K_j - 1)``; ``AIC = -2 LL + 2 npar``;
``BIC = -2 LL + npar log n``; entropy R^2 ``= 1 - sum_i sum_c -p_ic log p_ic /
(n log k)`` (1 = perfectly separated classes); the share of starts that
reached the best log-likelihood (a warning is given when only a few did:
the maximum may be local -- increase ``n_starts``).

Posterior membership is row-level data about individual prisoners: use it
for analysis only, never publish it (tables of class sizes and profiles are
aggregates and go through the disclosure gate like any other table).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from .._results import Result
from .._validate import InputError, check_choice, check_count, format_rows, rng as _rng

__all__ = ["latent_classes", "LatentClassResult", "LatentClassSolution", "adjusted_rand_index", "profile_table"]


# --------------------------------------------------------------------------- data
@dataclasses.dataclass
class _Data:
    Y: np.ndarray          # patterns x total categories (one-hot, 0 where missing)
    YT: np.ndarray         # its transpose, contiguous
    O: np.ndarray          # patterns x items (1 observed)
    counts: np.ndarray     # patterns
    item_of: np.ndarray    # category column -> item index
    cats: list[list[Any]]  # per item: category values in order
    inverse: np.ndarray    # row (kept) -> pattern
    kept: np.ndarray       # bool per row of df
    n: int


def _prepare(df: pd.DataFrame, items: Sequence[str], what: str) -> _Data:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    items = [items] if isinstance(items, str) else list(items)
    if len(items) < 2:
        raise InputError(f"{what}: needs at least 2 items, got {items}")
    if len(set(items)) < len(items):
        raise InputError(f"{what}: items are listed twice: {sorted({i for i in items if items.count(i) > 1})}")
    absent = [c for c in items if c not in df.columns]
    if absent:
        raise InputError(f"{what}: item column(s) {absent} are not in the data")
    cats: list[list[Any]] = []
    codes = np.full((len(df), len(items)), -1, dtype=np.int64)
    for j, c in enumerate(items):
        s = df[c]
        if s.isna().all():
            raise InputError(
                f"{what}: item {c!r} has no answers (every value missing); drop it from items"
            )
        if isinstance(s.dtype, pd.CategoricalDtype):
            present = set(s.dropna().unique())
            lev = [v for v in s.cat.categories if v in present]
        else:
            if pd.api.types.is_float_dtype(s.dtype):
                vals = s.dropna().to_numpy()
                if not np.all(vals == np.round(vals)):
                    raise InputError(
                        f"{what}: item {c!r} has non-integer values (a scale score?); latent class analysis "
                        "needs categorical items (codes). Use the items, or cut scores into categories"
                    )
            lev = sorted(pd.unique(s.dropna()), key=lambda v: (str(type(v)), v))
        if len(lev) > 20:
            raise InputError(f"{what}: item {c!r} has {len(lev)} distinct values; LCA needs categorical items "
                             "with a few categories")
        if len(lev) < 2:
            warnings.warn(f"{what}: item {c!r} has a single observed category ({lev[0]!r}); it carries no "
                          "information about classes", UserWarning, stacklevel=3)
        pos = {v: i for i, v in enumerate(lev)}
        codes[:, j] = [pos.get(v, -1) if not pd.isna(v) else -1 for v in s.astype(object)]
        cats.append(lev)
    kept = np.any(codes >= 0, axis=1)
    dropped = int((~kept).sum())
    if dropped:
        warnings.warn(f"{what}: {dropped} row(s) answered none of the items and are left out "
                      f"({format_rows(list(df.index[~kept]))}); their class membership is missing",
                      UserWarning, stacklevel=3)
    codes = codes[kept]
    if len(codes) < 2:
        raise InputError(f"{what}: fewer than 2 rows with any item answered")
    pats, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    sizes = [len(c) for c in cats]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    Y = np.zeros((len(pats), offsets[-1]))
    O = (pats >= 0).astype(float)
    for j in range(len(items)):
        ok = pats[:, j] >= 0
        Y[np.flatnonzero(ok), offsets[j] + pats[ok, j]] = 1.0
    item_of = np.repeat(np.arange(len(items)), sizes)
    return _Data(Y, np.ascontiguousarray(Y.T), O, counts.astype(float), item_of, cats, inverse, kept, int(kept.sum()))


# --------------------------------------------------------------------------- EM
def _e_step(d: _Data, log_pi: np.ndarray, log_rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior P(class | pattern) [S, C, P] and log-likelihood per start [S].

    Layout (start, class, pattern) keeps the pattern axis contiguous, so the
    reductions over classes are element-wise operations on long vectors.
    """
    S, C, K = log_rho.shape
    lj = (log_rho.reshape(S * C, K) @ d.YT).reshape(S, C, -1)   # one GEMM
    lj += log_pi[:, :, None]
    mx = lj.max(axis=1)
    lj -= mx[:, None, :]
    np.exp(lj, out=lj)
    tot = lj.sum(axis=1)
    lj /= tot[:, None, :]
    ll = ((mx + np.log(tot)) * d.counts).sum(axis=1)
    return lj, ll


def _m_step(d: _Data, post: np.ndarray, eps: float = 1e-300) -> tuple[np.ndarray, np.ndarray]:
    S, C, P = post.shape
    wpost = post * d.counts[None, None, :]                 # S x C x P
    pi = wpost.sum(axis=2) / d.counts.sum()
    flat = wpost.reshape(S * C, P)
    num = (flat @ d.Y).reshape(S, C, -1)                   # S x C x Ktot
    den = (flat @ d.O).reshape(S, C, -1)[:, :, d.item_of]  # S x C x Ktot (per item)
    rho = np.where(den > 0, num / np.maximum(den, eps), 1.0 / np.bincount(d.item_of)[d.item_of])
    return pi, rho


def _em(d: _Data, k: int, n_starts: int, g: np.random.Generator, max_iter: int, tol: float):
    J = d.O.shape[1]
    S = n_starts
    rho = np.empty((S, k, d.Y.shape[1]))
    for j in range(J):
        cols = np.flatnonzero(d.item_of == j)
        rho[:, :, cols] = g.dirichlet(np.ones(cols.size), size=(S, k))
    pi = np.full((S, k), 1.0 / k)
    tiny = 1e-300
    ll_old = np.full(S, -np.inf)
    active = np.ones(S, dtype=bool)
    iters = np.zeros(S, dtype=int)
    ll = ll_old.copy()
    for it in range(1, max_iter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        post, ll_a = _e_step(d, np.log(np.maximum(pi[idx], tiny)), np.log(np.maximum(rho[idx], tiny)))
        new_pi, new_rho = _m_step(d, post)
        ll[idx] = ll_a
        done = np.abs(ll_a - ll_old[idx]) < tol
        pi[idx], rho[idx] = new_pi, new_rho
        ll_old[idx] = ll_a
        iters[idx] = it
        active[idx[done]] = False
    # final log-likelihood at the returned parameters
    _, ll = _e_step(d, np.log(np.maximum(pi, tiny)), np.log(np.maximum(rho, tiny)))
    converged = ~active
    return pi, rho, ll, converged, iters


# --------------------------------------------------------------------------- results
def profile_table(profiles: pd.DataFrame, category: Any = None) -> pd.DataFrame:
    """Item-response probabilities of a tidy ``profiles`` table (``class, item, category, probability``), wide.

    ``category=None``: rows ``(item, category)`` in the fitted order, one
    column per class: ``P(answer = category | class)``.  ``category=c``: rows
    ``item``, one column per class: ``P(answer = c | class)`` (an item
    that never took the value ``c`` is left out of the model's categories,
    so its probability is 0).  These are exactly the numbers the profile
    chart draws.

    The entries are the item-response probabilities of the latent class model::

        rho_jcr = P(y_j = r | class c)

    References
    ----------
    Linzer DA, Lewis JB (2011). poLCA: an R package for polytomous variable latent class
    analysis. Journal of Statistical Software 42(10), 1-29.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 2, 400)
    >>> d = pd.DataFrame({f"i{j}": np.where(rng.random(400) < np.where(z, .85, .15), 2, 1)
    ...                   for j in range(5)})
    >>> res = latent_classes(d, list(d.columns), range(1, 4), seed=1)
    >>> t = profile_table(res.profiles, category=2)    # P(answer = 2 | class), items x classes
    >>> list(t.index), list(t.columns)
    (['i0', 'i1', 'i2', 'i3', 'i4'], [1, 2])
    >>> t.round(2).to_numpy().tolist()
    [[0.89, 0.16], [0.86, 0.14], [0.85, 0.21], [0.82, 0.15], [0.88, 0.16]]
    """
    wide = profiles.pivot_table(index=["item", "category"], columns="class", values="probability", sort=False)
    wide.columns.name = "class"
    if category is None:
        return wide
    cats = profiles["category"]
    if not (cats == category).any():
        raise InputError(f"profile_table: category {category!r} is not among the item categories "
                         f"{list(dict.fromkeys(cats))}")
    items = list(dict.fromkeys(profiles["item"]))
    picked = wide[wide.index.get_level_values("category") == category].droplevel("category")
    out = picked.reindex(items).fillna(0.0)
    out.index.name = "item"
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class LatentClassSolution(Result):
    """One fitted k-class model: sizes, item-response profiles, posterior membership.

    ``posterior`` (n x k, indexed like the input; rows that answered no item
    are NaN) and ``modal`` are **row-level** -- for analysis only, never to be
    published.
    """

    k: int
    n: int
    loglik: float
    npar: int
    aic: float
    bic: float
    entropy_r2: float
    smallest_class: float
    n_starts: int
    n_best: int
    converged: bool
    class_sizes: pd.DataFrame = dataclasses.field(repr=False)
    profiles: pd.DataFrame = dataclasses.field(repr=False)
    posterior: pd.DataFrame = dataclasses.field(repr=False)
    modal: pd.Series = dataclasses.field(repr=False)
    pi: np.ndarray = dataclasses.field(repr=False)
    rho: tuple = dataclasses.field(repr=False)  # per item: k x K_j array

    def profile_table(self, category: Any = None) -> pd.DataFrame:
        """The numbers :func:`~veplab.latent_classes.plot_profiles` draws (see :meth:`LatentClassResult.profile_table`)."""
        return profile_table(self.profiles, category)


@dataclasses.dataclass(frozen=True, eq=False)
class LatentClassResult(Result):
    """Latent class models for ``k_range``; the chosen ``k`` (by ``criterion``) is unpacked.

    ``fit`` has one row per k: ``k, loglik, npar, aic, bic, entropy_r2,
    smallest_class, n_best, n_starts, converged``.  ``class_sizes``
    (``class, share, n_modal``), ``profiles`` (tidy: ``class, item,
    category, probability``), ``posterior`` and ``modal`` are those of the
    chosen solution; :meth:`solution` gives any other k.
    """

    k: int
    criterion: str
    n: int
    items: tuple[str, ...]
    loglik: float
    bic: float
    entropy_r2: float
    fit: pd.DataFrame = dataclasses.field(repr=False)
    class_sizes: pd.DataFrame = dataclasses.field(repr=False)
    profiles: pd.DataFrame = dataclasses.field(repr=False)
    posterior: pd.DataFrame = dataclasses.field(repr=False)
    modal: pd.Series = dataclasses.field(repr=False)
    solutions: dict = dataclasses.field(repr=False)

    def solution(self, k: int) -> LatentClassSolution:
        """The fitted solution with ``k`` classes."""
        if k not in self.solutions:
            raise InputError(f"LatentClassResult.solution: k={k!r} was not fitted; fitted: {sorted(self.solutions)}")
        return self.solutions[k]

    def profile_table(self, category: Any = None) -> pd.DataFrame:
        """The numbers :func:`~veplab.latent_classes.plot_profiles` draws (same ``category=``).

        Default: the probability of each rating, rows item x category, one
        column per class (each item's rows sum to 1 within a class).  With
        ``category=``: the probability of that rating, rows item, one
        column per class.
        """
        return profile_table(self.profiles, category)

    def summary(self) -> str:
        lines = [f"Latent class analysis of {len(self.items)} items, n = {self.n}; "
                 f"k = {self.k} chosen by {self.criterion.upper()}", ""]
        with pd.option_context("display.width", 120):
            lines.append(self.fit.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
            lines += ["", "class sizes", self.class_sizes.to_string(index=False, float_format=lambda v: f"{v:.4g}")]
        lines.append("\n(posterior membership is row-level: for analysis only, never publish it)")
        return "\n".join(lines)

    def plot(self, **kwargs: Any) -> Any:
        """The classes' item-response profiles: :func:`veplab.latent_classes.plot_profiles` (keywords pass through)."""
        from ._plot import plot_profiles

        return plot_profiles(self, **kwargs)


def adjusted_rand_index(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Adjusted Rand index of two partitions (Hubert & Arabie 1985).

    Invariant to relabelling, so it compares class assignments without solving
    label switching.  1 = identical partitions, about 0 = chance agreement.

    From the contingency table ``n_ij`` of the two partitions, with row and
    column sums ``a_i``, ``b_j``::

        ARI = (sum_ij C(n_ij, 2) - E) / ((sum_i C(a_i, 2) + sum_j C(b_j, 2)) / 2 - E)
        E = sum_i C(a_i, 2) sum_j C(b_j, 2) / C(n, 2)

    References
    ----------
    Hubert L, Arabie P (1985). Comparing partitions. Journal of Classification 2, 193-218.

    Examples
    --------
    >>> adjusted_rand_index([0, 0, 1, 1], [5, 5, 7, 7])
    1.0
    """
    x = np.asarray(a)
    y = np.asarray(b)
    if x.shape != y.shape or x.ndim != 1:
        raise InputError("adjusted_rand_index: the two labelings must be 1-D and of the same length")
    _, ai = np.unique(x, return_inverse=True)
    _, bi = np.unique(y, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1)

    def comb2(v: np.ndarray) -> np.ndarray:
        return v * (v - 1) / 2.0

    sum_ij = comb2(table).sum()
    sum_a = comb2(table.sum(axis=1)).sum()
    sum_b = comb2(table.sum(axis=0)).sum()
    expected = sum_a * sum_b / (x.size * (x.size - 1) / 2.0)
    max_index = (sum_a + sum_b) / 2.0
    if max_index == expected:
        return 1.0
    return float((sum_ij - expected) / (max_index - expected))


def _solution(d: _Data, df_index: pd.Index, items: list[str], k: int, pi: np.ndarray, rho: np.ndarray,
              ll: float, n_best: int, n_starts: int, converged: bool) -> LatentClassSolution:
    order = np.argsort(-pi, kind="stable")
    pi = pi[order]
    rho = rho[order]
    log_rho = np.log(np.maximum(rho, 1e-300))
    lj = d.Y @ log_rho.T + np.log(np.maximum(pi, 1e-300))[None, :]
    post_p = np.exp(lj - special.logsumexp(lj, axis=1, keepdims=True))
    post_rows = post_p[d.inverse]
    full = np.full((len(df_index), k), np.nan)
    full[d.kept] = post_rows
    cls_names = [f"class_{c + 1}" for c in range(k)]
    posterior = pd.DataFrame(full, index=df_index, columns=cls_names)
    modal_vals = np.full(len(df_index), np.nan)
    modal_vals[d.kept] = np.argmax(post_rows, axis=1) + 1
    modal = pd.Series(pd.array(modal_vals, dtype="Float64").astype("Int64"), index=df_index, name="class")
    n = d.n
    J = len(items)
    npar = (k - 1) + k * int(sum(len(c) - 1 for c in d.cats))
    if k > 1:
        ent = -np.sum(d.counts[:, None] * post_p * np.log(np.maximum(post_p, 1e-300)))
        entropy_r2 = float(1 - ent / (n * math.log(k)))
    else:
        entropy_r2 = float("nan")
    n_modal = np.bincount(np.argmax(post_rows, axis=1), minlength=k)
    sizes = pd.DataFrame({"class": np.arange(1, k + 1), "share": pi, "n_modal": n_modal})
    offsets = np.concatenate([[0], np.cumsum([len(c) for c in d.cats])])
    prof_rows = []
    rho_items = []
    for j in range(J):
        block = rho[:, offsets[j]:offsets[j + 1]]
        rho_items.append(block.copy())
        for c in range(k):
            for r, cat in enumerate(d.cats[j]):
                prof_rows.append({"class": c + 1, "item": items[j], "category": cat, "probability": block[c, r]})
    profiles = pd.DataFrame(prof_rows)
    return LatentClassSolution(
        k=k, n=n, loglik=float(ll), npar=npar, aic=-2 * ll + 2 * npar, bic=-2 * ll + npar * math.log(n),
        entropy_r2=entropy_r2, smallest_class=float(pi.min()), n_starts=n_starts, n_best=n_best,
        converged=converged, class_sizes=sizes, profiles=profiles, posterior=posterior, modal=modal,
        pi=pi, rho=tuple(rho_items),
    )


def latent_classes(
    df: pd.DataFrame,
    items: Sequence[str],
    k_range: Sequence[int] | range = range(1, 6),
    *,
    n_starts: int = 20,
    seed: int | np.random.Generator | None = None,
    max_iter: int = 1000,
    tol: float = 1e-8,
    criterion: str = "bic",
) -> LatentClassResult:
    """Latent class analysis of categorical items; ``k`` chosen by BIC (R ``poLCA``).

    Parameters
    ----------
    df : data with one column per item (coded categoricals, integer codes or
        labels; missing = not answered).
    items : the item columns.
    k_range : numbers of classes to fit (default 1..5).
    n_starts : random starts per k (poLCA's ``nrep``), run simultaneously.
    seed : same seed, same starts, same result.
    max_iter, tol : EM stops when the log-likelihood changes by less than
        ``tol`` (poLCA: ``maxiter = 1000``, ``tol = 1e-10``).
    criterion : ``"bic"`` (default) or ``"aic"`` to choose k.

    Returns
    -------
    :class:`LatentClassResult` (fit table for every k; sizes, profiles,
    posterior and modal class of the chosen k; ``solution(k)`` for others).

    Notes
    -----
    The model and the criteria (``npar = (k - 1) + k sum_j (K_j - 1)``)::

        P(y_i) = sum_c pi_c prod_j prod_r rho_jcr^[y_ij = r]
        BIC = -2 LL + npar log(n),   AIC = -2 LL + 2 npar

    References
    ----------
    Goodman LA (1974). Exploratory latent structure analysis using both identifiable and
    unidentifiable models. Biometrika 61, 215-231.
    Dempster AP, Laird NM, Rubin DB (1977). Maximum likelihood from incomplete data via the
    EM algorithm. Journal of the Royal Statistical Society B 39, 1-38.
    Schwarz G (1978). Estimating the dimension of a model. Annals of Statistics 6, 461-464.
    Linzer DA, Lewis JB (2011). poLCA: an R package for polytomous variable latent class
    analysis. Journal of Statistical Software 42(10), 1-29.
    Follows ``poLCA`` (not installed here): the tests check the likelihood, the EM fixed
    point and the recovery of a simulated typology (tests/test_latent_classes.py).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 2, 400)
    >>> d = pd.DataFrame({f"i{j}": np.where(rng.random(400) < np.where(z, .85, .15), 2, 1) for j in range(5)})
    >>> res = latent_classes(d, list(d.columns), range(1, 4), seed=1)
    >>> res.k
    2
    """
    what = "latent_classes"
    check_choice(criterion, "criterion", ["bic", "aic"])
    ks = sorted({int(k) for k in k_range})
    if not ks or ks[0] < 1:
        raise InputError(f"{what}: k_range must hold whole numbers >= 1, got {list(k_range)!r}")
    check_count(n_starts, "n_starts", what)
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise InputError(f"{what}: max_iter must be a whole number >= 1, got {max_iter!r}")
    if not (tol > 0):
        raise InputError(f"{what}: tol must be positive, got {tol!r}")
    items = [items] if isinstance(items, str) else list(items)
    d = _prepare(df, items, what)
    g = _rng(seed)
    n_patterns_possible = math.prod(len(c) for c in d.cats)
    sols: dict[int, LatentClassSolution] = {}
    rows = []
    for k in ks:
        npar = (k - 1) + k * int(sum(len(c) - 1 for c in d.cats))
        if npar >= min(n_patterns_possible - 1, d.n):
            warnings.warn(
                f"{what}: k={k} has {npar} parameters, not fewer than the {min(n_patterns_possible - 1, d.n)} "
                "the data can identify; it is skipped. Use fewer classes or more items", UserWarning, stacklevel=2)
            continue
        starts = 1 if k == 1 else n_starts
        pi, rho, ll, conv, iters = _em(d, k, starts, g, max_iter, tol)
        best = int(np.argmax(ll))
        n_best = int(np.sum(ll >= ll[best] - max(1e-4, 1e-7 * abs(ll[best]))))
        if not conv[best]:
            warnings.warn(f"{what}: k={k}: the best start did not converge in {max_iter} EM iterations; "
                          "raise max_iter", UserWarning, stacklevel=2)
        if k > 1 and n_best < max(2, math.ceil(0.1 * starts)) and starts > 1:
            warnings.warn(
                f"{what}: k={k}: the best log-likelihood ({ll[best]:.6g}) was reached by only {n_best} of "
                f"{starts} starts; it may be a local maximum. Increase n_starts (e.g. {4 * starts})",
                UserWarning, stacklevel=2)
        sol = _solution(d, df.index, items, k, pi[best], rho[best], float(ll[best]), n_best, starts,
                        bool(conv[best]))
        sols[k] = sol
        rows.append({"k": k, "loglik": sol.loglik, "npar": sol.npar, "aic": sol.aic, "bic": sol.bic,
                     "entropy_r2": sol.entropy_r2, "smallest_class": sol.smallest_class, "n_best": n_best,
                     "n_starts": starts, "converged": sol.converged})
    if not sols:
        raise InputError(f"{what}: no k in {ks} could be fitted; use fewer classes or more items")
    fit = pd.DataFrame(rows)
    chosen = int(fit.loc[fit[criterion].idxmin(), "k"])
    sol = sols[chosen]
    return LatentClassResult(
        k=chosen, criterion=criterion, n=d.n, items=tuple(items), loglik=sol.loglik, bic=sol.bic,
        entropy_r2=sol.entropy_r2, fit=fit, class_sizes=sol.class_sizes, profiles=sol.profiles,
        posterior=sol.posterior, modal=sol.modal, solutions=sols,
    )
