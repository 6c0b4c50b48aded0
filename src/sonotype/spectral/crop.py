"""Cropping spectrograms to a frequency band."""

from __future__ import annotations

import numpy as np

from sonotype.errors import ParameterError


def crop_frequencies(
    S: np.ndarray,
    frequencies_hz: np.ndarray,
    *,
    low_hz: float | None = None,
    high_hz: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the frequency bins of ``S`` within ``[low_hz, high_hz]`` (inclusive).

    Parameters
    ----------
    S : ndarray, shape (..., n_bins, n_frames)
        A spectrogram (any dtype) with frequency on the second-to-last axis.
    frequencies_hz : ndarray, shape (n_bins,)
        Increasing frequency of each bin in Hz, e.g. from
        :func:`~sonotype.spectral.fft_frequencies`.
    low_hz, high_hz : float, optional
        Band edges in Hz; ``None`` leaves that side open.

    Returns
    -------
    S_cropped : ndarray, shape (..., n_kept, n_frames)
        A view of ``S`` when ``frequencies_hz`` increases (no copy).
    frequencies_cropped_hz : ndarray, shape (n_kept,)

    Raises
    ------
    ParameterError
        When ``low_hz > high_hz``, the shapes disagree, or no bin lies in the band.

    Examples
    --------
    >>> S = np.arange(10.0).reshape(5, 2)
    >>> freqs = np.array([0.0, 1000.0, 2000.0, 3000.0, 4000.0])
    >>> S_band, f_band = crop_frequencies(S, freqs, low_hz=1000, high_hz=2500)
    >>> f_band
    array([1000., 2000.])
    >>> S_band
    array([[2., 3.],
           [4., 5.]])
    """
    S = np.asarray(S)
    frequencies_hz = np.asarray(frequencies_hz, dtype=np.float64)
    if S.ndim < 2 or frequencies_hz.shape != (S.shape[-2],):
        raise ParameterError(
            f"S has shape {S.shape} and frequencies_hz shape {frequencies_hz.shape}; "
            "frequencies_hz needs one value per bin of S's second-to-last axis"
        )
    low = -np.inf if low_hz is None else float(low_hz)
    high = np.inf if high_hz is None else float(high_hz)
    if low > high:
        raise ParameterError(
            f"low_hz={low_hz!r} is above high_hz={high_hz!r}; swap them, or leave one as None"
        )
    kept = np.flatnonzero((frequencies_hz >= low) & (frequencies_hz <= high))
    if kept.size == 0:
        raise ParameterError(
            f"no frequency bin lies in the band low_hz={low_hz!r} to high_hz={high_hz!r}; "
            f"the {frequencies_hz.size} bins span {frequencies_hz.min():g}-"
            f"{frequencies_hz.max():g} Hz; widen the band"
        )
    if kept[-1] - kept[0] + 1 == kept.size:
        # A contiguous band (increasing frequencies): slice, so S stays a view.
        kept = slice(kept[0], kept[-1] + 1)
    return S[..., kept, :], frequencies_hz[kept]
