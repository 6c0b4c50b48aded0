"""Training: a tiny problem is learnt, the model directory is complete and loads again."""

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

torch = pytest.importorskip("torch")

from sonotype.annotations.events import make_events  # noqa: E402
from sonotype.audio import Recording  # noqa: E402
from sonotype.errors import ParameterError  # noqa: E402
from sonotype.models.accuracy import validation_accuracy  # noqa: E402
from sonotype.models.config import network_config  # noqa: E402
from sonotype.models.groundtruth import equalize, select_examples, split_examples  # noqa: E402
from sonotype.models.saved import SavedModel  # noqa: E402
from sonotype.models.training import (  # noqa: E402
    Augmenter,
    Targets,
    TrainSettings,
    pick_device,
    train_network,
)
from sonotype.models.windows import ExampleAudio  # noqa: E402

SR = 2500
TINY = dict(conv_layers=2, feature_maps=4, time_kernel=3, context_ms=20, dropout=0.0)
BURST_S = 0.1
GAP_S = 0.3
N_EACH = 24


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks train fastest on one thread (two thrash when the cores are busy), but
    training on the CPU asks for every core; here it gets the CPU as it is."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "sonotype.models.training.pick_device", lambda name="auto": torch.device("cpu")
        )
        yield
    torch.set_num_threads(threads)


def tone_and_noise(path, *, seed):
    """Alternating 400 Hz tone bursts and white-noise bursts over quiet noise.

    Returns the recording's events: tone bursts as intervals, noise bursts as points at their
    centres, ``not_tone`` on each noise burst and ``not_noise`` on each tone burst.
    """
    rng = np.random.default_rng(seed)
    n = round(2 * N_EACH * GAP_S * SR)
    audio = 0.01 * rng.standard_normal(n)
    burst = round(BURST_S * SR)
    t = np.arange(burst) / SR
    starts = GAP_S / 2 + GAP_S * np.arange(2 * N_EACH)
    for i, start in enumerate(starts):
        first = round(start * SR)
        if i % 2 == 0:
            audio[first : first + burst] += 0.3 * np.sin(2 * np.pi * 400 * t + rng.uniform(0, 6))
        else:
            audio[first : first + burst] += 0.3 * rng.standard_normal(burst)
    sf.write(path, audio.astype(np.float32), SR, subtype="FLOAT")
    tones, noises = starts[0::2], starts[1::2]
    middles = noises + BURST_S / 2
    return make_events(
        path.name,
        np.r_[tones, middles, noises, tones],
        np.r_[tones + BURST_S, middles, noises + BURST_S, tones + BURST_S],
        ["tone"] * N_EACH + ["noise"] * N_EACH + ["not_tone"] * N_EACH + ["not_noise"] * N_EACH,
    )


def audio_maker(folder):
    def audio_of(table, *, window, jitter_s):
        return ExampleAudio(
            table, lambda name: Recording(folder / name), sr=SR, window=window, jitter_s=jitter_s
        )

    return audio_of


def train(events, folder, *, labels=("tone", "noise"), loss="exclusive", steps=100, **kwargs):
    examples = select_examples(events, labels=list(labels), loss=loss)
    examples = split_examples(examples, validate_percent=25, random_state=1)
    config = network_config(**TINY, loss=loss, shift_ms=2)
    settings = TrainSettings(
        steps=steps, batch_size=16, learning_rate=3e-3, validate_every=25, device="cpu"
    )
    return train_network(
        examples,
        audio_maker(folder.parent),
        config=config,
        sr=SR,
        labels=list(labels),
        folder=folder,
        settings=settings,
        **kwargs,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One exclusive model on the tone-and-noise problem, shared by several tests."""
    folder = tmp_path_factory.mktemp("training")
    events = tone_and_noise(folder / "song.wav", seed=5)
    steps = []
    model = train(
        events,
        folder / "model",
        training_record={"note": "test"},
        progress=lambda step, total: steps.append((step, total)),
    )
    return model, steps


def test_learns_tone_versus_noise(trained):
    model, _ = trained
    curve = model.learning_curve()
    assert curve["macro_f1"].max() >= 0.9
    assert curve.set_index("step").loc[model.best_step, "macro_f1"] >= 0.9
    assert curve["train_loss"].iloc[-1] < curve["train_loss"].iloc[0]


def test_model_directory(trained):
    model, _ = trained
    folder = model.folder
    assert {p.name for p in folder.iterdir()} >= {
        "model.json",
        "weights.pt",
        "checkpoints",
        "learning_curve.csv",
        "validation.csv",
    }
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == [
        f"step-{s:06d}.pt" for s in (25, 50, 75, 100)
    ]
    assert model.checkpoints() == [25, 50, 75, 100]
    curve = pd.read_csv(folder / "learning_curve.csv")
    assert curve["step"].tolist() == [25, 50, 75, 100]
    for column in (
        "step",
        "elapsed_s",
        "train_loss",
        "train_accuracy",
        "validation_loss",
        "validation_accuracy",
        "macro_f1",
        "f1:tone",
        "f1:noise",
        "precision:tone",
        "recall:noise",
    ):
        assert column in curve.columns, column
    assert curve[["train_loss", "validation_loss", "macro_f1"]].notna().all().all()
    validation = model.validation_windows()
    assert list(validation.columns) == ["recording", "channel", "time_s", "label"]
    assert set(validation["label"]) == {"tone", "noise"}
    assert (validation["label"] == "noise").sum() == round(N_EACH * 0.25)  # points: once each
    record = json.loads((folder / "model.json").read_text())
    assert record["format"] == 1
    assert record["labels"] == ["tone", "noise"]
    assert record["config"]["conv_layers"] == 2
    assert record["training"]["note"] == "test"
    assert record["training"]["steps"] == 100 and record["training"]["device"] == "cpu"


def test_progress_every_step(trained):
    _, steps = trained
    assert steps == [(s, 100) for s in range(1, 101)]


def test_saved_model_round_trip(trained):
    model, _ = trained
    loaded = SavedModel.load(model.folder)
    assert loaded == model
    assert loaded.config == model.config
    assert loaded.sr == SR and loaded.labels == ["tone", "noise"]
    assert loaded.step_s == pytest.approx(model.output_step / SR)
    assert loaded.context_s == pytest.approx(model.receptive_field / SR)
    assert sum(loaded.train_prevalence.values()) == pytest.approx(1)
    assert len(loaded.weights_hash()) == 64


def test_geometry_matches_the_network(trained):
    model, _ = trained
    network = model.network()
    assert network.receptive_field == model.receptive_field
    assert network.output_step == model.output_step
    assert not network.training


def test_best_step_is_the_best_validation_f1(trained):
    model, _ = trained
    curve = model.learning_curve()
    best = curve.loc[curve["macro_f1"] == curve["macro_f1"].max(), "step"]
    assert model.best_step == best.max()  # ties go to the later checkpoint
    assert (model.folder / "weights.pt").read_bytes() == model.weights_path(
        model.best_step
    ).read_bytes()


def test_saved_network_reproduces_the_validation_scores(trained):
    model, _ = trained
    examples = model.validation_windows()
    recording = Recording(model.folder.parent / examples["recording"].iloc[0])
    window = model.receptive_field
    starts = np.rint(examples["time_s"].to_numpy() * SR).astype(int) - window // 2
    audio = np.stack([recording.read_frames(s, s + window)[0] for s in starts])
    with torch.no_grad():
        p = model.network().probabilities(torch.from_numpy(audio[:, None, :]))[:, :, 0].numpy()
        p_best = model.network(model.best_step).probabilities(torch.from_numpy(audio[:, None]))
    np.testing.assert_array_equal(p, p_best[:, :, 0].numpy())
    result = validation_accuracy(examples["label"].to_numpy(), p, model.labels)
    curve = model.learning_curve().set_index("step")
    assert result.macro_f1 == pytest.approx(curve.loc[model.best_step, "macro_f1"], abs=1e-6)


def test_point_labels(trained):
    model, _ = trained
    assert model.point_labels == ["noise"]


def test_missing_checkpoint(trained):
    model, _ = trained
    with pytest.raises(ParameterError, match="saved steps: 25, 50, 75, 100"):
        model.weights_path(30)


def test_load_refuses_a_folder_without_a_model(tmp_path):
    with pytest.raises(ParameterError, match="not a sonotype model"):
        SavedModel.load(tmp_path)


def test_overlapped_loss_with_not_labels(tmp_path):
    events = tone_and_noise(tmp_path / "song.wav", seed=6)
    model = train(events, tmp_path / "model", loss="overlapped", steps=50)
    assert model.labels == ["tone", "noise"]  # outputs exclude the not_ labels
    assert model.config.loss == "overlapped"
    assert set(model.validation_windows()["label"]) == {"tone", "noise", "not_tone", "not_noise"}
    assert model.learning_curve()["macro_f1"].max() >= 0.8
    network = model.network()
    assert network.head[-1].out_channels == 2
    audio = torch.zeros(1, 1, model.receptive_field)
    with torch.no_grad():
        p = network.probabilities(audio)
    torch.testing.assert_close(p, torch.sigmoid(network(audio)))


def test_equalized_examples_train(tmp_path):
    """Equalised tables have gaps in their index; validation windows must still find rows."""
    events = tone_and_noise(tmp_path / "song.wav", seed=7)
    events = events[~events["label"].str.startswith("not_")]
    events = events.drop(index=events.index[events["label"] == "noise"][:10])
    examples = split_examples(
        select_examples(events, labels=["tone", "noise"]), validate_percent=25
    )
    examples = equalize(examples)
    model = train_network(
        examples,
        audio_maker(tmp_path),
        config=network_config(**TINY),
        sr=SR,
        labels=["tone", "noise"],
        folder=tmp_path / "model",
        settings=TrainSettings(steps=4, batch_size=8, validate_every=2, device="cpu"),
    )
    assert model.checkpoints() == [2, 4]
    assert len(model.validation_windows()) > 0


def test_without_validation_the_last_step_is_best(tmp_path):
    events = tone_and_noise(tmp_path / "song.wav", seed=8)
    examples = split_examples(select_examples(events, labels=["tone", "noise"]))
    model = train_network(
        examples,
        audio_maker(tmp_path),
        config=network_config(**TINY),
        sr=SR,
        labels=["tone", "noise"],
        folder=tmp_path / "model",
        settings=TrainSettings(steps=6, batch_size=8, validate_every=4, device="cpu"),
    )
    assert model.best_step == 6
    assert model.learning_curve()["step"].tolist() == [4, 6]
    assert "macro_f1" not in model.learning_curve().columns
    assert model.validation_windows().empty


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        (dict(steps=0), "steps"),
        (dict(batch_size=0), "batch_size"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(learning_rate=-1e-3), "learning_rate"),
        (dict(validate_every=0), "validate_every"),
    ],
)
def test_train_settings_check(settings, name, tmp_path):
    with pytest.raises(ParameterError, match=name):
        TrainSettings(**settings).check()
    with pytest.raises(ParameterError, match=name):
        train_network(
            pd.DataFrame(),
            audio_maker(tmp_path),
            config=network_config(**TINY),
            sr=SR,
            labels=["a"],
            folder=tmp_path / "model",
            settings=TrainSettings(**settings),
        )
    assert not (tmp_path / "model").exists()


def test_default_train_settings_are_valid():
    TrainSettings().check()


ALL_AUGMENTATIONS = dict(
    volume_db=6, noise_snr_db=10, dc_offset=0.1, polarity=True, time_reversal=True
)


def batch(rng, n=16, samples=200):
    return torch.from_numpy(rng.standard_normal((n, 1, samples)).astype(np.float32))


def test_augmenter_with_everything_on(rng):
    config = network_config(**ALL_AUGMENTATIONS)
    x = batch(rng)
    first = Augmenter(config, torch.Generator().manual_seed(3))(x)
    again = Augmenter(config, torch.Generator().manual_seed(3))(x)
    other = Augmenter(config, torch.Generator().manual_seed(4))(x)
    assert first.shape == x.shape and first.dtype == x.dtype
    assert not torch.allclose(first, x)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.allclose(first, other)
    assert torch.isfinite(first).all()


def test_augmenter_off_changes_nothing(rng):
    x = batch(rng)
    torch.testing.assert_close(Augmenter(network_config(), torch.Generator())(x), x)


def test_augmenter_volume_is_a_gain_per_example(rng):
    x = batch(rng)
    y = Augmenter(network_config(volume_db=6), torch.Generator().manual_seed(0))(x)
    gain = y / x
    torch.testing.assert_close(gain, gain[:, :, :1].expand_as(gain))
    gain_db = 20 * torch.log10(gain[:, 0, 0])
    assert gain_db.abs().max() <= 6 + 1e-4 and gain_db.std() > 0.5


def test_augmenter_polarity_and_time_reversal(rng):
    x = batch(rng, n=64)
    flipped = Augmenter(network_config(polarity=True), torch.Generator().manual_seed(0))(x)
    inverted = (flipped == -x).all(dim=-1).flatten()
    assert ((flipped == x).all(dim=-1).flatten() | inverted).all()
    assert 10 < int(inverted.sum()) < 54
    reversed_ = Augmenter(network_config(time_reversal=True), torch.Generator().manual_seed(0))(x)
    backwards = (reversed_ == x.flip(-1)).all(dim=-1).flatten()
    assert ((reversed_ == x).all(dim=-1).flatten() | backwards).all()
    assert 10 < int(backwards.sum()) < 54


def test_augmenter_noise_and_dc_offset(rng):
    x = batch(rng, n=32, samples=4000)
    noisy = Augmenter(network_config(noise_snr_db=10), torch.Generator().manual_seed(0))(x)
    snr_db = 10 * torch.log10(x.pow(2).mean(-1) / (noisy - x).pow(2).mean(-1))
    assert snr_db.min() > 9 and snr_db.max() < 31
    shifted = Augmenter(network_config(dc_offset=0.5), torch.Generator().manual_seed(0))(x)
    offset = (shifted - x).flatten(1)
    torch.testing.assert_close(offset, offset[:, :1].expand_as(offset))
    rms = x.pow(2).mean(-1).sqrt().flatten()
    assert (offset[:, 0].abs() <= 0.5 * rms + 1e-6).all()


def test_targets_exclusive():
    targets = Targets(["a", "b", "c"], "exclusive")
    target, mask = targets.of(np.array(["b", "a", "c"]), "cpu")
    assert target.tolist() == [1, 0, 2] and mask is None
    logits = torch.tensor([[0.0, 5.0, 0.0], [5.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    assert float(targets.loss_of(logits, target, mask)) < 0.02


def test_targets_overlapped_mask_the_outputs_an_example_is_silent_about():
    targets = Targets(["a", "b"], "overlapped")
    target, mask = targets.of(np.array(["a", "not_a", "not_b", "b"]), "cpu")
    assert target.tolist() == [[1, 0], [0, 0], [0, 0], [0, 1]]
    assert mask.tolist() == [[1, 0], [1, 0], [0, 1], [0, 1]]
    # the unmasked outputs are right; the masked ones are wrong and must not count
    logits = torch.tensor([[9.0, 9.0], [-9.0, 9.0], [9.0, -9.0], [9.0, 9.0]])
    assert float(targets.loss_of(logits, target, mask)) < 1e-3


def test_pick_device():
    threads = torch.get_num_threads()
    try:
        assert pick_device("cpu") == torch.device("cpu")
        assert torch.get_num_threads() >= 1
        assert pick_device("auto").type in ("cpu", "cuda", "mps")
    finally:
        torch.set_num_threads(threads)
