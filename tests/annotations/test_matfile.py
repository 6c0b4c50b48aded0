"""The strict MAT-file reader: same values as scipy on good files, errors (never crashes) on bad."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from sonotype.annotations.formats import matfile
from sonotype.annotations.formats.matfile import Unsupported, read_mat5
from sonotype.errors import AnnotationFormatError
from tests.fixtures.shared import data_folder

VARIABLES = {
    "onsets": np.array([[1277.78], [1452.47]]),
    "labels": "iaé",
    "rows": np.array(["ab", "cd"]),
    "Fs": 32000.0,
    "small": np.array([1, 2, 3], dtype=np.uint8),
    "negative": np.int16(-3),
    "empty": np.zeros((0, 1)),
    "cell": np.array(["a", "b"], dtype=object),
}


def _mat(compress: bool) -> bytes:
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, VARIABLES, do_compression=compress)
    return buffer.getvalue()


@pytest.mark.parametrize("compress", [False, True])
def test_values_as_matlab_wrote_them(tmp_path, compress):
    path = tmp_path / "x.mat"
    path.write_bytes(_mat(compress))
    mat = read_mat5(path)
    np.testing.assert_array_equal(mat["onsets"], [[1277.78], [1452.47]])
    assert mat["labels"] == "iaé"
    assert mat["rows"] == "abcd"  # row after row, although MATLAB stores columns
    assert mat["Fs"].item() == 32000.0
    np.testing.assert_array_equal(mat["small"], [[1.0, 2.0, 3.0]])
    assert mat["negative"].item() == -3.0
    assert mat["empty"].shape == (0, 1)
    assert mat["cell"] == Unsupported("cell array")


def test_real_notmat_files_read_as_scipy_reads_them():
    for path in sorted(data_folder("bengalese-finch-gy6or6").glob("*.not.mat")):
        mine = read_mat5(path)
        theirs = scipy.io.loadmat(path, chars_as_strings=True)
        assert set(mine) == {k for k in theirs if not k.startswith("__")}
        for name, value in mine.items():
            if isinstance(value, str):
                assert value == "".join(np.asarray(theirs[name]).ravel().tolist())
            else:
                np.testing.assert_array_equal(value, np.asarray(theirs[name], dtype=float))


@pytest.mark.parametrize("compress", [False, True])
def test_every_truncation_and_deletion_is_an_error_not_a_crash(tmp_path, compress):
    # scipy's loadmat crashes the process (SIGSEGV) on some of these.
    data = _mat(compress)
    path = tmp_path / "x.mat"
    damaged = [data[:cut] for cut in range(0, len(data), 3)]
    damaged += [
        data[:at] + data[at + size :] for at in range(128, len(data), 5) for size in (1, 8, 25)
    ]
    for bad in damaged:
        path.write_bytes(bad)
        try:
            read_mat5(path)
        except AnnotationFormatError as error:
            assert str(error).startswith(str(path))


def test_sizes_that_the_bytes_do_not_hold(tmp_path):
    data = bytearray(_mat(False))
    # The first element's size, claiming far more than the file holds.
    data[132:136] = (2**31).to_bytes(4, "little")
    path = tmp_path / "x.mat"
    path.write_bytes(bytes(data))
    with pytest.raises(AnnotationFormatError, match=r"element at byte 128 claims 2147483648 bytes"):
        read_mat5(path)


def test_a_compression_bomb_is_refused(tmp_path, monkeypatch):
    # A smaller limit, so the test need not inflate 256 MB.
    monkeypatch.setattr(matfile, "MAX_VARIABLE_BYTES", 2**20)
    header = _mat(False)[:128]
    bomb = zlib.compress(bytes(3 * 2**20), 9)
    element = (15).to_bytes(4, "little") + len(bomb).to_bytes(4, "little") + bomb
    path = tmp_path / "x.mat"
    path.write_bytes(header + element)
    with pytest.raises(AnnotationFormatError, match=r"inflates to more than 1 MB"):
        read_mat5(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a MATLAB v5 MAT-file"),
        (b"MATLAB 7.3 MAT-file" + bytes(200), r"MATLAB 7\.3 \(HDF5\) file.*save -v7"),
        (b"\x89HDF\r\n" + bytes(300), "not a MATLAB v5 MAT-file"),
    ],
)
def test_not_mat_files(tmp_path, content, message):
    path = tmp_path / "x.not.mat"
    path.write_bytes(content)
    with pytest.raises(AnnotationFormatError, match=message):
        read_mat5(Path(path))
