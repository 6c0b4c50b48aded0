"""HDBSCAN over a grid of ``min_cluster_size x min_samples``, sharing the expensive work.

HDBSCAN (Campello, Moulavi and Sander 2013) runs in four steps:

1. core distances: each point's distance to its ``min_samples``-th nearest neighbour
   (the point itself counts as the first, as in scikit-learn);
2. the minimum spanning tree (MST) of the mutual-reachability graph, whose edge weights are
   ``max(core_i, core_j, d(i, j))``;
3. the single-linkage tree, from the MST edges sorted by weight;
4. the condensed tree for ``min_cluster_size``, and its excess-of-mass (EOM) cluster
   selection, which yields labels and membership probabilities: ``O(n log n)``.

Steps 1 to 3 depend on ``min_samples`` only, so :class:`HDBSCANGrid` computes the
neighbours once (for the largest ``min_samples``; the core distance for a smaller value is
a column of the same neighbour table), one MST and single-linkage tree per ``min_samples``,
and only step 4 per ``min_cluster_size``. A grid of ``a x b`` combinations costs ``b`` MSTs
instead of ``a * b``.

The MST: in up to :data:`BORUVKA_MAX_DIMENSIONS` dimensions and from
:data:`BORUVKA_MIN_POINTS` points, Boruvka's algorithm over a KD-tree,
``O(n log n)``-like (:mod:`sonotype.cluster.mst`), which writes its edges exactly as
scikit-learn's Prim would; otherwise scikit-learn's own Prim, ``O(n^2 d)``, which measured
faster in 10 or more dimensions and below a few thousand points.

Steps 3 and 4 (and Prim) use scikit-learn's own Cython routines
(``sklearn.cluster._hdbscan``, private API, wrapped here and nowhere else), called exactly
as :class:`sklearn.cluster.HDBSCAN` calls them, so the labels and probabilities are
identical to an independent ``HDBSCAN(min_cluster_size=m, min_samples=s)`` fit (tests check
this, on data with ties too). Should a future scikit-learn move these routines, the grid
falls back to one public ``HDBSCAN`` fit per combination: slower, same results.

The metric is Euclidean (the grid is meant for 2-D or low-dimensional reductions).
Memory is ``O(n * max(min_samples))``; no ``n x n`` matrix is ever formed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sonotype.checks import check_choice, check_int_grid, check_matrix
from sonotype.cluster.base import (
    ClustererGrid,
    Clustering,
    Progress,
    register_clusterer,
)
from sonotype.cluster.mst import Neighbours, mutual_reachability_mst
from sonotype.cluster.scores import score_clusterings
from sonotype.errors import ParameterError

DEFAULT_MIN_CLUSTER_SIZE = (5, 10, 20, 50)
DEFAULT_MIN_SAMPLES = (1, 5, 10)
_SELECTION_METHODS = ("eom", "leaf")
#: Boruvka's MST is used up to this many dimensions (measured: 2.3-2.8x faster than Prim at
#: 20,000 points in 5-D, no faster in 10-D), ...
BORUVKA_MAX_DIMENSIONS = 6
#: ... and from this many points (below, Prim takes a few hundredths of a second).
BORUVKA_MIN_POINTS = 4000


# -- scikit-learn private API, in this one place ---------------------------------------------


def _load_sklearn_internals() -> dict[str, Any] | None:
    """scikit-learn's HDBSCAN building blocks, or ``None`` when they cannot be used.

    They exist (with these signatures) from scikit-learn 1.3, which introduced
    ``sklearn.cluster.HDBSCAN``, through at least 1.9.
    """
    import sklearn

    try:
        major, minor = (int(part) for part in sklearn.__version__.split(".")[:2])
        if (major, minor) < (1, 3):
            return None
        from sklearn.cluster._hdbscan._linkage import make_single_linkage, mst_from_data_matrix
        from sklearn.cluster._hdbscan._tree import tree_to_labels
        from sklearn.metrics import DistanceMetric
    except (ImportError, ValueError):
        return None
    return {
        "mst_from_data_matrix": mst_from_data_matrix,
        "make_single_linkage": make_single_linkage,
        "tree_to_labels": tree_to_labels,
        "euclidean": DistanceMetric.get_metric("euclidean"),
    }


_INTERNALS = _load_sklearn_internals()


def _mutual_reachability_mst(X: np.ndarray, neighbours: Neighbours, min_samples: int):
    """The MST of the mutual-reachability graph for ``min_samples``: Boruvka or Prim.

    Returns scikit-learn's ``MST_edge_dtype`` records (``current_node``, ``next_node``,
    ``distance``), ``n - 1`` of them, in the order its Prim writes them.
    """
    n, d = X.shape
    if d <= BORUVKA_MAX_DIMENSIONS and n >= BORUVKA_MIN_POINTS:
        return mutual_reachability_mst(X, neighbours, min_samples)
    core_distances = neighbours.core_distances(min_samples)
    return _INTERNALS["mst_from_data_matrix"](X, core_distances, _INTERNALS["euclidean"], 1.0)


def _single_linkage_tree(mst: np.ndarray) -> np.ndarray:
    """The single-linkage tree (scikit-learn's ``HIERARCHY_dtype``) of an MST."""
    # np.argsort's default kind, as sklearn.cluster.HDBSCAN, so equal weights order alike.
    return _INTERNALS["make_single_linkage"](mst[np.argsort(mst["distance"])])


def _labels_from_tree(
    tree: np.ndarray, min_cluster_size: int, *, method: str, allow_single_cluster: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Condense ``tree`` for ``min_cluster_size`` and select clusters: labels, probabilities."""
    labels, probabilities = _INTERNALS["tree_to_labels"](
        tree, min_cluster_size, method, allow_single_cluster, 0.0, None
    )
    return labels, probabilities


# -- the estimator ----------------------------------------------------------------------------


@register_clusterer
class HDBSCANGrid(ClustererGrid):
    """HDBSCAN for every ``(min_cluster_size, min_samples)`` pair, sharing each MST.

    Parameters
    ----------
    min_cluster_size : int or sequence of int, default (5, 10, 20, 50)
        Smallest group of points HDBSCAN calls a cluster (>= 2).
    min_samples : int or sequence of int, default (1, 5, 10)
        Neighbours (the point included) that define a point's core distance (>= 1, at most
        the number of points). Larger values call more points noise.
    cluster_selection_method : {"eom", "leaf"}, default "eom"
        Excess of mass picks the most persistent clusters; leaf picks the finest ones.
    allow_single_cluster : bool, default False
        Let the selection return one cluster covering the data.

    Attributes
    ----------
    clusterings_ : list of Clustering
        One per combination, ordered by ``min_cluster_size`` then ``min_samples``, with
        ``probabilities`` set. Unscored (see :func:`~sonotype.cluster.hdbscan_grid`).
    single_linkage_trees_ : dict of int to ndarray
        The single-linkage tree for each ``min_samples`` (scikit-learn's hierarchy records),
        or an empty dict when the fallback path ran.
    n_msts_ : int
        Minimum spanning trees computed (``len(min_samples)``, or one per combination on the
        fallback path).
    shared_ : bool
        Whether the shared path ran (False: one public ``HDBSCAN`` fit per combination).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(300, centers=3, random_state=0)
    >>> grid = HDBSCANGrid(min_cluster_size=(5, 20), min_samples=(1, 5)).fit(X)
    >>> [c.params["min_cluster_size"] for c in grid.clusterings_], grid.n_msts_
    ([5, 5, 20, 20], 2)
    """

    name = "hdbscan"

    def __init__(
        self,
        *,
        min_cluster_size=DEFAULT_MIN_CLUSTER_SIZE,
        min_samples=DEFAULT_MIN_SAMPLES,
        cluster_selection_method="eom",
        allow_single_cluster=False,
    ):
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.cluster_selection_method = cluster_selection_method
        self.allow_single_cluster = allow_single_cluster

    def fit(self, X, y=None, *, progress: Progress | None = None) -> HDBSCANGrid:
        """Run every combination on ``X``, shape ``(n, d)``; returns ``self``."""
        X = check_matrix(X, min_rows=2)
        sizes = check_int_grid(
            self.min_cluster_size,
            name="min_cluster_size",
            minimum=2,
            default=DEFAULT_MIN_CLUSTER_SIZE,
        )
        samples = check_int_grid(
            self.min_samples, name="min_samples", minimum=1, default=DEFAULT_MIN_SAMPLES
        )
        method = check_choice(
            self.cluster_selection_method,
            name="cluster_selection_method",
            choices=_SELECTION_METHODS,
            default="eom",
        )
        if not isinstance(self.allow_single_cluster, (bool, np.bool_)):
            raise ParameterError(
                f"allow_single_cluster={self.allow_single_cluster!r} must be True or False; "
                "the default is False"
            )
        n = X.shape[0]
        if max(samples) > n:
            raise ParameterError(
                f"min_samples={max(samples)} must be at most the number of points ({n}); "
                "use smaller values or more points"
            )

        common = {
            "cluster_selection_method": method,
            "allow_single_cluster": bool(self.allow_single_cluster),
        }
        total = len(sizes) * len(samples)
        found: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self.single_linkage_trees_: dict[int, np.ndarray] = {}
        self.shared_ = _INTERNALS is not None
        if self.shared_:
            neighbours = Neighbours(X, max(samples))
            for s in samples:
                tree = _single_linkage_tree(_mutual_reachability_mst(X, neighbours, s))
                self.single_linkage_trees_[s] = tree
                for m in sizes:
                    found[m, s] = _labels_from_tree(
                        tree, m, method=method, allow_single_cluster=common["allow_single_cluster"]
                    )
                    if progress:
                        progress(len(found), total)
            self.n_msts_ = len(samples)
        else:
            from sklearn.cluster import HDBSCAN

            for s in samples:
                for m in sizes:
                    fitted = HDBSCAN(min_cluster_size=m, min_samples=s, copy=True, **common).fit(X)
                    found[m, s] = fitted.labels_, fitted.probabilities_
                    if progress:
                        progress(len(found), total)
            self.n_msts_ = total

        self.clusterings_ = [
            Clustering(
                method=self.name,
                params={"min_cluster_size": m, "min_samples": s, **common},
                labels=found[m, s][0],
                probabilities=np.asarray(found[m, s][1], dtype=np.float64),
            )
            for m in sizes
            for s in samples
        ]
        self.n_features_in_ = X.shape[1]
        self.n_samples_fit_ = n
        return self


def hdbscan_grid(
    X,
    *,
    min_cluster_size=DEFAULT_MIN_CLUSTER_SIZE,
    min_samples=DEFAULT_MIN_SAMPLES,
    cluster_selection_method: str = "eom",
    allow_single_cluster: bool = False,
    true_labels=None,
    score: bool = True,
    silhouette_sample_size: int = 5000,
    random_state: int = 0,
    progress: Progress | None = None,
) -> list[Clustering]:
    """HDBSCAN of ``X`` for every ``min_cluster_size x min_samples`` pair, scored.

    Parameters
    ----------
    X : array_like of float, shape (n, d)
        Points to cluster, typically a 2-D reduction of embeddings; no NaN.
    min_cluster_size, min_samples, cluster_selection_method, allow_single_cluster
        See :class:`HDBSCANGrid`.
    true_labels : array_like, shape (n,), optional
        Known classes, for the external scores (see :func:`~sonotype.cluster.score_clustering`).
    score : bool, default True
        Fill each clustering's ``scores``; False returns them unscored (faster).
    silhouette_sample_size : int, default 5000
        Points the silhouette is computed on (see :func:`~sonotype.cluster.score_clustering`).
    random_state : int, default 0
        Seed of the silhouette subsample. The clustering itself is deterministic.
    progress : callable, optional
        ``progress(done, total)`` after each combination.

    Returns
    -------
    list of Clustering
        One per combination, ordered by ``min_cluster_size`` then ``min_samples``.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(400, centers=4, cluster_std=0.5, random_state=1)
    >>> results = hdbscan_grid(X, min_cluster_size=(10, 20), min_samples=5, true_labels=y)
    >>> [(c.n_clusters, round(c.scores["ari"], 2)) for c in results]
    [(4, 0.99), (4, 0.99)]
    """
    grid = HDBSCANGrid(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        cluster_selection_method=cluster_selection_method,
        allow_single_cluster=allow_single_cluster,
    ).fit(X, progress=progress)
    if not score:
        return grid.clusterings_
    return score_clusterings(
        X,
        grid.clusterings_,
        true_labels=true_labels,
        silhouette_sample_size=silhouette_sample_size,
        random_state=random_state,
    )
