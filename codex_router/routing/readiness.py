"""Facts about the outside world that decide whether a path is ready (side effects live here).

Only the *presence* of key variables is recorded, never their values. The LiteLLM probe is a
plain TCP connect with a short timeout: a local proxy that is down refuses at once, and importing
an HTTP client would cost more than the probe itself.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping

from codex_router.dirs import app_dirs
from codex_router.routing.route import ReadinessFacts
from codex_router.urls import host_port, show_host_port

#: Variables whose presence (never value) routing looks at.
KEY_VARIABLES = ("HF_TOKEN", "LITELLM_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", "CODEX_API_KEY")

PROBE_TIMEOUT_SECONDS = 0.3


def present_variables(
    env: Mapping[str, str], names: tuple[str, ...] = KEY_VARIABLES
) -> frozenset[str]:
    """Names of variables that are set to something other than blanks."""
    return frozenset(n for n in names if env.get(n, "").strip())


def probe_tcp(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> tuple[bool, str]:
    """Can a TCP connection be opened to the host and port of ``url``? (IPv4 or IPv6)"""
    try:
        host, port = host_port(url)
    except ValueError as exc:
        return False, f"not a usable URL ({exc})"
    where = show_host_port(host, port)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, f"{where} accepts connections"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return False, f"{where} {reason.lower()}"


def gather_facts(env: Mapping[str, str], *, litellm_url: str | None) -> ReadinessFacts:
    """Collect readiness facts; ``litellm_url`` None skips the proxy probe.

    When codex-route's own proxy runs at ``litellm_url``, ``run`` hands codex its session key
    (:func:`codex_router.proxy.session.proxy_env_for_codex`), so ``LITELLM_API_KEY`` counts as
    present, and the aliases that proxy serves are known.
    """
    reachable: bool | None = None
    detail = ""
    present = present_variables(env)
    aliases: frozenset[str] | None = None
    if litellm_url is not None:
        reachable, detail = probe_tcp(litellm_url)
        if reachable:
            # lazy: ~5 ms (secrets, hmac); a dry run with no proxy listening must not pay it
            from codex_router.proxy.session import proxy_aliases, proxy_env_for_codex

            dirs = app_dirs(env)
            if proxy_env_for_codex(dirs, litellm_url):
                present |= {"LITELLM_API_KEY"}
                aliases = proxy_aliases(dirs, litellm_url)
    return ReadinessFacts(present, reachable, detail, aliases)
