"""Shared by the network tests: tiny networks run on one thread."""

from __future__ import annotations

import importlib.util

import pytest

#: A network that is quick to build and run at any sample rate.
TINY = dict(conv_layers=2, feature_maps=4, time_kernel=3, context_ms=20, n_mels=6, n_dct=4)
#: Strides, group normalisation, residual connections and a dense layer in one network.
STRIDED = dict(
    time_stride=[2, 1],
    time_dilation=1,
    normalization="group",
    residual=True,
    dense_layers=[8],
    feature_maps=8,
)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks run fastest on one thread; two thrash when the cores are busy."""
    if importlib.util.find_spec("torch") is None:
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
