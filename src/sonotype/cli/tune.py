"""``sonotype tune-detector``: learn a detector's parameters from the project's annotations."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION


def tune_detector(
    method: str = typer.Option(
        ..., "--method", "-m", help="Detector to tune: amplitude, time-freq."
    ),
    recordings: list[str] = typer.Option(
        [],
        "--recordings",
        help="Annotated recordings to tune on (names inside the audio root; comma-separated "
        "or repeated); default: every recording with annotated events.",
    ),
    labels: list[str] = typer.Option(
        [],
        "--labels",
        help="Annotated labels that are the sounds to find (comma-separated or repeated); "
        "default: all. Labels are otherwise ignored: segments only.",
    ),
    tolerance_ms: float = typer.Option(
        10.0, "--tolerance-ms", help="Largest onset (and offset) difference of a match, ms."
    ),
    trials: int = typer.Option(50, "--trials", help="Settings tried per search."),
    folds: int = typer.Option(3, "--folds", help="Folds of whole recordings for validation."),
    seed: int = typer.Option(0, "--seed", help="Seed of the folds and of the search."),
    workers: int = typer.Option(0, "--workers", help="Processes (default: one per core)."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Search a detector's parameters against the project's annotated events, validated on
    whole recordings held out, and write the chosen ones to sonotype.toml (its
    detect.METHOD table), which `sonotype detect --method METHOD` then uses by default.

    Prints the F1 of the defaults (before) and of the tuned settings (after) per recording:
    each recording's "after" comes from a search that did not see it. Writes the table to
    reports/tune-detector-METHOD.csv and the run's settings beside it (.json).
    """
    import json
    import math

    from sonotype.atomic import atomic_path
    from sonotype.cli.console import err, out, progress
    from sonotype.cli.options import open_project
    from sonotype.detect import DETECTORS
    from sonotype.detect.tune import TuneRecording
    from sonotype.detect.tune import tune_detector as tune
    from sonotype.errors import ParameterError
    from sonotype.store.config import CONFIG_NAME, save_config

    DETECTORS.get(method)  # an unknown name lists the valid ones before any work
    if not math.isfinite(tolerance_ms) or tolerance_ms < 0:
        raise ParameterError(
            f"--tolerance-ms={tolerance_ms:g} must be a finite number >= 0; the default is 10"
        )
    if trials < 1:
        raise ParameterError(f"--trials={trials} must be at least 1; the default is 50")
    if folds < 2:
        raise ParameterError(f"--folds={folds} must be at least 2; the default is 3")
    wanted = _split(recordings)
    chosen_labels = _split(labels)

    project = open_project(project_dir)
    with project:
        annotated = project.events(kinds=["annotated"])
        if chosen_labels:
            unknown = sorted(set(chosen_labels) - set(annotated["label"]))
            if unknown:
                raise ParameterError(
                    f"--labels {', '.join(unknown)}: no annotated events have "
                    f"{'these labels' if len(unknown) > 1 else 'this label'}; annotated "
                    f"labels: {', '.join(sorted(set(annotated['label']))) or 'none'}"
                )
            annotated = annotated[annotated["label"].isin(chosen_labels)]
        if annotated.empty:
            raise ParameterError(
                f"the project in {project.folder} has no annotated events to tune against; "
                "import annotations first (`sonotype import FILE`, kind annotated)"
            )
        index = project.recordings().set_index("path")
        names = sorted(set(annotated["recording"]) & set(index.index))
        if wanted:
            missing = sorted(set(wanted) - set(names))
            if missing:
                raise ParameterError(
                    f"--recordings {', '.join(missing)}: not an indexed recording with "
                    f"annotated events; those are: {_shown(names)}"
                )
            names = sorted(wanted)
        if not names:
            raise ParameterError(
                "no indexed recording has annotated events; run `sonotype scan`, then "
                "`sonotype import` the annotations"
            )
        annotated = annotated[annotated["recording"].isin(names)]
        items = [
            TuneRecording(
                name,
                project.recording_path(name),
                int(index.loc[name, "sr"]),
                tuple(sorted(set(annotated.loc[annotated["recording"] == name, "channel"]))),
            )
            for name in names
        ]
        settings = {
            "method": method,
            "recordings": names,
            "labels": chosen_labels,
            "tolerance_ms": tolerance_ms,
            "trials": trials,
            "folds": folds,
            "seed": seed,
        }
        with project.run("tune-detector", settings), progress("tuning", None) as advance:
            result = tune(
                method,
                items,
                annotated,
                tolerance_s=tolerance_ms / 1000,
                n_trials=trials,
                n_folds=folds,
                seed=seed,
                workers=workers or None,
                progress=lambda done, total: advance.set(done, total),
            )
            project.config.detect.set_params(method, result.params)
            save_config(project.config, project.folder / CONFIG_NAME)
        report = project.reports_dir / f"tune-detector-{method}.csv"
        with atomic_path(report) as tmp:
            result.scores.to_csv(tmp, index=False)
        record = {
            **settings,
            "params": result.params,
            "fold_params": result.fold_params,
            "cross_validated": result.cross_validated,
            "before_f1": _plain(result.before_f1),
            "after_f1": _plain(result.after_f1),
            "train_f1": _plain(result.train_f1),
        }
        with atomic_path(report.with_suffix(".json")) as tmp:
            tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")

    _print_scores(result, tolerance_ms=tolerance_ms)
    if not result.cross_validated:
        err.print(
            "[yellow]warning:[/] only one annotated recording: its 'after' score is on the "
            "recording tuned on, so it overstates the accuracy on new recordings",
            soft_wrap=True,
        )
    shown = ", ".join(f"{k}={v}" for k, v in result.params.items())
    out.print(f"wrote [detect.{method}] to {project.folder / CONFIG_NAME}: {shown}", markup=False)
    out.print(f"wrote {report} and {report.with_suffix('.json').name}", markup=False)


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _shown(names: list[str], limit: int = 5) -> str:
    if not names:
        return "none"
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _plain(value: float):
    import math

    return None if value is None or not math.isfinite(value) else value


def _print_scores(result, *, tolerance_ms: float) -> None:
    import math

    from rich import box
    from rich.table import Table

    from sonotype.cli.console import out

    how = "held-out folds" if result.cross_validated else "in-sample"
    table = Table(
        title=f"{result.method}: F1 before (defaults) and after tuning ({how}, tolerance "
        f"{tolerance_ms:g} ms, labels ignored)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("recording", overflow="fold")
    for name in ("fold", "refs", "P before", "R before", "F1 before", "P after", "R after"):
        table.add_column(name, justify="right")
    table.add_column("F1 after", justify="right")

    def number(value) -> str:
        return "–" if value is None or not math.isfinite(value) else f"{value:.3f}"

    rows = result.scores.to_dict(orient="records")
    for i, row in enumerate(rows):
        table.add_row(
            row["recording"],
            "" if row["fold"] < 0 else str(row["fold"] + 1),
            str(row["n_ref"]),
            *(number(row[f"before_{k}"]) for k in ("precision", "recall", "f1")),
            *(number(row[f"after_{k}"]) for k in ("precision", "recall", "f1")),
            end_section=i == len(rows) - 2,
        )
    out.print(table)
