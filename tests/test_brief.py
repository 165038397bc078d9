"""Policy briefs (veplab.brief): the demo brief in four languages, HTML and PDF, and the fallbacks.

The demo tests render from the demo study built once per session (``demo_report``);
the unit tests render from small results documents made here with the real
publishing channel (``veplab.report.Report``), so suppression is the gate's own.
PDF tests are skipped when WeasyPrint (or its pango libraries) or poppler-utils
are missing; the screenshot test when Debian's chromium is missing.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab.brief import BriefError, Translator, build_briefs, check_fonts, render, render_brief
from veplab.study import load_study

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _chromium  # noqa: E402

LANGS = ("en", "fr", "ar", "ru")


def _weasyprint_reason() -> str | None:
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        return "weasyprint is not installed (pip install weasyprint)"
    except OSError as exc:
        return f"weasyprint cannot load pango ({exc}); apt-get install libpango-1.0-0 libpangoft2-1.0-0"
    return None


NO_PDF = _weasyprint_reason()
needs_pdf = pytest.mark.skipif(NO_PDF is not None, reason=NO_PDF or "")
needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                   reason="poppler-utils (pdftoppm, pdftotext) not installed")
needs_chromium = pytest.mark.skipif(_chromium.chromium() is None, reason="Debian chromium not installed")


# --------------------------------------------------------------------------- the demo brief


@pytest.fixture(scope="module")
def demo(demo_report, demo_data, tmp_path_factory):
    """The briefs that ``veplab build`` wrote for the demo study (all its languages, PDF too)."""
    from conftest import demo_build_log
    from veplab.brief import BriefResult

    study = load_study(demo_data)
    results = json.loads((demo_report / "results.json").read_text(encoding="utf-8"))
    manifest = json.loads((demo_report / "manifest.json").read_text(encoding="utf-8"))
    log = demo_build_log(tmp_path_factory)
    written = manifest.get("briefs") or {}
    res = BriefResult(
        html={lang: demo_report / f["html"] for lang, f in written.items()},
        pdf={lang: demo_report / f["pdf"] for lang, f in written.items() if "pdf" in f},
        pages={lang: f["pages"] for lang, f in written.items() if "pages" in f},
        missing_translations=list(manifest.get("briefs_missing_translations") or []),
        notes=[m for m in log if m.startswith("brief (")],
    )
    if NO_PDF is None:
        assert sorted(res.pdf) == sorted(LANGS), written
    return {"study": study, "results": results, "manifest": manifest, "out": demo_report, "res": res, "log": log}


def test_build_links_the_briefs_from_the_index(demo):
    index = (demo["out"] / "index.html").read_text(encoding="utf-8")
    for lang in LANGS:
        assert f'href="brief-{lang}.html"' in index
        if NO_PDF is None:
            assert f'href="brief-{lang}.pdf"' in index
    assert "Policy briefs" in index
    assert any(m.startswith("brief (en): brief-en.html") for m in demo["log"]), demo["log"]


def test_demo_html_in_every_language(demo):
    res = demo["res"]
    assert sorted(res.html) == sorted(demo["study"].languages) == sorted(LANGS)
    assert res.missing_translations == [], res.missing_translations
    # the charts: one per published table named by each entry (a {by} key: per breakdown of the design)
    tables = {nb: set((g.get("tables") or {})) for nb, g in demo["results"]["notebooks"].items()}
    published = {nb: {k for k, t in (g.get("tables") or {}).items() if t.get("data") is not None}
                 for nb, g in demo["results"]["notebooks"].items()}
    charted = drawn = 0
    for entry in demo["study"].brief.get("charts") or []:
        by = entry.get("by")
        bys = list(demo["study"].breakdowns) if by == "design" else by if isinstance(by, list) else [by]
        keys = {entry["key"].replace("{by}", str(b)) for b in bys}
        for key in keys:
            nb, _, name = key.split(".", 2)
            charted += name in tables.get(nb, ())
            drawn += name in published.get(nb, ())
    assert charted >= 2
    for lang in LANGS:
        html = res.html[lang].read_text(encoding="utf-8")
        direction = "rtl" if lang == "ar" else "ltr"
        assert f'<html lang="{lang}" dir="{direction}">' in html
        # self-contained: charts are data URIs, nothing is fetched
        assert not re.search(r'(src|href)="(?!data:)', html)
        assert "http://" not in html and "https://" not in html
        assert html.count('<figure class="chart"') == charted
        assert html.count('src="data:image/png;base64,') == drawn
        assert "p =" not in html and "p-value" not in html.lower()
        assert not re.search(r"[\u0660-\u0669\u06f0-\u06f9]", html), "Western digits in every language"
    # no character that the brief's fonts cannot draw
    assert not [n for n in res.notes if "characters" in n], res.notes


def test_demo_numbers_come_from_results(demo):
    vals = demo["results"]["notebooks"]
    first = demo["study"].brief["figures"][0]["key"].split(".")  # the brief's first headline figure, a share
    share = vals[first[0]]["values"][first[2]]
    rearrest = vals["outcomes"]["values"]["event_rate_horizon"]
    en = demo["res"].html["en"].read_text(encoding="utf-8")
    fr = demo["res"].html["fr"].read_text(encoding="utf-8")
    pct = round(share["value"] * 100)
    assert f">{pct}%<" in en and f">{pct}\u00a0%<" in fr
    lo, hi = round(rearrest["ci"][0] * 100), round(rearrest["ci"][1] * 100)
    assert f"Likely range {lo}% to {hi}% (95% confidence interval)" in en
    assert f"Based on {rearrest['n']:,} people." in en
    # the sample composition share is computed from two published counts
    table = vals["overview"]["tables"]["push_pull_by_country_gender"]
    women = table["data"][table["index"].index("Total")][table["columns"].index("Woman")]
    total = table["data"][table["index"].index("Total")][table["columns"].index("Total")]
    share_w = 100 * women / total                    # shares below 10% are shown with one decimal
    assert f">{round(share_w)}%<" in en or f">{share_w:.1f}%<" in en
    # the methods box lists the sample sizes published by the overview notebook
    assert f"{vals['overview']['values']['push_pull_n']['value']:,}" in en


@needs_pdf
@needs_poppler
def test_demo_pdfs_two_or_three_full_pages_first_page_not_blank(demo, tmp_path):
    """Page fill, stranded headings and split cards are measured in tests/test_brief_layout.py."""
    from PIL import Image

    res = demo["res"]
    for lang in LANGS:
        pdf = res.pdf[lang]
        assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
        assert 2 <= res.pages[lang] <= 3, (lang, res.pages[lang])
        layout = demo["manifest"]["briefs"][lang]
        assert layout["pages"] == 2 or layout["last_page_fill"] >= 0.4, (lang, layout)
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert re.search(rf"Pages:\s+{res.pages[lang]}\b", info)
        assert "595.276 x 841.89" in info or "595.28 x 841.89" in info  # A4
        stem = tmp_path / f"p1-{lang}"
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(stem)], check=True)
        png = next(tmp_path.glob(f"p1-{lang}*.png"))
        img = np.asarray(Image.open(png).convert("L"), dtype=float)
        ink = float((img < 200).mean())
        assert 0.02 < ink < 0.6, (lang, ink)
    assert not [m for m in demo["log"] if "notdef" in m.lower() or "glyph" in m.lower()], demo["log"]


def _bbox_words(pdf: Path, page: int = 1) -> list[tuple[str, float, float, float]]:
    """(logical text, xMin, yMin, xMax) of each word; poppler gives RTL words in visual character order."""
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    words = []
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
                         out):
        text = m.group(4)
        if re.search(r"[\u0600-\u06ff]", text):
            text = text[::-1]
        words.append((text, float(m.group(1)), float(m.group(2)), float(m.group(3))))
    return words


def _first(words, word):
    """The first occurrence of ``word`` on the page (the running footer repeats the title)."""
    hits = sorted((y, x, x2) for t, x, y, x2 in words if t.strip(":،.") == word)
    return hits[0] if hits else None


@needs_pdf
@needs_poppler
def test_arabic_pdf_runs_right_to_left_without_missing_glyphs(demo):
    pdf = demo["res"].pdf["ar"]
    words = _bbox_words(pdf)
    right_margin = 595.276 - 16 * 72 / 25.4
    # phrases in logical (reading) order: on the page each word must lie left of the one before
    title = demo["study"].brief["title"]["ar"]
    heading = Translator("ar").t("key_messages")
    checked = 0
    for phrase in (title, heading):
        placed = [p for p in (_first(words, w) for w in re.findall(r"[\u0600-\u06ff]+", phrase)) if p]
        for (y1, x1, _), (y2, x2, _) in zip(placed, placed[1:]):
            if abs(y1 - y2) < 2:  # same line
                assert x2 < x1, f"Arabic word order is not right to left in {phrase!r}"
                checked += 1
        # a right-to-left paragraph starts at the right margin, even when the line is short
        assert placed[0][2] > right_margin - 25, (phrase, placed[0])
    assert checked >= 4
    # mixed digits: the date "21 <month> 2026" reads right to left too
    date = Translator("ar").date(demo["study"].brief["date"])
    day, month, year = (_first(words, w) for w in date.split())
    assert day[0] == month[0] == year[0] and day[1] > month[1] > year[1], (day, month, year)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "\ufffd" not in text
    assert "الرسائل الرئيسية" in text and "التوصيات" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    names = {line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:] if line.strip()}
    assert "Noto-Sans-Arabic" in names
    assert names <= {"Noto-Sans", "Noto-Sans-Bold", "Noto-Sans-Arabic", "Noto-Sans-Arabic-Bold", "DejaVuSans",
                     "DejaVuSans-Bold"}, names
    assert not [n for n in demo["res"].notes if "characters" in n]  # every character has a glyph in the fonts


@needs_chromium
@pytest.mark.chromium
def test_chromium_screenshots(demo, tmp_path):
    for lang in LANGS:
        png = _chromium.screenshot(demo["res"].html[lang], tmp_path / f"brief-{lang}.png", width=1000, height=1400)
        stats = _chromium.pixel_stats(png)
        assert stats["ink"] > 0.02 and stats["levels"] > 50, (lang, stats)
    dom = _chromium.dump_dom(demo["res"].html["ar"])
    assert 'dir="rtl"' in dom and "الرسائل الرئيسية" in dom


# --------------------------------------------------------------------------- small studies


def _study(tmp_path: Path, brief: dict, languages=LANGS):
    import yaml

    folder = tmp_path / "study"
    folder.mkdir(exist_ok=True)
    (folder / "study.yml").write_text(yaml.safe_dump({
        "id": "mini", "title": {"en": "Mini study"}, "languages": list(languages),
        "disclosure": {"threshold": 10}, "sources": {}, "notebooks": [], "brief": brief,
    }, allow_unicode=True), encoding="utf-8")
    return load_study(folder)


def _results() -> dict:
    from veplab.report import Report

    rep = Report(None, "nb", threshold=10, display=False)
    rep.value("share", 0.4123, n=250, ci=(0.352, 0.474))
    rep.value("tiny", 0.5, n=4, ci=(0.1, 0.9))
    rep.value("count", 1234, kind="count")
    by = pd.DataFrame({"n": [120, 6, 80], "estimate": [0.31, 0.5, 0.22], "ci_low": [0.23, 0.2, 0.13],
                       "ci_high": [0.40, 0.8, 0.33]}, index=pd.Index(["Man", "Woman", "All"], name="gender"))
    rep.table(by, "by_gender", kind="stats", n="n")
    tidy = pd.DataFrame({"variable": ["x"] * 3, "group_var": ["overall", "age_band", "age_band"],
                         "group": ["All", "18-24", "25-34"], "n": [200, 90, 110],
                         "estimate": [2.5, 2.4, 2.6], "ci_low": [2.3, 2.1, 2.35], "ci_high": [2.7, 2.7, 2.85]})
    rep.table(tidy, "tidy", kind="stats", n="n")
    counts = pd.DataFrame({"Man": [50, 60, 110], "Woman": [20, 30, 50], "Total": [70, 90, 160]},
                          index=["A", "B", "Total"])
    rep.table(counts, "counts", margins=True)
    return {"study": "mini", "veplab": "0", "threshold": 10, "notebooks": {"nb": rep.results}}


def _brief(**extra) -> dict:
    base = {
        "title": {"en": "A brief", "fr": "Une note", "ar": "موجز", "ru": "Записка"},
        "key_messages": [{"en": "First message.", "fr": "Premier message.", "ar": "الرسالة الأولى.",
                          "ru": "Первый вывод."}],
        "figures": [
            {"key": "nb.values.share", "format": "share", "label": {"en": "Share"},
             "text": {"en": "{Approx} people ({value}) agreed, {ci}; {n}.", "fr": "{Approx} ({value}).",
                      "ar": "{approx} ({value}).", "ru": "{Approx} ({value})."}},
            {"key": "nb.values.tiny", "format": "share", "text": {"en": "Small group: {value}."}},
            {"key": "nb.tables.counts", "row": "Total", "column": "Woman", "of": {"row": "Total", "column": "Total"},
             "text": {"en": "{value} were women."}},
        ],
    }
    base.update(extra)
    return base


def test_featured_values_in_words_with_interval_and_n(tmp_path):
    study = _study(tmp_path, _brief())
    html = render_brief(study, _results(), "en")
    assert "About 4 in 10 people (41%) agreed, between 35% and 47%; 250 people." in html
    assert "Likely range 35% to 47% (95% confidence interval)." in html and "Based on 250 people." in html
    assert "31%" in html  # 50 / 160 women, a share of two published counts
    assert "Based on 160 people." in html
    fr = render_brief(study, _results(), "fr")
    assert "Environ 4 sur 10 (41\u00a0%)." in fr


def test_suppressed_featured_result_is_replaced_by_a_sentence(tmp_path):
    study = _study(tmp_path, _brief())
    results = _results()
    payload = results["notebooks"]["nb"]["values"]["tiny"]
    assert payload["suppressed"] and payload["value"] is None  # the gate did it
    r = render(study, results, "en")
    assert "Not shown: this figure rests on fewer than 10 people" in r.html
    assert "Small group" not in r.html and "50%" not in r.html
    assert "One number planned for this brief was withheld under this rule." in r.html
    fr = render(study, results, "fr").html
    assert "Non publié\u00a0: ce chiffre repose sur moins de 10 personnes" in fr
    ar = render(study, results, "ar").html
    assert "غير منشور: يستند هذا الرقم إلى أقل من 10 أشخاص" in ar
    # a suppressed table cell as a featured figure, and a suppressed group in a chart
    brief = _brief(figures=[{"key": "nb.tables.by_gender", "row": "Woman", "format": "share"}],
                   charts=[{"key": "nb.tables.by_gender", "by": "gender", "format": "share", "rows": ["Man", "Woman"]}])
    r = render(_study(tmp_path, brief), results, "en")
    assert "Not shown: this figure rests on fewer than 10 people" in r.html
    assert "Groups of fewer than 10 people are not shown." in r.html
    alt = re.search(r'alt="([^"]*)"', r.html).group(1)
    assert "Man 31% (n = 120)" in alt and "Woman not shown" in alt and "50%" not in alt


def test_suppressed_values_never_reach_the_page(tmp_path):
    results = _results()
    by = results["notebooks"]["nb"]["tables"]["by_gender"]
    hidden = [v for row, mrow in zip(by["data"], by["suppressed"]) for v, m in zip(row, mrow) if m]
    assert hidden == [None] * len(hidden) and hidden  # published as null
    # even if a malformed results file kept the number, the mask wins
    leaky = copy.deepcopy(results)
    b = leaky["notebooks"]["nb"]["tables"]["by_gender"]
    i = b["index"].index("Woman")
    b["data"][i] = [6, 0.5, 0.2, 0.8]
    brief = _brief(figures=[{"key": "nb.tables.by_gender", "row": "Woman", "format": "share"}],
                   charts=[{"key": "nb.tables.by_gender", "format": "share", "rows": ["Man", "Woman"]}])
    html = render_brief(_study(tmp_path, brief), leaky, "en")
    assert "50%" not in html and "n = 6" not in html


def test_interval_level_is_the_published_one(tmp_path):
    from veplab.report import Report

    rep = Report(None, "nb", threshold=10, display=False)
    rep.value("rate", 0.25, n=1500, ci=(0.22, 0.28), ci_level=0.9)
    results = {"study": "mini", "veplab": "0", "threshold": 10, "notebooks": {"nb": rep.results}}
    brief = _brief(figures=[{"key": "nb.values.rate", "format": "share", "text": {"en": "{value}, {level} CI."}}])
    html = render_brief(_study(tmp_path, brief), results, "en")
    assert "Likely range 22% to 28% (90% confidence interval)" in html and "25%, 90% CI." in html
    assert "95%" not in html


def test_data_protection_note_states_only_what_the_build_records(tmp_path):
    study = _study(tmp_path, _brief())
    plain = render_brief(study, _results(), "en", manifest={"pseudonym_key_ids": []})
    assert "fewer than 10 people is withheld" in plain
    assert "pseudonym" not in plain  # no pseudonymisation in the audit log: the brief does not claim one
    keyed = render_brief(study, _results(), "fr", manifest={"pseudonym_key_ids": ["k_3f2a"]})
    assert "pseudonymes à clé" in keyed


def test_missing_translation_falls_back_to_english_and_is_logged(tmp_path):
    brief = _brief(recommendations=[{"en": "Do this first.", "fr": "Faire ceci d'abord."}],
                   charts=[{"key": "nb.tables.by_gender", "by": "gender", "format": "share",
                            "rows": ["Man"], "title": {"en": "Agreement by gender"}}])
    study = _study(tmp_path, brief, languages=("en", "ru"))
    r = render(study, _results(), "ru")
    assert "Do this first." in r.html and "Agreement by gender" in r.html
    assert "ru: brief.recommendations[0]" in r.missing
    assert "ru: brief.charts[0].title" in r.missing
    assert "ru: brief.figures[0].label" in r.missing
    assert "ru: label 'Man'" in r.missing  # no codebook in this study translates it
    log: list[str] = []
    res = build_briefs(study, tmp_path, _results(), {}, log=log.append, pdf=False)
    assert (tmp_path / "brief-ru.html").is_file() and (tmp_path / "brief-en.html").is_file()
    assert "brief: missing translation ru: brief.recommendations[0] (English used)" in log
    assert "ru: brief.recommendations[0]" in res.missing_translations
    assert not [m for m in res.missing_translations if m.startswith("en:")]


def test_unknown_featured_key_names_the_key_and_the_available_keys(tmp_path):
    study = _study(tmp_path, _brief(figures=[{"key": "nb.values.nope"}]))
    with pytest.raises(BriefError, match=r"brief\.figures\[0\]: featured result 'nb\.values\.nope' does not "
                                         r"exist.*nb\.values\.share.*nb\.tables\.by_gender"):
        render_brief(study, _results(), "en")
    study = _study(tmp_path, _brief(charts=[{"key": "push_pull.tables.violence_endorsement_by_gender"}]))
    with pytest.raises(BriefError, match=r"no notebook 'push_pull' \(notebooks: nb\)"):
        render_brief(study, _results(), "en")
    study = _study(tmp_path, _brief(figures=[{"key": "nb.tables.by_gender", "row": "Nobody"}]))
    with pytest.raises(BriefError, match=r"no row 'Nobody'; rows: \['Man', 'Woman', 'All'\]"):
        render_brief(study, _results(), "en")
    study = _study(tmp_path, _brief(figures=[{"key": "nb.values.share", "text": {"en": "{valeu}"}}]))
    with pytest.raises(BriefError, match=r"unknown placeholder \{valeu\}"):
        render_brief(study, _results(), "en")
    study = _study(tmp_path, _brief(figure=[]))
    with pytest.raises(BriefError, match=r"unknown key\(s\) \['figure'\]"):
        render_brief(study, _results(), "en")


def test_tidy_table_rows_by_column_values(tmp_path):
    brief = _brief(figures=[{"key": "nb.tables.tidy", "row": {"group_var": "overall"}, "digits": 1,
                             "text": {"en": "Mean {value} ({ci})."}}],
                   charts=[{"key": "nb.tables.tidy", "by": "age_band", "where": {"group_var": "age_band"},
                            "limits": [1, 5]}])
    html = render_brief(_study(tmp_path, brief), _results(), "en")
    assert "Mean 2.5 (between 2.3 and 2.7)." in html and "Based on 200 people." in html
    alt = re.search(r'alt="([^"]*)"', html).group(1)
    assert alt == "18-24 2.40 (n = 90); 25-34 2.60 (n = 110)"
    assert "By age group" in html


def test_plain_language_numbers_per_locale():
    en, fr, ar, ru = (Translator(lang) for lang in LANGS)
    assert [en.approx_share(p) for p in (0.41, 0.139, 0.245, 0.03, 0.004, 0.998)] == [
        "about 4 in 10", "about 1 in 7", "about 1 in 4", "about 3 in 100", "fewer than 1 in 100", "nearly all"]
    assert fr.approx_share(0.41) == "environ 4 sur 10" and ru.approx_share(0.41) == "примерно 4 из 10"
    assert (en.integer(12345), fr.integer(12345), ar.integer(12345), ru.integer(12345)) == (
        "12,345", "12\u202f345", "12,345", "12\u00a0345")
    assert (en.percent(0.073), fr.percent(0.41), ru.percent(0.41)) == ("7.3%", "41\u00a0%", "41\u00a0%")
    assert [ru.people(n) for n in (1, 3, 5, 21, 1239)] == ["1 человек", "3 человека", "5 человек", "21 человек",
                                                          "1\u00a0239 человек"]
    assert [ar.people(n) for n in (1, 2, 3, 11, 100)] == ["شخص واحد", "شخصان", "3 أشخاص", "11 شخصًا", "100 شخص"]
    assert ar.direction == "rtl" and ar.date("2026-11-21") == "21 نوفمبر 2026"
    assert fr.date("2026-11-21") == "21 novembre 2026"


def test_numbers_never_mislead():
    en, ar = Translator("en"), Translator("ar")
    # a share that is not 0 (or 1) never shows as 0% (or 100%)
    assert (en.percent(0.0004), en.percent(0.996), en.percent(0.0), en.percent(1.0)) == ("0.04%", "99.6%", "0%", "100%")
    # the nearest plain-language fraction, across the k-in-10 / 1-in-N boundary
    assert [en.approx_share(p) for p in (0.095, 0.91, 0.89, 0.115, 0.5, 0.04, 0.96, 0.0, 1.0)] == [
        "about 1 in 10", "about 9 in 10", "about 9 in 10", "about 1 in 9", "about 5 in 10", "about 4 in 100",
        "about 96 in 100", "none", "all"]
    with pytest.raises(BriefError, match="between 0 and 1"):
        en.approx_share(12.34)
    # a negative number keeps its sign on the left in Arabic (LEFT-TO-RIGHT MARK before the minus)
    assert ar.number(-0.41) == "\u200e-0.41" and ar.percent(-0.05) == "\u200e-5.0%" and en.number(-0.41) == "-0.41"


def test_interval_shares_use_one_precision(tmp_path):
    from veplab.report import Report

    rep = Report(None, "nb", threshold=10, display=False)
    rep.value("icc", 0.13, n=1204, ci=(0.073, 0.23))
    results = {"study": "mini", "veplab": "0", "threshold": 10, "notebooks": {"nb": rep.results}}
    brief = _brief(figures=[{"key": "nb.values.icc", "format": "share", "text": {"en": "{value}"}}])
    html = render_brief(_study(tmp_path, brief), results, "en")
    assert "Likely range 7.3% to 23.0%" in html and ">13.0%<" in html


@pytest.mark.parametrize("change, message", [
    ({"figures": [{"key": "nb.values.share", "digits": "two"}]}, "digits"),
    ({"figures": [{"key": "nb.values.share", "level": 95}]}, "level"),
    ({"figures": [{"key": "nb.values.share", "format": "percent"}]}, "format"),
    ({"figures": [{"key": "nb.values.share", "text": {"en": "{value.__class__}"}}]}, "not a plain name"),
    ({"figures": [{"key": "nb.values.share", "text": {"en": "{value[0]}"}}]}, "not a plain name"),
    ({"figures": [{"key": "nb.values.count", "text": {"en": "{value} ({ci})"}}]}, "publishes no interval"),
    ({"figures": [{"key": "nb.values.count", "format": "share"}]}, "between 0 and 1"),
    ({"charts": [{"key": "nb.tables.by_gender", "limits": [1]}]}, "limits"),
    ({"charts": [{"key": "nb.tables.by_gender", "limits": ["a", "b"]}]}, "limits"),
    ({"charts": [{"key": "nb.tables.by_gender", "ci": ["ci_low"]}]}, "ci"),
    ({"charts": [{"key": "nb.tables.by_gender", "ci": True}]}, "ci"),
    ({"charts": [{"key": "nb.tables.counts", "columns": []}]}, "columns"),
    ({"charts": [{"key": "nb.tables.by_gender", "style": "pie"}]}, "style"),
    ({"charts": [{"key": "nb.tables.by_gender", "by": "country"}]}, "by"),
    ({"locales": ["ar_TN"]}, "locales"),
    ({"locales": {"en": "xx_YY"}}, "locales.en"),
    ({"authors": 5}, "authors"),
    ({"methods": {"instruments": "push_pull"}}, "instruments"),
    ({"methods": {"reliability": [5]}}, "reliability"),
])
def test_malformed_brief_specs_raise_brief_error(tmp_path, change, message):
    study = _study(tmp_path, _brief(**change), languages=("en",))
    with pytest.raises(BriefError, match=message):
        build_briefs(study, tmp_path, _results(), {}, pdf=False)


def test_footer_title_cannot_escape_its_css_string(tmp_path):
    evil = 'Brief\r}} main { display: none } @page { x: "'
    html = render_brief(_study(tmp_path, _brief(title={"en": evil})), _results(), "en")
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    # the whole title stays inside one CSS string: only escapes, no raw quote, backslash or line end
    assert re.search(r'@bottom-left \{ content: "(?:[^"\\\r\n\f]|\\[0-9a-f]+ )*"; font-size: 7.5pt', style)
    from veplab.brief._render import _css_string

    assert _css_string('a"b\\c\n\r\x0c<') == '"a\\22 b\\5c c\\a \\d \\c \\3c "'


@needs_pdf
def test_pdf_rendering_fetches_nothing():
    from veplab.brief._render import _data_only

    fetcher = _data_only()
    fetch = getattr(fetcher, "fetch", fetcher)
    with pytest.raises(ValueError):
        fetch("file:///etc/hostname")


def test_missing_but_not_suppressed_is_not_called_withheld(tmp_path):
    results = _results()
    by = results["notebooks"]["nb"]["tables"]["by_gender"]
    by["data"][by["index"].index("Man")][by["columns"].index("estimate")] = None  # not estimated, not masked
    brief = _brief(charts=[{"key": "nb.tables.by_gender", "format": "share", "rows": ["Man"]}])
    html = render_brief(_study(tmp_path, brief), results, "en")
    assert "Groups of fewer than 10 people are not shown" not in html
    assert "Man \u2014" in html and "One number planned for this brief was withheld" in html  # the tiny value


def test_check_fonts_names_the_debian_package(monkeypatch, capsys):
    from veplab.brief import _render

    found = check_fonts(pdf=False)
    assert set(found) == {"Noto Sans", "Noto Sans Arabic", "DejaVu Sans"}
    monkeypatch.setattr(_render, "_fc_list", lambda: {"Noto Sans": ["/x/NotoSans-Regular.ttf"]})
    with pytest.raises(BriefError, match=r"\['DejaVu Sans', 'Noto Sans Arabic'\].*fonts-dejavu-core fonts-noto-core"):
        check_fonts(pdf=False)
    # the command make calls: exit status 1 and the package named on stderr
    from veplab.brief.__main__ import main

    assert main(["check-fonts"]) == 1
    assert "apt-get install fonts-dejavu-core fonts-noto-core" in capsys.readouterr().err


def test_study_without_brief_gets_none(tmp_path):
    import yaml

    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "study.yml").write_text(yaml.safe_dump({"id": "s", "sources": {}}), encoding="utf-8")
    log: list[str] = []
    res = build_briefs(load_study(folder), tmp_path, _results(), {}, log=log.append)
    assert res.files == [] and "no brief" in log[0]


# --------------------------------------------------------------------------- charts over the design's breakdowns


def _design_study(tmp_path: Path, brief: dict, *, breakdowns=("country", "gender", "age_band"), languages=LANGS,
                  analyses: dict | None = None):
    """A study whose codebook labels its breakdowns in four languages (no data needed to render a brief)."""
    import yaml

    folder = tmp_path / "designed"
    folder.mkdir(exist_ok=True)

    def lab(en, fr, ar, ru):
        return {"en": en, "fr": fr, "ar": ar, "ru": ru}

    codebook = {"id": "people_v1", "title": lab("People survey", "Enquête", "استبيان", "Опрос"), "unit": "person",
                "id_column": "pid", "items": [
                    {"id": "pid", "label": {"en": "Person"}, "type": "text", "role": "admin", "pseudonymised": True},
                    {"id": "country", "label": lab("Country", "Pays", "البلد", "Страна"), "type": "categorical",
                     "role": "quasi_identifier", "options": {1: lab("Atlantis", "Atlantide", "أتلانتس", "Атлантида")}},
                    {"id": "gender", "label": lab("Gender", "Genre", "الجنس", "Пол"), "type": "categorical",
                     "role": "quasi_identifier", "options": {1: lab("Man", "Homme", "رجل", "Мужчина"),
                                                             2: lab("Woman", "Femme", "امرأة", "Женщина")}},
                    {"id": "age_band", "label": lab("Age group", "Tranche d'âge", "الفئة العمرية", "Возрастная группа"),
                     "type": "ordinal", "role": "quasi_identifier",
                     "options": {1: lab("Under 30", "Moins de 30 ans", "أقل من 30", "До 30"),
                                 2: lab("30 and over", "30 ans et plus", "30 فأكثر", "30 и старше")}}]}
    (folder / "people.yml").write_text(yaml.safe_dump(codebook, allow_unicode=True), encoding="utf-8")
    (folder / "study.yml").write_text(yaml.safe_dump({
        "id": "designed", "title": {"en": "Designed study"}, "languages": list(languages),
        "disclosure": {"threshold": 10}, "sources": {"people": {"path": "data/people.csv", "codebook": "people.yml"},
                                                     "other": {"path": "data/other.csv", "codebook": "people.yml"}},
        "design": {"breakdowns": list(breakdowns)}, "analyses": analyses or {}, "brief": brief,
    }, allow_unicode=True), encoding="utf-8")
    return load_study(folder)


def _design_results() -> dict:
    """Mean scores by gender and by age group (no table by country: one country), and a tidy table."""
    from veplab.report import Report

    rep = Report(None, "nb", threshold=10, display=False)
    for by, rows in (("gender", {"Man": (150, 2.1), "Woman": (60, 2.6)}),
                     ("age_band", {"Under 30": (90, 2.5), "30 and over": (120, 2.0)})):
        t = pd.DataFrame({"n": [r[0] for r in rows.values()], "estimate": [r[1] for r in rows.values()],
                          "ci_low": [r[1] - 0.2 for r in rows.values()], "ci_high": [r[1] + 0.2 for r in rows.values()]},
                         index=pd.Index(list(rows), name=by))
        rep.table(t, f"score_by_{by}", kind="stats", n="n")
    tidy = pd.DataFrame({"group_var": ["gender", "gender", "age_band", "age_band"],
                         "group": ["Man", "Woman", "Under 30", "30 and over"], "n": [150, 60, 90, 120],
                         "estimate": [2.1, 2.6, 2.5, 2.0]})
    rep.table(tidy, "tidy_scores", kind="stats", n="n")
    rep.value("people_n", 210, kind="count")
    rep.value("other_n", 300, kind="count")
    return {"study": "designed", "veplab": "0", "threshold": 10,
            "notebooks": {"nb": rep.results, "overview": {"values": {"people_n": rep.results["values"]["people_n"],
                                                                     "other_n": rep.results["values"]["other_n"]}}}}


def _charts_of(html: str) -> list[tuple[str, str]]:
    """(data-by, title) of each chart, in order."""
    import html as _html

    return [(by, _html.unescape(title)) for by, title in
            re.findall(r'<figure class="chart" data-by="([^"]*)">\s*(?:<h3>([^<]*)</h3>)?', html)]


def test_charts_expand_over_the_design_breakdowns(tmp_path):
    brief = _brief(figures=[], charts=[{"key": "nb.tables.score_by_{by}", "by": "design", "limits": [1, 5]}])
    study = _design_study(tmp_path, brief)
    r = render(study, _design_results(), "en")
    # country has no table (one country): one chart per breakdown whose table exists, in the design's order
    assert _charts_of(r.html) == [("gender", "By gender"), ("age_band", "By age group")]
    assert "<h2>By gender and age group</h2>" in r.html
    alts = re.findall(r'alt="([^"]*)"', r.html)
    assert alts == ["Man 2.10 (n = 150); Woman 2.60 (n = 60)", "Under 30 2.50 (n = 90); 30 and over 2.00 (n = 120)"]
    # every language takes the breakdown's label from the codebook, and nothing falls back to English
    fr = render(study, _design_results(), "fr")
    assert _charts_of(fr.html) == [("gender", "Par genre"), ("age_band", "Par tranche d'âge")]
    assert "<h2>Par genre et tranche d'âge</h2>" in __import__("html").unescape(fr.html) and "Femme" in fr.html
    ar = render(study, _design_results(), "ar")
    assert _charts_of(ar.html)[1] == ("age_band", "حسب الفئة العمرية")
    assert "<h2>حسب الجنس والفئة العمرية</h2>" in ar.html
    ru = render(study, _design_results(), "ru")
    assert _charts_of(ru.html)[0] == ("gender", "В разбивке по признаку «пол»")
    assert not [m for m in fr.missing + ar.missing + ru.missing if "label" in m or "chart" in m], fr.missing


def test_chart_titles_per_breakdown_or_from_a_template(tmp_path):
    charts = [{"key": "nb.tables.score_by_{by}", "by": ["age_band", "gender"],
               "title": {"en": "Mean score, by {by}", "fr": "Score moyen : {By}"},
               "titles": {"gender": {"en": "Women and men", "fr": "Femmes et hommes"}},
               "axis": {"en": "{By} (mean, 1 to 5)"}}]
    study = _design_study(tmp_path, _brief(figures=[], charts=charts), languages=("en", "fr"))
    html = render_brief(study, _design_results(), "en")
    assert _charts_of(html) == [("age_band", "Mean score, by age group"), ("gender", "Women and men")]
    assert "Age group (mean, 1 to 5)" in html
    fr = render(study, _design_results(), "fr")
    assert _charts_of(fr.html) == [("age_band", "Score moyen\u00a0: Tranche d'âge"), ("gender", "Femmes et hommes")]
    # tidy tables: {by} also fills where: values
    tidy = [{"key": "nb.tables.tidy_{by}", "by": "gender", "where": {"group_var": "{by}"}}]
    with pytest.raises(BriefError, match=r"no table exists for any breakdown: tried nb\.tables\.tidy_gender"):
        render_brief(_design_study(tmp_path, _brief(figures=[], charts=tidy)), _design_results(), "en")
    tidy = [{"key": "nb.tables.tidy_scores", "by": "gender", "where": {"group_var": "gender"}}]
    html = render_brief(_design_study(tmp_path, _brief(figures=[], charts=tidy)), _design_results(), "en")
    assert _charts_of(html) == [("gender", "By gender")]  # the old explicit form, titled from the codebook


@pytest.mark.parametrize("chart, message", [
    ({"key": "nb.tables.score_by_gender", "by": "design"}, r"write \{by\} in key"),
    ({"key": "nb.tables.score_by_{by}"}, r"holds \{by\}, but the entry has no by"),
    ({"key": "nb.tables.score_by_{by}", "by": ["prison"]}, r"no table exists for any breakdown: tried "
                                                           r"nb\.tables\.score_by_prison; published tables are: "
                                                           r"nb\.tables\.score_by_gender"),
    ({"key": "nb.tables.score_by_{by}", "by": 5}, "expected design, a column name or a list"),
    ({"key": "nb.tables.score_by_{by}", "by": "design", "titles": {"sex": {"en": "x"}}}, r"\['sex'\] is not charted"),
    ({"key": "nb.tables.score_by_gender", "by": "region"}, "no codebook of the study labels the column 'region'"),
    ({"key": "nb.tables.score_by_gender", "by": "region", "title": {"en": "By {by}"}}, r"uses \{by\}"),
])
def test_malformed_breakdown_charts(tmp_path, chart, message):
    study = _design_study(tmp_path, _brief(figures=[], charts=[chart]), languages=("en",))
    with pytest.raises(BriefError, match=message):
        render_brief(study, _design_results(), "en")


def test_by_design_needs_breakdowns(tmp_path):
    study = _design_study(tmp_path, _brief(figures=[], charts=[{"key": "nb.tables.score_by_{by}", "by": "design"}]),
                          breakdowns=(), languages=("en",))
    with pytest.raises(BriefError, match=r"by: design, but .*study\.yml declares no design\.breakdowns"):
        render_brief(study, _design_results(), "en")


def test_samples_auto_lists_the_overview_sources_and_headings_follow_the_charts(tmp_path):
    brief = _brief(figures=[], charts=[{"key": "nb.tables.score_by_gender", "by": "gender"},
                                       {"key": "nb.tables.tidy_scores", "where": {"group_var": "age_band"},
                                        "title": {"en": "Records"}}],
                   methods={"samples": "auto"})
    study = _design_study(tmp_path, brief, analyses={"overview": {"sources": ["other"]}}, languages=("en",))
    html = render_brief(study, _design_results(), "en")
    samples = re.search(r"<h3>Instruments and numbers of people</h3>\s*<dl>(.*?)</dl>", html, re.S).group(1)
    assert "300" in samples and "210" not in samples  # only the source the overview describes
    assert "<h2>Results by group</h2>" in html  # a chart not by a breakdown: a neutral heading
    study = _design_study(tmp_path, brief, languages=("en",))  # no overview declared: every source
    samples = re.search(r"<dl>(.*?)</dl>", render_brief(study, _design_results(), "en"), re.S).group(1)
    assert "300" in samples and "210" in samples


def test_a_withheld_table_is_said_to_be_withheld(tmp_path):
    """A table the gate did not publish (results.json keeps its reasons, no numbers): no chart, no number."""
    results = _design_results()
    results["notebooks"]["nb"]["tables"]["score_by_age_band"] = {
        "kind": "table", "key": "score_by_age_band", "notebook": "nb", "status": "withheld for review",
        "table_kind": "stats", "reasons": ["linked with another table"]}
    brief = _brief(figures=[{"key": "nb.tables.score_by_age_band", "row": "Under 30"}],
                   charts=[{"key": "nb.tables.score_by_{by}", "by": "design"}])
    html = render_brief(_design_study(tmp_path, brief, languages=("en",)), results, "en")
    assert _charts_of(html) == [("gender", "By gender"), ("age_band", "By age group")]
    assert html.count('src="data:image/png') == 1
    assert "Not shown: the disclosure check withheld the numbers behind this chart." in html
    assert "Not shown: this figure rests on fewer than 10 people" in html
    assert "2 numbers planned for this brief were withheld under this rule." in html
