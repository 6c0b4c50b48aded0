"""Exported models give the same probabilities as torch, on inputs of any batch and length."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sonotype.errors import ParameterError  # noqa: E402
from sonotype.models.config import network_config  # noqa: E402
from sonotype.models.export import FORMATS, export_model  # noqa: E402
from sonotype.models.network import Probabilities, build_network  # noqa: E402
from sonotype.models.saved import SavedModel  # noqa: E402
from tests.models.conftest import STRIDED, TINY  # noqa: E402

SR = 2500
LABELS = ["a", "b", "c"]
CONFIGS = {
    "spectrogram": {},
    "strided-group-residual-dense": STRIDED,
    "mel-cepstrum": dict(representation="mel-cepstrum"),
    "waveform-overlapped": dict(representation="waveform", n_filters=8, loss="overlapped"),
}


def saved_model(folder, rng, **settings):
    """A model directory holding an untrained tiny network with fitted standardisation."""
    config = network_config(**{**TINY, **settings})
    torch.manual_seed(0)
    network = build_network(config, sr=SR, n_labels=len(LABELS))
    audio = rng.standard_normal((4, 1, network.receptive_field + 32 * network.output_step))
    network.frontend.fit_standardization(torch.from_numpy(audio.astype(np.float32)))
    for module in network.modules():  # batch norm statistics that are not the identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(network.state_dict(), folder / "weights.pt")
    model = SavedModel(
        folder=folder,
        config=config,
        sr=float(SR),
        labels=LABELS,
        point_labels=["c"],
        receptive_field=network.receptive_field,
        output_step=network.output_step,
    )
    model.save()
    return model


def long_input(model, rng, *, batch=3, frames=50):
    """Longer than the export example (2 x one receptive field + 8 steps), another batch."""
    samples = model.receptive_field + frames * model.output_step + 3
    audio = 0.1 * rng.standard_normal((batch, 1, samples)).astype(np.float32)
    audio[0, 0] += np.sin(2 * np.pi * 400 * np.arange(samples) / SR).astype(np.float32)
    return audio


def torch_probabilities(model, audio):
    with torch.no_grad():
        return Probabilities(model.network())(torch.from_numpy(audio)).numpy()


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_onnx_matches_torch(config, rng, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    model = saved_model(tmp_path / "model", rng, **CONFIGS[config])
    path = export_model(model, tmp_path / "exported", format="onnx")
    assert path == tmp_path / "exported.onnx" and path.is_file()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["audio"]
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    for batch, frames in [(3, 50), (1, 0), (5, 13)]:
        audio = long_input(model, rng, batch=batch, frames=frames)
        (got,) = session.run(None, {"audio": audio})
        expected = torch_probabilities(model, audio)
        assert got.shape == expected.shape == (batch, len(LABELS), frames + 1)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert got.std(axis=-1).max() > 1e-4  # the probabilities are not constant


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_torchscript_matches_torch(config, rng, tmp_path):
    model = saved_model(tmp_path / "model", rng, **CONFIGS[config])
    path = export_model(model, tmp_path / "exported.pt", format="torchscript")
    assert path == tmp_path / "exported.pt"
    loaded = torch.jit.load(str(path))
    for batch, frames in [(3, 50), (1, 0)]:
        audio = long_input(model, rng, batch=batch, frames=frames)
        with torch.no_grad():
            got = loaded(torch.from_numpy(audio)).numpy()
        expected = torch_probabilities(model, audio)
        assert got.shape == expected.shape == (batch, len(LABELS), frames + 1)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("format", sorted(FORMATS))
def test_description(format, rng, tmp_path):
    if format == "onnx":
        pytest.importorskip("onnx")
    model = saved_model(tmp_path / "model", rng)
    path = export_model(model, tmp_path / "exported", format=format)
    assert path.suffix == FORMATS[format]
    description = json.loads(path.with_suffix(path.suffix + ".json").read_text())
    assert description["format"] == format
    assert description["sr"] == SR
    assert description["labels"] == LABELS
    assert description["point_labels"] == ["c"]
    assert description["output_step"] == model.output_step
    assert description["receptive_field"] == model.receptive_field
    assert description["sonotype_version"] == model.sonotype_version


def test_unknown_format(rng, tmp_path):
    model = saved_model(tmp_path / "model", rng)
    with pytest.raises(ParameterError, match="format='tflite' must be one of torchscript, onnx"):
        export_model(model, tmp_path / "exported", format="tflite")
    assert not list(tmp_path.glob("exported*"))
