"""Event scores: counts, precision / recall / F1, empty sets, timing errors, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sonotype.annotations import empty_events, make_events
from sonotype.errors import ParameterError
from sonotype.evaluate import ALL_LABELS, SCORE_COLUMNS, evaluate_events, event_scores
from tests.evaluate._tables import joined, points, spans


def row(scores, label):
    return scores.set_index("label").loc[label]


def test_counts_and_scores_per_label_and_overall():
    ref = joined(points([1.0, 2.0, 3.0, 4.0], label="a"), points([1.0], label="b"))
    pred = joined(
        points([1.002, 2.004, 2.006, 5.0], label="a"),  # 2 hits, a duplicate, a false alarm
        points([1.0], label="b"),
    )
    scores = event_scores(ref, pred, tolerance_s=0.01)
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert scores["label"].tolist() == ["a", "b", ALL_LABELS]
    a = row(scores, "a")
    assert (a.n_ref, a.n_pred, a.hits, a.misses, a.false_alarms) == (4, 4, 2, 2, 2)
    assert (a.precision, a.recall, a.f1) == (0.5, 0.5, 0.5)
    assert a.onset_error_median_s == pytest.approx(0.003)
    assert a.onset_error_mean_abs_s == pytest.approx(0.003)
    assert math.isnan(a.offset_error_median_s)  # point events have no offsets
    total = row(scores, ALL_LABELS)
    assert (total.n_ref, total.n_pred, total.hits, total.misses, total.false_alarms) == (
        5,
        5,
        3,
        2,
        2,
    )
    assert total.precision == pytest.approx(0.6) and total.f1 == pytest.approx(0.6)
    assert total.onset_error_median_s == pytest.approx(0.002)


def test_signed_errors_of_intervals():
    ref = spans([(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)])
    pred = spans([(0.995, 2.004), (3.003, 4.006), (5.007, 6.008)])
    a = row(event_scores(ref, pred, tolerance_s=0.01), "a")
    assert a.onset_error_median_s == pytest.approx(0.003)
    assert a.onset_error_mean_abs_s == pytest.approx(0.005)
    assert a.offset_error_median_s == pytest.approx(0.006)
    assert a.offset_error_mean_abs_s == pytest.approx(0.006)


def test_empty_set_conventions():
    ref = points([1.0, 2.0], label="only_ref")
    pred = points([1.0], label="only_pred")
    scores = event_scores(ref, pred)
    missed = row(scores, "only_ref")
    assert (missed.hits, missed.misses, missed.false_alarms) == (0, 2, 0)
    assert math.isnan(missed.precision) and missed.recall == 0 and missed.f1 == 0
    invented = row(scores, "only_pred")
    assert (invented.hits, invented.misses, invented.false_alarms) == (0, 0, 1)
    assert invented.precision == 0 and math.isnan(invented.recall) and invented.f1 == 0
    assert math.isnan(invented.onset_error_median_s)

    nothing = event_scores(empty_events(), empty_events())
    assert nothing["label"].tolist() == [ALL_LABELS]
    total = nothing.iloc[0]
    assert (total.n_ref, total.n_pred, total.hits) == (0, 0, 0)
    assert all(math.isnan(total[k]) for k in ("precision", "recall", "f1"))


def test_label_choice_and_unknown_label():
    ref = joined(points([1.0], label="a"), points([2.0], label="b"))
    scores = event_scores(ref, ref, labels=["b"])
    assert scores["label"].tolist() == ["b", ALL_LABELS]
    assert scores["n_ref"].tolist() == [1, 1]
    with pytest.raises(ParameterError, match="'zz' occurs in neither table"):
        event_scores(ref, ref, labels=["zz"])


def test_iou_scores():
    ref = spans([(0.0, 1.0), (2.0, 3.0)])
    pred = spans([(0.1, 1.1), (2.5, 3.5)])
    assert row(event_scores(ref, pred, min_iou=0.5), "a").hits == 1
    assert row(event_scores(ref, pred, min_iou=0.3), "a").hits == 2


def test_evaluate_events_bundles_everything():
    ref = make_events("s.wav", [0, 1, 2, 3], [0.5, 1.5, 2.5, 3.5], ["a", "b", "c", "a"])
    pred = make_events("s.wav", [0, 1.002, 3], [0.5, 1.5, 3.5], ["a", "b", "b"])
    result = evaluate_events(ref, pred, tolerance_s=0.01)
    assert row(result.scores, ALL_LABELS).hits == 2
    assert len(result.matches) == 2
    # a b c a -> a b b: one deletion, one substitution.
    assert result.ser == pytest.approx(2 / 4)
    assert result.sequences["edit_distance"].tolist() == [2]
    assert row(result.overlap, "a").recall == pytest.approx(0.5)
    summary = result.to_dict()
    assert summary["ser"] == pytest.approx(0.5)
    assert summary["parameters"]["labels"] == ["a", "b", "c"]
    c = next(r for r in summary["scores"] if r["label"] == "c")
    assert c["precision"] is None and c["recall"] == 0  # NaN becomes None for JSON


# Properties ------------------------------------------------------------------------------

_times = st.floats(min_value=0, max_value=20, allow_nan=False).map(lambda t: round(t, 4))


@st.composite
def event_tables(draw, max_size=25):
    n = draw(st.integers(0, max_size))
    starts = draw(st.lists(_times, min_size=n, max_size=n))
    durations = draw(
        st.lists(st.sampled_from([0.0, 0.0, 0.005, 0.05, 0.3]), min_size=n, max_size=n)
    )
    labels = draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    recordings = draw(st.lists(st.sampled_from(["x.wav", "y.wav"]), min_size=n, max_size=n))
    if n == 0:
        return empty_events()
    stops = np.asarray(starts) + np.asarray(durations)
    return make_events(recordings, starts, stops, labels)


_fast = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_fast
@given(events=event_tables(), use_iou=st.booleans())
def test_matching_a_table_against_itself_is_perfect(events, use_iou):
    scores = event_scores(events, events, tolerance_s=0.01, min_iou=0.5 if use_iou else None)
    total = row(scores, ALL_LABELS)
    assert total.hits == len(events) and total.misses == 0 and total.false_alarms == 0
    if len(events):
        assert (total.precision, total.recall, total.f1) == (1.0, 1.0, 1.0)
        assert total.onset_error_mean_abs_s == 0
        assert math.isnan(total.offset_error_mean_abs_s) or total.offset_error_mean_abs_s == 0


@_fast
@given(ref=event_tables(), pred=event_tables(), use_iou=st.booleans())
def test_swapping_ref_and_pred_swaps_precision_and_recall(ref, pred, use_iou):
    min_iou = 0.5 if use_iou else None
    forward = event_scores(ref, pred, tolerance_s=0.02, min_iou=min_iou)
    backward = event_scores(pred, ref, tolerance_s=0.02, min_iou=min_iou)
    np.testing.assert_array_equal(forward["hits"], backward["hits"])
    np.testing.assert_array_equal(forward["misses"], backward["false_alarms"])
    np.testing.assert_allclose(forward["precision"], backward["recall"])
    np.testing.assert_allclose(forward["recall"], backward["precision"])
    np.testing.assert_allclose(forward["f1"], backward["f1"])


def test_ignore_labels_matches_segments_and_scores_each_recording():
    from sonotype.annotations import make_events

    ref = make_events(
        ["r1.wav", "r1.wav", "r2.wav"], [0.0, 1.0, 0.0], [0.5, 1.5, 0.5], ["a", "b", "a"]
    )
    pred = make_events(
        ["r1.wav", "r1.wav", "r2.wav"], [0.0, 1.0, 3.0], [0.5, 1.5, 3.5], ["b", "b", "a"]
    )
    labelled = evaluate_events(ref, pred)
    assert labelled.scores["hits"].iloc[-1] == 1
    segments = evaluate_events(ref, pred, ignore_labels=True)
    assert segments.scores["label"].tolist() == ["segment", "(all)"]
    assert segments.scores["hits"].iloc[-1] == 2
    assert segments.parameters["ignore_labels"] is True
    rows = segments.recordings.set_index("recording")
    assert rows.loc["r1.wav", ["n_ref", "n_pred", "hits"]].tolist() == [2, 2, 2]
    assert rows.loc["r2.wav", ["n_ref", "n_pred", "hits", "false_alarms"]].tolist() == [1, 1, 0, 1]
    assert rows.loc["r1.wav", "f1"] == 1.0 and rows.loc["r2.wav", "f1"] == 0.0


def test_evaluate_events_reports_each_stage_then_the_end():
    from sonotype.evaluate.metrics import EVALUATION_STAGES

    ref = make_events("s.wav", [0.0, 1.0], [0.5, 1.5], ["a", "b"])
    seen = []
    evaluate_events(ref, ref, progress=lambda stage, done, total: seen.append((stage, done, total)))
    n = len(EVALUATION_STAGES)
    assert [done for _, done, _ in seen] == list(range(n + 1))
    assert {total for _, _, total in seen} == {n}
    assert [stage for stage, _, _ in seen][:n] == list(EVALUATION_STAGES)
