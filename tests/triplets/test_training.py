import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sonotype.audio import Recording  # noqa: E402
from sonotype.triplets.frontend import FrontEnd  # noqa: E402
from sonotype.triplets.sampling import class_segments, sample_triplets  # noqa: E402
from sonotype.triplets.training import (  # noqa: E402
    TrainedTriplets,
    TrainingDiverged,
    TripletTrainConfig,
    train_triplets,
)

FRONT = FrontEnd(sr=16000, n_fft=256, hop_length=256, n_mels=16, fmin_hz=300, fmax_hz=8000)


def _triplets(motif_set):
    folder, table, results = motif_set
    open_recording = lambda n: Recording(folder / n)  # noqa: E731
    triplets = sample_triplets(table, class_segments(results), open_recording, n_per_class=8,
                               clip_s=1.0)  # fmt: skip
    return triplets, open_recording


@pytest.mark.slow
def test_training_runs_its_epochs_and_saves_a_loadable_model(motif_set, tmp_path):
    triplets, open_recording = _triplets(motif_set)
    config = TripletTrainConfig(dim=8, channels=(4, 8), epochs=3, batches_per_epoch=4,
                                batch_size=8, lr=3e-3)  # fmt: skip
    trained = train_triplets(triplets, open_recording, config=config, front=FRONT,
                             checkpoint=tmp_path / "ckpt.pt")  # fmt: skip
    assert len(trained.losses) == 3 and np.isfinite(trained.losses).all()
    loaded = TrainedTriplets.load(tmp_path / "ckpt.pt")
    x = torch.randn(2, 1, 16, 20)
    with torch.no_grad():
        np.testing.assert_allclose(loaded.network()(x), trained.network()(x), atol=1e-6)
    assert loaded.losses == trained.losses


def test_nan_learning_rate_stops_with_message_and_usable_checkpoint(motif_set, tmp_path):
    triplets, open_recording = _triplets(motif_set)
    config = TripletTrainConfig(dim=8, channels=(4, 8), epochs=3, batches_per_epoch=3,
                                batch_size=4, lr=1e30)  # fmt: skip
    with pytest.raises(TrainingDiverged, match=r"NaN or infinite.*lr=1e\+30.*Lower --lr") as info:
        train_triplets(triplets, open_recording, config=config, front=FRONT,
                       checkpoint=tmp_path / "ckpt.pt")  # fmt: skip
    assert str(tmp_path / "ckpt.pt") in str(info.value)
    good = TrainedTriplets.load(info.value.checkpoint)
    with torch.no_grad():
        out = good.network()(torch.randn(2, 1, 16, 20))
    assert torch.isfinite(out).all()
    assert all(torch.isfinite(v).all() for v in good.state.values() if v.is_floating_point())
