"""Shared console output for the commands: one stdout and one stderr console, and progress."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 recording``, ``2 recordings``: :func:`sonotype.store.wording.plural`."""
    from sonotype.store.wording import plural

    return plural(n, noun, nouns)


# Exit codes, as docs/cli.md lists them (2, a command line that cannot be parsed, is click's).
EXIT_ERROR = 1
EXIT_PARTIAL = 3  # some inputs failed (each reported), the others were done
# Stopped on request (`sonotype runs cancel`, SIGTERM, Ctrl-C), what finished kept: 128 + 2,
# the shell's code for Ctrl-C, which typer gives an interrupted command too.
EXIT_CANCELLED = 130

# When stderr is not a terminal (a log file, a batch job), progress is one line this often.
LOG_INTERVAL_S = 10.0
# On a terminal, work on few items shows a bar once it has lasted this long.
BAR_AFTER_S = 2.0


class Advance:
    """What :func:`progress` yields: call it once per finished item (or with a count), or
    :meth:`set` the count done and the total when they are known only as work goes on."""

    def __init__(self, description: str, total: int | None) -> None:
        self.description = description
        self.total = total
        self.done = 0
        self.start = self.stage_start = time.monotonic()
        self._bar: Progress | None = None
        self._task = None

    def __call__(self, n: int = 1) -> None:
        self.done += n
        self._update()

    def set(self, done: int, total: int | None = None, *, description: str | None = None) -> None:
        """Say how many items are done, of how many, and (for work in stages) in which stage."""
        self.done = done
        if total is not None:
            self.total = total
        if description is not None and description != self.description:
            self.description = description
            self.stage_start = time.monotonic()  # the estimate of time left is per stage
        self._update()

    def show_bar(self, bar: Progress) -> None:
        """Draw from now on in ``bar`` (started by the caller)."""
        self._task = bar.add_task(self.description, total=self.total, completed=self.done)
        self._bar = bar

    def _update(self) -> None:
        if self._bar is not None:
            self._bar.update(
                self._task, completed=self.done, total=self.total, description=self.description
            )

    def line(self) -> str:
        """One line saying how far the work got, for logs."""
        now = time.monotonic()
        elapsed = _clock(now - self.start)
        if not self.total:
            return f"{self.description}: {self.done:,} done, {elapsed} elapsed"
        fraction = min(self.done / self.total, 1.0)
        left = (now - self.stage_start) * (1 - fraction) / fraction if fraction > 0 else None
        estimate = f", about {_clock(left)} left" if left is not None else ""
        counted = f"{self.done:,}/{self.total:,} ({100 * fraction:.0f}%)"
        return f"{self.description}: {counted}, {elapsed} elapsed{estimate}"


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@contextmanager
def progress(description: str, total: int | None, *, min_items: int = 20) -> Iterator[Advance]:
    """Progress on stderr for ``total`` items (``None``: not known yet); yields an
    :class:`Advance` to report finished items with.

    On a terminal, a bar: from the start for ``min_items`` items or more, else once the work
    has lasted :data:`BAR_AFTER_S` (so quick work does not flash one). Otherwise (stderr is a
    file or a pipe) one line every :data:`LOG_INTERVAL_S` seconds while the work lasts, so a
    batch job's log shows that it is alive and how far it got; quick work prints nothing.
    """
    advance = Advance(description, total)
    stop = threading.Event()
    if err.is_terminal:
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        bar = Progress(*columns, console=err, transient=True)

        def show() -> None:
            few = total is None or total < min_items
            if few and stop.wait(BAR_AFTER_S):
                return
            bar.start()
            advance.show_bar(bar)

    else:
        bar = None

        def show() -> None:
            while not stop.wait(LOG_INTERVAL_S):
                err.print(advance.line(), markup=False, highlight=False)

    watcher = threading.Thread(target=show, name="sonotype-progress", daemon=True)
    watcher.start()
    try:
        yield advance
    finally:
        stop.set()
        watcher.join()
        if bar is not None:
            bar.stop()
