"""What an embedder is, the registry of embedders, and how to make one by name.

An embedder maps per-syllable inputs (spectrograms, feature tables), row-aligned with an
Events table, to an ``(n, d)`` float32 embedding. Embedders follow the scikit-learn
estimator contract: ``__init__`` only stores its keyword arguments, :meth:`fit` validates
them and the data and returns ``self``, fitted attributes end in ``_``, and anything
stochastic takes a ``random_state``. Third-party embedders register themselves through the
``sonotype.embedders`` entry-point group.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sonotype.errors import ParameterError
from sonotype.registry import Registry

EMBEDDERS: Registry[type] = Registry("embedder", entry_point_group="sonotype.embedders")

E = TypeVar("E", bound=type)


def register_embedder(name: str) -> Callable[[E], E]:
    """Class decorator: register an embedder class under ``name`` (and set ``cls.name``).

    Examples
    --------
    >>> @register_embedder("identity-example")          # doctest: +SKIP
    ... class Identity(Embedder): ...
    """

    def decorate(cls: E) -> E:
        EMBEDDERS.add(name, cls)
        cls.name = name
        return cls

    return decorate


def make_embedder(name: str, **params: Any):
    """An unfitted embedder ``name`` with ``params``; unknown parameters are an error that
    lists the valid ones.

    Examples
    --------
    >>> make_embedder("pca", n_components=8)
    PCAEmbedder(n_components=8)
    """
    cls = EMBEDDERS.get(name)
    valid = embedder_parameters(cls)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ParameterError(
            f"embedder {name!r} has no parameter {', '.join(unknown)}; its parameters are "
            f"{', '.join(valid) or '(none)'}"
        )
    return cls(**params)


def embedder_parameters(cls: type) -> list[str]:
    """The keyword parameters of an embedder class, in signature order."""
    signature = inspect.signature(cls.__init__)
    return [
        p.name
        for p in signature.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


class Embedder(BaseEstimator, ABC):
    """Base class of sonotype's embedders (a scikit-learn estimator).

    Subclasses implement :meth:`fit` and :meth:`transform`; :meth:`fit_transform` fits
    and transforms the same rows.
    """

    #: Registry name, set by :func:`register_embedder`.
    name: ClassVar[str] = ""

    @abstractmethod
    def fit(self, X, y=None):
        """Learn the embedding from ``X``; return ``self``."""

    @abstractmethod
    def transform(self, X) -> np.ndarray:
        """The embedding of ``X``, float32, shape ``(n, d)``."""

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit to ``X`` and return its embedding, float32, shape ``(n, d)``."""
        return self.fit(X, y).transform(X)

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self)
        except NotFittedError:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X) first"
            ) from None
