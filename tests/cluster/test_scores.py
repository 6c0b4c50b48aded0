"""Scores agree with scikit-learn, edge cases give NaN with a reason, the composite ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from sonotype.cluster import (
    Clustering,
    agglomerative_grid,
    best_clustering,
    composite_score,
    hdbscan_grid,
    kmeans_grid,
    rank_clusterings,
    score_clustering,
)
from sonotype.errors import ParameterError

from ._data import blobs_with_noise, moons_with_noise


def test_scores_equal_sklearn_metrics(rng):
    X, y = blobs_with_noise(rng, n=300, n_noise=30)
    labels = y.copy()
    labels[y == 4] = -1  # noise
    labels[:5] = 3  # a few mistakes
    s = score_clustering(X, labels, true_labels=y)
    keep = labels != -1
    assert s["n_samples"] == 330 and s["n_clusters"] == 4
    assert s["noise_fraction"] == pytest.approx(30 / 330)
    assert s["silhouette"] == pytest.approx(metrics.silhouette_score(X[keep], labels[keep]))
    assert s["silhouette_sample_size"] == keep.sum()
    assert s["davies_bouldin"] == pytest.approx(metrics.davies_bouldin_score(X[keep], labels[keep]))
    assert s["calinski_harabasz"] == pytest.approx(
        metrics.calinski_harabasz_score(X[keep], labels[keep])
    )
    # external scores: noise is one more label, on every row
    assert s["n_labelled"] == 330
    assert s["ari"] == pytest.approx(metrics.adjusted_rand_score(y, labels))
    assert s["ami"] == pytest.approx(metrics.adjusted_mutual_info_score(y, labels))
    assert s["nmi"] == pytest.approx(metrics.normalized_mutual_info_score(y, labels))
    h, c, v = metrics.homogeneity_completeness_v_measure(y, labels)
    assert (s["homogeneity"], s["completeness"], s["v_measure"]) == pytest.approx((h, c, v))
    assert s["internal_reason"] == "" and s["external_reason"] == ""
    assert s["composite"] == pytest.approx((1 - 30 / 330) * (1 + s["silhouette"]) / 2)


@pytest.mark.parametrize("n_clusters", [2, 7, 150])
def test_vectorised_internal_scores_equal_sklearn_with_many_small_clusters(n_clusters, rng):
    X = np.round(rng.normal(size=(400, 3)), 1)  # duplicates and equal distances
    labels = rng.integers(0, n_clusters, size=400)
    labels[:3] = [n_clusters, n_clusters + 1, n_clusters + 2]  # clusters of one point
    labels[3:6] = -1
    keep = labels != -1
    s = score_clustering(X, labels)
    assert s["n_singletons"] >= 3
    assert s["silhouette"] == pytest.approx(metrics.silhouette_score(X[keep], labels[keep]))
    assert s["davies_bouldin"] == pytest.approx(metrics.davies_bouldin_score(X[keep], labels[keep]))
    assert s["calinski_harabasz"] == pytest.approx(
        metrics.calinski_harabasz_score(X[keep], labels[keep])
    )


def test_true_labels_may_be_strings_with_missing_rows(rng):
    X, y = blobs_with_noise(rng, n=100, n_noise=0)
    names = np.array(["a", "b", "c", "d"], dtype=object)[y]
    names[:10] = None
    names[10:12] = np.nan
    s = score_clustering(X, y, true_labels=names)
    assert s["n_labelled"] == 88
    assert s["ari"] == pytest.approx(metrics.adjusted_rand_score(y[12:], y[12:]))
    none = score_clustering(X, y, true_labels=[None] * 100)
    assert np.isnan(none["ari"]) and none["external_reason"] == "no row has a true label"
    with pytest.raises(ParameterError, match=r"true_labels has shape \(99,\)"):
        score_clustering(X, y, true_labels=y[:99])


def test_silhouette_on_a_seeded_subsample(rng):
    X, y = blobs_with_noise(rng, n=1200, n_noise=0)
    full = score_clustering(X, y)
    a = score_clustering(X, y, silhouette_sample_size=400, random_state=1)
    b = score_clustering(X, y, silhouette_sample_size=400, random_state=1)
    c = score_clustering(X, y, silhouette_sample_size=400, random_state=2)
    assert a == b and a["silhouette"] != c["silhouette"]
    assert a["silhouette_sample_size"] == 400 and full["silhouette_sample_size"] == 1200
    assert abs(a["silhouette"] - full["silhouette"]) < 0.03
    # the other internal scores always use every clustered point
    assert a["davies_bouldin"] == full["davies_bouldin"]


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ([0] * 6, "only 1 cluster; internal scores need at least 2"),
        ([-1] * 6, "all points are noise"),
        ([0, 0, 0, 0, -1, -1], "only 1 cluster"),
        ([0, 1, 2, -1, -1, -1], "every clustered point is its own cluster"),
    ],
)
def test_undefined_internal_scores_are_nan_with_a_reason(labels, reason):
    X = np.arange(12, dtype=float).reshape(6, 2)
    s = score_clustering(X, labels, true_labels=[0, 0, 0, 1, 1, 1])
    assert reason in s["internal_reason"]
    for key in ("silhouette", "davies_bouldin", "calinski_harabasz", "composite"):
        assert np.isnan(s[key])
    assert np.isfinite(s["ari"])


def test_a_cluster_of_one_point_and_duplicates_are_fine():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [9.0, 9.0]])
    labels = [0, 0, 0, 1, 2]  # clusters 1 and 2 have one member each
    s = score_clustering(X, labels)
    assert s["n_singletons"] == 2 and s["internal_reason"] == ""
    assert s["silhouette"] == pytest.approx(metrics.silhouette_score(X, labels))
    identical = score_clustering(np.zeros((6, 2)), [0, 0, 0, 1, 1, 1])
    assert identical["internal_reason"] == ""  # degenerate but defined, no warning or error


def test_input_errors():
    X = np.ones((5, 2))
    X[2, 0] = np.inf
    with pytest.raises(
        ParameterError, match=r"NaN or infinite values in 1 of 5 rows \(first: row 2\)"
    ):
        score_clustering(X, [0, 0, 1, 1, 1])
    with pytest.raises(ParameterError, match=r"labels has shape \(4,\); it must hold one label"):
        score_clustering(np.ones((5, 2)), [0, 0, 1, 1])
    with pytest.raises(ParameterError, match="labels holds -2; cluster labels must be >= 0"):
        score_clustering(np.ones((5, 2)), [0, 0, 1, -2, 1])
    with pytest.raises(ParameterError, match="labels must be integer cluster indices"):
        score_clustering(np.ones((5, 2)), ["a", "a", "b", "b", "b"])
    with pytest.raises(ParameterError, match="silhouette_sample_size=1 must be >= 2"):
        score_clustering(np.ones((5, 2)), [0, 0, 1, 1, 1], silhouette_sample_size=1)
    with pytest.raises(ParameterError, match="scores lack silhouette"):
        composite_score({"noise_fraction": 0.0})


def test_composite_picks_a_good_clustering_on_blobs(rng):
    X, y = blobs_with_noise(rng, n=600, n_noise=60)
    results = (
        hdbscan_grid(X, min_cluster_size=(5, 10, 20, 50), min_samples=(1, 5, 10), true_labels=y)
        + kmeans_grid(X, n_clusters=range(2, 9), true_labels=y)
        + agglomerative_grid(X, n_clusters=range(2, 9), true_labels=y)
    )
    table = rank_clusterings(results)
    assert len(table) == len(results) and table["rank"].tolist() == list(range(1, 27))
    best = best_clustering(results)
    assert best is results[int(table["position"].iloc[0])]
    best_ari = max(c.scores["ari"] for c in results)
    assert best.scores["ari"] >= best_ari - 0.05
    assert best.scores["ari"] > 0.85 and best.n_clusters == 4
    # the composite is sorted, NaN last
    composites = table["composite"].to_numpy()
    finite = composites[np.isfinite(composites)]
    assert np.all(np.diff(np.round(finite, 3)) <= 0)


def test_composite_picks_a_good_hdbscan_setting_on_noisy_moons(rng):
    X, y = moons_with_noise(rng)
    results = hdbscan_grid(X, true_labels=y)
    best = best_clustering(results)
    assert best.n_clusters == 2
    assert best.scores["ari"] >= max(c.scores["ari"] for c in results) - 0.05


def test_ranking_across_reductions_and_table_layout(rng):
    X, y = blobs_with_noise(rng, n=400, n_noise=0)
    scrambled = np.column_stack([X[:, 0] + X[:, 1], rng.normal(size=len(X)) * 8])
    results = {
        "good": kmeans_grid(X, n_clusters=(3, 4, 5), true_labels=y),
        "bad": kmeans_grid(scrambled, n_clusters=(3, 4, 5), true_labels=y),
    }
    table = rank_clusterings(results)
    assert list(table.columns[:6]) == [
        "rank",
        "reduction",
        "position",
        "method",
        "name",
        "param_n_clusters",
    ]
    assert "composite" in table and "ari" in table and "internal_reason" in table
    key, best = best_clustering(results)
    assert key == "good" and best.n_clusters == 4
    # round trip through CSV, as summary.csv
    assert len(pd.read_csv(pd.io.common.StringIO(table.to_csv(index=False)))) == 6


def test_ties_are_broken_by_davies_bouldin_and_nan_ranks_last():
    def fake(name, silhouette, db, noise=0.0):
        return Clustering(
            "fake",
            {"id": name},
            np.zeros(4),
            scores={"silhouette": silhouette, "davies_bouldin": db, "noise_fraction": noise},
        )

    results = [
        fake("one-cluster", float("nan"), float("nan")),
        fake("worse-db", 0.5, 0.9),
        fake("better-db", 0.50001, 0.4),
        fake("top", 0.7, 2.0),
    ]
    table = rank_clusterings(results)
    assert [r["id"] for r in (results[i].params for i in table["position"])] == [
        "top",
        "better-db",
        "worse-db",
        "one-cluster",
    ]
    assert best_clustering(results).params["id"] == "top"
    with pytest.raises(ParameterError, match="no clustering has a defined composite"):
        best_clustering(results[:1])
    unscored = Clustering("fake", {}, np.zeros(4))
    with pytest.raises(ParameterError, match=r"clustering fake\(\) has no scores"):
        rank_clusterings([unscored])
    with pytest.raises(ParameterError, match="results must hold Clustering objects"):
        rank_clusterings([np.zeros(4)])
    assert rank_clusterings([]).empty
