"""reduce and cluster on any embedding set (--embedding NAME)."""

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.annotations.events import make_events
from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.embeddings import EmbeddingSet, save_embedding_set
from sonotype.errors import ParameterError
from sonotype.pipeline.discover import DiscoverConfig, discover
from sonotype.pipeline.executors import LocalExecutor
from sonotype.store import Project


@pytest.fixture
def project(tmp_path, rng):
    write_audio(tmp_path / "p" / "audio" / "a.wav", np.zeros(8000 * 60), 8000)
    with Project.init(tmp_path / "p") as p:
        p.scan()
        # Three well-separated groups of annotated events, embedded by hand.
        labels = np.repeat(["a", "b", "c"], 30)
        starts = np.arange(90) * 0.5
        events = make_events("a.wav", starts, starts + 0.2, list(labels))
        centres = {"a": 0.0, "b": 10.0, "c": 20.0}
        vectors = np.stack([rng.normal(centres[x], 0.5, 8) for x in labels])
        save_embedding_set(p.folder, EmbeddingSet("hand", "test", "events", events, vectors))
        yield p


@pytest.mark.slow
def test_cluster_on_an_embedding_set_finds_its_groups(project):
    config = DiscoverConfig(name="hand", embedding="hand")
    result = discover(project, config, until="cluster", executor=LocalExecutor(1))
    assert len(result.events) == 90
    assert result.embedding.shape == (90, 8)
    best = result.summary.iloc[0]
    assert best["n_clusters"] == 3 and best["ami"] > 0.9


def test_stages_that_need_spectrograms_are_refused(project):
    with pytest.raises(ParameterError, match="--embedding works with `sonotype reduce`"):
        discover(project, DiscoverConfig(embedding="hand"), until="report")
    with pytest.raises(ParameterError, match="no such embedding set; the project has hand"):
        discover(project, DiscoverConfig(embedding="nope"), until="reduce")


def test_the_cli_takes_embedding(project):
    args = ["reduce", "--embedding", "nope", "-p", str(project.folder)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "no such embedding set" in str(result.exception) + result.output
