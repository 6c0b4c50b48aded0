"""A large simple CSV is read a part at a time (read_event_parts): the parts join into the
table read_events reads, and errors in a later part name the file's row as read_events does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import make_events, read_event_parts, read_events, write_events
from sonotype.annotations.formats import base
from sonotype.errors import AnnotationError


@pytest.fixture
def small_parts(monkeypatch):
    """Files of any size are read in parts of 25 rows."""
    monkeypatch.setattr(base, "STREAM_BYTES", 0)
    monkeypatch.setattr(base, "PART_ROWS", 25)
    from sonotype.annotations.formats import simple_csv

    monkeypatch.setattr(simple_csv, "STREAM_BYTES", 0)


def _csv(tmp_path, n=100):
    start = np.arange(n) * 0.01
    events = make_events(np.where(np.arange(n) < 60, "a.wav", "b.wav"), start, start + 0.005, "x")
    events["score"] = np.where(np.arange(n) % 3, 0.5, np.nan)
    events["label:call"] = np.where(np.arange(n) % 2, "up", "")
    (path,) = write_events(events, tmp_path / "events.csv")
    return path


def test_parts_join_into_the_table_read_whole(tmp_path, small_parts):
    path = _csv(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    # Blank lines in a later part are dropped without renumbering, as in the whole reading.
    path.write_text("".join([*lines[:40], "\n", ",,,,,,,,\n", *lines[40:]]))
    parts = list(read_event_parts(path, kind="detected"))
    assert [len(p) for p in parts] == [25, 23, 25, 25, 2]
    whole = read_events(path, kind="detected")
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)


def test_a_small_file_is_one_part(tmp_path):
    path = _csv(tmp_path)
    (part,) = read_event_parts(path)
    pd.testing.assert_frame_equal(part, read_events(path))


@pytest.mark.parametrize(
    ("row", "cell", "problem"),
    [
        (57, "0.5x", r"row 57"),  # not a number: read again as text, validation names it
        (77, "-1", r"row 77"),  # a number that validation refuses, in its part
    ],
)
def test_errors_in_a_later_part_name_the_files_row(tmp_path, small_parts, row, cell, problem):
    path = _csv(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[row - 1].split(",")
    fields[1] = cell  # onset_s
    lines[row - 1] = ",".join(fields)
    path.write_text("".join(lines))
    with pytest.raises(AnnotationError) as whole:
        read_events(path)
    with pytest.raises(AnnotationError, match=problem) as parts:
        list(read_event_parts(path))
    assert str(parts.value) == str(whole.value)


def test_bytes_that_are_not_utf8_in_a_later_part_are_named_as_whole(tmp_path, small_parts):
    path = _csv(tmp_path)
    data = path.read_bytes()
    at = data.index(b"b.wav")
    path.write_bytes(data[:at] + b"\xff" + data[at + 1 :])
    with pytest.raises(AnnotationError) as whole:
        read_events(path)
    with pytest.raises(AnnotationError) as parts:
        list(read_event_parts(path))
    assert str(parts.value) == str(whole.value)
