"""Brief charts: one idea per chart, labelled in the brief's language, readable in greyscale.

Charts are drawn with matplotlib from the numbers in ``results.json`` (never
from data) and embedded as PNG data URIs.  Suppressed cells are not drawn; the
bar's place says "not shown".  Arabic labels are shaped by matplotlib's text
engine (libraqm, bundled with matplotlib >= 3.10) and the category order runs
right to left in right-to-left briefs.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from ._i18n import BriefError, Translator
from ._select import Grid, is_total, resolve

FILL = ["#4d4d4d", "#b3b3b3", "#ffffff", "#808080", "#e0e0e0"]
HATCH = ["", "///", "...", "xxx", "\\\\\\"]


@dataclasses.dataclass
class Series:
    name: str
    values: list[float | None]
    lows: list[float | None]
    highs: list[float | None]
    masked: list[bool] = dataclasses.field(default_factory=list)  # withheld by the disclosure gate

    def __post_init__(self) -> None:
        if not self.masked:
            self.masked = [False] * len(self.values)


@dataclasses.dataclass
class ChartData:
    key: str
    labels: list[str]
    series: list[Series]
    ns: list[float | None]
    fmt: str
    n_suppressed: int


def chart_data(results: Mapping[str, Any], spec: Mapping[str, Any], where: str) -> ChartData:
    """The numbers a ``charts:`` entry draws (suppressed cells as None)."""
    payload = resolve(results, spec.get("key"), where, want=("tables", "figures"))
    key = str(spec["key"])  # resolve() checked it is a notebook.group.key name
    grid = Grid.of(payload, key)
    # rows: {column: value} filter of a tidy table, an explicit list of index labels, or all but totals
    if spec.get("where") is not None:
        if not isinstance(spec["where"], Mapping):
            raise BriefError(f"{where}: where: must be a mapping {{column: value}}")
        rows = grid.rows_where(spec["where"], where)
        label_col = grid.col(str(spec.get("label_column", "group")), where)
        labels = ["\u2014" if grid.suppressed[i][label_col] else str(grid.data[i][label_col]) for i in rows]
    elif spec.get("rows") is not None:
        rows = [grid.row_of(r, where) for r in _list(spec["rows"], f"{where}.rows")]
        labels = [grid.index[i] for i in rows]
    else:
        rows = [i for i, lab in enumerate(grid.index) if not is_total(lab)]
        labels = [grid.index[i] for i in rows]
    if not rows:
        raise BriefError(f"{where}: no rows of {key!r} selected; rows: {grid.index}")
    n_sup = 0

    def cells(j: int) -> list[float | None]:
        return [grid.cell(i, j) for i in rows]

    columns = spec.get("columns")
    value_col = spec.get("column")
    if columns is None and value_col is None:
        value_col = grid.value_column(where)
        if value_col is None:  # a wide table of counts: each column is a series
            columns = [c for c in grid.columns if not is_total(c)]
    series: list[Series] = []
    if columns is not None:
        columns = _list(columns, f"{where}.columns")
        if not columns:
            raise BriefError(f"{where}.columns: name at least one column of {key!r}: {grid.columns}")
        for c in columns:
            j = grid.col(str(c), where)
            vals = cells(j)
            n_sup += sum(grid.suppressed[i][j] for i in rows)
            series.append(Series(str(c), vals, [None] * len(rows), [None] * len(rows),
                                 [bool(grid.suppressed[i][j]) for i in rows]))
        ns: list[float | None] = [None] * len(rows)
        fmt = spec.get("format") or ("count" if grid.table_kind in ("counts", "figure") else "number")
    else:
        j = grid.col(str(value_col), where)
        ci = spec.get("ci", "auto")
        if ci == "auto":
            ci = grid.ci_columns(str(value_col))
        elif ci is not None and ci is not False and (isinstance(ci, (str, bytes)) or not isinstance(ci, Sequence)
                                                     or len(ci) != 2):
            raise BriefError(f"{where}.ci: expected [low column, high column] (or false for none), got {ci!r}")
        lo: list[float | None] = [None] * len(rows)
        hi: list[float | None] = [None] * len(rows)
        if ci:
            lo, hi = cells(grid.col(str(ci[0]), where)), cells(grid.col(str(ci[1]), where))
        ncol = spec.get("n", "auto")
        if ncol == "auto":
            ncol = grid.n_column()
        ns = cells(grid.col(str(ncol), where)) if ncol else [None] * len(rows)
        vals = cells(j)
        n_sup += sum(grid.suppressed[i][j] for i in rows)
        series.append(Series(str(value_col), vals, lo, hi, [bool(grid.suppressed[i][j]) for i in rows]))
        fmt = spec.get("format") or ("count" if grid.table_kind == "counts" else "number")
    if fmt not in ("share", "count", "number"):
        raise BriefError(f"{where}: format must be share, count or number, got {fmt!r}")
    return ChartData(key, labels, series, ns, fmt, n_sup)


def _list(value: Any, where: str) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise BriefError(f"{where}: expected a list, got {value!r}")
    return list(value)


def fmt_value(x: float, fmt: str, tr: Translator, digits: int = 2, pct_digits: int | None = None) -> str:
    """``x`` as a share (percent; ``pct_digits`` decimals, default automatic), a count or a number."""
    if fmt == "share":
        return tr.percent(x, pct_digits)
    if fmt == "count":
        return tr.integer(x)
    return tr.number(x, digits)


def draw(cd: ChartData, tr: Translator, *, axis: str = "", limits: Sequence[float] | None = None,
         style: str | None = None, digits: int = 2, width: float = 3.5, height: float = 2.3) -> tuple[str, str]:
    """PNG data URI of the chart and its alt text (every drawn number spelled out)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from ..plots.style import use_style

    use_style()
    rtl = tr.direction == "rtl"
    style = style or ("dots" if cd.fmt == "number" and len(cd.series) == 1 else "bars")
    labels = [tr.label(lab) for lab in cd.labels]
    ticks = []
    room = max(6, int(44 * width / 3.5 / max(len(labels), 1)))  # characters per tick label line
    for lab, n in zip(labels, cd.ns):
        lab = "\n".join(textwrap.wrap(lab, room, break_long_words=False)) or lab
        ticks.append(lab if n is None else f"{lab}\n{tr.t('n_equals', n=tr.integer(n))}")
    with plt.rc_context({"font.family": tr.fonts, "axes.titlesize": 10, "xtick.labelsize": 8,
                         "ytick.labelsize": 8, "axes.labelsize": 8, "legend.fontsize": 8,
                         "savefig.bbox": "tight", "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(width, height))
        k = len(cd.labels)
        m = len(cd.series)
        width_bar = 0.7 / m
        tops: list[float] = []
        bottoms: list[float] = [] if style == "dots" else [0.0]
        for s_i, s in enumerate(cd.series):
            for i, v in enumerate(s.values):
                x = i + (s_i - (m - 1) / 2) * width_bar
                if v is None:  # withheld (masked) or not estimated: nothing is drawn, the place says so
                    ax.text(x, 0.03, tr.t("suppressed_bar") if s.masked[i] else "\u2014", rotation=90,
                            ha="center", va="bottom", fontsize=7, color="#555555", transform=ax.get_xaxis_transform())
                    continue
                lo, hi = s.lows[i], s.highs[i]
                if style == "dots":
                    ax.plot([x], [v], marker="o", color="#1a1a1a", markersize=6, zorder=3)
                else:
                    ax.bar([x], [v], width=width_bar * 0.9, color=FILL[s_i % len(FILL)],
                           hatch=HATCH[s_i % len(HATCH)], edgecolor="#1a1a1a", linewidth=0.7,
                           label=tr.label(s.name) if i == next(
                               (q for q, w in enumerate(s.values) if w is not None), -1) else None, zorder=2)
                if lo is not None and hi is not None:
                    ax.plot([x, x], [lo, hi], color="#000000", linewidth=1.2, zorder=4)
                    ax.plot([x - 0.06, x + 0.06], [lo, lo], color="#000000", linewidth=1.2, zorder=4)
                    ax.plot([x - 0.06, x + 0.06], [hi, hi], color="#000000", linewidth=1.2, zorder=4)
                top = hi if hi is not None else v
                tops.append(top)
                bottoms.append(lo if lo is not None else v)
                ax.annotate(fmt_value(v, cd.fmt, tr, digits), (x, top), xytext=(0, 3), textcoords="offset points",
                            ha="center", va="bottom", fontsize=7.5 if m > 1 else 8, color="#000000")
        ax.set_xticks(range(k), ticks)
        ax.set_xlim(-0.6, k - 0.4)
        if limits is not None:
            ax.set_ylim(float(limits[0]), float(limits[1]))
        else:
            hi_v = max(tops) if tops else 1.0
            lo_v = min(bottoms) if bottoms else 0.0
            if style == "dots":
                span = (hi_v - lo_v) or abs(hi_v) or 1.0
                ax.set_ylim(lo_v - 0.15 * span, hi_v + 0.25 * span)
            else:
                ax.set_ylim(min(0.0, lo_v), hi_v * 1.18 if hi_v > 0 else 1.0)
        if cd.fmt == "share":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: tr.percent(y, 0)))
        elif cd.fmt == "count":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: tr.integer(y) if y == int(y) else ""))
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: tr.number(y, 1)))
        if axis:  # short axis titles only; the brief prints long ones above the chart
            ax.set_ylabel(axis)
        ax.grid(axis="x", visible=False)
        if m > 1:  # above the plot, where it cannot cover a bar or its value
            ax.legend(loc="lower left" if not rtl else "lower right", bbox_to_anchor=(0.0 if not rtl else 1.0, 1.02),
                      ncols=min(m, 3), borderaxespad=0.0, frameon=False)
        if rtl:
            ax.invert_xaxis()
            ax.yaxis.tick_right()
            ax.yaxis.set_label_position("right")
            ax.spines["right"].set_visible(True)
            ax.spines["left"].set_visible(False)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200, metadata={"Software": None})
        plt.close(fig)
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    parts = []
    for s in cd.series:
        prefix = (tr.label(s.name) + ": ") if len(cd.series) > 1 else ""
        items = []
        for lab, v, n, masked in zip(labels, s.values, cd.ns, s.masked):
            shown = (fmt_value(v, cd.fmt, tr, digits) if v is not None
                     else tr.t("suppressed_bar") if masked else "\u2014")
            items.append(f"{lab} {shown}" + ("" if n is None else f" ({tr.t('n_equals', n=tr.integer(n))})"))
        parts.append(prefix + "; ".join(items))
    return uri, " | ".join(parts)
