"""The tile2vec-style embedding network (torch).

Convolution blocks (3 x 3 convolution, batch norm, ReLU, 2 x 2 max pooling) over the log-mel
spectrogram, then global average pooling over frequency and time and a linear layer to
``dim`` values: a fully convolutional encoder, so spans of any length embed to one size
(training clips of seconds, syllables of milliseconds). tile2vec (Jean et al. 2019) uses a
ResNet-18 on image tiles; this is the same idea, small enough for 2 CPU cores.
"""

from __future__ import annotations

import torch
from torch import nn


class TripletNet(nn.Module):
    """Encoder from ``(batch, 1, n_mels, frames)`` to ``(batch, dim)``.

    Parameters
    ----------
    dim : int
        Embedding size.
    channels : tuple of int
        Output channels of each convolution block.
    """

    def __init__(self, dim: int = 32, channels: tuple[int, ...] = (16, 32, 64)) -> None:
        super().__init__()
        layers, previous = [], 1
        for width in channels:
            layers += [
                nn.Conv2d(previous, width, 3, padding=1),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            previous = width
        self.features = nn.Sequential(*layers)
        self.project = nn.Linear(previous, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.features(x).mean(dim=(2, 3)))


def triplet_loss(anchor, positive, negative, *, margin: float, l2_weight: float):
    """tile2vec's loss: ``relu(|a - p| - |a - n| + margin)`` plus ``l2_weight`` times the
    embeddings' norms (which keeps them from growing to satisfy the margin), batch mean."""
    d_pos = (anchor - positive).norm(dim=1)
    d_neg = (anchor - negative).norm(dim=1)
    loss = torch.relu(d_pos - d_neg + margin)
    norms = anchor.norm(dim=1) + positive.norm(dim=1) + negative.norm(dim=1)
    return (loss + l2_weight * norms).mean()
