"""Pictures and sounds the app sends: spectrogram PNGs, waveform envelopes, WAV bytes."""

from __future__ import annotations

import io
import wave

import numpy as np

from sonotype.errors import ParameterError

#: Sample rates every browser plays; audio slowed outside them is resampled into them
#: (the pitch the listener hears is unchanged).
PLAYABLE_SR = (8000, 96000)
#: Dynamic range of the spectrogram images, dB below the span's peak.
TOP_DB = 80.0


def spectrogram_png(
    y: np.ndarray, *, sr: int, width: int, low_hz: float = 0.0, high_hz: float | None = None
) -> bytes:
    """A dB spectrogram of ``y`` (1-D) as PNG bytes, at most ``width`` columns, rows from
    ``low_hz`` (bottom) to ``high_hz`` (top), coloured with matplotlib's ``magma``."""
    from matplotlib import colormaps
    from PIL import Image

    from sonotype.plot.spectrogram import choose_stft
    from sonotype.spectral import fft_frequencies, power_spectrogram, power_to_db

    # A centred STFT has one frame more than samples / hop: ask for one fewer.
    n_fft, hop_length = choose_stft(sr, len(y), max_frames=max(width - 1, 1))
    if len(y) < n_fft:
        y = np.pad(y, (0, n_fft - len(y)))
    power = power_spectrogram(y.astype(np.float32), n_fft=n_fft, hop_length=hop_length)
    freqs = fft_frequencies(sr=sr, n_fft=n_fft)
    high = sr / 2 if high_hz is None else high_hz
    rows = (freqs >= low_hz) & (freqs <= high)
    if rows.sum() < 2:
        rows = np.argsort(np.abs(freqs - (low_hz + high) / 2))[:2]
    db = power_to_db(power[rows], ref=float(power.max()) or 1.0, top_db=TOP_DB)
    level = np.clip((db + TOP_DB) / TOP_DB, 0.0, 1.0)[::-1]
    rgb = (colormaps["magma"](level)[..., :3] * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def waveform_envelope(y: np.ndarray, *, n: int) -> np.ndarray:
    """``(n, 2)`` float32: the minimum and maximum of ``y`` in each of ``n`` equal bins."""
    if len(y) == 0:
        return np.zeros((n, 2), np.float32)
    edges = np.linspace(0, len(y), n + 1).astype(np.int64)
    edges[1:] = np.maximum(edges[1:], edges[:-1] + 1)
    edges = np.minimum(edges, len(y))
    starts = np.minimum(edges[:-1], len(y) - 1)
    low = np.minimum.reduceat(y, starts)
    high = np.maximum.reduceat(y, starts)
    return np.stack([low, high], axis=1).astype(np.float32)


def band_pass(
    y: np.ndarray, *, sr: float, low_hz: float | None = None, high_hz: float | None = None
) -> np.ndarray:
    """``y`` filtered to ``[low_hz, high_hz]`` (4th-order Butterworth, zero phase); a bound
    left None is open."""
    from scipy.signal import butter, sosfiltfilt

    nyquist = sr / 2
    low = None if low_hz is None or low_hz <= 0 else low_hz
    high = None if high_hz is None or high_hz >= nyquist else high_hz
    if low is not None and high is not None and low >= high:
        raise ParameterError(
            f"low_hz={low_hz:g} must be below high_hz={high_hz:g}", parameter="low_hz"
        )
    if low is None and high is None:
        return y
    if low is None:
        sos = butter(4, high, btype="lowpass", fs=sr, output="sos")
    elif high is None:
        sos = butter(4, low, btype="highpass", fs=sr, output="sos")
    else:
        sos = butter(4, [low, high], btype="bandpass", fs=sr, output="sos")
    if len(y) <= 27:  # sosfiltfilt's padding needs a few samples more than the filter
        return y
    return sosfiltfilt(sos, y).astype(np.float32)


def wav_bytes(y: np.ndarray, *, sr: float) -> bytes:
    """Mono 16-bit WAV of ``y`` played at ``sr`` (resampled into :data:`PLAYABLE_SR`),
    peak-normalised when it would clip."""
    rate = float(sr)
    low, high = PLAYABLE_SR
    if not low <= rate <= high:
        from sonotype.audio.resample import resample

        target = float(min(max(rate, low), high))
        y = resample(y[np.newaxis].astype(np.float32), rate, target)[0]
        rate = target
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    scale = 32767.0 / peak if peak > 1.0 else 32767.0
    pcm = np.clip(np.round(y * scale), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(round(rate))
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()
