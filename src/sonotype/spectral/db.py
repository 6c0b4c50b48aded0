"""Decibel scaling of power and amplitude spectrograms, as librosa defines it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sonotype.errors import ParameterError

Reference = float | Callable[[np.ndarray], float]


def power_to_db(
    S: np.ndarray, *, ref: Reference = 1.0, amin: float = 1e-10, top_db: float | None = 80.0
) -> np.ndarray:
    """Power to decibels: ``10 * log10(max(amin, S) / max(amin, ref))``, floored at
    ``top_db`` below the peak; identical to ``librosa.power_to_db``.

    Parameters
    ----------
    S : ndarray, shape (...)
        Non-negative power values, e.g. from :func:`power_spectrogram`.
    ref : float or callable
        Reference power for 0 dB, or a function of ``S`` that returns it (``np.max``
        puts the loudest bin at 0 dB).
    amin : float
        Smallest power considered, > 0 (avoids log of zero).
    top_db : float or None
        Floor the result at ``top_db`` dB below its maximum (over the whole array, so
        block-wise results differ from whole-signal ones); ``None`` keeps everything.

    Returns
    -------
    ndarray, shape (...)
        Values in dB, of ``S``'s floating dtype.

    Examples
    --------
    >>> power_to_db(np.array([1.0, 10.0, 100.0]))
    array([ 0., 10., 20.])
    >>> power_to_db(np.array([1e-12, 1.0]), ref=np.max, top_db=60.0)
    array([-60.,   0.])
    """
    S = _real(S, "power_to_db", "np.abs(D) ** 2")
    if not amin > 0:
        raise ParameterError(f"amin={amin!r} must be positive; the default is 1e-10 for power")
    if top_db is not None and not top_db >= 0:
        raise ParameterError(
            f"top_db={top_db!r} must be >= 0 (dB below the peak), or None for no floor"
        )
    ref_value = ref(S) if callable(ref) else np.abs(ref)
    log_spec = 10.0 * np.log10(np.maximum(amin, S))
    log_spec -= 10.0 * np.log10(np.maximum(amin, ref_value))
    if top_db is not None:
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec


def amplitude_to_db(
    S: np.ndarray, *, ref: Reference = 1.0, amin: float = 1e-5, top_db: float | None = 80.0
) -> np.ndarray:
    """Amplitude to decibels: ``20 * log10(max(amin, S) / max(amin, ref))``, floored at
    ``top_db`` below the peak; identical to ``librosa.amplitude_to_db``.

    Parameters
    ----------
    S : ndarray, shape (...)
        Non-negative magnitudes, e.g. from :func:`magnitude_spectrogram`.
    ref : float or callable
        Reference amplitude for 0 dB, or a function of ``S`` that returns it.
    amin : float
        Smallest amplitude considered, > 0.
    top_db : float or None
        Floor at ``top_db`` dB below the maximum; ``None`` keeps everything.

    Returns
    -------
    ndarray, shape (...)
        Values in dB.

    Examples
    --------
    >>> amplitude_to_db(np.array([1.0, 10.0, 0.1]))
    array([  0.,  20., -20.])
    """
    S = _real(S, "amplitude_to_db", "np.abs(D)")
    if not amin > 0:
        raise ParameterError(f"amin={amin!r} must be positive; the default is 1e-5 for amplitude")
    S = np.abs(S)
    ref_value = ref(S) if callable(ref) else np.abs(ref)
    return power_to_db(np.square(S), ref=ref_value**2, amin=amin**2, top_db=top_db)


def db_to_power(S_db: np.ndarray, *, ref: float = 1.0) -> np.ndarray:
    """Inverse of :func:`power_to_db` (without the floor): ``ref * 10 ** (S_db / 10)``.

    Examples
    --------
    >>> db_to_power(np.array([0.0, 20.0]))
    array([  1., 100.])
    """
    return ref * np.power(10.0, 0.1 * np.asarray(S_db))


def db_to_amplitude(S_db: np.ndarray, *, ref: float = 1.0) -> np.ndarray:
    """Inverse of :func:`amplitude_to_db` (without the floor): ``ref * 10 ** (S_db / 20)``.

    Examples
    --------
    >>> db_to_amplitude(np.array([0.0, 20.0]))
    array([ 1., 10.])
    """
    return ref * np.power(10.0, 0.05 * np.asarray(S_db))


def _real(S, function: str, fix: str) -> np.ndarray:
    S = np.asarray(S)
    if np.iscomplexobj(S):
        raise ParameterError(
            f"{function} got a complex array (dtype {S.dtype}); pass {fix} instead of the "
            "complex STFT"
        )
    if S.dtype.kind != "f":
        S = S.astype(np.float64)
    return S
