"""Vectorised bootstrap machinery shared by the reliability statistics.

A bootstrap statistic that is a smooth function of column sums of per-row
features ("sufficient statistics") is computed for all resamples at once:
with a matrix ``W`` of resampling weights (``n_boot x n``) and a feature
matrix ``F`` (``n x m``), the resampled sums are ``W @ F``.  ``W`` is
generated in chunks so that memory stays bounded (``chunk_bytes``).

Two weight schemes are offered:

``"multinomial"``
    the classical nonparametric bootstrap (Efron 1979): each resample draws
    ``n`` rows with replacement, so every row of ``W`` is a multinomial
    count vector summing to ``n``.
``"poisson"``
    the Poisson bootstrap (Hanley & MacGibbon 2006; Chamandy et al. 2012):
    independent Poisson(1) counts per row.  It is asymptotically equivalent
    to the multinomial bootstrap and much cheaper to draw for large ``n``
    (no ``n``-by-``n_boot`` index draws and histogramming).  The total weight
    of a resample varies around ``n``; statistics are computed with it.

Refits of models in every resample (omega) are independent per resample and
run in a few threads on contiguous chunks of the resamples (numpy's linear
algebra releases the GIL): :func:`map_chunks`.  The results do not depend on
the number of threads (``VEPLAB_THREADS`` sets it; default: the CPUs
available, at most 4).

``"auto"`` (the default everywhere) uses the multinomial scheme when
``n * n_boot <= 2e7`` and the Poisson scheme above that, so small studies get
the textbook bootstrap and national-scale data stays fast.  The choice is
recorded in every result (``boot_weights``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, overload

import numpy as np
from scipy import stats

from .._validate import InputError, check_choice
from ._common import small_blas

__all__ = ["resampled_sums", "resolve_scheme", "percentile_interval", "check_n_boot", "map_chunks", "AUTO_LIMIT"]

#: ``n * n_boot`` above which ``boot_weights="auto"`` switches to Poisson weights.
AUTO_LIMIT = 20_000_000
_SCHEMES = ("auto", "multinomial", "poisson")


def resolve_scheme(scheme: str, n: int, n_boot: int) -> str:
    """Return ``"multinomial"`` or ``"poisson"`` for ``scheme`` (see module doc)."""
    check_choice(scheme, "boot_weights", _SCHEMES)
    if scheme == "auto":
        return "multinomial" if n * n_boot <= AUTO_LIMIT else "poisson"
    return scheme


def worker_threads() -> int:
    """Threads for per-resample work: ``VEPLAB_THREADS`` or the CPUs available (at most 4)."""
    env = os.environ.get("VEPLAB_THREADS", "").strip()
    if env.isdigit() and int(env) >= 1:
        return int(env)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def map_chunks(fn: Callable[[slice], Any], n: int, *, min_chunk: int = 200) -> list[Any]:
    """``[fn(chunk) for chunk in chunks of range(n)]``, the chunks run in threads.

    The chunks are contiguous and in order; a computation that treats each
    resample on its own gives the same numbers whatever the number of threads.
    """
    threads = min(worker_threads(), max(1, n // min_chunk))
    if threads <= 1:
        return [fn(slice(0, n))]
    bounds = np.linspace(0, n, threads + 1).astype(int)
    chunks = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    with ThreadPoolExecutor(threads) as ex:
        return list(ex.map(fn, chunks))


def check_n_boot(n_boot: int) -> int:
    """Validate the number of resamples."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise InputError(f"n_boot must be an integer >= 10 (2000 is usual), got {n_boot!r}")
    return int(n_boot)


# ----------------------------------------------------------------- Poisson(1) draws
# Exact (to 2**-32) Poisson(1) counts from 16-bit uniforms: a 65536-entry table
# gives the count for every 16-bit bucket that lies inside one Poisson interval;
# the few buckets that straddle a CDF threshold are resolved with 16 further
# random bits.
_CDF = stats.poisson.cdf(np.arange(40), 1.0)
_THRESH = np.unique(np.minimum(np.floor(_CDF * 2.0**32), 2.0**32)).astype(np.float64)
_THRESH = _THRESH[_THRESH < 2.0**32]
_BUCKET_LO = np.arange(65536, dtype=np.float64) * 65536.0
_COUNT_LO = np.searchsorted(_THRESH, _BUCKET_LO, side="right").astype(np.float64)
_COUNT_HI = np.searchsorted(_THRESH, _BUCKET_LO + 65535.0, side="right").astype(np.float64)
_TABLE = np.where(_COUNT_LO == _COUNT_HI, _COUNT_LO, 255).astype(np.uint8)


def _poisson_weights(gen: np.random.Generator, b: int, n: int, dtype: type = np.float64) -> np.ndarray:
    """A ``(b, n)`` block of independent Poisson(1) counts (float64, or float32: counts are exact)."""
    size = b * n
    raw = gen.integers(0, 2**64 - 1, size=(size + 3) // 4, dtype=np.uint64, endpoint=True)
    hi = raw.view(np.uint16)[:size]
    small = np.take(_TABLE, hi)
    w: np.ndarray = small.astype(dtype)
    amb = np.flatnonzero(small == 255)
    if amb.size:
        low = gen.integers(0, 65535, size=amb.size, dtype=np.uint32, endpoint=True).astype(np.float64)
        u = hi[amb].astype(np.float64) * 65536.0 + low
        w[amb] = np.searchsorted(_THRESH, u, side="right")
    return w.reshape(b, n)


def _multinomial_weights(gen: np.random.Generator, b: int, n: int, dtype: type = np.float64) -> np.ndarray:
    """A ``(b, n)`` block of multinomial resampling counts (rows sum to n)."""
    idx = gen.integers(0, n, size=(b, n), dtype=np.int64)
    idx += (np.arange(b, dtype=np.int64) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(dtype)


#: Integers up to 2**24 are exact in float32, and so is every partial sum below it.
_F32_EXACT = float(2**24)


def _block_product(w: np.ndarray, f: np.ndarray, f_max: float) -> np.ndarray:
    """``w @ f`` for float32 integer weights and integer features, exactly.

    Every product and every partial sum of a row of ``w @ f`` is an integer of
    magnitude at most ``f_max * sum(w_row)``; below 2**24 float32 holds all of
    them exactly, whatever order BLAS adds them in, so the float32 product is
    the exact integer result.  Rows of ``w`` that could exceed the bound (never
    with rating-scale items) are multiplied in float64.
    """
    out = (w @ f).astype(np.float64)
    big = w.sum(axis=1, dtype=np.float64) * f_max >= _F32_EXACT
    if big.any():
        out[big] = w[big].astype(np.float64) @ f.astype(np.float64)
    return out


#: Block sizes: resamples per block and rows per block of Poisson weights
#: (about 4 MB of float64 weights, so a block stays in cache).
_POISSON_RESAMPLES = 64
_POISSON_ROWS = 8192
#: Rows per block product (callers sizing integer features for float32 use it).
INT_BLOCK_ROWS = _POISSON_ROWS
_MULTINOMIAL_BYTES = 32e6


#: A lazily computed feature block: ``(first_row, n_rows, n_features, get)`` where
#: ``get(a, b)`` returns the features of rows ``first_row + a .. first_row + b``.
LazyPart = tuple[int, int, int, Callable[[int, int], np.ndarray]]


def _as_lazy(part: tuple) -> LazyPart:
    if len(part) == 4:
        return part
    r0, arr = part
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    return int(r0), arr.shape[0], arr.shape[1], lambda a, b, _arr=arr: _arr[a:b]


@overload
def resampled_sums(
    features: np.ndarray, n_boot: int, gen: np.random.Generator, scheme: str, *,
    n: int | None = None, integer_features: bool = False,
) -> np.ndarray: ...
@overload
def resampled_sums(
    features: list[tuple], n_boot: int, gen: np.random.Generator, scheme: str, *,
    n: int | None = None, integer_features: bool = False,
) -> list[np.ndarray]: ...
def resampled_sums(
    features: np.ndarray | list[tuple],
    n_boot: int,
    gen: np.random.Generator,
    scheme: str,
    *,
    n: int | None = None,
    integer_features: bool = False,
) -> np.ndarray | list[np.ndarray]:
    """``W @ features`` for all ``n_boot`` resamples.

    ``features`` is an ``n x m`` array, or a list of parts covering disjoint
    row ranges of ``n`` rows: ``(first_row, array)`` or lazy
    ``(first_row, n_rows, n_features, get)`` whose features are computed
    block by block (so a wide feature matrix, such as all cross-products of
    20 items, is never held in memory).  Rows in no part have no features.
    One ``n_boot x m_part`` array is returned per part, all from the same
    resampling weights.  ``W`` (``n_boot x n``) is drawn in blocks of a few
    megabytes.  With the same generator state the result is the same.

    ``integer_features=True`` promises integer-valued features (counts,
    products of integer answers): blocks are then multiplied in float32,
    twice as fast, and the sums are still exact (:func:`_block_product`) -
    the same numbers as in float64, up to float64's own rounding of the
    latter.  Features that are not integers are refused.
    """
    single = not isinstance(features, list)
    parts = [_as_lazy((0, features))] if single else [_as_lazy(p) for p in features]
    if n is None:
        n = max(p[0] + p[1] for p in parts)
    outs = [np.zeros((n_boot, p[2])) for p in parts]
    wdt = np.float32 if integer_features else np.float64

    def row_blocks(r0: int, r1: int) -> list[tuple[int, np.ndarray, int, int, float]]:
        out = []
        for k, (p0, pn, _m, get) in enumerate(parts):
            lo, hi = max(r0, p0), min(r1, p0 + pn)
            if lo < hi:
                f = get(lo - p0, hi - p0)
                f_max = 0.0
                if integer_features:
                    f_max = float(np.abs(f).max(initial=0.0))
                    if not np.array_equal(f, np.round(f)):
                        raise ValueError("resampled_sums: integer_features=True but the features are not integers")
                    f = np.ascontiguousarray(f, dtype=np.float32)
                else:
                    f = np.ascontiguousarray(f, dtype=np.float64)
                out.append((k, f, lo, hi, f_max))
        return out

    def product(w: np.ndarray, f: np.ndarray, f_max: float) -> np.ndarray:
        return _block_product(w, f, f_max) if integer_features else w @ f

    # With a second core the block products run in one worker thread while this
    # thread draws the next weights.  One worker adds the blocks in the order
    # they are submitted, so the sums are the same as without it.
    worker = ThreadPoolExecutor(1) if worker_threads() > 1 else None
    pending: list[Any] = []

    def accumulate(w: np.ndarray, jobs: list[tuple[int, np.ndarray, int, int, float]], start: int, b: int, r0: int) -> None:
        def run() -> None:
            for k, f, lo, hi, f_max in jobs:
                outs[k][start : start + b] += product(w[:, lo - r0 : hi - r0], f, f_max)

        if worker is None:
            run()
            return
        while len(pending) > 1:  # at most two blocks of weights alive
            pending.pop(0).result()
        pending.append(worker.submit(run))

    # The block products are small (64 resamples x 8192 rows): BLAS threads
    # give little on them and thrash when the cores are busy (parallel
    # notebook builds, other processes) - 5x slower measured - so one thread.
    try:
        with small_blas():
            if scheme == "poisson":
                # independent weights: walk the rows once, computing each feature block once
                for r0 in range(0, n, _POISSON_ROWS):
                    r1 = min(n, r0 + _POISSON_ROWS)
                    blocks = row_blocks(r0, r1)
                    for start in range(0, n_boot, _POISSON_RESAMPLES):
                        b = min(_POISSON_RESAMPLES, n_boot - start)
                        w = _poisson_weights(gen, b, r1 - r0, wdt)
                        accumulate(w, blocks, start, b, r0)
            else:
                per = max(1, int(_MULTINOMIAL_BYTES // (16 * max(n, 1))))
                for start in range(0, n_boot, per):
                    b = min(per, n_boot - start)
                    w = _multinomial_weights(gen, b, n, wdt)
                    for r0 in range(0, n, _POISSON_ROWS):
                        r1 = min(n, r0 + _POISSON_ROWS)
                        accumulate(w, row_blocks(r0, r1), start, b, 0)
            for job in pending:
                job.result()
    finally:
        if worker is not None:
            worker.shutdown()
    return outs[0] if single else outs


def percentile_interval(values: np.ndarray, ci: float) -> tuple[float, float, int]:
    """Percentile interval of the finite bootstrap values and the number dropped.

    Uses the same quantile definition as R's ``quantile(type = 7)``.
    """
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    dropped = int(values.size - finite.size)
    if finite.size < 2:
        return float("nan"), float("nan"), dropped
    lo, hi = np.quantile(finite, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return float(lo), float(hi), dropped
