"""Triplet sets and trained triplet networks in a project, and training as a cached stage.

``artifacts/triplets/NAME/`` holds ``triplets.parquet`` and ``info.json`` (written by
:func:`save_triplet_set`), ``checkpoint.pt`` while training and ``model.pt`` after it. The
training is a :class:`~sonotype.pipeline.stage.Stage` keyed by the triplet table, the
recordings' content and every setting: training again with nothing changed loads the stored
network instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from sonotype.atomic import atomic_path, atomic_paths
from sonotype.errors import ParameterError
from sonotype.pipeline.codecs import Codec
from sonotype.pipeline.model_store import digest, recording_table
from sonotype.pipeline.stage import Pipeline, Result, Stage, StageParams
from sonotype.triplets.frontend import FrontEnd
from sonotype.triplets.training import TrainedTriplets, TripletTrainConfig, train_triplets

TRIPLETS_DIR = Path("artifacts") / "triplets"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def triplets_folder(project_dir: Path, name: str) -> Path:
    if not _NAME.match(name):
        raise ParameterError(
            f"--name {name!r}: a triplet set name is 1-80 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            parameter="name",
        )
    return Path(project_dir) / TRIPLETS_DIR / name


def save_triplet_set(project_dir: Path, name: str, triplets: pd.DataFrame, info: dict) -> Path:
    folder = triplets_folder(project_dir, name)
    info = {**info, "clip_s": triplets.attrs["clip_s"], "n": len(triplets)}
    with atomic_paths([folder / "triplets.parquet", folder / "info.json"]) as (table, meta):
        triplets.to_parquet(table, index=False)
        meta.write_text(json.dumps(info, indent=2, sort_keys=True, default=str))
    return folder


def load_triplet_set(project_dir: Path, name: str) -> tuple[pd.DataFrame, dict]:
    folder = triplets_folder(project_dir, name)
    if not (folder / "info.json").is_file():
        root = Path(project_dir) / TRIPLETS_DIR
        there = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
        raise ParameterError(
            f"triplet set {name!r} does not exist; "
            + (f"the project has {', '.join(there)}" if there else
               "make one with `sonotype triplets sample`"),
        )  # fmt: skip
    info = json.loads((folder / "info.json").read_text())
    triplets = pd.read_parquet(folder / "triplets.parquet")
    triplets.attrs["clip_s"] = info["clip_s"]
    return triplets, info


class TripletTrainParams(StageParams):
    """What decides a trained triplet network."""

    name: str
    config: dict
    front: dict


class TrainedTripletsCodec(Codec):
    """A :class:`TrainedTriplets` as a torch file."""

    suffix = ".pt"

    def write(self, value: TrainedTriplets, path: Path) -> None:
        path.write_bytes(value.to_bytes())

    def read(self, path: Path) -> TrainedTriplets:
        return TrainedTriplets.load(path)


class TripletTrainStage(Stage[TripletTrainParams, TrainedTriplets]):
    """Train the triplet network of one triplet set."""

    name: ClassVar[str] = "triplets-train"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[StageParams]] = TripletTrainParams
    codec: ClassVar[Codec] = TrainedTripletsCodec()

    def __init__(self, project, *, progress: Callable[[int, int, float], None] | None = None):
        self.project, self.progress = project, progress

    def compute(self, params: TripletTrainParams, **inputs: Any) -> TrainedTriplets:
        from sonotype.audio import Recording

        config = TripletTrainConfig(
            **{**params.config, "channels": tuple(params.config["channels"])}
        )
        return train_triplets(
            inputs["triplets"],
            lambda n: Recording(self.project.recording_path(n)),
            config=config,
            front=FrontEnd(**params.front),
            checkpoint=triplets_folder(self.project.folder, params.name) / "checkpoint.pt",
            progress=self.progress,
        )


def train_triplet_set(
    project,
    name: str,
    *,
    config: TripletTrainConfig | None = None,
    front: FrontEnd | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[TrainedTriplets, Path, bool]:
    """Train (or find trained) the network of triplet set ``name``; write ``model.pt``.

    Returns
    -------
    trained : TrainedTriplets
    path : Path
        The ``model.pt`` written.
    computed : bool
        False when the stored network of an identical training was reused.
    """
    config = config or TripletTrainConfig()
    front = front or FrontEnd()
    triplets, _ = load_triplet_set(project.folder, name)
    names = sorted(set(triplets["anchor_recording"]) | set(triplets["positive_recording"])
                   | set(triplets["negative_recording"]))  # fmt: skip
    hashes = recording_table(project, names)["content_hash"].astype(str).to_dict()
    table_key = digest(triplets.astype(str).to_dict(orient="list"))
    params = TripletTrainParams(name=name, config=config.to_dict(), front=front.to_dict())
    inputs = {
        "triplets": Result.of(triplets, key=table_key),
        "recordings": Result.of(hashes, key=digest(hashes)),
    }
    with project.run("triplets train", params.identity()) as run:
        result = Pipeline(project, run_id=run.id).stage(
            TripletTrainStage(project, progress=progress), params, **inputs
        )
        trained = result.value
        computed = bool(project.run_steps(run.id, status="computed"))
    path = triplets_folder(project.folder, name) / "model.pt"
    with atomic_path(path) as tmp:
        tmp.write_bytes(trained.to_bytes())
    return trained, path, computed
