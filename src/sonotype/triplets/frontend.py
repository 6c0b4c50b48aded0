"""Log-mel spectrograms of spans, cut from the recordings when they are needed.

birdclef-2022 wrote every triplet's audio to npy files (150 GB for 500k triplets); here a
batch reads only its own spans, so memory holds one batch, and the table of triplets
(recordings and times) is all that is stored. Each spectrogram is standardised on its own
(zero mean, unit variance), so recording gain does not matter.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from sonotype.checks import check_int, check_number
from sonotype.spectral.mel import mel_spectrogram


@dataclass(frozen=True)
class FrontEnd:
    """How a span becomes the network's input ``(n_mels, n_frames)``.

    Attributes
    ----------
    sr : int
        Every span is resampled to this rate (Hz).
    n_fft, hop_length : int
        STFT frame and hop in samples at ``sr``.
    n_mels : int
    fmin_hz, fmax_hz : float
        Band of the mel filters (``fmax_hz`` at most ``sr / 2``).
    """

    sr: int = 22050
    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 64
    fmin_hz: float = 300.0
    fmax_hz: float = 11025.0

    def __post_init__(self) -> None:
        check_int(self.sr, name="sr", minimum=1000)
        check_int(self.n_fft, name="n_fft", minimum=16)
        check_int(self.hop_length, name="hop_length", minimum=1)
        check_int(self.n_mels, name="n_mels", minimum=4)
        check_number(self.fmax_hz, name="fmax_hz", minimum=self.fmin_hz, maximum=self.sr / 2,
                     inclusive="right")  # fmt: skip

    def to_dict(self) -> dict:
        return asdict(self)

    def of_samples(self, y: np.ndarray) -> np.ndarray:
        """Standardised log-mel spectrogram of samples at ``sr``: float32 ``(n_mels, frames)``."""
        S = mel_spectrogram(
            y, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length,
            n_mels=self.n_mels, fmin_hz=self.fmin_hz, fmax_hz=self.fmax_hz,
        )  # fmt: skip
        S = np.log(S + 1e-10)
        return ((S - S.mean()) / (S.std() + 1e-6)).astype(np.float32)

    def frames(self, duration_s: float) -> int:
        """Frames of a span of ``duration_s`` (centred STFT)."""
        return 1 + round(duration_s * self.sr) // self.hop_length


class SpanReader:
    """Reads spans of recordings as :class:`FrontEnd` spectrograms, keeping a few recordings
    open (the least recently used is closed first).

    Parameters
    ----------
    open_recording : callable
        Maps a recording name to its :class:`~sonotype.audio.Recording`.
    front : FrontEnd
    keep_open : int
        Recordings kept open at once.
    """

    def __init__(self, open_recording: Callable[[str], object], front: FrontEnd, *,
                 keep_open: int = 16) -> None:  # fmt: skip
        self.open_recording = open_recording
        self.front = front
        self.keep_open = keep_open
        self._open: OrderedDict[str, object] = OrderedDict()

    def recording(self, name: str):
        if name in self._open:
            self._open.move_to_end(name)
        else:
            self._open[name] = self.open_recording(name)
            if len(self._open) > self.keep_open:
                self._open.popitem(last=False)
        return self._open[name]

    def span(self, name: str, start_s: float, duration_s: float, *, channel: int = 0) -> np.ndarray:
        """The spectrogram of ``[start_s, start_s + duration_s)``, zero-padded past the end of
        the recording, so every span of one duration has one shape."""
        rec = self.recording(name)
        n = round(duration_s * self.front.sr)
        stop_s = min(start_s + duration_s, rec.duration_s)
        y = np.zeros(n, dtype=np.float32)
        if stop_s > start_s:
            part = rec.read(max(0.0, start_s), stop_s, channel=channel, sr=self.front.sr)[0]
            y[: min(n, len(part))] = part[:n]
        return self.front.of_samples(y)
