"""Assemble a brief: spec + results.json -> HTML (Jinja2) -> PDF (WeasyPrint)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import html as _html
import logging
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ._charts import chart_data, draw, fmt_value
from ._i18n import LANGS, BriefError, Translator, catalogue, fill, label_table, placeholders
from ._layout import LEVELS, MIN_FILL, Fitted, fit, keep_class
from ._select import Number, available_keys, featured_number, notebooks_of, resolve, withheld

SECTIONS = ("key_messages", "recommendations", "figures", "charts", "methods", "limitations", "data_protection")
_TOP_KEYS = {"title", "subtitle", "authors", "date", "illustrative", "locales", "key_messages", "recommendations",
             "limitations", "figures", "charts", "methods", "sections"}
_FIGURE_KEYS = {"key", "label", "text", "row", "column", "ci", "n", "of", "format", "digits", "level"}
_CHART_KEYS = {"key", "by", "title", "titles", "axis", "note", "where", "label_column", "rows", "columns", "column",
               "ci", "n", "format", "style", "limits", "digits", "level"}
_METHOD_KEYS = {"text", "samples", "instruments", "reliability"}
#: Debian packages holding the fonts the briefs use.
FONT_PACKAGES = {"Noto Sans": "fonts-noto-core", "Noto Sans Arabic": "fonts-noto-core",
                 "DejaVu Sans": "fonts-dejavu-core"}


@dataclasses.dataclass
class Rendered:
    lang: str
    html: str
    missing: list[str]
    notes: list[str]
    text: str  # the visible text (for glyph checks)
    level: int = 0  # the density of veplab.brief._layout.LEVELS it was rendered at


@dataclasses.dataclass
class BriefResult:
    """What :func:`build_briefs` wrote."""

    html: dict[str, Path] = dataclasses.field(default_factory=dict)
    pdf: dict[str, Path] = dataclasses.field(default_factory=dict)
    pages: dict[str, int] = dataclasses.field(default_factory=dict)
    #: ``{lang: {"density": level, "last_page_fill": share}}`` of each PDF (see :mod:`veplab.brief._layout`).
    layout: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    missing_translations: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [*self.html.values(), *self.pdf.values()]


# --------------------------------------------------------------------------- spec checks


def _check_keys(spec: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise BriefError(f"{where}: expected a mapping, got {spec!r}")
    unknown = sorted(set(map(str, spec)) - allowed)
    if unknown:
        raise BriefError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    return spec


def _key_entries(raw: Any, where: str) -> Iterator[tuple[str, Any]]:
    """``(where[i], entry)`` for each entry of a list of result keys or mappings (a bare key
    becomes ``{"key": key}``); raise when ``raw`` is not a list (or empty)."""
    if not isinstance(raw or [], list):
        raise BriefError(f"{where}: expected auto or a list, got {raw!r}")
    for i, entry in enumerate(raw or []):
        yield f"{where}[{i}]", ({"key": entry} if isinstance(entry, str) else entry)


def _digits(spec: Mapping[str, Any], where: str, default: int = 2) -> int:
    v = spec.get("digits", default)
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 6:
        raise BriefError(f"{where}.digits: expected a whole number of decimals from 0 to 6, got {v!r}")
    return v


def _level(spec: Mapping[str, Any], where: str, published: float | None) -> float:
    v = spec.get("level")
    if v is None:
        return published or 0.95
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
        raise BriefError(f"{where}.level: expected the confidence level as a number between 0 and 1 "
                         f"(e.g. 0.95), got {v!r}")
    return float(v)


def _format(spec: Mapping[str, Any], where: str) -> None:
    if spec.get("format") is not None and spec["format"] not in ("share", "count", "number"):
        raise BriefError(f"{where}.format: expected share, count or number, got {spec['format']!r}")


def _featured(spec: Any, allowed: set[str], where: str, example: str) -> tuple[Mapping[str, Any], int]:
    """A figures:/charts: entry checked (keys, key:, format:, digits:); returns it and its digits."""
    spec = _check_keys(spec, allowed, where)
    if "key" not in spec:
        raise BriefError(f"{where}: needs key: (a result in results.json, e.g. {example})")
    _format(spec, where)
    return spec, _digits(spec, where)


def _entries(spec: Mapping[str, Any], name: str) -> list[Any]:
    value = spec.get(name) or []
    if not isinstance(value, list):
        raise BriefError(f"brief.{name}: expected a list")
    return value


# --------------------------------------------------------------------------- pieces


def _threshold(study: Any, results: Mapping[str, Any], manifest: Mapping[str, Any] | None) -> int:
    for v in (results.get("threshold"), (manifest or {}).get("disclosure_threshold"), study.threshold):
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    return 10


def _figure_card(results: Mapping[str, Any], spec: Any, i: int, tr: Translator, threshold: int,
                 ) -> dict[str, Any]:
    where = f"brief.figures[{i}]"
    spec, digits = _featured(spec, _FIGURE_KEYS, where, "overview.values.push_pull_n")
    num: Number = featured_number(results, spec, where)
    level = _level(spec, where, num.level)
    label = tr.pick(spec.get("label"), f"{where}.label")
    if num.suppressed:
        return {"label": label, "suppressed": True, "text": tr.t("suppressed_figure", threshold=tr.integer(threshold),
                                                                   people_t=tr.people(threshold)),
                "big": "", "details": []}
    if num.value is None:
        raise BriefError(f"{where}: {spec['key']!r} has no value in results.json (it is missing, not suppressed: "
                         "the notebook published no estimate); feature another result or fix the notebook")
    if num.fmt == "share" and not 0 <= num.value <= 1:
        raise BriefError(f"{where}: format: share needs a value between 0 and 1, but {spec['key']!r} is "
                         f"{num.value!r}; use format: number or count")
    pct = tr.share_digits(num.value, num.low, num.high) if num.fmt == "share" else None
    value = fmt_value(num.value, num.fmt, tr, digits, pct)
    low = fmt_value(num.low, num.fmt, tr, digits, pct) if num.low is not None else ""
    high = fmt_value(num.high, num.fmt, tr, digits, pct) if num.high is not None else ""
    has_ci = num.low is not None and num.high is not None
    values = {
        "value": value,
        "approx": tr.approx_share(num.value) if num.fmt == "share" else value,
        "Approx": _capitalise(tr.approx_share(num.value) if num.fmt == "share" else value),
        "low": low, "high": high,
        "ci": tr.t("ci_between", low=low, high=high) if has_ci else "",
        "n": tr.people(num.n) if num.n is not None else "",
        "n_number": tr.integer(num.n) if num.n is not None else "",
        "level": tr.percent(level, 0),
    }
    text = tr.pick(spec.get("text"), f"{where}.text")
    if text:
        has = {"low": has_ci, "high": has_ci, "ci": has_ci, "n": num.n is not None, "n_number": num.n is not None}
        used = placeholders(text)
        unusable = sorted(k for k in used if k in has and not has[k])
        if unusable:
            raise BriefError(f"{where}.text ({tr.lang}) uses " + ", ".join("{" + k + "}" for k in unusable)
                             + f" but {spec['key']!r} publishes no "
                             + ("interval" if {"low", "high", "ci"} & set(unusable) else "number of people")
                             + "; remove the placeholder or feature a result that has it")
    text = fill(text, values, f"{where}.text ({tr.lang})") if text else ""
    details = []
    if has_ci:
        details.append(tr.t("ci_line", low=low, high=high, level=values["level"]))
    if num.n is not None:
        details.append(tr.t("based_on", people=values["n"], n=values["n_number"]))
    return {"label": label, "suppressed": False, "big": value, "text": text, "details": details}


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _published(results: Mapping[str, Any], key: str) -> bool:
    try:
        resolve(results, key, "", want=("tables", "figures"))
    except BriefError:
        return False
    return True


def _expand_chart(study: Any, results: Mapping[str, Any], spec: Any, i: int) -> list[tuple[str, dict[str, Any]]]:
    """A ``charts:`` entry as the charts it draws: one per breakdown whose table exists when ``key``
    holds ``{by}`` (``by: design``, a list of columns, or one column); else the entry itself."""
    where = f"brief.charts[{i}]"
    spec = _check_keys(spec, _CHART_KEYS, where)
    key, by = spec.get("key"), spec.get("by")
    if by == "design":
        bys: list[Any] = list(study.breakdowns)
        if not bys:
            raise BriefError(f"{where}.by: design, but {study.config_path} declares no design.breakdowns; add "
                             "design: {breakdowns: [...]} or name the columns (by: [gender, age_band])")
    elif isinstance(by, list):
        if not by or not all(isinstance(b, str) and b.strip() for b in by):
            raise BriefError(f"{where}.by: expected design, a column name or a list of column names, got {by!r}")
        bys = list(by)
    elif by is None or isinstance(by, str):
        bys = [by]
    else:
        raise BriefError(f"{where}.by: expected design, a column name or a list of column names, got {by!r}")
    titles = spec.get("titles")
    if titles is not None and not isinstance(titles, Mapping):
        raise BriefError(f"{where}.titles: expected {{breakdown: {{en: ..., fr: ...}}}}, got {titles!r}")
    if titles:
        stray = [b for b in titles if b not in bys]
        if stray:
            raise BriefError(f"{where}.titles: {stray} {'is' if len(stray) == 1 else 'are'} not charted by this "
                             f"entry (by: {bys})")
    templated = isinstance(key, str) and "{by}" in key
    if not templated:
        if len(bys) > 1 or by == "design":
            raise BriefError(f"{where}: by: {by!r} charts several breakdowns; write {{by}} in key: where the "
                             "breakdown's column goes, e.g. push_pull.tables.<outcome>_by_{by}")
        one = {k: v for k, v in spec.items() if k != "titles"}
        if titles and by in titles:
            one["title"] = titles[by]
        return [(where, one)]
    if bys == [None]:
        raise BriefError(f"{where}.key: {key!r} holds {{by}}, but the entry has no by: (design, a list of "
                         "columns or one column)")
    out, tried = [], []
    for b in bys:
        k = key.replace("{by}", b)
        tried.append(k)
        if not _published(results, k):
            continue  # e.g. a breakdown taking one value in these data has no table
        one = {kk: v for kk, v in spec.items() if kk != "titles"}
        one["key"], one["by"] = k, b
        if isinstance(one.get("where"), Mapping):
            one["where"] = {c: v.replace("{by}", b) if isinstance(v, str) else v for c, v in one["where"].items()}
        if titles and b in titles:
            one["title"] = titles[b]
        out.append((f"{where} ({b})", one))
    if not out:
        avail = [k for k in available_keys(results) if ".tables." in k or ".figures." in k]
        raise BriefError(f"{where}: no table exists for any breakdown: tried {', '.join(tried)}; published tables "
                         f"are: {', '.join(avail) or 'none'}")
    return out


def _lower_first(text: str) -> str:
    """A label for use mid-sentence: first letter lowercased unless it starts an acronym ("HIV status")."""
    return text if len(text) > 1 and text[1].isupper() else text[:1].lower() + text[1:]


def _by_label(tr: Translator, by: str) -> str | None:
    """The codebook label of the breakdown column ``by`` in the brief's language (None: no codebook has it)."""
    labels = tr.label_table.get(by) or {}
    if not labels.get("en"):
        return None
    return tr.label(labels["en"])


def _fill_by(text: str, label: str | None, by: Any, where: str) -> str:
    if "{by}" not in text and "{By}" not in text:
        return text
    if label is None:
        raise BriefError(f"{where} uses {{by}}, but no codebook of the study labels the column {by!r}; write the "
                         "text without {by} or chart a column of the study's codebooks")
    return text.replace("{By}", label).replace("{by}", _lower_first(label))


def _chart(results: Mapping[str, Any], spec: Any, where: str, tr: Translator, threshold: int, *,
           height: float = 2.3) -> dict[str, Any]:
    spec, digits = _featured(spec, _CHART_KEYS, where, "overview.tables.push_pull_by_country_gender")
    level = _level(spec, where, None)
    limits = spec.get("limits")
    if limits is not None and not (isinstance(limits, Sequence) and not isinstance(limits, str) and len(limits) == 2
                                   and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in limits)
                                   and limits[0] < limits[1]):
        raise BriefError(f"{where}.limits: expected [low, high] with low < high, e.g. [1, 5]; got {limits!r}")
    if spec.get("style") not in (None, "dots", "bars"):
        raise BriefError(f"{where}.style: expected dots or bars, got {spec['style']!r}")
    by = spec.get("by")
    label = _by_label(tr, by) if isinstance(by, str) else None
    if spec.get("title"):
        title = _fill_by(tr.pick(spec.get("title"), f"{where}.title"), label, by, f"{where}.title")
    elif label is not None:
        title = tr.t("chart_by", by=_lower_first(label))
    elif by is not None and (tr.en.get("text") or {}).get(f"chart_by_{by}"):
        title = tr.t(f"chart_by_{by}")  # a study without codebooks: the catalogue's wording for common breakdowns
    elif by is not None:
        raise BriefError(f"{where}.by: no codebook of the study labels the column {by!r}, so there is no default "
                         "title; give title: (by: names the breakdown whose codebook label titles the chart)")
    else:
        title = ""
    if withheld(resolve(results, spec["key"], where, want=("tables", "figures"))):
        return {"title": title, "axis": "", "uri": "", "alt": "", "by": by or "", "by_label": label, "withheld": 1,
                "note": tr.t("chart_withheld")}
    cd = chart_data(results, spec, where)
    axis = _fill_by(tr.pick(spec.get("axis"), f"{where}.axis"), label, by, f"{where}.axis") if spec.get("axis") else (
        tr.t("axis_share") if cd.fmt == "share" else tr.t("axis_count") if cd.fmt == "count" else "")
    uri, alt = draw(cd, tr, limits=limits, style=spec.get("style"), digits=digits, height=height)
    notes = []
    if spec.get("note"):
        notes.append(_fill_by(tr.pick(spec.get("note"), f"{where}.note"), label, by, f"{where}.note"))
    has_ci = any(lo is not None for s in cd.series for lo in s.lows)
    if has_ci:
        notes.append(tr.t("chart_note_ci", level=tr.percent(level, 0)))
    if any(n is not None for n in cd.ns):
        notes.append(tr.t("chart_note_n"))
    if cd.n_suppressed:
        notes.append(tr.t("chart_note_suppressed", threshold=tr.integer(threshold), people_t=tr.people(threshold)))
    return {"title": title, "axis": axis, "uri": uri, "alt": alt, "note": " ".join(notes), "by": by or "",
            "by_label": label, "withheld": cd.n_suppressed}


def _charts_heading(charts: list[dict[str, Any]], tr: Translator) -> str:
    """"By gender and age group" from the charted breakdowns' labels; a neutral heading otherwise."""
    labels: list[str] = []
    for c in charts:
        if not c.get("by_label"):
            return tr.t("charts")
        if _lower_first(c["by_label"]) not in labels:
            labels.append(_lower_first(c["by_label"]))
    if not labels:
        return tr.t("charts")
    from babel.lists import format_list

    try:
        groups = format_list(labels, locale=tr.locale)
    except (ValueError, TypeError):
        groups = ", ".join(labels)
    return tr.t("charts_by", groups=groups)


def _value_text(num: Number, tr: Translator, digits: int, level: float) -> str:
    if num.value is None:
        raise TypeError("_value_text: a suppressed number is shown as 'fewer than', not as a value")
    v = fmt_value(num.value, num.fmt, tr, digits)
    if num.low is not None and num.high is not None:
        v = tr.t("value_with_ci", value=v, low=fmt_value(num.low, num.fmt, tr, digits),
                 high=fmt_value(num.high, num.fmt, tr, digits), level=tr.percent(level, 0))
    return v


def _overview_sources(study: Any) -> list[str]:
    """The sources the study's overview analysis describes (analyses.overview.sources), else every source."""
    declared = study.raw.get("analyses") if isinstance(getattr(study, "raw", None), Mapping) else None
    overview = declared.get("overview") if isinstance(declared, Mapping) else None
    sources = overview.get("sources") if isinstance(overview, Mapping) else None
    if isinstance(sources, list) and sources:
        return [str(x) for x in sources if x in study.sources]
    return list(study.sources)


def _methods(study: Any, results: Mapping[str, Any], spec: Any, tr: Translator, threshold: int) -> dict[str, Any]:
    spec = _check_keys(spec or {}, _METHOD_KEYS, "brief.methods")
    nbs = notebooks_of(results)
    titles = {}
    for name, src in study.sources.items():
        try:
            titles[name] = src.codebook().text(tr.lang)
        except Exception:  # noqa: BLE001 - a broken codebook is reported by the build, not here
            titles[name] = name

    def source_title(name: str) -> str:
        return titles.get(name) or tr.label(name)

    samples = []
    raw_samples = spec.get("samples", "auto")
    if raw_samples == "auto":
        raw_samples = [{"key": f"overview.values.{s}_n", "source": s} for s in _overview_sources(study)
                       if f"{s}_n" in ((nbs.get("overview") or {}).get("values") or {})]
    for where, entry in _key_entries(raw_samples, "brief.methods.samples"):
        entry = _check_keys(entry, {"key", "source", "label", "row", "column", "n"}, where)
        num = featured_number(results, entry, where)
        label = (tr.pick(entry["label"], f"{where}.label") if entry.get("label")
                 else source_title(str(entry["source"])) if entry.get("source") else entry["key"])
        shown = (tr.t("fewer_than", threshold=tr.integer(threshold)) if num.suppressed or num.value is None
                 else tr.integer(num.value))
        samples.append({"label": label, "value": shown})
    if raw_samples is not None and getattr(study, "survey", None) is not None:
        # a sampled survey: its figures are weighted; say so with the design effect the notebook published
        for nb_name, nb in nbs.items():
            v = ((nb or {}).get("values") or {}).get("design_effect")
            if not v or v.get("status") not in ("ok", "published") or v.get("value") is None:
                continue
            src = study.survey_sources[0] if getattr(study, "survey_sources", ()) else ""
            samples.append({"label": tr.t("weighted_line", instrument=source_title(src) if src else ""),
                            "value": tr.number(float(v["value"]), 1)})
            break
    raw_instruments = spec.get("instruments") or []
    if isinstance(raw_instruments, (str, bytes)) or not isinstance(raw_instruments, Sequence):
        raise BriefError(f"brief.methods.instruments: expected a list of source names, got {raw_instruments!r}")
    instruments = [source_title(str(s)) for s in raw_instruments]
    reliability = []
    raw_rel = spec.get("reliability", "auto")
    if raw_rel == "auto":
        raw_rel = []
        for key in ((nbs.get("reliability") or {}).get("values") or {}):
            for suffix, text in (("_alpha_median", "alpha_line"), ("_judgement_kappa", "kappa_line")):
                if key.endswith(suffix):
                    raw_rel.append({"key": f"reliability.values.{key}", "_text": text,
                                    "source": key[: -len(suffix)]})
    for where, entry in _key_entries(raw_rel, "brief.methods.reliability"):
        if not isinstance(entry, Mapping):
            raise BriefError(f"{where}: expected a result key or {{key: ...}}, got {entry!r}")
        auto_text = entry.get("_text") if isinstance(entry, Mapping) else None
        entry = _check_keys({k: v for k, v in entry.items() if k != "_text"},
                            {"key", "label", "source", "row", "column", "ci", "n", "digits", "level", "format"}, where)
        num = featured_number(results, entry, where)
        if entry.get("label"):
            label = tr.pick(entry["label"], f"{where}.label")
        elif auto_text:
            label = tr.t(auto_text, instrument=source_title(str(entry.get("source"))))
        else:
            label = entry["key"]
        if num.suppressed or num.value is None:
            shown = tr.t("fewer_than", threshold=tr.integer(threshold))
        else:
            shown = _value_text(num, tr, _digits(entry, where), _level(entry, where, num.level))
            if num.n is not None:
                shown += " · " + tr.people(num.n)
        reliability.append({"label": label, "value": shown})
    text = tr.pick(spec.get("text"), "brief.methods.text") if spec.get("text") else ""
    return {"text": text, "samples": samples, "instruments": instruments, "reliability": reliability}


# --------------------------------------------------------------------------- rendering


@functools.lru_cache(maxsize=1)
def _env() -> Any:
    import jinja2

    root = resources.files(__package__) / "templates"
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(root)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def _study_codebooks(study: Any) -> list[Any]:
    out = []
    for src in study.sources.values():
        try:
            out.append(src.codebook())
        except Exception:  # noqa: BLE001
            continue
    return out


def _css_string(text: str) -> str:
    """A CSS string literal safe inside ``<style>``: quotes, backslashes, '<', '>' and every control
    character (CR, LF and FF end a CSS string) written as hexadecimal escapes."""
    out = "".join(f"\\{ord(ch):x} " if (ch in '\\"<>' or ord(ch) < 0x20 or 0x7f <= ord(ch) < 0xa0) else ch
                  for ch in text)
    return '"' + out + '"'


def render(study: Any, results: Mapping[str, Any], lang: str, *, manifest: Mapping[str, Any] | None = None,
           labels: Mapping[str, Mapping[str, str]] | None = None, level: int = 0) -> Rendered:
    """Render the brief of ``study`` in ``lang``, keeping the list of missing translations.

    The ``brief:`` section of ``study.yml`` (format in :mod:`veplab.brief`)
    is filled from ``results`` (the build's ``results.json``): every number is
    read as published -- a suppressed result becomes a "Not shown" sentence --
    and formatted in the language's locale.  Nothing is computed except the
    share of two published counts (``of:``)::

        share = count / of_count

    Parameters
    ----------
    study:
        A :class:`veplab.study.Study` with a ``brief:`` section.
    results:
        The ``results.json`` document (``{"notebooks": {name: published results}}``).
    lang:
        ``"en"``, ``"fr"``, ``"ar"`` or ``"ru"``.
    manifest:
        The build's manifest (build date, threshold, pseudonym key ids), if any.
    labels:
        A label translation table (default: from the study's codebooks).
    level:
        The density of :data:`veplab.brief._layout.LEVELS` (0: default;
        :func:`build_briefs` chooses it so that the PDF fills its pages).

    Returns
    -------
    Rendered
        ``lang``, ``html`` (one self-contained page), ``missing`` (translations
        that fell back to English), ``notes`` (advice for the build log),
        ``text`` (the visible text) and ``level``.

    Raises
    ------
    BriefError
        An unsupported language or level, a study without ``brief:``, or any
        malformed entry or unknown key (named).

    References
    ----------
    Ronacher A et al. Jinja2 template engine (jinja.palletsprojects.com).
    Babel: internationalisation utilities for Python, with the Unicode CLDR locale data
    (babel.pocoo.org; cldr.unicode.org): numbers, percentages and dates per locale.
    WHATWG. HTML Living Standard: the ``lang`` and ``dir`` global attributes.
    docs/DESIGN.md, section "Privacy": every number in a published artefact went
    through ``veplab.report`` and the disclosure gate.

    Examples
    --------
    >>> import re, tempfile, yaml
    >>> from pathlib import Path
    >>> from veplab.report import Report
    >>> from veplab.study import load_study
    >>> rep = Report(None, "nb", threshold=10, display=False)   # what a notebook publishes
    >>> _ = rep.value("agree", 0.4123, n=250, ci=(0.352, 0.474))
    >>> _ = rep.value("tiny", 0.5, n=4)                         # suppressed by the gate
    >>> results = {"study": "mini", "notebooks": {"nb": rep.results}}
    >>> brief = {"title": {"en": "Prison climate", "fr": "Climat carcéral"},
    ...          "figures": [{"key": "nb.values.agree", "format": "share",
    ...                       "text": {"en": "{Approx} ({value}) agreed, {ci}."}},
    ...                      {"key": "nb.values.tiny", "format": "share"}]}
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "study.yml").write_text(yaml.safe_dump({"id": "mini", "languages": ["en", "fr"], "brief": brief}))
    >>> study = load_study(folder)
    >>> r = render(study, results, "en")
    >>> re.findall(r"About[^.]*\.|Not shown[^,]*", " ".join(r.text.split()))
    ['About 4 in 10 (41%) agreed, between 35% and 47%.', 'Not shown: this figure rests on fewer than 10 people']
    >>> r.missing, r.notes
    ([], ['brief.figures has 2 entries; a brief reads best with 3 to 6 headline figures'])
    >>> import shutil; shutil.rmtree(folder)                    # tidy up the example's folder
    """
    if level not in LEVELS:
        raise BriefError(f"level {level!r}: expected one of {sorted(LEVELS)}")
    layout = LEVELS[level]
    if lang not in LANGS:
        raise BriefError(f"language {lang!r} is not supported by veplab.brief; use one of {', '.join(LANGS)}")
    spec = study.brief
    if not spec:
        raise BriefError(f"{study.config_path}: no brief: section; see the veplab.brief docstring for its format")
    spec = _check_keys(spec, _TOP_KEYS, "brief")
    locales = spec.get("locales") or {}
    if not isinstance(locales, Mapping):
        raise BriefError(f"brief.locales: expected {{language: Babel locale}}, e.g. {{ar: ar_TN}}; got {locales!r}")
    if locales.get(lang) is not None:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(str(locales[lang]))
        except (ValueError, TypeError, UnknownLocaleError):
            raise BriefError(f"brief.locales.{lang}: {locales[lang]!r} is not a locale Babel knows "
                             "(e.g. ar_TN, fr_TN, ru_KZ, en_UG)") from None
    if labels is None:
        labels = label_table(_study_codebooks(study))
    tr = Translator(lang, label_table=labels, locale=locales.get(lang))
    threshold = _threshold(study, results, manifest)
    notes: list[str] = []

    title = tr.pick(spec["title"], "brief.title") if spec.get("title") else study.text(lang)
    subtitle = tr.pick(spec["subtitle"], "brief.subtitle") if spec.get("subtitle") else tr.t("policy_brief")
    authors = []
    raw_authors = spec.get("authors") or []
    if isinstance(raw_authors, (str, Mapping)):
        raw_authors = [raw_authors]
    if not isinstance(raw_authors, list):
        raise BriefError(f"brief.authors: expected a name, {{language: name}} or a list of them; got {raw_authors!r}")
    for i, a in enumerate(raw_authors):
        authors.append(tr.pick(a, f"brief.authors[{i}]") if isinstance(a, Mapping) else str(a))
    built = (manifest or {}).get("built_at")
    date = tr.date(spec.get("date") or (built[:10] if built else _dt.date.today()))

    def texts(name: str) -> list[str]:
        return [tr.pick(v, f"brief.{name}[{i}]") for i, v in enumerate(_entries(spec, name))]

    key_messages, recommendations, limitations = texts("key_messages"), texts("recommendations"), texts("limitations")
    figures = [_figure_card(results, f, i, tr, threshold) for i, f in enumerate(_entries(spec, "figures"))]
    if figures and not 3 <= len(figures) <= 6:
        notes.append(f"brief.figures has {len(figures)} entries; a brief reads best with 3 to 6 headline figures")
    charts = [_chart(results, c, where, tr, threshold, height=layout["chart"])
              for i, entry in enumerate(_entries(spec, "charts")) for where, c in _expand_chart(study, results, entry, i)]
    if charts and tr.direction == "rtl" and not _has_raqm():
        notes.append("this matplotlib has no libraqm text layout: right-to-left chart labels are not shaped; "
                     "use matplotlib >= 3.11")
    methods = _methods(study, results, spec.get("methods"), tr, threshold)
    withheld = sum(1 for f in figures if f["suppressed"]) + sum(c["withheld"] for c in charts)
    protection = [tr.t("protection", threshold=tr.integer(threshold), people_t=tr.people(threshold))]
    if (manifest or {}).get("pseudonym_key_ids"):  # said only when the audit log records pseudonymisation
        protection.insert(0, tr.t("protection_pseudonyms"))
    if withheld:
        protection.append(tr.t("protection_withheld", count=withheld, k=tr.integer(withheld)))
    version = str(results.get("veplab") or (manifest or {}).get("veplab") or "")
    provenance = tr.t("provenance", study=str(results.get("study") or study.id), version=version,
                      date=tr.date(built[:10]) if built else date)
    sections = spec.get("sections") or list(SECTIONS)
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        raise BriefError(f"brief.sections: unknown section(s) {bad}; sections are {list(SECTIONS)}")
    page_tpl = tr.t("page", page="\x00", pages="\x01")
    before, rest = page_tpl.split("\x00", 1)
    middle, after = rest.split("\x01", 1)
    page_css = f"{_css_string(before)} counter(page) {_css_string(middle)} counter(pages) {_css_string(after)}"
    ctx = {
        "lang": lang, "dir": tr.direction, "fonts": ", ".join(_css_string(f) for f in tr.fonts),
        "t": tr.t, "title": title, "subtitle": subtitle, "authors": authors, "date": date,
        "illustrative": tr.t("illustrative") if spec.get("illustrative") else "",
        "key_messages": key_messages, "recommendations": recommendations, "limitations": limitations,
        "figures": figures, "charts": charts, "charts_heading": _charts_heading(charts, tr) if charts else "",
        "methods": methods, "protection": protection,
        "provenance": provenance, "sections": sections, "page_css": page_css,
        "footer_title": _css_string(title if len(title) <= 70 else title[:67] + "…"),
        "L": layout, "level": level, "keep": keep_class,
    }
    html = _env().get_template("brief.html.j2").render(**ctx)
    return Rendered(lang, html, list(tr.missing), notes, visible_text(html), level)


def _has_raqm() -> bool:
    from matplotlib import ft2font

    return bool(getattr(ft2font, "__libraqm_version__", None))


def visible_text(html: str) -> str:
    """The text a reader sees (tags, styles and data URIs removed, entities decoded)."""
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S | re.I)
    alts = " ".join(re.findall(r'alt="([^"]*)"', body))
    body = re.sub(r"<[^>]+>", " ", body)
    return _html.unescape(body + " " + alts)


def render_brief(study: Any, results: Mapping[str, Any], lang: str, *,
                 manifest: Mapping[str, Any] | None = None) -> str:
    """The brief of ``study`` in ``lang`` as one self-contained HTML page (charts embedded, no network).

    ``render(study, results, lang, manifest=manifest).html``: see :func:`render`.
    Charts are PNG ``data:`` URIs; Arabic pages are ``dir="rtl"``.

    Parameters
    ----------
    study, results, lang, manifest:
        As for :func:`render`.

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    BriefError
        As :func:`render`.

    References
    ----------
    Ronacher A et al. Jinja2 template engine (jinja.palletsprojects.com).
    Babel: internationalisation utilities for Python, with the Unicode CLDR locale data
    (babel.pocoo.org; cldr.unicode.org): numbers, percentages and dates per locale.
    WHATWG. HTML Living Standard: the ``lang`` and ``dir`` global attributes.
    docs/DESIGN.md, section "Privacy": every number in a published artefact went
    through ``veplab.report`` and the disclosure gate.

    Examples
    --------
    >>> import re, tempfile, yaml
    >>> from pathlib import Path
    >>> from veplab.report import Report
    >>> from veplab.study import load_study
    >>> rep = Report(None, "nb", threshold=10, display=False)   # what a notebook publishes
    >>> _ = rep.value("agree", 0.4123, n=250, ci=(0.352, 0.474))
    >>> _ = rep.value("tiny", 0.5, n=4)                         # suppressed by the gate
    >>> results = {"study": "mini", "notebooks": {"nb": rep.results}}
    >>> brief = {"title": {"en": "Prison climate", "fr": "Climat carcéral"},
    ...          "figures": [{"key": "nb.values.agree", "format": "share",
    ...                       "text": {"en": "{Approx} ({value}) agreed, {ci}."}},
    ...                      {"key": "nb.values.tiny", "format": "share"}]}
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "study.yml").write_text(yaml.safe_dump({"id": "mini", "languages": ["en", "fr"], "brief": brief}))
    >>> study = load_study(folder)
    >>> html = render_brief(study, results, "fr")
    >>> re.search(r"<html[^>]*>", html).group(0), "Climat carcéral" in html
    ('<html lang="fr" dir="ltr">', True)
    >>> import shutil; shutil.rmtree(folder)                    # tidy up the example's folder
    """
    return render(study, results, lang, manifest=manifest).html


# --------------------------------------------------------------------------- PDF


def _weasyprint() -> Any:
    try:
        import weasyprint
    except ImportError:
        raise BriefError("PDF briefs need WeasyPrint: pip install 'weasyprint>=62' "
                         "(or build the HTML briefs only: veplab build --no-pdf)") from None
    except OSError as exc:  # pango/cairo shared libraries absent
        raise BriefError(f"WeasyPrint cannot load its system libraries ({exc}); install the Debian packages "
                         "libpango-1.0-0 libpangoft2-1.0-0 (apt-get install libpango-1.0-0 libpangoft2-1.0-0), "
                         "or build the HTML briefs only: veplab build --no-pdf") from None
    return weasyprint


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _data_only() -> Any:
    """A WeasyPrint URL fetcher for embedded ``data:`` URIs only: a brief reaches neither network nor disk."""
    try:
        from weasyprint.urls import URLFetcher  # WeasyPrint >= 67
    except ImportError:
        URLFetcher = None
    if URLFetcher is not None:
        return URLFetcher(allowed_protocols={"data"})
    from weasyprint import default_url_fetcher

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        if not url.startswith("data:"):
            raise ValueError(f"veplab briefs load nothing from outside the page (refused {url[:60]!r})")
        return default_url_fetcher(url, *args, **kwargs)

    return fetch


def layout_pdf(html: str, *, log: Callable[[str], None] | None = None) -> Any:
    """Lay ``html`` out as A4 pages with WeasyPrint (a ``weasyprint.Document``; nothing is written).

    The page size, margins and page counters come from the brief's CSS
    (``@page``).  The fetcher accepts only embedded ``data:`` URIs, so a brief
    loads nothing from the network or the disk.  WeasyPrint's warnings
    (unsupported CSS, missing glyphs) go to ``log``.

    Parameters
    ----------
    html:
        A self-contained page (:func:`render_brief`).
    log:
        Called with each WeasyPrint warning.

    Returns
    -------
    weasyprint.Document
        ``.pages`` (laid-out pages), ``.write_pdf(path)``.

    Raises
    ------
    BriefError
        WeasyPrint or its pango libraries are not installed (the message names
        the packages).

    References
    ----------
    W3C (2023). CSS Paged Media Module Level 3 (Working Draft): ``@page`` size A4 and the
    ``page``/``pages`` counters.
    ISO 216:2007. Writing paper and certain classes of printed matter -- Trimmed sizes -- A and
    B series (A4 = 210 x 297 mm).
    Kozea / CourtBouillon. WeasyPrint documentation (doc.courtbouillon.org/weasyprint).

    Examples
    --------
    WeasyPrint and its pango libraries are optional system dependencies
    (tests/test_brief.py runs this when they are installed), and the first
    layout of a session takes about a second, hence not run here:

    >>> len(layout_pdf("<p>One page.</p>").pages)                          # doctest: +SKIP
    1
    """
    wp = _weasyprint()
    handler = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        doc = wp.HTML(string=html, base_url=None, url_fetcher=_data_only()).render()
    finally:
        logger.removeHandler(handler)
    if log:
        for m in handler.messages:
            log(f"brief: WeasyPrint: {m}")
    return doc


def html_to_pdf(html: str, path: str | Path, *, log: Callable[[str], None] | None = None) -> int:
    """Write ``html`` as an A4 PDF at ``path`` with WeasyPrint; returns the number of pages.

    :func:`layout_pdf` followed by ``write_pdf``.  WeasyPrint's warnings
    (unsupported CSS, missing glyphs) go to ``log``.

    Parameters
    ----------
    html:
        A self-contained page (:func:`render_brief`).
    path:
        The PDF to write.
    log:
        Called with each WeasyPrint warning.

    Returns
    -------
    int
        Pages written.

    Raises
    ------
    BriefError
        WeasyPrint or its pango libraries are not installed.

    References
    ----------
    W3C (2023). CSS Paged Media Module Level 3 (Working Draft): ``@page`` size A4 and the
    ``page``/``pages`` counters.
    ISO 216:2007. Writing paper and certain classes of printed matter -- Trimmed sizes -- A and
    B series (A4 = 210 x 297 mm).
    Kozea / CourtBouillon. WeasyPrint documentation (doc.courtbouillon.org/weasyprint).
    ISO 32000-1:2008. Document management -- Portable document format -- Part 1: PDF 1.7.

    Examples
    --------
    Needs WeasyPrint and pango (optional system dependencies; tests/test_brief.py
    checks the PDFs when they are installed), hence not run here:

    >>> html_to_pdf("<h1>Brief</h1><p>One page.</p>", "brief-en.pdf")      # doctest: +SKIP
    1
    """
    doc = layout_pdf(html, log=log)
    doc.write_pdf(str(path))
    return len(doc.pages)


def render_fitted(study: Any, results: Mapping[str, Any], lang: str, *, manifest: Mapping[str, Any] | None = None,
                  labels: Mapping[str, Mapping[str, str]] | None = None,
                  log: Callable[[str], None] | None = None) -> Fitted:
    """The brief in ``lang`` at the density that fills its PDF pages (:func:`veplab.brief._layout.fit`).

    ``Fitted.rendered`` is the HTML, ``Fitted.document`` the laid-out PDF (``.write_pdf(path)``),
    ``Fitted.measure`` the fill of each page.  WeasyPrint's warnings of the kept layout go to ``log``.

    References
    ----------
    W3C (2023). CSS Paged Media Module Level 3 (Working Draft): ``@page`` size A4 and the
    ``page``/``pages`` counters.
    ISO 216:2007. Writing paper and certain classes of printed matter -- Trimmed sizes -- A and
    B series (A4 = 210 x 297 mm).
    Kozea / CourtBouillon. WeasyPrint documentation (doc.courtbouillon.org/weasyprint).
    veplab.brief._layout: the densities tried and the fill measure (MIN_FILL, 40 %).

    Examples
    --------
    Needs WeasyPrint and pango (optional system dependencies) and lays the brief out at several
    densities (seconds); tests/test_brief_layout.py runs it on the demo study:

    >>> fitted = render_fitted(load_study("research/demo"), results, "fr")   # doctest: +SKIP
    >>> fitted.level, fitted.measure.pages, round(fitted.measure.last_fill, 2)  # doctest: +SKIP
    (1, 3, 0.61)
    >>> fitted.document.write_pdf("brief-fr.pdf")                           # doctest: +SKIP
    """
    warnings: dict[int, list[str]] = {}

    def at(level: int) -> Rendered:
        return render(study, results, lang, manifest=manifest, labels=labels, level=level)

    def lay(r: Rendered) -> Any:
        return layout_pdf(r.html, log=warnings.setdefault(r.level, []).append)

    fitted = fit(at, lay, min_fill=MIN_FILL)
    if log:
        for m in warnings.get(fitted.level, []):
            log(m)
    return fitted


# --------------------------------------------------------------------------- fonts


def _fc_list() -> dict[str, list[str]]:
    """Font family -> files, as fontconfig (hence WeasyPrint/pango) sees them."""
    exe = shutil.which("fc-list")
    if exe is None:
        raise BriefError("fc-list not found: install the Debian package fontconfig")
    out = subprocess.run([exe, "--format", "%{family}\t%{file}\n"], capture_output=True, text=True,
                         timeout=60).stdout
    fams: dict[str, list[str]] = {}
    for line in out.splitlines():
        if "\t" not in line:
            continue
        families, file = line.split("\t", 1)
        for fam in families.split(","):
            fams.setdefault(fam.strip(), []).append(file)
    return fams


def required_fonts(languages: Sequence[str] = LANGS) -> list[str]:
    """Font families the briefs in ``languages`` use, English's first, each once.

    Read from the ``fonts:`` list of each language's catalogue
    (``veplab/brief/i18n/<lang>.yml``); :func:`check_fonts` checks that they are
    installed.

    Parameters
    ----------
    languages:
        Brief languages (default: all of :data:`veplab.brief._i18n.LANGS`).

    Returns
    -------
    list of str

    References
    ----------
    Google / Noto project. Noto fonts (Noto Sans, Noto Sans Arabic), SIL Open Font License;
    Debian package fonts-noto-core.
    DejaVu fonts (DejaVu Sans); Debian package fonts-dejavu-core.

    Examples
    --------
    >>> required_fonts(["en"])
    ['Noto Sans', 'DejaVu Sans']
    >>> required_fonts(["en", "ar"])
    ['Noto Sans', 'DejaVu Sans', 'Noto Sans Arabic']
    """
    out: list[str] = []
    for lang in ("en", *languages):
        for fam in catalogue(lang).get("fonts") or []:
            if fam not in out:
                out.append(fam)
    return out


def check_fonts(languages: Sequence[str] = LANGS, *, pdf: bool = True) -> dict[str, str]:
    """Check that the briefs' fonts (and, with ``pdf``, WeasyPrint) are installed.

    Each family of :func:`required_fonts` must be known to fontconfig (which
    WeasyPrint's pango uses) and to matplotlib's font cache (which draws the
    charts).  ``make`` runs this before a build (``python -m veplab.brief
    check-fonts``).

    Parameters
    ----------
    languages:
        Brief languages to check.
    pdf:
        Also check that WeasyPrint and its pango libraries load.

    Returns
    -------
    dict
        ``{family: font file}``.

    Raises
    ------
    BriefError
        Naming the Debian package to install for the first thing missing
        (a font, fontconfig's ``fc-list``, WeasyPrint or pango), or the
        matplotlib font cache to delete when it predates a font.

    References
    ----------
    fontconfig (freedesktop.org): ``fc-list`` lists the fonts pango and WeasyPrint can use.
    Google / Noto project. Noto fonts; Debian package fonts-noto-core. DejaVu fonts; Debian
    package fonts-dejavu-core.

    Examples
    --------
    The fonts are system packages that ``make test`` installs (scripts/sysdeps.sh):

    >>> sorted(check_fonts(["en", "ar"], pdf=False))
    ['DejaVu Sans', 'Noto Sans', 'Noto Sans Arabic']
    """
    fams = _fc_list()
    found, missing = {}, []
    for fam in required_fonts(languages):
        files = sorted(fams.get(fam) or [])
        regular = [f for f in files if re.search(r"-Regular\.|/DejaVuSans\.ttf$", f)] or files
        if regular:
            found[fam] = regular[0]
        else:
            missing.append(fam)
    if missing:
        pkgs = sorted({FONT_PACKAGES.get(f, "fonts-noto-core") for f in missing})
        raise BriefError(f"font(s) {missing} not found by fontconfig; install the Debian package(s) "
                         f"{' '.join(pkgs)} (apt-get install {' '.join(pkgs)})")
    import matplotlib
    from matplotlib import font_manager

    for fam in found:  # charts are drawn by matplotlib, which keeps its own font cache
        try:
            font_manager.findfont(font_manager.FontProperties(family=fam), fallback_to_default=False)
        except ValueError:
            raise BriefError(f"matplotlib does not see the font {fam!r} although fontconfig does; its font cache "
                             f"predates the font: delete {matplotlib.get_cachedir()}/fontlist-*.json") from None
    if pdf:
        _weasyprint()
    return found


@functools.lru_cache(maxsize=8)
def _coverage(files: tuple[str, ...]) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    cps: set[int] = set()
    for f in files:
        fonts = TTCollection(f).fonts if f.lower().endswith((".ttc", ".otc")) else [TTFont(f, lazy=True)]
        for font in fonts:
            cmap = font.getBestCmap() or {}
            cps.update(cmap)
    return frozenset(cps)


def uncovered_characters(text: str, lang: str) -> list[str]:
    """Characters of ``text`` that none of the language's fonts can draw (would print as tofu boxes).

    A character is covered when its code point is in the character map
    (``cmap`` table) of one of the files of the language's font families (as
    fontconfig lists them); white space, control and format characters are not
    checked, and U+FFFD (a decoding error) is always reported.
    :func:`build_briefs` logs the uncovered characters of every brief.

    Parameters
    ----------
    text:
        The visible text of a brief (``Rendered.text``).
    lang:
        The brief's language (its catalogue names the fonts).

    Returns
    -------
    list of str
        Uncovered characters, sorted, each once.

    References
    ----------
    ISO/IEC 14496-22:2019. Open Font Format (the ``cmap`` table), read with fontTools.
    fontconfig (freedesktop.org): ``fc-list``.

    Examples
    --------
    >>> uncovered_characters("Prison climate, 41 %", "en")
    []
    >>> uncovered_characters("Prison \\U0001D11E", "en")          # a musical symbol no brief font has
    ['𝄞']
    """
    fams = _fc_list()
    cat = catalogue(lang) or catalogue("en")
    files = tuple(sorted({f for fam in (cat.get("fonts") or []) for f in fams.get(fam, [])}))
    cov = _coverage(files)
    out = []
    for ch in sorted(set(text)):
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        if ord(ch) not in cov or ch == "\ufffd":
            out.append(ch)
    return out


# --------------------------------------------------------------------------- build entry point


def build_briefs(study: Any, folder: Path, results: Mapping[str, Any], manifest: Mapping[str, Any], *,
                 log: Callable[[str], None] | None = None, pdf: bool = True) -> BriefResult:
    """Write ``folder/brief-<lang>.html`` and ``.pdf`` for every language of the study.

    Called by ``veplab build`` after ``results.json`` is assembled and before
    the leak scan.  Each PDF is laid out at the density that fills its pages
    (:func:`render_fitted`); a PDF outside 2 to 4 pages, a last page under 40 %
    full, a heading stranded at a page foot or a card split across pages is
    reported in ``notes`` and to ``log``.  Missing translations fall back to
    English and are passed to ``log`` (and returned).  A study without a
    ``brief:`` section gets no brief.  When ``manifest`` is a dict,
    ``manifest["briefs"]`` records files, pages and layout.

    Parameters
    ----------
    study:
        The study (its ``languages`` and ``brief:`` section).
    folder:
        Where to write (the report folder).
    results, manifest:
        The build's ``results.json`` document and manifest.
    log:
        Called with each line for the build log.
    pdf:
        Also write PDFs (needs WeasyPrint); ``False`` writes HTML only.

    Returns
    -------
    BriefResult
        ``html``/``pdf`` (paths per language), ``pages``, ``layout``,
        ``missing_translations``, ``notes``.

    Raises
    ------
    BriefError
        As :func:`render`, or a brief that cannot be rendered from its entries.

    References
    ----------
    Ronacher A et al. Jinja2 template engine (jinja.palletsprojects.com).
    Babel: internationalisation utilities for Python, with the Unicode CLDR locale data
    (babel.pocoo.org; cldr.unicode.org): numbers, percentages and dates per locale.
    WHATWG. HTML Living Standard: the ``lang`` and ``dir`` global attributes.
    docs/DESIGN.md, section "Privacy": every number in a published artefact went
    through ``veplab.report`` and the disclosure gate.
    W3C (2023). CSS Paged Media Module Level 3 (Working Draft): ``@page`` size A4 and the
    ``page``/``pages`` counters.
    ISO 216:2007. Writing paper and certain classes of printed matter -- Trimmed sizes -- A and
    B series (A4 = 210 x 297 mm).
    Kozea / CourtBouillon. WeasyPrint documentation (doc.courtbouillon.org/weasyprint).

    Examples
    --------
    >>> import re, tempfile, yaml
    >>> from pathlib import Path
    >>> from veplab.report import Report
    >>> from veplab.study import load_study
    >>> rep = Report(None, "nb", threshold=10, display=False)   # what a notebook publishes
    >>> _ = rep.value("agree", 0.4123, n=250, ci=(0.352, 0.474))
    >>> _ = rep.value("tiny", 0.5, n=4)                         # suppressed by the gate
    >>> results = {"study": "mini", "notebooks": {"nb": rep.results}}
    >>> brief = {"title": {"en": "Prison climate", "fr": "Climat carcéral"},
    ...          "figures": [{"key": "nb.values.agree", "format": "share",
    ...                       "text": {"en": "{Approx} ({value}) agreed, {ci}."}},
    ...                      {"key": "nb.values.tiny", "format": "share"}]}
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "study.yml").write_text(yaml.safe_dump({"id": "mini", "languages": ["en", "fr"], "brief": brief}))
    >>> study = load_study(folder)
    >>> res = build_briefs(study, folder, results, {}, pdf=False)
    >>> sorted(p.name for p in res.files), res.missing_translations
    (['brief-en.html', 'brief-fr.html'], ['fr: brief.figures[0].text'])
    >>> import shutil; shutil.rmtree(folder)                    # tidy up the example's folder
    """
    say = log or (lambda _m: None)
    out = BriefResult()
    if not study.brief:
        say("brief: the study has no brief: section; no brief written")
        return out
    folder = Path(folder)
    labels = label_table(_study_codebooks(study))
    for lang in study.languages:
        try:
            fitted = render_fitted(study, results, lang, manifest=manifest, labels=labels, log=say) if pdf else None
            r = fitted.rendered if fitted else render(study, results, lang, manifest=manifest, labels=labels)
        except BriefError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError) as exc:
            raise BriefError(f"the brief in {lang!r} could not be rendered from the brief: section of "
                             f"{study.config_path} ({type(exc).__name__}: {exc}); check the types of its entries "
                             "against the format in the veplab.brief documentation") from None
        html_path = folder / f"brief-{lang}.html"
        html_path.write_text(r.html, encoding="utf-8")
        out.html[lang] = html_path
        for m in r.missing:
            say(f"brief: missing translation {m} (English used)")
        out.missing_translations.extend(r.missing)
        for n in r.notes:
            say(f"brief ({lang}): {n}")
            if n not in out.notes:
                out.notes.append(n)
        try:
            tofu = uncovered_characters(r.text, lang)
        except BriefError:
            tofu = []
        if tofu:
            msg = (f"brief ({lang}): characters no brief font can draw: "
                   + ", ".join(f"U+{ord(c):04X}" for c in tofu))
            say(msg)
            out.notes.append(msg)
        if fitted is not None:
            pdf_path = folder / f"brief-{lang}.pdf"
            fitted.document.write_pdf(str(pdf_path))
            m = fitted.measure
            out.pages[lang] = m.pages
            out.pdf[lang] = pdf_path
            out.layout[lang] = {"density": fitted.level, "last_page_fill": round(m.last_fill, 3)}
            problems = []
            if not 2 <= m.pages <= 4:
                problems.append(f"has {m.pages} pages; aim for 2 to 4")
            if m.pages > 1 and m.last_fill < MIN_FILL:
                problems.append(f"its last page is {m.last_fill:.0%} full at every density tried; shorten or "
                                "lengthen the brief: section (messages, figures, charts)")
            if m.stranded_headings:
                problems.append("heading(s) left at the bottom of a page: "
                                + "; ".join(f"{h!r} (page {p})" for p, h in m.stranded_headings))
            if m.split:
                problems.append("split across pages: " + ", ".join(f"a {c} on page {p}" for p, c in m.split))
            for problem in problems:
                msg = f"brief ({lang}) {problem}"
                say(msg)
                out.notes.append(msg)
            say(f"brief ({lang}): {html_path.name} and {pdf_path.name}, {m.pages} A4 pages "
                f"(density {fitted.level:+d}, last page {m.last_fill:.0%} full)")
        else:
            say(f"brief ({lang}): {html_path.name}")
    if isinstance(manifest, dict):
        manifest["briefs"] = {lang: {"html": out.html[lang].name,
                                     **({"pdf": out.pdf[lang].name, "pages": out.pages[lang], **out.layout[lang]}
                                        if lang in out.pdf else {})} for lang in out.html}
        if out.missing_translations:
            manifest["briefs_missing_translations"] = list(out.missing_translations)
    return out
