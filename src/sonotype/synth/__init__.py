"""Synthetic recordings with exact ground truth, for the demo, tests and benchmarks."""

from sonotype.synth.birdsong import SYLLABLE_SHAPES, SyllableType, birdsong, syllable_types
from sonotype.synth.flysong import flysong
from sonotype.synth.noise import add_noise
from sonotype.synth.usv import USV_SHAPES, usv

__all__ = [
    "SYLLABLE_SHAPES",
    "USV_SHAPES",
    "SyllableType",
    "add_noise",
    "birdsong",
    "flysong",
    "syllable_types",
    "usv",
]
