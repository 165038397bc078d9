"""Standard veplab charts: one idea per chart, labelled, readable in greyscale.

Each function takes an already gated table and returns a matplotlib Figure.
A suppressed cell (NaN from the disclosure gate) is never left as blank
space: its place on the chart says "suppressed" (the heatmap marks it ‡ and
notes what the mark means), so a reader cannot mistake it for a zero.
Legends sit above the plotting area (:func:`legend_outside`), never on the
data.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"Man": [353, float("nan")], "Woman": [62, 47]}, index=["A", "B"])
>>> fig = grouped_bars(t, ylabel="records")       # the empty place of (B, Man) reads "suppressed"
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .._validate import InputError  # noqa: E402
from .style import MARK, use_style  # noqa: E402

__all__ = ["grouped_bars", "item_missing_chart", "dot_interval", "forest", "heatmap", "legend_outside", "HATCHES",
           "SUPPRESSED", "NOT_ESTIMATED"]

#: Hatches keep series apart when printed in greyscale.
HATCHES = ["", "///", "...", "xxx", "\\\\\\", "ooo", "---", "+++"]
#: Why an answer is missing, as the missingness chart names each reason (in drawing order).
MISSING_REASONS = (("dont_know", "don't know"), ("refused", "refused"), ("not_applicable", "not applicable"),
                   ("not_asked", "not asked"), ("invalid", "invalid"))
#: What a chart writes where a suppressed cell's mark would be.
SUPPRESSED = "suppressed"
#: What a forest plot writes where a term has no estimate (not a disclosure matter).
NOT_ESTIMATED = "not estimated"
#: What a chart on a log axis writes where the estimate is 0 or below.
NOT_ON_LOG = "0 or below: not on the log scale"
_NOTE_GREY = "#555555"


def legend_outside(ax: Any, handles: list | None = None, *, title: str | None = None, width_chars: int = 80,
                   **kwargs: Any) -> Any:
    """Put the axes' legend above the plotting area (left-aligned), so it never covers data.

    ``handles`` (artists with labels) default to the labelled artists of
    ``ax``.  As many entries go on a line as fit in about ``width_chars``
    characters, balanced over the lines (five entries in 3 + 2, not 4 + 1)::

        ncols = min(entries, width_chars // (longest label + 5))

    When the axes has a title the legend goes to the right of the plot
    instead.

    Parameters
    ----------
    ax:
        The matplotlib Axes.
    handles:
        Artists to list (default: the labelled artists of ``ax``).
    title:
        The legend's title.
    width_chars:
        About how many characters fit on a line.
    **kwargs:
        Passed to ``Axes.legend`` (override the placement).

    Returns
    -------
    matplotlib.legend.Legend or None
        ``None`` when nothing is labelled.

    References
    ----------
    Tufte ER (2001). The Visual Display of Quantitative Information, 2nd ed. Graphics Press,
    Cheshire CT (keys and labels kept off the data).
    Hunter JD (2007). Matplotlib: a 2D graphics environment. Computing in Science & Engineering
    9(3), 90-95.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> for k in range(3):
    ...     _ = ax.plot([0, 1], [k, k + 1], label=f"wave {k + 1}")
    >>> leg = legend_outside(ax)
    >>> [t.get_text() for t in leg.get_texts()]
    ['wave 1', 'wave 2', 'wave 3']
    >>> fig2, ax2 = plt.subplots()
    >>> legend_outside(ax2) is None                    # nothing labelled: no legend
    True
    >>> plt.close(fig); plt.close(fig2)
    """
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    else:
        labels = [h.get_label() for h in handles]
    if not handles:
        return None
    longest = max(len(str(lab)) for lab in labels) + 5
    ncols = max(1, min(len(labels), width_chars // longest))
    ncols = -(-len(labels) // -(-len(labels) // ncols))  # balanced lines: 5 entries in 3 + 2, not 4 + 1
    opts: dict[str, Any] = dict(frameon=False, borderaxespad=0.0, alignment="left", title=title)
    if any(ax.get_title(loc=where) for where in ("left", "center", "right")):
        opts.update(loc="upper left", bbox_to_anchor=(1.02, 1.0), ncols=1)
    else:
        opts.update(loc="lower left", bbox_to_anchor=(0.0, 1.02), ncols=ncols)
    opts.update(kwargs)
    return ax.legend(handles, labels, **opts)


def _percent_tick(v: float, _pos: Any = None) -> str:
    """A tick of a percent axis: ``0%``, ``0.5%``, ``12%`` (no trailing zeros)."""
    return f"{round(v, 6):g}%"


def _mark_bar(ax: Any, x: float, text: str = SUPPRESSED, *, horizontal: bool = False) -> None:
    """Write ``text`` where a missing bar would stand (from the value axis' zero, along the bar)."""
    if horizontal:
        ax.annotate(text, (0, x), xycoords=("axes fraction", "data"), xytext=(4, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=7.5, color=_NOTE_GREY, style="italic")
    else:
        ax.annotate(text, (x, 0), xycoords=("data", "axes fraction"), xytext=(0, 4), textcoords="offset points",
                    ha="center", va="bottom", rotation=90, fontsize=7.5, color=_NOTE_GREY, style="italic")


def grouped_bars(table: pd.DataFrame, *, ylabel: str = "", title: str | None = None, ax: Any = None) -> Any:
    """Bars of ``table`` (rows = groups on the x axis, columns = series); returns the Figure.

    Series differ by colour (Okabe-Ito) and hatch.  A suppressed cell (NaN)
    is not drawn; "suppressed" is written where its bar would stand, so it
    cannot be read as a zero.  The legend (titled by ``table.columns.name``)
    sits above the plot.

    Parameters
    ----------
    table:
        A gated table: rows are groups, columns are series, NaN where suppressed.
    ylabel, title:
        Axis label and title.
    ax:
        An Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Okabe M, Ito K (2008). Color Universal Design (CUD): how to make figures and presentations
    that are friendly to colorblind people. J*Fly (jfly.uni-koeln.de/color).
    docs/DESIGN.md, section "Privacy": figures are drawn from gated data; a suppressed
    value is marked, never drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> t = pd.DataFrame({"Man": [353, float("nan")], "Woman": [62, 47]},
    ...                  index=pd.Index(["A", "B"], name="prison"))
    >>> t.columns.name = "gender"
    >>> fig = grouped_bars(t, ylabel="records")
    >>> ax = fig.axes[0]
    >>> len(ax.patches), [a.get_text() for a in ax.texts], ax.get_legend().get_title().get_text()
    (3, ['suppressed'], 'gender')
    >>> plt.close(fig)
    """
    use_style()
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    data = table.apply(pd.to_numeric, errors="coerce")
    n_rows, n_cols = data.shape
    width = 0.8 / max(n_cols, 1)
    x = np.arange(n_rows)
    from matplotlib.patches import Patch

    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    keys = []
    for j, col in enumerate(data.columns):
        vals = data[col].to_numpy(dtype=float)
        ok = ~np.isnan(vals)
        xs = x + (j - (n_cols - 1) / 2) * width
        look = dict(facecolor=colours[j % len(colours)], hatch=HATCHES[j % len(HATCHES)], edgecolor="#333333")
        ax.bar(xs[ok], vals[ok], width=width * 0.95, **look)
        keys.append(Patch(label=str(col), **look))  # the key stands even when all of the series is suppressed
        for xx in xs[~ok]:
            _mark_bar(ax, float(xx))
    ax.set_xticks(x, [str(i) for i in data.index])
    ax.set_xlim(-0.5, n_rows - 0.5)
    if not np.isfinite(data.to_numpy(dtype=float)).any():
        ax.set_ylim(0, 1)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if n_cols > 1:
        legend_outside(ax, keys, title=str(data.columns.name) if data.columns.name else None)
    return fig


def item_missing_chart(items: pd.DataFrame, *, ax: Any = None) -> Any:
    """Horizontal stacked bars: the share of records missing each item, by why (percent of records).

    ``items`` has ``missing_share`` (a share, 0-1) and optionally one column
    per reason (``dont_know_share``, ``refused_share``, ``not_applicable_share``,
    ``not_asked_share``, ``invalid_share``); each reason that occurs is drawn
    as its own segment, and the rest of the missing share as "blank" (as
    "blank or invalid" when the table has no ``invalid_share``)::

        blank = missing_share - sum(reason shares)

    The axis starts at 0% and runs to at least 1% (or past the largest
    share); when nothing is missing the chart says "no missing answers".  An
    item whose share is suppressed (NaN) is labelled "suppressed".

    Parameters
    ----------
    items:
        One row per item (the index labels the bars).
    ax:
        An Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    van Buuren S (2018). Flexible Imputation of Missing Data, 2nd ed. Chapman & Hall/CRC,
    Boca Raton (section 4.1: missing data patterns).
    docs/DESIGN.md, section "Privacy": figures are drawn from gated data; a suppressed
    value is marked, never drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> items = pd.DataFrame({"missing_share": [0.12, 0.02, float("nan")],
    ...                       "dont_know_share": [0.08, 0.0, float("nan")],
    ...                       "refused_share": [0.01, 0.0, float("nan")]}, index=["q1", "q2", "q3"])
    >>> fig = item_missing_chart(items)
    >>> ax = fig.axes[0]
    >>> [t.get_text() for t in ax.get_legend().get_texts()], [t.get_text() for t in ax.texts]
    (["don't know", 'refused', 'blank or invalid'], ['suppressed'])
    >>> plt.close(fig)
    """
    use_style()
    n = len(items)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, max(2.5, 0.18 * n + 1.3)))
    else:
        fig = ax.figure
    from matplotlib.ticker import FuncFormatter

    def share(col: str) -> np.ndarray:
        if col not in items.columns:
            return np.zeros(n)
        return pd.to_numeric(items[col], errors="coerce").fillna(0).to_numpy(float)

    total_raw = pd.to_numeric(items["missing_share"], errors="coerce").to_numpy(float)
    hidden = np.isnan(total_raw)
    total = np.where(hidden, 0.0, total_raw)
    parts = [(np.where(hidden, 0.0, share(f"{reason}_share")), label) for reason, label in MISSING_REASONS
             if f"{reason}_share" in items.columns and (share(f"{reason}_share") > 0).any()]
    known = sum((v for v, _ in parts), np.zeros(n))
    rest = "blank" if "invalid_share" in items.columns else "blank or invalid"
    parts.append((np.clip(total - known, 0, None), rest))
    y = np.arange(n)[::-1]
    left = np.zeros(n)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    anything = bool((total > 0).any())
    from matplotlib.patches import Patch

    keys = []
    for k, (vals, label) in enumerate(parts):
        look = dict(facecolor=colours[k], hatch=HATCHES[k], edgecolor="#333333")
        drawn = vals > 0
        ax.barh(y[drawn], vals[drawn] * 100, left=left[drawn] * 100, height=0.75, **look)
        keys.append(Patch(label=label, **look))
        left += vals
    for yy in y[hidden]:
        _mark_bar(ax, float(yy), horizontal=True)
    top = max(1.0, float(np.nanmax(total)) * 100 if n else 0.0)
    ax.set_xlim(0, top * 1.05)
    ax.set_ylim(-0.6, n - 0.4)
    ax.xaxis.set_major_formatter(FuncFormatter(_percent_tick))
    ax.set_yticks(y, [str(i) for i in items.index], fontsize=7 if n > 30 else 9)
    ax.set_xlabel("share of records missing the item")
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    if anything:
        legend_outside(ax, keys)
    elif not hidden.all():
        ax.text(0.5, 0.5, "no missing answers", transform=ax.transAxes, ha="center", va="center", fontsize=11,
                color="#333333", bbox=dict(facecolor="white", edgecolor="none", pad=3))
    return fig


def dot_interval(table: pd.DataFrame, *, estimate: str = "estimate", low: str = "ci_low", high: str = "ci_high",
                 xlabel: str = "", missing_label: str = SUPPRESSED, ax: Any = None,
                 missing_labels: Any = None, ref: float | None = None, log: bool = False,
                 groups: Any = None) -> Any:
    """Dots with interval whiskers, one row per group (forest-style); returns the Figure.

    A row whose estimate is NaN (suppressed by the gate) keeps its place,
    which reads ``missing_label`` (or its entry of ``missing_labels``, one
    text per row).  ``ref`` draws a dashed reference line (0 for
    differences, 1 for ratios); ``log=True`` draws the axis on a log scale
    (ratios) with ticks that read as plain numbers (0.5, 1, 2).  ``groups``
    (one name per row, rows of a group together, ``""`` for none) puts a bold
    heading above each group's rows, as a forest plot of push, pull and
    protective factors has.

    Parameters
    ----------
    table:
        One row per group (the index labels the rows, top to bottom).
    estimate, low, high:
        Columns of the estimate and its interval.
    xlabel:
        Axis label.
    missing_label, missing_labels:
        What an empty row reads (one text, or one per row).
    ref:
        Reference line.
    log:
        Log axis (rows with non-positive values are not drawn).
    ax:
        An Axes to draw on (default: a new figure).
    groups:
        Group headings, one name per row.

    Returns
    -------
    matplotlib.figure.Figure

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
    >>> t = pd.DataFrame({"estimate": [0.41, float("nan"), 0.22], "ci_low": [0.35, None, 0.13],
    ...                   "ci_high": [0.47, None, 0.33]}, index=["Kazakhstan", "Tunisia", "Uganda"])
    >>> fig = dot_interval(t, xlabel="share agreeing", ref=0.5)
    >>> ax = fig.axes[0]
    >>> [label.get_text() for label in ax.get_yticklabels()], [a.get_text() for a in ax.texts]
    (['Kazakhstan', 'Tunisia', 'Uganda'], ['suppressed'])
    >>> plt.close(fig)
    >>> fig = dot_interval(t, groups=["Central Asia", "North Africa", "East Africa"])
    >>> [a.get_text() for a in fig.axes[0].texts if a.get_text() != "suppressed"]
    ['Central Asia', 'North Africa', 'East Africa']
    >>> plt.close(fig)
    """
    use_style()
    n = len(table)
    names = [str(i) for i in table.index]
    if groups is not None:
        groups = ["" if g is None else str(g) for g in groups]
        if len(groups) != n:
            raise InputError(f"dot_interval: groups= names {len(groups)} group(s) for {n} row(s); give one per row")
        starts = [g for i, g in enumerate(groups) if i == 0 or g != groups[i - 1]]
        split = sorted({g for g in starts if starts.count(g) > 1})
        if split:
            raise InputError(f"dot_interval: the rows of group(s) {split} are not together; order the table so "
                             "that each group's rows follow one another (each group gets one heading)")
    slots: list[tuple[str, Any]] = []  # top to bottom: ("head", name) or ("row", position in table)
    previous = None
    for i in range(n):
        group = "" if groups is None else groups[i]
        if group and group != previous:
            slots.append(("head", group))
        slots.append(("row", i))
        previous = group
    if groups is not None:
        names = [("   " if str(g) else "") + name for name, g in zip(names, list(groups))]
    m = len(slots)
    if ax is None:
        longest = max((len(x) for x in names), default=10)
        fig, ax = plt.subplots(figsize=(min(11.0, 5.5 + 0.06 * longest), max(2.5, 0.32 * m + 1.2)))
    else:
        fig = ax.figure
    place = np.arange(m)[::-1]
    y = np.array([place[k] for k, (kind, _) in enumerate(slots) if kind == "row"], dtype=float)
    heads = [(float(place[k]), name) for k, (kind, name) in enumerate(slots) if kind == "head"]
    est = pd.to_numeric(table[estimate], errors="coerce").to_numpy(float)
    lo = pd.to_numeric(table[low], errors="coerce").to_numpy(float)
    hi = pd.to_numeric(table[high], errors="coerce").to_numpy(float)
    ok = ~np.isnan(est)
    if log:
        ok &= est > 0
    whisk = ok & ~np.isnan(lo) & ~np.isnan(hi)
    if log:
        whisk &= (lo > 0) & (hi > 0)
    if ref is not None:
        ax.axvline(ref, color="#777777", linestyle="--", linewidth=1, zorder=0)
    ax.hlines(y[whisk], lo[whisk], hi[whisk], color="#333333", linewidth=1.5)
    ax.plot(est[ok], y[ok], "o", color="#0072B2")
    texts = list(missing_labels) if missing_labels is not None else [missing_label] * n
    if log:  # ratios: a log axis whose ticks read as plain numbers (0.5, 1, 2), not powers of ten
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

        ax.set_xscale("log")
        ax.autoscale_view()
        left, right = ax.get_xlim()
        nice = [v * 10.0 ** e for e in range(-3, 4) for v in (1, 1.5, 2, 3, 5, 7)]
        ticks = [v for v in nice if left <= v <= right]
        while len(ticks) > 8:
            ticks = sorted(set(ticks[::2]) | ({1.0} & set(ticks)))
        ax.xaxis.set_major_locator(FixedLocator(ticks or [1.0]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p=None: f"{round(v, 6):g}"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
    if log:  # a ratio of 0 or below, or an interval reaching it, has no place on a log axis: say so
        off_scale = ~np.isnan(est) & (est <= 0)
        texts = [NOT_ON_LOG if bad else text for bad, text in zip(off_scale, texts)]
        for yy, xx in zip(y[ok & ~whisk], est[ok & ~whisk]):
            ax.annotate("interval not drawn: it reaches 0", (xx, yy), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=7.5, color=_NOTE_GREY, style="italic")
    for yy, text in zip(y[~ok], np.asarray(texts, dtype=object)[~ok]):
        _mark_bar(ax, float(yy), str(text), horizontal=True)
    ax.set_yticks(y, names)
    for yy, name in heads:
        ax.annotate(name, (0.0, yy), xycoords=("axes fraction", "data"), xytext=(-4, 0),
                    textcoords="offset points", ha="right", va="center", fontweight="bold", fontsize=9)
    ax.set_ylim(-0.6, m - 0.4)
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    if xlabel:
        ax.set_xlabel(xlabel)
    return fig


def forest(table: pd.DataFrame, *, estimate: str = "estimate", low: str = "ci_low", high: str = "ci_high",
           ratio: bool = False, xlabel: str = "", suppressed: Any = None, ax: Any = None) -> Any:
    """Forest plot of a (gated) table of model estimates: a dot and its interval per row; returns the Figure.

    Rows are terms (the index gives their readable labels, top to bottom as
    in the table).  The reference line is at 1 on a log axis for ratios
    (``ratio=True``: odds or hazard ratios), else at 0.  A row without an
    estimate keeps its place and reads "suppressed" when ``suppressed``
    (one bool per row, the gate's mask) says the gate hid it, else "not
    estimated".  Only the values in ``table`` are drawn, so a table gated by
    :meth:`veplab.report.Report.model_table` gives a figure showing exactly
    the published numbers.

    Parameters
    ----------
    table:
        One row per term.
    estimate, low, high:
        Columns of the estimate and its interval.
    ratio:
        Odds or hazard ratios: log axis, reference line at 1.
    xlabel:
        Axis label.
    suppressed:
        The gate's mask, one bool per row.
    ax:
        An Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Lewis S, Clarke M (2001). Forest plots: trying to see the wood and the trees. BMJ 322,
    1479-1480.
    docs/DESIGN.md, section "Privacy": figures are drawn from gated data; a suppressed
    value is marked, never drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> t = pd.DataFrame({"estimate": [1.8, float("nan"), 0.7], "ci_low": [1.2, None, 0.5],
    ...                   "ci_high": [2.7, None, 0.98]}, index=["Grievance", "Peers", "Trust in staff"])
    >>> fig = forest(t, ratio=True, suppressed=[False, True, False], xlabel="odds ratio")
    >>> ax = fig.axes[0]
    >>> ax.get_xscale(), [a.get_text() for a in ax.texts], [x.get_text() for x in ax.get_xticklabels()]
    ('log', ['suppressed'], ['0.5', '0.7', '1', '1.5', '2'])
    >>> plt.close(fig)
    """
    hidden = np.zeros(len(table), dtype=bool) if suppressed is None else np.asarray(suppressed, dtype=bool)
    texts = [SUPPRESSED if h else NOT_ESTIMATED for h in hidden]
    return dot_interval(table, estimate=estimate, low=low, high=high, xlabel=xlabel, ax=ax,
                        missing_labels=texts, ref=1.0 if ratio else 0.0, log=ratio)


def heatmap(table: pd.DataFrame, *, xlabel: str = "", ylabel: str = "", mark: str = MARK, ax: Any = None) -> Any:
    """Grey heatmap of a (gated) count table; returns the Figure.

    Each cell shows its count; a suppressed cell (NaN) is hatched and
    marked ``mark`` (‡), and a note above the chart says what the mark means,
    so a suppressed cell never reads as an empty (zero) one.  The grey scale
    runs from 0 to the largest shown count; the axis labels default to the
    table's index and column names.

    Parameters
    ----------
    table:
        A gated count table (NaN where suppressed).
    xlabel, ylabel:
        Axis labels (default: ``table.columns.name``, ``table.index.name``).
    mark:
        The suppression mark.
    ax:
        An Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Wilkinson L, Friendly M (2009). The history of the cluster heat map. The American
    Statistician 63(2), 179-184.
    docs/DESIGN.md, section "Privacy": figures are drawn from gated data; a suppressed
    value is marked, never drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> t = pd.DataFrame({"Man": [40, 12], "Woman": [float("nan"), 25]}, index=pd.Index(["KZ", "UG"], name="country"))
    >>> t.columns.name = "gender"
    >>> fig = heatmap(t)
    >>> ax = fig.axes[0]
    >>> [a.get_text() for a in ax.texts], ax.get_xlabel(), ax.get_ylabel()
    (['40', '‡', '12', '25', '‡ suppressed'], 'gender', 'country')
    >>> plt.close(fig)
    """
    use_style()
    from matplotlib.patches import Rectangle

    data = table.apply(pd.to_numeric, errors="coerce")
    values = data.to_numpy(dtype=float)
    if ax is None:
        size = 1.2 + 0.7 * max(values.shape)
        fig, ax = plt.subplots(figsize=(size + 1.2, size))
    else:
        fig = ax.figure
    hidden = np.isnan(values)
    shown = np.where(hidden, 0.0, values)
    top = shown.max() if shown.size and shown.max() > 0 else 1.0
    ax.imshow(np.ma.masked_array(shown, hidden), cmap="Greys", vmin=0, vmax=top)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            if hidden[i, j]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white", edgecolor="#999999",
                                       hatch="///", linewidth=0))
                ax.text(j, i, mark, ha="center", va="center", color="black", fontsize=12,
                        bbox=dict(facecolor="white", edgecolor="none", pad=1.5))
                continue
            text = f"{int(v)}" if float(v).is_integer() else f"{v:.2f}"
            ax.text(j, i, text, ha="center", va="center", color="white" if shown[i, j] > 0.55 * top else "black",
                    fontweight="bold" if i == j else "normal")
    if hidden.any():
        ax.text(1.0, 1.02, f"{mark} {SUPPRESSED}", transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                color=_NOTE_GREY)
    ax.set_xticks(range(values.shape[1]), [str(c) for c in data.columns])
    ax.set_yticks(range(values.shape[0]), [str(i) for i in data.index])
    ax.grid(False)
    ax.set_xlabel(xlabel or (str(data.columns.name) if data.columns.name else ""))
    ax.set_ylabel(ylabel or (str(data.index.name) if data.index.name else ""))
    return fig
