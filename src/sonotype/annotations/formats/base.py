"""What every annotation format provides, and the context readers and writers share."""

from __future__ import annotations

import codecs
import io
import os
import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from sonotype.audio.readers import AUDIO_EXTENSIONS as _READABLE
from sonotype.errors import AnnotationError, AudioError
from sonotype.registry import Registry

#: Audio extensions looked for when a format must find the recording of an annotation file
#: (both cases: file systems are often case-sensitive).
AUDIO_EXTENSIONS = tuple(e for ext in _READABLE for e in (ext, ext.upper()))


@dataclass
class FormatOptions:
    """What a reader or writer may need beyond the file itself.

    Attributes
    ----------
    sr : float, optional
        Sample rate in Hz, for formats that count time in samples (SongExplorer ticks) or
        store it (evsonganaly ``Fs``), used when the recording itself cannot be found.
    recording : str, optional
        Recording name for formats whose files do not name it (Audacity, TextGrid, Raven);
        by default it is taken from the annotation file's name.
    audio_dirs : sequence of Path
        Folders to search for recordings; the annotation file's own folder is always searched.
    kind, source : str, optional
        Override the ``kind`` / ``source`` of every event read.
    known_rates : mapping of str to float
        Sample rates already known by recording name (a project's index), consulted first.
    encoding : str, optional
        The text encoding of the file (a Python codec name such as ``cp1252``); by default
        UTF-8, UTF-8 with a byte-order mark or UTF-16 with one, told from the bytes.
    option_names : mapping of str to str
        How the caller spells the options that error messages suggest, by Python parameter
        name: a command passes ``{"sr": "--sample-rate", "overwrite": "--force", ...}`` so its
        messages name its own options; absent names are spelled as Python parameters
        (``sr=HZ``). Keys: ``format``, ``to_format``, ``sr``, ``audio_dirs``, ``recording``,
        ``encoding``, ``overwrite``, ``tier_by``.
    """

    sr: float | None = None
    recording: str | None = None
    audio_dirs: Sequence[Path] = field(default_factory=tuple)
    kind: str | None = None
    source: str | None = None
    known_rates: Mapping[str, float] = field(default_factory=dict)
    encoding: str | None = None
    option_names: Mapping[str, str] = field(default_factory=dict)

    def spell(self, key: str, value: str = "") -> str:
        """How to name option ``key`` (given ``value``) to whoever called: see ``option_names``."""
        return spell_option(self.option_names, key, value)

    def find_audio(self, name: str, beside: Path) -> Path | None:
        """Path of recording ``name`` in ``beside``'s folder or an audio dir, if it exists."""
        for folder in (beside.parent, *map(Path, self.audio_dirs)):
            for candidate in (folder / name, folder / Path(name).name):
                if candidate.is_file():
                    return candidate
        return None

    def recording_for(self, annotation_path: Path, stem: str | None = None) -> str:
        """Recording name for a file that does not store one.

        ``self.recording`` if given; else an audio file beside the annotation file whose name
        starts with ``stem`` (default: the annotation file's stem); else ``stem + ".wav"``.
        """
        if self.recording:
            return self.recording
        stem = stem or annotation_path.stem
        for folder in (annotation_path.parent, *self.audio_dirs):
            # (os.path on strings: a third of the time of Path objects, for 30 names a file)
            start = os.path.join(folder, stem)
            for ext in AUDIO_EXTENSIONS:
                if os.path.isfile(start + ext):
                    return f"{stem}{ext}"
        return f"{stem}.wav"

    def sample_rate(self, recording: str, beside: Path, *, what: str) -> float:
        """Sample rate of ``recording``: read from its audio file if found, else ``self.sr``.

        Raises :class:`AnnotationError` naming ``beside`` when neither is available.
        """
        if recording in self.known_rates:
            return float(self.known_rates[recording])
        audio = self.find_audio(recording, beside)
        if audio is not None:
            from sonotype.audio import Recording

            try:
                return float(Recording(audio).sr)
            except AudioError:
                if self.sr is None:
                    raise
        if self.sr is not None:
            return float(self.sr)
        raise AnnotationError(
            beside,
            f"needs the sample rate of {recording!r} ({what}), but that recording is not "
            f"beside the file; pass {self.spell('sr', 'HZ')} or the folder it is in "
            f"({self.spell('audio_dirs', 'DIR')})",
        )


class AnnotationFormat(ABC):
    """An annotation file format: how to recognise, read and write it.

    Subclasses set the class attributes and implement :meth:`read` and :meth:`write` (and
    :meth:`sniff` when the file name alone cannot tell the format).
    """

    #: Name used on the command line and in ``read_events(format=...)``.
    name: ClassVar[str]
    #: One line for ``sonotype formats``.
    description: ClassVar[str]
    #: Lower-case file-name endings that identify the format ("_annotations.csv").
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: True when a file holds the events of one recording only.
    per_recording: ClassVar[bool] = False
    #: Events columns that survive a write-then-read round trip ("label:*" for extra labels).
    carries: ClassVar[frozenset[str]] = frozenset({"recording", "start_s", "stop_s", "label"})
    #: How the file counts time: "seconds", "milliseconds" or "samples".
    time_unit: ClassVar[str] = "seconds"
    can_write: ClassVar[bool] = True
    #: True when :meth:`write_parts` appends each part to the file as it comes, so memory
    #: holds one part; otherwise the parts are joined and written at once.
    appends: ClassVar[bool] = False

    def sniff(self, path: Path, head: str) -> bool:
        """Whether a file whose name did not decide its format is in this one.

        ``head`` is the file's first 4 kB decoded as text ("" for binary files).
        """
        return False

    @abstractmethod
    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        """Read the Events in ``path`` (validated, with file row numbers in errors)."""

    def read_parts(self, path: Path, options: FormatOptions) -> Iterator[pd.DataFrame]:
        """The Events of ``path`` as :meth:`read` gives them, in consecutive parts: formats
        that can read a large file a part at a time do (so memory holds one part); the
        others give the whole table as one part."""
        yield self.read(path, options)

    @abstractmethod
    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        """Write validated ``events`` to ``path``; ``path`` holds one recording when
        :attr:`per_recording` is true (the caller splits tables per recording)."""

    def write_parts(
        self, parts: Iterable[pd.DataFrame], path: Path, options: FormatOptions
    ) -> None:
        """Write the concatenation of ``parts`` (validated Events tables with the same columns,
        in order) to ``path``, as :meth:`write` writes one table. Formats that
        :attr:`append <appends>` hold one part in memory; the others join them first."""
        tables = list(parts)
        whole = tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)
        del tables
        self.write(whole, path, options)

    def filename_for(self, recording: str) -> str:
        """File name for the events of ``recording`` when writing one file per recording."""
        return f"{Path(recording).name}{self.suffixes[0] if self.suffixes else '.txt'}"

    def __repr__(self) -> str:
        return f"<annotation format {self.name!r}>"


FORMATS: Registry[AnnotationFormat] = Registry(
    "annotation format", entry_point_group="sonotype.formats"
)


def register_format(cls: type[AnnotationFormat]) -> type[AnnotationFormat]:
    """Class decorator: register an instance of ``cls`` under ``cls.name``."""
    FORMATS.add(cls.name, cls())
    return cls


def write_csv_parts(
    parts: Iterable[pd.DataFrame],
    path: Path,
    table_of: Callable[[pd.DataFrame, int], pd.DataFrame],
    *,
    header: bool = True,
) -> None:
    """Write the CSV tables ``table_of(part, first_row)`` makes of ``parts``, one after another,
    into the file ``path``, with the header (when ``header``) once: the same bytes as one
    table written whole, with one part in memory. ``first_row`` counts the rows of the
    parts before (for row numbers in errors). The tables must have the same columns."""
    first_row = 0
    columns = None
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for part in parts:
            table = table_of(part, first_row)
            if columns is not None and list(table.columns) != columns:
                # A programming error: the caller conforms every part to one set of columns.
                raise ValueError(f"parts differ in columns: {columns}, {list(table.columns)}")
            table.to_csv(handle, header=header and columns is None, index=False)
            columns = list(table.columns)
            first_row += len(part)
    if columns is None:
        raise ValueError("no parts to write")


def require_columns(
    frame: pd.DataFrame, needed: Iterable[str], path: Path, *, format_name: str
) -> None:
    """Raise an error naming the file and the missing columns, if any are missing."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise AnnotationError(
            path,
            f"not a {format_name} file: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (found: {found})",
        )


def row_names(table: pd.DataFrame) -> Callable[[int], str]:
    """Names for the rows of a table from :func:`read_csv_table` ("row 7", its spreadsheet
    row), made only for the row an error names (see ``validate_events(rows=...)``)."""
    numbers = table.index.to_numpy()
    return lambda i: f"row {numbers[i]}"


def blank_to_nan(column: pd.Series) -> pd.Series:
    """``column`` with blank cells (empty or whitespace) as missing values, for numeric parsing."""
    if column.dtype == np.float64:
        return column  # parsed as numbers already (read_csv_table's float_columns)
    return column.where(column.str.strip() != "")


#: Python parameter names of the options error messages suggest, where they differ from the key.
_PYTHON_NAMES = {"to_format": "format"}


def spell_option(option_names: Mapping[str, str], key: str, value: str = "") -> str:
    """``--sample-rate HZ`` if ``option_names`` spells ``key``, else ``sr=HZ``.

    A command-line flag with the value ``True`` (``--force``) is spelled without it.
    """
    if key in option_names:
        flag = option_names[key]
        return flag if not value or value == "True" else f"{flag} {value}"
    return f"{_PYTHON_NAMES.get(key, key)}={value or '...'}"


def open_text(path: Path, options: FormatOptions | None = None) -> str:
    """The text of an annotation file, in ``options.encoding`` if given, else told from its bytes.

    Without an encoding, a file must be UTF-16 with a byte-order mark, or UTF-8 (with or
    without one): other bytes are an :class:`AnnotationError` naming the offset of the first
    byte that is not UTF-8 and the option to name the encoding, rather than a guess that
    turns ``café`` into ``cafÃ©``.
    """
    return decode_text(read_bytes(path), path, options)


def read_bytes(path: Path) -> bytes:
    """The bytes of an annotation file; an :class:`AnnotationError` naming it if unreadable."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise AnnotationError(path, f"cannot be read ({error.strerror or error})") from None


def read_buffer(path: Path) -> pa.Buffer:
    """The bytes of an annotation file in an Arrow buffer, for readers that parse them with
    Arrow: a third of the time of :meth:`Path.read_bytes` for a 700 kB table (Arrow's memory
    pool reuses its pages; a new ``bytes`` object is fresh memory to fault in every time)."""
    try:
        with pa.OSFile(os.fspath(path)) as file:
            return file.read_buffer()
    except OSError:
        return pa.py_buffer(read_bytes(path))  # (its error, worded as for every reader)


def utf8_buffer(data: bytes | pa.Buffer, options: FormatOptions | None = None) -> pa.Buffer | None:
    """``data`` as UTF-8 without a byte-order mark when :func:`open_text` would read it as
    UTF-8 (no ``options.encoding``, no UTF-16 mark, valid UTF-8), else None.

    For readers that parse bytes (Arrow's CSV reader): decoding a file to text only to encode
    it again costs more than a tenth of reading a 10,000-line table.
    """
    data = pa.py_buffer(data) if isinstance(data, bytes) else data
    start = data[:3].to_pybytes()
    if (options and options.encoding) or start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if start == codecs.BOM_UTF8:
        data = data[len(codecs.BOM_UTF8) :]
    if data.size and np.frombuffer(data, dtype=np.uint8).max() >= 0x80:
        try:  # (not ASCII, which most tables are)
            data.to_pybytes().decode("utf-8")
        except UnicodeDecodeError:
            return None
    return data


def decode_text(data: bytes, path: Path, options: FormatOptions | None = None) -> str:
    """The text of ``data``, read from ``path``, as :func:`open_text` decodes it."""
    options = options or FormatOptions()
    if options.encoding:
        return _decode(data, options.encoding, path, options)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode(data, "utf-16", path, options)
    # UTF-16 without a byte-order mark is valid UTF-8 (every other byte NUL), read as junk.
    head = data[:200]
    for zeros, name in ((head[1::2], "utf-16-le"), (head[0::2], "utf-16-be")):
        if len(head) >= 4 and not zeros.strip(b"\x00") and head.strip(b"\x00"):
            raise AnnotationError(
                path,
                f"seems to be UTF-16 without a byte-order mark (every other byte is 0); name "
                f"its encoding with {options.spell('encoding', name)}, or save it as UTF-8",
            )
    return _decode(data, "utf-8-sig", path, options)


def _decode(data: bytes, encoding: str, path: Path, options: FormatOptions) -> str:
    try:
        text = data.decode(encoding)
    except LookupError:
        raise AnnotationError(
            path,
            f"{options.spell('encoding', repr(encoding))} is not a text encoding Python knows; "
            "use e.g. utf-8, cp1252 or latin-1",
        ) from None
    except UnicodeDecodeError as error:
        offset = error.start
        line = data.count(b"\n", 0, offset) + 1
        shown = data[offset : max(error.end, offset + 1)][:4].hex(" ").upper()
        if encoding == "utf-8-sig":
            fix = (
                "it is in another encoding, such as Windows cp1252 or Latin-1 (tables saved "
                "on Windows often are): save it again as UTF-8, or name its encoding with "
                f"{options.spell('encoding', 'cp1252')}"
            )
            what = "is not UTF-8"
        else:
            fix = f"name the encoding it was saved in with {options.spell('encoding', 'NAME')}"
            what = f"cannot be decoded as {encoding}"
        raise AnnotationError(
            path,
            f"line {line}: byte {offset} ({shown}, counting from 0) {what}; {fix}",
        ) from None
    return text


def read_csv_table(
    path: Path,
    *,
    format_name: str,
    header: bool = True,
    options: FormatOptions | None = None,
    float_columns: Collection[str] = (),
) -> pd.DataFrame:
    """Read a CSV annotation file as a table of strings, indexed by spreadsheet row number.

    Every cell is a ``str`` (``""`` where empty; "NA" stays "NA"); column names are stripped.
    Columns named in ``float_columns`` are parsed as float64 (empty cells as NaN, with
    correct rounding) when every cell of them is a number or empty; if any is not, every
    column is read as strings, so that the reader's validation names the cell.
    Blank lines are dropped without renumbering, so ``f"row {i}"`` for ``i`` in the index
    names each row as a spreadsheet does. A file with a header that holds nothing (0 bytes or
    blank) is an :class:`AnnotationError`; a headerless one gives a table with no columns.
    A row with more fields than the header (or than the first row) is an error naming it.
    The text is decoded as :func:`open_text` does, with ``options.encoding``.
    """
    data = read_bytes(path)
    utf8 = _utf8_bytes(data, options)
    # UTF-8 goes to the parser as read: decoding 70 MB only to encode it again took a sixth of
    # the time of reading a million events.
    data = utf8 if utf8 is not None else decode_text(data, path, options).encode("utf-8")
    at = data.find(b"\x00")
    if at >= 0:
        # pandas' CSV parser stops or misreads at a NUL; no CSV annotation file holds one.
        line = data.count(b"\n", 0, at) + 1
        raise AnnotationError(
            path,
            f"line {line}: a NUL character (a zero byte); the file is damaged or is not a "
            "text file",
        )
    first_row = 2 if header else 1
    if _blank(data):
        if header:
            raise AnnotationError(path, f"is empty; a {format_name} file starts with a header line")
        return pd.DataFrame(index=pd.RangeIndex(first_row, first_row))
    with warnings.catch_warnings():
        # pandas warns (and drops data) when the first data row has an extra field.
        warnings.simplefilter("error", pd.errors.ParserWarning)
        table = _read_floats(data, float_columns) if float_columns and header else None
        try:
            table = (
                table
                if table is not None
                else pd.read_csv(
                    io.BytesIO(data),  # (a BytesIO shares the bytes; a StringIO is 4x their size)
                    header=0 if header else None,
                    dtype=str,
                    keep_default_na=False,
                    index_col=False,
                    skipinitialspace=True,
                    skip_blank_lines=False,
                )
            )
        except pd.errors.ParserWarning:
            raise AnnotationError(
                path,
                f"row {first_row} has more fields than the header; quote fields that "
                "contain commas",
            ) from None
        except pd.errors.EmptyDataError:
            raise AnnotationError(path, f"holds no {format_name} table") from None
        except pd.errors.ParserError as error:
            found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
            problem = (
                f"row {found[2]} has {found[3]} fields where the "
                f"{'header has' if header else 'first row has'} {found[1]}"
                if found
                else f"cannot be read as CSV ({error})"
            )
            raise AnnotationError(path, f"{problem}; quote fields that contain commas") from None
    return _numbered(table, first_row)


def _numbered(table: pd.DataFrame, first_row: int) -> pd.DataFrame:
    """``table`` with stripped column names, indexed by spreadsheet row number from
    ``first_row``, without its blank rows (the others keep their numbers)."""
    table.columns = [str(c).strip() for c in table.columns]
    table.index = pd.RangeIndex(first_row, first_row + len(table))
    if not len(table.columns):
        return table
    blank = np.ones(len(table), dtype=bool)
    for name in table.columns:
        column = table[name]
        blank &= (column.isna() if column.dtype == np.float64 else column == "").to_numpy()
    return table[~blank] if blank.any() else table


class NotStreamable(Exception):
    """A CSV file that :func:`read_csv_parts` cannot read a part at a time: the whole-file
    reading (:func:`read_csv_table`) reads it, or names its problem."""


#: Files smaller than this are read whole: parts would save little memory.
STREAM_BYTES = 64 << 20
#: Rows per part of :func:`read_csv_parts`.
PART_ROWS = 200_000


def read_csv_parts(path: Path, float_columns: Collection[str]) -> Iterator[pd.DataFrame]:
    """The table :func:`read_csv_table` reads from a CSV file with a header, in parts of
    :data:`PART_ROWS` rows (each indexed by spreadsheet row number): memory holds one part.

    Only a file that the whole-file reading would read as UTF-8 with ``float_columns``
    parsed as numbers can be read so; anything else (another encoding, a NUL byte, a cell
    that is not a number, a row with extra fields) raises :class:`NotStreamable`, possibly
    after some parts, and the caller reads the file whole, which names the problem.
    """
    if _holds_nul(path):
        raise NotStreamable
    try:
        names = pd.read_csv(path, nrows=0, encoding="utf-8-sig", **_CSV_OPTIONS).columns
        dtypes = _float_dtypes(names, float_columns)
        if dtypes is None:
            raise NotStreamable
        first_row = 2
        with pd.read_csv(
            path, chunksize=PART_ROWS, encoding="utf-8-sig", **dtypes, **_CSV_OPTIONS
        ) as parts:
            while True:
                with warnings.catch_warnings():  # (not held while the caller has the part)
                    # pandas warns (and drops data) when a row has an extra field.
                    warnings.simplefilter("error", pd.errors.ParserWarning)
                    table = next(parts, None)
                if table is None:
                    return
                rows = len(table)
                yield _numbered(table, first_row)
                first_row += rows
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning):
        # (UnicodeDecodeError and pandas' EmptyDataError are ValueErrors too.)
        raise NotStreamable from None


def _holds_nul(path: Path) -> bool:
    with open(path, "rb") as file:
        return any(b"\x00" in block for block in iter(lambda: file.read(1 << 24), b""))


def _utf8_bytes(data: bytes, options: FormatOptions | None) -> bytes | None:
    """``data`` without a byte-order mark when :func:`open_text` would read it as UTF-8 (no
    ``options.encoding``, no UTF-16 mark, valid UTF-8), else None."""
    if (options and options.encoding) or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return data


#: A byte that is not white space to ``str.isspace`` (nor the start of a character beyond ASCII).
_NOT_SPACE = re.compile(rb"[^ \t\n\r\x0b\x0c\x1c-\x1f]")


def _blank(data: bytes) -> bool:
    """Whether UTF-8 ``data`` is empty or white space only, as ``str.isspace`` says, looking
    no further than its first byte that is not (a copy or decoding of 70 MB otherwise)."""
    first = _NOT_SPACE.search(data)
    if first is None:
        return True
    return data[first.start()] >= 0x80 and data.decode("utf-8").isspace()


def _read_floats(data: bytes, float_columns: Collection[str]) -> pd.DataFrame | None:
    """The table with ``float_columns`` parsed as numbers by pandas' C parser (the others as
    strings), or None when a cell there is not a number: then the caller reads strings.

    Parsing in C skips making a string per number: a third of the time and memory of reading
    a million events. pandas 3 parses with correct rounding (a test checks that the numbers
    equal those parsed from the strings).
    """
    try:
        names = pd.read_csv(io.BytesIO(data), nrows=0, **_CSV_OPTIONS).columns
        dtypes = _float_dtypes(names, float_columns)
        if dtypes is None:
            return None
        return pd.read_csv(io.BytesIO(data), **dtypes, **_CSV_OPTIONS)
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning):
        return None


_CSV_OPTIONS = {
    "keep_default_na": False,
    "index_col": False,
    "skipinitialspace": True,
    "skip_blank_lines": False,
}


def _float_dtypes(names: pd.Index, float_columns: Collection[str]) -> dict | None:
    """``read_csv``'s ``dtype`` and ``na_values`` that parse the columns among ``names``
    named in ``float_columns`` as numbers and the others as strings; None when there are
    none to parse or names repeat."""
    floats = [c for c in names if str(c).strip() in float_columns]
    if not floats or len(set(names)) != len(names):
        return None
    return {
        "dtype": {c: np.float64 if c in floats else str for c in names},
        "na_values": {c: [""] for c in floats},
    }
