"""Events in the project database, with an edit log so that edits can be undone.

Every change is one *edit*: a row of ``edits`` naming the command, made in one transaction.
Events an edit inserts carry its id; events it deletes or changes are copied, as they were,
into ``edit_rows``. Undoing an edit deletes what it inserted and restores what it removed or
changed, so undoing edits newest first rewinds the annotations exactly.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from sonotype.annotations.events import (
    EXTRA_LABEL_PREFIX,
    OPTIONAL_COLUMNS,
    empty_events,
    extra_label_columns,
    is_canonical,
    validate_events,
)
from sonotype.errors import ParameterError, SonotypeError
from sonotype.store.database import EVENT_INDEXES, Database

_COLUMNS = (
    "recording", "start_s", "stop_s", "label", "kind", "channel", "source",
    "low_hz", "high_hz", "score", "extra",
)  # fmt: skip
# Rows fetched from SQLite at a time, as Python objects until they become columns: 20,000
# read a million events in less CPU than 100,000 (measured: 4.0 s against 4.4-5.6 s), and
# hold less memory.
_FETCH_CHUNK = 20_000
# The order of query_events and iter_events: by recording, then in time.
_ORDER = " ORDER BY recording, channel, start_s, id"


@dataclass(frozen=True)
class Edit:
    """One entry of the edit log."""

    id: int
    at: str
    command: str
    description: str
    undone: bool


def add_events(
    db: Database,
    events: pd.DataFrame,
    *,
    command: str,
    description: str,
    replace_ids: Sequence[int] = (),
    progress: Callable[[int], None] | None = None,
    validated: bool = False,
) -> Edit:
    """Insert ``events`` (an Events table) as one edit, deleting the events ``replace_ids``
    in the same edit (so one undo restores them); return the edit.

    ``progress`` is called with the number of events inserted so far, every few thousand.
    ``validated`` says that ``events`` is already the canonical table
    :func:`~sonotype.annotations.validate_events` returns (a reader's, or a concatenation
    of them), so that a million events are not checked twice.
    """
    if not validated:
        events = validate_events(events, where="events to store")
    return add_event_tables(
        db,
        [events],
        command=command,
        description=description,
        replace_ids=replace_ids,
        progress=progress,
    )


def add_event_tables(
    db: Database,
    tables: Iterable[pd.DataFrame],
    *,
    command: str,
    description: str | Callable[[int], str],
    replace_ids: Sequence[int] = (),
    progress: Callable[[int], None] | None = None,
) -> Edit:
    """Insert a stream of canonical Events tables (as :func:`validate_events` returns them,
    e.g. one per annotation file) as one edit; return the edit.

    The tables are taken one at a time, so memory holds one table and one batch of rows
    whatever the stream's total. Everything is one transaction: an exception raised while
    the stream makes a table (a file that fails to read) stores nothing. ``description`` may
    be a function of the number of events inserted, for a stream whose size is not known
    until its end. ``progress`` is called with the number of events inserted so far.
    """
    with _no_foreign_keys(db), db.transaction() as con, _large_cache(con):
        edit = _new_edit(con, command, description if isinstance(description, str) else "")
        _delete(con, edit, [int(i) for i in replace_ids])
        inserter = _Inserter(con, edit.id, progress)
        for table in tables:
            # Readers return canonical tables; anything else is checked as add_events does.
            if not is_canonical(table):
                table = validate_events(table, where="events to store")
            inserter.insert(table)
        inserter.finish()
        if not isinstance(description, str):
            edit = replace(edit, description=description(inserter.done))
            con.execute(
                "UPDATE edits SET description = ? WHERE id = ?", (edit.description, edit.id)
            )
    return edit


class _Inserter:
    """Inserts tables of events for one edit, keeping count, and drops the event indexes
    (to make them again at the end) once the insert has grown large enough that sorting
    the keys once costs less than updating three B-trees row by row."""

    def __init__(self, con, edit_id: int, progress: Callable[[int], None] | None) -> None:
        self.con, self.edit_id, self.progress = con, int(edit_id), progress
        (self.n_old,) = con.execute("SELECT count(*) FROM events").fetchone()
        self.done = 0
        self.indexes_dropped = False

    def insert(self, events: pd.DataFrame) -> None:
        if not len(events):
            return
        # Decided before each table, from the rows known so far: a stream of small files
        # drops the indexes once it has grown past the threshold, as one large file does.
        n_new = self.done + len(events)
        if not self.indexes_dropped and n_new >= _REBUILD_MIN and n_new >= self.n_old:
            for name in EVENT_INDEXES:
                self.con.execute(f"DROP INDEX {name}")
            self.indexes_dropped = True
        columns = _bound_columns(events)
        # The edit's id is an integer SQLite gave: written into the statement, it is not
        # bound a million times; nor is a column every event gives the same value (a file's
        # kind, source or channel); columns no event fills are left to their default, NULL.
        constant = _constant_columns(events, columns)
        columns = [c for c in columns if c not in constant]
        sql = (
            f"INSERT INTO events ({', '.join([*columns, *constant])}, edit_id) "
            f"VALUES ({', '.join(['?'] * len(columns) + list(constant.values()))}, "
            f"{self.edit_id})"
        )
        for done, batch in _batches(events, columns):
            self.con.executemany(sql, batch)
            if self.progress:
                self.progress(self.done + done)
        self.done += len(events)

    def finish(self) -> None:
        if self.indexes_dropped:
            for statement in EVENT_INDEXES.values():
                self.con.execute(statement)


# Events inserted between progress reports (a fraction of a second of work); the columns
# of one batch are built as Python objects at once, so this also bounds that memory.
_INSERT_BATCH = 20_000
# SQLite's page cache for a large insert, in KiB: the default 2 MB holds a small part of the
# three indexes of a million-event table.
_INSERT_CACHE_KIB = 256_000
# An insert of at least this many events, and at least as many as the table holds already,
# drops the events' indexes and makes them again after (in the same transaction, so a crash
# or an error leaves them as they were): sorting the keys once costs less than keeping
# three B-trees up to date row by row (measured in docs/project.md).
_REBUILD_MIN = 100_000


@contextlib.contextmanager
def _no_foreign_keys(db: Database):
    """Foreign-key checks off while an insert runs, then as they were.

    The one reference an inserted event carries is its ``edit_id``, the edit the same
    transaction has just made, and nothing refers to events, so checking it a million times
    finds nothing: it costs 0.15 s of CPU per million events. SQLite ignores the setting
    inside a transaction, so it is switched here, outside it.
    """
    con = db.connection
    (old,) = con.execute("PRAGMA foreign_keys").fetchone()
    con.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        con.execute(f"PRAGMA foreign_keys = {int(old)}")


@contextlib.contextmanager
def _large_cache(con):
    """A larger page cache for the connection while a big edit runs, then the old one."""
    (old,) = con.execute("PRAGMA cache_size").fetchone()
    con.execute(f"PRAGMA cache_size = -{_INSERT_CACHE_KIB}")
    try:
        yield
    finally:
        con.execute(f"PRAGMA cache_size = {int(old)}")


def delete_events(db: Database, ids: Sequence[int], *, command: str, description: str) -> Edit:
    """Delete the events with ``ids`` as one edit (undo brings them back)."""
    with db.transaction() as con:
        edit = _new_edit(con, command, description)
        _delete(con, edit, [int(i) for i in ids])
    return edit


def _delete(con, edit: Edit, ids: list[int]) -> None:
    """Delete events as part of ``edit``, keeping copies in ``edit_rows`` for undo."""
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        rows = con.execute(f"SELECT * FROM events WHERE id IN ({marks})", chunk).fetchall()
        con.executemany(
            "INSERT INTO edit_rows (edit_id, event_id, row) VALUES (?, ?, ?)",
            [(edit.id, row["id"], json.dumps(dict(row))) for row in rows],
        )
        con.execute(f"DELETE FROM events WHERE id IN ({marks})", chunk)


def query_events(
    db: Database,
    *,
    kinds: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    recordings: Sequence[str] | None = None,
    with_ids: bool = False,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """The stored events matching every filter given, as an Events table.

    Optional columns appear when any selected event has a value in them. With ``with_ids``,
    the index holds the events' database ids. ``progress`` is called with the number of
    events read so far, every 20,000.
    """
    where, parameters = _filters(kinds, labels, sources, recordings)
    sql = f"SELECT id, {', '.join(_COLUMNS)} FROM events{where}"
    # Plain tuples (not sqlite3.Row), turned into columns a chunk at a time: the Python
    # objects of one chunk, not of every event, are alive at once.
    cursor = db.connection.cursor()
    cursor.row_factory = None
    cursor.execute(sql + _ORDER, parameters)
    chunks = []
    while rows := cursor.fetchmany(_FETCH_CHUNK):
        chunks.append(_frame(rows))
        if progress:
            progress(sum(map(len, chunks)))
    cursor.close()
    if not chunks:
        return empty_events()
    return _events_table(_joined(chunks), None, where=str(db.path), with_ids=with_ids)


def event_columns(
    db: Database,
    *,
    kinds: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
) -> list[str]:
    """The optional and extra label columns :func:`query_events` would give the events that
    match the filters, known before any is read (for :func:`iter_events`)."""
    where, parameters = _filters(kinds, labels, sources, None)
    present = f"SELECT {', '.join(f'max({c} IS NOT NULL)' for c in OPTIONAL_COLUMNS)} FROM events"
    flags = db.execute(present + where, parameters).fetchone()
    optional = [name for name, flag in zip(OPTIONAL_COLUMNS, flags, strict=True) if flag]
    with_extra = (f"{where} AND" if where else " WHERE") + " extra IS NOT NULL"
    keys = db.execute(
        f"SELECT DISTINCT j.key FROM events, json_each(events.extra) AS j{with_extra}", parameters
    )
    return optional + sorted(key for (key,) in keys)


def iter_events(
    db: Database,
    *,
    columns: Sequence[str],
    kinds: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    chunk_rows: int = _FETCH_CHUNK,
) -> Iterator[pd.DataFrame]:
    """The events :func:`query_events` gives, in the same order, as Events tables of at most
    ``chunk_rows`` events: memory holds one of them however many are selected. Each has the
    optional and extra label columns ``columns`` names (from :func:`event_columns`), so
    the tables join into the one ``query_events`` gives."""
    where, parameters = _filters(kinds, labels, sources, None)
    cursor = db.connection.cursor()
    cursor.row_factory = None
    try:
        cursor.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM events{where}{_ORDER}", parameters)
        frames, held = [], 0
        while rows := cursor.fetchmany(min(chunk_rows - held, _FETCH_CHUNK)):
            frames.append(_frame(rows))
            held += len(rows)
            if held >= chunk_rows:
                yield _events_table(_joined(frames), columns, where=str(db.path))
                frames, held = [], 0
        if frames:
            yield _events_table(_joined(frames), columns, where=str(db.path))
    finally:
        cursor.close()


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _events_table(
    frame: pd.DataFrame, columns: Sequence[str] | None, *, where: str, with_ids: bool = False
) -> pd.DataFrame:
    """Fetched rows (:func:`_frame`) as an Events table with the optional and extra label
    columns ``columns`` names, or, when None, those in which any row has a value."""
    extras = frame.pop("extra")
    has_extras = extras.notna().to_numpy()
    parsed = [json.loads(e) for e in extras[has_extras]] if has_extras.any() else []
    found_keys = {k for e in parsed for k in e}
    if columns is None:
        optional = [name for name in OPTIONAL_COLUMNS if frame[name].notna().any()]
        keys = sorted(found_keys)
    else:
        optional = [name for name in OPTIONAL_COLUMNS if name in columns]
        keys = [name for name in columns if name not in OPTIONAL_COLUMNS]
        with_values = {name for name in OPTIONAL_COLUMNS if frame[name].notna().any()}
        if unexpected := (with_values - set(optional)) | (found_keys - set(keys)):
            # Stored since the columns were listed: written without them they would be lost.
            raise SonotypeError(
                f"events gained values in {', '.join(sorted(unexpected))} while being read "
                "(another command is changing them); run this again when it is done"
            )
    frame = frame.drop(columns=[name for name in OPTIONAL_COLUMNS if name not in optional])
    for key in keys:
        column = np.full(len(frame), "", dtype=object)
        if parsed:
            column[has_extras] = [e.get(key, "") for e in parsed]
        frame[key] = column
    ids = frame.pop("id").to_numpy()
    events = validate_events(frame, where=where)
    if with_ids:
        events.index = pd.Index(ids, name="id")
    return events


def count_by_recording(
    db: Database,
    *,
    kinds: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
) -> dict[str, int]:
    """How many stored events match the filters in each recording, by recording name."""
    where, parameters = _filters(kinds, labels, sources, None)
    sql = f"SELECT recording, count(*) FROM events{where} GROUP BY recording ORDER BY recording"
    return {name: int(n) for name, n in db.execute(sql, parameters)}


def _filters(kinds, labels, sources, recordings) -> tuple[str, list]:
    """The ``WHERE`` clause (with a leading space, or empty) and parameters of the filters."""
    where, parameters = [], []
    for column, values in (
        ("kind", kinds),
        ("label", labels),
        ("source", sources),
        ("recording", recordings),
    ):
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            parameters.extend(values)
    return (" WHERE " + " AND ".join(where) if where else ""), parameters


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Fetched rows (``id`` then ``_COLUMNS``) as columns with their Events dtypes."""
    columns = list(zip(*rows, strict=True))
    names = ["id", *_COLUMNS]
    table = {}
    for name, values in zip(names, columns, strict=True):
        if name in ("id", "channel"):
            table[name] = np.array(values, dtype=np.int64)
        elif name in ("start_s", "stop_s", *OPTIONAL_COLUMNS):
            # NULL (None) becomes NaN.
            table[name] = np.array(values, dtype=np.float64)
        else:
            table[name] = pd.Series(values, dtype=object if name == "extra" else "str")
    return pd.DataFrame(table)


def undo(db: Database, n: int = 1) -> list[Edit]:
    """Undo the ``n`` most recent edits not yet undone, newest first; return them.

    Nothing is undone (and an empty list returned) when no edit is left to undo; asking for
    more edits than are left is an error that says how many are, rather than undoing fewer
    than asked.
    """
    if n < 1:
        raise ParameterError(f"N={n}: the number of edits to undo must be at least 1")
    with db.transaction() as con:
        rows = con.execute(
            "SELECT * FROM edits WHERE undone = 0 ORDER BY id DESC LIMIT ?", (n,)
        ).fetchall()
        if rows and len(rows) < n:
            left = "only 1 edit is" if len(rows) == 1 else f"only {len(rows)} edits are"
            raise ParameterError(
                f"cannot undo {n} edits: {left} left to undo; run `sonotype undo {len(rows)}` "
                "to undo them all"
            )
        for row in rows:
            _keep_for_redo(con, row["id"])
            con.execute("DELETE FROM events WHERE edit_id = ?", (row["id"],))
            restored = con.execute(
                "SELECT row FROM edit_rows WHERE edit_id = ?", (row["id"],)
            ).fetchall()
            for (saved,) in restored:
                event = json.loads(saved)
                columns = ", ".join(event)
                con.execute(
                    f"INSERT OR REPLACE INTO events ({columns}) "
                    f"VALUES ({', '.join('?' * len(event))})",
                    tuple(event.values()),
                )
            con.execute("UPDATE edits SET undone = 1 WHERE id = ?", (row["id"],))
    return [_edit(row, undone=True) for row in rows]


def edit_log(db: Database, *, limit: int = 20) -> list[Edit]:
    """The most recent edits, newest first."""
    rows = db.execute("SELECT * FROM edits ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [_edit(row) for row in rows]


def _new_edit(con, command: str, description: str) -> Edit:
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    cursor = con.execute(
        "INSERT INTO edits (at, command, description) VALUES (?, ?, ?)",
        (at, command, description),
    )
    return Edit(cursor.lastrowid, at, command, description, False)


def _edit(row, *, undone: bool | None = None) -> Edit:
    return Edit(
        row["id"],
        row["at"],
        row["command"],
        row["description"],
        bool(row["undone"]) if undone is None else undone,
    )


def _bound_columns(events: pd.DataFrame) -> list[str]:
    """The columns of ``_COLUMNS`` an insert of ``events`` binds: the required ones, the
    optional ones some event fills, and ``extra`` when there are extra labels."""
    required = [c for c in _COLUMNS if c not in OPTIONAL_COLUMNS and c != "extra"]
    optional = [c for c in OPTIONAL_COLUMNS if c in events and events[c].notna().any()]
    return required + optional + (["extra"] if extra_label_columns(events) else [])


def _constant_columns(events: pd.DataFrame, columns: Sequence[str]) -> dict[str, str]:
    """The required text and channel columns of ``events`` that hold one value in every
    row, as SQL literals (a string quoted as SQL quotes it, ``'it''s'``): binding them a
    million times costs a fifth of the insert."""
    if not len(events):
        return {}
    constant = {}
    for name in columns:
        if name in OPTIONAL_COLUMNS or name == "extra" or name in ("start_s", "stop_s"):
            continue
        column = events[name]
        first = column.iloc[0]
        if not (column == first).all():
            continue
        if name == "channel":
            constant[name] = str(int(first))
        elif isinstance(first, str) and "\x00" not in first:
            constant[name] = "'" + first.replace("'", "''") + "'"
    return constant


def _batches(events: pd.DataFrame, columns: Sequence[str]):
    """``(events done, rows)`` per batch of ``_INSERT_BATCH``: rows as tuples of
    ``columns`` (NaN as NULL, extra labels as one JSON object).

    The columns are converted whole (numpy to Python objects in C); only the extra labels'
    JSON is made per row, and only when there are extra labels.
    """
    extras = extra_label_columns(events)
    # Text columns repeat a few values (recordings, labels, kinds): each is factorised once,
    # so a batch takes its Python strings from the distinct values (shared objects, made
    # once) rather than converting a million strings out of the column's storage.
    text = {
        name: pd.factorize(events[name], use_na_sentinel=False)
        for name in columns
        if name not in OPTIONAL_COLUMNS and name != "extra" and events[name].dtype == "str"
    }
    text = {
        name: (codes, np.asarray(uniques, dtype=object)) for name, (codes, uniques) in text.items()
    }
    for start in range(0, len(events), _INSERT_BATCH):
        batch = events.iloc[start : start + _INSERT_BATCH]
        values = []
        for name in columns:
            if name == "extra":
                values.append(
                    [
                        json.dumps(dict(zip(extras, row, strict=True)))
                        for row in zip(*(batch[c].tolist() for c in extras), strict=True)
                    ]
                )
            elif name in OPTIONAL_COLUMNS:
                values.append(_nullable(batch[name].to_numpy()))
            elif name in text:
                codes, uniques = text[name]
                values.append(uniques[codes[start : start + len(batch)]].tolist())
            else:
                values.append(batch[name].tolist())
        yield start + len(batch), zip(*values, strict=True)


def _nullable(values: np.ndarray) -> list:
    """Floats as Python floats, NaN as None (SQL NULL)."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out.tolist()


def _chunks(items: list[int], size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- changing events in place, and redo ------------------------------------------------------

#: Columns :func:`update_events` may change (and any ``label:*`` column).
UPDATABLE = ("recording", "start_s", "stop_s", "label", "kind", "channel", "source",
             *OPTIONAL_COLUMNS)  # fmt: skip


def update_events(
    db: Database,
    ids: Sequence[int],
    changes: Mapping[str, Any],
    *,
    command: str,
    description: str,
) -> Edit:
    """Change the events ``ids`` in place, keeping their ids, as one edit; return it.

    ``changes`` maps a column (one of :data:`UPDATABLE`, or a ``label:*`` column; an empty
    string removes a ``label:*`` value) to one value for every event, or to a sequence of one
    value per id, in the order of ``ids``. The changed events are checked as any Events table
    is. Undo restores them as they were, with the same ids.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sonotype.annotations.events import make_events
    >>> db = Database(pathlib.Path(tempfile.mkdtemp()) / "s.db")
    >>> _ = add_events(db, make_events("a.wav", [0.0], [1.0], ["x"]), command="t", description="t")
    >>> edit = update_events(db, [1], {"label": "y"}, command="relabel", description="x -> y")
    >>> query_events(db)["label"].tolist()
    ['y']
    >>> _ = undo(db); query_events(db)["label"].tolist()
    ['x']
    """
    ids = [int(i) for i in ids]
    if not ids:
        raise ParameterError("ids=[]: give the ids of the events to change", parameter="ids")
    if len(set(ids)) != len(ids):
        raise ParameterError("ids: an event id is given twice; give each once", parameter="ids")
    if not changes:
        raise ParameterError("changes={}: name a column to change, e.g. {'label': 'a'}")
    values = {}
    for column, value in changes.items():
        if column not in UPDATABLE and not column.startswith(EXTRA_LABEL_PREFIX):
            raise ParameterError(
                f"changes: column {column!r} cannot be changed; the columns are "
                f"{', '.join(UPDATABLE)} and label:* columns",
                parameter="changes",
            )
        if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
            if len(value) != len(ids):
                raise ParameterError(
                    f"changes[{column!r}]: {len(value)} values for {len(ids)} events; give "
                    "one value, or one per event",
                    parameter="changes",
                )
            values[column] = list(value)
        else:
            values[column] = [value] * len(ids)
    with db.transaction() as con:
        rows = {}
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            for row in con.execute(f"SELECT * FROM events WHERE id IN ({marks})", chunk):
                rows[row["id"]] = dict(row)
        missing = [i for i in ids if i not in rows]
        if missing:
            raise ParameterError(
                f"ids: no stored event has id {', '.join(map(str, missing[:5]))}"
                + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else "")
                + "; they may have been deleted or undone: reload the events",
                parameter="ids",
            )
        new = [_changed(rows[i], {c: v[k] for c, v in values.items()}) for k, i in enumerate(ids)]
        _check_rows(new, where="the changed events")
        edit = _new_edit(con, command, description)
        con.executemany(
            "INSERT INTO edit_rows (edit_id, event_id, row) VALUES (?, ?, ?)",
            [(edit.id, i, json.dumps(rows[i])) for i in ids],
        )
        assignments = ", ".join(f"{c} = ?" for c in (*_COLUMNS, "edit_id"))
        con.executemany(
            f"UPDATE events SET {assignments} WHERE id = ?",
            [(*(row[c] for c in _COLUMNS), edit.id, row["id"]) for row in new],
        )
    return edit


def _changed(row: dict, changes: Mapping[str, Any]) -> dict:
    """A stored row (as ``SELECT *`` gives it) with ``changes`` applied."""
    row = dict(row)
    extra = json.loads(row["extra"]) if row["extra"] else {}
    for column, value in changes.items():
        if column.startswith(EXTRA_LABEL_PREFIX):
            if value is None or value == "":
                extra.pop(column, None)
            else:
                extra[column] = str(value)
        elif column in OPTIONAL_COLUMNS:
            row[column] = None if value is None or np.isnan(float(value)) else float(value)
        else:
            row[column] = value
    row["extra"] = json.dumps(extra) if extra else None
    return row


def _check_rows(rows: list[dict], *, where: str) -> None:
    """Check changed rows against the Events schema; fix their types in place."""
    table = pd.DataFrame(
        {
            c: [row[c] for row in rows]
            for c in ("recording", "start_s", "stop_s", "label", "kind", "channel", "source")
        }
    )
    checked = validate_events(table, where=where)
    for row, (start, stop, channel) in zip(
        rows, checked[["start_s", "stop_s", "channel"]].itertuples(index=False), strict=True
    ):
        row["start_s"], row["stop_s"], row["channel"] = float(start), float(stop), int(channel)


def redo(db: Database, n: int = 1) -> list[Edit]:
    """Redo the ``n`` most recently undone edits, the last undone first; return them.

    The rule, as in any editor: what :func:`undo` undid can be redone until a new edit is
    made; a new edit (an import, an update, a deletion, a stored result) ends the redo
    history, since it may have changed what the undone edit had touched. Nothing is redone
    (and an empty list returned) when nothing can be; asking for more than can be is an
    error that says how many can.
    """
    if n < 1:
        raise ParameterError(f"N={n}: the number of edits to redo must be at least 1")
    with db.transaction() as con:
        _forget_stale_redo(con)
        rows = con.execute(
            "SELECT edits.* FROM redo_edits JOIN edits ON edits.id = redo_edits.edit_id "
            "ORDER BY undone_order DESC LIMIT ?",
            (n,),
        ).fetchall()
        if rows and len(rows) < n:
            left = "only 1 edit" if len(rows) == 1 else f"only {len(rows)} edits"
            raise ParameterError(
                f"cannot redo {n} edits: {left} can be redone; ask for {len(rows)} to redo them all"
            )
        for row in rows:
            edit_id = row["id"]
            # What the edit removed or changed is back (undo restored it): take it out again.
            con.execute(
                "DELETE FROM events WHERE id IN (SELECT event_id FROM edit_rows WHERE edit_id = ?)",
                (edit_id,),
            )
            con.execute(
                f"INSERT OR REPLACE INTO events ({_ROW}) "
                f"SELECT {_ROW} FROM redo_rows WHERE edit_id = ?",
                (edit_id,),
            )
            con.execute("DELETE FROM redo_rows WHERE edit_id = ?", (edit_id,))
            con.execute("DELETE FROM redo_edits WHERE edit_id = ?", (edit_id,))
            con.execute("UPDATE edits SET undone = 0 WHERE id = ?", (edit_id,))
    return [_edit(row, undone=False) for row in rows]


def redoable(db: Database) -> list[Edit]:
    """The edits :func:`redo` would redo, the next one first."""
    newest = _newest_edit(db.connection)
    rows = db.execute(
        "SELECT edits.* FROM redo_edits JOIN edits ON edits.id = redo_edits.edit_id "
        "WHERE newest_edit = ? ORDER BY undone_order DESC",
        (newest,),
    ).fetchall()
    return [_edit(row) for row in rows]


# Every column of a stored event, for copies between events and redo_rows.
_ROW = ", ".join(("id", *_COLUMNS, "edit_id"))


def _keep_for_redo(con, edit_id: int) -> None:
    """Before undo takes out what edit ``edit_id`` made, keep it so redo can put it back."""
    _forget_stale_redo(con)
    (order,) = con.execute("SELECT COALESCE(MAX(undone_order), 0) + 1 FROM redo_edits").fetchone()
    con.execute(
        "INSERT OR REPLACE INTO redo_edits (edit_id, undone_order, newest_edit) VALUES (?, ?, ?)",
        (edit_id, order, _newest_edit(con)),
    )
    con.execute("DELETE FROM redo_rows WHERE edit_id = ?", (edit_id,))
    # Copied by SQLite itself, column for column: exact, and fast for a million events.
    con.execute(
        f"INSERT INTO redo_rows ({_ROW}) SELECT {_ROW} FROM events WHERE edit_id = ?", (edit_id,)
    )


def _forget_stale_redo(con) -> None:
    """Drop the redo history when an edit was made after its edits were undone."""
    newest = _newest_edit(con)
    stale = con.execute("SELECT 1 FROM redo_edits WHERE newest_edit != ? LIMIT 1", (newest,))
    if stale.fetchone():
        con.execute("DELETE FROM redo_rows")
        con.execute("DELETE FROM redo_edits")


def _newest_edit(con) -> int:
    return con.execute("SELECT COALESCE(MAX(id), 0) FROM edits").fetchone()[0]
