"""The profile chart of a latent class model (:func:`plot_profiles`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError
from ..plots import _LINES, _MARKERS, _axes

__all__ = ["plot_profiles"]


def _category_order(cats: list[Any]) -> list[Any]:
    try:
        return sorted(cats, key=float)
    except (TypeError, ValueError):
        return cats


def plot_profiles(result: Any, ax: Any = None, *, category: Any = None, labels: Mapping[str, str] | None = None,
                  category_labels: Mapping[Any, str] | None = None, title: str | None = None,
                  class_sizes: pd.DataFrame | None = None) -> Any:
    """Item-response profiles of latent classes: the probability of each rating, by class.

    Default: one panel per class (side by side, items down the side); each
    item's bar is split into the probabilities of its ratings, which sum to
    1 (lighter to darker for lower to higher codes, so the chart reads in
    greyscale and for colour-blind readers).  The panel titles give the
    class shares.  The numbers drawn are ``result.profile_table()``
    (rows item x rating, one column per class).  ``ax`` (optional) is a
    sequence of one Axes per class.  Returns the Figure.

    With ``category=`` (e.g. the top rating): one line per class across the
    items, ``P(rating = category | class)`` on a 0 to 1 axis; the numbers
    drawn are ``result.profile_table(category)``.  Returns the Axes.

    ``labels`` renames items, ``category_labels`` names ratings (e.g. the
    codebook's option texts; default: the codes).

    ``class_sizes`` (for a published chart): the class sizes as the
    disclosure gate passed them (index class, columns ``n`` and ``share``,
    e.g. the table ``Report.table(..., kind="stats", n="n")`` returned).
    Each class is then named with its size, ``class 2`` over ``n = 59
    (19%)``, and a class whose size the gate suppressed (NaN) reads ``class 2``
    over ``(size suppressed)``: no size or share of a small class is drawn.  Without it
    the class shares of ``result`` are shown.

    Formula: ``rho_jcr = P(y_j = r | class c)`` of the latent class model
    (:func:`~veplab.latent_classes.latent_classes`).

    References
    ----------
    Linzer DA, Lewis JB (2011). poLCA: an R package for polytomous variable
    latent class analysis. *Journal of Statistical Software*, 42(10)
    (``plot.poLCA`` draws the same probabilities, one panel per class).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.latent_classes import latent_classes
    >>> rng = np.random.default_rng(3)
    >>> cls = rng.integers(0, 2, 300)                                     # two groups of answering
    >>> df = pd.DataFrame({f"q{j}": np.where(rng.random(300) < np.where(cls == 1, 0.8, 0.2), 2, 1)
    ...                    for j in range(4)})
    >>> res = latent_classes(df, list(df.columns), k_range=[2], n_starts=5, seed=1)
    >>> fig = plot_profiles(res)                                          # one panel per class
    >>> [ax.get_title(loc="left") for ax in fig.axes]
    ['class 1 (55%)', 'class 2 (45%)']
    >>> ax = plot_profiles(res, category=2)     # probability of rating 2 by class, one line per class
    >>> len(ax.get_lines())
    2
    """
    from .lca import profile_table

    what = "plot_profiles"
    prof = getattr(result, "profiles", None)
    sizes = getattr(result, "class_sizes", None)
    if not isinstance(prof, pd.DataFrame) or not isinstance(sizes, pd.DataFrame):
        raise InputError(f"{what}: expected a latent_classes() result, got {type(result).__name__}")
    items = list(dict.fromkeys(prof["item"]))
    k = int(prof["class"].max())
    labels = labels or {}
    category_labels = category_labels or {}
    share = dict(zip(sizes["class"], sizes["share"]))
    gated = None
    if class_sizes is not None:
        if not {"n", "share"} <= set(class_sizes.columns):
            raise InputError(f"{what}: class_sizes= needs columns n and share (the gated class-size table), "
                             f"got {list(class_sizes.columns)}")
        gated = {int(c): (pd.to_numeric(pd.Series([r["n"]]), errors="coerce").iloc[0],
                          pd.to_numeric(pd.Series([r["share"]]), errors="coerce").iloc[0])
                 for c, r in class_sizes.iterrows()}

    def class_name(c: int) -> str:
        if gated is not None:
            n_c, s_c = gated.get(c, (np.nan, np.nan))
            if np.isnan(n_c) or np.isnan(s_c):
                return f"class {c}\n(size suppressed)"
            return f"class {c}\nn = {int(n_c):,} ({100 * s_c:.0f}%)"
        return f"class {c} ({100 * share.get(c, np.nan):.0f}%)"

    def rating_name(r: Any) -> str:
        return str(category_labels.get(r, r))

    if category is not None:
        try:
            table = profile_table(prof, category)
        except InputError as exc:
            raise InputError(f"{what}: {exc}".replace("profile_table: ", "")) from None
        ax = _axes(ax)
        x = np.arange(len(items))
        for c in range(1, k + 1):
            ax.plot(x, table[c].to_numpy(dtype=float), color="black", linestyle=_LINES[(c - 1) % len(_LINES)],
                    marker=_MARKERS[(c - 1) % len(_MARKERS)], markersize=5, linewidth=1.2, label=class_name(c))
        ax.set_xticks(x, [labels.get(i, i) for i in items], rotation=45, ha="right")
        ax.set_ylabel(f"probability of rating {rating_name(category)}")
        ax.set_ylim(0, 1)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        if title:
            ax.set_title(title)
        from ..plots.charts import legend_outside

        legend_outside(ax)
        return ax

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    table = profile_table(prof)
    cats = _category_order(list(dict.fromkeys(prof["category"])))
    if ax is None:
        longest = max(len(str(labels.get(i, i))) for i in items)
        fig, axes = plt.subplots(1, k, sharey=True, squeeze=False,
                                 figsize=(min(2.0 + 0.07 * longest + 1.25 * k, 11.0), 1.5 + 0.24 * len(items)))
        panels = list(axes[0])
    else:
        panels = list(np.ravel(ax)) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(panels) != k:
            raise InputError(f"{what}: the profile chart has one panel per class: pass {k} Axes as ax= "
                             f"(got {len(panels)}), or none")
        fig = panels[0].figure
    cmap = plt.get_cmap("Blues")
    shades = [cmap(v) for v in (np.linspace(0.12, 0.9, len(cats)) if len(cats) > 1 else [0.5])]
    y = np.arange(len(items))[::-1]
    for c, axc in zip(range(1, k + 1), panels):
        left = np.zeros(len(items))
        for r, cat in enumerate(cats):
            rows = table[table.index.get_level_values("category") == cat].droplevel("category")
            vals = rows[c].reindex(items).fillna(0.0).to_numpy(dtype=float)
            axc.barh(y, vals, left=left, height=0.75, color=shades[r], edgecolor="#333333", linewidth=0.4,
                     label=rating_name(cat))
            left += vals
        axc.set_xlim(0, 1)
        axc.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
        axc.set_title(class_name(c), fontsize=9, loc="left")
        axc.grid(axis="x", color="#dddddd", linewidth=0.6)
        axc.grid(axis="y", visible=False)
        axc.set_axisbelow(True)
    panels[0].set_yticks(y, [str(labels.get(i, i)) for i in items])
    panels[0].set_ylim(-0.6, len(items) - 0.4)
    fig.supxlabel("probability of each rating (each bar sums to 1)", fontsize=10)
    keys = [Patch(facecolor=shades[r], edgecolor="#333333", linewidth=0.4, label=rating_name(cat))
            for r, cat in enumerate(cats)]
    fig.legend(handles=keys, title="rating", loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(cats),
               frameon=False, alignment="left", fontsize=8, title_fontsize=9)
    if title:
        fig.suptitle(title, x=0.0, ha="left", y=1.08)
    fig.tight_layout()
    return fig
