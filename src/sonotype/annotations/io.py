"""Reading and writing Events in any registered annotation format."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath

import pandas as pd

from sonotype.annotations.events import validate_events
from sonotype.annotations.formats import FORMATS, AnnotationFormat, FormatOptions
from sonotype.atomic import atomic_paths
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

    Returns
    -------
    DataFrame
        A validated Events table (see :mod:`sonotype.annotations.events`).

    Examples
    --------
    >>> events = read_events("song.wav.not.mat")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise AnnotationError(path, "no such file")
    if path.is_dir():
        raise AnnotationError(path, "is a folder; pass the annotation files in it instead")
    fmt = FORMATS.get(format) if format else infer_format(path)
    options = FormatOptions(
        sr=sr,
        recording=recording,
        audio_dirs=tuple(Path(d) for d in audio_dirs),
        known_rates=dict(known_rates or {}),
    )
    events = fmt.read(path, options)
    if kind is not None:
        events["kind"] = kind
    if source is not None:
        events["source"] = source
    if relative_to is not None:
        events["recording"] = _relative_names(events["recording"], path.parent, Path(relative_to))
    return validate_events(events, where=str(path))


def write_events(
    events: pd.DataFrame,
    path: PathLike,
    *,
    format: str | None = None,
    sr: float | None = None,
    audio_dirs: Sequence[PathLike] = (),
    known_rates: Mapping[str, float] | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write an Events table in an annotation format; return the files written.

    Formats that hold one recording per file (``sonotype formats`` says which) write one
    file per recording into the folder ``path`` when the events span several recordings, or
    when ``path`` is an existing folder or has no extension. The files mirror the recordings'
    sub-folders (``birds/bird1/song.wav`` -> ``path/birds/bird1/song...``), and each names its
    recording relative to itself, as annotation files do. Every file is written atomically and
    nothing is written unless every file can be: existing files are an error unless
    ``overwrite`` is true.

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
    """
    path = Path(path)
    fmt = FORMATS.get(format) if format else infer_format_from_name(path, writing=True)
    if not fmt.can_write:
        raise ParameterError(f"format {fmt.name!r} can be read but not written")
    events = validate_events(events, where="events to write")
    rates = dict(known_rates or {})
    # The output folder is where recordings are looked for first, as for reading.
    dirs = (*(Path(d) for d in audio_dirs), path if path.is_dir() else path.parent)

    recordings = list(dict.fromkeys(events["recording"]))
    as_folder = fmt.per_recording and (
        path.is_dir() or len(recordings) > 1 or (not path.suffix and not path.exists())
    )
    targets: dict[Path, tuple[pd.DataFrame, FormatOptions]] = {}
    if as_folder:
        for rec in recordings:
            name = PurePosixPath(rec)
            local_rates = {name.name: rates[rec]} if rec in rates else {}
            local_dirs = (*(d / name.parent for d in dirs), *dirs)
            table = events[events["recording"] == rec].assign(recording=name.name)
            options = FormatOptions(sr=sr, audio_dirs=local_dirs, known_rates=local_rates)
            targets[path / name.parent / fmt.filename_for(rec)] = (table, options)
        if len(targets) < len(recordings):
            raise AnnotationError(
                path,
                f"two recordings would share one {fmt.name} file name; rename one of them",
            )
    else:
        targets[path] = (events, FormatOptions(sr=sr, audio_dirs=dirs, known_rates=rates))
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        raise AnnotationError(
            existing[0],
            "already exists; pass overwrite=True (--force) to replace it"
            + (f" ({len(existing) - 1} more files too)" if len(existing) > 1 else ""),
        )
    written = list(targets)
    with atomic_paths(written) as temporaries:
        for tmp, (target, (table, options)) in zip(temporaries, targets.items(), strict=True):
            try:
                fmt.write(table.reset_index(drop=True), tmp, options)
            except AnnotationError as error:
                # Name the file the user asked for, not the temporary one.
                raise AnnotationError(target, error.problem) from None
    return written


def infer_format(path: PathLike) -> AnnotationFormat:
    """The format of an existing annotation file, from its name, else from its content."""
    path = Path(path)
    by_name = _format_by_name(path)
    if by_name is not None:
        return by_name
    head = _head(path)
    matches = [FORMATS.get(name) for name in FORMATS.names() if FORMATS.get(name).sniff(path, head)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(m.name for m in matches)
        raise AnnotationFormatError(
            path, f"could be any of {names}; name the format (--from FORMAT)"
        )
    raise AnnotationFormatError(
        path,
        "cannot tell which annotation format this is; name it with --from FORMAT "
        f"(one of {', '.join(FORMATS.names())}; `sonotype formats` describes them)",
    )


def infer_format_from_name(path: PathLike, *, writing: bool = False) -> AnnotationFormat:
    """The format a file name implies (``.csv`` means ``simple-csv`` when writing)."""
    path = Path(path)
    fmt = _format_by_name(path)
    if fmt is None and writing and path.name.lower().endswith(".csv"):
        fmt = FORMATS.get("simple-csv")
    if fmt is None:
        raise ParameterError(
            f"cannot tell the annotation format of {str(path)!r} from its name; name it with "
            f"--to FORMAT (one of {', '.join(FORMATS.names())})"
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


def _relative_names(names: pd.Series, folder: Path, root: Path) -> pd.Series:
    root = root.resolve()
    mapping = {}
    for name in names.unique():
        try:
            mapping[name] = (folder / name).resolve().relative_to(root).as_posix()
        except ValueError:
            mapping[name] = name
    return names.map(mapping)


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
