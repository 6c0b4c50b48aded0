"""``train --loss autoencoder``: a reconstruction model whose encoder initialises a classifier.

SongExplorer's unsupervised transfer learning: a network learns to give back its input
through a bottleneck on unlabelled sound, and its first layers then start a classifier
trained on the few labels there are. Here the encoder is exactly the classifier's
(:class:`sonotype.models.network.ConvNet` built from the same :class:`NetworkConfig`): the
front end (spectrogram or mel-cepstrum, standardised per bin) and the convolution blocks.
The bottleneck is the last block's output, ``(feature_maps[-1], bins, frames)``; a small
decoder (1 x 1 convolution, upsampling to the front end's ``(bins, frames)``, two 3 x 3
convolutions) reconstructs the standardised front-end features of the context window from
it, with mean squared error. The classifier's waveform augmentation (``volume_db``,
``noise_snr_db``, ...) corrupts the input only, so with ``noise_snr_db`` set the model
learns to denoise.

The model folder (``artifacts/models/NAME/``) holds ``reconstruction.json`` (network
settings, sample rate, training record), ``weights.pt`` (encoder and decoder),
``encoder.pt`` (only the ``frontend.*`` and ``blocks.*`` tensors, named as in the
classifier) and ``learning_curve.csv``. :func:`load_encoder` copies ``encoder.pt`` into a
classifier built with the same front end and convolution settings (``sonotype train
--init-from`` is the command-line route).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from sonotype._version import __version__
from sonotype.atomic import atomic_path, replace_folder, staging_folder
from sonotype.errors import ParameterError
from sonotype.models.config import NetworkConfig
from sonotype.models.network import ConvNet, Framing
from sonotype.models.settings import TrainSettings

RECONSTRUCTION_FILE = "reconstruction.json"
ENCODER_FILE = "encoder.pt"
ENCODER_PREFIXES = ("frontend.", "blocks.")
#: Network settings that must agree between the reconstruction model and a classifier it
#: initialises (they decide the encoder's tensors and what they mean).
ENCODER_SETTINGS = (
    "representation", "window_ms", "stride_ms", "low_hz", "high_hz", "n_mels", "n_dct",
    "n_filters", "conv_layers", "feature_maps", "time_kernel", "freq_kernel", "time_stride",
    "time_dilation", "freq_pool", "normalization", "residual",
)  # fmt: skip
#: Fixed windows drawn once to measure the validation loss.
N_CHECK = 256


class ReconstructionNetwork(nn.Module):
    """The classifier's encoder (front end and convolution blocks) and a decoder that
    reconstructs the front end's standardised features of one context window."""

    def __init__(self, config: NetworkConfig, sr: float) -> None:
        super().__init__()
        if config.representation == "waveform":
            raise ParameterError(
                "--loss autoencoder reconstructs the front end's features, which a learned "
                "waveform filter bank could make trivially zero; use --representation "
                "spectrogram or mel-cepstrum",
                parameter="loss",
            )
        classifier = ConvNet(config, sr, n_labels=1)
        self.frontend, self.blocks = classifier.frontend, classifier.blocks
        self.receptive_field = classifier.receptive_field
        framing = Framing(self.frontend.window, self.frontend.hop)
        self.frames = framing.context_frames(config.context_ms, sr)
        channels = config.per_layer("feature_maps")[-1]
        width = 32
        self.expand = nn.Conv2d(channels, width, 1)
        self.refine = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 1, 3, padding=1),
        )

    def target(self, audio: torch.Tensor) -> torch.Tensor:
        """Standardised features ``(batch, 1, bins, frames)`` of the context window."""
        return self.frontend(audio)[..., : self.frames]

    def bottleneck(self, audio: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.frontend(audio))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """The reconstruction ``(batch, 1, bins, frames)`` of windows ``(batch, 1, n)``."""
        z = torch.relu(self.expand(self.bottleneck(audio)))
        z = nn.functional.interpolate(z, size=(self.frontend.bins, self.frames), mode="bilinear")
        return self.refine(z)


def train_reconstruction(
    examples: pd.DataFrame,
    open_recording: Callable,
    *,
    config: NetworkConfig,
    sr: float,
    folder: str | Path,
    settings: TrainSettings | None = None,
    record: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Train a reconstruction model on windows drawn inside ``examples``' spans and publish
    it in ``folder`` (replacing one there); return the folder.

    Parameters
    ----------
    examples : DataFrame
        Events (recording, channel, start_s, stop_s) whose spans the windows are drawn from.
    open_recording : callable
        Recording name -> :class:`~sonotype.audio.Recording`.
    config : NetworkConfig
        The classifier's network settings (``loss`` is ignored).
    """
    from sonotype.models.training import Augmenter, pick_device
    from sonotype.models.windows import ExampleAudio

    settings = settings or TrainSettings()
    settings.check()
    if examples.empty:
        raise ParameterError("no events to learn from; check --labels and --kinds")
    folder = Path(folder)
    torch.manual_seed(settings.random_state)
    rng = np.random.default_rng(settings.random_state)
    generator = torch.Generator().manual_seed(settings.random_state)
    device = pick_device(settings.device)
    network = ReconstructionNetwork(config, sr)
    window = network.receptive_field
    audio = ExampleAudio(examples, open_recording, sr=sr, window=window)
    rows = np.arange(len(examples))
    sample = rng.choice(rows, min(N_CHECK, 512))
    network.frontend.fit_standardization(
        torch.from_numpy(audio.windows(sample, audio.draw_times(sample, rng))[:, None, :])
    )
    check_rows = rng.choice(rows, N_CHECK)
    check = torch.from_numpy(audio.windows(check_rows, audio.draw_times(check_rows, rng))[:, None])
    network.to(device)
    augment = Augmenter(config, generator)
    optimizer = torch.optim.Adam(network.parameters(), lr=settings.learning_rate)
    validate_every = settings.validate_every or max(1, settings.steps // 10)
    curve, running, best, best_state = [], [], np.inf, None
    started = time.perf_counter()
    for step in range(1, settings.steps + 1):
        network.train()
        chosen = rng.choice(rows, settings.batch_size)
        clean = torch.from_numpy(audio.windows(chosen, audio.draw_times(chosen, rng))[:, None])
        clean = clean.to(device)
        with torch.no_grad():
            target = network.target(clean)
        loss = nn.functional.mse_loss(network(augment(clean)), target)
        if not torch.isfinite(loss):
            raise ParameterError(
                f"the reconstruction loss became {float(loss.detach())} at step {step}; "
                f"lower --learning-rate (now {settings.learning_rate:g})",
                parameter="learning_rate",
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        running.append(float(loss.detach()))
        if progress is not None:
            progress(step, settings.steps)
        if step % validate_every and step != settings.steps:
            continue
        network.eval()
        with torch.no_grad():
            x = check.to(device)
            validation = float(nn.functional.mse_loss(network(x), network.target(x)))
        curve.append(
            {
                "step": step,
                "elapsed_s": time.perf_counter() - started,
                "train_loss": float(np.mean(running)),
                "validation_loss": validation,
            }
        )
        running = []
        if validation <= best:
            best, best_step = validation, step
            best_state = {k: v.detach().cpu().clone() for k, v in network.state_dict().items()}
    staging = staging_folder(folder.parent, folder.name)
    try:
        with atomic_path(staging / "weights.pt") as tmp:
            torch.save(best_state, tmp)
        encoder = {k: v for k, v in best_state.items() if k.startswith(ENCODER_PREFIXES)}
        with atomic_path(staging / ENCODER_FILE) as tmp:
            torch.save(encoder, tmp)
        with atomic_path(staging / "learning_curve.csv") as tmp:
            pd.DataFrame(curve).to_csv(tmp, index=False)
        description = {
            "loss": "autoencoder",
            "config": config.model_dump(),
            "sr": float(sr),
            "receptive_field": int(window),
            "bottleneck": list(network.bottleneck(check[:1].to(device)).shape[1:]),
            "best_step": best_step,
            "best_validation_loss": best,
            "training": {**(record or {}), **settings.model_dump(), "device": str(device),
                         "seconds": round(time.perf_counter() - started, 2)},
            "sonotype_version": __version__,
        }  # fmt: skip
        with atomic_path(staging / RECONSTRUCTION_FILE) as tmp:
            tmp.write_text(json.dumps(description, indent=2, sort_keys=True) + "\n")
        folder.parent.mkdir(parents=True, exist_ok=True)
        replace_folder(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return folder


def reconstruction_description(folder: str | Path) -> dict:
    """``reconstruction.json`` of a reconstruction model folder."""
    path = Path(folder) / RECONSTRUCTION_FILE
    if not path.is_file():
        raise ParameterError(
            f"{folder} is not a reconstruction model (no {RECONSTRUCTION_FILE}); train one "
            "with `sonotype train --loss autoencoder`",
            parameter="init_from",
        )
    return json.loads(path.read_text())


def load_encoder(
    network: nn.Module, folder: str | Path, *, config: NetworkConfig | None = None
) -> list[str]:
    """Copy the encoder of the reconstruction model in ``folder`` into ``network`` (a
    classifier from :func:`~sonotype.models.network.build_network`, built from ``config``);
    return the names of the tensors copied. With ``config``, its encoder settings
    (:data:`ENCODER_SETTINGS`) must agree with the model's; tensor shapes must always."""
    description = reconstruction_description(folder)
    saved = NetworkConfig(**description["config"])
    if config is not None:
        differ = [k for k in ENCODER_SETTINGS if getattr(saved, k) != getattr(config, k)]
        if differ:
            raise ParameterError(
                f"the classifier's {', '.join(differ)} differ from the reconstruction "
                f"model's in {folder}; train the classifier with the same settings",
                parameter="init_from",
            )
    state = torch.load(Path(folder) / ENCODER_FILE, map_location="cpu", weights_only=True)
    own = network.state_dict()
    wrong = [k for k, v in state.items() if k not in own or own[k].shape != v.shape]
    if wrong:
        raise ParameterError(
            f"the encoder in {folder} does not fit this network ({wrong[0]}, ...); build the "
            "classifier with the reconstruction model's network settings",
            parameter="init_from",
        )
    network.load_state_dict(state, strict=False)
    return sorted(state)


def train_reconstruction_in_project(
    project,
    name: str,
    *,
    labels: Sequence[str],
    kinds: Sequence[str],
    recordings: Sequence[str] | None,
    network: dict[str, Any],
    settings: TrainSettings,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """``sonotype train --loss autoencoder``: learn from the spans of the project's stored
    events of ``kinds`` labelled ``labels`` (SongExplorer: one event spanning each
    recording), into ``artifacts/models/NAME/``."""
    from sonotype.audio import Recording
    from sonotype.models.config import network_config
    from sonotype.pipeline.model_store import model_folder, select_recordings

    config = network_config(**network)
    events = project.events(kinds=list(kinds))
    chosen = select_recordings(project, recordings)
    events = events[events["label"].isin(labels) & events["recording"].isin(chosen)]
    events = events[events["stop_s"] > events["start_s"]].reset_index(drop=True)
    if events.empty:
        raise ParameterError(
            f"no stored events of kind {', '.join(kinds)} labelled {', '.join(labels)} with a "
            "duration; the reconstruction model learns from their spans (e.g. one event "
            "spanning each recording)",
            parameter="labels",
        )
    index = project.recordings().set_index("path")["sr"]
    sr = float(index.reindex(events["recording"].unique()).mode().iloc[0])
    with project.run("train", {"name": name, "loss": "autoencoder", "labels": list(labels),
                               "network": config.model_dump(),
                               "settings": settings.model_dump()}, name=name):  # fmt: skip
        return train_reconstruction(
            events,
            lambda rec: Recording(project.recording_path(rec)),
            config=config,
            sr=sr,
            folder=model_folder(project, name),
            settings=settings,
            record={"labels": list(labels), "kinds": list(kinds), "events": len(events)},
            progress=progress,
        )
