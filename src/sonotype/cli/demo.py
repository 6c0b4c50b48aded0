"""``sonotype demo``: a first tour on synthetic data with known answers."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    folder: Path = typer.Argument(Path("sonotype-demo"), help="Where to write the demo."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the synthetic data."),
) -> None:
    """Write synthetic birdsong and fly song with exact annotations, and summarise them.

    Re-running replaces a folder that an earlier demo wrote; any other non-empty folder is
    refused.
    """
    from rich.table import Table

    from sonotype.audio import Recording
    from sonotype.cli.console import err, out
    from sonotype.synth.dataset import write_demo_dataset

    with err.status("writing synthetic recordings..."):
        data = write_demo_dataset(folder, random_state=seed)

    table = Table(title=f"sonotype demo: {data.folder}", title_justify="left", show_footer=True)
    table.add_column("recording", footer="total", no_wrap=True)
    table.add_column("sr (Hz)", justify="right")
    table.add_column("duration (s)", justify="right")
    table.add_column("events", justify="right", footer=str(len(data.truth)))
    table.add_column("labels (count)")
    total_s = 0.0
    for name in data.recordings:
        rec = Recording(data.audio_root / name)
        total_s += rec.duration_s
        events = data.truth[data.truth["recording"] == name]
        counts = events["label"].value_counts().sort_index()
        table.add_row(
            name,
            str(rec.sr),
            f"{rec.duration_s:.1f}",
            str(len(events)),
            ", ".join(f"{label} ({n})" for label, n in counts.items()),
        )
    table.columns[2].footer = f"{total_s:.1f}"
    out.print(table)
    out.print(
        f"\nAudio in [bold]{data.audio_root}[/]; ground truth in "
        f"[bold]{data.folder / 'annotations' / 'truth.csv'}[/] (and SongExplorer CSVs beside "
        "the fly recordings).\nNext:\n"
        f"  sonotype info {data.audio_root}\n"
        f"  sonotype convert {data.folder / 'annotations' / 'truth.csv'} --to raven "
        f"-o {data.folder / 'raven'}"
    )
