"""A small synthetic project for the app's tests: two birdsong recordings (one with a video
file beside it), their annotated syllables, predicted events to review, and an embedding set
whose points cluster by syllable type."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from sonotype.embeddings.sets import EmbeddingSet, save_embedding_set
from sonotype.store.project import Project
from sonotype.synth import birdsong, syllable_types

SR = 32000
DURATION_S = 6.0


def make_project(folder: Path, *, seed: int = 0) -> Path:
    """Create the project in ``folder``; return the folder."""
    rng = np.random.default_rng(seed)
    audio = folder / "audio"
    audio.mkdir(parents=True)
    types = syllable_types(4, sr=SR, rng=rng)
    truths = []
    for i in range(2):
        name = f"song_{i + 1}.wav"
        y, truth = birdsong(DURATION_S, sr=SR, types=types, recording=name, random_state=seed + i)
        sf.write(audio / name, y, SR)
        truths.append(truth)
    (audio / "song_1.webm").write_bytes(b"\x1a\x45\xdf\xa3")  # a (tiny) video beside song 1
    project = Project.init(folder, audio_roots=[audio])
    with project:
        project.scan()
        truth = pd.concat(truths, ignore_index=True).assign(kind="annotated", source="truth")
        project.add_events(truth, command="test", description="truth")
        predicted = truth.iloc[::3].assign(
            kind="predicted",
            source="model",
            start_s=lambda t: t["start_s"] + 0.002,
            score=rng.uniform(0.5, 1, len(truth.iloc[::3])),
        )
        project.add_events(predicted, command="test", description="predicted")
        detected = truth.assign(kind="detected", source="amplitude", label="syllable")
        project.add_events(detected, command="test", description="detected")
        labels = pd.factorize(truth["label"])[0]
        centres = rng.normal(0, 10, (labels.max() + 1, 8))
        vectors = (centres[labels] + rng.normal(0, 1, (len(labels), 8))).astype(np.float32)
        save_embedding_set(
            folder,
            EmbeddingSet("syllables", "test", "events", detected.reset_index(drop=True), vectors),
        )
    return folder
