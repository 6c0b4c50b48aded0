"""Events in the project database, with an edit log so that edits can be undone.

Every change is one *edit*: a row of ``edits`` naming the command, made in one transaction.
Events an edit inserts carry its id; events it deletes or changes are copied, as they were,
into ``edit_rows``. Undoing an edit deletes what it inserted and restores what it removed or
changed, so undoing edits newest first rewinds the annotations exactly.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from sonotype.annotations.events import (
    OPTIONAL_COLUMNS,
    empty_events,
    extra_label_columns,
    validate_events,
)
from sonotype.errors import ParameterError
from sonotype.store.database import Database

_COLUMNS = (
    "recording", "start_s", "stop_s", "label", "kind", "channel", "source",
    "low_hz", "high_hz", "score", "extra",
)  # fmt: skip


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
) -> Edit:
    """Insert ``events`` (an Events table) as one edit, deleting the events ``replace_ids``
    in the same edit (so one undo restores them); return the edit.

    ``progress`` is called with the number of events inserted so far, every few thousand.
    """
    events = validate_events(events, where="events to store")
    sql = (
        f"INSERT INTO events ({', '.join(_COLUMNS)}, edit_id) "
        f"VALUES ({', '.join('?' * len(_COLUMNS))}, ?)"
    )
    with db.transaction() as con:
        edit = _new_edit(con, command, description)
        _delete(con, edit, [int(i) for i in replace_ids])
        rows = _rows(events)
        done = 0
        while batch := [(*row, edit.id) for row in itertools.islice(rows, _INSERT_BATCH)]:
            con.executemany(sql, batch)
            done += len(batch)
            if progress:
                progress(done)
    return edit


# Events inserted between progress reports (a fraction of a second of work).
_INSERT_BATCH = 20_000


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
) -> pd.DataFrame:
    """The stored events matching every filter given, as an Events table.

    Optional columns appear when any selected event has a value in them. With ``with_ids``,
    the index holds the events' database ids.
    """
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
    sql = f"SELECT id, {', '.join(_COLUMNS)} FROM events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = db.execute(sql + " ORDER BY recording, channel, start_s, id", parameters).fetchall()
    if not rows:
        return empty_events()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["id", *_COLUMNS])
    for name in OPTIONAL_COLUMNS:
        if frame[name].isna().all():
            frame = frame.drop(columns=name)
    extras = [json.loads(e) if isinstance(e, str) else {} for e in frame.pop("extra")]
    for key in sorted({k for e in extras for k in e}):
        frame[key] = [e.get(key, "") for e in extras]
    ids = frame.pop("id").to_numpy()
    events = validate_events(frame, where=str(db.path))
    if with_ids:
        events.index = pd.Index(ids, name="id")
    return events


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


def _rows(events: pd.DataFrame):
    """The events as tuples in ``_COLUMNS`` order (NaN as NULL, extra labels as JSON)."""
    n = len(events)
    optional = {
        name: events[name].to_numpy() if name in events else np.full(n, np.nan)
        for name in OPTIONAL_COLUMNS
    }
    extras = extra_label_columns(events)
    extra_json = (
        [json.dumps(dict(zip(extras, values, strict=True))) for values in events[extras].to_numpy()]
        if extras
        else [None] * n
    )
    for i, row in enumerate(
        zip(
            events["recording"].tolist(),
            events["start_s"].tolist(),
            events["stop_s"].tolist(),
            events["label"].tolist(),
            events["kind"].tolist(),
            events["channel"].tolist(),
            events["source"].tolist(),
            strict=True,
        )
    ):
        values = [_null(optional[name][i]) for name in OPTIONAL_COLUMNS]
        yield (*row, *values, extra_json[i])


def _null(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _chunks(items: list[int], size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]
