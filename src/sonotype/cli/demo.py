"""``sonotype demo``: a first tour on synthetic data with known answers."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    folder: Path = typer.Argument(Path("sonotype-demo"), help="Where to write the demo."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the synthetic data."),
    loop: bool = typer.Option(
        True,
        "--loop/--no-loop",
        help="One round of the review loop on the birds (plant wrong labels, train, "
        "mistakes, relabel, retrain); --no-loop skips its five small trainings.",
    ),
    app: bool = typer.Option(
        False, "--app", help="Then open the demo project in the app (`sonotype app --open`)."
    ),
) -> None:
    """Make a project of synthetic birdsong and fly song with exact annotations, and a report.

    Writes the recordings and their ground truth, creates a project in FOLDER, scans it,
    imports the truth and writes reports/index.html. Unless --no-loop, it then plays one
    round of the review loop on the birds: wrong labels planted in a fifth of the training
    syllables, a network trained on them, `mistakes` flags syllables, the confident
    suggestions are accepted, the network is trained again, and both are scored on held-out
    songs against the truth. Re-running replaces a folder that an earlier demo wrote; any
    other non-empty folder is refused. With --app it then serves the app on the demo project
    (http://127.0.0.1:5006/) and opens it in a browser.
    """
    from rich.table import Table

    from sonotype.cli.console import err, out
    from sonotype.pipeline.demo import run_demo

    with err.status("starting") as status:
        result = run_demo(
            folder, random_state=seed, loop=loop, step=lambda s: status.update(s + "...")
        )

    data = result.dataset
    table = Table(title=f"sonotype demo: {data.folder}", title_justify="left", show_footer=True)
    table.add_column("recording", footer="total", no_wrap=True)
    table.add_column("sr (Hz)", justify="right")
    table.add_column("duration (s)", justify="right")
    table.add_column("events", justify="right", footer=str(len(data.truth)))
    table.add_column("labels (count)")
    with_info = {r: data.truth[data.truth["recording"] == r] for r in data.recordings}
    total_s = 0.0
    for name, events in with_info.items():
        from sonotype.audio import Recording

        rec = Recording(data.audio_root / name)
        total_s += rec.duration_s
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
    scores = Table(title="Detection against the known truth", title_justify="left")
    for column in result.detection.columns:
        scores.add_column(
            column, justify="left" if column in ("recordings", "detector", "scored as") else "right"
        )
    for row in result.detection.itertuples(index=False):
        scores.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    out.print(scores)
    best = result.discovery
    out.print(
        f"Repertoire discovery on the birds: {int(best['n_clusters'])} clusters for 11 true "
        f"syllable types, AMI {best['ami']:.3f}, ARI {best['ari']:.3f}; catalog: {result.catalog}"
    )
    if result.embeddings is not None:
        for row in result.embeddings.itertuples(index=False):
            out.print(
                f"Embedding of {row.syllables} bird syllables by {row.model} "
                f"({row.dimensions} dimensions): 5-NN label accuracy {row.knn_accuracy:.3f}"
            )
    if result.classifier is None:
        out.print("No classifier trained: torch is not installed (see the README).")
    else:
        first = result.classifier.iloc[0]
        trained = Table(
            title=f"Fly-song classifier trained on {first['trained_on']}, tested on "
            f"{first['tested_on']}",
            title_justify="left",
        )
        shown = result.classifier[["label", "scored as", "precision", "recall", "F1"]]
        for column in shown.columns:
            trained.add_column(
                column, justify="right" if column in ("precision", "recall", "F1") else "left"
            )
        for row in shown.itertuples(index=False):
            trained.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
        out.print(trained)
    if result.loop is not None:
        review = Table(
            title="One round of the review loop on the birds (docs/review.md)",
            title_justify="left",
        )
        review.add_column("measure")
        review.add_column("value", justify="right")
        for measure, value in result.loop.table().itertuples(index=False):
            review.add_row(measure, f"{value:.3f}" if isinstance(value, float) else str(value))
        out.print(review)
    out.print(
        f"\nProject in [bold]{data.folder}[/]: {result.scan.indexed} recordings indexed, "
        f"{result.imported.total} ground-truth events imported, detections stored.\n"
        f"Report: [bold]{result.report}[/]\n"
        "Next, from inside the project folder:\n"
        f"  cd {data.folder}\n"
        "  sonotype spectrogram flies/fly_01.wav --stop 3 -o fly.png\n"
        "  sonotype export --format raven -o raven/\n"
        "  sonotype ethogram fly-song flies/fly_01.wav && sonotype export --kind predicted "
        "--format songexplorer -o predicted/"
    )
    if app:
        from sonotype.cli.app import app as run_app

        run_app(project_dir=data.folder, host="127.0.0.1", port=5006, open_browser=True)
