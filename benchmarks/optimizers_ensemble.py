"""Optimizers, schedules and their ensemble on real fly song.

Run by hand: ``python benchmarks/optimizers_ensemble.py [--steps 150]``.

Drosophila (SongExplorer's sparse annotations, 2.5 kHz; see ``supervised_accuracy.py``): the
recipe of ``supervised_accuracy.py`` (overlapped loss, ``volume_db=10``, 20% of the events for
validation, ``ambient`` ignored), trained on one recording with each optimizer and schedule
below at the same learning rate, few steps (so that the networks are not all perfect), then
the ensemble of the three; each classifies the other recording, thresholded at 0.5 (no
``accuracy``: nothing is chosen on any data), scored sparsely as there. Both directions.
Settings were not tuned on the test recording: the learning rate is the default for Adam(W)
and ten times it for SGD (SGD's customary scale), fixed before running.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sonotype.evaluate import sparse_scores
from sonotype.models.config import network_config
from sonotype.models.settings import TrainSettings
from sonotype.pipeline import supervised
from sonotype.pipeline.ensemble import ensemble

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "drosophila-songexplorer"
FLIES = ("20161207T102314_ch1.wav", "PS_20130625111709_ch3.wav")
RECIPES = {
    "adam-constant": dict(optimizer="adam", schedule="constant", learning_rate=1e-3),
    "adamw-cosine": dict(optimizer="adamw", schedule="cosine", learning_rate=1e-3),
    "sgd-one-cycle": dict(optimizer="sgd", schedule="one-cycle", learning_rate=1e-2),
}


def scores(project, name: str, test_on: str) -> str:
    predicted = supervised.ethogram(project, name, recordings=[test_on]).events
    reference = project.events(kinds=["annotated"], recordings=[test_on])
    parts = []
    for label in ("mel-pulse", "mel-sine"):
        s = sparse_scores(reference, predicted, label=label,
                          negatives=[f"not_{label}", "ambient"], tolerance_s=0.005)  # fmt: skip
        parts.append(f"{label} P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f}")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    from sonotype.store import Project

    with tempfile.TemporaryDirectory() as tmp:
        project = Project.init(Path(tmp), audio_roots=[DATA])
        project.scan()
        project.import_files(sorted(DATA.glob("*.csv")))
        with project:
            for train_on, test_on in (FLIES, FLIES[::-1]):
                print(f"\ntrained on {train_on} ({args.steps} steps), tested on {test_on}")
                names = []
                for recipe, settings in RECIPES.items():
                    name = f"{recipe}-{train_on[:6]}"
                    outcome = supervised.train(
                        project, name, labels=["mel-pulse", "mel-sine"],
                        ignore_labels=["ambient"],
                        network=network_config(loss="overlapped", volume_db=10.0),
                        settings=TrainSettings(steps=args.steps, **settings),
                        recordings=[train_on], validate_percent=20,
                    )  # fmt: skip
                    curve = outcome.model.learning_curve()
                    print(f"  {recipe:14s} {outcome.model.training['seconds']:5.1f} s, best "
                          f"validation macro F1 {curve['macro_f1'].max():.3f}; "
                          f"{scores(project, name, test_on)}")  # fmt: skip
                    names.append(name)
                ensemble(project, names, name=f"ensemble-{train_on[:6]}")
                print(f"  {'ensemble':14s} of the three: "
                      f"{scores(project, f'ensemble-{train_on[:6]}', test_on)}")  # fmt: skip


if __name__ == "__main__":
    main()
