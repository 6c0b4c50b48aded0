"""STFT, spectrograms, dB scaling, bin frequencies and frame times, frequency cropping."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from sonotype.errors import ParameterError
from sonotype.spectral import (
    amplitude_to_db,
    crop_frequencies,
    db_to_amplitude,
    db_to_power,
    fft_frequencies,
    frame_count,
    frame_times,
    magnitude_spectrogram,
    power_spectrogram,
    power_to_db,
    stft,
)
from tests.spectral.helpers import assert_close, tone


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"n_fft": 511, "hop_length": 100, "win_length": 300, "window": "hamming"},
        {"n_fft": 256, "center": False},
        {"n_fft": 1024, "hop_length": 2000},  # hop longer than the frame
        {"n_fft": 400, "hop_length": 97, "pad_mode": "reflect"},
        {"n_fft": 300, "hop_length": 64, "pad_mode": "edge", "window": ("kaiser", 8.0)},
        {"n_fft": 4096, "hop_length": 512},  # longer than a tenth of the signal
    ],
)
def test_stft_equals_librosa(rng, dtype, options, librosa):
    y = rng.standard_normal(9001).astype(dtype)
    ours = stft(y, **options)
    theirs = librosa.stft(y, **{"n_fft": 512, **options})
    assert ours.dtype == theirs.dtype == (np.complex64 if dtype == np.float32 else np.complex128)
    assert_close(ours, theirs)


def test_stft_of_a_signal_shorter_than_the_frame_equals_librosa(rng, librosa):
    y = rng.standard_normal(100)
    with pytest.warns(UserWarning):  # librosa warns; sonotype pads silently
        theirs = librosa.stft(y, n_fft=512)
    assert_close(stft(y, n_fft=512), theirs)


def test_multichannel_stft_transforms_each_channel(rng, librosa):
    y = rng.standard_normal((2, 3, 4000)).astype(np.float32)
    S = stft(y, n_fft=256, hop_length=64)
    assert S.shape == (2, 3, 129, frame_count(4000, n_fft=256, hop_length=64))
    assert_close(S, librosa.stft(y, n_fft=256, hop_length=64))
    assert_close(S[1, 2], stft(y[1, 2], n_fft=256, hop_length=64))


def test_stft_equals_naive_reference_where_librosa_differs(rng):
    # librosa mis-pads the last frame when hop_length > n_fft with reflect padding; the
    # definition (pad, then frame) is what sonotype implements.
    y = rng.standard_normal(20000)
    n_fft, hop = 1024, 2000
    padded = np.pad(y, n_fft // 2, mode="reflect")
    window = scipy.signal.get_window("hann", n_fft, fftbins=True)
    starts = range(0, len(padded) - n_fft + 1, hop)
    naive = np.stack([np.fft.rfft(padded[s : s + n_fft] * window) for s in starts], axis=1)
    assert_close(stft(y, n_fft=n_fft, hop_length=hop, pad_mode="reflect"), naive)


def test_stft_equals_scipy_short_time_fft(rng):
    y = rng.standard_normal(10000)
    n_fft, hop = 512, 128
    window = scipy.signal.get_window("hann", n_fft, fftbins=True)
    # phase_shift=None: each slice's FFT starts at its first sample, as in librosa.
    sft = scipy.signal.ShortTimeFFT(window, hop=hop, fs=1.0, mfft=n_fft, phase_shift=None)
    ours = stft(y, n_fft=n_fft, hop_length=hop)
    assert_close(ours, sft.stft(y, p0=0, p1=ours.shape[-1]), rtol=1e-10, atol_of_max=1e-12)


def test_pure_tone_peaks_at_its_bin():
    sr, n_fft = 16000, 512
    frequency_hz = 47 * sr / n_fft  # exactly bin 47
    S = magnitude_spectrogram(tone(frequency_hz, sr=sr, duration_s=0.5), n_fft=n_fft)
    interior = S[:, 4:-4]
    assert (interior.argmax(axis=0) == 47).all()
    # A Hann-windowed sine of amplitude a peaks at a * sum(window) / 2 = a * n_fft / 4.
    np.testing.assert_allclose(interior[47], 0.5 * n_fft / 4, rtol=1e-4)


def test_linear_chirp_peak_moves_at_the_sweep_rate():
    sr, n_fft, hop = 16000, 1024, 256
    f0_hz, f1_hz, duration_s = 1000.0, 5000.0, 2.0
    t = np.arange(round(duration_s * sr)) / sr
    y = scipy.signal.chirp(t, f0=f0_hz, t1=duration_s, f1=f1_hz, method="linear")
    S = power_spectrogram(y, n_fft=n_fft, hop_length=hop)
    times_s = frame_times(S.shape[-1], sr=sr, hop_length=hop)
    inside = (times_s > 0.1) & (times_s < duration_s - 0.1)
    peak_hz = fft_frequencies(sr=sr, n_fft=n_fft)[S.argmax(axis=0)][inside]
    expected_hz = f0_hz + (f1_hz - f0_hz) * times_s[inside] / duration_s
    bin_hz = sr / n_fft
    assert np.abs(peak_hz - expected_hz).max() <= bin_hz
    rate_hz_per_s = np.polyfit(times_s[inside], peak_hz, 1)[0]
    assert rate_hz_per_s == pytest.approx((f1_hz - f0_hz) / duration_s, rel=0.01)


def test_power_and_magnitude_spectrograms(rng):
    y = rng.standard_normal(5000).astype(np.float32)
    S = stft(y, n_fft=256)
    assert_close(magnitude_spectrogram(y, n_fft=256), np.abs(S))
    assert_close(power_spectrogram(y, n_fft=256), np.abs(S) ** 2)
    assert_close(power_spectrogram(y, n_fft=256, power=1.5), np.abs(S) ** 1.5)
    assert power_spectrogram(y, n_fft=256).dtype == np.float32


@pytest.mark.parametrize(
    "options",
    [{}, {"ref": np.max}, {"ref": 3.0, "amin": 1e-6, "top_db": 40.0}, {"top_db": None}],
)
def test_db_scaling_equals_librosa(rng, options, librosa):
    S = np.abs(stft(rng.standard_normal(5000).astype(np.float32), n_fft=256))
    S[:, 3] = 0.0  # silent frame: amin floor
    assert_close(amplitude_to_db(S, **options), librosa.amplitude_to_db(S, **options))
    power = S**2
    power_options = {"amin": 1e-10, **options}
    assert_close(power_to_db(power, **power_options), librosa.power_to_db(power, **power_options))


def test_db_round_trips():
    power = np.array([1e-3, 1.0, 250.0])
    np.testing.assert_allclose(db_to_power(power_to_db(power, top_db=None)), power)
    np.testing.assert_allclose(db_to_amplitude(amplitude_to_db(power, top_db=None)), power)


def test_db_errors_name_the_parameter():
    with pytest.raises(ParameterError, match="amin=0"):
        power_to_db(np.ones(3), amin=0)
    with pytest.raises(ParameterError, match="top_db=-1"):
        power_to_db(np.ones(3), top_db=-1)
    with pytest.raises(ParameterError, match="complex"):
        power_to_db(np.ones(3, dtype=complex))


def test_frequencies_and_times_equal_librosa(librosa):
    np.testing.assert_allclose(
        fft_frequencies(sr=22050, n_fft=1000), librosa.fft_frequencies(sr=22050, n_fft=1000)
    )
    np.testing.assert_allclose(
        frame_times(50, sr=22050, hop_length=256),
        librosa.frames_to_time(np.arange(50), sr=22050, hop_length=256),
    )
    np.testing.assert_allclose(
        frame_times(50, sr=22050, hop_length=256, center=False, n_fft=1024),
        librosa.frames_to_time(np.arange(50), sr=22050, hop_length=256, n_fft=1024),
    )


@pytest.mark.parametrize("n_samples", [1, 100, 511, 512, 513, 9001])
@pytest.mark.parametrize("center", [True, False])
def test_frame_count_matches_stft(rng, n_samples, center):
    y = rng.standard_normal(n_samples)
    expected = frame_count(n_samples, n_fft=512, hop_length=128, center=center)
    if expected == 0:
        with pytest.raises(ParameterError, match=f"{n_samples} samples.*n_fft=512"):
            stft(y, n_fft=512, center=center)
    else:
        assert stft(y, n_fft=512, hop_length=128, center=center).shape[-1] == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_fft": 0}, "n_fft=0 must be an integer >= 1"),
        ({"n_fft": 256.0}, "n_fft=256.0 must be an integer >= 1"),
        ({"hop_length": 0}, "hop_length=0 must be an integer >= 1"),
        ({"win_length": 600}, "win_length=600 must be <= n_fft=512"),
        ({"window": "nonsense"}, "window='nonsense'"),
        ({"window": np.ones(10)}, r"shape \(512,\)"),
        ({"pad_mode": "mean"}, "pad_mode='mean' must be one of"),
    ],
)
def test_stft_parameter_errors(rng, options, message):
    with pytest.raises(ParameterError, match=message):
        stft(rng.standard_normal(2000), **options)


def test_stft_signal_errors():
    with pytest.raises(ParameterError, match="integer dtype int16"):
        stft(np.zeros(1000, dtype=np.int16))
    with pytest.raises(ParameterError, match="NaN or infinite"):
        stft(np.array([0.0, np.nan] * 600))
    with pytest.raises(ParameterError, match="at least one sample"):
        stft(np.zeros(0))
    with pytest.raises(ParameterError, match=r"300 samples, fewer than n_fft=512"):
        stft(np.zeros(300), center=False)


def test_frame_times_without_centring_needs_n_fft():
    with pytest.raises(ParameterError, match="needs n_fft"):
        frame_times(3, sr=1000, hop_length=10, center=False)


def test_crop_frequencies_keeps_the_band_as_a_view():
    S = np.arange(2 * 9 * 4, dtype=np.float64).reshape(2, 9, 4)
    freqs = fft_frequencies(sr=16000, n_fft=16)  # 0, 1000, ..., 8000 Hz
    cropped, kept = crop_frequencies(S, freqs, low_hz=1500, high_hz=4000)
    np.testing.assert_array_equal(kept, [2000, 3000, 4000])
    np.testing.assert_array_equal(cropped, S[:, 2:5])
    assert np.shares_memory(cropped, S)
    assert crop_frequencies(S, freqs, high_hz=0)[1].tolist() == [0.0]
    assert crop_frequencies(S, freqs)[0].shape == S.shape


def test_crop_frequencies_errors():
    S = np.zeros((9, 4))
    freqs = fft_frequencies(sr=16000, n_fft=16)
    with pytest.raises(ParameterError, match="low_hz=5000 is above high_hz=1000"):
        crop_frequencies(S, freqs, low_hz=5000, high_hz=1000)
    with pytest.raises(ParameterError, match="no frequency bin lies in the band"):
        crop_frequencies(S, freqs, low_hz=1100, high_hz=1900)
    with pytest.raises(ParameterError, match="one value per bin"):
        crop_frequencies(S, freqs[:-1])
