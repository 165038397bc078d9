"""Write the synthetic sources in the formats field teams send.

Byte-for-byte reproducible: the same frames give the same files (zip entry
times and workbook properties of .xlsx files, and the creation stamp of .sav
files, are fixed).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..codebook import Codebook

FIXED_TIME = (2026, 11, 21, 0, 0, 0)


def _integral(col: pd.Series) -> bool:
    if not pd.api.types.is_float_dtype(col.dtype):
        return False
    v = col.to_numpy()
    v = v[~np.isnan(v)]
    return bool(np.all(v == np.round(v)))


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-number float columns as nullable integers (blank when missing)."""
    out = frame.copy()
    for c in out.columns:
        if _integral(out[c]):
            out[c] = out[c].astype("Int64")
    return out


def write_csv(frame: pd.DataFrame, path: Path, *, excel: bool = False) -> None:
    """CSV; ``excel=True`` writes UTF-8 with BOM and CRLF line ends, as Excel's 'CSV UTF-8'."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = export_frame(frame).to_csv(index=False, lineterminator="\r\n" if excel else "\n", na_rep="")
    path.write_bytes(text.encode("utf-8-sig" if excel else "utf-8"))


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    ),
    "docProps/app.xml": (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>veplab synth</Application></Properties>"
    ),
    "docProps/core.xml": (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>veplab synth</dc:creator><dc:title>Synthetic demo data</dc:title>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">2026-11-21T00:00:00Z</dcterms:created>'
        '<dcterms:modified xsi:type="dcterms:W3CDTF">2026-11-21T00:00:00Z</dcterms:modified>'
        "</cp:coreProperties>"
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_NS}">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def _col_letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _xml_text(v: str) -> str:
    v = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", v)


def write_xlsx(frame: pd.DataFrame, path: Path, codebook: Codebook, *, sheet: str = "responses") -> None:
    """A one-sheet .xlsx workbook: codes as numbers, dates as date cells, text inline.

    Written directly as SpreadsheetML (ECMA-376) rather than through
    openpyxl, whose pure-Python cell writer takes seconds for national-size
    sheets; fixed timestamps make the file reproducible byte for byte.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    df = export_frame(frame)
    n = len(df)
    letters = [_col_letter(i) for i in range(df.shape[1])]
    rows_idx = np.arange(2, n + 2).astype(str)
    cells = []
    for j, col in enumerate(df.columns):
        item = codebook.item(col) if col in codebook else None
        refs = np.char.add(letters[j], rows_idx)
        s = df[col]
        if item is not None and item.type == "date":
            d = pd.to_datetime(s.replace("", None), format="ISO8601", errors="coerce")
            serial = (d - pd.Timestamp("1899-12-30")).dt.days
            vals = [None if pd.isna(v) else f'<c r="{r}" s="1"><v>{int(v)}</v></c>' for r, v in zip(refs, serial)]
        elif isinstance(s.dtype, pd.Int64Dtype):
            vals = [None if v is pd.NA else f'<c r="{r}"><v>{int(v)}</v></c>'
                    for r, v in zip(refs, s.to_numpy(dtype=object))]
        elif pd.api.types.is_float_dtype(s.dtype):
            vals = [None if np.isnan(v) else f'<c r="{r}"><v>{float(v)!r}</v></c>' for r, v in zip(refs, s.to_numpy())]
        else:
            vals = [None if (v is None or v is pd.NA or v == "") else
                    f'<c r="{r}" t="inlineStr"><is><t>{_xml_text(str(v))}</t></is></c>'
                    for r, v in zip(refs, s.to_numpy(dtype=object))]
        cells.append(vals)
    header = "".join(f'<c r="{letters[j]}1" t="inlineStr" s="2"><is><t>{_xml_text(str(c))}</t></is></c>'
                     for j, c in enumerate(df.columns))
    body = [f'<row r="1">{header}</row>']
    for i, row in enumerate(zip(*cells), start=2):
        body.append(f'<row r="{i}">' + "".join(c for c in row if c is not None) + "</row>")
    last = f"{letters[-1]}{n + 1}" if letters else "A1"
    sheet_xml = (
        _XML + f'<worksheet xmlns="{_NS}" xmlns:r="{_REL}"><dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        "<sheetData>" + "".join(body) + "</sheetData></worksheet>"
    )
    workbook_xml = (
        _XML + f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>'
        f'<sheet name="{_xml_text(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    parts = {**{k: _XML + v for k, v in _XLSX_PARTS.items()}, "xl/workbook.xml": workbook_xml,
             "xl/worksheets/sheet1.xml": sheet_xml}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "docProps/core.xml",
                     "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml"):
            zi = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, parts[name].encode("utf-8"))
    path.write_bytes(buf.getvalue())


def write_sav(frame: pd.DataFrame, path: Path, codebook: Codebook, *, lang: str = "en") -> None:
    """SPSS .sav with variable labels, value labels and user-missing codes (pyreadstat)."""
    import pyreadstat

    path.parent.mkdir(parents=True, exist_ok=True)
    df = frame.copy()
    labels, values, measure = [], {}, {}
    missing: dict[str, list[Any]] = {}  # pyreadstat: codes (or ranges) per column; list is invariant
    for col in df.columns:
        item = codebook.item(col) if col in codebook else None
        labels.append(item.text(lang) if item else col)
        if item is None:
            continue
        if item.type == "date":
            d = pd.to_datetime(pd.Series(df[col]).replace("", None), errors="coerce")
            df[col] = [None if pd.isna(v) else v.date() for v in d]
            continue
        if item.options:
            vl = {float(c): item.option_text(c, lang) for c in item.codes}
            for code, reason in item.missing.items():
                vl[float(code)] = reason.replace("_", " ")
            values[col] = vl
            measure[col] = "nominal" if item.type == "categorical" else "ordinal"
        if item.missing:
            missing[col] = [float(c) for c in sorted(item.missing)]
        if item.type in ("likert", "ordinal", "binary", "categorical", "numeric"):
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
        elif item.type == "text":
            df[col] = df[col].astype(object).where(df[col].notna(), "")
    pyreadstat.write_sav(df, str(path), column_labels=labels, variable_value_labels=values,
                         missing_ranges=missing, variable_measure=measure or None,
                         file_label="veplab synthetic demo data")
    _fix_sav_stamp(path)


def _fix_sav_stamp(path: Path) -> None:
    """Overwrite the creation date and time of the .sav header (bytes 92-108)."""
    data = bytearray(path.read_bytes())
    if data[:4] in (b"$FL2", b"$FL3"):
        data[92:101] = b"21 Nov 26"
        data[101:109] = b"00:00:00"
        path.write_bytes(bytes(data))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_json(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(obj), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
