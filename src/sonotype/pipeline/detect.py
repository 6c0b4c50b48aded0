"""Detection as a stage: one task per recording, cached by content, resumable, in named runs.

:func:`detect_project` runs a detector over a project's recordings through
:meth:`Pipeline.map <sonotype.pipeline.stage.Pipeline.map>`: each recording's events are an
artifact keyed by the recording's content and the detector's parameters, so a re-run with
nothing changed computes nothing, a killed run resumes with what is missing, and a changed
parameter recomputes every recording. The events are stored as one named set (kind
``detected``, ``source`` the run's name), so two settings or two birds are kept side by side.

:func:`detect_files` runs the same per-recording work on files outside a project (nothing to
cache them in) through an executor.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from sonotype.annotations.events import concat_events, empty_events
from sonotype.detect.base import Detector, Pair, make_detector
from sonotype.detect.runner import BLOCK_S, detect_recording
from sonotype.errors import ParameterError, SonotypeError
from sonotype.pipeline.codecs import EventsCodec
from sonotype.pipeline.executors import Executor, LocalExecutor
from sonotype.pipeline.resources import Resources
from sonotype.pipeline.stage import Item, Pipeline, Stage, StageParams
from sonotype.store.event_store import Edit
from sonotype.store.scan import content_hash
from sonotype.store.wording import plural

#: Peak memory of a worker that has imported the detectors, before it reads any audio:
#: 170 MB measured (``ru_maxrss`` of a fresh process after ``import sonotype.detect``).
WORKER_BASE_MB = 180
#: Peak memory per sample of a block, above that base: 56-59 bytes for ``amplitude``
#: (filtering and smoothing in float64) and 20-31 for ``time-freq``, measured as the
#: ``ru_maxrss`` of fresh processes detecting on 180 s at 48 kHz and 120 s at 250 kHz of
#: noise with 60 s blocks (48 kHz: 333 and 260 MB; 250 kHz: 1053 and 474 MB).
BYTES_PER_SAMPLE = 64
#: The sample rate the stage's default estimate assumes when the rates are not known.
TYPICAL_SR = 48_000


def detect_memory_mb(*, sr: float, block_s: float = BLOCK_S, frames: int | None = None) -> int:
    """Estimated peak memory, in MB, of one worker detecting on recordings at ``sr`` Hz.

    A block holds ``block_s`` seconds (the whole recording, ``frames`` samples, when that
    is shorter or ``block_s`` is ``inf``).

    Examples
    --------
    >>> detect_memory_mb(sr=48_000, block_s=60.0)
    356
    """
    samples = sr * block_s if math.isfinite(block_s) else float("inf")
    if frames is not None:
        samples = min(samples, frames)
    if not math.isfinite(samples):  # whole recordings of unknown length: an hour
        samples = sr * 3600
    return math.ceil(WORKER_BASE_MB + BYTES_PER_SAMPLE * samples / 2**20)


class DetectParams(StageParams):
    """What a detection depends on: the detector (``method`` and its ``params``).

    ``block_s`` and ``preset`` are kept for the record but stay out of the key: events do
    not depend on the block length (tests compare block-wise and whole-file runs), and a
    preset is only a way of giving the parameters, which are all here.
    """

    method: str
    params: dict[str, Any] = Field(default_factory=dict)
    block_s: float = BLOCK_S
    preset: str | None = None

    @classmethod
    def of(cls, detector: Detector, *, block_s: float = BLOCK_S, preset: str | None = None):
        """The parameters of ``detector`` (every one, defaults included)."""
        params = {name: _plain(value) for name, value in detector.params().items()}
        return cls(method=detector.name, params=params, block_s=block_s, preset=preset)

    def detector(self) -> Detector:
        """The detector these parameters describe."""
        return make_detector(self.method, **self.params)

    def identity(self) -> dict[str, Any]:
        return {"method": self.method, "params": canonical_params(self.params)}


def canonical_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Detector parameters in one form, so one detector given two ways has one key.

    Numbers become floats (``6`` and ``6.0``), pairs become lists of floats (``"9,4"``,
    ``(9, 4)`` and ``Pair(9, 4)``), and keys are sorted.

    Examples
    --------
    >>> canonical_params({"time_sigma": "9,4", "time_smooth_ms": 6})
    {'time_sigma': [9.0, 4.0], 'time_smooth_ms': 6.0}
    >>> canonical_params({"time_sigma": (9, 4.0)}) == canonical_params({"time_sigma": "9, 4"})
    True
    """
    return {name: _canonical(params[name]) for name in sorted(params)}


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Pair):
        return [float(value.signal), float(value.noise)]
    if isinstance(value, str) and "," in value:
        try:
            return [float(part) for part in value.split(",")]
        except ValueError:
            return value
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Mapping):
        return canonical_params(value)
    return value


def _plain(value: Any) -> Any:
    """A parameter value as JSON can hold it (detectors take these forms back)."""
    if isinstance(value, Pair):  # detectors read pairs from any two numbers
        return [float(value.signal), float(value.noise)]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # a NumPy scalar
        return value.item()
    return value


class DetectRecording(Stage[DetectParams, pd.DataFrame]):
    """The detected events of one recording (item: ``(name, path)``), as an Events table.

    ``resources`` defaults to the memory of a block of 60 s at 48 kHz
    (:func:`detect_memory_mb`); :func:`detect_project` sizes it for the recordings' highest
    rate. It decides how many run at once, never what they compute, so it is not a parameter.
    """

    name = "detect"
    version = "1"
    params_model = DetectParams
    codec = EventsCodec()
    resources = Resources(memory_mb=detect_memory_mb(sr=TYPICAL_SR))

    def __init__(self, *, resources: Resources | None = None) -> None:
        if resources is not None:
            self.resources = resources

    def compute(self, params: DetectParams, *, item: tuple[str, Path]) -> pd.DataFrame:
        name, path = item
        return detect_recording(params.detector(), path, name=name, block_s=params.block_s)


class DetectFailed(SonotypeError):
    """Every recording of a detection failed; ``failures`` maps each to its reason."""

    def __init__(self, failures: Mapping[str, str]) -> None:
        self.failures = dict(failures)
        name, reason = next(iter(self.failures.items()))
        super().__init__(
            f"every recording failed ({len(self.failures)}), so nothing was stored; the "
            f"first: {name}: {reason}"
        )


@dataclass(frozen=True)
class DetectOutcome:
    """What :func:`detect_project` did.

    Attributes
    ----------
    events : DataFrame
        The events stored for the recordings of this run (kind ``detected``, ``source``).
    failures : dict of str to str
        Recording name to the reason it failed.
    edit : Edit or None
        The edit that stored the events, or None when they were stored already.
    computed, cached : int
        Recordings detected now, and found done before (by an earlier or interrupted run).
    run_id : int
        The run in the project's runs registry.
    source : str
        The name the events are stored under.
    """

    events: pd.DataFrame
    failures: dict[str, str]
    edit: Edit | None
    computed: int
    cached: int
    run_id: int
    source: str

    @property
    def recordings(self) -> int:
        """Recordings the run covered: finished and failed."""
        return self.computed + self.cached + len(self.failures)


def detect_project(
    project,
    detector: Detector,
    *,
    source: str | None = None,
    recordings: Sequence[str] | None = None,
    block_s: float = BLOCK_S,
    preset: str | None = None,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
) -> DetectOutcome:
    """Detect on a project's recordings and store the events as the named set ``source``.

    Each recording is one task of a :class:`DetectRecording` stage, run through
    ``executor`` (default: a local process pool); recordings detected before with the same
    parameters, by any run of this project, are taken from its artifacts. Runs are
    recorded (``sonotype runs``) under the name ``source``.

    Parameters
    ----------
    project : Project
    detector : Detector
    source : str, optional
        The name the events are stored under (kind ``detected``); default the detector's
        name. Sets of other names are left alone, so runs with two settings are kept side by
        side.
    recordings : sequence of str, optional
        Names of indexed recordings to detect on; default all those indexed and present
        (recordings the scan found unreadable included: they are tried again, and fail
        with their reason if they still cannot be read). With a subset, only those
        recordings' events of ``source`` are replaced.
    block_s : float
        Seconds of audio per block (above 0, or ``inf``); memory, never the events.
    preset : str, optional
        The preset the detector came from, for the run's record.
    executor : Executor, optional
    progress : callable, optional
        Called with each recording's name as it is settled (done now, found done, failed).

    Returns
    -------
    DetectOutcome

    Raises
    ------
    DetectFailed
        When every recording failed (nothing is stored; the run is recorded as failed).
    RunCancelled
        When ``sonotype runs cancel`` stopped the run; what was finished is kept.
    """
    if not block_s > 0:  # also NaN
        raise ParameterError(f"block_s={block_s!r} must be a number of seconds above 0 (or inf)")
    source = detector.name if source is None else source
    if not source.strip():
        raise ParameterError(
            f"source={source!r} is empty; give a name such as {detector.name!r}, or leave it out"
        )
    params = DetectParams.of(detector, block_s=block_s, preset=preset)
    items, index = _recording_items(project, recordings)
    sr = index["sr"].max() if index["sr"].notna().any() else TYPICAL_SR
    frames = index["frames"].max() if index["frames"].notna().any() else None
    memory_mb = detect_memory_mb(sr=float(sr), block_s=block_s, frames=frames)
    stage = DetectRecording(resources=Resources(memory_mb=memory_mb))
    config = {
        "method": detector.name,
        "preset": preset,
        "params": params.identity()["params"],
        "block_s": block_s,
        "source": source,
        "recordings": list(recordings) if recordings is not None else len(items),
    }
    with project.run("detect", config, name=source) as run:
        pipeline = Pipeline(project, run_id=run.id, executor=executor or LocalExecutor())
        batch = pipeline.map(stage, params, items, progress=progress)
        if not batch.results:
            raise DetectFailed(batch.failures)
        events = _gather(batch.values())
        stored = events
        if recordings is not None:  # other recordings of this source stay as they are
            kept = project.events(kinds=["detected"], sources=[source])
            kept = kept[~kept["recording"].isin([item.name for item in items])]
            stored = concat_events([kept, events])
        edit = project.store_results(
            stored,
            kind="detected",
            source=source,
            command="detect",
            description=_description(detector.name, source, events, len(batch.results)),
        )
        if batch.failures:
            run.status = "partial"
            name, reason = next(iter(batch.failures.items()))
            run.error = (
                f"{plural(len(batch.failures), 'recording')} of {len(items)} failed; "
                f"the first: {name}: {reason}"
            )
    return DetectOutcome(
        events=events.assign(kind="detected", source=source),
        failures=batch.failures,
        edit=edit,
        computed=batch.computed,
        cached=batch.cached,
        run_id=run.id,
        source=source,
    )


@dataclass(frozen=True)
class FilesOutcome:
    """What :func:`detect_files` found: the events, and a reason per recording that failed."""

    events: pd.DataFrame
    failures: dict[str, str] = field(default_factory=dict)


def detect_files(
    detector: Detector,
    recordings: Sequence[tuple[str, str | os.PathLike[str]]],
    *,
    block_s: float = BLOCK_S,
    sr: float | None = None,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
) -> FilesOutcome:
    """Detect on ``(name, path)`` recordings outside a project, through ``executor``.

    The same per-recording work as :func:`detect_project` (a :class:`DetectRecording`
    task each), with nothing cached: a bad file fails with its reason and the others go on.
    ``sr``, the highest sample rate among the recordings if known, sizes the workers'
    memory (:func:`detect_memory_mb`; default 48 kHz).
    """
    if not block_s > 0:
        raise ParameterError(f"block_s={block_s!r} must be a number of seconds above 0 (or inf)")
    memory_mb = detect_memory_mb(sr=sr or TYPICAL_SR, block_s=block_s)
    stage = DetectRecording(resources=Resources(memory_mb=memory_mb))
    params = DetectParams.of(detector, block_s=block_s)
    executor = executor or LocalExecutor()
    tasks = [(params, (name, Path(path))) for name, path in recordings]
    found: dict[str, pd.DataFrame] = {}
    failures: dict[str, str] = {}
    outcomes = executor.map_unordered(
        _detect_task, tasks, resources=stage.resources, names=[n for n, _ in recordings]
    )
    try:
        for outcome in outcomes:
            name = recordings[outcome.index][0]
            if outcome.ok:
                found[name] = outcome.value
            else:
                failures[name] = outcome.error
            if progress:
                progress(name)
    finally:
        outcomes.close()
    order = [name for name, _ in recordings]
    return FilesOutcome(
        events=_gather((n, found[n]) for n in order if n in found),
        failures={n: failures[n] for n in order if n in failures},
    )


def _detect_task(params: DetectParams, item: tuple[str, Path]) -> pd.DataFrame:
    """One recording's events, in a worker (a function of picklable arguments)."""
    return DetectRecording().compute(params, item=item)


def _gather(tables) -> pd.DataFrame:
    """One Events table of every recording's events, named as the run names them (a cached
    table may come from a copy of the recording under another name)."""
    tables = [table.assign(recording=name) for name, table in tables if len(table)]
    if not tables:
        return empty_events()
    events = concat_events(tables)
    return events.sort_values(
        ["recording", "channel", "start_s", "label"], kind="stable", ignore_index=True
    )


def _recording_items(project, names: Sequence[str] | None) -> tuple[list[Item], pd.DataFrame]:
    """One item per recording, keyed by its content, and the index rows they come from.

    The index's content hash is used while the file's size and modification time are those
    the scan saw; a file changed since (or that the scan could not read) is hashed now, the
    same way, so a stale index never hands back events of the file as it was.
    """
    if isinstance(names, str):
        raise ParameterError(f"recordings={names!r} must be a list of names, e.g. [{names!r}]")
    index = project.recordings(status=None)
    if names is None:
        index = index[index["status"] != "missing"]
    else:
        unknown = sorted(set(names) - set(index["path"]))
        if unknown:
            raise ParameterError(
                f"recordings: {', '.join(map(repr, unknown[:3]))}"
                f"{f' and {len(unknown) - 3} more' if len(unknown) > 3 else ''} "
                f"{'is' if len(unknown) == 1 else 'are'} not indexed in {project.folder}; run "
                "`sonotype scan`, or give names as `sonotype events` lists them"
            )
        index = index[index["path"].isin(list(names))]
    if index.empty:
        raise ParameterError(
            f"no recordings to detect on in {project.folder}; add audio under its audio roots "
            "and run `sonotype scan`"
        )
    hash_bytes = project.config.scan.hash_bytes
    items = []
    for row in index.itertuples(index=False):
        path = project.recording_path(row.path)
        items.append(Item(row.path, _content_key(row, path, hash_bytes), (row.path, path)))
    return items, index


def _content_key(row, path: Path, hash_bytes: int) -> str:
    try:
        stat = path.stat()
    except OSError:
        return f"absent:{row.path}"  # fails when read, with the reason; nothing is cached
    if row.status == "ok" and row.size == stat.st_size and row.mtime == stat.st_mtime:
        return row.content_hash
    return content_hash(path, hash_bytes)


def _description(method: str, source: str, events: pd.DataFrame, n_recordings: int) -> str:
    counts = events["label"].value_counts().sort_index() if len(events) else {}
    summary = ", ".join(f"{label} {n}" for label, n in counts.items()) or "nothing"
    named = f" as {source}" if source != method else ""
    return f"{method}{named} on {plural(n_recordings, 'recording')}: {summary}"
