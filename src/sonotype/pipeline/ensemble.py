"""``ensemble``: trained models of a project averaged into a new model
``artifacts/models/NAME/`` (:mod:`sonotype.models.ensemble`), which ``classify``,
``ethogram``, ``accuracy`` and ``export-model`` use like any other."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from sonotype.atomic import replace_folder, staging_folder
from sonotype.errors import ParameterError
from sonotype.models.saved import SavedModel
from sonotype.pipeline.model_store import load_model, model_folder
from sonotype.store import Project


def ensemble(
    project: Project, names: Sequence[str], *, name: str, overwrite: bool = False
) -> SavedModel:
    """Save the average of models ``names`` as model ``name``; return it.

    The members keep their own folders; the ensemble holds copies of their weights, so
    retraining or deleting a member later does not change it. A model ``name`` that exists
    is replaced only with ``overwrite``, and never by an ensemble that includes it.
    """
    from sonotype.models.ensemble import save_ensemble

    names = list(names)
    if len(names) < 2:
        raise ParameterError(
            f"an ensemble needs at least two models (got {', '.join(names) or 'none'})"
        )
    folder = model_folder(project, name)
    if name in names:
        raise ParameterError(
            f"--name {name} is one of the members; give the ensemble a new name",
            parameter="name",
        )
    models = [load_model(project, member) for member in names]
    if (folder / "model.json").is_file() and not overwrite:
        raise ParameterError(f"model {name!r} exists ({folder}); pass --force to replace it")
    with project.run("ensemble", {"name": name, "members": names}):
        staging = staging_folder(folder.parent, name)
        try:
            save_ensemble(models, staging, names=names)
            replace_folder(staging, folder)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
    return SavedModel.load(folder)
