"""Importing umap-learn with a persistent numba cache and a layout kernel that releases
the GIL.

numba compilation cache: umap-learn compiles most of its functions without
``cache=True``, so every new process paid ~15-25 s compiling them (here, measured). The
first time sonotype imports umap-learn (never at ``import sonotype``) it points numba's
cache at a persistent per-user folder, ``$SONOTYPE_CACHE_DIR/numba`` or
``~/.cache/sonotype/numba`` (or ``$XDG_CACHE_HOME/sonotype/numba``; a ``NUMBA_CACHE_DIR``
set by the user wins), and turns caching on for umap-learn's compiled functions (one
cache entry per function and signature; numba invalidates entries when umap-learn or
numba change). A fresh process then imports umap-learn and fits a small UMAP in ~4 s
instead of ~25 s. pynndescent's NN-descent cannot be cached (its functions take the
distance function as an argument, whose type numba ties to a memory address), so the
NN-descent path still compiles for 20-50 s per process; hence exact neighbours whenever
they are affordable (:mod:`sonotype.reduce.umap_neighbors`).

Layouts in threads: umap-learn's per-epoch layout kernel is compiled without ``nogil``, so
threads would take turns; on first use sonotype replaces it (in umap-learn's ``layouts``
module) by the same Python function compiled with ``nogil=True`` and ``cache=True``
(:func:`layout_releases_gil` says whether that worked).
"""

from __future__ import annotations

import threading
import warnings

from sonotype.numba_cache import point_numba_cache

_import_lock = threading.Lock()
_umap = None
_nogil_layout = False


def _cache_umap_functions(umap_modules) -> int:
    """Turn numba caching on for umap-learn's compiled functions; returns how many.

    Two dispatchers compiled from the same Python function (umap-learn's serial and parallel
    layout kernels) would share one cache entry, so only the first one of each (serial
    before parallel) is cached.
    """
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    seen: set[int] = set()
    enabled = 0
    for module in umap_modules:
        dispatchers = [obj for obj in vars(module).values() if isinstance(obj, Dispatcher)]
        dispatchers.sort(key=lambda d: bool(d.targetoptions.get("parallel")))
        for dispatcher in dispatchers:
            if id(dispatcher.py_func) in seen:
                continue
            seen.add(id(dispatcher.py_func))
            if isinstance(dispatcher._cache, NullCache):
                try:
                    dispatcher.enable_caching()
                except RuntimeError:  # no writable cache location: stays uncached
                    continue
                enabled += 1
    return enabled


def _release_gil_in_layout(layouts) -> bool:
    """Compile umap-learn's serial per-epoch layout kernel with ``nogil=True`` (and
    ``cache=True``) in place of its own, so that layouts can run in parallel threads."""
    import numba

    name = "_nb_optimize_layout_euclidean_single_epoch"
    current = getattr(layouts, name, None)
    py_func = getattr(layouts, "_optimize_layout_euclidean_single_epoch", None)
    if current is None or py_func is None:
        return False  # another umap-learn version: layouts run one at a time
    if current.targetoptions.get("nogil"):
        return True
    try:
        kernel = numba.njit(py_func, fastmath=True, parallel=False, nogil=True, cache=True)
    except RuntimeError:
        kernel = numba.njit(py_func, fastmath=True, parallel=False, nogil=True)
    setattr(layouts, name, kernel)
    return True


def import_umap():
    """Import umap-learn with numba's persistent cache configured (see the module notes).

    Returns the ``umap`` module. Thread-safe; the set-up runs once per process.
    """
    global _umap, _nogil_layout
    with _import_lock:
        if _umap is None:
            point_numba_cache()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import umap
                import umap.distances
                import umap.layouts
                import umap.sparse
                import umap.spectral
                import umap.umap_
                import umap.utils
            _nogil_layout = _release_gil_in_layout(umap.layouts)
            _cache_umap_functions(
                [umap.umap_, umap.layouts, umap.utils, umap.distances, umap.spectral, umap.sparse]
            )
            _umap = umap
    return _umap


def layout_releases_gil() -> bool:
    """Whether umap-learn's layout kernel now releases the GIL (after :func:`import_umap`),
    so that several layouts can run in threads of one process."""
    return _nogil_layout
