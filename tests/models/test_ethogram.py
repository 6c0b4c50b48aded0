"""Thresholding per-frame probabilities into an ethogram (Events table)."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pytest

from sonotype.annotations import REQUIRED_COLUMNS, validate_events
from sonotype.errors import ParameterError
from sonotype.models.ethogram import ethogram

STEP = 0.01


def trace(n, on, value=0.9, off=0.1):
    """A probability trace of ``n`` frames: ``value`` at the frames in ``on``, else ``off``."""
    p = np.full(n, off)
    p[list(on)] = value
    return p


def one(p, **kwargs):
    """The ethogram of one interval label "a" with threshold 0.5."""
    params = {"labels": ["a"], "step_s": STEP, "thresholds": {"a": 0.5}, "recording": "r.wav"}
    return ethogram(np.asarray(p)[:, None], **{**params, **kwargs})


def spans(events):
    return [(round(a, 9), round(b, 9)) for a, b in zip(events.start_s, events.stop_s, strict=True)]


def test_doctests():
    module = importlib.import_module("sonotype.models.ethogram")
    assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_runs_become_events_spanning_their_frames():
    p = trace(12, [2, 3, 4, 8])
    p[3], p[8] = 0.95, 0.5  # a frame exactly at the threshold is on
    ev = one(p)
    assert spans(ev) == [(0.015, 0.045), (0.075, 0.085)]
    assert ev.score.tolist() == [0.95, 0.5]
    assert set(ev.kind) == {"predicted"} and set(ev.source) == {"model"}
    assert set(ev.label) == {"a"} and set(ev.recording) == {"r.wav"}
    assert list(ev.columns) == [*REQUIRED_COLUMNS, "score"]
    validate_events(ev)  # a valid Events table


def test_events_are_clipped_to_the_recording():
    p = trace(10, [0, 1, 8, 9])
    assert spans(one(p)) == [(0.0, 0.015), (0.075, 0.095)]
    assert spans(one(p, duration_s=0.092)) == [(0.0, 0.015), (0.075, 0.092)]
    # A run entirely after the end of the recording is dropped, not squashed to a point.
    assert spans(one(p, duration_s=0.01)) == [(0.0, 0.01)]


def test_min_gap_closes_only_the_shorter_gaps():
    # Runs at frames 0-1, 3-4 and 10-11: gaps of 1 frame (0.01 s) and 5 frames (0.05 s).
    p = trace(14, [0, 1, 3, 4, 10, 11])
    assert spans(one(p)) == [(0.0, 0.015), (0.025, 0.045), (0.095, 0.115)]
    merged = one(p, min_gap_s=0.02)
    assert spans(merged) == [(0.0, 0.045), (0.095, 0.115)]
    # A gap exactly as long as min_gap_s is not shorter than it: it stays open.
    assert len(one(p, min_gap_s=0.01)) == 3
    assert spans(one(p, min_gap_s=0.051)) == [(0.0, 0.115)]


def test_min_duration_drops_short_events_after_gaps_are_closed():
    # Single frames at 2 and 4 (gap 1 frame) merge into 0.03 s; frame 9 stays 0.01 s alone.
    p = trace(12, [2, 4, 9])
    ev = one(p, min_gap_s=0.015, min_duration_s=0.025)
    assert spans(ev) == [(0.015, 0.045)]
    # Without gap closing every event is 0.01 s: all are dropped, leaving an empty table.
    empty = one(p, min_duration_s=0.025)
    assert len(empty) == 0 and list(empty.columns) == [*REQUIRED_COLUMNS, "score"]
    # An event exactly min_duration_s long is kept.
    assert len(one(p, min_duration_s=0.01)) == 3


def test_score_is_the_maximum_over_the_merged_event():
    p = trace(10, [1, 2, 5])
    p[2], p[5] = 0.7, 0.99
    ev = one(p, min_gap_s=0.05)
    assert spans(ev) == [(0.005, 0.055)] and ev.score.tolist() == [0.99]


def naive_runs(p, threshold, step_s, min_gap_s, min_duration_s):
    """Per-frame loop reference for interval events."""
    runs, current = [], None
    for j, value in enumerate(p):
        if value >= threshold:
            current = [j, j + 1] if current is None else [current[0], j + 1]
        elif current is not None:
            runs.append(current)
            current = None
    if current is not None:
        runs.append(current)
    merged = []
    for run in runs:
        if merged and (run[0] - merged[-1][1]) * step_s < min_gap_s - 1e-9:
            merged[-1][1] = run[1]
        else:
            merged.append(list(run))
    out = []
    for first, last in merged:
        start, stop = max(0.0, (first - 0.5) * step_s), (last - 0.5) * step_s
        if stop - start >= min_duration_s - 1e-9:
            out.append((start, stop, max(p[first:last])))
    return out


@pytest.mark.parametrize(("min_gap_s", "min_duration_s"), [(0.0, 0.0), (0.03, 0.0), (0.02, 0.04)])
def test_intervals_agree_with_a_per_frame_loop(rng, min_gap_s, min_duration_s):
    p = rng.random(3000)
    ev = one(p, min_gap_s=min_gap_s, min_duration_s=min_duration_s)
    expected = naive_runs(p, 0.5, STEP, min_gap_s, min_duration_s)
    assert len(ev) == len(expected) > 10
    np.testing.assert_allclose(ev[["start_s", "stop_s", "score"]].to_numpy(), expected)


def test_point_peaks_are_refined_to_the_true_sub_frame_time():
    step = 0.001
    t = np.arange(400) * step
    parabola_at = [0.0523, 0.1807, 0.3000]  # between frames, and on a frame
    p = np.zeros_like(t)
    for t0 in parabola_at:
        p = np.maximum(p, 0.95 - ((t - t0) / 0.004) ** 2)
    ev = ethogram(
        np.clip(p, 0, 1)[:, None],
        labels=["pulse"],
        step_s=step,
        thresholds={"pulse": 0.5},
        recording="fly.wav",
        point_labels=["pulse"],
    )
    assert (ev.start_s == ev.stop_s).all()
    # Three samples of a parabola determine it: the vertex is exact.
    np.testing.assert_allclose(ev.start_s, parabola_at, atol=1e-12)
    np.testing.assert_allclose(
        ev.score,
        0.95 - ((np.round(np.array(parabola_at) / step) * step - parabola_at) / 0.004) ** 2,
    )


def test_gaussian_pulses_are_located_within_a_small_fraction_of_a_step(rng):
    step = 0.001
    t = np.arange(5000) * step
    true = np.sort(rng.uniform(0.05, 4.95, 40))
    true = true[np.r_[True, np.diff(true) > 0.03]]
    p = np.zeros_like(t)
    for t0 in true:
        p += 0.9 * np.exp(-0.5 * ((t - t0) / 0.003) ** 2)
    ev = ethogram(
        p[:, None],
        labels=["pulse"],
        step_s=step,
        thresholds={"pulse": 0.5},
        recording="fly.wav",
        point_labels=["pulse"],
    )
    np.testing.assert_allclose(ev.start_s, true, atol=0.02 * step)
    assert np.abs(ev.start_s - np.round(true / step) * step).max() > 0.2 * step  # sub-frame


def test_min_separation_keeps_the_higher_of_close_peaks():
    p = np.zeros(100)
    p[[20, 25, 60]] = [0.8, 0.9, 0.7]
    p[[19, 21, 24, 26, 59, 61]] = 0.3  # symmetric neighbours: peaks lie on the frames
    kwargs = {
        "labels": ["pulse"],
        "step_s": 0.001,
        "thresholds": {"pulse": 0.5},
        "recording": "fly.wav",
        "point_labels": ["pulse"],
    }
    ev = ethogram(p[:, None], min_separation_s=0.01, **kwargs)
    np.testing.assert_allclose(ev.start_s, [0.025, 0.060])
    assert ev.score.tolist() == [0.9, 0.7]
    close = ethogram(p[:, None], min_separation_s=0.004, **kwargs)
    np.testing.assert_allclose(close.start_s, [0.020, 0.025, 0.060])
    # Below the threshold no peak counts.
    assert len(ethogram(p[:, None], **{**kwargs, "thresholds": {"pulse": 0.95}})) == 0


def test_several_labels_sorted_by_time_and_unthresholded_labels_skipped():
    n = 50
    sine = trace(n, range(20, 30))
    pulse = np.zeros(n)
    pulse[[9, 10, 11, 39, 40, 41]] = [0.5, 1.0, 0.5, 0.6, 0.8, 0.6]
    other = np.ones(n)
    ev = ethogram(
        np.stack([other, sine, pulse], axis=1).astype(np.float32),
        labels=["other", "sine", "pulse"],
        step_s=STEP,
        thresholds={"sine": 0.5, "pulse": 0.5},
        point_labels=["pulse"],
        recording="fly.wav",
        source="net-7",
        channel=2,
    )
    assert ev.label.tolist() == ["pulse", "sine", "pulse"]
    np.testing.assert_allclose(ev.start_s, [0.10, 0.195, 0.40])
    assert set(ev.source) == {"net-7"} and set(ev.channel) == {2}
    assert ev.score.dtype == np.float64


def test_threshold_zero_and_one():
    p = np.array([0.0, 0.3, 1.0, 0.2])
    assert spans(one(p, thresholds={"a": 0.0})) == [(0.0, 0.035)]
    assert spans(one(p, thresholds={"a": 1.0})) == [(0.015, 0.025)]


@pytest.mark.parametrize("value", [math.nan, -0.1, 1.5, "high", None])
def test_bad_thresholds_name_the_label(value):
    with pytest.raises(ParameterError, match=r"thresholds\['a'\]=.* must be a number in \[0, 1\]"):
        one(np.zeros(5), thresholds={"a": value})


def test_parameter_errors():
    p = np.zeros((10, 2))
    base = {"labels": ["a", "b"], "step_s": STEP, "thresholds": {"a": 0.5}, "recording": "r"}
    with pytest.raises(ParameterError, match=r"thresholds names label 'c'"):
        ethogram(p, **{**base, "thresholds": {"c": 0.5}})
    with pytest.raises(ParameterError, match=r"must map labels to thresholds"):
        ethogram(p, **{**base, "thresholds": 0.5})
    with pytest.raises(ParameterError, match=r"labels has 1 names for the 2 columns"):
        ethogram(p, **{**base, "labels": ["a"]})
    with pytest.raises(ParameterError, match=r"repeats 'a'"):
        ethogram(p, **{**base, "labels": ["a", "a"]})
    with pytest.raises(ParameterError, match=r"2-D float array .* p\[:, None\]"):
        ethogram(np.zeros(10), **{**base, "labels": ["a"]})
    with pytest.raises(ParameterError, match=r"step_s=0 must be a number of seconds > 0"):
        ethogram(p, **{**base, "step_s": 0})
    with pytest.raises(
        ParameterError, match=r"min_gap_s=-1 must be a number of seconds >= 0; the default is 0"
    ):
        ethogram(p, **base, min_gap_s=-1)
    with pytest.raises(ParameterError, match=r"duration_s=0 must be"):
        ethogram(p, **base, duration_s=0)
    with pytest.raises(ParameterError, match=r"point_labels=.*'x' not in labels"):
        ethogram(p, **base, point_labels=["x"])
    with pytest.raises(ParameterError, match=r"channel=-1 must be an integer >= 0"):
        ethogram(p, **base, channel=-1)
    with pytest.raises(ParameterError, match=r"recording='' must be a non-empty str"):
        ethogram(p, **{**base, "recording": ""})
    bad = p.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ParameterError, match=r"probabilities\[3\] of label 'a' is nan"):
        ethogram(bad, **base)
    # A NaN in a column that is not thresholded does not matter.
    bad = p.copy()
    bad[3, 1] = np.nan
    assert len(ethogram(bad, **base)) == 0


def test_exclusive_labels_are_on_only_where_they_are_the_most_probable():
    # Both labels pass 0.3 at frames 1-3, but b wins frame 2 only: no overlapping intervals.
    p = np.array([[0.9, 0.1], [0.6, 0.4], [0.35, 0.65], [0.6, 0.4], [0.9, 0.1]])
    thresholds = {"a": 0.3, "b": 0.3}
    both = ethogram(p, labels=["a", "b"], step_s=1.0, thresholds=thresholds, recording="r")
    assert sorted(both["label"]) == ["a", "b"]
    b = both[both["label"] == "b"].iloc[0]
    assert (b["start_s"], b["stop_s"]) == (0.5, 3.5)
    one = ethogram(
        p, labels=["a", "b"], step_s=1.0, thresholds=thresholds, recording="r", exclusive=True
    )
    spans = one[["start_s", "stop_s", "label"]].to_records(index=False).tolist()
    assert spans == [(0.0, 1.5, "a"), (1.5, 2.5, "b"), (2.5, 4.5, "a")]


def test_min_gap_and_duration_per_label():
    # Two labels with the same runs: frames 0-1 and 3-4 (a 1-frame gap), and 8 alone.
    p = np.stack([trace(12, [0, 1, 3, 4, 8])] * 2, axis=1)
    params = {"labels": ["a", "b"], "step_s": STEP, "thresholds": {"a": 0.5, "b": 0.5},
              "recording": "r.wav"}  # fmt: skip
    ev = ethogram(p, **params, min_gap_s={"a": 0.015}, min_duration_s={"b": 0.015})
    assert spans(ev[ev.label == "a"]) == [(0.0, 0.045), (0.075, 0.085)]
    assert spans(ev[ev.label == "b"]) == [(0.0, 0.015), (0.025, 0.045)]
    with pytest.raises(ParameterError, match="min_gap_s names label 'z'"):
        ethogram(p, **params, min_gap_s={"z": 0.01})
    with pytest.raises(ParameterError, match=r"min_duration_s\['a'\]"):
        ethogram(p, **params, min_duration_s={"a": -1})


def test_majority_vote_gives_each_segment_the_label_most_of_its_frames_have():
    # Frames 1-6: a a b a a a (a syllable the network hesitated on); 9-11: b b a.
    n = 14
    a, b = np.full(n, 0.05), np.full(n, 0.05)
    a[[1, 2, 4, 5, 6, 11]] = 0.9
    b[[3, 9, 10]] = 0.9
    background = 1 - np.maximum(a, b)
    p = np.stack([a, b, background], axis=1)
    params = {"labels": ["a", "b", "bg"], "step_s": STEP, "thresholds": {"a": 0.5, "b": 0.5},
              "recording": "r.wav", "exclusive": True}  # fmt: skip
    plain = ethogram(p, **params)
    assert plain.label.tolist() == ["a", "b", "a", "b", "a"]
    voted = ethogram(p, **params, majority_vote=True)
    assert voted.label.tolist() == ["a", "b"]
    assert spans(voted) == [(0.005, 0.065), (0.085, 0.115)]
    assert voted.score.tolist() == [0.9, 0.9]
    # Gap closing and minimum duration apply to the segments before they are voted.
    assert len(ethogram(p, **params, majority_vote=True, min_gap_s=0.03)) == 1
    assert ethogram(p, **params, majority_vote=True, min_duration_s=0.04).label.tolist() == ["a"]
    with pytest.raises(ParameterError, match="single numbers"):
        ethogram(p, **params, majority_vote=True, min_gap_s={"a": 0.01, "b": 0.02})


def _old_run_frames(on, step_s, min_gap_s):
    """The run finder ethogram used before :mod:`sonotype.intervals` (kept as the reference
    the new one must agree with): gaps compared in seconds."""
    edges = np.flatnonzero(on[1:] != on[:-1]) + 1
    if len(on) and on[0]:
        edges = np.concatenate(([0], edges))
    if len(on) and on[-1]:
        edges = np.concatenate((edges, [len(on)]))
    first, last = edges[0::2], edges[1::2]
    if len(first) > 1 and min_gap_s > 0:
        gap_s = (first[1:] - last[:-1]) * step_s
        new = np.concatenate(([True], gap_s >= min_gap_s - 1e-9))
        first, last = first[new], last[np.concatenate((new[1:], [True]))]
    return first, last


def test_runs_and_gap_closing_agree_with_the_seconds_rule_at_exact_boundaries(rng):
    from sonotype.models.ethogram import _run_frames

    steps = [0.01, 0.001, 1 / 2500, 0.0004, 0.003, 1 / 3, 0.1, 0.7]
    for _ in range(400):
        on = rng.random(int(rng.integers(0, 60))) < rng.uniform(0.2, 0.8)
        step_s = float(rng.choice(steps))
        k = int(rng.integers(0, 8))
        # Gaps of exactly k frames, written as decimal seconds would be, and just around them.
        for min_gap_s in (k * step_s, round(k * step_s, 6), k * step_s + 1e-9,
                          k * step_s - 1e-9, k * step_s + 2e-9, k * step_s - 1.5e-9,
                          float(rng.uniform(0, 8 * step_s)), 1e-10):  # fmt: skip
            want = _old_run_frames(on, step_s, min_gap_s)
            got = _run_frames(on, step_s, min_gap_s)
            assert [g.tolist() for g in got] == [w.tolist() for w in want], (on, step_s, min_gap_s)
