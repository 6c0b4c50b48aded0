"""DCASE few-shot bioacoustic event detection CSV: times plus one POS/NEG/UNK column per class.

The annotation files of the DCASE few-shot bioacoustic event detection task (task 5) hold one
recording each. After ``Audiofilename,Starttime,Endtime`` (seconds) come one or more class
columns whose cells say whether the row's interval is an event of that class (``POS``), is
not (``NEG``), or is uncertain (``UNK``). Evaluation files have a single class column ``Q``;
training files have one column per class::

    Audiofilename,Starttime,Endtime,Q
    CHE_02.wav,1.49270,2.24104,POS
    CHE_02.wav,3.17942,3.93567,POS

Every ``POS`` or ``UNK`` cell becomes one event whose ``label`` is the class column's name;
the cell itself is kept in the extra label ``label:dcase`` so uncertain events stay marked.
``NEG`` cells make no event.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.annotations.events import empty_events, validate_events
from sonotype.annotations.formats.base import (
    AnnotationFormat,
    FormatOptions,
    blank_to_nan,
    read_csv_table,
    register_format,
    require_columns,
)
from sonotype.errors import AnnotationError

TIME_COLUMNS = ("Audiofilename", "Starttime", "Endtime")
STATUS_COLUMN = "label:dcase"
VALUES = ("POS", "NEG", "UNK")


@register_format
class Dcase(AnnotationFormat):
    """DCASE few-shot CSV: ``Audiofilename,Starttime,Endtime`` and POS/NEG/UNK class columns.

    Reading gives one event per ``POS`` or ``UNK`` cell, in file order (row by row, then
    class column by class column), labelled with the class column's name and with the cell
    in ``label:dcase``. Writing gives one row per event, with one class column per distinct
    label: the event's own column holds its ``label:dcase`` (``POS`` where that is absent
    or empty) and every other column ``NEG``.

    Examples
    --------
    ``CHE_02.csv``::

        Audiofilename,Starttime,Endtime,Q
        CHE_02.wav,1.49270,2.24104,POS
        CHE_02.wav,3.17942,3.93567,UNK

    gives two events labelled ``Q`` in recording ``CHE_02.wav``, with ``label:dcase``
    "POS" and "UNK".
    """

    name = "dcase"
    description = "DCASE few-shot CSV: Audiofilename,Starttime,Endtime + POS/NEG/UNK per class"
    suffixes = ()
    per_recording = True
    carries = frozenset({"recording", "start_s", "stop_s", "label", STATUS_COLUMN})
    time_unit = "seconds"

    def sniff(self, path: Path, head: str) -> bool:
        if not path.name.lower().endswith(".csv") or not head.strip():
            return False
        header = [f.strip() for f in head.lstrip().splitlines()[0].split(",")]
        return len(header) > len(TIME_COLUMNS) and tuple(header[:3]) == TIME_COLUMNS

    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        table = read_csv_table(path, format_name="DCASE few-shot", header=True, options=options)
        require_columns(table, TIME_COLUMNS, path, format_name="DCASE few-shot")
        classes = [c for c in table.columns if c not in TIME_COLUMNS]
        if table.empty:
            return empty_events([STATUS_COLUMN])
        if not classes:
            raise AnnotationError(
                path,
                "has no class columns after Audiofilename,Starttime,Endtime; a DCASE file has "
                "at least one (Q in evaluation files) holding POS, NEG or UNK",
            )
        rows = [f"row {i}" for i in table.index]
        # Check every row's times, including rows that are NEG throughout and make no event.
        intervals = validate_events(
            pd.DataFrame(
                {
                    "recording": table["Audiofilename"],
                    "start_s": blank_to_nan(table["Starttime"]),
                    "stop_s": blank_to_nan(table["Endtime"]),
                    "label": "",
                    "kind": options.kind or "annotated",
                    "channel": 0,
                    "source": options.source or "",
                }
            ),
            where=str(path),
            rows=rows,
        )
        cells = np.column_stack([table[c].str.strip().str.upper().to_numpy() for c in classes])
        bad_row, bad_column = np.nonzero(~np.isin(cells, VALUES))
        if len(bad_row):
            i, j = bad_row[0], bad_column[0]
            raise AnnotationError(
                path,
                f"{rows[i]}: {classes[j]}={table[classes[j]].iloc[i]!r} is not POS, NEG or UNK",
            )
        # Row-major order keeps the file's order of events.
        row, column = np.nonzero(cells != "NEG")
        events = intervals.iloc[row].reset_index(drop=True)
        events["label"] = np.asarray(classes, dtype=object)[column]
        events[STATUS_COLUMN] = cells[row, column]
        return validate_events(events, where=str(path), rows=[rows[i] for i in row])

    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        labels = list(dict.fromkeys(events["label"])) or ["Q"]
        # Class columns are named by the labels, and header names are read back stripped.
        clash = [label for label in labels if label in TIME_COLUMNS or label != label.strip()]
        if clash or "" in labels:
            raise AnnotationError(
                "events to write",
                f"label {(clash or [''])[0]!r} cannot name a DCASE class column (it is empty, "
                "has spaces around it, or is a time column's name); rename it",
            )
        if STATUS_COLUMN in events:
            status = events[STATUS_COLUMN].str.strip().str.upper().replace("", "POS")
        else:
            status = pd.Series("POS", index=events.index)
        status = status.to_numpy(dtype=object)
        bad = np.flatnonzero(~np.isin(status, ("POS", "UNK")))
        if len(bad):
            raise AnnotationError(
                "events to write",
                f"row {bad[0] + 1}: {STATUS_COLUMN}={status[bad[0]]!r} must be POS or UNK "
                "(a NEG event would vanish from the file)",
            )
        codes = pd.Categorical(events["label"], categories=labels).codes
        cells = np.where(codes[:, None] == np.arange(len(labels)), status[:, None], "NEG")
        table = pd.DataFrame(
            {
                "Audiofilename": events["recording"].to_numpy(),
                "Starttime": events["start_s"].to_numpy(),
                "Endtime": events["stop_s"].to_numpy(),
            }
        )
        for j, label in enumerate(labels):
            table[label] = cells[:, j]
        # pandas writes floats at full (shortest round-trip) precision: times come back exact.
        table.to_csv(path, index=False)

    def filename_for(self, recording: str) -> str:
        return f"{Path(recording).stem}.csv"
