"""``sonotype evaluate``: how good labels are, measured against a reference."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

app = typer.Typer(
    help="Measure how good labels are: predicted events against reference events.",
    no_args_is_help=True,
)

_SHOWN_NAMES = 5


@app.command("events")
def events(
    ref: Path = typer.Option(
        ..., "--ref", help="Reference annotations (the truth): a file of any format, or a folder."
    ),
    pred: Path = typer.Option(
        ..., "--pred", help="Predicted annotations: a file of any format, or a folder."
    ),
    tolerance_ms: float = typer.Option(
        10.0,
        "--tolerance-ms",
        help="Largest onset (and offset) difference for a match, in milliseconds.",
    ),
    labels: list[str] = typer.Option(
        [],
        "--labels",
        help="Evaluate only these labels: comma-separated, or the option repeated.",
    ),
    iou: float = typer.Option(
        None,
        "--iou",
        help="Match intervals by overlap instead: intersection over union at least this, "
        "e.g. 0.5 (point events still use --tolerance-ms).",
    ),
    ignore_labels: bool = typer.Option(
        False,
        "--ignore-labels",
        help="Match segments regardless of label (e.g. detections against labelled "
        "annotations); with --labels, only events of those labels.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    matches: Path = typer.Option(
        None, "--matches", help="Write the matched pairs to this CSV file."
    ),
    force: bool = typer.Option(False, "--force", help="Replace the --matches file if it exists."),
    sample_rate: float = typer.Option(
        None,
        "--sample-rate",
        help="Sample rate (Hz) for formats counting samples, when the recordings are not found.",
    ),
    audio: list[Path] = typer.Option(
        [], "--audio", help="Folder where the recordings are (repeatable); default: beside."
    ),
) -> None:
    """Score predicted events against reference events, per label.

    Events match within the same recording, channel and label, one to one: point events
    when their onsets differ by at most the tolerance, intervals when their onsets and
    offsets do (or, with --iou, when they overlap enough). Prints precision, recall, F1,
    hits, misses and false alarms, the median onset and offset errors, and the syllable
    error rate (edit distance between the label sequences, per reference event), then the
    same counts and scores per recording. With --ignore-labels every event is a `segment`.

    Recording names are matched exactly, else by file name without folders where that is
    unique; recordings found on one side only are reported, and their events count as
    misses or false alarms.
    """
    from sonotype.atomic import atomic_path
    from sonotype.cli.console import err, progress
    from sonotype.errors import ParameterError
    from sonotype.evaluate import align_recordings, evaluate_events

    if not math.isfinite(tolerance_ms) or tolerance_ms < 0:
        raise ParameterError(
            f"--tolerance-ms={tolerance_ms:g} must be a finite number >= 0; the default is 10"
        )
    if iou is not None and not 0 < iou <= 1:
        raise ParameterError(f"--iou={iou:g} must be in (0, 1]; 0.5 is usual")
    chosen = [name.strip() for item in labels for name in item.split(",") if name.strip()]
    if matches is not None and matches.is_dir():
        raise ParameterError(f"--matches {matches} is a folder; give a CSV file name")
    if matches is not None and matches.exists() and not force:
        raise ParameterError(
            f"--matches {matches} already exists; pass --force to replace it, or choose another"
        )

    ref_events = _read(ref, option="--ref", sample_rate=sample_rate, audio=audio)
    pred_events = _read(pred, option="--pred", sample_rate=sample_rate, audio=audio)
    pred_events, only_ref, only_pred = align_recordings(ref_events, pred_events)
    with progress("matching", None) as advance:
        result = evaluate_events(
            ref_events,
            pred_events,
            tolerance_s=tolerance_ms / 1000,
            min_iou=iou,
            labels=chosen or None,
            ignore_labels=ignore_labels,
            progress=lambda stage, done, total: advance.set(done, total, description=stage),
        )

    warnings = []
    for names, side, table, fate in (
        (only_ref, "REF", ref_events, "misses"),
        (only_pred, "PRED", pred_events, "false alarms"),
    ):
        if names:
            n_events = int(table["recording"].isin(names).sum())
            shown = ", ".join(names[:_SHOWN_NAMES])
            if len(names) > _SHOWN_NAMES:
                shown += f" and {len(names) - _SHOWN_NAMES} more"
            warnings.append(
                f"{len(names)} recording{'s' if len(names) > 1 else ''} only in {side} "
                f"(their {n_events} events count as {fate}): {shown}"
            )
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)

    if matches is not None:
        with atomic_path(matches) as tmp:
            result.matches.to_csv(tmp, index=False)

    if as_json:
        summary = {
            "ref": str(ref),
            "pred": str(pred),
            "tolerance_ms": tolerance_ms,
            "iou": iou,
            "ignore_labels": ignore_labels,
            **result.to_dict(),
            "only_in_ref": only_ref,
            "only_in_pred": only_pred,
            "warnings": warnings,
        }
        typer.echo(json.dumps(summary, indent=2))
    else:
        _print_table(result, ref=ref, pred=pred, tolerance_ms=tolerance_ms, iou=iou)
        _print_recordings(result)
    if matches is not None:
        err.print(f"wrote {len(result.matches)} matched pairs to {matches}")


def _read(path: Path, *, option: str, sample_rate: float | None, audio: list[Path]):
    """An annotation file, or every annotation file in a folder, as one Events table."""
    from sonotype.annotations import concat_events, iter_annotation_files, read_events
    from sonotype.errors import ParameterError

    if not path.is_dir():
        return read_events(path, sr=sample_rate, audio_dirs=audio)
    files = [p for p, _ in iter_annotation_files(path)]
    if not files:
        raise ParameterError(
            f"{option} {str(path)!r} holds no annotation file whose format can be told; "
            "pass a file, or see `sonotype formats` for the formats read"
        )
    return concat_events(
        [read_events(p, sr=sample_rate, audio_dirs=audio, relative_to=path) for p in files]
    )


def _print_table(result, *, ref: Path, pred: Path, tolerance_ms: float, iou: float | None):
    from rich import box
    from rich.table import Table

    from sonotype.cli.console import out

    how = f"tolerance {tolerance_ms:g} ms" + (f", IoU ≥ {iou:g}" if iou is not None else "")
    table = Table(
        title=f"{pred} against {ref} ({how})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        caption="errors: median, predicted minus reference",
        caption_justify="left",
    )
    table.add_column("label", overflow="fold", no_wrap=True)
    for name in ("refs", "preds", "hits", "misses", "false alarms", "P", "R", "F1"):
        table.add_column(name, justify="right")
    table.add_column("onset error (ms)", justify="right")
    table.add_column("offset error (ms)", justify="right")
    rows = result.scores.to_dict(orient="records")
    for i, row in enumerate(rows):
        table.add_row(
            row["label"],
            *(str(row[k]) for k in ("n_ref", "n_pred", "hits", "misses", "false_alarms")),
            *(_number(row[k], "{:.3f}") for k in ("precision", "recall", "f1")),
            _number(row["onset_error_median_s"] * 1000, "{:+.2f}"),
            _number(row["offset_error_median_s"] * 1000, "{:+.2f}"),
            end_section=i == len(rows) - 2,
        )
    out.print(table)
    sequences = result.sequences
    n_recordings = sequences["recording"].nunique()
    out.print(
        f"syllable error rate: {_number(result.ser, '{:.3f}')} "
        f"({int(sequences['edit_distance'].sum())} edits / {int(sequences['n_ref'].sum())} "
        f"reference events in {n_recordings} recording"
        f"{'s' if n_recordings != 1 else ''})"
    )


def _print_recordings(result) -> None:
    """Counts and scores per recording, all evaluated labels together."""
    from rich import box
    from rich.table import Table

    from sonotype.cli.console import out

    table = Table(
        title="per recording (all labels evaluated)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("recording", overflow="fold")
    for name in ("refs", "preds", "hits", "misses", "false alarms", "P", "R", "F1"):
        table.add_column(name, justify="right")
    for row in result.recordings.to_dict(orient="records"):
        table.add_row(
            row["recording"],
            *(str(row[k]) for k in ("n_ref", "n_pred", "hits", "misses", "false_alarms")),
            *(_number(row[k], "{:.3f}") for k in ("precision", "recall", "f1")),
        )
    out.print(table)


def _number(value: float, template: str) -> str:
    return "–" if value is None or not math.isfinite(value) else template.format(value)
