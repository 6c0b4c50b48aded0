"""Parameter checks shared by every layer: one signature, one style of message.

Every check takes the value first and the rest by keyword, returns the value converted
(``int``, ``float``, a tuple, an array), and raises a :class:`~sonotype.errors.ParameterError`
whose ``parameter`` attribute is ``name`` and whose message names the parameter, the value
received, the constraint and the fix::

    time_sigma=-3 must be a number > 0; the default is 9

``default`` (shown as "the default is ...") and ``hint`` (any other advice) end the message;
a ``default`` given as a str is shown as written, so that ``"range(2, 21)"`` reads as code.

Examples
--------
>>> check_int(5, name="n_clusters", minimum=2)
5
>>> check_number(-3, name="time_sigma", minimum=0, inclusive="neither", default=9)
Traceback (most recent call last):
...
sonotype.errors.ParameterError: time_sigma=-3 must be a number > 0; the default is 9
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

import numpy as np

from sonotype.errors import ParameterError

#: Accepted values of ``inclusive``: which bounds of ``[minimum, maximum]`` are allowed,
#: as in :meth:`pandas.Series.between`.
INCLUSIVE = ("both", "neither", "left", "right")


def _shown(default: Any) -> str:
    return default if isinstance(default, str) else repr(default)


def _fail(name: str, value: Any, constraint: str, *, default: Any, hint: str | None):
    """A ParameterError "{name}={value!r} must {constraint}; the default is ...; {hint}"."""
    message = f"{name}={value!r} must {constraint}"
    if default is not None:
        message += f"; the default is {_shown(default)}"
    if hint:
        message += f"; {hint}"
    return ParameterError(message, parameter=name)


def _bounds(minimum: Any, maximum: Any, inclusive: str) -> str:
    """ " in [0, 1]", " > 0", " <= 5" or "" for the constraint text."""
    low = inclusive in ("both", "left")
    high = inclusive in ("both", "right")
    if minimum is not None and maximum is not None:
        return f" in {'[' if low else '('}{minimum:g}, {maximum:g}{']' if high else ')'}"
    if minimum is not None:
        return f" {'>=' if low else '>'} {minimum:g}"
    if maximum is not None:
        return f" {'<=' if high else '<'} {maximum:g}"
    return ""


def _within(number: float, minimum: Any, maximum: Any, inclusive: str) -> bool:
    if inclusive not in INCLUSIVE:
        raise ParameterError(
            f"inclusive={inclusive!r} must be one of {', '.join(map(repr, INCLUSIVE))}",
            parameter="inclusive",
        )
    low = inclusive in ("both", "left")
    high = inclusive in ("both", "right")
    if minimum is not None and not (number >= minimum if low else number > minimum):
        return False
    return maximum is None or (number <= maximum if high else number < maximum)


def check_int(
    value: Any,
    *,
    name: str,
    minimum: int | None = None,
    maximum: int | None = None,
    default: Any = None,
    hint: str | None = None,
) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]`` (bools and floats are refused).

    Examples
    --------
    >>> check_int(0, name="n_components", minimum=1, default=2)
    Traceback (most recent call last):
    ...
    sonotype.errors.ParameterError: n_components=0 must be an integer >= 1; the default is 2
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, Integral)
        or not _within(int(value), minimum, maximum, "both")
    ):
        constraint = "be an integer" + _bounds(minimum, maximum, "both")
        raise _fail(name, value, constraint, default=default, hint=hint)
    return int(value)


def check_number(
    value: Any,
    *,
    name: str,
    minimum: float | None = None,
    maximum: float | None = None,
    inclusive: str = "both",
    default: Any = None,
    hint: str | None = None,
    allow_inf: bool = False,
    unit: str | None = None,
) -> float:
    """``value`` as a ``float`` between ``minimum`` and ``maximum``; NaN is always refused,
    infinities unless ``allow_inf``. ``unit`` (e.g. ``"seconds"``) is named in the message.

    Examples
    --------
    >>> check_number(0.5, name="min_iou", minimum=0, maximum=1, inclusive="right")
    0.5
    >>> check_number(float("inf"), name="tolerance_s", minimum=0, unit="seconds")
    Traceback (most recent call last):
    ...
    sonotype.errors.ParameterError: tolerance_s=inf must be a finite number of seconds >= 0
    """
    # Numbers only (numpy scalars and 0-d arrays included): a str or a bool is a mistake.
    numeric = isinstance(value, Real) or (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"
    )
    number = float(value) if numeric and not isinstance(value, bool) else math.nan
    finite = math.isfinite(number) or (allow_inf and math.isinf(number))
    if not finite or not _within(number, minimum, maximum, inclusive):
        kind = "be a finite number" if math.isinf(number) else "be a number"
        constraint = kind + (f" of {unit}" if unit else "") + _bounds(minimum, maximum, inclusive)
        raise _fail(name, value, constraint, default=default, hint=hint)
    return number


def check_choice(
    value: Any, *, name: str, choices: Iterable[Any], default: Any = None, hint: str | None = None
) -> Any:
    """``value`` if it is one of ``choices``, else an error listing them.

    Examples
    --------
    >>> check_choice("ward", name="linkage", choices=("ward", "single"))
    'ward'
    >>> check_choice("wrd", name="linkage", choices=("ward", "single"), default="ward")
    Traceback (most recent call last):
    ...
    sonotype.errors.ParameterError: linkage='wrd' must be one of 'ward', 'single'; the default is 'ward'
    """  # noqa: E501
    choices = tuple(choices)
    try:
        known = value in choices
    except TypeError:  # an unhashable or uncomparable value is no choice
        known = False
    if not known:
        constraint = f"be one of {', '.join(map(repr, choices))}"
        shown = None if default is None else repr(default)
        raise _fail(name, value, constraint, default=shown, hint=hint)
    return value


def check_text(value: Any, *, name: str, default: Any = None, hint: str | None = None) -> str:
    """``value`` if it is a non-empty ``str``.

    Examples
    --------
    >>> check_text("background", name="background")
    'background'
    """
    if not isinstance(value, str) or not value:
        shown = None if default is None else repr(default)
        raise _fail(name, value, "be a non-empty str", default=shown, hint=hint)
    return value


def _grid_items(values: Any, scalar: type) -> tuple[list[Any], Any]:
    """The items of a grid given as one value or an iterable, and how to show it."""
    if isinstance(values, scalar) and not isinstance(values, bool):
        return [values], values
    try:
        items = list(values)
    except TypeError:
        return [values], values
    shown = tuple(items) if isinstance(values, (list, tuple, range)) else values
    return items, shown


def check_int_grid(
    values: Any, *, name: str, minimum: int, default: Any = None, hint: str | None = None
) -> tuple[int, ...]:
    """A non-empty grid of integers ``>= minimum`` (one int or an iterable), duplicates
    dropped, order kept.

    Examples
    --------
    >>> check_int_grid(range(2, 5), name="n_clusters", minimum=2)
    (2, 3, 4)
    >>> check_int_grid((1, 5), name="min_cluster_size", minimum=2, default=(5, 10))
    Traceback (most recent call last):
    ...
    sonotype.errors.ParameterError: min_cluster_size=(1, 5) must hold integers >= 2; the default is (5, 10)
    """  # noqa: E501
    items, shown = _grid_items(values, Integral)
    if not items:
        raise _fail(name, shown, "be non-empty", default=default, hint=hint)
    if not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= minimum for v in items):
        raise _fail(name, shown, f"hold integers >= {minimum}", default=default, hint=hint)
    return tuple(dict.fromkeys(int(v) for v in items))


def check_number_grid(
    values: Any,
    *,
    name: str,
    minimum: float | None = None,
    maximum: float | None = None,
    inclusive: str = "both",
    default: Any = None,
    hint: str | None = None,
) -> tuple[float, ...]:
    """A non-empty grid of finite numbers within the bounds (one number or an iterable),
    duplicates dropped, order kept.

    Examples
    --------
    >>> check_number_grid([0.1, 0.5], name="min_dist", minimum=0, maximum=1)
    (0.1, 0.5)
    """
    items, shown = _grid_items(values, Real)
    for item in items:
        number = float(item) if isinstance(item, Real) and not isinstance(item, bool) else math.nan
        if not math.isfinite(number) or not _within(number, minimum, maximum, inclusive):
            constraint = "hold numbers" + _bounds(minimum, maximum, inclusive)
            raise _fail(name, shown, constraint, default=default, hint=hint)
    if not items:
        raise _fail(name, shown, "be non-empty", default=default, hint=hint)
    return tuple(dict.fromkeys(float(v) for v in items))


def check_random_state(value: Any, *, name: str = "random_state") -> int | None:
    """``value`` if it is ``None`` or an integer ``>= 0`` (a seed).

    Examples
    --------
    >>> check_random_state(None) is None
    True
    """
    if value is None:
        return None
    return check_int(value, name=name, minimum=0, hint="pass a seed such as 0, or None")


def check_sample_rate(value: Any, *, name: str = "sr") -> float:
    """``value`` as a positive, finite sample rate in Hz.

    Examples
    --------
    >>> check_sample_rate(32000)
    32000.0
    """
    return check_number(
        value,
        name=name,
        minimum=0,
        inclusive="neither",
        unit="samples per second",
        hint="pass the recording's rate in Hz, e.g. 32000",
    )


def check_matrix(
    X: Any,
    *,
    name: str = "X",
    min_rows: int = 1,
    n_rows: int | None = None,
    dtype: Any = np.float64,
    flatten: bool = False,
) -> np.ndarray:
    """``X`` as a C-contiguous finite array of shape ``(n, d)`` and type ``dtype``.

    ``flatten`` accepts ``(n, ...)`` and flattens each row; ``n_rows`` requires exactly
    that many rows (row-aligned with a table); ``dtype=None`` keeps a floating-point type
    and makes others float32. Rows holding NaN or infinite values are
    refused with their count and the first one.

    Examples
    --------
    >>> check_matrix(np.zeros((3, 4, 5)), flatten=True).shape
    (3, 20)
    >>> check_matrix([[0.0, 1.0], [float("nan"), 2.0], [3.0, 4.0]])
    Traceback (most recent call last):
    ...
    sonotype.errors.ParameterError: X has NaN or infinite values in 1 of 3 rows (first: row 1); drop or impute those rows
    """  # noqa: E501
    array = np.asarray(X)
    if array.dtype.kind not in "fiub":
        raise ParameterError(
            f"{name} has dtype {array.dtype}; pass a numeric array of shape (n_rows, n_columns)",
            parameter=name,
        )
    if array.ndim < 2 or (array.ndim > 2 and not flatten):
        raise ParameterError(
            f"{name} must be 2-D, shape (n_rows, n_columns); got shape {array.shape}; "
            f"reshape a single column with {name}.reshape(-1, 1)",
            parameter=name,
        )
    if n_rows is not None and array.shape[0] != n_rows:
        raise ParameterError(
            f"{name} has shape {array.shape}; it must be row-aligned with the table, one "
            f"row per row ({n_rows})",
            parameter=name,
        )
    if array.shape[0] < min_rows or (array.shape[0] and array.size == 0):
        raise ParameterError(
            f"{name} has shape {array.shape}; at least {min_rows} "
            f"row{'' if min_rows == 1 else 's'} and 1 column are needed",
            parameter=name,
        )
    if dtype is None:
        dtype = array.dtype if array.dtype.kind == "f" else np.float32
    array = np.ascontiguousarray(array.reshape(len(array), -1), dtype=dtype)
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise ParameterError(
            f"{name} has NaN or infinite values in {int(bad.sum())} of {array.shape[0]} rows "
            f"(first: row {int(np.flatnonzero(bad)[0])}); drop or impute those rows",
            parameter=name,
        )
    return array
