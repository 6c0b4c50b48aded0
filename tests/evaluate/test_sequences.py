"""Edit distance and the syllable error rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.evaluate import (
    SEQUENCE_COLUMNS,
    edit_distance,
    syllable_error_rate,
    syllable_error_rates,
)
from tests.evaluate._tables import joined, spans


def naive_distance(a, b):
    """Textbook Levenshtein, cell by cell."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


@pytest.mark.parametrize(
    ("ref", "pred", "distance"),
    [
        ("abc", "abc", 0),
        ("abc", "axc", 1),  # substitution
        ("abc", "abxc", 1),  # insertion
        ("abc", "ac", 1),  # deletion
        ("abc", "", 3),
        ("", "ab", 2),
        ("", "", 0),
        ("kitten", "sitting", 3),
        ("abab", "baba", 2),
    ],
)
def test_known_edit_distances(ref, pred, distance):
    assert edit_distance(list(ref), list(pred)) == distance
    assert edit_distance(list(pred), list(ref)) == distance


def test_edit_distance_matches_naive_and_handles_any_labels(rng):
    for _ in range(20):
        a = rng.choice(["i", "a", "b", "c"], rng.integers(0, 40)).tolist()
        b = rng.choice(["i", "a", "b", "c"], rng.integers(0, 40)).tolist()
        assert edit_distance(a, b) == naive_distance(a, b)
    assert edit_distance([1, 2, 3], [1, 3]) == 1
    assert edit_distance(["syll_1", "syll_10"], ["syll_1", "syll_10"]) == 0


def test_long_sequences(rng):
    ref = rng.choice(list("abcdefgh"), 4000)
    pred = ref.copy()
    pred[::10] = "z"  # 400 substitutions
    pred = np.delete(pred, np.arange(5, 4000, 100))  # and 40 deletions
    assert edit_distance(ref, pred) == 440
    assert edit_distance(ref, []) == 4000


def test_syllable_error_rate_per_recording_and_overall():
    ref = joined(
        spans([(2, 3), (0, 1), (4, 5)], label=["b", "a", "c"], recording="x.wav"),  # a b c
        spans([(0, 1), (1, 2)], label=["a", "a"], recording="y.wav"),
    )
    pred = joined(
        spans([(0, 1), (4, 5)], label=["a", "c"], recording="x.wav"),  # a c: one deletion
        spans([(0, 1), (1, 2), (3, 4)], label=["a", "b", "b"], recording="y.wav"),
        spans([(0, 1)], label=["a"], recording="z.wav"),  # insertion, no reference
    )
    table = syllable_error_rates(ref, pred)
    assert list(table.columns) == list(SEQUENCE_COLUMNS)
    assert table[["recording", "n_ref", "n_pred", "edit_distance"]].to_numpy().tolist() == [
        ["x.wav", 3, 2, 1],
        ["y.wav", 2, 3, 2],
        ["z.wav", 0, 1, 1],
    ]
    assert table["ser"].tolist()[:2] == pytest.approx([1 / 3, 1.0])
    assert math.isnan(table["ser"].iloc[2])
    assert syllable_error_rate(ref, pred) == pytest.approx(4 / 5)
    # Only a: x a/a, y aa/a, z -/a.
    assert syllable_error_rate(ref, pred, labels=["a"]) == pytest.approx(2 / 3)


def test_order_is_by_onset_then_offset_and_channels_are_separate():
    ref = make_events("s.wav", [1.0, 1.0, 0.0], [1.2, 1.1, 0.5], ["b", "a", "x"], channel=[0, 0, 1])
    pred = make_events("s.wav", [0.0, 0.0], [0.1, 0.2], ["a", "b"])
    table = syllable_error_rates(ref, pred)
    assert table["channel"].tolist() == [0, 1]
    assert table["edit_distance"].tolist() == [0, 1]


def test_empty_reference_gives_nan():
    ref = spans([(0, 1)], label="a")
    assert math.isnan(syllable_error_rate(ref.iloc[:0], ref.iloc[:0]))
    assert syllable_error_rate(ref, ref) == 0
