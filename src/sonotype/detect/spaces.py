"""What each detector's tuning may change: its searchable parameters and their ranges.

A search space is declared per detector, in a registry keyed by the detector's name (a
plugin detector may instead define a ``search_space(*, sr, summary)`` classmethod). Ranges
derive from the sample rate and from the annotated events: their durations, the gaps between
them and, where the annotations carry ``low_hz`` / ``high_hz``, their frequency band. Every
range is wide enough to hold the detector's defaults where those make sense at that rate.

The sampled values are rounded to three significant digits before they become parameters,
so that what is scored is exactly what is written to ``sonotype.toml``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError
from sonotype.registry import Registry


@dataclass(frozen=True)
class Dimension:
    """One searched value: a float in ``[low, high]`` (log-uniform when ``log``) or an
    integer when ``integer``."""

    name: str
    low: float
    high: float
    log: bool = False
    integer: bool = False


@dataclass(frozen=True)
class SearchSpace:
    """The searched values of a detector and how they become its parameters.

    Attributes
    ----------
    dimensions : tuple of Dimension
    to_params : callable
        Maps ``{dimension name: value}`` to the detector's keyword parameters (fixed ones
        included).
    start : dict
        A first point to try (the detector's defaults, clipped into the ranges), so a
        search never ends worse, on its own recordings, than the defaults clipped.
    segment_labels : tuple of str, optional
        The detector's labels that are sounds (their union is the detection); ``None``: all.
    """

    dimensions: tuple[Dimension, ...]
    to_params: Callable[[dict[str, float]], dict[str, Any]]
    start: Mapping[str, float] = field(default_factory=dict)
    segment_labels: tuple[str, ...] | None = None

    def start_point(self) -> dict[str, float]:
        """:attr:`start` clipped into the ranges (names outside the space left out)."""
        point = {}
        for dim in self.dimensions:
            if dim.name in self.start:
                value = min(max(self.start[dim.name], dim.low), dim.high)
                point[dim.name] = round(value) if dim.integer else float(value)
        return point


@dataclass(frozen=True)
class AnnotationSummary:
    """What the search ranges are derived from: percentiles of the annotated events.

    Durations and gaps are in ms (gaps between consecutive events of a recording and
    channel; ``nan`` when there are none); ``band_hz`` is (5th percentile of ``low_hz``,
    95th of ``high_hz``) when most events carry a band, else ``None``; ``points`` is true
    when every event is a point (``start_s == stop_s``).
    """

    duration_ms_p5: float
    duration_ms_p50: float
    gap_ms_p5: float
    band_hz: tuple[float, float] | None
    points: bool

    @classmethod
    def of(cls, events: pd.DataFrame) -> AnnotationSummary:
        durations = (events["stop_s"] - events["start_s"]).to_numpy(np.float64) * 1000
        ordered = events.sort_values(["recording", "channel", "start_s"], kind="stable")
        same = (ordered["recording"].to_numpy()[1:] == ordered["recording"].to_numpy()[:-1]) & (
            ordered["channel"].to_numpy()[1:] == ordered["channel"].to_numpy()[:-1]
        )
        gaps = ordered["start_s"].to_numpy()[1:] - ordered["stop_s"].to_numpy()[:-1]
        gaps = gaps[same & (gaps >= 0)] * 1000
        band = None
        if {"low_hz", "high_hz"} <= set(events.columns):
            low = pd.to_numeric(events["low_hz"], errors="coerce").to_numpy(np.float64)
            high = pd.to_numeric(events["high_hz"], errors="coerce").to_numpy(np.float64)
            known = np.isfinite(low) & np.isfinite(high) & (high > low)
            if known.mean() > 0.5:
                band = (float(np.percentile(low[known], 5)), float(np.percentile(high[known], 95)))
        return cls(
            duration_ms_p5=float(np.percentile(durations, 5)) if len(durations) else math.nan,
            duration_ms_p50=float(np.median(durations)) if len(durations) else math.nan,
            gap_ms_p5=float(np.percentile(gaps, 5)) if len(gaps) else math.nan,
            band_hz=band,
            points=bool(len(durations)) and bool((durations == 0).all()),
        )


SpaceFactory = Callable[..., SearchSpace]

SEARCH_SPACES: Registry[SpaceFactory] = Registry(
    "detector search space", entry_point_group="sonotype.search_spaces"
)


def search_space(method: str, *, sr: int, summary: AnnotationSummary) -> SearchSpace:
    """The search space of detector ``method`` at sample rate ``sr``.

    Raises
    ------
    ParameterError
        When the detector declares no search space.
    """
    from sonotype.detect.base import DETECTORS

    cls = DETECTORS.get(method)
    factory = getattr(cls, "search_space", None)
    if factory is None:
        if method not in SEARCH_SPACES.names():
            raise ParameterError(
                f"detector {method!r} declares no searchable parameters; tunable detectors: "
                f"{', '.join(SEARCH_SPACES.names())}"
            )
        factory = SEARCH_SPACES.get(method)
    return factory(sr=sr, summary=summary)


def round_significant(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits (0 stays 0).

    Examples
    --------
    >>> round_significant(31234.5678), round_significant(0.0123456)
    (31200.0, 0.0123)
    """
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(round(value, digits - 1 - math.floor(math.log10(abs(value)))))


def _or(value: float, fallback: float) -> float:
    return fallback if not math.isfinite(value) else value


# -- amplitude ----------------------------------------------------------------------------


@SEARCH_SPACES.register("amplitude")
def amplitude_space(*, sr: int, summary: AnnotationSummary) -> SearchSpace:
    """Band, smoothing, noise-relative thresholds with hysteresis, and the minimum gap
    and duration of the ``amplitude`` detector.

    - ``low_hz`` / ``high_hz``: with annotated bands, from a quarter of the annotated low
      edge up to it, and from the annotated high edge up to twice it; otherwise from 0.5 %
      to 20 % and from 30 % to 98 % of the Nyquist frequency.
    - ``smooth_ms``: 2 samples (or 0.1 ms) to half the median duration (at most 30 ms).
    - ``noise_factor`` 2-1000 (log; the noise floor stays the detector's quantile, since a
      different quantile only rescales the factor), and ``offset_ratio`` 0.05-1: the offset
      threshold as a fraction of the onset one (1: no hysteresis).
    - ``min_silence_ms``: 0 to the 5th percentile of the annotated gaps (at least 1 ms), so
      a gap annotators keep is never closed; ``min_duration_ms``: 0 to the 5th percentile
      of the annotated durations.
    """
    nyquist = sr / 2
    if summary.band_hz is not None:
        band_low, band_high = summary.band_hz
        band_low = min(max(band_low, 0.002 * nyquist), 0.9 * nyquist)
        band_high = min(max(band_high, band_low * 1.1), 0.98 * nyquist)
        low = Dimension("low_hz", band_low / 4, band_low, log=True)
        high = Dimension("high_hz", band_high, min(2 * band_high, 0.98 * nyquist), log=True)
    else:
        low = Dimension("low_hz", 0.005 * nyquist, 0.2 * nyquist, log=True)
        high = Dimension("high_hz", 0.3 * nyquist, 0.98 * nyquist, log=True)
    smooth_low = max(2000 / sr, 0.1)
    smooth_high = max(smooth_low * 4, min(30.0, _or(summary.duration_ms_p50, 20.0) / 2))
    dimensions = (
        low,
        high,
        Dimension("smooth_ms", smooth_low, smooth_high, log=True),
        Dimension("noise_factor", 2.0, 1000.0, log=True),
        Dimension("offset_ratio", 0.05, 1.0),
        Dimension("min_silence_ms", 0.0, max(1.0, _or(summary.gap_ms_p5, 5.0))),
        Dimension("min_duration_ms", 0.0, max(1.0, _or(summary.duration_ms_p5, 20.0))),
    )
    start = {
        "low_hz": 500.0,
        "high_hz": 10000.0,
        "smooth_ms": 2.0,
        "noise_factor": 20.0,
        "offset_ratio": 1.0,
        "min_silence_ms": 5.0,
        "min_duration_ms": 20.0,
    }
    return SearchSpace(dimensions, _amplitude_params, start, ("syllable",))


def _amplitude_params(values: Mapping[str, float]) -> dict[str, Any]:
    v = {name: round_significant(value) for name, value in values.items()}
    params = {
        "threshold_mode": "noise",
        "low_hz": v["low_hz"],
        "high_hz": v["high_hz"],
        "smooth_ms": v["smooth_ms"],
        "noise_factor": v["noise_factor"],
        "min_silence_ms": v["min_silence_ms"],
        "min_duration_ms": v["min_duration_ms"],
    }
    if v["offset_ratio"] < 1:
        params["onset_threshold"] = v["noise_factor"]
        params["offset_threshold"] = round_significant(v["noise_factor"] * v["offset_ratio"])
    return params


# -- time-freq ----------------------------------------------------------------------------


@SEARCH_SPACES.register("time-freq")
def time_freq_space(*, sr: int, summary: AnnotationSummary) -> SearchSpace:
    """The signal thresholds and smoothing of the ``time-freq`` detector; its sounds are
    the union of its ``time`` and ``frequency`` events.

    - ``time_sigma`` (signal) 2-50 MADs (log); the noise threshold, which only shapes
      ``neither`` events, stays at 4 (or the signal value when lower).
    - ``time_smooth_ms`` 0.5-50 ms (log, at least 2 samples).
    - ``freq_n`` the F-test window as a power of two: 16 samples up to about 50 ms;
      ``freq_rho`` (signal) 1e-4 to 1 (log); ``freq_smooth_ms`` one window to 100 ms.
    - ``freq_range_hz``: the annotated band when the annotations carry one, else all.
    """
    low_exponent = 4
    high_exponent = max(low_exponent, math.floor(math.log2(sr * 0.05)))
    smooth_low = max(0.5, 2000 / sr)
    dimensions = (
        Dimension("time_sigma", 2.0, 50.0, log=True),
        Dimension("time_smooth_ms", smooth_low, max(50.0, smooth_low * 4), log=True),
        Dimension("freq_n", low_exponent, high_exponent, integer=True),
        Dimension("freq_rho", 1e-4, 1.0, log=True),
        Dimension("freq_smooth_fraction", 0.0, 1.0),
    )
    band = summary.band_hz

    def to_params(values: Mapping[str, float]) -> dict[str, Any]:
        sigma = round_significant(values["time_sigma"])
        n = 2 ** int(values["freq_n"])
        window_ms = 1000 * n / sr
        # From one window (the shortest tonal stretch the F-test resolves) to 100 ms.
        smooth = window_ms + values["freq_smooth_fraction"] * max(0.0, 100.0 - window_ms)
        params = {
            "time_sigma": f"{sigma:g},{min(4.0, sigma):g}",
            "time_smooth_ms": round_significant(values["time_smooth_ms"]),
            "freq_n_ms": window_ms,
            "freq_rho": f"{round_significant(values['freq_rho']):g},1.0",
            "freq_smooth_ms": round_significant(smooth),
        }
        if band is not None:
            params["freq_range_hz"] = [
                round_significant(band[0]),
                min(round_significant(band[1]), sr / 2),
            ]
        return params

    start = {"time_sigma": 9.0, "time_smooth_ms": 6.4, "freq_n": 6, "freq_rho": 0.1}
    return SearchSpace(dimensions, to_params, start, ("time", "frequency"))
