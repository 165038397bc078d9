"""Readers for the formats field teams send: CSV, XLSX, SPSS .sav, Stata .dta,
Parquet.  A reader returns the raw table (values as found, nothing recoded)
plus what it learnt about the file; problems it meets become entries of the
problems table instead of tracebacks."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
import unicodedata
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from .problems import DataError, Problems

__all__ = ["RawTable", "read_raw", "detect_encoding", "FORMATS", "sha256_file"]

FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".sav": "sav",
    ".zsav": "sav",
    ".dta": "dta",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: Encodings tried, in order of preference, when a CSV is not UTF-8.
LEGACY_ENCODINGS = ("cp1256", "cp1251", "cp1252")


@dataclasses.dataclass
class RawTable:
    """A table as read from a file, before the codebook is applied."""

    frame: pd.DataFrame
    row_numbers: list[int]
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    value_labels: dict[str, dict[Any, str]] = dataclasses.field(default_factory=dict)
    user_missing: dict[str, list[Any]] = dataclasses.field(default_factory=dict)
    variable_labels: dict[str, str] = dataclasses.field(default_factory=dict)
    sha256: str = ""


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes (streamed), as 64 lowercase hexadecimal digits.

    What the build manifest and :class:`~veplab.data.load.LoadInfo` record
    for a data file, so that a report can be traced to the exact file it read.
    The file is read in 1 MiB chunks, so a national export never sits in memory.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        The hex digest.

    References
    ----------
    NIST (2015), FIPS 180-4, *Secure Hash Standard (SHS)*, section 6.2 (SHA-256).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "abc.txt"
    ...     _ = path.write_bytes(b"abc")
    ...     sha256_file(path)
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------ encodings


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    o = ord(ch)
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0xFB50 <= o <= 0xFEFF:
        return "arabic"
    if 0x0400 <= o <= 0x04FF:
        return "cyrillic"
    if o < 0x0250 or 0x1E00 <= o <= 0x1EFF:
        return "latin"
    return "other"


def _implausibility(text: str) -> float:
    """Score how unlike real text a decoding looks (lower is better).

    Counts words that mix scripts (Russian bytes read as cp1256 give Arabic
    letters mixed with accented Latin ones) and words with capitals inside
    (Arabic bytes read as cp1251 give mostly upper-case Cyrillic), per word."""
    words = re.findall(r"[^\W\d_]+", text)
    if not words:
        return 0.0
    bad = 0.0
    for w in words:
        scripts = {_script(c) for c in w} - {None}
        if len(scripts) > 1:
            bad += 1
        elif scripts == {"cyrillic"} and len(w) > 2:
            inner = w[1:]
            upper = sum(c.isupper() for c in inner)
            if upper and upper != len(inner):
                bad += 1
            elif upper == len(inner) and len(w) > 3:
                bad += 0.5
        if any(unicodedata.category(c) == "Lo" and _script(c) == "other" for c in w):
            bad += 1
    return bad / len(words)


def detect_encoding(data: bytes) -> str:
    r"""Guess the encoding of a CSV export.

    UTF-8 (with or without BOM) is taken when the bytes decode as UTF-8; a
    UTF-16 byte-order mark gives UTF-16.  Otherwise the legacy code pages
    field teams meet (cp1256 Arabic, cp1251 Cyrillic, cp1252 Western European)
    are each decoded and the decoding that reads most like real words wins:
    the one with the fewest words that mix scripts or have capitals inside,
    per word (Russian bytes read as cp1256 give Arabic letters mixed with
    accented Latin ones; Arabic bytes read as cp1251 give upper-case Cyrillic).

    Parameters
    ----------
    data : bytes
        The file's bytes (the first 256 KiB are scored).

    Returns
    -------
    str
        A Python codec name: ``"utf-8-sig"``, ``"utf-8"``, ``"utf-16"``,
        ``"cp1256"``, ``"cp1251"`` or ``"cp1252"``.

    Raises
    ------
    UnicodeError
        When no candidate encoding decodes the bytes.

    References
    ----------
    WHATWG (2024), *Encoding Standard*, https://encoding.spec.whatwg.org/
    (windows-1251, windows-1252 and windows-1256 code pages).
    The Unicode Consortium (2023), *The Unicode Standard, Version 15.1*,
    sections 3.9-3.10 (UTF-8, UTF-16 and the byte order mark).

    Examples
    --------
    >>> detect_encoding("Алматы".encode("cp1251"))
    'cp1251'
    >>> detect_encoding("القاهرة".encode("cp1256"))
    'cp1256'
    >>> detect_encoding("\ufeffrid,q1".encode("utf-8"))
    'utf-8-sig'
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    best, best_score = None, float("inf")
    sample = data[: 1 << 18]
    for enc in LEGACY_ENCODINGS:
        try:
            text = sample.decode(enc)
        except UnicodeDecodeError:
            continue
        score = _implausibility(text)
        if score < best_score - 1e-9:
            best, best_score = enc, score
    if best is None:
        raise UnicodeError("no candidate encoding decodes the file")
    return best


# ------------------------------------------------------------------ CSV


def _sniff_delimiter(text: str) -> str | None:
    """The delimiter that splits the header into the most fields while every
    following record (of the first 200) has as many fields; ties favour ','.

    More robust than :class:`csv.Sniffer` on survey exports, whose free-text
    answers hold commas, semicolons and quotes."""
    sample = "\n".join(text.splitlines()[:201])
    if not sample.strip():
        return None
    best: str | None = None
    best_score: tuple[int, float, int] = (0, 0.0, 0)
    for delim in ",;\t|":
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delim) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:-1] if len(rows) > 2 else rows[1:]  # the last sampled line may be cut
        consistent = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (1 if consistent >= 0.95 else 0, consistent, width)
        if best is None or score > best_score:
            best, best_score = delim, score
    return best


def _read_csv(path: Path, probs: Problems, encoding: str | None, delimiter: str | None) -> RawTable | None:
    data = path.read_bytes()
    if not data.strip():
        probs.add(None, "the file is empty", "export the data again; the file holds no header and no records")
        return None
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        probs.add(None, "the file is binary, not a text CSV",
                  "check the file: perhaps it is a spreadsheet (.xlsx) or SPSS file renamed to .csv")
        return None
    if encoding is None:
        try:
            encoding = detect_encoding(data)
        except UnicodeError:
            probs.add(None, "could not determine the text encoding",
                      "save the file as UTF-8 (Excel: 'CSV UTF-8'), or pass encoding=")
            return None
        if encoding not in ("utf-8", "utf-8-sig"):
            probs.add(None, f"the file is not UTF-8; it was read as {encoding}",
                      "check that Arabic/Cyrillic text reads correctly, or save as UTF-8", severity="warning")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        probs.add(None, f"the file cannot be decoded as {encoding}: {exc}",
                  "pass the right encoding= or save the file as UTF-8")
        return None
    text = text.lstrip("\ufeff")
    sniffed = _sniff_delimiter(text)
    if delimiter is None:
        delimiter = sniffed or ","
    # One pass with the csv module: every record's row number as a spreadsheet shows it
    # (blank lines count, a quoted newline does not start a row) and its number of fields.
    header_len: int | None = None
    numbers: list[int] = []
    short: list[int] = []
    long: list[int] = []
    trailing_empty = True
    try:
        for row_no, rec in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue  # a blank line (pandas skips it too)
            if header_len is None:
                header_len = len(rec)
                continue
            numbers.append(row_no)
            if len(rec) < header_len:
                short.append(row_no)
            elif len(rec) > header_len:
                long.append(row_no)
                trailing_empty = trailing_empty and all(not f.strip() for f in rec[header_len:])
    except csv.Error as exc:
        probs.add(None, f"the file cannot be parsed as {delimiter!r}-delimited text ({exc})",
                  "check the quoting (an opening quote without its closing quote?) and the delimiter")
        return None
    if header_len is None:
        probs.add(None, "the file is empty", "export the data again")
        return None
    if long and len(long) == len(numbers) and trailing_empty:
        probs.add(None, "every row ends with an extra, empty field (a delimiter after the last value); "
                  "it was ignored", "nothing to do, or export without the trailing delimiter", severity="warning")
        long = []
    if long:
        probs.add(None, f"{len(long)} rows have more fields than the {header_len} of the header",
                  "check the delimiter and quoting in those rows (a comma or quote inside a value?)", rows=long)
    if short:
        probs.add(None, f"{len(short)} rows have fewer fields than the {header_len} of the header "
                  "(a truncated or hand-edited export?)",
                  "export the file again, or complete those rows; no field is guessed", rows=short)
    if long or short:
        return None
    try:
        with warnings.catch_warnings():  # the extra fields pandas drops were checked empty above
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                                na_filter=False, skip_blank_lines=True, engine="c", index_col=False)
    except pd.errors.EmptyDataError:
        probs.add(None, "the file is empty", "export the data again")
        return None
    except pd.errors.ParserError as exc:
        probs.add(None, f"the file cannot be parsed ({str(exc).splitlines()[0][:120]})",
                  "check the delimiter and quoting; save the file again as CSV UTF-8")
        return None
    if len(frame) != len(numbers):  # the two parsers disagree (should not happen): number rows plainly
        numbers = list(range(2, len(frame) + 2))
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    if frame.shape[1] == 1 and sniffed and sniffed != delimiter:
        probs.add(frame.columns[0][:40], f"only one column found using delimiter {delimiter!r}, "
                  f"but the header looks {sniffed!r}-delimited",
                  f"pass delimiter={sniffed!r} (or leave delimiter unset to detect it)")
        return None
    return RawTable(frame=frame, row_numbers=numbers, format="csv", encoding=encoding, delimiter=delimiter)


# ------------------------------------------------------------------ others


def _read_xlsx(path: Path, probs: Problems, sheet: str | int | None) -> RawTable | None:
    # calamine (Rust) reads a workbook about 9x faster than openpyxl, with the same cell values and
    # types; anything it cannot read goes to openpyxl, whose errors the messages below explain.
    frame = None
    try:
        import python_calamine  # noqa: F401

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object,
                                  engine="calamine")
    except Exception:
        frame = None
    try:
        if frame is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object,
                                      engine="openpyxl")
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        msg = str(exc)
        if isinstance(exc, ValueError) and "Worksheet" in msg:
            probs.add(None, f"sheet {sheet!r} not found", "pass sheet= with one of the workbook's sheets")
        else:
            probs.add(None, f"not a readable .xlsx workbook ({type(exc).__name__})",
                      "open it in a spreadsheet program and save it again as .xlsx")
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    # Blank lines in spreadsheets read as all-NaN rows: keep their row numbers out.
    keep = ~frame.isna().all(axis=1)
    rows = [i + 2 for i, k in enumerate(keep) if k]
    frame = frame[keep].reset_index(drop=True)
    return RawTable(frame=frame, row_numbers=rows, format="xlsx")


def _read_stat(path: Path, probs: Problems, kind: str) -> RawTable | None:
    import pyreadstat

    reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
    try:
        frame, meta = reader(str(path), user_missing=True, apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises ReadstatError / PyreadstatError
        what = "SPSS" if kind == "sav" else "Stata"
        probs.add(None, f"the {what} file cannot be read ({exc}); it may be truncated or damaged",
                  f"export the {what} file again (File > Save As) and copy it whole")
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    user_missing: dict[str, list[Any]] = {}
    for col, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        vals = []
        for r in ranges:
            lo, hi = r.get("lo"), r.get("hi")
            vals.append(lo if lo == hi else (lo, hi))  # a value, or an SPSS missing range [lo, hi]
        user_missing[col] = vals
    rows = list(range(1, len(frame) + 1))
    return RawTable(frame=frame, row_numbers=rows, format=kind,
                    value_labels=dict(meta.variable_value_labels or {}),
                    user_missing=user_missing,
                    variable_labels={k: v for k, v in zip(meta.column_names, meta.column_labels) if v})


def _read_parquet(path: Path, probs: Problems) -> RawTable | None:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and friends
        probs.add(None, f"the Parquet file cannot be read ({type(exc).__name__}: {exc})",
                  "write the file again; it may be truncated")
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    named_index = any(n is not None for n in frame.index.names) or not isinstance(frame.index, pd.RangeIndex)
    if named_index:  # data written with df.set_index(...).to_parquet(): the index is a column of the data
        frame = frame.reset_index()
        frame.columns = [str(c).strip() for c in frame.columns]
    else:
        frame = frame.reset_index(drop=True)
    return RawTable(frame=frame, row_numbers=list(range(1, len(frame) + 1)), format="parquet")


def read_raw(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
    problems: Problems | None = None,
) -> RawTable:
    r"""Read a data file as it is (no codebook applied).

    The first half of :func:`veplab.data.load`.  A CSV's encoding and
    delimiter are detected (:func:`detect_encoding`; the delimiter among
    ``, ; TAB |`` that splits the header into the most fields while the
    records keep that many), every value is kept as text, and each record
    keeps its row number as a spreadsheet shows it (the header is row 1,
    blank lines count).  XLSX is read with python-calamine (openpyxl when it
    cannot); SPSS and Stata files keep their value labels and user-missing
    definitions; Parquet keeps its types.

    Parameters
    ----------
    path : str or Path
        The file; its extension names the format.
    encoding, delimiter : str, optional
        Override what is detected for a CSV.
    sheet : str or int, optional
        Worksheet of an XLSX (default the first).
    problems : Problems, optional
        Collector to add warnings and errors to.

    Returns
    -------
    RawTable
        ``frame`` (values as found), ``row_numbers``, ``format``,
        ``encoding``, ``delimiter``, ``value_labels``, ``user_missing``,
        ``variable_labels`` and the file's ``sha256``.

    Raises
    ------
    DataError
        When the file cannot be read at all (missing, empty, unknown type,
        ragged rows, duplicate or blank column names), listing every problem.

    References
    ----------
    Shafranovich, Y. (2005). RFC 4180, *Common Format and MIME Type for
    Comma-Separated Values (CSV) Files*.
    ECMA-376 (2021), *Office Open XML File Formats* (XLSX).
    IBM SPSS Statistics ``.sav`` and Stata ``.dta`` via ReadStat / pyreadstat
    (https://github.com/Roche/pyreadstat).
    Apache Parquet format specification (https://parquet.apache.org/docs/).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "export.csv"
    >>> _ = path.write_bytes("rid;q1;town\nr1;3;Алматы\n\nr2;2;Астана\n".encode("cp1251"))
    >>> raw = read_raw(path)
    >>> raw.encoding, raw.delimiter, raw.row_numbers
    ('cp1251', ';', [2, 4])
    >>> raw.frame
      rid q1    town
    0  r1  3  Алматы
    1  r2  2  Астана
    >>> _ = path.write_text("rid,q1\nr1,3\nr2\n", encoding="utf-8")
    >>> try:
    ...     read_raw(path)
    ... except DataError as error:
    ...     print(error.problems.loc[0, "problem"], error.problems.loc[0, "rows"])
    1 rows have fewer fields than the 2 of the header (a truncated or hand-edited export?) [3]
    >>> folder.cleanup()
    """
    path = Path(path)
    probs = problems if problems is not None else Problems(str(path))
    if not path.exists():
        probs.add(None, "file not found", "check the path (relative paths are relative to the study folder)")
        raise DataError(probs.frame())
    if path.is_dir():
        probs.add(None, "this is a folder, not a data file", "name the data file itself")
        raise DataError(probs.frame())
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        probs.add(None, f"unknown file type {path.suffix!r}",
                  f"use one of {', '.join(sorted(set(FORMATS)))}")
        raise DataError(probs.frame())
    if path.stat().st_size == 0:
        probs.add(None, "the file is empty (0 bytes)", "export the data again")
        raise DataError(probs.frame())
    if kind == "csv":
        raw = _read_csv(path, probs, encoding, delimiter)
    elif kind == "xlsx":
        raw = _read_xlsx(path, probs, sheet)
    elif kind in ("sav", "dta"):
        raw = _read_stat(path, probs, kind)
    else:
        raw = _read_parquet(path, probs)
    if raw is None:
        raise DataError(probs.frame())
    raw.sha256 = sha256_file(path)
    cols = list(raw.frame.columns)
    blank = [i + 1 for i, c in enumerate(cols) if not c or c.lower().startswith("unnamed:")]
    if blank:
        probs.add(None, f"header has {len(blank)} blank column name(s) at position(s) {blank}",
                  "give every column a name in the header row, or delete empty columns")
    dups = sorted({c for c in cols if cols.count(c) > 1 or re.fullmatch(r".+\.\d+", c) and c.rsplit('.', 1)[0] in cols})
    if dups:
        probs.add(", ".join(dups), "column names appear more than once in the header",
                  "rename the duplicated columns so each is unique")
    if len(raw.frame) == 0:
        probs.add(None, "the file has a header but no records", "export the data again with its records")
    if probs.errors:
        raise DataError(probs.frame())
    return raw
