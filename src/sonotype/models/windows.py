"""Audio around training examples, cut into the networks' context windows.

Torch-free. Each example's span (plus half a window and the jitter on each side) is read
once, at the model's sample rate, so that drawing a batch is pure array slicing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pandas as pd

from sonotype.audio import Recording
from sonotype.errors import ParameterError


def read_padded(
    recording: Recording, start: int, stop: int, *, sr: float, channel: int | None = 0
) -> np.ndarray:
    """Samples ``[start, stop)`` at rate ``sr`` (which may differ from the file's), with
    zeros wherever the span lies outside the recording. Shape ``(stop - start,)`` for one
    ``channel``, ``(channels, stop - start)`` for every channel (``channel`` None); float32."""
    rows = recording.channels if channel is None else 1
    out = np.zeros((rows, stop - start), np.float32)
    if sr == recording.sr:
        lo, hi = max(start, 0), min(stop, recording.frames)
        if hi > lo:
            out[:, lo - start : hi - start] = recording.read_frames(lo, hi, channel=channel)
        return out if channel is None else out[0]
    # Different rate: read a little more than needed so the resampler's edges fall outside
    # (64 samples at the lower rate), starting at a sample that falls exactly on a sample at
    # rate sr (a multiple of p for ratio p/q), so that the pieces line up with the whole file
    # resampled at once.
    ratio = Fraction(recording.sr) / Fraction(sr).limit_denominator(1_000_000)
    p, q = ratio.numerator, ratio.denominator
    margin = 64 * max(math.ceil(ratio), 1)
    lo = max((start * p // q - margin) // p * p, 0)
    hi = min(math.ceil(stop * ratio) + margin, recording.frames)
    if hi > lo:
        from sonotype.audio import resample

        data = recording.read_frames(lo, hi, channel=channel)
        data = np.atleast_2d(resample(data, recording.sr, sr))
        first = lo // p * q  # index at rate sr of data[:, 0]
        a, b = max(start, first), min(stop, first + data.shape[1])
        if b > a:
            out[:, a - start : b - start] = data[:, a - first : b - first]
    return out if channel is None else out[0]


class ExampleAudio:
    """The audio of every example, ready to cut windows of ``window`` samples from.

    Parameters
    ----------
    examples : DataFrame
        Rows with recording, channel, start_s, stop_s (see
        :func:`sonotype.models.groundtruth.select_examples`).
    open_recording : callable
        Recording name -> :class:`~sonotype.audio.Recording`.
    sr : float
        The model's sample rate; other rates are resampled.
    window : int
        Samples per context window (the network's receptive field).
    jitter_s : float
        Largest random shift of an example's time during training.
    channels : int
        1: each example's own channel; more: the first ``channels`` channels of its
        recording, read together (for networks with several input channels).
    """

    def __init__(
        self,
        examples: pd.DataFrame,
        open_recording: Callable[[str], Recording],
        *,
        sr: float,
        window: int,
        jitter_s: float = 0.0,
        channels: int = 1,
        progress: Callable[[], None] | None = None,
    ) -> None:
        self.sr, self.window, self.channels = sr, window, channels
        self.jitter_s = jitter_s
        self.starts_s = examples["start_s"].to_numpy(float)
        self.stops_s = examples["stop_s"].to_numpy(float)
        pad = window // 2 + int(np.ceil(jitter_s * sr)) + 2
        self._origin = np.empty(len(examples), np.int64)  # sample index of each clip's [0]
        self._clips: list[np.ndarray] = [np.empty(0, np.float32)] * len(examples)
        for name, rows in examples.groupby("recording", sort=True).indices.items():
            recording = open_recording(name)
            if channels > 1 and recording.channels < channels:
                raise ParameterError(
                    f"{name} has {recording.channels} channel(s); the network reads "
                    f"{channels} together (input_channels): leave it out, or train with "
                    "input_channels=1 to learn each channel on its own",
                    parameter="input_channels",
                )
            for row in rows:
                start = int(np.floor(self.starts_s[row] * sr)) - pad
                stop = int(np.ceil(self.stops_s[row] * sr)) + pad
                channel = int(examples["channel"].iat[row])
                self._origin[row] = start
                self._clips[row] = (
                    read_padded(recording, start, stop, sr=sr, channel=channel)
                    if channels == 1
                    else read_padded(recording, start, stop, sr=sr, channel=None)[:channels]
                )
                if progress is not None:
                    progress()

    def __len__(self) -> int:
        return len(self._clips)

    def draw_times(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random training time for each row: uniform inside intervals, plus jitter."""
        starts, stops = self.starts_s[rows], self.stops_s[rows]
        times = starts + rng.random(len(rows)) * (stops - starts)
        if self.jitter_s:
            times += rng.uniform(-self.jitter_s, self.jitter_s, len(rows))
        return np.clip(times, starts - self.jitter_s, stops + self.jitter_s)

    def windows(self, rows: np.ndarray, times_s: np.ndarray) -> np.ndarray:
        """Windows ``(len(rows), window)`` centred (sample ``window // 2``) on ``times_s``;
        ``(len(rows), channels, window)`` when several channels are read together."""
        shape = (len(rows), self.window) if self.channels == 1 else (
            len(rows), self.channels, self.window)  # fmt: skip
        out = np.empty(shape, np.float32)
        centres = np.rint(np.asarray(times_s) * self.sr).astype(np.int64)
        for i, (row, centre) in enumerate(zip(rows, centres, strict=True)):
            first = centre - self.window // 2 - self._origin[row]
            out[i] = self._clips[row][..., first : first + self.window]
        return out


def network_input(windows: np.ndarray) -> np.ndarray:
    """Windows as a network takes them, ``(n, channels, samples)``: a channel axis is added
    to mono windows ``(n, samples)``."""
    return windows[:, None, :] if windows.ndim == 2 else windows
