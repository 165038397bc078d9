"""Find featured results in ``results.json`` by key and read numbers out of them.

Nothing here computes a statistic: a value, its interval and its ``n`` are
read as the notebooks published them (already through the disclosure gate).
The only arithmetic is a share of two published counts (``of:``), which
describes the sample and is shown without an interval.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ._i18n import BriefError

GROUPS = ("values", "tables", "figures")
_VALUE_COLUMNS = ("estimate", "value", "share", "mean", "rate", "proportion")
_N_COLUMNS = ("n", "n_pairs", "N", "count", "respondents")
TOTAL_LABELS = {"total", "all", "overall", "ensemble", "итого", "всего", "المجموع", "الجميع"}


def notebooks_of(results: Mapping[str, Any]) -> Mapping[str, Any]:
    """The per-notebook mapping of a results document (``results.json`` or its ``notebooks`` part)."""
    nbs = results.get("notebooks") if isinstance(results.get("notebooks"), Mapping) else None
    return nbs if nbs is not None else results


def available_keys(results: Mapping[str, Any], notebook: str | None = None) -> list[str]:
    out: list[str] = []
    for nb, groups in notebooks_of(results).items():
        if notebook is not None and nb != notebook:
            continue
        if not isinstance(groups, Mapping):
            continue
        for g in GROUPS:
            out.extend(f"{nb}.{g}.{k}" for k in (groups.get(g) or {}))
    return out


def resolve(results: Mapping[str, Any], key: object, where: str, *, want: Sequence[str] = GROUPS) -> dict[str, Any]:
    """The payload named ``notebook.group.key`` (or ``notebook.key``); a clear error otherwise."""
    if not isinstance(key, str) or "." not in key:
        raise BriefError(f"{where}: key {key!r} must read notebook.values.<key>, notebook.tables.<key> "
                         "or notebook.figures.<key> (as in results.json)")
    nbs = notebooks_of(results)
    nb, rest = key.split(".", 1)
    group, sep, name = rest.partition(".")
    groups = [group] if sep and group in GROUPS else [g for g in want]
    if not (sep and group in GROUPS):
        name = rest
    found = None
    if nb in nbs and isinstance(nbs[nb], Mapping):
        for g in groups:
            payload = (nbs[nb].get(g) or {}).get(name)
            if payload is not None:
                found = payload
                break
    if found is None:
        if nb in nbs:
            avail = available_keys(results, nb)
            scope = f"notebook {nb!r} published"
        else:
            avail = available_keys(results)
            scope = f"results.json has no notebook {nb!r} (notebooks: {', '.join(nbs) or 'none'}); available keys are"
        raise BriefError(f"{where}: featured result {key!r} does not exist; {scope}: "
                         + (", ".join(avail) if avail else "nothing"))
    kind = found.get("kind")
    allowed = {"values": "value", "tables": "table", "figures": "figure"}
    if kind not in {allowed[g] for g in want}:
        raise BriefError(f"{where}: {key!r} is a {kind}; this entry needs a "
                         + " or ".join(allowed[g] for g in want))
    return found


# --------------------------------------------------------------------------- tables as grids


@dataclasses.dataclass
class Grid:
    """A published table (or a figure's data) as rows x columns with a suppression mask."""

    key: str
    index: list[str]
    columns: list[str]
    data: list[list[Any]]
    suppressed: list[list[bool]]
    table_kind: str

    @classmethod
    def of(cls, payload: Mapping[str, Any], key: str) -> Grid:
        if payload.get("kind") == "figure":
            d = payload.get("data")
            if not d:
                raise BriefError(f"figure {key!r} has no data in results.json; feature the table it shows")
            values = d.get("values") or []
            sup = [[v is None for v in row] for row in values]
            return cls(key, [str(i) for i in d.get("index", [])], [str(c) for c in d.get("columns", [])],
                       values, sup, "figure")
        data = payload.get("data") or []
        sup = payload.get("suppressed") or [[False] * len(r) for r in data]
        return cls(key, [str(i) for i in payload.get("index", [])], [str(c) for c in payload.get("columns", [])],
                   data, sup, payload.get("table_kind") or "counts")

    def col(self, name: str, where: str) -> int:
        if name not in self.columns:
            raise BriefError(f"{where}: table {self.key!r} has no column {name!r}; columns: {self.columns}")
        return self.columns.index(name)

    def row_of(self, row: Any, where: str) -> int:
        """Row by index label, or by ``{column: value}`` matching (tidy tables)."""
        if row is None:
            if len(self.index) == 1:
                return 0
            raise BriefError(f"{where}: table {self.key!r} has {len(self.index)} rows; say which with row: "
                             f"(an index label: {self.index[:12]}) or row: {{column: value}}")
        if isinstance(row, Mapping):
            hits = self.rows_where(row, where)
            if len(hits) != 1:
                raise BriefError(f"{where}: row: {dict(row)} matches {len(hits)} rows of {self.key!r}; "
                                 "it must match exactly one")
            return hits[0]
        label = str(row)
        if label not in self.index:
            raise BriefError(f"{where}: table {self.key!r} has no row {label!r}; rows: {self.index}")
        return self.index.index(label)

    def rows_where(self, match: Mapping[str, Any], where: str) -> list[int]:
        cols = {c: self.col(str(c), where) for c in match}
        hits = []
        for i, row in enumerate(self.data):
            if all(_same(row[j], match[c]) and not self.suppressed[i][j] for c, j in cols.items()):
                hits.append(i)
        return hits

    def cell(self, i: int, j: int) -> float | None:
        """The published number at (i, j); None when suppressed, missing or not a number."""
        if self.suppressed[i][j]:
            return None
        return _num(self.data[i][j])

    def value_column(self, where: str) -> str | None:
        for c in _VALUE_COLUMNS:
            if c in self.columns:
                return c
        return None

    def n_column(self) -> str | None:
        for c in _N_COLUMNS:
            if c in self.columns:
                return c
        return None

    def ci_columns(self, value_col: str | None) -> tuple[str, str] | None:
        cands = [("ci_low", "ci_high"), ("lower", "upper")]
        if value_col:
            cands.insert(0, (f"{value_col}_ci_low", f"{value_col}_ci_high"))
        for lo, hi in cands:
            if lo in self.columns and hi in self.columns:
                return lo, hi
        return None


def _same(a: Any, b: Any) -> bool:
    if a is None:
        return b is None
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return na == nb
    return str(a) == str(b)


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def is_total(label: str) -> bool:
    return str(label).strip().lower() in TOTAL_LABELS


# --------------------------------------------------------------------------- featured numbers


@dataclasses.dataclass
class Number:
    """One featured number as published: value, interval, n (None = not published)."""

    key: str
    value: float | None
    low: float | None = None
    high: float | None = None
    n: float | None = None
    suppressed: bool = False
    fmt: str = "number"
    level: float | None = None  # confidence level of low/high, as published (Report.value's ci_level)


def withheld(payload: Mapping[str, Any]) -> bool:
    """A table or figure the disclosure gate did not publish (results.json keeps its reasons, no numbers)."""
    return payload.get("kind") in ("table", "figure") and "reasons" in payload and payload.get("data") is None


def featured_number(results: Mapping[str, Any], spec: Mapping[str, Any], where: str) -> Number:
    """Read the number a ``figures:`` (or ``methods.reliability``) entry points at."""
    payload = resolve(results, spec.get("key"), where)
    key = str(spec["key"])  # resolve() checked it is a notebook.group.key name
    fmt = spec.get("format")
    if withheld(payload):  # the whole table was withheld: the brief says so, as for a suppressed value
        return Number(key, None, suppressed=True,
                      fmt=fmt or ("count" if payload.get("table_kind") == "counts" else "number"))
    if payload["kind"] == "value":
        if spec.get("row") is not None or spec.get("column") is not None:
            raise BriefError(f"{where}: {key!r} is a single value; row:/column: apply to tables only")
        ci = payload.get("ci") or [None, None]
        suppressed = bool(payload.get("suppressed")) or payload.get("value") is None
        default_fmt = "count" if payload.get("value_kind") == "count" else "number"
        return Number(key, None if suppressed else _num(payload.get("value")),
                      None if suppressed else _num(ci[0]), None if suppressed else _num(ci[1]),
                      _num(payload.get("n")), suppressed, fmt or default_fmt, _num(payload.get("ci_level")))
    grid = Grid.of(payload, key)
    i = grid.row_of(spec.get("row"), where)
    col = spec.get("column") or grid.value_column(where)
    if col is None:
        raise BriefError(f"{where}: say which column of {key!r} to feature with column: "
                         f"(columns: {grid.columns})")
    j = grid.col(str(col), where)
    value = grid.cell(i, j)
    suppressed = grid.suppressed[i][j] or value is None
    of = spec.get("of")
    if of is not None:
        # a share of two published counts: describes the sample, no interval
        if not isinstance(of, Mapping):
            raise BriefError(f"{where}: of: must be {{row: ..., column: ...}} naming the denominator cell")
        di = grid.row_of(of.get("row", spec.get("row")), where)
        dj = grid.col(str(of.get("column", col)), where)
        den = grid.cell(di, dj)
        if suppressed or value is None or den is None or den <= 0:
            return Number(key, None, suppressed=True, fmt=fmt or "share")
        return Number(key, value / den, n=den, fmt=fmt or "share")
    lo = hi = None
    ci = spec.get("ci", "auto")
    if ci == "auto":
        ci = grid.ci_columns(str(col))
    if ci:
        if not isinstance(ci, Sequence) or isinstance(ci, str) or len(ci) != 2:
            raise BriefError(f"{where}: ci: must name two columns [low, high], got {ci!r}")
        lo, hi = grid.cell(i, grid.col(str(ci[0]), where)), grid.cell(i, grid.col(str(ci[1]), where))
    ncol = spec.get("n", "auto")
    if ncol == "auto":
        ncol = grid.n_column()
    n = grid.cell(i, grid.col(str(ncol), where)) if ncol else None
    default_fmt = "count" if grid.table_kind == "counts" else "number"
    if suppressed:
        return Number(key, None, suppressed=True, n=None, fmt=fmt or default_fmt)
    return Number(key, value, lo, hi, n, False, fmt or default_fmt)
