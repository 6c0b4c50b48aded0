"""Exact quantiles of a recording-length stream, in bounded memory.

A median over an hour of audio would need the whole hour in memory; instead the stream is
read three times: once for its range and count, once to histogram it into 2**20 bins and
find the bin holding each wanted order statistic, once to collect the (few) values in those
bins and sort them. The result equals ``np.quantile(all_values, q, method="linear")`` (and
``np.median``) exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from sonotype.errors import ParameterError

N_BINS = 1 << 20

Stream = Callable[[], Iterable[np.ndarray]]


def exact_quantiles(stream: Stream, qs: Sequence[float]) -> np.ndarray:
    """The ``qs`` quantiles (linear interpolation, as ``np.quantile``) of all values of
    ``stream()``, a callable that yields the values block by block each time it is called.
    """
    qs = np.asarray(qs, dtype=np.float64)
    if np.any((qs < 0) | (qs > 1)):
        raise ParameterError(f"quantiles {qs.tolist()} must lie in [0, 1]")
    low, high, count = np.inf, -np.inf, 0
    for block in stream():
        block = np.asarray(block, dtype=np.float64).ravel()
        if block.size:
            low, high = min(low, block.min()), max(high, block.max())
            count += block.size
    if count == 0:
        raise ParameterError("cannot take quantiles of an empty recording")
    if low == high:
        return np.full(len(qs), low)

    # Order statistics needed for linear interpolation: floor and ceil of q * (n - 1).
    positions = qs * (count - 1)
    ranks = np.unique(np.concatenate([np.floor(positions), np.ceil(positions)]).astype(np.int64))

    histogram = np.zeros(N_BINS, dtype=np.int64)
    scale = N_BINS / (high - low)
    for block in stream():
        block = np.asarray(block, dtype=np.float64).ravel()
        histogram += np.bincount(_bins(block, low, scale), minlength=N_BINS)
    cumulative = np.cumsum(histogram)
    bins_of_rank = np.searchsorted(cumulative, ranks, side="right")
    wanted = np.unique(bins_of_rank)

    collected = {b: [] for b in wanted.tolist()}
    for block in stream():
        block = np.asarray(block, dtype=np.float64).ravel()
        bins = _bins(block, low, scale)
        inside = np.isin(bins, wanted)
        for b in np.unique(bins[inside]).tolist():
            collected[b].append(block[inside][bins[inside] == b])
    values = {}
    for rank, b in zip(ranks.tolist(), bins_of_rank.tolist(), strict=True):
        in_bin = np.sort(np.concatenate(collected[b]))
        before = cumulative[b - 1] if b > 0 else 0
        values[rank] = in_bin[rank - before]

    lower = np.array([values[int(np.floor(p))] for p in positions])
    upper = np.array([values[int(np.ceil(p))] for p in positions])
    t = positions - np.floor(positions)
    # numpy's interpolation, to the last bit: from the nearer end.
    return np.where(t >= 0.5, upper - (upper - lower) * (1 - t), lower + (upper - lower) * t)


def _bins(block: np.ndarray, low: float, scale: float) -> np.ndarray:
    return np.minimum(((block - low) * scale).astype(np.int64), N_BINS - 1)
