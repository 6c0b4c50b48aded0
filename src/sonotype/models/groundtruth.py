"""Ground truth for training: which annotated events teach which label, split and balanced.

Torch-free. Point events (fly song pulses) teach at their time; interval events at a random
time inside on each draw. Unannotated time can teach a ``background`` label. Annotated labels
left out of the chosen ones are an error unless ignored or absorbed into the background.
Validation holds out whole recordings (chosen so that they carry the labels), or a stratified
percentage of the events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sonotype.checks import check_int
from sonotype.errors import ParameterError
from sonotype.intervals import complement, union

NOT_PREFIX = "not_"
#: At most this many validation windows per interval event, spread evenly inside it.
MAX_WINDOWS_PER_INTERVAL = 10
#: With at least this many annotated recordings, validation holds out whole recordings.
MIN_RECORDINGS_TO_HOLD_OUT = 3
#: Fraction of the annotated recordings held out for validation (at least one).
VALIDATION_FRACTION = 0.2
#: Percentage of each label's events held out when recordings cannot be.
DEFAULT_VALIDATE_PERCENT = 20.0


def output_labels(labels: Sequence[str], *, loss: str) -> list[str]:
    """The network's outputs: every label for ``exclusive``; without ``not_*`` for
    ``overlapped``, where ``not_X`` annotations are the negatives of output ``X``."""
    if loss == "overlapped":
        return [label for label in labels if not label.startswith(NOT_PREFIX)]
    return list(labels)


def _check_present(events: pd.DataFrame, labels: Sequence[str], background: str | None):
    present = set(events["label"])
    missing = [label for label in labels if label not in present and label != background]
    if missing:
        found = ", ".join(sorted(present)) or "none"
        raise ParameterError(
            f"no annotations with label(s) {', '.join(missing)}; the selected events have: {found}"
        )


def unlisted_labels(
    events: pd.DataFrame,
    *,
    labels: Sequence[str],
    loss: str = "exclusive",
    background: str | None = None,
    ignore: Sequence[str] = (),
    absorb: bool = False,
) -> list[str]:
    """Check that every label in ``events`` is learnt, ignored or absorbed.

    A label of the annotations that is not among ``labels`` would otherwise be silently
    left out: its sounds are then neither taught nor kept out of the background, and the
    network later labels them as whatever it resembles. ``not_X`` labels are not unlisted
    when the overlapped loss uses them as negatives of output ``X``.

    Returns
    -------
    list of str
        The unlisted labels to absorb into ``background`` (empty unless ``absorb``).

    Raises
    ------
    ParameterError
        For unlisted labels that are neither ignored nor absorbed, with their counts and
        both ways out; or for labels that no event has.
    """
    _check_present(events, labels, background)
    known = set(labels) | set(ignore) | ({background} if background else set())
    if loss == "overlapped":
        known |= {NOT_PREFIX + label for label in output_labels(labels, loss=loss)}
    counts = events["label"].value_counts()
    unlisted = sorted(label for label in counts.index if label not in known)
    if not unlisted:
        return []
    if absorb:
        if background is None:
            raise ParameterError(
                "--absorb-unlisted needs --background LABEL: the unlisted labels' time is "
                "taught as that label"
            )
        return unlisted
    listing = ", ".join(f"{label} ({counts[label]} events)" for label in unlisted)
    absorb_hint = (
        "or pass --absorb-unlisted to teach their time as the background label"
        if background is not None
        else "or pass --background LABEL --absorb-unlisted to teach their time as background"
    )
    raise ParameterError(
        f"the selected annotations have label(s) not in --labels: {listing}; add them to "
        f"--labels, list them in --ignore-labels {','.join(unlisted)} to leave them out, "
        f"{absorb_hint}"
    )


def select_examples(
    events: pd.DataFrame,
    *,
    labels: Sequence[str],
    loss: str = "exclusive",
    durations_s: Mapping[str, float] | None = None,
    background: str | None = None,
    absorb: Sequence[str] = (),
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
    absorb : list of str
        Labels whose events become examples of ``background`` (see :func:`unlisted_labels`).
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
    _check_present(events, labels, background)
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
        absorbed = events[events["label"].isin(list(absorb))]
        absorbed = pd.DataFrame(
            {
                "recording": absorbed["recording"].to_numpy(str),
                "channel": absorbed["channel"].to_numpy(int),
                "start_s": absorbed["start_s"].to_numpy(float),
                "stop_s": absorbed["stop_s"].to_numpy(float),
                "label": background,
            }
        )
        examples = pd.concat(
            [examples, absorbed, _background(events, background, durations_s, point_margin_s)],
            ignore_index=True,
        )
    elif len(absorb):
        raise ParameterError("absorbing labels needs a background label (--background)")
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
        gaps = complement(union(spans), float(durations_s[recording]), start=0.0)
        rows += [(recording, channel, a, b, label) for a, b in gaps.tolist()]
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


def choose_validation_recordings(
    examples: pd.DataFrame,
    *,
    random_state: int = 0,
    fraction: float = VALIDATION_FRACTION,
) -> list[str]:
    """Whole recordings to hold out for validation: ``fraction`` of them (at least one),
    chosen greedily so that together they carry as many labels as possible, while every
    label keeps training examples in the others. Ties are broken by a seeded shuffle.

    Returns an empty list when no recording can be held out without taking away all the
    training examples of a label.
    """
    counts = examples.groupby(["recording", "label"]).size().unstack(fill_value=0)
    order = list(np.random.default_rng(random_state).permutation(counts.index.to_numpy()))
    wanted = max(1, round(fraction * len(order)))
    chosen: list[str] = []
    covered: set[str] = set()
    while len(chosen) < wanted:
        best, best_gain = None, -1
        for recording in order:
            if recording in chosen:
                continue
            left = counts.drop(index=[*chosen, recording]).sum()
            if (left == 0).any():  # a label would have nothing to train on
                continue
            carried = set(counts.columns[counts.loc[recording] > 0])
            gain = len(carried - covered)
            if gain > best_gain:
                best, best_gain = recording, gain
        if best is None:
            break
        chosen.append(str(best))
        covered |= set(counts.columns[counts.loc[best] > 0])
    return sorted(chosen)


def equalize(examples: pd.DataFrame, *, random_state: int = 0) -> pd.DataFrame:
    """Sub-sample the training examples so that every label has as many as the rarest."""
    rng = np.random.default_rng(random_state)
    train = examples[examples["split"] == "train"]
    groups = train.groupby("label", sort=True).indices
    n = min(len(rows) for rows in groups.values())
    keep = np.concatenate([rng.choice(rows, n, replace=False) for rows in groups.values()])
    keep_index = train.index[np.sort(keep)]
    return examples[(examples["split"] != "train") | examples.index.isin(keep_index)]


def check_batch_size(examples: pd.DataFrame, batch_size: int) -> int:
    """Refuse a batch larger than the training set: every batch would repeat examples."""
    n_train = int((examples["split"] == "train").sum())
    return check_int(
        batch_size,
        name="batch_size",
        minimum=1,
        maximum=n_train,
        hint=f"there are {n_train} training examples; lower --batch-size or annotate more",
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
