"""The threshold sweep and the dense thresholds chosen from it, on a hand-built model."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.errors import ParameterError
from sonotype.evaluate.congruence import annotated_portions
from sonotype.evaluate.congruence_sweep import dense_thresholds, threshold_sweep

HUMAN = make_events("r.wav", [0.0, 2.0, 4.0], [1.0, 3.0, 5.0], "s")


def predict(threshold):
    """Low thresholds add a false alarm at 6-6.5; high ones miss 4-5; at 0.4 the first
    sound is predicted short (0.5-1.0), at 0.5 whole."""
    starts, stops = [0.5 if threshold < 0.45 else 0.0, 2.0], [1.0, 3.0]
    if threshold < 0.7:
        starts, stops = [*starts, 4.0], [*stops, 5.0]
    if threshold < 0.3:
        starts, stops = [*starts, 6.0], [*stops, 6.5]
    return make_events("r.wav", starts, stops, "s")


@pytest.fixture
def sweep():
    humans = {
        "ann": make_events(
            "r.wav", [*HUMAN["start_s"], 7.0], [*HUMAN["stop_s"], 7.5], ["s"] * 3 + ["t"]
        )
    }
    return threshold_sweep(
        humans, predict, [0.2, 0.4, 0.5, 0.8], model="net",
        portions=annotated_portions(humans), labels=["s"],
    )  # fmt: skip


def test_the_sweep_counts_false_alarms_and_misses(sweep):
    event = sweep[(sweep["level"] == "event") & (sweep["label"] == "s")].set_index("threshold")
    assert event["true_positives"].tolist() == [3, 3, 3, 2]
    assert event["false_positives"].tolist() == [1, 0, 0, 0]
    assert event["false_negatives"].tolist() == [0, 0, 0, 1]
    sample = sweep[(sweep["level"] == "sample") & (sweep["label"] == "s")].set_index("threshold")
    assert sample["false_negatives"].tolist() == pytest.approx([0.5, 0.5, 0.0, 1.0])
    assert sample.loc[0.5, "f1"] == 1.0


def test_dense_thresholds_break_event_ties_at_the_sample_level(sweep):
    chosen = dense_thresholds(sweep, [1.0, 0.5])
    rows = chosen.set_index("pr_ratio")
    # 0.4 and 0.5 are both perfect sound by sound; 0.5 also covers all the time.
    assert rows.loc[1.0, "threshold"] == 0.5
    # Precision half of recall is nearest at 0.2 (precision 0.75, recall 1).
    assert rows.loc[0.5, "threshold"] == 0.2
    assert list(chosen.columns[:5]) == ["label", "pr_ratio", "threshold", "precision", "recall"]


def test_labels_never_found_get_no_threshold(sweep):
    def nothing(threshold):
        return predict(threshold).iloc[:0]

    humans = {"ann": HUMAN}
    empty = threshold_sweep(humans, nothing, [0.5], model="net",
                            portions=annotated_portions(humans), labels=["s"])  # fmt: skip
    assert np.isnan(dense_thresholds(empty)["threshold"].iloc[0])
    with pytest.raises(ParameterError, match="pr_ratios"):
        dense_thresholds(sweep, [0.0])
    with pytest.raises(ParameterError, match="thresholds"):
        threshold_sweep(humans, predict, [1.5], model="net",
                        portions=annotated_portions(humans), labels=["s"])  # fmt: skip
