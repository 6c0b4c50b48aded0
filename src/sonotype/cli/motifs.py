"""``sonotype motifs``: recurring stretches (matrix profile of chroma CENS) per recording or
per label."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION


def motifs(
    rate: float = typer.Option(10.0, "--rate", help="CENS frames per second."),
    window: float = typer.Option(5.0, "--window", help="Motif length in seconds."),
    per: str = typer.Option(
        "recording", "--per", help="Find a motif per 'recording' or per 'label' (its events)."
    ),
    smooth: float = typer.Option(1.0, "--smooth", help="CENS smoothing in seconds (0: none)."),
    labels: list[str] = typer.Option(
        [], "--label", help="With --per label: only this label (repeatable; default all)."
    ),
    kind: str = typer.Option(
        "annotated", "--kind", help="With --per label: the kind of events to use."
    ),
    engine: str = typer.Option(
        "auto", "--engine", help="Matrix profile engine: auto, numpy or stumpy."
    ),
    channel: int = typer.Option(0, "--channel", help="Channel of recordings (--per recording)."),
    name: str = typer.Option("motifs", "--name", help="Name of the motif set to write."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Find the top motif pair (the two most similar WINDOW-second stretches) and the top
    discord (the stretch least like any other) of each recording or label, from the matrix
    profile of chroma CENS. Writes artifacts/motifs/NAME (table and full profiles) and the
    report reports/motifs-NAME/index.html."""
    from sonotype.audio import Recording
    from sonotype.checks import check_choice
    from sonotype.cli.console import out, plural, progress
    from sonotype.cli.options import open_project
    from sonotype.errors import ParameterError
    from sonotype.motifs.features import CensSettings
    from sonotype.motifs.find import label_motifs, motif_table, recording_motifs
    from sonotype.motifs.profile import ENGINES
    from sonotype.motifs.store import motifs_folder, save_motifs
    from sonotype.report.motifs import write_motifs_report

    per = check_choice(per, name="per", choices=("recording", "label"))
    engine = check_choice(engine, name="engine", choices=ENGINES)
    settings = CensSettings(rate_hz=rate, smooth_s=smooth)
    with open_project(project_dir) as project:
        motifs_folder(project.folder, name)  # check the name before any work
        results = []
        if per == "recording":
            names = project.recordings()["path"].tolist()
            if not names:
                raise ParameterError("the project has no recordings; run `sonotype scan` first")
            with progress("motifs per recording", len(names), min_items=1) as advance:
                for rec_name in names:
                    rec = Recording(project.recording_path(rec_name))
                    results.append(recording_motifs(
                        rec, name=rec_name, settings=settings, window_s=window,
                        channel=channel, engine=engine,
                    ))  # fmt: skip
                    advance()
        else:
            events = project.events(kinds=[kind], labels=labels or None)
            if events.empty:
                raise ParameterError(
                    f"--kind {kind!r}" + (f" --label {', '.join(labels)}" if labels else "")
                    + ": no such events in the project; check `sonotype info`",
                    parameter="kind",
                )  # fmt: skip
            groups = sorted(events["label"].dropna().unique())
            with progress("motifs per label", len(groups), min_items=1) as advance:
                for label in groups:
                    results.append(label_motifs(
                        events[events["label"] == label],
                        lambda n: Recording(project.recording_path(n)),
                        label=label, settings=settings, window_s=window, engine=engine,
                    ))  # fmt: skip
                    advance()
        info = {"per": per, "rate_hz": rate, "smooth_s": smooth, "window_s": window,
                "engine": engine, "channel": channel, "kind": kind, "labels": labels}  # fmt: skip
        folder = save_motifs(project.folder, name, results, info)
        table = motif_table(results)
        report = write_motifs_report(
            project.reports_dir / f"motifs-{name}", name, table, results, info
        )
    out.print(f"motifs of {plural(len(results), per)}: {folder}")
    for row in table.itertuples(index=False):
        out.print(
            f"  {row.group}: motif {row.motif_start_s:.1f}-{row.motif_stop_s:.1f} s matches "
            f"{row.match_recording} {row.match_start_s:.1f} s (distance "
            f"{row.motif_distance:.3f}); discord at {row.discord_start_s:.1f} s"
        )
    out.print(f"report: {report}")
