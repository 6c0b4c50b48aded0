"""Small synthetic point sets with known clusters, shared by the clustering tests."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs, make_moons


def blobs_with_noise(rng: np.random.Generator, n: int = 500, n_noise: int = 50):
    """Four blobs of different spreads plus uniform background noise (true label 4)."""
    X, y = make_blobs(
        n,
        centers=[[0, 0], [8, 0], [0, 8], [8, 8]],
        cluster_std=[0.5, 1.0, 0.8, 1.5],
        random_state=int(rng.integers(2**31)),
    )
    noise = rng.uniform(-4, 12, size=(n_noise, 2))
    return np.vstack([X, noise]), np.concatenate([y, np.full(n_noise, 4)])


def moons_with_noise(rng: np.random.Generator, n: int = 400, n_noise: int = 40):
    X, y = make_moons(n, noise=0.07, random_state=int(rng.integers(2**31)))
    noise = rng.uniform([-1.5, -1.0], [2.5, 1.5], size=(n_noise, 2))
    return np.vstack([X, noise]), np.concatenate([y, np.full(n_noise, 2)])


def gridded(rng: np.random.Generator, n: int = 400):
    """Points on an integer lattice: many exactly equal distances and duplicate points."""
    X, y = make_blobs(n, centers=[[0, 0], [12, 0], [6, 10]], cluster_std=2.0, random_state=3)
    return np.round(X), y


def anisotropic(rng: np.random.Generator, n: int = 450):
    X, y = make_blobs(n, centers=3, random_state=170)
    return X @ np.array([[0.6, -0.64], [-0.41, 0.85]]), y


def duplicated(rng: np.random.Generator, n: int = 150):
    """Blobs whose every point appears three times: core distances of 0 and equal weights."""
    X, y = make_blobs(n, centers=3, cluster_std=1.5, random_state=int(rng.integers(2**31)))
    return np.repeat(X, 3, axis=0), np.repeat(y, 3)
