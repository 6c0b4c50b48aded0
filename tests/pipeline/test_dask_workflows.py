"""The workflows on a Dask LocalCluster of 2 workers give exactly the local results: detection,
discovery's syllable spectrograms and classification, each through its per-recording stage."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("distributed")
torch = pytest.importorskip("torch")

from sonotype.annotations import concat_events  # noqa: E402
from sonotype.audio import write_audio  # noqa: E402
from sonotype.detect import make_detector  # noqa: E402
from sonotype.models.config import network_config  # noqa: E402
from sonotype.models.settings import TrainSettings  # noqa: E402
from sonotype.pipeline import supervised  # noqa: E402
from sonotype.pipeline.dask_executor import DaskExecutor  # noqa: E402
from sonotype.pipeline.detect import detect_project  # noqa: E402
from sonotype.pipeline.discover import DiscoverConfig, discover  # noqa: E402
from sonotype.pipeline.executors import LocalExecutor  # noqa: E402
from sonotype.store import Project  # noqa: E402
from sonotype.store.config import ComputeSection  # noqa: E402
from sonotype.synth import birdsong, flysong  # noqa: E402

pytestmark = pytest.mark.slow

DASK = ComputeSection(backend="dask", n_workers=2, memory_limit="1500MB")


def _corpus(folder):
    """Three bird recordings and three fly recordings with their true events."""
    tables = []
    for i in range(3):
        y, events = birdsong(4, recording=f"birds/b{i}.wav", random_state=i)
        write_audio(folder / "audio" / "birds" / f"b{i}.wav", y, 32000)
        tables.append(events)
        y, events = flysong(6, recording=f"fly/f{i}.wav", random_state=i)
        write_audio(folder / "audio" / "fly" / f"f{i}.wav", y, 2500)
        tables.append(events)
    with Project.init(folder, audio_roots=[folder / "audio"]) as project:
        project.scan()
        project.add_events(concat_events(tables), command="test", description="truth")


def _run(project, executor):
    birds = [n for n in project.recordings()["path"] if n.startswith("birds/")]
    detected = detect_project(project, make_detector("amplitude"), recordings=birds,
                              executor=executor)  # fmt: skip
    found = discover(project, DiscoverConfig(recordings="birds/*"), until="features",
                     executor=executor)  # fmt: skip
    classified = supervised.classify(project, "fly", recordings=["fly/*"])
    probabilities = {r: np.load(p) for r, p in classified.paths.items()}
    return detected, found, classified, probabilities


def test_dask_gives_the_local_results(tmp_path):
    for side in ("local", "dask"):
        _corpus(tmp_path / side)
    with Project.open(tmp_path / "local") as project:
        supervised.train(
            project,
            "fly",
            labels=["pulse", "sine"],
            background="ambient",
            recordings=["fly/*"],
            network=network_config(conv_layers=2, feature_maps=4, context_ms=40),
            settings=TrainSettings(steps=4, batch_size=8, validate_every=2),
        )
        local = _run(project, LocalExecutor(2))
    # The same model in the other project (classification is keyed by its weights).
    shutil.copytree(
        tmp_path / "local" / "artifacts" / "models" / "fly",
        tmp_path / "dask" / "artifacts" / "models" / "fly",
    )
    with Project.open(tmp_path / "dask") as project, DaskExecutor.from_config(DASK) as executor:
        project.config.compute = DASK  # classify takes its executor from the config
        remote = _run(project, executor)

    (detected, found, classified, probabilities) = local
    (detected_d, found_d, classified_d, probabilities_d) = remote
    assert len(detected.events) > 10
    assert detected_d.events.equals(detected.events)
    assert detected_d.computed == detected.computed == 3
    assert np.array_equal(found_d.spectrograms, found.spectrograms)
    assert classified_d.computed == classified.computed == 3
    assert sorted(probabilities_d) == sorted(probabilities) == ["fly/f0.wav", "fly/f1.wav",
                                                                "fly/f2.wav"]  # fmt: skip
    for recording, p in probabilities.items():
        assert np.array_equal(probabilities_d[recording], p)
