"""This process's command line, and SIGTERM as a request to stop.

Kept apart from :mod:`sonotype.store.runs`, which records them, because the command line sets
them for every command, ``--help`` included, and importing the store loads pandas.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class Invocation:
    """The command line that started this process's runs (set by the CLI), for retry."""

    argv: tuple[str, ...]
    cwd: str


#: Set by the CLI for each command it runs; library calls leave it unset.
current_invocation: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar(
    "current_invocation", default=None
)


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM (``sonotype runs cancel``, ``kill``, a cluster's
    scheduler) and stops as it would on Ctrl-C.

    A :class:`KeyboardInterrupt`, not an :class:`Exception`, on purpose: the code that keeps a
    batch going past a failed item catches ``Exception``, and must not take a request to stop
    for one item's failure.
    """
