"""Dimensionality reduction of embeddings: UMAP (alone and over parameter grids), t-SNE,
PCA.

Reducers are registered by name in :data:`REDUCERS` (``umap``, ``tsne``, ``pca``; plugins
through the ``sonotype.reducers`` entry-point group) and made with :func:`make_reducer`;
each is a scikit-learn estimator whose fitted model places new rows with ``transform``.
:func:`umap_grid` runs UMAP over ``n_neighbors`` × ``min_dist`` while sharing the kNN
graph and per-``n_neighbors`` fuzzy graph between combinations, subsamples whole groups
when memory is short, and scores each result's trustworthiness.

umap-learn and openTSNE are imported only when a UMAP or t-SNE is fitted, never by
``import sonotype.reduce``; see :mod:`sonotype.reduce.umap_numba` for the numba cache.

Examples
--------
>>> from sklearn.datasets import make_blobs
>>> X, _ = make_blobs(100, n_features=6, centers=3, random_state=0)
>>> make_reducer("pca", n_components=2).fit_transform(X).shape
(100, 2)
"""

# The reducer modules are imported for their registration side effect.
from sonotype.reduce.base import (
    REDUCERS,
    Embedding,
    Reducer,
    TrustworthinessScorer,
    make_reducer,
    reducer_parameters,
    register_reducer,
)
from sonotype.reduce.memory import (
    available_memory_mb,
    choose_n_workers,
    estimate_peak_mb,
    max_samples_within,
    subsample_groups,
)
from sonotype.reduce.pca import PCAReducer
from sonotype.reduce.tsne import TSNEReducer
from sonotype.reduce.umap_grid import UMAPReducer, import_umap, numba_cache_dir, umap_grid

__all__ = [
    "REDUCERS",
    "Embedding",
    "PCAReducer",
    "Reducer",
    "TSNEReducer",
    "TrustworthinessScorer",
    "UMAPReducer",
    "available_memory_mb",
    "choose_n_workers",
    "estimate_peak_mb",
    "import_umap",
    "make_reducer",
    "max_samples_within",
    "numba_cache_dir",
    "reducer_parameters",
    "register_reducer",
    "subsample_groups",
    "umap_grid",
]
