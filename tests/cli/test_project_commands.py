"""init, scan, import, export and undo from the command line, inside a project folder."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.annotations import make_events, read_events, write_events
from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.errors import AnnotationError
from sonotype.store import ProjectNotFoundError

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A project folder with two recordings, as the current folder."""
    for name in ("one.wav", "sub/two.wav"):
        write_audio(tmp_path / "proj" / "audio" / name, np.zeros(16000), 8000)
    assert invoke("init", tmp_path / "proj").exit_code == 0
    monkeypatch.chdir(tmp_path / "proj" / "audio" / "sub")  # any folder inside works
    return tmp_path / "proj"


def test_init_then_scan(folder):
    result = invoke("scan")
    assert result.exit_code == 0, result.output
    assert "2 recordings indexed" in result.output
    assert "2 new" in result.output


def test_import_export_undo(folder, tmp_path):
    invoke("scan")
    write_events(
        make_events(["one.wav", "two.wav"], [0.1, 0.5], [0.3, 0.5], ["a", "pulse"]),
        tmp_path / "notes.csv",
    )
    result = invoke("import", tmp_path / "notes.csv", "--source", "me")
    assert result.exit_code == 0, result.output
    assert "imported 2 events from 1 file(s) (edit 1)" in result.output

    result = invoke("export", "--format", "simple-csv", "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    back = read_events(tmp_path / "out.csv")
    assert back["recording"].tolist() == ["one.wav", "sub/two.wav"]
    assert set(back["source"]) == {"me"}

    result = invoke("undo")
    assert "undid edit 1" in result.output
    assert "nothing to undo" in invoke("undo").output


def test_import_of_unknown_recording_fails_cleanly(folder, tmp_path):
    invoke("scan")
    write_events(make_events("nine.wav", [0.1], [0.3], "a"), tmp_path / "bad.csv")
    with pytest.raises(AnnotationError, match="'nine.wav', which is not indexed"):
        invoke("import", tmp_path / "bad.csv")


def test_commands_outside_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProjectNotFoundError, match="sonotype init"):
        invoke("scan")
