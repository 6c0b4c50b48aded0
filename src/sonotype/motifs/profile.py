"""The multidimensional matrix profile of a CENS sequence, by stumpy or by BLAS.

For every subsequence of ``window`` frames the matrix profile holds the distance to its
nearest other subsequence (outside an exclusion zone of ``ceil(window / 4)`` frames, to
skip trivial self-matches) and that neighbour's index. The distance is the one of
``stumpy.mstump``'s last row (all dimensions): the mean over the 12 chroma dimensions of
the z-normalised Euclidean distances. Two engines compute it:

- ``"stumpy"``: ``stumpy.mstump`` (numba, compiled in each new process; ``O(n^2 d log d)``
  work);
- ``"numpy"``: per dimension, the z-normalised windows of a block of rows times those of
  all rows (one matrix product), so the squared distance is ``2 m (1 - correlation)``;
  exact, no compilation, but ``O(n^2 d m)`` work and ``n d m`` values of memory.

``"auto"`` picks numpy while its memory (the z-normalised windows, ``n d m`` float64, and a
few ``block_rows x n`` blocks) stays under :data:`NUMPY_MAX_BYTES`, about 2.8 hours of CENS
at 10 frames per second with a 5 s window, and stumpy beyond: ``benchmarks/motifs.py``
measured the numpy engine 1.2-2 times faster than compiled ``stumpy.mstump`` on 2 to 20
minutes of CENS (one thread each), and stumpy compiles for 25-30 s per process on top
(docs/motifs.md). Windows that straddle a gap between concatenated
segments (see ``lengths``) get an infinite distance and are never anyone's neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sonotype.checks import check_choice, check_int
from sonotype.errors import ParameterError

ENGINES = ("auto", "numpy", "stumpy")

#: "auto" uses the numpy engine while it needs at most this many bytes (it was measured
#: faster than stumpy at every length tried, but its memory grows with the sequence).
NUMPY_MAX_BYTES = 2 * 2**30

# stumpy's threshold below which a window counts as constant (config.STUMPY_STDDEV_THRESHOLD).
_CONSTANT_STD = 1e-7


@dataclass(frozen=True)
class MatrixProfile:
    """Nearest-neighbour distances of every window of a sequence.

    Attributes
    ----------
    distances : ndarray, shape (n_windows,)
        Distance of each window to its nearest non-trivial neighbour (inf when it has none).
    indices : ndarray, shape (n_windows,)
        Index of that neighbour (-1 when none).
    window : int
        Window length in frames.
    """

    distances: np.ndarray
    indices: np.ndarray
    window: int

    def motif(self) -> tuple[int, int, float]:
        """The top motif pair: the window with the smallest distance, its neighbour, and
        the distance."""
        finite = np.isfinite(self.distances)
        if not finite.any():
            raise ParameterError("no window has a neighbour; the sequence is too short")
        i = int(np.argmin(np.where(finite, self.distances, np.inf)))
        return i, int(self.indices[i]), float(self.distances[i])

    def discord(self) -> tuple[int, float]:
        """The top discord: the window farthest from its nearest neighbour."""
        finite = np.isfinite(self.distances)
        if not finite.any():
            raise ParameterError("no window has a neighbour; the sequence is too short")
        i = int(np.argmax(np.where(finite, self.distances, -np.inf)))
        return i, float(self.distances[i])


def window_validity(lengths, window: int) -> np.ndarray:
    """Which windows of the concatenation of segments of ``lengths`` frames lie inside one
    segment: bool, shape ``(sum(lengths) - window + 1,)``."""
    lengths = np.asarray(lengths, dtype=np.int64)
    segment = np.repeat(np.arange(len(lengths)), lengths)
    n_windows = len(segment) - window + 1
    if n_windows < 1:
        return np.zeros(0, dtype=bool)
    return segment[:n_windows] == segment[window - 1 :]


def matrix_profile(
    series: np.ndarray,
    *,
    window: int,
    lengths=None,
    engine: str = "auto",
    block_rows: int = 512,
) -> MatrixProfile:
    """The all-dimensions matrix profile of a multivariate sequence.

    Parameters
    ----------
    series : ndarray, shape (d, n_frames)
        E.g. CENS (``d = 12``).
    window : int
        Subsequence length in frames (at least 3).
    lengths : sequence of int, optional
        When ``series`` concatenates segments (e.g. events), their lengths in frames,
        summing to ``n_frames``: windows that straddle two segments get no match.
    engine : {"auto", "numpy", "stumpy"}
        See the module notes.
    block_rows : int
        Rows per matrix product of the numpy engine (memory ``block_rows x n`` floats).

    Returns
    -------
    MatrixProfile

    Examples
    --------
    >>> t = np.arange(200)
    >>> series = np.vstack([np.sin(t / 5.0), np.cos(t / 7.0)])
    >>> mp = matrix_profile(series, window=20, engine="numpy")
    >>> mp.distances.shape
    (181,)
    """
    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 2:
        raise ParameterError(f"series has shape {series.shape}; it needs (d, n_frames)")
    window = check_int(window, name="window", minimum=3, hint="it is in frames")
    engine = check_choice(engine, name="engine", choices=ENGINES)
    n_windows = series.shape[1] - window + 1
    if n_windows < 2:
        raise ParameterError(
            f"window={window} frames needs a sequence of at least {window + 1} frames; this "
            f"one has {series.shape[1]}: use a shorter --window or longer recordings",
            parameter="window",
        )
    if lengths is not None and int(np.sum(lengths)) != series.shape[1]:
        raise ParameterError(
            f"lengths sum to {int(np.sum(lengths))}; they must sum to the {series.shape[1]} "
            "frames of series"
        )
    valid = np.ones(n_windows, dtype=bool) if lengths is None else window_validity(lengths, window)
    if not np.isfinite(series).all():
        raise ParameterError("series holds NaN or infinite values; CENS never does")
    if engine == "auto":
        needed = 8 * n_windows * (series.shape[0] * window + 4 * block_rows)
        engine = "numpy" if needed <= NUMPY_MAX_BYTES else "stumpy"
    if engine == "stumpy":
        distances, indices = _stumpy_profile(series, window, lengths)
    else:
        distances, indices = _numpy_profile(series, window, valid, block_rows)
    return MatrixProfile(distances, indices, window)


def exclusion_zone(window: int) -> int:
    """Half-width of the zone around a window whose neighbours are trivial (stumpy's)."""
    return int(np.ceil(window / 4))


def znormalised_windows(x: np.ndarray, window: int) -> np.ndarray:
    """Windows of one dimension, z-normalised; constant windows become zeros, so that
    their squared distance to any other window is ``window`` (0 to another constant one),
    as stumpy defines it."""
    w = np.lib.stride_tricks.sliding_window_view(x, window)
    mean = w.mean(axis=1, keepdims=True)
    std = w.std(axis=1, keepdims=True)
    constant = std < _CONSTANT_STD
    return np.where(constant, 0.0, (w - mean) / np.where(constant, 1.0, std))


def _numpy_profile(series, window, valid, block_rows):
    d = series.shape[0]
    n = series.shape[1] - window + 1
    z = [znormalised_windows(series[k], window) for k in range(d)]
    sq = [np.einsum("ij,ij->i", zk, zk) for zk in z]
    excl = exclusion_zone(window)
    distances = np.full(n, np.inf)
    indices = np.full(n, -1, dtype=np.int64)
    columns = np.arange(n)
    for start in range(0, n, block_rows):
        rows = slice(start, min(start + block_rows, n))
        total = np.zeros((rows.stop - start, n))
        for k in range(d):
            squared = sq[k][rows, None] + sq[k][None, :] - 2.0 * (z[k][rows] @ z[k].T)
            total += np.sqrt(np.maximum(squared, 0.0))
        total /= d
        row_ids = columns[rows]
        trivial = np.abs(row_ids[:, None] - columns[None, :]) <= excl
        total[trivial] = np.inf
        total[:, ~valid] = np.inf
        best = np.argmin(total, axis=1)
        distances[rows] = total[np.arange(len(best)), best]
        indices[rows] = np.where(np.isfinite(distances[rows]), best, -1)
    distances[~valid] = np.inf
    indices[~valid] = -1
    return distances, indices


def _stumpy_profile(series, window, lengths):
    import stumpy

    if lengths is None:
        profiles, neighbours = stumpy.mstump(series, window)
        distances = np.asarray(profiles[-1], dtype=np.float64)
        indices = np.asarray(neighbours[-1], dtype=np.int64)
    else:
        # One NaN frame between segments: stumpy gives every window that holds a NaN an
        # infinite distance, so no window straddles a gap; then map indices back.
        lengths = np.asarray(lengths, dtype=np.int64)
        segment = np.repeat(np.arange(len(lengths)), lengths)
        padded_pos = np.arange(series.shape[1]) + segment  # frame -> padded frame
        padded = np.full((series.shape[0], series.shape[1] + len(lengths) - 1), np.nan)
        padded[:, padded_pos] = series
        profiles, neighbours = stumpy.mstump(padded, window)
        n = series.shape[1] - window + 1
        source = padded_pos[:n]
        distances = np.asarray(profiles[-1], dtype=np.float64)[source]
        padded_indices = np.asarray(neighbours[-1], dtype=np.int64)[source]
        back = np.full(padded.shape[1], -1, dtype=np.int64)
        back[padded_pos] = np.arange(series.shape[1])
        indices = np.where(padded_indices >= 0, back[np.maximum(padded_indices, 0)], -1)
    bad = ~np.isfinite(distances)
    distances[bad] = np.inf
    indices[bad] = -1
    return distances, indices
