"""Synthetic recordings with exact ground truth, for the demo, tests and benchmarks."""

from sonotype.synth.birdsong import SYLLABLE_SHAPES, SyllableType, birdsong, syllable_types
from sonotype.synth.flysong import flysong
from sonotype.synth.noise import add_noise

__all__ = [
    "SYLLABLE_SHAPES",
    "SyllableType",
    "add_noise",
    "birdsong",
    "flysong",
    "syllable_types",
]
