"""The command line: every command's help, and each command's behaviour."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from sonotype import __version__
from sonotype.annotations import make_events, read_events, write_events
from sonotype.cli.main import app
from sonotype.errors import AnnotationError, ParameterError
from tests.fixtures.shared import data_folder

runner = CliRunner()
COMMANDS = [command.name for command in app.registered_commands]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_command_has_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"sonotype {__version__}"


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "sys.argv = ['sonotype', '--help']\n"
        "try:\n"
        "    from sonotype.cli.main import run; run()\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "heavy = sorted({'torch', 'pandas', 'scipy', 'matplotlib'} & set(sys.modules))\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_import_sonotype_is_light():
    code = "import sys, sonotype\nprint(sorted({'torch', 'pandas', 'scipy'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_formats_lists_all_nine():
    result = invoke("formats", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [r["name"] for r in rows] == [
        "audacity", "bacpipe", "das", "dcase", "notmat",
        "raven", "simple-csv", "songexplorer", "textgrid",
    ]  # fmt: skip
    assert all(r["read"] and r["write"] for r in rows)
    table = invoke("formats").output
    assert "SongExplorer" in table or "songexplorer" in table


def test_info_table_json_and_failures(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros((8000, 2), np.float32), 8000)
    sub = tmp_path / "sub"
    sub.mkdir()
    sf.write(sub / "b.flac", np.zeros(4000, np.float32), 2000)
    result = invoke("info", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert [(r["sr"], r["channels"], r["duration_s"]) for r in summary["recordings"]] == [
        (8000, 2, 1.0),
        (2000, 1, 2.0),
    ]
    assert summary["total_duration_s"] == 3.0
    assert "2 recordings" in invoke("info", tmp_path).output

    (tmp_path / "broken.wav").write_text("not audio")
    result = invoke("info", tmp_path, "--json")
    assert result.exit_code == 3  # partial: two read, one not
    (failure,) = json.loads(result.output)["unreadable"]
    assert failure["path"].endswith("broken.wav")
    assert "not readable audio" in failure["error"]


def test_info_on_nothing_fails(tmp_path):
    assert invoke("info", tmp_path).exit_code == 1
    assert invoke("info", tmp_path / "missing.wav").exit_code == 1


def test_convert_file_and_inference(tmp_path):
    events = make_events("song.wav", [0.1, 0.5], [0.3, 0.8], ["a", "b"])
    write_events(events, tmp_path / "in.csv")
    result = invoke("convert", tmp_path / "in.csv", "-o", tmp_path / "song.TextGrid")
    assert result.exit_code == 0, result.output
    back = read_events(tmp_path / "song.TextGrid", recording="song.wav")
    np.testing.assert_allclose(back["start_s"], [0.1, 0.5])
    assert back["label"].tolist() == ["a", "b"]


def test_convert_refuses_to_overwrite_without_force(tmp_path):
    write_events(make_events("s.wav", [0.1], [0.3], ["a"]), tmp_path / "in.csv")
    (tmp_path / "out.csv").write_text("keep me")
    with pytest.raises(AnnotationError, match="already exists"):
        invoke("convert", tmp_path / "in.csv", "-o", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "keep me"
    assert (
        invoke("convert", tmp_path / "in.csv", "-o", tmp_path / "out.csv", "--force").exit_code == 0
    )


def test_errors_are_one_line_messages(tmp_path):
    (tmp_path / "bad.csv").write_text("onset_s,offset_s,label\n0.5,0.2,a\n")
    result = subprocess.run(
        [sys.executable, "-m", "sonotype", "convert", str(tmp_path / "bad.csv"), "-o",
         str(tmp_path / "out.csv")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "bad.csv row 2: stop_s=0.2 is before start_s=0.5" in " ".join(result.stderr.split())


def test_convert_needs_a_format_for_folder_output(tmp_path):
    write_events(make_events("s.wav", [0.1], [0.3], ["a"]), tmp_path / "in.csv")
    with pytest.raises(ParameterError, match="pass --to FORMAT"):
        invoke("convert", tmp_path / "in.csv", "-o", tmp_path / "outdir")


def test_convert_real_notmat_folder(tmp_path):
    folder = data_folder("bengalese-finch-gy6or6")
    result = invoke("convert", folder, "--to", "raven", "-o", tmp_path / "raven")
    assert result.exit_code == 0, result.output
    tables = sorted((tmp_path / "raven").iterdir())
    assert len(tables) == 10
    total = sum(len(read_events(t)) for t in tables)
    assert total == 601


def test_convert_songexplorer_with_sample_rate(tmp_path):
    (tmp_path / "fly.wav-annotated-me.csv").write_text("fly.wav,2500,2500,annotated,pulse\n")
    with pytest.raises(AnnotationError, match=r"needs the sample rate of 'fly.wav'.*--sample-rate"):
        invoke("convert", tmp_path / "fly.wav-annotated-me.csv", "-o", tmp_path / "o.csv")
    result = invoke(
        "convert", tmp_path / "fly.wav-annotated-me.csv", "-o", tmp_path / "o.csv",
        "--sample-rate", "2500",
    )  # fmt: skip
    assert result.exit_code == 0
    assert read_events(tmp_path / "o.csv")["start_s"].tolist() == [1.0]


def test_demo_makes_a_project_with_truth_and_report(tmp_path):
    from sonotype.store import Project

    folder = tmp_path / "demo"
    result = invoke("demo", folder, "--no-loop")  # the loop: tests/pipeline/test_demo_loop.py
    assert result.exit_code == 0, result.output
    assert "review loop" not in result.output
    truth = read_events(folder / "annotations" / "truth.csv")
    assert set(truth["label"]) >= {"pulse", "sine", "a", "b", "c", "d", "e"}
    assert len(list((folder / "audio").rglob("*.wav"))) == 8
    with Project.open(folder) as project:
        assert len(project.recordings()) == 8
        stored = project.events(kinds=["annotated"])
        assert len(stored) == len(truth)
        assert set(stored["source"]) == {"truth"}
        detected = project.events(kinds=["detected"])
        assert {"syllable", "time", "frequency", "neither"} <= set(detected["label"])
    page = (folder / "reports" / "index.html").read_text()
    assert "flies/fly_01.wav" in page and "pulse" in page
    assert "Detection against the known truth" in page
    # The synthetic truth is easy: both detectors must find nearly everything.
    assert "F1" in result.output
    assert len(list((folder / "reports" / "spectrograms").glob("*.png"))) == 8
    # Re-running replaces the demo; a folder of the user's own is refused.
    assert invoke("demo", folder, "--no-loop").exit_code == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    with pytest.raises(ParameterError, match="is not a sonotype demo folder"):
        invoke("demo", mine)
    assert (mine / "thesis.tex").read_text() == "precious"
