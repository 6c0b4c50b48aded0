"""Projects with embedding sets for the probe, comparison and search tests (no tests here).

Four synthetic birdsong recordings (one bird's repertoire of 3 syllable types) in two folders,
named with AudioMoth time stamps, their syllables stored as annotations (source ``truth``),
and embedding sets made from them:

- ``win``: windows of 0.1 s every 0.05 s; each vector is the one-hot code of the window's
  overlap label (background included) times ``signal`` plus unit Gaussian noise, in 16-d;
- ``noise``: the same windows, pure noise;
- ``syl-flat``: the annotated syllables, embedded with the ``flat`` embedder on their
  32 x 32 spectrograms (a real embedder on real-looking sound).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sonotype.annotations.events import concat_events, make_events
from sonotype.audio import write_audio
from sonotype.embeddings.labels import overlap_labels
from sonotype.embeddings.sets import EmbeddingSet, save_embedding_set
from sonotype.store import Project
from sonotype.synth import birdsong, syllable_types

SR = 16000
NAMES = (
    "siteA/20240611_063000.wav",
    "siteA/20240612_190000.wav",
    "siteB/20241211_063000.wav",
    "siteB/20241212_190000.wav",
)
CLASSES = ("a", "b", "background", "c")


def windows(recordings, duration_s: float, *, window_s=0.1, hop_s=0.05) -> pd.DataFrame:
    starts = np.arange(0, duration_s - window_s + 1e-9, hop_s)
    return concat_events(
        [
            make_events(name, starts, starts + window_s, "", kind="window", source="test")
            for name in recordings
        ]
    )


def window_vectors(rows, annotations, *, signal: float, seed: int, d: int = 16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = overlap_labels(rows, annotations)
    X = rng.normal(size=(len(rows), d))
    for i, name in enumerate(CLASSES):
        X[labels == name, i] += signal
    return X.astype(np.float32)


def make_project(folder, *, duration_s: float = 6.0, flat: bool = True) -> Project:
    """A scanned project with the recordings, annotations and sets described above."""
    rng = np.random.default_rng(7)
    types = syllable_types(3, sr=SR, rng=rng)
    tables = []
    for i, name in enumerate(NAMES):
        y, events = birdsong(
            duration_s, sr=SR, types=types, recording=name, random_state=i, snr_db=25
        )
        write_audio(folder / "audio" / name, y, SR)
        tables.append(events)
    project = Project.init(folder)
    project.scan()
    truth = concat_events(tables).assign(source="truth")
    project.add_events(truth, command="test", description="truth")
    rows = windows(NAMES, duration_s)
    save_embedding_set(folder, EmbeddingSet(
        "win", "onehot", "windows", rows, window_vectors(rows, truth, signal=4, seed=1),
        {"seconds": 1.5}))  # fmt: skip
    save_embedding_set(folder, EmbeddingSet(
        "noise", "noise", "windows", rows, window_vectors(rows, truth, signal=0, seed=2),
        {"seconds": 0.5}))  # fmt: skip
    if flat:
        from sonotype.embed import make_embedder
        from sonotype.features.spectrograms import SpectrogramParams, syllable_spectrograms

        stored = project.events(sources=["truth"])
        specs = syllable_spectrograms(
            stored, folder / "audio", params=SpectrogramParams(n_freq=32, n_time=32)
        )
        vectors = make_embedder("flat", downsample=2).fit_transform(specs)
        save_embedding_set(folder, EmbeddingSet("syl-flat", "flat", "events", stored, vectors))
    return project
