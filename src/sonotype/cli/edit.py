"""``sonotype events``: list, count and correct the project's stored events.

``relabel``, ``delete`` and ``accept`` are each one edit that ``sonotype undo`` reverts
(the library side is :mod:`sonotype.store.event_edits`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION

app = typer.Typer(
    help="List, count and correct stored events (relabel, delete, accept); each correction is "
    "one edit that `sonotype undo` reverts.",
    no_args_is_help=True,
)

_KIND = typer.Option([], "--kind", help="Only events of this kind (comma-separated or repeated).")
_LABEL = typer.Option([], "--label", help="Only this label (comma-separated or repeated).")
_SOURCE = typer.Option([], "--source", help="Only this source (comma-separated or repeated).")
_RECORDINGS = typer.Option(
    [], "--recordings", help="Only these recordings (comma-separated or repeated)."
)
_IDS = typer.Option(
    [],
    "--ids",
    help="Only these event ids, as `sonotype events list` shows them (comma-separated).",
)


def _split(values: list[str]) -> list[str]:
    """``--x a,b --x c`` as ``[a, b, c]``; ``--source ""`` as ``[""]``: events imported
    without a source have the empty source."""
    return [
        v.strip()
        for value in values
        for v in (value.split(",") if value.strip() else [""])
        if v.strip() or not value.strip()
    ]


def _ids(values: list[str]) -> list[int]:
    from sonotype.errors import ParameterError

    ids = []
    for value in _split(values):
        try:
            ids.append(int(value))
        except ValueError:
            raise ParameterError(
                f"--ids {value!r} is not an event id; give whole numbers as "
                "`sonotype events list` shows them"
            ) from None
    return ids


def _selection(kind, label, source, recordings, ids):
    from sonotype.store.event_edits import Selection

    return Selection(
        kinds=_split(kind),
        labels=_split(label),
        sources=_split(source),
        recordings=_split(recordings),
        ids=_ids(ids),
    )


def _done(result, verb: str) -> None:
    from sonotype.cli.console import out, plural

    out.print(
        f"{verb} {plural(result.changed, 'event')} "
        f"(edit {result.edit.id}; `sonotype undo` reverts it)"
    )


@app.command("relabel")
def relabel(
    kind: list[str] = typer.Option(
        ..., "--kind", help="Kind of the events to relabel (comma-separated or repeated)."
    ),
    label: list[str] = typer.Option(
        ..., "--label", help="Their current label (comma-separated or repeated)."
    ),
    to: str = typer.Option(..., "--to", help="The new label."),
    source: list[str] = _SOURCE,
    recordings: list[str] = _RECORDINGS,
    ids: list[str] = _IDS,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Give the selected events a new label, as one undoable edit."""
    from sonotype.cli.options import open_project
    from sonotype.store import event_edits

    with open_project(project_dir) as project:
        result = event_edits.relabel(
            project.db, _selection(kind, label, source, recordings, ids), to
        )
    _done(result, "relabelled")


@app.command("delete")
def delete(
    kind: list[str] = _KIND,
    label: list[str] = _LABEL,
    source: list[str] = _SOURCE,
    recordings: list[str] = _RECORDINGS,
    ids: list[str] = _IDS,
    everything: bool = typer.Option(
        False, "--all", help="Allow deleting every stored event when no filter is given."
    ),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Delete the selected events, as one undoable edit (no filter needs --all)."""
    from sonotype.cli.options import open_project
    from sonotype.store import event_edits

    with open_project(project_dir) as project:
        result = event_edits.delete(
            project.db, _selection(kind, label, source, recordings, ids), everything=everything
        )
    _done(result, "deleted")


@app.command("accept")
def accept(
    kind: str = typer.Option(
        ..., "--kind", help="predicted or detected: the kind of the events to accept."
    ),
    source: str = typer.Option(..., "--source", help="The model or detector run that made them."),
    min_score: float = typer.Option(
        None, "--min-score", help="Accept only events scored at least this."
    ),
    label: list[str] = _LABEL,
    recordings: list[str] = _RECORDINGS,
    ids: list[str] = _IDS,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Make predicted or detected events annotations (kind annotated), as one undoable edit."""
    from sonotype.cli.options import open_project
    from sonotype.store import event_edits

    with open_project(project_dir) as project:
        result = event_edits.accept(
            project.db,
            kind=kind,
            source=source,
            min_score=min_score,
            labels=_split(label),
            recordings=_split(recordings),
            ids=_ids(ids),
        )
    _done(result, "accepted")


@app.command("counts")
def counts(
    kind: list[str] = _KIND,
    label: list[str] = _LABEL,
    source: list[str] = _SOURCE,
    recordings: list[str] = _RECORDINGS,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """The number of stored events per kind, source and label."""
    from rich.table import Table

    from sonotype.cli.console import out
    from sonotype.cli.options import open_project
    from sonotype.store import event_edits

    with open_project(project_dir) as project:
        table = event_edits.counts(project.db, _selection(kind, label, source, recordings, []))
    if table.empty:
        out.print("no stored events match")
        return
    shown = Table("kind", "source", "label", "events")
    for row in table.itertuples(index=False):
        shown.add_row(row.kind, row.source, row.label, f"{row.events:,}")
    out.print(shown)
    out.print(f"{int(table['events'].sum()):,} events in all")


@app.command("list")
def list_events(
    kind: list[str] = _KIND,
    label: list[str] = _LABEL,
    source: list[str] = _SOURCE,
    recordings: list[str] = _RECORDINGS,
    ids: list[str] = _IDS,
    limit: int = typer.Option(50, "--limit", min=1, help="Show at most this many events."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """The selected events with their ids (for --ids), in recording and time order."""
    from rich.table import Table

    from sonotype.cli.console import out
    from sonotype.cli.options import open_project
    from sonotype.store import event_edits

    with open_project(project_dir) as project:
        events = event_edits.select(project.db, _selection(kind, label, source, recordings, ids))
    columns = ["recording", "start_s", "stop_s", "label", "kind", "source"]
    has_score = "score" in events
    shown = Table("id", *columns, *(["score"] if has_score else []))
    for event_id, row in events.iloc[:limit].iterrows():
        cells = [str(event_id), row["recording"], f"{row['start_s']:.4f}", f"{row['stop_s']:.4f}"]
        cells += [row["label"], row["kind"], row["source"]]
        if has_score:
            cells.append("" if row["score"] != row["score"] else f"{row['score']:.3f}")
        shown.add_row(*cells)
    out.print(shown)
    if len(events) > limit:
        out.print(f"showing {limit} of {len(events):,} events; raise --limit or filter to see more")
