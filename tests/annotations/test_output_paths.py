"""Every writer keeps every file it writes inside its output folder, whatever the names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sonotype.annotations import FORMATS, make_events, write_events
from sonotype.annotations.output_paths import MAX_NAME_BYTES, output_path
from sonotype.errors import AnnotationError, SonotypeError

WRITABLE = [name for name in FORMATS.names() if FORMATS.get(name).can_write]

HOSTILE = {
    "parent": "../../x.wav",
    "one up": "../x.wav",
    "up inside": "birds/../../x.wav",
    "backslash up": "..\\..\\x.wav",
    "windows drive": "C:\\Users\\x.wav",
    "unc": "\\\\server\\share\\x.wav",
    "nul": "song\x00.wav",
    "long file": "s" * 300 + ".wav",
    "long folder": "d" * 300 + "/x.wav",
    "only dots": "./.",
}


def _events(recordings: list[str]):
    n = len(recordings)
    return make_events(
        recordings, [0.1 * (i + 1) for i in range(n)], [0.5 + i for i in range(n)], "a"
    )


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _write(events, folder: Path, fmt: str):
    # Trailing slash: a folder, one file per recording, for every format.
    return write_events(events, str(folder) + "/", format=fmt, sr=32000)


@pytest.mark.parametrize("fmt", WRITABLE)
@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_names_are_refused_naming_the_row(tmp_path, fmt, name):
    # The absolute name points at a place that exists, so a write there would be seen.
    events = _events(["good.wav", name, str(tmp_path / "abs" / "x.wav")][:2])
    before = _tree(tmp_path)
    with pytest.raises(AnnotationError) as error:
        _write(events, tmp_path / "out", fmt)
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'out'} row 2: recording ")
    assert _tree(tmp_path) == before  # nothing written, not even the good recording's file


@pytest.mark.parametrize("fmt", WRITABLE)
def test_absolute_names_are_refused(tmp_path, fmt):
    events = _events([str(tmp_path / "elsewhere" / "x.wav")])
    with pytest.raises(AnnotationError, match=r"row 1: recording .* is an absolute path"):
        _write(events, tmp_path / "out", fmt)
    assert _tree(tmp_path) == set()


@pytest.mark.parametrize("fmt", WRITABLE)
def test_sub_folders_are_mirrored_inside(tmp_path, fmt):
    events = _events(["birds/b1/song.wav", "./birds/b2/song.wav"])
    written = _write(events, tmp_path / "out", fmt)
    assert len(written) == 2
    for path in written:
        assert Path(os.path.realpath(path)).is_relative_to(tmp_path / "out")
    assert {p.parent.name for p in written} == {"b1", "b2"}


def test_a_link_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(AnnotationError, match=r"row 1: recording 'link/x.wav' leads outside"):
        _write(_events(["link/x.wav"]), tmp_path / "out", "raven")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_longest_allowed_name_is_written(tmp_path):
    stem = "s" * (MAX_NAME_BYTES - len(".txt"))
    (path,) = _write(_events([stem + ".wav"]), tmp_path / "out", "audacity")
    assert path.name == stem + ".txt"
    with pytest.raises(AnnotationError, match=r"gives a file or folder name of 241 bytes"):
        _write(_events(["s" + stem + ".wav"]), tmp_path / "out2", "audacity")


def test_output_path_names_the_row_and_shortens_long_names(tmp_path):
    with pytest.raises(AnnotationError) as error:
        output_path(tmp_path, "../" + "x" * 200, lambda r: r, row=7)
    assert f"{tmp_path} row 7: recording '../xxx" in str(error.value)
    assert "x" * 100 not in str(error.value)


_pieces = st.sampled_from(["a", ".", "..", "/", "\\", ":", "\x00", "C", " ", "é"])
_names = st.lists(
    st.lists(_pieces, min_size=1, max_size=8).map("".join), min_size=1, max_size=3, unique=True
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=_names, fmt=st.sampled_from(WRITABLE))
def test_any_names_stay_inside_or_are_refused(tmp_path_factory, names, fmt):
    root = tmp_path_factory.mktemp("w")
    out = root / "deep" / "out"
    try:
        written = _write(_events(names), out, fmt)
    except SonotypeError:
        assert _tree(root) == set()
        return
    for path in written:
        assert os.path.realpath(path).startswith(os.path.realpath(out) + os.sep)
    assert all(p.is_relative_to(out) for p in map(Path, _tree_paths(root)))


def _tree_paths(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file()]
