"""Running the dashboard: a socket on 127.0.0.1, a session token, uvicorn, a clean stop.

The socket is bound here (port 0: the system picks a free one) before the app is built, so the
app knows the port its Host check must name and the URL printed is the one that answers. uvicorn
runs with its access log off (a URL carries the token once) and leaves the process's logging
alone. Ctrl-C (or SIGTERM) stops uvicorn gracefully; the app's shutdown stops a proxy the key
session started, and the command ends with exit 0 (docs/ui.md). SIGTERM shuts down the same
way, then ends the process as SIGTERM does (143).
"""

from __future__ import annotations

import errno
import secrets
import socket
import webbrowser
from collections.abc import Callable, Mapping
from typing import NamedTuple

import uvicorn

from codex_router.dirs import AppDirs
from codex_router.errors import UsageError

from .app import create_app
from .guard import TOKEN_PARAM

HOST = "127.0.0.1"
DEFAULT_PORT = 8787  # the earlier key-session page's port


class Session(NamedTuple):
    """One dashboard: where it listens and the URL (with the token) that opens it."""

    sock: socket.socket
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/?{TOKEN_PARAM}={self.token}"


def bind(port: int) -> Session:
    """A listening socket on 127.0.0.1:``port`` (0: a free port) and a fresh token."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port: {port} is not a TCP port (0-65535; 0 picks a free one)")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"--port: {port} on {HOST} is already in use",
                hint="pick another: codex-route ui --port 0 takes a free one",
            ) from None
        raise UsageError(f"--port: cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None
    return Session(sock, sock.getsockname()[1], secrets.token_urlsafe(32))


def serve(
    dirs: AppDirs,
    env: Mapping[str, str],
    *,
    port: int,
    open_browser: bool,
    announce: Callable[[str], None],
) -> None:
    """Serve the dashboard until Ctrl-C; ``announce`` gets the URL once it can be opened."""
    session = bind(port)
    try:
        app = create_app(dirs, env, token=session.token, port=session.port)
        config = uvicorn.Config(
            app,
            access_log=False,
            log_config=None,  # leave logging alone: nothing of a request is logged
            log_level="warning",
            server_header=False,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        announce(session.url)  # the socket listens already: a request waits in its backlog
        if open_browser:
            webbrowser.open(session.url)
        try:
            server.run(sockets=[session.sock])
        except KeyboardInterrupt:
            # uvicorn has shut down (the app's shutdown included) and hands the Ctrl-C back:
            # ending is what Ctrl-C asks of a server, not an error (exit 0, docs/ui.md)
            pass
    finally:
        session.sock.close()
