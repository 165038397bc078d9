"""Item-level generation driven by the codebooks.

Every coded item of a scale is an ordered-probit (threshold) function of the
latent score behind its scale: the item's latent response is
``y* = loading * eta + sqrt(1 - loading^2) * e`` (``e`` standard normal) and the
answer is the number of thresholds ``y*`` exceeds, mapped onto the item's
option codes in order.  Reverse-keyed items get a negative loading, so their
*raw* codes run against the construct (the scoring reverses them back).
Item parameters come from :func:`veplab.synth._common.stable_rng` seeded by the
item id, so they do not change with the study seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ..codebook import Codebook, Item
from ._common import codes_of, missing_code, stable_rng

#: Thresholds of a 5-point agreement item for a latent at 0 (shifted by the
#: item's difficulty): a spread a little wider than equal-probability cuts.
BASE_THRESHOLDS = {
    2: np.array([0.0]),
    3: np.array([-0.45, 0.65]),
    4: np.array([-1.0, 0.0, 0.9]),
    5: np.array([-1.2, -0.4, 0.3, 1.0]),
}


def base_thresholds(k: int) -> np.ndarray:
    if k in BASE_THRESHOLDS:
        return BASE_THRESHOLDS[k]
    return np.linspace(-1.4, 1.2, k - 1)


def item_parameters(
    cb: Codebook,
    items: Sequence[Item],
    *,
    difficulty: float = 0.0,
    loading_range: tuple[float, float] = (0.55, 0.85),
    jitter: float = 0.3,
    thresholds: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Signed loadings (J,) and thresholds (J, k-1) of a block of items.

    ``difficulty`` shifts the thresholds up (harder to endorse).  For a
    reverse-keyed item the loading is negative and the difficulty mirrored,
    so that the *raw* distribution mirrors a forward item's.
    """
    lam = np.empty(len(items))
    taus = []
    for j, item in enumerate(items):
        r = stable_rng("item", cb.id, item.id)
        lo, hi = loading_range
        lam[j] = r.uniform(lo, hi)
        shift = difficulty + r.uniform(-jitter, jitter)
        base = thresholds if thresholds is not None else base_thresholds(len(item.options))
        if item.reverse:
            lam[j] = -lam[j]
            taus.append(-(base[::-1] + shift))
        else:
            taus.append(base + shift)
    k = max(len(t) for t in taus)
    tau = np.full((len(items), k), np.inf)
    for j, t in enumerate(taus):
        tau[j, : len(t)] = t
    return {"loadings": lam, "thresholds": tau}


def categories_to_codes(idx: np.ndarray, items: Sequence[Item]) -> np.ndarray:
    """Map category indices (n, J) to each item's option codes (float array)."""
    out = np.empty(idx.shape, dtype=float)
    for j, item in enumerate(items):
        codes = np.asarray(codes_of(item), dtype=float)
        out[:, j] = codes[np.minimum(idx[:, j], len(codes) - 1)]
    return out


def apply_missing(
    codes: np.ndarray,
    items: Sequence[Item],
    rng: np.random.Generator,
    *,
    dont_know: float | np.ndarray = 0.03,
    refused: float | np.ndarray = 0.012,
    not_applicable: float | np.ndarray = 0.0,
    missing: float = 0.003,
    blank: float = 0.002,
    protect: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, int]]:
    """Replace answers by the items' missing codes at the given rates.

    Rates are per cell; arrays broadcast against (n, J) (e.g. per respondent
    (n, 1) or per item (J,)).  Items without a code for a reason get none of
    it.  ``blank`` cells become system-missing (an empty cell in the export).
    ``protect`` (n,) marks rows left untouched (straight-liners).
    """
    n, J = codes.shape
    counts = {"dont_know": 0, "refused": 0, "not_applicable": 0, "missing": 0, "blank": 0}
    u = rng.random((n, J))
    edge = np.zeros((n, J))
    for reason, rate in (("not_applicable", not_applicable), ("refused", refused),
                         ("dont_know", dont_know), ("missing", missing)):
        code_row = np.array([missing_code(it, reason) for it in items], dtype=object)
        has = np.array([c is not None for c in code_row])
        if not has.any() or not np.any(rate):
            continue
        rate = np.broadcast_to(np.asarray(rate, dtype=float), (n, J)) * has[None, :]
        hit = (u >= edge) & (u < edge + rate)
        if protect is not None:
            hit &= ~protect[:, None]
        fill = np.array([np.nan if c is None else float(c) for c in code_row])
        codes = np.where(hit, fill[None, :], codes)
        counts[reason] += int(hit.sum())
        edge = edge + rate
    if blank:
        b = rng.random((n, J)) < blank
        if protect is not None:
            b &= ~protect[:, None]
        codes[b] = np.nan
        counts["blank"] = int(b.sum())
    return codes, counts


def expected_rate(base: float, shift: np.ndarray) -> np.ndarray:
    """``expit(logit(base) + shift)``: a rate that moves with a covariate."""
    return special.expit(special.logit(base) + shift)


# ------------------------------------------------------------------ other item types


def random_dates(rng: np.random.Generator, n: int, start: str, end: str) -> np.ndarray:
    """Uniform dates between ``start`` and ``end`` (datetime64[D])."""
    a, b = np.datetime64(start, "D"), np.datetime64(end, "D")
    days = rng.integers(0, int((b - a).astype(int)) + 1, n)
    return a + days.astype("timedelta64[D]")


def iso_dates(values: np.ndarray) -> np.ndarray:
    """datetime64[D] -> 'YYYY-MM-DD' strings (NaT -> '')."""
    out = np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)
    out[np.isnat(values)] = ""
    return out


def generic_column(item: Item, n: int, rng: np.random.Generator, *, context: Mapping[str, Any] | None = None) -> np.ndarray:
    """A plausible column for an item no generator knows about.

    Coded items: a stable, mildly uneven distribution over the options.
    Numeric: within [min, max] (or 0..100), integers when the codebook says so.
    Dates: within the study's fieldwork year.  Text: empty.
    """
    r = stable_rng("generic", item.id)
    if item.type in ("likert", "ordinal", "binary", "categorical"):
        codes = codes_of(item)
        p = r.dirichlet(np.full(len(codes), 4.0))
        idx = (rng.random(n)[:, None] > np.cumsum(p)[None, :]).sum(axis=1)
        return np.asarray(codes, dtype=float)[np.minimum(idx, len(codes) - 1)]
    if item.type == "numeric":
        lo = item.min if item.min is not None else 0.0
        hi = item.max if item.max is not None else max(lo + 100.0, 100.0)
        x = lo + (hi - lo) * rng.beta(2.0, 4.0, n)
        return np.round(x) if item.integer else np.round(x, 2)
    if item.type == "date":
        return iso_dates(random_dates(rng, n, "2022-01-01", "2022-12-31"))
    return np.full(n, "", dtype=object)


def format_date_column(values: np.ndarray, item: Item) -> np.ndarray:
    """datetime64 dates in the item's export format (ISO 8601 by default)."""
    if not item.date_format:
        return iso_dates(values)
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = "" if np.isnat(v) else pd.Timestamp(v).strftime(item.date_format)
    return out
