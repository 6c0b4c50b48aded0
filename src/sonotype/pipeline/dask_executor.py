"""The Dask executor: a batch's tasks on a Dask cluster.

Three kinds of cluster, chosen by the ``[compute]`` section of sonotype.toml
(:class:`~sonotype.store.config.ComputeSection`):

- a running scheduler at ``scheduler_address`` (workers started by whoever runs it);
- none given: a LocalCluster on this machine, ``n_workers`` processes of
  ``threads_per_worker`` threads and ``memory_limit`` each;
- ``[compute.cluster]``: a SLURM, LSF, PBS or SGE cluster made by dask-jobqueue, a fixed
  number of jobs or scaled with the work between ``minimum_jobs`` and ``maximum_jobs``.

Workers of the clusters made here advertise Dask *resources*: ``CPU`` (threads), ``MEMORY``
(bytes) and, with GPUs, ``GPU`` (one per worker process, which sees only its own through
``CUDA_VISIBLE_DEVICES``); each task asks for its stage's :class:`Resources`, so the scheduler
runs no more tasks on a worker than it holds. Workers at an address are asked only for what
they advertise (else tasks would wait forever), and the executor says so once.

Dask reschedules the tasks of a worker that dies; each task still ends in exactly one
:class:`Outcome`. dask is imported only here, when this executor is used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import uuid
import warnings
from typing import Any

from sonotype.errors import ParameterError, SonotypeError
from sonotype.pipeline.executors import (
    DEFAULT_RESOURCES,
    Executor,
    Outcome,
    call_task,
    describe_failure,
)
from sonotype.pipeline.resources import Resources, usable_cores, visible_gpus

INSTALL_HINT = 'pip install "sonotype[dask]"'
#: dask-jobqueue's cluster class for each ``[compute.cluster] kind``.
CLUSTER_CLASSES = {
    "slurm": "SLURMCluster",
    "lsf": "LSFCluster",
    "pbs": "PBSCluster",
    "sge": "SGECluster",
}
#: The argument that charges the jobs to ``account`` (named ``project`` by LSF and SGE).
ACCOUNT_ARGUMENTS = {"slurm": "account", "pbs": "account", "lsf": "project", "sge": "project"}
#: How long to wait for the scheduler at ``scheduler_address`` to answer.
CONNECT_TIMEOUT_S = 30


class ResourceNotice(UserWarning):
    """Tasks cannot ask the workers for all of their stage's declared resources."""


def import_distributed():
    """``distributed``, or an error saying how to install it."""
    try:
        import distributed
    except ImportError as error:
        raise SonotypeError(
            f'[compute] backend = "dask" needs dask.distributed, which cannot be imported '
            f"({error}); install it with: {INSTALL_HINT}"
        ) from None
    return distributed


class DaskExecutor(Executor):
    """Runs tasks through a ``distributed.Client``.

    Parameters
    ----------
    client : distributed.Client
        Connected to the scheduler the tasks go to.
    cluster : distributed.deploy.Cluster, optional
        The cluster this executor made; :meth:`close` closes it with the client.
    worker_resources : dict of str to float, optional
        What each worker advertises (``CPU``, ``MEMORY`` in bytes, ``GPU``), for clusters made
        here; None: ask the scheduler (a cluster at an address).
    """

    name = "dask"

    def __init__(
        self,
        client: Any,
        *,
        cluster: Any = None,
        worker_resources: dict[str, float] | None = None,
    ) -> None:
        self.client = client
        self.cluster = cluster
        self.worker_resources = worker_resources
        self._noticed: set[str] = set()

    @classmethod
    def from_config(cls, compute: Any) -> DaskExecutor:
        """The executor for ``compute`` (a :class:`~sonotype.store.config.ComputeSection`):
        a client of the scheduler at its address, of a LocalCluster, or of a dask-jobqueue
        cluster, made and scaled here."""
        distributed = import_distributed()
        if compute.scheduler_address:
            try:
                client = distributed.Client(
                    compute.scheduler_address, timeout=f"{CONNECT_TIMEOUT_S}s"
                )
            except OSError as error:
                raise SonotypeError(
                    f"[compute] scheduler_address = {compute.scheduler_address!r}: no Dask "
                    f"scheduler answered ({error}); start one (`dask scheduler`) or correct "
                    "the address"
                ) from None
            return cls(client)
        if compute.cluster is not None:
            cluster, resources = make_jobqueue_cluster(compute.cluster)
        else:
            cluster, resources = make_local_cluster(
                n_workers=compute.n_workers or None,
                threads_per_worker=compute.threads_per_worker,
                memory_limit=compute.memory_limit,
            )
        try:
            client = distributed.Client(cluster)
        except BaseException:
            cluster.close()
            raise
        return cls(client, cluster=cluster, worker_resources=resources)

    def map_unordered(self, fn, tasks, *, resources=DEFAULT_RESOURCES, names=None):
        from distributed import as_completed

        request = self._request(resources)
        token = uuid.uuid4().hex[:8]  # keys stay unique across batches and clients
        keys = [
            f"{names[i] if names is not None else 'task'}-{token}-{i}" for i in range(len(tasks))
        ]
        # What every task shares (the stage, its parameters, shared inputs such as an events
        # table) goes to the cluster once, not once per task: as a task of its own, which the
        # scheduler recomputes if the worker holding it dies (scattered data would be lost),
        # and which waits for workers where scattering would block (adaptive, none yet).
        common = shared_positions(tasks)
        shared = {
            i: self.client.submit(_held, _Args(tasks[0][i]), key=f"shared-{token}-{i}", pure=False)
            for i in sorted(common)
        }
        # One message for the whole batch (submitting tasks one by one costs a round trip each).
        futures = self.client.map(
            _call,
            [fn] * len(tasks),
            [_Args(tuple(None if i in common else v for i, v in enumerate(t))) for t in tasks],
            key=keys,
            resources=request or None,
            pure=False,
            shared=shared,
        )
        index_of = {future.key: i for i, future in enumerate(futures)}
        settled: set[int] = set()
        # Results are fetched in the background as tasks finish, not one request per item.
        completed = as_completed(futures, with_results=True, raise_errors=False)
        try:
            for future, result in completed:
                index = index_of[future.key]
                if index in settled:  # a rescheduled task is reported once
                    continue
                settled.add(index)
                if future.status == "finished":
                    value, error = result
                elif future.status == "error":  # the task never ran to its end
                    value, error = None, _failure(result[1])
                else:
                    value, error = None, _failure(result)
                future.release()  # its value lives here now, not on the cluster
                yield Outcome(index, value, error)
        finally:
            remaining = [f for f in futures if index_of[f.key] not in settled]
            if remaining:
                with contextlib.suppress(Exception):  # a client already closing
                    self.client.cancel(remaining)

    def close(self) -> None:
        """Close the client, and the cluster when this executor made it."""
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    # -- resources --------------------------------------------------------------------------------

    def _request(self, resources: Resources) -> dict[str, float]:
        """What each task asks the workers for: the stage's needs, within what they have."""
        wanted = {"CPU": resources.cores, "MEMORY": resources.memory_mb * 2**20}
        if resources.gpus:
            wanted["GPU"] = resources.gpus
        offered = self._offered()
        request = {}
        for name, amount in wanted.items():
            most = offered.get(name)
            if most is None:
                if name == "GPU":
                    self._notice(
                        "GPU",
                        "no worker advertises a GPU resource: tasks that would use a GPU "
                        "run on any worker, on what it has",
                    )
                continue
            request[name] = min(amount, most)
        if not offered:
            self._notice(
                "none",
                f"the workers of {self.client.scheduler.address} advertise no resources, so "
                "tasks are placed without their declared cores, memory and GPUs; start the "
                'workers with e.g. `dask worker ADDRESS --resources "CPU=4 MEMORY=16e9 GPU=1"`',
            )
        return request

    def _offered(self) -> dict[str, float]:
        """The most of each resource one worker advertises."""
        if self.worker_resources is not None:
            return dict(self.worker_resources)
        offered: dict[str, float] = {}
        for worker in self.client.scheduler_info(n_workers=-1)["workers"].values():
            for name, amount in (worker.get("resources") or {}).items():
                offered[name] = max(offered.get(name, 0), amount)
        return offered

    def _notice(self, topic: str, message: str) -> None:
        if topic not in self._noticed:
            self._noticed.add(topic)
            warnings.warn(message, ResourceNotice, stacklevel=4)


class _Args:
    """A task's arguments, opaque to Dask (which would read a tuple as a task of its own)."""

    __slots__ = ("task",)

    def __init__(self, task: tuple) -> None:
        self.task = task


def _held(value: _Args) -> _Args:
    return value


def _call(fn, args: _Args, shared: dict[int, _Args]):
    task = list(args.task)
    for i, value in shared.items():
        task[i] = value.task
    return call_task(fn, tuple(task))


def shared_positions(tasks) -> set[int]:
    """Positions at which every task holds the very same object (more than one task).

    Examples
    --------
    >>> table = {"big": "table"}
    >>> sorted(shared_positions([(1, table, "a"), (2, table, "a")]))  # "a" is one interned str
    [1, 2]
    """
    if len(tasks) < 2 or len({len(t) for t in tasks}) != 1:
        return set()
    first = tasks[0]
    return {i for i in range(len(first)) if all(t[i] is first[i] for t in tasks)}


def _failure(problem: BaseException) -> str:
    if type(problem).__name__ == "KilledWorker":
        return (
            "the Dask workers running it died each time (killed, or out of memory); run the "
            "command again to retry it, or give the workers more memory"
        )
    if type(problem).__name__ == "CancelledError":
        return "it was cancelled on the Dask cluster; run the command again to retry it"
    return describe_failure(problem)


# -- clusters ---------------------------------------------------------------------------------


def make_local_cluster(
    *,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    memory_limit: str = "auto",
) -> tuple[Any, dict[str, float]]:
    """A Dask LocalCluster of worker processes on this machine, and what each advertises.

    ``n_workers`` defaults to as many as the cores hold at ``threads_per_worker`` each. Where
    there are GPUs, the first workers get one each (``CUDA_VISIBLE_DEVICES``) and advertise
    ``GPU=1``; the others have none.
    """
    distributed = import_distributed()
    from distributed.worker_memory import parse_memory_limit

    n_workers = n_workers or max(1, usable_cores() // threads_per_worker)
    memory = parse_memory_limit(
        memory_limit, threads_per_worker, total_cores=n_workers * threads_per_worker,
        logger=logging.getLogger("distributed.worker_memory"),
    )  # fmt: skip
    cluster = distributed.LocalCluster(
        n_workers=0,
        threads_per_worker=threads_per_worker,
        memory_limit=memory,
        processes=True,
        dashboard_address=":0",  # any free port: several clusters may run here
        silence_logs=logging.ERROR,
    )
    try:
        template = cluster.new_spec
        gpus = visible_gpus()
        resources: dict[str, float] = {"CPU": threads_per_worker}
        if memory:
            resources["MEMORY"] = memory
        for i in range(n_workers):
            options = {**template["options"], "resources": dict(resources)}
            if i < len(gpus):
                options["resources"]["GPU"] = 1
                options["env"] = {**options.get("env", {}), "CUDA_VISIBLE_DEVICES": gpus[i]}
            cluster.worker_spec[i] = {"cls": template["cls"], "options": options}
        cluster.scale(n_workers)  # starts the workers just specified
        cluster.wait_for_workers(n_workers, timeout=120)
    except BaseException:
        cluster.close()
        raise
    return cluster, {**resources, **({"GPU": 1} if gpus else {})}


def make_jobqueue_cluster(section: Any) -> tuple[Any, dict[str, float]]:
    """The dask-jobqueue cluster ``section`` (``[compute.cluster]``) describes, scaled to its
    ``jobs`` or adaptive between ``minimum_jobs`` and ``maximum_jobs``, and what each of its
    workers advertises. No job is submitted before scaling."""
    cluster = jobqueue_cluster(section)
    try:
        if section.minimum_jobs is not None or section.maximum_jobs is not None:
            bounds = {"minimum_jobs": section.minimum_jobs or 0}
            if section.maximum_jobs is not None:
                bounds["maximum_jobs"] = section.maximum_jobs
            cluster.adapt(**bounds)
        else:
            cluster.scale(jobs=section.jobs or 1)
    except BaseException:
        cluster.close()
        raise
    return cluster, jobqueue_worker_resources(section)


def jobqueue_worker_resources(section: Any) -> dict[str, float]:
    """What each worker of a job advertises: its share of the job's cores and memory, and one
    GPU when the job has GPUs."""
    from sonotype.store.config import memory_bytes

    processes = section.worker_processes()
    resources: dict[str, float] = {
        "CPU": max(1, section.cores // processes),
        "MEMORY": memory_bytes(section.memory) // processes,
    }
    if section.gpus:
        resources["GPU"] = 1
    return resources


def jobqueue_cluster(section: Any) -> Any:
    """The dask-jobqueue cluster object for ``section``, not yet scaled (its
    ``job_script()`` shows what each job will run)."""
    import_distributed()
    try:
        import dask_jobqueue
    except ImportError as error:
        raise SonotypeError(
            f"[compute.cluster] needs dask-jobqueue, which cannot be imported ({error}); "
            f"install it with: {INSTALL_HINT}"
        ) from None
    if any(arg.split("=")[0] == "--resources" for arg in section.worker_extra_args):
        raise ParameterError(
            "[compute.cluster] worker_extra_args sets --resources, which sonotype sets from "
            "cores, memory and gpus; remove it from worker_extra_args"
        )
    resources = jobqueue_worker_resources(section)
    extra = [*section.worker_extra_args, "--resources", _resource_text(resources)]
    if section.gpus > 1:  # a worker process per GPU, each shown only its own
        extra += ["--preload", __name__]
    kwargs: dict[str, Any] = {
        "cores": section.cores,
        "memory": section.memory,
        "processes": section.worker_processes(),
        "queue": section.queue,
        "walltime": section.walltime,
        "job_extra_directives": list(section.job_extra_directives),
        "worker_extra_args": extra,
        "local_directory": section.local_directory,
        "log_directory": section.log_directory,
        "interface": section.interface,
        "python": section.python or sys.executable,
        ACCOUNT_ARGUMENTS[section.kind]: section.account,
    }
    kwargs = {k: v for k, v in kwargs.items() if v is not None}  # else dask's config decides
    cluster_class = getattr(dask_jobqueue, CLUSTER_CLASSES[section.kind])
    with warnings.catch_warnings():
        # LSF warns when it cannot find the site's memory units (no LSF here): kilobytes
        warnings.simplefilter("ignore", UserWarning)
        return cluster_class(**kwargs)


def _resource_text(resources: dict[str, float]) -> str:
    return ",".join(f"{name}={int(amount)}" for name, amount in resources.items())


def dask_setup(worker: Any) -> None:
    """Dask worker preload (``--preload sonotype.pipeline.dask_executor``): worker process
    ``i`` of a job with several GPUs sees only GPU ``i`` of the job's.

    The worker CLI names the processes of one job ``NAME-0``, ``NAME-1``, ...; CUDA reads the
    variable when first used, which is after this.
    """
    gpus = visible_gpus.__wrapped__()  # the job's, read now in this process
    suffix = str(worker.name).rsplit("-", 1)[-1]
    if gpus and suffix.isdigit():
        os.environ["CUDA_VISIBLE_DEVICES"] = gpus[int(suffix) % len(gpus)]
