"""Catalog pictures: what they show, and that they are written as PNG files."""

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.image import imread

from sonotype.plot.catalog import (
    embedding_figure,
    gallery_image,
    heat_colours,
    save_figure,
    save_image,
    transitions_figure,
)


def test_embedding_scatter_names_each_cluster_at_its_centre(rng):
    coords = np.concatenate([rng.normal(10 * i, 0.1, (20, 2)) for i in range(3)])
    labels = np.repeat([0, 1, -1], 20)
    (ax,) = embedding_figure(coords, labels).axes
    texts = {t.get_text(): t.get_position() for t in ax.texts}
    assert set(texts) == {"0", "1"}  # noise is grey and unnamed
    np.testing.assert_allclose(texts["1"], [10, 10], atol=0.2)


def test_gallery_cells_are_the_colormapped_spectrograms_low_rows_at_the_bottom(tmp_path, rng):
    specs = rng.random((5, 16, 8)) * 40 - 80  # dB-like values, each scaled on its own
    specs[4] = -3.0  # a constant thumbnail takes the colormap's first colour, as imshow
    image = gallery_image(specs, columns=4, cell_px=32, gap_px=2)
    assert image.dtype == np.uint8 and image.shape == (2 * 34 - 2, 4 * 34 - 2, 3)
    magma = colormaps["magma"]
    for i, spec in enumerate(specs):
        r, c = divmod(i, 4)
        cell = image[r * 34 : r * 34 + 32, c * 34 : c * 34 + 32]
        span = np.ptp(spec)
        scaled = (spec - spec.min()) / span if span else np.zeros_like(spec)
        # Each source pixel fills a 2 x 4 block; row 0 (lowest frequency) is at the bottom.
        expected = magma(np.repeat(np.repeat(scaled[::-1], 2, axis=0), 4, axis=1), bytes=True)
        np.testing.assert_array_equal(cell, expected[..., :3])
    assert (image[32:34] == 255).all() and (image[34:, 34:] == 255).all()  # gaps, empty cells
    path = save_image(image, tmp_path / "g.png")
    np.testing.assert_array_equal((imread(path)[..., :3] * 255).round().astype(np.uint8), image)


def test_heat_colours_follow_the_colormap():
    colours = heat_colours(np.array([[0.0, 1.0], [0.5, 2.0]]))
    blues = colormaps["Blues"]
    assert colours.shape == (2, 2)
    assert colours[0, 0] == "#{:02x}{:02x}{:02x}".format(*blues(0.0, bytes=True)[:3])
    assert colours[1, 1] == colours[0, 1]  # clipped to vmax


def test_transitions(tmp_path):
    probabilities = pd.DataFrame([[0.0, 1.0], [0.5, 0.5]], index=["a", "b"], columns=["a", "b"])
    figure = transitions_figure(probabilities)
    assert sorted(t.get_text() for t in figure.axes[0].texts) == [".50", ".50", "1.00"]
    path = save_figure(figure, tmp_path / "t.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
