"""Synthetic clicks as negatives: sparse annotations never show the network a transient.

Annotators mark pulses and some quiet stretches; broadband clicks (handling noise, the
animal knocking the microphone) are rarely inside either. A network that has only seen
pulses against quiet noise then calls any click a pulse. :func:`add_clicks` inserts
synthetic impulsive noise near the centre of training windows of negative examples
(``not_X`` annotations for the overlapped loss, the background label for the exclusive one),
which keep their label: a click there is still not ``X``.

Torch-free: it works on the numpy windows before they become a batch.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

#: Click decay time constants are drawn log-uniformly from this range (seconds). Up to 1 ms:
#: a longer decay under a low-pass looks like a few-ms tonal pulse, which it must not teach
#: against (with up to 3 ms, the recall of real fly pulses fell from 1.00 to 0.85).
TAU_RANGE_S = (0.00005, 0.001)
#: Click peaks are drawn uniformly in dB above the window's RMS from this range.
PEAK_RANGE_DB = (6.0, 36.0)
#: Clicks start within this many seconds of the window's centre.
CENTRE_SPREAD_S = 0.005


def click(length: int, *, sr: float, rng: np.random.Generator) -> np.ndarray:
    """One synthetic click: white noise under an instant attack and exponential decay,
    through a random first-order low- or high-pass (or none), with unit peak.

    Parameters
    ----------
    length : int
        Most samples the click may take (it is cut to about 6 decay times).
    sr : float
        Sample rate in Hz.
    rng : Generator

    Returns
    -------
    ndarray, float32, shape (n,) with 1 <= n <= length
    """
    tau_s = np.exp(rng.uniform(*np.log(TAU_RANGE_S)))
    n = int(np.clip(round(6 * tau_s * sr), 1, length))
    y = rng.standard_normal(n) * np.exp(-np.arange(n) / (tau_s * sr))
    shape = rng.integers(3)  # broadband, low-passed or high-passed: varied bandwidth
    if shape and n > 1:
        pole = rng.uniform(0.1, 0.6)  # gentle slopes: the clicks stay broadband
        low_pass = ([1 - pole], [1, -pole])
        high_pass = ([1, -1], [1, -pole])
        y = lfilter(*(low_pass if shape == 1 else high_pass), y)
    peak = np.abs(y).max()
    return (y / peak if peak > 0 else y).astype(np.float32)


def add_clicks(
    windows: np.ndarray,
    *,
    chosen: np.ndarray,
    sr: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Windows with a synthetic click added near the centre of each chosen one.

    Parameters
    ----------
    windows : ndarray, shape (n, samples)
        Training windows centred on their examples' times.
    chosen : ndarray of bool, shape (n,)
        Which windows get a click.
    sr : float
        Sample rate in Hz.
    rng : Generator

    Returns
    -------
    ndarray, a copy of ``windows`` (float32).
    """
    out = np.array(windows, dtype=np.float32, copy=True)
    n_samples = out.shape[1]
    spread = max(1, round(CENTRE_SPREAD_S * sr))
    for i in np.flatnonzero(chosen):
        rms = float(np.sqrt(np.mean(out[i].astype(np.float64) ** 2))) or 1e-3
        start = int(np.clip(n_samples // 2 + rng.integers(-spread, spread + 1), 0, n_samples - 1))
        shape = click(n_samples - start, sr=sr, rng=rng)
        peak = rms * 10 ** (rng.uniform(*PEAK_RANGE_DB) / 20)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        out[i, start : start + len(shape)] += sign * peak * shape
    return out
