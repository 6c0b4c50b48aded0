"""Import reads a large simple CSV a part at a time: all of it is stored as one edit, or
nothing is, and errors number the events from the file's first."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.annotations import make_events, write_events
from sonotype.annotations.formats import base, simple_csv
from sonotype.audio import write_audio
from sonotype.errors import AnnotationError
from sonotype.store import Project, event_store


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "PART_ROWS", 25)
    monkeypatch.setattr(simple_csv, "STREAM_BYTES", 0)
    for name in ("a.wav", "b.wav"):
        write_audio(tmp_path / "proj" / "audio" / name, np.zeros(8000), 8000)  # 1 s each
    with Project.init(tmp_path / "proj") as project:
        project.scan()
        yield project


def _csv(tmp_path, stop_of_event_80=None):
    start = np.arange(100) * 0.009
    events = make_events(np.where(np.arange(100) < 50, "a.wav", "b.wav"), start, start + 0.005, "x")
    if stop_of_event_80 is not None:
        events.loc[79, "stop_s"] = stop_of_event_80
    (path,) = write_events(events, tmp_path / "events.csv")
    return path


def test_a_large_csv_is_stored_in_parts_as_one_edit(tmp_path, project, monkeypatch):
    stored = []
    add = event_store.add_event_tables

    def counting(db, tables, **kwargs):
        return add(db, (stored.append(len(t)) or t for t in tables), **kwargs)

    monkeypatch.setattr(event_store, "add_event_tables", counting)
    report = project.import_files([_csv(tmp_path)])
    assert stored == [25, 25, 25, 25]
    assert report.total == 100 and report.counts == {str(tmp_path / "events.csv"): 100}
    assert len(project.events()) == 100
    project.undo()
    assert project.events().empty


def test_an_error_in_a_later_part_names_the_files_event_and_stores_nothing(tmp_path, project):
    with pytest.raises(AnnotationError, match=r"event 80 \(.*\) ends after its recording"):
        project.import_files([_csv(tmp_path, stop_of_event_80=1.5)])
    assert project.events().empty
    assert project.edit_log() == []
