"""Classify whole recordings: per-label probabilities at the network's output rate.

A recording streams through in blocks of ``block_frames`` output frames; each block is read
with the context its edge frames need, blocks are batched for the network, and results are
written into a ``(frames, labels)`` array (a memory-mapped ``.npy``), so memory stays bounded
whatever the recording's length. Frame ``j`` is centred on ``j * output_step`` samples;
audio before the start and after the end counts as silence.

Two engines run the network: torch itself, or onnxruntime on the network exported to ONNX
in memory (probabilities within 1e-5 of torch's). ``engine="auto"`` chooses by measurement
(``benchmarks/classify.py``, docs/supervised.md): for whole recordings torch is faster on one
thread (it reaches the machine's matrix-multiply rate, onnxruntime 91% of it) and on two (91%
of the limit against 79%); on small inputs (streaming chunks) onnxruntime's calls cost a
fifth of torch's.
"""

from __future__ import annotations

import ctypes
import importlib.util
import math
import sys
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from sonotype.audio import Recording
from sonotype.errors import ParameterError
from sonotype.models.prevalence import adjust_prevalence
from sonotype.models.windows import network_input, read_padded

MODES = ("convolutional", "windows")
ENGINES = ("auto", "torch", "onnx")
__all__ = [
    "ENGINES",
    "MODES",
    "adjust_prevalence",
    "classify_recording",
    "classify_to_file",
    "n_output_frames",
    "predict_windows",
    "probabilities_runner",
    "resolve_engine",
]

#: A runner maps audio ``(batch, 1, samples)`` float32 to probabilities
#: ``(batch, labels, frames)`` float32, both numpy arrays.
Runner = Callable[[np.ndarray], np.ndarray]

#: ONNX sessions by network, with the parameter versions they were exported from, so that a
#: network is exported once per process and again only when its weights change.
_SESSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def onnxruntime_installed() -> bool:
    """Whether onnxruntime can be imported (without importing it)."""
    return importlib.util.find_spec("onnxruntime") is not None


def resolve_engine(engine: str, network: torch.nn.Module, *, small_inputs: bool = False) -> str:
    """The engine ``engine`` stands for.

    ``"auto"`` is ``"onnx"`` for small inputs (``small_inputs``: a stream's chunks, where each
    call's fixed cost dominates and onnxruntime's is 4x smaller) when onnxruntime is installed
    and ``network`` is on the CPU; else ``"torch"``, which classifies whole recordings faster
    on one thread and on two (``benchmarks/classify.py``, docs/supervised.md).
    """
    if engine not in ENGINES:
        raise ParameterError(
            f"engine={engine!r} must be one of {', '.join(ENGINES)}; auto uses onnxruntime "
            "for streaming when it is installed"
        )
    on_cpu = next(network.parameters()).device.type == "cpu"
    if engine == "auto":
        return "onnx" if on_cpu and small_inputs and onnxruntime_installed() else "torch"
    if engine == "onnx":
        if not onnxruntime_installed():
            raise ParameterError(
                "engine='onnx' needs onnxruntime: pip install onnxruntime, or use engine='torch'"
            )
        if not on_cpu:
            raise ParameterError("engine='onnx' runs on the CPU; move the network there first")
    return engine


_MALLOC_RAISED = False


def raise_malloc_thresholds() -> None:
    """Keep freed large blocks in glibc's heap instead of unmapping them.

    By default glibc serves blocks above 128 kB-32 MB (adaptive) with fresh ``mmap`` pages and
    returns them on free, so each block's convolution outputs (megabytes) land on new pages
    and page-fault on first touch: measured, most of the system time of the torch engine.
    Raising the thresholds once per process lets later blocks reuse the same memory. Does
    nothing on other C libraries.
    """
    global _MALLOC_RAISED
    if _MALLOC_RAISED or not sys.platform.startswith("linux"):
        return
    _MALLOC_RAISED = True
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, ...)
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    # 32 MB is the most glibc accepts on 64-bit systems (half its heap size); the default
    # network's largest tensor at 32 kHz in blocks of 1024 frames is 14 MB.
    libc.mallopt(m_mmap_threshold, 32 << 20)
    libc.mallopt(m_trim_threshold, 512 << 20)


def probabilities_runner(
    network: torch.nn.Module, *, engine: str = "auto", small_inputs: bool = False
) -> Runner:
    """A function from audio ``(batch, 1, samples)`` to probabilities ``(batch, labels,
    frames)``, run by ``engine`` (see :data:`ENGINES` and :func:`resolve_engine`); numpy in
    and out.

    The onnx engine exports the network (in evaluation mode) once per process and weights;
    its session uses as many threads as torch does (one in a pool worker).
    """
    engine = resolve_engine(engine, network, small_inputs=small_inputs)
    network.eval()
    if engine == "onnx":
        session = _onnx_session(network)
        name = session.get_inputs()[0].name
        return lambda audio: session.run(None, {name: np.ascontiguousarray(audio)})[0]
    raise_malloc_thresholds()
    device = next(network.parameters()).device
    # Channels-last tensors take the faster convolution kernels (2x on CPUs, measured).
    network.to(memory_format=torch.channels_last)

    def run(audio: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return network.probabilities(torch.from_numpy(audio).to(device)).cpu().numpy()

    return run


def _onnx_session(network: torch.nn.Module):
    import onnxruntime

    from sonotype.models.export import onnx_bytes

    versions = tuple(t._version for t in network.state_dict().values())
    threads = torch.get_num_threads()
    cached = _SESSIONS.get(network)
    if cached is not None and cached[0] == (versions, threads):
        return cached[1]
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        onnx_bytes(network), options, providers=["CPUExecutionProvider"]
    )
    _SESSIONS[network] = ((versions, threads), session)
    return session


@torch.no_grad()
def predict_windows(
    network: torch.nn.Module,
    windows: torch.Tensor | np.ndarray,
    *,
    batch_size: int = 256,
    output: str = "probabilities",
) -> torch.Tensor:
    """The network's output at the centre of each context window, batch by batch.

    The one batched inference loop: training's validation, ``accuracy``'s window scores and
    :func:`classify_recording`'s naive mode all go through it. The network is put in
    evaluation mode; each batch moves to the network's device and its output back to the CPU.

    Parameters
    ----------
    network : torch module
        With ``probabilities(audio)`` and ``forward(audio)`` giving ``(batch, labels, 1)``
        for windows of ``receptive_field`` samples.
    windows : tensor or array, shape (n, 1, samples)
        Context windows of audio at the network's rate.
    batch_size : int
        Windows per forward pass (bounds memory).
    output : {"probabilities", "logits"}
        Softmax/sigmoid outputs, or the raw logits (for a loss).

    Returns
    -------
    tensor, shape (n, labels)
        On the CPU.
    """
    if output not in ("probabilities", "logits"):
        raise ParameterError(f"output={output!r} must be 'probabilities' or 'logits'")
    if batch_size < 1:
        raise ParameterError(f"batch_size={batch_size} must be at least 1")
    if isinstance(windows, np.ndarray):
        windows = torch.from_numpy(windows)
    network.eval()
    device = next(network.parameters()).device
    run = network.probabilities if output == "probabilities" else network
    # An empty set still gets one (empty) pass, so the result has the labels' width.
    return torch.cat(
        [
            run(windows[i : i + batch_size].to(device))[:, :, 0].cpu()
            for i in range(0, max(len(windows), 1), batch_size)
        ]
    )


def n_output_frames(recording: Recording, *, sr: float, output_step: int) -> int:
    """Output frames for a recording: one every ``output_step`` samples (at ``sr``)."""
    samples = math.ceil(recording.frames * sr / recording.sr)
    return max(1, math.ceil(samples / output_step))


@torch.no_grad()
def classify_recording(
    network: torch.nn.Module,
    recording: Recording,
    out: np.ndarray,
    *,
    sr: float,
    channel: int = 0,
    block_frames: int = 1024,
    batch_blocks: int | None = None,
    mode: str = "convolutional",
    engine: str = "auto",
    window_batch: int = 512,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Fill ``out`` ``(frames, labels)`` with the network's probabilities for ``recording``.

    Parameters
    ----------
    network : torch module
        With ``receptive_field``, ``output_step`` and ``probabilities(audio)``; one with
        ``input_channels`` > 1 reads that many channels of the recording together (and
        ``channel`` is ignored).
    out : array, shape (frames, labels)
        Where to write, e.g. ``np.lib.format.open_memmap``; frames from
        :func:`n_output_frames`.
    mode : {"convolutional", "windows"}
        One pass over each block (the default), or one context window per output frame (the
        naive way, for benchmarks and tests: same numbers, many times slower).
    engine : {"auto", "torch", "onnx"}
        What runs the network in the convolutional mode (:func:`probabilities_runner`);
        the windows mode always uses torch.
    progress : callable, optional
        Called with the number of frames finished after each batch.
    """
    if mode not in MODES:
        raise ParameterError(f"mode={mode!r} must be one of {', '.join(MODES)}")
    device = next(network.parameters()).device
    if batch_blocks is None:  # batching pays on a GPU; on a CPU, small blocks stay in cache
        batch_blocks = 1 if device.type == "cpu" else 16
    if block_frames < 1 or batch_blocks < 1:
        raise ParameterError("block_frames and batch_blocks must be at least 1")
    run = probabilities_runner(network, engine=engine if mode == "convolutional" else "torch")
    window, step = network.receptive_field, network.output_step
    n_frames = out.shape[0]
    half = window // 2
    span = (block_frames - 1) * step + window  # samples behind one block
    starts = list(range(0, n_frames, block_frames))
    channels = int(getattr(network, "input_channels", 1))
    if channels > 1 and recording.channels < channels:
        raise ParameterError(
            f"{recording.path} has {recording.channels} channel(s); the network reads "
            f"{channels} together"
        )

    def block(j0: int) -> np.ndarray:
        start = j0 * step - half
        if channels == 1:
            return read_padded(recording, start, start + span, sr=sr, channel=channel)
        return read_padded(recording, start, start + span, sr=sr, channel=None)[:channels]

    for first in range(0, len(starts), batch_blocks):
        group = starts[first : first + batch_blocks]
        audio = np.stack([block(j0) for j0 in group])
        audio = network_input(audio)  # (blocks, channels, span)
        if mode == "convolutional":
            probabilities = run(audio).transpose(0, 2, 1)  # (blocks, frames, labels)
        else:
            x = torch.from_numpy(audio).to(device)
            windows = x.unfold(-1, window, step).transpose(1, 2).reshape(-1, channels, window)
            probabilities = predict_windows(network, windows, batch_size=window_batch)
            probabilities = probabilities.reshape(len(group), block_frames, -1).numpy()
        for j0, part in zip(group, probabilities, strict=True):
            j1 = min(j0 + block_frames, n_frames)
            out[j0:j1] = part[: j1 - j0]
        if progress is not None:
            progress(min(group[-1] + block_frames, n_frames))
    return out


def classify_to_file(
    network: torch.nn.Module,
    recording: Recording,
    path: str | Path,
    *,
    sr: float,
    n_labels: int,
    **kwargs,
) -> Path:
    """:func:`classify_recording` into a ``.npy`` file at ``path`` (float32)."""
    n_frames = n_output_frames(recording, sr=sr, output_step=network.output_step)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_frames, n_labels))
    classify_recording(network, recording, out, sr=sr, **kwargs)
    out.flush()
    del out
    return Path(path)
