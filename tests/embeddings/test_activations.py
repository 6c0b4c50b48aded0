"""classifier:NAME[:LAYER] and `sonotype activations`: a trained model's layers at events."""

import numpy as np
import pytest

from sonotype.annotations.events import make_events
from sonotype.audio import write_audio
from sonotype.embeddings import load_embedding_set
from sonotype.embeddings.activations import model_activations, select_events
from sonotype.embeddings.models import resolve_model
from sonotype.errors import ParameterError
from sonotype.pipeline.executors import LocalExecutor
from sonotype.store import Project

torch = pytest.importorskip("torch")

from tests.models.test_export import SR, saved_model  # noqa: E402


@pytest.fixture
def project(tmp_path, rng):
    write_audio(tmp_path / "p" / "audio" / "a.wav", 0.3 * rng.standard_normal(3 * SR), SR)
    with Project.init(tmp_path / "p") as p:
        p.scan()
        saved_model(p.folder / "artifacts" / "models" / "tiny", rng, dense_layers=[6])
        annotated = make_events(
            "a.wav", [0.2, 0.9, 1.5, 2.2], [0.4, 1.0, 1.9, 2.3], ["a", "b", "a", "a"]
        )
        detected = make_events("a.wav", [0.5, 2.6], [0.6, 2.7], "", kind="detected")
        p.add_events(annotated, command="t", description="t")
        p.add_events(detected, command="t", description="t")
        yield p


def test_layers_and_their_sizes(project):
    model = resolve_model("classifier:tiny:output", project_dir=project.folder)
    assert model.labels == ("a", "b", "c") and model.dimensions == 3
    hidden = resolve_model("classifier:tiny", project_dir=project.folder)
    assert hidden.name == "classifier:tiny:hidden1" and hidden.dimensions == 6
    with pytest.raises(ParameterError, match="its layers: input, block1, block2, hidden1, output"):
        resolve_model("classifier:tiny:block9", project_dir=project.folder)
    with pytest.raises(ParameterError, match="no trained model 'nope'; trained models: tiny"):
        resolve_model("classifier:nope", project_dir=project.folder)


def test_activations_are_the_networks_at_each_event(project):
    outcomes = model_activations(
        project, "tiny", kinds=["annotated", "detected"], executor=LocalExecutor(1)
    )
    names = [o.embedding.name for o in outcomes]
    assert names == ["tiny-input", "tiny-block1", "tiny-block2", "tiny-hidden1", "tiny-output"]
    sets = [load_embedding_set(project.folder, name) for name in names]
    for s in sets:  # the same events, in the same order, in every layer
        assert s.events[["start_s", "kind"]].equals(sets[0].events[["start_s", "kind"]])
    assert sorted(sets[0].events["kind"]) == ["annotated"] * 4 + ["detected"] * 2
    # The output layer: the network's probabilities of the receptive field centred on each event.
    from sonotype.audio import Recording
    from sonotype.models.saved import SavedModel

    saved = SavedModel.load(project.folder / "artifacts" / "models" / "tiny")
    network = saved.network()
    recording = Recording(project.recording_path("a.wav"))
    field = saved.receptive_field
    rows = []
    for event in sets[-1].events.itertuples():
        centre = round((event.start_s + event.stop_s) / 2 * SR)
        audio = np.zeros(field, np.float32)
        lo = centre - field // 2
        chunk = recording.read_frames(max(lo, 0), min(lo + field, recording.frames))[0]
        audio[max(-lo, 0) : max(-lo, 0) + len(chunk)] = chunk
        rows.append(audio)
    with torch.inference_mode():
        probabilities = network.probabilities(torch.from_numpy(np.stack(rows))[:, None])
    np.testing.assert_allclose(sets[-1].vectors, probabilities[:, :, 0].numpy(), atol=2e-3)
    np.testing.assert_allclose(sets[-1].vectors.sum(axis=1), 1, atol=1e-5)  # softmax
    assert sets[3].vectors.shape == (6, 6) and (sets[3].vectors >= 0).all()  # after ReLU


def test_select_events_caps_and_equalizes_per_kind():
    labels = ["x"] * 10 + ["y"] * 3 + ["z"] * 6
    events = make_events("a.wav", np.arange(19.0), np.arange(19.0) + 0.5, labels)
    counts = select_events(events, max_events=5)["label"].value_counts().to_dict()
    assert counts == {"x": 5, "y": 3, "z": 5}
    counts = select_events(events, equalize=1.5)["label"].value_counts().to_dict()
    assert counts == {"x": 4, "y": 3, "z": 4}
    again = select_events(events, equalize=1.5, random_state=0)
    assert again.equals(select_events(events, equalize=1.5, random_state=0))
    with pytest.raises(ParameterError, match=r"equalize=0\.5 must be at least 1"):
        select_events(events, equalize=0.5)
