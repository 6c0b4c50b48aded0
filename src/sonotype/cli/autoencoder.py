"""``sonotype autoencoder train|extract|export``: denoising convolutional autoencoders.

``train`` learns from the spectrograms of stored events (or of windows cut from every
recording) and writes ``artifacts/autoencoders/NAME/`` and a report; ``extract`` writes the
model's pooled features as a named embedding set; ``export`` writes the feature extractor as
ONNX or TorchScript. See docs/representations.md.
"""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION

app = typer.Typer(
    help="Denoising convolutional autoencoders on spectrograms: train, extract features "
    "(an embedding set), export. See docs/representations.md.",
    no_args_is_help=True,
)


def _windows(text: str | None) -> tuple[float, float] | None:
    from sonotype.errors import ParameterError

    if text is None:
        return None
    parts = text.split(",")
    try:
        window_s, hop_s = (float(p) for p in parts)
    except ValueError:
        raise ParameterError(
            f"--windows {text!r} must be WINDOW_S,HOP_S in seconds, e.g. 1,0.5",
            parameter="windows",
        ) from None
    return window_s, hop_s


def _band(text: str | None) -> tuple[float, float] | None:
    from sonotype.errors import ParameterError

    if text is None or text == "full":
        return None
    try:
        low, high = (float(p) for p in text.split(","))
    except ValueError:
        low = high = -1.0
    if not 0 <= low < high:
        raise ParameterError(
            f"--freq-range-hz {text!r} must be LOW,HIGH in Hz with 0 <= LOW < HIGH, e.g. "
            "500,10000, or 'full'",
            parameter="freq_range_hz",
        )
    return low, high


@app.command("train")
def train(
    name: str = typer.Option(
        "autoencoder", "--name", help="Model name (a grid adds the settings that vary to it)."
    ),
    events: str = typer.Option(
        "annotated", "--events", help="Kind of stored events to learn from."
    ),
    source: str = typer.Option(None, "--source", help="Only events from this source."),
    windows: str = typer.Option(
        None, "--windows", help="Learn from windows instead of events: WINDOW_S,HOP_S, e.g. 1,0.5."
    ),
    max_examples: int = typer.Option(
        0, "--max-examples", help="Train on a seeded random subset of this many (0: all)."
    ),
    architecture: str = typer.Option(
        None,
        "--architecture",
        help="conv-small, conv-medium, conv-large, pool-small or "
        "pool-medium (default: the autoencoder table of sonotype.toml: conv-small).",
    ),
    latent_channels: int = typer.Option(None, "--latent-channels", help="Latent channels."),
    epochs: int = typer.Option(None, "--epochs", help="Passes over the spectrograms."),
    learning_rate: float = typer.Option(None, "--learning-rate", help="Adam learning rate."),
    pca_components: int = typer.Option(
        None, "--pca", help="Reduce the pooled features to this many PCA components."
    ),
    n_freq: int = typer.Option(None, "--n-freq", help="Spectrogram rows (default 64)."),
    n_time: int = typer.Option(None, "--n-time", help="Spectrogram columns (default 64)."),
    time_mode: str = typer.Option(
        "stretch", "--time-mode", help="stretch (each event fills the image) or pad."
    ),
    freq_range_hz: str = typer.Option(
        None, "--freq-range-hz", help="Band 'LOW,HIGH' in Hz, or 'full' (the default)."
    ),
    seed: int = typer.Option(None, "--seed", help="Random seed."),
    device: str = typer.Option("cpu", "--device", help="auto, cpu, cuda or mps."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Train denoising autoencoders: one per combination of the grid in the autoencoder
    table of sonotype.toml (options fix a setting). Models go to artifacts/autoencoders/, the report
    to reports/autoencoder/NAME/. Nothing changed: nothing is trained again."""
    from sonotype.autoencoder.config import AutoencoderSection
    from sonotype.checks import check_choice
    from sonotype.cli.console import err, out, progress
    from sonotype.cli.options import open_project
    from sonotype.embeddings.sets import check_set_name
    from sonotype.pipeline.autoencoder import Examples, train_autoencoders

    check_set_name(name)
    check_choice(time_mode, name="time_mode", choices=("stretch", "pad"))
    span = _windows(windows)
    band = _band(freq_range_hz)
    with open_project(project_dir) as project:
        section = getattr(project.config, "autoencoder", None) or AutoencoderSection()
        sessions = section.sessions(
            architecture=architecture,
            latent_channels=latent_channels,
            epochs=epochs,
            learning_rate=learning_rate,
            seed=seed,
            pca_components=pca_components,
        )
        torch_device = _device(device)
        examples = Examples(
            unit="windows" if span else "events",
            kind=events,
            source=source,
            window_s=span[0] if span else 1.0,
            hop_s=span[1] if span else 1.0,
            max_examples=max_examples,
            seed=sessions[0].seed,
        )
        total = sum(c.epochs for c in sessions)
        with err.status("starting") as status, progress("training", total, min_items=1) as advance:
            outcome = train_autoencoders(
                project,
                name,
                sessions,
                examples=examples,
                n_freq=n_freq or section.n_freq,
                n_time=n_time or section.n_time,
                time_mode=time_mode,
                freq_range_hz=band,
                device=torch_device,
                step=lambda s: status.update(s + "..."),
                progress=lambda e, n, row: advance(),
            )
    out.print(f"{outcome.n_examples} spectrograms ({examples.unit}); run {outcome.run_id}")
    for model, cached in zip(outcome.models, outcome.up_to_date, strict=True):
        curve = model.learning_curve()
        loss = (
            curve["validation_loss"].min()
            if "validation_loss" in curve
            else curve["train_loss"].iloc[-1]
        )
        state = "up to date" if cached else f"trained in {model.training['seconds']:.1f} s"
        out.print(
            f"{model.folder.name}: {model.config.architecture}, {model.dimensions} features, "
            f"best epoch {model.best_epoch}, loss {loss:.5f}; {state}"
        )
    out.print(f"report: {outcome.report}")


def _device(name: str) -> str:
    from sonotype.models.training import pick_device

    return str(pick_device(name))


@app.command("extract")
def extract(
    name: str = typer.Argument(..., help="Autoencoder name (as trained)."),
    set_name: str = typer.Option(None, "--name", help="Embedding set to write (default: NAME)."),
    events: str = typer.Option(
        None, "--events", help="Kind of stored events to embed (default: what it learnt from)."
    ),
    source: str = typer.Option(None, "--source", help="Only events from this source."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Write the autoencoder's pooled features of the events (or windows) as an embedding
    set, artifacts/embeddings/SET/, for reduce, cluster and the probes."""
    from sonotype.cli.console import err, out
    from sonotype.cli.options import open_project
    from sonotype.pipeline.autoencoder import extract as run_extract

    with open_project(project_dir) as project, err.status("starting") as status:
        embedding, folder = run_extract(
            project,
            name,
            set_name=set_name,
            kind=events,
            source=source,
            step=lambda s: status.update(s + "..."),
        )
    out.print(
        f"embedding set {embedding.name!r}: {len(embedding.events)} {embedding.unit} x "
        f"{embedding.dimensions} dimensions -> {folder}"
    )


@app.command("export")
def export(
    name: str = typer.Argument(..., help="Autoencoder name (as trained)."),
    format: str = typer.Option("onnx", "--format", "-f", help="onnx or torchscript."),
    output: Path = typer.Option(None, "-o", "--output", help="File to write (default: NAME.onnx)."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Export the feature extractor (spectrograms -> pooled features) to ONNX or TorchScript."""
    from sonotype.autoencoder.export import FORMATS, export_autoencoder
    from sonotype.cli.console import out
    from sonotype.cli.options import open_project
    from sonotype.pipeline.autoencoder import load_autoencoder

    with open_project(project_dir) as project:
        model = load_autoencoder(project, name)
        path = export_autoencoder(
            model, output or Path(name + FORMATS.get(format, "")), format=format
        )
    out.print(
        f"wrote {path} ({format}): spectrograms (batch, {model.n_freq}, {model.n_time}) -> "
        f"features (batch, {2 * model.config.latent_channels}); description in {path}.json"
    )


def train_reconstruction(project_dir, name, labels, kinds, recordings, network, settings) -> None:
    """``sonotype train --loss autoencoder``: the reconstruction model whose encoder can
    initialise a classifier (:mod:`sonotype.autoencoder.classifier`)."""
    from sonotype.autoencoder.classifier import (
        reconstruction_description,
        train_reconstruction_in_project,
    )
    from sonotype.cli.console import out, progress
    from sonotype.cli.options import open_project

    network = {k: v for k, v in network.items() if v is not None}
    with open_project(project_dir) as project, progress("training", settings.steps) as advance:
        folder = train_reconstruction_in_project(
            project, name, labels=labels, kinds=kinds or ["annotated"],
            recordings=recordings or None, network=network, settings=settings,
            progress=lambda step, total: advance(),
        )  # fmt: skip
    described = reconstruction_description(folder)
    out.print(
        f"trained reconstruction model {name!r} in {described['training']['seconds']} s: "
        f"bottleneck {' x '.join(map(str, described['bottleneck']))}, best validation loss "
        f"{described['best_validation_loss']:.4f} at step {described['best_step']}"
    )
    out.print(f"model: {folder} (its encoder.pt initialises a classifier of the same settings)")
