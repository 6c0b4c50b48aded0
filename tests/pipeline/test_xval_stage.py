"""The parts of a fold task that need no training: how the predicted label is decided, how
the training pool is cut to a size, and how validation is chosen inside it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sonotype.errors import ParameterError
from sonotype.pipeline.xval_results import confusion_of, spread
from sonotype.pipeline.xval_stage import choose_split, decide, subsample


def _pool(n_recordings=4, per_label=(12, 6)):
    rows = []
    for r in range(n_recordings):
        for label, n in zip(("a", "b"), per_label, strict=True):
            rows += [(f"r{r}.wav", 0, i + 0.1, i + 0.2, label) for i in range(n)]
    return pd.DataFrame(rows, columns=["recording", "channel", "start_s", "stop_s", "label"])


def test_exclusive_takes_the_most_probable_output():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    labels, score = decide(np.array(["a", "a"]), p, ["a", "b", "c"], loss="exclusive")
    assert labels.tolist() == ["a", "c"]
    assert score.tolist() == pytest.approx([0.7, 0.6])


def test_overlapped_judges_each_example_on_its_own_output():
    p = np.array([[0.9, 0.8], [0.2, 0.9], [0.1, 0.4], [0.1, 0.7]])
    truth = np.array(["x", "x", "not_y", "not_y"])
    labels, score = decide(truth, p, ["x", "y"], loss="overlapped")
    assert labels.tolist() == ["x", "not_x", "not_y", "y"]
    assert score.tolist() == pytest.approx([0.9, 0.8, 0.6, 0.7])


def test_subsample_by_fraction_and_by_count(rng):
    pool = _pool()
    half = subsample(pool, 0.5, random_state=1)
    assert half["label"].value_counts().to_dict() == {"a": 24, "b": 12}
    three = subsample(pool, 3, random_state=1)
    assert three["label"].value_counts().to_dict() == {"a": 3, "b": 3}
    tiny = subsample(pool, 0.001, random_state=1)
    assert tiny["label"].value_counts().to_dict() == {"a": 1, "b": 1}
    assert subsample(pool, 0.5, random_state=1).equals(half)  # seeded


def test_validation_as_train_chooses_it():
    split, how = choose_split(_pool(n_recordings=4), None, random_state=0)
    held = sorted(set(split.loc[split["split"] == "validation", "recording"]))
    assert how == f"recordings {', '.join(held)}" and len(held) == 1
    split, how = choose_split(_pool(n_recordings=2), None, random_state=0)
    assert how == "20% of each label's examples"
    assert split.groupby("label")["split"].apply(lambda s: (s == "validation").sum()).to_dict() == {
        "a": 5,
        "b": 2,
    }
    split, how = choose_split(_pool(n_recordings=4), 10, random_state=0)
    assert how == "10% of each label's examples"
    with pytest.raises(ParameterError, match="validate_percent"):
        choose_split(_pool(), 100, random_state=0)


def test_confusion_and_spread():
    predictions = pd.DataFrame({"label": ["a", "a", "b", "not_a"],
                                "predicted": ["a", "b", "b", "a"]})  # fmt: skip
    table = confusion_of(predictions, ["a", "b"])
    assert list(table.index) == ["a", "b", "not_a"] == list(table.columns)
    assert table.loc["a", "b"] == 1 and table.loc["not_a", "a"] == 1
    assert table.to_numpy().sum() == 4
    s = spread([0.5, 0.7, np.nan])
    assert s["mean"] == pytest.approx(0.6) and s["sd"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert spread([0.4])["sd"] == 0.0
