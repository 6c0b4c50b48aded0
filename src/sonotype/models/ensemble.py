"""Ensembles: several trained models whose probabilities are averaged, saved as one model.

The members must have the same labels (in any order: each member's outputs are put in the
ensemble's order), the same loss and the same sample rate; their architectures, contexts and
output steps may differ as long as every output step divides the largest. The ensemble then
has the largest receptive field and the largest output step: frame ``j`` of the ensemble is
centred on the same sample as the frame of each member it averages, because each member
reads the audio centred the same way (its smaller context cropped symmetrically from the
ensemble's) and a member with a finer step contributes every ``k``-th frame.

An ensemble is saved like any model (:class:`~sonotype.models.saved.SavedModel`): its
``model.json`` lists the members, whose descriptions are copied into ``members/1``, ...,
and ``weights.pt`` holds every member's weights, so it classifies, exports and is scored
like a single network, and keeps working when its members are retrained or deleted.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from sonotype.atomic import atomic_path
from sonotype.errors import ParameterError
from sonotype.models.saved import MODEL_FILE, WEIGHTS_FILE, SavedModel

MEMBERS_DIR = "members"


class Ensemble(nn.Module):
    """The mean of ``members``' probabilities, with the network interface (``receptive_field``,
    ``output_step``, ``probabilities``, ``forward`` giving logits).

    Parameters
    ----------
    members : sequence of torch modules
        Networks at the same sample rate with the same loss.
    orders : sequence of lists of int
        For each member, the index of each ensemble label among its outputs.
    loss : {"exclusive", "overlapped"}
        How the averaged probabilities become logits in :meth:`forward`.
    """

    def __init__(self, members: Sequence[nn.Module], *, orders: Sequence[Sequence[int]], loss: str):
        super().__init__()
        if len(members) < 2:
            raise ParameterError("an ensemble needs at least two models")
        self.members = nn.ModuleList(members)
        self.loss = loss
        self.input_channels = int(getattr(members[0], "input_channels", 1))
        self.receptive_field = max(int(m.receptive_field) for m in members)
        self.output_step = max(int(m.output_step) for m in members)
        crops, strides = [], []
        for i, member in enumerate(members):
            step, field = int(member.output_step), int(member.receptive_field)
            if self.output_step % step:
                raise ParameterError(
                    f"member {i + 1} steps {step} samples between outputs, which does not "
                    f"divide another member's {self.output_step}; ensemble models whose output "
                    "steps are multiples of each other"
                )
            before = self.receptive_field // 2 - field // 2
            after = self.receptive_field - field - before
            crops.append((before, after))
            strides.append(self.output_step // step)
        self.crops, self.strides = crops, strides
        for i, order in enumerate(orders):
            self.register_buffer(f"order{i}", torch.as_tensor(list(order), dtype=torch.long))
        #: The member whose frames set how many the ensemble gives (one with the largest step).
        self.pacer = strides.index(1)

    def probabilities(self, audio: torch.Tensor) -> torch.Tensor:
        """Mean probabilities ``(batch, labels, frames)`` of audio ``(batch, 1, samples)``."""
        outputs = []
        for i, member in enumerate(self.members):
            before, after = self.crops[i]
            # Constant slice bounds (a negative stop) keep the length free in exported models.
            x = audio[..., before : audio.shape[-1] - after] if after else audio[..., before:]
            p = member.probabilities(x)
            p = p.index_select(1, getattr(self, f"order{i}"))
            outputs.append(p[..., :: self.strides[i]])
        frames = outputs[self.pacer].shape[-1]
        return torch.stack([p[..., :frames] for p in outputs]).mean(dim=0)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """Logits whose softmax (exclusive) or sigmoid (overlapped) is :meth:`probabilities`."""
        p = self.probabilities(audio).clamp(1e-7, 1 - 1e-7)
        return torch.log(p) if self.loss == "exclusive" else torch.log(p) - torch.log1p(-p)


def check_members(models: Sequence[SavedModel], names: Sequence[str]) -> None:
    """Raise a :class:`ParameterError` naming the model that cannot join the others."""
    if len(models) < 2:
        raise ParameterError("an ensemble needs at least two models", parameter="names")
    if len(set(names)) < len(names):
        raise ParameterError(f"models {', '.join(names)} name one model twice")
    first, name = models[0], names[0]
    for other, other_name in zip(models[1:], names[1:], strict=True):
        if sorted(other.labels) != sorted(first.labels):
            raise ParameterError(
                f"{other_name} has labels {', '.join(other.labels)} and {name} has "
                f"{', '.join(first.labels)}: ensemble models trained on the same labels",
                parameter="names",
            )
        if other.sr != first.sr:
            raise ParameterError(
                f"{other_name} works at {other.sr:g} Hz and {name} at {first.sr:g} Hz: "
                "ensemble models at one sample rate (fine-tune one with `sonotype train "
                "--init-from` to bring it to the other's rate)",
                parameter="names",
            )
        if other.config.input_channels != first.config.input_channels:
            raise ParameterError(
                f"{other_name} reads {other.config.input_channels} channel(s) together and "
                f"{name} {first.config.input_channels}: ensemble models with the same input",
                parameter="names",
            )
        if other.config.loss != first.config.loss:
            raise ParameterError(
                f"{other_name} uses the {other.config.loss} loss and {name} the "
                f"{first.config.loss} one: their probabilities cannot be averaged",
                parameter="names",
            )


def ensemble_network(models: Sequence[SavedModel], *, weights: bool = True) -> Ensemble:
    """The ensemble of ``models`` (in the first one's label order); with ``weights`` False,
    the members are built without loading their weights."""
    labels = models[0].labels
    members = [m.network() if weights else m.architecture() for m in models]
    orders = [[m.labels.index(label) for label in labels] for m in models]
    return Ensemble(members, orders=orders, loss=models[0].config.loss)


def save_ensemble(
    models: Sequence[SavedModel], folder: str | Path, *, names: Sequence[str] | None = None
) -> SavedModel:
    """Write the ensemble of ``models`` as a model directory ``folder``; return it.

    ``model.json`` takes the first member's configuration (for its loss) and labels, the
    mean of the members' training prevalences, and the ensemble's geometry; it records each
    member's name and weights. The validation windows are those every member held out (a
    window one member was trained on would flatter the ensemble).
    """
    names = list(names or [m.folder.name for m in models])
    check_members(models, names)
    folder = Path(folder)
    network = ensemble_network(models)
    members_dir = folder / MEMBERS_DIR
    for i, model in enumerate(models, start=1):
        target = members_dir / str(i)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model.folder / MODEL_FILE, target / MODEL_FILE)
        if model.members:  # an ensemble inside: its members' descriptions too
            shutil.copytree(model.folder / MEMBERS_DIR, target / MEMBERS_DIR, dirs_exist_ok=True)
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        torch.save({k: v.detach().cpu() for k, v in network.state_dict().items()}, tmp)
    labels = models[0].labels
    prevalence = {
        label: float(np.mean([m.train_prevalence.get(label, 0.0) for m in models]))
        for label in labels
    }
    _write_common_validation(models, folder)
    ensemble = SavedModel(
        folder=folder,
        config=models[0].config,
        sr=models[0].sr,
        labels=list(labels),
        point_labels=[label for label in labels if label in models[0].point_labels],
        receptive_field=network.receptive_field,
        output_step=network.output_step,
        train_prevalence=prevalence,
        training={
            "ensemble": [
                {
                    "name": name,
                    "weights_sha256": model.weights_hash(),
                    "receptive_field": model.receptive_field,
                    "output_step": model.output_step,
                    "architecture": model.config.architecture,
                }
                for name, model in zip(names, models, strict=True)
            ],
            **_shared_training(models),
        },
        members=[f"{MEMBERS_DIR}/{i}" for i in range(1, len(models) + 1)],
    )
    ensemble.save()
    return ensemble


def _shared_training(models: Sequence[SavedModel]) -> dict:
    """What ``accuracy`` and ``ethogram`` read of a model's training, for the ensemble: the
    first member's data settings (the background label is never predicted), and as
    validation and test recordings only those that every member held out."""
    first = models[0].training
    shared = {
        key: first[key]
        for key in ("labels", "kinds", "sources", "background", "ignore_labels")
        if key in first
    }
    for key in ("validation_recordings", "test_recordings"):
        held = [set(m.training.get(key) or []) for m in models]
        shared[key] = sorted(set.intersection(*held))
    # The channels any member keeps to; every channel when one of them classifies every one.
    kept = [m.training.get("channels") for m in models]
    shared["channels"] = None if None in kept else sorted({c for k in kept for c in k})
    return shared


def _write_common_validation(models: Sequence[SavedModel], folder: Path) -> None:
    tables = []
    for model in models:
        path = model.folder / "validation.csv"
        if not path.is_file():
            tables = []
            break
        tables.append(model.validation_windows())
    columns = ["recording", "channel", "time_s", "label"]
    common = tables[0] if tables else pd.DataFrame(columns=columns)
    for table in tables[1:]:
        common = common.merge(table, on=columns, how="inner")
    with atomic_path(folder / "validation.csv") as tmp:
        common.drop_duplicates().to_csv(tmp, index=False)
