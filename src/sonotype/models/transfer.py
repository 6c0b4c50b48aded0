"""Fine-tuning a trained model: its network as the start of a new training.

The new network has the source's architecture (the settings that shape its weights cannot
change), so its front end and convolution blocks start from the source's weights and keep
the source's feature standardisation. The head starts from the source's where it can: with
the same dense layers, every head layer but the output keeps its weights, and the output
keeps the rows of the labels both models have; ``add_layers`` puts new dense layers (random
weights) before the output instead. ``freeze`` keeps the front end and the first blocks fixed.

The new model works at the source's sample rate: training audio at another rate is resampled
to it as it is read (:func:`sonotype.models.windows.read_padded`), and so are the recordings
it classifies later, so the learnt filters see the frequencies they were learnt on.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from sonotype.errors import ParameterError
from sonotype.models.config import NetworkConfig, network_config
from sonotype.models.network import build_network
from sonotype.models.saved import SavedModel

#: Network settings that shape the weights: a fine-tuned model takes them from its source.
STRUCTURAL = (
    "architecture",
    "input_channels",
    "representation",
    "window_ms",
    "stride_ms",
    "low_hz",
    "high_hz",
    "n_mels",
    "n_dct",
    "n_filters",
    "context_ms",
    "conv_layers",
    "feature_maps",
    "time_kernel",
    "freq_kernel",
    "time_stride",
    "time_dilation",
    "freq_pool",
    "normalization",
    "residual",
)


def transfer_config(
    source: NetworkConfig, overrides: dict[str, Any], *, add_layers: list[int] | None = None
) -> NetworkConfig:
    """The network settings of a model fine-tuned from one with ``source``'s settings.

    ``overrides`` may change what does not shape the weights (loss, dropout, augmentation);
    a structural setting different from the source's is an error naming it. ``add_layers``
    (widths) are new dense layers before the output.

    Examples
    --------
    >>> transfer_config(network_config(context_ms=50), {"dropout": 0.3}).context_ms
    50.0
    """
    changed = [k for k in STRUCTURAL if k in overrides and overrides[k] != getattr(source, k)]
    if changed:
        shown = ", ".join(f"{k}={overrides[k]!r} (the source has {getattr(source, k)!r})"
                          for k in changed)  # fmt: skip
        raise ParameterError(
            f"--init-from keeps the source model's architecture, but {shown} was asked; "
            "leave these settings out, or train a new model without --init-from",
            parameter="init_from",
        )
    settings = {**source.model_dump(), **overrides}
    if add_layers:
        if any(int(w) < 1 for w in add_layers):
            raise ParameterError(
                f"--add-layers {','.join(map(str, add_layers))} must be positive widths, "
                "e.g. 64,32",
                parameter="add_layers",
            )
        settings["dense_layers"] = [int(w) for w in add_layers]
    return network_config(**settings)


def initial_network(source: SavedModel, config: NetworkConfig, outputs: list[str]) -> nn.Module:
    """A network of ``config`` with ``outputs`` that starts from ``source``'s weights.

    Parameters
    ----------
    source : SavedModel
        The trained model to start from (its best weights).
    config : NetworkConfig
        From :func:`transfer_config` of ``source.config``.
    outputs : list of str
        The new model's output labels.
    """
    if source.members:
        raise ParameterError(
            f"{source.folder.name} is an ensemble; fine-tune one of its members instead",
            parameter="init_from",
        )
    network = build_network(config, sr=source.sr, n_labels=len(outputs))
    state = source.network().state_dict()
    own = network.state_dict()
    body = {k: v for k, v in state.items() if k.startswith(("frontend.", "blocks."))}
    mismatched = [k for k, v in body.items() if k not in own or own[k].shape != v.shape]
    if mismatched:
        raise ParameterError(
            f"cannot start from {source.folder.name}: its layers do not fit the network asked "
            f"for ({', '.join(mismatched[:3])}); leave out the structural settings",
            parameter="init_from",
        )
    own.update(body)
    if list(config.dense_layers) == list(source.config.dense_layers):
        last = len(network.head) - 1  # the output convolution
        for key, value in state.items():
            if key.startswith("head.") and not key.startswith(f"head.{last}."):
                own[key] = value
        for new_row, label in enumerate(outputs):
            if label in source.labels:
                old_row = source.labels.index(label)
                for part in ("weight", "bias"):
                    own[f"head.{last}.{part}"][new_row] = state[f"head.{last}.{part}"][old_row]
    network.load_state_dict(own)
    return network


def freeze(network: nn.Module, layers: int) -> list[nn.Module]:
    """Fix the front end and the first ``layers`` convolution blocks of ``network``.

    Their parameters stop needing gradients; the returned modules are to be kept in
    evaluation mode while training, so that their batch normalisation statistics stay too.
    """
    blocks = len(network.blocks)
    if not 0 <= layers <= blocks:
        raise ParameterError(
            f"--freeze-layers {layers} must be between 0 and the network's {blocks} "
            "convolution layers",
            parameter="freeze_layers",
        )
    frozen = [network.frontend, *list(network.blocks)[:layers]]
    for module in frozen:
        for parameter in module.parameters():
            parameter.requires_grad_(False)
    return frozen


def trainable_parameters(network: nn.Module) -> int:
    """How many of ``network``'s parameters training changes."""
    return sum(p.numel() for p in network.parameters() if p.requires_grad)


__all__ = [
    "STRUCTURAL",
    "freeze",
    "initial_network",
    "trainable_parameters",
    "transfer_config",
]
