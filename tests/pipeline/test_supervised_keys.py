"""The content hashes the supervised stages are keyed by: same content, same key, in any
order; any change to what an event is, a new key."""

from __future__ import annotations

import pandas as pd

from sonotype.annotations import make_events
from sonotype.annotations.events import empty_events
from sonotype.pipeline.model_store import digest, events_hash, record_table, table_record


def events():
    return make_events(
        recording=["a.wav", "a.wav", "b.wav"],
        start_s=[0.1, 0.5, 1.0],
        stop_s=[0.2, 0.7, 1.5],
        label=["x", "y", "x"],
    )


def test_events_hash_is_the_content_in_any_order(rng):
    table = events()
    shuffled = table.iloc[rng.permutation(len(table))].reset_index(drop=True)
    assert events_hash(shuffled) == events_hash(table)
    nudged = table.assign(stop_s=table["stop_s"] + 1e-9)  # below the microsecond kept
    assert events_hash(nudged) == events_hash(table)
    for changed in (
        table.assign(stop_s=table["stop_s"] + 0.001),
        table.assign(label=["x", "x", "x"]),
        table.iloc[:2],
    ):
        assert events_hash(changed) != events_hash(table)
    assert events_hash(table.iloc[:0]) == events_hash(empty_events())


def test_digest_ignores_key_order_and_tables_round_trip_in_column_order():
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})
    table = pd.DataFrame({"replicate": [1, 2], "seed": [0, 1], "macro_f1": [0.5, None]})
    back = record_table(table_record(table))
    assert list(back.columns) == ["replicate", "seed", "macro_f1"]
    pd.testing.assert_frame_equal(back, table)
