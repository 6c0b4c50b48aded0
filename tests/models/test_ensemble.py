"""An ensemble is the average of its members, aligned frame by frame, saved and used like
any model; members that cannot be averaged are refused with a clear error."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sonotype.audio import Recording, write_audio  # noqa: E402
from sonotype.errors import ParameterError  # noqa: E402
from sonotype.models.ensemble import Ensemble, save_ensemble  # noqa: E402
from sonotype.models.export import export_model  # noqa: E402
from sonotype.models.inference import classify_recording, n_output_frames  # noqa: E402
from sonotype.models.saved import SavedModel  # noqa: E402
from tests.models.conftest import STRIDED  # noqa: E402
from tests.models.test_export import LABELS, SR, long_input, saved_model  # noqa: E402


def reordered(model, labels):
    """``model`` described with its labels in another order (rows of the output swapped)."""
    state = torch.load(model.weights_path(), weights_only=True)
    order = [model.labels.index(label) for label in labels]
    last = max(int(k.split(".")[1]) for k in state if k.startswith("head."))
    for part in ("weight", "bias"):
        state[f"head.{last}.{part}"] = state[f"head.{last}.{part}"][order]
    torch.save(state, model.weights_path())
    model.labels = list(labels)
    model.save()
    return model


@pytest.fixture
def members(tmp_path, rng):
    a = saved_model(tmp_path / "a", rng)
    # Another architecture: a longer context, a stride of 2 (twice the output step), a
    # dense layer, and the labels in another order.
    b = saved_model(tmp_path / "b", rng, **{**STRIDED, "context_ms": 40})
    b = reordered(b, ["c", "a", "b"])
    assert b.receptive_field != a.receptive_field and b.output_step == 2 * a.output_step
    return a, b


def probabilities(model, recording):
    network = model.network()
    frames = n_output_frames(recording, sr=model.sr, output_step=model.output_step)
    out = np.zeros((frames, len(model.labels)), np.float32)
    return classify_recording(network, recording, out, sr=model.sr, engine="torch")


def test_an_ensemble_of_two_models_is_their_average(tmp_path, rng, members):
    a, b = members
    ensemble = save_ensemble([a, b], tmp_path / "e", names=["a", "b"])
    loaded = SavedModel.load(tmp_path / "e")
    assert loaded.members == ["members/1", "members/2"]
    assert loaded.labels == LABELS
    assert loaded.output_step == b.output_step
    assert loaded.receptive_field == max(a.receptive_field, b.receptive_field)
    assert [m["name"] for m in loaded.training["ensemble"]] == ["a", "b"]

    path = tmp_path / "song.wav"
    write_audio(path, 0.3 * rng.standard_normal(SR * 3).astype(np.float32), SR)
    recording = Recording(path)
    pa, pb = probabilities(a, recording), probabilities(b, recording)
    pe = probabilities(loaded, recording)
    pb = pb[:, [b.labels.index(label) for label in LABELS]]
    expected = (pa[::2][: len(pe)] + pb[: len(pe)]) / 2
    assert len(pe) == len(pb)
    np.testing.assert_allclose(pe, expected, atol=1e-5)
    assert isinstance(ensemble.network(), Ensemble)
    # forward gives logits whose softmax is the average
    x = torch.from_numpy(long_input(loaded, rng))
    network = loaded.network()
    np.testing.assert_allclose(
        torch.softmax(network(x), 1).detach().numpy(),
        network.probabilities(x).detach().numpy(),
        atol=1e-5,
    )


def test_an_ensemble_exports_like_any_model(tmp_path, rng, members):
    ort = pytest.importorskip("onnxruntime")
    ensemble = save_ensemble(list(members), tmp_path / "e")
    path = export_model(ensemble, tmp_path / "e.onnx")
    assert json.loads(path.with_suffix(".onnx.json").read_text())["labels"] == LABELS
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    network = ensemble.network()
    for frames in (5, 40):
        audio = long_input(ensemble, rng, frames=frames)
        with torch.no_grad():
            expected = network.probabilities(torch.from_numpy(audio)).numpy()
        got = session.run(None, {"audio": audio})[0]
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_members_that_cannot_be_averaged_are_refused(tmp_path, rng, members):
    a, _ = members
    other = saved_model(tmp_path / "x", rng)
    other.labels = ["a", "b", "z"]
    other.save()
    with pytest.raises(ParameterError, match="x has labels a, b, z and a has a, b, c"):
        save_ensemble([a, other], tmp_path / "e", names=["a", "x"])
    other.labels, other.sr = LABELS, 5000.0
    other.save()
    with pytest.raises(ParameterError, match="x works at 5000 Hz and a at 2500 Hz"):
        save_ensemble([a, other], tmp_path / "e", names=["a", "x"])
    overlapped = saved_model(tmp_path / "o", rng, loss="overlapped")
    with pytest.raises(ParameterError, match="overlapped loss and a the exclusive"):
        save_ensemble([a, overlapped], tmp_path / "e", names=["a", "o"])
    with pytest.raises(ParameterError, match="at least two"):
        save_ensemble([a], tmp_path / "e")
