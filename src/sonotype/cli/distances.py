"""``sonotype distances``: complex-spectrogram features whose plain distance is one of
song_phenotyping's phase-aware distances, written as an embedding set."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION


def distances(
    metric: str = typer.Option(
        "phase-aware",
        "--metric",
        help="complex-l2, phase-aware, group-delay or instantaneous-frequency.",
    ),
    kind: list[str] = typer.Option(["annotated"], "--kind", help="Kinds of events to use."),
    n_fft: int = typer.Option(256, "--n-fft", help="STFT length in samples."),
    hop_length: int = typer.Option(64, "--hop-length", help="STFT hop in samples."),
    n_time: int = typer.Option(64, "--n-time", help="Frames from each event's onset."),
    sr: float = typer.Option(
        None, "--sr", help="Resample to this rate (Hz); needed when recordings' rates differ."
    ),
    embedding: str = typer.Option(
        None, "--embedding", help="Embedding set to write (default: complex-METRIC)."
    ),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Cut each event's complex spectrogram (N_TIME frames from its onset, zeros after its
    offset) and write features whose Euclidean distance (cosine for phase-aware, as the
    set's info says under "metric") is the chosen distance, as an embedding set that
    reduce, cluster and probes read (docs/motifs.md)."""
    from sonotype.audio import Recording
    from sonotype.checks import check_choice
    from sonotype.cli.console import out, progress
    from sonotype.cli.options import open_project
    from sonotype.distances import METRICS, distance_features, event_stfts, feature_metric
    from sonotype.embeddings.sets import EmbeddingSet, check_set_name, save_embedding_set
    from sonotype.errors import ParameterError

    metric = check_choice(metric, name="metric", choices=METRICS)
    embedding = check_set_name(embedding or f"complex-{metric}")
    with open_project(project_dir) as project:
        events = project.events(kinds=kind)
        events = events[events["stop_s"] > events["start_s"]].reset_index(drop=True)
        if events.empty:
            raise ParameterError(f"--kind {', '.join(kind)}: no interval events in the project",
                                 parameter="kind")  # fmt: skip
        with progress("complex spectrograms", len(events)) as advance:
            specs = event_stfts(
                events, lambda n: Recording(project.recording_path(n)), n_fft=n_fft,
                hop_length=hop_length, n_time=n_time, sr=sr, progress=advance,
            )  # fmt: skip
        vectors = distance_features(specs, metric=metric)
        info = {"distance": metric, "metric": feature_metric(metric), "n_fft": n_fft,
                "hop_length": hop_length, "n_time": n_time, "sr": sr,
                "spectrogram_shape": list(specs.shape[1:])}  # fmt: skip
        folder = save_embedding_set(
            project.folder, EmbeddingSet(embedding, "complex", "events", events, vectors, info)
        )
    out.print(f"{len(events)} events, {vectors.shape[1]} features ({metric}; reduce with "
              f"metric={feature_metric(metric)}): {folder}")  # fmt: skip
