"""The demo workflow: synthetic data with known answers, made into a project and reported."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sonotype.intervals import overlaps_any
from sonotype.pipeline.demo_loop import LoopResult, run_loop
from sonotype.store import ImportReport, Project, ScanReport
from sonotype.synth.dataset import DemoDataset, write_demo_dataset


@dataclass(frozen=True)
class DemoResult:
    """What the demo made: the data, the project's scan and import, the detection scores
    against the known truth, and the report."""

    dataset: DemoDataset
    scan: ScanReport
    imported: ImportReport
    detection: pd.DataFrame
    discovery: pd.Series
    catalog: Path
    classifier: pd.DataFrame | None  # None when torch is not installed
    report: Path
    embeddings: pd.DataFrame | None = None  # None without the embed extra
    loop: LoopResult | None = None  # None when skipped or torch is not installed


#: How the demo detects each kind of recording: (detector, parameters, what to score).
#: The synthetic clicks last ~5 ms above the noise, hence the short minimum duration.
DETECTION = {
    "birds/": ("amplitude", {"noise_factor": 5.0, "min_duration_ms": 3.0}, "syllables"),
    "flies/": ("time-freq", {}, "pulses"),
}
#: Matching tolerance for the demo's detection scores.
TOLERANCE_S = 0.010


def run_demo(
    folder: str | os.PathLike[str],
    *,
    random_state: int = 0,
    loop: bool = True,
    step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Write the demo data into ``folder``, make it a project, import the truth, report.

    With ``loop`` (and torch installed), one round of the review loop on the birds
    (:mod:`sonotype.pipeline.demo_loop`). ``step`` is called with a short description
    before each stage (for progress display).
    """
    step = step or (lambda description: None)
    step("writing synthetic recordings")
    dataset = write_demo_dataset(folder, random_state=random_state)
    step("creating the project")
    with Project.init(
        dataset.folder, audio_roots=[dataset.audio_root], name="sonotype demo"
    ) as project:
        step("scanning recordings")
        scan = project.scan()
        step("importing the ground truth")
        imported = project.import_files(
            [dataset.folder / "annotations" / "truth.csv"], source="truth"
        )
        step("detecting sounds")
        detection = _detect_and_score(project, dataset.truth)
        step("discovering the birds' syllable types")
        from sonotype.pipeline.discover import DiscoverConfig, discover

        # A named run: its catalog is reports/discover/birds/, its clusters source "birds".
        found = discover(project, DiscoverConfig(name="birds", recordings="birds/*"), step=step)
        best = found.summary.iloc[0]
        step("embedding the birds' syllables (BirdNET, when installed, and PCA)")
        from sonotype.embeddings.demo import compare_on_syllables

        embeddings = compare_on_syllables(project)
        classifier = None
        if _torch_installed():
            step("training a classifier on fly song")
            classifier = _train_fly_classifier(project, dataset.truth, random_state)
        review = None
        if loop and _torch_installed():
            review = run_loop(project, dataset.truth, random_state=random_state, step=step)
        step("writing the report")
        from sonotype.report import write_project_report

        report = write_project_report(
            project,
            sections=[
                ("Detection against the known truth", _scores_html(detection)),
                ("Repertoire discovery", _discovery_html(best, found.report, project)),
                ("Supervised classification of fly song", _classifier_html(classifier)),
                *(
                    [("Embeddings of the birds' syllables", embeddings.to_html(index=False))]
                    if embeddings is not None
                    else []
                ),
                *([("One round of the review loop", _loop_html(review))] if review else []),
            ],
        )
    return DemoResult(
        dataset,
        scan,
        imported,
        detection,
        best,
        found.report,
        classifier,
        report,
        embeddings=embeddings,
        loop=review,
    )


#: The demo's fly-song classifier: its name, and how long it trains (CPU seconds matter).
CLASSIFIER = "fly-song"
CLASSIFIER_STEPS = 300
#: Pulses match within this many seconds (as in the fly-song literature).
PULSE_TOLERANCE_S = 0.005


def _torch_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def _train_fly_classifier(project: Project, truth: pd.DataFrame, random_state: int):
    """Train on the first fly's truth (pulses, sine, the rest as ``ambient``), predict the
    second fly's song, and score the ethogram: pulses as points within 5 ms, sine song by
    time overlap."""
    from sonotype.evaluate import ALL_LABELS, event_scores, overlap_scores
    from sonotype.models.config import network_config
    from sonotype.models.settings import TrainSettings
    from sonotype.pipeline import supervised

    flies = sorted(n for n in project.recordings()["path"] if n.startswith("flies/"))
    train_on, test_on = flies[:1], flies[1:]
    supervised.train(
        project,
        CLASSIFIER,
        labels=["pulse", "sine"],
        background="ambient",
        network=network_config(volume_db=6.0),
        settings=TrainSettings(steps=CLASSIFIER_STEPS, random_state=random_state),
        sources=["truth"],
        recordings=train_on,
        validate_percent=20,
        overwrite=True,
    )
    supervised.accuracy(project, CLASSIFIER)
    predicted = supervised.ethogram(project, CLASSIFIER, recordings=test_on).events
    reference = truth[truth["recording"].isin(test_on)]
    pulses = event_scores(
        reference[reference["label"] == "pulse"],
        predicted[predicted["label"] == "pulse"],
        tolerance_s=PULSE_TOLERANCE_S,
    )
    sine = overlap_scores(reference, predicted, labels="sine")
    rows = []
    for label, table, unit in (("pulse", pulses, "events within 5 ms"), ("sine", sine, "time")):
        row = table[table["label"] == ALL_LABELS].iloc[0]
        rows.append(
            {
                "label": label,
                "scored as": unit,
                "precision": float(row["precision"]),
                "recall": float(row["recall"]),
                "F1": float(row["f1"]),
            }
        )
    return pd.DataFrame(rows).assign(trained_on=train_on[0], tested_on=", ".join(test_on))


def _classifier_html(scores: pd.DataFrame | None) -> str:
    from sonotype.report import html

    if scores is None:
        return (
            '<p class="note">torch is not installed, so no classifier was trained; install '
            "<code>sonotype[torch]</code> (see the README) and run the demo again.</p>"
        )
    first = scores.iloc[0]
    note = (
        f"<p>A network (<code>{CLASSIFIER}</code>, {CLASSIFIER_STEPS} training steps) learnt "
        f"pulse and sine song from the true annotations of {html.escape(first['trained_on'])} "
        f"and labelled {html.escape(first['tested_on'])}, which it never saw. Its ethogram "
        "(stored as kind <code>predicted</code>) against the truth: "
        f'<a href="models/{CLASSIFIER}/index.html">accuracy on the validation examples</a>.</p>'
    )
    shown = scores[["label", "scored as", "precision", "recall", "F1"]]
    return note + html.table(list(shown.columns), shown.itertuples(index=False))


def _loop_html(loop: LoopResult) -> str:
    from sonotype.pipeline import demo_loop
    from sonotype.report import html

    note = (
        f"<p>{demo_loop.ERROR_RATE:.0%} of the birds' training syllables were given a wrong "
        f"label (source <code>{demo_loop.SOURCE}</code>); a network learnt from them "
        f"(<code>{demo_loop.BEFORE}</code>), <code>sonotype mistakes</code> flagged the "
        "syllables its cross-validation labels otherwise, the demo accepted the suggestions "
        f"scored at least {demo_loop.MIN_SCORE:g} (as <code>sonotype events relabel "
        f"--ids</code>) and trained again (<code>{demo_loop.AFTER}</code>). Accuracy: on "
        "the true syllables of each bird's "
        f"{html.escape(demo_loop.HELD_OUT)}, never trained on, against the truth. See "
        "docs/review.md.</p>"
    )
    rows = [(m, f"{v:.3f}" if isinstance(v, float) else str(v))
            for m, v in loop.table().itertuples(index=False)]  # fmt: skip
    return note + html.table(["measure", "value"], rows)


def _detect_and_score(project: Project, truth: pd.DataFrame) -> pd.DataFrame:
    """Run each detector on its recordings, store the events, and score them.

    Birdsong: detected syllables against the true syllables (onset and offset within the
    tolerance, whatever the type). Fly song: the centres of the ``time`` events that overlap
    no ``frequency`` event (loud but not tonal, unlike sine song) against the true pulses.
    """
    from sonotype.detect import make_detector
    from sonotype.evaluate import ALL_LABELS, event_scores
    from sonotype.pipeline.detect import detect_project

    rows = []
    for prefix, (method, params, target) in DETECTION.items():
        names = [n for n in project.recordings()["path"] if n.startswith(prefix)]
        detector = make_detector(method, **params)
        found = detect_project(project, detector, recordings=names).events
        reference = truth[truth["recording"].isin(names)]
        if target == "pulses":
            reference = reference[reference["label"] == "pulse"]
            found = _loud_not_tonal(found)
            centre = (found["start_s"] + found["stop_s"]) / 2
            found = found.assign(start_s=centre, stop_s=centre, label="pulse")
        else:
            reference = reference.assign(label="syllable")
        scores = event_scores(reference, found, tolerance_s=TOLERANCE_S)
        row = scores[scores["label"] == ALL_LABELS].iloc[0]
        rows.append(
            {
                "set": prefix.rstrip("/"),
                "detector": method,
                "target": target,
                "true": int(row["n_ref"]),
                "found": int(row["n_pred"]),
                "precision": float(row["precision"]),
                "recall": float(row["recall"]),
                "F1": float(row["f1"]),
            }
        )
    return pd.DataFrame(rows)


def _discovery_html(best: pd.Series, catalog: Path, project: Project) -> str:
    from sonotype.report import html

    link = catalog.relative_to(project.reports_dir).as_posix()
    return (
        f"<p>The birds' syllables (the true segments) were clustered without their labels: "
        f"{int(best['n_clusters'])} clusters for 11 true types, AMI {best['ami']:.3f}, "
        f"ARI {best['ari']:.3f} against them. "
        f'<a href="{html.escape(link)}">Open the repertoire catalog</a>.</p>'
    )


def _loud_not_tonal(events: pd.DataFrame) -> pd.DataFrame:
    """The ``time`` events that overlap no ``frequency`` event of their recording."""
    time = events[events["label"] == "time"]
    tonal = events[events["label"] == "frequency"]
    keep = []
    for recording, group in time.groupby("recording", sort=False):
        other = tonal[tonal["recording"] == recording]
        spans = group[["start_s", "stop_s"]].to_numpy()
        keep.append(group[~overlaps_any(spans, other[["start_s", "stop_s"]].to_numpy())])
    return pd.concat(keep) if keep else time


def _scores_html(detection: pd.DataFrame) -> str:
    from sonotype.report import html

    note = (
        f'<p class="note">Matched one to one within {TOLERANCE_S * 1000:g} ms. Syllables: '
        "<code>amplitude</code> segments against every true syllable, onset and offset. "
        "Pulses: the centre of each <code>time</code> event that overlaps no "
        "<code>frequency</code> event (loud but not tonal, unlike sine song). The detected "
        "events are stored in the project (kind <code>detected</code>).</p>"
    )
    return note + html.table(list(detection.columns), detection.itertuples(index=False))
