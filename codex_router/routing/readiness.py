"""Facts about the outside world that decide whether a path is ready (side effects live here).

Only the *presence* of key variables is recorded, never their values. The LiteLLM probe is a
plain TCP connect with a short timeout: a local proxy that is down refuses at once, and importing
an HTTP client would cost more than the probe itself. When a local provider is in play, Ollama is
asked which models it has (``GET /api/tags``) over a plain socket with the same timeout, so
``--provider qwen``/``phi`` can degrade when Ollama is down or the model is not pulled.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping

from codex_router.dirs import app_dirs
from codex_router.routing.route import ReadinessFacts
from codex_router.urls import host_port, show_host_port

#: Variables whose presence (never value) routing looks at.
KEY_VARIABLES = (
    "HF_TOKEN",
    "LITELLM_API_KEY",
    "GEMINI_API_KEY",
    "OPENAI_API_KEY",
    "CODEX_API_KEY",
    "ANTHROPIC_API_KEY",
)

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


#: The most of an ``/api/tags`` answer read (a few hundred models).
_TAGS_LIMIT = 1 << 20


def probe_ollama(
    url: str, timeout: float = PROBE_TIMEOUT_SECONDS
) -> tuple[bool, str, frozenset[str] | None]:
    """Is Ollama at ``url`` (its ``/v1`` base) up, and which models has it pulled?

    Returns ``(reachable, detail, models)``; ``models`` is None when the server accepts
    connections but gives no model list (then nothing is known about the models).
    """
    try:
        host, port = host_port(url)
    except ValueError as exc:
        return False, f"not a usable URL ({exc})", None
    where = show_host_port(host, port)
    path = url.split("://", 1)[-1].partition("/")[2].split("?")[0].strip("/")
    if path == "v1" or path.endswith("/v1"):
        path = path[: -len("v1")].rstrip("/")  # Ollama's native API sits beside its /v1
    target = f"/{path}/api/tags" if path else "/api/tags"
    request = f"GET {target} HTTP/1.0\r\nHost: {where}\r\nAccept: application/json\r\n\r\n"
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return False, f"{where} {reason.lower()}", None
    raw = b""
    try:
        with sock:
            sock.sendall(request.encode("ascii"))
            while len(raw) < _TAGS_LIMIT:
                data = sock.recv(65536)
                if not data:
                    break
                raw += data
    except OSError:
        return True, f"{where} accepts connections but {target} did not answer in time", None
    head, _, body = raw.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1:2]
    if status != [b"200"]:
        shown = status[0].decode("ascii", "replace") if status else "nothing"
        return True, f"{where} answered {shown} to {target}", None
    try:
        items = json.loads(body)["models"]
        names = {str(item[key]) for item in items for key in ("name", "model") if key in item}
    except (ValueError, KeyError, TypeError):
        return True, f"{where} gave no model list at {target}", None
    return True, f"{where} serves {len(names)} models", frozenset(names)


def gather_facts(
    env: Mapping[str, str], *, litellm_url: str | None, ollama_url: str | None = None
) -> ReadinessFacts:
    """Collect readiness facts; ``litellm_url``/``ollama_url`` None skips that probe.

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
    ollama: tuple[bool | None, str, frozenset[str] | None] = (None, "", None)
    if ollama_url is not None:
        ollama = probe_ollama(ollama_url)
    return ReadinessFacts(present, reachable, detail, aliases, *ollama)
