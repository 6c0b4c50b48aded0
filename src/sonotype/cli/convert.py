"""``sonotype convert``: annotation files from one format to another."""

from __future__ import annotations

from pathlib import Path

import typer


def convert(
    source: Path = typer.Argument(..., help="Annotation file, or a folder of them."),
    output: Path = typer.Option(
        ..., "-o", "--output", help="Output file, or folder (one file per recording)."
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
    force: bool = typer.Option(False, "--force", help="Replace output files that exist."),
) -> None:
    """Convert annotations between formats: e.g. evsonganaly .not.mat to Raven tables.

    A folder is converted as a whole: its annotation files (whose format can be told) are
    read and written as one table, or one file per recording when the output format holds
    one recording per file.
    """
    from sonotype.annotations import (
        FORMATS,
        concat_events,
        infer_format_from_name,
        iter_annotation_files,
        read_events,
        write_events,
    )
    from sonotype.cli.console import err, progress
    from sonotype.errors import ParameterError

    out_format = FORMATS.get(to_format) if to_format else None
    if out_format is None:
        # A folder output with no --to cannot be named after anything.
        if output.is_dir() or not output.suffix:
            raise ParameterError(
                f"cannot tell the output format for folder {str(output)!r}; pass --to FORMAT"
            )
        out_format = infer_format_from_name(output, writing=True)

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

    tables = []
    with progress("reading", len(files)) as advance:
        for path, file_format in files:
            tables.append(
                read_events(
                    path,
                    format=file_format,
                    sr=sample_rate,
                    recording=recording,
                    audio_dirs=audio,
                    # Keep sub-folders in recording names (train/x.wav, test/x.wav).
                    relative_to=source if source.is_dir() else None,
                )
            )
            advance()
    events = concat_events(tables)
    audio_dirs = [*audio, source if source.is_dir() else source.parent]
    written = write_events(
        events,
        output,
        format=out_format.name,
        sr=sample_rate,
        audio_dirs=audio_dirs,
        overwrite=force,
    )
    err.print(
        f"converted {len(events)} events from {len(files)} file{'s' if len(files) > 1 else ''} "
        f"to {out_format.name}: "
        + (str(written[0]) if len(written) == 1 else f"{len(written)} files in {output}")
    )
