"""Fixed-size complex spectrograms of events, for the phase-aware distances.

Every event gets the STFT (no centring) of ``n_time`` frames from its start; samples after
its end (and past the end of the recording) are zeros, so each spectrogram shows its own
sound only, and all have one shape. Only each event's span is read.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sonotype.checks import check_int
from sonotype.errors import ParameterError
from sonotype.spectral.spectrogram import stft


def event_stfts(
    events: pd.DataFrame,
    open_recording: Callable[[str], object],
    *,
    n_fft: int = 256,
    hop_length: int = 64,
    n_time: int = 64,
    freq_range_hz: tuple[float, float] | None = None,
    sr: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Complex spectrograms of events, one shape for all.

    Parameters
    ----------
    events : DataFrame
        Events table (``recording``, ``start_s``, ``stop_s``, optional ``channel``).
    open_recording : callable
        Maps a recording name to its :class:`~sonotype.audio.Recording`.
    n_fft, hop_length : int
        STFT frame and hop in samples (at ``sr``).
    n_time : int
        Frames per spectrogram.
    freq_range_hz : (float, float), optional
        Keep only the frequency bins in this band.
    sr : float, optional
        Resample every span to this rate; by default all recordings must share one rate.
    progress : callable, optional
        Called with 1 after each event.

    Returns
    -------
    ndarray, complex64, shape (n_events, n_freq, n_time)
    """
    n_fft = check_int(n_fft, name="n_fft", minimum=2)
    hop_length = check_int(hop_length, name="hop_length", minimum=1)
    n_time = check_int(n_time, name="n_time", minimum=2)
    out = None
    rate = sr
    for row, event in enumerate(events.itertuples(index=False)):
        rec = open_recording(event.recording)
        if rate is None:
            rate = rec.sr
        elif sr is None and rec.sr != rate:
            raise ParameterError(
                f"recording {event.recording} has sample rate {rec.sr} Hz, others {rate:g} Hz; "
                "give sr= to resample them to one rate",
                parameter="sr",
            )
        span_s = ((n_time - 1) * hop_length + n_fft) / rate
        channel = 0 if pd.isna(getattr(event, "channel", 0)) else int(event.channel)
        stop_s = min(float(event.start_s) + span_s, rec.duration_s)
        y = rec.read(float(event.start_s), stop_s, channel=channel, sr=sr)[0]
        n_samples = (n_time - 1) * hop_length + n_fft
        keep = min(len(y), round((float(event.stop_s) - float(event.start_s)) * rate))
        padded = np.zeros(n_samples, dtype=np.float32)
        padded[: min(keep, n_samples)] = y[: min(keep, n_samples)]
        S = stft(padded, n_fft=n_fft, hop_length=hop_length, center=False)
        if freq_range_hz is not None:
            freqs = np.arange(S.shape[0]) * rate / n_fft
            S = S[(freqs >= freq_range_hz[0]) & (freqs <= freq_range_hz[1])]
            if len(S) == 0:
                raise ParameterError(
                    f"freq_range_hz={freq_range_hz} holds no frequency bin at {rate:g} Hz",
                    parameter="freq_range_hz",
                )
        if out is None:
            out = np.empty((len(events), *S.shape), dtype=np.complex64)
        out[row] = S
        if progress is not None:
            progress(1)
    if out is None:
        raise ParameterError("no events to make spectrograms of")
    return out
