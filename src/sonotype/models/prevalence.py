"""Re-weighting probabilities from the label frequencies of training to those expected.

Torch-free (numpy only), so that a command can check ``--prevalence`` before any work, and
apply it to probabilities on disk, without loading torch.
"""

from __future__ import annotations

import numpy as np

from sonotype.errors import ParameterError


def adjust_prevalence(
    probabilities: np.ndarray,
    *,
    labels: list[str],
    train_prevalence: dict[str, float],
    prevalence: dict[str, float],
    loss: str = "exclusive",
) -> np.ndarray:
    """Re-weight probabilities from the label frequencies of training to those expected.

    Training examples are often balanced, while in the recordings some labels are rare; by
    Bayes' rule each label's probability scales with ``prevalence / train_prevalence``
    (then renormalised over labels for exclusive labels; for independent sigmoid outputs
    the odds are scaled instead). ``prevalence`` gives relative weights (durations or
    probabilities; only their ratios matter for exclusive labels) for some or all labels;
    labels not named keep their training weight.

    Examples
    --------
    >>> p = np.array([[0.5, 0.5]])
    >>> adjust_prevalence(p, labels=["song", "noise"], train_prevalence={"song": 0.5,
    ...     "noise": 0.5}, prevalence={"song": 0.1, "noise": 0.9}).round(2)
    array([[0.1, 0.9]])
    """
    unknown = sorted(set(prevalence) - set(labels))
    if unknown:
        raise ParameterError(
            f"prevalence names unknown label(s) {', '.join(unknown)}; the model's labels are "
            f"{', '.join(labels)}"
        )
    if any(not (v > 0 and np.isfinite(v)) for v in prevalence.values()):
        raise ParameterError(f"prevalence values must be positive numbers, got {prevalence}")
    train = np.array([train_prevalence.get(label, 0.0) for label in labels])
    if loss == "exclusive":
        named = np.array([label in prevalence for label in labels])
        # Unnamed labels keep their training share of the total.
        target = np.array([prevalence.get(label, 0.0) for label in labels], float)
        if named.any() and (~named).any():
            target[named] *= (1 - train[~named].sum()) / target[named].sum()
        target[~named] = train[~named]
        weights = np.where(train > 0, target / np.where(train > 0, train, 1), 1.0)
        adjusted = probabilities * weights
        return (adjusted / adjusted.sum(axis=1, keepdims=True)).astype(probabilities.dtype)
    weights = np.array(
        [
            prevalence[label] / train_prevalence[label]
            if label in prevalence and train_prevalence.get(label)
            else 1.0
            for label in labels
        ]
    )
    p = np.clip(probabilities, 1e-7, 1 - 1e-7)
    odds = p / (1 - p) * weights
    return (odds / (1 + odds)).astype(probabilities.dtype)
