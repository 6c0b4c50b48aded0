"""``sonotype init``: create a project."""

from __future__ import annotations

from pathlib import Path

import typer


def init(
    folder: Path = typer.Argument(Path("."), help="Project folder (created if needed)."),
    audio: list[Path] = typer.Option(
        [], "--audio", "-a", help="Folder of recordings (repeatable); default: FOLDER/audio."
    ),
    name: str = typer.Option("", "--name", help="Project name for reports; default: folder."),
) -> None:
    """Create a project: sonotype.toml (documented settings) and sonotype.db."""
    from sonotype.cli.console import out
    from sonotype.store import Project

    with Project.init(folder, audio_roots=audio or None, name=name) as project:
        out.print(f"created project [bold]{project.config.project.name}[/] in {project.folder}")
        for root, path in project.audio_roots:
            note = "" if path.is_dir() else " [yellow](does not exist yet)[/]"
            out.print(f"  audio root: {root}{note}")
        out.print("next: `sonotype scan` to index the recordings")
