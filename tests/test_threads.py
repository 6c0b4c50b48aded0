import os

import pytest

from sonotype.pipeline.executors import LocalExecutor
from sonotype.pipeline.resources import Resources, usable_cores
from sonotype.threads import THREADS_VARIABLE, cpu_threads, thread_environment


def _share(_):
    return os.environ.get(THREADS_VARIABLE), os.environ.get("OMP_NUM_THREADS"), cpu_threads()


def test_cpu_threads_reads_the_share(monkeypatch):
    monkeypatch.setenv(THREADS_VARIABLE, "3")
    assert cpu_threads() == 3
    for bad in ("", "0", "two"):
        monkeypatch.setenv(THREADS_VARIABLE, bad)
        assert cpu_threads() == (os.cpu_count() or 1)


def test_thread_environment_is_at_least_one():
    assert thread_environment(0) == {THREADS_VARIABLE: "1", "OMP_NUM_THREADS": "1"}


@pytest.mark.slow
def test_pool_workers_share_the_cores():
    with LocalExecutor(workers=2, memory_mb=10_000) as executor:
        outcomes = list(
            executor.map_unordered(_share, [(i,) for i in range(2)], resources=Resources(cores=1))
        )
    share = str(max(1, usable_cores() // 2))
    assert {o.value for o in outcomes} == {(share, share, int(share))}
