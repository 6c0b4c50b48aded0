"""The embedding models ``sonotype embed --model M`` accepts, and how each is found.

- ``birdnet``: BirdNET v2.4 (:mod:`.birdnet`), and any model registered in
  :data:`PRETRAINED` (plugins: the ``sonotype.embedding_models`` entry-point group, each a
  callable that returns an :class:`~.base.AudioModel`);
- ``NAME``: a model card ``embedders/NAME.toml`` in the project, or a path to a card
  (:mod:`.card`): any local ONNX, TorchScript or TFLite file;
- ``flat``, ``pca``, ``features``: the syllable embedders (:mod:`.syllable`);
- ``classifier:NAME[:LAYER]``: a trained sonotype model's layer (:mod:`.classifier`).
"""

from __future__ import annotations

from pathlib import Path

from sonotype.embeddings.models.base import (
    AudioModel,
    ModelDescription,
    ModelOutput,
    ModelUnavailable,
)
from sonotype.embeddings.models.card import CARDS_DIR, project_cards
from sonotype.errors import ParameterError
from sonotype.registry import Registry

PRETRAINED: Registry = Registry("embedding model", entry_point_group="sonotype.embedding_models")


@PRETRAINED.register("birdnet")
def _birdnet(*, threads: int = 1) -> AudioModel:
    from sonotype.embeddings.models.birdnet import BirdNET

    return BirdNET(threads=threads)


def resolve_model(spec: str, *, project_dir: Path | None = None, threads: int = 1):
    """The model ``spec`` names (see the module notes).

    Returns an :class:`AudioModel` or a
    :class:`~sonotype.embeddings.models.syllable.SyllableEmbedding`. Raises
    :class:`ModelUnavailable` (with how to fix it) when it cannot run here, and
    :class:`~sonotype.errors.ParameterError` when ``spec`` names nothing.
    """
    from sonotype.embed import EMBEDDERS
    from sonotype.embeddings.models.card import CardModel
    from sonotype.embeddings.models.classifier import PREFIX, ClassifierModel
    from sonotype.embeddings.models.syllable import SyllableEmbedding

    if spec in PRETRAINED:
        return PRETRAINED.get(spec)(threads=threads)
    if spec in EMBEDDERS:
        return SyllableEmbedding(spec)
    if spec.startswith(PREFIX):
        if project_dir is None:
            raise ParameterError(f"--model {spec!r}: classifiers live in a project; run it in one")
        name, _, layer = spec[len(PREFIX) :].partition(":")
        from sonotype.pipeline.model_store import MODELS_DIR

        folder = Path(project_dir) / MODELS_DIR / name
        if not (folder / "model.json").is_file():
            there = sorted(
                p.parent.name for p in (Path(project_dir) / MODELS_DIR).glob("*/model.json")
            )
            raise ParameterError(
                f"--model {spec!r}: no trained model {name!r}; trained models: "
                f"{', '.join(there) or 'none (train one with `sonotype train`)'}",
                parameter="model",
            )
        return ClassifierModel(folder, name, layer or None)
    path = Path(spec)
    if path.suffix == ".toml":
        if not path.is_file():
            raise ParameterError(f"--model {spec!r}: no such model card", parameter="model")
        return CardModel(path, threads=threads)
    if project_dir is not None and (Path(project_dir) / CARDS_DIR / f"{spec}.toml").is_file():
        return CardModel(Path(project_dir) / CARDS_DIR / f"{spec}.toml", threads=threads)
    known = [*PRETRAINED.names(), *EMBEDDERS.names()]
    if project_dir is not None:
        known += [p.stem for p in project_cards(project_dir)]
    raise ParameterError(
        f"--model {spec!r} is not a model; use one of {', '.join(known)}, "
        "classifier:NAME[:LAYER], or a model card: put NAME.toml in the project's "
        f"{CARDS_DIR}/ folder (see docs/embeddings.md), or give its path",
        parameter="model",
    )


def describe_models(project_dir: Path | None = None) -> list[ModelDescription]:
    """Every model ``--model`` can name here, with its rate, window and size, or why it
    cannot run (a missing extra, a missing file, a bad card)."""
    from sonotype.embed import EMBEDDERS
    from sonotype.embeddings.models.card import CardModel
    from sonotype.embeddings.models.syllable import SyllableEmbedding

    rows: list[ModelDescription] = []
    for name in PRETRAINED.names():
        try:
            rows.append(ModelDescription.of(PRETRAINED.get(name)(), "pretrained"))
        except ModelUnavailable as why:
            rows.append(ModelDescription(name, "pretrained", unavailable=str(why)))
    for name in EMBEDDERS.names():
        model = SyllableEmbedding(name)
        rows.append(ModelDescription(name, "syllable embedder", dimensions=model.dimensions))
    if project_dir is None:
        return rows
    for card in project_cards(project_dir):
        try:
            model = CardModel(card)
            model.check()
            rows.append(ModelDescription.of(model, f"card ({model.format})"))
        except (ModelUnavailable, ParameterError) as why:
            rows.append(ModelDescription(card.stem, "card", unavailable=str(why)))
    rows += _classifiers(Path(project_dir))
    return rows


def _classifiers(project_dir: Path) -> list[ModelDescription]:
    from sonotype.models.saved import SavedModel
    from sonotype.pipeline.model_store import MODELS_DIR

    rows = []
    for path in sorted((project_dir / MODELS_DIR).glob("*/model.json")):
        try:
            saved = SavedModel.load(path.parent)
        except Exception as why:  # a model of another version: listed with the reason
            rows.append(
                ModelDescription(
                    f"classifier:{path.parent.name}", "classifier", unavailable=str(why)
                )
            )
            continue
        from sonotype.embeddings.models.classifier import layer_names

        rows.append(
            ModelDescription(
                f"classifier:{path.parent.name}[:{'|'.join(layer_names(saved))}]",
                "classifier",
                sr=saved.sr,
                window_s=saved.receptive_field / saved.sr,
                labels=len(saved.labels),
            )
        )
    return rows


__all__ = [
    "PRETRAINED",
    "AudioModel",
    "ModelDescription",
    "ModelOutput",
    "ModelUnavailable",
    "describe_models",
    "resolve_model",
]
