"""The mel scale, mel filterbanks and mel spectrograms, as librosa defines them.

By default the mel scale is Slaney's (Auditory Toolbox): linear below 1 kHz at 200/3 Hz
per mel, logarithmic above; ``htk=True`` selects ``2595 * log10(1 + f / 700)``.
"""

from __future__ import annotations

import warnings

import numpy as np

from sonotype.checks import check_int, check_sample_rate
from sonotype.errors import ParameterError
from sonotype.spectral import _checks
from sonotype.spectral.spectrogram import fft_frequencies, power_spectrogram

# Slaney's scale: linear below _MIN_LOG_HZ, logarithmic with _LOGSTEP per mel above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(frequencies_hz, *, htk: bool = False):
    """Frequencies in Hz to mels (Slaney's scale, or HTK's with ``htk=True``).

    Examples
    --------
    >>> round(float(hz_to_mel(1000.0)), 6)
    15.0
    >>> round(float(hz_to_mel(1000.0, htk=True)), 3)
    999.986
    """
    frequencies_hz = np.asarray(frequencies_hz, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + frequencies_hz / 700.0)
    log_part = frequencies_hz >= _MIN_LOG_HZ
    safe = np.where(log_part, frequencies_hz, _MIN_LOG_HZ)
    return np.where(
        log_part, _MIN_LOG_MEL + np.log(safe / _MIN_LOG_HZ) / _LOGSTEP, frequencies_hz / _F_SP
    )


def mel_to_hz(mels, *, htk: bool = False):
    """Mels to frequencies in Hz; the inverse of :func:`hz_to_mel`.

    Examples
    --------
    >>> round(float(mel_to_hz(15.0)), 6)
    1000.0
    """
    mels = np.asarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    return np.where(
        mels >= _MIN_LOG_MEL,
        _MIN_LOG_HZ * np.exp(_LOGSTEP * (mels - _MIN_LOG_MEL)),
        _F_SP * mels,
    )


def mel_frequencies(
    n_mels: int = 128, *, fmin_hz: float = 0.0, fmax_hz: float = 11025.0, htk: bool = False
) -> np.ndarray:
    """``n_mels`` frequencies in Hz equally spaced on the mel scale from ``fmin_hz`` to
    ``fmax_hz`` inclusive, shape ``(n_mels,)``.

    Examples
    --------
    >>> mel_frequencies(3, fmin_hz=0.0, fmax_hz=2000.0).round(1)
    array([   0. ,  836.1, 2000. ])
    """
    mels = np.linspace(hz_to_mel(fmin_hz, htk=htk), hz_to_mel(fmax_hz, htk=htk), n_mels)
    return mel_to_hz(mels, htk=htk)


def mel_filterbank(
    *,
    sr: float,
    n_fft: int,
    n_mels: int = 128,
    fmin_hz: float = 0.0,
    fmax_hz: float | None = None,
    htk: bool = False,
    norm="slaney",
    dtype=np.float32,
) -> np.ndarray:
    """Triangular mel filters that map STFT bins to mel bands; equals
    ``librosa.filters.mel``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    n_fft : int
        FFT length of the spectrogram the filters apply to.
    n_mels : int
        Number of mel bands.
    fmin_hz, fmax_hz : float
        Lowest and highest frequency in Hz; ``fmax_hz`` defaults to ``sr / 2``.
    htk : bool
        Use the HTK mel formula instead of Slaney's.
    norm : "slaney", number, np.inf or None
        "slaney" divides each triangle by its width in Hz (constant energy per band); a
        number scales each filter to unit Lp norm; ``None`` leaves peaks at 1.
    dtype : dtype
        Of the result.

    Returns
    -------
    ndarray, shape (n_mels, 1 + n_fft // 2)
        Apply as ``mel_filterbank(...) @ S`` to a spectrogram ``S`` of shape
        ``(1 + n_fft // 2, n_frames)``.

    Warns
    -----
    UserWarning
        When some band covers no FFT bin (too many bands for ``n_fft``).

    Examples
    --------
    >>> M = mel_filterbank(sr=22050, n_fft=2048, n_mels=40)
    >>> M.shape
    (40, 1025)
    """
    sr = check_sample_rate(sr)
    n_fft = check_int(
        n_fft, name="n_fft", minimum=1, hint="it is the FFT length in samples, e.g. 2048"
    )
    n_mels = check_int(n_mels, name="n_mels", minimum=1, hint="e.g. 64 or 128")
    fmin_hz, fmax_hz = _band(sr, fmin_hz, fmax_hz)
    mel_f = mel_frequencies(n_mels + 2, fmin_hz=fmin_hz, fmax_hz=fmax_hz, htk=htk)
    # Each filter rises from band edge i to centre i+1 and falls to edge i+2.
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, np.newaxis] - fft_frequencies(sr=sr, n_fft=n_fft)[np.newaxis, :]
    lower = -ramps[:-2] / fdiff[:-1, np.newaxis]
    upper = ramps[2:] / fdiff[1:, np.newaxis]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if isinstance(norm, str):
        if norm != "slaney":
            raise ParameterError(f"norm={norm!r} must be 'slaney', a number, np.inf or None")
        weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    else:
        weights = _checks.normalize(weights, norm=norm, axis=-1)
    if not np.all((mel_f[:-2] == 0) | (weights.max(axis=1) > 0)):
        warnings.warn(
            f"some of the n_mels={n_mels} mel bands between {fmin_hz:g} and {fmax_hz:g} Hz "
            f"cover no FFT bin at n_fft={n_fft}, sr={sr:g}; those bands will be zero. "
            "Use fewer bands or a larger n_fft",
            UserWarning,
            stacklevel=2,
        )
    return weights.astype(dtype)


def mel_spectrogram(
    y: np.ndarray,
    *,
    sr: float,
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
) -> np.ndarray:
    """Mel spectrogram ``mel_filterbank @ |stft(y)| ** power``; equals
    ``librosa.feature.melspectrogram``.

    Parameters
    ----------
    y : ndarray, shape (..., n_samples)
        Audio, float32 or float64.
    sr : float
        Sample rate in Hz.
    n_fft, hop_length, win_length, window, center, pad_mode
        As in :func:`~sonotype.spectral.stft`; ``hop_length`` defaults to
        ``win_length // 4`` (512 for the default ``n_fft``, as librosa).
    power : float
        Exponent of the STFT magnitude: 2 for power, 1 for magnitude.
    n_mels, fmin_hz, fmax_hz, htk, norm
        As in :func:`mel_filterbank`.

    Returns
    -------
    ndarray, shape (..., n_mels, n_frames)
        Same float dtype as ``y``.

    Examples
    --------
    >>> sr = 16000
    >>> y = np.sin(2 * np.pi * 2000 * np.arange(sr) / sr)
    >>> M = mel_spectrogram(y, sr=sr, n_fft=1024, hop_length=512, n_mels=64)
    >>> M.shape
    (64, 32)
    >>> centres_hz = mel_frequencies(66, fmax_hz=8000.0)[1:-1]   # of the 64 bands
    >>> round(float(centres_hz[M[:, 10].argmax()]))
    1997
    """
    S = power_spectrogram(
        y,
        power=power,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
    )
    basis = mel_filterbank(
        sr=sr,
        n_fft=n_fft,
        n_mels=n_mels,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
        htk=htk,
        norm=norm,
        dtype=S.dtype,
    )
    return np.matmul(basis, S)


def _band(sr: float, fmin_hz, fmax_hz) -> tuple[float, float]:
    nyquist = sr / 2
    fmax_hz = nyquist if fmax_hz is None else float(fmax_hz)
    fmin_hz = float(fmin_hz)
    if not 0 <= fmin_hz < fmax_hz:
        raise ParameterError(
            f"fmin_hz={fmin_hz:g} and fmax_hz={fmax_hz:g} must satisfy "
            "0 <= fmin_hz < fmax_hz; the defaults are 0 and sr / 2"
        )
    if fmax_hz > nyquist:
        raise ParameterError(
            f"fmax_hz={fmax_hz:g} exceeds the Nyquist frequency sr / 2 = {nyquist:g} Hz; "
            "use at most sr / 2, or None for sr / 2"
        )
    return fmin_hz, fmax_hz
