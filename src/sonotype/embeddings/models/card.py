"""Any local model file (ONNX, TorchScript or TFLite), described by a TOML model card.

A card says what the file expects and which output is the embedding::

    # embedders/mymodel.toml in the project (or any path given to --model)
    file = "mymodel.onnx"          # relative to the card; nothing is ever downloaded
    sample_rate_hz = 32000
    window_s = 5.0
    input_layout = "batch,samples" # or "batch,channel,samples"
    input_scale = 1.0              # audio in [-1, 1] is multiplied by this
    output = "embedding"           # ONNX output name, TFLite tensor name, TorchScript index
    embedding_size = 1280
    labels = "labels.txt"          # optional: one label per line, for a scores output
    scores_output = "logits"       # optional; its activation: sigmoid, softmax or none
    scores_activation = "sigmoid"

The format comes from the file's suffix (``.onnx``, ``.pt``/``.ts``/``.torchscript``,
``.tflite``) unless ``format`` says. Unknown keys are errors, so a typo is never ignored.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sonotype.embeddings.models.base import AudioModel, ModelOutput, ModelUnavailable
from sonotype.embeddings.models.birdnet import file_hash, sigmoid, with_outputs
from sonotype.errors import ParameterError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Where a project keeps its model cards: ``--model NAME`` finds ``embedders/NAME.toml``.
CARDS_DIR = "embedders"
SUFFIXES = {
    ".onnx": "onnx",
    ".pt": "torchscript",
    ".ts": "torchscript",
    ".torchscript": "torchscript",
    ".tflite": "tflite",
}
EXTRAS = {"onnx": "onnxruntime", "torchscript": "torch", "tflite": "ai_edge_litert"}


class ModelCard(BaseModel):
    """The fields of a model card (see the module notes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    format: Literal["onnx", "torchscript", "tflite"] | None = None
    sample_rate_hz: float = Field(gt=0)
    window_s: float = Field(gt=0)
    input_layout: Literal["batch,samples", "batch,channel,samples"] = "batch,samples"
    input_scale: float = 1.0
    output: str | int = 0
    embedding_size: int = Field(gt=0)
    labels: str | None = None
    scores_output: str | int | None = None
    scores_activation: Literal["sigmoid", "softmax", "none"] = "sigmoid"
    description: str = ""


def read_card(path: Path) -> ModelCard:
    """The model card at ``path``; a bad one is an error naming the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ParameterError(f"model card {path}: not valid TOML: {error}") from None
    try:
        return ModelCard(**data)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(card)"
        raise ParameterError(
            f"model card {path}: {key}: {first['msg']}; see docs/embeddings.md for the keys"
        ) from None


class CardModel(AudioModel):
    """A local model file run as its card says.

    Parameters
    ----------
    card_path : path
        The TOML card; the model file and labels are relative to it.
    threads : int
        Threads of the runtime per process.
    """

    def __init__(self, card_path: str | Path, *, threads: int = 1) -> None:
        self.card_path = Path(card_path).resolve()
        self.threads = threads
        card = read_card(self.card_path)
        self.card = card
        self.name = self.card_path.stem
        self.sr = float(card.sample_rate_hz)
        self.window_s = float(card.window_s)
        self.dimensions = int(card.embedding_size)
        self.format = card.format or SUFFIXES.get(Path(card.file).suffix.lower())
        if self.format is None:
            raise ParameterError(
                f"model card {self.card_path}: file {card.file!r} has no known suffix "
                f'({", ".join(SUFFIXES)}); add format = "onnx", "torchscript" or "tflite"'
            )
        self.path = (self.card_path.parent / card.file).resolve()
        self.labels = ()
        if card.labels is not None:
            labels_path = self.card_path.parent / card.labels
            if not labels_path.is_file():
                raise ModelUnavailable(
                    f"labels file {labels_path} is missing; put it there (the card's `labels`, "
                    "relative to the card) or remove `labels` from the card"
                )
            lines = labels_path.read_text(encoding="utf-8").splitlines()
            self.labels = tuple(line.strip() for line in lines if line.strip())
        if card.labels is not None and card.scores_output is None:
            raise ParameterError(
                f"model card {self.card_path}: `labels` needs `scores_output` (the output that "
                "holds one score per label)"
            )

    def check(self) -> None:
        """Raise :class:`ModelUnavailable` when the file or its runtime is missing."""
        import importlib.util

        if not self.path.is_file():
            raise ModelUnavailable(
                f"model file {self.path} is missing; put the file there (the card "
                f"{self.card_path.name} names it as {self.card.file!r}, relative to the card)"
            )
        package = EXTRAS[self.format]
        if importlib.util.find_spec(package) is None:
            raise ModelUnavailable(f"{self.format} models need {package}: pip install {package}")

    def identity(self) -> dict[str, Any]:
        self.check()
        card = self.card.model_dump(exclude={"description"})
        return {
            "card": card,
            "format": self.format,
            "sha256": file_hash(self.path),
            "labels": list(self.labels),
        }

    def load(self) -> None:
        if getattr(self, "_run", None) is not None:
            return
        self.check()
        loader = {"onnx": self._onnx, "torchscript": self._torchscript, "tflite": self._tflite}
        self._run = loader[self.format]()

    def run(self, audio: np.ndarray, *, scores: bool) -> ModelOutput:
        x = audio * np.float32(self.card.input_scale)
        if self.card.input_layout == "batch,channel,samples":
            x = x[:, None, :]
        wanted = [self.card.output] + ([self.card.scores_output] if scores else [])
        values = self._run(np.ascontiguousarray(x, dtype=np.float32), wanted)
        vectors = np.asarray(values[0], dtype=np.float32).reshape(len(audio), -1)
        if vectors.shape[1] != self.dimensions:
            raise ParameterError(
                f"model card {self.card_path}: output {self.card.output!r} has "
                f"{vectors.shape[1]} values per window, but embedding_size = {self.dimensions}; "
                "fix the card"
            )
        if not scores:
            return ModelOutput(vectors)
        logits = np.asarray(values[1], dtype=np.float32).reshape(len(audio), -1)
        return ModelOutput(vectors, _activate(logits, self.card.scores_activation))

    # -- runtimes: each returns run(x, outputs) -> list of arrays ----------------------------

    def _onnx(self):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        input_name = session.get_inputs()[0].name

        def run(x, outputs):
            chosen = [_pick(names, o, self.card_path) for o in outputs]
            return session.run(chosen, {input_name: x})

        return run

    def _torchscript(self):
        import warnings

        import torch

        torch.set_num_threads(self.threads)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is still read
            module = torch.jit.load(str(self.path), map_location="cpu").eval()

        def run(x, outputs):
            with torch.inference_mode():
                result = module(torch.from_numpy(x))
            return [_select(result, o, self.card_path) for o in outputs]

        return run

    def _tflite(self):
        from ai_edge_litert.interpreter import Interpreter

        content = self.path.read_bytes()
        probe = Interpreter(model_content=content)
        names = [d["name"] for d in probe.get_output_details()]
        extra = [
            o
            for o in (self.card.output, self.card.scores_output)
            if isinstance(o, str) and o not in names
        ]
        if extra:  # an inner tensor: made an output so the fast delegate stays on
            content = with_outputs(content, extra)
        interpreter = Interpreter(model_content=content, num_threads=self.threads)
        details = interpreter.get_output_details()
        names = [d["name"] for d in details]
        state = {"batch": None}

        def run(x, outputs):
            (entry,) = interpreter.get_input_details()
            if state["batch"] != x.shape:
                interpreter.resize_tensor_input(entry["index"], list(x.shape))
                interpreter.allocate_tensors()
                state["batch"] = x.shape
            interpreter.set_tensor(entry["index"], x)
            interpreter.invoke()
            chosen = [_pick(names, o, self.card_path) for o in outputs]
            return [interpreter.get_tensor(details[names.index(c)]["index"]) for c in chosen]

        return run


def _pick(names: list[str], output: str | int, card: Path) -> str:
    if isinstance(output, int):
        if not 0 <= output < len(names):
            raise ParameterError(f"model card {card}: output {output} is not among {names}")
        return names[output]
    if output not in names:
        raise ParameterError(
            f"model card {card}: the model has no output {output!r}; its outputs: "
            f"{', '.join(names)}"
        )
    return output


def _select(result, output: str | int, card: Path):
    if isinstance(result, dict):
        if output not in result:
            raise ParameterError(
                f"model card {card}: the model returns keys {', '.join(map(str, result))}, "
                f"not {output!r}"
            )
        return result[output].numpy()
    if isinstance(result, tuple | list):
        if not isinstance(output, int) or not 0 <= output < len(result):
            raise ParameterError(
                f"model card {card}: the model returns {len(result)} tensors; `output` must be "
                f"an index 0-{len(result) - 1}, not {output!r}"
            )
        return result[output].numpy()
    if output not in (0, "0"):
        raise ParameterError(f"model card {card}: the model returns one tensor; use output = 0")
    return result.numpy()


def _activate(logits: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        return sigmoid(logits)
    if activation == "softmax":
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)
    return logits


def project_cards(project_dir: Path) -> list[Path]:
    """The model cards of a project (``embedders/*.toml``), sorted by name."""
    return sorted((Path(project_dir) / CARDS_DIR).glob("*.toml"))
