"""``classify`` as a per-recording stage: each recording's probabilities, streamed to a
memory-mapped ``(frames, labels)`` ``.npy`` artifact keyed by the recording's content and
the model's weights, computed through the project's executor (a local pool or Dask).

Every channel of a multi-channel recording is classified on its own (the stage's ``channel``
parameter), one batch per channel number over the recordings that have it."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from sonotype.pipeline.codecs import Codec
from sonotype.pipeline.model_store import (
    file_hash,
    load_model,
    recording_table,
    select_recordings,
)
from sonotype.pipeline.resources import Resources
from sonotype.pipeline.stage import Batch, Item, Pipeline, Result, Stage, StageParams
from sonotype.store import Project

#: Frames of probabilities re-weighted at a time (bounded memory for long recordings).
PREVALENCE_CHUNK = 1 << 20


class ClassifyParams(StageParams):
    """What changes a recording's probabilities besides the model and the audio."""

    prevalence: dict[str, float] = Field(
        default_factory=dict, description="Expected share of labels (LABEL=VALUE)."
    )
    channel: int = Field(0, ge=0, description="Channel of the recording to classify.")


@dataclass(frozen=True)
class Weights:
    """The weights a classification uses: a model folder's best weights (``checkpoint``
    None) or one checkpoint's, known by ``sha256`` (the key of the stage's input)."""

    folder: str
    sha256: str
    checkpoint: int | None = None

    @classmethod
    def of(cls, model, checkpoint: int | None = None) -> Weights:
        return cls(str(model.folder), file_hash(model.weights_path(checkpoint)), checkpoint)


@dataclass(frozen=True)
class StreamedProbabilities:
    """How to write one recording's probabilities, run by :class:`ProbabilitiesCodec`
    straight into the artifact's temporary file, so that no recording, however long, is
    held in memory."""

    weights: Weights
    audio: str
    params: ClassifyParams
    block_frames: int
    engine: str = "auto"

    def write(self, path: Path) -> None:
        from sonotype.audio import Recording
        from sonotype.models.inference import classify_to_file
        from sonotype.models.prevalence import adjust_prevalence
        from sonotype.models.saved import SavedModel

        model = SavedModel.load(self.weights.folder)
        classify_to_file(
            _network(self.weights),
            Recording(self.audio),
            path,
            sr=model.sr,
            n_labels=len(model.labels),
            channel=self.params.channel,
            block_frames=self.block_frames,
            engine=self.engine,
        )
        if self.params.prevalence:  # in chunks: the array may not fit in memory
            p = np.load(path, mmap_mode="r+")
            for i in range(0, len(p), PREVALENCE_CHUNK):
                p[i : i + PREVALENCE_CHUNK] = adjust_prevalence(
                    np.asarray(p[i : i + PREVALENCE_CHUNK]),
                    labels=model.labels,
                    train_prevalence=model.train_prevalence,
                    prevalence=dict(self.params.prevalence),
                    loss=model.config.loss,
                )
            p.flush()
            del p


class ProbabilitiesCodec(Codec):
    """Probabilities as ``.npy``, written by streaming (:class:`StreamedProbabilities`)
    and read memory-mapped."""

    suffix = ".npy"

    def write(self, value: StreamedProbabilities, path: Path) -> None:
        value.write(path)

    def read(self, path: Path) -> np.ndarray:
        return np.load(path, mmap_mode="r", allow_pickle=False)


#: Networks loaded by this process, by weights: a worker loads each model once per batch.
_NETWORKS: dict[Weights, Any] = {}


def _network(weights: Weights):
    if weights not in _NETWORKS:
        import torch

        from sonotype.models.saved import SavedModel
        from sonotype.models.training import pick_device

        device = pick_device()
        if multiprocessing.parent_process() is not None and device.type == "cpu":
            # A pool worker: the pool runs as many workers as cores, one thread each.
            torch.set_num_threads(ClassifyStage.resources.cores)
        _NETWORKS.clear()  # one model at a time (a batch uses one)
        network = SavedModel.load(weights.folder).network(weights.checkpoint)
        _NETWORKS[weights] = network.to(device)
    return _NETWORKS[weights]


class ClassifyStage(Stage[ClassifyParams, StreamedProbabilities]):
    """One recording's per-label probabilities (frame ``j`` at ``j * model.step_s`` s)."""

    name: ClassVar[str] = "probabilities"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[StageParams]] = ClassifyParams
    codec: ClassVar[Codec] = ProbabilitiesCodec()
    #: Peak memory of one worker classifying with the default network in blocks of 1024
    #: frames (peak RSS by resource.getrusage, CPU build of torch 2.13, one thread): 325 MB
    #: at 2.5 kHz, 360 MB at 32 kHz, 438 MB at 96 kHz, of which ~310 MB is torch itself;
    #: declared with headroom for wider networks.
    resources: ClassVar[Resources] = Resources(cores=1, memory_mb=640)

    def __init__(self, *, block_frames: int = 1024, engine: str = "auto") -> None:
        # Not parameters: the blocking and the engine change memory and speed, and the
        # numbers by 1e-5 at most (tested), never the answer.
        self.block_frames = block_frames
        self.engine = engine

    def compute(self, params: ClassifyParams, *, item: str, weights: Weights):
        return StreamedProbabilities(weights, item, params, self.block_frames, self.engine)


@dataclass(frozen=True)
class ClassifyResult:
    """What :func:`classify` produced: each finished recording's probabilities file (a
    ``(frames, labels)`` float32 ``.npy``), the reason each failed one failed, and how many
    were computed now or found done."""

    paths: dict[str, Path]
    failures: dict[str, str] = field(default_factory=dict)
    computed: int = 0
    cached: int = 0
    run_id: int | None = None
    #: Every channel classified: ``{recording: {channel: path}}`` (``paths`` is channel 0's).
    channel_paths: dict[str, dict[int, Path]] = field(default_factory=dict)


def probabilities_batch(
    pipe: Pipeline,
    weights: Weights,
    recordings: Sequence[str],
    *,
    params: ClassifyParams | None = None,
    progress: Callable[[str], None] | None = None,
    block_frames: int = 1024,
    engine: str = "auto",
) -> Batch:
    """Run the classify stage on ``recordings`` within ``pipe``'s run: one item per
    recording, known by its content hash; the weights are the input all items share."""
    project = pipe.project
    index = recording_table(project, recordings)
    items = [
        Item(name, str(index.loc[name, "content_hash"]), str(project.recording_path(name)))
        for name in recordings
    ]
    return pipe.map(
        ClassifyStage(block_frames=block_frames, engine=engine),
        params or ClassifyParams(),
        items,
        progress=progress,
        weights=Result.of(weights, key=weights.sha256),
    )


def recording_channels(
    project: Project,
    recordings: Sequence[str],
    channels: Sequence[int] | None = None,
    *,
    trained: Sequence[int] | None = None,
) -> dict[int, list[str]]:
    """For each channel to classify, the recordings that have it: those of ``channels`` (an
    error when no recording has one of them); else the channels the model was ``trained``
    on (a recording that has none of them: its channel 0); else every channel."""
    from sonotype.errors import ParameterError

    counts = recording_table(project, recordings)["channels"].fillna(1).astype(int).to_dict()
    most = max(counts.values(), default=1)
    if channels is None and trained:
        chosen = {c: [r for r in recordings if counts[r] > c] for c in sorted(set(trained))}
        covered = {r for names in chosen.values() for r in names}
        chosen.setdefault(0, [])
        chosen[0] += [r for r in recordings if r not in covered]
        return {c: names for c, names in sorted(chosen.items()) if names}
    wanted = sorted(set(channels)) if channels is not None else range(most)
    chosen: dict[int, list[str]] = {}
    for channel in wanted:
        if channel < 0:
            raise ParameterError(
                f"channel {channel} must be 0 or more (channels count from 0)",
                parameter="channels",
            )
        having = [r for r in recordings if counts[r] > channel]
        if not having and channels is not None:
            raise ParameterError(
                f"channel {channel}: no chosen recording has it (they have at most {most} "
                "channel(s), counted from 0)",
                parameter="channels",
            )
        chosen[channel] = having
    return chosen


def channel_batches(
    pipe: Pipeline,
    weights: Weights,
    recordings: Sequence[str],
    *,
    params: ClassifyParams | None = None,
    channels: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = None,
    block_frames: int = 1024,
    engine: str = "auto",
) -> dict[int, Batch]:
    """:func:`probabilities_batch` for each channel of ``recordings`` (see
    :func:`recording_channels`); ``progress`` is called once per recording, when its last
    channel is done."""
    from sonotype.models.saved import SavedModel

    params = params or ClassifyParams()
    model = SavedModel.load(weights.folder)
    together = model.config.input_channels
    if together > 1:  # the network reads that many channels at once: one pass per recording
        by_channel = {0: _with_channels(pipe.project, recordings, together, channels)}
    else:
        trained = model.training.get("channels")
        by_channel = recording_channels(pipe.project, recordings, channels, trained=trained)
    last = {r: c for c, names in by_channel.items() for r in names}
    batches = {}
    for channel, names in by_channel.items():

        def advance(name: str, channel=channel) -> None:
            if progress is not None and last.get(name) == channel:
                progress(name)

        batches[channel] = probabilities_batch(
            pipe, weights, names, params=params.model_copy(update={"channel": channel}),
            progress=advance, block_frames=block_frames, engine=engine,
        )  # fmt: skip
    return batches


def _with_channels(
    project: Project, recordings: Sequence[str], together: int, channels: Sequence[int] | None
) -> list[str]:
    """``recordings``, checked to have the ``together`` channels a network reads at once."""
    from sonotype.errors import ParameterError

    if channels is not None:
        raise ParameterError(
            f"the model reads {together} channels together: it classifies each recording "
            "once, so --channels does not apply",
            parameter="channels",
        )
    counts = recording_table(project, recordings)["channels"].fillna(1).astype(int)
    short = [f"{name} ({n})" for name, n in counts.items() if n < together]
    if short:
        raise ParameterError(
            f"the model reads {together} channels together, but these recordings have fewer: "
            f"{', '.join(short[:5])}; leave them out"
        )
    return list(recordings)


def channel_failures(batches: dict[int, Batch]) -> dict[str, str]:
    """The failed items of every channel, named ``recording`` (channel 0) or
    ``recording (channel C)``."""
    return {
        name if channel == 0 else f"{name} (channel {channel})": why
        for channel, batch in batches.items()
        for name, why in batch.failures.items()
    }


def batch_paths(project: Project, batch: Batch) -> dict[str, Path]:
    """The artifact file of each finished item of a batch."""
    return {name: project.artifacts.path(result.key) for name, result in batch.results.items()}


def classify(
    project: Project,
    name: str,
    *,
    recordings: Sequence[str] | None = None,
    prevalence: dict[str, float] | None = None,
    block_frames: int = 1024,
    workers: int | None = None,
    engine: str = "auto",
    channels: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> ClassifyResult:
    """Per-label probabilities for each recording, as cached ``(frames, labels)`` ``.npy``
    artifacts; frame ``j`` is at ``j * model.step_s`` seconds.

    Recordings run through the executor of the project's ``[compute]`` section (``workers``
    sizes a local pool); a recording that fails is reported in ``failures`` and the others
    go on (the run is then ``partial``). Recordings classified before, by the same weights
    with the same ``prevalence``, are not classified again. ``engine`` runs the network:
    ``torch``, ``onnx`` (onnxruntime; they agree to 1e-5) or ``auto``
    (:func:`sonotype.models.inference.resolve_engine`).

    Every channel of each recording is classified (``channels`` chooses some, counted from
    0), unless the model's training annotations kept to some channels of recordings that have
    more (:func:`~sonotype.pipeline.train.annotated_channels`): then those channels.
    ``paths`` holds channel 0's probabilities, ``channel_paths`` every channel's.
    """
    from sonotype.pipeline.executors import open_executor

    model = load_model(project, name)
    chosen = select_recordings(project, recordings)
    params = ClassifyParams(prevalence=dict(prevalence or {}))
    if params.prevalence:  # a bad label or value is reported before any work
        from sonotype.models.prevalence import adjust_prevalence

        adjust_prevalence(np.full((1, len(model.labels)), 1 / len(model.labels)),
                          labels=model.labels, train_prevalence=model.train_prevalence,
                          prevalence=dict(params.prevalence), loss=model.config.loss)  # fmt: skip
    config = {"name": name, "recordings": chosen, **params.identity()}
    with (
        project.run("classify", config) as run,
        open_executor(getattr(project.config, "compute", None), workers=workers) as executor,
    ):
        pipe = Pipeline(project, run_id=run.id, executor=executor)
        batches = channel_batches(
            pipe, Weights.of(model), chosen, params=params, channels=channels,
            progress=progress, block_frames=block_frames, engine=engine,
        )  # fmt: skip
        failures = channel_failures(batches)
        mark_partial(run, Batch(failures=failures), what="recording")
    by_recording: dict[str, dict[int, Path]] = {}
    for channel, batch in batches.items():
        for name, path in batch_paths(project, batch).items():
            by_recording.setdefault(name, {})[channel] = path
    return ClassifyResult(
        {name: paths[0] for name, paths in by_recording.items() if 0 in paths},
        failures,
        sum(b.computed for b in batches.values()),
        sum(b.cached for b in batches.values()),
        run.id,
        by_recording,
    )


def mark_partial(run, batch: Batch, *, what: str) -> None:
    """Mark a run ``partial`` when some items of its batch failed, saying which."""
    if batch.failures:
        run.status = "partial"
        listed = "; ".join(f"{n}: {why}" for n, why in list(batch.failures.items())[:5])
        run.error = f"{len(batch.failures)} {what}(s) failed: {listed}"
