"""The repertoire catalog page: its pictures and tables, written from arrays."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.image import imread

from sonotype.plot.catalog import gallery_image
from sonotype.report.catalog import EDGE, TYPICAL, CatalogInput, transitions_table, write_catalog


def catalog(rng) -> CatalogInput:
    clusters = np.repeat([0, 1, 2, -1], [30, 20, 5, 10])
    coords = np.array([[0.0, 0.0], [10, 0], [0, 10], [5, 5]])[clusters] + rng.normal(
        0, 1, (len(clusters), 2)
    )
    names = ["0", "1", "2"]
    return CatalogInput(
        title="birds <test>",
        coords=coords,
        clusters=clusters,
        spectrograms=rng.random((len(clusters), 16, 12)).astype(np.float32),
        summary=pd.DataFrame({"rank": [1, 2], "composite": [0.81234, 0.5]}),
        labels=np.array(["a", "b", "c", "a"])[clusters],
        phenotypes=pd.DataFrame({"animal": ["bird1"], "entropy": [1.25]}),
        transitions={
            "bird1": pd.DataFrame(
                [[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.02, 0.0, 0.98]], index=names, columns=names
            )
        },
        notes=("a note",),
    )


def test_catalog_files_and_page(tmp_path, rng):
    data = catalog(rng)
    index = write_catalog(tmp_path, data)
    page = index.read_text()
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == [
        "embedding_clusters.png", "embedding_labels.png",
        "gallery_0.png", "gallery_1.png", "gallery_2.png", "gallery_noise.png",
    ]  # fmt: skip
    assert "birds &lt;test&gt;" in page and "a note" in page and "0.812" in page
    # Each gallery holds the typical members then the edge ones, named in its caption.
    caption = re.search(r"cluster 0: 30 syllables; human labels a \(30\)\. typical (#[^<]+)", page)
    numbers = [int(n) for n in re.findall(r"#(\d+)", caption.group(1))]
    assert len(numbers) == TYPICAL + EDGE and set(numbers) <= set(range(30))
    picture = (imread(tmp_path / "gallery_0.png")[..., :3] * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(
        picture, gallery_image(data.spectrograms[numbers], columns=TYPICAL + EDGE)
    )
    small = re.search(r"cluster 2: 5 syllables[^<]*", page).group(0)
    assert "edge" not in small and len(re.findall(r"#\d+", small)) == 5
    assert "Transitions of bird1" in page and "entropy" in page


def test_transitions_table_shows_probabilities_as_coloured_cells():
    probabilities = pd.DataFrame([[0.0, 1.0], [0.5, 0.04]], index=["a", "b"], columns=["a", "b"])
    table = transitions_table(probabilities)
    cells = re.findall(
        r"<td style=\"[^\"]*background:(#[0-9a-f]{6});color:(\w+)\"[^>]*>([^<]*)<", table
    )
    assert [text for _, _, text in cells] == ["", "1.00", ".50", ""]  # below 0.05: no text
    assert cells[1][1] == "white" and cells[2][1] == "black"
    # Darker (smaller RGB sum) as more probable.
    darkness = [-sum(int(colour[i : i + 2], 16) for i in (1, 3, 5)) for colour, _, _ in cells]
    assert darkness[0] < darkness[3] < darkness[2] < darkness[1]
    assert 'title="b to b: 0.040"' in table
    blank = transitions_table(pd.DataFrame([[np.nan]], index=["a"], columns=["a"]))
    assert "background:none;color:black" in blank and ">nan<" not in blank
