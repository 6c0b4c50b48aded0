"""Recordings through the API: the index, audio spans, spectrograms, waveforms, video."""

from __future__ import annotations

import io
import wave

import numpy as np
import soundfile as sf
from PIL import Image

from sonotype.app.render import band_pass, wav_bytes, waveform_envelope

from .project import DURATION_S, SR


def wav(response):
    with wave.open(io.BytesIO(response.content)) as w:
        return w.getframerate(), w.getnframes()


def test_list_and_get(client):
    recordings = client.get("/api/recordings").json()
    assert [r["path"] for r in recordings] == ["song_1.wav", "song_2.wav"]
    assert recordings[0]["sr"] == SR and recordings[0]["duration_s"] == DURATION_S
    assert [r["video"] for r in recordings] == [True, False]
    assert client.get("/api/recordings/2").json()["path"] == "song_2.wav"
    assert client.get("/api/recordings/99").status_code == 404


def test_audio_span_slowed_and_band_passed(client):
    response = client.get("/api/recordings/1/audio.wav", params={"start_s": 1, "stop_s": 1.5})
    assert response.headers["content-type"] == "audio/wav"
    assert wav(response) == (SR, SR // 2)
    # Slowed 4x: the same samples played at a quarter of the rate (8 kHz).
    slowed = client.get("/api/recordings/1/audio.wav?start_s=1&stop_s=1.5&slow=4")
    assert wav(slowed) == (SR // 4, SR // 2)
    # Slowed 10x: 3.2 kHz is below what browsers play: resampled to 8 kHz (5 s long).
    assert wav(client.get("/api/recordings/1/audio.wav?start_s=1&stop_s=1.5&slow=10")) == (
        8000, 40000)  # fmt: skip
    filtered = client.get("/api/recordings/1/audio.wav?start_s=1&stop_s=1.5&low_hz=5000")
    assert wav(filtered) == (SR, SR // 2) and filtered.content != response.content
    for params, name in (({"channel": 1}, "channel"), ({"start_s": 5, "stop_s": 4}, "start_s"),
                         ({"slow": 0.5}, "slow"), ({"start_s": -1}, "start_s")):  # fmt: skip
        bad = client.get("/api/recordings/1/audio.wav", params=params)
        assert bad.status_code == 400 and name in bad.json()["detail"], params


def test_band_pass_removes_the_other_band():
    t = np.arange(SR) / SR
    y = (np.sin(2 * np.pi * 500 * t) + np.sin(2 * np.pi * 8000 * t)).astype(np.float32)
    high = band_pass(y, sr=SR, low_hz=4000)
    spectrum = np.abs(np.fft.rfft(high))
    assert spectrum[500] < 0.01 * spectrum[8000]


def test_wav_bytes_round_trip():
    y = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    back, sr = sf.read(io.BytesIO(wav_bytes(y, sr=16000)), dtype="float32")
    assert sr == 16000 and np.allclose(back, y, atol=1e-4)


def test_spectrogram_png_is_cached(client):
    params = {"start_s": 0, "stop_s": 4, "width": 400}
    first = client.get("/api/recordings/1/spectrogram.png", params=params)
    assert first.headers["content-type"] == "image/png" and first.headers["x-cache"] == "miss"
    image = Image.open(io.BytesIO(first.content))
    assert 100 <= image.width <= 400 and image.height > 50
    again = client.get("/api/recordings/1/spectrogram.png", params=params)
    assert again.headers["x-cache"] == "hit" and again.content == first.content
    band = client.get("/api/recordings/1/spectrogram.png",
                      params={**params, "low_hz": 2000, "high_hz": 8000})  # fmt: skip
    assert Image.open(io.BytesIO(band.content)).height < image.height
    assert client.get("/api/recordings/1/spectrogram.png?width=5").status_code == 400
    assert client.get("/api/recordings/1/spectrogram.png?low_hz=9e9").status_code == 400


def test_waveform_envelope(client):
    response = client.get("/api/recordings/1/waveform", params={"stop_s": 2, "n": 100})
    envelope = np.frombuffer(response.content, "<f4").reshape(100, 2)
    assert (envelope[:, 0] <= envelope[:, 1]).all()
    y = np.array([0, 1, -1, 2, 3, -3], np.float32)
    assert waveform_envelope(y, n=3).tolist() == [[0, 1], [-1, 2], [-3, 3]]
    assert client.get("/api/recordings/1/waveform?n=0").status_code == 400


def test_video_beside_the_recording(client):
    assert client.get("/api/recordings/1/video").content == b"\x1a\x45\xdf\xa3"
    assert client.get("/api/recordings/2/video").status_code == 404


def test_spans_longer_than_the_limit_are_refused(client, monkeypatch):
    from sonotype.app.api import recordings

    monkeypatch.setattr(recordings, "MAX_SPAN_S", 2.0)
    for what in ("audio.wav", "spectrogram.png", "waveform"):
        response = client.get(f"/api/recordings/1/{what}", params={"start_s": 0, "stop_s": 3})
        assert response.status_code == 400 and "at most 2 s" in response.json()["detail"], what
        assert client.get(f"/api/recordings/1/{what}?start_s=1&stop_s=3").status_code == 200
