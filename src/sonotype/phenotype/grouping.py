"""Which animal made each recording: by folder, by a pattern in the name, or as given.

Phenotypes are computed per animal, and an animal usually sings in many recordings. The
recording names of an Events table (paths relative to the project's audio root) say which
animal is which in one of two ways that :func:`animal_of` reads:

- ``by="folder"``: the animal is a folder of the path, ``level`` folders up from the file
  (``level=1``, the default, is the folder holding the recording: ``gy6or6/0808.wav`` ->
  ``gy6or6``; ``level=2`` skips one folder, as for ``gy6or6/day1/0808.wav``);
- ``by="regex"``: the animal is the named group ``animal`` of a regular expression searched
  in the path (``r"(?P<animal>[a-z]{2}\\d[a-z]{2}\\d)"`` finds ``gy6or6`` in
  ``songs/gy6or6_baseline_230312_0808.138.cbin``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError

#: The ways :func:`animal_of` can find an animal in a recording name.
GROUPINGS = ("folder", "regex")

#: The animal of every event when :func:`~sonotype.phenotype.phenotype` is given no grouping.
DEFAULT_ANIMAL = "animal"

#: What ``animals=`` accepts: one name, a mapping or function from recording to animal, or
#: one animal per event.
Animals = str | Mapping[str, str] | Callable[[str], str] | Sequence[str] | np.ndarray | pd.Series


def animal_of(
    recordings: Iterable[str],
    *,
    by: str = "folder",
    level: int = 1,
    pattern: str | re.Pattern[str] | None = None,
) -> np.ndarray:
    """The animal of each recording, read from its path.

    Parameters
    ----------
    recordings : iterable of str
        Recording names, such as an Events table's ``recording`` column. Both ``/`` and
        ``\\`` separate folders.
    by : {"folder", "regex"}
        Read the animal from a folder of the path, or from a pattern in it.
    level : int
        With ``by="folder"``: how many folders up from the file the animal's folder is;
        1 (the default) is the folder holding the recording.
    pattern : str or compiled pattern, optional
        With ``by="regex"``: a regular expression with a named group ``animal``, searched
        (not matched from the start) in each recording's path.

    Returns
    -------
    ndarray of str, shape (n_recordings,)
        The animal of each recording, in the order given.

    Raises
    ------
    ParameterError
        An unknown ``by``; ``level`` below 1 or deeper than a recording's path; a pattern
        that does not compile or has no ``animal`` group; a recording the pattern does not
        find (the message names it and counts the others).

    Examples
    --------
    >>> animal_of(["bird1/day1/a.wav", "bird2/day1/b.wav"], level=2).tolist()
    ['bird1', 'bird2']
    >>> animal_of(["songs/gy6or6_0808.cbin"], by="regex",
    ...           pattern=r"(?P<animal>[a-z]{2}\\d[a-z]{2}\\d)").tolist()
    ['gy6or6']
    """
    names = [str(r) for r in recordings]
    distinct, inverse = np.unique(np.asarray(names, dtype=object).astype(str), return_inverse=True)
    if by == "folder":
        found = _by_folder(distinct.tolist(), level)
    elif by == "regex":
        found = _by_regex(distinct.tolist(), pattern)
    else:
        raise ParameterError(
            f"by={by!r} is not a way to find the animal; use one of {', '.join(GROUPINGS)}"
        )
    return np.asarray(found, dtype=object)[inverse.ravel()].astype(str)


def animals_of_events(events: pd.DataFrame, animals: Animals | None) -> np.ndarray:
    """The animal of every event of a (validated) Events table, as ``animals=`` says.

    ``None``: every event is one animal, :data:`DEFAULT_ANIMAL`; a str: every event is that
    animal; a mapping or a function: applied to each recording name; otherwise one animal
    per event, row-aligned with ``events`` (for instance :func:`animal_of` of its
    ``recording`` column).
    """
    n = len(events)
    recordings = events["recording"].to_numpy(dtype=object).astype(str)
    if animals is None:
        return np.full(n, DEFAULT_ANIMAL, dtype=object).astype(str)
    if isinstance(animals, str):
        if not animals:
            raise ParameterError("animals='' is empty; name the animal, or pass None")
        return np.full(n, animals, dtype=object).astype(str)
    if isinstance(animals, Mapping) or callable(animals):
        distinct, inverse = np.unique(recordings, return_inverse=True)
        found = []
        for recording in distinct.tolist():
            if isinstance(animals, Mapping):
                if recording not in animals:
                    missing = [r for r in distinct.tolist() if r not in animals]
                    others = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
                    raise ParameterError(
                        f"animals has no animal for recording {recording!r}{others}; "
                        "map every recording of the events to its animal"
                    )
                found.append(animals[recording])
            else:
                found.append(animals(recording))
        return _checked_names(np.asarray(found, dtype=object)[inverse.ravel()])
    values = np.asarray(animals, dtype=object)
    if values.ndim != 1 or len(values) != n:
        raise ParameterError(
            f"animals has shape {values.shape} but the events have {n} rows; pass one "
            "animal per event (e.g. animal_of(events['recording'], ...)), one name, a "
            "mapping from recording to animal, or None"
        )
    return _checked_names(values)


def _checked_names(values: np.ndarray) -> np.ndarray:
    bad = np.flatnonzero(pd.isna(values) | (values.astype(str) == ""))
    if len(bad):
        raise ParameterError(
            f"animals gives no animal for event {bad[0] + 1} ({len(bad)} events in all); "
            "every event needs an animal name"
        )
    return values.astype(str)


def _by_folder(recordings: list[str], level: int) -> list[str]:
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or level < 1:
        raise ParameterError(
            f"level={level!r} must be a whole number >= 1: the folder holding the recording "
            "is 1, its parent 2, ...; the default is 1"
        )
    found = []
    for recording in recordings:
        parts = PurePosixPath(recording.replace("\\", "/")).parts
        if len(parts) <= level:
            raise ParameterError(
                f"recording {recording!r} has no folder {level} level{'s' if level > 1 else ''}"
                " up from the file; pick a smaller level, find the animal with "
                "by='regex', or pass animals= explicitly"
            )
        found.append(parts[-1 - level])
    return found


def _by_regex(recordings: list[str], pattern: str | re.Pattern[str] | None) -> list[str]:
    if pattern is None:
        raise ParameterError(
            "by='regex' needs pattern=, a regular expression with a named group 'animal', "
            "such as r'(?P<animal>[a-z]{2}\\d[a-z]{2}\\d)'"
        )
    try:
        compiled = re.compile(pattern)
    except (re.error, TypeError) as error:
        raise ParameterError(f"pattern={pattern!r} is not a regular expression: {error}") from None
    if "animal" not in compiled.groupindex:
        raise ParameterError(
            f"pattern={compiled.pattern!r} has no named group 'animal'; write the part that "
            "names the animal as (?P<animal>...)"
        )
    found: list[str | None] = []
    for recording in recordings:
        match = compiled.search(recording)
        found.append(match.group("animal") if match else None)
    missing = [r for r, a in zip(recordings, found, strict=True) if not a]
    if missing:
        others = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ParameterError(
            f"pattern={compiled.pattern!r} finds no animal in recording {missing[0]!r}{others}; "
            "widen the pattern, or pass animals= explicitly"
        )
    return [str(a) for a in found]
