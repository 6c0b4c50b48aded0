"""Clustering of embeddings or their reductions, over parameter grids, scored and ranked.

Grid clusterers (registered by name in :data:`CLUSTERERS`) run one method over a grid of
parameters and share the work that combinations have in common; each combination yields a
:class:`Clustering` (labels row-aligned with the input, ``-1`` for noise, parameters,
scores). :func:`rank_clusterings` turns any set of scored clusterings, of one input or of
several reductions, into the ranking table written as ``summary.csv``.

Examples
--------
>>> from sklearn.datasets import make_blobs
>>> X, y = make_blobs(500, centers=4, cluster_std=0.6, random_state=3)
>>> results = {
...     "raw": hdbscan_grid(X, min_cluster_size=(10, 50), min_samples=(5, 10), true_labels=y)
...     + kmeans_grid(X, n_clusters=(3, 4, 5), true_labels=y)
... }
>>> reduction, best = best_clustering(results)
>>> best.n_clusters, round(best.scores["ari"], 2)
(4, 1.0)
"""

from sonotype.cluster.base import (
    CLUSTERERS,
    NOISE,
    ClustererGrid,
    Clustering,
    make_clusterer,
    register_clusterer,
)
from sonotype.cluster.flat import (
    AgglomerativeGrid,
    KMeansGrid,
    agglomerative_grid,
    cut_linkage,
    kmeans_elbow,
    kmeans_grid,
)
from sonotype.cluster.hdbscan_grid import HDBSCANGrid, hdbscan_grid
from sonotype.cluster.scores import (
    EXTERNAL_SCORES,
    INTERNAL_SCORES,
    best_clustering,
    composite_score,
    rank_clusterings,
    score_clustering,
    score_clusterings,
)

__all__ = [
    "CLUSTERERS",
    "EXTERNAL_SCORES",
    "INTERNAL_SCORES",
    "NOISE",
    "AgglomerativeGrid",
    "ClustererGrid",
    "Clustering",
    "HDBSCANGrid",
    "KMeansGrid",
    "agglomerative_grid",
    "best_clustering",
    "composite_score",
    "cut_linkage",
    "hdbscan_grid",
    "kmeans_elbow",
    "kmeans_grid",
    "make_clusterer",
    "rank_clusterings",
    "register_clusterer",
    "score_clustering",
    "score_clusterings",
]
