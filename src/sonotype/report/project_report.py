"""The project summary report: recordings, annotations per label, annotated spectrograms."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sonotype._version import __version__
from sonotype.atomic import atomic_path
from sonotype.audio import Recording
from sonotype.report import html


def write_project_report(
    project,
    *,
    max_images: int = 12,
    span_s: float = 5.0,
    folder: Path | None = None,
    sections: list[tuple[str, str]] = (),
) -> Path:
    """Write ``reports/index.html`` (or ``folder/index.html``) for ``project``; return its path.

    The page holds a table of the indexed recordings with their events per label, a table of
    events per label and kind, and, for up to ``max_images`` recordings, a spectrogram of the
    first ``span_s`` seconds with the stored events drawn on it (PNG files beside the page).
    ``sections`` adds ``(title, html)`` sections after the tables.
    """
    from sonotype.plot import save_spectrogram

    folder = folder or project.reports_dir
    images = folder / "spectrograms"
    images.mkdir(parents=True, exist_ok=True)
    recordings = project.recordings()
    events = project.events()

    counts = events.groupby(["recording", "label"]).size() if len(events) else None
    rows = []
    for rec in recordings.itertuples(index=False):
        labels = counts.loc[rec.path].to_dict() if counts is not None and rec.path in counts else {}
        rows.append(
            (
                rec.path,
                rec.sr,
                rec.channels,
                rec.duration_s,
                sum(labels.values()),
                ", ".join(f"{label} ({n})" for label, n in sorted(labels.items())),
            )
        )
    parts = [
        f'<p class="note">Project folder {html.escape(project.folder.resolve())}; written '
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by sonotype {__version__}.</p>",
        f"<h2>Recordings ({len(recordings)}, {recordings['duration_s'].sum() / 60:.1f} min)</h2>",
        html.table(
            ["recording", "sr (Hz)", "channels", "duration (s)", "events", "labels (count)"], rows
        ),
    ]
    if len(events):
        by_label = events.groupby(["label", "kind", "source"]).agg(
            n=("start_s", "size"),
            points=("start_s", lambda s: int((s == events.loc[s.index, "stop_s"]).sum())),
            median_s=("stop_s", lambda s: float((s - events.loc[s.index, "start_s"]).median())),
        )
        parts += [
            "<h2>Events per label</h2>",
            html.table(
                ["label", "kind", "source", "events", "point events", "median duration (s)"],
                [(*key, int(r.n), int(r.points), r.median_s) for key, r in by_label.iterrows()],
            ),
        ]
    for section_title, body in sections:
        parts += [f"<h2>{html.escape(section_title)}</h2>", body]
    parts.append(f"<h2>Spectrograms (first {span_s:g} s)</h2>")
    for rec in recordings.head(max_images).itertuples(index=False):
        recording = Recording(project.recording_path(rec.path))
        png = images / (rec.path.replace("/", "__") + ".png")
        save_spectrogram(
            png,
            recording,
            stop_s=min(span_s, recording.duration_s),
            events=events[events["recording"] == rec.path] if len(events) else None,
            title=rec.path,
        )
        parts.append(html.figure(png.relative_to(folder).as_posix(), rec.path))
    if len(recordings) > max_images:
        parts.append(
            f'<p class="note">{len(recordings) - max_images} more recordings not shown.</p>'
        )

    title = f"sonotype project: {project.config.project.name}"
    index = folder / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(html.page(title, "\n".join(parts)), encoding="utf-8")
    return index
