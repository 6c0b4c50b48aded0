"""``sonotype app``: the local web app on a project."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION


def app(
    project_dir: Path = PROJECT_OPTION,
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Address to listen on. Any address but loopback needs a token, printed in the URL.",
    ),
    port: int = typer.Option(5006, "--port", help="Port to listen on."),
    open_browser: bool = typer.Option(False, "--open", help="Open the page in a browser."),
) -> None:
    """Look at, listen to, annotate, review and explore the project in the browser.

    Serves the page and its REST API (documented at /docs) until Ctrl-C. Edits are stored
    in the project at once, and undo/redo work across the app and `sonotype undo`.
    """
    try:
        from sonotype.app import serve
    except ImportError as error:
        from sonotype.errors import SonotypeError

        raise SonotypeError(
            f"the app needs the 'app' extra ({error.name} is missing): pip install 'sonotype[app]'"
        ) from error
    from sonotype.cli.console import err
    from sonotype.store.project import find_project

    folder = find_project(project_dir or Path.cwd())

    def announce(url: str) -> None:
        err.print(f"sonotype app on {folder}\nOpen [bold]{url}[/]  (Ctrl-C stops it)")

    from sonotype.invocation import Terminated

    try:
        serve(folder, host=host, port=port, open_browser=open_browser, announce=announce)
    except (KeyboardInterrupt, Terminated):
        # Ctrl-C or SIGTERM is how the app is meant to stop: every edit is already stored.
        err.print("sonotype app stopped")
