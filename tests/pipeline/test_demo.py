"""The demo workflow's detection scores against the synthetic truth."""

import numpy as np
import pandas as pd

from sonotype.annotations import make_events
from sonotype.pipeline.demo import _loud_not_tonal, run_demo


def test_demo_detects_the_known_truth(tmp_path):
    result = run_demo(tmp_path / "demo", loop=False)  # the loop: tests/pipeline/test_demo_loop.py
    scores = result.detection.set_index("set")
    assert scores.loc["birds", "F1"] >= 0.95
    assert scores.loc["flies", "F1"] >= 0.95
    assert result.report.is_file()
    assert result.discovery["ami"] >= 0.9
    assert result.catalog.is_file()


def _old_loud_not_tonal(events):
    """The overlap test the demo used before :func:`sonotype.intervals.overlaps_any` (the
    reference the new one must agree with)."""
    time = events[events["label"] == "time"]
    tonal = events[events["label"] == "frequency"]
    keep = []
    for recording, group in time.groupby("recording", sort=False):
        other = tonal[tonal["recording"] == recording]
        starts, stops = other["start_s"].to_numpy(), other["stop_s"].to_numpy()
        order = np.argsort(starts)
        starts, stops = starts[order], np.maximum.accumulate(stops[order]) if len(order) else stops
        before_end = np.searchsorted(starts, group["stop_s"].to_numpy(), side="left")
        reach = np.where(before_end > 0, stops[np.maximum(before_end - 1, 0)], -np.inf)
        keep.append(group[~(reach > group["start_s"].to_numpy())])
    return pd.concat(keep) if keep else time


def test_loud_not_tonal_agrees_with_the_former_overlap_test(rng):
    names = ["a.wav", "b.wav", "c.wav"]
    for _ in range(50):
        n = int(rng.integers(0, 25))
        starts = rng.integers(0, 30, n) * 0.25
        # The former test failed on a recording without tonal events: give each one, far off.
        events = make_events(
            [*rng.choice(names, n), *names],
            [*starts, 100.0, 100.0, 100.0],
            [*(starts + rng.choice([0.0, 0.25, 0.5, 2.0], n)), 101.0, 101.0, 101.0],
            [*rng.choice(["time", "frequency"], n), "frequency", "frequency", "frequency"],
        )
        pd.testing.assert_frame_equal(_loud_not_tonal(events), _old_loud_not_tonal(events))


def test_loud_not_tonal_keeps_every_time_event_of_a_recording_without_tonal_ones():
    events = make_events(["a.wav", "a.wav", "b.wav"], [0.0, 1.0, 0.5], [0.5, 2.0, 1.5],
                         ["time", "time", "frequency"])  # fmt: skip
    assert _loud_not_tonal(events)["start_s"].tolist() == [0.0, 1.0]
