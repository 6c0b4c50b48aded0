"""train's optimizer, fine-tuning and resume options and the ensemble command, from the
command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sonotype.annotations import concat_events
from sonotype.audio import write_audio
from sonotype.cli.main import app, cli_message
from sonotype.errors import ParameterError
from sonotype.store import Project
from sonotype.synth import flysong

torch = pytest.importorskip("torch")

runner = CliRunner()
QUICK = ("--labels", "pulse,sine", "--background", "ambient", "--steps", "4",
         "--batch-size", "4", "--validate-every", "2", "--set", "conv_layers=2",
         "--set", "feature_maps=4", "--context-ms", "40")  # fmt: skip


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flies")
    tables = []
    for i in range(2):
        y, events = flysong(4, recording=f"fly{i}.wav", random_state=i)
        write_audio(folder / "audio" / f"fly{i}.wav", y, 2500)
        tables.append(events)
    with Project.init(folder, audio_roots=[folder / "audio"]) as p:
        p.scan()
        p.add_events(concat_events(tables), command="test", description="truth")
    return folder


@pytest.mark.slow
def test_optimizers_fine_tuning_and_ensembles(project, tmp_path):
    result = invoke("train", "--name", "a", *QUICK, "--optimizer", "adamw",
                    "--schedule", "cosine", "-p", project)  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads((project / "artifacts/models/a/model.json").read_text())
    assert record["training"]["optimizer"] == "adamw"
    assert record["training"]["schedule"] == "cosine"
    assert record["training"]["weight_decay"] == 0.01
    result = invoke("train", "--name", "b", *QUICK, "--init-from", "a", "--freeze-layers", "1",
                    "--add-layers", "8", "-p", project)  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads((project / "artifacts/models/b/model.json").read_text())
    assert record["training"]["init_from"]["name"] == "a"
    assert record["config"]["dense_layers"] == [8]
    result = invoke("ensemble", "a", "b", "--name", "e", "-p", project)
    assert result.exit_code == 0, result.output
    assert "ensemble 'e' of a, b" in result.output
    result = invoke("classify", "e", "fly1.wav", "-p", project)
    assert result.exit_code == 0, result.output
    assert "classified 1 recordings, 1 channels" in result.output
    result = invoke("export-model", "e", "-o", tmp_path / "e.onnx", "-p", project)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "e.onnx").is_file()


def test_clear_errors(project):
    with pytest.raises(ParameterError, match="give --init-from NAME"):
        invoke("train", "--name", "x", *QUICK, "--freeze-layers", "1", "-p", project)
    with pytest.raises(ParameterError, match="optimizer='rmsprop'") as error:
        invoke("train", "--name", "x", *QUICK, "--optimizer", "rmsprop", "-p", project)
    assert cli_message(error.value, ["train", "--optimizer", "rmsprop"]).startswith("--optimizer")
    with pytest.raises(ParameterError, match="no stopped training of 'x'"):
        invoke("train", "--name", "x", *QUICK, "--resume", "-p", project)
    with pytest.raises(ParameterError, match="at least two"):
        invoke("ensemble", "fly", "--name", "e", "-p", project)
    with pytest.raises(ParameterError, match="--channels 'left'"):
        invoke("classify", "fly", "--channels", "left", "-p", project)
