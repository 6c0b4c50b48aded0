"""Export a trained model to TorchScript or ONNX, preprocessing included.

The exported network takes raw audio ``(batch, channels, samples)`` at the model's sample
rate (one channel unless the network reads several together), any number of samples from one
receptive field up, and returns probabilities ``(batch, labels, frames)``, one frame every
``output_step`` samples. A ``.json`` file beside it records the sample rate, labels, point
labels, receptive field, output step and input channels.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import torch

from sonotype.atomic import atomic_path
from sonotype.errors import ParameterError
from sonotype.models.network import Probabilities
from sonotype.models.saved import SavedModel

FORMATS = {"torchscript": ".pt", "onnx": ".onnx"}


def onnx_bytes(network: torch.nn.Module) -> bytes:
    """``network``'s probabilities as an ONNX model in memory (what the ``onnx`` inference
    engine runs): input ``audio`` ``(batch, 1, samples)``, output ``probabilities``
    ``(batch, labels, frames)``, batch and length free."""
    channels = int(getattr(network, "input_channels", 1))
    example = torch.zeros(1, channels, network.receptive_field + 8 * network.output_step)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation warnings
        _export_onnx(Probabilities(network).eval(), example, buffer)
    return buffer.getvalue()


def _export_onnx(wrapped: torch.nn.Module, example: torch.Tensor, target) -> None:
    torch.onnx.export(
        wrapped,
        (example,),
        target,
        input_names=["audio"],
        output_names=["probabilities"],
        dynamic_axes={
            "audio": {0: "batch", 2: "samples"},
            "probabilities": {0: "batch", 2: "frames"},
        },
        dynamo=False,
    )


def export_model(model: SavedModel, path: str | Path, *, format: str = "onnx") -> Path:
    """Write ``model`` to ``path`` in ``format`` (``torchscript`` or ``onnx``); return it."""
    if format not in FORMATS:
        raise ParameterError(f"format={format!r} must be one of {', '.join(FORMATS)}")
    path = Path(path)
    if path.suffix != FORMATS[format]:
        path = path.with_name(path.name + FORMATS[format])
    wrapped = Probabilities(model.network()).eval()
    channels = model.config.input_channels
    example = torch.zeros(2, channels, model.receptive_field + 8 * model.output_step)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape arithmetic
        if format == "torchscript":
            torch.jit.save(torch.jit.trace(wrapped, example), str(tmp))
        else:
            _export_onnx(wrapped, example, str(tmp))
    description = {
        "format": format,
        "sr": model.sr,
        "labels": model.labels,
        "point_labels": model.point_labels,
        "receptive_field": model.receptive_field,
        "output_step": model.output_step,
        "input": f"audio (batch, {channels}, samples) float32 at sr; frame j is centred on "
        "sample j * output_step + receptive_field // 2",
        "input_channels": channels,
        "output": "probabilities (batch, labels, frames)",
        "sonotype_version": model.sonotype_version,
    }
    with atomic_path(path.with_suffix(path.suffix + ".json")) as tmp:
        tmp.write_text(json.dumps(description, indent=2) + "\n")
    return path
