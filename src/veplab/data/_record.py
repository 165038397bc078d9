"""What :func:`veplab.data.load` records about a load (``df.attrs["veplab"]``).

Its own module, below both :mod:`veplab.data.load` and :mod:`veplab.data.scoring`,
so that scoring can read the record (were the items already reversed?) while
load calls scoring, without the two importing each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["LoadInfo", "load_info"]


@dataclasses.dataclass(frozen=True, eq=False)
class LoadInfo:
    """What :func:`load` learnt and did; kept in ``df.attrs["veplab"]``.

    ``df.attrs`` survive column selection and row filters but not merges,
    joins or concatenation with other frames, so nothing an analysis needs per
    cell lives here: why an answer is missing is in the frame's reason columns
    (:mod:`veplab.data.reasons`), which travel with their rows.

    ``missing`` is a long table (``row`` in the file, ``index``, ``id``,
    ``column``, ``code``, ``reason``) of every cell set to missing because of
    a missing code or, with ``on_error="flag"``, because its value was invalid:
    a record of what the load did (read reasons with
    :func:`~veplab.data.missing_reasons`).  ``reason_columns`` names the items
    given a reason column (so that a selection that drops one is noticed).
    ``problems`` holds the warnings (and flagged errors) met while loading.
    """

    file: str
    format: str
    sha256: str
    codebook_id: str
    codebook_sha256: str | None
    n_rows: int
    encoding: str | None
    missing: pd.DataFrame
    problems: pd.DataFrame
    value_labels: Mapping[str, Mapping[Any, str]]
    reversed: bool
    scored: tuple[str, ...]
    row_numbers: tuple[int, ...]
    reason_columns: tuple[str, ...] = ()

    # Immutable: propagating attrs through pandas operations must be cheap.
    def __deepcopy__(self, memo: dict) -> "LoadInfo":
        return self

    def __copy__(self) -> "LoadInfo":
        return self


def load_info(df: pd.DataFrame) -> LoadInfo | None:
    r"""The :class:`LoadInfo` of a frame made by :func:`load` (or None).

    :func:`load` keeps what it learnt in ``df.attrs["veplab"]``: the file and
    its SHA-256, the codebook id and hash, the number of rows, the encoding,
    every cell it set to missing and why (``missing``), the problems met, and
    whether items were reverse-keyed and which scales were scored.  pandas keeps
    ``attrs`` through column selection and row filters but drops them on
    merges, joins and concatenation, where this returns None.

    Parameters
    ----------
    df : DataFrame
        Any frame.

    Returns
    -------
    LoadInfo or None
        None when ``df`` was not made by :func:`load` (or lost its attrs).

    References
    ----------
    pandas documentation, ``DataFrame.attrs`` (experimental metadata that
    operations may drop): https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.attrs.html.
    FIPS 180-4 (2015), *Secure Hash Standard*: the SHA-256 of the file.
    docs/DESIGN.md, "The path data takes" (what ``load`` records).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> from veplab.data import load
    >>> cb = from_dict({"id": "s", "title": "Survey", "id_column": "rid", "items": [
    ...     {"id": "q1", "label": "I feel safe", "type": "likert",
    ...      "options": {1: "No", 2: "Sometimes", 3: "Yes"}, "missing": {9: "refused"}}]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "export.csv"
    ...     _ = path.write_text("rid,q1\nr1,3\nr2,9\n", encoding="utf-8")
    ...     df = load(path, cb)
    >>> info = load_info(df)
    >>> info.n_rows, info.codebook_id, info.encoding
    (2, 's', 'utf-8')
    >>> info.missing[["row", "column", "code", "reason"]]
       row column  code   reason
    0    3     q1     9  refused
    >>> load_info(pd.DataFrame({"q1": [3]})) is None
    True
    """
    info = df.attrs.get("veplab")
    return info if isinstance(info, LoadInfo) else None
