"""Reading and writing Events in any registered annotation format."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.annotations.events import (
    EXTRA_LABEL_PREFIX,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    concat_events,
    is_canonical,
    repeated_text,
    validate_events,
)
from sonotype.annotations.formats import FORMATS, AnnotationFormat, FormatOptions
from sonotype.annotations.formats.base import spell_option
from sonotype.annotations.output_paths import output_path
from sonotype.atomic import atomic_paths, staging_folder
from sonotype.errors import AnnotationError, AnnotationFormatError, ParameterError

PathLike = str | os.PathLike[str]


def read_events(
    path: PathLike,
    *,
    format: str | None = None,
    sr: float | None = None,
    recording: str | None = None,
    audio_dirs: Sequence[PathLike] = (),
    kind: str | None = None,
    source: str | None = None,
    relative_to: PathLike | None = None,
    known_rates: Mapping[str, float] | None = None,
    encoding: str | None = None,
    option_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read an annotation file into an Events table.

    Parameters
    ----------
    path : path
        The annotation file.
    format : str, optional
        A name from ``sonotype formats``; inferred from the file name and content if omitted.
    sr : float, optional
        Sample rate in Hz for formats that count samples, when the recording is not beside
        the file (or in ``audio_dirs``) to be asked.
    recording : str, optional
        Recording name for formats that do not store one (default: from the file name).
    audio_dirs : sequence of path
        Further folders in which to look for the recordings the file names.
    kind, source : str, optional
        Set the ``kind`` / ``source`` of every event, overriding what the file says.
    relative_to : path, optional
        An audio root: recording names, which annotation files give relative to their own
        folder, are rewritten relative to this folder (``train/bird1.wav`` for a file in
        ``ROOT/train``). Names that lead outside it are kept as the file gives them.
    known_rates : mapping of str to float, optional
        Sample rates by recording name, consulted before looking for the audio.
    encoding : str, optional
        The file's text encoding (``cp1252``, ``latin-1``, ...); by default UTF-8, or UTF-16
        with a byte-order mark, told from the bytes. Other bytes are an error, never a guess.
    option_names : mapping of str to str, optional
        How the caller spells the options its error messages suggest
        (``{"format": "--from", "sr": "--sample-rate"}``); see :class:`FormatOptions`.

    Returns
    -------
    DataFrame
        A validated Events table (see :mod:`sonotype.annotations.events`).

    Examples
    --------
    >>> events = read_events("song.wav.not.mat")  # doctest: +SKIP
    """
    fmt, options = _reading(
        path, format, sr, recording, audio_dirs, known_rates, encoding, option_names
    )
    return _finish(fmt.read(Path(path), options), path, kind, source, relative_to)


def read_event_parts(
    path: PathLike,
    *,
    format: str | None = None,
    sr: float | None = None,
    recording: str | None = None,
    audio_dirs: Sequence[PathLike] = (),
    kind: str | None = None,
    source: str | None = None,
    relative_to: PathLike | None = None,
    known_rates: Mapping[str, float] | None = None,
    encoding: str | None = None,
    option_names: Mapping[str, str] | None = None,
) -> Iterator[pd.DataFrame]:
    """The Events :func:`read_events` reads, in consecutive parts (same parameters).

    A simple CSV file of 64 MB or more is read 200,000 rows at a time, so memory holds one
    part however large the file; other files are one part. An error in a later part comes
    after the earlier parts were given.
    """
    fmt, options = _reading(
        path, format, sr, recording, audio_dirs, known_rates, encoding, option_names
    )
    for events in fmt.read_parts(Path(path), options):
        yield _finish(events, path, kind, source, relative_to)


def _reading(path, format, sr, recording, audio_dirs, known_rates, encoding, option_names):
    """The format that reads ``path`` and the options to read it with, after checking that
    it is a file (the parameters of :func:`read_events`)."""
    path = Path(path)
    if not path.exists():
        raise AnnotationError(path, "no such file")
    if path.is_dir():
        raise AnnotationError(path, "is a folder; pass the annotation files in it instead")
    names = dict(option_names or {})
    fmt = FORMATS.get(format) if format else infer_format(path, option_names=names)
    options = FormatOptions(
        sr=sr,
        recording=recording,
        audio_dirs=tuple(Path(d) for d in audio_dirs),
        known_rates=dict(known_rates or {}),
        encoding=encoding,
        option_names=names,
    )
    return fmt, options


def _finish(events, path, kind, source, relative_to) -> pd.DataFrame:
    """A reader's events with what :func:`read_events` sets on them."""
    path = Path(path)
    if not is_canonical(events):
        # A reader (a plugin's, perhaps) that did not validate: check it here.
        events = validate_events(events, where=str(path))
    # (Columns built as Arrow text directly: a scalar set into a column goes through a Python
    # object per row, a millisecond for every 10,000 events.)
    if kind is not None:
        events["kind"] = repeated_text(str(kind), len(events))
    if source is not None:
        events["source"] = repeated_text(str(source), len(events))
    if relative_to is not None:
        names = _relative_names(events["recording"], path.parent, Path(relative_to))
        if names is not None:
            events["recording"] = names
    # The reader validated every value; only the columns set here need a check, and of
    # them only an empty kind can fail it (as validate_events words it for the first row).
    if kind == "" and len(events):
        raise AnnotationError(str(path), "row 1: kind is empty; use e.g. 'annotated'")
    return events


def write_events(
    events: pd.DataFrame,
    path: PathLike,
    *,
    format: str | None = None,
    sr: float | None = None,
    audio_dirs: Sequence[PathLike] = (),
    known_rates: Mapping[str, float] | None = None,
    overwrite: bool = False,
    option_names: Mapping[str, str] | None = None,
    on_file: Callable[[], None] | None = None,
) -> list[Path]:
    """Write an Events table in an annotation format; return the files written.

    ``path`` is a folder, and one file per recording is written into it, when it ends with
    a slash (``"predicted/"``, any format) or is an existing folder; for the formats that
    hold one recording per file (``sonotype formats`` says which) also when the events span
    several recordings or ``path`` has no extension. The files mirror the recordings'
    sub-folders (``birds/bird1/song.wav`` -> ``path/birds/bird1/song...``), and each names
    its recording relative to itself, as annotation files do. A recording name that would
    lead a file out of the folder (``..``, an absolute path), or that no file system can
    hold (a NUL, a name over 240 bytes), is an error naming its first row. Every file is
    written atomically and nothing is written unless every file can be: existing files are
    an error unless ``overwrite`` is true.

    Parameters
    ----------
    events : DataFrame
        An Events table.
    path : path
        Output file, or folder for one file per recording.
    format : str, optional
        A writable format from ``sonotype formats``; inferred from ``path``'s name if omitted.
    sr : float, optional
        Sample rate in Hz for formats that count samples, used when the recording cannot be
        found in ``audio_dirs`` or ``known_rates``.
    audio_dirs : sequence of path
        Folders where the recordings can be found (to read their sample rate).
    known_rates : mapping of str to float, optional
        Sample rates by recording name, consulted first.
    overwrite : bool
        Replace existing files.
    option_names : mapping of str to str, optional
        How the caller spells the options its error messages suggest
        (``{"overwrite": "--force"}``); see :class:`FormatOptions`.
    on_file : callable, optional
        Called after each file is written (for a progress bar).
    """
    names = dict(option_names or {})
    fmt = output_format(path, format, option_names=names)
    events = validate_events(events, where="events to write")
    as_folder = writes_folder(path, fmt, n_recordings=events["recording"].nunique())
    path = Path(path)
    rates = dict(known_rates or {})
    # The output folder is where recordings are looked for first, as for reading.
    dirs = (*(Path(d) for d in audio_dirs), path if path.is_dir() else path.parent)
    if as_folder and path.exists() and not path.is_dir():
        raise AnnotationError(
            path, "is a file, so one file per recording cannot be written into it as a folder"
        )
    if as_folder:
        targets = _folder_targets(events, path, fmt, sr=sr, rates=rates, dirs=dirs, names=names)
    else:
        options = FormatOptions(sr=sr, audio_dirs=dirs, known_rates=rates, option_names=names)
        targets = {path: (events, options)}
    _refuse_existing(targets, overwrite=overwrite, names=names)
    written = list(targets)
    with atomic_paths(written) as temporaries:
        for tmp, (target, (table, options)) in zip(temporaries, targets.items(), strict=True):
            with _naming(target, tmp):
                fmt.write(table.reset_index(drop=True), tmp, options)
            if on_file is not None:
                on_file()
    return written


def write_event_parts(
    parts: Iterable[pd.DataFrame],
    path: PathLike,
    *,
    format: str,
    sr: float | None = None,
    audio_dirs: Sequence[PathLike] = (),
    known_rates: Mapping[str, float] | None = None,
    overwrite: bool = False,
    option_names: Mapping[str, str] | None = None,
) -> Path:
    """Write Events tables, in order, into the one file ``path`` as :func:`write_events`
    writes their concatenation there; return the file.

    The formats that append (``simple-csv``, ``songexplorer``) hold one table in memory at a
    time, so ``parts`` may be a generator over any number of events; the others join the
    tables first. The tables must have the same columns (as
    :func:`sonotype.store.event_store.iter_events` gives them). The file appears only when
    complete; an existing one is an error unless ``overwrite`` is true.
    """
    names = dict(option_names or {})
    fmt = output_format(path, format, option_names=names)
    path = Path(path)
    options = FormatOptions(
        sr=sr,
        audio_dirs=(*(Path(d) for d in audio_dirs), path.parent),
        known_rates=dict(known_rates or {}),
        option_names=names,
    )
    _refuse_existing([path], overwrite=overwrite, names=names)
    with atomic_paths([path]) as (tmp,), _naming(path, tmp):
        fmt.write_parts((validate_events(p, where="events to write") for p in parts), tmp, options)
    return path


def write_joined_events(
    tables: Sequence[Callable[[], pd.DataFrame]],
    path: PathLike,
    *,
    format: str,
    sr: float | None = None,
    audio_dirs: Sequence[PathLike] = (),
    overwrite: bool = False,
    option_names: Mapping[str, str] | None = None,
    on_read: Callable[[], None] | None = None,
    on_written: Callable[[], None] | None = None,
) -> tuple[Path, int]:
    """Write Events tables, read one at a time, into the one file ``path`` as
    :func:`write_events` writes their :func:`concat_events` (columns a table lacks filled as
    it fills them); return the file and the number of events.

    ``tables`` are callables that read them (e.g. one annotation file each). For the formats
    that append, memory holds one table: a table's columns are known only once it is read,
    and the file's header comes first, so each is set aside as it is read, in an Arrow file
    in a staging folder beside ``path``, then written from there with the columns of all of
    them. Other formats join the tables first. ``on_read`` and ``on_written`` are called
    after each table is read and written (for progress bars).
    """
    fmt = output_format(path, format, option_names=option_names)
    path = Path(path)
    write = functools.partial(
        write_event_parts,
        path=path,
        format=fmt.name,
        sr=sr,
        audio_dirs=audio_dirs,
        overwrite=overwrite,
        option_names=option_names,
    )
    if not fmt.appends:
        read = []
        for table in tables:
            read.append(table())
            _call(on_read)
        events = concat_events(read, validated=True)
        del read
        written = write([events])
        for _ in tables:
            _call(on_written)
        return written, len(events)
    # Beside the output, in its nearest existing folder (no folder is made for the parts).
    folder = staging_folder(next(p for p in path.absolute().parents if p.is_dir()), path.name)
    try:
        columns: dict[str, None] = {}  # in order of first appearance, as pd.concat has them
        n_events = 0
        for i, read in enumerate(tables):
            table = read()
            table.reset_index(drop=True).to_feather(folder / f"{i}.arrow")
            columns.update(dict.fromkeys(table.columns))
            n_events += len(table)
            del table
            _call(on_read)
        order = [
            *REQUIRED_COLUMNS,
            *(name for name in OPTIONAL_COLUMNS if name in columns),
            *(name for name in columns if name.startswith(EXTRA_LABEL_PREFIX)),
        ]

        def parts() -> Iterator[pd.DataFrame]:
            for i in range(len(tables)):
                part = pd.read_feather(folder / f"{i}.arrow")
                for name in order:
                    if name not in part:
                        part[name] = np.nan if name in OPTIONAL_COLUMNS else ""
                yield part[order]
                _call(on_written)

        return write(parts()), n_events
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _call(callback: Callable[[], None] | None) -> None:
    if callback is not None:
        callback()


def _refuse_existing(targets: Iterable[Path], *, overwrite: bool, names: Mapping[str, str]) -> None:
    """An error naming the first of ``targets`` that exists, unless ``overwrite``."""
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        raise AnnotationError(
            existing[0],
            f"already exists; pass {spell_option(names, 'overwrite', 'True')} to replace it"
            + (f" ({len(existing) - 1} more too)" if len(existing) > 1 else ""),
        )


@contextlib.contextmanager
def _naming(target: Path, tmp: Path) -> Iterator[None]:
    """Errors about the temporary file ``tmp`` name ``target``, the file the user asked for."""
    try:
        yield
    except AnnotationError as error:
        if error.path == str(tmp):
            raise AnnotationError(target, error.problem) from None
        raise


def output_format(
    path: PathLike, format: str | None, *, option_names: Mapping[str, str] | None = None
) -> AnnotationFormat:
    """The writable format ``format`` names, or that ``path``'s name implies."""
    if "\x00" in os.fspath(path):
        raise ParameterError(f"the output path {os.fspath(path)!r} contains a NUL character")
    if format:
        fmt = FORMATS.get(format)
    else:
        fmt = infer_format_from_name(Path(path), writing=True, option_names=option_names or {})
    if not fmt.can_write:
        raise ParameterError(f"format {fmt.name!r} can be read but not written")
    return fmt


def writes_folder(path: PathLike, fmt: AnnotationFormat, *, n_recordings: int) -> bool:
    """Whether :func:`write_events` writes one file per recording into folder ``path`` (see
    its docstring) for events of ``n_recordings`` recordings."""
    asked = isinstance(path, str) and path.endswith(("/", os.sep))
    path = Path(path)
    as_folder = asked or path.is_dir()
    if fmt.per_recording:
        as_folder = as_folder or n_recordings > 1 or (not path.suffix and not path.exists())
    return as_folder


def _folder_targets(
    events: pd.DataFrame,
    path: Path,
    fmt: AnnotationFormat,
    *,
    sr: float | None,
    rates: Mapping[str, float],
    dirs: Sequence[Path],
    names: Mapping[str, str],
    row_offset: int = 0,
) -> dict[Path, tuple[pd.DataFrame, FormatOptions]]:
    """The file of each recording of ``events`` in folder ``path``, with its rows and the
    options to write it; ``row_offset`` shifts the row numbers that errors name."""
    targets: dict[Path, tuple[pd.DataFrame, FormatOptions]] = {}
    # One pass over the rows, not one per recording (there may be thousands).
    rows_of = events.groupby("recording", sort=False).indices
    for rec, rows in rows_of.items():
        first = row_offset + int(rows[0]) + 1
        target, name = output_path(path, rec, fmt.filename_for, row=first)
        local_rates = {name.name: rates[rec]} if rec in rates else {}
        local_dirs = (*(d / name.parent for d in dirs), *dirs)
        table = events.iloc[rows].assign(recording=name.name)
        options = FormatOptions(
            sr=sr, audio_dirs=local_dirs, known_rates=local_rates, option_names=names
        )
        if target in targets:
            raise AnnotationError(
                path,
                f"row {first}: recording {rec!r} would share the {fmt.name} file "
                f"{target.name!r} with another recording; rename one of them",
            )
        targets[target] = (table, options)
    return targets


def write_event_stream(
    tables: Sequence[Callable[[], pd.DataFrame]],
    path: PathLike,
    *,
    format: str,
    sr: float | None = None,
    audio_dirs: Sequence[PathLike] = (),
    known_rates: Mapping[str, float] | None = None,
    overwrite: bool = False,
    option_names: Mapping[str, str] | None = None,
    on_table: Callable[[int], None] | None = None,
) -> tuple[list[Path], int]:
    """Write Events tables one at a time into folder ``path``, one file per recording, as
    :func:`write_events` does for their concatenation; return the files and the number of
    events written.

    Only one table (with the files it makes) is in memory at a time: ``tables`` are
    callables that read them (e.g. one annotation file each). A recording found in several
    tables is written once with the rows of all of them (its earlier tables are read again:
    rare, and memory stays bounded). Nothing appears unless every file can be written:
    each is written to a temporary file, all renamed into place at the end. Errors name
    rows within their table.

    ``known_rates`` gives sample rates by recording name, as for :func:`write_events`.
    ``on_table`` is called with the number of tables done after each.
    """
    rates = dict(known_rates or {})
    names = dict(option_names or {})
    fmt = FORMATS.get(format)
    if not fmt.can_write:
        raise ParameterError(f"format {fmt.name!r} can be read but not written")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise AnnotationError(
            path, "is a file, so one file per recording cannot be written into it as a folder"
        )
    # As write_events: the output folder is where recordings are looked for first.
    dirs = (*(Path(d) for d in audio_dirs), path if path.is_dir() else path.parent)
    written: dict[Path, Path] = {}  # target -> its temporary file
    owners: dict[Path, list[int]] = {}  # target -> the tables holding its recording
    total = 0
    with contextlib.ExitStack() as stack:
        for i, read in enumerate(tables):
            events = read()
            targets = _folder_targets(events, path, fmt, sr=sr, rates=rates, dirs=dirs, names=names)
            new = [t for t in targets if t not in written]
            _refuse_existing(new, overwrite=overwrite, names=names)
            # One atomic_paths per table (it cleans each folder of stale temporaries once);
            # all of them publish together when the stack closes without an error.
            written.update(zip(new, stack.enter_context(atomic_paths(new)), strict=True))
            for target, (table, options) in targets.items():
                if owners.get(target):
                    # The recording has rows in earlier tables too: join them.
                    earlier = [
                        _folder_targets(
                            tables[j](), path, fmt, sr=sr, rates=rates, dirs=dirs, names=names
                        )[target][0]
                        for j in owners[target]
                    ]
                    table = pd.concat([*earlier, table], ignore_index=True)
                owners.setdefault(target, []).append(i)
                with _naming(target, written[target]):
                    fmt.write(table.reset_index(drop=True), written[target], options)
            total += len(events)
            del events, targets
            if on_table is not None:
                on_table(i + 1)
    return list(written), total


def infer_format(
    path: PathLike, *, option_names: Mapping[str, str] | None = None
) -> AnnotationFormat:
    """The format of an existing annotation file, from its name, else from its content.

    ``option_names`` spells the option that names the format in errors (``{"format":
    "--from"}``); see :class:`FormatOptions`.
    """
    path = Path(path)
    by_name = _format_by_name(path)
    if by_name is not None:
        return by_name
    head = _head(path)
    matches = [FORMATS.get(name) for name in FORMATS.names() if FORMATS.get(name).sniff(path, head)]
    if len(matches) == 1:
        return matches[0]
    option = spell_option(option_names or {}, "format", "FORMAT")
    if matches:
        names = ", ".join(m.name for m in matches)
        raise AnnotationFormatError(path, f"could be any of {names}; name the format ({option})")
    raise AnnotationFormatError(
        path,
        f"cannot tell which annotation format this is; name it with {option} "
        f"(one of {', '.join(FORMATS.names())}; `sonotype formats` describes them)",
    )


def infer_format_from_name(
    path: PathLike, *, writing: bool = False, option_names: Mapping[str, str] | None = None
) -> AnnotationFormat:
    """The format a file name implies (``.csv`` means ``simple-csv`` when writing).

    ``option_names`` spells the option that names the format in errors (``{"to_format":
    "--to"}``); see :class:`FormatOptions`.
    """
    path = Path(path)
    fmt = _format_by_name(path)
    if fmt is None and writing and path.name.lower().endswith(".csv"):
        fmt = FORMATS.get("simple-csv")
    if fmt is None:
        raise ParameterError(
            f"cannot tell the annotation format of {str(path)!r} from its name; name it with "
            f"{spell_option(option_names or {}, 'to_format', 'FORMAT')} "
            f"(one of {', '.join(FORMATS.names())})"
        )
    return fmt


def iter_annotation_files(folder: PathLike) -> Iterator[tuple[Path, AnnotationFormat]]:
    """Every file under ``folder`` (recursively, sorted) whose annotation format can be told."""
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            yield path, infer_format(path)
        except AnnotationFormatError:
            continue


def _relative_names(names: pd.Series, folder: Path, root: Path) -> pd.Series | None:
    """``names`` relative to ``root`` (each distinct name resolved once), or None when that
    changes none of them."""
    root = root.resolve()
    codes, uniques = pd.factorize(names)
    mapped = []
    for name in uniques:
        try:
            mapped.append((folder / name).resolve().relative_to(root).as_posix())
        except ValueError:
            mapped.append(name)
    if mapped == list(uniques):
        return None
    if len(mapped) == 1:
        return pd.Series(repeated_text(mapped[0], len(names)), index=names.index, copy=False)
    return pd.Series(np.asarray(mapped, dtype=object)[codes], index=names.index, dtype="str")


def _format_by_name(path: Path) -> AnnotationFormat | None:
    name = path.name.lower()
    for format_name in FORMATS.names():
        fmt = FORMATS.get(format_name)
        if any(name.endswith(suffix) for suffix in fmt.suffixes):
            return fmt
    return None


def _head(path: Path, size: int = 4096) -> str:
    with open(path, "rb") as f:
        data = f.read(size)
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="ignore")
    return data.decode("utf-8-sig", errors="replace")
