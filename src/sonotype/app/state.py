"""What the server keeps between requests: the project (one connection per thread), caches
of spectrogram images and scatter coordinates, and the jobs it started."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sonotype.store.project import Project


class ByteCache:
    """A least-recently-used cache of byte strings, bounded by their total size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Any, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key, value: bytes) -> None:
        with self._lock:
            if key in self._items:
                self._size -= len(self._items.pop(key))
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)


@dataclass
class AppState:
    """The server's state.

    SQLite connections belong to the thread that opened them, and the server answers requests
    from a pool of threads, so each thread opens the project once and keeps it.
    """

    folder: Path
    token: str | None = None
    #: Host names a request may address when there is no token (against DNS rebinding).
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")
    images: ByteCache = field(default_factory=lambda: ByteCache(256 * 2**20))
    scatters: dict = field(default_factory=dict)
    #: Set -> (edit-log state, its colouring columns): see ``api.explore.columns_for``.
    columns: dict = field(default_factory=dict)
    jobs: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Set when the server is asked to stop: change streams end.
    stopping: bool = False
    _local: threading.local = field(default_factory=threading.local)
    _opened: list = field(default_factory=list)

    @property
    def project(self) -> Project:
        """This thread's open project."""
        project = getattr(self._local, "project", None)
        if project is None:
            project = Project(self.folder)
            self._local.project = project
            with self.lock:
                self._opened.append(project)
        return project

    def close(self) -> None:
        with self.lock:
            for project in self._opened:
                # A connection may only be closed from its own thread; the others close
                # when their threads end.
                with contextlib.suppress(sqlite3.ProgrammingError):
                    project.close()
            self._opened.clear()
