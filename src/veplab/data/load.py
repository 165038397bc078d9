"""``veplab.data.load``: read a field export and apply its instrument codebook."""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import codebook as _cb
from ..codebook import Codebook, Item
from ._record import LoadInfo, load_info
from .problems import DataError, Problems
from .readers import RawTable, read_raw
from .reasons import REASON_DTYPE, missing_reasons, reason_column, set_missing_reasons

__all__ = ["load", "apply_codebook", "LoadInfo", "load_info", "missing_reasons", "DataError"]

# Arabic-Indic (U+0660..) and Eastern Arabic-Indic / Persian (U+06F0..) digits.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
_DATE_FORMATS = {
    "YYYY-MM-DD": r"^\d{4}-\d{2}-\d{2}$",
    "DD/MM/YYYY": r"^\d{1,2}/\d{1,2}/\d{4}$",
    "DD.MM.YYYY": r"^\d{1,2}\.\d{1,2}\.\d{4}$",
    "MM/DD/YYYY": None,  # indistinguishable from DD/MM in general; only named in messages
    "YYYY/MM/DD": r"^\d{4}/\d{1,2}/\d{1,2}$",
    "DD-MM-YYYY": r"^\d{1,2}-\d{1,2}-\d{4}$",
}
_MISSING_STRINGS = {"", "na", "n/a", "nan", "null", "none", "."}
_ADMIN_META = re.compile(r"^_(uuid|id|submission_time|index|parent_index|status|validation_status|version|notes|tags|submitted_by|xform_id_string|attachments|geolocation)$")


# ------------------------------------------------------------------ helpers


def _map_distinct(series: pd.Series, fn: Callable[[Any], str], missing: str = "") -> pd.Series:
    """``series.map(fn)`` computed once per distinct value (an object Series of the results).

    A column of a national survey holds a handful of distinct codes in 100,000
    rows, so ``fn`` runs a handful of times.  Missing values (None, NaN, NA,
    NaT) give ``missing``.  Hashing would merge ``True`` with ``1`` (equal in
    Python), so a column holding booleans is mapped value by value.
    """
    values = series.to_numpy()
    if values.dtype == object and not {bool, np.bool_}.isdisjoint(set(map(type, values))):
        return series.map(lambda v: missing if v is None or v is pd.NA or v is pd.NaT
                          or (isinstance(v, float) and np.isnan(v)) else fn(v)).astype(object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [fn(u) for u in uniques]
    table[-1] = missing
    return pd.Series(table[codes], index=series.index, dtype=object)


def _text_value(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _as_text(series: pd.Series) -> pd.Series:
    """Values as stripped strings (NaN -> ''), digits normalised."""
    return _map_distinct(series, _text_value)


def _normalise_digits(s: str) -> str:
    return s.translate(_DIGITS).replace("\u066c", "").replace("\u00a0", "").replace("\u202f", "")


_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")   # 12,000  1,234,567  1,234.5
_AMBIGUOUS_COMMA = re.compile(r"^[-+]?\d{1,3},\d{3}$")       # 12,000: twelve thousand or 12.000?
_DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+$")                # 3,5  12,25  1234,567


def _to_number(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse strings to floats. Returns (values, bad, ambiguous) masks.

    Each distinct string is parsed once (every rule below reads one value, or
    asks whether *some* value of the column is of a kind, which the distinct
    values answer as the whole column does); see :func:`_parse_numbers`.
    """
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    if len(uniques) == len(text):
        return _parse_numbers(text)
    values, bad, ambiguous = _parse_numbers(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    return (pd.Series(values.to_numpy()[codes], index=text.index, dtype="float64"),
            pd.Series(bad.to_numpy(dtype=bool)[codes], index=text.index),
            pd.Series(ambiguous.to_numpy(dtype=bool)[codes], index=text.index))


def _parse_numbers(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse strings to floats. Returns (values, bad, ambiguous) masks.

    Commas are read per column: as thousands separators when some value can
    only be that (``1,234,567``, ``1,234.5``), as decimal commas (French and
    Russian exports) when some value can only be that (``3,5``, ``1234,567``).
    When every comma value could be either (``12,000``), or the column mixes
    both, those values are ``ambiguous`` (and not parsed): they are reported,
    never guessed.
    """
    norm = _map_distinct(text, _normalise_digits).astype("str")
    has_comma = norm.str.contains(",", regex=False)
    ambiguous = pd.Series(False, index=text.index)
    if has_comma.any():
        commas = norm[has_comma]
        amb = commas.str.match(_AMBIGUOUS_COMMA)
        thousands = commas.str.match(_THOUSANDS) & ~amb
        decimal = commas.str.match(_DECIMAL_COMMA) & ~amb
        if thousands.any() and not decimal.any():
            norm = norm.where(~has_comma, norm.str.replace(",", "", regex=False))
        elif decimal.any() and not thousands.any():
            norm = norm.where(~has_comma, norm.str.replace(",", ".", regex=False))
        else:  # only ambiguous values, or both kinds in one column
            ambiguous = has_comma & (norm.str.match(_AMBIGUOUS_COMMA) | norm.str.match(_THOUSANDS)
                                     | norm.str.match(_DECIMAL_COMMA))
            norm = norm.where(~ambiguous, "")
    values = pd.to_numeric(norm.where(norm != "", None), errors="coerce")
    bad = values.isna() & (norm != "") & ~norm.str.lower().isin(_MISSING_STRINGS)
    values = values.where(np.isfinite(values.astype("float64")), np.nan)
    bad |= (norm.str.lower().str.lstrip("+-").isin({"inf", "infinity"})) & (norm != "")
    return values.astype("float64"), bad, ambiguous


def _to_datetimes(vals: pd.Series, fmt: str | None) -> tuple[pd.Series, np.ndarray, bool]:
    """``pd.to_datetime(vals, format=fmt, errors="coerce")`` made safe for loading.

    Returns (naive datetime64[ns] values, out-of-range mask, offsets_dropped).
    Date-times with UTC offsets (also mixed offsets, or mixed with plain dates)
    keep their local wall time; dates pandas cannot hold in nanoseconds
    (before 1677 or after 2262, such as the sentinel 9999-12-31) are flagged,
    not parsed.
    """
    offsets = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pandas 2.x on mixed offsets
            parsed = pd.to_datetime(vals, format=fmt, errors="coerce")
        if parsed.dtype == object:  # pandas 2.x: mixed offsets give Timestamps in an object Series
            raise TypeError("mixed UTC offsets")
    except (ValueError, TypeError):  # mixed UTC offsets, or offsets mixed with plain dates
        def one(v: Any) -> Any:
            try:
                t = pd.to_datetime(v, format=fmt)
            except (ValueError, TypeError, OverflowError):
                return pd.NaT
            return t.tz_localize(None) if getattr(t, "tzinfo", None) is not None else t
        parsed = pd.Series([one(v) for v in vals], index=vals.index, dtype=object)
        offsets = True
        parsed = pd.to_datetime(parsed, errors="coerce")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
        offsets = True
    oob = np.array(parsed.notna() & ((parsed < pd.Timestamp.min) | (parsed > pd.Timestamp.max)), dtype=bool)
    # pandas 2.x parses in nanoseconds and turns a date outside 1677-2262 into NaT: tell it from a non-date
    nat = (parsed.isna() & vals.notna()).to_numpy()
    if nat.any():
        oob[nat] = [_outside_ns_range(v, fmt) for v in vals[nat]]
    return parsed.where(~oob).astype("datetime64[ns]"), oob, offsets


def _outside_ns_range(value: Any, fmt: str | None) -> bool:
    """A valid date (per ``fmt``) that nanosecond timestamps cannot hold (before 1678 or after 2261)."""
    try:
        if fmt in (None, "ISO8601"):
            d = _dt.datetime.fromisoformat(str(value).strip())
        else:
            d = _dt.datetime.strptime(str(value).strip(), fmt)
    except (ValueError, TypeError):
        return False
    d = d.replace(tzinfo=None)
    return d < _dt.datetime(1677, 9, 22) or d > _dt.datetime(2262, 4, 11)


def _match_formats(values: pd.Series) -> dict[str, pd.Series]:
    return {name: values.str.match(rx) for name, rx in _DATE_FORMATS.items() if rx}


def _parse_dates(col: pd.Series, item: Item, rows: np.ndarray, probs: Problems) -> tuple[pd.Series, np.ndarray]:
    """Parse a date column; returns (datetime64 series, invalid mask)."""
    n = len(col)
    out = pd.Series(pd.NaT, index=col.index, dtype="datetime64[ns]")
    invalid = np.zeros(n, dtype=bool)
    is_dt = col.map(lambda v: isinstance(v, (_dt.date, _dt.datetime, pd.Timestamp)))
    oob_all = np.zeros(n, dtype=bool)
    offsets_dropped = False
    if is_dt.any():
        cells = col[is_dt].map(lambda v: v.replace(tzinfo=None) if getattr(v, "tzinfo", None) is not None else v)
        offsets_dropped = bool(col[is_dt].map(lambda v: getattr(v, "tzinfo", None) is not None).any())
        parsed, oob, _ = _to_datetimes(cells.astype(object), None)
        out[is_dt] = parsed
        oob_all[np.flatnonzero(is_dt.to_numpy())[oob]] = True
    def finish() -> tuple[pd.Series, np.ndarray]:
        if oob_all.any():
            probs.add(item.id, f"{int(oob_all.sum())} dates lie outside the years 1678-2261 (a placeholder such as "
                      "9999-12-31, or a typo in the year?)",
                      "correct them, or leave the cell blank when the date is unknown", rows=rows[oob_all])
            invalid[oob_all] = True
        if offsets_dropped:
            probs.add(item.id, "date-times with UTC offsets were read as local time (the offsets were dropped)",
                      "nothing to do for dates; export local times if the time of day matters", severity="warning")
        return out, invalid

    text = _as_text(col.where(~is_dt, None))
    present = (text != "") & ~is_dt
    if not present.any():
        return finish()
    vals = text[present]
    pos_present = np.flatnonzero(present.to_numpy())
    if item.date_format:
        parsed, oob, dropped = _to_datetimes(vals, item.date_format)
        offsets_dropped = offsets_dropped or dropped
        oob_all[pos_present[oob]] = True
        bad = parsed.isna() & ~oob
        out[present] = parsed
        if bad.any():
            badrows = rows[np.flatnonzero(present.to_numpy())[bad.to_numpy()]]
            probs.add(item.id, f"{int(bad.sum())} values are not dates in the codebook format {item.date_format!r}",
                      "correct them, or change the item's format: in the codebook", rows=badrows)
            invalid[np.flatnonzero(present.to_numpy())[bad.to_numpy()]] = True
        return finish()
    matches = _match_formats(vals)
    kinds = {name: m for name, m in matches.items() if m.any()}
    if len(kinds) > 1:
        counts = ", ".join(f"{name} ({int(m.sum())} values)" for name, m in kinds.items())
        minority = sorted(kinds, key=lambda k: int(kinds[k].sum()))[:-1]
        minor_mask = np.zeros(len(vals), dtype=bool)
        for k in minority:
            minor_mask |= kinds[k].to_numpy()
        probs.add(item.id, f"dates are written in {len(kinds)} formats: {counts}",
                  "write every date as YYYY-MM-DD, or set the item's format: in the codebook "
                  "(rows shown use the less common formats)",
                  rows=rows[np.flatnonzero(present.to_numpy())[minor_mask]])
        invalid[np.flatnonzero(present.to_numpy())] = True
        return finish()
    fmt = next(iter(kinds), None)
    py_fmt = {"YYYY-MM-DD": "%Y-%m-%d", "DD/MM/YYYY": "%d/%m/%Y", "DD.MM.YYYY": "%d.%m.%Y",
              "YYYY/MM/DD": "%Y/%m/%d", "DD-MM-YYYY": "%d-%m-%Y"}.get(fmt or "", "%Y-%m-%d")
    if fmt in ("DD/MM/YYYY", "DD.MM.YYYY", "DD-MM-YYYY"):
        parts = vals.str.extract(r"^(\d{1,2})\D(\d{1,2})\D")
        first, second = pd.to_numeric(parts[0]), pd.to_numeric(parts[1])
        if (second > 12).any():
            probs.add(item.id, f"dates look month-first (MM/DD/YYYY): {int((second > 12).sum())} have a second part "
                      "above 12", "set format: '%m/%d/%Y' for this item in the codebook",
                      rows=rows[pos_present[(second > 12).to_numpy()]])
            invalid[pos_present] = True
            return finish()
        if not (first > 12).any() and len(vals) > 1:
            probs.add(item.id, f"dates were read as day first ({fmt}), but no value shows whether the day or the "
                      "month comes first", "check a few dates; if they are month first, set format: '%m/%d/%Y' "
                      "for this item in the codebook", severity="warning")
    parsed, oob, dropped = _to_datetimes(vals, py_fmt)
    if fmt in ("YYYY-MM-DD", None):
        # allow a time part (ISO 8601, as Kobo exports write it)
        retry = parsed.isna().to_numpy() & ~oob
        if retry.any():
            again, oob2, dropped2 = _to_datetimes(vals[retry], "ISO8601")
            parsed[retry] = again
            oob[np.flatnonzero(retry)[oob2]] = True
            dropped = dropped or dropped2
    offsets_dropped = offsets_dropped or dropped
    oob_all[pos_present[oob]] = True
    bad = parsed.isna().to_numpy() & ~oob
    out[present] = parsed
    if bad.any():
        pos = pos_present[bad]
        probs.add(item.id, f"{int(bad.sum())} values are not valid dates" + (f" ({fmt})" if fmt else ""),
                  "correct them (write dates as YYYY-MM-DD), or leave them blank if unknown", rows=rows[pos])
        invalid[pos] = True
    return finish()


def _suggest(name: str, candidates: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ------------------------------------------------------------------ main


def apply_codebook(
    raw: RawTable,
    codebook: Codebook,
    *,
    file: str = "<data>",
    unknown: str = "error",
    reverse: bool = False,
    score: bool = True,
    on_error: str = "raise",
    privacy: bool = True,
    problems: Problems | None = None,
    facility_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Apply ``codebook`` to a raw table (see :func:`load` for the options).

    The second half of :func:`load`, for a table already read
    (:func:`~veplab.data.readers.read_raw`, a database query, a normalised
    Kobo export): check the columns against the codebook, map missing codes to
    NA with their reasons, type and range-check every item, check the ids, run
    the privacy gate, then reverse-key and score when asked.

    Parameters
    ----------
    raw : RawTable
        The table as read (values as found), with its row numbers in the file.
    codebook : Codebook
        The instrument.
    file : str
        What messages call the data.
    unknown, reverse, score, on_error, privacy, facility_columns
        As in :func:`load`.
    problems : Problems, optional
        Collector to add to (a fresh one by default).

    Returns
    -------
    DataFrame
        The analysis frame, with its :class:`LoadInfo` in ``attrs``.

    Raises
    ------
    DataError
        Listing every problem (file, column, rows, problem, fix).
    ValueError
        For an ``unknown=`` or ``on_error=`` that is not one of the options.

    References
    ----------
    docs/DESIGN.md, "Codebook (instrument) format" and "API
    conventions" (validation at the boundary, messages that name the column
    and the fix).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> from veplab.data.readers import RawTable
    >>> cb = from_dict({"id": "s", "title": "Survey", "id_column": "rid", "items": [
    ...     {"id": "q1", "label": "I feel safe", "type": "likert",
    ...      "options": {1: "No", 2: "Sometimes", 3: "Yes"}, "missing": {9: "refused"}}]})
    >>> raw = RawTable(frame=pd.DataFrame({"rid": ["r1", "r2"], "q1": ["3", "9"]}),
    ...                row_numbers=[2, 3], format="csv")
    >>> apply_codebook(raw, cb, file="export.csv")
      rid   q1 q1__missing
    0  r1    3         NaN
    1  r2  NaN     refused
    """
    if unknown not in ("error", "drop", "keep"):
        raise ValueError(f"unknown= must be 'error', 'drop' or 'keep', got {unknown!r}")
    if on_error not in ("raise", "flag"):
        raise ValueError(f"on_error= must be 'raise' or 'flag', got {on_error!r}")
    probs = problems if problems is not None else Problems(file)
    frame = raw.frame
    rows = np.asarray(raw.row_numbers, dtype=np.int64)
    n = len(frame)
    columns = list(frame.columns)
    item_ids = set(codebook.item_ids) | {codebook.id_column}

    # --- columns: missing, unknown
    absent = [c for c in codebook.columns if c not in columns and (c == codebook.id_column or codebook.item(c).required)]
    for c in absent:
        hint = _suggest(c, [x for x in columns if x not in item_ids])
        probs.add(c, f"column is in the codebook but not in the file{hint}",
                  "add the column to the export, rename the file's column to match, or mark the item "
                  "`required: false` in the codebook")
    extra = [c for c in columns if c not in item_ids]
    kobo_meta = [c for c in extra if _ADMIN_META.match(c)]
    extra = [c for c in extra if c not in kobo_meta]
    if extra and unknown == "error":
        for c in extra:
            hint = _suggest(c, [x for x in codebook.columns if x not in columns])
            probs.add(c, f"column is not in codebook {codebook.id!r}{hint}",
                      "add it to the codebook with a role (item, admin, ...), rename it, "
                      "or load with unknown='drop' to leave it out")
    keep_extra = extra if unknown == "keep" else []
    if extra and unknown == "drop":  # never silently: the columns are named (veplab validate lists them)
        probs.add(None, f"{len(extra)} column{'s' if len(extra) != 1 else ''} not in codebook {codebook.id!r} "
                  f"dropped (unknown: drop): {', '.join(map(repr, extra[:20]))}"
                  + (f" (+{len(extra) - 20} more)" if len(extra) > 20 else ""),
                  "nothing to do if they hold nothing the study needs; otherwise add them to the codebook",
                  severity="warning")

    out: dict[str, Any] = {}
    # (positions, column, code, reason): one record per item and reason, not one Python tuple per cell (a
    # national survey has hundreds of thousands of missing cells)
    missing_rows: list[tuple[np.ndarray, str, Any, str]] = []

    def record_missing(mask: np.ndarray, column: str, code: Any, reason: str) -> None:
        pos = np.flatnonzero(mask)
        if pos.size:
            missing_rows.append((pos, column, code, reason))

    # --- id column
    id_col = codebook.id_column
    if id_col in columns:
        ids = _as_text(frame[id_col])
        blank = (ids == "").to_numpy()
        if blank.any():
            probs.add(id_col, f"{int(blank.sum())} records have no id", "give every record its pseudonymous id",
                      rows=rows[blank])
        dup = ids.duplicated(keep=False).to_numpy() & ~blank
        if dup.any():
            n_ids = ids[dup].nunique()
            guessed = (codebook.extra.get("xlsform") or {}).get("id_column_guessed") == id_col
            if guessed:  # the XLSForm conversion took the id column from a field's name: it may be no record id
                probs.add(id_col, f"{n_ids} ids appear more than once ({int(dup.sum())} records); the id column "
                          f"{id_col!r} was guessed from its name when the codebook was converted from the form "
                          "(the form declares no veplab::id_column), so it may not be a record id at all",
                          "if every record should have its own value, remove duplicate records or correct the ids; "
                          "otherwise declare the id column: id_column: in the codebook (or veplab::id_column in the "
                          "form's settings), e.g. uuid for Kobo's _uuid", rows=rows[dup])
            else:
                probs.add(id_col, f"{n_ids} ids appear more than once ({int(dup.sum())} records)",
                          "remove duplicate records or correct the ids; each record needs a unique id", rows=rows[dup])
        out[id_col] = pd.array(ids.where(~pd.Series(blank, index=ids.index), None), dtype="string")

    # --- items
    for item in codebook.items:
        if item.id == id_col or item.id not in columns:
            continue
        col = frame[item.id]
        values, miss_codes = _apply_item(item, col, rows, probs, raw, on_error)
        out[item.id] = values
        for mask, code, reason in miss_codes:
            record_missing(mask, item.id, code, reason)

    for c in keep_extra + kobo_meta * (unknown == "keep"):
        out[c] = frame[c].to_numpy()

    result = pd.DataFrame(out, index=pd.RangeIndex(n))
    ordered = [c for c in codebook.columns if c in result.columns] + [c for c in result.columns if c not in item_ids]
    result = result[ordered]

    # --- privacy gate: every column of the raw table, whatever its type.  Identifiers always stop
    # the load: on_error="flag" and unknown="drop"/"keep" never downgrade them.
    if privacy:
        from ._gate import identifier_problems, refuse

        found = identifier_problems(result, codebook, frame, rows, file=file, kept=keep_extra,
                                    facility_columns=facility_columns)
        if found:
            raise refuse(found, probs.items, file)

    errors = probs.errors
    if errors and on_error == "raise":
        raise DataError(probs.frame())

    if reverse:
        for item in codebook.items:
            if item.reverse and item.id in result.columns:
                codes = result[item.id].astype("float64")
                rev = item.reversed_code(codes)
                result[item.id] = pd.Categorical(rev, categories=list(item.codes), ordered=True)

    scored: tuple[str, ...] = ()
    if score and codebook.scales:
        from .scoring import score_scales

        scores = score_scales(result, codebook, already_reversed=reverse)
        for c in scores.columns:
            result[c] = scores[c]
        scored = tuple(scores.columns)

    # --- why each missing answer is missing, kept in the data as one reason column per item (they travel
    # with their rows through merges, joins and concatenation, which drop df.attrs: veplab.data.reasons)
    with_reasons_recorded = {c for _, c, _, _ in missing_rows}
    reason_items = [it.id for it in codebook.items if it.id in result.columns and it.id != id_col
                    and (it.missing or it.id in with_reasons_recorded)]
    clash = [c for c in reason_items if reason_column(c) in result.columns]
    if clash:
        for c in clash:
            probs.add(reason_column(c), f"this column's name is the one veplab gives the reasons why answers to "
                      f"{c!r} are missing", f"rename {reason_column(c)!r} (in the file or the codebook)")
        raise DataError(probs.frame())
    if reason_items:
        # category codes of REASON_DTYPE (-1: no reason); a later record of a cell replaces an earlier one
        codes = {c: np.full(n, -1, dtype=np.int8) for c in reason_items}
        for pos, c, _code, reason in missing_rows:
            if c in codes:
                codes[c][pos] = REASON_DTYPE.categories.get_loc(reason)
        # the one way reason columns are made (it checks that a reason is only given for a missing cell)
        result = set_missing_reasons(result, {c: pd.Categorical.from_codes(k, dtype=REASON_DTYPE)
                                              for c, k in codes.items()})
        del codes

    ids_for_missing = result[id_col].astype(str).to_numpy() if id_col in result.columns else np.array([""] * n)
    if missing_rows:
        at = np.concatenate([pos for pos, *_ in missing_rows])
        sizes = [pos.size for pos, *_ in missing_rows]
        mframe = pd.DataFrame(
            {
                "row": rows[at].tolist(),
                "index": at.tolist(),
                "id": ids_for_missing[at].tolist(),
                "column": [c for (_, c, _, _), k in zip(missing_rows, sizes) for _ in range(k)],
                "code": [code for (_, _, code, _), k in zip(missing_rows, sizes) for _ in range(k)],
                "reason": pd.Categorical.from_codes(
                    np.repeat([REASON_DTYPE.categories.get_loc(r) for *_, r in missing_rows], sizes),
                    dtype=REASON_DTYPE),
            }
        )
        del at
    else:
        mframe = pd.DataFrame({"row": [], "index": [], "id": [], "column": [], "code": [],
                               "reason": pd.Categorical([], dtype=REASON_DTYPE)})
    mframe.attrs["id_column"] = id_col
    info = LoadInfo(
        file=file,
        format=raw.format,
        sha256=raw.sha256,
        codebook_id=codebook.id,
        codebook_sha256=codebook.sha256,
        n_rows=n,
        encoding=raw.encoding,
        missing=mframe,
        problems=probs.frame(),
        value_labels=raw.value_labels,
        reversed=reverse,
        scored=scored,
        row_numbers=tuple(int(r) for r in rows),
        reason_columns=tuple(reason_items),
    )
    result.attrs["veplab"] = info
    for w in probs.warnings:
        warnings.warn(f"{file}: column {w['column'] or '-'}: {w['problem']}", stacklevel=3)
    return result


def _apply_item(item: Item, col: pd.Series, rows: np.ndarray, probs: Problems, raw: RawTable,
                on_error: str) -> tuple[Any, list[tuple[np.ndarray, Any, Any]]]:
    """Convert one column; returns (values, [(mask, code, reason), ...])."""
    n = len(col)
    miss: list[tuple[np.ndarray, Any, Any]] = []
    if item.type == "text":
        text = _as_text(col)
        blank = (text == "").to_numpy()
        return pd.array(text.where(~blank, None), dtype="string"), miss
    if item.type == "date":
        values, invalid = _parse_dates(col, item, rows, probs)
        if invalid.any():
            miss.append((invalid, None, "invalid"))
        return values, miss
    text = _as_text(col)
    nums, bad, ambiguous = _to_number(text)
    bad_np = bad.to_numpy()
    invalid = np.zeros(n, dtype=bool)
    amb_np = ambiguous.to_numpy()
    if amb_np.any():
        probs.add(item.id, f"{int(amb_np.sum())} values such as {text[ambiguous].iloc[0]!r} could be read with a "
                  "thousands separator or a decimal comma",
                  "write numbers without thousands separators (12000), with a decimal point (12.5)",
                  rows=rows[amb_np])
        invalid |= amb_np
    if bad_np.any():
        labels = {str(v).strip().lower() for o in item.options.values() for v in o.values()}
        looks_label = text[bad].str.lower().isin(labels).all() if labels else False
        fix = ("the column holds option labels instead of codes: export codes (Kobo: 'XML values'), "
               "or recode labels to codes" if looks_label else
               "replace them with numbers from the codebook, or leave the cell blank if missing")
        probs.add(item.id, f"{int(bad_np.sum())} values are not numbers", fix, rows=rows[bad_np])
        invalid |= bad_np
    vals = nums.to_numpy()
    # missing codes
    for code, reason in item.missing.items():
        m = vals == code
        if m.any():
            miss.append((m, code, reason))
            vals = np.where(m, np.nan, vals)
    # SPSS user-missing values that the codebook did not name
    for code in raw.user_missing.get(item.id, []):
        try:
            lo, hi = (float(code[0]), float(code[1])) if isinstance(code, tuple) else (float(code), float(code))
        except (TypeError, ValueError):
            continue
        if lo == hi and lo in item.missing:
            continue
        m = (vals >= lo) & (vals <= hi)
        if m.any():
            what = repr(code) if lo == hi else f"the range {code[0]!r} to {code[1]!r}"
            probs.add(item.id, f"SPSS declares {what} user-missing but the codebook does not",
                      "add the code(s) to the item's missing: in the codebook", rows=rows[m], severity="warning")
            for v in np.unique(vals[m]):
                miss.append((vals == v, float(v), "missing"))
            vals = np.where(m, np.nan, vals)
    present = ~np.isnan(vals)
    if item.type in _cb.CODED_TYPES:
        nonint = present & (vals != np.round(vals))
        if nonint.any():
            probs.add(item.id, f"{int(nonint.sum())} values are not whole-number codes",
                      "option codes are integers; correct these values", rows=rows[nonint])
            invalid |= nonint
        codes = np.array(item.codes, dtype=float)
        outside = present & ~nonint & ~np.isin(vals, codes)
        if outside.any():
            # only short codes are quoted: a long number in a code column may be a phone or id number
            seen = sorted({int(v) if float(v).is_integer() else v for v in vals[outside] if abs(v) < 1e6})[:8]
            probs.add(item.id, f"{int(outside.sum())} values outside the codebook options "
                      f"{{{','.join(str(c) for c in item.codes)}}}" + (f" (found {seen})" if seen else ""),
                      "correct them in the source, or add the code to the codebook (options or missing)",
                      rows=rows[outside])
            invalid |= outside
        vals = np.where(invalid, np.nan, vals)
        if invalid.any():
            miss.append((invalid, None, "invalid"))
        ordered = item.type in _cb.ORDERED_TYPES
        cat = pd.Categorical(vals, categories=list(item.codes), ordered=ordered)
        return cat, miss
    # numeric
    if item.integer:
        nonint = present & (vals != np.round(vals))
        if nonint.any():
            probs.add(item.id, f"{int(nonint.sum())} values are not whole numbers",
                      "correct them; this item takes whole numbers only", rows=rows[nonint])
            invalid |= nonint
    lo = item.min if item.min is not None else -np.inf
    hi = item.max if item.max is not None else np.inf
    out_range = present & ((vals < lo) | (vals > hi))
    if out_range.any():
        probs.add(item.id, f"{int(out_range.sum())} values outside the allowed range "
                  f"[{item.min if item.min is not None else '-inf'}, {item.max if item.max is not None else 'inf'}]",
                  "correct them in the source, or widen min/max in the codebook if the range is wrong",
                  rows=rows[out_range])
        invalid |= out_range
    vals = np.where(invalid, np.nan, vals)
    if invalid.any():
        miss.append((invalid, None, "invalid"))
    return pd.Series(vals, dtype="float64").to_numpy(), miss


def load(
    path: str | Path,
    codebook: Codebook | str | Path,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    unknown: str = "error",
    reverse: bool = False,
    score: bool = True,
    on_error: str = "raise",
    privacy: bool = True,
    source: str | None = None,
    facility_columns: Sequence[str] = (),
) -> pd.DataFrame:
    r"""Load a data file and apply its instrument codebook.

    Reads CSV (encoding and delimiter detected: UTF-8, UTF-8 with BOM,
    cp1256 Arabic, cp1251 Cyrillic, cp1252), XLSX, SPSS ``.sav`` and Stata
    ``.dta`` (value labels and user-missing definitions kept), and Parquet.
    Then, following the codebook:

    * checks that every codebook column is present and no unknown column is
      (``unknown="error"|"drop"|"keep"``; Kobo/ODK metadata such as ``_uuid``
      is dropped unless ``unknown="keep"``);
    * maps missing codes (don't know, refused, ...) to NA and keeps the reason
      in a reason column ``<item>__missing`` (added at the end, for every item
      with missing codes and every item with an invalid value; they travel
      with their rows through merges and concatenation; see
      :mod:`veplab.data.reasons` and :func:`missing_reasons`);
    * turns coded items into categoricals whose categories are the integer
      option codes (ordered for likert, ordinal and binary items);
    * checks types and ranges, dates (one format per column), duplicate and
      blank ids;
    * refuses direct identifiers (the privacy gate, :mod:`veplab.privacy.identifiers`):
      every column is scanned as read, before typing, whatever its codebook
      type; identifiers always stop the load with an error naming file, column
      and rows (never the values), whatever ``on_error`` and ``unknown`` say.
      ``facility_columns`` (the study's cluster column, e.g. ``prison_id``
      holding ``KZ-P07``) are checked for phone and id numbers but not with
      the id-column rules;
    * reverse-keys items when ``reverse=True`` (``reversed = min + max - code``
      over the item's option codes) and adds one column per scale with its
      prorated score when ``score=True`` (:func:`veplab.scoring.score_scales`:
      the mean of the answered items, times k for ``score: sum``, when at least
      ``min_items`` are answered).

    KoboToolbox / ODK exports (detected from their ``_uuid`` /
    ``_submission_time`` metadata or ``group/field`` headers, or named with
    ``source="kobo"``; ``source="file"`` turns detection off) are first
    normalised by :func:`veplab.data.kobo.normalise`: group prefixes and
    metadata columns, select_multiple answers, labels in place of codes,
    repeat sheets (``sheet=``).  ``path`` may also be a
    :class:`veplab.ingest.sql.SQLQuery` (a read-only PostgreSQL query).

    Every problem is reported at once in a :class:`DataError` whose
    ``problems`` table has the columns ``file, column, rows, problem, fix,
    severity``.  With ``on_error="flag"`` (never for identifiers) invalid cells become NA with the
    reason ``"invalid"`` and the problems are kept in the load info instead
    (the data-quality summary reports them).  Nothing is ever written to disk.

    Parameters
    ----------
    path : str, Path or SQLQuery
        The export (``.csv``, ``.txt``, ``.tsv``, ``.xlsx``, ``.xlsm``, ``.sav``,
        ``.zsav``, ``.dta``, ``.parquet``), or a read-only query.
    codebook : Codebook, str or Path
        The instrument, or the path of its YAML file.
    sheet : str or int, optional
        Worksheet of an XLSX (default the first; a Kobo repeat's name).
    encoding, delimiter : str, optional
        Override what is detected for a CSV.
    unknown : {"error", "drop", "keep"}
        What to do with columns the codebook does not describe.
    reverse : bool
        Reverse-key items marked ``reverse: true``.
    score : bool
        Add the scale scores.
    on_error : {"raise", "flag"}
        Stop on invalid values, or set them missing with reason ``"invalid"``.
    privacy : bool
        Run the identifier gate (leave it on for real data).
    source : {None, "kobo", "odk", "file"}
        Say what the export is (None detects it).
    facility_columns : sequence of str
        Columns naming facilities, not people.

    Returns
    -------
    DataFrame
        One row per record: the id column (string), coded items as
        categoricals of their option codes, numbers as floats, dates as
        datetimes, text as strings, then scale scores and reason columns;
        :func:`load_info` gives what the load learnt.

    Raises
    ------
    DataError
        Listing every problem at once; nothing is loaded.
    CodebookError
        When ``codebook`` is a path to a malformed codebook.

    References
    ----------
    Shafranovich, Y. (2005). RFC 4180, *Common Format and MIME Type for
    Comma-Separated Values (CSV) Files*.
    ECMA-376 (2021), *Office Open XML File Formats* (XLSX, read with
    python-calamine or openpyxl).
    IBM SPSS Statistics ``.sav`` and Stata ``.dta`` read with ReadStat through
    pyreadstat (https://github.com/Roche/pyreadstat).
    Apache Parquet format specification (https://parquet.apache.org/docs/).
    WHATWG (2024), *Encoding Standard* (windows-1251, windows-1252,
    windows-1256 legacy encodings).
    ISO 8601-1:2019, *Date and time -- Representations for information
    interchange* (dates written YYYY-MM-DD).
    docs/DESIGN.md, "The path data takes", "Codebook (instrument)
    format" and "Privacy" (the identifier gate).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "Survey", "id_column": "rid", "items": [
    ...     {"id": "q1", "label": "I feel safe", "type": "likert",
    ...      "options": {1: "No", 2: "Sometimes", 3: "Yes"}, "missing": {9: "refused"}},
    ...     {"id": "q2", "label": "I feel unsafe", "type": "likert",
    ...      "options": {1: "No", 2: "Sometimes", 3: "Yes"}, "reverse": True}],
    ...     "scales": [{"id": "safety", "items": ["q1", "q2"], "min_items": 1}]})
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "export.csv"
    >>> _ = path.write_text("rid,q1,q2\nr1,3,1\nr2,9,2\nr3,2,\n", encoding="utf-8")
    >>> load(path, cb, reverse=True)
      rid   q1   q2  safety q1__missing
    0  r1    3    3     3.0         NaN
    1  r2  NaN    2     2.0     refused
    2  r3    2  NaN     2.0         NaN

    Every problem is reported at once, with the rows as a spreadsheet numbers them:

    >>> _ = path.write_text("rid,q1,q2\nr1,3,1\nr2,7,2\nr2,2,\n", encoding="utf-8")
    >>> try:
    ...     load(path, cb)
    ... except DataError as error:
    ...     print(error.problems[["column", "rows", "problem"]].to_string())
      column    rows                                              problem
    0    rid  [3, 4]              1 ids appear more than once (2 records)
    1     q1     [3]  1 values outside the codebook options {1,2,3} (found [7])
    >>> folder.cleanup()
    """
    if not isinstance(codebook, Codebook):
        codebook = _cb.load(codebook)
    if source not in (None, "kobo", "odk", "file"):
        raise ValueError(f"source= must be None (detect), 'kobo', 'odk' or 'file', got {source!r}")
    probs = Problems(str(path))
    if hasattr(path, "read_raw"):  # a veplab.ingest.sql.SQLQuery: rows from a database, not a file
        raw = path.read_raw(problems=probs)
    else:
        raw = read_raw(path, encoding=encoding, delimiter=delimiter, sheet=sheet, problems=probs)
    if source != "file":
        from . import kobo

        if source in ("kobo", "odk") or kobo.detect(list(raw.frame.columns), codebook):
            raw = kobo.normalise(raw, codebook, problems=probs, unknown=unknown, path=path, sheet=sheet)
    try:
        return apply_codebook(raw, codebook, file=str(path), unknown=unknown, reverse=reverse, score=score,
                              on_error=on_error, privacy=privacy, problems=probs,
                              facility_columns=(facility_columns,) if isinstance(facility_columns, str)
                              else tuple(facility_columns or ()))
    finally:
        del raw
        _release_arrow_memory()


def _release_arrow_memory() -> None:
    """Hand the memory of the (dropped) raw text table back to the system.

    The file is read as Arrow-backed strings; Arrow's allocator keeps freed
    memory for reuse, so a national file would otherwise hold on to about a
    hundred megabytes of text it no longer needs in every process that loaded it.
    """
    import sys

    pa = sys.modules.get("pyarrow")
    if pa is not None:
        try:
            pa.default_memory_pool().release_unused()
        except Exception:  # an allocator without it: nothing to hand back
            pass
