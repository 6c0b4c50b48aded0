"""sonotype runs, runs show, runs cancel and retry, on runs of real commands and of batches
(one with a bad item, one cancelled or killed in another process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from sonotype.annotations import write_events
from sonotype.audio import write_audio
from sonotype.cli import main
from sonotype.cli.console import EXIT_CANCELLED, EXIT_PARTIAL
from sonotype.errors import FileProblem, ParameterError
from sonotype.pipeline.codecs import ArrayCodec
from sonotype.pipeline.executors import LocalExecutor
from sonotype.pipeline.stage import Item, NoParams, Pipeline, Stage
from sonotype.store import Project
from sonotype.store import runs as registry
from sonotype.synth import flysong

runner = CliRunner()


def invoke(*args):
    return runner.invoke(main.app, [str(a) for a in args], catch_exceptions=False)


# -- a batch command over the numbers in a project's numbers/*.txt ---------------------------


class Square(Stage[NoParams, np.ndarray]):
    """Squares a number after waiting its delay; a negative number fails, as a bad file."""

    name = "test-square-numbers"
    codec = ArrayCodec()

    def compute(self, params, *, item):
        number, delay_s = item
        time.sleep(delay_s)
        if number < 0:
            raise FileProblem(f"{number}", "negative number")
        return np.array([number**2])


def square_numbers(project: Project) -> registry.RunOutcome:
    """One run over ``numbers/NAME.txt`` files, each ``NUMBER [DELAY_S]``: an item's key is
    its number, so a changed delay is the same item and a changed number is a new one."""
    items = []
    for file in sorted((project.folder / "numbers").glob("*.txt")):
        number, *delay = file.read_text().split()
        items.append(Item(file.name, f"number-{number}", (float(number), float(*delay or [0]))))
    with project.run("numbers", {"n": len(items)}) as run:
        pipe = Pipeline(project, run_id=run.id, executor=LocalExecutor(1))
        batch = pipe.map(Square(), NoParams(), items)
        if batch.failures:
            run.status, run.error = "partial", f"{len(batch.failures)} of {len(items)} failed"
    return run


def numbers_command(project_dir: Path = typer.Option(None, "--project", "-p")) -> None:
    """Square the project's numbers (a command for these tests)."""
    from sonotype.cli.options import open_project

    with open_project(project_dir) as project:
        run = square_numbers(project)
    if run.status == "partial":
        raise typer.Exit(EXIT_PARTIAL)


def _numbers(root: Path, **files: str) -> None:
    (root / "numbers").mkdir(exist_ok=True)
    for name, text in files.items():
        (root / "numbers" / f"{name}.txt").write_text(text)


@pytest.fixture
def with_numbers_command(monkeypatch):
    """The app with the `numbers` command too (for this test only)."""
    monkeypatch.setattr(main.app, "registered_commands", list(main.app.registered_commands))
    main.app.command("numbers")(numbers_command)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A project of two synthetic fly recordings with their truth, as the current folder."""
    truth = []
    for i in range(2):
        y, events = flysong(2, random_state=i, recording=f"fly{i}.wav")
        write_audio(tmp_path / "proj" / "audio" / f"fly{i}.wav", y, 2500)
        truth.append(events)
    write_events(truth[0], tmp_path / "fly0.csv")
    assert invoke("init", tmp_path / "proj").exit_code == 0
    monkeypatch.chdir(tmp_path / "proj")
    return tmp_path / "proj"


def _rows(output: str) -> list[list[str]]:
    """The table's rows: each split on spaces, the header left out."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["id", "command"])

    return [line.split() for line in lines[start + 1 :] if line.strip()[:1].isdigit()]


# -- listing and showing ---------------------------------------------------------------------


def test_runs_of_real_commands_are_listed_newest_first_with_their_command_lines(folder, tmp_path):
    assert invoke("scan").exit_code == 0
    assert invoke("import", tmp_path / "fly0.csv", "--source", "truth").exit_code == 0
    result = invoke("runs")
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert [row[:3] for row in rows] == [["2", "import", "ok"], ["1", "scan", "ok"]]

    assert [row[1] for row in _rows(invoke("runs", "--command", "scan").stdout)] == ["scan"]
    assert "no runs match --status failed" in invoke("runs", "--status", "failed").output
    limited = invoke("runs", "--limit", "1")
    assert [row[0] for row in _rows(limited.stdout)] == ["2"]
    assert "--all" in limited.output
    assert len(_rows(invoke("runs", "--limit", "1", "--all").stdout)) == 2

    shown = invoke("runs", "show", 2)
    assert shown.exit_code == 0, shown.output
    assert f"sonotype import {tmp_path / 'fly0.csv'} --source truth" in shown.stdout
    assert str(folder) in shown.stdout  # the folder it was run from
    config = json.loads(shown.stdout[shown.stdout.index("{") : shown.stdout.rindex("}") + 1])
    assert config["source"] == "truth"
    assert "steps: none recorded" in shown.stdout


def test_retry_runs_a_real_command_again_from_the_folder_it_was_run_in(folder, monkeypatch):
    monkeypatch.chdir(folder / "audio")
    assert invoke("scan").exit_code == 0
    assert invoke("detect", "--workers", "1").exit_code == 0
    monkeypatch.chdir(folder.parent)  # outside the project: retry finds it with -p
    result = invoke("retry", 1, "-p", folder)
    assert result.exit_code == 0, result.output
    assert "retrying run 1 (scan, ok): sonotype scan" in result.output
    assert "2 unchanged" in result.output  # scan's own output, run again
    with Project.open(folder) as project:
        rows = registry.runs(project.db)
    assert [(r["id"], r["command"]) for r in rows] == [(3, "scan"), (2, "detect"), (1, "scan")]
    assert json.loads(rows[0]["argv"]) == ["scan"]
    assert rows[0]["cwd"] == str(folder / "audio")
    assert json.loads(rows[1]["argv"]) == ["detect", "--workers", "1"]


def test_bad_listing_options_and_unknown_runs_are_refused_by_name(folder):
    with pytest.raises(ParameterError, match="--status 'done' is not a run status; use one of"):
        invoke("runs", "--status", "done")
    with pytest.raises(ParameterError, match="--limit 0 must be 1 or more"):
        invoke("runs", "--limit", "0")
    with pytest.raises(registry.RunNotFoundError, match=r"run 4 does not exist.*no runs yet"):
        invoke("runs", "show", 4)
    assert "no runs yet" in invoke("runs").output


def test_a_partial_batch_shows_its_first_failure_and_every_failed_item(folder):
    _numbers(folder, a="1", b="-2", c="3", d="-4")
    with Project.open(folder) as project:
        run_id = square_numbers(project).id
    result = invoke("runs")
    [row] = _rows(result.stdout)
    assert row[:3] == [str(run_id), "numbers", "partial"]
    assert row[-3:] == ["2", "0", "2"]  # computed, cached, failed
    assert f"run {run_id}: b.txt: negative number" in result.stdout

    shown = invoke("runs", "-p", folder, "show", run_id).stdout  # -p before the subcommand
    assert "(started from Python)" in shown
    assert "test-square-numbers" in shown
    stage_row = next(line.split() for line in shown.splitlines() if "test-square-numbers" in line)
    assert stage_row[1:4] == ["2", "0", "2"]
    assert "test-square-numbers b.txt: negative number" in shown
    assert "test-square-numbers d.txt: negative number" in shown


# -- retry -----------------------------------------------------------------------------------


def test_retry_computes_only_the_fixed_item(folder, tmp_path, with_numbers_command, monkeypatch):
    _numbers(folder, a="1", b="-2", c="3")
    first = invoke("numbers")
    assert first.exit_code == EXIT_PARTIAL, first.output
    with Project.open(folder) as project:
        [partial] = registry.runs(project.db)
    assert json.loads(partial["argv"]) == ["numbers"]

    _numbers(folder, b="2")  # the bad item fixed
    monkeypatch.chdir(tmp_path)  # retry runs the command from the folder it was run in
    dry = invoke("retry", partial["id"], "-p", folder, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "sonotype numbers" in dry.output
    assert "computed again, as they failed: b.txt" in dry.output
    with Project.open(folder) as project:
        assert len(registry.runs(project.db)) == 1  # a dry run runs nothing

    retried = invoke("retry", partial["id"], "-p", folder)
    assert retried.exit_code == 0, retried.output
    with Project.open(folder) as project:
        new = registry.runs(project.db)[0]
        assert new["id"] != partial["id"] and new["status"] == "ok"
        assert json.loads(new["argv"]) == ["numbers"] and new["cwd"] == str(folder)
        computed = project.run_steps(new["id"], status="computed")
        cached = project.run_steps(new["id"], status="cached")
    assert [s["item"] for s in computed] == ["b.txt"]
    assert sorted(s["item"] for s in cached) == ["a.txt", "c.txt"]
    assert f"runs show {new['id']}" in retried.output
    shown = invoke("runs", "-p", folder, "show", new["id"]).stdout
    stage_row = next(line.split() for line in shown.splitlines() if "test-square-numbers" in line)
    assert stage_row[1:4] == ["1", "2", "0"]


def test_retry_keeps_the_exit_code_of_a_still_partial_run(folder, with_numbers_command):
    _numbers(folder, a="1", b="-2")
    assert invoke("numbers").exit_code == EXIT_PARTIAL
    assert invoke("retry", 1).exit_code == EXIT_PARTIAL


def test_retry_refuses_runs_without_a_command_line_and_running_ones(folder):
    _numbers(folder, a="1")
    with Project.open(folder) as project:
        square_numbers(project)
        with project.run("numbers", {}):  # running, in this process
            with pytest.raises(ParameterError, match=r"run 2 .*is still running.*runs cancel 2"):
                invoke("retry", 2)
            with pytest.raises(registry.RunNotRunningError, match=r"run 1 .*ended ok"):
                invoke("runs", "cancel", 1)
    with pytest.raises(ParameterError, match=r"run 1 .*started from Python.*no command line"):
        invoke("retry", 1)


# -- cancel and killed, in another process ---------------------------------------------------

PYTHON_RUN = """
from sonotype.store import Project
from tests.cli.test_runs_cli import square_numbers
with Project.open(".") as project:
    square_numbers(project)
"""

CLI_RUN = """
import sys
from sonotype.cli.main import app, run
from tests.cli.test_runs_cli import numbers_command
app.command("numbers")(numbers_command)
sys.argv = ["sonotype", "numbers"]
run()
"""


@pytest.fixture
def start():
    """Starts a script in another Python process; kills what is left of it after the test."""
    started = []

    def start(script: str, folder: Path) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        process = subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _wait_for_computed(folder: Path, process: subprocess.Popen, n: int) -> int:
    """The id of the running run, once it has computed ``n`` items."""
    deadline = time.monotonic() + 120  # against a hang only; nothing is timed
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        with Project.open(folder) as project:
            running = registry.runs(project.db, status="running")
            if running and len(project.run_steps(running[0]["id"], status="computed")) >= n:
                return running[0]["id"]
        time.sleep(0.05)
    raise AssertionError("the run never got going")


def _resume(folder: Path) -> tuple[int, int]:
    """Run the batch again without delays: (computed, cached)."""
    for file in (folder / "numbers").glob("*.txt"):
        file.write_text(file.read_text().split()[0])
    with Project.open(folder) as project:
        run_id = square_numbers(project).id
        return (
            len(project.run_steps(run_id, status="computed")),
            len(project.run_steps(run_id, status="cached")),
        )


@pytest.mark.slow
def test_cancel_stops_a_python_run_after_its_current_item(folder, start):
    _numbers(folder, **{f"n{i:02d}": f"{i} {0 if i < 2 else 0.2}" for i in range(30)})
    process = start(PYTHON_RUN, folder)
    run_id = _wait_for_computed(folder, process, 2)
    result = invoke("runs", "cancel", run_id)
    assert result.exit_code == 0, result.output
    assert "asked to stop; it stops after the item it is computing" in result.output
    assert "started from Python" in result.output
    _, stderr = process.communicate(timeout=120)
    assert process.returncode != 0 and "RunCancelled" in stderr
    with Project.open(folder) as project:
        run = registry.get_run(project.db, run_id)
        done = len(project.run_steps(run_id, status="computed"))
    assert run["status"] == "cancelled" and "was cancelled after" in run["error"]
    assert 2 <= done < 30
    assert _resume(folder) == (30 - done, done)  # what finished is kept


@pytest.mark.slow
def test_cancel_sends_sigterm_to_a_command_line_run(folder, start):
    _numbers(folder, a="1 0", b="2 0", c="3 600", d="4 600")
    process = start(CLI_RUN, folder)
    run_id = _wait_for_computed(folder, process, 2)
    result = invoke("runs", "cancel", run_id)
    assert result.exit_code == 0, result.output
    assert "sent SIGTERM" in result.output
    # The long item is interrupted, not waited for.
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == EXIT_CANCELLED, stderr
    assert "cancelled: stopped by SIGTERM" in stderr
    with Project.open(folder) as project:
        run = registry.get_run(project.db, run_id)
    assert run["status"] == "cancelled" and "SIGTERM" in run["error"]
    assert _resume(folder) == (2, 2)


@pytest.mark.slow
def test_a_killed_command_is_shown_killed_and_retry_finishes_it(
    folder, start, with_numbers_command
):
    _numbers(folder, a="1 0", b="2 0", c="3 600")
    process = start(CLI_RUN, folder)
    run_id = _wait_for_computed(folder, process, 2)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=120)

    listed = invoke("runs")
    assert _rows(listed.stdout)[0][:3] == [str(run_id), "numbers", "killed"]
    assert f"run {run_id}: the process ended without recording how" in listed.stdout
    with pytest.raises(registry.RunNotRunningError, match="ended killed"):
        invoke("runs", "cancel", run_id)

    _numbers(folder, c="3")  # without its delay
    retried = invoke("retry", run_id)
    assert retried.exit_code == 0, retried.output
    with Project.open(folder) as project:
        new = registry.runs(project.db)[0]["id"]
        assert [s["item"] for s in project.run_steps(new, status="computed")] == ["c.txt"]
        assert len(project.run_steps(new, status="cached")) == 2


def test_the_command_line_is_recorded_for_the_command_only(folder):
    from sonotype.invocation import current_invocation

    for args in (["--version"], ["scan", "--help"], ["scan", "--no-such-option"], ["scan"]):
        runner.invoke(main.app, args)
        assert current_invocation.get() is None  # nothing leaks into later runs from Python
    with Project.open(folder) as project:
        assert json.loads(registry.runs(project.db)[0]["argv"]) == ["scan"]
        with project.run("python", {}) as run:
            pass
        assert registry.get_run(project.db, run.id)["argv"] is None


def test_a_detection_over_corrupt_files_is_reported_by_runs(tmp_path, monkeypatch):
    audio = tmp_path / "audio"
    for i in range(2):
        y, _ = flysong(2, recording=f"good{i}.wav", random_state=i)
        write_audio(audio / f"good{i}.wav", y, 2500)
    (audio / "noise.wav").write_bytes(np.random.default_rng(0).bytes(5000))
    good = (audio / "good0.wav").read_bytes()
    (audio / "cut.wav").write_bytes(good[: len(good) // 3])  # a truncated copy
    invoke("init", tmp_path, "--audio", audio)
    monkeypatch.chdir(tmp_path)
    invoke("scan")

    done = invoke("detect")
    assert done.exit_code == EXIT_PARTIAL
    [run] = [r for r in Project.open(tmp_path).runs() if r["command"] == "detect"]
    assert run["status"] == "partial"

    listing = invoke("runs")
    assert listing.exit_code == 0
    assert "partial" in listing.output and "detect" in listing.output
    shown = invoke("runs", "show", run["id"])
    assert shown.exit_code == 0
    text = " ".join(shown.output.split())
    assert "cut.wav" in text and "noise.wav" in text
    failed = text.split(" failed ")[-1]
    assert "cut.wav: is truncated" in failed and "noise.wav: is not readable audio" in failed
    assert "good0.wav" not in failed
