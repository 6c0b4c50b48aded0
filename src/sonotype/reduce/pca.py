"""The ``pca`` reducer: the first principal components (scikit-learn's PCA)."""

from __future__ import annotations

import numpy as np

from sonotype.checks import (
    check_int,
    check_random_state,
)
from sonotype.reduce.base import Reducer, register_reducer


@register_reducer("pca")
class PCAReducer(Reducer):
    """Principal component analysis to ``n_components`` dimensions (a linear reduction:
    fast, deterministic, and a baseline for UMAP and t-SNE).

    Parameters
    ----------
    n_components : int
        Output dimensions; at most ``min(n_samples, n_features)``.
    whiten : bool
        Scale the components to unit variance.
    random_state : int or None
        Seed of the randomized SVD that scikit-learn picks for large inputs.

    Attributes
    ----------
    embedding_ : ndarray of float32, shape (n, n_components)
        Coordinates of the training rows.
    model_ : sklearn.decomposition.PCA
        The fitted model.
    explained_variance_ratio_ : ndarray, shape (n_components,)
        Fraction of the variance each component explains.
    n_features_in_ : int
        Values per input row.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(50, 8)) * [5, 1, 1, 1, 1, 1, 1, 1]
    >>> pca = PCAReducer(n_components=2).fit(X)
    >>> pca.embedding_.shape, bool(pca.explained_variance_ratio_[0] > 0.5)
    ((50, 2), True)
    >>> pca.transform(X[:3]).dtype
    dtype('float32')
    """

    def __init__(
        self, n_components: int = 2, *, whiten: bool = False, random_state: int | None = 0
    ) -> None:
        self.n_components = n_components
        self.whiten = whiten
        self.random_state = random_state

    def _check_params(self, X: np.ndarray) -> None:
        from sonotype.errors import ParameterError

        n = check_int(self.n_components, name="n_components", minimum=1, default=2)
        check_random_state(self.random_state)
        if n > min(X.shape):
            raise ParameterError(
                f"n_components={n} is more than min(n_samples, n_features)={min(X.shape)}; "
                f"pass at most {min(X.shape)}"
            )

    def _fit(self, Z: np.ndarray) -> np.ndarray:
        from sklearn.decomposition import PCA

        self.model_ = PCA(
            n_components=int(self.n_components),
            whiten=bool(self.whiten),
            random_state=self.random_state,
        )
        coords = self.model_.fit_transform(Z)
        self.explained_variance_ratio_ = self.model_.explained_variance_ratio_
        return coords

    def _transform(self, Z: np.ndarray) -> np.ndarray:
        return self.model_.transform(Z)
