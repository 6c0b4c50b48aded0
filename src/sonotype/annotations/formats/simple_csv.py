"""Simple CSV: one table of ``onset_s, offset_s, label`` plus any other columns.

The most forgiving format and the only lossless one: every Events column is written.

Reading accepts common spellings of the time and label columns (``onset``/``start_s``,
``offset``/``stop_s``, ``cluster``/``name``; the zebra finch CSVs of WhisperSeg and DAS use
``onset,offset,cluster``). A ``recording`` column names each row's recording; without one,
every row belongs to the recording named after the CSV file. Columns that are not Events
columns are kept as extra labels (``label:NAME``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from sonotype.annotations.events import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    extra_label_columns,
    validate_events,
)
from sonotype.annotations.formats.base import (
    STREAM_BYTES,
    AnnotationFormat,
    FormatOptions,
    NotStreamable,
    blank_to_nan,
    read_csv_parts,
    read_csv_table,
    register_format,
    row_names,
    write_csv_parts,
)
from sonotype.errors import AnnotationError

ONSET_NAMES = ("onset_s", "onset", "start_s", "start_seconds")
OFFSET_NAMES = ("offset_s", "offset", "stop_s", "stop_seconds")
LABEL_NAMES = ("label", "cluster", "name", "syllable", "class")
# Parsed as numbers in C, channel too, rather than as a million strings then converted (a
# cell that is not a number reads every column as text, and validation names it as before).
_FLOATS = (*ONSET_NAMES, *OFFSET_NAMES, *OPTIONAL_COLUMNS, "channel")


@register_format
class SimpleCsv(AnnotationFormat):
    name = "simple-csv"
    description = "CSV: onset_s, offset_s, label, plus recording and any other columns"
    suffixes = ()
    appends = True
    carries = frozenset({*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, "label:*"})

    def sniff(self, path: Path, head: str) -> bool:
        if not path.name.lower().endswith(".csv"):
            return False
        header = {c.strip().lower() for c in head.splitlines()[0].split(",")} if head else set()
        return bool(header & set(ONSET_NAMES)) and bool(header & set(OFFSET_NAMES))

    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        table = read_csv_table(
            path, format_name="simple CSV", header=True, options=options, float_columns=_FLOATS
        )
        return _events(table, path, options)

    def read_parts(self, path: Path, options: FormatOptions) -> Iterator[pd.DataFrame]:
        if options.encoding or path.stat().st_size < STREAM_BYTES:
            yield self.read(path, options)
            return
        given = 0
        try:
            for table in read_csv_parts(path, _FLOATS):
                events = _events(table, path, options)
                given += len(events)
                yield events
        except NotStreamable:
            # Read whole, which names the problem (a cell that is not a number is read as
            # text, and validation names it), or reads what the parts could not: the
            # events after those already given.
            yield self.read(path, options).iloc[given:].reset_index(drop=True)

    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        self.write_parts([events], path, options)

    def write_parts(
        self, parts: Iterable[pd.DataFrame], path: Path, options: FormatOptions
    ) -> None:
        # pandas writes each float as its repr, the shortest text that reads back as the same
        # float: exact round trips without 17-digit noise (0.8412, not 0.84119999999999995).
        write_csv_parts(parts, path, lambda events, _: _table(events))

    def filename_for(self, recording: str) -> str:
        return f"{Path(recording).stem}.csv"


def _events(table: pd.DataFrame, path: Path, options: FormatOptions) -> pd.DataFrame:
    """The Events of a simple CSV table (or a part of one) read from ``path``."""
    columns = {c: c for c in table.columns if c and not c.startswith("Unnamed:")}
    hint = options.spell("format", "FORMAT")
    onset = _first_present(columns, ONSET_NAMES, path, "onset_s", hint)
    offset = _first_present(columns, OFFSET_NAMES, path, "offset_s", hint)
    label = _first_present(columns, LABEL_NAMES, path, "label", hint)
    used = {onset, offset, label}
    events = pd.DataFrame(
        {
            "recording": table[columns["recording"]].str.strip()
            if "recording" in columns
            else options.recording_for(path),
            "start_s": blank_to_nan(table[columns[onset]]),
            "stop_s": blank_to_nan(table[columns[offset]]),
            "label": table[columns[label]],
        }
    )
    used.add("recording")
    for name in ("kind", "channel", "source", *OPTIONAL_COLUMNS):
        if name in columns:
            values = table[columns[name]]
            events[name] = blank_to_nan(values) if name != "source" else values
            used.add(name)
    for name, column in columns.items():
        if name not in used and name not in ONSET_NAMES + OFFSET_NAMES:
            extra = name if name.startswith("label:") else f"label:{name}"
            events[extra] = table[column]
    return validate_events(events, where=str(path), rows=row_names(table), fill_defaults=True)


def _table(events: pd.DataFrame) -> pd.DataFrame:
    """The CSV columns of ``events``: every Events column, under the names read back first."""
    table = pd.DataFrame(
        {
            "recording": events["recording"],
            "onset_s": events["start_s"],
            "offset_s": events["stop_s"],
            "label": events["label"],
            "kind": events["kind"],
            "channel": events["channel"],
            "source": events["source"],
        }
    )
    for name in (*OPTIONAL_COLUMNS, *extra_label_columns(events)):
        if name in events:
            table[name] = events[name]
    return table


def _first_present(
    columns: dict, names: tuple[str, ...], path: Path, wanted: str, format_hint: str
) -> str:
    for name in names:
        if name in columns:
            return name
    found = ", ".join(columns) or "none"
    raise AnnotationError(
        path,
        f"no {wanted} column (accepted names: {', '.join(names)}; found: {found}); "
        f"rename the column, or name the file's format ({format_hint})",
    )
