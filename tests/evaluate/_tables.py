"""Small Events tables written inline for the evaluation tests."""

from __future__ import annotations

from sonotype.annotations import concat_events, make_events


def points(times, label="p", recording="r.wav", channel=0):
    """Point events at ``times`` (seconds)."""
    return make_events(recording, list(times), list(times), label, channel=channel)


def spans(pairs, label="a", recording="r.wav", channel=0):
    """Interval events from ``(start_s, stop_s)`` pairs; ``label`` may be one per event."""
    return make_events(
        recording, [p[0] for p in pairs], [p[1] for p in pairs], label, channel=channel
    )


def joined(*tables):
    """Several Events tables as one."""
    return concat_events(list(tables))
