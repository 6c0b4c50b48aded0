"""The shared-work HDBSCAN grid equals independent scikit-learn fits, and shares the MST."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from sklearn.cluster import HDBSCAN
from sklearn.metrics import adjusted_rand_score

from sonotype.cluster import CLUSTERERS, HDBSCANGrid, hdbscan_grid, make_clusterer
from sonotype.errors import ParameterError

from ._data import anisotropic, blobs_with_noise, duplicated, gridded, moons_with_noise

# the package's ``hdbscan_grid`` attribute is the function, which shadows the module
hdbscan_module = importlib.import_module("sonotype.cluster.hdbscan_grid")

SIZES = (5, 10, 20, 50)
SAMPLES = (1, 5, 10)


@pytest.fixture(params=["boruvka", "prim"])
def mst_method(request, monkeypatch):
    """Run a test with each MST algorithm (the grid picks by size and dimension)."""
    if request.param == "boruvka":
        monkeypatch.setattr(hdbscan_module, "BORUVKA_MIN_POINTS", 2)
    else:
        monkeypatch.setattr(hdbscan_module, "BORUVKA_MAX_DIMENSIONS", 0)
    return request.param


@pytest.mark.parametrize(
    "make", [blobs_with_noise, moons_with_noise, gridded, anisotropic, duplicated]
)
def test_every_combination_equals_an_independent_sklearn_fit(make, rng, mst_method):
    X, _ = make(rng)
    grid = HDBSCANGrid(min_cluster_size=SIZES, min_samples=SAMPLES).fit(X)
    assert grid.shared_ and grid.n_msts_ == len(SAMPLES)
    assert [(c.params["min_cluster_size"], c.params["min_samples"]) for c in grid.clusterings_] == [
        (m, s) for m in SIZES for s in SAMPLES
    ]
    for clustering in grid.clusterings_:
        m, s = clustering.params["min_cluster_size"], clustering.params["min_samples"]
        reference = HDBSCAN(min_cluster_size=m, min_samples=s, copy=True).fit(X)
        assert adjusted_rand_score(reference.labels_, clustering.labels) == 1.0
        np.testing.assert_array_equal(clustering.labels == -1, reference.labels_ == -1)
        np.testing.assert_array_equal(clustering.labels, reference.labels_)
        np.testing.assert_allclose(clustering.probabilities, reference.probabilities_)
    # the data sets do exercise noise and several clusters
    assert any(c.noise_fraction > 0 for c in grid.clusterings_)
    assert max(c.n_clusters for c in grid.clusterings_) >= 2


def test_leaf_selection_and_single_cluster_equal_sklearn(rng, mst_method):
    X, _ = moons_with_noise(rng)
    for options in (
        {"cluster_selection_method": "leaf"},
        {"allow_single_cluster": True},
    ):
        grid = HDBSCANGrid(min_cluster_size=(10, 60), min_samples=(3, 8), **options).fit(X)
        for c in grid.clusterings_:
            reference = HDBSCAN(
                min_cluster_size=c.params["min_cluster_size"],
                min_samples=c.params["min_samples"],
                copy=True,
                **options,
            ).fit(X)
            np.testing.assert_array_equal(c.labels, reference.labels_)


def test_one_mst_per_min_samples(monkeypatch, rng):
    X, _ = blobs_with_noise(rng, n=200, n_noise=20)
    calls = []
    original = hdbscan_module._mutual_reachability_mst

    def spy(points, neighbours, min_samples):
        calls.append(neighbours.core_distances(min_samples))
        return original(points, neighbours, min_samples)

    monkeypatch.setattr(hdbscan_module, "_mutual_reachability_mst", spy)
    progress = []
    results = hdbscan_grid(
        X,
        min_cluster_size=SIZES,
        min_samples=SAMPLES,
        score=False,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert len(results) == 12 and len(calls) == len(SAMPLES)
    assert progress == [(i, 12) for i in range(1, 13)]
    # the core distances come from one neighbour query: min_samples=1 is the point itself
    np.testing.assert_array_equal(calls[0], 0.0)
    assert np.all(calls[2] >= calls[1]) and np.any(calls[2] > calls[1])


def test_fallback_to_public_sklearn_gives_the_same_results(monkeypatch, rng):
    X, _ = blobs_with_noise(rng, n=200, n_noise=20)
    shared = HDBSCANGrid(min_cluster_size=(5, 20), min_samples=(2, 6)).fit(X)
    monkeypatch.setattr(hdbscan_module, "_INTERNALS", None)
    fallback = HDBSCANGrid(min_cluster_size=(5, 20), min_samples=(2, 6)).fit(X)
    assert not fallback.shared_ and fallback.n_msts_ == 4 and fallback.single_linkage_trees_ == {}
    for a, b in zip(shared.clusterings_, fallback.clusterings_, strict=True):
        assert a.params == b.params
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_allclose(a.probabilities, b.probabilities)


def test_scored_deterministic_and_registered(rng):
    X, y = blobs_with_noise(rng, n=300, n_noise=30)
    first = hdbscan_grid(X, min_cluster_size=(10, 20), min_samples=(5,), true_labels=y)
    second = hdbscan_grid(X, min_cluster_size=(10, 20), min_samples=(5,), true_labels=y)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.labels, b.labels)
        assert a.scores == b.scores
        assert a.scores["ari"] > 0.8 and a.method == "hdbscan"
        assert np.all(a.probabilities[a.labels == -1] == 0)
        assert np.all((a.probabilities >= 0) & (a.probabilities <= 1))
    assert CLUSTERERS.get("hdbscan") is HDBSCANGrid
    grid = make_clusterer("hdbscan", min_cluster_size=15, min_samples=3)
    assert grid.get_params()["min_cluster_size"] == 15  # scikit-learn estimator contract
    assert len(grid.fit(X).clusterings_) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_cluster_size": (1, 5)}, r"min_cluster_size=\(1, 5\) must hold integers >= 2"),
        ({"min_cluster_size": ()}, r"min_cluster_size=\(\) must be non-empty; the default is"),
        ({"min_samples": 0}, "min_samples=0 must hold integers >= 1"),
        ({"min_samples": 2.5}, "min_samples=2.5 must hold integers"),
        ({"min_samples": (5, 500)}, r"min_samples=500 must be at most the number of points \(60\)"),
        ({"cluster_selection_method": "max"}, "cluster_selection_method='max' must be one of"),
        ({"allow_single_cluster": "yes"}, "allow_single_cluster='yes' must be True or False"),
    ],
)
def test_parameter_errors(kwargs, message, rng):
    X = rng.normal(size=(60, 2))
    with pytest.raises(ParameterError, match=message):
        HDBSCANGrid(**kwargs).fit(X)


def test_bad_input_errors(rng):
    X = rng.normal(size=(50, 2))
    X[[3, 7, 9], 1] = np.nan
    with pytest.raises(
        ParameterError, match=r"NaN or infinite values in 3 of 50 rows \(first: row 3\)"
    ):
        hdbscan_grid(X)
    with pytest.raises(ParameterError, match="must be 2-D"):
        hdbscan_grid(np.zeros(10))
    with pytest.raises(ParameterError, match="has no parameter min_size"):
        make_clusterer("hdbscan", min_size=3)
    with pytest.raises(ParameterError, match=r"unknown clusterer 'dbscan'; valid names: .*hdbscan"):
        make_clusterer("dbscan")


def test_boruvka_for_large_low_dimensional_data_prim_otherwise(monkeypatch, rng):
    used = []
    original = hdbscan_module.mutual_reachability_mst

    def spy(points, neighbours, min_samples):
        used.append(points.shape)
        return original(points, neighbours, min_samples)

    monkeypatch.setattr(hdbscan_module, "mutual_reachability_mst", spy)
    X, _ = blobs_with_noise(rng, n=hdbscan_module.BORUVKA_MIN_POINTS, n_noise=10)
    HDBSCANGrid(min_cluster_size=50, min_samples=5).fit(X)
    assert used == [X.shape]
    HDBSCANGrid(min_cluster_size=50, min_samples=5).fit(X[:500])  # few points: Prim
    wide = rng.normal(size=(200, hdbscan_module.BORUVKA_MAX_DIMENSIONS + 1))
    monkeypatch.setattr(hdbscan_module, "BORUVKA_MIN_POINTS", 2)
    HDBSCANGrid(min_cluster_size=10, min_samples=5).fit(wide)  # many dimensions: Prim
    assert used == [X.shape]


@pytest.mark.slow
def test_default_path_equals_sklearn_on_float32_points_with_copies(rng):
    """As UMAP writes them (float32), with some points repeated: Boruvka by default."""
    X, _ = blobs_with_noise(rng, n=5500, n_noise=300)
    X = np.vstack([X, X[:200]]).astype(np.float32).astype(np.float64)
    assert len(X) >= hdbscan_module.BORUVKA_MIN_POINTS
    grid = HDBSCANGrid(min_cluster_size=(10, 50), min_samples=(5, 10)).fit(X)
    for c in grid.clusterings_:
        m, s = c.params["min_cluster_size"], c.params["min_samples"]
        reference = HDBSCAN(min_cluster_size=m, min_samples=s, copy=True).fit(X)
        np.testing.assert_array_equal(c.labels, reference.labels_)
        np.testing.assert_allclose(c.probabilities, reference.probabilities_)
