"""veplab's charts: readable in greyscale, one idea each.

* :func:`plot_endorsement` -- dots and intervals of :func:`~veplab.descriptives.shares`.
* :func:`plot_intervals` -- dots with interval whiskers, one row per label (the
  ``.plot()`` of the table results: group comparisons, pooled estimates, ...).
* :func:`plot_forest` -- forest plot of odds ratios (or other estimates), grouped
  by domain (push / pull / protective).
* The report's standard charts (:mod:`veplab.plots.charts`): grouped bars,
  item missingness, dots with intervals, forest plots and heat maps, with
  :func:`~veplab.plots.charts.legend_outside` and the style :func:`use_style`.

Every statistic's ``.plot()`` draws with these, so a chart looks the same in a
notebook, on a report page and in a brief.  (The latent class profiles are
:func:`veplab.latent_classes.plot_profiles`.)

Each takes an optional ``ax=``; :func:`plot_endorsement` and :func:`plot_forest` return the
Axes, :func:`plot_intervals` and the charts of :mod:`veplab.plots.charts` the Figure.  Nothing is
shown or saved.  Suppressed or missing estimates are not drawn (the row is kept and labelled
"suppressed").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError
from .style import MARK, use_style

__all__ = ["plot_endorsement", "plot_forest", "plot_intervals", "use_style", "MARK"]

_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
_LINES = ["-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1)), (0, (5, 5))]


def _axes(ax: Any, height: float | None = None):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, height if height else 4.5))
    return ax


def _need(table: Any, cols: list[str], what: str) -> pd.DataFrame:
    from .._results import TableResult

    if isinstance(table, TableResult):
        table = table.table
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{what}: expected a DataFrame (the result table), got {type(table).__name__}")
    absent = [c for c in cols if c not in table.columns]
    if absent:
        raise InputError(f"{what}: the table lacks column(s) {absent}; pass the table the analysis returned")
    if len(table) == 0:
        raise InputError(f"{what}: the table has no rows")
    return table


def plot_endorsement(table: pd.DataFrame, ax: Any = None, *, variable: str | None = None,
                     title: str | None = None) -> Any:
    """Dot-and-interval chart of an :func:`~veplab.descriptives.endorsement` result (or its table).

    One row per group, grouped under the breakdown (overall first, then a
    bold heading per breakdown); with several variables in the table, pass
    ``variable=`` or get one block per variable.  Shares are shown in percent
    on a 0-100 axis, means on their scale; a suppressed group keeps its row
    and reads "suppressed".

    Parameters
    ----------
    table:
        The result, or its table with ``variable, group_var, group, estimate,
        ci_low, ci_high, kind`` (and ``n``, ``label``, ``suppressed`` when present).
    ax:
        An Axes to draw on (default: a new figure).
    variable:
        Draw this variable only.
    title:
        The chart's title.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InputError
        The table lacks a column, has no rows, or ``variable`` is not in it.

    References
    ----------
    Cleveland WS (1984). Graphical methods for data presentation: full scale breaks, dot charts,
    and multibased logging. The American Statistician 38(4), 270-280 (dot charts).
    Cleveland WS, McGill R (1984). Graphical perception: theory, experimentation, and
    application to the development of graphical methods. Journal of the American Statistical
    Association 79(387), 531-554.
    docs/DESIGN.md, section "Privacy": figures are drawn from gated data; a suppressed
    value is marked, never drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> t = pd.DataFrame({"variable": "q1", "group_var": ["overall", "gender", "gender"],
    ...                   "group": ["All", "Man", "Woman"], "n": [250, 200, 50],
    ...                   "estimate": [0.41, 0.44, float("nan")], "ci_low": [0.35, 0.37, float("nan")],
    ...                   "ci_high": [0.47, 0.51, float("nan")], "kind": "share",
    ...                   "suppressed": [False, False, True]})
    >>> ax = plot_endorsement(t)
    >>> [label.get_text().strip() for label in ax.get_yticklabels()]
    ['All  (n=250)', 'Man  (n=200)', 'Woman  (n=50)']
    >>> [a.get_text() for a in ax.texts], ax.get_xlabel()
    (['suppressed', 'gender'], '% agreeing (with interval)')
    >>> plt.close(ax.figure)
    """
    what = "plot_endorsement"
    t = _need(table, ["variable", "group_var", "group", "estimate", "ci_low", "ci_high", "kind"], what)
    if variable is not None:
        t = t[t["variable"] == variable]
        if t.empty:
            raise InputError(f"{what}: variable {variable!r} is not in the table")
    share = bool((t["kind"] == "share").all())
    scale = 100.0 if share else 1.0
    labels: list[str] = []
    ys: list[float] = []
    y = 0.0
    heads: list[tuple[float, str]] = []
    est, lo, hi, supp = [], [], [], []
    multi = t["variable"].nunique() > 1
    for var, tv in t.groupby("variable", sort=False):
        if multi:
            heads.append((y, str(tv["label"].iloc[0]) if "label" in tv.columns else str(var)))
            y += 1
        for gv, tg in tv.groupby("group_var", sort=False):
            if gv != "overall":
                heads.append((y, str(gv).replace("_", " ")))
                y += 1
            for _, r in tg.iterrows():
                labels.append(("   " if gv != "overall" else "") + str(r["group"])
                              + (f"  (n={int(r['n'])})" if "n" in r and pd.notna(r["n"]) else ""))
                ys.append(y)
                est.append(r["estimate"])
                lo.append(r["ci_low"])
                hi.append(r["ci_high"])
                supp.append(bool(r.get("suppressed", False)) if "suppressed" in tg.columns else False)
                y += 1
    ax = _axes(ax, height=max(2.5, 0.3 * y + 1))
    e = np.asarray(est, dtype=float) * scale
    lo_ = np.asarray(lo, dtype=float) * scale
    hi_ = np.asarray(hi, dtype=float) * scale
    ys_a = np.asarray(ys)
    ok = np.isfinite(e)
    ax.hlines(ys_a[ok & np.isfinite(lo_)], lo_[ok & np.isfinite(lo_)], hi_[ok & np.isfinite(lo_)], color="black",
              linewidth=1.2)
    ax.plot(e[ok], ys_a[ok], "o", color="black", markersize=5)
    for yy, s, good in zip(ys_a, supp, ok):
        if s or not good:
            ax.annotate("suppressed" if s else "no data", (0.01, yy), xycoords=("axes fraction", "data"),
                        va="center", fontsize=8, color="#555555", style="italic")
    ax.set_yticks(ys_a, labels)
    for yy, text in heads:
        ax.annotate(text, (0.0, yy), xycoords=("axes fraction", "data"), xytext=(-4, 0),
                    textcoords="offset points", ha="right", va="center", fontweight="bold", fontsize=9)
    ax.set_ylim(y - 0.5, -0.5)
    if share:
        ax.set_xlim(0, 100)
        ax.set_xlabel("% agreeing (with interval)")
    else:
        ax.set_xlabel("mean score (with interval)")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title)
    return ax


def plot_intervals(table: pd.DataFrame, *, estimate: str = "estimate", low: str = "ci_low", high: str = "ci_high",
                   xlabel: str = "", ref: float | None = None, log: bool = False,
                   missing_label: str | None = None, ax: Any = None) -> Any:
    """Dots with interval whiskers, one row per index label of ``table``; returns the Figure.

    The chart of :func:`veplab.plots.charts.dot_interval` (the report's style):
    a row without an estimate keeps its place and reads ``missing_label``
    (default "suppressed"); ``ref`` draws a dashed reference line (0 for
    differences, 1 for ratios with ``log=True``, 0.5 for AUCs).

    Parameters
    ----------
    table:
        A table result (or its DataFrame) with the estimate and interval columns.
    estimate, low, high:
        Column names.
    xlabel:
        Axis label.
    ref:
        Reference line.
    log:
        Log axis (ratios).
    missing_label:
        What an empty row reads.
    ax:
        An Axes to draw on.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        The table lacks a column or has no rows.

    References
    ----------
    Cleveland WS (1984). Graphical methods for data presentation: full scale breaks, dot charts,
    and multibased logging. The American Statistician 38(4), 270-280 (dot charts).
    Cleveland WS, McGill R (1984). Graphical perception: theory, experimentation, and
    application to the development of graphical methods. Journal of the American Statistical
    Association 79(387), 531-554.
    docs/DESIGN.md, section "Privacy": figures are drawn from gated data; a suppressed
    value is marked, never drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> t = pd.DataFrame({"estimate": [0.2, -0.1, float("nan")], "ci_low": [0.1, -0.3, None],
    ...                   "ci_high": [0.3, 0.1, None]}, index=["a", "b", "c"])
    >>> fig = plot_intervals(t, ref=0.0, xlabel="difference")
    >>> [label.get_text() for label in fig.axes[0].get_yticklabels()], [a.get_text() for a in fig.axes[0].texts]
    (['a', 'b', 'c'], ['suppressed'])
    >>> plt.close(fig)
    """
    from .charts import SUPPRESSED, dot_interval

    t = _need(table, [estimate, low, high], "plot_intervals")
    return dot_interval(t, estimate=estimate, low=low, high=high, xlabel=xlabel, ref=ref, log=log, ax=ax,
                        missing_label=SUPPRESSED if missing_label is None else missing_label)


_RATIOS = (
    ("odds_ratio", "or_ci_low", "or_ci_high", "odds ratio"),
    ("hr", "hr_ci_low", "hr_ci_high", "hazard ratio"),
)


def plot_forest(
    table: Any,
    *,
    group_col: str | None = None,
    domains: Mapping[str, str] | None = None,
    ax: Any = None,
    log: bool = True,
    labels: Mapping[str, str] | None = None,
    drop_intercept: bool = True,
    title: str | None = None,
) -> Any:
    """Forest plot of model estimates, grouped by domain.

    ``table`` is a coefficient table (``logit(...).coefficients``,
    ``ordinal(...).coefficients``, ``cox(...).table``,
    :func:`~veplab.missing.pool` output) or the fitted result itself:
    odds ratios (``odds_ratio, or_ci_low, or_ci_high``) or hazard ratios
    (``hr, hr_ci_low, hr_ci_high``) when present and ``log=True`` (log axis,
    reference line at 1), else ``estimate, ci_low, ci_high`` (reference line
    at 0).  ``LogitResult.plot()``, ``OrdinalResult.plot()`` and
    ``CoxResult.plot()`` call it; it draws with
    :func:`veplab.plots.charts.dot_interval`, as the report's gated forest plot
    (:func:`veplab.plots.charts.forest`) does, so both look alike.  Terms are
    grouped by ``group_col`` (a column of the table) or by ``domains`` (a
    mapping term -> domain, e.g. ``{"grievance": "push", "peers": "pull",
    "trust_staff": "protective"}``; unmapped terms go under "other").
    ``labels`` renames terms.  The intercept and ordinal thresholds are left
    out; a suppressed term keeps its row and reads "suppressed".

    Parameters
    ----------
    table:
        A coefficient table or a fitted result.
    group_col, domains:
        How to group the terms.
    ax:
        An Axes to draw on.
    log:
        Draw ratios on a log axis when the table has them.
    labels:
        Term -> readable label.
    drop_intercept:
        Leave out ``(Intercept)``.
    title:
        The chart's title.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InputError
        The table lacks ``term`` or the estimate columns, or no term is left.

    References
    ----------
    Lewis S, Clarke M (2001). Forest plots: trying to see the wood and the trees. BMJ 322,
    1479-1480.
    Cleveland WS (1984). Graphical methods for data presentation: full scale breaks, dot charts,
    and multibased logging. The American Statistician 38(4), 270-280 (dot charts).
    Cleveland WS, McGill R (1984). Graphical perception: theory, experimentation, and
    application to the development of graphical methods. Journal of the American Statistical
    Association 79(387), 531-554.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> coef = pd.DataFrame({"term": ["(Intercept)", "grievance", "peers", "trust_staff"],
    ...                      "odds_ratio": [0.5, 1.8, 1.3, 0.7], "or_ci_low": [0.3, 1.2, 0.9, 0.5],
    ...                      "or_ci_high": [0.8, 2.7, 1.9, 0.98]})
    >>> ax = plot_forest(coef, domains={"grievance": "push", "peers": "pull", "trust_staff": "protective"})
    >>> [label.get_text().strip() for label in ax.get_yticklabels()], [a.get_text() for a in ax.texts]
    (['grievance', 'peers', 'trust_staff'], ['push', 'pull', 'protective'])
    >>> ax.get_xscale(), ax.get_xlabel()
    ('log', 'odds ratio (log scale) with interval')
    >>> plt.close(ax.figure)
    """
    what = "plot_forest"
    if not isinstance(table, pd.DataFrame):  # a fitted result: its coefficient table
        for attr in ("coefficients", "table"):
            if isinstance(getattr(table, attr, None), pd.DataFrame):
                table = getattr(table, attr)
                break
    t = _need(table, ["term"], what)
    ratio = next((r for r in _RATIOS if log and set(r[:3]) <= set(t.columns)), None)
    use_or = ratio is not None
    cols = ratio[:3] if ratio is not None else ("estimate", "ci_low", "ci_high")
    _need(t, list(cols), what)
    if drop_intercept:
        t = t[t["term"] != "(Intercept)"]
    if "type" in t.columns:
        t = t[t["type"] != "threshold"]
    if t.empty:
        raise InputError(f"{what}: no terms left to plot")
    if group_col is not None:
        _need(t, [group_col], what)
        groups = t[group_col].astype(str).to_numpy()
    elif domains is not None:
        groups = np.array([str(domains.get(term, "other")) for term in t["term"]])
    else:
        groups = np.array([""] * len(t))
    order = list(dict.fromkeys(groups))
    labels = labels or {}
    ranked = np.concatenate([np.flatnonzero(groups == g) for g in order])  # the rows, group by group
    t, groups = t.iloc[ranked], groups[ranked]
    hidden = (t["suppressed"].fillna(False).astype(bool).to_numpy() if "suppressed" in t.columns
              else np.zeros(len(t), dtype=bool))
    rows = pd.DataFrame({"estimate": pd.to_numeric(t[cols[0]], errors="coerce").to_numpy(float),
                         "ci_low": pd.to_numeric(t[cols[1]], errors="coerce").to_numpy(float),
                         "ci_high": pd.to_numeric(t[cols[2]], errors="coerce").to_numpy(float)},
                         index=[str(labels.get(term, term)) for term in t["term"]])
    from .charts import NOT_ESTIMATED, SUPPRESSED, dot_interval

    fig = dot_interval(rows, ax=ax, groups=groups, ref=1.0 if use_or else 0.0, log=use_or,
                       missing_labels=[SUPPRESSED if h else NOT_ESTIMATED for h in hidden],
                       xlabel=f"{ratio[3]} (log scale) with interval" if ratio is not None else "estimate with interval")
    ax = ax if ax is not None else fig.axes[0]
    if title:
        ax.set_title(title)
    return ax

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
