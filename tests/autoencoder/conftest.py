"""A small project of synthetic birdsong with its syllables stored as annotated events."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from sonotype.audio import write_audio
from sonotype.store import Project
from sonotype.synth import birdsong, syllable_types

SR = 16000

# The autoencoders need the torch extra; without it their tests are not collected.
if importlib.util.find_spec("torch") is None:
    collect_ignore_glob = ["test_*.py"]


def make_project(folder, *, seed: int = 3, n_recordings: int = 2, duration_s: float = 8.0):
    rng = np.random.default_rng(seed)
    types = syllable_types(4, sr=SR, rng=rng)
    with Project.init(folder) as project:
        for i in range(n_recordings):
            y, events = birdsong(duration_s, sr=SR, types=types, recording=f"song{i}.wav",
                                 random_state=rng)  # fmt: skip
            write_audio(folder / "audio" / f"song{i}.wav", y, SR)
            project.scan()
            project.add_events(events, command="test", description="truth")
    return folder


@pytest.fixture
def project_dir(tmp_path):
    return make_project(tmp_path / "project")
