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
    assert "imported 2 events from 1 file (edit 1)" in result.output

    result = invoke("export", "--format", "simple-csv", "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    back = read_events(tmp_path / "out.csv")
    assert back["recording"].tolist() == ["one.wav", "sub/two.wav"]
    assert set(back["source"]) == {"me"}

    result = invoke("undo")
    assert "undid edit 1" in result.output
    assert "nothing to undo" in invoke("undo").output


def test_export_to_a_trailing_slash_writes_a_folder_and_names_the_cli_options(folder, tmp_path):
    invoke("scan")
    write_events(
        make_events(["one.wav", "two.wav"], [0.1, 0.5], [0.3, 0.6], ["a", "b"]),
        tmp_path / "notes.csv",
    )
    assert invoke("import", tmp_path / "notes.csv").exit_code == 0
    target = f"{tmp_path / 'predicted'}/"
    result = invoke("export", "--format", "simple-csv", "-o", target)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "predicted").is_dir()
    assert len(list((tmp_path / "predicted").rglob("*.csv"))) == 2
    # A second export names the option that replaces files, as export spells it.
    with pytest.raises(AnnotationError, match="pass --force to replace") as error:
        invoke("export", "--format", "simple-csv", "-o", target)
    assert "overwrite=" not in str(error.value)


def test_import_of_unknown_recording_fails_cleanly(folder, tmp_path):
    invoke("scan")
    write_events(make_events("nine.wav", [0.1], [0.3], "a"), tmp_path / "bad.csv")
    with pytest.raises(AnnotationError, match=r"'nine\.wav', which is not indexed"):
        invoke("import", tmp_path / "bad.csv")


def test_commands_outside_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProjectNotFoundError, match="sonotype init"):
        invoke("scan")


def test_spectrogram_draws_the_stored_events(folder, tmp_path):
    invoke("scan")
    write_events(
        make_events(["one.wav", "two.wav"], [0.1, 0.5], [0.3, 0.5], ["a", "pulse"]),
        tmp_path / "notes.csv",
    )
    invoke("import", tmp_path / "notes.csv")
    result = invoke("spectrogram", "sub/two.wav", "-o", tmp_path / "two.png", "--stop", "1.5")
    assert result.exit_code == 0, result.output
    assert "1 events of this recording" in result.output
    assert (tmp_path / "two.png").read_bytes()[:4] == b"\x89PNG"


def test_spectrogram_of_a_file_with_an_annotation_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_audio(tmp_path / "song.wav", np.zeros(8000), 8000)
    write_events(make_events("song.wav", [0.1, 0.4], [0.2, 0.6], "a"), tmp_path / "song.txt",
                 format="audacity")  # fmt: skip
    result = invoke(
        "spectrogram", tmp_path / "song.wav", "--events", tmp_path / "song.txt",
        "-o", tmp_path / "s.png",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 events" in result.output
