"""How to train a network: steps, batch size, optimizer, learning-rate schedule, validation,
seed and device.

Torch-free, so that the command line and the workflow can build and check settings (and
print their help) without loading torch. The settings are recorded in ``model.json``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from sonotype.checks import check_choice, check_int, check_number

DEVICES = ("auto", "cpu", "cuda", "mps")
#: Optimizers by name: Adam, AdamW (decoupled weight decay), SGD with momentum.
OPTIMIZERS = ("adam", "adamw", "sgd")
#: Learning-rate schedules over the steps: constant, cosine decay to zero, one-cycle
#: (warm up to ``learning_rate`` over the first 30% of the steps, then anneal).
SCHEDULES = ("constant", "cosine", "one-cycle")
#: Weight decay when none is given: AdamW's customary 0.01, none for the others.
DEFAULT_WEIGHT_DECAY = {"adam": 0.0, "adamw": 0.01, "sgd": 0.0}


class TrainSettings(BaseModel):
    """How to train (recorded in ``model.json``; hashed into the train stage's key).

    Built without checks so that a caller can report a bad value with its own option names;
    :meth:`check` raises a :class:`ParameterError` naming the setting.

    Examples
    --------
    >>> TrainSettings(steps=200).model_copy(update={"random_state": 3}).random_state
    3
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = 1000
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    schedule: str = "constant"
    momentum: float = 0.9  # SGD only
    weight_decay: float | None = None  # default: DEFAULT_WEIGHT_DECAY[optimizer]
    validate_every: int | None = None  # default: steps // 10
    random_state: int = 0
    device: str = "auto"

    def check(self) -> None:
        """Raise :class:`ParameterError` for a setting out of its range, with the setting's
        name as its ``parameter`` (the command line names its option instead)."""
        check_int(self.steps, name="steps", minimum=1, default=1000)
        check_int(self.batch_size, name="batch_size", minimum=1, default=32)
        check_number(
            self.learning_rate,
            name="learning_rate",
            minimum=0,
            inclusive="neither",
            default=1e-3,
            hint="e.g. 0.001",
        )
        check_choice(self.optimizer, name="optimizer", choices=OPTIMIZERS, default="adam")
        check_choice(self.schedule, name="schedule", choices=SCHEDULES, default="constant")
        check_number(
            self.momentum, name="momentum", minimum=0, maximum=1, inclusive="left", default=0.9
        )
        if self.weight_decay is not None:
            check_number(
                self.weight_decay,
                name="weight_decay",
                minimum=0,
                hint="None uses 0.01 for adamw, 0 otherwise",
            )
        if self.validate_every is not None:
            check_int(
                self.validate_every,
                name="validate_every",
                minimum=1,
                hint="None validates every steps // 10",
            )

    @property
    def decay(self) -> float:
        """The weight decay in effect (the optimizer's default when none was given)."""
        if self.weight_decay is not None:
            return self.weight_decay
        return DEFAULT_WEIGHT_DECAY.get(self.optimizer, 0.0)
