"""Benchmark: how well each embedder keeps real syllable types together (gy6or6).

Run by hand: ``python benchmarks/embed_syllables.py [--models birdnet,pca,flat,features]``.

Data: ``../shared/data/bengalese-finch-gy6or6`` (10 songs of one Bengalese finch, 601
syllables labelled a-k by a person), imported into a temporary project; every annotated
syllable embedded with ``sonotype.embeddings.embed_project`` (pretrained models see the
model's window centred on the syllable; syllable embedders its stretched spectrogram).

Scores, with nothing tuned (every setting is fixed before looking at the data):

Pretrained models hear each syllable alone, zero-padded to their window (``--pad zeros``, the
default) or in its context (``--pad audio``).

- k-NN accuracy: a 5-nearest-neighbour vote (cosine distance) in the embedding, with
  leave-one-song-out cross-validation (GroupKFold over the 10 recordings): how well the
  embedding alone identifies a syllable's type in a song it has not seen;
- AMI and ARI of discovery's clustering on the set (``sonotype cluster --embedding``: the
  small UMAP x HDBSCAN grid, the best clustering by discovery's label-free composite score)
  against the human labels.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bengalese-finch-gy6or6"


def knn_by_recording(vectors, labels, groups, *, k: int = 5) -> float:
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    folds = GroupKFold(n_splits=len(set(groups)))
    vote = KNeighborsClassifier(k, metric="cosine")
    return float(cross_val_score(vote, vectors, labels, groups=groups, cv=folds).mean())


def main() -> None:
    from sonotype.embeddings.embed import embed_project
    from sonotype.pipeline.discover import DiscoverConfig, discover
    from sonotype.pipeline.executors import LocalExecutor
    from sonotype.store import Project

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="birdnet,pca,flat,features")
    parser.add_argument("--no-cluster", action="store_true")
    parser.add_argument("--pad", default="zeros", choices=("zeros", "audio"))
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent: this benchmark needs the shared data")
    with (
        tempfile.TemporaryDirectory() as tmp,
        Project.init(Path(tmp) / "p", audio_roots=[DATA]) as project,
    ):
        project.scan()
        project.import_files(sorted(DATA.glob("*.not.mat")), source="human")
        print(f"gy6or6: {len(project.events(kinds=['annotated']))} syllables, 10 songs")
        print(f"pad: {args.pad}")
        print(f"{'model':>10} {'dims':>5} {'k-NN acc':>9} {'AMI':>6} {'ARI':>6} {'embed s':>8}")
        for model in args.models.split(","):
            started = time.perf_counter()
            outcome = embed_project(
                project,
                model,
                kind="annotated",
                name=f"gy-{model}-{args.pad}",
                pad=args.pad,
                executor=LocalExecutor(2),
            )
            seconds = time.perf_counter() - started
            embedding = outcome.embedding
            labels = embedding.events["label"].to_numpy()
            groups = embedding.events["recording"].to_numpy()
            accuracy = knn_by_recording(np.asarray(embedding.vectors), labels, groups)
            ami = ari = float("nan")
            if not args.no_cluster:
                name = f"gy-{model}-{args.pad}"
                config = DiscoverConfig(name=name, embedding=name)
                best = discover(
                    project, config, until="cluster", executor=LocalExecutor(1)
                ).summary.iloc[0]
                ami, ari = best["ami"], best["ari"]
            print(
                f"{model:>10} {embedding.dimensions:>5} {accuracy:>9.3f} {ami:>6.3f} "
                f"{ari:>6.3f} {seconds:>8.1f}"
            )


if __name__ == "__main__":
    main()
