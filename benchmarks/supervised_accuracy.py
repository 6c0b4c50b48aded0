"""Accuracy of trained classifiers on the real recordings in ``../shared/data``.

Run by hand: ``python benchmarks/supervised_accuracy.py [--fly-steps 600] [--bird-steps 1000]
[--only "Bengalese finch"] [--train-songs 3] [--seed 0] [--set KEY=VALUE ...]``.

Drosophila (SongExplorer's sparse annotations, 2.5 kHz): train on one recording's
``person1`` and ``notsong`` annotations (outputs mel-pulse and mel-sine, overlapped loss with
the ``not_`` annotations as negatives, 20% of the events for validation), classify the other
recording and score the ethogram sparsely (:func:`sonotype.evaluate.sparse_scores`): pulses
as points within 5 ms, sine song by time, false alarms counted only where the annotator marked
the absence of that song (``not_<label>`` and ``ambient`` intervals). Both directions.

Songbirds (dense annotations, 32 kHz): the zebra finch (DAS's ``train/`` and ``test/``) and
the Bengalese finch gy6or6 (evsonganaly ``.not.mat``; 8 songs to train, 2 to test). Train on
every syllable label and the unannotated time as ``background`` (10% of the events for
validation), learn the ethogram's post-processing with ``accuracy`` (on the training
recordings that hold the validation windows: the test recordings are never seen), classify
the test recordings (channel 0: gy6or6's song microphone) and score frame error rate,
syllable classification accuracy (majority label inside each true syllable), syllable error
rate, and onset/offset errors of matched syllables, with the learned post-processing and,
on the same probabilities, with the fixed ``--min-gap-ms`` / ``--min-duration-ms`` given on
the command line.

Prints training time and classification speed on this machine (torch threads = cores).
``--set KEY=VALUE`` (repeatable) overrides a network setting for every data set (read as
``sonotype train --set`` reads it: ``--set feature_maps=16,32,32,32``), to
compare networks on the same recipe; the validation scores that ``accuracy`` computes from
the training recordings are printed next to the test scores, since only they may choose.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from sonotype.evaluate import (
    ALL_LABELS,
    event_scores,
    frame_error_rate,
    segment_accuracy,
    sparse_scores,
    syllable_error_rates,
)
from sonotype.evaluate.sequences import overall_error_rate
from sonotype.models.config import network_config
from sonotype.models.settings import TrainSettings
from sonotype.pipeline import supervised
from sonotype.store import Project

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FLIES = ("20161207T102314_ch1.wav", "PS_20130625111709_ch3.wav")


def overrides(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` network settings, read as ``sonotype train --set`` reads them and checked
    now (an unknown key or a bad value stops here, not after training)."""
    from sonotype.cli.supervised import parse_network_settings
    from sonotype.models.config import network_config

    settings = parse_network_settings(pairs)
    network_config(**settings)
    return settings


def make_project(folder: Path, data: Path, pattern: str) -> Project:
    project = Project.init(folder, audio_roots=[data])
    project.scan()
    project.import_files(sorted(data.glob(pattern)))
    return project


def timed_classify(project: Project, name: str, recordings: list[str], **options: Any) -> float:
    """Times-realtime of classifying ``recordings`` (no cache: a fresh artifact key)."""
    durations = project.recordings().set_index("path")["duration_s"]
    started = time.perf_counter()
    supervised.classify(project, name, recordings=recordings, **options)
    return float(durations[recordings].sum()) / (time.perf_counter() - started)


def drosophila(folder: Path, steps: int, network: dict[str, Any], seed: int = 0) -> None:
    data = DATA / "drosophila-songexplorer"
    with make_project(folder / "flies", data, "*.csv") as project:
        for train_on, test_on in (FLIES, FLIES[::-1]):
            name = f"fly-{train_on[:6]}"
            outcome = supervised.train(
                project,
                name,
                labels=["mel-pulse", "mel-sine"],
                ignore_labels=["ambient"],
                network=network_config(**{"loss": "overlapped", "volume_db": 10.0, **network}),
                settings=TrainSettings(steps=steps, random_state=seed),
                recordings=[train_on],
                validate_percent=20,
            )
            validation = supervised.accuracy(project, name)
            speed = timed_classify(project, name, [test_on])
            predicted = supervised.ethogram(project, name, recordings=[test_on]).events
            reference = project.events(kinds=["annotated"], recordings=[test_on])
            print(
                f"\nDrosophila: trained on {train_on} in {outcome.model.training['seconds']} s "
                f"({steps} steps), tested on {test_on}; classify {speed:.0f}x realtime"
            )
            per_label = validation.per_label.set_index("label")["f1"]
            print(
                f"  validation (accuracy, {name}): window macro F1 {validation.macro_f1:.4f} ("
                + ", ".join(f"{k} {v:.4f}" for k, v in per_label.items())
                + f"); best checkpoint {validation.best_step}"
            )
            for label in ("mel-pulse", "mel-sine"):
                s = sparse_scores(
                    reference,
                    predicted,
                    label=label,
                    negatives=[f"not_{label}", "ambient"],
                    tolerance_s=0.005,
                )
                print(
                    f"  {label:9s} P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f} "
                    f"(tp {s['tp']:.4g}, fp {s['fp']:.4g}, fn {s['fn']:.4g} {s['unit']})"
                )


#: Dense songbird data sets: folder, annotation files, training and test recordings (globs).
SONGBIRDS = {
    "zebra finch": ("zebra-finch-das", "*/*.csv", ["train/*"], ["test/*"]),
    # gy6or6: the first 8 songs to train (about 77 s), the last 2 to test.
    "Bengalese finch": (
        "bengalese-finch-gy6or6",
        "*.not.mat",
        [f"*.{n}.cbin" for n in (138, 141, 148, 159, 163, 179, 183, 190)],
        ["*.196.cbin", "*.202.cbin"],
    ),
}


def songbird(
    folder: Path,
    species: str,
    steps: int,
    min_gap_ms: float,
    min_duration_ms: float,
    train_songs: int | None = None,
    network: dict[str, Any] | None = None,
    seed: int = 0,
) -> None:
    """Dense syllable labels: train with the unannotated time as ``background``, then
    frame error rate, syllable accuracy, syllable error rate and boundary errors on the
    test recordings.

    With ``train_songs``, only the first that many training recordings are trained on and
    the next one is held out whole for validation (and the post-processing); otherwise 10%
    of the events are validation windows."""
    data_name, pattern, train_on, test_on = SONGBIRDS[species]
    validation = {"validate_percent": 10}
    if train_songs is not None:
        if train_songs >= len(train_on):
            raise SystemExit(f"--train-songs must be below {len(train_on)} for {species}")
        validation = {"validate_recordings": [train_on[train_songs]]}
        train_on = train_on[: train_songs + 1]
    with make_project(folder / data_name, DATA / data_name, pattern) as project:
        reference = project.events(kinds=["annotated"])
        labels = sorted(set(reference["label"]))
        outcome = supervised.train(
            project,
            "bird",
            labels=labels,
            background="background",
            network=network_config(**{"volume_db": 6.0, **(network or {})}),
            settings=TrainSettings(steps=steps, random_state=seed),
            recordings=train_on,
            **validation,
        )
        validated = supervised.accuracy(project, "bird")
        learned = validated.postprocessing
        test = supervised.select_recordings(project, test_on)
        # Channel 0 only: gy6or6's .cbin files hold 2 channels and channel 0 is the song
        # microphone (the one annotated and trained on); classify and ethogram would
        # otherwise predict on every channel and score channel 1's events as false alarms.
        speed = timed_classify(project, "bird", test, channels=[0])
        reference = reference[reference["recording"].isin(test)]
        durations = project.recordings().set_index("path")["duration_s"][test].to_dict()
        print(
            f"\n{species}: {len(labels)} labels, trained on {', '.join(train_on)} in "
            f"{outcome.model.training['seconds']} s ({steps} steps), tested on "
            f"{len(test)} recordings ({len(reference)} syllables); classify {speed:.0f}x "
            f"realtime; best checkpoint {supervised.load_model(project, 'bird').best_step}"
        )
        s = learned.validation["scores"]
        print(
            f"  learned post-processing: vote {learned.majority_vote}, min gap (ms) "
            + ", ".join(f"{k} {1000 * v:.3g}" for k, v in learned.min_gap_s.items())
            + "; min duration (ms) "
            + ", ".join(f"{k} {1000 * v:.3g}" for k, v in learned.min_duration_s.items())
            + "; thresholds "
            + ", ".join(f"{k} {v:.2f}" for k, v in learned.thresholds.items())
            + f"; validation{' (optimistic)' if learned.validation.get('optimistic') else ''} "
            f"F1 {s['f1']:.3f}, SER {s['ser']:.4f}"
        )
        print(
            f"  validation (accuracy): post-processed F1 {s['f1']:.4f}, SER {s['ser']:.4f}; "
            f"window macro F1 {validated.macro_f1:.4f}"
        )
        for title, options in (
            ("learned post-processing", {}),
            (
                f"fixed min gap {min_gap_ms:g} ms, min duration {min_duration_ms:g} ms",
                {"min_gap_ms": min_gap_ms, "min_duration_ms": min_duration_ms,
                 "majority_vote": False, "pr_ratio": 1.0},
            ),
        ):  # fmt: skip
            predicted = supervised.ethogram(
                project, "bird", recordings=test, channels=[0], **options
            ).events
            fer = frame_error_rate(reference, predicted, durations_s=durations, step_s=0.001)
            accuracy = segment_accuracy(reference, predicted, step_s=0.001)["correct"].mean()
            ser = overall_error_rate(syllable_error_rates(reference, predicted))
            print(f"  {title}: frame error rate {fer:.4f}; syllable accuracy {accuracy:.4f}; "
                  f"SER {ser:.4f} ({len(predicted)} predicted)")  # fmt: skip
            for tolerance in (0.010, 0.020):
                row = event_scores(reference, predicted, tolerance_s=tolerance)
                row = row[row["label"] == ALL_LABELS].iloc[0]
                print(
                    f"    within {1000 * tolerance:g} ms: P {row['precision']:.3f} R "
                    f"{row['recall']:.3f} F1 {row['f1']:.3f}; mean |onset error| "
                    f"{1000 * row['onset_error_mean_abs_s']:.2f} ms, |offset error| "
                    f"{1000 * row['offset_error_mean_abs_s']:.2f} ms"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fly-steps", type=int, default=600)
    parser.add_argument("--bird-steps", type=int, default=1000)
    parser.add_argument("--min-gap-ms", type=float, default=5.0)
    parser.add_argument("--min-duration-ms", type=float, default=10.0)
    parser.add_argument("--only", choices=("flies", *SONGBIRDS), help="Run one data set only.")
    parser.add_argument("--keep", type=Path, help="Make the projects in this new folder.")
    parser.add_argument(
        "--train-songs",
        type=int,
        help="Songbirds: train on this many recordings, validate on the next one whole.",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="Training seed (also draws the validation split)."
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Network setting for every data set, as for `sonotype train --set`, e.g. "
        "feature_maps=16,32,32,32.",
    )
    args = parser.parse_args()
    network = overrides(args.settings)
    if network:
        print(f"network settings: {network}")
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent: this benchmark needs the shared real recordings")
    np.set_printoptions(precision=3)
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        if args.only in (None, "flies"):
            drosophila(folder, args.fly_steps, network, args.seed)
        for species in SONGBIRDS:
            if args.only in (None, species):
                songbird(
                    folder,
                    species,
                    args.bird_steps,
                    args.min_gap_ms,
                    args.min_duration_ms,
                    train_songs=args.train_songs,
                    network=network,
                    seed=args.seed,
                )


if __name__ == "__main__":
    main()
