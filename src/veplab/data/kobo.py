"""KoboToolbox / ODK exports: normalise them to plain tables before the
codebook is applied.

:func:`veplab.data.load` calls :func:`normalise` when a file is a Kobo/ODK
export (detected, or ``source="kobo"``), so that exports load with the same
validation as any other file.  What it does:

* **group prefixes**: ``group/field`` headers (Kobo; ODK Central writes
  ``group-field``) become ``field`` when ``field`` is a codebook column (or the
  original XLSForm name of one, kept under ``xlsform.name``);
* **metadata**: ``_id``, ``_uuid``, ``_submission_time``, ``_index``,
  ``_validation_status``, ``_status``, ``_notes``, ``_tags``, ``__version__``,
  ``meta/instanceID``, ``formhub/uuid``, ODK Central's ``KEY``,
  ``SubmissionDate``..., and the form metadata ``start``, ``end``, ``today``,
  ``audit`` when the codebook does not describe them (a codebook converted from
  the form does: they load as admin dates), are dropped, or kept with
  ``unknown="keep"``.  What identifies the interviewer's device or account
  (``deviceid``, ``subscriberid``, ``simserial``, ``username``,
  ``phonenumber``, ``email``, ``_submitted_by``) is dropped too when the
  codebook does not describe it (``unknown="keep"`` keeps it, and the
  identifier gate then checks it); a codebook converted from a form leaves the
  device and account out and gives phone numbers and e-mail addresses role
  identifier, which the load refuses.
  Attachment links (``photo_URL`` for a media question ``photo``) are dropped.
  A metadata column ``_name`` is read as the codebook column ``name`` when the
  codebook has one (``_uuid`` -> ``uuid`` for a form without an id field, or
  ``meta/instanceID`` without its ``uuid:`` prefix when the export has no
  ``_uuid``; ``_index`` / ``_parent_index`` -> ``index`` / ``parent_index`` in
  a repeat sheet);
* **select_multiple**: one space-separated column (``food health``) or split
  0/1 columns (``field/choice``) become the codebook's binary items
  ``field__choice``; a blank answer stays blank in every choice column;
* **labels instead of codes**: exports made with "Labels" (headers and cells
  in a form language) are mapped back to item ids and option codes using the
  codebook's labels in English, French, Arabic and Russian, the XLSForm choice
  names (``xlsform.choices``) and the missing-code wording; values that match
  nothing are reported (column, rows, the unmatched labels) and left blank;
* **repeat sheets** of an XLSX export load with ``sheet="<repeat name>"`` and
  the repeat's codebook (:func:`veplab.ingest.xlsform.from_xlsform` with
  ``repeat=``): ``_parent_index`` links each row to its parent record, and the
  parent's id column is filled in from the parent sheet when the codebook has
  it (``xlsform.from_parent``);
* **date-times** with a UTC offset (``2024-03-01T10:22:33.000+03:00``, as Kobo
  writes ``start``/``end``) are read as the local time of the interview.

Delimiters (Kobo offers ";" and ","), encodings and Arabic-Indic digits are
handled by the CSV reader and the loader as for any export.

>>> from veplab.data import load
>>> df = load("export.csv", "surveys/wellbeing.yml")  # doctest: +SKIP
>>> kids = load("export.xlsx", "surveys/wellbeing__children.yml",
...             sheet="children")  # doctest: +SKIP

(The export format is detected; no option says it is Kobo's.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..codebook import LANGUAGES, REASON_LABELS, Codebook, Item, norm_text
from .problems import Problems
from .readers import RawTable

__all__ = ["detect", "is_metadata", "normalise"]

_ODK_META = {"__version__", "KEY", "PARENT_KEY", "SubmissionDate", "SubmitterID", "SubmitterName",
             "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits",
             "FormVersion", "instanceID"}
#: Form metadata (XLSForm types start, end, today, audit...) a Kobo export holds under its own name.
_FORM_META = {"start", "end", "today", "audit", "audit_URL"}
#: Metadata identifying the interviewer's device or account (dropped like the rest of the metadata).
_STAFF_META = {"deviceid", "subscriberid", "simserial", "username", "phonenumber", "email", "_submitted_by",
               "SubmitterID", "SubmitterName", "DeviceID"}
_MEDIA = {"image", "audio", "video", "file", "osm", "background-audio", "audit"}
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_TRUE = {"1", "true", "yes", "oui", "да", "نعم", "vrai", "x"}
_FALSE = {"0", "false", "no", "non", "нет", "لا", "faux"}
_BLANK = {"", "na", "n/a", "nan", "null", "none", "."}
_ISO_TZ = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$")


def is_metadata(header: str) -> bool:
    """Whether an export column is Kobo / ODK submission metadata (not a form field).

    Metadata are names starting with ``_`` (``_uuid``, ``_submission_time``,
    ``_index``...), ODK Central's columns (``KEY``, ``SubmissionDate``...),
    the form metadata ``start``, ``end``, ``today``, ``audit``, the
    interviewer's device and account (``deviceid``, ``username``...), and
    anything under ``meta/`` or ``formhub/``.

    Parameters
    ----------
    header : str
        A column name of the export.

    Returns
    -------
    bool

    References
    ----------
    KoboToolbox documentation, "Exporting and downloading your data",
    https://support.kobotoolbox.org/export_download.html.
    ODK XForms specification, "Metadata" (``instanceID``, ``deviceID``...),
    https://getodk.github.io/xforms-spec/.
    XLSForm specification, "Metadata" (``start``, ``end``, ``today``,
    ``deviceid``...), https://xlsform.org.

    Examples
    --------
    >>> [is_metadata(c) for c in ["_uuid", "meta/instanceID", "start", "grp/q1", "q1"]]
    [True, True, True, False, False]
    """
    return (header.startswith("_") or header in _ODK_META or header in _FORM_META or header in _STAFF_META
            or header.startswith(("meta/", "meta-", "meta.", "formhub/")) or header.endswith(("/__version__",)))


def _text(v: Any) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


class _Index:
    """What the codebook says about the columns and values of an export."""

    def __init__(self, cb: Codebook):
        self.cb = cb
        self.columns = set(cb.columns)
        self.by_name: dict[str, str] = {}
        self.multi: dict[str, dict[str, str]] = {}          # question -> choice name -> item id
        self.multi_labels: dict[str, dict[str, str]] = {}   # question -> norm choice label -> choice name
        self.header_labels: dict[str, str | None] = {}      # norm label -> item id or "multi:q"
        for item in cb.items:
            xl = item.extra.get("xlsform") or {}
            if xl.get("name"):
                self.by_name[str(xl["name"])] = item.id
            q = xl.get("select_multiple")
            if q:
                c = str(xl.get("choice"))
                self.multi.setdefault(str(q), {})[c] = item.id
                for lab in (xl.get("choice_label") or {}).values():
                    self.multi_labels.setdefault(str(q), {})[norm_text(lab)] = c
                for lab in (xl.get("question_label") or {}).values():
                    self._label(lab, f"multi:{q}")
                continue
            for lab in item.label.values():
                self._label(lab, item.id)
        # naming convention without XLSForm metadata: FIELD__CHOICE binary items
        for item in cb.items:
            if "__" in item.id and item.type == "binary" and not (item.extra.get("xlsform") or {}).get("select_multiple"):
                q, c = item.id.split("__", 1)
                if q not in self.columns:
                    self.multi.setdefault(q, {})[c] = item.id

    def _label(self, label: str, target: str) -> None:
        key = norm_text(label)
        if key in self.header_labels and self.header_labels[key] != target:
            self.header_labels[key] = None  # ambiguous
        else:
            self.header_labels[key] = target

    def _by_name(self, name: str) -> tuple[str, ...] | None:
        """('item', id) when ``name`` is an item's column or form name, ('multi', q) a multiple choice's."""
        if name in self.columns:
            return ("item", name)
        if name in self.by_name:
            return ("item", self.by_name[name])
        if name in self.multi:
            return ("multi", name)
        return None

    def resolve(self, header: str) -> tuple[str, ...] | None:
        """('item', id) | ('multi', q) | ('split', q, choice) | None."""
        named = self._by_name(header)
        if named is not None:
            return named
        for sep in ("/", "-", "."):
            if sep not in header:
                continue
            segs = header.split(sep)
            if len(segs) >= 2 and segs[-2] in self.multi and segs[-1] in self.multi[segs[-2]]:
                return ("split", segs[-2], segs[-1])
            named = self._by_name(segs[-1])
            if named is not None:
                return named
        segs = re.split(r"[/\-.]", header)
        if len(segs) >= 2:
            if segs[-2] in self.multi and segs[-1] in self.multi[segs[-2]]:
                return ("split", segs[-2], segs[-1])
            if segs[-1] in self.columns:
                return ("item", segs[-1])
        # headers written as labels (any language), possibly with group labels in front
        segs = header.split("/")
        for k in range(len(segs)):
            tail = "/".join(segs[k:])
            target = self.header_labels.get(norm_text(tail))
            if target:
                return ("multi", target[6:]) if target.startswith("multi:") else ("item", target)
            for j in range(k + 1, len(segs)):
                q_part, c_part = "/".join(segs[k:j]), "/".join(segs[j:])
                qt = self.header_labels.get(norm_text(q_part))
                if qt and qt.startswith("multi:"):
                    q = qt[6:]
                    c = self.multi_labels.get(q, {}).get(norm_text(c_part))
                    if c is None and c_part in self.multi.get(q, {}):
                        c = c_part
                    if c is not None:
                        return ("split", q, c)
        return None


def detect(frame_columns: list[str], codebook: Codebook) -> str | None:
    """Why a table looks like a Kobo / ODK export (None when it does not).

    Kobo metadata (``_uuid``, ``_submission_time``), a Kobo repeat sheet
    (``_index`` with ``_parent_index``), ODK Central metadata (``KEY`` with
    ``SubmissionDate``), or group-prefixed headers (``grp/q1``) and
    select-multiple columns that match the codebook once their prefix is
    removed.

    Parameters
    ----------
    frame_columns : list of str
        The export's header.
    codebook : Codebook
        The instrument the export should hold.

    Returns
    -------
    str or None
        A sentence saying what gave it away, for the load's messages.

    References
    ----------
    KoboToolbox documentation, "Exporting and downloading your data",
    https://support.kobotoolbox.org/export_download.html.
    ODK Central documentation, "Submissions" (CSV exports with ``KEY`` and
    ``SubmissionDate``), https://docs.getodk.org/central-submissions/.

    Examples
    --------
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "Survey", "id_column": "rid", "items": [
    ...     {"id": "q1", "label": "I feel safe", "type": "binary", "options": {0: "No", 1: "Yes"}}]})
    >>> detect(["rid", "grp/q1", "_uuid", "_submission_time"], cb)
    'Kobo metadata columns (_uuid, _submission_time)'
    >>> detect(["rid", "grp/q1"], cb)
    '1 group-prefixed, select-multiple or label headers match the codebook'
    >>> detect(["rid", "q1"], cb) is None
    True
    """
    cols = [str(c) for c in frame_columns]
    if "_uuid" in cols or "_submission_time" in cols:
        return "Kobo metadata columns (_uuid, _submission_time)"
    if "_parent_index" in cols and "_index" in cols:
        return "Kobo repeat sheet (_index, _parent_index)"
    if "KEY" in cols and ("SubmissionDate" in cols or "PARENT_KEY" in cols):
        return "ODK Central metadata columns (KEY, SubmissionDate)"
    idx = _Index(codebook)
    hits = 0
    for c in cols:
        if c in idx.columns:
            continue
        r = idx.resolve(c)
        if r is not None and (r[0] != "item" or "/" in c or r[1] != c):
            hits += 1
    return f"{hits} group-prefixed, select-multiple or label headers match the codebook" if hits else None


def _value_map(item: Item) -> dict[str, int]:
    """Normalised text -> code for a coded item: codes, choice names, labels, missing wording."""
    out: dict[str, int | None] = {}

    def put(text: Any, code: int) -> None:
        key = norm_text(text)
        if not key:
            return
        if key in out and out[key] != code:
            out[key] = None  # ambiguous: the same label for two codes
        else:
            out[key] = code

    xl = item.extra.get("xlsform") or {}
    for code, labels in item.options.items():
        for lab in labels.values():
            put(lab, code)
    mlabels = {int(k): v for k, v in (xl.get("missing_labels") or {}).items()}
    for code, reason in item.missing.items():
        for lab in (mlabels.get(code) or {}).values():
            put(lab, code)
        for lab in REASON_LABELS[reason].values():
            put(lab, code)
    for code, name in (xl.get("choices") or {}).items():
        put(name, int(code))
    for code in [*item.options, *item.missing]:
        out[norm_text(code)] = code
    return {k: v for k, v in out.items() if v is not None}


def _is_number(text: str) -> bool:
    t = text.translate(_DIGITS).replace("\u066b", ".")
    try:
        float(t.replace(",", ".") if t.count(",") == 1 and "." not in t else t)
        return True
    except ValueError:
        return False


def _shown(values: list[str], limit: int = 6) -> str:
    uniq = list(dict.fromkeys(v[:40] for v in values))
    return ", ".join(repr(v) for v in uniq[:limit]) + (f" (+{len(uniq) - limit} more)" if len(uniq) > limit else "")


def normalise(
    raw: RawTable,
    codebook: Codebook,
    *,
    problems: Problems,
    unknown: str = "error",
    path: str | Path | None = None,
    sheet: str | int | None = None,
) -> RawTable:
    """Turn a Kobo / ODK export into the plain table the codebook describes (see the module docstring).

    Group prefixes are removed, metadata dropped (kept with
    ``unknown="keep"``), select_multiple answers split into the codebook's
    0/1 items, labels in any of the codebook's languages mapped back to codes,
    a repeat sheet's parent ids filled in, and date-times with UTC offsets read
    as local time.  Labels that match nothing are reported to ``problems``
    (column, rows, the unmatched labels) and left blank.

    Parameters
    ----------
    raw : RawTable
        The export as read (:func:`~veplab.data.readers.read_raw`).
    codebook : Codebook
        The instrument (converted from the form with
        :func:`veplab.ingest.xlsform.from_xlsform`, or written by hand).
    problems : Problems
        Collector for what cannot be mapped.
    unknown : {"error", "drop", "keep"}
        As in :func:`veplab.data.load`; ``"keep"`` keeps the metadata.
    path, sheet : optional
        The export file and sheet, to read a repeat's parent sheet.

    Returns
    -------
    RawTable
        The same rows, with the codebook's column names and codes.

    References
    ----------
    KoboToolbox documentation, "Exporting and downloading your data",
    https://support.kobotoolbox.org/export_download.html.
    XLSForm specification (``select_multiple``, choice names, groups and
    repeats), https://xlsform.org.
    ISO 8601-1:2019 (date-times with UTC offsets).

    Examples
    --------
    >>> from veplab.codebook import from_dict
    >>> from veplab.data.problems import Problems
    >>> cb = from_dict({"id": "s", "title": "Survey", "id_column": "rid", "items": [
    ...     {"id": "rid", "label": "id", "type": "text", "role": "admin"},
    ...     {"id": "q1", "label": "I feel safe", "type": "binary",
    ...      "options": {1: {"en": "No", "fr": "Non"}, 2: {"en": "Yes", "fr": "Oui"}},
    ...      "missing": {9: "refused"}}]})
    >>> export = pd.DataFrame({"grp/rid": ["r1", "r2"], "grp/q1": ["Oui", "Refused"],
    ...                        "_uuid": ["u1", "u2"], "_submission_time": ["2024-03-01", "2024-03-02"]})
    >>> raw = RawTable(frame=export, row_numbers=[2, 3], format="csv")
    >>> normalise(raw, cb, problems=Problems("export.csv")).frame
      rid q1
    0  r1  2
    1  r2  9
    """
    frame = raw.frame
    idx = _Index(codebook)
    rows = np.asarray(raw.row_numbers)
    out: dict[str, Any] = {}
    sources: dict[str, str] = {}
    multi_agg: dict[str, str] = {}
    multi_split: dict[str, dict[str, str]] = {}
    passthrough: list[str] = []
    meta_kept: list[str] = []
    headers = [str(h) for h in frame.columns]
    instance_id = next((h for h in headers if h in ("meta/instanceID", "meta-instanceID", "instanceID")), None)
    media = {i.id for i in codebook.items if str((i.extra.get("xlsform") or {}).get("type", "")) in _MEDIA}
    for header in frame.columns:
        h = str(header)
        target: tuple[str, ...] | None
        if is_metadata(h) and h not in idx.columns:
            plain = h.lstrip("_")
            if h.startswith("_") and plain in idx.columns and plain not in frame.columns:
                target = ("item", plain)
            elif h == instance_id and codebook.id_column == "uuid" and "_uuid" not in headers \
                    and "uuid" not in headers:
                out["uuid"] = frame[h].map(lambda v: v[5:] if isinstance(v, str) and v.startswith("uuid:") else v)
                sources["uuid"] = h
                continue
            else:
                if unknown == "keep":
                    meta_kept.append(h)
                continue
        elif h.endswith("_URL") and (linked := idx.resolve(h[:-4])) is not None and linked[-1] in media:
            continue  # the attachment's download link
        else:
            target = idx.resolve(h)
        if target is None:
            passthrough.append(h)
            continue
        if target[0] == "item":
            col_id = target[1]
            if col_id in sources:
                problems.add(col_id, f"columns {sources[col_id]!r} and {h!r} both hold {col_id!r}",
                             "export each question once, or remove one of the columns")
                continue
            sources[col_id] = h
            out[col_id] = frame[h]
        elif target[0] == "multi":
            multi_agg[target[1]] = h
        else:
            q, c = target[1], target[2]
            if c in multi_split.setdefault(q, {}):
                problems.add(h, f"columns {multi_split[q][c]!r} and {h!r} both hold choice {c!r} of {q!r}",
                             "export each choice column once")
                continue
            multi_split[q][c] = h

    # select_multiple: split columns win over the single column (Kobo's default writes both)
    for q, choices in idx.multi.items():
        if q in multi_split:
            for c, h in multi_split[q].items():
                item_id = choices[c]
                out[item_id] = _split_values(frame[h], item_id, rows, problems, idx, q, c)
                sources[item_id] = h
        elif q in multi_agg:
            h = multi_agg[q]
            for item_id, values in _expand(frame[h], q, choices, rows, problems, idx).items():
                out[item_id] = values
                sources[item_id] = h

    # coded items: labels / choice names -> codes; date-times with offsets -> local time
    for item in codebook.items:
        if item.id not in out:
            continue
        if item.type in ("likert", "ordinal", "binary", "categorical") and item.id not in \
                {i for qs in idx.multi.values() for i in qs.values()}:
            out[item.id] = _codes(out[item.id], item, rows, problems, sources[item.id])
        elif item.type == "date":
            col = out[item.id]
            out[item.id] = col.map(lambda v: _ISO_TZ.sub(r"\1", v) if isinstance(v, str) else v)

    # repeat sheets: fill the parent's id column from the parent sheet
    parent_items = [i for i in codebook.items if (i.extra.get("xlsform") or {}).get("from_parent")
                    and i.id not in out]
    if parent_items and "_parent_index" in frame.columns:
        _fill_parent(out, frame, parent_items, path, problems, idx)

    result = pd.DataFrame(out, index=frame.index)
    for h in passthrough + meta_kept:
        if h not in result.columns:
            result[h] = frame[h]
    return RawTable(frame=result.reset_index(drop=True), row_numbers=list(raw.row_numbers),
                    format=f"kobo-{raw.format}", encoding=raw.encoding, delimiter=raw.delimiter,
                    value_labels=raw.value_labels, user_missing=raw.user_missing,
                    variable_labels=raw.variable_labels, sha256=raw.sha256)


def _codes(col: pd.Series, item: Item, rows: np.ndarray, problems: Problems, header: str) -> pd.Series:
    vmap = _value_map(item)
    values = col.to_numpy(dtype=object)
    out = values.copy()
    bad: list[int] = []
    for k, v in enumerate(values):
        text = _text(v)
        if not text:
            continue
        code = vmap.get(norm_text(text))
        if code is not None:
            out[k] = code
        elif text.lower() not in _BLANK and not _is_number(text):
            bad.append(k)
            out[k] = None
    if bad:
        where = f" (export column {header!r})" if header != item.id else ""
        problems.add(item.id, f"{len(bad)} values match no option of the item{where} -- not a code, choice name "
                     f"or label in {', '.join(LANGUAGES)}: {_shown([_text(values[k]) for k in bad])}",
                     "correct them in the export, or add the option (or its translation) to the codebook",
                     rows=rows[bad])
    return pd.Series(out, index=col.index, dtype=object)


def _split_values(col: pd.Series, item_id: str, rows: np.ndarray, problems: Problems, idx: _Index,
                  q: str, c: str) -> pd.Series:
    labels = {k for k, v in idx.multi_labels.get(q, {}).items() if v == c}
    out: list[Any] = []
    bad: list[int] = []
    for k, v in enumerate(col.to_numpy(dtype=object)):
        if isinstance(v, bool):
            out.append(int(v))
            continue
        text = _text(v).translate(_DIGITS)
        low = norm_text(text)
        if low in _BLANK:
            out.append(None)
        elif low in _TRUE or text == c or low in labels or (_is_number(text) and float(text) == 1):
            out.append(1)
        elif low in _FALSE or (_is_number(text) and float(text) == 0):
            out.append(0)
        else:
            out.append(None)
            bad.append(k)
    if bad:
        problems.add(item_id, f"{len(bad)} values of the choice column for {c!r} are not 0/1 (selected or not): "
                     f"{_shown([_text(col.iloc[k]) for k in bad])}", "export select_multiple columns as 0/1",
                     rows=rows[bad])
    return pd.Series(out, index=col.index, dtype=object)


def _expand(col: pd.Series, q: str, choices: Mapping[str, str], rows: np.ndarray, problems: Problems,
            idx: _Index) -> dict[str, pd.Series]:
    """One space-separated select_multiple column -> 0/1 per choice (blank stays blank)."""
    labels = idx.multi_labels.get(q, {})
    names_norm = {norm_text(c): c for c in choices}
    n = len(col)
    data: dict[str, list[int | None]] = {item_id: [None] * n for item_id in choices.values()}
    bad: list[int] = []
    bad_vals: list[str] = []
    for k, v in enumerate(col.to_numpy(dtype=object)):
        text = _text(v).translate(_DIGITS)
        if not text or (text.lower() in _BLANK and norm_text(text) not in names_norm
                        and norm_text(text) not in labels):
            continue
        picked = _tokens(text, names_norm, labels)
        if picked is None:
            bad.append(k)
            bad_vals.append(text)
            continue
        for c, item_id in choices.items():
            data[item_id][k] = int(c in picked)
    if bad:
        problems.add(q, f"{len(bad)} answers hold choices that are not in the codebook: {_shown(bad_vals)}",
                     "correct them, or add the choices to the codebook as binary items "
                     f"{q}__<choice>", rows=rows[bad])
    return {item_id: pd.Series(vals, index=col.index, dtype=object) for item_id, vals in data.items()}


def _tokens(text: str, names: Mapping[str, str], labels: Mapping[str, str]) -> set[str] | None:
    """Choices named in one select_multiple answer: names separated by spaces, or labels."""
    parts = text.split()
    if all(norm_text(p) in names for p in parts):
        return {names[norm_text(p)] for p in parts}
    for sep in (";", ",", "|"):
        if sep in text:
            segs = [norm_text(s) for s in text.split(sep) if s.strip()]
            if all(s in labels or s in names for s in segs):
                return {labels.get(s) or names[s] for s in segs}
    # labels joined by spaces: longest match first
    words = text.split()
    picked: set[str] = set()
    i = 0
    while i < len(words):
        for j in range(len(words), i, -1):
            key = norm_text(" ".join(words[i:j]))
            if key in labels or key in names:
                picked.add(labels.get(key) or names[key])
                i = j
                break
        else:
            return None
    return picked


def _fill_parent(out: dict[str, Any], frame: pd.DataFrame, parent_items: list[Item], path: str | Path | None,
                 problems: Problems, idx: _Index) -> None:
    from .problems import DataError
    from .readers import read_raw

    tables = [t for t in frame.get("_parent_table_name", pd.Series(dtype=object)).dropna().astype(str).unique() if t]
    if path is None or len(tables) != 1:
        for item in parent_items:
            problems.add(item.id, "cannot find the parent sheet of this repeat sheet (no _parent_table_name)",
                         "export the form as XLSX with its repeat groups as separate sheets", severity="warning")
        return
    try:
        parent = read_raw(path, sheet=tables[0], problems=Problems(str(path))).frame
    except DataError:
        for item in parent_items:
            problems.add(item.id, f"cannot read the parent sheet {tables[0]!r}", "export the workbook again",
                         severity="warning")
        return
    if "_index" not in parent.columns:
        return
    key = pd.to_numeric(parent["_index"], errors="coerce")
    link = pd.to_numeric(frame["_parent_index"], errors="coerce")
    for item in parent_items:
        header = next((h for h in parent.columns if h == item.id or str(h).split("/")[-1] == item.id), None)
        if header is None:
            problems.add(item.id, f"the parent sheet {tables[0]!r} has no column {item.id!r}",
                         "export the parent's id column", severity="warning")
            continue
        lookup = pd.Series(parent[header].to_numpy(), index=key.to_numpy())
        lookup = lookup[~lookup.index.duplicated()]
        out[item.id] = pd.Series(lookup.reindex(link.to_numpy()).to_numpy(), index=frame.index, dtype=object)
