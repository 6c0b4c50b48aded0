"""Syllable spectrograms: shapes, the frequency and time axes, context, errors, and
separation of known syllable types."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from sonotype.annotations import make_events
from sonotype.audio import Recording, write_audio
from sonotype.embed import make_embedder
from sonotype.errors import AnnotationError, ParameterError, SpanError
from sonotype.features import (
    SpectrogramParams,
    flatten,
    frequency_weights,
    global_db_range,
    stft_settings,
    syllable_spectrograms,
)
from sonotype.features import spectrograms as spectrograms_module
from sonotype.spectral import mel_frequencies
from tests.features.conftest import SR, tone_events


def test_docstring_examples():
    results = doctest.testmod(spectrograms_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.failed == 0


@pytest.mark.parametrize("time_mode", ["pad", "stretch"])
@pytest.mark.parametrize("freq_scale", ["linear", "mel"])
def test_shape_dtype_and_range(song, time_mode, freq_scale):
    folder, events = song
    params = SpectrogramParams(n_freq=64, n_time=48, time_mode=time_mode, freq_scale=freq_scale)
    specs = syllable_spectrograms(events, folder, params=params)
    assert specs.shape == (len(events), 64, 48) and specs.dtype == np.float32
    assert specs.min() == 0.0 and specs.max() == 1.0
    assert np.allclose(specs.max(axis=(1, 2)), 1.0)
    assert flatten(specs).shape == (len(events), 64 * 48)
    assert np.shares_memory(flatten(specs), specs)


@pytest.mark.parametrize("freq_scale", ["linear", "mel"])
def test_a_tone_lights_the_row_of_its_frequency(tones, freq_scale):
    params = SpectrogramParams(freq_scale=freq_scale, freq_range_hz=(500, 8000), n_freq=64)
    spec = syllable_spectrograms(tone_events((0.4, 0.6)), tones, params=params)[0]
    row = int(spec.mean(axis=1).argmax())
    if freq_scale == "linear":
        centres = np.linspace(500, 8000, 64)
    else:
        centres = mel_frequencies(66, fmin_hz=500, fmax_hz=8000)[1:-1]
    assert abs(centres[row] - 2000) <= (centres[row + 1] - centres[row - 1]) / 2


def test_pad_centres_the_syllable_in_a_fixed_window(tones):
    # The tone fills 0.3-0.7 s; an event 0.45-0.55 s in a 0.4 s window shows the tone
    # in every column (real context, not zeros) ...
    params = SpectrogramParams(window_s=0.4, n_time=80, normalize="none")
    inside = syllable_spectrograms(tone_events((0.45, 0.55)), tones, params=params)[0]
    assert inside.max(axis=0).min() > inside.max() - 10
    # ... while the event 0.3-0.7 s in a 0.8 s window has silence in its outer quarters.
    loud = syllable_spectrograms(
        tone_events((0.3, 0.7)), tones, params=SpectrogramParams(window_s=0.8, n_time=80)
    )[0]
    column_peak = loud.max(axis=0)
    assert column_peak[:15].max() < 0.2 and column_peak[65:].max() < 0.2
    assert column_peak[25:55].min() > 0.9


def test_stretch_fills_the_image_with_the_syllable(tones):
    params = SpectrogramParams(time_mode="stretch", n_time=64)
    spec = syllable_spectrograms(tone_events((0.3, 0.7)), tones, params=params)[0]
    assert spec.max(axis=0)[2:-2].min() > 0.9


def test_the_window_defaults_to_the_95th_percentile_duration(tones):
    events = tone_events(*[(0.32 + 0.01 * i, 0.34 + 0.012 * i) for i in range(20)])
    durations = events["stop_s"] - events["start_s"]
    window = float(np.percentile(durations, 95))
    default = syllable_spectrograms(events, tones)
    given = syllable_spectrograms(events, tones, params=SpectrogramParams(window_s=window))
    np.testing.assert_array_equal(default, given)


def test_zeros_beyond_the_recording_edges(tmp_path):
    t = np.arange(SR) / SR
    write_audio(tmp_path / "a.wav", (0.5 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32), SR)
    params = SpectrogramParams(window_s=0.2, n_time=100)
    events = tone_events((0.0, 0.02), recording="a.wav")
    spec = syllable_spectrograms(events, tmp_path, params=params)[0]
    column_peak = spec.max(axis=0)
    # Columns before time 0 (the first ~40) read zeros; those inside the file, the tone.
    assert column_peak[:35].max() == 0.0
    assert column_peak[50:].min() > 0.9


def test_syllables_shorter_than_a_frame_still_give_a_spectrogram(tones):
    n_fft, _ = stft_settings(SpectrogramParams(), SR)
    short = 0.25 * n_fft / SR
    for mode in ("pad", "stretch"):
        params = SpectrogramParams(time_mode=mode, freq_range_hz=(500, 8000), n_freq=64)
        spec = syllable_spectrograms(tone_events((0.5, 0.5 + short)), tones, params=params)[0]
        assert np.isfinite(spec).all() and spec.max() == 1.0
        assert abs(np.linspace(500, 8000, 64)[spec.mean(axis=1).argmax()] - 2000) < 130


def test_rows_follow_the_events_across_recordings_and_channels(song, tmp_path):
    folder, events = song
    y = Recording(folder / "song.wav").read()[0]
    # A stereo copy whose channel 1 is the song and channel 0 silence.
    stereo = np.stack([np.zeros_like(y), y])
    write_audio(tmp_path / "stereo.wav", stereo, SR)
    first = events.iloc[:6]
    mixed = make_events(
        ["song.wav", "stereo.wav"] * 6,
        np.repeat(first["start_s"].to_numpy(), 2),
        np.repeat(first["stop_s"].to_numpy(), 2),
        "x",
        channel=[0, 1] * 6,
    )
    recordings = {"song.wav": folder / "song.wav", "stereo.wav": Recording(tmp_path / "stereo.wav")}
    specs = syllable_spectrograms(mixed, recordings, params=SpectrogramParams(window_s=0.2))
    np.testing.assert_allclose(specs[0::2], specs[1::2], atol=1e-3)
    silent = syllable_spectrograms(
        mixed, recordings, params=SpectrogramParams(window_s=0.2), channel_from_events=False
    )
    assert silent[1::2].max() == 0.0  # channel 0 of stereo.wav is silent
    np.testing.assert_array_equal(silent[0::2], specs[0::2])


def test_deterministic_and_reports_progress(song):
    folder, events = song
    calls = []
    a = syllable_spectrograms(events, folder, progress=lambda d, t: calls.append((d, t)))
    b = syllable_spectrograms(events, {"song.wav": folder / "song.wav"})
    np.testing.assert_array_equal(a, b)
    assert calls == [(len(events), len(events))]


def test_global_normalisation_uses_one_range(song):
    folder, events = song
    raw = syllable_spectrograms(events, folder, params=SpectrogramParams(normalize="none"))
    assert raw.max() > 1.0 or raw.min() < 0.0  # dB
    low, high = global_db_range(raw, percentiles=(20, 99.9))
    params = SpectrogramParams(normalize="global")
    scaled = syllable_spectrograms(events, folder, params=params)
    expected = np.clip((raw - low) / (high - low), 0, 1)
    np.testing.assert_allclose(scaled, expected, atol=1e-5)
    # Given the range, a subset is scaled exactly as within the whole.
    window_s = float(np.percentile(events.stop_s - events.start_s, 95))
    params = SpectrogramParams(normalize="global", db_range=(low, high), window_s=window_s)
    subset = syllable_spectrograms(events.iloc[:5], folder, params=params)
    np.testing.assert_allclose(subset, scaled[:5], atol=1e-5)


@pytest.mark.parametrize("time_mode", ["pad", "stretch"])
def test_pca_embedding_separates_the_syllable_types(song, time_mode):
    folder, events = song
    specs = syllable_spectrograms(events, folder, params=SpectrogramParams(time_mode=time_mode))
    embedding = make_embedder("pca", n_components=32, random_state=0).fit_transform(specs)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    accuracy = cross_val_score(KNeighborsClassifier(5), embedding, events["label"], cv=cv)
    assert accuracy.mean() >= 0.9


def test_params_serialise_for_cache_keys():
    params = SpectrogramParams(freq_range_hz=(500, 9000), window_s=0.12)
    d = params.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["freq_range_hz"] == [500, 9000] and d["window_s"] == 0.12
    rebuilt = SpectrogramParams(**d)
    assert rebuilt == params and hash(rebuilt) == hash(params)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"n_freq": 0}, "n_freq=0"),
        ({"n_time": 1.5}, "n_time=1.5"),
        ({"freq_scale": "log"}, "freq_scale='log'"),
        ({"time_mode": "crop"}, "time_mode='crop'"),
        ({"normalize": "max"}, "normalize='max'"),
        ({"freq_range_hz": (5000, 1000)}, "freq_range_hz"),
        ({"window_s": -1.0}, "window_s=-1.0"),
        ({"top_db": 0}, "top_db=0"),
        ({"db_range": (10, -10)}, "db_range"),
        ({"db_range_percentiles": (50, 200)}, "db_range_percentiles"),
        ({"hop_length": 0}, "hop_length=0"),
    ],
)
def test_bad_parameters_are_named(kwargs, named):
    with pytest.raises(ParameterError, match=named.replace("(", r"\(").replace(")", r"\)")):
        SpectrogramParams(**kwargs)


def test_frequency_range_above_nyquist_is_an_error(tones):
    params = SpectrogramParams(freq_range_hz=(0, 20000))
    with pytest.raises(ParameterError, match="Nyquist"):
        syllable_spectrograms(tone_events((0.4, 0.5)), tones, params=params)


def test_point_events_are_refused_by_row(tones):
    events = tone_events((0.4, 0.5), (0.6, 0.6))
    with pytest.raises(AnnotationError, match=r"row 2: .*point event.*need intervals"):
        syllable_spectrograms(events, tones)


def test_events_outside_the_recording_are_refused_by_row(tones):
    events = tone_events((0.4, 0.5), (0.9, 1.2))
    with pytest.raises(SpanError, match=r"tones\.wav row 2: .*outside the recording"):
        syllable_spectrograms(events, tones)
    with pytest.raises(SpanError, match=r"row 1: channel=1 does not exist"):
        syllable_spectrograms(tone_events((0.4, 0.5), channel=1), tones)


def test_missing_recordings_are_named(tones):
    with pytest.raises(ParameterError, match=r"no entry for 'tones\.wav' \(events row 1\)"):
        syllable_spectrograms(tone_events((0.4, 0.5)), {"other.wav": tones / "tones.wav"})


def test_no_events_give_an_empty_array(tones):
    specs = syllable_spectrograms(tone_events((0.4, 0.5)).iloc[:0], tones)
    assert specs.shape == (0, 128, 128) and specs.dtype == np.float32


def test_frequency_weights_are_normalised_and_cover_empty_mel_bands():
    for scale in ("linear", "mel"):
        params = SpectrogramParams(freq_scale=scale, n_freq=128)
        W = frequency_weights(params, sr=16000, n_fft=256)  # more rows than bins
        assert W.shape == (128, 129)
        np.testing.assert_allclose(W.sum(axis=1), 1.0, rtol=1e-5)
        assert (W >= 0).all()
