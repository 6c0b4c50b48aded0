"""The ``tsne`` reducer: t-SNE with openTSNE, which can place new rows in a fitted map."""

from __future__ import annotations

from numbers import Real

import numpy as np

from sonotype.checks import (
    check_choice,
    check_int,
    check_random_state,
)
from sonotype.errors import ParameterError
from sonotype.reduce.base import (
    Reducer,
    register_reducer,
)

#: Input-space distances offered (openTSNE supports more through its kNN backends).
METRICS = ("euclidean", "cosine")


@register_reducer("tsne")
class TSNEReducer(Reducer):
    """t-SNE (openTSNE's FFT-accelerated implementation), with optional PCA first.

    Unlike scikit-learn's t-SNE, the fitted map can place new rows: :meth:`transform`
    optimises each new point against the fixed training embedding (openTSNE's
    ``TSNEEmbedding.transform``), without moving the training points.

    Parameters
    ----------
    n_components : int
        Output dimensions (the FFT method supports 1 or 2; more use Barnes-Hut, slowly).
    perplexity : float
        Effective number of neighbours; must be less than ``(n - 1) / 3``.
    metric : {"euclidean", "cosine"}
        Input-space distance.
    n_iter : int
        Iterations after the early-exaggeration phase.
    early_exaggeration_iter : int
        Iterations of the early-exaggeration phase.
    initialization : {"pca", "spectral", "random"}
        Initial layout.
    pca_components : int, optional
        Reduce to this many principal components first.
    n_jobs : int
        Threads (``-1``: all cores).
    random_state : int or None
        Seed; ``0`` by default, for reproducible maps.

    Attributes
    ----------
    embedding_ : ndarray of float32, shape (n, n_components)
        Coordinates of the training rows.
    tsne_ : openTSNE.TSNEEmbedding
        The fitted openTSNE embedding (used by :meth:`transform`).
    pca_ : sklearn.decomposition.PCA or None
        The PCA step, when ``pca_components`` is set.
    n_features_in_ : int
        Values per input row.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(200, n_features=10, centers=3, random_state=0)
    >>> tsne = TSNEReducer(perplexity=20, n_iter=200).fit(X)
    >>> tsne.embedding_.shape, tsne.transform(X[:5] + 0.01).shape
    ((200, 2), (5, 2))
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        perplexity: float = 30.0,
        metric: str = "euclidean",
        n_iter: int = 500,
        early_exaggeration_iter: int = 250,
        initialization: str = "pca",
        pca_components: int | None = None,
        n_jobs: int = 1,
        random_state: int | None = 0,
    ) -> None:
        self.n_components = n_components
        self.perplexity = perplexity
        self.metric = metric
        self.n_iter = n_iter
        self.early_exaggeration_iter = early_exaggeration_iter
        self.initialization = initialization
        self.pca_components = pca_components
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_params(self, X: np.ndarray) -> None:
        check_int(self.n_components, name="n_components", minimum=1, default=2)
        check_choice(self.metric, name="metric", choices=METRICS)
        check_choice(
            self.initialization, name="initialization", choices=("pca", "spectral", "random")
        )
        check_int(self.n_iter, name="n_iter", minimum=1, default=500)
        check_int(
            self.early_exaggeration_iter, name="early_exaggeration_iter", minimum=0, default=250
        )
        check_random_state(self.random_state)
        if not isinstance(self.n_jobs, int) or self.n_jobs == 0:
            raise ParameterError(
                f"n_jobs={self.n_jobs!r} must be a positive number of threads or -1 (all "
                "cores); the default is 1"
            )
        limit = (len(X) - 1) / 3
        p = self.perplexity
        if isinstance(p, bool) or not isinstance(p, Real) or not 0 < p < limit:
            raise ParameterError(
                f"perplexity={p!r} must be positive and less than (n - 1) / 3 = {limit:.1f} "
                f"for {len(X)} rows; the default is 30"
            )

    def _fit(self, Z: np.ndarray) -> np.ndarray:
        from openTSNE import TSNE

        self.tsne_ = TSNE(
            n_components=int(self.n_components),
            perplexity=float(self.perplexity),
            metric=self.metric,
            n_iter=int(self.n_iter),
            early_exaggeration_iter=int(self.early_exaggeration_iter),
            initialization=self.initialization,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            verbose=False,
        ).fit(Z)
        return np.asarray(self.tsne_)

    def _transform(self, Z: np.ndarray) -> np.ndarray:
        return np.asarray(self.tsne_.transform(Z))
