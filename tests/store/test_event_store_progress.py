"""Import and export report progress as they read, store and write events (issue 13)."""

from __future__ import annotations

import numpy as np

from sonotype.annotations import make_events, write_events
from sonotype.audio import write_audio
from sonotype.store import Project, event_store


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
    with Project.open(tmp_path / "proj") as project:
        report = lambda *a: seen.append(a)  # noqa: E731
        project.export(tmp_path / "all.csv", format="simple-csv", progress=report)
    assert [a for a in seen if a[0] == "reading"] == [
        ("reading", 40, None),
        ("reading", 80, None),
        ("reading", 100, None),
    ]
    assert [a for a in seen if a[0] == "writing"] == [("writing", 1, None)]


def test_export_to_folders_reads_a_group_of_recordings_at_a_time(tmp_path, monkeypatch):
    """Bounded memory: no query reads more than a group, and the files are those that
    writing every event at once gives (byte for byte)."""
    from sonotype.store import project as project_module

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
