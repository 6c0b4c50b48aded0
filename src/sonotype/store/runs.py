"""The runs registry: every command that changes a project is recorded with its config."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from sonotype._version import __version__
from sonotype.store.database import Database


@contextlib.contextmanager
def record_run(db: Database, command: str, config: Mapping[str, Any]) -> Iterator[int]:
    """Record a run of ``command`` with its resolved ``config``; yield the run id.

    The run is ``running`` while the body executes, then ``ok``, or ``failed`` with the error.
    """
    with db.transaction() as con:
        run_id = con.execute(
            "INSERT INTO runs (command, config, sonotype_version, started_at, status) "
            "VALUES (?, ?, ?, ?, 'running')",
            (command, json.dumps(config, sort_keys=True, default=str), __version__, _now()),
        ).lastrowid
    try:
        yield run_id
    except BaseException as error:
        with db.transaction() as con:
            con.execute(
                "UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
                (_now(), f"{type(error).__name__}: {error}", run_id),
            )
        raise
    with db.transaction() as con:
        con.execute("UPDATE runs SET status = 'ok', finished_at = ? WHERE id = ?", (_now(), run_id))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
