"""Cross-validated accuracy, generalisation to new recordings and learning curves on the real
recordings in ``../shared/data`` (the numbers of docs/review.md).

Run by hand, niced: ``nice -n 10 python benchmarks/review_accuracy.py --only fly|bird
[--steps N] [--feature-maps 32] [--batch-size 32] [--k 5] [--replicates 1] [--sizes 0.1,0.25,0.5,1]
[--folder DIR]``.

Drosophila: a model trained like docs/supervised.md's (mel-pulse and mel-sine with the
``not_`` annotations as negatives, overlapped loss, ``ambient`` ignored, volume_db=10) on
both recordings; then ``xval``, ``generalize --omit one`` (each recording withheld in turn)
and ``learncurve``. Bengalese finch gy6or6: all 10 songs, every syllable label and the
unannotated time as ``background`` (exclusive loss, volume_db=6); ``xval``, ``generalize
--omit some --k K`` (whole songs withheld, K folds of them) and ``learncurve``. Each review command
trains networks with the model's own recipe; prints every summary as JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sonotype.models.config import network_config
from sonotype.models.settings import TrainSettings
from sonotype.pipeline import supervised
from sonotype.pipeline.executors import LocalExecutor
from sonotype.pipeline.generalize import generalize
from sonotype.pipeline.learncurve import learncurve
from sonotype.pipeline.xval import xval
from sonotype.store import Project

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def show(title: str, result, started: float) -> None:
    summary = dict(result.summary)
    summary.pop("config", None)
    print(f"\n== {title} ({time.perf_counter() - started:.0f} s)")
    print(json.dumps(summary, indent=1, default=str))
    print(result.tasks.drop(columns=["validation"], errors="ignore").to_string(index=False))
    print(result.confusion.to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["fly", "bird"], required=True)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument(
        "--model-steps",
        type=int,
        default=None,
        help="train the model itself for this many steps (default: --steps); the review "
        "commands train theirs for --steps",
    )
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--replicates", type=int, default=1)
    parser.add_argument("--sizes", default="0.1,0.25,0.5,1")
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--feature-maps", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="pin torch to this many threads and run tasks one at a time in this process "
        "(0: as sonotype chooses); on a shared, busy machine one thread avoids thrashing",
    )
    parser.add_argument("--skip", default="", help="comma-separated: xval,generalize,learncurve")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="review-"))
    executor = None
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
        torch.set_num_threads = lambda n: None  # training asks for every core; keep the pin
        executor = LocalExecutor(1)
    skip = set(filter(None, args.skip.split(",")))
    if args.only == "fly":
        data, pattern, steps = DATA / "drosophila-songexplorer", "*.csv", args.steps or 600
        train = dict(
            labels=["mel-pulse", "mel-sine"],
            ignore_labels=["ambient"],
            network=network_config(
                loss="overlapped", volume_db=10.0, feature_maps=args.feature_maps
            ),
        )
        omit = dict(omit="one")
    else:
        data, pattern, steps = DATA / "bengalese-finch-gy6or6", "*.not.mat", args.steps or 300
        train = dict(
            labels=list("abcdefghijk"),
            background="background",
            network=network_config(volume_db=6.0, feature_maps=args.feature_maps),
        )
        omit = dict(omit="some", k=args.k)
    target = folder / args.only
    existing = (target / "sonotype.toml").is_file()
    project = Project.open(target) if existing else Project.init(target, audio_roots=[data])
    with project:
        if not existing:
            project.scan()
            project.import_files(sorted(data.glob(pattern)))
        started = time.perf_counter()
        settings = TrainSettings(steps=args.model_steps or steps, batch_size=args.batch_size)
        outcome = supervised.train(project, "m", settings=settings, overwrite=True, **train)
        counts = outcome.examples.groupby("label").size().to_dict()
        print(f"model m: {settings.steps} steps in {outcome.model.training['seconds']} s; {counts}")
        if "xval" not in skip:
            started = time.perf_counter()
            result = xval(
                project,
                "m",
                k=args.k,
                replicates=args.replicates,
                steps=steps,
                executor=executor,
            )
            show(f"xval k={args.k}", result, started)
        if "generalize" not in skip:
            started = time.perf_counter()
            show(
                f"generalize {omit}",
                generalize(project, "m", steps=steps, executor=executor, **omit),
                started,
            )
        if "learncurve" not in skip:
            started = time.perf_counter()
            sizes = [float(s) for s in args.sizes.split(",")]
            show(
                f"learncurve {sizes}",
                learncurve(
                    project,
                    "m",
                    sizes=sizes,
                    replicates=args.replicates,
                    steps=steps,
                    executor=executor,
                ),
                started,
            )
    print(f"\nproject: {target}")


if __name__ == "__main__":
    main()
