"""The model accuracy report: its files and what the page says."""

import numpy as np
import pandas as pd
import pytest

from sonotype.errors import ParameterError
from sonotype.models.accuracy import mistakes_table, validation_accuracy
from sonotype.report.model import write_model_report

LABELS = ["pulse", "sine"]


@pytest.fixture
def inputs():
    truth = ["pulse", "pulse", "pulse", "sine", "sine"]
    p = np.array([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6], [0.2, 0.8], [0.55, 0.45]])
    examples = pd.DataFrame({"recording": "fly.wav", "time_s": np.arange(5.0), "label": truth})
    curve = pd.DataFrame(
        {
            "step": [0, 50, 100],
            "train_loss": [1.0, 0.5, 0.3],
            "train_accuracy": [0.5, 0.7, 0.9],
            "validation_loss": [np.nan, 0.6, 0.5],
            "validation_accuracy": [np.nan, 0.6, 0.6],
            "f1:pulse": [np.nan, 0.6, 0.667],
            "f1:sine": [np.nan, 0.4, 0.5],
        }
    )
    checkpoints = pd.DataFrame({"step": [50, 100], "macro_f1": [0.5, 0.583]})
    return {
        "result": validation_accuracy(truth, p, LABELS, pr_ratios=(1.0, 2.0)),
        "mistakes": mistakes_table(examples, p, LABELS),
        "curve": curve,
        "checkpoints": checkpoints,
    }


def test_report_writes_the_page_pictures_and_mistakes(tmp_path, inputs):
    folder = tmp_path / "report"
    index = write_model_report(folder, name="fly song model", best_step=100, **inputs)
    assert index == folder / "index.html"
    for png in ("confusion.png", "pr_curves.png", "learning_curve.png", "checkpoints.png"):
        assert (folder / png).read_bytes()[:4] == b"\x89PNG"
    text = index.read_text()
    assert "<title>fly song model</title>" in text
    for label in LABELS:
        assert f"<td>{label}</td>" in text
    # F1: pulse 2/3, sine 1/2, macro 7/12.
    for value in ("0.667", "0.5", "0.583"):
        assert f'<td class="num">{value}</td>' in text
    assert '<td class="num">100</td>' in text  # the best step
    for section in ("Per label", "Thresholds", "Confusion", "Learning curve", "Checkpoints"):
        assert f"<h2>{section}" in text
    assert "Mistakes (2 of 2 shown)" in text
    assert 'href="mistakes.csv"' in text
    written = pd.read_csv(folder / "mistakes.csv")
    assert written["predicted"].tolist() == inputs["mistakes"]["predicted"].tolist()
    assert not list(folder.glob(".*"))  # no temporary files left


def test_report_without_curve_or_checkpoints_and_few_mistakes_shown(tmp_path, inputs):
    index = write_model_report(
        tmp_path,
        name="m",
        result=inputs["result"],
        mistakes=inputs["mistakes"],
        curve=None,
        checkpoints=None,
        best_step=None,
        max_mistakes=1,
    )
    text = index.read_text()
    assert not (tmp_path / "learning_curve.png").exists()
    assert not (tmp_path / "checkpoints.png").exists()
    assert "Learning curve" not in text
    assert "Mistakes (1 of 2 shown)" in text
    assert len(pd.read_csv(tmp_path / "mistakes.csv")) == 2
    with pytest.raises(ParameterError, match="max_mistakes=-1"):
        write_model_report(tmp_path, name="m", result=inputs["result"],
                           mistakes=inputs["mistakes"], max_mistakes=-1)  # fmt: skip


def test_report_shows_the_learned_postprocessing_its_bounds_and_scores(tmp_path, inputs):
    from sonotype.annotations import make_events
    from sonotype.models.postprocess import PostProcessing, annotation_intervals

    starts = np.arange(10) * 0.1
    truth = make_events("r.wav", starts, starts + 0.05, ["a", "b"] * 5)
    scores = {"objective": 0.9, "f1": 0.95, "ser": 0.05, "point_f1": float("nan"),
              "per_label": [{"label": "a", "n_ref": 5, "n_pred": 5, "hits": 5,
                             "precision": 1.0, "recall": 1.0, "f1": 1.0}]}  # fmt: skip
    chosen = PostProcessing(
        thresholds={"a": 0.5, "b": 0.35},
        min_gap_s={"a": 0.0024, "b": 0.0008},
        min_duration_s={"a": 0.004, "b": 0.004},
        bounds={x: {"max_min_gap_s": 0.05, "max_min_duration_s": 0.05} for x in "ab"},
        validation={"recordings": ["r.wav"], "optimistic": True, "scores": scores},
        test={"recordings": ["t.wav"], "scores": {**scores, "ser": 0.123}},
    )
    checkpoints = inputs["checkpoints"].assign(objective=[0.9, 0.9], f1=0.95, ser=0.05)
    index = write_model_report(
        tmp_path, name="m", **{**inputs, "checkpoints": checkpoints}, postprocessing=chosen,
        intervals=annotation_intervals(truth, labels=["a", "b"]),
        notes=["every checkpoint scores the same on validation"],
    )  # fmt: skip
    text = index.read_text()
    assert "Post-processing (learned)" in text
    assert "Note: every checkpoint scores the same" in text
    assert "optimistic" in text and "test (never used for any choice)" in text
    assert '<td class="num">2.4</td>' in text  # a's minimum gap in ms
    assert '<td class="num">0.123</td>' in text  # the test SER, apart
    assert (tmp_path / "intervals.png").read_bytes()[:4] == b"\x89PNG"


def test_intervals_figure_marks_the_chosen_values_and_bounds():
    from sonotype.plot.model import intervals_figure

    table = pd.DataFrame({"label": ["a"] * 3, "duration_s": [0.05, 0.06, 0.07],
                          "gap_s": [0.001, 0.02, np.nan]})  # fmt: skip
    figure = intervals_figure(table, min_gap_s={"a": 0.0008}, min_duration_s={"a": 0.0},
                              bounds={"a": {"max_min_gap_s": 0.001,
                                            "max_min_duration_s": 0.05}})  # fmt: skip
    gap_ax, duration_ax = figure.axes
    labels = [line.get_label() for line in gap_ax.lines]
    assert labels == ["chosen", "bound"]
    assert gap_ax.lines[0].get_xdata()[0] == pytest.approx(0.8)
    assert duration_ax.lines[1].get_xdata()[0] == pytest.approx(50)
