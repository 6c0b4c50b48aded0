"""``sonotype formats``: the annotation formats sonotype reads and writes."""

from __future__ import annotations

import json

import typer


def formats(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the annotation formats: names for --from/--to, what each file holds."""
    from rich.table import Table

    from sonotype.annotations import FORMATS
    from sonotype.cli.console import out

    rows = []
    for name in FORMATS.names():
        fmt = FORMATS.get(name)
        rows.append(
            {
                "name": name,
                "read": True,
                "write": fmt.can_write,
                "files": "one per recording" if fmt.per_recording else "one table",
                "time": fmt.time_unit,
                "carries": sorted(fmt.carries),
                "description": fmt.description,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(
        title="Annotation formats (all readable; names for --from / --to)", title_justify="left"
    )
    table.add_column("name", no_wrap=True)
    table.add_column("write")
    table.add_column("a file holds")
    table.add_column("time in")
    table.add_column("description", ratio=1, overflow="fold")
    for row in rows:
        table.add_row(
            row["name"],
            "yes" if row["write"] else "no",
            "one recording" if row["files"] == "one per recording" else "a table",
            row["time"],
            row["description"],
        )
    out.print(table)
