"""The accuracy report of a trained classifier: an offline HTML page with pictures and tables."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sonotype.atomic import atomic_path
from sonotype.errors import ParameterError
from sonotype.models.accuracy import AccuracyResult
from sonotype.models.postprocess import PostProcessing
from sonotype.report import html

#: How a missing (NaN) score is shown in the page's tables.
MISSING = "n/a"


def write_model_report(
    folder: str | os.PathLike[str],
    *,
    name: str,
    result: AccuracyResult,
    curve: pd.DataFrame | None = None,
    checkpoints: pd.DataFrame | None = None,
    mistakes: pd.DataFrame,
    best_step: int | None = None,
    max_mistakes: int = 50,
    postprocessing: PostProcessing | None = None,
    intervals: pd.DataFrame | None = None,
    notes: Sequence[str] = (),
) -> Path:
    """Write ``folder/index.html`` with its PNG files and ``mistakes.csv``; return the page.

    Parameters
    ----------
    folder : path-like
        Created if missing; files already there with the same names are replaced.
    name : str
        The model's name, the page's title.
    result : AccuracyResult
        From :func:`sonotype.models.accuracy.validation_accuracy`.
    curve : DataFrame, optional
        The learning curve (see :func:`sonotype.plot.model.learning_curve_figure`).
    checkpoints : DataFrame, optional
        Columns ``step`` and ``macro_f1``, one row per checkpoint, and optionally the
        post-processed validation scores ``objective``, ``f1``, ``ser``, ``point_f1``.
    mistakes : DataFrame
        From :func:`sonotype.models.accuracy.mistakes_table`; all of it is written to
        ``mistakes.csv`` beside the page, the first ``max_mistakes`` rows shown.
    best_step : int, optional
        The step of the checkpoint the model keeps.
    max_mistakes : int
        Rows of ``mistakes`` shown in the page (>= 0).
    postprocessing : PostProcessing, optional
        The learned post-processing (:mod:`sonotype.models.postprocess`): its settings, their
        bounds and scores are shown, validation and test apart.
    intervals : DataFrame, optional
        The training annotations' gaps and durations
        (:func:`~sonotype.models.postprocess.annotation_intervals`), drawn per label with the
        chosen minimum gap and duration (``intervals.png``).
    notes : sequence of str
        Shown at the top of the page (e.g. that validation cannot rank the checkpoints).

    Returns
    -------
    Path
        ``folder/index.html``. Beside it: ``confusion.png``, ``pr_curves.png``,
        ``learning_curve.png`` (when ``curve`` is given), ``checkpoints.png`` (when
        ``checkpoints`` is given) and ``mistakes.csv``. Every file is written atomically.
    """
    from sonotype.plot.catalog import save_figure
    from sonotype.plot.model import (
        checkpoints_figure,
        confusion_figure,
        intervals_figure,
        learning_curve_figure,
        pr_curves_figure,
    )

    if not isinstance(result, AccuracyResult):
        raise ParameterError(
            f"result must be an AccuracyResult, got {type(result).__name__}; make one with "
            "sonotype.models.accuracy.validation_accuracy"
        )
    if not isinstance(mistakes, pd.DataFrame):
        raise ParameterError(
            f"mistakes must be a pandas DataFrame, got {type(mistakes).__name__}; make one "
            "with sonotype.models.accuracy.mistakes_table"
        )
    if isinstance(max_mistakes, bool) or not isinstance(max_mistakes, int) or max_mistakes < 0:
        raise ParameterError(
            f"max_mistakes={max_mistakes!r} must be an integer >= 0; the default is 50"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    summary = [
        ("loss", result.loss),
        ("labels", len(result.labels)),
        ("macro F1 (labels with examples)", _cell(result.macro_f1)),
        ("best checkpoint step", MISSING if best_step is None else int(best_step)),
        ("mistakes", len(mistakes)),
    ]
    parts = [f'<p class="note">Note: {html.escape(note)}</p>' for note in notes]
    parts += [
        "<h2>Summary</h2>",
        html.table(["quantity", "value"], summary),
        "<h2>Per label</h2>",
        f'<p class="note">{html.escape(_decision_note(result.loss))}</p>',
        html.table(list(result.per_label.columns), _rows(result.per_label)),
        "<h2>Thresholds</h2>",
        '<p class="note">The threshold on each label\'s probability at which precision divided '
        "by recall is nearest each pr ratio; n/a where the validation set holds no positive or "
        "no negative example of the label.</p>",
        html.table(list(result.thresholds.columns), _rows(result.thresholds)),
    ]

    save_figure(confusion_figure(result.confusion, title=name), folder / "confusion.png")
    confusion = result.confusion.reset_index()
    parts += [
        "<h2>Confusion</h2>",
        html.figure("confusion.png", _confusion_caption(result.loss)),
        html.table([str(c) for c in confusion.columns], _rows(confusion)),
    ]

    save_figure(
        pr_curves_figure(result.pr_curves, result.thresholds, title=name),
        folder / "pr_curves.png",
    )
    parts += [
        "<h2>Precision and recall</h2>",
        html.figure(
            "pr_curves.png",
            "Precision against recall as the threshold on each label's probability varies "
            "(one versus the rest); markers at the chosen thresholds",
        ),
    ]

    if curve is not None:
        save_figure(learning_curve_figure(curve, title=name), folder / "learning_curve.png")
        parts += [
            "<h2>Learning curve</h2>",
            html.figure("learning_curve.png", "Loss, accuracy and per-label F1 during training"),
        ]
    if postprocessing is not None:
        parts += _postprocessing_parts(postprocessing)
        if intervals is not None:
            figure = intervals_figure(
                intervals,
                min_gap_s=postprocessing.min_gap_s,
                min_duration_s=postprocessing.min_duration_s,
                bounds=postprocessing.bounds,
                title=name,
            )
            save_figure(figure, folder / "intervals.png")
            parts.append(
                html.figure(
                    "intervals.png",
                    "Training annotations per label: gaps after each event and durations "
                    "(ms, log scale); solid line: the chosen minimum gap or duration; dashed: "
                    "its bound (5th percentile)",
                )
            )
    if checkpoints is not None:
        save_figure(checkpoints_figure(checkpoints, title=name), folder / "checkpoints.png")
        caption = "Validation macro F1 of the windows at each saved checkpoint"
        if "objective" in checkpoints.columns:
            caption += (
                ", and the objective of its post-processed ethogram on the validation "
                "recordings (F1 - SER for syllables, point F1 for points), which ranks them"
            )
        parts += [
            "<h2>Checkpoints</h2>",
            html.figure("checkpoints.png", caption),
            html.table([str(c) for c in checkpoints.columns], _rows(checkpoints)),
        ]

    with atomic_path(folder / "mistakes.csv") as tmp:
        mistakes.to_csv(tmp, index=False)
    shown = mistakes.head(max_mistakes)
    parts += [
        f"<h2>Mistakes ({len(shown)} of {len(mistakes)} shown)</h2>",
        f'<p class="note">Most confident mistakes first. All {len(mistakes)} are in '
        f'<a href="mistakes.csv">mistakes.csv</a> beside this page '
        f"({html.escape((folder / 'mistakes.csv').resolve())}).</p>",
        html.table([str(c) for c in shown.columns], _rows(shown)),
    ]

    index = folder / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(html.page(name, "\n".join(parts)), encoding="utf-8")
    return index


def _postprocessing_parts(chosen: PostProcessing) -> list[str]:
    """The learned post-processing: how it was chosen, its settings, its scores."""
    validation = chosen.validation
    how = (
        "Chosen on the validation recordings to maximise F1 - SER of the syllables (events "
        f"matched within {1000 * chosen.tolerance_s:g} ms at onset and offset; SER: edit "
        "distance between label sequences per true syllable) and the F1 of point events "
        f"within {1000 * chosen.point_tolerance_s:g} ms; minimum gaps and durations never "
        "above the 5th percentile of the label's annotated gaps and durations (the bounds). "
        "`sonotype ethogram` uses these settings unless its options override them."
    )
    if validation.get("optimistic"):
        how += (
            " These validation recordings were partly trained on (validation windows, not "
            "whole recordings): the validation scores are optimistic."
        )
    rows = []
    for label, threshold in chosen.thresholds.items():
        bound = chosen.bounds.get(label, {})
        gap, duration = chosen.min_gap_s.get(label), chosen.min_duration_s.get(label)
        rows.append(
            [
                label,
                _cell(float(threshold)),
                MISSING if gap is None else _cell(1000 * gap),
                _cell(1000 * float(bound.get("max_min_gap_s", math.nan))),
                MISSING if duration is None else _cell(1000 * duration),
                _cell(1000 * float(bound.get("max_min_duration_s", math.nan))),
            ]
        )
    settings = html.table(
        ["label", "threshold", "min gap ms", "bound ms", "min duration ms", "bound ms"], rows
    )
    score_rows = []
    for name, record in (
        ("validation" + (" (optimistic)" if validation.get("optimistic") else ""), validation),
        ("test (never used for any choice)", chosen.test),
    ):
        if not record:
            continue
        s = record.get("scores", {})
        score_rows.append(
            [name, len(record.get("recordings", []))]
            + [_cell(s.get(k, math.nan)) for k in ("objective", "f1", "ser", "point_f1")]
        )
    scores = html.table(
        ["recordings", "n", "objective", "segment F1", "SER", "point F1"], score_rows
    )
    per_label = []
    for name, record in (("validation", validation), ("test", chosen.test)):
        for row in (record or {}).get("scores", {}).get("per_label", []):
            per_label.append([name] + [_cell(row.get(k)) for k in _PER_LABEL])
    return [
        "<h2>Post-processing (learned)</h2>",
        f'<p class="note">{html.escape(how)}</p>',
        html.table(["quantity", "value"], [["majority vote", str(chosen.majority_vote)]]),
        settings,
        "<h3>Scores</h3>",
        scores,
        html.table(["set", *_PER_LABEL], per_label),
    ]


_PER_LABEL = ("label", "n_ref", "n_pred", "hits", "precision", "recall", "f1")


def _decision_note(loss: str) -> str:
    if loss == "overlapped":
        return (
            "Each output says yes when its probability is at least 0.5; output X is judged on "
            "the examples labelled X (support) or not_X only."
        )
    return "Each example is classified as its most probable label; support counts its examples."


def _confusion_caption(loss: str) -> str:
    if loss == "overlapped":
        return (
            "Rows: human labels; columns: outputs at or above 0.5, and (none) for examples with "
            "none. Colour: fraction of the row's counts; numbers: counts"
        )
    return "Rows: human labels; columns: most probable label. Colour: fraction of the row"


def _cell(value: object) -> object:
    """A table cell: floats rounded to 3 places, NaN shown as n/a, numpy scalars unwrapped."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return MISSING if math.isnan(value) else round(value, 3)
    return value


def _rows(table: pd.DataFrame):
    return ([_cell(v) for v in row] for row in table.itertuples(index=False))
