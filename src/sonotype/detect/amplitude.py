"""The ``amplitude`` detector: syllables where the smoothed power of the song crosses a threshold.

This is the segmentation of evsonganaly (Tumer & Brainard 2007; ``SmoothData.m`` and
``SegmentNotes.m``), used by the Bengalese Finch Song Repository and, in spirit, by AVA and
most songbird pipelines:

1. band-pass the song with a 512th-order FIR (Hamming window, 500-10000 Hz by default),
   forward and backward (zero phase); the order is 16 ms of samples (``filter_ms``), 512 at
   evsonganaly's 32 kHz, so that the filter rings as long, and its band edges are as sharp
   in Hz, at any rate;
2. square it and average over a centred boxcar of ``round(sr * smooth_ms / 1000)`` samples:
   the *envelope*, in squared sample units scaled by ``amplitude_scale`` (32768, so that a
   16-bit recording, which sonotype reads as floats in [-1, 1), is in evsonganaly's raw
   integer units and the thresholds stored in ``.not.mat`` files apply as they are);
3. a syllable is a run of samples whose envelope is strictly greater than the threshold;
   with separate thresholds, it starts where the envelope rises above ``onset_threshold``
   and ends where it falls to ``offset_threshold`` or below (hysteresis);
4. silent gaps of at most ``min_silence_ms`` are closed (evsonganaly keeps gaps longer than
   ``min_int``), then syllables of at most ``min_duration_ms`` are dropped (it keeps those
   longer than ``min_dur``);
5. optionally (``onset_db``, ``offset_db``; not in evsonganaly), each syllable's boundaries
   move to where its envelope crosses a level set relative to that syllable's own peak:
   a loud syllable whose tail decays slowly ends where the tail falls ``offset_db`` below
   its peak, not where it crosses a threshold set for the whole recording.

The threshold is absolute (``threshold_mode="absolute"``, evsonganaly) or a multiple of the
recording's noise floor (``"noise"``, the default): ``noise_factor`` times the
``noise_quantile`` quantile of the envelope over the whole recording, computed exactly by
streaming.

Differences from evsonganaly, all confined to the first and last ~20 ms of a file: the
forward-backward filter is applied as one zero-phase convolution, with the song taken as zero
beyond its ends (MATLAB's ``filtfilt`` extends it by odd reflection), and evsonganaly shortens
its filter for songs under 1539 samples. Times are sample indices over the rate: a syllable
covers samples ``[onset, offset)``; MATLAB's 1-based indices put evsonganaly's times one
sample (0.03 ms at 32 kHz) later.

Every envelope sample depends only on the song within :meth:`Amplitude.context` of it and is
computed with block-independent arithmetic (:mod:`sonotype.detect.filters`), so a block-wise
run gives exactly the events of a whole-file run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from sonotype.audio import Recording
from sonotype.checks import check_choice, check_number
from sonotype.detect.base import Detector, register_detector
from sonotype.detect.filters import (
    aligned_context,
    aligned_convolve,
    fir_bandpass,
    moving_sum,
    segment_fft_size,
    zero_phase,
)
from sonotype.detect.statistics import exact_quantiles
from sonotype.errors import ParameterError
from sonotype.intervals import Intervals, close_gaps, drop_short

#: Samples per read when streaming the envelope for the noise floor: fixed, so that the
#: statistics are computed the same way whatever block length the detection runs with.
_STATS_CHUNK = 1 << 20

#: Digital silence, in full scale: the least significant bit of a 24-bit recording. Envelope
#: values below its square (times ``amplitude_scale`` squared) are silence, not noise.
_SILENCE_FS = 2.0**-24

#: Float slack when converting a duration in ms to a count of samples, so that 6 ms at
#: 32 kHz is 192 samples, not 191.99999999999997.
_EPS = 1e-6

THRESHOLD_MODES = ("absolute", "noise")

#: Farthest a peak-relative boundary moves out of the thresholded syllable: a tail, not a
#: neighbouring sound.
_REFINE_REACH_S = 0.1


@register_detector
@dataclass
class Amplitude(Detector):
    """Syllables where the band-passed, squared and smoothed song exceeds a threshold
    (evsonganaly's segmentation); events labelled ``syllable``.

    Parameters
    ----------
    low_hz, high_hz : float or None
        Pass band of the FIR filter in Hz (default 500-10000, as evsonganaly); ``None``
        drops that edge (``high_hz=None`` is a high-pass; both ``None``, no filter).
        A ``high_hz`` at or above half the sample rate is dropped when the detector runs on
        a recording (:meth:`for_rate`, with a note); ``low_hz`` must be below it.
    filter_ms : float
        Order of the FIR filter in ms of samples (default 16: 512 at 32 kHz, evsonganaly's
        ``fir1(512, ...)``), rounded to an even number of samples, at least 2.
    smooth_ms : float
        Width of the boxcar that averages the squared song, in ms (evsonganaly's ``sm_win``;
        default 2).
    threshold_mode : {"noise", "absolute"}
        ``"absolute"``: thresholds are envelope values (evsonganaly). ``"noise"`` (default):
        thresholds are multiples of the noise floor, the ``noise_quantile`` quantile of the
        envelope over the whole recording.
    threshold : float, optional
        The envelope value above which a sample is song, in ``"absolute"`` mode (required
        there unless both ``onset_threshold`` and ``offset_threshold`` are given). In
        evsonganaly's units (squared 16-bit sample values): 1500 in the Bengalese Finch Song
        Repository's ``.not.mat`` files.
    noise_factor : float
        In ``"noise"`` mode, the threshold as a multiple of the noise floor (default 20:
        13 dB over it; with the other defaults, factors of 20 to 80 score alike on zebra
        finch song).
    noise_quantile : float
        Quantile of the envelope taken as the noise floor, in [0, 1] (default 0.2: a song
        recording is silent at least a fifth of the time). Digital silence (stretches of
        exact zeros, such as padding; an envelope below a 24-bit least significant bit) is
        left out, so it does not pull the floor, and the threshold, down to zero.
    onset_threshold, offset_threshold : float, optional
        Hysteresis: a syllable starts when the envelope rises above ``onset_threshold`` and
        ends when it falls to ``offset_threshold`` or below; each defaults to the threshold
        (``threshold`` or ``noise_factor``) and, like it, is an envelope value in
        ``"absolute"`` mode and a multiple of the noise floor in ``"noise"`` mode.
        ``onset_threshold`` must be at least ``offset_threshold``.
    min_silence_ms : float
        Silent gaps of at most this are closed (evsonganaly's ``min_int``; default 5).
    min_duration_ms : float
        Syllables of at most this, after closing gaps, are dropped (evsonganaly's
        ``min_dur``; default 20).
    onset_db, offset_db : float, optional
        Boundaries relative to each syllable's peak (off by default): after the steps
        above, a syllable starts where its envelope first rises above ``onset_db`` below its
        peak and ends where it last falls to ``offset_db`` below it. A boundary inside the
        syllable moves in; one whose envelope is still above that level moves out, until
        the envelope falls to it, but never past the quietest point before the next sound,
        into a neighbouring syllable, more than 100 ms, or (in ``"noise"`` mode) below
        twice the noise floor (3 dB over it).
    amplitude_scale : float
        Factor applied to the samples before squaring (default 32768: a 16-bit recording,
        read as floats in [-1, 1), in raw integer units as evsonganaly sees it).

    Examples
    --------
    Reproduce the segmentation stored in an evsonganaly file:

    >>> from sonotype.annotations.formats.notmat import read_notmat_segmentation
    >>> from sonotype.detect import detect_recording
    >>> p = read_notmat_segmentation("song.cbin.not.mat")  # doctest: +SKIP
    >>> detector = Amplitude(threshold_mode="absolute", threshold=p["threshold"],
    ...                      smooth_ms=p["sm_win_ms"], min_silence_ms=p["min_int_ms"],
    ...                      min_duration_ms=p["min_dur_ms"])  # doctest: +SKIP
    >>> events = detect_recording(detector, "song.cbin", channels=[0])  # doctest: +SKIP
    """

    name: ClassVar[str] = "amplitude"

    low_hz: float | None = 500.0
    high_hz: float | None = 10000.0
    filter_ms: float = 16.0
    smooth_ms: float = 2.0
    threshold_mode: str = "noise"
    threshold: float | None = None
    noise_factor: float = 20.0
    noise_quantile: float = 0.2
    onset_threshold: float | None = None
    offset_threshold: float | None = None
    min_silence_ms: float = 5.0
    min_duration_ms: float = 20.0
    onset_db: float | None = None
    offset_db: float | None = None
    amplitude_scale: float = 32768.0

    def labels(self) -> tuple[str, ...]:
        return ("syllable",)

    # -- parameters ------------------------------------------------------------------------

    def check(self, sr: int) -> None:
        """Raise :class:`~sonotype.errors.ParameterError` for parameters unusable at ``sr``."""
        self._check_envelope(sr)
        self._check_thresholds()

    def for_rate(self, sr: int) -> tuple[Amplitude, tuple[str, ...]]:
        """This detector at ``sr`` Hz: a ``high_hz`` at or above half the sample rate is
        dropped (the recording holds nothing above it, so the filter becomes a high-pass),
        with a note saying so."""
        nyquist = sr / 2
        if _finite(self.high_hz) and self.high_hz >= nyquist:
            note = (
                f"amplitude: high_hz={self.high_hz:g} is not below half the sample rate "
                f"({nyquist:g} Hz at {sr} Hz); using no low-pass edge (high_hz=None)"
            )
            return self._replace(high_hz=None), (note,)
        return self, ()

    def _check_envelope(self, sr: int) -> None:
        nyquist = sr / 2
        for name in ("low_hz", "high_hz"):
            value = getattr(self, name)
            if value is not None:
                edge = "high-pass" if name == "low_hz" else "low-pass"
                check_number(
                    value, name=name, minimum=0, inclusive="neither", unit="Hz",
                    hint=f"or None for no {edge} edge",
                )  # fmt: skip
        if self.high_hz is not None and self.high_hz >= nyquist:
            raise ParameterError(
                f"high_hz={self.high_hz:g} must be below half the sample rate, {nyquist:g} Hz "
                f"at sr={sr}; lower high_hz (e.g. {0.45 * sr:g}) or pass high_hz=None for no "
                "low-pass edge"
            )
        if self.low_hz is not None and self.low_hz >= nyquist:
            raise ParameterError(
                f"low_hz={self.low_hz:g} must be below half the sample rate, {nyquist:g} Hz "
                f"at sr={sr}"
            )
        if self.low_hz is not None and self.high_hz is not None and self.low_hz >= self.high_hz:
            raise ParameterError(
                f"low_hz={self.low_hz:g} must be below high_hz={self.high_hz:g}; the defaults "
                "are 500 and 10000"
            )
        check_number(
            self.filter_ms, name="filter_ms", minimum=0, inclusive="neither", unit="ms",
            default="16 (512 samples at 32 kHz, as evsonganaly)",
        )  # fmt: skip
        check_number(
            self.smooth_ms, name="smooth_ms", minimum=0, inclusive="neither", unit="ms", default=2
        )
        if _round_half_up(sr * self.smooth_ms / 1000) < 1:
            raise ParameterError(
                f"smooth_ms={self.smooth_ms:g} is less than one sample at sr={sr}; use at "
                f"least {1000 / sr:.3g} ms"
            )
        for name, default in (("min_silence_ms", 5), ("min_duration_ms", 20)):
            check_number(getattr(self, name), name=name, minimum=0, unit="ms", default=default)
        for name in ("onset_db", "offset_db"):
            value = getattr(self, name)
            if value is not None:
                check_number(
                    value, name=name, minimum=0, inclusive="neither", unit="dB",
                    hint="it is how far below each syllable's peak its edges lie, or None to "
                    "keep the threshold's boundary",
                )  # fmt: skip
        check_number(
            self.amplitude_scale, name="amplitude_scale", minimum=0, inclusive="neither",
            default="32768, which puts 16-bit audio in raw integer units",
        )  # fmt: skip

    def _check_thresholds(self) -> None:
        check_choice(
            self.threshold_mode, name="threshold_mode", choices=THRESHOLD_MODES,
            hint="'noise' is a multiple of the noise floor, 'absolute' an envelope value",
        )  # fmt: skip
        for name in ("threshold", "onset_threshold", "offset_threshold"):
            if getattr(self, name) is not None:
                check_number(getattr(self, name), name=name, minimum=0)
        if self.threshold_mode == "noise":
            if self.threshold is not None:
                raise ParameterError(
                    f"threshold={self.threshold:g} applies only with "
                    "threshold_mode='absolute'; pass threshold_mode='absolute', or set "
                    "noise_factor for a threshold relative to the noise floor"
                )
            check_number(
                self.noise_factor, name="noise_factor", minimum=0, inclusive="neither", default=20
            )
            check_number(
                self.noise_quantile, name="noise_quantile", minimum=0, maximum=1, default=0.2
            )
        elif self.threshold is None and None in (self.onset_threshold, self.offset_threshold):
            raise ParameterError(
                "threshold_mode='absolute' needs threshold=VALUE (an envelope value: 1500 in "
                "evsonganaly's units suits the Bengalese Finch Song Repository), or both "
                "onset_threshold and offset_threshold"
            )
        onset, offset = self._thresholds(1.0)
        if onset < offset:
            raise ParameterError(
                f"onset_threshold={onset:g} must be at least offset_threshold={offset:g}: a "
                "syllable starts above the onset threshold and lasts until the envelope falls "
                "to the offset threshold"
            )

    def smooth_samples(self, sr: int) -> int:
        """Boxcar width in samples: ``round(sr * smooth_ms / 1000)``, halves rounded up
        (as MATLAB's ``round``)."""
        return max(1, _round_half_up(sr * self.smooth_ms / 1000))

    def context(self, sr: int) -> int:
        """Filter reach (half the zero-phase kernel plus one FFT segment) plus half the boxcar."""
        reach = self.smooth_samples(sr) // 2 + 1
        kernel = self._kernel(sr)
        if kernel is not None:
            reach += aligned_context(len(kernel), segment_fft_size(len(kernel)))
        return reach

    # -- the envelope ----------------------------------------------------------------------

    def envelope(self, y: np.ndarray, *, sr: int) -> np.ndarray:
        """The smoothed power of a whole signal, as the detector thresholds it.

        Parameters
        ----------
        y : ndarray, shape (samples,)
            One channel, floats in [-1, 1] (as :class:`~sonotype.audio.Recording` reads).
        sr : int
            Sample rate in Hz.

        Returns
        -------
        ndarray, float64, shape (samples,)
            Band-passed, squared, boxcar-averaged ``y * amplitude_scale``, zero beyond the
            ends of ``y``.
        """
        self._check_envelope(sr)
        y = np.asarray(y)
        env, env_start = self._envelope(y, sr=sr, start=0, n_samples=len(y))
        return env[-env_start : -env_start + len(y)]

    def filter_order(self, sr: int) -> int:
        """FIR order at ``sr``: the even number of samples nearest ``filter_ms``, at least 2."""
        return max(2, 2 * _round_half_up(sr * self.filter_ms / 2000))

    def _kernel(self, sr: int) -> np.ndarray | None:
        if self.low_hz is None and self.high_hz is None:
            return None
        return _zero_phase_kernel(sr, self.low_hz, self.high_hz, self.filter_order(sr))

    def _envelope(
        self, y: np.ndarray, *, sr: int, start: int, n_samples: int
    ) -> tuple[np.ndarray, int]:
        """Envelope of the block ``y`` (samples ``[start, start + len(y))`` of a signal of
        ``n_samples``) wherever the block holds enough context; returns it and the index of
        its first sample. Each value is bit-identical to a whole-signal computation."""
        width = self.smooth_samples(sr)
        kernel = self._kernel(sr)
        reach = self.context(sr)
        stop = start + len(y)
        # Beyond the ends of the recording the song is zero: pad there, and only there.
        pad_left = reach if start == 0 else 0
        pad_right = reach if stop == n_samples else 0
        x = np.zeros(pad_left + len(y) + pad_right)
        x[pad_left : pad_left + len(y)] = y
        x[pad_left : pad_left + len(y)] *= self.amplitude_scale
        x_start = start - pad_left
        if kernel is None:
            filtered, f_start = x, x_start
        else:
            filtered, f_start = aligned_convolve(
                x, kernel, start=x_start, n_fft=segment_fft_size(len(kernel))
            )
        # The filtered song exists only within the recording (evsonganaly smooths it with
        # zeros beyond its ends), so zero anything the filter spread past them.
        power = filtered * filtered
        power[: max(0, -f_start)] = 0.0
        power[max(0, n_samples - f_start) :] = 0.0
        # Centred boxcar (MATLAB's conv then crop): output n averages samples
        # [n - (width - 1 - width // 2), n + width // 2].
        env = moving_sum(power, width) / width
        return env, f_start + width - 1 - width // 2

    # -- detection -------------------------------------------------------------------------

    def statistics(self, recording: Recording, *, channel: int, block_s: float) -> dict:
        """The recording's length and the thresholds (from its noise floor in ``"noise"``
        mode: the ``noise_quantile`` quantile of the envelope, streamed exactly)."""
        sr, n = recording.sr, recording.frames
        stats: dict[str, Any] = {"n_samples": n}
        if self.threshold_mode == "absolute":
            stats["noise_floor"] = None
            stats["onset_threshold"], stats["offset_threshold"] = self._thresholds(1.0)
            return stats
        reach = self.context(sr)
        silence = (self.amplitude_scale * _SILENCE_FS) ** 2
        cache: list[np.ndarray] = []

        def envelopes():
            if cache:  # a recording of one chunk is filtered once, not once per pass
                yield from cache
                return
            for core_start in range(0, n, _STATS_CHUNK):
                core_stop = min(core_start + _STATS_CHUNK, n)
                lo, hi = max(0, core_start - reach), min(n, core_stop + reach)
                y = recording.read_frames(lo, hi, channel=channel)[0]
                env, env_start = self._envelope(y, sr=sr, start=lo, n_samples=n)
                core = env[core_start - env_start : core_stop - env_start]
                core = core[core > silence]
                if n <= _STATS_CHUNK:
                    cache.append(core)
                yield core

        try:
            (floor,) = exact_quantiles(envelopes, [self.noise_quantile])
        except ParameterError:  # nothing but digital silence
            floor = 0.0
        # Never below silence, so that an all-silent recording gives no events.
        floor = max(float(floor), silence)
        stats["noise_floor"] = floor
        stats["onset_threshold"], stats["offset_threshold"] = self._thresholds(floor)
        return stats

    def masks(self, y: np.ndarray, *, sr: int, start: int, stats: Mapping[str, Any]):
        """``syllable``: envelope above the offset threshold; with hysteresis also
        ``onset``: envelope above the onset threshold (combined in :meth:`finish`)."""
        env, env_start = self._envelope(y, sr=sr, start=start, n_samples=stats["n_samples"])
        lo = max(start, env_start)
        hi = min(start + len(y), env_start + len(env))
        inside = env[lo - env_start : hi - env_start]
        out = {}
        thresholds = {"syllable": stats["offset_threshold"]}
        if stats["onset_threshold"] > stats["offset_threshold"]:
            thresholds["onset"] = stats["onset_threshold"]
        for label, threshold in thresholds.items():
            # Outside [lo, hi) the block lacks context: those samples are never its core.
            mask = np.zeros(len(y), dtype=bool)
            mask[lo - start : hi - start] = inside > threshold
            out[label] = mask
        return out

    def finish(self, intervals: dict[str, Intervals], *, sr: int, n_samples: int):
        """Hysteresis, then close gaps of at most ``min_silence_ms``, then drop syllables
        of at most ``min_duration_ms`` (evsonganaly's order and comparisons)."""
        found = intervals.get("syllable", np.zeros((0, 2), np.int64))
        if "onset" in intervals:
            found = _hysteresis(found, intervals["onset"])
        found = close_gaps(found, _at_most(self.min_silence_ms, sr) + 1)
        found = drop_short(found, _at_most(self.min_duration_ms, sr) + 1)
        return {"syllable": found}

    def refine(
        self,
        intervals: dict[str, Intervals],
        *,
        recording: Recording,
        channel: int,
        stats: Mapping[str, Any],
    ) -> dict[str, Intervals]:
        """Boundaries relative to each syllable's peak (``onset_db``, ``offset_db``),
        reading only the audio around each syllable."""
        found = intervals.get("syllable", np.zeros((0, 2), np.int64))
        if (self.onset_db is None and self.offset_db is None) or not len(found):
            return intervals
        sr, n = recording.sr, stats["n_samples"]
        reach, context = round(_REFINE_REACH_S * sr), self.context(sr)
        floor = 2.0 * stats["noise_floor"] if stats["noise_floor"] is not None else 0.0
        out = found.copy()
        for i, (on, off) in enumerate(found):
            # Boundaries move out at most `reach`, and never past a neighbour.
            lo = max(out[i - 1, 1] if i else 0, on - reach)
            hi = min(found[i + 1, 0] if i + 1 < len(found) else n, off + reach)
            start = max(0, lo - context)
            y = recording.read_frames(start, min(n, hi + context), channel=channel)[0]
            env, env_start = self._envelope(y, sr=sr, start=start, n_samples=n)
            env = env[lo - env_start : hi - env_start]
            out[i] = lo + _peak_relative_bounds(
                env,
                on - lo,
                off - lo,
                floor=floor,
                onset_db=self.onset_db,
                offset_db=self.offset_db,
            )
        return {"syllable": out}

    def _thresholds(self, floor: float) -> tuple[float, float]:
        """(onset, offset) thresholds as envelope values, given the noise floor."""
        if self.threshold_mode == "noise":
            base, scale = self.noise_factor, floor
        else:
            base, scale = self.threshold, 1.0
        onset = self.onset_threshold if self.onset_threshold is not None else base
        offset = self.offset_threshold if self.offset_threshold is not None else base
        return float(onset) * scale, float(offset) * scale


@lru_cache(maxsize=16)
def _zero_phase_kernel(sr: int, low_hz, high_hz, order: int) -> np.ndarray:
    """The zero-phase band-pass kernel, designed once per setting (every block asks)."""
    kernel = zero_phase(fir_bandpass(sr, low_hz=low_hz, high_hz=high_hz, order=order))
    kernel.flags.writeable = False
    return kernel


def _peak_relative_bounds(
    env: np.ndarray,
    on: int,
    off: int,
    *,
    floor: float,
    onset_db: float | None,
    offset_db: float | None,
) -> np.ndarray:
    """``[onset, offset)`` within ``env`` of the syllable ``[on, off)``, moved to where the
    envelope crosses ``onset_db`` / ``offset_db`` below the syllable's peak (or ``floor``,
    whichever is higher); a boundary whose ``*_db`` is None stays.

    Examples
    --------
    >>> env = np.array([1, 2, 50, 100, 60, 30, 5, 1.0])
    >>> _peak_relative_bounds(env, 3, 5, floor=0, onset_db=10, offset_db=6).tolist()
    [2, 6]

    A boundary moving out stops at the valley before the next sound:

    >>> env = np.array([100, 60, 40, 30, 50, 90.0])
    >>> _peak_relative_bounds(env, 0, 2, floor=0, onset_db=None, offset_db=20).tolist()
    [0, 3]
    """
    peak = env[on:off].max()
    bounds = np.array([on, off], np.int64)
    for side, db in ((0, onset_db), (1, offset_db)):
        level = None if db is None else max(peak * 10 ** (-db / 10), floor)
        if level is None or peak <= level:
            continue
        above = env > level
        edge = on if side == 0 else off - 1
        if above[edge]:
            # Still loud at the boundary: move out until the envelope falls to the level,
            # but not past the quietest point between here and the reach (the valley
            # before whatever sound comes next).
            outside = env[:on][::-1] if side == 0 else env[off:]
            valley = int(np.argmin(outside)) if len(outside) else 0
            falls = np.flatnonzero(outside[: valley + 1] <= level)
            step = falls[0] if len(falls) else valley
            bounds[side] = on - step if side == 0 else off + step
        elif side == 0:  # quiet at the onset: move in to where it first rises above
            bounds[0] = on + np.argmax(above[on:off])
        else:  # quiet at the offset: move in to just after it last is above
            bounds[1] = off - np.argmax(above[on:off][::-1])
    return bounds


def _hysteresis(above_offset: Intervals, above_onset: Intervals) -> Intervals:
    """Runs above the offset threshold that reach the onset threshold, each starting where
    it first does. Every onset run lies within an offset run (onset >= offset threshold)."""
    if not len(above_onset):
        return np.zeros((0, 2), np.int64)
    holder = np.searchsorted(above_offset[:, 0], above_onset[:, 0], side="right") - 1
    holders, first = np.unique(holder, return_index=True)
    return np.stack([above_onset[first, 0], above_offset[holders, 1]], axis=1)


def _at_most(ms: float, sr: int) -> int:
    """The largest whole number of samples not longer than ``ms`` milliseconds."""
    return math.floor(ms * sr / 1000 + _EPS)


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except TypeError:
        return False
