"""Recordings: the index, spans of audio as WAV, spectrogram images, waveforms and video."""

from __future__ import annotations

import io
import math
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from sonotype.app.render import band_pass, spectrogram_png, wav_bytes, waveform_envelope
from sonotype.audio import Recording
from sonotype.errors import ParameterError

router = APIRouter(prefix="/api/recordings", tags=["recordings"])

#: The longest span served at once (audio, spectrogram, waveform), seconds: a span is read
#: whole, and a page shows and plays spans, not whole days.
MAX_SPAN_S = 600.0
#: Video containers a browser plays, looked for beside a recording (same stem).
VIDEO_SUFFIXES = (".mp4", ".webm", ".ogv", ".mov", ".m4v")


def _state(request: Request):
    from sonotype.app.server import state_of

    return state_of(request)


def _recording(request: Request, recording_id: int) -> tuple[dict, Path]:
    from sonotype.app.server import NotFound

    project = _state(request).project
    row = project.db.execute(
        "SELECT * FROM recordings WHERE id = ? AND status = 'ok'", (recording_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no readable recording has id {recording_id}; see /api/recordings")
    return dict(row), project.recording_path(row["path"])


def video_of(path: Path) -> Path | None:
    """A video with the recording's stem beside it, if there is one."""
    for suffix in VIDEO_SUFFIXES:
        for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None


@router.get("")
def list_recordings(request: Request) -> list[dict]:
    """Every readable recording: id, path (inside its audio root), sample rate, channels,
    duration, and whether a video sits beside it."""
    project = _state(request).project
    table = project.recordings()
    out = []
    for row in table.itertuples(index=False):
        path = project.folder / row.root / row.path
        out.append(
            {
                "id": int(row.id),
                "path": row.path,
                "sr": int(row.sr),
                "channels": int(row.channels),
                "duration_s": float(row.duration_s),
                "video": video_of(path) is not None,
            }
        )
    return out


@router.get("/{recording_id}")
def get_recording(request: Request, recording_id: int) -> dict:
    row, path = _recording(request, recording_id)
    return {
        "id": row["id"],
        "path": row["path"],
        "sr": row["sr"],
        "channels": row["channels"],
        "duration_s": row["duration_s"],
        "video": video_of(path) is not None,
    }


def _span(rec: Recording, start_s: float, stop_s: float | None) -> tuple[float, float]:
    """The span asked for, checked: inside the recording, and at most :data:`MAX_SPAN_S`
    long (a span is read whole into memory)."""
    stop = rec.duration_s if stop_s is None else min(stop_s, rec.duration_s)
    if not (math.isfinite(start_s) and start_s >= 0) or stop <= start_s:
        raise ParameterError(
            f"start_s={start_s:g}, stop_s={stop:g}: give a span inside the recording "
            f"(0-{rec.duration_s:g} s) that ends after it starts",
            parameter="start_s",
        )
    if stop - start_s > MAX_SPAN_S:
        raise ParameterError(
            f"stop_s - start_s = {stop - start_s:g} s: at most {MAX_SPAN_S:g} s at once; "
            "ask for a shorter span",
            parameter="stop_s",
        )
    return start_s, stop


def _channel(rec: Recording, channel: int) -> int:
    if not 0 <= channel < rec.channels:
        raise ParameterError(
            f"channel={channel}: the recording has {rec.channels} channel(s), 0-{rec.channels - 1}",
            parameter="channel",
        )
    return channel


@router.get("/{recording_id}/audio.wav")
def audio(
    request: Request,
    recording_id: int,
    start_s: float = 0.0,
    stop_s: float | None = None,
    channel: int = 0,
    low_hz: float | None = None,
    high_hz: float | None = None,
    slow: float = Query(1.0, description="Slow-down factor (10 plays ultrasound audibly)."),
) -> Response:
    """A span of one channel as 16-bit WAV, optionally band-passed and slowed down.

    Slowing by ``slow`` lowers every frequency by that factor (time expansion, as bat
    detectors do): the samples are played at ``sr / slow``.
    """
    _, path = _recording(request, recording_id)
    rec = Recording(path)
    start, stop = _span(rec, start_s, stop_s)
    if not 1.0 <= slow <= 100.0:
        raise ParameterError(f"slow={slow:g} must be between 1 and 100", parameter="slow")
    y = rec.read(start, stop, channel=_channel(rec, channel))[0]
    if low_hz is not None or high_hz is not None:
        y = band_pass(y, sr=rec.sr, low_hz=low_hz, high_hz=high_hz)
    return Response(wav_bytes(y, sr=rec.sr / slow), media_type="audio/wav")


@router.get("/{recording_id}/spectrogram.png")
def spectrogram(
    request: Request,
    recording_id: int,
    start_s: float = 0.0,
    stop_s: float | None = None,
    channel: int = 0,
    width: int = Query(1200, description="Columns wanted: the zoom level."),
    low_hz: float = 0.0,
    high_hz: float | None = None,
) -> Response:
    """The spectrogram of a span as a PNG (time left to right, frequency bottom to top, in
    dB), at most ``width`` columns wide; rendered on the server and cached."""
    state = _state(request)
    _, path = _recording(request, recording_id)
    rec = Recording(path)
    start, stop = _span(rec, start_s, stop_s)
    channel = _channel(rec, channel)
    if not 16 <= width <= 8192:
        raise ParameterError(f"width={width} must be between 16 and 8192", parameter="width")
    high = rec.sr / 2 if high_hz is None else min(high_hz, rec.sr / 2)
    if not 0 <= low_hz < high:
        raise ParameterError(
            f"low_hz={low_hz:g}, high_hz={high:g}: give 0 <= low_hz < high_hz <= {rec.sr / 2:g}",
            parameter="low_hz",
        )
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, round(start, 6), round(stop, 6), channel, width,
           round(low_hz, 3), round(high, 3))  # fmt: skip
    png = state.images.get(key)
    cached = png is not None
    if png is None:
        y = rec.read(start, stop, channel=channel)[0]
        png = spectrogram_png(y, sr=rec.sr, width=width, low_hz=low_hz, high_hz=high)
        state.images.put(key, png)
    return Response(
        png,
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=3600", "X-Cache": "hit" if cached else "miss"},
    )


@router.get("/{recording_id}/waveform")
def waveform(
    request: Request,
    recording_id: int,
    start_s: float = 0.0,
    stop_s: float | None = None,
    channel: int = 0,
    n: int = 1000,
) -> Response:
    """The envelope of a span: ``n`` (min, max) pairs as little-endian float32."""
    _, path = _recording(request, recording_id)
    rec = Recording(path)
    start, stop = _span(rec, start_s, stop_s)
    if not 1 <= n <= 20000:
        raise ParameterError(f"n={n} must be between 1 and 20000", parameter="n")
    y = rec.read(start, stop, channel=_channel(rec, channel))[0]
    envelope = waveform_envelope(y, n=n)
    buffer = io.BytesIO(envelope.astype("<f4").tobytes())
    return Response(buffer.getvalue(), media_type="application/octet-stream")


@router.get("/{recording_id}/video")
def video(request: Request, recording_id: int):
    """The video beside the recording (same stem), with range requests for seeking."""
    from sonotype.app.server import NotFound

    _, path = _recording(request, recording_id)
    found = video_of(path)
    if found is None:
        raise NotFound(f"no video named {path.stem}.* ({', '.join(VIDEO_SUFFIXES)}) beside it")
    return FileResponse(found)
