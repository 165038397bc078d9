"""Writing a veplab codebook as an XLSForm (:func:`to_xlsform`) and writing sheets by hand (:func:`write_sheets`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ... import codebook as _cb
from ...codebook import LANGUAGES, Codebook
from .._common import LANGUAGE_NAMES, REASON_LABELS
from ._vocab import XLSFormError
from ._parse import _Collect, _flow
from ._build import _pyxform_check, _range_message, _signature


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
            list_name = xl["list_name"] if "list_name" in xl else q
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

    Parameters
    ----------
    path : str or Path
        The workbook to write (its folder must exist).
    sheets : mapping
        Sheet name -> list of rows (``{column: value}``); an empty list
        writes a sheet with no header.

    Returns
    -------
    Path
        ``path``.

    References
    ----------
    ECMA-376 (2021), *Office Open XML File Formats* (written with openpyxl).
    XLSForm specification, https://xlsform.org (sheet and column names).

    Examples
    --------
    >>> import tempfile
    >>> from veplab.data import read_raw
    >>> folder = Path(tempfile.mkdtemp())
    >>> p = write_sheets(folder / "f.xlsx", {"survey": [{"type": "integer", "name": "age"},
    ...                                                 {"type": "text", "name": "town", "label": "Town"}],
    ...                                      "choices": [], "settings": [{"form_id": "f"}]})
    >>> p.name
    'f.xlsx'
    >>> read_raw(p, sheet="survey").frame
          type  name label
    0  integer   age   NaN
    1     text  town  Town
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

    :func:`~veplab.ingest.xlsform.from_xlsform` reads the form back into the
    same codebook.

    Parameters
    ----------
    codebook : Codebook, str or Path
        The codebook, or its YAML file.
    path : str or Path
        The ``.xlsx`` to write.
    validate : bool
        Check the written form with pyxform (about half a second).

    Returns
    -------
    list of str
        pyxform's warnings (empty without ``validate``).

    Raises
    ------
    XLSFormError
        When pyxform refuses the form written.

    References
    ----------
    XLSForm specification, https://xlsform.org (``survey``, ``choices``,
    ``settings``; ``label::Language (code)`` columns; constraints).
    pyxform, https://github.com/XLSForm/pyxform.

    Examples
    --------
    >>> import tempfile
    >>> from veplab.codebook import from_dict
    >>> from veplab.ingest.xlsform import from_xlsform
    >>> cb = from_dict({"id": "wellbeing", "title": "Wellbeing", "id_column": "rid", "items": [
    ...     {"id": "rid", "label": "Respondent id", "type": "text", "role": "admin"},
    ...     {"id": "q1", "label": {"en": "I feel safe", "fr": "Je me sens en sécurité"},
    ...      "type": "likert", "options": {1: "No", 2: "Sometimes", 3: "Yes"},
    ...      "missing": {8: "dont_know"}}]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     form = Path(folder) / "wellbeing.xlsx"
    ...     to_xlsform(cb, form, validate=False)
    ...     back = from_xlsform(form, check_with_pyxform=False).codebook
    []
    >>> back.item("q1").label == cb.item("q1").label, back.item("q1").missing
    (True, {8: 'dont_know'})
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
