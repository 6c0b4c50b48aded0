"""Entry point of the ``sonotype`` command: the app, its global options and error handling.

Each command lives in its own module and imports what it needs when it runs, so
``sonotype --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer
import typer.core

from sonotype._version import __version__
from sonotype.cli import app as app_command
from sonotype.cli import (
    autoencoder,
    congruence,
    convert,
    demo,
    detect,
    discover,
    distances,
    edit,
    embeddings,
    evaluate,
    events,
    formats,
    info,
    init,
    motifs,
    probes,
    review,
    runs,
    scan,
    spectrogram,
    supervised,
    triplets,
    tune,
)
from sonotype.cli.helptext import tidy_help
from sonotype.errors import RunCancelled, SonotypeError
from sonotype.invocation import Invocation, Terminated, current_invocation


class SonotypeGroup(typer.core.TyperGroup):
    """The root command: it records each command line, so every run knows how it was started
    (``sonotype retry`` runs it again), and ends a command stopped on request with
    :data:`~sonotype.cli.console.EXIT_CANCELLED`."""

    def parse_args(self, ctx, args):
        if ctx.parent is None:  # the whole command line, before any of it is parsed
            ctx.meta["sonotype.invocation"] = Invocation(tuple(args), os.getcwd())
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        # Set for the command only, and always reset: one process may run several commands
        # (`sonotype retry` runs another; tests run many).
        token = current_invocation.set(ctx.meta.get("sonotype.invocation"))
        try:
            return super().invoke(ctx)
        except (RunCancelled, KeyboardInterrupt) as error:
            # `sonotype runs cancel`, SIGTERM or Ctrl-C: the run is already recorded
            # cancelled; say so, and exit with the code that means it.
            from sonotype.cli.console import EXIT_CANCELLED

            _stopped(str(error) or "interrupted (Ctrl-C); what finished is kept")
            raise typer.Exit(EXIT_CANCELLED) from error
        finally:
            current_invocation.reset(token)


app = typer.Typer(
    cls=SonotypeGroup,
    name="sonotype",
    help="Bioacoustics from raw recordings to answers: find sounds, label them, measure how "
    "good the labels are. Run `sonotype demo` for a first tour.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sonotype {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """sonotype: bioacoustics from raw recordings to answers."""


app.command("demo")(demo.demo)
app.command("info")(info.info)
app.command("formats")(formats.formats)
app.command("convert")(convert.convert)
app.command("init")(init.init)
app.command("scan")(scan.scan)
app.command("import")(events.import_events)
app.command("export")(events.export_events)
# "undo -1" must reach the range check, not be read as an unknown option "-1".
app.command("undo", context_settings={"ignore_unknown_options": True})(events.undo)
app.add_typer(edit.app, name="events")
app.command("spectrogram")(spectrogram.spectrogram)
app.command("detect")(detect.detect)
app.command("tune-detector")(tune.tune_detector)
app.add_typer(evaluate.app, name="evaluate")
app.command("discover")(discover.discover)
for _name, _command in discover.STAGE_COMMANDS.items():
    app.command(_name)(embeddings.embed if _name == "embed" else _command)
app.command("models")(embeddings.models)
app.command("activations")(embeddings.activations)
app.command("train")(supervised.train)
app.command("ensemble")(supervised.ensemble)
app.command("accuracy")(supervised.accuracy)
app.command("classify")(supervised.classify)
app.command("ethogram")(supervised.ethogram)
app.command("misses")(supervised.misses)
app.command("congruence")(congruence.congruence)
app.command("export-model")(supervised.export_model)
for _name in ("xval", "generalize", "learncurve", "mistakes", "compare"):
    app.command(_name)(getattr(review, _name))
app.add_typer(runs.app, name="runs")
app.add_typer(autoencoder.app, name="autoencoder")
app.command("retry")(runs.retry)
app.command("motifs")(motifs.motifs)
app.add_typer(triplets.app, name="triplets")
app.command("distances")(distances.distances)
app.command("app")(app_command.app)
probes.register(app)
tidy_help(app)


def run() -> None:
    """Console-script entry: run the app, turning errors into one-line messages.

    Exit codes (docs/cli.md): 0 success; 1 an error (a sonotype error, or the system refusing
    a file: permissions, a full disk); 2 a command line that cannot be parsed (click's own);
    3 partial success (some inputs failed, each reported); 130 cancelled (`sonotype runs
    cancel`, SIGTERM, Ctrl-C), what finished kept.
    """
    from sonotype.cli.console import EXIT_ERROR

    stop_on_sigterm()
    try:
        app()
    except SonotypeError as error:
        _fail(cli_message(error, sys.argv[1:]))
        sys.exit(EXIT_ERROR)
    except OSError as error:
        # The system refused a file (permission, full disk, missing folder): name the file
        # and the reason, not a traceback.
        where = f"{error.filename}: " if error.filename else ""
        _fail(f"{where}{error.strerror or error}")
        sys.exit(EXIT_ERROR)


def stop_on_sigterm() -> None:
    """Make SIGTERM (``sonotype runs cancel``, ``kill``, a cluster's scheduler ending a job)
    stop the command as Ctrl-C does: :class:`~sonotype.invocation.Terminated` is raised in the
    main thread, so the run is recorded ``cancelled``, atomic writes remove their temporary
    files, and the exit code is 130. A second SIGTERM ends the process at once."""
    import signal

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated(
            "stopped by SIGTERM (`sonotype runs cancel`, or kill); what finished is kept: "
            "run the same command to finish"
        )

    signal.signal(signal.SIGTERM, stop)


def _stopped(message: str) -> None:
    from rich.markup import escape

    from sonotype.cli.console import err

    err.print(f"[yellow]cancelled:[/] {escape(message)}", markup=True, highlight=False)


def cli_message(error: SonotypeError, args: Sequence[str]) -> str:
    """The message of ``error`` as the command line's user reads it.

    A :class:`~sonotype.errors.ParameterError` from the library names the parameter as the
    Python function spells it (``min_dist=-1 must be ...``); when the command that ``args``
    run has an option for that parameter (click's ``name`` of the option equals the
    ``parameter`` of the error), the message names the option instead:
    ``--min-dist -1 must be ...``. Other messages come back unchanged.

    Examples
    --------
    >>> from sonotype.errors import ParameterError
    >>> error = ParameterError("labels=['zz'] names no label", parameter="labels")
    >>> cli_message(error, ["evaluate", "events", "--labels", "zz"])
    "--labels ['zz'] names no label"
    >>> cli_message(error, ["detect", "song.wav"])  # detect has no --labels
    "labels=['zz'] names no label"
    """
    message = str(error)
    parameter = getattr(error, "parameter", None)
    if not parameter:
        return message
    for separator in ("=", " "):
        if message.startswith(parameter + separator):
            flag = _option_of(parameter, args)
            if flag is not None:
                return f"{flag} {message[len(parameter) + 1 :]}"
    return message


def _option_of(parameter: str, args: Sequence[str]) -> str | None:
    """The long flag of the option named ``parameter`` of the (sub)command that ``args``
    run, or of the groups above it; None when there is none."""
    # Duck-typed: typer builds its commands with its own copy of click (typer._click).
    command = typer.main.get_command(app)
    chain = [command]
    for arg in args:
        commands = getattr(command, "commands", None)
        if commands is None:  # a command, not a group: the rest are its arguments
            break
        if arg in commands:
            command = commands[arg]
            chain.append(command)
    for candidate in reversed(chain):
        for param in candidate.params:
            if getattr(param, "param_type_name", "") == "option" and param.name == parameter:
                long_flags = [flag for flag in param.opts if flag.startswith("--")]
                return max(long_flags or param.opts, key=len)
    return None


def _fail(message: str) -> None:
    from rich.markup import escape

    from sonotype.cli.console import err

    err.print(
        f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True
    )


if __name__ == "__main__":
    run()
