"""Ethograms: per-frame class probabilities thresholded into an Events table.

A network predicts, for every output frame of a recording, one probability per label.
:func:`ethogram` turns those probabilities into events:

- *interval labels* (syllables, sine song, calls): each run of consecutive frames whose
  probability reaches the label's threshold becomes an event spanning the frames' extent,
  from half a step before the first frame's centre to half a step after the last one's;
  gaps shorter than ``min_gap_s`` between runs are closed first, then events shorter than
  ``min_duration_s`` are dropped (both may be given per label);
- with ``majority_vote`` (as TweetyNet and vak do), interval labels are segmented together
  instead: each frame takes its most probable label if that label reaches its threshold
  (the background, a label without a threshold, stops a segment); runs of such frames,
  whatever their labels, are segments; gaps shorter than ``min_gap_s`` between segments are
  closed, segments shorter than ``min_duration_s`` dropped, and each segment takes the label
  most of its frames have, so a syllable is never split where the network hesitates between
  two labels;
- *point labels* (fly song pulses): each local maximum of the probability that reaches the
  threshold, at least ``min_separation_s`` from a higher one, becomes a point event, placed
  between frames by the vertex of the parabola through the peak and its two neighbours.

Everything is vectorised over frames, so hours of probabilities at millisecond steps
(10^6-10^7 frames) threshold in a fraction of a second.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from sonotype.annotations.events import make_events
from sonotype.checks import check_int, check_number, check_text
from sonotype.errors import ParameterError
from sonotype.intervals import close_gaps, runs

#: Time differences within this much of a limit (``min_gap_s``, ``min_duration_s``) count
#: as equal to it, so that durations made of whole steps compare as written in decimal.
_TIME_EPSILON_S = 1e-9


def ethogram(
    probabilities: np.ndarray,
    *,
    labels: Sequence[str],
    step_s: float,
    thresholds: Mapping[str, float],
    recording: str,
    duration_s: float | None = None,
    point_labels: Sequence[str] = (),
    min_duration_s: float | Mapping[str, float] = 0.0,
    min_gap_s: float | Mapping[str, float] = 0.0,
    min_separation_s: float = 0.01,
    source: str = "model",
    channel: int = 0,
    exclusive: bool = False,
    majority_vote: bool = False,
) -> pd.DataFrame:
    """Threshold per-frame probabilities into predicted events.

    Parameters
    ----------
    probabilities : array_like, shape (frames, n_labels)
        Probability of each label at each frame (float32 or float64, finite); frame ``j``
        is centred at ``j * step_s`` seconds.
    labels : sequence of str, length n_labels
        The label of each column, all different.
    step_s : float, seconds
        Time between successive frames (> 0).
    thresholds : mapping of str to float
        Threshold in [0, 1] of each label to predict; a frame is "on" when its probability
        is ``>= threshold``. Labels absent from the mapping (e.g. a background or "other"
        class) give no events.
    recording : str
        The recording the probabilities belong to, written in every event.
    duration_s : float, seconds, optional
        Duration of the recording: events are clipped to ``[0, duration_s]``. Without it
        they are clipped below at 0 only.
    point_labels : sequence of str
        Labels predicted as point events (``start_s == stop_s``) at the peaks of their
        probability, rather than as intervals.
    min_duration_s : float or mapping of str to float, seconds
        Interval events shorter than this (after clipping and gap closing) are dropped; a
        mapping gives it per label (0 for labels it leaves out). Default 0: keep every run,
        however short.
    min_gap_s : float or mapping of str to float, seconds
        Runs of one label separated by a gap shorter than this are merged into one event
        before short events are dropped; a mapping gives it per label (0 for labels it
        leaves out). Default 0: no merging.
    min_separation_s : float, seconds
        Smallest time between two point events of one label; of two closer peaks only the
        higher is kept (:func:`scipy.signal.find_peaks` with ``distance =
        max(1, round(min_separation_s / step_s))`` frames). Default 0.01.
    source : str
        The model's id, written in the ``source`` column. Default "model".
    channel : int
        The channel the probabilities were computed from (>= 0). Default 0.
    exclusive : bool
        The labels exclude each other (a softmax model): an interval label is on only where
        it is also the most probable label, so that intervals of different labels never
        overlap. Point labels still come from their own peaks. Default False.
    majority_vote : bool
        Segment the interval labels together and give each segment its majority label (see
        the module notes); ``min_gap_s`` and ``min_duration_s`` must then be single numbers,
        since a segment has no label until it is voted. Default False.

    Returns
    -------
    DataFrame
        A validated Events table (see :mod:`sonotype.annotations.events`) with ``kind``
        "predicted" and a ``score`` column: the highest probability inside an interval event,
        the peak probability of a point event. Sorted by ``start_s`` (then ``stop_s``, then
        the order of ``labels``); empty, with the same columns, when nothing reaches a
        threshold.

    Raises
    ------
    ParameterError
        Probabilities that are not a finite 2-D array with one column per label, duplicate
        labels, a threshold outside [0, 1] or NaN, a threshold or point label for a label
        not in ``labels``, a non-positive ``step_s``, negative minimum durations, gaps or
        separations, a non-positive ``duration_s``, a negative channel.

    Notes
    -----
    Point events are refined to sub-frame precision: with ``y0, y1, y2`` the probabilities
    of the frames before, at and after the peak frame ``j``, the event is at
    ``(j + 0.5 (y0 - y2) / (y0 - 2 y1 + y2)) * step_s``, the vertex of the parabola through
    the three, limited to half a step either side of the frame. A sampled Gaussian or
    parabola bump is located to a small fraction of a step. As in
    :func:`scipy.signal.find_peaks`, the first and last frames are never peaks. Points are
    clipped to ``[0, duration_s]`` like intervals.

    Examples
    --------
    >>> p = np.array([[0.1, 0.0], [0.8, 0.2], [0.9, 0.6], [0.2, 1.0], [0.1, 0.4]])
    >>> ev = ethogram(p, labels=["sine", "pulse"], step_s=0.01, recording="fly.wav",
    ...               thresholds={"sine": 0.5, "pulse": 0.5}, point_labels=["pulse"])
    >>> ev[["start_s", "stop_s", "label", "score"]].round(4).to_records(index=False).tolist()
    [(0.005, 0.025, 'sine', 0.9), (0.029, 0.029, 'pulse', 1.0)]
    """
    probabilities = _check_probabilities(probabilities)
    labels = _check_labels(labels, probabilities.shape[1])
    step_s = check_number(
        step_s,
        name="step_s",
        minimum=0,
        inclusive="neither",
        unit="seconds",
        hint="pass the network's output step",
    )
    min_duration_s = _per_label(min_duration_s, "min_duration_s", labels)
    min_gap_s = _per_label(min_gap_s, "min_gap_s", labels)
    min_separation_s = check_number(
        min_separation_s, name="min_separation_s", minimum=0, unit="seconds", default=0.01
    )
    if duration_s is not None:
        duration_s = check_number(
            duration_s,
            name="duration_s",
            minimum=0,
            inclusive="neither",
            unit="seconds",
            hint="None clips at 0 only",
        )
    thresholds = _check_thresholds(thresholds, labels)
    points = _check_point_labels(point_labels, labels)
    check_text(
        recording,
        name="recording",
        hint="the recording's path relative to the project's audio root",
    )
    channel = check_int(channel, name="channel", minimum=0, default=0, hint="channels count from 0")

    if majority_vote and (
        len(set(min_gap_s.values())) > 1 or len(set(min_duration_s.values())) > 1
    ):
        raise ParameterError(
            "majority_vote segments the labels together, so min_gap_s and min_duration_s must "
            "be single numbers of seconds, not one per label"
        )

    winner = probabilities.argmax(axis=1) if exclusive else None
    starts, stops, names, scores, ranks = [], [], [], [], []
    if majority_vote:
        voted = [c for c, label in enumerate(labels) if label in thresholds and label not in points]
        for column in voted:
            _check_finite(probabilities[:, column], labels[column])
        start, stop, score, column = _voted_segments(
            probabilities,
            voted,
            [thresholds[labels[c]] for c in voted],
            step_s=step_s,
            min_gap_s=next(iter(min_gap_s.values()), 0.0),
            winner=winner,
        )
        start = np.maximum(start, 0.0)
        if duration_s is not None:
            start, stop = np.minimum(start, duration_s), np.minimum(stop, duration_s)
        keep = (stop > start) & (
            stop - start >= next(iter(min_duration_s.values()), 0.0) - _TIME_EPSILON_S
        )
        starts.append(start[keep])
        stops.append(stop[keep])
        scores.append(score[keep].astype(np.float64))
        names.append(np.asarray(labels, dtype=object)[column[keep]])
        ranks.append(column[keep])
    for column, label in enumerate(labels):
        if label not in thresholds or (majority_vote and label not in points):
            continue
        p = probabilities[:, column]
        _check_finite(p, label)
        if winner is not None and label not in points:
            p = np.where(winner == column, p, 0.0)
        if label in points:
            start, score = _peaks(p, thresholds[label], step_s, min_separation_s)
            if duration_s is not None:
                start = np.minimum(start, duration_s)
            stop = start
        else:
            start, stop, score = _runs(p, thresholds[label], step_s, min_gap_s[label])
            start = np.maximum(start, 0.0)
            if duration_s is not None:
                start, stop = np.minimum(start, duration_s), np.minimum(stop, duration_s)
            keep = (stop > start) & (stop - start >= min_duration_s[label] - _TIME_EPSILON_S)
            start, stop, score = start[keep], stop[keep], score[keep]
        starts.append(start)
        stops.append(stop)
        scores.append(score.astype(np.float64))
        names.append(np.full(len(start), label, dtype=object))
        ranks.append(np.full(len(start), column))

    if not starts:
        starts = stops = scores = ranks = [np.zeros(0)]
        names = [np.zeros(0, dtype=object)]
    start, stop, score = np.concatenate(starts), np.concatenate(stops), np.concatenate(scores)
    order = np.lexsort((np.concatenate(ranks), stop, start))
    return make_events(
        recording,
        start[order],
        stop[order],
        np.concatenate(names)[order],
        kind="predicted",
        channel=int(channel),
        source=str(source),
        score=score[order],
        where="ethogram",
    )


def _runs(p: np.ndarray, threshold: float, step_s: float, min_gap_s: float):
    """Runs of ``p >= threshold`` as (start_s, stop_s, max p), gaps < ``min_gap_s`` closed."""
    first, last = _run_frames(p >= threshold, step_s, min_gap_s)
    if len(first) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    return (first - 0.5) * step_s, (last - 0.5) * step_s, _run_maxima(p, first, last)


def _voted_segments(
    probabilities: np.ndarray,
    columns: list[int],
    thresholds: list[float],
    *,
    step_s: float,
    min_gap_s: float,
    winner: np.ndarray | None,
):
    """Segments of frames whose best label (among ``columns``) is on, gaps < ``min_gap_s``
    closed, each with its majority label: (start_s, stop_s, max p of that label, column)."""
    empty = np.zeros(0)
    if not columns:
        return empty, empty, empty, np.zeros(0, dtype=np.intp)
    p = np.asarray(probabilities[:, columns], dtype=np.float64)
    on = p >= np.asarray(thresholds)
    if winner is not None:  # exclusive: only the most probable of all labels may be on
        on &= winner[:, None] == np.asarray(columns)[None, :]
    best = np.where(on, p, -1.0).argmax(axis=1)
    frame_on = on[np.arange(len(p)), best]
    first, last = _run_frames(frame_on, step_s, min_gap_s)
    if len(first) == 0:
        return empty, empty, empty, np.zeros(0, dtype=np.intp)
    # Votes: each segment's on-frames counted per label; ties go to the earlier column.
    frames = np.flatnonzero(frame_on)
    segment = np.searchsorted(first, frames, side="right") - 1
    counts = np.zeros((len(first), len(columns)), dtype=np.int64)
    np.add.at(counts, (segment, best[frames]), 1)
    vote = counts.argmax(axis=1)
    # The score: the highest probability of the voted label inside the segment.
    owner = np.clip(np.searchsorted(first, np.arange(len(p)), side="right") - 1, 0, None)
    score = _run_maxima(p[np.arange(len(p)), vote[owner]], first, last)
    return (first - 0.5) * step_s, (last - 0.5) * step_s, score, np.asarray(columns)[vote]


def _run_frames(on: np.ndarray, step_s: float, min_gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """[first, last) frames of the runs of ``on``, gaps shorter than ``min_gap_s`` closed."""
    found = close_gaps(runs(on), _frames_reaching(min_gap_s - _TIME_EPSILON_S, step_s))
    return found[:, 0], found[:, 1]


def _frames_reaching(seconds: float, step_s: float) -> int:
    """The fewest whole frames ``n`` with ``n * step_s >= seconds`` (0 when ``seconds <= 0``).

    Found by the same float products a gap of ``n`` frames is measured by, not by rounding
    ``seconds / step_s``, so that a gap of exactly ``min_gap_s`` (give or take the float
    error of decimal steps) is kept or closed as the seconds say.
    """
    if seconds <= 0:
        return 0
    frames = math.ceil(seconds / step_s)
    # The product is monotone in n, so at most a step or two corrects the quotient's rounding.
    while frames > 0 and (frames - 1) * step_s >= seconds:
        frames -= 1
    while frames * step_s < seconds:
        frames += 1
    return frames


def _run_maxima(p: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Maxima of ``p`` over each [first, last): reduceat over the interleaved bounds."""
    bounds = np.stack([first, last], axis=1).ravel()
    if bounds[-1] == len(p):
        bounds = bounds[:-1]
    return np.maximum.reduceat(p, bounds)[0::2]


def _peaks(p: np.ndarray, threshold: float, step_s: float, min_separation_s: float):
    """Peaks of ``p`` reaching ``threshold`` as (time_s refined by a parabola, peak p)."""
    distance = max(1, round(min_separation_s / step_s))
    peaks, _ = find_peaks(p, height=threshold, distance=distance)
    y0, y1, y2 = (p[peaks + k].astype(np.float64) for k in (-1, 0, 1))
    curvature = y0 - 2 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, 0.5 * (y0 - y2) / curvature, 0.0)
    shift = np.clip(shift, -0.5, 0.5)
    return (peaks + shift) * step_s, y1


def _check_probabilities(probabilities: object) -> np.ndarray:
    array = np.asarray(probabilities)
    if array.ndim != 2 or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise ParameterError(
            f"probabilities of shape {array.shape} and dtype {array.dtype} must be a 2-D float "
            "array of shape (frames, labels); for one label pass p[:, None]",
            parameter="probabilities",
        )
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    return array


def _check_finite(p: np.ndarray, label: str) -> None:
    if not np.isfinite(p).all():
        frame = int(np.flatnonzero(~np.isfinite(p))[0])
        raise ParameterError(
            f"probabilities[{frame}] of label {label!r} is {p[frame]}; probabilities must be "
            "finite: check the network's output for NaN (e.g. from an empty input)",
            parameter="probabilities",
        )


def _check_labels(labels: object, n_columns: int) -> list[str]:
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise ParameterError(
            f"labels={labels!r} must be a sequence of str, one per column of probabilities",
            parameter="labels",
        )
    labels = [str(label) for label in labels]
    if len(labels) != n_columns:
        raise ParameterError(
            f"labels has {len(labels)} names for the {n_columns} columns of probabilities; "
            "give one label per column, in column order",
            parameter="labels",
        )
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ParameterError(
            f"labels={labels!r} repeats {', '.join(map(repr, repeated))}", parameter="labels"
        )
    return labels


def _check_thresholds(thresholds: object, labels: list[str]) -> dict[str, float]:
    if not isinstance(thresholds, Mapping):
        raise ParameterError(
            f"thresholds={thresholds!r} must map labels to thresholds in [0, 1], "
            "e.g. {'sine': 0.5}",
            parameter="thresholds",
        )
    checked = {}
    for label, value in thresholds.items():
        if label not in labels:
            raise ParameterError(
                f"thresholds names label {label!r}, which is not one of labels "
                f"({', '.join(map(repr, labels))}); fix or remove it",
                parameter="thresholds",
            )
        number = check_number(
            value,
            name=f"thresholds[{label!r}]",
            minimum=0,
            maximum=1,
            hint="0.5 is usual, or leave the label out of thresholds to predict no events for it",
        )
        checked[label] = number
    return checked


def _check_point_labels(point_labels: object, labels: list[str]) -> set[str]:
    if isinstance(point_labels, str):
        point_labels = [point_labels]
    unknown = [label for label in point_labels if label not in labels]
    if unknown:
        raise ParameterError(
            f"point_labels={list(point_labels)!r}: {', '.join(map(repr, unknown))} not in "
            f"labels ({', '.join(map(repr, labels))})",
            parameter="point_labels",
        )
    return set(point_labels)


def _per_label(value: object, name: str, labels: list[str]) -> dict[str, float]:
    """A number of seconds, or a mapping of labels to seconds, as one value per label."""
    hint = "give one number, or a mapping of labels to numbers"
    if isinstance(value, Mapping):
        unknown = [label for label in value if label not in labels]
        if unknown:
            raise ParameterError(
                f"{name} names label {unknown[0]!r}, which is not one of labels "
                f"({', '.join(map(repr, labels))}); fix or remove it",
                parameter=name,
            )
        return {
            label: check_number(
                value.get(label, 0.0),
                name=f"{name}[{label!r}]",
                minimum=0,
                unit="seconds",
                default=0,
                hint=hint,
            )
            for label in labels
        }
    seconds = check_number(value, name=name, minimum=0, unit="seconds", default=0, hint=hint)
    return dict.fromkeys(labels, seconds)
