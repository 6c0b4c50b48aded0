"""The two units of embedding: events (centred in the model's window) and windows.

- **Windows** cut every recording into ``window_s`` long spans every ``hop_s`` seconds
  (:func:`window_events`). They are Events rows of kind ``window`` (source: the embedding
  set's name), so they can be selected, exported and plotted like any event.
- **Events** (syllables, detections, predictions) are shown to a model with a fixed window
  centred on each event's span (:func:`centred_spans`): a longer event is cut to its middle,
  a shorter one is padded with zeros (``pad="zeros"``: the model sees the event alone) or with
  the audio around it (``pad="audio"``: the event in its context). A point event has no span,
  so it is always seen in its context.

Audio outside the recording is read as zeros (:func:`read_spans`), so every unit has exactly
the model's number of samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from sonotype.annotations.events import empty_events, make_events
from sonotype.audio.recording import Recording
from sonotype.audio.resample import resample
from sonotype.errors import ParameterError

WINDOW_KIND = "window"
#: A last window that would run past the end of a recording is kept, padded with zeros,
#: when at least this fraction of it holds audio (every recording keeps at least one window).
MIN_LAST_FRACTION = 0.5


def check_windowing(window_s: float, hop_s: float) -> tuple[float, float]:
    """``(window_s, hop_s)`` when both are positive numbers; otherwise a clear error."""
    for name, value in (("window_s", window_s), ("hop_s", hop_s)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ParameterError(
                f"{name}={value!r} must be a positive number of seconds, e.g. --windows 3,3",
                parameter="windows",
            )
    return float(window_s), float(hop_s)


def window_starts(duration_s: float, *, window_s: float, hop_s: float) -> np.ndarray:
    """Start times (s) of the windows of a recording of ``duration_s`` seconds.

    Every window that fits is kept; a last one that runs past the end is kept when at least
    :data:`MIN_LAST_FRACTION` of it holds audio; a recording shorter than that still has one.

    Examples
    --------
    >>> window_starts(10.0, window_s=3.0, hop_s=3.0).tolist()
    [0.0, 3.0, 6.0]
    >>> window_starts(10.0, window_s=3.0, hop_s=1.5).tolist()
    [0.0, 1.5, 3.0, 4.5, 6.0, 7.5]
    >>> window_starts(1.0, window_s=3.0, hop_s=3.0).tolist()
    [0.0]
    """
    window_s, hop_s = check_windowing(window_s, hop_s)
    # Rounded to the microsecond so that 0.1 + 0.2 style sums do not drop a window.
    n = int(np.floor(round((duration_s - window_s * MIN_LAST_FRACTION) / hop_s, 6))) + 1
    return np.round(np.arange(max(n, 1)) * hop_s, 9)


def window_events(
    recordings: pd.DataFrame, *, window_s: float, hop_s: float, source: str
) -> pd.DataFrame:
    """Events of kind ``window``: every recording cut into ``window_s`` every ``hop_s``.

    Parameters
    ----------
    recordings : DataFrame
        Columns ``path`` (the recording's name) and ``frames`` and ``sr`` (its length),
        as :meth:`Project.recordings <sonotype.store.Project.recordings>` returns; or
        ``recording`` and ``duration_s``.
    window_s, hop_s : float
        Window length and step, in seconds.
    source : str
        The windows' ``source`` (the embedding set's name).

    Returns
    -------
    DataFrame
        An Events table, channel 0, label empty, in recording and time order.

    Examples
    --------
    >>> table = pd.DataFrame({"recording": ["a.wav"], "duration_s": [7.0]})
    >>> window_events(table, window_s=3, hop_s=3, source="w")[["start_s", "stop_s"]].values.tolist()
    [[0.0, 3.0], [3.0, 6.0]]
    """
    window_s, hop_s = check_windowing(window_s, hop_s)
    names = recordings["recording"] if "recording" in recordings else recordings["path"]
    if "duration_s" in recordings:
        durations = recordings["duration_s"].astype(float)
    else:
        durations = recordings["frames"].astype(float) / recordings["sr"].astype(float)
    parts = []
    for name, duration_s in zip(names, durations, strict=True):
        if not np.isfinite(duration_s):
            raise ParameterError(
                f"recording {name!r} has no known length; run `sonotype scan` to index it"
            )
        starts = window_starts(float(duration_s), window_s=window_s, hop_s=hop_s)
        parts.append((str(name), starts))
    if not parts:
        return empty_events()
    recording = np.concatenate([np.full(len(s), n, dtype=object) for n, s in parts])
    starts = np.concatenate([s for _, s in parts])
    return make_events(
        list(recording),
        starts,
        starts + window_s,
        "",
        kind=WINDOW_KIND,
        source=source,
        where="windows",
    )


def centred_spans(events: pd.DataFrame, window_s: float) -> np.ndarray:
    """``(n, 2)`` start and stop times (s) of a ``window_s`` window centred on each event.

    Examples
    --------
    >>> events = pd.DataFrame({"start_s": [1.0, 2.0], "stop_s": [1.5, 8.0]})
    >>> centred_spans(events, 3.0).tolist()
    [[-0.25, 2.75], [3.5, 6.5]]
    """
    centre = (events["start_s"].to_numpy(float) + events["stop_s"].to_numpy(float)) / 2
    return np.stack([centre - window_s / 2, centre + window_s / 2], axis=1)


PADS = ("zeros", "audio")


def audible_spans(events: pd.DataFrame, *, pad: str) -> np.ndarray | None:
    """``(n, 2)`` limits of the audio a model may hear of each event: the event's own span
    with ``pad="zeros"`` (points unlimited: they have no span), None (no limit) with
    ``pad="audio"``."""
    if pad not in PADS:
        raise ParameterError(f"pad={pad!r} must be one of {', '.join(PADS)}", parameter="pad")
    if pad == "audio":
        return None
    limits = events[["start_s", "stop_s"]].to_numpy(float).copy()
    points = limits[:, 1] <= limits[:, 0]
    limits[points] = (-np.inf, np.inf)
    return limits


def read_spans(
    recording: Recording,
    spans: np.ndarray,
    channels: np.ndarray,
    *,
    sr: float,
    samples: int,
    batch_size: int,
    limits: np.ndarray | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Batches of audio for ``spans`` (s), resampled to ``sr`` Hz, each ``samples`` long.

    Yields ``(first_row, audio)`` with ``audio`` float32 ``(rows, samples)``; what lies
    outside the recording, or outside a row's ``limits`` (s, from :func:`audible_spans`), is
    zeros. Only one batch is in memory at a time.
    """
    duration_s = recording.duration_s
    for first in range(0, len(spans), batch_size):
        rows = spans[first : first + batch_size]
        batch = np.zeros((len(rows), samples), dtype=np.float32)
        for i, ((start_s, stop_s), channel) in enumerate(
            zip(rows, channels[first : first + batch_size], strict=True)
        ):
            lo, hi = max(float(start_s), 0.0), min(float(stop_s), duration_s)
            if limits is not None:
                lo, hi = max(lo, limits[first + i, 0]), min(hi, limits[first + i, 1])
            if hi <= lo:
                continue
            audio = recording.read(lo, hi, channel=int(channel))[0]
            if recording.sr != sr:
                audio = resample(audio, recording.sr, sr)
            offset = round((lo - float(start_s)) * sr)
            audio = audio[: max(samples - offset, 0)]
            batch[i, offset : offset + len(audio)] = audio
        yield first, batch
