"""Clustering tests run scikit-learn single-threaded: their inputs are tiny, and OpenMP
threads contending for a few busy cores made k-means ten times slower, not faster."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _single_threaded():
    with threadpool_limits(limits=1):
        yield
