"""Pictures of congruence (:mod:`sonotype.evaluate.congruence`): bars per region, Venn
diagrams of two or three parties, and the model's counts, precision and recall over a
threshold sweep. Each function returns a Figure (no pyplot); write one with
:func:`sonotype.plot.catalog.save_figure`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from sonotype.errors import ParameterError
from sonotype.evaluate.congruence import PARTY_SEPARATOR, Congruence

_SCORES = ("precision", "recall", "f1")


def bars_figure(summary: pd.DataFrame, *, title: str = "") -> Figure:
    """One group of bars per label: ``everyone``, ``only X``, ``not X``, ... (the columns
    of :meth:`Congruence.summary` other than the scores)."""
    regions = [c for c in summary.columns if c not in ("label", *_SCORES)]
    labels = summary["label"].tolist()
    figure = Figure(figsize=(max(4.0, 1.2 + 0.5 * len(regions) * len(labels)), 3.6))
    ax = figure.add_subplot()
    width = 0.8 / max(len(regions), 1)
    colours = colormaps["tab10"]
    x = np.arange(len(labels))
    for i, region in enumerate(regions):
        ax.bar(x + i * width, summary[region].to_numpy(float), width, label=region,
               color=colours(i % 10))  # fmt: skip
    ax.set_xticks(x + 0.4 - width / 2, labels)
    ax.legend(fontsize="small", ncol=2)
    ax.set_title(title)
    figure.tight_layout()
    return figure


def venn_figure(result: Congruence, *, level: str = "event", title: str = "") -> Figure:
    """Venn diagrams of two or three parties, one per label (and ``"(all)"``), each region
    showing its count (event level) or seconds (sample level)."""
    parties = result.parties
    if len(parties) not in (2, 3):
        raise ParameterError(f"a Venn diagram needs 2 or 3 parties, got {len(parties)}")
    table = result.regions[result.regions["level"] == level]
    labels = list(dict.fromkeys(table["label"]))
    figure = Figure(figsize=(3.2 * max(len(labels), 1), 3.4))
    centres = (
        [(-0.5, 0.0), (0.5, 0.0)] if len(parties) == 2 else [(-0.5, 0.35), (0.5, 0.35), (0.0, -0.5)]
    )
    colours = colormaps["tab10"]
    for i, label in enumerate(labels or ["(none)"]):
        ax = figure.add_subplot(1, max(len(labels), 1), i + 1)
        values = table[table["label"] == label].set_index("parties")["value"]
        for j, (cx, cy) in enumerate(centres):
            ax.add_patch(Circle((cx, cy), 0.9, alpha=0.25, color=colours(j)))
            ax.text(1.35 * cx, 1.35 * cy + (0.95 if cy >= 0 else -1.1), parties[j],
                    ha="center", fontsize="small")  # fmt: skip
        for mask in range(1, 1 << len(parties)):
            members = [j for j in range(len(parties)) if mask >> j & 1]
            key = PARTY_SEPARATOR.join(parties[j] for j in members)
            # The region's label sits at its members' centre pushed away from the others.
            inside = np.mean([centres[j] for j in members], axis=0)
            outside = [centres[j] for j in range(len(parties)) if j not in members]
            if outside:
                inside = inside + 0.45 * (inside - np.mean(outside, axis=0))
            value = float(values.get(key, 0.0))
            text = f"{value:.0f}" if level == "event" else f"{value:.3g}"
            ax.text(*inside, text, ha="center", va="center", fontsize="small")
        ax.set_xlim(-1.7, 1.7)
        ax.set_ylim(-1.7, 1.7)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(label, fontsize="small")
    figure.suptitle(title)
    return figure


def sweep_figure(
    sweep: pd.DataFrame,
    chosen: pd.DataFrame | None,
    operating: Mapping[str, float],
    *,
    title: str = "",
) -> Figure:
    """Per label: false alarms and misses against the threshold (left, with the ethogram's
    threshold and the dense one marked) and precision against recall (right)."""
    labels = [x for x in dict.fromkeys(sweep["label"]) if x != "(all)"]
    figure = Figure(figsize=(8.0, 2.6 * max(len(labels), 1)))
    for i, label in enumerate(labels):
        curve = sweep[sweep["label"] == label].sort_values("threshold")
        left = figure.add_subplot(len(labels), 2, 2 * i + 1)
        left.plot(curve["threshold"], curve["false_positives"], label="only model (false alarms)")
        left.plot(curve["threshold"], curve["false_negatives"], label="not model (misses)")
        if label in operating:
            left.axvline(operating[label], color="grey", linestyle=":", label="ethogram")
        if chosen is not None:
            rows = chosen[(chosen["label"] == label) & chosen["threshold"].notna()]
            for row in rows.itertuples():
                left.axvline(row.threshold, color="black", linestyle="--",
                             label=f"dense P/R {row.pr_ratio:g}")  # fmt: skip
        left.set_xlabel("threshold")
        left.set_title(label, fontsize="small")
        left.legend(fontsize="x-small")
        right = figure.add_subplot(len(labels), 2, 2 * i + 2)
        right.plot(curve["recall"], curve["precision"], marker=".")
        right.set_xlim(0, 1.02)
        right.set_ylim(0, 1.02)
        right.set_xlabel("recall")
        right.set_ylabel("precision")
    figure.suptitle(title)
    figure.tight_layout()
    return figure
