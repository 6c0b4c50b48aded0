"""The ``umap`` reducer: one UMAP fit (a grid of one combination) as a scikit-learn
estimator whose ``transform`` places new rows."""

from __future__ import annotations

import warnings

import numpy as np

from sonotype.checks import check_choice, check_int, check_number, check_random_state
from sonotype.errors import ParameterError
from sonotype.reduce.base import Reducer, register_reducer
from sonotype.reduce.umap_layout import run_grid
from sonotype.reduce.umap_neighbors import NEIGHBORS, exact_neighbor_input

#: Distances the grid supports in the input space.
METRICS = ("euclidean", "cosine")

#: Fewest rows a UMAP can be fitted on (``n_neighbors`` is then clamped to ``n - 1``).
MIN_SAMPLES = 5

#: How the default of ``n_epochs`` reads in messages.
N_EPOCHS_DEFAULT = "None (200 or 500)"


def clamp(n_neighbors: int, n_samples: int) -> int:
    return min(n_neighbors, n_samples - 1)


def require_min_samples(n: int) -> None:
    if n < MIN_SAMPLES:
        raise ParameterError(
            f"X has {n} rows; UMAP needs at least {MIN_SAMPLES} (n_neighbors is clamped to "
            "n - 1 below that many neighbours); pass more syllables"
        )


@register_reducer("umap")
class UMAPReducer(Reducer):
    """UMAP (umap-learn), with sonotype's persistent numba cache and optional PCA first.

    Fits exactly like a grid of one combination (:func:`umap_grid`): an NN-descent kNN
    graph with a search index (so that :meth:`transform` places new rows), the fuzzy graph
    and a seeded layout.

    Parameters
    ----------
    n_components : int
        Output dimensions.
    n_neighbors : int
        Neighbours in the kNN graph (including the point itself); larger values give a
        more global view. Clamped to ``n - 1`` for fewer rows, with a warning; the value
        used is ``n_neighbors_``.
    min_dist : float
        Smallest distance between points in the layout, in ``[0, 1]``; small values pack
        clusters tightly.
    metric : {"euclidean", "cosine"}
        Input-space distance.
    n_epochs : int, optional
        Layout epochs; ``None``: 500 up to 10,000 rows, else 200 (umap-learn's default).
    neighbors : {"auto", "exact", "nndescent"}
        How the kNN graph is found (see :data:`NEIGHBORS`); ``"auto"``: exactly for small
        and medium data (no numba compilation), by NN-descent for large.
    pca_components : int, optional
        Reduce to this many principal components first (faster kNN on wide inputs such as
        4096-value spectrograms).
    random_state : int or None
        Seed; ``0`` by default so that results are reproducible. ``None``: umap-learn's
        non-deterministic multi-threaded layout.

    Attributes
    ----------
    embedding_ : ndarray of float32, shape (n, n_components)
        Coordinates of the training rows.
    umap_ : umap.UMAP
        The fitted umap-learn model.
    pca_ : sklearn.decomposition.PCA or None
        The PCA step, when ``pca_components`` is set.
    n_neighbors_ : int
        ``n_neighbors`` after clamping.
    n_features_in_ : int
        Values per input row.
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        metric: str = "euclidean",
        n_epochs: int | None = None,
        neighbors: str = "auto",
        pca_components: int | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.n_epochs = n_epochs
        self.neighbors = neighbors
        self.pca_components = pca_components
        self.random_state = random_state

    def _check_params(self, X: np.ndarray) -> None:
        check_int(self.n_components, name="n_components", minimum=1, default=2)
        check_int(self.n_neighbors, name="n_neighbors", minimum=2, default=15)
        check_number(self.min_dist, name="min_dist", minimum=0, maximum=1, default=0.1)
        check_choice(self.metric, name="metric", choices=METRICS)
        check_choice(self.neighbors, name="neighbors", choices=NEIGHBORS)
        if self.n_epochs is not None:
            check_int(self.n_epochs, name="n_epochs", minimum=11, default=N_EPOCHS_DEFAULT)
        check_random_state(self.random_state)
        require_min_samples(len(X))

    def _fit(self, Z: np.ndarray) -> np.ndarray:
        k = clamp(int(self.n_neighbors), len(Z))
        if k != self.n_neighbors:
            warnings.warn(
                f"n_neighbors={self.n_neighbors} is not less than the {len(Z)} rows; using "
                f"n_neighbors={k} (n - 1)",
                UserWarning,
                stacklevel=3,
            )
        models = run_grid(
            Z,
            (k,),
            (float(self.min_dist),),
            metric=self.metric,
            n_components=int(self.n_components),
            n_epochs=self.n_epochs,
            random_state=self.random_state,
            neighbors=self.neighbors,
            n_workers=1,
        )
        self.umap_ = models[k, float(self.min_dist)]
        self.n_neighbors_ = k
        return self.umap_.embedding_

    def _transform(self, Z: np.ndarray) -> np.ndarray:
        model = self.umap_
        if getattr(model, "_small_data", False):
            model, Z = exact_neighbor_input(model, Z)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return model.transform(Z)

    @classmethod
    def _from_fitted(cls, umap_model, *, pca, n_features_in: int, **params) -> UMAPReducer:
        """A fitted reducer around a umap.UMAP fitted by the grid."""
        reducer = cls(**params)
        reducer.umap_ = umap_model
        reducer.pca_ = pca
        reducer.n_neighbors_ = int(umap_model.n_neighbors)
        reducer.embedding_ = np.asarray(umap_model.embedding_, dtype=np.float32)
        reducer.n_features_in_ = n_features_in
        return reducer
