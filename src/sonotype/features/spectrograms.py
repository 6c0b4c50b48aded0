"""Fixed-size syllable spectrograms: one ``n_freq x n_time`` image per event.

Each event (one syllable) of an Events table becomes a log-power spectrogram of the same
shape, ready to be flattened, embedded and clustered (AVA, AVGN, song_phenotyping).

How a spectrogram is made
-------------------------
1. **Columns.** Column ``j`` is the power spectrum of an ``n_fft``-sample Hann frame centred
   at time ``t_j``. With ``time_mode="pad"`` the columns tile a window of ``window_s``
   seconds centred on the syllable's centre, ``t_j = centre + (j + 0.5 - n_time / 2) *
   window_s / n_time``: every syllable shares one time scale, shorter syllables show the
   sound around them (real audio, read from the recording; zeros only beyond the
   recording's edges) and longer ones are cropped to the window around their centre.
   With ``time_mode="stretch"`` (AVA's "time stretch") the columns tile the syllable's own
   span, ``t_j = start + (j + 0.5) * duration / n_time``, so each syllable fills the image.
2. **STFT.** The audio each recording's syllables need is read once, in segments, and
   transformed with one STFT per segment at ``hop_length``; the power at each ``t_j`` is
   linearly interpolated between the two nearest frames (power, before dB).
3. **Frequencies.** ``freq_scale="linear"``: ``n_freq`` rows equally spaced from the low
   to the high end of ``freq_range_hz``, each the power in a triangular band as wide as the
   row spacing (linear interpolation between FFT bins where rows are closer than bins);
   ``freq_scale="mel"``: :func:`sonotype.spectral.mel_filterbank` bands (a band too narrow
   to hold an FFT bin takes the power interpolated at its centre). Bands are normalised to
   unit sum, so a row is a mean power. Row 0 is the lowest frequency.
4. **dB and normalisation.** Power to dB (:func:`sonotype.spectral.power_to_db`); then
   ``normalize="syllable"``: each spectrogram relative to its own maximum, floored
   ``top_db`` below it, and min-max scaled to [0, 1]; ``normalize="global"``: one floor and
   ceiling for all syllables (``db_range``, or the ``db_range_percentiles`` of all the
   values), scaled to [0, 1] and clipped; ``normalize="none"`` leaves dB.

Syllables shorter than one STFT frame still give a spectrogram: each column's frame takes
``n_fft`` samples around ``t_j`` from the recording (context around the syllable), so such a
syllable's columns overlap heavily and its time detail is limited by the frame length.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse

from sonotype.checks import check_choice, check_int
from sonotype.errors import ParameterError
from sonotype.features import _spans
from sonotype.features._spans import Recordings
from sonotype.features._spans import pair as _pair
from sonotype.spectral import fft_frequencies, mel_filterbank, mel_frequencies, power_spectrogram

#: Syllable length (s) that the default ``hop_length`` covers with ``n_time`` frames.
TYPICAL_SYLLABLE_S = 0.1
#: Percentile of syllable durations used as ``window_s`` when it is not given.
WINDOW_PERCENTILE = 95.0

FREQ_SCALES = ("linear", "mel")
TIME_MODES = ("pad", "stretch")
NORMALIZATIONS = ("syllable", "global", "none")
_AMIN = 1e-10  # smallest power before dB (as power_to_db)
# At most this many values are sampled to estimate the global dB percentiles.
_PERCENTILE_SAMPLE = 2_000_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SpectrogramParams:
    """How :func:`syllable_spectrograms` makes each syllable's spectrogram.

    Parameters
    ----------
    n_freq, n_time : int
        Rows (frequencies) and columns (times) of each spectrogram.
    freq_scale : {"linear", "mel"}
        Spacing of the rows.
    freq_range_hz : (float, float), optional
        Lowest and highest row frequency in Hz; ``(0, sr / 2)`` by default.
    n_fft : int, optional
        STFT frame length in samples; by default the power of two nearest 16 ms
        (512 at 32 kHz, 256 at 16 kHz, 1024 at 48 kHz).
    hop_length : int, optional
        STFT step in samples; by default ``round(sr * 0.1 / n_time)``, so that ``n_time``
        frames cover a typical 100 ms syllable (25 samples at 32 kHz for 128 columns).
    time_mode : {"pad", "stretch"}
        Fixed window centred on the syllable, or the syllable's own span stretched to
        ``n_time`` columns (see the module notes).
    window_s : float, optional
        Window length of ``time_mode="pad"``; by default the 95th percentile of the
        durations of the events being processed (pass it to make several batches alike).
    normalize : {"syllable", "global", "none"}
        Per-syllable min-max, one range for all syllables, or raw dB.
    top_db : float
        With ``normalize="syllable"``: the floor, in dB below each syllable's maximum.
    db_range : (float, float), optional
        With ``normalize="global"``: the dB values mapped to 0 and 1. By default the
        ``db_range_percentiles`` of all the syllables' values (pass the same range to
        normalise new syllables alike).
    db_range_percentiles : (float, float)
        Percentiles of all dB values used as floor and ceiling when ``db_range`` is None.

    Examples
    --------
    >>> params = SpectrogramParams(n_freq=64, time_mode="stretch")
    >>> params.to_dict()["n_freq"], params.to_dict()["freq_range_hz"]
    (64, None)
    """

    n_freq: int = 128
    n_time: int = 128
    freq_scale: str = "linear"
    freq_range_hz: tuple[float, float] | None = None
    n_fft: int | None = None
    hop_length: int | None = None
    time_mode: str = "pad"
    window_s: float | None = None
    normalize: str = "syllable"
    top_db: float = 60.0
    db_range: tuple[float, float] | None = None
    db_range_percentiles: tuple[float, float] = (20.0, 99.9)

    def __post_init__(self) -> None:
        # Pairs are stored as tuples of floats, so that params rebuilt from to_dict() (whose
        # pairs are lists) equal the original and hash alike.
        for name in ("freq_range_hz", "db_range", "db_range_percentiles"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _pair(value, name))
        for name in ("n_freq", "n_time"):
            check_int(getattr(self, name), name=name, minimum=2, default=128)
        for name in ("n_fft", "hop_length"):
            value = getattr(self, name)
            if value is not None:
                check_int(
                    value, name=name, minimum=1, hint="or None to choose it from the sample rate"
                )
        check_choice(self.freq_scale, name="freq_scale", choices=FREQ_SCALES)
        check_choice(self.time_mode, name="time_mode", choices=TIME_MODES)
        check_choice(self.normalize, name="normalize", choices=NORMALIZATIONS)
        if self.freq_range_hz is not None:
            low, high = _pair(self.freq_range_hz, "freq_range_hz")
            if not 0 <= low < high:
                raise ParameterError(
                    f"freq_range_hz={self.freq_range_hz!r} must be (low, high) with "
                    "0 <= low < high in Hz, e.g. (500, 10000); or None for 0 to sr / 2"
                )
        if self.window_s is not None and not (np.isfinite(self.window_s) and self.window_s > 0):
            raise ParameterError(
                f"window_s={self.window_s!r} must be a positive number of seconds, or None "
                "for the 95th percentile of the syllables' durations"
            )
        if not (np.isfinite(self.top_db) and self.top_db > 0):
            raise ParameterError(f"top_db={self.top_db!r} must be positive; the default is 60")
        if self.db_range is not None:
            low, high = _pair(self.db_range, "db_range")
            if not low < high:
                raise ParameterError(
                    f"db_range={self.db_range!r} must be (floor, ceiling) in dB with "
                    "floor < ceiling, or None to take them from the data"
                )
        low, high = _pair(self.db_range_percentiles, "db_range_percentiles")
        if not 0 <= low < high <= 100:
            raise ParameterError(
                f"db_range_percentiles={self.db_range_percentiles!r} must be (low, high) "
                "with 0 <= low < high <= 100; the default is (20, 99.9)"
            )

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready dict (tuples become lists), for cache keys."""
        return _spans.params_dict(self)


def syllable_spectrograms(
    events: pd.DataFrame,
    recordings: Recordings,
    *,
    params: SpectrogramParams | None = None,
    channel_from_events: bool = True,
    progress: Progress | None = None,
) -> np.ndarray:
    """A fixed-size log spectrogram of every event (syllable) of an Events table.

    Parameters
    ----------
    events : DataFrame
        Events table; every row an interval (``start_s < stop_s``).
    recordings : mapping or path
        Maps each name in ``events["recording"]`` to a path or a
        :class:`~sonotype.audio.Recording`; or the folder the names are relative to. Each
        recording is opened once and only the spans the syllables need are read.
    params : SpectrogramParams, optional
        How to make the spectrograms (see the module notes); defaults to
        ``SpectrogramParams()``: 128 x 128, linear frequencies, padded time, per-syllable
        normalisation.
    channel_from_events : bool
        Read each syllable from its event's ``channel``; False reads channel 0 of every
        recording.
    progress : callable, optional
        Called as ``progress(done, total)`` (events) after each recording and channel.

    Returns
    -------
    ndarray, float32, shape (n_events, n_freq, n_time)
        Row-aligned with ``events``; frequency increases with the row index. Values in
        [0, 1] unless ``normalize="none"`` (dB).

    Raises
    ------
    AnnotationError
        A point event (``start_s == stop_s``): spectrograms need intervals. The message
        names the row.
    SpanError
        An event outside its recording, or on a channel the recording lacks; the message
        names the recording and the row.
    ParameterError
        A recording missing from ``recordings``; parameters unusable at a recording's sample
        rate (``freq_range_hz`` above its Nyquist frequency, recordings of different rates).

    Notes
    -----
    The pipeline parallelises across recordings by calling this function per chunk of
    events; give ``window_s`` (pad mode) and, with ``normalize="global"``, ``db_range`` so
    that chunks are made alike.

    Examples
    --------
    >>> from sonotype.synth import birdsong
    >>> from sonotype.audio import write_audio
    >>> y, events = birdsong(3.0, sr=16000, random_state=0)
    >>> path = write_audio(tmp / "song.wav", y, 16000)          # doctest: +SKIP
    >>> specs = syllable_spectrograms(events, {"song.wav": path})  # doctest: +SKIP
    >>> specs.shape[1:], specs.dtype                           # doctest: +SKIP
    ((128, 128), dtype('float32'))
    """
    params = SpectrogramParams() if params is None else params
    if not isinstance(params, SpectrogramParams):
        raise ParameterError(
            f"params must be a SpectrogramParams, not {type(params).__name__}; "
            "e.g. SpectrogramParams(n_freq=64)"
        )
    table = _spans.checked_events(events)
    out = np.empty((len(table), params.n_freq, params.n_time), dtype=np.float32)
    if len(table) == 0:
        return out
    durations = (table["stop_s"] - table["start_s"]).to_numpy()
    window_s = params.window_s
    if params.time_mode == "pad" and window_s is None:
        window_s = float(np.percentile(durations, WINDOW_PERCENTILE))
    done, sr_seen = 0, None
    for group in _spans.groups(table, recordings, channel_from_events=channel_from_events):
        sr = group.recording.sr
        if sr_seen is not None and sr != sr_seen and params.freq_range_hz is None:
            raise ParameterError(
                f"recordings have different sample rates ({sr_seen} and {sr} Hz, the latter "
                f"{group.recording.path}), so the default freq_range_hz=None (0 to sr / 2) "
                "would give their rows different frequencies; set freq_range_hz, e.g. "
                f"(0, {min(sr, sr_seen) / 2:g})"
            )
        sr_seen = sr
        out[group.rows] = _group_db(group, params, window_s=window_s)
        done += len(group.rows)
        if progress is not None:
            progress(done, len(table))
    return normalize_spectrograms(out, params=params, out=out)


def normalize_spectrograms(
    specs_db: np.ndarray, *, params: SpectrogramParams, out: np.ndarray | None = None
) -> np.ndarray:
    """Scale dB spectrograms as ``params.normalize`` says (see the module notes).

    Parameters
    ----------
    specs_db : ndarray, shape (n, n_freq, n_time)
        Spectrograms in dB, e.g. from ``syllable_spectrograms`` with ``normalize="none"``.
    params : SpectrogramParams
    out : ndarray, optional
        Where to write the result (may be ``specs_db`` itself).

    Returns
    -------
    ndarray, float32, shape (n, n_freq, n_time)

    Examples
    --------
    >>> db = np.array([[[-100.0, -10.0], [-20.0, 0.0]]], dtype=np.float32)
    >>> normalize_spectrograms(db, params=SpectrogramParams(top_db=40))[0]
    array([[0.  , 0.75],
           [0.5 , 1.  ]], dtype=float32)
    """
    specs_db = np.asarray(specs_db, dtype=np.float32)
    if out is None:
        out = np.empty_like(specs_db)
    if params.normalize == "none":
        out[...] = specs_db
        return out
    if params.normalize == "global":
        low, high = params.db_range or global_db_range(
            specs_db, percentiles=params.db_range_percentiles
        )
        scale = 1.0 / (high - low) if high > low else 0.0
        np.clip((specs_db - np.float32(low)) * np.float32(scale), 0.0, 1.0, out=out)
        return out
    for first in range(0, len(specs_db), 256):  # bounded temporaries
        part = specs_db[first : first + 256]
        peak = part.max(axis=(1, 2), keepdims=True)
        floored = np.maximum(part, peak - np.float32(params.top_db))
        low = floored.min(axis=(1, 2), keepdims=True)
        span = peak - low
        scale = np.divide(1.0, span, out=np.zeros_like(span), where=span > 0)
        floored -= low
        np.multiply(floored, scale, out=out[first : first + 256])
    return out


def global_db_range(
    specs_db: np.ndarray, *, percentiles: tuple[float, float] = (20.0, 99.9)
) -> tuple[float, float]:
    """Floor and ceiling in dB for ``normalize="global"``: percentiles of all the values.

    At most two million values, evenly spaced through the array, are used.

    Examples
    --------
    >>> global_db_range(np.arange(101, dtype=np.float32).reshape(1, 1, -1), percentiles=(20, 90))
    (20.0, 90.0)
    """
    flat = np.asarray(specs_db).reshape(-1)
    step = max(1, len(flat) // _PERCENTILE_SAMPLE)
    low, high = np.percentile(flat[::step], list(percentiles))
    return float(low), float(high)


def flatten(specs: np.ndarray) -> np.ndarray:
    """Spectrograms as rows of features, shape ``(n, n_freq * n_time)`` (a view when
    ``specs`` is contiguous).

    Examples
    --------
    >>> flatten(np.zeros((5, 4, 3), dtype=np.float32)).shape
    (5, 12)
    """
    specs = np.asarray(specs)
    if specs.ndim != 3:
        raise ParameterError(
            f"specs has shape {specs.shape}; flatten expects (n, n_freq, n_time) spectrograms"
        )
    return specs.reshape(len(specs), -1)


def frequency_weights(params: SpectrogramParams, *, sr: float, n_fft: int) -> np.ndarray:
    """Weights that map STFT bins to the spectrogram rows, shape ``(n_freq, 1 + n_fft // 2)``.

    Rows sum to 1 (a row is a weighted mean of bin powers) and row 0 is the lowest
    frequency. See the module notes for the linear and mel cases.

    Examples
    --------
    >>> W = frequency_weights(SpectrogramParams(n_freq=3), sr=8, n_fft=8)
    >>> W.round(2)
    array([[0.67, 0.33, 0.  , 0.  , 0.  ],
           [0.  , 0.25, 0.5 , 0.25, 0.  ],
           [0.  , 0.  , 0.  , 0.33, 0.67]], dtype=float32)
    """
    low, high = _freq_range(params, sr)
    bins = fft_frequencies(sr=sr, n_fft=n_fft)
    bin_width = sr / n_fft
    if params.freq_scale == "linear":
        centres = np.linspace(low, high, params.n_freq)
        width = max(centres[1] - centres[0], bin_width)
        weights = _triangles(centres, bins, width)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # empty bands are filled below
            weights = mel_filterbank(
                sr=sr,
                n_fft=n_fft,
                n_mels=params.n_freq,
                fmin_hz=low,
                fmax_hz=high,
                norm=None,
                dtype=np.float64,
            )
        centres = mel_frequencies(params.n_freq + 2, fmin_hz=low, fmax_hz=high)[1:-1]
        empty = weights.sum(axis=1) <= 0
        if empty.any():
            weights[empty] = _triangles(centres[empty], bins, bin_width)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def stft_settings(params: SpectrogramParams, sr: float) -> tuple[int, int]:
    """``(n_fft, hop_length)`` for ``sr``, defaults filled in (see :class:`SpectrogramParams`).

    Examples
    --------
    >>> stft_settings(SpectrogramParams(), 32000)
    (512, 25)
    """
    n_fft = params.n_fft or _spans.default_n_fft(sr)
    hop_length = params.hop_length or max(1, round(sr * TYPICAL_SYLLABLE_S / params.n_time))
    return n_fft, hop_length


# -- one recording and channel ----------------------------------------------------------------


def _group_db(group: _spans.Group, params: SpectrogramParams, *, window_s: float | None):
    """dB spectrograms of one group's syllables, shape ``(k, n_freq, n_time)``."""
    sr = group.recording.sr
    n_fft, hop = stft_settings(params, sr)
    # Each row's triangle covers a few bins: a sparse product is ~n_freq / 4 times cheaper.
    weights = scipy.sparse.csr_array(frequency_weights(params, sr=sr, n_fft=n_fft))
    columns = _column_samples(group, params, window_s=window_s, sr=sr)  # (k, n_time)
    # Each segment holds whole frames around every column of its members, plus one hop.
    context = n_fft // 2 + hop
    lo = np.floor(columns[:, 0]).astype(np.int64) - context
    hi = np.ceil(columns[:, -1]).astype(np.int64) + context + 1
    out = np.empty((len(columns), params.n_freq, params.n_time), dtype=np.float32)
    for start, stop, members in _spans.merge_ranges(lo, hi, sr=sr):
        y = _spans.read_padded(group.recording, start, stop, channel=group.channel)
        power = power_spectrogram(y, n_fft=n_fft, hop_length=hop, center=False)
        frames = np.ascontiguousarray((weights @ power).T)  # (n_frames, n_freq)
        # Frame k is centred on sample start + n_fft // 2 + k * hop.
        position = (columns[members] - (start + n_fft // 2)) / hop
        position = np.clip(position, 0, len(frames) - 1)
        left = np.clip(np.floor(position).astype(np.int64), 0, len(frames) - 2)
        frac = (position - left).astype(np.float32)[..., None]
        mixed = frames[left]  # (m, n_time, n_freq)
        mixed *= 1 - frac
        mixed += frames[left + 1] * frac
        out[members] = mixed.transpose(0, 2, 1)
    np.maximum(out, _AMIN, out=out)
    np.log10(out, out=out)
    out *= 10.0
    return out


def _column_samples(
    group: _spans.Group, params: SpectrogramParams, *, window_s: float | None, sr: float
) -> np.ndarray:
    """Time of each column in (fractional) samples, shape ``(k, n_time)``."""
    j = (np.arange(params.n_time) + 0.5) / params.n_time
    if params.time_mode == "stretch":
        duration = group.stop_s - group.start_s
        times = group.start_s[:, None] + j[None, :] * duration[:, None]
    else:
        centre = (group.start_s + group.stop_s) / 2
        times = centre[:, None] + (j[None, :] - 0.5) * window_s
    return times * sr


def _freq_range(params: SpectrogramParams, sr: float) -> tuple[float, float]:
    nyquist = sr / 2
    if params.freq_range_hz is None:
        return 0.0, nyquist
    low, high = (float(v) for v in params.freq_range_hz)
    if high > nyquist + 1e-9:
        raise ParameterError(
            f"freq_range_hz={params.freq_range_hz!r} reaches above the Nyquist frequency "
            f"{nyquist:g} Hz of a {sr:g} Hz recording; lower the high end to at most {nyquist:g}"
        )
    return low, high


def _triangles(centres: np.ndarray, bins: np.ndarray, half_width: float) -> np.ndarray:
    """Triangular weights of half-width ``half_width`` Hz at ``centres``, over ``bins``."""
    weights = 1.0 - np.abs(centres[:, None] - bins[None, :]) / half_width
    return np.maximum(weights, 0.0)
