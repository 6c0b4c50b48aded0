"""``sonotype scan``: index the recordings under the project's audio roots."""

from __future__ import annotations

from pathlib import Path

from sonotype.cli.options import PROJECT_OPTION


def scan(project_dir: Path = PROJECT_OPTION) -> None:
    """Index the recordings: new, changed and removed files; unreadable ones are reported."""
    from rich.progress import Progress

    from sonotype.cli.console import err, out
    from sonotype.cli.options import open_project

    with open_project(project_dir) as project, Progress(console=err, transient=True) as bar:
        task = bar.add_task("scanning", total=None)
        report = project.scan(
            progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
        total_s = project.recordings()["duration_s"].sum()
    out.print(
        f"{report.indexed} recordings indexed ({total_s / 60:.1f} min): {len(report.new)} new, "
        f"{len(report.changed)} changed, {report.unchanged} unchanged, "
        f"{len(report.removed)} removed"
    )
    for path, problem in report.unreadable:
        err.print(f"[yellow]unreadable:[/] {path}: {problem}")
    for path in report.removed:
        err.print(f"removed: {path} (its events are kept)")
