"""Files: the project's reports, artifacts and audio roots, and nothing else.

``/files/reports/PATH``, ``/files/artifacts/PATH`` and ``/files/audio/N/PATH`` (the N-th
audio root of sonotype.toml, from 0) serve files under those folders; absolute paths, ``..``
and symbolic links that lead out of the folder are refused (403).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from sonotype.app.security import PathRefused, safe_path

router = APIRouter(prefix="/files", tags=["files"])


def _state(request: Request):
    from sonotype.app.server import state_of

    return state_of(request)


def _send(state, base, path: str) -> FileResponse:
    from sonotype.app.server import NotFound

    found = safe_path(base, path)
    private = found.name.startswith(("sonotype.db", "sonotype.toml"))
    if private and found.parent == state.folder.resolve():
        # An audio root may be the project folder itself: its database and config stay private.
        raise PathRefused(f"{path}: the project's database and config are not served")
    if not found.is_file():
        raise NotFound(f"{path}: no such file")
    return FileResponse(found)


@router.get("/reports/{path:path}")
def report_file(request: Request, path: str):
    """A file under ``reports/`` (HTML reports, catalogs, plots)."""
    state = _state(request)
    return _send(state, state.folder / "reports", path)


@router.get("/artifacts/{path:path}")
def artifact_file(request: Request, path: str):
    """A file under ``artifacts/``."""
    state = _state(request)
    return _send(state, state.folder / "artifacts", path)


@router.get("/audio/{root}/{path:path}")
def audio_file(request: Request, root: int, path: str):
    """A file under audio root number ``root`` (as listed in sonotype.toml, from 0)."""
    state = _state(request)
    roots = state.project.audio_roots
    if not 0 <= root < len(roots):
        raise PathRefused(f"audio root {root}: the project has {len(roots)} (0-{len(roots) - 1})")
    return _send(state, roots[root][1], path)
