"""The ``flat`` embedder: each spectrogram's pixels as one row, optionally block-averaged."""

from __future__ import annotations

import numpy as np

from sonotype.checks import check_matrix
from sonotype.embed.base import Embedder, register_embedder
from sonotype.errors import ParameterError


@register_embedder("flat")
class FlatEmbedder(Embedder):
    """Flattened spectrograms (AVA's and AVGN's baseline representation).

    Parameters
    ----------
    downsample : int or tuple of int
        Average non-overlapping blocks of this many pixels along each axis of a row
        before flattening: ``2`` halves both axes of ``(n_freq, n_time)`` spectrograms,
        ``(1, 4)`` only time. Trailing pixels that do not fill a block are dropped.

    Attributes
    ----------
    input_shape_ : tuple of int
        Shape of one input row (``(n_freq, n_time)`` for spectrograms).
    n_features_in_ : int
        Values per input row.
    n_components_ : int
        Width of the embedding.

    Examples
    --------
    >>> specs = np.ones((3, 8, 6), dtype=np.float32)
    >>> FlatEmbedder(downsample=2).fit_transform(specs).shape
    (3, 12)
    """

    def __init__(self, downsample: int | tuple[int, ...] = 1) -> None:
        self.downsample = downsample

    def fit(self, X, y=None) -> FlatEmbedder:
        """Check ``X`` (shape ``(n, ...)``) and the block size; returns ``self``."""
        X = np.asarray(X)
        check_matrix(X, flatten=True, dtype=None)
        shape = X.shape[1:]
        factors = self._factors(len(shape))
        if any(f > s for f, s in zip(factors, shape, strict=True)):
            raise ParameterError(
                f"downsample={self.downsample!r} is larger than the rows' shape {shape}; "
                "use blocks that fit"
            )
        self.input_shape_ = tuple(int(s) for s in shape)
        self.n_features_in_ = int(np.prod(shape))
        self.n_components_ = int(np.prod([s // f for s, f in zip(shape, factors, strict=True)]))
        return self

    def transform(self, X) -> np.ndarray:
        """Rows of ``X`` block-averaged and flattened, float32, shape
        ``(n, n_components_)``."""
        self._check_fitted()
        X = np.asarray(X)
        rows = check_matrix(X, flatten=True, dtype=None)
        if X.shape[1:] != self.input_shape_:
            raise ParameterError(
                f"X rows have shape {X.shape[1:]}, but this embedder was fitted on rows of "
                f"shape {self.input_shape_}; make the spectrograms with the same parameters"
            )
        factors = self._factors(len(self.input_shape_))
        if all(f == 1 for f in factors):
            return rows.astype(np.float32, copy=False)
        data = X.astype(np.float32, copy=False)
        # Crop to whole blocks, then split each axis into (blocks, block) and average.
        kept = tuple(s // f * f for s, f in zip(self.input_shape_, factors, strict=True))
        data = data[(slice(None), *(slice(0, k) for k in kept))]
        split = [len(data)]
        for k, f in zip(kept, factors, strict=True):
            split += [k // f, f]
        data = data.reshape(split).mean(axis=tuple(range(2, 2 * len(kept) + 1, 2)))
        return np.ascontiguousarray(data.reshape(len(data), -1), dtype=np.float32)

    def _factors(self, n_axes: int) -> tuple[int, ...]:
        value = self.downsample
        factors = (value,) * n_axes if np.ndim(value) == 0 else tuple(value)
        if len(factors) != n_axes or any(
            isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 1 for f in factors
        ):
            raise ParameterError(
                f"downsample={value!r} must be a positive integer or a tuple of {n_axes} "
                "positive integers (one per axis of a row); 1 keeps every pixel"
            )
        return tuple(int(f) for f in factors)
