"""generalize, learncurve, mistakes and compare on synthetic fly song with a tiny network:
whole recordings withheld, a fixed test set across sizes, disagreements stored as one
undoable edit, runs compared by prefix."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
from sonotype.pipeline.compare import compare, compare_table  # noqa: E402
from sonotype.pipeline.executors import LocalExecutor  # noqa: E402
from sonotype.pipeline.generalize import generalize  # noqa: E402
from sonotype.pipeline.learncurve import check_sizes, learncurve  # noqa: E402
from sonotype.pipeline.mistakes import mistakes  # noqa: E402
from sonotype.pipeline.xval import xval  # noqa: E402

TINY = network_config(conv_layers=2, feature_maps=4, context_ms=40)
ONE = LocalExecutor(1)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Four synthetic fly-song recordings and two tiny models (different batch sizes)."""
    folder = tmp_path_factory.mktemp("review")
    tables = []
    for i in range(4):
        name = f"fly{i}.wav"
        y, events = flysong(6, recording=name, random_state=10 + i)
        write_audio(folder / "audio" / name, y, 2500)
        tables.append(events)
    torch.set_num_threads(1)
    with Project.init(folder, audio_roots=[folder / "audio"]) as p:
        p.scan()
        p.add_events(concat_events(tables), command="test", description="truth")
        for name, batch in (("bs8", 8), ("bs16", 16)):
            supervised.train(
                p,
                name,
                labels=["pulse", "sine"],
                background="ambient",
                network=TINY,
                settings=TrainSettings(steps=10, batch_size=batch, device="cpu"),
            )
        yield p


def test_omit_one_withholds_each_recording_whole(project):
    result = generalize(project, "bs8", omit="one", executor=ONE)
    assert len(result.tasks) == 4
    for _, task in result.tasks.iterrows():
        tested = set(result.predictions.loc[result.predictions["task"] == task["task"],
                                            "recording"])  # fmt: skip
        assert tested == {task["withheld"]}
    # every example is tested once, by the network that never heard its recording
    assert result.predictions.groupby("task")["recording"].nunique().eq(1).all()
    assert set(result.recordings["recording"]) == {f"fly{i}.wav" for i in range(4)}
    assert (result.folder / "accuracy.png").is_file()


def test_omit_some_and_all(project):
    some = generalize(project, "bs8", omit="some", k=2, executor=ONE, write=False)
    assert len(some.tasks) == 2
    withheld = [set(w.split()) for w in some.tasks["withheld"]]
    assert not withheld[0] & withheld[1]
    assert withheld[0] | withheld[1] == {f"fly{i}.wav" for i in range(4)}
    everything = generalize(
        project, "bs8", omit="all", recordings=["fly0.wav", "fly1.wav"], executor=ONE,
        write=False,
    )  # fmt: skip
    assert everything.tasks["withheld"].tolist() == ["fly0.wav fly1.wav"]
    assert set(everything.predictions["recording"]) == {"fly0.wav", "fly1.wav"}


def test_generalize_refuses_bad_choices(project):
    with pytest.raises(ParameterError, match="--omit"):
        generalize(project, "bs8", omit="many")
    with pytest.raises(ParameterError, match="--omit all withholds every recording"):
        generalize(project, "bs8", omit="all")
    with pytest.raises(ParameterError, match="--k goes with --omit some"):
        generalize(project, "bs8", omit="one", k=2)
    with pytest.raises(ParameterError, match="no indexed recording matches"):
        generalize(project, "bs8", omit="one", recordings=["nothing*"])


def test_learncurve_tests_every_size_on_the_same_examples(project):
    result = learncurve(project, "bs8", sizes=[0.25, 1, 6], replicates=1, executor=ONE)
    tasks = result.tasks
    assert not result.failures
    assert len(tasks) == 3
    tested = result.predictions.groupby("task").apply(
        lambda t: tuple(sorted(zip(t["recording"], t["start_s"], strict=True)))
    )
    assert tested.nunique() == 1  # one fixed test set
    by_size = tasks.groupby("size")["n_train"].mean() + tasks.groupby("size")["n_validation"].mean()
    assert by_size[0.25] < by_size[1.0]
    assert by_size[6.0] <= 3 * 6  # at most 6 per label (3 labels)
    assert set(result.summary["by_size"]) == {"0.25", "1", "6"}
    assert (result.folder / "learning_curve.png").is_file()


def test_sizes_are_checked():
    assert check_sizes([1, 0.5, 0.5]) == [0.5, 1.0]
    for bad in ([0], [-1], [2.5], []):
        with pytest.raises(ParameterError, match="--sizes"):
            check_sizes(bad)


def test_mistakes_are_the_disagreements_in_one_undoable_edit(project):
    outcome = mistakes(project, "bs8", k=2, executor=ONE)
    stored = project.events(kinds=["mistaken"], sources=["bs8"])
    predictions = outcome.result.predictions
    wrong = predictions[(predictions["label"] != "ambient") & ~predictions["correct"]]
    assert len(stored) == len(wrong) == len(outcome.mistakes)
    assert outcome.n_events == int((predictions["label"] != "ambient").sum())
    assert len(stored) > 0  # a network trained for 10 steps gets some wrong
    assert (stored["label"] != stored["label:annotated"]).all()
    assert set(stored["label:annotated"]) <= {"pulse", "sine"}
    assert stored["score"].between(0, 1).all()
    key = ["recording", "start_s", "stop_s"]
    merged = stored.merge(wrong, on=key, suffixes=("", "_p"))
    assert len(merged) == len(stored)
    assert (merged["label"] == merged["predicted"]).all()
    assert (merged["label:annotated"] == merged["label_p"]).all()
    # the same again adds no edit; undo takes the mistakes back
    again = mistakes(project, "bs8", k=2, executor=ONE)
    assert again.edit_id is None
    assert outcome.edit_id is not None
    project.undo()
    assert project.events(kinds=["mistaken"]).empty


def test_compare_reads_the_runs_with_the_prefix(project):
    for name in ("bs8", "bs16"):
        xval(project, name, k=2, executor=ONE)
    runs = compare_table(project, "bs")
    assert runs["run"].tolist() == ["bs16", "bs8"]
    assert (runs["n_parameters"] > 0).all()
    assert runs["accuracy_min"].le(runs["accuracy_mean"]).all()
    outcome = compare(project, "bs")
    assert outcome.page.is_file()
    table = pd.read_csv(outcome.page.parent / "compare.csv")
    assert np.allclose(table["accuracy_mean"], runs["accuracy_mean"])
    with pytest.raises(ParameterError, match="no xval run of a model whose name starts"):
        compare_table(project, "zz")
