"""What a detector is, and the interval arithmetic detectors share.

A detector turns one channel of a recording into labelled intervals of samples. To run over
recordings of any length in bounded memory, with results identical to a whole-file run, a
detector splits its work in three:

1. :meth:`Detector.statistics`: whole-recording statistics (a median, a noise floor),
   computed by streaming passes over the recording (exact, see :mod:`.statistics`).
2. :meth:`Detector.masks`: per-sample (or per-frame, expanded to samples) decisions for a
   block of audio; a decision may depend only on samples within :meth:`Detector.context`
   of it, so a block read with that much context decides its core exactly as the whole
   file would.
3. :meth:`Detector.finish`: operations on the whole recording's intervals (closing short
   gaps, dropping short events), which are small and are applied once, globally.
4. :meth:`Detector.refine` (optional): boundaries moved event by event, reading only the
   audio around each event (the amplitude detector's boundaries relative to each
   syllable's peak).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import numpy as np

from sonotype.audio import Recording
from sonotype.errors import ParameterError

# detect/runner.py imports these three from here (their home is sonotype.intervals);
# intervals here are int64 [start, stop) in samples, sorted and disjoint.
from sonotype.intervals import Intervals
from sonotype.registry import Registry


class Detector(ABC):
    """A sound detector. Subclasses are dataclasses whose fields are the parameters.

    Construction does no work and no checking (the scikit-learn contract); :meth:`check`
    validates the parameters against a sample rate and is called before any audio is read.
    """

    #: Registry name ("time-freq").
    name: ClassVar[str]

    def check(self, sr: int) -> None:  # noqa: B027 - optional hook
        """Raise :class:`~sonotype.errors.ParameterError` for parameters unusable at ``sr``."""

    def for_rate(self, sr: int) -> tuple[Detector, tuple[str, ...]]:
        """This detector with its parameters fitted to a recording at ``sr`` Hz, and a note
        for each parameter changed (band edges above the Nyquist frequency clipped, window
        lengths rounded to a power of two of samples).

        :func:`~sonotype.detect.detect_recording` runs the fitted detector; callers that
        talk to a user show the notes (the science code never prints them). The detector
        itself is left unchanged. The base class changes nothing.
        """
        return self, ()

    def _replace(self, **changes: Any) -> Detector:
        return replace(self, **changes) if changes else self

    @abstractmethod
    def labels(self) -> tuple[str, ...]:
        """The labels of the events this detector outputs."""

    @abstractmethod
    def context(self, sr: int) -> int:
        """Samples of context each side that a decision about one sample depends on."""

    def frame_step(self, sr: int) -> int:
        """Samples between successive decisions; blocks start at multiples of it (1 when the
        detector decides per sample)."""
        return 1

    def statistics(self, recording: Recording, *, channel: int, block_s: float) -> dict:
        """Whole-recording statistics the masks need (none by default)."""
        return {}

    @abstractmethod
    def masks(self, y: np.ndarray, *, sr: int, start: int, stats: Mapping[str, Any]):
        """Decisions for ``y``, a block of one channel whose first sample is ``start``.

        Returns a dict mapping each working label to a boolean array as long as ``y``.
        """

    def stream_gap(self, label: str, sr: int) -> int:
        """Gaps shorter than this (samples) in ``label``'s intervals may be closed while
        streaming, because :meth:`finish` closes them first anyway. Closing them early keeps
        memory bounded when a loud stretch flickers above threshold at every zero crossing."""
        return 0

    def finish(self, intervals: dict[str, Intervals], *, sr: int, n_samples: int):
        """Turn the whole recording's raw intervals into the events (identity by default)."""
        return intervals

    def refine(
        self,
        intervals: dict[str, Intervals],
        *,
        recording: Recording,
        channel: int,
        stats: Mapping[str, Any],
    ) -> dict[str, Intervals]:
        """Move the final events' boundaries, reading only the audio around each event
        (after :meth:`finish`; identity by default)."""
        return intervals

    def params(self) -> dict[str, Any]:
        """The parameters, for provenance."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


DETECTORS: Registry[type[Detector]] = Registry("detector", entry_point_group="sonotype.detectors")


def register_detector(cls: type[Detector]) -> type[Detector]:
    """Class decorator: register ``cls`` under ``cls.name``."""
    DETECTORS.add(cls.name, cls)
    return cls


def make_detector(name: str, **params: Any) -> Detector:
    """An instance of detector ``name``; unknown parameters are an error listing valid ones."""
    cls = DETECTORS.get(name)
    valid = {f.name for f in fields(cls)}
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ParameterError(
            f"detector {name!r} has no parameter {', '.join(unknown)}; its parameters are "
            f"{', '.join(sorted(valid))}"
        )
    return cls(**params)


@dataclass(frozen=True)
class Pair:
    """A pair of thresholds: a stricter one for signal and a laxer one for noise."""

    signal: float
    noise: float


def parse_pair(value, name: str, *, default: str) -> Pair:
    """``"9,4"``, ``(9, 4)`` or ``Pair`` as a Pair; other values are a ParameterError."""
    if isinstance(value, Pair):
        return value
    parts = value.split(",") if isinstance(value, str) else list(np.atleast_1d(value))
    try:
        signal, noise = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name}={value!r} must be two numbers 'signal,noise'; the default is {default}"
        ) from None
    return Pair(signal, noise)
