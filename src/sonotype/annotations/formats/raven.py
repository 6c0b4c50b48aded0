"""Raven selection tables (Cornell Lab's Raven Pro and Raven Lite).

A selection table is a tab-separated text file with one header line. Every selection (a time
and frequency box on one channel) has a ``Selection`` number; Raven writes one line per
selection *and view*, so a box drawn with a spectrogram and a waveform open appears twice::

    Selection	View	Channel	Begin Time (s)	End Time (s)	Low Freq (Hz)	High Freq (Hz)	Call
    1	Spectrogram 1	1	0.178	3.390	1340.5	2899.9	NOCA
    1	Waveform 1	1	0.178	3.390	1340.5	2899.9	NOCA
    2	Spectrogram 1	1	0.923	2.309	1723.5	4048.9	WOTH

Reading keeps one event per ``Selection`` (the spectrogram line when there is one, since it
holds the frequency bounds the annotator drew). ``Channel`` counts from 1 in Raven and from 0
in Events. The label is the ``Annotation`` column when present, else the first column that is
not a Raven measurement (``Call`` above); every further such column becomes an extra label
``label:<column>``. Measurements Raven adds (``Delta Time (s)``, ``Begin File``,
``File Offset (s)``, anything with a unit in parentheses, ...) are dropped, except that
``Begin File`` (or the base name of ``Begin Path``) names the recording. Without them the
recording is named after the table: ``Recording_1_Segment_07.Table.1.selections.txt`` belongs
to ``Recording_1_Segment_07`` (with the extension of the audio file found beside it, else
``.wav``).

Writing produces ``Selection, View, Channel, Begin Time (s), End Time (s), Low Freq (Hz),
High Freq (Hz), Begin File, Annotation`` (``Begin File`` keeps the recording's name) and one
column per ``label:*`` extra (prefix stripped), with
times at full float precision and unknown frequency bounds left empty.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from sonotype.annotations.events import (
    EXTRA_LABEL_PREFIX,
    extra_label_columns,
    validate_events,
)
from sonotype.annotations.formats.base import (
    AnnotationFormat,
    FormatOptions,
    blank_to_nan,
    decode_text,
    read_buffer,
    register_format,
    require_columns,
    utf8_buffer,
)
from sonotype.errors import AnnotationError, AnnotationFormatError

_STR = pd.api.types.pandas_dtype("str")

SELECTION, VIEW, CHANNEL = "Selection", "View", "Channel"
BEGIN, END = "Begin Time (s)", "End Time (s)"
LOW, HIGH = "Low Freq (Hz)", "High Freq (Hz)"
ANNOTATION = "Annotation"
SUFFIX = ".selections.txt"

#: Raven columns that are neither a label nor carry a unit in their name.
_PLAIN_MEASUREMENTS = frozenset(
    {
        SELECTION,
        VIEW,
        CHANNEL,
        "Begin File",
        "End File",
        "Begin Path",
        "End Path",
        "Begin Clock Time",
        "End Clock Time",
        "Begin Date",
        "End Date",
        "Begin Date Time",
        "End Date Time",
        "Begin Hour",
        "Begin Sample",
        "End Sample",
        "Occupancy",
        "Sound Files",
    }
)
# Raven names its measurements with their unit: "Delta Time (s)", "Avg Power Density (dB FS/Hz)".
_UNIT = re.compile(
    r"\((?:[kmµu]?(?:Hz|s|U)|dB(?: FS)?(?:/Hz)?|bits|samples|frames|%|[^()]*/[^()]*)\)\s*$"
)


def is_raven_measurement(column: str) -> bool:
    """Whether ``column`` is one of Raven's own columns rather than an annotation column."""
    return column in _PLAIN_MEASUREMENTS or bool(_UNIT.search(column))


def table_stem(name: str) -> str:
    """The recording stem of a selection table's file name (the part before ``.Table.``)."""
    if ".Table." in name:
        return name[: name.index(".Table.")]
    for suffix in (SUFFIX, ".txt"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


@register_format
class Raven(AnnotationFormat):
    """Raven selection table: tab-separated, one line per selection and view.

    Examples
    --------
    A table with one selection on channel 2 (``channel`` 1 in Events), labelled ``WOTH``,
    without frequency bounds::

        Selection	View	Channel	Begin Time (s)	End Time (s)	Annotation
        1	Spectrogram 1	2	0.5	1.25	WOTH
    """

    name = "raven"
    description = "Raven selection table (.selections.txt): boxes with time and frequency bounds"
    suffixes = (SUFFIX,)
    per_recording = True
    carries = frozenset(
        {"recording", "start_s", "stop_s", "label", "channel", "low_hz", "high_hz", "label:*"}
    )
    time_unit = "seconds"

    def sniff(self, path: Path, head: str) -> bool:
        return path.name.lower().endswith(".txt") and head.startswith("Selection\t")

    def filename_for(self, recording: str) -> str:
        return f"{Path(recording).stem}.Table.1{SUFFIX}"

    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        data = read_buffer(path)
        utf8 = utf8_buffer(data, options)
        regular = _read_regular(utf8) if utf8 is not None else None
        if regular is not None:
            table, numbers = regular
        else:
            frame, numbers = _read_table(decode_text(data.to_pybytes(), path, options), path)
            require_columns(
                frame, (SELECTION, BEGIN, END), path, format_name="Raven selection table"
            )
            frame, numbers = _one_row_per_selection(frame, numbers, path)
            table = dict(frame.items())
        lines = _LineNames(numbers)

        labels = [c for c in table if not is_raven_measurement(c)]
        label_column = ANNOTATION if ANNOTATION in labels else (labels[0] if labels else None)
        # Columns (a scalar for a value every row shares), not a DataFrame: validate_events
        # builds the one table, with no intermediate frame to fill and copy.
        events = {
            "recording": _recordings(table, path, options),
            "start_s": _stripped(table[BEGIN]),
            "stop_s": _stripped(table[END]),
            "label": table[label_column] if label_column else "",
            "channel": _channels(table, len(numbers), lines, path),
        }
        for column, name in ((LOW, "low_hz"), (HIGH, "high_hz")):
            if column in table:
                values = _stripped(table[column])
                # Raven leaves a bound empty when it is unknown; an all-empty column says nothing.
                if _any_value(values):
                    events[name] = blank_to_nan(values)
        for column in labels:
            if column != label_column:
                events[EXTRA_LABEL_PREFIX + column] = table[column]
        return validate_events(events, where=str(path), rows=lines, fill_defaults=True)

    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        extras = extra_label_columns(events)
        names = [column[len(EXTRA_LABEL_PREFIX) :] for column in extras]
        for column, name in zip(extras, names, strict=True):
            if name == ANNOTATION or is_raven_measurement(name) or not name:
                raise AnnotationError(
                    path,
                    f"extra label column {column!r} would be read back as Raven's own "
                    f"{name or 'unnamed'!r} column; rename it (e.g. {column}_label)",
                )
        for column in ("label", *extras):
            _check_one_line(events[column], column, path)

        n = len(events)
        columns = {
            SELECTION: [str(i) for i in range(1, n + 1)],
            VIEW: ["Spectrogram 1"] * n,
            CHANNEL: [str(c + 1) for c in events["channel"].tolist()],
            BEGIN: _full_precision(events["start_s"]),
            END: _full_precision(events["stop_s"]),
            LOW: _full_precision(events["low_hz"]) if "low_hz" in events else [""] * n,
            HIGH: _full_precision(events["high_hz"]) if "high_hz" in events else [""] * n,
            # Raven shows it as a measurement; it keeps the recording's name and folder.
            "Begin File": events["recording"].tolist(),
            ANNOTATION: events["label"].tolist(),
        }
        columns.update({name: events[c].tolist() for c, name in zip(extras, names, strict=True)})
        lines = ["\t".join(columns)]
        lines.extend("\t".join(row) for row in zip(*columns.values(), strict=True))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class _LineNames:
    """``names[i]`` is "line N", N the file line of row ``i``: made only for a message."""

    def __init__(self, numbers: np.ndarray) -> None:
        self.numbers = numbers

    def __getitem__(self, i) -> str:
        return f"line {self.numbers[i]}"

    def __call__(self, i: int) -> str:
        return self[i]


#: The numeric columns a regular table's reading parses in C.
_NUMERIC = (SELECTION, CHANNEL, BEGIN, END, LOW, HIGH)
#: Raven measurements that reading uses (for the recording's name).
_RECORDING_COLUMNS = ("Begin File", "Begin Path")
# Tabs only, no quoting (Raven has none), and an empty line kept as a row of empty cells:
# its empty Selection sends the table to the general reading, which skips blank lines.
_PARSE = pa_csv.ParseOptions(delimiter="\t", quote_char=False, ignore_empty_lines=False)


def _read_regular(
    data: pa.Buffer | bytes | str,
) -> tuple[dict[str, np.ndarray | pd.Series], np.ndarray] | None:
    """A regular table's columns read by Arrow's CSV reader (numbers as float64 arrays, text as
    ``str`` Series, Raven's other measurements left out), and each row's line number; None
    when the table is not regular, and the general reading (which names what is wrong)
    must read it. ``data`` is the file's text, or its bytes as UTF-8 without a byte-order mark.

    Regular: a header of distinct names with Selection, Begin and End Time, no blank line,
    every line with as many fields as the header, every Selection, Channel and time a number,
    each selection once and in increasing order, Channel a whole number from 1, frequency
    bounds numbers or empty. That is what Raven, and sonotype, write; the result equals the
    general reading's (tests compare them). Arrow ends lines at ``\n``, ``\r\n`` and
    ``\r``, as the general reading does. It parses numbers with correct rounding, in less time
    than pandas' C parser, and its text columns are the ``str`` dtype's own storage (issue 13).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(data, bytes):
        data = pa.py_buffer(data)
    head = data[: 1 << 16].to_pybytes()
    end = head.find(b"\n")
    header = head[: max(end, 0)]
    header = header[:-1] if header.endswith(b"\r") else header
    names = [name.strip() for name in header.decode("utf-8").split("\t")]
    last = data[-2:].to_pybytes()
    if (
        end < 0  # (no line end, a line end of \r only, or a header over 64 kB)
        or b"\r" in header
        or data.size - end - 1 - last.endswith(b"\n") <= 0  # (a header alone)
        or last == b"\n\n"  # a blank last line (Arrow would not see it)
        or len(set(names)) != len(names)
        or not {SELECTION, BEGIN, END} <= set(names)
    ):
        return None
    wanted = [
        name
        for name in names
        if name in _NUMERIC or name in _RECORDING_COLUMNS or not is_raven_measurement(name)
    ]
    types = {name: pa.float64() if name in _NUMERIC else pa.large_string() for name in wanted}
    try:
        table = pa_csv.read_csv(
            data,
            read_options=pa_csv.ReadOptions(
                column_names=names, skip_rows=1, use_threads=False, block_size=_block_size(data)
            ),
            parse_options=_PARSE,
            convert_options=pa_csv.ConvertOptions(
                column_types=types,
                include_columns=wanted,
                null_values=[""],  # an empty number is NaN; no text is missing
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,  # (checked by the caller)
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    columns: dict[str, np.ndarray | pd.Series] = {}
    for name in wanted:
        values = table.column(name)
        if name in _NUMERIC:
            columns[name] = values.to_numpy()  # (nulls as NaN)
        else:
            columns[name] = pd.Series(_STR.__from_arrow__(values), copy=False)
    selection = columns[SELECTION]
    checks = [selection, columns[BEGIN], columns[END]]
    if CHANNEL in columns:
        channel = columns[CHANNEL]
        checks.append(channel)
        if not (np.isfinite(channel).all() and (channel >= 1).all()):
            return None
        if (channel != np.round(channel)).any():
            return None
    if any(np.isnan(values).any() for values in checks):
        return None
    if (selection != np.round(selection)).any() or not (np.diff(selection) > 0).all():
        return None
    return columns, np.arange(2, len(selection) + 2)


def _block_size(data: bytes) -> int:
    """Arrow's block: the whole table in one (up to 64 MiB), so no line straddles two."""
    return min(max(len(data) + 1, 1 << 20), 1 << 26)


def _stripped(column: pd.Series | np.ndarray) -> pd.Series | np.ndarray:
    """Text cells without surrounding white space; numbers (a regular table's) as they are."""
    return column if column.dtype == np.float64 else column.str.strip()


def _any_value(values: pd.Series | np.ndarray) -> bool:
    """Whether a column holds anything but empty cells (NaN, for a regular table's numbers)."""
    if isinstance(values, np.ndarray):
        return not np.isnan(values).all()
    return bool((values.notna() & (values != "")).any())


def _read_table(text: str, path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The table as strings, and each row's line number in the file (for messages)."""
    # Only \n, \r\n and \r end a line: str.splitlines would also split labels at \u2028 etc.
    all_lines = re.split(r"\r\n|\r|\n", text) if "\r" in text else text.split("\n")
    if not all_lines or not all_lines[0].strip():
        raise AnnotationFormatError(
            path,
            "empty first line; a Raven selection table starts with a header line "
            "'Selection<TAB>View<TAB>Channel<TAB>Begin Time (s)<TAB>...'",
        )
    header = [name.strip() for name in all_lines[0].split("\t")]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise AnnotationFormatError(
            path, f"line 1: column {duplicated[0]!r} appears more than once in the header"
        )
    # Whole-list operations rather than a loop over the rows: a million selections read in
    # seconds.
    numbers = [n for n, line in enumerate(all_lines[1:], start=2) if line.strip()]
    lines = [all_lines[n - 1] for n in numbers]
    tabs = [line.count("\t") for line in lines]
    width = len(header)
    too_many = next((i for i, count in enumerate(tabs) if count >= width), None)
    if too_many is not None:
        raise AnnotationFormatError(
            path,
            f"line {numbers[too_many]}: {tabs[too_many] + 1} tab-separated fields but the "
            f"header names {width} columns; a label may contain a tab",
        )
    # Editors drop trailing empty fields; they are empty cells.
    lines = [line + "\t" * (width - 1 - count) for line, count in zip(lines, tabs, strict=True)]
    cells = "\t".join(lines).split("\t") if lines else []
    columns = {name: cells[j::width] for j, name in enumerate(header)}
    table = pd.DataFrame({name: pd.Series(columns[name], dtype="str") for name in header})
    return table, np.array(numbers, dtype=np.int64)


def _one_row_per_selection(
    table: pd.DataFrame, numbers: np.ndarray, path: Path
) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop the repeats of a selection in other views, preferring its spectrogram line."""
    selection = pd.to_numeric(table[SELECTION].str.strip(), errors="coerce").to_numpy()
    bad = np.flatnonzero(np.isnan(selection) | (selection != np.round(selection)))
    if len(bad):
        i = bad[0]
        raise AnnotationError(
            path,
            f"line {numbers[i]}: Selection={table[SELECTION].iloc[i]!r} is not a whole number",
        )
    if (np.diff(selection) > 0).all():
        # Every selection once, in order (one view, as most tables are): nothing to drop.
        return table, numbers
    views = table[VIEW] if VIEW in table else pd.Series("", index=table.index)
    order = pd.DataFrame(
        {
            "selection": selection,
            "not_spectrogram": ~views.str.strip().str.startswith("Spectrogram"),
            "position": np.arange(len(table)),
        }
    )
    keep = (
        order.sort_values(["selection", "not_spectrogram", "position"], kind="stable")
        .drop_duplicates("selection")["position"]
        .sort_values()
        .to_numpy()
    )
    return table.iloc[keep].reset_index(drop=True), numbers[keep]


def _recordings(table: dict, path: Path, options: FormatOptions) -> str | pd.Series:
    """Each row's recording: ``Begin File``, else the base name of ``Begin Path``, else the
    table's (one name for every row, returned as a string)."""
    default = options.recording_for(path, stem=table_stem(path.name))
    if options.recording:
        return default
    names = None
    if "Begin Path" in table:
        names = table["Begin Path"].str.strip().str.split(r"[\\/]", regex=True).str[-1]
    if "Begin File" in table:
        begin_file = table["Begin File"].str.strip()
        names = begin_file if names is None else begin_file.where(begin_file != "", names)
    if names is None:
        return default
    return names.where(names != "", default)


def _channels(table: dict, n: int, lines: _LineNames, path: Path) -> np.ndarray:
    if CHANNEL not in table:
        return np.zeros(n, dtype=np.int64)
    raw = _stripped(table[CHANNEL])
    if isinstance(raw, np.ndarray):
        channel = raw  # (a regular table's: whole numbers from 1)
    else:
        channel = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(channel) | (channel < 1) | (channel != np.round(channel)))
    if len(bad):
        i = bad[0]
        raise AnnotationError(
            path,
            f"{lines[i]}: Channel={raw.iloc[i]!r} must be a whole number >= 1 "
            "(Raven counts channels from 1)",
        )
    return channel.astype(np.int64) - 1


def _full_precision(values: pd.Series) -> list[str]:
    # repr gives the shortest text that reads back as the same float; NaN is an empty cell.
    return ["" if v != v else repr(v) for v in values.astype(np.float64).tolist()]


def _check_one_line(values: pd.Series, column: str, path: Path) -> None:
    bad = np.flatnonzero(values.str.contains(r"[\t\r\n]", regex=True).to_numpy())
    if len(bad):
        i = bad[0]
        raise AnnotationError(
            path,
            f"row {i + 1}: {column}={values.iloc[i]!r} contains a tab or line break, which a "
            "Raven selection table cannot hold; replace them with spaces",
        )
