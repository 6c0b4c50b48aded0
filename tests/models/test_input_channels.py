"""Networks that read several channels together: each channel through the front end and
standardised apart, whole recordings classified with every channel, exported with them."""

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from sonotype.audio import Recording  # noqa: E402
from sonotype.errors import ParameterError  # noqa: E402
from sonotype.models.config import network_config  # noqa: E402
from sonotype.models.network import build_network  # noqa: E402
from sonotype.models.windows import ExampleAudio, read_padded  # noqa: E402
from tests.models.test_inference import SR, TINY, classify, song, write  # noqa: E402


def two_channel_network(rng, **settings):
    torch.manual_seed(0)
    config = network_config(**{**TINY, **settings}, input_channels=2)
    network = build_network(config, sr=SR, n_labels=3)
    audio = rng.standard_normal((4, 2, network.receptive_field + 32 * network.output_step))
    audio[:, 1] *= 10  # another level on channel 1: its own standardisation
    network.frontend.fit_standardization(torch.from_numpy(audio.astype(np.float32)))
    return network.eval()


def test_each_channel_is_standardised_apart(rng):
    network = two_channel_network(rng)
    mean = network.frontend.mean.view(2, -1)
    assert network.blocks[0].conv.in_channels == 2
    # log power of a 10x louder channel: about log(100) higher in every bin
    difference = (mean[1] - mean[0]).numpy()
    np.testing.assert_allclose(difference, np.log(100), atol=1.0)
    assert abs(difference.mean() - np.log(100)) < 0.3


@pytest.mark.parametrize("settings", [{}, dict(representation="waveform", n_filters=4)])
def test_whole_recordings_use_every_channel(settings, rng, tmp_path):
    network = two_channel_network(rng, **settings)
    data = song(rng, sr=SR, duration_s=1.0, channels=2)
    stereo = write(tmp_path / "stereo.wav", data, SR)
    fast = classify(network, stereo, block_frames=50)
    slow = classify(network, stereo, block_frames=50, mode="windows", window_batch=32)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-5)
    window, step = network.receptive_field, network.output_step
    for j in (0, 7, len(fast) - 1):
        audio = read_padded(stereo, j * step - window // 2, j * step - window // 2 + window,
                            sr=SR, channel=None)  # fmt: skip
        assert audio.shape == (2, window)
        with torch.no_grad():
            expected = network.probabilities(torch.from_numpy(audio)[None])[0, :, 0]
        np.testing.assert_allclose(fast[j], expected.numpy(), atol=1e-5)
    swapped = write(tmp_path / "swapped.wav", data[:, ::-1].copy(), SR)
    assert not np.allclose(classify(network, swapped), fast)  # channel order matters
    mono = write(tmp_path / "mono.wav", data[:, 0].copy(), SR)
    with pytest.raises(ParameterError, match="has 1 channel"):
        classify(network, mono)


def test_example_audio_reads_the_channels_together(rng, tmp_path):
    data = song(rng, sr=SR, duration_s=1.0, channels=2)
    write(tmp_path / "stereo.wav", data, SR)
    examples = pd.DataFrame({"recording": ["stereo.wav"], "channel": [0], "start_s": [0.4],
                             "stop_s": [0.5]})  # fmt: skip
    audio = ExampleAudio(examples, lambda n: Recording(tmp_path / n), sr=SR, window=11,
                         channels=2)  # fmt: skip
    windows = audio.windows(np.array([0, 0]), np.array([0.45, 0.4]))
    assert windows.shape == (2, 2, 11)
    centre = round(0.45 * SR)
    np.testing.assert_allclose(windows[0], data[centre - 5 : centre + 6].T, atol=1e-7)
    write(tmp_path / "mono.wav", data[:, 0].copy(), SR)
    with pytest.raises(ParameterError, match=r"mono\.wav has 1 channel"):
        ExampleAudio(examples.assign(recording="mono.wav"), lambda n: Recording(tmp_path / n),
                     sr=SR, window=11, channels=2)  # fmt: skip


def test_export_takes_every_channel(rng, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from sonotype.models.export import onnx_bytes

    network = two_channel_network(rng)
    session = ort.InferenceSession(onnx_bytes(network), providers=["CPUExecutionProvider"])
    audio = rng.standard_normal((3, 2, network.receptive_field + 20 * network.output_step))
    audio = audio.astype(np.float32)
    with torch.no_grad():
        expected = network.probabilities(torch.from_numpy(audio)).numpy()
    np.testing.assert_allclose(session.run(None, {"audio": audio})[0], expected, atol=1e-5)
