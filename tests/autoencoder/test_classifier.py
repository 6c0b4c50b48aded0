"""``train --loss autoencoder``: a reconstruction model whose encoder fits the classifier."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from sonotype.autoencoder.classifier import (
    ReconstructionNetwork,
    load_encoder,
    reconstruction_description,
)
from sonotype.cli.main import app
from sonotype.errors import ParameterError
from sonotype.models.config import network_config
from sonotype.models.network import build_network

runner = CliRunner()
TINY = ["--set", "conv_layers=2", "--set", "feature_maps=4", "--context-ms", "40"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_the_encoder_has_the_classifiers_tensor_names():
    config = network_config(conv_layers=2, feature_maps=4, context_ms=40)
    reconstruction = ReconstructionNetwork(config, 16000).eval()
    classifier = build_network(config, sr=16000, n_labels=3)
    ours = {k for k in reconstruction.state_dict() if k.startswith(("frontend.", "blocks."))}
    theirs = {k for k in classifier.state_dict() if k.startswith(("frontend.", "blocks."))}
    assert ours == theirs and ours
    audio = torch.randn(2, 1, reconstruction.receptive_field)
    with torch.no_grad():
        assert reconstruction(audio).shape == reconstruction.target(audio).shape
    with pytest.raises(ParameterError, match="--representation spectrogram"):
        ReconstructionNetwork(network_config(representation="waveform"), 16000)


@pytest.mark.slow
def test_train_loss_autoencoder_learns_and_initialises_a_classifier(project_dir):
    result = invoke(
        "train",
        "-p",
        project_dir,
        "--name",
        "rec",
        "--labels",
        "a,b,c,d",
        "--loss",
        "autoencoder",
        "--steps",
        "30",
        "--batch-size",
        "8",
        *TINY,
    )
    assert result.exit_code == 0, result.output
    folder = project_dir / "artifacts" / "models" / "rec"
    described = reconstruction_description(folder)
    assert described["loss"] == "autoencoder" and described["bottleneck"][0] == 4
    curve = pd.read_csv(folder / "learning_curve.csv")
    assert curve["validation_loss"].iloc[-1] < curve["validation_loss"].iloc[0]

    config = network_config(conv_layers=2, feature_maps=4, context_ms=40)
    classifier = build_network(config, sr=16000, n_labels=3)
    copied = load_encoder(classifier, folder, config=config)
    encoder = torch.load(folder / "encoder.pt", weights_only=True)
    assert copied == sorted(encoder)
    for key in copied:
        assert torch.equal(classifier.state_dict()[key], encoder[key])
    with pytest.raises(ParameterError, match="feature_maps differ"):
        other = network_config(conv_layers=2, feature_maps=8, context_ms=40)
        load_encoder(build_network(other, sr=16000, n_labels=3), folder, config=other)
