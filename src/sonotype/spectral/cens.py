"""Chroma from the STFT, and chroma energy normalised statistics (CENS).

CENS (Müller, Kurth & Clausen 2005) makes chroma robust to loudness and timbre: each frame
is L1-normalised, its values quantised on a log-like scale, smoothed along time with a Hann
window, and L2-normalised. :func:`cens_from_chroma` performs exactly the steps of
``librosa.feature.chroma_cens``. librosa feeds them a constant-Q chroma; :func:`chroma_cens`
feeds them an STFT chroma (``librosa.feature.chroma_stft``), which needs no CQT and
suits the broadband, often high-pitched sounds of animals as well.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

from sonotype.checks import check_int, check_sample_rate
from sonotype.errors import ParameterError
from sonotype.spectral import _checks
from sonotype.spectral.spectrogram import power_spectrogram

# Müller's quantisation: a value counts 0.25 for each threshold it exceeds.
_QUANT_STEPS = (0.4, 0.2, 0.1, 0.05)
_QUANT_WEIGHT = 0.25


def chroma_filterbank(
    *,
    sr: float,
    n_fft: int,
    n_chroma: int = 12,
    tuning: float = 0.0,
    center_octave: float = 5.0,
    octave_width: float | None = 2.0,
    norm=2,
    base_c: bool = True,
    dtype=np.float32,
) -> np.ndarray:
    """Filters that map STFT bins to pitch classes; equals ``librosa.filters.chroma``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    n_fft : int
        FFT length of the spectrogram the filters apply to.
    n_chroma : int
        Pitch classes per octave.
    tuning : float
        Deviation from A440 tuning in fractions of a chroma bin.
    center_octave, octave_width : float
        Centre (octaves above A0 = 27.5 Hz; 5 is A5 = 880 Hz) and Gaussian half-width in
        octaves of the weighting over octaves (librosa's ``ctroct``, ``octwidth``);
        ``octave_width=None`` weights all octaves equally.
    norm : number, np.inf or None
        Normalisation of each FFT bin's weights across pitch classes.
    base_c : bool
        Start the pitch classes at C (else at A).
    dtype : dtype
        Of the result.

    Returns
    -------
    ndarray, shape (n_chroma, 1 + n_fft // 2)

    Examples
    --------
    >>> chroma_filterbank(sr=22050, n_fft=4096).shape
    (12, 2049)
    """
    sr = check_sample_rate(sr)
    n_fft = check_int(
        n_fft, name="n_fft", minimum=1, hint="it is the FFT length in samples, e.g. 2048"
    )
    n_chroma = check_int(n_chroma, name="n_chroma", minimum=1, hint="12 gives semitones")
    # Pitch of every FFT bin but DC, in chroma bins above A0 - 4 octaves (A440 / 16).
    frequencies_hz = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    a440_hz = 440.0 * 2.0 ** (tuning / n_chroma)
    bins = n_chroma * np.log2(frequencies_hz / (a440_hz / 16))
    # DC gets a made-up pitch 1.5 octaves below bin 1 (librosa's, after Ellis's chromagram).
    bins = np.concatenate(([bins[0] - 1.5 * n_chroma], bins))
    widths = np.concatenate((np.maximum(bins[1:] - bins[:-1], 1.0), [1]))
    distance = bins[np.newaxis, :] - np.arange(n_chroma, dtype=np.float64)[:, np.newaxis]
    half = np.round(n_chroma / 2)
    distance = np.remainder(distance + half + 10 * n_chroma, n_chroma) - half
    weights = np.exp(-0.5 * (2 * distance / widths[np.newaxis, :]) ** 2)
    weights = _checks.normalize(weights, norm=norm, axis=0)
    if octave_width is not None:
        weights *= np.exp(-0.5 * ((bins / n_chroma - center_octave) / octave_width) ** 2)
    if base_c:
        weights = np.roll(weights, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(weights[:, : 1 + n_fft // 2], dtype=dtype)


def chroma_stft(
    y: np.ndarray,
    *,
    sr: float,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
    n_chroma: int = 12,
    tuning: float = 0.0,
    norm=np.inf,
) -> np.ndarray:
    """Chromagram from the power STFT; equals ``librosa.feature.chroma_stft`` with the
    same ``tuning`` (librosa estimates it when not given; here it is 0, A440, by default).

    Parameters
    ----------
    y : ndarray, shape (..., n_samples)
        Audio.
    sr : float
        Sample rate in Hz.
    n_fft, hop_length, win_length, window, center, pad_mode
        As in :func:`~sonotype.spectral.stft`.
    n_chroma, tuning
        As in :func:`chroma_filterbank`.
    norm : number, np.inf or None
        Normalisation of each frame across pitch classes; ``None`` leaves energies.

    Returns
    -------
    ndarray, shape (..., n_chroma, n_frames)

    Examples
    --------
    >>> sr = 22050
    >>> y = np.sin(2 * np.pi * 440 * np.arange(sr) / sr)       # A4
    >>> chroma = chroma_stft(y, sr=sr)
    >>> int(chroma[:, 20].argmax())                             # C=0, ..., A=9
    9
    """
    S = power_spectrogram(
        y,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
    )
    basis = chroma_filterbank(sr=sr, n_fft=n_fft, n_chroma=n_chroma, tuning=tuning, dtype=S.dtype)
    return _checks.normalize(np.matmul(basis, S), norm=norm, axis=-2)


def cens_from_chroma(
    chroma: np.ndarray,
    *,
    win_len_smooth: int | None = 41,
    smoothing_window="hann",
    norm=2,
) -> np.ndarray:
    """CENS of a chromagram: the post-processing of ``librosa.feature.chroma_cens``.

    Parameters
    ----------
    chroma : ndarray, shape (..., n_chroma, n_frames)
        Non-negative chroma energies (any per-frame scaling; each frame is L1-normalised).
    win_len_smooth : int or None
        Length in frames of the smoothing window along time; ``None`` skips smoothing.
    smoothing_window : str or tuple
        ``scipy.signal.get_window`` name; the window is taken symmetric over
        ``win_len_smooth + 2`` points (so its zero end points fall outside), summing to 1.
    norm : number, np.inf or None
        Final normalisation of each frame (L2 by default).

    Returns
    -------
    ndarray, shape (..., n_chroma, n_frames)

    Examples
    --------
    >>> chroma = np.zeros((12, 5))
    >>> chroma[9] = 1.0                                          # all energy in A
    >>> cens_from_chroma(chroma, win_len_smooth=None)[:, 0].round(3)
    array([0., 0., 0., 0., 0., 0., 0., 0., 0., 1., 0., 0.])
    """
    chroma = np.asarray(chroma)
    if chroma.ndim < 2:
        raise ParameterError(
            f"chroma has shape {chroma.shape}; it needs shape (..., n_chroma, n_frames)"
        )
    if chroma.dtype.kind != "f":
        chroma = chroma.astype(np.float64)
    if win_len_smooth is not None:
        win_len_smooth = check_int(
            win_len_smooth,
            name="win_len_smooth",
            minimum=1,
            hint="it is in frames (41 by default), or None",
        )
    chroma = _checks.normalize(chroma, norm=1, axis=-2)
    quantised = np.zeros_like(chroma)
    for step in _QUANT_STEPS:
        quantised += (chroma > step) * _QUANT_WEIGHT
    if win_len_smooth:
        weights = scipy.signal.get_window(smoothing_window, win_len_smooth + 2, fftbins=False)
        weights = weights / weights.sum()
        # Zero-padded ("constant") convolution along time, centred as scipy.ndimage centres.
        quantised = scipy.ndimage.convolve1d(quantised, weights, axis=-1, mode="constant")
    return _checks.normalize(quantised, norm=norm, axis=-2)


def chroma_cens(
    y: np.ndarray,
    *,
    sr: float,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
    n_chroma: int = 12,
    tuning: float = 0.0,
    win_len_smooth: int | None = 41,
    smoothing_window="hann",
    norm=2,
) -> np.ndarray:
    """Chroma energy normalised statistics (CENS) of audio, from an STFT chroma.

    ``cens_from_chroma(chroma_stft(y, norm=None, ...), ...)``: see the module docstring
    for how this differs from librosa's CQT-based ``chroma_cens``.

    Parameters
    ----------
    y : ndarray, shape (..., n_samples)
        Audio.
    sr : float
        Sample rate in Hz.
    n_fft, hop_length, win_length, window, center, pad_mode, n_chroma, tuning
        As in :func:`chroma_stft`.
    win_len_smooth, smoothing_window, norm
        As in :func:`cens_from_chroma`.

    Returns
    -------
    ndarray, shape (..., n_chroma, n_frames)
        Each frame has unit L2 norm (or is zero when silent).

    Examples
    --------
    >>> sr = 22050
    >>> y = np.sin(2 * np.pi * 440 * np.arange(2 * sr) / sr)    # A4
    >>> cens = chroma_cens(y, sr=sr)
    >>> int(cens[:, 40].argmax())
    9
    """
    chroma = chroma_stft(
        y,
        sr=sr,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
        n_chroma=n_chroma,
        tuning=tuning,
        norm=None,
    )
    return cens_from_chroma(
        chroma, win_len_smooth=win_len_smooth, smoothing_window=smoothing_window, norm=norm
    )
