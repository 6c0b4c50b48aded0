"""``sonotype detect``: find sounds in recordings with a registered detector."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION


def detect(
    paths: list[Path] = typer.Argument(
        None, help="Audio files or folders; omit inside a project to detect on all its recordings."
    ),
    method: str = typer.Option(
        None, "--method", "-m", help="Detector: time-freq (default), amplitude; or the preset's."
    ),
    preset: str = typer.Option(
        None,
        "--preset",
        help="Detector parameters for songbird, fly, rodent-usv or bat (see docs/detect.md); "
        "--set overrides them.",
    ),
    settings: list[str] = typer.Option(
        [], "--set", help="Detector parameter KEY=VALUE (repeatable), e.g. --set time_sigma=9,4."
    ),
    output: str = typer.Option(
        None, "-o", "--output", help="File or folder for the events (a trailing / means a folder)."
    ),
    format: str = typer.Option(None, "--format", "-f", help="Annotation format of --output."),
    block_s: float = typer.Option(
        60.0, "--block-s", help="Seconds of audio per block (more than 0; 'inf' reads whole)."
    ),
    workers: int = typer.Option(
        0, "--workers", help="Processes: 0 (the default) for one per core, or 1 or more."
    ),
    force: bool = typer.Option(False, "--force", help="Replace output files that exist."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Detect sounds: write the events to --output, or, inside a project without files,
    store them (kind detected), replacing this detector's earlier results in one undoable edit.

    Detector parameters: `sonotype detect --method NAME --set KEY=VALUE`; an unknown key
    lists the valid ones. In a project, the detect.NAME table of sonotype.toml (written by
    `sonotype tune-detector`) sets the defaults that --set overrides; `--preset NAME` starts
    from a documented set of parameters instead. Parameters that do not fit a recording's
    sample rate are fitted to it, with a note.
    """
    from rich.markup import escape

    from sonotype.annotations import write_events
    from sonotype.audio import is_audio_path
    from sonotype.cli.console import EXIT_PARTIAL, err, out, progress
    from sonotype.cli.options import open_project
    from sonotype.detect import detect_many, make_detector, preset_detector
    from sonotype.errors import ParameterError

    _check_numbers(block_s=block_s, workers=workers)
    explicit = _parse_settings(settings)
    if preset is not None:  # checks the preset and --method before any work
        method = preset_detector(preset, method=method, **explicit).name
    else:
        method = method or "time-freq"
        make_detector(method, **explicit)
    project = None
    if paths:
        if output is None:
            raise ParameterError("pass -o/--output for the events of the files given")
        recordings = []
        for path in paths:
            if path.is_dir():
                recordings += [
                    (p.relative_to(path).as_posix(), p)
                    for p in sorted(path.rglob("*"))
                    if p.is_file() and is_audio_path(p)
                ]
            else:
                recordings.append((path.name, path))
    else:
        project = open_project(project_dir)
        index = project.recordings()
        recordings = [(name, project.recording_path(name)) for name in index["path"]]
    if not recordings:
        raise ParameterError("no recordings to detect on")
    # Parameters tuned for this project (`sonotype tune-detector`) are the defaults there,
    # unless a preset was asked for on the command line.
    tuned = project.config.detect.params(method) if project is not None else {}
    if project is None and project_dir is not None:
        with open_project(project_dir) as enclosing:
            tuned = enclosing.config.detect.params(method)
    if preset is not None:
        if tuned:
            note = f"--preset {preset}: the [detect.{method}] table of sonotype.toml is not used"
            err.print(note, markup=False)
        detector = preset_detector(preset, method=method, **explicit)
    else:
        if tuned:
            err.print(f"using [detect.{method}] of sonotype.toml (--set overrides): "
                      + ", ".join(f"{k}={v}" for k, v in tuned.items()), markup=False)  # fmt: skip
        detector = make_detector(method, **{**tuned, **explicit})

    for note in _rate_notes(detector, recordings):
        err.print(f"[yellow]note:[/] {note}")

    if output is not None and project is None:
        # Before the work: an output that exists would only be refused after it.
        _check_output(output, format=format, names=[name for name, _ in recordings], force=force)

    with progress("detecting", len(recordings), min_items=2) as advance:
        events, failures = detect_many(
            detector,
            recordings,
            block_s=block_s,
            workers=workers or None,
            progress=lambda name: advance(),
        )
    for name, problem in failures:
        err.print(f"[red]failed:[/] {escape(f'{name}: {problem}')}", soft_wrap=True)
    if len(failures) == len(recordings):
        where = "stored" if project is not None else "written"
        err.print(f"[bold red]error:[/] every recording failed ({len(failures)}); nothing {where}")
        raise typer.Exit(1)
    counts = events["label"].value_counts().to_dict() if len(events) else {}
    summary = ", ".join(f"{label} {n}" for label, n in sorted(counts.items())) or "nothing"
    if project is not None:
        with project:
            config = {
                "method": method,
                "preset": preset,
                "params": detector.params(),
                "block_s": block_s,
            }
            with project.run("detect", config):
                edit = project.add_events(
                    events,
                    command="detect",
                    description=f"{method} on {_count(len(recordings), 'recording')}: {summary}",
                    replace={"kinds": ["detected"], "sources": [detector.name]},
                )
        out.print(f"stored {len(events)} detected events ({summary}) as edit {edit.id}")
    else:
        written = write_events(
            events,
            output,
            format=format,
            sr=None,
            overwrite=force,
            option_names={"format": "--format", "overwrite": "--force"},
        )
        where = written[0] if len(written) == 1 else f"{len(written)} files in {output}"
        out.print(
            f"detected {len(events)} events ({summary}) in "
            f"{_count(len(recordings) - len(failures), 'recording')}: {where}"
        )
    if failures:
        err.print(
            f"[yellow]partial:[/] {_count(len(failures), 'recording')} of {len(recordings)} "
            "failed; the others' events are kept"
        )
        raise typer.Exit(EXIT_PARTIAL)  # docs/cli.md


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _check_numbers(*, block_s: float, workers: int) -> None:
    import math

    from sonotype.errors import ParameterError

    if math.isnan(block_s) or block_s <= 0:
        raise ParameterError(
            f"--block-s {block_s:g} must be a number of seconds above 0 (or inf to read "
            "each recording whole); the default is 60"
        )
    if workers < 0:
        raise ParameterError(
            f"--workers {workers} must be 0 (one process per core, the default) or 1 or more"
        )


def _check_output(text: str, *, format: str | None, names: list[str], force: bool) -> None:
    """Refuse, before detecting, an --output that exists (without --force) or whose format
    cannot be written; the files planned mirror those :func:`write_events` writes."""
    from pathlib import PurePosixPath

    from sonotype.annotations import FORMATS
    from sonotype.annotations.io import infer_format_from_name
    from sonotype.errors import ParameterError

    output = Path(text)
    fmt = FORMATS.get(format) if format else infer_format_from_name(output, writing=True)
    if not fmt.can_write:
        raise ParameterError(f"--format {fmt.name} can be read but not written")
    if force:
        return
    as_folder = text.endswith(("/", os.sep)) or output.is_dir()
    as_folder = as_folder or (
        fmt.per_recording and (len(names) > 1 or (not output.suffix and not output.exists()))
    )
    planned = (
        [output / PurePosixPath(n).parent / fmt.filename_for(n) for n in names]
        if as_folder
        else [output]
    )
    existing = [p for p in planned if p.exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ParameterError(
            f"-o/--output: {existing[0]} already exists{more}; pass --force to replace it, "
            "or choose another --output"
        )


def _parse_settings(settings: list[str]) -> dict:
    """``KEY=VALUE`` strings as parameters: numbers become numbers, the rest stays text."""
    from sonotype.errors import ParameterError

    params = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise ParameterError(f"--set {setting!r} must look like KEY=VALUE")
        for cast in (int, float):
            try:
                params[key.strip()] = cast(value)
                break
            except ValueError:
                continue
        else:
            params[key.strip()] = None if value.lower() == "none" else value
    return params


def _rate_notes(detector, recordings) -> list[str]:
    """The detector's notes on fitting itself to each sample rate among the recordings
    (once per rate, naming how many recordings have it); unreadable files are left to the
    detection, which reports them."""
    from sonotype.audio import Recording
    from sonotype.errors import SonotypeError

    rates: dict[int, int] = {}
    for _, path in recordings:
        try:
            sr = Recording(path).sr
        except (SonotypeError, OSError):
            continue
        rates[sr] = rates.get(sr, 0) + 1
    notes = []
    for sr, count in sorted(rates.items()):
        _, fitted = detector.for_rate(sr)
        where = f" ({count} recording{'s' if count > 1 else ''} at {sr} Hz)"
        notes += [note + where for note in fitted]
    return notes
