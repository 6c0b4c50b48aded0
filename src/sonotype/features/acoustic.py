"""Acoustic measurements of each syllable: duration, frequencies, entropy, pitch, loudness.

Each event of an Events table gets one row of :data:`ACOUSTIC_FEATURES`:

=====================  ===================================================================
duration_s             ``stop_s - start_s``
mean_freq_hz           spectral centroid of the syllable's mean power spectrum, which equals
                       the frames' centroids averaged with each frame's power as its weight
peak_freq_hz           frequency of the mean power spectrum's maximum, refined by a parabola
                       through the dB values of the peak bin and its neighbours
bandwidth_hz           width of the band between the 5 % and 95 % points of the mean power
                       spectrum's cumulative sum (``bandwidth_quantiles``), interpolated
                       within bins
spectral_entropy       Shannon entropy of the mean power spectrum normalised to unit sum,
                       divided by the log of the number of bins: 0 for all power in one bin
                       (a pure tone), 1 for a flat spectrum (white noise)
pitch_hz               median fundamental frequency of the syllable's voiced frames
pitch_slope_hz_per_s   slope of a least-squares line through the voiced frames' (time, f0)
amplitude_db           RMS of the syllable's samples in dB re full scale (1.0), floored at
                       -200 dB for digital silence
=====================  ===================================================================

The spectra are those of Hann frames of ``n_fft`` samples every ``hop_length`` samples whose
centres lie inside the syllable (the one nearest its centre when none does), restricted to
``freq_range_hz``. The fundamental frequency of each frame comes from YIN (de Cheveigné &
Kawahara 2002): the cumulative-mean-normalised difference function over lags from
``sr / fmax_hz`` to ``sr / fmin_hz``, computed for all frames at once with FFTs; the first
local minimum below ``yin_threshold`` gives the period (refined by a parabola), and a frame
with none is unvoiced. ``pitch_hz`` is NaN when fewer than ``min_voiced_fraction`` of the
syllable's frames are voiced; ``pitch_slope_hz_per_s`` is NaN then too, or when fewer than
two frames are voiced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.fft

from sonotype.errors import ParameterError
from sonotype.features import _spans
from sonotype.features._spans import Recordings
from sonotype.features._spans import pair as _pair
from sonotype.spectral import fft_frequencies, power_spectrogram

#: The columns of :func:`acoustic_features`, in order.
ACOUSTIC_FEATURES = (
    "duration_s",
    "mean_freq_hz",
    "peak_freq_hz",
    "bandwidth_hz",
    "spectral_entropy",
    "pitch_hz",
    "pitch_slope_hz_per_s",
    "amplitude_db",
)

Progress = Callable[[int, int], None]
_FLOOR_DB = -200.0


@dataclass(frozen=True)
class AcousticParams:
    """How :func:`acoustic_features` measures each syllable.

    Parameters
    ----------
    n_fft : int, optional
        Spectrum frame length in samples; by default the power of two nearest 16 ms
        (512 at 32 kHz).
    hop_length : int, optional
        Step between frames in samples; by default 2 ms (64 at 32 kHz).
    freq_range_hz : (float, float), optional
        Band of the spectral features (mean, peak, bandwidth, entropy); ``(0, sr / 2)``
        by default.
    fmin_hz, fmax_hz : float
        Range of fundamental frequencies YIN searches. Periods shorter than 2 samples are
        never searched, so at most ``sr / 2`` is found.
    yin_threshold : float
        A frame is voiced when its normalised difference function dips below this
        (0.1-0.2 in the YIN paper; higher accepts noisier frames).
    min_voiced_fraction : float
        Fraction of a syllable's frames that must be voiced for a pitch.
    bandwidth_quantiles : (float, float)
        Cumulative-power fractions whose frequencies bound ``bandwidth_hz``.
    """

    n_fft: int | None = None
    hop_length: int | None = None
    freq_range_hz: tuple[float, float] | None = None
    fmin_hz: float = 250.0
    fmax_hz: float = 8000.0
    yin_threshold: float = 0.2
    min_voiced_fraction: float = 0.25
    bandwidth_quantiles: tuple[float, float] = (0.05, 0.95)

    def __post_init__(self) -> None:
        # Pairs are stored as tuples of floats (see SpectrogramParams).
        for name in ("freq_range_hz", "bandwidth_quantiles"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _pair(value, name))
        for name in ("n_fft", "hop_length"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1
            ):
                raise ParameterError(
                    f"{name}={value!r} must be a positive integer, or None to choose it from "
                    "the sample rate"
                )
        if self.freq_range_hz is not None:
            low, high = self.freq_range_hz
            if not 0 <= low < high:
                raise ParameterError(
                    f"freq_range_hz={self.freq_range_hz!r} must be (low, high) with "
                    "0 <= low < high in Hz, or None for 0 to sr / 2"
                )
        if not 0 < self.fmin_hz < self.fmax_hz:
            raise ParameterError(
                f"fmin_hz={self.fmin_hz!r} and fmax_hz={self.fmax_hz!r} must satisfy "
                "0 < fmin_hz < fmax_hz; the defaults are 250 and 8000 Hz"
            )
        if not 0 < self.yin_threshold < 1:
            raise ParameterError(
                f"yin_threshold={self.yin_threshold!r} must lie in (0, 1); the default is 0.2"
            )
        if not 0 <= self.min_voiced_fraction <= 1:
            raise ParameterError(
                f"min_voiced_fraction={self.min_voiced_fraction!r} must lie in [0, 1]"
            )
        low, high = self.bandwidth_quantiles
        if not 0 <= low < high <= 1:
            raise ParameterError(
                f"bandwidth_quantiles={self.bandwidth_quantiles!r} must be (low, high) with "
                "0 <= low < high <= 1; the default is (0.05, 0.95)"
            )

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready dict (tuples become lists), for cache keys."""
        return _spans.params_dict(self)


def acoustic_features(
    events: pd.DataFrame,
    recordings: Recordings,
    *,
    params: AcousticParams | None = None,
    channel_from_events: bool = True,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """The acoustic features of every event (syllable) of an Events table.

    Parameters
    ----------
    events : DataFrame
        Events table; every row an interval (``start_s < stop_s``).
    recordings : mapping or path
        Maps each name in ``events["recording"]`` to a path or a
        :class:`~sonotype.audio.Recording`, or the folder the names are relative to. Each
        recording is opened once and only the spans the syllables need are read.
    params : AcousticParams, optional
        Analysis settings; ``AcousticParams()`` by default.
    channel_from_events : bool
        Read each syllable from its event's ``channel``; False reads channel 0.
    progress : callable, optional
        Called as ``progress(done, total)`` (events) after each recording and channel.

    Returns
    -------
    DataFrame, shape (n_events, 8)
        Columns :data:`ACOUSTIC_FEATURES` (float64; see the module notes), with the index of
        ``events``.

    Raises
    ------
    AnnotationError
        A point event (``start_s == stop_s``); the message names the row.
    SpanError
        An event outside its recording or on a missing channel (names recording and row).
    ParameterError
        A recording missing from ``recordings``, or settings unusable at its sample rate.
    """
    params = _checked_params(params)
    table = _spans.checked_events(events)
    values = np.full((len(table), len(ACOUSTIC_FEATURES)), np.nan)
    done = 0
    for group in _spans.groups(table, recordings, channel_from_events=channel_from_events):
        values[group.rows] = _group_features(group, params)
        done += len(group.rows)
        if progress is not None:
            progress(done, len(table))
    return pd.DataFrame(values, columns=list(ACOUSTIC_FEATURES), index=events.index)


def signal_features(
    y: np.ndarray, *, sr: float, params: AcousticParams | None = None
) -> dict[str, float]:
    """The acoustic features of one syllable given as samples (zeros around it).

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
        The syllable's samples.
    sr : float
        Sample rate in Hz.
    params : AcousticParams, optional

    Returns
    -------
    dict
        :data:`ACOUSTIC_FEATURES` to floats.

    Examples
    --------
    >>> sr = 16000
    >>> tone = np.sin(2 * np.pi * 1000 * np.arange(sr // 10) / sr)
    >>> f = signal_features(tone, sr=sr)
    >>> round(f["duration_s"], 3), round(f["peak_freq_hz"]), round(f["pitch_hz"])
    (0.1, 1000, 1000)
    """
    params = _checked_params(params)
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or len(y) == 0:
        raise ParameterError(f"y has shape {y.shape}; pass one syllable as (n_samples,)")
    if not np.all(np.isfinite(y)):
        raise ParameterError("y holds NaN or infinite samples; pass finite audio")
    settings = _settings(params, float(sr))
    pad = settings.context + settings.hop
    padded = np.concatenate([np.zeros(pad, np.float32), y, np.zeros(pad, np.float32)])
    spans = np.array([[0.0, float(len(y))]])
    row = _segment_features(padded, -pad, spans, settings)[0]
    row[0] = len(y) / sr
    return dict(zip(ACOUSTIC_FEATURES, row.tolist(), strict=True))


# -- settings at one sample rate --------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    sr: float
    n_fft: int
    hop: int
    band: np.ndarray  # bool, over the FFT bins
    freqs: np.ndarray  # Hz, of the bins in the band
    tau_min: int
    tau_max: int
    yin_window: int
    context: int  # samples each side of a frame centre that any frame needs
    params: AcousticParams


def _checked_params(params: AcousticParams | None) -> AcousticParams:
    if params is None:
        return AcousticParams()
    if not isinstance(params, AcousticParams):
        raise ParameterError(
            f"params must be an AcousticParams, not {type(params).__name__}; "
            "e.g. AcousticParams(fmin_hz=300)"
        )
    return params


def _settings(params: AcousticParams, sr: float) -> _Settings:
    n_fft = params.n_fft or _spans.default_n_fft(sr)
    hop = params.hop_length or max(1, round(0.002 * sr))
    freqs = fft_frequencies(sr=sr, n_fft=n_fft)
    low, high = params.freq_range_hz or (0.0, sr / 2)
    if low >= sr / 2:
        raise ParameterError(
            f"freq_range_hz={params.freq_range_hz!r} starts above the Nyquist frequency "
            f"{sr / 2:g} Hz of a {sr:g} Hz recording; lower it"
        )
    band = (freqs >= low) & (freqs <= high)
    if band.sum() < 2:
        raise ParameterError(
            f"freq_range_hz={params.freq_range_hz!r} holds fewer than 2 FFT bins at "
            f"n_fft={n_fft}, sr={sr:g}; widen it or raise n_fft"
        )
    tau_min = max(2, int(sr // params.fmax_hz))
    tau_max = int(np.ceil(sr / params.fmin_hz))
    if tau_max < tau_min + 2:
        raise ParameterError(
            f"fmin_hz={params.fmin_hz:g} and fmax_hz={params.fmax_hz:g} leave no range of "
            f"periods at sr={sr:g} (periods of at least 2 samples); lower fmin_hz"
        )
    yin_window = tau_max
    context = max(n_fft, yin_window + tau_max) // 2 + 1
    return _Settings(
        sr=sr,
        n_fft=n_fft,
        hop=hop,
        band=band,
        freqs=freqs[band],
        tau_min=tau_min,
        tau_max=tau_max,
        yin_window=yin_window,
        context=context,
        params=params,
    )


# -- one recording and channel ----------------------------------------------------------------


def _group_features(group: _spans.Group, params: AcousticParams) -> np.ndarray:
    settings = _settings(params, float(group.recording.sr))
    sr = settings.sr
    spans = np.stack([group.start_s * sr, group.stop_s * sr], axis=1)
    margin = settings.context + settings.hop
    lo = np.floor(spans[:, 0]).astype(np.int64) - margin
    hi = np.ceil(spans[:, 1]).astype(np.int64) + margin
    out = np.empty((len(spans), len(ACOUSTIC_FEATURES)))
    for start, stop, members in _spans.merge_ranges(lo, hi, sr=sr):
        y = _spans.read_padded(group.recording, start, stop, channel=group.channel)
        out[members] = _segment_features(y, start, spans[members], settings)
    out[:, 0] = group.stop_s - group.start_s
    return out


def _segment_features(
    y: np.ndarray, start: int, spans: np.ndarray, settings: _Settings
) -> np.ndarray:
    """Features of syllables ``spans`` (fractional samples, absolute) within segment ``y``
    whose first sample is ``start``; shape ``(k, len(ACOUSTIC_FEATURES))``."""
    n_fft, hop, ctx = settings.n_fft, settings.hop, settings.context
    n_frames = (len(y) - 2 * ctx) // hop + 1
    centres = start + ctx + hop * np.arange(n_frames)  # absolute sample of each frame centre
    first, stop = _frame_ranges(spans, centres[0], hop, n_frames)

    out = np.full((len(spans), len(ACOUSTIC_FEATURES)), np.nan)
    power = power_spectrogram(y[ctx - n_fft // 2 :], n_fft=n_fft, hop_length=hop, center=False)
    power = power[settings.band, :n_frames].T.astype(np.float64)  # (n_frames, n_band)
    cumulative = np.concatenate([np.zeros((1, power.shape[1])), np.cumsum(power, axis=0)])
    spectrum = (cumulative[stop] - cumulative[first]) / (stop - first)[:, None]
    out[:, 1:5] = _spectral(spectrum, settings)

    L = settings.yin_window + settings.tau_max
    frames = np.lib.stride_tricks.sliding_window_view(y[ctx - L // 2 :], L)[::hop][:n_frames]
    f0 = settings.sr / _yin(frames, settings)
    out[:, 5:7] = _pitch(f0, centres / settings.sr, first, stop, settings.params)

    squares = np.concatenate([[0.0], np.cumsum(y.astype(np.float64) ** 2)])
    a = np.clip(np.round(spans[:, 0]).astype(np.int64) - start, 0, len(y))
    b = np.clip(np.round(spans[:, 1]).astype(np.int64) - start, 0, len(y))
    b = np.maximum(b, np.minimum(a + 1, len(y)))
    mean_square = (squares[b] - squares[a]) / np.maximum(b - a, 1)
    out[:, 7] = 10 * np.log10(np.maximum(mean_square, 10 ** (_FLOOR_DB / 10)))
    return out


def _frame_ranges(spans: np.ndarray, first_centre: int, hop: int, n_frames: int):
    """``[first, stop)`` frame indices whose centres lie in each span (at least one)."""
    first = np.ceil((spans[:, 0] - first_centre) / hop).astype(np.int64)
    stop = np.ceil((spans[:, 1] - first_centre) / hop).astype(np.int64)
    nearest = np.round((spans.mean(axis=1) - first_centre) / hop).astype(np.int64)
    empty = stop <= first
    first = np.where(empty, nearest, first)
    stop = np.where(empty, nearest + 1, stop)
    return np.clip(first, 0, n_frames - 1), np.clip(stop, 1, n_frames)


def _spectral(spectrum: np.ndarray, settings: _Settings) -> np.ndarray:
    """mean, peak, bandwidth, entropy of mean power spectra ``(k, n_band)``."""
    freqs = settings.freqs
    total = spectrum.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = spectrum / total
        mean_hz = p @ freqs
        logs = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), 0.0)
        entropy = -(p * logs).sum(axis=1) / np.log(len(freqs))
    # Peak: a parabola through the dB values of the top bin and its neighbours.
    db = 10 * np.log10(np.maximum(spectrum, 1e-30))
    top = np.clip(np.argmax(spectrum, axis=1), 1, len(freqs) - 2)
    rows = np.arange(len(spectrum))
    left, centre, right = db[rows, top - 1], db[rows, top], db[rows, top + 1]
    curvature = left - 2 * centre + right
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    peaked = np.argmax(spectrum, axis=1) == top  # the maximum is not at the band's edge
    bin_hz = settings.sr / settings.n_fft
    refined = freqs[top] + np.clip(shift, -0.5, 0.5) * bin_hz
    peak_hz = np.where(peaked, refined, freqs[np.argmax(spectrum, axis=1)])
    # Bandwidth: quantiles of cumulative power, linear within each bin's width.
    low_q, high_q = settings.params.bandwidth_quantiles
    band = _quantile_hz(p, high_q, freqs, bin_hz) - _quantile_hz(p, low_q, freqs, bin_hz)
    result = np.stack([mean_hz, peak_hz, band, entropy], axis=1)
    result[total[:, 0] <= 0] = np.nan
    return result


def _quantile_hz(p: np.ndarray, q: float, freqs: np.ndarray, bin_hz: float) -> np.ndarray:
    cum = np.cumsum(p, axis=1)
    index = np.minimum(np.argmax(cum >= q - 1e-12, axis=1), p.shape[1] - 1)
    rows = np.arange(len(p))
    before = np.where(index > 0, cum[rows, np.maximum(index - 1, 0)], 0.0)
    inside = p[rows, index]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.clip(np.where(inside > 0, (q - before) / inside, 0.5), 0.0, 1.0)
    return freqs[index] + (fraction - 0.5) * bin_hz


def _yin(frames: np.ndarray, settings: _Settings) -> np.ndarray:
    """Period in (fractional) samples of each frame ``(n, W + tau_max)``; NaN unvoiced."""
    W, tau_min, tau_max = settings.yin_window, settings.tau_min, settings.tau_max
    x = frames.astype(np.float64)
    size = scipy.fft.next_fast_len(x.shape[1] + W, real=True)
    cross = scipy.fft.irfft(
        scipy.fft.rfft(x, size, axis=1) * np.conj(scipy.fft.rfft(x[:, :W], size, axis=1)),
        size,
        axis=1,
    )[:, : tau_max + 1]
    energy = np.concatenate([np.zeros((len(x), 1)), np.cumsum(x**2, axis=1)], axis=1)
    lags = np.arange(tau_max + 1)
    shifted = energy[:, lags + W] - energy[:, lags]  # energy of x[tau : tau + W]
    diff = np.maximum(shifted[:, :1] + shifted - 2 * cross, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cmndf = diff[:, 1:] * lags[1:] / np.cumsum(diff[:, 1:], axis=1)
    cmndf = np.concatenate([np.ones((len(x), 1)), cmndf], axis=1)  # index = lag
    inner = np.arange(max(tau_min, 1), tau_max)  # lags with a neighbour on each side
    value = cmndf[:, inner]
    is_min = (value <= cmndf[:, inner - 1]) & (value < cmndf[:, inner + 1])
    candidates = is_min & (value < settings.params.yin_threshold)
    voiced = candidates.any(axis=1)
    tau = inner[np.argmax(candidates, axis=1)]
    rows = np.arange(len(x))
    # Refine on the raw difference function (YIN step 5): the normalised one is biased.
    left, centre, right = diff[rows, tau - 1], diff[rows, tau], diff[rows, tau + 1]
    curvature = left - 2 * centre + right
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(curvature > 0, 0.5 * (left - right) / curvature, 0.0)
    period = tau + np.clip(shift, -0.5, 0.5)
    return np.where(voiced, period, np.nan)


def _pitch(f0: np.ndarray, times_s: np.ndarray, first, stop, params: AcousticParams):
    """Median f0 and f0 slope per syllable over frames ``[first, stop)``; shape (k, 2)."""
    k = len(first)
    counts = stop - first
    owner = np.repeat(np.arange(k), counts)
    index = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    index += np.repeat(first, counts)
    values, times = f0[index], times_s[index]
    voiced = ~np.isnan(values)
    owner, values, times = owner[voiced], values[voiced], times[voiced]
    n_voiced = np.bincount(owner, minlength=k)
    out = np.full((k, 2), np.nan)
    enough = (n_voiced > 0) & (n_voiced >= params.min_voiced_fraction * counts)
    # Medians: sort by (owner, value); each syllable's voiced values are then contiguous.
    order = np.lexsort((values, owner))
    sorted_values = values[order]
    offset = np.cumsum(n_voiced) - n_voiced
    lower = offset + np.maximum(n_voiced - 1, 0) // 2
    upper = offset + n_voiced // 2
    has = n_voiced > 0
    out[has, 0] = 0.5 * (sorted_values[lower[has]] + sorted_values[upper[has]])
    # Slopes: least squares per syllable from sums (times relative to each syllable).
    t = times - times_s[first][owner]
    sum_t = np.bincount(owner, t, minlength=k)
    sum_f = np.bincount(owner, values, minlength=k)
    sum_tt = np.bincount(owner, t * t, minlength=k)
    sum_tf = np.bincount(owner, t * values, minlength=k)
    denominator = n_voiced * sum_tt - sum_t**2
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (n_voiced * sum_tf - sum_t * sum_f) / denominator
    out[:, 1] = np.where((n_voiced >= 2) & (denominator > 1e-18), slope, np.nan)
    out[~enough] = np.nan
    return out
