"""Standard veplab charts: one idea per chart, labelled, readable in greyscale.

Each function takes an already gated table (suppressed cells are NaN and
are simply not drawn) and returns a matplotlib Figure.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import use_style  # noqa: E402

__all__ = ["grouped_bars", "item_missing_chart", "dot_interval", "heatmap", "HATCHES"]

#: Hatches keep series apart when printed in greyscale.
HATCHES = ["", "///", "...", "xxx", "\\\\\\", "ooo", "---", "+++"]


def grouped_bars(table: pd.DataFrame, *, ylabel: str = "", title: str | None = None, ax=None):
    """Bars of ``table`` (rows = groups on the x axis, columns = series)."""
    use_style()
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    data = table.apply(pd.to_numeric, errors="coerce")
    n_rows, n_cols = data.shape
    width = 0.8 / max(n_cols, 1)
    x = np.arange(n_rows)
    for j, col in enumerate(data.columns):
        vals = data[col].to_numpy(dtype=float)
        ok = ~np.isnan(vals)
        ax.bar(x[ok] + (j - (n_cols - 1) / 2) * width, vals[ok], width=width * 0.95, label=str(col),
               hatch=HATCHES[j % len(HATCHES)], edgecolor="#333333")
    ax.set_xticks(x, [str(i) for i in data.index])
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if n_cols > 1:
        ax.legend(title=str(data.columns.name) if data.columns.name else None)
    return fig


def item_missing_chart(items: pd.DataFrame, *, ax=None):
    """Horizontal stacked bars: don't know, refused and other missing share per item."""
    use_style()
    n = len(items)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, max(2.5, 0.18 * n + 1)))
    else:
        fig = ax.figure
    dk = items.get("dont_know_share", pd.Series(0.0, index=items.index)).fillna(0).to_numpy(float)
    rf = items.get("refused_share", pd.Series(0.0, index=items.index)).fillna(0).to_numpy(float)
    total = items["missing_share"].fillna(0).to_numpy(float)
    other = np.clip(total - dk - rf, 0, None)
    y = np.arange(n)[::-1]
    left = np.zeros(n)
    for vals, label, hatch in ((dk, "don't know", ""), (rf, "refused", "///"), (other, "blank or invalid", "...")):
        ax.barh(y, vals * 100, left=left * 100, label=label, hatch=hatch, edgecolor="#333333", height=0.75)
        left += vals
    ax.set_yticks(y, [str(i) for i in items.index], fontsize=7 if n > 30 else 9)
    ax.set_xlabel("% of records")
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right")
    return fig


def dot_interval(table: pd.DataFrame, *, estimate: str = "estimate", low: str = "ci_low", high: str = "ci_high",
                 xlabel: str = "", ax=None):
    """Dots with interval whiskers, one row per group (forest-style)."""
    use_style()
    n = len(table)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, max(2.5, 0.3 * n + 1)))
    else:
        fig = ax.figure
    y = np.arange(n)[::-1]
    est = pd.to_numeric(table[estimate], errors="coerce").to_numpy(float)
    lo = pd.to_numeric(table[low], errors="coerce").to_numpy(float)
    hi = pd.to_numeric(table[high], errors="coerce").to_numpy(float)
    ok = ~np.isnan(est)
    ax.hlines(y[ok], lo[ok], hi[ok], color="#333333", linewidth=1.5)
    ax.plot(est[ok], y[ok], "o", color="#0072B2")
    ax.set_yticks(y, [str(i) for i in table.index])
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    if xlabel:
        ax.set_xlabel(xlabel)
    return fig


def heatmap(table: pd.DataFrame, *, xlabel: str = "", ylabel: str = "", mark: str = "‡", ax=None):
    """Grey heatmap of a (gated) count table: suppressed cells (NaN) are left blank and marked."""
    use_style()
    data = table.apply(pd.to_numeric, errors="coerce")
    values = data.to_numpy(dtype=float)
    if ax is None:
        size = 1.2 + 0.7 * max(values.shape)
        fig, ax = plt.subplots(figsize=(size + 1.2, size))
    else:
        fig = ax.figure
    shown = np.where(np.isnan(values), 0.0, values)
    top = shown.max() if shown.size and shown.max() > 0 else 1.0
    ax.imshow(shown, cmap="Greys", vmin=0, vmax=top)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            text = mark if np.isnan(v) else f"{int(v)}" if float(v).is_integer() else f"{v:.2f}"
            ax.text(j, i, text, ha="center", va="center", color="white" if shown[i, j] > 0.55 * top else "black",
                    fontweight="bold" if i == j else "normal")
    ax.set_xticks(range(values.shape[1]), [str(c) for c in data.columns])
    ax.set_yticks(range(values.shape[0]), [str(i) for i in data.index])
    ax.grid(False)
    ax.set_xlabel(xlabel or (str(data.columns.name) if data.columns.name else ""))
    ax.set_ylabel(ylabel or (str(data.index.name) if data.index.name else ""))
    return fig
