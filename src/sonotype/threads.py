"""How many threads one process may use for numerical work.

A worker of the local pool shares the machine with its siblings: the pool tells each one its
share through ``SONOTYPE_THREADS`` (and OpenMP's variable), so that two workers training on a
2-core machine use one thread each instead of two each (measured 4x slower, oversubscribed).
"""

from __future__ import annotations

import os

THREADS_VARIABLE = "SONOTYPE_THREADS"


def cpu_threads() -> int:
    """This process's share of the cores: the pool's ``SONOTYPE_THREADS``, else every core."""
    share = os.environ.get(THREADS_VARIABLE, "")
    return int(share) if share.isdigit() and int(share) > 0 else os.cpu_count() or 1


def thread_environment(threads: int) -> dict[str, str]:
    """The environment variables that limit a worker process to ``threads`` threads."""
    threads = max(1, int(threads))
    return {THREADS_VARIABLE: str(threads), "OMP_NUM_THREADS": str(threads)}
