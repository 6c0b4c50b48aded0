"""Window labels by overlap, probe training, saving, applying, and the probe commands."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.annotations.events import make_events
from sonotype.cli.main import app
from sonotype.embeddings.labels import overlap_labels, resolve_labels
from sonotype.embeddings.probes import (
    Probe,
    apply_probe,
    fit_probe,
    load_probe,
    save_probe,
    split_by_recording,
    train_probe,
)
from sonotype.embeddings.sets import EmbeddingSet, load_embedding_set
from sonotype.errors import ParameterError
from tests.embeddings.test_probes_fixtures import make_project

runner = CliRunner()


@pytest.fixture
def project(tmp_path):
    with make_project(tmp_path / "p") as p:
        yield p


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


# -- labels by overlap -----------------------------------------------------------------------


def test_overlap_uses_the_shorter_duration_and_the_minimum():
    rows = make_events("r.wav", [0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0], "")
    notes = make_events(
        ["r.wav", "r.wav", "r.wav"], [0.1, 1.7, 2.5], [0.3, 2.7, 5.0], ["chip", "trill", "hum"]
    )
    # Window 1 holds 0.3 s of the 1.0 s trill (0.3 < 0.5); window 2 holds 0.7 s of it and
    # 0.5 s of hum: trill has more seconds; window 3 lies inside hum.
    assert overlap_labels(rows, notes).tolist() == ["chip", "background", "trill", "hum"]
    assert overlap_labels(rows, notes, min_overlap=0.25).tolist()[1] == "trill"
    multi = overlap_labels(rows, notes, multi_label=True)
    assert multi.tolist() == [("chip",), ("background",), ("hum", "trill"), ("hum",)]
    assert overlap_labels(rows, notes, background=None).tolist()[1] == ""


def test_point_annotations_go_to_one_window_of_a_tiling():
    rows = make_events("r.wav", [0.0, 1.0], [1.0, 2.0], "")
    pulse = make_events("r.wav", [1.0], [1.0], ["pulse"])
    assert overlap_labels(rows, pulse).tolist() == ["background", "pulse"]


def test_only_the_same_recording_counts():
    rows = make_events(["a.wav", "b.wav"], [0.0, 0.0], [1.0, 1.0], "")
    notes = make_events("a.wav", [0.2], [0.8], ["x"])
    assert overlap_labels(rows, notes).tolist() == ["x", "background"]


def test_blocks_and_candidate_search_change_nothing(rng, monkeypatch):
    from sonotype.embeddings import labels as module

    starts = rng.uniform(0, 50, size=300)
    rows = make_events(["a.wav", "b.wav"] * 150, starts, starts + rng.uniform(0, 2, 300), "")
    c = rng.uniform(0, 50, size=80)
    d = c + rng.choice([0.0, 0.05, 0.5, 3.0], size=80)  # points, calls and long notes
    notes = make_events(["a.wav", "b.wav"] * 40, c, d, list(rng.choice(["x", "y", "z"], 80)))
    # The reference: the documented rule, row by row, annotation by annotation.
    expected = []
    for a, b, rec in zip(rows["start_s"], rows["stop_s"], rows["recording"], strict=True):
        hits = set()
        for c0, d0, name, rec0 in notes[["start_s", "stop_s", "label", "recording"]].values:
            if rec0 != rec:
                continue
            if d0 == c0:
                inside = a <= c0 < b or (a == b == c0)
            elif b == a:
                inside = c0 <= a < d0
            else:
                inside = (min(b, d0) - max(a, c0)) / min(b - a, d0 - c0) >= 0.5 - 1e-9
            if inside:
                hits.add(name)
        expected.append(tuple(sorted(hits)) or ("background",))
    whole = overlap_labels(rows, notes, multi_label=True)
    monkeypatch.setattr(module, "_ROWS", 7)
    monkeypatch.setattr(module, "_PAIRS", 20)
    pieces = overlap_labels(rows, notes, multi_label=True)
    assert whole.tolist() == pieces.tolist() == expected
    single = overlap_labels(rows, notes)
    assert all(label in labels for label, labels in zip(single, expected, strict=True))


def test_overlap_checks_its_arguments():
    rows = make_events("r.wav", [0.0], [1.0], "")
    with pytest.raises(ParameterError, match="min_overlap=0"):
        overlap_labels(rows, rows, min_overlap=0)
    with pytest.raises(ParameterError, match="label:kind"):
        overlap_labels(rows, rows, column="label:kind")


@pytest.mark.slow
def test_labels_from_names_the_sources_there_are(project):
    rows = load_embedding_set(project.folder, "win").events
    with pytest.raises(ParameterError, match="truth"):
        resolve_labels(project, rows, "nobody")
    by_kind = resolve_labels(project, rows, "kind:annotated")
    assert set(by_kind) == {"a", "b", "c", "background"}
    folders = resolve_labels(project, rows, "meta:folder")
    assert set(folders) == {"siteA", "siteB"}


def test_metadata_labels_need_no_project():
    rows = make_events(["s/20240611_063000.wav", "s/20241211_200000.wav", "t/x.wav"],
                       [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], "", kind="window")  # fmt: skip
    assert resolve_labels(None, rows, "meta:season").tolist() == ["summer", "winter", ""]
    assert resolve_labels(None, rows, "meta:folder").tolist() == ["s", "s", "t"]
    with pytest.raises(ParameterError, match="--labels-from is empty"):
        resolve_labels(None, rows, " ")


def test_split_by_blocks_within_recordings(rng):
    from sonotype.embeddings.probes import split_groups

    # One recording per class: by recording, a class would be all test or all train.
    rows = make_events(["a.wav"] * 40 + ["b.wav"] * 40, np.tile(np.arange(40.0), 2),
                       np.tile(np.arange(40.0), 2) + 1, "", kind="window")  # fmt: skip
    y = np.repeat(["a", "b"], 40)
    X = rng.normal(size=(80, 4)) + (y == "b")[:, None] * 3
    groups = split_groups(rows, group_s=10)
    assert len(set(groups)) == 8
    _, scores = train_probe(X, y, groups)
    assert set(scores.per_class.loc[scores.per_class["support"] > 0, "label"]) == {"a", "b"}
    for bad in (0, -1, float("nan")):
        with pytest.raises(ParameterError, match="group_s"):
            split_groups(rows, group_s=bad)


# -- training --------------------------------------------------------------------------------


def _blobs(rng, n_per=40, classes=("a", "b", "c"), d=8, recordings=8, signal=3.0):
    y = np.repeat(classes, n_per)
    X = rng.normal(size=(len(y), d))
    for i, name in enumerate(classes):
        X[y == name, i] += signal
    groups = np.arange(len(y)) % recordings
    return X, y, groups


def test_split_never_puts_a_recording_on_both_sides(rng):
    _, y, groups = _blobs(rng)
    train, test = split_by_recording(y, groups, random_state=3)
    assert not set(groups[train]) & set(groups[test])
    assert len(train) + len(test) == len(y)
    with pytest.raises(ParameterError, match="at least 2 recordings"):
        split_by_recording(y, np.zeros(len(y)))


@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_separable_classes_are_learned_and_noise_is_not(rng, kind):
    X, y, groups = _blobs(rng)
    _, scores = train_probe(X, y, groups, kind=kind)
    assert scores.macro_accuracy > 0.9
    assert scores.confusion.to_numpy().trace() == round(scores.accuracy * scores.n_test)
    _, chance = train_probe(rng.normal(size=X.shape), y, groups, kind=kind)
    assert chance.macro_accuracy < 0.7


def test_unlabelled_rows_are_left_out_and_one_class_is_refused(rng):
    X, y, groups = _blobs(rng)
    y = y.astype(object)
    y[:10] = ""
    probe, scores = train_probe(X, y, groups, background="c")
    assert scores.n_train + scores.n_test == len(y) - 10
    assert probe.background == "c"
    assert train_probe(X, y, groups, background="none-such")[0].background is None
    with pytest.raises(ParameterError, match="at least 2"):
        train_probe(X[y == "a"], y[y == "a"], groups[y == "a"])


@pytest.mark.parametrize("classes", [("a", "b"), ("a", "b", "c")])
@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_numpy_forward_pass_equals_scikit_learn(rng, classes, kind):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    X, y, _ = _blobs(rng, n_per=15, classes=classes, signal=1.0)
    probe = fit_probe(X, y, kind=kind, random_state=0)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    if kind == "linear":
        reference = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    else:
        reference = MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-3, early_stopping=False,
                                  max_iter=300, random_state=0)  # fmt: skip
    reference.fit(Z, y)
    np.testing.assert_allclose(probe.predict_proba(X), reference.predict_proba(Z), atol=1e-6)
    assert probe.classes == list(reference.classes_)


def test_saved_probe_predicts_the_same_and_holds_no_pickle(tmp_path, rng):
    X, y, groups = _blobs(rng)
    probe, _ = train_probe(X, y, groups, kind="mlp", name="p1")
    save_probe(tmp_path, probe)
    back = load_probe(tmp_path, "p1")
    np.testing.assert_array_equal(back.predict_proba(X), probe.predict_proba(X))
    with np.load(tmp_path / "artifacts/probes/p1/weights.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype == np.float64 for name in arrays.files)
    with pytest.raises(ParameterError, match="p1"):
        load_probe(tmp_path, "p2")
    with pytest.raises(ParameterError, match="takes 8-d vectors"):
        back.predict_proba(X[:, :4])


# -- applying --------------------------------------------------------------------------------


def _threshold_probe() -> Probe:
    """Class 'call' when the first coordinate is positive, else 'background'."""
    return Probe(
        name="p", kind="linear", classes=["background", "call"], mean=np.zeros(2),
        scale=np.ones(2), weights=[np.array([[10.0], [0.0]])], biases=[np.zeros(1)],
        model="m", background="background",
    )  # fmt: skip


def test_apply_merges_touching_windows_and_drops_background():
    rows = make_events("r.wav", [0.0, 0.5, 1.0, 1.5, 2.0], [1.0, 1.5, 2.0, 2.5, 3.0], "",
                       kind="window")  # fmt: skip
    X = np.array([[1, 0], [1, 0], [-1, 0], [-1, 0], [0.2, 0]], dtype=np.float32)
    embedding = EmbeddingSet("w", "m", "windows", rows, X)
    events = apply_probe(_threshold_probe(), embedding)
    assert events[["start_s", "stop_s", "label"]].values.tolist() == [
        [0.0, 1.5, "call"],
        [2.0, 3.0, "call"],
    ]
    assert set(events["kind"]) == {"predicted"} and set(events["source"]) == {"p"}
    assert events["score"].iloc[0] == pytest.approx(1 / (1 + np.exp(-10)))
    unmerged = apply_probe(_threshold_probe(), embedding, merge=False, min_score=0.9)
    assert unmerged["start_s"].tolist() == [0.0, 0.5]  # the last scores 0.88
    with pytest.raises(ParameterError, match="'other' vectors"):
        apply_probe(_threshold_probe(), EmbeddingSet("w", "other", "windows", rows, X))


# -- commands --------------------------------------------------------------------------------


@pytest.mark.slow
def test_probe_train_report_apply_and_undo(project):
    folder = project.folder
    result = invoke("probe", "-p", folder, "--embedding", "win", "--labels-from", "truth",
                    "--name", "w1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "probe w1 (linear, onehot)" in result.output
    report = folder / "reports" / "probes" / "w1"
    for name in ("index.html", "per_class.csv", "confusion.csv", "confusion.png", "config.json"):
        assert (report / name).is_file()
    probe = load_probe(folder, "w1")
    assert probe.info["macro_accuracy"] > 0.9
    assert probe.background == "background"

    result = invoke("probe", "apply", "w1", "-p", folder, "--embedding", "win")
    assert result.exit_code == 0, result.output
    predicted = project.events(kinds=["predicted"], sources=["w1"])
    assert set(predicted["label"]) == {"a", "b", "c"}
    assert predicted["score"].between(0, 1).all()
    assert "unchanged" in invoke("probe", "apply", "w1", "-p", folder, "-e", "win").output
    invoke("undo", "-p", folder)
    assert project.events(kinds=["predicted"]).empty

    # A syllable embedder's vectors of the annotated syllables (an events set: no background).
    result = invoke("probe", "-p", folder, "-e", "syl-flat", "--labels-from", "kind:annotated")
    assert result.exit_code == 0, result.output
    assert load_probe(folder, "syl-flat-linear").classes == ["a", "b", "c"]
    assert load_probe(folder, "syl-flat-linear").info["macro_accuracy"] > 0.8
    result = invoke("probe", "-p", folder, "-e", "syl-flat", "--labels-from", "kind:annotated",
                    "--kind", "mlp")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert load_probe(folder, "syl-flat-mlp").kind == "mlp"
    assert len(load_probe(folder, "syl-flat-mlp").weights) == 2


@pytest.mark.slow
def test_probe_command_errors_name_the_option(project):
    from sonotype.cli.main import cli_message
    from sonotype.errors import SonotypeError

    args = ["probe", "-p", str(project.folder), "--embedding", "win"]
    with pytest.raises(SonotypeError) as error:
        invoke(*args)
    assert "--labels-from is missing" in cli_message(error.value, args)
    args = ["probe", "-p", str(project.folder), "-e", "nope", "--labels-from", "truth"]
    with pytest.raises(SonotypeError) as error:
        invoke(*args)
    assert cli_message(error.value, args).startswith("--embedding 'nope': no such")
