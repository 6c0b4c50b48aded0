"""Benchmark: many short files through detection, on the local pool and on Dask.

Run by hand: ``python benchmarks/scale.py [--files 2000] [--workers N]``.

Writes ``--files`` synthetic birdsong clips of ``--duration-s`` each in a temporary folder,
then runs the detect stage of ``sonotype detect`` (:class:`DetectRecording`, one task per
recording) over them through :meth:`Pipeline.map` (each item's events written as its own
artifact and recorded in the project) three ways, each on a fresh project and with the same
number of worker processes:

1. ``local``: the local pool (:class:`LocalExecutor`);
2. ``dask``: a Dask scheduler and workers started as separate processes (``dask scheduler``
   and ``dask worker``), reached through ``[compute] scheduler_address`` as on a cluster,
   so the scheduler's own memory can be read;
3. ``resume``: the ``local`` run's project again with nothing changed (every item found done).

Prints, side by side and as ratios against ``local`` in the same run: wall time, throughput
(items/s), the mean compute time of one item (measured in the worker), the per-item overhead
(worker time not spent computing: dispatch, transfer, bookkeeping), and the peak memory of
the process that schedules (the command's own process for ``local``; the Dask scheduler's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from sonotype.detect import make_detector
from sonotype.pipeline.dask_executor import DaskExecutor
from sonotype.pipeline.detect import DetectParams, DetectRecording
from sonotype.pipeline.executors import Executor, LocalExecutor
from sonotype.pipeline.resources import usable_cores
from sonotype.pipeline.stage import Item, Pipeline
from sonotype.store import Project
from sonotype.store.config import ComputeSection
from sonotype.synth import birdsong

HERE = Path(__file__).resolve().parent


def write_clips(folder: Path, n: int, duration_s: float) -> list[Item]:
    """``n`` clips: 20 distinct songs, each written under several names (content differs
    by item only in its name; detection reads every file)."""
    folder.mkdir()
    songs = [birdsong(duration_s, random_state=i)[0] for i in range(20)]
    items = []
    for i in range(n):
        path = folder / f"clip{i:05d}.wav"
        sf.write(path, np.clip(songs[i % len(songs)], -1, 1), 32000, subtype="PCM_16")
        items.append(Item(path.name, f"clip-{i}", (path.name, path)))
    return items


def peak_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(ln.split()[1]) for ln in status if ln.startswith("VmHWM")) / 1024


def run_batch(project_dir: Path, executor: Executor, items: list[Item]) -> dict:
    with Project.open(project_dir) if project_dir.exists() else Project.init(project_dir) as p:
        with p.run("bench", {}) as run:
            started = time.perf_counter()
            batch = Pipeline(p, run_id=run.id, executor=executor).map(
                DetectRecording(), DetectParams.of(make_detector("amplitude")), items
            )
            wall = time.perf_counter() - started
        compute = [s["seconds"] or 0.0 for s in p.run_steps(run.id, status="computed")]
    if batch.failures:
        name, reason = next(iter(batch.failures.items()))
        raise SystemExit(f"{len(batch.failures)} items failed, e.g. {name}: {reason}")
    return {"wall": wall, "compute": compute, "computed": batch.computed, "cached": batch.cached}


def start_dask(folder: Path, workers: int) -> tuple[list[subprocess.Popen], str]:
    """A scheduler and ``workers`` single-threaded worker processes, each its own process."""
    scheduler_file = folder / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", "0",
         "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env_importing_this(),
    )  # fmt: skip
    while not scheduler_file.exists():
        time.sleep(0.1)
    time.sleep(0.5)  # the file is written before the scheduler listens
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
         str(scheduler_file), "--nworkers", str(workers), "--nthreads", "1",
         "--memory-limit", "2GB", "--resources", "CPU=1,MEMORY=2000000000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env_importing_this(),
    )  # fmt: skip
    address = json.loads(scheduler_file.read_text())["address"]
    return [scheduler, worker], address


def _env_importing_this() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def main() -> None:
    sys.path.insert(0, str(HERE))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--duration-s", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=usable_cores())
    args = parser.parse_args()
    n, workers = args.files, args.workers
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        items = write_clips(tmp / "audio", n, args.duration_s)
        rows = {}

        before = peak_mb()
        rows["local"] = run_batch(tmp / "local", LocalExecutor(workers), items)
        rows["local"]["sched_mb"] = peak_mb()
        rows["local"]["sched_growth_mb"] = peak_mb() - before

        processes, address = start_dask(tmp, workers)
        try:
            started = time.perf_counter()
            executor = DaskExecutor.from_config(
                ComputeSection(backend="dask", scheduler_address=address)
            )
            executor.client.wait_for_workers(workers, timeout=120)
            startup = time.perf_counter() - started
            scheduler_before = peak_mb(processes[0].pid)
            with executor:
                rows["dask"] = run_batch(tmp / "dask", executor, items)
            rows["dask"]["sched_mb"] = peak_mb(processes[0].pid)
            rows["dask"]["sched_growth_mb"] = rows["dask"]["sched_mb"] - scheduler_before
        finally:
            for process in reversed(processes):
                process.terminate()
                process.wait(timeout=30)

        rows["resume"] = run_batch(tmp / "local", LocalExecutor(workers), items)
        rows["resume"]["sched_mb"] = rows["resume"]["sched_growth_mb"] = float("nan")

    print(
        f"{n} files of {args.duration_s} s, {workers} worker processes, {os.cpu_count()} "
        f"cores; Dask cluster started in {startup:.1f} s (not counted)"
    )
    local = rows["local"]
    header = (
        f"{'executor':<8} {'wall s':>7} {'items/s':>8} {'x local':>8} {'compute ms':>10} "
        f"{'overhead ms':>11} {'x local':>8} {'sched MB':>9} {'growth MB':>9}"
    )
    print(header)
    for name, r in rows.items():
        throughput = n / r["wall"]
        mean_compute = 1000 * np.mean(r["compute"]) if r["compute"] else 0.0
        # Worker time per item not spent computing; for "resume", this process's time per item.
        busy = r["wall"] * (workers if r["computed"] else 1)
        overhead = 1000 * (busy - sum(r["compute"])) / n
        local_overhead = 1000 * (local["wall"] * workers - sum(local["compute"])) / n
        print(
            f"{name:<8} {r['wall']:>7.1f} {throughput:>8.1f} "
            f"{throughput / (n / local['wall']):>8.2f} {mean_compute:>10.1f} {overhead:>11.1f} "
            f"{overhead / local_overhead:>8.2f} {r['sched_mb']:>9.0f} {r['sched_growth_mb']:>9.0f}"
        )


if __name__ == "__main__":
    main()
