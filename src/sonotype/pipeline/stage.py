"""Stages: typed, cached steps of a workflow, and the runner that chains them over a project.

A :class:`Stage` declares its name, code version, parameters (one pydantic model), the
resources one task needs, and how its output is stored (a :class:`~sonotype.pipeline.codecs.
Codec`). Its key hashes the keys of its inputs, its parameters and the code version, and never
its inputs' values: a whole chain's keys are known before anything is computed, so a re-run
with nothing changed finds the last stage's output and loads nothing before it (a Merkle chain,
as in git). Changing one stage's parameters changes its key and every key after it, and
nothing before it.

:class:`Pipeline` runs stages for one run of a command: each stage is looked up in the artifact
store and computed only when absent; :meth:`Pipeline.map` runs a per-item stage (one task per
recording) through an executor, records each item as it finishes (so a killed batch resumes
where it stopped), and keeps going past items that fail. Every stage execution and cache hit is
a row of the run's steps (:func:`sonotype.store.runs.record_step`).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from sonotype._version import __version__
from sonotype.atomic import atomic_path
from sonotype.errors import RunCancelled
from sonotype.pipeline.codecs import Codec
from sonotype.pipeline.executors import Executor, LocalExecutor
from sonotype.pipeline.resources import Resources
from sonotype.store import runs as runs_registry
from sonotype.store.artifacts import artifact_key

if TYPE_CHECKING:
    from sonotype.store import Project

T = TypeVar("T")
P = TypeVar("P", bound="StageParams")


class StageParams(BaseModel):
    """Parameters of a stage: validated, immutable, hashed into the stage's key.

    One model per stage is the one config style for what a user sets: sonotype.toml tables,
    CLI options and Python keyword arguments all become one of these.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def identity(self) -> dict[str, Any]:
        """The parameters as plain JSON values, as they enter the key."""
        return self.model_dump(mode="json")


class NoParams(StageParams):
    """For stages without parameters."""


class Stage(ABC, Generic[P, T]):
    """One step of a workflow. Subclasses set the class attributes and :meth:`compute`.

    Keep subclasses free of state that is not a parameter: per-item stages are pickled to
    run in worker processes.
    """

    #: Names the artifacts (``artifacts/NAME/``) and the steps of runs.
    name: ClassVar[str]
    #: Bump when a change to the code changes the output, so old artifacts are not reused.
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[StageParams]] = NoParams
    codec: ClassVar[Codec]
    resources: ClassVar[Resources] = Resources()

    @abstractmethod
    def compute(self, params: P, **inputs: Any) -> T:
        """The output for these parameters and input values."""

    def is_current(self, value: T) -> bool:
        """Whether a cached output still holds. Stages with effects outside the artifact
        (events stored, a report written) check here that the effect is still in place."""
        return True

    def key(self, params: P, inputs: Mapping[str, str]) -> str:
        """The content key: this stage, its code version, parameters and the input keys."""
        return artifact_key(
            self.name,
            inputs=dict(inputs),
            params=params.identity(),
            code_version=f"{__version__}/{self.version}",
        )


class Result(Generic[T]):
    """A stage's output, known by its key; the value is loaded or computed only when used."""

    def __init__(self, key: str, *, value: Any = None, load: Callable[[], T] | None = None):
        self.key = key
        self._value = value
        self._load = load

    @classmethod
    def of(cls, value: T, *, key: str) -> Result[T]:
        """An input that no stage made (an events table, a recording's path), known by
        ``key``: a hash of its content."""
        return cls(key, value=value)

    @property
    def value(self) -> T:
        if self._load is not None:
            self._value, self._load = self._load(), None
        return self._value

    def __repr__(self) -> str:
        return f"Result({self.key[:12]})"


@dataclass(frozen=True)
class Item:
    """One task of a per-item stage: ``name`` (shown, e.g. the recording), ``key`` (a hash
    of its content) and ``value`` (what the stage computes on, e.g. the audio file's path)."""

    name: str
    key: str
    value: Any


@dataclass
class Batch(Generic[T]):
    """What :meth:`Pipeline.map` produced: a result per finished item, a reason per failed
    one, and how many were computed now or found done."""

    results: dict[str, Result[T]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    computed: int = 0
    cached: int = 0

    def values(self) -> Iterator[tuple[str, T]]:
        """``(item name, value)`` of the finished items, in the order they were given."""
        for name, result in self.results.items():
            yield name, result.value


class Pipeline:
    """Runs stages within one recorded run of a command on ``project``.

    ``run_id`` is the run (see :meth:`Project.run`) whose steps are recorded; ``executor``
    runs per-item stages (default: a local process pool sized by cores and memory).
    """

    def __init__(self, project: Project, *, run_id: int, executor: Executor | None = None) -> None:
        self.project = project
        self.run_id = run_id
        self.executor = executor or LocalExecutor()

    def stage(self, stage: Stage[P, T], params: P, **inputs: Result) -> Result[T]:
        """The output of ``stage`` on ``inputs``: from the artifact store, or computed now."""
        _check_params(stage, params)
        input_keys = {name: result.key for name, result in inputs.items()}
        key = stage.key(params, input_keys)
        cached = self._cached(stage, key, params, input_keys)
        if cached is not None:
            return cached
        started = time.perf_counter()
        value = stage.compute(params, **{name: r.value for name, r in inputs.items()})
        self.project.artifacts.put_file(
            stage.name,
            inputs=input_keys,
            params=params.identity(),
            suffix=stage.codec.suffix,
            write=lambda tmp: stage.codec.write(value, tmp),
            key=key,
        )
        self._record(stage, key, "computed", seconds=time.perf_counter() - started)
        return Result(key, value=value)

    def map(
        self,
        stage: Stage[P, T],
        params: P,
        items: Sequence[Item],
        *,
        progress: Callable[[str], None] | None = None,
        **shared: Result,
    ) -> Batch[T]:
        """Run ``stage`` on every item (``compute(params, item=item.value, **shared)``).

        Items already done (by this command earlier, or by a killed or cancelled run) are
        taken from the artifact store; the others run through the executor, and each is
        recorded as it finishes. An item that fails is recorded with its reason and the
        batch goes on. ``progress`` is called with each item's name as it is settled.
        """
        _check_params(stage, params)
        shared_keys = {name: result.key for name, result in shared.items()}
        batch: Batch[T] = Batch()
        todo: list[tuple[Item, str]] = []
        settled: dict[str, Result[T] | str] = {}
        for item in items:
            key = stage.key(params, {**shared_keys, "item": item.key})
            cached = self._cached(stage, key, params, shared_keys, item=item.name)
            if cached is not None:
                settled[item.name] = cached
                batch.cached += 1
                if progress:
                    progress(item.name)
            else:
                todo.append((item, key))
        if todo:
            shared_values = {name: result.value for name, result in shared.items()}
            tasks = [
                (
                    stage,
                    params,
                    item.value,
                    shared_values,
                    self.project.artifacts.location(stage.name, key, stage.codec.suffix),
                )
                for item, key in todo
            ]
            outcomes = self.executor.map_unordered(
                _run_item,
                tasks,
                resources=stage.resources,
                names=[f"{stage.name}-{key[:16]}" for _, key in todo],
            )
            try:
                for outcome in outcomes:
                    item, key = todo[outcome.index]
                    settled[item.name] = self._settle(
                        stage, params, item, key, shared_keys, outcome
                    )
                    if outcome.ok:
                        batch.computed += 1
                    if progress:
                        progress(item.name)
                    if runs_registry.cancel_requested(self.project.db, self.run_id):
                        raise RunCancelled(
                            f"run {self.run_id} was cancelled after {len(settled)} of "
                            f"{len(items)} items; run the same command to finish it"
                        )
            finally:
                outcomes.close()  # cancels what has not started
        for item in items:  # in the order given
            outcome = settled[item.name]
            if isinstance(outcome, Result):
                batch.results[item.name] = outcome
            else:
                batch.failures[item.name] = outcome
        return batch

    # -- helpers ---------------------------------------------------------------------------------

    def _cached(
        self,
        stage: Stage,
        key: str,
        params: StageParams,
        input_keys: Mapping[str, str],
        *,
        item: str = "",
    ) -> Result | None:
        path = self.project.artifacts.find(
            stage.name,
            key,
            suffix=stage.codec.suffix,
            inputs=input_keys,
            params=params.identity(),
        )
        if path is None:
            return None
        result = Result(key, load=lambda: stage.codec.read(path))
        # Only stages with effects outside the artifact check them (it loads the value).
        checks_effects = type(stage).is_current is not Stage.is_current
        if checks_effects and not stage.is_current(result.value):
            return None
        self._record(stage, key, "cached", item=item)
        return result

    def _settle(self, stage, params, item: Item, key: str, shared_keys, outcome) -> Result | str:
        if not outcome.ok:
            self._record(stage, key, "failed", item=item.name, error=outcome.error)
            return outcome.error
        path = self.project.artifacts.location(stage.name, key, stage.codec.suffix)
        inputs = {**shared_keys, "item": item.key}
        self.project.artifacts.register(key, stage.name, path, inputs=inputs,
                                        params=params.identity())  # fmt: skip
        self._record(stage, key, "computed", item=item.name, seconds=outcome.value)
        return Result(key, load=lambda: stage.codec.read(path))

    def _record(self, stage: Stage, key: str, status: str, **details: Any) -> None:
        runs_registry.record_step(
            self.project.db, self.run_id, stage=stage.name, key=key, status=status, **details
        )


def _run_item(
    stage: Stage, params: StageParams, value: Any, shared: Mapping[str, Any], target: Path
) -> float:
    """Compute one item in a worker and write its artifact atomically at ``target`` (the
    client registers it); return the seconds it took. Large outputs never travel back."""
    started = time.perf_counter()
    output = stage.compute(params, item=value, **shared)
    with atomic_path(target) as tmp:
        stage.codec.write(output, tmp)
    return time.perf_counter() - started


def _check_params(stage: Stage, params: StageParams) -> None:
    if not isinstance(params, stage.params_model):
        raise TypeError(
            f"stage {stage.name!r} takes {stage.params_model.__name__}, not {type(params).__name__}"
        )
