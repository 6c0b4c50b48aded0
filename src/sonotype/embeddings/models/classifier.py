"""``classifier:NAME[:LAYER]``: a trained sonotype model's input, hidden layers or output.

The model (``artifacts/models/NAME``, read through :mod:`sonotype.models.saved`) sees one
context window (its receptive field) centred on each event, so it makes exactly one output
frame; forward hooks catch the layers on the way (SongExplorer's "activations"). Layers:

- ``input``: the standardised front-end features of the window (bins x frames);
- ``block1`` ... ``blockN``: the output of each convolution block (maps x bins x frames);
- ``hidden1`` ... : the dense layers after their ReLU (present when trained with
  ``dense_layers``);
- ``output``: the label probabilities (softmax or sigmoid, as the model was trained).

Each is flattened to one vector per event. The default is the last layer before the
output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sonotype.embeddings.models.base import AudioModel, ModelOutput, ModelUnavailable
from sonotype.errors import ParameterError

PREFIX = "classifier:"


def layer_names(saved) -> list[str]:
    """The layers of a saved model, input to output."""
    n_blocks = len(saved.config.per_layer("feature_maps"))
    n_hidden = len(saved.config.dense_layers)
    return (
        ["input"]
        + [f"block{i}" for i in range(1, n_blocks + 1)]
        + [f"hidden{i}" for i in range(1, n_hidden + 1)]
        + ["output"]
    )


class ClassifierModel(AudioModel):
    """One layer of a trained sonotype classifier, as an embedding of events.

    Parameters
    ----------
    folder : path
        The saved model's folder.
    name : str
        The model's name in the project (``classifier:NAME``).
    layer : str, optional
        One of :func:`layer_names`; default the last before ``output``.
    """

    def __init__(self, folder: str | Path, name: str, layer: str | None = None) -> None:
        from sonotype.models.saved import SavedModel

        self.folder = Path(folder)
        saved = SavedModel.load(self.folder)
        layers = layer_names(saved)
        layer = layer or layers[-2]
        if layer not in layers:
            raise ParameterError(
                f"--model classifier:{name}:{layer}: model {name!r} has no layer {layer!r}; "
                f"its layers: {', '.join(layers)}",
                parameter="model",
            )
        self.layer = layer
        self.model_name = name
        self.name = f"{PREFIX}{name}:{layer}"
        self.sr = float(saved.sr)
        self.window_s = saved.receptive_field / saved.sr
        self.labels = tuple(saved.labels) if layer == "output" else ()
        self.dimensions = _layer_size(saved, layer)
        self._weights = saved.weights_path()

    @property
    def samples(self) -> int:
        # Exactly the receptive field: one output frame per window.
        return round(self.window_s * self.sr)

    def identity(self) -> dict[str, Any]:
        from sonotype.embeddings.models.birdnet import file_hash

        return {
            "classifier": self.model_name,
            "layer": self.layer,
            "weights": file_hash(self._weights),
        }

    def load(self) -> None:
        if getattr(self, "_network", None) is not None:
            return
        try:
            from sonotype.models.saved import SavedModel
        except ImportError as error:  # pragma: no cover - torch is a core dependency
            raise ModelUnavailable(f"classifier models need torch: {error}") from None
        self._network = SavedModel.load(self.folder).network()

    def run(self, audio: np.ndarray, *, scores: bool) -> ModelOutput:
        import torch

        network = self._network
        caught: dict[str, torch.Tensor] = {}
        target = _module_of(network, self.layer)
        handle = None
        if target is not None:
            handle = target.register_forward_hook(
                lambda module, args, output: caught.__setitem__("x", output)
            )
        try:
            with torch.inference_mode():
                x = torch.from_numpy(audio)[:, None, :]
                probabilities = network.probabilities(x)
        finally:
            if handle is not None:
                handle.remove()
        value = probabilities if target is None else caught["x"]
        vectors = value.reshape(len(audio), -1).numpy().astype(np.float32)
        out_scores = probabilities.reshape(len(audio), -1).numpy() if self.labels else None
        return ModelOutput(vectors, out_scores)


def _module_of(network, layer: str):
    """The module whose output is ``layer`` (None for ``output``: the probabilities)."""
    if layer == "input":
        return network.frontend
    if layer.startswith("block"):
        return network.blocks[int(layer[5:]) - 1]
    if layer.startswith("hidden"):
        relus = [m for m in network.head if type(m).__name__ == "ReLU"]
        return relus[int(layer[6:]) - 1]
    return None


def _layer_size(saved, layer: str) -> int:
    """Values per event of ``layer``, from one forward pass of a silent window on the CPU."""
    if layer == "output":
        return len(saved.labels)
    if layer.startswith("hidden"):
        return int(saved.config.dense_layers[int(layer[6:]) - 1])
    import torch

    from sonotype.models.network import build_network

    network = build_network(saved.config, sr=saved.sr, n_labels=len(saved.labels)).eval()
    caught = {}
    handle = _module_of(network, layer).register_forward_hook(
        lambda module, args, output: caught.__setitem__("x", output)
    )
    with torch.inference_mode():
        network(torch.zeros(1, 1, saved.receptive_field))
    handle.remove()
    return int(caught["x"][0].numel())
