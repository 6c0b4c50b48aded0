"""A few trials of benchmarks/kill_store.py: sonotype commands killed with SIGKILL at random
moments leave the store whole, and the next run cleans up after them and succeeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "kill_store.py"


@pytest.mark.slow
def test_killed_commands_leave_a_whole_store(tmp_path):
    result = subprocess.run(
        [sys.executable, SCRIPT, "--trials", "8", "--commands", "import,undo,detect,export"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 trials" in result.stdout and ": 0 failed" in result.stdout
