"""What one task of a stage needs (cores, GPUs, memory), what this machine has, and how much
memory a task took, measured in the process that ran it."""

from __future__ import annotations

import ctypes
import functools
import gc
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Resources:
    """Per-task needs of a stage; executors run no more tasks at once than fit the machine.

    ``memory_mb`` is an estimate of one task's peak memory (see each stage); the local pool
    replaces it with what the first tasks of a batch are measured to take.
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


@functools.lru_cache(maxsize=1)
def visible_gpus() -> tuple[str, ...]:
    """The CUDA devices this process may use, as ``CUDA_VISIBLE_DEVICES`` entries.

    Read without importing torch (which costs seconds and must stay out of the CLI's start):
    ``CUDA_VISIBLE_DEVICES`` when set (a batch system sets it to the job's GPUs), else the
    NVIDIA driver's list of GPUs, else ``nvidia-smi -L``; none where there is no NVIDIA GPU.
    """
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return tuple(d.strip() for d in listed.split(",") if d.strip() not in ("", "-1"))
    try:
        return tuple(str(i) for i in range(len(os.listdir("/proc/driver/nvidia/gpus"))))
    except OSError:
        pass
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return ()
    try:
        lines = subprocess.run(
            [smi, "-L"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(str(i) for i, line in enumerate(ln for ln in lines if ln.startswith("GPU ")))


def local_workers(resources: Resources, *, n_tasks: int, workers: int | None = None) -> int:
    """How many worker processes to start here: ``workers`` if given, else as many as the
    cores and the available memory hold for the declared estimate; never more than the GPUs
    hold (one set of ``resources.gpus`` each) where there are GPUs, nor than there are tasks."""
    if workers is None:
        workers = max(1, usable_cores() // max(resources.cores, 1))
        memory = available_memory_mb()
        if memory is not None and resources.memory_mb > 0:
            workers = min(workers, max(1, memory // resources.memory_mb))
    gpus = visible_gpus()
    if resources.gpus and gpus:
        workers = min(workers, max(1, len(gpus) // resources.gpus))
    return max(1, min(workers, n_tasks))


def tasks_that_fit(memory_mb: float | None, task_mb: float, *, workers: int) -> int:
    """How many tasks of ``task_mb`` each may run at once in ``memory_mb``: at least one (a
    task too big for the machine still gets its chance, alone), at most ``workers``.

    Examples
    --------
    >>> tasks_that_fit(1000, 300, workers=8), tasks_that_fit(1000, 3000, workers=8)
    (3, 1)
    >>> tasks_that_fit(None, 300, workers=8)  # memory unknown
    8
    """
    if memory_mb is None or task_mb <= 0:
        return workers
    return max(1, min(workers, int(memory_mb // task_mb)))


# -- memory of one task, measured in its process ----------------------------------------------


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def start_measuring() -> float | None:
    """Reset this process's peak memory and return its resident memory now (MB), or None where
    the peak cannot be reset (outside Linux); pass the result to :func:`measured_mb`."""
    # Garbage left by earlier work (reference cycles) is freed now: freed later, at some
    # allocation inside the task, it would cancel the task's own growth from the peak.
    gc.collect()
    # Freed memory the C heap keeps resident (inference raises glibc's thresholds so that
    # it does) is returned too: reused by the task, it would not grow the peak at all.
    _trim_heap()
    before = _status_mb("VmRSS")
    if before is None:
        return None
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")  # resets VmHWM, the peak resident memory (Linux >= 4.0)
    except OSError:
        return None
    return before


@functools.cache
def _glibc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not Linux, or not glibc (musl, ...): nothing to trim
        return None


def _trim_heap() -> None:
    """Return the free memory of glibc's heap to the system (``malloc_trim``)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def measured_mb(before: float | None) -> float | None:
    """Peak memory a task took since :func:`start_measuring` returned ``before``: the growth
    of the peak resident memory over what the process held (pages a forked worker shares
    with its parent are not the task's). Where the peak cannot be reset, the process's
    lifetime peak: an over-estimate, which errs on the safe side; None where neither can be
    read."""
    peak = _status_mb("VmHWM")
    if before is not None and peak is not None:
        return max(peak - before, 0.0)
    try:
        import resource
    except ImportError:  # Windows: unknown, so the pool keeps the stage's declared estimate
        return None
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max_rss / 2**20 if sys.platform == "darwin" else max_rss / 1024
