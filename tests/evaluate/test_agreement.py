"""Agreement between two annotators: symmetric counts, F1 and Cohen's kappa over time."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sonotype.errors import ParameterError
from sonotype.evaluate import (
    AGREEMENT_COLUMNS,
    ALL_LABELS,
    annotator_agreement,
    cohen_kappa_durations,
)
from tests.evaluate._tables import joined, points, spans


def row(table, label):
    return table.set_index("label").loc[label]


def test_counts_f1_and_kappa():
    a = joined(spans([(0.0, 1.0), (2.0, 3.0)]), spans([(3.0, 4.0)], label="b"))
    b = joined(spans([(0.004, 1.0), (3.5, 3.8)]), spans([(3.0, 4.0)], label="b"))
    table = annotator_agreement(a, b, tolerance_s=0.01)
    assert list(table.columns) == list(AGREEMENT_COLUMNS)
    x = row(table, "a")
    assert (x.n_a, x.n_b, x.matched, x.only_a, x.only_b) == (2, 2, 1, 1, 1)
    assert x.f1 == 0.5
    # Span 0..4 s: both 0.996, A only 1.004, B only 0.3, neither 1.7.
    assert (x.a_duration_s, x.b_duration_s) == pytest.approx((2.0, 1.296))
    p_o, p_a, p_b = (0.996 + 1.7) / 4, 2.0 / 4, 1.296 / 4
    chance = p_a * p_b + (1 - p_a) * (1 - p_b)
    assert x.kappa == pytest.approx((p_o - chance) / (1 - chance))
    assert row(table, "b").kappa == 1.0
    total = row(table, ALL_LABELS)
    assert (total.matched, total.only_a, total.only_b) == (2, 1, 1)


def test_is_symmetric():
    a = joined(spans([(0.0, 1.0), (2.0, 3.0)]), points([5.0], label="p"))
    b = joined(spans([(0.1, 1.0)]), points([5.003, 6.0], label="p"))
    forward = annotator_agreement(a, b, min_iou=0.5).set_index("label")
    backward = annotator_agreement(b, a, min_iou=0.5).set_index("label")
    np.testing.assert_allclose(forward.f1, backward.f1)
    np.testing.assert_allclose(forward.kappa, backward.kappa)
    np.testing.assert_array_equal(forward.only_a, backward.only_b)
    assert forward.loc["p", "matched"] == 1
    assert math.isnan(forward.loc["p", "kappa"])  # points have no duration


def test_durations_extend_the_time_judged():
    a = spans([(1.0, 2.0)])
    b = spans([(1.0, 1.5)])
    in_span = row(annotator_agreement(a, b), "a").kappa
    # Span 1..2: A covers all of it, so chance agreement is p_b and kappa is 0.
    assert in_span == pytest.approx(0.0)
    whole = row(annotator_agreement(a, b, durations_s={"r.wav": 10.0}), "a").kappa
    assert whole == pytest.approx(
        cohen_kappa_durations(both_s=0.5, only_a_s=0.5, only_b_s=0, total_s=10.0)
    )
    assert whole > 0.5
    with pytest.raises(ParameterError, match=r"no duration for recording 'r\.wav'"):
        annotator_agreement(a, b, durations_s={"other.wav": 10.0})
    with pytest.raises(ParameterError, match=r"end at 2 s"):
        annotator_agreement(a, b, durations_s={"r.wav": 1.0})


def test_cohen_kappa_known_values():
    assert cohen_kappa_durations(both_s=2, only_a_s=0, only_b_s=0, total_s=4) == 1.0
    # Opposite annotations: kappa -1.
    assert cohen_kappa_durations(both_s=0, only_a_s=2, only_b_s=2, total_s=4) == -1.0
    assert math.isnan(cohen_kappa_durations(both_s=4, only_a_s=0, only_b_s=0, total_s=4))
    assert math.isnan(cohen_kappa_durations(both_s=0, only_a_s=0, only_b_s=0, total_s=0))
