"""Detection as a stage: cached by content and parameters, named sets, bad files reported."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sonotype.audio import write_audio
from sonotype.detect import detect_recording, make_detector, preset_detector
from sonotype.detect.base import Pair
from sonotype.errors import ParameterError
from sonotype.pipeline.detect import (
    DetectFailed,
    DetectParams,
    canonical_params,
    detect_files,
    detect_memory_mb,
    detect_project,
)
from sonotype.pipeline.executors import LocalExecutor
from sonotype.store import Project
from sonotype.store.project import same_events
from sonotype.synth import flysong

N = 3


def _song(i: int) -> np.ndarray:
    return flysong(4, random_state=i)[0]


@pytest.fixture
def project(tmp_path):
    for i in range(N):
        write_audio(tmp_path / "p" / "audio" / f"fly{i}.wav", _song(i), 2500)
    with Project.init(tmp_path / "p") as p:
        p.scan()
        yield p


def _detect(project, detector=None, **kwargs):
    detector = detector or make_detector("time-freq")
    return detect_project(project, detector, executor=LocalExecutor(1), **kwargs)


def _items(project, run_id, status):
    return sorted(s["item"] for s in project.run_steps(run_id, status=status))


def _break(path, how):
    if how == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(5000))
    else:  # truncated: the header declares more frames than the file holds
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])


def test_the_events_are_the_detectors_and_a_rerun_computes_nothing_and_adds_no_edit(project):
    first = _detect(project)
    names = [f"fly{i}.wav" for i in range(N)]
    assert (first.computed, first.cached, first.failures) == (N, 0, {})
    assert _items(project, first.run_id, "computed") == names
    assert first.edit is not None and first.source == "time-freq"
    direct = [detect_recording(make_detector("time-freq"), project.recording_path(n), name=n)
              for n in names]  # fmt: skip
    stored = project.events(kinds=["detected"], sources=["time-freq"])
    assert same_events(stored, first.events)
    assert len(stored) == sum(len(d) for d in direct)
    assert same_events(stored.drop(columns="kind"), _concat(direct).drop(columns="kind"))

    edits = len(project.edit_log())
    second = _detect(project)
    assert (second.computed, second.cached, second.edit) == (0, N, None)
    assert _items(project, second.run_id, "computed") == []
    assert _items(project, second.run_id, "cached") == names
    assert len(project.edit_log()) == edits
    assert same_events(project.events(kinds=["detected"]), stored)
    run = project.runs(ids=[second.run_id])[0]
    assert (run["command"], run["name"], run["status"]) == ("detect", "time-freq", "ok")


def test_after_an_undo_a_rerun_stores_the_events_again_without_detecting(project):
    first = _detect(project)
    project.undo()
    assert project.events(kinds=["detected"]).empty
    again = _detect(project)
    assert (again.computed, again.cached) == (0, N) and again.edit is not None
    assert same_events(project.events(kinds=["detected"]), first.events)


def test_a_changed_parameter_recomputes_every_recording(project):
    _detect(project)
    changed = _detect(project, make_detector("time-freq", time_sigma="12,4"))
    assert (changed.computed, changed.cached) == (N, 0)
    assert changed.edit is not None  # same source: its events are replaced


def test_one_detector_given_two_ways_has_one_key(project):
    """A preset and the same values given one by one, a pair as text or as numbers, an int
    or a float: one detector, so the second run finds every recording done."""
    _detect(project, preset_detector("fly"), preset="fly")
    same = make_detector("time-freq", time_sigma=Pair(9, 4), freq_rho=(0.1, 1),
                         time_smooth_ms=6.4, freq_nw=4)  # fmt: skip
    again = _detect(project, same)
    assert (again.computed, again.cached, again.edit) == (0, N, None)
    a = DetectParams.of(make_detector("time-freq", freq_nw=4, time_sigma="9, 4"))
    b = DetectParams.of(make_detector("time-freq", freq_nw=4.0, time_sigma=[9.0, 4]), block_s=5)
    assert a.identity() == b.identity()
    assert canonical_params({"x": "median"}) == {"x": "median"}


def test_two_sources_are_kept_side_by_side(project):
    strict = _detect(project, make_detector("time-freq", time_sigma="20,4"), source="strict")
    lax = _detect(project, make_detector("time-freq", time_sigma="6,4"), source="lax")
    both = project.events(kinds=["detected"])
    assert sorted(both["source"].unique()) == ["lax", "strict"]
    count = both.groupby("source").size()
    assert (count["strict"], count["lax"]) == (len(strict.events), len(lax.events))
    assert count["lax"] > count["strict"]
    again = _detect(project, make_detector("time-freq", time_sigma="20,4"), source="strict")
    assert (again.computed, again.edit) == (0, None)
    detects = [r["name"] for r in project.runs() if r["command"] == "detect"]
    assert detects == ["strict", "lax", "strict"]
    with pytest.raises(ParameterError, match="source=' ' is empty"):
        _detect(project, source=" ")


@pytest.mark.parametrize("how", ["random bytes", "truncated"])
def test_a_bad_file_fails_alone_and_once_fixed_is_the_only_one_computed(project, how):
    bad = project.recording_path("fly1.wav")
    _break(bad, how)
    first = _detect(project)
    assert list(first.failures) == ["fly1.wav"]
    assert (first.computed, first.cached) == (N - 1, 0)
    failed = project.run_steps(first.run_id, status="failed")
    assert [s["item"] for s in failed] == ["fly1.wav"]
    reason = "truncated" if how == "truncated" else "not"
    assert reason in failed[0]["error"] and str(bad) not in failed[0]["error"]
    run = project.runs(ids=[first.run_id])[0]
    assert run["status"] == "partial"
    assert run["error"].startswith("1 recording of 3 failed; the first: fly1.wav: ")
    stored = project.events(kinds=["detected"])
    assert sorted(stored["recording"].unique()) == ["fly0.wav", "fly2.wav"]

    write_audio(bad, _song(1), 2500)  # fixed, and not scanned again: hashed afresh
    fixed = _detect(project)
    assert _items(project, fixed.run_id, "computed") == ["fly1.wav"]
    assert (fixed.cached, fixed.failures) == (N - 1, {})
    assert project.runs(ids=[fixed.run_id])[0]["status"] == "ok"
    assert sorted(project.events(kinds=["detected"])["recording"].unique()) == [
        f"fly{i}.wav" for i in range(N)
    ]


def test_when_every_recording_fails_nothing_is_stored_and_the_run_failed(project):
    for i in range(N):
        _break(project.recording_path(f"fly{i}.wav"), "random bytes")
    with pytest.raises(DetectFailed, match=r"every recording failed \(3\)") as caught:
        _detect(project)
    assert sorted(caught.value.failures) == [f"fly{i}.wav" for i in range(N)]
    assert project.events(kinds=["detected"]).empty
    assert project.runs()[0]["status"] == "failed"


def test_a_subset_replaces_only_its_recordings_and_a_copy_is_found_done(project):
    _detect(project)
    before = project.events(kinds=["detected"])
    # A copy of fly0 under another name: the same content, found done, named as the copy.
    shutil.copy(project.recording_path("fly0.wav"), project.folder / "audio" / "copy.wav")
    project.scan()
    only = _detect(project, recordings=["copy.wav"])
    assert (only.computed, only.cached) == (0, 1)
    after = project.events(kinds=["detected"])
    assert same_events(after[after["recording"] != "copy.wav"], before)
    copy = after[after["recording"] == "copy.wav"].assign(recording="fly0.wav")
    assert same_events(copy, before[before["recording"] == "fly0.wav"])
    with pytest.raises(ParameterError, match=r"'nope\.wav' is not indexed"):
        _detect(project, recordings=["nope.wav"])


def test_files_outside_a_project_give_the_same_events_and_report_bad_files(project, tmp_path):
    stored = _detect(project).events
    files = [(f"fly{i}.wav", project.recording_path(f"fly{i}.wav")) for i in range(N)]
    (tmp_path / "bad.wav").write_bytes(b"RIFF not really")
    found = detect_files(make_detector("time-freq"), [*files, ("bad.wav", tmp_path / "bad.wav")],
                         executor=LocalExecutor(1))  # fmt: skip
    assert same_events(found.events.drop(columns=["kind", "source"]),
                       stored.drop(columns=["kind", "source"]))  # fmt: skip
    assert list(found.failures) == ["bad.wav"]


def test_memory_estimate_follows_rate_and_block():
    assert detect_memory_mb(sr=250_000, block_s=60) > detect_memory_mb(sr=48_000, block_s=60)
    assert detect_memory_mb(sr=48_000, block_s=60, frames=48_000) < detect_memory_mb(
        sr=48_000, block_s=60
    )
    assert detect_memory_mb(sr=48_000, block_s=float("inf"), frames=480_000) == detect_memory_mb(
        sr=48_000, block_s=10
    )


def _concat(tables):
    from sonotype.annotations import concat_events

    return concat_events(tables)


def test_a_process_pool_gives_the_same_events(project, tmp_path):
    """Stage, parameters and items cross to worker processes and back unchanged."""
    detector = make_detector("time-freq", time_sigma="7,4")
    pooled = detect_project(project, detector, executor=LocalExecutor(2))
    assert pooled.computed == N and len(pooled.events) > 0
    for name in [f"fly{i}.wav" for i in range(N)]:
        alone = detect_recording(detector, project.recording_path(name), name=name)
        mine = pooled.events[pooled.events["recording"] == name]
        assert same_events(mine.drop(columns="kind"), alone.drop(columns="kind"))
