"""The supervised commands as stages: run again with nothing changed, each computes nothing
(counted in the run's steps) and stores nothing new; a change reruns what follows it; a
recording that cannot be read fails alone."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from sonotype.annotations import concat_events
from sonotype.audio import write_audio
from sonotype.errors import ParameterError
from sonotype.models.config import network_config
from sonotype.models.settings import TrainSettings
from sonotype.store import Project
from sonotype.synth import flysong

torch = pytest.importorskip("torch")

from sonotype.pipeline import supervised  # noqa: E402

TINY = network_config(conv_layers=2, feature_maps=4, context_ms=40)
QUICK = TrainSettings(steps=4, batch_size=8, validate_every=2)
DENSE = dict(labels=["pulse", "sine"], background="ambient", network=TINY, settings=QUICK)


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


def computed(project, run_id):
    return [s["stage"] for s in project.run_steps(run_id, status="computed")]


def cached(project, run_id):
    return [s["stage"] for s in project.run_steps(run_id, status="cached")]


def test_importing_the_workflow_does_not_import_torch():
    code = (
        "import sys, sonotype.pipeline.supervised, sonotype.models.settings; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_train_again_with_nothing_changed_trains_nothing(project):
    first = supervised.train(project, "m", **DENSE)
    assert computed(project, first.run_id) == ["train"] and not first.up_to_date
    weights = first.model.weights_path().read_bytes()
    key = first.model.train_key
    assert key

    again = supervised.train(project, "m", **DENSE)
    assert computed(project, again.run_id) == []
    assert cached(project, again.run_id) == ["train"]
    assert again.up_to_date and again.model.train_key == key
    assert again.model.weights_path().read_bytes() == weights
    assert again.examples.equals(first.examples)
    assert again.replicates.equals(first.replicates)

    changed = {**DENSE, "settings": QUICK.model_copy(update={"steps": 6})}
    with pytest.raises(ParameterError, match="--force"):
        supervised.train(project, "m", **changed)
    replaced = supervised.train(project, "m", **changed, overwrite=True)
    assert computed(project, replaced.run_id) == ["train"]
    assert replaced.model.train_key != key

    # A model deleted since is trained again, even by a run whose key is cached.
    import shutil

    shutil.rmtree(replaced.model.folder)
    back = supervised.train(project, "m", **changed)
    assert computed(project, back.run_id) == ["train"]


def test_classify_again_computes_nothing_and_a_bad_recording_fails_alone(project):
    # In this process (one worker): a pool is tested apart, in a child process (below).
    supervised.train(project, "m", **DENSE)
    first = supervised.classify(project, "m", recordings=["fly0.wav", "fly1.wav"], workers=1)
    assert (first.computed, first.cached) == (2, 0)
    assert computed(project, first.run_id) == ["probabilities", "probabilities"]
    again = supervised.classify(project, "m", workers=1)
    assert (again.computed, again.cached) == (1, 2)
    assert again.paths["fly0.wav"] == first.paths["fly0.wav"]
    assert computed(project, supervised.classify(project, "m", workers=1).run_id) == []

    # fly2 is damaged after indexing: it fails with its reason, the others are kept.
    (project.folder / "audio" / "fly2.wav").write_bytes(b"RIFF\x00\x00")
    with_prevalence = supervised.classify(project, "m", prevalence={"ambient": 2.0}, workers=1)
    assert list(with_prevalence.failures) == ["fly2.wav"]
    assert sorted(with_prevalence.paths) == ["fly0.wav", "fly1.wav"]
    (run,) = project.runs(ids=[with_prevalence.run_id])
    assert run["status"] == "partial" and "fly2.wav" in run["error"]
    failed = project.run_steps(with_prevalence.run_id, status="failed")
    assert [s["item"] for s in failed] == ["fly2.wav"]


@pytest.mark.slow
def test_a_pool_of_two_gives_the_probabilities_of_classifying_here(project):
    # After training in this process: torch has run its threads here before the pool starts.
    from sonotype.audio import Recording
    from sonotype.models.inference import classify_to_file

    model = supervised.train(project, "m", **DENSE).model
    result = supervised.classify(project, "m", workers=2)
    assert (result.computed, result.failures) == (3, {})
    network = model.network()
    for name, path in result.paths.items():
        expected = classify_to_file(
            network,
            Recording(project.recording_path(name)),
            project.folder / f"{name}.npy",
            sr=model.sr,
            n_labels=len(model.labels),
        )
        np.testing.assert_allclose(np.load(path), np.load(expected), atol=1e-6)


def test_ethogram_again_adds_no_edit_and_a_changed_setting_reruns_only_it(project):
    # Trained long enough to predict some song.
    supervised.train(project, "m", **{**DENSE, "settings": TrainSettings(steps=40, batch_size=8)})
    first = supervised.ethogram(project, "m", recordings=["fly1.wav"])
    assert first.edit is not None
    assert computed(project, first.run_id) == ["probabilities", "ethogram"]
    edits = len(project.edit_log(limit=100))

    again = supervised.ethogram(project, "m", recordings=["fly1.wav"])
    assert again.edit is None
    assert computed(project, again.run_id) == []
    assert len(project.edit_log(limit=100)) == edits
    assert again.events.reset_index(drop=True).equals(first.events.reset_index(drop=True))

    gapped = supervised.ethogram(project, "m", recordings=["fly1.wav"], min_gap_ms=50)
    assert computed(project, gapped.run_id) == ["ethogram"]  # the probabilities were kept

    # Another recording's predictions join this model's; fly1's stay.
    other = supervised.ethogram(project, "m", recordings=["fly0.wav"])
    stored = project.events(kinds=["predicted"], sources=["m"])
    assert not other.events.empty
    assert set(stored["recording"]) == {"fly0.wav", "fly1.wav"}
    assert len(stored[stored["recording"] == "fly1.wav"]) == len(gapped.events)


def test_misses_again_adds_no_edit(project):
    truth = project.events(recordings=["fly1.wav"])
    detected = truth.assign(kind="detected", source="det", label="sound")
    project.add_events(detected, command="test", description="detections")
    predicted = truth[truth["label"] == "pulse"].assign(kind="predicted", source="m")
    project.add_events(predicted, command="test", description="predictions")

    first = supervised.find_misses(project, predicted_sources=["m"])
    assert first.edit is not None and len(first.events) == (truth["label"] != "pulse").sum()
    assert computed(project, first.run_id) == ["misses"]
    again = supervised.find_misses(project, predicted_sources=["m"])
    assert again.edit is None and computed(project, again.run_id) == []
    wider = supervised.find_misses(project, predicted_sources=["m"], tolerance_ms=500)
    assert computed(project, wider.run_id) == ["misses"]
    assert len(wider.events) <= len(first.events)


@pytest.mark.slow
def test_accuracy_again_computes_nothing_until_its_report_is_gone(project):
    supervised.train(project, "m", **DENSE, validate_recordings=["fly2.wav"])
    first = supervised.accuracy(project, "m")
    steps = computed(project, first.run_id)
    assert "accuracy" in steps and "probabilities" in steps and not first.up_to_date

    again = supervised.accuracy(project, "m")
    assert computed(project, again.run_id) == [] and again.up_to_date
    assert again.best_step == first.best_step
    assert again.macro_f1 == pytest.approx(first.macro_f1)
    assert again.per_label["label"].tolist() == first.per_label["label"].tolist()
    assert again.postprocessing.thresholds == first.postprocessing.thresholds

    # The final weights' probabilities are the ones ethogram needs: nothing to classify.
    events = supervised.ethogram(project, "m", recordings=["fly2.wav"])
    assert "probabilities" not in computed(project, events.run_id)

    first.report.unlink()
    redone = supervised.accuracy(project, "m")
    assert computed(project, redone.run_id) == ["accuracy"]  # every classification kept
    assert redone.report.is_file()
    other = supervised.accuracy(project, "m", tolerance_ms=20)
    assert computed(project, other.run_id) == ["accuracy"]
