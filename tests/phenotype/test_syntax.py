"""Bouts, transitions, entropy, linearity, consistency and repeats."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.errors import ParameterError
from sonotype.phenotype import (
    END,
    START,
    bout_ids,
    bouts,
    consistency,
    linearity,
    repeats,
    transition_entropy,
    transition_matrix,
    transition_probabilities,
)


def naive_counts(sequences, noise=()):
    """Transition counts by loops: ``sequences`` is a list of bouts (lists of labels)."""
    counts = Counter()
    for bout in sequences:
        if bout[0] not in noise:
            counts[START, bout[0]] += 1
        if bout[-1] not in noise:
            counts[bout[-1], END] += 1
        for a, b in itertools.pairwise(bout):
            if a not in noise and b not in noise:
                counts[a, b] += 1
    return counts


def naive_entropy(counts):
    inner = {k: v for k, v in counts.items() if START not in k and END not in k}
    total = sum(inner.values())
    out = Counter()
    for (a, _), v in inner.items():
        out[a] += v
    return -sum(v / total * math.log2(v / out[a]) for (a, _), v in inner.items())


def flatten(sequences):
    labels = [label for bout in sequences for label in bout]
    ids = [i for i, bout in enumerate(sequences) for _ in bout]
    return labels, ids


def test_perfectly_linear_song():
    counts = transition_matrix(list("abcabcabc"))
    assert counts.loc[START].tolist() == [1, 0, 0, 0]
    assert counts.loc["a", "b"] == 3 and counts.loc["b", "c"] == 3 and counts.loc["c", "a"] == 2
    assert counts.loc["c", END] == 1
    assert linearity(counts) == 1.0
    assert consistency(counts) == 1.0
    assert transition_entropy(counts) == 0.0


def test_branching_song_with_known_probabilities():
    labels, ids = flatten([list("abc"), list("abc"), list("abc"), list("abd")])
    counts = transition_matrix(labels, bouts=ids)
    expected = np.array(
        [
            # a  b  c  d  end
            [4, 0, 0, 0, 0],  # start
            [0, 4, 0, 0, 0],  # a
            [0, 0, 3, 1, 0],  # b
            [0, 0, 0, 0, 3],  # c
            [0, 0, 0, 0, 1],  # d
        ]
    )
    np.testing.assert_array_equal(counts.to_numpy(), expected)
    p = transition_probabilities(counts)
    assert p.loc["b", "c"] == 0.75 and p.loc["b", "d"] == 0.25
    assert p.loc[START, "a"] == 1.0 and p.loc["d", END] == 1.0
    h_b = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert transition_entropy(counts) == pytest.approx(4 / 8 * h_b)  # 0.4056 bits
    assert linearity(counts) == pytest.approx(4 / 3)  # 4 types, 3 transition types
    assert consistency(counts) == pytest.approx((4 + 3) / 8)


def test_uniform_branching_has_log2_k_entropy():
    assert transition_entropy(np.ones((4, 4))) == pytest.approx(2.0)
    assert linearity(np.ones((4, 4))) == pytest.approx(0.25)
    assert consistency(np.ones((4, 4))) == pytest.approx(0.25)


def test_no_transitions_gives_nan():
    counts = transition_matrix(["a"])
    assert counts.loc[START, "a"] == 1 and counts.loc["a", END] == 1
    assert math.isnan(transition_entropy(counts))
    assert math.isnan(linearity(counts))
    assert math.isnan(consistency(counts))
    assert (
        transition_probabilities(transition_matrix(["a", "x"], noise_label="x"))
        .loc["a"]
        .isna()
        .all()
    )


def test_noise_breaks_the_chain():
    counts = transition_matrix(list("ab-ba-"), noise_label="-")
    assert counts.loc["a", "b"] == 1 and counts.loc["b", "a"] == 1
    assert counts.loc["b"].sum() == 1  # b -> noise is not counted, nor b -> b across it
    assert counts.loc["a", END] == 0  # the bout ends with noise
    assert counts.index.tolist() == [START, "a", "b"]


def test_matches_naive_reference(rng):
    for _ in range(10):
        sequences = [
            rng.choice(list("abcd-"), rng.integers(1, 12)).tolist()
            for _ in range(rng.integers(1, 6))
        ]
        labels, ids = flatten(sequences)
        counts = transition_matrix(labels, bouts=ids, noise_label="-")
        reference = naive_counts(sequences, noise={"-"})
        for (a, b), v in reference.items():
            assert counts.loc[a, b] == v
        assert counts.to_numpy().sum() == sum(reference.values())
        if any(START not in k and END not in k for k in reference):
            assert transition_entropy(counts) == pytest.approx(naive_entropy(reference))


def test_transition_matrix_checks_bouts():
    with pytest.raises(ParameterError, match="one bout id per label"):
        transition_matrix(list("ab"), bouts=[0])
    with pytest.raises(ParameterError, match="square"):
        linearity(np.ones((2, 3)))


def test_repeats():
    table = repeats(list("aaab"))
    assert table.loc["a", "repeat_max"] == 3 and table.loc["a", "repeat_mean"] == 3.0
    assert table.loc["b", "repeat_max"] == 1
    table = repeats(list("aaabaab"))
    assert table.loc["a"].tolist() == [2, 2.5, 3]
    # A bout boundary and noise both end a run.
    table = repeats(list("aaaa-aa"), bouts=[0, 0, 1, 1, 1, 1, 1], noise_label="-")
    assert table.loc["a", "n_runs"] == 3 and table.loc["a", "repeat_max"] == 2


def syllables(recording, onsets, duration=0.05, labels=None, channel=0):
    onsets = np.asarray(onsets, dtype=float)
    labels = labels if labels is not None else ["a"] * len(onsets)
    return make_events(recording, onsets, onsets + duration, labels, channel=channel)


def test_bouts_split_at_gaps():
    # Gaps: 0.05, 0.55 (split), 0.05, exactly 0.5 (split: a bout needs gaps < bout_gap_s).
    events = syllables("s.wav", [0.0, 0.1, 0.7, 0.8, 1.35])
    assert bout_ids(events).tolist() == [0, 0, 1, 1, 2]
    assert bout_ids(events, bout_gap_s=0.6).tolist() == [0, 0, 0, 0, 0]
    assert bout_ids(events, bout_gap_s=math.inf).tolist() == [0] * 5
    table = bouts(events)
    assert table["n_syllables"].tolist() == [2, 2, 1]
    np.testing.assert_allclose(table["duration_s"], [0.15, 0.15, 0.05])
    with pytest.raises(ParameterError, match="bout_gap_s=0"):
        bout_ids(events, bout_gap_s=0)


def test_bouts_follow_recordings_and_channels_in_any_row_order():
    a = syllables("r1.wav", [0.0, 0.1])
    b = syllables("r2.wav", [0.2, 0.3])
    c = syllables("r1.wav", [0.05], channel=1)
    events = make_events(
        *(np.concatenate([t[k] for t in (b, a, c)]) for k in ("recording", "start_s", "stop_s")),
        "a",
        channel=[0, 0, 0, 0, 1],
    )
    # Sequence order: r1 ch0 (rows 2, 3), r1 ch1 (row 4), r2 (rows 0, 1).
    assert bout_ids(events).tolist() == [2, 2, 0, 0, 1]
