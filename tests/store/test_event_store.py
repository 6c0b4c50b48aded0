"""The event store keeps every value exactly, whatever the table's size (issue 13's fast path)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import make_events
from sonotype.annotations.events import OPTIONAL_COLUMNS, extra_label_columns
from sonotype.store import event_store
from sonotype.store.database import Database

from ..annotations.test_writers_golden import awkward_events


def reference_rows(events: pd.DataFrame) -> list[tuple]:
    """The rows the store held before it was vectorised: built one by one in Python."""
    extras = extra_label_columns(events)
    rows = []
    for i in range(len(events)):
        row = events.iloc[i]
        optional = []
        for name in OPTIONAL_COLUMNS:
            value = float(row[name]) if name in events else math.nan
            optional.append(None if math.isnan(value) else value)
        extra = json.dumps({k: row[k] for k in extras}) if extras else None
        rows.append(
            (
                row["recording"],
                float(row["start_s"]),
                float(row["stop_s"]),
                row["label"],
                row["kind"],
                int(row["channel"]),
                row["source"],
                *optional,
                extra,
            )
        )
    return rows


def stored_rows(db: Database) -> list[tuple]:
    columns = ", ".join(c for c in event_store._COLUMNS)
    return [tuple(r) for r in db.execute(f"SELECT {columns} FROM events ORDER BY id")]


@pytest.mark.parametrize("variant", ["all", "no_optional", "no_extras"])
def test_stored_rows_equal_the_per_row_reference(variant, tmp_path):
    events = awkward_events()
    if variant == "no_optional":
        events = events.drop(columns=list(OPTIONAL_COLUMNS))
    if variant == "no_extras":
        events = events.drop(columns=extra_label_columns(events))
    db = Database(tmp_path / "s.db")
    event_store.add_events(db, events, command="test", description="awkward")
    got = stored_rows(db)
    want = reference_rows(events)
    assert got == want
    for a, b in zip(got, want, strict=True):
        assert [type(x) for x in a] == [type(x) for x in b]


def test_query_returns_what_was_stored(tmp_path):
    events = awkward_events()
    db = Database(tmp_path / "s.db")
    event_store.add_events(db, events, command="test", description="awkward")
    back = event_store.query_events(db)
    order = events.sort_values(["recording", "channel", "start_s"], kind="stable")
    pd.testing.assert_frame_equal(back, order.reset_index(drop=True))


def test_progress_counts_every_event_in_batches(tmp_path, rng):
    n = 45_000
    start = np.sort(rng.uniform(0, 100, n))
    events = make_events("r.wav", start, start + 0.01, "a")
    db = Database(tmp_path / "s.db")
    seen = []
    event_store.add_events(db, events, command="t", description="d", progress=seen.append)
    assert seen[-1] == n and seen == sorted(seen) and len(seen) >= 2
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == n


def test_replace_and_undo_restore_the_replaced_events_exactly(tmp_path):
    events = awkward_events()
    db = Database(tmp_path / "s.db")
    event_store.add_events(db, events, command="first", description="d")
    before = [tuple(r) for r in db.execute("SELECT * FROM events ORDER BY id")]
    ids = event_store.query_events(db, with_ids=True, kinds=["detected"]).index.tolist()
    new = make_events("bird1.wav", [1.0], [2.0], "new")
    event_store.add_events(db, new, command="redo", description="d", replace_ids=ids)
    assert event_store.query_events(db, kinds=["detected"]).empty
    event_store.undo(db)
    assert [tuple(r) for r in db.execute("SELECT * FROM events ORDER BY id")] == before


@pytest.mark.parametrize(
    "value", ["it's", "o''brien", "x'); DROP TABLE events; --", 'naïve "quoted"', "a\x00b"]
)
def test_a_column_with_one_value_is_stored_exactly(value, tmp_path):
    # kind, source and channel the same in every row are written into the statement as
    # literals: quotes in them must survive, and a NUL (no SQL literal holds one) is bound.
    events = make_events("r.wav", [0.0, 1.0, 2.0], [0.5, 1.5, 2.5], value, kind=value,
                         source=value, channel=3)  # fmt: skip
    db = Database(tmp_path / "s.db")
    event_store.add_events(db, events, command="t", description="d")
    assert stored_rows(db) == reference_rows(events)
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'events'").fetchone()[0] == 1


def test_a_large_insert_leaves_foreign_key_checks_on(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(event_store, "_REBUILD_MIN", 10)
    start = np.sort(rng.uniform(0, 100, 50))
    db = Database(tmp_path / "s.db")
    event_store.add_events(db, make_events("r.wav", start, start + 0.01, "a"), command="t",
                           description="d")  # fmt: skip
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(Exception, match="FOREIGN KEY"):
        db.execute(
            "INSERT INTO events (recording, start_s, stop_s, label, kind, channel, source, "
            "edit_id) VALUES ('r', 0, 1, 'a', 'k', 0, 's', 999)"
        )
