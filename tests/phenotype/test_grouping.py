"""Which animal made each recording."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.errors import ParameterError
from sonotype.phenotype import animal_of, phenotype
from sonotype.phenotype.grouping import animals_of_events

BIRD = r"(?P<animal>[a-z]{2}\d[a-z]{2}\d)"


def test_by_folder_levels():
    recordings = ["bird1/day1/a.wav", "bird2/day2/b.wav", "bird1/day3/c.wav"]
    assert animal_of(recordings).tolist() == ["day1", "day2", "day3"]
    assert animal_of(recordings, level=2).tolist() == ["bird1", "bird2", "bird1"]
    assert animal_of(["bird1\\x.wav"], level=1).tolist() == ["bird1"]


def test_by_folder_needs_a_folder_at_that_level():
    with pytest.raises(ParameterError, match="no folder 2 levels up"):
        animal_of(["bird1/a.wav"], level=2)
    with pytest.raises(ParameterError, match="level=0"):
        animal_of(["bird1/a.wav"], level=0)


def test_by_regex():
    recordings = ["songs/gy6or6_0808.cbin", "songs/or2bl3_0101.cbin", "x/gy6or6_0909.cbin"]
    found = animal_of(recordings, by="regex", pattern=BIRD)
    assert found.tolist() == ["gy6or6", "or2bl3", "gy6or6"]


def test_regex_errors():
    with pytest.raises(ParameterError, match=r"finds no animal in recording 'b\.wav' \(and 1"):
        animal_of(["gy6or6.wav", "b.wav", "c.wav"], by="regex", pattern=BIRD)
    with pytest.raises(ParameterError, match="no named group 'animal'"):
        animal_of(["gy6or6.wav"], by="regex", pattern=r"[a-z]+")
    with pytest.raises(ParameterError, match="needs pattern="):
        animal_of(["gy6or6.wav"], by="regex")
    with pytest.raises(ParameterError, match="not a regular expression"):
        animal_of(["gy6or6.wav"], by="regex", pattern="(?P<animal>")
    with pytest.raises(ParameterError, match="folder, regex"):
        animal_of(["a.wav"], by="name")


def test_animals_parameter_forms():
    events = make_events(["b1/x.wav", "b2/y.wav", "b1/z.wav"], [0, 0, 0], [1, 1, 1], "a")
    assert animals_of_events(events, None).tolist() == ["animal"] * 3
    assert animals_of_events(events, "zf").tolist() == ["zf"] * 3
    mapping = {"b1/x.wav": "one", "b2/y.wav": "two", "b1/z.wav": "one"}
    assert animals_of_events(events, mapping).tolist() == ["one", "two", "one"]
    assert animals_of_events(events, lambda r: r[:2]).tolist() == ["b1", "b2", "b1"]
    aligned = animal_of(events["recording"], level=1)
    assert animals_of_events(events, aligned).tolist() == ["b1", "b2", "b1"]
    with pytest.raises(ParameterError, match=r"no animal for recording 'b2/y\.wav'"):
        animals_of_events(events, {"b1/x.wav": "one", "b1/z.wav": "one"})
    with pytest.raises(ParameterError, match="events have 3 rows"):
        animals_of_events(events, ["a", "b"])
    with pytest.raises(ParameterError, match="event 2"):
        animals_of_events(events, np.array(["a", "", "b"], dtype=object))


def test_phenotype_splits_by_animal():
    events = make_events(
        ["b2/x.wav"] * 3 + ["b10/y.wav"] * 3 + ["b1/z.wav"] * 2,
        [0, 0.2, 0.4] * 2 + [0, 0.2],
        [0.1, 0.3, 0.5] * 2 + [0.1, 0.3],
        list("abc") + list("aab") + list("dd"),
    )
    result = phenotype(events, animals=animal_of(events["recording"]))
    assert result.animals == ["b1", "b2", "b10"]  # natural order
    assert result.summary["n_syllables"].tolist() == [2, 3, 3]
    assert result.per_animal["b1"]["type"].tolist() == ["d"]
    assert result.transitions["b2"].loc["a", "b"] == 1
