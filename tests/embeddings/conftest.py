"""Tiny models the embedding tests build and export: ONNX and TorchScript files with cards."""

from __future__ import annotations

import numpy as np
import pytest

SR = 8000
WINDOW_S = 0.5
LABELS = ["low", "mid", "high"]


def tiny_network():
    """A fixed torch module: log energy of 8 frames -> 4-d embedding and 3 logits."""
    import torch

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            generator = torch.Generator().manual_seed(0)
            self.embed = torch.nn.Parameter(torch.randn(8, 4, generator=generator))
            self.classify = torch.nn.Parameter(torch.randn(4, 3, generator=generator))

        def forward(self, audio):
            audio = audio.reshape(audio.shape[0], -1)
            frames = audio.reshape(audio.shape[0], 8, -1)
            energy = torch.log(frames.pow(2).mean(dim=2) + 1e-6)
            embedding = energy @ self.embed
            return embedding, embedding @ self.classify

    return Tiny().eval()


def expected(network, audio: np.ndarray, scale: float):
    """The module's own outputs on ``audio * scale`` (the reference for every runtime)."""
    import torch

    with torch.inference_mode():
        vectors, logits = network(torch.from_numpy(audio * np.float32(scale)))
    return vectors.numpy(), logits.numpy()


def write_card(folder, file, *, output, scores_output, layout="batch,samples", scale=2.0, extra=""):
    (folder / "labels.txt").write_text("\n".join(LABELS) + "\n")
    card = folder / f"{file.split('.')[0]}.toml"
    card.write_text(
        f'file = "{file}"\nsample_rate_hz = {SR}\nwindow_s = {WINDOW_S}\n'
        f'input_layout = "{layout}"\ninput_scale = {scale}\noutput = {output!r}\n'
        f'embedding_size = 4\nlabels = "labels.txt"\nscores_output = {scores_output!r}\n'
        f'scores_activation = "softmax"\n{extra}'.replace("'", '"')
    )
    return card


def export(network, folder, fmt: str) -> str:
    """Write ``network`` as ``tiny.onnx`` or ``tiny.pt``; return the file name."""
    import warnings

    import torch

    example = torch.zeros(2, int(SR * WINDOW_S))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "onnx":
            torch.onnx.export(
                network,
                (example,),
                str(folder / "tiny.onnx"),
                input_names=["audio"],
                output_names=["embedding", "logits"],
                dynamic_axes={
                    "audio": {0: "batch"},
                    "embedding": {0: "batch"},
                    "logits": {0: "batch"},
                },
                dynamo=False,
            )
            return "tiny.onnx"
        torch.jit.save(torch.jit.trace(network, example), str(folder / "tiny.pt"))
        return "tiny.pt"


@pytest.fixture
def network():
    pytest.importorskip("torch")
    return tiny_network()
