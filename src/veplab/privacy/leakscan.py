"""Leak scan of built artefacts: no row-level data, ids or free text in what is published.

The disclosure gate protects the tables that go through the report helpers;
this scan is the net behind it.  It reads what the build wrote -- HTML
pages, ``results.json`` and other JSON, PDF briefs (text extracted with
``pdftotext`` from poppler-utils when installed), CSV, Markdown and text --
and reports:

``row_level_table``
    an HTML/CSV table or a JSON array (or object) of records with as many
    rows as a data source has respondents (error), or at least ``row_share``
    (default half) of them and at least ``threshold`` rows (warning: item
    tables of a small study can be that long; look at it);
``id_value``
    any value of ``ids`` (the study's pseudonyms or ids) -- error;
``pseudonym``
    any token in the veplab pseudonym format (``p_`` + 26 base32
    characters) -- error: pseudonyms are row-level keys;
``free_text``
    any free-text answer from ``free_text`` (compared after normalising case,
    punctuation and spaces; answers shorter than ``min_text_length``, default
    20 characters, are skipped as too common; an answer longer than 40
    characters is also found by its first 40, as a shortened display shows it) -- error.  In PDF text an answer
    in a right-to-left script is also found when ``pdftotext`` garbles it
    (ligature letters swapped, stray letters): 60 % of its word triples,
    compared as letter sets, must appear on the page;
``small_count``
    a cell of a column headed ``n``/``N``/``count``/``frequency`` in an HTML
    or CSV table holding a whole number between 1 and ``threshold - 1``
    (warning: the report helpers should have suppressed it);
``not_scanned``
    a file that could not be read (a PDF without ``pdftotext``, broken JSON)
    -- warning.

A table with a column of pseudonyms or ids is an error whatever its length:
that is the shape of a ``df.head()`` left in a notebook.

Every finding names the file, where in it (table index and caption, JSON
path, PDF page) and what was found -- **never the value itself**: values are
masked to their first two characters and length (``'p_…' (28 chars)``).

Examples
--------
>>> findings = scan_artifacts(["reports/demo"], n_records={"survey": 412},
...                           ids=set(frame["respondent_id"]))   # doctest: +SKIP
>>> [str(f) for f in findings if f.severity == "error"]          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from .._validate import InputError
from .pseudonyms import PSEUDONYM_PATTERN

__all__ = ["Finding", "scan_artifacts", "scan_html", "mask_value"]

_PSEUDO_ANY = re.compile(rf"(?<![A-Za-z0-9_]){PSEUDONYM_PATTERN}(?![A-Za-z0-9_])")
_TOKEN_RE = re.compile(r"[^\s,;:()\[\]{}<>\"'|=]+")
#: JSON paths of count-named fields that are not counts of people: the audit log's number of entries.
NOT_COUNTS: frozenset[str] = frozenset({"$.audit_head.count"})
#: ``file name:JSON path`` of arrays whose rows are not people, left out of the row-count check: the
#: release log's list of outputs and of files (one row per published output or file; its values are
#: still scanned for ids and free text).
NOT_ROWS: frozenset[str] = frozenset({"release.json:$.outputs", "release.json:$.files"})

_N_HEADERS = {"n", "count", "counts", "freq", "frequency", "number", "people", "respondents", "n respondents",
              "number of people", "n people", "cases", "n cases"}
#: A long free-text answer is also found by its first this many (normalised) characters.
PREFIX_LENGTH = 40
_SUFFIXES_HTML = {".html", ".htm", ".xhtml"}
_SUFFIXES_TEXT = {".txt", ".md", ".tex", ".rst"}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing the scan found (values masked)."""

    file: str
    location: str
    kind: str
    detail: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.file}: {self.location}: {self.detail}"


def mask_value(value: Any) -> str:
    """A masked form of a value: first two characters, an ellipsis and the length.

    The scan reports *where* a value was found, never the value: a finding
    would otherwise copy the leaked id or answer into the build log.  Values of
    up to four characters show no characters at all.

    Parameters
    ----------
    value:
        Anything (shown through ``str``).

    Returns
    -------
    str

    References
    ----------
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group (no row-level data, ids or small cells in outputs).
    Brandt M, Franconi L, Guerke C, Hundepool A, Lucarelli M, Mol J, Ritchie F, Seri G,
    Welpton R (2010). Guidelines for the checking of output based on microdata research.
    ESSnet SDC (Eurostat).
    docs/DESIGN.md, section "Privacy": raw notebook output is never published; every
    published output went through the disclosure gate.

    Examples
    --------
    >>> mask_value("p_whfx4f6yyfazahmlockmurl27a"), mask_value("abc")
    ("'p_…' (28 chars)", "'…' (3 chars)")
    """
    text = str(value)
    head = text[:2] if len(text) > 4 else ""
    return f"'{head}…' ({len(text)} chars)"


def _norm_text(text: str) -> str:
    """Case-folded, NFKC, punctuation to spaces, whitespace collapsed."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = "".join(ch if (ch.isalnum() or ch.isspace()) else " " for ch in t)
    return " ".join(t.split())


_RTL_RE = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})


def _rtl_words(text: str) -> list[str]:
    """Words reduced so that PDF extraction of right-to-left script still matches them.

    ``pdftotext`` gives Arabic words in reading order, but a ligature glyph
    (lam-alef, lam-alef maksura ...) comes out with its letters swapped
    ("إلى" as "إىل"), and a glyph with a mark may bring a stray letter.  Marks
    and format characters are dropped, alef/yeh/teh-marbuta variants folded,
    and each word in a right-to-left script becomes the sorted set of its
    letters; other words are kept as they are.
    """
    t = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) not in ("Mn", "Cf"))
    words = _norm_text(t.translate(_ARABIC_FOLD)).split()
    return ["".join(sorted(set(w))) if _RTL_RE.search(w) else w for w in words]


def _shingles(words: list[str], k: int = 3) -> set[tuple[str, ...]]:
    if len(words) <= k:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + k]) for i in range(len(words) - k + 1)}


#: Share of an answer's word triples that must appear on a PDF page for a right-to-left match.
RTL_MATCH_SHARE = 0.6


# ------------------------------------------------------------------ HTML parsing


class _Collector(HTMLParser):
    """Tables (with captions) and the text outside tables, including script bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict[str, Any]] = []
        self._stack: list[dict[str, Any]] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._in_style = 0
        self._pre: list[str] | None = None
        self.pre_blocks: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            t = {"caption": "", "rows": [], "header": [], "index": len(self.tables), "_row": None, "_row_th": True}
            self.tables.append(t)
            self._stack.append(t)
        elif tag == "tr" and self._stack:
            t = self._stack[-1]
            t["_row"] = []
            t["_row_th"] = True
        elif tag in ("td", "th") and self._stack:
            self._cell = []
            if tag == "td":
                self._stack[-1]["_row_th"] = False
        elif tag == "caption" and self._stack:
            self._caption = []
        elif tag == "style":
            self._in_style += 1
        elif tag == "pre":
            self._pre = []
        elif tag in ("br", "p", "div", "li"):
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._stack:
            t = self._stack.pop()
            t.pop("_row", None)
            t.pop("_row_th", None)
        elif tag == "tr" and self._stack:
            t = self._stack[-1]
            row = t.get("_row")
            if row is not None:
                (t["header"] if t.get("_row_th") and not t["rows"] else t["rows"]).append(row)
            t["_row"] = None
        elif tag in ("td", "th") and self._stack and self._cell is not None:
            t = self._stack[-1]
            if t.get("_row") is None:
                t["_row"] = []
            t["_row"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "caption" and self._caption is not None and self._stack:
            self._stack[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag == "style":
            self._in_style = max(0, self._in_style - 1)
        elif tag == "pre" and self._pre is not None:
            self.pre_blocks.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data: str) -> None:
        if self._in_style:
            return
        if not self._stack:
            self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)
        if self._pre is not None:
            self._pre.append(data)


# ------------------------------------------------------------------ the scanner


class _Scanner:
    def __init__(self, n_records: int | Mapping[str, int], ids: Iterable[Any], free_text: Iterable[Any],
                 threshold: int, row_share: float, min_text_length: int):
        if isinstance(n_records, Mapping):
            self.sources = {str(k): int(v) for k, v in n_records.items()}
        else:
            self.sources = {"data": int(n_records)}
        if not self.sources or any(v < 1 for v in self.sources.values()):
            raise InputError("n_records must be a positive number of respondents (or {source: n} with each n >= 1)")
        self.not_counts: frozenset[str] = NOT_COUNTS
        self.not_rows: frozenset[str] = NOT_ROWS
        self.ids = set()
        for v in ids:
            if v is None:
                continue
            s = str(v).strip()
            if len(s) < 4 or (s.isdigit() and len(s) < 6):
                continue  # too short to search for without false alarms
            self.ids.add(s.casefold())
        self.free = []
        for v in free_text:
            if v is None:
                continue
            t = _norm_text(str(v))
            if len(t) >= min_text_length:
                self.free.append(t)
        self.free = sorted(set(self.free))
        # right-to-left answers, as they can be matched in PDF text (see _rtl_words)
        self.free_rtl: dict[str, set[tuple[str, ...]]] = {}
        for v in free_text:
            if v is not None and _RTL_RE.search(str(v)) and len(_norm_text(str(v))) >= min_text_length:
                self.free_rtl[_norm_text(str(v))] = _shingles(_rtl_words(str(v)))
        self.threshold = threshold
        self.row_share = row_share
        self.findings: list[Finding] = []

    def add(self, file: str, location: str, kind: str, detail: str, severity: str = "error") -> None:
        self.findings.append(Finding(file, location, kind, detail, severity))

    # --- value-level checks on a text blob
    def text_checks(self, file: str, location: str, text: str, *, rtl: bool = False) -> None:
        """Pseudonyms, ids and free-text answers in ``text``; ``rtl``: also match right-to-left
        answers as PDF text extraction garbles them (see _rtl_words; RTL_MATCH_SHARE of word triples)."""
        if not text:
            return
        pseudos = _PSEUDO_ANY.findall(text)
        if pseudos:
            self.add(file, location, "pseudonym",
                     f"{len(pseudos)} pseudonym-like token(s), e.g. {mask_value(pseudos[0])}: pseudonyms are "
                     "row-level keys and must not be published")
        if self.ids:
            # numeric ids printed with thousands separators ("100,007") count too
            joined = re.sub(r"(?<=\d)[,\u202f\u00a0](?=\d{3}\b)", "", text)
            hits = [tok for tok in _TOKEN_RE.findall(joined) if tok.casefold().strip(".") in self.ids]
            if hits:
                self.add(file, location, "id_value",
                         f"{len(hits)} occurrence(s) of the study's ids, e.g. {mask_value(hits[0])}")
        if self.free:
            norm = _norm_text(text)
            # whole answers, and the opening of long ones (pandas shortens long text to 47 characters + '...')
            found = [f for f in self.free if f in norm or (len(f) > PREFIX_LENGTH and f[:PREFIX_LENGTH] in norm)]
            if rtl and self.free_rtl:
                page = _shingles(_rtl_words(text))
                found += [f for f, sh in self.free_rtl.items()
                          if f not in found and len(sh & page) >= max(1, math.ceil(RTL_MATCH_SHARE * len(sh)))]
            if found:
                self.add(file, location, "free_text",
                         f"{len(found)} free-text answer(s) appear verbatim, e.g. {mask_value(found[0])}")

    def row_count_check(self, file: str, location: str, nrows: int, what: str) -> None:
        for source, n in self.sources.items():
            label = f"source {source!r}" if len(self.sources) > 1 else "the data"
            if nrows == n:
                self.add(file, location, "row_level_table",
                         f"{what} has {nrows} rows, as many as {label} has records: row-level data?")
                return
            if nrows >= self.row_share * n and nrows >= self.threshold:
                self.add(file, location, "row_level_table",
                         f"{what} has {nrows} rows, {nrows / n:.0%} of the {n} records of {label}: check it "
                         "holds no row-level data", severity="warning")
                return

    def table_checks(self, file: str, location: str, header: list[list[str]], rows: list[list[str]]) -> None:
        self.row_count_check(file, location, len(rows), "table")
        if not rows:
            return
        width = max(len(r) for r in rows)
        # a column (mostly) of pseudonyms or ids: the shape of df.head()
        for j in range(width):
            col = [r[j] for r in rows if j < len(r) and r[j]]
            if not col:
                continue
            key_like = sum(1 for v in col if _PSEUDO_ANY.fullmatch(v) or v.casefold() in self.ids)
            if key_like and key_like >= 0.5 * len(col):
                self.add(file, location, "row_level_table",
                         f"column {j + 1} of the table holds {key_like} pseudonyms or ids (one row per person: "
                         "a df.head()-style listing?)")
        # unsuppressed small counts under n/count headers
        n_columns: dict[int, str] = {}
        for head in header:
            offset = width - len(head) if len(head) < width else 0
            for jj, h in enumerate(head):
                if _norm_text(h) in _N_HEADERS:
                    n_columns.setdefault(jj + offset, h)
        if n_columns:
            for j, h in sorted(n_columns.items()):
                small = 0
                for r in rows:
                    if j < len(r):
                        v = r[j].replace(",", "").replace("\u202f", "").strip()
                        if re.fullmatch(r"\d+(?:\.0+)?", v) and 0 < float(v) < self.threshold:
                            small += 1
                if small:
                    self.add(file, location, "small_count",
                             f"column {h!r} shows {small} count(s) below the threshold of {self.threshold} "
                             "without suppression", severity="warning")

    # --- file types
    def scan_html(self, file: str, html: str) -> None:
        parser = _Collector()
        try:
            parser.feed(html)
            parser.close()
        except Exception as exc:  # pragma: no cover - html.parser is very lenient
            self.add(file, "file", "not_scanned", f"HTML could not be parsed ({type(exc).__name__})", "warning")
            return
        for t in parser.tables:
            cap = f" (caption: {t['caption'][:60]!r})" if t["caption"] else ""
            loc = f"table {t['index'] + 1}{cap}"
            self.table_checks(file, loc, t["header"], t["rows"])
            cells = "\n".join(" ".join(r) for r in t["header"] + t["rows"])
            self.text_checks(file, loc, cells)
        for k, block in enumerate(parser.pre_blocks):
            lines = [ln for ln in block.splitlines() if ln.strip()]
            self.row_count_check(file, f"text block {k + 1}", max(0, len(lines) - 1), "preformatted text block")
        # text outside tables (including script data such as embedded chart data)
        self.text_checks(file, "page text", "".join(parser.text))

    def scan_json(self, file: str, text: str) -> None:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            self.add(file, "file", "not_scanned", f"not valid JSON ({exc.msg} at line {exc.lineno})", "warning")
            return
        strings: list[tuple[str, str]] = []

        def walk(node: Any, path: str) -> None:
            if isinstance(node, list):
                if node and all(isinstance(x, (dict, list)) for x in node) \
                        and f"{os.path.basename(file)}:{path}" not in self.not_rows:
                    self.row_count_check(file, path, len(node), "JSON array")
                for i, x in enumerate(node):
                    walk(x, f"{path}[{i}]")
            elif isinstance(node, dict):
                if len(node) >= self.threshold:
                    self.row_count_check(file, path, len(node), "JSON object")
                for k, v in node.items():
                    strings.append((path, str(k)))
                    if (_norm_text(str(k)) in _N_HEADERS and isinstance(v, (int, float)) and not isinstance(v, bool)
                            and 0 < v < self.threshold and f"{path}.{k}" not in self.not_counts):
                        small.append(f"{path}.{k}")
                    walk(v, f"{path}.{k}")
            elif isinstance(node, str):
                strings.append((path, node))
            elif isinstance(node, int) and not isinstance(node, bool) and abs(node) >= 1000:
                strings.append((path, str(node)))  # numeric ids are compared like text ids

        small: list[str] = []
        walk(obj, "$")
        if small:
            self.add(file, small[0], "small_count",
                     f"{len(small)} count field(s) below the threshold of {self.threshold} (first at {small[0]}); "
                     "publish them as suppressed", severity="warning")
        # value checks, reported at the first path where each kind shows up
        by_path: dict[str, list[str]] = {}
        for path, s in strings:
            by_path.setdefault(path, []).append(s)
        seen: set[tuple[str, str]] = set()
        for path, items in by_path.items():
            start = len(self.findings)
            self.text_checks(file, path, "\n".join(items))
            new = self.findings[start:]
            keep = []
            for f in new:
                key = (f.kind, _json_parent(path))
                if key in seen:
                    continue
                seen.add(key)
                keep.append(f)
            self.findings[start:] = keep

    def scan_csv(self, file: str, text: str) -> None:
        import csv
        import io

        rows = list(csv.reader(io.StringIO(text)))
        header, body = (rows[:1], rows[1:]) if rows else ([], [])
        self.table_checks(file, "table", header, body)
        self.text_checks(file, "file", text)

    def scan_pdf(self, file: str, path: Path) -> None:
        exe = shutil.which("pdftotext")
        if exe is None:
            msg = f"{file}: PDF not scanned (pdftotext from poppler-utils is not installed)"
            warnings.warn(msg, stacklevel=3)
            self.add(file, "file", "not_scanned", "PDF not scanned: install poppler-utils (pdftotext)", "warning")
            return
        try:
            # reading order (not -layout): columns of text are not interleaved line by line
            out = subprocess.run([exe, "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=120,
                                 check=True)
        except (subprocess.SubprocessError, OSError) as exc:
            self.add(file, "file", "not_scanned", f"pdftotext failed ({type(exc).__name__})", "warning")
            return
        text = out.stdout.decode("utf-8", errors="replace")
        for k, page in enumerate(text.split("\f")):
            if page.strip():
                self.text_checks(file, f"page {k + 1}", page, rtl=True)


def _json_parent(path: str) -> str:
    """A JSON path with array indices removed (one finding per array of records)."""
    return re.sub(r"\[\d+\]", "[]", path)


def _expand(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(x for x in p.rglob("*") if x.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"scan_artifacts: {str(p)!r} does not exist")
    return out


def scan_artifacts(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    n_records: int | Mapping[str, int],
    ids: Iterable[Any] = (),
    free_text: Iterable[Any] = (),
    threshold: int = 10,
    row_share: float = 0.5,
    min_text_length: int = 20,
    not_counts: Iterable[str] = NOT_COUNTS,
    not_rows: Iterable[str] = NOT_ROWS,
) -> list[Finding]:
    """Scan built artefacts (files or folders) for row-level data; return the findings.

    The net behind the disclosure gate (see the module docstring for each
    kind of finding): tables or JSON arrays with as many rows as a data source
    has records, any id or pseudonym, any free-text answer verbatim, and
    unsuppressed small counts under ``n``/``count`` headers.

    Parameters
    ----------
    paths : files or folders (scanned recursively): ``.html``/``.htm``,
        ``.json``, ``.pdf``, ``.csv``, ``.txt``/``.md``; other files are skipped.
    n_records : number of records of the data source (or ``{source: n}``).
    ids : the study's ids and pseudonyms (none may appear in any artefact).
    free_text : free-text answers (none may appear verbatim).
    threshold : the study's disclosure threshold (small-count check; minimum
        length of a suspicious table).
    row_share : tables with at least this share of a source's records are
        reported (warning; an exact match is an error).
    min_text_length : free-text answers shorter than this (after
        normalising) are not searched for.
    not_counts : JSON paths (``$.a.b``) of count-named fields that do not
        count people and are not checked against the threshold; default the
        audit log's entry count in ``manifest.json``/``release.json``.
    not_rows : ``file name:JSON path`` of arrays whose rows are not people, left out
        of the row-count check (their values are still scanned); default the
        release log's ``outputs`` and ``files`` lists (one row per output or file).

    Returns
    -------
    list of Finding
        Empty when clean; the caller decides -- a release should stop on any
        ``severity == "error"``.  Messages never contain the values found.

    Raises
    ------
    InputError
        A path that does not exist, a threshold below 3, ``row_share`` outside
        (0, 1], or ``n_records`` below 1.

    References
    ----------
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group (no row-level data, ids or small cells in outputs).
    Brandt M, Franconi L, Guerke C, Hundepool A, Lucarelli M, Mol J, Ritchie F, Seri G,
    Welpton R (2010). Guidelines for the checking of output based on microdata research.
    ESSnet SDC (Eurostat).
    docs/DESIGN.md, section "Privacy": raw notebook output is never published; every
    published output went through the disclosure gate.
    Bray T (ed.) (2017). RFC 8259: The JavaScript Object Notation (JSON) Data Interchange
    Format. IETF.
    Shafranovich Y (2005). RFC 4180: Common Format and MIME Type for Comma-Separated Values
    (CSV) Files. IETF.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> answer = "I talked with the imam after Friday prayer"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "results.json").write_text(json.dumps(
    ...         {"groups": [{"group": "A", "n": 40}, {"group": "B", "n": 4}], "quote": answer}))
    ...     findings = scan_artifacts(d, n_records=300, free_text=[answer])
    >>> for f in findings:
    ...     print(f.kind, f.severity, f.location)
    small_count warning $.groups[1].n
    free_text error $.quote
    """
    from .disclosure import check_threshold

    threshold = check_threshold(threshold)
    if not 0 < row_share <= 1:
        raise InputError(f"row_share must be in (0, 1], got {row_share!r}")
    sc = _Scanner(n_records, ids, free_text, threshold, row_share, min_text_length)
    sc.not_counts = frozenset(not_counts)
    sc.not_rows = frozenset(not_rows)
    for path in _expand(paths):
        suffix = path.suffix.lower()
        file = str(path)
        if suffix == ".pdf":
            sc.scan_pdf(file, path)
            continue
        if suffix not in _SUFFIXES_HTML | _SUFFIXES_TEXT | {".json", ".csv"}:
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            sc.add(file, "file", "not_scanned", f"could not be read ({type(exc).__name__})", "warning")
            continue
        if suffix in _SUFFIXES_HTML:
            sc.scan_html(file, text)
        elif suffix == ".json":
            sc.scan_json(file, text)
        elif suffix == ".csv":
            sc.scan_csv(file, text)
        else:
            sc.text_checks(file, "text", text)
    return sc.findings


def scan_html(html: str, *, n_records: int | Mapping[str, int], ids: Iterable[Any] = (),
              free_text: Iterable[Any] = (), threshold: int = 10, file: str = "<html>") -> list[Finding]:
    """:func:`scan_artifacts` on an HTML string (for report helpers that check a page before writing it).

    The page's tables (with their captions), preformatted blocks and the text
    outside tables (script data included) are checked as
    :func:`scan_artifacts` checks an ``.html`` file, with ``row_share`` 0.5 and
    free-text answers of at least 20 characters.

    Parameters
    ----------
    html:
        The page.
    n_records, ids, free_text, threshold:
        As for :func:`scan_artifacts`.
    file:
        Name used in the findings.

    Returns
    -------
    list of Finding

    References
    ----------
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group (no row-level data, ids or small cells in outputs).
    Brandt M, Franconi L, Guerke C, Hundepool A, Lucarelli M, Mol J, Ritchie F, Seri G,
    Welpton R (2010). Guidelines for the checking of output based on microdata research.
    ESSnet SDC (Eurostat).
    docs/DESIGN.md, section "Privacy": raw notebook output is never published; every
    published output went through the disclosure gate.
    WHATWG. HTML Living Standard, section 4.9 (tabular data: ``table``, ``caption``, ``tr``,
    ``th``, ``td``).

    Examples
    --------
    A ``df.head()``-style listing of synthetic pseudonyms, and a table with a small count:

    >>> from veplab.privacy.pseudonyms import pseudonym
    >>> ids = [pseudonym(f"R{i:04d}", bytes(range(32))) for i in range(12)]
    >>> rows = "".join(f"<tr><td>{p}</td><td>{i % 5 + 1}</td></tr>" for i, p in enumerate(ids))
    >>> page = f"<table><caption>Listing</caption><tr><th>id</th><th>q1</th></tr>{rows}</table>"
    >>> sorted({f.kind for f in scan_html(page, n_records=12, ids=ids)})
    ['id_value', 'pseudonym', 'row_level_table']
    >>> page = "<table><tr><th>prison</th><th>n</th></tr><tr><td>A</td><td>40</td></tr><tr><td>B</td><td>4</td></tr></table>"
    >>> print(scan_html(page, n_records=300)[0])
    warning: <html>: table 1: column 'n' shows 1 count(s) below the threshold of 10 without suppression
    """
    from .disclosure import check_threshold

    sc = _Scanner(n_records, ids, free_text, check_threshold(threshold), 0.5, 20)
    sc.scan_html(file, html)
    return sc.findings
