"""HTML of gated outputs: one renderer for the notebook display and the published page.

``veplab build`` publishes pages from the result payloads alone (default
deny), so what a reader sees is drawn from exactly the numbers that the
disclosure gate checked and that ``results.json`` holds; the HTML a notebook
displayed while it ran is never copied.

>>> html = render_payload({"kind": "value", "key": "n", "caption": "People", "value": 120,
...                        "status": "ok"}, threshold=10)
>>> "120" in html
True
"""

from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["render_payload", "render_markdown", "withheld_note", "MARK", "PLACEHOLDER"]

MARK = "‡"
#: ``{key}`` in run-time text: a value published by the same report.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")


def _esc(x: Any) -> str:
    return _html.escape(str(x))


def render_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML escaped (authored text cannot inject markup)."""
    import mistune

    md = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return str(md(text))


def withheld_note(count: int, reason: str = "not checked") -> str:
    """The line a page shows where output that did not pass the gate was left out."""
    word = "output" if count == 1 else "outputs"
    return (f'<p class="veplab-withheld" role="note">{count} {word} withheld: {_esc(reason)} '
            f"(only results published through the disclosure gate appear in this report).</p>")


def _fmt(v: Any, digits: int) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return _esc(v)


def _table(p: Mapping[str, Any], threshold: int) -> str:
    digits = int(p.get("digits", 2))
    key = _esc(p.get("key", ""))
    out = [f'<table class="veplab-table" data-key="{key}">']
    if p.get("caption"):
        out.append(f"<caption>{_esc(p['caption'])}</caption>")
    idx_name = _esc(p["index_name"]) if p.get("index_name") is not None else ""
    out.append("<thead><tr><th>" + idx_name + "</th>"
               + "".join(f"<th>{_esc(c)}</th>" for c in p.get("columns", [])) + "</tr></thead><tbody>")
    any_mask = False
    for label, row, mrow in zip(p.get("index", []), p.get("data", []), p.get("suppressed", [])):
        cells = []
        for v, m in zip(row, mrow):
            if m:
                any_mask = True
                cells.append(f'<td class="suppressed">{MARK}</td>')
            else:
                cells.append(f"<td>{_fmt(v, digits)}</td>")
        out.append(f"<tr><th>{_esc(label)}</th>{''.join(cells)}</tr>")
    out.append("</tbody></table>")
    notes = []
    if any_mask:
        notes.append(f"{MARK} suppressed: fewer than {threshold} people, or hidden so that totals or other "
                     "tables cannot reveal another suppressed cell.")
    if p.get("note"):
        notes.append(_esc(p["note"]))
    if notes:
        out.append('<p class="veplab-note">' + "<br>".join(notes) + "</p>")
    return "\n".join(out)


def _value(p: Mapping[str, Any]) -> str:
    key = _esc(p.get("key", ""))
    if p.get("suppressed") or p.get("value") is None:
        shown, ci_txt = MARK, ""
    else:
        v = p["value"]
        shown = f"{v:,.3g}" if isinstance(v, float) else f"{v}"
        ci = p.get("ci")
        level = p.get("ci_level") or 0.95
        ci_txt = (f" ({100 * level:g}% CI {ci[0]:.3g}–{ci[1]:.3g})"
                  if ci and ci[0] is not None and ci[1] is not None else "")
        if p.get("n") is not None and p.get("value_kind") != "count":
            ci_txt += f"; n = {p['n']:,}"
    return (f'<p class="veplab-value" data-key="{key}"><b>{_esc(p.get("caption") or p.get("key"))}:</b> '
            f"{_esc(shown)}{_esc(ci_txt)}</p>")


def _figure(p: Mapping[str, Any]) -> str:
    key = _esc(p.get("key", ""))
    alt = _esc(p.get("alt") or p.get("caption") or p.get("key"))
    cap = f"<figcaption>{_esc(p['caption'])}</figcaption>" if p.get("caption") else ""
    png = p.get("png") or ""
    if not re.fullmatch(r"[A-Za-z0-9+/=]*", png):
        return withheld_note(1, "figure image is not a PNG made by the report helpers")
    return f'<figure class="veplab-figure" data-key="{key}"><img alt="{alt}" src="data:image/png;base64,{png}"/>{cap}</figure>'


def render_payload(p: Mapping[str, Any], *, threshold: int, text: str | None = None) -> str:
    """HTML of one gated output payload (table, value, figure or run-time text).

    ``text`` is the already filled-in Markdown of a ``kind="text"`` payload."""
    kind = p.get("kind")
    if kind == "table":
        return _table(p, threshold)
    if kind == "value":
        return _value(p)
    if kind == "figure":
        return _figure(p)
    if kind == "text":
        return render_markdown(text if text is not None else str(p.get("text", "")))
    return withheld_note(1)
