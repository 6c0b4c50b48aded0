"""Misses: sounds a detector found that the classifier labelled as nothing.

In SongExplorer's loop of training, predicting and fixing, a detector (amplitude or
time-frequency thresholds) finds every sound that might be of interest; a classifier then
labels some of them. The detected sounds that no predicted event covers are the *misses*:
the annotator reviews them to find what the classifier has yet to learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sonotype.checks import check_number
from sonotype.evaluate._checks import TIME_EPSILON_S, as_events, group_codes


def misses(
    detected: pd.DataFrame,
    predicted: pd.DataFrame,
    *,
    tolerance_s: float = 0.0,
) -> pd.DataFrame:
    """The detected events that no predicted event covers.

    A predicted event *covers* a detected one when both are in the same recording and
    channel and their time spans, taken as closed intervals, are at most ``tolerance_s``
    apart: they overlap, touch, or leave a gap of at most ``tolerance_s``. So a predicted
    point inside a detected interval covers it, and a detected point inside a predicted
    interval is covered. Every predicted event counts, whatever its label or kind; select
    rows of ``predicted`` first to leave some out (e.g. a background label).

    Parameters
    ----------
    detected : DataFrame
        Events table of the detector's events.
    predicted : DataFrame
        Events table of the classifier's events (e.g. from
        :func:`sonotype.models.ethogram.ethogram`).
    tolerance_s : float, seconds
        Largest gap between a detected and a predicted event that still counts as covering
        (>= 0). Default 0: they must overlap or touch.

    Returns
    -------
    DataFrame
        Events table of the uncovered detected events, in their order in ``detected``, with
        their recording, times, label, channel and optional columns, ``kind`` "missed" and
        ``source`` "misses".

    Raises
    ------
    ParameterError
        A table that is not an Events table, or a negative or non-finite ``tolerance_s``.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> detected = make_events("s.wav", [0.0, 1.0, 2.0], [0.5, 1.5, 2.0], "sound",
    ...                        kind="detected")
    >>> predicted = make_events("s.wav", [0.2, 1.9], [0.2, 2.1], ["pulse", "sine"])
    >>> missed = misses(detected, predicted)
    >>> missed[["start_s", "stop_s", "kind", "source"]].to_records(index=False).tolist()
    [(1.0, 1.5, 'missed', 'misses')]
    """
    detected = as_events(detected, name="detected")
    predicted = as_events(predicted, name="predicted")
    tolerance_s = check_number(
        tolerance_s, name="tolerance_s", minimum=0, unit="seconds", default=0
    )
    keep = ~covered(detected, predicted, tolerance_s=tolerance_s)
    missed = detected[keep].assign(kind="missed", source="misses")
    return missed.reset_index(drop=True)


def covered(a: pd.DataFrame, b: pd.DataFrame, *, tolerance_s: float = 0.0) -> np.ndarray:
    """Which events of ``a`` some event of ``b`` covers (see :func:`misses`).

    Parameters
    ----------
    a, b : DataFrame
        Validated Events tables.
    tolerance_s : float, seconds
        Largest gap between the closed time spans that still counts as covering.

    Returns
    -------
    ndarray of bool, shape (len(a),)
        True where an event of ``b`` in the same recording and channel starts at most
        ``tolerance_s`` (+ :data:`TIME_EPSILON_S`) after the event of ``a`` stops and
        stops at most that long before it starts.

    Notes
    -----
    One sort, no pairs: ``b`` is sorted by (recording, channel, start); for each event of
    ``a``, a binary search finds the events of its group that start early enough, a prefix
    maximum of their stops says whether any of them stops late enough. Times are compared
    through their ranks among all the times involved, so groups never mix and no
    precision is lost.
    """
    if len(a) == 0 or len(b) == 0:
        return np.zeros(len(a), bool)
    (group_a, group_b), _ = group_codes((a, b), ("recording", "channel"))
    reach = tolerance_s + TIME_EPSILON_S
    latest = a["stop_s"].to_numpy() + reach  # b must start at or before this
    earliest = a["start_s"].to_numpy() - reach  # and stop at or after this
    b_start, b_stop = b["start_s"].to_numpy(), b["stop_s"].to_numpy()

    start_rank_b, start_rank_a, scale_start = _ranks(b_start, latest)
    stop_rank_b, stop_rank_a, scale_stop = _ranks(b_stop, earliest)
    start_key = group_b * scale_start + start_rank_b
    order = np.argsort(start_key, kind="stable")
    # Stops keyed by group too: the running maximum never carries a stop into a later group
    # as a match, since every key of an earlier group is below the group's smallest key.
    reach_key = np.maximum.accumulate((group_b * scale_stop + stop_rank_b)[order])
    last = np.searchsorted(start_key[order], group_a * scale_start + start_rank_a, "right") - 1
    found = last >= 0
    return found & (reach_key[np.maximum(last, 0)] >= group_a * scale_stop + stop_rank_a)


def _ranks(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.int64]:
    """Dense ranks of ``x`` and ``y`` among their union, and a scale above every rank."""
    values, rank = np.unique(np.concatenate([x, y]), return_inverse=True)
    rank = rank.ravel().astype(np.int64)
    return rank[: len(x)], rank[len(x) :], np.int64(len(values) + 1)
