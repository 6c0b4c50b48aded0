"""Autoencoder against flat (and PCA) embeddings on real birdsong: clustering and probes.

For docs/representations.md. Per data set (Bengalese finch gy6or6, zebra finch), the
syllables' spectrograms are made with discovery's defaults (64 x 64, stretch, linear, full
band). Recordings are split in two: zebra finch by its own train/ and test/ folders;
gy6or6 by alternating recordings in name order (even positions train). The autoencoder
(conv-small, 32 latent channels, the default denoising regime, 30 epochs, seed 0, the
package defaults: nothing was tuned) learns from the training recordings' syllables only,
without labels; torch uses 2 threads and its training time is printed.

- Clustering: discovery's UMAP grid and HDBSCAN grid (the "small" grid) on every syllable,
  the clustering ranked first by the composite score (which never sees the labels), scored
  with AMI and ARI against the human labels.
- Probe: standardised features, scikit-learn's LogisticRegression (default C=1, not
  tuned) fitted on the training recordings, accuracy on the test recordings.

Run: ``nice -n 10 python benchmarks/autoencoder_representations.py [--epochs N] [--size S]``
(docs/representations.md's table: ``--epochs 15 --size 32``, on a shared machine).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sonotype.annotations import concat_events, iter_annotation_files, read_events
from sonotype.autoencoder.config import autoencoder_config
from sonotype.autoencoder.pooling import pool_latent
from sonotype.autoencoder.training import encode, fit_autoencoder
from sonotype.embed import make_embedder
from sonotype.features import SpectrogramParams, syllable_spectrograms

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def load(name: str, size: int = 64):
    folder = DATA / name
    if name == "zebra-finch-das":
        files = sorted(folder.glob("train/*.csv")) + sorted(folder.glob("test/*.csv"))
        events = concat_events([read_events(p, relative_to=folder) for p in files])
        train = events["recording"].str.startswith("train/").to_numpy()
    else:
        tables = [read_events(p, relative_to=folder) for p, _ in iter_annotation_files(folder)]
        events = concat_events(tables)
        names = sorted(events["recording"].unique())
        train = events["recording"].isin(names[::2]).to_numpy()
    params = SpectrogramParams(n_freq=size, n_time=size, time_mode="stretch")
    specs = syllable_spectrograms(events, folder, params=params)
    return events, specs, train


def clustering_scores(embedding: np.ndarray, events) -> dict:
    from sonotype.cluster import best_clustering, hdbscan_grid
    from sonotype.pipeline.discover_config import GRIDS
    from sonotype.reduce import umap_grid

    grid = GRIDS["small"]
    truth = events["label"].to_numpy()
    reductions = umap_grid(embedding, n_neighbors=grid["n_neighbors"], min_dist=grid["min_dist"],
                           random_state=0, groups=events["recording"].factorize()[0])  # fmt: skip
    clusterings = {
        r.name: hdbscan_grid(r.coords, min_cluster_size=grid["min_cluster_size"],
                             min_samples=grid["min_samples"], true_labels=truth[r.indices],
                             random_state=0)
        for r in reductions
    }  # fmt: skip
    _, best = best_clustering(clusterings)
    return {"ami": best.scores["ami"], "ari": best.scores["ari"], "clusters": best.n_clusters}


def probe(embedding: np.ndarray, events, train: np.ndarray) -> float:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    labels = events["label"].to_numpy()
    model.fit(embedding[train], labels[train])
    return float(model.score(embedding[~train], labels[~train]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--size", type=int, default=64, help="spectrogram rows and columns")
    parser.add_argument("--datasets", default="bengalese-finch-gy6or6,zebra-finch-das")
    args = parser.parse_args()
    torch.set_num_threads(2)
    for name in args.datasets.split(","):
        events, specs, train = load(name, args.size)
        print(f"\n{name}: {len(events)} syllables, {events['label'].nunique()} labels, "
              f"{train.sum()} train / {(~train).sum()} test ({events['recording'].nunique()} "
              "recordings)", flush=True)  # fmt: skip
        config = autoencoder_config(epochs=args.epochs)
        started, cpu = time.perf_counter(), time.process_time()
        fitted = fit_autoencoder(specs[train], config)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        # On a shared machine the wall time is inflated by others' work; the CPU time over
        # 2 threads is what an idle 2-core machine would take, about.
        print(f"autoencoder conv-small: {seconds:.1f} s wall, {cpu:.1f} s CPU on 2 threads "
              f"(about {cpu / 2:.0f} s on an idle 2-core machine), {config.epochs} epochs, "
              f"best epoch {fitted.best_epoch}, validation MSE "
              f"{min(r['validation_loss'] for r in fitted.curve):.5f}", flush=True)  # fmt: skip
        embeddings = {
            "flat": make_embedder("flat").fit_transform(specs),
            "pca32": make_embedder("pca", n_components=32).fit_transform(specs),
            "autoencoder": pool_latent(encode(fitted.network, specs), edge_cut=config.edge_cut),
        }
        print("| embedding | dimensions | AMI | ARI | clusters | probe accuracy |")
        for label, embedding in embeddings.items():
            scores = clustering_scores(embedding, events)
            accuracy = probe(embedding, events, train)
            print(f"| {label} | {embedding.shape[1]} | {scores['ami']:.3f} | {scores['ari']:.3f} "
                  f"| {scores['clusters']} | {accuracy:.3f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
