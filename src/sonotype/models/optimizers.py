"""The optimizer and learning-rate schedule a training uses, built from its settings.

Adam is the default (what the models before these choices were trained with); AdamW decouples
weight decay from the gradient's scale; SGD uses momentum. Schedules change the learning rate
after every step: ``constant``; ``cosine`` decays it to zero over the steps; ``one-cycle``
warms it up from ``learning_rate / 25`` to ``learning_rate`` over the first 30% of the steps,
then anneals it far below (torch's ``OneCycleLR`` defaults).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from sonotype.models.settings import TrainSettings


def make_optimizer(
    parameters: Iterable[torch.nn.Parameter], settings: TrainSettings
) -> torch.optim.Optimizer:
    """The optimizer ``settings.optimizer`` over ``parameters`` (those to train).

    Examples
    --------
    >>> net = torch.nn.Linear(2, 1)
    >>> type(make_optimizer(net.parameters(), TrainSettings(optimizer="sgd"))).__name__
    'SGD'
    """
    settings.check()
    params = [p for p in parameters if p.requires_grad]
    lr, decay = settings.learning_rate, settings.decay
    if settings.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=decay)
    if settings.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=settings.momentum, weight_decay=decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=decay)


def make_schedule(
    optimizer: torch.optim.Optimizer, settings: TrainSettings
) -> torch.optim.lr_scheduler.LRScheduler:
    """The schedule ``settings.schedule``, stepped once after each of ``settings.steps``.

    Examples
    --------
    >>> net = torch.nn.Linear(2, 1)
    >>> settings = TrainSettings(steps=10, schedule="cosine")
    >>> schedule = make_schedule(make_optimizer(net.parameters(), settings), settings)
    >>> schedule.get_last_lr()[0]
    0.001
    """
    steps = settings.steps
    if settings.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    if settings.schedule == "one-cycle":
        # OneCycleLR also cycles momentum, which Adam(W) calls beta1 and SGD momentum.
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=settings.learning_rate, total_steps=steps
        )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
