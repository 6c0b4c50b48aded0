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
    from sonotype.plot.catalog import (
        embedding_figure,
        gallery_figure,
        save_figure,
        transitions_figure,
    )

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
        titles = [f"#{i}" for i in typical] + [f"edge #{i}" for i in edge]
        png = f"gallery_{'noise' if cluster == -1 else cluster}.png"
        save_figure(
            gallery_figure(catalog.spectrograms[chosen], titles=titles, columns=12), folder / png
        )
        caption = f"{name}: {len(members)} syllables"
        if catalog.labels is not None:
            counts = pd.Series(catalog.labels[members]).value_counts()
            caption += "; human labels " + ", ".join(
                f"{k} ({v})" for k, v in counts.head(4).items()
            )
        parts.append(html.figure(png, caption))

    if catalog.phenotypes is not None and len(catalog.phenotypes):
        parts += ["<h2>Phenotypes per animal</h2>", html.table(
            list(catalog.phenotypes.columns), _rounded(catalog.phenotypes))]  # fmt: skip
    for animal, probabilities in (catalog.transitions or {}).items():
        png = f"transitions_{_safe(animal)}.png"
        save_figure(transitions_figure(probabilities, title=animal), folder / png)
        parts.append(html.figure(png, f"Transitions of {animal} (rows: from; columns: next)"))

    index = folder / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(html.page(catalog.title, "\n".join(parts)), encoding="utf-8")
    return index


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


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name))
