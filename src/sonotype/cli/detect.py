"""``sonotype detect``: find sounds in recordings with a registered detector."""

from __future__ import annotations

import contextlib
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
    source: str = typer.Option(
        None,
        "--source",
        help="Name the events are stored under (default: the method's name); runs with other "
        "names are kept side by side.",
    ),
    output: str = typer.Option(
        None, "-o", "--output", help="File or folder for the events (a trailing / means a folder)."
    ),
    format: str = typer.Option(None, "--format", "-f", help="Annotation format of --output."),
    block_s: float = typer.Option(
        60.0, "--block-s", help="Seconds of audio per block (more than 0; 'inf' reads whole)."
    ),
    workers: int = typer.Option(
        0,
        "--workers",
        help="Processes: 0 (the default) for as many as the cores and memory hold, or 1 or more.",
    ),
    force: bool = typer.Option(False, "--force", help="Replace output files that exist."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Detect sounds: write the events to --output, or, inside a project without files,
    store them (kind detected) under the name --source, replacing that name's earlier
    events in one undoable edit.

    In a project each recording's events are kept once computed: a re-run with nothing
    changed detects nothing and adds no edit, and a run that was killed or cancelled
    resumes where it stopped. A recording that cannot be read fails alone, with its reason;
    the others go on and the exit code is 3.

    Detector parameters: `sonotype detect --method NAME --set KEY=VALUE`; an unknown key
    lists the valid ones. In a project, the detect.NAME table of sonotype.toml (written by
    `sonotype tune-detector`) sets the defaults that --set overrides; `--preset NAME` starts
    from a documented set of parameters instead. Parameters that do not fit a recording's
    sample rate are fitted to it, with a note.
    """
    from sonotype.cli.options import open_project
    from sonotype.detect import make_detector, preset_detector
    from sonotype.errors import ParameterError

    _check_numbers(block_s=block_s, workers=workers)
    if source is not None and not source.strip():
        raise ParameterError(
            f"--source {source!r} is empty; give a name such as 'strict' or 'bird-2', or leave "
            "--source out to use the method's name"
        )
    explicit = _parse_settings(settings)
    if preset is not None:  # checks the preset and --method before any work
        method = preset_detector(preset, method=method, **explicit).name
    else:
        method = method or "time-freq"
        make_detector(method, **explicit)
    if paths and output is None:
        raise ParameterError("pass -o/--output for the events of the files given")
    project = None if paths else open_project(project_dir)
    # Files given with --project use that project's settings, as the project's own do.
    enclosing = project or (open_project(project_dir) if project_dir is not None else None)
    with contextlib.ExitStack() as stack:
        if enclosing is not None:
            stack.enter_context(enclosing)
        tuned = enclosing.config.detect.params(method) if enclosing is not None else {}
        compute = getattr(enclosing.config, "compute", None) if enclosing is not None else None
        detector = _make(method, preset=preset, explicit=explicit, tuned=tuned)
        if project is None:
            _detect_files(
                detector, paths, output=output, format=format, force=force, source=source,
                block_s=block_s, workers=workers, compute=compute,
            )  # fmt: skip
        else:
            _detect_project(
                project, detector, preset=preset, source=source, block_s=block_s,
                workers=workers, compute=compute,
            )  # fmt: skip


def _make(method: str, *, preset: str | None, explicit: dict, tuned: dict):
    """The detector: parameters tuned for the project (`sonotype tune-detector`) are the
    defaults, unless a preset was asked for; --set overrides either."""
    from sonotype.cli.console import err
    from sonotype.detect import make_detector, preset_detector

    if preset is not None:
        if tuned:
            note = f"--preset {preset}: the [detect.{method}] table of sonotype.toml is not used"
            err.print(note, markup=False)
        return preset_detector(preset, method=method, **explicit)
    if tuned:
        err.print(f"using [detect.{method}] of sonotype.toml (--set overrides): "
                  + ", ".join(f"{k}={v}" for k, v in tuned.items()), markup=False)  # fmt: skip
    return make_detector(method, **{**tuned, **explicit})


def _detect_project(project, detector, *, preset, source, block_s, workers, compute) -> None:
    """Project mode: through the pipeline, cached per recording, stored under ``source``."""
    from rich.markup import escape

    from sonotype.cli.console import EXIT_PARTIAL, err, out, progress
    from sonotype.pipeline.detect import DetectFailed, detect_project
    from sonotype.pipeline.executors import open_executor

    index = project.recordings(status=None)
    index = index[index["status"] != "missing"]
    rates = index.loc[index["status"] == "ok", "sr"].astype(int).value_counts().to_dict()
    for note in _rate_notes(detector, rates):
        err.print(f"[yellow]note:[/] {note}")
    with (
        open_executor(compute, workers=workers or None) as executor,
        progress("detecting", len(index), min_items=2) as advance,
    ):
        try:
            outcome = detect_project(
                project,
                detector,
                source=source,
                block_s=block_s,
                preset=preset,
                executor=executor,
                progress=lambda name: advance(),
            )
        except DetectFailed as error:
            _print_failures(error.failures)
            err.print(
                f"[bold red]error:[/] every recording failed ({len(error.failures)}); "
                "nothing stored"
            )
            raise typer.Exit(1) from None
    _print_failures(outcome.failures)
    done = f"{outcome.computed} detected now, {outcome.cached} done before"
    failed = f", {len(outcome.failures)} failed" if outcome.failures else ""
    out.print(f"{_count(outcome.recordings, 'recording')}: {done}{failed}")
    summary = _summary(outcome.events)
    if outcome.edit is not None:
        out.print(
            f"stored {len(outcome.events)} detected events ({summary}) as source "
            f"{escape(outcome.source)}, edit {outcome.edit.id}"
        )
    else:
        out.print(
            f"the {len(outcome.events)} detected events ({summary}) of source "
            f"{escape(outcome.source)} were stored already: nothing changed"
        )
    if outcome.failures:
        err.print(
            f"[yellow]partial:[/] {_count(len(outcome.failures), 'recording')} of "
            f"{outcome.recordings} failed (see `sonotype runs show {outcome.run_id}`); the "
            "others' events are stored"
        )
        raise typer.Exit(EXIT_PARTIAL)  # docs/cli.md


def _detect_files(
    detector, paths, *, output, format, force, source, block_s, workers, compute
) -> None:
    """File mode: no store to cache in; the events are written to ``output``."""
    from sonotype.annotations import write_events
    from sonotype.audio import is_audio_path
    from sonotype.cli.console import EXIT_PARTIAL, err, out, progress
    from sonotype.errors import ParameterError
    from sonotype.pipeline.detect import detect_files
    from sonotype.pipeline.executors import open_executor

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
    if not recordings:
        raise ParameterError("no recordings to detect on")
    rates = _file_rates(recordings)
    for note in _rate_notes(detector, rates):
        err.print(f"[yellow]note:[/] {note}")
    # Before the work: an output that exists would only be refused after it.
    _check_output(output, format=format, names=[name for name, _ in recordings], force=force)

    with (
        open_executor(compute, workers=workers or None) as executor,
        progress("detecting", len(recordings), min_items=2) as advance,
    ):
        found = detect_files(
            detector,
            recordings,
            block_s=block_s,
            sr=max(rates, default=None),
            executor=executor,
            progress=lambda name: advance(),
        )
    _print_failures(found.failures)
    if len(found.failures) == len(recordings):
        err.print(
            f"[bold red]error:[/] every recording failed ({len(recordings)}); nothing written"
        )
        raise typer.Exit(1)
    events = found.events
    if source is not None and len(events):
        events = events.assign(source=source)
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
        f"detected {len(events)} events ({_summary(events)}) in "
        f"{_count(len(recordings) - len(found.failures), 'recording')}: {where}"
    )
    if found.failures:
        err.print(
            f"[yellow]partial:[/] {_count(len(found.failures), 'recording')} of "
            f"{len(recordings)} failed; the others' events are written"
        )
        raise typer.Exit(EXIT_PARTIAL)  # docs/cli.md


def _print_failures(failures: dict[str, str]) -> None:
    from rich.markup import escape

    from sonotype.cli.console import err

    for name, problem in failures.items():
        err.print(f"[red]failed:[/] {escape(f'{name}: {problem}')}", soft_wrap=True)


def _summary(events) -> str:
    counts = events["label"].value_counts().to_dict() if len(events) else {}
    return ", ".join(f"{label} {n}" for label, n in sorted(counts.items())) or "nothing"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _check_numbers(*, block_s: float, workers: int) -> None:
    """Checked before any recording is read or the project opened (the library checks
    ``block_s`` only when it detects, and knows no ``workers=0``). The errors name the
    parameters, which :func:`~sonotype.cli.main.cli_message` turns into the options."""
    from sonotype.checks import check_int, check_number

    check_number(block_s, name="block_s", minimum=0, inclusive="neither", allow_inf=True,
                 unit="seconds", default=60, hint="inf reads each recording whole")  # fmt: skip
    check_int(workers, name="workers", minimum=0, default=0,
              hint="0 runs as many processes as the cores and memory hold")  # fmt: skip


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


def _file_rates(recordings) -> dict[int, int]:
    """How many of the ``(name, path)`` recordings have each sample rate; unreadable files
    are left to the detection, which reports them."""
    from sonotype.audio import Recording
    from sonotype.errors import SonotypeError

    rates: dict[int, int] = {}
    for _, path in recordings:
        try:
            sr = Recording(path).sr
        except (SonotypeError, OSError):
            continue
        rates[sr] = rates.get(sr, 0) + 1
    return rates


def _rate_notes(detector, rates: dict[int, int]) -> list[str]:
    """The detector's notes on fitting itself to each sample rate among the recordings
    (once per rate, naming how many recordings have it)."""
    notes = []
    for sr, count in sorted(rates.items()):
        _, fitted = detector.for_rate(sr)
        where = f" ({count} recording{'s' if count > 1 else ''} at {sr} Hz)"
        notes += [note + where for note in fitted]
    return notes
