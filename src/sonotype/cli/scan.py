"""``sonotype scan``: index the recordings under the project's audio roots."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION


def scan(project_dir: Path = PROJECT_OPTION) -> None:
    """Index the recordings: new, changed and removed files; unreadable ones are reported."""
    from sonotype.cli.console import EXIT_PARTIAL, err, out, plural, progress
    from sonotype.cli.options import open_project

    with open_project(project_dir) as project, progress("scanning", None) as advance:
        report = project.scan(progress=advance.set)
        total_s = project.recordings()["duration_s"].sum()
    out.print(
        f"{plural(report.indexed, 'recording')} indexed ({total_s / 60:.1f} min): "
        f"{len(report.new)} new, "
        f"{len(report.changed)} changed, {report.unchanged} unchanged, "
        f"{len(report.removed)} removed"
    )
    for path, problem in report.unreadable:
        err.print(f"[yellow]unreadable:[/] {path}: {problem}")
    for path in report.removed:
        err.print(f"removed: {path} (its events are kept)")
    if report.unreadable:
        raise typer.Exit(EXIT_PARTIAL)
