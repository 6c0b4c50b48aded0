"""``sonotype spectrogram``: a picture of a recording with its annotations."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import typer


def spectrogram(
    recording: str = typer.Argument(
        ..., help="Audio file, or the name of a recording indexed in the project."
    ),
    output: Path = typer.Option(
        ...,
        "-o",
        "--output",
        help="Image to write; its suffix names the format: .png, .jpg, .pdf, .svg, .tif, .webp.",
    ),
    start: float = typer.Option(0.0, "--start", help="Start of the span, in seconds."),
    stop: float = typer.Option(None, "--stop", help="End of the span (default: the end)."),
    channel: int = typer.Option(0, "--channel", help="Channel, counting from 0."),
    kind: list[str] = typer.Option(
        [], "--kind", help="Draw only stored events of this kind (repeatable)."
    ),
    events_file: Path = typer.Option(
        None, "--events", help="Also draw the events of this annotation file."
    ),
    low: float = typer.Option(None, "--low-hz", help="Lowest frequency shown (default 0)."),
    high: float = typer.Option(
        None, "--high-hz", help="Highest frequency shown (default: half the sample rate)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace --output if it exists."),
    project_dir: Path = typer.Option(
        None, "--project", "-p", help="Project whose events to draw (default: the one here)."
    ),
) -> None:
    """Render a spectrogram with time and frequency axes; the project's events for the
    recording (when run inside a project) and those of --events are drawn as boxes or ticks."""
    from sonotype.annotations import concat_events, read_events
    from sonotype.audio import Recording
    from sonotype.cli.console import out
    from sonotype.errors import ParameterError
    from sonotype.plot import save_spectrogram
    from sonotype.plot.spectrogram import image_format_of
    from sonotype.store import Project, ProjectNotFoundError

    # Checked before any reading, so a mistake costs nothing.
    try:
        image_format_of(output)
    except ParameterError as error:
        raise ParameterError(f"-o/--output {error}") from None
    if output.exists() and not force:
        raise ParameterError(
            f"-o/--output {output} already exists; pass --force to replace it, "
            "or choose another --output"
        )
    if output.is_dir():
        raise ParameterError(f"-o/--output {output} is a folder; give an image file name")
    for option, value in (("--low-hz", low), ("--high-hz", high)):
        if value is not None and not value >= 0:  # also NaN
            raise ParameterError(f"{option} {value:g} must be a frequency of 0 Hz or more")
    if low is not None and high is not None and not low < high:
        raise ParameterError(f"--low-hz {low:g} must be below --high-hz {high:g}")
    if stop is not None and not stop > start:
        raise ParameterError(f"--stop {stop:g} must be after --start {start:g}")

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
        # Formats that count samples take the recording's own rate.
        extra = read_events(events_file, sr=Recording(path).sr, audio_dirs=[path.parent])
        if extra["recording"].nunique() > 1:
            # A table of several recordings: keep the events of this one.
            extra = extra[extra["recording"].map(lambda r: PurePosixPath(r).name) == path.name]
        tables.append(extra)
    rec = Recording(path)
    events = concat_events(tables)
    nyquist = rec.sr / 2
    for option, value in (("--low-hz", low), ("--high-hz", high)):
        if value is not None and value > nyquist:
            raise ParameterError(
                f"{option} {value:g} is above {nyquist:g} Hz, the highest frequency of "
                f"{path.name} (half its sample rate, {rec.sr} Hz); use 0 to {nyquist:g}"
            )
    band = (
        None
        if low is None and high is None
        else (
            0.0 if low is None else low,
            nyquist if high is None else high,
        )
    )
    if band is not None and not band[0] < band[1]:
        raise ParameterError(f"--low-hz {band[0]:g} must be below --high-hz {band[1]:g}")
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
