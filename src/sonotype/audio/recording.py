"""Recording: lazy, span-wise access to one audio file of any length."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sonotype.audio.readers import AudioHandle, probe
from sonotype.audio.resample import resample
from sonotype.errors import ParameterError, SpanError
from sonotype.units import samples_to_seconds, seconds_to_samples

Channels = int | Sequence[int] | None


@dataclass(frozen=True)
class Block:
    """One block of a recording streamed by :meth:`Recording.blocks`.

    Attributes
    ----------
    data : ndarray, shape (channels, n)
        float32 samples of frames ``[start, start + n)``, including the overlap on each side.
    start : int
        Frame index of ``data[:, 0]``.
    core_start, core_stop : int
        The frames this block owns: the cores of successive blocks tile the recording
        without gaps or overlap, so a result computed per core and concatenated equals the
        whole-file result. The frames outside the core are context.
    sr : int
        Sample rate in Hz.
    """

    data: np.ndarray
    start: int
    core_start: int
    core_stop: int
    sr: int

    @property
    def start_s(self) -> float:
        """Time of ``data[:, 0]`` in seconds."""
        return self.start / self.sr

    @property
    def core(self) -> np.ndarray:
        """The samples of the core, shape ``(channels, core_stop - core_start)``."""
        return self.data[:, self.core_start - self.start : self.core_stop - self.start]


class Recording:
    """An audio file, read lazily: only the spans asked for are loaded.

    Parameters
    ----------
    path : path
        WAV (8/16/24/32-bit integer or float), FLAC, OGG, MP3, or EvTAF ``.cbin`` (with its
        ``.rec`` beside it).
    allow_truncated : bool
        Read a file that is shorter than its header declares (what is there) instead of
        raising :class:`~sonotype.errors.TruncatedAudioError`.

    Attributes
    ----------
    path : Path
    sr : int
        Sample rate in Hz.
    channels : int
    frames : int
        Samples per channel.
    format, subtype : str
        Container and encoding ("WAV", "PCM_16"; "EvTAF", "PCM_16_BE").

    Examples
    --------
    >>> rec = Recording("song.wav")                     # doctest: +SKIP
    >>> rec.read(1.0, 1.5).shape                        # doctest: +SKIP
    (1, 16000)
    """

    def __init__(self, path: str | os.PathLike[str], *, allow_truncated: bool = False) -> None:
        self.path = Path(path)
        info = probe(self.path, allow_truncated=allow_truncated)
        self._info = info
        self.sr = info.sr
        self.channels = info.channels
        self.frames = info.frames
        self.format = info.format
        self.subtype = info.subtype

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.frames / self.sr

    def __repr__(self) -> str:
        return (
            f"Recording({str(self.path)!r}, sr={self.sr}, channels={self.channels}, "
            f"duration_s={self.duration_s:.3f})"
        )

    def read(
        self,
        start_s: float = 0.0,
        stop_s: float | None = None,
        *,
        channel: Channels = None,
        sr: float | None = None,
    ) -> np.ndarray:
        """Samples of ``[start_s, stop_s)`` as float32, shape ``(channels, samples)``.

        Parameters
        ----------
        start_s, stop_s : float
            Span in seconds; ``stop_s=None`` reads to the end. Times map to samples by
            :func:`sonotype.units.seconds_to_samples`.
        channel : int or sequence of int, optional
            0-based channel(s) to return; all by default. The result is 2-D either way.
        sr : float, optional
            Resample the span to this rate (Hz) with soxr.
        """
        start = seconds_to_samples(start_s, self.sr)
        stop = self.frames if stop_s is None else seconds_to_samples(stop_s, self.sr)
        if start_s < 0 or start > stop or stop > self.frames:
            shown_stop = self.duration_s if stop_s is None else stop_s
            raise SpanError(
                self.path,
                f"span {start_s:g}-{shown_stop:g} s lies outside the recording "
                f"(0-{self.duration_s:g} s) or ends before it starts",
            )
        data = self.read_frames(start, stop, channel=channel)
        if sr is not None and sr != self.sr:
            data = resample(data, self.sr, sr)
        return data

    def read_frames(self, start: int = 0, stop: int | None = None, *, channel: Channels = None):
        """Frames ``[start, stop)`` as float32, shape ``(channels, stop - start)``."""
        stop = self.frames if stop is None else stop
        if not 0 <= start <= stop <= self.frames:
            raise SpanError(
                self.path, f"frames {start}-{stop} lie outside the recording (0-{self.frames})"
            )
        channels = self._channel_index(channel)
        with AudioHandle(self.path, self._info) as handle:
            data = handle.read(start, stop) if stop > start else _no_frames(self.channels)
        return self._select(data, channels)

    def blocks(
        self, block_s: float, *, overlap_s: float = 0.0, channel: Channels = None
    ) -> Iterator[Block]:
        """Stream the recording in blocks of ``block_s`` seconds, in bounded memory.

        Each :class:`Block` owns ``block_s`` seconds (its core; the last may be shorter) and
        carries up to ``overlap_s`` seconds of context before and after, clipped to the
        recording. Peak memory is one block, whatever the file's length.
        """
        block = seconds_to_samples(block_s, self.sr)
        overlap = seconds_to_samples(overlap_s, self.sr)
        if block < 1:
            raise ParameterError(
                f"block_s={block_s!r} must be at least one sample (1/{self.sr} s); "
                "blocks of 10-60 s suit most work"
            )
        if overlap < 0:
            raise ParameterError(f"overlap_s={overlap_s!r} must be >= 0")
        channels = self._channel_index(channel)
        with AudioHandle(self.path, self._info) as handle:
            for core_start in range(0, self.frames, block):
                core_stop = min(core_start + block, self.frames)
                start = max(0, core_start - overlap)
                stop = min(self.frames, core_stop + overlap)
                data = self._select(handle.read(start, stop), channels)
                yield Block(data, start, core_start, core_stop, self.sr)

    def time_of(self, frame: int) -> float:
        """Time in seconds of frame index ``frame``."""
        return samples_to_seconds(frame, self.sr)

    def _select(self, frames: np.ndarray, channels: list[int]) -> np.ndarray:
        """``(frames, all channels)`` as contiguous ``(channels, frames)``, copying only when
        channels must be picked or interleaved ones split (a mono file is never copied)."""
        if channels != list(range(self.channels)):
            frames = frames[:, channels]
        return np.ascontiguousarray(frames.T)

    def _channel_index(self, channel: Channels) -> list[int]:
        wanted = list(range(self.channels)) if channel is None else np.atleast_1d(channel)
        for c in wanted:
            if not 0 <= int(c) < self.channels:
                raise SpanError(
                    self.path,
                    f"channel={int(c)} does not exist; the recording has {self.channels} "
                    f"channel{'s' if self.channels > 1 else ''} (0-{self.channels - 1})",
                )
        return [int(c) for c in wanted]


def _no_frames(channels: int) -> np.ndarray:
    return np.zeros((0, channels), dtype=np.float32)
