"""Frame-level scores (DAS, TweetyNet) and scores against sparse human annotation.

- :func:`frame_labels` samples an annotation as one label per frame;
- :func:`frame_error_rate` is the fraction of frames whose labels differ between two
  annotations (TweetyNet's and DAS's frame error);
- :func:`segment_accuracy` asks, for each reference interval, which label the predictions
  give most of its frames;
- :func:`sparse_scores` scores predictions against a *sparse* annotation, in which an
  annotator labelled some events and marked some stretches as known to hold none, so that
  predictions elsewhere can be neither confirmed nor refuted.

Frames follow one rule: frame ``j`` of a recording is centred at ``t_j = (j + 0.5) * step_s``
and carries the label of the interval event ``[start_s, stop_s)`` that contains ``t_j``, or
the background label where none does. Where intervals overlap, the one that starts later
wins (of two starting together, the later row). Point events cover no frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from sonotype.checks import check_number, check_text
from sonotype.errors import ParameterError
from sonotype.evaluate._checks import (
    TIME_EPSILON_S,
    as_events,
    group_codes,
    ratio,
)
from sonotype.evaluate.coverage import covered
from sonotype.evaluate.matching import match_events
from sonotype.intervals import elementary_segments

#: Columns of the table :func:`segment_accuracy` returns, in order.
SEGMENT_COLUMNS = ("recording", "start_s", "stop_s", "label", "predicted", "correct")

#: Keys of the dict :func:`sparse_scores` returns.
SPARSE_KEYS = ("precision", "recall", "f1", "tp", "fp", "fn", "unit")

# Frame counts within this fraction of a whole number count as that number (10 ms of 1 ms
# frames is 9.999999999999998 frames in floating point).
_FRAME_EPSILON = 1e-9


def frame_labels(
    events: pd.DataFrame,
    *,
    duration_s: float,
    step_s: float,
    background: str = "background",
) -> np.ndarray:
    """The label at each frame of one recording (see the module notes for the rule).

    Parameters
    ----------
    events : DataFrame
        Events table of one recording and one channel (it may be empty).
    duration_s : float, seconds
        Duration of the recording (> 0); there are ``ceil(duration_s / step_s)`` frames.
    step_s : float, seconds
        Frame step (> 0).
    background : str
        Label of frames that no interval covers. Default "background".

    Returns
    -------
    ndarray of str, shape (ceil(duration_s / step_s),)
        The label of each frame.

    Raises
    ------
    ParameterError
        A table that is not an Events table or holds several recordings or channels, a
        non-positive or non-finite ``duration_s`` or ``step_s``.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ev = make_events("s.wav", [0.1, 0.25, 0.3], [0.3, 0.35, 0.3], ["a", "b", "p"])
    >>> frame_labels(ev, duration_s=0.45, step_s=0.1, background="-").tolist()
    ['-', 'a', 'b', '-', '-']
    """
    events = as_events(events, name="events")
    duration_s = check_number(
        duration_s,
        name="duration_s",
        minimum=0,
        inclusive="neither",
        unit="seconds",
        hint="pass the recording's length",
    )
    step_s = check_number(
        step_s, name="step_s", minimum=0, inclusive="neither", unit="seconds", hint="e.g. 0.001"
    )
    background = check_text(
        background,
        name="background",
        default="background",
        hint="it is the label of frames no event covers",
    )
    for column, what in (("recording", "recordings"), ("channel", "channels")):
        values = events[column].unique()
        if len(values) > 1:
            raise ParameterError(
                f"events holds {len(values)} {what} ({', '.join(map(str, values[:3]))}"
                f"{', ...' if len(values) > 3 else ''}); frame_labels takes one recording and "
                f"one channel: select its rows first, e.g. events[events.{column} == ...]"
            )
    vocabulary = np.array([background, *sorted(set(events["label"]) - {background})])
    codes = pd.Index(vocabulary).get_indexer(events["label"])
    return vocabulary[_frame_codes(events, codes, _n_frames(duration_s, step_s), step_s)]


def frame_error_rate(
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    durations_s: Mapping[str, float],
    step_s: float = 0.001,
    background: str = "background",
) -> float:
    """Fraction of frames whose labels differ between ``ref`` and ``pred``.

    The frame error of DAS and TweetyNet. Every recording in ``durations_s`` is cut into
    ``ceil(duration / step_s)`` frames, once per channel that either table annotates in it
    (once if neither does); each frame is labelled as by :func:`frame_labels`. The errors
    and the frames are pooled over all recordings and channels before dividing, so long
    recordings weigh more.

    Parameters
    ----------
    ref, pred : DataFrame
        Events tables of the reference and the predictions; only interval events count.
    durations_s : mapping of str to float
        Duration in seconds of each recording to judge; every recording of ``ref`` and
        ``pred`` must be in it (a recording with no events is all background).
    step_s : float, seconds
        Frame step (> 0). Default 0.001.
    background : str
        Label of frames that no interval covers. Default "background".

    Returns
    -------
    float
        Errors over frames, in [0, 1].

    Raises
    ------
    ParameterError
        Tables that are not Events tables, ``durations_s`` that is empty, lacks a recording
        of the tables or holds a duration that is not finite, positive and at least as long
        as the recording's events; a non-positive ``step_s``.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ref = make_events("s.wav", [0.0], [0.4], "a")
    >>> pred = make_events("s.wav", [0.1], [0.5], "a")
    >>> frame_error_rate(ref, pred, durations_s={"s.wav": 1.0}, step_s=0.1)
    0.2
    """
    ref, pred = as_events(ref, name="ref"), as_events(pred, name="pred")
    step_s = check_number(
        step_s, name="step_s", minimum=0, inclusive="neither", unit="seconds", default=0.001
    )
    background = check_text(
        background,
        name="background",
        default="background",
        hint="it is the label of frames no event covers",
    )
    durations = _check_durations(durations_s, ref, pred)
    ref, pred = _intervals(ref), _intervals(pred)
    vocabulary = pd.Index([background, *sorted(set(ref["label"]) | set(pred["label"]))])
    vocabulary = vocabulary.drop_duplicates()
    lines = _lines(durations, ref, pred)
    (ref_line, pred_line, line_codes), _ = group_codes((ref, pred, lines), ("recording", "channel"))
    errors = frames = 0
    for line, duration in zip(line_codes, lines["duration_s"], strict=True):
        n = _n_frames(duration, step_s)
        ref_codes = _line_codes(ref, ref_line == line, vocabulary, n, step_s)
        pred_codes = _line_codes(pred, pred_line == line, vocabulary, n, step_s)
        errors += int(np.count_nonzero(ref_codes != pred_codes))
        frames += n
    return errors / frames if frames else math.nan


def segment_accuracy(
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    step_s: float = 0.001,
    background: str = "background",
) -> pd.DataFrame:
    """The label the predictions give most of each reference interval's frames.

    Each reference interval's frames (those whose centres it contains; for an interval too
    short to contain one, the frame that contains its midpoint) vote with their predicted
    label, :func:`frame_labels` of ``pred`` in the same recording and channel; background
    counts as a label. A tie goes to the label that comes first in time inside the
    interval. The overall segment accuracy is ``table.correct.mean()``.

    Parameters
    ----------
    ref, pred : DataFrame
        Events tables of the reference and the predictions; point events are ignored.
    step_s : float, seconds
        Frame step (> 0). Default 0.001.
    background : str
        Label of frames that no predicted interval covers. Default "background".

    Returns
    -------
    DataFrame
        Columns :data:`SEGMENT_COLUMNS`, one row per reference interval in the order of
        ``ref``: its ``recording``, ``start_s``, ``stop_s`` and ``label``, the majority
        ``predicted`` label and whether it is ``correct`` (equal to ``label``).

    Raises
    ------
    ParameterError
        Tables that are not Events tables, a non-positive ``step_s``.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ref = make_events("s.wav", [0.0, 1.0], [1.0, 2.0], ["a", "b"])
    >>> pred = make_events("s.wav", [0.0, 0.5], [0.2, 2.0], ["a", "b"])
    >>> table = segment_accuracy(ref, pred, step_s=0.1)
    >>> table.predicted.tolist(), float(table.correct.mean())
    (['b', 'b'], 0.5)
    """
    ref, pred = as_events(ref, name="ref"), as_events(pred, name="pred")
    step_s = check_number(
        step_s, name="step_s", minimum=0, inclusive="neither", unit="seconds", default=0.001
    )
    background = check_text(
        background,
        name="background",
        default="background",
        hint="it is the label of frames no event covers",
    )
    ref, pred = _intervals(ref), _intervals(pred)
    vocabulary = pd.Index([background, *sorted(set(ref["label"]) | set(pred["label"]))])
    vocabulary = vocabulary.drop_duplicates()
    n_codes = len(vocabulary)
    (ref_line, pred_line), _ = group_codes((ref, pred), ("recording", "channel"))

    start, stop = ref["start_s"].to_numpy(), ref["stop_s"].to_numpy()
    first, last = _first_frame(start, step_s), _first_frame(stop, step_s)
    empty = last <= first
    first[empty] = np.floor((start[empty] + stop[empty]) / 2 / step_s).astype(np.int64)
    last[empty] = first[empty] + 1
    predicted = np.zeros(len(ref), np.int64)
    for line in np.unique(ref_line):
        rows = np.flatnonzero(ref_line == line)
        n = int(last[rows].max())
        codes = _line_codes(pred, pred_line == line, vocabulary, n, step_s)
        # Every (interval, frame) pair, intervals in turn and frames in time order.
        lengths = last[rows] - first[rows]
        interval = np.repeat(np.arange(len(rows)), lengths)
        frame = _concatenated_ranges(first[rows], lengths)
        key = interval * n_codes + codes[frame]
        keys, first_seen, counts = np.unique(key, return_index=True, return_counts=True)
        owner = keys // n_codes
        best = np.lexsort((first_seen, -counts, owner))
        winner = best[np.r_[True, owner[best][1:] != owner[best][:-1]]]
        predicted[rows[owner[winner]]] = keys[winner] % n_codes
    labels = ref["label"].to_numpy().astype(str)
    predicted_labels = vocabulary.to_numpy().astype(str)[predicted]
    return pd.DataFrame(
        {
            "recording": ref["recording"].to_numpy().astype(str),
            "start_s": start,
            "stop_s": stop,
            "label": labels,
            "predicted": predicted_labels,
            "correct": labels == predicted_labels,
        },
        columns=list(SEGMENT_COLUMNS),
    )


def sparse_scores(
    ref: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    label: str,
    negatives: str | Iterable[str],
    tolerance_s: float = 0.005,
) -> dict:
    """Precision and recall of one label against a sparse annotation.

    In a sparse annotation the annotator labelled some events of ``label`` and marked some
    stretches (intervals labelled with one of ``negatives``) as known to hold none.
    Predictions outside both are of unknown truth and are not counted. Recordings and
    channels are kept apart; the counts or durations are pooled over them.

    - If the reference ``label`` events are points (fly song pulses): the predicted points
      of ``label`` are matched one to one to them within ``tolerance_s``
      (:func:`~sonotype.evaluate.match_events`). ``tp`` counts the matches, ``fn`` the
      unmatched reference points, ``fp`` the unmatched predicted points inside a negative
      interval (closed). ``unit`` is "events".
    - If they are intervals: by time, exactly, with ``R``, ``P`` and ``N`` the time
      covered by the reference, predicted and negative intervals: ``tp = |P ∩ R|``,
      ``fn = |R - P|``, ``fp = |(P ∩ N) - R|`` (a negative interval that overlaps a
      reference one counts as negative outside it only). ``unit`` is "seconds".

    Precision is ``tp / (tp + fp)``, recall ``tp / (tp + fn)``, F1 ``2 tp / (2 tp + fp +
    fn)``; each is NaN when its denominator is 0.

    Parameters
    ----------
    ref : DataFrame
        Events table of the sparse annotation: events of ``label`` and negative intervals.
    pred : DataFrame
        Events table of the predictions; only its events of ``label`` count.
    label : str
        The label to score; it must occur in ``ref``.
    negatives : str or iterable of str
        Labels of the reference intervals that mark known-negative stretches; each must
        occur in ``ref`` and differ from ``label``.
    tolerance_s : float, seconds
        Largest time difference of a point match (>= 0). Default 0.005. Not used for
        intervals.

    Returns
    -------
    dict
        Keys :data:`SPARSE_KEYS`: ``precision``, ``recall``, ``f1`` (float), ``tp``,
        ``fp``, ``fn`` (int counts of events, or float seconds), ``unit`` ("events" or
        "seconds").

    Raises
    ------
    ParameterError
        Tables that are not Events tables; no reference events of ``label``; reference or
        predicted events of ``label`` that mix points and intervals (or are of the other
        kind than the reference's); a negative label that is ``label``, or occurs in no
        reference interval; a negative or non-finite ``tolerance_s``.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ref = make_events("fly.wav", [1.0, 2.0, 3.0], [1.0, 2.0, 5.0],
    ...                   ["pulse", "pulse", "none"])
    >>> pred = make_events("fly.wav", [1.002, 3.5, 6.0], [1.002, 3.5, 6.0], "pulse")
    >>> scores = sparse_scores(ref, pred, label="pulse", negatives="none")
    >>> {k: scores[k] for k in ("tp", "fp", "fn", "precision", "recall")}
    {'tp': 1, 'fp': 1, 'fn': 1, 'precision': 0.5, 'recall': 0.5}
    """
    ref, pred = as_events(ref, name="ref"), as_events(pred, name="pred")
    tolerance_s = check_number(
        tolerance_s, name="tolerance_s", minimum=0, unit="seconds", default=0.005
    )
    label = str(label)
    negatives = [negatives] if isinstance(negatives, str) else [str(n) for n in negatives]
    present = sorted(set(ref["label"]))
    targets = ref[(ref["label"] == label).to_numpy()].reset_index(drop=True)
    if len(targets) == 0:
        raise ParameterError(
            f"label={label!r} has no events in ref; the labels in ref are "
            f"{', '.join(map(repr, present)) or 'none (ref is empty)'}"
        )
    if label in negatives:
        raise ParameterError(
            f"negatives={negatives!r} contains label={label!r}; negatives names the labels "
            "of the stretches known to hold no events of label"
        )
    negative = ref[(ref["label"].isin(negatives) & (ref["stop_s"] > ref["start_s"])).to_numpy()]
    absent = [n for n in negatives if n not in set(negative["label"])]
    if absent:
        raise ParameterError(
            f"negatives={negatives!r}: {', '.join(map(repr, absent))} labels no interval in "
            f"ref; the labels in ref are {', '.join(map(repr, present))}"
        )
    hits = pred[(pred["label"] == label).to_numpy()].reset_index(drop=True)
    points = _kind_of_events(targets, f"the reference events of {label!r}")
    if len(hits) and _kind_of_events(hits, f"the predicted events of {label!r}") != points:
        raise ParameterError(
            f"the reference events of {label!r} are {'points' if points else 'intervals'} but "
            f"the predicted ones are {'intervals' if points else 'points'}; score points "
            "against points and intervals against intervals"
        )
    if points:
        matches = match_events(targets, hits, tolerance_s=tolerance_s)
        tp = len(matches)
        unmatched = np.ones(len(hits), bool)
        unmatched[matches["pred_index"].to_numpy(np.int64)] = False
        fp = int(np.count_nonzero(covered(hits[unmatched], negative, tolerance_s=0.0)))
        fn = len(targets) - tp
        unit = "events"
    else:
        tp, fn, fp = _sparse_durations(targets, hits, negative)
        unit = "seconds"
    precision, recall, f1 = ratio([tp, tp, 2 * tp], [tp + fp, tp + fn, 2 * tp + fp + fn])
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "unit": unit,
    }


def _sparse_durations(ref: pd.DataFrame, pred: pd.DataFrame, negative: pd.DataFrame):
    """``|P ∩ R|``, ``|R - P|`` and ``|(P ∩ N) - R|`` in seconds, pooled over recordings and
    channels, by one sweep over the sorted interval boundaries of the three sets."""
    tables = (ref, pred, negative)
    groups, _ = group_codes(tables, ("recording", "channel"))
    spans = [x[["start_s", "stop_s"]].to_numpy(np.float64) for x in tables]
    length, _, (in_r, in_p, in_n) = elementary_segments(spans, groups)
    tp = float(length[in_r & in_p].sum())
    fn = float(length[in_r & ~in_p].sum())
    fp = float(length[in_p & in_n & ~in_r].sum())
    return tp, fn, fp


def _kind_of_events(events: pd.DataFrame, what: str) -> bool:
    """True when ``events`` are all points, False when all intervals, else an error."""
    point = (events["start_s"] == events["stop_s"]).to_numpy()
    if point.all():
        return True
    if not point.any():
        return False
    raise ParameterError(
        f"{what} mix {np.count_nonzero(point)} points and {np.count_nonzero(~point)} "
        "intervals; a label is scored as points or as intervals: relabel one kind"
    )


def _intervals(events: pd.DataFrame) -> pd.DataFrame:
    return events[(events["stop_s"] > events["start_s"]).to_numpy()].reset_index(drop=True)


def _lines(durations: dict[str, float], ref: pd.DataFrame, pred: pd.DataFrame) -> pd.DataFrame:
    """One row per (recording, channel) time line to judge, with the recording's duration."""
    both = pd.concat([ref[["recording", "channel"]], pred[["recording", "channel"]]])
    used = both.drop_duplicates()
    bare = [name for name in durations if name not in set(used["recording"])]
    lines = pd.concat(
        [used, pd.DataFrame({"recording": bare, "channel": np.zeros(len(bare), np.int64)})],
        ignore_index=True,
    )
    lines["channel"] = lines["channel"].astype(np.int64)
    lines["recording"] = lines["recording"].astype(str)
    return lines.assign(duration_s=lines["recording"].map(durations).astype(np.float64))


def _line_codes(
    events: pd.DataFrame, rows: np.ndarray, vocabulary: pd.Index, n: int, step_s: float
) -> np.ndarray:
    """Vocabulary code of each of the ``n`` frames of the events in ``rows`` (a mask)."""
    chosen = events[rows]
    return _frame_codes(chosen, vocabulary.get_indexer(chosen["label"]), n, step_s)


def _frame_codes(events: pd.DataFrame, codes: np.ndarray, n: int, step_s: float) -> np.ndarray:
    """Code of each of ``n`` frames: that of the latest-starting interval event containing
    its centre, 0 (background) where none does."""
    start, stop = events["start_s"].to_numpy(), events["stop_s"].to_numpy()
    keep = stop > start
    start, stop, codes = start[keep], stop[keep], np.asarray(codes)[keep]
    order = np.argsort(start, kind="stable")
    first = np.clip(_first_frame(start[order], step_s), 0, n)
    last = np.clip(_first_frame(stop[order], step_s), 0, n)
    codes = codes[order]
    keep = last > first
    first, last, codes = first[keep], last[keep], codes[keep]
    out = np.zeros(n, np.int64)
    if len(first) == 0:
        return out
    reach = np.maximum.accumulate(last)
    if np.all(first[1:] >= reach[:-1]):
        # Disjoint (the usual case): paint by a running sum of steps at the boundaries.
        delta = np.zeros(n + 1, np.int64)
        np.add.at(delta, first, codes)
        np.add.at(delta, last, -codes)
        return np.cumsum(delta[:-1])
    # Overlapping: each frame takes the latest-starting interval containing it.
    lengths = last - first
    owner = np.full(n, -1, np.int64)
    np.maximum.at(
        owner, _concatenated_ranges(first, lengths), np.repeat(np.arange(len(first)), lengths)
    )
    return np.where(owner >= 0, codes[np.maximum(owner, 0)], 0)


def _first_frame(t_s: np.ndarray, step_s: float) -> np.ndarray:
    """Index of the first frame whose centre ``(j + 0.5) * step_s`` is at or after ``t_s``."""
    return np.ceil(np.asarray(t_s) / step_s - 0.5 - _FRAME_EPSILON).astype(np.int64)


def _n_frames(duration_s: float, step_s: float) -> int:
    return max(0, math.ceil(duration_s / step_s - _FRAME_EPSILON))


def _concatenated_ranges(first: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(f, f + n) for f, n in zip(first, lengths)])``, vectorised."""
    total = int(lengths.sum())
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(first, lengths) + np.arange(total, dtype=np.int64) - offsets


def _check_durations(
    durations_s: object, ref: pd.DataFrame, pred: pd.DataFrame
) -> dict[str, float]:
    if not isinstance(durations_s, Mapping) or not durations_s:
        raise ParameterError(
            f"durations_s={durations_s!r} must map each recording's name to its duration in "
            "seconds, e.g. {'song.wav': 62.5}"
        )
    durations = {}
    ends = pd.concat([ref, pred]).groupby("recording")["stop_s"].max()
    for name, value in durations_s.items():
        try:
            duration = float(value)
        except (TypeError, ValueError):
            duration = math.nan
        end = float(ends.get(name, 0.0))
        if not math.isfinite(duration) or duration <= 0 or duration < end - TIME_EPSILON_S:
            raise ParameterError(
                f"durations_s[{name!r}]={value!r} must be a finite duration > 0 seconds "
                f"covering the recording's events, which end at {end:g} s"
            )
        durations[str(name)] = duration
    missing = sorted(set(ends.index) - set(durations))
    if missing:
        raise ParameterError(
            f"durations_s has no duration for recording{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing[:5]))}{', ...' if len(missing) > 5 else ''}; "
            "give the duration of every recording in ref and pred"
        )
    return durations
