"""Repertoire discovery on a synthetic project: known types are found, settings reach the
stages. (What is cached and what a change reruns: test_discover_cache.py.)"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from sonotype.audio import write_audio
from sonotype.cluster.scores import COMPOSITE_DECIMALS
from sonotype.errors import ParameterError
from sonotype.pipeline.discover import DiscoverConfig, discover, load_grid
from sonotype.pipeline.executors import LocalExecutor
from sonotype.store import Project
from sonotype.synth import birdsong, syllable_types

SR = 16000


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    """Two birds with four distinct syllable types each (types a-d and e-h), two songs each."""
    folder = tmp_path_factory.mktemp("discover")
    rng = np.random.default_rng(1)
    pool = syllable_types(8, sr=SR, rng=rng)
    tables = []
    for bird, types in (("bird1", pool[:4]), ("bird2", pool[4:])):
        for song in (1, 2):
            name = f"{bird}/song{song}.wav"
            y, events = birdsong(25.0, sr=SR, types=types, recording=name, random_state=rng)
            write_audio(folder / "audio" / name, y, SR)
            tables.append(events)
    return folder, pd.concat(tables, ignore_index=True)


@pytest.fixture
def project(audio, tmp_path):
    """A project of its own for each test (on a copy of the audio), with the true syllables."""
    source, events = audio
    folder = tmp_path / "project"
    shutil.copytree(source / "audio", folder / "audio")
    with Project.init(folder) as p:
        p.scan()
        p.add_events(events, command="test", description="truth")
    return folder


@pytest.mark.slow
def test_discover_finds_the_known_types(project):
    with Project.open(project) as p:
        result = discover(p, DiscoverConfig(grid=load_grid("small")))
        best = result.summary.iloc[0]
        assert best["ami"] >= 0.9
        assert result.best.clustering.n_clusters in range(6, 11)  # 8 true types
        animals = set(result.phenotypes.summary["animal"])
        assert animals == {"bird1", "bird2"}
        folder = p.reports_dir / "discover" / "default"
        assert result.report == folder / "index.html"
        assert (folder / "index.html").is_file() and (folder / "summary.csv").is_file()
        assert len(list((folder / "phenotypes").glob("*.csv"))) >= 3
        assert json.loads((folder / "config.json").read_text())["name"] == "default"
        clustered = p.events(kinds=["clustered"])
        assert len(clustered) == len(result.events)
        assert set(clustered["source"]) == {"default"}
        (run,) = [r for r in p.runs() if r["command"] == "discover"]
        assert (run["name"], run["status"]) == ("default", "ok")


def test_errors(project, tmp_path):
    with Project.open(project) as p, pytest.raises(ParameterError, match="at least 10"):
        discover(p, DiscoverConfig(recordings="nothing/*"))
    with pytest.raises(ParameterError, match="neither a named grid"):
        load_grid("huge")
    (tmp_path / "g.toml").write_text("n_neighbours = [5]\n")
    with pytest.raises(ParameterError, match="unknown grid keys n_neighbours"):
        load_grid(str(tmp_path / "g.toml"))
    (tmp_path / "g.toml").write_text("n_neighbors = [7]\nmin_dist = [0.2]\n")
    assert load_grid(str(tmp_path / "g.toml"))["n_neighbors"] == (7,)


def _spying(monkeypatch) -> list:
    """Record the SpectrogramParams of every spectrogram computation (one per recording;
    run with ``LocalExecutor(1)``, in this process)."""
    import sonotype.features as features

    seen = []
    original = features.syllable_spectrograms

    def spy(events, recordings, *, params, **kwargs):
        seen.append(params)
        return original(events, recordings, params=params, **kwargs)

    monkeypatch.setattr(features, "syllable_spectrograms", spy)
    return seen


def test_settings_from_a_grid_file_reach_the_spectrograms(project, tmp_path, monkeypatch):
    seen = _spying(monkeypatch)
    (tmp_path / "g.toml").write_text(
        'time_mode = "stretch"\nn_freq = 12\nn_time = [20]\nfreq_scale = "mel"\n'
        "freq_range_hz = [300, 7000]\nn_components = 5\n"
    )
    with Project.open(project) as p:
        config = DiscoverConfig(grid=load_grid(str(tmp_path / "g.toml")))
        result = discover(p, config, until="embed", executor=LocalExecutor(1))
    assert len(seen) == 4  # one per recording, all alike
    params = seen[0]
    assert all(other == params for other in seen)
    assert (params.time_mode, params.n_freq, params.n_time) == ("stretch", 12, 20)
    assert (params.freq_scale, params.freq_range_hz) == ("mel", (300.0, 7000.0))
    assert result.spectrograms.shape[1:] == (12, 20)
    assert result.embedding.shape[1] == 5


def test_the_band_adapts_to_the_sample_rate(project, monkeypatch):
    seen = _spying(monkeypatch)
    with Project.open(project) as p:
        # 16 kHz recordings: the high end is lowered to the Nyquist frequency, with a note.
        config = DiscoverConfig(n_freq=8, n_time=8, freq_range_hz=(500, 12000))
        result = discover(p, config, until="features", executor=LocalExecutor(1))
        assert seen[-1].freq_range_hz == (500.0, SR / 2)
        assert "lowered to 8000 Hz" in result.notes[0]
        # The whole band is explicit, so recordings of other rates would share rows.
        config = DiscoverConfig(n_freq=8, n_time=8)
        discover(p, config, until="features", executor=LocalExecutor(1))
        assert seen[-1].freq_range_hz == (0.0, SR / 2)
        with pytest.raises(ParameterError, match=r"lies above the Nyquist frequency 8000 Hz"):
            discover(p, DiscoverConfig(freq_range_hz=(9000, 12000)), until="features")


def test_bad_feature_settings_name_the_setting(tmp_path):
    bad = {
        "time_mode": ('"strech"', "time_mode='strech' must be one of 'pad', 'stretch'"),
        "n_freq": ("[64, 1]", r"n_freq=1 must be a whole number >= 2 \(rows\)"),
        "n_components": ("0", r"n_components=0 must be a whole number >= 1"),
        "freq_range_hz": ("[8000, 500]", r"freq_range_hz=\[8000, 500\] must be \(low, high\)"),
        "freq_scale": ('"log"', "freq_scale='log' must be one of 'linear', 'mel'"),
    }
    for key, (value, message) in bad.items():
        (tmp_path / "g.toml").write_text(f"{key} = {value}\n")
        with pytest.raises(ParameterError, match=f"g.toml: {message}"):
            load_grid(str(tmp_path / "g.toml"))
    (tmp_path / "g.toml").write_text("time_mode = []\n")
    with pytest.raises(ParameterError, match="time_mode is an empty list"):
        load_grid(str(tmp_path / "g.toml"))
    (tmp_path / "g.toml").write_text('min_dist = ["a"]\n')
    with pytest.raises(ParameterError, match="min_dist holds 'a'; it must list numbers"):
        load_grid(str(tmp_path / "g.toml"))
    with pytest.raises(ParameterError, match=r"n_time=1\.5 must"):
        DiscoverConfig(n_time=1.5)
    with pytest.raises(ParameterError, match=r"name='a/b' must start with a letter"):
        DiscoverConfig(name="a/b")
    with pytest.raises(ParameterError, match="grid has missing keys min_samples"):
        DiscoverConfig(grid={"n_neighbors": (5,), "min_dist": (0.1,), "min_cluster_size": (5,)})


TIME_MODE_GRID = {
    "n_neighbors": (15,),
    "min_dist": (0.1,),
    "min_cluster_size": (10,),
    "min_samples": (1, 5),
    "time_mode": ("pad", "stretch"),
}


def test_a_grid_over_the_time_mode_is_scored_like_umap_and_hdbscan(project):
    with Project.open(project) as p:
        config = DiscoverConfig(grid=TIME_MODE_GRID, n_freq=24, n_time=24)
        result = discover(p, config, until="cluster")
    summary = result.summary
    assert len(result.candidates) == 2 and len(summary) == 4
    assert sorted(summary["time_mode"]) == ["pad", "pad", "stretch", "stretch"]
    assert set(summary["freq_range_hz"]) == {"0-8000"}
    assert summary["composite"].notna().all() and summary["ami"].notna().all()
    assert list(summary["rank"]) == [1, 2, 3, 4]
    # Ranked by the composite rounded to COMPOSITE_DECIMALS, ties broken by Davies-Bouldin.
    assert summary["composite"].round(COMPOSITE_DECIMALS).is_monotonic_decreasing
    # The selection is the top row's settings, found without labels.
    best = summary.iloc[0]
    assert result.best.settings.time_mode == best["time_mode"]
    assert result.selected.settings == result.best.settings
    assert result.spectrograms.shape == (len(result.events), 24, 24)
    assert best["ami"] >= 0.8


@pytest.mark.slow
def test_the_catalog_shows_the_settings_that_vary(project):
    with Project.open(project) as p:
        result = discover(p, DiscoverConfig(grid=TIME_MODE_GRID, n_freq=24, n_time=24))
    catalog = result.report.read_text()
    assert "2 spectrogram settings x 1 UMAP embeddings x 2 HDBSCAN" in catalog
    assert "<th>time_mode</th>" in catalog
    assert f"Spectrograms: {result.best.settings.time_mode} 24x24" in catalog


def test_docstring_examples():
    import doctest

    from sonotype.pipeline import discover_config

    results = doctest.testmod(discover_config, optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0 and results.failed == 0
