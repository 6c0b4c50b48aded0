"""Fuzzing every reader: random bytes and near-valid files raise only SonotypeError subclasses."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sonotype.annotations import FORMATS, make_events, read_events, write_events
from sonotype.errors import SonotypeError

READERS = FORMATS.names()
#: A name each format's reader accepts (and that tells the format when none is given).
NAMES = {
    "audacity": "song.txt",
    "bacpipe": "annotations.csv",
    "das": "song_annotations.csv",
    "dcase": "song.csv",
    "notmat": "song.wav.not.mat",
    "raven": "song.Table.1.selections.txt",
    "simple-csv": "song.csv",
    "songexplorer": "song.wav-annotated-me.csv",
    "textgrid": "song.TextGrid",
}
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _valid_file(fmt: str) -> bytes:
    """A valid file of ``fmt`` with a few events, as bytes."""
    events = make_events(
        "song.wav",
        [0.1, 0.5, 0.9, 1.2],
        [0.3, 0.8, 0.9, 1.7],
        ["a", "b", "c", "a"],
        extra_labels={"dcase": ["POS", "UNK", "POS", "POS"]} if fmt == "dcase" else None,
    )
    with tempfile.TemporaryDirectory() as folder:
        (path,) = write_events(events, Path(folder) / NAMES[fmt], format=fmt, sr=1000)
        return path.read_bytes()


VALID = {fmt: _valid_file(fmt) for fmt in READERS}


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` with a few bytes deleted, inserted, replaced or repeated, or cut short."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["delete", "insert", "replace", "repeat", "cut"]))
        size = draw(st.integers(1, 16))
        if action == "delete":
            del data[at : at + size]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=size))
        elif action == "replace":
            data[at : at + size] = draw(
                st.sampled_from(
                    [b"\t", b",", b"\n", b'"', b"-1", b"nan", b"1e309", b"\xff", b"\x00"]
                )
            )
        elif action == "repeat":
            data[at:at] = data[max(0, at - size) : at] * draw(st.integers(1, 3))
        else:
            data = data[:at]
    return bytes(data)


def _read_only_raises_sonotype_errors(folder: Path, name: str, data: bytes, fmt: str | None):
    path = folder / name
    path.write_bytes(data)
    with contextlib.suppress(SonotypeError):
        read_events(path, format=fmt, sr=1000)


@pytest.mark.parametrize("fmt", READERS)
@SETTINGS
@given(data=st.binary(max_size=600))
def test_random_bytes(tmp_path, fmt, data):
    _read_only_raises_sonotype_errors(tmp_path, NAMES[fmt], data, fmt)


@pytest.mark.parametrize("fmt", READERS)
@SETTINGS
@given(data=st.data())
def test_near_valid_files(tmp_path, fmt, data):
    mutation = data.draw(mutated(VALID[fmt]))
    _read_only_raises_sonotype_errors(tmp_path, NAMES[fmt], mutation, fmt)


@pytest.mark.parametrize("fmt", READERS)
@SETTINGS
@given(data=st.data())
def test_near_valid_files_with_the_format_inferred(tmp_path, fmt, data):
    mutation = data.draw(mutated(VALID[fmt]))
    _read_only_raises_sonotype_errors(tmp_path, NAMES[fmt], mutation, None)


def test_the_valid_seeds_are_valid(tmp_path):
    for fmt in READERS:
        path = tmp_path / NAMES[fmt]
        path.write_bytes(VALID[fmt])
        assert len(read_events(path, format=fmt, sr=1000)) == 4, fmt


# Inputs the fuzzing found, each of which raised a non-SonotypeError (or crashed) before.
FOUND = [
    ("songexplorer", b"\n\x00"),  # pandas EmptyDataError
    # The channel was cast to -9.2e18, and the error named row 1 and that value.
    ("simple-csv", b"onset_s,offset_s,label,channel\n0,1,a,1e300\n"),
    ("textgrid", VALID["textgrid"].replace(b"intervals: size = ", b"intervals: size 1e309 ")),
]


@pytest.mark.parametrize(("fmt", "data"), FOUND)
def test_inputs_the_fuzzing_found(tmp_path, fmt, data):
    path = tmp_path / NAMES[fmt]
    path.write_bytes(data)
    with pytest.raises(SonotypeError) as error:
        read_events(path, format=fmt, sr=1000)
    assert str(error.value).startswith(str(path))
    if fmt == "simple-csv":
        assert "row 2: channel=1e+300" in str(error.value)


def test_a_blank_row_is_an_empty_songexplorer_file(tmp_path):
    # It raised IndexError before.
    path = tmp_path / NAMES["songexplorer"]
    path.write_bytes(b",")
    assert len(read_events(path, format="songexplorer", sr=1000)) == 0
