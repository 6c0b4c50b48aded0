"""HTML report of a motif set: the table of motif pairs and discords, and every profile."""

from __future__ import annotations

from pathlib import Path

from sonotype.atomic import atomic_path
from sonotype.plot.catalog import save_figure
from sonotype.plot.motifs import profile_figure
from sonotype.report.html import escape, figure, page, table


def write_motifs_report(
    folder: Path, name: str, table_rows, results, info: dict, *, max_plots: int = 100
) -> Path:
    """Write ``folder/index.html``: the table of every group and the profile plots of the
    first ``max_plots`` groups (a corpus of thousands of recordings would otherwise make a
    page too heavy to open; every profile is in the artifact); return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    parts = [
        f'<p class="note">per {escape(info["per"])}; CENS at {info["rate_hz"]:g} frames/s, '
        f"smoothing {info['smooth_s']:g} s; window {info['window_s']:g} s; engine "
        f"{escape(info['engine'])}. Distances: mean over the 12 chroma dimensions of "
        "z-normalised Euclidean distances (stumpy.mstump's all-dimension profile).</p>"
    ]
    columns = [
        "group", "motif_recording", "motif_start_s", "match_recording", "match_start_s",
        "motif_distance", "discord_recording", "discord_start_s", "discord_distance",
    ]  # fmt: skip
    rows = [[round(v, 3) if isinstance(v, float) else v for v in row]
            for row in table_rows[columns].itertuples(index=False)]  # fmt: skip
    parts.append(table(columns, rows))
    if len(results) > max_plots:
        parts.append(f'<p class="note">Profiles of the first {max_plots} of {len(results)} '
                     "groups; all are in the motif set's profiles.npz.</p>")  # fmt: skip
    for g, result in enumerate(results[:max_plots]):
        image = folder / f"profile-{g:04d}.png"
        save_figure(profile_figure(result, title=str(result.group)), image)
        parts.append(f"<h2>{escape(result.group)}</h2>")
        parts.append(figure(image.name, f"matrix profile of {result.group}: motif pair in "
                                        "green, discord in red"))  # fmt: skip
    path = folder / "index.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page(f"Motifs: {name}", "\n".join(parts)))
    return path
