"""Shared pieces of the synthetic study: the demo pseudonym key, stable per-item
parameters, categorical draws, threshold counting, integer allocation."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..codebook import Codebook, Item

#: Fixed key for the *synthetic* demo only.  It is public on purpose: it must
#: never be used for real data, whose key is kept outside the repository.
DEMO_KEY: bytes = b"veplab-SYNTHETIC-DEMO-KEY-public-never-use-for-real-data"

def stable_rng(*parts: Any) -> np.random.Generator:
    """A generator seeded from names, not from the study seed.

    Model *parameters* (loadings, thresholds, item difficulties) belong to the
    data-generating model and must not change with the seed; the seed only
    drives sampling.  Seeding from a CRC of the item id keeps an item's
    parameters stable when other items are added to a codebook.
    """
    text = "|".join(str(p) for p in parts)
    return np.random.default_rng([zlib.crc32(text.encode("utf-8")), 20261121])


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total``."""
    w = np.asarray(weights, dtype=float)
    if total == 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    raw = w / w.sum() * total
    base = np.floor(raw).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        order = np.argsort(-(raw - base), kind="stable")
        base[order[:short]] += 1
    return base


def draw_categorical(
    rng: np.random.Generator, n: int, codes: Sequence[int], probs: Sequence[float] | np.ndarray
) -> np.ndarray:
    """``n`` draws of ``codes`` with fixed probabilities."""
    p = np.asarray(probs, dtype=float)
    cum = np.cumsum(p / p.sum())
    idx = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(p) - 1)
    return np.asarray(list(codes))[idx]


def threshold_index(ystar: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Number of thresholds below each ``y*`` (n, J), thresholds (J, k-1), per item."""
    out = np.empty(ystar.shape, dtype=np.int64)
    for j in range(ystar.shape[1]):
        t = thresholds[j]
        out[:, j] = np.searchsorted(t[np.isfinite(t)], ystar[:, j], side="left")
    return out


# ------------------------------------------------------------------ codebook helpers


def codes_of(item: Item) -> list[int]:
    return sorted(item.options)


def missing_code(item: Item, reason: str) -> int | None:
    """The code an item uses for a missing ``reason`` (None when it has none)."""
    for code, why in sorted(item.missing.items()):
        if why == reason:
            return code
    return None


def scale_of_item(cb: Codebook) -> dict[str, str]:
    out: dict[str, str] = {}
    for s in cb.scales:
        for i in s.items:
            out.setdefault(i, s.id)
    return out


def keyword(text: str, *words: str) -> bool:
    t = text.lower()
    return any(w in t for w in words)
