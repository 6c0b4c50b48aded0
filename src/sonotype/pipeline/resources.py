"""What one task of a stage needs: cores, GPUs and memory, declared by the stage."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Resources:
    """Per-task needs of a stage; executors run no more tasks at once than fit the machine.

    ``memory_mb`` is a measured estimate of one task's peak memory (see each stage).
    """

    cores: int = 1
    gpus: int = 0
    memory_mb: int = 512


def available_memory_mb() -> int | None:
    """Memory available to new processes on this machine, or None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError, AttributeError):
        return None


def usable_cores() -> int:
    """Cores this process may use (its CPU affinity where the system says, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def local_workers(resources: Resources, *, n_tasks: int, workers: int | None = None) -> int:
    """How many tasks to run at once here: ``workers`` if given, else as many as the cores and
    the available memory hold, and never more than there are tasks."""
    if workers is None:
        workers = max(1, usable_cores() // max(resources.cores, 1))
        memory = available_memory_mb()
        if memory is not None and resources.memory_mb > 0:
            workers = min(workers, max(1, memory // resources.memory_mb))
    return max(1, min(workers, n_tasks))
