"""Counted nouns for messages: ``1 recording``, ``2 recordings``."""

from __future__ import annotations


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``n`` and ``noun``, in the plural (``nouns``, else ``noun`` + s) unless ``n`` is 1.

    Examples
    --------
    >>> plural(1, "recording"), plural(2, "recording"), plural(0, "is", "are")
    ('1 recording', '2 recordings', '0 are')
    """
    return f"{n:,} {noun if n == 1 else (nouns or noun + 's')}"
