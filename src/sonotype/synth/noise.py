"""Background noise at a chosen signal-to-noise ratio."""

from __future__ import annotations

import numpy as np


def add_noise(
    y: np.ndarray, snr_db: float, *, signal_mask: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Add white Gaussian noise so that signal power / noise power is ``snr_db``.

    Signal power is measured over the samples where ``signal_mask`` is true (the sounds,
    not the silences between them), as a listener would judge it.
    """
    active = y[signal_mask] if signal_mask.any() else y
    signal_power = float(np.mean(active.astype(np.float64) ** 2)) or 1e-12
    noise_rms = np.sqrt(signal_power / 10 ** (snr_db / 10))
    return (y + rng.normal(0.0, noise_rms, size=y.shape)).astype(np.float32)
