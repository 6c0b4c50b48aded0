"""Embedding events (or windows) with a trained triplet network."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from sonotype.triplets.frontend import SpanReader
from sonotype.triplets.training import TrainedTriplets


def embed_spectrograms(trained: TrainedTriplets, specs: Sequence[np.ndarray]) -> np.ndarray:
    """The network's embedding of each log-mel spectrogram ``(n_mels, frames)`` (any
    frames: the network pools over time), float32 ``(n, dim)``."""
    net = trained.network()
    out = np.empty((len(specs), trained.config.dim), dtype=np.float32)
    with torch.no_grad():
        for i, spec in enumerate(specs):
            out[i] = net(torch.from_numpy(np.ascontiguousarray(spec, np.float32))[None, None])[0]
    return out


def embed_events(
    trained: TrainedTriplets,
    events: pd.DataFrame,
    open_recording: Callable[[str], object],
    *,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Embed every event's span (read when needed, one at a time): float32 ``(n, dim)``."""
    reader = SpanReader(open_recording, trained.front)
    net = trained.network()
    out = np.empty((len(events), trained.config.dim), dtype=np.float32)
    with torch.no_grad():
        for i, event in enumerate(events.itertuples(index=False)):
            channel = 0 if pd.isna(getattr(event, "channel", 0)) else int(event.channel)
            duration = max(float(event.stop_s) - float(event.start_s), 1.0 / trained.front.sr)
            spec = reader.span(event.recording, float(event.start_s), duration, channel=channel)
            out[i] = net(torch.from_numpy(spec)[None, None])[0]
            if progress is not None:
                progress(1)
    return out
