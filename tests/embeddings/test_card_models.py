"""Local model files through model cards: ONNX and TorchScript equal the module they export."""

import numpy as np
import pytest

from sonotype.embeddings.models import ModelUnavailable, describe_models, resolve_model
from sonotype.errors import ParameterError
from tests.embeddings.conftest import LABELS, SR, WINDOW_S, expected, export, write_card

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")


@pytest.mark.parametrize(
    ("fmt", "output", "scores_output"), [("onnx", "embedding", "logits"), ("torchscript", 0, 1)]
)
def test_card_model_equals_the_module_it_exports(
    tmp_path, rng, network, fmt, output, scores_output
):
    file = export(network, tmp_path, fmt)
    card = write_card(tmp_path, file, output=output, scores_output=scores_output)
    model = resolve_model(str(card))
    assert (model.sr, model.window_s, model.dimensions, model.labels) == (
        SR,
        WINDOW_S,
        4,
        tuple(LABELS),
    )
    audio = rng.uniform(-0.5, 0.5, (5, int(SR * WINDOW_S))).astype(np.float32)
    audio[1] *= 0.01  # rows that differ
    got = model.embed(audio, scores=True)
    vectors, logits = expected(network, audio, 2.0)
    np.testing.assert_allclose(got.vectors, vectors, rtol=1e-4, atol=1e-5)
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got.scores, softmax, rtol=1e-4, atol=1e-6)
    assert model.embed(audio[:2]).scores is None  # scores only when asked


def test_channel_layout_adds_the_channel_axis(tmp_path, rng, network):
    file = export(network, tmp_path, "torchscript")
    card = write_card(tmp_path, file, output=0, scores_output=1, layout="batch,channel,samples")
    audio = rng.uniform(-0.5, 0.5, (2, int(SR * WINDOW_S))).astype(np.float32)
    np.testing.assert_allclose(
        resolve_model(str(card)).embed(audio).vectors, expected(network, audio, 2.0)[0], rtol=1e-4
    )


def test_missing_model_file_says_where_to_put_it(tmp_path):
    card = write_card(tmp_path, "absent.onnx", output="embedding", scores_output="logits")
    model = resolve_model(str(card))
    with pytest.raises(ModelUnavailable, match=r"absent.onnx is missing; put the file there"):
        model.embed(np.zeros((1, int(SR * WINDOW_S)), np.float32))
    # `sonotype models` lists a project's cards with the reason.
    (tmp_path / "embedders").mkdir()
    card.rename(tmp_path / "embedders" / card.name)
    (tmp_path / "labels.txt").rename(tmp_path / "embedders" / "labels.txt")
    rows = {row.name: row for row in describe_models(tmp_path)}
    assert "is missing" in rows["absent"].unavailable
    assert rows["birdnet"].kind == "pretrained" and rows["pca"].dimensions == 32


def test_bad_cards_name_the_file_and_key(tmp_path, network):
    file = export(network, tmp_path, "onnx")
    card = write_card(
        tmp_path, file, output="embedding", scores_output="logits", extra="windw_s = 3\n"
    )
    with pytest.raises(ParameterError, match=r"tiny.toml: windw_s: Extra inputs"):
        resolve_model(str(card))
    card = write_card(tmp_path, file, output="nope", scores_output="logits")
    with pytest.raises(ParameterError, match="no output 'nope'; its outputs: embedding, logits"):
        resolve_model(str(card)).embed(np.zeros((1, int(SR * WINDOW_S)), np.float32))
    with pytest.raises(ParameterError, match="not a model; use one of birdnet"):
        resolve_model("nosuchmodel", project_dir=tmp_path)
