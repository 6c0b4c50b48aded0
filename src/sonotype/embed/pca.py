"""The ``pca`` embedder: principal components of flattened spectrograms (or any rows)."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from sonotype.checks import check_choice, check_int, check_matrix
from sonotype.embed.base import Embedder, register_embedder
from sonotype.errors import ParameterError

_SOLVERS = ("auto", "full", "covariance_eigh", "arpack", "randomized")


@register_embedder("pca")
class PCAEmbedder(Embedder):
    """Principal component analysis (scikit-learn's :class:`~sklearn.decomposition.PCA`).

    Rows with more than one axis (spectrograms ``(n, n_freq, n_time)``) are flattened.

    Parameters
    ----------
    n_components : int
        Components to keep. More than ``min(n_samples, n_features)`` is clamped to that
        number (the rank limit); the number used is ``n_components_``.
    whiten : bool
        Scale the components to unit variance.
    svd_solver : {"auto", "full", "covariance_eigh", "arpack", "randomized"}
        As in scikit-learn; "randomized" (which "auto" picks for large inputs, e.g. any
        64 x 64 spectrograms of more than 40 syllables) is stochastic and uses
        ``random_state``.
    random_state : int or None
        Seed of the randomized solver. The default, 0, makes the embedding repeat bit for
        bit for the same rows (on one machine and BLAS); None draws a new seed on every
        fit, so trailing components differ from fit to fit (components 31-32 of 5,000
        syllables correlated only 0.994 between runs) and everything downstream with
        them.

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
        The fitted model.
    n_components_ : int
        Components kept (after clamping).
    n_features_in_ : int
        Values per input row.
    explained_variance_ratio_ : ndarray, shape (n_components_,)
        Fraction of the variance each component explains.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(20, 50))
    >>> emb = PCAEmbedder(n_components=64, random_state=0).fit(X)
    >>> emb.n_components_, emb.transform(X).shape
    (20, (20, 20))
    """

    def __init__(
        self,
        n_components: int = 32,
        *,
        whiten: bool = False,
        svd_solver: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.n_components = n_components
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.random_state = random_state

    def fit(self, X, y=None) -> PCAEmbedder:
        """Fit the components to ``X``, shape ``(n, ...)`` with ``n >= 2``; returns ``self``."""
        n = check_int(self.n_components, name="n_components", minimum=1, default=32)
        check_choice(self.svd_solver, name="svd_solver", choices=_SOLVERS)
        rows = check_matrix(X, flatten=True, dtype=None)
        if len(rows) < 2:
            raise ParameterError(
                f"X has {len(rows)} row; PCA needs at least 2 syllables to find components"
            )
        self.n_components_ = int(min(n, *rows.shape))
        self.pca_ = PCA(
            n_components=self.n_components_,
            whiten=bool(self.whiten),
            svd_solver=self.svd_solver,
            random_state=self.random_state,
        ).fit(rows)
        self.n_features_in_ = rows.shape[1]
        self.explained_variance_ratio_ = self.pca_.explained_variance_ratio_
        return self

    def transform(self, X) -> np.ndarray:
        """Project ``X`` onto the components: float32, shape ``(n, n_components_)``."""
        self._check_fitted()
        rows = check_matrix(X, flatten=True, dtype=None)
        if rows.shape[1] != self.n_features_in_:
            raise ParameterError(
                f"X rows hold {rows.shape[1]} values, but this embedder was fitted on rows "
                f"of {self.n_features_in_}; make the inputs with the same parameters"
            )
        return self.pca_.transform(rows).astype(np.float32, copy=False)
