"""Executors: where the tasks of a batch run, behind one interface.

``local`` runs tasks in worker processes sized by cores, and runs at once only as many as the
memory holds for the peak one task is measured to take (in this process when one worker
suffices, which keeps small jobs free of start-up costs);
``dask`` (:mod:`sonotype.pipeline.dask_executor`) runs them on a Dask cluster: a LocalCluster,
a scheduler at an address, or a SLURM/LSF/PBS/SGE cluster made by dask-jobqueue.

Tasks are plain functions of picklable arguments. Each yields an :class:`Outcome` as it
finishes, in completion order, with either its value or the reason it failed: a task's
failure never stops the others.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from typing import Any

from sonotype.errors import FileProblem, ParameterError, SonotypeError
from sonotype.pipeline.resources import (
    Resources,
    available_memory_mb,
    local_workers,
    measured_mb,
    start_measuring,
    tasks_that_fit,
    usable_cores,
    visible_gpus,
)
from sonotype.threads import cpu_threads, thread_environment

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
    """Worker processes on this machine.

    ``workers`` processes (default: as many as the cores hold, and the available memory for
    the stage's declared :class:`Resources`); one suffices: tasks then run in this process,
    free of start-up costs. With more, tasks run at once only as many as ``memory_mb`` (default:
    the memory available when the batch starts) holds for the peak memory one task was
    measured to take: the stage's declared estimate until the first tasks finish, then the
    largest peak measured so far. A worker that dies (killed, out of memory) fails only the
    task it was running, and a fresh worker takes its place. With GPUs and a stage that needs
    them, each worker process sees its own (``CUDA_VISIBLE_DEVICES``).
    """

    name = "local"

    def __init__(self, workers: int | None = None, *, memory_mb: float | None = None) -> None:
        if workers is not None and workers < 1:
            raise ParameterError(
                f"workers={workers!r} must be 1 or more, or None for as many as fit"
            )
        if memory_mb is not None and memory_mb <= 0:
            raise ParameterError(
                f"memory_mb={memory_mb!r} must be positive, or None for what is available"
            )
        self.workers = workers
        self.memory_mb = memory_mb
        #: The largest peak memory (MB) one task of the last batch was measured to take.
        self.task_memory_mb: float | None = None
        #: The most tasks that ran at once in the last batch.
        self.most_at_once = 0

    def map_unordered(self, fn, tasks, *, resources=DEFAULT_RESOURCES, names=None):
        n = local_workers(resources, n_tasks=len(tasks), workers=self.workers)
        self.task_memory_mb, self.most_at_once = None, 0
        if n <= 1:
            for index, task in enumerate(tasks):
                self.most_at_once = 1
                value, error = call_task(fn, task)
                yield Outcome(index, value, error)
            return
        memory = self.memory_mb if self.memory_mb is not None else available_memory_mb()
        gpus = visible_gpus() if resources.gpus else ()
        pool = _WorkerPool(
            n,
            # each worker's share of the cores, so that n workers do not oversubscribe them
            threads=max(resources.cores, usable_cores() // n),
            # each worker's own GPUs, e.g. worker 1 of a stage needing one GPU: device "1"
            gpu_sets=[gpus[i * resources.gpus : (i + 1) * resources.gpus] for i in range(n)]
            if gpus
            else None,
        )
        queue = collections.deque(range(len(tasks)))
        try:
            while queue or pool.busy:
                measured = self.task_memory_mb
                estimate = resources.memory_mb if measured is None else measured
                at_once = tasks_that_fit(memory, estimate, workers=n)
                while queue and len(pool.busy) < at_once:
                    index = queue.popleft()
                    unsent = pool.start(index, fn, tasks[index])
                    if unsent is not None:
                        yield Outcome(index, None, unsent)
                self.most_at_once = max(self.most_at_once, len(pool.busy))
                for index, value, error, task_mb in pool.wait():
                    if task_mb is not None:
                        self.task_memory_mb = max(self.task_memory_mb or 0.0, task_mb)
                    yield Outcome(index, value, error)
        finally:
            pool.close()


class _Worker:
    """One worker process and the pipe it takes tasks from."""

    def __init__(self, context, env: dict[str, str]) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_work, args=(child, env), daemon=True)
        self.process.start()
        child.close()  # so a dead worker's pipe reads as closed here
        self.index: int | None = None  # the task it is running


class _WorkerPool:
    """Worker processes that each run one task at a time; a dead one is replaced."""

    def __init__(
        self, size: int, *, threads: int = 1, gpu_sets: list[tuple[str, ...]] | None = None
    ) -> None:
        self.context = _pool_context() or multiprocessing.get_context()
        self.size = size
        self.threads = threads
        self.gpu_sets = gpu_sets
        self.workers: list[_Worker] = []
        self.busy: dict[int, _Worker] = {}  # by the index of the task each runs

    def start(self, index: int, fn: Callable[..., Any], task: tuple) -> str | None:
        """Send task ``index`` to an idle worker (started if need be); the reason it cannot
        be sent (its arguments cannot be pickled), or None."""
        try:
            message = ForkingPickler.dumps((index, fn, task))
        except Exception as error:  # the task fails, not the batch
            return f"it cannot be sent to a worker process: {describe_failure(error)}"
        idle = [w for w in self.workers if w.index is None]
        if not idle:
            worker = self._spawn()
        elif idle[0].process.is_alive():
            worker = idle[0]
        else:  # killed while idle: nothing of ours was lost
            worker = self._replace(idle[0])
        worker.conn.send_bytes(message)
        worker.index = index
        self.busy[index] = worker
        return None

    def _spawn(self) -> _Worker:
        self.workers.append(_Worker(self.context, self._env(len(self.workers))))
        return self.workers[-1]

    def _env(self, slot: int) -> dict[str, str]:
        env = thread_environment(self.threads)
        if self.gpu_sets is not None:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(self.gpu_sets[slot])
        return env

    def wait(self) -> Iterator[tuple[int, Any, str | None, float | None]]:
        """``(index, value, error, task_mb)`` of each task that ended, after waiting for one."""
        waiting = {w.conn: w for w in self.busy.values()}
        waiting |= {w.process.sentinel: w for w in self.busy.values()}
        ended = []
        for ready in multiprocessing.connection.wait(list(waiting)):
            worker = waiting[ready]
            if worker.index is None or worker in ended:
                continue
            ended.append(worker)
        for worker in ended:
            index = worker.index
            try:
                # A result sent just before the worker died is still read here.
                _, value, error, task_mb = worker.conn.recv()
            except (EOFError, OSError):
                worker.process.join()
                value, error, task_mb = None, _death(worker.process.exitcode), None
                worker.index = None
                worker = self._replace(worker)
            worker.index = None
            del self.busy[index]
            yield index, value, error, task_mb

    def _replace(self, dead: _Worker) -> _Worker:
        # The new worker takes the dead one's slot, and so its GPUs.
        slot = self.workers.index(dead)
        dead.process.join()
        dead.conn.close()
        self.workers[slot] = _Worker(self.context, self._env(slot))
        return self.workers[slot]

    def close(self) -> None:
        """Stop every worker: idle ones when told, busy ones (a batch closed early) at once."""
        for worker in self.workers:
            if worker.index is not None:
                worker.process.terminate()
            else:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        for worker in self.workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self.workers, self.busy = [], {}


def _death(exitcode: int | None) -> str:
    how = (
        f"was killed by signal {-exitcode}"
        if exitcode is not None and exitcode < 0
        else f"exited with status {exitcode}"
    )
    return (
        f"its worker process {how} (killed, or out of memory: see `sonotype runs show`); "
        "run the command again to retry it"
    )


def _work(conn, env: dict[str, str]) -> None:
    """A worker process: run tasks from ``conn`` until told to stop, sending back each
    task's value or failure and the peak memory it took."""
    os.environ.update(env)  # before anything imports CUDA
    if "torch" in sys.modules:  # imported before the variables were set (a forkserver's preload)
        sys.modules["torch"].set_num_threads(cpu_threads())
    # Ctrl-C is the command's to handle: it stops the workers itself (``close``).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    while True:
        try:
            # A killed command's pipe may never read as closed here (forked siblings hold
            # copies of its end), so the worker also ends when it is orphaned.
            while not conn.poll(1.0):
                if os.getppid() != parent:
                    return
            message = conn.recv()
        except (EOFError, OSError):  # the command ended, or was killed
            return
        if message is None:
            return
        index, fn, task = message
        before = start_measuring()
        value, error = call_task(fn, task)
        task_mb = measured_mb(before)
        try:
            payload = ForkingPickler.dumps((index, value, error, task_mb))
        except Exception as problem:  # a value that cannot be pickled
            reason = f"its result cannot be sent back: {describe_failure(problem)}"
            payload = ForkingPickler.dumps((index, None, reason, task_mb))
        try:
            conn.send_bytes(payload)
        except OSError:  # the command was killed; what the task wrote on disk is kept
            return


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

    ``workers`` (e.g. a command's ``--workers``) overrides the local pool's size; a Dask
    cluster is sized in ``[compute]`` alone (callers pass ``workers=1`` to keep a stage in
    this process when local, which must not stop it running on a cluster).
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
