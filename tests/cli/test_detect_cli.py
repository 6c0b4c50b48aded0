"""sonotype detect: on files into an annotation file, and inside a project into the store."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.annotations import read_events
from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.errors import ParameterError
from sonotype.store import Project
from sonotype.synth import flysong

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def flies(tmp_path):
    for i in range(2):
        y, _ = flysong(8, random_state=i)
        write_audio(tmp_path / "audio" / f"fly{i}.wav", y, 2500)
    return tmp_path / "audio"


def test_detect_files_to_an_annotation_file(flies, tmp_path):
    result = invoke("detect", flies, "--method", "time-freq", "-o", tmp_path / "found.csv",
                    "--workers", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    events = read_events(tmp_path / "found.csv")
    assert set(events["recording"]) == {"fly0.wav", "fly1.wav"}
    assert {"time", "neither"} <= set(events["label"])


def test_detect_to_a_trailing_slash_writes_one_table_per_recording(flies, tmp_path):
    target = f"{tmp_path / 'found'}/"
    result = invoke("detect", flies, "-o", target, "--format", "simple-csv", "--workers", "1")
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "found").iterdir())
    assert written == ["fly0.csv", "fly1.csv"]
    # Checked before any detection: the files exist, so nothing runs without --force.
    refused = r"fly0\.csv already exists \(and 1 more\); pass --force"
    with pytest.raises(ParameterError, match=refused):
        invoke("detect", flies, "-o", target, "--format", "simple-csv", "--workers", "1")


def test_detect_inside_a_project_replaces_and_undoes(flies, tmp_path, monkeypatch):
    Project.init(tmp_path, audio_roots=[flies]).close()
    monkeypatch.chdir(tmp_path)
    invoke("scan")
    assert invoke("detect", "--set", "time_sigma=9,4").exit_code == 0
    with Project.open(tmp_path) as project:
        first = project.events(kinds=["detected"])
    assert len(first) > 0
    result = invoke("detect", "--set", "time_sigma=12,4")
    assert "stored" in result.output
    with Project.open(tmp_path) as project:
        second = project.events(kinds=["detected"])
        assert len(second[second["label"] == "time"]) <= len(first[first["label"] == "time"])
        runs = project.db.execute("SELECT command, status FROM runs").fetchall()
        assert [tuple(r) for r in runs].count(("detect", "ok")) == 2
    invoke("undo")
    with Project.open(tmp_path) as project:
        assert project.events(kinds=["detected"]).equals(first)


def test_bad_settings_are_clear(flies, tmp_path):
    with pytest.raises(ParameterError, match="--set 'time_sigma' must look like KEY=VALUE"):
        invoke("detect", flies, "-o", tmp_path / "x.csv", "--set", "time_sigma")
    with pytest.raises(ParameterError, match="has no parameter sigma"):
        invoke("detect", flies, "-o", tmp_path / "x.csv", "--set", "sigma=3")
    with pytest.raises(ParameterError, match="pass -o/--output"):
        invoke("detect", flies)


def test_default_detect_works_at_32_khz_and_notes_what_it_fitted(tmp_path):
    """The default method's F-test window (25.6 ms, 819.2 samples at 32 kHz) becomes a power
    of two, and the amplitude detector's 10 kHz edge is dropped at 16 kHz, with notes."""
    rng = np.random.default_rng(0)
    for sr in (32000, 16000):
        write_audio(tmp_path / "audio" / f"x{sr}.wav", 0.01 * rng.standard_normal(sr), sr)
    result = invoke("detect", tmp_path / "audio", "-o", tmp_path / "found.csv",
                    "--workers", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "freq_n_ms=25.6 is 819.2 samples at 32000 Hz" in result.output
    assert "using 1024 samples (32 ms) (1 recording at 32000 Hz)" in result.output
    result = invoke("detect", tmp_path / "audio", "-m", "amplitude", "-o", tmp_path / "a.csv",
                    "--workers", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "high_hz=10000 is not below half the sample rate (8000 Hz at 16000 Hz)" in result.output
    assert "32000" not in result.output.split("note:")[-1]


def test_preset_sets_method_and_parameters_and_set_overrides_them(tmp_path):
    from tests.detect.test_presets import USV_SR, ultrasonic_calls

    y, calls = ultrasonic_calls(np.random.default_rng(1), n_calls=6, duration_s=1.5)
    write_audio(tmp_path / "usv.wav", y, USV_SR, subtype="FLOAT")
    result = invoke("detect", tmp_path / "usv.wav", "--preset", "rodent-usv",
                    "-o", tmp_path / "found.csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    found = read_events(tmp_path / "found.csv")
    assert len(found) == len(calls) and set(found["label"]) == {"syllable"}
    # A minimum duration longer than every call leaves nothing.
    result = invoke("detect", tmp_path / "usv.wav", "--preset", "rodent-usv", "--set",
                    "min_duration_ms=25", "-o", tmp_path / "none.csv")  # fmt: skip
    assert "detected 0 events" in result.output
    with pytest.raises(ParameterError, match="--preset rodent-usv configures --method amplitude"):
        invoke("detect", tmp_path / "usv.wav", "--preset", "rodent-usv", "-m", "time-freq",
               "-o", tmp_path / "x.csv")  # fmt: skip


@pytest.fixture
def fly_project(flies, tmp_path, monkeypatch):
    Project.init(tmp_path, audio_roots=[flies]).close()
    monkeypatch.chdir(tmp_path)
    assert invoke("scan").exit_code == 0
    return tmp_path


def test_a_rerun_says_what_was_done_before_and_changes_nothing(fly_project):
    first = invoke("detect", "--workers", "1")
    assert first.exit_code == 0, first.output
    assert "2 recordings: 2 detected now, 0 done before" in first.output
    assert "as source time-freq, edit" in first.output
    again = invoke("detect", "--workers", "1")
    assert again.exit_code == 0, again.output
    assert "2 recordings: 0 detected now, 2 done before" in again.output
    assert "were stored already: nothing changed" in again.output
    with Project.open(fly_project) as project:
        assert len(project.edit_log()) == 1


def test_two_sources_side_by_side_and_exported_apart(fly_project, tmp_path):
    assert invoke("detect", "--source", "strict", "--set", "time_sigma=20,4").exit_code == 0
    assert invoke("detect", "--source", "lax", "--set", "time_sigma=6,4").exit_code == 0
    with Project.open(fly_project) as project:
        stored = project.events(kinds=["detected"])
        runs = [(r["command"], r["name"]) for r in project.runs() if r["command"] == "detect"]
    assert sorted(stored["source"].unique()) == ["lax", "strict"]
    assert runs == [("detect", "lax"), ("detect", "strict")]
    result = invoke("export", "-o", tmp_path / "strict.csv", "-f", "simple-csv",
                    "--source", "strict")  # fmt: skip
    assert result.exit_code == 0, result.output
    exported = read_events(tmp_path / "strict.csv")
    assert len(exported) == (stored["source"] == "strict").sum()
    with pytest.raises(ParameterError, match="--source '' is empty"):
        invoke("detect", "--source", "")


def test_bad_files_are_reported_the_others_stored_and_the_exit_code_is_partial(fly_project, flies):
    (flies / "noise.wav").write_bytes(np.random.default_rng(0).bytes(4000))
    invoke("scan")
    result = invoke("detect", "--workers", "1")
    assert result.exit_code == 3, result.output
    assert "failed: noise.wav: is not readable audio" in result.output
    assert "3 recordings: 2 detected now, 0 done before, 1 failed" in result.output
    assert "partial: 1 recording of 3 failed (see `sonotype runs show" in result.output
    with Project.open(fly_project) as project:
        assert sorted(project.events(kinds=["detected"])["recording"].unique()) == [
            "fly0.wav",
            "fly1.wav",
        ]
        assert project.runs()[0]["status"] == "partial"


def test_files_with_a_bad_one_write_the_others_and_exit_partial(flies, tmp_path):
    (flies / "noise.wav").write_bytes(b"RIFF" + bytes(100))
    result = invoke("detect", flies, "-o", tmp_path / "found.csv", "--source", "mine",
                    "--workers", "1")  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "failed: noise.wav:" in result.output
    events = read_events(tmp_path / "found.csv")
    assert set(events["recording"]) == {"fly0.wav", "fly1.wav"}
    assert set(events["source"]) == {"mine"}
