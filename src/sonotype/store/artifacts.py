"""Content-addressed outputs: computed once, found again by what they were computed from.

An artifact's key is a hash of its kind, its inputs (e.g. recordings' content hashes), its
parameters and the code version, so any change to one of them gives a new key and a stale
result is never reused. Files are written atomically and registered in the database only
once complete, so an interrupted run leaves nothing half-written and resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from sonotype._version import __version__
from sonotype.atomic import atomic_path
from sonotype.store.database import Database

ARTIFACTS_DIR = "artifacts"


def artifact_key(
    kind: str,
    *,
    inputs: Mapping[str, Any],
    params: Mapping[str, Any],
    code_version: str = __version__,
) -> str:
    """The content key: sha256 of the canonical JSON of everything the output depends on.

    Examples
    --------
    >>> a = artifact_key("stft", inputs={"rec": "ab12"}, params={"n_fft": 512}, code_version="1")
    >>> a == artifact_key("stft", inputs={"rec": "ab12"}, params={"n_fft": 512}, code_version="1")
    True
    >>> a == artifact_key("stft", inputs={"rec": "ab12"}, params={"n_fft": 1024}, code_version="1")
    False
    """
    canonical = json.dumps(
        {"kind": kind, "inputs": inputs, "params": params, "code": code_version},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class ArtifactCache:
    """The ``artifacts/`` folder of a project and its registry table."""

    def __init__(self, project_dir: Path, db: Database) -> None:
        self.project_dir = project_dir
        self.db = db

    def path(self, key: str) -> Path | None:
        """The file of artifact ``key``, if it was completed and still exists."""
        row = self.db.execute("SELECT path FROM artifacts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        path = self.project_dir / row["path"]
        return path if path.exists() else None

    def location(self, kind: str, key: str, suffix: str) -> Path:
        """Where artifact ``key`` of ``kind`` is written: one path per key, so a file that a
        worker finished but no one registered (its client was killed) is found again."""
        return self.project_dir / ARTIFACTS_DIR / kind / key[:2] / f"{key}{suffix}"

    def find(
        self,
        kind: str,
        key: str,
        *,
        suffix: str,
        inputs: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Path | None:
        """The file of artifact ``key``: registered, or complete at its :meth:`location`
        (files appear there only by an atomic rename) and registered now."""
        path = self.path(key)
        if path is not None:
            return path
        target = self.location(kind, key, suffix)
        if not target.exists():
            return None
        self.register(key, kind, target, inputs=inputs or {}, params=params or {})
        return target

    def register(
        self,
        key: str,
        kind: str,
        target: Path,
        *,
        inputs: Mapping[str, Any],
        params: Mapping[str, Any],
    ) -> None:
        """Record the complete file ``target`` (inside the project) as artifact ``key``."""
        with self.db.transaction() as con:
            con.execute(
                """INSERT OR REPLACE INTO artifacts
                   (key, kind, path, size, params, inputs, code_version, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    key,
                    kind,
                    target.relative_to(self.project_dir).as_posix(),
                    target.stat().st_size,
                    json.dumps(params, sort_keys=True, default=str),
                    json.dumps(inputs, sort_keys=True, default=str),
                    __version__,
                    datetime.now(timezone.utc).isoformat(timespec="seconds"),
                ),
            )

    def put_file(
        self,
        kind: str,
        *,
        inputs: Mapping[str, Any],
        params: Mapping[str, Any],
        suffix: str,
        write: Callable[[Path], None],
        key: str | None = None,
    ) -> Path:
        """Write an artifact with ``write(temporary_path)``, then register it; return its path.

        ``key`` defaults to :func:`artifact_key` of ``kind``, ``inputs`` and ``params``.
        """
        key = key or artifact_key(kind, inputs=inputs, params=params)
        target = self.location(kind, key, suffix)
        with atomic_path(target) as tmp:
            write(tmp)
        self.register(key, kind, target, inputs=inputs, params=params)
        return target

    def array(
        self,
        kind: str,
        *,
        inputs: Mapping[str, Any],
        params: Mapping[str, Any],
        compute: Callable[[], np.ndarray],
    ) -> np.ndarray:
        """The cached array for these inputs and parameters, computing and storing it if new."""
        key = artifact_key(kind, inputs=inputs, params=params)
        path = self.path(key)
        if path is not None:
            return np.load(path, allow_pickle=False)
        value = np.asarray(compute())

        def write(tmp: Path) -> None:
            buffer = io.BytesIO()
            np.save(buffer, value, allow_pickle=False)
            tmp.write_bytes(buffer.getvalue())

        self.put_file(kind, inputs=inputs, params=params, suffix=".npy", write=write)
        return value
