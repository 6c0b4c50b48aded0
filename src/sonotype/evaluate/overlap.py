"""Sample-level ("tic") scores: how much of the time two annotations agree.

Each label's intervals (in each recording and channel) are taken as a set of time: the
union of the intervals, so overlapping intervals of one label count once. Durations of
intersections and unions are computed exactly from the interval boundaries, by a sweep
over the sorted boundaries, with no masks and no time resolution. Point events have no
duration and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from sonotype.evaluate._checks import ALL_LABELS, as_events, group_codes, ratio, select_labels
from sonotype.intervals import elementary_segments

#: Columns of the table :func:`overlap_scores` returns, in order.
OVERLAP_COLUMNS = (
    "label",
    "ref_duration_s",
    "pred_duration_s",
    "overlap_s",
    "precision",
    "recall",
    "f1",
)


def overlap_scores(
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    labels: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Time-based precision and recall of each label's intervals.

    For each label, summed over recordings and channels: ``overlap_s`` is the duration
    covered by both the reference and the predicted intervals; precision is
    ``overlap_s / pred_duration_s``, recall ``overlap_s / ref_duration_s``, F1 their
    harmonic mean, ``2 overlap_s / (ref_duration_s + pred_duration_s)``. A ratio whose
    denominator is 0 is NaN (as for event scores: no predicted time gives precision NaN,
    recall 0 and F1 0).

    Parameters
    ----------
    ref, pred : DataFrame
        Events tables with the same recording names.
    labels : str or sequence of str, optional
        Evaluate only these labels; all by default.

    Returns
    -------
    DataFrame
        Columns :data:`OVERLAP_COLUMNS`, one row per label and a last row labelled
        ``"(all)"`` that sums the durations of every label (micro average).

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ref = make_events("s.wav", [0.0, 2.0], [1.0, 3.0], "a")
    >>> pred = make_events("s.wav", [0.5], [2.5], "a")
    >>> overlap_scores(ref, pred).loc[0, ["overlap_s", "precision", "recall"]].tolist()
    [1.0, 0.5, 0.5]
    """
    ref, pred = as_events(ref, name="ref"), as_events(pred, name="pred")
    chosen = select_labels(labels, ref, pred)
    ref = ref[ref["label"].isin(chosen)]
    pred = pred[pred["label"].isin(chosen)]
    cover = coverage_durations(ref, pred, keys=("recording", "channel", "label"))
    per_label = cover.groupby("label")[["both_s", "only_a_s", "only_b_s"]].sum()
    per_label = per_label.reindex(chosen, fill_value=0.0)
    totals = per_label.sum().to_frame(ALL_LABELS).T
    table = pd.concat([per_label, totals])
    both = table["both_s"].to_numpy(np.float64)
    ref_s = both + table["only_a_s"].to_numpy(np.float64)
    pred_s = both + table["only_b_s"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "label": table.index.astype(str),
            "ref_duration_s": ref_s,
            "pred_duration_s": pred_s,
            "overlap_s": both,
            "precision": ratio(both, pred_s),
            "recall": ratio(both, ref_s),
            "f1": ratio(2 * both, ref_s + pred_s),
        },
        columns=list(OVERLAP_COLUMNS),
    )


def coverage_durations(a: pd.DataFrame, b: pd.DataFrame, *, keys: tuple[str, ...]) -> pd.DataFrame:
    """Durations covered by ``a``'s intervals and ``b``'s, per combination of ``keys``.

    Parameters
    ----------
    a, b : DataFrame
        Validated Events tables.
    keys : tuple of str
        Columns that separate the time lines (e.g. recording, channel, label).

    Returns
    -------
    DataFrame
        The key columns and ``both_s`` (time inside intervals of both), ``only_a_s`` and
        ``only_b_s`` (time inside intervals of one table only), in seconds, one row per key
        combination that has an interval in either table.
    """
    a = a[(a["stop_s"] > a["start_s"]).to_numpy()]
    b = b[(b["stop_s"] > b["start_s"]).to_numpy()]
    (ga, gb), groups = group_codes((a, b), keys)
    na, nb = len(a), len(b)
    groups = groups.reset_index(drop=True)
    if na + nb == 0:
        return groups.assign(both_s=0.0, only_a_s=0.0, only_b_s=0.0)
    spans = [x[["start_s", "stop_s"]].to_numpy(np.float64) for x in (a, b)]
    length, g, (in_a, in_b) = elementary_segments(spans, (ga, gb))
    n_groups = len(groups)

    def total(mask: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=length * mask, minlength=n_groups)

    return groups.assign(
        both_s=total(in_a & in_b), only_a_s=total(in_a & ~in_b), only_b_s=total(~in_a & in_b)
    )
