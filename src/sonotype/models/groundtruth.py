"""Ground truth for training: which annotated events teach which label, split and balanced.

Torch-free. Point events (fly song pulses) teach at their time; interval events at a random
time inside on each draw. Unannotated time can teach a ``background`` label. Validation holds
out a stratified percentage of the events, or whole recordings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError

NOT_PREFIX = "not_"
#: At most this many validation windows per interval event, spread evenly inside it.
MAX_WINDOWS_PER_INTERVAL = 10


def output_labels(labels: Sequence[str], *, loss: str) -> list[str]:
    """The network's outputs: every label for ``exclusive``; without ``not_*`` for
    ``overlapped``, where ``not_X`` annotations are the negatives of output ``X``."""
    if loss == "overlapped":
        return [label for label in labels if not label.startswith(NOT_PREFIX)]
    return list(labels)


def select_examples(
    events: pd.DataFrame,
    *,
    labels: Sequence[str],
    loss: str = "exclusive",
    durations_s: Mapping[str, float] | None = None,
    background: str | None = None,
    point_margin_s: float = 0.01,
) -> pd.DataFrame:
    """Training examples from an Events table: one row per event of the chosen labels.

    Parameters
    ----------
    events : Events table
        Annotations (already filtered by kind).
    labels : list of str
        Labels to learn. With ``loss="overlapped"`` each output ``X`` also takes the
        ``not_X`` events present as negatives.
    durations_s : mapping, optional
        Recording durations in seconds; needed for ``background``.
    background : str, optional
        Name of a label for the time no event covers, in each recording that has events
        (DAS-style dense annotation: the gaps between syllables).
    point_margin_s : float
        Background stays this far from point events, so that a window centred a sample
        beside a pulse is not taught as background.

    Returns
    -------
    DataFrame with columns recording, channel, start_s, stop_s, label, point (bool).
    """
    labels = list(dict.fromkeys(labels))
    if not labels:
        raise ParameterError("labels is empty; name the labels to learn, e.g. --labels a,b")
    wanted = list(labels)
    if loss == "overlapped":
        wanted += [
            NOT_PREFIX + label
            for label in output_labels(labels, loss=loss)
            if NOT_PREFIX + label not in wanted
        ]
    chosen = events[events["label"].isin(wanted)]
    present = set(chosen["label"])
    missing = [label for label in labels if label not in present and label != background]
    if missing:
        found = ", ".join(sorted(set(events["label"]))) or "none"
        raise ParameterError(
            f"no annotations with label(s) {', '.join(missing)}; the selected events have: {found}"
        )
    examples = pd.DataFrame(
        {
            "recording": chosen["recording"].to_numpy(str),
            "channel": chosen["channel"].to_numpy(int),
            "start_s": chosen["start_s"].to_numpy(float),
            "stop_s": chosen["stop_s"].to_numpy(float),
            "label": chosen["label"].to_numpy(str),
        }
    )
    if background is not None:
        if durations_s is None:
            raise ParameterError("background needs the recordings' durations")
        examples = pd.concat(
            [examples, _background(events, background, durations_s, point_margin_s)],
            ignore_index=True,
        )
    examples["point"] = examples["start_s"] == examples["stop_s"]
    return examples.sort_values(["recording", "start_s"], kind="stable").reset_index(drop=True)


def _background(
    events: pd.DataFrame, label: str, durations_s: Mapping[str, float], point_margin_s: float
):
    """The gaps between all events (points widened by the margin), per recording and
    channel, as intervals of ``label``."""
    rows = []
    for (recording, channel), group in events.groupby(["recording", "channel"], sort=True):
        if recording not in durations_s:
            raise ParameterError(f"no duration known for recording {recording!r}")
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


def split_examples(
    examples: pd.DataFrame,
    *,
    validate_percent: float = 0.0,
    validate_recordings: Sequence[str] = (),
    random_state: int = 0,
) -> pd.DataFrame:
    """Add a ``split`` column, ``train`` or ``validation``.

    A percentage is drawn per label (stratified), so every label is validated; recordings
    named in ``validate_recordings`` are held out whole instead.
    """
    split = np.full(len(examples), "train", dtype=object)
    if validate_recordings:
        unknown = sorted(set(validate_recordings) - set(examples["recording"]))
        if unknown:
            raise ParameterError(
                f"validate_recordings names recording(s) without examples: {', '.join(unknown)}"
            )
        split[examples["recording"].isin(list(validate_recordings)).to_numpy()] = "validation"
    elif validate_percent:
        if not 0 < validate_percent < 100:
            raise ParameterError(
                f"validate_percent={validate_percent!r} must be between 0 and 100 (exclusive)"
            )
        rng = np.random.default_rng(random_state)
        for label, rows in examples.groupby("label", sort=True).indices.items():
            n_validate = max(1, round(len(rows) * validate_percent / 100))
            if len(rows) - n_validate < 1:
                raise ParameterError(
                    f"label {label!r} has only {len(rows)} example(s): too few to hold out "
                    f"{validate_percent:g}% for validation and still train on one; annotate "
                    "more, or lower --validate-percent"
                )
            split[rng.choice(rows, n_validate, replace=False)] = "validation"
    out = examples.copy()
    out["split"] = split
    untrained = sorted(set(out["label"]) - set(out.loc[out["split"] == "train", "label"]))
    if untrained:
        raise ParameterError(
            f"label(s) {', '.join(untrained)} have no training examples left after the "
            "validation split; annotate them in another recording"
        )
    return out


def equalize(examples: pd.DataFrame, *, random_state: int = 0) -> pd.DataFrame:
    """Sub-sample the training examples so that every label has as many as the rarest."""
    rng = np.random.default_rng(random_state)
    train = examples[examples["split"] == "train"]
    groups = train.groupby("label", sort=True).indices
    n = min(len(rows) for rows in groups.values())
    keep = np.concatenate([rng.choice(rows, n, replace=False) for rows in groups.values()])
    keep_index = train.index[np.sort(keep)]
    return examples[(examples["split"] != "train") | examples.index.isin(keep_index)]


def check_batch_size(examples: pd.DataFrame, batch_size: int) -> None:
    """Refuse a batch larger than the training set: every batch would repeat examples."""
    n_train = int((examples["split"] == "train").sum())
    if batch_size < 1 or batch_size > n_train:
        raise ParameterError(
            f"batch_size={batch_size} must be between 1 and the {n_train} training examples; "
            "lower --batch-size or annotate more"
        )


def validation_windows(examples: pd.DataFrame, *, spacing_s: float) -> pd.DataFrame:
    """Fixed time points to validate on: each point event once, intervals at up to
    :data:`MAX_WINDOWS_PER_INTERVAL` times spaced about ``spacing_s`` apart.

    Returns columns recording, channel, time_s, label, example (position of the row in
    ``examples``, whatever its index).
    """
    positions = np.flatnonzero(examples["split"].to_numpy() == "validation")
    held_out = examples.iloc[positions]
    durations = (held_out["stop_s"] - held_out["start_s"]).to_numpy(float)
    counts = np.clip(np.ceil(durations / spacing_s), 1, MAX_WINDOWS_PER_INTERVAL).astype(int)
    rows = np.repeat(np.arange(len(held_out)), counts)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    starts = held_out["start_s"].to_numpy(float)[rows]
    times = starts + (within + 0.5) / counts[rows] * durations[rows]
    return pd.DataFrame(
        {
            "recording": held_out["recording"].to_numpy()[rows],
            "channel": held_out["channel"].to_numpy()[rows],
            "time_s": times,
            "label": held_out["label"].to_numpy()[rows],
            "example": positions[rows],
        }
    )
