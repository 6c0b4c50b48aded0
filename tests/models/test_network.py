"""Networks: the fully convolutional property, front ends against numpy, normalisation."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scipy.fft import dct  # noqa: E402

from sonotype.errors import ParameterError  # noqa: E402
from sonotype.models.config import network_config  # noqa: E402
from sonotype.models.network import (  # noqa: E402
    ARCHITECTURES,
    FrameGroupNorm,
    Frontend,
    Probabilities,
    build_network,
)
from sonotype.spectral import mel_filterbank  # noqa: E402
from tests.models.conftest import STRIDED, TINY  # noqa: E402

VARIANTS = {
    "default": {},
    "strided": STRIDED,
}


def tiny_network(*, sr, n_labels=3, seed=0, **settings):
    torch.manual_seed(seed)
    return build_network(network_config(**{**TINY, **settings}), sr=sr, n_labels=n_labels)


def standardize_on_noise(network, rng, n=8):
    """Fit the front end on random audio so that features (and logits) are of order one."""
    audio = rng.standard_normal((n, 1, network.receptive_field + 16 * network.output_step))
    network.frontend.fit_standardization(torch.from_numpy(audio.astype(np.float32)))


def tone(frequency_hz, *, sr, n, amplitude=0.5):
    return (amplitude * np.sin(2 * np.pi * frequency_hz * np.arange(n) / sr)).astype(np.float32)


def numpy_power(x, *, window, hop):
    """|STFT|^2 with a periodic Hann window, no padding: ``(bins, frames)``."""
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(window) / window)
    frames = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), window)[::hop]
    return (np.abs(np.fft.rfft(frames * hann, axis=1)) ** 2).T


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("sr", [2500, 32000])
@pytest.mark.parametrize("representation", ["waveform", "spectrogram", "mel-cepstrum"])
def test_fully_convolutional(representation, sr, variant, rng):
    network = tiny_network(sr=sr, representation=representation, **VARIANTS[variant])
    standardize_on_noise(network, rng)
    network.eval()
    window, step, k = network.receptive_field, network.output_step, 6
    audio = torch.from_numpy(rng.standard_normal((2, 1, window + k * step)).astype(np.float32))
    with torch.no_grad():
        whole = network(audio)
        alone = torch.stack(
            [network(audio[..., j * step : j * step + window])[..., 0] for j in range(k + 1)],
            dim=-1,
        )
    assert whole.shape == (2, 3, k + 1)
    for j in range(k + 1):  # each window on its own gives exactly one frame
        assert network(audio[..., j * step : j * step + window]).shape == (2, 3, 1)
    torch.testing.assert_close(whole, alone, atol=1e-5, rtol=0)
    assert whole.std() > 1e-3  # not trivially constant


def test_strided_variant_uses_its_settings():
    network = tiny_network(sr=32000, **VARIANTS["strided"])
    assert network.output_step == network.frontend.hop * 2
    assert any(isinstance(m, FrameGroupNorm) for m in network.modules())
    assert [block.residual for block in network.blocks] == [False, True]  # 1 -> 8 maps first
    assert network.head[-1].out_channels == 3 and network.head[0].out_channels == 8


@pytest.mark.parametrize("sr", [2500, 32000])
def test_output_frames_for_any_input_length(sr, rng):
    network = tiny_network(sr=sr, time_stride=[2, 1], time_dilation=1).eval()
    window, step = network.receptive_field, network.output_step
    for n in [window, window + 1, window + step - 1, window + step, window + 7 * step + 3]:
        audio = torch.from_numpy(rng.standard_normal((1, 1, n)).astype(np.float32))
        with torch.no_grad():
            assert network(audio).shape[-1] == (n - window) // step + 1


def test_geometry():
    network = tiny_network(sr=32000)
    hop, fft = network.frontend.hop, network.frontend.window
    assert (fft, hop) == (round(6.4 * 32), round(1.6 * 32))
    assert network.output_step == hop
    # context frames 10 (20 ms), minus 2 (kernel 3) and 4 (kernel 3, dilation 2): head spans 4
    frames = network.head[0].kernel_size[1]
    assert network.receptive_field == fft + (frames + 2 + 4 - 1) * hop
    assert network.receptive_field <= 20 * 32 + hop


@pytest.mark.parametrize(
    ("sr", "frequency_hz", "band"),
    [(32000, 3000.0, {}), (2500, 400.0, {}), (32000, 3000.0, dict(low_hz=1000, high_hz=6000))],
)
def test_spectrogram_front_end_is_hann_stft_log_power(sr, frequency_hz, band, rng):
    config = network_config(representation="spectrogram", **band)
    frontend = Frontend(config, sr)
    window, hop = frontend.window, frontend.hop
    assert (window, hop) == (round(6.4e-3 * sr), round(1.6e-3 * sr))
    x = tone(frequency_hz, sr=sr, n=window + 20 * hop)
    x += 0.01 * rng.standard_normal(x.size).astype(np.float32)  # keep every bin above the floor
    with torch.no_grad():
        raw = frontend.raw(torch.from_numpy(x)[None, None])[0].numpy()
    freqs = np.arange(window // 2 + 1) * sr / window
    keep = (freqs >= band.get("low_hz", 0)) & (freqs <= band.get("high_hz", sr / 2))
    expected = numpy_power(x, window=window, hop=hop)[keep]
    assert raw.shape == expected.shape == (frontend.bins, 21)
    np.testing.assert_allclose(np.exp(raw), expected, rtol=0, atol=1e-5 * expected.max())
    np.testing.assert_allclose(raw, np.log(expected + 1e-10), atol=2e-3)
    peak = np.argmax(expected.mean(axis=1))
    assert freqs[keep][peak] == pytest.approx(frequency_hz, abs=sr / window)
    assert np.all(np.argmax(raw, axis=0) == peak)


def test_mel_cepstrum_front_end_against_numpy(rng):
    sr = 32000
    config = network_config(representation="mel-cepstrum", n_mels=20, n_dct=8, low_hz=500)
    frontend = Frontend(config, sr)
    x = tone(2000, sr=sr, n=frontend.window + 10 * frontend.hop)
    x += 0.01 * rng.standard_normal(x.size).astype(np.float32)
    with torch.no_grad():
        raw = frontend.raw(torch.from_numpy(x)[None, None])[0].numpy()
    power = numpy_power(x, window=frontend.window, hop=frontend.hop)
    mel = mel_filterbank(sr=sr, n_fft=frontend.window, n_mels=20, fmin_hz=500, fmax_hz=sr / 2)
    expected = dct(np.log(mel @ power + 1e-10), type=2, norm="ortho", axis=0)[:8]
    assert raw.shape == (8, 11) and frontend.bins == 8
    np.testing.assert_allclose(raw, expected, atol=2e-3 * np.abs(expected).max())


@pytest.mark.parametrize("representation", ["waveform", "spectrogram", "mel-cepstrum"])
def test_fit_standardization(representation, rng):
    sr = 32000
    frontend = Frontend(network_config(representation=representation, n_mels=20, n_dct=8), sr)
    n = frontend.window + 30 * frontend.hop
    t = np.arange(n) / sr
    audio = np.stack(
        [
            3 * np.sin(2 * np.pi * rng.uniform(500, 8000) * t) + rng.standard_normal(n)
            for _ in range(16)
        ]
    ).astype(np.float32)[:, None, :]
    audio = torch.from_numpy(audio)
    frontend.fit_standardization(audio)
    with torch.no_grad():
        features = frontend(audio)
    assert features.shape == (16, 1, frontend.bins, 31)
    per_bin = features[:, 0].transpose(0, 1).reshape(frontend.bins, -1)
    torch.testing.assert_close(per_bin.mean(dim=1), torch.zeros(frontend.bins), atol=1e-4, rtol=0)
    torch.testing.assert_close(per_bin.std(dim=1), torch.ones(frontend.bins), atol=1e-3, rtol=0)
    state = frontend.state_dict()  # the statistics travel with the weights
    torch.testing.assert_close(state["mean"], frontend.mean)
    assert not torch.all(state["std"] == 1)


def test_standardization_statistics_are_saved_with_the_network(rng):
    network = tiny_network(sr=2500)
    standardize_on_noise(network, rng)
    copy = tiny_network(sr=2500, seed=1)
    copy.load_state_dict(network.state_dict())
    torch.testing.assert_close(copy.frontend.mean, network.frontend.mean)
    torch.testing.assert_close(copy.frontend.std, network.frontend.std)


@pytest.mark.parametrize("sr", [2500, 32000])
def test_too_short_context_names_context_ms(sr):
    with pytest.raises(ParameterError, match="context_ms"):
        build_network(network_config(context_ms=8), sr=sr, n_labels=2)


@pytest.mark.parametrize(
    "band", [dict(low_hz=1200, high_hz=1240), dict(low_hz=2000), dict(low_hz=1260, high_hz=5000)]
)
def test_empty_frequency_range_raises(band):
    # 16-sample windows at 2.5 kHz: bins every 156.25 Hz up to 1250 Hz
    with pytest.raises(ParameterError, match="low_hz"):
        build_network(network_config(**band), sr=2500, n_labels=2)


def test_n_dct_above_n_mels_raises():
    with pytest.raises(ParameterError, match="n_dct"):
        Frontend(network_config(representation="mel-cepstrum", n_mels=8, n_dct=10), 32000)


def test_unknown_architecture_lists_the_valid_ones():
    assert "convnet" in ARCHITECTURES
    with pytest.raises(ParameterError, match="convnet"):
        build_network(network_config(architecture="transformer"), sr=2500, n_labels=2)


def test_needs_a_label():
    with pytest.raises(ParameterError, match="label"):
        build_network(network_config(**TINY), sr=2500, n_labels=0)


@pytest.mark.parametrize("n_frames", [1, 5, 17])
def test_frame_group_norm_is_per_frame(n_frames, rng):
    torch.manual_seed(0)
    norm = FrameGroupNorm(4, 8)
    with torch.no_grad():
        norm.weight.copy_(torch.randn(8))
        norm.bias.copy_(torch.randn(8))
    x = torch.from_numpy(rng.standard_normal((2, 8, 5, 20)).astype(np.float32) * 3 + 1)
    with torch.no_grad():
        whole = norm(x)
        part = norm(x[..., 4 : 4 + n_frames])
        # reference: torch's group norm, one time frame at a time
        frames = [
            torch.nn.functional.group_norm(x[..., t], 4, norm.weight, norm.bias, eps=1e-5)
            for t in range(20)
        ]
    torch.testing.assert_close(part, whole[..., 4 : 4 + n_frames], atol=1e-5, rtol=0)
    torch.testing.assert_close(whole, torch.stack(frames, dim=-1), atol=1e-5, rtol=0)


def test_frame_group_norm_normalises_each_group_and_frame(rng):
    norm = FrameGroupNorm(2, 4)
    x = torch.from_numpy(rng.standard_normal((3, 4, 6, 7)).astype(np.float32) * 5 - 2)
    with torch.no_grad():
        grouped = norm(x).reshape(3, 2, 2, 6, 7)
    torch.testing.assert_close(grouped.mean(dim=(2, 3)), torch.zeros(3, 2, 7), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        grouped.var(dim=(2, 3), unbiased=False), torch.ones(3, 2, 7), atol=1e-3, rtol=0
    )


@pytest.mark.parametrize("loss", ["exclusive", "overlapped"])
def test_probabilities(loss, rng):
    network = tiny_network(sr=2500, loss=loss)
    standardize_on_noise(network, rng)
    network.eval()
    audio = torch.from_numpy(
        rng.standard_normal((2, 1, network.receptive_field + 4 * network.output_step)).astype(
            np.float32
        )
    )
    with torch.no_grad():
        logits = network(audio)
        p = Probabilities(network)(audio)
    assert p.shape == logits.shape == (2, 3, 5)
    assert torch.all((p >= 0) & (p <= 1))
    if loss == "exclusive":
        torch.testing.assert_close(p, torch.softmax(logits, dim=1))
        torch.testing.assert_close(p.sum(dim=1), torch.ones(2, 5))
    else:
        torch.testing.assert_close(p, torch.sigmoid(logits))
