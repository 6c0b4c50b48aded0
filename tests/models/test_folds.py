"""Folds: no example's context window shares audio with another fold's, labels balanced,
too few examples refused with the label and its count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sonotype.errors import ParameterError
from sonotype.models.folds import (
    assign_folds,
    check_label_counts,
    overlap_groups,
    split_background,
)


def _examples(rng, n_recordings=4, n=60):
    rows = []
    for r in range(n_recordings):
        starts = np.sort(rng.uniform(0, 30, n))
        for s in starts:
            length = rng.choice([0.0, rng.uniform(0.02, 0.3)])  # points and intervals
            rows.append((f"rec{r}.wav", 0, s, s + length, rng.choice(["a", "b", "c"])))
    return pd.DataFrame(rows, columns=["recording", "channel", "start_s", "stop_s", "label"])


def _closest_across_folds(examples, folds):
    """The smallest gap between spans of one recording that are in different folds."""
    best = np.inf
    for _, rows in examples.groupby("recording").indices.items():
        for i in rows:
            for j in rows:
                if folds[i] == folds[j]:
                    continue
                a, b = examples.iloc[i], examples.iloc[j]
                gap = max(a["start_s"] - b["stop_s"], b["start_s"] - a["stop_s"])
                best = min(best, gap)
    return best


@pytest.mark.parametrize("reach_s", [0.0, 0.05, 0.4])
def test_windows_of_different_folds_never_overlap(rng, reach_s):
    examples = _examples(rng)
    groups = overlap_groups(examples, reach_s=reach_s)
    folds = assign_folds(examples["label"], groups, n_folds=3, random_state=1)
    assert _closest_across_folds(examples, folds) >= reach_s
    # every group lies in one fold
    assert pd.DataFrame({"g": groups, "f": folds}).groupby("g")["f"].nunique().max() == 1


def test_overlap_groups_join_chains_and_keep_recordings_apart():
    examples = pd.DataFrame(
        {
            "recording": ["x", "x", "x", "x", "y"],
            "start_s": [0.0, 0.15, 0.3, 1.0, 0.05],
            "stop_s": [0.1, 0.25, 0.3, 1.2, 0.05],
        }
    )
    # 0-1 and 1-2 are 0.05 apart (a chain), 2-3 0.7 apart; y is another recording
    groups = overlap_groups(examples, reach_s=0.1)
    assert groups.tolist() == [0, 0, 0, 1, 2]
    assert overlap_groups(examples, reach_s=0.0).tolist() == [0, 1, 2, 3, 4]


def test_recordings_as_groups_keep_each_recording_in_one_fold(rng):
    examples = _examples(rng, n_recordings=6, n=20)
    groups = pd.factorize(examples["recording"])[0]
    folds = assign_folds(examples["label"], groups, n_folds=3, random_state=0)
    per_recording = pd.Series(folds).groupby(examples["recording"]).nunique()
    assert (per_recording == 1).all()
    assert sorted(set(folds)) == [0, 1, 2]


def test_folds_are_stratified_and_seeded(rng):
    labels = np.array(["a"] * 90 + ["b"] * 30 + ["c"] * 9)
    rng.shuffle(labels)
    folds = assign_folds(labels, np.arange(len(labels)), n_folds=3, random_state=5)
    table = pd.crosstab(folds, labels)
    assert table["a"].tolist() == [30, 30, 30]
    assert table["b"].tolist() == [10, 10, 10]
    assert table["c"].tolist() == [3, 3, 3]
    again = assign_folds(labels, np.arange(len(labels)), n_folds=3, random_state=5)
    other = assign_folds(labels, np.arange(len(labels)), n_folds=3, random_state=6)
    assert np.array_equal(folds, again)
    assert not np.array_equal(folds, other)


def test_too_few_groups_of_a_label_name_it_and_its_count():
    labels = ["a"] * 10 + ["b"] * 4
    groups = np.r_[np.arange(10), [10, 10, 11, 11]]  # b: 4 events in 2 groups
    with pytest.raises(ParameterError, match=r"'b' has 4 example\(s\) in 2 separable") as error:
        assign_folds(labels, groups, n_folds=3)
    assert "lower --k" in str(error.value)
    assert error.value.parameter == "k"
    check_label_counts(labels, groups, n_folds=2)  # enough for two


def test_fewer_than_two_folds_is_refused():
    with pytest.raises(ParameterError, match="k"):
        assign_folds(["a", "b"], np.arange(2), n_folds=1)


def test_background_gaps_are_cut_so_their_middles_stand_alone():
    examples = pd.DataFrame(
        {
            "recording": ["x"] * 3,
            "start_s": [0.0, 0.1, 3.1],
            "stop_s": [0.1, 3.1, 3.2],
            "label": ["a", "bg", "a"],
        }
    )
    cut = split_background(examples, label="bg", reach_s=0.2)
    bg = cut[cut["label"] == "bg"]
    assert bg[["start_s", "stop_s"]].to_numpy().round(6).tolist() == [
        [0.1, 0.3],
        [0.5, 2.7],
        [2.9, 3.1],
    ]
    groups = overlap_groups(cut, reach_s=0.2)
    # head joins the first event, tail the last; the middle is its own group
    assert len(set(groups)) == 3
    assert split_background(examples, label=None, reach_s=0.2).equals(examples)
