"""``sonotype import``, ``export`` and ``undo``: the project's events."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION

#: How import and export spell the settings that annotation errors name.
IMPORT_OPTIONS = {"format": "--format", "sr": "--sample-rate"}
EXPORT_OPTIONS = {"format": "--format", "to_format": "--format", "overwrite": "--force"}


def import_events(
    files: list[Path] = typer.Argument(..., help="Annotation files (any format)."),
    format: str = typer.Option(None, "--format", "-f", help="Format; inferred if omitted."),
    kind: str = typer.Option("annotated", "--kind", help="Kind of every imported event."),
    source: str = typer.Option(
        None, "--source", help="Annotator or model; by default what the file says."
    ),
    sample_rate: float = typer.Option(
        None, "--sample-rate", help="Sample rate for tick formats when not indexed."
    ),
    clip: bool = typer.Option(
        False, "--clip", help="End events that run past their recording's end with it."
    ),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Load annotation files into the project, matched to its indexed recordings.

    All files are imported as one edit (`sonotype undo` reverts it); nothing is stored if an
    event names a recording that is not indexed, or ends after its recording (unless --clip).
    """
    from sonotype.cli.console import err, out, plural, progress
    from sonotype.cli.options import open_project

    with open_project(project_dir) as project, progress("reading", len(files), min_items=2) as bar:
        report = project.import_files(
            files,
            format=format,
            kind=kind,
            source=source,
            sr=sample_rate,
            clip=clip,
            option_names=IMPORT_OPTIONS,
            progress=lambda stage, done, total: bar.set(done, total, description=stage),
        )
    out.print(
        f"imported {plural(report.total, 'event')} from {plural(len(report.counts), 'file')} "
        f"(edit {report.edit.id})"
    )
    if report.clipped or report.dropped:
        err.print(
            f"--clip: {plural(report.clipped, 'event')} shortened to end with their recording, "
            f"{plural(report.dropped, 'event')} dropped as starting after its end",
            markup=False,
        )


def export_events(
    output: str = typer.Option(
        ..., "-o", "--output", help="Output file, or folder (a trailing / means a folder)."
    ),
    format: str = typer.Option(..., "--format", "-f", help="Annotation format to write."),
    kind: list[str] = typer.Option([], "--kind", help="Only events of this kind (repeatable)."),
    label: list[str] = typer.Option([], "--label", help="Only this label (repeatable)."),
    source: list[str] = typer.Option([], "--source", help="Only this source (repeatable)."),
    force: bool = typer.Option(False, "--force", help="Replace output files that exist."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Write the project's events in an annotation format (one file per recording or one
    table, as the format requires)."""
    from sonotype.cli.console import out, progress
    from sonotype.cli.options import open_project

    with open_project(project_dir) as project, progress("reading", None, min_items=2) as bar:
        written = project.export(
            output,
            format=format,
            kinds=kind,
            labels=label,
            sources=source,
            overwrite=force,
            option_names=EXPORT_OPTIONS,
            progress=lambda stage, done, total: bar.set(done, total, description=stage),
        )
    out.print(
        f"wrote {written[0]}" if len(written) == 1 else f"wrote {len(written):,} files in {output}"
    )


def undo(
    n: int = typer.Argument(1, min=1, help="How many edits to undo (at least 1)."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Undo the last N edits of the project's events (imports, detections, corrections)."""
    from sonotype.cli.console import out
    from sonotype.cli.options import open_project

    with open_project(project_dir) as project:
        undone = project.undo(n)
    if not undone:
        out.print("nothing to undo")
    for edit in undone:
        out.print(f"undid edit {edit.id} ({edit.at}, {edit.command}): {edit.description}")
