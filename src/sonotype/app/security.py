"""What the app lets a browser reach: a token off loopback, and files only from the
project's audio roots, artifacts and reports.

On 127.0.0.1 only this machine's users can connect, as with Jupyter; on any other address the
server makes a random token (printed at start, and put in the URL it prints) and refuses every
request without it, audio and images included. The page keeps the token in a cookie the
server sets on the first request that carries it, so ``<img>`` and ``<audio>`` sources work.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from pathlib import Path, PurePosixPath

from sonotype.errors import ParameterError, SonotypeError

TOKEN_COOKIE = "sonotype_token"
TOKEN_PARAMETER = "token"


class PathRefused(SonotypeError):
    """A path the app does not serve (outside its folders, ``..``, absolute, a symlink out)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_token() -> str:
    """A random token: 32 bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def token_matches(given: str | None, token: str) -> bool:
    """Compare in constant time (no timing hints about the token)."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def request_token(query: dict, headers: dict, cookies: dict) -> tuple[str | None, bool]:
    """The token a request carries, and whether it came in the URL (then it is put in a
    cookie): ``?token=``, ``Authorization: token ...`` or the cookie."""
    if TOKEN_PARAMETER in query:
        return query[TOKEN_PARAMETER], True
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() in ("token", "bearer") and value:
        return value.strip(), False
    return cookies.get(TOKEN_COOKIE), False


def safe_path(base: Path, relative: str) -> Path:
    """``base / relative``, refusing absolute paths, ``..`` and anything that resolves (through
    symlinks) outside ``base``.

    Raises
    ------
    PathRefused
        With the reason; the server answers 403.
    """
    if not relative or "\x00" in relative:
        raise PathRefused("empty path or a NUL byte in it")
    if (
        relative.startswith(("/", "\\"))
        or PurePosixPath(relative).is_absolute()
        or (len(relative) > 1 and relative[1] == ":")
    ):
        raise PathRefused(f"{relative!r} is absolute; give a path inside the folder")
    parts = relative.replace("\\", "/").split("/")
    if ".." in parts:
        raise PathRefused(f"{relative!r} holds '..'; give a path inside the folder")
    root = base.resolve()
    resolved = (root / relative).resolve()
    if not resolved.is_relative_to(root):
        raise PathRefused(f"{relative!r} leads outside its folder (a symbolic link)")
    return resolved


def check_host(host: str, port: int) -> None:
    """Check the address to bind before starting."""
    if not host:
        raise ParameterError("host='': give an address such as 127.0.0.1", parameter="host")
    if not 0 < port < 65536:
        raise ParameterError(
            f"port={port} must be between 1 and 65535; the default is 5006", parameter="port"
        )
