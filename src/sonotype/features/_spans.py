"""Reading the audio around many syllables at once (private to :mod:`sonotype.features`).

Feature extractors group an Events table by recording and channel, open each recording
once, and read the audio that the syllables of a group need in a few *segments*: the
needed sample ranges, sorted and merged where they overlap or lie close together, so that
one STFT per segment serves every syllable in it. Segments never exceed
:data:`MAX_SEGMENT_S` (unless one syllable alone needs more), which bounds memory whatever
the length of the recording. Samples outside the recording read as zeros.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.annotations.events import validate_events
from sonotype.audio import Recording
from sonotype.errors import AnnotationError, ParameterError, SpanError
from sonotype.intervals import merge

#: Needed ranges closer than this are read as one segment (the gap is cheap to transform).
MERGE_GAP_S = 0.1
#: A segment grows by merging up to this length.
MAX_SEGMENT_S = 20.0

Recordings = Mapping[str, "str | os.PathLike[str] | Recording"] | str | os.PathLike[str]


@dataclass(frozen=True)
class Group:
    """The events of one recording and channel.

    Attributes
    ----------
    recording : Recording
    channel : int
    rows : ndarray of int, shape (k,)
        Positions of the group's events in the Events table.
    start_s, stop_s : ndarray of float64, shape (k,)
    """

    recording: Recording
    channel: int
    rows: np.ndarray
    start_s: np.ndarray
    stop_s: np.ndarray


def checked_events(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` validated (canonical copy), with point events refused by row."""
    if not isinstance(events, pd.DataFrame):
        raise ParameterError(
            f"events must be an Events table (a pandas DataFrame), not {type(events).__name__}; "
            "build one with sonotype.annotations.make_events or read_events"
        )
    table = validate_events(events, where="events")
    points = np.flatnonzero((table["stop_s"] <= table["start_s"]).to_numpy())
    if len(points):
        i = points[0]
        others = f" ({len(points) - 1} more rows are points)" if len(points) > 1 else ""
        raise AnnotationError(
            "events",
            f"row {i + 1}: start_s = stop_s = {table['start_s'].iloc[i]:g} is a point event; "
            f"syllable features need intervals (start_s < stop_s){others}; drop point events "
            "first, e.g. events[events.stop_s > events.start_s]",
        )
    return table


def groups(
    events: pd.DataFrame, recordings: Recordings, *, channel_from_events: bool
) -> Iterator[Group]:
    """Groups of ``events`` (checked by :func:`checked_events`) by recording and channel.

    Each recording is opened once. Events that lie outside their recording, or name a
    channel it lacks, raise an error that names the row and the recording.
    """
    names = events["recording"].to_numpy()
    channels = events["channel"].to_numpy() if channel_from_events else np.zeros(len(events), int)
    start = events["start_s"].to_numpy()
    stop = events["stop_s"].to_numpy()
    for name in pd.unique(names):
        rows_of_name = np.flatnonzero(names == name)
        rec = open_recording(recordings, name, first_row=int(rows_of_name[0]))
        # Half a sample of tolerance: times written from sample ticks may round up.
        outside = (stop[rows_of_name] > rec.duration_s + 0.5 / rec.sr) | (
            start[rows_of_name] >= rec.duration_s
        )
        if outside.any():
            i = rows_of_name[np.flatnonzero(outside)[0]]
            raise SpanError(
                rec.path,
                f"row {i + 1}: event {start[i]:g}-{stop[i]:g} s lies outside the recording "
                f"(0-{rec.duration_s:g} s) named {name!r} in the events; check that the events "
                "belong to this recording",
            )
        bad_channel = channels[rows_of_name] >= rec.channels
        if bad_channel.any():
            i = rows_of_name[np.flatnonzero(bad_channel)[0]]
            raise SpanError(
                rec.path,
                f"row {i + 1}: channel={channels[i]} does not exist; the recording has "
                f"{rec.channels} channel{'s' if rec.channels > 1 else ''}",
            )
        for channel in np.unique(channels[rows_of_name]):
            rows = rows_of_name[channels[rows_of_name] == channel]
            yield Group(rec, int(channel), rows, start[rows], stop[rows])


def open_recording(recordings: Recordings, name: str, *, first_row: int) -> Recording:
    """The Recording for the events' recording ``name``, from a mapping or a folder."""
    if isinstance(recordings, (str, os.PathLike)):
        target: str | os.PathLike[str] | Recording = Path(recordings) / name
    elif isinstance(recordings, Mapping):
        if name not in recordings:
            known = ", ".join(repr(k) for k in list(recordings)[:5])
            raise ParameterError(
                f"recordings has no entry for {name!r} (events row {first_row + 1}); it maps "
                f"{len(recordings)} name{'s' if len(recordings) != 1 else ''} ({known}"
                f"{', ...' if len(recordings) > 5 else ''}); add it, or pass the audio folder"
            )
        target = recordings[name]
    else:
        raise ParameterError(
            f"recordings must map recording names to paths or Recordings, or be a folder, "
            f"not {type(recordings).__name__}"
        )
    return target if isinstance(target, Recording) else Recording(target)


def merge_ranges(lo: np.ndarray, hi: np.ndarray, *, sr: float) -> list[tuple[int, int, np.ndarray]]:
    """Merge needed sample ranges ``[lo, hi)`` into segments.

    Returns ``(start, stop, members)`` per segment, where ``members`` are indices into
    ``lo``; each member's range lies inside its segment.
    """
    merged, member = merge(
        np.stack([lo, hi], axis=1), gap=MERGE_GAP_S * sr, max_length=MAX_SEGMENT_S * sr
    )
    # Members of each segment, in order of their start (as they were merged).
    order = np.lexsort((lo, member))
    members = np.split(order, np.cumsum(np.bincount(member, minlength=len(merged)))[:-1])
    return [(int(a), int(b), m) for (a, b), m in zip(merged, members, strict=True)]


def read_padded(recording: Recording, start: int, stop: int, *, channel: int) -> np.ndarray:
    """Samples ``[start, stop)`` of one channel as float32, zeros outside the recording."""
    out = np.zeros(stop - start, dtype=np.float32)
    lo, hi = max(start, 0), min(stop, recording.frames)
    if hi > lo:
        out[lo - start : hi - start] = recording.read_frames(lo, hi, channel=channel)[0]
    return out


def default_n_fft(sr: float) -> int:
    """The power of two nearest (in log scale) to 16 ms of samples: 512 at 32 kHz,
    256 at 16 kHz, 1024 at 48 kHz."""
    return int(2 ** round(np.log2(0.016 * sr)))


def pair(value, name: str) -> tuple[float, float]:
    """``value`` as a pair of finite floats, or a ParameterError naming ``name``."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r} must be a pair of numbers (low, high)") from None
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ParameterError(f"{name}={value!r} must hold finite numbers")
    return low, high


def params_dict(params) -> dict:
    """A parameters dataclass as a JSON-ready dict (tuples become lists), for cache keys."""
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in dataclasses.asdict(params).items()
    }
