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
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["render_payload", "render_markdown", "withheld_note", "format_number", "value_formats", "header", "MARK",
           "PLACEHOLDER"]

from ..plots.style import MARK
#: ``{key}`` in run-time text: a value published by the same report.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")


def _esc(x: Any) -> str:
    return _html.escape(str(x))


def render_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML escaped (authored text cannot inject markup).

    CommonMark with tables and strikethrough, rendered by mistune with
    ``escape=True``: ``<script>`` written in a Markdown cell or run-time text
    appears as text, never as markup.

    Parameters
    ----------
    text:
        Markdown.

    Returns
    -------
    str
        HTML.

    References
    ----------
    MacFarlane J (2021). CommonMark Spec, version 0.30 (spec.commonmark.org).
    mistune: a fast Markdown parser in pure Python (mistune.lepture.com).
    WHATWG. HTML Living Standard (``table``, ``caption``, ``figure``, ``figcaption``,
    ``details``; character references for escaping).
    docs/DESIGN.md, section "Privacy": pages are drawn from the gated payloads
    (``results.json``); raw notebook output is never published.

    Examples
    --------
    >>> render_markdown("**Note:** <script>alert(1)</script>").strip()
    '<p><strong>Note:</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>'
    """
    import mistune

    md = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return str(md(text))


def withheld_note(count: int, reason: str = "not checked") -> str:
    """The line a page shows where output that did not pass the gate was left out.

    Default deny: an output the gate refused, could not check, or that waits
    for a person's approval is not shown; the page says how many were left out
    and why (the reason is HTML-escaped), never what they held.

    Parameters
    ----------
    count:
        How many outputs were withheld.
    reason:
        Why (shown to the reader).

    Returns
    -------
    str
        A ``<p class="veplab-withheld" role="note">`` element.

    References
    ----------
    WHATWG. HTML Living Standard (``table``, ``caption``, ``figure``, ``figcaption``,
    ``details``; character references for escaping).
    docs/DESIGN.md, section "Privacy": pages are drawn from the gated payloads
    (``results.json``); raw notebook output is never published.

    Examples
    --------
    >>> withheld_note(2, "held for review")
    '<p class="veplab-withheld" role="note">2 outputs withheld: held for review (only results published through the disclosure gate appear in this report).</p>'
    """
    word = "output" if count == 1 else "outputs"
    return (f'<p class="veplab-withheld" role="note">{count} {word} withheld: {_esc(reason)} '
            f"(only results published through the disclosure gate appear in this report).</p>")


# ------------------------------------------------------------------ one number-formatting policy
#
# * whole numbers (counts, df) with thousands separators and no decimals: 1,239 and 105, never 105.000;
# * p-values with three decimals, and "< 0.001" below that (never "0.000");
# * shares (columns or values named *share*, *_rate, *prop*) as percentages with one decimal: 3.2%;
# * other numbers with the table's digits; an estimate and its interval with the same decimals;
# * yes/no for flags; "–" for a missing value; the mark ‡ for a suppressed one.
# results.json keeps the numbers and the machine names; only the page is formatted.

#: Readable headers for the column names the analyses use (anything else: underscores become spaces).
HEADERS: dict[str, str] = {
    "n": "n", "k": "items", "se": "SE", "sd": "SD", "p": "p", "estimate": "estimate", "mean": "mean",
    "p_value": "p", "pvalue": "p", "df": "df", "chisq": "chi-square", "cfi": "CFI", "tli": "TLI",
    "rmsea": "RMSEA", "srmr": "SRMR", "aic": "AIC", "bic": "BIC", "loglik": "log-likelihood",
    "npar": "parameters", "vcov": "variance", "sdcor": "SD", "r_drop": "item-total r (corrected)",
    "alpha_if_deleted": "alpha if deleted", "omega_total": "omega total", "omega_h": "omega hierarchical",
    "n_pairs": "pairs", "n_events": "events", "n_eligible": "people asked", "n_straightliners": "straight-liners",
    "mean_pre": "mean before", "mean_post": "mean after", "mean_change": "mean change",
    "g_av": "Hedges' g (av)", "hedges_g": "Hedges' g", "cliff_delta": "Cliff's delta", "icc": "ICC",
    "kappa": "kappa", "ac1": "AC1", "hr": "hazard ratio", "hazard_ratio": "hazard ratio", "odds_ratio": "odds ratio",
    "delta_chisq": "change in chi-square", "delta_df": "change in df", "delta_pvalue": "p (change)",
    "delta_cfi": "change in CFI", "missing_share": "missing", "dont_know_share": "don't know",
    "refused_share": "refused", "invalid_share": "invalid", "answered": "answered", "base_rate": "base rate",
    "smd": "SMD", "auc": "AUC", "entropy_r2": "entropy R²",
    "not_applicable_share": "not applicable", "not_asked_share": "not asked", "blank_share": "blank",
    "other_missing_share": "other missing",
}
_P_NAMES = re.compile(r"^(p|pvalue|p_value|p_.*|.*_p|.*_pvalue|.*_p_value)$", re.IGNORECASE)
#: A published value whose key ends so is a p-value (``lr_p``, ``shared_steps_pvalue``); ``p_rearrest`` is not.
_P_VALUE_KEY = re.compile(r"(?:^|_)(?:p|pvalue|p_value)$", re.IGNORECASE)
_SHARE_NAMES = re.compile(r"((?:^|_)shares?(?:$|_)|prop|_pct$|^rate$|_rate$|^rate_|_rate_|percent)", re.IGNORECASE)
_CI_PAIR = re.compile(r"^(?:(.*?)_)?ci_low$")


def header(name: Any) -> str:
    """The readable header of a column name (``alpha_ci_low`` -> ``alpha CI low``).

    Names in :data:`HEADERS` get their fixed header (``n_pairs`` -> ``pairs``,
    ``rmsea`` -> ``RMSEA``); any other name is split at underscores, each word
    looked up in :data:`HEADERS` and ``ci`` written ``CI``.  ``results.json``
    keeps the machine names; only the page shows headers.

    Parameters
    ----------
    name:
        A column name (anything; shown through ``str``).

    Returns
    -------
    str

    References
    ----------
    American Psychological Association (2020). Publication Manual of the American Psychological
    Association, 7th ed. (table headings and statistical abbreviations: SD, SE, CI, df).

    Examples
    --------
    >>> header("missing_share"), header("alpha_ci_low"), header("n_pairs"), header("rmsea")
    ('missing', 'alpha CI low', 'pairs', 'RMSEA')
    """
    text = str(name)
    if text in HEADERS:
        return HEADERS[text]
    words = [{"ci": "CI"}.get(w, HEADERS.get(w, w)) for w in text.split("_")]
    return " ".join(w for w in words if w)


def _is_p(name: Any) -> bool:
    return bool(_P_NAMES.match(str(name)))


def _numbers(values: Any) -> list[float]:
    return [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
            and not (isinstance(v, float) and math.isnan(v))]


def _is_share(name: Any, values: Any) -> bool:
    nums = _numbers(values)
    return bool(_SHARE_NAMES.search(str(name))) and bool(nums) and all(0 <= v <= 1 for v in nums)


def _whole(values: Any) -> bool:
    nums = _numbers(values)
    return bool(nums) and all(float(v).is_integer() and abs(v) < 1e15 for v in nums)


def format_number(v: Any, *, digits: int = 2, style: str = "plain") -> str:
    """One number as the report shows it: ``style`` is plain, whole, p or share (see the policy above).

    * ``whole``: thousands separators, no decimals (``1,239``);
    * ``p``: three decimals, ``< 0.001`` below that (never ``0.000``);
    * ``share``: a percentage with one decimal, ``100 * v`` (``3.2%``);
    * ``plain``: ``digits`` decimals (integers are always whole).

    Negative numbers get a typographic minus (U+2212); ``None``/NaN is ``–``,
    booleans ``yes``/``no``, text is shown as it is.

    Parameters
    ----------
    v:
        The number.
    digits:
        Decimals for ``plain``.
    style:
        ``"plain"``, ``"whole"``, ``"p"`` or ``"share"``.

    Returns
    -------
    str

    References
    ----------
    American Psychological Association (2020). Publication Manual of the American Psychological
    Association, 7th ed. (section 6.36: exact p values to three decimals, "p < .001" below).
    The Unicode Consortium. The Unicode Standard: U+2212 MINUS SIGN (the typographic minus).

    Examples
    --------
    >>> format_number(0.00004, style="p"), format_number(0.0321, style="share"), format_number(1239.0, style="whole")
    ('< 0.001', '3.2%', '1,239')
    >>> format_number(-0.1884, digits=3), format_number(None), format_number(True)
    ('−0.188', '–', 'yes')
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if not isinstance(v, (int, float)):
        return str(v)
    if style == "p":
        return "< 0.001" if v < 0.001 else f"{v:.3f}"
    if style == "share":
        text = f"{100 * v:.1f}%"
    elif style == "whole" or isinstance(v, int):
        text = f"{int(round(v)):,}"
    else:
        text = f"{v:,.{digits}f}"
    return "−" + text[1:] if text.startswith("-") else text  # a typographic minus, as in print


def _style(name: Any, values: Any) -> str:
    if _is_p(name):
        return "p"
    if _is_share(name, values):
        return "share"
    if _whole(values):
        return "whole"
    return "plain"


def _fmt(v: Any, digits: int, style: str = "plain") -> str:
    if isinstance(v, str):
        return _esc(v)
    return _esc(format_number(v, digits=digits, style=style))


def interval(low: str, high: str) -> str:
    """Two formatted interval ends as one text: an en dash, or " to " when an end is negative.

    >>> interval("0.13", "0.23"), interval("−0.188", "−0.029")
    ('0.13–0.23', '−0.188 to −0.029')
    """
    return f"{low} to {high}" if low.startswith("−") or high.startswith("−") else f"{low}–{high}"


def _ci_stem(name: Any) -> str | None:
    """``X`` of a column named ``X_ci_low``; None for a bare ``ci_low`` (or a name that is no interval end)."""
    m = _CI_PAIR.match(str(name))
    return m.group(1) if m else None


def _ci_pairs(columns: list[Any]) -> dict[int, int]:
    """Column positions of ``X_ci_low`` -> ``X_ci_high`` (or ``ci_low`` -> ``ci_high``) pairs."""
    names = [str(c) for c in columns]
    out = {}
    for i, c in enumerate(names):
        m = _CI_PAIR.match(c)
        if m:
            high = f"{m.group(1)}_ci_high" if m.group(1) else "ci_high"
            if high in names:
                out[i] = names.index(high)
    return out


def _table(p: Mapping[str, Any], threshold: int) -> str:
    digits = int(p.get("digits", 2))
    key = _esc(p.get("key", ""))
    columns = list(p.get("columns", []))
    rows = list(p.get("data", []))
    masks = list(p.get("suppressed", [])) or [[False] * len(r) for r in rows]
    styles = [_style(c, [r[j] for r in rows if j < len(r)]) for j, c in enumerate(columns)]
    pairs = _ci_pairs(columns)  # an interval's two ends shown as one "low–high" column
    before = list(styles)  # an interval's estimate is the column before it
    for lo, hi in pairs.items():  # both ends in the same style, whatever their values
        styles[hi] = styles[lo] = "plain" if "whole" in (styles[lo], styles[hi]) else styles[lo]
        bare = _ci_stem(columns[lo]) is None
        ends = _numbers([r[k] for r in rows for k in (lo, hi) if k < len(r)])
        if bare and lo > 0 and before[lo - 1] == "share" and ends and all(0 <= v <= 1 for v in ends):
            styles[hi] = styles[lo] = "share"  # the interval of the share estimate beside it
    highs = set(pairs.values())
    shown = [j for j in range(len(columns)) if j not in highs]
    out = [f'<table class="veplab-table" data-key="{key}">']
    if p.get("caption"):
        out.append(f"<caption>{_esc(p['caption'])}</caption>")
    idx_name = _esc(header(p["index_name"])) if p.get("index_name") is not None else ""

    col_labels = p.get("column_labels") or [None] * len(columns)

    def head(j: int) -> str:
        if j < len(col_labels) and col_labels[j]:
            return str(col_labels[j])
        if j in pairs:
            stem = _ci_stem(columns[j])
            return f"{header(stem)} CI" if stem else "CI"  # the level is in the caption
        return header(columns[j])

    out.append("<thead><tr><th>" + idx_name + "</th>"
               + "".join(f"<th>{_esc(head(j))}</th>" for j in shown) + "</tr></thead><tbody>")
    any_mask = False
    index = list(p.get("index", []))
    index_labels = p.get("index_labels") or [None] * len(index)
    value_labels = p.get("value_labels") or {}
    for label, shown_label, row, mrow in zip(index, index_labels, rows, masks):
        label = shown_label or label
        cells = []
        for j in shown:
            v = row[j] if j < len(row) else None
            m = mrow[j] if j < len(mrow) else False
            if j in pairs:
                h = pairs[j]
                m = m or (mrow[h] if h < len(mrow) else False)
                hv = row[h] if h < len(row) else None
                text = (interval(_fmt(v, digits, styles[j]), _fmt(hv, digits, styles[h]))
                        if v is not None and hv is not None else "–")
            elif isinstance(v, str) and v in value_labels:  # an item or scale id: its codebook text
                text = _esc(value_labels[v])
            else:
                text = _fmt(v, digits, styles[j])
            if m:
                any_mask = True
                cells.append(f'<td class="suppressed">{MARK}</td>')
            elif isinstance(v, str) and j not in pairs:  # words read from the left and may wrap
                cells.append(f'<td class="text">{text}</td>')
            else:
                cells.append(f"<td>{text}</td>")
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
    body = '<div class="veplab-table-wrap">' + "\n".join(out) + "</div>"
    if p.get("fold"):  # the chart above shows it; the table is one click away
        return f'<details class="veplab-fold" data-key="{key}"><summary>Table</summary>{body}</details>'
    return body


def _decimals(v: float) -> int:
    """Decimals showing three significant digits of ``v`` (at least 2, at most 4)."""
    if v == 0 or not math.isfinite(v):
        return 2
    return int(min(4, max(2, 2 - math.floor(math.log10(abs(v))))))


def value_formats(p: Mapping[str, Any]) -> tuple[str, Any]:
    """How a published value reads: (its text, a formatter for its interval's bounds or None).

    One rule for the page and for run-time text that cites the value
    (:func:`veplab.report.gate.fill_text`): counts whole, a key ending in ``_p``
    a p-value, a share as a percentage, other numbers with the decimals their size needs.

    References
    ----------
    The number-formatting policy above (American Psychological Association 2020, section 6.36,
    for p-values).

    Examples
    --------
    >>> value_formats({"key": "lr_p", "value": 0.00002})[0], value_formats({"key": "x_share", "value": 0.25})[0]
    ('< 0.001', '25.0%')
    """
    v = p["value"]
    ci: Sequence[Any] = p.get("ci") or ()
    has_ci = bool(ci) and ci[0] is not None and ci[1] is not None
    if p.get("value_kind") == "count" or isinstance(v, int):
        return format_number(v, style="whole"), None
    if isinstance(v, float) and _P_VALUE_KEY.search(str(p.get("key", ""))) and 0 <= v <= 1 and not has_ci:
        return format_number(v, style="p"), None
    if isinstance(v, float) and _is_share(p.get("key", ""), [v, *(ci if has_ci else [])]):
        return format_number(v, style="share"), lambda x: format_number(x, style="share")
    if isinstance(v, float):
        d = _decimals(v)
        return format_number(v, digits=d), lambda x, d=d: format_number(x, digits=d)
    return str(v), None


def _value(p: Mapping[str, Any]) -> str:
    key = _esc(p.get("key", ""))
    if p.get("suppressed") or p.get("value") is None:
        shown, ci_txt = MARK, ""
    else:
        shown, fmt = value_formats(p)
        ci: Sequence[Any] = p.get("ci") or ()
        has_ci = bool(ci) and ci[0] is not None and ci[1] is not None
        level = p.get("ci_level") or 0.95
        ci_txt = f" ({100 * level:g}% CI {interval(fmt(ci[0]), fmt(ci[1]))})" if has_ci and fmt else ""
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

    The one renderer for the notebook display and the published page, so a
    reader sees exactly what the gate checked: suppressed cells and values are
    the mark ``‡`` with the footnote, numbers follow :func:`format_number`'s
    policy (an estimate and its interval with the same decimals, shares as
    percentages), a figure must be a base64 PNG made by the report helpers,
    and a payload of an unknown kind becomes :func:`withheld_note`.

    Parameters
    ----------
    p:
        The payload as ``results.json`` holds it (``kind``: ``"table"``,
        ``"value"``, ``"figure"`` or ``"text"``).
    threshold:
        The study's threshold (named in the suppression footnote).
    text:
        The already filled-in Markdown of a ``kind="text"`` payload.

    Returns
    -------
    str
        HTML.

    References
    ----------
    WHATWG. HTML Living Standard (``table``, ``caption``, ``figure``, ``figcaption``,
    ``details``; character references for escaping).
    docs/DESIGN.md, section "Privacy": pages are drawn from the gated payloads
    (``results.json``); raw notebook output is never published.
    American Psychological Association (2020). Publication Manual of the American Psychological
    Association, 7th ed. (section 6.36: exact p values to three decimals, "p < .001" below).
    The Unicode Consortium. The Unicode Standard: U+2212 MINUS SIGN (the typographic minus).

    Examples
    --------
    >>> render_payload({"kind": "value", "key": "agree_share", "caption": "Agreed", "value": 0.412,
    ...                 "ci": [0.352, 0.474], "n": 250, "status": "ok"}, threshold=10)
    '<p class="veplab-value" data-key="agree_share"><b>Agreed:</b> 41.2% (95% CI 35.2%–47.4%); n = 250</p>'
    >>> table = {"kind": "table", "key": "by_country", "index_name": "country", "index": ["KZ", "UG"],
    ...          "columns": ["n", "mean"], "data": [[40, 2.5], [None, None]],
    ...          "suppressed": [[False, False], [True, True]]}
    >>> print(render_payload(table, threshold=10))
    <div class="veplab-table-wrap"><table class="veplab-table" data-key="by_country">
    <thead><tr><th>country</th><th>n</th><th>mean</th></tr></thead><tbody>
    <tr><th>KZ</th><td>40</td><td>2.50</td></tr>
    <tr><th>UG</th><td class="suppressed">‡</td><td class="suppressed">‡</td></tr>
    </tbody></table>
    <p class="veplab-note">‡ suppressed: fewer than 10 people, or hidden so that totals or other tables cannot reveal another suppressed cell.</p></div>
    """
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
