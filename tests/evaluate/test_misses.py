"""Misses: detected events that no predicted event covers."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import REQUIRED_COLUMNS, make_events
from sonotype.errors import ParameterError
from sonotype.evaluate import misses
from tests.evaluate._tables import joined, points, spans


def times(table):
    return list(zip(table.recording, table.channel, table.start_s, table.stop_s, strict=True))


def test_doctests():
    module = importlib.import_module("sonotype.evaluate.coverage")
    assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_points_and_intervals_across_recordings_and_channels():
    detected = joined(
        spans([(0.0, 1.0), (2.0, 3.0), (4.0, 5.0), (6.0, 7.0)], label="sound"),
        points([8.0, 9.0], label="sound"),
        spans([(0.0, 1.0)], label="sound", channel=1),
        spans([(0.0, 1.0)], label="sound", recording="other.wav"),
    ).assign(kind="detected", score=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    predicted = joined(
        points([0.5], label="pulse"),  # a point inside a detected interval covers it
        spans([(3.0, 3.5)], label="sine"),  # touching at 3.0 covers (closed intervals)
        spans([(6.5, 9.5)], label="sine"),  # covers [6, 7], the point at 8 and the one at 9
        spans([(0.0, 1.0)], label="sine", recording="third.wav"),  # another recording
    )
    missed = misses(detected, predicted)
    # Uncovered: [4, 5] on channel 0, channel 1's [0, 1], other.wav's [0, 1].
    assert times(missed) == [
        ("r.wav", 0, 4.0, 5.0),
        ("r.wav", 1, 0.0, 1.0),
        ("other.wav", 0, 0.0, 1.0),
    ]
    assert set(missed.kind) == {"missed"} and set(missed.source) == {"misses"}
    assert set(missed.label) == {"sound"}
    assert missed.score.tolist() == [0.3, 0.7, 0.8]  # optional columns are kept
    assert list(missed.index) == [0, 1, 2]


def test_tolerance_widens_the_spans():
    detected = joined(spans([(1.0, 2.0)]), points([5.0]))
    predicted = joined(points([2.05]), spans([(4.9, 4.97)]))
    assert len(misses(detected, predicted)) == 2
    assert len(misses(detected, predicted, tolerance_s=0.04)) == 1  # only 5.0 - 4.97 = 0.03
    assert len(misses(detected, predicted, tolerance_s=0.05)) == 0  # decimal 0.05 counts
    # A point on a point covers it with no tolerance.
    assert len(misses(points([3.0]), points([3.0]))) == 0


def test_empty_tables():
    detected = spans([(0.0, 1.0)])
    empty = detected.iloc[:0]
    assert len(misses(detected, empty)) == 1
    missed = misses(empty, detected)
    assert len(missed) == 0 and list(missed.columns) == list(REQUIRED_COLUMNS)


def test_parameter_errors():
    with pytest.raises(ParameterError, match=r"tolerance_s=-1 must be a number of seconds >= 0"):
        misses(points([1.0]), points([1.0]), tolerance_s=-1)
    with pytest.raises(ParameterError, match=r"detected must be an Events table"):
        misses([1.0], points([1.0]))
    with pytest.raises(ParameterError, match=r"predicted is not an Events table"):
        misses(points([1.0]), pd.DataFrame({"start_s": [1.0]}))


def random_events(rng, n, point_fraction=0.3):
    start = rng.uniform(0, 20, n).round(2)
    length = np.where(rng.random(n) < point_fraction, 0.0, rng.uniform(0, 0.5, n).round(2))
    return make_events(
        rng.choice(["a.wav", "b.wav", "c.wav"], n),
        start,
        start + length,
        rng.choice(["x", "y"], n),
        channel=rng.integers(0, 2, n),
    )


def naive_misses(detected, predicted, tolerance_s):
    """Every detected event against every predicted one: an (n, m) matrix."""
    d, p = detected, predicted
    same = (d.recording.to_numpy()[:, None] == p.recording.to_numpy()[None, :]) & (
        d.channel.to_numpy()[:, None] == p.channel.to_numpy()[None, :]
    )
    reach = tolerance_s + 1e-9
    near = (p.start_s.to_numpy()[None, :] <= d.stop_s.to_numpy()[:, None] + reach) & (
        p.stop_s.to_numpy()[None, :] >= d.start_s.to_numpy()[:, None] - reach
    )
    return detected[~(same & near).any(axis=1)]


@pytest.mark.parametrize("tolerance_s", [0.0, 0.01, 0.2])
def test_agrees_with_a_naive_pairwise_check(rng, tolerance_s):
    for _ in range(20):
        detected = random_events(rng, int(rng.integers(0, 300)))
        predicted = random_events(rng, int(rng.integers(0, 150)))
        expected = naive_misses(detected, predicted, tolerance_s)
        got = misses(detected, predicted, tolerance_s=tolerance_s)
        assert times(got) == times(expected)
        assert len(got) > 0 or len(detected) == 0
