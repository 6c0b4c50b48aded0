"""``sonotype triplets sample|train|extract`` on a project of planted motifs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")

from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.embed import make_embedder
from sonotype.embeddings.sets import load_embedding_set
from sonotype.store import Project
from sonotype.synth.motif import planted_motif
from sonotype.triplets.training import TrainingDiverged

runner = CliRunner()
SR = 16000
TINY = ["--epochs", "1", "--batches-per-epoch", "2", "--batch-size", "4", "--dim", "8",
        "--channels", "4,8", "--sr", "16000", "--n-mels", "16", "--hop-length", "512"]  # fmt: skip


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("triplets-cli")
    rng = np.random.default_rng(3)
    for k in range(4):
        y = planted_motif(duration_s=15.0, motif_s=2.0, starts_s=(2.0 + k, 9.0), rng=rng)
        write_audio(folder / "audio" / f"r{k}.wav", y, SR)
    events = pd.DataFrame({
        "recording": [f"r{k}.wav" for k in range(4) for _ in range(3)],
        "start_s": [1.0, 5.0, 12.0] * 4, "stop_s": [1.2, 5.3, 12.1] * 4,
        "label": ["a", "b", "c"] * 4, "kind": ["annotated"] * 12, "channel": [0] * 12,
        "source": ["test"] * 12,
    })  # fmt: skip
    with Project.init(folder) as p:
        p.scan()
        p.add_events(events, command="test", description="truth")
    assert invoke("motifs", "-p", folder, "--window", "2", "--engine", "numpy").exit_code == 0
    return folder


@pytest.mark.slow
def test_sample_train_extract(project):
    result = invoke("triplets", "sample", "-p", project, "--per-class", "8", "--clip", "1")
    assert result.exit_code == 0, result.output
    assert "32 triplets of 4 classes" in result.output
    result = invoke("triplets", "train", "-p", project, *TINY)
    assert result.exit_code == 0, result.output
    assert "trained:" in result.output
    result = invoke("triplets", "train", "-p", project, *TINY)  # same: the stage's cache
    assert "up to date" in result.output
    result = invoke("triplets", "extract", "-p", project)
    assert result.exit_code == 0, result.output
    emb = load_embedding_set(project, "triplet-triplets")
    assert emb.vectors.shape == (12, 8) and emb.model == "triplet"
    assert np.isfinite(emb.vectors).all()
    # The registered embedder gives the same vectors from the same spectrograms.
    model = project / "artifacts" / "triplets" / "triplets" / "model.pt"
    embedder = make_embedder("triplet", model=model).fit()
    spec = np.zeros((16, 7), np.float32)
    assert embedder.transform([spec]).shape == (1, 8)


@pytest.mark.slow
def test_nan_learning_rate_through_the_cli(project):
    invoke("triplets", "sample", "-p", project, "--per-class", "4", "--clip", "1",
           "--name", "nan")  # fmt: skip
    with pytest.raises(TrainingDiverged, match="Lower --lr"):
        invoke("triplets", "train", "nan", "-p", project, *TINY, "--lr", "1e30")
    assert (project / "artifacts" / "triplets" / "nan" / "checkpoint.pt").is_file()
    assert not (project / "artifacts" / "triplets" / "nan" / "model.pt").exists()
