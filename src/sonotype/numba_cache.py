"""Where numba keeps compiled code: one persistent per-user folder, so compilation is paid
once per install, not in every process (umap-learn's kernels, the HDBSCAN spanning trees)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def numba_cache_dir() -> Path:
    """The per-user folder for numba's compiled code: ``$SONOTYPE_CACHE_DIR/numba``, else
    ``$XDG_CACHE_HOME/sonotype/numba``, else ``~/.cache/sonotype/numba``."""
    root = os.environ.get("SONOTYPE_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "numba"
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home).expanduser() / "sonotype" / "numba"


def point_numba_cache() -> None:
    """Set numba's cache folder to :func:`numba_cache_dir` (unless the user set
    ``NUMBA_CACHE_DIR``); best before numba is first imported."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    path = numba_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # numba falls back to its own locations
    os.environ["NUMBA_CACHE_DIR"] = str(path)  # read when numba is imported (and by children)
    if "numba" in sys.modules:  # already imported: later cache locators read its config
        sys.modules["numba"].config.CACHE_DIR = str(path)
