"""Produce the next item of an iterator in a background thread while the caller uses this one.

Importing annotation files reads file ``k + 1`` while file ``k`` is stored: pandas' parser
and SQLite release the GIL for much of their work, so the two overlap on two cores
(``benchmarks/events_io.py``). At most ``depth`` items wait finished, so memory holds a few
items, not the whole stream.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()
# How often a producer blocked on a full queue checks whether the consumer has gone.
_POLL_S = 0.05


def prefetched(items: Iterable[T], *, depth: int = 1) -> Iterator[T]:
    """``items``, in order, produced one step ahead in a daemon thread.

    An exception raised while producing an item is raised here, in the caller's thread, when
    that item is due. If the caller stops early (an error, or ``close()``), the producer stops
    after the item it is making.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over((item, None)):
                    return
            hand_over((_END, None))
        except BaseException as error:  # handed to the caller, raised there
            hand_over((None, error))

    producer = threading.Thread(target=produce, name="sonotype-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        producer.join()
