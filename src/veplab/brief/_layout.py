"""Fit a brief to its pages: lay it out, measure how full the last page is, and re-render denser or roomier.

A brief's length depends on the study (how many key messages, figures, charts,
recommendations, how long the translated text is), so no single style fills the
pages of every brief.  :func:`fit` renders the brief at the default density,
lays it out with WeasyPrint and measures each page (:func:`measure`): how far
down the content reaches on the last page, whether a heading was left alone at
the bottom of a page, and whether a card, chart or box was split across pages.
When the last page is less than :data:`MIN_FILL` full it tries denser layouts
(smaller charts, tighter spacing, slightly smaller type, narrower margins) and
keeps the first that needs fewer pages and fills its last page (else the first
with the fewest pages); when no density removes the page it
tries roomier layouts (taller charts, more space) and keeps the one that fills
the last page most without adding a page.  A layout with a stranded heading or
a split card is used only when no other is free of them.

The density levels are :data:`LEVELS` (0 is the default); each is a set of CSS
sizes for ``brief.css.j2`` and a chart height for :func:`veplab.brief._charts.draw`.

Fill of a page: the lowest edge of any text, image, border or background in the
page's content area (the running footer excluded), as a share of the content
area's height.  It is measured on WeasyPrint's laid-out boxes, the same layout
the PDF is written from.

Examples
--------
>>> from veplab.brief._layout import LEVELS                                # doctest: +SKIP
>>> sorted(LEVELS)                                                         # doctest: +SKIP
[-2, -1, 0, 1, 2, 3]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

#: Below this share of its content area the last page counts as mostly empty.
MIN_FILL = 0.4

#: Density levels: negative = roomier, positive = denser.  ``font``: base size (pt); ``scale``: factor on
#: the other type sizes; ``space``: factor on vertical gaps; ``line``: line height; ``margin``: page
#: margins (mm: top, side, bottom); ``chart``: chart height (inches at 3.5 in wide).
LEVELS: dict[int, dict[str, Any]] = {
    -2: {"font": 10.2, "scale": 1.05, "space": 1.5, "line": 1.5, "margin": (18, 17, 20), "chart": 2.9},
    -1: {"font": 9.9, "scale": 1.02, "space": 1.25, "line": 1.46, "margin": (17, 16, 19), "chart": 2.6},
    0: {"font": 9.6, "scale": 1.0, "space": 1.0, "line": 1.42, "margin": (16, 16, 18), "chart": 2.3},
    1: {"font": 9.3, "scale": 0.97, "space": 0.8, "line": 1.38, "margin": (14, 15, 17), "chart": 2.0},
    2: {"font": 9.0, "scale": 0.94, "space": 0.65, "line": 1.34, "margin": (13, 14, 16), "chart": 1.8},
    3: {"font": 8.7, "scale": 0.91, "space": 0.5, "line": 1.3, "margin": (12, 13, 15), "chart": 1.6},
}

#: Elements that must not be split across pages (class names) and headings that must not end a page.
_UNSPLIT = {"card", "chart", "box", "protection"}
_HEADINGS = {"h1", "h2", "h3"}


@dataclasses.dataclass
class PageMeasure:
    """What :func:`measure` found on the laid-out pages of a brief."""

    fills: list[float]
    #: (page number, heading text) of headings with nothing after them on their page.
    stranded_headings: list[tuple[int, str]]
    #: (first page, class) of cards, charts and boxes split across pages.
    split: list[tuple[int, str]]

    @property
    def pages(self) -> int:
        return len(self.fills)

    @property
    def last_fill(self) -> float:
        return self.fills[-1] if self.fills else 0.0

    @property
    def clean(self) -> bool:
        return not self.stranded_headings and not self.split


@dataclasses.dataclass
class Fitted:
    """The layout :func:`fit` chose: its level, the rendered brief, the WeasyPrint document and measures."""

    level: int
    rendered: Any
    document: Any
    measure: PageMeasure
    tried: dict[int, PageMeasure]


#: A boxed list is kept whole on one page when it has at most this many items and characters;
#: a longer one may break between items (a box pushed whole to the next page would leave a gap).
KEEP_ITEMS, KEEP_CHARS = 5, 900


def keep_class(items: list[str]) -> str:
    """`` keep`` (the CSS class that avoids a page break inside) for a short list, else ``""``."""
    return " keep" if len(items) <= KEEP_ITEMS and sum(len(i) for i in items) <= KEEP_CHARS else ""


def _walk(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _walk(child)


def _visible_bottom(box: Any, boxes: Any) -> float | None:
    """The lowest edge of what ``box`` itself draws (text, image, border or background), or None."""
    if isinstance(box, boxes.TextBox):
        return box.position_y + box.margin_height() if box.text.strip() else None
    if isinstance(box, boxes.ReplacedBox):
        return box.border_box_y() + box.border_height()
    style = box.style
    borders = any(style[f"border_{side}_width"] and style[f"border_{side}_style"] not in ("none", "hidden")
                  for side in ("top", "right", "bottom", "left"))
    bg = style["background_color"]
    background = bg is not None and getattr(bg, "alpha", 0) > 0
    if borders or background:
        if isinstance(box, (boxes.PageBox, boxes.MarginBox)) or getattr(box, "element_tag", None) in ("html", "body"):
            return None
        return box.border_box_y() + box.border_height()
    return None


def _classes(box: Any) -> set[str]:
    el = getattr(box, "element", None)
    cls = el.get("class") if el is not None else None
    return set(cls.split()) if cls else set()


def measure(document: Any) -> PageMeasure:
    """Fill of each page, stranded headings and split blocks of a laid-out WeasyPrint ``document``.

    Fill = (lowest bottom edge of a text, image, border or background in the page's content area
    - top of the content area) / its height; the page's margin boxes (running footer) are left out.

    >>> m = measure(layout_pdf('<div style="height: 120mm; border: 1pt solid"></div>'))  # doctest: +SKIP
    >>> m.pages, round(m.last_fill, 2)  # 8px body margin + 342pt box, of A4 less 75px margins # doctest: +SKIP
    (1, 0.48)
    """
    from weasyprint.formatting_structure import boxes

    fills: list[float] = []
    stranded: list[tuple[int, str]] = []
    seen: dict[int, tuple[int, str]] = {}  # id(element) -> (first page, class) of unsplittable blocks
    split: list[tuple[int, str]] = []
    for number, page in enumerate(document.pages, 1):
        page_box = page._page_box
        top = page_box.content_box_y()
        height = page_box.height
        lowest = top
        items: list[tuple[float, float, Any]] = []  # (top, bottom, box) of visible boxes in reading order
        headings: list[tuple[float, Any]] = []
        for root in page_box.children:
            if isinstance(root, boxes.MarginBox):
                continue
            for box in _walk(root):
                el = getattr(box, "element", None)
                if el is not None and el.tag in _HEADINGS and isinstance(box, boxes.BlockBox):
                    headings.append((box.border_box_y() + box.border_height(), box))
                cls = _classes(box) & _UNSPLIT
                if cls and isinstance(box, boxes.BlockLevelBox) and el is not None:
                    key = id(el)
                    if key in seen and seen[key][0] != number and (seen[key][0], seen[key][1]) not in split:
                        split.append(seen[key])
                    seen.setdefault(key, (number, sorted(cls)[0]))
                bottom = _visible_bottom(box, boxes)
                if bottom is not None:
                    items.append((box.position_y, bottom, box))
                    lowest = max(lowest, bottom)
        fills.append(max(0.0, min(1.0, (lowest - top) / height)) if height else 0.0)
        for h_bottom, h in headings:
            after = [b for t, b, _box in items if t >= h_bottom - 0.5 and b > h_bottom + 0.5]
            if not after:
                text = " ".join(b.text for b in _walk(h) if isinstance(b, boxes.TextBox)).strip()
                stranded.append((number, text))
    return PageMeasure(fills, stranded, split)


def _better_fill(a: PageMeasure, b: PageMeasure | None) -> bool:
    return b is None or a.last_fill > b.last_fill


def fit(render_at: Callable[[int], Any], layout: Callable[[Any], Any], *,
        min_fill: float = MIN_FILL) -> Fitted:
    """Choose the density level for a brief.

    ``render_at(level)`` renders the brief's HTML at a level of :data:`LEVELS`;
    ``layout(rendered)`` lays it out (a WeasyPrint document).  Level 0 is kept
    when its last page is at least ``min_fill`` full.  Otherwise the denser
    levels are tried in order and the first that needs fewer pages with a last
    page at least ``min_fill`` full is kept (none: the first with the fewest pages);
    when none does, the roomier levels are tried and the one that fills the
    last page most without adding a page is kept.  A layout that strands a
    heading or splits a card is only kept when every layout tried does.

    >>> from veplab.brief._render import layout_pdf, render                # doctest: +SKIP
    >>> f = fit(lambda lv: render(study, results, "en", level=lv), lambda r: layout_pdf(r.html))  # doctest: +SKIP
    >>> f.level, [round(x, 2) for x in f.measure.fills]                    # doctest: +SKIP
    (0, [0.9, 0.89, 0.65])
    """
    tried: dict[int, tuple[Any, Any, PageMeasure]] = {}

    def at(level: int) -> PageMeasure:
        if level not in tried:
            r = render_at(level)
            doc = layout(r)
            tried[level] = (r, doc, measure(doc))
        return tried[level][2]

    def done(level: int) -> Fitted:
        r, doc, m = tried[level]
        return Fitted(level, r, doc, m, {k: v[2] for k, v in tried.items()})

    base = at(0)
    if base.last_fill >= min_fill and base.clean:
        return done(0)
    choice: int | None = None
    fewest: int | None = None  # the least dense level with the fewest pages (below the default's)
    for level in sorted(k for k in LEVELS if k > 0):
        m = at(level)
        if not m.clean or m.pages >= base.pages:
            continue
        if m.last_fill >= min_fill:
            choice = level
            break
        if fewest is None or m.pages < tried[fewest][2].pages:
            fewest = level
    if choice is None:
        choice = fewest
    if choice is None:
        best = 0 if base.clean else None
        for level in sorted((k for k in LEVELS if k < 0), reverse=True):
            m = at(level)
            if m.pages > base.pages:
                break
            if m.clean and (best is None or _better_fill(m, tried[best][2])):
                best = level
        clean = [k for k in tried if tried[k][2].clean]
        if best is None and clean:  # the default strands a heading or splits a block; another does not
            best = min(clean, key=lambda k: (tried[k][2].pages, -tried[k][2].last_fill, abs(k)))
        if best is None:  # every layout tried strands a heading or splits a block: the fewest problems
            best = min(tried, key=lambda k: (len(tried[k][2].stranded_headings) + len(tried[k][2].split),
                                             tried[k][2].pages, abs(k)))
        choice = best
    return done(choice)
