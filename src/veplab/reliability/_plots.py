"""Plots for item statistics and rater agreement (matplotlib, greyscale-safe)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError
from ._agreement import agreement_table
from ._alpha import AlphaResult, ItemAnalysis

__all__ = ["plot_item_stats", "plot_agreement"]


def plot_item_stats(item_table: Any, ax: Any = None, *, alpha: float | None = None) -> Any:
    """Item-statistics chart: corrected item-total correlation and alpha-if-deleted per item.

    ``item_table`` is the output of :func:`item_analysis` (or an
    :class:`AlphaResult`, whose items and alpha are used).  Bars show
    ``r_drop`` (hatched when negative: the item probably needs reverse
    keying); diamonds show ``alpha_if_deleted``; the dashed line is the
    scale's alpha (``alpha=``), so items whose diamond lies right of it
    lower the scale's reliability.  An item whose statistics the disclosure
    gate suppressed (both NaN) keeps its row, which reads "suppressed".
    Returns the Axes.

    The two statistics drawn, with ``X_j`` the item, ``T`` the scale total and
    ``alpha_(-j)`` the alpha of the other items::

        r_drop_j = cor(X_j, T - X_j),  alpha_if_deleted_j = alpha_(-j)

    Raises
    ------
    InputError
        ``item_table`` is not an item-analysis table (columns ``r_drop``, ``alpha_if_deleted``).

    References
    ----------
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334.
    The item statistics ``r.drop`` and ``alpha.drop`` of R ``psych::alpha`` (Revelle W
    (2022). psych, R package version 2.2.9), computed by :func:`item_analysis`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from veplab.reliability import item_analysis
    >>> df = pd.DataFrame({"i1": [1, 2, 3, 4, 5, 3], "i2": [2, 2, 3, 5, 4, 3],
    ...                    "i3": [1, 3, 3, 4, 5, 2], "i4": [2, 1, 4, 3, 5, 3]})
    >>> ax = plot_item_stats(item_analysis(df))
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_legend_handles_labels()[1][1]
    (['i1', 'i2', 'i3', 'i4'], 'scale alpha 0.92')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    if isinstance(item_table, AlphaResult):
        alpha = item_table.estimate if alpha is None else alpha
        item_table = item_table.items
    elif isinstance(item_table, ItemAnalysis):
        alpha = item_table.alpha if alpha is None else alpha
        item_table = item_table.table
    if not isinstance(item_table, pd.DataFrame) or not {"r_drop", "alpha_if_deleted"} <= set(item_table.columns):
        raise InputError("plot_item_stats: pass the table from item_analysis() (columns r_drop, alpha_if_deleted)")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 0.45 * len(item_table) + 1.2))
    labels = [str(i) for i in item_table.index]
    y = np.arange(len(labels))[::-1]
    r = item_table["r_drop"].to_numpy(dtype=float)
    bars = ax.barh(y, r, height=0.6, color="0.75", edgecolor="0.2", label="corrected item-total correlation")
    for bar, v in zip(bars, r):
        if v < 0:
            bar.set_hatch("///")
    ax.plot(
        item_table["alpha_if_deleted"].to_numpy(dtype=float), y, linestyle="none", marker="D",
        color="black", markersize=6, label="alpha if item deleted",
    )
    if alpha is not None:
        ax.axvline(alpha, color="black", linestyle="--", linewidth=1, label=f"scale alpha {alpha:.2f}")
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    low = np.nanmin(r) if np.isfinite(r).any() else 0.0
    ax.set_xlim(min(-0.05, low - 0.05), 1.0)
    from ..plots.charts import SUPPRESSED, _mark_bar

    aid = item_table["alpha_if_deleted"].to_numpy(dtype=float)
    for yy in y[np.isnan(r) & np.isnan(aid)]:
        _mark_bar(ax, float(yy), SUPPRESSED, horizontal=True)
    ax.set_xlabel("correlation / alpha")
    from ..plots.charts import legend_outside

    legend_outside(ax, fontsize="small")  # above the bars, never on them
    return ax


def plot_agreement(
    a: Any,
    b: Any | None = None,
    ax: Any = None,
    *,
    levels: Sequence[Any] | None = None,
    proportions: bool = False,
) -> Any:
    """Heatmap of the agreement table of two raters (counts, or proportions of subjects).

    Cells on the diagonal are agreements.  Grey scale with the count written
    in each cell (white on dark cells), so it reads in black and white.
    Returns the Axes.  The cells are those of :func:`agreement_table`
    (``proportions=True``: ``p_ij = n_ij / sum n_ij``).

    References
    ----------
    Cohen J (1960). A coefficient of agreement for nominal scales. Educational and
    Psychological Measurement 20, 37-46 (the agreement table of two raters; its
    diagonal is the observed agreement of kappa).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_agreement([0, 1, 2, 2, 1], [0, 1, 1, 2, 1])
    >>> [t.get_text() for t in ax.texts]       # row by row: rater a's 0, 1, 2
    ['1', '0', '0', '0', '2', '0', '0', '1', '1']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    tab = agreement_table(a, b, levels=levels)
    values = tab.to_numpy(dtype=float)
    shown = values / values.sum() if proportions and values.sum() > 0 else values
    if ax is None:
        size = 1.0 + 0.6 * len(tab)
        _, ax = plt.subplots(figsize=(size + 1.0, size))
    im = ax.imshow(shown, cmap="Greys", vmin=0, vmax=max(shown.max(), 1e-12))
    top = shown.max() if shown.size else 0
    for i in range(shown.shape[0]):
        for j in range(shown.shape[1]):
            txt = f"{shown[i, j]:.2f}" if proportions else f"{int(values[i, j])}"
            ax.text(j, i, txt, ha="center", va="center", color="white" if shown[i, j] > 0.55 * top else "black",
                    fontweight="bold" if i == j else "normal")
    ax.set_xticks(range(tab.shape[1]))
    ax.set_xticklabels([str(c) for c in tab.columns])
    ax.set_yticks(range(tab.shape[0]))
    ax.set_yticklabels([str(c) for c in tab.index])
    ax.set_xlabel(str(tab.columns.name))
    ax.set_ylabel(str(tab.index.name))
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="proportion" if proportions else "subjects")
    return ax
