"""``sonotype congruence``: a model's ethogram against densely annotated recordings."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION


def _split(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _numbers(text: str, flag: str) -> list[float]:
    from sonotype.errors import ParameterError

    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ParameterError(
            f"{flag} {text!r} must be comma-separated numbers, e.g. 0.1,0.5,0.9"
        ) from None


def congruence(
    name: str = typer.Argument(..., help="The trained model whose ethogram to judge."),
    dense: list[str] = typer.Option(
        ...,
        "--dense",
        help="Sources of the dense annotations, one per annotator (comma-separated or repeated).",
    ),
    recordings: list[str] = typer.Option(
        [], "--recordings", help="Only these recordings (globs; default: all densely annotated)."
    ),
    portion: str = typer.Option(
        "union",
        "--portion",
        help="Judge the union of the annotators' spans, or only their intersection.",
    ),
    labels: str = typer.Option(
        None, "--labels", help="Only these labels (comma-separated; default: all annotated)."
    ),
    tolerance_ms: float = typer.Option(
        10.0, "--tolerance-ms", help="Events this close are the same sound (event level)."
    ),
    sweep: str = typer.Option(
        None, "--sweep", help="Thresholds to sweep (comma-separated; default 0.05 to 0.95)."
    ),
    pr_ratios: str = typer.Option(
        "1.0", "--pr-ratios", help="Precision/recall ratios to choose dense thresholds for."
    ),
    choose_level: str = typer.Option(
        "event", "--choose-by", help="event or sample: the level that chooses the thresholds."
    ),
    pr_ratio: float = typer.Option(
        None, "--pr-ratio", help="Ethogram thresholds: thresholds.csv at this ratio."
    ),
    thresholds: Path = typer.Option(
        None, "--thresholds", help="Ethogram thresholds: this thresholds file."
    ),
    output: Path = typer.Option(
        None, "-o", "--output", help="Report folder (default reports/congruence/NAME)."
    ),
    store: bool = typer.Option(
        True, "--store/--no-store", help="Store the disagreements as missed/mistaken events."
    ),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Compare a model's ethogram with densely annotated recordings (any number of
    annotators): sounds and time labelled by everyone, only by X, by all but X; a sweep
    over thresholds writing thresholds-dense.csv for `sonotype ethogram --thresholds`; bar,
    Venn and sweep plots; the model's false alarms stored as kind `mistaken` and its misses
    as kind `missed` (source congruence-NAME), one undoable edit."""
    from sonotype.cli.console import out, progress
    from sonotype.cli.options import open_project
    from sonotype.pipeline.congruence import DEFAULT_SWEEP, congruence_report

    with open_project(project_dir) as project, progress("classifying", None) as advance:
        report = congruence_report(
            project,
            name,
            dense=_split(dense),
            recordings=_split(recordings) or None,
            portion=portion,
            labels=_split([labels]) if labels else None,
            tolerance_ms=tolerance_ms,
            sweep=_numbers(sweep, "--sweep") if sweep else DEFAULT_SWEEP,
            pr_ratios=_numbers(pr_ratios, "--pr-ratios"),
            choose_level=choose_level,
            pr_ratio=pr_ratio,
            thresholds_file=thresholds,
            output=output,
            store=store,
            progress=lambda stage, done, total: advance.set(done, total, description=stage),
        )
    for line in report.origins:
        out.print(line)
    for level, unit in (("event", "sounds"), ("sample", "seconds")):
        out.print(f"{level} level ({unit}):")
        summary = report.result.summary(level)
        out.print(summary.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    chosen = report.thresholds
    out.print(
        "dense thresholds: "
        + ", ".join(
            f"{row.label} {row.threshold:.2f} (ratio {row.pr_ratio:g})"
            for row in chosen.itertuples()
        )
    )
    out.print(f"wrote {len(report.files)} files in {report.folder}")
    if report.edit is not None:
        out.print(f"stored the disagreements: {report.edit.description} (edit {report.edit.id})")
