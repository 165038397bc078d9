"""Policy briefs: short, plain-language, multilingual HTML and PDF from ``results.json``.

``veplab build`` calls :func:`build_briefs` after the report's ``results.json``
is assembled (and before the leak scan); it writes ``brief-<lang>.html`` and
``brief-<lang>.pdf`` for every language of the study.  A brief has two to four
A4 pages, laid out to fill them (:mod:`veplab.brief._layout`: when the last page
would be mostly empty the brief is re-rendered denser, or roomier, and the
layout kept is recorded in the manifest as ``density`` and ``last_page_fill``):
a title block, key messages and recommendations first, three to six
headline figures in words with their uncertainty and the number of people
behind them (never a p-value), charts by the breakdowns of the study's design
(``design.breakdowns``), a methods box, limitations and a data-protection note.

Every number comes from ``results.json``, i.e. from what the notebooks
published through the disclosure gate: a suppressed value or cell is never
shown, and a featured result that was suppressed is replaced by a sentence
saying so.  The brief computes no statistic; it reads estimates, intervals
and ``n`` as published (the one piece of arithmetic is a share of two
published counts, ``of:``, which describes the sample and has no interval).

The ``brief:`` section of ``study.yml``
---------------------------------------
Text is either a string (English only; other languages fall back to it and
the fallback is reported) or ``{en: ..., fr: ..., ar: ..., ru: ...}``::

    brief:
      illustrative: true                 # synthetic data: print a banner saying so
      title: {en: "...", fr: "...", ar: "...", ru: "..."}   # default: the study title
      subtitle: {en: "..."}              # default: "Policy brief" in each language
      authors: ["Research team", {en: "Ministry of Justice", fr: "Ministère de la Justice"}]
      date: 2026-11-21                   # ISO date, written per locale (default: build date)
      locales: {ar: ar_TN}               # optional Babel locale per language (digits stay Western)
      sections: [key_messages, recommendations, figures, charts, methods, limitations, data_protection]
      key_messages:   [{en: "...", fr: "...", ar: "...", ru: "..."}, ...]
      recommendations: [{en: "...", ...}, ...]
      limitations:    [{en: "...", ...}, ...]
      figures:                           # 3 to 6 headline figures
        - key: push_pull.values.violence_item_agree_share     # notebook.values|tables|figures.<key>
          label: {en: "Endorsement of violence"}               # short heading of the card
          format: share                  # share (0-1) | count | number (default from the result)
          digits: 2                      # decimals for format: number
          text: {en: "{approx} respondents ({value}) agreed ..."}
        - key: overview.tables.push_pull_by_country_gender   # a table cell ...
          row: Total                     # index label, or {column: value} for tidy tables
          column: Woman                  # default: estimate / value / share / mean / rate
          of: {row: Total, column: Total}  # ... as a share of another published count
          ci: [ci_low, ci_high]          # interval columns (default: found by name)
          n: n                           # column with the number of people (default: n)
      charts:                            # one idea per chart; drawn from the published numbers
        - key: push_pull.tables.violence_endorsement_by_{by}   # {by}: one chart per breakdown ...
          by: design                     # ... of design.breakdowns (or a list: [gender, age_band]) whose
                                         # table exists; titled "By <the breakdown's codebook label>"
          title: {en: "Endorsement, by {by}"}   # optional; {by} / {By}: the label (lower / as written)
          titles: {gender: {en: "Women and men"}}   # optional: a title for one breakdown
          axis: {en: "Mean score, 1 to 5"}
        - key: push_pull.tables.violence_endorsement_by_gender  # one table, as before
          by: gender                     # any column a codebook labels: default title "By gender"
          title: {en: "..."}             # overrides the default title
          column: estimate               # the bar/dot value; ci and n as for figures
          rows: [Man, Woman]             # default: every row except totals
          where: {group_var: gender}     # tidy tables: pick rows by column values ...
          label_column: group            # ... and label them from this column
          columns: [Man, Woman]          # wide count tables: one series per column
          format: number                 # share | count | number
          style: dots                    # dots (default for numbers) | bars
          limits: [1, 5]                 # y-axis range
          note: {en: "..."}              # a line under the chart
      methods:
        text: {en: "..."}                # a short paragraph
        samples: auto                    # or [{key: overview.values.push_pull_n, source: push_pull}, ...]
        instruments: [push_pull, rna]    # sources whose codebook titles are listed
        reliability: auto                # or [{key: ..., label: {...}, digits: 2}, ...]

In ``text:`` of a figure the placeholders ``{value}`` (the formatted number),
``{approx}`` (a share in words: "about 4 in 10"), ``{low}``, ``{high}``,
``{ci}`` ("between 35% and 45%"), ``{n}`` ("1,239 people"), ``{n_number}`` and
``{level}`` ("95%", the level the notebook published) are filled in; only
plain names are allowed, and a placeholder the result cannot fill (``{ci}``
for a result without an interval) is an error.  The card always states the
likely range (confidence interval) and the number of people when the result
carries them.  Shares never round to 0 % or 100 % unless they are exactly
that, and a value and its interval share one precision.

Charts over the design's breakdowns: when ``key`` holds ``{by}``, the entry
draws one chart per column of ``by`` (``design`` = the study's
``design.breakdowns``, a list of columns, or one column), with ``{by}`` in
``key`` (and in ``where:`` values) replaced by the column's name; a breakdown
whose table was not published (one country: no table by country) is skipped,
and an entry none of whose tables exists is an error naming the keys tried.
Titles come from, in order: ``titles:`` for that breakdown, ``title:`` (where
``{by}`` is the breakdown's codebook label starting lower case, ``{By}`` as the
codebook writes it; ``axis:`` and ``note:`` take them too), else "By <label>"
in the brief's language with the label from the study's codebooks.  The
section heading names the charted breakdowns ("By gender and age group") when
every chart is by one, and is neutral otherwise.  A ``by:`` that no codebook
labels needs a ``title:``.

``samples: auto`` lists ``overview.values.<source>_n`` of the sources the
study's ``analyses.overview`` describes (every source when it names none);
``reliability: auto`` lists ``reliability.values.<source>_alpha_median`` and
``<source>_judgement_kappa`` when the reliability notebook published them.

Errors and fallbacks
--------------------
* A featured key that does not exist raises :class:`BriefError` naming the key
  and the available keys (the build fails with that message).
* A featured result that was suppressed becomes "Not shown: this figure rests
  on fewer than 10 people ..." in the brief's language; one that is missing
  without being suppressed (nothing was estimated) is an error, and a chart
  marks such a group with a dash, not as withheld.
* Every malformed entry (wrong type, unknown format or style, bad limits,
  digits, level or locale) is a :class:`BriefError` naming the entry.
* A PDF whose last page stays under 40% full at every density, or that leaves a
  heading at the bottom of a page or splits a figure card or chart across
  pages, is built and the build log says so (``BriefResult.notes``).
* PDFs load nothing from outside the page: WeasyPrint's fetcher accepts only
  the embedded ``data:`` images.
* Missing translations (authored text, catalogue entries, table labels that
  neither the catalogue nor the study's codebooks translate) fall back to
  English and are listed in :attr:`BriefResult.missing_translations` and in the
  build log.

Languages, numbers and fonts
----------------------------
Template text and table labels come from the YAML catalogues in
``veplab/brief/i18n/`` and the study's codebooks; numbers and dates are
formatted with Babel in each language's locale, always with Western digits
(usual in Tunisia and the Maghreb; the same digits in all four versions).
Arabic briefs are ``dir="rtl"`` (charts run right to left too).  Fonts:
Noto Sans and Noto Sans Arabic (Debian ``fonts-noto-core``) and DejaVu Sans
(``fonts-dejavu-core``); :func:`check_fonts` names the package to install
when one is missing.  PDFs are made by WeasyPrint (Debian ``libpango-1.0-0``
and ``libpangoft2-1.0-0``); no browser and no network are used.

Examples
--------
>>> from veplab.study import load_study                                  # doctest: +SKIP
>>> from veplab.brief import render_brief, html_to_pdf                   # doctest: +SKIP
>>> results = json.loads(Path("reports/demo/results.json").read_text())  # doctest: +SKIP
>>> html = render_brief(load_study("research/demo"), results, "fr")      # doctest: +SKIP
>>> html_to_pdf(html, "brief-fr.pdf")                                    # doctest: +SKIP
3
"""

from __future__ import annotations

from ._i18n import BriefError, Translator, catalogue
from ._render import (
    BriefResult,
    build_briefs,
    check_fonts,
    html_to_pdf,
    layout_pdf,
    render,
    render_brief,
    render_fitted,
    required_fonts,
    uncovered_characters,
)

__all__ = [
    "BriefError",
    "BriefResult",
    "Translator",
    "build_briefs",
    "catalogue",
    "check_fonts",
    "html_to_pdf",
    "layout_pdf",
    "render",
    "render_brief",
    "render_fitted",
    "required_fonts",
    "uncovered_characters",
]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
