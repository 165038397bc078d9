"""Every published page reads as text for people: no header, caption, row label or text cell is a
raw code name (a column or item id such as ``missing_share``, a model term such as ``C(gender)2``,
``gender[T.2]`` or ``gender[2]``).  ``results.json`` keeps the machine names; the pages show labels.

Checked on the demo and on two studies that are not the demo (tests/_studies.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

bs4 = pytest.importorskip("bs4")

#: what a raw code name looks like on a page
CODE_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"   # snake_case ids: missing_share, alpha_ci_low
                       r"|\bC\([A-Za-z_]"                       # patsy terms: C(gender)2
                       r"|\[T\."                                # patsy treatment levels: gender[T.2]
                       r"|\b[a-z]\w*\[[^\]\s]+\]")              # formulaic levels: gender[2]


def raw_code_names(html: str) -> list[tuple[str, str, str]]:
    """(element, code name, text) for each raw code name in a page's headers, captions, row labels
    and text cells (numbers are not looked at; prose paragraphs may name options on purpose)."""
    soup = bs4.BeautifulSoup(html, "html.parser")
    found = []
    for el in soup.find_all(["th", "td", "caption", "figcaption", "h1", "h2", "h3", "h4", "b", "li"]):
        text = el.get_text(" ", strip=True)
        for m in CODE_NAME.finditer(text):
            found.append((el.name, m.group(0), text[:100]))
    for img in soup.find_all("img"):
        for m in CODE_NAME.finditer(img.get("alt") or ""):
            found.append(("img alt", m.group(0), img["alt"][:100]))
    return found


def test_the_check_finds_code_names():
    page = ("<table><caption>alpha by scale</caption><thead><tr><th></th><th>alpha_ci_low</th></tr></thead>"
            "<tbody><tr><th>C(gender)2</th><td>trust_staff</td></tr><tr><th>gender[T.2]</th><td>1</td></tr>"
            "<tr><th>gender[2]</th><td>0.5</td></tr><tr><th>Gender: woman</th><td>ICC(1)</td></tr></tbody></table>")
    names = {n for _, n, _ in raw_code_names(page)}
    assert names == {"alpha_ci_low", "C(g", "trust_staff", "gender[T.2]", "gender[2]"}
    assert raw_code_names("<table><tr><th>age[T.30+]</th></tr></table>")[0][1] in ("[T.", "age[T.30+]")


def _pages(folder: Path) -> list[Path]:
    pages = [p for p in sorted(folder.glob("*.html")) if not p.name.startswith("brief-")]
    assert pages, f"no pages in {folder}"
    return pages


def _assert_readable(folder: Path) -> None:
    bad = {p.name: raw_code_names(p.read_text(encoding="utf-8")) for p in _pages(folder)}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, "raw code names on published pages:\n" + "\n".join(
        f"{page}: {el} {name!r} in {text!r}" for page, hits in bad.items() for el, name, text in hits[:20])


def test_demo_pages_show_labels_not_code_names(demo_report):
    _assert_readable(demo_report)


@pytest.mark.parametrize("fixture", ["three_assessors_report", "prepost_report"])
def test_other_studies_pages_show_labels_not_code_names(fixture, request):
    folder, info = request.getfixturevalue(fixture)
    assert info["ok"], info["errors"]
    _assert_readable(folder)
