"""``ethogram`` and ``misses`` as stages: probabilities thresholded into ``predicted``
events, and detections no prediction covers as ``missed`` events, each stored as the whole
set of its kind and source (:meth:`Project.store_results`), so a re-run with nothing changed
computes nothing and adds no edit."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError
from sonotype.models.saved import SavedModel
from sonotype.pipeline.classify import Weights, channel_batches, channel_failures, mark_partial
from sonotype.pipeline.codecs import Codec, EventsCodec
from sonotype.pipeline.model_store import (
    digest,
    events_hash,
    load_model,
    recording_table,
    select_recordings,
)
from sonotype.pipeline.stage import Batch, Pipeline, Result, Stage, StageParams
from sonotype.store import Project
from sonotype.store.event_store import Edit

#: Threshold used for every label when a model has no thresholds.csv yet.
DEFAULT_THRESHOLD = 0.5
#: Source of the ``missed`` events (as :func:`sonotype.evaluate.misses` names them).
MISSES_SOURCE = "misses"


def model_thresholds(
    model: SavedModel, *, pr_ratio: float = 1.0, thresholds_file: Path | None = None
) -> tuple[dict[str, float], str]:
    """Per-label thresholds and where they came from: a file, the model's
    ``thresholds.csv`` at ``pr_ratio`` (written by accuracy), or 0.5 when it has none."""
    from sonotype.models.accuracy import read_thresholds, thresholds_at

    path = thresholds_file or model.folder / "thresholds.csv"
    if thresholds_file is None and not path.is_file():
        return {label: DEFAULT_THRESHOLD for label in model.labels}, (
            f"{DEFAULT_THRESHOLD} for every label (run `sonotype accuracy` for calibrated ones)"
        )
    values = thresholds_at(read_thresholds(path), pr_ratio)
    return {k: v for k, v in values.items() if np.isfinite(v)}, f"{path} at ratio {pr_ratio:g}"


def ethogram_settings(
    model: SavedModel,
    *,
    pr_ratio: float | None = None,
    thresholds_file: Path | None = None,
    min_duration_ms: float | None = None,
    min_gap_ms: float | None = None,
    min_separation_ms: float | None = None,
    majority_vote: bool | None = None,
) -> tuple[dict, list[str]]:
    """The ethogram's settings for ``model`` and where each came from.

    Options given (not None) win; then the post-processing learned by ``accuracy``
    (``postprocess.json`` in the model); then the thresholds of ``thresholds.csv`` (or 0.5),
    no gap closing, no minimum duration, no vote and 10 ms between points. The background
    label never gets a threshold, so it is never predicted.

    Returns
    -------
    settings : dict
        Keyword arguments of :func:`sonotype.models.ethogram.ethogram`.
    origins : list of str
        One line per setting: its values and where they came from.
    """
    from sonotype.models.postprocess import POSTPROCESS_FILE, PostProcessing

    learned = PostProcessing.load(model.folder)
    where = f"learned by `sonotype accuracy`, {model.folder / POSTPROCESS_FILE}"
    if learned is not None and learned.validation.get("optimistic"):
        where += ", on recordings partly trained on"
    origins = []
    if pr_ratio is not None or thresholds_file is not None or learned is None:
        thresholds, origin = model_thresholds(
            model, pr_ratio=1.0 if pr_ratio is None else pr_ratio, thresholds_file=thresholds_file
        )
    else:
        thresholds, origin = dict(learned.thresholds), where
    background = model.training.get("background")
    thresholds = {k: v for k, v in thresholds.items() if k != background}
    origins.append(f"thresholds: {_values(thresholds)} ({origin})")
    vote = majority_vote
    vote_origin = "--majority-vote" if majority_vote is not None else where
    if vote is None:
        vote, vote_origin = (learned.majority_vote, where) if learned else (False, "default")
    settings = learned.ethogram_settings() if learned is not None else {}
    for key, given, option in (
        ("min_gap_s", min_gap_ms, "--min-gap-ms"),
        ("min_duration_s", min_duration_ms, "--min-duration-ms"),
    ):
        if given is not None:
            value, origin = given / 1000, option
        elif learned is not None:
            value, origin = settings[key], where
            if vote and isinstance(value, dict):  # one value for every label when voting
                value = min(value.values(), default=0.0)
        else:
            value, origin = 0.0, "default"
        settings[key] = value
        shown = (
            _values({k: 1000 * v for k, v in value.items()}, " ms")
            if isinstance(value, dict)
            else f"{1000 * value:.3g} ms"
        )
        origins.append(f"{key.removesuffix('_s').replace('_', ' ')}: {shown} ({origin})")
    settings["majority_vote"] = bool(vote)
    origins.append(f"majority vote: {'yes' if vote else 'no'} ({vote_origin})")
    if min_separation_ms is not None:
        settings["min_separation_s"] = min_separation_ms / 1000
    elif learned is None:
        settings["min_separation_s"] = 0.01
    settings["thresholds"] = thresholds
    return settings, origins


def _values(mapping: Mapping[str, float], unit: str = "") -> str:
    return ", ".join(f"{k} {v:.3g}{unit}" for k, v in mapping.items()) or "none"


class EthogramParams(StageParams):
    """Everything that turns probabilities into events: the resolved settings (see
    :func:`ethogram_settings`), the model's outputs, and the recordings' durations."""

    settings: dict[str, Any]
    labels: list[str]
    point_labels: list[str]
    step_s: float
    exclusive: bool
    source: str
    durations_s: dict[str, float]


class EthogramStage(Stage[EthogramParams, pd.DataFrame]):
    """Threshold each recording's probabilities into ``predicted`` events."""

    name: ClassVar[str] = "ethogram"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[StageParams]] = EthogramParams
    codec: ClassVar[Codec] = EventsCodec()

    def compute(
        self, params: EthogramParams, *, probabilities: Mapping[tuple[str, int], np.ndarray]
    ):
        """``probabilities`` of each ``(recording, channel)``; events carry the channel."""
        from sonotype.annotations.events import concat_events
        from sonotype.models.ethogram import ethogram as threshold_probabilities

        return concat_events(
            [
                threshold_probabilities(
                    probabilities[recording, channel],
                    labels=params.labels,
                    step_s=params.step_s,
                    recording=recording,
                    duration_s=params.durations_s[recording],
                    point_labels=params.point_labels,
                    source=params.source,
                    exclusive=params.exclusive,
                    channel=channel,
                    **params.settings,
                )
                for recording, channel in sorted(probabilities)
            ]
        )


def gathered_channels(batches: Mapping[int, Any], recordings: Sequence[str]) -> Result[dict]:
    """One input made of every channel's results for ``recordings``: keyed by their keys,
    loaded lazily as ``{(recording, channel): probabilities}``."""
    chosen = [
        (name, channel)
        for channel, batch in sorted(batches.items())
        for name in recordings
        if name in batch.results
    ]
    # Channel 0 keys as before channels were classified (the same cache for mono files);
    # NUL, which no file name holds, sets the other channels apart.
    keys = {name if c == 0 else f"{name}\0{c}": batches[c].results[name].key for name, c in chosen}
    return Result(
        digest(keys), load=lambda: {(n, c): batches[c].results[n].value for n, c in chosen}
    )


@dataclass(frozen=True)
class EthogramResult:
    """What :func:`ethogram` produced.

    Attributes
    ----------
    events : DataFrame
        The predicted events of the recordings classified.
    edit : Edit or None
        The edit that stored them; None when they were stored already (nothing changed).
    origins : list of str
        One line per setting: its values and where they came from.
    failures : dict of str to str
        Recordings that could not be classified, with the reason.
    """

    events: pd.DataFrame
    edit: Edit | None
    origins: list[str]
    failures: dict[str, str] = field(default_factory=dict)
    run_id: int | None = None


def ethogram(
    project: Project,
    name: str,
    *,
    recordings: Sequence[str] | None = None,
    pr_ratio: float | None = None,
    thresholds_file: Path | None = None,
    labels: Sequence[str] | None = None,
    min_duration_ms: float | None = None,
    min_gap_ms: float | None = None,
    min_separation_ms: float | None = None,
    majority_vote: bool | None = None,
    workers: int | None = None,
    channels: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> EthogramResult:
    """Threshold the probabilities into ``predicted`` events (source: the model's name) and
    store them, replacing this model's earlier predictions for these recordings.

    Settings left at None come from the model's learned post-processing, if any (see
    :func:`ethogram_settings`). The background label is never stored. Recordings not
    classified yet are classified first (see :func:`~sonotype.pipeline.classify.classify`);
    one that fails is reported in the result's ``failures`` and the others go on. Every
    channel of a multi-channel recording is classified and thresholded on its own (or those
    of ``channels``, counted from 0); each event carries its channel.
    """
    from sonotype.annotations.events import concat_events
    from sonotype.pipeline.executors import open_executor

    model = load_model(project, name)
    settings, origins = ethogram_settings(
        model,
        pr_ratio=pr_ratio,
        thresholds_file=thresholds_file,
        min_duration_ms=min_duration_ms,
        min_gap_ms=min_gap_ms,
        min_separation_ms=min_separation_ms,
        majority_vote=majority_vote,
    )
    if labels:
        unknown = sorted(set(labels) - set(model.labels))
        if unknown:
            raise ParameterError(
                f"label(s) {', '.join(unknown)} are not outputs of model {name!r} "
                f"({', '.join(model.labels)})"
            )
        settings["thresholds"] = {k: v for k, v in settings["thresholds"].items() if k in labels}
    # Plain JSON numbers: the settings are hashed into the stage's key and recorded.
    settings = json.loads(json.dumps(settings, default=float))
    chosen = select_recordings(project, recordings)
    durations = recording_table(project, chosen)["duration_s"].astype(float).to_dict()
    config = {"name": name, "recordings": chosen, "settings": settings, "origins": origins}
    with (
        project.run("ethogram", config) as run,
        open_executor(getattr(project.config, "compute", None), workers=workers) as executor,
    ):
        pipe = Pipeline(project, run_id=run.id, executor=executor)
        batches = channel_batches(
            pipe, Weights.of(model), chosen, channels=channels, progress=progress
        )
        done = [r for r in chosen if any(r in b.results for b in batches.values())]
        params = EthogramParams(
            settings=settings,
            labels=model.labels,
            point_labels=model.point_labels,
            step_s=model.step_s,
            exclusive=model.config.loss == "exclusive",
            source=name,
            durations_s={r: durations[r] for r in done},
        )
        probabilities = gathered_channels(batches, done)
        events = pipe.stage(EthogramStage(), params, probabilities=probabilities).value
        # The model's predictions in recordings not chosen now stay as they are.
        stored = project.events(kinds=["predicted"], sources=[name])
        kept = stored[~stored["recording"].isin(done)]
        edit = project.store_results(
            concat_events([kept, events]),
            kind="predicted",
            source=name,
            command="ethogram",
            description=f"{len(events)} events predicted by {name} in {len(done)} recordings",
        )
        failures = channel_failures(batches)
        mark_partial(run, Batch(failures=failures), what="recording")
    return EthogramResult(events, edit, origins, failures, run.id)


# -- misses ------------------------------------------------------------------------------------


class MissesParams(StageParams):
    """How far apart a detection and a prediction may be and still count as covering."""

    tolerance_ms: float = 0.0


class MissesStage(Stage[MissesParams, pd.DataFrame]):
    """The detected events that no predicted event covers."""

    name: ClassVar[str] = "misses"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[StageParams]] = MissesParams
    codec: ClassVar[Codec] = EventsCodec()

    def compute(self, params: MissesParams, *, detected, predicted) -> pd.DataFrame:
        from sonotype.evaluate import misses

        return misses(detected, predicted, tolerance_s=params.tolerance_ms / 1000)


@dataclass(frozen=True)
class MissesResult:
    """What :func:`find_misses` produced: the missed events of the chosen recordings, and the
    edit that stored them (None when they were stored already)."""

    events: pd.DataFrame
    edit: Edit | None
    run_id: int | None = None


def find_misses(
    project: Project,
    *,
    detected_sources: Sequence[str] | None = None,
    predicted_sources: Sequence[str] | None = None,
    recordings: Sequence[str] | None = None,
    tolerance_ms: float = 0.0,
) -> MissesResult:
    """Detected events that no predicted event covers, stored as kind ``missed`` (replacing
    earlier misses in these recordings)."""
    from sonotype.annotations.events import concat_events

    chosen = select_recordings(project, recordings)
    detected = project.events(kinds=["detected"], sources=detected_sources, recordings=chosen)
    if detected.empty:
        raise ParameterError("no detected events; run `sonotype detect` first")
    predicted = project.events(kinds=["predicted"], sources=predicted_sources, recordings=chosen)
    if predicted.empty:
        raise ParameterError("no predicted events; run `sonotype ethogram MODEL` first")
    config = {
        "recordings": chosen,
        "detected_sources": list(detected_sources or []),
        "predicted_sources": list(predicted_sources or []),
        "tolerance_ms": tolerance_ms,
    }
    with project.run("misses", config) as run:
        pipe = Pipeline(project, run_id=run.id)
        missed = pipe.stage(
            MissesStage(),
            MissesParams(tolerance_ms=tolerance_ms),
            detected=Result.of(detected, key=events_hash(detected)),
            predicted=Result.of(predicted, key=events_hash(predicted)),
        ).value
        stored = project.events(kinds=["missed"], sources=[MISSES_SOURCE])
        kept = stored[~stored["recording"].isin(chosen)]
        edit = project.store_results(
            concat_events([kept, missed]),
            kind="missed",
            source=MISSES_SOURCE,
            command="misses",
            description=f"{len(missed)} detected events no prediction covers",
        )
    return MissesResult(missed, edit, run.id)
