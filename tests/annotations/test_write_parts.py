"""Writing Events tables that arrive one at a time into one file (write_event_parts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import make_events, write_event_parts, write_events
from sonotype.errors import AnnotationError


def _events(n=90):
    start = np.arange(n) * 0.01
    events = make_events(np.repeat(["a.wav", "b.wav", "c.wav"], n // 3), start, start + 0.005, "x")
    events["score"] = np.linspace(0, 1, n)
    events["label:call"] = np.where(np.arange(n) % 2, "up", "")
    return events


def _parts(events, size):
    # A generator: the writer sees one table at a time.
    return (events.iloc[i : i + size].reset_index(drop=True) for i in range(0, len(events), size))


@pytest.mark.parametrize(("fmt", "name"), [("simple-csv", "all.csv"), ("songexplorer", "se.csv")])
def test_parts_make_the_file_that_the_whole_table_makes(tmp_path, fmt, name):
    events = _events()
    (whole,) = write_events(events, tmp_path / "whole" / name, format=fmt, sr=1000)
    written = write_event_parts(_parts(events, 25), tmp_path / name, format=fmt, sr=1000)
    assert written.read_bytes() == whole.read_bytes()


def test_a_format_that_cannot_append_joins_the_parts(tmp_path):
    events = _events().query("recording == 'a.wav'")
    (whole,) = write_events(events, tmp_path / "whole.txt", format="raven")
    written = write_event_parts(_parts(events, 7), tmp_path / "parts.txt", format="raven")
    assert written.read_bytes() == whole.read_bytes()


def test_errors_name_the_row_of_the_whole_and_leave_no_file(tmp_path):
    events = _events()
    events.loc[61, "label"] = ""
    with pytest.raises(AnnotationError, match="row 62: label is empty"):
        write_event_parts(_parts(events, 25), tmp_path / "se.csv", format="songexplorer", sr=1000)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    target = tmp_path / "all.csv"
    target.write_text("keep")
    with pytest.raises(AnnotationError, match="already exists; pass overwrite=True"):
        write_event_parts(_parts(_events(), 30), target, format="simple-csv")
    assert target.read_text() == "keep"
    write_event_parts(_parts(_events(), 30), target, format="simple-csv", overwrite=True)
    assert len(pd.read_csv(target)) == 90


def test_parts_with_different_columns_are_refused_not_misaligned(tmp_path):
    events = _events()
    parts = [events.iloc[:30], events.iloc[30:].drop(columns="score")]
    with pytest.raises(ValueError, match="parts differ in columns"):
        write_event_parts(parts, tmp_path / "all.csv", format="simple-csv")
    assert list(tmp_path.iterdir()) == []
