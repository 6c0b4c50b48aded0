"""Bad input for every reader: each is a SonotypeError naming the file and the row or field.

Missing, empty, stop before start, NaN, negative, unknown and missing columns, huge labels,
a million rows, a fake ``.not.mat``. Encodings are in test_encodings.py, overlapping TextGrid
intervals in test_textgrid.py, damaged MAT files in test_matfile.py.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from sonotype.annotations import FORMATS, read_events
from sonotype.errors import AnnotationError, SonotypeError

READERS = FORMATS.names()
SR = 1000  # SongExplorer ticks are milliseconds at this rate


def write_file(folder: Path, fmt: str, rows: list[tuple[str, str, str]]) -> Path:
    """A file of ``fmt`` holding ``rows`` of (start_s, stop_s, label) text, in ``folder``."""
    if fmt == "notmat":
        path = folder / "song.wav.not.mat"
        ms = {k: np.array([[float(r[k]) * 1000] for r in rows]).reshape(-1, 1) for k in (0, 1)}
        variables = {"onsets": ms[0], "offsets": ms[1], "labels": "".join(r[2] for r in rows)}
        with open(path, "wb") as f:
            scipy.io.savemat(f, {**variables, "Fs": float(SR)}, oned_as="column")
        return path
    name, header, line = {
        "raven": ("song.Table.1.selections.txt",
                  "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tAnnotation",
                  "{i}\tSpectrogram 1\t1\t{a}\t{b}\t{label}"),
        "audacity": ("song.txt", None, "{a}\t{b}\t{label}"),
        "simple-csv": ("song.csv", "onset_s,offset_s,label", "{a},{b},{label}"),
        "das": ("song_annotations.csv", "name,start_seconds,stop_seconds", "{label},{a},{b}"),
        "dcase": ("song.csv", "Audiofilename,Starttime,Endtime,{label}", "song.wav,{a},{b},POS"),
        "bacpipe": ("annotations.csv", "audiofilename,start,end,label:x",
                    "song.wav,{a},{b},{label}"),
        "songexplorer": ("song.wav-annotated-me.csv", None, "song.wav,{ta},{tb},annotated,{label}"),
        "textgrid": ("song.TextGrid", None, None),
    }[fmt]  # fmt: skip
    if fmt == "textgrid":
        head = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "0", "1e6"]
        head += ["<exists>", "1", '"IntervalTier"', '"labels"', "0", "1e6", str(len(rows))]
        lines = head + [f'{a}\n{b}\n"{label}"' for a, b, label in rows]
    else:
        label0 = rows[0][2] if rows else "Q"
        lines = [header.format(label=label0)] if header else []
        for i, (a, b, label) in enumerate(rows, start=1):
            ticks = {k: _ticks(v) for k, v in (("ta", a), ("tb", b))}
            lines.append(line.format(i=i, a=a, b=b, label=label, **ticks))
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ticks(seconds: str) -> str:
    try:
        return str(round(float(seconds) * SR))
    except ValueError:
        return seconds


def row_name(fmt: str, k: int) -> str:
    """How ``fmt``'s errors name the ``k``-th event (from 1) of a file from :func:`write_file`."""
    return {
        "raven": f"line {k + 1}",
        "audacity": f"line {k}",
        "songexplorer": f"row {k}",
        "notmat": f"syllable {k}",
        "textgrid": f"line {13 + 3 * (k - 1)}",
    }.get(fmt, f"row {k + 1}")


def read(path: Path, fmt: str):
    return read_events(path, format=fmt, sr=SR)


GOOD = [("0.1", "0.3", "a"), ("0.4", "0.6", "b")]


def expect_error(path: Path, fmt: str, *fragments: str) -> str:
    with pytest.raises(SonotypeError) as error:
        read(path, fmt)
    message = str(error.value)
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.mark.parametrize("fmt", READERS)
def test_good_file(tmp_path, fmt):
    events = read(write_file(tmp_path, fmt, GOOD), fmt)
    assert events["start_s"].tolist() == [0.1, 0.4]
    assert events["label"].tolist() == (["a", "a"] if fmt == "dcase" else ["a", "b"])


@pytest.mark.parametrize("fmt", READERS)
def test_missing(tmp_path, fmt):
    path = tmp_path / "nothing" / "here.txt"
    with pytest.raises(AnnotationError, match=r"here\.txt: no such file"):
        read(path, fmt)


# An empty Audacity or SongExplorer file is a file with no events (both tools write them).
EMPTY_IS_VALID = {"audacity", "songexplorer"}


@pytest.mark.parametrize("fmt", READERS)
def test_empty(tmp_path, fmt):
    path = tmp_path / Path(write_file(tmp_path, fmt, GOOD).name)
    path.write_bytes(b"")
    if fmt in EMPTY_IS_VALID:
        assert len(read(path, fmt)) == 0
    else:
        expect_error(path, fmt)


@pytest.mark.parametrize("fmt", READERS)
def test_stop_before_start(tmp_path, fmt):
    path = write_file(tmp_path, fmt, [GOOD[0], ("0.8", "0.5", "c")])
    expect_error(path, fmt, f"{row_name(fmt, 2)}: stop_s=0.5 is before start_s=0.8")


@pytest.mark.parametrize("fmt", READERS)
def test_nan(tmp_path, fmt):
    path = write_file(tmp_path, fmt, [GOOD[0], ("nan", "0.5", "c")])
    if fmt == "audacity":
        expect_error(path, fmt, "line 2: start 'nan' is not a number")
    elif fmt == "songexplorer":
        expect_error(path, fmt, "row 2: start_tick='nan' is not a whole number")
    else:
        expect_error(path, fmt, f"{row_name(fmt, 2)}: start_s")


@pytest.mark.parametrize("fmt", READERS)
def test_negative(tmp_path, fmt):
    path = write_file(tmp_path, fmt, [("-1", "0.3", "a")])
    expect_error(path, fmt, f"{row_name(fmt, 1)}: start_s=-1 is negative")


MISSING_COLUMN = {
    "raven": ("Selection\tBegin Time (s)\tAnnotation\n1\t0.1\ta\n", "missing column End Time (s)"),
    "simple-csv": ("onset_s,label\n0.1,a\n", "no offset_s column"),
    "das": ("name,start_seconds\na,0.1\n", "missing column stop_seconds"),
    "dcase": ("Audiofilename,Starttime,Q\nsong.wav,0.1,POS\n", "missing column Endtime"),
    "bacpipe": ("audiofilename,start,label:x\nsong.wav,0.1,a\n", "missing column end"),
    "songexplorer": ("song.wav,100,300,annotated\n", "row 1 has 4 fields"),
    "audacity": ("0.1\t0.3\ta\n\\\t100\n", "line 2: a frequency line needs"),
    "textgrid": (None, "the file ends where the text of interval 2"),
    "notmat": (None, "no 'offsets' variable"),
}  # fmt: skip


@pytest.mark.parametrize("fmt", READERS)
def test_missing_columns(tmp_path, fmt):
    path = write_file(tmp_path, fmt, GOOD)
    text, fragment = MISSING_COLUMN[fmt]
    if fmt == "textgrid":
        path.write_text(path.read_text().rsplit("\n", 2)[0])  # the last text cut off
    elif fmt == "notmat":
        scipy.io.savemat(path, {"onsets": np.array([1.0]), "labels": "a"})
    else:
        path.write_text(text)
    expect_error(path, fmt, fragment)


# Formats with a fixed layout refuse anything else; the others keep further columns as
# extra labels (label:NAME), so nothing is dropped without a word.
UNKNOWN_COLUMN = {
    "raven": ("Selection\tBegin Time (s)\tEnd Time (s)\tAnnotation\tColour\n1\t0.1\t0.3\ta\tred\n",
              "label:Colour"),
    "simple-csv": ("onset_s,offset_s,label,colour\n0.1,0.3,a,red\n", "label:colour"),
    "das": ("name,start_seconds,stop_seconds,colour\na,0.1,0.3,red\n", "label:colour"),
    "bacpipe": ("audiofilename,start,end,label:x,colour\nsong.wav,0.1,0.3,a,red\n",
                "label:colour"),
    "dcase": ("Audiofilename,Starttime,Endtime,Q,colour\nsong.wav,0.1,0.3,POS,red\n",
              "row 2: colour='red' is not POS, NEG or UNK"),
    "songexplorer": ("song.wav,100,300,annotated,a,red\n", "row 1 has 6 fields"),
    "audacity": ("0.1\t0.3\ta\tred\n", None),  # tabs after the stop belong to the label
    "textgrid": (None, "tier 1 is a 'PitchTier'"),
    "notmat": (None, None),  # further MATLAB variables are evsonganaly's own settings
}  # fmt: skip


@pytest.mark.parametrize("fmt", READERS)
def test_unknown_columns(tmp_path, fmt):
    path = write_file(tmp_path, fmt, GOOD)
    text, expected = UNKNOWN_COLUMN[fmt]
    if fmt == "textgrid":
        path.write_text(path.read_text().replace('"IntervalTier"', '"PitchTier"'))
    elif text is not None:
        path.write_text(text)
    if expected is None or expected.startswith("label:"):
        events = read(path, fmt)
        if expected is not None:
            assert events[expected].tolist() == ["red"]
        elif fmt == "audacity":
            assert events["label"].tolist() == ["a\tred"]
    else:
        expect_error(path, fmt, expected)


@pytest.mark.parametrize("fmt", [f for f in READERS if f != "notmat"])
def test_huge_label(tmp_path, fmt):
    huge = "x" * 5_000_000
    path = write_file(tmp_path, fmt, [GOOD[0], ("0.4", "0.6", huge)])
    if fmt == "dcase":  # its label is the class column's name, in the header
        path.write_text(path.read_text().replace(",a\n", f",{huge}\n", 1))
        expect_error(path, fmt, "row 2: label is 5,000,000 characters long")
    else:
        expect_error(path, fmt, f"{row_name(fmt, 2)}: label is 5,000,000 characters long")


def test_notmat_labels_that_do_not_match_the_syllables(tmp_path):
    path = write_file(tmp_path, "notmat", GOOD)
    scipy.io.savemat(path, {"onsets": [[1.0]], "offsets": [[2.0]], "labels": "x" * 100_000})
    expect_error(path, "notmat", "1 onsets, 1 offsets and 100000 labels")


@pytest.mark.parametrize(
    "content", [b"onsets,offsets\n1,2\n", b"\x00" * 1000, b"MATLAB 5.0 MAT-file" + bytes(300)]
)
def test_fake_notmat(tmp_path, content):
    path = tmp_path / "song.wav.not.mat"
    path.write_bytes(content)
    with pytest.raises(AnnotationError) as error:
        read_events(path)  # the name says notmat
    assert str(error.value).startswith(f"{path}: ")
    assert "MAT-file" in str(error.value) or "'onsets'" in str(error.value)


def _many_rows(n: int) -> list[tuple[str, str, str]]:
    start = np.arange(n) * 0.01
    return list(
        zip(
            map(repr, start.tolist()),
            map(repr, (start + 0.005).tolist()),
            "abcd" * (n // 4),
            strict=True,
        )
    )


@pytest.mark.slow
@pytest.mark.parametrize("fmt", READERS)
def test_a_million_rows(tmp_path, fmt):
    rows = _many_rows(1_000_000)
    events = read(write_file(tmp_path, fmt, rows), fmt)
    assert len(events) == 1_000_000
    assert events["stop_s"].iloc[-1] == pytest.approx(9999.995)


@pytest.mark.parametrize("fmt", READERS)
def test_memory_grows_linearly_with_the_rows(tmp_path, fmt):
    """Peak memory while reading 5,000 and 20,000 rows: the 4x file must not cost more than
    about 4x (a quadratic step would cost 16x)."""
    peaks = []
    for n in (5_000, 20_000):
        folder = tmp_path / str(n)
        folder.mkdir()
        path = write_file(folder, fmt, _many_rows(n))
        tracemalloc.start()
        try:
            assert len(read(path, fmt)) == n
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] < 6 * peaks[0], peaks
