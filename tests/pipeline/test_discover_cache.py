"""Discovery's stages are cached and read back: what a change reruns, counted by the run's
steps (never by time), each test on its own project."""

from __future__ import annotations

import shutil
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from sonotype.audio import write_audio
from sonotype.pipeline.discover import DiscoverConfig, discover, report_folder
from sonotype.pipeline.executors import LocalExecutor
from sonotype.store import Project
from sonotype.synth import birdsong, syllable_types

SR = 16000
RECORDINGS = ("bird1/song1.wav", "bird1/song2.wav", "bird2/song1.wav")
GRID = {"n_neighbors": (10,), "min_dist": (0.1,), "min_cluster_size": (5, 10), "min_samples": (1,)}
#: Small spectrograms keep the tests quick; the settings are the same in every run below.
SMALL = {"n_freq": 16, "n_time": 16}
ALL_STAGES = {
    "embedding", "umap-grid", "hdbscan-grid", "selection", "phenotypes", "catalog",
    "clustered-events",
}  # fmt: skip


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    """Three songs of two birds (two syllable types each) and their true syllables."""
    folder = tmp_path_factory.mktemp("discover-audio")
    rng = np.random.default_rng(5)
    pool = syllable_types(4, sr=SR, rng=rng)
    tables = []
    for name in RECORDINGS:
        types = pool[:2] if name.startswith("bird1") else pool[2:]
        y, events = birdsong(8.0, sr=SR, types=types, recording=name, random_state=rng)
        write_audio(folder / "audio" / name, y, SR)
        tables.append(events)
    return folder, pd.concat(tables, ignore_index=True)


@pytest.fixture
def project(audio, tmp_path):
    """A new project on a copy of the audio, holding the true syllables (kind annotated)."""
    source, events = audio
    shutil.copytree(source / "audio", tmp_path / "audio")
    with Project.init(tmp_path) as p:
        p.scan()
        p.add_events(events, command="test", description="truth")
        yield p


def run(project, **settings):
    """Discover (in this process) and count the stage executions of the run by status."""
    config = DiscoverConfig(**{"grid": GRID, **SMALL, **settings})
    result = discover(project, config, executor=LocalExecutor(1))
    steps = project.run_steps(result.run_id)
    computed = Counter(s["stage"] for s in steps if s["status"] == "computed")
    cached = Counter(s["stage"] for s in steps if s["status"] == "cached")
    return result, computed, cached


def test_a_rerun_with_nothing_changed_runs_no_stage(project):
    first, computed, cached = run(project)
    assert computed == {"syllable-spectrograms": 3, **dict.fromkeys(ALL_STAGES, 1)}
    assert not cached
    edits = len(project.edit_log())
    index = first.report.read_bytes()

    again, computed, cached = run(project)
    assert not computed
    assert cached == {"syllable-spectrograms": 3, **dict.fromkeys(ALL_STAGES, 1)}
    assert len(project.edit_log()) == edits  # the same clusters are not stored again
    assert again.report == first.report and again.report.read_bytes() == index
    # Cached outputs are read back whole.
    assert again.summary.equals(first.summary)
    assert np.array_equal(again.best.clustering.labels, first.best.clustering.labels)
    assert again.spectrograms.shape == (len(first.events), 16, 16)
    assert len(again.reductions) == 1 and again.reductions[0].trustworthiness > 0.5


def test_a_clustering_parameter_reruns_clustering_and_what_follows(project):
    run(project)
    result, computed, cached = run(project, grid={**GRID, "min_cluster_size": (5, 8)})
    assert set(computed) == {
        "hdbscan-grid", "selection", "phenotypes", "catalog", "clustered-events",
    }  # fmt: skip
    assert cached == {"syllable-spectrograms": 3, "embedding": 1, "umap-grid": 1}
    assert set(result.summary["param_min_cluster_size"]) == {5, 8}


def test_a_spectrogram_setting_reruns_from_the_features(project):
    run(project)
    result, computed, cached = run(project, n_freq=12)
    assert computed == {"syllable-spectrograms": 3, **dict.fromkeys(ALL_STAGES, 1)}
    assert not cached
    assert result.spectrograms.shape[1:] == (12, 16)


@pytest.mark.slow
def test_each_candidate_is_keyed_by_its_settings(project):
    run(project)  # stretch, the default
    grid = {**GRID, "time_mode": ("pad", "stretch")}
    result, computed, cached = run(project, grid=grid)
    # The stretch candidate's stages are found; the pad candidate's run, then all that
    # ranks both.
    assert cached == {"syllable-spectrograms": 3, "embedding": 1, "umap-grid": 1,
                      "hdbscan-grid": 1}  # fmt: skip
    assert computed == {"syllable-spectrograms": 3, "embedding": 1, "umap-grid": 1,
                        "hdbscan-grid": 1, "selection": 1, "phenotypes": 1, "catalog": 1,
                        "clustered-events": 1}  # fmt: skip
    assert [c.settings.time_mode for c in result.candidates] == ["pad", "stretch"]


def test_spectrograms_are_computed_once_per_recording_whatever_the_selection(project):
    config = DiscoverConfig(recordings="bird1/*", grid=GRID, **SMALL)
    first = discover(project, config, until="features", executor=LocalExecutor(1))
    assert first.spectrograms.shape[0] == len(first.events)
    _, computed, cached = run(project)
    assert cached["syllable-spectrograms"] == 2  # bird1's songs
    assert computed["syllable-spectrograms"] == 1  # bird2's


@pytest.mark.slow
def test_named_runs_are_kept_side_by_side(project):
    one, _, _ = run(project, name="bird1", recordings="bird1/*")
    two, _, _ = run(project, name="bird2", recordings="bird2/*")
    assert one.report == report_folder(project, "bird1") / "index.html"
    assert one.report.is_file() and two.report.is_file()
    stored = project.events(kinds=["clustered"])
    assert set(stored["source"]) == {"bird1", "bird2"}
    for name, result in (("bird1", one), ("bird2", two)):
        mine = stored[stored["source"] == name]
        assert set(mine["recording"]) == set(result.events["recording"])
        assert len(mine) == len(result.best.reduction.indices)
    assert [r["name"] for r in project.runs() if r["command"] == "discover"] == ["bird2", "bird1"]
    # Running the first again finds everything, and leaves the second's results alone.
    _, computed, _ = run(project, name="bird1", recordings="bird1/*")
    assert not computed
    assert project.events(kinds=["clustered"]).equals(stored)


@pytest.mark.slow
def test_a_deleted_catalog_and_undone_clusters_are_made_again(project):
    first, _, _ = run(project)
    shutil.rmtree(first.report.parent)
    _, computed, _ = run(project)
    assert computed == {"catalog": 1}
    assert first.report.is_file()

    project.undo()
    assert project.events(kinds=["clustered"]).empty
    _, computed, _ = run(project)
    assert computed == {"clustered-events": 1}
    assert len(project.events(kinds=["clustered"], sources=["default"])) > 0


@pytest.mark.slow
def test_another_run_of_the_same_name_makes_the_catalog_current_again(project):
    first, _, _ = run(project)
    index = first.report.read_bytes()
    run(project, grid={**GRID, "min_cluster_size": (8,)})  # overwrites reports/discover/default
    _, computed, _ = run(project)
    assert "catalog" in computed
    assert first.report.read_bytes() == index


def test_a_corrupt_recording_is_left_out_and_the_run_is_partial(project):
    path = project.recording_path("bird2/song1.wav")
    path.write_bytes(path.read_bytes()[:100])  # truncated after the scan
    result, _, _ = run(project)
    assert list(result.failures) == ["bird2/song1.wav"]
    assert "bird2/song1.wav left out" in " ".join(result.notes)
    assert set(result.events["recording"]) == {"bird1/song1.wav", "bird1/song2.wav"}
    (record,) = [r for r in project.runs() if r["id"] == result.run_id]
    assert record["status"] == "partial" and "bird2/song1.wav" in record["error"]
    failed = project.run_steps(result.run_id, status="failed")
    assert [s["item"] for s in failed] == ["bird2/song1.wav"]
    assert set(project.events(kinds=["clustered"])["recording"]) == set(result.events["recording"])
