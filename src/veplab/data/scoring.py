"""Scale scoring: missing codes, reverse keying, keyed (knowledge) items, prorated means and sums.

:func:`scored_items` is the one place where an item's answer becomes the number
that item statistics (alpha/KR-20, omega, item analysis, factor models,
reliable change) and scale scores use:

* the item's missing codes (``missing: {8: dont_know, 9: refused}``) become
  missing -- a genuine missing answer never counts as wrong;
* a keyed item (``key:``, the correct option of a knowledge item) scores 1 when
  the answer is the key and 0 for any other option, *including* an "I don't
  know" that is an answer option rather than a missing code;
* a reverse-keyed item (``reverse: true``) enters as ``min + max - code`` over
  its option codes, unless the data are already reversed.

A scale score is the mean of the answered scored items when at least
``min_items`` are answered (prorating), else missing.  ``score: sum`` gives the
prorated sum, ``mean x k``, so a respondent who skipped one item of a 5-item
sum scale is not scored lower for it (for a knowledge quiz, the number of
correct answers).

>>> import pandas as pd
>>> from veplab.codebook import from_dict
>>> cb = from_dict({"id": "x", "title": "t", "id_column": "id", "items": [
...     {"id": "a", "label": "a", "type": "likert", "options": {1: "no", 2: "-", 3: "yes"}},
...     {"id": "b", "label": "b", "type": "likert", "options": {1: "no", 2: "-", 3: "yes"}, "reverse": True}],
...     "scales": [{"id": "s", "items": ["a", "b"], "min_items": 1}]})
>>> score_scales(pd.DataFrame({"a": [3, 1, None], "b": [1, None, None]}), cb)["s"].tolist()
[3.0, 1.0, nan]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validate import InputError
from ..codebook import Codebook, Item
from ._record import load_info
from .reasons import reason_columns

__all__ = ["already_reversed_in", "dichotomous", "item_scores", "score_scales", "scored_items"]


def already_reversed_in(df: pd.DataFrame, codebook: Codebook, items: Sequence[str],
                        already_reversed: bool | None = None, *, what: str = "scoring",
                        argument: str = "already_reversed") -> bool:
    """Whether the reverse-keyed ``items`` of ``df`` are already reversed.

    ``already_reversed`` when given; else what :func:`veplab.data.load` recorded
    (``reverse=True``); else, for data that still hold load's reason columns but
    lost its record (pandas drops ``df.attrs`` on merge, join and concat), an
    :class:`~veplab._validate.InputError` asking the caller to say -- a guess
    could reverse the items twice; else ``False`` (data not made by ``load``).

    Parameters
    ----------
    df : DataFrame
        The item data.
    codebook : Codebook
        Their instrument.
    items : sequence of str
        The items about to be scored.
    already_reversed : bool, optional
        What the caller knows.
    what, argument : str
        The function and argument named in the error message.

    Returns
    -------
    bool

    Raises
    ------
    InputError
        When the answer cannot be known (see above).

    References
    ----------
    Revelle, W. (2024). *psych: Procedures for Psychological, Psychometric,
    and Personality Research*, R package, ``reverse.code`` (reversed items are
    subtracted from item max + item min; reversing twice restores them).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> from veplab.data import set_missing_reasons
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "a", "label": "a", "type": "likert", "options": {1: "no", 2: "yes"}, "reverse": True}]})
    >>> already_reversed_in(pd.DataFrame({"a": [1, 2]}), cb, ["a"])
    False
    >>> merged = set_missing_reasons(pd.DataFrame({"a": [1, None]}), {"a": [None, "refused"]})
    >>> try:
    ...     already_reversed_in(merged, cb, ["a"])
    ... except ValueError as error:
    ...     print(str(error)[:80])
    scoring: the data come from veplab.data.load (they hold its reason columns) but
    >>> already_reversed_in(merged, cb, ["a"], already_reversed=True)
    True
    """
    if already_reversed is not None:
        return bool(already_reversed)
    info = load_info(df)
    if info is not None:
        return bool(getattr(info, "reversed", False))
    reverse = [i for i in items if i in codebook and codebook.item(i).reverse]
    if reverse and reason_columns(df):
        raise InputError(
            f"{what}: the data come from veplab.data.load (they hold its reason columns) but its record of the "
            "load was lost (pandas drops df.attrs on merge, join and concat), so it is not known whether the "
            f"reverse-keyed items {reverse[:6]} are already reversed; say so: {argument}=True if the data were "
            f"loaded with reverse=True, else {argument}=False")
    return False


def _numeric(series: pd.Series, item: Item) -> np.ndarray:
    values = pd.to_numeric(pd.Series(np.asarray(series, dtype=object), index=series.index), errors="coerce")
    bad = values.isna().to_numpy() & series.notna().to_numpy()
    if bad.any():
        shown = ", ".join(repr(v) for v in pd.unique(np.asarray(series, dtype=object)[bad])[:5])
        raise InputError(f"column {item.id!r} has {int(bad.sum())} answers that are not option codes ({shown}); "
                         "load the data with its codebook (veplab.data.load) or recode the answers to the "
                         "codebook's numeric codes")
    return values.to_numpy(dtype="float64", copy=True)


def _score(series: pd.Series, item: Item, *, already_reversed: bool) -> np.ndarray:
    vals = _numeric(series, item)
    for code in item.missing:  # a missing code (don't know, refused, not asked...) is missing, never wrong
        vals[vals == code] = np.nan
    if item.key is not None:
        answered = ~np.isnan(vals)
        if item.options:
            other = answered & ~np.isin(vals, list(item.options))
            if other.any():
                shown = ", ".join(str(int(v)) if float(v).is_integer() else str(v)
                                  for v in np.unique(vals[other])[:5])
                raise InputError(f"column {item.id!r}: {int(other.sum())} answers have codes ({shown}) that are "
                                 f"neither options nor missing codes of this keyed item, so they cannot be scored "
                                 f"right or wrong; add them to the item's options (scored 0) or to its missing: "
                                 f"codes (left missing) in the codebook")
        return np.where(answered, (vals == item.key).astype("float64"), np.nan)
    if item.reverse and not already_reversed and item.codes:
        return item.reversed_code(vals)
    return vals


def scored_items(df: pd.DataFrame, codebook: Codebook, items: Sequence[str], *,
                 already_reversed: bool | None = None) -> pd.DataFrame:
    """Items as every item statistic and scale score takes them: floats, keyed items 0/1, reversed.

    For each item of ``items`` (column of ``df``, item of ``codebook``):

    * codes the codebook lists under ``missing:`` become NaN (data loaded
      with :func:`veplab.data.load` already have them missing);
    * keyed items (``key:``) become ``1`` when the answer equals the key and
      ``0`` for any other option -- an "I don't know" *option* scores 0, as a
      wrong answer; an answer that is neither an option nor a missing code
      raises :class:`~veplab._validate.InputError` naming the column (it cannot
      be scored right or wrong);
    * reverse-keyed items become ``x_rev = min + max - x`` over their option codes
      unless ``already_reversed`` (default: whatever ``veplab.data.load``
      recorded, so data loaded with ``reverse=True`` are not reversed twice;
      when that record was lost in a merge, an error asks for it, see
      :func:`already_reversed_in`).

    Every item statistic of a scale (alpha, which on 0/1 items is KR-20;
    omega; item means, which on 0/1 items are the share answering correctly;
    factor models; reliable change) is computed on these values, so a raw
    option code never enters one.

    Parameters
    ----------
    df : DataFrame
        Item data.
    codebook : Codebook
        Their instrument.
    items : sequence of str
        The items wanted, in order.
    already_reversed : bool, optional
        See above.

    Returns
    -------
    DataFrame
        ``df``'s index, one float column per item.

    Raises
    ------
    InputError
        Naming the columns absent from ``df`` or the items absent from
        ``codebook``, or a column whose answers are not numeric codes.

    References
    ----------
    Kuder, G. F. & Richardson, M. W. (1937). The theory of the estimation of
    test reliability. *Psychometrika* 2(3), 151-160 (scored 0/1 items).
    Revelle, W. (2024). *psych*, R package: ``reverse.code(keys, items, mini,
    maxi)`` (reversed = maxi + mini - x) and ``score.multiple.choice`` (1 for
    the key, 0 otherwise).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "quiz", "title": "t", "id_column": "id", "items": [
    ...     {"id": "q1", "label": "q1", "type": "categorical",
    ...      "options": {1: "right", 2: "wrong", 8: "I don't know"}, "missing": {9: "refused"}, "key": 1},
    ...     {"id": "q2", "label": "q2", "type": "likert", "options": {1: "no", 2: "-", 3: "yes"},
    ...      "reverse": True}]})
    >>> scored_items(pd.DataFrame({"q1": [1, 2, 8, 9, None], "q2": [1, 2, 3, None, 3]}), cb, ["q1", "q2"])
        q1   q2
    0  1.0  3.0
    1  0.0  2.0
    2  0.0  1.0
    3  NaN  NaN
    4  NaN  1.0
    """
    items = list(items)
    absent = [i for i in items if i not in df.columns]
    if absent:
        raise InputError(f"columns {absent} are not in the data; the codebook {codebook.id!r} names them as "
                         "items to score")
    unknown = [i for i in items if i not in codebook]
    if unknown:
        raise InputError(f"codebook {codebook.id!r} has no item(s) {unknown}; add them to the codebook or leave "
                         "them out of the scale")
    already_reversed = already_reversed_in(df, codebook, items, already_reversed)
    return pd.DataFrame(
        {i: _score(df[i], codebook.item(i), already_reversed=already_reversed) for i in items},
        index=df.index,
    )


#: Former name of :func:`scored_items` (the same function).
item_scores = scored_items


def dichotomous(items: pd.DataFrame) -> bool:
    """Whether every column takes at most two distinct (non-missing) values, as right/wrong items do.

    On such items Cronbach's alpha *is* Kuder-Richardson formula 20 (KR-20),
    ``KR20 = k / (k - 1) * (1 - sum p_j q_j / var(total))``, and an item's mean, when
    scored 0/1, is the share answering it correctly (``p_j``, with ``q_j = 1 - p_j``).

    Parameters
    ----------
    items : DataFrame
        One column per item.

    Returns
    -------
    bool

    References
    ----------
    Kuder, G. F. & Richardson, M. W. (1937). The theory of the estimation of
    test reliability. *Psychometrika* 2(3), 151-160.
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of
    tests. *Psychometrika* 16(3), 297-334 (alpha reduces to KR-20 on 0/1 items).

    Examples
    --------
    >>> import pandas as pd
    >>> dichotomous(pd.DataFrame({"a": [0, 1, None], "b": [1, 1, 0]})), dichotomous(pd.DataFrame({"a": [1, 2, 3]}))
    (True, False)
    """
    return bool(len(items.columns)) and all(items[c].nunique(dropna=True) <= 2 for c in items.columns)


def score_scales(df: pd.DataFrame, codebook: Codebook, *, scales: list[str] | None = None,
                 already_reversed: bool | None = None) -> pd.DataFrame:
    """One column per scale of ``codebook`` with its prorated score, from :func:`scored_items`.

    Scales whose items are not all in ``df`` are skipped only if none of their
    items is present; a partly present scale is scored from what is there,
    with ``min_items`` still applied to the codebook's full item count.
    ``already_reversed`` as in :func:`scored_items`.

    For respondent i, with x_ij the scored items (missing codes removed, keyed
    items 0/1, reverse-keyed items ``x_rev = min + max - x``), m_i the number
    answered and k the scale's number of items:

        mean_i = sum_j x_ij / m_i            when m_i >= min_items, else missing
        sum_i = k * mean_i                   (``score: sum``: the prorated sum)

    Parameters
    ----------
    df : DataFrame
        Item data (from :func:`veplab.data.load`, or any frame of codes).
    codebook : Codebook
        Its instrument, with ``scales:``.
    scales : list of str, optional
        Only these scales (default all).
    already_reversed : bool, optional
        Whether reverse-keyed items are already reversed (see
        :func:`already_reversed_in`).

    Returns
    -------
    DataFrame
        ``df``'s index, one float column per scale.

    Raises
    ------
    InputError
        From :func:`scored_items` (answers that are not codes, a lost load
        record).

    References
    ----------
    Revelle, W. (2024). *psych: Procedures for Psychological, Psychometric,
    and Personality Research*, R package: ``scoreItems(keys, items,
    impute = "none")`` gives the same mean scores (checked on the example
    below: 2.667, 1.5, NaN, 1.333), and ``reverse.code`` the same reversal.
    Mazza, G. L., Enders, C. K. & Ruehlman, L. S. (2015). Addressing
    item-level missing data: a comparison of proration and full information
    maximum likelihood estimation. *Multivariate Behavioral Research* 50(5),
    504-519 (what proration assumes).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> opts = {1: "no", 2: "sometimes", 3: "yes"}
    >>> cb = from_dict({"id": "x", "title": "t", "id_column": "id", "items": [
    ...     {"id": "a", "label": "a", "type": "likert", "options": opts},
    ...     {"id": "b", "label": "b", "type": "likert", "options": opts, "reverse": True},
    ...     {"id": "c", "label": "c", "type": "likert", "options": opts}],
    ...     "scales": [{"id": "mean_score", "items": ["a", "b", "c"], "min_items": 1},
    ...                {"id": "sum_score", "items": ["a", "b", "c"], "score": "sum", "min_items": 2}]})
    >>> df = pd.DataFrame({"a": [3, 1, None, 2], "b": [1, None, None, 3], "c": [2, 2, None, 1]})
    >>> score_scales(df, cb).round(3)
       mean_score  sum_score
    0       2.667        8.0
    1       1.500        4.5
    2         NaN        NaN
    3       1.333        4.0
    """
    out = {}
    for scale in codebook.scales:
        if scales is not None and scale.id not in scales:
            continue
        present = [i for i in scale.items if i in df.columns]
        if not present:
            continue
        x = scored_items(df, codebook, present, already_reversed=already_reversed).to_numpy()
        answered = np.sum(~np.isnan(x), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(x, axis=1) / answered
        mean = np.where(answered >= scale.min_items, mean, np.nan)
        out[scale.id] = mean * len(scale.items) if scale.score == "sum" else mean
    return pd.DataFrame(out, index=df.index)
