"""The release step of ``veplab build``: default-deny pages, linked tables, approvals, release log.

Output checking as trusted research environments do it (ACRO/SACRO; Hundepool
et al. 2012, ch. 5): every output is recorded with its status and the rule
applied, and anything the tool cannot check waits for a person.

1. **Default deny.**  A page is rendered only from the notebook's static
   Markdown cells and the result payloads of :class:`veplab.report.Report`
   (their HTML is made again here from the payload: what the notebook
   displayed is never copied).  Printed output, ``display()`` of plain
   objects, errors, warnings and images made any other way are withheld; the
   page says where and how many.
2. **Every payload is checked again** (:func:`verify`): published counts and
   the ``n`` of published rows and values are at least the threshold; a
   value without ``n``, a model table without its people and a figure
   without its data are held for review.
3. **Linked tables** (:func:`protect_linked`).  Counts and stats tables published
   with ``data=``/``by=`` know the records behind each cell (a stats table's
   cells are its ``n`` column; a row hidden for linked tables is hidden whole).  Across the whole
   build, records are grouped into *atoms* (records in exactly the same
   published cells); every published cell is a sum of atoms.  Two published
   cells whose people are nested and differ by between 1 and ``threshold - 1``
   people give that small group away (everyone and men by prison: the women),
   and so does a suppressed cell of 1 to ``threshold - 1`` people that the
   published cells determine exactly (no direction in the null space of the
   cell-by-atom system moves it; the certification
   :func:`veplab.privacy.is_protected` uses for one table).  Either way a
   further cell is suppressed -- the smallest published inner cell involved
   -- until none is.  The gate assumes the reader knows which combinations
   of cells are empty, which can only suppress more, never less.  Tables without ``data=`` are compared by their labels: two tables
   with the same grouping whose same-labelled counts differ by between 1 and
   ``threshold - 1`` (everyone and men, by prison) hold the later one for
   review.
4. **Approvals.**  Outputs held for review are published only when
   ``research/<study>/approvals.yml`` names them::

       approvals:
         - output: outcomes/tables/power      # notebook/tables|figures|values/key
           reason: "simulated power curve: no respondent data"
           approved_by: "A. Researcher"
           date: 2026-12-01

   Each approval used is written to the audit log.
5. **Release log.**  ``release.json`` lists every output: where it is, the
   rule, its status (``published``, ``published with suppressed cells``,
   ``refused``, ``withheld for review``, ``approved``, ``withheld``) and the
   smallest n behind it, every withheld raw output, and every file of the
   report; a build refuses to publish a folder holding anything else.
"""

from __future__ import annotations

import dataclasses
import html as _html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .report import RESULT_MIME
from .report.gate import fill_text
from .report.render import render_markdown, render_payload, withheld_note

__all__ = ["Output", "ApprovalError", "page_blocks", "verify", "protect_linked", "load_approvals",
           "apply_approvals", "render_blocks", "public_payload", "STATUS_TEXT"]

GROUPS = {"table": "tables", "figure": "figures", "value": "values", "text": "texts"}

STATUS_TEXT = {
    "ok": "published",
    "suppressed": "published with suppressed cells",
    "review": "withheld for review",
    "refused": "refused",
    "withheld": "withheld",
    "approved": "approved",
}


class ApprovalError(ValueError):
    """A malformed ``approvals.yml``; the message names the entry."""


@dataclasses.dataclass
class Output:
    """One gated output of one notebook, as the release step sees it."""

    notebook: str
    payload: dict[str, Any]
    status: str
    reasons: list[str]
    approval: Mapping[str, Any] | None = None

    @property
    def group(self) -> str:
        return GROUPS.get(str(self.payload.get("kind")), "other")

    @property
    def key(self) -> str:
        return str(self.payload.get("key"))

    @property
    def id(self) -> str:
        return f"{self.notebook}/{self.group}/{self.key}"

    @property
    def published(self) -> bool:
        return self.status in ("ok", "suppressed", "approved")


# ------------------------------------------------------------------ collecting


def page_blocks(nb: Any, notebook: str) -> tuple[list[tuple[str, Any]], list[Output], int]:
    r"""The page of one executed notebook as blocks, its outputs, and how many raw outputs were withheld.

    Blocks: ``("markdown", source)``, ``("output", Output)``, ``("withheld", count)``.

    Default deny: only display outputs carrying a veplab result payload
    (MIME type ``application/vnd.veplab.result+json``, made by
    :class:`veplab.report.Report`) become outputs; everything else a code
    cell shows (prints, plain tables, images, errors) is counted as withheld.

    Parameters
    ----------
    nb : NotebookNode
        The executed notebook (nbformat 4).
    notebook : str
        Its name (the first part of every output's id).

    Returns
    -------
    (list, list of Output, int)

    References
    ----------
    Griffiths, E. et al. (2019). *Handbook on Statistical Disclosure Control
    for Outputs*. Safe Data Access Professionals Working Group (default-deny
    output checking).
    Jupyter nbformat 4 specification (cells and output types),
    https://nbformat.readthedocs.io/en/latest/format_description.html.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
    >>> value = {"kind": "value", "key": "mean_age", "value": 34.2, "n": 120, "status": "ok",
    ...          "caption": "Mean age", "value_kind": "mean"}
    >>> cell = new_code_cell("rep.value(...)")
    >>> cell.outputs = [new_output("stream", name="stdout", text="a raw print\n"),
    ...                 new_output("display_data", data={RESULT_MIME: value, "text/plain": "34.2"})]
    >>> blocks, outputs, withheld = page_blocks(new_notebook(cells=[new_markdown_cell("# Overview"), cell]),
    ...                                         "overview")
    >>> [kind for kind, _ in blocks], [o.id for o in outputs], withheld
    (['markdown', 'withheld', 'output'], ['overview/values/mean_age'], 1)
    """
    blocks: list[tuple[str, Any]] = []
    outputs: list[Output] = []
    withheld_total = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            blocks.append(("markdown", cell.source))
            continue
        if cell.cell_type != "code":
            continue
        withheld = 0
        for o in cell.get("outputs", []):
            data = o.get("data") or {}
            payload = data.get(RESULT_MIME) if o.get("output_type") in ("display_data", "execute_result") else None
            if isinstance(payload, str):
                import json

                try:
                    payload = json.loads(payload)
                except ValueError:
                    payload = None
            if isinstance(payload, Mapping) and payload.get("kind") in GROUPS and payload.get("key"):
                if withheld:
                    blocks.append(("withheld", withheld))
                    withheld_total += withheld
                    withheld = 0
                out = Output(notebook, dict(payload), "ok", [])
                outputs.append(out)
                blocks.append(("output", out))
            else:
                withheld += 1
        if withheld:
            blocks.append(("withheld", withheld))
            withheld_total += withheld
    return blocks, outputs, withheld_total


# ------------------------------------------------------------------ checks


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return None if v != v else float(v)
    return None


def _small(v: Any, threshold: int) -> bool:
    x = _num(v)
    return x is not None and 0 < x < threshold


def _count_cols(columns: Sequence[Any]) -> list[int]:
    from .privacy.disclosure import count_columns

    names = [str(c) for c in columns]
    cc = set(count_columns(names))
    return [j for j, c in enumerate(names) if c in cc]


def verify(payload: Mapping[str, Any], threshold: int, *,
           n_records: Mapping[str, int] | None = None) -> tuple[str, list[str]]:
    """Check a payload again, whatever the notebook said: ``(status, reasons)``.

    The status is the stricter of the notebook's and this check's.
    ``n_records`` (records per data source): a table or figure with about as
    many rows as a source has records (90 % or more, at least 20 rows) is
    row-level data and is refused.

    Rules (``threshold`` t, the study's minimum cell size): a counts table
    with an unsuppressed count ``0 < n < t``, a statistics or model table whose
    ``n`` column holds such a count, a count value below t, a value resting on
    fewer than t people, or a figure whose data hold such a count is
    *refused*; a value without ``n``, a model table that does not say which
    people it rests on, and a figure without its data are *held for review*.

    Parameters
    ----------
    payload : mapping
        A result payload of :class:`veplab.report.Report`.
    threshold : int
    n_records : mapping of str to int, optional

    Returns
    -------
    (str, list of str)
        ``"ok"``, ``"review"``, ``"refused"`` or ``"withheld"``, and why.

    References
    ----------
    Griffiths, E. et al. (2019). *Handbook on Statistical Disclosure Control
    for Outputs*. Safe Data Access Professionals Working Group (threshold
    rule; rules-based output checking).
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley,
    chapter 5 (frequency tables: the threshold rule).

    Examples
    --------
    >>> table = {"kind": "table", "key": "by_prison", "table_kind": "counts", "columns": ["n"],
    ...          "index": ["P1", "P2"], "data": [[12], [4]], "status": "ok"}
    >>> verify(table, 10)
    ('refused', ["row 2 column 'n' publishes a count below 10"])
    >>> verify({"kind": "value", "key": "mean_age", "value": 34.2, "status": "ok"}, 10)
    ('review', ['a value that does not say how many people it rests on'])
    """
    reasons = list(payload.get("reasons") or [])
    status = str(payload.get("status") or "review")
    if status not in ("ok", "review", "refused", "withheld"):
        status, reasons = "review", reasons + [f"unknown status {status!r}"]
    kind = payload.get("kind")
    bad: list[str] = []
    if kind == "table":
        tkind = payload.get("table_kind")
        rows = payload.get("data") or []
        mask = payload.get("suppressed") or [[False] * len(r) for r in rows]
        cols = payload.get("columns") or []
        if tkind == "counts":
            check_cols = list(range(len(cols)))
        elif tkind in ("stats", "model"):
            ncol = payload.get("n_column")
            names = [ncol] if isinstance(ncol, str) else list(ncol or [])
            exempt = set(payload.get("not_people") or []) - set(names)
            check_cols = sorted({cols.index(c) for c in names if c in cols}
                                | {j for j in _count_cols(cols) if cols[j] not in exempt})
            if tkind == "stats" and not names:
                bad.append("a statistics table without its n column")
        elif tkind == "magnitude":
            check_cols = []
        else:
            check_cols = []
            bad.append(f"unknown table kind {tkind!r}")
        for i, row in enumerate(rows):
            for j in check_cols:
                if j < len(row) and not mask[i][j] and _small(row[j], threshold):
                    bad.append(f"row {i + 1} column {cols[j]!r} publishes a count below {threshold}")
                    break
        if tkind == "model" and payload.get("n_column") is None and payload.get("min_n") is None and \
                status == "ok":
            status, reasons = "review", reasons + ["a model table that does not say which people it rests on"]
    elif kind == "value":
        n = payload.get("n")
        if payload.get("value") is not None:
            if payload.get("value_kind") == "count":
                if _small(payload.get("value"), threshold):
                    bad.append(f"a count below {threshold}")
            elif n is None and status == "ok":
                status, reasons = "review", reasons + ["a value that does not say how many people it rests on"]
            if _small(n, threshold):
                bad.append(f"a value resting on fewer than {threshold} people")
    elif kind == "figure":
        d = payload.get("data")
        if d is None and status == "ok":
            status, reasons = "review", reasons + ["a figure without the data it draws"]
        elif d is not None:
            cc = _count_cols(d.get("columns") or [])
            for row in d.get("values") or []:
                if any(j < len(row) and _small(row[j], threshold) for j in cc):
                    bad.append(f"the figure's data hold a count below {threshold}")
                    break
    elif kind == "text":
        pass  # filled in again from the final values by render_blocks
    nrows = len(payload.get("data") or []) if kind == "table" else \
        len((payload.get("data") or {}).get("values") or []) if kind == "figure" else 0
    for source, n in (n_records or {}).items():
        if n >= 20 and nrows >= 0.9 * n:
            bad.append(f"{nrows} rows for the {n} records of source {source!r}: one row per person")
            break
    if bad:
        status = "refused"
        reasons += bad
    return status, reasons


#: A count stated in a caption or note: "n = 5", "(N=5)", "5 women", "5 people" ...
_STATED_COUNT = __import__("re").compile(
    r"(?:\b[nN]\s*[=:]\s*(\d[\d,\u202f\u00a0]*)|(?<![\d.,])(\d{1,3})(?![\d.,]\d)\s+(?:people|persons?|women|men|"
    r"prisoners?|inmates?|respondents?|cases?|records?|officers?|staff|individuals?|participants?|girls?|boys?|"
    r"femmes?|hommes?|détenus?|personnes?|человек|женщин\w*|мужчин\w*|заключ\w*))", 
    __import__("re").IGNORECASE)


def check_caption(payload: dict[str, Any], threshold: int) -> list[str]:
    """Captions and notes are run-time text too: one stating a count of people between 1 and
    ``threshold - 1`` ("(n=5)", "5 women") is replaced by a notice.  Returns what was replaced."""
    replaced = []
    for field in ("caption", "note"):
        text = payload.get(field)
        if not isinstance(text, str):
            continue
        small = [a or b for a, b in _STATED_COUNT.findall(text)
                 if 0 < int((a or b).replace(",", "").replace("\u202f", "").replace("\u00a0", "")) < threshold]
        if small:
            payload[field] = f"({field} withheld: it states a number below the disclosure threshold)"
            replaced.append(field)
    return replaced


# ------------------------------------------------------------------ linked tables


def _member_cells(out: Output) -> list[tuple[int, int, np.ndarray, bool, bool]]:
    """(row, col, record keys, published, is_margin) of each cell of a counts table with members."""
    p = out.payload
    m = p["_members"]
    ids = np.asarray(m["ids"], dtype=np.int64)
    row = np.asarray(m["row"], dtype=np.int64)
    col = np.asarray(m["col"], dtype=np.int64)
    rt, ct = m.get("row_total"), m.get("col_total")
    mask = p.get("suppressed") or []
    nrows, ncols = len(p.get("index") or []), len(p.get("columns") or [])
    cells = []
    inner_c = list(m.get("inner_cols") or [])
    for i in range(nrows):
        for j in range(ncols):
            if i == rt and j == ct:
                sel = np.ones(len(ids), dtype=bool)
            elif i == rt:
                sel = col == j
            elif j == ct:
                sel = row == i
            elif j in inner_c:
                sel = (row == i) & (col == j)
            else:
                continue
            hidden = bool(mask[i][j]) if i < len(mask) and j < len(mask[i]) else False
            cells.append((i, j, ids[sel], not hidden, i == rt or j == ct))
    return cells


def protect_linked(outputs: Sequence[Output], threshold: int, *, max_rounds: int = 200,
                   groupings: set[str] | None = None) -> list[str]:
    """Protect counts tables that share people across the build (see module docstring).

    Changes the payloads of the tables concerned (more cells suppressed) and
    returns one sentence per change for the build log.  ``groupings``: names
    and labels of the study's variables; tables without members are compared
    only when their rows are one of them (None: any named grouping).

    Tables that know their records (published with ``data=``/``by=``): every
    published cell ``c`` is a sum of atoms, ``c = A x`` over the atom counts
    ``x``; a suppressed cell with ``0 < n < threshold`` that the published
    cells determine exactly (no direction of the null space of ``A`` moves
    it), or two nested published cells that differ by ``0 < d < threshold``,
    makes a further cell be suppressed, until none does.  Tables without their
    records are compared by their labels and the later one is held for review.

    Parameters
    ----------
    outputs : sequence of Output
        Every output of the build (payloads are changed in place).
    threshold : int
    max_rounds : int
        Bound on the rounds of further suppression.
    groupings : set of str, optional

    Returns
    -------
    list of str

    References
    ----------
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley,
    chapter 5 (linked tables, secondary suppression, disclosure by
    differencing).
    Griffiths, E. et al. (2019). *Handbook on Statistical Disclosure Control
    for Outputs*. Safe Data Access Professionals Working Group (differencing).

    Examples
    --------
    Everyone and men by prison, published without their records: their
    difference in P2 gives away 5 women.

    >>> def counts(key, data):
    ...     return Output("overview", {"kind": "table", "key": key, "table_kind": "counts",
    ...                                "index_name": "Prison", "index": ["P1", "P2"], "columns": ["n"],
    ...                                "data": data, "status": "ok"}, "ok", [])
    >>> everyone, men = counts("all_by_prison", [[30], [35]]), counts("men_by_prison", [[30], [30]])
    >>> protect_linked([everyone, men], 10)
    ['overview/tables/men_by_prison: withheld for review (linked with overview/tables/all_by_prison)']
    >>> everyone.status, men.status
    ('ok', 'review')
    """
    log: list[str] = []
    tables = [o for o in outputs if o.published and o.payload.get("kind") == "table"
              and o.payload.get("table_kind") in ("counts", "stats") and o.payload.get("_members")]
    if tables:
        log += _protect_exact(tables, threshold, max_rounds)
    log += _compare_labels(outputs, threshold, groupings)
    return log


def _protect_exact(tables: list[Output], threshold: int, max_rounds: int) -> list[str]:
    from scipy.linalg import null_space

    log: list[str] = []
    cells: list[tuple[Output, int, int, np.ndarray, bool, bool]] = []
    for t in tables:
        for i, j, ids, pub, margin in _member_cells(t):
            cells.append((t, i, j, ids, pub, margin))
    if not cells:
        return log
    # atoms: records with the same set of cells
    sig: dict[int, list[int]] = {}
    for c, (_, _, _, ids, _, _) in enumerate(cells):
        for r in ids.tolist():
            sig.setdefault(r, []).append(c)
    atoms: dict[tuple[int, ...], int] = {}
    for s in sig.values():
        k = tuple(s)
        atoms[k] = atoms.get(k, 0) + 1
    atom_keys = list(atoms)
    size = np.array([atoms[k] for k in atom_keys], dtype=float)
    inc = np.zeros((len(cells), len(atom_keys)))
    for a, k in enumerate(atom_keys):
        inc[list(k), a] = 1.0
    value = inc @ size
    published = np.array([c[4] for c in cells])
    for _ in range(max_rounds):
        # unknowns: atoms, then one variable per suppressed cell (y_c - sum atoms = 0)
        hid = np.flatnonzero(~published)
        A_pub = inc[published]
        A_aux = np.hstack([inc[hid], -np.eye(len(hid))]) if len(hid) else np.zeros((0, len(atom_keys)))
        A = np.vstack([np.hstack([A_pub, np.zeros((A_pub.shape[0], len(hid)))]), A_aux]) if len(hid) else A_pub
        N = null_space(A) if A.size else np.eye(A.shape[1])
        movable = np.linalg.norm(N, axis=1) > 1e-9 if N.size else np.zeros(A.shape[1], dtype=bool)
        t_aux = value[hid]
        sensitive = (t_aux > 0) & (t_aux < threshold) & ~movable[len(atom_keys):]
        pair = _small_nested_difference(inc, value, published, threshold)
        if not sensitive.any() and pair is None:
            return log
        if pair is not None:  # two published cells, one inside the other, differing by a small group
            holders = np.array(pair)
        else:
            v = int(np.flatnonzero(sensitive)[0])
            holders = np.flatnonzero(inc @ inc[hid[v]] > 0)
        cands = [c for c in holders if published[c] and not cells[c][5]] or \
                [c for c in holders if published[c]]
        if not cands:
            break
        c = min(cands, key=lambda c: (value[c] == 0, value[c], c))
        published[c] = False
        out, i, j = cells[c][0], cells[c][1], cells[c][2]
        row_cells = range(len(out.payload["data"][i])) if out.payload["_members"].get("whole_rows") else (j,)
        for jj in row_cells:  # a stats table's row is hidden whole (its statistics rest on those people)
            out.payload["suppressed"][i][jj] = True
            out.payload["data"][i][jj] = None
        out.status = "suppressed"
        rule = "linked tables: protected together with the other tables of this build that count the same people"
        if rule not in (out.payload.get("rule") or ""):
            out.payload["rule"] = (out.payload.get("rule") or "") + "; " + rule
        log.append(f"{out.id}: a further cell suppressed so that no small group can be recovered by comparing "
                   "it with other published tables")
    for t in tables:  # could not protect: refuse the tables involved
        if t.status != "refused":
            t.status = "refused"
            t.reasons.append("linked tables: a small group could not be protected across tables")
    return log + ["linked tables could not be protected; the tables concerned are refused"]


def _small_nested_difference(inc: np.ndarray, value: np.ndarray, published: np.ndarray,
                             threshold: int) -> tuple[int, int] | None:
    """Two published cells whose people are nested (one inside the other) and differ by 1..threshold-1 people:
    the difference is a small group anyone can compute (everyone and men by prison -> the women)."""
    pub = np.flatnonzero(published & (value > 0))
    order = pub[np.argsort(value[pub])]
    for a_pos, a in enumerate(order):
        for b in order[a_pos + 1:]:
            d = value[b] - value[a]
            if d >= threshold:
                break
            if d > 0 and not np.any((inc[a] > 0) & (inc[b] == 0)):
                return int(a), int(b)
    return None


def _labels_of(p: Mapping[str, Any]) -> tuple[Any, list[str], list[str]]:
    return p.get("index_name"), [str(x) for x in p.get("index") or []], [str(x) for x in p.get("columns") or []]


def _compare_labels(outputs: Sequence[Output], threshold: int, groupings: set[str] | None) -> list[str]:
    """Tables without members: same grouping and a small difference of same-labelled counts -> review."""
    log: list[str] = []
    seen: list[Output] = []
    for o in outputs:
        p = o.payload
        if not o.published or p.get("kind") != "table" or p.get("table_kind") not in ("counts", "stats"):
            continue
        name, rows, cols = _labels_of(p)
        if name is None or (groupings is not None and str(name).casefold() not in groupings):
            continue
        for other in seen:
            q = other.payload
            if p.get("_members") and q.get("_members"):
                continue  # protected exactly
            oname, orows, ocols = _labels_of(q)
            if name != oname or not (set(rows) & set(orows)):
                continue
            hit = _small_difference(p, q, threshold)
            if hit:
                o.status = "review"
                o.reasons.append(f"shares its grouping with {other.id}, and the difference of their "
                                 f"{hit} is a group of fewer than {threshold} people; publish both with "
                                 "data= and by= so the gate can protect them together, or approve it")
                log.append(f"{o.id}: withheld for review (linked with {other.id})")
                break
        if o.published:
            seen.append(o)
    return log


def _count_columns_of(p: Mapping[str, Any]) -> list[str]:
    cols = [str(c) for c in p.get("columns") or []]
    if p.get("table_kind") == "counts":
        return cols
    ncol = p.get("n_column")
    names = [ncol] if isinstance(ncol, str) else list(ncol or [])
    return [cols[j] for j in sorted({cols.index(c) for c in names if c in cols} | set(_count_cols(cols)))]


def _small_difference(p: Mapping[str, Any], q: Mapping[str, Any], threshold: int) -> str | None:
    """A same-labelled count that differs by 1..threshold-1 between two tables whose counts are nested
    (every shared count of one at least the other's: a population and a part of it)."""
    pr = {str(lab): i for i, lab in enumerate(p.get("index") or [])}
    qr = {str(lab): i for i, lab in enumerate(q.get("index") or [])}
    pc = {c: k for k, c in enumerate(str(x) for x in p.get("columns") or [])}
    qc = {c: k for k, c in enumerate(str(x) for x in q.get("columns") or [])}
    pcols, qcols = _count_columns_of(p), _count_columns_of(q)
    pairs: list[tuple[str, str]] = [(c, c) for c in pcols if c in qcols]
    if not pairs and len(pcols) == 1 and len(qcols) == 1:
        pairs = [(pcols[0], qcols[0])]
    diffs: list[tuple[str, float]] = []
    for lab in pr:
        if lab not in qr:
            continue
        for a_col, b_col in pairs:
            a, b = _num(p["data"][pr[lab]][pc[a_col]]), _num(q["data"][qr[lab]][qc[b_col]])
            if a is not None and b is not None:
                diffs.append((lab, a - b))
    if not diffs or not (all(d >= 0 for _, d in diffs) or all(d <= 0 for _, d in diffs)):
        return None
    for lab, d in diffs:
        if 0 < abs(d) < threshold:
            return f"counts for {lab!r}"
    return None


# ------------------------------------------------------------------ approvals


def load_approvals(path: Path) -> dict[str, dict[str, Any]]:
    r"""``approvals.yml`` -> {output id: approval}; errors name the entry.

    Each approval names the output (``notebook/tables|figures|values/key``,
    as ``release.json`` lists it), the reason it is safe, who approved it and
    optionally the date.  A missing file means no approvals.

    Parameters
    ----------
    path : Path

    Returns
    -------
    dict

    Raises
    ------
    ApprovalError
        Naming the file, the entry and what it needs.

    References
    ----------
    Griffiths, E. et al. (2019). *Handbook on Statistical Disclosure Control
    for Outputs*. Safe Data Access Professionals Working Group (principles-based
    checking: an output the rules cannot clear is released by a named person
    with a recorded reason).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "approvals.yml"
    >>> _ = path.write_text("approvals:\n  - output: outcomes/tables/power\n"
    ...                     "    reason: simulated power curve, no respondent data\n"
    ...                     "    approved_by: A. Researcher\n    date: 2026-12-01\n")
    >>> load_approvals(path)["outcomes/tables/power"]["approved_by"]
    'A. Researcher'
    >>> _ = path.write_text("approvals:\n  - output: outcomes/power\n    reason: x\n    approved_by: A\n")
    >>> try:
    ...     load_approvals(path)
    ... except ApprovalError as error:
    ...     print(str(error).split(": ", 1)[1])
    approvals[0]: output 'outcomes/power' must read notebook/tables|figures|values/key (as release.json lists it)
    >>> folder.cleanup()
    """
    import yaml

    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ApprovalError(f"{path}: YAML syntax error: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("approvals", []), list):
        raise ApprovalError(f"{path}: must hold 'approvals:', a list of {{output, reason, approved_by}}")
    out: dict[str, dict[str, Any]] = {}
    for k, entry in enumerate(raw.get("approvals") or []):
        if not isinstance(entry, Mapping):
            raise ApprovalError(f"{path}: approvals[{k}] must be a mapping with output, reason and approved_by")
        unknown = sorted(set(entry) - {"output", "reason", "approved_by", "date"})
        if unknown:
            raise ApprovalError(f"{path}: approvals[{k}]: unknown key(s) {unknown}; use output, reason, "
                                "approved_by, date")
        for field in ("output", "reason", "approved_by"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise ApprovalError(f"{path}: approvals[{k}] needs {field}: (text); an approval names the output, "
                                    "why it is safe and who approved it")
        oid = entry["output"].strip()
        if oid.count("/") != 2 or oid.split("/")[1] not in GROUPS.values():
            raise ApprovalError(f"{path}: approvals[{k}]: output {oid!r} must read notebook/tables|figures|values/key "
                                "(as release.json lists it)")
        out[oid] = {k2: str(v) for k2, v in entry.items()}
    return out


def apply_approvals(outputs: Sequence[Output], approvals: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Publish outputs held for review that an approval names; returns approvals naming no such output.

    Only outputs with status ``review`` can be approved (a refused output
    stays refused); the approval is kept on the output for the release log.

    Parameters
    ----------
    outputs : sequence of Output
    approvals : mapping
        From :func:`load_approvals`.

    Returns
    -------
    list of str
        The ids of approvals that matched nothing held for review.

    References
    ----------
    Griffiths, E. et al. (2019). *Handbook on Statistical Disclosure Control
    for Outputs*. Safe Data Access Professionals Working Group.

    Examples
    --------
    >>> held = Output("outcomes", {"kind": "table", "key": "power"}, "review", ["a model table without n"])
    >>> approvals = {"outcomes/tables/power": {"reason": "simulated", "approved_by": "A. Researcher"},
    ...              "outcomes/tables/gone": {"reason": "x", "approved_by": "A. Researcher"}}
    >>> apply_approvals([held], approvals)
    ['outcomes/tables/gone']
    >>> held.status, held.published
    ('approved', True)
    """
    used = set()
    for o in outputs:
        a = approvals.get(o.id)
        if a is not None and o.status == "review":
            o.status, o.approval = "approved", dict(a)
            used.add(o.id)
    return sorted(set(approvals) - used)


# ------------------------------------------------------------------ rendering


def public_payload(o: Output) -> dict[str, Any]:
    """What ``results.json`` holds for an output: private fields removed; nothing for unpublished ones.

    Fields starting with ``_`` (the records behind each cell), the PNG and the
    text template are dropped; the status is written out in words.  An
    unpublished output keeps only what names it and why it was withheld (a
    withheld value reads as ``value: None, suppressed: True``).

    Parameters
    ----------
    o : Output

    Returns
    -------
    dict

    References
    ----------
    docs/DESIGN.md, "Privacy" (every published output in the release
    log; raw output never published).

    Examples
    --------
    >>> value = {"kind": "value", "key": "mean_age", "value": 34.2, "n": 120, "caption": "Mean age",
    ...          "_members": [1, 2, 3]}
    >>> public_payload(Output("overview", value, "ok", []))
    {'kind': 'value', 'key': 'mean_age', 'value': 34.2, 'n': 120, 'caption': 'Mean age', 'status': 'published'}
    >>> public_payload(Output("overview", value, "refused", ["a value resting on fewer than 10 people"]))
    {'kind': 'value', 'key': 'mean_age', 'caption': 'Mean age', 'status': 'refused', 'reasons': ['a value resting on fewer than 10 people'], 'value': None, 'n': None, 'ci': None, 'suppressed': True}
    """
    p = {k: v for k, v in o.payload.items() if not k.startswith("_") and k not in ("png", "template")}
    p["status"] = STATUS_TEXT.get(o.status, o.status)
    if not o.published:
        keep = ("kind", "key", "caption", "notebook", "status", "rule", "table_kind", "value_kind")
        p = {k: v for k, v in p.items() if k in keep}
        p["reasons"] = list(o.reasons)
        if o.payload.get("kind") == "value":  # briefs word it as withheld
            p.update(value=None, n=None, ci=None, suppressed=True)
    return p


def render_blocks(blocks: Sequence[tuple[str, Any]], threshold: int) -> str:
    """HTML body of a page from its blocks (static Markdown, gated outputs, withheld notes).

    Published outputs are rendered again from their payloads (never from what
    the notebook displayed); run-time text is filled in from the gated values
    only, and withheld where it holds any other number; withheld raw outputs
    leave a note saying how many.

    Parameters
    ----------
    blocks : sequence
        From :func:`page_blocks`.
    threshold : int

    Returns
    -------
    str

    References
    ----------
    WHATWG (2024), *HTML Living Standard*, https://html.spec.whatwg.org/.
    docs/DESIGN.md, "Privacy" (default-deny publishing).

    Examples
    --------
    >>> value = {"kind": "value", "key": "mean_age", "value": 34.2, "n": 120, "status": "ok",
    ...          "caption": "Mean age", "value_kind": "mean"}
    >>> blocks = [("markdown", "# Overview"), ("withheld", 1), ("output", Output("overview", value, "ok", []))]
    >>> print(render_blocks(blocks, 10))
    <h1>Overview</h1>
    <BLANKLINE>
    <p class="veplab-withheld" role="note">1 output withheld: not checked (only results published through the disclosure gate appear in this report).</p>
    <p class="veplab-value" data-key="mean_age"><b>Mean age:</b> 34.20; n = 120</p>
    """
    values = {}
    for kind, item in blocks:
        if kind == "output" and item.payload.get("kind") == "value":
            values[item.key] = dict(item.payload, status="ok" if item.published else item.status)
    parts: list[str] = []
    for kind, item in blocks:
        if kind == "markdown":
            parts.append(render_markdown(item))
        elif kind == "withheld":
            parts.append(withheld_note(int(item)))
        elif kind == "output":
            o: Output = item
            if o.payload.get("kind") == "text":
                text, status, reasons = fill_text(str(o.payload.get("template") or ""), values)
                if status != "ok":
                    o.status, o.reasons = "withheld", reasons
                    parts.append(withheld_note(1, "run-time text with numbers that are not gated results"))
                    continue
                o.status = "ok"
                o.payload["text"] = text
                parts.append(render_payload(o.payload, threshold=threshold, text=text))
            elif o.published:
                parts.append(render_payload(o.payload, threshold=threshold))
            else:
                what = {"review": "held for review", "refused": "refused by the disclosure gate"}.get(o.status,
                                                                                                      o.status)
                parts.append(f'<p class="veplab-withheld" role="note">{_html.escape(o.group[:-1])} '
                             f"<code>{_html.escape(o.key)}</code> {what}.</p>")
    return "\n".join(parts)

