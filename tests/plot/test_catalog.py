"""Catalog pictures: what they show, and that they are written as PNG files."""

import numpy as np
import pandas as pd

from sonotype.plot.catalog import (
    embedding_figure,
    gallery_figure,
    save_figure,
    transitions_figure,
)


def test_embedding_scatter_names_each_cluster_at_its_centre(rng):
    coords = np.concatenate([rng.normal(10 * i, 0.1, (20, 2)) for i in range(3)])
    labels = np.repeat([0, 1, -1], 20)
    (ax,) = embedding_figure(coords, labels).axes
    texts = {t.get_text(): t.get_position() for t in ax.texts}
    assert set(texts) == {"0", "1"}  # noise is grey and unnamed
    np.testing.assert_allclose(texts["1"], [10, 10], atol=0.2)


def test_gallery_and_transitions(tmp_path, rng):
    gallery = gallery_figure(rng.random((5, 16, 16)), titles=list("abcde"), columns=4)
    assert sum(bool(ax.get_images()) for ax in gallery.axes) == 5
    probabilities = pd.DataFrame([[0.0, 1.0], [0.5, 0.5]], index=["a", "b"], columns=["a", "b"])
    figure = transitions_figure(probabilities)
    assert sorted(t.get_text() for t in figure.axes[0].texts) == [".50", ".50", "1.00"]
    path = save_figure(figure, tmp_path / "t.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
