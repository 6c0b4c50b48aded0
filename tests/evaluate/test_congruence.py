"""Congruence on hand-built cases: three annotators and a model, counts worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.errors import ParameterError
from sonotype.evaluate.congruence import annotated_portions, congruence


def three_annotators():
    """Label "s" on one recording, 0-10 s; sounds (by who labelled them):

    - 1.0-2.0: a, b, c (everyone)
    - 3.0-4.0: a, b (not c)          b's event is 3.5-4.0
    - 5.0-5.5: a only
    - 6.0-7.0: b, c (not a)          c's event 6.5-7.5 extends it to 7.5
    - 8.0-9.0: c only
    and label "t": 0.5-0.6 by a and b (not c).
    """
    a = make_events("r.wav", [0.0, 1.0, 3.0, 5.0, 0.5], [0.1, 2.0, 4.0, 5.5, 0.6],
                    ["s", "s", "s", "s", "t"])  # fmt: skip
    b = make_events("r.wav", [1.0, 3.5, 6.0, 0.5], [2.0, 4.0, 7.0, 0.6], ["s", "s", "s", "t"])
    c = make_events("r.wav", [1.2, 6.5, 8.0, 9.9], [1.8, 7.5, 9.0, 10.0], "s")
    return {"a": a, "b": b, "c": c}


def test_event_level_counts_with_three_annotators():
    result = congruence(three_annotators())
    summary = result.summary("event").set_index("label")
    # a's 0.0-0.1 "s" is a sound of a alone, c's 9.9-10.0 of c alone.
    assert summary.loc["s"].to_dict() == {
        "everyone": 1, "only a": 2, "only b": 0, "only c": 2,
        "not a": 1, "not b": 0, "not c": 1,
    }  # fmt: skip
    assert summary.loc["t"].to_dict() == {
        "everyone": 0, "only a": 0, "only b": 0, "only c": 0,
        "not a": 0, "not b": 0, "not c": 1,
    }  # fmt: skip
    assert summary.loc["(all)", "not c"] == 2
    assert len(result.sounds) == 8
    sound = result.sounds[result.sounds["start_s"] == 6.0].iloc[0]
    assert (sound["stop_s"], sound["parties"]) == (7.5, "b+c")


def test_sample_level_durations_with_three_annotators():
    summary = congruence(three_annotators()).summary("sample").set_index("label")
    s = summary.loc["s"]
    # everyone: 1.2-1.8; not c: 1.0-1.2, 1.8-2.0, 3.5-4.0; not a: 6.5-7.0;
    # only a: 0-0.1, 3.0-3.5, 5.0-5.5; only b: 6.0-6.5; only c: 7.0-7.5, 8-9, 9.9-10.
    expected = {
        "everyone": 0.6, "only a": 1.1, "only b": 0.5, "only c": 1.6,
        "not a": 0.5, "not b": 0.0, "not c": 0.9,
    }  # fmt: skip
    for column, value in expected.items():
        assert s[column] == pytest.approx(value), column
    assert summary.loc["t", "not c"] == pytest.approx(0.1)


def test_the_intersection_judges_only_what_everyone_covered():
    parties = three_annotators()
    portions = annotated_portions(parties, portion="intersection")
    # a covers 0-5.5, b 0.5-7.0, c 1.2-10.0: in common 1.2-5.5.
    assert portions[["start_s", "stop_s"]].values.tolist() == [[1.2, 5.5]]
    summary = congruence(parties, portion="intersection").summary("event").set_index("label")
    assert summary.loc["s"].to_dict() == {
        "everyone": 1, "only a": 1, "only b": 0, "only c": 0,
        "not a": 0, "not b": 0, "not c": 1,
    }  # fmt: skip
    assert summary.loc["t"].sum() == 0  # its events lie before the common span


def test_a_model_gets_precision_and_recall_against_what_every_human_agrees_on():
    parties = three_annotators()
    del parties["c"]
    net = make_events("r.wav", [1.1, 3.2, 8.2], [1.9, 3.4, 8.4], "s")
    result = congruence({**parties, "net": net}, model="net")
    s = result.summary("event").set_index("label").loc["s"]
    # 1-2 and 3-4: everyone; 0-0.1 and 5-5.5: only a; 6-7: only b. The union of a's and
    # b's spans is 0-7, so the model's 8.2-8.4 lies outside the time judged.
    assert (s["everyone"], s["only net"], s["not net"]) == (2, 0, 0)
    assert (s["only a"], s["only b"]) == (2, 1)
    assert s["precision"] == 1.0 and s["recall"] == 1.0
    t = result.summary("event").set_index("label").loc["t"]
    assert (t["not net"], t["recall"]) == (1, 0.0)
    assert np.isnan(t["precision"])


def test_points_group_within_the_tolerance():
    a = make_events("r.wav", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], "pulse")
    b = make_events("r.wav", [1.004, 2.03, 3.0], [1.004, 2.03, 3.0], "pulse")
    strict = congruence({"a": a, "b": b}).summary("event").iloc[0]
    assert (strict["everyone"], strict["only a"], strict["only b"]) == (1, 2, 2)
    loose = congruence({"a": a, "b": b}, tolerance_s=0.01).summary("event").iloc[0]
    assert (loose["everyone"], loose["only a"], loose["only b"]) == (2, 1, 1)
    assert congruence({"a": a, "b": b}).summary("sample").iloc[0]["everyone"] == 0


def test_bad_parties_are_refused():
    a = make_events("r.wav", [0.0], [1.0], "s")
    with pytest.raises(ParameterError, match="at least two parties"):
        congruence({"a": a})
    with pytest.raises(ParameterError, match="model='x' is not one of"):
        congruence({"a": a, "b": a}, model="x")
    with pytest.raises(ParameterError, match="portion='both'"):
        congruence({"a": a, "b": a}, portion="both")
