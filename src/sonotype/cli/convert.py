"""``sonotype convert``: annotation files from one format to another."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import typer

#: How this command spells the options that the annotation readers' and writers' error
#: messages suggest (see ``sonotype.annotations.FormatOptions.option_names``).
OPTION_NAMES = {
    "format": "--from",
    "to_format": "--to",
    "sr": "--sample-rate",
    "audio_dirs": "--audio",
    "recording": "--recording",
    "encoding": "--encoding",
    "overwrite": "--force",
    "tier_by": "--tier-by",
}
#: Inputs at least this large get a line on stderr while they are read (a single file gives
#: the progress bar nothing to count).
_BIG_FILE_BYTES = 20_000_000


def convert(
    source: Path = typer.Argument(..., help="Annotation file, or a folder of them."),
    output: str = typer.Option(
        ...,
        "-o",
        "--output",
        help="Output file, or folder (ending in /) for one file per recording.",
    ),
    from_format: str = typer.Option(
        None, "--from", help="Input format (see `sonotype formats`); inferred if omitted."
    ),
    to_format: str = typer.Option(
        None, "--to", help="Output format; inferred from the output name if omitted."
    ),
    sample_rate: float = typer.Option(
        None,
        "--sample-rate",
        help="Sample rate (Hz) for formats counting samples, when the recordings are not found.",
    ),
    audio: list[Path] = typer.Option(
        [], "--audio", help="Folder where the recordings are (repeatable); default: beside."
    ),
    recording: str = typer.Option(
        None, "--recording", help="Recording name for input files that do not store one."
    ),
    encoding: str = typer.Option(
        None,
        "--encoding",
        help="Text encoding of the input files (e.g. cp1252); default: UTF-8 or UTF-16 by BOM.",
    ),
    tier_by: str = typer.Option(
        None,
        "--tier-by",
        help="TextGrid output: one tier per value of this column (label, label:NAME, source).",
    ),
    force: bool = typer.Option(False, "--force", help="Replace output files that exist."),
) -> None:
    """Convert annotations between formats: e.g. evsonganaly .not.mat to Raven tables.

    A folder is converted as a whole: its annotation files (whose format can be told) are
    read and written as one table, or one file per recording when the output format holds
    one recording per file or the output ends with a slash.
    """
    from sonotype.annotations import (
        FORMATS,
        concat_events,
        infer_format_from_name,
        iter_annotation_files,
        read_events,
        write_event_stream,
        write_events,
        write_joined_events,
    )
    from sonotype.cli.console import err, progress
    from sonotype.errors import ParameterError

    output_path = Path(output)
    as_folder = output.endswith(("/", os.sep)) or output_path.is_dir()
    out_format = FORMATS.get(to_format) if to_format else None
    if out_format is None:
        # A folder output with no --to cannot be named after anything.
        if as_folder or not output_path.suffix:
            raise ParameterError(
                f"cannot tell the output format for folder {output!r}; pass --to FORMAT"
            )
        out_format = infer_format_from_name(output_path, writing=True, option_names=OPTION_NAMES)
    if tier_by is not None and out_format.name != "textgrid":
        raise ParameterError(
            f"--tier-by names the tiers of a TextGrid; the output format is {out_format.name}"
        )

    if source.is_dir():
        found = list(iter_annotation_files(source))
        if from_format:
            found = [(p, f) for p, f in found if f.name == from_format]
        if not found:
            raise ParameterError(
                f"no annotation files{' in format ' + from_format if from_format else ''} "
                f"found in {str(source)!r}"
            )
        files = [(p, f.name) for p, f in found]
    else:
        files = [(source, from_format)]

    def reader(path: Path, file_format: str | None):
        def read():
            with _noted(err, path, "reading"):
                events = read_events(
                    path,
                    format=file_format,
                    sr=sample_rate,
                    recording=recording,
                    audio_dirs=audio,
                    # Keep sub-folders in recording names (train/x.wav, test/x.wav).
                    relative_to=source if source.is_dir() else None,
                    encoding=encoding,
                    option_names=OPTION_NAMES,
                )
            return _tiered(events, tier_by) if tier_by is not None else events

        return read

    readers = [reader(path, file_format) for path, file_format in files]
    writing = {
        "format": out_format.name,
        "sr": sample_rate,
        "audio_dirs": [*audio, source if source.is_dir() else source.parent],
        "overwrite": force,
        "option_names": OPTION_NAMES,
    }
    if len(files) > 1 and (as_folder or (out_format.per_recording and not output_path.suffix)):
        # One file per recording: read, write and forget one input file at a time, so
        # memory holds one file's events, not all of them.
        with progress("converting", len(files)) as advance:
            written, n_events = write_event_stream(
                readers,
                output,
                **writing,
                on_table=lambda done: advance(),
            )
    elif len(files) > 1 and out_format.appends:
        # One file in a format that appends: each input file is read and set aside, then
        # written from there, so memory holds one file's events.
        written_parts = [0]

        def wrote_one() -> None:
            written_parts[0] += 1
            bar.set(written_parts[0], len(files), description="writing")

        with progress("reading", len(files)) as bar:
            written_file, n_events = write_joined_events(
                readers,
                output,
                **writing,
                on_read=bar,
                on_written=wrote_one,
            )
        written = [written_file]
    else:
        tables = []
        with progress("reading", len(files)) as advance:
            for read in readers:
                tables.append(read())
                advance()
        # read_events validated each table; checking the whole again would double the work.
        events = concat_events(tables, validated=True)
        del tables
        n_events = len(events)
        n_files = events["recording"].nunique() if as_folder or out_format.per_recording else 1
        with progress("writing", n_files) as advance:
            written = write_events(
                events,
                output,
                **writing,
                on_file=advance,
            )
    err.print(
        f"converted {n_events} event{'s' if n_events != 1 else ''} from {len(files)} "
        f"file{'s' if len(files) != 1 else ''} to {out_format.name}: "
        + (str(written[0]) if len(written) == 1 else f"{len(written)} files in {output}")
    )


def _tiered(events, column: str):
    """``events`` with ``label:tier`` set from ``column`` (the TextGrid writer's tiers)."""
    from sonotype.errors import ParameterError

    allowed = [c for c in events.columns if c in ("label", "kind", "source", "recording")]
    allowed += [c for c in events.columns if c.startswith("label:")]
    if column not in allowed:
        raise ParameterError(
            f"--tier-by {column!r} is not a text column of these events; use one of "
            f"{', '.join(allowed)}"
        )
    values = events[column]
    # A blank value would fall back to the writer's default tier, mixing unrelated events.
    return events.assign(**{"label:tier": values.where(values != "", "(blank)")})


@contextmanager
def _noted(console, path: Path, doing: str):
    """A spinner (or, off a terminal, one line) while a big file is read."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size < _BIG_FILE_BYTES:
        yield
        return
    message = f"{doing} {path.name} ({size / 1e6:.0f} MB)"
    if console.is_terminal:
        with console.status(message):
            yield
    else:
        console.print(message)
        yield
