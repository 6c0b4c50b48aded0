"""Import and export report progress as they read, store and write events (issue 13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import REQUIRED_COLUMNS, make_events, write_events
from sonotype.audio import write_audio
from sonotype.errors import SonotypeError
from sonotype.store import Project, event_store
from sonotype.store import project as project_module


def test_import_and_export_report_each_stage(tmp_path, monkeypatch):
    monkeypatch.setattr(event_store, "_FETCH_CHUNK", 40)
    monkeypatch.setattr(event_store, "_INSERT_BATCH", 40)
    audio = tmp_path / "proj" / "audio"
    for name in ("one", "two"):
        write_audio(audio / f"{name}.wav", np.zeros(8000), 8000)
    start = np.arange(100) * 0.009
    events = make_events(np.repeat(["one.wav", "two.wav"], 50), start, start + 0.005, "a")
    (first,) = write_events(events.iloc[:60], tmp_path / "first.csv")
    (second,) = write_events(events.iloc[60:], tmp_path / "second.csv")
    seen = []
    with Project.init(tmp_path / "proj") as project:
        project.scan()
        report = project.import_files([first, second], progress=lambda *a: seen.append(a))
        assert report.total == 100
        # Events stored so far (all files), every batch, with the file being stored.
        assert seen == [
            ("importing file 1 of 2, events stored", 40, None),
            ("importing file 1 of 2, events stored", 60, None),
            ("importing file 2 of 2, events stored", 100, None),
        ]
        seen.clear()
        written = project.export(
            tmp_path / "out/", format="raven", progress=lambda *a: seen.append(a)
        )
    assert len(written) == 2
    # One file per recording: a group of recordings at a time (both fit in one group).
    assert seen == [("writing", 2, 2)]
    seen.clear()
    monkeypatch.setattr(project_module, "_EXPORT_GROUP", 40)
    with Project.open(tmp_path / "proj") as project:
        report = lambda *a: seen.append(a)  # noqa: E731
        project.export(tmp_path / "all.csv", format="simple-csv", progress=report)
    # One file: events written so far, a part at a time.
    assert seen == [("writing", 40, 100), ("writing", 80, 100), ("writing", 100, 100)]


def test_export_to_folders_reads_a_group_of_recordings_at_a_time(tmp_path, monkeypatch):
    """Bounded memory: no query reads more than a group, and the files are those that
    writing every event at once gives (byte for byte)."""
    audio = tmp_path / "proj" / "audio"
    names = [f"r{i}.wav" for i in range(5)]
    for name in names:
        write_audio(audio / name, np.zeros(8000), 8000)
    start = np.arange(100) * 0.009
    events = make_events(np.repeat(names, 20), start % 0.9, start % 0.9 + 0.005, "a")
    (table,) = write_events(events, tmp_path / "events.csv")
    with Project.init(tmp_path / "proj") as project:
        project.scan()
        project.import_files([table])
        whole = write_events(project.events(), tmp_path / "whole/", format="raven")
        monkeypatch.setattr(project_module, "_EXPORT_GROUP", 30)
        sizes = []
        query = event_store.query_events
        monkeypatch.setattr(
            event_store,
            "query_events",
            lambda *a, **k: sizes.append(len(out := query(*a, **k))) or out,
        )
        written = project.export(tmp_path / "grouped/", format="raven")
    assert max(sizes) <= 30 and sum(sizes) == 100
    assert sorted(p.name for p in written) == sorted(p.name for p in whole)
    for path in whole:
        assert (tmp_path / "grouped" / path.name).read_bytes() == path.read_bytes()


def _project_with_varied_columns(tmp_path):
    """A project whose 90 events have a score and an extra label only in some of them, so
    that a part of 30 may lack columns the whole selection has."""
    audio = tmp_path / "proj" / "audio"
    names = [f"r{i}.wav" for i in range(3)]
    for name in names:
        write_audio(audio / name, np.zeros(8000), 8000)
    start = (np.arange(90) * 0.009) % 0.9
    labels = np.where(np.arange(90) // 30 == 1, "b", "a")  # "b": the events of r1.wav
    events = make_events(np.repeat(names, 30), start, start + 0.005, labels)
    events["score"] = np.where(np.arange(90) >= 75, 0.25, np.nan)
    events["label:call"] = np.where(np.arange(90) < 10, "x", "")
    (table,) = write_events(events, tmp_path / "events.csv")
    project = Project.init(tmp_path / "proj")
    project.scan()
    project.import_files([table])
    return project


def test_export_to_one_file_streams_parts_with_the_columns_of_the_whole(tmp_path, monkeypatch):
    """Bounded memory for one file: no part holds more than the group, every part has the
    columns of the whole selection, and the file is byte for byte what writing every event
    at once gives."""
    with _project_with_varied_columns(tmp_path) as project:
        whole = project.events()
        assert {"score", "label:call"} <= set(whole.columns)
        monkeypatch.setattr(project_module, "_EXPORT_GROUP", 30)
        sizes = []
        iterate = event_store.iter_events
        monkeypatch.setattr(
            event_store,
            "iter_events",
            lambda *a, **k: (sizes.append(len(p)) or p for p in iterate(*a, **k)),
        )
        for fmt, name in (("simple-csv", "all.csv"), ("songexplorer", "all-se.csv")):
            (expected,) = write_events(whole, tmp_path / "whole" / name, format=fmt, sr=8000)
            (written,) = project.export(tmp_path / name, format=fmt)
            assert written.read_bytes() == expected.read_bytes(), fmt
        assert sizes == [30, 30, 30] * 2
        # A format that cannot append joins the parts: one recording in one Raven table.
        (raven,) = project.export(tmp_path / "r1.txt", format="raven", labels=["b"])
    (expected,) = write_events(whole[whole["label"] == "b"], tmp_path / "e.txt", format="raven")
    assert raven.read_bytes() == expected.read_bytes()


def test_events_that_gain_a_column_while_streamed_are_an_error_not_lost(tmp_path):
    with _project_with_varied_columns(tmp_path) as project:
        columns = event_store.event_columns(project.db)
        assert columns == ["score", "label:call"]
        parts = event_store.iter_events(project.db, columns=["label:call"], chunk_rows=30)
        assert "score" not in next(parts) and "score" not in next(parts)
        with pytest.raises(SonotypeError, match="gained values in score while being read"):
            next(parts)


def test_streamed_parts_join_into_the_queried_table(tmp_path, monkeypatch):
    monkeypatch.setattr(event_store, "_FETCH_CHUNK", 20)  # parts of 30 from fetches of 20
    with _project_with_varied_columns(tmp_path) as project:
        columns = event_store.event_columns(project.db)
        parts = list(event_store.iter_events(project.db, columns=columns, chunk_rows=30))
        assert [len(p) for p in parts] == [30, 30, 30]
        joined = pd.concat(parts, ignore_index=True)
        pd.testing.assert_frame_equal(joined, event_store.query_events(project.db))
        for label in ("a", "b"):  # "b" selects r1.wav's events, which have no score
            table = event_store.query_events(project.db, labels=[label])
            listed = event_store.event_columns(project.db, labels=[label])
            assert listed == [c for c in table.columns if c not in REQUIRED_COLUMNS]
        assert "score" not in listed
