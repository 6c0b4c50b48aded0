"""Sound detection and syllable segmentation: detectors registered by name, and a runner
that streams recordings of any length block by block, in parallel across recordings."""

# The detector modules are imported for their registration side effect.
from sonotype.detect import amplitude, time_freq  # noqa: F401
from sonotype.detect.base import DETECTORS, Detector, make_detector, register_detector
from sonotype.detect.presets import PRESETS, Preset, get_preset, preset_detector
from sonotype.detect.runner import detect_recording

__all__ = [
    "DETECTORS",
    "PRESETS",
    "Detector",
    "Preset",
    "detect_recording",
    "get_preset",
    "make_detector",
    "preset_detector",
    "register_detector",
]
