"""Interval arithmetic on ``(n, 2)`` arrays of ``[start, stop)`` bounds.

The bounds may be sample indices (int64, as the detectors use) or seconds (float64, as the
Events tables use); every function works on both and returns the dtype it was given.
"Sorted, disjoint" means what :func:`runs` and :func:`merge` return: starts increasing,
each interval stopping before the next starts.

- :func:`runs`: the runs of True in a boolean mask.
- :func:`close_gaps`, :func:`drop_short`: morphological closing and opening of sorted,
  disjoint intervals.
- :func:`merge`: intervals in any order merged where they overlap, touch or lie within
  ``gap`` of each other (optionally only within groups, and up to a longest length), with
  the merged interval each input belongs to.
- :func:`union`, :func:`complement`, :func:`intersection`, :func:`total_length`.
- :func:`pair_overlap`, :func:`pair_iou`: overlap and intersection over union of the rows of
  two arrays, pair by pair.
- :func:`overlaps_any`: which intervals of one set overlap some interval of another.
- :func:`elementary_segments`: the time line of several interval sets, cut at every bound,
  with which sets cover each piece (the sweep behind overlap durations).

Examples
--------
>>> runs(np.array([0, 1, 1, 0, 1], bool)).tolist()
[[1, 3], [4, 5]]
>>> merge(np.array([[5.0, 6.0], [0.0, 2.0], [1.0, 3.0]]))[0].tolist()
[[0.0, 3.0], [5.0, 6.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: An ``(n, 2)`` array of ``[start, stop)`` bounds.
Intervals = np.ndarray


def as_intervals(intervals, *, dtype=None) -> np.ndarray:
    """``intervals`` as an ``(n, 2)`` array (an empty input becomes shape ``(0, 2)``)."""
    array = np.asarray(intervals, dtype=dtype)
    return array.reshape(-1, 2)


def runs(mask: np.ndarray) -> Intervals:
    """The ``[start, stop)`` runs of True in a boolean array, int64, sorted and disjoint.

    Examples
    --------
    >>> runs(np.array([0, 1, 1, 0, 1], bool)).tolist()
    [[1, 3], [4, 5]]
    """
    padded = np.concatenate(([False], np.asarray(mask, bool).ravel(), [False]))
    edges = np.flatnonzero(np.diff(padded.view(np.int8)))
    return edges.reshape(-1, 2).astype(np.int64)


def close_gaps(intervals: Intervals, min_gap) -> Intervals:
    """Sorted, disjoint intervals with every gap shorter than ``min_gap`` closed
    (a morphological closing).

    Examples
    --------
    >>> close_gaps(np.array([[0, 2], [3, 5], [9, 10]]), 2).tolist()
    [[0, 5], [9, 10]]
    """
    if len(intervals) < 2 or min_gap <= 0:
        return intervals
    gaps = intervals[1:, 0] - intervals[:-1, 1]
    keep = np.concatenate(([True], gaps >= min_gap))
    starts = intervals[keep, 0]
    stops = intervals[np.concatenate((keep[1:], [True])), 1]
    return np.stack([starts, stops], axis=1)


def drop_short(intervals: Intervals, min_length) -> Intervals:
    """Intervals at least ``min_length`` long (a morphological opening).

    Examples
    --------
    >>> drop_short(np.array([[0, 2], [3, 8]]), 3).tolist()
    [[3, 8]]
    """
    if min_length <= 0:
        return intervals
    return intervals[(intervals[:, 1] - intervals[:, 0]) >= min_length]


def complement(intervals: Intervals, stop, *, start=0) -> Intervals:
    """The gaps between sorted, disjoint ``intervals`` within ``[start, stop)``.

    Examples
    --------
    >>> complement(np.array([[2, 4], [6, 7]]), 10).tolist()
    [[0, 2], [4, 6], [7, 10]]
    """
    intervals = as_intervals(intervals)
    edges = np.concatenate(([start], intervals.ravel(), [stop])).reshape(-1, 2)
    return edges[edges[:, 1] > edges[:, 0]]


def merge(
    intervals: Intervals, *, gap=0, groups: np.ndarray | None = None, max_length=None
) -> tuple[Intervals, np.ndarray]:
    """Intervals in any order merged where they overlap, touch, or lie at most ``gap``
    apart, never across ``groups`` (e.g. recordings) and, with ``max_length``, never into
    an interval longer than that (then an interval that would overflow starts a new one).

    Returns
    -------
    merged : array, shape (m, 2)
        Sorted by group, then start; within a group sorted and disjoint.
    member : array of int, shape (n,)
        The row of ``merged`` each input interval belongs to; each input lies inside it.

    Examples
    --------
    >>> merged, member = merge(np.array([[4, 5], [0, 2], [2, 3]]))
    >>> merged.tolist(), member.tolist()
    ([[0, 3], [4, 5]], [1, 0, 0])
    >>> merge(np.array([[0, 2], [3, 5]]), gap=1)[0].tolist()
    [[0, 5]]
    """
    intervals = as_intervals(intervals)
    n = len(intervals)
    if n == 0:
        return intervals.copy(), np.zeros(0, np.intp)
    starts, stops = intervals[:, 0], intervals[:, 1]
    if groups is None:
        order = np.argsort(starts, kind="stable")
        group_change = np.zeros(n, bool)
    else:
        groups = np.asarray(groups)
        order = np.lexsort((starts, groups))
        sorted_groups = groups[order]
        group_change = np.r_[False, sorted_groups[1:] != sorted_groups[:-1]]
    starts, stops = starts[order], stops[order]
    if max_length is None:
        new = _new_without_limit(starts, stops, group_change, gap)
    else:
        new = _new_with_limit(starts, stops, group_change, gap, max_length)
    segment = np.cumsum(new) - 1
    merged_stops = np.full(int(new.sum()), stops.min(), dtype=stops.dtype)
    np.maximum.at(merged_stops, segment, stops)
    merged = np.stack([starts[new], merged_stops], axis=1)
    member = np.empty(n, np.intp)
    member[order] = segment
    return merged, member


def _new_without_limit(starts, stops, group_change, gap) -> np.ndarray:
    """Which sorted intervals start a merged one: a new group, or a start beyond the reach
    (latest stop so far, plus ``gap``) of the group's earlier intervals."""
    # The running maximum of stops, restarted in each group, exactly: on the stops' ranks,
    # lifted by group so that no earlier group's rank exceeds a later group's.
    values, rank = np.unique(stops, return_inverse=True)
    lift = np.cumsum(group_change) * len(values)
    reach = values[np.maximum.accumulate(rank.ravel() + lift) - lift]
    beyond = starts[1:] > reach[:-1] + gap
    return np.r_[True, beyond | group_change[1:]]


def _new_with_limit(starts, stops, group_change, gap, max_length) -> np.ndarray:
    """As :func:`_new_without_limit`, also starting anew where the merged interval would
    grow longer than ``max_length`` (greedy, in order of start)."""
    new = np.zeros(len(starts), bool)
    new[0] = True
    first, reach = starts[0], stops[0]
    for i in range(1, len(starts)):
        grown = max(reach, stops[i])
        if not group_change[i] and starts[i] <= reach + gap and grown - first <= max_length:
            reach = grown
            continue
        new[i] = True
        first, reach = starts[i], stops[i]
    return new


def union(*interval_sets: Intervals) -> Intervals:
    """Sorted, disjoint union of interval sets (touching intervals merge).

    Examples
    --------
    >>> union(np.array([[0, 2]]), np.array([[2, 3], [5, 6]])).tolist()
    [[0, 3], [5, 6]]
    """
    both = np.concatenate([as_intervals(s) for s in interval_sets])
    if not len(both):
        return both.astype(np.int64) if both.dtype.kind in "iub" else both
    return merge(both)[0]


def intersection(a: Intervals, b: Intervals) -> Intervals:
    """The intersection of two sets of sorted, disjoint intervals (empty pieces dropped).

    Examples
    --------
    >>> intersection(np.array([[0, 5], [8, 12]]), np.array([[3, 9], [11, 20]])).tolist()
    [[3, 5], [8, 9], [11, 12]]
    """
    a, b = as_intervals(a), as_intervals(b)
    if not len(a) or not len(b):
        return np.zeros((0, 2), np.result_type(a.dtype, b.dtype))
    # Each interval of a meets the intervals of b from the first that stops after its start
    # to the last that starts before its stop.
    lo = np.searchsorted(b[:, 1], a[:, 0], side="right")
    hi = np.searchsorted(b[:, 0], a[:, 1], side="left")
    counts = np.maximum(hi - lo, 0)
    rows_a = np.repeat(np.arange(len(a)), counts)
    rows_b = (
        np.repeat(lo, counts)
        + np.arange(counts.sum())
        - np.repeat(np.cumsum(counts) - counts, counts)
    )
    starts = np.maximum(a[rows_a, 0], b[rows_b, 0])
    stops = np.minimum(a[rows_a, 1], b[rows_b, 1])
    keep = stops > starts
    return np.stack([starts[keep], stops[keep]], axis=1)


def total_length(intervals: Intervals):
    """Summed length of ``intervals`` (overlaps counted once per interval)."""
    intervals = as_intervals(intervals)
    return (intervals[:, 1] - intervals[:, 0]).sum()


def pair_overlap(a_starts, a_stops, b_starts, b_stops) -> np.ndarray:
    """Length of the overlap of interval ``a[i]`` with ``b[i]``, pair by pair; negative
    when they are apart (minus the gap between them)."""
    return np.minimum(a_stops, b_stops) - np.maximum(a_starts, b_starts)


def overlaps_any(intervals: Intervals, others: Intervals) -> np.ndarray:
    """Whether each of ``intervals`` overlaps some interval of ``others`` (both in any
    order, overlaps allowed): one of them starts before its stop and stops after its start.

    Touching is no overlap; a point (``start == stop``) overlaps an interval strictly
    around it, and a point strictly inside it.

    Examples
    --------
    >>> overlaps_any(np.array([[0, 2], [2, 3], [5, 9]]), np.array([[6, 7], [1, 2]])).tolist()
    [True, False, True]
    """
    intervals, others = as_intervals(intervals), as_intervals(others)
    if not len(others):
        return np.zeros(len(intervals), bool)
    order = np.argsort(others[:, 0], kind="stable")
    starts = others[order, 0]
    # The latest stop among the others starting before each point: one of them reaches
    # past an interval's start exactly when the latest does.
    reach = np.maximum.accumulate(others[order, 1])
    n_before = np.searchsorted(starts, intervals[:, 1], side="left")
    return (n_before > 0) & (reach[np.maximum(n_before - 1, 0)] > intervals[:, 0])


def pair_iou(a_starts, a_stops, b_starts, b_stops) -> np.ndarray:
    """Intersection over union of interval ``a[i]`` with ``b[i]``, pair by pair: 0 when
    they are apart, NaN when both are the same point (no union).

    Examples
    --------
    >>> pair_iou(np.array([0.0, 0.0]), np.array([2.0, 1.0]), np.array([1.0, 3.0]),
    ...          np.array([3.0, 4.0])).tolist()
    [0.3333333333333333, 0.0]
    """
    overlap = pair_overlap(a_starts, a_stops, b_starts, b_stops)
    union_length = np.maximum(a_stops, b_stops) - np.minimum(a_starts, b_starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(overlap, 0, None) / union_length


def elementary_segments(
    sets: Sequence[Intervals], groups: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The time lines of several interval sets, cut at every bound: one sweep.

    Parameters
    ----------
    sets : sequence of k arrays, shape (n_i, 2)
        Interval sets, in any order; intervals of one set may overlap.
    groups : sequence of k int arrays, shape (n_i,)
        The time line (recording, channel, ...) of each interval; time lines never mix.

    Returns
    -------
    length : array, shape (m,)
        Length of each piece between consecutive bounds (0 between time lines).
    group : array of int, shape (m,)
        The time line of each piece.
    inside : bool array, shape (k, m)
        Whether some interval of set ``i`` covers the piece.

    Examples
    --------
    >>> length, group, inside = elementary_segments(
    ...     [np.array([[0.0, 2.0]]), np.array([[1.0, 3.0]])], [np.array([0]), np.array([0])])
    >>> length.tolist(), inside.tolist()
    ([1.0, 1.0, 1.0], [[True, True, False], [False, True, True]])
    """
    sets = [as_intervals(s) for s in sets]
    t = np.concatenate([np.concatenate([s[:, 0], s[:, 1]]) for s in sets]).astype(np.float64)
    g = np.concatenate([np.concatenate([code, code]) for code in groups])
    order = np.lexsort((t, g))
    t, g = t[order], g[order]
    inside = np.zeros((len(sets), max(len(t) - 1, 0)), bool)
    for which in range(len(sets)):
        step = [np.zeros(2 * len(s), np.int64) for s in sets]
        step[which] = np.repeat(np.array([1, -1], np.int64), len(sets[which]))
        # Each time line's steps sum to zero, so the running counts restart at 0 in each.
        inside[which] = np.cumsum(np.concatenate(step)[order])[:-1] > 0
    length = np.where(g[1:] == g[:-1], np.diff(t), 0.0)
    return length, g[:-1], inside
