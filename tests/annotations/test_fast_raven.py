"""Reading Raven tables through Arrow, and validate_events building its table from columns,
give exactly what the general paths give (issue 13)."""

from __future__ import annotations

import codecs
import re

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import read_events, validate_events
from sonotype.annotations.formats import raven
from sonotype.annotations.formats.base import FormatOptions, read_buffer, utf8_buffer
from sonotype.errors import AnnotationError

from .test_fast_paths import numbers

HEADER = (
    "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)"
    "\tDelta Time (s)\tBegin File\tAnnotation\tCall Type"
)


def both_ways(path, monkeypatch):
    """read_events of ``path`` (or its error) the regular way, then the general way."""

    def outcome():
        try:
            return read_events(path)
        except AnnotationError as error:
            return str(error)

    fast = outcome()
    with monkeypatch.context() as patch:
        patch.setattr(raven, "_read_regular", lambda data: None)
        slow = outcome()
    return fast, slow


def assert_same(fast, slow):
    if isinstance(slow, str) or isinstance(fast, str):
        assert fast == slow
    else:
        pd.testing.assert_frame_equal(fast, slow)


def test_full_precision_table_reads_the_same_both_ways(rng, tmp_path, monkeypatch):
    start = np.sort(numbers(rng, 3000))
    n = len(start)
    stop = start + rng.random(n)
    low = np.where(rng.random(n) < 0.1, np.nan, rng.random(n) * 1e4)
    labels = np.array(["a", "café", "syll 3", " padded ", "", "NA", '"q"'])[rng.integers(0, 7, n)]
    files = np.array(["", "x.wav", "sub/y.flac"])[rng.integers(0, 3, n)]
    lines = [HEADER]
    times = np.column_stack([start, stop]).tolist()  # (Python floats: their repr is the number)
    for i in range(n):
        bounds = "\t".join("" if np.isnan(v) else repr(float(v)) for v in (low[i], low[i] + 10))
        lines.append(
            f"{i + 1}\tSpectrogram 1\t{1 + i % 3}\t{times[i][0]!r}\t{times[i][1]!r}\t{bounds}"
            f"\t{stop[i] - start[i]}\t{files[i]}\t{labels[i]}\tt{i % 5}"
        )
    path = tmp_path / "rec.Table.1.selections.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert raven._read_regular(path.read_bytes()) is not None
    fast, slow = both_ways(path, monkeypatch)
    assert_same(fast, slow)
    assert (fast["start_s"].to_numpy() == start).all()
    assert fast["label"].tolist() == labels.tolist()
    assert fast["label:Call Type"].tolist()[:2] == ["t0", "t1"]


CELLS = ["+1", ".5", "5.", "1e3", "1E-3", "-0", "inf", "Infinity", "nan", "NaN", "1e400"]
CELLS += ["1e-400", "1_0", "0x10", "1,5", " 2.5", "2.5 ", "\u0661", "", " ", "NA", "1d3"]


@pytest.mark.parametrize("column", [0, 2, 3, 4, 5])
@pytest.mark.parametrize("cell", CELLS, ids=repr)
def test_an_odd_number_reads_or_fails_the_same_both_ways(column, cell, tmp_path, monkeypatch):
    row = ["2", "Spectrogram 1", "1", "2.0", "3.0", "100", "200", "1", "", "b", ""]
    row[column] = cell
    first = "1\tSpectrogram 1\t1\t0.5\t1.0\t100\t200\t0.5\t\ta\t"
    path = tmp_path / "t.Table.1.selections.txt"
    path.write_text(f"{HEADER}\n{first}\n" + "\t".join(row) + "\n", encoding="utf-8")
    assert_same(*both_ways(path, monkeypatch))


@pytest.mark.parametrize(
    "body",
    [
        "1\tS\t1\t0.5\t1\t1\t2\t0\t\tx\0y\t",  # a NUL in a label
        "1\tS\t1\t0.5\t1\t1\t2\t0\t\ta\t\n\n2\tS\t1\t2\t3\t4\t5\t0\t\tb\t",  # blank line
        "1\tS\t1\t0.5\t1\t1\t2\t0\t\ta\t\n\t\t\t\t\t\t\t\t\t\t",  # a line of empty cells
        "1\tS\t1\t0.5\t1\t1\t2\t0\t\ta",  # trailing cells left out
        "1\tS\t1\t0.5\t1\t1\t2\t0\t\ta\t\t",  # one field too many
        "1\tS\t1\t0.5\t1\t1\t2\t0\t\ta\t\r\n2\tS\t1\t2\t3\t4\t5\t0\t\tb\t\r",  # CRLF
        "1\tS\t1\t0.5\t1\t1\t2\t0\t\ta\t\r2\tS\t1\t2\t3\t4\t5\t0\t\tb\t",  # a lone CR
        "1\tS\t1\t0.5\t1\t1\t2\t0\t\ta\rb\t\n2\tS\t1\t2\t3\t4\t5\t0\t\tb\t",  # CR in a label
        "1\tS\t1\t0.5\t1\t1\t2\t0\t\ta\t\r\n\r\n",  # CRLF and a blank last line
    ],
)
def test_irregular_lines_read_or_fail_the_same_both_ways(body, tmp_path, monkeypatch):
    path = tmp_path / "t.Table.1.selections.txt"
    path.write_text(f"{HEADER}\n{body}\n", encoding="utf-8", newline="")
    assert_same(*both_ways(path, monkeypatch))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_other_encodings_read_as_before(encoding, tmp_path, monkeypatch):
    path = tmp_path / "t.Table.1.selections.txt"
    text = f"{HEADER}\n1\tS\t1\t0.5\t1\t1\t2\t0\t\tcafé\t\n"
    path.write_bytes(text.encode(encoding))
    fast, slow = both_ways(path, monkeypatch)
    assert_same(fast, slow)
    if encoding == "cp1252":
        assert "is not UTF-8" in fast
    else:
        assert fast["label"].tolist() == ["café"]


def test_utf8_buffer(tmp_path):
    def utf8(data, options=None):
        buffer = utf8_buffer(data, options)
        return None if buffer is None else buffer.to_pybytes()

    assert utf8(b"abc") == b"abc"
    assert utf8(b"") == b""
    assert utf8(codecs.BOM_UTF8 + "é".encode()) == "é".encode()
    assert utf8("é".encode("utf-16")) is None
    assert utf8("é".encode("cp1252")) is None
    assert utf8(b"abc", FormatOptions(encoding="latin-1")) is None
    path = tmp_path / "t.txt"
    path.write_bytes(b"x\ty\n")
    assert read_buffer(path).to_pybytes() == b"x\ty\n"
    with pytest.raises(AnnotationError, match="cannot be read"):
        read_buffer(tmp_path / "missing.txt")


def events_frame(n=5):
    return pd.DataFrame(
        {
            "recording": ["a.wav"] * n,
            "start_s": np.arange(n, dtype=float),
            "stop_s": np.arange(n) + 0.5,
            "label": list("abcde")[:n],
            "kind": "annotated",
            "channel": 0,
            "source": "",
            "low_hz": 100.0,
            "high_hz": np.full(n, 200.0),
        }
    )


def test_validated_events_share_no_memory_with_their_input():
    given = events_frame()
    start = np.arange(5, dtype=float)
    columns = {**{k: v for k, v in given.items()}, "start_s": start, "recording": "a.wav"}
    for events in (validate_events(given), validate_events(columns)):
        before = given.copy()
        events.loc[0, ["start_s", "high_hz", "label", "recording"]] = [0.25, 9.0, "z", "b.wav"]
        events["channel"] = events["channel"] + 1
        pd.testing.assert_frame_equal(given, before)
        assert start[0] == 0.0
        times = events[["start_s", "stop_s"]].to_numpy()
        times[0, 0] = 7.0  # a copy, written freely
        assert events.loc[0, "start_s"] == 0.25


def test_tables_share_no_column_index():
    first, second = validate_events(events_frame()), validate_events(events_frame())
    first.columns.name = "named"
    assert second.columns.name is None


def test_columns_and_scalars_validate_as_a_dataframe_does():
    frame = events_frame()
    columns = {
        "recording": "a.wav",
        "start_s": frame["start_s"].to_numpy(),
        "stop_s": list(frame["stop_s"]),
        "label": frame["label"],
        "low_hz": 100.0,
        "high_hz": frame["high_hz"].to_numpy(),
    }
    got = validate_events(columns, fill_defaults=True)
    pd.testing.assert_frame_equal(got, validate_events(frame))
    assert [str(t) for t in got.dtypes] == [str(t) for t in validate_events(frame).dtypes]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"recording": ""}, "row 1: recording is empty (4 more rows have this problem)"),
        ({"kind": ""}, "row 1: kind is empty"),
        ({"label": "x" * 10_001}, "row 1: label is 10,001 characters long"),
        ({"channel": -1}, "row 1: channel=-1 must be a whole number >= 0"),
        ({"stop_s": 0.25}, "row 2: stop_s=0.25 is before start_s=1"),
        ({"label": None}, "row 1: label is missing"),
    ],
)
def test_a_bad_scalar_is_named_as_a_bad_column_is(change, message):
    columns = {**dict(events_frame().items()), **change}
    with pytest.raises(AnnotationError, match=re.escape(message)):
        validate_events(columns)
    with pytest.raises(AnnotationError, match=re.escape(message)):
        validate_events(events_frame().assign(**change))


def test_columns_of_different_lengths_are_a_programming_error():
    with pytest.raises(ValueError, match="different lengths"):
        validate_events({"start_s": [1.0], "stop_s": [1.0, 2.0]})
    with pytest.raises(ValueError, match="no column is an array"):
        validate_events({"start_s": 1.0})


SHORT = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tAnnotation"


@pytest.mark.parametrize(
    "text",
    [
        SHORT + "\t\n1\tS\t1\t0.5\t1\ta\tx\n",  # an unnamed column
        SHORT + "\t\t\n1\tS\t1\t0.5\t1\ta\tx\t\n",  # two of them
        " Selection \tBegin Time (s)\tEnd Time (s) \t Annotation \n1\t0.5\t1\t a \n",
        SHORT + "\n",  # no selection
        SHORT,
        SHORT + "\n1\tS\t1\t0.5\t1\ta",  # no line end after the last line
        SHORT + "\ninf\tS\t1\t0.5\t1\ta\n",
        SHORT + "\n1\tS\tinf\t0.5\t1\ta\n",
        SHORT + "\n2\tS\t1\t0.5\t1\ta\n1\tS\t1\t0.5\t1\tb\n",  # out of order
        SHORT + "\r\n1\tS\t1\t0.5\t1\ta\r\n",
        SHORT + "\r1\tS\t1\t0.5\t1\ta\r",
        SHORT + "\r1\tS\t1\t0.5\t1\ta\n",
        SHORT + "\r\n",
        "Selection\tBegin Time (s)\rx\tEnd Time (s)\tAnnotation\n1\t0.5\t1\ta\n",
        "Selection\tBegin Time (s)\tEnd Time (s)\r1\t0.5\t1\n2\t0.5\t1\n",
    ],
)
def test_odd_tables_read_or_fail_the_same_both_ways(text, tmp_path, monkeypatch):
    path = tmp_path / "t.Table.1.selections.txt"
    path.write_text(text, encoding="utf-8", newline="")
    assert_same(*both_ways(path, monkeypatch))


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "is empty"),
        (b" \n\t\r\n", "is empty"),
        ("\x1c\u3000\n".encode(), "is empty"),  # white space to str.isspace, beyond bytes'
        (b"onset_s,offset_s,label\n0.5,1,a\n1,2,b\x00\n", "line 3: a NUL character"),
        ("\u3000x\n".encode(), "no onset_s column"),
    ],
)
def test_csv_read_as_bytes_fails_as_text_did(data, message, tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(data)
    with pytest.raises(AnnotationError, match=message):
        read_events(path, format="simple-csv")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_csv_in_any_encoding_reads_as_text_did(encoding, tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes("onset_s,offset_s,label\n0.5,1,café\n".encode(encoding))
    options = {"encoding": "cp1252"} if encoding == "cp1252" else {}
    events = read_events(path, **options)
    assert events["label"].tolist() == ["café"]
    assert events["start_s"].tolist() == [0.5]


def test_kind_source_and_relative_names_set_after_reading(tmp_path):
    from sonotype.annotations.events import is_canonical

    folder = tmp_path / "birds"
    folder.mkdir()
    path = folder / "t.Table.1.selections.txt"
    path.write_text(f"{SHORT}\tBegin File\n1\tS\t1\t0.5\t1\ta\tx.wav\n2\tS\t1\t2\t3\tb\ty.wav\n")
    events = read_events(path, kind="checked", source="me", relative_to=tmp_path)
    assert is_canonical(events)
    assert events["recording"].tolist() == ["birds/x.wav", "birds/y.wav"]
    assert events["kind"].tolist() == ["checked"] * 2
    assert events["source"].tolist() == ["me"] * 2
    same = read_events(path, relative_to=folder)
    assert same["recording"].tolist() == ["x.wav", "y.wav"] and is_canonical(same)
    with pytest.raises(AnnotationError, match=re.escape("row 1: kind is empty; use e.g.")):
        read_events(path, kind="")
    header_only = folder / "h.Table.1.selections.txt"
    header_only.write_text(SHORT + "\n")
    assert len(read_events(header_only, kind="")) == 0
