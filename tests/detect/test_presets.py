"""Detector presets: every value has a source, explicit parameters override, and the rodent
preset finds short ultrasonic calls that the detector's defaults (songbird-sized) drop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import read_events
from sonotype.audio import write_audio
from sonotype.detect import PRESETS, detect_recording, make_detector, preset_detector
from sonotype.detect.amplitude import Amplitude
from sonotype.errors import ParameterError
from sonotype.evaluate import match_events
from tests.fixtures.shared import data_folder

USV_SR = 250000


def ultrasonic_calls(rng, *, n_calls: int = 16, duration_s: float = 4.0):
    """Mouse-like calls at 250 kHz: FM sweeps of 4-18 ms between 55 and 85 kHz, 25 dB over
    white noise, among loud low-frequency (2-6 kHz) cage noises that are not calls.
    Returns the signal and the calls' ``(start_s, stop_s)``."""
    y = 0.002 * rng.standard_normal(round(duration_s * USV_SR))
    starts = 0.1 + np.sort(rng.choice(np.arange(0, duration_s - 0.3, 0.2), n_calls, replace=False))
    calls = []
    for start_s in starts:
        length_s = rng.uniform(0.004, 0.018)
        t = np.arange(round(length_s * USV_SR)) / USV_SR
        f0, f1 = rng.uniform(55e3, 85e3, 2)
        phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * length_s))
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.0005)
        start = round(start_s * USV_SR)
        y[start : start + len(t)] += 0.05 * ramp * np.sin(phase)
        calls.append((start / USV_SR, (start + len(t)) / USV_SR))
    for start_s in starts[::3] + 0.1:  # cage noise between calls, 20 dB louder than them
        t = np.arange(round(0.03 * USV_SR)) / USV_SR
        start = round(start_s * USV_SR)
        y[start : start + len(t)] += 0.5 * np.sin(2 * np.pi * rng.uniform(2e3, 6e3) * t)
    return y.astype(np.float32), np.array(calls)


def _recall_precision(found: np.ndarray, truth: np.ndarray, tol_s: float) -> tuple[float, float]:
    hits = sum(
        np.any((np.abs(found[:, 0] - a) <= tol_s) & (np.abs(found[:, 1] - b) <= tol_s))
        for a, b in truth
    )
    return hits / len(truth), hits / max(len(found), 1)


def test_rodent_preset_finds_short_ultrasonic_calls_that_the_defaults_drop(tmp_path, rng):
    y, calls = ultrasonic_calls(rng)
    path = write_audio(tmp_path / "usv.wav", y, USV_SR, subtype="FLOAT")
    with_band = detect_recording(Amplitude(low_hz=30000, high_hz=110000), path)
    recall, _ = _recall_precision(with_band[["start_s", "stop_s"]].to_numpy(), calls, 0.003)
    assert recall < 0.5  # the 20 ms minimum duration drops most calls
    found = detect_recording(preset_detector("rodent-usv"), path)[["start_s", "stop_s"]]
    recall, precision = _recall_precision(found.to_numpy(), calls, 0.003)
    assert recall >= 0.95 and precision >= 0.95, (recall, precision)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_names_a_source_for_each_value(name):
    preset = PRESETS[name]
    detector = preset_detector(name)
    assert detector.name == preset.method
    for key, value in preset.params.items():
        assert getattr(detector, key) == value
        assert preset.sources.get(key), f"{name}: no source for {key}"
    assert set(preset.sources) <= set(preset.params)


@pytest.mark.parametrize(
    ("name", "sr"), [("songbird", 32000), ("fly", 2500), ("rodent-usv", 250000), ("bat", 96000)]
)
def test_presets_fit_their_animals_sample_rates(name, sr):
    fitted, _ = preset_detector(name).for_rate(sr)
    fitted.check(sr)


def test_explicit_parameters_override_a_preset():
    detector = preset_detector("bat", min_duration_ms=3, high_hz=90000)
    assert detector.min_duration_ms == 3 and detector.high_hz == 90000
    assert detector.low_hz == PRESETS["bat"].params["low_hz"]
    assert preset_detector("fly") == make_detector("time-freq")  # SongExplorer's defaults


def test_bad_presets_are_clear():
    with pytest.raises(ParameterError, match="'owl' is not a detector preset; the presets are bat"):
        preset_detector("owl")
    with pytest.raises(ParameterError, match="--preset fly configures --method time-freq, not"):
        preset_detector("fly", method="amplitude")
    with pytest.raises(ParameterError, match="has no parameter sigma"):
        preset_detector("songbird", sigma=3)
    with pytest.raises(ParameterError, match="low_hz=40000 must be below half the sample rate"):
        preset_detector("rodent-usv").for_rate(48000)[0].check(48000)


@pytest.mark.realdata
def test_songbird_preset_on_bengalese_finch_song():
    """gy6or6 (10 songs, held out from every choice): boundary F1 within 10 ms 0.939,
    598 segments for 601 syllables (benchmarks/detect_boundaries.py)."""
    folder = data_folder("bengalese-finch-gy6or6")
    detector = preset_detector("songbird")
    refs, preds = [], []
    for song in sorted(folder.glob("*.cbin")):
        ref = read_events(song.with_name(song.name + ".not.mat"))
        refs.append(ref.assign(recording=song.name, label="syllable", channel=0))
        found = detect_recording(detector, song, channels=[0], name=song.name)
        preds.append(found.assign(label="syllable"))
    ref, pred = pd.concat(refs, ignore_index=True), pd.concat(preds, ignore_index=True)
    hits = len(match_events(ref, pred, tolerance_s=0.01))
    assert 2 * hits / (len(ref) + len(pred)) >= 0.9
