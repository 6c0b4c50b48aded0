"""The error classes: every file problem crosses a process boundary unchanged."""

from __future__ import annotations

import pickle

import pytest

from sonotype.errors import (
    AnnotationError,
    AudioNotFoundError,
    FileProblem,
    NotAudioError,
    SonotypeError,
)


@pytest.mark.parametrize("kind", [FileProblem, AudioNotFoundError, NotAudioError, AnnotationError])
def test_file_problems_pickle_as_they_were(kind):
    error = kind("song.wav", "row 3: stop_s is before start_s")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is kind and isinstance(back, SonotypeError)
    assert (back.path, back.problem, str(back)) == (error.path, error.problem, str(error))
