"""Named registries of interchangeable parts (annotation formats, detectors, embedders, ...).

A registry maps names to objects. Registering a name twice is an error, looking up an unknown
name lists the valid ones, and third-party plugins arrive through a Python entry-point group
that is loaded the first time the registry is consulted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from sonotype.errors import ParameterError, RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from names to registered objects of one kind.

    Parameters
    ----------
    kind : str
        What the registry holds, for messages ("annotation format").
    entry_point_group : str, optional
        Entry-point group that plugins use to add entries, e.g. ``"sonotype.formats"``.
        Each entry point must load an object that registers itself on import, or the
        object to register under the entry point's name.
    """

    def __init__(self, kind: str, *, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, T] = {}
        self._plugins_loaded = entry_point_group is None

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers its target under ``name``."""

        def decorate(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorate

    def add(self, name: str, obj: T) -> None:
        """Register ``obj`` under ``name``; a name already taken is an error."""
        if name in self._entries:
            raise RegistryError(
                f"{self.kind} {name!r} is already registered ({self._entries[name]!r}); "
                "choose another name"
            )
        self._entries[name] = obj

    def get(self, name: str) -> T:
        """The object registered as ``name``; unknown names raise :class:`ParameterError`."""
        self._load_plugins()
        try:
            return self._entries[name]
        except KeyError:
            raise ParameterError(
                f"unknown {self.kind} {name!r}; valid names: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        self._load_plugins()
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for entry_point in entry_points(group=self.entry_point_group):
            obj = entry_point.load()
            if entry_point.name not in self._entries:
                self.add(entry_point.name, obj)
