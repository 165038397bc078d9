"""The checks behind the report helpers, shared by the notebook side and the build.

* :func:`fill_text` -- run-time text may hold numbers only from gated results
  (``{key}`` placeholders); any other digit withholds the text.
* :func:`table_members` -- which records are behind each cell of a counts
  table, so that ``veplab build`` can protect linked tables exactly
  (:mod:`veplab.release`).

References: ACRO/SACRO output checking (Green, Ritchie, Smith et al., *SACRO:
Semi-Automated Checking of Research Outputs*, 2023); Hundepool et al.,
*Statistical Disclosure Control*, Wiley 2012, sect. 5.5 (linked tables).

>>> fill_text("The survey reached {n} people.", {"n": {"value": 120, "status": "ok"}})[1]
'ok'
>>> fill_text("The 5 women answered.", {})[1]
'withheld'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .render import MARK, PLACEHOLDER, value_formats

__all__ = ["fill_text", "table_members", "stats_members", "record_keys"]


def _fmt_value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.0f}" if v.is_integer() and abs(v) >= 100 else f"{v:.3g}"
    return str(v)


def fill_text(template: str, values: Mapping[str, Mapping[str, Any]]) -> tuple[str, str, list[str]]:
    """Fill ``{key}``, ``{key.n}``, ``{key.ci}`` from gated value payloads; check the rest holds no digit.

    Run-time text (a sentence a notebook writes with numbers in it) may hold
    numbers only from values published through the gate: each placeholder is
    replaced by the formatted published value, its ``n`` or its interval
    (``low–high``); a placeholder naming a suppressed value becomes the
    suppression mark; one naming a value that is not published (unknown, held
    for review, refused) withholds the text, and so does any other digit left
    in the template (Unicode category ``Nd``, any script).

    Parameters
    ----------
    template:
        The text with ``{key}`` placeholders.
    values:
        The report's value payloads by key (``Report.results["values"]``).

    Returns
    -------
    tuple
        ``(text, status, reasons)``; status ``"ok"`` or ``"withheld"``, and the
        reasons it was withheld.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 5: frequency
    tables, linked tables).
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group.
    docs/DESIGN.md, section "Privacy": publishing is default-deny; every number knows the
    people behind it; linked tables are protected together.
    ACRO: Automatic Checking of Research Outputs (SACRO project; github.com/AI-SDC/ACRO).

    Examples
    --------
    >>> values = {"n": {"value": 1239, "status": "ok"},
    ...           "agree": {"value": 0.412, "ci": [0.352, 0.474], "status": "ok"},
    ...           "women": {"value": None, "suppressed": True, "status": "ok"}}
    >>> fill_text("{n} people took part; {agree} agreed ({agree.ci}).", values)
    ('1,239 people took part; 0.412 agreed (0.352–0.474).', 'ok', [])
    >>> fill_text("Women: {women}.", values)[:2]
    ('Women: ‡.', 'ok')
    >>> text, status, reasons = fill_text("The 5 women answered.", values)
    >>> status, reasons[0][:55]
    ('withheld', 'run-time text holds 1 digit(s) that do not come from pu')
    """
    reasons: list[str] = []

    def repl(m: Any) -> str:
        key, _, attr = m.group(1).partition(".")
        p = values.get(key)
        if p is None or p.get("status", "ok") != "ok":
            reasons.append(f"{{{m.group(1)}}} names no value published by this report")
            return "?"
        if p.get("suppressed") or p.get("value") is None:
            return MARK
        if attr == "":
            return value_formats({**p, "key": key})[0]  # as the page shows it
        if attr == "n" and p.get("n") is not None:
            return _fmt_value(p["n"])
        if attr == "ci" and p.get("ci"):
            lo, hi = p["ci"]
            fmt = value_formats({**p, "key": key})[1] or _fmt_value
            return f"{fmt(lo)}–{fmt(hi)}"
        reasons.append(f"{{{m.group(1)}}}: value {key!r} has no {attr!r}")
        return "?"

    filled = PLACEHOLDER.sub(repl, template)
    filled = re.sub(r"=\s*< ", "< ", filled)  # "p = {lr_p}" with p below 0.001 reads "p < 0.001"
    rest = PLACEHOLDER.sub("", template)
    digits = sum(1 for ch in rest if unicodedata.category(ch) == "Nd")
    if digits:
        reasons.append(f"run-time text holds {digits} digit(s) that do not come from published results; "
                       "publish the number with rep.value(...) and write {key}, or put fixed text in a "
                       "Markdown cell")
    return filled, ("withheld" if reasons else "ok"), reasons


# ------------------------------------------------------------------ membership


def record_keys(data: pd.DataFrame, study: Any = None) -> np.ndarray:
    """A stable 64-bit key per record: the study's id column when the data hold one, else the index.

    ::

        key = hash64(id_column + ":" + id)          (the study's id column, complete and unique)
        key = hash64(file + "|" + codebook + "|" + row label)   (otherwise)

    with pandas' ``hash_pandas_object`` (a fixed-key SipHash of each value).
    Keys are hashes (never the ids themselves) and only ever kept in the
    private working folder: they let ``veplab build`` find the same people in
    two tables (linked-table protection) without publishing who they are.

    Parameters
    ----------
    data:
        The records behind a table.
    study:
        The study (its sources' codebooks name the id columns); ``None``: use the index.

    Returns
    -------
    numpy.ndarray
        One ``int64`` key per record.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 5: frequency
    tables, linked tables).
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group.
    docs/DESIGN.md, section "Privacy": publishing is default-deny; every number knows the
    people behind it; linked tables are protected together.
    Aumasson J-P, Bernstein DJ (2012). SipHash: a fast short-input PRF. INDOCRYPT 2012, Lecture
    Notes in Computer Science 7668, Springer, 489-508.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"country": ["KZ", "KZ", "UG", "UG", "UG"], "gender": ["M", "F", "M", "M", "F"]})
    >>> keys = record_keys(df)
    >>> keys.dtype, len(set(keys)), bool((keys == record_keys(df)).all())
    (dtype('int64'), 5, True)
    """
    id_cols: list[str] = []
    if study is not None:
        for src in getattr(study, "sources", {}).values():
            try:
                col = src.codebook().id_column
            except Exception:  # a codebook problem is reported where the data are loaded
                continue
            if col and col not in id_cols:
                id_cols.append(col)
    for col in id_cols:
        if col in data.columns and data[col].notna().all() and data[col].is_unique:
            keys = pd.util.hash_pandas_object(data[col].astype(str).radd(col + ":"), index=False)
            return keys.to_numpy(dtype=np.uint64).view(np.int64)
    # No id column: the row labels, tagged with the file the records came from, so that row 0 of
    # one source and row 0 of another are not taken for the same person.
    info = data.attrs.get("veplab")
    origin = f"{getattr(info, 'file', '')}|{getattr(info, 'codebook_id', '')}|" if info is not None else "|"
    return pd.util.hash_pandas_object(pd.Series(data.index.astype(str), dtype=object).radd(origin),
                                      index=False).to_numpy(dtype=np.uint64).view(np.int64)


def _option_labels(study: Any, column: str) -> dict[Any, set[str]]:
    """Code -> every label the codebooks give it (all languages)."""
    from ..codebook import LANGUAGES

    out: dict[Any, set[str]] = {}
    if study is None:
        return out
    for src in getattr(study, "sources", {}).values():
        try:
            cb = src.codebook()
        except Exception:
            continue
        if column not in cb:
            continue
        item = cb.item(column)
        for code in getattr(item, "codes", ()) or ():
            for lang in LANGUAGES:
                try:
                    out.setdefault(code, set()).add(str(item.option_text(code, lang)))
                except Exception:
                    pass
    return out


def _positions(values: pd.Series, labels: Sequence[Any], study: Any, column: str) -> np.ndarray:
    """Position of each record's label among ``labels`` (-1: not in the table)."""
    from ..privacy.disclosure._common import _is_total_label

    pos = {str(lab): i for i, lab in enumerate(labels) if not _is_total_label(lab)}
    options = _option_labels(study, column)
    out = np.full(len(values), -1, dtype=np.int64)
    arr = values.to_numpy(dtype=object)
    cache: dict[Any, int] = {}
    for k, v in enumerate(arr):
        missing = v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
        ck = "__missing__" if missing else v
        if ck not in cache:
            cands: list[str] = []
            if missing:
                cands = ["Missing", "missing", "NA"]
            else:
                cands = [str(v)]
                try:
                    f = float(v)
                    if f.is_integer():
                        cands.append(str(int(f)))
                        cands.extend(sorted(options.get(int(f), ())))
                except (TypeError, ValueError):
                    pass
            cache[ck] = next((pos[c] for c in cands if c in pos), -1)
        out[k] = cache[ck]
    return out


def table_members(table: pd.DataFrame, data: pd.DataFrame, by: Any, *, key: str, study: Any = None
                  ) -> dict[str, Any]:
    """The records behind each cell of a counts table, checked against the table.

    ``by`` names one column of ``data`` (a one-way table: rows are its
    values or codebook labels, one count column) or two (rows and columns).
    Rows or columns labelled ``Total``/``All`` are margins.  Every inner cell
    must equal the number of records that fall in it::

        table[i, j] = #{records r : row(r) = i, col(r) = j}

    The membership (record keys from :func:`record_keys` and their cell) stays
    in the private working folder; ``veplab build`` uses it to protect tables
    that share people (:mod:`veplab.release`).

    Parameters
    ----------
    table:
        The counts table as published (margins included).
    data:
        The records it counts.
    by:
        The row column, or ``[row column, column column]``.
    key:
        The table's key (for messages).
    study:
        The study (codebook labels and id columns); optional.

    Returns
    -------
    dict
        ``ids``, ``row``, ``col`` (one entry per record inside the table),
        ``row_total``, ``col_total`` (positions of the margins or ``None``),
        ``inner_cols``.

    Raises
    ------
    DisclosureError
        Naming the first cell whose count differs from the data.
    ValueError
        ``data`` is not a DataFrame or ``by`` does not fit the table.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 5: frequency
    tables, linked tables).
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group.
    docs/DESIGN.md, section "Privacy": publishing is default-deny; every number knows the
    people behind it; linked tables are protected together.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"country": ["KZ", "KZ", "UG", "UG", "UG"], "gender": ["M", "F", "M", "M", "F"]})
    >>> t = pd.crosstab(df["country"], df["gender"], margins=True, margins_name="Total")
    >>> m = table_members(t, df, ["country", "gender"], key="by_country")
    >>> m["row"], m["col"], m["row_total"], m["col_total"]
    ([0, 0, 1, 1, 1], [1, 0, 1, 1, 0], 2, 2)
    >>> table_members(t.replace(2, 3), df, ["country", "gender"], key="by_country")
    Traceback (most recent call last):
    ...
    veplab.privacy.disclosure._common.DisclosureError: table 'by_country': cell ('UG', 'M') holds 3 but data= has 2 records there (grouped by ['country', 'gender']); pass the records the table counts
    """
    from ..privacy.disclosure._common import _is_total_label
    from . import DisclosureError

    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"table {key!r}: data= must be the DataFrame of records the table counts")
    by = [by] if isinstance(by, str) else list(by or [])
    if not 1 <= len(by) <= 2:
        raise ValueError(f"table {key!r}: with data=, by= names the row variable (and the column variable) "
                         f"of the table, e.g. by=['country', 'gender']; got {by!r}")
    absent = [b for b in by if b not in data.columns]
    if absent:
        raise ValueError(f"table {key!r}: by= names {absent}, not columns of data= ({list(data.columns)[:12]} ...)")
    if len(by) == 1 and table.shape[1] != 1:
        count_cols = [c for c in table.columns if str(c).lower() in ("n", "count", "counts") or _is_total_label(c)]
        if len(count_cols) != 1:
            raise ValueError(f"table {key!r}: a one-way table with data= and one by= column has one count column; "
                             f"name the column variable too (by=[row, column])")
    ids = record_keys(data, study)
    row = _positions(data[by[0]], list(table.index), study, by[0])
    col = (_positions(data[by[1]], list(table.columns), study, by[1]) if len(by) == 2
           else np.zeros(len(data), dtype=np.int64))
    # check the counts of inner cells
    values = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    inner_r = [i for i, lab in enumerate(table.index) if not _is_total_label(lab)]
    inner_c = ([j for j, lab in enumerate(table.columns) if not _is_total_label(lab)] if len(by) == 2
               else [0] if table.shape[1] == 1 else
               [j for j, c in enumerate(table.columns) if not _is_total_label(c)][:1])
    inside = (row >= 0) & (col >= 0)
    counts = np.zeros(table.shape, dtype=float)
    if len(by) == 1:
        col = np.where(row >= 0, inner_c[0], -1)
        inside = row >= 0
    np.add.at(counts, (row[inside], col[inside]), 1.0)
    for i in inner_r:
        for j in inner_c:
            if not np.isclose(counts[i, j], values[i, j]):
                raise DisclosureError(
                    f"table {key!r}: cell ({table.index[i]!r}, {table.columns[j]!r}) holds {values[i, j]:g} but "
                    f"data= has {counts[i, j]:g} records there (grouped by {by}); pass the records the table "
                    "counts")
    rt = [i for i, lab in enumerate(table.index) if _is_total_label(lab)]
    ct = [j for j, lab in enumerate(table.columns) if _is_total_label(lab)]
    return {"ids": ids[inside].tolist(), "row": row[inside].tolist(), "col": col[inside].tolist(),
            "row_total": rt[0] if rt else None, "col_total": ct[0] if ct else None,
            "inner_cols": inner_c}


def stats_members(table: pd.DataFrame, n: Any, data: pd.DataFrame, by: Any, *, key: str, study: Any = None
                  ) -> dict[str, Any]:
    """The records behind each row of a stats table (groups in rows, ``n`` the people in each).

    ``by`` names the one column of ``data`` whose values (or codebook labels)
    are the table's rows; the first ``n`` column is checked against the data
    (``n_i = #{records in group i}``; a ``DisclosureError`` names the first row
    that differs).  The cells of the result are that ``n`` column's, so the
    linked-table protection treats the table as a one-way counts table, and a
    hidden row hides all its statistics (``whole_rows``).

    Parameters
    ----------
    table:
        The stats table (one row per group).
    n:
        Its ``n`` column (or columns; the first counts the group).
    data, by, key, study:
        As for :func:`table_members` (``by``: one column).

    Returns
    -------
    dict
        As :func:`table_members`, with ``whole_rows=True``.

    Raises
    ------
    DisclosureError
        A row whose ``n`` differs from the data.
    ValueError
        ``by`` does not name exactly one column.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 5: frequency
    tables, linked tables).
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group.
    docs/DESIGN.md, section "Privacy": publishing is default-deny; every number knows the
    people behind it; linked tables are protected together.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"country": ["KZ", "KZ", "UG", "UG", "UG"], "score": [2, 3, 3, 4, 2]})
    >>> st = pd.DataFrame({"n": [2, 3], "mean": [2.5, 3.0]}, index=pd.Index(["KZ", "UG"], name="country"))
    >>> m = stats_members(st, "n", df, "country", key="means")
    >>> m["row"], m["col"], m["whole_rows"]
    ([0, 0, 1, 1, 1], [0, 0, 0, 0, 0], True)
    """
    by = [by] if isinstance(by, str) else list(by or [])
    if len(by) != 1:
        raise ValueError(f"table {key!r}: a stats table's data= comes with by= naming the one column whose "
                         f"groups are its rows; got {by!r}")
    ncol = n if isinstance(n, str) else list(n)[0]
    members = table_members(table[[ncol]].rename(columns={ncol: "n"}), data, by, key=key, study=study)
    j = list(table.columns).index(ncol)
    members["col"] = [j] * len(members["col"])
    members["inner_cols"] = [j]
    members["col_total"] = None
    members["whole_rows"] = True
    return members
