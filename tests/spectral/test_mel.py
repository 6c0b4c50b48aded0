"""Mel scale, mel filterbank, mel spectrogram and MFCC, against librosa and known answers."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.errors import ParameterError
from sonotype.spectral import (
    hz_to_mel,
    mel_filterbank,
    mel_frequencies,
    mel_spectrogram,
    mel_to_hz,
    mfcc,
    power_to_db,
)
from tests.spectral.helpers import assert_close, tone


@pytest.mark.parametrize("htk", [False, True])
def test_mel_scale_equals_librosa(htk, librosa):
    frequencies_hz = np.array([0.0, 20.0, 500.0, 999.0, 1000.0, 1001.0, 8000.0, 96000.0])
    mels = hz_to_mel(frequencies_hz, htk=htk)
    np.testing.assert_allclose(mels, librosa.hz_to_mel(frequencies_hz, htk=htk), rtol=1e-12)
    np.testing.assert_allclose(mel_to_hz(mels, htk=htk), frequencies_hz, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(
        mel_frequencies(40, fmin_hz=50.0, fmax_hz=12000.0, htk=htk),
        librosa.mel_frequencies(40, fmin=50.0, fmax=12000.0, htk=htk),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    "options",
    [
        {"sr": 22050, "n_fft": 2048},
        {"sr": 48000, "n_fft": 512, "n_mels": 40, "fmin_hz": 500.0, "fmax_hz": 12000.0},
        {"sr": 250000, "n_fft": 1024, "n_mels": 64, "fmin_hz": 15000.0, "htk": True},
        {"sr": 16000, "n_fft": 1024, "n_mels": 64, "norm": None},
        {"sr": 16000, "n_fft": 1023, "n_mels": 32, "norm": 2.0},
        {"sr": 16000, "n_fft": 1024, "n_mels": 32, "norm": np.inf},
    ],
)
def test_mel_filterbank_equals_librosa(options, librosa):
    theirs = librosa.filters.mel(**{k.removesuffix("_hz"): v for k, v in options.items()})
    ours = mel_filterbank(**options)
    assert ours.dtype == np.float32
    assert_close(ours, theirs)


def test_mel_filterbank_warns_on_empty_bands():
    with pytest.warns(UserWarning, match="cover no FFT bin"):
        mel_filterbank(sr=16000, n_fft=128, n_mels=128)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fmin_hz": 5000.0, "fmax_hz": 1000.0}, "fmin_hz=5000 and fmax_hz=1000"),
        ({"fmax_hz": 9000.0}, "fmax_hz=9000 exceeds the Nyquist frequency"),
        ({"n_mels": 0}, "n_mels=0 must be an integer >= 1"),
        ({"norm": "area"}, "norm='area'"),
        ({"sr": -1}, "sr=-1 must be a number of samples per second > 0"),
    ],
)
def test_mel_filterbank_errors(options, message):
    with pytest.raises(ParameterError, match=message):
        mel_filterbank(**{"sr": 16000, "n_fft": 512, **options})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"n_fft": 1024, "hop_length": 300, "n_mels": 64, "fmin_hz": 300.0, "power": 1.0},
        {
            "n_fft": 512,
            "hop_length": 128,
            "win_length": 400,
            "center": False,
            "n_mels": 64,
            "htk": True,
            "norm": None,
        },
    ],
)
def test_mel_spectrogram_equals_librosa(rng, dtype, options, librosa):
    y = rng.standard_normal(22050).astype(dtype)
    ours = mel_spectrogram(y, sr=22050, **options)
    renamed = {k.removesuffix("_hz"): v for k, v in options.items()}
    theirs = librosa.feature.melspectrogram(y=y, sr=22050, **renamed)
    assert ours.dtype == dtype
    assert_close(ours, theirs)


def test_tone_peaks_in_the_mel_band_that_contains_it():
    sr = 32000
    for frequency_hz in (440.0, 3000.0, 11000.0):
        M = mel_spectrogram(tone(frequency_hz, sr=sr, duration_s=0.5), sr=sr, n_mels=64)
        centres_hz = mel_frequencies(66, fmin_hz=0.0, fmax_hz=sr / 2)
        band = int(np.median(M[:, 3:-3].argmax(axis=0)))
        # Band i rises from centres_hz[i] to its peak at centres_hz[i + 1].
        assert centres_hz[band] < frequency_hz < centres_hz[band + 2]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"n_mfcc": 13, "n_mels": 40, "n_fft": 1024, "hop_length": 256, "lifter": 22.0},
        {"n_mfcc": 20, "top_db": None, "fmin_hz": 100.0, "htk": True},
    ],
)
def test_mfcc_equals_librosa(rng, options, librosa):
    y = rng.standard_normal(16000).astype(np.float32)
    y[:4000] *= 1e-4  # a quiet stretch, so the top_db floor matters
    ours = mfcc(y, sr=16000, **options)
    renamed = {k.removesuffix("_hz"): v for k, v in options.items()}
    top_db = renamed.pop("top_db", 80.0)
    n_mfcc, lifter = renamed.pop("n_mfcc", 20), renamed.pop("lifter", 0.0)
    if top_db == 80.0:
        theirs = librosa.feature.mfcc(y=y, sr=16000, n_mfcc=n_mfcc, lifter=lifter, **renamed)
    else:  # librosa's mfcc of audio always floors at 80 dB: give it the dB spectrogram
        mel = librosa.feature.melspectrogram(y=y, sr=16000, **renamed)
        S_db = librosa.power_to_db(mel, top_db=top_db)
        theirs = librosa.feature.mfcc(S=S_db, n_mfcc=n_mfcc, lifter=lifter)
    # Coefficients cross zero: judge them against the largest.
    assert_close(ours, theirs, atol_of_max=1e-5)


def test_mfcc_from_a_db_mel_spectrogram(rng, librosa):
    y = rng.standard_normal(8000)
    S_db = power_to_db(mel_spectrogram(y, sr=8000, n_mels=40))
    np.testing.assert_allclose(mfcc(S_db=S_db, n_mfcc=12), mfcc(y, sr=8000, n_mels=40)[:12])
    assert_close(mfcc(S_db=S_db, n_mfcc=12), librosa.feature.mfcc(S=S_db, n_mfcc=12))


def test_mfcc_errors(rng):
    y = rng.standard_normal(8000)
    with pytest.raises(ParameterError, match="exactly one of y"):
        mfcc(sr=8000)
    with pytest.raises(ParameterError, match="needs sr"):
        mfcc(y)
    with pytest.raises(ParameterError, match="n_mfcc=50 exceeds the 40 mel bands"):
        mfcc(y, sr=8000, n_mels=40, n_mfcc=50)
    with pytest.raises(ParameterError, match="lifter=-1"):
        mfcc(y, sr=8000, lifter=-1)
