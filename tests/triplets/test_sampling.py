import numpy as np
import pytest

from sonotype.audio import Recording
from sonotype.errors import ParameterError
from sonotype.triplets.sampling import class_segments, sample_triplets


def test_four_partitions_balanced_per_class_and_spans_inside(motif_set):
    folder, table, results = motif_set
    triplets = sample_triplets(table, class_segments(results), lambda n: Recording(folder / n),
                               n_per_class=20, shift_s=0.3)  # fmt: skip
    assert len(triplets) == 80
    assert triplets.groupby("class").size().tolist() == [20] * 4
    counts = triplets.groupby(["positive_kind", "negative_kind"]).size()
    assert counts.tolist() == [20] * 4  # the four partitions equally
    # Anchors are copies of their class's motif (within the shift).
    motif = table.set_index("group")
    for row in triplets.itertuples(index=False):
        starts = motif.loc[row[0], ["motif_start_s", "match_start_s"]].to_numpy(float)
        assert row.anchor_recording == row[0]
        assert np.min(np.abs(starts - row.anchor_start_s)) <= 0.3 + 1e-9
        # negatives never come from the anchor's class or its neighbour
        assert row.negative_recording != row[0]
    self_rows = triplets[triplets["positive_kind"] == "self"]
    assert (self_rows["positive_recording"] == self_rows["class"]).all()
    neighbour = triplets[triplets["positive_kind"] == "neighbour"]
    assert (neighbour["positive_recording"] != neighbour["class"]).all()
    # a class's neighbour is never its negative
    pairs = set(zip(neighbour["class"], neighbour["positive_recording"], strict=True))
    assert not pairs & set(zip(triplets["class"], triplets["negative_recording"], strict=True))
    assert (triplets[[c for c in triplets if c.endswith("start_s")]] >= 0).all().all()
    assert (triplets[[c for c in triplets if c.endswith("start_s")]] <= 18.0).all().all()


def test_too_few_classes_is_a_clear_error(motif_set):
    folder, table, results = motif_set
    with pytest.raises(ParameterError, match="--neighbours"):
        sample_triplets(table, class_segments(results), lambda n: Recording(folder / n),
                        n_neighbours=3)  # fmt: skip
