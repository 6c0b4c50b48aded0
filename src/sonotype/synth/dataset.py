"""The demo data set: synthetic birds and flies written to disk with their ground truth."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError
from sonotype.synth.birdsong import birdsong, syllable_types
from sonotype.synth.flysong import flysong

#: Marks a folder as written by :func:`write_demo_dataset`, so a re-run may replace it.
MARKER = ".sonotype-demo"


@dataclass(frozen=True)
class DemoDataset:
    """Where the demo data went and what it holds."""

    folder: Path
    audio_root: Path
    recordings: list[str]
    truth: pd.DataFrame
    annotation_files: list[Path]


def write_demo_dataset(
    folder: str | os.PathLike[str],
    *,
    n_birds: int = 2,
    songs_per_bird: int = 3,
    song_s: float = 20.0,
    n_flies: int = 2,
    fly_s: float = 60.0,
    random_state: int = 0,
) -> DemoDataset:
    """Write synthetic songbird and fly recordings and their exact annotations.

    Layout::

        FOLDER/audio/birds/bird1/song_01.wav ...   32 kHz, one repertoire per bird
        FOLDER/audio/flies/fly_01.wav ...          2500 Hz pulse and sine song
        FOLDER/audio/flies/fly_01.wav-annotated-truth.csv   SongExplorer format
        FOLDER/annotations/truth.csv               every event (simple-csv), recordings
                                                   relative to FOLDER/audio

    A folder that exists, is not empty and was not written by this function is refused,
    so the demo never overwrites a user's files.
    """
    from sonotype.annotations import concat_events, write_events
    from sonotype.audio import write_audio

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise ParameterError(
                f"{str(folder)!r} exists and is not a sonotype demo folder; "
                "choose an empty or new folder for the demo"
            )
        shutil.rmtree(folder)
    audio_root = folder / "audio"
    audio_root.mkdir(parents=True)
    (folder / MARKER).write_text("written by `sonotype demo`; safe to delete\n")

    rng = np.random.default_rng(random_state)
    tables, annotation_files = [], []
    # Each bird sings its own types (a-e, f-k, ...), drawn from one pool so no two birds
    # share a sound under different names.
    sizes = [4 + b for b in range(1, n_birds + 1)]
    pool = syllable_types(sum(sizes), sr=32000, rng=rng)
    first = 0
    for b, size in enumerate(sizes, start=1):
        repertoire, first = pool[first : first + size], first + size
        for s in range(1, songs_per_bird + 1):
            name = f"birds/bird{b}/song_{s:02d}.wav"
            y, events = birdsong(song_s, types=repertoire, recording=name, random_state=rng)
            write_audio(audio_root / name, y, 32000)
            tables.append(events)
    for f in range(1, n_flies + 1):
        name = f"flies/fly_{f:02d}.wav"
        y, events = flysong(fly_s, recording=name, random_state=rng)
        write_audio(audio_root / name, y, 2500)
        tables.append(events)
        annotation_files += write_events(
            events.assign(recording=Path(name).name),
            audio_root / f"{name}-annotated-truth.csv",
            format="songexplorer",
            sr=2500,
        )
    truth = concat_events(tables)
    annotation_files += write_events(truth, folder / "annotations" / "truth.csv")
    recordings = list(dict.fromkeys(truth["recording"]))
    return DemoDataset(folder, audio_root, recordings, truth, annotation_files)
