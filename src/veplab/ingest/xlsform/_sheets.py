"""Reading an XLSForm workbook's sheets (.xlsx, .xls, .ods) into header-normalised rows."""

from __future__ import annotations

import dataclasses
import warnings as _warnings
from pathlib import Path
from typing import Any

from ._vocab import _CHOICE_ALIASES, _HEADER_ALIASES, _TRANSLATED


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
