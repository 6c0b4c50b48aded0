"""UMAP alone and over grids.

All UMAP tests live in this one module, on small data: importing umap-learn costs a few
seconds per process with a warm numba cache (and about 40 s the very first time, while
sonotype's cache folder fills).
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.manifold import trustworthiness

from sonotype.errors import ParameterError
from sonotype.reduce import (
    UMAPReducer,
    estimate_peak_mb,
    import_umap,
    make_reducer,
    numba_cache_dir,
    umap_grid,
)

layout_module = importlib.import_module("sonotype.reduce.umap_layout")
neighbors_module = importlib.import_module("sonotype.reduce.umap_neighbors")


@pytest.fixture(scope="module")
def umap():
    return import_umap()


@pytest.fixture(scope="module")
def blobs():
    """300 training and 30 new points from 4 clusters in 10 dimensions."""
    X, y = make_blobs(330, n_features=10, centers=4, cluster_std=1.5, random_state=7)
    return X[:300].astype(np.float32), y[:300], X[300:].astype(np.float32), y[300:]


def nearest_label(coords, labels, new_coords):
    """Label of the nearest training point in the embedding, for each new point."""
    d = ((new_coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1)
    return labels[d.argmin(axis=1)]


class Spy:
    """Wraps a function and counts its calls."""

    def __init__(self, function):
        self.function = function
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append(args)
        return self.function(*args, **kwargs)


def test_full_grid_has_every_combination(blobs):
    X = blobs[0]
    done = []
    results = umap_grid(X, n_epochs=20, progress=lambda i, n: done.append((i, n)))
    assert len(results) == 25
    combos = [(e.params["n_neighbors"], e.params["min_dist"]) for e in results]
    assert combos == [(k, d) for k in (5, 10, 20, 50, 100) for d in (0.01, 0.05, 0.1, 0.3, 0.5)]
    for e in results:
        assert e.method == "umap"
        assert e.params["metric"] == "euclidean"
        assert e.coords.shape == (300, 2)
        assert e.coords.dtype == np.float32
        np.testing.assert_array_equal(e.indices, np.arange(300))
        assert 0.5 < e.trustworthiness <= 1
        assert isinstance(e.model, UMAPReducer)
        assert e.model.umap_.min_dist == e.params["min_dist"]
        assert e.model.n_neighbors_ == e.params["n_neighbors"]
    assert done[-1] == (25, 25)
    assert len(done) == 25


def test_knn_once_and_fuzzy_graph_once_per_n_neighbors(blobs, umap, monkeypatch):
    knn = Spy(layout_module.nearest_neighbors)
    fuzzy = Spy(umap.umap_.fuzzy_simplicial_set)
    monkeypatch.setattr(layout_module, "nearest_neighbors", knn)
    monkeypatch.setattr(umap.umap_, "fuzzy_simplicial_set", fuzzy)
    results = umap_grid(blobs[0], n_neighbors=(5, 15, 30), min_dist=(0.1, 0.3), n_epochs=20)
    assert len(results) == 6
    assert len(knn.calls) == 1
    assert knn.calls[0][2] == 30  # for the largest n_neighbors
    assert len(fuzzy.calls) == 3
    assert sorted(call[1] for call in fuzzy.calls) == [5, 15, 30]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_equals_independent_fits_on_the_same_neighbours(blobs, umap, n_jobs):
    # the shared graph, initialisation and random state reproduce umap-learn exactly
    X = blobs[0]
    results = umap_grid(X, n_neighbors=(8, 15), min_dist=(0.05, 0.5), n_jobs=n_jobs)
    indices, dists, _ = neighbors_module.nearest_neighbors(
        umap, X, 15, metric="euclidean", method="exact", random_state=0
    )
    for e in results:
        k = e.params["n_neighbors"]
        model = umap.UMAP(
            n_neighbors=k,
            min_dist=e.params["min_dist"],
            random_state=0,
            precomputed_knn=(indices[:, :k].copy(), dists[:, :k].copy()),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = model.fit_transform(X)
        np.testing.assert_allclose(e.coords, expected, atol=1e-4)


def test_grid_is_as_trustworthy_as_independent_umap_fits(blobs, umap):
    X = blobs[0]
    results = umap_grid(X, n_neighbors=(10, 30), min_dist=(0.05, 0.5))
    independent = []
    for e in results:
        model = umap.UMAP(
            n_neighbors=e.params["n_neighbors"], min_dist=e.params["min_dist"], random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            independent.append(trustworthiness(X, model.fit_transform(X), n_neighbors=5))
    ours = [trustworthiness(X, e.coords, n_neighbors=5) for e in results]
    np.testing.assert_allclose(ours, [e.trustworthiness for e in results])
    assert abs(np.mean(ours) - np.mean(independent)) < 0.01


def test_new_points_land_near_their_cluster(blobs):
    X, y, new, y_new = blobs
    results = umap_grid(X, n_neighbors=(10, 30), min_dist=(0.1,))
    for e in results:
        placed = e.model.transform(new)
        assert placed.shape == (30, 2)
        assert placed.dtype == np.float32
        assert np.mean(nearest_label(e.coords, y, placed) == y_new) >= 0.9


def test_reducer_fit_transform_and_transform(blobs):
    X, y, new, y_new = blobs
    reducer = make_reducer("umap", n_neighbors=12, min_dist=0.2)
    coords = reducer.fit_transform(X)
    assert coords.shape == (300, 2)
    assert trustworthiness(X, coords, n_neighbors=5) > 0.9
    np.testing.assert_array_equal(coords, reducer.embedding_)
    placed = reducer.transform(new)
    assert np.mean(nearest_label(coords, y, placed) == y_new) >= 0.9
    again = UMAPReducer(n_neighbors=12, min_dist=0.2).fit_transform(X)
    np.testing.assert_array_equal(coords, again)  # seeded by default


def test_cosine_metric_and_three_components(blobs):
    X = blobs[0] + 20.0  # away from the origin, so that angles separate the clusters
    results = umap_grid(X, n_neighbors=(10,), min_dist=(0.1,), metric="cosine", n_components=3)
    (e,) = results
    assert e.coords.shape == (300, 3)
    assert e.params["metric"] == "cosine"
    assert e.trustworthiness > 0.8
    assert e.model.transform(blobs[2] + 20.0).shape == (30, 3)


def test_pca_first(blobs):
    X, y, new, y_new = blobs
    wide = np.hstack([X, 0.01 * np.random.default_rng(0).normal(size=(300, 50))])
    wide_new = np.hstack([new, np.zeros((30, 50))])
    (e,) = umap_grid(wide, n_neighbors=(15,), min_dist=(0.1,), pca_components=5)
    assert e.params["pca_components"] == 5
    assert e.model.pca_.n_components_ == 5
    assert e.model.n_features_in_ == 60
    assert e.trustworthiness > 0.9  # scored against the original 60-d rows
    placed = e.model.transform(wide_new)
    assert np.mean(nearest_label(e.coords, y, placed) == y_new) >= 0.9


def test_subsampling_keeps_whole_groups_and_is_seeded(blobs):
    X = blobs[0]
    groups = np.repeat(np.arange(30), 10)  # 30 songs of 10 syllables
    budget = estimate_peak_mb(155, X.shape[1], 20)
    with pytest.warns(UserWarning, match="over the .* budget; using 150 rows"):
        results = umap_grid(
            X, n_neighbors=(20,), min_dist=(0.1, 0.3), groups=groups, memory_budget_mb=budget,
            n_epochs=30,
        )  # fmt: skip
    rows = results[0].indices
    assert len(rows) == 150
    np.testing.assert_array_equal(rows, results[1].indices)
    assert results[0].coords.shape == (150, 2)
    for g in np.unique(groups[rows]):
        assert np.sum(groups[rows] == g) == 10
    with pytest.warns(UserWarning):
        again = umap_grid(
            X, n_neighbors=(20,), min_dist=(0.1,), groups=groups, memory_budget_mb=budget,
            n_epochs=30,
        )  # fmt: skip
    np.testing.assert_array_equal(again[0].indices, rows)


def test_n_neighbors_beyond_the_data_are_clamped(blobs):
    X = blobs[0][:25]
    with pytest.warns(UserWarning, match=r"n_neighbors \[50, 100\] are not less than the 25"):
        results = umap_grid(X, n_neighbors=(5, 50, 100), min_dist=(0.1,), n_epochs=50)
    assert [e.params["n_neighbors"] for e in results] == [5, 24, 24]
    assert results[0].extra == {}
    assert results[1].extra == {"n_neighbors_requested": 50}
    assert results[2].extra == {"n_neighbors_requested": 100}
    assert results[1].model is results[2].model  # computed once
    with pytest.warns(UserWarning, match="using n_neighbors=24"):
        reducer = UMAPReducer(n_neighbors=30).fit(X)
    assert reducer.n_neighbors_ == 24


def test_too_few_rows_is_a_clear_error():
    with pytest.raises(ParameterError, match="X has 4 rows; UMAP needs at least 5"):
        umap_grid(np.random.default_rng(0).normal(size=(4, 3)))


def test_smallest_data_still_embeds():
    X = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.warns(UserWarning):
        (e,) = umap_grid(X, n_neighbors=(15,), min_dist=(0.1,))
    assert e.params["n_neighbors"] == 5
    assert np.isfinite(e.coords).all()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_neighbors": (1, 5)}, r"n_neighbors=\(1, 5\) must hold integers >= 2"),
        ({"n_neighbors": ()}, r"n_neighbors=\(\) must be non-empty"),
        ({"min_dist": (0.1, 2.0)}, r"min_dist=\(0.1, 2.0\) must hold numbers in \[0, 1\]"),
        ({"metric": "manhattan"}, "metric='manhattan' must be one of"),
        ({"n_components": 0}, "n_components=0 must be an integer >= 1"),
        ({"n_epochs": 5}, "n_epochs=5 must be an integer >= 11"),
        ({"neighbors": "annoy"}, "neighbors='annoy' must be one of"),
        ({"random_state": "seed"}, "random_state='seed'"),
        ({"n_jobs": 0}, "n_jobs=0 must be an integer >= 1"),
        ({"memory_budget_mb": -5}, "memory_budget_mb=-5 must be a number of MB > 0"),
        ({"memory_budget_mb": 1}, "memory_budget_mb=1 is too small"),
        ({"groups": np.zeros(7)}, "groups has 7 entries for 300 rows"),
        ({"pca_components": 11}, "pca_components=11 is more than"),
    ],
)
def test_parameter_errors(blobs, params, match):
    with pytest.raises(ParameterError, match=match):
        umap_grid(blobs[0], **params)


def test_numba_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SONOTYPE_CACHE_DIR", str(tmp_path))
    assert numba_cache_dir() == tmp_path / "numba"
    monkeypatch.delenv("SONOTYPE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert numba_cache_dir() == tmp_path / "xdg" / "sonotype" / "numba"


def test_umap_functions_are_cached_and_the_layout_releases_the_gil(umap):
    from numba.core.caching import NullCache

    kernel = umap.layouts._nb_optimize_layout_euclidean_single_epoch
    assert kernel.targetoptions.get("nogil")
    assert not isinstance(kernel._cache, NullCache)
    for function in (umap.umap_.smooth_knn_dist, umap.umap_.compute_membership_strengths):
        assert not isinstance(function._cache, NullCache)


@pytest.mark.slow
def test_nndescent_neighbours(blobs, umap, monkeypatch):
    # NN-descent compiles for 20-50 s in every process (pynndescent cannot cache it)
    X, y, new, y_new = blobs
    spy = Spy(umap.umap_.nearest_neighbors)
    monkeypatch.setattr(umap.umap_, "nearest_neighbors", spy)
    results = umap_grid(X, n_neighbors=(10, 20), min_dist=(0.1, 0.5), neighbors="nndescent")
    assert len(spy.calls) == 1
    exact = umap_grid(X, n_neighbors=(10, 20), min_dist=(0.1, 0.5))
    assert (
        abs(
            np.mean([e.trustworthiness for e in results])
            - np.mean([e.trustworthiness for e in exact])
        )
        < 0.01
    )
    placed = results[0].model.transform(new)
    assert np.mean(nearest_label(results[0].coords, y, placed) == y_new) >= 0.9


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_neighbours_are_exact_with_self_first_at_zero(metric):
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(0)
    X = (100 + rng.normal(size=(60, 30))).astype(np.float32)  # large norms, small gaps
    X[7] = X[3]  # a duplicate
    indices, dists = neighbors_module.exact_knn(X, None, 10, metric=metric)
    np.testing.assert_array_equal(indices[:, 0], np.arange(60))  # self first, duplicates too
    assert np.all(dists[:, 0] == 0)
    if metric == "euclidean":
        assert dists[3, 1] == 0 and indices[3, 1] == 7  # the duplicate: exactly 0 too
    reference = np.sort(cdist(X.astype(np.float64), X.astype(np.float64), metric), axis=1)
    np.testing.assert_allclose(dists[:, 1:], reference[:, 1:10], rtol=1e-5, atol=1e-6)


def test_fitted_models_pickle(blobs):
    import pickle

    X, _, new, _ = blobs
    (e,) = umap_grid(X, n_neighbors=(10,), min_dist=(0.1,), pca_components=6, n_epochs=50)
    model = pickle.loads(pickle.dumps(e.model))
    np.testing.assert_array_equal(model.embedding_, e.coords)
    np.testing.assert_allclose(model.transform(new), e.model.transform(new), atol=1e-5)


# Coordinates of a small grid, the placement of new rows and a single reducer fit, as the
# code computed them before umap_grid.py was split into modules (issue 12): the split must
# not change one bit. Pinned with these versions on x86-64; other versions (or CPUs whose
# fastmath kernels round differently) may legitimately differ, so the test skips there.
PINNED_VERSIONS = {"umap": "0.5.12", "numba": "0.68.1", "numpy": "2.4.6"}
PINNED_GRID = {
    (5, 0.1): "a31b00ad151f6b9c",
    (5, 0.5): "0302fb4085f27b4e",
    (12, 0.1): "c3a4c0f1f1984e22",
    (12, 0.5): "2736b90517d96903",
}
PINNED_TRANSFORM = "b8d1825073c85af5"
PINNED_REDUCER = "49cda3d7504548f4"


def digest(array) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.float32).tobytes()).hexdigest()[:16]


def test_results_are_bit_identical_to_the_pinned_ones(umap):
    import platform

    import numba

    found = {"umap": umap.__version__, "numba": numba.__version__, "numpy": np.__version__}
    if found != PINNED_VERSIONS or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip(f"pinned with {PINNED_VERSIONS} on x86-64; this is {found}")
    X, _ = make_blobs(120, n_features=6, centers=3, random_state=0)
    results = umap_grid(
        X, n_neighbors=(5, 12), min_dist=(0.1, 0.5), n_epochs=30, random_state=0, n_jobs=1
    )
    got = {(e.params["n_neighbors"], e.params["min_dist"]): digest(e.coords) for e in results}
    assert got == PINNED_GRID
    assert digest(results[0].model.transform(X[:5])) == PINNED_TRANSFORM
    reducer = make_reducer("umap", n_neighbors=7, min_dist=0.2, n_epochs=30, random_state=1)
    assert digest(reducer.fit_transform(X)) == PINNED_REDUCER
