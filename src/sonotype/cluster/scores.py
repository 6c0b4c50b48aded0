"""How good a clustering is: internal and external scores, a composite, and a ranking table.

Internal scores need no true labels and are computed on the *clustered* (non-noise) points,
in the space that was clustered (typically a 2-D reduction):

- ``silhouette`` in ``[-1, 1]``, higher is better. Its cost is quadratic in the number of
  points, so above ``silhouette_sample_size`` clustered points it is computed on a seeded
  random subsample of that size (standard error at most about ``0.5 / sqrt(size)``, 0.007 at
  the default 5000). The subsample is the first clustered points of one fixed permutation
  of all rows, so clusterings of the same data are compared on largely the same points.
- ``davies_bouldin`` >= 0, lower is better; ``calinski_harabasz`` >= 0, higher is better;
  both on all clustered points (cost linear in the number of points).
- ``noise_fraction`` (share of points labelled ``-1``) and ``n_clusters``.

They are undefined when fewer than 2 clusters remain, or when every clustered point is its
own cluster: they are then NaN and ``internal_reason`` says why (it is ``""`` otherwise).
A cluster of one point is allowed; its silhouette is 0, as in scikit-learn.

External scores, when ``true_labels`` are given, compare the clustering with them on every
row whose true label is present (missing values, None or NaN, are left out and counted in
``n_labelled``): ``ari`` (adjusted Rand), ``ami`` (adjusted mutual information), ``nmi``,
``homogeneity``, ``completeness``, ``v_measure``. Noise counts as one more cluster label
(``-1``), so a method is not rewarded for calling hard points noise: they all land in one
impure "cluster".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_array
from scipy.spatial.distance import cdist
from sklearn import metrics

from sonotype.checks import check_matrix
from sonotype.cluster.base import NOISE, Clustering, check_labels
from sonotype.errors import ParameterError

INTERNAL_SCORES = ("silhouette", "davies_bouldin", "calinski_harabasz")
EXTERNAL_SCORES = ("ari", "ami", "nmi", "homogeneity", "completeness", "v_measure")

#: Composite values closer than this are ties, broken by Davies-Bouldin.
COMPOSITE_DECIMALS = 3


def score_clustering(
    X,
    labels,
    *,
    true_labels=None,
    silhouette_sample_size: int = 5000,
    random_state: int = 0,
) -> dict[str, Any]:
    """Internal (and, given true labels, external) scores of one clustering of ``X``.

    Parameters
    ----------
    X : array_like of float, shape (n, d)
        The points that were clustered; no NaN.
    labels : array_like of int, shape (n,)
        Cluster of each point, ``-1`` for noise.
    true_labels : array_like, shape (n,), optional
        Known classes (any hashable values; None or NaN marks an unlabelled row).
    silhouette_sample_size : int, default 5000
        Above this many clustered points, the silhouette uses a seeded subsample of this
        size (see the module notes).
    random_state : int, default 0
        Seed of that subsample.

    Returns
    -------
    dict
        ``n_samples``, ``n_clusters``, ``noise_fraction``, ``n_singletons`` (clusters of one
        point), ``silhouette``, ``silhouette_sample_size`` (points it used),
        ``davies_bouldin``, ``calinski_harabasz``, ``internal_reason``, ``composite``
        (:func:`composite_score`); with ``true_labels`` also ``n_labelled`` and the
        external scores ``ari``, ``ami``, ``nmi``, ``homogeneity``, ``completeness``,
        ``v_measure``. Undefined scores are NaN, never an exception.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1], [9.0]])
    >>> s = score_clustering(X, [0, 0, 1, 1, -1], true_labels=["a", "a", "b", "b", "b"])
    >>> round(s["silhouette"], 3), s["noise_fraction"], round(s["ari"], 3)
    (0.98, 0.2, 0.545)
    >>> score_clustering(X, [0, 0, 0, 0, -1])["internal_reason"]
    'only 1 cluster; internal scores need at least 2'
    """
    X = check_matrix(X)
    n = X.shape[0]
    labels = check_labels(labels, n=n)
    if isinstance(silhouette_sample_size, bool) or not isinstance(
        silhouette_sample_size, (int, np.integer)
    ):
        raise ParameterError(
            f"silhouette_sample_size={silhouette_sample_size!r} must be an integer >= 2; "
            "the default is 5000"
        )
    if silhouette_sample_size < 2:
        raise ParameterError(
            f"silhouette_sample_size={silhouette_sample_size} must be >= 2; the default is 5000"
        )

    clustered = labels != NOISE
    sizes = np.bincount(labels[clustered]) if clustered.any() else np.zeros(0, np.int64)
    sizes = sizes[sizes > 0]
    scores: dict[str, Any] = {
        "n_samples": n,
        "n_clusters": int(sizes.size),
        "noise_fraction": float(n - clustered.sum()) / n,
        "n_singletons": int(np.sum(sizes == 1)),
    }
    order = np.random.default_rng(random_state).permutation(n)
    scores.update(_internal_scores(X, labels, order=order, sample_size=int(silhouette_sample_size)))
    scores["composite"] = composite_score(scores)
    if true_labels is not None:
        scores.update(_external_scores(labels, true_labels))
    return scores


def _undefined_reason(n_points: int, n_clusters: int) -> str:
    if n_points == 0:
        return "all points are noise"
    if n_clusters < 2:
        return f"only {n_clusters} cluster; internal scores need at least 2"
    if n_clusters >= n_points:
        return "every clustered point is its own cluster; internal scores need fewer clusters"
    return ""


def _internal_scores(
    X: np.ndarray, labels: np.ndarray, *, order: np.ndarray, sample_size: int
) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(INTERNAL_SCORES, float("nan"))
    out["silhouette_sample_size"] = 0
    clustered = labels != NOISE
    Xc, lc = X[clustered], _contiguous(labels[clustered])
    n_clusters = int(lc.max()) + 1 if lc.size else 0
    reason = _undefined_reason(lc.size, n_clusters)
    out["internal_reason"] = reason
    if reason:
        return out
    out["davies_bouldin"] = davies_bouldin(Xc, lc)
    out["calinski_harabasz"] = calinski_harabasz(Xc, lc)
    pick = np.sort(order[clustered[order]][:sample_size])
    Xs, ls = X[pick], _contiguous(labels[pick])
    sample_reason = _undefined_reason(ls.size, int(ls.max()) + 1)
    if sample_reason:
        out["internal_reason"] = f"silhouette subsample of {ls.size} points: {sample_reason}"
    else:
        out["silhouette"] = silhouette(Xs, ls)
        out["silhouette_sample_size"] = int(ls.size)
    return out


# The three internal scores, vectorised over clusters. scikit-learn's versions loop over
# clusters in Python, which takes seconds for the thousands of small clusters that HDBSCAN
# finds with a small min_cluster_size; these give the same values (tests compare them).
# Labels must be 0 .. k - 1, every value present, k >= 2; X has no noise rows.

_CHUNK_ELEMENTS = 2**22  # distance-matrix chunk: 32 MB of float64


def _contiguous(labels: np.ndarray) -> np.ndarray:
    return np.unique(labels, return_inverse=True)[1].astype(np.int64).reshape(-1)


def _centroids(X: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(labels)
    sums = np.zeros((counts.size, X.shape[1]))
    np.add.at(sums, labels, X)
    return sums / counts[:, None], counts


def silhouette(X: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette coefficient (Euclidean), as :func:`sklearn.metrics.silhouette_score`.

    Each point's summed distance to every cluster comes from one product of a chunk of the
    distance matrix with a sparse cluster-membership matrix: ``O(n^2 d)`` time whatever the
    number of clusters, ``O(n)`` memory beyond a 32 MB chunk.
    """
    n = labels.size
    counts = np.bincount(labels)
    membership = csr_array((np.ones(n), (np.arange(n), labels)), shape=(n, counts.size))
    values = np.empty(n)
    step = max(1, _CHUNK_ELEMENTS // n)
    for start in range(0, n, step):
        rows = np.arange(start, min(start + step, n))
        own = labels[rows]
        sums = (membership.T @ cdist(X, X[rows])).T  # (rows, clusters)
        intra = sums[np.arange(rows.size), own] / np.maximum(counts[own] - 1, 1)
        sums /= counts
        sums[np.arange(rows.size), own] = np.inf
        inter = sums.min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (inter - intra) / np.maximum(intra, inter)
        values[rows] = np.where(counts[own] > 1, np.nan_to_num(value), 0.0)
    return float(values.mean())


def davies_bouldin(X: np.ndarray, labels: np.ndarray) -> float:
    """Davies-Bouldin index, as :func:`sklearn.metrics.davies_bouldin_score`."""
    centroids, counts = _centroids(X, labels)
    spread = np.bincount(
        labels, weights=np.linalg.norm(X - centroids[labels], axis=1), minlength=counts.size
    )
    spread /= counts
    k = counts.size
    worst = np.empty(k)
    step = max(1, _CHUNK_ELEMENTS // k)
    all_coincide = True
    for start in range(0, k, step):
        rows = slice(start, min(start + step, k))
        apart = cdist(centroids[rows], centroids)
        all_coincide = all_coincide and np.allclose(apart, 0)
        apart[apart == 0] = np.inf
        worst[rows] = np.max((spread[rows, None] + spread[None, :]) / apart, axis=1)
    if all_coincide or np.allclose(spread, 0):
        return 0.0
    return float(np.mean(worst))


def calinski_harabasz(X: np.ndarray, labels: np.ndarray) -> float:
    """Calinski-Harabasz index, as :func:`sklearn.metrics.calinski_harabasz_score`."""
    centroids, counts = _centroids(X, labels)
    n, k = labels.size, counts.size
    between = float(np.sum(counts * np.sum((centroids - X.mean(axis=0)) ** 2, axis=1)))
    within = float(np.sum((X - centroids[labels]) ** 2))
    return 1.0 if within == 0.0 else between * (n - k) / (within * (k - 1.0))


def _external_scores(labels: np.ndarray, true_labels: Any) -> dict[str, Any]:
    truth = pd.Series(np.asarray(true_labels, dtype=object) if np.ndim(true_labels) else [])
    if truth.size != labels.size or np.ndim(true_labels) != 1:
        raise ParameterError(
            f"true_labels has shape {np.shape(true_labels)}; it must hold one label per row "
            f"of X ({labels.size}), None for unlabelled rows"
        )
    present = truth.notna().to_numpy()
    out: dict[str, Any] = {"n_labelled": int(present.sum())}
    if not present.any():
        out.update(dict.fromkeys(EXTERNAL_SCORES, float("nan")))
        out["external_reason"] = "no row has a true label"
        return out
    codes, _ = pd.factorize(truth[present])
    found = labels[present]  # noise (-1) is one more label here
    homogeneity, completeness, v_measure = metrics.homogeneity_completeness_v_measure(codes, found)
    out.update(
        {
            "ari": float(metrics.adjusted_rand_score(codes, found)),
            "ami": float(metrics.adjusted_mutual_info_score(codes, found)),
            "nmi": float(metrics.normalized_mutual_info_score(codes, found)),
            "homogeneity": float(homogeneity),
            "completeness": float(completeness),
            "v_measure": float(v_measure),
            "external_reason": "",
        }
    )
    return out


def score_clusterings(
    X,
    clusterings: Iterable[Clustering],
    *,
    true_labels=None,
    silhouette_sample_size: int = 5000,
    random_state: int = 0,
) -> list[Clustering]:
    """Copies of ``clusterings`` with ``scores`` filled by :func:`score_clustering`."""
    X = check_matrix(X)
    return [
        replace(
            c,
            scores=score_clustering(
                X,
                c.labels,
                true_labels=true_labels,
                silhouette_sample_size=silhouette_sample_size,
                random_state=random_state,
            ),
        )
        for c in clusterings
    ]


def composite_score(scores: Mapping[str, Any]) -> float:
    """One number in ``[0, 1]`` that ranks clusterings without true labels; higher is better.

    ``composite = (1 - noise_fraction) * (1 + silhouette) / 2``

    The silhouette is the usual label-free measure of how compact and separated clusters
    are, rescaled from ``[-1, 1]`` to ``[0, 1]``. But it is computed on clustered points
    only, and a density method can raise it by calling every hard point noise; so each noise
    point is counted as the worst possible point (rescaled silhouette 0). The composite is
    then the mean rescaled silhouette over *all* points, equivalently the rescaled
    silhouette minus the penalty ``noise_fraction * (1 + silhouette) / 2``. For methods
    that assign every point (k-means, agglomerative) it is the rescaled silhouette itself,
    so they compete with HDBSCAN on one scale. Composites equal to
    ``COMPOSITE_DECIMALS`` places (finer than the silhouette's subsampling error) are ties;
    :func:`rank_clusterings` breaks them by the lower Davies-Bouldin index, a second
    compactness-over-separation measure that does not share the silhouette's bias towards
    few clusters, then by the lower noise fraction.

    NaN when the silhouette is undefined (fewer than 2 clusters): such clusterings rank last.

    Limits: the silhouette prefers convex, evenly spread clusters. Among HDBSCAN settings
    the composite picks well even for non-convex shapes (on two noisy moons its choice has
    an ARI within 0.04 of the grid's best); but across methods on non-convex data it can
    prefer a k-means partition that cuts the shapes (ARI 0.2 against HDBSCAN's 0.9 on the
    moons). Read the table, not only its first row, and check the top clusterings by eye.

    Examples
    --------
    >>> composite_score({"silhouette": 0.6, "noise_fraction": 0.1})
    0.72
    """
    missing = [key for key in ("silhouette", "noise_fraction") if key not in scores]
    if missing:
        raise ParameterError(
            f"scores lack {', '.join(missing)}; compute them with score_clustering()"
        )
    silhouette = float(scores["silhouette"])
    if not math.isfinite(silhouette):
        return float("nan")
    return round((1.0 - float(scores["noise_fraction"])) * (1.0 + silhouette) / 2.0, 12)


def rank_clusterings(
    results: Sequence[Clustering] | Mapping[str, Sequence[Clustering]],
) -> pd.DataFrame:
    """Every clustering's parameters and scores, best first by :func:`composite_score`.

    Parameters
    ----------
    results : sequence of Clustering, or mapping of str to sequence of Clustering
        Scored clusterings. A mapping compares clusterings of different inputs, for
        example ``{"umap(n_neighbors=15)": [...], "pca(n_components=2)": [...]}``; its keys
        fill a ``reduction`` column.

    Returns
    -------
    pandas.DataFrame
        One row per clustering: ``rank`` (1 is best), ``reduction`` (mapping input only),
        ``position`` (index in its sequence), ``method``, ``name``, one ``param_<name>``
        column per parameter, ``composite``, then every score. Sorted by composite
        (rounded to ``COMPOSITE_DECIMALS``) descending, then Davies-Bouldin and noise
        fraction ascending; NaN composites last. This is the ``summary.csv`` table.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sonotype.cluster import kmeans_grid
    >>> X, _ = make_blobs(300, centers=[[0, 0], [6, 0], [0, 6]], random_state=0)
    >>> table = rank_clusterings(kmeans_grid(X, n_clusters=(2, 3, 6)))
    >>> table[["rank", "name", "n_clusters"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[1, 'kmeans(n_clusters=3)', 3], [2, 'kmeans(n_clusters=2)', 2],
     [3, 'kmeans(n_clusters=6)', 6]]
    """
    rows = []
    for key, position, clustering in _flatten(results):
        if not clustering.scores:
            raise ParameterError(
                f"clustering {clustering.name} has no scores; score it with "
                "score_clusterings(X, clusterings) or use a grid function with score=True"
            )
        row: dict[str, Any] = {} if key is None else {"reduction": key}
        row.update({"position": position, "method": clustering.method, "name": clustering.name})
        row.update({f"param_{k}": v for k, v in clustering.params.items()})
        row["composite"] = composite_score(clustering.scores)
        row.update({k: v for k, v in clustering.scores.items() if k != "composite"})
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=["rank", "position", "method", "name", "composite"])
    params = [column for column in table if column.startswith("param_")]
    table[params] = table[params].convert_dtypes()  # integers stay integers beside NaN
    lead = [c for c in ("reduction", "position", "method", "name") if c in table]
    lead += [*params, "composite"]
    table = table[lead + [c for c in table if c not in lead]]
    for column in ("davies_bouldin", "noise_fraction"):
        if column not in table:
            table[column] = np.nan
    table["_tied"] = table["composite"].round(COMPOSITE_DECIMALS)
    table["_order"] = np.arange(len(table))
    table = table.sort_values(
        ["_tied", "davies_bouldin", "noise_fraction", "_order"],
        ascending=[False, True, True, True],
        na_position="last",
        kind="mergesort",
    ).drop(columns=["_tied", "_order"])
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def best_clustering(
    results: Sequence[Clustering] | Mapping[str, Sequence[Clustering]],
) -> Clustering | tuple[str, Clustering]:
    """The top clustering of :func:`rank_clusterings`.

    Returns the :class:`Clustering` for a sequence, and ``(reduction, clustering)`` for a
    mapping. A :class:`ParameterError` when there is none, or none has a defined composite.
    """
    table = rank_clusterings(results)
    if table.empty or not np.isfinite(table["composite"].iloc[0]):
        raise ParameterError(
            "no clustering has a defined composite score (each found fewer than 2 clusters); "
            "widen the parameter grid"
        )
    top = table.iloc[0]
    if isinstance(results, Mapping):
        key = top["reduction"]
        return key, results[key][int(top["position"])]
    return results[int(top["position"])]


def _flatten(results: Any) -> Iterable[tuple[Any, int, Clustering]]:
    if isinstance(results, Mapping):
        for key, group in results.items():
            for position, clustering in enumerate(group):
                yield key, position, _check_clustering(clustering)
    else:
        for position, clustering in enumerate(results):
            yield None, position, _check_clustering(clustering)


def _check_clustering(item: Any) -> Clustering:
    if not isinstance(item, Clustering):
        raise ParameterError(
            f"results must hold Clustering objects (or map names to lists of them); "
            f"got {type(item).__name__}"
        )
    return item
