"""The runs registry: statuses, filters, counts of steps, cancelling, and killed runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from sonotype.errors import FileProblem, RunCancelled
from sonotype.pipeline.codecs import ArrayCodec
from sonotype.pipeline.executors import LocalExecutor
from sonotype.pipeline.stage import Item, Pipeline, Stage, StageParams
from sonotype.store import Project
from sonotype.store import runs as registry


class Factor(StageParams):
    factor: float = 1.0


class Square(Stage[Factor, np.ndarray]):
    name = "test-square"
    params_model = Factor
    codec = ArrayCodec()

    def compute(self, params, *, item):
        if item < 0:
            raise FileProblem(f"n{item}", "negative input")
        return np.array([item**2 * params.factor])


@pytest.fixture
def project(tmp_path):
    with Project.init(tmp_path / "p") as p:
        yield p


def _batch(project, numbers, *, command="square"):
    items = [Item(f"n{n}", f"content-{n}", n) for n in numbers]
    with project.run(command, {"numbers": list(numbers)}) as run:
        batch = Pipeline(project, run_id=run.id, executor=LocalExecutor(1)).map(
            Square(), Factor(), items
        )
        if batch.failures:
            run.status, run.error = "partial", f"{len(batch.failures)} failed"
    return run.id


def test_statuses_filters_and_limit(project):
    ok = _batch(project, [1, 2])
    partial = _batch(project, [3, -1, -2])
    with pytest.raises(RuntimeError), project.run("other", {}):
        raise RuntimeError("broken")
    with pytest.raises(RunCancelled), project.run("other", {}):
        raise RunCancelled("asked to stop")
    with pytest.raises(KeyboardInterrupt), project.run("other", {}):
        raise KeyboardInterrupt
    with pytest.raises(registry.Terminated), project.run("other", {}):
        raise registry.Terminated("stopped by SIGTERM")

    rows = registry.runs(project.db)
    assert [r["status"] for r in rows] == [
        "cancelled",
        "cancelled",
        "cancelled",
        "failed",
        "partial",
        "ok",
    ]
    assert [r["error"] for r in rows[:4]] == [
        "stopped by SIGTERM",
        "interrupted (Ctrl-C)",
        "RunCancelled: asked to stop",
        "RuntimeError: broken",
    ]
    assert [r["id"] for r in registry.runs(project.db, command="square")] == [partial, ok]
    assert [r["id"] for r in registry.runs(project.db, status="partial")] == [partial]
    assert len(registry.runs(project.db, limit=2)) == 2
    assert json.loads(registry.get_run(project.db, partial)["config"]) == {"numbers": [3, -1, -2]}
    # Runs made from Python have no command line to retry.
    assert registry.get_run(project.db, ok)["argv"] is None


def test_counts_of_steps_per_run_and_per_stage(project):
    first = _batch(project, [1, 2, -3])
    second = _batch(project, [1, 2, 4, -5])
    counts = registry.step_counts(project.db, [first, second])
    assert (counts[first].computed, counts[first].cached, counts[first].failed) == (2, 0, 1)
    assert (counts[second].computed, counts[second].cached, counts[second].failed) == (1, 2, 1)
    assert counts[second].total == 4
    stages = registry.stage_counts(project.db, second)
    assert list(stages) == ["test-square"]
    assert stages["test-square"].cached == 2
    assert stages["test-square"].seconds >= 0
    failures = registry.first_failures(project.db, [first, second])
    assert failures[first] == {"stage": "test-square", "item": "n-3", "error": "negative input"}
    assert failures[second]["item"] == "n-5"
    assert registry.step_counts(project.db, []) == {}


def test_an_unknown_run_is_named_with_the_ones_that_exist(project):
    with pytest.raises(registry.RunNotFoundError, match="it has no runs yet"):
        registry.get_run(project.db, 1)
    _batch(project, [1])
    with pytest.raises(registry.RunNotFoundError, match=r"run 7 does not exist.*1 to 1"):
        registry.get_run(project.db, 7)


def test_cancel_asks_a_running_run_and_refuses_an_ended_one(project):
    ended = _batch(project, [1])
    with pytest.raises(registry.RunNotRunningError, match=rf"run {ended} .*ended ok"):
        registry.cancel(project.db, ended)
    items = [Item("n5", "content-5", 5), Item("n6", "content-6", 6)]
    with (
        pytest.raises(RunCancelled, match="after 1 of 2 items"),
        project.run("square", {}) as run,
    ):
        # This process runs it, from Python: asked through the registry, never signalled.
        cancellation = registry.cancel(project.db, run.id)
        assert not cancellation.signalled
        assert "from Python" in cancellation.why_not
        assert registry.cancel_requested(project.db, run.id)
        pipe = Pipeline(project, run_id=run.id, executor=LocalExecutor(1))
        pipe.map(Square(), Factor(), items)
    assert registry.get_run(project.db, run.id)["status"] == "cancelled"


def _set_run(project, run_id, **values):
    with project.db.transaction() as con:
        for column, value in values.items():
            con.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (value, run_id))


def test_a_run_whose_process_is_gone_is_marked_killed(project):
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    with project.run("square", {}) as alive:
        assert registry.get_run(project.db, alive.id)["status"] == "running"  # this process
    with project.run("square", {}) as run:
        _set_run(project, run.id, pid=int(child.stdout))
        assert registry.mark_killed(project.db) == 1
        row = registry.get_run(project.db, run.id)
        assert row["status"] == "killed"
        assert "ended without recording how" in row["error"]
    # A run taken for killed that does end records how it really ended.
    assert registry.get_run(project.db, run.id)["status"] == "ok"


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_a_process_that_reuses_a_dead_runs_id_does_not_keep_it_running(project):
    # A process that started after the run cannot be the run's, whatever its id.
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with project.run("square", {}) as run:
            an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
            _set_run(
                project,
                run.id,
                pid=later.pid,
                started_at=an_hour_ago.isoformat(timespec="seconds"),
            )
            assert registry.mark_killed(project.db) == 1
    finally:
        later.kill()
        later.wait()


def test_a_run_of_another_host_is_asked_to_stop_and_never_taken_for_killed(project):
    with project.run("square", {}) as run:
        _set_run(project, run.id, host="elsewhere", pid=2**22 + 1)  # no such process here
        assert registry.mark_killed(project.db) == 0
        cancellation = registry.cancel(project.db, run.id)
        assert not cancellation.signalled
        assert cancellation.why_not == "it runs on elsewhere"
        assert registry.cancel_requested(project.db, run.id)
