"""The repertoire catalog: an offline HTML page per discovery run, with pictures beside it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.atomic import atomic_path
from sonotype.report import html

#: Thumbnails per cluster: the most typical members, then the least typical.
TYPICAL, EDGE = 8, 4
#: Thumbnails per gallery row: a cluster's typical and edge members side by side.
GALLERY_COLUMNS = TYPICAL + EDGE


@dataclass
class CatalogInput:
    """What a catalog shows.

    Attributes
    ----------
    title : str
    coords : ndarray, shape (n, 2)
        The selected 2-D embedding of the syllables.
    clusters : ndarray of int, shape (n,)
        The selected clustering (-1 is noise).
    spectrograms : ndarray, shape (n, n_freq, n_time)
        The syllables' spectrograms, for the galleries.
    summary : DataFrame
        Every (reduction, clustering) pair with its scores, best first.
    labels : ndarray of str, optional
        Human labels of the syllables, when there are any.
    phenotypes : DataFrame, optional
        One row per animal (``Phenotypes.summary``).
    transitions : dict of str to DataFrame, optional
        Transition probabilities per animal (``Phenotypes.transition_probabilities``).
    notes : list of str
        Sentences shown under the title (what was run, what was selected and why).
    """

    title: str
    coords: np.ndarray
    clusters: np.ndarray
    spectrograms: np.ndarray
    summary: pd.DataFrame
    labels: np.ndarray | None = None
    phenotypes: pd.DataFrame | None = None
    transitions: dict[str, pd.DataFrame] | None = None
    notes: tuple[str, ...] = ()


def write_catalog(folder: Path, catalog: CatalogInput, *, max_rows: int = 25) -> Path:
    """Write ``folder/index.html`` and its PNG files; return the page's path."""
    from sonotype.plot.catalog import embedding_figure, gallery_image, save_figure, save_image

    folder.mkdir(parents=True, exist_ok=True)
    parts = [f'<p class="note">{html.escape(note)}</p>' for note in catalog.notes]

    save_figure(embedding_figure(catalog.coords, catalog.clusters, title="clusters"),
                folder / "embedding_clusters.png")  # fmt: skip
    pictures = [html.figure("embedding_clusters.png", "The selected embedding, by cluster")]
    if catalog.labels is not None:
        save_figure(embedding_figure(catalog.coords, catalog.labels, title="human labels"),
                    folder / "embedding_labels.png")  # fmt: skip
        pictures.append(html.figure("embedding_labels.png", "The same, by human label"))
    parts += ["<h2>Embedding</h2>", '<div style="display:flex;gap:1em">', *pictures, "</div>"]

    parts += [
        f"<h2>Scores (best {min(max_rows, len(catalog.summary))} of {len(catalog.summary)}; "
        "all in summary.csv)</h2>",
        html.table(list(catalog.summary.columns), _rounded(catalog.summary.head(max_rows))),
    ]

    parts.append("<h2>Clusters</h2>")
    for cluster, members, typical, edge in _gallery_members(catalog.coords, catalog.clusters):
        name = "noise" if cluster == -1 else f"cluster {cluster}"
        chosen = np.concatenate([typical, edge])
        png = f"gallery_{'noise' if cluster == -1 else cluster}.png"
        save_image(gallery_image(catalog.spectrograms[chosen], columns=GALLERY_COLUMNS),
                   folder / png)  # fmt: skip
        caption = f"{name}: {len(members)} syllables"
        if catalog.labels is not None:
            counts = pd.Series(catalog.labels[members]).value_counts()
            caption += "; human labels " + ", ".join(
                f"{k} ({v})" for k, v in counts.head(4).items()
            )
        # The thumbnails' syllable numbers, left to right: a picture drawn from arrays has
        # no titles, so the caption carries them.
        members_text = "typical #" + ", #".join(map(str, typical))
        if len(edge):
            members_text += "; edge #" + ", #".join(map(str, edge))
        parts.append(html.figure(png, f"{caption}. {members_text}"))

    if catalog.phenotypes is not None and len(catalog.phenotypes):
        parts += ["<h2>Phenotypes per animal</h2>", html.table(
            list(catalog.phenotypes.columns), _rounded(catalog.phenotypes))]  # fmt: skip
    for animal, probabilities in (catalog.transitions or {}).items():
        heading = f"<h3>Transitions of {html.escape(animal)}</h3>"
        parts += [heading, transitions_table(probabilities)]

    index = folder / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(html.page(catalog.title, "\n".join(parts)), encoding="utf-8")
    return index


def transitions_table(probabilities: pd.DataFrame) -> str:
    """A heatmap of first-order transition probabilities as an HTML table (rows: from;
    columns: next; darker is more probable, values of 0.05 and more written in the cells).

    An HTML table instead of a picture: the same colours and numbers, without the
    seconds of matplotlib text layout a picture of a large repertoire took.
    """
    from sonotype.plot.catalog import heat_colours

    values = probabilities.to_numpy(dtype=float)
    colours = heat_colours(values, cmap="Blues")
    cell = "width:2.2em;height:1.6em;padding:0;text-align:center;font-size:0.75em;border:0;"
    head = "".join(
        f'<th style="{cell}background:none">{html.escape(c)}</th>' for c in probabilities.columns
    )
    rows = []
    for r, name in enumerate(probabilities.index):
        cells = []
        for c in range(values.shape[1]):
            value = values[r, c]
            text = f"{value:.2f}".lstrip("0") if value >= 0.05 else ""
            ink = "white" if value > 0.6 else "black"
            # No probability (an animal's type never followed by another): a blank cell.
            shade = colours[r, c] if np.isfinite(value) else "none"
            cells.append(f'<td style="{cell}background:{shade};color:{ink}" '
                         f'title="{html.escape(name)} to {html.escape(probabilities.columns[c])}: '
                         f'{value:.3f}">{text}</td>')  # fmt: skip
        rows.append(f'<tr><th style="{cell}background:none">{html.escape(name)}</th>'
                    + "".join(cells) + "</tr>")  # fmt: skip
    return (
        '<table class="transitions"><caption style="caption-side:bottom;font-size:0.85em">'
        "rows: from; columns: next; darker is more probable</caption>"
        f'<thead><tr><th style="{cell}background:none">from / next</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _gallery_members(coords: np.ndarray, clusters: np.ndarray):
    """Per cluster: its members, the most typical (nearest the centroid) and the edge ones."""
    for cluster in sorted(set(clusters.tolist()), key=lambda c: (c == -1, c)):
        members = np.flatnonzero(clusters == cluster)
        distance = np.linalg.norm(coords[members] - coords[members].mean(axis=0), axis=1)
        order = members[np.argsort(distance, kind="stable")]
        typical = order[:TYPICAL]
        edge = order[TYPICAL:][-EDGE:] if len(order) > TYPICAL else order[:0]
        yield cluster, members, typical, edge


def _rounded(table: pd.DataFrame):
    return (
        tuple(round(v, 3) if isinstance(v, float) else v for v in row)
        for row in table.itertuples(index=False)
    )
