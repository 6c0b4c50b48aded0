"""A network trained on one real Drosophila recording finds the song of the other.

SongExplorer's sparse annotations: person1's pulses, sine song and ambient stretches, and the
`notsong` annotator's not_mel-pulse / not_mel-sine stretches. Trained briefly (300 steps,
about 10 s on 2 cores), the overlapped-loss network is held to a fraction of what the full
benchmark (`benchmarks/supervised_accuracy.py`) measures.
"""

from __future__ import annotations

import pytest

from sonotype.evaluate import sparse_scores
from sonotype.models.config import network_config
from sonotype.store import Project
from tests.fixtures.shared import data_folder

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.realdata


def test_drosophila_pulses_and_sine_song_of_an_unseen_recording(tmp_path):
    from sonotype.models.settings import TrainSettings
    from sonotype.pipeline import supervised

    data = data_folder("drosophila-songexplorer")
    train_on, test_on = "20161207T102314_ch1.wav", "PS_20130625111709_ch3.wav"
    with Project.init(tmp_path, audio_roots=[data]) as project:
        project.scan()
        project.import_files(sorted(data.glob("*.csv")))
        supervised.train(
            project,
            "fly",
            labels=["mel-pulse", "mel-sine"],
            ignore_labels=["ambient"],
            network=network_config(loss="overlapped", volume_db=10.0),
            settings=TrainSettings(steps=300),
            recordings=[train_on],
            validate_percent=20,
        )
        outcome = supervised.accuracy(project, "fly")
        assert outcome.macro_f1 > 0.9
        predicted = supervised.ethogram(project, "fly", recordings=[test_on]).events
        reference = project.events(kinds=["annotated"], recordings=[test_on])
    assert (reference["label"] == "mel-pulse").sum() == 73
    for label in ("mel-pulse", "mel-sine"):
        scores = sparse_scores(
            reference,
            predicted,
            label=label,
            negatives=[f"not_{label}", "ambient"],
            tolerance_s=0.005,
        )
        assert scores["f1"] > 0.85, (label, scores)
