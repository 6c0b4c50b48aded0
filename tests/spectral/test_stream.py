"""Block-wise spectral transforms of recordings equal the whole-signal transforms."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from sonotype.audio import Recording
from sonotype.errors import ParameterError, SpanError
from sonotype.spectral import (
    mel_recording,
    mel_spectrogram,
    multitaper,
    multitaper_recording,
    power_spectrogram,
    spectrogram_of,
    stft,
    stft_recording,
    stream_frames,
)
from tests.spectral.helpers import assert_close

SR = 8000


@pytest.fixture
def recording(tmp_path, rng) -> Recording:
    """2.3 s of stereo noise with a tone, as 32-bit float so samples read back exactly."""
    n = 18437  # prime: no block size divides it
    t = np.arange(n) / SR
    y = 0.2 * rng.standard_normal((2, n)) + 0.5 * np.sin(2 * np.pi * 1500 * t)
    path = tmp_path / "noise.wav"
    sf.write(path, y.T.astype(np.float32), SR, subtype="FLOAT")
    return Recording(path)


def concatenated(blocks):
    firsts, parts = zip(*blocks, strict=True)
    sizes = [part.shape[-1] for part in parts]
    assert list(firsts) == list(np.cumsum([0, *sizes[:-1]]))
    return np.concatenate(parts, axis=-1)


# Block lengths that fall at awkward points: a fraction of a frame (one frame per block),
# a prime number of samples, a few frames, and longer than the file.
BLOCKS_S = [0.001, 1009 / SR, 0.0731, 0.777, 10.0]


@pytest.mark.parametrize("block_s", BLOCKS_S)
@pytest.mark.parametrize(
    "options",
    [
        {"n_fft": 512, "hop_length": 128},
        {"n_fft": 301, "hop_length": 37, "pad_mode": "reflect"},
        {"n_fft": 256, "hop_length": 300, "center": False},
        {"n_fft": 200, "hop_length": 50, "win_length": 150, "pad_mode": "linear_ramp"},
    ],
)
def test_stft_blocks_equal_the_whole_signal(recording, block_s, options):
    whole = stft(recording.read(channel=0)[0], **options)
    blocks = concatenated(stft_recording(recording, block_s=block_s, **options))
    assert blocks.shape == whole.shape
    assert_close(blocks, whole)


def test_stft_blocks_of_several_channels(recording):
    whole = stft(recording.read(), n_fft=256, hop_length=64)
    blocks = concatenated(
        stft_recording(recording, n_fft=256, hop_length=64, block_s=0.3, channel=None)
    )
    assert blocks.shape == whole.shape == (2, 129, whole.shape[-1])
    assert_close(blocks, whole)


@pytest.mark.parametrize("block_s", [0.0731, 0.5])
def test_mel_blocks_equal_the_whole_signal(recording, block_s):
    options = {"n_fft": 1024, "hop_length": 160, "n_mels": 40, "fmin_hz": 100.0}
    whole = mel_spectrogram(recording.read(channel=1)[0], sr=SR, **options)
    blocks = concatenated(mel_recording(recording, block_s=block_s, channel=1, **options))
    assert_close(blocks, whole)


@pytest.mark.parametrize("block_s", [0.0731, 0.5])
def test_multitaper_blocks_equal_the_whole_signal(recording, block_s):
    whole = multitaper(recording.read(channel=0)[0], sr=SR, n_fft=256, hop_length=96, nw=3.0)
    parts = list(multitaper_recording(recording, n_fft=256, hop_length=96, nw=3.0, block_s=block_s))
    for name in ("power", "f_statistic", "p_value"):
        blocks = concatenated((first, getattr(part, name)) for first, part in parts)
        assert_close(blocks, getattr(whole, name))
    times_s = np.concatenate([part.times_s for _, part in parts])
    np.testing.assert_allclose(times_s, whole.times_s)


def test_a_recording_shorter_than_the_frame(tmp_path, rng):
    path = tmp_path / "short.wav"
    y = rng.standard_normal(100).astype(np.float32)
    sf.write(path, y, SR, subtype="FLOAT")
    rec = Recording(path)
    for pad_mode in ("constant", "reflect"):
        blocks = concatenated(stft_recording(rec, n_fft=512, block_s=0.001, pad_mode=pad_mode))
        assert_close(blocks, stft(y, n_fft=512, pad_mode=pad_mode))
    with pytest.raises(ParameterError, match="100 samples, fewer than n_fft=512"):
        next(stft_recording(rec, n_fft=512, center=False))


def test_stream_frames_checks_the_transform(recording):
    def centred(y):  # wrong: frames the block again with centring
        return stft(y, n_fft=256, hop_length=64)

    with pytest.raises(ParameterError, match="center=False, n_fft=256"):
        next(stream_frames(recording, centred, n_fft=256, hop_length=64))


def test_stream_frames_parameter_errors(recording):
    with pytest.raises(ParameterError, match="block_s=0"):
        next(stft_recording(recording, block_s=0))
    with pytest.raises(ParameterError, match="k=9"):
        next(multitaper_recording(recording, nw=4.0, k=9))


@pytest.mark.parametrize("start_s", [0.0, 0.512, 0.3001, 2.2])
def test_spectrogram_of_a_span_uses_the_audio_around_it(recording, start_s):
    n_fft, hop = 512, 64
    stop_s = min(start_s + 0.25, recording.duration_s)
    result = spectrogram_of(
        recording, start_s=start_s, stop_s=stop_s, n_fft=n_fft, hop_length=hop, channel=1
    )
    start = round(start_s * SR)
    stop = round(stop_s * SR)
    n_frames = -(-(stop - start) // hop)
    padded = np.pad(recording.read(channel=1)[0], n_fft // 2)
    expected = power_spectrogram(
        padded[start : start + (n_frames - 1) * hop + n_fft],
        n_fft=n_fft,
        hop_length=hop,
        center=False,
    )
    assert_close(result.values, expected)
    np.testing.assert_allclose(result.times_s, (start + hop * np.arange(n_frames)) / SR)
    assert result.frequencies_hz[-1] == SR / 2
    if start % hop == 0:  # frames coincide with those of the whole recording
        whole = power_spectrogram(recording.read(channel=1)[0], n_fft=n_fft, hop_length=hop)
        assert_close(result.values, whole[:, start // hop : start // hop + n_frames])


def test_spectrogram_of_span_errors(recording):
    with pytest.raises(SpanError, match="outside the recording"):
        spectrogram_of(recording, start_s=2.0, stop_s=5.0)
    with pytest.raises(SpanError, match="empty"):
        spectrogram_of(recording, start_s=1.0, stop_s=1.0)
