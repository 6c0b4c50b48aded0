"""Resuming a stopped training continues it: the same steps, curve and weights as a training
that was never stopped; fine-tuning and optimizer choices are recorded in the model."""

import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from sonotype.models.config import network_config  # noqa: E402
from sonotype.models.groundtruth import select_examples, split_examples  # noqa: E402
from sonotype.models.training import STATE_FILE, TrainSettings, train_network  # noqa: E402
from tests.models.test_training import TINY, audio_maker, tone_and_noise  # noqa: E402

SETTINGS = TrainSettings(
    steps=12, batch_size=8, learning_rate=3e-3, validate_every=4, device="cpu",
    optimizer="sgd", schedule="one-cycle",
)  # fmt: skip


class Stop(Exception):
    pass


def run(events, folder, *, stop_at=None, resume=False, seen=None):
    examples = split_examples(
        select_examples(events, labels=["tone", "noise"], loss="exclusive"),
        validate_percent=25,
        random_state=1,
    )

    def progress(step, steps):
        if seen is not None:
            seen.append(step)
        if step == stop_at:
            raise Stop

    return train_network(
        examples,
        audio_maker(folder.parent),
        config=network_config(**TINY, shift_ms=2),
        sr=2500,
        labels=["tone", "noise"],
        folder=folder,
        settings=SETTINGS,
        progress=progress,
        resume=resume,
    )


def test_resume_continues_where_it_stopped(tmp_path):
    events = tone_and_noise(tmp_path / "song.wav", seed=5)
    whole = run(events, tmp_path / "whole")
    stopped = tmp_path / "stopped"
    with pytest.raises(Stop):
        run(events, stopped, stop_at=10)
    assert (stopped / STATE_FILE).is_file()  # the state of step 8's checkpoint
    assert pd.read_csv(stopped / "learning_curve.csv")["step"].tolist() == [4, 8]
    seen = []
    resumed = run(events, stopped, resume=True, seen=seen)
    assert seen == [9, 10, 11, 12]  # continued, not restarted
    assert not (stopped / STATE_FILE).exists()
    a = whole.learning_curve().drop(columns="elapsed_s")
    b = resumed.learning_curve().drop(columns="elapsed_s")
    pd.testing.assert_frame_equal(a, b)
    assert resumed.best_step == whole.best_step
    for step in (4, 8, 12):
        x = torch.load(whole.weights_path(step), weights_only=True)
        y = torch.load(resumed.weights_path(step), weights_only=True)
        assert all(torch.equal(x[k], y[k]) for k in x)
    assert resumed.training["optimizer"] == "sgd"
    assert resumed.training["schedule"] == "one-cycle"
    assert resumed.training["weight_decay"] == 0.0
    assert "learning_rate" in b.columns


def test_without_resume_a_stopped_training_starts_anew(tmp_path):
    events = tone_and_noise(tmp_path / "song.wav", seed=5)
    folder = tmp_path / "m"
    with pytest.raises(Stop):
        run(events, folder, stop_at=6)
    seen = []
    run(events, folder, seen=seen)
    assert seen == list(range(1, 13))
