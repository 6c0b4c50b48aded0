"""``train --init-from`` a reconstruction model (``train --loss autoencoder``): its encoder
starts the classifier (docs/representations.md)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sonotype.annotations import concat_events
from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.errors import ParameterError
from sonotype.store import Project
from sonotype.synth import flysong

torch = pytest.importorskip("torch")

runner = CliRunner()
NETWORK = ("--set", "conv_layers=2", "--set", "feature_maps=4", "--context-ms", "40",
           "--steps", "4", "--batch-size", "4", "--validate-every", "2")  # fmt: skip


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path):
    tables = []
    for i in range(2):
        y, events = flysong(4, recording=f"fly{i}.wav", random_state=i)
        write_audio(tmp_path / "audio" / f"fly{i}.wav", y, 2500)
        tables.append(events)
    with Project.init(tmp_path, audio_roots=[tmp_path / "audio"]) as p:
        p.scan()
        p.add_events(concat_events(tables), command="test", description="truth")
    return tmp_path


@pytest.mark.slow
def test_a_classifier_starts_from_a_reconstruction_models_encoder(project):
    result = invoke("train", "--name", "rec", "--labels", "sine", "--loss", "autoencoder",
                    *NETWORK, "-p", project)  # fmt: skip
    assert result.exit_code == 0, result.output
    # --freeze-layers 1 keeps the front end and the first block as they start: the encoder's.
    result = invoke("train", "--name", "clf", "--labels", "pulse,sine", "--background",
                    "ambient", *NETWORK, "--init-from", "rec", "--freeze-layers", "1",
                    "-p", project)  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = project / "artifacts" / "models"
    record = json.loads((folder / "clf" / "model.json").read_text())
    assert record["training"]["init_from"]["name"] == "rec"
    assert record["training"]["init_from"]["encoder"] is True
    encoder = torch.load(folder / "rec" / "encoder.pt", weights_only=True)
    trained = torch.load(folder / "clf" / "weights.pt", weights_only=True)
    first = [k for k in encoder if k.startswith("blocks.0.") and k.endswith("weight")]
    assert first
    for key in first:
        torch.testing.assert_close(trained[key], encoder[key])
    later = [k for k in encoder if k.startswith("blocks.1.") and k.endswith("weight")]
    assert any(not torch.equal(trained[k], encoder[k]) for k in later)  # these trained on


def test_an_encoder_with_other_settings_is_refused(project):
    invoke("train", "--name", "rec", "--labels", "sine", "--loss", "autoencoder", *NETWORK,
           "-p", project)  # fmt: skip
    with pytest.raises(ParameterError, match="conv_layers=3"):
        invoke("train", "--name", "clf", "--labels", "pulse,sine", "--background", "ambient",
               *NETWORK, "--set", "conv_layers=3", "--init-from", "rec", "-p", project)  # fmt: skip
