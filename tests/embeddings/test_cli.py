"""sonotype models, embed --model and activations from the command line."""

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.annotations.events import make_events
from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.embeddings import load_embedding_set
from sonotype.store import Project
from tests.embeddings.conftest import export, write_card

torch = pytest.importorskip("torch")


@pytest.fixture
def folder(tmp_path, rng, network):
    from tests.models.test_export import SR, saved_model

    write_audio(tmp_path / "p" / "audio" / "a.wav", 0.2 * rng.standard_normal(2 * SR), SR)
    cards = tmp_path / "p" / "embedders"
    cards.mkdir(parents=True)
    write_card(cards, export(network, cards, "onnx"), output="embedding", scores_output="logits")
    write_card(cards, "gone.onnx", output="embedding", scores_output="logits")
    with Project.init(tmp_path / "p") as p:
        p.scan()
        saved_model(p.folder / "artifacts" / "models" / "song", rng)
        events = make_events("a.wav", [0.2, 0.8, 1.4], [0.3, 0.9, 1.5], ["a", "b", "a"])
        p.add_events(events, command="t", description="t")
    return tmp_path / "p"


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_models_lists_what_runs_and_why_not(folder):
    result = _run("models", "-p", folder)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for name in ("birdnet", "pca", "tiny", "gone", "classifier:song"):
        assert name in text
    assert "gone: card; unavailable: model file" in text and "gone.onnx is missing" in text
    assert "birdnet: pretrained, 1024 dimensions, 48000 Hz, 3 s windows, 6522 labels" in text


def test_embed_with_a_card_model_and_the_discovery_fallback_is_kept(folder):
    result = _run("embed", "--model", "tiny", "--windows", "0.5,0.5", "--name", "w", "-p", folder)
    assert result.exit_code == 0, result.output
    assert "embedding set 'w': 4 windows x 4 dimensions (tiny)" in result.output
    assert load_embedding_set(folder, "w").vectors.shape == (4, 4)
    result = _run("embed", "--windows", "1,1", "-p", folder)
    assert result.exit_code == 1 and "--windows needs --model" in result.output + str(
        result.exception
    )
    help_text = " ".join(_run("embed", "--help").output.split())
    assert "or run discovery up to the embedding of the syllables (without --model" in help_text


def test_activations_store_a_set_per_layer(folder):
    result = _run(
        "activations", "song", "--kinds", "annotated", "--layers", "block2,output", "-p", folder
    )
    assert result.exit_code == 0, result.output
    assert "song-output: 3 events (annotated 3) x 3" in result.output
    assert load_embedding_set(folder, "song-block2").events["label"].tolist() == ["a", "b", "a"]
    output = load_embedding_set(folder, "song-output").vectors
    np.testing.assert_allclose(output.sum(axis=1), 1, atol=1e-5)
