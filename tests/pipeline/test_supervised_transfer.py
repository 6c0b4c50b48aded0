"""Fine-tuning (across sample rates, with frozen layers), resuming a stopped training, and
ensembles in a project: used by classify, ethogram, accuracy and export like any model."""

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
from sonotype.models.transfer import transfer_config  # noqa: E402
from sonotype.pipeline import supervised  # noqa: E402
from sonotype.pipeline.ensemble import ensemble  # noqa: E402
from sonotype.pipeline.train import training_folder  # noqa: E402

TINY = network_config(conv_layers=2, feature_maps=4, context_ms=40)
DENSE = dict(labels=["pulse", "sine"], background="ambient")


@pytest.fixture
def project(tmp_path):
    """Two recordings at 2.5 kHz (low*), two at 5 kHz (high*)."""
    tables = []
    for i, (name, sr) in enumerate(
        [("low0.wav", 2500), ("low1.wav", 2500), ("high0.wav", 5000), ("high1.wav", 5000)]
    ):
        y, events = flysong(6, sr=sr, recording=name, random_state=i)
        write_audio(tmp_path / "audio" / name, y, sr)
        tables.append(events)
    with Project.init(tmp_path, audio_roots=[tmp_path / "audio"]) as p:
        p.scan()
        p.add_events(concat_events(tables), command="test", description="truth")
        yield p


@pytest.mark.slow
def test_fine_tuning_from_a_model_at_another_rate_runs_and_learns(project):
    source = supervised.train(project, "src", **DENSE, network=TINY, recordings=["low*"],
                              settings=TrainSettings(steps=60, batch_size=16)).model  # fmt: skip
    assert source.sr == 2500
    config = transfer_config(source.config, {"dropout": 0.0}, add_layers=[8])
    outcome = supervised.train(
        project, "ft", **DENSE, network=config, recordings=["high*"], init_from="src",
        freeze_layers=1, settings=TrainSettings(steps=60, batch_size=16, learning_rate=3e-3),
    )  # fmt: skip
    model = outcome.model
    assert model.sr == 2500  # the source's rate: the 5 kHz audio is resampled to it
    assert any("resampled to 2500 Hz" in w for w in outcome.warnings)
    assert model.training["init_from"]["name"] == "src"
    assert model.training["freeze_layers"] == 1
    assert model.config.dense_layers == [8] and model.config.dropout == 0.0
    curve = model.learning_curve()
    assert curve["train_loss"].iloc[-1] < curve["train_loss"].iloc[0]
    assert curve["macro_f1"].max() > 0.5  # three labels: chance is a third
    # the frozen front end and first block kept the source's weights; the rest moved
    before, after = source.network().state_dict(), model.network().state_dict()
    for key in before:
        if key.startswith(("frontend.", "blocks.0.")):
            assert torch.equal(before[key], after[key]), key
    assert not torch.equal(before["blocks.1.conv.weight"], after["blocks.1.conv.weight"])
    # the fine-tuned model classifies the 5 kHz recordings (resampled as they are read)
    path = supervised.classify(project, "ft", recordings=["high0.wav"]).paths["high0.wav"]
    assert np.load(path).shape[1] == 3


def test_fine_tuning_refuses_a_new_architecture(project):
    source = supervised.train(project, "src", **DENSE, network=TINY, recordings=["low*"],
                              settings=TrainSettings(steps=2, batch_size=4)).model  # fmt: skip
    with pytest.raises(ParameterError, match=r"context_ms=80.*the source has 40"):
        transfer_config(source.config, {"context_ms": 80})
    with pytest.raises(ParameterError, match="--freeze-layers 5 must be between 0 and"):
        supervised.train(project, "ft", **DENSE, network=source.config, init_from="src",
                         freeze_layers=5, settings=TrainSettings(steps=2,
                                                                 batch_size=4))  # fmt: skip


class Stop(Exception):
    pass


@pytest.mark.slow
def test_resume_continues_a_stopped_training(project):
    settings = TrainSettings(steps=12, batch_size=8, validate_every=4, schedule="cosine")
    kwargs = dict(**DENSE, network=TINY, recordings=["low*"], settings=settings)

    def stop_at(step_to_stop, seen):
        def progress(replicate, step, steps):
            seen.append(step)
            if step == step_to_stop:
                raise Stop

        return progress

    with pytest.raises(ParameterError, match="no stopped training of 'm'"):
        supervised.train(project, "m", **kwargs, resume=True)
    with pytest.raises(Stop):
        supervised.train(project, "m", **kwargs, progress=stop_at(7, []))
    assert (training_folder(project, "m") / "training-state.pt").is_file()
    assert not (project.folder / "artifacts" / "models" / "m").exists()
    other = dict(kwargs, settings=settings.model_copy(update={"learning_rate": 0.01}))
    with pytest.raises(ParameterError, match="used other events, recordings or settings"):
        supervised.train(project, "m", **other, resume=True)
    seen = []
    resumed = supervised.train(project, "m", **kwargs, resume=True, progress=stop_at(0, seen))
    assert seen == list(range(5, 13))  # from the checkpoint at step 4
    assert not training_folder(project, "m").exists()
    whole = supervised.train(project, "w", **kwargs).model
    a = resumed.model.learning_curve().drop(columns="elapsed_s")
    b = whole.learning_curve().drop(columns="elapsed_s")
    assert a.equals(b)
    assert resumed.model.training["schedule"] == "cosine"


@pytest.mark.slow
def test_an_ensemble_is_used_like_any_model(project, tmp_path):
    settings = TrainSettings(steps=8, batch_size=8, validate_every=4)
    wider = network_config(**{**TINY.model_dump(), "context_ms": 60})
    for name, seed, config in (("a", 0, TINY), ("b", 1, wider)):
        supervised.train(project, name, **DENSE, network=config, recordings=["low*"],
                         settings=settings.model_copy(update={"random_state": seed}))  # fmt: skip
    with pytest.raises(ParameterError, match="one of the members"):
        ensemble(project, ["a", "b"], name="a")
    model = ensemble(project, ["a", "b"], name="e")
    assert supervised.load_model(project, "e").members == ["members/1", "members/2"]
    paths = {
        name: np.load(supervised.classify(project, name, recordings=["low0.wav"]).paths["low0.wav"])
        for name in ("a", "b", "e")
    }
    np.testing.assert_allclose(paths["e"], (paths["a"] + paths["b"]) / 2, atol=1e-5)
    assert model.training["background"] == "ambient"
    result = supervised.ethogram(project, "e", recordings=["low0.wav"])
    assert set(result.events["source"]) <= {"e"}
    assert set(result.events["label"]) <= {"pulse", "sine"}  # the background is never stored
    outcome = supervised.accuracy(project, "e")
    assert 0 <= outcome.macro_f1 <= 1
    from sonotype.models.export import export_model

    assert export_model(model, tmp_path / "e.onnx").is_file()
    with pytest.raises(ParameterError, match="exists"):
        ensemble(project, ["a", "b"], name="e")
    ensemble(project, ["b", "a"], name="e", overwrite=True)
