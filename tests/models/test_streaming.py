"""Streaming classification: chunk by chunk equals the whole input at once, from the API and
from ``sonotype classify --stream`` fed raw PCM on stdin."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sonotype.errors import ParameterError  # noqa: E402
from sonotype.models import inference  # noqa: E402
from sonotype.models.config import network_config  # noqa: E402
from sonotype.models.inference import classify_recording, n_output_frames  # noqa: E402
from sonotype.models.streaming import StreamClassifier  # noqa: E402
from tests.models.conftest import STRIDED  # noqa: E402
from tests.models.test_inference import SR, TINY, song, tiny_network, write  # noqa: E402

ENGINES = [
    "torch",
    pytest.param(
        "onnx",
        marks=pytest.mark.skipif(
            not inference.onnxruntime_installed(), reason="onnxruntime is not installed"
        ),
    ),
]


def offline(network, audio, tmp_path, *, engine="torch"):
    recording = write(tmp_path / "whole.wav", audio, SR)
    frames = n_output_frames(recording, sr=SR, output_step=network.output_step)
    out = np.full((frames, 3), np.nan, np.float32)
    return classify_recording(network, recording, out, sr=SR, engine=engine)


def streamed(classifier, audio, sizes):
    parts, i = [], 0
    for size in sizes:
        parts.append(classifier.push(audio[i : i + size]))
        i += size
    assert i >= len(audio)
    parts.append(classifier.finish())
    return np.concatenate(parts)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_chunks_give_the_offline_probabilities(engine, chunk, rng, tmp_path):
    network = tiny_network(rng, **STRIDED)
    audio = song(rng, sr=SR, duration_s=1.3)
    expected = offline(network, audio, tmp_path)
    classifier = StreamClassifier(network, engine=engine, max_frames=50)
    result = streamed(classifier, audio, [chunk] * -(-len(audio) // chunk))
    assert result.shape == expected.shape
    assert classifier.frames_done == len(expected)
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-5)


def test_chunks_of_random_sizes_and_each_frame_as_soon_as_complete(rng, tmp_path):
    network = tiny_network(rng)
    audio = song(rng, sr=SR, duration_s=0.7)
    expected = offline(network, audio, tmp_path)
    classifier = StreamClassifier(network, engine="torch")
    window, step = network.receptive_field, network.output_step
    parts, i = [], 0
    while i < len(audio):
        size = int(rng.integers(0, 90))
        parts.append(classifier.push(audio[i : i + size]))
        i = min(i + size, len(audio))
        # frame j is out once samples up to j * step + window - window // 2 have arrived
        complete = (i + window // 2 - window) // step + 1 if i + window // 2 >= window else 0
        assert classifier.frames_done == max(complete, 0)
    parts.append(classifier.finish())
    np.testing.assert_allclose(np.concatenate(parts), expected, rtol=0, atol=1e-5)


def test_reset_starts_again_and_finish_ends(rng):
    network = tiny_network(rng)
    classifier = StreamClassifier(network, engine="torch")
    audio = song(rng, sr=SR, duration_s=0.3)
    first = streamed(classifier, audio, [len(audio)])
    with pytest.raises(ParameterError, match="reset"):
        classifier.push(audio)
    classifier.reset()
    np.testing.assert_array_equal(streamed(classifier, audio, [len(audio)]), first)
    classifier.reset()
    assert classifier.finish().shape == (1, 3)  # an empty stream has one frame, as offline


def test_bad_chunks_and_settings(rng):
    network = tiny_network(rng)
    with pytest.raises(ParameterError, match="1-D"):
        StreamClassifier(network, engine="torch").push(np.zeros((2, 10)))
    with pytest.raises(ParameterError, match="max_frames=0"):
        StreamClassifier(network, max_frames=0)
    with pytest.raises(ParameterError, match="engine='x'"):
        StreamClassifier(network, engine="x")


@pytest.fixture
def project(rng, tmp_path):
    """A project holding an untrained tiny model ``m`` (weights from a fixed seed)."""
    from sonotype.models.saved import SavedModel
    from sonotype.store import Project

    network = tiny_network(rng)
    with Project.init(tmp_path / "p") as p:
        folder = p.folder / "artifacts" / "models" / "m"
    folder.mkdir(parents=True)
    torch.save(network.state_dict(), folder / "weights.pt")
    SavedModel(
        folder=folder,
        config=network_config(**TINY),
        sr=float(SR),
        labels=["a", "b", "c"],
        point_labels=[],
        receptive_field=network.receptive_field,
        output_step=network.output_step,
    ).save()
    return tmp_path / "p", network


def run_stream(project, data: bytes, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "sonotype", "classify", "m", "--stream", "-p", str(project), *args],
        input=data,
        capture_output=True,
        env=env,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("pcm_format", ["f32", "s16"])
def test_cli_stream_writes_one_line_per_frame(pcm_format, project, rng, tmp_path):
    folder, network = project
    audio = song(rng, sr=SR, duration_s=0.8)
    if pcm_format == "s16":
        pcm = np.round(audio * 32767).astype(np.int16)
        audio = pcm.astype(np.float32) / 32768
    else:
        pcm = audio.astype(np.float32)
    result = run_stream(folder, pcm.tobytes(), "--format", pcm_format, "--chunk-ms", "25.6")
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "time_s,a,b,c"
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    expected = offline(network, audio, tmp_path)
    assert table.shape == (len(expected), 4)
    np.testing.assert_allclose(table[:, 0], np.arange(len(expected)) * network.output_step / SR)
    np.testing.assert_allclose(table[:, 1:], expected, rtol=0, atol=2e-5)


@pytest.mark.slow
def test_cli_stream_explains_a_bad_rate(project):
    folder, _ = project
    result = run_stream(folder, b"", "--sr", "44100")
    assert result.returncode != 0
    assert "--sr 44100 differs from the model's rate, 2500 Hz" in result.stderr.decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stream", "--format", "u8"], "--format 'u8' must be f32 or s16"),
        (["fly0.wav", "--stream"], "give no recordings"),
        (["--engine", "tf"], "--engine 'tf' must be auto, torch or onnx"),
        (["--stream", "--chunk-ms", "0.1"], "less than one sample at 2500 Hz"),
    ],
)
def test_cli_names_its_bad_options(args, message, project):
    from typer.testing import CliRunner

    from sonotype.cli.main import app

    folder, _ = project
    with pytest.raises(ParameterError, match=message):
        CliRunner().invoke(
            app, ["classify", "m", *args, "-p", str(folder)], catch_exceptions=False, input=b""
        )
