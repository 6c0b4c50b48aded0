"""Runs and jobs: the project's runs registry, and commands started from the page.

A job is ``sonotype COMMAND ARGS... --project FOLDER`` run as a child process, exactly as
from a terminal: it reads the project's config, records its run (so ``sonotype runs`` lists
it, and ``sonotype runs cancel`` stops it), and writes its output to a log under
``reports/app/jobs/``. Progress is the run's steps in the registry.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from sonotype.errors import ParameterError
from sonotype.store import runs as registry

router = APIRouter(prefix="/api", tags=["runs and jobs"])

#: Commands the page may start.
JOB_COMMANDS = ("detect", "discover", "embed", "train", "classify", "ethogram")
JOBS_DIR = Path("reports") / "app" / "jobs"
_numbers = itertools.count(1)


@dataclass
class Job:
    id: int
    command: str
    args: list[str]
    log: Path
    process: subprocess.Popen = field(repr=False)
    started: float = field(default_factory=time.time)

    def run_id(self, db) -> int | None:
        """The run this job's process recorded (once it has started it)."""
        row = db.execute(
            "SELECT id FROM runs WHERE pid = ? AND started_at >= ? ORDER BY id DESC LIMIT 1",
            (self.process.pid, _iso(self.started - 5)),
        ).fetchone()
        return row[0] if row else None


def _iso(seconds: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def _state(request: Request):
    from sonotype.app.server import state_of

    return state_of(request)


@router.get("/runs")
def list_runs(request: Request, limit: int = Query(50, ge=1, le=10_000)) -> list[dict]:
    """The project's runs, newest first, with their step counts."""
    project = _state(request).project
    found = project.runs()[:limit]
    counts = registry.step_counts(project.db, [r["id"] for r in found])
    out = []
    for run in found:
        steps = counts.get(run["id"])
        out.append({
            **{k: run[k] for k in ("id", "command", "name", "status", "started_at",
                                   "finished_at", "error")},
            "steps": None if steps is None else {"computed": steps.computed,
                                                 "cached": steps.cached, "failed": steps.failed},
        })  # fmt: skip
    return out


class NewJob(BaseModel):
    command: str
    args: list[str] = Field(default_factory=list)


@router.post("/jobs", status_code=201)
def start_job(request: Request, body: NewJob) -> dict:
    """Start ``sonotype COMMAND ARGS...`` on this project; answer the job."""
    from sonotype.cli.main import app as cli

    state = _state(request)
    if body.command not in JOB_COMMANDS:
        raise ParameterError(
            f"command={body.command!r}: the page can start {', '.join(JOB_COMMANDS)}",
            parameter="command",
        )
    import typer

    known = typer.main.get_command(cli).commands
    if body.command not in known:
        raise ParameterError(
            f"command={body.command!r}: this sonotype has no such command", parameter="command"
        )
    for arg in body.args:
        if arg in ("-p", "--project") or arg.startswith("--project="):
            raise ParameterError(f"args: {arg} is set by the app (this project)", parameter="args")
    number = next(_numbers)
    log = state.folder / JOBS_DIR / f"{os.getpid()}-{number}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "sonotype", body.command, *body.args,
            "--project", str(state.folder)]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=state.folder, env={**os.environ, "NO_COLOR": "1", "COLUMNS": "100"},
        )  # fmt: skip
    job = Job(number, body.command, list(body.args), log, process)
    with state.lock:
        state.jobs[number] = job
    return _job_json(state, job)


def _job_json(state, job: Job) -> dict:
    code = job.process.poll()
    run_id = job.run_id(state.project.db)
    run = registry.get_run(state.project.db, run_id) if run_id else None
    steps = registry.step_counts(state.project.db, [run_id]).get(run_id) if run_id else None
    return {
        "id": job.id,
        "command": job.command,
        "args": job.args,
        "pid": job.process.pid,
        "running": code is None,
        "exit_code": code,
        "run_id": run_id,
        "run_status": None if run is None else run["status"],
        "steps": None if steps is None else {"computed": steps.computed,
                                             "cached": steps.cached, "failed": steps.failed},
        "seconds": round(time.time() - job.started, 1),
    }  # fmt: skip


def _job(state, job_id: int) -> Job:
    from sonotype.app.server import NotFound

    with state.lock:
        job = state.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no job {job_id} was started by this server; see /api/jobs")
    return job


@router.get("/jobs")
def list_jobs(request: Request) -> list[dict]:
    """The jobs this server started, newest first."""
    state = _state(request)
    with state.lock:
        jobs = sorted(state.jobs.values(), key=lambda j: -j.id)
    return [_job_json(state, j) for j in jobs]


@router.get("/jobs/{job_id}")
def get_job(request: Request, job_id: int) -> dict:
    state = _state(request)
    return _job_json(state, _job(state, job_id))


@router.get("/jobs/{job_id}/log", response_class=PlainTextResponse)
def job_log(request: Request, job_id: int, tail: int = Query(200_000, ge=1)) -> str:
    """The job's output so far (its last ``tail`` characters)."""
    job = _job(_state(request), job_id)
    text = job.log.read_text(encoding="utf-8", errors="replace")
    return text[-tail:]


@router.post("/jobs/{job_id}/cancel")
def cancel_job(request: Request, job_id: int) -> dict:
    """Stop a job as ``sonotype runs cancel`` does (SIGTERM; what finished is kept)."""
    state = _state(request)
    job = _job(state, job_id)
    if job.process.poll() is not None:
        raise ParameterError(f"job {job_id} has ended (exit code {job.process.returncode})")
    run_id = job.run_id(state.project.db)
    if run_id is not None and registry.get_run(state.project.db, run_id)["status"] == "running":
        registry.cancel(state.project.db, run_id)
    else:  # not recorded yet: stop the process itself, as its run would be
        job.process.terminate()
    return _job_json(state, job)


@router.post("/runs/{run_id}/cancel")
def cancel_run(request: Request, run_id: int) -> dict:
    """Cancel any running run of the project (``sonotype runs cancel``)."""
    result = registry.cancel(_state(request).project.db, run_id)
    return {"run_id": run_id, "signalled": result.signalled, "why_not": result.why_not}
