"""Boruvka's mutual-reachability MST equals scikit-learn's Prim edge list."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster._hdbscan._linkage import mst_from_data_matrix
from sklearn.metrics import DistanceMetric

from sonotype.cluster import mst as mst_module
from sonotype.cluster.mst import Neighbours, mutual_reachability_mst

from ._data import blobs_with_noise, duplicated, gridded


def _prim(X, neighbours, min_samples):
    core = neighbours.core_distances(min_samples)
    return mst_from_data_matrix(X, core, DistanceMetric.get_metric("euclidean"), 1.0)


@pytest.mark.parametrize("min_samples", [1, 2, 7])
def test_edge_list_equals_prims_on_continuous_data(rng, min_samples):
    X, _ = blobs_with_noise(rng, n=2500, n_noise=250)
    X = np.ascontiguousarray(X * rng.uniform(0.5, 2.0, size=2))
    neighbours = Neighbours(X, 7)
    ours = mutual_reachability_mst(X, neighbours, min_samples)
    # identical records: same edges, same weights to the bit, same order and orientation
    np.testing.assert_array_equal(ours, _prim(X, neighbours, min_samples))


@pytest.mark.parametrize("make", [gridded, duplicated])
@pytest.mark.parametrize("min_samples", [1, 3, 6])
def test_ties_keep_weights_and_merge_heights(rng, make, min_samples):
    X, _ = make(rng)
    X = np.ascontiguousarray(X, dtype=np.float64)
    neighbours = Neighbours(X, 6)
    ours = mutual_reachability_mst(X, neighbours, min_samples)
    prims = _prim(X, neighbours, min_samples)
    # a spanning tree: n - 1 edges reaching every point once from point 0
    assert sorted(ours["next_node"]) == list(range(1, len(X)))
    # another MST of the same weights (labels: test_hdbscan_grid checks they are identical)
    np.testing.assert_array_equal(np.sort(ours["distance"]), np.sort(prims["distance"]))


def test_neighbour_rows_hold_every_point_tied_at_the_last_distance():
    X = np.repeat(np.arange(6, dtype=np.float64).reshape(-1, 1) ** 2, 4, axis=0)
    X = np.hstack([X, np.zeros_like(X)])
    neighbours = Neighbours(X, 2)  # 3 listed, but every point has 3 copies at distance 0
    for i in range(len(X)):
        row = neighbours.indices[neighbours.indptr[i] : neighbours.indptr[i + 1]]
        assert set(row) == set(range(4 * (i // 4), 4 * (i // 4) + 4))
    np.testing.assert_array_equal(neighbours.core_distances(2), 0.0)


def test_copies_are_not_expanded_beyond_the_cap(monkeypatch):
    X = np.zeros((10, 2))
    a, b, w = np.array([0]), np.array([1]), np.array([0.0])
    expanded = mst_module._with_copies(X, a, b, w)
    assert len(expanded[0]) == 90  # every ordered pair of distinct copies
    monkeypatch.setattr(mst_module, "MAX_COPY_EDGES_PER_POINT", 5)
    assert len(mst_module._with_copies(X, a, b, w)[0]) == 1
