"""Audio input and output: lazy recordings of any length, readers, resampling."""

from sonotype.audio.readers import AUDIO_EXTENSIONS, AudioInfo, is_audio_path, probe
from sonotype.audio.recording import Block, Recording
from sonotype.audio.resample import resample
from sonotype.audio.write import write_audio

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioInfo",
    "Block",
    "Recording",
    "is_audio_path",
    "probe",
    "resample",
    "write_audio",
]
