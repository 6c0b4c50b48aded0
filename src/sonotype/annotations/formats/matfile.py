"""A small, strict reader of MATLAB v5 MAT-files: numeric and char variables only.

evsonganaly's ``.not.mat`` files are MATLAB v5 files holding a few vectors, scalars and one
char string. scipy's ``loadmat`` reads them, but its compiled reader trusts the sizes a file
declares and crashes the whole process (a segmentation fault, which no ``except`` catches) on
some damaged files. This reader checks every size against the bytes that are there, so a
damaged file is an :class:`~sonotype.errors.AnnotationFormatError` naming what is wrong.

The format (MathWorks, "MAT-File Format", MATLAB 5.0 and later): a 128-byte header (text,
then version 0x0100 and the endian indicator ``IM`` or ``MI``), then data elements. Each
element has an 8-byte tag, ``type`` and ``nbytes`` (or a 4-byte "small" tag whose upper two
bytes hold ``nbytes``, with up to 4 bytes of data), and its data padded to 8 bytes. A variable
is an ``miMATRIX`` element (type 14) of sub-elements: array flags, dimensions, name, real part
(and an imaginary part, ignored here); ``miCOMPRESSED`` (type 15) holds one zlib-compressed
element, unpadded.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sonotype.errors import AnnotationFormatError

MI_MATRIX, MI_COMPRESSED = 14, 15
#: numpy codes of the MAT data types (miINT8 = 1 ... miUTF32 = 18).
_NUMERIC_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8"}
_NUMERIC_TYPES |= {12: "i8", 13: "u8"}
_TEXT_TYPES = {16: "utf-8", 17: "utf-16", 18: "utf-32"}
#: Array classes: 4 is char, 6..15 numeric (double, single, int8 ... uint64).
MX_CHAR, NUMERIC_CLASSES = 4, range(6, 16)
_CLASS_NAMES = {1: "cell array", 2: "struct", 3: "object", 5: "sparse matrix"}
#: The most a compressed variable may expand to: .not.mat files hold kilobytes, and a
#: damaged or hostile stream must not fill the memory.
MAX_VARIABLE_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Unsupported:
    """A variable of a class this reader does not read (cell array, struct, ...)."""

    kind: str

    def __str__(self) -> str:
        return f"a {self.kind}"


class _Damaged(Exception):
    """A structural problem; the reader turns it into an AnnotationFormatError."""


def read_mat5(path: Path) -> dict[str, np.ndarray | str | Unsupported]:
    """The numeric and char variables of a MATLAB v5 MAT-file.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    dict
        Variable name -> float64 array in MATLAB's shape (numeric classes), or str (char
        arrays, rows joined). Cell arrays, structs, objects and sparse matrices map to an
        :class:`Unsupported` naming their class.

    Raises
    ------
    AnnotationFormatError
        The file is not a MATLAB v5 file, or is damaged (a size that the bytes do not hold).
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise AnnotationFormatError(path, f"cannot be read ({error.strerror or error})") from None
    what = "an evsonganaly .not.mat file is saved by MATLAB's save (version 5 to 7.2)"
    if data.startswith(b"MATLAB 7.3"):
        raise AnnotationFormatError(
            path, f"is a MATLAB 7.3 (HDF5) file; {what}: save it again with save -v7"
        )
    if len(data) < 128 or data[126:128] not in (b"IM", b"MI"):
        raise AnnotationFormatError(path, f"is not a MATLAB v5 MAT-file (no MAT header); {what}")
    order = "<" if data[126:128] == b"IM" else ">"
    variables: dict[str, np.ndarray | str | Unsupported] = {}
    try:
        for kind, body, offset in _elements(data, 128, order):
            if kind == MI_COMPRESSED:
                inner = _inflate(body, offset)
                for inner_kind, inner_body, _ in _elements(inner, 0, order):
                    if inner_kind == MI_MATRIX:
                        name, value = _matrix(inner_body, order)
                        variables[name] = value
            elif kind == MI_MATRIX:
                name, value = _matrix(body, order)
                variables[name] = value
    except _Damaged as problem:
        raise AnnotationFormatError(
            path, f"is damaged or not a MAT-file: {problem}; {what}"
        ) from None
    return variables


def _elements(data: bytes, start: int, order: str):
    """(type, data, offset) of each data element from ``start`` to the end of ``data``."""
    position = start
    while position < len(data):
        kind, body, end = _element(data, position, order)
        yield kind, body, position
        # A compressed element is not padded; every other one is, to 8 bytes.
        position = end if kind == MI_COMPRESSED else end + (-(end - position) % 8)


def _element(data: bytes, position: int, order: str) -> tuple[int, bytes, int]:
    if position + 8 > len(data):
        if position + 4 <= len(data) and not data[position:].strip(b"\x00"):
            return 0, b"", len(data)  # trailing padding
        raise _Damaged(f"the element at byte {position} is cut short")
    first, second = np.frombuffer(data, dtype=f"{order}u4", count=2, offset=position).tolist()
    if first >> 16:  # a small element: type and size in 4 bytes, then up to 4 bytes of data
        kind, size = first & 0xFFFF, first >> 16
        if size > 4:
            raise _Damaged(f"the small element at byte {position} claims {size} bytes")
        return kind, data[position + 4 : position + 4 + size], position + 8
    kind, size = first, second
    end = position + 8 + size
    if end > len(data):
        raise _Damaged(
            f"the element at byte {position} claims {size} bytes, but only "
            f"{len(data) - position - 8} follow"
        )
    return kind, data[position + 8 : end], end


def _inflate(body: bytes, offset: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        inner = inflater.decompress(body, MAX_VARIABLE_BYTES)
    except zlib.error as error:
        raise _Damaged(
            f"the compressed element at byte {offset} cannot be inflated ({error})"
        ) from None
    if inflater.unconsumed_tail:
        raise _Damaged(
            f"the compressed element at byte {offset} inflates to more than "
            f"{MAX_VARIABLE_BYTES // 2**20} MB"
        )
    return inner


def _matrix(body: bytes, order: str) -> tuple[str, np.ndarray | str | Unsupported]:
    """The name and value of one miMATRIX element."""
    parts = []
    position = 0
    while position < len(body) and len(parts) < 4:
        kind, data, end = _element(body, position, order)
        parts.append((kind, data))
        position = end + (-(end - position) % 8)
    if len(parts) < 3:
        raise _Damaged("a variable lacks its flags, dimensions or name")
    (flag_kind, flags), (dims_kind, dims), (_, name_bytes) = parts[:3]
    if flag_kind != 6 or len(flags) < 8 or dims_kind != 5 or len(dims) % 4:
        raise _Damaged("a variable's flags or dimensions are not where MATLAB puts them")
    array_class = int(np.frombuffer(flags, dtype=f"{order}u4", count=1)[0]) & 0xFF
    shape = tuple(np.frombuffer(dims, dtype=f"{order}i4").tolist())
    try:
        name = name_bytes.decode("ascii")
    except UnicodeDecodeError:
        raise _Damaged("a variable's name is not ASCII") from None
    if any(n < 0 for n in shape):
        raise _Damaged(f"variable {name!r} has negative dimensions {shape}")
    if array_class in _CLASS_NAMES:
        return name, Unsupported(_CLASS_NAMES[array_class])
    if array_class != MX_CHAR and array_class not in NUMERIC_CLASSES:
        raise _Damaged(f"variable {name!r} has the unknown array class {array_class}")
    count = int(np.prod(shape, dtype=np.float64)) if shape else 0
    if count == 0:
        return name, "" if array_class == MX_CHAR else np.zeros(shape, dtype=np.float64)
    if len(parts) < 4:
        raise _Damaged(f"variable {name!r} has no data")
    kind, data = parts[3]
    if kind in _TEXT_TYPES and array_class == MX_CHAR:
        try:
            text = data.decode(_TEXT_TYPES[kind])
        except UnicodeDecodeError:
            raise _Damaged(f"char variable {name!r} is not valid text") from None
        if len(text) != count:
            raise _Damaged(f"char variable {name!r} of shape {shape} holds {len(text)} characters")
        codes = np.array([ord(c) for c in text], dtype=np.int64).reshape(shape, order="F")
        return name, _joined_rows(codes)
    if kind not in _NUMERIC_TYPES:
        raise _Damaged(f"variable {name!r} has the unknown data type {kind}")
    dtype = np.dtype(f"{order}{_NUMERIC_TYPES[kind]}")
    if len(data) != count * dtype.itemsize:
        raise _Damaged(
            f"variable {name!r} of shape {shape} needs {count * dtype.itemsize} bytes of data, "
            f"found {len(data)}"
        )
    values = np.frombuffer(data, dtype=dtype).reshape(shape, order="F")
    if array_class == MX_CHAR:
        codes = values.astype(np.int64)
        if ((codes < 0) | (codes > 0x10FFFF) | ((codes >= 0xD800) & (codes <= 0xDFFF))).any():
            raise _Damaged(f"char variable {name!r} holds codes that are not characters")
        return name, _joined_rows(codes)
    return name, values.astype(np.float64)


def _joined_rows(codes: np.ndarray) -> str:
    """The characters of a char array, row after row (MATLAB stores them column-major)."""
    rows = codes.reshape(codes.shape[0], -1) if codes.ndim > 1 else codes.reshape(1, -1)
    return "".join("".join(map(chr, row)) for row in rows.tolist())
