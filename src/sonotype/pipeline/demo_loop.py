"""One round of the review loop on the demo's birds, where the right answers are known.

A known fraction of the training songs' syllables get a wrong label (seeded; another type
of the same bird, the confusion a tired annotator makes), stored as the annotations of
source ``noisy``. A network learns from them; ``mistakes`` classifies every annotated
syllable by cross-validation and stores the disagreements; the demo then plays the reviewer,
accepting each suggestion scored at least :data:`MIN_SCORE` with
:func:`sonotype.store.event_edits.relabel` on the annotations' ids (what ``sonotype events
relabel --ids`` does), and trains again. Both networks label the true syllables of songs
they never saw, scored against the synthetic truth, not against the corrupted labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sonotype.store import Project

#: The source of the corrupted annotations, and the models trained before and after review.
SOURCE = "noisy"
BEFORE, AFTER = "birds-noisy", "birds-reviewed"
#: The fraction of training syllables given a wrong label.
ERROR_RATE = 0.2
#: The reviewer accepts a suggested label scored at least this (a fixed choice, never
#: tuned on the held-out songs: a majority probability among eleven labels).
MIN_SCORE = 0.5
#: Folds of the cross-validation behind ``mistakes``.
FOLDS = 3
#: The song of each bird held out from training and review, to score on.
HELD_OUT = "song_03.wav"
#: A tiny network and few steps: the loop trains FOLDS + 2 networks, on two CPU cores.
STEPS = 150
NETWORK = {"conv_layers": 2, "feature_maps": 8, "context_ms": 51.2, "dropout": 0.0}
BATCH_SIZE = 32


@dataclass(frozen=True)
class LoopResult:
    """What one round of the loop did and scored.

    Attributes
    ----------
    n_events, n_planted : int
        Training syllables, and those given a wrong label.
    n_mistaken : int
        Syllables ``mistakes`` flagged; ``n_found`` of them were planted errors.
    n_relabelled, n_fixed : int
        Suggestions the reviewer accepted, and those that restored the true label.
    before, after : float
        Accuracy of the networks trained before and after review on the held-out songs'
        true syllables, against the truth.
    n_test : int
        Those held-out syllables.
    """

    n_events: int
    n_planted: int
    n_mistaken: int
    n_found: int
    n_relabelled: int
    n_fixed: int
    before: float
    after: float
    n_test: int

    @property
    def precision(self) -> float:
        """Of the flagged syllables, the fraction that were planted errors."""
        return self.n_found / self.n_mistaken if self.n_mistaken else float("nan")

    @property
    def recall(self) -> float:
        """Of the planted errors, the fraction flagged."""
        return self.n_found / self.n_planted if self.n_planted else float("nan")

    def table(self) -> pd.DataFrame:
        """The round's numbers, one row per measure, for the CLI and the report."""
        rows = [
            ("training syllables", self.n_events),
            (f"wrong labels planted ({ERROR_RATE:.0%})", self.n_planted),
            (f"flagged by mistakes ({FOLDS}-fold)", self.n_mistaken),
            ("planted errors among them", self.n_found),
            ("precision of mistakes", self.precision),
            ("recall of mistakes", self.recall),
            (f"relabelled (score >= {MIN_SCORE:g})", self.n_relabelled),
            ("relabelled to the true label", self.n_fixed),
            (f"accuracy before review ({self.n_test} held-out syllables)", self.before),
            ("accuracy after review", self.after),
        ]
        # object values, so that counts stay integers beside the fractions
        measures, values = zip(*rows, strict=True)
        return pd.DataFrame({"measure": measures, "value": pd.Series(values, dtype=object)})


def plant_errors(
    truth: pd.DataFrame, *, rate: float, random_state: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """A copy of ``truth`` with ``rate`` of its events relabelled to another label of the
    same bird (the recording's parent folder), and the mask of those events.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> truth = make_events(["b/x.wav"] * 4, [0, 1, 2, 3], [0.5, 1.5, 2.5, 3.5], list("abab"))
    >>> noisy, planted = plant_errors(truth, rate=0.5, random_state=0)
    >>> int(planted.sum()), bool((noisy["label"] != truth["label"]).eq(planted).all())
    (2, True)
    """
    rng = np.random.default_rng(random_state)
    noisy = truth.reset_index(drop=True).copy()
    bird = noisy["recording"].astype(str).str.rpartition("/")[0]
    n = round(rate * len(noisy))
    chosen = rng.choice(len(noisy), size=n, replace=False)
    labels = noisy["label"].astype(str).to_numpy(copy=True)
    for i in chosen:
        others = sorted(set(labels[(bird == bird[i]).to_numpy()]) - {labels[i]})
        labels[i] = rng.choice(others)
    noisy["label"] = labels
    planted = np.zeros(len(noisy), bool)
    planted[chosen] = True
    return noisy, planted


def run_loop(
    project: Project,
    truth: pd.DataFrame,
    *,
    random_state: int = 0,
    step: Callable[[str], None] | None = None,
) -> LoopResult:
    """Plant errors in the birds' training songs, train, find the mistakes, relabel,
    retrain and score both networks on the held-out songs (see the module)."""
    from sonotype.pipeline.mistakes import ANNOTATED, mistakes
    from sonotype.store import event_edits

    step = step or (lambda description: None)
    birds = truth[truth["recording"].str.startswith("birds/")].reset_index(drop=True)
    held_out = birds["recording"].str.endswith("/" + HELD_OUT)
    train_truth, test_truth = birds[~held_out], birds[held_out]
    if train_truth.empty or test_truth.empty:
        raise ValueError(f"the demo's birds need songs besides {HELD_OUT} and {HELD_OUT} itself")
    step(f"planting wrong labels in {ERROR_RATE:.0%} of the birds' training syllables")
    noisy, planted = plant_errors(train_truth, rate=ERROR_RATE, random_state=random_state)
    project.add_events(
        noisy[["recording", "start_s", "stop_s", "label", "channel"]].assign(
            kind="annotated", source=SOURCE
        ),
        command="demo",
        description=f"the birds' annotations with {int(planted.sum())} wrong labels planted",
        replace={"kinds": ["annotated"], "sources": [SOURCE]},
    )
    labels = sorted(set(birds["label"]))
    recordings = sorted(set(train_truth["recording"]))
    step("training a network on the corrupted labels")
    _train(project, BEFORE, labels, recordings, random_state)
    before = _held_out_accuracy(project, BEFORE, test_truth)
    step(f"looking for mistakes ({FOLDS}-fold cross-validation)")
    found = mistakes(project, BEFORE, k=FOLDS, seed=random_state).mistakes
    keys = ["recording", "start_s", "stop_s"]
    stored = project.events(kinds=["annotated"], sources=[SOURCE], with_ids=True)
    stored = stored.reset_index(names="id").merge(
        noisy[keys].assign(planted=planted, true=train_truth["label"].to_numpy()), on=keys
    )
    flagged = found.merge(stored, on=keys, suffixes=("", ":stored"))
    # Each mistaken event is one annotated syllable: its annotated label must be the stored one.
    flagged = flagged[flagged[f"label:{ANNOTATED}"] == flagged["label:stored"]]
    n_found = int(flagged["planted"].sum())
    step("relabelling the confident mistakes (as `sonotype events relabel --ids`)")
    accepted = flagged[flagged["score"] >= MIN_SCORE]
    for to, group in accepted.groupby("label"):
        event_edits.relabel(project.db, event_edits.Selection(ids=group["id"].tolist()), str(to))
    n_fixed = int((accepted["label"] == accepted["true"]).sum())
    step("training again on the reviewed labels")
    _train(project, AFTER, labels, recordings, random_state)
    after = _held_out_accuracy(project, AFTER, test_truth)
    return LoopResult(
        n_events=len(noisy),
        n_planted=int(planted.sum()),
        n_mistaken=len(found),
        n_found=n_found,
        n_relabelled=len(accepted),
        n_fixed=n_fixed,
        before=before,
        after=after,
        n_test=len(test_truth),
    )


def _train(
    project: Project, name: str, labels: list[str], recordings: list[str], random_state: int
) -> None:
    from sonotype.models.config import network_config
    from sonotype.models.settings import TrainSettings
    from sonotype.pipeline import supervised

    supervised.train(
        project,
        name,
        labels=labels,
        network=network_config(**NETWORK),
        settings=TrainSettings(steps=STEPS, batch_size=BATCH_SIZE, random_state=random_state),
        sources=[SOURCE],
        recordings=recordings,
        validate_percent=20,
        overwrite=True,
    )


def _held_out_accuracy(project: Project, name: str, truth: pd.DataFrame) -> float:
    """The fraction of ``truth``'s syllables that model ``name`` labels as the truth does."""
    from sonotype.audio import Recording
    from sonotype.models.groundtruth import select_examples
    from sonotype.pipeline.model_store import load_model
    from sonotype.pipeline.xval_stage import classify_examples, decide

    model = load_model(project, name)
    examples = select_examples(truth, labels=model.labels, loss=model.config.loss)
    probabilities = classify_examples(
        model.network(),
        examples,
        lambda recording: Recording(project.recording_path(recording)),
        model=model,
    )
    predicted, _ = decide(
        examples["label"].to_numpy(str), probabilities, model.labels, loss=model.config.loss
    )
    return float(np.mean(predicted == examples["label"].to_numpy(str)))
