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
    assert [a for a in seen if a[0] == "reading"] == [
        ("reading", 40, None),
        ("reading", 80, None),
        ("reading", 100, None),
    ]
    assert [a for a in seen if a[0] == "writing"] == [("writing", 1, None), ("writing", 2, None)]
