"""Frame labels, frame error rate, segment accuracy and scores against sparse annotation."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.errors import ParameterError
from sonotype.evaluate import (
    SEGMENT_COLUMNS,
    SPARSE_KEYS,
    frame_error_rate,
    frame_labels,
    segment_accuracy,
    sparse_scores,
)
from tests.evaluate._tables import joined, points, spans


def test_doctests():
    module = importlib.import_module("sonotype.evaluate.frames")
    assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


# -- frame_labels ---------------------------------------------------------------------------


def test_frame_labels_later_starting_interval_wins():
    ev = spans([(0.0, 1.0), (0.2, 0.4), (0.3, 0.6)], label=["A", "B", "C"])
    ev = joined(ev, points([0.75], label="P"))  # points cover no frame
    labels = frame_labels(ev, duration_s=1.0, step_s=0.1, background="-")
    assert labels.tolist() == ["A", "A", "B", "C", "C", "C", "A", "A", "A", "A"]
    # Equal starts: the later row wins.
    tied = spans([(0.0, 0.2), (0.0, 0.1)], label=["x", "y"])
    assert frame_labels(tied, duration_s=0.3, step_s=0.1).tolist() == ["y", "x", "background"]


@pytest.mark.parametrize(("duration_s", "n"), [(0.35, 4), (0.3, 3), (1.1, 11), (0.05, 1)])
def test_frame_count_is_the_ceiling_of_duration_over_step(duration_s, n):
    labels = frame_labels(spans([(0.0, 0.01)]).iloc[:0], duration_s=duration_s, step_s=0.1)
    assert labels.tolist() == ["background"] * n


def test_frame_labels_clip_events_past_the_end():
    ev = spans([(0.25, 5.0)])
    assert frame_labels(ev, duration_s=0.4, step_s=0.1).tolist() == [
        "background",
        "background",
        "a",
        "a",
    ]


def naive_frame_labels(events, duration_s, step_s, background):
    n = math.ceil(duration_s / step_s - 1e-9)
    rows = sorted(
        (r for r in events.itertuples() if r.stop_s > r.start_s),
        key=lambda r: r.start_s,
    )
    out = []
    for j in range(n):
        t = (j + 0.5) * step_s
        inside = [r.label for r in rows if r.start_s <= t < r.stop_s]
        out.append(inside[-1] if inside else background)
    return out


@pytest.mark.parametrize("overlapping", [False, True])
def test_frame_labels_agree_with_a_per_frame_loop(rng, overlapping):
    for _ in range(10):
        n = int(rng.integers(1, 40))
        if overlapping:
            start = rng.uniform(0, 9, n).round(4)
            stop = start + rng.uniform(0, 2, n).round(4)
        else:
            bounds = np.sort(rng.choice(np.arange(1, 10000), 2 * n, replace=False)) / 1000
            start, stop = bounds[0::2], bounds[1::2]
        ev = make_events("r.wav", start, stop, rng.choice(["a", "b", "c"], n))
        got = frame_labels(ev, duration_s=10.0, step_s=0.01, background="bg")
        assert got.tolist() == naive_frame_labels(ev, 10.0, 0.01, "bg")


def test_frame_labels_errors():
    ev = joined(spans([(0.0, 1.0)]), spans([(0.0, 1.0)], recording="b.wav"))
    with pytest.raises(ParameterError, match=r"events holds 2 recordings.*one recording"):
        frame_labels(ev, duration_s=1.0, step_s=0.1)
    ev = joined(spans([(0.0, 1.0)]), spans([(0.0, 1.0)], channel=1))
    with pytest.raises(ParameterError, match=r"events holds 2 channels"):
        frame_labels(ev, duration_s=1.0, step_s=0.1)
    with pytest.raises(ParameterError, match=r"step_s=0 must be a number of seconds > 0"):
        frame_labels(spans([(0.0, 1.0)]), duration_s=1.0, step_s=0)
    with pytest.raises(ParameterError, match=r"duration_s=nan must be"):
        frame_labels(spans([(0.0, 1.0)]), duration_s=math.nan, step_s=0.1)


# -- frame_error_rate -----------------------------------------------------------------------


def test_frame_error_rate_is_zero_for_identical_tables(rng):
    start = rng.uniform(0, 9, 50)
    ref = make_events(rng.choice(["a.wav", "b.wav"], 50), start, start + rng.uniform(0, 1, 50), "s")
    durations = {"a.wav": 10.0, "b.wav": 10.0, "silent.wav": 2.0}
    assert frame_error_rate(ref, ref.copy(), durations_s=durations) == 0.0


def test_frame_error_rate_pools_frames_over_recordings():
    ref = spans([(0.0, 0.5)], recording="a.wav")
    pred = joined(
        spans([(0.0, 0.2), (0.2, 0.5)], label=["b", "a"], recording="a.wav"),  # 2 wrong frames
        spans([(1.0, 1.3)], recording="b.wav"),  # 3 frames where ref has background
        points([0.7], recording="b.wav"),  # points count for nothing
    )
    durations = {"a.wav": 1.0, "b.wav": 3.0}
    assert frame_error_rate(ref, pred, durations_s=durations, step_s=0.1) == 5 / 40
    # A recording without events adds frames of background on which both agree.
    durations["c.wav"] = 1.0
    assert frame_error_rate(ref, pred, durations_s=durations, step_s=0.1) == 5 / 50
    # Swapping the tables changes nothing.
    assert frame_error_rate(pred, ref, durations_s=durations, step_s=0.1) == 5 / 50


def test_frame_error_rate_judges_each_channel_annotated():
    ref = spans([(0.0, 0.5)])
    pred = joined(spans([(0.0, 0.5)]), spans([(0.0, 0.5)], channel=1))
    # Channel 0 agrees (10 frames); channel 1 has 5 frames labelled only in pred.
    assert frame_error_rate(ref, pred, durations_s={"r.wav": 1.0}, step_s=0.1) == 5 / 20


def test_frame_error_rate_errors():
    ref = spans([(0.0, 2.0)], recording="a.wav")
    with pytest.raises(ParameterError, match=r"no duration for recording 'a.wav'"):
        frame_error_rate(ref, ref, durations_s={"b.wav": 3.0})
    with pytest.raises(ParameterError, match=r"durations_s\['a.wav'\]=1.0 .* end at 2 s"):
        frame_error_rate(ref, ref, durations_s={"a.wav": 1.0})
    with pytest.raises(ParameterError, match=r"durations_s=\{\} must map"):
        frame_error_rate(ref, ref, durations_s={})


# -- segment_accuracy -----------------------------------------------------------------------


def test_segment_accuracy_majority_vote():
    ref = spans([(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)], label=["a", "b", "c"])
    pred = spans(
        [(0.0, 0.6), (0.6, 1.0), (1.2, 1.5), (2.0, 2.3)],
        label=["a", "b", "c", "c"],
    )
    table = segment_accuracy(ref, pred, step_s=0.1)
    assert list(table.columns) == list(SEGMENT_COLUMNS)
    # [0, 1]: 6 frames a, 4 b. [1, 2]: 3 frames c, 7 background. [2, 3]: 3 c, 7 background.
    assert table.predicted.tolist() == ["a", "background", "background"]
    assert table.correct.tolist() == [True, False, False]
    assert table.correct.mean() == pytest.approx(1 / 3)
    assert table[["start_s", "stop_s", "label"]].to_numpy().tolist() == [
        [0.0, 1.0, "a"],
        [1.0, 2.0, "b"],
        [2.0, 3.0, "c"],
    ]


def test_segment_accuracy_ties_and_short_intervals():
    ref = joined(
        spans([(0.0, 0.4), (0.52, 0.54)], label=["a", "x"]),
        points([0.2], label="p"),  # reference points are not segments
    )
    pred = spans([(0.0, 0.2), (0.2, 0.4), (0.5, 0.6)], label=["b", "a", "x"])
    table = segment_accuracy(ref, pred, step_s=0.1)
    # A 2-2 tie goes to the label met first; [0.52, 0.54] holds no frame centre, so the
    # frame holding its midpoint (0.53, frame 5) decides.
    assert table.label.tolist() == ["a", "x"]
    assert table.predicted.tolist() == ["b", "x"]


def test_segment_accuracy_keeps_recordings_and_channels_apart():
    ref = joined(
        spans([(0.0, 1.0)], recording="a.wav"),
        spans([(0.0, 1.0)], recording="b.wav"),
        spans([(0.0, 1.0)], recording="b.wav", channel=1),
    )
    pred = joined(spans([(0.0, 1.0)], recording="b.wav", channel=1), spans([(0, 1)], "z"))
    table = segment_accuracy(ref, pred, step_s=0.01)
    assert table.recording.tolist() == ["a.wav", "b.wav", "b.wav"]
    assert table.predicted.tolist() == ["background", "background", "a"]
    assert segment_accuracy(ref.iloc[:0], pred).shape == (0, len(SEGMENT_COLUMNS))


# -- sparse_scores --------------------------------------------------------------------------


def test_sparse_scores_points_count_false_alarms_only_in_negative_stretches():
    ref = joined(
        points([1.0, 2.0, 3.0], label="pulse"),
        spans([(5.0, 6.0)], label="quiet"),
        spans([(10.0, 11.0)], label="quiet", recording="other.wav"),
    )
    pred = joined(
        points([1.003, 2.02, 2.999, 5.5, 6.0, 7.0], label="pulse"),
        points([5.2], label="sine"),  # other labels do not count
        points([10.5], label="pulse", recording="r2.wav"),  # no negatives in that recording
    )
    scores = sparse_scores(ref, pred, label="pulse", negatives=["quiet"], tolerance_s=0.005)
    assert tuple(scores) == SPARSE_KEYS
    # tp: 1.003 and 2.999; fn: 2.0 (2.02 is 20 ms off); fp: 5.5 and 6.0 (closed interval);
    # 2.02, 7.0 and r2.wav's 10.5 lie in unknown time.
    assert (scores["tp"], scores["fp"], scores["fn"], scores["unit"]) == (2, 2, 1, "events")
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(4 / 7)
    # A wider tolerance turns the miss into a hit.
    wide = sparse_scores(ref, pred, label="pulse", negatives="quiet", tolerance_s=0.03)
    assert (wide["tp"], wide["fp"], wide["fn"]) == (3, 2, 0)


def test_sparse_scores_points_with_no_predictions():
    ref = joined(points([1.0], label="pulse"), spans([(2.0, 3.0)], label="quiet"))
    scores = sparse_scores(ref, ref.iloc[:0], label="pulse", negatives="quiet")
    assert (scores["tp"], scores["fp"], scores["fn"]) == (0, 0, 1)
    assert math.isnan(scores["precision"]) and scores["recall"] == 0 and scores["f1"] == 0


def test_sparse_scores_intervals_by_time():
    ref = joined(
        spans([(0.0, 1.0), (2.0, 3.0)], label="song"),
        spans([(0.5, 1.5), (4.0, 6.0)], label="quiet"),
        spans([(0.0, 1.0)], label="song", recording="b.wav"),
    )
    pred = joined(
        spans([(0.5, 2.5), (5.0, 5.25), (8.0, 9.0)], label="song"),
        spans([(4.0, 6.0)], label="call"),  # other labels do not count
        spans([(0.0, 0.25)], label="song", recording="b.wav"),
    )
    scores = sparse_scores(ref, pred, label="song", negatives="quiet")
    # tp: [0.5, 1] + [2, 2.5] + b.wav's [0, 0.25]; fn: [0, 0.5] + [2.5, 3] + b.wav's
    # [0.25, 1]; fp: [1, 1.5] (negative outside the reference) + [5, 5.25]; [8, 9] unknown.
    assert scores["unit"] == "seconds"
    assert scores["tp"] == pytest.approx(1.25)
    assert scores["fn"] == pytest.approx(1.75)
    assert scores["fp"] == pytest.approx(0.75)
    assert scores["precision"] == pytest.approx(1.25 / 2.0)
    assert scores["recall"] == pytest.approx(1.25 / 3.0)
    assert scores["f1"] == pytest.approx(2.5 / 5.0)


def test_sparse_scores_errors():
    ref = joined(points([1.0], label="pulse"), spans([(2.0, 3.0)], label="quiet"))
    with pytest.raises(ParameterError, match=r"label='sine' has no events in ref"):
        sparse_scores(ref, ref, label="sine", negatives="quiet")
    mixed = joined(ref, spans([(4.0, 4.5)], label="pulse"))
    with pytest.raises(ParameterError, match=r"reference events of 'pulse' mix 1 points and 1"):
        sparse_scores(mixed, ref, label="pulse", negatives="quiet")
    with pytest.raises(ParameterError, match=r"are points but the predicted ones are intervals"):
        sparse_scores(ref, spans([(1.0, 2.0)], label="pulse"), label="pulse", negatives="quiet")
    with pytest.raises(ParameterError, match=r"negatives=.* contains label='pulse'"):
        sparse_scores(ref, ref, label="pulse", negatives=["pulse", "quiet"])
    with pytest.raises(ParameterError, match=r"'noise' labels no interval in ref"):
        sparse_scores(ref, ref, label="pulse", negatives=["noise"])
    with pytest.raises(ParameterError, match=r"tolerance_s=-0.1 must be"):
        sparse_scores(ref, ref, label="pulse", negatives="quiet", tolerance_s=-0.1)
