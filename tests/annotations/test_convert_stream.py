"""``sonotype convert`` of a folder into one file per recording streams input file by input
file (issue 13): the files are those of converting the joined table, all or none appear, and
a recording annotated in two input files gets one file with the rows of both."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sonotype.annotations import (
    concat_events,
    make_events,
    read_events,
    write_event_stream,
    write_events,
)
from sonotype.cli.main import app
from sonotype.errors import AnnotationError

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def tables():
    return [
        make_events("a.wav", [0.1, 0.5], [0.3, 0.6], ["x", "y"]),
        make_events(["b.wav", "c.wav"], [0.2, 0.4], [0.25, 0.9], ["y", "z"]),
        make_events("a.wav", [0.05], [0.08], "z"),  # a.wav again
    ]


@pytest.mark.parametrize("fmt", ["raven", "audacity", "simple-csv"])
def test_streamed_files_equal_those_of_the_joined_table(tmp_path, fmt):
    inputs = tmp_path / "in"
    for i, table in enumerate(tables()):
        write_events(table, inputs / f"t{i}.csv")
    result = invoke("convert", inputs, "--to", fmt, "-o", f"{tmp_path / 'streamed'}/")
    assert result.exit_code == 0, result.output
    assert "converted 5 events from 3 files" in " ".join(result.output.split())
    joined = write_events(concat_events(tables()), f"{tmp_path / 'joined'}/", format=fmt)
    streamed = sorted((tmp_path / "streamed").iterdir())
    assert [p.name for p in streamed] == sorted(p.name for p in joined)
    for path in streamed:
        ours = read_events(path, format=fmt).sort_values("start_s", ignore_index=True)
        theirs = read_events(tmp_path / "joined" / path.name, format=fmt)
        theirs = theirs.sort_values("start_s", ignore_index=True)
        assert ours[["start_s", "stop_s", "label"]].equals(theirs[["start_s", "stop_s", "label"]])


def test_reads_each_table_once_unless_a_recording_repeats(tmp_path):
    reads = []

    def reader(i):
        def read():
            reads.append(i)
            return tables()[i]

        return read

    written, n = write_event_stream(
        [reader(0), reader(1)], tmp_path / "out", format="raven", on_table=lambda d: None
    )
    assert (n, reads) == (4, [0, 1])
    assert len(written) == 3
    reads.clear()
    write_event_stream([reader(0), reader(1), reader(2)], tmp_path / "again", format="raven")
    assert reads == [0, 1, 2, 0]  # a.wav's earlier rows were read again


def test_nothing_appears_when_a_later_table_fails(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "c.Table.1.selections.txt").write_text("mine")

    def boom():
        raise AnnotationError("t3.csv", "row 2: broken")

    with pytest.raises(AnnotationError, match=r"c\.Table\.1\.selections\.txt: already exists"):
        write_event_stream([lambda: tables()[0], lambda: tables()[1]], tmp_path / "out",
                           format="raven")  # fmt: skip
    with pytest.raises(AnnotationError, match="broken"):
        write_event_stream([lambda: tables()[0], boom], tmp_path / "out", format="raven")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["c.Table.1.selections.txt"]
    assert (tmp_path / "out" / "c.Table.1.selections.txt").read_text() == "mine"


def _varied_tables():
    """Tables whose optional and extra label columns differ: one file's columns are known
    only once it is read."""
    first, second, third = tables()
    first = first.assign(score=[0.5, 0.25])
    second = second.assign(**{"label:call": ["up", "down"]})
    third = third.assign(low_hz=[100.0], high_hz=[900.0], **{"label:note": ["n"]})
    return [first, second, third]


@pytest.mark.parametrize(("fmt", "name"), [("simple-csv", "all.csv"), ("songexplorer", "se.csv")])
def test_convert_into_one_file_streams_and_equals_the_joined_table(tmp_path, fmt, name):
    inputs = tmp_path / "in"
    for i, table in enumerate(_varied_tables()):
        write_events(table, inputs / f"t{i}.csv")
    out = tmp_path / "out" / name
    out.parent.mkdir()
    result = invoke("convert", inputs, "--to", fmt, "-o", out, "--sample-rate", 1000)
    assert result.exit_code == 0, result.output
    assert "converted 5 events from 3 files" in " ".join(result.output.split())
    joined = [read_events(inputs / f"t{i}.csv", relative_to=inputs) for i in range(3)]
    (expected,) = write_events(concat_events(joined), tmp_path / name, format=fmt, sr=1000)
    assert out.read_bytes() == expected.read_bytes()
    assert list(out.parent.iterdir()) == [out]  # the parts set aside are gone


def test_tables_read_one_at_a_time_are_set_aside_and_an_error_leaves_nothing(tmp_path):
    from sonotype.annotations import write_joined_events

    held = []

    def reader(i):
        def read():
            held.append(sorted(p.name for p in tmp_path.rglob("*.arrow")))
            if i == 2:
                raise AnnotationError("t2.csv", "row 3: damaged")
            return _varied_tables()[i]

        return read

    with pytest.raises(AnnotationError, match="damaged"):
        write_joined_events(
            [reader(i) for i in range(3)], tmp_path / "all.csv", format="simple-csv"
        )
    assert held == [[], ["0.arrow"], ["0.arrow", "1.arrow"]]  # each table went to disk as read
    assert list(tmp_path.iterdir()) == []
    path, n = write_joined_events(
        [reader(i) for i in range(2)], tmp_path / "all.csv", format="simple-csv"
    )
    assert n == 4 and list(tmp_path.iterdir()) == [path]
