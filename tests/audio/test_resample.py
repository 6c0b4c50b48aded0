import numpy as np
import pytest

from sonotype.audio import resample
from sonotype.errors import ParameterError


@pytest.mark.parametrize(("orig_sr", "target_sr"), [(48000, 16000), (2500, 8000), (44100, 32000)])
def test_resample_keeps_a_tone(orig_sr, target_sr):
    t = np.arange(orig_sr) / orig_sr
    y = np.stack([np.sin(2 * np.pi * 600 * t), np.cos(2 * np.pi * 600 * t)]).astype(np.float32)
    out = resample(y, orig_sr, target_sr)
    assert out.shape == (2, target_sr)
    assert out.dtype == np.float32
    reference = np.sin(2 * np.pi * 600 * np.arange(target_sr) / target_sr)
    # Away from the edges the resampled tone is the tone at the new rate.
    middle = slice(target_sr // 10, -target_sr // 10)
    np.testing.assert_allclose(out[0, middle], reference[middle], atol=2e-3)


def test_resample_one_dimensional_and_identity():
    y = np.ones(100, np.float32)
    assert resample(y, 1000, 500).shape == (50,)
    same = resample(y, 1000, 1000)
    np.testing.assert_array_equal(same, y)
    assert same is not y


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"orig_sr": 0, "target_sr": 100}, "orig_sr=0 must be a number of samples per second > 0"),
        (
            {"orig_sr": 100, "target_sr": -5},
            "target_sr=-5 must be a number of samples per second",
        ),
        ({"orig_sr": 100, "target_sr": 50, "quality": "best"}, "quality='best'"),
    ],
)
def test_resample_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        resample(np.ones(100, np.float32), **kwargs)
