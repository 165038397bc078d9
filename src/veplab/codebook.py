"""Instrument codebooks: load and validate ``surveys/*.yml``.

A codebook describes one instrument: what one row is, which column holds the
pseudonymous id, every item (type, options, missing codes, reverse keying,
privacy role, labels in English, French, Arabic and Russian) and the scales
scored from the items.  The format is documented in ``surveys/README.md``;
a minimal example::

    id: push_pull_v1
    title: {en: "Push and pull factors survey", fr: "...", ar: "...", ru: "..."}
    unit: respondent
    id_column: respondent_id
    items:
      - id: pp_grievance_1
        label: {en: "...", fr: "...", ar: "...", ru: "..."}
        type: likert
        options: {1: {en: Strongly disagree}, 5: {en: Strongly agree}}
        missing: {8: dont_know, 9: refused}
    scales:
      - id: grievance
        items: [pp_grievance_1, pp_grievance_2]
        score: mean
        min_items: 2

Labels need text in the codebook's default language: English unless the
codebook says ``default_language: fr`` (or ``ar``, ``ru``), as a codebook
converted from a form written in French only does; pages and briefs in a
language a label lacks show the default language.

Every problem in a codebook is collected and reported at once, each naming
the file, the item (or scale) and what to fix:

>>> from veplab.codebook import load
>>> cb = load("surveys/push_pull.yml")          # doctest: +SKIP
>>> cb.scale("grievance").items                 # doctest: +SKIP
('pp_grievance_1', 'pp_grievance_2', 'pp_grievance_3')
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

if TYPE_CHECKING:
    import numpy as np

#: One answer code or an array of them (:meth:`Item.reversed_code`).
_Code = TypeVar("_Code", float, "np.ndarray")

__all__ = [
    "REASON_LABELS",
    "norm_text",
    "LANGUAGES",
    "ITEM_TYPES",
    "ROLES",
    "Codebook",
    "CodebookError",
    "Item",
    "Scale",
    "load",
    "from_dict",
]

#: Languages labels are offered in.  A codebook's ``default_language`` (English unless
#: it says otherwise) is mandatory for every label; pages and briefs in a language a
#: label lacks show the default language.
LANGUAGES: tuple[str, ...] = ("en", "fr", "ar", "ru")
_LANGUAGE_NAMES = {"en": "English", "fr": "French", "ar": "Arabic", "ru": "Russian"}
ITEM_TYPES: tuple[str, ...] = ("likert", "ordinal", "binary", "categorical", "numeric", "date", "text")
#: ``unit:`` values of instruments whose records are facilities, not people (their counts are not people).
FACILITY_UNITS = frozenset({"prison", "prisons", "facility", "facilities", "site", "sites", "institution",
                            "establishment", "wing", "unit", "centre", "center"})
ROLES: tuple[str, ...] = ("item", "quasi_identifier", "sensitive", "identifier", "admin", "outcome")
#: Item types whose values are integer option codes.
CODED_TYPES: tuple[str, ...] = ("likert", "ordinal", "binary", "categorical")
#: Types whose options have an order (become ordered categoricals).
ORDERED_TYPES: tuple[str, ...] = ("likert", "ordinal", "binary")
MISSING_REASONS: tuple[str, ...] = ("dont_know", "refused", "not_applicable", "not_asked", "missing")
SCORE_METHODS: tuple[str, ...] = ("mean", "sum")
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


#: Wording of the missing reasons in the four languages (used for XLSForm
#: choices and to recognise "don't know" / "refused" labels).
REASON_LABELS: dict[str, dict[str, str]] = {
    "dont_know": {"en": "Don't know", "fr": "Ne sait pas", "ar": "لا أعرف", "ru": "Не знаю"},
    "refused": {"en": "Refused", "fr": "Refus de répondre", "ar": "رفض الإجابة", "ru": "Отказ от ответа"},
    "not_applicable": {"en": "Not applicable", "fr": "Sans objet", "ar": "لا ينطبق", "ru": "Неприменимо"},
    "not_asked": {"en": "Not asked", "fr": "Question non posée", "ar": "لم يُطرح السؤال", "ru": "Вопрос не задавался"},
    "missing": {"en": "Missing", "fr": "Manquant", "ar": "مفقود", "ru": "Нет данных"},
}


def norm_text(value: Any) -> str:
    r"""Text for matching labels: NFC, case-folded, inner whitespace collapsed.

    Two labels match when their normalised texts are equal, so "Don't know",
    " don't  KNOW " and a decomposed Unicode spelling of the same words all
    match: ``norm_text(s) = casefold(collapse_spaces(NFC(s)))``.

    Parameters
    ----------
    value : any
        A label (converted with ``str``).

    Returns
    -------
    str

    References
    ----------
    Unicode Standard Annex #15 (2023), *Unicode Normalization Forms* (NFC).
    The Unicode Standard, Version 15.1 (2023), section 3.13 "Default Case
    Algorithms" (full case folding, as ``str.casefold``).

    Examples
    --------
    >>> norm_text("  Don't   KNOW ")
    "don't know"
    >>> norm_text("Cafe\u0301") == norm_text("CAFÉ")
    True
    >>> norm_text("Straße") == norm_text("STRASSE")
    True
    """
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split()).casefold()


class CodebookError(ValueError):
    """A malformed codebook.  ``problems`` lists ``(file, where, problem)``."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = problems
        lines = [f"codebook has {len(problems)} problem{'s' if len(problems) != 1 else ''}:"]
        for file, where, problem in problems:
            lines.append(f"  {file}: {where}: {problem}")
        super().__init__("\n".join(lines))


@dataclasses.dataclass(frozen=True)
class Item:
    """One question or field of an instrument.

    ``options`` maps integer codes to labels ``{lang: text}``; ``missing`` maps
    special codes (don't know, refused, ...) to a reason.  ``key`` is the
    correct option of a scored knowledge item.  ``min``/``max`` bound numeric
    items.  ``extra`` keeps any further metadata (domain, Kirkpatrick level...).
    """

    id: str
    label: Mapping[str, str]
    type: str
    role: str = "item"
    options: Mapping[int, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    missing: Mapping[int, str] = dataclasses.field(default_factory=dict)
    reverse: bool = False
    required: bool = True
    key: int | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False
    date_format: str | None = None
    pseudonymised: bool = False
    domain: str | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def codes(self) -> tuple[int, ...]:
        """Valid option codes, in order."""
        return tuple(sorted(self.options))

    def text(self, lang: str = "en") -> str:
        """The item label in ``lang``, falling back to the codebook's default language."""
        return _pick(self.label, lang) or self.id

    def option_text(self, code: int, lang: str = "en") -> str:
        """The label of option ``code`` in ``lang``, falling back to the codebook's default language."""
        return _pick(self.options[code], lang) or str(code)

    def reversed_code(self, code: _Code) -> _Code:
        """``min + max - code`` over the option codes (reverse keying)."""
        codes = self.codes
        return codes[0] + codes[-1] - code


@dataclasses.dataclass(frozen=True)
class Scale:
    """A score computed from items: prorated mean or sum."""

    id: str
    items: tuple[str, ...]
    score: str = "mean"
    min_items: int = 1
    label: Mapping[str, str] = dataclasses.field(default_factory=dict)
    domain: str | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        """The scale label in ``lang`` (falls back to the default language, then the id)."""
        return _pick(self.label, lang) or self.id


@dataclasses.dataclass(frozen=True)
class Codebook:
    """A validated instrument codebook."""

    id: str
    title: Mapping[str, str]
    unit: str
    id_column: str
    items: tuple[Item, ...]
    scales: tuple[Scale, ...] = ()
    path: str | None = None
    sha256: str | None = None
    version: str | None = None
    description: Mapping[str, str] = dataclasses.field(default_factory=dict)
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: The language every label has (``default_language:``; English unless the codebook says
    #: otherwise): what pages and briefs show when a label lacks their language.
    default_language: str = "en"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_items", {i.id: i for i in self.items})
        object.__setattr__(self, "_scales", {s.id: s for s in self.scales})

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items  # type: ignore[attr-defined]

    def item(self, item_id: str) -> Item:
        """The item with this id (``KeyError`` naming the codebook otherwise)."""
        try:
            return self._items[item_id]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"codebook {self.id!r} has no item {item_id!r}") from None

    def scale(self, scale_id: str) -> Scale:
        """The scale with this id."""
        try:
            return self._scales[scale_id]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"codebook {self.id!r} has no scale {scale_id!r}") from None

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def by_role(self, *roles: str) -> tuple[Item, ...]:
        """Items whose role is one of ``roles``."""
        return tuple(i for i in self.items if i.role in roles)

    @property
    def counts_people(self) -> bool:
        """Whether a record of this instrument is a person (or a person's answer or rating): false for
        facility-level instruments (``unit:`` prison, facility, site...), whose counts are not people."""
        return str(self.unit or "").strip().lower() not in FACILITY_UNITS

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.by_role("quasi_identifier"))

    @property
    def columns(self) -> tuple[str, ...]:
        """All columns a data file for this instrument holds (id first)."""
        ids = [self.id_column] + [i for i in self.item_ids if i != self.id_column]
        return tuple(ids)

    def text(self, lang: str = "en") -> str:
        """The title in ``lang`` (falling back to the default language)."""
        return _pick(self.title, lang) or self.id


def _pick(labels: Mapping[str, str], lang: str) -> str:
    """``labels[lang]``, else the first label (the default language: :func:`from_dict` puts it
    first), else empty."""
    return labels.get(lang) or next(iter(labels.values()), "")


# --------------------------------------------------------------------------- loading


class _Collector:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[tuple[str, str, str]] = []

    def add(self, where: str, problem: str) -> None:
        self.problems.append((self.file, where, problem))


def _labels(value: Any, where: str, what: str, col: _Collector, *, required: bool = True,
            default: str = "en") -> dict[str, str]:
    """Validate a ``{lang: text}`` mapping (a plain string is in the default language).

    ``required`` labels need text in the codebook's ``default`` language; the result has
    that language first (the fallback of :meth:`Item.text`)."""
    name = _LANGUAGE_NAMES.get(default, default)
    if value is None:
        if required:
            col.add(where, f"{what} is missing; give at least {'an' if default in ('en', 'ar') else 'a'} {name} "
                           f"label ({what}: {{{default}: ...}})")
        return {}
    if isinstance(value, str):
        value = {default: value}
    if not isinstance(value, Mapping):
        col.add(where, f"{what} must be a mapping of language to text, got {type(value).__name__}")
        return {}
    out: dict[str, str] = {}
    for lang, text in value.items():
        lang = str(lang)
        if lang not in LANGUAGES:
            col.add(where, f"{what} has unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
            continue
        if not isinstance(text, str) or not text.strip():
            col.add(where, f"{what} in {lang!r} is empty or not text")
            continue
        out[lang] = text.strip()
    if required and default not in out:
        if default == "en":
            col.add(where, f"{what} has no English ('en') text; English is required")
        else:
            col.add(where, f"{what} has no {name} ({default!r}) text; the codebook's default_language "
                           f"{default!r} is required")
    if default in out:
        out = {default: out[default], **{k: v for k, v in out.items() if k != default}}
    return out


def _int_code(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
        return int(raw.strip())
    return None


_ITEM_KEYS = {
    "id", "label", "type", "role", "options", "missing", "reverse", "required", "key",
    "min", "max", "integer", "format", "pseudonymised", "domain",
}


def _entry_id(raw: Any, index: int, col: _Collector, kind: str, keys: str, rule: str = "") -> tuple[str, str] | None:
    """The id of the ``index``-th ``kind`` entry and where to report its problems, or None when
    ``raw`` is not a mapping with a valid id (the problem is collected)."""
    if not isinstance(raw, Mapping):
        col.add(f"{kind}s[{index}]", f"each {kind} must be a mapping with {keys}")
        return None
    entry_id = raw.get("id")
    where = f"{kind} {entry_id!r}" if entry_id is not None else f"{kind}s[{index}]"
    if not isinstance(entry_id, str) or not _ID_RE.match(entry_id):
        col.add(where, f"{kind} id must be a name of letters, digits and underscores{rule}")
        return None
    return entry_id, where


def _item(raw: Any, index: int, col: _Collector, default: str = "en") -> Item | None:
    named = _entry_id(raw, index, col, "item", "at least id, label and type", ", starting with a letter")
    if named is None:
        return None
    item_id, where = named
    ok = True
    item_type = raw.get("type")
    if item_type not in ITEM_TYPES:
        col.add(where, f"type {item_type!r} is not one of {', '.join(ITEM_TYPES)}")
        ok = False
    role = raw.get("role", "item")
    if role not in ROLES:
        col.add(where, f"role {role!r} is not one of {', '.join(ROLES)}")
        ok = False
    label = _labels(raw.get("label"), where, "label", col, default=default)
    options: dict[int, dict[str, str]] = {}
    raw_options = raw.get("options")
    if item_type in CODED_TYPES:
        if not isinstance(raw_options, Mapping) or not raw_options:
            col.add(where, f"a {item_type} item needs options: {{code: {{en: label}}, ...}}")
            ok = False
        else:
            for code_raw, opt in raw_options.items():
                code = _int_code(code_raw)
                if code is None:
                    col.add(where, f"option code {code_raw!r} is not an integer; option codes must be integers")
                    ok = False
                    continue
                if code in options:
                    col.add(where, f"option code {code} appears twice")
                    ok = False
                    continue
                options[code] = _labels(opt, where, f"option {code} label", col, default=default)
            if item_type == "binary" and options and len(options) != 2:
                col.add(where, f"a binary item needs exactly 2 options, got {len(options)}")
                ok = False
            if item_type == "likert" and options and len(options) < 2:
                col.add(where, "a likert item needs at least 2 options")
                ok = False
    elif raw_options and item_type in ITEM_TYPES:
        col.add(where, f"a {item_type} item cannot have options; use type likert, ordinal, binary or categorical")
        ok = False
    missing: dict[int, str] = {}
    raw_missing = raw.get("missing") or {}
    if not isinstance(raw_missing, Mapping):
        col.add(where, "missing must be a mapping {code: reason}")
        ok = False
    else:
        for code_raw, reason in raw_missing.items():
            code = _int_code(code_raw)
            if code is None:
                col.add(where, f"missing code {code_raw!r} is not an integer")
                ok = False
                continue
            if reason not in MISSING_REASONS:
                col.add(where, f"missing reason {reason!r} for code {code} is not one of {', '.join(MISSING_REASONS)}")
                ok = False
                continue
            if code in options:
                col.add(where, f"code {code} is both an option and a missing code")
                ok = False
                continue
            missing[code] = reason
    reverse = raw.get("reverse", False)
    if not isinstance(reverse, bool):
        col.add(where, f"reverse must be true or false, got {reverse!r}")
        ok = False
    elif reverse and item_type not in ("likert", "ordinal"):
        col.add(where, "only likert and ordinal items can be reverse-keyed")
        ok = False
    key = raw.get("key")
    if key is not None:
        key_code = _int_code(key)
        if key_code is None or key_code not in options:
            col.add(where, f"key {key!r} is not one of the option codes {sorted(options)}")
            ok = False
        key = key_code
    bounds: dict[str, float | None] = {}
    for bound in ("min", "max"):
        value = raw.get(bound)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            col.add(where, f"{bound} must be a number, got {value!r}")
            ok = False
            value = None
        if value is not None and item_type != "numeric":
            col.add(where, f"{bound} only applies to numeric items")
            ok = False
        bounds[bound] = value
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
        col.add(where, f"min {bounds['min']} is greater than max {bounds['max']}")
        ok = False
    for flag in ("required", "integer", "pseudonymised"):
        value = raw.get(flag)
        if value is not None and not isinstance(value, bool):
            col.add(where, f"{flag} must be true or false, got {value!r}")
            ok = False
    domain = raw.get("domain")
    if domain is not None and not isinstance(domain, str):
        col.add(where, f"domain must be a name, got {domain!r}")
        ok = False
    date_format = raw.get("format")
    if date_format is not None and item_type != "date":
        col.add(where, "format only applies to date items")
        ok = False
    elif date_format is not None and (not isinstance(date_format, str)
                                      or ("%" not in date_format and date_format != "ISO8601")):
        col.add(where, f"format must be a strftime pattern such as '%d/%m/%Y' (day/month/year) or '%m/%d/%Y', "
                       f"or ISO8601 (date-times as Kobo/ODK write them); got {date_format!r}")
        ok = False
    unknown = sorted(set(raw) - _ITEM_KEYS - {"extra"})
    raw_extra = raw.get("extra") or {}
    if not isinstance(raw_extra, Mapping):
        col.add(where, f"extra must be a mapping of further metadata, got {type(raw_extra).__name__}")
        ok = False
        raw_extra = {}
    extra = dict(raw_extra)
    for k in unknown:
        extra[k] = raw[k]
    if not ok or not isinstance(item_type, str):  # a type outside ITEM_TYPES already set ok = False
        return None
    return Item(
        id=item_id,
        label=label,
        type=item_type,
        role=role,
        options=options,
        missing=missing,
        reverse=bool(reverse),
        required=bool(raw.get("required", True)),
        key=key,
        min=bounds["min"],
        max=bounds["max"],
        integer=bool(raw.get("integer", False)),
        date_format=date_format,
        pseudonymised=bool(raw.get("pseudonymised", False)),
        domain=raw.get("domain"),
        extra=extra,
    )


def _scale(raw: Any, index: int, items: dict[str, Item], col: _Collector,
           invalid: frozenset[str] = frozenset(), default: str = "en") -> Scale | None:
    named = _entry_id(raw, index, col, "scale", "id and items")
    if named is None:
        return None
    scale_id, where = named
    ok = True
    members = raw.get("items")
    if not isinstance(members, list) or not members:
        col.add(where, "items must be a non-empty list of item ids")
        return None
    seen: set[str] = set()
    for member in members:
        if not isinstance(member, str):
            col.add(where, f"items must be item ids, got {member!r}")
            ok = False
            continue
        if member in invalid:
            ok = False
            continue
        if member in seen:
            col.add(where, f"item {member!r} is listed twice")
            ok = False
        seen.add(member)
        if member not in items:
            col.add(where, f"names unknown item {member!r}")
            ok = False
            continue
        it = items[member]
        if it.type not in ("likert", "ordinal", "binary", "numeric") and it.key is None:
            col.add(where, f"item {member!r} is {it.type}; only likert, ordinal, binary, numeric or keyed items can be scored")
            ok = False
    score = raw.get("score", "mean")
    if score not in SCORE_METHODS:
        col.add(where, f"score {score!r} is not one of {', '.join(SCORE_METHODS)}")
        ok = False
    min_items = raw.get("min_items", len(members))
    if isinstance(min_items, bool) or not isinstance(min_items, int) or not 1 <= min_items <= len(members):
        col.add(where, f"min_items must be an integer between 1 and {len(members)}, got {min_items!r}")
        ok = False
    label = _labels(raw.get("label"), where, "label", col, required=False, default=default)
    extra = {k: v for k, v in raw.items() if k not in {"id", "items", "score", "min_items", "label", "domain"}}
    if not ok:
        return None
    return Scale(
        id=scale_id,
        items=tuple(members),
        score=score,
        min_items=min_items,
        label=label,
        domain=raw.get("domain"),
        extra=extra,
    )


def from_dict(raw: Any, *, file: str = "<codebook>", sha256: str | None = None) -> Codebook:
    """Validate a codebook given as a parsed mapping (see :func:`load`).

    The mapping is what ``surveys/*.yml`` holds (see the module docstring):
    ``id``, ``title``, ``id_column``, ``items`` (each with ``id``, ``label``,
    ``type`` and, for coded types, ``options``; optionally ``missing``,
    ``reverse``, ``role``, ``key``, ``min``/``max``...) and ``scales``.
    Labels are a text (the default language) or ``{lang: text}``.

    Parameters
    ----------
    raw : mapping
        The parsed codebook.
    file : str
        What messages call it.
    sha256 : str, optional
        The hash of the file it came from (kept in ``Codebook.sha256``).

    Returns
    -------
    Codebook

    Raises
    ------
    CodebookError
        Listing every problem at once, each as ``(file, where, problem)``.

    References
    ----------
    docs/DESIGN.md, "Codebook (instrument) format"; ``surveys/README.md``
    (the format in full).

    Examples
    --------
    >>> cb = from_dict({"id": "wellbeing", "title": {"en": "Wellbeing", "fr": "Bien-être"},
    ...                 "id_column": "rid", "items": [
    ...     {"id": "q1", "label": "I feel safe", "type": "likert",
    ...      "options": {1: "No", 2: "Sometimes", 3: "Yes"}, "missing": {8: "dont_know"}},
    ...     {"id": "q2", "label": "I feel alone", "type": "likert",
    ...      "options": {1: "No", 2: "Sometimes", 3: "Yes"}, "reverse": True}],
    ...     "scales": [{"id": "safety", "items": ["q1", "q2"], "min_items": 2}]})
    >>> cb.columns, cb.scale("safety").items, cb.text("fr")
    (('rid', 'q1', 'q2'), ('q1', 'q2'), 'Bien-être')

    Every problem is reported at once:

    >>> try:
    ...     from_dict({"id": "w", "title": "W", "id_column": "rid", "items": [
    ...         {"id": "q1", "label": "Safe", "type": "likert", "options": {1: "No", 2: "Yes"},
    ...          "missing": {2: "refused"}},
    ...         {"id": "q2", "label": "Safe", "type": "scale"}]})
    ... except CodebookError as error:
    ...     print(error)
    codebook has 2 problems:
      <codebook>: item 'q1': code 2 is both an option and a missing code
      <codebook>: item 'q2': type 'scale' is not one of likert, ordinal, binary, categorical, numeric, date, text
    """
    col = _Collector(file)
    if not isinstance(raw, Mapping):
        col.add("top level", "a codebook must be a YAML mapping with id, title, id_column and items")
        raise CodebookError(col.problems)
    cb_id = raw.get("id")
    if not isinstance(cb_id, str) or not _ID_RE.match(cb_id):
        col.add("id", "codebook id must be a name of letters, digits and underscores")
    default = raw.get("default_language", "en")
    if default not in LANGUAGES:
        col.add("default_language", f"default_language {default!r} is not one of {', '.join(LANGUAGES)} (the "
                                    "language every label has)")
        default = "en"
    title = _labels(raw.get("title"), "title", "title", col, default=default)
    unit = raw.get("unit", "respondent")
    id_column = raw.get("id_column")
    if not isinstance(id_column, str) or not id_column:
        col.add("id_column", "id_column must name the column holding the pseudonymous id")
    raw_items = raw.get("items")
    items: dict[str, Item] = {}
    if not isinstance(raw_items, list) or not raw_items:
        col.add("items", "items must be a non-empty list")
        raw_items = []
    invalid: set[str] = set()
    for index, raw_item in enumerate(raw_items):
        item = _item(raw_item, index, col, default)
        if item is None:
            if isinstance(raw_item, Mapping) and isinstance(raw_item.get("id"), str):
                invalid.add(raw_item["id"])
            continue
        if item.id in items:
            col.add(f"item {item.id!r}", "duplicate item id; each item id must be unique")
            continue
        items[item.id] = item
    if isinstance(id_column, str) and id_column in items and items[id_column].role not in ("admin", "identifier"):
        col.add(f"item {id_column!r}", "the id column may only be described with role admin or identifier")
    scales: dict[str, Scale] = {}
    raw_scales = raw.get("scales") or []
    if not isinstance(raw_scales, list):
        col.add("scales", f"must be a list of scales (- id: ..., items: [...]), got {type(raw_scales).__name__}")
        raw_scales = []
    for index, raw_scale in enumerate(raw_scales):
        scale = _scale(raw_scale, index, items, col, frozenset(invalid - set(items)), default)
        if scale is None:
            continue
        if scale.id in scales:
            col.add(f"scale {scale.id!r}", "duplicate scale id")
            continue
        if scale.id in items:
            col.add(f"scale {scale.id!r}", "a scale cannot share its id with an item (scores become columns)")
            continue
        scales[scale.id] = scale
    known = {"id", "title", "unit", "id_column", "items", "scales", "version", "description", "default_language"}
    extra = {k: v for k, v in raw.items() if k not in known}
    description = _labels(raw.get("description"), "description", "description", col, required=False,
                          default=default)
    if col.problems or not isinstance(cb_id, str) or not isinstance(id_column, str):  # both checked above
        raise CodebookError(col.problems)
    return Codebook(
        id=cb_id,
        title=title,
        unit=str(unit),
        id_column=id_column,
        items=tuple(items.values()),
        scales=tuple(scales.values()),
        path=file,
        sha256=sha256,
        version=str(raw["version"]) if raw.get("version") is not None else None,
        description=description,
        extra=extra,
        default_language=default,
    )


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # C loader when built
    """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:
                    continue
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"duplicate key {key!r}; each key may appear only once", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load(path: str | Path) -> Codebook:
    r"""Load and validate an instrument codebook (YAML).

    The file must be UTF-8 YAML (a byte-order mark is allowed); a key given
    twice in one mapping is an error (YAML parsers otherwise keep the last one
    silently).  The file's SHA-256 is kept in ``Codebook.sha256`` so that the
    build's manifest can name the exact codebook a report used.

    Parameters
    ----------
    path : str or Path
        The ``.yml`` file.

    Returns
    -------
    Codebook

    Raises
    ------
    CodebookError
        Listing every problem, each naming the file, the item or scale (or
        the line and column of a YAML syntax error) and what to fix.

    References
    ----------
    YAML Ain't Markup Language, version 1.2.2 (2021), https://yaml.org/spec/1.2.2/
    (mapping keys "must be unique").
    NIST (2015), FIPS 180-4, *Secure Hash Standard* (SHA-256).
    docs/DESIGN.md, "Codebook (instrument) format".

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "wellbeing.yml"
    >>> _ = path.write_text("id: wellbeing\ntitle: Wellbeing\nid_column: rid\nitems:\n"
    ...                     "  - id: q1\n    label: I feel safe\n    type: binary\n"
    ...                     "    options: {0: 'No', 1: 'Yes'}\n", encoding="utf-8")
    >>> cb = load(path)
    >>> cb.id, cb.item_ids, cb.item("q1").codes
    ('wellbeing', ('q1',), (0, 1))
    >>> _ = path.write_text("id: wellbeing\nid: other\n", encoding="utf-8")
    >>> try:
    ...     load(path)
    ... except CodebookError as error:
    ...     print(error)
    codebook has 1 problem:
      .../wellbeing.yml: line 2, column 1: YAML syntax error: duplicate key 'id'; each key may appear only once
    >>> folder.cleanup()
    """
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise CodebookError([(file, "file", "codebook file not found")])
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodebookError([(file, "file", f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8")]) from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        problem = getattr(exc, "problem", None) or str(exc)
        raise CodebookError([(file, where, f"YAML syntax error: {problem}")]) from None
    return from_dict(raw, file=file, sha256=hashlib.sha256(data).hexdigest())
