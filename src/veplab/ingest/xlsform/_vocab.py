"""XLSForm vocabulary: question types and their aliases, the columns veplab reads, and the
problem, error and conversion objects :func:`~veplab.ingest.xlsform.from_xlsform` returns."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...codebook import Codebook
from .._common import YamlDraft, dump_yaml


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
class Conversion(YamlDraft):
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
