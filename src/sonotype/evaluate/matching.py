"""One-to-one matching of predicted events to reference events.

Events are compared only within the same recording, channel and label. A reference event
and a predicted one *can* match when

- both are point events (``start_s == stop_s``): their onsets differ by at most
  ``tolerance_s``;
- otherwise, by default: their onsets differ by at most ``tolerance_s`` **and** their
  offsets by at most ``offset_tolerance_s`` (which defaults to ``tolerance_s``; pass
  ``math.inf`` to judge onsets alone);
- otherwise, when ``min_iou`` is given: their intersection over union (duration of the
  overlap over duration of the union) is at least ``min_iou``. A point event never overlaps
  an interval, so in this mode a point only matches a point.

Differences within :data:`TIME_EPSILON_S` (1 ns) of a tolerance count as inside it, so
decimal times match as written: with a 10 ms tolerance 1.00 and 1.01 match although
``1.01 - 1.00`` is 0.010000000000000009 in floating point.

Among the pairs that can match, an *optimal assignment* is chosen: each reference event
and each predicted event is used at most once, the number of matches is as large as
possible and, among the assignments with that many matches, the total time error
(``|onset error| + |offset error|``, the onset error alone for two points) is as small as
possible. Greedy matching (closest pairs first) is not optimal: with references at 0 and
10 ms, predictions at 6 and 16 ms and a 10 ms tolerance, the closest pair (10, 6) would
leave the reference at 0 and the prediction at 16 unmatched, while (0, 6) and (10, 16) match
both.

Algorithm: candidate pairs come from a sorted search (:func:`numpy.searchsorted`) over the
references' onsets, so the work grows with the number of candidate pairs rather than with
the product of the table sizes. The candidate pairs form a bipartite graph; each of its
connected components is solved on its own, components of a single pair directly and the
others with :func:`scipy.optimize.linear_sum_assignment` on a cost that rewards every match
more than any saving in time error can. A component whose dense cost matrix would exceed
:data:`DENSE_CELLS` cells (very crowded events: thousands within a few tolerances of each
other) goes to :func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching` instead, so
memory stays linear in the number of candidate pairs; that solver is exact too, but its
time can grow faster than linearly on such components.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import NamedTuple

import numpy as np
import pandas as pd

from sonotype.checks import check_number
from sonotype.evaluate._checks import (
    IOU_EPSILON,
    TIME_EPSILON_S,
    as_events,
    group_codes,
    select_labels,
)
from sonotype.intervals import pair_iou

#: Columns of the table :func:`match_events` returns, in order.
MATCH_COLUMNS = (
    "recording",
    "channel",
    "label",
    "ref_index",
    "pred_index",
    "ref_start_s",
    "ref_stop_s",
    "pred_start_s",
    "pred_stop_s",
    "onset_error_s",
    "offset_error_s",
    "iou",
)

_GROUP_KEYS = ("recording", "channel", "label")

#: Largest component (references times predictions) solved with a dense cost matrix
#: (32 MB); larger ones go to a sparse solver, whose memory grows with their pairs only.
DENSE_CELLS = 2**22


def match_events(
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    tolerance_s: float = 0.01,
    offset_tolerance_s: float | None = None,
    min_iou: float | None = None,
    labels: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Match predicted events to reference events one to one (see the module notes).

    Parameters
    ----------
    ref : DataFrame
        Events table of the reference (the truth).
    pred : DataFrame
        Events table of the predictions, with the same recording names as ``ref``
        (:func:`align_recordings` reconciles names that differ by their folders).
    tolerance_s : float
        Largest onset difference in seconds for a match (for intervals matched by IoU, used
        for point events only). The default is 0.01.
    offset_tolerance_s : float, optional
        Largest offset difference in seconds for intervals; defaults to ``tolerance_s``;
        ``math.inf`` judges onsets alone. Ignored when ``min_iou`` is given.
    min_iou : float, optional
        Match intervals by overlap instead: intersection over union at least ``min_iou``,
        in (0, 1].
    labels : str or sequence of str, optional
        Evaluate only these labels (each must occur in ``ref`` or ``pred``); all by default.

    Returns
    -------
    DataFrame
        One row per matched pair, sorted by recording, channel, label and reference onset,
        with columns :data:`MATCH_COLUMNS`: ``ref_index`` and ``pred_index`` are the index
        labels of the rows in ``ref`` and ``pred`` (their row numbers for the usual
        RangeIndex); ``onset_error_s`` is ``pred_start_s - ref_start_s``;
        ``offset_error_s`` is ``pred_stop_s - ref_stop_s`` (NaN when both are points,
        which have no offset); ``iou`` is the intersection over union (NaN for two points).
        The signed errors are the error distributions, e.g.
        ``matches.loc[matches.label == "a", "onset_error_s"]``.

    Raises
    ------
    ParameterError
        A table that is not an Events table, a negative tolerance, ``min_iou`` outside
        (0, 1], or a requested label that occurs in neither table.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ref = make_events("s.wav", [1.0, 2.0], [1.0, 2.0], "pulse")
    >>> pred = make_events("s.wav", [1.004, 2.5], [1.004, 2.5], "pulse")
    >>> m = match_events(ref, pred, tolerance_s=0.01)
    >>> m[["ref_index", "pred_index"]].to_numpy().tolist(), round(float(m.onset_error_s[0]), 6)
    ([[0, 0]], 0.004)
    """
    ref_index, pred_index = _index_of(ref), _index_of(pred)
    ref, pred = as_events(ref, name="ref"), as_events(pred, name="pred")
    criterion = Criterion.check(
        tolerance_s=tolerance_s, offset_tolerance_s=offset_tolerance_s, min_iou=min_iou
    )
    chosen = select_labels(labels, ref, pred)
    return match_validated(
        ref, pred, criterion=criterion, labels=chosen, ref_index=ref_index, pred_index=pred_index
    )


class Criterion(NamedTuple):
    """When two events can match (checked parameters of :func:`match_events`)."""

    tolerance_s: float
    offset_tolerance_s: float
    min_iou: float | None

    @classmethod
    def check(
        cls,
        *,
        tolerance_s: float,
        offset_tolerance_s: float | None,
        min_iou: float | None,
    ) -> Criterion:
        """Validate the parameters (ParameterError naming the one at fault)."""
        tolerance_s = check_number(
            tolerance_s, name="tolerance_s", minimum=0, unit="seconds", default=0.01
        )
        offset_tolerance_s = check_number(
            tolerance_s if offset_tolerance_s is None else offset_tolerance_s,
            name="offset_tolerance_s",
            minimum=0,
            unit="seconds",
            allow_inf=True,
            hint="None uses tolerance_s; math.inf ignores offsets",
        )
        if min_iou is not None:
            min_iou = check_number(
                min_iou,
                name="min_iou",
                minimum=0,
                maximum=1,
                inclusive="right",
                hint="0.5 is usual, or None to match intervals by onset and offset tolerance",
            )
        return cls(tolerance_s, offset_tolerance_s, min_iou)


def match_validated(
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    criterion: Criterion,
    labels: list[str],
    ref_index: np.ndarray | None = None,
    pred_index: np.ndarray | None = None,
) -> pd.DataFrame:
    """:func:`match_events` on validated tables, checked parameters and chosen labels;
    ``ref_index`` / ``pred_index`` name the rows (default: row numbers)."""
    tolerance_s, offset_tolerance_s, min_iou = criterion
    ref_index = np.arange(len(ref)) if ref_index is None else ref_index
    pred_index = np.arange(len(pred)) if pred_index is None else pred_index
    ref_rows = np.flatnonzero(ref["label"].isin(labels).to_numpy())
    pred_rows = np.flatnonzero(pred["label"].isin(labels).to_numpy())
    ref, pred = ref.iloc[ref_rows], pred.iloc[pred_rows]
    (ref_group, pred_group), _ = group_codes((ref, pred), _GROUP_KEYS)

    rs, re = ref["start_s"].to_numpy(), ref["stop_s"].to_numpy()
    ps, pe = pred["start_s"].to_numpy(), pred["stop_s"].to_numpy()
    r, p = _candidates(rs, re, ref_group, ps, pe, pred_group, tolerance_s, min_iou)

    onset_error = ps[p] - rs[r]
    offset_error = pe[p] - re[r]
    both_points = (rs[r] == re[r]) & (ps[p] == pe[p])
    iou = np.where(both_points, np.nan, pair_iou(rs[r], re[r], ps[p], pe[p]))
    onset_ok = np.abs(onset_error) <= tolerance_s + TIME_EPSILON_S
    if min_iou is None:
        offset_ok = np.abs(offset_error) <= offset_tolerance_s + TIME_EPSILON_S
        ok = onset_ok & (both_points | offset_ok)
    else:
        ok = np.where(both_points, onset_ok, np.nan_to_num(iou) + IOU_EPSILON >= min_iou)
    r, p = r[ok], p[ok]
    offset_error = np.where(both_points[ok], np.nan, offset_error[ok])
    cost = np.abs(onset_error[ok]) + np.nan_to_num(np.abs(offset_error))
    keep = _assign(r, p, cost)
    r, p, iou = r[keep], p[keep], iou[ok][keep]

    matches = pd.DataFrame(
        {
            "recording": ref["recording"].to_numpy()[r].astype(str),
            "channel": ref["channel"].to_numpy()[r].astype(np.int64),
            "label": ref["label"].to_numpy()[r].astype(str),
            "ref_index": ref_index[ref_rows[r]],
            "pred_index": pred_index[pred_rows[p]],
            "ref_start_s": rs[r],
            "ref_stop_s": re[r],
            "pred_start_s": ps[p],
            "pred_stop_s": pe[p],
            "onset_error_s": ps[p] - rs[r],
            "offset_error_s": offset_error[keep],
            "iou": iou,
        },
        columns=list(MATCH_COLUMNS),
    )
    order = np.lexsort((rs[r], ref_group[r]))
    return matches.iloc[order].reset_index(drop=True)


def align_recordings(
    ref: pd.DataFrame, pred: pd.DataFrame
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Rename ``pred``'s recordings to ``ref``'s names where they name the same recording.

    A predicted recording name matches the reference name that is identical; failing that,
    the reference name with the same file name without folders (``bird1.wav`` for
    ``day2/bird1.wav``), provided that file name is unique among the reference names and
    among the predicted names.

    Parameters
    ----------
    ref, pred : DataFrame
        Events tables.

    Returns
    -------
    pred : DataFrame
        A copy of ``pred`` (validated, fresh index) with the reference names.
    only_ref : list of str
        Reference recordings that no prediction names, sorted.
    only_pred : list of str
        Predicted recordings that name no reference recording, sorted (with their own names).

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ref = make_events(["day1/a.wav", "day1/b.wav"], [1, 2], [1, 2], "x")
    >>> pred = make_events(["a.wav", "c.wav"], [1, 2], [1, 2], "x")
    >>> aligned, only_ref, only_pred = align_recordings(ref, pred)
    >>> aligned.recording.tolist(), only_ref, only_pred
    (['day1/a.wav', 'c.wav'], ['day1/b.wav'], ['c.wav'])
    """
    ref, pred = as_events(ref, name="ref"), as_events(pred, name="pred")
    ref_names, pred_names = set(ref["recording"]), set(pred["recording"])
    renames = {name: name for name in ref_names & pred_names}

    def by_file_name(names: set[str]) -> dict[str, str]:
        found: dict[str, list[str]] = {}
        for name in names:
            found.setdefault(PurePosixPath(name).name, []).append(name)
        return {base: group[0] for base, group in found.items() if len(group) == 1}

    ref_bases, pred_bases = by_file_name(ref_names), by_file_name(pred_names)
    taken = set(renames.values())
    for base, pred_name in pred_bases.items():
        ref_name = ref_bases.get(base)
        if pred_name not in renames and ref_name is not None and ref_name not in taken:
            renames[pred_name] = ref_name
            taken.add(ref_name)
    aligned = pred.assign(recording=pred["recording"].map(lambda n: renames.get(n, n)))
    only_ref = sorted(ref_names - taken)
    only_pred = sorted(pred_names - set(renames))
    return aligned, only_ref, only_pred


def _index_of(table: object) -> np.ndarray:
    return table.index.to_numpy() if isinstance(table, pd.DataFrame) else np.zeros(0)


def _candidates(rs, re, ref_group, ps, pe, pred_group, tolerance_s, min_iou):
    """(ref, pred) position pairs that may match: same group, and the reference onset in a
    window around the prediction that contains every pair the criterion can accept."""
    reach = tolerance_s + 2 * TIME_EPSILON_S
    lo, hi = ps - reach, ps + reach
    if min_iou is not None and len(rs):
        # An overlapping reference starts after pred start minus the longest reference.
        longest = np.zeros(int(max(ref_group.max(), pred_group.max(initial=0))) + 1)
        np.maximum.at(longest, ref_group, re - rs)
        lo = np.minimum(lo, ps - longest[pred_group] - reach)
        hi = np.maximum(hi, pe + reach)
    return window_pairs(ref_group, rs, pred_group, lo, hi)


def window_pairs(
    group: np.ndarray,
    t: np.ndarray,
    query_group: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``(i, q)`` with ``group[i] == query_group[q]`` and ``lo[q] <= t[i] <= hi[q]``.

    Exact (the times are compared by rank, never by a rounded combined key), and linear in
    the number of pairs after one sort.

    Returns
    -------
    i, q : ndarray of int64
        Positions in ``t`` and in the queries, grouped by query.
    """
    n, nq = len(t), len(lo)
    if n == 0 or nq == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    values, rank = np.unique(np.concatenate([t, lo, hi]), return_inverse=True)
    scale = np.int64(len(values) + 1)
    key = group.astype(np.int64) * scale + rank[:n]
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    query_group = query_group.astype(np.int64) * scale
    first = np.searchsorted(sorted_key, query_group + rank[n : n + nq], side="left")
    last = np.searchsorted(sorted_key, query_group + rank[n + nq :], side="right")
    counts = np.maximum(last - first, 0)
    total = int(counts.sum())
    q = np.repeat(np.arange(nq, dtype=np.int64), counts)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    i = order[np.repeat(first, counts) + within]
    return i.astype(np.int64), q


def _assign(r: np.ndarray, p: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Indices into the candidate pairs of an optimal one-to-one assignment: most pairs,
    then least total cost. Each connected component of the pair graph is solved alone:
    a component with one reference or one prediction (a star; the usual case) by taking
    its cheapest pair, one of two references and two predictions by comparing its two
    matchings, any other by linear_sum_assignment on a dense matrix, or, when that would
    exceed :data:`DENSE_CELLS`, by a sparse solver (memory linear in the pairs)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(r) == 0:
        return np.zeros(0, np.int64)
    # Nodes: the references involved, then the predictions involved.
    ref_nodes, r_node = np.unique(r, return_inverse=True)
    pred_nodes, p_node = np.unique(p, return_inverse=True)
    n_nodes = len(ref_nodes) + len(pred_nodes)
    graph = coo_matrix((np.ones(len(r)), (r_node, p_node + len(ref_nodes))), (n_nodes, n_nodes))
    n_components, component_of_node = connected_components(graph, directed=False)
    component = component_of_node[r_node]
    r_rank, n_refs = _ranks_within(component, r_node, n_components)
    p_rank, n_preds = _ranks_within(component, p_node, n_components)

    # Stars: the cheapest pair of each (the first by component, then cost).
    by_cost = np.lexsort((cost, component))
    first = np.r_[True, np.diff(component[by_cost]) != 0]
    cheapest = by_cost[first]
    star = (n_refs == 1) | (n_preds == 1)
    chosen = [cheapest[star[component[cheapest]]]]

    # Two references and two predictions (a chain, the next most usual case): three or four
    # pairs always hold both ways of matching two with two; take the cheaper possible one.
    square = (n_refs == 2) & (n_preds == 2)
    chosen.append(_two_by_two(np.flatnonzero(square[component]), component, r_rank, p_rank, cost))

    crowded = np.flatnonzero(~(star | square)[component])
    crowded = crowded[np.argsort(component[crowded], kind="stable")]
    bounds = np.flatnonzero(np.diff(component[crowded])) + 1
    huge = []
    for pairs in np.split(crowded, bounds) if len(crowded) else []:
        c = component[pairs[0]]
        if n_refs[c] * n_preds[c] > DENSE_CELLS:
            huge.append(pairs)
            continue
        rows, cols = r_rank[pairs], p_rank[pairs]
        # A match is worth more than any total cost, so the count of matches comes first.
        reward = 1.0 + float(cost[pairs].sum())
        matrix = np.zeros((n_refs[c], n_preds[c]))
        matrix[rows, cols] = cost[pairs] - reward
        pair_at = np.full((n_refs[c], n_preds[c]), -1, np.int64)
        pair_at[rows, cols] = pairs
        picked = pair_at[linear_sum_assignment(matrix)]
        chosen.append(picked[picked >= 0])
    if huge:
        chosen.append(_sparse_assignment(np.concatenate(huge), component, r_node, p_node, cost))
    return np.sort(np.concatenate(chosen))


def _sparse_assignment(pairs, component, r_node, p_node, cost) -> np.ndarray:
    """An optimal assignment of the given pairs (whole components) in one sparse problem.

    Each reference also gets a column of its own, "unmatched", priced above any saving in
    time error its component can offer, so a full matching of the references always exists
    and the solver's least total cost has the most matches first, then the least error.
    Memory and, on these local graphs, time grow with the number of pairs (a dense matrix per
    component would grow with its references times its predictions).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    if len(pairs) == 0:
        return np.zeros(0, np.int64)
    rows_of, rows = np.unique(r_node[pairs], return_inverse=True)
    _, cols = np.unique(p_node[pairs], return_inverse=True)
    n_rows, n_cols = len(rows_of), int(cols.max()) + 1
    # Costs are shifted by 1 because the solver drops explicit zeros (a perfect pair).
    price = 1.0 + cost[pairs]
    _, comp = np.unique(component[pairs], return_inverse=True)
    n_pairs = np.bincount(comp)
    worst = np.zeros(len(n_pairs))
    np.maximum.at(worst, comp, price)
    # One more match outweighs any change in the summed prices of the others.
    unmatched = np.zeros(n_rows)
    unmatched[rows] = (2.0 + n_pairs * worst)[comp]
    graph = csr_matrix(
        (
            np.concatenate([price, unmatched]),
            (
                np.concatenate([rows, np.arange(n_rows)]),
                np.concatenate([cols, n_cols + np.arange(n_rows)]),
            ),
        ),
        shape=(n_rows, n_cols + n_rows),
    )
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    matched = col_ind < n_cols
    key = rows.astype(np.int64) * n_cols + cols
    order = np.argsort(key)
    found = row_ind[matched].astype(np.int64) * n_cols + col_ind[matched]
    return pairs[order[np.searchsorted(key, found, sorter=order)]]


def _two_by_two(pairs, component, r_rank, p_rank, cost) -> np.ndarray:
    """The cheaper perfect matching of each component of two references and two predictions."""
    if len(pairs) == 0:
        return np.zeros(0, np.int64)
    _, box = np.unique(component[pairs], return_inverse=True)
    at = np.full((box.max() + 1, 2, 2), -1, np.int64)
    at[box, r_rank[pairs], p_rank[pairs]] = pairs
    price = np.where(at >= 0, cost[at], np.inf)
    straight = price[:, 0, 0] + price[:, 1, 1]
    crossed = price[:, 0, 1] + price[:, 1, 0]
    use_straight = (straight <= crossed)[:, None]
    return np.where(use_straight, at[:, [0, 1], [0, 1]], at[:, [0, 1], [1, 0]]).ravel()


def _ranks_within(component: np.ndarray, node: np.ndarray, n_components: int):
    """Dense rank of each pair's ``node`` among the distinct nodes of its component, and the
    number of distinct nodes of each component."""
    order = np.lexsort((node, component))
    c, n = component[order], node[order]
    new = np.r_[True, (np.diff(c) != 0) | (np.diff(n) != 0)]
    running = np.cumsum(new) - 1
    component_start = np.r_[True, np.diff(c) != 0]
    offset = np.maximum.accumulate(np.where(component_start, running, 0))
    rank = np.empty(len(node), np.int64)
    rank[order] = running - offset
    counts = np.bincount(c[new], minlength=n_components)
    return rank, counts
