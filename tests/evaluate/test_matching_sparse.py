"""The sparse assignment of very crowded components: the same optimum as the dense one."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.evaluate import match_events, matching


def _crowded(seed: int, n: int):
    rng = np.random.default_rng(seed)
    starts = np.sort(rng.uniform(0, n * 0.004, n))
    lengths = rng.uniform(0.02, 0.04, n)
    ref = make_events("s.wav", starts, starts + lengths, "a")
    shifted = np.abs(starts + rng.normal(0, 0.006, n))
    keep = rng.random(n) < 0.8  # some references have no prediction
    pred = make_events("s.wav", shifted[keep], shifted[keep] + lengths[keep], "a")
    return ref, pred


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("min_iou", [None, 0.5])
def test_sparse_solver_finds_the_dense_optimum(monkeypatch, seed, min_iou):
    ref, pred = _crowded(seed, 300)
    dense = match_events(ref, pred, tolerance_s=0.01, min_iou=min_iou)
    monkeypatch.setattr(matching, "DENSE_CELLS", 4)  # every crowded component goes sparse
    sparse = match_events(ref, pred, tolerance_s=0.01, min_iou=min_iou)
    assert len(sparse) == len(dense) > 100

    def total(m):
        return float(m["onset_error_s"].abs().sum() + m["offset_error_s"].abs().sum())

    assert total(sparse) == pytest.approx(total(dense), abs=1e-9)
    # One to one.
    assert sparse["ref_index"].is_unique and sparse["pred_index"].is_unique


def test_crowded_matching_memory_is_linear(monkeypatch):
    """5,000 references 1 ms apart form one component: a dense matrix would take 400 MB
    (float and index); with the cap the peak stays far below."""
    import tracemalloc

    n = 5000
    starts = np.arange(n) * 0.001
    ref = make_events("s.wav", starts, starts, "a")
    pred = make_events("s.wav", starts + 0.0004, starts + 0.0004, "a")
    tracemalloc.start()
    try:
        found = match_events(ref, pred, tolerance_s=0.01)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(found) == n
    assert np.allclose(found["onset_error_s"], 0.0004)
    assert peak < 150e6
