"""XLSForm (KoboToolbox / ODK) forms to veplab codebooks and back.

:func:`from_xlsform` reads a form's ``survey``, ``choices`` and ``settings``
sheets and writes the veplab codebook the data will be loaded with;
:func:`to_xlsform` writes a veplab codebook as a form a team can field in
KoboToolbox or ODK (labels in English, French, Arabic and Russian, missing
codes as choices).  The two are inverse: ``from_xlsform(to_xlsform(cb))``
gives ``cb`` back, and from-xlsform -> to-xlsform -> from-xlsform is stable.

How a form becomes a codebook
-----------------------------

==========================  ===============================================
XLSForm                     veplab codebook
==========================  ===============================================
``select_one LIST``         a coded item; choice names that are whole
                            numbers are the codes (otherwise codes 1..k in
                            choice order, or the ``veplab_code`` column;
                            names are kept under ``xlsform.choices`` so that
                            exports in XML values still load).  Type
                            ``likert`` for agree/disagree wording, ``binary``
                            for two options (yes/no, 0/1), ``ordinal`` for
                            frequency / intensity / band wording, else
                            ``categorical`` -- or as ``veplab::type`` says.
``select_multiple LIST``    one ``binary`` item per choice, ``FIELD__CHOICE``
                            (0 = not selected, 1 = selected), kept together
                            by ``xlsform.select_multiple``.
``integer`` / ``decimal``   ``numeric`` (``integer: true`` for integer);
/ ``range``                 ``min``/``max`` from simple constraints such as
                            ``. >= 18 and . <= 90`` (range: its parameters).
``date``                    ``date``; ``datetime``, ``start``, ``end``:
                            ``date`` with ``format: ISO8601``; ``start``,
                            ``end``, ``today``: role ``admin``.
``text`` and the rest       ``text``: ``calculate``, ``hidden``: role
                            ``admin``; locations (``geopoint``...),
                            ``barcode``, ``phonenumber``, ``email``: role
                            ``identifier`` (the load refuses them); media and
                            ``audit``: role ``sensitive``; ``time``, ``rank``,
                            ``acknowledge``, external / from-file selects:
                            text, with a note.
``deviceid``, ``username``  left out (they identify the interviewer's device
``subscriberid``,           or account; Kobo exports' columns are dropped at
``simserial``               load), kept under ``xlsform.metadata``.
``note``, ``*-external``    left out (exports do not hold them).
``begin_group``             groups vanish from item ids (exports'
                            ``group/field`` headers are matched by field);
                            kept under ``xlsform.group`` for the way back.
                            ``veplab::scale`` on the row scores the group's
                            questions as a scale, ``veplab::domain`` gives
                            its domain, ``veplab::role`` its questions' role.
``begin_repeat``            a separate table: ``from_xlsform(form,
                            repeat=NAME)`` gives its codebook (id column
                            ``index``, with ``parent_index`` and the parent's
                            id column, for the export's repeat sheet).
``begin loop``              left out, with a note.
``label::French (fr)``...   labels in ``en``, ``fr``, ``ar``, ``ru``; the
                            form's default language (settings
                            ``default_language``, else a bare ``label``
                            column, else the first label column) is the
                            codebook's ``default_language``; a form with no
                            column in those four keeps its default language
                            under ``en``; ``hint::...`` becomes the item's
                            ``description``.
``required``, ``relevant``  kept under ``xlsform`` (veplab does not enforce
complex ``constraint``      form logic; each one is listed as a note, as is
                            an expression that does not parse).
==========================  ===============================================

Every type pyxform knows is read under each of its names (pyxform's
``question_type_dictionary`` and aliases: ``select one from LIST``, ``gps``,
``photo``, ``imei``, ``begin lgroup``...), as are ``.xls`` workbooks (xlrd) and
old headers (``label:English``, ``list name``, ``bind:relevant``).  The id
column is the settings' ``veplab::id_column``; else a field whose name says it
is a record id (never a prison or interviewer code), recorded as
``xlsform.id_column_guessed``; else Kobo's ``_uuid`` (``uuid``).

veplab-specific columns (all optional, written by :func:`to_xlsform`):

* survey: ``veplab::type`` (likert, ordinal, binary, categorical, numeric,
  date, text), ``veplab::role`` (item, quasi_identifier, sensitive,
  identifier, admin, outcome), ``veplab::reverse`` (yes), ``veplab::missing``
  (``999=refused 998=dont_know``: missing codes of numeric items),
  ``veplab::domain``, ``veplab::key`` (correct option of a knowledge item),
  ``veplab::required`` (``no``: the column may be absent from an export),
  ``veplab::pseudonymised`` (yes), ``veplab::format`` (date format),
  ``veplab::scale`` (scale ids the item is scored in), ``veplab::extra`` (a
  YAML mapping of further metadata);
* choices: ``veplab_missing`` (the reason a choice is a missing code:
  dont_know, refused, not_applicable, not_asked, missing) and ``veplab_code``;
  without that column, choices labelled "Don't know", "Refused", "Ne sait
  pas", "Отказ", "لا أعرف"... are taken as missing codes (with a warning);
* settings: ``veplab::unit``, ``veplab::id_column``,
  ``veplab::title::French (fr)`` (and ``ar``, ``ru``; ``form_title`` is the
  English title), ``veplab::description::<language>``, ``veplab::extra``;
* a ``veplab_scales`` sheet: ``id``, ``label::<language>``, ``items``
  (space-separated; empty: the questions marked ``veplab::scale``), ``score``
  (mean, sum), ``min_items``, ``domain``, ``extra``.

See ``surveys/README.md`` ("From a Kobo / ODK form") and the example form
``surveys/examples/example_form.xlsx``.

A malformed form raises :class:`XLSFormError` listing every problem with its
sheet, row and column (duplicate names, a choice list that does not exist, an
expression that does not parse or names an unknown ``${field}``, a missing
label column, an unmatched ``begin_group``...).

>>> conv = from_xlsform("tests/fixtures/ingest/prison_wellbeing.xlsx")  # doctest: +SKIP
>>> conv.codebook.item("q_safe").type, conv.warnings[:1]                 # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings as _warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .. import codebook as _cb
from ..codebook import LANGUAGES, MISSING_REASONS, Codebook
from . import _xpath
from ._common import (
    LANGUAGE_NAMES,
    REASON_CODES,
    REASON_LABELS,
    codebook_to_dict,
    dump_yaml,
    guess_reason,
    language_of,
    option_shape,
    sanitize_id,
)

__all__ = ["FormProblem", "XLSFormError", "Conversion", "from_xlsform", "to_xlsform", "validate_form", "write_sheets"]

YES_NO_LABELS = {
    0: {"en": "No", "fr": "Non", "ar": "لا", "ru": "Нет"},
    1: {"en": "Yes", "fr": "Oui", "ar": "نعم", "ru": "Да"},
}
_RANGE_MESSAGE = {
    "en": "Enter a value from {lo} to {hi}",
    "fr": "Saisir une valeur de {lo} à {hi}",
    "ar": "أدخل قيمة من {lo} إلى {hi}",
    "ru": "Введите значение от {lo} до {hi}",
}

#: Every XLSForm question type, by the name veplab uses for it, with the names pyxform also
#: accepts for it (pyxform's ``question_type_dictionary`` and ``aliases``; matched ignoring case).
_TYPE_NAMES: dict[str, tuple[str, ...]] = {
    "select_one": ("select_one", "select one", "select1", "select one from", "select one using",
                   "add select one prompt using", "q select1"),
    "select_multiple": ("select_multiple", "select multiple", "select all that apply", "select all that apply from",
                        "select multiple from", "select multiple using", "add select multiple prompt using",
                        "q select"),
    "select_one_external": ("select_one_external", "select one external"),
    "select_one_from_file": ("select_one_from_file", "select one from file"),
    "select_multiple_from_file": ("select_multiple_from_file", "select multiple from file"),
    "rank": ("rank",),
    "text": ("text", "string", "q string", "add text prompt"),
    "integer": ("integer", "int", "q int", "q integer", "add integer prompt", "percentage",
                "number of days in last month", "number of days in last six months", "number of days in last year"),
    "decimal": ("decimal", "q decimal", "add decimal prompt"),
    "range": ("range",),
    "date": ("date", "q date", "add date prompt"),
    "datetime": ("datetime", "date time", "q date time", "q datetime", "add date time prompt",
                 "add datetime prompt"),
    "time": ("time",),
    "note": ("note", "q note", "add note prompt"),
    "calculate": ("calculate", "q calculate", "add calculate prompt"),
    "hidden": ("hidden",),
    "acknowledge": ("acknowledge", "q acknowledge", "add acknowledge prompt", "trigger"),
    "barcode": ("barcode", "q barcode", "add barcode prompt"),
    "geopoint": ("geopoint", "gps", "location", "q location", "q geopoint", "add location prompt"),
    "geotrace": ("geotrace", "q geotrace"),
    "geoshape": ("geoshape", "q geoshape"),
    "start-geopoint": ("start-geopoint",),
    "background-geopoint": ("background-geopoint",),
    "image": ("image", "photo", "q picture", "q image", "add image prompt", "add photo prompt"),
    "audio": ("audio", "q audio", "add audio prompt"),
    "video": ("video", "q video", "add video prompt"),
    "file": ("file", "add file prompt"),
    "osm": ("osm",),
    "background-audio": ("background-audio",),
    "audit": ("audit",),
    "start": ("start", "start time", "get start time"),
    "end": ("end", "end time", "get end time"),
    "today": ("today", "get today"),
    "deviceid": ("deviceid", "device id", "get device id", "imei", "uri:deviceid"),
    "subscriberid": ("subscriberid", "subscriber id", "get subscriber id", "uri:subscriberid"),
    "simserial": ("simserial", "sim id", "get sim id", "uri:simserial"),
    "username": ("username", "uri:username"),
    "phonenumber": ("phonenumber", "phone number", "get phone number", "uri:phonenumber"),
    "email": ("email", "uri:email"),
    "xml-external": ("xml-external",),
    "csv-external": ("csv-external",),
    "begin_group": ("begin_group", "begin group"),
    "end_group": ("end_group", "end group"),
    "begin_repeat": ("begin_repeat", "begin repeat", "begin lgroup", "begin looped group", "begin_lgroup",
                     "begin_looped_group"),
    "end_repeat": ("end_repeat", "end repeat", "end lgroup", "end looped group", "end_lgroup", "end_looped_group"),
    "begin_loop": ("begin_loop", "begin loop", "begin loop over", "begin_loop_over"),
    "end_loop": ("end_loop", "end loop"),
}
_TYPE_ALIASES: dict[str, str] = {alias: base for base, names in _TYPE_NAMES.items() for alias in names}
_QUESTION_TYPES = set(_TYPE_NAMES)
#: Types whose second word names a choice list (or, for the *_from_file types, a file).
_LIST_TYPES = {"select_one", "select_multiple", "select_one_external", "select_one_from_file",
               "select_multiple_from_file", "rank", "begin_loop"}
_OR_OTHER = re.compile(r"\s+(or_other|or specify other|or other)$", re.I)
#: Metadata that identifies the interviewer's device or account: left out of the codebook and
#: dropped when an export is loaded (veplab.data.kobo).
_STAFF_METADATA = {"deviceid", "subscriberid", "simserial", "username"}
#: Direct identifiers (of anyone): role identifier, which the load's privacy gate refuses.
_IDENTIFIER_TYPES = {"phonenumber", "email", "geopoint", "geotrace", "geoshape", "start-geopoint",
                     "background-geopoint", "barcode"}
#: Attachments: the export holds file names (role sensitive, never analysed).
_MEDIA_TYPES = {"image", "audio", "video", "file", "osm", "background-audio", "audit"}
_METADATA_TYPES = {"start", "end", "today", "audit", "background-audio", "start-geopoint", "background-geopoint",
                   "phonenumber", "email"} | _STAFF_METADATA
_NO_LABEL_NEEDED = {"calculate", "hidden", "begin_group", "end_group", "begin_repeat", "end_repeat",
                    "begin_loop", "end_loop", "xml-external", "csv-external", "note"} | _METADATA_TYPES
_EXPRESSION_COLUMNS = ("constraint", "relevant", "calculation", "choice_filter", "readonly", "repeat_count",
                       "required")
_HEADER_ALIASES = {"list name": "list_name", "constraint message": "constraint_message",
                   "required message": "required_message", "choice filter": "choice_filter",
                   "repeat count": "repeat_count", "constraint_msg": "constraint_message",
                   # pyxform's aliases (aliases.survey_header / list_header)
                   "caption": "label", "relevance": "relevant", "read_only": "readonly", "calculate": "calculation",
                   "command": "type", "tag": "name", "jr:count": "repeat_count", "count": "repeat_count",
                   "requiredmsg": "required_message", "constraining_message": "constraint_message",
                   "jr:constraintmsg": "constraint_message", "jr:requiredmsg": "required_message"}
#: Header aliases of the choices sheets only (pyxform's ``list_header``).
_CHOICE_ALIASES = {"value": "name"}
#: Columns that hold one text per language (``label::French (fr)``; pyxform also reads ``label:French``).
_TRANSLATED = ("label", "hint", "constraint_message", "required_message", "guidance_hint", "image", "audio",
               "video", "big-image", "media", "caption")
#: The translated columns whose languages veplab carries over.
_LANG_BASES = ("label", "hint", "constraint_message")
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_KNOWN_SURVEY = {"type", "name", "label", "hint", "required", "relevant", "constraint", "constraint_message",
                 "appearance", "calculation", "choice_filter", "parameters", "default", "readonly",
                 "required_message", "repeat_count", "guidance_hint", "media", "image", "audio", "video",
                 "trigger", "body", "bind", "instance", "note", "autoplay"}
_ITEM_VEPLAB = ("type", "role", "reverse", "missing", "domain", "key", "required", "pseudonymised", "format",
                "scale", "extra", "code")


@dataclasses.dataclass(frozen=True)
class FormProblem:
    """One thing wrong with (or not carried over from) a form: where and what to do."""

    sheet: str
    row: int | None
    column: str
    problem: str
    fix: str = ""

    def __str__(self) -> str:
        where = self.sheet + (f" row {self.row}" if self.row else "") + (f" column {self.column!r}" if self.column else "")
        return f"{where}: {self.problem}" + (f" (fix: {self.fix})" if self.fix else "")


class XLSFormError(ValueError):
    """A malformed form.  ``problems`` lists every :class:`FormProblem` found."""

    def __init__(self, file: str, problems: Sequence[FormProblem]):
        self.file = file
        self.problems = list(problems)
        lines = [f"{file}: the form has {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}; "
                 "nothing was written:"]
        for i, p in enumerate(self.problems, start=1):
            lines.append(f"{i:>3}. {p}")
        super().__init__("\n".join(lines))


@dataclasses.dataclass(frozen=True)
class Conversion:
    """A form converted to a codebook.

    ``data`` is the codebook as a mapping (what :meth:`yaml` writes),
    ``codebook`` the validated :class:`~veplab.codebook.Codebook`,
    ``warnings`` what could not be carried over or was guessed, and
    ``repeats`` the names of the form's repeat groups (each a table of its own).
    """

    data: Mapping[str, Any]
    codebook: Codebook
    warnings: tuple[FormProblem, ...]
    repeats: tuple[str, ...] = ()

    def yaml(self, source: str | None = None) -> str:
        """The codebook as YAML text (loads with :func:`veplab.codebook.load`)."""
        header = "veplab codebook converted from the XLSForm " + (Path(source).name if source else "form")
        if self.warnings:
            header += f"\n{len(self.warnings)} note(s) from the conversion:\n" + "\n".join(
                f"- {w}" for w in self.warnings)
        return dump_yaml(self.data, header=header)

    def write(self, path: str | Path, source: str | None = None) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.yaml(source), encoding="utf-8")
        return path


# --------------------------------------------------------------------------- reading sheets


@dataclasses.dataclass
class _Row:
    number: int
    cells: dict[str, str]

    def get(self, key: str) -> str:
        return self.cells.get(key, "")


@dataclasses.dataclass
class _Sheet:
    name: str
    headers: list[str]
    rows: list[_Row]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _norm_header(header: str, choices: bool = False) -> str:
    header = header.strip()
    low = header.lower()
    if low in ("veplab_missing", "veplab_code"):
        return "veplab::" + low[7:]
    if "::" not in header and ":" in header and header.split(":", 1)[0].strip().lower() in _TRANSLATED:
        header = "::".join(header.split(":", 1))  # label:English, as old forms (and pyxform) write it
    for prefix in ("bind::", "bind:", "control::", "control:"):  # pyxform's grouped headers: bind:relevant
        if low.startswith(prefix) and low[len(prefix):] not in ("", "jr"):
            header = header[len(prefix):]
            low = header.lower()
            break
    aliases = {**_HEADER_ALIASES, **_CHOICE_ALIASES} if choices else _HEADER_ALIASES
    if "::" in header:
        base, rest = header.split("::", 1)
        base = base.strip().lower()
        return f"{aliases.get(base, base)}::{rest.strip()}"
    low = header.lower()
    return aliases.get(low, low)


_MAX_EMPTY_ROWS = 60
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # an OLE2 compound file: Excel 97-2003 .xls


def _raw_tables(path: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """(sheet title, rows of cell values) for every sheet of an .xlsx or .xls workbook."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == _XLS_MAGIC:
        try:
            import xlrd
        except ImportError:  # pragma: no cover - xlrd comes with veplab[ingest] (and pyxform)
            raise _NeedsXlrd() from None
        book = xlrd.open_workbook(str(path), on_demand=True)
        try:
            out = []
            for k in range(book.nsheets):
                sh = book.sheet_by_index(k)
                out.append((sh.name, [tuple(sh.row_values(r)) for r in range(sh.nrows)]))
            return out
        finally:
            book.release_resources()
    import openpyxl

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return [(ws.title, list(ws.iter_rows(values_only=True))) for ws in wb.worksheets]
        finally:
            wb.close()


class _NeedsXlrd(Exception):
    pass


def _read_workbook(path: Path) -> dict[str, _Sheet]:
    sheets: dict[str, _Sheet] = {}
    for title, table in _raw_tables(path):
        key = title.strip().lower()
        if not table:
            sheets.setdefault(key, _Sheet(title, [], []))
            continue
        choices = key in ("choices", "external_choices")
        headers = [_norm_header(_cell(h), choices) for h in table[0]]
        rows = []
        empty_run = 0
        for number, values in enumerate(table[1:], start=2):
            cells = {}
            for h, v in zip(headers, values):
                text = _cell(v)
                if h and text and h not in cells:
                    cells[h] = text
            if cells:
                rows.append(_Row(number, cells))
                empty_run = 0
            else:
                empty_run += 1
                if empty_run >= _MAX_EMPTY_ROWS:  # as pyxform: a long run of empty rows ends the sheet
                    break
        sheets.setdefault(key, _Sheet(title, list(dict.fromkeys(h for h in headers if h)), rows))
    return sheets


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
            key = (ln, name)
            if key in seen:
                if allow_duplicates:
                    col.warn("choices", row.number, "name", f"choice {name!r} appears twice in list {ln!r} (rows "
                             f"{seen[key]} and {row.number}; allow_choice_duplicates): both are the same value in "
                             "the data, one code with the label of the first")
                else:
                    col.problem("choices", row.number, "name", f"choice {name!r} appears twice in list {ln!r} "
                                f"(rows {seen[key]} and {row.number})", "give each choice of a list a unique name")
                continue
            seen[key] = row.number
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


# --------------------------------------------------------------------------- building the codebook


def _coded(el: _Element, choices: list[_Choice], col: _Collect, has_missing_col: bool,
           guesses: dict[str, list[str]]) -> dict[str, Any]:
    """options / missing / type / xlsform choice names for a select_one."""
    row = el.row
    item_missing = None
    if row.get("veplab::missing"):
        item_missing = _parse_missing(row.get("veplab::missing"))
    reasons: list[str | None] = []
    for c in choices:
        reason = c.reason
        code = c.code if c.code is not None else _int_name(c.name)
        if item_missing and code in item_missing:
            reason = item_missing[code]
        if reason is None and not has_missing_col and not item_missing:
            guessed = guess_reason(" ".join(c.labels.values()))
            if guessed:
                reason = guessed
                note = f"{c.name} -> {guessed}"
                found = guesses.setdefault(el.list_name or "", [])
                if note not in found:
                    found.append(note)
        reasons.append(reason)
    opts = [(c, r) for c, r in zip(choices, reasons) if r is None]
    miss = [(c, r) for c, r in zip(choices, reasons) if r is not None]
    explicit = [c.code for c, _ in opts]
    int_names = [_int_name(c.name) for c, _ in opts]
    names_map: dict[int, str] = {}
    shape_codes: list[int] | None
    if all(x is not None for x in explicit) and explicit:
        codes = list(explicit)
        shape_codes = codes
    elif all(x is not None for x in int_names) and int_names:
        codes = list(int_names)
        shape_codes = codes
    else:
        shape_codes = None
        if len(opts) == 2 and option_shape([c.labels for c, _ in opts]) == "binary":
            yes_first = bool(re.match(r"^(yes|oui|да|نعم|true|vrai)$", opts[0][0].labels.get("en", "") or
                                      next(iter(opts[0][0].labels.values()), ""), re.I))
            codes = [1, 0] if yes_first else [0, 1]
        else:
            codes = list(range(1, len(opts) + 1))
    options: dict[int, dict[str, str]] = {}
    for (c, _), code in zip(opts, codes):
        options[code] = c.labels
        if c.name != str(code):
            names_map[code] = c.name
    missing: dict[int, str] = {}
    missing_labels: dict[int, dict[str, str]] = {}
    for c, reason in miss:
        code = c.code if c.code is not None else _int_name(c.name)
        if code is None or code in options or code in missing:
            code = next((k for k in REASON_CODES[reason] if k not in options and k not in missing),
                        max([*options, *missing, 0]) + 1)
        missing[code] = reason
        if c.name != str(code):
            names_map[code] = c.name
        if c.labels and c.labels != {k: v for k, v in REASON_LABELS[reason].items() if k in LANGUAGES}:
            missing_labels[code] = c.labels
    if item_missing:
        for code, reason in item_missing.items():
            if code not in missing and code not in options:
                missing[code] = reason
    vtype = row.get("veplab::type")
    if not vtype:
        if el.type == "select_one":
            vtype = option_shape(list(options.values()), shape_codes)
            guesses.setdefault("__types__" + (el.list_name or ""), []).append(vtype)
    return {"options": options, "missing": missing, "type": vtype, "choices": names_map,
            "missing_labels": missing_labels}


def _bool_col(row: _Row, key: str, col: _Collect) -> bool | None:
    text = row.get(key)
    if not text:
        return None
    value = _yes(text)
    if value is None:
        col.problem("survey", row.number, key, f"{key} must be yes or no, got {text!r}", "write yes or no")
    return value


def _item_from(el: _Element, parsed: dict[str, Any], col: _Collect, guesses: dict[str, list[str]],
               scale_members: dict[str, list[str]]) -> list[dict[str, Any]]:
    row = el.row
    xl: dict[str, Any] = {}
    if el.group:
        xl["group"] = el.group
    req = row.get("required")
    if req:
        flag = _yes(req)
        if flag is None:
            xl["required"] = req
        elif flag:
            xl["required"] = True
    for key in ("relevant", "appearance", "choice_filter", "default", "readonly", "parameters"):
        if row.get(key):
            xl[key] = row.get(key)
    cmsg = _texts(row, parsed["cmsg_langs"])
    item: dict[str, Any] = {"id": sanitize_id(el.name), "label": dict(el.labels) or {parsed["default_lang"]: el.name}}
    if item["id"] != el.name:
        xl["name"] = el.name
        col.warn("survey", row.number, "name", f"name {el.name!r} becomes item id {item['id']!r} "
                 "(codebook ids hold letters, digits and underscores)")
    if el.hints:
        item["description"] = dict(el.hints)
    where = f"{el.type} {el.name!r}"
    if row.get("relevant"):
        col.warn("survey", row.number, "relevant", f"{where}: relevance logic is not enforced by veplab "
                 "(kept as xlsform.relevant)", "skipped questions arrive blank; give them a missing code if you "
                 "need to tell 'not asked' from 'no answer'")
    if el.type == "select_one":
        info = _coded(el, parsed["lists"].get(el.list_name, []), col, parsed["has_missing_col"], guesses)
        item["type"] = info["type"]
        item["options"] = info["options"]
        if info["missing"]:
            item["missing"] = info["missing"]
        if info["choices"]:
            xl["choices"] = info["choices"]
        if info["missing_labels"]:
            xl["missing_labels"] = info["missing_labels"]
        xl["list_name"] = el.list_name
        if el.type_rest:
            col.warn("survey", row.number, "type", f"{where}: {el.type_rest!r} (or_other) is not carried over; "
                     "'other' answers will not load", "add an explicit 'other' choice with a code")
    elif el.type in ("integer", "decimal", "range"):
        item["type"] = "numeric"
        if el.type == "integer":
            item["integer"] = True
        if el.type == "range":
            xl["type"] = "range"
            params = dict(re.findall(r"(\w+)\s*=\s*(-?[\d.]+)", row.get("parameters")))
            if "start" in params:
                item["min"] = _number(float(params["start"]))
            if "end" in params:
                item["max"] = _number(float(params["end"]))
            if params.get("step", "1") in ("1", "1.0") and all(float(params.get(k, 0)).is_integer()
                                                                for k in ("start", "end")):
                item["integer"] = True
            lo, hi = item.get("min"), item.get("max")
            if lo is not None and hi is not None and lo > hi:
                item["min"], item["max"] = hi, lo
        missing = _parse_missing(row.get("veplab::missing")) if row.get("veplab::missing") else None
        if row.get("veplab::missing") and missing is None:
            col.problem("survey", row.number, "veplab::missing", f"cannot read {row.get('veplab::missing')!r}",
                        "write missing codes as 999=refused 998=dont_know")
        if missing:
            item["missing"] = missing
        cons = row.get("constraint")
        if cons:
            b = _xpath.bounds(cons, el.name, integer=el.type == "integer")
            codes_ok = b is not None and set(b.codes) <= {float(c) for c in (missing or {})}
            if b is not None and codes_ok and el.type != "range":
                if b.min is not None:
                    item["min"] = _number(b.min)
                if b.max is not None:
                    item["max"] = _number(b.max)
                if cmsg and cmsg != _range_message(item.get("min"), item.get("max")):
                    xl["constraint_message"] = cmsg
            else:
                xl["constraint"] = cons
                if cmsg:
                    xl["constraint_message"] = cmsg
                col.warn("survey", row.number, "constraint", f"{where}: constraint {cons!r} is not a simple "
                         "range; veplab does not check it (kept as xlsform.constraint)",
                         "write it as . >= MIN and . <= MAX to have veplab check the range")
    elif el.type == "select_multiple":
        item["type"] = "binary"
        if el.type_rest:
            col.warn("survey", row.number, "type", f"{where}: {el.type_rest!r} (or_other) is not carried over; "
                     "'other' answers will not load", "add an explicit 'other' choice")
    elif el.type in ("date", "today"):
        item["type"] = "date"
        if el.type != "date":
            xl["type"] = el.type
            item["role"] = "admin"
            item["required"] = False
            col.warn("survey", row.number, "type", f"{where}: metadata (the day of the interview) read as a date "
                     "with role admin")
    elif el.type in ("datetime", "start", "end"):
        item["type"] = "date"
        item["format"] = "ISO8601"
        if el.type != "datetime":
            xl["type"] = el.type
        if el.type in ("start", "end"):
            item["role"] = "admin"
            item["required"] = False
    else:
        item["type"] = "text"
        if el.type != "text":
            xl["type"] = el.type if el.type not in _LIST_TYPES else f"{el.type} {el.list_name or ''}".strip()
        if el.type in ("calculate", "hidden"):
            if row.get("calculation"):
                xl["calculation"] = row.get("calculation")
            item["role"] = "admin"
            item["required"] = False
            col.warn("survey", row.number, "calculation", f"{where}: the calculation is not carried out by veplab; "
                     f"the exported value is read as text with role admin (kept as xlsform.calculation)")
        elif el.type in _IDENTIFIER_TYPES:
            item["role"] = "identifier"
            item["required"] = False
            what = ("a location (it identifies people and the places they live)" if "geo" in el.type else
                    "a barcode (usually an id card or file number)" if el.type == "barcode" else
                    "a phone number" if el.type == "phonenumber" else "an e-mail address")
            col.warn("survey", row.number, "type", f"{where} collects {what}: role identifier, so veplab.data.load "
                     "refuses an export that holds it", "remove it from the form (or from the export); if it "
                     "holds keyed pseudonyms, set veplab::role admin and veplab::pseudonymised yes")
        elif el.type in _MEDIA_TYPES:
            item["role"] = "sensitive"
            item["required"] = False
            col.warn("survey", row.number, "type", f"{where}: attachments are not analysed; the exported file "
                     "name is read as text with role sensitive (the export's attachment links are dropped)")
        elif el.type == "time":
            col.warn("survey", row.number, "type", f"{where}: a time of day, read as text")
        elif el.type == "acknowledge":
            col.warn("survey", row.number, "type", f"{where}: read as text ('OK' when acknowledged, blank "
                     "otherwise)")
        elif el.type == "rank":
            col.warn("survey", row.number, "type", f"{where}: the ranked choices are read as text (their names "
                     "in order); the list is not carried over",
                     "ask one select_one question per rank to analyse the ranking")
        elif el.type in ("select_one_external", "select_one_from_file", "select_multiple_from_file"):
            col.warn("survey", row.number, "type", f"{where}: its choices are outside the choices sheet, so the "
                     "answers (choice names) are read as text", "list the choices in the choices sheet to have "
                     "them coded")
        elif el.type not in ("text",):
            col.warn("survey", row.number, "type", f"{where}: read as text")
    if row.get("constraint") and el.type not in ("integer", "decimal", "range"):
        xl["constraint"] = row.get("constraint")
        if cmsg:
            xl["constraint_message"] = cmsg
        col.warn("survey", row.number, "constraint", f"{where}: constraint {row.get('constraint')!r} is not "
                 "checked by veplab (kept as xlsform.constraint)")
    # veplab:: columns
    vtype = row.get("veplab::type")
    if vtype:
        if vtype not in _cb.ITEM_TYPES:
            col.problem("survey", row.number, "veplab::type", f"veplab::type {vtype!r} is not one of "
                        f"{', '.join(_cb.ITEM_TYPES)}", "correct it or leave it empty")
        elif el.type == "select_multiple":
            col.problem("survey", row.number, "veplab::type", "veplab::type does not apply to a select_multiple "
                        "(each choice becomes a binary item)", "leave veplab::type empty for this question")
        elif el.type != "select_one":
            if (vtype in _cb.CODED_TYPES) != (item["type"] in _cb.CODED_TYPES):
                col.problem("survey", row.number, "veplab::type", f"veplab::type {vtype} does not fit a "
                            f"{el.type} question", "leave veplab::type empty for this question")
            else:
                item["type"] = vtype
    role = row.get("veplab::role")
    if role:
        if role not in _cb.ROLES:
            col.problem("survey", row.number, "veplab::role", f"role {role!r} is not one of {', '.join(_cb.ROLES)}",
                        "correct it or leave it empty (item)")
        else:
            item["role"] = role
    for flag in ("reverse", "pseudonymised"):
        value = _bool_col(row, f"veplab::{flag}", col)
        if value:
            item[flag] = True
    req_v = _bool_col(row, "veplab::required", col)
    if req_v is False:
        item["required"] = False
    elif req_v is True:
        item.pop("required", None)
    for key in ("domain", "format"):
        if row.get(f"veplab::{key}"):
            item[key] = row.get(f"veplab::{key}")
    if row.get("veplab::key"):
        key = _int_name(row.get("veplab::key"))
        if key is None:
            col.problem("survey", row.number, "veplab::key", "veplab::key must be an option code (whole number)",
                        "give the code of the correct option")
        else:
            item["key"] = key
    if row.get("veplab::extra"):
        extra = _yaml_mapping(row.get("veplab::extra"))
        if extra is None:
            col.problem("survey", row.number, "veplab::extra", "veplab::extra is not a YAML mapping",
                        "write it as {key: value, ...}")
        else:
            for k, v in extra.items():
                item.setdefault(str(k), v)
    if row.get("veplab::scale"):
        for sid in re.split(r"[\s,;]+", row.get("veplab::scale")):
            if sid:
                scale_members.setdefault(sid, []).append(item["id"])

    if el.type == "select_multiple":
        return _multiple(el, parsed, item, xl, col)
    if xl:
        item["xlsform"] = xl
    return [item]


def _range_message(lo: Any, hi: Any) -> dict[str, str]:
    if lo is None or hi is None:
        return {}
    return {lang: text.format(lo=lo, hi=hi) for lang, text in _RANGE_MESSAGE.items()}


def _multiple(el: _Element, parsed: dict[str, Any], base: dict[str, Any], xl: dict[str, Any],
              col: _Collect) -> list[dict[str, Any]]:
    out = []
    qid = base["id"]
    choices = parsed["lists"].get(el.list_name, [])
    for c in choices:
        cid = sanitize_id(c.name, prefix="c")
        label = {lang: f"{el.labels[lang]}: {c.labels[lang]}" for lang in LANGUAGES
                 if lang in el.labels and lang in c.labels} or {parsed["default_lang"]: f"{qid}: {c.name}"}
        item: dict[str, Any] = {"id": f"{qid}__{cid}", "label": label, "type": "binary",
                                "options": dict(YES_NO_LABELS)}
        for key in ("role", "domain", "required"):
            if key in base:
                item[key] = base[key]
        if "description" in base:
            item["description"] = base["description"]
        x = dict(xl)
        x["select_multiple"] = el.name
        x["choice"] = c.name
        x["question_label"] = dict(el.labels)
        x["choice_label"] = dict(c.labels)
        if el.list_name != el.name:
            x["list_name"] = el.list_name
        item["xlsform"] = x
        out.append(item)
    return out


def _scales_sheet(sheets: dict[str, _Sheet], col: _Collect, plan: _Langs) -> list[dict[str, Any]]:
    sheet = sheets.get("veplab_scales")
    if sheet is None:
        return []
    langs: dict[str, str] = {}
    for h in sheet.headers:
        if h == "label" or h.startswith("label::"):
            suffix = h.split("::", 1)[1] if "::" in h else ""
            lang = plan.of.get(suffix) or (language_of(suffix) if suffix else plan.default)
            if lang is None:
                col.warn("veplab_scales", 1, h, f"scale labels in {suffix!r} are not carried over: veplab "
                         f"codebooks hold {', '.join(LANGUAGES)}", "name the column like label::French (fr)")
            else:
                langs[h] = lang
    out = []
    for row in sheet.rows:
        sid = row.get("id")
        if not sid:
            col.problem("veplab_scales", row.number, "id", "scale has no id", "give every scale an id")
            continue
        scale: dict[str, Any] = {"id": sid}
        labels = _texts(row, langs)
        if labels:
            scale["label"] = labels
        scale["items"] = row.get("items").split()  # empty: the questions marked veplab::scale with this id
        scale["__row__"] = row.number
        scale["score"] = row.get("score") or "mean"
        mi = row.get("min_items")
        if mi:
            scale["min_items"] = int(mi) if re.fullmatch(r"\d+", mi) else mi
        else:
            scale["min_items"] = None
        if row.get("domain"):
            scale["domain"] = row.get("domain")
        if row.get("extra"):
            extra = _yaml_mapping(row.get("extra"))
            if extra is None:
                col.problem("veplab_scales", row.number, "extra", "extra is not a YAML mapping",
                            "write it as {key: value, ...}")
            else:
                for k, v in extra.items():
                    scale.setdefault(str(k), v)
        out.append(scale)
    return out


def _list_auto_names(items: list[dict[str, Any]]) -> None:
    """Drop ``xlsform.list_name`` where :func:`to_xlsform` would choose the same name."""
    auto: dict[str, str] = {}
    for item in items:
        xl = item.get("xlsform")
        if not xl or "select_multiple" in xl or "list_name" not in xl:
            continue
        sig = _signature(item)
        name = auto.get(sig, item["id"])
        if xl["list_name"] == name:
            auto.setdefault(sig, name)
            del xl["list_name"]
        if not xl:
            del item["xlsform"]


def _signature(item: Mapping[str, Any]) -> str:
    """What makes two coded items share a choice list (options, missing codes, choice names)."""
    xl = item.get("xlsform") or {}

    def srt(m: Any) -> Any:
        if not m:
            return None
        return [[int(k), dict(v) if isinstance(v, Mapping) else v] for k, v in sorted(m.items(), key=lambda kv: int(kv[0]))]

    return _flow([srt(item.get("options")), srt(item.get("missing")), srt(xl.get("choices")),
                  srt(xl.get("missing_labels"))])


_ID_NAME = re.compile(r"(^|_)(id|code|no|num|number|uuid|key)$", re.I)
_RECORD_NAME = re.compile(r"(^|_)(resp|respondent|participant|interview|interviewee|record|case|person|subject|"
                          r"questionnaire|submission|prisoner|inmate|detainee|res)(_|$)", re.I)
_GROUP_NAME = re.compile(r"(prison|facility|site|centre|center|unit|block|wing|cell|region|district|province|"
                         r"country|village|school|team|interviewer|enumerator|assessor|rater|staff|officer|device|"
                         r"cluster|strat|batch|wave|form|version|phone|tel|national|passport|household|hh|"
                         r"institution|establishment|location|area|zone|camp|group|class)", re.I)


def _ancestors(group: str) -> list[str]:
    """A group path and its parents, nearest first: 'a/b/c' -> ['a/b/c', 'a/b', 'a']."""
    parts = group.split("/")
    return ["/".join(parts[:k]) for k in range(len(parts), 0, -1)]


def _build(parsed: dict[str, Any], path: Path, col: _Collect, repeat: str | None,
           codebook_id: str | None) -> dict[str, Any]:
    settings: dict[str, str] = parsed["settings"]
    guesses: dict[str, list[str]] = {}
    scale_members: dict[str, list[str]] = {}
    items: list[dict[str, Any]] = []
    rows_of: dict[str, int] = {}
    skipped: dict[str, int] = {}
    metadata: list[str] = []
    group_veplab: dict[str, dict[str, Any]] = parsed["group_veplab"]
    for el in parsed["elements"]:
        if el.repeat != repeat:
            if repeat is None:
                skipped[el.repeat_path[0]] = skipped.get(el.repeat_path[0], 0) + 1
            continue
        if el.type == "note":
            col.warn("survey", el.row.number, "type", f"note {el.name!r} is not carried over (exports hold no notes)")
            continue
        if el.type in ("xml-external", "csv-external"):
            col.warn("survey", el.row.number, "type", f"{el.type} {el.name!r} attaches a file of choices or data to "
                     "the form; it holds no answers and is not carried over")
            continue
        if el.type in _STAFF_METADATA:
            metadata.append(el.type if el.name == el.type else f"{el.type} {el.name}")
            col.warn("survey", el.row.number, "type", f"metadata {el.type} {el.name!r} identifies the interviewer's "
                     "device or account: it is left out of the codebook and dropped when an export is loaded",
                     "remove it from the form unless the fieldwork needs it")
            continue
        for item in _item_from(el, parsed, col, guesses, scale_members):
            rows_of[item["id"]] = el.row.number
            items.append(item)
            # a group's veplab::role applies to its questions that have no role of their own
            if el.group and not el.row.get("veplab::role") and item.get("role", "item") == "item":
                for path_ in _ancestors(el.group):
                    if group_veplab.get(path_, {}).get("role"):
                        item["role"] = group_veplab[path_]["role"]
                        break
    # a group's veplab::scale makes a scale of its scorable questions
    group_scales: dict[str, dict[str, Any]] = {}
    if repeat is None:
        for path_, marks in group_veplab.items():
            role = marks.get("role")
            if role and role not in _cb.ROLES:
                col.problem("survey", marks["row"], "veplab::role", f"role {role!r} is not one of "
                            f"{', '.join(_cb.ROLES)}", "correct it or leave it empty")
            if not marks.get("scale"):
                continue
            sid = marks["scale"].strip()
            members = [i["id"] for i in items if ((i.get("xlsform") or {}).get("group", "") + "/").startswith(
                path_ + "/") and i["type"] in ("likert", "ordinal", "binary", "numeric")
                and i.get("role", "item") in ("item", "outcome") and "select_multiple" not in (i.get("xlsform") or {})]
            if not members:
                col.problem("survey", marks["row"], "veplab::scale", f"group {path_!r} is marked as scale {sid!r} "
                            "but holds no scorable question (likert, ordinal, binary or numeric)",
                            "mark a group of rated questions, or leave veplab::scale empty")
                continue
            for m in members:
                if m not in scale_members.setdefault(sid, []):
                    scale_members[sid].append(m)
            group_scales[sid] = {"label": marks.get("label") or {}, "domain": marks.get("domain")}
            col.warn("survey", marks["row"], "veplab::scale", f"group {path_!r} is scored as scale {sid!r} "
                     f"({len(members)} questions, mean score)", "set score and min_items in the veplab_scales sheet "
                     "to change how it is scored")
    if repeat is None:
        for rname, n in skipped.items():
            col.warn("survey", parsed["names"].get(rname), "type", f"repeat {rname!r} ({n} fields) is a separate "
                     "table and is not in this codebook", f"make its codebook with repeat={rname!r} (veplab codebook "
                     f"from-xlsform --repeat {rname}) and load the export's {rname!r} sheet with sheet={rname!r}")
    for lst, found in guesses.items():
        if lst.startswith("__types__"):
            kinds = sorted(set(found))
            col.warn("choices", parsed["list_rows"].get(lst[9:]), "list_name",
                     f"choice list {lst[9:]!r} read as {' / '.join(kinds)} from its labels",
                     "set veplab::type on the questions to choose the type yourself")
        else:
            col.warn("choices", parsed["list_rows"].get(lst), "list_name",
                     f"choices of list {lst!r} taken as missing codes from their labels: {', '.join(found)}",
                     "add a veplab_missing column to the choices sheet to say which choices are missing codes")
    # the id column: declared (settings veplab::id_column), else a field whose name says it is a record id,
    # else Kobo's _uuid.  Never a field that names a group of records (a prison, an interviewer...).
    id_column = settings.get("veplab::id_column")
    ids = {i["id"] for i in items}
    guessed = None
    if repeat is not None:
        id_column = "index"
    elif not id_column:
        fields = [i for i in items if i["type"] in ("text", "numeric") and "type" not in (i.get("xlsform") or {})
                  and i.get("role", "item") in ("item", "admin") and _ID_NAME.search(i["id"])
                  and not _GROUP_NAME.search(i["id"])]
        personal = [i for i in fields if _RECORD_NAME.search(i["id"])]
        pick = fields if len(fields) == 1 else personal if len(personal) == 1 else []
        if pick:
            id_column = guessed = pick[0]["id"]
            col.warn("survey", rows_of.get(id_column), "name", f"{id_column!r} taken as the id column (its name "
                     "says it is a record id); every record must have its own",
                     "set veplab::id_column in the settings sheet to choose another (uuid: Kobo's _uuid)")
        else:
            id_column = "uuid"
            several = f" ({', '.join(repr(i['id']) for i in fields)} could each be one)" if fields else ""
            col.warn("settings", None, "veplab::id_column", f"no declared id column{several}; the id column is "
                     "Kobo's _uuid (a random id per submission), read as 'uuid'",
                     "set veplab::id_column in the settings sheet to the form's pseudonymous respondent id")
    if not items and repeat is None:
        items.append({"id": id_column, "label": {parsed["default_lang"]: "Submission id"}, "type": "text",
                      "role": "admin"})
        ids.add(id_column)
        col.warn("survey", None, "type", "the form has no question outside its repeats and loops: the codebook "
                 "holds only the submission id", "convert each repeat with repeat=NAME for its answers")
    if id_column in ids:
        idi = next(i for i in items if i["id"] == id_column)
        if idi.get("role", "item") not in ("admin", "identifier"):
            idi["role"] = "admin"
        if not idi.get("pseudonymised") and repeat is None:
            col.warn("survey", rows_of.get(id_column), "veplab::pseudonymised", f"id column {id_column!r}: set "
                     "veplab::pseudonymised to yes once it holds keyed pseudonyms (veplab pseudonymise)")
    elif repeat is None and settings.get("veplab::id_column") and id_column != "uuid":
        col.problem("settings", 2, "veplab::id_column", f"id column {id_column!r} is not a field of the form",
                    "name one of the form's fields")
    if repeat is not None:
        parent_items: list[dict[str, Any]] = [
            {"id": "parent_index", "label": {"en": "Row of the parent record (Kobo _parent_index)",
                                             "fr": "Ligne de l'enregistrement parent (_parent_index de Kobo)",
                                             "ar": "سطر السجل الأصلي (_parent_index في Kobo)",
                                             "ru": "Строка родительской записи (_parent_index в Kobo)"},
             "type": "numeric", "role": "admin", "integer": True, "min": 1}]
        main = _build(parsed, path, _Collect(), None, codebook_id) if parsed["repeats"] else None
        if main is not None and main["id_column"] not in ("uuid",) and main["id_column"] not in ids:
            parent_id = next((i for i in main["items"] if i["id"] == main["id_column"]), None)
            if parent_id is not None:
                pid = {k: v for k, v in parent_id.items() if k not in ("xlsform",)}
                pid["required"] = False
                pid["xlsform"] = {"from_parent": True}
                parent_items.append(pid)
        items = parent_items + items
    # codebook-level
    form_id = codebook_id or settings.get("form_id") or path.stem
    cb_id = sanitize_id(form_id, prefix="form")
    if repeat is not None:
        cb_id = f"{cb_id}__{sanitize_id(repeat)}"
    default_lang = parsed["default_lang"]
    title: dict[str, str] = {}
    if settings.get("form_title"):
        title[default_lang] = settings["form_title"]
    for key, value in settings.items():
        if key.startswith("veplab::title::"):
            lang = language_of(key.split("::", 2)[2])
            if lang:
                title.setdefault(lang, value)
    title = {lang: title[lang] for lang in LANGUAGES if lang in title} or {default_lang: form_id}
    title, _ = _with_default(title, default_lang)
    if repeat is not None:
        title = {lang: f"{text} - {repeat}" for lang, text in title.items()}
    data: dict[str, Any] = {"id": cb_id}
    if settings.get("version"):
        data["version"] = settings["version"]
    if default_lang != "en":
        data["default_language"] = default_lang
    data["title"] = title
    desc = {}
    for key, value in settings.items():
        if key.startswith("veplab::description::"):
            lang = language_of(key.split("::", 2)[2])
            if lang:
                desc[lang] = value
    if desc:
        data["description"] = {lang: desc[lang] for lang in LANGUAGES if lang in desc}
    data["unit"] = settings.get("veplab::unit") or (repeat if repeat else "respondent")
    data["id_column"] = id_column
    if settings.get("veplab::extra"):
        extra = _yaml_mapping(settings["veplab::extra"])
        if extra is None:
            col.problem("settings", 2, "veplab::extra", "veplab::extra is not a YAML mapping",
                        "write it as {key: value, ...}")
        else:
            for k, v in extra.items():
                data.setdefault(str(k), v)
    other = {k: v for k, v in settings.items() if not k.startswith("veplab::") and k not in
             ("form_title", "form_id", "version", "default_language")}
    xl_top: dict[str, Any] = {}
    if other and repeat is None:
        xl_top["settings"] = other
    if repeat is None and guessed:
        xl_top["id_column_guessed"] = guessed
    if repeat is None and metadata:
        xl_top["metadata"] = metadata
    if parsed["langs"].stand_in:
        xl_top["languages"] = {"en": parsed["langs"].stand_in}
    groups = {p: g for p, g in parsed["group_defs"].items() if any(
        (i.get("xlsform") or {}).get("group", "").startswith(p) for i in items)}
    if groups and repeat is None:
        xl_top["groups"] = groups
    if xl_top:
        data["xlsform"] = xl_top
    _list_auto_names(items)
    data["items"] = items
    scales = _scales_sheet(parsed["sheets"], col, parsed["langs"]) if repeat is None else []
    known = {s["id"] for s in scales}
    for scale in scales:
        row = scale.pop("__row__")
        if not scale["items"]:
            scale["items"] = list(scale_members.get(scale["id"], []))
            if not scale["items"]:
                col.problem("veplab_scales", row, "items", f"scale {scale['id']!r} lists no items and no question "
                            "is marked with it", "list its items, or mark its questions (or their group) with "
                            f"veplab::scale {scale['id']}")
        elif scale_members.get(scale["id"]) and set(scale_members[scale["id"]]) != set(scale["items"]):
            col.warn("veplab_scales", row, "items", f"scale {scale['id']!r}: the items listed in the veplab_scales "
                     "sheet are used, not the questions marked veplab::scale")
        if scale["min_items"] is None:
            scale["min_items"] = len(scale["items"])
        if group_scales.get(scale["id"], {}).get("domain") and not scale.get("domain"):
            scale["domain"] = group_scales[scale["id"]]["domain"]
        if not scale.get("label") and group_scales.get(scale["id"], {}).get("label"):
            scale["label"] = group_scales[scale["id"]]["label"]
    for sid, members in scale_members.items():
        if sid not in known:
            scale = {"id": sid, "items": members, "score": "mean", "min_items": len(members)}
            if group_scales.get(sid, {}).get("label"):
                scale = {"id": sid, "label": group_scales[sid]["label"], **{k: v for k, v in scale.items()
                                                                            if k != "id"}}
            if group_scales.get(sid, {}).get("domain"):
                scale["domain"] = group_scales[sid]["domain"]
            scales.append(scale)
    if scales:
        data["scales"] = scales
    data["__rows__"] = rows_of
    return data


def validate_form(path: str | Path) -> list[FormProblem]:
    """Every problem of a form (empty when it converts), without converting it."""
    col = _Collect()
    path = Path(path)
    parsed = _parse(path, col) if path.is_file() else None
    if not path.is_file():
        col.problem("(workbook)", None, "", "form file not found", "check the path")
    if parsed is not None and not col.problems:
        _pyxform_check(path, col)
    return col.problems


def _pyxform_check(path: Path, col: _Collect) -> None:
    """Let pyxform (the XLSForm reference converter) have its say, when installed."""
    try:
        from pyxform.errors import PyXFormError
        from pyxform.xls2xform import convert
    except ImportError:  # pragma: no cover - pyxform is optional
        return
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            result = convert(xlsform=str(path), warnings=[], validate=False)
    except PyXFormError as exc:
        msg = str(exc)
        m = re.search(r"\[row\s*:\s*(\d+)\]", msg)
        sheet = "choices" if "choices" in msg.lower() else "survey"
        col.problem(sheet, int(m.group(1)) if m else None, "", f"pyxform: {msg}", "correct the form")
        return
    except Exception as exc:  # noqa: BLE001 - pyxform raises assorted errors on odd input
        col.problem("(workbook)", None, "", f"pyxform cannot convert the form: {type(exc).__name__}: {exc}",
                    "correct the form")
        return
    for w in getattr(result, "warnings", None) or []:
        m = re.search(r"\[row\s*:\s*(\d+)\]", w)
        col.warn("survey", int(m.group(1)) if m else None, "", "pyxform: " + " ".join(str(w).split()))


def from_xlsform(path: str | Path, *, repeat: str | None = None, codebook_id: str | None = None,
                 check_with_pyxform: bool = True) -> Conversion:
    """Convert an XLSForm to a veplab codebook (see the module docstring).

    ``repeat`` names a repeat group whose fields form the codebook (for the
    export's repeat sheet); ``codebook_id`` overrides the settings' form_id.
    Raises :class:`XLSFormError` listing every problem of a malformed form;
    what cannot be carried over is returned in ``Conversion.warnings``.
    """
    path = Path(path)
    col = _Collect()
    if not path.is_file():
        raise XLSFormError(str(path), [FormProblem("(workbook)", None, "", "form file not found", "check the path")])
    parsed = _parse(path, col)
    if parsed is None or col.problems:
        raise XLSFormError(str(path), col.problems)
    if repeat is not None and repeat not in parsed["repeats"]:
        known = ", ".join(parsed["repeats"]) or "none"
        raise XLSFormError(str(path), [FormProblem("survey", None, "type", f"the form has no repeat {repeat!r} "
                                                   f"(repeats: {known})", "name one of the form's repeat groups")])
    if check_with_pyxform:
        _pyxform_check(path, col)
        if col.problems:
            raise XLSFormError(str(path), col.problems)
    data = _build(parsed, path, col, repeat, codebook_id)
    rows_of = data.pop("__rows__")
    if col.problems:
        raise XLSFormError(str(path), col.problems)
    try:
        cb = _cb.from_dict(data, file=str(path))
    except _cb.CodebookError as exc:
        problems = []
        for _, where, problem in exc.problems:
            m = re.match(r"item '([^']+)'", where)
            row = rows_of.get(m.group(1)) if m else None
            problems.append(FormProblem("survey" if m else "settings", row, "", f"{where}: {problem}",
                                        "correct the form so that the codebook is valid"))
        raise XLSFormError(str(path), problems) from None
    return Conversion(data=codebook_to_dict(cb), codebook=cb, warnings=tuple(col.warnings),
                      repeats=tuple(parsed["repeats"]))


# --------------------------------------------------------------------------- writing forms


_LABEL_COLS = [f"label::{LANGUAGE_NAMES[lang]}" for lang in LANGUAGES]
_HINT_COLS = [f"hint::{LANGUAGE_NAMES[lang]}" for lang in LANGUAGES]
_CMSG_COLS = [f"constraint_message::{LANGUAGE_NAMES[lang]}" for lang in LANGUAGES]
_SURVEY_COLS = (["type", "name", *_LABEL_COLS, *_HINT_COLS, "required", "relevant", "constraint", *_CMSG_COLS,
                 "appearance", "calculation", "choice_filter", "parameters", "default", "readonly"]
                + [f"veplab::{k}" for k in ("type", "role", "reverse", "missing", "domain", "key", "required",
                                              "pseudonymised", "format", "extra")])


def _lang_cells(prefix: str, labels: Mapping[str, str] | None) -> dict[str, str]:
    labels = labels or {}
    return {f"{prefix}::{LANGUAGE_NAMES[lang]}": labels[lang] for lang in LANGUAGES if labels.get(lang)}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _form_rows(cb: Codebook) -> tuple[list[dict[str, str]], list[dict[str, str]], list[str]]:
    survey: list[dict[str, str]] = []
    choices: list[dict[str, str]] = []
    notes: list[str] = []
    lists_written: dict[str, str] = {}  # list name -> signature
    auto: dict[str, str] = {}
    xl_top = cb.extra.get("xlsform") or {}
    groups = xl_top.get("groups") or {}
    open_groups: list[str] = []
    used_group_names: set[str] = set()
    for meta in xl_top.get("metadata") or []:  # the interviewer's device and account: left out of the codebook
        mtype, _, mname = str(meta).partition(" ")
        survey.append({"type": mtype, "name": mname or mtype})

    def set_groups(path: str) -> None:
        target = path.split("/") if path else []
        common = 0
        while common < len(open_groups) and common < len(target) and open_groups[common] == target[common]:
            common += 1
        while len(open_groups) > common:
            open_groups.pop()
            survey.append({"type": "end_group"})
        for k in range(common, len(target)):
            gpath = "/".join(target[:k + 1])
            gdef = groups.get(gpath) or {}
            name = target[k]
            if name in used_group_names:
                name = f"{name}_{len(used_group_names) + 1}"
            used_group_names.add(name)
            row = {"type": "begin_group", "name": name, **_lang_cells("label", gdef.get("label"))}
            for key in ("relevant", "appearance"):
                if gdef.get(key):
                    row[key] = gdef[key]
            survey.append(row)
            open_groups.append(target[k])

    def write_list(name: str, sig: str, rows: list[dict[str, str]]) -> str:
        base = name
        n = 2
        while name in lists_written and lists_written[name] != sig:
            name = f"{base}_{n}"
            n += 1
        if name not in lists_written:
            lists_written[name] = sig
            for r in rows:
                choices.append({"list_name": name, **r})
        return name

    items = list(cb.items)
    k = 0
    while k < len(items):
        item = items[k]
        xl = dict(item.extra.get("xlsform") or {})
        if xl.get("from_parent"):
            k += 1
            continue
        set_groups(xl.get("group", ""))
        extra = {key: v for key, v in item.extra.items() if key not in ("xlsform", "description")}
        row: dict[str, str] = {"name": xl.get("name", item.id), **_lang_cells("label", item.label),
                               **_lang_cells("hint", item.extra.get("description"))}
        if "select_multiple" in xl:
            q = xl["select_multiple"]
            members = [item]
            while k + len(members) < len(items) and \
                    (items[k + len(members)].extra.get("xlsform") or {}).get("select_multiple") == q:
                members.append(items[k + len(members)])
            list_name = xl.get("list_name", q)
            crow = [{"name": str(m.extra["xlsform"]["choice"]),
                     **_lang_cells("label", m.extra["xlsform"].get("choice_label"))} for m in members]
            list_name = write_list(list_name, _flow(crow), crow)
            row = {"type": f"select_multiple {list_name}", "name": q,
                   **_lang_cells("label", xl.get("question_label")),
                   **_lang_cells("hint", item.extra.get("description"))}
            if xl.get("constraint"):
                row["constraint"] = xl["constraint"]
                row.update(_lang_cells("constraint_message", xl.get("constraint_message")))
            _common_cols(row, item, xl, extra)
            survey.append(row)
            k += len(members)
            continue
        if item.type in _cb.CODED_TYPES:
            names = {int(c): str(n) for c, n in (xl.get("choices") or {}).items()}
            mlabels = {int(c): lab for c, lab in (xl.get("missing_labels") or {}).items()}
            crow = []
            for code in item.codes:
                r = {"name": names.get(code, str(code)), **_lang_cells("label", item.options[code])}
                if code in names:
                    r["veplab_code"] = str(code)
                crow.append(r)
            for code in sorted(item.missing):
                reason = item.missing[code]
                r = {"name": names.get(code, str(code)),
                     **_lang_cells("label", mlabels.get(code) or REASON_LABELS[reason]), "veplab_missing": reason}
                if code in names:
                    r["veplab_code"] = str(code)
                crow.append(r)
            sig = _signature({"options": item.options, "missing": item.missing, "xlsform": xl})
            if "list_name" in xl:
                list_name = xl["list_name"]
            else:
                list_name = auto.setdefault(sig, item.id)
            list_name = write_list(list_name, _flow(crow), crow)
            row["type"] = f"select_one {list_name}"
            row["veplab::type"] = item.type
        elif item.type == "numeric":
            row["type"] = xl.get("type") or ("integer" if item.integer else "decimal")
            if row["type"] == "range":
                row["parameters"] = xl.get("parameters") or ""
            elif "constraint" in xl:
                row["constraint"] = xl["constraint"]
            elif item.min is not None or item.max is not None:
                parts = []
                if item.min is not None:
                    parts.append(f". >= {_fmt(item.min)}")
                if item.max is not None:
                    parts.append(f". <= {_fmt(item.max)}")
                cons = " and ".join(parts)
                if item.missing:
                    cons = f"({cons})" + "".join(f" or . = {c}" for c in sorted(item.missing))
                row["constraint"] = cons
                row.update(_lang_cells("constraint_message", xl.get("constraint_message") or
                                       _range_message(_fmt(item.min) if item.min is not None else None,
                                                      _fmt(item.max) if item.max is not None else None)))
            if item.missing:
                row["veplab::missing"] = " ".join(f"{c}={r}" for c, r in sorted(item.missing.items()))
            row["veplab::type"] = "numeric"
        elif item.type == "date":
            row["type"] = xl.get("type") or ("datetime" if item.date_format == "ISO8601" else "date")
            row["veplab::type"] = "date"
            if item.date_format and not (item.date_format == "ISO8601" and row["type"] in ("datetime", "start",
                                                                                             "end")):
                row["veplab::format"] = item.date_format
            if item.missing:
                row["veplab::missing"] = " ".join(f"{c}={r}" for c, r in sorted(item.missing.items()))
        else:
            row["type"] = xl.get("type") or "text"
            row["veplab::type"] = "text"
            if item.missing:
                row["veplab::missing"] = " ".join(f"{c}={r}" for c, r in sorted(item.missing.items()))
        if "constraint" in xl and "constraint" not in row and item.type != "numeric":
            row["constraint"] = xl["constraint"]
        if "constraint" in xl and xl.get("constraint_message"):
            row.update(_lang_cells("constraint_message", xl["constraint_message"]))
        if row["type"] == "calculate":
            row["calculation"] = xl.get("calculation", "")
        _common_cols(row, item, xl, extra)
        survey.append(row)
        k += 1
    set_groups("")
    return survey, choices, notes


def _common_cols(row: dict[str, str], item: Any, xl: Mapping[str, Any], extra: Mapping[str, Any]) -> None:
    req = xl.get("required")
    if req is True:
        row["required"] = "yes"
    elif isinstance(req, str):
        row["required"] = req
    for key in ("relevant", "appearance", "choice_filter", "default", "readonly"):
        if xl.get(key):
            row[key] = str(xl[key])
    if "parameters" in xl and "parameters" not in row:
        row["parameters"] = str(xl["parameters"])
    if item.role != "item":
        row["veplab::role"] = item.role
    if item.reverse:
        row["veplab::reverse"] = "yes"
    if item.domain:
        row["veplab::domain"] = item.domain
    if item.key is not None:
        row["veplab::key"] = str(item.key)
    if not item.required:
        row["veplab::required"] = "no"
    if item.pseudonymised:
        row["veplab::pseudonymised"] = "yes"
    if item.date_format and "veplab::format" not in row and item.type == "date" and item.date_format != "ISO8601":
        row["veplab::format"] = item.date_format
    if extra:
        row["veplab::extra"] = _flow(dict(extra))


def _append(ws: Any, values: list[Any]) -> None:
    """Append a row; text that starts with '=' stays text (not an Excel formula)."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"


def write_sheets(path: str | Path, sheets: Mapping[str, Sequence[Mapping[str, Any]]]) -> Path:
    """Write an ``.xlsx`` with one sheet per entry of ``sheets``: rows are mappings of column to value,
    columns in first-seen order, empty strings and ``None`` as empty cells.

    The way to write an XLSForm by hand (``survey``, ``choices``, ``settings``, ``veplab_scales``
    sheets) for an example or a test; :func:`to_xlsform` writes one from a codebook.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> p = write_sheets(folder / "f.xlsx", {"survey": [{"type": "integer", "name": "age"}],
    ...                                                      "choices": [], "settings": [{"form_id": "f"}]})
    >>> p.name
    'f.xlsx'
    """
    from openpyxl import Workbook

    path = Path(path)
    wb = Workbook()
    for k, (name, rows) in enumerate(sheets.items()):
        ws = wb.active if k == 0 else wb.create_sheet()
        ws.title = name
        cols: list[str] = []
        for row in rows:
            cols += [c for c in row if c not in cols]
        ws.append(cols)
        for row in rows:
            ws.append([None if row.get(c) in ("", None) else row.get(c) for c in cols])
    wb.properties.creator = "veplab"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def to_xlsform(codebook: Codebook | str | Path, path: str | Path, *, validate: bool = True) -> list[str]:
    """Write a veplab codebook as an XLSForm for KoboToolbox / ODK.

    The form has a ``survey`` sheet (one question per item, labels and hints
    in English, French, Arabic and Russian, ranges as constraints, veplab's
    metadata in ``veplab::`` columns that Kobo and ODK ignore), a ``choices``
    sheet (options and the missing codes as choices marked
    ``veplab_missing``), a ``settings`` sheet and a ``veplab_scales`` sheet.
    Binary items made from a ``select_multiple`` are written back as one
    ``select_multiple``.  With ``validate=True`` the form is converted with
    pyxform (when installed) and its warnings are returned; a pyxform error
    raises :class:`XLSFormError`.  Returns the list of warnings.
    """
    import openpyxl

    cb = codebook if isinstance(codebook, Codebook) else _cb.load(codebook)
    path = Path(path)
    survey, choices, notes = _form_rows(cb)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    used = [c for c in _SURVEY_COLS if c in ("type", "name", *_LABEL_COLS) or any(c in r for r in survey)
            or (c in _HINT_COLS and any(h in r for h in _HINT_COLS for r in survey))
            or (c in _CMSG_COLS and any(h in r for h in _CMSG_COLS for r in survey))]
    _append(ws, used)
    for r in survey:
        _append(ws, [r.get(c, "") or None for c in used])
    wc = wb.create_sheet("choices")
    ccols = ["list_name", "name", *_LABEL_COLS, "veplab_missing"]
    if any("veplab_code" in r for r in choices):
        ccols.append("veplab_code")
    _append(wc, ccols)
    for r in choices:
        _append(wc, [r.get(c, "") or None for c in ccols])
    wst = wb.create_sheet("settings")
    xl_top = cb.extra.get("xlsform") or {}
    stand_in = (xl_top.get("languages") or {}).get("en")
    default = cb.default_language
    settings: dict[str, str] = {"form_title": cb.title.get(default, cb.id), "form_id": cb.id}
    if cb.version is not None:
        settings["version"] = cb.version
    settings["default_language"] = stand_in if stand_in and default == "en" else LANGUAGE_NAMES[default]
    settings["veplab::unit"] = cb.unit
    if xl_top.get("id_column_guessed") != cb.id_column:  # a guessed id column is guessed again
        settings["veplab::id_column"] = cb.id_column
    for lang in LANGUAGES:
        if lang != default and cb.title.get(lang):
            settings[f"veplab::title::{LANGUAGE_NAMES[lang]}"] = cb.title[lang]
    for lang in LANGUAGES:
        if cb.description.get(lang):
            settings[f"veplab::description::{LANGUAGE_NAMES[lang]}"] = cb.description[lang]
    top_extra = {k: v for k, v in cb.extra.items() if k != "xlsform"}
    if top_extra:
        settings["veplab::extra"] = _flow(top_extra)
    for k, v in (xl_top.get("settings") or {}).items():
        settings.setdefault(str(k), str(v))
    _append(wst, list(settings))
    _append(wst, list(settings.values()))
    if cb.scales:
        wsc = wb.create_sheet("veplab_scales")
        scols = ["id", *_LABEL_COLS, "items", "score", "min_items", "domain", "extra"]
        _append(wsc, scols)
        for s in cb.scales:
            cells = {"id": s.id, **_lang_cells("label", s.label), "items": " ".join(s.items), "score": s.score,
                     "min_items": s.min_items, "domain": s.domain or None,
                     "extra": _flow(dict(s.extra)) if s.extra else None}
            _append(wsc, [cells.get(c) for c in scols])
    if stand_in:  # the form's own language, kept under 'en': its columns get their name back
        rename = {f"{base}::{LANGUAGE_NAMES['en']}": f"{base}::{stand_in}"
                  for base in ("label", "hint", "constraint_message")}
        for sheet in wb.worksheets:
            for cell in sheet[1]:
                if cell.value in rename:
                    cell.value = rename[cell.value]
    for sheet in wb.worksheets:
        sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    out = list(notes)
    if validate:
        col = _Collect()
        _pyxform_check(path, col)
        if col.problems:
            raise XLSFormError(str(path), col.problems)
        out += [str(w) for w in col.warnings]
    return out
