"""Time-based ("tic") scores by exact interval arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.evaluate import ALL_LABELS, OVERLAP_COLUMNS, overlap_scores
from tests.evaluate._tables import joined, points, spans


def row(table, label):
    return table.set_index("label").loc[label]


def test_known_overlaps_with_unions_per_label():
    # Reference a: [0, 1] and [0.5, 2] overlap: their union [0, 2] counts once.
    ref = joined(spans([(0.0, 1.0), (0.5, 2.0)]), spans([(5.0, 6.0)], label="b"))
    pred = joined(spans([(1.5, 3.0)]), spans([(5.5, 7.5)], label="b"), points([0.5], label="a"))
    table = overlap_scores(ref, pred)
    assert list(table.columns) == list(OVERLAP_COLUMNS)
    a = row(table, "a")
    assert (a.ref_duration_s, a.pred_duration_s, a.overlap_s) == (2.0, 1.5, 0.5)
    assert a.precision == pytest.approx(1 / 3) and a.recall == pytest.approx(0.25)
    assert a.f1 == pytest.approx(2 * 0.5 / 3.5)
    b = row(table, "b")
    assert (b.overlap_s, b.precision, b.recall) == (0.5, 0.25, 0.5)
    total = row(table, ALL_LABELS)
    assert (total.ref_duration_s, total.pred_duration_s, total.overlap_s) == (3.0, 3.5, 1.0)


def test_time_lines_are_separate_per_recording_channel_and_label():
    ref = joined(spans([(0.0, 1.0)], recording="x.wav"), spans([(0.0, 1.0)], channel=1))
    pred = joined(spans([(0.0, 1.0)], recording="y.wav"), spans([(0.0, 1.0)], label="b"))
    table = overlap_scores(ref, pred)
    assert row(table, "a").overlap_s == 0
    assert row(table, "a").recall == 0 and row(table, "b").precision == 0
    assert math.isnan(row(table, "b").recall)


def test_points_have_no_duration():
    table = overlap_scores(points([1.0, 2.0]), points([1.0]))
    assert row(table, "p")[["ref_duration_s", "pred_duration_s", "overlap_s"]].tolist() == [0, 0, 0]
    assert table[["precision", "recall", "f1"]].isna().all().all()


def test_agrees_with_a_fine_mask(rng):
    n = 40
    start = rng.uniform(0, 10, (2, n)).round(3)
    stop = start + rng.uniform(0, 1, (2, n)).round(3)
    label = rng.choice(["a", "b"], (2, n))
    ref = make_events("s.wav", start[0], stop[0], label[0])
    pred = make_events("s.wav", start[1], stop[1], label[1])
    table = overlap_scores(ref, pred)
    grid = (np.arange(12_000) + 0.5) / 1000  # 1 ms cells, centres off the boundaries

    def mask(events, name):
        chosen = events[events.label == name]
        inside = (grid >= chosen.start_s.to_numpy()[:, None]) & (
            grid < chosen.stop_s.to_numpy()[:, None]
        )
        return inside.any(axis=0)

    for name in ("a", "b"):
        r, p = mask(ref, name), mask(pred, name)
        expected = (r & p).sum() / p.sum()
        assert row(table, name).precision == pytest.approx(expected, abs=1e-9)
        assert row(table, name).overlap_s == pytest.approx((r & p).sum() / 1000, abs=1e-9)
