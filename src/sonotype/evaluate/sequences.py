"""Label sequences: edit distance and the syllable error rate.

The syllable error rate (SER) of a recording is the Levenshtein distance between the
reference's sequence of labels and the prediction's (each sorted by onset, then offset),
divided by the length of the reference sequence: the number of substitutions, insertions
and deletions needed to turn one into the other, per reference syllable. It needs no
time tolerance; it judges the order of labels, not their timing. Over several recordings
the overall rate is the sum of the distances over the sum of the reference lengths.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from sonotype.evaluate._checks import as_events, ratio, select_labels

#: Columns of the table :func:`syllable_error_rates` returns, in order.
SEQUENCE_COLUMNS = ("recording", "channel", "n_ref", "n_pred", "edit_distance", "ser")


def edit_distance(ref: Sequence, pred: Sequence) -> int:
    """Levenshtein distance between two sequences of labels (unit costs).

    A dynamic programme over one row of the table at a time, each row vectorised: the
    substitution and deletion moves are elementwise minima with the previous row, and the
    chain of insertions along the row is one cumulative minimum
    (``row[j] = min over k <= j of tmp[k] + j - k``). Time O(len(ref) * len(pred)) in
    numpy, memory O(len(ref) + len(pred)).

    Parameters
    ----------
    ref, pred : sequence
        Labels (any hashable values; strings, numbers).

    Returns
    -------
    int
        The least number of substitutions, insertions and deletions that turn ``ref``
        into ``pred``.

    Examples
    --------
    >>> edit_distance("kitten", "sitting")
    3
    >>> edit_distance(["a", "b", "c"], ["a", "c"])
    1
    """
    ref, pred = list(ref), list(pred)
    if len(ref) < len(pred):
        ref, pred = pred, ref  # the distance is symmetric; loop over the shorter sequence
    if not pred:
        return len(ref)
    codes, _ = pd.factorize(pd.Series([*ref, *pred], dtype=object))
    columns = codes[: len(ref)]
    rows = codes[len(ref) :]
    steps = np.arange(len(ref) + 1, dtype=np.int64)
    previous = steps.copy()
    current = np.empty_like(previous)
    for i, code in enumerate(rows, start=1):
        current[0] = i
        np.minimum(previous[:-1] + (columns != code), previous[1:] + 1, out=current[1:])
        current -= steps
        np.minimum.accumulate(current, out=current)
        current += steps
        previous, current = current, previous
    return int(previous[-1])


def syllable_error_rates(
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    labels: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Edit distance and syllable error rate of every recording (and channel).

    Parameters
    ----------
    ref, pred : DataFrame
        Events tables with the same recording names. Events are ordered by onset, then
        offset; events with equal times keep their table order.
    labels : str or sequence of str, optional
        Keep only these labels in the sequences; all by default.

    Returns
    -------
    DataFrame
        Columns :data:`SEQUENCE_COLUMNS`, one row per recording and channel found in either
        table, sorted. ``ser`` is ``edit_distance / n_ref``: NaN for a recording with no
        reference events (its insertions still count in :func:`syllable_error_rate`).

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ref = make_events("s.wav", [0, 1, 2], [0.5, 1.5, 2.5], ["a", "b", "c"])
    >>> pred = make_events("s.wav", [0, 2], [0.5, 2.5], ["a", "c"])
    >>> syllable_error_rates(ref, pred)[["edit_distance", "ser"]].to_numpy().tolist()
    [[1.0, 0.3333333333333333]]
    """
    ref, pred = as_events(ref, name="ref"), as_events(pred, name="pred")
    chosen = select_labels(labels, ref, pred)
    sequences = [_sequences(t[t["label"].isin(chosen)]) for t in (ref, pred)]
    keys = sorted(set(sequences[0]) | set(sequences[1]))
    empty: list[str] = []
    rows = []
    for key in keys:
        a, b = sequences[0].get(key, empty), sequences[1].get(key, empty)
        rows.append((*key, len(a), len(b), edit_distance(a, b)))
    table = pd.DataFrame(rows, columns=list(SEQUENCE_COLUMNS[:-1]))
    table = table.astype({"recording": str, "channel": np.int64, "n_ref": np.int64})
    table = table.astype({"n_pred": np.int64, "edit_distance": np.int64})
    table["ser"] = ratio(table["edit_distance"].to_numpy(), table["n_ref"].to_numpy())
    return table


def syllable_error_rate(
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    labels: str | Iterable[str] | None = None,
) -> float:
    """Overall syllable error rate: summed edit distances over summed reference lengths.

    NaN when the reference has no events. See :func:`syllable_error_rates` for the
    parameters.
    """
    table = syllable_error_rates(ref, pred, labels=labels)
    return overall_error_rate(table)


def overall_error_rate(table: pd.DataFrame) -> float:
    """Summed ``edit_distance`` over summed ``n_ref`` of a :func:`syllable_error_rates` table."""
    return float(ratio(table["edit_distance"].sum(), table["n_ref"].sum()))


def _sequences(events: pd.DataFrame) -> dict[tuple[str, int], list[str]]:
    """Labels in onset order, by (recording, channel)."""
    ordered = events.sort_values(
        ["recording", "channel", "start_s", "stop_s"], kind="stable", ignore_index=True
    )
    return {
        (str(recording), int(channel)): group["label"].tolist()
        for (recording, channel), group in ordered.groupby(["recording", "channel"], sort=False)
    }
