"""Real song: triplet and complex-spectrogram embeddings against flat spectrograms.

Run by hand: ``nice -n 10 python benchmarks/motifs_realdata.py gy6or6|zebra-finch``.

For every human-labelled syllable of the data set (all of them; no subsampling):

- ``flat``: sonotype's default syllable spectrograms (128 x 128, padded time) flattened;
- ``complex-l2``, ``phase-aware``, ``group-delay``, ``instantaneous-frequency``: the features
  of :mod:`sonotype.distances` of each syllable's complex STFT (n_fft 512, hop 128,
  32 frames from its onset, zeros after its offset), whose plain Euclidean (cosine for
  phase-aware) distance is the song_phenotyping distance;
- ``triplet``: the triplet network trained on motifs, with no label seen: the syllables
  are clustered first (k-means, k = 10 fixed in advance, on the first 32 principal
  components of ``flat``), each cluster's motif is found by the matrix profile of its
  syllables' CENS (200 frames/s, 40 ms window, 20 ms smoothing), triplets are sampled in the
  four partitions (200 per cluster, 1 neighbouring cluster, 0.12 s spans, 20 ms shifts) and
  the network (dim 32, channels 16-32-64, 4 epochs x 30 batches x 16 triplets, lr 1e-3) is
  trained on them; each syllable is embedded from its own span. A cluster none of whose
  syllables holds a motif window twice over is skipped (said in the output).

Scores (every setting fixed before any score was seen; nothing tuned on the labels):

- AMI and ARI of k-means (k = the number of human labels, 10 restarts, seed 0) on the first
  32 principal components of each representation (features L2-normalised first for the
  cosine metric, so that k-means' Euclidean distance orders pairs as the cosine does);
- probe accuracy: logistic regression (C = 1, on standardised features reduced to 64
  principal components, both fitted on the training folds only), 5-fold cross-validation
  grouped by recording, so no recording is in both training and test folds; mean and the
  folds' range.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sonotype.annotations import concat_events, iter_annotation_files, read_events
from sonotype.audio import Recording
from sonotype.distances import METRICS, distance_features, event_stfts, feature_metric
from sonotype.errors import ParameterError
from sonotype.features import syllable_spectrograms
from sonotype.motifs.features import CensSettings
from sonotype.motifs.find import label_motifs, motif_table
from sonotype.triplets.extract import embed_events
from sonotype.triplets.frontend import FrontEnd
from sonotype.triplets.sampling import class_segments, sample_triplets
from sonotype.triplets.training import TripletTrainConfig, train_triplets

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FOLDERS = {"gy6or6": "bengalese-finch-gy6or6", "zebra-finch": "zebra-finch-das"}


def load(name: str) -> tuple[Path, pd.DataFrame]:
    folder = DATA / FOLDERS[name]
    if not folder.is_dir():
        sys.exit(f"{folder} is absent")
    tables = [read_events(p, relative_to=folder) for p, _ in iter_annotation_files(folder)]
    events = concat_events(tables)
    events = events[events["stop_s"] > events["start_s"]].reset_index(drop=True)
    return folder, events


def scores(X: np.ndarray, labels: np.ndarray, groups: np.ndarray, *, cosine: bool) -> dict:
    X = X.astype(np.float64)
    if cosine:
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    Z = PCA(min(32, *X.shape), random_state=0).fit_transform(X)
    k = len(np.unique(labels))
    found = KMeans(k, n_init=10, random_state=0).fit_predict(Z)
    accuracies = []
    for train, test in GroupKFold(5).split(X, labels, groups):
        probe = make_pipeline(StandardScaler(), PCA(min(64, len(train) - 1, X.shape[1]),
                                                    random_state=0),
                              LogisticRegression(C=1.0, max_iter=3000))  # fmt: skip
        accuracies.append(probe.fit(X[train], labels[train]).score(X[test], labels[test]))
    return {"ami": adjusted_mutual_info_score(labels, found),
            "ari": adjusted_rand_score(labels, found),
            "probe": float(np.mean(accuracies)), "probe_min": float(np.min(accuracies)),
            "probe_max": float(np.max(accuracies))}  # fmt: skip


def triplet_embedding(folder, events, flat) -> tuple[np.ndarray, float]:
    def open_recording(n):
        return Recording(folder / n)

    Z = PCA(32, random_state=0).fit_transform(flat)
    clusters = KMeans(10, n_init=10, random_state=0).fit_predict(Z)
    clustered = events.assign(label=[f"c{c}" for c in clusters])
    settings = CensSettings(rate_hz=200.0, smooth_s=0.02)
    results = []
    for label, group in clustered.groupby("label"):
        try:
            results.append(label_motifs(group, open_recording, label=label, settings=settings,
                                        window_s=0.04, engine="numpy"))  # fmt: skip
        except ParameterError as error:  # a cluster of syllables too short for a motif
            print(f"  cluster {label} ({len(group)} syllables) skipped: {error}", flush=True)
    triplets = sample_triplets(
        motif_table(results), class_segments(results), open_recording, n_per_class=200,
        n_neighbours=1, shift_s=0.02, clip_s=0.12, cens=settings, random_state=0,
    )  # fmt: skip
    config = TripletTrainConfig(dim=32, epochs=4, batches_per_epoch=30, batch_size=16, lr=1e-3)
    sr = Recording(folder / events["recording"].iloc[0]).sr
    front = FrontEnd(sr=sr, n_fft=512, hop_length=128, n_mels=64, fmin_hz=300.0,
                     fmax_hz=sr / 2)  # fmt: skip
    started = time.perf_counter()
    trained = train_triplets(triplets, open_recording, config=config, front=front,
                             checkpoint=Path("/tmp") / f"triplets-{folder.name}.pt")  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"  triplet losses per epoch: {[round(v, 3) for v in trained.losses]}", flush=True)
    return embed_events(trained, events, open_recording), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", choices=sorted(FOLDERS))
    parser.add_argument("--skip-complex", action="store_true", help="Only flat and triplet.")
    args = parser.parse_args()
    folder, events = load(args.data)
    labels = events["label"].astype(str).to_numpy()
    groups = events["recording"].to_numpy()
    print(f"{args.data}: {len(events)} syllables, {len(np.unique(labels))} labels, "
          f"{len(np.unique(groups))} recordings", flush=True)  # fmt: skip
    rows = {}
    started = time.perf_counter()
    flat = syllable_spectrograms(events, folder).reshape(len(events), -1)
    rows["flat"] = scores(flat, labels, groups, cosine=False) | {
        "seconds": time.perf_counter() - started
    }
    print(f"  flat {rows['flat']}", flush=True)
    started = time.perf_counter()
    specs = event_stfts(events, lambda n: Recording(folder / n), n_fft=512, hop_length=128,
                        n_time=32)  # fmt: skip
    stft_s = time.perf_counter() - started
    for metric in () if args.skip_complex else METRICS:
        started = time.perf_counter()
        X = distance_features(specs, metric=metric)
        rows[metric] = scores(X, labels, groups, cosine=feature_metric(metric) == "cosine")
        rows[metric]["seconds"] = stft_s + time.perf_counter() - started
        print(f"  {metric} {rows[metric]}", flush=True)
    X, train_s = triplet_embedding(folder, events, flat)
    rows["triplet"] = scores(X, labels, groups, cosine=False) | {"seconds": train_s}
    print(f"  triplet {rows['triplet']}", flush=True)
    table = pd.DataFrame(rows).T
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
