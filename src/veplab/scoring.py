"""Scale scoring: reverse keying, keyed (knowledge) items, prorated means and sums.

A scale score is the mean of the answered items when at least ``min_items``
are answered (prorating), else missing.  ``score: sum`` gives the prorated sum,
``mean x k``, so a respondent who skipped one item of a 5-item sum scale is
not scored lower for it.  Reverse-keyed items enter as ``min + max - code``;
keyed knowledge items enter as 1 (answer equals the key) or 0.

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

import numpy as np
import pandas as pd

from .codebook import Codebook, Item

__all__ = ["item_scores", "score_scales"]


def _item_values(series: pd.Series, item: Item, *, already_reversed: bool) -> np.ndarray:
    vals = pd.to_numeric(pd.Series(np.asarray(series, dtype=object)), errors="coerce").to_numpy(dtype="float64")
    if item.key is not None:
        return np.where(np.isnan(vals), np.nan, (vals == item.key).astype("float64"))
    if item.reverse and not already_reversed:
        return item.reversed_code(vals)
    return vals


def item_scores(df: pd.DataFrame, codebook: Codebook, items: list[str] | tuple[str, ...], *,
                already_reversed: bool = False) -> pd.DataFrame:
    """Items as they enter scale scores: floats, reverse-keyed, keyed items 0/1.

    Raises ``KeyError`` naming the missing columns.
    """
    absent = [i for i in items if i not in df.columns]
    if absent:
        raise KeyError(f"columns {absent} are not in the data")
    return pd.DataFrame(
        {i: _item_values(df[i], codebook.item(i), already_reversed=already_reversed) for i in items},
        index=df.index,
    )


def score_scales(df: pd.DataFrame, codebook: Codebook, *, scales: list[str] | None = None,
                 already_reversed: bool = False) -> pd.DataFrame:
    """One column per scale of ``codebook`` with its prorated score.

    Scales whose items are not all in ``df`` are skipped only if none of their
    items is present; a partly present scale is scored from what is there,
    with ``min_items`` still applied to the codebook's full item count.
    """
    out = {}
    for scale in codebook.scales:
        if scales is not None and scale.id not in scales:
            continue
        present = [i for i in scale.items if i in df.columns]
        if not present:
            continue
        x = item_scores(df, codebook, present, already_reversed=already_reversed).to_numpy()
        answered = np.sum(~np.isnan(x), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(x, axis=1) / answered
        mean = np.where(answered >= scale.min_items, mean, np.nan)
        out[scale.id] = mean * len(scale.items) if scale.score == "sum" else mean
    return pd.DataFrame(out, index=df.index)
