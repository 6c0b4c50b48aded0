"""Killing a writer at any moment loses no committed edit and never damages the database."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from sonotype.audio import write_audio
from sonotype.store import Project

BATCH = 300

WRITER = textwrap.dedent(
    f"""
    import sys
    from sonotype.annotations import make_events
    from sonotype.store import Project

    project = Project.open(sys.argv[1])
    n = {BATCH}
    for i in range(100000):
        events = make_events(
            "song.wav", [j * 0.001 for j in range(n)], [j * 0.001 + 0.0005 for j in range(n)],
            [f"b{{i}}"] * n,
        )
        edit = project.add_events(events, command="import", description=f"batch {{i}}")
        print(edit.id, flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("delay_s", [0.0, 0.013, 0.05])
def test_kill_during_import_keeps_every_committed_edit(tmp_path, delay_s):
    write_audio(tmp_path / "p" / "audio" / "song.wav", np.zeros(8000), 8000)
    with Project.init(tmp_path / "p") as project:
        project.scan()

    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / "p")], stdout=subprocess.PIPE, text=True
    )
    committed = []
    while len(committed) < 3:
        line = writer.stdout.readline()
        assert line, "the writer stopped before committing three edits"
        committed.append(int(line))
    time.sleep(delay_s)  # land the kill at different points of a transaction
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    committed += [int(line) for line in writer.stdout.read().split()]

    with Project.open(tmp_path / "p") as project:
        assert project.db.integrity_check() == "ok"
        counts = dict(
            project.db.execute("SELECT edit_id, COUNT(*) FROM events GROUP BY edit_id").fetchall()
        )
        edits = [row[0] for row in project.db.execute("SELECT id FROM edits ORDER BY id")]
        # Every edit that reported its commit is there, whole; no edit is there in part.
        assert set(committed) <= set(edits)
        assert all(counts.get(edit) == BATCH for edit in edits)
        assert len(project.events()) == BATCH * len(edits)
        # The project keeps working after the crash.
        project.undo()
        assert len(project.events()) == BATCH * (len(edits) - 1)
