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

from ._validate import InputError
from .codebook import Codebook, Item

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

    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "a", "label": "a", "type": "likert", "options": {1: "no", 2: "yes"}, "reverse": True}]})
    >>> already_reversed_in(pd.DataFrame({"a": [1, 2]}), cb, ["a"])
    False
    """
    if already_reversed is not None:
        return bool(already_reversed)
    try:
        from .data.load import load_info
        from .data.reasons import reason_columns
    except ImportError:  # pragma: no cover - data layer not installed
        return False
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
    * reverse-keyed items become ``min + max - code`` over their option codes
      unless ``already_reversed`` (default: whatever ``veplab.data.load``
      recorded, so data loaded with ``reverse=True`` are not reversed twice;
      when that record was lost in a merge, an error asks for it, see
      :func:`already_reversed_in`).

    Every item statistic of a scale (alpha, which on 0/1 items is KR-20;
    omega; item means, which on 0/1 items are the share answering correctly;
    factor models; reliable change) is computed on these values, so a raw
    option code never enters one.

    Raises :class:`~veplab._validate.InputError` naming the columns absent
    from ``df`` or the items absent from ``codebook``, or a column whose
    answers are not numeric codes.

    References: Kuder & Richardson (1937), "The theory of the estimation of
    test reliability", Psychometrika 2, 151-160 (scored 0/1 items).

    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "quiz", "title": "t", "id_column": "id", "items": [
    ...     {"id": "q1", "label": "q1", "type": "categorical",
    ...      "options": {1: "right", 2: "wrong", 8: "I don't know"}, "missing": {9: "refused"}, "key": 1}]})
    >>> scored_items(pd.DataFrame({"q1": [1, 2, 8, 9, None]}), cb, ["q1"])["q1"].tolist()
    [1.0, 0.0, 0.0, nan, nan]
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
    ``k / (k - 1) * (1 - sum p_j q_j / var(total))``, and an item's mean, when
    scored 0/1, is the share answering it correctly.

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

    score = (sum of answered scored items / number answered) x (k if ``score: sum``),
    missing when fewer than ``min_items`` are answered.
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
