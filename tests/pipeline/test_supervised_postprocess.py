"""The supervised workflow learns its ethogram's post-processing in ``accuracy`` and uses it
in ``ethogram``: whole validation recordings, test recordings reported apart, options that
override, the background never stored."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sonotype.annotations import concat_events
from sonotype.audio import write_audio
from sonotype.models.config import network_config
from sonotype.store import Project
from sonotype.synth import birdsong
from sonotype.synth.birdsong import syllable_types

torch = pytest.importorskip("torch")

from sonotype.models.postprocess import PostProcessing  # noqa: E402
from sonotype.models.settings import TrainSettings  # noqa: E402
from sonotype.pipeline import supervised  # noqa: E402

TINY = network_config(conv_layers=2, feature_maps=4, context_ms=20, stride_ms=1.0)
SR = 8000
SETTINGS = TrainSettings(steps=16, batch_size=8, validate_every=8)


@pytest.fixture
def project(tmp_path):
    """Four songs of one bird that repeats "b" with 1-1.5 ms gaps."""
    types = syllable_types(3, sr=SR, rng=np.random.default_rng(0))
    tables = []
    for i in range(4):
        name = f"song{i}.wav"
        y, events = birdsong(6, sr=SR, types=types, repeat="b", recording=name, random_state=i)
        write_audio(tmp_path / "audio" / name, y, SR)
        tables.append(events)
    with Project.init(tmp_path, audio_roots=[tmp_path / "audio"]) as p:
        p.scan()
        p.add_events(concat_events(tables), command="test", description="truth")
        yield p


@pytest.mark.slow
def test_accuracy_learns_postprocessing_that_ethogram_uses(project):
    supervised.train(project, "m", labels=["a", "b", "c"], background="background",
                     network=TINY, settings=SETTINGS, recordings=["song0.wav", "song1.wav"],
                     validate_recordings=["song2.wav"])  # fmt: skip
    model = supervised.load_model(project, "m")
    model.training["test_recordings"] = ["song3.wav"]  # as `train --test-recordings` records
    model.save()
    outcome = supervised.accuracy(project, "m")

    chosen = outcome.postprocessing
    assert chosen.ethogram_settings() == PostProcessing.load(model.folder).ethogram_settings()
    assert chosen.validation["recordings"] == ["song2.wav"]
    assert chosen.validation["optimistic"] is False
    assert chosen.test["recordings"] == ["song3.wav"]
    assert set(chosen.test["scores"]) >= {"objective", "f1", "ser"}
    assert "background" not in chosen.thresholds
    # Bounds come from the training songs only: the repeats' gaps are 1-1.5 ms.
    assert chosen.bounds["b"]["max_min_gap_s"] < 0.0016
    assert chosen.min_gap_s["b"] <= chosen.bounds["b"]["max_min_gap_s"]
    assert {"objective", "f1", "ser"} <= set(outcome.checkpoints.columns)
    assert len(outcome.checkpoints) == 2
    assert outcome.best_step in outcome.checkpoints["step"].tolist()
    page = outcome.report.read_text()
    assert "Post-processing (learned)" in page and "never used for any choice" in page
    assert (outcome.report.parent / "intervals.png").is_file()

    result = supervised.ethogram(project, "m", recordings=["song3.wav"])
    events, origins = result.events, result.origins
    assert "background" not in set(events["label"])
    assert all("postprocess.json" in line for line in origins)
    stored = project.events(kinds=["predicted"], sources=["m"])
    assert len(stored) == len(events) and "background" not in set(stored["label"])

    origins = supervised.ethogram(project, "m", recordings=["song3.wav"], min_gap_ms=5,
                                  majority_vote=False, pr_ratio=1.0).origins  # fmt: skip
    assert "min gap: 5 ms (--min-gap-ms)" in origins
    assert "majority vote: no (--majority-vote)" in origins
    assert "thresholds.csv" in origins[0]


@pytest.mark.slow
def test_validation_windows_give_an_optimistic_choice_and_say_so(project):
    supervised.train(project, "w", labels=["a", "b", "c"], background="background",
                     network=TINY, settings=SETTINGS, recordings=["song0.wav", "song1.wav"],
                     validate_percent=20)  # fmt: skip
    outcome = supervised.accuracy(project, "w")
    assert outcome.postprocessing.validation["optimistic"] is True
    assert set(outcome.postprocessing.validation["recordings"]) <= {"song0.wav", "song1.wav"}
    assert any("optimistic" in note for note in outcome.notes)
    assert "optimistic" in outcome.report.read_text()
    folder = supervised.load_model(project, "w").folder
    saved = json.loads((folder / "postprocess.json").read_text())
    assert saved["validation"]["optimistic"] is True
