"""Indexing the recordings under the audio roots: new, changed, removed and unreadable."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sonotype.audio import Recording
from sonotype.errors import ParameterError, SonotypeError
from sonotype.store.database import Database

Progress = Callable[[int, int], None]


@dataclass
class ScanReport:
    """What a scan found, by recording path (relative to its audio root)."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def indexed(self) -> int:
        """Readable recordings present after the scan."""
        return len(self.new) + len(self.changed) + self.unchanged


@dataclass(frozen=True)
class _Found:
    path: str
    root: str
    file: Path
    size: int
    mtime: float


def scan_recordings(
    db: Database,
    roots: Sequence[tuple[str, Path]],
    *,
    extensions: Sequence[str],
    hash_bytes: int,
    progress: Progress | None = None,
    workers: int | None = None,
) -> ScanReport:
    """Index every audio file under ``roots`` (``(name in config, folder)`` pairs).

    A file whose size and modification time match its index entry is not read again;
    others are probed (rate, channels, duration) and hashed, several at a time. Files that
    cannot be read are indexed as ``unreadable`` with the reason; files that disappeared are
    marked ``missing`` (their events are kept). All changes are written in one transaction.
    """
    found = _walk(roots, extensions)
    known = {row["path"]: row for row in db.execute("SELECT * FROM recordings")}
    to_probe = [
        f
        for f in found.values()
        if f.path not in known
        or known[f.path]["status"] != "ok"
        or known[f.path]["size"] != f.size
        or known[f.path]["mtime"] != f.mtime
    ]
    report = ScanReport(unchanged=len(found) - len(to_probe))
    done = report.unchanged
    if progress:
        progress(done, len(found))
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = []
    with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 1) * 2)) as pool:
        for f, (info, error) in zip(
            to_probe, pool.map(lambda f: _probe(f, hash_bytes), to_probe), strict=True
        ):
            rows.append((f, info, error))
            done += 1
            if progress:
                progress(done, len(found))

    with db.transaction() as con:
        for f, info, error in rows:
            if error is not None:
                report.unreadable.append((f.path, error))
            elif f.path in known and known[f.path]["status"] == "ok":
                report.changed.append(f.path)
            else:
                report.new.append(f.path)
            con.execute(
                """INSERT INTO recordings (path, root, size, mtime, content_hash, sr, channels,
                       frames, duration_s, format, status, error, scanned_at)
                   VALUES (:path, :root, :size, :mtime, :content_hash, :sr, :channels, :frames,
                       :duration_s, :format, :status, :error, :scanned_at)
                   ON CONFLICT (path) DO UPDATE SET root = :root, size = :size, mtime = :mtime,
                       content_hash = :content_hash, sr = :sr, channels = :channels,
                       frames = :frames, duration_s = :duration_s, format = :format,
                       status = :status, error = :error, scanned_at = :scanned_at""",
                {
                    "path": f.path,
                    "root": f.root,
                    "size": f.size,
                    "mtime": f.mtime,
                    "status": "unreadable" if error else "ok",
                    "error": error,
                    "scanned_at": now,
                    **(info or dict.fromkeys(_INFO_KEYS)),
                },
            )
        for path, row in known.items():
            if path not in found and row["status"] != "missing":
                report.removed.append(path)
                con.execute(
                    "UPDATE recordings SET status = 'missing', scanned_at = ? WHERE path = ?",
                    (now, path),
                )
    return report


_INFO_KEYS = ("content_hash", "sr", "channels", "frames", "duration_s", "format")


def content_hash(file: Path, hash_bytes: int) -> str:
    """blake2b of the file's size and first ``hash_bytes`` bytes (header and first block)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(file.stat().st_size).encode())
    with open(file, "rb") as f:
        digest.update(f.read(hash_bytes))
    return digest.hexdigest()


def _probe(f: _Found, hash_bytes: int) -> tuple[dict | None, str | None]:
    try:
        rec = Recording(f.file)
        info = {
            "content_hash": content_hash(f.file, hash_bytes),
            "sr": rec.sr,
            "channels": rec.channels,
            "frames": rec.frames,
            "duration_s": rec.duration_s,
            "format": f"{rec.format} {rec.subtype}",
        }
    except (SonotypeError, OSError) as error:
        return None, getattr(error, "problem", str(error))
    return info, None


def _walk(roots: Sequence[tuple[str, Path]], extensions: Sequence[str]) -> dict[str, _Found]:
    wanted = {e.lower() for e in extensions}
    found: dict[str, _Found] = {}
    for name, folder in roots:
        if not folder.is_dir():
            raise ParameterError(
                f"audio root {name!r} ({folder}) is not a folder; fix [audio] roots in "
                "sonotype.toml"
            )
        for file in sorted(folder.rglob("*")):
            if file.suffix.lower() not in wanted or file.name.startswith(".") or not file.is_file():
                continue
            path = file.relative_to(folder).as_posix()
            if path in found:
                raise ParameterError(
                    f"{path!r} is under two audio roots ({found[path].root!r} and {name!r}); "
                    "recordings are named by their path inside their root, so the roots must "
                    "not hold files of the same relative path"
                )
            stat = file.stat()
            found[path] = _Found(path, name, file, stat.st_size, stat.st_mtime)
    return found
