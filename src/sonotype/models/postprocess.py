"""Post-processing learned from the user's annotations: thresholds, minimum gap and duration,
majority vote.

A network's per-frame probabilities become events through :func:`sonotype.models.ethogram.
ethogram`, whose settings decide much of the accuracy: on a Bengalese finch that repeats a
syllable with 1 ms gaps, a 5 ms minimum gap merges the repeats (syllable error rate 13.6%),
no post-processing leaves fragments (23.6%). No fixed setting suits every animal, so the
settings are chosen on the validation recordings, within bounds read from the training
annotations:

- **Bounds.** For each interval label, its annotated *gaps* (the silence after each of its
  events until the next annotated event of any label, in the same recording and channel) and
  *durations*. The minimum gap is never longer than the 5th percentile of the label's gaps,
  nor the minimum duration than the 5th percentile of its durations, so at most about one
  true gap in twenty could be closed and one true syllable in twenty dropped, whatever the
  validation recordings say. A label without gaps (one event per recording) gets no gap
  closing. With a majority vote, where one gap and one duration serve every label, the
  bound is the smallest of the labels' bounds.
- **Objective.** For interval labels, ``F1 - SER``: F1 of the events matched one to one with
  the truth within ``tolerance_s`` at both onset and offset (:func:`sonotype.evaluate.
  match_events`), micro-averaged over the labels, minus the syllable error rate (edit
  distance between the label sequences per recording over the number of true syllables,
  :func:`sonotype.evaluate.edit_distance`). SER judges the sequence (merged repeats and
  fragments cost an edit each) but not timing; F1 judges timing and labels but counts a
  fragmented syllable only once as a miss. Their difference, both on the scale of a fraction
  of the syllables, rewards settings that get both right. For point labels (pulses), the F1
  of points matched within ``point_tolerance_s``, each label on its own (only its threshold
  matters).
- **Search.** Coordinate descent, twice: once with labels segmented one by one (per-label
  threshold, minimum gap and minimum duration) and once with a majority vote (per-label
  thresholds, one gap and one duration). From thresholds of 0.5 (or those given), no gap
  closing and no minimum duration, each setting in turn takes the candidate value with the
  highest objective, the others held, for up to ``rounds`` rounds or until nothing changes.
  Among equal scores the least post-processing wins (the smallest gap or duration, the
  threshold nearest 0.5: a value that only ties on validation is a guess on new recordings,
  and a larger one risks more there), and the majority vote is kept only when it scores
  higher. Gaps and durations are tried in whole output frames (other values behave the
  same), at most ``max_candidates`` of them, spread geometrically up to the bound;
  thresholds from ``threshold_grid``. The search draws nothing at random: the same inputs
  give the same choice. The validation recordings are laid end to end (with silent frames
  between them, longer than any gap tried) so each candidate is one vectorised call; the
  scores reported are then recomputed recording by recording with :mod:`sonotype.evaluate`.

Torch-free: it works on saved probabilities.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.atomic import atomic_path
from sonotype.errors import FileProblem, ParameterError
from sonotype.evaluate import TIME_EPSILON_S
from sonotype.models.ethogram import ethogram

#: The file in a model's folder that holds its learned post-processing.
POSTPROCESS_FILE = "postprocess.json"
#: Percentile of the annotated gaps and durations that bounds the minimum gap and duration.
BOUND_PERCENTILE = 5.0
#: Thresholds tried for every label.
THRESHOLD_GRID = (0.2, 0.35, 0.5, 0.65, 0.8)
#: Columns of :func:`annotation_intervals`.
INTERVAL_COLUMNS = ("recording", "channel", "label", "start_s", "duration_s", "gap_s")
#: Columns of :func:`annotation_bounds`.
BOUND_COLUMNS = ("label", "n_events", "n_gaps", "max_min_gap_s", "max_min_duration_s")

_FORMAT = 1
_IMPROVEMENT = 1e-12


@dataclass(frozen=True)
class PostProcessing:
    """Ethogram settings and how they were chosen.

    Attributes
    ----------
    thresholds : dict of str to float
        Per label (interval and point labels; never the background).
    min_gap_s, min_duration_s : dict of str to float, seconds
        Per interval label; all equal with a majority vote.
    majority_vote : bool
        Segment the interval labels together and vote (see :func:`~sonotype.models.
        ethogram.ethogram`).
    min_separation_s : float, seconds
        Least time between point events of one label (given, not learned).
    tolerance_s, point_tolerance_s : float, seconds
        Matching tolerances of the objective (onset and offset; points).
    bounds : dict of str to dict
        Per interval label, from the training annotations: ``n_events``, ``n_gaps``,
        ``max_min_gap_s``, ``max_min_duration_s``.
    validation : dict
        ``recordings``, ``optimistic`` (True when the validation recordings were partly
        trained on) and ``scores`` (see :func:`score_postprocessing`).
    test : dict
        Scores on test recordings (never used for any choice); empty when there are none.
    """

    thresholds: dict[str, float]
    min_gap_s: dict[str, float] = field(default_factory=dict)
    min_duration_s: dict[str, float] = field(default_factory=dict)
    majority_vote: bool = False
    min_separation_s: float = 0.01
    tolerance_s: float = 0.01
    point_tolerance_s: float = 0.005
    bounds: dict[str, dict] = field(default_factory=dict)
    validation: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)

    def ethogram_settings(self) -> dict:
        """Keyword arguments of :func:`~sonotype.models.ethogram.ethogram` for these settings."""
        gap: float | dict[str, float] = dict(self.min_gap_s)
        duration: float | dict[str, float] = dict(self.min_duration_s)
        if self.majority_vote:  # one value for every label
            gap = max(self.min_gap_s.values(), default=0.0)
            duration = max(self.min_duration_s.values(), default=0.0)
        return {
            "thresholds": dict(self.thresholds),
            "min_gap_s": gap,
            "min_duration_s": duration,
            "majority_vote": self.majority_vote,
            "min_separation_s": self.min_separation_s,
        }

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``folder/postprocess.json`` atomically; return its path."""
        path = Path(folder) / POSTPROCESS_FILE
        record = {"format": _FORMAT, **asdict(self)}
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(_plain(record), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> PostProcessing | None:
        """The post-processing saved in ``folder``, or None when there is none."""
        path = Path(folder) / POSTPROCESS_FILE
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise FileProblem(
                path, f"is not JSON ({error}); run `sonotype accuracy` again"
            ) from None
        if not isinstance(record, dict) or record.pop("format", None) != _FORMAT:
            raise FileProblem(path, "has an unknown format; run `sonotype accuracy` again")
        try:
            return cls(**record)
        except TypeError as error:
            raise FileProblem(path, f"{error}; run `sonotype accuracy` again") from None


# -- bounds from the training annotations ------------------------------------------------------


def annotation_intervals(events: pd.DataFrame, *, labels: Sequence[str]) -> pd.DataFrame:
    """Duration of each annotated interval of ``labels`` and the gap after it.

    Parameters
    ----------
    events : DataFrame
        An Events table (the training annotations). Point events are left out.
    labels : sequence of str
        The interval labels to describe; events of other labels still end the gaps.

    Returns
    -------
    DataFrame
        Columns :data:`INTERVAL_COLUMNS`, one row per interval of ``labels``: ``gap_s`` is
        the time from its offset to the onset of the next annotated interval (any label) in
        the same recording and channel, at least 0 (overlapping events have no gap), NaN
        for the last one.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ev = make_events("r.wav", [0.0, 0.101, 0.3], [0.1, 0.2, 0.35], ["a", "a", "b"])
    >>> annotation_intervals(ev, labels=["a"])[["duration_s", "gap_s"]].round(3).values.tolist()
    [[0.1, 0.001], [0.099, 0.1]]
    """
    intervals = events[events["stop_s"] > events["start_s"]]
    ordered = intervals.sort_values(["recording", "channel", "start_s", "stop_s"], kind="stable")
    same = (ordered["recording"].shift(-1) == ordered["recording"]) & (
        ordered["channel"].shift(-1) == ordered["channel"]
    )
    gap = (ordered["start_s"].shift(-1) - ordered["stop_s"]).clip(lower=0.0).where(same)
    table = pd.DataFrame(
        {
            "recording": ordered["recording"].astype(str),
            "channel": ordered["channel"].astype(np.int64),
            "label": ordered["label"].astype(str),
            "start_s": ordered["start_s"].astype(float),
            "duration_s": (ordered["stop_s"] - ordered["start_s"]).astype(float),
            "gap_s": gap.astype(float),
        }
    )
    return table[table["label"].isin(list(labels))].reset_index(drop=True)


def annotation_bounds(
    events: pd.DataFrame, *, labels: Sequence[str], percentile: float = BOUND_PERCENTILE
) -> pd.DataFrame:
    """The largest minimum gap and minimum duration allowed for each interval label.

    Parameters
    ----------
    events : DataFrame
        The training annotations (an Events table).
    labels : sequence of str
        Interval labels.
    percentile : float
        Of the label's annotated gaps and durations (default 5).

    Returns
    -------
    DataFrame
        Columns :data:`BOUND_COLUMNS`, one row per label: ``max_min_gap_s`` is the
        ``percentile``-th percentile of its gaps (0 when it has none), ``max_min_duration_s``
        that of its durations (0 when it has no events).
    """
    if not 0 <= percentile <= 100:
        raise ParameterError(f"percentile={percentile!r} must be in [0, 100]; the default is 5")
    table = annotation_intervals(events, labels=labels)
    rows = []
    for label in labels:
        mine = table[table["label"] == label]
        gaps = mine["gap_s"].dropna().to_numpy()
        durations = mine["duration_s"].to_numpy()
        rows.append(
            (
                label,
                len(mine),
                len(gaps),
                float(np.percentile(gaps, percentile)) if len(gaps) else 0.0,
                float(np.percentile(durations, percentile)) if len(durations) else 0.0,
            )
        )
    return pd.DataFrame(rows, columns=list(BOUND_COLUMNS))


# -- scoring ---------------------------------------------------------------------------------


def predict(
    probabilities: Mapping[str, np.ndarray],
    postprocessing: PostProcessing,
    *,
    labels: Sequence[str],
    step_s: float,
    point_labels: Sequence[str] = (),
    exclusive: bool = False,
    durations_s: Mapping[str, float] | None = None,
    source: str = "model",
) -> pd.DataFrame:
    """The ethogram of every recording with these settings (one Events table)."""
    from sonotype.annotations.events import concat_events

    settings = postprocessing.ethogram_settings()
    tables = [
        ethogram(
            p,
            labels=list(labels),
            step_s=step_s,
            recording=recording,
            duration_s=None if durations_s is None else durations_s.get(recording),
            point_labels=list(point_labels),
            exclusive=exclusive,
            source=source,
            **settings,
        )
        for recording, p in probabilities.items()
    ]
    return concat_events(tables)


def score_postprocessing(
    truth: pd.DataFrame,
    predicted: pd.DataFrame,
    *,
    interval_labels: Sequence[str],
    point_labels: Sequence[str] = (),
    tolerance_s: float = 0.01,
    point_tolerance_s: float = 0.005,
) -> dict:
    """Scores of an ethogram against the truth, with the metrics the search maximises.

    Returns
    -------
    dict
        ``objective`` (F1 - SER of the interval labels, or the mean point F1 when there are
        only point labels), ``f1``, ``precision``, ``recall`` and ``ser`` of the interval
        labels (NaN without them), ``point_f1`` (micro over the point labels; NaN without
        them), ``n_ref`` and ``n_pred`` (interval events), and ``per_label``: a list of
        rows with ``label``, ``n_ref``, ``n_pred``, ``hits``, ``precision``, ``recall``,
        ``f1``.
    """
    from sonotype.evaluate import event_scores, syllable_error_rates
    from sonotype.evaluate.sequences import overall_error_rate

    interval_labels, point_labels = list(interval_labels), list(point_labels)
    truth = truth[truth["label"].isin(interval_labels + point_labels)]
    predicted = predicted[predicted["label"].isin(interval_labels + point_labels)]
    result: dict = {"per_label": []}
    for names, tolerance, key in (
        (interval_labels, tolerance_s, "f1"),
        (point_labels, point_tolerance_s, "point_f1"),
    ):
        present = [
            n for n in names if (truth["label"] == n).any() or (predicted["label"] == n).any()
        ]
        if not present:
            result[key] = math.nan
            continue
        table = event_scores(truth, predicted, tolerance_s=tolerance, labels=present)
        rows = table[table["label"] != "(all)"]
        hits, n_ref, n_pred = rows["hits"].sum(), rows["n_ref"].sum(), rows["n_pred"].sum()
        result[key] = float(2 * hits / (n_ref + n_pred)) if n_ref + n_pred else math.nan
        if key == "f1":
            result["precision"] = float(hits / n_pred) if n_pred else math.nan
            result["recall"] = float(hits / n_ref) if n_ref else math.nan
            result["n_ref"], result["n_pred"] = int(n_ref), int(n_pred)
        columns = ["label", "n_ref", "n_pred", "hits", "precision", "recall", "f1"]
        result["per_label"] += [_plain(row) for row in rows[columns].to_dict("records")]
    if interval_labels and (truth["label"].isin(interval_labels)).any():
        kept = [t[t["label"].isin(interval_labels)] for t in (truth, predicted)]
        result["ser"] = overall_error_rate(syllable_error_rates(*kept))
    else:
        result["ser"] = math.nan
    for key in ("precision", "recall"):
        result.setdefault(key, math.nan)
    result.setdefault("n_ref", 0)
    result.setdefault("n_pred", 0)
    if interval_labels:
        result["objective"] = result["f1"] - result["ser"]
    else:
        result["objective"] = result["point_f1"]
    return _plain(result)


# -- the search ----------------------------------------------------------------------------


def learn_postprocessing(
    probabilities: Mapping[str, np.ndarray],
    truth: pd.DataFrame,
    *,
    labels: Sequence[str],
    step_s: float,
    bounds: pd.DataFrame,
    point_labels: Sequence[str] = (),
    background: str | None = None,
    exclusive: bool = False,
    durations_s: Mapping[str, float] | None = None,
    start_thresholds: Mapping[str, float] | None = None,
    tolerance_s: float = 0.01,
    point_tolerance_s: float = 0.005,
    min_separation_s: float = 0.01,
    threshold_grid: Sequence[float] = THRESHOLD_GRID,
    max_candidates: int = 8,
    rounds: int = 3,
    majority_vote: bool | None = None,
) -> PostProcessing:
    """Choose the ethogram's settings on validation recordings (see the module notes).

    Parameters
    ----------
    probabilities : mapping of str to ndarray, shape (frames, n_labels)
        Per validation recording, the network's probabilities (frame ``j`` at ``j * step_s``).
    truth : DataFrame
        The annotated events of those recordings (an Events table); labels that the model
        does not output, and the background, are ignored.
    labels : sequence of str
        The model's labels, one per column.
    step_s : float, seconds
        Time between output frames.
    bounds : DataFrame
        From :func:`annotation_bounds` on the training annotations, one row per interval label.
    point_labels : sequence of str
        Labels predicted as points.
    background : str, optional
        The background label: never predicted.
    exclusive : bool
        A softmax model (see :func:`~sonotype.models.ethogram.ethogram`).
    durations_s : mapping of str to float, optional
        Duration of each recording (clips the events when scoring).
    start_thresholds : mapping of str to float, optional
        Where the thresholds' search starts (default 0.5 each).
    tolerance_s, point_tolerance_s : float, seconds
        Matching tolerances of the objective.
    min_separation_s : float, seconds
        Of point events (kept as given).
    threshold_grid : sequence of float
        Thresholds tried, each in (0, 1].
    max_candidates : int
        Most values tried for a gap or a duration (>= 2).
    rounds : int
        Most rounds of coordinate descent (>= 1).
    majority_vote : bool, optional
        Try only this mode; both by default.

    Returns
    -------
    PostProcessing
        With ``bounds`` and ``validation["scores"]`` (:func:`score_postprocessing` on the
        validation recordings, recording by recording).

    Raises
    ------
    ParameterError
        No recordings, probabilities whose columns do not match ``labels``, a bound for a
        label missing, a grid value outside (0, 1], or no true event of any label.
    """
    labels = [str(label) for label in labels]
    points = [label for label in point_labels if label != background]
    intervals = [label for label in labels if label not in points and label != background]
    if not probabilities:
        raise ParameterError("probabilities is empty; give at least one validation recording")
    for recording, p in probabilities.items():
        if np.ndim(p) != 2 or np.shape(p)[1] != len(labels):
            raise ParameterError(
                f"probabilities of {recording!r} have shape {np.shape(p)}; they need one column "
                f"per label ({len(labels)})"
            )
    grid = sorted({float(t) for t in threshold_grid})
    if not grid or not all(0 < t <= 1 for t in grid):
        raise ParameterError(f"threshold_grid={list(threshold_grid)!r} must hold numbers in (0, 1]")
    if max_candidates < 2 or rounds < 1:
        raise ParameterError(
            f"max_candidates={max_candidates} must be >= 2 and rounds={rounds} >= 1"
        )
    bound = bounds.set_index("label") if len(bounds) else pd.DataFrame()
    missing = [label for label in intervals if label not in bound.index]
    if missing:
        raise ParameterError(
            f"bounds has no row for label(s) {', '.join(missing)}; make it with "
            "annotation_bounds(training events, labels=interval labels)"
        )
    truth = truth[truth["label"].isin(intervals + points)]
    truth = truth[truth["recording"].isin(list(probabilities))]
    if truth.empty:
        raise ParameterError(
            f"the validation recordings ({', '.join(probabilities)}) hold no annotated event "
            "of the model's labels; post-processing cannot be learned from them"
        )
    search = _Search(
        probabilities,
        truth,
        labels=labels,
        intervals=intervals,
        points=points,
        step_s=step_s,
        exclusive=exclusive,
        tolerance_s=tolerance_s,
        point_tolerance_s=point_tolerance_s,
        min_separation_s=min_separation_s,
        largest_gap_s=max([float(bound.loc[x, "max_min_gap_s"]) for x in intervals] or [0.0]),
    )
    start = {label: float((start_thresholds or {}).get(label, 0.5)) for label in intervals + points}
    thresholds = {label: start[label] for label in intervals + points}
    for label in points:  # independent of everything else
        thresholds[label] = search.best_point_threshold(label, grid, start[label])
    gap_bound = {x: float(bound.loc[x, "max_min_gap_s"]) for x in intervals}
    duration_bound = {x: float(bound.loc[x, "max_min_duration_s"]) for x in intervals}
    gap_candidates = {x: _gap_candidates(gap_bound[x], step_s, max_candidates) for x in intervals}
    duration_candidates = {
        x: _duration_candidates(duration_bound[x], step_s, max_candidates) for x in intervals
    }
    modes = [False, True] if majority_vote is None else [bool(majority_vote)]
    if len(intervals) < 2:
        modes = [m for m in modes if not m] or modes  # one label: nothing to vote on
    best = None
    for vote in modes:
        if not intervals:
            chosen = (math.nan, {}, {}, {})
        elif vote:
            shared_gap = min(
                [gap_bound[x] for x in intervals if bound.loc[x, "n_gaps"] > 0] or [0.0]
            )
            shared_duration = min(duration_bound.values())
            chosen = search.descend_voted(
                {x: thresholds[x] for x in intervals},
                grid,
                _gap_candidates(shared_gap, step_s, max_candidates),
                _duration_candidates(shared_duration, step_s, max_candidates),
                rounds,
            )
        else:
            chosen = search.descend_per_label(
                {x: thresholds[x] for x in intervals},
                grid,
                gap_candidates,
                duration_candidates,
                rounds,
            )
        score, chosen_thresholds, gaps, durations = chosen
        if best is None or (score > best[0] + _IMPROVEMENT):
            best = (score, vote, chosen_thresholds, gaps, durations)
    _, vote, chosen_thresholds, gaps, durations = best
    thresholds.update(chosen_thresholds)
    result = PostProcessing(
        thresholds=thresholds,
        min_gap_s=gaps,
        min_duration_s=durations,
        majority_vote=vote,
        min_separation_s=min_separation_s,
        tolerance_s=tolerance_s,
        point_tolerance_s=point_tolerance_s,
        bounds={x: {k: _plain(bound.loc[x, k]) for k in BOUND_COLUMNS[1:]} for x in intervals},
    )
    predicted = predict(
        probabilities,
        result,
        labels=labels,
        step_s=step_s,
        point_labels=points,
        exclusive=exclusive,
        durations_s=durations_s,
    )
    scores = score_postprocessing(
        truth,
        predicted,
        interval_labels=intervals,
        point_labels=points,
        tolerance_s=tolerance_s,
        point_tolerance_s=point_tolerance_s,
    )
    return PostProcessing(**{**asdict(result), "validation": {"scores": scores}})


class _Search:
    """The validation recordings laid end to end, and the objective of candidate settings."""

    def __init__(
        self,
        probabilities: Mapping[str, np.ndarray],
        truth: pd.DataFrame,
        *,
        labels: list[str],
        intervals: list[str],
        points: list[str],
        step_s: float,
        exclusive: bool,
        tolerance_s: float,
        point_tolerance_s: float,
        min_separation_s: float,
        largest_gap_s: float,
    ):
        from sonotype.annotations.events import make_events

        self.labels, self.intervals, self.points = labels, intervals, points
        self.step_s, self.exclusive = step_s, exclusive
        self.tolerance_s, self.point_tolerance_s = tolerance_s, point_tolerance_s
        self.min_separation_s = min_separation_s
        # Silent frames between recordings: more than any gap tried, and a point separation.
        pad = math.ceil(max(largest_gap_s, min_separation_s, tolerance_s) / step_s) + 4
        blocks, offsets, position = [], [], 0
        for p in probabilities.values():
            array = np.asarray(p, dtype=np.float64)
            blocks += [array, np.zeros((pad, len(labels)))]
            offsets.append(position * step_s)
            position += len(array) + pad
        self.p = np.concatenate(blocks)
        if exclusive:  # an interval label is on only where it is the most probable label
            winner = self.p.argmax(axis=1)
            for column, label in enumerate(labels):
                if label in intervals:
                    self.p[:, column] = np.where(winner == column, self.p[:, column], 0.0)
        self.offsets = np.asarray(offsets)
        names = list(probabilities)
        where = {name: i for i, name in enumerate(names)}
        truth = truth[truth["recording"].isin(names)]
        shift = self.offsets[truth["recording"].map(where).to_numpy(dtype=np.intp)]
        self.truth = make_events(
            "all",
            truth["start_s"].to_numpy() + shift,
            truth["stop_s"].to_numpy() + shift,
            truth["label"].astype(str).tolist(),
        )
        self.n_recordings = len(names)
        self.code = {label: i for i, label in enumerate(intervals)}
        self.ref_sequences = self._sequences(self.truth[self.truth["label"].isin(intervals)])
        self.n_ref = {x: int((self.truth["label"] == x).sum()) for x in intervals + points}
        self.n_ref_syllables = sum(len(s) for s in self.ref_sequences)
        self._cache: dict = {}
        self._truth_times: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # one label's events ------------------------------------------------------------------------

    def _events(self, columns: list[int], **settings) -> pd.DataFrame:
        p = self.p[:, columns]
        names = [self.labels[c] for c in columns]
        return ethogram(
            p,
            labels=names,
            step_s=self.step_s,
            recording="all",
            point_labels=[n for n in names if n in self.points],
            min_separation_s=self.min_separation_s,
            **settings,
        )

    def _hits(self, predicted: pd.DataFrame, labels: list[str], tolerance_s: float) -> dict:
        """One-to-one matches per label (:func:`count_matches`; the reported scores use
        :func:`sonotype.evaluate.match_events`, which gives the same counts here)."""
        hits = {}
        for label in labels:
            if label not in self._truth_times:
                mine = self.truth[self.truth["label"] == label].sort_values("start_s")
                self._truth_times[label] = (mine["start_s"].to_numpy(), mine["stop_s"].to_numpy())
            mine = predicted[predicted["label"] == label]
            ref_on, ref_off = self._truth_times[label]
            points = label in self.points
            hits[label] = count_matches(
                ref_on,
                ref_on if points else ref_off,
                mine["start_s"].to_numpy(),
                mine["start_s" if points else "stop_s"].to_numpy(),
                tolerance_s=tolerance_s,
                offset_tolerance_s=math.inf if points else tolerance_s,
            )
        return hits

    def label_outcome(self, label: str, threshold: float, gap_s: float, duration_s: float):
        """(events, hits) of one interval label segmented on its own, cached."""
        key = (label, threshold, gap_s, duration_s)
        if key not in self._cache:
            events = self._events(
                [self.labels.index(label)],
                thresholds={label: threshold},
                min_gap_s=gap_s,
                min_duration_s=duration_s,
            )
            hits = self._hits(events, [label], self.tolerance_s).get(label, 0)
            self._cache[key] = (events, hits)
        return self._cache[key]

    # objective ------------------------------------------------------------------------------------

    def _sequences(self, events: pd.DataFrame) -> list[list[int]]:
        """Label codes in onset order, one list per recording."""
        ordered = events.sort_values(["start_s", "stop_s"], kind="stable")
        which = np.searchsorted(self.offsets, ordered["start_s"].to_numpy(), side="right") - 1
        codes = ordered["label"].map(self.code).to_numpy()
        return [codes[which == i].tolist() for i in range(len(self.offsets))]

    def _objective(self, events: pd.DataFrame, hits: int) -> float:
        from sonotype.evaluate import edit_distance

        n_ref = sum(self.n_ref[x] for x in self.intervals)
        f1 = 2 * hits / (n_ref + len(events)) if n_ref + len(events) else 0.0
        sequences = self._sequences(events)
        edits = sum(edit_distance(a, b) for a, b in zip(self.ref_sequences, sequences, strict=True))
        return f1 - edits / max(self.n_ref_syllables, 1)

    def per_label_objective(self, settings: dict[str, tuple]) -> float:
        outcomes = [self.label_outcome(x, *settings[x]) for x in self.intervals]
        events = pd.concat([o[0] for o in outcomes], ignore_index=True)
        return self._objective(events, sum(o[1] for o in outcomes))

    def voted_objective(self, thresholds: dict[str, float], gap_s: float, duration_s: float):
        key = ("vote", tuple(sorted(thresholds.items())), gap_s, duration_s)
        if key not in self._cache:
            columns = [self.labels.index(x) for x in self.intervals]
            events = self._events(
                columns,
                thresholds=thresholds,
                min_gap_s=gap_s,
                min_duration_s=duration_s,
                majority_vote=True,
            )
            hits = sum(self._hits(events, self.intervals, self.tolerance_s).values())
            self._cache[key] = self._objective(events, hits)
        return self._cache[key]

    # coordinate descent ---------------------------------------------------------------------------

    def descend_per_label(self, thresholds, grid, gap_candidates, duration_candidates, rounds):
        settings = {x: (thresholds[x], 0.0, 0.0) for x in self.intervals}
        score = self.per_label_objective(settings)
        for _ in range(rounds):
            before = dict(settings)
            for x in self.intervals:
                for position, candidates in (
                    (1, gap_candidates[x]),
                    (2, duration_candidates[x]),
                    (0, grid),
                ):

                    def trial(value, x=x, position=position, settings=settings):
                        values = list(settings[x])
                        values[position] = value
                        return {**settings, x: tuple(values)}

                    value, score = _pick(
                        [*candidates, settings[x][position]],
                        lambda v, trial=trial: self.per_label_objective(trial(v)),
                        threshold=position == 0,
                    )
                    settings = trial(value)
            if settings == before:
                break
        return (
            score,
            {x: s[0] for x, s in settings.items()},
            {x: s[1] for x, s in settings.items()},
            {x: s[2] for x, s in settings.items()},
        )

    def descend_voted(self, thresholds, grid, gaps, durations, rounds):
        thresholds, gap, duration = dict(thresholds), 0.0, 0.0
        score = self.voted_objective(thresholds, gap, duration)
        for _ in range(rounds):
            before = (dict(thresholds), gap, duration)
            gap, score = _pick(
                [*gaps, gap], lambda v, d=duration: self.voted_objective(thresholds, v, d)
            )
            duration, score = _pick(
                [*durations, duration], lambda v, g=gap: self.voted_objective(thresholds, g, v)
            )
            for x in self.intervals:
                value, score = _pick(
                    [*grid, thresholds[x]],
                    lambda v, x=x, g=gap, d=duration: self.voted_objective(
                        {**thresholds, x: v}, g, d
                    ),
                    threshold=True,
                )
                thresholds[x] = value
            if (thresholds, gap, duration) == before:
                break
        return (
            score,
            thresholds,
            dict.fromkeys(self.intervals, gap),
            dict.fromkeys(self.intervals, duration),
        )

    def best_point_threshold(self, label: str, grid, start: float) -> float:
        def f1(threshold: float) -> float:
            events = self._events([self.labels.index(label)], thresholds={label: threshold})
            hits = self._hits(events, [label], self.point_tolerance_s).get(label, 0)
            total = self.n_ref[label] + len(events)
            return 2 * hits / total if total else 0.0

        return _pick([*grid, start], f1, threshold=True)[0]


def count_matches(
    ref_start_s: np.ndarray,
    ref_stop_s: np.ndarray,
    pred_start_s: np.ndarray,
    pred_stop_s: np.ndarray,
    *,
    tolerance_s: float,
    offset_tolerance_s: float,
) -> int:
    """How many of one label's events match one to one, onsets and offsets within tolerance.

    Both tables hold events of one label that do not overlap, sorted by onset (so their
    offsets are sorted too). The predictions that can match a reference event then form a
    contiguous run whose ends never move back from one reference event to the next, and
    giving each reference event, in order, the first prediction of its run still free is a
    maximum matching: the count :func:`sonotype.evaluate.match_events` gives, in one pass.

    Examples
    --------
    >>> count_matches(np.array([0.0, 1.0]), np.array([0.5, 1.5]), np.array([0.005, 1.2]),
    ...               np.array([0.5, 1.5]), tolerance_s=0.01, offset_tolerance_s=0.01)
    1
    """
    slack = TIME_EPSILON_S
    first = np.maximum(
        np.searchsorted(pred_start_s, ref_start_s - tolerance_s - slack, side="left"),
        np.searchsorted(pred_stop_s, ref_stop_s - offset_tolerance_s - slack, side="left"),
    )
    end = np.minimum(
        np.searchsorted(pred_start_s, ref_start_s + tolerance_s + slack, side="right"),
        np.searchsorted(pred_stop_s, ref_stop_s + offset_tolerance_s + slack, side="right"),
    )
    hits, free = 0, 0
    for lo, hi in zip(first.tolist(), end.tolist(), strict=True):
        j = max(lo, free)
        if j < hi:
            hits, free = hits + 1, j + 1
    return hits


def _pick(candidates, objective, *, threshold: bool = False) -> tuple[float, float]:
    """(value, score) of the candidate with the highest objective; among equals the least
    post-processing: the smallest gap or duration, the threshold nearest 0.5."""
    values = sorted(set(candidates), key=(lambda v: (abs(v - 0.5), v)) if threshold else None)
    scores = [objective(v) for v in values]
    best = max(scores)
    chosen = next(
        v for v, score in zip(values, scores, strict=True) if score >= best - _IMPROVEMENT
    )
    return chosen, best


def _spread(counts: np.ndarray, n: int) -> list[int]:
    """At most ``n`` of the sorted ``counts``, spread geometrically, the largest kept."""
    if len(counts) <= n:
        return counts.tolist()
    picks = np.unique(np.round(np.geomspace(counts[0], counts[-1], n)).astype(int))
    return sorted(set(picks.tolist()) | {int(counts[-1])})


def _gap_candidates(bound_s: float, step_s: float, n: int) -> list[float]:
    """0 and minimum gaps closing gaps of k >= 1 whole frames, (k + 1/2) steps, up to the bound."""
    largest = math.floor(bound_s / step_s - 0.5 + 1e-9)
    counts = np.arange(1, largest + 1)
    # Clipped: (k + 1/2) steps may exceed the bound by a rounding error.
    return [0.0] + [min((k + 0.5) * step_s, bound_s) for k in _spread(counts, n - 1)]


def _duration_candidates(bound_s: float, step_s: float, n: int) -> list[float]:
    """0 and minimum durations dropping events of m - 1 frames or fewer, (m - 1/2) steps."""
    largest = math.floor(bound_s / step_s + 0.5 + 1e-9)
    counts = np.arange(2, largest + 1)
    return [0.0] + [min((m - 0.5) * step_s, bound_s) for m in _spread(counts, n - 1)]


def _plain(value):
    """numpy scalars and NaN made JSON-friendly (NaN stays a float; json writes NaN)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value
