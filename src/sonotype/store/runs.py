"""The runs registry: every command that changes a project is recorded with its config.

A run is ``running`` while its command works, then ``ok``; ``partial`` when some items of a
batch failed and the others were kept; ``failed`` with the error; ``cancelled`` when
``sonotype runs cancel`` stopped it; ``killed`` when the process that ran it is gone without
saying how it ended (found when the registry is read). Each stage execution, and each item of a
batch, is a row of ``run_steps``: ``computed``, ``cached`` (found in the artifact store) or
``failed`` with its reason, so a run can be inspected, and tests count what really ran.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sonotype._version import __version__
from sonotype.store.database import Database

#: Statuses a run ends with.
FINAL = ("ok", "partial", "failed", "cancelled", "killed")


@dataclass(frozen=True)
class Invocation:
    """The command line that started this process's runs (set by the CLI), for retry."""

    argv: tuple[str, ...]
    cwd: str


#: Set by the CLI for each command it runs; library calls leave it unset.
current_invocation: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar(
    "current_invocation", default=None
)


class RunOutcome:
    """Handed to the body of :func:`record_run`: set ``status = "partial"`` (with ``error``
    saying what failed) when the run kept some results and lost others."""

    def __init__(self, run_id: int) -> None:
        self.id = run_id
        self.status = "ok"
        self.error: str | None = None


@contextlib.contextmanager
def record_run(
    db: Database, command: str, config: Mapping[str, Any], *, name: str | None = None
) -> Iterator[RunOutcome]:
    """Record a run of ``command`` with its resolved ``config``; yield its :class:`RunOutcome`.

    The run is ``running`` while the body executes, then ``ok`` (or what the body set on the
    outcome), ``cancelled`` if the body raised :class:`~sonotype.errors.RunCancelled`, or
    ``failed`` with the error.
    """
    from sonotype.errors import RunCancelled

    invocation = current_invocation.get()
    with db.transaction() as con:
        run_id = con.execute(
            "INSERT INTO runs (command, name, config, argv, cwd, host, pid, sonotype_version, "
            "started_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')",
            (
                command,
                name,
                json.dumps(config, sort_keys=True, default=str),
                json.dumps(list(invocation.argv)) if invocation else None,
                invocation.cwd if invocation else os.getcwd(),
                socket.gethostname(),
                os.getpid(),
                __version__,
                _now(),
            ),
        ).lastrowid
    outcome = RunOutcome(run_id)
    try:
        yield outcome
    except BaseException as error:
        status = "cancelled" if isinstance(error, RunCancelled) else "failed"
        _finish(db, run_id, status, f"{type(error).__name__}: {error}")
        raise
    _finish(db, run_id, outcome.status, outcome.error)


def _finish(db: Database, run_id: int, status: str, error: str | None) -> None:
    with db.transaction() as con:
        con.execute(
            "UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE id = ?",
            (status, _now(), error, run_id),
        )


def record_step(
    db: Database,
    run_id: int,
    *,
    stage: str,
    key: str,
    status: str,
    item: str = "",
    error: str | None = None,
    seconds: float | None = None,
) -> None:
    """Record that ``stage`` (for ``item`` of a batch) was computed, found cached, or failed."""
    with db.transaction() as con:
        con.execute(
            "INSERT INTO run_steps (run_id, stage, item, key, status, error, seconds, "
            "finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, stage, item, key, status, error, seconds, _now()),
        )


def steps(db: Database, run_id: int | None = None, *, status: str | None = None) -> list[dict]:
    """The recorded steps of one run (or of all runs), oldest first."""
    where, args = [], []
    if run_id is not None:
        where.append("run_id = ?")
        args.append(run_id)
    if status is not None:
        where.append("status = ?")
        args.append(status)
    sql = "SELECT * FROM run_steps" + (" WHERE " + " AND ".join(where) if where else "")
    return [dict(row) for row in db.execute(sql + " ORDER BY id", args).fetchall()]


def cancel_requested(db: Database, run_id: int) -> bool:
    """Whether ``sonotype runs cancel`` asked run ``run_id`` to stop."""
    row = db.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
    return bool(row and row[0])


def request_cancel(db: Database, run_id: int) -> None:
    with db.transaction() as con:
        con.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))


def runs(db: Database, *, ids: Sequence[int] | None = None) -> list[dict]:
    """The runs, newest first; ``running`` runs whose process on this host is gone are
    marked ``killed`` first."""
    mark_killed(db)
    sql = "SELECT * FROM runs"
    args: list[Any] = []
    if ids is not None:
        sql += f" WHERE id IN ({','.join('?' * len(ids))})"
        args = list(ids)
    return [dict(row) for row in db.execute(sql + " ORDER BY id DESC", args).fetchall()]


def mark_killed(db: Database) -> int:
    """Mark ``killed`` the running runs of this host whose process no longer exists."""
    host = socket.gethostname()
    rows = db.execute(
        "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", (host,)
    ).fetchall()
    gone = [row["id"] for row in rows if row["pid"] is not None and not _alive(row["pid"])]
    for run_id in gone:
        _finish(db, run_id, "killed", "the process ended without recording how")
    return len(gone)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process with that id
        return True
    return True


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
