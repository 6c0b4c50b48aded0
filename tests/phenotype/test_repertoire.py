"""Type counts, repertoire size and stereotypy."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.errors import ParameterError
from sonotype.phenotype import repertoire_size, stereotypy, type_counts
from sonotype.phenotype.repertoire import encode_types, grouped_median_iqr, median_iqr


def test_type_counts_natural_order_and_noise():
    labels = ["10", "2", "-1", "2", "1", "-1"]
    counts = type_counts(labels, noise_label="-1")
    assert counts.index.tolist() == ["1", "2", "10"]
    assert counts.tolist() == [1, 2, 1]
    assert type_counts(labels, noise_label=-1).tolist() == [1, 2, 1]  # numbers as text


def test_repertoire_size_min_count():
    labels = list("aaabbc")
    assert repertoire_size(labels) == 2
    assert repertoire_size(labels, min_count=1) == 3
    assert repertoire_size(labels, min_count=3) == 1
    assert repertoire_size(["-1", "-1"], noise_label="-1") == 0
    with pytest.raises(ParameterError, match="min_count=0"):
        repertoire_size(labels, min_count=0)


def test_encode_types_with_given_types():
    codes, types = encode_types(["b", "x", "a"], noise_label="x", types=["b", "a"])
    assert codes.tolist() == [0, -1, 1]
    assert types == ["b", "a"]
    with pytest.raises(ParameterError, match="label 'c' is neither"):
        encode_types(["c"], types=["a"])


def test_median_iqr():
    assert median_iqr(np.array([1.0, 2, 3, 4, 5])) == (3.0, 2.0)
    assert all(np.isnan(median_iqr(np.array([]))))
    stats = grouped_median_iqr(np.array([1.0, 3, 10, 99]), np.array([0, 0, 2, -1]), 3)
    np.testing.assert_allclose(stats[0], [2.0, 1.0])
    assert np.isnan(stats[1]).all()
    np.testing.assert_allclose(stats[2], [10.0, 0.0])


def test_stereotypy_lower_for_tight_clusters(rng):
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    labels = np.repeat(["a", "b", "c"], 50)
    base = np.repeat(centres, 50, axis=0)
    tight_x = base + rng.normal(scale=0.3, size=base.shape)
    loose_x = base + rng.normal(scale=3.0, size=base.shape)
    tight_per_type, tight = stereotypy(tight_x, labels)
    loose_per_type, loose = stereotypy(loose_x, labels)
    assert tight < 0.1 < loose
    assert (tight_per_type < loose_per_type).all()
    # Scale-free: multiplying the embedding changes nothing.
    assert stereotypy(tight_x * 100, labels)[1] == pytest.approx(tight)


def test_stereotypy_mixed_types_and_singletons_and_noise():
    x = np.array([[0.0], [2.0], [5.0], [100.0], [-50.0]])
    per_type, overall = stereotypy(x, ["a", "a", "b", "-1", "-1"], noise_label="-1")
    # overall spread: points 0, 2, 5 around 7/3.
    spread = np.abs(np.array([0.0, 2.0, 5.0]) - 7 / 3).mean()
    assert per_type["a"] == pytest.approx(1.0 / spread)
    assert np.isnan(per_type["b"])  # one member: no spread to measure
    assert overall == pytest.approx(1.0 / spread)
    _, none = stereotypy(x[:1], ["a"])
    assert np.isnan(none)
    with pytest.raises(ParameterError, match="one row per syllable"):
        stereotypy(x, ["a"])
