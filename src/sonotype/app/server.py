"""The app's server: a FastAPI application over one project, and how to run it.

Every request passes :func:`_guard` first: off loopback it needs the token, on loopback its
``Host`` must be this machine (a web page elsewhere cannot reach the server by pointing a DNS
name at 127.0.0.1). Errors of the library become JSON ``{"detail": message}`` with 400 (bad
input), 403 (a refused path), 404 (nothing there) or 409 (a run that cannot be cancelled).
"""

from __future__ import annotations

import contextlib
import webbrowser
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from sonotype._version import __version__
from sonotype.app import security
from sonotype.app.state import AppState
from sonotype.errors import ParameterError, SonotypeError
from sonotype.store.project import find_project
from sonotype.store.runs import RunNotRunningError

STATIC = Path(__file__).parent / "static"


class NotFound(SonotypeError, LookupError):
    """Nothing has the id or name asked for."""


def create_app(folder: Path | str, *, token: str | None = None) -> FastAPI:
    """The app for the project in ``folder``; ``token`` (None: none) guards every request."""
    from sonotype.app.api import events, explore, files, jobs, recordings

    state = AppState(find_project(folder), token=token)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        state.close()

    app = FastAPI(
        lifespan=lifespan,
        title="sonotype",
        version=__version__,
        description="Look at, listen to, annotate, review and explore a sonotype project. "
        "See docs/app.md.",
    )
    app.state.sonotype = state

    @app.middleware("http")
    async def _guard(request: Request, call_next):
        refused = _refusal(state, request)
        if refused is not None:
            return refused
        response = await call_next(request)
        given, in_url = security.request_token(
            dict(request.query_params), dict(request.headers), dict(request.cookies)
        )
        if state.token and in_url:
            response.set_cookie(
                security.TOKEN_COOKIE, given, httponly=True, samesite="strict", path="/"
            )
        return response

    @app.exception_handler(SonotypeError)
    async def _error(request: Request, error: SonotypeError):
        if isinstance(error, security.PathRefused):
            status = 403
        elif isinstance(error, (NotFound, LookupError)):
            status = 404
        elif isinstance(error, RunNotRunningError):
            status = 409
        else:
            status = 400
        return JSONResponse({"detail": str(error)}, status_code=status)

    for module in (recordings, events, explore, jobs, files):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _refusal(state: AppState, request: Request) -> Response | None:
    """The answer refusing ``request``, or None to let it through."""
    if state.token is not None:
        given, _ = security.request_token(
            dict(request.query_params), dict(request.headers), dict(request.cookies)
        )
        if not security.token_matches(given, state.token):
            return JSONResponse(
                {"detail": "this server needs its token: open the URL that `sonotype app` "
                 "printed (it ends in ?token=...)"},
                status_code=401,
            )  # fmt: skip
        return None
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name not in state.hosts:
        return JSONResponse(
            {"detail": f"Host {host!r} is not this machine; open http://127.0.0.1 instead"},
            status_code=403,
        )
    return None


def state_of(request: Request) -> AppState:
    return request.app.state.sonotype


def serve(
    folder: Path | str,
    *,
    host: str = "127.0.0.1",
    port: int = 5006,
    open_browser: bool = False,
    token: str | None = None,
    announce=print,
) -> None:
    """Run the app until interrupted; off loopback with a token (made when not given).

    ``announce`` is called with the URL to open (with the token in it), before serving.
    """
    security.check_host(host, port)
    if token is None and not security.is_loopback(host):
        token = security.make_token()
    elif token is not None and not token:
        raise ParameterError("token='': give a token or none", parameter="token")
    app = create_app(folder, token=token)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    announce(url)
    if open_browser:
        webbrowser.open(url)
    run_server(app, host=host, port=port)


def run_server(app: FastAPI, *, host: str, port: int) -> None:
    """Serve ``app`` with uvicorn until Ctrl-C or SIGTERM.

    Open pages keep a change stream open, and uvicorn waits for open responses before it
    stops: the streams are told to end (``stopping``) when the signal comes.
    """
    import uvicorn

    state = app.state.sonotype

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            state.stopping = True
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5
    )
    Server(config).run()
