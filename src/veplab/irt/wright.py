"""Charts of a Rasch-family model: the person-item map (Wright map) and the information curves."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._validate import InputError

__all__ = ["plot_wright_map", "plot_information"]


def _merge_small_bins(counts: np.ndarray, edges: np.ndarray, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Join neighbouring histogram bins until every non-empty bar holds at least ``min_count`` people.

    Empty bins stay (a gap shows no one), a small bin joins the following ones (the last small
    run joins the bar before it), so no published bar counts fewer than ``min_count`` people."""
    out_c: list[float] = []
    out_e: list[float] = [float(edges[0])]
    acc = 0.0
    for c, right in zip(counts, edges[1:]):
        if acc == 0 and c == 0:
            out_c.append(0.0)
            out_e.append(float(right))
            continue
        acc += c
        if acc >= min_count:
            out_c.append(acc)
            out_e.append(float(right))
            acc = 0.0
    if acc > 0:  # a small run at the top: into the last bar that holds people
        last = max((i for i, c in enumerate(out_c) if c > 0), default=None)
        if last is None:
            out_c.append(acc)
            out_e.append(float(edges[-1]))
        else:
            out_c[last] += acc
            out_c = out_c[:last + 1]
            out_e = out_e[:last + 1] + [float(edges[-1])]
    return np.array(out_c), np.array(out_e)


def _short_labels(names: list[str], ids: list[str], width: int = 28) -> list[str]:
    """Axis labels of at most ``width`` characters that still tell the items apart: a prefix every label
    shares (``"Hardship in prison: statement 1"``, ``... 2``) is dropped first, and if the shortened labels
    still collide the item ids are used."""
    def cut(n: str) -> str:
        return n if len(n) <= width else n[:width - 3] + "..."

    short = [cut(n) for n in names]
    if len(set(short)) == len(short):
        return short
    common = os.path.commonprefix(names)
    # drop the shared prefix up to its last ": " (the scale's name), else up to its last word
    cut_at = common.rfind(": ") + 2 if ": " in common else common.rfind(" ") + 1
    common = common[:cut_at]
    short = [cut(n[len(common):] or n) for n in names]
    return short if len(set(short)) == len(short) else ids


def plot_wright_map(result: Any, *, ax: Any = None, bins: int | None = None,
                    title: str | None = None, min_count: int = 1, labels: dict[str, str] | None = None) -> Any:
    """Person-item map: persons and items on one logit scale.  Returns the Figure.

    Left: the distribution of the person parameters (ML; extreme scores at their
    interpolated values, persons without one left out), as horizontal bars.  Right: one
    column per item, in the order of the data, with its location (filled dot) and, for
    ordinal items, its thresholds (short bars, labelled with the step number), as
    ``eRm::plotPImap``.  Items far above most persons measure little in this sample;
    persons above every threshold are not well measured.

    Parameters
    ----------
    result : a :func:`~veplab.irt.rasch`, :func:`~veplab.irt.partial_credit` or :func:`~veplab.irt.rating_scale` result.
    ax : optional pair of Axes ``(persons, items)`` sharing the y axis.
    bins : number of person bins (default: one per 0.25 logits).
    title : figure title.
    min_count : the fewest people a bar may show: neighbouring bins are joined until each
        bar holds at least this many (pass the disclosure threshold when the map is published).
    labels : item id -> text for the item axis.

    Raises
    ------
    InputError
        ``result`` is not a Rasch-family result.

    References
    ----------
    Wright BD, Stone MH (1979). Best Test Design. MESA Press, Chicago.
    Bond TG, Fox CM (2015). Applying the Rasch Model: Fundamental Measurement in the Human
    Sciences, 3rd ed. Routledge, New York.
    Mair P, Hatzinger R (2007). Extended Rasch modeling: the eRm package for the application
    of IRT models in R. Journal of Statistical Software 20(9), 1-20 (``eRm::plotPImap``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.irt import rasch
    >>> rng = np.random.default_rng(0)
    >>> x = (rng.random((200, 4)) < 1 / (1 + np.exp(-(rng.normal(size=(200, 1)) - [-1, 0, 0.5, 1])))).astype(int)
    >>> fig = plot_wright_map(rasch(pd.DataFrame(x, columns=list("abcd"))))
    >>> [a.get_ylabel() for a in fig.axes][0]
    'Logits (person parameter / item location)'
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if not hasattr(result, "thresholds") or not hasattr(result, "persons"):
        raise InputError("plot_wright_map: expects a rasch(), partial_credit() or rating_scale() result")
    theta = result.persons["theta"].to_numpy(dtype=float)
    theta = theta[np.isfinite(theta)]
    items = result.items
    thr = result.thresholds
    k = len(items)
    if ax is None:
        width = max(6.0, 2.0 + 0.45 * k)
        fig, (ax_p, ax_i) = plt.subplots(1, 2, figsize=(width, 5.0), sharey=True,
                                         gridspec_kw={"width_ratios": [1.0, max(1.5, 0.3 * k)], "wspace": 0.05})
    else:
        ax_p, ax_i = ax
        fig = ax_p.figure
    values = np.r_[theta, thr["threshold"].to_numpy(), items["location"].to_numpy()]
    lo, hi = float(np.floor(values.min() * 2) / 2 - 0.25), float(np.ceil(values.max() * 2) / 2 + 0.25)
    edges = np.linspace(lo, hi, bins + 1) if bins else np.arange(lo, hi + 0.25, 0.25)
    counts, edges = np.histogram(theta, bins=edges)
    if min_count > 1:
        counts, edges = _merge_small_bins(counts, edges, int(min_count))
    ax_p.barh(edges[:-1], counts, height=np.diff(edges), align="edge", color="0.55", edgecolor="white")
    ax_p.invert_xaxis()
    ax_p.set_xlabel("Persons")
    ax_p.set_ylabel("Logits (person parameter / item location)")
    ax_p.spines[["top", "left"]].set_visible(False)
    xs = np.arange(k)
    polytomous = bool((items["categories"] > 2).any())
    for j, name in enumerate(items["item"]):
        t = thr[thr["item"] == name]
        if polytomous:
            ax_i.vlines(j, t["threshold"].min(), t["threshold"].max(), color="0.75", linewidth=1)
            ax_i.scatter(np.full(len(t), j), t["threshold"], marker="_", s=160, color="0.15", linewidths=1.5)
            for step, v in zip(t["step"], t["threshold"]):
                ax_i.annotate(str(step), (j, v), xytext=(6, 0), textcoords="offset points", va="center", fontsize=7,
                              color="0.3")
    ax_i.scatter(xs, items["location"], color="0.0", s=28, zorder=3,
                 label="location" if polytomous else "difficulty")
    ax_i.set_xticks(xs)
    names = _short_labels([(labels or {}).get(str(s), str(s)) for s in items["item"]],
                          [str(s) for s in items["item"]])
    long = k > 6 or max((len(n) for n in names), default=0) > 8
    ax_i.set_xticklabels(names, rotation=45 if long else 0,
                         ha="right" if long else "center", fontsize=9)
    ax_i.set_xlim(-0.6, k - 0.4)
    ax_i.set_ylim(lo, hi)
    ax_i.axhline(0.0, color="0.85", linewidth=0.8, zorder=0)
    ax_i.spines[["top", "right"]].set_visible(False)
    ax_i.set_xlabel("Items" + (" (dot: location; bars: thresholds)" if polytomous else " (difficulty)"))
    from .cml import _MODEL_NAMES

    model = _MODEL_NAMES.get(str(getattr(result, "model", "")), "partial credit model" if polytomous else "Rasch model")
    fig.suptitle(title or f"Person-item map ({model})",
                 fontsize=11)
    return fig


def plot_information(result: Any, *, theta: Any = None, items: bool = True, ax: Any = None) -> Any:
    """Test information (and, with ``items=True``, each item's) against theta, with the
    standard error ``1 / sqrt(I(theta))`` on a second axis (as ``eRm::plotINFO``).  Returns the Figure.

    The information of a Rasch item is ``I_i(theta) = P_i(theta) (1 - P_i(theta))``, of a
    partial-credit item the variance of its score at ``theta``; the test's is their sum::

        I(theta) = sum_i I_i(theta),  SE(theta) = 1 / sqrt(I(theta))

    ``theta`` is the grid (default: that of ``result.item_information``).

    Raises
    ------
    InputError
        ``result`` is not a :func:`~veplab.irt.rasch` or :func:`~veplab.irt.partial_credit` result.

    References
    ----------
    Birnbaum A (1968). Some latent trait models and their use in inferring an examinee's
    ability. In Lord FM, Novick MR, Statistical Theories of Mental Test Scores.
    Addison-Wesley, Reading MA.
    Mair P, Hatzinger R (2007). Extended Rasch modeling: the eRm package for the application
    of IRT models in R. Journal of Statistical Software 20(9), 1-20 (``eRm::plotINFO``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.irt import rasch
    >>> rng = np.random.default_rng(0)
    >>> x = (rng.random((200, 4)) < 1 / (1 + np.exp(-(rng.normal(size=(200, 1)) - [-1, 0, 0.5, 1])))).astype(int)
    >>> fig = plot_information(rasch(pd.DataFrame(x, columns=list("abcd"))))
    >>> fig.axes[0].get_ylabel(), fig.axes[1].get_ylabel()
    ('Information', 'Standard error of theta')
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if not hasattr(result, "item_information"):
        raise InputError("plot_information: expects a rasch() or partial_credit() result")
    info = result.item_information(theta)
    total = info.sum(axis=1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4.0))
    else:
        fig = ax.figure
    grid = info.index.to_numpy()
    if items:
        styles = ["-", "--", ":", "-."]
        for j, name in enumerate(info.columns):
            ax.plot(grid, info[name], color="0.55", linewidth=0.9, linestyle=styles[j % len(styles)])
            top = int(np.argmax(info[name].to_numpy()))
            ax.annotate(str(name), (grid[top], info[name].iloc[top]), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=7, color="0.35")
    ax.plot(grid, total, color="0.0", linewidth=1.8, label="Test information")
    ax.set_xlabel("Trait (theta, logits)")
    ax.set_ylabel("Information")
    ax.set_ylim(0, float(total.max()) * 1.1)
    ax.spines[["top"]].set_visible(False)
    se_ax = ax.twinx()
    se_ax.plot(grid, 1 / np.sqrt(total), color="0.3", linewidth=1.0, linestyle="--", label="Standard error")
    se_ax.set_ylabel("Standard error of theta")
    se_ax.set_ylim(0, min(float((1 / np.sqrt(total)).max()) * 1.1, 5.0))
    se_ax.spines[["top"]].set_visible(False)
    handles = ax.get_legend_handles_labels()[0] + se_ax.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], frameon=False, loc="upper left", fontsize=8)
    return fig
