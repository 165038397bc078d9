"""Descriptive tables with codebook labels (the raw material of published tables).

>>> from veplab.descriptives.tables import crosstab                      # doctest: +SKIP
>>> crosstab(df, codebook, "country", "gender", lang="fr")     # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..codebook import Codebook

__all__ = ["labelled", "crosstab", "counts", "split_breakdowns", "without_digits", "option_label", "column_label",
           "term_label"]


def labelled(df: pd.DataFrame, codebook: Codebook, column: str, *, lang: str = "en") -> pd.Series:
    """A coded column as a categorical of its option labels in ``lang`` (codebook order).

    Codes outside the codebook's options and missing values become missing;
    likert, ordinal and binary items give an ordered categorical.  A column whose
    item has no options (numeric, text) is returned unchanged.

    Parameters
    ----------
    df : the analysis frame (codes as numbers).
    codebook : the instrument's :class:`~veplab.codebook.Codebook`.
    column : the item id (a column of ``df``).
    lang : the language of the labels.

    Returns
    -------
    A Series named by the item's label.

    Raises
    ------
    KeyError
        ``column`` is not in ``df`` (or not an item of the codebook).

    References
    ----------
    The codebook format of docs/DESIGN.md, section "Codebook (instrument) format"
    (options, item types); the result is a pandas ``Categorical``, as R ``factor(x, levels,
    labels, ordered)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Man", 2: "Woman"}},
    ...     {"id": "agree", "label": "Agrees", "type": "likert", "options": {1: "No", 2: "Maybe", 3: "Yes"}}]})
    >>> df = pd.DataFrame({"sex": [1, 2, 2, 1, 2, None], "agree": [1, 3, 3, 2, 3, 3]})
    >>> labelled(df, cb, "sex").tolist()
    ['Man', 'Woman', 'Woman', 'Man', 'Woman', nan]
    >>> list(labelled(df, cb, "agree").cat.categories), labelled(df, cb, "agree").cat.ordered
    (['No', 'Maybe', 'Yes'], True)
    """
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
    separate "Missing" category only when present.

    Parameters
    ----------
    df : the analysis frame.
    codebook : the instrument's :class:`~veplab.codebook.Codebook`.
    row, col : item ids; ``col=None`` gives a one-way table (a column ``n``).
    lang : the language of the labels.
    margins : add a total row (and a total column for two-way tables).
    total_label : the label of the totals.

    Returns
    -------
    A frame of integer counts, rows and columns named by the items' labels.

    References
    ----------
    Counts as R ``table(factor(row, levels), factor(col, levels), useNA = "ifany")`` with
    ``addmargins()``, through ``pandas.crosstab``; labels from the codebook format of
    docs/DESIGN.md, section "Codebook (instrument) format".  Cells are not
    suppressed here: published tables go through ``veplab.report`` (DESIGN.md, "Privacy").

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Man", 2: "Woman"}},
    ...     {"id": "agree", "label": "Agrees", "type": "likert", "options": {1: "No", 2: "Maybe", 3: "Yes"}}]})
    >>> df = pd.DataFrame({"sex": [1, 2, 2, 1, 2, None], "agree": [1, 3, 3, 2, 3, 3]})
    >>> crosstab(df, cb, "sex")["n"].to_dict()
    {'Man': 2, 'Woman': 3, 'Missing': 1, 'Total': 6}
    >>> crosstab(df, cb, "sex", "agree")
    Agrees   No  Maybe  Yes  Total
    Sex
    Man       1      1    0      2
    Woman     0      0    3      3
    Missing   0      0    1      1
    Total     1      1    4      6
    """
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
    """One-way counts for several columns stacked (variable, category, n).

    Each column's part is :func:`crosstab` of that column without totals; the
    index is (variable label, category label).

    References
    ----------
    R ``table(factor(x, levels), useNA = "ifany")`` per column, stacked; labels from the
    codebook format of docs/DESIGN.md, section "Codebook (instrument) format".

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Man", 2: "Woman"}},
    ...     {"id": "agree", "label": "Agrees", "type": "likert", "options": {1: "No", 2: "Maybe", 3: "Yes"}}]})
    >>> df = pd.DataFrame({"sex": [1, 2, 2, 1, 2, None], "agree": [1, 3, 3, 2, 3, 3]})
    >>> counts(df, cb, ["sex", "agree"])["n"].tolist()
    [2, 3, 1, 1, 1, 4]
    >>> counts(df, cb, ["sex", "agree"]).index[3]
    ('Agrees', 'No')
    """
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

    References
    ----------
    The study's ``design: breakdowns`` of docs/DESIGN.md, section "A study is
    declared, not coded" (a part a study lacks is skipped with one sentence on the page).

    Examples
    --------
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

    References
    ----------
    The rule for run-time text of docs/DESIGN.md, section "Privacy" (every value in a
    published artefact passed the disclosure gate); output checking as in Griffiths E et al.
    (2019). Handbook on Statistical Disclosure Control for Outputs. Safe Data Access
    Professionals Working Group.

    Examples
    --------
    >>> without_digits("Gender", "a characteristic"), without_digits("Age (18+)", "a characteristic")
    ('Gender', 'a characteristic')
    """
    return fallback if any(ch.isdigit() for ch in str(text)) else str(text)


def option_label(codebook: Any, column: str, value: Any, lang: str = "en") -> str:
    """The codebook label of option ``value`` of ``column`` in ``lang`` (the value as text when the
    codebook is None, has no such item, or the value is not one of its whole-number codes).

    References
    ----------
    The codebook format of docs/DESIGN.md, section "Codebook (instrument) format"
    (``options``: code -> label per language).

    Examples
    --------
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


def column_label(codebook: Any, column: str, lang: str = "en", labels: Mapping[str, str] | None = None) -> str:
    """The label of an item or scale in ``lang`` (English fallback); ``labels`` first; else the column name.

    References
    ----------
    The codebook format of docs/DESIGN.md, section "Codebook (instrument) format" (item and
    scale ``label`` in each language).

    Examples
    --------
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "k1", "label": "Knows the rules", "type": "binary", "options": {0: "No", 1: "Yes"}}],
    ...     "scales": [{"id": "skills", "label": "Skills (0-8)", "items": ["k1"]}]})
    >>> column_label(cb, "k1"), column_label(cb, "skills"), column_label(cb, "days", labels={"days": "Days"})
    ('Knows the rules', 'Skills (0-8)', 'Days')
    """
    column = str(column)
    if labels and column in labels:
        return str(labels[column])
    if codebook is None:
        return column
    if column in codebook.item_ids:
        return codebook.item(column).text(lang)
    try:
        return codebook.scale(column).text(lang)
    except KeyError:
        return column


_PATSY_TERM = re.compile(r"C\((.+?)\)(?:\[T\.(.*)\])?(.*)")
_QUOTED = re.compile(r"Q\((['\"])(.*)\1\)")


def term_label(codebook: Any, term: str, lang: str = "en", labels: Mapping[str, str] | None = None) -> str:
    """A model term labelled from the codebook, in every spelling veplab's models write.

    ``(Intercept)``/``Intercept`` -> ``Intercept``; a factor level -> ``Item: Option``,
    whether written as R does (``gender2``: the item followed by one of its option codes,
    the longest item id that fits), with brackets (``gender[2]``) or as statsmodels/patsy
    do (``C(gender)[T.2]``, ``C(gender)2``); ``Q('x')`` and a plain column -> the column's
    label (:func:`column_label`).  Anything else is returned as it is.

    References
    ----------
    R's names of dummy-coded factor levels (``model.matrix``: the variable name followed by
    the level) and patsy's (``C(x)[T.level]``); labels from the codebook format of
    docs/DESIGN.md, section "Codebook (instrument) format".

    Examples
    --------
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "gender", "label": "Gender", "type": "categorical", "options": {1: "Man", 2: "Woman"}}]})
    >>> [term_label(cb, t) for t in ["gender2", "gender[2]", "C(gender)[T.2]", "(Intercept)", "age"]]
    ['Gender: Woman', 'Gender: Woman', 'Gender: Woman', 'Intercept', 'age']
    """
    name = str(term)
    if name in ("Intercept", "(Intercept)"):
        return "Intercept"
    m = _PATSY_TERM.fullmatch(name)
    if m:
        q = _QUOTED.fullmatch(m.group(1))
        col = q.group(2) if q else m.group(1)
        level = m.group(2) if m.group(2) is not None else m.group(3)
        return f"{column_label(codebook, col, lang, labels)}: {option_label(codebook, col, level, lang)}"
    q = _QUOTED.fullmatch(name)
    if q:
        return column_label(codebook, q.group(2), lang, labels)
    if (labels and name in labels) or codebook is None:
        return column_label(codebook, name, lang, labels)
    if name in codebook.item_ids or any(s.id == name for s in getattr(codebook, "scales", ())):
        return column_label(codebook, name, lang, labels)
    b = re.fullmatch(r"(.+)\[(.+)\]", name)
    if b and b.group(1) in codebook.item_ids:
        return f"{column_label(codebook, b.group(1), lang, labels)}: {option_label(codebook, b.group(1), b.group(2), lang)}"
    # R's name: the item followed by one of its option codes (the longest item id that fits)
    for item in sorted((i for i in codebook.item_ids if name.startswith(i) and len(name) > len(i)), key=len, reverse=True):
        level = name[len(item):]
        options = getattr(codebook.item(item), "options", None) or {}
        if level.lstrip("-").isdigit() and int(level) in options:
            return f"{column_label(codebook, item, lang, labels)}: {option_label(codebook, item, level, lang)}"
    return name
