"""The supervised loop from the command line, on synthetic fly song with exact annotations:
train, accuracy, classify, ethogram, misses, export-model, and the exported ONNX model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.annotations import concat_events, write_events
from sonotype.audio import Recording, write_audio
from sonotype.cli.main import app
from sonotype.errors import ParameterError
from sonotype.evaluate import ALL_LABELS, event_scores
from sonotype.store import Project
from sonotype.synth import flysong

torch = pytest.importorskip("torch")

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


TRAIN = (
    "train", "--name", "m", "--labels", "pulse,sine", "--background", "ambient",
    "--recordings", "fly0.wav", "--validate-percent", "25", "--steps", "120",
    "--validate-every", "40", "--set", "feature_maps=8", "--set", "volume_db=6",
)  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project of two 20 s fly recordings with their true pulses and sine song, and a
    model trained on the first (pulses, sine, the rest as ambient)."""
    folder = tmp_path_factory.mktemp("flies")
    tables = []
    for i in range(2):
        name = f"fly{i}.wav"
        y, events = flysong(20, recording=name, random_state=i)
        write_audio(folder / "audio" / name, y, 2500)
        tables.append(events)
    write_events(concat_events(tables), folder / "truth.csv")
    with Project.init(folder, audio_roots=[folder / "audio"]) as p:
        p.scan()
        p.import_files([folder / "truth.csv"], source="truth")
    result = invoke(*TRAIN, "-p", folder)
    assert result.exit_code == 0, result.output
    assert "best checkpoint" in result.output
    return folder


def test_train_writes_a_complete_model_directory(project):
    model = project / "artifacts" / "models" / "m"
    description = json.loads((model / "model.json").read_text())
    assert description["labels"] == ["pulse", "sine", "ambient"]
    assert description["point_labels"] == ["pulse"]
    assert description["config"]["feature_maps"] == 8
    assert description["training"]["recordings"] == ["fly0.wav"]
    assert sorted(p.name for p in (model / "checkpoints").iterdir()) == [
        "step-000040.pt",
        "step-000080.pt",
        "step-000120.pt",
    ]
    for name in ("weights.pt", "learning_curve.csv", "validation.csv"):
        assert (model / name).is_file()


def test_train_refuses_to_replace_without_force(project):
    with pytest.raises(ParameterError, match="--force"):
        invoke("train", "--name", "m", "--labels", "pulse", "-p", project)


def test_train_explains_unknown_labels_and_settings(project):
    with pytest.raises(ParameterError, match="no annotations with label"):
        invoke("train", "--name", "x", "--labels", "pulse,buzz", "-p", project)
    with pytest.raises(ParameterError, match="unknown network setting 'kernel'"):
        invoke("train", "--name", "x", "--labels", "pulse", "--set", "kernel=3", "-p", project)


def test_train_warns_when_it_cannot_hold_out_whole_recordings(project):
    result = invoke(
        "train", "--name", "w", "--labels", "pulse", "--ignore-labels", "sine", "--background",
        "ambient", "--recordings", "fly0.wav", "--steps", "2", "--batch-size", "4", "-p", project,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "only 1 recording(s) have examples" in " ".join(result.stderr.split())


def test_accuracy_classify_ethogram_find_the_second_flys_song(project):
    result = invoke("accuracy", "m", "--pr-ratios", "0.5,1,2", "-p", project)
    assert result.exit_code == 0, result.output
    report = project / "reports" / "models" / "m"
    for name in ("index.html", "thresholds.csv", "confusion.csv", "mistakes.csv"):
        assert (report / name).is_file()
    assert (project / "artifacts" / "models" / "m" / "thresholds.csv").is_file()
    assert (project / "artifacts" / "models" / "m" / "postprocess.json").is_file()
    assert "learned post-processing" in result.output
    assert "optimistic" in result.output  # chosen on recordings holding validation windows

    result = invoke("classify", "m", "fly1.wav", "-p", project)
    assert result.exit_code == 0, result.output
    result = invoke("ethogram", "m", "fly1.wav", "-p", project)
    assert result.exit_code == 0, result.output
    assert "postprocess.json" in result.output  # says where its settings came from
    with Project.open(project) as p:
        predicted = p.events(kinds=["predicted"], sources=["m"])
        truth = p.events(kinds=["annotated"], recordings=["fly1.wav"])
    pulses = predicted[predicted["label"] == "pulse"]
    assert (pulses["start_s"] == pulses["stop_s"]).all()  # pulses are point events
    scores = event_scores(truth[truth["label"] == "pulse"], pulses, tolerance_s=0.005).set_index(
        "label"
    )
    assert scores.loc[ALL_LABELS, "f1"] > 0.8
    sine = predicted[predicted["label"] == "sine"]
    assert (sine["stop_s"] > sine["start_s"]).all()

    # Re-running replaces this model's predictions in one undoable edit.
    invoke("ethogram", "m", "fly1.wav", "-p", project)
    with Project.open(project) as p:
        assert len(p.events(kinds=["predicted"], sources=["m"])) == len(predicted)


def test_misses_are_detections_no_prediction_covers(project):
    invoke("ethogram", "m", "fly1.wav", "-p", project)
    result = invoke("detect", "--method", "time-freq", "--workers", "1", "-p", project)
    assert result.exit_code == 0, result.output
    result = invoke("misses", "--predicted", "m", "-p", project)
    assert result.exit_code == 0, result.output
    with Project.open(project) as p:
        missed = p.events(kinds=["missed"], recordings=["fly1.wav"])
        detected = p.events(kinds=["detected"], recordings=["fly1.wav"])
        predicted = p.events(kinds=["predicted"], sources=["m"])
    assert 0 < len(missed) < len(detected)
    # Every miss is a detection that no prediction touches.
    for row in missed.itertuples():
        overlapping = predicted[
            (predicted["start_s"] <= row.stop_s) & (predicted["stop_s"] >= row.start_s)
        ]
        assert overlapping.empty


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_exported_onnx_gives_the_probabilities_of_torch(project, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    result = invoke("export-model", "m", "-o", tmp_path / "m.onnx", "-p", project)
    assert result.exit_code == 0, result.output
    description = json.loads((tmp_path / "m.onnx.json").read_text())
    audio = Recording(project / "audio" / "fly1.wav").read(0, 3)[None]  # (1, 1, samples)
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    (exported,) = session.run(None, {"audio": audio})
    from sonotype.models.saved import SavedModel

    model = SavedModel.load(project / "artifacts" / "models" / "m")
    with torch.no_grad():
        expected = model.network().probabilities(torch.from_numpy(audio)).numpy()
    assert exported.shape == expected.shape
    assert exported.shape[1] == len(description["labels"])
    np.testing.assert_allclose(exported, expected, atol=1e-5)

    result = invoke("export-model", "m", "--format", "torchscript", "-o", tmp_path / "m.pt",
                    "-p", project)  # fmt: skip
    assert result.exit_code == 0, result.output
    scripted = torch.jit.load(str(tmp_path / "m.pt"))
    with torch.no_grad():
        np.testing.assert_allclose(scripted(torch.from_numpy(audio)).numpy(), expected, atol=1e-5)


def test_train_help_does_not_import_torch():
    code = (
        "import sys; from typer.testing import CliRunner; from sonotype.cli.main import app; "
        "result = CliRunner().invoke(app, ['train', '--help']); "
        "assert result.exit_code == 0, result.output; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_train_and_ethogram_again_say_nothing_changed(project):
    result = invoke(*TRAIN, "-p", project)
    assert result.exit_code == 0, result.output
    assert "model 'm' is up to date" in result.output
    invoke("ethogram", "m", "fly1.wav", "-p", project)
    with Project.open(project) as p:
        edits = len(p.edit_log(limit=1000))
    result = invoke("ethogram", "m", "fly1.wav", "-p", project)
    assert result.exit_code == 0, result.output
    assert "already stored, unchanged" in result.output
    with Project.open(project) as p:
        assert len(p.edit_log(limit=1000)) == edits


def test_classify_reports_a_damaged_recording_and_exits_partial(tmp_path):
    tables = []
    for i in range(2):
        y, events = flysong(4, recording=f"fly{i}.wav", random_state=i)
        write_audio(tmp_path / "audio" / f"fly{i}.wav", y, 2500)
        tables.append(events)
    write_events(concat_events(tables), tmp_path / "truth.csv")
    with Project.init(tmp_path, audio_roots=[tmp_path / "audio"]) as p:
        p.scan()
        p.import_files([tmp_path / "truth.csv"])
    result = invoke("train", "--name", "q", "--labels", "pulse,sine", "--steps", "2",
                    "--batch-size", "4", "--set", "feature_maps=4", "--validate-percent", "0",
                    "-p", tmp_path)  # fmt: skip
    assert result.exit_code == 0, result.output
    (tmp_path / "audio" / "fly0.wav").write_bytes(b"not audio")
    result = runner.invoke(app, ["classify", "q", "--workers", "1", "-p", str(tmp_path)])
    assert result.exit_code == 3, result.output
    assert "classified 1 recordings" in result.output
    stderr = " ".join(result.stderr.split())
    assert "failed: fly0.wav" in stderr and "partial: 1 of 2" in stderr
