"""Mel-frequency cepstral coefficients: the DCT of the log mel spectrogram."""

from __future__ import annotations

import numpy as np
import scipy.fft

from sonotype.checks import check_int
from sonotype.errors import ParameterError
from sonotype.spectral.db import power_to_db
from sonotype.spectral.mel import mel_spectrogram


def mfcc(
    y: np.ndarray | None = None,
    *,
    sr: float | None = None,
    S_db: np.ndarray | None = None,
    n_mfcc: int = 20,
    n_mels: int = 128,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
    fmin_hz: float = 0.0,
    fmax_hz: float | None = None,
    htk: bool = False,
    mel_norm="slaney",
    top_db: float | None = 80.0,
    lifter: float = 0.0,
) -> np.ndarray:
    """MFCCs: orthonormal DCT-II over the mel axis of a dB mel spectrogram; equals
    ``librosa.feature.mfcc``.

    Parameters
    ----------
    y : ndarray, shape (..., n_samples), optional
        Audio; give either ``y`` (with ``sr``) or ``S_db``.
    sr : float, optional
        Sample rate in Hz; required with ``y``.
    S_db : ndarray, shape (..., n_mels, n_frames), optional
        A precomputed log-power mel spectrogram in dB.
    n_mfcc : int
        Number of coefficients kept, ``<= n_mels``.
    n_mels, n_fft, hop_length, win_length, window, center, pad_mode, fmin_hz, fmax_hz, htk
        Passed to :func:`~sonotype.spectral.mel_spectrogram` (with ``power=2``).
    mel_norm : "slaney", number or None
        The mel filterbank's ``norm``.
    top_db : float or None
        Floor of :func:`~sonotype.spectral.power_to_db`, relative to the peak over the
        whole input (so MFCCs of a block depend on its loudest bin).
    lifter : float
        Sinusoidal liftering ``1 + lifter / 2 * sin(pi * (n + 1) / lifter)`` of
        coefficient ``n`` when > 0; 0 turns it off.

    Returns
    -------
    ndarray, shape (..., n_mfcc, n_frames)

    Examples
    --------
    >>> sr = 16000
    >>> y = np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    >>> mfcc(y, sr=sr, n_mfcc=13).shape
    (13, 32)
    """
    n_mfcc = check_int(n_mfcc, name="n_mfcc", minimum=1, hint="e.g. 13 or 20")
    if (y is None) == (S_db is None):
        raise ParameterError(
            "mfcc needs exactly one of y (audio, with sr) or S_db (a dB mel spectrogram)"
        )
    if S_db is None:
        if sr is None:
            raise ParameterError("mfcc(y, ...) needs sr, the sample rate of y in Hz")
        mel = mel_spectrogram(
            y,
            sr=sr,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            pad_mode=pad_mode,
            power=2.0,
            n_mels=n_mels,
            fmin_hz=fmin_hz,
            fmax_hz=fmax_hz,
            htk=htk,
            norm=mel_norm,
        )
        S_db = power_to_db(mel, top_db=top_db)
    S_db = np.asarray(S_db)
    if S_db.ndim < 2:
        raise ParameterError(f"S_db has shape {S_db.shape}; it needs shape (..., n_mels, n_frames)")
    if n_mfcc > S_db.shape[-2]:
        raise ParameterError(
            f"n_mfcc={n_mfcc} exceeds the {S_db.shape[-2]} mel bands; use n_mfcc <= n_mels"
        )
    coefficients = scipy.fft.dct(S_db, type=2, norm="ortho", axis=-2)[..., :n_mfcc, :]
    if lifter < 0:
        raise ParameterError(f"lifter={lifter!r} must be >= 0; 0 (the default) turns it off")
    if lifter > 0:
        n = np.arange(1, 1 + n_mfcc, dtype=coefficients.dtype)
        coefficients *= (1 + (lifter / 2) * np.sin(np.pi * n / lifter))[:, np.newaxis]
    return coefficients
