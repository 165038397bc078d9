"""Briefs fill their pages (veplab.brief._layout): the density chooser, the page measures, and the result
measured on the PDFs of the demo brief and of two other brief specs (fewer and more featured results).

Fill of the last page is measured twice: on WeasyPrint's layout (what the build chose by) and,
independently, from the PDF's text with ``pdftotext -bbox`` (the lowest word above the running footer).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path

import pytest

from veplab.brief import _layout
from veplab.brief._layout import LEVELS, MIN_FILL, PageMeasure, fit, keep_class, measure

from test_brief import LANGS, NO_PDF, needs_pdf, needs_poppler

A4_HEIGHT = 841.89  # pt
MM = 72 / 25.4


# --------------------------------------------------------------------------- the chooser (layouts stubbed)


def _choose(table: dict[int, tuple[list[float], int]], monkeypatch) -> tuple[int, list[int]]:
    """fit() over fake layouts: level -> (page fills, number of stranded headings); returns (level, tried)."""
    order: list[int] = []
    monkeypatch.setattr(_layout, "measure", lambda doc: PageMeasure(
        table[doc][0], [(1, "H")] * table[doc][1], []))

    def render_at(level):
        order.append(level)
        return level

    got = fit(render_at, lambda level: level)
    assert got.rendered == got.document == got.level
    return got.level, order


def test_default_kept_when_its_last_page_is_full_enough(monkeypatch):
    assert _choose({0: ([0.9, 0.95, 0.41], 0)}, monkeypatch) == (0, [0])
    assert _choose({0: ([0.9, 0.55], 0)}, monkeypatch) == (0, [0])


def test_denser_layout_that_saves_the_page_is_kept(monkeypatch):
    table = {0: ([0.9, 0.9, 0.2], 0), 1: ([0.95, 0.95, 0.05], 0), 2: ([0.97, 0.99], 0), 3: ([0.9, 0.8], 0)}
    assert _choose(table, monkeypatch) == (2, [0, 1, 2])  # the first, not the densest


def test_denser_layout_keeps_going_until_the_last_page_is_full(monkeypatch):
    # level 1 saves a page but leaves a last page 10% full; level 3 saves two
    table = {0: ([0.9] * 4 + [0.1], 0), 1: ([0.9] * 3 + [0.1], 0), 2: ([0.95] * 3 + [0.3], 0),
             3: ([0.95] * 3 + [0.5], 0)}
    assert _choose(table, monkeypatch) == (3, [0, 1, 2, 3])
    # none fills its last page: the first with the fewest pages
    table[3] = ([0.95] * 3 + [0.2], 0)
    assert _choose(table, monkeypatch)[0] == 1


def test_roomier_layout_fills_the_last_page_when_no_density_saves_it(monkeypatch):
    table = {0: ([0.9, 0.2], 0), 1: ([0.9, 0.1], 0), 2: ([0.8, 0.05], 0), 3: ([0.99, 0.02], 0),
             -1: ([0.9, 0.35], 0), -2: ([0.95, 0.5], 0)}
    assert _choose(table, monkeypatch) == (-2, [0, 1, 2, 3, -1, -2])
    # a roomier layout that adds a page is not taken, nor any beyond it
    table[-2] = ([0.95, 0.95, 0.1], 0)
    assert _choose(table, monkeypatch)[0] == -1


def test_a_stranded_heading_rules_a_layout_out(monkeypatch):
    table = {0: ([0.9, 0.9, 0.2], 0), 1: ([0.9, 0.97], 1), 2: ([0.9, 0.9], 0), 3: ([0.9, 0.8], 0)}
    assert _choose(table, monkeypatch)[0] == 2
    # the default itself strands a heading though its last page is full: another layout without one
    table = {0: ([0.9, 0.6], 1), 1: ([0.9, 0.5], 0), 2: ([0.9, 0.45], 0), 3: ([0.9, 0.4], 0),
             -1: ([0.9, 0.7], 1), -2: ([0.9, 0.9, 0.1], 0)}
    assert _choose(table, monkeypatch)[0] == 1


def test_short_lists_are_kept_on_one_page_long_ones_may_break():
    assert keep_class(["a" * 100] * 5) == " keep"
    assert keep_class(["a" * 100] * 6) == ""
    assert keep_class(["a" * 500, "b" * 401]) == ""


# --------------------------------------------------------------------------- the page measures (real layouts)


def _doc(body: str):
    from veplab.brief._render import layout_pdf

    css = "@page { size: A4; margin: 20mm } body { margin: 0; font: 10pt sans-serif; line-height: 1.5 } p { margin: 0 }"
    return layout_pdf(f"<!DOCTYPE html><html><head><style>{css}</style></head><body>{body}</body></html>")


@needs_pdf
def test_measure_fill_headings_and_splits():
    content = A4_HEIGHT - 40 * MM
    m = measure(_doc('<div style="height: 120mm; border: 1pt solid black"></div>'))
    assert m.pages == 1 and m.clean
    assert m.last_fill == pytest.approx((120 * MM) / content, abs=0.005)
    # a heading forced apart from what follows it is found; its page is the first
    m = measure(_doc('<p>Text.</p><h2>Alone</h2><p style="break-before: page">Next page.</p>'))
    assert m.pages == 2 and m.stranded_headings == [(1, "Alone")]
    # a heading with a paragraph after it on its page is fine
    assert measure(_doc("<h2>Kept</h2><p>With text.</p>")).stranded_headings == []
    # a card running over two pages is reported, a plain block is not
    lines = "".join(f"<p>Line {i}</p>" for i in range(70))
    m = measure(_doc(f'<div class="card">{lines}</div>'))
    assert m.pages == 2 and m.split == [(1, "card")]
    assert measure(_doc(f"<div>{lines}</div>")).split == []
    # the running footer and an invisible spacer do not count as content
    m = measure(_doc('<style>@page { @bottom-left { content: "footer" } }</style><p>One line.</p>'
                     '<div style="height: 100mm"></div>'))
    assert m.last_fill < 0.05


# --------------------------------------------------------------------------- the demo brief and two other specs


def _pdf_fill(pdf: Path, page: int, level: int) -> float:
    """Lowest word on ``page`` above the running footer, as a share of the content area (from the PDF)."""
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    top, _side, bottom = (v * MM for v in LEVELS[level]["margin"])
    area_bottom = A4_HEIGHT - bottom
    ys = [float(y) for y in re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="[\d.]+" yMax="([\d.]+)"', out)]
    inside = [y for y in ys if y <= area_bottom + 1]
    assert inside, f"page {page} of {pdf.name} has no text"
    return (max(inside) - top) / (area_bottom - top)


def _level_of(html: str) -> int:
    return int(re.search(r'name="veplab-brief-density" content="(-?\d+)"', html).group(1))


def _check_pages(pdf: Path, html: str, pages: int, what: str) -> float:
    """The PDF fills its pages: two, or three-plus with a last page at least MIN_FILL full; the HTML
    written is the layout of the PDF; no stranded heading, no card or chart split.  Returns the fill."""
    from veplab.brief._render import layout_pdf

    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == pages, what
    level = _level_of(html)
    m = measure(layout_pdf(html))
    assert m.pages == pages, (what, m)  # the HTML file is laid out as its PDF
    assert m.clean, (what, m.stranded_headings, m.split)
    fill = _pdf_fill(pdf, pages, level)
    assert fill == pytest.approx(m.last_fill, abs=0.08), (what, fill, m.last_fill)  # two measures agree
    assert pages == 2 or fill >= MIN_FILL, (what, pages, fill)
    assert 2 <= pages <= 4, (what, pages)
    return fill


@pytest.fixture(scope="module")
def demo_inputs(demo_report, demo_data):
    from veplab.study import load_study

    return {"study_folder": demo_data, "out": demo_report,
            "results": json.loads((demo_report / "results.json").read_text(encoding="utf-8")),
            "manifest": json.loads((demo_report / "manifest.json").read_text(encoding="utf-8")),
            "brief": copy.deepcopy(dict(load_study(demo_data).brief))}


@needs_pdf
@needs_poppler
def test_demo_briefs_fill_their_pages(demo_inputs):
    written = demo_inputs["manifest"]["briefs"]
    for lang in LANGS:
        f = written[lang]
        html = (demo_inputs["out"] / f["html"]).read_text(encoding="utf-8")
        fill = _check_pages(demo_inputs["out"] / f["pdf"], html, f["pages"], f"demo {lang}")
        assert f["density"] == _level_of(html) and f["last_page_fill"] == pytest.approx(fill, abs=0.08)
        assert f["pages"] <= 3, (lang, f)


def _variant(name: str, brief: dict) -> dict:
    b = copy.deepcopy(brief)
    chart = b["charts"][0]
    if name == "fewer":  # three figures, two charts, two messages and recommendations, one limitation
        b["figures"], b["key_messages"] = b["figures"][:3], b["key_messages"][:2]
        b["recommendations"], b["limitations"] = b["recommendations"][:2], b["limitations"][:1]
        chart["by"] = ["gender", "age_band"]
    else:  # "more": every chart twice, eight recommendations, six messages, six limitations
        b["charts"] = [chart, copy.deepcopy(chart)]
        b["recommendations"] = b["recommendations"] * 2
        b["key_messages"] = b["key_messages"] + b["key_messages"][:2]
        b["limitations"] = b["limitations"] * 2
    return b


@needs_pdf
@needs_poppler
@pytest.mark.parametrize("name", ["fewer", "more"])
def test_other_briefs_fill_their_pages(demo_inputs, tmp_path, name):
    import yaml

    from veplab.brief import build_briefs
    from veplab.study import load_study

    folder = demo_inputs["study_folder"]
    raw = yaml.safe_load((folder / "study.yml").read_text(encoding="utf-8"))
    raw["brief"] = _variant(name, demo_inputs["brief"])
    study = load_study(folder)
    study.raw["brief"] = raw["brief"]  # the demo's study with another brief: section (nothing written there)
    log: list[str] = []
    res = build_briefs(study, tmp_path, demo_inputs["results"], {}, log=log.append)
    assert sorted(res.pdf) == sorted(LANGS)
    for lang in LANGS:
        html = res.html[lang].read_text(encoding="utf-8")
        _check_pages(res.pdf[lang], html, res.pages[lang], f"{name} {lang}")
        assert len(re.findall(r'<div class="card( suppressed)?">', html)) == len(raw["brief"]["figures"])
    assert not [m for m in res.notes if "page" in m or "split" in m or "heading" in m], res.notes
    if name == "fewer":
        assert set(res.pages.values()) == {2}, res.pages
    else:  # long recommendations may break between items: the list is not kept whole
        assert all('class="box recommendations"' in res.html[lang].read_text(encoding="utf-8") for lang in LANGS)


def test_levels_are_ordered_from_roomy_to_dense():
    keys = sorted(LEVELS)
    assert 0 in keys and keys[0] < 0 < keys[-1]
    for a, b in zip(keys, keys[1:]):
        la, lb = LEVELS[a], LEVELS[b]
        assert la["font"] > lb["font"] and la["chart"] > lb["chart"] and la["space"] > lb["space"]
        assert all(x >= y for x, y in zip(la["margin"], lb["margin"]))
    assert LEVELS[max(keys)]["font"] >= 8.5  # still readable at the densest


def test_render_rejects_an_unknown_level(demo_inputs):
    from veplab.brief import BriefError, render
    from veplab.study import load_study

    with pytest.raises(BriefError, match="level 7"):
        render(load_study(demo_inputs["study_folder"]), demo_inputs["results"], "en", level=7)
