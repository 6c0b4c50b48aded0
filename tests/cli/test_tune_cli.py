"""sonotype tune-detector: refuses without annotations, writes sonotype.toml and a report;
sonotype detect then uses the tuned parameters, and --set still overrides them."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from sonotype.annotations import concat_events, write_events
from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.errors import ParameterError
from sonotype.store import Project
from sonotype.store.config import CONFIG_NAME, load_config, save_config
from sonotype.synth.usv import usv

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _mouse_project(tmp_path, monkeypatch, *, n=3, duration_s=2.0, annotate=True):
    audio = tmp_path / "audio"
    tables = []
    for i in range(n):
        y, events = usv(duration_s, recording=f"m{i}.wav", random_state=70 + i)
        write_audio(audio / f"m{i}.wav", y, 250000)
        tables.append(events)
    Project.init(tmp_path, audio_roots=[audio]).close()
    monkeypatch.chdir(tmp_path)
    assert invoke("scan").exit_code == 0
    truth = concat_events(tables)
    if annotate:
        write_events(truth, tmp_path / "truth.csv")
        assert invoke("import", tmp_path / "truth.csv").exit_code == 0
    return truth


def test_refuses_without_annotated_recordings(tmp_path, monkeypatch):
    _mouse_project(tmp_path, monkeypatch, n=1, duration_s=0.5, annotate=False)
    with pytest.raises(ParameterError, match="has no annotated events to tune against"):
        invoke("tune-detector", "--method", "amplitude")


def test_bad_options_are_named(tmp_path, monkeypatch):
    _mouse_project(tmp_path, monkeypatch, n=1, duration_s=0.5)
    with pytest.raises(ParameterError, match="unknown detector 'loud'"):
        invoke("tune-detector", "--method", "loud")
    with pytest.raises(ParameterError, match=r"--recordings x\.wav: not an indexed recording"):
        invoke("tune-detector", "--method", "amplitude", "--recordings", "x.wav")
    with pytest.raises(ParameterError, match="--labels song: no annotated events"):
        invoke("tune-detector", "--method", "amplitude", "--labels", "song")
    with pytest.raises(ParameterError, match="--folds=1 must be at least 2"):
        invoke("tune-detector", "--method", "amplitude", "--folds", "1")


def test_detect_uses_the_tuned_parameters_and_set_overrides(tmp_path, monkeypatch):
    truth = _mouse_project(tmp_path, monkeypatch, n=1, duration_s=1.5)
    config = load_config(tmp_path / CONFIG_NAME)
    config.detect.set_params(
        "amplitude", {"low_hz": 30000.0, "high_hz": 110000.0, "noise_factor": 5.0,
                      "min_duration_ms": 5.0, "smooth_ms": 1.0}
    )  # fmt: skip
    save_config(config, tmp_path / CONFIG_NAME)

    def detected(*options):
        result = invoke("detect", "--method", "amplitude", "--workers", "1", *options)
        assert result.exit_code == 0, result.output
        assert "using [detect.amplitude] of sonotype.toml" in result.stderr
        with Project.open(tmp_path) as project:
            row = project.db.execute(
                "SELECT config FROM runs WHERE command = 'detect' ORDER BY id DESC LIMIT 1"
            ).fetchone()
            return json.loads(row["config"])["params"], project.events(kinds=["detected"])

    params, events = detected()
    assert params["low_hz"] == 30000.0 and params["noise_factor"] == 5.0
    assert len(events) == len(truth)  # the calls, found with the tuned band
    params, events = detected("--set", "low_hz=500", "--set", "high_hz=10000")
    assert params["low_hz"] == 500 and params["noise_factor"] == 5.0
    assert len(events) != len(truth)


@pytest.mark.slow
def test_tune_detector_writes_the_config_and_a_report(tmp_path, monkeypatch):
    truth = _mouse_project(tmp_path, monkeypatch)
    result = invoke("tune-detector", "--method", "amplitude", "--trials", "8", "--folds", "2",
                    "--workers", "1", "--seed", "3")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "F1 after" in result.stdout and "(all)" in result.stdout
    assert "wrote [detect.amplitude]" in result.stdout
    tuned = load_config(tmp_path / CONFIG_NAME).detect.params("amplitude")
    assert tuned["threshold_mode"] == "noise" and tuned["low_hz"] > 10000
    report = pd.read_csv(tmp_path / "reports" / "tune-detector-amplitude.csv")
    assert report["recording"].tolist() == ["m0.wav", "m1.wav", "m2.wav", "(all)"]
    assert report["n_ref"].iloc[-1] == len(truth)
    assert report["after_f1"].iloc[-1] > report["before_f1"].iloc[-1]
    record = json.loads((tmp_path / "reports" / "tune-detector-amplitude.json").read_text())
    assert record["params"] == tuned and record["seed"] == 3 and record["cross_validated"]
    with Project.open(tmp_path) as project:
        runs = project.db.execute("SELECT command, status FROM runs").fetchall()
    assert ("tune-detector", "ok") in [tuple(r) for r in runs]
