"""Chroma filterbank, STFT chroma and CENS, against librosa and known answers."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.errors import ParameterError
from sonotype.spectral import cens_from_chroma, chroma_cens, chroma_filterbank, chroma_stft
from tests.spectral.helpers import assert_close, tone

A = 9  # pitch class of A when classes start at C


@pytest.mark.parametrize(
    "options",
    [
        {"sr": 22050, "n_fft": 4096},
        {"sr": 48000, "n_fft": 1024, "n_chroma": 24, "tuning": 0.3},
        {"sr": 16000, "n_fft": 2048, "base_c": False, "norm": 1},
        {"sr": 16000, "n_fft": 2047, "octave_width": None},
        {"sr": 44100, "n_fft": 2048, "center_octave": 6.0, "octave_width": 1.0},
    ],
)
def test_chroma_filterbank_equals_librosa(options, librosa):
    renamed = {
        {"center_octave": "ctroct", "octave_width": "octwidth"}.get(k, k): v
        for k, v in options.items()
    }
    assert_close(chroma_filterbank(**options), librosa.filters.chroma(**renamed))


def test_chroma_stft_equals_librosa(rng, librosa):
    y = rng.standard_normal(22050).astype(np.float32)
    for options in ({}, {"n_fft": 1024, "hop_length": 256, "norm": None, "n_chroma": 24}):
        ours = chroma_stft(y, sr=22050, **options)
        theirs = librosa.feature.chroma_stft(y=y, sr=22050, tuning=0.0, **options)
        assert_close(ours, theirs)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"win_len_smooth": 10},  # even: scipy.ndimage's centring of even kernels
        {"win_len_smooth": 1},
        {"win_len_smooth": None},
        {"win_len_smooth": 21, "smoothing_window": "hamming", "norm": np.inf},
    ],
)
def test_cens_post_processing_equals_librosa(rng, monkeypatch, options, librosa):
    # Chroma with silent frames and frames dominated by one or two classes, so every
    # quantisation step and the zero-norm rule are exercised.
    chroma = rng.gamma(0.3, size=(12, 200))
    chroma[:, 50:60] = 0.0
    chroma[A, 100:150] += 20.0
    chroma[2, 120:170] += 8.0
    # librosa's chroma_cens computes a CQT chroma first; hand it this chroma instead.
    monkeypatch.setattr(librosa.feature.spectral, "chroma_cqt", lambda **_: chroma.copy())
    theirs = librosa.feature.chroma_cens(y=np.zeros(2048), sr=22050, **options)
    assert_close(cens_from_chroma(chroma, **options), theirs, rtol=1e-10, atol_of_max=1e-12)


def test_cens_is_unit_norm_and_multichannel(rng):
    chroma = rng.gamma(0.5, size=(2, 12, 80))
    chroma[1, :, :5] = 0.0
    cens = cens_from_chroma(chroma, win_len_smooth=None)
    norms = np.linalg.norm(cens, axis=-2)
    np.testing.assert_allclose(norms[0], 1.0)
    np.testing.assert_allclose(norms[1, :5], 0.0)
    np.testing.assert_allclose(cens[1], cens_from_chroma(chroma[1], win_len_smooth=None))


@pytest.mark.parametrize("frequency_hz", [440.0, 880.0, 1760.0, 3520.0])
def test_a_tone_puts_cens_energy_in_class_a(frequency_hz):
    sr = 22050
    cens = chroma_cens(tone(frequency_hz, sr=sr, duration_s=3.0), sr=sr)
    assert cens.shape == (12, 1 + 3 * sr // 512)
    middle = cens[:, 30:-30]
    assert (middle.argmax(axis=0) == A).all()
    # The STFT chroma filters overlap, so the neighbours G# and A# pass the lowest
    # quantisation steps; every other class stays silent.
    assert (middle[A] > 0.8).all()
    others = np.delete(middle, [A - 1, A, A + 1], axis=0)
    assert np.abs(others).max() < 1e-6


def test_a_major_third_shows_both_classes():
    sr = 22050
    y = tone(440.0, sr=sr, duration_s=2.0) + tone(554.37, sr=sr, duration_s=2.0)  # A + C#
    chroma = chroma_stft(y, sr=sr)[:, 10:-10]
    top_two = np.sort(np.argsort(chroma, axis=0)[-2:], axis=0)
    assert (top_two[0] == 1).all()  # C#
    assert (top_two[1] == A).all()


def test_cens_errors():
    with pytest.raises(ParameterError, match="win_len_smooth=0 must be an integer >= 1"):
        cens_from_chroma(np.ones((12, 5)), win_len_smooth=0)
    with pytest.raises(ParameterError, match=r"shape \(12,\)"):
        cens_from_chroma(np.ones(12))
    with pytest.raises(ParameterError, match="norm='l2'"):
        cens_from_chroma(np.ones((12, 5)), norm="l2")
