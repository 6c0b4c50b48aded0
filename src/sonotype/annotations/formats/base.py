"""What every annotation format provides, and the context readers and writers share."""

from __future__ import annotations

import io
import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pandas as pd

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
    """

    sr: float | None = None
    recording: str | None = None
    audio_dirs: Sequence[Path] = field(default_factory=tuple)
    kind: str | None = None
    source: str | None = None
    known_rates: Mapping[str, float] = field(default_factory=dict)

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
        for folder in (annotation_path.parent, *map(Path, self.audio_dirs)):
            for ext in AUDIO_EXTENSIONS:
                if (folder / f"{stem}{ext}").is_file():
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
            "beside the file; pass sr= (--sample-rate HZ) or audio_dirs= (--audio DIR)",
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

    def sniff(self, path: Path, head: str) -> bool:
        """Whether a file whose name did not decide its format is in this one.

        ``head`` is the file's first 4 kB decoded as text ("" for binary files).
        """
        return False

    @abstractmethod
    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        """Read the Events in ``path`` (validated, with file row numbers in errors)."""

    @abstractmethod
    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        """Write validated ``events`` to ``path``; ``path`` holds one recording when
        :attr:`per_recording` is true (the caller splits tables per recording)."""

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


def blank_to_nan(column: pd.Series) -> pd.Series:
    """``column`` with blank cells (empty or whitespace) as missing values, for numeric parsing."""
    return column.where(column.str.strip() != "")


def open_text(path: Path) -> str:
    """Read a text file that may be UTF-8 (with or without BOM) or UTF-16 (with BOM)."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_csv_table(path: Path, *, format_name: str, header: bool = True) -> pd.DataFrame:
    """Read a CSV annotation file as a table of strings, indexed by spreadsheet row number.

    Every cell is a ``str`` (``""`` where empty; "NA" stays "NA"); column names are stripped.
    Blank lines are dropped without renumbering, so ``f"row {i}"`` for ``i`` in the index
    names each row as a spreadsheet does. A file with a header that holds nothing (0 bytes or
    blank) is an :class:`AnnotationError`; a headerless one gives a table with no columns.
    A row with more fields than the header (or than the first row) is an error naming it.
    """
    text = open_text(path)
    first_row = 2 if header else 1
    if not text.strip():
        if header:
            raise AnnotationError(path, f"is empty; a {format_name} file starts with a header line")
        return pd.DataFrame(index=pd.RangeIndex(first_row, first_row))
    with warnings.catch_warnings():
        # pandas warns (and drops data) when the first data row has an extra field.
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            table = pd.read_csv(
                io.StringIO(text),
                header=0 if header else None,
                dtype=str,
                keep_default_na=False,
                index_col=False,
                skipinitialspace=True,
                skip_blank_lines=False,
            )
        except pd.errors.ParserWarning:
            raise AnnotationError(
                path,
                f"row {first_row} has more fields than the header; quote fields that "
                "contain commas",
            ) from None
        except pd.errors.ParserError as error:
            found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
            problem = (
                f"row {found[2]} has {found[3]} fields where the "
                f"{'header has' if header else 'first row has'} {found[1]}"
                if found
                else f"cannot be read as CSV ({error})"
            )
            raise AnnotationError(path, f"{problem}; quote fields that contain commas") from None
    table.columns = [str(c).strip() for c in table.columns]
    table.index = pd.RangeIndex(first_row, first_row + len(table))
    return table[~(table == "").all(axis=1)] if len(table.columns) else table
