"""Ground truth: selecting, splitting and balancing examples, and the validation windows."""

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations.events import make_events
from sonotype.errors import ParameterError
from sonotype.models.groundtruth import (
    MAX_WINDOWS_PER_INTERVAL,
    check_batch_size,
    choose_validation_recordings,
    equalize,
    output_labels,
    select_examples,
    split_examples,
    unlisted_labels,
    validation_windows,
)

EXAMPLE_COLUMNS = ["recording", "channel", "start_s", "stop_s", "label", "point"]


def examples_of(counts, *, recording="r.wav", point=False):
    """Examples with ``counts[label]`` events each, one per second."""
    labels = [label for label, n in counts.items() for _ in range(n)]
    starts = np.arange(len(labels), dtype=float)
    events = make_events(recording, starts, starts if point else starts + 0.5, labels)
    return select_examples(events, labels=list(counts))


def spans(table):
    return [(r.start_s, r.stop_s) for r in table.itertuples()]


def test_output_labels():
    labels = ["a", "not_a", "b", "not_b"]
    assert output_labels(labels, loss="exclusive") == labels
    assert output_labels(labels, loss="overlapped") == ["a", "b"]


def test_select_examples_points_and_intervals():
    events = make_events(
        ["r2.wav", "r1.wav", "r1.wav", "r1.wav"],
        [0.5, 2.0, 1.0, 3.0],
        [0.5, 2.0, 1.4, 3.2],
        ["pulse", "pulse", "sine", "other"],
        channel=[0, 1, 0, 0],
    )
    examples = select_examples(events, labels=["pulse", "sine"])
    assert list(examples.columns) == EXAMPLE_COLUMNS
    assert examples[["recording", "start_s", "label"]].to_records(index=False).tolist() == [
        ("r1.wav", 1.0, "sine"),
        ("r1.wav", 2.0, "pulse"),
        ("r2.wav", 0.5, "pulse"),
    ]
    assert examples["point"].tolist() == [False, True, True]
    assert examples["channel"].tolist() == [0, 1, 0]
    assert examples["stop_s"].tolist() == [1.4, 2.0, 0.5]
    assert list(examples.index) == [0, 1, 2]


def test_select_examples_ignores_duplicate_labels():
    events = make_events("r.wav", [0.0, 1.0], [0.5, 1.5], ["a", "b"])
    assert len(select_examples(events, labels=["a", "a", "b"])) == 2


def test_select_examples_needs_labels():
    events = make_events("r.wav", [0.0], [0.5], ["a"])
    with pytest.raises(ParameterError, match="labels is empty"):
        select_examples(events, labels=[])


def test_overlapped_loss_adds_not_labels():
    events = make_events(
        "r.wav",
        [0.0, 1.0, 2.0, 3.0, 4.0],
        [0.5, 1.5, 2.5, 3.5, 4.5],
        ["a", "not_a", "b", "not_c", "c"],
    )
    overlapped = select_examples(events, labels=["a", "b"], loss="overlapped")
    assert overlapped["label"].tolist() == ["a", "not_a", "b"]
    exclusive = select_examples(events, labels=["a", "b"], loss="exclusive")
    assert exclusive["label"].tolist() == ["a", "b"]


def test_missing_label_lists_the_labels_found():
    events = make_events("r.wav", [0.0, 1.0], [0.5, 1.5], ["a", "b"])
    with pytest.raises(ParameterError, match="label\\(s\\) zzz") as info:
        select_examples(events, labels=["a", "zzz"])
    assert "the selected events have: a, b" in str(info.value)


def test_missing_label_with_no_events_at_all():
    events = make_events("r.wav", [], [], [])
    with pytest.raises(ParameterError, match="have: none"):
        select_examples(events, labels=["a"])


def test_background_is_the_exact_gaps_between_events():
    events = make_events(
        ["r1.wav"] * 6 + ["r2.wav", "r1.wav"],
        [1.0, 1.5, 2.5, 5.0, 9.0, 3.5, 0.0, 4.0],
        [2.0, 3.0, 2.8, 5.0, 10.0, 4.0, 1.0, 6.0],
        ["a", "a", "b", "p", "a", "other", "a", "a"],
        channel=[0, 0, 0, 0, 0, 0, 0, 1],
    )
    durations = {"r1.wav": 10.0, "r2.wav": 4.0}
    examples = select_examples(
        events, labels=["a", "b", "p", "bg"], durations_s=durations, background="bg"
    )
    background = examples[examples["label"] == "bg"]
    got = sorted(
        zip(background["recording"], background["channel"], spans(background), strict=True)
    )
    assert [(r, c, (round(a, 9), round(b, 9))) for r, c, (a, b) in got] == [
        ("r1.wav", 0, (0.0, 1.0)),  # from the start; [1, 2] and [1.5, 3] overlap
        ("r1.wav", 0, (3.0, 3.5)),  # an event of another label still covers its time
        ("r1.wav", 0, (4.0, 4.99)),  # the point at 5 s splits the gap, 10 ms either side kept
        ("r1.wav", 0, (5.01, 9.0)),  # free of background; [9, 10] reaches the end
        ("r1.wav", 1, (0.0, 4.0)),  # each channel on its own
        ("r1.wav", 1, (6.0, 10.0)),
        ("r2.wav", 0, (1.0, 4.0)),  # to the end of the recording
    ]
    assert not background["point"].any()
    assert "other" not in set(examples["label"])
    # background examples never overlap an event of the same recording and channel
    for row in background.itertuples():
        same = events[(events["recording"] == row.recording) & (events["channel"] == row.channel)]
        assert not ((same["start_s"] < row.stop_s) & (same["stop_s"] > row.start_s)).any()


def test_background_with_an_event_nested_inside_another():
    events = make_events("r.wav", [1.0, 2.0, 6.0], [5.0, 3.0, 7.0], ["a", "a", "a"])
    examples = select_examples(
        events, labels=["a", "bg"], durations_s={"r.wav": 8.0}, background="bg"
    )
    assert spans(examples[examples["label"] == "bg"]) == [(0.0, 1.0), (5.0, 6.0), (7.0, 8.0)]


def _old_background(events, label, durations_s, point_margin_s):
    """The sweep ``_background`` used before :mod:`sonotype.intervals` (the reference the
    new one must agree with)."""
    rows = []
    for (recording, channel), group in events.groupby(["recording", "channel"], sort=True):
        spans = group[["start_s", "stop_s"]].to_numpy(float)
        points = spans[:, 0] == spans[:, 1]
        spans[points] += [-point_margin_s, point_margin_s]
        spans = spans[np.argsort(spans[:, 0], kind="stable")]
        covered_until = np.maximum.accumulate(spans[:, 1])
        starts = np.concatenate([[0.0], covered_until])
        stops = np.concatenate([spans[:, 0], [durations_s[recording]]])
        keep = stops > starts
        rows += [
            (recording, channel, a, b, label)
            for a, b in zip(starts[keep], stops[keep], strict=True)
        ]
    return pd.DataFrame(rows, columns=["recording", "channel", "start_s", "stop_s", "label"])


def test_background_agrees_with_the_former_sweep_on_random_events(rng):
    from sonotype.models.groundtruth import _background

    for _ in range(60):
        n = int(rng.integers(1, 30))
        # Starts on a coarse grid, so that events touch, nest, repeat and sit at 0 or the end.
        starts = rng.integers(0, 20, n) * 0.5
        lengths = rng.choice([0.0, 0.0, 0.5, 1.0, 2.5, 7.0], n)
        events = make_events(
            rng.choice(["r1.wav", "r2.wav"], n),
            starts,
            starts + lengths,
            rng.choice(["a", "b"], n),
            channel=rng.integers(0, 2, n),
        )
        durations = {"r1.wav": 10.0, "r2.wav": float(rng.choice([4.0, 9.75, 30.0]))}
        margin = float(rng.choice([0.0, 0.01, 0.5]))
        want = _old_background(events, "bg", durations, margin)
        got = _background(events, "bg", durations, margin)
        pd.testing.assert_frame_equal(got, want)


def test_background_needs_durations():
    events = make_events("r.wav", [1.0], [2.0], ["a"])
    with pytest.raises(ParameterError, match="durations"):
        select_examples(events, labels=["a", "bg"], background="bg")
    with pytest.raises(ParameterError, match=r"r\.wav"):
        select_examples(events, labels=["a", "bg"], background="bg", durations_s={"x.wav": 3})


def test_split_stratified_percent_validates_every_label():
    examples = examples_of({"a": 20, "b": 10, "c": 5})
    split = split_examples(examples, validate_percent=20, random_state=3)
    assert list(split.columns) == [*EXAMPLE_COLUMNS, "split"]
    held = split[split["split"] == "validation"]["label"].value_counts().to_dict()
    assert held == {"a": 4, "b": 2, "c": 1}
    assert set(split["split"]) == {"train", "validation"}
    pd.testing.assert_frame_equal(split.drop(columns="split"), examples)
    again = split_examples(examples, validate_percent=20, random_state=3)
    pd.testing.assert_frame_equal(split, again)
    other = split_examples(examples, validate_percent=20, random_state=4)
    assert not split["split"].equals(other["split"])


def test_split_at_least_one_per_label():
    split = split_examples(examples_of({"a": 30, "b": 3}), validate_percent=5)
    assert split.groupby("label")["split"].apply(lambda s: (s == "validation").sum()).to_dict() == {
        "a": 2,
        "b": 1,
    }


def test_split_without_validation():
    split = split_examples(examples_of({"a": 2}))
    assert split["split"].tolist() == ["train", "train"]


def test_split_too_few_examples():
    with pytest.raises(ParameterError, match="label 'b' has only 1 example"):
        split_examples(examples_of({"a": 10, "b": 1}), validate_percent=10)


@pytest.mark.parametrize("percent", [-5, 100, 150])
def test_split_percent_out_of_range(percent):
    with pytest.raises(ParameterError, match="validate_percent"):
        split_examples(examples_of({"a": 10}), validate_percent=percent)


def test_split_by_recording():
    examples = pd.concat(
        [examples_of({"a": 3, "b": 2}, recording=r) for r in ("r1.wav", "r2.wav", "r3.wav")],
        ignore_index=True,
    )
    split = split_examples(examples, validate_recordings=["r2.wav", "r3.wav"])
    assert (split["split"] == "validation").tolist() == (split["recording"] != "r1.wav").tolist()


def test_split_by_unknown_recording():
    with pytest.raises(ParameterError, match=r"nope\.wav"):
        split_examples(examples_of({"a": 3}), validate_recordings=["r.wav", "nope.wav"])


def test_split_leaving_a_label_without_training_examples():
    examples = pd.concat(
        [examples_of({"a": 3}, recording="r1.wav"), examples_of({"a": 1, "b": 2}, recording="r2")],
        ignore_index=True,
    )
    with pytest.raises(ParameterError, match="label\\(s\\) b have no training examples"):
        split_examples(examples, validate_recordings=["r2"])


def test_equalize_to_the_rarest_label():
    examples = split_examples(examples_of({"a": 30, "b": 12, "c": 7}), validate_percent=20)
    balanced = equalize(examples, random_state=1)
    train = balanced[balanced["split"] == "train"]
    assert train["label"].value_counts().to_dict() == {"a": 6, "b": 6, "c": 6}
    held = examples[examples["split"] == "validation"]
    pd.testing.assert_frame_equal(balanced[balanced["split"] == "validation"], held)
    assert balanced.index.isin(examples.index).all()  # rows are kept, not altered
    pd.testing.assert_frame_equal(balanced, examples.loc[balanced.index])
    pd.testing.assert_frame_equal(balanced, equalize(examples, random_state=1))


def test_equalize_balanced_set_is_unchanged():
    examples = split_examples(examples_of({"a": 4, "b": 4}))
    pd.testing.assert_frame_equal(equalize(examples), examples)


def test_check_batch_size():
    examples = split_examples(examples_of({"a": 10, "b": 10}), validate_percent=20)
    check_batch_size(examples, 16)
    check_batch_size(examples, 1)
    for bad in (0, 17):
        with pytest.raises(
            ParameterError,
            match=f"batch_size={bad} must be an integer in \\[1, 16\\]; there are 16 training",
        ):
            check_batch_size(examples, bad)


def test_validation_windows_points_once():
    examples = split_examples(examples_of({"p": 10}, point=True), validate_percent=30)
    windows = validation_windows(examples, spacing_s=0.01)
    held = examples[examples["split"] == "validation"]
    assert list(windows.columns) == ["recording", "channel", "time_s", "label", "example"]
    assert len(windows) == len(held) == 3
    assert windows["time_s"].tolist() == held["start_s"].tolist()
    assert windows["label"].tolist() == ["p"] * 3


def test_validation_windows_spread_evenly_inside_intervals():
    events = make_events(
        "r.wav", [0.0, 10.0, 20.0, 30.0], [1.0, 10.05, 120.0, 30.0], ["a", "a", "b", "c"]
    )
    examples = select_examples(events, labels=["a", "b", "c"])
    examples["split"] = "validation"
    windows = validation_windows(examples, spacing_s=0.25)
    per_example = windows.groupby("example")["time_s"].apply(list).to_dict()
    assert per_example[0] == pytest.approx([0.125, 0.375, 0.625, 0.875])  # 1 s: 4 windows
    assert per_example[1] == pytest.approx([10.025])  # shorter than the spacing: its middle
    assert len(per_example[2]) == MAX_WINDOWS_PER_INTERVAL  # 100 s: capped
    assert np.diff(per_example[2]) == pytest.approx([10.0] * (MAX_WINDOWS_PER_INTERVAL - 1))
    assert per_example[3] == [30.0]
    for example, times in per_example.items():
        start, stop = examples.loc[example, ["start_s", "stop_s"]]
        assert all(start < t < stop for t in times) or start == stop == times[0]


def test_validation_windows_only_from_validation_rows():
    examples = split_examples(examples_of({"a": 10, "b": 10}), validate_percent=20)
    windows = validation_windows(examples, spacing_s=0.1)
    held = np.flatnonzero(examples["split"] == "validation")
    assert sorted(set(windows["example"])) == held.tolist()
    assert windows.groupby("example").size().eq(5).all()  # 0.5 s intervals every 0.1 s


def test_validation_windows_name_row_positions_after_equalize():
    """``example`` is a row position, also in a table whose index has gaps."""
    examples = split_examples(examples_of({"a": 30, "b": 6}), validate_percent=20)
    balanced = equalize(examples)
    assert not balanced.index.equals(pd.RangeIndex(len(balanced)))
    windows = validation_windows(balanced, spacing_s=1.0)
    rows = balanced.iloc[windows["example"].to_numpy()]
    assert (rows["split"] == "validation").all()
    assert rows["label"].tolist() == windows["label"].tolist()
    assert (rows["start_s"].to_numpy() <= windows["time_s"].to_numpy()).all()
    assert (windows["time_s"].to_numpy() <= rows["stop_s"].to_numpy()).all()


def test_validation_windows_without_validation():
    windows = validation_windows(split_examples(examples_of({"a": 3})), spacing_s=0.1)
    assert windows.empty
    assert list(windows.columns) == ["recording", "channel", "time_s", "label", "example"]


def test_unlisted_labels_not_x_negatives_count_only_for_the_overlapped_loss():
    events = make_events("r.wav", [0, 1, 2, 3], [0, 1.5, 2.5, 3.5], ["p", "not_p", "not_q", "x"])
    assert unlisted_labels(events, labels=["p"], loss="overlapped", ignore=["not_q", "x"]) == []
    with pytest.raises(ParameterError, match=r"not_p \(1 events\), not_q \(1 events\)"):
        unlisted_labels(events, labels=["p"], loss="exclusive", ignore=["x"])
    assert unlisted_labels(
        events, labels=["p", "not_p"], loss="exclusive", background="bg", absorb=True
    ) == ["not_q", "x"]


def test_validation_recordings_carry_the_labels_and_leave_each_label_training_examples():
    def table(recording, counts):
        return examples_of(counts, recording=recording)

    examples = pd.concat(
        [
            table("r0", {"a": 5}),
            table("r1", {"a": 5, "b": 2}),  # carries both labels
            table("r2", {"a": 5, "b": 2}),
            table("r3", {"a": 5, "c": 3}),  # the only c: never held out
            table("r4", {"a": 5}),
        ],
        ignore_index=True,
    )
    for seed in range(5):
        held = choose_validation_recordings(examples, random_state=seed)
        assert len(held) == 1 and held[0] in ("r1", "r2")
    assert len(choose_validation_recordings(examples, fraction=0.6)) == 3
    alone = pd.concat([table("r0", {"a": 2}), table("r1", {"b": 2})], ignore_index=True)
    assert choose_validation_recordings(alone) == []
