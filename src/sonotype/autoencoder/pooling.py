"""Features from latent arrays: pooled over time with an edge cut, optionally reduced by PCA.

Torch-free: the latent arrays are numpy ``(n, channels, steps)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sonotype.errors import ParameterError


def edge_steps(steps: int, edge_cut: float) -> int:
    """Time steps dropped at each edge: ``edge_cut`` of ``steps``, rounded down, leaving at
    least one step (edges see the zero padding, so their activations are less reliable).

    Examples
    --------
    >>> edge_steps(16, 0.1), edge_steps(3, 0.4)
    (1, 1)
    """
    cut = int(np.floor(steps * edge_cut))
    return min(cut, (steps - 1) // 2)


def pool_latent(latent: np.ndarray, *, edge_cut: float = 0.1) -> np.ndarray:
    """Mean and maximum of each channel over time, edges cut: ``(n, 2 * channels)`` float32.

    Examples
    --------
    >>> z = np.arange(2 * 1 * 5, dtype=np.float32).reshape(2, 1, 5)
    >>> pool_latent(z, edge_cut=0.2).tolist()
    [[2.0, 3.0], [7.0, 8.0]]
    """
    latent = np.asarray(latent, dtype=np.float32)
    if latent.ndim != 3:
        raise ParameterError(f"latent has shape {latent.shape}; expected (n, channels, steps)")
    cut = edge_steps(latent.shape[2], edge_cut)
    kept = latent[:, :, cut : latent.shape[2] - cut]
    return np.concatenate([kept.mean(axis=2), kept.max(axis=2)], axis=1).astype(np.float32)


@dataclass(frozen=True)
class LinearReduction:
    """A fitted PCA as plain arrays (``x -> (x - mean) @ components.T``), saved with a model
    so that extraction needs no scikit-learn object."""

    mean: np.ndarray
    components: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray, n_components: int, *, seed: int = 0) -> LinearReduction:
        from sklearn.decomposition import PCA

        n = int(min(n_components, *features.shape))
        pca = PCA(n_components=n, random_state=seed).fit(features)
        return cls(pca.mean_.astype(np.float32), pca.components_.astype(np.float32))

    def transform(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) @ self.components.T).astype(np.float32)
