"""The same syllables and seed give the same answer: two discovery runs on two separate,
fresh projects (no shared cache) agree bit for bit, from the embedding to the clusters."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from sonotype.audio import write_audio
from sonotype.pipeline.discover import DiscoverConfig, discover
from sonotype.pipeline.executors import LocalExecutor
from sonotype.store import Project
from sonotype.synth import birdsong, syllable_types

SR = 16000
GRID = {
    "n_neighbors": (10, 15),
    "min_dist": (0.1,),
    "min_cluster_size": (5, 10),
    "min_samples": (1,),
}


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    """Four songs of two birds, three syllable types each, and their true syllables."""
    folder = tmp_path_factory.mktemp("determinism-audio")
    rng = np.random.default_rng(7)
    pool = syllable_types(6, sr=SR, rng=rng)
    tables = []
    for bird, types in (("bird1", pool[:3]), ("bird2", pool[3:])):
        for song in (1, 2):
            name = f"{bird}/song{song}.wav"
            y, events = birdsong(12.0, sr=SR, types=types, recording=name, random_state=rng)
            write_audio(folder / "audio" / name, y, SR)
            tables.append(events)
    return folder, pd.concat(tables, ignore_index=True)


def fresh_run(audio, folder):
    """Discover on a new project at ``folder`` (its own artifact store) up to the report."""
    source, events = audio
    shutil.copytree(source / "audio", folder / "audio")
    with Project.init(folder) as project:
        project.scan()
        project.add_events(events, command="test", description="truth")
        result = discover(
            project, DiscoverConfig(grid=GRID, random_state=3), executor=LocalExecutor(1)
        )
        out = {
            "statuses": {step["status"] for step in project.run_steps(result.run_id)},
            "stages": {step["stage"] for step in project.run_steps(result.run_id)},
            "spectrograms": result.spectrograms,
            "embedding": result.embedding,
            "coords": [reduction.coords for reduction in result.reductions],
            "labels": result.best.clustering.labels,
            "summary": result.summary,
            "clustered": project.events(kinds=["clustered"])[
                ["recording", "start_s", "stop_s", "label"]
            ],
        }
    return out


@pytest.mark.slow
def test_two_fresh_projects_give_identical_clusters(audio, tmp_path):
    first = fresh_run(audio, tmp_path / "one")
    second = fresh_run(audio, tmp_path / "two")
    # Every stage was computed in both projects: no cache made the answers equal.
    for run in (first, second):
        assert run["statuses"] == {"computed"}
        assert {"embedding", "umap-grid", "hdbscan-grid"} <= run["stages"]
    assert len(first["embedding"]) > 100  # enough rows for scikit-learn's randomized PCA
    np.testing.assert_array_equal(first["spectrograms"], second["spectrograms"])
    np.testing.assert_array_equal(first["embedding"], second["embedding"])  # bit for bit
    for a, b in zip(first["coords"], second["coords"], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first["labels"], second["labels"])
    pd.testing.assert_frame_equal(first["summary"], second["summary"])
    pd.testing.assert_frame_equal(first["clustered"], second["clustered"])
