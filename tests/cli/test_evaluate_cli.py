"""``sonotype evaluate events``: files and folders, table and JSON, matches CSV, warnings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from sonotype.annotations import make_events, read_events, write_events
from sonotype.cli import evaluate
from sonotype.cli.main import app as main_app
from sonotype.errors import ParameterError
from tests.fixtures.shared import data_folder

runner = CliRunner()


def _app() -> typer.Typer:
    """The main app once ``evaluate`` is registered in it; until then, a stand-in."""
    if any(group.name == "evaluate" for group in main_app.registered_groups):
        return main_app
    stand_in = typer.Typer()
    stand_in.callback()(lambda: None)
    stand_in.add_typer(evaluate.app, name="evaluate")
    return stand_in


def invoke(*args):
    return runner.invoke(_app(), ["evaluate", "events", *map(str, args)], catch_exceptions=False)


@pytest.fixture
def files(tmp_path):
    ref = make_events(
        ["day1/song.wav"] * 4 + ["day1/other.wav"],
        [0.10, 0.30, 0.50, 0.70, 1.0],
        [0.20, 0.40, 0.60, 0.80, 1.1],
        ["a", "b", "a", "c", "a"],
    )
    pred = make_events(
        ["song.wav"] * 4 + ["extra.wav"],
        [0.104, 0.30, 0.53, 0.70, 2.0],
        [0.20, 0.405, 0.60, 0.80, 2.1],
        ["a", "b", "a", "b", "a"],
    )
    write_events(ref, tmp_path / "ref.csv")
    write_events(pred, tmp_path / "pred.csv")
    return tmp_path / "ref.csv", tmp_path / "pred.csv"


def test_help():
    result = invoke("--help")
    assert result.exit_code == 0
    for option in ("--ref", "--pred", "--tolerance-ms", "--labels", "--iou", "--json", "--matches"):
        assert option in result.output


def test_table_output_and_warnings(files):
    ref, pred = files
    result = invoke("--ref", ref, "--pred", pred)
    assert result.exit_code == 0, result.output
    assert "(all)" in result.stdout and "false" in result.stdout
    assert "syllable error rate: 0.600" in result.stdout
    # day1/song.wav matched song.wav by file name; the others are reported.
    assert "1 recording only in REF (their 1 events count as misses): day1/other.wav" in (
        result.stderr
    )
    assert "only in PRED (their 1 events count as false alarms): extra.wav" in result.stderr


def test_json_output(files):
    ref, pred = files
    result = invoke("--ref", ref, "--pred", pred, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    scores = {row["label"]: row for row in summary["scores"]}
    assert list(scores) == ["a", "b", "c", "(all)"]
    # a: 0.104 hits 0.10 (4 ms); 0.53 is 30 ms late; 1.0 and 2.0 are in other recordings.
    assert (scores["a"]["hits"], scores["a"]["misses"], scores["a"]["false_alarms"]) == (1, 2, 2)
    assert scores["a"]["onset_error_median_s"] == pytest.approx(0.004)
    assert scores["b"]["hits"] == 1
    assert scores["c"]["precision"] is None and scores["c"]["recall"] == 0
    assert summary["ser"] == pytest.approx(3 / 5)  # a b a c / a b a b, a / -, - / a
    assert summary["only_in_ref"] == ["day1/other.wav"]
    assert summary["only_in_pred"] == ["extra.wav"]
    assert summary["tolerance_ms"] == 10


def test_tolerance_labels_and_iou(files):
    ref, pred = files

    def hits(*options):
        result = invoke("--ref", ref, "--pred", pred, "--json", *options)
        assert result.exit_code == 0, result.output
        return {r["label"]: r["hits"] for r in json.loads(result.stdout)["scores"]}

    assert hits("--tolerance-ms", "40")["a"] == 2
    assert hits("--tolerance-ms", "3")["a"] == 0
    assert hits("--labels", "a,b") == {"a": 1, "b": 1, "(all)": 2}
    assert hits("--labels", "a", "--labels", "c") == {"a": 1, "c": 0, "(all)": 1}
    assert hits("--iou", "0.6") == {"a": 2, "b": 1, "c": 0, "(all)": 3}


def test_matches_csv(files, tmp_path):
    ref, pred = files
    out = tmp_path / "out" / "matches.csv"
    result = invoke("--ref", ref, "--pred", pred, "--matches", out)
    assert result.exit_code == 0, result.output
    matches = pd.read_csv(out)
    assert matches["label"].tolist() == ["a", "b"]
    assert matches["recording"].tolist() == ["day1/song.wav"] * 2
    assert matches["onset_error_s"].tolist() == pytest.approx([0.004, 0.0])
    assert not list(out.parent.glob(".*.tmp"))


def test_folders(tmp_path):
    ref_dir, pred_dir = tmp_path / "ref", tmp_path / "pred"
    for folder, shift in ((ref_dir, 0.0), (pred_dir, 0.002)):
        for name in ("birdA/s1.wav", "birdB/s2.wav"):
            events = make_events(name, np.array([0.1, 0.5]) + shift, [0.3, 0.7], ["x", "y"])
            write_events(events.assign(recording=name.split("/")[1]), folder / f"{name}.csv")
    result = invoke("--ref", ref_dir, "--pred", pred_dir, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["scores"][-1]["f1"] == 1.0
    assert [s["recording"] for s in summary["sequences"]] == ["birdA/s1.wav", "birdB/s2.wav"]
    assert summary["only_in_ref"] == [] and summary["warnings"] == []

    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="holds no annotation file"):
        invoke("--ref", tmp_path / "empty", "--pred", pred_dir)


def test_bad_options(files):
    ref, pred = files
    with pytest.raises(ParameterError, match=r"--tolerance-ms=-5 must be a finite number >= 0"):
        invoke("--ref", ref, "--pred", pred, "--tolerance-ms", "-5")
    with pytest.raises(ParameterError, match=r"--iou=1.5 must be in \(0, 1\]"):
        invoke("--ref", ref, "--pred", pred, "--iou", "1.5")
    with pytest.raises(ParameterError, match=r"'zz' occurs in neither table; .* a, b, c"):
        invoke("--ref", ref, "--pred", pred, "--labels", "a,zz")


def test_real_notmat_folder_against_a_shifted_copy(tmp_path):
    folder = data_folder("bengalese-finch-gy6or6")
    truth = pd.concat([read_events(p) for p in sorted(folder.glob("*.not.mat"))], ignore_index=True)
    shifted = truth.assign(start_s=truth["start_s"] + 0.003, stop_s=truth["stop_s"] - 0.002)
    changed = shifted.index[::50]
    shifted.loc[changed, "label"] = "zz"
    write_events(shifted, tmp_path / "pred.csv")
    result = invoke("--ref", folder, "--pred", tmp_path / "pred.csv", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    total = summary["scores"][-1]
    assert total["n_ref"] == len(truth)
    assert total["hits"] == len(truth) - len(changed)
    assert total["onset_error_median_s"] == pytest.approx(0.003)
    assert total["offset_error_median_s"] == pytest.approx(-0.002)
    assert summary["ser"] == pytest.approx(len(changed) / len(truth))


def test_ignore_labels_and_per_recording_rows(files):
    ref, pred = files

    def summary(*options):
        result = invoke("--ref", ref, "--pred", pred, "--json", *options)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    by_label = summary()
    assert by_label["scores"][-1]["hits"] == 2  # the c / b pair at 0.70 differs in label
    segments = summary("--ignore-labels")
    assert [row["label"] for row in segments["scores"]] == ["segment", "(all)"]
    assert segments["scores"][-1]["hits"] == 3
    assert segments["ignore_labels"] is True
    rows = {row["recording"]: row for row in segments["recordings"]}
    assert list(rows) == ["day1/other.wav", "day1/song.wav", "extra.wav"]
    counts = {name: (r["n_ref"], r["n_pred"], r["hits"]) for name, r in rows.items()}
    assert counts == {"day1/other.wav": (1, 0, 0), "day1/song.wav": (4, 4, 3),
                      "extra.wav": (0, 1, 0)}  # fmt: skip
    assert rows["day1/song.wav"]["f1"] == pytest.approx(0.75)
    assert rows["extra.wav"]["recall"] is None
    # Per recording without --ignore-labels: labels must agree.
    assert {r["recording"]: r["hits"] for r in by_label["recordings"]}["day1/song.wav"] == 2
    # With --labels, only those events become segments: a and c, against a.
    only = summary("--ignore-labels", "--labels", "a,c")
    assert {r["recording"]: r["hits"] for r in only["recordings"]}["day1/song.wav"] == 1

    table = invoke("--ref", ref, "--pred", pred, "--ignore-labels")
    assert table.exit_code == 0, table.output
    assert "per recording" in table.stdout and "day1/song.wav" in table.stdout
