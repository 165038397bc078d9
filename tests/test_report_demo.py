"""The demo study's report: pages, results.json, determinism, rendering in headless Chromium."""

from __future__ import annotations

import json
import re

import pytest

from _chromium import chromium, dump_dom, pixel_stats, screenshot


def test_demo_report_files(demo_report):
    for name in ("index.html", "overview.html", "data_quality.html", "results.json", "manifest.json"):
        assert (demo_report / name).is_file(), name
    results = json.loads((demo_report / "results.json").read_text())
    assert {"overview", "data_quality"} <= set(results["notebooks"])
    overview = results["notebooks"]["overview"]
    table = overview["tables"]["push_pull_by_country_gender"]
    assert table["columns"][-1] == "Total" and table["index"][-1] == "Total"
    # every published count is either suppressed or at least the threshold (zeros are safe)
    for row, sup in zip(table["data"], table["suppressed"]):
        for v, s in zip(row, sup):
            assert s or v is None or v == 0 or v >= results["threshold"]
    manifest = json.loads((demo_report / "manifest.json").read_text())
    assert set(manifest["inputs"]["data"]) == {"push_pull", "rna", "staff", "climate", "followup"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in manifest["inputs"]["data"].values())
    assert manifest["seed"] == 20261121
    # nothing of the demo waits for a person: tables of different populations that share a grouping
    # (prisoners' population shares by age band, staff by age band) are not linked with each other
    release = json.loads((demo_report / "release.json").read_text())
    held = [o["output"] for o in release["outputs"] if o["status"] not in ("published", "published with suppressed cells")]
    assert held == []
    shares = [k for k in overview["tables"] if "_share_by_" in k]
    assert shares and all(overview["tables"][k]["table_kind"] == "stats" for k in shares)


def test_demo_pages_offline(demo_report):
    for page in demo_report.glob("*.html"):
        text = page.read_text()
        assert not re.search(r"""(src|href)=["']https?://""", text), page.name
        assert "<link" not in text or "stylesheet" not in text, page.name


@pytest.mark.skipif(chromium() is None, reason="Debian chromium is not installed (scripts/sysdeps.sh installs it)")
def test_demo_pages_render_in_chromium(demo_report, tmp_path):
    index_png = screenshot(demo_report / "index.html", tmp_path / "index.png", height=900)
    page_png = screenshot(demo_report / "overview.html", tmp_path / "overview.png", height=2000)
    for png in (index_png, page_png):
        stats = pixel_stats(png)
        assert stats["ink"] > 0.01 and stats["levels"] > 20, (png.name, stats)
    dom = dump_dom(demo_report / "index.html")
    assert "Analyses" in dom and "Study overview" in dom and "Data quality" in dom
    dom = dump_dom(demo_report / "overview.html")
    assert "<h1" in dom and "Study overview" in dom and "<img" in dom
