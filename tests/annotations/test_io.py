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


@pytest.mark.parametrize("fmt", ["simple-csv", "bacpipe", "songexplorer", "raven", "das"])
def test_a_trailing_slash_means_a_folder_for_every_format(tmp_path, fmt):
    events = make_events(["a.wav", "sub/b.wav"], [0.1, 0.2], [0.3, 0.4], ["x", "y"])
    written = write_events(events, f"{tmp_path / 'predicted'}/", format=fmt, sr=1000)
    assert len(written) == 2
    assert all(p.is_relative_to(tmp_path / "predicted") for p in written)
    assert not (tmp_path / "predicted").is_file()
    back = read_events(written[1], format=fmt, sr=1000)
    assert back["recording"].tolist() == ["b.wav"]  # named relative to its own file
    assert written[1].parent == tmp_path / "predicted" / "sub"


def test_a_single_recording_with_a_trailing_slash_still_makes_a_folder(tmp_path):
    events = make_events("a.wav", [0.1], [0.3], "x")
    (path,) = write_events(events, f"{tmp_path / 'out'}/", format="simple-csv")
    assert path == tmp_path / "out" / "a.csv"


def test_table_format_into_an_existing_folder(tmp_path, events):
    (tmp_path / "out").mkdir()
    written = write_events(events, tmp_path / "out", format="simple-csv")
    assert sorted(p.name for p in written) == ["a.csv", "b.csv"]


def test_a_file_cannot_be_a_folder(tmp_path, events):
    (tmp_path / "out").write_text("precious")
    with pytest.raises(AnnotationError, match=r"out: is a file, so one file per recording"):
        write_events(events, f"{tmp_path / 'out'}/", format="simple-csv")
    assert (tmp_path / "out").read_text() == "precious"


def test_simple_csv_writes_the_shortest_text_that_reads_back(tmp_path):
    events = make_events("a.wav", [0.8412, 1 / 3], [1.1, 0.5], "x", score=[0.1, np.nan])
    (path,) = write_events(events, tmp_path / "t.csv")
    text = path.read_text()
    assert "0.8412," in text and "0.84119999" not in text
    assert "0.3333333333333333," in text and ",1.1," in text
    assert read_events(path).equals(events)


def test_overwrite_is_named_as_the_caller_spells_it(tmp_path, events):
    write_events(events, tmp_path / "all.csv")
    with pytest.raises(AnnotationError, match=r"already exists; pass --force to replace it$"):
        write_events(events, tmp_path / "all.csv", option_names={"overwrite": "--force"})


def test_a_nul_in_the_output_path_is_a_parameter_error(tmp_path, events):
    with pytest.raises(ParameterError, match="NUL"):
        write_events(events, f"{tmp_path}/a\x00b.csv")
