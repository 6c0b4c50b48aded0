"""Where a per-recording annotation file goes: always inside the output folder.

Annotation files name their recordings, and a writer that makes one file per recording
derives each file's path from that name (``birds/bird1/song.wav`` ->
``OUT/birds/bird1/song.Table.1.selections.txt``). A name is data from a file, so it may be
hostile: ``../../x.wav`` or ``/etc/x.wav`` would lead the file out of the output folder, a NUL
character or a 300-byte name would make the operating system refuse it half-way through.
:func:`output_path` checks every name before anything is written and refuses it with an
error naming the row and the recording.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from sonotype.errors import AnnotationError

#: The longest file or folder name written, in bytes: file systems allow 255, and the
#: temporary file each one is first written to (".NAME.xxxxxxxx.tmp") needs 14 more.
MAX_NAME_BYTES = 240

# A Windows drive ("C:\", "C:/") or UNC path ("\\server"): absolute wherever the file is read.
_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:|[\\/]{2})")


def output_path(
    folder: Path, recording: str, filename_for: Callable[[str], str], *, row: int
) -> tuple[Path, PurePosixPath]:
    """The path of the file for ``recording`` under ``folder``, checked to stay inside it.

    Parameters
    ----------
    folder : Path
        The output folder.
    recording : str
        The recording's name, relative to the audio root; its folders are mirrored (``/``
        and ``\\`` both separate folders).
    filename_for : callable
        The format's file name for a recording (``AnnotationFormat.filename_for``).
    row : int
        The 1-based row of the recording's first event, named in errors.

    Returns
    -------
    path : Path
        ``folder / <the recording's folders> / filename_for(recording)``.
    name : PurePosixPath
        The recording's name as a clean relative path.

    Raises
    ------
    AnnotationError
        The name is absolute, empty, has a ``..`` part or a NUL character, or gives a file
        or folder name longer than :data:`MAX_NAME_BYTES`, or the path leads out of
        ``folder`` through a link.
    """
    parts = [p for p in re.split(r"[\\/]", recording) if p not in ("", ".")]
    problem = None
    if "\x00" in recording:
        problem = "contains a NUL character, which no file name can hold"
    elif recording.startswith(("/", "\\")) or _WINDOWS_ABSOLUTE.match(recording):
        problem = "is an absolute path, which would put its file outside the output folder"
    elif ".." in parts:
        problem = "has a '..' part, which would put its file outside the output folder"
    elif not parts:
        problem = "names no file"
    else:
        name = PurePosixPath(*parts)
        file_name = filename_for(str(name))
        names = [*parts[:-1], file_name]
        too_long = [p for p in names if len(os.fsencode(p)) > MAX_NAME_BYTES]
        if too_long:
            problem = (
                f"gives a file or folder name of {len(os.fsencode(too_long[0]))} bytes, longer "
                f"than the {MAX_NAME_BYTES} a file system allows here"
            )
        elif "/" in file_name or "\x00" in file_name or file_name in ("", ".", ".."):
            problem = f"gives the file name {file_name!r}, which is not one name"
        else:
            target = folder.joinpath(*names)
            inside = os.path.realpath(folder)
            if os.path.commonpath([inside, os.path.realpath(target)]) != inside:
                problem = "leads outside the output folder through a link"
    if problem is not None:
        shown = recording if len(recording) <= 80 else recording[:77] + "..."
        raise AnnotationError(
            folder,
            f"row {row}: recording {shown!r} {problem}; name recordings by paths relative to "
            "their audio root (folder/song.wav), or write one file instead of a folder",
        )
    return target, name
