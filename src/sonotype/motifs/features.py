"""Chroma CENS at a chosen frame rate, of whole recordings (streamed) and of spans.

The birdclef-2022 motif work describes each recording by chroma energy normalised
statistics (CENS) at 10 frames per second and looks for recurring 5 s stretches of it.
Here the chroma comes from the STFT (:func:`sonotype.spectral.cens.chroma_stft`), the hop
is the sample rate divided by the rate, and the CENS smoothing is given in seconds: 1 s by
default, the duration of librosa's 41-frame window at its default hop (512 samples at
22,050 Hz), so that a lower frame rate does not smooth over longer stretches of sound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sonotype.checks import check_number
from sonotype.spectral.cens import cens_from_chroma, chroma_stft
from sonotype.spectral.stream import stream_frames

if TYPE_CHECKING:
    from sonotype.audio import Recording

#: Default CENS frame rate (frames per second) and smoothing (seconds).
DEFAULT_RATE_HZ = 10.0
DEFAULT_SMOOTH_S = 1.0


@dataclass(frozen=True)
class CensSettings:
    """How CENS frames are made from audio at sample rate ``sr``.

    Attributes
    ----------
    rate_hz : float
        Requested frames per second.
    smooth_s : float
        Length of the CENS smoothing window in seconds (0 skips smoothing).
    """

    rate_hz: float = DEFAULT_RATE_HZ
    smooth_s: float = DEFAULT_SMOOTH_S

    def __post_init__(self) -> None:
        check_number(self.rate_hz, name="rate", minimum=0, inclusive="neither", default=10.0,
                     hint="it is CENS frames per second")  # fmt: skip
        check_number(self.smooth_s, name="smooth_s", minimum=0, default=1.0)

    def hop_length(self, sr: float) -> int:
        """Samples between frames (at least 1)."""
        return max(1, round(sr / self.rate_hz))

    def n_fft(self, sr: float) -> int:
        """FFT length: a power of two covering the hop, at least 2048 (librosa's default)."""
        return int(max(2048, 2 ** int(np.ceil(np.log2(self.hop_length(sr))))))

    def frame_rate_hz(self, sr: float) -> float:
        """The true frame rate, ``sr / hop_length`` (the hop is a whole number of samples)."""
        return sr / self.hop_length(sr)

    def smooth_frames(self, sr: float) -> int | None:
        """The smoothing window in frames, or None for none."""
        frames = round(self.smooth_s * self.frame_rate_hz(sr))
        return frames if frames >= 1 else None


#: The defaults: 10 frames per second, 1 s smoothing.
DEFAULT_SETTINGS = CensSettings()


def recording_cens(
    recording: Recording,
    settings: CensSettings = DEFAULT_SETTINGS,
    *,
    channel: int = 0,
    block_s: float = 60.0,
) -> np.ndarray:
    """CENS of a whole recording, read block by block.

    Only the chroma (12 values per frame) of the whole recording is held at once, never
    its audio: an hour at 10 frames per second is 36,000 x 12 values.

    Parameters
    ----------
    recording : Recording
        The audio.
    settings : CensSettings
        Frame rate and smoothing.
    channel : int
        Channel to read.
    block_s : float
        Audio read at a time, in seconds.

    Returns
    -------
    ndarray, shape (12, n_frames), float64
        Frame ``k`` is centred at ``k / settings.frame_rate_hz(recording.sr)`` seconds.
    """
    sr = recording.sr
    n_fft, hop = settings.n_fft(sr), settings.hop_length(sr)
    parts = [
        part
        for _, part in stream_frames(
            recording,
            lambda y: chroma_stft(y, sr=sr, n_fft=n_fft, hop_length=hop, center=False, norm=None),
            n_fft=n_fft,
            hop_length=hop,
            block_s=block_s,
            channel=channel,
        )
    ]
    chroma = np.concatenate(parts, axis=-1).astype(np.float64)
    return cens_from_chroma(chroma, win_len_smooth=settings.smooth_frames(sr))


def span_cens(y: np.ndarray, *, sr: float, settings: CensSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """CENS of the samples ``y`` (one span, e.g. an event), shape ``(12, n_frames)``."""
    n_fft, hop = settings.n_fft(sr), settings.hop_length(sr)
    chroma = chroma_stft(y, sr=sr, n_fft=n_fft, hop_length=hop, norm=None).astype(np.float64)
    return cens_from_chroma(chroma, win_len_smooth=settings.smooth_frames(sr))
