"""The supervised workflow's own choices: replicates, validation by recording, cached and
prevalence-adjusted probabilities, thresholds without accuracy, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import concat_events
from sonotype.audio import write_audio
from sonotype.errors import ParameterError
from sonotype.models.config import network_config
from sonotype.store import Project
from sonotype.synth import flysong

torch = pytest.importorskip("torch")

from sonotype.models.settings import TrainSettings  # noqa: E402
from sonotype.pipeline import supervised  # noqa: E402

TINY = network_config(conv_layers=2, feature_maps=4, context_ms=40)


@pytest.fixture
def project(tmp_path):
    tables = []
    for i in range(3):
        name = f"fly{i}.wav"
        y, events = flysong(6, recording=name, random_state=i)
        write_audio(tmp_path / "audio" / name, y, 2500)
        tables.append(events)
    with Project.init(tmp_path, audio_roots=[tmp_path / "audio"]) as p:
        p.scan()
        p.add_events(concat_events(tables), command="test", description="truth")
        yield p


def test_replicates_keep_the_best_and_validate_on_held_out_recordings(project):
    outcome = supervised.train(
        project,
        "r",
        labels=["pulse", "sine"],
        background="ambient",
        network=TINY,
        settings=TrainSettings(steps=20, batch_size=8),
        recordings=["fly0.wav", "fly1.wav"],
        validate_recordings=["fly2.wav"],
        replicates=2,
    )
    assert outcome.model.labels == ["pulse", "sine", "ambient"]
    table = outcome.replicates
    assert table["replicate"].tolist() == [1, 2]
    assert table["seed"].tolist() == [0, 1]
    best = table.loc[table["macro_f1"].idxmax(), "replicate"]
    folder = outcome.model.folder
    assert (folder / "replicates.csv").is_file()
    assert (folder / "replicates" / f"r{best}" / "weights.pt").read_bytes() == (
        folder / "weights.pt"
    ).read_bytes()
    validated = outcome.examples[outcome.examples["split"] == "validation"]
    assert set(validated["recording"]) == {"fly2.wav"}
    assert not any(p.name.startswith(".r.") for p in folder.parent.iterdir())  # no staging left


def test_classify_is_cached_and_prevalence_reweights(project):
    supervised.train(project, "m", labels=["pulse", "sine"], background="ambient",
                     network=TINY, settings=TrainSettings(steps=10, batch_size=8))  # fmt: skip
    first = supervised.classify(project, "m", recordings=["fly0.wav"]).paths["fly0.wav"]
    again = supervised.classify(project, "m", recordings=["fly0.wav"]).paths["fly0.wav"]
    assert first == again
    plain = np.load(first)
    assert plain.shape[1] == 3
    np.testing.assert_allclose(plain.sum(axis=1), 1, atol=1e-5)
    weighted_path = supervised.classify(
        project, "m", recordings=["fly0.wav"], prevalence={"ambient": 10.0, "pulse": 1.0}
    ).paths["fly0.wav"]
    assert weighted_path != first
    weighted = np.load(weighted_path)
    assert weighted[:, 2].mean() > plain[:, 2].mean()  # ambient made more likely


def test_ethogram_without_accuracy_uses_one_half(project):
    supervised.train(project, "m", labels=["pulse", "sine"], background="ambient",
                     network=TINY, settings=TrainSettings(steps=10, batch_size=8))  # fmt: skip
    result = supervised.ethogram(project, "m", recordings=["fly1.wav"])
    events, edit, origins = result.events, result.edit, result.origins
    assert "(0.5 for every label" in origins[0]
    assert isinstance(events, pd.DataFrame)
    assert len(project.events(kinds=["predicted"], sources=["m"])) == len(events)
    project.undo()
    assert project.events(kinds=["predicted"]).empty
    assert edit.id > 0
    assert set(events["kind"]) <= {"predicted"}
    assert set(events["label"]) <= {"pulse", "sine"}  # the background is never predicted


def test_clear_errors(project):
    with pytest.raises(ParameterError, match=r"no model named 'nope'.*trained models: none"):
        supervised.load_model(project, "nope")
    with pytest.raises(ParameterError, match="model name"):
        supervised.model_folder(project, "../escape")
    with pytest.raises(ParameterError, match="no indexed recording matches"):
        supervised.train(project, "x", labels=["pulse"], network=TINY,
                         settings=TrainSettings(steps=1), recordings=["bird*"])  # fmt: skip
    with pytest.raises(ParameterError, match="batch_size=999"):
        supervised.train(project, "x", labels=["pulse", "sine"], network=TINY,
                         settings=TrainSettings(steps=1, batch_size=999))  # fmt: skip
    with pytest.raises(ParameterError, match="too few to hold out"):
        supervised.train(project, "x", labels=["pulse", "sine"], network=TINY,
                         settings=TrainSettings(steps=1), recordings=["fly0.wav"],
                         validate_percent=99)  # fmt: skip
    with pytest.raises(ParameterError, match="trained without validation"):
        supervised.train(project, "nv", labels=["pulse", "sine"], network=TINY,
                         settings=TrainSettings(steps=2, batch_size=4),
                         validate_percent=0)  # fmt: skip
        supervised.accuracy(project, "nv")


QUICK = TrainSettings(steps=2, batch_size=4)


def test_labels_not_in_labels_are_an_error_that_says_both_ways_out(project):
    n_sine = int((project.events()["label"] == "sine").sum())
    with pytest.raises(ParameterError) as error:
        supervised.train(project, "u", labels=["pulse"], network=TINY, settings=QUICK)
    message = str(error.value)
    assert f"sine ({n_sine} events)" in message
    assert "--ignore-labels sine" in message and "--absorb-unlisted" in message


def test_ignored_labels_are_left_out(project):
    outcome = supervised.train(project, "i", labels=["pulse"], background="ambient",
                               ignore_labels=["sine"], network=TINY, settings=QUICK)  # fmt: skip
    assert set(outcome.examples["label"]) == {"pulse", "ambient"}
    assert outcome.model.training["ignore_labels"] == ["sine"]


def test_absorbed_labels_are_taught_as_background(project):
    with pytest.raises(ParameterError, match="--absorb-unlisted needs --background"):
        supervised.train(project, "a", labels=["pulse"], absorb_unlisted=True,
                         network=TINY, settings=QUICK)  # fmt: skip
    outcome = supervised.train(project, "a", labels=["pulse"], background="ambient",
                               absorb_unlisted=True, network=TINY, settings=QUICK)  # fmt: skip
    sine = project.events()
    sine = sine[sine["label"] == "sine"]
    ambient = outcome.examples[outcome.examples["label"] == "ambient"]
    spans = set(zip(ambient["recording"], ambient["start_s"], ambient["stop_s"], strict=True))
    assert set(zip(sine["recording"], sine["start_s"], sine["stop_s"], strict=True)) <= spans
    assert outcome.model.training["absorbed_labels"] == ["sine"]


def test_three_recordings_validate_on_a_whole_held_out_recording(project):
    outcome = supervised.train(project, "v", labels=["pulse", "sine"], background="ambient",
                               network=TINY, settings=QUICK)  # fmt: skip
    held = outcome.model.training["validation_recordings"]
    assert len(held) == 1 and outcome.warnings == ()
    split = outcome.examples.groupby("recording")["split"].unique()
    assert [list(v) for v in split] == [
        ["validation"] if name in held else ["train"] for name in split.index
    ]
    again = supervised.train(project, "v", labels=["pulse", "sine"], background="ambient",
                             network=TINY, settings=QUICK, overwrite=True)  # fmt: skip
    assert again.model.training["validation_recordings"] == held  # seeded


def test_fewer_recordings_validate_on_events_with_a_warning(project):
    outcome = supervised.train(project, "w", labels=["pulse", "sine"], background="ambient",
                               recordings=["fly0.wav", "fly1.wav"], network=TINY,
                               settings=QUICK)  # fmt: skip
    (warning,) = outcome.warnings
    assert "only 2 recording(s) have examples" in warning
    assert outcome.model.training["validation_recordings"] == []
    validated = outcome.examples[outcome.examples["split"] == "validation"]
    assert set(validated["recording"]) == {"fly0.wav", "fly1.wav"}
    assert set(validated["label"]) == {"pulse", "sine", "ambient"}


def test_test_recordings_are_never_used(project):
    outcome = supervised.train(project, "t", labels=["pulse", "sine"], background="ambient",
                               test_recordings=["fly2*"], network=TINY,
                               settings=QUICK)  # fmt: skip
    assert "fly2.wav" not in set(outcome.examples["recording"])
    assert outcome.model.training["test_recordings"] == ["fly2.wav"]
    assert outcome.warnings  # two recordings left: events are validated
    with pytest.raises(ParameterError, match="both by --validate-recordings and"):
        supervised.train(project, "t2", labels=["pulse", "sine"], background="ambient",
                         test_recordings=["fly2.wav"], validate_recordings=["fly2.wav"],
                         network=TINY, settings=QUICK)  # fmt: skip
