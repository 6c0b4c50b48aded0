"""Event-level scores: precision, recall, F1, counts and timing errors per label.

Conventions for empty sets, chosen so that a score is NaN exactly when it is undefined
(0/0) and every defined score keeps its usual meaning:

=====================  ===========  ========  ====
case                   precision    recall    F1
=====================  ===========  ========  ====
no refs, no preds      NaN          NaN       NaN
refs, no preds         NaN          0         0
preds, no refs         0            NaN       0
=====================  ===========  ========  ====

F1 is computed as ``2 hits / (n_ref + n_pred)``, which equals the harmonic mean of precision
and recall where both are defined. Timing errors of a label with no hits are NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sonotype.evaluate._checks import ALL_LABELS, as_events, ratio, select_labels
from sonotype.evaluate.matching import Criterion, match_validated
from sonotype.evaluate.overlap import overlap_scores
from sonotype.evaluate.sequences import overall_error_rate, syllable_error_rates

#: Columns of the table :func:`event_scores` returns, in order.
SCORE_COLUMNS = (
    "label",
    "n_ref",
    "n_pred",
    "hits",
    "misses",
    "false_alarms",
    "precision",
    "recall",
    "f1",
    "onset_error_median_s",
    "onset_error_mean_abs_s",
    "offset_error_median_s",
    "offset_error_mean_abs_s",
)

#: Columns of the table :func:`recording_scores` returns, in order.
RECORDING_SCORE_COLUMNS = (
    "recording",
    "n_ref",
    "n_pred",
    "hits",
    "misses",
    "false_alarms",
    "precision",
    "recall",
    "f1",
)

#: The one label every event carries when labels are ignored (segments only).
SEGMENT_LABEL = "segment"


def event_scores(
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    tolerance_s: float = 0.01,
    offset_tolerance_s: float | None = None,
    min_iou: float | None = None,
    labels: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Precision, recall, F1, hit / miss / false-alarm counts and timing errors per label.

    Events are matched by :func:`~sonotype.evaluate.match_events` (same parameters); a hit
    is a matched pair, a miss a reference event left unmatched, a false alarm a predicted
    event left unmatched. See the module notes for empty sets.

    Returns
    -------
    DataFrame
        Columns :data:`SCORE_COLUMNS`: one row per label and a last row labelled
        ``"(all)"`` that sums every label's counts (micro average) and summarises every
        match's errors. Errors are signed, predicted minus reference: the median and the
        mean absolute value, in seconds (offset errors leave out pairs of point events).
        The full error distributions are the columns of :func:`match_events`' table.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ref = make_events("s.wav", [1.0, 2.0], [1.0, 2.0], "pulse")
    >>> pred = make_events("s.wav", [1.002, 1.004, 3.0], [1.002, 1.004, 3.0], "pulse")
    >>> scores = event_scores(ref, pred)
    >>> scores.loc[0, ["hits", "misses", "false_alarms"]].tolist(), float(scores.recall[0])
    ([1, 1, 2], 0.5)
    """
    ref, pred = as_events(ref, name="ref"), as_events(pred, name="pred")
    criterion = Criterion.check(
        tolerance_s=tolerance_s, offset_tolerance_s=offset_tolerance_s, min_iou=min_iou
    )
    chosen = select_labels(labels, ref, pred)
    matches = match_validated(ref, pred, criterion=criterion, labels=chosen)
    return scores_from_matches(matches, ref, pred, labels=chosen)


def scores_from_matches(
    matches: pd.DataFrame,
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    labels: Iterable[str],
) -> pd.DataFrame:
    """The :func:`event_scores` table from a :func:`match_events` table already computed."""
    labels = list(labels)
    position = pd.Index(labels)

    def count(column: pd.Series) -> np.ndarray:
        where = position.get_indexer(column)
        counts = np.bincount(where[where >= 0], minlength=len(labels))
        return np.append(counts, counts.sum()).astype(np.int64)

    n_ref, n_pred, hits = count(ref["label"]), count(pred["label"]), count(matches["label"])
    table = pd.DataFrame(
        {
            "label": [*labels, ALL_LABELS],
            "n_ref": n_ref,
            "n_pred": n_pred,
            "hits": hits,
            "misses": n_ref - hits,
            "false_alarms": n_pred - hits,
            "precision": ratio(hits, n_pred),
            "recall": ratio(hits, n_ref),
            "f1": ratio(2 * hits, n_ref + n_pred),
        }
    )
    of_label = position.get_indexer(matches["label"])
    by_label = np.argsort(of_label, kind="stable")
    bounds = np.searchsorted(of_label[by_label], np.arange(1, len(labels)))
    for which in ("onset", "offset"):
        errors = matches[f"{which}_error_s"].to_numpy(np.float64)
        per_label = np.split(errors[by_label], bounds) if labels else []
        groups = [*per_label, errors]
        table[f"{which}_error_median_s"] = [_nan_stat(np.nanmedian, e) for e in groups]
        table[f"{which}_error_mean_abs_s"] = [_nan_stat(np.nanmean, np.abs(e)) for e in groups]
    return table[list(SCORE_COLUMNS)]


def recording_scores(
    matches: pd.DataFrame,
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    labels: Iterable[str],
) -> pd.DataFrame:
    """Counts, precision, recall and F1 per recording, over the chosen labels together.

    Parameters
    ----------
    matches : DataFrame
        A :func:`~sonotype.evaluate.match_events` table of ``ref`` and ``pred``.
    ref, pred : DataFrame
        The Events tables that were matched.
    labels : iterable of str
        The labels evaluated; events with other labels are left out.

    Returns
    -------
    DataFrame
        Columns :data:`RECORDING_SCORE_COLUMNS`, one row per recording named on either side
        (sorted), empty sets scored as in :func:`event_scores`.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> from sonotype.evaluate import match_events
    >>> ref = make_events(["a.wav", "b.wav"], [1.0, 1.0], [1.2, 1.2], "x")
    >>> pred = make_events("a.wav", 1.0, 1.2, "x")
    >>> table = recording_scores(match_events(ref, pred), ref, pred, labels=["x"])
    >>> table[["recording", "hits", "misses", "f1"]].to_records(index=False).tolist()
    [('a.wav', 1, 0, 1.0), ('b.wav', 0, 1, 0.0)]
    """
    labels = list(labels)

    def per_recording(table: pd.DataFrame) -> pd.Series:
        return table.loc[table["label"].isin(labels), "recording"].value_counts()

    counts = pd.DataFrame(
        {"n_ref": per_recording(ref), "n_pred": per_recording(pred), "hits": per_recording(matches)}
    )
    counts = counts.fillna(0).astype(np.int64).sort_index()
    n_ref, n_pred, hits = (counts[c].to_numpy() for c in ("n_ref", "n_pred", "hits"))
    table = pd.DataFrame(
        {
            "recording": counts.index.astype(str),
            "n_ref": n_ref,
            "n_pred": n_pred,
            "hits": hits,
            "misses": n_ref - hits,
            "false_alarms": n_pred - hits,
            "precision": ratio(hits, n_pred),
            "recall": ratio(hits, n_ref),
            "f1": ratio(2 * hits, n_ref + n_pred),
        }
    )
    return table[list(RECORDING_SCORE_COLUMNS)].reset_index(drop=True)


def as_segments(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with every label replaced by :data:`SEGMENT_LABEL`, to be matched
    regardless of label."""
    return events.assign(label=SEGMENT_LABEL)


@dataclass(frozen=True)
class EventEvaluation:
    """Everything :func:`evaluate_events` measures.

    Attributes
    ----------
    matches : DataFrame
        The matched pairs (:func:`~sonotype.evaluate.match_events`).
    scores : DataFrame
        Event scores per label and ``"(all)"`` (:func:`event_scores`).
    recordings : DataFrame
        Event scores per recording, over the evaluated labels together
        (:func:`recording_scores`).
    overlap : DataFrame
        Time-based ("tic") scores per label and ``"(all)"``
        (:func:`~sonotype.evaluate.overlap_scores`).
    sequences : DataFrame
        Edit distance and syllable error rate per recording and channel
        (:func:`~sonotype.evaluate.syllable_error_rates`).
    ser : float
        Overall syllable error rate.
    parameters : dict
        The matching parameters used.
    """

    matches: pd.DataFrame
    scores: pd.DataFrame
    recordings: pd.DataFrame
    overlap: pd.DataFrame
    sequences: pd.DataFrame
    ser: float
    parameters: dict

    def to_dict(self) -> dict:
        """JSON-ready: tables as lists of records, NaN as None (the matches are left out)."""
        return {
            "parameters": _plain(self.parameters),
            "scores": _records(self.scores),
            "ser": _plain(self.ser),
            "recordings": _records(self.recordings),
            "sequences": _records(self.sequences),
            "overlap": _records(self.overlap),
        }


#: What :func:`evaluate_events` does, in order (its progress reports these names).
EVALUATION_STAGES = ("matching", "label sequences", "scores", "overlap")


def evaluate_events(
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    tolerance_s: float = 0.01,
    offset_tolerance_s: float | None = None,
    min_iou: float | None = None,
    labels: str | Iterable[str] | None = None,
    ignore_labels: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> EventEvaluation:
    """Match ``pred`` to ``ref`` and compute every score at once.

    Parameters are those of :func:`~sonotype.evaluate.match_events`; ``labels`` also
    restricts the time-based scores and the label sequences. With ``ignore_labels``, the
    events (of ``labels`` when given) are matched as segments, whatever their labels: every
    label becomes :data:`SEGMENT_LABEL`, as for scoring a detector against labelled
    annotations. ``progress(stage, done, total)`` is called as each of the stages
    (:data:`EVALUATION_STAGES`) starts, and once more when all are done.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ref = make_events("s.wav", [0, 1, 2], [0.5, 1.5, 2.5], ["a", "b", "a"])
    >>> result = evaluate_events(ref, ref)
    >>> result.scores.f1.tolist(), result.ser
    ([1.0, 1.0, 1.0], 0.0)
    """
    ref, pred = as_events(ref, name="ref"), as_events(pred, name="pred")
    criterion = Criterion.check(
        tolerance_s=tolerance_s, offset_tolerance_s=offset_tolerance_s, min_iou=min_iou
    )
    chosen = select_labels(labels, ref, pred)
    if ignore_labels:
        ref = as_segments(ref[ref["label"].isin(chosen)])
        pred = as_segments(pred[pred["label"].isin(chosen)])
        chosen = [SEGMENT_LABEL] if len(ref) or len(pred) else []

    def stage(i: int) -> None:
        if progress is not None:
            n = len(EVALUATION_STAGES)
            progress(EVALUATION_STAGES[min(i, n - 1)], i, n)

    stage(0)
    matches = match_validated(ref, pred, criterion=criterion, labels=chosen)
    stage(1)
    sequences = syllable_error_rates(ref, pred, labels=chosen or None)
    stage(2)
    scores = scores_from_matches(matches, ref, pred, labels=chosen)
    recordings = recording_scores(matches, ref, pred, labels=chosen)
    stage(3)
    overlap = overlap_scores(ref, pred, labels=chosen or None)
    stage(4)
    return EventEvaluation(
        matches=matches,
        scores=scores,
        recordings=recordings,
        overlap=overlap,
        sequences=sequences,
        ser=overall_error_rate(sequences),
        parameters={**criterion._asdict(), "labels": chosen, "ignore_labels": ignore_labels},
    )


def _nan_stat(statistic, values: np.ndarray) -> float:
    """``statistic`` of the non-NaN ``values``; NaN when there are none."""
    return float(statistic(values)) if np.isfinite(values).any() else math.nan


def _plain(value):
    """``value`` with numpy scalars as Python ones and NaN / infinity as None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(table: pd.DataFrame) -> list[dict]:
    return [_plain(row) for row in table.to_dict(orient="records")]
