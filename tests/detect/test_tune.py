"""Detector tuning: search spaces, segments, validation by recording, and the known answer
on ultrasonic calls that the defaults miss."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sonotype.annotations import concat_events, make_events
from sonotype.audio import write_audio
from sonotype.detect import make_detector
from sonotype.detect.spaces import AnnotationSummary, amplitude_space, time_freq_space
from sonotype.detect.tune import TuneRecording, _folds, pooled_f1, segments_of, tune_detector
from sonotype.errors import ParameterError
from sonotype.synth.usv import usv

SR = 250000


def _usv_recordings(folder, n, duration_s):
    recordings, tables = [], []
    for i in range(n):
        name = f"mouse{i}.wav"
        y, events = usv(duration_s, recording=name, random_state=40 + i)
        write_audio(folder / name, y, SR)
        recordings.append(TuneRecording(name, folder / name, SR))
        tables.append(events)
    return recordings, concat_events(tables)


@pytest.mark.slow
def test_tuning_finds_ultrasonic_calls_on_recordings_it_did_not_tune_on(tmp_path):
    recordings, truth = _usv_recordings(tmp_path, 4, 2.5)
    calls: list[tuple[int, int]] = []
    result = tune_detector(
        "amplitude",
        recordings,
        truth,
        n_trials=15,
        n_folds=2,
        seed=0,
        workers=1,
        progress=lambda done, total: calls.append((done, total)),
    )
    overall = result.scores.iloc[-1]
    # The defaults listen at 0.5-10 kHz: they find (almost) none of the calls.
    assert overall["before_recall"] < 0.5
    assert result.cross_validated and result.n_folds == 2
    # Every recording's "after" comes from the search on the other fold.
    assert set(result.scores["fold"].iloc[:-1]) == {0, 1}
    assert result.after_f1 >= 0.95
    assert (result.scores["after_f1"].iloc[:-1] >= 0.8).all()
    assert result.params["low_hz"] > 10000 and result.params["threshold_mode"] == "noise"
    assert calls[-1] == (3 * 15 + 1, 3 * 15 + 1)
    # The chosen parameters run as they are.
    make_detector("amplitude", **result.params).check(SR)


def test_folds_hold_whole_recordings_and_follow_the_seed():
    names = [f"r{i}" for i in range(7)]
    folds = _folds(names, 3, seed=1)
    assert sorted(n for fold in folds for n in fold) == names and len(folds) == 3
    assert [len(f) for f in folds] == [3, 2, 2]
    assert _folds(names, 3, seed=1) == folds and _folds(names, 3, seed=2) != folds
    assert len(_folds(names[:2], 5, seed=0)) == 2


def test_segments_merge_labels_and_become_points():
    events = make_events(
        ["a.wav"] * 4 + ["b.wav"],
        [0.0, 0.5, 0.9, 3.0, 0.2],
        [1.0, 0.8, 1.5, 3.2, 0.4],
        ["time", "frequency", "time", "neither", "time"],
    )
    merged = segments_of(events, labels=["time", "frequency"])
    assert merged[["recording", "start_s", "stop_s"]].to_records(index=False).tolist() == [
        ("a.wav", 0.0, 1.5),
        ("b.wav", 0.2, 0.4),
    ]
    assert set(merged["label"]) == {"segment"}
    points = segments_of(events, labels=["time"], points=True)
    assert points["start_s"].tolist() == pytest.approx([0.75, 0.3])
    assert (points["start_s"] == points["stop_s"]).all()
    assert segments_of(events, labels=["absent"]).empty


def test_pooled_f1():
    from sonotype.detect.tune import Counts

    assert pooled_f1([Counts(4, 4, 3), Counts(2, 0, 0)]) == pytest.approx(6 / 10)
    assert pooled_f1([Counts(4, 4, 4), None]) == 0.0
    assert math.isnan(pooled_f1([Counts(0, 0, 0)]))


def test_amplitude_space_follows_the_rate_and_the_annotations():
    calls = make_events(
        "m.wav",
        np.arange(20) * 0.2,
        np.arange(20) * 0.2 + np.linspace(0.01, 0.1, 20),
        "usv",
        low_hz=np.full(20, 40000.0),
        high_hz=np.full(20, 90000.0),
    )
    summary = AnnotationSummary.of(calls)
    assert summary.band_hz == pytest.approx((40000.0, 90000.0))
    assert 10 < summary.duration_ms_p5 < 20 and summary.gap_ms_p5 > 90
    space = amplitude_space(sr=SR, summary=summary)
    ranges = {d.name: (d.low, d.high) for d in space.dimensions}
    assert ranges["low_hz"] == pytest.approx((10000.0, 40000.0))
    assert ranges["high_hz"] == pytest.approx((90000.0, 0.98 * SR / 2))
    assert ranges["min_duration_ms"][1] == pytest.approx(summary.duration_ms_p5)
    start = space.start_point()
    assert start["low_hz"] == pytest.approx(10000.0) and start["high_hz"] == pytest.approx(90000)
    params = space.to_params({**start, "offset_ratio": 0.5})
    assert params["onset_threshold"] == 20.0 and params["offset_threshold"] == 10.0
    make_detector("amplitude", **params).check(SR)
    # Without bands, the ranges are fractions of the Nyquist frequency, valid at any rate.
    plain = AnnotationSummary.of(calls.drop(columns=["low_hz", "high_hz"]))
    for sr in (2500, 32000, 500000):
        space = amplitude_space(sr=sr, summary=plain)
        for corner in (0.0, 1.0):
            values = {d.name: d.low + corner * (d.high - d.low) for d in space.dimensions}
            make_detector("amplitude", **space.to_params(values)).check(sr)


def test_time_freq_space_gives_power_of_two_windows():
    pulses = make_events("f.wav", np.arange(10) * 0.04, np.arange(10) * 0.04, "pulse")
    summary = AnnotationSummary.of(pulses)
    assert summary.points
    for sr in (2500, 44100, 250000):
        space = time_freq_space(sr=sr, summary=summary)
        for corner in (0.0, 1.0):
            values = {d.name: d.low + corner * (d.high - d.low) for d in space.dimensions}
            make_detector("time-freq", **space.to_params(values)).check(sr)


def test_bad_inputs_are_refused(tmp_path):
    recordings, truth = _usv_recordings(tmp_path, 1, 0.5)
    with pytest.raises(ParameterError, match="no annotated recordings"):
        tune_detector("amplitude", [], truth)
    with pytest.raises(ParameterError, match="none of the 1 recordings has annotated events"):
        tune_detector("amplitude", recordings, truth.assign(recording="other.wav"))
    with pytest.raises(ParameterError, match="n_trials=0 must be an integer >= 1"):
        tune_detector("amplitude", recordings, truth, n_trials=0)
    with pytest.raises(ParameterError, match="n_folds=1 must be an integer >= 2"):
        tune_detector("amplitude", recordings, truth, n_folds=1)
    with pytest.raises(ParameterError, match="unknown detector 'loud'"):
        tune_detector("loud", recordings, truth)


def test_a_single_recording_is_tuned_in_sample(tmp_path):
    recordings, truth = _usv_recordings(tmp_path, 1, 1.0)
    result = tune_detector("amplitude", recordings, truth, n_trials=3, workers=1)
    assert not result.cross_validated and result.n_folds == 0
    assert result.scores["recording"].tolist() == ["mouse0.wav", "(all)"]
    assert result.fold_params == [result.params]


def test_point_annotations_are_matched_at_the_detections_midpoints(tmp_path):
    from sonotype.detect.tune import score_recording
    from sonotype.synth import flysong

    y, events = flysong(6, recording="fly.wav", random_state=0)
    write_audio(tmp_path / "fly.wav", y, 2500)
    pulses = segments_of(events[events["label"] == "pulse"], points=True)
    recording = TuneRecording("fly.wav", tmp_path / "fly.wav", 2500)
    counts = score_recording(
        "time-freq", {}, recording, pulses, tolerance_s=0.01, segment_labels=("time", "frequency")
    )
    assert counts.n_ref == len(pulses) > 5
    assert counts.hits >= 0.9 * counts.n_ref
    # The tolerance decides: at 0 ms the midpoints, near but not at the pulses, rarely match.
    assert (
        score_recording(
            "time-freq", {}, recording, pulses, tolerance_s=0.0, segment_labels=("time",)
        ).hits
        < counts.hits
    )
