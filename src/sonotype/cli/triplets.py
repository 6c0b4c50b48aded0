"""``sonotype triplets sample|train|extract``: embeddings learnt from motif triplets."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION

app = typer.Typer(
    help="Learn embeddings from motifs: sample triplets from a motif set, train a "
    "tile2vec-style network on them, embed events with it (docs/motifs.md).",
    no_args_is_help=True,
)


@app.command("sample")
def sample(
    motifs: str = typer.Option("motifs", "--motifs", help="Motif set (from `sonotype motifs`)."),
    name: str = typer.Option("triplets", "--name", help="Name of the triplet set to write."),
    per_class: int = typer.Option(100, "--per-class", help="Triplets anchored in each class."),
    neighbours: int = typer.Option(
        1, "--neighbours", help="Neighbouring classes per class (closest motifs)."
    ),
    shift: float = typer.Option(0.5, "--shift", help="Largest time shift of a motif copy (s)."),
    clip: float = typer.Option(None, "--clip", help="Span length in s (default: the window)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sampling."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Draw anchor/positive/negative spans in birdclef-2022's four partitions (motif with
    itself shifted or with a neighbouring class's motif; a non-neighbouring class's motif or
    random clip), the same number per class. Stores recordings and times only."""
    from sonotype.audio import Recording
    from sonotype.cli.console import out
    from sonotype.cli.options import open_project
    from sonotype.motifs.features import CensSettings
    from sonotype.motifs.store import load_motifs
    from sonotype.triplets.sampling import class_segments, sample_triplets
    from sonotype.triplets.stage import save_triplet_set, triplets_folder

    with open_project(project_dir) as project:
        triplets_folder(project.folder, name)
        table, results, info = load_motifs(project.folder, motifs)
        triplets = sample_triplets(
            table, class_segments(results), lambda n: Recording(project.recording_path(n)),
            n_per_class=per_class, n_neighbours=neighbours, shift_s=shift, clip_s=clip,
            cens=CensSettings(rate_hz=info["rate_hz"], smooth_s=info["smooth_s"]),
            random_state=seed,
        )  # fmt: skip
        settings = {"motifs": motifs, "per_class": per_class, "neighbours": neighbours,
                    "shift_s": shift, "seed": seed}  # fmt: skip
        folder = save_triplet_set(project.folder, name, triplets, settings)
    out.print(f"{len(triplets)} triplets of {len(table)} classes "
              f"({triplets.attrs['clip_s']:g} s spans): {folder}")  # fmt: skip


@app.command("train")
def train(
    name: str = typer.Argument("triplets", help="Triplet set to train on."),
    epochs: int = typer.Option(10, "--epochs", help="Epochs."),
    batches_per_epoch: int = typer.Option(50, "--batches-per-epoch", help="Batches per epoch."),
    batch_size: int = typer.Option(32, "--batch-size", help="Triplets per batch."),
    lr: float = typer.Option(1e-3, "--lr", help="Adam learning rate."),
    margin: float = typer.Option(1.0, "--margin", help="Triplet loss margin."),
    l2_weight: float = typer.Option(0.01, "--l2-weight", help="Weight of embedding norms."),
    clip_norm: float = typer.Option(1.0, "--clip-norm", help="Largest gradient norm."),
    dim: int = typer.Option(32, "--dim", help="Embedding size."),
    channels: str = typer.Option("16,32,64", "--channels", help="Convolution widths."),
    sr: int = typer.Option(22050, "--sr", help="Sample rate spans are resampled to (Hz)."),
    n_fft: int = typer.Option(512, "--n-fft", help="STFT length (samples at --sr)."),
    hop_length: int = typer.Option(256, "--hop-length", help="STFT hop (samples at --sr)."),
    n_mels: int = typer.Option(64, "--n-mels", help="Mel bands."),
    fmin: float = typer.Option(300.0, "--fmin-hz", help="Lowest mel frequency (Hz)."),
    fmax: float = typer.Option(None, "--fmax-hz", help="Highest mel frequency (default sr/2)."),
    seed: int = typer.Option(0, "--seed", help="Seed of weights and batches."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Train the triplet network (a cached stage: the same set and settings train once).
    Stops with a message and the last good checkpoint when the loss becomes NaN."""
    from sonotype.cli.console import out, progress
    from sonotype.cli.options import open_project
    from sonotype.errors import ParameterError
    from sonotype.triplets.frontend import FrontEnd
    from sonotype.triplets.stage import train_triplet_set
    from sonotype.triplets.training import TripletTrainConfig

    try:
        widths = tuple(int(c) for c in channels.split(","))
    except ValueError:
        raise ParameterError(f"--channels {channels!r}: give widths like 16,32,64") from None
    config = TripletTrainConfig(
        dim=dim, channels=widths, epochs=epochs, batches_per_epoch=batches_per_epoch,
        batch_size=batch_size, lr=lr, margin=margin, l2_weight=l2_weight, clip_norm=clip_norm,
        seed=seed,
    )  # fmt: skip
    front = FrontEnd(sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmin_hz=fmin,
                     fmax_hz=sr / 2 if fmax is None else fmax)  # fmt: skip
    with open_project(project_dir) as project:
        total = epochs * batches_per_epoch
        with progress("training triplets", total, min_items=1) as advance:
            trained, path, computed = train_triplet_set(
                project, name, config=config, front=front,
                progress=lambda e, b, loss: advance.set((e - 1) * batches_per_epoch + b),
            )  # fmt: skip
    state = "trained" if computed else "up to date (same triplets and settings)"
    losses = ", ".join(f"{v:.3f}" for v in trained.losses)
    out.print(f"{state}: {path}; loss per epoch {losses}; {trained.seconds:.0f} s")


@app.command("extract")
def extract(
    name: str = typer.Argument("triplets", help="Triplet set whose trained network to use."),
    embedding: str = typer.Option(
        None, "--embedding", help="Embedding set to write (default: triplet-NAME)."
    ),
    kind: list[str] = typer.Option(["annotated"], "--kind", help="Kinds of events to embed."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Embed the project's events with the trained network into an embedding set, which
    reduce, cluster, probes and the app read."""
    from sonotype.audio import Recording
    from sonotype.cli.console import out, progress
    from sonotype.cli.options import open_project
    from sonotype.embeddings.sets import EmbeddingSet, check_set_name, save_embedding_set
    from sonotype.errors import ParameterError
    from sonotype.triplets.extract import embed_events
    from sonotype.triplets.stage import triplets_folder
    from sonotype.triplets.training import TrainedTriplets

    embedding = check_set_name(embedding or f"triplet-{name}")
    with open_project(project_dir) as project:
        path = triplets_folder(project.folder, name) / "model.pt"
        if not path.is_file():
            raise ParameterError(
                f"triplet set {name!r} has no trained network; run `sonotype triplets train "
                f"{name}` first"
            )
        trained = TrainedTriplets.load(path)
        events = project.events(kinds=kind)
        if events.empty:
            raise ParameterError(f"--kind {', '.join(kind)}: no such events in the project",
                                 parameter="kind")  # fmt: skip
        with progress("embedding events", len(events)) as advance:
            vectors = embed_events(trained, events, lambda n: Recording(project.recording_path(n)),
                                   progress=advance)  # fmt: skip
        info = {"triplets": name, "config": trained.config.to_dict(),
                "front": trained.front.to_dict(), "train_seconds": trained.seconds}  # fmt: skip
        folder = save_embedding_set(
            project.folder, EmbeddingSet(embedding, "triplet", "events", events, vectors, info)
        )
    out.print(f"{len(events)} events, {vectors.shape[1]} dimensions: {folder}")
