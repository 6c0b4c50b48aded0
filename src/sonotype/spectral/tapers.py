"""Multitaper spectrogram with Thomson's harmonic F-test for sinusoids in noise.

Each frame is multiplied by ``k`` discrete prolate spheroidal (Slepian) tapers of
time-half-bandwidth ``nw`` (``scipy.signal.windows.dpss``, unit energy), giving ``k``
nearly independent spectral estimates ``J_k(f)`` concentrated within ``±nw / T`` of ``f``
(``T`` the frame duration). Their mean power is the multitaper spectrum; their agreement
with a single complex sinusoid is Thomson's (1982) harmonic F-test, as in Chronux's
``ftestc`` and SongExplorer's time-frequency detector::

    H_k = sum_t taper_k(t)                        (the DC of each taper)
    mu  = sum_k J_k H_k / sum_k H_k**2            (the line's complex amplitude)
    F   = (k - 1) |mu|**2 sum_k H_k**2 / sum_k |J_k - mu H_k|**2

The odd-order tapers are antisymmetric, so their ``H_k`` is zero (taken as exactly zero).
Under white noise ``F`` follows an F distribution with (2, 2k - 2) degrees of freedom,
whose survival function has the closed form ``(1 + 2F / (2k - 2)) ** -(k - 1)``, so the
p-value needs no special functions. (At DC and at the Nyquist bin a real signal's
spectrum is real and the F(2, 2k - 2) law does not hold.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.signal

from sonotype.checks import check_choice, check_int, check_sample_rate
from sonotype.errors import ParameterError
from sonotype.spectral import _checks
from sonotype.spectral.spectrogram import fft_frequencies, frame_signal, frame_times

# Bytes of tapered frames processed at a time (k copies of each frame): bounds the
# temporaries whatever the signal's length.
_CHUNK_BYTES = 2**21


@dataclass(frozen=True)
class MultitaperResult:
    """A multitaper spectrogram with its harmonic F-test.

    Attributes
    ----------
    power : ndarray, shape (..., 1 + n_fft // 2, n_frames)
        Mean over tapers of ``|FFT(taper * frame)|**2``; with unit-energy tapers white
        noise of variance ``s**2`` has expected power ``s**2`` in every bin.
    f_statistic : ndarray, shape (..., 1 + n_fft // 2, n_frames)
        Thomson's harmonic F statistic (0 where a frame is silent).
    p_value : ndarray, shape (..., 1 + n_fft // 2, n_frames)
        Probability of an F at least this large from noise alone, under F(2, 2k - 2).
    frequencies_hz : ndarray, shape (1 + n_fft // 2,)
        Frequency of each bin in Hz.
    times_s : ndarray, shape (n_frames,)
        Time of the centre of each frame in seconds.
    nw : float
        Time-half-bandwidth product of the tapers.
    k : int
        Number of tapers.
    """

    power: np.ndarray
    f_statistic: np.ndarray
    p_value: np.ndarray
    frequencies_hz: np.ndarray
    times_s: np.ndarray
    nw: float
    k: int

    @property
    def bandwidth_hz(self) -> float:
        """Half-bandwidth ``nw / T`` of the tapers in Hz (``T = n_fft / sr``)."""
        return self.nw * float(self.frequencies_hz[1])  # frequencies_hz[1] = sr / n_fft


def dpss_tapers(n_fft: int, *, nw: float = 4.0, k: int | None = None) -> np.ndarray:
    """Unit-energy DPSS (Slepian) tapers, shape ``(k, n_fft)``, after checking ``nw`` and
    ``k``; ``k`` defaults to ``2 * nw - 1`` (rounded down), the number that stay well
    concentrated in the band.

    Examples
    --------
    >>> tapers = dpss_tapers(256, nw=3.0)
    >>> tapers.shape
    (5, 256)
    >>> bool(np.allclose((tapers**2).sum(axis=1), 1.0))
    True
    """
    n_fft = check_int(
        n_fft, name="n_fft", minimum=1, hint="it is the frame length in samples, e.g. 512"
    )
    nw, k = _taper_parameters(n_fft, nw, k)
    return scipy.signal.windows.dpss(n_fft, nw, Kmax=k, sym=True, norm=2)


def harmonic_p_value(f_statistic: np.ndarray, *, k: int) -> np.ndarray:
    """Survival function of F(2, 2k - 2) at ``f_statistic``: the p-value of Thomson's
    harmonic F-test with ``k`` tapers (equals ``scipy.stats.f.sf(F, 2, 2 * k - 2)``).

    Examples
    --------
    >>> harmonic_p_value(np.array([0.0, 12.97]), k=7).round(4)
    array([1.   , 0.001])
    """
    m = k - 1  # half the denominator degrees of freedom
    return (1.0 + np.asarray(f_statistic) / m) ** -m


def multitaper(
    y: np.ndarray,
    *,
    sr: float,
    n_fft: int = 512,
    hop_length: int | None = None,
    nw: float = 4.0,
    k: int | None = None,
    center: bool = True,
    pad_mode: str = "constant",
) -> MultitaperResult:
    """Multitaper power spectrogram and Thomson's harmonic F-test, frame by frame.

    Frames are those of :func:`~sonotype.spectral.stft` with the same ``n_fft``,
    ``hop_length``, ``center`` and ``pad_mode``; each is tapered by every DPSS taper at
    once and FFT'd, in chunks of frames, so there is no loop over frames or tapers.

    Parameters
    ----------
    y : ndarray, shape (..., n_samples)
        Audio, float32 or float64.
    sr : float
        Sample rate in Hz.
    n_fft : int
        Frame (and taper) length in samples.
    hop_length : int, optional
        Step between frames in samples; ``n_fft // 4`` by default.
    nw : float
        Time-half-bandwidth product: the tapers resolve ``±nw * sr / n_fft`` Hz.
        Must satisfy ``1.5 <= nw < n_fft / 2``; 2.5 to 4 are usual.
    k : int, optional
        Number of tapers, ``2 <= k <= 2 * nw - 1``; ``floor(2 * nw) - 1`` by default.
    center, pad_mode
        As in :func:`~sonotype.spectral.stft`.

    Returns
    -------
    MultitaperResult
        ``power``, ``f_statistic`` and ``p_value`` of shape
        ``(..., 1 + n_fft // 2, n_frames)`` (float32 for float32 audio), with
        ``frequencies_hz`` and ``times_s``.

    Examples
    --------
    >>> sr = 8000
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(sr) / sr
    >>> y = np.sin(2 * np.pi * 1000 * t) + rng.standard_normal(sr)
    >>> result = multitaper(y, sr=sr, n_fft=256, nw=3.0)
    >>> peak_hz = result.frequencies_hz[result.power[:, 10].argmax()]
    >>> bool(abs(peak_hz - 1000.0) <= result.bandwidth_hz)    # ±nw * sr / n_fft = ±94 Hz
    True
    >>> bool(result.p_value[32, 10] < 1e-3)                     # bin 32 is 1000 Hz
    True
    """
    sr = check_sample_rate(sr)
    y = _checks.signal(y)
    n_fft, hop_length, _ = _checks.frame_parameters(n_fft, hop_length, None)
    pad_mode = check_choice(pad_mode, name="pad_mode", choices=_checks.PAD_MODES)
    tapers = dpss_tapers(n_fft, nw=nw, k=k).astype(y.dtype)
    frames = frame_signal(y, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)
    power, f_statistic = _multitaper_frames(frames, tapers)
    k = len(tapers)
    return MultitaperResult(
        power=np.swapaxes(power, -1, -2),
        f_statistic=np.swapaxes(f_statistic, -1, -2),
        p_value=np.swapaxes(harmonic_p_value(f_statistic, k=k), -1, -2),
        frequencies_hz=fft_frequencies(sr=sr, n_fft=n_fft),
        times_s=frame_times(
            frames.shape[-2], sr=sr, hop_length=hop_length, center=center, n_fft=n_fft
        ),
        nw=float(nw),
        k=k,
    )


def _multitaper_frames(frames: np.ndarray, tapers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Power and F statistic of ``frames`` (..., n_frames, n_fft), each of shape
    (..., n_frames, n_bins), computed over chunks of frames with all tapers at once."""
    k, n_fft = tapers.shape
    n_bins = 1 + n_fft // 2
    n_frames = frames.shape[-2]
    lead = frames.shape[:-2]
    # Even-order DPSS tapers are symmetric, odd-order antisymmetric with a DC of exactly
    # zero in theory: only the symmetric ones carry the line (mu), and the odd ones enter
    # the residual through their energy alone. Symmetric first, so both are slices.
    n_sym = (k + 1) // 2
    ordered = np.concatenate([tapers[0::2], tapers[1::2]])
    h0 = tapers[0::2].astype(np.float64).sum(axis=-1)
    h0_sq = float(np.sum(h0**2))
    h0 = h0.astype(frames.dtype)
    power = np.empty((*frames.shape[:-1], n_bins), dtype=frames.dtype)
    f_statistic = np.empty_like(power)
    size = int(np.prod(lead, dtype=np.int64))
    chunk = max(1, _CHUNK_BYTES // max(1, size * k * n_fft * frames.itemsize))
    for first in range(0, n_frames, chunk):
        part = frames[..., first : first + chunk, :]
        count = part.shape[-2]
        J = scipy.fft.rfft(part[..., np.newaxis, :, :] * ordered[:, np.newaxis, :], axis=-1)
        # Real view (..., k, count * n_bins * 2) of interleaved (re, im): sums over tapers
        # become BLAS and einsum reductions instead of complex temporaries.
        Jr = J.view(frames.dtype).reshape(*lead, k, count * n_bins * 2)
        sym, anti = Jr[..., :n_sym, :], Jr[..., n_sym:, :]
        energy_sym = _pair_sum(np.einsum("...ki,...ki->...i", sym, sym))
        energy_anti = _pair_sum(np.einsum("...ki,...ki->...i", anti, anti))
        mu = np.matmul(h0, sym) / h0_sq  # (..., count * n_bins * 2)
        residual = sym - h0[:, np.newaxis] * mu[..., np.newaxis, :]
        denominator = _pair_sum(np.einsum("...ki,...ki->...i", residual, residual))
        denominator += energy_anti
        numerator = (k - 1) * h0_sq * _pair_sum(mu * mu)
        # A silent frame (0 / 0) carries no evidence of a line: F = 0, p = 1.
        f_value = np.zeros_like(numerator)
        np.divide(numerator, denominator, out=f_value, where=denominator > 0)
        f_statistic[..., first : first + chunk, :] = f_value.reshape(*lead, count, n_bins)
        power[..., first : first + chunk, :] = ((energy_sym + energy_anti) / k).reshape(
            *lead, count, n_bins
        )
    return power, f_statistic


def _pair_sum(interleaved: np.ndarray) -> np.ndarray:
    """Sum of each (re, im) pair along the last axis: |z|**2 from squared parts."""
    return interleaved[..., 0::2] + interleaved[..., 1::2]


def _taper_parameters(n_fft: int, nw, k) -> tuple[float, int]:
    try:
        nw = float(nw)
    except (TypeError, ValueError):
        raise ParameterError(f"nw={nw!r} must be a number, e.g. 4.0") from None
    if not 1.5 <= nw < n_fft / 2:
        raise ParameterError(
            f"nw={nw:g} must satisfy 1.5 <= nw < n_fft / 2 = {n_fft / 2:g} (the harmonic "
            "F-test needs at least 2 tapers, and k <= 2 * nw - 1); 2.5 to 4 are usual"
        )
    most = int(np.floor(2 * nw)) - 1
    if k is None:
        return nw, most
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= most:
        raise ParameterError(
            f"k={k!r} must be an integer with 2 <= k <= 2 * nw - 1 = {most} for nw={nw:g}: "
            "more tapers leak energy from outside the band, and the F-test needs 2; "
            f"use k={most} (the default) or raise nw"
        )
    return nw, int(k)
