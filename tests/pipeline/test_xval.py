"""Cross-validation of a model's recipe: every example is tested once per replicate by a
network that never trained on it, tasks are cached stage tasks, the report is written."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sonotype.annotations import concat_events
from sonotype.audio import write_audio
from sonotype.errors import ParameterError
from sonotype.store import Project
from sonotype.synth import flysong

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow

from sonotype.models.config import network_config  # noqa: E402
from sonotype.models.settings import TrainSettings  # noqa: E402
from sonotype.pipeline import supervised  # noqa: E402
from sonotype.pipeline.executors import LocalExecutor  # noqa: E402
from sonotype.pipeline.xval import xval, xval_tasks  # noqa: E402
from sonotype.pipeline.xval_setup import review_setup  # noqa: E402

TINY = network_config(conv_layers=2, feature_maps=4, context_ms=40)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Three synthetic fly-song recordings and a tiny model trained on them."""
    folder = tmp_path_factory.mktemp("xval")
    tables = []
    for i in range(3):
        name = f"fly{i}.wav"
        y, events = flysong(6, recording=name, random_state=i)
        write_audio(folder / "audio" / name, y, 2500)
        tables.append(events)
    with Project.init(folder, audio_roots=[folder / "audio"]) as project:
        project.scan()
        project.add_events(concat_events(tables), command="test", description="truth")
        torch.set_num_threads(1)
        supervised.train(
            project,
            "m",
            labels=["pulse", "sine"],
            background="ambient",
            network=TINY,
            settings=TrainSettings(steps=12, batch_size=8, device="cpu"),
        )
        yield project


def test_each_example_is_tested_once_by_a_network_that_never_saw_it(trained):
    result = xval(trained, "m", k=3, replicates=2, seed=4, executor=LocalExecutor(1))
    setup = review_setup(trained, "m")
    n = len(setup.examples)
    assert result.tasks["task"].tolist() == ["k1r1", "k2r1", "k3r1", "k1r2", "k2r2", "k3r2"]
    assert result.tasks["seed"].tolist() == [4, 4, 4, 5, 5, 5]
    for _, part in result.predictions.groupby("replicate"):
        assert len(part) == n  # every example once per replicate
        # the fold a task tests is the fold of every example it classified
        assert (part["task"].str[1].astype(int) - 1 == part["fold"]).all()
    # test and training sets of each task are disjoint, and the training sizes add up
    tasks = result.tasks
    assert (tasks["n_train"] + tasks["n_validation"] + tasks["n_test"] == n).all()
    summed = sum(result.confusions[t].to_numpy() for t in tasks["task"])
    assert np.array_equal(summed, result.confusion.to_numpy())
    assert result.confusion.to_numpy().sum() == 2 * n
    accuracy = result.summary["accuracy"]
    assert accuracy["min"] <= accuracy["mean"] <= accuracy["max"]
    assert accuracy["mean"] == pytest.approx(tasks["accuracy"].mean())
    assert accuracy["sd"] == pytest.approx(tasks["accuracy"].std(ddof=1))
    folder = result.folder
    for file in (
        "index.html",
        "predictions.csv",
        "confusion.csv",
        "accuracy.png",
        "summary.json",
        "tasks.csv",
        "recordings.csv",
    ):
        assert (folder / file).is_file(), file
    assert json.loads((folder / "summary.json").read_text())["n_tasks"] == 6


def test_a_second_run_trains_nothing(trained):
    xval(trained, "m", k=3, seed=4, executor=LocalExecutor(1), write=False)
    again = xval(trained, "m", k=3, seed=4, executor=LocalExecutor(1), write=False)
    steps = trained.run_steps(again.summary["run_id"])
    assert {s["status"] for s in steps} == {"cached"}


def test_negative_k_trains_on_one_fold_and_tests_on_the_rest(trained):
    result = xval(trained, "m", k=-2, executor=LocalExecutor(1), write=False)
    n = len(review_setup(trained, "m").examples)
    assert len(result.predictions) == n  # each example tested once, by the other fold's task
    assert (result.tasks["n_test"] > result.tasks["n_train"]).all()


def test_too_many_folds_name_the_label(trained):
    with pytest.raises(ParameterError, match=r"'sine' has \d+ example\(s\)"):
        xval(trained, "m", k=40, executor=LocalExecutor(1), write=False)


def test_k_between_minus_one_and_one_is_refused():
    for k in (-1, 0, 1):
        with pytest.raises(ParameterError, match="--k"):
            xval_tasks(k)


def test_folds_run_in_parallel_worker_processes_with_the_same_results(trained, tmp_path):
    alone = xval(trained, "m", k=2, seed=9, executor=LocalExecutor(1), write=False)
    # the same tasks again, now in two worker processes (the cached ones are removed)
    for run in trained.run_steps(alone.summary["run_id"]):
        path = trained.artifacts.find("review-fold", run["key"], suffix=".json")
        if path is not None:
            path.unlink()
    executor = LocalExecutor(2)
    together = xval(trained, "m", k=2, seed=9, executor=executor, write=False)
    steps = trained.run_steps(together.summary["run_id"])
    assert {s["status"] for s in steps} == {"computed"}
    assert executor.most_at_once == 2
    left = alone.predictions.sort_values(["task", "recording", "start_s"])
    right = together.predictions.sort_values(["task", "recording", "start_s"])
    assert left["predicted"].tolist() == right["predicted"].tolist()
    # Workers train with their share of the cores (sonotype.threads), this process with all
    # of them: sums taken in another order drift apart a little over the training steps.
    assert np.allclose(left["score"], right["score"], atol=2e-3)
