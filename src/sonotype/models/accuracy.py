"""Accuracy of a classifier on its validation examples: confusion, precision-recall, thresholds.

A trained network gives, for each validation example (a time point in a recording that a
person labelled), one probability per model label. This module turns those probabilities
into the tables SongExplorer's "accuracy" step makes, without importing torch.

Two kinds of network output are understood, named by the loss they were trained with:

``"exclusive"``
    Softmax outputs: exactly one label per example. Every human label must be a model label.
    An example is classified as its most probable label (argmax). The precision-recall curve
    of label ``X`` scores every example by ``p[:, X]``; examples labelled ``X`` are positives
    and all others negatives.
``"overlapped"``
    Independent sigmoid outputs (SongExplorer's convention): a human label is either a model
    label ``X`` (the sound is there) or ``not_X`` (it is not). Output ``X`` is judged only on
    the examples labelled ``X`` (positives) or ``not_X`` (negatives); every other example is
    ignored for it. An output says yes when its probability is at least 0.5.

Scores follow the conventions of :mod:`sonotype.evaluate.metrics`: precision is NaN when
nothing was predicted, recall is NaN when there is nothing to find, and F1 is
``2 TP / (support + predicted)``, NaN only when both are zero.

Thresholds are chosen at a precision-to-recall ratio (SongExplorer's "pr ratio"): 1 asks for
precision equal to recall, 2 for precision twice recall (a higher threshold, fewer false
alarms), 0.5 for recall twice precision (a lower threshold, fewer misses).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.atomic import atomic_paths
from sonotype.checks import check_choice, check_number, check_number_grid
from sonotype.errors import FileProblem, ParameterError

#: The losses a network may have been trained with; see the module notes.
LOSSES = ("exclusive", "overlapped")

#: Probability at or above which an overlapped (sigmoid) output says yes.
DECISION_THRESHOLD = 0.5

#: Prefix of the human label that says a model label's sound is absent (overlapped loss).
NOT_PREFIX = "not_"

#: Column of the overlapped confusion table for examples with no output at or above 0.5.
NO_OUTPUT = "(none)"

#: Columns of :attr:`AccuracyResult.thresholds` and of ``thresholds.csv``, in order.
THRESHOLD_COLUMNS = ("label", "pr_ratio", "threshold", "precision", "recall")

#: Columns of :attr:`AccuracyResult.per_label`, in order.
PER_LABEL_COLUMNS = ("label", "precision", "recall", "f1", "support")

#: Probabilities this far outside [0, 1] are accepted (rounding in float32 softmax) and clipped.
PROBABILITY_SLACK = 1e-6

#: Objective values this close count as a tie when choosing a threshold.
_TIE = 1e-9


@dataclass(frozen=True)
class AccuracyResult:
    """Accuracy of a classifier on a validation set.

    Attributes
    ----------
    labels : list of str
        The model's output labels, in the order of the probability columns.
    confusion : DataFrame
        Counts of examples. Exclusive loss: rows (index ``truth``) and columns (``predicted``)
        are the model labels; a cell counts the examples with that human label classified as
        that label (argmax). Overlapped loss: rows are the human labels present (``X`` and
        ``not_X``), columns the model labels then ``"(none)"``; a cell counts the examples
        with that human label whose output for that column's label is >= 0.5, and
        ``"(none)"`` those with no output >= 0.5, so a row may sum to more than its examples.
    per_label : DataFrame
        Columns :data:`PER_LABEL_COLUMNS`, one row per model label: precision, recall and F1
        of the decision rule (argmax, or p >= 0.5 for overlapped) and ``support``, the number
        of examples of the label.
    pr_curves : dict of str to DataFrame
        Per model label, its one-vs-rest precision-recall curve: columns ``threshold``
        (ascending), ``precision``, ``recall``, one row per distinct score, deciding "yes"
        when the score is >= the threshold. Empty for a label without positive examples.
    thresholds : DataFrame
        Columns :data:`THRESHOLD_COLUMNS`: per label and precision-recall ratio, the chosen
        threshold and the precision and recall it gives. NaN for a label whose validation
        examples hold no positives or no negatives.
    macro_f1 : float
        Mean F1 over the labels with support > 0 (NaN if there are none).
    loss : str
        The loss the probabilities came from, one of :data:`LOSSES`.
    """

    labels: list[str]
    confusion: pd.DataFrame
    per_label: pd.DataFrame
    pr_curves: dict[str, pd.DataFrame]
    thresholds: pd.DataFrame
    macro_f1: float
    loss: str = "exclusive"

    def to_csv(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the tables as CSV files in ``folder``, all at once or none.

        Parameters
        ----------
        folder : path-like
            Created if missing.

        Returns
        -------
        dict of str to Path
            ``"confusion"``, ``"per_label"``, ``"thresholds"`` and ``"pr_curves"`` (long
            format, with a ``label`` column) mapped to ``confusion.csv``, ``per_label.csv``,
            ``thresholds.csv`` and ``pr_curves.csv``. Read ``thresholds.csv`` back with
            :func:`read_thresholds`.
        """
        folder = Path(folder)
        curves = [curve.assign(label=label) for label, curve in self.pr_curves.items()]
        long = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
        long = long.reindex(columns=["label", "threshold", "precision", "recall"])
        tables = {
            "confusion": (self.confusion, True),
            "per_label": (self.per_label, False),
            "thresholds": (self.thresholds, False),
            "pr_curves": (long, False),
        }
        paths = {name: folder / f"{name}.csv" for name in tables}
        with atomic_paths(list(paths.values())) as temporaries:
            for (table, index), tmp in zip(tables.values(), temporaries, strict=True):
                table.to_csv(tmp, index=index)
        return paths


def validation_accuracy(
    truth: Sequence[str] | np.ndarray | pd.Series,
    probabilities: np.ndarray,
    labels: Sequence[str],
    *,
    loss: str = "exclusive",
    pr_ratios: float | Iterable[float] = (1.0,),
) -> AccuracyResult:
    """Confusion, per-label scores, precision-recall curves and thresholds of a classifier.

    Parameters
    ----------
    truth : array-like of str, shape (n,)
        The human label of each validation example. Exclusive loss: a model label.
        Overlapped loss: a model label ``X`` or ``not_X``.
    probabilities : ndarray of float, shape (n, L)
        The network's output for each example, columns in the order of ``labels``; values in
        [0, 1].
    labels : sequence of str, length L
        The model's output labels, unique.
    loss : {"exclusive", "overlapped"}
        How the outputs relate; see the module notes.
    pr_ratios : float or iterable of float
        Precision-to-recall ratios (> 0, finite, unique) at which to choose thresholds.

    Returns
    -------
    AccuracyResult

    Raises
    ------
    ParameterError
        On empty input, mismatched shapes, NaN or out-of-range probabilities, duplicate
        labels, a human label the loss does not allow, or a bad ratio.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
    >>> result = validation_accuracy(["a", "a", "b", "b"], p, ["a", "b"])
    >>> result.confusion.to_numpy().tolist()
    [[2, 0], [1, 1]]
    >>> result.per_label[["label", "precision", "recall"]].round(3).values.tolist()
    [['a', 0.667, 1.0], ['b', 1.0, 0.5]]
    >>> # precision = recall (0.5) for any threshold in (0.2, 0.4]: the middle is taken
    >>> round(float(result.thresholds.set_index("label").loc["b", "threshold"]), 3)
    0.3
    """
    loss = _check_loss(loss)
    labels = _check_labels(labels, loss=loss)
    truth = _check_truth(truth)
    probabilities = _check_probabilities(probabilities, n=len(truth), labels=labels)
    ratios = _check_ratios(pr_ratios)
    masks, positives = _judged(truth, labels, loss=loss)

    if loss == "exclusive":
        predicted = probabilities.argmax(axis=1)
        decisions = np.zeros_like(probabilities, dtype=bool)
        decisions[np.arange(len(truth)), predicted] = True
        true_index = pd.Index(labels).get_indexer(truth)
        counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
        np.add.at(counts, (true_index, predicted), 1)
        confusion = pd.DataFrame(
            counts,
            index=pd.Index(labels, name="truth"),
            columns=pd.Index(labels, name="predicted"),
        )
    else:
        decisions = probabilities >= DECISION_THRESHOLD
        confusion = _overlapped_confusion(truth, decisions, labels)

    rows, curves, threshold_rows = [], {}, []
    for i, label in enumerate(labels):
        judged, positive = masks[i], positives[i]
        said = decisions[judged, i]
        tp = int(np.sum(said & positive))
        support = int(positive.sum())
        n_said = int(said.sum())
        f1 = _ratio(2 * tp, support + n_said)
        rows.append((label, _ratio(tp, n_said), _ratio(tp, support), f1, support))
        curve = _pr_curve(probabilities[judged, i], positive)
        curves[label] = curve
        measurable = 0 < support < len(positive)
        for ratio in ratios:
            chosen = _threshold_at(curve, ratio) if measurable else (math.nan,) * 3
            threshold_rows.append((label, ratio, *chosen))

    per_label = pd.DataFrame(rows, columns=list(PER_LABEL_COLUMNS))
    thresholds = pd.DataFrame(threshold_rows, columns=list(THRESHOLD_COLUMNS))
    supported = per_label.loc[per_label["support"] > 0, "f1"]
    macro_f1 = float(supported.mean()) if len(supported) else math.nan
    return AccuracyResult(
        labels=labels,
        confusion=confusion,
        per_label=per_label,
        pr_curves=curves,
        thresholds=thresholds,
        macro_f1=macro_f1,
        loss=loss,
    )


def mistakes_table(
    examples: pd.DataFrame,
    probabilities: np.ndarray,
    labels: Sequence[str],
    *,
    loss: str = "exclusive",
) -> pd.DataFrame:
    """The validation examples the classifier got wrong, most confidently wrong first.

    Parameters
    ----------
    examples : DataFrame, n rows
        Columns ``recording``, ``time_s`` and ``label`` (the human label), and any others,
        which are kept.
    probabilities : ndarray of float, shape (n, L)
        The network's output for each example, columns in the order of ``labels``.
    labels : sequence of str, length L
        The model's output labels.
    loss : {"exclusive", "overlapped"}
        See the module notes.

    Returns
    -------
    DataFrame
        The misclassified rows of ``examples`` (their index kept), with added columns
        ``predicted``, ``probability`` and one ``p:<label>`` per model label (existing
        columns of those names are replaced). Exclusive loss: a mistake is an argmax label
        other than the human label; ``predicted`` is the argmax label and ``probability`` its
        probability. Overlapped loss: a mistake is an output ``X`` that says yes (p >= 0.5)
        on an example labelled ``not_X``, or no on one labelled ``X``; ``predicted`` is what
        the output said, ``X`` or ``not_X``, and ``probability`` the probability of that
        answer (``p`` or ``1 - p``). Sorted by ``probability``, descending (stable).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> examples = pd.DataFrame({"recording": "r.wav", "time_s": [1.0, 2.0], "label": ["a", "b"]})
    >>> wrong = mistakes_table(examples, np.array([[0.9, 0.1], [0.8, 0.2]]), ["a", "b"])
    >>> wrong[["time_s", "label", "predicted", "probability"]].values.tolist()
    [[2.0, 'b', 'a', 0.8]]
    """
    loss = _check_loss(loss)
    labels = _check_labels(labels, loss=loss)
    if not isinstance(examples, pd.DataFrame):
        raise ParameterError(
            f"examples must be a pandas DataFrame, got {type(examples).__name__}; give a "
            "table with columns recording, time_s and label, one row per validation example"
        )
    missing = [c for c in ("recording", "time_s", "label") if c not in examples.columns]
    if missing:
        raise ParameterError(
            f"examples lacks the column(s) {', '.join(missing)} (it has "
            f"{', '.join(map(str, examples.columns)) or 'none'}); give one row per validation "
            "example with its recording, time_s and human label"
        )
    truth = _check_truth(examples["label"], name="examples['label']")
    probabilities = _check_probabilities(probabilities, n=len(truth), labels=labels)

    if loss == "exclusive":
        _judged(truth, labels, loss=loss)  # validates the human labels
        best = probabilities.argmax(axis=1)
        predicted = np.asarray(labels, dtype=object)[best]
        probability = probabilities[np.arange(len(truth)), best]
        wrong = predicted != truth
    else:
        output, present = _overlapped_outputs(truth, labels)
        p = probabilities[np.arange(len(truth)), output]
        says_yes = p >= DECISION_THRESHOLD
        names = np.asarray(labels, dtype=object)[output]
        predicted = np.where(says_yes, names, NOT_PREFIX + names)
        probability = np.where(says_yes, p, 1.0 - p)
        wrong = says_yes != present

    added = {"predicted": predicted, "probability": probability}
    added.update({f"p:{label}": probabilities[:, i] for i, label in enumerate(labels)})
    table = examples.drop(columns=[c for c in added if c in examples.columns])
    table = table.assign(**{name: values for name, values in added.items()})
    table = table[wrong]
    order = np.argsort(-table["probability"].to_numpy(), kind="stable")
    return table.iloc[order]


def read_thresholds(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a ``thresholds.csv`` written by :meth:`AccuracyResult.to_csv`, checked.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    DataFrame
        Columns :data:`THRESHOLD_COLUMNS` (``label`` str, the others float) and any extra
        columns of the file, in file order. A threshold, precision or recall may be NaN
        (empty in the file): the label could not be measured on the validation set.

    Raises
    ------
    FileProblem
        Naming the file, and the spreadsheet row (the header is row 1), when the file is
        missing or empty, lacks a column, has an empty label or ratio, a ratio that is not
        a finite number > 0, a threshold, precision or recall outside [0, 1], or the same
        (label, pr_ratio) twice.
    """
    path = Path(path)
    if not path.is_file():
        raise FileProblem(path, "does not exist; write it with AccuracyResult.to_csv")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise FileProblem(
            path, f"is empty; a thresholds file has the header {','.join(THRESHOLD_COLUMNS)}"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise FileProblem(path, f"cannot be read as CSV ({error})") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in THRESHOLD_COLUMNS if c not in table.columns]
    if missing:
        raise FileProblem(
            path,
            f"lacks the column(s) {', '.join(missing)} (it has {', '.join(table.columns)}); "
            f"a thresholds file has the columns {', '.join(THRESHOLD_COLUMNS)}, as written "
            "by AccuracyResult.to_csv",
        )
    table.index = pd.RangeIndex(2, 2 + len(table))  # spreadsheet rows: the header is row 1
    label = table["label"].str.strip()
    empty = label[label == ""]
    if len(empty):
        raise FileProblem(path, f"row {empty.index[0]}: label is empty; every row names a label")
    out = table.assign(label=label)
    for column in THRESHOLD_COLUMNS[1:]:
        out[column] = _numbers(table[column], path=path, column=column)
    ratio = out["pr_ratio"]
    bad = ratio[~(np.isfinite(ratio) & (ratio > 0))]
    if len(bad):
        row = bad.index[0]
        raw = table.loc[row, "pr_ratio"].strip()
        problem = " is empty" if raw == "" else f"={raw} must be a finite number > 0"
        raise FileProblem(
            path,
            f"row {row}: pr_ratio{problem}; every row gives the precision-to-recall ratio "
            "its threshold was chosen at (1 means precision equal to recall)",
        )
    for column in THRESHOLD_COLUMNS[2:]:
        values = out[column]
        bad = values[values.notna() & ~values.between(0.0, 1.0)]
        if len(bad):
            raise FileProblem(
                path,
                f"row {bad.index[0]}: {column}={bad.iloc[0]:g} is outside [0, 1]; "
                "probabilities, and thresholds on them, lie between 0 and 1",
            )
    twice = out[out.duplicated(["label", "pr_ratio"], keep=False)]
    if len(twice):
        rows = " and ".join(f"row {i}" for i in twice.index[:2])
        raise FileProblem(
            path,
            f"{rows} both give label {twice['label'].iloc[0]!r} at pr_ratio "
            f"{twice['pr_ratio'].iloc[0]:g}; keep one row per label and ratio",
        )
    return out.reset_index(drop=True)


def thresholds_at(table: pd.DataFrame, pr_ratio: float) -> dict[str, float]:
    """Each label's threshold at one precision-to-recall ratio.

    Parameters
    ----------
    table : DataFrame
        Columns ``label``, ``pr_ratio`` and ``threshold``, as in
        :attr:`AccuracyResult.thresholds` or from :func:`read_thresholds`.
    pr_ratio : float
        One of the ratios in ``table`` (compared with a relative tolerance of 1e-9).

    Returns
    -------
    dict of str to float
        Label to threshold, in table order; NaN for a label that could not be measured.

    Examples
    --------
    >>> table = pd.DataFrame({"label": ["a", "b", "a"], "pr_ratio": [1.0, 1.0, 2.0],
    ...                       "threshold": [0.4, 0.6, 0.7]})
    >>> thresholds_at(table, 2)
    {'a': 0.7}
    """
    missing = [c for c in ("label", "pr_ratio", "threshold") if c not in table.columns]
    if missing:
        raise ParameterError(
            f"table lacks the column(s) {', '.join(missing)}; give AccuracyResult.thresholds "
            "or a table read by read_thresholds"
        )
    ratio = check_number(
        pr_ratio, name="pr_ratio", minimum=0, inclusive="neither", hint=_RATIO_HINT
    )
    ratios = table["pr_ratio"].to_numpy(dtype=float)
    chosen = table[np.isclose(ratios, ratio, rtol=1e-9, atol=0.0)]
    if not len(chosen):
        available = ", ".join(f"{r:g}" for r in pd.unique(ratios)) or "none"
        raise ParameterError(
            f"pr_ratio={pr_ratio!r} is not in the thresholds table; its ratios are "
            f"{available}: choose one of them, or measure accuracy again with this ratio in "
            "pr_ratios"
        )
    return {
        str(label): float(value)
        for label, value in zip(chosen["label"], chosen["threshold"], strict=True)
    }


# -- computations ------------------------------------------------------------------------------


def _pr_curve(scores: np.ndarray, positive: np.ndarray) -> pd.DataFrame:
    """Precision and recall of "score >= threshold" at each distinct score, ascending."""
    if not positive.any():
        return pd.DataFrame({"threshold": [], "precision": [], "recall": []}, dtype=float)
    order = np.argsort(-scores, kind="stable")
    scores, positive = scores[order], positive[order]
    tp = np.cumsum(positive)
    fp = np.cumsum(~positive)
    last = np.flatnonzero(np.r_[scores[1:] != scores[:-1], True])  # end of each run of ties
    tp, fp = tp[last], fp[last]
    curve = pd.DataFrame(
        {
            "threshold": scores[last].astype(float),
            "precision": tp / (tp + fp),
            "recall": tp / positive.sum(),
        }
    )
    return curve.iloc[::-1].reset_index(drop=True)


def _threshold_at(curve: pd.DataFrame, ratio: float) -> tuple[float, float, float]:
    """(threshold, precision, recall) of the curve point whose precision / recall is nearest
    ``ratio`` in log terms; ties go to the higher F1, then to the higher threshold.

    Every threshold between that point's score and the next lower score gives the same
    decisions on the validation set; the midpoint of that gap is returned, so that the
    margin to unseen data is as wide on both sides as the validation set allows.
    """
    usable = curve[(curve["precision"] > 0) & (curve["recall"] > 0)]
    if not len(usable):
        return (math.nan,) * 3
    precision = usable["precision"].to_numpy()
    recall = usable["recall"].to_numpy()
    distance = np.abs(np.log(precision) - np.log(recall) - math.log(ratio))
    f1 = 2 * precision * recall / (precision + recall)
    tied = np.flatnonzero(distance <= distance.min() + _TIE)
    candidates = tied[f1[tied] >= f1[tied].max() - _TIE]
    best = candidates.max()  # the curve is ascending: the highest threshold among the ties
    row = usable.iloc[best]
    position = curve.index.get_loc(usable.index[best])
    below = float(curve["threshold"].iloc[position - 1]) if position > 0 else 0.0
    threshold = (below + float(row["threshold"])) / 2
    return threshold, float(row["precision"]), float(row["recall"])


def _overlapped_confusion(
    truth: np.ndarray, decisions: np.ndarray, labels: list[str]
) -> pd.DataFrame:
    """Rows: human labels present; columns: model labels and "(none)"; cells: yes counts."""
    present = set(truth.tolist())
    rows = [name for label in labels for name in (label, NOT_PREFIX + label) if name in present]
    counts = np.zeros((len(rows), len(labels) + 1), dtype=np.int64)
    for r, name in enumerate(rows):
        said = decisions[truth == name]
        counts[r, :-1] = said.sum(axis=0)
        counts[r, -1] = int(np.sum(~said.any(axis=1)))
    return pd.DataFrame(
        counts,
        index=pd.Index(rows, name="truth"),
        columns=pd.Index([*labels, NO_OUTPUT], name="predicted"),
    )


def _judged(
    truth: np.ndarray, labels: list[str], *, loss: str
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per label: which examples judge it (mask) and, among those, which are positives."""
    if loss == "exclusive":
        unknown = sorted(set(truth.tolist()) - set(labels))
        if unknown:
            raise ParameterError(
                f"truth holds label(s) {_listing(unknown)} that the model does not output; "
                f"with loss='exclusive' every human label must be one of the model's labels "
                f"({_listing(labels)}): drop those examples or train with those labels"
            )
        everything = np.ones(len(truth), dtype=bool)
        return [everything] * len(labels), [truth == label for label in labels]
    _overlapped_outputs(truth, labels)  # validates the human labels
    masks = [(truth == label) | (truth == NOT_PREFIX + label) for label in labels]
    return masks, [truth[mask] == label for mask, label in zip(masks, labels, strict=True)]


def _overlapped_outputs(truth: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """For each example: the index of the output its human label concerns, and whether the
    label says the sound is present (``X``) rather than absent (``not_X``)."""
    index = {label: i for i, label in enumerate(labels)}
    index_not = {NOT_PREFIX + label: i for i, label in enumerate(labels)}
    unknown = sorted(set(truth.tolist()) - set(index) - set(index_not))
    if unknown:
        raise ParameterError(
            f"truth holds label(s) {_listing(unknown)} that are neither a model label nor "
            f"'not_' and a model label; with loss='overlapped' each human label is X or not_X "
            f"for a model label X ({_listing(labels)}): drop those examples or rename them"
        )
    present = np.isin(truth, list(index))
    output = np.array([index.get(t, index_not.get(t)) for t in truth.tolist()], dtype=np.intp)
    return output, present


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


# -- checks -------------------------------------------------------------------------------------


def _check_loss(loss: object) -> str:
    check_choice(
        loss,
        name="loss",
        choices=LOSSES,
        hint="softmax outputs are 'exclusive', independent sigmoids 'overlapped'",
    )
    return str(loss)


def _check_labels(labels: object, *, loss: str) -> list[str]:
    if isinstance(labels, str) or not isinstance(labels, Iterable):
        raise ParameterError(
            f"labels={labels!r} must be a sequence of label names, one per probability "
            "column, such as ['song', 'noise']",
            parameter="labels",
        )
    names = list(labels)
    if not names:
        raise ParameterError(
            "labels is empty; give the model's labels, one per output", parameter="labels"
        )
    bad = [name for name in names if not isinstance(name, str) or not name]
    if bad:
        raise ParameterError(
            f"labels holds {bad[0]!r}, which is not a non-empty string; every label is a name",
            parameter="labels",
        )
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ParameterError(
            f"labels holds {_listing(twice)} more than once; each output has its own label",
            parameter="labels",
        )
    if loss == "overlapped":
        clash = [name for name in names if NOT_PREFIX + name in names]
        if clash:
            raise ParameterError(
                f"labels holds both {clash[0]!r} and {NOT_PREFIX + clash[0]!r}; with "
                f"loss='overlapped' {NOT_PREFIX + clash[0]!r} means the absence of "
                f"{clash[0]!r}, so rename one of them",
                parameter="labels",
            )
    return names


def _check_truth(truth: object, *, name: str = "truth") -> np.ndarray:
    if isinstance(truth, str):
        raise ParameterError(
            f"{name}={truth!r} must be a sequence of labels, one per example, not one string",
            parameter=name,
        )
    values = np.asarray(truth, dtype=object)
    if values.ndim != 1:
        raise ParameterError(
            f"{name} has shape {values.shape}; it must be one-dimensional, one label per example",
            parameter=name,
        )
    if not len(values):
        raise ParameterError(
            f"{name} is empty; accuracy needs at least one validation example with a label",
            parameter=name,
        )
    bad = [i for i, v in enumerate(values.tolist()) if not isinstance(v, str) or not v]
    if bad:
        raise ParameterError(
            f"{name}[{bad[0]}]={values[bad[0]]!r} is not a label; every validation example "
            f"needs a non-empty string label ({len(bad)} do not): drop or label them",
            parameter=name,
        )
    return values


def _check_probabilities(probabilities: object, *, n: int, labels: list[str]) -> np.ndarray:
    try:
        values = np.asarray(probabilities, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(
            f"probabilities must be a numeric array of shape (n, {len(labels)}), got "
            f"{type(probabilities).__name__}",
            parameter="probabilities",
        ) from None
    if values.shape != (n, len(labels)):
        raise ParameterError(
            f"probabilities has shape {values.shape}; it must be ({n}, {len(labels)}): one row "
            f"per labelled example ({n}) and one column per model label ({len(labels)})",
            parameter="probabilities",
        )
    finite = np.isfinite(values)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        raise ParameterError(
            f"probabilities[{row}, {column}]={values[row, column]} is not a finite number "
            f"({int((~finite).sum())} are not); check the network's output for that example",
            parameter="probabilities",
        )
    low, high = -PROBABILITY_SLACK, 1 + PROBABILITY_SLACK
    outside = (values < low) | (values > high)
    if outside.any():
        row, column = np.argwhere(outside)[0]
        raise ParameterError(
            f"probabilities[{row}, {column}]={values[row, column]:g} is outside [0, 1]; give "
            "probabilities (softmax or sigmoid outputs), not logits",
            parameter="probabilities",
        )
    return np.clip(values, 0.0, 1.0)


#: How to choose a precision-to-recall ratio, said when one is refused.
_RATIO_HINT = (
    "a ratio is finite: the wanted precision divided by recall (1.0, the default, asks for "
    "them equal)"
)


def _check_ratios(pr_ratios: object) -> list[float]:
    """``pr_ratios``, one ratio or several, as a list of distinct ratios."""
    if isinstance(pr_ratios, Iterator):
        pr_ratios = list(pr_ratios)
    elif isinstance(pr_ratios, np.ndarray) and pr_ratios.ndim == 0:
        pr_ratios = pr_ratios.item()
    ratios = check_number_grid(
        pr_ratios, name="pr_ratios", minimum=0, inclusive="neither", hint=_RATIO_HINT
    )
    if len(ratios) < (1 if np.ndim(pr_ratios) == 0 else len(pr_ratios)):  # type: ignore[arg-type]
        raise ParameterError(
            f"pr_ratios={pr_ratios!r} holds a ratio twice; give each ratio once",
            parameter="pr_ratios",
        )
    return list(ratios)


def _numbers(values: pd.Series, *, path: Path, column: str) -> pd.Series:
    """A column of a CSV file read as strings, as floats: empty or "nan" is NaN."""
    text = values.str.strip()
    numbers = pd.to_numeric(text.where(text != "", "nan"), errors="coerce").astype(float)
    bad = numbers[numbers.isna() & ~text.str.lower().isin(["", "nan"])]
    if len(bad):
        raise FileProblem(
            path, f"row {bad.index[0]}: {column}={values[bad.index[0]]!r} is not a number"
        )
    return numbers


def _listing(names: Sequence[str], *, limit: int = 10) -> str:
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
