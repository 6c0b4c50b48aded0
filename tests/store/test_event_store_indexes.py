"""Large inserts rebuild the events' indexes in the same transaction (issue 13): the schema,
the stored rows and undo are the same as when the indexes are kept up to date row by row."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.store import event_store
from sonotype.store.database import EVENT_INDEXES, Database

from ..annotations.test_writers_golden import awkward_events


def indexes(db: Database) -> dict[str, str]:
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
    )
    return {name: sql for name, sql in rows}


def test_the_index_statements_are_the_schemas(tmp_path):
    assert indexes(Database(tmp_path / "s.db")) == EVENT_INDEXES


def many(rng, n, recording="r.wav"):
    start = np.sort(rng.uniform(0, 1000, n))
    labels = np.array(["a", "b", "c"])[rng.integers(0, 3, n)]
    return make_events(recording, start, start + 0.01, labels, score=rng.random(n))


@pytest.mark.parametrize("rebuild_min", [1, 10**9])
def test_rows_indexes_and_undo_are_the_same_with_or_without_a_rebuild(
    tmp_path, rng, monkeypatch, rebuild_min
):
    monkeypatch.setattr(event_store, "_REBUILD_MIN", rebuild_min)
    monkeypatch.setattr(event_store, "_INSERT_BATCH", 7)
    db = Database(tmp_path / "s.db")
    first = many(rng, 50)
    event_store.add_events(db, first, command="t", description="first")
    ids = event_store.query_events(db, with_ids=True, labels=["a"]).index.tolist()
    before = [tuple(r) for r in db.execute("SELECT * FROM events ORDER BY id")]
    event_store.add_events(
        db, many(rng, 60, "s.wav"), command="t", description="d", replace_ids=ids
    )
    assert indexes(db) == EVENT_INDEXES
    assert db.integrity_check() == "ok"
    assert len(event_store.query_events(db)) == 50 - len(ids) + 60
    # The indexes are used and agree with the table.
    assert len(event_store.query_events(db, kinds=["annotated"], labels=["b"])) == int(
        db.execute("SELECT count(*) FROM events NOT INDEXED WHERE label = 'b'").fetchone()[0]
    )
    event_store.undo(db)
    assert [tuple(r) for r in db.execute("SELECT * FROM events ORDER BY id")] == before


def test_a_small_insert_into_a_large_table_keeps_the_indexes(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(event_store, "_REBUILD_MIN", 10)
    db = Database(tmp_path / "s.db")
    event_store.add_events(db, many(rng, 100), command="t", description="big")
    statements = []
    db.connection.set_trace_callback(statements.append)
    event_store.add_events(db, many(rng, 20), command="t", description="small")
    db.connection.set_trace_callback(None)
    assert not any(s.startswith("DROP INDEX") for s in statements)
    statements.clear()
    db.connection.set_trace_callback(statements.append)
    event_store.add_events(db, many(rng, 200), command="t", description="bigger")
    db.connection.set_trace_callback(None)
    assert sum(s.startswith("DROP INDEX") for s in statements) == 3


def test_an_error_midway_leaves_the_indexes_and_rows_as_they_were(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(event_store, "_REBUILD_MIN", 1)
    db = Database(tmp_path / "s.db")
    event_store.add_events(db, awkward_events(), command="t", description="first")
    before = [tuple(r) for r in db.execute("SELECT * FROM events ORDER BY id")]

    def fail(done):
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        event_store.add_events(db, many(rng, 100), command="t", description="d", progress=fail)
    assert indexes(db) == EVENT_INDEXES
    assert [tuple(r) for r in db.execute("SELECT * FROM events ORDER BY id")] == before


def test_a_version_2_database_gets_the_narrow_kind_index(tmp_path):
    import sqlite3

    from sonotype.store.database import MIGRATIONS, _statements

    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        for statement in _statements(script):
            con.execute(statement)
        con.execute(f"PRAGMA user_version = {number}")
    con.execute("INSERT INTO edits (at, command, description) VALUES ('t', 'c', 'd')")
    con.execute(
        "INSERT INTO events (recording, start_s, stop_s, label, kind, channel, source, edit_id) "
        "VALUES ('r.wav', 0, 1, 'a', 'annotated', 0, '', 1)"
    )
    con.commit()
    con.close()
    db = Database(path)
    assert db.schema_version == len(MIGRATIONS)
    assert indexes(db) == EVENT_INDEXES
    assert len(event_store.query_events(db, kinds=["annotated"], labels=["a"])) == 1


def test_a_stream_of_small_tables_drops_the_indexes_once_it_has_grown(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(event_store, "_REBUILD_MIN", 100)
    db = Database(tmp_path / "s.db")
    event_store.add_events(db, many(rng, 50), command="t", description="first")
    tables = [many(rng, 40, f"r{i}.wav") for i in range(5)]
    statements = []
    db.connection.set_trace_callback(statements.append)
    edit = event_store.add_event_tables(
        db, iter(tables), command="t", description=lambda n: f"{n} events"
    )
    db.connection.set_trace_callback(None)
    inserts = [i for i, s in enumerate(statements) if s.startswith("INSERT INTO events")]
    drops = [i for i, s in enumerate(statements) if s.startswith("DROP INDEX")]
    # Dropped once, before the third table: 3 x 40 events pass both 100 and the 50 stored.
    assert len(drops) == 3
    assert sum(i < drops[0] for i in inserts) == 80
    assert indexes(db) == EVENT_INDEXES
    assert db.integrity_check() == "ok"
    assert edit.description == "200 events"
    assert event_store.edit_log(db)[0].description == "200 events"
    assert len(event_store.query_events(db)) == 250


def test_a_new_database_has_large_pages_and_an_old_one_keeps_its_own(tmp_path):
    import sqlite3

    from sonotype.store.database import PAGE_SIZE

    assert Database(tmp_path / "new.db").execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    with sqlite3.connect(tmp_path / "old.db") as con:
        con.execute("CREATE TABLE t (x)")
    assert Database(tmp_path / "old.db").execute("PRAGMA page_size").fetchone()[0] == 4096
