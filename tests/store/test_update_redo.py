"""Changing events in place, and redo: ids kept, undo exact, a new edit ends the redo history."""

from __future__ import annotations

import pandas as pd
import pytest

from sonotype.annotations import make_events
from sonotype.errors import ParameterError, SonotypeError
from sonotype.store import event_store
from sonotype.store.database import Database


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "s.db")
    yield database
    database.close()


def rows(db) -> pd.DataFrame:
    return event_store.query_events(db, with_ids=True)


def add(db, labels=("a", "b", "c")):
    events = make_events(
        "x.wav",
        [float(i) for i in range(len(labels))],
        [i + 0.5 for i in range(len(labels))],
        list(labels),
        kind="detected",
        extra_labels={"label:who": ["ann"] * len(labels)},
    )
    return event_store.add_events(db, events, command="t", description="add")


def test_update_changes_in_place_keeping_ids_and_undo_restores_them(db):
    add(db)
    before = rows(db)
    ids = before.index.tolist()[:2]
    event_store.update_events(
        db,
        ids,
        {"label": "z", "kind": "annotated", "start_s": [0.1, 1.2], "label:who": ""},
        command="relabel",
        description="two",
    )
    after = rows(db)
    assert after.index.tolist() == before.index.tolist()
    assert after["label"].tolist() == ["z", "z", "c"]
    assert after["kind"].tolist() == ["annotated", "annotated", "detected"]
    assert after["start_s"].tolist() == [0.1, 1.2, 2.0]
    assert after["label:who"].tolist() == ["", "", "ann"]
    event_store.undo(db)
    pd.testing.assert_frame_equal(rows(db), before)


@pytest.mark.parametrize(
    ("ids", "changes", "message"),
    [
        ([], {"label": "a"}, "ids=\\[\\]"),
        ([1, 1], {"label": "a"}, "given twice"),
        ([99], {"label": "a"}, "no stored event has id 99"),
        ([1], {"id": 5}, "column 'id' cannot be changed"),
        ([1, 2], {"label": ["a"]}, "1 values for 2 events"),
        ([1], {"stop_s": -1.0}, "stop_s=-1 is negative"),
        ([1], {}, "name a column"),
    ],
)
def test_update_refuses_bad_changes_and_changes_nothing(db, ids, changes, message):
    add(db)
    before = rows(db)
    n_edits = len(event_store.edit_log(db))
    with pytest.raises(SonotypeError, match=message):
        event_store.update_events(db, ids, changes, command="t", description="t")
    pd.testing.assert_frame_equal(rows(db), before)
    assert len(event_store.edit_log(db)) == n_edits


def test_redo_puts_back_each_kind_of_edit_with_its_ids(db):
    add(db)
    states = [rows(db)]
    ids = states[0].index.tolist()
    event_store.update_events(db, [ids[0]], {"label": "q"}, command="t", description="t")
    states.append(rows(db))
    event_store.delete_events(db, [ids[1]], command="t", description="t")
    states.append(rows(db))
    event_store.add_events(
        db, make_events("x.wav", 5.0, 6.0, "n"), command="t", description="t", replace_ids=[ids[2]]
    )
    states.append(rows(db))
    event_store.undo(db, 3)
    pd.testing.assert_frame_equal(rows(db), states[0])
    assert [e.id for e in event_store.redoable(db)] == [2, 3, 4]
    for state in states[1:]:
        (edit,) = event_store.redo(db)
        assert not edit.undone
        pd.testing.assert_frame_equal(rows(db), state)
    assert event_store.redo(db) == []
    # Undo and redo again, several at once.
    event_store.undo(db, 2)
    assert [e.id for e in event_store.redo(db, 2)] == [3, 4]
    pd.testing.assert_frame_equal(rows(db), states[-1])


def test_a_new_edit_ends_the_redo_history(db):
    add(db)
    ids = rows(db).index.tolist()
    event_store.update_events(db, [ids[0]], {"label": "q"}, command="t", description="t")
    event_store.undo(db)
    assert len(event_store.redoable(db)) == 1
    event_store.delete_events(db, [ids[1]], command="t", description="t")
    assert event_store.redoable(db) == []
    assert event_store.redo(db) == []
    assert rows(db)["label"].tolist() == ["a", "c"]
    # Undo after that starts a new history: only what was undone since can be redone.
    event_store.undo(db)
    assert [e.id for e in event_store.redoable(db)] == [3]


def test_redo_more_than_can_be_is_an_error_that_counts(db):
    add(db)
    event_store.undo(db)
    with pytest.raises(ParameterError, match="only 1 edit can be redone"):
        event_store.redo(db, 2)
    with pytest.raises(ParameterError, match="at least 1"):
        event_store.redo(db, 0)
    assert len(event_store.redo(db, 1)) == 1


def test_project_update_and_redo(tmp_path):
    from sonotype.store.project import Project

    project = Project.init(tmp_path / "p")
    with project:
        edit = event_store.add_events(
            project.db, make_events("x.wav", 0.0, 1.0, "a"), command="t", description="t"
        )
        (event_id,) = project.db_ids()
        project.update_events([event_id], {"label": "b"}, command="t", description="t")
        assert project.events()["label"].tolist() == ["b"]
        project.undo()
        assert project.events()["label"].tolist() == ["a"]
        project.redo()
        assert project.events()["label"].tolist() == ["b"]
        assert edit.id == 1


def test_undo_then_redo_gives_back_every_value_exactly(db):
    import numpy as np

    rng = np.random.default_rng(0)
    start = rng.uniform(0, 1000, 500)
    events = make_events(
        "x.wav",
        start,
        start + rng.uniform(0, 1, 500),
        "a",
        score=rng.random(500),
        low_hz=rng.uniform(0, 1e4, 500),
        extra_labels={"label:who": ['é "quoted"'] * 500},
    )
    event_store.add_events(db, events, command="t", description="t")
    before = rows(db)
    event_store.undo(db)
    assert rows(db).empty
    event_store.redo(db)
    pd.testing.assert_frame_equal(rows(db), before, check_exact=True)
