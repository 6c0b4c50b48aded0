"""The project database, ``sonotype.db``: SQLite in WAL mode, schema and transactions.

WAL mode with ``synchronous=FULL`` makes every committed transaction durable the moment
``COMMIT`` returns, and a process killed at any instant leaves the database as of its last
commit: SQLite's journal guarantees it, and a test kills a writer mid-import to check.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sonotype.errors import SonotypeError

DB_NAME = "sonotype.db"

# Each entry upgrades the schema by one version (PRAGMA user_version); never edit old entries.
MIGRATIONS = (
    """
    CREATE TABLE recordings (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,          -- relative to its audio root, '/' separated
        root TEXT NOT NULL,                 -- the audio root as written in sonotype.toml
        size INTEGER,
        mtime REAL,
        content_hash TEXT,                  -- blake2b of the first scan.hash_bytes bytes
        sr INTEGER,
        channels INTEGER,
        frames INTEGER,
        duration_s REAL,
        format TEXT,
        status TEXT NOT NULL CHECK (status IN ('ok', 'missing', 'unreadable')),
        error TEXT,
        scanned_at TEXT NOT NULL
    );
    CREATE TABLE edits (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        command TEXT NOT NULL,
        description TEXT NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        recording TEXT NOT NULL,
        start_s REAL NOT NULL,
        stop_s REAL NOT NULL CHECK (stop_s >= start_s),
        label TEXT NOT NULL,
        kind TEXT NOT NULL,
        channel INTEGER NOT NULL,
        source TEXT NOT NULL,
        low_hz REAL,
        high_hz REAL,
        score REAL,
        extra TEXT,                         -- JSON object of the label:* columns
        edit_id INTEGER NOT NULL REFERENCES edits(id)
    );
    CREATE INDEX events_by_recording ON events (recording, start_s);
    CREATE INDEX events_by_kind ON events (kind, source, label);
    CREATE INDEX events_by_edit ON events (edit_id);
    CREATE TABLE edit_rows (                -- events as they were before an edit removed or
        edit_id INTEGER NOT NULL REFERENCES edits(id),   -- changed them, for undo
        event_id INTEGER NOT NULL,
        row TEXT NOT NULL
    );
    CREATE INDEX edit_rows_by_edit ON edit_rows (edit_id);
    CREATE TABLE artifacts (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,                 -- relative to the project folder
        size INTEGER NOT NULL,
        params TEXT NOT NULL,               -- JSON
        inputs TEXT NOT NULL,               -- JSON
        code_version TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        config TEXT NOT NULL,               -- JSON: the resolved parameters of the run
        sonotype_version TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
        error TEXT
    );
    """,
    # 2: runs gain a name, where they ran (for retry and cancel), the statuses of batches,
    # and one row per stage execution or per item of a batch (computed, cached or failed).
    """
    CREATE TABLE runs_v2 (
        id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        name TEXT,                          -- the run's name: discover --name, detect --source
        config TEXT NOT NULL,               -- JSON: the resolved parameters of the run
        argv TEXT,                          -- JSON list: the command line, for `sonotype retry`
        cwd TEXT,                           -- the folder it was run from
        host TEXT,
        pid INTEGER,
        sonotype_version TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL CHECK (status IN
            ('running', 'ok', 'partial', 'failed', 'cancelled', 'killed')),
        error TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO runs_v2 (id, command, config, sonotype_version, started_at, finished_at,
                         status, error)
        SELECT id, command, config, sonotype_version, started_at, finished_at, status, error
        FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_v2 RENAME TO runs;
    CREATE TABLE run_steps (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        stage TEXT NOT NULL,
        item TEXT NOT NULL,                 -- the recording (or other item) of a batch; '' else
        key TEXT NOT NULL,                  -- the artifact key of its output
        status TEXT NOT NULL CHECK (status IN ('computed', 'cached', 'failed')),
        error TEXT,
        seconds REAL,
        finished_at TEXT NOT NULL
    );
    CREATE INDEX run_steps_by_run ON run_steps (run_id, stage, item);
    """,
    # 3: the events' kind index without the label (issue 13). Building (kind, source, label)
    # over a million new events took 1.9 s of CPU, (kind, source) 0.37 s, and the queries
    # that filter on a label too took 0.13 s instead of 0.09 s (benchmarks/events_io.py's
    # events; docs/project.md).
    """
    DROP INDEX events_by_kind;
    CREATE INDEX events_by_kind ON events (kind, source);
    """,
    # 4: redo. An undone edit keeps the events it had made while it may be redone;
    # ``newest_edit`` is the newest edit when it was undone, so any edit made since (by
    # whatever code) ends the redo history.
    """
    CREATE TABLE redo_edits (
        edit_id INTEGER PRIMARY KEY REFERENCES edits(id),
        undone_order INTEGER NOT NULL,      -- larger: undone later, so redone first
        newest_edit INTEGER NOT NULL
    );
    CREATE TABLE redo_rows (                -- events an undone edit had made, as it left them:
        id INTEGER NOT NULL,                -- the columns of events, copied by SQLite exactly
        recording TEXT NOT NULL,
        start_s REAL NOT NULL,
        stop_s REAL NOT NULL,
        label TEXT NOT NULL,
        kind TEXT NOT NULL,
        channel INTEGER NOT NULL,
        source TEXT NOT NULL,
        low_hz REAL,
        high_hz REAL,
        score REAL,
        extra TEXT,
        edit_id INTEGER NOT NULL REFERENCES edits(id)
    );
    CREATE INDEX redo_rows_by_edit ON redo_rows (edit_id);
    """,
)

#: The indexes of the events table, by name, as the migrations make them: a large insert
#: drops and remakes them (:func:`sonotype.store.event_store.add_events`); a test checks
#: that these statements are the schema's.
EVENT_INDEXES = {
    "events_by_recording": "CREATE INDEX events_by_recording ON events (recording, start_s)",
    "events_by_kind": "CREATE INDEX events_by_kind ON events (kind, source)",
    "events_by_edit": "CREATE INDEX events_by_edit ON events (edit_id)",
}


#: Page size of a new project database, in bytes.
PAGE_SIZE = 16384


class DatabaseError(SonotypeError):
    """The project database cannot be opened or is damaged."""


class Database:
    """A connection to ``sonotype.db`` with the schema brought up to date.

    Use :meth:`transaction` for every write: it commits all or nothing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.connection = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            self.connection.row_factory = sqlite3.Row
            # A new database gets 16 KiB pages (an existing one keeps its own): a quarter of
            # the pages to write and link for a large import, which cuts a million events'
            # insert, indexing and commit by about 0.4 s of CPU (docs/project.md).
            self.connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            self.connection.execute("PRAGMA journal_mode = WAL")
            self.connection.execute("PRAGMA synchronous = FULL")
            self.connection.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise DatabaseError(
                f"{path}: cannot be opened as a sonotype database ({error}); if it is damaged, "
                "restore it from a backup (the events are also in your annotation files)"
            ) from error

    def close(self) -> None:
        self.connection.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` if the body raises."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def execute(self, sql: str, parameters=()) -> sqlite3.Cursor:
        return self.connection.execute(sql, parameters)

    def integrity_check(self) -> str:
        return self.connection.execute("PRAGMA integrity_check").fetchone()[0]

    @property
    def schema_version(self) -> int:
        return self.connection.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise DatabaseError(
                f"{self.path}: schema version {version} is newer than this sonotype "
                f"understands ({len(MIGRATIONS)}); upgrade sonotype"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction() as db:
                for statement in _statements(script):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")


def _statements(script: str) -> list[str]:
    """The statements of a migration script (no statement holds a ';' inside a literal)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
