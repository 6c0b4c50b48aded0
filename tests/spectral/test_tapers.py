"""Multitaper spectrogram and Thomson's harmonic F-test."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import scipy.stats

from sonotype.errors import ParameterError
from sonotype.spectral import dpss_tapers, frame_times, harmonic_p_value, multitaper, stft
from tests.spectral.helpers import assert_close, tone


def naive_multitaper(y, *, n_fft, hop_length, nw, k):
    """Frame by frame and taper by taper in float64, as Chronux's mtspecgramc/ftestc."""
    tapers = scipy.signal.windows.dpss(n_fft, nw, Kmax=k, norm=2)
    padded = np.pad(y.astype(np.float64), n_fft // 2)
    h0 = tapers.sum(axis=1)
    power, f_statistic = [], []
    for start in range(0, len(padded) - n_fft + 1, hop_length):
        frame = padded[start : start + n_fft]
        J = np.array([np.fft.rfft(taper * frame) for taper in tapers])  # (k, n_bins)
        mu = (J * h0[:, None]).sum(axis=0) / (h0**2).sum()
        numerator = (k - 1) * np.abs(mu) ** 2 * (h0**2).sum()
        denominator = (np.abs(J - mu[None, :] * h0[:, None]) ** 2).sum(axis=0)
        power.append((np.abs(J) ** 2).mean(axis=0))
        f_statistic.append(numerator / denominator)
    return np.array(power).T, np.array(f_statistic).T


def test_tapers_are_scipy_dpss():
    tapers = dpss_tapers(300, nw=3.5)
    assert tapers.shape == (6, 300)
    np.testing.assert_allclose(tapers, scipy.signal.windows.dpss(300, 3.5, Kmax=6, norm=2))
    np.testing.assert_allclose(tapers @ tapers.T, np.eye(6), atol=1e-10)


@pytest.mark.parametrize(
    ("n_fft", "hop_length", "nw", "k"), [(128, 32, 4.0, None), (101, 40, 2.5, 3)]
)
def test_multitaper_equals_the_naive_frame_loop(rng, n_fft, hop_length, nw, k):
    y = rng.standard_normal(3000) + tone(1234.0, sr=8000, duration_s=3000 / 8000, amplitude=2.0)
    result = multitaper(y, sr=8000, n_fft=n_fft, hop_length=hop_length, nw=nw, k=k)
    k = result.k
    power, f_statistic = naive_multitaper(y, n_fft=n_fft, hop_length=hop_length, nw=nw, k=k)
    assert_close(result.power, power, rtol=1e-9, atol_of_max=1e-12)
    assert_close(result.f_statistic, f_statistic, rtol=1e-7, atol_of_max=1e-12)
    np.testing.assert_allclose(
        result.p_value, scipy.stats.f.sf(f_statistic, 2, 2 * k - 2), rtol=1e-7, atol=1e-300
    )
    assert result.power.shape == stft(y, n_fft=n_fft, hop_length=hop_length).shape
    np.testing.assert_allclose(
        result.times_s, frame_times(power.shape[1], sr=8000, hop_length=hop_length)
    )


def test_multitaper_float32_and_multichannel(rng):
    y = rng.standard_normal((2, 4000)).astype(np.float32)
    result = multitaper(y, sr=16000, n_fft=256, hop_length=64)
    assert result.power.dtype == result.f_statistic.dtype == np.float32
    assert result.power.shape == (2, 129, 63)
    single = multitaper(y[1].astype(np.float64), sr=16000, n_fft=256, hop_length=64)
    assert_close(result.power[1], single.power, rtol=1e-4, atol_of_max=1e-6)
    assert_close(result.f_statistic[1], single.f_statistic, rtol=1e-3, atol_of_max=1e-5)


def test_harmonic_p_value_is_the_f_distribution():
    f_statistic = np.array([0.0, 0.5, 1.0, 3.0, 10.0, 100.0])
    for k in (2, 3, 7, 11):
        np.testing.assert_allclose(
            harmonic_p_value(f_statistic, k=k),
            scipy.stats.f.sf(f_statistic, 2, 2 * k - 2),
            rtol=1e-12,
        )


def test_tone_in_noise_is_significant_at_its_frequency(rng):
    sr, n_fft = 16000, 512
    frequency_hz = 100 * sr / n_fft  # bin 100, 3125 Hz
    y = tone(frequency_hz, sr=sr, duration_s=1.0, amplitude=0.3, dtype=np.float64)
    y = y + 0.3 * rng.standard_normal(y.size)  # SNR about -3 dB in the whole band
    result = multitaper(y, sr=sr, n_fft=n_fft, hop_length=128)
    interior = slice(4, -4)
    assert (result.p_value[100, interior] < 1e-3).all()
    assert (result.f_statistic[100, interior] > 20).all()
    peak_hz = result.frequencies_hz[result.power[:, interior].argmax(axis=0)]
    assert np.abs(peak_hz - frequency_hz).max() <= result.bandwidth_hz


def test_white_noise_gives_uniform_p_values(rng):
    y = rng.standard_normal(32000)
    result = multitaper(y, sr=16000, n_fft=256, hop_length=256, nw=3.0)
    # Bins away from DC and Nyquist, frames clear of the zero-padded edges.
    p = result.p_value[5:-5, 2:-2].ravel()
    assert 0.3 < np.median(p) < 0.7
    assert np.mean(p < 0.01) == pytest.approx(0.01, abs=0.005)
    assert scipy.stats.kstest(p, "uniform").statistic < 0.03


def test_silence_has_no_line():
    result = multitaper(np.zeros(2000), sr=8000, n_fft=128)
    assert (result.f_statistic == 0).all()
    assert (result.p_value == 1).all()
    assert (result.power == 0).all()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"nw": 1.0}, r"nw=1 must satisfy 1.5 <= nw < n_fft / 2 = 128"),
        ({"nw": 200.0}, r"nw=200 must satisfy"),
        ({"k": 8}, r"k=8 must be an integer with 2 <= k <= 2 \* nw - 1 = 7"),
        ({"k": 1}, r"k=1 must be an integer"),
        ({"n_fft": -4}, "n_fft=-4 must be an integer >= 1"),
        ({"hop_length": 0}, "hop_length=0"),
    ],
)
def test_multitaper_errors(rng, options, message):
    with pytest.raises(ParameterError, match=message):
        multitaper(rng.standard_normal(2000), sr=8000, **{"n_fft": 256, **options})
