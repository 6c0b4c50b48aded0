"""``sonotype runs``, ``runs show``, ``runs cancel`` and ``retry``: the project's runs registry.

Every command that changes a project is a run (see :mod:`sonotype.store.runs`): these
commands list runs with what each computed, found cached or failed, show one in full, stop a
running one, and run a run's command line again, so that only what is missing or failed is
computed.
"""

from __future__ import annotations

import json
import os
import shlex
from datetime import datetime, timezone
from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION

app = typer.Typer(
    help="The project's runs: what each command computed, found cached or failed. Without a "
    "subcommand, lists the newest runs.",
)

STATUSES = ("running", "ok", "partial", "failed", "cancelled", "killed")
STATUS_STYLES = {
    "running": "cyan",
    "ok": "green",
    "partial": "yellow",
    "failed": "red",
    "cancelled": "magenta",
    "killed": "red",
}
#: Runs listed when neither --limit nor --all is given.
DEFAULT_LIMIT = 20
#: Failed items that ``retry`` names before it says "and N more".
_NAMED_FAILURES = 5


@app.callback(invoke_without_command=True)
def list_runs(
    ctx: typer.Context,
    status: str = typer.Option(
        None, "--status", help=f"Only runs with this status: {', '.join(STATUSES)}."
    ),
    command: str = typer.Option(None, "--command", help="Only runs of this command (detect)."),
    limit: int = typer.Option(
        DEFAULT_LIMIT, "--limit", help="Show at most this many runs, newest first."
    ),
    show_all: bool = typer.Option(False, "--all", help="Show every run (overrides --limit)."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """List the project's runs, newest first: command, name, status, when it started, how
    long it took, how many stages and items it computed, found cached or failed, and its
    error or first failure.

    A run whose process ended without saying how (killed, out of memory, a lost node) is
    shown `killed`; run the same command again to finish it.
    """
    ctx.obj = project_dir  # `runs -p DIR show ID` reads the project given before the subcommand
    if ctx.invoked_subcommand is not None:
        return
    from rich.markup import escape
    from rich.table import Table

    from sonotype.cli.console import err, out, plural
    from sonotype.cli.options import open_project
    from sonotype.store import runs as registry

    _check_listing(status=status, limit=limit)
    shown = None if show_all else limit
    with open_project(project_dir) as project:
        # One more than shown tells whether older runs were left out.
        rows = registry.runs(
            project.db,
            status=status,
            command=command,
            limit=None if shown is None else shown + 1,
        )
        more = shown is not None and len(rows) > shown
        rows = rows[:shown] if more else rows
        ids = [row["id"] for row in rows]
        counts = registry.step_counts(project.db, ids)
        failures = registry.first_failures(project.db, ids)
    if not rows:
        wanted = " ".join(
            f"{option} {value}"
            for option, value in (("--status", status), ("--command", command))
            if value is not None
        )
        err.print(f"no runs match {wanted}" if wanted else "no runs yet", markup=False)
        return
    # The problems go under the table, whole: a column of them would squeeze it.
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("id", "command", "name", "status", "started", "took"):
        table.add_column(column, no_wrap=True, justify="right" if column == "id" else "left")
    for column in ("computed", "cached", "failed"):
        table.add_column(column, justify="right")
    problems = []
    for row in rows:
        steps = counts.get(row["id"])
        style = STATUS_STYLES[row["status"]]
        table.add_row(
            str(row["id"]),
            escape(row["command"]),
            escape(row["name"] or ""),
            f"[{style}]{row['status']}[/]",
            _local_time(row["started_at"], seconds=False),
            _took(row),
            *(
                (f"{steps.computed:,}", f"{steps.cached:,}", f"{steps.failed:,}")
                if steps
                else ("", "", "")
            ),
        )
        problem = _problem(row, failures.get(row["id"]))
        if problem:
            problems.append(f"run {row['id']}: {problem}")
    out.print(table)
    for problem in problems:
        out.print(problem, markup=False)
    if more:
        err.print(
            f"the {plural(shown, 'newest run')} shown; --all (or --limit N) shows older ones",
            markup=False,
        )


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., metavar="ID", help="The run's id, as `sonotype runs` lists."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Show one run in full: its command line, folder, host and process, status, times, the
    config it ran with, its steps per stage (computed, cached, failed, seconds), and every
    failed item with its reason."""
    from rich.markup import escape
    from rich.table import Table

    from sonotype.cli.console import out
    from sonotype.cli.options import open_project
    from sonotype.store import runs as registry

    with open_project(project_dir or ctx.obj) as project:
        run = registry.get_run(project.db, run_id)
        stages = registry.stage_counts(project.db, run_id)
        failed = registry.steps(project.db, run_id, status="failed")

    style = STATUS_STYLES[run["status"]]
    named = f" ({escape(run['name'])})" if run["name"] else ""
    title = f"[bold]run {run_id}[/]: {escape(run['command'])}{named}"
    out.print(f"{title}  [{style}]{run['status']}[/]")
    # One line per fact, never folded, so the command line can be copied whole.
    facts = [
        ("command line", _command_line(run) or "(started from Python)"),
        ("folder", run["cwd"] or ""),
        ("host, process", f"{run['host']}, pid {run['pid']}"),
        ("sonotype", run["sonotype_version"]),
        ("started", _local_time(run["started_at"])),
    ]
    if run["finished_at"]:
        ended = "found killed" if run["status"] == "killed" else "finished"
        facts.append((ended, _local_time(run["finished_at"])))
    facts.append(("took", _took(run)))
    if run["error"]:
        facts.append(("error", run["error"]))
    if run["cancel_requested"] and run["status"] == "running":
        facts.append(("cancel", "asked; it stops after the item it is computing"))
    for label, value in facts:
        out.print(f"{label:<15}{value}", markup=False)

    out.print("\n[bold]config[/]")
    out.print(json.dumps(json.loads(run["config"]), indent=2, sort_keys=True), markup=False)

    if stages:
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("stage", no_wrap=True)
        for column in ("computed", "cached", "failed", "seconds"):
            table.add_column(column, justify="right")
        for stage, counts in stages.items():
            table.add_row(
                escape(stage),
                f"{counts.computed:,}",
                f"{counts.cached:,}",
                f"{counts.failed:,}",
                f"{counts.seconds:,.2f}",
            )
        out.print("\n[bold]steps[/]")
        out.print(table)
    else:
        out.print("\n[bold]steps[/]: none recorded (this command does not run stages)")
    if failed:
        out.print("\n[bold]failed[/]")
        for step in failed:
            where = f"{step['stage']} {step['item']}" if step["item"] else step["stage"]
            out.print(f"  {where}: {step['error']}", markup=False)
    if run["status"] in ("partial", "failed", "cancelled", "killed") and run["argv"] is not None:
        out.print(
            f"\n`sonotype retry {run_id}` runs it again: what it finished comes from the store",
            markup=False,
        )


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., metavar="ID", help="The running run's id."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Stop a running run. What it finished is kept: run the same command (or `sonotype
    retry ID`) to do the rest.

    The run is asked to stop through the project, and stops after the item it is computing;
    when it runs on this machine, from the command line, its process also gets SIGTERM and
    stops at once (exit code 130). A run that has ended is refused.
    """
    from sonotype.cli.console import out
    from sonotype.cli.options import open_project
    from sonotype.store import runs as registry

    with open_project(project_dir or ctx.obj) as project:
        run = registry.get_run(project.db, run_id)
        cancellation = registry.cancel(project.db, run_id)
    if cancellation.signalled:
        out.print(
            f"run {run_id} ({run['command']}): asked to stop, and sent SIGTERM to its process "
            f"{run['pid']}; what it finished is kept",
            markup=False,
        )
    else:
        out.print(
            f"run {run_id} ({run['command']}): asked to stop; it stops after the item it is "
            f"computing ({cancellation.why_not}); what it finished is kept",
            markup=False,
        )


def retry(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., metavar="ID", help="The run's id, as `sonotype runs` lists."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only say what would be run again; run nothing."
    ),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Run a run's command line again, from the folder it was run in: what it finished comes
    from the artifact store, so only what failed or was never done is computed. The retry is
    a new run (`sonotype runs show` of it tells what was cached).

    Typical after a partial run (fix or remove the bad files first), a cancelled one, or one
    killed with its machine.
    """
    from sonotype.cli.console import err, plural
    from sonotype.cli.options import open_project
    from sonotype.errors import ParameterError
    from sonotype.store import runs as registry

    with open_project(project_dir) as project:
        run = registry.get_run(project.db, run_id)
        counts = registry.step_counts(project.db, [run_id]).get(run_id, registry.StepCounts())
        failed = registry.steps(project.db, run_id, status="failed")
        last_before = max((r["id"] for r in registry.runs(project.db, limit=1)), default=0)

    if run["status"] == "running":
        raise ParameterError(
            f"run {run_id} ({run['command']}) is still running; wait for it to end, or stop it "
            f"with `sonotype runs cancel {run_id}`, then retry it"
        )
    if run["argv"] is None:
        raise ParameterError(
            f"run {run_id} ({run['command']}) was started from Python, not the command line, so "
            "there is no command line to run again; call the same function again: what it "
            "finished comes from the artifact store"
        )
    command_line = _command_line(run)
    cwd = run["cwd"]
    if not cwd or not Path(cwd).is_dir():
        raise ParameterError(
            f"run {run_id} was run in {cwd}, which no longer exists; run its command line from "
            f"the project folder instead: {command_line}"
        )
    done = counts.computed + counts.cached
    summary = run["status"]
    if counts.total:
        summary += f": {plural(done, 'step')} done, {counts.failed} failed"
    err.print(
        f"retrying run {run_id} ({run['command']}, {summary}): {command_line}\n  in {cwd}",
        markup=False,
    )
    if failed:
        names = [step["item"] or step["stage"] for step in failed]
        shown = ", ".join(names[:_NAMED_FAILURES])
        if len(names) > _NAMED_FAILURES:
            shown += f" and {len(names) - _NAMED_FAILURES} more"
        err.print(f"  computed again, as they failed: {shown}", markup=False)
    if run["status"] in ("failed", "cancelled", "killed"):
        err.print("  computed: what it had not finished", markup=False)
    if counts.total:
        err.print("  from the artifact store: what it finished", markup=False)
    if dry_run:
        return

    root = ctx.find_root().command
    here = os.getcwd()
    os.chdir(cwd)
    try:
        code = root.main(args=json.loads(run["argv"]), prog_name="sonotype", standalone_mode=False)
    finally:
        os.chdir(here)
    with open_project(project_dir) as project:
        new = [r["id"] for r in registry.runs(project.db, limit=10) if r["id"] > last_before]
    if new:
        shown = ", ".join(str(i) for i in sorted(new))
        err.print(
            f"the retry is run {shown}: `sonotype runs show {max(new)}` tells what was "
            "computed and what came from the store",
            markup=False,
        )
    if isinstance(code, int) and code != 0:
        raise typer.Exit(code)


# -- helpers ---------------------------------------------------------------------------------


def _check_listing(*, status: str | None, limit: int) -> None:
    from sonotype.errors import ParameterError

    if status is not None and status not in STATUSES:
        raise ParameterError(
            f"--status {status!r} is not a run status; use one of {', '.join(STATUSES)}"
        )
    if limit < 1:
        raise ParameterError(f"--limit {limit} must be 1 or more; --all shows every run")


def _command_line(run: dict) -> str | None:
    """The run's command line as a shell would take it, or None for runs made from Python."""
    if run["argv"] is None:
        return None
    return shlex.join(["sonotype", *json.loads(run["argv"])])


def _problem(run: dict, first_failure: dict | None) -> str | None:
    """What went wrong: a run that ended badly says why; one that went on past failed items
    names the first."""
    if run["status"] in ("failed", "cancelled", "killed") or first_failure is None:
        return run["error"]
    where = first_failure["item"] or first_failure["stage"]
    return f"{where}: {first_failure['error']}"


def _local_time(stamp: str, *, seconds: bool = True) -> str:
    """A recorded UTC time as local time, to the second (or the minute)."""
    shown = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromisoformat(stamp).astimezone().strftime(shown)


def _took(run: dict) -> str:
    """How long the run took, or has taken so far when it is still running."""
    started = datetime.fromisoformat(run["started_at"])
    if run["status"] == "killed":
        return ""  # it died unseen: only when it was found dead is known
    if run["finished_at"]:
        return _clock((datetime.fromisoformat(run["finished_at"]) - started).total_seconds())
    if run["status"] == "running":
        return f"{_clock((datetime.now(timezone.utc) - started).total_seconds())} so far"
    return ""


def _clock(seconds: float) -> str:
    seconds = max(round(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
