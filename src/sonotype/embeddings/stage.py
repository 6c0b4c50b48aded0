"""The per-recording embedding stage: one task per recording, cached by content, resumable.

A task reads its recording's units (windows or events) batch by batch, resamples each to the
model's rate, and keeps only the vectors (and the best scores), so its memory is one batch of
audio plus the recording's vectors, whatever the recording's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from sonotype.embeddings.models.base import AudioModel
from sonotype.embeddings.units import audible_spans, centred_spans, read_spans
from sonotype.pipeline.codecs import ArraysCodec
from sonotype.pipeline.resources import Resources
from sonotype.pipeline.stage import Stage, StageParams

#: Scores kept per unit: the best this many labels (species), enough for species lists and
#: ``predicted`` events at any threshold without keeping 6,522 floats per window.
TOP_SCORES = 10
DEFAULT_BATCH = 32


def embed_memory_mb(batch_size: int) -> int:
    """Estimated peak memory (MB) of a worker embedding batches of ``batch_size`` windows.

    BirdNET measured by ``benchmarks/embed.py`` (``ru_maxrss`` of fresh processes): 424 MB
    with batches of 1, 529 MB with 8 and 1027 MB with 32, about 20 MB per window of a batch
    above 410 MB. Other models are estimated alike; the local pool replaces the estimate by
    what the first tasks take.
    """
    return 410 + 20 * batch_size


class EmbedUnitsParams(StageParams):
    """What the vectors of a recording's units depend on.

    ``batch_size`` and ``threads`` change speed and memory, never the vectors, so they stay
    out of the key.
    """

    model: str
    model_identity: dict[str, Any]
    unit: str
    scores: bool = False
    pad: str = "zeros"
    batch_size: int = Field(DEFAULT_BATCH, ge=1)
    threads: int = Field(1, ge=1)

    def identity(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"batch_size", "threads"})


@dataclass(frozen=True)
class RecordingUnits:
    """One task: a recording's units (Events rows, in order) and where its audio is."""

    recording: str
    path: Path
    events: pd.DataFrame


class EmbedUnitsStage(Stage[EmbedUnitsParams, dict]):
    """Vectors (``vectors``), and for models with labels the best scores (``top_scores``,
    ``top_labels``), of one recording's units, row-aligned with its events.

    ``model`` is carried to the workers unloaded; its identity is in the parameters.
    """

    name = "embed-units"
    version = "1"
    params_model = EmbedUnitsParams
    codec = ArraysCodec()
    resources = Resources(memory_mb=embed_memory_mb(DEFAULT_BATCH))

    def __init__(self, model, *, batch_size: int = DEFAULT_BATCH) -> None:
        self.model = model
        self.resources = Resources(memory_mb=embed_memory_mb(batch_size))

    def compute(self, params: EmbedUnitsParams, *, item: RecordingUnits) -> dict:
        if not isinstance(self.model, AudioModel):  # a syllable embedder: its inputs
            return self.model.per_recording(item.path, item.recording, item.events)
        return embed_units(
            self.model,
            item.path,
            item.events,
            batch_size=params.batch_size,
            scores=params.scores,
            pad=params.pad,
        )


def embed_units(
    model: AudioModel,
    path: Path,
    events: pd.DataFrame,
    *,
    batch_size: int = DEFAULT_BATCH,
    scores: bool = False,
    pad: str = "zeros",
) -> dict[str, np.ndarray]:
    """The vectors (and best scores) of ``events`` of the recording at ``path``.

    Each event is seen through a window of ``model.window_s`` centred on its span (windows
    of that length are seen whole), padded with zeros or with the audio around it (``pad``,
    see :mod:`sonotype.embeddings.units`).
    """
    from sonotype.audio.recording import Recording

    recording = Recording(path)
    spans = centred_spans(events, model.window_s)
    channels = events["channel"].to_numpy(int)
    vectors = np.zeros((len(events), model.dimensions), dtype=np.float32)
    want = scores and bool(model.labels)
    k = min(TOP_SCORES, len(model.labels)) if want else 0
    top_scores = np.zeros((len(events), k), dtype=np.float32)
    top_labels = np.zeros((len(events), k), dtype=np.int32)
    limits = audible_spans(events, pad=pad)
    batches = read_spans(
        recording,
        spans,
        channels,
        sr=model.sr,
        samples=model.samples,
        batch_size=batch_size,
        limits=limits,
    )
    for first, audio in batches:
        output = model.embed(audio, scores=want)
        rows = slice(first, first + len(audio))
        if output.vectors.shape[1] != model.dimensions:
            raise ValueError(
                f"model {model.name!r} made {output.vectors.shape[1]} values per window, "
                f"not the {model.dimensions} it declares"
            )
        vectors[rows] = output.vectors
        if want:
            best = np.argsort(-output.scores, axis=1, kind="stable")[:, :k]
            top_labels[rows] = best
            top_scores[rows] = np.take_along_axis(output.scores, best, axis=1)
    result = {"vectors": vectors}
    if want:
        result |= {"top_scores": top_scores, "top_labels": top_labels}
    return result
