"""Acoustic features: known answers on tones, noise, harmonic stacks and chirps, and the
events path agreeing with the single-signal one."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pandas as pd
import pytest

from sonotype.audio import write_audio
from sonotype.errors import AnnotationError, ParameterError
from sonotype.features import ACOUSTIC_FEATURES, AcousticParams, acoustic_features, signal_features
from sonotype.features import acoustic as acoustic_module
from tests.features.conftest import tone_events

SR = 32000


def _t(duration_s=0.2, sr=SR):
    return np.arange(round(duration_s * sr)) / sr


def _chirp(f0_hz, f1_hz, duration_s=0.2, sr=SR):
    freq = np.linspace(f0_hz, f1_hz, round(duration_s * sr))
    return 0.5 * np.sin(2 * np.pi * np.cumsum(freq) / sr)


def test_docstring_examples():
    results = doctest.testmod(acoustic_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.failed == 0


def test_pure_tone():
    f = signal_features(0.5 * np.sin(2 * np.pi * 2000 * _t()), sr=SR)
    assert f["duration_s"] == pytest.approx(0.2)
    assert f["peak_freq_hz"] == pytest.approx(2000, abs=5)
    assert f["mean_freq_hz"] == pytest.approx(2000, rel=0.01)
    assert f["bandwidth_hz"] < 300
    assert f["spectral_entropy"] < 0.25
    assert f["pitch_hz"] == pytest.approx(2000, rel=0.005)
    assert abs(f["pitch_slope_hz_per_s"]) < 100
    assert f["amplitude_db"] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05)


def test_white_noise(rng):
    f = signal_features(0.1 * rng.standard_normal(round(0.2 * SR)), sr=SR)
    assert f["spectral_entropy"] > 0.95
    assert f["mean_freq_hz"] == pytest.approx(SR / 4, rel=0.05)
    assert f["bandwidth_hz"] > 0.8 * SR / 2
    assert np.isnan(f["pitch_hz"]) and np.isnan(f["pitch_slope_hz_per_s"])
    assert f["amplitude_db"] == pytest.approx(-20, abs=0.2)


@pytest.mark.parametrize("f0_hz", [400.0, 730.0, 1100.0])
def test_harmonic_stack_has_pitch_at_f0(f0_hz):
    t = _t()
    y = sum(np.sin(2 * np.pi * f0_hz * k * t) / k for k in range(1, 6))
    f = signal_features(0.2 * y, sr=SR)
    assert f["pitch_hz"] == pytest.approx(f0_hz, rel=0.01)
    assert f["peak_freq_hz"] == pytest.approx(f0_hz, rel=0.01)
    assert f["mean_freq_hz"] > f0_hz  # the harmonics pull the centroid up


@pytest.mark.parametrize(("f0_hz", "f1_hz"), [(1000, 3000), (4000, 2500), (600, 900)])
def test_chirp_pitch_slope(f0_hz, f1_hz):
    duration_s = 0.2
    f = signal_features(_chirp(f0_hz, f1_hz, duration_s), sr=SR)
    slope = (f1_hz - f0_hz) / duration_s
    assert np.sign(f["pitch_slope_hz_per_s"]) == np.sign(slope)
    assert f["pitch_slope_hz_per_s"] == pytest.approx(slope, rel=0.1)
    assert f["pitch_hz"] == pytest.approx((f0_hz + f1_hz) / 2, rel=0.05)


def test_silence_gives_nan_spectra_and_the_floor():
    f = signal_features(np.zeros(1000), sr=SR)
    assert np.isnan(f["mean_freq_hz"]) and np.isnan(f["pitch_hz"])
    assert f["amplitude_db"] == -200.0


def test_events_path_matches_the_signal_path(tmp_path):
    sr = SR
    gap = np.zeros(round(0.3 * sr))
    t = _t(0.15)
    parts = [gap, 0.5 * np.sin(2 * np.pi * 1500 * t), gap, _chirp(1000, 3000, 0.15), gap]
    y = np.concatenate(parts).astype(np.float32)
    write_audio(tmp_path / "a.wav", y, sr, subtype="FLOAT")
    events = tone_events((0.3, 0.45), (0.75, 0.9), recording="a.wav")
    events.index = [10, 20]
    table = acoustic_features(events, tmp_path)
    assert list(table.columns) == list(ACOUSTIC_FEATURES)
    assert list(table.index) == [10, 20]
    for i, part in ((0, parts[1]), (1, parts[3])):
        alone = signal_features(part, sr=sr)
        for name in ACOUSTIC_FEATURES:
            assert table.iloc[i][name] == pytest.approx(alone[name], rel=0.02, abs=1e-6), name


def test_song_features_follow_the_syllable_types(song):
    folder, events = song
    calls = []
    table = acoustic_features(events, folder, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (len(events), len(events))
    assert len(table) == len(events) and table.dtypes.eq(np.float64).all()
    np.testing.assert_allclose(table["duration_s"], events["stop_s"] - events["start_s"])
    centre = (events["low_hz"] + events["high_hz"]) / 2
    shapes = events["label:shape"]
    tonal = shapes.isin(["sweep", "trill"])
    # Frequency-modulated tones: the mean frequency lies within the type's band.
    error = (table["mean_freq_hz"] - centre).abs() / centre
    assert error[tonal].median() < 0.1
    # Harmonic stacks (f0 = low / 2) are voiced; noise bursts are noisier than tones.
    stacks = shapes == "stack"
    assert table.loc[stacks, "pitch_hz"].notna().mean() > 0.8
    ratio = table.loc[stacks, "pitch_hz"] / (events.loc[stacks, "low_hz"] / 2)
    assert ratio.median() == pytest.approx(1.0, abs=0.1)
    entropy = table.groupby(shapes)["spectral_entropy"].median()
    assert entropy["noise"] > entropy["sweep"]


def test_params_are_checked_and_serialise():
    params = AcousticParams(freq_range_hz=[300, 9000])
    d = params.to_dict()
    assert json.loads(json.dumps(d)) == d and AcousticParams(**d) == params
    for kwargs, named in [
        ({"fmin_hz": 900, "fmax_hz": 800}, "fmin_hz=900"),
        ({"yin_threshold": 1.5}, "yin_threshold=1.5"),
        ({"n_fft": 0}, "n_fft=0"),
        ({"bandwidth_quantiles": (0.9, 0.1)}, "bandwidth_quantiles"),
        ({"min_voiced_fraction": 2}, "min_voiced_fraction=2"),
    ]:
        with pytest.raises(ParameterError, match=named.replace("(", r"\(")):
            AcousticParams(**kwargs)
    with pytest.raises(ParameterError, match="params must be an AcousticParams"):
        signal_features(np.ones(10), sr=SR, params={"n_fft": 256})


def test_point_events_are_refused(tones):
    with pytest.raises(AnnotationError, match=r"row 1: .*point event"):
        acoustic_features(tone_events((0.5, 0.5)), tones)


def test_returns_an_empty_table_for_no_events(tones):
    table = acoustic_features(tone_events((0.4, 0.5)).iloc[:0], tones)
    assert isinstance(table, pd.DataFrame) and table.shape == (0, len(ACOUSTIC_FEATURES))
