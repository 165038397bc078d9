"""Disaggregated descriptives and two-group comparisons of push and pull factors.

* :func:`endorsement` -- share agreeing with each likert item (Wilson interval)
  or mean of each scale score (t interval), overall and by country, gender,
  age band, prison type and VEP status; optional small-cell suppression.
* :func:`compare_groups` -- two groups (VEP vs general population, or any two
  levels) per scale: Welch t, Hedges' g, Cliff's delta, Mann-Whitney, with
  Benjamini-Hochberg adjusted p-values across the scales.
* :func:`p_adjust` -- R's ``p.adjust`` (BH, Holm, Bonferroni).

Intervals
---------
*Wilson* (score) interval for a share ``p = x/n`` (R ``prop.test(x, n,
correct = FALSE)$conf.int``)::

    (p + z^2/(2n) -/+ z sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)

*t interval* for a mean (R ``t.test(x)$conf.int``): ``mean -/+ t(n-1) s/sqrt(n)``.

*Hedges' g* exactly as ``effsize::cohen.d(focal, reference,
hedges.correction = TRUE)`` (effsize 0.8.1): ``g = J d`` with ``d`` the mean
difference over the pooled SD and ``J = 1 - 3/(4(n1+n2) - 9)`` (Hedges & Olkin
1985); interval ``g -/+ t(n1+n2-2) J sqrt((n1+n2)/(n1 n2) + g^2/(2(n1+n2)))``
(Grissom & Kim 2005, eq. 3.13, the standard error scaled by ``J``).
``pingouin.compute_esci(g, ..., eftype="hedges")`` uses the same formula
without the factor ``J`` (its interval is wider by ``1/J``, under 0.1 % for
n > 250).

*Cliff's delta* exactly as ``effsize::cliff.delta(focal, reference)``:
``delta = P(focal > ref) - P(focal < ref)``; variance by the unbiased
estimator of Cliff (1993) (``use.unbiased = TRUE``, effsize's default) or the
consistent one (``delta_variance="consistent"``, Cliff 1996); asymmetric
interval of Feng & Cliff (2004) with a t quantile on ``n1 + n2 - 2`` df::

    (d - d^3 -/+ q sqrt(S) sqrt((1 - d^2)^2 + q^2 S)) / (1 - d^2 + q^2 S)

computed in O(n log n) from sorted values (no n1 x n2 dominance matrix), so
it scales to national samples.

*Mann-Whitney* as R ``wilcox.test(focal, reference)``: exact when both groups
have fewer than 50 values and there are no ties, else the normal
approximation with tie and continuity corrections.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import TableResult
from .._validate import InputError, _column_to_float, check_ci, check_choice, check_count, check_frame, columns_shown
from .tables import option_label

__all__ = [
    "endorsement",
    "Endorsement",
    "compare_groups",
    "GroupComparison",
    "PopulationShares",
    "p_adjust",
    "wilson_interval",
    "DEFAULT_BY",
]

#: The shared demographic breakdowns (surveys/README.md), used when ``by`` is not given.
DEFAULT_BY: tuple[str, ...] = ("country", "gender", "age_band", "prison_type", "vep_status")

_ALL_LABEL = {"en": "All", "fr": "Ensemble", "ar": "الجميع", "ru": "Все"}


# --------------------------------------------------------------------------- small helpers
def _as_list(value: Any, name: str, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if value is None:
        raise InputError(f"{what}: {name} must name at least one column")
    try:
        out = list(value)
    except TypeError:
        raise InputError(f"{what}: {name} must be a column name or a list of names, got {value!r}") from None
    if not out:
        raise InputError(f"{what}: {name} is empty; name at least one column")
    return out


def _require_columns(df: pd.DataFrame, cols: Sequence[Any], what: str, role: str = "column") -> None:
    absent = [c for c in cols if c not in df.columns]
    if absent:
        raise InputError(
            f"{what}: {role}(s) {absent} not in the data; available columns: {columns_shown(df.columns)}. "
            "Check the spelling (scale scores are named after the scale ids of the codebook)"
        )


def _codes(col: pd.Series, name: str, what: str) -> np.ndarray:
    """A column as float codes (NaN for missing), raising on text."""
    return _column_to_float(col, name, what).to_numpy()


def _levels(col: pd.Series) -> list[Any]:
    """Observed levels in a stable order: category order, else sorted."""
    present = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(col.dropna())]
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = [c.item() if isinstance(c, np.generic) else c for c in col.cat.categories]
        return [c for c in cats if c in set(present)]
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=str)


def _zcrit(ci: float) -> float:
    return float(stats.norm.ppf(0.5 + ci / 2.0))


# --------------------------------------------------------------------------- intervals
def wilson_interval(x: Any, n: Any, ci: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``x`` successes in ``n`` trials (vectorised).

    Matches R ``prop.test(x, n, correct = FALSE)$conf.int``.  ``n = 0`` gives NaN.

    With ``p = x / n`` and ``z`` the normal quantile::

        (p + z^2/(2n) -/+ z sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)

    i.e. ``ci_low, ci_high = ...`` as above.

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    Journal of the American Statistical Association 22, 209-212.
    Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison
    of seven methods. Statistics in Medicine 17, 857-872.
    Agrees with R ``prop.test(x, n, correct = FALSE)$conf.int``
    (tests/reference/factors_regression.R).

    Examples
    --------
    >>> lo, hi = wilson_interval(3, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.1078, 0.6032)
    """
    ci = check_ci(ci)
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    z = _zcrit(ci)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    hi = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lo, hi


def _t_interval(mean: np.ndarray, sd: np.ndarray, n: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n > 1, stats.t.ppf(0.5 + ci / 2.0, np.maximum(n - 1, 1)), np.nan)
        half = q * sd / np.sqrt(n)
    return mean - half, mean + half


# --------------------------------------------------------------------------- p.adjust
def p_adjust(p: Any, method: str = "fdr_bh") -> np.ndarray:
    """Adjusted p-values as R ``p.adjust`` (``"fdr_bh"`` = ``"BH"``, ``"holm"``, ``"bonferroni"``, ``"none"``).

    Missing p-values stay missing and do not count in the number of tests
    (R's behaviour).  BH: ``min(1, cummin_{from largest}(m / i * p_(i)))``.

    With the ``m`` non-missing p-values sorted ``p_(1) <= ... <= p_(m)``::

        BH:   p_adj(i) = min_(j >= i) min(1, m / j * p_(j))
        Holm: p_adj(i) = max_(j <= i) min(1, (m - j + 1) p_(j))

    References
    ----------
    Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. Journal of the Royal Statistical Society B 57,
    289-300.
    Holm S (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6, 65-70.
    Agrees with R ``p.adjust`` (tests/reference/factors_regression.R).

    Examples
    --------
    >>> p_adjust([0.01, 0.04, 0.03, 0.2]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.2]
    """
    aliases = {"BH": "fdr_bh", "fdr": "fdr_bh", "fdr_bh": "fdr_bh", "holm": "holm",
               "bonferroni": "bonferroni", "none": "none"}
    check_choice(method, "p_adjust", list(aliases))
    method = aliases[method]
    arr = np.asarray(p, dtype=float).copy()
    ok = ~np.isnan(arr)
    q = arr[ok]
    m = q.size
    if m == 0 or method == "none":
        return arr
    if np.any((q < 0) | (q > 1)):
        raise InputError("p_adjust: p-values must lie between 0 and 1")
    if method == "bonferroni":
        adj = np.minimum(1.0, q * m)
    elif method == "holm":
        order = np.argsort(q, kind="mergesort")
        scaled = (m - np.arange(m)) * q[order]
        adj_sorted = np.minimum(1.0, np.maximum.accumulate(scaled))
        adj = np.empty(m)
        adj[order] = adj_sorted
    else:  # Benjamini-Hochberg
        order = np.argsort(q, kind="mergesort")[::-1]
        i = np.arange(m, 0, -1)
        adj_sorted = np.minimum(1.0, np.minimum.accumulate(m / i * q[order]))
        adj = np.empty(m)
        adj[order] = adj_sorted
    arr[ok] = adj
    return arr


_adjust = p_adjust


# --------------------------------------------------------------------------- endorsement
def _kind_of(col: pd.Series, name: str, kind: Any, what: str) -> str:
    if isinstance(kind, Mapping):
        k = kind.get(name, "auto")
    else:
        k = kind
    check_choice(k, f"kind for {name!r}", ["auto", "share", "mean"])
    if k != "auto":
        return k
    if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(col.dtype):
        return "share"
    return "mean"


def _agree_at(agree_at: Any, name: str) -> float:
    value = agree_at.get(name, 4) if isinstance(agree_at, Mapping) else agree_at
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"agree_at for {name!r} must be a number (a code), got {value!r}") from None


def _labeller(labels: Any, lang: str):
    """Functions (variable -> label, (group_var, code) -> label) from a codebook."""
    if labels is None:
        return None, None
    if not (hasattr(labels, "item") and hasattr(labels, "scale") and hasattr(labels, "item_ids")):
        raise InputError(f"endorsement: labels= must be a veplab Codebook, got {type(labels).__name__}")
    scale_ids = {s.id for s in getattr(labels, "scales", ())}

    def var_label(name: str) -> str:
        if name in scale_ids:
            return labels.scale(name).text(lang)
        if name in labels.item_ids:
            return labels.item(name).text(lang)
        return name

    def group_label(group_var: str, code: Any) -> Any:
        if group_var not in labels.item_ids:
            return code
        item = labels.item(group_var)
        try:
            key = int(code)
        except (TypeError, ValueError):
            return code
        if key in item.options and float(key) == float(code):
            return item.option_text(key, lang)
        return code

    return var_label, group_label


@dataclasses.dataclass(frozen=True)
class Endorsement(TableResult):
    """Endorsement of items and scales, overall and by group (:func:`endorsement`).

    ``table`` has one row per variable x group: ``variable, group_var, group,
    group_code, n, estimate, ci_low, ci_high, kind, n_agree, sd, agree_at,
    ci`` (plus ``label`` with a codebook, ``deff`` with a survey design and
    ``suppressed`` with a threshold); the overall row has ``group_var ==
    "overall"``.  The other fields are the settings that made it.
    """

    variables: tuple[str, ...] = ()
    by: tuple[str, ...] = ()
    ci: float = 0.95
    threshold: int | None = None
    design_based: bool = False
    lang: str = "en"

    _summary_columns = ("variable", "group_var", "group", "n", "estimate", "ci_low", "ci_high", "kind",
                        "suppressed")

    def _title(self) -> str:
        how = "design-based (survey design)" if self.design_based else "sample"
        return (f"Endorsement of {len(self.variables)} variable(s) by {', '.join(self.by) or 'nothing (overall)'}; "
                f"{how} estimates, {self.ci:.0%} intervals")

    def plot(self, *, variable: str | None = None, title: str | None = None, ax: Any = None) -> Any:
        """Dots with their intervals, one row per group (:func:`veplab.plots.plot_endorsement`); the Axes."""
        from ..plots import plot_endorsement

        return plot_endorsement(self.table, ax, variable=variable, title=title)


def _suppress_block(n: np.ndarray, threshold: int) -> np.ndarray:
    """Primary (0 < n < threshold) and secondary suppression within one breakdown."""
    hide = (n > 0) & (n < threshold)
    if hide.sum() == 1:
        cand = np.flatnonzero(~hide & (n > 0))
        if cand.size:
            hide[cand[np.argmin(n[cand])]] = True  # first of the smallest
    return hide


def endorsement(
    df: pd.DataFrame,
    items_or_scales: str | Sequence[str],
    *,
    by: Sequence[str] | str | None = None,
    ci: float = 0.95,
    agree_at: float | Mapping[str, float] = 4,
    threshold: int | None = None,
    kind: str | Mapping[str, str] = "auto",
    labels: Any = None,
    lang: str = "en",
    design: Any = None,
) -> Endorsement:
    """Endorsement of push/pull items and scales, overall and disaggregated.

    For a coded (categorical) likert item the estimate is the **share agreeing**,
    ``code >= agree_at`` (4 = "agree" on the 1..5 scale), among those who
    answered (don't know / refused are missing and not in ``n``), with a Wilson
    interval (R ``prop.test(x, n, correct = FALSE)``).  For a scale score (a
    float column) the estimate is the **mean** with a t interval (R
    ``t.test(x)``).  Items are taken as coded in ``df``: a reverse-keyed item
    reports agreement with its wording unless the data were loaded with
    ``reverse=True``.

    Parameters
    ----------
    df : a frame from :func:`veplab.data.load` (or any frame with numeric codes).
    items_or_scales : column(s) to describe.
    by : breakdown columns; default the shared demographics present in ``df``
        (country, gender, age band, prison type, VEP status).  ``by=[]`` gives
        the overall row only.  Rows missing the breakdown value count in the
        overall row only.
    ci : confidence level of the intervals.
    agree_at : lowest code counted as agreeing (a number or ``{column: code}``).
    threshold : when given, rows with ``0 < n < threshold`` are suppressed
        (``n``, counts, estimate and interval set to NA, ``suppressed=True``),
        with secondary suppression inside each breakdown: when a single group
        is hidden, the next smallest is hidden too, since the overall n would
        give the hidden one back.  This mirrors the publication gate
        (:mod:`veplab.report`), which still applies to the published table.
    kind : ``"auto"`` (categorical -> share, numeric -> mean), ``"share"``,
        ``"mean"``, or ``{column: kind}``.
    labels, lang : a :class:`~veplab.codebook.Codebook` to add a ``label``
        column and write group codes as option labels in ``lang`` (the codes
        stay in ``group_code``).
    design : a :class:`veplab.survey.SurveyDesign` over the rows of ``df``
        (a sampled survey): estimates are then design-based -- the weighted
        mean (R ``svymean(~x, subset(design, group), na.rm = TRUE)``, Wald
        interval) or share (``svyciprop``, logit interval) over the group as a
        domain of the whole design -- with their design effect in ``deff``;
        ``n`` (and ``n_agree``) stay the unweighted numbers of people, which the
        threshold applies to.

    Returns
    -------
    :class:`Endorsement`, whose ``table`` (also ``to_frame()``) has one row per
    variable x group: ``variable, group_var, group, n, estimate, ci_low,
    ci_high, kind`` plus ``n_agree`` (shares), ``sd`` (means), ``agree_at``,
    ``ci`` and, with ``threshold``, ``suppressed``.  The overall row has
    ``group_var == "overall"``; ``.plot()`` draws the estimates with their
    intervals.

    Notes
    -----
    Share agreeing ``p = n_agree / n`` with the Wilson interval (see
    :func:`wilson_interval`); mean with ``mean -/+ t(n-1) s / sqrt(n)``.

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    Journal of the American Statistical Association 22, 209-212.
    Student (1908). The probable error of a mean. Biometrika 6, 1-25.
    Agrees with R ``prop.test(x, n, correct = FALSE)`` and ``t.test(x)``
    (tests/reference/factors_regression.R).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"item": pd.Categorical([1, 4, 5, 2, 4, 5], categories=[1, 2, 3, 4, 5], ordered=True),
    ...                   "gender": [1, 1, 1, 2, 2, 2]})
    >>> t = endorsement(d, "item", by=["gender"]).table
    >>> t[["group_var", "group", "n", "estimate"]].to_numpy().tolist()
    [['overall', 'All', 6, 0.6666666666666666], ['gender', 1, 3, 0.6666666666666666], ['gender', 2, 3, 0.6666666666666666]]
    """
    what = "endorsement"
    df = check_frame(df, what)
    ci = check_ci(ci)
    variables = _as_list(items_or_scales, "items_or_scales", what)
    _require_columns(df, variables, what, "item/scale column")
    if by is None:
        by_cols = [c for c in DEFAULT_BY if c in df.columns]
    else:
        by_cols = [by] if isinstance(by, str) else list(by)
        _require_columns(df, by_cols, what, "breakdown column")
    if threshold is not None:
        check_count(threshold, "threshold", what, hint=" (e.g. 10)")
    var_label, group_label = _labeller(labels, lang)
    if design is not None:
        from ..survey import ReplicateDesign, SurveyDesign

        if not isinstance(design, (SurveyDesign, ReplicateDesign)):
            raise InputError(f"{what}: design must be a veplab.survey.SurveyDesign, got {type(design).__name__}")
        if len(design.data) != len(df) or not design.data.index.equals(df.index):
            raise InputError(f"{what}: the design's data are not the rows of df ({len(design.data)} and {len(df)} "
                             "rows); make the design from the same frame (study.survey_design(source, df))")

    rows: list[dict[str, Any]] = []
    for var in variables:
        col = df[var]
        k = _kind_of(col, var, kind, what)
        x = _codes(col, var, what)
        if np.all(np.isnan(x)):
            raise InputError(
                f"{what}: column {var!r} has no answers (every value is missing); drop it, or check "
                "how it was loaded (missing codes such as 8/9 become missing)"
            )
        cut = np.nan
        if k == "share":
            if pd.api.types.is_bool_dtype(col.dtype):
                cut = 1.0
            else:
                cut = _agree_at(agree_at, var)
                top = np.nanmax(x)
                codes = (list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype)
                         else sorted(pd.unique(x[~np.isnan(x)])))
                if cut > max(float(max(codes)), float(top)):
                    raise InputError(
                        f"{what}: agree_at={cut:g} is above every code of {var!r} (codes {codes}); "
                        f"pass agree_at={{{var!r}: <code>}} for items on another scale"
                    )
            hit = np.where(np.isnan(x), np.nan, (x >= cut).astype(float))
        groups: list[tuple[str, Any, np.ndarray]] = [("overall", None, np.ones(len(df), dtype=bool))]
        for g in by_cols:
            gcol = df[g]
            for lev in _levels(gcol):
                groups.append((g, lev, (gcol == lev).to_numpy(dtype=bool)))
        for gvar, lev, mask in groups:
            vals = x[mask]
            vals = vals[~np.isnan(vals)]
            n = int(vals.size)
            row: dict[str, Any] = {"variable": var, "group_var": gvar,
                                   "group": (_ALL_LABEL.get(lang, "All") if gvar == "overall" else lev),
                                   "group_code": (None if gvar == "overall" else lev), "n": n, "kind": k}
            if k == "share":
                h = hit[mask]
                cnt = int(np.nansum(h))
                est = cnt / n if n else np.nan
                lo, hi = wilson_interval(cnt, n, ci)
                row.update(n_agree=cnt, estimate=est, ci_low=float(lo), ci_high=float(hi), sd=np.nan)
            else:
                mean = float(vals.mean()) if n else np.nan
                sd = float(vals.std(ddof=1)) if n > 1 else np.nan
                lo, hi = _t_interval(np.array(mean), np.array(sd), np.array(float(n)), ci)
                row.update(n_agree=np.nan, estimate=mean, ci_low=float(lo), ci_high=float(hi), sd=sd)
            row["agree_at"] = cut
            if design is not None:
                row["deff"] = np.nan
                if n:
                    y = hit if k == "share" else x
                    dd = design.update(__veplab_y__=y)
                    dd = dd if gvar == "overall" else dd.subset(mask)
                    r = (dd.proportion("__veplab_y__", level=1.0, ci=ci, na_rm=True) if k == "share"
                         else dd.mean("__veplab_y__", ci=ci, na_rm=True)).iloc[0]
                    row.update(estimate=float(r["estimate"]), ci_low=float(r["ci_low"]),
                               ci_high=float(r["ci_high"]), deff=float(r["deff"]), sd=np.nan)
            rows.append(row)

    out = pd.DataFrame(rows)
    cols = ["variable", "group_var", "group", "group_code", "n", "estimate", "ci_low", "ci_high", "kind",
            "n_agree", "sd", "agree_at"] + (["deff"] if design is not None else [])
    out = out[cols]
    out["n_agree"] = out["n_agree"].astype("Float64")
    out["n"] = out["n"].astype("Int64")
    out["ci"] = ci
    if var_label is not None:
        out.insert(1, "label", [var_label(v) for v in out["variable"]])
        out["group"] = [g if gv == "overall" else group_label(gv, code)
                        for gv, g, code in zip(out["group_var"], out["group"], out["group_code"])]
    if threshold is not None:
        supp = np.zeros(len(out), dtype=bool)
        nvals = out["n"].to_numpy(dtype=float)
        keys = out["variable"].astype(str) + "\x00" + out["group_var"].astype(str)
        for key in pd.unique(keys):
            idx = np.flatnonzero((keys == key).to_numpy())
            supp[idx] = _suppress_block(nvals[idx], int(threshold))
        out["suppressed"] = supp
        for c in ("estimate", "ci_low", "ci_high", "sd") + (("deff",) if design is not None else ()):
            out.loc[supp, c] = np.nan
        out.loc[supp, "n"] = pd.NA
        out.loc[supp, "n_agree"] = pd.NA
    return Endorsement(table=out, variables=tuple(variables), by=tuple(by_cols), ci=ci, threshold=threshold,
                       design_based=design is not None, lang=lang)


# --------------------------------------------------------------------------- effect sizes
def hedges_g(x_focal: np.ndarray, x_ref: np.ndarray, ci: float = 0.95) -> tuple[float, float, float]:
    """Hedges' g (focal minus reference) and its interval, as effsize::cohen.d(hedges.correction=TRUE)."""
    n1, n2 = x_focal.size, x_ref.size
    if n1 < 2 or n2 < 2:
        return (np.nan, np.nan, np.nan)
    s = math.sqrt(((n1 - 1) * x_focal.var(ddof=1) + (n2 - 1) * x_ref.var(ddof=1)) / (n1 + n2 - 2))
    if s == 0 or not np.isfinite(s):
        return (np.nan, np.nan, np.nan)
    J = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0)
    g = (x_focal.mean() - x_ref.mean()) / s * J
    se = math.sqrt((n1 + n2) / (n1 * n2) + 0.5 * g * g / (n1 + n2)) * J
    q = stats.t.ppf(0.5 + ci / 2.0, n1 + n2 - 2)
    return (float(g), float(g - q * se), float(g + q * se))


def cliff_delta(
    x_focal: np.ndarray, x_ref: np.ndarray, ci: float = 0.95, *, variance: str = "unbiased",
    normal: bool = False,
) -> tuple[float, float, float, float]:
    """Cliff's delta, its interval and variance, as ``effsize::cliff.delta(focal, ref)``.

    ``variance="unbiased"`` (effsize's ``use.unbiased = TRUE``, Cliff 1993) or
    ``"consistent"`` (Cliff 1996); ``normal=True`` uses a normal quantile
    (``use.normal = TRUE``) instead of t on ``n1 + n2 - 2`` df.
    """
    n1, n2 = x_focal.size, x_ref.size
    if n1 < 2 or n2 < 2:
        return (np.nan, np.nan, np.nan, np.nan)
    a = np.sort(x_focal)
    b = np.sort(x_ref)
    less_b = np.searchsorted(b, a, side="left")            # #ref < x_i
    greater_b = n2 - np.searchsorted(b, a, side="right")    # #ref > x_i
    di = (less_b - greater_b) / n2
    less_a = np.searchsorted(a, b, side="left")             # #focal < y_j
    greater_a = n1 - np.searchsorted(a, b, side="right")    # #focal > y_j
    dj = (greater_a - less_a) / n1
    nn = float(n1) * float(n2)
    sum_sign = float(np.sum(less_b - greater_b))
    d = sum_sign / nn
    ties = nn - float(np.sum(less_b + greater_b))
    dd = d * (nn - 1) / nn if abs(d) == 1 else d
    ssr = (nn - ties) - 2.0 * dd * sum_sign + nn * dd * dd
    S: float
    if variance == "unbiased":
        S = (n2 ** 2 * np.sum((di - dd) ** 2) + n1 ** 2 * np.sum((dj - dd) ** 2) - ssr) / (nn * (n1 - 1) * (n2 - 1))
    else:
        s_i = np.sum((di - dd) ** 2) / (n1 - 1)
        s_j = np.sum((dj - dd) ** 2) / (n2 - 1)
        s_ij = ssr / ((n1 - 1) * (n2 - 1))
        S = ((n2 - 1) * s_i + (n1 - 1) * s_j + s_ij) / nn
    S = float(S)
    if S < 0:  # the unbiased estimator can go negative in tiny samples: floor of Cliff (1993)
        S = (1 - dd * dd) / (nn - 1)
    q = float(stats.norm.ppf(0.5 + ci / 2.0) if normal else stats.t.ppf(0.5 + ci / 2.0, n1 + n2 - 2))
    root = q * math.sqrt(S) * math.sqrt((1 - dd * dd) ** 2 + q * q * S)
    den = 1 - dd * dd + q * q * S
    lo = (dd - dd ** 3 - root) / den if den > 0 else np.nan
    hi = (dd - dd ** 3 + root) / den if den > 0 else np.nan
    if d == 1:
        hi = 1.0
    if d == -1:
        lo = -1.0
    return (float(d), float(lo), float(hi), S)


def _mann_whitney(xf: np.ndarray, xr: np.ndarray) -> tuple[float, float, str]:
    """W (for the focal group) and p as R wilcox.test(focal, ref)."""
    n1, n2 = xf.size, xr.size
    if n1 == 0 or n2 == 0:
        return (np.nan, np.nan, "")
    allv = np.concatenate([xf, xr])
    has_ties = np.unique(allv).size < allv.size
    exact = n1 < 50 and n2 < 50 and not has_ties
    method = "exact" if exact else "asymptotic"
    res = stats.mannwhitneyu(xf, xr, alternative="two-sided", method=method, use_continuity=True)
    label = "exact" if exact else "normal approximation with continuity correction"
    return (float(res.statistic), float(res.pvalue), label)


def _group_split(df: pd.DataFrame, group: str, levels: Any, what: str) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    gcol = df[group]
    present = _levels(gcol)
    if levels is None:
        if len(present) != 2:
            shown = ", ".join(repr(p) for p in present[:10]) + (" ..." if len(present) > 10 else "")
            fix = (f"pass levels=(reference, focal) to pick two of them, e.g. "
                   f"levels=({present[0]!r}, {present[-1]!r})" if len(present) > 2 else
                   "check the filter that made this data set (both groups need data)")
            raise InputError(
                f"{what}: column {group!r} has {len(present)} level(s) present ({shown or 'none'}); a "
                f"two-group comparison needs exactly two: {fix}"
            )
        ref, focal = present
    else:
        try:
            ref, focal = levels
        except (TypeError, ValueError):
            raise InputError(f"{what}: levels must be a pair (reference, focal), got {levels!r}") from None
        missing = [lv for lv in (ref, focal) if lv not in set(present)]
        if missing:
            raise InputError(
                f"{what}: level(s) {missing} not present in column {group!r}; levels present: {present}"
            )
        if ref == focal:
            raise InputError(f"{what}: levels must be two different values, got {levels!r}")
    return ref, focal, (gcol == ref).to_numpy(dtype=bool), (gcol == focal).to_numpy(dtype=bool)


@dataclasses.dataclass(frozen=True)
class GroupComparison(TableResult):
    """Two groups compared on several scales (:func:`compare_groups`).

    ``table`` has one row per scale (columns in :func:`compare_groups`);
    ``reference`` and ``focal`` are the two levels of ``group`` (differences
    are focal minus reference), ``p_adjust`` the adjustment across scales.
    """

    group: str = ""
    reference: Any = None
    focal: Any = None
    ci: float = 0.95
    p_adjust: str = "fdr_bh"
    delta_variance: str = "unbiased"

    _summary_columns = ("variable", "kind", "n_ref", "n_focal", "diff", "diff_ci_low", "diff_ci_high",
                        "p_welch_adj", "hedges_g", "cliff_delta", "delta_ci_low", "delta_ci_high", "p_mw_adj")

    def _title(self) -> str:
        return (f"{self.group!r}: {self.focal!r} compared with {self.reference!r} on {len(self.table)} "
                f"scale(s); {self.ci:.0%} intervals, p-values adjusted by {self.p_adjust}")

    def plot(self, *, effect: str = "cliff_delta", ax: Any = None) -> Any:
        """The effect size of each scale with its interval (``effect="cliff_delta"`` or ``"hedges_g"``); the Figure."""
        from ..plots import plot_intervals

        check_choice(effect, "effect", ["cliff_delta", "hedges_g"])
        low, high = ("delta_ci_low", "delta_ci_high") if effect == "cliff_delta" else ("g_ci_low", "g_ci_high")
        t = self.table.set_index("variable")
        label = "Cliff's delta" if effect == "cliff_delta" else "Hedges' g"
        return plot_intervals(t, estimate=effect, low=low, high=high, ref=0.0, ax=ax, missing_label="not estimated",
                              xlabel=f"{label}, {self.focal} vs {self.reference} ({self.ci:.0%} interval)")


def compare_groups(
    df: pd.DataFrame,
    scales: str | Sequence[str],
    group: str,
    *,
    ci: float = 0.95,
    ordinal: Sequence[str] | None = None,
    p_adjust: str = "fdr_bh",
    levels: tuple[Any, Any] | None = None,
    delta_variance: str = "unbiased",
) -> GroupComparison:
    """Compare two groups (e.g. VEP vs general population) on several scales.

    Per scale, using the rows where it is answered: group sizes, means and
    SDs; the mean difference ``focal - reference`` with its Welch interval and
    Welch t test (R ``t.test(focal, reference)``); Hedges' g with the interval
    of ``effsize::cohen.d(hedges.correction = TRUE)``; Cliff's delta
    ``P(focal > ref) - P(focal < ref)`` with the interval of
    ``effsize::cliff.delta``; the Mann-Whitney test (R ``wilcox.test``).
    p-values are then adjusted across the scales (``p_adjust="fdr_bh"``:
    Benjamini-Hochberg as R ``p.adjust(method = "BH")``; also ``"holm"``,
    ``"bonferroni"``, ``"none"``), separately for the Welch and the
    Mann-Whitney family.  Formulas are in the module docstring.

    Parameters
    ----------
    scales : scale-score or item columns.
    group : the grouping column; exactly two levels must be present, or pass
        ``levels=(reference, focal)`` (other levels are then left out).  By
        default the reference is the first level (category order, else
        sorted): with ``vep_status`` coded 0/1 the differences are VEP minus
        general population.  (R's ``t.test(y ~ g)`` reports first minus
        second level: the opposite sign.)
    ordinal : columns treated as ordinal, for which only the rank-based
        statistics (Cliff's delta, Mann-Whitney) and medians are given --
        means of codes are not interval-scale quantities.  Default: the
        categorical (coded item) columns.  ``ordinal=[]`` reports every
        statistic for every column.
    delta_variance : ``"unbiased"`` (effsize default) or ``"consistent"``.

    Returns
    -------
    :class:`GroupComparison`, whose ``table`` has one row per scale: ``variable, reference, focal, kind, n_ref,
    n_focal, mean_ref, mean_focal, sd_ref, sd_focal, median_ref, median_focal,
    diff, diff_ci_low, diff_ci_high, t, df, p_welch, hedges_g, g_ci_low,
    g_ci_high, cliff_delta, delta_ci_low, delta_ci_high, W, p_mw, mw_method,
    p_welch_adj, p_mw_adj, ci``.

    Notes
    -----
    With ``J = 1 - 3/(4(n1+n2) - 9)`` and ``s_p`` the pooled SD::

        g = J (mean_focal - mean_ref) / s_p
        delta = P(focal > ref) - P(focal < ref)

    (intervals in the module docstring).

    References
    ----------
    Welch BL (1947). The generalization of 'Student's' problem when several different
    population variances are involved. Biometrika 34, 28-35.
    Mann HB, Whitney DR (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Annals of Mathematical Statistics 18, 50-60.
    Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press,
    Orlando.
    Cliff N (1993). Dominance statistics: ordinal analyses to answer ordinal questions.
    Psychological Bulletin 114, 494-509.
    Feng D, Cliff N (2004). Monte Carlo evaluation of ordinal d with improved confidence
    interval. Journal of Modern Applied Statistical Methods 3, 322-332.
    Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. Journal of the Royal Statistical Society B 57,
    289-300.
    Agrees with R ``t.test``, ``wilcox.test``, ``p.adjust(method = "BH")`` and the formulas of
    ``effsize::cohen.d``/``cliff.delta`` (effsize 0.8.1; written out in
    tests/reference/factors_regression.R, as effsize is not installed).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = pd.DataFrame({"g": [0] * 5 + [1] * 5, "s": [1., 2, 2, 3, 1, 3, 4, 3, 5, 4]})
    >>> r = compare_groups(d, "s", "g").table
    >>> round(float(r["diff"].iloc[0]), 6), float(r["cliff_delta"].iloc[0])
    (2.0, 0.92)
    """
    what = "compare_groups"
    df = check_frame(df, what)
    ci = check_ci(ci)
    check_choice(delta_variance, "delta_variance", ["unbiased", "consistent"])
    variables = _as_list(scales, "scales", what)
    if not isinstance(group, str) and not isinstance(group, (int, np.integer)):
        raise InputError(f"{what}: group must be one column name, got {group!r}")
    _require_columns(df, variables, what, "scale column")
    _require_columns(df, [group], what, "group column")
    if group in variables:
        raise InputError(f"{what}: the group column {group!r} is also listed among the scales")
    ref, focal, m_ref, m_focal = _group_split(df, group, levels, what)
    if ordinal is None:
        ord_set = {v for v in variables if isinstance(df[v].dtype, pd.CategoricalDtype)}
    else:
        ord_list = [ordinal] if isinstance(ordinal, str) else list(ordinal)
        stray = [o for o in ord_list if o not in variables]
        if stray:
            raise InputError(f"{what}: ordinal= names {stray} that are not among the scales {variables}")
        ord_set = set(ord_list)
    tq = 0.5 + ci / 2.0
    rows = []
    for var in variables:
        x = _codes(df[var], var, what)
        if np.all(np.isnan(x)):
            raise InputError(f"{what}: column {var!r} has no non-missing values; drop it")
        xr = x[m_ref & ~np.isnan(x)]
        xf = x[m_focal & ~np.isnan(x)]
        n1, n2 = xr.size, xf.size
        kind = "ordinal" if var in ord_set else "mean"
        row: dict[str, Any] = {
            "variable": var, "reference": ref, "focal": focal, "kind": kind, "n_ref": n1, "n_focal": n2,
            "mean_ref": float(xr.mean()) if n1 else np.nan, "mean_focal": float(xf.mean()) if n2 else np.nan,
            "sd_ref": float(xr.std(ddof=1)) if n1 > 1 else np.nan,
            "sd_focal": float(xf.std(ddof=1)) if n2 > 1 else np.nan,
            "median_ref": float(np.median(xr)) if n1 else np.nan,
            "median_focal": float(np.median(xf)) if n2 else np.nan,
        }
        if n1 < 2 or n2 < 2:
            warnings.warn(
                f"{what}: {var!r} has {n1} answer(s) in {ref!r} and {n2} in {focal!r}; at least 2 per "
                "group are needed, its statistics are left empty", UserWarning, stacklevel=2)
        diff = row["mean_focal"] - row["mean_ref"]
        v1 = (row["sd_ref"] ** 2) / n1 if n1 > 1 else np.nan
        v2 = (row["sd_focal"] ** 2) / n2 if n2 > 1 else np.nan
        se = math.sqrt(v1 + v2) if np.isfinite(v1 + v2) else np.nan
        if kind == "mean" and np.isfinite(se) and se > 0:
            dfw = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1))
            tstat = diff / se
            q = float(stats.t.ppf(tq, dfw))
            row.update(diff=diff, diff_ci_low=diff - q * se, diff_ci_high=diff + q * se, t=tstat, df=dfw,
                       p_welch=float(2 * stats.t.sf(abs(tstat), dfw)))
            g, glo, ghi = hedges_g(xf, xr, ci)
            row.update(hedges_g=g, g_ci_low=glo, g_ci_high=ghi)
        else:
            if kind == "mean" and se == 0:
                warnings.warn(f"{what}: {var!r} is constant within both groups; the t test is undefined",
                              UserWarning, stacklevel=2)
            row.update(diff=diff if kind == "mean" else np.nan, diff_ci_low=np.nan, diff_ci_high=np.nan,
                       t=np.nan, df=np.nan, p_welch=np.nan, hedges_g=np.nan, g_ci_low=np.nan, g_ci_high=np.nan)
        d, dlo, dhi, _ = cliff_delta(xf, xr, ci, variance=delta_variance)
        W, pmw, mmeth = _mann_whitney(xf, xr) if (n1 and n2) else (np.nan, np.nan, "")
        row.update(cliff_delta=d, delta_ci_low=dlo, delta_ci_high=dhi, W=W, p_mw=pmw, mw_method=mmeth)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["p_welch_adj"] = _adjust(out["p_welch"].to_numpy(dtype=float), p_adjust)
    out["p_mw_adj"] = _adjust(out["p_mw"].to_numpy(dtype=float), p_adjust)
    out["ci"] = ci
    return GroupComparison(table=out, group=group, reference=ref, focal=focal, ci=ci, p_adjust=p_adjust,
                           delta_variance=delta_variance)


# --------------------------------------------------------------------------- sampled surveys
@dataclasses.dataclass(frozen=True)
class PopulationShares(TableResult):
    """The estimated share of the population in each group of a column (:func:`population_shares`).

    ``table`` has one row per group (indexed by its label): ``n, share, ci_low, ci_high, deff``.
    """

    column: str = ""
    ci: float = 0.95
    n: int = 0

    def _title(self) -> str:
        return f"Population shares of {self.column!r} (survey design, {self.ci:.0%} logit intervals)"

    def plot(self, *, ax: Any = None) -> Any:
        """The share of each group with its interval (in percent); the Figure."""
        from ..plots import plot_intervals

        t = self.table[["share", "ci_low", "ci_high"]] * 100.0
        return plot_intervals(t, estimate="share", xlabel=f"% of the population ({self.ci:.0%} interval)", ax=ax)


#: Below this standard error a design-based share is taken as known exactly (a calibrated margin).
_EXACT_SE = 1e-6


def population_shares(df: pd.DataFrame, column: str, design: Any, *, codebook: Any = None, lang: str = "en",
                      ci: float = 0.95) -> PopulationShares:
    """The estimated share of the population in each group of ``column``, from a sampled survey.

    Returns a :class:`PopulationShares` whose ``table`` has one row per group (its codebook label):
    ``n`` the people surveyed in the group
    (unweighted, as the counts table), ``share`` the design-based share (R
    ``svyciprop(~I(column == group), design)``, logit interval ``ci_low``/``ci_high``) and
    its ``deff``.  Rows missing ``column`` count in no group.  A characteristic the weights
    were calibrated to (population.yml) has no sampling error: its interval and ``deff`` are
    NaN.

    With design weights ``w_i`` and ``t_df`` the t quantile on the design's degrees of
    freedom (PSUs minus strata), the share of group ``g`` and its logit interval are::

        share = sum_i w_i 1[x_i = g] / sum_i w_i
        ci = expit(logit(share) -/+ t_df se / (share (1 - share)))

    with ``se`` the linearisation standard error of ``svymean`` of the indicator
    (:meth:`veplab.survey.SurveyDesign.proportion`, ``method="logit"``).

    Parameters
    ----------
    df : the analysis frame, the same rows as the design's data.
    column : the grouping column.
    design : a :class:`veplab.survey.SurveyDesign` made from ``df``.
    codebook, lang : label the groups with the codebook's option labels.
    ci : the interval level.

    Raises
    ------
    InputError
        ``column`` is not in ``df``, or the design was made from other rows.

    References
    ----------
    Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ,
    section 2.3.1.
    Agrees with R ``survey::svyciprop(~I(column == g), design, method = "logit")``
    (through ``SurveyDesign.proportion``, tests/reference/survey.R).

    Examples
    --------
    >>> from veplab.survey import SurveyDesign
    >>> d = pd.DataFrame({"g": [1, 1, 1, 2, 2, 2], "w": [1., 1, 1, 3, 3, 3], "psu": [1, 2, 3, 1, 2, 3]})
    >>> res = population_shares(d, "g", SurveyDesign(d, weights="w", cluster="psu"))
    >>> res.table[["n", "share"]].to_numpy().tolist()
    [[3.0, 0.25], [3.0, 0.75]]
    """
    ci = check_ci(ci)
    if column not in df.columns:
        raise InputError(f"population_shares: no column {column!r} in the data")
    if len(design.data) != len(df) or not design.data.index.equals(df.index):
        raise InputError("population_shares: the design's data are not the rows of df; make the design from the "
                         "same frame (study.survey_design(source, df))")
    col = df[column]
    levels = list(_levels(col))
    rows, names = [], []
    for lev in levels:
        hit = np.where(col.isna().to_numpy(), np.nan, (col == lev).to_numpy(dtype=float))
        r = design.update(__veplab_g__=hit).proportion("__veplab_g__", level=1.0, ci=ci, na_rm=True).iloc[0]
        # weights adjusted to this characteristic: known, no interval.  Raking stops at a tolerance, so a
        # raked margin keeps a numerical SE (about 1e-8); a share's real SE is far above 1e-6.
        exact = not float(r["se"]) > _EXACT_SE
        rows.append({"n": float((col == lev).sum()), "share": float(r["estimate"]),
                     "ci_low": np.nan if exact else float(r["ci_low"]),
                     "ci_high": np.nan if exact else float(r["ci_high"]), "deff": np.nan if exact else float(r["deff"])})
        names.append(option_label(codebook, column, lev, lang))
    name = codebook.item(column).text(lang) if codebook is not None and column in codebook else column
    return PopulationShares(table=pd.DataFrame(rows, index=pd.Index(names, name=name)), column=column, ci=ci,
                            n=int(col.notna().sum()))
