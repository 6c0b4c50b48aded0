"""Spectral transforms of recordings of any length, block by block in bounded memory.

A recording is cut into blocks of whole STFT frames. Each block is read with the context
its frames need (``n_fft - hop_length`` samples shared with the next block) and padded
exactly as ``center=True`` pads, but only where it meets the true start or end of the
file; the transform then frames it with ``center=False``. So the blocks' results,
concatenated along time, equal the transform of the whole signal (to float rounding),
while memory holds one block at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sonotype.checks import check_choice, check_number
from sonotype.errors import ParameterError, SpanError
from sonotype.spectral import _checks
from sonotype.spectral.mel import mel_filterbank
from sonotype.spectral.spectrogram import (
    fft_frequencies,
    frame_count,
    frame_times,
    spectrum_power,
    stft,
)
from sonotype.spectral.tapers import MultitaperResult, multitaper
from sonotype.units import seconds_to_samples

if TYPE_CHECKING:
    from sonotype.audio import Recording

Channel = int | Sequence[int] | None


@dataclass(frozen=True)
class Spectrogram:
    """A spectrogram of a span of a recording.

    Attributes
    ----------
    values : ndarray, shape (..., 1 + n_fft // 2, n_frames)
        ``|STFT| ** power``, float32.
    frequencies_hz : ndarray, shape (1 + n_fft // 2,)
        Frequency of each bin in Hz.
    times_s : ndarray, shape (n_frames,)
        Time of each frame's centre in seconds from the start of the recording.
    """

    values: np.ndarray
    frequencies_hz: np.ndarray
    times_s: np.ndarray


def stream_frames(
    recording: Recording,
    transform: Callable[[np.ndarray], Any],
    *,
    n_fft: int,
    hop_length: int,
    block_s: float = 60.0,
    channel: Channel = 0,
    center: bool = True,
    pad_mode: str = "constant",
) -> Iterator[tuple[int, Any]]:
    """Apply a frame-wise transform to a recording block by block.

    Parameters
    ----------
    recording : Recording
        The audio, read lazily.
    transform : callable
        Called with each block's samples, shape ``(n,)`` for an integer ``channel`` or
        ``(channels, n)`` otherwise, float32. It must frame them with ``center=False``
        and the same ``n_fft`` and ``hop_length`` (e.g.
        ``lambda y: stft(y, n_fft=512, hop_length=128, center=False)``), which yields
        exactly the block's frames. Array results must have frames on the last axis.
    n_fft, hop_length : int
        Frame length and step in samples.
    block_s : float
        Approximate block length in seconds, rounded to whole frames (at least one).
    channel : int, sequence of int or None
        Channel(s) to read; all when None.
    center, pad_mode
        As in :func:`~sonotype.spectral.stft`: how the whole signal is framed.

    Yields
    ------
    first_frame : int
        Index of the block's first frame in the whole-signal frame sequence.
    result
        ``transform`` of the block.

    Raises
    ------
    ParameterError
        For bad parameters, a recording shorter than ``n_fft`` with ``center=False``, or
        a transform that returns the wrong number of frames.

    Examples
    --------
    >>> from sonotype.spectral import stft
    >>> blocks = stream_frames(                                    # doctest: +SKIP
    ...     rec, lambda y: np.abs(stft(y, n_fft=512, hop_length=128, center=False)),
    ...     n_fft=512, hop_length=128, block_s=30.0)
    >>> S = np.concatenate([part for _, part in blocks], axis=-1)  # doctest: +SKIP
    """
    n_fft, hop_length, _ = _checks.frame_parameters(n_fft, hop_length, None)
    pad_mode = check_choice(pad_mode, name="pad_mode", choices=_checks.PAD_MODES)
    block_s = check_number(
        block_s,
        name="block_s",
        minimum=0,
        inclusive="neither",
        hint="blocks of 10-60 s suit most work",
    )
    n_frames = frame_count(recording.frames, n_fft=n_fft, hop_length=hop_length, center=center)
    if n_frames == 0:
        raise ParameterError(
            f"{recording.path} has {recording.frames} samples, fewer than n_fft={n_fft}, "
            "so no uncentred frame fits; use center=True or a smaller n_fft"
        )
    per_block = max(1, round(block_s * recording.sr / hop_length))
    offset = n_fft // 2 if center else 0
    for first in range(0, n_frames, per_block):
        stop = min(first + per_block, n_frames)
        start_sample = first * hop_length - offset
        segment = _read_padded(
            recording,
            start_sample,
            start_sample + (stop - first - 1) * hop_length + n_fft,
            channel=channel,
            pad_mode=pad_mode,
            pad_width=offset,
        )
        result = transform(segment)
        if isinstance(result, np.ndarray) and result.shape[-1] != stop - first:
            raise ParameterError(
                f"transform returned {result.shape[-1]} frames for a block of "
                f"{stop - first}; it must frame with center=False, n_fft={n_fft} and "
                f"hop_length={hop_length}"
            )
        yield first, result


def stft_recording(
    recording: Recording,
    *,
    n_fft: int = 512,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
    block_s: float = 60.0,
    channel: Channel = 0,
) -> Iterator[tuple[int, np.ndarray]]:
    """STFT of a recording, block by block; concatenated along the last axis the blocks
    equal ``stft(recording.read(channel=...), ...)``.

    Parameters are those of :func:`~sonotype.spectral.stft` and :func:`stream_frames`.

    Yields
    ------
    first_frame : int
        Index of the block's first frame.
    S : ndarray, shape (..., 1 + n_fft // 2, n_block_frames)
        complex64.
    """
    n_fft, hop_length, win_length = _checks.frame_parameters(n_fft, hop_length, win_length)
    _checks.fft_window(window, win_length=win_length, n_fft=n_fft)  # fail before reading

    def transform(y: np.ndarray) -> np.ndarray:
        return stft(
            y,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=False,
        )

    yield from stream_frames(
        recording,
        transform,
        n_fft=n_fft,
        hop_length=hop_length,
        block_s=block_s,
        channel=channel,
        center=center,
        pad_mode=pad_mode,
    )


def mel_recording(
    recording: Recording,
    *,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
    power: float = 2.0,
    n_mels: int = 128,
    fmin_hz: float = 0.0,
    fmax_hz: float | None = None,
    htk: bool = False,
    norm="slaney",
    block_s: float = 60.0,
    channel: Channel = 0,
) -> Iterator[tuple[int, np.ndarray]]:
    """Mel spectrogram of a recording, block by block; concatenated, the blocks equal
    :func:`~sonotype.spectral.mel_spectrogram` of the whole signal.

    Parameters are those of :func:`~sonotype.spectral.mel_spectrogram` and
    :func:`stream_frames`.

    Yields
    ------
    first_frame : int
    M : ndarray, shape (..., n_mels, n_block_frames)
        float32.
    """
    n_fft, hop_length, win_length = _checks.frame_parameters(n_fft, hop_length, win_length)
    power = check_number(
        power,
        name="power",
        minimum=0,
        inclusive="neither",
        hint="use 2 for power or 1 for magnitude",
    )
    basis = mel_filterbank(
        sr=recording.sr,
        n_fft=n_fft,
        n_mels=n_mels,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
        htk=htk,
        norm=norm,
    )

    def transform(y: np.ndarray) -> np.ndarray:
        spectrum = stft(
            y,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=False,
        )
        return np.matmul(basis, spectrum_power(spectrum, power=power))

    yield from stream_frames(
        recording,
        transform,
        n_fft=n_fft,
        hop_length=hop_length,
        block_s=block_s,
        channel=channel,
        center=center,
        pad_mode=pad_mode,
    )


def multitaper_recording(
    recording: Recording,
    *,
    n_fft: int = 512,
    hop_length: int | None = None,
    nw: float = 4.0,
    k: int | None = None,
    center: bool = True,
    pad_mode: str = "constant",
    block_s: float = 60.0,
    channel: Channel = 0,
) -> Iterator[tuple[int, MultitaperResult]]:
    """Multitaper spectrogram and harmonic F-test of a recording, block by block.

    Parameters are those of :func:`~sonotype.spectral.multitaper` and
    :func:`stream_frames`.

    Yields
    ------
    first_frame : int
    result : MultitaperResult
        The block's frames, with ``times_s`` from the start of the recording.
    """
    n_fft, hop_length, _ = _checks.frame_parameters(n_fft, hop_length, None)
    sr = recording.sr

    def transform(y: np.ndarray) -> MultitaperResult:
        return multitaper(y, sr=sr, n_fft=n_fft, hop_length=hop_length, nw=nw, k=k, center=False)

    # Fail on bad nw / k before reading anything.
    multitaper(np.zeros(n_fft, dtype=np.float32), sr=sr, n_fft=n_fft, nw=nw, k=k, center=False)
    for first, result in stream_frames(
        recording,
        transform,
        n_fft=n_fft,
        hop_length=hop_length,
        block_s=block_s,
        channel=channel,
        center=center,
        pad_mode=pad_mode,
    ):
        times_s = frame_times(
            result.power.shape[-1],
            sr=sr,
            hop_length=hop_length,
            center=center,
            n_fft=n_fft,
            first_frame=first,
        )
        yield first, replace(result, times_s=times_s)


def spectrogram_of(
    recording: Recording,
    *,
    start_s: float = 0.0,
    stop_s: float | None = None,
    channel: Channel = 0,
    n_fft: int = 512,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    power: float = 2.0,
    pad_mode: str = "constant",
) -> Spectrogram:
    """Spectrogram of the span ``[start_s, stop_s)`` of a recording, read with context.

    Frames are centred on the samples ``start + t * hop_length`` that lie in the span
    (``start`` being ``start_s`` in samples). Each frame sees the real audio around it,
    also beyond the span; only the true edges of the file are padded (as ``center=True``
    pads). So when ``start`` is a multiple of ``hop_length`` the frames equal the
    corresponding frames of the whole recording's :func:`~sonotype.spectral.stft`.

    Parameters
    ----------
    recording : Recording
        The audio, read lazily: only the span and ``n_fft // 2`` samples either side.
    start_s, stop_s : float
        Span in seconds; ``stop_s=None`` runs to the end.
    channel : int, sequence of int or None
        Channel(s); an integer gives a 2-D result, otherwise one per channel.
    n_fft, hop_length, win_length, window, pad_mode
        As in :func:`~sonotype.spectral.stft`.
    power : float
        Exponent of the magnitude: 2 for power, 1 for magnitude.

    Returns
    -------
    Spectrogram
        ``values`` of shape ``(..., 1 + n_fft // 2, n_frames)``, with ``frequencies_hz``
        and ``times_s`` (from the start of the recording).

    Raises
    ------
    SpanError
        When the span lies outside the recording or is empty.
    """
    n_fft, hop_length, win_length = _checks.frame_parameters(n_fft, hop_length, win_length)
    pad_mode = check_choice(pad_mode, name="pad_mode", choices=_checks.PAD_MODES)
    power = check_number(
        power,
        name="power",
        minimum=0,
        inclusive="neither",
        hint="use 2 for power or 1 for magnitude",
    )
    sr = recording.sr
    start = seconds_to_samples(start_s, sr)
    stop = recording.frames if stop_s is None else seconds_to_samples(stop_s, sr)
    if start_s < 0 or not start < stop <= recording.frames:
        shown_stop = recording.duration_s if stop_s is None else stop_s
        raise SpanError(
            recording.path,
            f"span {start_s:g}-{shown_stop:g} s is empty or lies outside the recording "
            f"(0-{recording.duration_s:g} s)",
        )
    n_frames = -(-(stop - start) // hop_length)  # frames centred in [start, stop)
    half = n_fft // 2
    y = _read_padded(
        recording,
        start - half,
        start - half + (n_frames - 1) * hop_length + n_fft,
        channel=channel,
        pad_mode=pad_mode,
        pad_width=half,
    )
    spectrum = stft(
        y,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=False,
    )
    return Spectrogram(
        values=spectrum_power(spectrum, power=power),
        frequencies_hz=fft_frequencies(sr=sr, n_fft=n_fft),
        times_s=(start + hop_length * np.arange(n_frames)) / sr,
    )


def _read_padded(
    recording: Recording,
    start: int,
    stop: int,
    *,
    channel: Channel,
    pad_mode: str,
    pad_width: int,
) -> np.ndarray:
    """Samples ``[start, stop)`` of the recording, where indices before 0 or from
    ``recording.frames`` on come from padding the true edges by ``pad_width`` samples
    with ``numpy.pad(mode=pad_mode)``, exactly as padding the whole signal would."""
    total = recording.frames
    lo, hi = max(0, start), min(total, stop)
    pad_left, pad_right = start < 0, stop > total
    # Reflections need samples beyond the span near an edge; read up to n_fft + 1 of them
    # (pad_width < n_fft) so a short block pads as the whole signal does.
    if pad_left:
        hi = max(hi, min(total, 2 * pad_width + 2))
    if pad_right:
        lo = min(lo, max(0, total - 2 * pad_width - 2))
    data = recording.read_frames(lo, hi, channel=channel)
    left = pad_width if pad_left else 0
    right = pad_width if pad_right else 0
    if left or right:
        data = np.pad(data, ((0, 0), (left, right)), mode=pad_mode)
    first = start - lo + left
    data = data[:, first : first + stop - start]
    return data[0] if isinstance(channel, (int, np.integer)) else data
