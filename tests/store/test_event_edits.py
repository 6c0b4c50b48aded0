"""Relabel, delete and accept: each one undoable edit that says how many events changed."""

from __future__ import annotations

import pytest

from sonotype.annotations import concat_events, make_events
from sonotype.errors import ParameterError
from sonotype.store import event_edits, event_store
from sonotype.store.database import Database
from sonotype.store.event_edits import Selection


@pytest.fixture
def db(tmp_path):
    """Five annotations by two people, four predictions with scores, two detections."""
    db = Database(tmp_path / "s.db")
    events = concat_events(
        [
            make_events(
                "a.wav", [0, 1, 2], [0.5, 1.5, 2.5], ["sine", "pulse", "sine"], source="ann"
            ),
            make_events("b.wav", [0, 1], [0.5, 1.5], ["sine", "pulse"], source="bob"),
            make_events(
                ["a.wav", "a.wav", "b.wav", "b.wav"],
                [0, 1, 0, 3],
                [0.4, 1.4, 0.4, 3.2],
                ["sine", "pulse", "pulse", "sine"],
                kind="predicted",
                source="net",
                score=[0.9, 0.4, 0.8, 0.6],
            ),
            make_events("b.wav", [5, 6], [5.1, 6.1], "", kind="detected", source="amp"),
        ]
    )
    event_store.add_events(db, events, command="test", description="setup")
    return db


def snapshot(db):
    events = event_store.query_events(db).sort_values(["recording", "start_s", "kind"])
    return events.fillna(-1.0).to_dict("list")  # NaN scores compare equal as -1


def test_relabel_changes_the_selected_events_and_undo_restores_them(db):
    before = snapshot(db)
    result = event_edits.relabel(db, Selection(kinds=["annotated"], labels=["sine"]), "song")
    assert result.changed == 3
    annotated = event_store.query_events(db, kinds=["annotated"])
    assert sorted(annotated["label"]) == ["pulse", "pulse", "song", "song", "song"]
    # Predictions labelled sine are another kind: untouched.
    assert sorted(event_store.query_events(db, kinds=["predicted"])["label"]) == [
        "pulse", "pulse", "sine", "sine"
    ]  # fmt: skip
    event_store.undo(db)
    assert snapshot(db) == before


def test_relabel_filters_by_source_recording_and_ids(db):
    result = event_edits.relabel(
        db, Selection(kinds=["annotated"], labels=["sine"], sources=["ann"]), "x"
    )
    assert result.changed == 2
    result = event_edits.relabel(
        db, Selection(kinds=["annotated"], labels=["pulse"], recordings=["b.wav"]), "y"
    )
    assert result.changed == 1
    ids = event_store.query_events(db, kinds=["annotated"], labels=["x"], with_ids=True).index
    result = event_edits.relabel(db, Selection(kinds=["annotated"], ids=[ids[0]]), "z")
    assert result.changed == 1
    labels = event_store.query_events(db, kinds=["annotated"])["label"].tolist()
    assert sorted(labels) == ["pulse", "sine", "x", "y", "z"]


def test_a_selection_that_matches_nothing_is_an_error_naming_it(db):
    with pytest.raises(
        ParameterError, match="no stored events match --kind annotated --label trill"
    ):
        event_edits.relabel(db, Selection(kinds=["annotated"], labels=["trill"]), "x")
    with pytest.raises(ParameterError, match="labelled 'sine' already"):
        event_edits.relabel(db, Selection(kinds=["annotated"], labels=["sine"]), "sine")
    assert len(event_store.edit_log(db)) == 1  # nothing was recorded


def test_delete_needs_a_filter_or_all(db):
    with pytest.raises(ParameterError, match="--all"):
        event_edits.delete(db, Selection())
    result = event_edits.delete(db, Selection(kinds=["detected"]))
    assert result.changed == 2
    assert event_store.query_events(db, kinds=["detected"]).empty
    result = event_edits.delete(db, Selection(), everything=True)
    assert result.changed == 9
    assert event_store.query_events(db).empty
    event_store.undo(db, 2)
    assert len(event_store.query_events(db)) == 11


def test_accept_makes_predictions_annotations_above_a_score(db):
    before = snapshot(db)
    result = event_edits.accept(db, kind="predicted", source="net", min_score=0.6)
    assert result.changed == 3
    accepted = event_store.query_events(db, kinds=["annotated"], sources=["net"])
    assert sorted(accepted["score"]) == [0.6, 0.8, 0.9]
    assert len(event_store.query_events(db, kinds=["predicted"])) == 1
    event_store.undo(db)
    assert snapshot(db) == before


def test_accept_checks_its_kind_and_score(db):
    with pytest.raises(ParameterError, match="only predicted or detected"):
        event_edits.accept(db, kind="annotated", source="ann")
    with pytest.raises(ParameterError, match="lower --min-score"):
        event_edits.accept(db, kind="predicted", source="net", min_score=0.95)
    result = event_edits.accept(db, kind="detected", source="amp")
    assert result.changed == 2


def test_counts_per_kind_source_and_label(db):
    table = event_edits.counts(db)
    rows = [tuple(r) for r in table.itertuples(index=False)]
    assert rows == [
        ("annotated", "ann", "pulse", 1),
        ("annotated", "ann", "sine", 2),
        ("annotated", "bob", "pulse", 1),
        ("annotated", "bob", "sine", 1),
        ("detected", "amp", "", 2),
        ("predicted", "net", "pulse", 2),
        ("predicted", "net", "sine", 2),
    ]
    assert event_edits.counts(db, Selection(kinds=["detected"]))["events"].tolist() == [2]
