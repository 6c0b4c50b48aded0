"""The prefetch thread: order, errors, bounded look-ahead, and stopping early."""

from __future__ import annotations

import threading

import pytest

from sonotype.prefetch import prefetched


def test_items_come_in_order_and_at_most_two_ahead_of_the_caller():
    made = []

    def items():
        for i in range(20):
            made.append(i)
            yield i

    for i in prefetched(items(), depth=1):
        # One waits in the queue and at most one more is being made.
        assert len(made) <= i + 3
    assert made == list(range(20))


def test_an_error_while_producing_is_raised_in_the_caller_when_its_item_is_due():
    def items():
        yield 1
        yield 2
        raise ValueError("file 3 is broken")

    got = []
    with pytest.raises(ValueError, match="file 3 is broken"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_the_producer():
    made = []

    def items():
        for i in range(1000):
            made.append(i)
            yield i

    stream = prefetched(items())
    assert next(stream) == 0
    stream.close()
    assert len(made) <= 3
    assert not [t for t in threading.enumerate() if t.name == "sonotype-prefetch"]
