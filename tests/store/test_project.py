"""Projects: init, open from a sub-folder, scan and re-scan, import, export, undo, runs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from sonotype.annotations import make_events, read_events, write_events
from sonotype.audio import write_audio
from sonotype.errors import AnnotationError, ParameterError
from sonotype.store import DatabaseError, Project, ProjectNotFoundError, find_project


def _tone(seconds=1.0, sr=8000):
    return 0.1 * np.sin(2 * np.pi * 440 * np.arange(round(seconds * sr)) / sr)


@pytest.fixture
def project(tmp_path):
    audio = tmp_path / "proj" / "audio"
    write_audio(audio / "a" / "one.wav", _tone(1.0), 8000)
    write_audio(audio / "b" / "two.wav", _tone(2.0), 8000)
    write_audio(audio / "three.flac", _tone(0.5, 16000), 16000)
    with Project.init(tmp_path / "proj") as project:
        project.scan()
        yield project


def test_init_writes_config_and_database(tmp_path):
    with Project.init(tmp_path / "p", name="my birds") as project:
        assert (tmp_path / "p" / "sonotype.toml").is_file()
        assert (tmp_path / "p" / "sonotype.db").is_file()
        assert project.config.project.name == "my birds"
        assert project.config.audio.roots == ["audio"]
        mode = project.db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    with pytest.raises(ParameterError, match="already exists"):
        Project.init(tmp_path / "p")


def test_audio_root_outside_the_project_is_absolute(tmp_path):
    (tmp_path / "recordings").mkdir()
    with Project.init(tmp_path / "p", audio_roots=[tmp_path / "recordings"]) as project:
        assert project.config.audio.roots == [str((tmp_path / "recordings").resolve())]


def test_open_from_a_sub_folder(project, tmp_path):
    sub = tmp_path / "proj" / "audio" / "a"
    assert find_project(sub) == (tmp_path / "proj").resolve()
    with Project.open(sub) as again:
        assert len(again.recordings()) == 3
    with pytest.raises(ProjectNotFoundError, match="sonotype init"):
        find_project(tmp_path)


def test_scan_indexes_recordings(project):
    recordings = project.recordings()
    assert recordings["path"].tolist() == ["a/one.wav", "b/two.wav", "three.flac"]
    assert recordings["sr"].tolist() == [8000, 8000, 16000]
    assert recordings["duration_s"].tolist() == [1.0, 2.0, 0.5]
    assert recordings["content_hash"].str.len().eq(32).all()


def test_rescan_after_adding_changing_and_deleting(project, tmp_path):
    audio = tmp_path / "proj" / "audio"
    write_audio(audio / "c" / "four.wav", _tone(3.0), 8000)
    (audio / "b" / "two.wav").unlink()
    old = audio / "three.flac"
    write_audio(old, _tone(1.5, 16000), 16000)
    os.utime(old, (1, 1))  # a different modification time, as after a copy
    (audio / "broken.wav").write_text("not audio")
    report = project.scan()
    assert report.new == ["c/four.wav"]
    assert report.changed == ["three.flac"]
    assert report.removed == ["b/two.wav"]
    assert report.unchanged == 1
    assert [p for p, _ in report.unreadable] == ["broken.wav"]
    assert project.recordings()["path"].tolist() == ["a/one.wav", "c/four.wav", "three.flac"]
    missing = project.recordings(status="missing")
    assert missing["path"].tolist() == ["b/two.wav"]
    assert project.recordings(status="unreadable")["error"].str.contains("not readable").all()
    # Nothing changed since: a third scan reads nothing again.
    again = project.scan()
    assert (again.new, again.changed, again.removed, again.unchanged) == ([], [], [], 3)


def test_import_matches_recordings_and_undo_reverts_it(project, tmp_path):
    events = make_events(
        ["one.wav", "b/two.wav", "three.flac"], [0.1, 0.5, 0.2], [0.2, 0.9, 0.2], ["a", "b", "p"]
    )
    write_events(events, tmp_path / "notes.csv")
    report = project.import_files([tmp_path / "notes.csv"], source="me")
    assert report.total == 3
    stored = project.events()
    assert stored["recording"].tolist() == ["a/one.wav", "b/two.wav", "three.flac"]
    assert set(stored["source"]) == {"me"}
    second = project.import_files([tmp_path / "notes.csv"], kind="detected")
    assert second.edit.id == report.edit.id + 1
    assert len(project.events(kinds=["detected"])) == 3
    (undone,) = project.undo()
    assert undone.id == second.edit.id
    assert len(project.events()) == 3
    project.undo()
    assert project.events().empty
    assert project.undo() == []
    log = project.edit_log()
    assert [e.undone for e in log] == [True, True]


def test_import_of_an_annotation_file_inside_the_audio_root(project, tmp_path):
    write_events(
        make_events("one.wav", [0.1], [0.2], "a"),
        tmp_path / "proj" / "audio" / "a" / "one_annotations.csv",
        format="das",
    )
    project.import_files([tmp_path / "proj" / "audio" / "a" / "one_annotations.csv"])
    assert project.events()["recording"].tolist() == ["a/one.wav"]


def test_import_uses_indexed_sample_rates_for_ticks(project, tmp_path):
    (tmp_path / "ticks.csv").write_text("three.flac,1600,3200,annotated,x\n")
    project.import_files([tmp_path / "ticks.csv"], format="songexplorer")
    stored = project.events()
    assert (stored["start_s"].item(), stored["stop_s"].item()) == (0.1, 0.2)


def test_import_rejects_unknown_recordings_and_stores_nothing(project, tmp_path):
    write_events(make_events("one.wav", [0.1], [0.2], "a"), tmp_path / "good.csv")
    write_events(
        make_events(["one.wav", "nine.wav"], [0.1, 0.3], [0.2, 0.4], "a"), tmp_path / "bad.csv"
    )
    with pytest.raises(AnnotationError, match=r"bad\.csv: event 2 names recording 'nine\.wav'"):
        project.import_files([tmp_path / "good.csv", tmp_path / "bad.csv"])
    assert project.events().empty
    assert project.edit_log() == []


def test_import_rejects_ambiguous_names(tmp_path):
    audio = tmp_path / "p" / "audio"
    write_audio(audio / "x" / "song.wav", _tone(), 8000)
    write_audio(audio / "y" / "song.wav", _tone(), 8000)
    write_events(make_events("song.wav", [0.1], [0.2], "a"), tmp_path / "n.csv")
    with Project.init(tmp_path / "p") as project:
        project.scan()
        with pytest.raises(AnnotationError, match=r"matches 2 indexed recordings \(x/song"):
            project.import_files([tmp_path / "n.csv"])


def test_export_filters_and_formats(project, tmp_path):
    events = make_events(
        ["a/one.wav", "b/two.wav", "b/two.wav"], [0.1, 0.5, 1.0], [0.2, 0.9, 1.0], ["a", "b", "p"]
    )
    project.add_events(events, command="test", description="three events")
    project.add_events(
        make_events("a/one.wav", [0.3], [0.4], "z", kind="predicted", source="net"),
        command="test",
        description="a prediction",
    )
    written = project.export(tmp_path / "out", format="raven", kinds=["annotated"])
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "a/one.Table.1.selections.txt",
        "b/two.Table.1.selections.txt",
    ]
    (table,) = project.export(tmp_path / "p.csv", format="songexplorer", sources=["net"])
    assert table.read_text() == "a/one.wav,2400,3200,predicted,z\n"
    back = read_events(tmp_path / "p.csv", audio_dirs=[tmp_path / "proj" / "audio"])
    assert back["start_s"].tolist() == [0.3]
    with pytest.raises(ParameterError, match="no stored events match"):
        project.export(tmp_path / "none.csv", labels=["nothing"])


def test_runs_are_recorded(project, tmp_path):
    with pytest.raises(RuntimeError), project.run("fail", {"x": 1}):
        raise RuntimeError("boom")
    rows = project.db.execute("SELECT command, status, config, error FROM runs").fetchall()
    assert [(r["command"], r["status"]) for r in rows] == [("scan", "ok"), ("fail", "failed")]
    assert json.loads(rows[1]["config"]) == {"x": 1}
    assert "boom" in rows[1]["error"]


def test_database_from_the_future_is_refused(project, tmp_path):
    project.db.execute("PRAGMA user_version = 99")
    project.close()
    with pytest.raises(DatabaseError, match="newer than this sonotype"):
        Project.open(tmp_path / "proj")


def test_damaged_database_is_reported(tmp_path):
    Project.init(tmp_path / "p").close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / "p" / f"sonotype.db{suffix}").unlink(missing_ok=True)
    (tmp_path / "p" / "sonotype.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match=r"sonotype\.db: cannot be opened"):
        Project.open(tmp_path / "p")


def test_storing_the_same_results_again_adds_no_edit(tmp_path):
    folder = tmp_path / "p"
    (folder / "audio").mkdir(parents=True)
    write_audio(folder / "audio" / "a.wav", np.zeros(16000, np.float32), 16000)
    with Project.init(folder) as project:
        project.scan()
        events = make_events("a.wav", np.array([0.1, 0.5]), np.array([0.2, 0.6]), "x",
                             kind="detected", channel=0, source="amplitude")  # fmt: skip
        first = project.store_results(events, kind="detected", source="night",
                                      command="detect", description="d")  # fmt: skip
        assert first is not None
        again = project.store_results(events.iloc[::-1], kind="detected", source="night",
                                      command="detect", description="d")  # fmt: skip
        assert again is None
        stored = project.events(kinds=["detected"])
        assert set(stored["source"]) == {"night"} and len(stored) == 2
        moved = events.assign(start_s=events["start_s"] + 0.01)
        assert project.store_results(moved, kind="detected", source="night",
                                     command="detect", description="d") is not None  # fmt: skip
        other = project.store_results(events, kind="detected", source="day",
                                      command="detect", description="d")  # fmt: skip
        assert other is not None
        assert project.events(kinds=["detected"])["source"].value_counts().to_dict() == {
            "night": 2, "day": 2}  # fmt: skip
