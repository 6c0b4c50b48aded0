"""``sonotype discover`` and its stages: repertoire discovery in a project.

``discover`` runs every stage; ``features``, ``embed``, ``reduce``, ``cluster``,
``phenotype`` and ``report`` run the stages up to and including that one. Every stage's
output is cached, so running them one after the other, or again, recomputes nothing;
changing a setting reruns the stage it belongs to and those after it. ``--name`` keeps runs
apart: each has its own catalog folder and its own ``clustered`` events.
"""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION

NAME = typer.Option(
    "default",
    "--name",
    help="Name of the run: its catalog is reports/discover/NAME/ and its clusters are stored "
    "as 'clustered' events with source NAME, so runs of other names are kept.",
)
KIND = typer.Option("annotated", "--events", help="Kind of the stored events to use as syllables.")
SOURCE = typer.Option(None, "--source", help="Only syllables from this source.")
RECORDINGS = typer.Option(
    None, "--recordings", help="Only recordings whose name matches this glob, e.g. 'birds/*'."
)
LABELS_FROM = typer.Option(
    "self",
    "--labels-from",
    help="Human labels to score against: 'self' (the syllables' own), a source, or 'none'.",
)
GRID = typer.Option("small", "--grid", help="Grid: small, default, or a TOML file.")
EMBEDDER = typer.Option("pca", "--embedder", help="Embedder: pca, flat, features.")
ANIMAL_LEVEL = typer.Option(
    1, "--animal-level", help="Animals are the folders this many levels above each recording."
)
SEED = typer.Option(0, "--seed", help="Random seed.")
# The spectrogram settings: None leaves the grid file's values, else discovery's default.
TIME_MODE = typer.Option(
    None,
    "--time-mode",
    help="Spectrogram time axis: pad (a fixed window around each syllable's centre) or "
    "stretch (each syllable fills the image). Default: stretch.",
)
N_FREQ = typer.Option(None, "--n-freq", help="Spectrogram rows (frequencies). Default: 64.")
N_TIME = typer.Option(None, "--n-time", help="Spectrogram columns (times). Default: 64.")
FREQ_SCALE = typer.Option(
    None, "--freq-scale", help="Spacing of the spectrogram rows: linear or mel. Default: linear."
)
FREQ_RANGE = typer.Option(
    None,
    "--freq-range-hz",
    help="Spectrogram band 'LOW,HIGH' in Hz, e.g. 500,10000, or 'full'; a high end above "
    "the recordings' Nyquist frequency is lowered to it. Default: full (0 Hz to Nyquist).",
)
N_COMPONENTS = typer.Option(
    None, "--n-components", help="PCA components of the embedding (pca embedder). Default: 32."
)
EMBEDDING = typer.Option(
    None,
    "--embedding",
    help="reduce, cluster, phenotype: use this embedding set (`sonotype embed --model`) "
    "instead of the syllables' spectrograms and --embedder.",
)


def _stage(stage: str, doc: str):
    def command(
        name: str = NAME,
        kind: str = KIND,
        source: str = SOURCE,
        recordings: str = RECORDINGS,
        labels_from: str = LABELS_FROM,
        grid: str = GRID,
        embedder: str = EMBEDDER,
        animal_level: int = ANIMAL_LEVEL,
        seed: int = SEED,
        time_mode: str = TIME_MODE,
        n_freq: int = N_FREQ,
        n_time: int = N_TIME,
        freq_scale: str = FREQ_SCALE,
        freq_range_hz: str = FREQ_RANGE,
        n_components: int = N_COMPONENTS,
        embedding: str = EMBEDDING,
        project_dir: Path = PROJECT_OPTION,
    ) -> None:
        features = {
            "time_mode": time_mode,
            "n_freq": n_freq,
            "n_time": n_time,
            "freq_scale": freq_scale,
            "freq_range_hz": freq_range_hz,
            "n_components": n_components,
        }
        _run(stage, name, kind, source, recordings, labels_from, grid, embedder, animal_level,
             seed, features, project_dir, embedding)  # fmt: skip

    command.__doc__ = doc
    command.__name__ = stage
    return command


STAGE_COMMANDS = {
    "features": _stage("features", "Discovery up to the syllable spectrograms (cached)."),
    "embed": _stage("embed", "Discovery up to the embedding of the syllables (cached)."),
    "reduce": _stage("reduce", "Discovery up to the UMAP grid (cached)."),
    "cluster": _stage("cluster", "Discovery up to the clustering grid, scored and ranked."),
    "phenotype": _stage("phenotype", "Discovery up to the phenotypes per animal (cached)."),
    "report": _stage("report", "Discovery with the catalog (the same as discover)."),
}

discover = _stage(
    "report",
    """Find the syllable types: spectrograms, embedding, UMAP grid, HDBSCAN grid, scores,
    phenotypes per animal and a catalog (reports/discover/NAME/index.html). A re-run with
    nothing changed recomputes nothing.""",
)


def _run(
    until,
    name,
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
    embedding=None,
):
    from sonotype.cli.console import EXIT_PARTIAL, err, out, plural
    from sonotype.cli.options import open_project
    from sonotype.embed import EMBEDDERS
    from sonotype.errors import ParameterError
    from sonotype.pipeline.discover import (
        OPTIONS,
        DiscoverConfig,
        check_feature_setting,
        check_run_name,
        discover,
        load_grid,
    )

    name = check_run_name(name, option="--name")
    grid = load_grid(grid)
    given = {}
    for key, value in features.items():
        if value is not None:
            # An option fixes the setting: it replaces the grid file's values.
            given[key] = check_feature_setting(key, value, name=OPTIONS[key])
            grid.pop(key, None)

    if embedder not in EMBEDDERS:
        valid = ", ".join(EMBEDDERS.names())
        raise ParameterError(f"--embedder {embedder!r} is not an embedder; use one of {valid}")
    config = DiscoverConfig(
        name=name,
        kind=kind,
        source=source,
        recordings=recordings,
        labels_from=None if labels_from == "none" else labels_from,
        grid=grid,
        embedder=embedder,
        animal_level=animal_level,
        random_state=seed,
        **given,
        **({"embedding": embedding} if embedding else {}),
    )
    with open_project(project_dir) as project, err.status("starting") as status:
        result = discover(project, config, until=until, step=lambda s: status.update(s + "..."))
    out.print(
        f"run {result.name!r} (run {result.run_id}): {len(result.events)} syllables from "
        f"{result.events['recording'].nunique()} recordings"
    )
    for note in result.notes:
        out.print(f"note: {note}")
    if len(result.candidates) > 1:
        out.print(f"{len(result.candidates)} spectrogram settings:")
        for candidate in result.candidates:
            out.print(f"  {candidate.label}")
    settings = result.selected.settings
    if embedding is None:
        out.print(f"spectrograms: {settings.n_freq} x {settings.n_time}")
    if result.embedding is not None:
        out.print(f"embedding: {result.embedding.shape[1]} dimensions ({embedding or embedder})")
    if result.reductions is not None:
        trust = [r.trustworthiness for c in result.candidates for r in c.reductions]
        out.print(
            f"UMAP grid: {len(trust)} embeddings, trustworthiness {min(trust):.3f}-{max(trust):.3f}"
        )
    if result.best is not None:
        best = result.summary.iloc[0]
        scores = f"composite {best['composite']:.3f}"
        if "ami" in best and best["ami"] == best["ami"]:
            scores += f", AMI {best['ami']:.3f}, ARI {best['ari']:.3f} against the labels"
        out.print(
            f"best: {'' if embedding else f'spectrograms {result.best.settings.label}; '}"
            f"UMAP n_neighbors={best['n_neighbors']} min_dist={best['min_dist']}, "
            f"HDBSCAN min_cluster_size={best['param_min_cluster_size']} "
            f"min_samples={best['param_min_samples']}: {int(best['n_clusters'])} clusters, "
            f"{best['noise_fraction']:.1%} noise; {scores}"
        )
    if result.phenotypes is not None:
        for row in result.phenotypes.summary.itertuples(index=False):
            out.print(
                f"animal {row.animal}: repertoire {row.repertoire_size}, linearity "
                f"{row.linearity:.2f}, consistency {row.consistency:.2f}, entropy "
                f"{row.transition_entropy_bits:.2f} bits"
            )
    if result.report is not None:
        out.print(f"catalog: {result.report}")
        out.print(f"clusters stored as events of kind 'clustered', source {result.name!r}")
    if result.failures:
        for recording, why in result.failures.items():
            err.print(f"failed: {recording}: {why}", markup=False, highlight=False)
        err.print(
            f"left out {plural(len(result.failures), 'recording')} that failed; "
            f"see `sonotype runs show {result.run_id}`",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(EXIT_PARTIAL)
