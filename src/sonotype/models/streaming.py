"""Classify a live input: push chunks of audio, get the probabilities of the frames they complete.

A :class:`StreamClassifier` keeps the last receptive field of audio as context, so that frame
``j`` (centred on sample ``j * output_step`` of the stream, as in
:func:`~sonotype.models.inference.classify_recording`) is computed as soon as the samples up
to ``j * output_step + receptive_field // 2`` have arrived. The probabilities equal those of
classifying the whole input at once (to 1e-5, the rounding of convolutions over other
lengths): audio before the stream's start counts as silence, and :meth:`finish` pads the
end with silence for the frames still open.

The delay from a sample arriving to its frame coming out is therefore half a receptive field
(51.2 ms for the default network) plus the compute time of one chunk.
"""

from __future__ import annotations

import numpy as np
import torch

from sonotype.errors import ParameterError
from sonotype.models.inference import probabilities_runner

__all__ = ["StreamClassifier"]


class StreamClassifier:
    """Probabilities of a stream of audio, chunk by chunk.

    Parameters
    ----------
    network : torch module
        With ``receptive_field``, ``output_step`` (samples) and ``probabilities(audio)``,
        e.g. ``SavedModel.network()``; audio is pushed at its sample rate.
    engine : {"auto", "torch", "onnx"}
        What runs the network (:func:`~sonotype.models.inference.probabilities_runner`);
        auto is onnxruntime when installed (a 25.6 ms chunk at 2.5 kHz: 0.14 ms median
        against torch's 0.7 ms, measured).
    max_frames : int
        Most frames computed in one pass (bounds memory when a large chunk arrives).

    Examples
    --------
    >>> from sonotype.models.config import network_config
    >>> from sonotype.models.network import build_network
    >>> network = build_network(network_config(), sr=2500, n_labels=2).eval()
    >>> stream = StreamClassifier(network, engine="torch")
    >>> chunks = [stream.push(np.zeros(64, np.float32)) for _ in range(10)]
    >>> rest = stream.finish()
    >>> sum(len(c) for c in chunks) + len(rest), stream.frames_done  # 640 samples / 4
    (160, 160)
    """

    def __init__(
        self, network: torch.nn.Module, *, engine: str = "auto", max_frames: int = 4096
    ) -> None:
        if max_frames < 1:
            raise ParameterError(f"max_frames={max_frames} must be at least 1")
        self.network = network
        self.engine = engine
        self.max_frames = max_frames
        self.receptive_field = int(network.receptive_field)
        self.output_step = int(network.output_step)
        self._run = probabilities_runner(network, engine=engine, small_inputs=True)
        self.reset()

    def reset(self) -> None:
        """Start a new stream (the context is silence again)."""
        # The stream as the offline classifier pads it: half a receptive field of silence,
        # then the audio. _buffer holds it from sample frames_done * output_step on.
        self._buffer = np.zeros(self.receptive_field // 2, np.float32)
        self.frames_done = 0  #: frames returned so far
        self.samples_pushed = 0  #: samples of audio received so far
        self._finished = False

    def push(self, chunk: np.ndarray) -> np.ndarray:
        """Add ``chunk`` (1-D, float, at the network's rate); return ``(frames, labels)``
        probabilities of the frames it completes, frame ``frames_done`` (before the call)
        first. Often some frames, sometimes none (a chunk shorter than ``output_step``)."""
        if self._finished:
            raise ParameterError("this stream is finished; call reset() to start another")
        chunk = np.asarray(chunk, dtype=np.float32)
        if chunk.ndim != 1:
            raise ParameterError(f"a chunk must be 1-D audio samples; got shape {chunk.shape}")
        self._buffer = np.concatenate([self._buffer, chunk])
        self.samples_pushed += len(chunk)
        return self._complete()

    def finish(self) -> np.ndarray:
        """The frames still open at the end of the stream, with silence after it; as many
        frames in all as :func:`~sonotype.models.inference.n_output_frames` gives."""
        if self._finished:
            raise ParameterError("this stream is finished; call reset() to start another")
        total = max(1, -(-self.samples_pushed // self.output_step))
        remaining = total - self.frames_done
        needed = (remaining - 1) * self.output_step + self.receptive_field
        if remaining > 0 and len(self._buffer) < needed:
            padding = np.zeros(needed - len(self._buffer), np.float32)
            self._buffer = np.concatenate([self._buffer, padding])
        result = self._complete(limit=remaining)
        self._finished = True
        return result

    def frame_times_s(self, first: int, n: int, *, sr: float) -> np.ndarray:
        """Times (s) of frames ``first`` to ``first + n`` for a stream at ``sr`` Hz."""
        return (first + np.arange(n)) * self.output_step / sr

    def _complete(self, limit: int | None = None) -> np.ndarray:
        window, step = self.receptive_field, self.output_step
        ready = (len(self._buffer) - window) // step + 1 if len(self._buffer) >= window else 0
        if limit is not None:
            ready = min(ready, limit)
        parts = []
        while ready > 0:
            n = min(ready, self.max_frames)
            audio = self._buffer[: (n - 1) * step + window]
            parts.append(self._run(audio[None, None, :])[0].T)
            self._buffer = self._buffer[n * step :]
            self.frames_done += n
            ready -= n
        if not parts:
            return np.zeros((0, self._n_labels()), np.float32)
        return np.ascontiguousarray(np.concatenate(parts) if len(parts) > 1 else parts[0])

    def _n_labels(self) -> int:
        if not hasattr(self, "_labels"):
            probe = np.zeros((1, 1, self.receptive_field), np.float32)
            self._labels = self._run(probe).shape[1]
        return self._labels
