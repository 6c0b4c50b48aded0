"""A detect batch killed with SIGKILL resumes: the rerun computes only what was missing."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sonotype
from sonotype.audio import write_audio
from sonotype.store import Project
from sonotype.store.project import same_events
from sonotype.synth import flysong

#: Enough recordings (60 s each, ~0.1 s to detect) that the batch lasts seconds after the
#: process starts, so it can be killed part-way.
N = 40
COMMAND = ["detect", "--workers", "1", "--set", "time_sigma=8,4"]


def _sonotype(project: Path, *args: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(sonotype.__file__).parents[1])}
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "sonotype", *args], cwd=project, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def _recorded(db: Path) -> int:
    """Batch items recorded as computed so far, read as another process would."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute("SELECT COUNT(*) FROM run_steps WHERE status = 'computed'").fetchone()[0]
    finally:
        con.close()


def _steps(project: Project, run_id: int, status: str) -> set[str]:
    return {s["item"] for s in project.run_steps(run_id, status=status)}


@pytest.mark.slow
def test_a_killed_batch_resumes_without_recomputing_what_it_finished(tmp_path):
    folder = tmp_path / "p"
    for i in range(N):
        y, _ = flysong(60, random_state=i)
        write_audio(folder / "audio" / f"fly{i:02d}.wav", y, 2500)
    with Project.init(folder) as project:
        project.scan()
    shutil.copytree(folder, tmp_path / "copy")  # for an uninterrupted run

    first = _sonotype(folder, *COMMAND, log=tmp_path / "first.log")
    try:
        deadline = time.monotonic() + 300  # a guard against hanging, not a measurement
        while _recorded(folder / "sonotype.db") < 2:
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "no item was recorded"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.wait()

    second = _sonotype(folder, *COMMAND, log=tmp_path / "second.log")
    assert second.wait() == 0, (tmp_path / "second.log").read_text()
    with Project.open(folder) as project:
        killed, rerun = sorted(r["id"] for r in project.runs() if r["command"] == "detect")
        assert project.runs(ids=[killed])[0]["status"] == "killed"
        done_first = _steps(project, killed, "computed")
        done_now = _steps(project, rerun, "computed")
        found = _steps(project, rerun, "cached")
        assert 2 <= len(done_first) < N, "the batch ended before it was killed"
        assert not done_first & done_now  # nothing finished before the kill ran again
        assert done_first <= found
        everything = {f"fly{i:02d}.wav" for i in range(N)}
        assert done_now | found == everything and not done_now & found
        # At most the item in hand at the kill: its file written, not yet recorded.
        assert len(everything - done_first - done_now) <= 1
        resumed = project.events(kinds=["detected"])
        registered = {row["path"] for row in project.db.execute("SELECT path FROM artifacts")}
        on_disk = {
            p.relative_to(folder).as_posix()
            for p in (folder / "artifacts").rglob("*")
            if p.is_file()
        }
        assert on_disk == registered  # no temporary file left by the kill

    whole = _sonotype(tmp_path / "copy", *COMMAND, log=tmp_path / "whole.log")
    assert whole.wait() == 0, (tmp_path / "whole.log").read_text()
    with Project.open(tmp_path / "copy") as copy:
        assert len(resumed) > 0
        assert same_events(resumed, copy.events(kinds=["detected"]))
