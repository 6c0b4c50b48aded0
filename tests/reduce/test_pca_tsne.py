"""The ``pca`` and ``tsne`` reducers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA

from sonotype.errors import ParameterError
from sonotype.reduce import PCAReducer, TrustworthinessScorer, TSNEReducer, make_reducer


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(330, n_features=12, centers=3, cluster_std=1.0, random_state=4)
    return X[:300], y[:300], X[300:], y[300:]


def nearest_label(coords, labels, new_coords):
    """Label of the nearest training point in the embedding, for each new point."""
    d = ((new_coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1)
    return labels[d.argmin(axis=1)]


def test_pca_matches_scikit_learn(blobs):
    X, _, new, _ = blobs
    reducer = make_reducer("pca", n_components=2).fit(X)
    reference = PCA(n_components=2).fit(X)
    np.testing.assert_allclose(np.abs(reducer.transform(new)), np.abs(reference.transform(new)),
                               rtol=1e-4, atol=1e-3)  # fmt: skip
    assert reducer.embedding_.shape == (300, 2)
    assert reducer.embedding_.dtype == np.float32


def test_pca_refuses_too_many_components(rng):
    with pytest.raises(ParameterError, match="n_components=6 is more than"):
        PCAReducer(n_components=6).fit(rng.normal(size=(5, 10)))


def test_tsne_places_new_points_near_their_cluster(blobs):
    X, y, new, y_new = blobs
    reducer = TSNEReducer(perplexity=20, n_iter=250, random_state=1).fit(X)
    coords = reducer.embedding_
    assert coords.shape == (300, 2)
    assert TrustworthinessScorer(X).score(coords) > 0.9
    placed = reducer.transform(new)
    assert placed.shape == (30, 2)
    assert np.mean(nearest_label(coords, y, placed) == y_new) >= 0.9


def test_tsne_is_seeded(blobs):
    X = blobs[0][:120]
    a = TSNEReducer(perplexity=10, n_iter=50, random_state=3).fit_transform(X)
    b = TSNEReducer(perplexity=10, n_iter=50, random_state=3).fit_transform(X)
    np.testing.assert_allclose(a, b)


def test_tsne_with_pca_first(blobs):
    X, _, new, _ = blobs
    reducer = TSNEReducer(perplexity=15, n_iter=50, pca_components=4).fit(X)
    assert reducer.pca_.n_components_ == 4
    assert reducer.transform(new).shape == (30, 2)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"perplexity": 200}, "perplexity=200 must be positive and less than"),
        ({"metric": "hamming"}, "metric='hamming' must be one of"),
        ({"n_iter": 0}, "n_iter=0 must be an integer >= 1"),
        ({"n_jobs": 0}, "n_jobs=0"),
        ({"pca_components": 100}, "pca_components=100 is more than"),
        ({"random_state": -1}, "random_state=-1"),
    ],
)
def test_tsne_parameter_errors(blobs, params, match):
    with pytest.raises(ParameterError, match=match):
        TSNEReducer(**params).fit(blobs[0])
