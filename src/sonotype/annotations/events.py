"""The Events table: sonotype's one annotation model.

An Events table is a :class:`pandas.DataFrame` with these columns, in this order:

=============  =========  =====================================================================
column         dtype      meaning
=============  =========  =====================================================================
recording      str        the recording, as a path relative to the project's audio root
start_s        float64    onset in seconds from the start of the recording
stop_s         float64    offset in seconds; ``start_s == stop_s`` is a point event (a pulse)
label          str        what the sound is ("mel-pulse", "a", "syll_3")
kind           str        annotated, detected, predicted, missed, mistaken, ...
channel        int64      0-based channel of the recording
source         str        who or what made the event (annotator, detector or model id)
low_hz         float64    optional: lower frequency bound (NaN where unknown)
high_hz        float64    optional: upper frequency bound (NaN where unknown)
score          float64    optional: confidence or probability (NaN where unknown)
label:NAME     str        optional: any number of further labels (``label:call_type``)
=============  =========  =====================================================================

:func:`validate_events` checks a table against this schema and returns it in canonical form;
its errors name the file and the row ("notes.csv row 17: stop_s=1.2 is before start_s=1.5").
Row numbers count from 1 as a spreadsheet does; readers of text files pass the file's own line
numbers so a message points at the line to fix.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sonotype.errors import AnnotationError

REQUIRED_COLUMNS = ("recording", "start_s", "stop_s", "label", "kind", "channel", "source")
OPTIONAL_COLUMNS = ("low_hz", "high_hz", "score")
EXTRA_LABEL_PREFIX = "label:"
#: The longest label or recording name accepted: labels are names, and a megabyte "label" is
#: a file read wrongly (an unclosed quote swallows every row after it).
MAX_TEXT_CHARS = 10_000
#: Kinds that sonotype's own stages produce; any other non-empty word is allowed too.
KINDS = ("annotated", "detected", "predicted", "missed", "mistaken")

_STRING_COLUMNS = ("recording", "label", "kind", "source")
_FLOAT_COLUMNS = ("start_s", "stop_s", *OPTIONAL_COLUMNS)
_DEFAULTS = {"kind": "annotated", "channel": 0, "source": ""}
_NUMERIC_COLUMNS = (*_FLOAT_COLUMNS, "channel")
_STR = pd.api.types.pandas_dtype("str")
try:  # pandas 3: a DataFrame made of given blocks
    from pandas.api.internals import create_dataframe_from_blocks as _create_from_blocks
except ImportError:
    _create_from_blocks = None


def empty_events(extra_labels: Sequence[str] = ()) -> pd.DataFrame:
    """An Events table with no rows (and the given ``label:*`` columns)."""
    columns = {name: pd.Series(dtype=_dtype(name)) for name in REQUIRED_COLUMNS}
    columns.update({name: pd.Series(dtype="str") for name in extra_labels})
    return pd.DataFrame(columns)


def make_events(
    recording: str | Sequence[str],
    start_s: float | Sequence[float],
    stop_s: float | Sequence[float],
    label: str | Sequence[str],
    *,
    kind: str | Sequence[str] = "annotated",
    channel: int | Sequence[int] = 0,
    source: str | Sequence[str] = "",
    low_hz: float | Sequence[float] | None = None,
    high_hz: float | Sequence[float] | None = None,
    score: float | Sequence[float] | None = None,
    extra_labels: dict[str, Sequence[str]] | None = None,
    where: str = "events",
) -> pd.DataFrame:
    """Build a validated Events table; scalars are broadcast to the length of the times.

    Examples
    --------
    >>> ev = make_events("song.wav", [0.1, 0.5], [0.3, 0.5], ["a", "pulse"])
    >>> ev[["start_s", "stop_s", "label"]].to_records(index=False).tolist()
    [(0.1, 0.3, 'a'), (0.5, 0.5, 'pulse')]
    """
    start = np.atleast_1d(np.asarray(start_s, dtype=np.float64))
    n = len(start)
    table: dict[str, object] = {
        "recording": _broadcast(recording, n),
        "start_s": start,
        "stop_s": _broadcast(stop_s, n),
        "label": _broadcast(label, n),
        "kind": _broadcast(kind, n),
        "channel": _broadcast(channel, n),
        "source": _broadcast(source, n),
    }
    for name, value in (("low_hz", low_hz), ("high_hz", high_hz), ("score", score)):
        if value is not None:
            table[name] = _broadcast(value, n)
    for name, values in (extra_labels or {}).items():
        column = name if name.startswith(EXTRA_LABEL_PREFIX) else EXTRA_LABEL_PREFIX + name
        table[column] = _broadcast(values, n)
    return validate_events(pd.DataFrame(table), where=where)


def validate_events(
    events: pd.DataFrame | Mapping[str, object],
    *,
    where: str = "events",
    rows: Sequence[str] | Callable[[int], str] | None = None,
    fill_defaults: bool = False,
) -> pd.DataFrame:
    """Check ``events`` against the schema and return a canonical copy.

    Parameters
    ----------
    events : DataFrame, or mapping of str to array or scalar
        The table to check. A reader may pass its columns as a mapping instead (arrays,
        Series, or a scalar meaning the same value in every row), which spares building a
        DataFrame that is only checked and copied; at least one must be an array.
    where : str
        The file or table the events came from, named in error messages.
    rows : sequence of str, or callable, optional
        How to name each row in messages ("line 18"); by default "row 1", "row 2", ...
        A callable is given a row's position (from 0) and returns its name: the names are
        then made only for the row a message names, not for a million rows that are fine.
    fill_defaults : bool
        Add missing ``kind``, ``channel`` and ``source`` columns with their defaults
        (``annotated``, 0, "") instead of reporting them as missing.

    Returns
    -------
    DataFrame
        Columns in canonical order and dtypes, with a fresh ``RangeIndex``. It shares no
        memory with ``events``: writing into one never changes the other.

    Raises
    ------
    AnnotationError
        Missing or unknown columns, NaN or negative times, stop before start, missing labels,
        negative channels, frequency bounds out of order, labels or recording names longer
        than :data:`MAX_TEXT_CHARS`. The message names ``where`` and the
        first offending row, and says how many other rows share the problem.
    """
    columns, n = _columns_of(events)
    if rows is None:
        row_names = _RowNames(lambda i: f"row {i + 1}")
    elif callable(rows):
        row_names = _RowNames(rows)
    else:
        row_names = list(rows)
        if len(row_names) != n:
            raise ValueError(f"rows has {len(row_names)} names for {n} events")
    if fill_defaults:
        for name, value in _DEFAULTS.items():
            columns.setdefault(name, value)

    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise AnnotationError(
            where,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"an Events table needs {', '.join(REQUIRED_COLUMNS)}",
        )
    unknown = [
        str(name)
        for name in columns
        if name not in REQUIRED_COLUMNS
        and name not in OPTIONAL_COLUMNS
        and not str(name).startswith(EXTRA_LABEL_PREFIX)
    ]
    if unknown:
        raise AnnotationError(
            where,
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"rename further labels to {EXTRA_LABEL_PREFIX}NAME (e.g. "
            f"{EXTRA_LABEL_PREFIX}{unknown[0]}) or drop them",
        )
    # Scalars (a reader's one recording, the defaults) become columns only now; a text
    # scalar is checked once, not once per row.
    texts = {name: value for name, value in columns.items() if isinstance(value, str)}
    columns = {name: _as_column(name, value, n) for name, value in columns.items()}

    def fail(mask: np.ndarray, describe) -> None:
        bad = np.flatnonzero(mask)
        if len(bad):
            i = bad[0]
            others = f" ({len(bad) - 1} more rows have this problem)" if len(bad) > 1 else ""
            raise AnnotationError(where, f"{row_names[i]}: {describe(i)}{others}")

    out = {}
    for name in _STRING_COLUMNS:
        column = columns[name]
        fail(_isna(column), lambda i, name=name: f"{name} is missing")
        out[name] = column if column.dtype == "str" else column.astype(str)

    def empty(name: str) -> np.ndarray:
        if name in texts:
            return np.full(n, texts[name] == "")
        return np.asarray(_array(out[name]) == "", dtype=bool)

    fail(empty("recording"), lambda i: "recording is empty")
    fail(empty("kind"), lambda i: "kind is empty; use e.g. 'annotated'")

    for name in (n for n in _FLOAT_COLUMNS if n in columns):
        out[name] = _as_float(columns[name], name, where, row_names)
    start, stop = out["start_s"], out["stop_s"]
    if not _numbers_fine(out):
        # Something is wrong: find the first problem, in the order the messages have always
        # been given (each check a pass over the rows, which valid tables are spared).
        for name, values in (("start_s", start), ("stop_s", stop)):
            fail(np.isnan(values), lambda i, name=name: f"{name} is missing (NaN)")
            fail(~np.isfinite(values), lambda i, n=name, v=values: f"{n}={v[i]} is not finite")
            fail(values < 0, lambda i, n=name, v=values: f"{n}={v[i]:g} is negative")
        fail(
            stop < start,
            lambda i: (
                f"stop_s={stop[i]:g} is before start_s={start[i]:g}; "
                "swap them if they were entered the wrong way round"
            ),
        )
        for name in (n for n in OPTIONAL_COLUMNS[:2] if n in out):
            values = out[name]
            fail(values < 0, lambda i, n=name, v=values: f"{n}={v[i]:g} is negative")
        if "low_hz" in out and "high_hz" in out:
            low, high = out["low_hz"], out["high_hz"]
            fail(
                high < low,
                lambda i: f"high_hz={high[i]:g} is below low_hz={low[i]:g}; swap them",
            )

    given = columns["channel"]
    if isinstance(given, np.ndarray) and given.dtype.kind in "iu" and _whole_channels(given):
        out["channel"] = given.astype(np.int64)  # (a copy)
    else:
        channel = _as_float(given, "channel", where, row_names)
        fail(np.isnan(channel), lambda i: "channel is missing")
        fail(
            (channel < 0) | (channel != np.round(channel)) | ~(channel < 2**31),
            lambda i: f"channel={channel[i]:g} must be a whole number >= 0 (channels count from 0)",
        )
        out["channel"] = channel.astype(np.int64)

    extras = [name for name in columns if str(name).startswith(EXTRA_LABEL_PREFIX)]
    for name in extras:
        column = columns[name]
        if column.dtype != "str" or _isna(column).any():
            column = column.astype(object).where(column.notna(), "").astype(str)
        out[name] = column
    for name in ("recording", "label", *extras):
        if name in texts:
            length = np.full(n, len(texts[name]))
        else:
            length = _lengths_over(out[name], MAX_TEXT_CHARS)
        fail(
            length > MAX_TEXT_CHARS,
            lambda i, n=name, length=length: (
                f"{n} is {length[i]:,} characters long, more than the {MAX_TEXT_CHARS:,} a "
                "label or name may have; an unclosed quote or a wrong delimiter may have "
                "joined many fields into one"
            ),
        )

    order = [*REQUIRED_COLUMNS, *(n for n in OPTIONAL_COLUMNS if n in out), *extras]
    return _frame({name: out[name] for name in order})


def is_canonical(events: pd.DataFrame) -> bool:
    """Whether ``events`` has the columns, column order, dtypes and index that
    :func:`validate_events` returns (its values are not checked)."""
    columns = list(events.columns)
    extras = [c for c in columns if str(c).startswith(EXTRA_LABEL_PREFIX)]
    order = [*REQUIRED_COLUMNS, *(n for n in OPTIONAL_COLUMNS if n in events.columns), *extras]
    if columns != order or not isinstance(events.index, pd.RangeIndex):
        return False
    if events.index.start != 0 or events.index.step != 1:
        return False
    # (One dtypes Series, not a column Series per name: a tenth of the time.)
    return all(t == _dtype(name) for name, t in zip(columns, events.dtypes.tolist(), strict=True))


def extra_label_columns(events: pd.DataFrame) -> list[str]:
    """The ``label:*`` columns of ``events``, in table order."""
    return [c for c in events.columns if str(c).startswith(EXTRA_LABEL_PREFIX)]


def is_point(events: pd.DataFrame) -> np.ndarray:
    """Boolean mask of point events (``start_s == stop_s``)."""
    return (events["start_s"] == events["stop_s"]).to_numpy()


def concat_events(tables: Sequence[pd.DataFrame], *, validated: bool = False) -> pd.DataFrame:
    """Concatenate Events tables; optional columns absent from some tables become NaN/"".

    ``validated`` says that every table is one :func:`validate_events` returned (a reader's):
    the values are then not checked again, only the columns put in canonical order.
    """
    tables = [t for t in tables if len(t.columns)]
    if not tables:
        return empty_events()
    frame = pd.concat(tables, ignore_index=True, sort=False) if len(tables) > 1 else tables[0]
    for name in extra_label_columns(frame):
        if frame[name].isna().any():
            frame[name] = frame[name].astype(object).where(frame[name].notna(), "").astype(str)
    if validated and all(is_canonical(t) for t in tables):
        extras = extra_label_columns(frame)
        order = [*REQUIRED_COLUMNS, *(n for n in OPTIONAL_COLUMNS if n in frame), *extras]
        frame = frame[order].reset_index(drop=True)
        if is_canonical(frame):
            return frame
    return validate_events(frame, where="concatenated events")


def _numbers_fine(out: dict) -> bool:
    """Whether the times and frequency bounds in ``out`` pass every check of
    :func:`validate_events`, tested in a few passes without temporaries (min and max carry a
    NaN through, so a NaN time fails here too)."""
    start, stop = out["start_s"], out["stop_s"]
    if not len(start):
        return True
    for values in (start, stop):
        if not (values.min() >= 0 and values.max() < np.inf):
            return False
    if (stop < start).any():
        return False
    with np.errstate(invalid="ignore"):  # (NaN bounds are allowed)
        if any((out[name] < 0).any() for name in ("low_hz", "high_hz") if name in out):
            return False
        if "low_hz" in out and "high_hz" in out and (out["high_hz"] < out["low_hz"]).any():
            return False
    return True


def _whole_channels(channel: np.ndarray) -> bool:
    """Whether integer ``channel`` numbers are all from 0 to 2**31 - 1."""
    return not len(channel) or (channel.min() >= 0 and channel.max() < 2**31)


def _columns_of(events: pd.DataFrame | Mapping[str, object]) -> tuple[dict[str, object], int]:
    """The columns of ``events`` by name, and the number of rows."""
    if isinstance(events, pd.DataFrame):
        return dict(events.items()), len(events)
    columns = dict(events)
    lengths = {len(v) for v in columns.values() if not _is_scalar(v)}
    if len(lengths) != 1:
        raise ValueError(
            "the columns of events have different lengths" if lengths else "no column is an array"
        )
    return columns, lengths.pop()


def _is_scalar(value) -> bool:
    return isinstance(value, str) or (
        np.ndim(value) == 0 and not isinstance(value, (pd.Series, pd.api.extensions.ExtensionArray))
    )


def _as_column(name: str, value, n: int) -> pd.Series | pd.api.extensions.ExtensionArray:
    """``value`` as a Series of ``n`` rows (a scalar repeated, as a ``str`` array for text);
    numbers for a numeric column stay an array (``_as_float`` copies them)."""
    if isinstance(value, pd.Series):
        return value
    if isinstance(value, str) and name not in _NUMERIC_COLUMNS:
        return repeated_text(value, n)
    if _is_scalar(value):
        value = np.full(n, value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and name in _NUMERIC_COLUMNS:
        return value
    return pd.Series(value, copy=False)


def repeated_text(value: str, n: int) -> pd.api.extensions.ExtensionArray:
    """``n`` times ``value`` as a ``str`` array (for a column every event shares).

    Built in Arrow's layout directly where the ``str`` dtype is stored by Arrow: 0.01 ms for
    10,000 rows, where a scalar set into a column takes 1 ms (a Python object per row).
    """
    if getattr(_STR, "storage", None) == "pyarrow":
        data = value.encode("utf-8")
        offsets = np.arange(n + 1, dtype=np.int64) * len(data)
        array = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))
        return _STR.__from_arrow__(array)
    return pd.array(np.full(n, value, dtype=object), dtype=_STR)


def _isna(column: pd.Series | pd.api.extensions.ExtensionArray) -> np.ndarray:
    return _array(column).isna() if column.dtype == "str" else column.isna().to_numpy()


def _array(column: pd.Series | pd.api.extensions.ExtensionArray):
    return column.array if isinstance(column, pd.Series) else column


def _lengths_over(column: pd.Series, limit: int) -> np.ndarray:
    """The length in characters of each text of ``column`` (all 0 when none is longer than
    ``limit``: a text has at least as many UTF-8 bytes as characters, and Arrow counts bytes
    without looking at them)."""
    if getattr(column.dtype, "storage", None) == "pyarrow":
        data = _array(column).__arrow_array__()
        longest = pc.max(pc.binary_length(data)).as_py() if len(data) else None
        if longest is None or longest <= limit:
            return np.zeros(len(column), dtype=np.int64)
    return pd.Series(column, copy=False).str.len().to_numpy()


def _frame(out: dict[str, object]) -> pd.DataFrame:
    """The Events table of ``out``'s columns (str Series and float or int arrays).

    Each column is its own block, as callers have always had: code that writes into
    ``events[["start_s", "stop_s"]].to_numpy()`` needs a copy, not a read-only view. The
    blocks are made directly: building a DataFrame and then replacing its float columns one
    by one cost most of the time of reading a 10,000-row table.
    """
    arrays = {}
    for name, values in out.items():
        if isinstance(values, (pd.Series, pd.api.extensions.ExtensionArray)):
            arrays[name] = _array(values).copy()  # (Arrow's data is immutable: a shallow copy)
        elif not (values.flags.owndata and values.flags.writeable):
            arrays[name] = values.copy()  # (a view of the caller's data)
        else:
            arrays[name] = values
    n = len(next(iter(arrays.values())))
    if _create_from_blocks is None:  # pandas before 3.0
        frame = pd.DataFrame(arrays)
        for name in _FLOAT_COLUMNS:
            if name in frame:
                frame[name] = frame[name].astype(np.float64)
        return frame
    blocks = [
        (a if isinstance(a, pd.api.extensions.ExtensionArray) else a.reshape(1, -1), np.array([i]))
        for i, a in enumerate(arrays.values())
    ]
    # (A copy of a cached index: its name can be set in place, and must be the table's own.)
    return _create_from_blocks(blocks, pd.RangeIndex(n), _column_index(tuple(arrays)).copy())


@functools.lru_cache(maxsize=256)
def _column_index(names: tuple[str, ...]) -> pd.Index:
    """The column index of ``names``, made once (35 us each time otherwise; a copy takes 3)."""
    return pd.Index(names)


class _RowNames:
    """Row names made on demand (``names[i]``), for the one row an error message names."""

    def __init__(self, name_of: Callable[[int], str]) -> None:
        self._name_of = name_of

    def __getitem__(self, i) -> str:
        return self._name_of(int(i))


def _dtype(name: str) -> str:
    if name in _FLOAT_COLUMNS:
        return "float64"
    if name == "channel":
        return "int64"
    return "str"


def _broadcast(value, n: int) -> np.ndarray:
    if isinstance(value, (str, bytes)) or np.ndim(value) == 0:
        return np.full(n, value, dtype=object if isinstance(value, str) else None)
    array = np.asarray(value, dtype=object)
    if len(array) != n:
        raise AnnotationError("events", f"a column has {len(array)} values for {n} events")
    return array


def _as_float(
    column: pd.Series | np.ndarray, name: str, where: str, rows: Sequence[str]
) -> np.ndarray:
    """``column`` as float64; text parses with correct rounding (numpy's), which
    ``pd.to_numeric`` does not guarantee, so times written at full precision read back exact."""
    if isinstance(column, np.ndarray):
        return np.array(column, dtype=np.float64)  # (a copy: the caller's array stays its own)
    try:
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        pass
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    not_numbers = np.flatnonzero(np.isnan(values) & column.notna().to_numpy())
    if len(not_numbers):
        i = not_numbers[0]
        raise AnnotationError(where, f"{rows[i]}: {name}={column.iloc[i]!r} is not a number")
    return values
