"""Host and port of an endpoint URL, as every probe and message of codex-route reads them.

Endpoint URLs from the settings were checked where they entered
(:func:`codex_router.policy.fields.check_url`); these helpers only read them.

May import: nothing
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: Host names that mean "this machine" (``urlsplit`` gives IPv6 hosts without brackets).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def host_port(url: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """The host (IPv6 without brackets) and port of ``url``: the scheme's port when none is
    written, ``default_host`` when there is no host; ``ValueError`` on a bad port."""
    parts = urlsplit(url)
    return parts.hostname or default_host, parts.port or (443 if parts.scheme == "https" else 80)


def show_host_port(host: str, port: int) -> str:
    """``host:port`` as written in a URL: ``[::1]:4000`` for an IPv6 host."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback(url: str) -> bool:
    """Does ``url`` point at this machine?"""
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS
