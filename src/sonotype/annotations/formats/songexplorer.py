"""SongExplorer CSV: headerless rows of ``wav,start_tick,stop_tick,kind,label``.

`SongExplorer <https://github.com/JaneliaSciComp/SongExplorer>`_ stores annotations, detections
and predictions in headerless CSV files, one event per row. Times are *ticks*: sample indices
into the WAV file named in the first column, so reading and writing need that recording's
sample rate (taken from the WAV when it can be found, else from ``sr``). A row whose start and
stop ticks are equal is a point event, such as one pulse of fly song::

    20161207T102314_ch1.wav,2103,4445,annotated,ambient
    20161207T102314_ch1.wav,5821,5821,annotated,mel-pulse

SongExplorer names its files after the recording and what made them
(``<wav>-annotated-<annotator>.csv``, ``<wav>-predicted-<ratio>pr.csv``, ...); the part after
the kind becomes the events' ``source`` ("person1"). Ticks and seconds are converted with
:func:`sonotype.units.seconds_to_samples` and :func:`~sonotype.units.samples_to_seconds`, so a
write-then-read round trip moves a time by at most half a sample.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.annotations.events import empty_events, validate_events
from sonotype.annotations.formats.base import (
    AnnotationFormat,
    FormatOptions,
    read_csv_table,
    register_format,
    write_csv_parts,
)
from sonotype.errors import AnnotationError
from sonotype.units import samples_to_seconds, seconds_to_samples

COLUMNS = ("wav", "start_tick", "stop_tick", "kind", "label")
#: ``<wav>-<what>[-<name>].csv``: what SongExplorer's stages call their outputs.
_FILE_NAME = re.compile(
    r"-(?:annotated|predicted|detected|ethogram|mistakes|missed|mistaken)(?:-(?P<name>.+))?\.csv$",
    re.IGNORECASE,
)


@register_format
class SongExplorer(AnnotationFormat):
    """SongExplorer's headerless ``wav,start_tick,stop_tick,kind,label`` CSV (ticks = samples).

    One file may hold events of several recordings: the ``wav`` column names each row's.
    Reading needs each recording's sample rate: its WAV beside the CSV (or in ``audio_dirs``),
    else ``sr``. ``start_tick == stop_tick`` is a point event.

    Examples
    --------
    A file ``song.wav-annotated-person1.csv``::

        song.wav,2103,4445,annotated,ambient
        song.wav,5821,5821,annotated,mel-pulse

    read with ``sr=2500`` gives an ``ambient`` interval from 0.8412 s to 1.778 s and a
    ``mel-pulse`` point event at 2.3284 s, both with ``source`` "person1".
    """

    name = "songexplorer"
    description = "SongExplorer CSV: wav,start_tick,stop_tick,kind,label (ticks = samples)"
    suffixes = ()
    per_recording = False
    appends = True
    carries = frozenset({"recording", "start_s", "stop_s", "label", "kind"})
    time_unit = "samples"

    def sniff(self, path: Path, head: str) -> bool:
        if not path.name.lower().endswith(".csv") or not head.strip():
            return False
        fields = [f.strip() for f in head.lstrip().splitlines()[0].split(",")]
        return (
            len(fields) == 5
            and all(_is_integer(f) for f in fields[1:3])
            and bool(fields[3])
            and not _is_number(fields[3])
        )

    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        table = read_csv_table(path, format_name="SongExplorer", header=False, options=options)
        source = options.source if options.source is not None else source_from_name(path.name)
        if len(table.columns) == 0 or table.empty:
            # A headerless file with no rows is an empty table (SongExplorer writes those
            # when nothing was detected), not an error.
            return empty_events()
        if len(table.columns) != len(COLUMNS):
            raise AnnotationError(
                path,
                f"row {table.index[0]} has {len(table.columns)} fields; a SongExplorer file has "
                f"5 per row ({','.join(COLUMNS)}) and no header",
            )
        table.columns = list(COLUMNS)
        rows = [f"row {i}" for i in table.index]
        for name in ("wav", "kind", "label"):
            _fail_where(table[name].str.strip() == "", path, rows, f"{name} is empty")
        ticks = {name: _ticks(table[name], name, path, rows) for name in COLUMNS[1:3]}

        # One sample-rate look-up per recording, not per row.
        start_s = np.empty(len(table))
        stop_s = np.empty(len(table))
        wav = table["wav"].to_numpy()
        for recording in pd.unique(wav):
            sr = options.sample_rate(recording, path, what="SongExplorer ticks")
            mask = wav == recording
            start_s[mask] = samples_to_seconds(ticks["start_tick"][mask], sr)
            stop_s[mask] = samples_to_seconds(ticks["stop_tick"][mask], sr)

        events = pd.DataFrame(
            {
                "recording": wav,
                "start_s": start_s,
                "stop_s": stop_s,
                "label": table["label"].to_numpy(),
                "kind": table["kind"].str.strip().to_numpy(),
                "channel": 0,
                "source": source,
            }
        )
        return validate_events(events, where=str(path), rows=rows)

    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        self.write_parts([events], path, options)

    def write_parts(
        self, parts: Iterable[pd.DataFrame], path: Path, options: FormatOptions
    ) -> None:
        def table_of(events: pd.DataFrame, first_row: int) -> pd.DataFrame:
            empty_labels = np.flatnonzero((events["label"] == "").to_numpy())
            if len(empty_labels):
                raise AnnotationError(
                    "events to write",
                    f"row {first_row + empty_labels[0] + 1}: label is empty; SongExplorer "
                    "needs a label on every row",
                )
            start = np.empty(len(events), dtype=np.int64)
            stop = np.empty(len(events), dtype=np.int64)
            recording = events["recording"].to_numpy()
            for name in pd.unique(recording):
                sr = options.sample_rate(name, path, what="SongExplorer ticks")
                mask = recording == name
                start[mask] = seconds_to_samples(events["start_s"].to_numpy()[mask], sr)
                stop[mask] = seconds_to_samples(events["stop_s"].to_numpy()[mask], sr)
            return pd.DataFrame(
                {
                    "wav": recording,
                    "start_tick": start,
                    "stop_tick": stop,
                    "kind": events["kind"].to_numpy(),
                    "label": events["label"].to_numpy(),
                }
            )

        write_csv_parts(parts, path, table_of, header=False)

    def filename_for(self, recording: str) -> str:
        return f"{Path(recording).stem}-annotated.csv"


def source_from_name(file_name: str) -> str:
    """The ``source`` a SongExplorer file name implies: "person1" for
    ``song.wav-annotated-person1.csv``, "1.0pr" for ``song.wav-predicted-1.0pr.csv``,
    else "".

    Examples
    --------
    >>> source_from_name("PS_20130625111709_ch3.wav-annotated-person1.csv")
    'person1'
    >>> source_from_name("notes.csv")
    ''
    """
    found = _FILE_NAME.search(file_name)
    return (found["name"] or "") if found else ""


def _ticks(column: pd.Series, name: str, path: Path, rows: list[str]) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values) | (values != np.round(values))
    _fail_where(
        bad,
        path,
        rows,
        lambda i: f"{name}={column.iloc[i]!r} is not a whole number of samples",
    )
    return values.astype(np.int64)


def _fail_where(mask, path: Path, rows: list[str], problem) -> None:
    bad = np.flatnonzero(np.asarray(mask))
    if len(bad):
        i = bad[0]
        text = problem(i) if callable(problem) else problem
        others = f" ({len(bad) - 1} more rows have this problem)" if len(bad) > 1 else ""
        raise AnnotationError(path, f"{rows[i]}: {text}{others}")


def _is_integer(text: str) -> bool:
    return text.lstrip("+-").isdigit()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
