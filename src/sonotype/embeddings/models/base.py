"""What an audio embedding model is: fixed-length windows of audio in, vectors (and scores) out.

An :class:`AudioModel` knows its sample rate, its window, its embedding size and, when it
classifies too, the labels of its scores. It is light to build and to pickle (it travels to
worker processes); the weights load on first use in each process (:meth:`AudioModel.load`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from sonotype.errors import SonotypeError


@dataclass(frozen=True)
class ModelOutput:
    """What a model makes of a batch of windows.

    Attributes
    ----------
    vectors : ndarray, float32, shape (n, dimensions)
    scores : ndarray, float32, shape (n, n_labels), optional
        Per-label probabilities in [0, 1], for models with labels.
    """

    vectors: np.ndarray
    scores: np.ndarray | None = None


class ModelUnavailable(SonotypeError):
    """A model that cannot run here; the message says why and how to fix it."""


class AudioModel(ABC):
    """A pretrained model over fixed windows of audio.

    Attributes
    ----------
    name : str
        How ``--model`` names it.
    sr : float
        Sample rate (Hz) the model expects; audio is resampled to it.
    window_s : float
        Seconds of audio per input.
    dimensions : int
        Width of the embedding.
    labels : tuple of str
        Names of the score columns (species); empty when the model has no scores.
    """

    name: str
    sr: float
    window_s: float
    dimensions: int
    labels: tuple[str, ...] = ()
    #: Windows per call when the user does not say (speed and memory, never the vectors).
    batch_size: int = 32

    @property
    def samples(self) -> int:
        """Samples per window at the model's rate."""
        return round(self.window_s * self.sr)

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """What the vectors depend on (weights' hash, layer, scaling), for cache keys."""

    @abstractmethod
    def load(self) -> None:
        """Load the weights (once per process); raise :class:`ModelUnavailable` if absent."""

    @abstractmethod
    def run(self, audio: np.ndarray, *, scores: bool) -> ModelOutput:
        """Embed ``audio``, float32 ``(n, samples)`` at :attr:`sr`; scores when asked."""

    def embed(self, audio: np.ndarray, *, scores: bool = False) -> ModelOutput:
        """Vectors (and scores when ``scores``) of ``audio``, float32 ``(n, samples)``."""
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if audio.ndim != 2 or audio.shape[1] != self.samples:
            raise ValueError(
                f"model {self.name!r} takes windows of {self.samples} samples "
                f"({self.window_s:g} s at {self.sr:g} Hz), not an array of shape {audio.shape}"
            )
        self.load()
        output = self.run(audio, scores=scores and bool(self.labels))
        vectors = np.asarray(output.vectors, dtype=np.float32).reshape(len(audio), -1)
        return ModelOutput(vectors, output.scores)

    def __getstate__(self) -> dict[str, Any]:
        # The loaded weights stay behind: each worker loads its own.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


@dataclass(frozen=True)
class ModelDescription:
    """One row of ``sonotype models``: what a model is, or why it cannot run here."""

    name: str
    kind: str
    sr: float | None = None
    window_s: float | None = None
    dimensions: int | None = None
    labels: int = 0
    unavailable: str | None = None

    @classmethod
    def of(cls, model: AudioModel, kind: str) -> ModelDescription:
        return cls(model.name, kind, model.sr, model.window_s, model.dimensions, len(model.labels))
