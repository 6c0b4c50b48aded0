"""Shared helpers for the spectral tests."""

from __future__ import annotations

import numpy as np


def assert_close(actual, expected, *, rtol=1e-5, atol_of_max=1e-6):
    """``actual`` equals ``expected`` to ``rtol``, with an absolute slack of
    ``atol_of_max`` times the largest magnitude for bins that are near zero (where float32
    rounding of the whole frame dominates)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    scale = float(np.abs(expected).max()) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol_of_max * scale)


def tone(frequency_hz, *, sr, duration_s, amplitude=0.5, dtype=np.float32):
    """A sine of ``frequency_hz`` lasting ``duration_s`` seconds."""
    t = np.arange(round(duration_s * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * frequency_hz * t)).astype(dtype)
