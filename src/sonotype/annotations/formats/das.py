"""DAS annotations: ``<recording>_annotations.csv`` with ``name,start_seconds,stop_seconds``.

`DAS <https://github.com/janclemenslab/das>`_ (Deep Audio Segmenter) keeps the annotations of
one recording in a CSV file named after it. Each row is one event: its label (``name``) and
its times in seconds. Song pulses and other point events have ``start_seconds ==
stop_seconds``; some DAS versions leave ``stop_seconds`` empty (or NaN) for them instead,
which is read as a point event too::

    name,start_seconds,stop_seconds
    syll_0,1.2345,1.3012
    pulse,2.5,2.5
    pulse,2.53,

The file names no recording: it is the file name's stem before ``_annotations``, with the
extension of the audio file found beside it (``.wav`` if none is found).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sonotype.annotations.events import empty_events, validate_events
from sonotype.annotations.formats.base import (
    AnnotationFormat,
    FormatOptions,
    blank_to_nan,
    read_csv_table,
    register_format,
    require_columns,
    row_names,
)
from sonotype.errors import AnnotationError

SUFFIX = "_annotations.csv"
COLUMNS = ("name", "start_seconds", "stop_seconds")
#: How DAS (and pandas) spell a missing stop time.
_MISSING = ("", "nan", "NaN", "NAN", "NA", "N/A", "None", "null")


@register_format
class Das(AnnotationFormat):
    """DAS's per-recording ``*_annotations.csv``: ``name,start_seconds,stop_seconds``.

    A missing ``stop_seconds`` makes a point event (``stop_s = start_s``). Columns other
    than the three are kept as extra labels (``label:NAME``); pandas index columns
    ("Unnamed: 0") are dropped.

    Examples
    --------
    ``song_annotations.csv``::

        name,start_seconds,stop_seconds
        pulse,2.5,2.5
        sine,3.0,3.75

    gives a ``pulse`` point event at 2.5 s and a ``sine`` interval from 3 s to 3.75 s in
    recording ``song.wav``.
    """

    name = "das"
    description = "DAS <recording>_annotations.csv: name,start_seconds,stop_seconds"
    suffixes = (SUFFIX,)
    per_recording = True
    carries = frozenset({"recording", "start_s", "stop_s", "label"})
    time_unit = "seconds"

    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        table = read_csv_table(path, format_name="DAS", header=True, options=options)
        require_columns(table, COLUMNS, path, format_name="DAS")
        recording = options.recording_for(path, stem=recording_stem(path.name))
        extras = [
            c for c in table.columns if c not in COLUMNS and not c.startswith("Unnamed:") and c
        ]
        if table.empty:
            return empty_events([_extra_name(c) for c in extras])
        start = blank_to_nan(table["start_seconds"])
        stop = table["stop_seconds"].str.strip()
        events = pd.DataFrame(
            {
                "recording": recording,
                "start_s": start,
                # A missing stop marks a point event in some DAS versions.
                "stop_s": stop.where(~stop.isin(_MISSING), start),
                "label": table["name"],
                "kind": options.kind or "annotated",
                "channel": 0,
                "source": options.source or "",
            }
        )
        for column in extras:
            events[_extra_name(column)] = table[column]
        return validate_events(events, where=str(path), rows=row_names(table))

    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        recordings = pd.unique(events["recording"])
        if len(recordings) > 1:
            raise AnnotationError(
                "events to write",
                f"a DAS file holds one recording, but these events span {len(recordings)} "
                f"({', '.join(map(str, recordings[:3]))}, ...); write them to a folder",
            )
        table = pd.DataFrame(
            {
                "name": events["label"],
                "start_seconds": events["start_s"],
                "stop_seconds": events["stop_s"],
            }
        )
        # pandas writes floats at full (shortest round-trip) precision, so times come back
        # exactly.
        table.to_csv(path, index=False)

    def filename_for(self, recording: str) -> str:
        return f"{Path(recording).stem}{SUFFIX}"


def recording_stem(file_name: str) -> str:
    """The recording stem of a DAS file name: "song" for ``song_annotations.csv``.

    Examples
    --------
    >>> recording_stem("bird1_0013_annotations.csv")
    'bird1_0013'
    """
    if file_name.lower().endswith(SUFFIX):
        return file_name[: -len(SUFFIX)]
    return Path(file_name).stem


def _extra_name(column: str) -> str:
    return column if column.startswith("label:") else f"label:{column}"
