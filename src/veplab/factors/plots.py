"""Charts for push and pull factor analyses: readable in greyscale, one idea each.

* :func:`plot_endorsement` -- dots and intervals of :func:`~veplab.factors.endorsement`.
* :func:`plot_forest` -- forest plot of odds ratios (or other estimates), grouped
  by domain (push / pull / protective).
* :func:`plot_profiles` -- item profiles of latent classes.

Each takes an optional ``ax=`` and returns the matplotlib Axes; nothing is
shown or saved.  Suppressed or missing estimates are not drawn (the row is
kept and labelled "suppressed").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError

__all__ = ["plot_endorsement", "plot_forest", "plot_profiles"]

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
    """Dot-and-interval chart of an :func:`~veplab.factors.endorsement` table.

    One row per group, grouped under the breakdown (overall first); with
    several variables in the table, pass ``variable=`` or get one block per
    variable.  Shares are shown in percent.  Returns the Axes.
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


def plot_forest(
    table: pd.DataFrame,
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
    ``ordinal(...).coefficients``, :func:`~veplab.factors.pool` output):
    odds ratios (``odds_ratio, or_ci_low, or_ci_high``) when present and
    ``log=True`` (log axis, reference line at 1), else ``estimate, ci_low,
    ci_high`` (reference line at 0).  Terms are grouped by ``group_col`` (a
    column of the table) or by ``domains`` (a mapping term -> domain, e.g.
    ``{"grievance": "push", "peers": "pull", "trust_staff": "protective"}``;
    unmapped terms go under "other").  ``labels`` renames terms.
    Returns the Axes.
    """
    what = "plot_forest"
    t = _need(table, ["term"], what)
    use_or = log and {"odds_ratio", "or_ci_low", "or_ci_high"} <= set(t.columns)
    cols = ("odds_ratio", "or_ci_low", "or_ci_high") if use_or else ("estimate", "ci_low", "ci_high")
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
    y = 0.0
    ys, names, heads = [], [], []
    rows = []
    for gname in order:
        sub = t[groups == gname]
        if gname:
            heads.append((y, gname))
            y += 1
        for _, r in sub.iterrows():
            ys.append(y)
            names.append(("   " if gname else "") + str(labels.get(r["term"], r["term"])))
            rows.append((r[cols[0]], r[cols[1]], r[cols[2]]))
            y += 1
    ax = _axes(ax, height=max(2.5, 0.32 * y + 1))
    arr = np.asarray(rows, dtype=float)
    ys_a = np.asarray(ys)
    ok = np.isfinite(arr).all(axis=1)
    ax.hlines(ys_a[ok], arr[ok, 1], arr[ok, 2], color="black", linewidth=1.2)
    ax.plot(arr[ok, 0], ys_a[ok], "s", color="black", markersize=5)
    ref = 1.0 if use_or else 0.0
    ax.axvline(ref, color="#777777", linestyle="--", linewidth=0.9)
    if use_or:
        from matplotlib import ticker

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel("odds ratio (log scale) with interval")
    else:
        ax.set_xlabel("estimate with interval")
    ax.set_yticks(ys_a, names)
    for yy, text in heads:
        ax.annotate(text, (0.0, yy), xycoords=("axes fraction", "data"), xytext=(-4, 0),
                    textcoords="offset points", ha="right", va="center", fontweight="bold", fontsize=9)
    ax.set_ylim(y - 0.5, -0.5)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title)
    return ax


def plot_profiles(result: Any, ax: Any = None, *, category: Any = None, labels: Mapping[str, str] | None = None,
                  title: str | None = None) -> Any:
    """Profile chart of latent classes (one line per class across the items).

    By default each point is the class's expected item score (sum of
    category codes times their probabilities; categories must be numeric);
    with ``category=`` it is the probability of that category (e.g. the
    top one, "agree").  Classes differ by line style and marker, so the chart
    reads in greyscale; the legend gives the class shares.  Returns the Axes.
    """
    what = "plot_profiles"
    prof = getattr(result, "profiles", None)
    sizes = getattr(result, "class_sizes", None)
    if not isinstance(prof, pd.DataFrame) or not isinstance(sizes, pd.DataFrame):
        raise InputError(f"{what}: expected a latent_classes() result, got {type(result).__name__}")
    items = list(dict.fromkeys(prof["item"]))
    k = int(prof["class"].max())
    if category is None:
        try:
            codes = prof["category"].astype(float)
        except (TypeError, ValueError):
            raise InputError(f"{what}: categories are not numeric; pass category= to plot one category's "
                             "probability") from None
        val = (prof.assign(v=codes * prof["probability"]).groupby(["class", "item"], sort=False)["v"].sum())
        ylabel = "expected item score"
    else:
        sub = prof[prof["category"] == category]
        if sub.empty:
            raise InputError(f"{what}: category {category!r} is not among the item categories")
        val = sub.set_index(["class", "item"])["probability"]
        ylabel = f"P(answer = {category})"
    ax = _axes(ax)
    x = np.arange(len(items))
    share = dict(zip(sizes["class"], sizes["share"]))
    for c in range(1, k + 1):
        yv = np.array([val.get((c, it), np.nan) for it in items], dtype=float)
        ax.plot(x, yv, color="black", linestyle=_LINES[(c - 1) % len(_LINES)], marker=_MARKERS[(c - 1) % len(_MARKERS)],
                markersize=5, linewidth=1.2, label=f"class {c} ({100 * share.get(c, np.nan):.0f}%)")
    labels = labels or {}
    ax.set_xticks(x, [labels.get(i, i) for i in items], rotation=45, ha="right")
    ax.set_ylabel(ylabel)
    if category is not None:
        ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title)
    return ax
