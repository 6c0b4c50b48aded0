"""Tuning a detector's parameters on annotated recordings, validated on recordings held out.

The score of a setting on a set of recordings is the F1 of its detections against the
annotated events, labels ignored (segments only): for annotated intervals, a detection
matches an annotation when its onset and its offset both lie within ``tolerance_s``; for
annotated points (every event of a recording has ``start_s == stop_s``), a detection is
taken at its midpoint and matches a point within ``tolerance_s``. Matching is one to one
(:func:`sonotype.evaluate.match_events`); F1 is pooled over the recordings (``2 hits /
(annotated + detected)``).

The search is Optuna's tree-structured Parzen estimator (TPE, multivariate, seeded), which
first tries the detector's defaults clipped into the search space (:mod:`.spaces`), then
``min(10, n_trials // 3)`` random points, then TPE's proposals.

Validation by whole recordings: the annotated recordings are shuffled (seeded) and dealt into
``n_folds`` folds; for each fold a search on the other folds' recordings chooses a setting,
which is scored on the fold's recordings. Every recording's "after" score is thus from a
setting chosen without it, which predicts the accuracy on new recordings. The parameters
returned (for ``sonotype.toml``) come from one more search over all the recordings. With a
single annotated recording there are no folds: its "after" score is in-sample (optimistic),
and :attr:`TuneResult.cross_validated` is false.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sonotype.annotations.events import empty_events, make_events
from sonotype.checks import check_int, check_number
from sonotype.detect.base import make_detector
from sonotype.detect.runner import detect_recording
from sonotype.detect.spaces import AnnotationSummary, SearchSpace, search_space
from sonotype.errors import ParameterError
from sonotype.intervals import merge

#: The label every segment carries once labels are ignored.
SEGMENT = "segment"

#: Columns of :attr:`TuneResult.scores`, in order.
TUNE_COLUMNS = (
    "recording",
    "fold",
    "n_ref",
    "before_n_pred",
    "before_hits",
    "before_precision",
    "before_recall",
    "before_f1",
    "after_n_pred",
    "after_hits",
    "after_precision",
    "after_recall",
    "after_f1",
)


@dataclass(frozen=True)
class TuneRecording:
    """An annotated recording to tune on: its name (as in the events), file and channels."""

    name: str
    path: Path
    sr: int
    channels: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class Counts:
    """Matching counts of one recording: annotated, detected, matched."""

    n_ref: int
    n_pred: int
    hits: int


@dataclass(frozen=True)
class TuneResult:
    """What :func:`tune_detector` found.

    Attributes
    ----------
    method : str
    params : dict
        The chosen parameters (searched on every recording), for ``sonotype.toml``.
    scores : DataFrame
        Columns :data:`TUNE_COLUMNS`: one row per recording, then ``"(all)"`` (pooled).
        ``before_*``: the detector's defaults; ``after_*``: the setting chosen on the other
        folds (in-sample when not :attr:`cross_validated`). Precision, recall and F1 are NaN
        where undefined; all ``before_*`` are NaN when the defaults cannot run at the
        recording's rate.
    fold_params : list of dict
        The setting chosen for each fold (scored on that fold's recordings).
    train_f1 : float
        The final search's best pooled F1 on all the recordings (in-sample).
    n_trials, n_folds, seed : int
    tolerance_s : float
    cross_validated : bool
    """

    method: str
    params: dict[str, Any]
    scores: pd.DataFrame
    fold_params: list[dict[str, Any]]
    train_f1: float
    n_trials: int
    n_folds: int
    seed: int
    tolerance_s: float
    cross_validated: bool

    @property
    def before_f1(self) -> float:
        """Pooled F1 of the defaults."""
        return float(self.scores["before_f1"].iloc[-1])

    @property
    def after_f1(self) -> float:
        """Pooled F1 of the tuned settings on recordings they were not tuned on."""
        return float(self.scores["after_f1"].iloc[-1])


def segments_of(
    events: pd.DataFrame, *, labels: Sequence[str] | None = None, points: bool = False
) -> pd.DataFrame:
    """Events as label-free segments: those with ``labels`` (all when ``None``), merged
    where they overlap or touch within a recording and channel, labelled ``"segment"``;
    with ``points``, each segment becomes a point at its midpoint.

    Examples
    --------
    >>> ev = make_events("a.wav", [0.0, 0.5, 2.0], [1.0, 1.2, 2.5], ["time", "frequency", "x"])
    >>> seg = segments_of(ev, labels=["time", "frequency"])
    >>> seg[["start_s", "stop_s", "label"]].to_records(index=False).tolist()
    [(0.0, 1.2, 'segment')]
    """
    if labels is not None:
        events = events[events["label"].isin(list(labels))]
    if events.empty:
        return empty_events()
    events = events.sort_values(["recording", "channel", "start_s"], kind="stable")
    names = events["recording"].to_numpy()
    channels = events["channel"].to_numpy()
    starts, stops = events["start_s"].to_numpy(), events["stop_s"].to_numpy()
    group = np.cumsum(np.r_[True, (names[1:] != names[:-1]) | (channels[1:] != channels[:-1])])
    merged, member = merge(np.stack([starts, stops], axis=1), groups=group)
    # The events come sorted, so each segment's first member is its first event.
    new = np.unique(member, return_index=True)[1]
    seg_starts, seg_stops = merged[:, 0], merged[:, 1]
    if points:
        seg_starts = seg_stops = (seg_starts + seg_stops) / 2
    return make_events(
        list(names[new]),
        seg_starts,
        seg_stops,
        SEGMENT,
        kind=list(events["kind"].to_numpy()[new]),
        channel=list(channels[new]),
        source=list(events["source"].to_numpy()[new]),
    )


def score_recording(
    method: str,
    params: dict[str, Any],
    recording: TuneRecording,
    reference: pd.DataFrame,
    *,
    tolerance_s: float,
    segment_labels: Sequence[str] | None,
) -> Counts | None:
    """Detect on one recording with ``params`` and match against its reference segments
    (see the module notes); ``None`` when the parameters cannot run at its rate."""
    from sonotype.evaluate import match_events

    detector = make_detector(method, **params)
    try:
        detector.check(recording.sr)
    except ParameterError:
        return None
    found = detect_recording(
        detector, recording.path, name=recording.name, channels=list(recording.channels)
    )
    points = bool(len(reference)) and bool((reference["start_s"] == reference["stop_s"]).all())
    pred = segments_of(found, labels=segment_labels, points=points)
    if reference.empty or pred.empty:
        return Counts(len(reference), len(pred), 0)
    hits = len(match_events(reference, pred, tolerance_s=tolerance_s))
    return Counts(len(reference), len(pred), hits)


def _score_task(args) -> Counts | None:
    return score_recording(*args[:4], tolerance_s=args[4], segment_labels=args[5])


class _Scorer:
    """Scores settings on recordings, one process per recording when workers > 1."""

    def __init__(self, method, recordings, references, *, tolerance_s, segment_labels, pool):
        self.method = method
        self.recordings = {r.name: r for r in recordings}
        self.references = references
        self.tolerance_s = tolerance_s
        self.segment_labels = segment_labels
        self.pool: Executor | None = pool

    def score(self, params: dict[str, Any], names: Sequence[str]) -> dict[str, Counts | None]:
        tasks = [
            (
                self.method,
                params,
                self.recordings[name],
                self.references[name],
                self.tolerance_s,
                self.segment_labels,
            )
            for name in names
        ]
        results = self.pool.map(_score_task, tasks) if self.pool else map(_score_task, tasks)
        return dict(zip(names, results, strict=True))


def pooled_f1(counts: Sequence[Counts | None]) -> float:
    """``2 hits / (annotated + detected)`` over recordings; 0 when any count is ``None``
    (parameters that cannot run), NaN when there is nothing on either side."""
    if any(c is None for c in counts):
        return 0.0
    hits = sum(c.hits for c in counts)
    total = sum(c.n_ref + c.n_pred for c in counts)
    return 2 * hits / total if total else math.nan


def tune_detector(
    method: str,
    recordings: Sequence[TuneRecording],
    annotations: pd.DataFrame,
    *,
    tolerance_s: float = 0.01,
    n_trials: int = 50,
    n_folds: int = 3,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TuneResult:
    """Search detector ``method``'s parameters against annotated recordings (module notes).

    Parameters
    ----------
    method : str
        A registered detector with a search space (:mod:`sonotype.detect.spaces`).
    recordings : sequence of TuneRecording
        The recordings, each annotated throughout (unannotated sounds in them count as
        false alarms).
    annotations : DataFrame
        Events table of the annotated events; labels are ignored.
    tolerance_s : float
        Largest onset (and offset) difference of a match, in seconds.
    n_trials : int
        Settings tried per search (one search per fold, plus one over all recordings).
    n_folds : int
        Folds of whole recordings (at most the number of recordings; at least 2 unless
        there is a single recording).
    seed : int
        Seeds the folds and the searches: the same inputs give the same result.
    workers : int, optional
        Processes scoring recordings in parallel (default: one per core; 1: in this one).
    progress : callable, optional
        Called as ``progress(done, total)`` after each setting scored.

    Returns
    -------
    TuneResult

    Raises
    ------
    ParameterError
        No recordings, no annotated events in them, bad counts or tolerance, or a detector
        without a search space.
    """
    import optuna

    recordings = list(recordings)
    if not recordings:
        raise ParameterError("no annotated recordings to tune on")
    check_number(tolerance_s, name="tolerance_s", minimum=0, unit="seconds")
    check_int(n_trials, name="n_trials", minimum=1, hint="50 is usual")
    check_int(n_folds, name="n_folds", minimum=2, hint="3 is usual")
    names = [r.name for r in recordings]
    annotations = annotations[annotations["recording"].isin(names)]
    if annotations.empty:
        raise ParameterError(
            f"none of the {len(names)} recordings has annotated events to tune against"
        )
    summary = AnnotationSummary.of(annotations)
    space = search_space(method, sr=min(r.sr for r in recordings), summary=summary)
    references = {}
    for name in names:
        mine = annotations[annotations["recording"] == name]
        points = bool(len(mine)) and bool((mine["start_s"] == mine["stop_s"]).all())
        references[name] = segments_of(mine, points=points) if points else _unmerged(mine)

    folds = _folds(names, n_folds, seed)
    n_searches = (len(folds) if len(folds) > 1 else 0) + 1
    total = n_searches * n_trials + 1
    done = 0

    def tick():
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    workers = workers or os.cpu_count() or 1
    pool = ProcessPoolExecutor(min(workers, len(names))) if workers > 1 and len(names) > 1 else None
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        scorer = _Scorer(
            method,
            recordings,
            references,
            tolerance_s=tolerance_s,
            segment_labels=space.segment_labels,
            pool=pool,
        )
        before = scorer.score({}, names)
        tick()
        fold_params, after, fold_of = [], {}, {}
        if len(folds) > 1:
            for k, held_out in enumerate(folds):
                train = [n for n in names if n not in held_out]
                params, _ = _search(space, scorer, train, n_trials=n_trials, seed=seed + 1 + k,
                                    tick=tick)  # fmt: skip
                fold_params.append(params)
                after.update(scorer.score(params, held_out))
                fold_of.update(dict.fromkeys(held_out, k))
        params, train_f1 = _search(space, scorer, names, n_trials=n_trials, seed=seed, tick=tick)
        if len(folds) <= 1:
            after = scorer.score(params, names)
            fold_of = dict.fromkeys(names, 0)
            fold_params = [params]
    finally:
        optuna.logging.set_verbosity(verbosity)
        if pool is not None:
            pool.shutdown()
    scores = _score_table(names, fold_of, references, before, after)
    return TuneResult(
        method=method,
        params=params,
        scores=scores,
        fold_params=fold_params,
        train_f1=train_f1,
        n_trials=n_trials,
        n_folds=len(folds) if len(folds) > 1 else 0,
        seed=seed,
        tolerance_s=tolerance_s,
        cross_validated=len(folds) > 1,
    )


def _unmerged(events: pd.DataFrame) -> pd.DataFrame:
    """Annotated intervals as they are, labelled ``"segment"`` (two annotated syllables
    that touch stay two)."""
    return events.assign(label=SEGMENT).reset_index(drop=True)


def _folds(names: list[str], n_folds: int, seed: int) -> list[list[str]]:
    """Whole recordings dealt into ``min(n_folds, len(names))`` folds after a seeded
    shuffle of the sorted names."""
    order = np.random.default_rng(seed).permutation(sorted(names)).tolist()
    k = min(n_folds, len(names))
    return [order[i::k] for i in range(k)]


def _search(space: SearchSpace, scorer: _Scorer, names, *, n_trials: int, seed: int, tick):
    """The best parameters on ``names`` after ``n_trials`` settings, and their pooled F1."""
    import optuna

    with warnings.catch_warnings():
        # Multivariate TPE is marked experimental; it models the parameters jointly
        # (a band and a threshold interact), which is why it is used.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, multivariate=True, n_startup_trials=min(10, max(1, n_trials // 3))
        )
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.enqueue_trial(space.start_point())
    tried: dict[tuple, float] = {}

    def objective(trial) -> float:
        values = {}
        for dim in space.dimensions:
            if dim.integer:
                values[dim.name] = trial.suggest_int(dim.name, int(dim.low), int(dim.high))
            elif dim.low == dim.high:
                values[dim.name] = dim.low
            else:
                values[dim.name] = trial.suggest_float(dim.name, dim.low, dim.high, log=dim.log)
        params = space.to_params(values)
        key = _key(params)
        if key not in tried:  # rounding makes repeats; score each setting once
            f1 = pooled_f1(list(scorer.score(params, names).values()))
            tried[key] = 0.0 if math.isnan(f1) else f1
        trial.set_user_attr("params", params)
        tick()
        return tried[key]

    study.optimize(objective, n_trials=n_trials)
    best = study.best_trial
    return best.user_attrs["params"], float(best.value)


def _key(params: dict[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


def _score_table(names, fold_of, references, before, after) -> pd.DataFrame:
    rows = []
    for name in [*sorted(names), "(all)"]:
        chosen = sorted(names) if name == "(all)" else [name]
        row: dict[str, Any] = {
            "recording": name,
            "fold": -1 if name == "(all)" else fold_of.get(name, -1),
            "n_ref": sum(len(references[n]) for n in chosen),
        }
        for side, counts in (("before", before), ("after", after)):
            found = [counts.get(n) for n in chosen]
            usable = None not in found
            n_pred = sum(c.n_pred for c in found) if usable else math.nan
            hits = sum(c.hits for c in found) if usable else math.nan
            row[f"{side}_n_pred"] = n_pred
            row[f"{side}_hits"] = hits
            row[f"{side}_precision"] = _ratio(hits, n_pred)
            row[f"{side}_recall"] = _ratio(hits, row["n_ref"])
            row[f"{side}_f1"] = _ratio(2 * hits, row["n_ref"] + n_pred)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(TUNE_COLUMNS))


def _ratio(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return math.nan
    return a / b
