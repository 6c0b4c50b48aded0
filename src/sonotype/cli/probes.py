"""``sonotype probe``, ``probe apply``, ``compare-models`` and ``search``: what embedding sets
are good for (docs/probes.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION

probe_app = typer.Typer(
    help="Train a probe (a small classifier) on an embedding set; `probe apply` uses one.",
    no_args_is_help=False,
    invoke_without_command=True,
)

LABELS_HELP = (
    "Where labels come from: an events source (e.g. alice), kind:KIND (kind:annotated), "
    "both by overlap; or meta:KEY, KEY one of folder, recording, date, month, hour, time_of_day, "
    "season, or a label:NAME column (e.g. meta:folder)."
)
MIN_OVERLAP_OPTION = typer.Option(
    0.5,
    "--min-overlap",
    help="A row takes an annotation's label when they share at least this fraction of the "
    "shorter of the two.",
)
BACKGROUND_OPTION = typer.Option(
    "auto",
    "--background",
    help="Class of rows that overlap no annotation: a name, 'none' to leave them out, or "
    "'auto' (background for windows, none for events).",
)
GROUP_OPTION = typer.Option(
    None,
    "--group-s",
    help="Split by blocks of this many seconds within recordings, not by recording (when a "
    "class comes from one recording only; scores are then optimistic: docs/probes.md).",
)
LABEL_COLUMN_OPTION = typer.Option(
    "label", "--label-column", help="The annotations' label column: label or label:NAME."
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``sonotype`` app."""
    app.add_typer(probe_app, name="probe")
    app.command("compare-models")(compare_models)
    app.command("search")(search)


def _background(value: str) -> str | None:
    return None if value.lower() == "none" else value


@probe_app.callback()
def probe(
    ctx: typer.Context,
    embedding: str = typer.Option(None, "--embedding", "-e", help="The embedding set's name."),
    labels_from: str = typer.Option(None, "--labels-from", help=LABELS_HELP),
    kind: str = typer.Option("linear", "--kind", help="linear (logistic regression) or mlp."),
    name: str = typer.Option(None, "--name", help="The probe's name (default EMBEDDING-KIND)."),
    min_overlap: float = MIN_OVERLAP_OPTION,
    background: str = BACKGROUND_OPTION,
    label_column: str = LABEL_COLUMN_OPTION,
    test_fraction: float = typer.Option(
        0.25, "--test-fraction", help="About this share of the recordings is held out."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the split (and of the MLP)."),
    group_s: float = GROUP_OPTION,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Train a probe on an embedding set's vectors, tested on held-out recordings.

    Prints and writes (reports/probes/NAME/) accuracy, macro accuracy, macro F1, per-class
    precision, recall and F1, and the confusion matrix; saves the probe for `sonotype probe
    apply NAME --embedding SET`.
    """
    if ctx.invoked_subcommand is not None:
        return
    from sonotype.cli.console import out, plural
    from sonotype.cli.options import open_project
    from sonotype.embeddings.labels import resolve_labels
    from sonotype.embeddings.probes import (
        check_probe_name,
        save_probe,
        split_groups,
        train_probe,
    )
    from sonotype.embeddings.sets import load_embedding_set
    from sonotype.errors import ParameterError
    from sonotype.report.probes import write_probe_report

    for flag, value in (("--embedding", embedding), ("--labels-from", labels_from)):
        if value is None:
            raise ParameterError(
                f"{flag} is missing: `sonotype probe --embedding SET --labels-from SOURCE`",
                parameter=flag.lstrip("-").replace("-", "_"),
            )
    name = check_probe_name(name or f"{embedding}-{kind}")
    with open_project(project_dir) as project:
        emb = load_embedding_set(project.folder, embedding)
        labels = resolve_labels(
            project,
            emb.events,
            labels_from,
            unit=emb.unit,
            min_overlap=min_overlap,
            background=_background(background),
            column=label_column,
        )
        config = {"embedding": embedding, "labels_from": labels_from, "kind": kind,
                  "name": name, "min_overlap": min_overlap, "background": background,
                  "label_column": label_column, "test_fraction": test_fraction,
                  "seed": seed, "group_s": group_s}  # fmt: skip
        with project.run("probe", config, name=name):
            probe_, scores = train_probe(
                emb.vectors,
                labels,
                split_groups(emb.events, group_s=group_s),
                kind=kind,
                test_fraction=test_fraction,
                random_state=seed,
                name=name,
                background=resolve_background(background, emb.unit),
            )
            probe_.embedding, probe_.model, probe_.unit = embedding, emb.model, emb.unit
            probe_.labels_from = labels_from
            folder = save_probe(project.folder, probe_)
            paths = write_probe_report(project.reports_dir / "probes" / name, probe_, scores)
            _write_config(paths["html"].parent, config)
    out.print(
        f"probe {name} ({kind}, {emb.model}): accuracy {scores.accuracy:.3f}, macro accuracy "
        f"{scores.macro_accuracy:.3f}, macro F1 {scores.macro_f1:.3f} on "
        f"{scores.n_test} rows of {plural(len(scores.test_recordings), 'held-out recording')}"
    )
    out.print(scores.per_class.round(3).to_string(index=False))
    if not probe_.info.get("converged", True):
        out.print(
            f"note: the {kind} probe stopped at its iteration limit before converging; the "
            "scores above are those of the probe as saved"
        )
    out.print(f"saved in {folder}; report {paths['html']}")


def resolve_background(background: str, unit: str) -> str | None:
    from sonotype.embeddings.labels import BACKGROUND

    if background == "auto":
        return BACKGROUND if unit == "windows" else None
    return _background(background)


@probe_app.command("apply")
def apply(
    name: str = typer.Argument(..., help="The probe's name."),
    embedding: str = typer.Option(..., "--embedding", "-e", help="The embedding set to label."),
    min_score: float = typer.Option(
        0.0, "--min-score", help="Leave out rows whose top probability is below this."
    ),
    merge: bool = typer.Option(
        None,
        "--merge/--no-merge",
        help="Join touching same-label rows into one event (default: for windows, not events).",
    ),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Apply a saved probe to every row of an embedding set: the rows it assigns to a class
    (not the background) are stored as `predicted` events whose source is the probe's name,
    replacing that probe's earlier predictions in one undoable edit."""
    from sonotype.cli.console import out, plural
    from sonotype.cli.options import open_project
    from sonotype.embeddings.probes import apply_probe, load_probe
    from sonotype.embeddings.sets import load_embedding_set

    with open_project(project_dir) as project:
        probe_ = load_probe(project.folder, name)
        emb = load_embedding_set(project.folder, embedding)
        config = {"probe": name, "embedding": embedding, "min_score": min_score, "merge": merge}
        with project.run("probe apply", config, name=name):
            events = apply_probe(probe_, emb, min_score=min_score, merge=merge)
            edit = project.store_results(
                events,
                kind="predicted",
                source=name,
                command="probe apply",
                description=f"probe {name} on {embedding}: {plural(len(events), 'event')}",
            )
    counts = events["label"].value_counts().to_dict()
    summary = ", ".join(f"{label} {n}" for label, n in sorted(counts.items())) or "none"
    note = "" if edit is not None else " (unchanged: the stored ones are the same)"
    out.print(f"stored {plural(len(events), 'predicted event')} from probe {name}{note}: {summary}")


def compare_models(
    embeddings: str = typer.Option(
        None, "--embeddings", help="Embedding sets to compare, comma-separated (one per model)."
    ),
    models: str = typer.Option(
        None,
        "--models",
        help="Instead of --embeddings: models to embed with first, comma-separated (e.g. "
        "birdnet,flat,pca; `sonotype models`), on the units of --windows or --events; each "
        "set is stored as `sonotype embed --model` names it (MODEL-windows, MODEL-KIND), and "
        "recordings embedded before come from the cache. birdnet needs the embed extra.",
    ),
    windows: str = typer.Option(
        None, "--windows", help="With --models: WINDOW_S,HOP_S, every recording cut into windows."
    ),
    kind: str = typer.Option(
        None, "--events", help="With --models: embed the stored events of this kind instead."
    ),
    labels_from: str = typer.Option(..., "--labels-from", help=LABELS_HELP),
    min_overlap: float = MIN_OVERLAP_OPTION,
    background: str = BACKGROUND_OPTION,
    label_column: str = LABEL_COLUMN_OPTION,
    reduce: str = typer.Option(
        "umap", "--reduce", help="umap (the discover small grid) or pca (2-D, fast)."
    ),
    max_rows: int = typer.Option(
        20000, "--max-rows", help="Compare a seeded subsample of this many labelled rows."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the split, subsample and UMAP."),
    group_s: float = GROUP_OPTION,
    name: str = typer.Option("compare", "--name", help="Report folder reports/compare/NAME/."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Compare embedding sets on the rows they share: probe accuracy and macro F1, k-NN
    accuracy, silhouette of the labels, clustering AMI/ARI (discover's selection and the
    grid's best), embedding time and size; one table and scatter plots in
    reports/compare/NAME/. Name the sets (--embeddings, made with `sonotype embed`), or the
    models (--models with --windows or --events) to embed the same units with each first."""
    from sonotype.cli.console import err, out
    from sonotype.cli.embeddings import _windows
    from sonotype.cli.options import open_project
    from sonotype.embeddings.compare import compare_sets, embed_models, parse_models
    from sonotype.embeddings.labels import resolve_labels
    from sonotype.embeddings.probes import check_probe_name
    from sonotype.embeddings.sets import load_embedding_set
    from sonotype.errors import ParameterError
    from sonotype.report.probes import write_compare_report

    if (embeddings is None) == (models is None):
        raise ParameterError(
            "give exactly one of --embeddings SET,SET (made by `sonotype embed`) and --models "
            "MODEL,MODEL (embedded here)",
            parameter="embeddings" if embeddings is None else "models",
        )
    if models is None and (windows is not None or kind is not None):
        raise ParameterError(
            "--windows and --events choose the units of --models; with --embeddings the sets "
            "have their units already",
            parameter="windows" if windows is not None else "kind",
        )
    model_list = parse_models(models) if models is not None else None
    pair = _windows(windows) if windows is not None else None
    check_probe_name(name)
    with open_project(project_dir) as project:
        if model_list is not None:
            sets = embed_models(
                project, model_list, windows=pair, kind=kind, random_state=seed,
                progress=lambda m: err.print(f"embedding with {m} ..."),
            )  # fmt: skip
            names = [s.name for s in sets]
        else:
            names = [n.strip() for n in embeddings.split(",") if n.strip()]
            sets = [load_embedding_set(project.folder, n) for n in names]
        unit = sets[0].unit

        def labels(rows):
            return resolve_labels(
                project,
                rows,
                labels_from,
                unit=unit,
                min_overlap=min_overlap,
                background=_background(background),
                column=label_column,
            )

        config = {"embeddings": names, "models": model_list, "windows": windows, "kind": kind,
                  "labels_from": labels_from, "reduce": reduce,
                  "max_rows": max_rows, "seed": seed, "min_overlap": min_overlap,
                  "background": background, "group_s": group_s}  # fmt: skip
        with project.run("compare-models", config, name=name):
            result = compare_sets(
                sets,
                labels,
                reduce=reduce,
                max_rows=max_rows,
                random_state=seed,
                group_s=group_s,
                progress=lambda s: err.print(f"comparing {s} ..."),
            )
            note = (
                f"{result.n_rows} labelled rows of the {result.n_common} the sets share"
                + (f" (a seeded subsample of {max_rows})" if result.subsampled else "")
                + f"; labels from {labels_from}; split by recording (docs/probes.md)."
            )
            paths = write_compare_report(
                project.reports_dir / "compare" / name, result.table, result.scatters, notes=note
            )
            _write_config(paths["html"].parent, config)
    out.print(result.table.round(3).to_string(index=False))
    out.print(note)
    out.print(f"report {paths['html']}")


def search(
    query: str = typer.Option(..., "--query", "-q", help="RECORDING:START-STOP in seconds."),
    embedding: str = typer.Option(
        None, "--embedding", "-e", help="The embedding set (default: the only one there is)."
    ),
    k: int = typer.Option(50, "--k", "-k", help="How many nearest rows."),
    exact: bool = typer.Option(
        None, "--exact/--approximate", help="Force exact or approximate search (default: by size)."
    ),
    export: Path = typer.Option(None, "--export", help="Write the hits as events to this file."),
    format: str = typer.Option(None, "--format", "-f", help="Annotation format of --export."),
    store_as: str = typer.Option(
        None, "--store-as", help="Store the hits as events (kind detected) of this source."
    ),
    label: str = typer.Option("hit", "--label", help="The label the exported hits carry."),
    gallery: bool = typer.Option(True, "--gallery/--no-gallery", help="Write the HTML gallery."),
    force: bool = typer.Option(False, "--force", help="Replace an --export file that exists."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Find the windows or events most similar (cosine) to a query span, across the project.

    A stored row of the set that overlaps the query most (intersection over union at least
    0.5) is the query; any other span of a project recording is embedded with the set's own
    model as its rows were (pretrained models, model cards, classifiers, flat; not models
    fitted on the set's rows, such as pca). Hits are ranked, listed, drawn in a gallery
    (reports/search/), and with --export or --store-as kept as events to label.
    """
    import pandas as pd

    from sonotype.annotations.events import make_events
    from sonotype.annotations.io import write_events
    from sonotype.cli.console import out, plural, progress
    from sonotype.cli.options import open_project
    from sonotype.embeddings.search import parse_query, search_set
    from sonotype.embeddings.sets import list_embedding_sets, load_embedding_set, set_folder
    from sonotype.errors import ParameterError

    q = parse_query(query)
    if export is not None and export.exists() and not force:
        raise ParameterError(
            f"--export {export} exists; pass --force to replace it", parameter="export"
        )
    with open_project(project_dir) as project:
        if embedding is None:
            there = list_embedding_sets(project.folder)
            if len(there) != 1:
                raise ParameterError(
                    "--embedding is missing: the project has "
                    + (", ".join(there) if there else "no embedding sets (`sonotype embed`)"),
                    parameter="embedding",
                )
            embedding = there[0]
        emb = load_embedding_set(project.folder, embedding)
        # Progress shows only while an approximate index is built (minutes for a large set).
        with progress("building the search index", None) as advance:
            hits = search_set(
                emb, q, k=k, folder=set_folder(project.folder, embedding), project=project,
                approximate=None if exact is None else not exact,
                progress=lambda done, total: advance.set(done, total),
            )  # fmt: skip
        events = make_events(
            hits["recording"].astype(str).tolist(), hits["start_s"].to_numpy(),
            hits["stop_s"].to_numpy(), label, kind="detected", source=store_as or "search",
            channel=hits["channel"].astype(int).tolist(), score=hits["similarity"].to_numpy(),
        )  # fmt: skip
        if store_as:
            project.store_results(
                events,
                kind="detected",
                source=store_as,
                command="search",
                description=f"search {query}: {plural(len(events), 'hit')}",
            )
        if export is not None:
            write_events(events, export, format=format, overwrite=force)
        if gallery:
            query_row = pd.DataFrame(
                {"recording": [q.recording], "start_s": [q.start_s], "stop_s": [q.stop_s],
                 "channel": [0]}
            )  # fmt: skip
            thumbs = _thumbnails(project, pd.concat([query_row, hits], ignore_index=True))
            folder = project.reports_dir / "search" / _safe(f"{embedding}-{query}")
            from sonotype.report.probes import write_search_gallery

            paths = write_search_gallery(
                folder, hits, thumbs[1:], query=query, query_image=thumbs[0]
            )
    table = hits[["rank", "recording", "start_s", "stop_s", "similarity"]]
    out.print(table.round(3).to_string(index=False))
    if gallery:
        out.print(f"gallery {paths['html']}")
    if export is not None:
        out.print(f"wrote {plural(len(events), 'hit')} to {export}")


def _write_config(folder: Path, config: dict) -> None:
    """The run's resolved settings beside its report (``config.json``)."""
    import json

    from sonotype.atomic import atomic_path

    with atomic_path(folder / "config.json") as tmp:
        tmp.write_text(json.dumps(config, indent=2, sort_keys=True, default=str))


def _safe(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:120]


def _thumbnails(project, hits) -> list:
    """A log-power spectrogram of each hit's span (64 x 64 after pooling), for the gallery."""
    import numpy as np

    from sonotype.audio import Recording
    from sonotype.spectral import power_spectrogram

    thumbs = []
    for row in hits.itertuples():
        recording = Recording(project.recording_path(str(row.recording)))
        stop_s = min(max(row.stop_s, row.start_s + 0.05), recording.duration_s)
        y = recording.read(row.start_s, stop_s, channel=int(row.channel))[0]
        n_fft = 512 if len(y) >= 512 else max(16, 1 << int(np.log2(max(len(y), 16))))
        spec = power_spectrogram(y, n_fft=n_fft, hop_length=max(1, n_fft // 4))
        thumbs.append(np.log10(spec + 1e-10))
    return thumbs
