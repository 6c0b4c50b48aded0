"""Repertoire discovery on a synthetic project: known types are found, stages are cached."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.audio import write_audio
from sonotype.errors import ParameterError
from sonotype.pipeline.discover import DiscoverConfig, discover, load_grid
from sonotype.store import Project
from sonotype.synth import birdsong, syllable_types

SR = 16000


@pytest.fixture(scope="module")
def project(tmp_path_factory):
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
    with Project.init(folder) as project:
        project.scan()
        from sonotype.annotations import concat_events

        project.add_events(concat_events(tables), command="test", description="truth")
    return folder


def test_discover_finds_the_known_types(project):
    with Project.open(project) as p:
        result = discover(p, DiscoverConfig(grid=load_grid("small")))
        best = result.summary.iloc[0]
        assert best["ami"] >= 0.9
        assert result.best["clustering"].n_clusters in range(6, 11)  # 8 true types
        animals = set(result.phenotypes.summary["animal"])
        assert animals == {"bird1", "bird2"}
        folder = p.reports_dir / "discover"
        assert (folder / "index.html").is_file() and (folder / "summary.csv").is_file()
        assert len(list((folder / "phenotypes").glob("*.csv"))) >= 3
        clustered = p.events(kinds=["clustered"])
        assert len(clustered) == len(result.events)
        runs = p.db.execute("SELECT COUNT(*) FROM runs WHERE command='discover'").fetchone()[0]
        assert runs == 1


def test_stages_are_cached(project, monkeypatch):
    import sonotype.features as features

    calls = []
    original = features.syllable_spectrograms
    monkeypatch.setattr(
        features, "syllable_spectrograms", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    with Project.open(project) as p:
        discover(p, DiscoverConfig(), until="embed")
        assert calls == []  # computed by the first test, found in the artifact cache
        discover(p, DiscoverConfig(n_freq=32, n_time=32), until="features")
        assert calls == [1]  # new parameters, new artifact


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
