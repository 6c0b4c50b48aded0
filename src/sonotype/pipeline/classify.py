"""``classify`` as a per-recording stage: each recording's probabilities, streamed to a
memory-mapped ``(frames, labels)`` ``.npy`` artifact keyed by the recording's content and
the model's weights, computed through the project's executor (a local pool or Dask)."""

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
        batch = probabilities_batch(
            pipe, Weights.of(model), chosen, params=params, progress=progress,
            block_frames=block_frames, engine=engine,
        )  # fmt: skip
        mark_partial(run, batch, what="recording")
    return ClassifyResult(
        batch_paths(project, batch), dict(batch.failures), batch.computed, batch.cached, run.id
    )


def mark_partial(run, batch: Batch, *, what: str) -> None:
    """Mark a run ``partial`` when some items of its batch failed, saying which."""
    if batch.failures:
        run.status = "partial"
        listed = "; ".join(f"{n}: {why}" for n, why in list(batch.failures.items())[:5])
        run.error = f"{len(batch.failures)} {what}(s) failed: {listed}"
