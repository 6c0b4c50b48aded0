"""The time-freq detector: known answers, block-wise identity, parameters, real fly song."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.annotations import read_events
from sonotype.audio import write_audio
from sonotype.detect import detect_recording, make_detector
from sonotype.errors import ParameterError
from sonotype.synth import flysong
from tests.fixtures.shared import data_folder

SR = 2500


@pytest.fixture
def fly(tmp_path):
    y, truth = flysong(40, sr=SR, snr_db=20, recording="fly.wav", random_state=4)
    write_audio(tmp_path / "fly.wav", y, SR, subtype="FLOAT")
    return tmp_path / "fly.wav", truth


def test_finds_pulses_in_time_and_sine_in_frequency(fly):
    path, truth = fly
    events = detect_recording(make_detector("time-freq"), path)
    assert set(events["label"]) == {"time", "frequency", "neither"}
    assert (events["kind"] == "detected").all() and (events["source"] == "time-freq").all()
    time = events[events["label"] == "time"][["start_s", "stop_s"]].to_numpy()
    pulses = truth[truth["label"] == "pulse"]["start_s"].to_numpy()
    inside = [np.any((time[:, 0] <= p) & (p <= time[:, 1])) for p in pulses]
    assert np.mean(inside) > 0.95
    freq = events[events["label"] == "frequency"][["start_s", "stop_s"]].to_numpy()
    sines = truth[truth["label"] == "sine"][["start_s", "stop_s"]].to_numpy()
    covered = [sum(max(0.0, min(b, d) - max(a, c)) for c, d in freq) / (b - a) for a, b in sines]
    assert np.mean(covered) > 0.6
    # 'neither' is background by both criteria: it holds no pulse.
    neither = events[events["label"] == "neither"][["start_s", "stop_s"]].to_numpy()
    assert not any(np.any((neither[:, 0] < p) & (p < neither[:, 1])) for p in pulses)


@pytest.mark.parametrize("block_s", [0.0713, 1.3, 7.77])
@pytest.mark.parametrize("robust", ["median", "mean"])
def test_block_wise_equals_whole_file(fly, block_s, robust):
    path, _ = fly
    detector = make_detector("time-freq", time_robust=robust)
    whole = detect_recording(detector, path, block_s=float("inf"))
    blocks = detect_recording(detector, path, block_s=block_s)
    assert len(whole) > 100
    assert blocks.equals(whole)


def test_white_noise_is_mostly_neither(tmp_path):
    rng = np.random.default_rng(0)
    write_audio(tmp_path / "hiss.wav", 0.01 * rng.standard_normal(SR * 10), SR, subtype="FLOAT")
    events = detect_recording(make_detector("time-freq"), tmp_path / "hiss.wav")
    durations = (events["stop_s"] - events["start_s"]).groupby(events["label"]).sum()
    # 9 MADs is beyond Gaussian noise, and the F-test errs at rate freq_rho per window.
    assert durations.get("time", 0.0) == 0.0
    assert durations.get("frequency", 0.0) < 0.3
    assert durations["neither"] > 9.0


def test_freq_n_must_be_a_power_of_two_when_checked_directly():
    """detect_recording rounds the window to a power of two (test_rates); check() itself, on
    parameters not fitted to the rate, still refuses another length and proposes two."""
    with pytest.raises(
        ParameterError,
        match=r"freq_n_ms=25.6 is 819 samples at 32000 Hz.*try 16 ms \(512 samples\) or 32 ms",
    ):
        make_detector("time-freq").check(32000)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"time_sigma": "9"}, "time_sigma='9' must be two numbers"),
        ({"time_sigma": "-1,4"}, "must be positive"),
        ({"freq_rho": "2,1"}, "two rates in"),
        ({"time_robust": "mode"}, "time_robust='mode' must be one of 'median', 'mean'"),
        ({"freq_range_hz": (1300, 2000)}, r"high <= 1250 Hz"),
        ({"time_smooth_ms": 0}, "time_smooth_ms=0 must be a number > 0"),
    ],
)
def test_bad_parameters(fly, params, match):
    path, _ = fly
    with pytest.raises(ParameterError, match=match):
        detect_recording(make_detector("time-freq", **params), path)


@pytest.mark.parametrize(
    ("name", "min_recall"),
    [("20161207T102314_ch1", 0.93), ("PS_20130625111709_ch3", 0.95)],
)
def test_real_fly_song(name, min_recall):
    folder = data_folder("drosophila-songexplorer")
    events = detect_recording(make_detector("time-freq"), folder / f"{name}.wav")
    truth = read_events(folder / f"{name}.wav-annotated-person1.csv")
    time = events[events["label"] == "time"][["start_s", "stop_s"]].to_numpy()
    pulses = truth[truth["label"] == "mel-pulse"]["start_s"].to_numpy()
    recall = np.mean([np.any((time[:, 0] <= p) & (p <= time[:, 1])) for p in pulses])
    assert recall >= min_recall
    sound = events[events["label"] != "neither"][["start_s", "stop_s"]].to_numpy()
    ambient = truth[truth["label"] == "ambient"][["start_s", "stop_s"]].to_numpy()
    free = np.mean([not np.any((sound[:, 0] < b) & (sound[:, 1] > a)) for a, b in ambient])
    assert free >= 0.85
