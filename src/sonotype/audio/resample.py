"""Sample-rate conversion with soxr."""

from __future__ import annotations

import numpy as np
import soxr

from sonotype.checks import check_sample_rate
from sonotype.errors import ParameterError

QUALITIES = ("QQ", "LQ", "MQ", "HQ", "VHQ")


def resample(y: np.ndarray, orig_sr: float, target_sr: float, *, quality: str = "HQ"):
    """Resample ``y`` from ``orig_sr`` to ``target_sr`` (Hz) with soxr.

    Parameters
    ----------
    y : ndarray, shape (samples,) or (channels, samples)
        Signal; each row of a 2-D array is one channel.
    orig_sr, target_sr : float
        Rates in Hz.
    quality : {"QQ", "LQ", "MQ", "HQ", "VHQ"}
        soxr's quality preset; "HQ" keeps the pass band flat to 0.1 dB below 0.9 x Nyquist.

    Returns
    -------
    ndarray, float32, shape like ``y`` with ``round(samples * target_sr / orig_sr)`` samples.

    Examples
    --------
    >>> resample(np.zeros((2, 48000), np.float32), 48000, 16000).shape
    (2, 16000)
    """
    orig_sr = check_sample_rate(orig_sr, name="orig_sr")
    target_sr = check_sample_rate(target_sr, name="target_sr")
    if quality not in QUALITIES:
        raise ParameterError(f"quality={quality!r} must be one of {', '.join(QUALITIES)}")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim not in (1, 2):
        raise ParameterError(f"y has shape {y.shape}; pass (samples,) or (channels, samples)")
    if orig_sr == target_sr:
        return y.copy()
    # soxr wants (samples, channels).
    out = soxr.resample(y.T if y.ndim == 2 else y, orig_sr, target_sr, quality=quality)
    return np.ascontiguousarray(out.T if y.ndim == 2 else out, dtype=np.float32)
