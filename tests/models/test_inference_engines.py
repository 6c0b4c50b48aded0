"""The inference engines: onnxruntime gives torch's probabilities to 1e-5, on every network."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sonotype.errors import ParameterError  # noqa: E402
from sonotype.models import inference  # noqa: E402
from sonotype.models.inference import (  # noqa: E402
    ENGINES,
    classify_recording,
    n_output_frames,
    probabilities_runner,
    resolve_engine,
)
from sonotype.models.windows import read_padded  # noqa: E402
from tests.models.conftest import STRIDED  # noqa: E402
from tests.models.test_inference import SR, song, tiny_network, write  # noqa: E402

needs_onnx = pytest.mark.skipif(
    not inference.onnxruntime_installed(), reason="onnxruntime is not installed"
)
CONFIGS = {
    "spectrogram": {},
    "strided-group-residual-dense": STRIDED,
    "mel-cepstrum": dict(representation="mel-cepstrum", n_mels=6, n_dct=4),
    "waveform-overlapped": dict(representation="waveform", n_filters=8, loss="overlapped"),
}


@pytest.fixture
def recording(rng, tmp_path):
    return write(tmp_path / "song.wav", song(rng, sr=SR, duration_s=1.3), SR)


def classify(network, recording, **kwargs):
    frames = n_output_frames(recording, sr=SR, output_step=network.output_step)
    out = np.full((frames, 3), np.nan, np.float32)
    return classify_recording(network, recording, out, sr=SR, **kwargs)


def test_engines():
    assert ENGINES == ("auto", "torch", "onnx")


@needs_onnx
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_onnx_engine_gives_torchs_probabilities(config, recording, rng):
    network = tiny_network(rng, **CONFIGS[config])
    with torch.no_grad():  # batch norm statistics that are not the identity
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    on_torch = classify(network, recording, engine="torch", block_frames=50)
    on_onnx = classify(network, recording, engine="onnx", block_frames=50)
    assert not np.isnan(on_onnx).any()
    assert on_torch.std(axis=0).min() > 1e-4  # the probabilities change over time
    np.testing.assert_allclose(on_onnx, on_torch, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(on_onnx.argmax(axis=1), on_torch.argmax(axis=1))


@pytest.mark.parametrize("engine", ["torch", pytest.param("onnx", marks=needs_onnx)])
def test_each_engine_gives_the_network_on_each_window(engine, recording, rng):
    """The result before any engine or allocation change: the plain network, one window
    per frame, with torch's default memory format."""
    network = tiny_network(rng, **STRIDED)
    out = classify(network, recording, engine=engine, block_frames=64)
    window, step = network.receptive_field, network.output_step
    frames = np.arange(len(out))
    audio = np.stack(
        [read_padded(recording, j * step - window // 2, j * step + window - window // 2, sr=SR)
         for j in frames]
    )  # fmt: skip
    plain = tiny_network(rng, **STRIDED)  # a fresh copy: same seed, same weights
    plain.frontend.load_state_dict(network.frontend.state_dict())
    with torch.no_grad():
        expected = plain.probabilities(torch.from_numpy(audio)[:, None])[:, :, 0].numpy()
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-5)


@needs_onnx
def test_onnx_session_follows_new_weights(recording, rng):
    network = tiny_network(rng)
    before = classify(network, recording, engine="onnx")
    with torch.no_grad():
        network.head[0].bias.add_(torch.tensor([3.0, 0.0, -3.0]))
    after = classify(network, recording, engine="onnx")
    np.testing.assert_allclose(after, classify(network, recording, engine="torch"), atol=1e-5)
    assert np.abs(after - before).max() > 0.1


def test_runner_maps_batches_of_audio_to_probabilities(rng):
    network = tiny_network(rng)
    audio = rng.standard_normal((2, 1, network.receptive_field + 9 * network.output_step))
    audio = audio.astype(np.float32)
    result = probabilities_runner(network, engine="torch")(audio)
    assert result.shape == (2, 3, 10)
    np.testing.assert_allclose(result.sum(axis=1), 1, atol=1e-5)


def test_auto_is_onnx_for_small_inputs_when_installed(rng, monkeypatch):
    network = tiny_network(rng)
    monkeypatch.setattr(inference, "onnxruntime_installed", lambda: True)
    for threads in (1, 2):  # whole recordings: torch, measured faster on 1 and 2 threads
        monkeypatch.setattr(torch, "get_num_threads", lambda threads=threads: threads)
        assert resolve_engine("auto", network) == "torch"
        assert resolve_engine("auto", network, small_inputs=True) == "onnx"
    assert resolve_engine("torch", network) == "torch"
    assert resolve_engine("onnx", network) == "onnx"
    monkeypatch.setattr(inference, "onnxruntime_installed", lambda: False)
    assert resolve_engine("auto", network, small_inputs=True) == "torch"
    with pytest.raises(ParameterError, match="pip install onnxruntime"):
        resolve_engine("onnx", network)


def test_unknown_engine_names_the_valid_ones(recording, rng):
    with pytest.raises(ParameterError, match="engine='tf' must be one of auto, torch, onnx"):
        classify(tiny_network(rng), recording, engine="tf")


def test_malloc_thresholds_are_raised_once(monkeypatch):
    calls = []

    class Libc:
        def mallopt(self, option, value):
            calls.append((option, value))
            return 1

    monkeypatch.setattr(inference, "_MALLOC_RAISED", False)
    monkeypatch.setattr(inference.ctypes, "CDLL", lambda name: Libc())
    monkeypatch.setattr(inference.sys, "platform", "linux")
    inference.raise_malloc_thresholds()
    inference.raise_malloc_thresholds()
    assert calls == [(-3, 32 << 20), (-1, 512 << 20)]


@pytest.mark.parametrize("factor", [2, 3])
@pytest.mark.parametrize("channels_last", [False, True])
def test_frequency_pool_equals_torchs_max_pool(factor, channels_last, rng):
    from sonotype.models.network import FrequencyMaxPool

    x = torch.from_numpy(rng.standard_normal((2, 4, 11, 9)).astype(np.float32))
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    pool = FrequencyMaxPool(factor).eval()
    with torch.no_grad():
        result = pool(x)
    expected = torch.nn.functional.max_pool2d(x, (factor, 1))
    assert torch.equal(result, expected)
    assert torch.equal(pool.train()(x), expected)  # training: torch's kernel
