"""The stage runner: keys chain, caches are read, batches resume and survive bad items."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.errors import FileProblem
from sonotype.pipeline.codecs import ArrayCodec, JsonCodec
from sonotype.pipeline.executors import LocalExecutor
from sonotype.pipeline.stage import Item, Pipeline, Result, Stage, StageParams
from sonotype.store import Project


class Scale(StageParams):
    factor: float = 2.0


class Double(Stage[Scale, np.ndarray]):
    name = "test-double"
    params_model = Scale
    codec = ArrayCodec()

    def compute(self, params, *, x):
        return np.asarray(x) * params.factor


class Total(Stage[StageParams, float]):
    name = "test-total"
    codec = JsonCodec()

    def compute(self, params, *, y):
        return float(np.sum(y))


class Square(Stage[Scale, np.ndarray]):
    name = "test-square"
    params_model = Scale
    codec = ArrayCodec()

    def compute(self, params, *, item):
        if item < 0:
            raise FileProblem(f"item{item}", "negative input")
        return np.array([item**2 * params.factor])


@pytest.fixture
def project(tmp_path):
    with Project.init(tmp_path / "p") as p:
        yield p


def _chain(project, factor):
    with project.run("test", {}) as run:
        pipe = Pipeline(project, run_id=run.id)
        x = Result.of(np.arange(4.0), key="x-content")
        y = pipe.stage(Double(), Scale(factor=factor), x=x)
        total = pipe.stage(Total(), Total.params_model(), y=y)
        # When the total was found done, the doubled array it came from is never loaded.
        assert (y._load is None) == ("test-total" in _computed(project, run.id))
        return total.value, run.id


def _computed(project, run_id):
    return [s["stage"] for s in project.run_steps(run_id, status="computed")]


def test_a_rerun_computes_nothing_and_a_changed_parameter_reruns_what_follows(project):
    value, first = _chain(project, 2.0)
    assert value == 12.0
    assert _computed(project, first) == ["test-double", "test-total"]
    value, second = _chain(project, 2.0)
    assert value == 12.0
    assert _computed(project, second) == []
    assert [s["stage"] for s in project.run_steps(second, status="cached")] == [
        "test-double",
        "test-total",
    ]
    value, third = _chain(project, 3.0)
    assert value == 18.0
    assert _computed(project, third) == ["test-double", "test-total"]


def test_wrong_parameters_are_refused(project):
    with project.run("test", {}) as run, pytest.raises(TypeError, match="takes Scale"):
        Pipeline(project, run_id=run.id).stage(Double(), StageParams(), x=Result.of(1, key="k"))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_keeps_going_past_failures_and_resumes(project, workers):
    items = [Item(f"item{i}", f"content-{i}", i) for i in (1, -2, 3, 4)]
    with project.run("test", {}) as run:
        pipe = Pipeline(project, run_id=run.id, executor=LocalExecutor(workers))
        batch = pipe.map(Square(), Scale(factor=1.0), items)
    assert list(batch.results) == ["item1", "item3", "item4"]
    assert [v[0] for _, v in batch.values()] == [1, 9, 16]
    assert batch.failures == {"item-2": "negative input"}
    assert (batch.computed, batch.cached) == (3, 0)
    failed = project.run_steps(run.id, status="failed")
    assert [(s["item"], s["error"]) for s in failed] == [("item-2", "negative input")]

    with project.run("test", {}) as run:
        batch = Pipeline(project, run_id=run.id).map(Square(), Scale(factor=1.0), items)
    assert (batch.computed, batch.cached) == (0, 3)
    assert list(batch.failures) == ["item-2"]


def test_an_item_written_but_never_registered_is_found(project):
    # A client killed between a worker's atomic write and the registration leaves the file.
    item = Item("a", "content-a", 5)
    stage, params = Square(), Scale()
    key = stage.key(params, {"item": item.key})
    target = project.artifacts.location(stage.name, key, ".npy")
    target.parent.mkdir(parents=True)
    np.save(target, np.array([50.0]))
    with project.run("test", {}) as run:
        batch = Pipeline(project, run_id=run.id).map(stage, params, [item])
    assert (batch.computed, batch.cached) == (0, 1)
    assert dict(batch.values())["a"][0] == 50.0
