"""``sonotype spectrogram``: a picture of a recording with its annotations."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import typer


def spectrogram(
    recording: str = typer.Argument(
        ..., help="Audio file, or the name of a recording indexed in the project."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="PNG file to write."),
    start: float = typer.Option(0.0, "--start", help="Start of the span, in seconds."),
    stop: float = typer.Option(None, "--stop", help="End of the span (default: the end)."),
    channel: int = typer.Option(0, "--channel", help="Channel, counting from 0."),
    kind: list[str] = typer.Option(
        [], "--kind", help="Draw only stored events of this kind (repeatable)."
    ),
    events_file: Path = typer.Option(
        None, "--events", help="Also draw the events of this annotation file."
    ),
    low: float = typer.Option(None, "--low-hz", help="Lowest frequency shown."),
    high: float = typer.Option(None, "--high-hz", help="Highest frequency shown."),
    project_dir: Path = typer.Option(
        None, "--project", "-p", help="Project whose events to draw (default: the one here)."
    ),
) -> None:
    """Render a spectrogram with time and frequency axes; the project's events for the
    recording (when run inside a project) and those of --events are drawn as boxes or ticks."""
    from sonotype.annotations import concat_events, read_events
    from sonotype.audio import Recording
    from sonotype.cli.console import out
    from sonotype.plot import save_spectrogram
    from sonotype.store import Project, ProjectNotFoundError

    try:
        project = Project.open(project_dir or Path.cwd())
    except ProjectNotFoundError:
        if project_dir is not None:
            raise
        project = None

    tables = []
    path = Path(recording)
    if project is not None:
        with project:
            name = (project.name_of(path) if path.is_file() else None) or recording
            if not path.is_file():
                path = project.recording_path(name)
            tables.append(project.events(recordings=[name], kinds=kind or None))
    if events_file is not None:
        extra = read_events(events_file, audio_dirs=[path.parent])
        if extra["recording"].nunique() > 1:
            # A table of several recordings: keep the events of this one.
            extra = extra[extra["recording"].map(lambda r: PurePosixPath(r).name) == path.name]
        tables.append(extra)
    rec = Recording(path)
    events = concat_events(tables)
    band = None if low is None and high is None else (low or 0.0, high or rec.sr / 2)
    save_spectrogram(
        output,
        rec,
        start_s=start,
        stop_s=stop,
        channel=channel,
        events=events,
        freq_range_hz=band,
        title=f"{recording}  channel {channel}",
    )
    out.print(f"wrote {output} ({len(events)} events of this recording)")
