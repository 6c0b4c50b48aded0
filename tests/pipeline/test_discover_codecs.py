"""Discovery's outputs are written and read back losslessly, without pickle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from sonotype.annotations import make_events
from sonotype.cluster import hdbscan_grid, rank_clusterings
from sonotype.phenotype import phenotype
from sonotype.pipeline.discover_codecs import (
    ClusteringsCodec,
    PhenotypesCodec,
    ReductionsCodec,
    Selection,
    SelectionCodec,
)
from sonotype.pipeline.discover_config import FeatureSettings
from sonotype.reduce import Embedding


@pytest.fixture
def reductions(rng):
    params = {"n_neighbors": 10, "min_dist": 0.1, "pca_components": None}
    return [
        Embedding(
            "umap",
            {**params, "min_dist": d},
            rng.normal(size=(30, 2)),
            np.arange(30),
            trustworthiness=0.93,
            extra={"n_neighbors_requested": 50},
        )
        for d in (0.1, 0.3)
    ]


def _same_reduction(a: Embedding, b: Embedding) -> None:
    assert (a.name, a.method, a.params, a.extra) == (b.name, b.method, b.params, b.extra)
    assert a.trustworthiness == b.trustworthiness
    np.testing.assert_array_equal(a.coords, b.coords)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.coords.dtype == b.coords.dtype and a.indices.dtype == b.indices.dtype


def test_reductions_round_trip(tmp_path, reductions):
    codec = ReductionsCodec()
    codec.write(reductions, tmp_path / "r.npz")
    back = codec.read(tmp_path / "r.npz")
    assert len(back) == 2
    for a, b in zip(reductions, back, strict=True):
        _same_reduction(a, b)


def _clusterings():
    X, y = make_blobs(120, centers=3, cluster_std=0.5, random_state=2)
    return [hdbscan_grid(X, min_cluster_size=(5, 10), min_samples=(1,), true_labels=y)]


def _same_clustering(a, b) -> None:
    assert (a.name, a.scores, a.extra) == (b.name, b.scores, b.extra)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)


def test_clusterings_round_trip(tmp_path):
    grid = _clusterings()
    codec = ClusteringsCodec()
    codec.write(grid, tmp_path / "c.npz")
    back = codec.read(tmp_path / "c.npz")
    assert [len(group) for group in back] == [2]
    for a, b in zip(grid[0], back[0], strict=True):
        _same_clustering(a, b)
    pd.testing.assert_frame_equal(rank_clusterings(grid[0]), rank_clusterings(back[0]))


def test_a_selection_round_trips(tmp_path, reductions):
    grid = _clusterings()
    summary = rank_clusterings({"umap": grid[0]}).assign(freq_range_hz="0-8000")
    settings = FeatureSettings(time_mode="pad", n_freq=8, n_time=8, freq_scale="mel",
                               freq_range_hz=(0.0, 8000.0), n_components=None)  # fmt: skip
    selection = Selection(summary, 1, settings, reductions[1], grid[0][0])
    codec = SelectionCodec()
    codec.write(selection, tmp_path / "s.npz")
    back = codec.read(tmp_path / "s.npz")
    pd.testing.assert_frame_equal(back.summary, summary)
    assert back.candidate == 1 and back.settings == settings
    _same_reduction(back.reduction, selection.reduction)
    _same_clustering(back.clustering, selection.clustering)


def test_phenotypes_round_trip(tmp_path, rng):
    labels = rng.choice(["0", "1", "2", "-1"], size=60)
    starts = np.cumsum(rng.uniform(0.05, 0.2, size=60))
    events = make_events(
        recording=np.repeat(["a/1.wav", "b/1.wav"], 30), start_s=starts, stop_s=starts + 0.04,
        label=labels,
    )  # fmt: skip
    animals = [name.split("/")[0] for name in events["recording"]]
    value = phenotype(events, animals=animals, noise_label="-1")
    codec = PhenotypesCodec()
    codec.write(value, tmp_path / "p.npz")
    back = codec.read(tmp_path / "p.npz")
    pd.testing.assert_frame_equal(back.summary, value.summary)
    assert back.parameters == value.parameters
    for part in ("per_animal", "transitions", "transition_probabilities"):
        assert list(getattr(back, part)) == list(getattr(value, part)) == ["a", "b"]
        for animal, table in getattr(value, part).items():
            pd.testing.assert_frame_equal(getattr(back, part)[animal], table)
