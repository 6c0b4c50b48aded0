"""Multi-channel recordings: classify and ethogram handle every channel, each on its own,
and the predicted events carry their channel."""

from __future__ import annotations

import numpy as np
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
    """Two mono recordings to train on and a 2-channel one: song on channel 1 only."""
    tables = []
    for i in range(2):
        y, events = flysong(8, recording=f"mono{i}.wav", random_state=i)
        write_audio(tmp_path / "audio" / f"mono{i}.wav", y, 2500)
        tables.append(events)
    song, _ = flysong(8, random_state=7)
    quiet = np.random.default_rng(3).normal(0, 0.01, song.shape)
    write_audio(tmp_path / "audio" / "stereo.wav", np.stack([quiet, song]), 2500)
    with Project.init(tmp_path, audio_roots=[tmp_path / "audio"]) as p:
        p.scan()
        p.add_events(concat_events(tables), command="test", description="truth")
        yield p


@pytest.mark.slow
def test_every_channel_is_classified_and_predicted_events_carry_it(project):
    settings = TrainSettings(steps=60, batch_size=16, learning_rate=3e-3)
    supervised.train(project, "m", labels=["pulse", "sine"], background="ambient",
                     recordings=["mono*"], network=TINY, settings=settings)  # fmt: skip
    result = supervised.classify(project, "m", recordings=["stereo.wav", "mono0.wav"])
    assert set(result.channel_paths["stereo.wav"]) == {0, 1}
    assert set(result.channel_paths["mono0.wav"]) == {0}
    assert result.paths["stereo.wav"] == result.channel_paths["stereo.wav"][0]
    quiet, song = (np.load(result.channel_paths["stereo.wav"][c]) for c in (0, 1))
    assert quiet.shape == song.shape
    ambient = 2  # outputs: pulse, sine, ambient
    assert quiet[:, ambient].mean() > song[:, ambient].mean()
    only_one = supervised.classify(project, "m", recordings=["stereo.wav"], channels=[1])
    assert only_one.paths == {} and set(only_one.channel_paths["stereo.wav"]) == {1}
    assert only_one.cached == 1  # classified above

    events = supervised.ethogram(project, "m", recordings=["stereo.wav"]).events
    by_channel = events.groupby("channel").size()
    assert by_channel.get(1, 0) > 3 * by_channel.get(0, 0)  # the song is on channel 1
    stored = project.events(kinds=["predicted"], sources=["m"])
    assert set(stored["channel"]) <= {0, 1} and len(stored) == len(events)
    with pytest.raises(ParameterError, match="channel 2: no chosen recording has it"):
        supervised.classify(project, "m", recordings=["stereo.wav"], channels=[2])


@pytest.fixture
def stereo_project(tmp_path):
    """Two annotated 2-channel recordings (the song on both channels, quieter on one) and a
    mono one."""
    tables = []
    for i in range(2):
        y, events = flysong(6, recording=f"pair{i}.wav", random_state=i)
        write_audio(tmp_path / "audio" / f"pair{i}.wav", np.stack([y, 0.3 * y]), 2500)
        tables.append(events)
    y, _ = flysong(2, random_state=9)
    write_audio(tmp_path / "audio" / "mono.wav", y, 2500)
    with Project.init(tmp_path, audio_roots=[tmp_path / "audio"]) as p:
        p.scan()
        p.add_events(concat_events(tables), command="test", description="truth")
        yield p


@pytest.mark.slow
def test_a_network_reading_both_channels_together(stereo_project):
    project = stereo_project
    config = network_config(conv_layers=2, feature_maps=4, context_ms=40, input_channels=2)
    settings = TrainSettings(steps=60, batch_size=16, learning_rate=3e-3)
    model = supervised.train(project, "pair", labels=["pulse", "sine"], background="ambient",
                             recordings=["pair*"], network=config,
                             settings=settings).model  # fmt: skip
    assert model.config.input_channels == 2
    assert model.network().blocks[0].conv.in_channels == 2
    assert model.learning_curve()["macro_f1"].max() > 0.5  # three labels: chance is a third
    result = supervised.classify(project, "pair", recordings=["pair0.wav"])
    assert set(result.channel_paths["pair0.wav"]) == {0}  # one pass over both channels
    events = supervised.ethogram(project, "pair", recordings=["pair0.wav"]).events
    assert set(events["channel"]) <= {0}
    with pytest.raises(ParameterError, match=r"fewer: mono\.wav \(1\)"):
        supervised.classify(project, "pair", recordings=["mono.wav"])
    with pytest.raises(ParameterError, match="--channels does not apply"):
        supervised.classify(project, "pair", recordings=["pair0.wav"], channels=[1])


@pytest.mark.slow
def test_a_model_trained_on_one_annotated_channel_classifies_that_channel(tmp_path):
    """EvTAF-like recordings: the song on channel 0, annotated; channel 1 another signal."""
    tables = []
    for i in range(2):
        y, events = flysong(6, recording=f"pair{i}.wav", random_state=i)
        other = np.random.default_rng(i).normal(0, 0.05, y.shape)
        write_audio(tmp_path / "audio" / f"pair{i}.wav", np.stack([y, other]), 2500)
        tables.append(events)
    with Project.init(tmp_path, audio_roots=[tmp_path / "audio"]) as project:
        project.scan()
        project.add_events(concat_events(tables), command="test", description="truth")
        settings = TrainSettings(steps=20, batch_size=16)
        model = supervised.train(project, "m", labels=["pulse", "sine"], background="ambient",
                                 network=TINY, settings=settings).model  # fmt: skip
        assert model.training["channels"] == [0]
        result = supervised.classify(project, "m")
        assert {c for paths in result.channel_paths.values() for c in paths} == {0}
        both = supervised.classify(project, "m", recordings=["pair0.wav"], channels=[0, 1])
        assert set(both.channel_paths["pair0.wav"]) == {0, 1}
        events = supervised.ethogram(project, "m").events
        assert set(events["channel"]) <= {0}
