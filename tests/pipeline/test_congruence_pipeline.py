"""`sonotype congruence` end to end: a tiny model on synthetic fly song against three
annotators made from the true song (one exact, one who missed sine songs, one who shifted
pulses), then the dense thresholds used by `sonotype ethogram --thresholds`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sonotype.annotations import concat_events, write_events
from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.errors import ParameterError
from sonotype.models.accuracy import read_thresholds
from sonotype.store import Project
from sonotype.synth import flysong

pytest.importorskip("torch")
pytestmark = pytest.mark.slow

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dense")
    rng = np.random.default_rng(0)
    tables = []
    for i in range(2):
        name = f"fly{i}.wav"
        y, truth = flysong(12, recording=name, random_state=i)
        write_audio(folder / "audio" / name, y, 2500)
        tables.append(truth.assign(source="ann"))
        sine = (truth["label"] == "sine").to_numpy()
        dropped = sine & (np.cumsum(sine) % 2 == 0)  # every other sine song
        tables.append(truth[~dropped].assign(source="bob"))
        shifted = truth.copy()
        pulse = (truth["label"] == "pulse").to_numpy()
        jitter = rng.uniform(-0.004, 0.004, pulse.sum())
        for column in ("start_s", "stop_s"):
            values = shifted[column].to_numpy(float).copy()
            values[pulse] = np.clip(values[pulse] + jitter, 0, 12)
            shifted[column] = values
        tables.append(shifted.assign(source="cat"))
    write_events(concat_events(tables), folder / "dense.csv")
    with Project.init(folder, audio_roots=[folder / "audio"]) as p:
        p.scan()
        p.import_files([folder / "dense.csv"])
    result = invoke(
        "train", "--name", "m", "--labels", "pulse,sine", "--background", "ambient",
        "--recordings", "fly0.wav", "--validate-percent", "25", "--steps", "60",
        "--validate-every", "30", "--set", "feature_maps=8", "-p", folder,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder


def test_congruence_writes_tables_plots_and_stores_disagreements(project):
    result = invoke(
        "congruence", "m", "--dense", "ann,bob,cat", "--recordings", "fly1.wav",
        "--sweep", "0.2,0.5,0.8", "-p", project,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = project / "reports" / "congruence" / "m"
    for file in ("summary-event.csv", "summary-sample.csv", "regions.csv", "sweep.csv",
                 "thresholds-dense.csv", "bars-event.png", "sweep-sample.png"):  # fmt: skip
        assert (folder / file).is_file(), file
    assert not (folder / "venn-event.png").exists()  # four parties: no Venn diagram
    summary = pd.read_csv(folder / "summary-event.csv").set_index("label")
    # Every other sine song is bob's miss: 'not bob' sounds exist; the model's columns too.
    assert summary.loc["sine", "not bob"] + summary.loc["sine", "other"] > 0
    assert {"only m", "not m", "precision", "recall"} <= set(summary.columns)
    sweep = pd.read_csv(folder / "sweep.csv")
    assert sorted(sweep["threshold"].unique()) == [0.2, 0.5, 0.8]
    with Project.open(project) as p:
        stored = p.events(kinds=["missed", "mistaken"], sources=["congruence-m"])
    counts = stored["kind"].value_counts()
    assert counts.get("mistaken", 0) == summary.loc["(all)", "only m"]
    assert counts.get("missed", 0) == summary.loc["(all)", "not m"]
    assert "undid edit" in invoke("undo", "-p", project).output

    thresholds = read_thresholds(folder / "thresholds-dense.csv")
    assert set(thresholds["label"]) <= {"pulse", "sine"}
    assert set(thresholds["threshold"].dropna()) <= {0.2, 0.5, 0.8}
    result = invoke(
        "ethogram", "m", "fly1.wav", "--thresholds", folder / "thresholds-dense.csv", "-p", project
    )
    assert result.exit_code == 0, result.output
    assert "thresholds-dense.csv at ratio 1" in result.output


def test_two_parties_draw_venn_diagrams_and_errors_name_the_option(project, tmp_path):
    result = invoke(
        "congruence", "m", "--dense", "ann", "--portion", "intersection", "--sweep", "0.5",
        "--no-store", "-o", tmp_path / "out", "-p", project,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "venn-event.png").is_file()
    with pytest.raises(ParameterError, match="no annotated events of that source"):
        invoke("congruence", "m", "--dense", "zed", "-p", project)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--choose-by", "frames", "--choose-by 'frames' must be event or sample"),
        ("--sweep", "0.5,2", "--sweep [0.5, 2.0] must be one or more thresholds in [0, 1]"),
        ("--pr-ratios", "0", "--pr-ratios [0.0] must be finite numbers > 0"),
        ("--portion", "both", "--portion 'both' must be union or intersection"),
    ],
)
def test_bad_options_are_named_as_the_cli_spells_them(project, option, value, message):
    from sonotype.cli.main import cli_message

    args = ["congruence", "m", "--dense", "ann", option, value, "-p", str(project)]
    with pytest.raises(ParameterError) as caught:
        invoke(*args)
    assert cli_message(caught.value, args) == message
