"""``sonotype info``: what the recordings are (rate, channels, duration), and which fail."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def info(
    paths: list[Path] = typer.Argument(..., help="Audio files or folders (searched recursively)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Describe recordings: one row per file with format, sample rate, channels, duration.

    Files that cannot be read are listed with the reason, and make the exit code 1.
    """
    from rich.table import Table

    from sonotype.audio import Recording, is_audio_path
    from sonotype.cli.console import err, out, progress
    from sonotype.errors import SonotypeError

    # Each file with the name to show: relative to the folder it was found in.
    files: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                (p, str(p.relative_to(path)))
                for p in sorted(path.rglob("*"))
                if p.is_file() and is_audio_path(p)
            )
        else:
            files.append((path, str(path)))

    recordings, failures = [], []
    with progress("reading headers", len(files)) as advance:
        for path, shown in files:
            try:
                rec = Recording(path)
            except SonotypeError as error:
                failures.append({"path": str(path), "error": getattr(error, "problem", str(error))})
            else:
                recordings.append(
                    {
                        "path": str(path),
                        "shown": shown,
                        "format": rec.format,
                        "subtype": rec.subtype,
                        "sr": rec.sr,
                        "channels": rec.channels,
                        "frames": rec.frames,
                        "duration_s": rec.duration_s,
                    }
                )
            advance()
    total_s = sum(r["duration_s"] for r in recordings)

    if as_json:
        for r in recordings:
            del r["shown"]
        summary = {"recordings": recordings, "unreadable": failures, "total_duration_s": total_s}
        typer.echo(json.dumps(summary, indent=2))
    else:
        folders = [str(p) for p in paths if p.is_dir()]
        title = f"Recordings in {', '.join(folders)}" if folders else None
        table = Table(show_footer=True, title=title, title_justify="left")
        table.add_column(
            "path",
            footer=f"{len(recordings)} recording{'' if len(recordings) == 1 else 's'}",
            overflow="fold",
        )
        table.add_column("format")
        table.add_column("sr (Hz)", justify="right")
        table.add_column("channels", justify="right")
        table.add_column("duration", justify="right", footer=_clock(total_s))
        for r in recordings:
            table.add_row(
                r["shown"],
                f"{r['format']} {r['subtype']}",
                str(r["sr"]),
                str(r["channels"]),
                _clock(r["duration_s"]),
            )
        if recordings:
            out.print(table)
        elif not failures:
            err.print("no audio files found")
        for failure in failures:
            err.print(f"[red]unreadable:[/] {failure['path']}: {failure['error']}")
    if failures or not files:
        raise typer.Exit(3 if recordings else 1)  # 3: partial, some read (docs/cli.md)


def _clock(seconds: float) -> str:
    """Seconds as h:mm:ss.sss (or m:ss.sss under an hour)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{int(hours)}:{int(minutes):02d}:{secs:06.3f}"
    return f"{int(minutes)}:{secs:06.3f}"
