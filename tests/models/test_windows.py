"""Reading examples' audio: zero padding, resampling, and windows centred on their times."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sonotype.audio import Recording, resample
from sonotype.models.windows import ExampleAudio, read_padded


def write(path, data, sr):
    sf.write(path, data, sr, subtype="FLOAT")
    return Recording(path)


def ramp_recording(path, *, sr, n):
    """A float WAV whose sample ``i`` is ``i / 1e6``."""
    return write(path, (np.arange(n) / 1e6).astype(np.float32), sr)


def indices(samples):
    """Sample values of a ramp recording back to the sample indices they encode."""
    return np.rint(np.asarray(samples, np.float64) * 1e6)


def band_limited_noise(rng, *, n, sr, high_hz):
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[np.fft.rfftfreq(n, 1 / sr) > high_hz] = 0
    return np.fft.irfft(spectrum, n).astype(np.float32)


def examples_table(starts, stops, *, recording="ramp.wav", channel=0):
    return pd.DataFrame(
        {
            "recording": recording,
            "channel": channel,
            "start_s": np.asarray(starts, float),
            "stop_s": np.asarray(stops, float),
            "label": "a",
        }
    )


def test_read_padded_exact_inside(tmp_path):
    recording = ramp_recording(tmp_path / "ramp.wav", sr=1000, n=500)
    out = read_padded(recording, 100, 150, sr=1000)
    assert out.dtype == np.float32 and out.shape == (50,)
    np.testing.assert_array_equal(indices(out), np.arange(100, 150))


def test_read_padded_zeros_outside(tmp_path):
    recording = ramp_recording(tmp_path / "ramp.wav", sr=1000, n=500)
    before = read_padded(recording, -20, 10, sr=1000)
    np.testing.assert_array_equal(before[:20], 0)
    np.testing.assert_array_equal(indices(before[20:]), np.arange(10))
    after = read_padded(recording, 490, 530, sr=1000)
    np.testing.assert_array_equal(indices(after[:10]), np.arange(490, 500))
    np.testing.assert_array_equal(after[10:], 0)
    both = read_padded(recording, -3, 503, sr=1000)
    np.testing.assert_array_equal(indices(both), np.r_[np.zeros(3), np.arange(500), np.zeros(3)])
    np.testing.assert_array_equal(read_padded(recording, 600, 640, sr=1000), np.zeros(40))
    np.testing.assert_array_equal(read_padded(recording, -80, -40, sr=1000), np.zeros(40))


def test_read_padded_channel(tmp_path):
    data = np.stack([np.arange(100), -np.arange(100)], axis=1).astype(np.float32) / 1e6
    recording = write(tmp_path / "stereo.wav", data, 1000)
    np.testing.assert_array_equal(
        indices(read_padded(recording, 5, 8, sr=1000, channel=1)), [-5, -6, -7]
    )


@pytest.mark.parametrize(
    ("file_sr", "model_sr"), [(32000, 2500), (2500, 32000), (44100, 32000), (22050, 2500)]
)
def test_read_padded_resampled_matches_the_whole_file_resampled(file_sr, model_sr, rng, tmp_path):
    data = band_limited_noise(rng, n=file_sr, sr=file_sr, high_hz=0.4 * min(file_sr, model_sr))
    recording = write(tmp_path / "noise.wav", data, file_sr)
    whole = resample(data, file_sr, model_sr)
    scale = np.abs(whole).max()
    for start in (-150, 0, 37, 1001, len(whole) // 2 + 3, len(whole) - 300):
        out = read_padded(recording, start, start + 400, sr=model_sr)
        expected = np.zeros(400, np.float32)
        lo, hi = max(start, 0), min(start + 400, len(whole))
        expected[lo - start : hi - start] = whole[lo:hi]
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-3 * scale, err_msg=str(start))
    assert not read_padded(recording, len(whole) + 10, len(whole) + 50, sr=model_sr).any()


@pytest.mark.parametrize("window", [51, 64])
def test_windows_are_centred_on_their_times(window, tmp_path):
    sr = 8000
    recording = ramp_recording(tmp_path / "ramp.wav", sr=sr, n=2 * sr)
    examples = examples_table([0.2, 0.5, 1.0], [0.2, 0.9, 1.3])
    audio = ExampleAudio(examples, lambda name: recording, sr=sr, window=window)
    assert len(audio) == 3
    rows = np.array([0, 1, 1, 2, 2])
    times = np.array([0.2, 0.5, 0.73456, 1.0, 1.3])
    windows = audio.windows(rows, times)
    assert windows.shape == (5, window) and windows.dtype == np.float32
    centres = np.rint(times * sr)
    np.testing.assert_array_equal(indices(windows[:, window // 2]), centres)
    expected = centres[:, None] + np.arange(window) - window // 2
    np.testing.assert_array_equal(indices(windows), expected)


def test_windows_near_the_ends_are_zero_padded(tmp_path):
    sr, n, window = 1000, 1000, 101
    recording = ramp_recording(tmp_path / "ramp.wav", sr=sr, n=n)
    audio = ExampleAudio(
        examples_table([0.0, 0.999], [0.01, 0.999]), lambda _: recording, sr=sr, window=window
    )
    first, last = audio.windows(np.array([0, 1]), np.array([0.0, 0.999]))
    np.testing.assert_array_equal(first[:50], 0)
    np.testing.assert_array_equal(indices(first[50:]), np.arange(51))
    np.testing.assert_array_equal(indices(last[:51]), np.arange(949, 1000))
    np.testing.assert_array_equal(last[51:], 0)


def test_windows_of_several_recordings_and_channels(tmp_path):
    sr = 1000
    a = ramp_recording(tmp_path / "a.wav", sr=sr, n=1000)
    stereo = np.stack([np.arange(1000), 5000 + np.arange(1000)], axis=1).astype(np.float32) / 1e6
    b = write(tmp_path / "b.wav", stereo, sr)
    examples = pd.concat(
        [
            examples_table([0.3], [0.3], recording="b"),
            examples_table([0.6], [0.6], recording="a"),
            examples_table([0.4], [0.4], recording="b", channel=1),
        ],
        ignore_index=True,
    )
    opened, ticks = [], []
    audio = ExampleAudio(
        examples,
        lambda name: opened.append(name) or {"a": a, "b": b}[name],
        sr=sr,
        window=11,
        progress=lambda: ticks.append(1),
    )
    assert sorted(opened) == ["a", "b"]  # each recording opened once
    assert len(ticks) == 3
    windows = audio.windows(np.array([0, 1, 2]), np.array([0.3, 0.6, 0.4]))
    np.testing.assert_array_equal(indices(windows[:, 5]), [300, 600, 5400])


def test_windows_at_another_rate(tmp_path):
    """A ramp resampled stays a ramp in the middle: the centre sample is at the right time."""
    file_sr, sr = 16000, 4000
    recording = ramp_recording(tmp_path / "ramp.wav", sr=file_sr, n=file_sr)
    times = np.array([0.25, 0.5, 0.62525])
    audio = ExampleAudio(examples_table(times, times), lambda _: recording, sr=sr, window=41)
    windows = audio.windows(np.arange(3), times)
    centre_times = np.rint(times * sr) / sr
    np.testing.assert_allclose(windows[:, 20] * 1e6, centre_times * file_sr, atol=0.05)


def test_draw_times_inside_intervals(rng, tmp_path):
    recording = ramp_recording(tmp_path / "ramp.wav", sr=1000, n=3000)
    examples = examples_table([0.5, 1.0, 2.0], [0.5, 1.5, 2.2])
    audio = ExampleAudio(examples, lambda _: recording, sr=1000, window=31)
    rows = np.repeat(np.arange(3), 500)
    times = audio.draw_times(rows, rng)
    starts, stops = examples["start_s"].to_numpy()[rows], examples["stop_s"].to_numpy()[rows]
    assert np.all((times >= starts) & (times <= stops))
    assert np.all(times[rows == 0] == 0.5)  # a point is taught at its time
    assert np.ptp(times[rows == 1]) > 0.45  # intervals anywhere inside
    audio.windows(rows, times)  # every drawn window lies within the audio read


def test_draw_times_with_jitter(rng, tmp_path):
    jitter_s = 0.02
    recording = ramp_recording(tmp_path / "ramp.wav", sr=1000, n=3000)
    examples = examples_table([0.5, 1.0], [0.5, 1.5])
    audio = ExampleAudio(examples, lambda _: recording, sr=1000, window=31, jitter_s=jitter_s)
    rows = np.repeat(np.arange(2), 1000)
    times = audio.draw_times(rows, rng)
    starts, stops = examples["start_s"].to_numpy()[rows], examples["stop_s"].to_numpy()[rows]
    assert np.all((times >= starts - jitter_s) & (times <= stops + jitter_s))
    point = times[rows == 0]
    assert point.min() < 0.5 - jitter_s / 2 and point.max() > 0.5 + jitter_s / 2
    assert np.any(times[rows == 1] < 1.0) and np.any(times[rows == 1] > 1.5)
    windows = audio.windows(rows, times)
    np.testing.assert_array_equal(indices(windows[:, 15]), np.rint(times * 1000))
    # the extreme shifts still fit inside the audio read for each example
    extremes = np.array([0.5 - jitter_s, 0.5 + jitter_s, 1.0 - jitter_s, 1.5 + jitter_s])
    audio.windows(np.array([0, 0, 1, 1]), extremes)
