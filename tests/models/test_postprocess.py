"""Post-processing learned from annotations: bounds, the search, saving, the known answer."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import make_events
from sonotype.errors import FileProblem, ParameterError
from sonotype.evaluate import match_events, syllable_error_rate
from sonotype.models.ethogram import ethogram
from sonotype.models.postprocess import (
    PostProcessing,
    annotation_bounds,
    annotation_intervals,
    count_matches,
    learn_postprocessing,
    predict,
)
from sonotype.synth import birdsong
from sonotype.synth.birdsong import syllable_types

STEP = 0.0005
LABELS = ["a", "b", "c", "background"]


def test_doctests():
    module = importlib.import_module("sonotype.models.postprocess")
    assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_bounds_are_the_5th_percentiles_of_each_labels_gaps_and_durations():
    # "a": 20 events of 50 ms, 1 ms apart (the last one followed by "b" after 100 ms).
    starts = 0.051 * np.arange(20)
    ev = make_events("r.wav", [*starts, 2.0], [*(starts + 0.05), 2.1], [*"a" * 20, "b"])
    table = annotation_intervals(ev, labels=["a", "b"])
    assert len(table) == 21 and np.isnan(table["gap_s"].iloc[-1])
    bounds = annotation_bounds(ev, labels=["a", "b"]).set_index("label")
    gaps = np.r_[np.full(19, 0.001), 2.0 - starts[-1] - 0.05]
    assert bounds.loc["a", "max_min_gap_s"] == pytest.approx(np.percentile(gaps, 5))
    assert bounds.loc["a", "max_min_duration_s"] == pytest.approx(0.05)
    assert bounds.loc["b", "n_gaps"] == 0 and bounds.loc["b", "max_min_gap_s"] == 0.0
    with pytest.raises(ParameterError, match="percentile"):
        annotation_bounds(ev, labels=["a"], percentile=101)


@pytest.mark.parametrize("seed", range(20))
def test_the_searchs_match_count_is_the_optimal_one_of_evaluate(seed):
    """count_matches (one pass, used by the search) against match_events (optimal
    assignment) on random non-overlapping events, crowded enough for ties and conflicts."""
    rng = np.random.default_rng(seed)

    def events(n):
        edges = np.sort(rng.choice(np.arange(0, 2000), 2 * n, replace=False)) * 0.002
        return edges[0::2], edges[1::2]

    ref, pred = events(int(rng.integers(1, 60))), events(int(rng.integers(1, 60)))
    for tolerance in (0.002, 0.01, 0.05):
        expected = len(match_events(make_events("r", *ref, "a"), make_events("r", *pred, "a"),
                                    tolerance_s=tolerance))  # fmt: skip
        counted = count_matches(*ref, *pred, tolerance_s=tolerance, offset_tolerance_s=tolerance)
        assert counted == expected
        points = len(match_events(make_events("r", ref[0], ref[0], "a"),
                                  make_events("r", pred[0], pred[0], "a"),
                                  tolerance_s=tolerance))  # fmt: skip
        assert count_matches(ref[0], ref[0], pred[0], pred[0], tolerance_s=tolerance,
                             offset_tolerance_s=np.inf) == points  # fmt: skip


def song(seed, types, duration_s=20.0):
    _, events = birdsong(duration_s, sr=8000, types=types, repeat="b", recording=f"s{seed}.wav",
                         random_state=seed)  # fmt: skip
    return events


def noisy_probabilities(events, duration_s, rng):
    """Softmax outputs that follow the truth frame by frame, with slips that post-processing
    can undo: single background frames inside syllables (fragments), frames of the wrong
    label inside syllables, and single frames of a syllable label in the background, away
    from the syllables (a slip inside a 1 ms gap would be indistinguishable from a true one).
    """
    t = np.arange(int(duration_s / STEP)) * STEP
    background = LABELS.index("background")
    truth = np.full(len(t), background)
    for start, stop, label in zip(events.start_s, events.stop_s, events.label, strict=True):
        truth[(t >= start) & (t < stop)] = LABELS.index(label)
    slip = truth.copy()
    inside = truth != background
    r = rng.random(len(t))
    dropout = inside & (r < 0.03)
    dropout[1:] &= ~dropout[:-1]  # single frames
    slip[dropout] = background
    wrong = inside & (r >= 0.03) & (r < 0.06)
    slip[wrong] = rng.integers(0, 3, wrong.sum())
    near = np.convolve(inside, np.ones(21), mode="same") > 0  # within 5 ms of a syllable
    blip = ~near & (r < 0.003)
    slip[blip] = rng.integers(0, 3, blip.sum())
    logits = rng.normal(0, 0.5, (len(t), len(LABELS)))
    logits[np.arange(len(t)), slip] += 5  # confident: each slip is one frame
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def repeating_bird():
    """A bird that repeats "b" 3-6 times with 1-1.5 ms gaps: training, validation and test
    songs, with probabilities made from the truth plus slips."""
    rng = np.random.default_rng(0)
    types = syllable_types(3, sr=8000, rng=rng)
    train, validation, test = (song(seed, types) for seed in (1, 2, 3))
    bounds = annotation_bounds(train, labels=LABELS[:3])
    p_validation = noisy_probabilities(validation, 20.0, rng)
    p_test = noisy_probabilities(test, 20.0, rng)
    chosen = learn_postprocessing({"s2.wav": p_validation}, validation, labels=LABELS,
                                  step_s=STEP, bounds=bounds, background="background",
                                  exclusive=True)  # fmt: skip
    return bounds, chosen, test, p_test


def test_learned_postprocessing_keeps_1_ms_repeats_where_a_fixed_5_ms_gap_merges_them(
    repeating_bird,
):
    _, chosen, test, p_test = repeating_bird
    assert (test["label"] == "b").mean() > 0.5  # repeats are most of the song
    learned = predict({"s3.wav": p_test}, chosen, labels=LABELS, step_s=STEP, exclusive=True)
    assert syllable_error_rate(test, learned) <= 0.01
    thresholds = dict.fromkeys(LABELS[:3], 0.5)
    fixed = ethogram(p_test, labels=LABELS, step_s=STEP, thresholds=thresholds,
                     recording="s3.wav", min_gap_s=0.005, min_duration_s=0.01,
                     exclusive=True)  # fmt: skip
    assert syllable_error_rate(test, fixed) > 0.10
    raw = ethogram(p_test, labels=LABELS, step_s=STEP, thresholds=thresholds,
                   recording="s3.wav", exclusive=True)  # fmt: skip
    assert syllable_error_rate(test, raw) > 0.10  # fragments without post-processing


def test_choices_stay_within_the_bounds_and_the_background_is_never_predicted(repeating_bird):
    bounds, chosen, _, p_test = repeating_bird
    limits = bounds.set_index("label")
    assert "background" not in chosen.thresholds
    for label in LABELS[:3]:
        assert chosen.min_gap_s[label] <= limits.loc[label, "max_min_gap_s"]
        assert chosen.min_duration_s[label] <= limits.loc[label, "max_min_duration_s"]
        assert chosen.bounds[label]["max_min_gap_s"] == limits.loc[label, "max_min_gap_s"]
    assert limits.loc["b", "max_min_gap_s"] < 0.0016  # the repeats' gaps
    scores = chosen.validation["scores"]
    assert scores["ser"] <= 0.01 and scores["f1"] > 0.8
    assert scores["objective"] == pytest.approx(scores["f1"] - scores["ser"])
    predicted = predict({"s3.wav": p_test}, chosen, labels=LABELS, step_s=STEP, exclusive=True)
    assert "background" not in set(predicted["label"])


def test_saved_and_loaded_alike(tmp_path, repeating_bird):
    _, chosen, _, _ = repeating_bird
    assert PostProcessing.load(tmp_path) is None
    chosen.save(tmp_path)
    again = PostProcessing.load(tmp_path)
    assert again.ethogram_settings() == chosen.ethogram_settings()
    assert again.bounds == chosen.bounds
    (tmp_path / "postprocess.json").write_text("{not json")
    with pytest.raises(FileProblem, match=r"postprocess\.json"):
        PostProcessing.load(tmp_path)


def test_point_labels_get_the_threshold_with_the_best_f1():
    # Pulses every 50 ms with peaks of 0.6; clicks between them peak at 0.45.
    n, step = 4000, 0.001
    p = np.zeros((n, 2))
    pulses = np.arange(100, n - 100, 50)
    p[pulses, 0], p[pulses + 25, 0] = 0.6, 0.45
    p[:, 1] = 1 - p[:, 0]
    truth = make_events("r.wav", pulses * step, pulses * step, "pulse")
    chosen = learn_postprocessing({"r.wav": p}, truth, labels=["pulse", "ambient"], step_s=step,
                                  bounds=pd.DataFrame(columns=["label", "n_events", "n_gaps",
                                                               "max_min_gap_s",
                                                               "max_min_duration_s"]),
                                  point_labels=["pulse"], background="ambient",
                                  start_thresholds={"pulse": 0.2})  # fmt: skip
    assert 0.45 < chosen.thresholds["pulse"] <= 0.6
    assert chosen.validation["scores"]["point_f1"] == 1.0


def test_clear_errors(repeating_bird):
    bounds, _, test, p_test = repeating_bird
    common = {"labels": LABELS, "step_s": STEP, "background": "background"}
    with pytest.raises(ParameterError, match="probabilities is empty"):
        learn_postprocessing({}, test, bounds=bounds, **common)
    with pytest.raises(ParameterError, match="one column per label"):
        learn_postprocessing({"s3.wav": p_test[:, :2]}, test, bounds=bounds, **common)
    with pytest.raises(ParameterError, match="bounds has no row"):
        learn_postprocessing({"s3.wav": p_test}, test, bounds=bounds.iloc[:1], **common)
    with pytest.raises(ParameterError, match="no annotated event"):
        learn_postprocessing({"s3.wav": p_test}, test.iloc[:0], bounds=bounds, **common)
    with pytest.raises(ParameterError, match="threshold_grid"):
        learn_postprocessing({"s3.wav": p_test}, test, bounds=bounds, threshold_grid=[0],
                             **common)  # fmt: skip
