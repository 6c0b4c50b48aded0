"""HTML reports of probes, model comparisons and search results (tables, plots, galleries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.atomic import atomic_path
from sonotype.report.html import escape, figure, page, table


def _write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _write_csv(path: Path, frame: pd.DataFrame, *, index: bool = False) -> Path:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index)
    return path


def _rows(frame: pd.DataFrame):
    for row in frame.itertuples(index=False):
        yield [v.item() if isinstance(v, np.generic) else v for v in row]


def write_probe_report(folder: Path, probe, scores) -> dict[str, Path]:
    """``index.html``, ``per_class.csv``, ``confusion.csv`` and ``confusion.png`` in ``folder``."""
    from sonotype.plot.catalog import save_figure
    from sonotype.plot.model import confusion_figure

    folder = Path(folder)
    paths = {
        "per_class": _write_csv(folder / "per_class.csv", scores.per_class),
        "confusion": _write_csv(folder / "confusion.csv", scores.confusion, index=True),
        "confusion_png": save_figure(
            confusion_figure(scores.confusion, title=f"probe {probe.name}: test recordings"),
            folder / "confusion.png",
        ),
    }
    summary = [
        ["embedding", probe.embedding],
        ["model", probe.model],
        ["kind", probe.kind],
        ["labels from", probe.labels_from],
        ["training rows", scores.n_train],
        ["test rows", scores.n_test],
        ["test recordings", ", ".join(scores.test_recordings)],
        ["accuracy", scores.accuracy],
        ["macro accuracy (mean per-class recall)", scores.macro_accuracy],
        ["macro F1", scores.macro_f1],
    ]
    body = (
        table(["", ""], summary)
        + "<h2>Per class (test recordings)</h2>"
        + table(list(scores.per_class.columns), _rows(scores.per_class))
        + figure("confusion.png", "Confusion matrix: rows true labels, columns predicted")
        + '<p class="note">Split by recording: no recording has rows on both sides. '
        "See docs/probes.md.</p>"
    )
    paths["html"] = _write_text(folder / "index.html", page(f"Probe {probe.name}", body))
    return paths


def write_compare_report(
    folder: Path,
    results: pd.DataFrame,
    scatters: Mapping[str, tuple[np.ndarray, Sequence[str]]],
    *,
    title: str = "Embedding models compared",
    notes: str = "",
) -> dict[str, Path]:
    """One table and small-multiple scatter plots (one per set, coloured by the labels)."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    from sonotype.plot.catalog import save_figure

    folder = Path(folder)
    paths = {"csv": _write_csv(folder / "compare.csv", results)}
    body = table(list(results.columns), _rows(results))
    if scatters:
        n = len(scatters)
        columns = min(n, 3)
        rows = -(-n // columns)
        fig = Figure(figsize=(3.6 * columns, 3.6 * rows))
        names = sorted({str(v) for _, labels in scatters.values() for v in labels})
        palette = colormaps["tab20" if len(names) > 10 else "tab10"]
        colour = {name: palette(i % palette.N) for i, name in enumerate(names)}
        for i, (name, (coords, labels)) in enumerate(scatters.items()):
            ax = fig.add_subplot(rows, columns, i + 1)
            labels = np.asarray(labels).astype(str)
            for label in names:
                members = labels == label
                if members.any():
                    ax.scatter(*coords[members].T, s=4, color=colour[label], linewidths=0,
                               label=label)  # fmt: skip
            ax.set_title(name, fontsize=10, loc="left")
            ax.set_xticks([])
            ax.set_yticks([])
        handles, labels = fig.axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(names), 8), fontsize=8,
                   markerscale=3, frameon=False)  # fmt: skip
        fig.subplots_adjust(bottom=0.12, top=0.93, left=0.02, right=0.98, wspace=0.05)
        paths["png"] = save_figure(fig, folder / "scatter.png")
        body += figure("scatter.png", "Each set's best UMAP (2-D), coloured by the true labels")
    if notes:
        body += f'<p class="note">{escape(notes)}</p>'
    paths["html"] = _write_text(folder / "index.html", page(title, body))
    return paths


def write_search_gallery(
    folder: Path,
    hits: pd.DataFrame,
    thumbnails: Sequence[np.ndarray],
    *,
    query: str,
    query_image: np.ndarray | None = None,
) -> dict[str, Path]:
    """A ranked gallery: the query's spectrogram thumbnail, then one per hit with its rank,
    span and similarity."""
    from sonotype.atomic import replace_folder, staging_folder
    from sonotype.plot.catalog import gallery_image, save_image

    # Built aside and renamed into place: a rerun with fewer hits leaves no stale images.
    target = Path(folder)
    folder = staging_folder(target.parent, target.name)
    _write_csv(folder / "hits.csv", hits)
    cells = []
    if query_image is not None:
        save_image(gallery_image(query_image[None], columns=1, cell_px=128), folder / "query.png")
        cells.append(
            '<figure style="display:inline-block;width:150px;margin:4px;vertical-align:top">'
            f'<img src="query.png" alt="query"><figcaption><b>query</b> {escape(query)}'
            "</figcaption></figure>"
        )
    for rank, (row, thumb) in enumerate(zip(hits.itertuples(), thumbnails, strict=True), 1):
        name = f"hit_{rank:04d}.png"
        save_image(gallery_image(thumb[None], columns=1, cell_px=128), folder / name)
        caption = f"#{rank} {row.recording} {row.start_s:.3f}-{row.stop_s:.3f} s, " \
                  f"similarity {row.similarity:.3f}"  # fmt: skip
        cells.append(
            f'<figure style="display:inline-block;width:150px;margin:4px;vertical-align:top">'
            f'<img src="{name}" alt="{escape(caption)}"><figcaption>{escape(caption)}'
            "</figcaption></figure>"
        )
    body = f"<p>Query: {escape(query)}; {len(hits)} nearest by cosine similarity.</p>"
    body += "".join(cells)
    _write_text(folder / "index.html", page("Search by example", body))
    replace_folder(folder, target)
    return {"csv": target / "hits.csv", "html": target / "index.html"}
