"""Validation accuracy: known answers for both losses, thresholds, mistakes and every error."""

import math

import numpy as np
import pandas as pd
import pytest

from sonotype.errors import FileProblem, ParameterError
from sonotype.models.accuracy import (
    LOSSES,
    THRESHOLD_COLUMNS,
    mistakes_table,
    read_thresholds,
    thresholds_at,
    validation_accuracy,
)


def one_hot_like(indices, n_labels, *, high=0.8):
    """Probabilities whose argmax is ``indices``."""
    p = np.full((len(indices), n_labels), (1 - high) / (n_labels - 1))
    p[np.arange(len(indices)), indices] = high
    return p


def test_losses():
    assert LOSSES == ("exclusive", "overlapped")


def test_perfect_classifier_has_f1_one_and_a_diagonal_confusion():
    labels = ["a", "b", "c"]
    truth = ["a", "b", "c", "a", "c", "c"]
    p = one_hot_like([labels.index(t) for t in truth], 3)
    result = validation_accuracy(truth, p, labels)
    np.testing.assert_array_equal(result.confusion.to_numpy(), np.diag([2, 1, 3]))
    assert list(result.confusion.index) == labels
    assert list(result.confusion.columns) == labels
    assert result.per_label[["precision", "recall", "f1"]].eq(1.0).all().all()
    assert result.per_label["support"].tolist() == [2, 1, 3]
    assert result.macro_f1 == 1.0
    thresholds = result.thresholds.set_index("label")
    assert thresholds["precision"].eq(1).all() and thresholds["recall"].eq(1).all()


def test_two_labels_by_hand():
    truth = ["a", "a", "a", "b", "b"]
    # argmax: a, a, b, b, a
    p = np.array([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6], [0.2, 0.8], [0.55, 0.45]])
    result = validation_accuracy(truth, p, ["a", "b"])
    assert result.confusion.to_numpy().tolist() == [[2, 1], [1, 1]]
    per = result.per_label.set_index("label")
    assert per.loc["a", "precision"] == pytest.approx(2 / 3)
    assert per.loc["a", "recall"] == pytest.approx(2 / 3)
    assert per.loc["a", "f1"] == pytest.approx(2 / 3)
    assert per.loc["b", "precision"] == pytest.approx(1 / 2)
    assert per.loc["b", "recall"] == pytest.approx(1 / 2)
    assert per.loc["b", "f1"] == pytest.approx(1 / 2)
    assert per["support"].tolist() == [3, 2]
    assert result.macro_f1 == pytest.approx(7 / 12)
    # b's PR curve: one point per distinct score, ascending thresholds.
    curve = result.pr_curves["b"]
    np.testing.assert_allclose(curve["threshold"], [0.1, 0.3, 0.45, 0.6, 0.8])
    np.testing.assert_allclose(curve["recall"], [1, 1, 1, 1 / 2, 1 / 2])
    np.testing.assert_allclose(curve["precision"], [2 / 5, 2 / 4, 2 / 3, 1 / 2, 1])


def ranked_case():
    """Label x: positives score 0.9, 0.8, 0.4; negatives 0.7, 0.3, 0.2.

    precision / recall at each threshold: 0.9: 1 / (1/3); 0.8: 1 / (2/3); 0.7: (2/3) / (2/3);
    0.4: (3/4) / 1; 0.3: (3/5) / 1; 0.2: (1/2) / 1.
    """
    x = np.array([0.9, 0.8, 0.4, 0.7, 0.3, 0.2])
    truth = ["x", "x", "x", "y", "y", "y"]
    return truth, np.column_stack([x, 1 - x])


def test_threshold_at_ratio_one_is_where_precision_equals_recall():
    truth, p = ranked_case()
    result = validation_accuracy(truth, p, ["x", "y"], pr_ratios=[1.0])
    row = result.thresholds.set_index("label").loc["x"]
    # The decisions at 0.7 hold for any threshold in (0.4, 0.7]: the midpoint is reported.
    assert row["threshold"] == pytest.approx(0.55)
    assert row["precision"] == pytest.approx(2 / 3)
    assert row["recall"] == pytest.approx(2 / 3)
    assert list(result.thresholds.columns) == list(THRESHOLD_COLUMNS)


def test_ratios_move_the_threshold_the_right_way():
    truth, p = ranked_case()
    result = validation_accuracy(truth, p, ["x", "y"], pr_ratios=(0.5, 1, 2))
    x = thresholds_at(result.thresholds, 0.5)["x"], thresholds_at(result.thresholds, 1)["x"]
    x += (thresholds_at(result.thresholds, 2)["x"],)
    # ratio 2 (precision twice recall): 0.8 gives 1 / (2/3) = 1.5, nearest 2 in log terms;
    # ratio 0.5: 0.2 gives (1/2) / 1 exactly.
    assert x == pytest.approx((0.1, 0.55, 0.75))  # midpoints below 0.2, 0.7 and 0.8
    assert x[0] < x[1] < x[2]
    assert len(result.thresholds) == 2 * 3


def test_threshold_ties_go_to_the_higher_f1():
    # 5 positives at 0.9, then 3 positives and 12 negatives at 0.5, then 2 positives at 0.1:
    # at 0.9 precision / recall = 1 / 0.5 = 2; at 0.5 it is 0.4 / 0.8 = 0.5: equally far
    # from 1 in log terms, and 0.9 has the higher F1 (2/3 against 0.53).
    scores = np.array([0.9] * 5 + [0.5] * 15 + [0.1] * 2)
    truth = ["x"] * 5 + ["x"] * 3 + ["y"] * 12 + ["x"] * 2
    result = validation_accuracy(truth, np.column_stack([scores, 1 - scores]), ["x", "y"])
    assert thresholds_at(result.thresholds, 1.0)["x"] == pytest.approx(0.7)  # (0.5 + 0.9) / 2


def test_label_without_examples_or_without_negatives_gets_nan_threshold():
    p = one_hot_like([0, 0, 1], 3)
    result = validation_accuracy(["a", "a", "b"], p, ["a", "b", "c"])
    per = result.per_label.set_index("label")
    assert per.loc["c", "support"] == 0
    assert math.isnan(per.loc["c", "recall"])
    assert math.isnan(per.loc["c", "precision"])  # nothing predicted c either
    assert result.macro_f1 == 1.0  # c has no support and does not count
    assert result.pr_curves["c"].empty
    assert math.isnan(thresholds_at(result.thresholds, 1.0)["c"])
    assert set(result.thresholds["label"]) == {"a", "b", "c"}
    # Every example is an "a": no negatives, so no threshold for a.
    only = validation_accuracy(["a", "a"], one_hot_like([0, 1], 2), ["a", "b"])
    assert math.isnan(thresholds_at(only.thresholds, 1.0)["a"])


def test_overlapped_loss_judges_each_output_on_its_own_examples():
    labels = ["a", "b"]
    truth = ["a", "a", "not_a", "not_a", "b", "not_b", "not_b"]
    p = np.array(
        [
            [0.9, 0.9],  # a, found (b says yes too: ignored for b)
            [0.3, 0.1],  # a, missed; no output says yes
            [0.6, 0.0],  # not_a, false alarm
            [0.1, 0.0],  # not_a, correct
            [0.99, 0.7],  # b, found (a's 0.99 ignored for a)
            [0.0, 0.2],  # not_b, correct
            [0.0, 0.8],  # not_b, false alarm
        ]
    )
    result = validation_accuracy(truth, p, labels, loss="overlapped")
    assert result.loss == "overlapped"
    per = result.per_label.set_index("label")
    assert (per.loc["a", "precision"], per.loc["a", "recall"]) == (0.5, 0.5)
    assert (per.loc["b", "precision"], per.loc["b", "recall"]) == (0.5, 1.0)
    assert per["support"].tolist() == [2, 1]
    assert result.macro_f1 == pytest.approx((0.5 + 2 / 3) / 2)
    confusion = result.confusion
    assert list(confusion.index) == ["a", "not_a", "b", "not_b"]
    assert list(confusion.columns) == ["a", "b", "(none)"]
    assert confusion.loc["a"].tolist() == [1, 1, 1]
    assert confusion.loc["not_a"].tolist() == [1, 0, 1]
    assert confusion.loc["b"].tolist() == [1, 1, 0]
    assert confusion.loc["not_b"].tolist() == [0, 1, 1]
    # a's curve uses only its 4 examples: scores 0.9, 0.6, 0.3, 0.1.
    np.testing.assert_allclose(result.pr_curves["a"]["threshold"], [0.1, 0.3, 0.6, 0.9])
    np.testing.assert_allclose(result.pr_curves["b"]["threshold"], [0.2, 0.7, 0.8])
    # a at ratio 1: 0.6 gives 1/2 / 1/2. b: 0.8 gives precision 0 (left out), 0.7 gives 1 / 1.
    # Reported as midpoints of the gaps below them: (0.3 + 0.6) / 2 and (0.2 + 0.7) / 2.
    assert thresholds_at(result.thresholds, 1.0) == pytest.approx({"a": 0.45, "b": 0.45})


def examples_table(truth):
    return pd.DataFrame(
        {
            "recording": [f"r{i}.wav" for i in range(len(truth))],
            "time_s": np.arange(len(truth), dtype=float),
            "label": truth,
            "kind": "annotated",
        }
    )


def test_mistakes_table_exclusive():
    truth = ["a", "a", "b", "b", "c"]
    p = np.array(
        [
            [0.8, 0.1, 0.1],  # right
            [0.3, 0.6, 0.1],  # a as b (0.6)
            [0.1, 0.5, 0.4],  # right
            [0.05, 0.05, 0.9],  # b as c (0.9)
            [0.7, 0.2, 0.1],  # c as a (0.7)
        ]
    )
    wrong = mistakes_table(examples_table(truth), p, ["a", "b", "c"])
    assert wrong.index.tolist() == [3, 4, 1]
    assert wrong["predicted"].tolist() == ["c", "a", "b"]
    np.testing.assert_allclose(wrong["probability"], [0.9, 0.7, 0.6])
    assert wrong["label"].tolist() == ["b", "c", "a"]
    assert wrong["kind"].eq("annotated").all()  # other columns are kept
    np.testing.assert_allclose(wrong["p:a"], [0.05, 0.7, 0.3])
    assert [c for c in wrong.columns if c.startswith("p:")] == ["p:a", "p:b", "p:c"]


def test_mistakes_table_overlapped():
    truth = ["a", "not_a", "b", "not_b", "a"]
    p = np.array([[0.2, 0.9], [0.95, 0.0], [0.0, 0.9], [0.0, 0.4], [0.6, 0.0]])
    wrong = mistakes_table(examples_table(truth), p, ["a", "b"], loss="overlapped")
    # Row 0: a missed (p 0.2, "not_a" at 0.8); row 1: false alarm for a (0.95).
    assert wrong.index.tolist() == [1, 0]
    assert wrong["predicted"].tolist() == ["a", "not_a"]
    np.testing.assert_allclose(wrong["probability"], [0.95, 0.8])
    assert wrong["p:b"].tolist() == [0.0, 0.9]


def test_mistakes_table_without_mistakes_is_empty_with_the_columns():
    truth = ["a", "b"]
    wrong = mistakes_table(examples_table(truth), one_hot_like([0, 1], 2), ["a", "b"])
    assert wrong.empty
    assert {"predicted", "probability", "p:a", "p:b"} <= set(wrong.columns)


def test_to_csv_and_read_thresholds_round_trip(tmp_path):
    truth, p = ranked_case()
    truth = [*truth, "y"]
    p = np.vstack([p, [0.1, 0.9]])
    labels = ["x", "y", "z"]
    p = np.column_stack([p, np.zeros(len(p))])  # z has no examples: NaN thresholds
    result = validation_accuracy(truth, p, labels, pr_ratios=(0.5, 1.0, 2.0))
    paths = result.to_csv(tmp_path / "accuracy")
    assert {k: v.name for k, v in paths.items()} == {
        "confusion": "confusion.csv",
        "per_label": "per_label.csv",
        "thresholds": "thresholds.csv",
        "pr_curves": "pr_curves.csv",
    }
    assert not list((tmp_path / "accuracy").glob(".*"))  # no temporary files left
    back = read_thresholds(paths["thresholds"])
    pd.testing.assert_frame_equal(back, result.thresholds, check_dtype=False)
    assert thresholds_at(back, 2.0) == pytest.approx(
        thresholds_at(result.thresholds, 2.0), nan_ok=True
    )
    curves = pd.read_csv(paths["pr_curves"])
    assert list(curves.columns) == ["label", "threshold", "precision", "recall"]
    assert len(curves) == sum(len(c) for c in result.pr_curves.values())
    confusion = pd.read_csv(paths["confusion"], index_col=0)
    assert confusion.index.name == "truth"
    np.testing.assert_array_equal(confusion.to_numpy(), result.confusion.to_numpy())


@pytest.mark.parametrize(
    ("truth", "p", "labels", "kwargs", "words"),
    [
        (["a", "q"], [[1, 0], [0, 1]], ["a", "b"], {}, ["'q'", "exclusive", "'a', 'b'"]),
        (["a", "nope"], [[1, 0], [0, 1]], ["a", "b"], {"loss": "overlapped"}, ["'nope'", "not_X"]),
        (["a", "b"], [[1, 0]], ["a", "b"], {}, ["shape (1, 2)", "(2, 2)"]),
        (["a", "b"], [[1, 0, 0], [0, 1, 0]], ["a", "b"], {}, ["shape (2, 3)", "(2, 2)"]),
        (["a", "b"], [[1, 0], [np.nan, 1]], ["a", "b"], {}, ["probabilities[1, 0]", "nan"]),
        (["a", "b"], [[1, 0], [3.0, 1]], ["a", "b"], {}, ["outside [0, 1]", "logits"]),
        ([], np.zeros((0, 2)), ["a", "b"], {}, ["truth is empty"]),
        (["a", None], [[1, 0], [0, 1]], ["a", "b"], {}, ["truth[1]=None"]),
        (["a"], [[1, 0]], ["a", "a"], {}, ["more than once"]),
        (["a"], [[1]], [], {}, ["labels is empty"]),
        (["a"], [[1, 0]], ["a", "b"], {"loss": "softmax"}, ["loss='softmax'", "exclusive"]),
        (["a"], [[1, 0]], ["a", "b"], {"pr_ratios": [1, 0]}, ["pr_ratios", "0", "> 0"]),
        (["a"], [[1, 0]], ["a", "b"], {"pr_ratios": [np.inf]}, ["inf", "finite"]),
        (["a"], [[1, 0]], ["a", "b"], {"pr_ratios": -2}, ["-2", "> 0"]),
        (["a"], [[1, 0]], ["a", "b"], {"pr_ratios": []}, ["pr_ratios=() must be non-empty"]),
        (["a"], [[1, 0]], ["a", "b"], {"pr_ratios": [1, 1.0]}, ["twice"]),
        (["a"], [[1, 0]], ["a", "not_a"], {"loss": "overlapped"}, ["'not_a'", "rename"]),
    ],
)
def test_validation_accuracy_errors(truth, p, labels, kwargs, words):
    with pytest.raises(ParameterError) as error:
        validation_accuracy(truth, np.asarray(p, dtype=float), labels, **kwargs)
    for word in words:
        assert word in str(error.value)


def test_mistakes_table_errors():
    p = one_hot_like([0, 1], 2)
    with pytest.raises(ParameterError, match=r"lacks the column.*time_s"):
        mistakes_table(pd.DataFrame({"recording": ["r", "r"], "label": ["a", "b"]}), p, ["a", "b"])
    with pytest.raises(ParameterError, match="'zz'"):
        mistakes_table(examples_table(["a", "zz"]), p, ["a", "b"])
    with pytest.raises(ParameterError, match=r"shape \(2, 2\).*\(3, 2\)"):
        mistakes_table(examples_table(["a", "b", "a"]), p, ["a", "b"])


def write(tmp_path, text):
    path = tmp_path / "thresholds.csv"
    path.write_text(text)
    return path


GOOD_HEADER = "label,pr_ratio,threshold,precision,recall\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("label,pr_ratio,precision,recall\na,1,0.5,0.5\n", ["lacks the column(s) threshold"]),
        (GOOD_HEADER + "a,1,0.5,0.5,0.5\nb,,0.4,0.5,0.5\n", ["row 3: pr_ratio is empty"]),
        (GOOD_HEADER + "a,nan,0.5,0.5,0.5\n", ["row 2: pr_ratio=nan", "> 0"]),
        (GOOD_HEADER + "a,1,0.5,0.5,0.5\n,1,0.5,0.5,0.5\n", ["row 3: label is empty"]),
        (GOOD_HEADER + "a,1,1.5,0.5,0.5\n", ["row 2: threshold=1.5 is outside [0, 1]"]),
        (GOOD_HEADER + "a,1,0.5,-0.1,0.5\n", ["row 2: precision=-0.1"]),
        (GOOD_HEADER + "a,1,high,0.5,0.5\n", ["row 2: threshold='high' is not a number"]),
        (GOOD_HEADER + "a,1,0.5,0.5,0.5\na,1.0,0.6,0.5,0.5\n", ["row 2 and row 3", "'a'"]),
        ("", ["is empty"]),
    ],
)
def test_read_thresholds_errors_name_the_file_and_row(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(FileProblem) as error:
        read_thresholds(path)
    assert str(error.value).startswith(str(path))
    for word in words:
        assert word in str(error.value)


def test_read_thresholds_accepts_nan_thresholds_and_missing_files_are_named(tmp_path):
    path = write(tmp_path, GOOD_HEADER + "a,1,0.25,0.5,0.5\nb,1,,,\nc,1,nan,nan,nan\n")
    table = read_thresholds(path)
    assert table["label"].tolist() == ["a", "b", "c"]
    got = thresholds_at(table, 1)
    assert got["a"] == 0.25 and math.isnan(got["b"]) and math.isnan(got["c"])
    with pytest.raises(FileProblem, match=r"missing\.csv: does not exist"):
        read_thresholds(tmp_path / "missing.csv")


def test_thresholds_at_lists_the_available_ratios():
    table = pd.DataFrame({"label": ["a", "a"], "pr_ratio": [1.0, 2.0], "threshold": [0.5, 0.6]})
    with pytest.raises(ParameterError, match=r"pr_ratio=0\.5 is not .* ratios are 1, 2"):
        thresholds_at(table, 0.5)
    with pytest.raises(ParameterError, match="lacks the column"):
        thresholds_at(table.drop(columns="threshold"), 1.0)
    with pytest.raises(ParameterError, match="> 0"):
        thresholds_at(table, -1)
