"""Short-time Fourier transform, spectrograms, and the frequencies and times of their bins.

The definitions are librosa's, so results match ``librosa.stft`` to float precision: a
periodic window (``scipy.signal.get_window(window, win_length, fftbins=True)``) zero-padded
on both sides to ``n_fft``, frame ``t`` starting at sample ``t * hop_length`` of the signal
padded by ``n_fft // 2`` on each side when ``center=True`` (so that frame ``t`` is centred on
sample ``t * hop_length``), and one-sided FFTs of ``1 + n_fft // 2`` bins. Framing is a
strided view of the signal (no copy); the FFT runs over chunks of frames so that temporaries
stay a few megabytes whatever the signal's length.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from sonotype.checks import check_choice, check_int, check_number, check_sample_rate
from sonotype.errors import ParameterError
from sonotype.spectral import _checks

# Windowed frames are FFT'd this many bytes at a time: large enough to amortise the call,
# small enough to stay in cache (measured fastest between 1 and 4 MB).
_CHUNK_BYTES = 2**21


def frame_count(n_samples: int, *, n_fft: int, hop_length: int, center: bool = True) -> int:
    """Number of STFT frames of a signal of ``n_samples`` samples.

    Parameters
    ----------
    n_samples : int
        Signal length in samples.
    n_fft, hop_length : int
        Frame length and step in samples.
    center : bool
        Whether the signal is padded by ``n_fft // 2`` on each side (as :func:`stft` does).

    Returns
    -------
    int
        ``1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop_length`` with centring,
        ``1 + (n_samples - n_fft) // hop_length`` without; 0 when no frame fits.

    Examples
    --------
    >>> frame_count(48000, n_fft=512, hop_length=128)
    376
    >>> frame_count(48000, n_fft=512, hop_length=128, center=False)
    372
    """
    padded = n_samples + 2 * (n_fft // 2) if center else n_samples
    return max(0, 1 + (padded - n_fft) // hop_length) if padded >= n_fft else 0


def frame_signal(
    y: np.ndarray, *, n_fft: int, hop_length: int, center: bool = True, pad_mode: str = "constant"
) -> np.ndarray:
    """Frames of ``y`` as a strided view, shape ``(..., n_frames, n_fft)``.

    With ``center=True`` the signal is first padded by ``n_fft // 2`` samples on each side
    with ``numpy.pad(mode=pad_mode)`` (one copy of the signal); without, no copy is made.
    Parameters are assumed checked (see :func:`stft`).
    """
    if center:
        half = n_fft // 2
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(half, half)], mode=pad_mode)
    elif y.shape[-1] < n_fft:
        raise ParameterError(
            f"the signal has {y.shape[-1]} samples, fewer than n_fft={n_fft}, so no "
            "uncentred frame fits; use center=True (which pads the edges) or a smaller n_fft"
        )
    windows = np.lib.stride_tricks.sliding_window_view(y, n_fft, axis=-1)
    return windows[..., ::hop_length, :]


def rfft_frames(frames: np.ndarray, window: np.ndarray) -> np.ndarray:
    """One-sided FFT of ``frames * window``, shape ``(..., n_frames, 1 + n_fft // 2)``.

    Runs chunk by chunk of frames so the windowed copy never exceeds a few megabytes.
    The result is complex64 for float32 frames, complex128 for float64.
    """
    n_fft = frames.shape[-1]
    n_frames = frames.shape[-2]
    lead = int(np.prod(frames.shape[:-2], dtype=np.int64))
    out_dtype = np.complex64 if frames.dtype == np.float32 else np.complex128
    out = np.empty((*frames.shape[:-1], 1 + n_fft // 2), dtype=out_dtype)
    chunk = max(1, _CHUNK_BYTES // max(1, lead * n_fft * frames.itemsize))
    for first in range(0, n_frames, chunk):
        part = frames[..., first : first + chunk, :]
        out[..., first : first + chunk, :] = scipy.fft.rfft(part * window, axis=-1)
    return out


def stft(
    y: np.ndarray,
    *,
    n_fft: int = 512,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray:
    """Short-time Fourier transform, identical in definition to ``librosa.stft``.

    Parameters
    ----------
    y : ndarray, shape (..., n_samples)
        Real audio, float32 or float64; leading axes (channels) are transformed
        independently.
    n_fft : int
        FFT length in samples (frame length after zero-padding the window).
    hop_length : int, optional
        Step between frames in samples; ``win_length // 4`` by default (as librosa). May
        exceed ``n_fft`` (frames then skip samples).
    win_length : int, optional
        Window length in samples, ``<= n_fft``; ``n_fft`` by default. Shorter windows are
        zero-padded equally on both sides to ``n_fft``.
    window : str, tuple, callable or ndarray
        A ``scipy.signal.get_window`` name or tuple (taken periodic, ``fftbins=True``), a
        function of the length, or an array of ``win_length`` values.
    center : bool
        Pad ``n_fft // 2`` samples on each side so frame ``t`` is centred on sample
        ``t * hop_length``; otherwise frame ``t`` starts there.
    pad_mode : str
        ``numpy.pad`` mode for the centring pad: "constant" (zeros), "edge", "linear_ramp",
        "reflect" or "symmetric".

    Returns
    -------
    ndarray, shape (..., 1 + n_fft // 2, n_frames)
        Complex spectrum, complex64 for float32 input and complex128 for float64. Bin ``f``
        is at ``f * sr / n_fft`` Hz (:func:`fft_frequencies`); frame ``t`` at
        :func:`frame_times`.

    Raises
    ------
    ParameterError
        For a non-positive ``n_fft`` or ``hop_length``, ``win_length > n_fft``, an unknown
        window or pad mode, non-float or non-finite audio, or a signal shorter than
        ``n_fft`` with ``center=False``.

    Examples
    --------
    >>> sr = 8000
    >>> y = np.sin(2 * np.pi * 1000 * np.arange(sr) / sr).astype(np.float32)
    >>> S = stft(y, n_fft=256, hop_length=64)
    >>> S.shape, S.dtype
    ((129, 126), dtype('complex64'))
    >>> int(np.abs(S[:, 50]).argmax()) * sr / 256   # the bin of 1 kHz
    1000.0
    """
    y = _checks.signal(y)
    n_fft, hop_length, win_length = _checks.frame_parameters(n_fft, hop_length, win_length)
    pad_mode = check_choice(pad_mode, name="pad_mode", choices=_checks.PAD_MODES)
    window = _checks.fft_window(window, win_length=win_length, n_fft=n_fft).astype(y.dtype)
    frames = frame_signal(y, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)
    return np.swapaxes(rfft_frames(frames, window), -1, -2)


def magnitude_spectrogram(
    y: np.ndarray,
    *,
    n_fft: int = 512,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray:
    """``|stft(y)|``, shape ``(..., 1 + n_fft // 2, n_frames)``, float32 or float64.

    Parameters are those of :func:`stft`.

    Examples
    --------
    >>> magnitude_spectrogram(np.ones(1024), n_fft=256).shape
    (129, 17)
    """
    return np.abs(
        stft(
            y,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            pad_mode=pad_mode,
        )
    )


def power_spectrogram(
    y: np.ndarray,
    *,
    power: float = 2.0,
    n_fft: int = 512,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray:
    """``|stft(y)| ** power``, shape ``(..., 1 + n_fft // 2, n_frames)``.

    Parameters
    ----------
    y : ndarray, shape (..., n_samples)
        Audio.
    power : float
        Exponent of the magnitude: 2 for power (the default), 1 for magnitude.
    n_fft, hop_length, win_length, window, center, pad_mode
        As in :func:`stft`.

    Returns
    -------
    ndarray, shape (..., 1 + n_fft // 2, n_frames)
        float32 for float32 audio, float64 for float64; in (signal units)**power, not
        scaled by the window or the sample rate.

    Examples
    --------
    >>> S = power_spectrogram(np.ones(2048, dtype=np.float32), n_fft=256)
    >>> float(S[0, 4])        # DC of a constant: (sum of the Hann window)**2 = 128**2
    16384.0
    """
    power = check_number(
        power,
        name="power",
        minimum=0,
        inclusive="neither",
        hint="use 2 for power or 1 for magnitude",
    )
    spectrum = stft(
        y,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
    )
    return spectrum_power(spectrum, power=power)


def spectrum_power(spectrum: np.ndarray, *, power: float = 2.0) -> np.ndarray:
    """``|spectrum| ** power`` for a complex spectrum, without a complex temporary for
    ``power=2``."""
    if power == 2.0:
        return spectrum.real**2 + spectrum.imag**2
    magnitude = np.abs(spectrum)
    return magnitude if power == 1.0 else magnitude**power


def fft_frequencies(*, sr: float, n_fft: int) -> np.ndarray:
    """Centre frequency of each STFT bin in Hz, shape ``(1 + n_fft // 2,)``.

    Examples
    --------
    >>> fft_frequencies(sr=8000, n_fft=8)
    array([   0., 1000., 2000., 3000., 4000.])
    """
    sr = check_sample_rate(sr)
    n_fft = check_int(
        n_fft, name="n_fft", minimum=1, hint="it is the FFT length in samples, e.g. 512"
    )
    return np.fft.rfftfreq(n_fft, d=1.0 / sr)


def frame_times(
    n_frames: int,
    *,
    sr: float,
    hop_length: int,
    center: bool = True,
    n_fft: int | None = None,
    first_frame: int = 0,
) -> np.ndarray:
    """Time in seconds of the centre of each STFT frame, shape ``(n_frames,)``.

    Frame ``t`` is centred on sample ``t * hop_length`` when ``center=True``, and on sample
    ``t * hop_length + n_fft // 2`` when ``center=False`` (the convention of
    ``librosa.frames_to_time``).

    Parameters
    ----------
    n_frames : int
        Number of frames.
    sr : float
        Sample rate in Hz.
    hop_length : int
        Step between frames in samples.
    center : bool
        Whether the frames were computed with ``center=True``.
    n_fft : int, optional
        Frame length in samples; required when ``center=False``.
    first_frame : int
        Index of the first frame (for blocks of a longer stream).

    Examples
    --------
    >>> frame_times(3, sr=1000, hop_length=250)
    array([0.  , 0.25, 0.5 ])
    >>> frame_times(2, sr=1000, hop_length=250, center=False, n_fft=100, first_frame=4)
    array([1.05, 1.3 ])
    """
    sr = check_sample_rate(sr)
    hop_length = check_int(hop_length, name="hop_length", minimum=1, hint="e.g. 128")
    offset = 0
    if not center:
        if n_fft is None:
            raise ParameterError(
                "frame_times(center=False) needs n_fft: uncentred frames are centred "
                "n_fft // 2 samples after their start"
            )
        offset = int(n_fft) // 2
    frames = np.arange(first_frame, first_frame + int(n_frames), dtype=np.float64)
    return (frames * hop_length + offset) / sr
