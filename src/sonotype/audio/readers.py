"""Audio file readers: soundfile (WAV, FLAC, OGG, MP3, ...) and EvTAF ``.cbin``.

A reader knows how to describe a file (:func:`probe`) and how to read a span of its frames
(:class:`AudioHandle`) without loading the rest. :func:`reader_for` picks the reader from the
file's extension.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from sonotype.errors import (
    AudioError,
    AudioNotFoundError,
    EmptyAudioError,
    NotAudioError,
    TruncatedAudioError,
    UnknownAudioFormatError,
)

#: Extensions read through libsndfile (soundfile), lower case.
SOUNDFILE_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".w64", ".rf64")
#: EvTAF recordings: big-endian int16 samples with a ``.rec`` text file beside them.
EVTAF_EXTENSIONS = (".cbin",)
AUDIO_EXTENSIONS = SOUNDFILE_EXTENSIONS + EVTAF_EXTENSIONS


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says: rate (Hz), channels, frames per channel, format names."""

    sr: int
    channels: int
    frames: int
    format: str
    subtype: str


def is_audio_path(path: str | os.PathLike[str]) -> bool:
    """Whether the file's extension names an audio format sonotype reads."""
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def probe(path: Path, *, allow_truncated: bool = False) -> AudioInfo:
    """Describe the audio file ``path`` from its header, checking it can be read.

    Raises
    ------
    AudioNotFoundError, EmptyAudioError, TruncatedAudioError, NotAudioError,
    UnknownAudioFormatError
        With a message that names the file and the problem.
    """
    _check_exists(path)
    suffix = path.suffix.lower()
    if suffix in EVTAF_EXTENSIONS:
        return _probe_evtaf(path, allow_truncated=allow_truncated)
    if suffix in SOUNDFILE_EXTENSIONS:
        return _probe_soundfile(path, allow_truncated=allow_truncated)
    raise UnknownAudioFormatError(
        path,
        f"unknown audio format {suffix or '(no extension)'!r}; sonotype reads "
        f"{', '.join(AUDIO_EXTENSIONS)}; convert the file to WAV or FLAC",
    )


class AudioHandle:
    """An open audio file from which spans of frames are read as float32.

    Use as a context manager; :meth:`read` returns ``(frames, channels)`` float32 in
    [-1, 1) for integer formats.
    """

    def __init__(self, path: Path, info: AudioInfo) -> None:
        self.path = path
        self.info = info
        self._file = None

    def __enter__(self) -> AudioHandle:
        try:
            if self.info.format == "EvTAF":
                self._file = open(self.path, "rb")
            else:
                self._file = sf.SoundFile(self.path)
        except (OSError, sf.LibsndfileError) as error:
            raise AudioError(self.path, f"cannot be opened: {error}") from error
        return self

    def __exit__(self, *exc_info) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``[start, stop)`` of every channel, shape ``(stop - start, channels)``."""
        n = stop - start
        channels = self.info.channels
        if self.info.format == "EvTAF":
            self._file.seek(start * channels * 2)
            raw = np.fromfile(self._file, dtype=">i2", count=n * channels)
            if raw.size != n * channels:
                raise TruncatedAudioError(self.path, f"ends before frame {stop}")
            return (raw.reshape(n, channels).astype(np.float32)) * np.float32(1 / 32768)
        try:
            self._file.seek(start)
            data = self._file.read(n, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as error:
            raise AudioError(self.path, f"reading frames {start}-{stop} failed: {error}") from error
        if len(data) != n:
            raise TruncatedAudioError(
                self.path, f"gave {len(data)} frames where {n} were expected from frame {start}"
            )
        return data


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise AudioNotFoundError(path, "no such file")
    if path.is_dir():
        raise AudioError(path, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise EmptyAudioError(path, "is empty (0 bytes)")


def _probe_soundfile(path: Path, *, allow_truncated: bool) -> AudioInfo:
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as error:
        raise NotAudioError(
            path,
            f"is not readable audio ({_libsndfile_reason(error)}); check that the file is "
            "really a recording and was copied completely",
        ) from error
    if info.frames <= 0:
        raise EmptyAudioError(path, "has a header but no samples")
    if info.format in ("WAV", "WAVEX") and not allow_truncated:
        declared = _wav_declared_frames(path)
        if declared is not None and declared > info.frames:
            raise TruncatedAudioError(
                path,
                f"is truncated: its header declares {declared} frames but the file holds "
                f"{info.frames} ({info.frames / info.samplerate:.3f} s of "
                f"{declared / info.samplerate:.3f} s); copy it again (it may have been cut short)",
            )
    return AudioInfo(
        sr=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        format=str(info.format),
        subtype=str(info.subtype),
    )


def _wav_declared_frames(path: Path) -> int | None:
    """Frames the RIFF header's ``data`` chunk declares, or None when it does not say."""
    with open(path, "rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        block_align = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            chunk_id, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"fmt ":
                fmt = f.read(size)
                block_align = struct.unpack("<H", fmt[12:14])[0] if len(fmt) >= 14 else None
                f.seek(size % 2, os.SEEK_CUR)
            elif chunk_id == b"data":
                # 0 and 0xFFFFFFFF mark streams whose writer never filled in the size.
                if not block_align or size in (0, 0xFFFFFFFF):
                    return None
                return size // block_align
            else:
                f.seek(size + size % 2, os.SEEK_CUR)


def _probe_evtaf(path: Path, *, allow_truncated: bool) -> AudioInfo:
    rec_path = path.with_suffix(".rec")
    if not rec_path.is_file():
        raise AudioNotFoundError(
            path,
            f"needs its EvTAF .rec file ({rec_path.name}) beside it for the sample rate and "
            "channel count; copy the .rec file next to the .cbin",
        )
    fields = _read_rec(rec_path)
    try:
        sr = int(float(fields["adfreq"]))
        channels = int(fields["chans"])
    except (KeyError, ValueError):
        raise AudioError(
            rec_path, "has no valid 'ADFREQ = <rate>' and 'Chans = <n>' lines"
        ) from None
    if sr <= 0 or channels <= 0:
        raise AudioError(rec_path, f"ADFREQ={sr} and Chans={channels} must be positive")
    size = path.stat().st_size
    frame_bytes = 2 * channels
    frames = size // frame_bytes
    declared = int(fields["samples"]) if fields.get("samples", "").isdigit() else None
    if not allow_truncated:
        if size % frame_bytes:
            raise TruncatedAudioError(
                path,
                f"is truncated: {size} bytes is not a whole number of {channels}-channel int16 "
                "frames; copy it again (it may have been cut short)",
            )
        if declared is not None and declared > frames:
            raise TruncatedAudioError(
                path,
                f"is truncated: {rec_path.name} declares {declared} samples per channel but the "
                f"file holds {frames}; copy it again (it may have been cut short)",
            )
    return AudioInfo(sr=sr, channels=channels, frames=frames, format="EvTAF", subtype="PCM_16_BE")


def _read_rec(rec_path: Path) -> dict[str, str]:
    """``key = value`` lines of an EvTAF .rec file, keys lower-cased."""
    text = rec_path.read_text(errors="replace")
    return {
        m.group(1).strip().lower(): m.group(2).strip()
        for m in re.finditer(r"^\s*([A-Za-z][A-Za-z ]*?)\s*=\s*(.*?)\s*$", text, re.M)
    }


def _libsndfile_reason(error: Exception) -> str:
    message = str(error)
    return message.split(": ", 1)[1] if ": " in message else message
