"""Export an autoencoder's feature extractor to TorchScript or ONNX.

The exported network takes spectrograms ``(batch, n_freq, n_time)`` float32 in [0, 1] (made
as ``autoencoder.json``'s ``spectrogram`` says) and returns the pooled features ``(batch,
2 * latent_channels)``: the latent's mean then maximum over time, edges cut. A PCA, if the
model has one, is not inside: its mean and components are in the ``.json`` beside the file.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from sonotype.atomic import atomic_path
from sonotype.autoencoder.architectures import PooledFeatures
from sonotype.autoencoder.pooling import edge_steps
from sonotype.autoencoder.saved import SavedAutoencoder
from sonotype.errors import ParameterError

FORMATS = {"torchscript": ".pt", "onnx": ".onnx"}


def export_autoencoder(model: SavedAutoencoder, path: str | Path, *, format: str = "onnx") -> Path:
    """Write ``model``'s feature extractor to ``path`` in ``format``; return the path."""
    if format not in FORMATS:
        raise ParameterError(
            f"--format {format!r} must be one of {', '.join(FORMATS)}", parameter="format"
        )
    path = Path(path)
    if path.suffix != FORMATS[format]:
        path = path.with_name(path.name + FORMATS[format])
    cut = edge_steps(model.steps, model.config.edge_cut)
    wrapped = PooledFeatures(model.network(), cut=cut).eval()
    example = torch.zeros(2, model.n_freq, model.n_time)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings
        if format == "torchscript":
            torch.jit.save(torch.jit.trace(wrapped, example), str(tmp))
        else:
            torch.onnx.export(
                wrapped,
                (example,),
                str(tmp),
                input_names=["spectrograms"],
                output_names=["features"],
                dynamic_axes={"spectrograms": {0: "batch"}, "features": {0: "batch"}},
                dynamo=False,
            )
    reduction = model.reduction()
    description = {
        "format": format,
        "input": f"spectrograms (batch, {model.n_freq}, {model.n_time}) float32 in [0, 1]",
        "output": f"features (batch, {2 * model.config.latent_channels}): mean then max over "
        "time of the latent array",
        "spectrogram": model.spectrogram,
        "edge_steps": cut,
        "pca": None
        if reduction is None
        else {"mean": reduction.mean.tolist(), "components": reduction.components.tolist()},
        "sonotype_version": model.sonotype_version,
    }
    with atomic_path(path.with_suffix(path.suffix + ".json")) as tmp:
        tmp.write_text(json.dumps(description, indent=2) + "\n")
    return path
