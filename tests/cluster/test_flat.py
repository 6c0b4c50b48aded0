"""k-means and agglomerative grids equal their scikit-learn counterparts; the elbow."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster import hierarchy
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from sonotype.cluster import (
    CLUSTERERS,
    AgglomerativeGrid,
    KMeansGrid,
    agglomerative_grid,
    cut_linkage,
    kmeans_elbow,
    kmeans_grid,
)
from sonotype.errors import ParameterError

from ._data import blobs_with_noise, gridded


def test_kmeans_grid_equals_sklearn_and_is_deterministic(rng):
    X, _ = blobs_with_noise(rng, n=300, n_noise=0)
    grid = KMeansGrid(n_clusters=(2, 4, 7), random_state=5).fit(X)
    for c in grid.clusterings_:
        k = c.params["n_clusters"]
        reference = KMeans(n_clusters=k, n_init=4, random_state=5).fit(X)
        np.testing.assert_array_equal(c.labels, reference.labels_)
        assert c.extra["inertia"] == pytest.approx(reference.inertia_)
        assert c.extra["centers"].shape == (k, 2) and c.n_clusters == k
        assert c.probabilities is None and c.noise_fraction == 0
    again = kmeans_grid(X, n_clusters=(2, 4, 7), random_state=5)
    for a, b in zip(grid.clusterings_, again, strict=True):
        np.testing.assert_array_equal(a.labels, b.labels)


@pytest.mark.parametrize("make", [blobs_with_noise, gridded])
def test_agglomerative_grid_equals_sklearn_per_n_clusters(make, rng):
    X, _ = make(rng)
    ks = (2, 3, 4, 6, 10, 25)
    progress = []
    grid = AgglomerativeGrid(n_clusters=ks).fit(X, progress=lambda *a: progress.append(a))
    assert progress == [(i, len(ks)) for i in range(1, len(ks) + 1)]
    for c in grid.clusterings_:
        k = c.params["n_clusters"]
        reference = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(X)
        assert c.n_clusters == k
        assert adjusted_rand_score(reference.labels_, c.labels) == 1.0


def test_cut_linkage_matches_scipy_cut_tree_and_keeps_every_point(rng):
    X = np.round(rng.normal(size=(80, 2)) * 2)  # ties in merge heights
    for method in ("ward", "single", "average"):
        Z = hierarchy.linkage(X, method=method)
        for k in (1, 2, 5, 17, 80):
            labels = cut_linkage(Z, k)
            assert np.unique(labels).size == k
            expected = hierarchy.cut_tree(Z, n_clusters=[k])[:, 0]
            assert adjusted_rand_score(expected, labels) == 1.0


def test_kmeans_elbow_finds_the_number_of_blobs():
    X, _ = make_blobs(
        600, centers=[[0, 0], [7, 0], [0, 7], [7, 7], [14, 3]], cluster_std=0.7, random_state=4
    )
    results = kmeans_grid(X, n_clusters=range(2, 11), score=False)
    assert kmeans_elbow(results).n_clusters == 5
    with pytest.raises(ParameterError, match="kmeans_elbow needs at least 3"):
        kmeans_elbow(results[:2])
    with pytest.raises(ParameterError, match="kmeans_elbow needs at least 3"):
        kmeans_elbow(agglomerative_grid(X, n_clusters=(2, 3, 4), score=False))


def test_flat_errors_and_registry(rng):
    X = rng.normal(size=(30, 2))
    assert CLUSTERERS.get("kmeans") is KMeansGrid
    assert CLUSTERERS.get("agglomerative") is AgglomerativeGrid
    with pytest.raises(
        ParameterError, match=r"n_clusters=31 must be at most the number of points \(30\)"
    ):
        KMeansGrid(n_clusters=(2, 31)).fit(X)
    with pytest.raises(ParameterError, match="n_clusters=1 must hold integers >= 2"):
        AgglomerativeGrid(n_clusters=1).fit(X)
    with pytest.raises(ParameterError, match="linkage='median' must be one of"):
        AgglomerativeGrid(linkage="median").fit(X)
    with pytest.raises(ParameterError, match="X has 30 points, more than max_samples=20"):
        AgglomerativeGrid(max_samples=20).fit(X)
    with pytest.raises(ParameterError, match="n_init=0 must hold integers >= 1"):
        KMeansGrid(n_init=0).fit(X)
