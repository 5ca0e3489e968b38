"""Loopback ports for fake servers and for endpoints that must refuse connections."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refused_url() -> str:
    """A loopback ``/v1`` URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/v1"
