"""Executors: where the tasks of a batch run, behind one interface.

``local`` runs tasks in a process pool sized by cores and by each stage's memory estimate
(in this process when one worker suffices, which keeps small jobs free of start-up costs);
``dask`` (:mod:`sonotype.pipeline.dask_executor`) runs them on a Dask cluster: a LocalCluster,
a scheduler at an address, or a SLURM/LSF/PBS/SGE cluster made by dask-jobqueue.

Tasks are plain functions of picklable arguments. Each yields an :class:`Outcome` as it
finishes, in completion order, with either its value or the reason it failed: a task's
failure never stops the others.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from sonotype.errors import FileProblem, ParameterError, SonotypeError
from sonotype.pipeline.resources import Resources, local_workers

BACKENDS = ("local", "dask")
#: A task that declares nothing: one core, 512 MB.
DEFAULT_RESOURCES = Resources()


@dataclass(frozen=True)
class Outcome:
    """The end of task ``index``: its ``value``, or ``error`` saying why it failed."""

    index: int
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Executor(ABC):
    """Runs the tasks of a batch; use as a context manager (``close`` frees its workers)."""

    name: str = ""

    @abstractmethod
    def map_unordered(
        self,
        fn: Callable[..., Any],
        tasks: Sequence[tuple],
        *,
        resources: Resources = DEFAULT_RESOURCES,
        names: Sequence[str] | None = None,
    ) -> Iterator[Outcome]:
        """``fn(*task)`` for every task, yielding outcomes as they finish.

        ``names`` (one per task) name the tasks to the scheduler (dashboards, logs). Closing
        the iterator early cancels the tasks not yet started.
        """

    def close(self) -> None:  # noqa: B027 - executors without workers have nothing to free
        """Free the workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def call_task(fn: Callable[..., Any], args: tuple) -> tuple[Any, str | None]:
    """``(fn(*args), None)``, or ``(None, reason)`` when it raised.

    Runs inside the worker, so the reason travels as text whatever the executor.
    """
    try:
        return fn(*args), None
    except Exception as error:  # a task's failure is reported, not raised
        return None, describe_failure(error)


def describe_failure(error: BaseException) -> str:
    """A failure as one line: a file's problem without its path (the caller names the item),
    sonotype's own errors as they are, anything else with its type."""
    if isinstance(error, FileProblem):
        return error.problem
    if isinstance(error, SonotypeError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class LocalExecutor(Executor):
    """A process pool on this machine: ``workers`` processes (default: as many as the cores
    and the available memory hold for the stage's :class:`Resources`)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ParameterError(
                f"workers={workers!r} must be 1 or more, or None for as many as fit"
            )
        self.workers = workers

    def map_unordered(self, fn, tasks, *, resources=DEFAULT_RESOURCES, names=None):
        n = local_workers(resources, n_tasks=len(tasks), workers=self.workers)
        if n <= 1:
            for index, task in enumerate(tasks):
                value, error = call_task(fn, task)
                yield Outcome(index, value, error)
            return
        pool = ProcessPoolExecutor(max_workers=n, mp_context=_pool_context())
        try:
            pending = {pool.submit(call_task, fn, task): i for i, task in enumerate(tasks)}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    try:
                        value, error = future.result()
                    except BrokenProcessPool:
                        value, error = (
                            None,
                            (
                                "its worker process died (killed, or out of memory); run the "
                                "command again to retry it"
                            ),
                        )
                    yield Outcome(index, value, error)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _pool_context():
    """How pool workers start: forked (cheap) unless torch is loaded here. Forking a process
    whose torch has used its OpenMP threads leaves the children waiting for those threads
    forever (libgomp; seen in classify after training in one process), so then workers start
    from a fresh server process instead."""
    if "torch" in sys.modules and "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return None


@contextlib.contextmanager
def open_executor(compute: Any = None, *, workers: int | None = None) -> Iterator[Executor]:
    """The executor that ``compute`` (the ``[compute]`` section of sonotype.toml) selects.

    ``workers`` (e.g. a command's ``--workers``) overrides the local pool's size.
    """
    backend = getattr(compute, "backend", "local")
    if backend == "local":
        with LocalExecutor(workers or getattr(compute, "workers", None) or None) as executor:
            yield executor
    elif backend == "dask":
        from sonotype.pipeline.dask_executor import DaskExecutor

        with DaskExecutor.from_config(compute) as executor:
            yield executor
    else:
        raise ParameterError(
            f"[compute] backend = {backend!r} must be one of {', '.join(map(repr, BACKENDS))}"
        )
