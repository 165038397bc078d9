"""Descriptive tables with codebook labels (the raw material of published tables).

>>> from veplab.descriptives.tables import crosstab                      # doctest: +SKIP
>>> crosstab(df, codebook, "country", "gender", lang="fr")     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..codebook import Codebook

__all__ = ["labelled", "crosstab", "counts", "split_breakdowns", "without_digits", "option_label"]


def labelled(df: pd.DataFrame, codebook: Codebook, column: str, *, lang: str = "en") -> pd.Series:
    """A coded column as a categorical of its option labels in ``lang`` (codebook order)."""
    if column not in df.columns:
        raise KeyError(f"column {column!r} is not in the data")
    item = codebook.item(column)
    if not item.options:
        return df[column]
    codes = list(item.codes)
    labels = [item.option_text(c, lang) for c in codes]
    values = pd.to_numeric(pd.Series(df[column].to_numpy(dtype=object), index=df.index), errors="coerce")
    cat = pd.Categorical.from_codes(
        [codes.index(int(v)) if v == v else -1 for v in values], categories=labels,
        ordered=item.type in ("likert", "ordinal", "binary"))
    return pd.Series(cat, index=df.index, name=item.text(lang))


def crosstab(df: pd.DataFrame, codebook: Codebook, row: str, col: str | None = None, *, lang: str = "en",
             margins: bool = True, total_label: str = "Total") -> pd.DataFrame:
    """Counts of records by ``row`` (and ``col``), labelled, with all codebook
    categories (zeros kept) and optional totals.  Missing values are a
    separate "Missing" category only when present."""
    r = labelled(df, codebook, row, lang=lang)
    if r.isna().any() and hasattr(r, "cat"):
        r = r.cat.add_categories(["Missing"]).fillna("Missing")
    if col is None:
        out = r.value_counts(sort=False).to_frame("n")
        out.index.name = codebook.item(row).text(lang)
        if margins:
            out.loc[total_label] = out["n"].sum()
        return out.astype("int64")
    c = labelled(df, codebook, col, lang=lang)
    if c.isna().any() and hasattr(c, "cat"):
        c = c.cat.add_categories(["Missing"]).fillna("Missing")
    out = pd.crosstab(r, c, dropna=False)
    out.index.name = codebook.item(row).text(lang)
    out.columns.name = codebook.item(col).text(lang)
    out.index = out.index.astype(str)
    out.columns = out.columns.astype(str)
    if margins:
        out[total_label] = out.sum(axis=1)
        out.loc[total_label] = out.sum(axis=0)
    return out.astype("int64")


def counts(df: pd.DataFrame, codebook: Codebook, columns: list[str], *, lang: str = "en") -> pd.DataFrame:
    """One-way counts for several columns stacked (variable, category, n)."""
    parts = []
    for column in columns:
        t = crosstab(df, codebook, column, lang=lang, margins=False)
        t = t.reset_index().rename(columns={t.index.name: "category"})
        t.insert(0, "variable", codebook.item(column).text(lang))
        parts.append(t)
    return pd.concat(parts, ignore_index=True).set_index(["variable", "category"])


def split_breakdowns(df: pd.DataFrame, columns: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
    """The breakdowns worth a table: those of ``columns`` (in order) with two or more values in ``df``,
    and those with a single value (column -> that value; e.g. a one-country study's ``country``).

    Columns absent from ``df`` or never answered are in neither.

    >>> import pandas as pd
    >>> split_breakdowns(pd.DataFrame({"country": [1, 1], "gender": [1, 2]}), ["country", "gender", "age"])
    (['gender'], {'country': 1})
    """
    varying: list[str] = []
    constant: dict[str, Any] = {}
    for col in columns:
        if col not in df.columns:
            continue
        values = df[col].dropna().unique()
        if len(values) >= 2:
            varying.append(col)
        elif len(values) == 1:
            constant[col] = values[0].item() if hasattr(values[0], "item") else values[0]
    return varying, constant


def without_digits(text: str, fallback: str) -> str:
    """``text`` when it holds no digit, else ``fallback``: run-time page text may carry digits only
    from published values, so a label such as "Age group (18+)" is replaced in sentences.

    >>> without_digits("Gender", "a characteristic"), without_digits("Age (18+)", "a characteristic")
    ('Gender', 'a characteristic')
    """
    return fallback if any(ch.isdigit() for ch in str(text)) else str(text)


def option_label(codebook: Any, column: str, value: Any, lang: str = "en") -> str:
    """The codebook label of option ``value`` of ``column`` in ``lang`` (the value as text when the
    codebook is None, has no such item, or the value is not one of its whole-number codes).

    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Man", 2: "Woman"}}]})
    >>> option_label(cb, "sex", 2.0), option_label(cb, "sex", 2.5), option_label(None, "sex", 1)
    ('Woman', '2.5', '1')
    """
    if codebook is None:
        return str(value)
    try:
        item = codebook.item(column)
        code = int(float(value))
        if item.options and code in item.options and float(value) == code:
            return item.option_text(code, lang)
    except (KeyError, TypeError, ValueError):
        pass
    return str(value)
