"""The page of a review run (``xval``, ``generalize``, ``learncurve``, ``mistakes``) and of
``compare``: offline HTML with pictures and tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sonotype.atomic import atomic_path
from sonotype.plot.catalog import save_figure
from sonotype.plot.model import confusion_figure
from sonotype.plot.review import compare_figure, jitter_figure, size_curve_figure
from sonotype.report import html
from sonotype.report.model import _rows

if TYPE_CHECKING:
    from sonotype.pipeline.xval_results import ReviewResult


def _spread_rows(summary: dict, keys=("accuracy", "balanced_accuracy", "seconds")):
    for key in keys:
        values = summary.get(key) or {}
        yield [
            key.replace("_", " "),
            *(round(values.get(s, float("nan")), 4) for s in ("mean", "sd", "min", "max")),
        ]


def write_review_report(result: ReviewResult, folder: Path, *, notes: list[str] = ()) -> Path:
    """Write ``folder/index.html`` and its pictures; return the page."""
    title = f"{result.command} of {result.name}"
    summary = result.summary
    parts = [f'<p class="note">{html.escape(note)}</p>' for note in notes]
    parts += [
        "<h2>Accuracy over tasks</h2>",
        '<p class="note">Each task trains a network on some folds and classifies the '
        "examples of the others; accuracy is the fraction of a task's held-out examples "
        "classified right, balanced accuracy the mean over labels of that fraction. sd uses "
        "n - 1.</p>",
        html.table(["quantity", "mean", "sd", "min", "max"], _spread_rows(summary)),
        html.table(
            ["setting", "value"],
            [
                [k, json.dumps(v) if isinstance(v, (list, dict)) else v]
                for k, v in sorted(summary.get("config", {}).items())
            ],
        ),
    ]
    if result.failures:
        parts += [
            "<h2>Failed tasks</h2>",
            html.table(["task", "reason"], sorted(result.failures.items())),
        ]
    if len(result.tasks) and result.tasks["size"].notna().any():
        save_figure(size_curve_figure(result.tasks, title=title), folder / "learning_curve.png")
        parts += [
            "<h2>Learning curve</h2>",
            html.figure(
                "learning_curve.png",
                "Accuracy on the fixed test set against the number of training examples; "
                "one point per task, the line through the means, the band from min to max",
            ),
        ]
    if len(result.recordings):
        save_figure(
            jitter_figure(result.recordings, result.tasks, title=title), folder / "accuracy.png"
        )
        parts.append(
            html.figure(
                "accuracy.png",
                "Accuracy of each task (left) and of each recording's held-out examples in "
                "each task (right); the bar is the mean",
            )
        )
    if len(result.confusion):
        save_figure(
            confusion_figure(result.confusion, title=f"{title}: summed"), folder / "confusion.png"
        )
        confusion = result.confusion.reset_index()
        parts += [
            "<h2>Confusion, summed over tasks</h2>",
            html.figure(
                "confusion.png",
                "Rows: annotated labels; columns: predicted. Colour: fraction of the row",
            ),
            html.table([str(c) for c in confusion.columns], _rows(confusion)),
        ]
    for task, table in result.confusions.items():
        shown = table.reset_index()
        parts += [
            f"<h3>Task {html.escape(task)}</h3>",
            html.table([str(c) for c in shown.columns], _rows(shown)),
        ]
    columns = [c for c in result.tasks.columns]
    parts += [
        "<h2>Tasks</h2>",
        html.table(columns, _rows(result.tasks)),
        '<p class="note">Tables beside this page: predictions.csv (every held-out example), '
        "tasks.csv, confusion.csv, recordings.csv, summary.json.</p>",
    ]
    index = folder / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(html.page(title, "\n".join(parts)), encoding="utf-8")
    return index


def write_compare_report(runs: pd.DataFrame, folder: Path, *, prefix: str) -> Path:
    """Write ``compare.csv``, ``compare.png`` and ``index.html`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "compare.csv") as tmp:
        runs.to_csv(tmp, index=False)
    save_figure(compare_figure(runs, title=f"runs starting with {prefix}"), folder / "compare.png")
    parts = [
        html.figure(
            "compare.png",
            "Accuracy (mean and min-max over tasks), trainable "
            "parameters and mean training seconds of each run",
        ),
        html.table(list(runs.columns), _rows(runs)),
    ]
    index = folder / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(html.page(f"compare {prefix}", "\n".join(parts)), encoding="utf-8")
    return index
