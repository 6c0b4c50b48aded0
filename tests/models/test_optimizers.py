"""Optimizers and learning-rate schedules: built from the settings, checked, recorded."""

import itertools

import pytest

torch = pytest.importorskip("torch")

from sonotype.errors import ParameterError  # noqa: E402
from sonotype.models.optimizers import make_optimizer, make_schedule  # noqa: E402
from sonotype.models.settings import TrainSettings  # noqa: E402


def rates(settings):
    net = torch.nn.Linear(3, 2)
    optimizer = make_optimizer(net.parameters(), settings)
    schedule = make_schedule(optimizer, settings)
    seen = []
    for _ in range(settings.steps):
        seen.append(schedule.get_last_lr()[0])
        net(torch.ones(1, 3)).sum().backward()
        optimizer.step()
        schedule.step()
    return optimizer, seen


def test_optimizers_by_name():
    for name, kind, decay in (("adam", "Adam", 0.0), ("adamw", "AdamW", 0.01), ("sgd", "SGD", 0)):
        optimizer, _ = rates(TrainSettings(steps=2, optimizer=name))
        assert type(optimizer).__name__ == kind
        assert optimizer.param_groups[0]["weight_decay"] == decay
    sgd, _ = rates(TrainSettings(steps=2, optimizer="sgd", momentum=0.5, weight_decay=1e-4))
    assert sgd.param_groups[0]["momentum"] == 0.5
    assert sgd.param_groups[0]["weight_decay"] == 1e-4


def test_schedules_shape_the_learning_rate():
    _, constant = rates(TrainSettings(steps=20, learning_rate=0.1))
    assert constant == [pytest.approx(0.1)] * 20
    _, cosine = rates(TrainSettings(steps=20, learning_rate=0.1, schedule="cosine"))
    assert cosine[0] == pytest.approx(0.1)
    assert all(b < a for a, b in itertools.pairwise(cosine))
    assert cosine[-1] < 0.01
    _, cycle = rates(TrainSettings(steps=20, learning_rate=0.1, schedule="one-cycle"))
    peak = max(range(20), key=cycle.__getitem__)
    assert 0 < peak < 19 and cycle[peak] == pytest.approx(0.1, rel=0.05)
    assert cycle[0] < 0.01 and cycle[-1] < 0.001


def test_bad_choices_name_the_setting():
    with pytest.raises(ParameterError, match="optimizer='rmsprop' must be one of") as info:
        TrainSettings(optimizer="rmsprop").check()
    assert info.value.parameter == "optimizer"
    with pytest.raises(ParameterError, match="schedule='linear'"):
        TrainSettings(schedule="linear").check()
    with pytest.raises(ParameterError, match="momentum"):
        TrainSettings(momentum=1.5).check()
    with pytest.raises(ParameterError, match="weight_decay"):
        TrainSettings(weight_decay=-1).check()
