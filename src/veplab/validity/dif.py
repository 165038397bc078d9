"""Differential item functioning (DIF): does an item mean the same in every group?

An item shows DIF when respondents of different groups (languages, countries,
genders) *with the same level of the trait* answer it differently.  Two methods:

* :func:`dif_ordinal` -- logistic-regression DIF (Swaminathan & Rogers 1990;
  Zumbo 1999) for ordinal and binary items, with the criteria of R's ``lordif``
  (Choi, Gibbons & Crane 2011): three nested models of the item on a matching
  score, likelihood-ratio tests between them, McFadden pseudo-R² changes as
  effect sizes.  Ordinal items are fitted with :func:`veplab.models.ordinal`
  (``MASS::polr``), binary ones with :func:`veplab.models.logit` (``glm``).
* :func:`mantel_haenszel` -- the Mantel-Haenszel test and common odds ratio of a
  binary item across score strata (``stats::mantelhaen.test``), with the ETS
  delta scale and its A/B/C classification (Holland & Thayer 1988).

References
----------
Swaminathan, H., & Rogers, H. J. (1990). Detecting differential item functioning
using logistic regression procedures. *Journal of Educational Measurement*, 27, 361-370.

Zumbo, B. D. (1999). *A Handbook on the Theory and Methods of Differential Item
Functioning (DIF): Logistic Regression Modeling as a Unitary Framework for Binary
and Likert-type (Ordinal) Item Scores*. Ottawa: Directorate of Human Resources
Research and Evaluation, Department of National Defense.

Choi, S. W., Gibbons, L. E., & Crane, P. K. (2011). lordif: an R package for detecting
differential item functioning using iterative hybrid ordinal logistic regression/item
response theory and Monte Carlo simulations. *Journal of Statistical Software*, 39(8), 1-30.

Mantel, N., & Haenszel, W. (1959). Statistical aspects of the analysis of data from
retrospective studies of disease. *Journal of the National Cancer Institute*, 22, 719-748.

Holland, P. W., & Thayer, D. T. (1988). Differential item performance and the
Mantel-Haenszel procedure. In H. Wainer & H. I. Braun (Eds.), *Test Validity*
(pp. 129-145). Hillsdale, NJ: Lawrence Erlbaum.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import Result, TableResult
from .._validate import InputError

__all__ = ["DIFResult", "MantelHaenszelResult", "dif_ordinal", "mantel_haenszel", "plot_dif"]


def _check_frame(data: Any, columns: Sequence[str], what: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InputError(f"{what}: column(s) {missing} are not in the data (columns: {list(data.columns)[:20]})")


def _item_values(col: pd.Series, name: str, what: str) -> pd.Series:
    """Numeric values of an item (category codes of a categorical), missing kept as NaN."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        if not col.cat.ordered and not pd.api.types.is_numeric_dtype(col.cat.categories.dtype):
            raise InputError(f"{what}: item {name!r} is an unordered text categorical; make it an ordered "
                             "categorical or numeric codes")
        codes = col.cat.codes.astype(float)
        return codes.where(codes >= 0)
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.astype(float)
    if not pd.api.types.is_numeric_dtype(col.dtype):
        raise InputError(f"{what}: item {name!r} is not numeric ({col.dtype}); recode it to ordered "
                         "numbers (0, 1, 2, ...) or an ordered categorical first")
    return col.astype(float)


def _group_levels(g: pd.Series, name: str, what: str, reference: Any = None) -> list[Any]:
    if isinstance(g.dtype, pd.CategoricalDtype):
        levels = [lv for lv in g.cat.categories if (g == lv).any()]
    else:
        levels = sorted(pd.unique(g.dropna()), key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        raise InputError(f"{what}: the group {name!r} has {len(levels)} level(s) {levels} among the rows "
                         "used; DIF compares at least two groups")
    if reference is not None:
        if reference not in levels:
            raise InputError(f"{what}: reference={reference!r} is not a level of {name!r} ({levels})")
        levels = [reference] + [lv for lv in levels if lv != reference]
    return levels


def _item_row(vals: pd.DataFrame, it: str, g: pd.Series, levels: list[Any], s: np.ndarray, alpha: float,
              r2_change: float | None, what: str) -> dict[str, Any]:
    """The three nested models of one item on the matching score ``s`` and the group: one table row."""
    y = vals[it].to_numpy()
    observed = np.unique(y)
    if len(observed) < 2:
        raise InputError(f"{what}: item {it!r} is constant ({observed.tolist()}) among the {len(y)} rows "
                         "used; it cannot show DIF, drop it from items=")
    binary = len(observed) == 2
    frame = pd.DataFrame({"y": (y == observed[1]).astype(int) if binary else y, "score": s})
    dummies = []
    for k, lv in enumerate(levels[1:], start=1):
        frame[f"g{k}"] = (g.to_numpy() == lv).astype(float)
        frame[f"sg{k}"] = frame["score"] * frame[f"g{k}"]
        dummies.append(k)
    gt = " + ".join(f"g{k}" for k in dummies)
    it_ = " + ".join(f"sg{k}" for k in dummies)
    f1, f2, f3 = "y ~ score", f"y ~ score + {gt}", f"y ~ score + {gt} + {it_}"
    ll = [_fit_loglik(frame, f, binary, it, what) for f in (f1, f2, f3)]
    counts = np.unique(y, return_counts=True)[1].astype(float)
    ll0 = float(np.sum(counts * np.log(counts / counts.sum())))
    r2 = [1.0 - v / ll0 for v in ll]
    q = len(dummies)
    row: dict[str, Any] = {"item": it, "model": "binary" if binary else "ordinal", "n": len(y),
                           "levels": len(observed), "loglik0": ll0,
                           "loglik1": ll[0], "loglik2": ll[1], "loglik3": ll[2]}
    crit = {}
    for a, b, df in ((1, 2, q), (2, 3, q), (1, 3, 2 * q)):
        chi2 = max(2.0 * (ll[b - 1] - ll[a - 1]), 0.0)
        p = float(stats.chi2.sf(chi2, df))
        dr2 = r2[b - 1] - r2[a - 1]
        row.update({f"chi2_{a}{b}": chi2, f"df_{a}{b}": df, f"p_{a}{b}": p, f"r2_{a}{b}": dr2})
        crit[f"{a}{b}"] = p < alpha and (r2_change is None or dr2 >= r2_change)
    flag = any(crit.values())
    if crit["12"] and crit["23"]:
        kind = "uniform and non-uniform"
    elif crit["23"]:
        kind = "non-uniform"
    elif crit["12"]:
        kind = "uniform"
    elif crit["13"]:
        kind = "overall"
    else:
        kind = ""
    row.update({"flag": flag, "type": kind})
    return row


# --------------------------------------------------------------------------- logistic regression DIF
@dataclasses.dataclass(frozen=True, eq=False)
class DIFResult(TableResult):
    """Logistic-regression DIF of a set of items across a group.

    ``table`` has one row per item: ``item, model`` (``"ordinal"`` or
    ``"binary"``), ``n, levels``, the log-likelihoods ``loglik0`` (null) and
    ``loglik1..3`` of the nested models, ``chi2_12, df_12, p_12`` (uniform DIF),
    ``chi2_23, df_23, p_23`` (non-uniform), ``chi2_13, df_13, p_13`` (overall),
    the McFadden R² changes ``r2_12, r2_23, r2_13``, ``flag`` and ``type``.
    ``flagged`` lists the flagged items.
    """

    group: str
    matching: str
    reference: Any
    groups: tuple
    n: int
    n_dropped: int
    alpha: float
    r2_change: float | None
    table: pd.DataFrame = dataclasses.field(repr=False)
    flagged: list[str] = dataclasses.field(default_factory=list)


    def plot(self, *, labels: dict[str, str] | None = None, ax: Any = None) -> Any:
        """The effect size of each item's DIF (:func:`plot_dif`)."""
        return plot_dif(self.table, r2_change=self.r2_change, labels=labels, ax=ax)

    def summary(self) -> str:
        crit = f"p < {self.alpha:g}" + (f" and McFadden R² change >= {self.r2_change:g}"
                                        if self.r2_change is not None else "")
        lines = [
            f"Logistic-regression DIF by {self.group!r} (groups {list(self.groups)}, reference {self.reference!r})",
            f"matching score: {self.matching}; n = {self.n} ({self.n_dropped} rows dropped for missing values)",
            f"flag: {crit} (1 vs 2 uniform, 2 vs 3 non-uniform, 1 vs 3 overall)",
            "",
        ]
        cols = ["item", "model", "chi2_12", "p_12", "r2_12", "chi2_23", "p_23", "r2_23", "chi2_13", "p_13",
                "r2_13", "flag", "type"]
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            lines.append(self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        lines += ["", "flagged: " + (", ".join(self.flagged) if self.flagged else "none")]
        return "\n".join(lines)


def _fit_loglik(frame: pd.DataFrame, formula: str, binary: bool, item: str, what: str) -> float:
    from ..models import logit, ordinal

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fit = logit(frame, formula) if binary else ordinal(frame, formula)
    except InputError as e:
        raise InputError(f"{what}: item {item!r}, model {formula!r}: {e}") from None
    if not fit.converged:
        warnings.warn(f"{what}: item {item!r}, model {formula!r} did not converge", UserWarning, stacklevel=3)
    return float(fit.loglik)


def dif_ordinal(
    data: pd.DataFrame,
    items: Sequence[str],
    group: str,
    *,
    matching: str | None = None,
    reference: Any = None,
    alpha: float = 0.01,
    r2_change: float | None = 0.02,
    max_iter: int = 10,
) -> DIFResult:
    """Logistic-regression DIF for ordinal and binary items (lordif's criteria).

    For each item ``y`` three nested models are fitted on the matching score
    ``s`` and the group ``g`` (treatment-coded, the first level the reference)::

        M1: link P(y <= j) = zeta_j - b1 s
        M2: link P(y <= j) = zeta_j - (b1 s + b2 g)
        M3: link P(y <= j) = zeta_j - (b1 s + b2 g + b3 s g)

    (proportional-odds models, ``MASS::polr``; for a binary item the logistic
    regressions ``logit P(y = 1) = b0 + ...``, ``glm``).  The likelihood-ratio
    statistics ``chi2_ab = 2 (logL_b - logL_a)`` on ``df`` = the difference in
    parameters test uniform DIF (1 vs 2), non-uniform DIF (2 vs 3) and any DIF
    (1 vs 3).  The effect sizes are changes in McFadden's pseudo-R²,
    ``R2_k = 1 - logL_k / logL_0``, with ``logL_0 = sum_j n_j log(n_j / n)`` the
    null (thresholds-only) model, so ``R2_b - R2_a = (logL_b - logL_a) / (-logL_0)``.
    An item is flagged when for one of the three comparisons ``p < alpha`` and
    (unless ``r2_change=None``) its R² change ``>= r2_change`` (lordif's
    defaults: ``alpha = 0.01``, ``R2.change = 0.02``).  ``type`` says which:
    ``"uniform"`` (1 vs 2), ``"non-uniform"`` (2 vs 3), both, or ``"overall"``
    (only 1 vs 3).

    Parameters
    ----------
    data : one row per respondent.
    items : the item columns: numeric codes (0, 1, 2, ...) or ordered
        categoricals; two observed values make a binary item.
    group : the grouping column (language, country, gender); two or more levels.
    matching : the matching score: ``None`` or ``"total"`` (default: the sum of
        ``items``, the studied item included, as Zumbo 1999), ``"rest"`` (the
        sum of the other items, per item), ``"purified"`` (the rest score, then
        refitted with the flagged items left out of every other item's matching
        score until the flagged set no longer changes, at most ``max_iter``
        rounds: lordif's purification, with a sum score for its IRT theta; an
        item keeps its rest score when no unflagged other remains)
        or the name of a column (an external score or an IRT trait estimate).
    reference : the reference level of ``group`` (default its first level).
    alpha : significance level of the likelihood-ratio tests.
    r2_change : the smallest McFadden R² change counted as DIF; ``None`` flags
        on significance alone (with large samples almost every item is then
        flagged, which is why lordif and Zumbo add an effect size).

    Rows with a missing item, group or matching value are dropped (one
    sample for every item).  A total score that contains DIF items is
    contaminated: clean items can then show small DIF of the opposite sign;
    refit with ``matching="rest"`` or a purified score to check.

    Returns
    -------
    :class:`DIFResult` (``.table``, ``.flagged``, ``summary()``).

    Raises
    ------
    InputError
        unknown columns, a group with fewer than two levels, a constant item,
        non-numeric items, a model the fitter refuses (separation).

    References
    ----------
    Zumbo, B. D. (1999). A Handbook on the Theory and Methods of Differential Item
    Functioning (DIF). Ottawa: Department of National Defense.
    Choi, S. W., Gibbons, L. E., & Crane, P. K. (2011). lordif: an R package for detecting
    differential item functioning. Journal of Statistical Software, 39(8), 1-30.
    McFadden, D. (1974). Conditional logit analysis of qualitative choice behavior. In
    P. Zarembka (Ed.), Frontiers in Econometrics (pp. 105-142). New York: Academic Press.
    Agrees with nested ``MASS::polr`` / ``glm`` fits and ``anova`` in R
    (tests/reference/dif.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> n = 600
    >>> g = np.repeat(["en", "fr"], n // 2)
    >>> theta = rng.normal(size=n)
    >>> d = pd.DataFrame({"lang": g})
    >>> for j in range(4):
    ...     shift = 1.5 * (g == "fr") if j == 2 else 0.0   # item i2 is harder in French
    ...     d[f"i{j}"] = np.digitize(2 * theta - shift + rng.logistic(size=n), [-2, 0, 2])
    >>> res = dif_ordinal(d, ["i0", "i1", "i2", "i3"], "lang")
    >>> res.flagged
    ['i2']
    >>> res.table.loc[res.table["item"] == "i2", "type"].item()
    'uniform'
    """
    what = "dif_ordinal"
    if isinstance(items, str) or not isinstance(items, Sequence | pd.Index | np.ndarray):
        raise InputError(f"{what}: items= must be a list of column names, got {items!r}")
    items = [str(i) for i in items]
    if not items:
        raise InputError(f"{what}: items= is empty")
    if len(set(items)) < len(items):
        raise InputError(f"{what}: items= lists a column more than once")
    if not isinstance(group, str):
        raise InputError(f"{what}: group= must be a column name, got {group!r}")
    if group in items:
        raise InputError(f"{what}: the group {group!r} is also one of the items")
    mode = "total" if matching is None else matching
    if not isinstance(mode, str):
        raise InputError(f"{what}: matching= must be 'total', 'rest', 'purified' or a column name, got "
                         f"{matching!r}")
    external = mode not in ("total", "rest", "purified")
    _check_frame(data, items + [group] + ([mode] if external else []), what)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise InputError(f"{what}: max_iter must be a whole number of at least 1, got {max_iter!r}")
    if not (0 < alpha < 1):
        raise InputError(f"{what}: alpha must be between 0 and 1, got {alpha!r}")
    if r2_change is not None and not (0 <= r2_change < 1):
        raise InputError(f"{what}: r2_change must be between 0 and 1 (or None), got {r2_change!r}")

    vals = pd.DataFrame({it: _item_values(data[it], it, what) for it in items}, index=data.index)
    cols = [vals.notna().all(axis=1), data[group].notna()]
    if external:
        if not pd.api.types.is_numeric_dtype(data[mode].dtype):
            raise InputError(f"{what}: the matching score {mode!r} is not numeric ({data[mode].dtype})")
        cols.append(data[mode].notna())
    keep = np.logical_and.reduce([c.to_numpy() for c in cols])
    n_dropped = int((~keep).sum())
    vals = vals[keep]
    if len(vals) == 0:
        raise InputError(f"{what}: no row has every item, the group and the matching score")
    g = data.loc[keep, group]
    levels = _group_levels(g, group, what, reference)
    total = vals.sum(axis=1).to_numpy()

    def score_for(it: str, y: np.ndarray, flagged: set[str]) -> np.ndarray:
        if external:
            return data.loc[keep, mode].to_numpy(dtype=float)
        if mode == "total":
            return total
        if mode == "purified":
            anchors = [j for j in items if j != it and j not in flagged]
            if anchors:
                return vals[anchors].sum(axis=1).to_numpy()
        return total - y

    def fit_items(flagged: set[str]) -> list[dict[str, Any]]:
        rows = []
        for it in items:
            rows.append(_item_row(vals, it, g, levels, score_for(it, vals[it].to_numpy(), flagged), alpha,
                                  r2_change, what))
        return rows

    rows = fit_items(set())
    iterations = 1
    if mode == "purified":  # lordif: drop flagged items from the matching score until the flags settle
        seen: list[frozenset[str]] = [frozenset()]
        while iterations < max_iter:
            flagged = frozenset(r["item"] for r in rows if r["flag"])
            if flagged in seen[-1:]:
                break
            seen.append(flagged)
            rows = fit_items(set(flagged))
            iterations += 1
    table = pd.DataFrame(rows)
    return DIFResult(
        group=group, matching=(mode if external else
                               f"rest score of the unflagged items (purified in {iterations} rounds)"
                               if mode == "purified" else f"{mode} score of {len(items)} items"),
        reference=levels[0].item() if isinstance(levels[0], np.generic) else levels[0],
        groups=tuple(lv.item() if isinstance(lv, np.generic) else lv for lv in levels),
        n=len(vals), n_dropped=n_dropped, alpha=float(alpha), r2_change=r2_change, table=table,
        flagged=[r["item"] for r in rows if r["flag"]],
    )


# --------------------------------------------------------------------------- Mantel-Haenszel
@dataclasses.dataclass(frozen=True, eq=False)
class MantelHaenszelResult(Result):
    """Mantel-Haenszel DIF statistics of one binary item.

    ``statistic`` (chi-square, 1 df) and ``p`` as ``stats::mantelhaen.test``;
    ``odds_ratio`` (``alpha_MH``: odds of the higher answer in the reference
    group over the focal group, at equal strata) with ``ci_low, ci_high``;
    ``delta = -2.35 ln(alpha_MH)`` (ETS MH D-DIF; negative: the item is harder
    for the focal group) with ``delta_se``, and the ETS class ``ets``.
    """

    item: str
    group: str
    reference: Any
    focal: Any
    strata: str
    n: int
    n_dropped: int
    n_strata: int
    correct: bool
    statistic: float
    df: int
    p: float
    odds_ratio: float
    ci_low: float
    ci_high: float
    ci: float
    delta: float
    delta_se: float
    ets: str

    def summary(self) -> str:
        return "\n".join([
            f"Mantel-Haenszel DIF of {self.item!r} by {self.group!r} (reference {self.reference!r}, "
            f"focal {self.focal!r}), {self.n_strata} strata of {self.strata!r}, n = {self.n}",
            f"MH chi-square{' (continuity corrected)' if self.correct else ''} = {self.statistic:.4f}, "
            f"df = 1, p = {self.p:.4g}",
            f"common odds ratio alpha_MH = {self.odds_ratio:.4f} "
            f"({100 * self.ci:g}% CI {self.ci_low:.4f} to {self.ci_high:.4f})",
            f"ETS delta (MH D-DIF) = {self.delta:.3f} (SE {self.delta_se:.3f}): category {self.ets}",
        ])

    @property
    def conf_level(self) -> float:
        """Deprecated name of :attr:`ci` (the level of the interval)."""
        warnings.warn("MantelHaenszelResult.conf_level is deprecated; use ci", DeprecationWarning, stacklevel=2)
        return self.ci


def mantel_haenszel(
    data: pd.DataFrame,
    item: str,
    group: str,
    strata: str,
    *,
    reference: Any = None,
    correct: bool = True,
    ci: float = 0.95,
    conf_level: float | None = None,
) -> MantelHaenszelResult:
    """Mantel-Haenszel DIF test of a binary item, with the ETS delta classification.

    In stratum ``k`` (respondents with the same matching score) the 2x2 table
    of group (reference, focal) by answer (higher, lower) has cells
    ``a_k, b_k`` (reference: higher, lower), ``c_k, d_k`` (focal) and total
    ``t_k``; ``n_Rk, n_Fk`` are the group sizes and ``m_1k, m_0k`` the numbers
    of higher and lower answers.  With ``E(a_k) = n_Rk m_1k / t_k`` and
    ``V(a_k) = n_Rk n_Fk m_0k m_1k / (t_k^2 (t_k - 1))``::

        X2_MH = (|sum_k a_k - sum_k E(a_k)| - 0.5)^2 / sum_k V(a_k)
        alpha_MH = sum_k (a_k d_k / t_k) / sum_k (b_k c_k / t_k)
        delta = -2.35 ln(alpha_MH)

    (the 0.5 continuity correction only when ``correct`` and the deviation is
    at least 0.5, as ``stats::mantelhaen.test``).  ``alpha_MH > 1`` (``delta < 0``):
    at equal scores the reference group gives the higher answer more often, the
    item is harder for (or less endorsed by) the focal group.  R's
    ``mantelhaen.test(group, factor(item, levels = c(1, 0)), strata)`` gives the
    same ``alpha_MH`` (with the 0/1 order, its reciprocal).  The interval of
    ``ln(alpha_MH)`` uses the Robins-Breslow-Greenland variance (equal to
    Phillips & Holland's), as R does.  ETS categories (Holland & Thayer 1988;
    Dorans & Holland 1993): **A** (negligible) when ``|delta| < 1`` or the MH
    test is not significant at 0.05; **C** (large) when ``|delta| >= 1.5`` and
    ``|delta|`` is significantly above 1 (``(|delta| - 1) / SE > 1.645``);
    **B** (moderate) otherwise.  Strata of one respondent carry no information
    and are left out (R stops on them).

    Parameters
    ----------
    data : one row per respondent.
    item : a binary item column (two observed values; the higher is the "correct"/endorsed answer).
    group : a two-level grouping column.
    strata : the matching column, usually the total or rest score of the scale.
    reference : the reference level of ``group`` (default the first level, as R's factor order).
    correct : continuity correction of the statistic (R's default ``TRUE``).
    ci : level of the interval of ``alpha_MH`` (R's ``conf.level``).
    conf_level : deprecated name of ``ci``; still accepted, with a ``DeprecationWarning``.

    Returns
    -------
    :class:`MantelHaenszelResult`.

    Raises
    ------
    InputError
        unknown columns, a group without exactly two levels, an item without
        exactly two values, no stratum with both groups.

    References
    ----------
    Mantel, N., & Haenszel, W. (1959). Statistical aspects of the analysis of data from
    retrospective studies of disease. Journal of the National Cancer Institute, 22, 719-748.
    Holland, P. W., & Thayer, D. T. (1988). Differential item performance and the
    Mantel-Haenszel procedure. In H. Wainer & H. I. Braun (Eds.), Test Validity (pp. 129-145).
    Robins, J., Breslow, N., & Greenland, S. (1986). Estimators of the Mantel-Haenszel variance
    consistent in both sparse data and large-strata limiting models. Biometrics, 42, 311-323.
    Dorans, N. J., & Holland, P. W. (1993). DIF detection and description: Mantel-Haenszel and
    standardization. In P. W. Holland & H. Wainer (Eds.), Differential Item Functioning (pp. 35-66).
    Agrees with R ``stats::mantelhaen.test(group, item, strata)`` (tests/reference/dif.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> n = 1000
    >>> d = pd.DataFrame({"lang": np.repeat(["en", "fr"], n // 2)})
    >>> theta = rng.normal(size=n)
    >>> for j in range(6):
    ...     b = 1.0 * (d["lang"] == "fr") if j == 0 else 0.0   # q0 harder in French
    ...     d[f"q{j}"] = (rng.random(n) < 1 / (1 + np.exp(-(theta - b)))).astype(int)
    >>> d["score"] = d[[f"q{j}" for j in range(6)]].sum(axis=1)
    >>> mh = mantel_haenszel(d, "q0", "lang", "score")
    >>> round(mh.odds_ratio, 2), mh.ets
    (2.07, 'C')
    """
    what = "mantel_haenszel"
    for name, v in (("item", item), ("group", group), ("strata", strata)):
        if not isinstance(v, str):
            raise InputError(f"{what}: {name}= must be a column name, got {v!r}")
    _check_frame(data, [item, group, strata], what)
    if conf_level is not None:
        warnings.warn(f"{what}: conf_level= is deprecated; the level of the interval is ci= (as everywhere in veplab)",
                      DeprecationWarning, stacklevel=2)
        ci = conf_level
    if isinstance(ci, bool) or not isinstance(ci, (int, float, np.floating)) or not (0 < ci < 1):
        raise InputError(f"{what}: ci must be between 0 and 1 (e.g. 0.95), got {ci!r}")
    sub = data[[item, group, strata]]
    ok = sub.notna().all(axis=1).to_numpy()
    sub = sub[ok]
    if len(sub) == 0:
        raise InputError(f"{what}: no row has the item, the group and the stratum")
    levels = _group_levels(sub[group], group, what, reference)
    if len(levels) != 2:
        raise InputError(f"{what}: the group {group!r} has {len(levels)} levels {levels}; the Mantel-Haenszel "
                         "DIF statistics compare two (subset the data to a reference and a focal group)")
    y = _item_values(sub[item], item, what).to_numpy()
    vals = np.unique(y)
    if len(vals) != 2:
        raise InputError(f"{what}: item {item!r} has {len(vals)} observed value(s) {vals.tolist()}; "
                         "Mantel-Haenszel needs a binary item (use dif_ordinal for ordinal items)")
    hi = y == vals[1]
    ref = (sub[group] == levels[0]).to_numpy()
    codes, _ = pd.factorize(sub[strata], sort=True)
    K = int(codes.max()) + 1

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=K).astype(float)

    a, b = count(ref & hi), count(ref & ~hi)
    c, d_ = count(~ref & hi), count(~ref & ~hi)
    t = a + b + c + d_
    use = t >= 2
    a, b, c, d_, t = a[use], b[use], c[use], d_[use], t[use]
    nR, nF, m1, m0 = a + b, c + d_, a + c, b + d_
    var = np.sum(nR * nF * m0 * m1 / (t ** 2 * (t - 1)))
    if not var > 0:
        raise InputError(f"{what}: no stratum of {strata!r} has both groups and both answers of {item!r}; "
                         "the test has no information")
    dev = float(np.sum(a - nR * m1 / t))
    yates = 0.5 if correct and abs(dev) >= 0.5 else 0.0
    stat = (abs(dev) - yates) ** 2 / var
    p = float(stats.chi2.sf(stat, 1))
    s_diag, s_off = np.sum(a * d_ / t), np.sum(b * c / t)
    or_ = s_diag / s_off if s_off > 0 else math.inf
    if s_diag > 0 and s_off > 0:
        v = (np.sum((a + d_) * a * d_ / t ** 2) / (2 * s_diag ** 2)
             + np.sum(((a + d_) * b * c + (b + c) * a * d_) / t ** 2) / (2 * s_diag * s_off)
             + np.sum((b + c) * b * c / t ** 2) / (2 * s_off ** 2))
        se = math.sqrt(v)
        zq = float(stats.norm.ppf(1 - (1 - ci) / 2))
        lo, hi_ = or_ * math.exp(-zq * se), or_ * math.exp(zq * se)
        delta = -2.35 * math.log(or_)
        dse = 2.35 * se
    else:
        lo = hi_ = delta = dse = math.nan
    if not np.isfinite(delta):  # a zero sum of off-diagonal products: an extreme odds ratio
        ets = "C" if p < 0.05 else "A"
    elif p >= 0.05 or abs(delta) < 1:
        ets = "A"
    elif abs(delta) >= 1.5 and (abs(delta) - 1) / dse > stats.norm.ppf(0.95):
        ets = "C"
    else:
        ets = "B"

    def plain(v: Any) -> Any:
        return v.item() if isinstance(v, np.generic) else v

    return MantelHaenszelResult(
        item=item, group=group, reference=plain(levels[0]), focal=plain(levels[1]), strata=strata,
        n=int(t.sum()), n_dropped=int(len(data) - t.sum()), n_strata=int(use.sum()), correct=bool(correct),
        statistic=float(stat), df=1, p=p, odds_ratio=float(or_), ci_low=float(lo), ci_high=float(hi_),
        ci=float(ci), delta=float(delta), delta_se=float(dse), ets=ets,
    )


def plot_dif(table: pd.DataFrame, *, r2_change: float | None = 0.02, labels: dict[str, str] | None = None,
             ax: Any = None, title: str | None = None) -> Any:
    """One row per item: the McFadden R² change of any DIF (models 1 vs 3), flagged items in colour.

    ``table`` is :attr:`DIFResult.table` (or several stacked: a ``scale`` column
    groups the items); the dashed line is the effect-size criterion
    ``r2_change``.  Items are labelled with ``labels`` (item id -> text) where
    given.  Returns the Figure.

    The bar of an item is ``r2_13 = R²_3 - R²_1``, the change in McFadden's
    pseudo-R² (``R² = 1 - log L_model / log L_null``) from the model with the
    matching score only (1) to the model with group and score-by-group terms (3).

    Parameters
    ----------
    table : DataFrame
        :attr:`DIFResult.table` (columns ``item``, ``r2_13``, ``flag``; optionally ``scale``).
    r2_change : float or None, default 0.02
        Where the dashed criterion line is drawn (None: no line).
    labels : dict, optional
        Item id -> label on the axis.
    ax : matplotlib Axes, optional
        Axes to draw into (default: a new figure).
    title : str, optional
        Title of the plot.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Zumbo, B. D. (1999). *A Handbook on the Theory and Methods of Differential Item
    Functioning (DIF)*. Ottawa: Department of National Defense.
    Choi, S. W., Gibbons, L. E., & Crane, P. K. (2011). lordif: an R package for detecting
    differential item functioning. *Journal of Statistical Software*, 39(8), 1-30
    (the ``R2.change`` criterion, 0.02 by default; the values are lordif's
    ``pseudo13.McFadden``, which lordif prints but does not plot).
    Jodoin, M. G., & Gierl, M. J. (2001). Evaluating type I error and power rates using
    an effect size measure with the logistic regression procedure for DIF detection.
    *Applied Measurement in Education*, 14, 329-349 (0.035 and 0.070 for moderate and
    large DIF).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> t = pd.DataFrame({"item": ["a", "b"], "r2_13": [0.004, 0.06], "flag": [False, True]})
    >>> fig = plot_dif(t, labels={"b": "Item b"}, title="Language")
    >>> ax = fig.axes[0]
    >>> [tl.get_text() for tl in ax.get_yticklabels()]
    ['a', 'Item b']
    >>> [t.get_text() for t in ax.get_legend().get_texts()]     # b is flagged
    ['no DIF', 'DIF flagged']
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    for col in ("item", "r2_13", "flag"):
        if col not in table.columns:
            raise InputError(f"plot_dif: the table has no column {col!r}; pass DIFResult.table")
    t = table.reset_index(drop=True)
    names = [(labels or {}).get(str(i), str(i)) for i in t["item"]]
    names = [n if len(n) <= 60 else n[:57] + "..." for n in names]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 0.8 + 0.32 * len(t)))
    else:
        fig = ax.figure
    y = np.arange(len(t))[::-1]
    flag = t["flag"].to_numpy(dtype=bool)
    r2 = t["r2_13"].to_numpy(dtype=float)
    ax.hlines(y, 0, r2, color="0.75", linewidth=1)
    ax.plot(r2[~flag], y[~flag], "o", color="0.35", markersize=5, label="no DIF")
    if flag.any():
        ax.plot(r2[flag], y[flag], "o", color="#c0392b", markersize=7, label="DIF flagged")
    if r2_change is not None:
        ax.axvline(r2_change, color="0.3", linestyle="--", linewidth=1)
    if "scale" in t.columns:  # a thin line between scales
        change = np.flatnonzero(t["scale"].to_numpy()[1:] != t["scale"].to_numpy()[:-1])
        for k in change:
            ax.axhline(y[k] - 0.5, color="0.85", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    top = float(np.nanmax(np.r_[r2, (r2_change or 0) * 1.5, 0.01]))
    ax.set_xlim(0, top * 1.1)
    ax.set_xlabel("Change in McFadden R² when the group enters (any DIF)")
    if title:
        ax.set_title(title, pad=24)
    ax.legend(frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, borderaxespad=0.2)
    fig.tight_layout()
    return fig
