"""Model accuracy pictures: the axes, lines and texts they draw."""

import numpy as np
import pandas as pd
import pytest

from sonotype.errors import ParameterError
from sonotype.models.accuracy import validation_accuracy
from sonotype.plot.catalog import save_figure
from sonotype.plot.model import (
    checkpoints_figure,
    confusion_figure,
    learning_curve_figure,
    pr_curves_figure,
)


@pytest.fixture
def result():
    truth = ["a", "a", "a", "b", "b", "c"]
    p = np.array(
        [
            [0.8, 0.1, 0.1],
            [0.6, 0.3, 0.1],
            [0.3, 0.6, 0.1],
            [0.2, 0.7, 0.1],
            [0.1, 0.8, 0.1],
            [0.1, 0.1, 0.8],
        ]
    )
    return validation_accuracy(truth, p, ["a", "b", "c"], pr_ratios=(0.5, 1.0, 2.0))


def test_confusion_writes_counts_and_colours_row_fractions(result, tmp_path):
    figure = confusion_figure(result.confusion, title="model")
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.texts] == ["2", "1", "0", "0", "2", "0", "0", "0", "1"]
    (image,) = ax.get_images()
    np.testing.assert_allclose(image.get_array()[0], [2 / 3, 1 / 3, 0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_title(loc="left") == "model"
    assert save_figure(figure, tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_confusion_with_an_empty_row_and_extra_column():
    table = pd.DataFrame([[3, 1], [0, 0]], index=["a", "not_a"], columns=["a", "(none)"])
    image = confusion_figure(table).axes[0].get_images()[0]
    values = np.ma.filled(image.get_array().astype(float), np.nan)
    assert np.isnan(values[1]).all()


def test_pr_curves_one_line_per_label_and_a_marker_per_threshold(result):
    figure = pr_curves_figure(result.pr_curves, result.thresholds)
    (ax,) = figure.axes
    curves = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
    assert {"a", "b", "c"} <= set(curves)
    np.testing.assert_allclose(curves["a"].get_xdata(), result.pr_curves["a"]["recall"])
    markers = [line for line in ax.lines if line.get_label().startswith("_threshold")]
    assert len(markers) == result.thresholds["threshold"].notna().sum()
    chosen = result.thresholds.set_index(["label", "pr_ratio"]).loc[("b", 1.0)]
    (marker,) = [m for m in markers if m.get_label() == "_threshold b 1"]
    assert marker.get_xdata()[0] == chosen["recall"]
    assert marker.get_ydata()[0] == chosen["precision"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["a", "b", "c", "pr ratio 0.5", "pr ratio 1", "pr ratio 2"]


def test_learning_curve_two_panels_and_measured_points_only():
    curve = pd.DataFrame(
        {
            "step": [0, 10, 20, 30],
            "train_loss": [1.0, 0.6, 0.4, 0.3],
            "train_accuracy": [0.3, 0.6, 0.8, 0.9],
            "validation_loss": [np.nan, 0.7, np.nan, 0.5],
            "validation_accuracy": [np.nan, 0.55, np.nan, 0.75],
            "f1:a": [np.nan, 0.5, np.nan, 0.7],
            "f1:b": [np.nan, 0.6, np.nan, 0.8],
        }
    )
    figure = learning_curve_figure(curve, title="run")
    loss_ax, accuracy_ax = figure.axes
    assert [line.get_label() for line in loss_ax.lines] == ["train_loss", "validation_loss"]
    labels = [line.get_label() for line in accuracy_ax.lines]
    assert labels == ["train_accuracy", "validation_accuracy", "f1:a", "f1:b"]
    validation = loss_ax.lines[1]
    assert validation.get_xdata().tolist() == [10, 30]
    assert accuracy_ax.lines[3].get_ydata().tolist() == [0.6, 0.8]
    with pytest.raises(ParameterError, match="validation_loss"):
        learning_curve_figure(curve.drop(columns="validation_loss"))


def test_checkpoints_marks_the_best():
    table = pd.DataFrame({"step": [300, 100, 200], "macro_f1": [0.7, 0.5, 0.8]})
    (ax,) = checkpoints_figure(table).axes
    line, best = ax.lines
    assert line.get_xdata().tolist() == [100, 200, 300]
    assert best.get_label() == "best"
    assert (best.get_xdata()[0], best.get_ydata()[0]) == (200, 0.8)
    assert "step 200" in ax.texts[0].get_text()
    with pytest.raises(ParameterError, match="macro_f1"):
        checkpoints_figure(table.rename(columns={"macro_f1": "f1"}))
