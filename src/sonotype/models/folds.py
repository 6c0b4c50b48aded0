"""Folds over training examples for cross-validation, generalisation and learning curves.

Torch-free. A network learns from context windows centred on times inside each example, so
two examples whose windows can overlap share audio: were they in different folds, the test
fold would hold sound the network trained on. Examples are therefore grouped (connected
components of spans that come within ``reach_s`` of each other, per recording), and folds are
made of whole groups, balanced per label (stratified), in a seeded order. Background
examples (the long gaps between annotations) are cut so that their ends join the neighbouring
events' groups and their middles form groups of their own (a strip of one reach between them
is left out); otherwise one gap would chain a whole recording into one group. For
generalisation, groups are whole recordings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sonotype.checks import check_int
from sonotype.errors import ParameterError

__all__ = ["assign_folds", "check_label_counts", "overlap_groups", "split_background"]


def split_background(examples: pd.DataFrame, *, label: str | None, reach_s: float) -> pd.DataFrame:
    """Cut each ``label`` example longer than ``5 * reach_s`` into a head and a tail of
    ``reach_s`` and a middle ``reach_s`` away from both, so that the middle's windows never
    share audio with another example's (the two strips of ``reach_s`` between them are
    left out: no window is centred there).

    Parameters
    ----------
    examples : DataFrame
        With recording, start_s, stop_s, label (see
        :func:`sonotype.models.groundtruth.select_examples`).
    label : str or None
        The background label; None returns ``examples`` unchanged.
    reach_s : float
        How close two spans may come before their windows can share audio (see
        :func:`overlap_groups`).

    Returns
    -------
    DataFrame
        The examples with long background rows replaced by their three pieces, sorted by
        recording and start, index reset.
    """
    if label is None or examples.empty:
        return examples.reset_index(drop=True)
    span = examples["stop_s"] - examples["start_s"]
    long = (examples["label"] == label).to_numpy() & (span > 5 * reach_s).to_numpy()
    if not long.any():
        return examples.reset_index(drop=True)
    cut = examples[long]
    starts, stops = cut["start_s"], cut["stop_s"]
    head = cut.assign(stop_s=starts + reach_s)
    middle = cut.assign(start_s=starts + 2 * reach_s, stop_s=stops - 2 * reach_s)
    tail = cut.assign(start_s=stops - reach_s)
    out = pd.concat([examples[~long], head, middle, tail], ignore_index=True)
    return out.sort_values(["recording", "start_s"], kind="stable").reset_index(drop=True)


def overlap_groups(examples: pd.DataFrame, *, reach_s: float) -> np.ndarray:
    """Group ids: examples of one recording whose spans come closer than ``reach_s`` (the
    width of a context window plus twice the training jitter) share a group, transitively.

    Returns
    -------
    ndarray of int, shape (n,)
        Row-aligned with ``examples``; ids count from 0 in recording and time order.
    """
    if reach_s < 0:
        raise ParameterError(f"reach_s={reach_s!r} must be at least 0")
    groups = np.empty(len(examples), np.int64)
    next_id = 0
    for _, rows in sorted(examples.groupby("recording", sort=True).indices.items()):
        starts = examples["start_s"].to_numpy(float)[rows]
        stops = examples["stop_s"].to_numpy(float)[rows]
        order = np.argsort(starts, kind="stable")
        reached = -np.inf
        for i in order:
            # A window centred at the span's start reaches back half a window plus jitter;
            # one centred at the end of the earlier span reaches forward as far.
            if starts[i] - reached >= reach_s - 1e-9:  # rounding of times cut by reach_s
                next_id += 1
            groups[rows[i]] = next_id - 1
            reached = max(reached, stops[i])
    return groups


def check_label_counts(
    labels: Sequence[str],
    groups: np.ndarray,
    *,
    n_folds: int,
    option: str = "--k",
    given: str | None = None,
) -> None:
    """Raise a :class:`ParameterError` naming each label with fewer separable groups than
    folds: every fold must be able to hold some of every label.

    Parameters
    ----------
    labels : sequence of str
        Row labels.
    groups : ndarray of int
        Row groups (:func:`overlap_groups`, or recordings' codes).
    n_folds : int
        Folds wanted.
    option : str
        The option that set ``n_folds``, as the command line spells it.
    given : str, optional
        The option's value as the user gave it (default: ``n_folds``).
    """
    table = pd.DataFrame({"label": np.asarray(labels, dtype=object), "group": groups})
    counts = table.groupby("label", sort=True).agg(
        events=("group", "size"), groups=("group", "nunique")
    )
    short = counts[counts["groups"] < n_folds]
    if len(short):
        listing = ", ".join(
            f"{label!r} has {row.events} example(s) in {row.groups} separable group(s)"
            for label, row in short.iterrows()
        )
        raise ParameterError(
            f"too few examples for {option} {given or n_folds} ({n_folds} folds): {listing} "
            f"(examples whose context windows overlap count once); each label needs at least "
            f"{n_folds}: annotate more, or {'raise' if given else 'lower'} {option}",
            parameter=option.lstrip("-"),
        )


def assign_folds(
    labels: Sequence[str],
    groups: np.ndarray,
    *,
    n_folds: int,
    random_state: int = 0,
    option: str = "--k",
    given: str | None = None,
) -> np.ndarray:
    """Stratified group k-fold: each group to one fold, labels spread evenly.

    Groups are taken largest first (ties in a seeded random order) and each goes to the fold
    where it leaves the per-label counts most even (the smallest sum over labels of the
    squared counts relative to each label's total), ties going to the fold with fewest rows.

    Parameters
    ----------
    labels : sequence of str
        Row labels.
    groups : ndarray of int
        Row groups; rows of a group always share a fold.
    n_folds : int
        At least 2.
    random_state : int
        Seeds the order of equal groups.
    option, given : str
        Named in errors (see :func:`check_label_counts`).

    Returns
    -------
    ndarray of int, shape (n,)
        Fold of each row, ``0 .. n_folds - 1``.

    Raises
    ------
    ParameterError
        Fewer than 2 folds, or a label with fewer separable groups than folds.

    Examples
    --------
    >>> labels = ["a"] * 4 + ["b"] * 4
    >>> assign_folds(labels, np.arange(8), n_folds=2).tolist().count(0)
    4
    """
    check_int(n_folds, name=option.lstrip("-"), minimum=2, hint="use at least 2 folds")
    labels = np.asarray(labels, dtype=object)
    groups = np.asarray(groups)
    check_label_counts(labels, groups, n_folds=n_folds, option=option, given=given)
    names, label_codes = np.unique(labels.astype(str), return_inverse=True)
    group_ids, group_codes = np.unique(groups, return_inverse=True)
    counts = np.zeros((len(group_ids), len(names)))
    np.add.at(counts, (group_codes, label_codes), 1)
    totals = counts.sum(axis=0)
    rng = np.random.default_rng(random_state)
    shuffled = rng.permutation(len(group_ids))
    # largest groups first (they constrain the balance most); stable on the shuffled order
    order = shuffled[np.argsort(-counts[shuffled].sum(axis=1), kind="stable")]
    fold_counts = np.zeros((n_folds, len(names)))
    fold_of_group = np.empty(len(group_ids), np.int64)
    for g in order:
        trial = (fold_counts + counts[g]) / totals
        # cost of each choice: the unevenness of the folds after adding g there
        cost = (trial**2).sum(axis=1) - ((fold_counts / totals) ** 2).sum(axis=1)
        sizes = fold_counts.sum(axis=1)
        best = np.lexsort((sizes, np.round(cost, 12)))[0]
        fold_of_group[g] = best
        fold_counts[best] += counts[g]
    return fold_of_group[group_codes]
