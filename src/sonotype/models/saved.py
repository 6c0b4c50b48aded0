"""A trained model on disk: a directory with everything needed to use it again.

::

    NAME/
      model.json          architecture config, sample rate, labels, point labels, training
                          settings and data, best checkpoint, geometry, sonotype version
      weights.pt          the weights of the best checkpoint (torch state dict)
      checkpoints/        step-000200.pt, ... every validation
      learning_curve.csv  loss, accuracy and per-label precision/recall/F1 per validation
      validation.csv      the validation windows (recording, channel, time_s, label)
      thresholds.csv      per-label thresholds at each precision/recall ratio (accuracy)
      members/1, ...      an ensemble's members' model.json (sonotype.models.ensemble)

The description is torch-free; only :meth:`SavedModel.network` loads torch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sonotype._version import __version__
from sonotype.atomic import atomic_path
from sonotype.errors import ParameterError
from sonotype.models.config import NetworkConfig

FORMAT_VERSION = 1
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.pt"


@dataclass
class SavedModel:
    """The description of a model directory (``model.json``)."""

    folder: Path
    config: NetworkConfig
    sr: float
    labels: list[str]
    point_labels: list[str]
    receptive_field: int
    output_step: int
    train_prevalence: dict[str, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    best_step: int | None = None
    sonotype_version: str = __version__
    #: The key of the training (data, settings, code) that made it; None for models made
    #: outside a project. ``sonotype train`` with the same key finds the model up to date.
    train_key: str | None = None
    #: For an ensemble: its members' folders, relative to this one (each with a
    #: ``model.json``); ``weights.pt`` then holds the weights of them all.
    members: list[str] = field(default_factory=list)

    @property
    def step_s(self) -> float:
        """Seconds between output frames."""
        return self.output_step / self.sr

    @property
    def context_s(self) -> float:
        """Seconds of audio behind each output frame."""
        return self.receptive_field / self.sr

    def save(self) -> Path:
        """Write ``model.json`` atomically."""
        record = {k: v for k, v in asdict(self).items() if k not in ("folder", "config")}
        record = {"format": FORMAT_VERSION, "config": self.config.model_dump(), **record}
        path = self.folder / MODEL_FILE
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> SavedModel:
        folder = Path(folder)
        path = folder / MODEL_FILE
        if not path.is_file():
            raise ParameterError(
                f"{folder} is not a sonotype model (no {MODEL_FILE}); train one with "
                "`sonotype train --name NAME`"
            )
        record = json.loads(path.read_text())
        if record.pop("format", None) != FORMAT_VERSION:
            raise ParameterError(f"{path}: unknown model format; retrain with this sonotype")
        return cls(folder=folder, config=NetworkConfig(**record.pop("config")), **record)

    def weights_path(self, checkpoint: int | None = None) -> Path:
        """The best weights, or those of checkpoint ``step``."""
        if checkpoint is None:
            return self.folder / WEIGHTS_FILE
        path = self.folder / "checkpoints" / f"step-{checkpoint:06d}.pt"
        if not path.is_file():
            steps = ", ".join(str(s) for s in self.checkpoints()) or "none"
            raise ParameterError(f"no checkpoint at step {checkpoint}; saved steps: {steps}")
        return path

    def checkpoints(self) -> list[int]:
        """Steps of the saved checkpoints, ascending."""
        folder = self.folder / "checkpoints"
        return sorted(int(p.stem.removeprefix("step-")) for p in folder.glob("step-*.pt"))

    def weights_hash(self) -> str:
        """Content hash of the best weights (keys classifications in the artifact cache)."""
        return hashlib.sha256(self.weights_path().read_bytes()).hexdigest()

    def member_models(self) -> list[SavedModel]:
        """An ensemble's members (empty for a single network)."""
        return [SavedModel.load(self.folder / member) for member in self.members]

    def architecture(self):
        """The network without its weights (random ones): what :meth:`network` loads into."""
        if self.members:
            from sonotype.models.ensemble import ensemble_network

            return ensemble_network(self.member_models(), weights=False)
        from sonotype.models.network import build_network

        return build_network(self.config, sr=self.sr, n_labels=len(self.labels))

    def network(self, checkpoint: int | None = None):
        """The network with its weights, in evaluation mode, on the CPU."""
        import torch

        network = self.architecture()
        state = torch.load(self.weights_path(checkpoint), map_location="cpu", weights_only=True)
        network.load_state_dict(state)
        return network.eval()

    def learning_curve(self) -> pd.DataFrame | None:
        path = self.folder / "learning_curve.csv"
        return pd.read_csv(path) if path.is_file() else None

    def validation_windows(self) -> pd.DataFrame:
        path = self.folder / "validation.csv"
        if not path.is_file():
            raise ParameterError(f"{self.folder} has no validation.csv")
        return pd.read_csv(path, dtype={"recording": str, "label": str})
