"""Parsing an XLSForm's survey, choices and settings sheets into elements and choices,
every problem collected with its sheet, row and column."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ...codebook import LANGUAGES, MISSING_REASONS
from .. import _xpath
from .._common import language_of
from ._vocab import (
    FormProblem,
    _EXPRESSION_COLUMNS,
    _ITEM_VEPLAB,
    _KNOWN_SURVEY,
    _LIST_TYPES,
    _METADATA_TYPES,
    _NO_LABEL_NEEDED,
    _OR_OTHER,
    _QUESTION_TYPES,
    _TYPE_ALIASES,
    _XML_NAME,
)
from ._sheets import _NeedsXlrd, _Row, _Sheet, _read_workbook


# --------------------------------------------------------------------------- parsing


class _Collect:
    def __init__(self) -> None:
        self.problems: list[FormProblem] = []
        self.warnings: list[FormProblem] = []

    def problem(self, sheet: str, row: int | None, column: str, problem: str, fix: str = "") -> None:
        self.problems.append(FormProblem(sheet, row, column, problem, fix))

    def warn(self, sheet: str, row: int | None, column: str, problem: str, fix: str = "") -> None:
        w = FormProblem(sheet, row, column, problem, fix)
        if w not in self.warnings:
            self.warnings.append(w)


@dataclasses.dataclass
class _Langs:
    """How a form's language columns map to codebook languages.

    ``of`` maps a column suffix (``"French (fr)"``; ``""`` for a bare ``label``
    column) to a codebook language; suffixes not in it are not carried over.
    ``default`` is the codebook's default language (the form's own default
    language when veplab holds it); ``stand_in`` names the form language kept
    under ``en`` when the form has no column in a language veplab holds.
    """

    of: dict[str, str]
    default: str
    stand_in: str | None = None

    def columns(self, headers: list[str], base: str) -> dict[str, str]:
        """header -> language for the ``base`` (label, hint...) columns of one sheet."""
        out = {}
        taken = set(self.of.values())
        for h in headers:
            suffix = "" if h == base else h.split("::", 1)[1] if h.startswith(base + "::") else None
            if suffix is None:
                continue
            lang = self.of.get(suffix)
            if lang is None and suffix and base != "label":  # hints, messages in a language the labels lack
                lang = language_of(suffix)
                lang = lang if lang is not None and (lang != "en" or "en" not in taken or not self.stand_in) else None
            if lang is not None:
                out[h] = lang
        # an explicit column wins over the bare one for the same language
        explicit = {lang for h, lang in out.items() if h != base}
        return {h: lang for h, lang in out.items() if not (h == base and lang in explicit)}


def _plan_languages(sheets: Mapping[str, _Sheet], survey: _Sheet, settings: Mapping[str, str],
                    col: _Collect) -> _Langs:
    """The form's languages: settings ``default_language``, else the bare ``label`` column, else the
    first label column, is the form's default language; it stands in for English when no column
    is in a language veplab holds (en, fr, ar, ru)."""
    suffixes: list[str] = []
    first_label: str | None = None
    for sheet in (survey, sheets.get("choices")):
        filled = {h for row in (sheet.rows if sheet is not None else []) for h in row.cells}
        for h in (sheet.headers if sheet is not None else []):
            base = h.split("::", 1)[0]
            if base != "label":  # the label columns say which languages a form has
                continue
            if h not in filled and "::" in h:  # an empty column (to_xlsform writes all four): no language
                continue
            suffix = h.split("::", 1)[1] if "::" in h else ""
            if suffix not in suffixes:
                suffixes.append(suffix)
            if base == "label" and first_label is None:
                first_label = suffix
    declared = settings.get("default_language", "").strip()
    declared_lang = language_of(declared) if declared else None
    of: dict[str, str] = {}
    outside: list[str] = []
    for suffix in suffixes:
        lang = (declared_lang if declared else "en") if suffix == "" else language_of(suffix)
        if lang is None:
            outside.append(suffix)
        else:
            of[suffix] = lang
    form_default: str | None = None
    if declared:
        form_default = next((sfx for sfx in suffixes if sfx and (sfx == declared or (
            declared_lang is not None and language_of(sfx) == declared_lang))), None)
    if form_default is None:
        form_default = "" if "" in suffixes else first_label if first_label is not None else \
            (suffixes[0] if suffixes else "")
    stand_in = None
    if not of and suffixes:
        of[form_default] = "en"
        stand_in = (declared or form_default) if form_default == "" else form_default
        outside.remove(form_default)
        col.warn("survey", 1, "label" + (f"::{form_default}" if form_default else ""),
                 f"the form's labels are in {stand_in or 'an unnamed language'}, which veplab codebooks do not hold "
                 f"(they hold {', '.join(LANGUAGES)}): they are kept as the codebook's default language 'en' and "
                 "shown on every page and brief", "nothing to do; or add label columns in English, French, "
                 "Arabic or Russian to have pages in those languages")
    elif "" in of and not declared:
        col.warn("settings", None, "default_language", "the bare 'label' column is taken as English (the form "
                 "sets no default_language)", "set default_language in the settings sheet if the labels are in "
                 "French, Arabic or Russian")
    for suffix in outside:
        col.warn("survey", 1, f"label::{suffix}" if suffix else "label",
                 f"texts in {suffix or declared!r} are not carried over: veplab codebooks hold "
                 f"{', '.join(LANGUAGES)}", "name the column like label::French (fr) if it is one of them")
    default = of.get(form_default) or next(iter(of.values()), "en")
    return _Langs(of=of, default=default, stand_in=stand_in)


def _texts(row: _Row, langs: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for h, lang in langs.items():
        text = row.get(h)
        if text and lang not in out:
            out[lang] = text
    return {lang: out[lang] for lang in LANGUAGES if lang in out}


def _with_default(labels: dict[str, str], default: str) -> tuple[dict[str, str], str | None]:
    """Labels with text in the default language: another language's text stands in when it lacks it
    (returns the language that stood in, or None)."""
    if not labels or default in labels:
        return labels, None
    other = next(iter(labels))
    return {default: labels[other], **labels}, other


def _yes(value: str) -> bool | None:
    low = value.strip().lower()
    if low in ("yes", "true", "1", "true()", "y", "oui", "да"):
        return True
    if low in ("no", "false", "0", "false()", "n", "non", "нет", ""):
        return False
    return None


def _split_type(raw: str) -> tuple[str, str | None, str]:
    """(base type, list name, rest) of a type cell, for every name pyxform accepts."""
    text = " ".join(raw.split())
    other = _OR_OTHER.search(text)
    tail = other.group(1) if other else ""
    if other:
        text = text[:other.start()]
    low = text.lower()
    for alias, base in sorted(_TYPE_ALIASES.items(), key=lambda kv: -len(kv[0])):
        if low == alias or low.startswith(alias + " "):
            rest = text[len(alias):].strip()
            if base in _LIST_TYPES:
                parts = rest.split()
                return base, (parts[0] if parts else None), " ".join([*parts[1:], *([tail] if tail else [])])
            return base, None, " ".join(x for x in (rest, tail) if x)
    parts = text.split()
    return (parts[0].lower() if parts else ""), None, " ".join(parts[1:])


def _int_name(name: str) -> int | None:
    text = name.strip().translate(str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789"))
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _parse_missing(text: str) -> dict[int, str] | None:
    pairs = re.findall(r"(-?\d+)\s*[=:]\s*([A-Za-z_]+)", text)
    rest = re.sub(r"(-?\d+)\s*[=:]\s*([A-Za-z_]+)", "", text)
    if not pairs or re.sub(r"[\s,;]+", "", rest):
        return None
    return {int(code): reason for code, reason in pairs}


def _yaml_mapping(text: str) -> Mapping[str, Any] | None:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return value if isinstance(value, Mapping) else None


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=math.inf, sort_keys=False).strip()


@dataclasses.dataclass
class _Element:
    row: _Row
    type: str
    list_name: str | None
    type_rest: str
    name: str
    labels: dict[str, str]
    hints: dict[str, str]
    group: str
    repeat: str | None
    repeat_path: tuple[str, ...]


@dataclasses.dataclass
class _Choice:
    row: _Row
    name: str
    labels: dict[str, str]
    reason: str | None
    code: int | None


def _parse(path: Path, col: _Collect) -> dict[str, Any] | None:
    """Read and check a form; returns the parsed pieces (None if unreadable)."""
    try:
        sheets = _read_workbook(path)
    except _NeedsXlrd:  # pragma: no cover - xlrd comes with veplab[ingest]
        col.problem("(workbook)", None, "", "reading an Excel 97-2003 .xls form needs the xlrd package",
                    "pip install xlrd (it comes with veplab[ingest]), or save the form as .xlsx")
        return None
    except Exception as exc:  # openpyxl and xlrd raise many kinds
        col.problem("(workbook)", None, "", f"not a readable .xlsx or .xls workbook ({type(exc).__name__})",
                    "open the form in a spreadsheet program and save it as .xlsx")
        return None
    survey = sheets.get("survey")
    if survey is None:
        # pyxform reads a workbook whose only sheet with type and name columns is unnamed (Sheet1)
        found = [k for k, sh in sheets.items() if "type" in sh.headers and "name" in sh.headers
                 and k not in ("choices", "settings", "external_choices", "entities", "veplab_scales")]
        if len(found) == 1:
            survey = sheets[found[0]]
            col.warn(survey.name, None, "", f"sheet {survey.name!r} is read as the survey sheet",
                     "name the sheet 'survey'")
            sheets = {**sheets, "survey": survey}
    if survey is None:
        col.problem("survey", None, "", "the workbook has no 'survey' sheet",
                    "an XLSForm needs sheets named survey, choices (for select questions) and settings")
        return None
    choices_sheet = sheets.get("choices")
    settings_sheet = sheets.get("settings")
    settings: dict[str, str] = {}
    if settings_sheet is not None and settings_sheet.rows:
        settings = dict(settings_sheet.rows[0].cells)
    langs = _plan_languages(sheets, survey, settings, col)
    default_lang = langs.default

    for required in ("type", "name"):
        if required not in survey.headers:
            col.problem("survey", 1, required, f"the survey sheet has no {required!r} column",
                        f"add a column headed {required!r}")
    label_langs = langs.columns(survey.headers, "label")
    if not any(h == "label" or h.startswith("label::") for h in survey.headers):
        col.problem("survey", 1, "label", "the survey sheet has no label column",
                    "add a column label::English (en) (or label::French (fr), label::Arabic (ar), "
                    "label::Russian (ru), or a plain label column in the form's language)")
    hint_langs = langs.columns(survey.headers, "hint")
    cmsg_langs = langs.columns(survey.headers, "constraint_message")
    for h in survey.headers:
        base = h.split("::", 1)[0]
        if base == "veplab":
            key = h.split("::", 1)[1]
            if key not in _ITEM_VEPLAB:
                col.warn("survey", 1, h, f"unknown veplab column {h!r} ignored",
                         f"use one of {', '.join('veplab::' + k for k in _ITEM_VEPLAB)}")
        elif base not in _KNOWN_SURVEY and not h.startswith("$") and not h.startswith("kobo--"):
            col.warn("survey", 1, h, f"column {h!r} is not carried over into the codebook")
        elif base in ("media", "image", "audio", "video", "guidance_hint", "big-image"):
            col.warn("survey", 1, h, f"column {h!r} (media, guidance) is not carried over into the codebook")

    # ---- choices
    lists: dict[str, list[_Choice]] = {}
    list_rows: dict[str, int] = {}
    choice_label_langs: dict[str, str] = {}
    has_missing_col = False
    allow_duplicates = _yes(settings.get("allow_choice_duplicates", "")) is True
    if choices_sheet is not None and choices_sheet.rows:
        ch = choices_sheet.headers
        for required in ("list_name", "name"):
            if required not in ch:
                col.problem("choices", 1, required, f"the choices sheet has no {required!r} column",
                            f"add a column headed {required!r}")
        if not any(h == "label" or h.startswith("label::") for h in ch):
            col.warn("choices", 1, "label", "the choices sheet has no label column: choice names are used as "
                     "labels", "add a column label::English (en) (or the form's languages)")
        choice_label_langs = langs.columns(ch, "label")
        has_missing_col = "veplab::missing" in ch
        extra_cols = [h for h in ch if h not in ("list_name", "name") and not h.startswith(("label", "veplab::",
                                                                                              "media::", "image"))]
        if extra_cols:
            col.warn("choices", 1, ", ".join(extra_cols), "choice columns used for choice filters are not "
                     "carried over (the filter expression is kept under xlsform.choice_filter)")
        seen: dict[tuple[str, str], int] = {}
        for row in choices_sheet.rows:
            ln, name = row.get("list_name"), row.get("name")
            if not ln and not name:
                continue
            if not ln:
                col.problem("choices", row.number, "list_name", f"choice {name!r} has no list_name",
                            "give every choice the name of its list")
                continue
            if not name:
                col.problem("choices", row.number, "name", f"a choice of list {ln!r} has no name",
                            "give every choice a name (its value in the data)")
                continue
            choice_key = (ln, name)
            if choice_key in seen:
                if allow_duplicates:
                    col.warn("choices", row.number, "name", f"choice {name!r} appears twice in list {ln!r} (rows "
                             f"{seen[choice_key]} and {row.number}; allow_choice_duplicates): both are the same value in "
                             "the data, one code with the label of the first")
                else:
                    col.problem("choices", row.number, "name", f"choice {name!r} appears twice in list {ln!r} "
                                f"(rows {seen[choice_key]} and {row.number})", "give each choice of a list a unique name")
                continue
            seen[choice_key] = row.number
            labels = _texts(row, choice_label_langs)
            if not labels:
                labels = {default_lang: name}
                if choice_label_langs:
                    col.warn("choices", row.number, "label", f"choice {name!r} of list {ln!r} has no label; its "
                             "name is its label", "add its label")
            labels, stood = _with_default(labels, default_lang)
            if stood:
                col.warn("choices", row.number, "label", f"choice {name!r} of list {ln!r} has no label in "
                         f"{default_lang!r} (the default language); its {stood!r} label stands in",
                         f"add its label in {default_lang!r}")
            reason = row.get("veplab::missing") or None
            if reason is not None and reason not in MISSING_REASONS:
                col.problem("choices", row.number, "veplab_missing", f"missing reason {reason!r} is not one of "
                            f"{', '.join(MISSING_REASONS)}", "use one of those reasons, or leave the cell empty")
                reason = None
            code = None
            if row.get("veplab::code"):
                code = _int_name(row.get("veplab::code"))
                if code is None:
                    col.problem("choices", row.number, "veplab_code", f"code {row.get('veplab::code')!r} is not "
                                "a whole number", "give the integer code of the choice")
            lists.setdefault(ln, []).append(_Choice(row, name, labels, reason, code))
            list_rows.setdefault(ln, row.number)

    # ---- survey rows
    elements: list[_Element] = []
    stack: list[tuple[str, str, int]] = []  # (kind, name, row)
    names: dict[str, int] = {}
    group_defs: dict[str, dict[str, Any]] = {}
    group_veplab: dict[str, dict[str, Any]] = {}
    repeats: list[str] = []
    loops: dict[str, int] = {}
    for row in survey.rows:
        raw_type = row.get("type")
        name = row.get("name")
        if not raw_type:
            if name:
                col.problem("survey", row.number, "type", f"row {name!r} has no type",
                            "give the row a type, or delete it")
            elif any(v for k, v in row.cells.items() if not k.startswith(("$", "_"))):
                col.warn("survey", row.number, "type", "a row with no type and no name is skipped (a comment?)")
            continue
        base, list_name, rest = _split_type(raw_type)
        if base not in _QUESTION_TYPES:
            col.problem("survey", row.number, "type", f"unknown question type {raw_type!r}",
                        "use an XLSForm type: select_one LIST, select_multiple LIST, integer, decimal, text, "
                        "date, begin_group, end_group, ...")
            continue
        if base in ("end_group", "end_repeat", "end_loop"):
            want = "begin_" + base[4:]
            if not stack:
                col.problem("survey", row.number, "type", f"{base} without a matching {want}",
                            f"add the {want} above, or delete this row")
            elif stack[-1][0] != want:
                kind, gname, grow = stack[-1]
                col.problem("survey", row.number, "type", f"{base} closes {kind} {gname!r} of row {grow}",
                            f"close {kind} {gname!r} with end_{kind.split('_')[1]} first")
                stack.pop()
            else:
                stack.pop()
            continue
        if base in ("select_one", "select_multiple", "rank", "begin_loop") and not list_name:
            col.problem("survey", row.number, "type", f"{base} needs the name of a choice list",
                        f"write the type as '{base} LISTNAME'")
            continue
        if list_name and base in ("select_one", "select_multiple", "rank", "begin_loop") and list_name not in lists:
            col.problem("survey", row.number, "type", f"choice list {list_name!r} does not exist in the "
                        "choices sheet", "add its choices to the choices sheet, or correct the list name")
        if not name:
            if base == "note":
                col.warn("survey", row.number, "name", "a note with no name is not carried over (exports hold "
                         "no notes)")
                continue
            if base in ("xml-external", "csv-external") or base in _METADATA_TYPES:
                name = base
            else:
                col.problem("survey", row.number, "name", f"a {base} row has no name",
                            "give every question a unique name (letters, digits, underscores)")
                continue
        if not _XML_NAME.match(name):
            col.problem("survey", row.number, "name", f"name {name!r} is not a valid field name",
                        "use letters, digits and underscores, starting with a letter")
            continue
        if name in names:
            col.problem("survey", row.number, "name", f"name {name!r} is used twice (rows {names[name]} and "
                        f"{row.number})", "give every question and group a unique name")
            continue
        names[name] = row.number
        labels = _texts(row, label_langs)
        hints = _texts(row, hint_langs)
        group = "/".join(n for k, n, _ in stack if k == "begin_group")
        repeat_path = tuple(n for k, n, _ in stack if k == "begin_repeat")
        in_loop = next((n for k, n, _ in stack if k == "begin_loop"), None)
        if base in ("begin_group", "begin_repeat", "begin_loop"):
            labels, _ = _with_default(labels, default_lang)
            if base == "begin_repeat":
                repeats.append(name)
            elif base == "begin_loop":
                loops[name] = 0
            else:
                path_ = "/".join([*(n for k, n, _ in stack if k == "begin_group"), name])
                gdef: dict[str, Any] = {}
                if labels:
                    gdef["label"] = labels
                for key in ("relevant", "appearance"):
                    if row.get(key):
                        gdef[key] = row.get(key)
                if not repeat_path:
                    group_defs[path_] = gdef
                marks = {key: row.get(f"veplab::{key}") for key in ("scale", "role", "domain")
                         if row.get(f"veplab::{key}")}
                if marks:
                    group_veplab[path_] = {**marks, "row": row.number, "label": labels}
            stack.append((base, name, row.number))
            continue
        if in_loop is not None:
            loops[in_loop] += 1
            continue
        if base not in _NO_LABEL_NEEDED:
            if not labels and row.get("hint"):
                labels = {default_lang: row.get("hint")}
            if not labels:
                col.problem("survey", row.number, "label", f"question {name!r} has no label",
                            "add its label (in the form's default language)")
        labels, stood = _with_default(labels, default_lang)
        if stood:
            col.warn("survey", row.number, "label", f"question {name!r} has no label in {default_lang!r} (the "
                     f"default language); its {stood!r} label stands in", f"add its label in {default_lang!r}")
        hints, _ = _with_default(hints, default_lang)
        if base == "calculate" and not row.get("calculation"):
            col.warn("survey", row.number, "calculation", f"calculate {name!r} has no calculation (its value is "
                     "set elsewhere, e.g. by a default or a trigger)")
        elements.append(_Element(row, base, list_name, rest, name, labels, hints, group,
                                 repeat_path[-1] if repeat_path else None, repeat_path))
    for kind, gname, grow in stack:
        col.problem("survey", grow, "type", f"{kind} {gname!r} is never closed",
                    f"add an end_{kind.split('_')[1]} row after its last question")
    for lname, n in loops.items():
        col.warn("survey", names.get(lname), "type", f"loop {lname!r} over the choices of a list ({n} fields per "
                 "choice) is not carried over", "its columns are left out of the codebook; load the export with "
                 "unknown: drop, or ask them as separate questions")

    # ---- expressions: veplab does not evaluate form logic, so a mistake in it is a note, not a refusal
    for row in survey.rows:
        for key in _EXPRESSION_COLUMNS:
            expr = row.get(key)
            if not expr or (key in ("required", "readonly") and _yes(expr) is not None):
                continue
            try:
                _xpath.check(expr)
            except _xpath.XPathError as exc:
                col.warn("survey", row.number, key, f"the {key} expression does not parse: {exc}",
                         "correct the expression before fielding the form (XPath: . >= 18 and . <= 90, "
                         "selected(${q}, 'a'), ...)")
                continue
            for ref in _xpath.references(expr):
                if ref not in names:
                    col.warn("survey", row.number, key, f"the {key} expression names ${{{ref}}}, "
                             "which is not a field of the form", "correct the name inside ${...}")
    return {
        "survey": survey, "settings": settings, "lists": lists, "list_rows": list_rows,
        "elements": elements, "group_defs": group_defs, "repeats": repeats, "has_missing_col": has_missing_col,
        "cmsg_langs": cmsg_langs, "names": names, "sheets": sheets, "default_lang": default_lang, "langs": langs,
        "group_veplab": group_veplab,
    }
