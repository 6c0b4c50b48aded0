"""The exceptions sonotype raises.

Every error derives from :class:`SonotypeError`, so a caller can catch them all at once.
Messages name the file, row or parameter at fault, the value received, and how to fix it.
"""

from __future__ import annotations

import os


class SonotypeError(Exception):
    """Root of every error sonotype raises on purpose."""


class ParameterError(SonotypeError, ValueError):
    """A function or command received an invalid parameter value.

    ``parameter``, when set, is the name of the parameter at fault as the function spells it
    (``"min_dist"``), and the message starts with it (``"min_dist=-1 must be ..."``), so that
    an interface can show the name as its users spell it (the CLI's ``--min-dist``).
    """

    def __init__(self, *args: object, parameter: str | None = None) -> None:
        super().__init__(*args)
        # An attribute, not an argument of args: pickling keeps it (Exception.__reduce__
        # carries __dict__), so the name survives a worker of a process pool.
        self.parameter = parameter


class RunCancelled(SonotypeError):
    """``sonotype runs cancel`` asked the run to stop; what it finished is kept."""


class RegistryError(SonotypeError):
    """A registry was asked to hold a duplicate name."""


class FileProblem(SonotypeError):
    """A problem with one file; ``path`` names it and the message starts with it.

    A problem that starts by naming a row or line reads as one phrase with the file name:
    ``notes.csv row 17: stop_s=1.2 is before start_s=1.5``.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        separator = " " if problem.startswith(("row ", "line ", "syllable ")) else ": "
        super().__init__(f"{self.path}{separator}{problem}")

    def __reduce__(self):
        # Rebuilt from (path, problem), not from the joined message, so the error crosses
        # process boundaries (a worker of a process pool) unchanged.
        return (type(self), (self.path, self.problem))


class AudioError(FileProblem):
    """An audio file cannot be read as asked."""


class AudioNotFoundError(AudioError, FileNotFoundError):
    """The audio file (or a file it needs, such as a ``.rec``) does not exist."""


class EmptyAudioError(AudioError):
    """The audio file holds no samples."""


class TruncatedAudioError(AudioError):
    """The audio file is shorter than its header declares."""


class NotAudioError(AudioError):
    """The file has an audio extension but its content is not audio."""


class UnknownAudioFormatError(AudioError):
    """The file's extension names no audio format sonotype reads."""


class SpanError(AudioError, ValueError):
    """A requested time span or channel lies outside the recording."""


class AnnotationError(FileProblem, ValueError):
    """An annotation file (or table) has invalid content; the message names the row."""


class AnnotationFormatError(AnnotationError):
    """An annotation file is not in the expected format, or its format cannot be told."""
