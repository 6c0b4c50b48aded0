"""Embedders: the registry, the scikit-learn contract, and each embedder's behaviour."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sonotype.embed import (
    EMBEDDERS,
    FeatureEmbedder,
    FlatEmbedder,
    PCAEmbedder,
    embedder_parameters,
    make_embedder,
    register_embedder,
)
from sonotype.errors import ParameterError, RegistryError


@pytest.mark.parametrize("name", ["base", "flat", "pca", "scaled"])
def test_docstring_examples(name):
    module = importlib.import_module(f"sonotype.embed.{name}")
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    assert doctest.testmod(module, optionflags=flags).failed == 0


def test_registry_holds_the_builtin_embedders():
    assert {"flat", "pca", "features"} <= set(EMBEDDERS.names())
    assert EMBEDDERS.get("pca") is PCAEmbedder and PCAEmbedder.name == "pca"
    with pytest.raises(ParameterError, match="unknown embedder 'umap'; valid names: flat"):
        make_embedder("umap")
    with pytest.raises(RegistryError, match="already registered"):
        register_embedder("pca")(FlatEmbedder)


def test_unknown_parameters_list_the_valid_ones():
    with pytest.raises(
        ParameterError,
        match="no parameter n_dims; its parameters are n_components, whiten, svd_solver, "
        "random_state",
    ):
        make_embedder("pca", n_dims=3)
    assert embedder_parameters(FlatEmbedder) == ["downsample"]


@pytest.mark.parametrize(
    ("name", "params"),
    [("flat", {"downsample": 2}), ("pca", {"n_components": 5}), ("features", {})],
)
def test_estimator_contract(name, params, rng):
    X = rng.random((30, 8, 6)).astype(np.float32)
    if name == "features":
        X = X.reshape(30, -1)
    embedder = make_embedder(name, **params)
    assert embedder.get_params() == {**embedder.get_params(), **params}
    assert not [k for k in vars(embedder) if k.endswith("_")]  # logic-free __init__
    with pytest.raises(NotFittedError, match="not fitted yet"):
        embedder.transform(X)
    assert embedder.fit(X) is embedder
    Z = embedder.transform(X)
    assert Z.dtype == np.float32 and Z.shape == (30, embedder.n_components_)
    np.testing.assert_allclose(clone(embedder).fit_transform(X), Z, rtol=1e-5, atol=1e-6)


def test_flat_downsampling_averages_blocks(rng):
    X = rng.random((4, 6, 9)).astype(np.float32)
    np.testing.assert_array_equal(FlatEmbedder().fit_transform(X), X.reshape(4, -1))
    Z = FlatEmbedder(downsample=(2, 4)).fit_transform(X)
    expected = X[:, :, :8].reshape(4, 3, 2, 2, 4).mean(axis=(2, 4)).reshape(4, -1)
    np.testing.assert_allclose(Z, expected, rtol=1e-6)
    with pytest.raises(ParameterError, match="downsample=0"):
        FlatEmbedder(downsample=0).fit(X)
    with pytest.raises(ParameterError, match=r"downsample=\(2, 2, 2\)"):
        FlatEmbedder(downsample=(2, 2, 2)).fit(X)
    with pytest.raises(ParameterError, match="larger than the rows' shape"):
        FlatEmbedder(downsample=7).fit(X)
    fitted = FlatEmbedder().fit(X)
    with pytest.raises(ParameterError, match=r"fitted on rows of shape \(6, 9\)"):
        fitted.transform(X[:, :5])


def test_pca_clamps_and_checks_n_components(rng):
    X = rng.random((10, 40))
    embedder = PCAEmbedder().fit(X)
    assert embedder.n_components_ == 10 and embedder.transform(X).shape == (10, 10)
    assert PCAEmbedder(n_components=3).fit(X).explained_variance_ratio_.shape == (3,)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ParameterError, match=f"n_components={bad!r} must be an integer >= 1"):
            PCAEmbedder(n_components=bad).fit(X)
    with pytest.raises(ParameterError, match="at least 2 syllables"):
        PCAEmbedder().fit(X[:1])
    with pytest.raises(ParameterError, match="svd_solver='fast'"):
        PCAEmbedder(svd_solver="fast").fit(X)
    with pytest.raises(ParameterError, match="fitted on rows of 40"):
        embedder.transform(X[:, :20])
    X[3, 5] = np.nan
    with pytest.raises(ParameterError, match=r"NaN or infinite values .* \(first: row 3\)"):
        PCAEmbedder().fit(X)


def test_pca_is_deterministic_with_random_state(rng):
    X = rng.random((200, 600)).astype(np.float32)
    first = PCAEmbedder(8, svd_solver="randomized", random_state=3).fit_transform(X)
    second = PCAEmbedder(8, svd_solver="randomized", random_state=3).fit_transform(X)
    np.testing.assert_array_equal(first, second)


def test_pca_default_repeats_bit_for_bit_and_matches_the_exact_components(rng):
    # Wide rows make scikit-learn's "auto" pick the randomized solver (as for spectrograms).
    basis = rng.random((12, 600))
    X = (rng.random((300, 12)) @ basis + 0.05 * rng.random((300, 600))).astype(np.float32)
    first = PCAEmbedder(8).fit(X)
    assert first.pca_._fit_svd_solver == "randomized"
    np.testing.assert_array_equal(first.transform(X), PCAEmbedder(8).fit_transform(X))
    # Unseeded fits differ: the default seed is what makes the embedding repeat.
    a = PCAEmbedder(8, random_state=None).fit_transform(X)
    b = PCAEmbedder(8, random_state=None).fit_transform(X)
    assert not np.array_equal(a, b)
    # The seeded randomized components span the exact ones (same signs too).
    exact = PCAEmbedder(8, svd_solver="full").fit(X)
    cosines = np.abs(np.sum(first.pca_.components_ * exact.pca_.components_, axis=1))
    assert cosines.min() > 0.999


def test_pca_embedding_is_the_same_in_a_fresh_process(tmp_path):
    code = (
        "import numpy as np, sys; from sonotype.embed import PCAEmbedder; "
        "X = np.random.default_rng(4).random((300, 700)).astype(np.float32); "
        "np.save(sys.argv[1], PCAEmbedder(16).fit_transform(X))"
    )
    for name in ("a.npy", "b.npy"):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / name)], check=True)
    X = np.random.default_rng(4).random((300, 700)).astype(np.float32)
    here = PCAEmbedder(16).fit_transform(X)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), here)


def test_pca_whitening_gives_unit_variance(rng):
    X = rng.random((100, 20)) * np.arange(1, 21)
    Z = PCAEmbedder(5, whiten=True).fit_transform(X)
    np.testing.assert_allclose(Z.std(axis=0, ddof=1), 1.0, rtol=1e-4)


def test_features_impute_medians_and_drop_empty_columns():
    table = pd.DataFrame(
        {
            "pitch_hz": [400.0, np.nan, 600.0, 500.0],
            "amplitude_db": [-30.0, -20.0, -np.inf, -25.0],
            "unused": [np.nan] * 4,
            "duration_s": [0.1, 0.2, 0.3, 0.4],
            "label": ["a", "b", "a", "b"],  # not numeric: ignored
        }
    )
    embedder = FeatureEmbedder().fit(table)
    assert embedder.columns_ == ["pitch_hz", "amplitude_db", "duration_s"]
    assert embedder.imputed_columns_ == ["pitch_hz", "amplitude_db"]
    assert embedder.dropped_columns_ == ["unused"]
    np.testing.assert_allclose(embedder.medians_, [500.0, -25.0, 0.25])
    Z = embedder.transform(table)
    assert Z.dtype == np.float32 and Z.shape == (4, 3) and np.isfinite(Z).all()
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-6)
    assert Z[1, 0] == Z[3, 0]  # the imputed pitch equals the median row's
    # New rows with NaN anywhere take the fitted medians.
    new = table.iloc[:1].assign(duration_s=np.nan)
    assert embedder.transform(new)[0, 2] == pytest.approx(Z[1:3, 2].mean(), abs=1e-6)
    # An array with the fitted columns' layout works too.
    as_array = table[["pitch_hz", "amplitude_db", "unused", "duration_s"]].to_numpy()
    np.testing.assert_allclose(embedder.transform(as_array), Z)


def test_features_errors_name_the_problem():
    table = pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]})
    with pytest.raises(ParameterError, match="lacks column pitch_hz; it has a, b"):
        FeatureEmbedder(columns=["pitch_hz"]).fit(table)
    with pytest.raises(ParameterError, match="entirely NaN"):
        FeatureEmbedder(columns=["b"]).fit(table)
    fitted = FeatureEmbedder().fit(table)
    with pytest.raises(ParameterError, match="fitted on 2"):
        fitted.transform(np.ones((2, 3)))
    with pytest.raises(ParameterError, match="no numeric columns"):
        FeatureEmbedder().fit(pd.DataFrame({"label": ["a", "b"]}))
