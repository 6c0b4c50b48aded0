"""Memory estimate, worker count and subsampling by group."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.errors import ParameterError
from sonotype.reduce import (
    available_memory_mb,
    choose_n_workers,
    estimate_peak_mb,
    max_samples_within,
    subsample_groups,
)


def test_estimate_grows_with_each_dimension():
    base = estimate_peak_mb(5000, 256, 20)
    assert estimate_peak_mb(10000, 256, 20) > base
    assert estimate_peak_mb(5000, 4096, 20) > base
    assert estimate_peak_mb(5000, 256, 100) > base
    assert estimate_peak_mb(5000, 256, 20, n_workers=4) > base


def test_max_samples_within_inverts_the_estimate():
    n = max_samples_within(2000, 4096, 100)
    assert estimate_peak_mb(n, 4096, 100) <= 2000 < estimate_peak_mb(n + 1, 4096, 100)
    assert max_samples_within(1, 4096, 100) == 0


def test_available_memory_is_positive():
    assert available_memory_mb() > 0


def test_workers_limited_by_cores_tasks_and_memory():
    assert choose_n_workers(1000, 64, 10, n_tasks=5, memory_mb=1e6, n_cores=3) == 3
    assert choose_n_workers(1000, 64, 10, n_tasks=2, memory_mb=1e6, n_cores=8) == 2
    tight = estimate_peak_mb(20000, 4096, 100, n_workers=2) + 1
    assert choose_n_workers(20000, 4096, 100, n_tasks=5, memory_mb=tight, n_cores=8) == 2
    assert choose_n_workers(20000, 4096, 100, n_tasks=5, memory_mb=10, n_cores=8) == 1


def test_subsample_keeps_whole_groups_within_budget():
    rng = np.random.default_rng(1)
    sizes = rng.integers(3, 30, size=40)
    groups = np.repeat([f"song{i}" for i in range(40)], sizes)
    rows = subsample_groups(groups, 300, random_state=5)
    assert len(rows) <= 300
    assert len(rows) > 250  # skipping groups that overflow fills the budget well
    assert np.all(np.diff(rows) > 0)
    kept = set(groups[rows])
    for g in kept:  # every kept group is complete
        assert np.sum(groups[rows] == g) == np.sum(groups == g)


def test_subsample_is_seeded():
    groups = np.repeat(np.arange(50), 7)
    a = subsample_groups(groups, 100, random_state=2)
    np.testing.assert_array_equal(a, subsample_groups(groups, 100, random_state=2))
    assert not np.array_equal(a, subsample_groups(groups, 100, random_state=3))


def test_subsample_without_groups_samples_rows():
    rows = subsample_groups(None, 10, n_samples=100, random_state=0)
    assert len(rows) == 10
    assert len(set(rows)) == 10


def test_subsample_returns_everything_when_it_fits():
    np.testing.assert_array_equal(subsample_groups([1, 1, 2], 5), [0, 1, 2])


def test_subsample_refuses_a_budget_below_every_group():
    with pytest.raises(ParameterError, match="smallest group"):
        subsample_groups(np.repeat([0, 1], 10), 5)


def test_subsample_checks_group_length():
    with pytest.raises(ParameterError, match="one group id per row"):
        subsample_groups([0, 1], 1, n_samples=3)
