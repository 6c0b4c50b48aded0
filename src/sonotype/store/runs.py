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
import json
import os
import signal
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sonotype._version import __version__
from sonotype.errors import SonotypeError

# Re-exported (the registry records what they say): sonotype.store.runs.current_invocation.
from sonotype.invocation import Invocation as Invocation
from sonotype.invocation import Terminated as Terminated
from sonotype.invocation import current_invocation
from sonotype.store.database import Database

#: Statuses a run ends with.
FINAL = ("ok", "partial", "failed", "cancelled", "killed")


class RunNotFoundError(SonotypeError, LookupError):
    """No run of the project has the id asked for."""


class RunNotRunningError(SonotypeError):
    """A run that has ended was asked to stop."""


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
    outcome), ``cancelled`` if the body raised :class:`~sonotype.errors.RunCancelled` or was
    interrupted (Ctrl-C; SIGTERM, which the CLI turns into :class:`Terminated`), or
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
        stopped = isinstance(error, (RunCancelled, KeyboardInterrupt))
        _finish(db, run_id, "cancelled" if stopped else "failed", _describe(error))
        raise
    _finish(db, run_id, outcome.status, outcome.error)


def _describe(error: BaseException) -> str:
    if isinstance(error, Terminated):
        return str(error)
    if isinstance(error, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    return f"{type(error).__name__}: {error}"


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
    """Ask run ``run_id`` to stop: its batch stops after the item it is computing."""
    with db.transaction() as con:
        con.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))


@dataclass(frozen=True)
class Cancellation:
    """How :func:`cancel` asked a run to stop: always through the registry (its batch stops
    after the current item); ``signalled`` when its process also got SIGTERM, which stops it
    at once; ``why_not`` says why it did not."""

    run_id: int
    signalled: bool
    why_not: str | None = None


def cancel(db: Database, run_id: int) -> Cancellation:
    """Ask running run ``run_id`` to stop; send its process SIGTERM where that is safe.

    SIGTERM goes only to a process on this host that is still the run's own (not a later
    process that reuses its id) and that the command line started: the CLI turns SIGTERM into
    a clean stop (:class:`Terminated`), while a Python session (a notebook) would die of it.

    Raises
    ------
    RunNotFoundError
        No run has this id.
    RunNotRunningError
        The run has ended (ok, partial, failed, cancelled or killed).
    """
    run = get_run(db, run_id)
    if run["status"] != "running":
        ended = f" at {run['finished_at']}" if run["finished_at"] else ""
        raise RunNotRunningError(
            f"run {run_id} ({run['command']}) is not running: it ended {run['status']}{ended}; "
            "only a running run can be cancelled"
        )
    request_cancel(db, run_id)
    if run["host"] != socket.gethostname():
        why_not = f"it runs on {run['host']}"
    elif run["argv"] is None:
        why_not = "it was started from Python, not the command line"
    elif run["pid"] == os.getpid():
        why_not = "it runs in this process"
    elif os.name != "posix":  # Windows has no SIGTERM to catch: os.kill would end it outright
        why_not = "this system cannot ask a process to stop"
    else:
        try:
            os.kill(run["pid"], signal.SIGTERM)
        except ProcessLookupError:  # it ended between the check and the signal
            return Cancellation(run_id, False, "its process had already ended")
        return Cancellation(run_id, True)
    return Cancellation(run_id, False, why_not)


def runs(
    db: Database,
    *,
    ids: Sequence[int] | None = None,
    status: str | None = None,
    command: str | None = None,
    limit: int | None = None,
) -> list[dict]:
    """The runs, newest first, optionally only those with ``status`` or ``command``, at most
    ``limit``; ``running`` runs whose process on this host is gone are marked ``killed`` first."""
    mark_killed(db)
    where: list[str] = []
    args: list[Any] = []
    if ids is not None:
        where.append(f"id IN ({','.join('?' * len(ids))})")
        args.extend(ids)
    if status is not None:
        where.append("status = ?")
        args.append(status)
    if command is not None:
        where.append("command = ?")
        args.append(command)
    sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY id DESC" + (" LIMIT ?" if limit is not None else "")
    if limit is not None:
        args.append(limit)
    return [dict(row) for row in db.execute(sql, args).fetchall()]


def get_run(db: Database, run_id: int) -> dict:
    """Run ``run_id`` (marked ``killed`` first if its process is gone)."""
    found = runs(db, ids=[run_id])
    if not found:
        last = db.execute("SELECT MAX(id) FROM runs").fetchone()[0]
        known = f"its runs are numbered 1 to {last}" if last else "it has no runs yet"
        raise RunNotFoundError(f"run {run_id} does not exist in this project: {known}")
    return found[0]


@dataclass(frozen=True)
class StepCounts:
    """How many stage executions and batch items a run computed, found cached, or failed,
    and the seconds the computed ones took."""

    computed: int = 0
    cached: int = 0
    failed: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.computed + self.cached + self.failed


def step_counts(db: Database, run_ids: Sequence[int]) -> dict[int, StepCounts]:
    """:class:`StepCounts` of each run of ``run_ids`` that has steps."""
    if not run_ids:
        return {}
    rows = db.execute(
        "SELECT run_id, status, COUNT(*) AS n, TOTAL(seconds) AS seconds FROM run_steps "
        f"WHERE run_id IN ({','.join('?' * len(run_ids))}) GROUP BY run_id, status",
        list(run_ids),
    ).fetchall()
    counts: dict[int, dict[str, Any]] = {}
    for row in rows:
        run = counts.setdefault(row["run_id"], {"seconds": 0.0})
        run[row["status"]] = row["n"]
        run["seconds"] += row["seconds"]
    return {run_id: StepCounts(**values) for run_id, values in counts.items()}


def stage_counts(db: Database, run_id: int) -> dict[str, StepCounts]:
    """:class:`StepCounts` of each stage of run ``run_id``, in the order the stages ran."""
    rows = db.execute(
        "SELECT stage, status, COUNT(*) AS n, TOTAL(seconds) AS seconds, MIN(id) AS first "
        "FROM run_steps WHERE run_id = ? GROUP BY stage, status ORDER BY first",
        (run_id,),
    ).fetchall()
    counts: dict[str, dict[str, Any]] = {}
    for row in rows:
        stage = counts.setdefault(row["stage"], {"seconds": 0.0})
        stage[row["status"]] = row["n"]
        stage["seconds"] += row["seconds"]
    return {stage: StepCounts(**values) for stage, values in counts.items()}


def first_failures(db: Database, run_ids: Sequence[int]) -> dict[int, dict]:
    """The first failed step (``stage``, ``item``, ``error``) of each run that has one."""
    if not run_ids:
        return {}
    rows = db.execute(
        "SELECT run_id, stage, item, error, MIN(id) FROM run_steps WHERE status = 'failed' "
        f"AND run_id IN ({','.join('?' * len(run_ids))}) GROUP BY run_id",
        list(run_ids),
    ).fetchall()
    return {row["run_id"]: {k: row[k] for k in ("stage", "item", "error")} for row in rows}


def mark_killed(db: Database) -> int:
    """Mark ``killed`` the running runs of this host whose process no longer exists."""
    host = socket.gethostname()
    rows = db.execute(
        "SELECT id, pid, started_at FROM runs WHERE status = 'running' AND host = ?", (host,)
    ).fetchall()
    gone = [row["id"] for row in rows if row["pid"] is not None and not _runs_still(row)]
    for run_id in gone:
        _finish(db, run_id, "killed", "the process ended without recording how")
    return len(gone)


#: A run's process starts before the run is recorded; its start time read from the system is
#: allowed this much later than the run's (recorded to the second, boot time too) before the
#: process is taken for a later one that reuses the id.
_START_SLACK_S = 5.0


def _runs_still(run: Mapping[str, Any]) -> bool:
    """Whether the process that started ``run`` (on this host) still runs."""
    pid = run["pid"]
    if not _alive(pid):
        return False
    started = _process_start(pid)
    if started is None:  # the system does not tell (no /proc): trust the id
        return True
    run_start = datetime.fromisoformat(run["started_at"]).timestamp()
    return started <= run_start + _START_SLACK_S


def _alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows: trust the id
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process with that id
        return True
    return True


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started, in seconds since the epoch (Linux), else ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        # Fields after the command name, which is in parentheses and may hold spaces: the
        # start time, in clock ticks after boot, is field 22 of the line, 20th of these.
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
