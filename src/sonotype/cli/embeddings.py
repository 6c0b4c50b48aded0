"""``sonotype models``, ``sonotype embed --model`` and ``sonotype activations``.

``embed`` is also discovery's embedding stage (``sonotype embed`` without ``--model``), which
keeps working as before; with ``--model`` it embeds windows or events with any model into a
named embedding set (docs/embeddings.md).
"""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli import discover as discover_cli
from sonotype.cli.options import PROJECT_OPTION

MODEL = typer.Option(
    None,
    "--model",
    help="Embed with this model (see `sonotype models`): birdnet, flat, pca, features, a model "
    "card's name, a card's path, or classifier:NAME[:LAYER]. Without --model, `embed` runs "
    "discovery up to the embedding of the syllables (the options below --model's are "
    "discovery's).",
)
WINDOWS = typer.Option(
    None,
    "--windows",
    help="WINDOW_S,HOP_S: embed every recording cut into windows (stored as events of kind "
    "'window', source the set's name), e.g. 3,3. Needs --model.",
)
EVENTS = typer.Option(
    "annotated",
    "--events",
    help="Kind of the stored events to embed (with --model: each event centred in the "
    "model's window; without: discovery's syllables).",
)
SET_NAME = typer.Option(
    None,
    "--name",
    help="Name of the embedding set (with --model; default MODEL-windows or MODEL-KIND); "
    "of discovery's run without --model (default 'default').",
)
SPECIES = typer.Option(
    False,
    "--species-events",
    help="Store the model's scores at or above --min-score as 'predicted' events (source: "
    "the set's name) and a species list per recording in reports/embeddings/NAME/.",
)
MIN_SCORE = typer.Option(0.1, "--min-score", help="Threshold of --species-events (0-1).")
PAD = typer.Option(
    "zeros",
    "--pad",
    help="With --model and --events: pad events shorter than the model's window with zeros "
    "(the model hears the event alone) or with the audio around them ('audio': in context). "
    "Point events are always heard in context.",
)
BATCH = typer.Option(
    None,
    "--batch-size",
    help="Windows per model call (speed and memory only); default the model's own "
    "(BirdNET: 1, measured fastest here; others: 32).",
)


def models(project_dir: Path = PROJECT_OPTION) -> None:
    """List the embedding models: dimensions, sample rate, window, labels, or why one cannot
    run here (a missing extra, a missing file)."""
    from sonotype.cli.console import out
    from sonotype.embeddings.models import describe_models
    from sonotype.store.project import find_project

    try:
        folder = find_project(project_dir or ".")
    except Exception:  # outside a project: the models every project has
        folder = None
    out.print("embedding models (sonotype embed --model NAME):", highlight=False)
    for row in describe_models(folder):
        facts = [row.kind]
        if row.dimensions is not None:
            facts.append(f"{row.dimensions} dimensions")
        if row.sr is not None:
            facts.append(f"{row.sr:g} Hz, {row.window_s:.3g} s windows")
        if row.labels:
            facts.append(f"{row.labels} labels")
        status = "ready" if row.unavailable is None else f"unavailable: {row.unavailable}"
        out.print(f"  {row.name}: {', '.join(facts)}; {status}", markup=False, highlight=False)


def embed(
    model: str = MODEL,
    windows: str = WINDOWS,
    kind: str = EVENTS,
    name: str = SET_NAME,
    species_events: bool = SPECIES,
    min_score: float = MIN_SCORE,
    pad: str = PAD,
    batch_size: int = BATCH,
    source: str = discover_cli.SOURCE,
    recordings: str = discover_cli.RECORDINGS,
    labels_from: str = discover_cli.LABELS_FROM,
    grid: str = discover_cli.GRID,
    embedder: str = discover_cli.EMBEDDER,
    animal_level: int = discover_cli.ANIMAL_LEVEL,
    seed: int = discover_cli.SEED,
    time_mode: str = discover_cli.TIME_MODE,
    n_freq: int = discover_cli.N_FREQ,
    n_time: int = discover_cli.N_TIME,
    freq_scale: str = discover_cli.FREQ_SCALE,
    freq_range_hz: str = discover_cli.FREQ_RANGE,
    n_components: int = discover_cli.N_COMPONENTS,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Embed windows or events with a model into a named embedding set (--model), or run
    discovery up to the embedding of the syllables (without --model; cached).

    With --model: --windows WINDOW_S,HOP_S embeds every recording cut into windows; otherwise
    the stored events of kind --events, each centred in the model's window. The set is
    artifacts/embeddings/NAME/, read by reduce/cluster --embedding NAME.
    """
    from sonotype.errors import ParameterError

    if model is None:
        if windows is not None:
            raise ParameterError(
                "--windows needs --model (e.g. --model birdnet)", parameter="windows"
            )
        features = {
            "time_mode": time_mode,
            "n_freq": n_freq,
            "n_time": n_time,
            "freq_scale": freq_scale,
            "freq_range_hz": freq_range_hz,
            "n_components": n_components,
        }
        discover_cli._run(
            "embed",
            name or "default",
            kind,
            source,
            recordings,
            labels_from,
            grid,
            embedder,
            animal_level,
            seed,
            features,
            project_dir,
        )
        return
    _embed_with_model(
        model,
        pad,
        windows,
        kind,
        name,
        species_events,
        min_score,
        batch_size,
        source,
        recordings,
        seed,
        project_dir,
    )


def _embed_with_model(
    model,
    pad,
    windows,
    kind,
    name,
    species_events,
    min_score,
    batch_size,
    source,
    recordings,
    seed,
    project_dir,
) -> None:
    from sonotype.cli.console import EXIT_PARTIAL, err, out, plural
    from sonotype.cli.options import open_project
    from sonotype.embeddings.embed import embed_project

    pair = _windows(windows) if windows is not None else None
    with open_project(project_dir) as project, err.status("embedding") as status:
        done = []

        def progress(recording: str) -> None:
            done.append(recording)
            status.update(f"embedding: {len(done)} recordings done ({recording})")

        outcome = embed_project(
            project,
            model,
            windows=pair,
            kind=None if pair else kind,
            source=None if pair else source,
            name=name,
            recordings=recordings,
            species_events=species_events,
            min_score=min_score,
            pad=pad,
            batch_size=batch_size,
            random_state=seed,
            progress=progress,
        )
    embedding = outcome.embedding
    out.print(
        f"embedding set {embedding.name!r}: {len(embedding.events)} {embedding.unit} x "
        f"{embedding.dimensions} dimensions ({embedding.model}) from "
        f"{plural(outcome.computed + outcome.cached, 'recording')} "
        f"({outcome.computed} embedded now, {outcome.cached} found done)"
    )
    if outcome.computed and outcome.seconds > 0:
        out.print(f"{outcome.audio_s / outcome.seconds:.0f}x realtime ({outcome.seconds:.1f} s)")
    out.print(f"stored in {outcome.folder}")
    if outcome.species is not None:
        out.print(
            f"species: {outcome.species['species'].nunique()} above {min_score:g}; list in "
            f"{project.reports_dir / 'embeddings' / embedding.name / 'species.csv'}"
        )
    if outcome.failures:
        for recording, why in outcome.failures.items():
            err.print(f"failed: {recording}: {why}", markup=False, highlight=False)
        raise typer.Exit(EXIT_PARTIAL)


def _windows(text: str) -> tuple[float, float]:
    from sonotype.embeddings.units import check_windowing
    from sonotype.errors import ParameterError

    try:
        window_s, hop_s = (float(part) for part in text.split(","))
    except ValueError:
        raise ParameterError(
            f"--windows {text!r} must be WINDOW_S,HOP_S in seconds, e.g. 3,3 or 3,1.5",
            parameter="windows",
        ) from None
    return check_windowing(window_s, hop_s)


def activations(
    model_name: str = typer.Argument(..., metavar="NAME", help="A trained model's name."),
    kinds: str = typer.Option(
        "annotated", "--kinds", help="Kinds of events to embed together, e.g. annotated,detected."
    ),
    layers: str = typer.Option(
        None,
        "--layers",
        help="Layers (input, block1.., hidden1.., output), comma-separated; default all.",
    ),
    max_events: int = typer.Option(
        None, "--max-events", help="At most this many events per kind and label (seeded draw)."
    ),
    equalize: float = typer.Option(
        None,
        "--equalize",
        help="At most R times as many events of a label as of the rarest one (per kind).",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed of the draws."),
    batch_size: int = BATCH,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """A trained model's input, hidden layers and output at each selected event, stored as
    embedding sets NAME-LAYER (for reduce/cluster --embedding and the app)."""
    from sonotype.cli.console import err, out
    from sonotype.cli.options import open_project
    from sonotype.embeddings.activations import model_activations

    kind_list = [k.strip() for k in kinds.split(",") if k.strip()]
    layer_list = None if layers is None else [x.strip() for x in layers.split(",") if x.strip()]
    with open_project(project_dir) as project, err.status("activations") as status:
        outcomes = model_activations(
            project,
            model_name,
            kinds=kind_list,
            layers=layer_list,
            max_events=max_events,
            equalize=equalize,
            random_state=seed,
            batch_size=batch_size,
            step=lambda s: status.update(s + "..."),
        )
    for outcome in outcomes:
        embedding = outcome.embedding
        counts = embedding.events["kind"].value_counts().sort_index()
        out.print(
            f"{embedding.name}: {len(embedding.events)} events "
            f"({', '.join(f'{k} {n}' for k, n in counts.items())}) x {embedding.dimensions}"
        )
