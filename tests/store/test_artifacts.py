"""The artifact cache: keyed by content, computed once, written atomically."""

import numpy as np
import pytest

from sonotype.store import Project, artifact_key


@pytest.fixture
def project(tmp_path):
    with Project.init(tmp_path / "p") as project:
        yield project


def test_keys_change_with_inputs_params_and_code():
    base = artifact_key("x", inputs={"a": "h1"}, params={"n": 1}, code_version="1")
    assert base == artifact_key("x", inputs={"a": "h1"}, params={"n": 1}, code_version="1")
    assert len({
        base,
        artifact_key("x", inputs={"a": "h2"}, params={"n": 1}, code_version="1"),
        artifact_key("x", inputs={"a": "h1"}, params={"n": 2}, code_version="1"),
        artifact_key("x", inputs={"a": "h1"}, params={"n": 1}, code_version="2"),
        artifact_key("y", inputs={"a": "h1"}, params={"n": 1}, code_version="1"),
    }) == 5  # fmt: skip
    # Key order does not matter.
    assert artifact_key("x", inputs={}, params={"a": 1, "b": 2}) == artifact_key(
        "x", inputs={}, params={"b": 2, "a": 1}
    )


def test_array_is_computed_once(project):
    calls = []

    def compute():
        calls.append(1)
        return np.arange(6.0).reshape(2, 3)

    first = project.artifacts.array("demo", inputs={"r": "h"}, params={"k": 3}, compute=compute)
    again = project.artifacts.array("demo", inputs={"r": "h"}, params={"k": 3}, compute=compute)
    np.testing.assert_array_equal(first, again)
    assert len(calls) == 1
    project.artifacts.array("demo", inputs={"r": "h"}, params={"k": 4}, compute=compute)
    assert len(calls) == 2
    files = list((project.folder / "artifacts" / "demo").rglob("*.npy"))
    assert len(files) == 2


def test_interrupted_write_leaves_no_artifact(project):
    def write(path):
        path.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        project.artifacts.put_file("demo", inputs={}, params={}, suffix=".bin", write=write)
    key = artifact_key("demo", inputs={}, params={})
    assert project.artifacts.path(key) is None
    assert not [p for p in (project.folder / "artifacts").rglob("*") if p.is_file()]


def test_deleted_file_is_recomputed(project):
    value = project.artifacts.array("demo", inputs={}, params={}, compute=lambda: np.ones(3))
    key = artifact_key("demo", inputs={}, params={})
    project.artifacts.path(key).unlink()
    again = project.artifacts.array("demo", inputs={}, params={}, compute=lambda: np.zeros(3))
    np.testing.assert_array_equal(again, np.zeros(3))
    assert value.sum() == 3
