"""Charts tell the truth and read well (issue 16).

* a suppressed cell (NaN from the disclosure gate) is labelled where its bar,
  point or cell would be, never left as blank space;
* legends never sit on data (checked with the renderer's window extents);
* the missingness chart's axis starts at 0% and says so when nothing is missing;
* Kaplan-Meier censoring marks are thin short ticks;
* the latent-class profile chart draws exactly ``profile_table()`` under an
  axis that names what it shows.

The ROC polygon's area is tested in test_validity_prediction.py.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from veplab.plots.charts import dot_interval, grouped_bars, heatmap, item_missing_chart  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _extents(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _bars(ax):
    """The drawn data rectangles (not the axes background, not legend keys)."""
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() != 0 and p.get_height() != 0]


def _legend_clear_of(ax, artists, legend=None):
    """No drawn artist's window extent (a scatter's: its points) overlaps the legend's."""
    from matplotlib.collections import PathCollection

    r = _extents(ax.figure)
    box = (legend or ax.get_legend()).get_window_extent(r)
    for a in artists:
        if isinstance(a, PathCollection):  # scatter: each marker (the collection's extent is in data units)
            pts = a.get_offset_transform().transform(a.get_offsets())
            rad = np.sqrt(np.max(a.get_sizes())) / 2 * ax.figure.dpi / 72
            if any(box.x0 - rad < x < box.x1 + rad and box.y0 - rad < y < box.y1 + rad for x, y in pts):
                return False
        elif box.overlaps(a.get_window_extent(r)):
            return False
    return True


def _texts(ax, word):
    return [t for t in ax.texts if word in t.get_text()]


# ----------------------------------------------------------------- grouped bars
def test_grouped_bars_legend_is_off_the_bars_and_suppressed_cells_say_so():
    full = pd.DataFrame({"Man": [353, 367, 363], "Woman": [340, 362, 350]}, index=["A", "B", "C"])
    full.columns.name = "Gender"
    ax = grouped_bars(full, ylabel="records").axes[0]
    assert ax.get_legend() is not None and _legend_clear_of(ax, _bars(ax))  # sat on the tall bars before
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Man", "Woman"]
    assert ax.get_legend().get_title().get_text() == "Gender"
    t = full.astype(float)
    t.iloc[2, 0] = t.iloc[1, 1] = np.nan
    ax = grouped_bars(t, ylabel="records").axes[0]
    bars = _bars(ax)
    assert len(bars) == 4 and _legend_clear_of(ax, bars)  # the two suppressed cells are not drawn ...
    marks = _texts(ax, "suppressed")  # ... and their places say so
    width = 0.8 / 2
    assert sorted(m.xy[0] for m in marks) == pytest.approx([1 + width / 2, 2 - width / 2])


def test_grouped_bars_all_suppressed_series_keeps_its_own_legend_key():
    t = pd.DataFrame({"agree": [20.0, 30.0], "not": [np.nan, np.nan]}, index=["x", "y"])
    ax = grouped_bars(t).axes[0]
    keys = ax.get_legend().get_patches()
    assert keys[0].get_facecolor() != keys[1].get_facecolor() and keys[1].get_hatch() == "///"
    assert len(_texts(ax, "suppressed")) == 2


# ----------------------------------------------------------------- missingness
def test_missing_chart_with_nothing_missing_starts_at_zero_and_says_so():
    items = pd.DataFrame({"missing_share": [0.0, 0.0, 0.0], "dont_know_share": [0.0, 0.0, 0.0]},
                         index=["q1", "q2", "q3"])
    ax = item_missing_chart(items).axes[0]
    lo, hi = ax.get_xlim()
    assert lo == 0 and hi >= 1  # was -0.04 to 0.04 (%)
    assert len(_texts(ax, "no missing answers")) == 1
    assert not _bars(ax) and ax.get_legend() is None
    _extents(ax.figure)
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels[0] == "0%" and all(lab.endswith("%") for lab in labels)


def test_missing_chart_draws_percent_of_records_from_zero():
    items = pd.DataFrame({"missing_share": [0.0, 0.021, 0.033, np.nan],
                          "dont_know_share": [0.0, 0.021, 0.02, np.nan],
                          "refused_share": [0.0, 0.0, 0.01, np.nan]}, index=["q1", "q2", "q3", "q4"])
    ax = item_missing_chart(items).axes[0]
    bars = _bars(ax)
    # q3: 2% don't know, 1% refused, 0.3% blank, stacked from 0
    q3 = sorted((b.get_x(), b.get_width()) for b in bars if b.get_y() < 1 < b.get_y() + b.get_height())
    np.testing.assert_allclose(q3, [(0, 2.0), (2.0, 1.0), (3.0, 0.3)], atol=1e-12)
    lo, hi = ax.get_xlim()
    assert lo == 0 and hi >= 3.3
    assert len(_texts(ax, "no missing answers")) == 0 and len(_texts(ax, "suppressed")) == 1  # q4
    assert _legend_clear_of(ax, bars)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["don't know", "refused", "blank or invalid"]


def test_missing_chart_draws_each_reason_that_occurs():
    """Not applicable (after a skip) and not asked are their own segments, not lumped into blank."""
    items = pd.DataFrame({"missing_share": [0.30, 0.05], "dont_know_share": [0.0, 0.02], "refused_share": [0.0, 0.0],
                          "not_applicable_share": [0.25, 0.0], "not_asked_share": [0.0, 0.0],
                          "invalid_share": [0.0, 0.0]}, index=["q1", "q2"])
    ax = item_missing_chart(items).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["don't know", "not applicable", "blank"]
    q1 = sorted((b.get_x(), b.get_width()) for b in _bars(ax) if b.get_y() < 1 < b.get_y() + b.get_height())
    np.testing.assert_allclose(q1, [(0, 25.0), (25.0, 5.0)], atol=1e-12)


# ----------------------------------------------------------------- heatmap, dots
def test_heatmap_marks_a_suppressed_cell_and_notes_the_mark():
    t = pd.DataFrame([[85, np.nan], [0, 82]], index=["Low", "High"], columns=["Low", "High"])
    ax = heatmap(t).axes[0]
    marks = [x for x in ax.texts if x.get_text() == "‡"]
    assert len(marks) == 1 and marks[0].get_position() == (1, 0)  # row 0, column 1
    assert [x.get_position() for x in ax.texts if x.get_text() == "0"] == [(0, 1)]  # a zero stays a zero
    assert len(_texts(ax, "‡ suppressed")) == 1
    assert [p for p in ax.patches if p.get_hatch()]  # the suppressed cell is hatched, not blank


def test_dot_interval_labels_a_suppressed_row():
    t = pd.DataFrame({"estimate": [0.7, np.nan, 0.4], "ci_low": [0.6, np.nan, 0.3], "ci_high": [0.8, np.nan, 0.5]},
                     index=["a", "b", "c"])
    ax = dot_interval(t).axes[0]
    marks = _texts(ax, "suppressed")
    assert len(marks) == 1 and marks[0].xy[1] == 1  # row "b" is drawn at y = 1 (rows run top-down)
    assert ax.get_lines()[0].get_xdata().tolist() == [0.7, 0.4]


# ----------------------------------------------------------------- other legends
def test_package_chart_legends_do_not_cover_their_data():
    from veplab.outcomes import plot_love
    from veplab.reliability import plot_item_stats

    stats = pd.DataFrame({"r_drop": [0.9, 0.85, 0.8, 0.88], "alpha_if_deleted": [0.1, 0.15, 0.12, 0.2]},
                         index=["i1", "i2", "i3", "i4"])
    ax = plot_item_stats(stats, alpha=0.8)  # bars reach the lower left corner the legend sat in
    assert _legend_clear_of(ax, _bars(ax) + ax.get_lines())
    bal = pd.DataFrame({"covariate": ["a", "b", "c"], "smd_before": [0.1, 0.2, 1.0], "smd_after": [0.9, 0.95, 0.97]})
    ax = plot_love(bal)  # markers in the lower right corner the legend sat in
    assert _legend_clear_of(ax, ax.collections)


def test_brief_chart_legend_sits_above_the_bars(monkeypatch):
    from veplab.brief._charts import ChartData, Series, draw
    from veplab.brief._i18n import Translator

    kept = []
    monkeypatch.setattr(plt, "close", lambda fig=None: kept.append(fig))
    cd = ChartData("k", ["A", "B"], [Series("Man", [90.0, 80.0], [None] * 2, [None] * 2),
                                     Series("Woman", [85.0, 95.0], [None] * 2, [None] * 2)], [None, None], "count", 0)
    for lang in ("en", "ar"):
        draw(cd, Translator(lang))
        ax = kept[-1].axes[0]
        assert _legend_clear_of(ax, _bars(ax) + ax.texts)


# ----------------------------------------------------------------- Kaplan-Meier
def test_km_censoring_marks_are_thin_short_ticks():
    from veplab.outcomes import kaplan_meier, plot_km

    d = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5, 6, 7, 8, 9] * 3, "e": [1, 0, 1, 0, 0, 1, 0, 1, 0, 0] * 3,
                      "g": ["a"] * 15 + ["b"] * 15})
    fig = plot_km(kaplan_meier(d, "t", "e", group="g"), risk_table=False)
    ax = fig.axes[0]
    ticks = [ln for ln in ax.get_lines() if ln.get_marker() == "|"]
    assert len(ticks) == 2 and all(len(ln.get_xdata()) > 0 for ln in ticks)
    for ln in ticks:
        assert ln.get_linestyle() == "None"
        assert ln.get_markersize() <= 4 and ln.get_markeredgewidth() <= 0.8  # was 6 pt, as wide as the curve
        assert ln.get_markeredgewidth() < ax.get_lines()[0].get_linewidth()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


# ----------------------------------------------------------------- latent classes
@pytest.fixture(scope="module")
def lca():
    from veplab.latent_classes import latent_classes

    g = np.random.default_rng(3)
    z = g.integers(0, 2, 300)
    p = np.where(z[:, None] == 1, [0.1, 0.2, 0.7], [0.6, 0.3, 0.1])
    d = pd.DataFrame({f"i{j}": [g.choice(3, p=row) for row in p] for j in range(4)})
    return latent_classes(d, list(d.columns), range(2, 3), n_starts=4, seed=1)


def test_profile_chart_draws_the_profile_table_it_is_published_with(lca):
    from veplab.latent_classes import plot_profiles

    table = lca.profile_table()
    fig = plot_profiles(lca)
    assert fig._supxlabel.get_text().startswith("probability of each rating")
    panels = [ax for ax in fig.axes if ax.patches]
    assert len(panels) == lca.k
    items = list(dict.fromkeys(lca.profiles["item"]))
    for c, ax in zip(table.columns, panels):
        assert ax.get_title(loc="left").startswith(f"class {c} ")
        assert ax.get_xlim() == (0, 1)
        for cat, bars in zip([0, 1, 2], ax.containers):
            assert bars.get_label() == str(cat)
            drawn = [b.get_width() for b in bars]
            want = table.xs(cat, level="category")[c].reindex(items).fillna(0).to_numpy()
            np.testing.assert_allclose(drawn, want, atol=1e-15)
        ends = [b.get_x() + b.get_width() for b in ax.containers[-1]]
        np.testing.assert_allclose(ends, 1.0, atol=1e-9)  # each item's bar is its whole distribution


def test_profile_chart_of_one_rating_is_a_probability_on_a_0_to_1_axis(lca):
    from veplab.latent_classes import plot_profiles

    ax = plot_profiles(lca, category=2, category_labels={2: "high"})
    assert ax.get_ylabel() == "probability of rating high" and ax.get_ylim() == (0, 1)
    table = lca.profile_table(2)
    assert list(table.index) == ["i0", "i1", "i2", "i3"]
    for c, line in zip(table.columns, ax.get_lines()):
        np.testing.assert_allclose(line.get_ydata(), table[c].to_numpy(), atol=1e-15)
    assert _legend_clear_of(ax, ax.get_lines())
    from veplab._validate import InputError

    with pytest.raises(InputError, match="category 7 is not among"):
        plot_profiles(lca, category=7)


def test_profile_chart_names_classes_by_their_gated_sizes(lca):
    from veplab.latent_classes import plot_profiles
    from veplab.report import Report

    sizes = lca.class_sizes.set_index("class").rename(columns={"n_modal": "n"})[["n", "share"]]
    n = sizes["n"].astype(int).tolist()
    assert min(n) >= 10  # the fixture's classes are both publishable at the floor threshold
    big = Report(None, "t", threshold=10, display=False).table(sizes, "sizes", kind="stats", n="n")
    fig = plot_profiles(lca, class_sizes=big, labels={"a": "Item A"}, category_labels={1: "low", 2: "mid", 3: "high"})
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    shares = sizes["share"].tolist()
    assert titles == [f"class {c}\nn = {n[c - 1]:,} ({100 * shares[c - 1]:.0f}%)" for c in (1, 2)]
    # a threshold above the smaller class: the gate hides it, and the chart shows neither its size nor share
    strict = max(n) if max(n) > min(n) else min(n) + 1
    gated = Report(None, "t", threshold=strict, display=False).table(sizes, "sizes", kind="stats", n="n")
    assert gated["n"].isna().sum() >= 1
    fig = plot_profiles(lca, class_sizes=gated)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    for c, title in zip((1, 2), titles):
        if np.isnan(gated.loc[c, "n"]):
            assert title == f"class {c}\n(size suppressed)"
        else:
            assert title == f"class {c}\nn = {int(gated.loc[c, 'n']):,} ({100 * gated.loc[c, 'share']:.0f}%)"
    with pytest.raises(Exception, match="class_sizes= needs columns n and share"):
        plot_profiles(lca, class_sizes=sizes[["n"]])


def test_dot_interval_on_a_log_axis_says_what_it_cannot_draw():
    """A ratio of 0 is not 'suppressed', and a dot whose interval reaches 0 does not look precise."""
    t = pd.DataFrame({"estimate": [1.5, 0.8, 0.0, np.nan], "ci_low": [1.1, 0.0, 0.0, np.nan],
                      "ci_high": [2.0, 1.4, 0.5, np.nan]}, index=["a", "b", "c", "d"])
    fig = dot_interval(t, log=True, ref=1.0)
    texts = [x.get_text() for x in fig.axes[0].texts]
    assert "interval not drawn: it reaches 0" in texts
    assert "0 or below: not on the log scale" in texts and "suppressed" in texts
    assert texts.count("suppressed") == 1  # only the row the gate hid
    plt.close(fig)


def test_dot_interval_groups_one_per_row():
    from veplab._validate import InputError

    t = pd.DataFrame({"estimate": [0.1, 0.2], "ci_low": [0.0, 0.1], "ci_high": [0.2, 0.3]}, index=["a", "b"])
    with pytest.raises(InputError, match="one per row"):
        dot_interval(t, groups=["push"])
    t3 = pd.concat([t, t.rename(index={"a": "c", "b": "d"})])
    with pytest.raises(InputError, match=r"\['pull', 'push'\] are not together"):
        dot_interval(t3, groups=["push", "pull", "push", "pull"])
    fig = dot_interval(t3, groups=["push", "push", "", "pull"])  # together: one heading each
    assert sorted(x.get_text() for x in fig.axes[0].texts) == ["pull", "push"]
    plt.close(fig)
