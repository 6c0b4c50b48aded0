"""The fast paths of reading give exactly what the general paths give (issue 13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import FORMATS, read_events, write_events
from sonotype.annotations.formats import base
from sonotype.annotations.formats.base import AnnotationFormat, FormatOptions, register_format
from sonotype.errors import AnnotationError

from .test_writers_golden import awkward_events


def numbers(rng, n=20_000):
    """Floats of every magnitude at full precision, and some with few digits."""
    x = rng.random(n) * 10.0 ** rng.integers(-12, 8, n)
    return np.concatenate([x, np.round(rng.random(200) * 100, 3), [0.0, 1e-300, 5e-324]])


def test_floats_parsed_in_c_equal_floats_parsed_from_strings(rng, tmp_path, monkeypatch):
    start = numbers(rng)
    stop = start + numbers(rng)[: len(start)]
    path = tmp_path / "e.csv"
    table = pd.DataFrame({"onset_s": start, "offset_s": stop, "label": "a", "score": stop})
    table.loc[::7, "score"] = np.nan
    table.to_csv(path, index=False)
    fast = read_events(path)
    monkeypatch.setattr(base, "_read_floats", lambda text, columns: None)
    slow = read_events(path)
    pd.testing.assert_frame_equal(fast, slow)
    assert (fast["start_s"].to_numpy() == start).all()


@pytest.mark.parametrize(
    "cell", ["NA", "x", "1,5", "", "1e400", "  2.5", "nan"], ids=lambda c: repr(c)
)
def test_a_cell_that_is_not_plain_number_reads_or_fails_as_before(cell, tmp_path, monkeypatch):
    path = tmp_path / "e.csv"
    path.write_text(f'onset_s,offset_s,label\n0.5,1.0,a\n"{cell}",3.0,b\n', encoding="utf-8")

    def outcome():
        try:
            return read_events(path)
        except AnnotationError as error:
            return str(error)

    fast = outcome()
    monkeypatch.setattr(base, "_read_floats", lambda text, columns: None)
    slow = outcome()
    if isinstance(slow, str):
        assert fast == slow
    else:
        pd.testing.assert_frame_equal(fast, slow)


def test_blank_rows_are_dropped_in_both_paths(tmp_path, monkeypatch):
    path = tmp_path / "e.csv"
    path.write_text("onset_s,offset_s,label\n0.5,1.0,a\n,,\n\n2.0,3.0,b\n", encoding="utf-8")
    fast = read_events(path)
    monkeypatch.setattr(base, "_read_floats", lambda text, columns: None)
    pd.testing.assert_frame_equal(fast, read_events(path))
    assert fast["label"].tolist() == ["a", "b"]


@pytest.mark.parametrize("fmt", ["simple-csv", "raven"])
def test_awkward_tables_read_back_as_written(fmt, tmp_path):
    events = awkward_events()
    written = write_events(events, str(tmp_path) + "/", format=fmt)
    back = pd.concat([read_events(p, format=fmt) for p in written], ignore_index=True)
    for column in ("start_s", "stop_s", "low_hz", "high_hz"):
        got = np.sort(back[column].to_numpy())
        want = np.sort(events[column].to_numpy())
        np.testing.assert_array_equal(got, want)


def test_a_plugin_reader_that_does_not_validate_is_validated(tmp_path):
    @register_format
    class Careless(AnnotationFormat):
        name = "careless-test"
        description = "returns a table it did not check"
        suffixes = (".careless",)
        can_write = False  # only read in this test

        def read(self, path, options: FormatOptions):
            return pd.DataFrame(
                {"recording": ["r.wav"], "start_s": ["2.0"], "stop_s": [1.0], "label": ["a"]}
            ).assign(kind="annotated", channel=0, source="")

        def write(self, events, path, options):
            raise AssertionError("a read-only test format is never written")

    path = tmp_path / "x.careless"
    path.write_text("anything")
    try:
        with pytest.raises(AnnotationError, match="stop_s=1 is before start_s=2"):
            read_events(path)
    finally:
        FORMATS._entries.pop("careless-test", None)


HEADER = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)"
RAVEN_TABLES = {
    "plain": [HEADER + "\tAnnotation", "1\tSpectrogram 1\t1\t0.5\t1.25\t100\t200\tWOTH"],
    "quotes and NA": [
        HEADER + "\tAnnotation\tCall",
        '1\tSpectrogram 1\t2\t0.1\t0.2\t\t\t"a, b"\tNA',
        "2\tSpectrogram 1\t1\t0.30000000000000004\t0.4\t\t\t\tcafé",
    ],
    "missing trailing cells": [HEADER + "\tAnnotation", "1\tSpectrogram 1\t1\t0.5\t1.0\t1\t2"],
    "crlf": [HEADER + "\tAnnotation\r", "1\tSpectrogram 1\t1\t0.5\t1.0\t1\t2\tx\r"],
    "spaces around numbers": [
        HEADER + "\tAnnotation",
        " 1 \tSpectrogram 1\t 1\t 0.5 \t1.0\t 3\t4 \tx",
    ],
    "blank line": [
        HEADER + "\tAnnotation",
        "1\tSpectrogram 1\t1\t0.5\t1\t1\t2\ta",
        "   ",
        "2\tS\t1\t2\t3\t4\t5\tb",
    ],
    "two views": [
        HEADER + "\tAnnotation",
        "1\tWaveform 1\t1\t0.5\t1\t\t\ta",
        "1\tSpectrogram 1\t1\t0.5\t1\t100\t200\ta",
    ],
    "unordered": [HEADER + "\tAnnotation", "2\tS\t1\t2\t3\t4\t5\tb", "1\tS\t1\t0.5\t1\t1\t2\ta"],
    "half bounds": [HEADER + "\tAnnotation", "1\tS\t1\t0.5\t1\t\t2\ta", "2\tS\t1\t2\t3\t4\t5\tb"],
    "begin file": [
        HEADER + "\tBegin File\tAnnotation",
        "1\tS\t1\t0.5\t1\t1\t2\t x.wav \ta",
        "2\tS\t1\t2\t3\t4\t5\t\tb",
    ],
    "channel 0": [HEADER + "\tAnnotation", "1\tS\t0\t0.5\t1\t1\t2\ta"],
    "channel 1.5": [HEADER + "\tAnnotation", "1\tS\t1.5\t0.5\t1\t1\t2\ta"],
    "empty begin": [HEADER + "\tAnnotation", "1\tS\t1\t\t1\t1\t2\ta"],
    "selection 1.0": [HEADER + "\tAnnotation", "1.0\tS\t1\t0.5\t1\t1\t2\ta"],
    "too many fields": [HEADER + "\tAnnotation", "1\tS\t1\t0.5\t1\t1\t2\ta\tb"],
    "stop before start": [HEADER + "\tAnnotation", "1\tS\t1\t1.5\t1\t1\t2\ta"],
    "no channel": ["Selection\tBegin Time (s)\tEnd Time (s)\tAnnotation", "1\t0.5\t1\tx"],
}


@pytest.mark.parametrize("name", list(RAVEN_TABLES))
def test_raven_regular_reading_equals_the_general_one(name, tmp_path, monkeypatch):
    from sonotype.annotations.formats import raven

    path = tmp_path / "t.Table.1.selections.txt"
    path.write_bytes(("\n".join(RAVEN_TABLES[name]) + "\n").encode("utf-8"))

    def outcome():
        try:
            return read_events(path)
        except AnnotationError as error:
            return str(error)

    fast = outcome()
    monkeypatch.setattr(raven, "_read_regular", lambda text: None)
    slow = outcome()
    if isinstance(slow, str):
        assert fast == slow
    else:
        pd.testing.assert_frame_equal(fast, slow)


def test_raven_files_written_by_sonotype_are_read_the_regular_way(tmp_path):
    from sonotype.annotations.formats import raven

    written = write_events(awkward_events(), str(tmp_path) + "/", format="raven")
    for path in written:
        assert raven._read_regular(path.read_text(encoding="utf-8")) is not None
