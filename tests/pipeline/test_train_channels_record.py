"""Which channels a model records as annotated (classify's default channels)."""

from __future__ import annotations

import pandas as pd

from sonotype.pipeline.train import annotated_channels


def examples(rows):
    return pd.DataFrame(rows, columns=["recording", "channel"])


def test_mono_recordings_or_every_channel_annotated_record_nothing():
    counts = pd.Series({"a.wav": 1, "b.wav": 2})
    assert annotated_channels(examples([("a.wav", 0), ("b.wav", 0), ("b.wav", 1)]), counts) is None
    assert annotated_channels(examples([("a.wav", 0)]), pd.Series({"a.wav": float("nan")})) is None


def test_channels_left_without_annotations_keep_classify_to_the_annotated_ones():
    counts = pd.Series({"a.wav": 2, "b.wav": 4})
    assert annotated_channels(examples([("a.wav", 0), ("b.wav", 0)]), counts) == [0]
    rows = [("a.wav", 1), ("b.wav", 3), ("b.wav", 1)]
    assert annotated_channels(examples(rows), counts) == [1, 3]
