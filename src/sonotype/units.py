"""Conversions between seconds and samples: the one rounding rule sonotype uses.

A time ``t_s`` in seconds maps to the sample whose index is nearest to ``t_s * sr``, with
exact halves rounded up (towards later samples): ``floor(t_s * sr + 0.5)``. Sample ``n``
maps back to ``n / sr`` seconds, so ``seconds_to_samples(samples_to_seconds(n, sr), sr) == n``
for every integer ``n``, and a round trip of seconds through samples moves a time by at most
half a sample. Products within a millionth of a sample below a half count as the half, so a
decimal time that lies on a half sample (0.0006 s at 2500 Hz is 1.5 samples, computed as
1.4999999999999998) rounds up as written.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sonotype.checks import check_sample_rate

# A half, plus the float error of decimal times that lie on half samples.
_HALF = 0.5 + 1e-6


def seconds_to_samples(t_s: ArrayLike, sr: float) -> NDArray[np.int64] | int:
    """Sample index nearest to time ``t_s`` (seconds) at rate ``sr`` (Hz); halves round up.

    Examples
    --------
    >>> seconds_to_samples(1.0, 2500)
    2500
    >>> seconds_to_samples([0.0002, 0.0006], 2500)   # 0.5 and 1.5 samples
    array([1, 2])
    """
    sr = check_sample_rate(sr)
    samples = np.floor(np.asarray(t_s, dtype=np.float64) * sr + _HALF).astype(np.int64)
    return int(samples) if samples.ndim == 0 else samples


def samples_to_seconds(n: ArrayLike, sr: float) -> NDArray[np.float64] | float:
    """Time in seconds of sample index ``n`` at rate ``sr`` (Hz).

    Examples
    --------
    >>> samples_to_seconds(2500, 2500)
    1.0
    """
    sr = check_sample_rate(sr)
    seconds = np.asarray(n, dtype=np.float64) / sr
    return float(seconds) if seconds.ndim == 0 else seconds
