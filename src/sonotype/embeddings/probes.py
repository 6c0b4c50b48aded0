"""Probes: small classifiers trained on an embedding set's vectors to predict labels.

A probe measures how much of a labelling an embedding makes linearly (``linear``: logistic
regression) or nearly linearly (``mlp``: one hidden layer of 256 ReLU units) readable, and,
once trained, is a classifier: :func:`apply_probe` turns any set of the same model into
``predicted`` events that the ethogram, accuracy and export commands understand.

How a probe is trained and measured (:func:`train_probe`):

- **Split by recording.** Rows of one recording never straddle train and test (windows of
  one recording share noise and individuals; a random split would flatter the probe).
  The split is the first fold (or the ``fold``-th) of scikit-learn's ``StratifiedGroupKFold``
  with ``round(1 / test_fraction)`` folds (4 at the default 0.25), shuffled with ``random_state``,
  so each class is spread over both sides as far as its recordings allow. Where a class
  comes from one recording only, split by blocks of seconds instead (:func:`split_groups`).
- **Inputs standardised** with the training rows' mean and standard deviation.
- **Linear**: ``LogisticRegression(C=1, class_weight="balanced", max_iter=2000)``: balanced
  weights so a large background class does not drown the rare calls. **MLP**:
  ``MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-3, max_iter=300)``, with early
  stopping on 10% of the training rows from 1,000 rows up.
  These are scikit-learn's usual settings, not tuned on any test split.
- **Scores** on the test rows: accuracy, macro accuracy (the mean of the per-class recalls,
  i.e. balanced accuracy: each class counts the same however rare), macro F1, and per class
  precision, recall, F1 and support; the confusion matrix (rows: true, columns: predicted).

The saved probe holds no pickle: its weights are plain arrays (``weights.npz``, read with
``allow_pickle=False``) and its description JSON, so opening a probe from elsewhere can never
run code. :meth:`Probe.predict_proba` computes the network's forward pass in numpy; a test
checks it against scikit-learn's own.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sonotype.annotations.events import make_events
from sonotype.atomic import atomic_paths
from sonotype.errors import ParameterError

PROBES_DIR = Path("artifacts") / "probes"
KINDS = ("linear", "mlp")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


@dataclass
class ProbeScores:
    """How well a probe predicts its test rows."""

    accuracy: float
    macro_accuracy: float
    macro_f1: float
    per_class: pd.DataFrame  # label, precision, recall, f1, support
    confusion: pd.DataFrame  # rows true labels, columns predicted labels
    n_train: int
    n_test: int
    test_recordings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "macro_accuracy": self.macro_accuracy,
            "macro_f1": self.macro_f1,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "test_recordings": self.test_recordings,
        }


@dataclass
class Probe:
    """A trained probe: standardisation, dense layers and the class names.

    ``weights`` and ``biases`` are the layers in order; hidden layers use ReLU; the output is
    a softmax over ``classes``, or (one output unit, two classes) a logistic for the second.
    """

    name: str
    kind: str
    classes: list[str]
    mean: np.ndarray
    scale: np.ndarray
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    embedding: str = ""
    model: str = ""
    unit: str = ""
    labels_from: str = ""
    background: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def dimensions(self) -> int:
        return int(self.mean.shape[0])

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape ``(n, n_classes)``, for vectors ``X`` ``(n, d)``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.dimensions:
            raise ParameterError(
                f"probe {self.name!r} takes {self.dimensions}-d vectors; got shape {X.shape}: "
                "apply it to a set of the model it was trained on",
                parameter="embedding",
            )
        h = (X - self.mean) / self.scale
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w + b
            if i < len(self.weights) - 1:
                np.maximum(h, 0, out=h)
        if h.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-np.clip(h[:, 0], -500, 500)))
            return np.column_stack([1 - p, p])
        h -= h.max(axis=1, keepdims=True)
        np.exp(h, out=h)
        return h / h.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return np.asarray(self.classes, dtype=object)[self.predict_proba(X).argmax(axis=1)]


def check_probe_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise ParameterError(
            f"--name {name!r}: a probe name is 1-80 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            parameter="name",
        )
    return name


def split_groups(events: pd.DataFrame, *, group_s: float | None = None) -> np.ndarray:
    """The unit of the train/test split for each row: its recording, or with ``group_s`` its
    recording and block of ``group_s`` seconds (``"rec.wav#3"``: rows starting in
    ``[3 group_s, 4 group_s)``).

    Blocks are for data where a class comes from one recording only (a clip per species):
    splitting by recording would hold out every row of that class. Rows of neighbouring
    blocks share the recording's noise and individual, and rows that straddle a block
    boundary overlap rows of the next block, so block scores flatter the embedding more
    than recording scores do; use windows whose hop equals their length.

    Examples
    --------
    >>> ev = pd.DataFrame({"recording": ["a.wav"] * 3, "start_s": [0.0, 2.5, 5.0]})
    >>> split_groups(ev).tolist(), split_groups(ev, group_s=3).tolist()
    (['a.wav', 'a.wav', 'a.wav'], ['a.wav#0', 'a.wav#0', 'a.wav#1'])
    """
    recordings = events["recording"].astype(str).to_numpy()
    if group_s is None:
        return recordings
    if not (group_s > 0 and np.isfinite(group_s)):
        raise ParameterError(
            f"group_s={group_s} must be a positive number of seconds, or left out to split by "
            "recording",
            parameter="group_s",
        )
    block = np.floor(events["start_s"].to_numpy(float) / group_s).astype(np.int64)
    return np.char.add(np.char.add(recordings.astype(str), "#"), block.astype(str)).astype(object)


def split_by_recording(
    y: np.ndarray,
    groups: np.ndarray,
    *,
    test_fraction: float = 0.25,
    random_state: int = 0,
    fold: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices, no recording on both sides (see the module notes).

    ``fold`` picks which of the folds is the test side (0, the default, is the first; it is
    taken modulo the number of folds), so a caller can cross-validate over every fold.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    if not 0 < test_fraction < 1:
        raise ParameterError(
            f"test_fraction={test_fraction} must be between 0 and 1; the default is 0.25",
            parameter="test_fraction",
        )
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise ParameterError(
            f"the labelled rows come from {n_groups} recording; a probe is tested on "
            "recordings it did not see, so it needs rows from at least 2 recordings",
            parameter="embedding",
        )
    folds = min(n_groups, max(2, round(1 / test_fraction)))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=random_state)
    splits = list(splitter.split(np.zeros(len(y)), y, groups))
    return splits[fold % len(splits)]


def fit_probe(X, y, *, kind: str = "linear", random_state: int = 0, name: str = "probe") -> Probe:
    """Fit a probe on all of ``X`` ``(n, d)`` and labels ``y`` (no split, no scores)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    if kind not in KINDS:
        raise ParameterError(f"kind={kind!r}: choose one of {', '.join(KINDS)}", parameter="kind")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=object).astype(str)
    classes = np.unique(y)
    if len(classes) < 2:
        raise ParameterError(
            f"the training rows have {len(classes)} label ({', '.join(classes)}); a probe "
            "needs at least 2: label more, or use a background class",
            parameter="labels_from",
        )
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0  # a constant dimension carries nothing; leave it at 0
    Z = (X - mean) / scale
    if kind == "linear":
        clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    else:
        clf = MLPClassifier(
            hidden_layer_sizes=(256,),
            alpha=1e-3,
            early_stopping=len(y) >= 1000,  # too few rows: its 10% validation split is noise
            max_iter=300,
            random_state=random_state,
        )
    # Not converging within the iterations is recorded with the probe (and said by the CLI),
    # not printed as a library warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(Z, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if kind == "linear":
        weights, biases = [clf.coef_.T.copy()], [clf.intercept_.copy()]
    else:
        weights, biases = [w.copy() for w in clf.coefs_], [b.copy() for b in clf.intercepts_]
    return Probe(
        name=name,
        kind=kind,
        classes=[str(c) for c in clf.classes_],
        mean=mean,
        scale=scale,
        weights=weights,
        biases=biases,
        info={"converged": converged},
    )


def score_probe(probe: Probe, X, y) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
    """Accuracy, macro accuracy, macro F1; the per-class table; the confusion matrix."""
    from sklearn import metrics

    y = np.asarray(y, dtype=object).astype(str)
    predicted = probe.predict(X).astype(str)
    labels = sorted(set(y) | set(probe.classes))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0
    )
    per_class = pd.DataFrame(
        {"label": labels, "precision": precision, "recall": recall, "f1": f1, "support": support}
    )
    present = per_class["support"] > 0
    scores = {
        "accuracy": float(np.mean(predicted == y)),
        # Over the classes present in the test rows: a class the test split lacks has no recall.
        "macro_accuracy": float(per_class.loc[present, "recall"].mean()),
        "macro_f1": float(per_class.loc[present, "f1"].mean()),
    }
    confusion = pd.DataFrame(
        metrics.confusion_matrix(y, predicted, labels=labels), index=labels, columns=labels
    )
    confusion.index.name, confusion.columns.name = "true", "predicted"
    return scores, per_class, confusion


def train_probe(
    X,
    labels,
    groups,
    *,
    kind: str = "linear",
    test_fraction: float = 0.25,
    random_state: int = 0,
    fold: int = 0,
    name: str = "probe",
    background: str | None = None,
) -> tuple[Probe, ProbeScores]:
    """Train a probe on the training recordings and score it on the test recordings.

    Parameters
    ----------
    X : array, shape (n, d)
        Vectors (an embedding set's, memory-mapped is fine: only labelled rows are read).
    labels : array of str, shape (n,)
        One label per row; ``""`` rows are left out.
    groups : array, shape (n,)
        The recording of each row: the unit of the split.
    kind : {"linear", "mlp"}
    test_fraction : float
        About this share of the recordings is held out (see the module notes).
    random_state : int
        Seeds the split and the MLP.
    fold : int
        Which fold of the split is the test side (see :func:`split_by_recording`).
    name : str
    background : str, optional
        The class that means "none of the others" (``"background"`` for windows): recorded
        with the probe so :func:`apply_probe` reports no events of it.

    Returns
    -------
    (Probe, ProbeScores)
        The probe fitted on the training recordings (the one scored), and its scores.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["a", "b"], 40)
    >>> X = rng.normal(size=(80, 8)) + (y == "b")[:, None] * 3
    >>> probe, scores = train_probe(X, y, np.arange(80) % 8)
    >>> scores.macro_accuracy
    1.0
    """
    labels = np.asarray(labels, dtype=object).astype(str)
    groups = np.asarray(groups).astype(str)
    if not (len(labels) == len(groups) == len(X)):
        raise ParameterError(
            f"{len(X)} vectors, {len(labels)} labels and {len(groups)} groups: they must be "
            "row-aligned"
        )
    keep = np.flatnonzero(labels != "")
    if not len(keep):
        raise ParameterError(
            "no row has a label: check --labels-from (and --min-overlap), or use "
            "--background to keep unlabelled windows as a class",
            parameter="labels_from",
        )
    y, g = labels[keep], groups[keep]
    train, test = split_by_recording(
        y, g, test_fraction=test_fraction, random_state=random_state, fold=fold
    )
    X_train = np.asarray(X[keep[train]], dtype=np.float64)
    X_test = np.asarray(X[keep[test]], dtype=np.float64)
    probe = fit_probe(X_train, y[train], kind=kind, random_state=random_state, name=name)
    summary, per_class, confusion = score_probe(probe, X_test, y[test])
    scores = ProbeScores(
        **summary,
        per_class=per_class,
        confusion=confusion,
        n_train=len(train),
        n_test=len(test),
        test_recordings=sorted({str(r) for r in g[test]}),
    )
    probe.background = background if background in probe.classes else None
    probe.info.update(scores.summary(), kind=kind, test_fraction=test_fraction,
                      random_state=random_state)  # fmt: skip
    return probe, scores


# -- saving and loading ----------------------------------------------------------------------


def probe_folder(project_dir: Path, name: str) -> Path:
    return Path(project_dir) / PROBES_DIR / check_probe_name(name)


def save_probe(project_dir: Path, probe: Probe) -> Path:
    """Write ``probe`` under ``artifacts/probes/NAME/`` (atomically; replacing one of that name)."""
    folder = probe_folder(project_dir, probe.name)
    arrays = {"mean": probe.mean, "scale": probe.scale}
    for i, (w, b) in enumerate(zip(probe.weights, probe.biases, strict=True)):
        arrays[f"weight_{i}"], arrays[f"bias_{i}"] = w, b
    description = {k: v for k, v in asdict(probe).items() if k not in (*arrays, "weights",
                                                                        "biases")}  # fmt: skip
    description["layers"] = len(probe.weights)
    with atomic_paths([folder / "weights.npz", folder / "probe.json"]) as (npz_tmp, json_tmp):
        buffer = io.BytesIO()
        np.savez(buffer, **{k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})
        npz_tmp.write_bytes(buffer.getvalue())
        json_tmp.write_text(json.dumps(description, indent=2, sort_keys=True, default=str))
    return folder


def load_probe(project_dir: Path, name: str) -> Probe:
    """The saved probe ``name``; a missing one is an error listing those there are."""
    folder = probe_folder(project_dir, name)
    if not (folder / "probe.json").is_file():
        there = list_probes(project_dir)
        raise ParameterError(
            f"probe {name!r} does not exist; "
            + (
                f"the project has {', '.join(there)}"
                if there
                else "train one with `sonotype probe --embedding N --labels-from SOURCE --name P`"
            ),
            parameter="probe",
        )
    description = json.loads((folder / "probe.json").read_text())
    with np.load(folder / "weights.npz", allow_pickle=False) as arrays:
        layers = int(description.pop("layers"))
        weights = [arrays[f"weight_{i}"] for i in range(layers)]
        biases = [arrays[f"bias_{i}"] for i in range(layers)]
        mean, scale = arrays["mean"], arrays["scale"]
    return Probe(mean=mean, scale=scale, weights=weights, biases=biases, **description)


def list_probes(project_dir: Path) -> list[str]:
    root = Path(project_dir) / PROBES_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "probe.json").is_file())


# -- applying --------------------------------------------------------------------------------


def apply_probe(
    probe: Probe, embedding, *, min_score: float = 0.0, merge: bool | None = None
) -> pd.DataFrame:
    """``predicted`` events from a probe applied to every row of an embedding set.

    Parameters
    ----------
    probe : Probe
    embedding : EmbeddingSet
        Of the model the probe was trained on (checked by name and dimensions).
    min_score : float
        Rows whose top probability is below this are not reported.
    merge : bool, optional
        Join overlapping or touching rows of one recording and channel with the same
        predicted label into one event (score: their highest), as an ethogram does; by default
        for windows and not for events.

    Returns
    -------
    DataFrame
        An Events table (kind ``predicted``, source the probe's name, ``score`` the top
        probability). Rows predicted as the probe's background class are left out.
    """
    if probe.model and embedding.model != probe.model:
        raise ParameterError(
            f"--embedding {embedding.name!r} holds {embedding.model!r} vectors but probe "
            f"{probe.name!r} was trained on {probe.model!r} ones; apply it to a "
            f"{probe.model!r} set",
            parameter="embedding",
        )
    merge = embedding.unit == "windows" if merge is None else merge
    rows = embedding.events.reset_index(drop=True)
    labels, scores = [], []
    for start in range(0, len(rows), 65536):  # blocks: a memory-mapped set stays on disk
        p = probe.predict_proba(embedding.vectors[start : start + 65536])
        labels.append(np.asarray(probe.classes, dtype=object)[p.argmax(axis=1)])
        scores.append(p.max(axis=1))
    label = np.concatenate(labels) if labels else np.array([], dtype=object)
    score = np.concatenate(scores) if scores else np.array([])
    keep = (score >= min_score) & (label != (probe.background or "\0"))
    picked = rows.loc[keep, ["recording", "start_s", "stop_s", "channel"]].assign(
        label=label[keep], score=score[keep]
    )
    if merge and len(picked):
        picked = _merge_runs(picked)
    return make_events(
        picked["recording"].tolist(),
        picked["start_s"].to_numpy(),
        picked["stop_s"].to_numpy(),
        picked["label"].astype(str).tolist(),
        kind="predicted",
        channel=picked["channel"].astype(int).tolist(),
        source=probe.name,
        score=picked["score"].to_numpy(),
        where=f"probe {probe.name!r}",
    )


def _merge_runs(rows: pd.DataFrame) -> pd.DataFrame:
    """Overlapping or touching same-label rows of one recording and channel as one event."""
    rows = rows.sort_values(["recording", "channel", "label", "start_s"], kind="mergesort")
    key = rows[["recording", "channel", "label"]].astype(str).agg("\0".join, axis=1).to_numpy()
    start = rows["start_s"].to_numpy()
    stop = rows["stop_s"].to_numpy()
    # Running maximum of the stops within each key: a new event starts where a row begins
    # after everything before it (same key) has ended.
    reach = pd.Series(stop).groupby(key).cummax().to_numpy()
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (start[1:] > reach[:-1] + 1e-9)
    run = np.cumsum(new)
    merged = (
        rows.assign(_run=run)
        .groupby("_run", sort=False)
        .agg(
            recording=("recording", "first"),
            channel=("channel", "first"),
            label=("label", "first"),
            start_s=("start_s", "min"),
            stop_s=("stop_s", "max"),
            score=("score", "max"),
        )
    )
    return merged.sort_values(["recording", "start_s"], kind="mergesort").reset_index(drop=True)
