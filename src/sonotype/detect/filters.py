"""Filters whose output does not depend on how a recording is cut into blocks.

A detector run block by block must give the same result as a run over the whole file, bit for
bit, or a sample lying on a threshold may fall on different sides of it in the two runs. An
FFT convolution of a block is exact only up to rounding, and the rounding depends on where the
block starts and how long it is. The functions here remove that dependence:

- :func:`aligned_convolve` convolves by overlap-save over segments that sit at fixed multiples
  of the segment length in the *recording's* sample index, so each output sample comes out of
  the same FFT of the same input samples whichever block asked for it (given
  :func:`aligned_context` samples of context around it).
- :func:`moving_sum` sums a sliding window with one fixed tree of additions per output sample
  (a binary decomposition of the width), so the sum of a window is the same wherever the array
  holding it starts.

:func:`fir_bandpass` designs evsonganaly's band-pass FIR, and :func:`zero_phase` turns a FIR
into the kernel that filtering forward then backward applies (``scipy.signal.filtfilt``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.signal

from sonotype.errors import ParameterError

#: Order of evsonganaly's band-pass FIR (MATLAB's ``fir1(512, ...)``: 513 taps).
FIR_ORDER = 512


def fir_bandpass(
    sr: float, *, low_hz: float | None, high_hz: float | None, order: int = FIR_ORDER
) -> np.ndarray:
    """A linear-phase FIR (Hamming window, as MATLAB's ``fir1``) passing ``low_hz``-``high_hz``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    low_hz, high_hz : float or None
        Band edges in Hz; ``low_hz=None`` gives a low-pass, ``high_hz=None`` a high-pass.
    order : int
        Filter order, even (the filter has ``order + 1`` taps); evsonganaly uses 512.

    Returns
    -------
    ndarray, float64, shape (order + 1,)
        The taps, symmetric, with unit gain at the centre of the pass band.

    Examples
    --------
    >>> fir_bandpass(32000, low_hz=500, high_hz=10000).shape
    (513,)
    """
    if order < 2 or order % 2:
        raise ParameterError(f"order={order!r} must be an even number >= 2; the default is 512")
    nyquist = sr / 2
    for name, value in (("low_hz", low_hz), ("high_hz", high_hz)):
        if value is not None and not 0 < value < nyquist:
            raise ParameterError(
                f"{name}={value:g} must lie between 0 and half the sample rate "
                f"({nyquist:g} Hz at sr={sr:g})"
            )
    if low_hz is None and high_hz is None:
        raise ParameterError("fir_bandpass needs low_hz, high_hz or both")
    if low_hz is not None and high_hz is not None:
        if not low_hz < high_hz:
            raise ParameterError(f"low_hz={low_hz:g} must be below high_hz={high_hz:g}")
        cutoff, pass_zero = [low_hz, high_hz], "bandpass"
    elif low_hz is None:
        cutoff, pass_zero = high_hz, "lowpass"
    else:
        cutoff, pass_zero = low_hz, "highpass"
    return scipy.signal.firwin(order + 1, cutoff, pass_zero=pass_zero, fs=sr)


def zero_phase(taps: np.ndarray) -> np.ndarray:
    """The kernel of filtering with ``taps`` forward then backward (as ``filtfilt`` does).

    Returns ``convolve(taps, taps[::-1])``: odd length ``2 * len(taps) - 1``, symmetric,
    centred on its middle tap, with no delay.

    Examples
    --------
    >>> zero_phase(np.array([1.0, 2.0])).tolist()
    [2.0, 5.0, 2.0]
    """
    taps = np.asarray(taps, dtype=np.float64)
    return np.convolve(taps, taps[::-1])


def segment_fft_size(kernel_length: int) -> int:
    """FFT size :func:`aligned_convolve` uses for a kernel: a power of two, about 8 kernels."""
    return max(256, 1 << int(np.ceil(np.log2(8 * kernel_length))))


def aligned_context(kernel_length: int, n_fft: int | None = None) -> int:
    """Samples of context each side that :func:`aligned_convolve` needs to output a sample.

    Half the kernel plus one segment: the segment holding a sample may extend that far.
    """
    n_fft = n_fft or segment_fft_size(kernel_length)
    half = kernel_length // 2
    return half + (n_fft - 2 * half)


@lru_cache(maxsize=32)
def _kernel_spectrum(kernel_bytes: bytes, n_fft: int) -> np.ndarray:
    kernel = np.frombuffer(kernel_bytes, dtype=np.float64)
    return scipy.fft.rfft(kernel, n_fft)


def aligned_convolve(
    x: np.ndarray, kernel: np.ndarray, *, start: int, n_fft: int | None = None
) -> tuple[np.ndarray, int]:
    """Centred ("same") convolution of a block, identical to the bit whatever the block.

    Parameters
    ----------
    x : ndarray, shape (n,)
        Samples ``[start, start + n)`` of a longer signal (pad it with the values the signal
        takes beyond its ends, usually zeros, to get output there).
    kernel : ndarray, shape (2 * half + 1,)
        An odd-length kernel centred on its middle tap.
    start : int
        Index, in the whole signal, of ``x[0]``.
    n_fft : int, optional
        FFT size (default :func:`segment_fft_size`); must exceed ``len(kernel) - 1``. The
        same value must be used for every block of one signal.

    Returns
    -------
    out : ndarray, float64
        ``out[i] = sum_j kernel[j] * signal[out_start + i + half - j]`` for every sample whose
        aligned segment (``segment = n_fft - 2 * half`` outputs starting at a multiple of
        ``segment``) lies with its ``half`` samples of context inside ``x``; may be empty.
    out_start : int
        Index, in the whole signal, of ``out[0]``.

    Notes
    -----
    Each output sample is computed by one real FFT of ``n_fft`` input samples at a fixed
    place in the whole signal, so two blocks holding that place give the same bits: with
    :func:`aligned_context` samples of context on each side of a block's core, the core's
    output equals a whole-signal run exactly. One transform at a time (not batched) keeps
    the arithmetic free of any dependence on batch layout; the Python loop costs about
    0.1 ms per segment.

    Examples
    --------
    >>> x = np.arange(40.0)
    >>> out, out_start = aligned_convolve(x, np.array([0.0, 1.0, 0.0]), start=0, n_fft=8)
    >>> out_start, np.array_equal(np.round(out), x[out_start : out_start + len(out)])
    (6, True)
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.ascontiguousarray(kernel, dtype=np.float64)
    if len(kernel) % 2 != 1:
        raise ParameterError(f"the kernel has {len(kernel)} taps; it must have an odd number")
    half = len(kernel) // 2
    n_fft = n_fft or segment_fft_size(len(kernel))
    segment = n_fft - 2 * half
    if segment < 1:
        raise ParameterError(f"n_fft={n_fft} must exceed the kernel length minus one")
    first = -(-(start + half) // segment)  # first segment with its left context inside x
    stop = (start + len(x) - half) // segment  # segments [first, stop) fit
    if stop <= first:
        return np.zeros(0), first * segment
    spectrum = _kernel_spectrum(kernel.tobytes(), n_fft)
    out = np.empty((stop - first) * segment)
    for j, k in enumerate(range(first, stop)):
        left = k * segment - half - start
        circular = scipy.fft.irfft(scipy.fft.rfft(x[left : left + n_fft]) * spectrum, n_fft)
        out[j * segment : (j + 1) * segment] = circular[2 * half :]
    return out, first * segment


def moving_sum(x: np.ndarray, width: int) -> np.ndarray:
    """Sums of every ``width`` consecutive samples, each by the same additions wherever it is.

    Parameters
    ----------
    x : ndarray, shape (n,)
    width : int
        Window length in samples, at least 1.

    Returns
    -------
    ndarray, float64, shape (max(n - width + 1, 0),)
        ``out[i] = x[i] + ... + x[i + width - 1]``.

    Notes
    -----
    Sums over windows of 1, 2, 4, ... samples are built by doubling, and a window of
    ``width`` samples adds the powers of two of its binary expansion in a fixed order: each
    output takes ``O(log width)`` additions and depends on the bits of its own samples only,
    unlike a cumulative-sum difference (whose rounding depends on everything before it).

    Examples
    --------
    >>> moving_sum(np.array([1.0, 2.0, 3.0, 4.0]), 3).tolist()
    [6.0, 9.0]
    """
    x = np.asarray(x, dtype=np.float64)
    if width < 1:
        raise ParameterError(f"width={width!r} must be at least one sample")
    n = len(x) - width + 1
    if n <= 0:
        return np.zeros(0)
    total = None
    offset = 0
    power, size = x, 1  # power[i] = x[i] + ... + x[i + size - 1]
    remaining = width
    while True:
        if remaining & 1:
            part = power[offset : offset + n]
            total = part.copy() if total is None else np.add(total, part, out=total)
            offset += size
        remaining >>= 1
        if not remaining:
            return total
        power = power[:-size] + power[size:]
        size *= 2
