"""Building a veplab codebook from a parsed XLSForm (:func:`from_xlsform`, :func:`validate_form`)."""

from __future__ import annotations

import re
import warnings as _warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ... import codebook as _cb
from ...codebook import LANGUAGES
from .. import _xpath
from .._common import (
    REASON_CODES,
    REASON_LABELS,
    codebook_to_dict,
    guess_reason,
    language_of,
    option_shape,
    sanitize_id,
)
from ._vocab import (
    Conversion,
    FormProblem,
    XLSFormError,
    YES_NO_LABELS,
    _IDENTIFIER_TYPES,
    _LIST_TYPES,
    _MEDIA_TYPES,
    _RANGE_MESSAGE,
    _STAFF_METADATA,
)
from ._sheets import _Row, _Sheet
from ._parse import (
    _Choice,
    _Collect,
    _Element,
    _Langs,
    _flow,
    _int_name,
    _number,
    _parse,
    _parse_missing,
    _texts,
    _with_default,
    _yaml_mapping,
    _yes,
)


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
    known_codes = [x for x in explicit if x is not None]
    known_ints = [x for x in int_names if x is not None]
    if explicit and len(known_codes) == len(explicit):
        codes = known_codes
        shape_codes = codes
    elif int_names and len(known_ints) == len(int_names):
        codes = known_ints
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


def _merge_extra(target: dict[str, Any], text: str, col: _Collect, sheet: str, row: int | None, column: str) -> None:
    """Add the keys of the YAML mapping ``text`` (a cell's extra keys) that ``target`` lacks, or report it."""
    extra = _yaml_mapping(text)
    if extra is None:
        col.problem(sheet, row, column, f"{column} is not a YAML mapping", "write it as {key: value, ...}")
        return
    for k, v in extra.items():
        target.setdefault(str(k), v)


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
    for flag_name in ("reverse", "pseudonymised"):
        value = _bool_col(row, f"veplab::{flag_name}", col)
        if value:
            item[flag_name] = True
    req_v = _bool_col(row, "veplab::required", col)
    if req_v is False:
        item["required"] = False
    elif req_v is True:
        item.pop("required", None)
    for key in ("domain", "format"):
        if row.get(f"veplab::{key}"):
            item[key] = row.get(f"veplab::{key}")
    if row.get("veplab::key"):
        key_code = _int_name(row.get("veplab::key"))
        if key_code is None:
            col.problem("survey", row.number, "veplab::key", "veplab::key must be an option code (whole number)",
                        "give the code of the correct option")
        else:
            item["key"] = key_code
    if row.get("veplab::extra"):
        _merge_extra(item, row.get("veplab::extra"), col, "survey", row.number, "veplab::extra")
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
            _merge_extra(scale, row.get("extra"), col, "veplab_scales", row.number, "extra")
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
        _merge_extra(data, settings["veplab::extra"], col, "settings", 2, "veplab::extra")
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
    """Every problem of a form (empty when it converts), without converting it.

    The same checks as :func:`from_xlsform` (sheets, types, choice lists,
    names, labels, groups and repeats), then, when the form has none of those
    problems, pyxform's own conversion (when installed).  ``veplab validate``
    uses it to list a form's problems before the form is fielded.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` (or ``.xls``) form.

    Returns
    -------
    list of FormProblem
        Each with ``sheet``, ``row``, ``column``, ``problem`` and ``fix``.

    References
    ----------
    XLSForm specification, https://xlsform.org (the ``survey``, ``choices``
    and ``settings`` sheets).
    pyxform, the XLSForm reference converter of ODK,
    https://github.com/XLSForm/pyxform.

    Examples
    --------
    >>> import tempfile
    >>> from veplab.ingest.xlsform import write_sheets
    >>> folder = tempfile.TemporaryDirectory()
    >>> form = write_sheets(Path(folder.name) / "form.xlsx", {
    ...     "survey": [{"type": "select_one colours", "name": "q1", "label": "Favourite colour"}],
    ...     "choices": [], "settings": [{"form_id": "f"}]})
    >>> for problem in validate_form(form):
    ...     print(problem)
    survey row 2 column 'type': choice list 'colours' does not exist in the choices sheet (fix: add its choices to the choices sheet, or correct the list name)
    >>> folder.cleanup()
    """
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

    Parameters
    ----------
    path : str or Path
        The form (``.xlsx`` or ``.xls``).
    repeat : str, optional
        A ``begin_repeat`` group's name.
    codebook_id : str, optional
        The codebook's id (default: the settings' ``form_id``).
    check_with_pyxform : bool
        Also convert the form with pyxform (when installed) and report its
        errors and warnings (about half a second).

    Returns
    -------
    Conversion
        ``codebook`` (a validated :class:`~veplab.codebook.Codebook`),
        ``data`` (its mapping), ``warnings`` (what was guessed or left
        behind), ``repeats`` and ``yaml()`` / ``write()``.

    Raises
    ------
    XLSFormError
        Listing every problem (sheet, row, column, what to do).

    References
    ----------
    XLSForm specification, https://xlsform.org.
    ODK XForms specification, https://getodk.github.io/xforms-spec/
    (constraints, ``relevant``, repeats).
    pyxform (``question_type_dictionary``, the type names and aliases read),
    https://github.com/XLSForm/pyxform.

    Examples
    --------
    >>> import tempfile
    >>> from veplab.ingest.xlsform import write_sheets
    >>> folder = tempfile.TemporaryDirectory()
    >>> form = write_sheets(Path(folder.name) / "form.xlsx", {
    ...     "survey": [
    ...         {"type": "text", "name": "rid", "label::English (en)": "Respondent id"},
    ...         {"type": "select_one safe", "name": "q1", "label::English (en)": "I feel safe",
    ...          "label::French (fr)": "Je me sens en sécurité"},
    ...         {"type": "integer", "name": "age", "label::English (en)": "Age",
    ...          "constraint": ". >= 18 and . <= 90"}],
    ...     "choices": [
    ...         {"list_name": "safe", "name": 1, "label::English (en)": "No", "label::French (fr)": "Non"},
    ...         {"list_name": "safe", "name": 2, "label::English (en)": "Yes", "label::French (fr)": "Oui"}],
    ...     "settings": [{"form_id": "wellbeing", "form_title": "Wellbeing", "veplab::id_column": "rid"}]})
    >>> cb = from_xlsform(form, check_with_pyxform=False).codebook
    >>> cb.id, cb.id_column
    ('wellbeing', 'rid')
    >>> [(i.id, i.type, i.min, i.max) for i in cb.items]
    [('rid', 'text', None, None), ('q1', 'binary', None, None), ('age', 'numeric', 18, 90)]
    >>> cb.item("q1").option_text(2, "fr")
    'Oui'
    >>> folder.cleanup()
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
