import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sonotype.audio import Recording
from sonotype.distances import event_stfts, pairwise_distances
from sonotype.embed import make_embedder
from sonotype.errors import ParameterError
from sonotype.spectral import stft


def test_event_stfts_have_one_shape_and_zeros_after_each_event(tmp_path, rng):
    sr = 8000
    y = (0.1 * rng.normal(size=sr * 2)).astype(np.float32)
    sf.write(tmp_path / "a.wav", y, sr, subtype="FLOAT")
    events = pd.DataFrame({"recording": ["a.wav", "a.wav"], "start_s": [0.1, 1.95],
                           "stop_s": [0.15, 1.99], "channel": [0, 0]})  # fmt: skip
    specs = event_stfts(events, lambda n: Recording(tmp_path / n), n_fft=64, hop_length=16,
                        n_time=40)  # fmt: skip
    assert specs.shape == (2, 33, 40) and specs.dtype == np.complex64
    start = 800
    padded = np.zeros(39 * 16 + 64, np.float32)
    padded[:400] = y[start : start + 400]
    np.testing.assert_allclose(specs[0], stft(padded, n_fft=64, hop_length=16, center=False),
                               atol=1e-4)  # fmt: skip
    # The second runs past the end of the recording: zeros there, same shape.
    assert np.abs(specs[1][:, -1]).max() == 0
    band = event_stfts(events, lambda n: Recording(tmp_path / n), n_fft=64, hop_length=16,
                       n_time=40, freq_range_hz=(1000, 2000))  # fmt: skip
    assert band.shape[1] == 9  # bins of 125 Hz from 1000 to 2000 Hz


def test_complex_embedder_features_give_the_distance(rng):
    specs = rng.normal(size=(5, 6, 7)) + 1j * rng.normal(size=(5, 6, 7))
    emb = make_embedder("complex", metric="group-delay").fit(specs)
    f = emb.transform(specs)
    assert emb.metric_ == "euclidean"
    expected = pairwise_distances(specs, metric="group-delay")[0, 3]
    np.testing.assert_allclose(np.linalg.norm(f[0] - f[3]), expected, rtol=1e-5)
    with pytest.raises(ParameterError, match="fitted on"):
        emb.transform(specs[:, :3])
