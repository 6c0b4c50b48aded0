"""``sonotype congruence``: a model's ethogram against densely annotated recordings.

The model's probabilities (classified if needed, cached as for ``classify``) are
thresholded as ``sonotype ethogram`` would (the same settings, see
:func:`~sonotype.pipeline.ethogram.ethogram_settings`) and compared with every human
annotator's events (:mod:`sonotype.evaluate.congruence`); then re-thresholded over a grid
(:mod:`sonotype.evaluate.congruence_sweep`) to write ``thresholds-dense.csv``, which
``sonotype ethogram NAME --thresholds FILE`` reads. Tables and plots go to a report folder;
the model's disagreements with the humans are stored as events to review, in one edit:

- kind ``mistaken``: sounds only the model labelled (false alarms);
- kind ``missed``: sounds every human labelled and the model did not (misses);

both with source ``congruence-NAME``, each spanning the sound (the union of the events
grouped into it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError
from sonotype.evaluate.congruence import Congruence, annotated_portions, congruence
from sonotype.evaluate.congruence_sweep import dense_thresholds, threshold_sweep
from sonotype.store import Project
from sonotype.store.event_store import Edit

#: Thresholds swept by default (SongExplorer-like: every 0.05).
DEFAULT_SWEEP = tuple(round(0.05 * i, 2) for i in range(1, 20))
#: Name of the thresholds file written in the report folder.
THRESHOLDS_FILE = "thresholds-dense.csv"


def disagreement_source(name: str) -> str:
    """The source of the ``missed`` and ``mistaken`` events congruence stores for model
    ``name``."""
    return f"congruence-{name}"


@dataclass(frozen=True)
class CongruenceReport:
    """What :func:`congruence_report` produced.

    Attributes
    ----------
    result : Congruence
        The congruence at the ethogram's own thresholds.
    sweep : DataFrame
        The model's counts, precision and recall at each swept threshold (see
        :func:`~sonotype.evaluate.congruence_sweep.threshold_sweep`).
    thresholds : DataFrame
        The dense thresholds (the file ``thresholds-dense.csv``).
    folder : Path
        Where the tables and plots were written.
    files : list of Path
        The files written.
    edit : Edit or None
        The edit that stored the disagreements (None when not stored or unchanged).
    origins : list of str
        The ethogram settings and where they came from.
    failures : dict of str to str
        Recordings that could not be classified, with the reason.
    """

    result: Congruence
    sweep: pd.DataFrame
    thresholds: pd.DataFrame
    folder: Path
    files: list[Path]
    edit: Edit | None
    origins: list[str]
    failures: dict[str, str] = field(default_factory=dict)


def congruence_report(
    project: Project,
    name: str,
    *,
    dense: Sequence[str],
    recordings: Sequence[str] | None = None,
    portion: str = "union",
    labels: Sequence[str] | None = None,
    tolerance_ms: float = 10.0,
    sweep: Sequence[float] = DEFAULT_SWEEP,
    pr_ratios: Sequence[float] = (1.0,),
    choose_level: str = "event",
    pr_ratio: float | None = None,
    thresholds_file: Path | None = None,
    output: Path | None = None,
    store: bool = True,
    plots: bool = True,
    workers: int | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> CongruenceReport:
    """Compare model ``name``'s ethogram with the annotations of the ``dense`` sources.

    Parameters
    ----------
    project : Project
    name : str
        A trained model of the project.
    dense : sequence of str
        Sources of the annotated events (one per human annotator) that are dense: every
        sound of the labels judged is annotated within each annotator's span.
    recordings : sequence of str, optional
        Globs: judge only these recordings (default: every recording a dense source
        annotated).
    portion : {"union", "intersection"}
        How the annotators' spans combine into the time judged.
    labels : sequence of str, optional
        Labels to judge (default: the model's labels that the annotators use, less the
        background).
    tolerance_ms : float
        Events this close are the same sound (event level).
    sweep : sequence of float
        Thresholds to sweep.
    pr_ratios : sequence of float
        Precision-to-recall ratios to choose dense thresholds for.
    choose_level : {"event", "sample"}
        The level whose precision and recall choose the dense thresholds.
    pr_ratio, thresholds_file : optional
        The ethogram's thresholds, as for ``sonotype ethogram``.
    output : path, optional
        Report folder (default ``reports/congruence/NAME`` in the project).
    store : bool
        Store the disagreements as ``missed`` and ``mistaken`` events.
    plots : bool
        Draw the bar, Venn and sweep plots.
    progress : callable, optional
        Called with (stage, done, total): ``"classifying"`` per recording, ``"sweeping"``
        per threshold.
    """
    from sonotype.annotations.events import concat_events
    from sonotype.checks import check_number
    from sonotype.models.ethogram import ethogram as threshold_probabilities
    from sonotype.pipeline.classify import Weights, mark_partial, probabilities_batch
    from sonotype.pipeline.ethogram import ethogram_settings
    from sonotype.pipeline.executors import open_executor
    from sonotype.pipeline.model_store import load_model, recording_table, select_recordings
    from sonotype.pipeline.stage import Pipeline

    tolerance_s = check_number(tolerance_ms, name="tolerance_ms", minimum=0.0) / 1000
    # Checked before any classification, and named as the caller spells them.
    if choose_level not in ("event", "sample"):
        raise ParameterError(
            f"choose_level={choose_level!r} must be event or sample", parameter="choose_level"
        )
    sweep = [float(t) for t in sweep]
    if not sweep or not all(0.0 <= t <= 1.0 for t in sweep):
        raise ParameterError(
            f"sweep={sweep!r} must be one or more thresholds in [0, 1]", parameter="sweep"
        )
    pr_ratios = [float(r) for r in pr_ratios]
    if not pr_ratios or not all(np.isfinite(r) and r > 0 for r in pr_ratios):
        raise ParameterError(
            f"pr_ratios={pr_ratios!r} must be finite numbers > 0", parameter="pr_ratios"
        )
    if portion not in ("union", "intersection"):
        raise ParameterError(
            f"portion={portion!r} must be union or intersection", parameter="portion"
        )
    model = load_model(project, name)
    dense = list(dict.fromkeys(dense))
    if not dense:
        raise ParameterError(
            "dense names no source; give the annotators' sources", parameter="dense"
        )
    if name in dense:
        raise ParameterError(
            f"dense={dense!r}: {name!r} is the model; give the human annotators' sources",
            parameter="dense",
        )
    chosen = select_recordings(project, recordings) if recordings else None
    humans = {}
    for source in dense:
        events = project.events(kinds=["annotated"], sources=[source], recordings=chosen)
        if events.empty:
            known = sorted(set(project.events(kinds=["annotated"])["source"]))
            raise ParameterError(
                f"dense={source!r}: no annotated events of that source"
                + (" in the recordings chosen" if chosen else "")
                + f"; the sources of annotated events are {', '.join(known) or 'none'}",
                parameter="dense",
            )
        humans[source] = events
    background = model.training.get("background")
    outputs = [x for x in model.labels if x != background]
    used = set().union(*(set(e["label"]) for e in humans.values()))
    if labels:
        unknown = [x for x in labels if x not in outputs]
        if unknown:
            raise ParameterError(
                f"labels={list(labels)!r}: {', '.join(unknown)} not predicted by model "
                f"{name!r} ({', '.join(outputs)})",
                parameter="labels",
            )
        judged = list(labels)
    else:
        judged = [x for x in outputs if x in used]
        if not judged:
            raise ParameterError(
                f"the dense annotations use none of model {name!r}'s labels "
                f"({', '.join(outputs)}); they use {', '.join(sorted(used))}",
                parameter="dense",
            )
    portions = annotated_portions(humans, portion=portion)
    if portions.empty:
        raise ParameterError(
            f"portion={portion!r}: the annotators' spans have no time in common in any "
            "recording; use --portion union",
            parameter="portion",
        )
    names = portions["recording"].tolist()
    settings, origins = ethogram_settings(model, pr_ratio=pr_ratio, thresholds_file=thresholds_file)
    settings = json.loads(json.dumps(settings, default=float))
    durations = recording_table(project, names)["duration_s"].astype(float).to_dict()
    config = {
        "name": name,
        "dense": dense,
        "recordings": names,
        "portion": portion,
        "labels": judged,
        "tolerance_ms": tolerance_ms,
        "sweep": list(map(float, sweep)),
        "pr_ratios": list(map(float, pr_ratios)),
        "choose_level": choose_level,
        "settings": settings,
    }
    with (
        project.run("congruence", config, name=name) as run,
        open_executor(getattr(project.config, "compute", None), workers=workers) as executor,
    ):
        pipe = Pipeline(project, run_id=run.id, executor=executor)
        classified = [0]

        def one_classified(recording: str) -> None:
            classified[0] += 1
            if progress:
                progress("classifying", classified[0], len(names))

        batch = probabilities_batch(pipe, Weights.of(model), names, progress=one_classified)
        done = [r for r in names if r in batch.results]
        if not done:
            raise ParameterError(
                "no recording could be classified: "
                + "; ".join(f"{r}: {why}" for r, why in batch.failures.items())
            )
        probabilities = {r: np.asarray(batch.results[r].value) for r in done}
        portions = portions[portions["recording"].isin(done)].reset_index(drop=True)
        humans = {s: e[e["recording"].isin(done)] for s, e in humans.items()}

        def predict(thresholds: Mapping[str, float]) -> pd.DataFrame:
            return concat_events(
                [
                    threshold_probabilities(
                        probabilities[r],
                        labels=model.labels,
                        step_s=model.step_s,
                        recording=r,
                        duration_s=durations[r],
                        point_labels=model.point_labels,
                        source=name,
                        exclusive=model.config.loss == "exclusive",
                        **{**settings, "thresholds": thresholds},
                    )
                    for r in done
                ]
            )

        operating = {k: v for k, v in settings["thresholds"].items() if k in judged}
        predicted = predict(operating)
        result = congruence(
            {**humans, name: predicted},
            model=name,
            portions=portions,
            labels=judged,
            tolerance_s=tolerance_s,
        )
        swept = threshold_sweep(
            humans,
            lambda t: predict({x: t for x in judged}),
            sweep,
            model=name,
            portions=portions,
            labels=judged,
            tolerance_s=tolerance_s,
            progress=None if progress is None else (lambda i, n: progress("sweeping", i, n)),
        )
        chosen_thresholds = dense_thresholds(swept, pr_ratios, level=choose_level)
        folder = Path(output) if output else project.reports_dir / "congruence" / name
        files = write_report(folder, result, swept, chosen_thresholds, operating, plots=plots)
        edit = store_disagreements(project, result, name) if store else None
        mark_partial(run, batch, what="recording")
    return CongruenceReport(
        result, swept, chosen_thresholds, folder, files, edit, origins, dict(batch.failures)
    )


def disagreements(result: Congruence, name: str) -> pd.DataFrame:
    """The model's false alarms (kind ``mistaken``) and misses (kind ``missed``) as an
    Events table with source :func:`disagreement_source`."""
    from sonotype.annotations.events import make_events

    humans = [p for p in result.parties if p != name]
    sounds = result.sounds
    kinds = np.where(
        sounds["parties"] == name,
        "mistaken",
        np.where(sounds["parties"] == "+".join(humans), "missed", ""),
    )
    keep = kinds != ""
    chosen = sounds[keep]
    return make_events(
        chosen["recording"].tolist(),
        chosen["start_s"].to_numpy(float),
        chosen["stop_s"].to_numpy(float),
        chosen["label"].tolist(),
        kind=kinds[keep].tolist(),
        channel=chosen["channel"].to_numpy(np.int64),
        source=disagreement_source(name),
    )


def store_disagreements(project: Project, result: Congruence, name: str) -> Edit | None:
    """Replace the stored disagreements of model ``name`` with ``result``'s, as one edit;
    None when they are stored already."""
    from sonotype.store.project import same_events

    source = disagreement_source(name)
    events = disagreements(result, name)
    stored = project.events(kinds=["missed", "mistaken"], sources=[source])
    if same_events(stored, events):
        return None
    missed = int((events["kind"] == "missed").sum())
    return project.add_events(
        events,
        command="congruence",
        description=f"{len(events) - missed} false alarms (mistaken) and {missed} misses "
        f"(missed) of {name} against {', '.join(p for p in result.parties if p != name)}",
        replace={"kinds": ["missed", "mistaken"], "sources": [source]},
    )


def write_report(
    folder: Path,
    result: Congruence,
    sweep: pd.DataFrame,
    thresholds: pd.DataFrame,
    operating: Mapping[str, float],
    *,
    plots: bool = True,
) -> list[Path]:
    """Write the congruence tables (and plots) in ``folder``; return the files.

    ``summary-event.csv`` and ``summary-sample.csv`` (counts per label and region, at the
    ethogram's thresholds), ``regions.csv`` (every set of parties), ``sounds.csv``, the
    sweep (``sweep.csv``), :data:`THRESHOLDS_FILE`, and PNG plots.
    """
    from sonotype.atomic import atomic_path

    def csv(table: pd.DataFrame, file: str) -> Path:
        path = folder / file
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g")
        return path

    files = [
        csv(result.summary("event"), "summary-event.csv"),
        csv(result.summary("sample"), "summary-sample.csv"),
        csv(result.regions, "regions.csv"),
        csv(result.sounds, "sounds.csv"),
        csv(sweep, "sweep.csv"),
        csv(thresholds, THRESHOLDS_FILE),
    ]
    if plots:
        from sonotype.plot.catalog import save_figure
        from sonotype.plot.congruence import bars_figure, sweep_figure, venn_figure

        for level in ("event", "sample"):
            unit = "sounds" if level == "event" else "seconds"
            files.append(
                save_figure(
                    bars_figure(result.summary(level), title=f"{level} level ({unit})"),
                    folder / f"bars-{level}.png",
                )
            )
            if len(result.parties) <= 3:
                files.append(
                    save_figure(
                        venn_figure(result, level=level, title=f"{level} level ({unit})"),
                        folder / f"venn-{level}.png",
                    )
                )
            files.append(
                save_figure(
                    sweep_figure(
                        sweep[sweep["level"] == level],
                        thresholds
                        if len(thresholds) and thresholds["level"].iloc[0] == level
                        else None,
                        operating,
                        title=f"{level} level",
                    ),
                    folder / f"sweep-{level}.png",
                )
            )
    return files
