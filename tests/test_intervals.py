"""Tests of sonotype.intervals against naive references (sample by sample) and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sonotype.intervals import (
    close_gaps,
    complement,
    drop_short,
    elementary_segments,
    intersection,
    merge,
    overlaps_any,
    pair_iou,
    pair_overlap,
    runs,
    total_length,
    union,
)

N = 60  # length of the naive time lines, in samples

masks = st.lists(st.booleans(), min_size=0, max_size=N).map(lambda v: np.array(v, bool))
raw_intervals = st.lists(
    st.tuples(st.integers(0, N - 1), st.integers(0, 12)).map(lambda t: (t[0], min(N, t[0] + t[1]))),
    max_size=12,
).map(lambda v: np.array(v, np.int64).reshape(-1, 2))


def cover(intervals: np.ndarray, n: int = N) -> np.ndarray:
    """The naive reference: which samples of [0, n) the intervals cover."""
    mask = np.zeros(n, bool)
    for start, stop in intervals:
        mask[start:stop] = True
    return mask


def naive_runs(mask: np.ndarray) -> list[list[int]]:
    out, start = [], None
    for i, on in enumerate([*mask.tolist(), False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            out.append([start, i])
            start = None
    return out


def test_known_answers():
    mask = np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    found = runs(mask)
    assert found.tolist() == [[0, 2], [4, 5], [6, 9]]
    assert complement(found, 9).tolist() == [[2, 4], [5, 6]]
    assert runs(np.zeros(5, bool)).shape == (0, 2)
    assert complement(np.zeros((0, 2), np.int64), 4).tolist() == [[0, 4]]
    a = np.array([[0, 2], [5, 9]])
    assert drop_short(a, 3).tolist() == [[5, 9]]
    assert union(a, np.array([[1, 3], [9, 10], [20, 21]])).tolist() == [[0, 3], [5, 10], [20, 21]]
    assert union(np.zeros((0, 2), np.int64)).dtype == np.int64


@given(masks)
def test_runs_equal_the_naive_scan(mask):
    found = runs(mask)
    assert found.dtype == np.int64 and found.shape[1:] == (2,)
    assert found.tolist() == naive_runs(mask)
    assert np.array_equal(cover(found, len(mask)), mask)


@given(masks, st.integers(0, 8))
def test_close_gaps_fills_exactly_the_short_gaps(mask, min_gap):
    closed = cover(close_gaps(runs(mask), min_gap), len(mask))
    expected = mask.copy()
    for start, stop in naive_runs(~mask):
        inner = start > 0 and stop < len(mask)  # a gap lies between two runs
        if inner and stop - start < min_gap:
            expected[start:stop] = True
    assert np.array_equal(closed, expected)


@given(masks, st.integers(0, 8))
def test_drop_short_keeps_exactly_the_long_runs(mask, min_length):
    kept = drop_short(runs(mask), min_length).tolist()
    assert kept == [r for r in naive_runs(mask) if r[1] - r[0] >= min_length]


@given(masks)
def test_complement_covers_what_runs_do_not(mask):
    assert np.array_equal(cover(complement(runs(mask), len(mask)), len(mask)), ~mask)


@given(raw_intervals)
def test_merge_covers_the_same_samples_and_holds_each_input(intervals):
    merged, member = merge(intervals)
    nonempty = intervals[intervals[:, 1] > intervals[:, 0]]
    assert np.array_equal(cover(merged), cover(nonempty))
    assert np.all(np.diff(merged[:, 0]) > 0)
    assert np.all(merged[1:, 0] > merged[:-1, 1])  # disjoint and not touching
    if len(intervals):
        assert np.all(merged[member, 0] <= intervals[:, 0])
        assert np.all(merged[member, 1] >= intervals[:, 1])


@given(raw_intervals, st.integers(0, 5))
def test_merge_with_a_gap_equals_closing_the_union(intervals, gap):
    merged, _ = merge(intervals, gap=gap)
    nonempty = intervals[intervals[:, 1] > intervals[:, 0]]
    # Where no interval is empty, a gap of at most `gap` closes: close_gaps(gap + 1).
    if len(nonempty) == len(intervals):
        assert merged.tolist() == close_gaps(union(intervals), gap + 1).tolist()


@given(raw_intervals, st.lists(st.integers(0, 2), min_size=12, max_size=12))
def test_merge_never_mixes_groups(intervals, labels):
    groups = np.array(labels[: len(intervals)])
    merged, member = merge(intervals, groups=groups)
    for g in np.unique(groups):
        mine = merge(intervals[groups == g])[0]
        rows = np.unique(member[groups == g])
        assert merged[rows].tolist() == mine.tolist()


@given(raw_intervals, st.integers(1, 20))
def test_merge_with_a_longest_length(intervals, max_length):
    merged, member = merge(intervals, max_length=max_length)
    lengths = merged[:, 1] - merged[:, 0]
    alone = intervals[:, 1] - intervals[:, 0]
    # A merged interval is longer than the limit only when one input alone is.
    for row, length in enumerate(lengths):
        assert length <= max(max_length, alone[member == row].max())
    assert np.all(merged[member, 0] <= intervals[:, 0])
    assert np.all(merged[member, 1] >= intervals[:, 1])


def test_merge_in_seconds_keeps_exact_values():
    # 0.1 + 0.2 is 0.30000000000000004: the first interval touches the second exactly.
    starts = np.array([0.1, 0.30000000000000004, 0.7])
    merged, member = merge(np.stack([starts, starts + 0.2], axis=1))
    assert merged.tolist() == [[0.1, 0.30000000000000004 + 0.2], [0.7, 0.7 + 0.2]]
    assert member.tolist() == [0, 0, 1]
    assert merge(np.zeros((0, 2)))[0].shape == (0, 2)


@given(raw_intervals, raw_intervals)
def test_union_and_intersection_equal_the_samplewise_or_and_and(a, b):
    a_set, b_set = union(a), union(b)
    assert np.array_equal(cover(union(a, b)), cover(a) | cover(b))
    both = intersection(a_set, b_set)
    assert np.array_equal(cover(both), cover(a) & cover(b))
    assert total_length(both) == (cover(a) & cover(b)).sum()


@given(raw_intervals, raw_intervals)
def test_elementary_segments_measure_overlap_like_the_samplewise_count(a, b):
    groups = [np.zeros(len(a), np.int64), np.zeros(len(b), np.int64)]
    length, group, inside = elementary_segments([a, b], groups)
    ca, cb = cover(a), cover(b)
    assert length[inside[0] & inside[1]].sum() == (ca & cb).sum()
    assert length[inside[0] & ~inside[1]].sum() == (ca & ~cb).sum()
    assert length[~inside[0] & inside[1]].sum() == (~ca & cb).sum()
    assert np.all(group == 0)


def test_elementary_segments_keep_time_lines_apart():
    a = np.array([[0.0, 2.0], [0.0, 2.0]])
    b = np.array([[1.0, 3.0]])
    length, _, inside = elementary_segments([a, b], [np.array([0, 1]), np.array([1])])
    assert length[inside[0] & inside[1]].sum() == 1.0  # only the group-1 copy of a meets b
    assert length[inside[0] & ~inside[1]].sum() == 3.0


@pytest.mark.parametrize(
    ("a", "b", "overlap", "iou"),
    [
        ((0.0, 2.0), (1.0, 3.0), 1.0, 1 / 3),
        ((0.0, 1.0), (2.0, 3.0), -1.0, 0.0),
        ((0.0, 1.0), (0.0, 1.0), 1.0, 1.0),
        ((1.0, 1.0), (0.0, 2.0), 0.0, 0.0),
    ],
)
def test_pair_overlap_and_iou(a, b, overlap, iou):
    args = (np.array([a[0]]), np.array([a[1]]), np.array([b[0]]), np.array([b[1]]))
    assert pair_overlap(*args)[0] == overlap
    assert pair_iou(*args)[0] == pytest.approx(iou)


@settings(max_examples=50)
@given(masks)
def test_runs_of_a_2d_mask_are_of_the_flattened_mask(mask):
    assert runs(mask.reshape(1, -1)).tolist() == runs(mask).tolist()


@given(raw_intervals, raw_intervals)
def test_overlaps_any_equals_the_pairwise_test(a, b):
    # Points (start == stop) included: raw_intervals makes lengths from 0.
    want = [any(s < stop and e > start for s, e in b.tolist()) for start, stop in a.tolist()]
    assert overlaps_any(a, b).tolist() == want
    assert overlaps_any(a.astype(float) / 7, b.astype(float) / 7).tolist() == want


def test_overlaps_any_known_answers():
    a = np.array([[0.0, 1.0], [1.0, 2.0], [1.5, 1.5], [3.0, 4.0]])
    b = np.array([[2.0, 3.0], [1.2, 1.8]])
    assert overlaps_any(a, b).tolist() == [False, True, True, False]  # touching is apart
    assert overlaps_any(a, np.zeros((0, 2))).tolist() == [False] * 4
    assert overlaps_any(np.zeros((0, 2)), b).shape == (0,)
