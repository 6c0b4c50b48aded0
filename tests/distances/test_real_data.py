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


def _knn_accuracy(events, specs, metric) -> float:
    X = distance_features(specs, metric=metric)
    knn = KNeighborsClassifier(5, metric=feature_metric(metric))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(cross_val_score(knn, X, events["label"], cv=cv).mean())


def test_phase_aware_neighbours_share_labels_and_beat_raw_complex_l2(gy6or6):
    events, specs = gy6or6
    phase_aware = _knn_accuracy(events, specs, "phase-aware")
    complex_l2 = _knn_accuracy(events, specs, "complex-l2")
    print(f"5-NN accuracy: phase-aware {phase_aware:.3f}, complex-l2 {complex_l2:.3f}")
    # The magnitude cosine carries the syllable type; the raw complex values change with
    # every sample of onset jitter, so their L2 distance is mostly phase noise.
    assert phase_aware >= 0.9
    assert complex_l2 < phase_aware
