"""``sonotype autoencoder train|extract|export`` on a small synthetic project."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.cli.main import app
from sonotype.embeddings.sets import load_embedding_set
from sonotype.errors import ParameterError
from sonotype.pipeline.autoencoder import window_events

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.slow
def test_train_is_cached_extract_writes_a_set_and_export_a_file(project_dir, tmp_path):
    args = ("autoencoder", "train", "-p", project_dir, "--name", "ae", "--epochs", "2",
            "--latent-channels", "4", "--n-freq", "16", "--n-time", "16")  # fmt: skip
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert "ae: conv-small, 8 features" in first.output and "trained in" in first.output
    report = project_dir / "reports" / "autoencoder" / "ae"
    assert (report / "index.html").is_file() and (report / "ae-previews.png").is_file()
    again = invoke(*args)
    assert "up to date" in again.output

    extracted = invoke("autoencoder", "extract", "ae", "-p", project_dir, "--name", "ae-set")
    assert extracted.exit_code == 0, extracted.output
    embedding = load_embedding_set(project_dir, "ae-set")
    assert embedding.vectors.shape[1] == 8 and embedding.unit == "events"
    assert len(embedding.events) == embedding.vectors.shape[0] > 8
    assert np.isfinite(embedding.vectors).all()

    exported = invoke("autoencoder", "export", "ae", "-p", project_dir, "-o", tmp_path / "ae")
    assert exported.exit_code == 0 and (tmp_path / "ae.onnx").is_file()


@pytest.mark.slow
def test_a_grid_in_the_config_trains_one_model_per_combination(project_dir):
    toml = project_dir / "sonotype.toml"
    toml.write_text(toml.read_text().replace("latent_channels = 32", "latent_channels = [2, 3]"))
    result = invoke("autoencoder", "train", "-p", project_dir, "--name", "g", "--epochs", "1",
                    "--windows", "1,1", "--n-freq", "16", "--n-time", "16")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "g-lc2: conv-small, 4 features" in result.output
    assert "g-lc3: conv-small, 6 features" in result.output
    assert "16 spectrograms (windows)" in result.output  # two recordings of 8 s


def test_bad_options_name_the_option(project_dir):
    with pytest.raises(ParameterError, match="--windows '1'"):
        invoke("autoencoder", "train", "-p", project_dir, "--windows", "1")
    with pytest.raises(ParameterError, match="--n-freq 30"):
        invoke("autoencoder", "train", "-p", project_dir, "--n-freq", "30")
    with pytest.raises(ParameterError, match="needs at least 8"):
        invoke("autoencoder", "train", "-p", project_dir, "--events", "detected")
    with pytest.raises(ParameterError, match="no autoencoder named 'nope'"):
        invoke("autoencoder", "extract", "nope", "-p", project_dir)


def test_windows_tile_each_recording():
    import pandas as pd

    index = pd.DataFrame({"path": ["a.wav", "b.wav"], "duration_s": [2.0, 0.5]})
    windows = window_events(index, window_s=1.0, hop_s=0.5)
    assert windows[["start_s", "stop_s"]].values.tolist() == [[0, 1], [0.5, 1.5], [1, 2]]
    assert set(windows["kind"]) == {"window"}
