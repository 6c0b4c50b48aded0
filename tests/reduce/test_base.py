"""The reducer registry, input checks, the Embedding result and the trustworthiness score."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.manifold import trustworthiness

from sonotype.errors import ParameterError
from sonotype.reduce import (
    REDUCERS,
    Embedding,
    PCAReducer,
    TrustworthinessScorer,
    make_reducer,
    reducer_parameters,
)


def test_registry_holds_the_three_reducers():
    assert {"umap", "tsne", "pca"} <= set(REDUCERS.names())


def test_unknown_reducer_lists_valid_names():
    with pytest.raises(ParameterError, match=r"valid names: .*umap"):
        make_reducer("isomap")


def test_make_reducer_refuses_unknown_parameters():
    with pytest.raises(ParameterError, match="no parameter min_dist; its parameters are"):
        make_reducer("tsne", min_dist=0.1)


def test_make_reducer_passes_parameters():
    reducer = make_reducer("umap", n_neighbors=7, min_dist=0.2)
    assert reducer.get_params()["n_neighbors"] == 7
    assert "pca_components" in reducer_parameters(type(reducer))


def test_importing_reduce_imports_no_heavy_libraries():
    # umap-learn, numba and openTSNE load only when a reducer is fitted
    import os
    import subprocess

    import sonotype

    code = (
        "import sys, sonotype.reduce; "
        "print([m for m in ('umap', 'numba', 'openTSNE', 'pynndescent') if m in sys.modules])"
    )
    src = os.path.dirname(os.path.dirname(sonotype.__file__))
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.strip() == "[]"


def test_transform_before_fit_is_a_clear_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="call fit"):
        PCAReducer().transform(np.zeros((3, 3)))


def test_transform_with_wrong_width_is_refused(rng):
    reducer = PCAReducer().fit(rng.normal(size=(20, 5)))
    with pytest.raises(ParameterError, match="4 features per row but PCAReducer was fitted"):
        reducer.transform(rng.normal(size=(3, 4)))


def test_embedding_normalises_dtypes():
    e = Embedding("pca", {"n_components": 2}, np.zeros((3, 2)), [0, 2, 5])
    assert e.coords.dtype == np.float32
    assert e.indices.dtype == np.int64
    assert "pca(n_components=2)" in repr(e)


def test_trustworthiness_equals_scikit_learn(rng):
    X = rng.normal(size=(150, 8))
    Y = X[:, :2] + 0.3 * rng.normal(size=(150, 2))
    scorer = TrustworthinessScorer(X)
    assert scorer.score(Y) == pytest.approx(trustworthiness(X, Y, n_neighbors=5), abs=1e-12)
    assert scorer.score(rng.normal(size=(150, 2))) < scorer.score(Y)


def test_trustworthiness_cosine_equals_scikit_learn(rng):
    X = rng.normal(size=(80, 6))
    Y = rng.normal(size=(80, 2))
    expected = trustworthiness(X, Y, n_neighbors=5, metric="cosine")
    assert TrustworthinessScorer(X, metric="cosine").score(Y) == pytest.approx(expected)


def test_trustworthiness_subsample_is_fixed_and_scored_like_scikit_learn(rng):
    X = rng.normal(size=(500, 4))
    Y = X[:, :2]
    scorer = TrustworthinessScorer(X, n_samples=120, random_state=3)
    again = TrustworthinessScorer(X, n_samples=120, random_state=3)
    np.testing.assert_array_equal(scorer.indices, again.indices)
    assert len(scorer.indices) == 120
    sub = scorer.indices
    expected = trustworthiness(X[sub], Y[sub], n_neighbors=5)
    assert scorer.score(Y) == pytest.approx(expected)  # all rows given: subsampled inside
    assert scorer.score(Y[sub]) == pytest.approx(expected)


def test_trustworthiness_of_nan_coordinates_is_nan(rng):
    X = rng.normal(size=(30, 3))
    Y = rng.normal(size=(30, 2))
    Y[4] = np.nan
    assert np.isnan(TrustworthinessScorer(X).score(Y))
