"""The review commands: ``xval``, ``generalize``, ``learncurve``, ``mistakes`` and
``compare``. Each repeats the training of a model made by ``sonotype train`` on parts of its
ground truth; torch loads only when a command runs. See docs/review.md."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION

NAME = typer.Argument(
    ..., help="A model trained with `sonotype train`: its labels, events, network and settings."
)
REPLICATES = typer.Option(1, "--replicates", help="Networks per fold, from new seeds.")
SEED = typer.Option(0, "--seed", help="Seeds the folds and the first replicate's network.")
STEPS = typer.Option(None, "--steps", help="Training steps per network (default: the model's).")
VALIDATE_PERCENT = typer.Option(
    None,
    "--validate-percent",
    help="Validation (checkpoint choice) inside each task's training folds: this percentage "
    "of each label's examples. Default: as `sonotype train` chooses (whole recordings when "
    "at least 3 have examples and some can be held out).",
)
WORKERS = typer.Option(
    0,
    "--workers",
    help="Local processes training folds at once: 0 (the default) for as many as the cores "
    "and memory hold; the compute section of sonotype.toml may choose Dask instead.",
)


def _run(project_dir: Path, workers: int, description: str, total: int, call):
    """Open the project and its executor, show progress per task, and call ``call``."""
    from sonotype.checks import check_int
    from sonotype.cli.console import progress
    from sonotype.cli.options import open_project
    from sonotype.pipeline.executors import open_executor

    check_int(workers, name="workers", minimum=0, default=0,
              hint="0 runs as many processes as the cores and memory hold")  # fmt: skip
    n_workers = workers or None
    with open_project(project_dir) as project:
        compute = getattr(project.config, "compute", None)
        with (
            open_executor(compute, workers=n_workers) as executor,
            progress(description, total, min_items=1) as advance,
        ):
            return call(project, executor, lambda name: advance())


def _print_result(result) -> None:
    from rich.markup import escape

    from sonotype.cli.console import EXIT_PARTIAL, err, out

    summary = result.summary
    a, b = summary["accuracy"], summary["balanced_accuracy"]
    out.print(
        f"accuracy {a['mean']:.3f} (sd {a['sd']:.3f}, min {a['min']:.3f}, max {a['max']:.3f}); "
        f"balanced accuracy {b['mean']:.3f} (sd {b['sd']:.3f}) over {summary['n_tasks']} task(s)"
    )
    out.print(result.confusion.to_string())
    if result.folder is not None:
        out.print(f"report: {result.folder / 'index.html'}")
    if result.failures:
        for task, why in result.failures.items():
            err.print(f"[red]failed:[/] task {escape(task)}: {escape(why)}", soft_wrap=True)
        err.print(
            f"[yellow]partial:[/] {len(result.failures)} task(s) failed; the others are kept "
            "(run the command again to retry them)"
        )
        raise typer.Exit(EXIT_PARTIAL)


def xval(
    name: str = NAME,
    k: int = typer.Option(
        5, "--k", help="Folds; negative trains each network on one fold only (e.g. -4: 25%)."
    ),
    replicates: int = REPLICATES,
    seed: int = SEED,
    steps: int = STEPS,
    validate_percent: float = VALIDATE_PERCENT,
    workers: int = WORKERS,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Cross-validate a model's recipe: k folds of its annotated examples (stratified by
    label; examples whose context windows overlap stay in one fold), a network per fold and
    replicate, each tested on the examples it never saw. Writes per-fold and summed confusion
    matrices, accuracy with its spread and a report to reports/review/NAME/xval/."""
    from sonotype.pipeline.xval import xval as run_xval

    result = _run(
        project_dir,
        workers,
        "folds",
        abs(k) * max(replicates, 1),
        lambda project, executor, advance: run_xval(
            project,
            name,
            k=k,
            replicates=replicates,
            seed=seed,
            steps=steps,
            validate_percent=validate_percent,
            executor=executor,
            progress=advance,
        ),
    )
    _print_result(result)


def generalize(
    name: str = NAME,
    omit: str = typer.Option(
        "one",
        "--omit",
        help="one: a network per recording, that recording withheld; some: --k folds of "
        "whole recordings; all: one network with every --recordings recording withheld.",
    ),
    recordings: list[str] = typer.Option(
        None,
        "--recordings",
        help="The recordings to withhold (names or globs; repeat the option). Default: every "
        "recording with examples. The others are always trained on.",
    ),
    k: int = typer.Option(None, "--k", help="Folds of recordings, with --omit some."),
    replicates: int = REPLICATES,
    seed: int = SEED,
    steps: int = STEPS,
    validate_percent: float = VALIDATE_PERCENT,
    workers: int = WORKERS,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Measure generalisation to new recordings: networks trained with whole recordings
    withheld, tested on them. Writes the accuracy per withheld recording (a jitter plot),
    the summed confusion matrix and a report to reports/review/NAME/generalize/."""
    from sonotype.pipeline.generalize import generalize as run_generalize

    result = _run(
        project_dir,
        workers,
        "withheld",
        None,
        lambda project, executor, advance: run_generalize(
            project,
            name,
            omit=omit,
            recordings=recordings or None,
            k=k,
            replicates=replicates,
            seed=seed,
            steps=steps,
            validate_percent=validate_percent,
            executor=executor,
            progress=advance,
        ),
    )
    _print_result(result)


def learncurve(
    name: str = NAME,
    sizes: str = typer.Option(
        ...,
        "--sizes",
        help="Training-set sizes, comma-separated: fractions of each label's examples "
        "(0 < s <= 1) or whole numbers of examples per label, e.g. 0.1,0.25,0.5,1.",
    ),
    replicates: int = REPLICATES,
    seed: int = SEED,
    test_percent: float = typer.Option(
        20.0,
        "--test-percent",
        help="Share of the example groups set aside as the fixed test set (stratified).",
    ),
    test_recordings: list[str] = typer.Option(
        None,
        "--test-recordings",
        help="Test on these whole recordings instead (names or globs; repeat the option).",
    ),
    steps: int = STEPS,
    validate_percent: float = VALIDATE_PERCENT,
    workers: int = WORKERS,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Accuracy against the amount of ground truth (vak's learning curve): for each size
    and replicate a network trained on that much of the training examples, all tested on
    the same test set. Writes the curve and a report to reports/review/NAME/learncurve/."""
    from sonotype.errors import ParameterError
    from sonotype.pipeline.learncurve import check_sizes
    from sonotype.pipeline.learncurve import learncurve as run_learncurve

    try:
        values = check_sizes([float(s) for s in sizes.split(",") if s.strip()])
    except ValueError as error:
        if isinstance(error, ParameterError):
            raise
        raise ParameterError(
            f"--sizes {sizes!r} must be numbers, e.g. 0.1,0.25,0.5,1", parameter="sizes"
        ) from None
    result = _run(
        project_dir,
        workers,
        "sizes",
        len(values) * max(replicates, 1),
        lambda project, executor, advance: run_learncurve(
            project,
            name,
            sizes=values,
            replicates=replicates,
            seed=seed,
            test_percent=test_percent,
            test_recordings=test_recordings or None,
            steps=steps,
            validate_percent=validate_percent,
            executor=executor,
            progress=advance,
        ),
    )
    from sonotype.cli.console import out

    by_size = result.summary.get("by_size", {})
    for size, row in by_size.items():
        out.print(
            f"size {size}: {row['n_train']['mean']:.0f} training examples, accuracy "
            f"{row['accuracy']['mean']:.3f} (min {row['accuracy']['min']:.3f}, max "
            f"{row['accuracy']['max']:.3f})"
        )
    _print_result(result)


def mistakes(
    name: str = NAME,
    k: int = typer.Option(5, "--k", help="Folds of the cross-validation that classifies."),
    seed: int = SEED,
    steps: int = STEPS,
    validate_percent: float = VALIDATE_PERCENT,
    workers: int = WORKERS,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Classify every annotated event with a network that never trained on it (k-fold
    cross-validation, reused when done) and store each disagreement as an event of kind
    `mistaken` (label: the predicted one; score; label:annotated: the annotated one), in one
    undoable edit replacing the model's previous mistakes."""
    from sonotype.cli.console import out
    from sonotype.pipeline.mistakes import mistakes as run_mistakes

    outcome = _run(
        project_dir,
        workers,
        "folds",
        abs(k),
        lambda project, executor, advance: run_mistakes(
            project,
            name,
            k=k,
            seed=seed,
            steps=steps,
            validate_percent=validate_percent,
            executor=executor,
            progress=advance,
        ),
    )
    table = outcome.mistakes
    out.print(
        f"{len(table)} of {outcome.n_events} annotated events classified otherwise; stored "
        f"as kind mistaken, source {name}"
        + ("" if outcome.edit_id is not None else " (unchanged: no new edit)")
    )
    if len(table):
        counts = table.groupby(["label:annotated", "label"]).size()
        out.print(
            "; ".join(
                f"{annotated} -> {predicted}: {n}" for (annotated, predicted), n in counts.items()
            )
        )
    if outcome.edit_id is not None:
        out.print(f"edit {outcome.edit_id}; `sonotype undo` takes it back")
    _print_result(outcome.result)


def compare(
    prefix: str = typer.Argument(..., help="The start of the names of the models to compare."),
    command: str = typer.Option(
        "xval", "--command", help="Compare the runs of this command: xval, generalize, learncurve."
    ),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Compare accuracy, trainable parameters and training time across the models whose
    names start with PREFIX (one hyperparameter varied; SongExplorer's Compare), from their
    xval (or --command) reports. Writes a table and a picture."""
    from sonotype.cli.console import out
    from sonotype.cli.options import open_project
    from sonotype.pipeline.compare import compare as run_compare

    with open_project(project_dir) as project:
        outcome = run_compare(project, prefix, command=command)
    shown = outcome.runs.drop(columns="settings")
    out.print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    out.print(f"report: {outcome.page}")
