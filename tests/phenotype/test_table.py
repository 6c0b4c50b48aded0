"""phenotype(): per-animal tables, the summary, transition matrices, CSV output."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import concat_events, empty_events, make_events, read_events
from sonotype.errors import ParameterError
from sonotype.phenotype import (
    END,
    START,
    SUMMARY_COLUMNS,
    TYPE_COLUMNS,
    Phenotypes,
    animal_of,
    phenotype,
)
from tests.fixtures.shared import data_folder


def song(labels, *, recording="bird1/song.wav", step_s=0.1, duration_s=0.05, start_s=0.0):
    onsets = start_s + np.arange(len(labels)) * step_s
    return make_events(recording, onsets, onsets + duration_s, list(labels))


def test_linear_song_summary():
    result = phenotype(song("abcabcabc"), animals="bird1")
    assert result.animals == ["bird1"]
    row = result.summary.iloc[0]
    assert list(result.summary.columns) == list(SUMMARY_COLUMNS)
    assert row["repertoire_size"] == 3 and row["n_types"] == 3
    assert row["linearity"] == 1.0 and row["consistency"] == 1.0
    assert row["transition_entropy_bits"] == 0.0
    assert row["n_bouts"] == 1 and row["n_transitions"] == 8
    assert row["duration_median_s"] == pytest.approx(0.05)
    assert row["gap_median_s"] == pytest.approx(0.05) and row["n_gaps"] == 8
    assert row["bout_duration_median_s"] == pytest.approx(0.85)
    assert row["syllables_per_bout_mean"] == 9
    assert row["repeat_max"] == 1 and row["n_noise"] == 0
    assert math.isnan(row["stereotypy"])
    types = result.per_animal["bird1"]
    assert list(types.columns) == list(TYPE_COLUMNS)
    assert types["type"].tolist() == ["a", "b", "c"]
    assert types["dominant_next"].tolist() == ["b", "c", "a"]
    np.testing.assert_allclose(types["proportion"], 1 / 3)
    assert types["n_bout_starts"].tolist() == [1, 0, 0]
    assert types["n_bout_ends"].tolist() == [0, 0, 1]
    assert result.transition_probabilities["bird1"].loc["c", "a"] == pytest.approx(2 / 3)


def test_bouts_gaps_and_per_type_statistics():
    first = song("aaab", step_s=0.1)  # gaps 0.05
    second = song("ab", start_s=2.0, step_s=0.2)  # 1.65 s later: a new bout; gap 0.15
    events = concat_events([first, second])
    result = phenotype(events)
    assert result.animals == ["animal"]
    row = result.summary.iloc[0]
    assert row["n_bouts"] == 2 and row["n_gaps"] == 4
    assert row["syllables_per_bout_median"] == 3.0
    np.testing.assert_allclose(
        [row["bout_duration_median_s"], row["bout_duration_iqr_s"]], [0.3, 0.05]
    )
    assert row["repeat_max"] == 3
    types = result.per_animal["animal"].set_index("type")
    assert types.loc["a", "repeat_max"] == 3 and types.loc["a", "n_runs"] == 2
    assert types.loc["a", "repeat_mean"] == 2.0
    assert types.loc["a", "gap_after_median_s"] == pytest.approx(0.05)
    assert math.isnan(types.loc["b", "gap_after_median_s"])  # b always ends a bout
    counts = result.transitions["animal"]
    assert counts.loc[START, "a"] == 2 and counts.loc["b", END] == 2
    assert counts.loc["a", "a"] == 2 and counts.loc["a", "b"] == 2
    assert types.loc["a", "dominant_next_probability"] == 0.5
    assert types.loc["a", "next_entropy_bits"] == 1.0


def test_single_member_type_and_noise():
    events = song(["a", "a", "b", "-1", "a", "-1"])
    result = phenotype(events, noise_label="-1")
    row = result.summary.iloc[0]
    assert row["n_syllables"] == 6 and row["n_noise"] == 2
    assert row["noise_fraction"] == pytest.approx(1 / 3)
    assert row["n_types"] == 2 and row["repertoire_size"] == 1
    types = result.per_animal["animal"].set_index("type")
    assert types["in_repertoire"].tolist() == [True, False]
    assert types["count"].tolist() == [3, 1]
    np.testing.assert_allclose(types["proportion"], [0.75, 0.25])
    assert phenotype(events, noise_label="-1", min_count=1).summary.loc[0, "repertoire_size"] == 2
    assert "-1" not in result.transitions["animal"].index
    assert result.transitions["animal"].to_numpy().sum() == 1 + 2 + 0  # start, a-a, a-b


def test_all_noise():
    result = phenotype(song(["-1"] * 4), noise_label="-1")
    row = result.summary.iloc[0]
    assert row["n_syllables"] == 4 and row["n_noise"] == 4 and row["repertoire_size"] == 0
    assert row["n_types"] == 0 and row["n_transitions"] == 0 and row["n_bouts"] == 1
    for name in ("linearity", "consistency", "transition_entropy_bits", "duration_median_s"):
        assert math.isnan(row[name])
    assert result.per_animal["animal"].empty
    assert result.transitions["animal"].shape == (1, 1)


def test_empty_events():
    result = phenotype(empty_events())
    assert result.summary.empty and list(result.summary.columns) == list(SUMMARY_COLUMNS)
    assert result.per_animal == {}


def test_stereotypy_columns(rng):
    events = song("ab" * 30)
    base = np.where(events["label"].to_numpy()[:, None] == "a", 0.0, 10.0) * np.ones((1, 3))
    tight = phenotype(events, embeddings=base + rng.normal(scale=0.1, size=base.shape))
    loose = phenotype(events, embeddings=base + rng.normal(scale=4.0, size=base.shape))
    assert tight.summary.loc[0, "stereotypy"] < 0.1 < loose.summary.loc[0, "stereotypy"]
    assert (
        tight.per_animal["animal"]["stereotypy"] < loose.per_animal["animal"]["stereotypy"]
    ).all()
    # Rows are matched to events as given, whatever their order.
    shuffled = rng.permutation(len(events))
    again = phenotype(
        events.iloc[shuffled], embeddings=(base + rng.normal(scale=0.1, size=base.shape))[shuffled]
    )
    assert again.summary.loc[0, "stereotypy"] < 0.1
    with pytest.raises(ParameterError, match="row-aligned"):
        phenotype(events, embeddings=base[:5])


def test_parameter_errors():
    with pytest.raises(ParameterError, match="Events table"):
        phenotype([1, 2])
    with pytest.raises(ParameterError, match="min_count"):
        phenotype(song("ab"), min_count=0)
    with pytest.raises(ParameterError, match="bout_gap_s"):
        phenotype(song("ab"), bout_gap_s=-1)


def test_to_csv(tmp_path):
    events = concat_events([song("abab", recording="b1/x.wav"), song("ccd", recording="b/2/y.wav")])
    result = phenotype(events, animals={"b1/x.wav": "b1", "b/2/y.wav": "b/2"})
    paths = result.to_csv(tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert names == sorted(
        ["summary.csv"]
        + [
            f"{s}.{k}.csv"
            for s in ("b1", "b_2")
            for k in ("types", "transitions", "transition_probabilities")
        ]
    )
    assert all(p.exists() for p in paths)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary["animal"].tolist() == ["b1", "b/2"]
    counts = pd.read_csv(tmp_path / "out" / "b1.transitions.csv", index_col=0)
    assert counts.loc["a", "b"] == 2 and counts.loc[START, "a"] == 1
    types = pd.read_csv(tmp_path / "out" / "b_2.types.csv")
    assert types["type"].tolist() == ["c", "d"]


def test_to_csv_writes_all_or_nothing(tmp_path, monkeypatch):
    result = phenotype(song("abab"))
    calls = []

    def failing(self, path, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        return original(self, path, **kwargs)

    original = pd.DataFrame.to_csv
    monkeypatch.setattr(pd.DataFrame, "to_csv", failing)
    with pytest.raises(OSError, match="disk full"):
        result.to_csv(tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert isinstance(result, Phenotypes)


# Real songs with human labels.


@pytest.mark.realdata
def test_bengalese_finch_gy6or6():
    folder = data_folder("bengalese-finch-gy6or6")
    events = concat_events([read_events(p) for p in sorted(folder.glob("*.not.mat"))])
    animals = animal_of(
        events["recording"], by="regex", pattern=r"(?P<animal>[a-z]{2}\d[a-z]{2}\d)"
    )
    result = phenotype(events, animals=animals)
    row = result.summary.set_index("animal").loc["gy6or6"]
    assert row["n_recordings"] == 10 and row["n_syllables"] == 601
    assert row["repertoire_size"] == 11
    assert row["n_bouts"] == 10  # every within-song gap is < 0.5 s
    # Bengalese finch song branches (e -> e | f, i -> i | a, ...), so it is not linear.
    assert 0.6 < row["linearity"] < 0.9
    assert 0.75 < row["consistency"] < 0.95
    assert 0.2 < row["transition_entropy_bits"] < 0.6
    types = result.per_animal["gy6or6"].set_index("type")
    assert types.loc["i", "repeat_max"] >= 10  # introductory notes repeat
    assert types.loc["e", "repeat_max"] == 2  # the "ee" of the motif


@pytest.mark.realdata
def test_zebra_finch():
    folder = data_folder("zebra-finch-das")
    files = sorted(folder.glob("train/*.csv")) + sorted(folder.glob("test/*.csv"))
    events = concat_events([read_events(p, relative_to=folder) for p in files])
    result = phenotype(events, animals="zebra-finch")
    row = result.summary.iloc[0]
    assert row["n_syllables"] == 473 and row["n_recordings"] == 16
    assert row["repertoire_size"] == 6
    # Its motif (1 3 2 5 0 4) never varies within a bout.
    assert row["linearity"] == 1.0 and row["consistency"] == 1.0
    assert row["transition_entropy_bits"] == 0.0
    assert result.per_animal["zebra-finch"]["dominant_next"].tolist() == [
        "syll_4",
        "syll_3",
        "syll_5",
        "syll_2",
        "syll_1",
        "syll_0",
    ]
