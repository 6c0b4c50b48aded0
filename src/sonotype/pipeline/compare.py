"""``compare``: accuracy, trainable parameters and training time across the review runs of
models whose names start with a prefix (SongExplorer's Compare).

Train one model per value of the hyperparameter of interest, named so that they share a
prefix (``mb64``, ``mb128``, ...), cross-validate each (``sonotype xval``), then compare them:
the table and the picture come from each run's ``summary.json`` and ``tasks.csv`` under
``reports/review/MODEL/COMMAND/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sonotype.errors import ParameterError
from sonotype.pipeline.xval_setup import REVIEW_DIR
from sonotype.store import Project

COMMANDS = ("xval", "generalize", "learncurve")
#: Under ``reports/review``: a name no model can have (model names start with a letter or digit).
COMPARE_DIR = "_compare"


@dataclass
class CompareOutcome:
    """One row per run, and the page written."""

    runs: pd.DataFrame
    page: Path


def compare_table(project: Project, prefix: str, *, command: str = "xval") -> pd.DataFrame:
    """One row per model whose name starts with ``prefix`` and that has a ``command``
    report: run, accuracy (mean, sd, min, max), balanced accuracy (mean), trainable
    parameters, training seconds (mean), tasks, and the run's settings."""
    if command not in COMMANDS:
        raise ParameterError(
            f"--command {command} must be one of {', '.join(COMMANDS)}", parameter="command"
        )
    if not prefix:
        raise ParameterError("PREFIX is empty; give the start of the models' names")
    root = project.folder.joinpath(*REVIEW_DIR)
    rows = []
    for path in sorted(root.glob(f"*/{command}/summary.json")):
        model = path.parent.parent.name
        if not model.startswith(prefix) or model == COMPARE_DIR:
            continue
        summary = json.loads(path.read_text(encoding="utf-8"))
        accuracy = summary["accuracy"]
        rows.append(
            {
                "run": model,
                "accuracy_mean": accuracy["mean"],
                "accuracy_sd": accuracy["sd"],
                "accuracy_min": accuracy["min"],
                "accuracy_max": accuracy["max"],
                "balanced_accuracy_mean": summary["balanced_accuracy"]["mean"],
                "n_parameters": summary["n_parameters"],
                "seconds_mean": summary["seconds"]["mean"],
                "n_tasks": summary["n_tasks"],
                "settings": json.dumps(summary.get("config", {}), sort_keys=True),
            }
        )
    if not rows:
        found = sorted({p.parent.parent.name for p in root.glob(f"*/{command}/summary.json")})
        raise ParameterError(
            f"no {command} run of a model whose name starts with {prefix!r}; runs there: "
            f"{', '.join(found) or f'none (run `sonotype {command} NAME` first)'}"
        )
    return pd.DataFrame(rows)


def compare(project: Project, prefix: str, *, command: str = "xval") -> CompareOutcome:
    """Compare the runs (see :func:`compare_table`) and write ``compare.csv``,
    ``compare.png`` and ``index.html`` under ``reports/review/_compare/PREFIX-COMMAND/``."""
    from sonotype.report.review import write_compare_report

    runs = compare_table(project, prefix, command=command)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in prefix)
    folder = project.folder.joinpath(*REVIEW_DIR, COMPARE_DIR, f"{safe}-{command}")
    page = write_compare_report(runs, folder, prefix=prefix)
    return CompareOutcome(runs, page)
