"""Options shared by the commands that work inside a project."""

from __future__ import annotations

from pathlib import Path

import typer

PROJECT_OPTION = typer.Option(
    None,
    "--project",
    "-p",
    help="Project folder; by default the one holding the current folder (searched upward).",
)


def open_project(folder: Path | None):
    """The project at ``folder``, or the one around the current folder."""
    from sonotype.store import Project

    return Project.open(folder or Path.cwd())
