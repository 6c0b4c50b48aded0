import numpy as np
import pytest

from sonotype.annotations.events import make_events
from sonotype.embeddings import (
    EmbeddingSet,
    list_embedding_sets,
    load_embedding_set,
    save_embedding_set,
)
from sonotype.errors import ParameterError


def _set(name="birds", n=3, d=4):
    events = make_events("a.wav", np.arange(n), np.arange(n) + 0.5, ["x"] * n, kind="window")
    vectors = np.random.default_rng(0).normal(size=(n, d))
    return EmbeddingSet(name, "flat", "windows", events, vectors, {"window_s": 0.5})


def test_round_trip(tmp_path):
    saved = _set()
    save_embedding_set(tmp_path, saved)
    loaded = load_embedding_set(tmp_path, "birds")
    assert (loaded.model, loaded.unit, loaded.dimensions) == ("flat", "windows", 4)
    assert loaded.vectors.dtype == np.float32
    np.testing.assert_allclose(loaded.vectors, saved.vectors.astype(np.float32))
    assert loaded.events["start_s"].tolist() == [0.0, 1.0, 2.0]
    assert loaded.info["window_s"] == 0.5
    assert list_embedding_sets(tmp_path) == ["birds"]


def test_misaligned_rows_are_refused():
    with pytest.raises(ParameterError, match="row-aligned"):
        EmbeddingSet("x", "flat", "events", _set().events, np.zeros((2, 4)))


@pytest.mark.parametrize("name", ["", "../up", "a/b", ".hidden"])
def test_bad_names_are_refused(name):
    with pytest.raises(ParameterError, match="--name"):
        _set(name=name)


def test_missing_set_lists_what_exists(tmp_path):
    save_embedding_set(tmp_path, _set("one"))
    with pytest.raises(ParameterError, match="one"):
        load_embedding_set(tmp_path, "two")


def test_failed_write_leaves_no_set(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    import sonotype.embeddings.sets as sets

    monkeypatch.setattr(sets, "_write_vectors", broken)
    with pytest.raises(OSError):
        save_embedding_set(tmp_path, _set())
    assert list_embedding_sets(tmp_path) == []
    assert not (tmp_path / "artifacts" / "embeddings" / "birds").exists()
