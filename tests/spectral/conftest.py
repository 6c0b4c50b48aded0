"""Fixtures for the spectral tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def librosa():
    """librosa, the reference implementation (a test-only dependency); skips without it."""
    return pytest.importorskip("librosa")
