"""Running a detector over a recording, block by block (the pipeline runs recordings in
parallel: :mod:`sonotype.pipeline.detect`)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sonotype.annotations.events import concat_events, empty_events, make_events
from sonotype.audio import Recording
from sonotype.checks import check_number
from sonotype.detect.base import Detector
from sonotype.intervals import Intervals, close_gaps, runs

#: Default block length: long enough that per-block overhead is negligible, short enough
#: that a block of a many-channel, high-rate recording stays small.
BLOCK_S = 60.0


def detect_recording(
    detector: Detector,
    recording: Recording | str | os.PathLike[str],
    *,
    name: str | None = None,
    channels: Sequence[int] | None = None,
    block_s: float = BLOCK_S,
) -> pd.DataFrame:
    """Detected events of one recording as an Events table (kind ``detected``).

    The detector runs as fitted to the recording's sample rate (:meth:`Detector.for_rate`).

    Parameters
    ----------
    detector : Detector
    recording : Recording or path
    name : str, optional
        Recording name written in the events (default: the file name).
    channels : sequence of int, optional
        Channels to run on (default: all); each is detected on its own.
    block_s : float
        Seconds of audio per block; results do not depend on it (``inf`` reads whole).
    """
    _check_block(block_s)
    if not isinstance(recording, Recording):
        recording = Recording(recording)
    sr = recording.sr
    # Defaults adapt to the rate; callers that talk to a user show for_rate's notes.
    detector, _ = detector.for_rate(sr)
    detector.check(sr)
    name = name or recording.path.name
    tables = []
    for channel in channels if channels is not None else range(recording.channels):
        intervals = _detect_channel(detector, recording, channel=channel, block_s=block_s)
        for label, found in intervals.items():
            if len(found):
                tables.append(
                    make_events(
                        name,
                        found[:, 0] / sr,
                        found[:, 1] / sr,
                        label,
                        kind="detected",
                        channel=channel,
                        source=detector.name,
                    )
                )
    if not tables:
        return empty_events()
    events = concat_events(tables)
    return events.sort_values(["channel", "start_s", "label"], kind="stable", ignore_index=True)


def _check_block(block_s: float) -> None:
    check_number(block_s, name="block_s", minimum=0, inclusive="neither", allow_inf=True,
                 unit="seconds", hint="inf reads each recording whole")  # fmt: skip


def _detect_channel(
    detector: Detector, recording: Recording, *, channel: int, block_s: float
) -> dict[str, Intervals]:
    sr = recording.sr
    stats = detector.statistics(recording, channel=channel, block_s=block_s)
    step = detector.frame_step(sr)
    context = detector.context(sr)
    # Blocks start at multiples of the detector's frame step so frames fall alike.
    block = recording.frames if not np.isfinite(block_s) else max(step, round(block_s * sr))
    block = -(-block // step) * step
    # Per label: intervals known to be final, and the last one, which the next block may
    # still extend (so only one pending interval is held, whatever the recording's length).
    done: dict[str, list[Intervals]] = {}
    pending: dict[str, Intervals] = {}
    for core_start in range(0, recording.frames, block):
        core_stop = min(core_start + block, recording.frames)
        start = max(0, core_start - context)
        stop = min(recording.frames, core_stop + context)
        y = recording.read_frames(start, stop, channel=channel)[0]
        for label, mask in detector.masks(y, sr=sr, start=start, stats=stats).items():
            found = runs(mask[core_start - start : core_stop - start]) + core_start
            joined = _join([pending.get(label, _NONE), found])
            joined = close_gaps(joined, detector.stream_gap(label, sr))
            done.setdefault(label, []).append(joined[:-1])
            pending[label] = joined[-1:]
    merged = {label: _join([*parts, pending[label]]) for label, parts in done.items()}
    found = detector.finish(merged, sr=sr, n_samples=recording.frames)
    return detector.refine(found, recording=recording, channel=channel, stats=stats)


_NONE = np.zeros((0, 2), np.int64)


def _join(parts: list[Intervals]) -> Intervals:
    """Concatenate per-block runs, joining a run cut by a block edge back into one."""
    found = np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)
    if len(found) < 2:
        return found
    touching = found[1:, 0] == found[:-1, 1]
    keep = np.concatenate(([True], ~touching))
    starts = found[keep, 0]
    stops = found[np.concatenate((keep[1:], [True])), 1]
    return np.stack([starts, stops], axis=1)
