"""Parameter checks and small helpers shared by the spectral modules (private)."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.signal

from sonotype.checks import check_int
from sonotype.errors import ParameterError

#: ``numpy.pad`` modes that pad from the samples near each edge only, so that a block read
#: with context pads exactly as the whole signal would (modes that use statistics of the
#: whole signal, such as "mean", are refused, as librosa refuses them).
PAD_MODES = ("constant", "edge", "linear_ramp", "reflect", "symmetric")


def frame_parameters(
    n_fft: int, hop_length: int | None, win_length: int | None
) -> tuple[int, int, int]:
    """Checked ``(n_fft, hop_length, win_length)`` with librosa's defaults filled in:
    ``win_length = n_fft`` and ``hop_length = win_length // 4``."""
    n_fft = check_int(
        n_fft, name="n_fft", minimum=1, hint="it is the frame length in samples, e.g. 512"
    )
    if win_length is None:
        win_length = n_fft
    win_length = check_int(
        win_length,
        name="win_length",
        minimum=1,
        hint=f"it is the window length in samples, at most n_fft={n_fft}",
    )
    if win_length > n_fft:
        raise ParameterError(
            f"win_length={win_length} must be <= n_fft={n_fft}; the window is zero-padded "
            "to n_fft, so raise n_fft or shorten the window"
        )
    if hop_length is None:
        hop_length = max(1, win_length // 4)
    hop_length = check_int(
        hop_length,
        name="hop_length",
        minimum=1,
        hint=f"it is the step between frames in samples, e.g. {n_fft // 4}",
    )
    return n_fft, hop_length, win_length


def signal(y, name: str = "y") -> np.ndarray:
    """``y`` as a float32 or float64 array of shape (..., n), checked finite and non-empty."""
    y = np.asarray(y)
    if y.dtype.kind in "iub":
        raise ParameterError(
            f"{name} has integer dtype {y.dtype}; pass floating-point audio, e.g. "
            f"{name}.astype(np.float32) / 32768 for 16-bit samples"
        )
    if y.dtype.kind != "f":
        raise ParameterError(f"{name} has dtype {y.dtype}; pass real floating-point audio")
    if y.dtype not in (np.float32, np.float64):
        y = y.astype(np.float32 if y.dtype.itemsize < 4 else np.float64)
    if y.ndim == 0 or y.shape[-1] == 0:
        raise ParameterError(f"{name} has shape {y.shape}; it needs at least one sample")
    if not np.isfinite(y).all():
        raise ParameterError(
            f"{name} contains NaN or infinite values; clean or clip the audio first"
        )
    return y


def fft_window(window, *, win_length: int, n_fft: int) -> np.ndarray:
    """The analysis window as librosa builds it: a periodic (``fftbins=True``) scipy window
    of ``win_length`` samples, zero-padded on both sides to ``n_fft``, float64."""
    if isinstance(window, (str, tuple)) or np.isscalar(window):
        try:
            values = scipy.signal.get_window(window, win_length, fftbins=True)
        except ValueError as error:
            raise ParameterError(
                f"window={window!r} is not a window scipy.signal.get_window knows ({error}); "
                "use e.g. 'hann', 'hamming', ('kaiser', 8.0) or an array"
            ) from None
    elif callable(window):
        values = np.asarray(window(win_length), dtype=np.float64)
    else:
        values = np.asarray(window, dtype=np.float64)
        if values.shape != (win_length,):
            raise ParameterError(
                f"window has shape {values.shape}; an array window needs shape "
                f"({win_length},) (win_length)"
            )
    left = (n_fft - win_length) // 2
    return np.pad(values, (left, n_fft - win_length - left))


def normalize(S: np.ndarray, *, norm, axis: int) -> np.ndarray:
    """Scale ``S`` to unit ``norm`` along ``axis``, as ``librosa.util.normalize`` does with
    its defaults: vectors whose norm is below the dtype's smallest normal number (silent
    frames) are left as they are instead of being divided by ~0."""
    if norm is None:
        return S
    magnitude = np.abs(S).astype(np.float64)
    if norm == np.inf:
        length = magnitude.max(axis=axis, keepdims=True)
    elif norm == -np.inf:
        length = magnitude.min(axis=axis, keepdims=True)
    elif isinstance(norm, numbers.Real) and not isinstance(norm, bool) and norm > 0:
        length = np.sum(magnitude**norm, axis=axis, keepdims=True) ** (1.0 / norm)
    else:
        raise ParameterError(
            f"norm={norm!r} is not supported; use a positive number (1, 2), np.inf or None"
        )
    tiny = np.finfo(S.dtype if S.dtype.kind in "fc" else np.float64).tiny
    length[length < tiny] = 1.0
    return (S / length).astype(S.dtype, copy=False)
