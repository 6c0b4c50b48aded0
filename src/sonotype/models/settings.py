"""How to train a network: steps, batch size, learning rate, validation, seed and device.

Torch-free, so that the command line and the workflow can build and check settings (and
print their help) without loading torch. The settings are recorded in ``model.json``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from sonotype.errors import ParameterError

DEVICES = ("auto", "cpu", "cuda", "mps")


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
    validate_every: int | None = None  # default: steps // 10
    random_state: int = 0
    device: str = "auto"

    def check(self) -> None:
        """Raise :class:`ParameterError` for a setting out of its range."""
        for name in ("steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name}={getattr(self, name)} must be at least 1")
        if not self.learning_rate > 0:
            raise ParameterError(f"learning_rate={self.learning_rate} must be positive")
        if self.validate_every is not None and self.validate_every < 1:
            raise ParameterError(f"validate_every={self.validate_every} must be at least 1")
