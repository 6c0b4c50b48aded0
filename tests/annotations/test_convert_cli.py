"""``sonotype convert``: hostile names, encodings, tiers, folders, the options errors name."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from sonotype.annotations import make_events, read_events, write_events
from sonotype.cli.main import app
from sonotype.errors import AnnotationError, ParameterError
from tests.fixtures.shared import data_folder

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("fmt", ["raven", "audacity", "textgrid", "das", "dcase"])
def test_recording_names_cannot_lead_files_out_of_the_output_folder(tmp_path, fmt):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    events = make_events(["ok.wav", "../../x.wav", "/tmp/x.wav"], [0, 1, 2], [0.5, 1.5, 2.5], "s")
    write_events(events, work / "in.csv")
    before = _tree(tmp_path)
    with pytest.raises(AnnotationError) as error:
        invoke("convert", work / "in.csv", "--to", fmt, "-o", f"{work / 'out'}/")
    assert str(error.value).startswith(f"{work / 'out'} row 2: recording '../../x.wav' has a '..'")
    assert _tree(tmp_path) == before


def test_trailing_slash_writes_one_table_per_recording(tmp_path):
    events = make_events(["a.wav", "b.wav"], [0.1, 0.2], [0.3, 0.4], ["x", "y"])
    write_events(events, tmp_path / "in.csv")
    result = invoke(
        "convert", tmp_path / "in.csv", "-o", f"{tmp_path / 'predicted'}/", "--to", "simple-csv"
    )
    assert result.exit_code == 0, result.output
    assert _tree(tmp_path / "predicted") == ["a.csv", "b.csv"]
    assert "2 files in" in result.output


def test_trailing_slash_without_to_asks_for_it(tmp_path):
    write_events(make_events("a.wav", [0.1], [0.3], "x"), tmp_path / "in.csv")
    with pytest.raises(ParameterError, match=r"folder .*predicted/'; pass --to FORMAT"):
        invoke("convert", tmp_path / "in.csv", "-o", f"{tmp_path / 'predicted'}/")


def test_encoding_is_refused_then_read_with_the_option(tmp_path):
    (tmp_path / "t.txt").write_bytes("0.5\t1.0\tcafé\n".encode("cp1252"))
    with pytest.raises(
        AnnotationError, match=r"t\.txt line 1: byte 11 \(E9, counting from 0\).*--encoding cp1252"
    ):
        invoke("convert", tmp_path / "t.txt", "-o", tmp_path / "t.csv")
    result = invoke("convert", tmp_path / "t.txt", "--encoding", "cp1252", "-o", tmp_path / "t.csv")
    assert result.exit_code == 0, result.output
    assert read_events(tmp_path / "t.csv")["label"].tolist() == ["café"]


def test_messages_name_this_commands_options(tmp_path):
    (tmp_path / "mystery.csv").write_text("a,b\n1,2\n")
    with pytest.raises(AnnotationError, match=r"name it with --from FORMAT") as error:
        invoke("convert", tmp_path / "mystery.csv", "-o", tmp_path / "o.csv")
    assert "format=" not in str(error.value)
    write_events(make_events("s.wav", [0.1], [0.3], "a"), tmp_path / "in.csv")
    (tmp_path / "o.csv").write_text("keep")
    with pytest.raises(AnnotationError, match=r"already exists; pass --force to replace it$"):
        invoke("convert", tmp_path / "in.csv", "-o", tmp_path / "o.csv")
    (tmp_path / "fly.wav-annotated-me.csv").write_text("fly.wav,2500,2500,annotated,pulse\n")
    with pytest.raises(AnnotationError, match=r"pass --sample-rate HZ or .*\(--audio DIR\)$"):
        invoke("convert", tmp_path / "fly.wav-annotated-me.csv", "-o", tmp_path / "f.csv")
    (tmp_path / "x.csv").write_text("begin,end,label\n1,2,a\n")
    with pytest.raises(AnnotationError, match=r"no onset_s column .* \(--from FORMAT\)$"):
        invoke("convert", tmp_path / "x.csv", "--from", "simple-csv", "-o", tmp_path / "y.csv")


def test_errors_print_without_traceback(tmp_path):
    (tmp_path / "t.txt").write_bytes(b"0.5\t1.0\tcaf\xe9\n")
    result = subprocess.run(
        [sys.executable, "-m", "sonotype", "convert", str(tmp_path / "t.txt"), "-o",
         str(tmp_path / "o.csv")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "--encoding cp1252" in " ".join(result.stderr.split())
    assert not (tmp_path / "o.csv").exists()


def test_tier_by_writes_one_tier_per_label(tmp_path):
    events = make_events("song.wav", [0.0, 0.2, 0.6], [0.5, 0.8, 0.9], ["a", "b", "a"])
    write_events(events, tmp_path / "in.csv")
    with pytest.raises(AnnotationError, match=r"overlap in tier 'labels'.*pass --tier-by label"):
        invoke("convert", tmp_path / "in.csv", "-o", tmp_path / "song.TextGrid")
    result = invoke(
        "convert", tmp_path / "in.csv", "--tier-by", "label", "-o", tmp_path / "song.TextGrid"
    )
    assert result.exit_code == 0, result.output
    back = read_events(tmp_path / "song.TextGrid")
    assert sorted(zip(back["label:tier"], back["start_s"], strict=True)) == [
        ("a", 0.0), ("a", 0.6), ("b", 0.2)
    ]  # fmt: skip


def test_tier_by_checks_its_column_and_format(tmp_path):
    write_events(make_events("s.wav", [0.1], [0.3], "a"), tmp_path / "in.csv")
    with pytest.raises(ParameterError, match=r"--tier-by 'colour' is not a text column .* label"):
        invoke("convert", tmp_path / "in.csv", "--tier-by", "colour", "-o", tmp_path / "s.TextGrid")
    with pytest.raises(ParameterError, match=r"--tier-by names the tiers of a TextGrid"):
        invoke("convert", tmp_path / "in.csv", "--tier-by", "label", "-o", tmp_path / "o.csv")


def test_readme_spinetail_example_on_the_real_fixture(tmp_path):
    fixtures = data_folder("format-fixtures")
    for name in ("spinetail.txt", "spinetail.wav"):
        shutil.copy(fixtures / name, tmp_path / name)
    args = ["convert", tmp_path / "spinetail.txt", "--recording", "spinetail.wav"]
    # Its labels overlap (SP calls inside CRER calls): one tier cannot hold them.
    with pytest.raises(AnnotationError, match=r"overlap in tier 'labels'"):
        invoke(*args, "-o", tmp_path / "spinetail.TextGrid")
    result = invoke(*args, "--tier-by", "label", "-o", tmp_path / "spinetail.TextGrid")
    assert result.exit_code == 0, result.output
    back = read_events(tmp_path / "spinetail.TextGrid")
    original = read_events(tmp_path / "spinetail.txt", recording="spinetail.wav")
    assert len(back) == len(original) == 18
    assert sorted(back["label:tier"].unique()) == ["CRER", "SP"]
    assert sorted(back["start_s"]) == sorted(original["start_s"])


def test_a_big_input_gets_a_line_while_it_is_read(tmp_path, monkeypatch):
    from sonotype.cli import convert

    write_events(make_events("a.wav", [0.1], [0.3], "x"), tmp_path / "in.csv")
    monkeypatch.setattr(convert, "_BIG_FILE_BYTES", 10)
    result = invoke("convert", tmp_path / "in.csv", "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert "reading in.csv (0 MB)" in result.output
    monkeypatch.setattr(convert, "_BIG_FILE_BYTES", 10**9)
    result = invoke("convert", tmp_path / "in.csv", "-o", tmp_path / "out2.csv")
    assert "reading" not in result.output
