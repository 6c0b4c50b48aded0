"""Real Bengalese finch song (gy6or6, 601 syllables labelled by a person): the complex-
spectrogram distances separate the syllable types."""

from __future__ import annotations

import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from sonotype.annotations import concat_events, iter_annotation_files, read_events
from sonotype.audio import Recording
from sonotype.distances import distance_features, event_stfts, feature_metric
from tests.fixtures.shared import data_folder

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def gy6or6():
    folder = data_folder("bengalese-finch-gy6or6")
    tables = [read_events(p, relative_to=folder) for p, _ in iter_annotation_files(folder)]
    events = concat_events(tables)
    specs = event_stfts(events, lambda n: Recording(folder / n), n_fft=512, hop_length=128,
                        n_time=32)  # fmt: skip
    return events, specs


@pytest.mark.parametrize("metric", ["complex-l2", "phase-aware"])
def test_nearest_neighbours_under_the_distance_share_labels(gy6or6, metric):
    events, specs = gy6or6
    X = distance_features(specs, metric=metric)
    knn = KNeighborsClassifier(5, metric=feature_metric(metric))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    accuracy = cross_val_score(knn, X, events["label"], cv=cv).mean()
    assert accuracy >= 0.7
