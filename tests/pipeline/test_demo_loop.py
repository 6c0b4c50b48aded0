"""One round of the review loop on the demo's birds: planted errors found, score improved."""

import numpy as np
import pytest

from sonotype.pipeline import demo_loop
from sonotype.pipeline.demo_loop import plant_errors, run_loop
from sonotype.store import Project
from sonotype.synth.dataset import write_demo_dataset


def test_plant_errors_relabels_the_fraction_within_each_bird(tmp_path):
    truth = write_demo_dataset(tmp_path / "d", song_s=5.0, fly_s=2.0).truth
    birds = truth[truth["recording"].str.startswith("birds/")].reset_index(drop=True)
    noisy, planted = plant_errors(birds, rate=0.2, random_state=3)
    assert planted.sum() == round(0.2 * len(birds))
    changed = noisy["label"] != birds["label"]
    assert (changed.to_numpy() == planted).all()
    bird = birds["recording"].str.rpartition("/")[0]
    for b in set(bird):
        assert set(noisy["label"][bird == b]) <= set(birds["label"][bird == b])
    again, same = plant_errors(birds, rate=0.2, random_state=3)
    assert (again["label"] == noisy["label"]).all() and (same == planted).all()


@pytest.mark.slow
def test_the_loop_finds_planted_errors_and_improves_the_held_out_score(tmp_path):
    pytest.importorskip("torch")
    data = write_demo_dataset(tmp_path / "d", song_s=12.0, fly_s=2.0, random_state=1)
    with Project.init(data.folder, audio_roots=[data.audio_root]) as project:
        project.scan()
        result = run_loop(project, data.truth, random_state=1)
        stored = project.events(kinds=["annotated"], sources=[demo_loop.SOURCE])
    assert result.n_planted == round(demo_loop.ERROR_RATE * result.n_events)
    assert result.recall >= 0.5
    assert result.precision >= 0.5
    assert result.n_fixed > result.n_relabelled / 2
    assert result.after > result.before
    assert len(stored) == result.n_events
    assert np.isfinite([result.before, result.after]).all()
