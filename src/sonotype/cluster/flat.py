"""Clusterings into a chosen number of clusters: k-means and agglomerative (Ward) grids.

Both assign every point (no noise). :class:`KMeansGrid` fits scikit-learn's ``KMeans`` once
per ``n_clusters`` and keeps each fit's inertia for :func:`kmeans_elbow`.
:class:`AgglomerativeGrid` builds one merge tree and cuts it at every ``n_clusters``, which
gives the same labels as one ``sklearn.cluster.AgglomerativeClustering`` fit per value
(tests check this) for the cost of one.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster import hierarchy
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import KMeans

from sonotype.checks import check_choice, check_int_grid, check_matrix
from sonotype.cluster.base import (
    ClustererGrid,
    Clustering,
    Progress,
    register_clusterer,
    relabel,
)
from sonotype.cluster.scores import score_clusterings
from sonotype.errors import ParameterError

DEFAULT_N_CLUSTERS = tuple(range(2, 21))
_LINKAGES = ("ward", "complete", "average", "single")


def _check_n_clusters(values, n: int) -> tuple[int, ...]:
    ks = check_int_grid(values, name="n_clusters", minimum=2, default="range(2, 21)")
    if max(ks) > n:
        raise ParameterError(
            f"n_clusters={max(ks)} must be at most the number of points ({n}); "
            "use smaller values or more points"
        )
    return ks


@register_clusterer
class KMeansGrid(ClustererGrid):
    """k-means for every value of ``n_clusters``.

    Parameters
    ----------
    n_clusters : int or sequence of int, default 2, 3, ..., 20
        Numbers of clusters to try (>= 2, at most the number of points).
    n_init : int, default 4
        k-means++ initialisations per fit; the lowest-inertia run is kept.
    max_iter : int, default 300
        Lloyd iterations per run.
    random_state : int, default 0
        Seed of the initialisations.

    Attributes
    ----------
    clusterings_ : list of Clustering
        One per ``n_clusters``, in the given order; ``extra`` holds ``inertia`` (sum of
        squared distances to the centres), ``centers`` (shape ``(k, d)``) and ``n_iter``.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(200, centers=3, random_state=0)
    >>> [c.n_clusters for c in KMeansGrid(n_clusters=(2, 3)).fit(X).clusterings_]
    [2, 3]
    """

    name = "kmeans"

    def __init__(self, *, n_clusters=DEFAULT_N_CLUSTERS, n_init=4, max_iter=300, random_state=0):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y=None, *, progress: Progress | None = None) -> KMeansGrid:
        """Fit one k-means per ``n_clusters`` on ``X``, shape ``(n, d)``; returns ``self``."""
        X = check_matrix(X, min_rows=2)
        ks = _check_n_clusters(self.n_clusters, X.shape[0])
        (n_init,) = check_int_grid(self.n_init, name="n_init", minimum=1, default=(4,))
        (max_iter,) = check_int_grid(self.max_iter, name="max_iter", minimum=1, default=(300,))
        self.clusterings_ = []
        for done, k in enumerate(ks, start=1):
            fitted = KMeans(
                n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=self.random_state
            ).fit(X)
            self.clusterings_.append(
                Clustering(
                    method=self.name,
                    params={"n_clusters": k},
                    labels=fitted.labels_,
                    extra={
                        "inertia": float(fitted.inertia_),
                        "centers": fitted.cluster_centers_,
                        "n_iter": int(fitted.n_iter_),
                    },
                )
            )
            if progress:
                progress(done, len(ks))
        self.n_features_in_ = X.shape[1]
        self.n_samples_fit_ = X.shape[0]
        return self


@register_clusterer
class AgglomerativeGrid(ClustererGrid):
    """Agglomerative clustering for every ``n_clusters``, from one merge tree.

    Parameters
    ----------
    n_clusters : int or sequence of int, default 2, 3, ..., 20
        Numbers of clusters to cut the tree into (>= 2, at most the number of points).
    linkage : {"ward", "complete", "average", "single"}, default "ward"
        Merge criterion (Euclidean distances). Ward merges the pair of clusters whose union
        least increases the within-cluster variance.
    max_samples : int, default 20000
        Refuse more points than this: the tree needs all ``n (n - 1) / 2`` pairwise
        distances in memory (8 bytes each: 1.6 GB at 20,000 points) and ``O(n^2)`` time.
        Raise it if the machine has the memory, or use k-means or HDBSCAN.

    Attributes
    ----------
    clusterings_ : list of Clustering
        One per ``n_clusters``, in the given order; ``extra["height"]`` is the merge
        distance of the last merge kept.
    linkage_matrix_ : ndarray, shape (n - 1, 4)
        The merge tree in SciPy's linkage format.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(200, centers=3, random_state=0)
    >>> [c.n_clusters for c in AgglomerativeGrid(n_clusters=(2, 3)).fit(X).clusterings_]
    [2, 3]
    """

    name = "agglomerative"

    def __init__(self, *, n_clusters=DEFAULT_N_CLUSTERS, linkage="ward", max_samples=20_000):
        self.n_clusters = n_clusters
        self.linkage = linkage
        self.max_samples = max_samples

    def fit(self, X, y=None, *, progress: Progress | None = None) -> AgglomerativeGrid:
        """Build the merge tree of ``X``, shape ``(n, d)``, and cut it; returns ``self``."""
        X = check_matrix(X, min_rows=2)
        n = X.shape[0]
        ks = _check_n_clusters(self.n_clusters, n)
        method = check_choice(self.linkage, name="linkage", choices=_LINKAGES, default="ward")
        (max_samples,) = check_int_grid(
            self.max_samples, name="max_samples", minimum=2, default=(20_000,)
        )
        if n > max_samples:
            raise ParameterError(
                f"X has {n} points, more than max_samples={max_samples}; agglomerative "
                f"clustering would hold {n * (n - 1) // 2 * 8 / 1e9:.1f} GB of distances. "
                "Raise max_samples if memory allows, subsample, or use k-means or HDBSCAN"
            )
        # sklearn's AgglomerativeClustering builds the same tree with scipy (no connectivity).
        Z = hierarchy.linkage(X, method=method, metric="euclidean")
        self.linkage_matrix_ = Z
        self.clusterings_ = []
        for done, k in enumerate(ks, start=1):
            self.clusterings_.append(
                Clustering(
                    method=self.name,
                    params={"n_clusters": k, "linkage": method},
                    labels=cut_linkage(Z, k),
                    extra={"height": float(Z[n - k - 1, 2]) if k < n else 0.0},
                )
            )
            if progress:
                progress(done, len(ks))
        self.n_features_in_ = X.shape[1]
        self.n_samples_fit_ = n
        return self


def kmeans_grid(
    X,
    *,
    n_clusters=DEFAULT_N_CLUSTERS,
    n_init: int = 4,
    random_state: int = 0,
    true_labels=None,
    score: bool = True,
    silhouette_sample_size: int = 5000,
    progress: Progress | None = None,
) -> list[Clustering]:
    """k-means of ``X``, shape ``(n, d)``, for every ``n_clusters``, scored.

    ``n_clusters``, ``n_init`` and ``random_state`` are as in :class:`KMeansGrid` (the seed
    also draws the silhouette subsample); ``true_labels``, ``score``,
    ``silhouette_sample_size`` and ``progress`` as in :func:`~sonotype.cluster.hdbscan_grid`.
    Pick one with :func:`~sonotype.cluster.best_clustering` (best composite, which for
    k-means is the best silhouette) or :func:`kmeans_elbow`.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(300, centers=[[0, 0], [6, 0], [0, 6]], random_state=0)
    >>> [round(c.scores["silhouette"], 2) for c in kmeans_grid(X, n_clusters=(2, 3))]
    [0.55, 0.68]
    """
    grid = KMeansGrid(n_clusters=n_clusters, n_init=n_init, random_state=random_state)
    return _scored(
        grid.fit(X, progress=progress), X, score, true_labels, silhouette_sample_size, random_state
    )


def agglomerative_grid(
    X,
    *,
    n_clusters=DEFAULT_N_CLUSTERS,
    linkage: str = "ward",
    max_samples: int = 20_000,
    true_labels=None,
    score: bool = True,
    silhouette_sample_size: int = 5000,
    random_state: int = 0,
    progress: Progress | None = None,
) -> list[Clustering]:
    """Agglomerative clustering of ``X``, shape ``(n, d)``, for every ``n_clusters``, scored.

    ``n_clusters``, ``linkage`` and ``max_samples`` are as in :class:`AgglomerativeGrid`;
    the rest as in :func:`~sonotype.cluster.hdbscan_grid`.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(300, centers=[[0, 0], [6, 0], [0, 6]], random_state=0)
    >>> [round(c.scores["ari"], 2) for c in agglomerative_grid(X, n_clusters=3, true_labels=y)]
    [1.0]
    """
    grid = AgglomerativeGrid(n_clusters=n_clusters, linkage=linkage, max_samples=max_samples)
    return _scored(
        grid.fit(X, progress=progress), X, score, true_labels, silhouette_sample_size, random_state
    )


def _scored(grid, X, score, true_labels, silhouette_sample_size, random_state):
    if not score:
        return grid.clusterings_
    return score_clusterings(
        X,
        grid.clusterings_,
        true_labels=true_labels,
        silhouette_sample_size=silhouette_sample_size,
        random_state=random_state,
    )


def cut_linkage(Z: np.ndarray, n_clusters: int) -> np.ndarray:
    """Labels of the ``n_clusters`` clusters left after the first ``n - n_clusters`` merges.

    Undoes the last merges of the tree in merge order, as scikit-learn does, so equal merge
    heights cannot yield a different number of clusters (unlike cutting at a height with
    ``scipy.cluster.hierarchy.fcluster``). ``O(n)``. Labels are numbered by first appearance.

    Examples
    --------
    >>> Z = hierarchy.linkage([[0.0], [0.1], [5.0], [5.2], [9.0]], method="ward")
    >>> cut_linkage(Z, 3).tolist()
    [0, 0, 1, 1, 2]
    """
    n = Z.shape[0] + 1
    children = Z[:, :2].astype(np.int64)
    # a leaf that stands for each tree node: merging two nodes joins their representatives
    representative = np.arange(2 * n - 1)
    for i, (left, _right) in enumerate(children.tolist()):
        representative[n + i] = representative[left]
    kept = children[: n - n_clusters]
    graph = coo_array(
        (np.ones(len(kept)), (representative[kept[:, 0]], representative[kept[:, 1]])),
        shape=(n, n),
    )
    _, labels = connected_components(graph, directed=False)
    return relabel(labels)


def kmeans_elbow(clusterings: list[Clustering]) -> Clustering:
    """The k-means clustering at the elbow of the inertia curve (the "kneedle" point).

    Inertia falls as ``n_clusters`` grows; the elbow is where adding clusters stops paying.
    With both axes scaled to ``[0, 1]``, it is the point farthest below the straight line
    from the first to the last point of the curve. Needs at least 3 values of
    ``n_clusters``. For the best by silhouette, rank with
    :func:`~sonotype.cluster.rank_clusterings` instead.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(400, centers=[[0, 0], [6, 0], [0, 6], [6, 6]], random_state=0)
    >>> kmeans_elbow(KMeansGrid(n_clusters=range(2, 8)).fit(X).clusterings_).n_clusters
    4
    """
    curve = [c for c in clusterings if "inertia" in c.extra]
    if len(curve) < 3 or len(curve) != len(clusterings):
        raise ParameterError(
            f"kmeans_elbow needs at least 3 k-means clusterings (with inertia); got "
            f"{len(curve)} of {len(clusterings)}; fit KMeansGrid with 3 or more n_clusters"
        )
    curve.sort(key=lambda c: c.params["n_clusters"])
    k = np.array([c.params["n_clusters"] for c in curve], dtype=np.float64)
    inertia = np.array([c.extra["inertia"] for c in curve])
    x = (k - k[0]) / (k[-1] - k[0])
    span = inertia[0] - inertia[-1]
    y = (inertia - inertia[-1]) / span if span > 0 else np.zeros_like(inertia)
    # the chord goes from (0, 1) to (1, 0): distance below it is proportional to 1 - x - y
    return curve[int(np.argmax(1.0 - x - y))]
