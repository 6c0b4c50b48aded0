"""Atomic file writes: a crash or a kill never leaves a half-written file behind.

Temporary files and staging folders carry the host and process id of their writer in their
name (``.NAME.sonotype-HOST-PID.RANDOM.tmp``), so a later run can tell the leftovers of a
killed writer from the work of one still running, and remove only those
(:func:`clean_stale`). Outputs get the permissions the umask gives a new file (``0644`` under
the usual ``022``), not the ``0600`` of :func:`tempfile.mkstemp`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

_MARK = "sonotype"
_LEFTOVER = re.compile(rf"^\..+\.{_MARK}-(?P<host>[0-9a-f]{{8}})-(?P<pid>\d+)\.[^./]+(\.tmp)?$")


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # no way to read it without setting it elsewhere
    os.umask(mask)
    return mask


def _host_tag() -> str:
    return hashlib.blake2b(socket.gethostname().encode(), digest_size=4).hexdigest()


#: Longest part of the target's name kept in a temporary's name: with the mark, host, pid
#: and random part it stays within the 255 bytes a file name may have.
_NAME_BYTES = 200


def _prefix(name: str) -> str:
    short = os.fsencode(name)[:_NAME_BYTES].decode(errors="ignore")
    return f".{short}.{_MARK}-{_host_tag()}-{os.getpid()}."


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return those created, deepest first."""
    created = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        created.append(parent)
    folder.mkdir(parents=True, exist_ok=True)
    return created


def _remove_empty(folders: list[Path]) -> None:
    """Remove folders this write created, deepest first, where they are still empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _temporary(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=_prefix(path.name), suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def _publish(tmp: Path, path: Path, mode: int) -> None:
    # The writer may have replaced the temporary file, so the mode is set just before the
    # rename, never earlier.
    os.chmod(tmp, mode)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    The temporary file lives in the destination folder so the final rename is atomic on
    POSIX and Windows. If the body raises, the temporary file is removed, ``path`` is left
    as it was, and folders made for it are removed again. Stale temporaries a killed writer
    left in the folder are removed first.
    """
    path = Path(path)
    created = _make_folders(path.parent)
    clean_stale(path.parent)
    tmp_path = _temporary(path)
    try:
        yield tmp_path
        _publish(tmp_path, path, 0o666 & ~current_umask())
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        _remove_empty(created)
        raise
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_paths(paths: list[Path]) -> Iterator[list[Path]]:
    """Like :func:`atomic_path` for several files at once: all appear, or none.

    Yields one temporary path per target; only when the body finishes are they all renamed
    into place, so an error writing the last file leaves none of them behind (nor the folders
    made for them).
    """
    temporaries: list[Path] = []
    created: list[Path] = []
    cleaned: set[Path] = set()
    try:
        for path in map(Path, paths):
            created.extend(_make_folders(path.parent))
            if path.parent not in cleaned:
                clean_stale(path.parent)
                cleaned.add(path.parent)
            temporaries.append(_temporary(path))
        yield temporaries
        mode = 0o666 & ~current_umask()
        for tmp, path in zip(temporaries, paths, strict=True):
            _publish(tmp, Path(path), mode)
    except BaseException:
        for tmp in temporaries:
            tmp.unlink(missing_ok=True)
        # Deepest first, so a parent is tried only after the folders inside it.
        _remove_empty(sorted(created, key=lambda f: len(f.parts), reverse=True))
        raise
    finally:
        for tmp in temporaries:
            tmp.unlink(missing_ok=True)


def staging_folder(parent: str | os.PathLike[str], name: str) -> Path:
    """A new, empty folder in ``parent`` to build ``parent/name`` in, then rename into place.

    Its permissions follow the umask (``0755`` under ``022``) and its name marks it as
    sonotype's, so :func:`clean_stale` removes it if its writer is killed.
    """
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    clean_stale(parent)
    folder = Path(tempfile.mkdtemp(prefix=_prefix(name), dir=parent))
    os.chmod(folder, 0o777 & ~current_umask())
    return folder


def replace_folder(new: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Rename folder ``new`` to ``target``, replacing a folder there.

    The old folder is first renamed aside under a temporary name and deleted last, so a kill
    at any moment leaves ``target`` whole (old or new) or absent, never half-deleted; what
    is left aside is removed by :func:`clean_stale`.
    """
    new, target = Path(new), Path(target)
    if not target.exists():
        new.rename(target)
        return
    aside = target.parent / f"{_prefix(target.name)}old"
    target.rename(aside)
    new.rename(target)
    shutil.rmtree(aside)


def is_stale(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a temporary file or staging folder of a sonotype process of this
    host that no longer runs (killed before it could clean up)."""
    match = _LEFTOVER.match(Path(path).name)
    if match is None or match["host"] != _host_tag():
        return False
    pid = int(match["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but belongs to someone else
        return False
    return False


def clean_stale(folder: str | os.PathLike[str], *, recursive: bool = False) -> list[Path]:
    """Remove the stale temporaries and staging folders (:func:`is_stale`) in ``folder``.

    Only names sonotype gives its own temporaries are considered, and only those whose
    writer, on this host, has exited; a file of a running process, of another host or of
    anyone else is never touched. Returns what was removed.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(".") and is_stale(entry.path):
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
        elif recursive and entry.is_dir(follow_symlinks=False):
            removed.extend(clean_stale(entry.path, recursive=True))
    return removed
