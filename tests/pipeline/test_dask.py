"""The Dask executor: a LocalCluster gives the local pool's results, a killed worker loses and
duplicates nothing, resources are asked within what workers have, and dask-jobqueue's job
scripts carry the [compute.cluster] settings (no batch system is needed: no job starts)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

pytest.importorskip("distributed")

from sonotype.detect import detect_recording, make_detector
from sonotype.errors import FileProblem, ParameterError, SonotypeError
from sonotype.pipeline import dask_executor
from sonotype.pipeline.codecs import ArrayCodec, EventsCodec
from sonotype.pipeline.dask_executor import (
    DaskExecutor,
    ResourceNotice,
    jobqueue_cluster,
)
from sonotype.pipeline.executors import LocalExecutor, open_executor
from sonotype.pipeline.resources import Resources
from sonotype.pipeline.stage import Item, NoParams, Pipeline, Result, Stage, StageParams
from sonotype.store import Project
from sonotype.store.config import ClusterSection, ComputeSection
from sonotype.synth import birdsong


class Noise(StageParams):
    n: int = 64
    kill_marker: str = ""  # a file: the first task to find it absent kills its own worker


class SeededNoise(Stage[Noise, np.ndarray]):
    """A per-item stage whose output depends only on the item (a seed)."""

    name = "test-seeded-noise"
    params_model = Noise
    codec = ArrayCodec()
    resources = Resources(cores=1, memory_mb=64)

    def compute(self, params, *, item):
        if item < 0:
            raise FileProblem(f"seed{item}", "negative seed")
        if params.kill_marker and item == 5:
            marker = Path(params.kill_marker)
            if not marker.exists():
                marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-task, once
        return np.random.default_rng(item).standard_normal(params.n).astype(np.float32)


class Offset(Stage[StageParams, np.ndarray]):
    """A per-item stage with a shared input (sent to the cluster once, not per task)."""

    name = "test-offset"
    codec = ArrayCodec()

    def compute(self, params, *, item, offsets):
        return offsets + item


class Detect(StageParams):
    method: str = "amplitude"


class DetectFile(Stage[Detect, pd.DataFrame]):
    """One recording's detected events."""

    name = "test-detect"
    params_model = Detect
    codec = EventsCodec()

    def compute(self, params, *, item):
        return detect_recording(make_detector(params.method), item)


def _square(x):
    return x * x


@pytest.fixture(scope="module")
def local_cluster():
    """A LocalCluster of 2 worker processes, small, shared by this module's tests."""
    compute = ComputeSection(backend="dask", n_workers=2, memory_limit="1GB")
    with open_executor(compute) as executor:
        yield executor


def _batch(tmp_path, name, executor, items, params):
    with Project.init(tmp_path / name) as project, project.run("test", {}) as run:
        batch = Pipeline(project, run_id=run.id, executor=executor).map(
            SeededNoise(), params, items
        )
        values = {name: value.copy() for name, value in batch.values()}
        computed = [s["item"] for s in project.run_steps(run.id, status="computed")]
    return batch, values, computed


@pytest.mark.slow
def test_a_local_cluster_gives_the_local_pools_results(tmp_path, local_cluster):
    assert isinstance(local_cluster, DaskExecutor)
    assert local_cluster.worker_resources["CPU"] == 1
    assert local_cluster.worker_resources["MEMORY"] == 10**9
    items = [Item(f"seed{i}", f"content-{i}", i) for i in (1, 2, -3, 4, 5, 6)]
    dask_batch, on_dask, _ = _batch(tmp_path, "dask", local_cluster, items, Noise())
    local_batch, here, _ = _batch(tmp_path, "local", LocalExecutor(2), items, Noise())
    assert list(on_dask) == list(here) == ["seed1", "seed2", "seed4", "seed5", "seed6"]
    for name in here:
        np.testing.assert_array_equal(on_dask[name], here[name])
    assert dask_batch.failures == local_batch.failures == {"seed-3": "negative seed"}
    assert dask_batch.computed == local_batch.computed == 5


@pytest.mark.slow
def test_detection_on_a_local_cluster_equals_the_local_pools(tmp_path, local_cluster):
    items = []
    for i in range(4):
        path = tmp_path / f"song{i}.wav"
        song, _ = birdsong(1.0, random_state=i)
        sf.write(path, np.clip(song, -1, 1), 32000, subtype="PCM_16")
        items.append(Item(path.name, f"song-{i}", str(path)))
    tables = {}
    for name, executor in (("dask", local_cluster), ("local", LocalExecutor(2))):
        with Project.init(tmp_path / name) as project, project.run("test", {}) as run:
            batch = Pipeline(project, run_id=run.id, executor=executor).map(
                DetectFile(), Detect(), items
            )
            tables[name] = dict(batch.values())
    assert list(tables["dask"]) == [item.name for item in items]
    assert sum(len(t) for t in tables["local"].values()) > 4  # syllables were found
    for name, table in tables["local"].items():
        pd.testing.assert_frame_equal(tables["dask"][name], table)


@pytest.mark.slow
def test_a_shared_input_reaches_every_task(tmp_path, local_cluster):
    offsets = Result.of(np.arange(1000.0), key="offsets-content")
    items = [Item(f"item{i}", f"content-{i}", i) for i in range(5)]
    with Project.init(tmp_path / "p") as project, project.run("test", {}) as run:
        batch = Pipeline(project, run_id=run.id, executor=local_cluster).map(
            Offset(), NoParams(), items, offsets=offsets
        )
        values = dict(batch.values())
    for i in range(5):
        np.testing.assert_array_equal(values[f"item{i}"], np.arange(1000.0) + i)


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_and_duplicates_no_item(tmp_path, local_cluster):
    marker = tmp_path / "killed-once"
    items = [Item(f"seed{i}", f"content-{i}", i) for i in range(12)]
    batch, values, computed = _batch(
        tmp_path, "killed", local_cluster, items, Noise(kill_marker=str(marker))
    )
    assert marker.exists()  # a worker did die
    assert batch.failures == {}
    assert list(values) == [item.name for item in items]
    assert sorted(computed) == sorted(item.name for item in items)  # each item once
    np.testing.assert_array_equal(
        values["seed5"], np.random.default_rng(5).standard_normal(64).astype(np.float32)
    )
    # The restarted worker is back for the next batch.
    outcomes = list(local_cluster.map_unordered(_square, [(i,) for i in range(4)]))
    assert sorted(o.value for o in outcomes) == [0, 1, 4, 9]


def _slow_square(x):
    time.sleep(0.2)
    return x * x


def _tasks_on(dask_scheduler):
    return len(dask_scheduler.tasks)


@pytest.mark.slow
def test_closing_a_batch_early_cancels_what_is_left(local_cluster):
    outcomes = local_cluster.map_unordered(_slow_square, [(i,) for i in range(40)])
    assert next(outcomes).ok
    outcomes.close()
    deadline = time.monotonic() + 30  # a bound on waiting, not a measurement
    while local_cluster.client.run_on_scheduler(_tasks_on) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert local_cluster.client.run_on_scheduler(_tasks_on) == 0


@pytest.mark.slow
def test_tasks_ask_for_their_resources_within_what_workers_have(local_cluster):
    assert local_cluster._request(Resources(cores=1, memory_mb=100)) == {
        "CPU": 1,
        "MEMORY": 100 * 2**20,
    }
    # More than any worker has would never run: asked for what the largest worker has.
    assert local_cluster._request(Resources(cores=4, memory_mb=4000)) == {
        "CPU": 1,
        "MEMORY": 10**9,
    }
    if "GPU" not in local_cluster.worker_resources:
        with pytest.warns(ResourceNotice, match="no worker advertises a GPU"):
            request = local_cluster._request(Resources(gpus=1))
        assert "GPU" not in request


@pytest.mark.slow
def test_workers_at_an_address_that_advertise_nothing_still_run_tasks():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, processes=False, dashboard_address=":0", silence_logs=40
    ) as cluster:
        compute = ComputeSection(backend="dask", scheduler_address=cluster.scheduler_address)
        with open_executor(compute) as executor:
            assert executor.cluster is None  # not ours to close
            with pytest.warns(ResourceNotice, match="advertise no resources") as noticed:
                outcomes = list(executor.map_unordered(_square, [(3,), (4,)]))
                list(executor.map_unordered(_square, [(5,)]))
            assert len(noticed) == 1  # said once
            assert sorted(o.value for o in outcomes) == [9, 16]


def _devices():
    return os.environ.get("CUDA_VISIBLE_DEVICES")


@pytest.mark.slow
def test_each_local_cluster_worker_gets_its_own_gpu(monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(dask_executor, "visible_gpus", lambda: ("7", "8"))
    cluster, offered = dask_executor.make_local_cluster(n_workers=3, memory_limit="1GB")
    with DaskExecutor(distributed.Client(cluster), cluster=cluster) as executor:
        seen = executor.client.run(_devices)  # by worker address
        workers = executor.client.scheduler_info(n_workers=-1)["workers"]
    assert offered["GPU"] == 1
    by_name = {
        w["name"]: (seen[address], w["resources"].get("GPU")) for address, w in workers.items()
    }
    assert by_name == {0: ("7", 1), 1: ("8", 1), 2: (os.environ.get("CUDA_VISIBLE_DEVICES"), None)}


def test_an_address_where_no_scheduler_answers_is_named(monkeypatch):
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 1)
    compute = ComputeSection(backend="dask", scheduler_address="tcp://127.0.0.1:9")
    with (
        pytest.raises(SonotypeError, match=r"scheduler_address = 'tcp://127\.0\.0\.1:9'"),
        open_executor(compute),
    ):
        pass


def _script(**settings):
    cluster = jobqueue_cluster(ClusterSection(**settings))
    try:
        return cluster.job_script()
    finally:
        cluster.close()


def test_a_slurm_job_script_carries_the_settings():
    script = _script(
        kind="slurm",
        cores=8,
        memory="32GB",
        gpus=2,
        queue="gpu",
        account="birdlab",
        walltime="02:00:00",
        job_extra_directives=["--gres=gpu:2", "--constraint=a100"],
        local_directory="/scratch/dask",
        python="/opt/env/bin/python",
    )
    for line in (
        "#SBATCH -p gpu",
        "#SBATCH -A birdlab",
        "#SBATCH -t 02:00:00",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --mem=30G",  # dask-jobqueue writes 32 GB as 30 GiB (rounded down)
        "#SBATCH --gres=gpu:2",
        "#SBATCH --constraint=a100",
    ):
        assert line in script.splitlines()
    command = script.splitlines()[-1]
    assert command.startswith("/opt/env/bin/python -m distributed.cli.dask_worker")
    # 2 worker processes, one per GPU, each advertising its share and one GPU.
    assert "--nworkers 2" in command
    assert "--nthreads 4" in command
    assert "--resources CPU=4,MEMORY=16000000000,GPU=1" in command
    assert "--preload sonotype.pipeline.dask_executor" in command
    assert "--local-directory /scratch/dask" in command


def test_an_lsf_job_script_carries_the_settings():
    script = _script(
        kind="lsf",
        cores=4,
        memory="16GB",
        processes=1,
        queue="short",
        account="birdsong",
        walltime="01:30",
        job_extra_directives=['-R "span[hosts=1]"'],
        log_directory="/home/me/dask-logs",
    )
    lines = script.splitlines()
    for line in (
        "#BSUB -q short",
        '#BSUB -P "birdsong"',  # LSF charges a project
        "#BSUB -W 01:30",
        "#BSUB -n 4",
        '#BSUB -R "span[hosts=1]"',
    ):
        assert line in lines
    assert any(line.startswith("#BSUB -e /home/me/dask-logs/") for line in lines)
    assert any(line.startswith("#BSUB -M ") for line in lines)  # in the site's memory units
    assert "--resources CPU=4,MEMORY=16000000000" in lines[-1]
    assert "--preload" not in lines[-1]  # no GPUs to hand out


class _Recorder:
    """Stands in for a dask-jobqueue cluster: scaling one would submit jobs."""

    def __init__(self):
        self.calls = []

    def scale(self, **kwargs):
        self.calls.append(("scale", kwargs))

    def adapt(self, **kwargs):
        self.calls.append(("adapt", kwargs))


@pytest.mark.parametrize(
    ("settings", "call"),
    [
        ({}, ("scale", {"jobs": 1})),
        ({"jobs": 4}, ("scale", {"jobs": 4})),
        ({"maximum_jobs": 20}, ("adapt", {"minimum_jobs": 0, "maximum_jobs": 20})),
        ({"minimum_jobs": 2}, ("adapt", {"minimum_jobs": 2})),
    ],
)
def test_a_cluster_is_scaled_to_its_jobs_or_adapts(monkeypatch, settings, call):
    recorder = _Recorder()
    monkeypatch.setattr(dask_executor, "jobqueue_cluster", lambda section: recorder)
    section = ClusterSection(kind="slurm", cores=8, memory="32GB", **settings)
    cluster, resources = dask_executor.make_jobqueue_cluster(section)
    assert cluster.calls == [call]
    assert resources == {"CPU": 4, "MEMORY": 16 * 10**9}


def test_resources_set_by_hand_are_refused():
    with pytest.raises(ParameterError, match="worker_extra_args sets --resources"):
        jobqueue_cluster(ClusterSection(kind="pbs", worker_extra_args=["--resources", "A=1"]))


def test_each_worker_of_a_gpu_job_sees_its_own_gpu(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5")

    class Worker:
        name = "SLURMCluster-3-1"  # job 3, its second process

    dask_executor.dask_setup(Worker())
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "5"


def test_missing_dask_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(SonotypeError, match=r'pip install "sonotype\[dask\]"'):
        DaskExecutor.from_config(ComputeSection(backend="dask"))


def test_importing_sonotype_and_the_cli_imports_no_dask():
    code = (
        "import sys, sonotype, sonotype.pipeline.stage, sonotype.cli.main\n"
        "assert not {'dask', 'distributed'} & set(sys.modules), 'dask imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
