"""One-to-one matching: tolerances, optimal assignment, IoU, groups, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

from sonotype.annotations import empty_events, make_events
from sonotype.errors import ParameterError
from sonotype.evaluate import MATCH_COLUMNS, align_recordings, match_events
from sonotype.evaluate.matching import window_pairs
from tests.evaluate._tables import joined, points, spans


def pairs(matches):
    return list(zip(matches["ref_index"].tolist(), matches["pred_index"].tolist(), strict=True))


def test_exact_hits_and_columns():
    ref = points([0.5, 1.0, 2.0])
    m = match_events(ref, ref)
    assert list(m.columns) == list(MATCH_COLUMNS)
    assert pairs(m) == [(0, 0), (1, 1), (2, 2)]
    assert (m["onset_error_s"] == 0).all()
    assert m["offset_error_s"].isna().all()  # points have no offset
    assert m["iou"].isna().all()


@pytest.mark.parametrize(
    ("pred_s", "hit"),
    [
        (1.01, True),  # exactly the tolerance, although 1.01 - 1.0 > 0.01 in floating point
        (0.99, True),
        (1.0099, True),
        (1.0101, False),
        (0.9899, False),
    ],
)
def test_tolerance_just_inside_and_just_outside(pred_s, hit):
    m = match_events(points([1.0]), points([pred_s]), tolerance_s=0.01)
    assert len(m) == int(hit)


def test_zero_tolerance_matches_identical_times_only():
    assert len(match_events(points([1.0]), points([1.0]), tolerance_s=0)) == 1
    assert len(match_events(points([1.0]), points([1.0001]), tolerance_s=0)) == 0


def test_duplicate_prediction_is_one_hit_and_one_false_alarm():
    m = match_events(points([1.0]), points([1.004, 0.998]), tolerance_s=0.01)
    assert pairs(m) == [(0, 1)]  # the closer one
    assert m["onset_error_s"].iloc[0] == pytest.approx(-0.002)


def test_assignment_beats_naive_greedy():
    # Greedy (closest pair first) takes (10 ms, 6 ms) and strands the other two.
    ref, pred = points([0.0, 0.010]), points([0.006, 0.016])
    m = match_events(ref, pred, tolerance_s=0.010)
    assert pairs(m) == [(0, 0), (1, 1)]


def test_assignment_minimises_total_error_among_maximal_matchings():
    ref, pred = points([0.0, 0.004]), points([0.005, 0.003])
    m = match_events(ref, pred, tolerance_s=0.01)
    # (0 -> 3 ms, 4 -> 5 ms) costs 4 ms in all; the other pairing costs 6 ms.
    assert pairs(m) == [(0, 1), (1, 0)]


def test_intervals_need_onset_and_offset_within_tolerance():
    ref = spans([(1.0, 2.0)])
    assert len(match_events(ref, spans([(1.005, 2.008)]), tolerance_s=0.01)) == 1
    late_offset = spans([(1.005, 2.05)])
    assert len(match_events(ref, late_offset, tolerance_s=0.01)) == 0
    assert len(match_events(ref, late_offset, tolerance_s=0.01, offset_tolerance_s=0.05)) == 1
    m = match_events(ref, late_offset, tolerance_s=0.01, offset_tolerance_s=math.inf)
    assert m[["onset_error_s", "offset_error_s"]].to_numpy()[0] == pytest.approx([0.005, 0.05])
    assert m["iou"].iloc[0] == pytest.approx(0.995 / 1.05)


def test_point_against_interval_uses_onset_and_offset():
    ref = spans([(1.0, 1.004)])
    assert len(match_events(ref, points([1.001], label="a"), tolerance_s=0.01)) == 1
    assert len(match_events(spans([(1.0, 1.5)]), points([1.0], label="a"))) == 0


def test_iou_matching():
    ref = spans([(0.0, 1.0), (2.0, 3.0)])
    pred = spans([(0.2, 1.2), (2.6, 3.6)])  # IoU 2/3 and 0.25
    m = match_events(ref, pred, min_iou=0.5)
    assert pairs(m) == [(0, 0)]
    assert m["iou"].iloc[0] == pytest.approx(2 / 3)
    assert len(match_events(ref, pred, min_iou=0.7)) == 0
    assert len(match_events(ref, pred, min_iou=0.25)) == 2  # exactly the threshold
    # Onsets 200 ms apart would never match by tolerance.
    assert len(match_events(ref, pred, tolerance_s=0.01)) == 0


def test_iou_mode_matches_points_by_tolerance_and_never_to_intervals():
    ref = joined(points([5.0], label="a"), spans([(1.0, 2.0)]))
    pred = joined(points([5.004, 1.5], label="a"), spans([(1.0, 2.0)]))
    m = match_events(ref, pred, min_iou=0.5, tolerance_s=0.01)
    assert sorted(pairs(m)) == [(0, 0), (1, 2)]


def test_iou_with_long_and_short_references():
    # A long reference widens the search window; matches stay exact and one to one.
    ref = spans([(0.0, 100.0), (10.0, 11.0), (50.0, 50.5)])
    pred = spans([(0.0, 99.0), (10.1, 11.0), (50.0, 50.4), (60.0, 61.0)])
    assert sorted(pairs(match_events(ref, pred, min_iou=0.5))) == [(0, 0), (1, 1), (2, 2)]


def test_matches_stay_within_recording_channel_and_label():
    ref = joined(
        points([1.0], label="a", recording="x.wav"),
        points([1.0], label="a", recording="y.wav"),
        points([1.0], label="a", recording="x.wav", channel=1),
        points([1.0], label="b", recording="x.wav"),
    )
    pred = joined(
        points([1.001], label="a", recording="y.wav"),
        points([1.001], label="b", recording="x.wav", channel=1),
        points([1.001], label="a", recording="x.wav", channel=1),
    )
    m = match_events(ref, pred)
    assert sorted(pairs(m)) == [(1, 0), (2, 2)]
    assert m[["recording", "channel", "label"]].to_numpy().tolist() == [
        ["x.wav", 1, "a"],
        ["y.wav", 0, "a"],
    ]


def test_labels_present_on_one_side_only_and_label_choice():
    ref = joined(points([1.0], label="a"), points([2.0], label="only_ref"))
    pred = joined(points([1.0], label="a"), points([3.0], label="only_pred"))
    assert pairs(match_events(ref, pred)) == [(0, 0)]
    assert len(match_events(ref, pred, labels=["only_ref", "only_pred"])) == 0
    assert len(match_events(ref, pred, labels="a")) == 1
    with pytest.raises(ParameterError, match=r"'c' occurs in neither table.*a, only_pred"):
        match_events(ref, pred, labels=["a", "c"])


def test_indices_are_the_input_index_labels():
    ref = points([1.0, 2.0, 3.0]).iloc[[2, 0]]  # index 2, 0
    pred = points([3.001, 1.001]).set_axis([10, 11])
    assert sorted(pairs(match_events(ref, pred))) == [(0, 11), (2, 10)]


def test_empty_tables():
    assert len(match_events(empty_events(), empty_events())) == 0
    assert len(match_events(points([1.0]), empty_events())) == 0
    m = match_events(empty_events(), points([1.0]))
    assert list(m.columns) == list(MATCH_COLUMNS) and len(m) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tolerance_s": -0.01}, r"tolerance_s=-0.01 must be a number of seconds >= 0"),
        ({"tolerance_s": math.nan}, r"tolerance_s=nan must be"),
        ({"tolerance_s": math.inf}, r"tolerance_s=inf must be a finite"),
        ({"tolerance_s": "soon"}, r"tolerance_s='soon' must be a number of seconds"),
        ({"offset_tolerance_s": -1}, r"offset_tolerance_s=-1 must be a number of seconds >= 0"),
        ({"min_iou": 0}, r"min_iou=0 must be a number in \(0, 1\]"),
        ({"min_iou": 1.5}, r"min_iou=1.5 must be a number in \(0, 1\]"),
        ({"labels": []}, r"labels=\[\] names no label"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        match_events(points([1.0]), points([1.0]), **kwargs)


def test_tables_that_are_not_events():
    with pytest.raises(ParameterError, match=r"ref must be an Events table .* got list"):
        match_events([1.0, 2.0], points([1.0]))
    bad = pd.DataFrame({"onset": [1.0], "label": ["a"]})
    with pytest.raises(ParameterError, match=r"pred is not an Events table: missing columns"):
        match_events(points([1.0]), bad)
    reversed_times = points([1.0]).assign(stop_s=0.5)
    with pytest.raises(ParameterError, match=r"stop_s=0.5 is before start_s=1"):
        match_events(reversed_times, points([1.0]))


def _brute_force(ref, pred, tolerance_s):
    """Dense matrix of every pair, the criterion checked on all of them at once."""

    def column(table, name):
        return table[name].to_numpy()[:, None] if table is ref else table[name].to_numpy()

    on = np.abs(column(pred, "start_s") - column(ref, "start_s"))
    off = np.abs(column(pred, "stop_s") - column(ref, "stop_s"))
    feasible = (
        (column(ref, "recording") == column(pred, "recording"))
        & (column(ref, "label") == column(pred, "label"))
        & (on <= tolerance_s + 1e-9)
        & (off <= tolerance_s + 1e-9)
    )
    cost = np.where(feasible, on + off, 0.0)
    reward = 1 + cost.sum()
    rows, cols = linear_sum_assignment(np.where(feasible, cost - reward, 0))
    keep = feasible[rows, cols]
    return int(keep.sum()), float(cost[rows[keep], cols[keep]].sum())


@pytest.mark.parametrize(("seed", "span_s"), [(0, 0.5), (1, 0.5), (2, 0.2), (3, 0.1), (4, 2.0)])
def test_agrees_with_dense_assignment(seed, span_s):
    # Dense events make components of every shape: stars, two by two, larger.
    rng = np.random.default_rng(seed)

    def random_events(n):
        start = np.round(rng.uniform(0, span_s, n), 3)
        return make_events(
            rng.choice(["x.wav", "y.wav"], n),
            start,
            start + np.round(rng.uniform(0, 0.02, n), 3),
            rng.choice(["a", "b"], n),
        )

    ref, pred = random_events(60), random_events(70)
    m = match_events(ref, pred, tolerance_s=0.015)
    count, cost = _brute_force(ref, pred, 0.015)
    assert len(m) == count
    total = m["onset_error_s"].abs().sum() + m["offset_error_s"].abs().sum()
    assert total == pytest.approx(cost, abs=1e-9)
    assert m["ref_index"].is_unique and m["pred_index"].is_unique


def test_long_recording_is_matched_quickly(rng):
    # 100,000 pulses: sorted search and per-component assignment keep this fast.
    ref_s = np.sort(rng.uniform(0, 3600, 100_000))
    pred_s = ref_s + rng.normal(0, 0.002, ref_s.size)
    m = match_events(points(ref_s), points(np.clip(pred_s, 0, None)), tolerance_s=0.01)
    assert len(m) >= 0.99 * ref_s.size
    assert m["ref_index"].is_unique and m["pred_index"].is_unique


def test_window_pairs_is_exact():
    t = np.array([0.1, 0.2, 0.3, 0.2])
    group = np.array([0, 0, 0, 1])
    i, q = window_pairs(group, t, np.array([0, 1]), np.array([0.2, 0.0]), np.array([0.3, 1.0]))
    assert sorted(zip(q.tolist(), i.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 3)]


def test_align_recordings_exact_then_by_file_name():
    ref = joined(
        points([1.0], recording="day1/a.wav"),
        points([1.0], recording="day1/b.wav"),
        points([1.0], recording="c.wav"),
        points([1.0], recording="x/d.wav"),
        points([1.0], recording="y/d.wav"),
    )
    pred = joined(
        points([1.0], recording="a.wav"),
        points([1.0], recording="c.wav"),
        points([1.0], recording="d.wav"),  # two references end in d.wav: ambiguous
        points([1.0], recording="e.wav"),
    )
    aligned, only_ref, only_pred = align_recordings(ref, pred)
    assert aligned["recording"].tolist() == ["day1/a.wav", "c.wav", "d.wav", "e.wav"]
    assert only_ref == ["day1/b.wav", "x/d.wav", "y/d.wav"]
    assert only_pred == ["d.wav", "e.wav"]
