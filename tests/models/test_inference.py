"""Classifying whole recordings: one pass equals one window at a time, blocks don't matter."""

import numpy as np
import pytest
import soundfile as sf

torch = pytest.importorskip("torch")

from sonotype.audio import Recording, resample  # noqa: E402
from sonotype.errors import ParameterError  # noqa: E402
from sonotype.models.config import network_config  # noqa: E402
from sonotype.models.inference import (  # noqa: E402
    MODES,
    adjust_prevalence,
    classify_recording,
    classify_to_file,
    n_output_frames,
)
from sonotype.models.network import build_network  # noqa: E402
from sonotype.models.windows import read_padded  # noqa: E402

SR = 2500
TINY = dict(conv_layers=2, feature_maps=4, time_kernel=3, context_ms=20)
CONFIGS = {
    "plain": {},
    "strided": dict(time_stride=[2, 1], time_dilation=1, normalization="group", residual=True),
}


def tiny_network(rng, *, sr=SR, n_labels=3, **settings):
    torch.manual_seed(0)
    network = build_network(network_config(**{**TINY, **settings}), sr=sr, n_labels=n_labels)
    audio = rng.standard_normal((4, 1, network.receptive_field + 32 * network.output_step))
    network.frontend.fit_standardization(torch.from_numpy(audio.astype(np.float32)))
    return network.eval()


def song(rng, *, sr, duration_s, channels=1):
    """Noise with tone bursts, so that the probabilities vary over time."""
    n = round(duration_s * sr)
    t = np.arange(n) / sr
    bursts = np.sin(2 * np.pi * 0.2 * sr * t) * (np.sin(2 * np.pi * 3 * t) > 0.3)
    data = 0.3 * bursts[:, None] + 0.05 * rng.standard_normal((n, channels))
    return data.astype(np.float32).squeeze()


def write(path, data, sr):
    sf.write(path, data, sr, subtype="FLOAT")
    return Recording(path)


def classify(network, recording, *, sr=SR, **kwargs):
    frames = n_output_frames(recording, sr=sr, output_step=network.output_step)
    out = np.full((frames, 3), np.nan, np.float32)
    return classify_recording(network, recording, out, sr=sr, **kwargs)


@pytest.fixture
def recording(rng, tmp_path):
    return write(tmp_path / "song.wav", song(rng, sr=SR, duration_s=1.3), SR)


def test_modes():
    assert MODES == ("convolutional", "windows")


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_convolutional_mode_equals_one_window_at_a_time(config, recording, rng):
    network = tiny_network(rng, **CONFIGS[config])
    fast = classify(network, recording, block_frames=100)
    slow = classify(network, recording, block_frames=100, mode="windows", window_batch=64)
    assert not np.isnan(fast).any()
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-5)
    assert fast.std(axis=0).min() > 1e-3  # the probabilities change over time


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_frame_j_is_centred_on_sample_j_times_output_step(config, recording, rng):
    network = tiny_network(rng, **CONFIGS[config])
    out = classify(network, recording)
    window, step = network.receptive_field, network.output_step
    for j in [0, 1, 5, len(out) // 2, len(out) - 1]:
        audio = read_padded(
            recording, j * step - window // 2, j * step - window // 2 + window, sr=SR
        )
        with torch.no_grad():
            expected = network.probabilities(torch.from_numpy(audio)[None, None])[0, :, 0]
        np.testing.assert_allclose(out[j], expected.numpy(), rtol=0, atol=1e-5, err_msg=str(j))


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_blocks_and_batches_do_not_change_the_result(config, recording, rng):
    network = tiny_network(rng, **CONFIGS[config])
    reference = classify(network, recording, block_frames=10000, batch_blocks=1)
    for block_frames, batch_blocks in [(7, 1), (7, 5), (64, 2), (64, 100), (10000, 4), (1, 3)]:
        out = classify(network, recording, block_frames=block_frames, batch_blocks=batch_blocks)
        np.testing.assert_allclose(
            out, reference, rtol=0, atol=1e-5, err_msg=f"{block_frames=} {batch_blocks=}"
        )


def test_frames_count(recording, rng):
    network = tiny_network(rng)
    step = network.output_step
    frames = n_output_frames(recording, sr=SR, output_step=step)
    assert frames == int(np.ceil(recording.frames / step))
    assert len(classify(network, recording)) == frames


@pytest.mark.parametrize(
    ("frames", "file_sr", "sr", "step", "expected"),
    [
        (1000, 1000, 1000, 10, 100),
        (1001, 1000, 1000, 10, 101),
        (1, 1000, 1000, 10, 1),
        (8000, 8000, 2500, 4, 625),  # 2500 samples at the model's rate
        (8001, 8000, 2500, 4, 626),
    ],
)
def test_n_output_frames(frames, file_sr, sr, step, expected, tmp_path):
    recording = write(tmp_path / "x.wav", np.zeros(frames, np.float32), file_sr)
    assert n_output_frames(recording, sr=sr, output_step=step) == expected


def test_progress_reaches_the_end(recording, rng):
    network = tiny_network(rng)
    done = []
    out = classify(network, recording, block_frames=50, batch_blocks=2, progress=done.append)
    assert done == sorted(done) and done[-1] == len(out)
    assert len(done) == int(np.ceil(len(out) / 100))


def test_channel(rng, tmp_path):
    network = tiny_network(rng)
    data = song(rng, sr=SR, duration_s=0.6, channels=2)
    stereo = write(tmp_path / "stereo.wav", data, SR)
    mono = write(tmp_path / "mono.wav", data[:, 1], SR)
    np.testing.assert_array_equal(classify(network, stereo, channel=1), classify(network, mono))
    assert not np.allclose(classify(network, stereo, channel=0), classify(network, mono))


def test_classify_to_file(recording, rng, tmp_path):
    network = tiny_network(rng)
    path = classify_to_file(
        network, recording, tmp_path / "p.npy", sr=SR, n_labels=3, block_frames=33
    )
    assert path == tmp_path / "p.npy"
    saved = np.load(path)
    frames = n_output_frames(recording, sr=SR, output_step=network.output_step)
    assert saved.shape == (frames, 3) and saved.dtype == np.float32
    np.testing.assert_allclose(saved, classify(network, recording), rtol=0, atol=1e-6)
    np.testing.assert_allclose(saved.sum(axis=1), 1, atol=1e-5)


def test_a_recording_at_another_rate(rng, tmp_path):
    network = tiny_network(rng)
    file_sr = 8000
    data = song(rng, sr=file_sr, duration_s=0.8) * 0.5
    recording = write(tmp_path / "fast.wav", data, file_sr)
    path = classify_to_file(
        network, recording, tmp_path / "p.npy", sr=SR, n_labels=3, block_frames=16
    )
    out = np.load(path)
    assert out.shape == (int(np.ceil(0.8 * SR / network.output_step)), 3)
    # the same as classifying the whole file resampled at once, though read in blocks
    resampled = write(tmp_path / "slow.wav", resample(data, file_sr, SR), SR)
    np.testing.assert_allclose(out, classify(network, resampled), rtol=0, atol=1e-4)


def test_errors(recording, rng):
    network = tiny_network(rng)
    with pytest.raises(ParameterError, match="mode='fast'"):
        classify(network, recording, mode="fast")
    for bad in (dict(block_frames=0), dict(batch_blocks=0)):
        with pytest.raises(ParameterError, match="at least 1"):
            classify(network, recording, **bad)


def test_adjust_prevalence_exclusive_renormalises():
    p = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    train = {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}
    # durations in seconds: only their ratios matter
    adjusted = adjust_prevalence(
        p, labels=["a", "b", "c"], train_prevalence=train, prevalence={"a": 10, "b": 20, "c": 10}
    )
    expected = p * [1, 2, 1]
    np.testing.assert_allclose(adjusted, expected / expected.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(adjusted[0], [0.5 / 1.3, 0.6 / 1.3, 0.2 / 1.3])


def test_adjust_prevalence_exclusive_with_some_labels_named():
    p = np.full((1, 3), 1 / 3)
    train = {"a": 0.5, "b": 0.25, "c": 0.25}
    # a and b share what training gave them together (0.75) in the ratio 1:3; c keeps 0.25
    adjusted = adjust_prevalence(
        p, labels=["a", "b", "c"], train_prevalence=train, prevalence={"a": 1, "b": 3}
    )
    weights = np.array([0.1875 / 0.5, 0.5625 / 0.25, 1.0])
    np.testing.assert_allclose(adjusted[0], weights / weights.sum())


def test_adjust_prevalence_unchanged_when_prevalence_equals_training():
    p = np.array([[0.7, 0.2, 0.1]], np.float32)
    train = {"a": 0.2, "b": 0.3, "c": 0.5}
    adjusted = adjust_prevalence(
        p, labels=["a", "b", "c"], train_prevalence=train, prevalence=train
    )
    assert adjusted.dtype == np.float32
    np.testing.assert_allclose(adjusted, p, rtol=1e-6)
    same = adjust_prevalence(p, labels=["a", "b", "c"], train_prevalence=train, prevalence={})
    np.testing.assert_allclose(same, p, rtol=1e-6)


def test_adjust_prevalence_exclusive_label_unseen_in_training_keeps_its_probability():
    p = np.array([[0.5, 0.5]])
    adjusted = adjust_prevalence(
        p, labels=["a", "b"], train_prevalence={"a": 1.0}, prevalence={"a": 1, "b": 1}
    )
    np.testing.assert_allclose(adjusted, [[0.5, 0.5]])


def test_adjust_prevalence_docstring_example():
    p = np.array([[0.5, 0.5]])
    adjusted = adjust_prevalence(
        p,
        labels=["song", "noise"],
        train_prevalence={"song": 0.5, "noise": 0.5},
        prevalence={"song": 0.1, "noise": 0.9},
    )
    np.testing.assert_allclose(adjusted, [[0.1, 0.9]])


def test_adjust_prevalence_overlapped_scales_odds():
    p = np.array([[0.5, 0.8, 0.3], [0.9, 0.5, 0.5]])
    adjusted = adjust_prevalence(
        p,
        labels=["a", "b", "c"],
        train_prevalence={"a": 0.5, "b": 0.2, "c": 0.1},
        prevalence={"a": 0.25, "b": 0.2},
        loss="overlapped",
    )
    # a: odds x 0.5; b: unchanged (same prevalence); c: not named, unchanged
    expected = np.array([[1 / 3, 0.8, 0.3], [9 * 0.5 / (1 + 9 * 0.5), 0.5, 0.5]])
    np.testing.assert_allclose(adjusted, expected, rtol=1e-6)
    assert not np.allclose(adjusted.sum(axis=1), 1)  # independent outputs, not renormalised


def test_adjust_prevalence_overlapped_keeps_certain_outputs_finite():
    adjusted = adjust_prevalence(
        np.array([[0.0, 1.0]]),
        labels=["a", "b"],
        train_prevalence={"a": 0.5, "b": 0.5},
        prevalence={"a": 0.9, "b": 0.1},
        loss="overlapped",
    )
    assert np.isfinite(adjusted).all()
    np.testing.assert_allclose(adjusted, [[0, 1]], atol=1e-5)


@pytest.mark.parametrize("loss", ["exclusive", "overlapped"])
def test_adjust_prevalence_unknown_label(loss):
    with pytest.raises(
        ParameterError, match="unknown label\\(s\\) zz; the model's labels are a, b"
    ):
        adjust_prevalence(
            np.full((1, 2), 0.5),
            labels=["a", "b"],
            train_prevalence={"a": 0.5, "b": 0.5},
            prevalence={"zz": 1.0},
            loss=loss,
        )


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
@pytest.mark.parametrize("loss", ["exclusive", "overlapped"])
def test_adjust_prevalence_needs_positive_values(value, loss):
    with pytest.raises(ParameterError, match="positive"):
        adjust_prevalence(
            np.full((1, 2), 0.5),
            labels=["a", "b"],
            train_prevalence={"a": 0.5, "b": 0.5},
            prevalence={"a": value},
            loss=loss,
        )


@pytest.mark.parametrize("batch_size", [1, 3, 256])
def test_predict_windows_is_the_network_on_each_window_at_any_batch_size(rng, batch_size):
    from sonotype.models.inference import predict_windows

    network = tiny_network(rng)
    windows = rng.standard_normal((7, 1, network.receptive_field)).astype(np.float32)
    with torch.no_grad():
        one_by_one = np.concatenate(
            [network.probabilities(torch.from_numpy(w[None]))[:, :, 0].numpy() for w in windows]
        )
        logits = network(torch.from_numpy(windows))[:, :, 0].numpy()
    got = predict_windows(network, windows, batch_size=batch_size)
    assert got.shape == (7, 3)
    np.testing.assert_allclose(got.numpy(), one_by_one, atol=1e-6)
    np.testing.assert_allclose(
        predict_windows(network, torch.from_numpy(windows), output="logits").numpy(),
        logits,
        atol=1e-5,
    )
    empty = predict_windows(network, windows[:0], batch_size=batch_size)
    assert empty.shape == (0, 3)


def test_predict_windows_names_its_bad_options(rng):
    from sonotype.models.inference import predict_windows

    network = tiny_network(rng)
    windows = np.zeros((2, 1, network.receptive_field), np.float32)
    with pytest.raises(ParameterError, match="output='scores'"):
        predict_windows(network, windows, output="scores")
    with pytest.raises(ParameterError, match="batch_size=0"):
        predict_windows(network, windows, batch_size=0)
