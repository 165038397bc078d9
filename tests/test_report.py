"""veplab.report: the publishing gate used by notebooks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from veplab.report import DisclosureError, Report


def rep(threshold: int = 10) -> Report:
    return Report(None, "t", threshold=threshold, display=False)


def test_counts_are_suppressed_with_secondary_cells():
    r = rep()
    t = pd.DataFrame({"men": [40, 3, 25], "women": [12, 15, 30]}, index=["KZ", "TN", "UG"])
    gated = r.table(t, "counts")
    payload = r.results["tables"]["counts"]
    assert payload["data"][1][0] is None and payload["suppressed"][1][0]
    assert sum(map(sum, payload["suppressed"])) >= 4  # a lone hidden cell would be recoverable from totals
    assert np.isnan(gated.loc["TN", "men"])
    for row, sup in zip(payload["data"], payload["suppressed"]):
        assert all(s or v is None or v == 0 or v >= 10 for v, s in zip(row, sup))


def test_stats_hidden_below_threshold():
    r = rep()
    t = pd.DataFrame({"n": [120, 7, 60], "mean": [3.1, 4.2, 2.9]}, index=["a", "b", "c"])
    r.table(t, "means", kind="stats", n="n")
    sup = r.results["tables"]["means"]["suppressed"]
    assert sup[1] == [True, True]


def test_threshold_floor_and_row_level_refusal():
    with pytest.raises(DisclosureError):
        rep(threshold=2)
    r = Report(None, "t", threshold=10, n_records=50, display=False)
    with pytest.raises(DisclosureError, match="row-level"):
        r.table(pd.DataFrame({"x": range(60)}), "rows", kind="model")


def test_magnitude_table_dominance():
    rng = np.random.default_rng(1)
    rows = []
    for prison in ("P1", "P2", "P3"):
        for workshop in ("furniture", "tailoring"):
            for _ in range(15):
                rows.append({"prison": prison, "workshop": workshop, "earned": rng.uniform(10, 20)})
    rows.append({"prison": "P1", "workshop": "furniture", "earned": 5000.0})  # one dominant earner
    r = rep()
    gated = r.magnitude_table(pd.DataFrame(rows), "earned", "prison", "workshop", "earnings")
    assert np.isnan(gated.loc["P1", "furniture"])
    assert int(np.isnan(gated.to_numpy()).sum()) >= 2  # secondary suppression against the margins
    assert r.results["tables"]["earnings"]["table_kind"] == "magnitude"


def test_value_records_its_confidence_level():
    r = Report(None, "t", threshold=10, display=True)
    shown: list[str] = []
    from veplab.report.render import render_payload

    r._emit = lambda payload: shown.append(render_payload(payload, threshold=10))  # what the page would show
    r.value("rate", 0.25, n=1500, ci=(0.22, 0.28), ci_level=0.9)
    r.value("plain", 0.5, n=40, ci=(0.4, 0.6))
    r.value("no_ci", 3.2, n=40)
    vals = r.results["values"]
    assert vals["rate"]["ci_level"] == 0.9 and vals["plain"]["ci_level"] == 0.95 and vals["no_ci"]["ci_level"] is None
    assert "25.0% (90% CI 22.0%–28.0%)" in shown[0] and "0.500 (95% CI 0.400–0.600)" in shown[1]
    with pytest.raises(ValueError, match="ci_level must be a number between 0 and 1"):
        r.value("bad", 0.5, n=40, ci=(0.4, 0.6), ci_level=95)


def test_suppressed_value_does_not_publish_its_small_n():
    r = rep()
    assert r.value("tiny", 0.5, n=4, ci=(0.1, 0.9)) is None
    payload = r.results["values"]["tiny"]
    assert payload["suppressed"] and payload["value"] is None and payload["n"] is None and payload["ci"] is None


def test_stats_rows_hide_every_column_and_other_small_counts():
    r = rep()
    t = pd.DataFrame({"n": [120, 4, 60, 90], "mean_sd": ["3.1 (0.5)", "4.8 (0.2)", "2.9 (0.7)", "3.0 (0.6)"],
                      "n_events": [30, 2, 5, 20], "auc": [0.7, 0.9, 0.6, 0.65]},
                     index=["men", "women", "young", "old"])
    r.table(t, "perf", kind="stats", n="n")
    payload = r.results["tables"]["perf"]
    hidden = {lab for lab, row in zip(payload["index"], payload["suppressed"]) if all(row)}
    # women (n = 4) and young (5 events) are primary; their formatted text is hidden too
    assert {"women", "young"} <= hidden
    assert all(v is None for v in payload["data"][1]) and "4.8 (0.2)" not in str(payload["data"])


def test_stacked_grouping_variables_get_secondary_suppression_per_block():
    from veplab.privacy import suppress_stats

    idx = pd.MultiIndex.from_tuples([("gender", "men"), ("gender", "women"), ("country", "KZ"),
                                     ("country", "TN"), ("country", "UG")])
    t = pd.DataFrame({"n": [200, 6, 4, 126, 76], "events": [40, 3, 1, 23, 19]}, index=idx)
    g = suppress_stats(t, "n", threshold=10)
    hidden = {x for x in t.index if g.mask.loc[x].all()}
    # each block alone adds up to the known total: a lone hidden row in a block would be recoverable
    assert {("gender", "women"), ("gender", "men")} <= hidden
    assert ("country", "KZ") in hidden and len([x for x in hidden if x[0] == "country"]) >= 2


def test_two_small_hidden_groups_are_padded_to_the_threshold():
    from veplab.privacy import suppress_stats

    t = pd.DataFrame({"n": [3, 4, 50, 80], "mean": [4.9, 4.7, 3.0, 2.8]}, index=["w", "j", "a", "b"])
    g = suppress_stats(t, "n", threshold=10)
    hidden = [x for x in t.index if g.mask.loc[x].all()]
    assert set(hidden) == {"w", "j", "a"} and t.loc[hidden, "n"].sum() >= 10


def test_model_tables_and_figure_data_hide_small_counts():
    r = rep()
    hr = pd.DataFrame({"hr": [0.62, 0.4], "n": [1500, 3], "events": [360, 2], "n_dropped": [4, 0]},
                      index=["adjusted", "tiny stratum"])
    r.table(hr, "hr", kind="model")
    payload = r.results["tables"]["hr"]
    assert payload["data"][1] == [None, None, None, None]  # rests on 3 people
    assert payload["data"][0][:3] == [0.62, 1500, 360] and payload["data"][0][3] is None  # 4 dropped: the cell
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    r.figure(fig, "bars", data=pd.DataFrame({"n": [120, 3], "mean": [2.9, 4.9]}, index=["a", "b"]))
    assert r.results["figures"]["bars"]["data"]["values"] == [[120, 2.9], [None, None]]
    with pytest.raises(ValueError, match="kind must be 'stat' or 'count'"):
        r.value("n_women", 4, kind="counts")


def test_flattened_group_labels_are_blocks_too():
    from veplab.privacy import suppress_stats

    t = pd.DataFrame({"n": [200, 6, 4, 126, 76]},
                     index=["gender / men", "gender / women", "country / KZ", "country / TN", "country / UG"])
    g = suppress_stats(t, "n", threshold=10)
    hidden = {x for x in t.index if g.mask.loc[x].all()}
    assert {"gender / men", "gender / women", "country / KZ"} <= hidden
    assert len([x for x in hidden if x.startswith("country")]) >= 2


def test_counts_that_are_not_people_are_not_suppressed():
    """Straight-lining: 3 of 341 -- the denominator stays, the 3 is hidden; optimiser starts are not people."""
    from veplab.release import verify

    r = rep()
    sl = pd.DataFrame({"n_eligible": [341, 400], "n_straightliners": [3, 25]}, index=["all items", "scale A"])
    g = r.table(sl, "straightlining", kind="stats", n="n_eligible")
    assert g.loc["all items", "n_eligible"] == 341 and np.isnan(g.loc["all items", "n_straightliners"])
    assert g.loc["scale A", "n_eligible"] == 400  # its count may be hidden too (secondary protection)
    fit = pd.DataFrame({"n": [500, 500], "bic": [10.5, 9.8], "n_best": [1, 12], "n_starts": [20, 20]},
                       index=pd.Index([1, 2], name="classes"))
    g = r.table(fit, "lca_fit", kind="model", n="n", not_people=["n_best", "n_starts"])
    assert g["n_best"].tolist() == [1, 12]
    payload = r.results["tables"]["lca_fit"]
    assert payload["not_people"] == ["n_best", "n_starts"] and verify(payload, 10)[0] == "ok"
    forged = {**payload, "not_people": []}  # the build's second check sees the small count
    assert verify(forged, 10)[0] != "ok"
    with pytest.raises(ValueError, match="not_people= names column"):
        r.table(fit, "x1", kind="model", n="n", not_people=["starts"])
    with pytest.raises(ValueError, match="cannot be in not_people"):
        r.table(fit, "x2", kind="model", n="n", not_people=["n"])
    with pytest.raises(ValueError, match="every cell of a counts table counts people"):
        r.table(sl, "x3", not_people=["n_straightliners"])


def test_small_group_still_hides_its_n_with_a_subset_count():
    from veplab.privacy import suppress_stats

    t = pd.DataFrame({"n": [5, 300, 250], "n_events": [2, 40, 30], "rate": [0.4, 0.13, 0.12]}, index=["a", "b", "c"])
    s = suppress_stats(t, "n", 10)
    assert s.mask.loc["a"].all() and s.mask.loc["c"].all()  # a small group: its n too, and a second group
    assert not s.mask.loc["b"].any()


def test_one_number_formatting_policy_on_pages():
    """Whole numbers without decimals, p < 0.001, shares as %, an interval as one column, readable headers."""
    from veplab.report.render import render_payload

    html = render_payload({
        "kind": "table", "key": "t", "digits": 3, "index": ["a", "b"],
        "columns": ["n", "df", "converged", "alpha", "alpha_ci_low", "alpha_ci_high", "p", "missing_share"],
        "data": [[1239, 105.0, True, 0.856, 0.828, 0.88, 0.00001, 0.032], [40, 12.0, False, 0.7, 0.6, 0.8, 0.2, 0.0]],
        "suppressed": [[False] * 8, [False] * 8]}, threshold=10)
    for shown in ("<td>1,239</td>", "<td>105</td>", "<td>yes</td>", "<td>0.828–0.880</td>", "<td>&lt; 0.001</td>",
                  "<td>3.2%</td>", "<td>0.200</td>", "<th>alpha CI</th>", "<th>missing</th>"):
        assert shown in html, shown
    for raw in ("105.000", "0.000", "alpha_ci_low", "missing_share", "0.032"):
        assert raw not in html, raw
    value = render_payload({"kind": "value", "key": "icc", "caption": "ICC", "value": 0.0416, "ci": [3.7e-05, 0.189],
                            "n": 297}, threshold=10)
    assert "0.0416 (95% CI 0.0000–0.1890); n = 297" in value  # the estimate and its interval: same decimals


def test_negative_intervals_share_intervals_and_text_cells():
    """-0.188 to -0.029 (not "-0.188–-0.029"); a bare CI beside the one share column is a share; words align left."""
    from veplab.report.render import render_payload

    html = render_payload({
        "kind": "table", "key": "t", "digits": 3, "index": ["a", "b"],
        "columns": ["item", "share", "ci_low", "ci_high", "d", "d_ci_low", "d_ci_high", "not_applicable_share"],
        "data": [["I feel treated unfairly", 0.25, 0.2, 0.31, -0.1, -0.188, -0.029, 0.1],
                 ["Staff respect me", 0.5, 0.45, 0.55, 0.3, 0.1, 0.5, 0.0]],
        "suppressed": [[False] * 8, [False] * 8]}, threshold=10)
    for shown in ('<td class="text">I feel treated unfairly</td>', "<td>20.0%–31.0%</td>", "<td>25.0%</td>",
                  "<td>−0.188 to −0.029</td>", "<td>−0.100</td>", "<td>0.100–0.500</td>", "<th>not applicable</th>"):
        assert shown in html, shown
    assert "-0.188" not in html and "0.200–0.310" not in html
    value = render_payload({"kind": "value", "key": "d", "caption": "Change", "value": -0.12, "ci": [-0.2, -0.04]},
                           threshold=10)
    assert "−0.120 (95% CI −0.200 to −0.040)" in value


def test_report_notes_progress_for_the_build(tmp_path, monkeypatch):
    """veplab build shows how far a long notebook has come: Report notes each output's kind and key."""
    progress = tmp_path / "nb.progress"
    monkeypatch.setenv("VEPLAB_PROGRESS", str(progress))
    r = rep()
    r.value("n_people", 120, kind="count")
    r.table(pd.DataFrame({"n": [40, 50]}, index=["a", "b"]), "counts")
    assert progress.read_text().splitlines() == ["value n_people", "table counts"]


# ------------------------------------------------------------------ model tables: forest + folded table


def _forest_points(fig):
    """(label, estimate, low, high) of each drawn term, read from the figure's artists."""
    ax = fig.axes[0]
    ticks = {round(float(t), 6): lab.get_text() for t, lab in zip(ax.get_yticks(), ax.get_yticklabels())}
    dots = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert len(dots) == 1
    xs, ys = dots[0].get_xdata(), dots[0].get_ydata()
    segs = {}
    for coll in ax.collections:
        for seg in coll.get_segments():
            segs[round(float(seg[0][1]), 6)] = (float(seg[0][0]), float(seg[1][0]))
    return {ticks[round(float(y), 6)]: (float(x), *segs[round(float(y), 6)]) for x, y in zip(xs, ys)}


def test_model_table_draws_the_gated_estimates_and_folds_the_table():
    from matplotlib.figure import Figure
    import base64

    from veplab.report.render import render_payload

    r = rep()
    r._display = False
    figures = []
    orig = r.figure

    def keep(fig, key, **kw):
        assert isinstance(fig, Figure)
        figures.append(fig)
        return orig(fig, key, close=False, **kw)

    r.figure = keep
    t = pd.DataFrame({"hazard_ratio": [0.81, 0.66, 0.59, np.nan], "ci_low": [0.6, 0.41, 0.42, np.nan],
                      "ci_high": [1.09, 1.05, 0.83, np.nan], "n": [400, 6, 300, 250], "events": [52, 3, 41, 30]},
                     index=["naive", "adjusted", "weighted", "matched"])
    gated = r.model_table(t, "hr", estimate="hazard_ratio", ratio=True, caption="Hazard ratios",
                          labels={"naive": "Naive Cox"})
    assert np.isnan(gated.loc["adjusted", "hazard_ratio"])  # 6 people: the gate hides the row
    fig = figures[0]
    drawn = _forest_points(fig)
    # exactly the gated, published estimates, labelled as in the table; the hidden row is not drawn
    assert drawn == {"Naive Cox": (0.81, 0.6, 1.09), "weighted": (0.59, 0.42, 0.83)}
    published = r.results["tables"]["hr"]["data"]
    assert [row[0] for row in published] == [0.81, None, 0.59, None]
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "1" in labels and all("^" not in t and "10" not in t for t in labels), labels  # 0.5, 1, not 10^0
    assert any(list(ln.get_xdata()) == [1.0, 1.0] for ln in ax.get_lines())  # reference line at 1
    texts = {tx.get_text(): tx.xy[1] for tx in ax.texts}
    ticks = {lab.get_text(): float(t) for t, lab in zip(ax.get_yticks(), ax.get_yticklabels())}
    assert texts == {"suppressed": ticks["adjusted"], "not estimated": ticks["matched"]}
    fig_payload = r.results["figures"]["hr_forest"]
    assert fig_payload["status"] == "ok"
    assert fig_payload["data"]["values"][1] == [None] * 5  # the figure's data hold only gated numbers
    assert base64.b64decode(fig_payload["png"])[:4] == b"\x89PNG"
    html = render_payload(r.results["tables"]["hr"], threshold=10)
    assert html.startswith('<details class="veplab-fold" data-key="hr"><summary>Table</summary>')
    assert html.endswith("</details>") and "<table" in html and "Hazard ratios" in html
    assert "<details" not in render_payload(r.results["tables"]["hr"] | {"fold": False}, threshold=10)


def test_model_table_figure_comes_first_and_follows_the_gate():
    r = rep()
    shown = []
    r._display = False
    r._emit = lambda p, _orig=r._emit: shown.append(p["key"]) if r._held is None else _orig(p)
    t = pd.DataFrame({"estimate": [2.0, 0.3, -0.2], "ci_low": [1.0, 0.1, -0.5], "ci_high": [3.0, 0.5, 0.1]},
                     index=["Intercept", "Grievance", "Peers"])
    r.model_table(t, "ols", n=200, caption="OLS")
    assert shown == ["ols_forest", "ols"]  # the page shows the chart, then the folded table
    # a model table the gate cannot check (no n=, no model=) is held, and no figure is drawn from it
    r.model_table(t, "ols2", caption="OLS")
    assert r.results["tables"]["ols2"]["status"] == "review" and "ols2_forest" not in r.results["figures"]
    # a model resting on fewer people than the threshold: refused, no figure
    r.model_table(t, "ols3", n=8)
    assert r.results["tables"]["ols3"]["status"] == "refused" and "ols3_forest" not in r.results["figures"]
    with pytest.raises(ValueError, match="column 'odds_ratio'"):
        r.model_table(t, "ols4", n=200, estimate="odds_ratio")


def test_chart_table_draws_item_statistics_from_the_gated_table_and_folds_it():
    from veplab.reliability import plot_item_stats
    from veplab.report.render import render_payload

    r = rep()
    shown = []
    r._emit = lambda p, _orig=r._emit: shown.append(p["key"]) if r._held is None else _orig(p)
    items = pd.DataFrame({"n": [200, 4, 180], "r_drop": [0.52, 0.61, -0.08], "alpha_if_deleted": [0.71, 0.66, 0.83]},
                         index=["Item one", "Item two", "Item three"])
    axes = []

    def draw(gated, mask):
        assert mask.loc["Item two"].all() and not mask.loc["Item one"].any()
        ax = plot_item_stats(gated)
        axes.append(ax)
        return ax.figure, gated[["n", "r_drop", "alpha_if_deleted"]]

    orig = r.figure
    r.figure = lambda fig, key, **kw: orig(fig, key, close=False, **kw)
    r.chart_table(items, "items", draw, kind="model", n="n", caption="Item statistics",
                  figure_key="item_chart", figure_caption="Items")
    assert shown == ["item_chart", "items"]
    ax = axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths[0] == 0.52 and np.isnan(widths[1]) and widths[2] == -0.08  # the hidden item is not drawn
    assert [t.get_text() for t in ax.texts] == ["suppressed"]
    assert r.results["figures"]["item_chart"]["data"]["values"][1] == [None, None, None]
    html = render_payload(r.results["tables"]["items"], threshold=10)
    assert html.startswith('<details class="veplab-fold" data-key="items"><summary>Table</summary>')


def test_a_published_p_value_reads_as_a_p_value_and_shared_is_not_a_share() -> None:
    from veplab.report.render import _value

    shown = _value({"key": "irt_grievance_shared_steps_p", "value": 0.10678, "n": 1317, "value_kind": "stat"})
    assert "0.107" in shown and "%" not in shown
    tiny = _value({"key": "lr_p", "value": 0.00002, "n": 400, "value_kind": "stat"})
    assert "&lt; 0.001" in tiny or "< 0.001" in tiny
    share = _value({"key": "rearrest_share", "value": 0.25, "n": 400, "value_kind": "stat"})
    assert "25.0%" in share
    prob = _value({"key": "p_rearrest", "value": 0.25, "n": 400, "value_kind": "stat", "ci": [0.2, 0.3]})
    assert "0.25" in prob and "CI" in prob  # a probability named p_..., with its interval, is not a p-value


def test_run_time_text_cites_a_value_as_the_page_shows_it() -> None:
    from veplab.report.gate import fill_text

    values = {"lr_p": {"key": "lr_p", "value": 0.00002, "n": 400, "status": "ok"},
              "rearrest_share": {"key": "rearrest_share", "value": 0.25, "ci": [0.2, 0.3], "n": 400, "status": "ok"}}
    text, status, reasons = fill_text("p = {lr_p}; {rearrest_share} ({rearrest_share.ci})", values)
    assert status == "ok" and text == "p < 0.001; 25.0% (20.0%–30.0%)", (text, reasons)
