"""The ``time-freq`` detector: SongExplorer's default, thresholding in time and frequency.

Re-implemented from SongExplorer's description (``time-freq-threshold.py``):

- **time**: a sample is loud when ``|x - median| > time_sigma * MAD`` (median and median
  absolute deviation of the whole channel; with ``time_robust="mean"``, the mean and the
  standard deviation). Gaps shorter than ``time_smooth_ms`` are closed.
- **frequency**: the channel is cut into windows of ``freq_n_ms`` (a power of two in
  samples) overlapping by half. In each, Thomson's harmonic F-test (DPSS tapers,
  time-half-bandwidth ``freq_nw``) asks whether a sinusoid stands out of the noise at any
  frequency within ``freq_range_hz``; a window is tonal when some frequency has
  ``p < freq_rho / (4 * window samples)``: SongExplorer's correction for testing many
  frequencies (it divides by the length of its 4x zero-padded FFT), kept so that the same
  ``freq_rho`` means the same here. Each window speaks for the middle half of its samples.
  Tonal stretches shorter than ``freq_smooth_ms`` are dropped, then gaps shorter than it
  closed.
- Each threshold is a pair ``signal,noise``: the strict one finds the ``time`` and
  ``frequency`` events; the lax one finds everything that might be sound, and what it
  leaves is labelled ``neither``: intervals that are background by both criteria.

Median and MAD are exact whole-recording values computed by streaming, so running block by
block gives the same events as running on the whole file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sonotype.audio import Recording
from sonotype.checks import check_choice, check_number
from sonotype.detect.base import Detector, parse_pair, register_detector
from sonotype.detect.statistics import exact_quantiles
from sonotype.errors import ParameterError
from sonotype.intervals import close_gaps, complement, drop_short, union
from sonotype.spectral import multitaper

#: Samples per read when computing whole-recording statistics: fixed, so the statistics do
#: not depend on the block length the detection runs with.
_STATS_CHUNK = 1 << 20
#: F-test windows computed at once: bounds the memory of the tapered spectra...
_WINDOWS_PER_CHUNK = 2048
#: ...and of the per-window spectra (frequency bins times windows), which at high rates have
#: thousands of bins: 2048 windows of 8192 samples at 250 kHz would hold over 1 GB.
_BINS_PER_CHUNK = 1 << 21
#: Fewest samples in an F-test window.
_MIN_WINDOW = 8


@register_detector
@dataclass
class TimeFreq(Detector):
    """Threshold a recording in the time domain (amplitude) and the frequency domain
    (Thomson's harmonic F-test); events labelled ``time``, ``frequency`` and ``neither``.

    Parameters
    ----------
    time_sigma : str or pair
        ``"signal,noise"`` multiples of the MAD (or standard deviation) above which a sample
        is loud; default ``"9,4"``.
    time_smooth_ms : float
        Gaps shorter than this between loud samples are closed; default 6.4.
    time_robust : {"median", "mean"}
        Centre and spread: median and MAD (robust to loud song) or mean and standard
        deviation.
    freq_n_ms : float
        F-test window (25.6 ms is 64 samples at 2500 Hz, SongExplorer's default). It must be
        a power of two in samples: when the detector runs on a recording, another value
        becomes the nearest power of two (:meth:`for_rate`, with a note).
    freq_nw : float
        Time-half-bandwidth of the DPSS tapers (``2 * freq_nw - 1`` tapers are used).
    freq_rho : str or pair
        ``"signal,noise"`` family-wise false-positive rates of the F-test per window;
        default ``"0.1,1.0"``.
    freq_smooth_ms : float
        Tonal stretches shorter than this are dropped and gaps shorter than it closed;
        default 25.6.
    freq_range_hz : pair of float, optional
        Frequencies tested, ``(low, high)``; all by default. A ``high`` above half the
        sample rate is clipped to it when the detector runs on a recording.
    """

    name: ClassVar[str] = "time-freq"

    time_sigma: Any = "9,4"
    time_smooth_ms: float = 6.4
    time_robust: str = "median"
    freq_n_ms: float = 25.6
    freq_nw: float = 4.0
    freq_rho: Any = "0.1,1.0"
    freq_smooth_ms: float = 25.6
    freq_range_hz: Any = None

    def labels(self) -> tuple[str, ...]:
        return ("time", "frequency", "neither")

    def check(self, sr: int) -> None:
        sigma = parse_pair(self.time_sigma, "time_sigma", default="9,4")
        rho = parse_pair(self.freq_rho, "freq_rho", default="0.1,1.0")
        if sigma.signal <= 0 or sigma.noise <= 0:
            raise ParameterError(f"time_sigma={self.time_sigma!r} must be positive; default 9,4")
        if not (0 < rho.signal <= 1 and 0 < rho.noise <= 1):
            raise ParameterError(
                f"freq_rho={self.freq_rho!r} must be two rates in (0, 1]; the default is 0.1,1.0"
            )
        check_choice(self.time_robust, name="time_robust", choices=("median", "mean"))
        for name in ("time_smooth_ms", "freq_smooth_ms", "freq_n_ms", "freq_nw"):
            check_number(getattr(self, name), name=name, minimum=0, inclusive="neither")
        n = round(self.freq_n_ms / 1000 * sr)
        if not _power_of_two(n):
            lower = 2 ** max(3, math.floor(math.log2(max(n, 1))))
            upper = 2 ** max(4, math.ceil(math.log2(max(n, 1))))
            raise ParameterError(
                f"freq_n_ms={self.freq_n_ms:g} is {n} samples at {sr} Hz; it must be a power of "
                f"two of at least 8 samples: try {1000 * lower / sr:g} ms ({lower} samples) or "
                f"{1000 * upper / sr:g} ms ({upper} samples)"
            )
        if 2 * self.freq_nw - 1 < 1 or 2 * self.freq_nw >= n:
            raise ParameterError(
                f"freq_nw={self.freq_nw:g} must be at least 1 and below half the window "
                f"({n} samples); 4 suits most windows"
            )
        if self.freq_range_hz is not None:
            low, high = self._band(sr)
            if not 0 <= low < high <= sr / 2:
                raise ParameterError(
                    f"freq_range_hz={self.freq_range_hz!r} must be (low, high) with "
                    f"0 <= low < high <= {sr / 2:g} Hz (half the sample rate)"
                )

    def for_rate(self, sr: int) -> tuple[TimeFreq, tuple[str, ...]]:
        """This detector at ``sr`` Hz: ``freq_n_ms`` becomes the nearest power of two of
        samples (on a log scale: 25.6 ms is 1024 samples at 32 and 44.1 kHz, 8192 at
        250 kHz), and a ``freq_range_hz`` reaching above half the sample rate is clipped to
        it, each with a note. Values :meth:`check` would refuse anyway are left to it."""
        changes, notes = {}, []
        n = self.freq_n_ms / 1000 * sr if _positive(self.freq_n_ms) else None
        if n is not None and not _power_of_two(round(n)):
            n2 = max(_MIN_WINDOW, 2 ** round(math.log2(n)))
            changes["freq_n_ms"] = 1000 * n2 / sr
            notes.append(
                f"time-freq: freq_n_ms={self.freq_n_ms:g} is {n:.4g} samples at {sr} Hz, not a "
                f"power of two; using {n2} samples ({changes['freq_n_ms']:.4g} ms)"
            )
        if self.freq_range_hz is not None:
            try:
                low, high = self._band(sr)
            except ParameterError:
                low = high = None  # check() says what is wrong with it
            if high is not None and low < sr / 2 < high:
                changes["freq_range_hz"] = (low, sr / 2)
                notes.append(
                    f"time-freq: freq_range_hz reaches {high:g} Hz, above half the sample rate "
                    f"({sr / 2:g} Hz at {sr} Hz); testing {low:g}-{sr / 2:g} Hz"
                )
        return self._replace(**changes), tuple(notes)

    def context(self, sr: int) -> int:
        return self._n(sr)

    def frame_step(self, sr: int) -> int:
        return self._n(sr) // 2

    def statistics(self, recording: Recording, *, channel: int, block_s: float) -> dict:
        def stream():
            for start in range(0, recording.frames, _STATS_CHUNK):
                stop = min(start + _STATS_CHUNK, recording.frames)
                yield recording.read_frames(start, stop, channel=channel)[0]

        if self.time_robust == "mean":
            total = total_sq = 0.0
            for block in stream():
                block = block.astype(np.float64)
                total += block.sum()
                total_sq += (block * block).sum()
            centre = total / recording.frames
            spread = math.sqrt(max(total_sq / recording.frames - centre**2, 0.0))
        else:
            (centre,) = exact_quantiles(stream, [0.5])

            def deviations():
                for block in stream():
                    yield np.abs(block.astype(np.float64) - centre)

            (spread,) = exact_quantiles(deviations, [0.5])
        return {"centre": float(centre), "spread": float(spread)}

    def masks(self, y: np.ndarray, *, sr: int, start: int, stats: Mapping[str, Any]):
        sigma = parse_pair(self.time_sigma, "time_sigma", default="9,4")
        deviation = np.abs(y.astype(np.float64) - stats["centre"])
        out = {
            "time": deviation > sigma.signal * stats["spread"],
            "time_noise": deviation > sigma.noise * stats["spread"],
        }
        out["frequency"], out["frequency_noise"] = self._tonal(y, sr=sr)
        return out

    def stream_gap(self, label: str, sr: int) -> int:
        # The time labels are only closed in finish; the frequency ones are opened first.
        return self._time_gap(sr) if label.startswith("time") else 0

    def finish(self, intervals, *, sr: int, n_samples: int):
        time_gap = self._time_gap(sr)
        freq_len = max(1, round(self.freq_smooth_ms / 1000 * sr))
        time, time_noise = (close_gaps(intervals[k], time_gap) for k in ("time", "time_noise"))
        frequency, frequency_noise = (
            close_gaps(drop_short(intervals[k], freq_len), freq_len)
            for k in ("frequency", "frequency_noise")
        )
        return {
            "time": time,
            "frequency": frequency,
            "neither": complement(union(time_noise, frequency_noise), n_samples),
        }

    # -- helpers ---------------------------------------------------------------------------------

    def _time_gap(self, sr: int) -> int:
        return max(1, round(self.time_smooth_ms / 1000 * sr))

    def _n(self, sr: int) -> int:
        return round(self.freq_n_ms / 1000 * sr)

    def _band(self, sr: int) -> tuple[float, float]:
        if self.freq_range_hz is None:
            return 0.0, sr / 2
        parts = self.freq_range_hz
        if isinstance(parts, str):
            parts = parts.split(",")
        try:
            low, high = (float(v) for v in parts)
        except (TypeError, ValueError):
            raise ParameterError(
                f"freq_range_hz={self.freq_range_hz!r} must be two frequencies 'low,high' in Hz"
            ) from None
        return low, high

    def _tonal(self, y: np.ndarray, *, sr: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample masks of the windows where the F-test finds a line (signal, noise)."""
        n = self._n(sr)
        hop = n // 2
        signal = np.zeros(len(y), bool)
        noise = np.zeros(len(y), bool)
        if len(y) < n:
            return signal, noise
        smallest_p = np.concatenate(list(self._smallest_p(y, sr=sr, n=n, hop=hop)))
        rho = parse_pair(self.freq_rho, "freq_rho", default="0.1,1.0")
        # Window i speaks for the middle half of its samples: [i*hop + n/4, i*hop + 3n/4).
        first = n // 4
        for mask, rate in ((signal, rho.signal), (noise, rho.noise)):
            windows = smallest_p < rate / (4 * n)
            owned = np.repeat(windows, hop)
            mask[first : first + len(owned)] = owned[: len(mask) - first]
        return signal, noise

    def _smallest_p(self, y: np.ndarray, *, sr: int, n: int, hop: int):
        """The smallest F-test p-value within the band, per window, a chunk of windows at a
        time (the tapered spectra of a whole block would take hundreds of MB)."""
        low, high = self._band(sr)
        n_windows = 1 + (len(y) - n) // hop
        per_chunk = max(1, min(_WINDOWS_PER_CHUNK, _BINS_PER_CHUNK // (n // 2 + 1)))
        for first in range(0, n_windows, per_chunk):
            count = min(per_chunk, n_windows - first)
            piece = y[first * hop : first * hop + (count - 1) * hop + n]
            result = multitaper(
                piece, sr=sr, n_fft=n, hop_length=hop, nw=self.freq_nw, center=False
            )
            band = (result.frequencies_hz >= low) & (result.frequencies_hz <= high)
            yield result.p_value[band].min(axis=0)


def _power_of_two(n: int) -> bool:
    """Whether ``n`` is a power of two of at least :data:`_MIN_WINDOW`."""
    return n >= _MIN_WINDOW and not n & (n - 1)


def _positive(value: Any) -> bool:
    try:
        return math.isfinite(value) and value > 0
    except TypeError:
        return False
