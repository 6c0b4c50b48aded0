"""Real Bengalese finch song (gy6or6): an autoencoder trained without labels on half the
recordings gives features from which a linear probe recovers the other half's labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sonotype.annotations import concat_events, iter_annotation_files, read_events
from sonotype.autoencoder.config import autoencoder_config
from sonotype.autoencoder.pooling import pool_latent
from sonotype.autoencoder.training import encode, fit_autoencoder
from sonotype.features import SpectrogramParams, syllable_spectrograms
from tests.fixtures.shared import data_folder

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_autoencoder_features_probe_the_labels_of_unseen_recordings():
    torch.set_num_threads(2)
    folder = data_folder("bengalese-finch-gy6or6")
    tables = [read_events(p, relative_to=folder) for p, _ in iter_annotation_files(folder)]
    events = concat_events(tables)
    train = events["recording"].isin(sorted(events["recording"].unique())[::2]).to_numpy()
    params = SpectrogramParams(n_freq=32, n_time=32, time_mode="stretch")
    specs = syllable_spectrograms(events, folder, params=params)
    config = autoencoder_config(
        epochs=15, seed=0
    )  # as benchmarks/autoencoder_representations.py --size 32
    network = fit_autoencoder(specs[train], config).network
    features = pool_latent(encode(network, specs), edge_cut=config.edge_cut)
    labels = events["label"].to_numpy()
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    accuracy = probe.fit(features[train], labels[train]).score(features[~train], labels[~train])
    chance = np.mean(labels[~train] == max(set(labels[train]), key=list(labels[train]).count))
    assert accuracy >= 0.8 and accuracy > chance + 0.5, (accuracy, chance)
