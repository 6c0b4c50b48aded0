"""The supervised commands: ``train``, ``ensemble``, ``accuracy``, ``classify``, ``ethogram``,
``misses`` and ``export-model``. Each works inside a project; torch loads only when a
command runs."""

from __future__ import annotations

from pathlib import Path

import typer

from sonotype.cli.options import PROJECT_OPTION

NAME = typer.Argument(..., help="Model name (as given to `sonotype train --name`).")
RECORDINGS = typer.Argument(
    None, help="Recordings (names or globs, e.g. 'birds/*'); all indexed ones by default."
)
CHANNELS = typer.Option(
    None,
    "--channels",
    help="Channels to classify, comma-separated, counted from 0 (default: every channel of "
    "each recording, each on its own; but only the annotated ones when the training "
    "recordings had channels without annotations).",
)
WORKERS = typer.Option(
    0,
    "--workers",
    help="Local processes classifying recordings: 0 (the default) for as many as the cores "
    "and memory hold, or 1 or more. [compute] in sonotype.toml may choose Dask instead.",
)


def _workers(workers: int) -> int | None:
    """``--workers`` as the executors take it: 0 (as many as fit) is None. The error names
    the parameter, which :func:`~sonotype.cli.main.cli_message` turns into the option."""
    from sonotype.checks import check_int

    check_int(workers, name="workers", minimum=0, default=0,
              hint="0 runs as many processes as the cores and memory hold")  # fmt: skip
    return workers or None


def _report_failures(failures: dict[str, str], n: int) -> None:
    """Each recording that failed with its reason, then exit 3: partial (docs/cli.md)."""
    from rich.markup import escape

    from sonotype.cli.console import EXIT_PARTIAL, err

    if not failures:
        return
    for recording, why in failures.items():
        err.print(f"[red]failed:[/] {escape(recording)}: {escape(why)}", soft_wrap=True)
    err.print(
        f"[yellow]partial:[/] {len(failures)} of {n} recording(s) failed; the others' results "
        "are kept (`sonotype runs` lists them; run the command again to retry them)"
    )
    raise typer.Exit(EXIT_PARTIAL)


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _channels(text: str | None) -> list[int] | None:
    """``--channels 0,2`` as numbers (None: every channel)."""
    from sonotype.errors import ParameterError

    if not text:
        return None
    try:
        return [int(part) for part in _split(text)]
    except ValueError:
        raise ParameterError(
            f"--channels {text!r} must be channel numbers counted from 0, e.g. 0,1"
        ) from None


def parse_network_settings(settings: list[str]) -> dict:
    """``KEY=VALUE`` network settings: ``a,b`` lists, numbers, true/false, none."""
    from sonotype.errors import ParameterError

    def value_of(text: str):
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "none":
            return None
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                continue
        return text.strip()

    parsed = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--set {setting!r} must look like KEY=VALUE")
        parsed[key.strip()] = (
            [value_of(v) for v in value.split(",") if v.strip()]
            if "," in value
            else value_of(value)
        )
    return parsed


def rate_notes(project, recordings: list[str], *, model_sr: float) -> list[str]:
    """A warning per recording whose sample rate differs from the model's (it is resampled,
    which a network trained at one rate may not survive), saying by how much."""
    index = project.recordings()
    rates = dict(zip(index["path"], index["sr"], strict=True))
    notes = []
    for recording in recordings:
        sr = rates.get(recording)
        if sr and sr != model_sr:
            factor = max(sr, model_sr) / min(sr, model_sr)
            way = "up" if sr < model_sr else "down"
            notes.append(
                f"{recording} is at {sr:g} Hz, the model at {model_sr:g} Hz: it is resampled "
                f"{way} by a factor of {factor:.3g}; check its results, or train a model on "
                "recordings at its rate"
            )
    return notes


def train(
    name: str = typer.Option(..., "--name", help="Name of the model to train."),
    labels: str = typer.Option(
        ..., "--labels", help="Labels to learn, comma-separated, e.g. mel-pulse,mel-sine,ambient."
    ),
    kinds: str = typer.Option("annotated", "--kinds", help="Kinds of stored events to learn from."),
    sources: str = typer.Option(None, "--sources", help="Only events from these sources."),
    recordings: list[str] = typer.Option(
        None, "--recordings", help="Only these recordings (names or globs; repeatable)."
    ),
    background: str = typer.Option(
        None, "--background", help="Also learn unannotated time as this label (dense labels)."
    ),
    ignore_labels: str = typer.Option(
        None,
        "--ignore-labels",
        help="Annotated labels to leave out, comma-separated (others not in --labels are "
        "an error).",
    ),
    absorb_unlisted: bool = typer.Option(
        False,
        "--absorb-unlisted",
        help="Teach the time of annotated labels not in --labels as the --background label.",
    ),
    representation: str = typer.Option(
        None, "--representation", help="waveform, spectrogram (default) or mel-cepstrum."
    ),
    context_ms: float = typer.Option(None, "--context-ms", help="Context window (ms)."),
    loss: str = typer.Option(
        None,
        "--loss",
        help="exclusive (softmax, default), overlapped, or autoencoder (a reconstruction model "
        "of the --labels events' spans, docs/representations.md).",
    ),
    settings: list[str] = typer.Option(
        [],
        "--set",
        help="Network setting KEY=VALUE (repeatable), e.g. --set feature_maps=32,64,64,64; "
        "an unknown key lists them all.",
    ),
    steps: int = typer.Option(1000, "--steps", help="Training steps (batches)."),
    batch_size: int = typer.Option(32, "--batch-size", help="Examples per batch."),
    learning_rate: float = typer.Option(
        1e-3, "--learning-rate", help="Learning rate (the peak one with --schedule one-cycle)."
    ),
    optimizer: str = typer.Option(
        "adam", "--optimizer", help="adam, adamw (decoupled weight decay) or sgd (with momentum)."
    ),
    schedule: str = typer.Option(
        "constant",
        "--schedule",
        help="Learning rate over the steps: constant, cosine (decays to 0) or one-cycle (warms "
        "up over the first 30%, then anneals).",
    ),
    momentum: float = typer.Option(0.9, "--momentum", help="Momentum of --optimizer sgd."),
    weight_decay: float = typer.Option(
        None, "--weight-decay", help="Weight decay (default: 0.01 for adamw, else 0)."
    ),
    init_from: str = typer.Option(
        None,
        "--init-from",
        help="Fine-tune: start from this trained model's weights, architecture and sample "
        "rate (audio at other rates is resampled to it).",
    ),
    freeze_layers: int = typer.Option(
        0,
        "--freeze-layers",
        help="With --init-from: keep the front end and the first N convolution layers fixed.",
    ),
    add_layers: str = typer.Option(
        None,
        "--add-layers",
        help="With --init-from: new dense layers before the output, widths comma-separated "
        "(e.g. 64,32); they replace the source's head.",
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue the stopped training of --name from its last checkpoint (same options "
        "as then).",
    ),
    validate_percent: float = typer.Option(
        None,
        "--validate-percent",
        help="Hold out this percentage of each label's events (0: no validation). Default: "
        "whole recordings when 3 or more have events, else 20%.",
    ),
    validate_recordings: list[str] = typer.Option(
        None, "--validate-recordings", help="Hold out these whole recordings (repeatable)."
    ),
    test_recordings: list[str] = typer.Option(
        None,
        "--test-recordings",
        help="Recordings never used to train or choose anything (names or globs; repeatable).",
    ),
    validate_every: int = typer.Option(
        None, "--validate-every", help="Steps between validations and checkpoints."
    ),
    replicates: int = typer.Option(1, "--replicates", help="Networks to train from new seeds."),
    equalize: bool = typer.Option(
        False, "--equalize", help="Sub-sample so every label has as many examples as the rarest."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or mps."),
    force: bool = typer.Option(False, "--force", help="Replace a model of the same name."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Train a network on annotated events; the model goes to artifacts/models/NAME/.

    The model directory holds the weights, the preprocessing, labels and settings, every
    checkpoint and the learning curve. See docs/supervised.md.
    """
    from sonotype.cli.console import err, out, progress
    from sonotype.cli.options import open_project
    from sonotype.errors import ParameterError
    from sonotype.models.config import network_config
    from sonotype.models.settings import TrainSettings
    from sonotype.pipeline import supervised

    train_settings = TrainSettings(
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        optimizer=optimizer,
        schedule=schedule,
        momentum=momentum,
        weight_decay=weight_decay,
        validate_every=validate_every,
        random_state=seed,
        device=device,
    )
    # Before any data is read; the error names the setting, which `run` turns into the option.
    train_settings.check()
    chosen = {
        "representation": representation,
        "context_ms": context_ms,
        "loss": loss,
        **parse_network_settings(settings),
    }
    if loss == "autoencoder":  # sonotype.autoencoder.classifier; docs/representations.md
        from sonotype.cli.autoencoder import train_reconstruction

        chosen.pop("loss")
        return train_reconstruction(
            project_dir, name, _split(labels), _split(kinds), recordings, chosen, train_settings
        )
    chosen = {k: v for k, v in chosen.items() if v is not None}
    widths = _split(add_layers)
    if (freeze_layers or widths) and not init_from:
        raise ParameterError("--freeze-layers and --add-layers fine-tune: give --init-from NAME")
    try:
        widths = [int(w) for w in widths]
    except ValueError:
        raise ParameterError(f"--add-layers {add_layers!r} must be widths, e.g. 64,32") from None
    with (
        open_project(project_dir) as project,
        progress("training", steps * replicates, min_items=1) as advance,
    ):
        if init_from:
            from sonotype.models.transfer import transfer_config

            network = transfer_config(_source_config(project, init_from), chosen, add_layers=widths)
        else:
            network = network_config(**chosen)
        outcome = supervised.train(
            project,
            name,
            labels=_split(labels),
            network=network,
            settings=train_settings,
            kinds=_split(kinds),
            sources=_split(sources) or None,
            recordings=recordings or None,
            background=background,
            ignore_labels=_split(ignore_labels),
            absorb_unlisted=absorb_unlisted,
            validate_percent=validate_percent,
            validate_recordings=validate_recordings or (),
            test_recordings=test_recordings or (),
            replicates=replicates,
            equalize=equalize,
            init_from=init_from,
            freeze_layers=freeze_layers,
            resume=resume,
            overwrite=force,
            progress=lambda replicate, step, total: advance(),
        )
    model = outcome.model
    if outcome.up_to_date:
        out.print(
            f"model {name!r} is up to date: it was trained on these events with these "
            f"settings; nothing to train (best checkpoint: step {model.best_step})"
        )
        out.print(f"model: {model.folder}")
        return
    for warning in outcome.warnings:
        err.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    counts = outcome.examples.groupby(["split", "label"]).size()
    out.print(f"trained {name!r} on {model.training['device']} in {model.training['seconds']} s")
    out.print(
        "examples: " + "; ".join(f"{split} {label} {n}" for (split, label), n in counts.items())
    )
    held = model.training.get("validation_recordings") or []
    if held:
        out.print(f"validation recordings: {', '.join(held)}")
    if model.training.get("test_recordings"):
        out.print(f"test recordings (unused): {', '.join(model.training['test_recordings'])}")
    out.print(
        f"{len(model.labels)} outputs ({', '.join(model.labels)}); context "
        f"{1000 * model.context_s:.1f} ms, one frame every {1000 * model.step_s:.2f} ms; "
        f"best checkpoint: step {model.best_step}"
    )
    if replicates > 1:
        out.print(outcome.replicates.to_string(index=False))
    out.print(f"model: {model.folder}")


def ensemble(
    names: list[str] = typer.Argument(..., help="Models to average (two or more)."),
    name: str = typer.Option(..., "--name", help="Name of the ensemble model."),
    force: bool = typer.Option(False, "--force", help="Replace a model of the same name."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Average trained models into one model (same labels, in any order; architectures and
    contexts may differ) that classify, ethogram, accuracy and export-model use like any
    other. See docs/supervised.md."""
    from sonotype.cli.console import out
    from sonotype.cli.options import open_project
    from sonotype.pipeline.ensemble import ensemble as make_ensemble

    with open_project(project_dir) as project:
        model = make_ensemble(project, names, name=name, overwrite=force)
    out.print(
        f"ensemble {name!r} of {', '.join(names)}: {len(model.labels)} outputs "
        f"({', '.join(model.labels)}); context {1000 * model.context_s:.1f} ms, one frame "
        f"every {1000 * model.step_s:.2f} ms"
    )
    if model.validation_windows().empty:
        out.print(
            "note: no validation window was held out by every member: `sonotype accuracy` "
            "cannot score it; score it on densely annotated recordings instead"
        )
    out.print(f"model: {model.folder}")


def accuracy(
    name: str = NAME,
    pr_ratios: str = typer.Option(
        "1.0", "--pr-ratios", help="Precision/recall ratios to find thresholds for, e.g. 0.5,1,2."
    ),
    tolerance_ms: float = typer.Option(
        10.0, "--tolerance-ms", help="Onset and offset tolerance of syllables when scoring."
    ),
    point_tolerance_ms: float = typer.Option(
        5.0, "--point-tolerance-ms", help="Tolerance of point events (pulses) when scoring."
    ),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Score a model on its validation data, learn its post-processing and pick its best
    checkpoint: confusion matrix, precision, recall, F1, precision-recall curves, thresholds
    per ratio, the ethogram's settings (postprocess.json) with their scores, and mistakes."""
    from sonotype.cli.console import out, progress
    from sonotype.cli.options import open_project
    from sonotype.errors import ParameterError
    from sonotype.pipeline import supervised

    try:
        ratios = [float(r) for r in _split(pr_ratios)]
    except ValueError:
        raise ParameterError(f"--pr-ratios {pr_ratios!r} must be numbers, e.g. 0.5,1,2") from None
    with open_project(project_dir) as project:
        model = supervised.load_model(project, name)
        with progress("checkpoints", len(model.checkpoints()), min_items=2) as advance:
            outcome = supervised.accuracy(
                project,
                name,
                pr_ratios=ratios,
                tolerance_ms=tolerance_ms,
                point_tolerance_ms=point_tolerance_ms,
                progress=lambda i, n: advance(),
            )
    if outcome.up_to_date:
        out.print(
            f"accuracy of {name!r} is up to date (same checkpoints, validation data and "
            "settings); nothing computed"
        )
    table = outcome.per_label.copy()
    out.print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    out.print(f"window macro F1 {outcome.macro_f1:.3f}; best checkpoint: step {outcome.best_step}")
    out.print(f"{len(outcome.mistakes)} misclassified validation windows")
    chosen = outcome.postprocessing
    if chosen is not None:
        out.print(postprocessing_summary(chosen))
    for note in outcome.notes:
        out.print(f"note: {note}")
    out.print(f"report: {outcome.report}")


def postprocessing_summary(chosen) -> str:
    """Lines that say what post-processing was learned and how it scores."""

    def scores(record: dict) -> str:
        s = record.get("scores", {})
        parts = []
        if s.get("f1") == s.get("f1"):  # not NaN: there are interval labels
            parts.append(f"segment F1 {s['f1']:.3f}, SER {100 * s['ser']:.1f}%")
        if s.get("point_f1") == s.get("point_f1"):
            parts.append(f"point F1 {s['point_f1']:.3f}")
        return "; ".join(parts) + f" ({len(record.get('recordings', []))} recordings)"

    gaps = ", ".join(f"{k} {1000 * v:.3g}" for k, v in chosen.min_gap_s.items())
    durations = ", ".join(f"{k} {1000 * v:.3g}" for k, v in chosen.min_duration_s.items())
    lines = [
        "learned post-processing (postprocess.json, used by `sonotype ethogram`):",
        "  thresholds: " + ", ".join(f"{k} {v:.2f}" for k, v in chosen.thresholds.items()),
        f"  majority vote: {'yes' if chosen.majority_vote else 'no'}",
    ]
    if gaps:
        lines += [f"  min gap (ms): {gaps}", f"  min duration (ms): {durations}"]
    optimistic = " (optimistic: partly trained on)" if chosen.validation.get("optimistic") else ""
    lines.append(f"  validation{optimistic}: {scores(chosen.validation)}")
    if chosen.test:
        lines.append(f"  test, never used for any choice: {scores(chosen.test)}")
    return "\n".join(lines)


def classify(
    name: str = NAME,
    recordings: list[str] = RECORDINGS,
    prevalence: list[str] = typer.Option(
        [],
        "--prevalence",
        help="Expected share of a label, LABEL=VALUE (repeatable; durations or probabilities).",
    ),
    workers: int = WORKERS,
    channels: str = CHANNELS,
    engine: str = typer.Option(
        "auto",
        "--engine",
        help="What runs the network: torch or onnx (onnxruntime; probabilities agree to "
        "1e-5). auto: onnx for --stream when installed (lower latency), torch for "
        "recordings (faster).",
    ),
    stream: bool = typer.Option(
        False,
        "--stream",
        help="Classify raw mono PCM from stdin as it arrives: one CSV line per output frame "
        "(time_s, then each label's probability) on stdout, flushed per chunk.",
    ),
    chunk_ms: float = typer.Option(25.6, "--chunk-ms", help="--stream: audio per chunk (ms)."),
    sr: float = typer.Option(
        None, "--sr", help="--stream: sample rate of the input (Hz); the model's by default."
    ),
    pcm_format: str = typer.Option(
        "f32", "--format", help="--stream: samples as f32 (float32) or s16 (int16), native order."
    ),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Per-label probability time series for whole recordings (cached artifacts; every
    channel of multi-channel recordings), or for a live input with --stream."""
    from rich.markup import escape

    from sonotype.cli.console import err, out, progress
    from sonotype.cli.options import open_project
    from sonotype.errors import ParameterError
    from sonotype.pipeline import supervised

    if engine not in ("auto", "torch", "onnx"):
        raise ParameterError(f"--engine {engine!r} must be auto, torch or onnx")
    if stream:
        if recordings or prevalence or channels:
            raise ParameterError(
                "--stream classifies stdin: give no recordings, --prevalence or --channels with it"
            )
        with open_project(project_dir) as project:
            model = supervised.load_model(project, name)
        _classify_stream(model, engine=engine, chunk_ms=chunk_ms, sr=sr, pcm_format=pcm_format)
        return
    weights = {}
    for item in prevalence:
        label, sep, value = item.partition("=")
        try:
            weights[label.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ParameterError(f"--prevalence {item!r} must look like LABEL=NUMBER")
    with open_project(project_dir) as project:
        chosen = supervised.select_recordings(project, recordings)
        with progress("classifying", len(chosen), min_items=2) as advance:
            result = supervised.classify(
                project,
                name,
                recordings=chosen,
                prevalence=weights or None,
                workers=_workers(workers),
                engine=engine,
                channels=_channels(channels),
                progress=lambda recording: advance(),
            )
        model = supervised.load_model(project, name)
        notes = rate_notes(project, chosen, model_sr=model.sr)
    for note in notes:
        err.print(f"[yellow]warning:[/] {escape(note)}", soft_wrap=True)
    n_channels = sum(len(paths) for paths in result.channel_paths.values())
    out.print(
        f"classified {len(result.channel_paths)} recordings, {n_channels} channels "
        f"({result.computed} now, {result.cached} done before): "
        f"({', '.join(model.labels)}) probabilities every "
        f"{1000 * model.step_s:.2f} ms, in {project.folder / 'artifacts' / 'probabilities'}"
    )
    _report_failures(result.failures, len(chosen))


def _classify_stream(model, *, engine: str, chunk_ms: float, sr, pcm_format: str) -> None:
    """``classify --stream``: raw PCM from stdin to CSV lines on stdout, chunk by chunk."""
    import sys

    import numpy as np

    from sonotype.errors import ParameterError
    from sonotype.models.streaming import StreamClassifier

    if model.config.input_channels > 1:
        raise ParameterError(
            f"--stream reads one channel, but the model reads {model.config.input_channels} "
            "together; classify recordings instead"
        )
    dtypes = {"f32": np.float32, "s16": np.int16}
    if pcm_format not in dtypes:
        raise ParameterError(f"--format {pcm_format!r} must be f32 or s16")
    if sr is not None and sr != model.sr:
        raise ParameterError(
            f"--sr {sr:g} differs from the model's rate, {model.sr:g} Hz; resample the input "
            f"to {model.sr:g} Hz before sonotype (e.g. sox ... -r {model.sr:g})"
        )
    chunk = round(chunk_ms * model.sr / 1000)
    if chunk < 1:
        raise ParameterError(f"--chunk-ms {chunk_ms:g} is less than one sample at {model.sr:g} Hz")
    dtype = np.dtype(dtypes[pcm_format])
    scale = 1 / 32768 if pcm_format == "s16" else 1.0
    classifier = StreamClassifier(model.network(), engine=engine)
    source, sink = sys.stdin.buffer, sys.stdout
    sink.write(",".join(["time_s", *model.labels]) + "\n")
    sink.flush()
    pending = b""

    def emit(probabilities: np.ndarray) -> None:
        first = classifier.frames_done - len(probabilities)
        times = classifier.frame_times_s(first, len(probabilities), sr=model.sr)
        rows = np.column_stack([times, probabilities])
        sink.write("".join(",".join(f"{v:.6g}" for v in row) + "\n" for row in rows))
        sink.flush()

    while data := source.read(chunk * dtype.itemsize):
        data = pending + data
        usable = len(data) // dtype.itemsize * dtype.itemsize  # a sample cut at a read's end
        pending = data[usable:]
        samples = np.frombuffer(data[:usable], dtype).astype(np.float32) * scale
        emit(classifier.push(samples))
    emit(classifier.finish())


def ethogram(
    name: str = NAME,
    recordings: list[str] = RECORDINGS,
    pr_ratio: float = typer.Option(
        None, "--pr-ratio", help="Use the thresholds.csv thresholds at this precision/recall ratio."
    ),
    thresholds: Path = typer.Option(
        None, "--thresholds", help="thresholds.csv to use instead of the model's."
    ),
    labels: str = typer.Option(None, "--labels", help="Only these labels (comma-separated)."),
    min_duration_ms: float = typer.Option(
        None, "--min-duration-ms", help="Drop shorter events (default: learned, else 0)."
    ),
    min_gap_ms: float = typer.Option(
        None, "--min-gap-ms", help="Merge events closer than this (default: learned, else 0)."
    ),
    min_separation_ms: float = typer.Option(
        None, "--min-separation-ms", help="Least time between point events (default 10)."
    ),
    majority_vote: bool = typer.Option(
        None,
        "--majority-vote/--no-majority-vote",
        help="Segment labels together, one label per segment (default: learned, else no).",
    ),
    workers: int = WORKERS,
    channels: str = CHANNELS,
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Threshold the probabilities into `predicted` events in the store (point labels as
    points at the probability peaks), replacing this model's earlier predictions. Uses the
    post-processing learned by `sonotype accuracy`; options override it. Each channel of a
    multi-channel recording gets its own events."""
    from rich.markup import escape

    from sonotype.cli.console import err, out, progress
    from sonotype.cli.options import open_project
    from sonotype.pipeline import supervised

    with open_project(project_dir) as project:
        chosen = supervised.select_recordings(project, recordings)
        notes = rate_notes(project, chosen, model_sr=supervised.load_model(project, name).sr)
        for note in notes:
            err.print(f"[yellow]warning:[/] {escape(note)}", soft_wrap=True)
        with progress("ethogram", len(chosen), min_items=2) as advance:
            result = supervised.ethogram(
                project,
                name,
                recordings=chosen,
                pr_ratio=pr_ratio,
                thresholds_file=thresholds,
                labels=_split(labels) or None,
                min_duration_ms=min_duration_ms,
                min_gap_ms=min_gap_ms,
                min_separation_ms=min_separation_ms,
                majority_vote=majority_vote,
                workers=_workers(workers),
                channels=_channels(channels),
                progress=lambda recording: advance(),
            )
    counts = result.events["label"].value_counts().sort_index()
    summary = ", ".join(f"{label} {n}" for label, n in counts.items()) or "nothing"
    for line in result.origins:
        out.print(line)
    stored = "already stored, unchanged" if result.edit is None else f"edit {result.edit.id}"
    out.print(f"stored {len(result.events)} predicted events ({summary}): {stored}")
    _report_failures(result.failures, len(chosen))


def misses(
    recordings: list[str] = RECORDINGS,
    detected_source: str = typer.Option(None, "--detected", help="Detector (source) to use."),
    predicted_source: str = typer.Option(None, "--predicted", help="Model (source) to use."),
    tolerance_ms: float = typer.Option(0.0, "--tolerance-ms", help="Gap still counted covered."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Store the detected events that no predicted event covers as kind `missed`."""
    from sonotype.cli.console import out
    from sonotype.cli.options import open_project
    from sonotype.pipeline import supervised

    with open_project(project_dir) as project:
        result = supervised.find_misses(
            project,
            detected_sources=[detected_source] if detected_source else None,
            predicted_sources=[predicted_source] if predicted_source else None,
            recordings=recordings or None,
            tolerance_ms=tolerance_ms,
        )
    stored = (
        "already stored, unchanged" if result.edit is None else f"stored as edit {result.edit.id}"
    )
    out.print(
        f"{len(result.events)} missed events, {stored}; review them with "
        "`sonotype export --kind missed`"
    )


def export_model(
    name: str = NAME,
    format: str = typer.Option("onnx", "--format", "-f", help="onnx or torchscript."),
    output: Path = typer.Option(None, "-o", "--output", help="File to write (default: NAME.onnx)."),
    project_dir: Path = PROJECT_OPTION,
) -> None:
    """Export a model, preprocessing included, to ONNX or TorchScript."""
    from sonotype.cli.console import out
    from sonotype.cli.options import open_project
    from sonotype.models.export import FORMATS, export_model
    from sonotype.pipeline import supervised

    with open_project(project_dir) as project:
        model = supervised.load_model(project, name)
        path = export_model(model, output or Path(name + FORMATS.get(format, "")), format=format)
    out.print(
        f"wrote {path} ({format}): audio (batch, 1, samples) at {model.sr:g} Hz -> "
        f"probabilities (batch, {len(model.labels)}, frames), one frame every "
        f"{model.output_step} samples; description in {path}.json"
    )


def _source_config(project, name: str):
    """The network settings of the model to fine-tune: a classifier's, or those of a
    reconstruction model (``train --loss autoencoder``), whose encoder starts the new one."""
    from sonotype.models.config import NetworkConfig
    from sonotype.pipeline import supervised

    folder = supervised.model_folder(project, name)
    if (folder / "reconstruction.json").is_file():
        from sonotype.autoencoder.classifier import reconstruction_description

        return NetworkConfig(**reconstruction_description(folder)["config"])
    return supervised.load_model(project, name).config
